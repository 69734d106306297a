"""What every tab shares: turning library errors into messages the user sees, and display sizes."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import gradio as gr
import torch

from .. import photos, video
from ..imaging import DEFAULT_QUALITY, OUTPUT_FORMATS, READABLE, read_image

DISPLAY_SCALE = 4  # 28x28 digits are shown 4x larger, nearest-neighbour (pixels stay sharp)
MIN_DIGIT_SIDE = 64  # pixels: a digit gallery shows as many columns as fit at least this wide
# A digit tab's "how many" slider goes to this; Gradio refuses more on every call, the API's too
# (the library's sample_digits takes up to digits.MAX_IMAGES).
MAX_SHOWN_DIGITS = 64

# Gradio's gallery gives every column at least 100 px, so a fixed six columns overflow the half-width
# column of a laptop screen and cut the last one; digit galleries fill the width they have instead.
# Rows follow the columns' width, so that every digit is a whole square.
CSS = f"""
.digit-gallery .grid-container {{
    grid-template-columns: repeat(auto-fill, minmax({MIN_DIGIT_SIDE}px, 1fr)) !important;
    grid-template-rows: none !important;
    grid-auto-rows: auto !important;
}}
.digit-gallery .thumbnail-lg {{ aspect-ratio: 1 / 1; }}
"""


def digit_gallery(label: str = "Digits"):
    """The gallery every digit tab shows its digits in (as many columns as fit)."""
    return gr.Gallery(label=label, format="png", height="auto", object_fit="contain", elem_classes=["digit-gallery"])


def seed_box(value: int = 0, label: str = "Seed", maximum: int | None = None):
    """A whole-number seed input (0 .. ``maximum``)."""
    return gr.Number(value, precision=0, minimum=0, maximum=maximum, label=label)


ALL_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def photo_handler(handler):
    """A photo tab's handler: on a Hugging Face ZeroGPU Space (the ``spaces`` package importable) it runs
    under ``spaces.GPU``, which lends it a GPU for the call; elsewhere it is the handler itself."""
    try:
        import spaces
    except ImportError:
        return handler
    return spaces.GPU(handler)


def user_errors(handler=None, *, threads: int = 1):
    """Run a handler; a ValueError from the library becomes a gr.Error with the same message.

    The app keeps serving: the user sees the message next to the component, API callers get it
    as the error of their call. The handler's torch work runs on ``threads`` intra-op threads, set
    in the worker thread on every call: one for the tiny digit and toy models, whose steps take
    microseconds and slow down 10x when their threads compete with other visitors' work;
    ``ALL_CORES`` for the photo models (``@user_errors(threads=ALL_CORES)``).
    """
    if handler is None:
        return functools.partial(user_errors, threads=threads)

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        torch.set_num_threads(threads)
        try:
            return handler(*args, **kwargs)
        except ValueError as err:
            raise gr.Error(str(err)) from err

    return wrapper


def required(name: str, value):
    """Reject a missing input (an API call may send null) with a message naming it."""
    if value is None or value == "":
        raise ValueError(f"{name} is required")
    return value


def whole_number(name: str, value):
    """A required whole number as the library takes it: a slider sends 2.0 (a value with a fraction is left for the
    library to refuse)."""
    value = required(name, value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def uploaded_path(value) -> str:
    """The file path of an upload, whether it arrives as Gradio's file payload or as a plain path."""
    path = value.get("path") if isinstance(value, dict) else value
    if not isinstance(path, str) or not path:
        raise ValueError("upload an image file")
    return path


OUTPUTS = Path(tempfile.gettempdir()) / "ganapps-outputs"
OUTPUT_SECONDS = 3600  # Gradio copies what a handler returns into its cache, which it empties after an hour too


def output_folder() -> Path:
    """A new folder for one request's files (the full-size PNG, previews), under ``OUTPUTS``.

    Folders older than ``OUTPUT_SECONDS`` are removed first: a server that runs for weeks does
    not fill its disk with the photos it upscaled.
    """
    OUTPUTS.mkdir(parents=True, exist_ok=True)
    expired = time.time() - OUTPUT_SECONDS
    for old in OUTPUTS.iterdir():
        try:
            if old.stat().st_mtime < expired:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:  # another request removed it first
            pass
    return Path(tempfile.mkdtemp(dir=OUTPUTS))


