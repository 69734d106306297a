"""Tab "Deraining": upload a rainy photo and get it back clear; or make rain on a clean photo and check."""

from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from .. import catalog, compare, evaluation, hub, photos, video
from ..examples import clean_examples, rainy_examples
from ..foreign import DERAINERS, HUB_FORM
from ..imaging import OUTPUT_FORMATS, READABLE, read_image
from .common import (
    ALL_CORES,
    MAX_BATCH,
    app_clip,
    batch_block,
    batch_outputs,
    compare_block,
    compare_outputs,
    metadata_choice,
    output_options,
    photo_handler,
    photo_input,
    photo_outputs,
    required,
    save_choices,
    seed_box,
    uploaded_path,
    uploaded_paths,
    user_errors,
    video_block,
    video_limits,
    video_outputs,
    whole_number,
)

MODELS = [(label, name) for name, label in catalog.DERAIN.items()]
HONESTY = (
    "The recommended model learned from the Rain800 pairs (rain drawn by other people), our own "
    "synthetic streaks and 20 heavy-rain pairs. Real rain also brings drops on the lens, splashes and "
    "mist, which none of these hold: on such photos expect fainter streaks rather than none."
)


def _derainer(model, checkpoint):
    """The derainer a request asks for (an uploaded checkpoint before the menu's choice), loaded once: (name, model)."""
    name = uploaded_path(checkpoint) if checkpoint else required("model", model)
    return name, photos.load_derainer(name)


def _what(name: str, network) -> str:
    return f"{Path(name).name} ({network.description})" if network.foreign else name


@photo_handler
@user_errors(threads=ALL_CORES)
def derain(image: str, model: str = MODELS[0][1], strength: float = 1.0, format: str = "png", quality: int = 95,
           remove_gps: bool = True, checkpoint=None, progress=gr.Progress()):
    """Remove rain streaks from a photo with a deraining model: ours (ID-CGAN) or another project's.

    Args:
        image: the rainy photo ({readable}; grayscale, RGBA and 16-bit kept), up to {megapixels} megapixels.
        model: one of {models}; or another project's deraining checkpoint ({derainers}) as a Hub file {hub_form}.
        strength: 0..1, the share of the predicted rain removed (1: all of it; 0.5: half, a little rain kept).
        format: the result's file format: {formats}.
        quality: 1..100, for jpeg, webp and avif (png and tiff are lossless and take none).
        remove_gps: leave the location out of the result's EXIF and XMP; its colour profile, camera, lens and date
            stay either way.
        checkpoint: another project's deraining checkpoint file (.pth, .pt, .ckpt, .safetensors), used instead of model.

    Returns:
        A (rainy, derained) pair for comparison, the full-size result file, and a summary.
    """
    path = uploaded_path(required("image", image))
    format, quality, metadata = save_choices(format, quality, remove_gps)
    picture = read_image(path, max_pixels=photos.MAX_DERAIN_PIXELS)  # decoded once: derained and shown
    started = time.perf_counter()
    strength = required("strength", strength)
    model, network = _derainer(model, checkpoint)
    result = photos.derain(picture, model=network, strength=strength, metadata=metadata,
                           progress=lambda done, total: progress((done, total), desc="tiles"))
    elapsed = time.perf_counter() - started
    comparison, target, notes = photo_outputs(picture, result, path, "derained", format, quality)
    width, height = result.size
    kept = f" (strength {strength:g})" if strength != 1 else ""
    return comparison, target, "\n\n".join([f"{width}x{height} derained with {_what(model, network)}{kept} in {elapsed:.1f} s",
                                              *notes])


derain.__doc__ = derain.__doc__.format(  # the API's description
    models=catalog.names(catalog.DERAIN), megapixels=f"{photos.MAX_DERAIN_PIXELS / 1e6:.1f}", readable=READABLE,
    formats=", ".join(OUTPUT_FORMATS), derainers=", ".join(DERAINERS), hub_form=HUB_FORM)


