"""Bounded-memory image-to-image inference: run a network tile by tile.

Each tile is cut with a margin of ``overlap`` input pixels of real context on every side (where
the image has them), run through the network, and only the output of its core is kept. When
the margin is at least the network's receptive radius, every output pixel is computed from
exactly the inputs it would see in one whole-image pass, so the tiled result equals the untiled
one and no seam can appear — the overlap-tile strategy (Ronneberger et al., U-Net, 2015), which
makes blending unnecessary. A network that pools (halves its resolution) computes on a grid
anchored at the image's top-left corner; ``align`` starts every tile's context window on that
grid, so that a tile pools the same pixels together as the whole image does, whatever the tile
size. Memory is bounded by one tile and the output buffer.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def tile_grid(length: int, tile: int) -> list[tuple[int, int]]:
    """Core intervals [start, end) that cover 0..length in steps of ``tile``."""
    return [(start, min(start + tile, length)) for start in range(0, length, tile)]


def tiled_apply(
    fn: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    *,
    scale: int,
    tile: int,
    overlap: int,
    align: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Apply ``fn`` ((1, C, h, w) -> (1, C', scale*h, scale*w)) to ``image`` tile by tile.

    ``tile`` is the core size in input pixels; ``overlap`` the context margin (at least);
    ``align`` the grid that context windows start on (the network's pooling factor).
    ``progress`` is called as progress(done, total) after each tile. Returns (1, C', scale*H, scale*W).
    """
    if tile < 1 or overlap < 0 or align < 1:
        raise ValueError(f"tile and align must be >= 1 and overlap >= 0, got tile={tile}, overlap={overlap}, align={align}")
    _, _, height, width = image.shape
    rows, cols = tile_grid(height, tile), tile_grid(width, tile)
    total = len(rows) * len(cols)
    output = None
    done = 0
    for top, bottom in rows:
        for left, right in cols:
            # The core plus up to `overlap` pixels of context on each side.
            y0, y1 = max(top - overlap, 0), min(bottom + overlap, height)
            x0, x1 = max(left - overlap, 0), min(right + overlap, width)
            y0, x0 = y0 - y0 % align, x0 - x0 % align  # on the pooling grid of the whole image
            result = fn(image[:, :, y0:y1, x0:x1])  # (1, C', scale*(y1-y0), scale*(x1-x0))
            if output is None:
                output = torch.empty(1, result.shape[1], scale * height, scale * width, dtype=result.dtype)
            core = result[:, :, scale * (top - y0) : scale * (bottom - y0), scale * (left - x0) : scale * (right - x0)]
            output[:, :, scale * top : scale * bottom, scale * left : scale * right] = core
            done += 1
            if progress is not None:
                progress(done, total)
    return output