def preview_png(image, folder) -> str:
    """Write a preview image as a quickly compressed PNG in ``folder``; returns its path for Gradio.

    Lossless, so a comparison shows the model's own pixels; compression level 1 instead of Gradio's 6
    encodes several times faster for a slightly larger file: under load, encoding previews had become
    the busiest thing the server did.
    """
    path = tempfile.NamedTemporaryFile(suffix=".png", dir=folder, delete=False).name
    image.save(path, compress_level=1, icc_profile=image.info.get("icc_profile"))  # the browser shows the photo's colours
    return path


PREVIEW_SIDE = 2048  # the comparison slider shows at most this many pixels a side; the download is full size
# What the photo uploads accept: every image type the browser knows, and by name the ones it may not (HEIC above all).
PHOTO_TYPES = ["image", ".heic", ".heif", ".avif", ".tif", ".tiff", ".webp"]
MAX_PHOTO_PIXELS = max(photos.MAX_UPSCALE_PIXELS, photos.MAX_DERAIN_PIXELS)  # larger: the upload is refused at once
FORMAT_CHOICES = [("PNG (lossless, keeps 16 bits)", "png"), ("JPEG", "jpeg"), ("WebP", "webp"),
                  ("TIFF (lossless, keeps 16 bits)", "tiff"), ("AVIF", "avif")]


def photo_input(label: str):
    """A photo upload that takes every format read here (HEIC too), with a preview the server draws: a browser
    cannot show a HEIC or a TIFF itself. Returns (the file input, the preview)."""
    with gr.Group():
        upload = gr.File(label=f"{label} ({READABLE})", file_types=PHOTO_TYPES, type="filepath", height=110)
        preview = gr.Image(label="Preview", interactive=False, format="png", height=240)
    upload.change(show_photo, upload, preview, api_name=False)
    return upload, preview


