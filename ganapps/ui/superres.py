"""Tab "Super-resolution": upload photos, get them 1-8x larger with our models or any GAN upscaler from the Hub,
compare with bicubic, download the PNGs."""

from __future__ import annotations

import time

import gradio as gr

from .. import catalog, compare, hub, photos, video
from ..examples import sr_examples
from ..foreign import HUB_FORM
from ..imaging import OUTPUT_FORMATS, READABLE
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
    uploaded_path,
    uploaded_paths,
    user_errors,
    video_block,
    video_limits,
    video_outputs,
    whole_number,
)

MODELS = [(label, name) for name, label in catalog.UPSCALE.items()]
HUB_MODELS = [(entry.menu_label(), name) for name, entry in catalog.HUB_UPSCALE.items()]


def _chosen(model: str | None, checkpoint, twin) -> tuple[str, str | None]:
    """The model a request names: an uploaded checkpoint (with its uploaded twin) before the menu's choice."""
    if checkpoint:
        return uploaded_path(checkpoint), uploaded_path(twin) if twin else None
    if twin:
        raise ValueError("a denoise twin goes with an uploaded checkpoint; upload the checkpoint too")
    return required("model", model), None


def _denoise_slider(model: str | None, checkpoint=None, twin=None) -> dict:
    """The denoise slider's state: the model's default strength, or hidden for a model without a denoise twin."""
    default = photos.denoise_strength(*_chosen(model, checkpoint, twin))
    return {"visible": default is not None, "value": 1.0 if default is None else default}


def _denoise_control(model, checkpoint=None, twin=None):
    try:
        return gr.update(**_denoise_slider(model, checkpoint, twin))
    except ValueError as err:  # a name that is no model, a file that is no upscaler: said now (and again on Upscale)
        gr.Warning(str(err))
        return gr.update(visible=False)


def _size(scale, width, height) -> tuple[float | None, int | None, int | None]:
    """(scale, width, height) for the library: a width or height given (not empty, not 0) decides the size, and the
    scale slider, which is sent whatever is typed, is not used."""
    width, height = (None if side in (None, 0) else side for side in (width, height))
    if width is None and height is None:
        return required("scale", scale), None, None
    return photos.check_size(None, width, height)


def _load(model, denoise, checkpoint, twin):
    """The upscaler a request asks for, loaded (or taken from the cache) once for all its photos."""
    name, mild = _chosen(model, checkpoint, twin)
    if denoise is not None:
        hub.check_denoise(denoise)  # a strength out of range is an error whatever the model
        if photos.denoise_strength(name, mild) is None:
            denoise = None  # hidden for a model without a twin, the slider still sends a value: not used (the API says so)
    return name, photos.load_upscaler(name, denoise=denoise, mild=mild)


