"""Tab "What D learned": the semi-supervised GAN's discriminator reads digits after seeing 100 labels."""

from __future__ import annotations

import gradio as gr
import numpy as np

from .. import catalog, digits, hub, recognition
from ..imaging import to_pil
from ..models import ssgan
from .common import DISPLAY_SCALE, MAX_SHOWN_DIGITS, digit_gallery, required, seed_box, uploaded_path, user_errors

GAN = "ssgan-mnist"
READERS = list(catalog.CLASSIFY)  # the GAN's discriminator first, then what it is compared with


def _error(model: str) -> str:
    measured = recognition.evaluation(model)
    return "not measured" if measured is None else f"{measured['test_error_percent']:.2f} %"


def _labels(model: str) -> str:
    raw = hub.load_config(model)
    if raw["family"] != "ssgan":
        return f"{ssgan.MNIST_TRAIN:,}"
    config = ssgan.FAMILY.config_from(raw)
    labelled, unlabelled = len(config.labelled_indices), config.unlabelled_images
    return f"{labelled} + {unlabelled - labelled:,} unlabelled" if unlabelled else str(labelled)


def _readings(image) -> tuple[str, object]:
    """Every shipped reader's answer for one image, as a table, and the 28x28 digit they were shown."""
    shown, ink = recognition.mnist_layout(image)
    rows = []
    for model in (m for m in READERS if m in hub.available()):
        (reading,) = recognition.classify(shown, model=model)
        rows.append(f"| {catalog.CLASSIFY[model]} | {_labels(model)} | {_error(model)} | **{reading.digit}** | {reading.confidence:.1%} |")
    table = "| reader | labels it learned from | MNIST test error | reads | confidence |\n|---|---|---|---|---|\n" + "\n".join(rows)
    return f"{table}\n\nInk found: {ink}.", to_pil(shown, scale=DISPLAY_SCALE)[0]


@user_errors
def read_drawing(drawing: dict):
    """Read a digit drawn on the sketchpad with each shipped reader: the semi-supervised GAN's
    discriminator (100 labels), the same network on those 100 labels alone, and the fully supervised classifier.

    Args:
        drawing: the sketchpad's value (its "composite" image is read).

    Returns:
        A table of each reader's digit and confidence beside its MNIST test error, and the 28x28 digit they saw.
    """
    composite = required("drawing", drawing).get("composite") if isinstance(drawing, dict) else drawing
    if composite is None:
        raise ValueError("draw a digit first")
    return _readings(np.asarray(composite, dtype=np.uint8))


@user_errors
def read_digit(image: str):
    """Read the digit in an uploaded image with each shipped reader (as read_drawing does).

    Args:
        image: a photo, scan or drawing of one digit (any size; dark ink on light paper or light on dark).

    Returns:
        A table of each reader's digit and confidence beside its MNIST test error, and the 28x28 digit they saw.
    """
    return _readings(uploaded_path(required("image", image)))


@user_errors
def ssgan_sample(num_images: int, seed: int):
    """Digits drawn by the semi-supervised GAN's generator (trained to match D's features, not to fool it).

    Args:
        num_images: how many digits, 1 to {max_images}.
        seed: random seed; the same seed gives the same digits.

    Returns:
        A list of digit images, each 28x28 shown 4x larger.
    """
    images = digits.sample_digits(GAN, required("num_images", num_images), seed=required("seed", seed))
    return to_pil(images, scale=DISPLAY_SCALE)


ssgan_sample.__doc__ = ssgan_sample.__doc__.format(max_images=MAX_SHOWN_DIGITS)  # the API's description


def build() -> None:
    gr.Markdown(
        "DCGAN's authors found that a GAN's discriminator learns features that serve supervised tasks. Here the "
        "discriminator of a semi-supervised GAN (Salimans et al., 2016) learned to tell real digits from generated "
        "ones on 60,000 MNIST digits, and to name them from **100 labels** (the first ten of each digit). Draw or "
        "upload a digit and compare it with the same network trained on those 100 labels alone, and with a "
        "classifier that saw all 60,000 labels."
    )
    with gr.Row():
        with gr.Column(scale=1):
            with gr.Tab("Draw"):
                sketch = gr.Sketchpad(label="Draw a digit", canvas_size=(280, 280), type="numpy", image_mode="RGBA",
                                      brush=gr.Brush(default_size=18, colors=["#000000"], color_mode="fixed"))
                read_sketch = gr.Button("Read the drawing", variant="primary")
            with gr.Tab("Upload"):
                upload = gr.Image(type="filepath", image_mode=None, label="A digit", sources=["upload", "clipboard"])
                read_upload = gr.Button("Read the image", variant="primary")
        with gr.Column(scale=2):
            table = gr.Markdown()
            seen = gr.Image(label="What the readers see (28x28, as MNIST)", type="pil", format="png", interactive=False,
                            height=28 * DISPLAY_SCALE * 2)
    read_sketch.click(read_drawing, sketch, [table, seen], api_name="read_drawing")
    # preprocess=False: the handler gets the uploaded file untouched (and says clearly when it is not an image)
    read_upload.click(read_digit, upload, [table, seen], api_name="read_digit", preprocess=False)

    gr.Markdown("### The GAN's own digits\nIts generator learned by feature matching: to give D's features the "
                "statistics of real digits. Its digits help D most; they are not the best-looking.")
    with gr.Row():
        with gr.Column(scale=1):
            num_images = gr.Slider(1, MAX_SHOWN_DIGITS, value=16, step=1, label="Number of digits")
            seed = seed_box(maximum=digits.MAX_SEED)
            go = gr.Button("Generate")
        gallery = digit_gallery()
    go.click(ssgan_sample, [num_images, seed], gallery, api_name="ssgan_sample")