@photo_handler
@user_errors(threads=ALL_CORES)
def derain_batch(images: list, model: str = MODELS[0][1], strength: float = 1.0, format: str = "png", quality: int = 95,
                 remove_gps: bool = True, checkpoint=None, progress=gr.Progress()):
    """Derain several photos at once, as derain does one; a photo that fails gets its error and the rest are done.

    Args:
        images: the rainy photos, up to {batch}.
        model: as for derain.
        strength: as for derain.
        format: as for derain.
        quality: as for derain.
        remove_gps: as for derain.
        checkpoint: as for derain.

    Returns:
        A gallery of the results, one zip of the full-size results named as uploaded (null if none succeeded), and a
        summary per photo.
    """
    uploads = uploaded_paths(images)
    strength = required("strength", strength)
    format, quality, metadata = save_choices(format, quality, remove_gps)
    _, network = _derainer(model, checkpoint)
    work = lambda path: photos.derain(path, model=network, strength=strength, metadata=metadata)
    return batch_outputs(uploads, work, "derained", progress, format, quality)


derain_batch.__doc__ = derain_batch.__doc__.format(batch=MAX_BATCH)


@photo_handler
@user_errors(threads=ALL_CORES)
def derain_compare(image: str, models: list, strength: float = 1.0, format: str = "png", quality: int = 95,
                   remove_gps: bool = True, progress=gr.Progress()):
    """Derain one photo with 2 to 4 models at the same strength.

    Args:
        image: the rainy photo, as for derain.
        models: 2 to 4 models, each as derain's model takes it.
        strength: as for derain.
        format: as for derain.
        quality: as for derain.
        remove_gps: as for derain.

    Returns:
        The side-by-side sheet (the photo, then the same crop of each result), a gallery of the results, one zip of the
        full-size results, and a table of each model's size, strength and time.
    """
    path = uploaded_path(required("image", image))
    format, quality, metadata = save_choices(format, quality, remove_gps)
    before = read_image(path, max_pixels=photos.MAX_DERAIN_PIXELS)  # decoded once, for every model and the sheet
    results = compare.compare_derain(before, models or [], strength=required("strength", strength), metadata=metadata)
    return compare_outputs(results, before, path, format, quality)



@photo_handler
@user_errors(threads=ALL_CORES)
def derain_video(clip: str, model: str = MODELS[0][1], strength: float = 1.0, temporal: int = 0, remove_gps: bool = True,
                 checkpoint=None, progress=gr.Progress()):
    """Derain every frame of a video as derain does a photo; the sound and subtitles are copied, the frame times kept.

    Args:
        clip: the rainy video ({suffixes}), {limits}.
        model: as for derain.
        strength: as for derain.
        temporal: 0..{most}: also use this many frames on each side of each frame (rain moves, the scene does not:
            what rain a frame keeps is taken away where its aligned neighbours are darker); 0: frame by frame.
        remove_gps: leave the location out of the result's metadata.
        checkpoint: as for derain.

    Returns:
        The result (H.264 in MP4, with its sound), the same file to download, and a summary (frames, what was copied,
        the flicker against the input's).
    """
    clip = app_clip(required("clip", clip), "derain")
    strength, temporal = required("strength", strength), whole_number("temporal", temporal)
    _, network = _derainer(model, checkpoint)
    metadata = metadata_choice(remove_gps)
    run = lambda target, frames: video.derain_video(clip.path, target, model=network, strength=strength, temporal=temporal,
                                                    metadata=metadata, progress=frames)
    return video_outputs(run, clip, "derained", progress)


derain_video.__doc__ = derain_video.__doc__.format(suffixes=", ".join(video.VIDEO_SUFFIXES), limits=video_limits("derain"),
                                                   most=video.MAX_TEMPORAL)

@photo_handler
@user_errors(threads=ALL_CORES)
def make_rain(image: str, amount: float, angle: float, length: float, seed: int, model: str = MODELS[0][1]):
    """Add synthetic rain to a clean photo, derain it, and measure both against the clean original.

    Args:
        image: a clean photo, up to {megapixels} megapixels.
        amount: rain density, 0 to 1.
        angle: degrees from vertical, -60 to 60 (positive leans right).
        length: streak length in pixels, 4 to 100.
        seed: random seed of the rain.
        model: the deraining model, as for derain.

    Returns:
        The rainy photo, the derained photo, and PSNR/SSIM (on Y) of each against the clean photo.
    """
    check = evaluation.rain_check(
        uploaded_path(required("image", image)), amount=required("amount", amount), angle=required("angle", angle),
        length=required("length", length), seed=int(required("seed", seed)), model=required("model", model),
    )
    before, after = check["rainy_scores"], check["derained_scores"]
    report = (
        "| | PSNR-Y | SSIM-Y |\n|---|---|---|\n"
        f"| rainy | {before[0]:.2f} dB | {before[1]:.3f} |\n"
        f"| derained | {after[0]:.2f} dB | {after[1]:.3f} |\n"
        f"| gain | **{after[0] - before[0]:+.2f} dB** | {after[1] - before[1]:+.3f} |"
    )
    return check["rainy"], check["derained"], report


