"""Photos in, photos out: super-resolution (Real-ESRGAN-style and SRGAN, ours or another project's) and deraining
(ID-CGAN), any size and kind of image.

``upscale`` and ``derain`` decode whatever the user has (see ``imaging.read_image``), run the model
(``hub.ImageModel``) tile by tile so memory stays bounded, treat alpha and grayscale apart,
and return a ``Picture`` of the same kind: ``.save(path)`` writes a PNG with the same bit depth,
``.to_pil()`` gives an 8-bit image for display.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch

from . import catalog, hub
from .imaging import Picture, read_image
from .imaging import resize as resize_array
from .models import TRAINABLE

log = logging.getLogger(__name__)

SR_MODELS = tuple(catalog.UPSCALE)
HUB_SR_MODELS = tuple(catalog.HUB_UPSCALE)
DERAIN_MODELS = tuple(catalog.DERAIN)
# the families whose networks upscale or derain (their restorer's scale says which)
SR_FAMILIES = tuple(name for name, family in TRAINABLE.items() if family.restorer and family.restorer.scale > 1)
DERAIN_FAMILIES = tuple(name for name, family in TRAINABLE.items() if family.restorer and family.restorer.scale == 1)
MIN_SCALE, MAX_SCALE = 1, 8
MAX_UPSCALE_PIXELS = 4096 * 4096  # input limit: a 12-megapixel phone photo fits
MAX_OUTPUT_PIXELS = 16384 * 16384  # a 12-megapixel photo x4 fits; its float result takes 3 GB
DEFAULT_TILE = 512  # input pixels: a 2-megapixel x4 result runs in one piece
MAX_DERAIN_PIXELS = 4096 * 4096


def resize(planes: torch.Tensor, size: tuple[int, int], method: str = "bicubic") -> torch.Tensor:
    """Resize (1, C, H, W) float planes to size=(width, height) with ``imaging.resize`` (Pillow, 32-bit float).

    Pillow's bicubic is the reference the SR benchmarks use; its Lanczos antialiases when shrinking.
    """
    channels_last = resize_array(planes[0].float().permute(1, 2, 0).numpy(), size, method)  # (H', W', C)
    return torch.from_numpy(np.ascontiguousarray(channels_last.transpose(2, 0, 1)))[None]


def _check_tile(tile) -> None:
    if not isinstance(tile, int) or isinstance(tile, bool) or not 16 <= tile <= 4096:
        raise ValueError(f"tile must be a whole number of pixels in 16..4096, got {tile!r}")


def check_scale(scale) -> float:
    """``scale`` as a float if it is a number in MIN_SCALE..MAX_SCALE; a ValueError otherwise."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be a number from {MIN_SCALE} to {MAX_SCALE} (e.g. 2, 2.5 or 6), got {scale!r}")
    return float(scale)


def output_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """The (width, height) of a photo of ``size`` upscaled ``scale`` times: each side rounded to whole pixels."""
    return round(size[0] * scale), round(size[1] * scale)


def load_upscaler(model: str = SR_MODELS[0], *, denoise: float | None = None, mild: str | None = None, device="cpu"):
    """Upscaling model ``model`` loaded once (``hub.ImageModel``; "bicubic" stays a name), to pass to ``upscale`` for
    many photos: its name, denoise strength and twin are checked here, before the first photo."""
    if model == "bicubic":
        if denoise is not None or mild is not None:
            raise ValueError("bicubic has no denoise control; leave denoise and mild unset")
        return model
    return hub.image_model_cached(model, families=SR_FAMILIES, device=str(device), denoise=denoise, mild=mild,
                                  allow_foreign=True, needs=f"one of: {', '.join(SR_MODELS + HUB_SR_MODELS)}")


