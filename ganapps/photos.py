"""Photos in, photos out: super-resolution (Real-ESRGAN-style and SRGAN, ours or another project's) and deraining
(ID-CGAN), any size and kind of image.

``upscale`` and ``derain`` decode whatever the user has (see ``imaging.read_image``), run the model
(``photo_models.ImageModel``) tile by tile so memory stays bounded, treat alpha and grayscale apart,
and return a ``Picture`` of the same kind, carrying the photo's ICC profile, EXIF and XMP (or what the user chose
to keep of them): ``.save(path)`` writes it in the format the suffix names (PNG, JPEG, WebP, TIFF, AVIF),
``.to_pil()`` gives an 8-bit image for display. ``restore_files`` does files and whole folder trees.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import catalog, photo_models
from .imaging import IMAGE_SUFFIXES, OUTPUT_FORMATS, Picture, check_format, check_metadata, check_quality, read_image
from .imaging import resize as resize_array
from .models import TRAINABLE
from .photo_models import BICUBIC, ImageModel

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
DERAIN_TILE = 512  # input pixels: ours run exact tiles of this size unless told otherwise


def resize(planes: torch.Tensor, size: tuple[int, int], method: str = "bicubic") -> torch.Tensor:
    """Resize (1, C, H, W) float planes to size=(width, height) with ``imaging.resize`` (Pillow, 32-bit float).

    Pillow's bicubic is the reference the SR benchmarks use; its Lanczos antialiases when shrinking.
    """
    channels_last = resize_array(planes[0].float().permute(1, 2, 0).numpy(), size, method)  # (H', W', C)
    return torch.from_numpy(np.ascontiguousarray(channels_last.transpose(2, 0, 1)))[None]


def _check_tile(tile) -> None:
    if not isinstance(tile, int) or isinstance(tile, bool) or not 16 <= tile <= 4096:
        raise ValueError(f"tile must be a whole number of pixels in 16..4096, got {tile!r}")


def check_derain_options(strength, tile) -> None:
    """A ValueError unless ``strength`` is in 0..1 and ``tile`` is None or a tile ``derain`` takes."""
    if tile is not None:
        _check_tile(tile)
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in 0..1 (the share of the rain removed), got {strength!r}")


def check_scale(scale) -> float:
    """``scale`` as a float if it is a number in MIN_SCALE..MAX_SCALE; a ValueError otherwise."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be a number from {MIN_SCALE} to {MAX_SCALE} (e.g. 2, 2.5 or 6), got {scale!r}")
    return float(scale)


def output_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """The (width, height) of a photo of ``size`` upscaled ``scale`` times: each side rounded to whole pixels."""
    return round(size[0] * scale), round(size[1] * scale)


def _check_side(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer)) or value != value or value < 1 or value % 1:
        raise ValueError(f"{name} must be a whole number of pixels, at least 1, got {value!r}")
    return int(value)


def check_size(scale=None, width=None, height=None) -> tuple[float | None, int | None, int | None]:
    """A scale (default 4) or a target width and/or height, checked: (scale, width, height) with the scale None when a
    size is given."""
    width, height = _check_side("width", width), _check_side("height", height)
    if width is None and height is None:
        return check_scale(4 if scale is None else scale), None, None
    if scale is not None:
        raise ValueError("give a scale or a target width and/or height, not both")
    return None, width, height