@photo_handler
@user_errors(threads=ALL_CORES)
def upscale(image: str, model: str = MODELS[0][1], scale: float = 4, denoise: float | None = None, checkpoint=None,
            twin=None, width: int | None = None, height: int | None = None, format: str = "png", quality: int = 95,
            remove_gps: bool = True, progress=gr.Progress(track_tqdm=True)):
    """Upscale a photo 1 to 8 times, or to a size, with a model of this project, a GAN upscaler from the Hub, or bicubic.

    Args:
        image: the photo ({readable}; grayscale, RGBA and 16-bit kept), up to {megapixels} megapixels.
        model: one of {models}; or from the Hub: {hub_models}; or any file {hub_form}
            (an ESRGAN, Real-ESRGAN Compact, SPAN, SwinIR, ... upscaler; downloaded on first use).
        scale: any number from 1 to 8, e.g. 2.5: the result is round(width x scale) by round(height x scale).
        denoise: 0..1, for models with a denoise twin: 0 keeps noise and grain, 1 removes them; null: the model's
            default. Models without a denoise twin ignore it.
        checkpoint: an upscaler's checkpoint file (.pth, .pt, .ckpt, .safetensors), used instead of model.
        twin: with checkpoint, its denoise twin (the same architecture trained to keep noise).
        width: the result's width in pixels, the aspect kept; given (not null or 0), width and height decide the size
            and scale is not used.
        height: the result's height in pixels; with width, the result fits inside both.
        format: the result's file format: {formats}.
        quality: 1..100, for jpeg, webp and avif (png and tiff are lossless and take none).
        remove_gps: leave the location out of the result's EXIF and XMP; its colour profile, camera, lens and date
            stay either way.

    Returns:
        A (bicubic, result) pair for comparison, the full-size result file, and a summary.
    """
    image = uploaded_path(required("image", image))
    scale, width, height = _size(scale, width, height)
    format, quality, metadata = save_choices(format, quality, remove_gps)
    name, network = _load(model, denoise, checkpoint, twin)
    picture = photos.read_image(image, max_pixels=photos.MAX_UPSCALE_PIXELS)  # decoded once, for both upscales
    size = {"scale": scale, "width": width, "height": height}
    started = time.perf_counter()
    result = photos.upscale(picture, model=network, **size, metadata=metadata,
                            progress=lambda done, total: progress((done, total), desc="tiles"))
    elapsed = time.perf_counter() - started
    bicubic = photos.upscale(picture, model="bicubic", **size)
    scale = photos.target_size(picture.size, **size)[0]
    comparison, target, notes = photo_outputs(bicubic, result, image, f"x{scale:.3g}", format, quality)
    (in_width, in_height), (out_width, out_height) = picture.size, result.size
    return comparison, target, "\n\n".join([
        f"{in_width}x{in_height} → **{out_width}x{out_height}** (x{scale:.3g}) with {_what(name, network)} "
        f"in {elapsed:.1f} s", *notes])



@photo_handler
@user_errors(threads=ALL_CORES)
def upscale_video(clip: str, model: str = MODELS[0][1], scale: float = 2, denoise: float | None = None, checkpoint=None,
                  twin=None, width: int | None = None, height: int | None = None, remove_gps: bool = True,
                  temporal: int = 1, progress=gr.Progress()):
    """Upscale every frame of a video as upscale does a photo; the sound and subtitles are copied, the frame times kept.

    Args:
        clip: the video ({suffixes}), {limits}.
        model: as for upscale.
        scale: as for upscale; the result's sides are rounded to even numbers (H.264 needs them).
        denoise: as for upscale.
        checkpoint: as for upscale.
        twin: as for upscale.
        width: as for upscale.
        height: as for upscale.
        remove_gps: leave the location out of the result's metadata.
        temporal: 0..{most}: steady each frame with this many upscaled frames on each side (detail the network draws
            a little differently in each frame is averaged where the aligned frames agree); 0: each frame as upscale
            gives it.

    Returns:
        The result (H.264 in MP4, with its sound), the same file to download, and a summary (size, frames, what was
        copied, the flicker against the bicubic-upscaled input's).
    """
    clip = app_clip(required("clip", clip), "upscale")
    scale, width, height = _size(scale, width, height)
    name, network = _load(model, denoise, checkpoint, twin)
    metadata = metadata_choice(remove_gps)
    temporal = whole_number("temporal", temporal)
    run = lambda target, frames: video.upscale_video(clip.path, target, model=network, scale=scale, width=width, height=height,
                                                     temporal=temporal, metadata=metadata, progress=frames)
    return video_outputs(run, clip, "upscaled", progress)


upscale_video.__doc__ = upscale_video.__doc__.format(suffixes=", ".join(video.VIDEO_SUFFIXES), limits=video_limits("upscale"),
                                                     most=video.MAX_TEMPORAL)

def _what(name: str, network) -> str:
    described = f" ({network.description})" if network.foreign else ""
    strength = f" (denoise {network.denoise:g})" if network.denoise is not None else ""
    return f"{name.rsplit('/', 1)[-1] if network.foreign else name}{described}{strength}"


