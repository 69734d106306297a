"""Photos in, photos out: super-resolution (Real-ESRGAN-style and SRGAN) and deraining (ID-CGAN), any size and kind of image.

``upscale`` and ``derain`` decode whatever the user has (see ``imaging.read_image``), runs the x4 generator
tile by tile (``tiling.tiled_apply``) so memory stays bounded, treats alpha and grayscale apart,
and returns a ``Picture`` of the same kind: ``.save(path)`` writes a PNG with the same bit depth,
``.to_pil()`` gives an 8-bit image for display.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

from . import catalog, hub
from .imaging import Picture, read_image
from .models import TRAINABLE, get_family
from .tiling import tiled_apply

log = logging.getLogger(__name__)

SR_MODELS = tuple(catalog.UPSCALE)
DERAIN_MODELS = tuple(catalog.DERAIN)
# the families whose networks upscale or derain (their restorer's scale says which)
SR_FAMILIES = tuple(name for name, family in TRAINABLE.items() if family.restorer and family.restorer.scale > 1)
DERAIN_FAMILIES = tuple(name for name, family in TRAINABLE.items() if family.restorer and family.restorer.scale == 1)
SCALES = (2, 3, 4)
MAX_UPSCALE_PIXELS = 2048 * 2048  # input limit: the x4 output is then at most 67 megapixels
DEFAULT_TILE = 256
MAX_DERAIN_PIXELS = 4096 * 4096


def resize(planes: torch.Tensor, size: tuple[int, int], method=Image.BICUBIC) -> torch.Tensor:
    """Resize (1, C, H, W) float planes to size=(width, height) with Pillow, channel by channel in 32-bit float.

    Pillow's bicubic is the reference the SR benchmarks use; its LANCZOS antialiases when shrinking.
    """
    channels = [
        np.asarray(Image.fromarray(plane.numpy()).resize(size, method)) for plane in planes[0].float()
    ]
    return torch.from_numpy(np.stack(channels))[None]


def _check_tile(tile) -> None:
    if not isinstance(tile, int) or isinstance(tile, bool) or not 16 <= tile <= 4096:
        raise ValueError(f"tile must be a whole number of pixels in 16..4096, got {tile!r}")


def _run_tiled(family, generator, rgb, *, tile, device, progress) -> torch.Tensor:
    """The family's restorer over ``rgb`` (1, 3, H, W), tile by tile, with the whole photo's context."""
    restorer = family.restorer
    context = restorer.context(rgb) if restorer.context is not None else {}

    def run(piece: torch.Tensor) -> torch.Tensor:
        piece = piece.to(device).contiguous(memory_format=torch.channels_last)
        return restorer.restore(generator, piece, device=device, **context).cpu()

    with torch.inference_mode():
        return tiled_apply(run, rgb, scale=restorer.scale, tile=tile, overlap=generator.config.receptive_radius,
                           align=restorer.grid, progress=progress)


def upscale(
    image,
    *,
    model: str = SR_MODELS[0],
    scale: int = 4,
    denoise: float | None = None,
    tile: int = DEFAULT_TILE,
    device="cpu",
    progress: Callable[[int, int], None] | None = None,
    max_pixels: int = MAX_UPSCALE_PIXELS,
) -> Picture:
    """Upscale a photo 2, 3 or 4 times.

    ``image``: a path, bytes, PIL image or numpy array. ``model``: one of ``catalog.UPSCALE`` (the
    first is the default), or any upscaling checkpoint name, folder or Hub repo id.
    Scales 2 and 3 run the x4 model and then shrink with Lanczos (as Real-ESRGAN's ``outscale``).
    ``denoise`` (0..1), for models with a denoise control (``denoise_strength(model)`` is not None):
    0 keeps the photo's noise and grain, 1 removes them; None: the model's default strength.
    ``tile`` bounds memory (input pixels per tile side); the result does not depend on it.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(map(str, SCALES))}, got {scale!r}")
    _check_tile(tile)
    if model != "bicubic":
        family = get_family(hub.check_family(model, SR_FAMILIES, needs=f"one of: {', '.join(SR_MODELS)}"))
    default = denoise_strength(model)
    if denoise is not None:
        hub.check_denoise(denoise)
        if default is None:
            with_control = [name for name in SR_MODELS if denoise_strength(name) is not None]
            raise ValueError(f"{model} has no denoise control; models with one: {', '.join(with_control) or '(none)'}")
    picture = read_image(image, max_pixels=max_pixels)
    width, height = picture.size
    size = (width * scale, height * scale)

    if model == "bicubic":
        color = resize(picture.color, size)
        if progress is not None:
            progress(1, 1)
    else:
        strength = default if denoise is None else float(denoise)
        generator = hub.load_cached(model, str(device), denoise=strength).to(memory_format=torch.channels_last)
        color = _run_tiled(family, generator, picture.rgb(), tile=tile, device=device, progress=progress)
        if picture.grayscale:
            color = color.mean(dim=1, keepdim=True)
        if scale != family.restorer.scale:
            color = resize(color, size, Image.LANCZOS)
    alpha = None if picture.alpha is None else resize(picture.alpha, size)
    return Picture(color.clamp(0, 1), None if alpha is None else alpha.clamp(0, 1), picture.bit_depth)


def denoise_strength(model: str) -> float | None:
    """The default denoise strength of an upscaling model, or None if it has no denoise control (bicubic, srgan-x4)."""
    if model == "bicubic":
        return None
    try:
        return hub.load_config(model).get("default_denoise")
    except ValueError:  # unknown here: upscale reports it
        return None


def derain(
    image,
    *,
    model: str = DERAIN_MODELS[0],
    strength: float = 1.0,
    tile: int = 512,
    device="cpu",
    progress: Callable[[int, int], None] | None = None,
    max_pixels: int = MAX_DERAIN_PIXELS,
) -> Picture:
    """Remove rain streaks from a photo; returns a ``Picture`` of the same size and kind.

    ``image``: a path, bytes, PIL image or numpy array (grayscale, RGBA with alpha kept as is,
    16-bit kept 16-bit). ``model``: one of ``catalog.DERAIN`` (the first is the default), or any
    deraining checkpoint name, folder or Hub repo id.
    ``strength`` (0..1): the share of the predicted rain layer (photo minus derained) that is taken
    away; 1 removes it all, 0.5 half of it (a little rain kept where the full result looks too smooth).
    ``tile`` bounds memory (pixels per tile side, any size); each tile gets the network's whole
    receptive field as context and starts on its pooling grid, so the result does not depend on it.
    """
    _check_tile(tile)
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in 0..1 (the share of the rain removed), got {strength!r}")
    family = get_family(hub.check_family(model, DERAIN_FAMILIES, needs=f"one of: {', '.join(DERAIN_MODELS)}"))
    picture = read_image(image, max_pixels=max_pixels)
    generator = hub.load_cached(model, str(device)).to(memory_format=torch.channels_last)
    rgb = picture.rgb()
    color = _run_tiled(family, generator, rgb, tile=tile, device=device, progress=progress)
    if strength != 1.0:
        color = rgb + strength * (color - rgb)  # photo minus a share of its rain layer
    if picture.grayscale:
        color = color.mean(dim=1, keepdim=True)
    return Picture(color.clamp(0, 1), picture.alpha, picture.bit_depth)