def target_size(size: tuple[int, int], *, scale: float | None = None, width: int | None = None,
                height: int | None = None) -> tuple[float, tuple[int, int]]:
    """The scale and the result's (width, height) for a photo of ``size``: ``scale`` times (default 4), or to
    ``width`` and/or ``height`` pixels (both: the largest size that fits inside them), the aspect kept.

    The scale a size implies must be in MIN_SCALE..MAX_SCALE, as a scale given."""
    scale, width, height = check_size(scale, width, height)
    if width is None and height is None:
        return scale, output_size(size, scale)
    by_width = None if width is None else width / size[0]
    by_height = None if height is None else height / size[1]
    if by_height is None or (by_width is not None and by_width <= by_height):
        scale, result = by_width, (width, round(size[1] * by_width))
    else:
        scale, result = by_height, (round(size[0] * by_height), height)
    if not MIN_SCALE <= scale <= MAX_SCALE:
        asked = " x ".join(f"{name} {side}" for name, side in (("width", width), ("height", height)) if side is not None)
        raise ValueError(f"{asked} is {scale:.3g} times this {size[0]}x{size[1]} photo; upscaling goes from "
                         f"{MIN_SCALE} to {MAX_SCALE} times (here {size[0] * MIN_SCALE}x{size[1] * MIN_SCALE} to "
                         f"{size[0] * MAX_SCALE}x{size[1] * MAX_SCALE})")
    return scale, result


def visible_colour(picture: Picture) -> torch.Tensor:
    """The photo's colour as (1, 3, H, W), every fully transparent pixel given its nearest visible pixel's colour.

    What hides under transparency is often black: a network (or a resize) mixes neighbours, and would carry that black
    into the soft edge of a logo as a dark fringe. Extended from the edge, the colour around a visible pixel is its
    own; the transparent pixels stay transparent (their alpha is kept), so nothing that shows changes."""
    rgb = picture.rgb()
    if picture.alpha is None:
        return rgb
    hidden = (picture.alpha[0, 0] == 0).numpy()
    if not hidden.any() or hidden.all():
        return rgb
    from scipy import ndimage

    rows, cols = ndimage.distance_transform_edt(hidden, return_distances=False, return_indices=True)  # (2, H, W)
    return rgb[:, :, torch.from_numpy(rows), torch.from_numpy(cols)]


def load_upscaler(model: str = SR_MODELS[0], *, denoise: float | None = None, mild: str | None = None,
                  device="cpu") -> ImageModel:
    """Upscaling model ``model`` loaded once (an ``ImageModel``, bicubic interpolation too), to pass to ``upscale`` for
    many photos: its name, denoise strength and twin are checked here, before the first photo."""
    if model == BICUBIC.name:
        if denoise is not None or mild is not None:
            raise ValueError("bicubic has no denoise control; leave denoise and mild unset")
        return BICUBIC
    return photo_models.cached(model, families=SR_FAMILIES, device=str(device), denoise=denoise, mild=mild,
                               allow_foreign=True, needs=f"one of: {', '.join(SR_MODELS + HUB_SR_MODELS)}")


