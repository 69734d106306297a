"""Tab "Unconditional": DCGAN samples and latent interpolations."""

from __future__ import annotations

import gradio as gr

from .. import catalog, digits
from ..imaging import grid, to_pil
from .common import DISPLAY_SCALE, MAX_SHOWN_DIGITS, digit_gallery, required, seed_box, user_errors

MODEL = catalog.DIGITS["dcgan"]


@user_errors
def dcgan_sample(num_images: int, seed: int):
    """Generate handwritten digits from random noise with the DCGAN.

    Args:
        num_images: how many digits to draw, 1 to {max_images}.
        seed: random seed (0 to 2**32-1); the same seed gives the same digits.

    Returns:
        A list of digit images, each 28x28 shown 4x larger.
    """
    images = digits.sample_digits(MODEL, required("num_images", num_images), seed=required("seed", seed))
    return to_pil(images, scale=DISPLAY_SCALE)


dcgan_sample.__doc__ = dcgan_sample.__doc__.format(max_images=MAX_SHOWN_DIGITS)  # the API's description


@user_errors
def dcgan_interpolate(seed_a: int, seed_b: int, steps: int):
    """Morph one generated digit into another by walking the DCGAN's latent space.

    Args:
        seed_a: seed of the first digit.
        seed_b: seed of the last digit.
        steps: number of digits along the way, ends included (2-32).

    Returns:
        One image: the digits in a row, from seed_a's to seed_b's.
    """
    images = digits.interpolate(MODEL, required("seed_a", seed_a), required("seed_b", seed_b), steps=required("steps", steps))
    return grid(images, nrow=len(images), scale=DISPLAY_SCALE)


def build() -> None:
    gr.Markdown(
        "A DCGAN (Radford et al., 2016) turns 64 random numbers into a handwritten digit. "
        "It was never told which digit to draw: each seed gives a different one."
    )
    with gr.Row():
        with gr.Column(scale=1):
            num_images = gr.Slider(1, MAX_SHOWN_DIGITS, value=16, step=1, label="Number of digits")
            seed = seed_box(maximum=digits.MAX_SEED)
            go = gr.Button("Generate", variant="primary")
        gallery = digit_gallery()
    go.click(dcgan_sample, [num_images, seed], gallery, api_name="dcgan_sample")

    gr.Markdown("### Latent interpolation\nWalk from one seed's digit to another's along a great circle of the noise space.")
    with gr.Row():
        seed_a = seed_box(0, "From seed", maximum=digits.MAX_SEED)
        seed_b = seed_box(1, "To seed", maximum=digits.MAX_SEED)
        steps = gr.Slider(2, digits.MAX_STEPS, value=10, step=1, label="Steps")
        walk = gr.Button("Interpolate")
    strip = gr.Image(label="Interpolation", format="png", type="pil")
    walk.click(dcgan_interpolate, [seed_a, seed_b, steps], strip, api_name="dcgan_interpolate")
