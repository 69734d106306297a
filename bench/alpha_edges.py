"""The dark fringe at a transparent logo's soft edge, for three ways of treating the colour under transparency.

Logos of one colour whose alpha falls to 0 over a few pixels, black under the transparency (as most editors save
them), upscaled 4x. The fringe is how far the darkest 1 % of the visible edge pixels (alpha 5-95 %) are from the
logo's colour, in levels (the largest of R, G, B):

- as stored: the colour upscaled as it is, black included (what the app did before);
- premultiplied: colour x alpha upscaled, divided by the upscaled alpha;
- edge-extended: every fully transparent pixel given its nearest visible pixel's colour first (``photos.visible_colour``,
  what ``upscale`` and ``derain`` do).

    PYTHONPATH=. python bench/alpha_edges.py [--models bicubic photo-x4 ...]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ganapps.imaging import Picture, read_image
from ganapps.photos import upscale

COLOURS = {"blue": (40, 110, 230), "red": (220, 40, 30), "white": (250, 250, 250)}
EDGES = (2, 8)  # pixels over which alpha falls from 1 to 0


def logo(colour, edge: float, size: int = 64) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    alpha = np.clip((size * 0.35 - np.hypot(yy - size / 2, xx - size / 2)) / edge, 0, 1)
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[alpha > 0, :3] = colour
    rgba[..., 3] = np.round(alpha * 255)
    return rgba


def fringe(rgba: np.ndarray, colour) -> float:
    alpha = rgba[..., 3].astype(float) / 255
    edge = rgba[(alpha > 0.05) & (alpha < 0.95), :3].astype(float)
    darkest = edge[np.argsort(edge.sum(axis=1))[: max(1, len(edge) // 100)]]
    return float(np.abs(darkest - colour).max())


def results(rgba: np.ndarray, model: str) -> dict[str, np.ndarray]:
    picture = read_image(rgba, max_pixels=10**6)
    alpha = upscale(rgba, model="bicubic").alpha  # every method's alpha: the same bicubic upscale
    as_stored = upscale(picture.color[0].permute(1, 2, 0).mul(255).round().to(torch.uint8).numpy(), model=model).color
    premultiplied = (picture.color * picture.alpha)[0].permute(1, 2, 0).mul(255).round().to(torch.uint8).numpy()
    premultiplied = upscale(premultiplied, model=model).color / alpha.clamp(min=1 / 255)
    edge_extended = upscale(rgba, model=model).color
    return {name: Picture(color.clamp(0, 1), alpha).to_array()
            for name, color in (("as stored", as_stored), ("premultiplied", premultiplied), ("edge-extended", edge_extended))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["bicubic", "photo-x4", "srresnet-x4"])
    args = parser.parse_args()
    torch.set_num_threads(2)
    print("Fringe at a soft alpha edge, x4: the darkest 1 % of the visible edge pixels' distance from the logo's colour "
          "(levels; 0: no fringe)\n")
    print("| model | logo | edge (px) | as stored | premultiplied | edge-extended |")
    print("|---|---|---|---|---|---|")
    for model in args.models:
        for name, colour in COLOURS.items():
            for edge in EDGES:
                scores = {method: fringe(array, colour) for method, array in results(logo(colour, edge), model).items()}
                print(f"| {model} | {name} | {edge} | {scores['as stored']:.0f} | {scores['premultiplied']:.0f} "
                      f"| {scores['edge-extended']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
