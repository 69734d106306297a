"""The Gradio app: one tab per family, each a thin layer over the library."""

from __future__ import annotations

import gradio as gr

from . import conditional, deraining, discriminator, infogan, superres, theory, unconditional
from .common import CSS  # for launch(css=...): Gradio 6 takes page styles there

__all__ = ["build_demo", "CSS", "TABS"]

TABS = [
    ("Theory lab", theory),
    ("Unconditional", unconditional),
    ("What D learned", discriminator),
    ("Conditional digits", conditional),
    ("InfoGAN attributes", infogan),
    ("Super-resolution", superres),
    ("Deraining", deraining),
]


def build_demo() -> gr.Blocks:
    # Generated files (upscaled PNGs) are removed from Gradio's cache after an hour.
    with gr.Blocks(title="ganapps — a GAN studio", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            "# ganapps\nThe classic GANs, trained and ready: watch the theory play out, sample, condition and steer digits,"
            " upscale and derain photos."
        )
        with gr.Tabs():
            for title, tab in TABS:
                with gr.Tab(title):
                    tab.build()
    return demo