@photo_handler
@user_errors(threads=ALL_CORES)
def upscale_batch(images: list, model: str = MODELS[0][1], scale: float = 4, denoise: float | None = None,
                  checkpoint=None, twin=None, width: int | None = None, height: int | None = None, format: str = "png",
                  quality: int = 95, remove_gps: bool = True, progress=gr.Progress(track_tqdm=True)):
    """Upscale several photos at once, as upscale does one; a photo that fails gets its error and the rest are done.

    Args:
        images: the photos, up to {batch}.
        model: as for upscale.
        scale: as for upscale.
        denoise: as for upscale.
        checkpoint: as for upscale.
        twin: as for upscale.
        width: as for upscale (each photo fits the size, its own aspect kept).
        height: as for upscale.
        format: as for upscale.
        quality: as for upscale.
        remove_gps: as for upscale.

    Returns:
        A gallery of the results, one zip of the full-size results named as uploaded (null if none succeeded), and a
        summary per photo.
    """
    uploads = uploaded_paths(images)
    scale, width, height = _size(scale, width, height)
    format, quality, metadata = save_choices(format, quality, remove_gps)
    _, network = _load(model, denoise, checkpoint, twin)
    work = lambda path: photos.upscale(path, model=network, scale=scale, width=width, height=height, metadata=metadata)
    suffix = f"x{scale:g}" if scale is not None else f"{width}x{height}" if width and height else f"{width}w" if width else f"{height}h"
    return batch_outputs(uploads, work, suffix, progress, format, quality)


@photo_handler
@user_errors(threads=ALL_CORES)
def upscale_compare(image: str, models: list, scale: float = 4, width: int | None = None, height: int | None = None,
                    format: str = "png", quality: int = 95, remove_gps: bool = True, progress=gr.Progress(track_tqdm=True)):
    """Upscale one photo with 2 to 4 models, each at its own default denoise strength, all to the same size.

    Args:
        image: the photo, as for upscale.
        models: 2 to 4 models, each as upscale's model takes it.
        scale: as for upscale.
        width: as for upscale.
        height: as for upscale.
        format: as for upscale.
        quality: as for upscale.
        remove_gps: as for upscale.

    Returns:
        The side-by-side sheet (the same crop of each result), a gallery of the results, one zip of the full-size
        results, and a table of each model's size, setting and time.
    """
    image = uploaded_path(required("image", image))
    scale, width, height = _size(scale, width, height)
    format, quality, metadata = save_choices(format, quality, remove_gps)
    before = photos.read_image(image, max_pixels=photos.MAX_UPSCALE_PIXELS)  # decoded once, for every model and the sheet
    results = compare.compare_upscale(before, models or [], scale=scale, width=width, height=height, metadata=metadata)
    return compare_outputs(results, before, image, format, quality)


_FORMAT = {"models": catalog.names(catalog.UPSCALE), "hub_models": ", ".join(catalog.HUB_UPSCALE), "hub_form": HUB_FORM,
           "megapixels": f"{photos.MAX_UPSCALE_PIXELS / 1e6:.1f}", "batch": MAX_BATCH, "readable": READABLE,
           "formats": ", ".join(OUTPUT_FORMATS)}
upscale.__doc__ = upscale.__doc__.format(**_FORMAT)  # the API's description
upscale_batch.__doc__ = upscale_batch.__doc__.format(**_FORMAT)