@user_errors
def show_photo(upload):
    """The preview of an uploaded photo: decoded here (any format, upright), at most PREVIEW_SIDE // 2 a side."""
    if not upload:
        return None
    image = read_image(uploaded_path(upload), max_pixels=MAX_PHOTO_PIXELS).to_pil()
    image.thumbnail((PREVIEW_SIDE // 2, PREVIEW_SIDE // 2))
    return preview_png(image, output_folder())


def output_options():
    """The output choices of a photo tab: (format, quality, remove location)."""
    with gr.Row():
        format = gr.Dropdown(FORMAT_CHOICES, value="png", label="File format")
        quality = gr.Slider(1, 100, value=DEFAULT_QUALITY["jpeg"], step=1, label="Quality (JPEG, WebP, AVIF)")
    remove_gps = gr.Checkbox(True, label="Remove location (GPS)",
                             info="The colour profile, camera, lens and date stay with the result either way")
    return format, quality, remove_gps


def save_choices(format, quality, remove_gps) -> tuple[str, int | None, str]:
    """(format, quality, metadata choice) for the library from a tab's output options. The quality goes to the lossy
    formats only: PNG and TIFF are lossless, and the slider is sent whatever the format."""
    format = format or "png"
    if format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown file format {format!r}; available: {', '.join(OUTPUT_FORMATS)}")
    if format not in DEFAULT_QUALITY:
        quality = None
    elif quality is not None:
        if isinstance(quality, bool) or not isinstance(quality, (int, float)) or quality % 1:
            raise ValueError(f"quality must be a whole number in 1..100, got {quality!r}")
        quality = int(quality)  # the slider sends 95.0; its range is the library's to check
    return format, quality, metadata_choice(remove_gps)


def metadata_choice(remove_gps) -> str:
    """The library's metadata choice for the "Remove location (GPS)" box (checked unless an API call sends false)."""
    return "keep" if remove_gps is False else "drop-gps"


def write_result(picture, folder: Path, stem: str, format: str, quality: int | None) -> tuple[Path, list[str]]:
    """Write ``picture`` as ``folder/<stem>.<ext>`` in ``format``: its path and what the format changed (stated)."""
    notes = picture.conversions(format)
    return picture.save(folder / f"{stem}{OUTPUT_FORMATS[format]}", format=format, quality=quality), notes


def photo_outputs(before, after, upload: str, suffix: str, format: str = "png", quality: int | None = None):
    """What a photo tab returns for ``before`` and ``after`` (``imaging.Picture``): the comparison slider's two
    previews, the full-size result in ``format`` named after the upload (``<stem>-<suffix>.<ext>``), and what the
    format changed (sentences, often none)."""
    folder = output_folder()
    target, notes = write_result(after, folder, f"{Path(upload).stem}-{suffix}", format, quality)
    previews = []
    for picture in (before, after):
        image = picture.to_pil()
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        previews.append(preview_png(image, folder))
    return tuple(previews), str(target), notes


MAX_BATCH = 32  # photos in one batch request: each is a full restoration on a shared 2-core server


def uploaded_paths(value) -> list[str]:
    """The file paths of a multi-file upload (Gradio file payloads or plain paths), at least one, at most MAX_BATCH."""
    if not value:
        raise ValueError("upload one or more photos")
    if len(value) > MAX_BATCH:
        raise ValueError(f"{len(value)} photos at once; the limit is {MAX_BATCH} per batch")
    return [uploaded_path(item) for item in value]


def batch_block(photos_label: str, button_label: str):
    """The "Several photos at once" accordion of a photo tab: (uploads, button, gallery, zip, summary)."""
    with gr.Accordion("Several photos at once", open=False), gr.Row():
        with gr.Column(scale=1):
            many = gr.File(label=photos_label, file_count="multiple", file_types=PHOTO_TYPES)
            go_many = gr.Button(button_label)
        with gr.Column(scale=2):
            gallery = gr.Gallery(label="Results", format="png", height="auto")
            archive = gr.File(label="All full-resolution results (zip, named as uploaded)")
            summary = gr.Markdown()
    return many, go_many, gallery, archive, summary


def batch_outputs(uploads: list[str], work, suffix: str, progress=None, format: str = "png",
                  quality: int | None = None) -> tuple[list, str | None, str]:
    """Run ``work(path) -> imaging.Picture`` on each upload: a gallery of previews, one zip of the full-size results in
    ``format`` (``<uploaded stem>-<suffix>.<ext>``), and a summary line per photo. A photo that fails gets its error
    and the rest are done."""
    folder = output_folder()
    extension = OUTPUT_FORMATS[format]
    gallery, written, lines = [], [], []
    for index, upload in enumerate(uploads):
        name = Path(upload).name
        if progress is not None:
            progress((index, len(uploads)), desc=name)
        stem = f"{Path(upload).stem}-{suffix}"
        if any(path.name == f"{stem}{extension}" for path in written):  # two uploads of one name keep both results
            stem = f"{Path(upload).stem}-{index + 1}-{suffix}"
        try:
            result = work(upload)
            path, notes = write_result(result, folder, stem, format, quality)
        except ValueError as err:
            lines.append(f"- **{name}**: error: {err}")
            continue
        written.append(path)
        preview = result.to_pil()
        preview.thumbnail((PREVIEW_SIDE // 4, PREVIEW_SIDE // 4))
        gallery.append((preview_png(preview, folder), name))
        lines.append(f"- {name}: {result.size[0]}x{result.size[1]}" + "".join(f"; {note}" for note in notes))
    archive = None
    if written:
        archive = folder / f"{suffix}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:  # the photos are compressed already
            for path in written:
                bundle.write(path, path.name)
        archive = str(archive)
    failed = len(uploads) - len(written)
    head = f"**{len(written)} of {len(uploads)} done**" + (f", {failed} failed" if failed else "")
    return gallery, archive, "\n".join([head, *lines])


def compare_block(choices: list, what: str):
    """The "Compare models" accordion of a photo tab: (models, button, sheet, gallery, zip, summary)."""
    from ..compare import MAX_MODELS, MIN_MODELS

    with gr.Accordion("Compare models", open=False), gr.Row():
        with gr.Column(scale=1):
            models = gr.Dropdown(choices, value=[name for _, name in choices[:2]], multiselect=True, allow_custom_value=True,
                                 max_choices=MAX_MODELS, label=f"{MIN_MODELS} to {MAX_MODELS} models",
                                 info="from the menu, or typed: a Hub file or a checkpoint path")
            go = gr.Button(f"{what} the photo above with each")
        with gr.Column(scale=2):
            sheet = gr.Image(label="Side by side: the same crop of each, at the same zoom", format="png")
            gallery = gr.Gallery(label="Each result", format="png", height="auto")
            archive = gr.File(label="The full-size results (zip)")
            summary = gr.Markdown()
    return models, go, sheet, gallery, archive, summary


def compare_outputs(results, before, upload: str, format: str, quality: int | None):
    """What a tab's compare returns for ``results`` (``compare.Compared``): the sheet, a gallery of previews, one zip
    of the full-size results (``<stem>-<model>.<ext>``) and a table of the models' times and settings."""
    from .. import compare

    folder = output_folder()
    paths, sheet = compare.write(results, folder, Path(upload).stem, format=format, quality=quality, before=before)
    gallery = []
    for result in results:
        preview = result.picture.to_pil()
        preview.thumbnail((PREVIEW_SIDE // 2, PREVIEW_SIDE // 2))
        gallery.append((preview_png(preview, folder), f"{result.name} ({result.seconds:.1f} s)"))
    archive = folder / "compare.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        for path in paths:
            bundle.write(path, path.name)
    rows = [f"| {r.name} | {r.picture.size[0]}x{r.picture.size[1]} | {r.setting or '—'} | {r.seconds:.1f} s |" for r in results]
    table = "| model | size | setting | time (loading included) |\n|---|---|---|---|\n" + "\n".join(rows)
    return str(sheet), gallery, str(archive), table


# Videos in the app: short clips, so that a 2-vCPU Space stays responsive for other visitors (the speeds bench/video.py
# measures), for each tab's command: (seconds, largest frame, either way round). The command line takes any length and
# resumes a stopped run.
APP_VIDEO_LIMITS = {"upscale": (5, (640, 360)), "derain": (5, (854, 480))}


def video_limits(command: str) -> str:
    seconds, (width, height) = APP_VIDEO_LIMITS[command]
    return f"up to {seconds} s and {width}x{height}"


def video_block(what: str, command: str, options=lambda: ()):
    """The "A video" accordion of a photo tab: (upload, ``options()``'s components, button, result, download, summary).
    The tab's model and options above apply."""
    with gr.Accordion(f"A video ({video_limits(command)})", open=False), gr.Row():
        with gr.Column(scale=1):
            clip = gr.Video(label=f"Video ({', '.join(video.VIDEO_SUFFIXES)})", sources=["upload"])
            extra = options()
            go = gr.Button(f"{what} every frame (model and options above)")
            gr.Markdown(f"Every frame goes through the model as a photo; the sound and subtitles are copied as they are, "
                        "the frame times, rotation and colours kept; H.264 in MP4 (in MKV for subtitles MP4 cannot hold). "
                        f"The app takes clips {video_limits(command)} so that it stays quick for everyone; for longer ones "
                        f"run `python -m ganapps {command} CLIP --out FOLDER` on your computer (any length, resumes a "
                        "stopped run).")
        with gr.Column(scale=2):
            result = gr.Video(label="Result, with its sound", autoplay=False)
            download = gr.File(label="The result file")
            summary = gr.Markdown()
    return clip, extra, go, result, download, summary


def app_clip(value, command: str) -> video.Clip:
    """An uploaded clip, refused with the app's limits (and where to go beyond them) before any work."""
    path = uploaded_path(value)
    clip = video.probe(path)
    seconds, (width, height) = APP_VIDEO_LIMITS[command]
    sides = sorted((clip.width, clip.height))
    beyond = f"; longer or larger clips: python -m ganapps {command} CLIP --out FOLDER on your computer"
    if sides[0] > height or sides[1] > width:
        raise ValueError(f"the clip is {clip.width}x{clip.height}; the app takes {video_limits(command)}{beyond}")
    if clip.duration > seconds + 0.05:
        raise ValueError(f"the clip is {clip.duration:.1f} s long; the app takes {video_limits(command)}{beyond}")
    return clip


def video_outputs(run, clip: video.Clip, suffix: str, progress) -> tuple[str, str, str]:
    """Run ``run(target, progress) -> video.VideoResult`` into a new output folder: (video, file, summary). The result
    is an MP4, or an MKV when the clip has a stream MP4 cannot hold (SubRip subtitles), so that nothing is dropped."""
    unheld = video.unheld(clip.path, "mp4")
    target = output_folder() / f"{clip.path.stem}-{suffix}.{'mkv' if unheld else 'mp4'}"
    started = time.perf_counter()
    result = run(target, lambda done, total: progress((done, total), desc="frames"))
    elapsed = time.perf_counter() - started
    kept = [f"an MKV, to keep its {', '.join(unheld)} (which MP4 cannot hold): the browser may not play it, the download "
            "has everything"] if unheld else []
    return str(result.path), str(result.path), "; ".join([f"{clip.describe()} → {result.summary()}", *kept, f"{elapsed:.0f} s"])