def upscale(
    image,
    *,
    model: str | hub.ImageModel = SR_MODELS[0],
    scale: float = 4,
    denoise: float | None = None,
    mild: str | None = None,
    tile: int = DEFAULT_TILE,
    device="cpu",
    progress: Callable[[int, int], None] | None = None,
    max_pixels: int = MAX_UPSCALE_PIXELS,
) -> Picture:
    """Upscale a photo any number of times from 1 to 8; the result is ``round(width * scale)`` by ``round(height * scale)``.

    ``image``: a path, bytes, PIL image or numpy array. ``model``: one of ``catalog.UPSCALE`` (the first is the
    default) or ``catalog.HUB_UPSCALE``, any upscaling checkpoint name, folder or Hub repo id of this project, or
    another project's upscaler: a checkpoint file (.pth, .pt, .ckpt, .safetensors) or a Hub file
    ``hf://<org>/<repo>[@<revision>]/<file>`` (``foreign.py``); or a model ``load_upscaler`` loaded (then
    ``denoise`` and ``mild`` were given to it).
    The model runs once at its own scale, then the result is resized to the asked size with Lanczos (as
    Real-ESRGAN's ``--outscale``; ``bench/superres_scale.py`` measured running it twice for larger scales: worse).
    ``denoise`` (0..1), for models with a denoise twin (``denoise_strength(model)`` is not None):
    0 keeps the photo's noise and grain, 1 removes them; None: the model's default strength.
    ``mild``: the denoise twin of a foreign checkpoint (the same architecture trained to keep noise, e.g.
    Real-ESRGAN's realesr-general-wdn-x4v3 beside realesr-general-x4v3).
    ``tile`` bounds memory (input pixels per tile side); the result does not depend on it.
    """
    scale = check_scale(scale)
    _check_tile(tile)
    if isinstance(model, hub.ImageModel):
        if denoise is not None or mild is not None:
            raise ValueError("give denoise and mild to load_upscaler, which loaded this model")
        network = model
    else:
        network = load_upscaler(model, denoise=denoise, mild=mild, device=device)
    picture = read_image(image, max_pixels=max_pixels)
    size = output_size(picture.size, scale)
    if network == "bicubic":
        _check_output(size, picture.size, 1)
        color = resize(picture.color, size)
        if progress is not None:
            progress(1, 1)
    else:
        _check_output(size, picture.size, network.scale)
        color = network.restore(picture.rgb(), tile=tile, progress=progress)
        if picture.grayscale:
            color = color.mean(dim=1, keepdim=True)
        if color.shape[-1] != size[0] or color.shape[-2] != size[1]:
            color = resize(color, size, "lanczos")
    alpha = None if picture.alpha is None else resize(picture.alpha, size)
    return Picture(color.clamp(0, 1), None if alpha is None else alpha.clamp(0, 1), picture.bit_depth)


def _check_output(size: tuple[int, int], source: tuple[int, int], model_scale: int) -> None:
    """Refuse a result (or the model's own, before resizing) over MAX_OUTPUT_PIXELS before computing it."""
    width, height = max(size[0], source[0] * model_scale), max(size[1], source[1] * model_scale)
    if width * height > MAX_OUTPUT_PIXELS:
        raise ValueError(
            f"the result would be {width}x{height} = {width * height / 1e6:.0f} megapixels; the limit is "
            f"{MAX_OUTPUT_PIXELS / 1e6:.0f} — choose a smaller scale or crop the photo"
        )


def denoise_strength(model: str, mild: str | None = None) -> float | None:
    """The default denoise strength of an upscaling model, or None if it has no denoise twin (bicubic, srgan-x4)."""
    if model == "bicubic":
        return None
    try:
        return hub.default_denoise(model, mild)
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
    network = hub.image_model_cached(model, families=DERAIN_FAMILIES, device=str(device), needs=f"one of: {', '.join(DERAIN_MODELS)}")
    picture = read_image(image, max_pixels=max_pixels)
    rgb = picture.rgb()
    color = network.restore(rgb, tile=tile, progress=progress)
    if strength != 1.0:
        color = rgb + strength * (color - rgb)  # photo minus a share of its rain layer
    if picture.grayscale:
        color = color.mean(dim=1, keepdim=True)
    return Picture(color.clamp(0, 1), picture.alpha, picture.bit_depth)