def build() -> None:
    gr.Markdown(
        "Upscale 1-8x. **Photo** (after Real-ESRGAN, Wang et al. 2021) learned from photos degraded the way "
        "uploads are — blur, noise, resizing and JPEG, twice — so it removes compression blocks and noise "
        "instead of enlarging them; a compact network, fast on a CPU. **SRGAN / SRResNet** (Ledig et al., "
        "2017) learned clean bicubic downscales only: best on those, as in the paper's benchmark. **From the Hub**: "
        f"GAN upscalers other projects published, downloaded on first use; or type any `{HUB_FORM}`, or upload a "
        "checkpoint file (ESRGAN, Real-ESRGAN Compact, SPAN, SwinIR, ...; read as tensors only, never run). "
        "The model runs at its own scale and the result is resized to yours. Large photos are processed tile by "
        "tile; the result is the same as in one piece."
    )
    with gr.Row():
        with gr.Column(scale=1):
            image, _ = photo_input("Photo")
            shipped = [(label, name) for label, name in MODELS if name == "bicubic" or name in hub.available()]
            model = gr.Dropdown(shipped + HUB_MODELS, value=shipped[0][1], label="Model", allow_custom_value=True,
                                info=f"or type a Hub file: {HUB_FORM}")
            with gr.Accordion("Your own checkpoint", open=False):
                checkpoint = gr.File(label="Upscaler checkpoint (.pth, .pt, .ckpt, .safetensors), used instead of Model",
                                     file_types=[".pth", ".pt", ".ckpt", ".safetensors"])
                twin = gr.File(label="Its denoise twin (optional; same architecture, trained to keep noise)",
                               file_types=[".pth", ".pt", ".ckpt", ".safetensors"])
            scale = gr.Slider(photos.MIN_SCALE, photos.MAX_SCALE, value=4, step=0.1, label="Scale",
                              info="any size: the model runs at its own scale, then the result is resized (Lanczos)")
            with gr.Row():
                width = gr.Number(None, precision=0, minimum=0, label="Width (pixels)",
                                  info="0: the scale decides; else this size does, the aspect kept")
                height = gr.Number(None, precision=0, minimum=0, label="Height (pixels)",
                                   info="with a width too: the result fits inside both")
            denoise = gr.Slider(
                0, 1, step=0.05, label="Denoise strength", **_denoise_slider(shipped[0][1]),
                info="0 keeps the photo's noise and grain, 1 removes them (a blend of two networks, as Real-ESRGAN's)",
            )
            go = gr.Button("Upscale", variant="primary")
            gr.Examples(sr_examples(), inputs=image)
        with gr.Column(scale=2):
            comparison = gr.ImageSlider(label="Bicubic ↔ result", type="pil", format="png")
            download = gr.File(label="Full-resolution result")
            output = output_options()
            summary = gr.Markdown()
    many, go_many, gallery, archive, batch_summary = batch_block("Photos", "Upscale them all (model, size and file as above)")
    # preprocess=False: the handlers get the uploads' file payloads as sent, and check every value themselves.
    for trigger in (model.change, checkpoint.change, twin.change):
        trigger(_denoise_control, [model, checkpoint, twin], denoise, api_name=False)
    inputs = [model, scale, denoise, checkpoint, twin, width, height, *output]
    go.click(upscale, [image, *inputs], [comparison, download, summary], api_name="upscale", preprocess=False)
    go_many.click(upscale_batch, [many, *inputs], [gallery, archive, batch_summary], api_name="upscale_batch",
                  preprocess=False)
    steady = lambda: gr.Slider(0, video.MAX_TEMPORAL, value=1, step=1, label="Neighbouring frames (each side)",
                               info="steady the detail the model draws a little differently in each frame; 0: each frame "
                                    "as a photo")
    clip, temporal, go_clip, clip_result, clip_file, clip_summary = video_block("Upscale", "upscale", steady)
    go_clip.click(upscale_video, [clip, model, scale, denoise, checkpoint, twin, width, height, output[2], temporal],
                  [clip_result, clip_file, clip_summary], api_name="upscale_video", preprocess=False)
    chosen, go_compare, sheet, compared, compared_zip, compared_summary = compare_block(shipped + HUB_MODELS, "Upscale")
    go_compare.click(upscale_compare, [image, chosen, scale, width, height, *output], [sheet, compared, compared_zip, compared_summary],
                     api_name="upscale_compare", preprocess=False)
