"""Photos in, photos out: super-resolution with the SRGAN family, for any size and kind of image.

``upscale`` decodes whatever the user has (see ``imaging.read_image``), runs the x4 generator
tile by tile (``tiling.tiled_apply``) so memory stays bounded, treats alpha and grayscale apart,
and returns a ``Picture`` of the same kind: ``.save(path)`` writes a PNG with the same bit depth,
``.to_pil()`` gives an 8-bit image for display.
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import hub
from .imaging import Picture, read_image
from .models import srgan
from .tiling import tiled_apply

log = logging.getLogger(__name__)

SR_MODELS = ("srgan-x4", "srresnet-x4", "bicubic")
SCALES = (2, 3, 4)
MAX_UPSCALE_PIXELS = 2048 * 2048  # input limit: the x4 output is then at most 67 megapixels
DEFAULT_TILE = 256


def resize(planes: torch.Tensor, size: tuple[int, int], method=Image.BICUBIC) -> torch.Tensor:
    """Resize (1, C, H, W) float planes to size=(width, height) with Pillow, channel by channel in 32-bit float.

    Pillow's bicubic is the reference the SR benchmarks use; its LANCZOS antialiases when shrinking.
    """
    channels = [
        np.asarray(Image.fromarray(plane.numpy()).resize(size, method)) for plane in planes[0].float()
    ]
    return torch.from_numpy(np.stack(channels))[None]


def _super_resolve(generator, rgb: torch.Tensor, *, tile: int, device, progress) -> torch.Tensor:
    def run(piece: torch.Tensor) -> torch.Tensor:
        piece = piece.to(device).contiguous(memory_format=torch.channels_last)
        return srgan.restore(generator, piece, device=device).cpu()

    with torch.inference_mode():
        return tiled_apply(run, rgb, scale=srgan.SCALE, tile=tile, overlap=generator.config.receptive_radius, progress=progress)


def upscale(
    image,
    *,
    model: str = "srgan-x4",
    scale: int = 4,
    tile: int = DEFAULT_TILE,
    device="cpu",
    progress: Callable[[int, int], None] | None = None,
    max_pixels: int = MAX_UPSCALE_PIXELS,
) -> Picture:
    """Upscale a photo 2, 3 or 4 times.

    ``image``: a path, bytes, PIL image or numpy array. ``model``: "srgan-x4" (sharp texture),
    "srresnet-x4" (highest PSNR), "bicubic", or any srgan checkpoint name, folder or Hub repo id.
    Scales 2 and 3 run the x4 model and then shrink with Lanczos (as Real-ESRGAN's ``outscale``).
    ``tile`` bounds memory (input pixels per tile side); the result does not depend on it.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(map(str, SCALES))}, got {scale!r}")
    if not isinstance(tile, int) or isinstance(tile, bool) or not 16 <= tile <= 4096:
        raise ValueError(f"tile must be a whole number of pixels in 16..4096, got {tile!r}")
    if model != "bicubic":
        found = hub.load_config(model).get("family")
        if found != "srgan":
            raise ValueError(f"model {model!r} is a {found} model; upscaling needs one of: {', '.join(SR_MODELS)}")
    picture = read_image(image, max_pixels=max_pixels)
    width, height = picture.size
    size = (width * scale, height * scale)

    if model == "bicubic":
        color = resize(picture.color, size)
        if progress is not None:
            progress(1, 1)
    else:
        generator = hub.load_cached(model, str(device)).to(memory_format=torch.channels_last)
        color = _super_resolve(generator, picture.rgb(), tile=tile, device=device, progress=progress)
        if picture.grayscale:
            color = color.mean(dim=1, keepdim=True)
        if scale != srgan.SCALE:
            color = resize(color, size, Image.LANCZOS)
    alpha = None if picture.alpha is None else resize(picture.alpha, size)
    return Picture(color.clamp(0, 1), None if alpha is None else alpha.clamp(0, 1), picture.bit_depth)