def upscale(
    image,
    *,
    model: str | ImageModel = SR_MODELS[0],
    scale: float | None = None,
    width: int | None = None,
    height: int | None = None,
    denoise: float | None = None,
    mild: str | None = None,
    tile: int = DEFAULT_TILE,
    device="cpu",
    progress: Callable[[int, int], None] | None = None,
    max_pixels: int = MAX_UPSCALE_PIXELS,
    metadata: str = "keep",
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
    ``scale`` (default 4), or ``width`` and/or ``height``: the size of the result in pixels (both: the largest that
    fits inside them, the aspect kept; see ``target_size``).
    ``tile`` bounds memory (input pixels per tile side); the result does not depend on it.
    ``metadata``: what of the photo's EXIF and XMP the result carries, one of ``imaging.METADATA_CHOICES``.
    Fully transparent pixels' colour is extended from the visible edge first (``visible_colour``).
    """
    check_size(scale, width, height)
    check_metadata(metadata)
    _check_tile(tile)
    if isinstance(model, ImageModel):
        if denoise is not None or mild is not None:
            raise ValueError("give denoise and mild to load_upscaler, which loaded this model")
        network = model
    else:
        network = load_upscaler(model, denoise=denoise, mild=mild, device=device)
    picture = read_image(image, max_pixels=max_pixels)
    _, size = target_size(picture.size, scale=scale, width=width, height=height)
    result = upscale_picture(picture, network, size, tile=tile, progress=progress)
    return Picture(result.color, result.alpha, result.bit_depth, picture.metadata.choose(metadata))


def upscale_picture(picture: Picture, network: ImageModel, size: tuple[int, int], *, tile: int = DEFAULT_TILE,
                    progress: Callable[[int, int], None] | None = None) -> Picture:
    """``upscale`` of a decoded ``picture`` with a loaded model, to exactly ``size`` = (width, height) (the video verbs
    need even sides); its metadata is kept as it is."""
    _check_tile(tile)
    _check_output(size, picture.size, network.scale)
    color = network.restore(visible_colour(picture), tile=tile, progress=progress)
    if picture.grayscale:
        color = color.mean(dim=1, keepdim=True)
    if color.shape[-1] != size[0] or color.shape[-2] != size[1]:
        color = resize(color, size, network.resample)
    alpha = None if picture.alpha is None else resize(picture.alpha, size).clamp(0, 1)
    return Picture(color.clamp(0, 1), alpha, picture.bit_depth, picture.metadata)


def _check_output(size: tuple[int, int], source: tuple[int, int], model_scale: int) -> None:
    """Refuse a result (or the model's own, before resizing) over MAX_OUTPUT_PIXELS before computing it."""
    width, height = max(size[0], source[0] * model_scale), max(size[1], source[1] * model_scale)
    if width * height > MAX_OUTPUT_PIXELS:
        raise ValueError(
            f"the result would be {width}x{height} = {width * height / 1e6:.0f} megapixels; the limit is "
            f"{MAX_OUTPUT_PIXELS / 1e6:.0f} — choose a smaller scale or crop the photo"
        )


def denoise_strength(model: str, mild: str | None = None) -> float | None:
    """The default denoise strength of an upscaling model, or None if it has no denoise twin (bicubic, srgan-x4); a
    ValueError for a name that is no model."""
    if model == BICUBIC.name:
        return None
    return photo_models.default_denoise(model, mild)


def load_derainer(model: str = DERAIN_MODELS[0], *, device="cpu") -> ImageModel:
    """Deraining model ``model`` loaded once (an ``ImageModel``), to pass to ``derain`` for many photos: ours, or another
    project's 1x restoration checkpoint of an architecture that derains (``foreign.DERAINERS``: KBNet, Restormer,
    MPRNet; a file or an ``hf://`` Hub file; Restormer and MPRNet need ``spandrel-extra-arches``)."""
    return photo_models.cached(model, families=DERAIN_FAMILIES, device=str(device), allow_foreign=True, purpose="derain",
                               needs=f"one of: {', '.join(DERAIN_MODELS)}")


def derain(
    image,
    *,
    model: str | ImageModel = DERAIN_MODELS[0],
    strength: float = 1.0,
    tile: int | None = None,
    device="cpu",
    progress: Callable[[int, int], None] | None = None,
    max_pixels: int = MAX_DERAIN_PIXELS,
    metadata: str = "keep",
) -> Picture:
    """Remove rain streaks from a photo; returns a ``Picture`` of the same size and kind.

    ``image``: a path, bytes, PIL image or numpy array (grayscale, RGBA with alpha kept as is,
    16-bit kept 16-bit). ``model``: one of ``catalog.DERAIN`` (the first is the default), any deraining checkpoint
    name, folder or Hub repo id of this project, another project's deraining checkpoint (``load_derainer``), or a
    model ``load_derainer`` loaded.
    ``strength`` (0..1): the share of the predicted rain layer (photo minus derained) that is taken
    away; 1 removes it all, 0.5 half of it (a little rain kept where the full result looks too smooth).
    ``tile`` bounds memory (pixels per tile side, any size; None: ``DERAIN_TILE``, or the model's own, see
    ``foreign.RESTORATION_TILE``). Ours get the network's whole receptive field as context at every tile, starting on
    its pooling grid, so their result does not depend on it; other projects' (which see their whole input) run whole
    up to one window and with ``foreign.RESTORATION_OVERLAP`` pixels of overlap beyond it.
    ``metadata``: what of the photo's EXIF and XMP the result carries, one of ``imaging.METADATA_CHOICES``.
    """
    check_metadata(metadata)
    check_derain_options(strength, tile)
    network = model if isinstance(model, ImageModel) else load_derainer(model, device=device)
    tile = tile or network.tile or DERAIN_TILE
    picture = read_image(image, max_pixels=max_pixels)
    rgb = visible_colour(picture)
    color = network.restore(rgb, tile=tile, progress=progress)
    if strength != 1.0:
        color = rgb + strength * (color - rgb)  # photo minus a share of its rain layer
    if picture.grayscale:
        color = color.mean(dim=1, keepdim=True)
    return Picture(color.clamp(0, 1), picture.alpha, picture.bit_depth, picture.metadata.choose(metadata))


# --- many files: a folder tree in, the same tree out ---------------------------------------------


@dataclass(frozen=True)
class FileResult:
    """What became of one input file: ``status`` is "done", "skipped" (its result was there already) or "failed";
    ``detail`` is the result's size and any conversion the format asked for, or the error."""

    source: Path
    target: Path
    status: str
    detail: str = ""


def plan_outputs(inputs, out, format: str = "png", *, suffixes: tuple[str, ...] = IMAGE_SUFFIXES,
                 extension: str | None = None) -> list[tuple[Path, Path]]:
    """(input file, result file) for every photo in ``inputs``: a file goes to ``out/<stem>.<ext>``; a folder is walked
    recursively (hidden files and folders, and ``out`` itself, left out) and its photos go to the same layout under
    ``out``. Inputs that would share a result file are told apart by their suffix (``a-jpg.png``, ``a-png.png``).
    ``suffixes`` and ``extension`` (".mp4"): the files a folder walk takes, and the results' suffix, for videos."""
    suffix = extension or OUTPUT_FORMATS[check_format(format)]
    out = Path(out)
    pairs = []
    for given in map(Path, inputs):
        if not given.is_dir():
            pairs.append((given, out / f"{given.stem}{suffix}"))
            continue
        for path in sorted(given.rglob("*")):
            relative = path.relative_to(given)
            if (path.is_file() and path.suffix.lower() in suffixes and not any(part.startswith(".") for part in relative.parts)
                    and not path.resolve().is_relative_to(out.resolve())):
                pairs.append((path, out / relative.with_suffix(suffix)))
    shared = Counter(target for _, target in pairs)
    return [(source, target.with_name(f"{source.stem}-{source.suffix.lstrip('.').lower()}{suffix}") if shared[target] > 1 else target)
            for source, target in pairs]


def restore_files(inputs, out, restore: Callable[[Path], Picture], *, format: str = "png", quality: int | None = None,
                  lossless: bool = False, skip_existing: bool = False) -> Iterator[FileResult]:
    """Run ``restore(path) -> Picture`` (an ``upscale`` or ``derain`` with its options) on every photo of ``inputs``
    (files and folder trees, see ``plan_outputs``) and write each result as ``format``; yields a ``FileResult`` per
    photo as it is done. A file that fails is reported and the rest are done. ``skip_existing``: a result file that is
    there already is kept (results are written whole or not at all, so a stopped run continues where it was)."""
    check_quality(check_format(format), quality, lossless)
    for source, target in plan_outputs(inputs, out, format):
        if skip_existing and target.exists():
            yield FileResult(source, target, "skipped", "already there")
            continue
        try:
            result = restore(source)
            notes = result.conversions(format)
            result.save(target, format=format, quality=quality, lossless=lossless)
        except ValueError as err:
            yield FileResult(source, target, "failed", str(err))
            continue
        yield FileResult(source, target, "done", "; ".join([f"{result.size[0]}x{result.size[1]}", *notes]))