make_rain.__doc__ = make_rain.__doc__.format(megapixels=f"{evaluation.MAX_CHECK_PIXELS / 1e6:.1f}")


def build() -> None:
    gr.Markdown(
        "ID-CGAN (Zhang, Sindagi & Patel, 2017) is a conditional GAN: a densely connected "
        "encoder-decoder removes the streaks, and a discriminator judging both the whole picture and "
        "its patches pushes the result to look like a real clean photo.\n\n" + HONESTY
    )
    with gr.Row():
        with gr.Column(scale=1):
            image, _ = photo_input("Rainy photo")
            shipped = [(label, name) for label, name in MODELS if name in hub.available()]
            model = gr.Dropdown(shipped, value=shipped[0][1], label="Model", allow_custom_value=True,
                                info=f"or type a Hub file of a {', '.join(DERAINERS)} checkpoint: {HUB_FORM}")
            with gr.Accordion("Another project's checkpoint", open=False):
                checkpoint = gr.File(label=f"A deraining checkpoint ({', '.join(DERAINERS)}; .pth, .pt, .ckpt, .safetensors), "
                                           "used instead of Model", file_types=[".pth", ".pt", ".ckpt", ".safetensors"])
            strength = gr.Slider(0, 1, value=1, step=0.05, label="Strength",
                                 info="The share of the rain removed: 1 all of it, 0.5 half (keeps a little rain)")
            go = gr.Button("Derain", variant="primary")
            gr.Examples(rainy_examples(), inputs=image, label="Synthetic rain on scikit-image photos")
        with gr.Column(scale=2):
            comparison = gr.ImageSlider(label="Rainy ↔ derained", type="pil", format="png")
            download = gr.File(label="Full-resolution result")
            output = output_options()
            summary = gr.Markdown()
    go.click(derain, [image, model, strength, *output, checkpoint], [comparison, download, summary], api_name="derain",
             preprocess=False)
    many, go_many, gallery, archive, batch_summary = batch_block("Rainy photos", "Derain them all (model, strength and file as above)")
    go_many.click(derain_batch, [many, model, strength, *output, checkpoint], [gallery, archive, batch_summary], api_name="derain_batch",
                  preprocess=False)
    chosen, go_compare, sheet, compared, compared_zip, compared_summary = compare_block(shipped, "Derain")
    go_compare.click(derain_compare, [image, chosen, strength, *output], [sheet, compared, compared_zip, compared_summary],
                     api_name="derain_compare", preprocess=False)

    temporal_slider = lambda: gr.Slider(0, video.MAX_TEMPORAL, value=0, step=1, label="Neighbouring frames (each side)",
                                        info="rain moves, the street does not: 2 takes away more rain on a still or "
                                             "panning camera; 0 derains frame by frame")
    clip, temporal, go_clip, clip_result, clip_file, clip_summary = video_block("Derain", "derain", temporal_slider)
    go_clip.click(derain_video, [clip, model, strength, temporal, output[2], checkpoint], [clip_result, clip_file, clip_summary],
                  api_name="derain_video", preprocess=False)
    gr.Markdown("### Make it rain\nAdd synthetic rain to a clean photo, derain it, and see what was recovered.")
    with gr.Row():
        with gr.Column(scale=1):
            clean, _ = photo_input("Clean photo")
            amount = gr.Slider(0, 1, value=0.5, step=0.05, label="Amount")
            angle = gr.Slider(-60, 60, value=10, step=1, label="Angle (degrees from vertical)")
            length = gr.Slider(4, 100, value=30, step=1, label="Streak length (pixels)")
            seed = seed_box()
            rain_button = gr.Button("Make it rain, then derain", variant="primary")
            gr.Examples(clean_examples(), inputs=clean)
        with gr.Column(scale=2):
            with gr.Row():
                rainy_out = gr.Image(label="With rain", format="png")
                derained_out = gr.Image(label="Derained", format="png")
            scores = gr.Markdown()
    rain_button.click(
        make_rain, [clean, amount, angle, length, seed, model], [rainy_out, derained_out, scores], api_name="make_rain", preprocess=False
    )
