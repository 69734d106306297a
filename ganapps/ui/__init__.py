"""The Gradio app: one tab per family, each a thin layer over the library."""

from __future__ import annotations

import gradio as gr

from . import conditional, infogan, unconditional

TABS = [("Unconditional", unconditional), ("Conditional digits", conditional), ("InfoGAN attributes", infogan)]


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="ganapps — a GAN studio", analytics_enabled=False) as demo:
        gr.Markdown("# ganapps\nThe classic GANs, trained and ready: sample, condition and steer handwritten digits.")
        with gr.Tabs():
            for title, tab in TABS:
                with gr.Tab(title):
                    tab.build()
    return demo
