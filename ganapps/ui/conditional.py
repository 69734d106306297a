"""Tab "Conditional digits": CGAN digits on request, and numbers written in generated handwriting."""

from __future__ import annotations

import gradio as gr

from .. import catalog, digits
from ..imaging import to_pil
from .common import DISPLAY_SCALE, MAX_SHOWN_DIGITS, digit_gallery, required, seed_box, user_errors

MODEL = catalog.DIGITS["cgan"]


@user_errors
def cgan_sample(digit: int, num_images: int, seed: int):
    """Generate handwritten copies of one digit with the conditional GAN.

    Args:
        digit: the digit to draw (0-9).
        num_images: how many, 1 to {max_images}; each is a different hand.
        seed: random seed (0 to 2**32-1); the same seed gives the same digits.

    Returns:
        A list of digit images, each 28x28 shown 4x larger.
    """
    images = digits.sample_digits(
        MODEL, required("num_images", num_images), seed=required("seed", seed), digit=required("digit", digit)
    )
    return to_pil(images, scale=DISPLAY_SCALE)


cgan_sample.__doc__ = cgan_sample.__doc__.format(max_images=MAX_SHOWN_DIGITS)  # the API's description


@user_errors
def cgan_write_number(text: str, seed: int):
    """Write a number (a year, a phone number) in generated handwriting.

    Args:
        text: digits and spaces, up to 32 digits, e.g. "2026" or "555 0123".
        seed: random seed; another seed gives another hand.

    Returns:
        One image of the number, 28 pixels high, shown 4x larger.
    """
    image = digits.write_number(required("text", text), seed=required("seed", seed), model=MODEL)
    return to_pil(image, scale=DISPLAY_SCALE)[0]


def build() -> None:
    gr.Markdown(
        "A conditional GAN (Mirza & Osindero, 2014): generator and discriminator are both told the "
        "digit, so you choose what gets drawn and the noise chooses the handwriting."
    )
    with gr.Row():
        with gr.Column(scale=1):
            digit = gr.Radio(list(range(10)), value=7, label="Digit")
            num_images = gr.Slider(1, MAX_SHOWN_DIGITS, value=16, step=1, label="How many")
            seed = seed_box(maximum=digits.MAX_SEED)
            go = gr.Button("Generate", variant="primary")
        gallery = digit_gallery()
    go.click(cgan_sample, [digit, num_images, seed], gallery, api_name="cgan_sample")

    gr.Markdown("### Write a number\nType a year or a phone number; spaces leave a gap.")
    with gr.Row():
        text = gr.Textbox("2026", label="Number", max_lines=1)
        text_seed = seed_box(maximum=digits.MAX_SEED)
        write = gr.Button("Write")
    written = gr.Image(label="Handwritten", format="png", type="pil")
    write.click(cgan_write_number, [text, text_seed], written, api_name="cgan_write_number")
    text.submit(cgan_write_number, [text, text_seed], written, api_name="cgan_write_number_submit")
