"""Tab "Super-resolution": upload a photo, get it 2-4x larger, compare with bicubic, download the PNG."""

from __future__ import annotations

import time

import gradio as gr

from .. import catalog, hub, photos
from ..examples import sr_examples
from .common import ALL_CORES, photo_handler, photo_outputs, required, uploaded_path, user_errors

MODELS = [(label, name) for name, label in catalog.UPSCALE.items()]

def _denoise_slider(model: str) -> dict:
    """The denoise slider's state for ``model``: its default strength, or hidden for a model without the control."""
    default = photos.denoise_strength(model) if model else None
    return {"visible": default is not None, "value": 1.0 if default is None else default}


def _denoise_control(model: str):
    return gr.update(**_denoise_slider(model))


@photo_handler
@user_errors(threads=ALL_CORES)
def upscale(image: str, model: str, scale: int, denoise: float | None = None, progress=gr.Progress()):
    """Upscale a photo 2, 3 or 4 times with a Real-ESRGAN-style model, SRGAN, SRResNet or bicubic interpolation.

    Args:
        image: the photo (PNG, JPEG, WebP, BMP, TIFF; grayscale, RGBA and 16-bit kept), at most 2048x2048.
        model: one of {models}.
        scale: 2, 3 or 4.
        denoise: 0..1, for the photo models: 0 keeps noise and grain, 1 removes them; null: the model's
            default. Models without a denoise control ignore it.

    Returns:
        A (bicubic, result) pair for comparison, the full-size result as a PNG file, and a summary.
    """
    image = uploaded_path(required("image", image))
    if denoise is not None:
        hub.check_denoise(denoise)
        if photos.denoise_strength(required("model", model)) is None:
            denoise = None  # the slider is hidden for this model
    picture = photos.read_image(image, max_pixels=photos.MAX_UPSCALE_PIXELS)  # decoded once, for both upscales
    started = time.perf_counter()
    result = photos.upscale(
        picture, model=required("model", model), scale=required("scale", scale), denoise=denoise,
        progress=lambda done, total: progress((done, total), desc="tiles"),
    )
    elapsed = time.perf_counter() - started
    bicubic = photos.upscale(picture, model="bicubic", scale=scale)
    comparison, target = photo_outputs(bicubic, result, image, f"x{scale}")
    (width, height), (out_width, out_height) = picture.size, result.size
    strength = f" (denoise {denoise:g})" if denoise is not None else ""
    return comparison, target, f"{width}x{height} → **{out_width}x{out_height}** with {model}{strength} in {elapsed:.1f} s"


upscale.__doc__ = upscale.__doc__.format(models=catalog.names(catalog.UPSCALE))  # the API's description


def build() -> None:
    gr.Markdown(
        "Upscale 4x. **Photo** (after Real-ESRGAN, Wang et al. 2021) learned from photos degraded the way "
        "uploads are — blur, noise, resizing and JPEG, twice — so it removes compression blocks and noise "
        "instead of enlarging them; a compact network, fast on a CPU. **SRGAN / SRResNet** (Ledig et al., "
        "2017) learned clean bicubic downscales only: best on those, as in the paper's benchmark. Large "
        "photos are processed tile by tile; the result is the same as in one piece."
    )
    with gr.Row():
        with gr.Column(scale=1):
            image = gr.Image(type="filepath", image_mode=None, label="Photo", sources=["upload", "clipboard"])
            shipped = [(label, name) for label, name in MODELS if name == "bicubic" or name in hub.available()]
            model = gr.Radio(shipped, value=shipped[0][1], label="Model")
            scale = gr.Radio([2, 3, 4], value=4, label="Scale")
            denoise = gr.Slider(
                0, 1, step=0.05, label="Denoise strength", **_denoise_slider(shipped[0][1]),
                info="0 keeps the photo's noise and grain, 1 removes them (a blend of two networks, as Real-ESRGAN's)",
            )
            go = gr.Button("Upscale", variant="primary")
            gr.Examples(sr_examples(), inputs=image)
        with gr.Column(scale=2):
            comparison = gr.ImageSlider(label="Bicubic ↔ result", type="pil", format="png")
            download = gr.File(label="Full-resolution PNG")
            summary = gr.Markdown()
    # preprocess=False: the handler gets the uploaded file untouched (Gradio would decode it with
    # Pillow first, dropping 16-bit depth and failing with an unclear message on a non-image).
    model.change(_denoise_control, model, denoise, api_name=False)
    go.click(upscale, [image, model, scale, denoise], [comparison, download, summary], api_name="upscale", preprocess=False)
