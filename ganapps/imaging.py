"""The one place that converts between library tensors and images (PIL, numpy, uint8).

Digit tensors are float (B, 1, H, W) in [-1, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 1, H, W) in [-1, 1] -> (B, H, W) uint8."""
    return ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[:, 0].numpy()


def to_pil(images: torch.Tensor, *, scale: int = 1) -> list[Image.Image]:
    """One grayscale PIL image per digit, optionally enlarged ``scale`` times (nearest neighbour)."""
    out = []
    for array in to_uint8(images):
        image = Image.fromarray(array, mode="L")
        if scale != 1:
            image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
        out.append(image)
    return out


def grid(images: torch.Tensor, *, nrow: int = 8, padding: int = 2, scale: int = 1) -> Image.Image:
    """Tile (B, 1, H, W) in [-1, 1] into one grayscale image with ``nrow`` images per row."""
    from torchvision.utils import make_grid

    tiled = make_grid(images.detach().float().cpu(), nrow=nrow, padding=padding, pad_value=-1.0)  # (3, H', W')
    return to_pil(tiled[:1].unsqueeze(0), scale=scale)[0]


def save_grid(images: torch.Tensor, path: str | Path, *, nrow: int = 8) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid(images, nrow=nrow).save(path)
    return path


def from_pil_digits(images) -> torch.Tensor:
    """Grayscale PIL images or uint8 arrays (H, W) -> (B, 1, H, W) in [-1, 1] (for measuring PNGs)."""
    arrays = [np.asarray(image.convert("L") if isinstance(image, Image.Image) else image, dtype=np.float32) for image in images]
    return torch.from_numpy(np.stack(arrays)).unsqueeze(1) / 127.5 - 1.0
