"""Bounded-memory image-to-image inference: run a network tile by tile.

Each tile is cut with a margin of ``overlap`` input pixels of real context on every side (where
the image has them), run through the network, and only the output of its core is kept. When
the margin is at least the network's receptive radius, every output pixel is computed from
exactly the inputs it would see in one whole-image pass, so the tiled result equals the untiled
one and no seam can appear — the overlap-tile strategy (Ronneberger et al., U-Net, 2015), which
makes blending unnecessary. A network that pools (halves its resolution) computes on a grid
anchored at the image's top-left corner; ``align`` starts every tile's context window on that
grid, so that a tile pools the same pixels together as the whole image does, whatever the tile
size.

Memory is bounded by one window, at most ``tile + 2 * overlap + align - 1`` input pixels a side,
and the output buffer. A tile at the image's border needs no context on that side, so its core
takes the window's room there: a border core is up to ``overlap`` pixels larger than ``tile``, and
an image that fits in one window is run in one piece. A network with a wide receptive field then
costs no more than the untiled run on images up to the window's size.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["windows", "tiled_apply"]


def windows(length: int, tile: int, overlap: int, align: int = 1) -> list[tuple[int, int, int, int]]:
    """Along one side of ``length`` pixels: (window start, window end, core start, core end) of each tile.

    The cores cover 0..length without gaps; each window holds its core and ``overlap`` pixels of
    context on each side that has them, and starts on a multiple of ``align``.
    """
    out = []
    start = 0
    while start < length:
        end = min(start + tile + (overlap if start == 0 else 0), length)  # the first core has no context before it
        if length - end <= overlap:  # the rest fits in this window's context room: the core takes it
            end = length
        window_start = max(start - overlap, 0)
        window_start -= window_start % align
        out.append((window_start, min(end + overlap, length), start, end))
        start = end
    return out


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

    ``tile`` is the core size in input pixels (a border tile's core is larger, see the module's
    docstring); ``overlap`` the context margin (at least); ``align`` the grid that context windows
    start on (the network's pooling factor, or the size its input must be a multiple of).
    ``progress`` is called as progress(done, total) after each tile. Returns (1, C', scale*H, scale*W).
    """
    if tile < 1 or overlap < 0 or align < 1:
        raise ValueError(f"tile and align must be >= 1 and overlap >= 0, got tile={tile}, overlap={overlap}, align={align}")
    _, _, height, width = image.shape
    rows, cols = windows(height, tile, overlap, align), windows(width, tile, overlap, align)
    total = len(rows) * len(cols)
    output = None
    done = 0
    for y0, y1, top, bottom in rows:
        for x0, x1, left, right in cols:
            result = fn(image[:, :, y0:y1, x0:x1])  # (1, C', scale*(y1-y0), scale*(x1-x0))
            if output is None:
                output = torch.empty(1, result.shape[1], scale * height, scale * width, dtype=result.dtype)
            core = result[:, :, scale * (top - y0) : scale * (bottom - y0), scale * (left - x0) : scale * (right - x0)]
            output[:, :, scale * top : scale * bottom, scale * left : scale * right] = core
            done += 1
            if progress is not None:
                progress(done, total)
    return output
