"""Tab "InfoGAN attributes": choose the category, steer slant and stroke width."""

from __future__ import annotations

import gradio as gr

from .. import catalog, digits
from ..imaging import grid, to_pil
from .common import DISPLAY_SCALE, MAX_SHOWN_DIGITS, digit_gallery, required, seed_box, user_errors

MODEL = catalog.DIGITS["infogan"]
LIMIT = digits.CODE_LIMIT


@user_errors
def infogan_sample(digit: int, slant: float, width: float, num_images: int, seed: int):
    """Generate digits with InfoGAN, setting its learned codes for digit, slant and stroke width.

    Args:
        digit: the digit (0-9), mapped to the InfoGAN category measured to draw it.
        slant: -2 (leaning left) to 2 (leaning right); training covered -1..1.
        width: -2 (thin strokes) to 2 (thick strokes); training covered -1..1.
        num_images: how many, 1 to {max_images}; they differ in the noise only.
        seed: random seed (0 to 2**32-1).

    Returns:
        A list of digit images, each 28x28 shown 4x larger.
    """
    images = digits.sample_digits(
        MODEL,
        required("num_images", num_images),
        seed=required("seed", seed),
        digit=required("digit", digit),
        slant=required("slant", slant),
        width=required("width", width),
    )
    return to_pil(images, scale=DISPLAY_SCALE)


infogan_sample.__doc__ = infogan_sample.__doc__.format(max_images=MAX_SHOWN_DIGITS)  # the API's description


@user_errors
def infogan_traversal(attribute: str, digit: int, seed: int):
    """Show one InfoGAN code varied along each row while everything else stays fixed.

    Args:
        attribute: "slant" or "width" (swept from -2 to 2), or "digit" (the ten categories).
        digit: for slant and width, the digit drawn (0-9).
        seed: random seed choosing the noise of each row.

    Returns:
        One grid image, one row per noise sample.
    """
    images, columns = digits.traversal(
        MODEL, required("attribute", attribute), digit=required("digit", digit), seed=required("seed", seed)
    )
    return grid(images, nrow=columns, scale=DISPLAY_SCALE)


def build() -> None:
    gr.Markdown(
        "InfoGAN (Chen et al., 2016) was trained without labels. It learned on its own a 10-way code "
        "that picks the digit and continuous codes, two of which turned out to control slant and "
        "stroke width (a third varies other details of the style); which is which was measured after "
        "training. The sliders go beyond the training range (-1..1) to show what happens when you extrapolate."
    )
    with gr.Row():
        with gr.Column(scale=1):
            digit = gr.Radio(list(range(10)), value=3, label="Digit")
            slant = gr.Slider(-LIMIT, LIMIT, value=0.0, step=0.1, label="Slant (left ↔ right)")
            width = gr.Slider(-LIMIT, LIMIT, value=0.0, step=0.1, label="Stroke width (thin ↔ thick)")
            num_images = gr.Slider(1, MAX_SHOWN_DIGITS, value=16, step=1, label="How many")
            seed = seed_box(maximum=digits.MAX_SEED)
            go = gr.Button("Generate", variant="primary")
        gallery = digit_gallery()
    inputs = [digit, slant, width, num_images, seed]
    go.click(infogan_sample, inputs, gallery, api_name="infogan_sample")

    gr.Markdown("### Traversal\nEach row keeps its noise; one code changes from left to right.")
    with gr.Row():
        attribute = gr.Radio(["slant", "width", "digit"], value="slant", label="Code to vary")
        traverse_digit = gr.Radio(list(range(10)), value=3, label="Digit (for slant and width)")
        traverse_seed = seed_box(maximum=digits.MAX_SEED)
        traverse = gr.Button("Traverse")
    traversal_image = gr.Image(label="Traversal", format="png", type="pil")
    traverse.click(infogan_traversal, [attribute, traverse_digit, traverse_seed], traversal_image, api_name="infogan_traversal")
