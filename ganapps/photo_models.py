"""A photo model loaded once, ready to run on photos: this project's upscalers and derainers, another project's
upscaler (``foreign.py``: a checkpoint file, an ``hf://`` Hub file or a ``catalog.HUB_UPSCALE`` name), or bicubic
interpolation, alike.

A name is resolved once (``hub.resolve``: where the model is, its config.json read once, its family; or the foreign
files it names) into an ``ImageModel`` that carries all that inference needs: the network, its scale, the overlap a
tile needs, its tiling grid, the denoise blend with its twin. ``cached`` keeps loaded models for serving, so a Hub
model is fetched once, not on every request. The photo verbs (``photos``) take an ``ImageModel`` or a name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import catalog, foreign, hub
from .models import get_family
from .tiling import tiled_apply
from .weights import family_in

__all__ = ["ImageModel", "BICUBIC", "FOREIGN_DEFAULT_DENOISE", "is_foreign", "default_denoise", "image_model", "cached"]

FOREIGN_DEFAULT_DENOISE = 0.5  # a foreign pair's default strength: Real-ESRGAN's --denoise_strength


@dataclass(frozen=True)
class ImageModel:
    """An image-to-image model loaded to run on photos, resolved from its name once.

    ``run(piece, **context)``: (1, 3, h, w) in [0, 1] on ``device`` -> (1, 3, scale*h, scale*w) in [0, 1];
    ``overlap``: the context (input pixels) a tile needs so that tiling changes nothing; ``grid``: tiles start
    on its multiples; ``context(photo)``: computed once on the whole photo and passed to every tile.
    ``family``: the ganapps family, None for another project's model or interpolation; ``foreign``: another
    project's; ``resample``: the filter that takes the model's own scale to the size asked; ``denoise``: the
    strength of its denoise blend; ``tile``: the tile it runs with unless told otherwise.
    """

    name: str
    network: nn.Module | None
    run: Callable[..., torch.Tensor]
    scale: int
    overlap: int
    grid: int = 1
    context: Callable[[torch.Tensor], dict] | None = None
    device: str = "cpu"
    description: str = ""
    family: str | None = None
    foreign: bool = False
    resample: str = "lanczos"
    denoise: float | None = None  # the strength its denoise twin was blended at; None: it has none
    tile: int | None = None  # the tile it runs with unless told otherwise (bounded memory); None: the verb's default

    def restore(self, photo: torch.Tensor, *, tile: int, progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
        """``photo`` (1, 3, H, W) in [0, 1] on the CPU, tile by tile in bounded memory -> (1, 3, scale*H, scale*W)."""
        context = self.context(photo) if self.context is not None else {}

        def run(piece: torch.Tensor) -> torch.Tensor:
            piece = piece.to(self.device).contiguous(memory_format=torch.channels_last)
            return self.run(piece, **context).float().cpu()

        with torch.inference_mode():
            return tiled_apply(run, photo, scale=self.scale, tile=tile, overlap=self.overlap, align=self.grid, progress=progress)


# Bicubic interpolation as a photo model: the identity at scale 1, then the resize to the size asked.
BICUBIC = ImageModel("bicubic", None, lambda piece: piece, 1, 0, description="bicubic interpolation", resample="bicubic")


def is_foreign(name: str) -> bool:
    """Whether ``name`` is another project's upscaler: a checkpoint file, an ``hf://`` Hub file or a Hub catalog name."""
    return name in catalog.HUB_UPSCALE or foreign.names_a_file(name)


def _foreign_files(name: str, mild: str | None) -> tuple[str, str | None]:
    """A catalog Hub upscaler's files (its own twin unless ``mild`` names another), or ``name`` and ``mild`` as given."""
    entry = catalog.HUB_UPSCALE.get(name)
    return (entry.file, mild or entry.mild) if entry is not None else (name, mild)


def _default(name: str, mild: str | None, resolved: hub.Resolved | None) -> float | None:
    if resolved is None:  # another project's: a pair has Real-ESRGAN's default
        return FOREIGN_DEFAULT_DENOISE if _foreign_files(name, mild)[1] is not None else None
    if mild is not None:
        raise ValueError(f"{name!r} is a ganapps model; its denoise twin is in its folder (mild= is for foreign checkpoints)")
    return resolved.config.get("default_denoise")


def default_denoise(name: str, mild: str | None = None, **where) -> float | None:
    """The denoise strength model ``name`` uses unless told otherwise, or None if it has no denoise twin."""
    return _default(name, mild, None if is_foreign(name) else hub.resolve(name, **where))


def image_model(
    name: str, *, families: tuple[str, ...], device="cpu", denoise: float | None = None, mild: str | None = None,
    allow_foreign: bool = False, purpose: str = "upscale", needs: str | None = None, checkpoints_dir=None, cache_dir=None,
) -> ImageModel:
    """Load a photo model by name as an ``ImageModel`` on ``device``.

    ``families``: the ganapps families accepted (checked before any weights are read; ``needs`` says what is needed
    when the model is not one of them). ``allow_foreign``: also another project's model, for ``purpose`` ("upscale" or
    "derain", ``foreign.read_model``).
    ``denoise`` (0..1), for a model with a denoise twin: every weight is ``(1 - denoise) * twin + denoise * model``;
    None: the model's default (``default_denoise``). ``mild``: a foreign model's twin (a catalog entry has its own).
    """
    if is_foreign(name) and not allow_foreign:
        raise ValueError(f"{name}: another project's checkpoint; this needs {needs or 'a ' + ' or '.join(families) + ' model'}")
    if purpose != "upscale" and name in catalog.HUB_UPSCALE:  # known without a download
        entry = catalog.HUB_UPSCALE[name]
        raise ValueError(f"{name} is an upscaler ({entry.architecture} x{entry.scale}), not a deraining model: upscale takes it")
    resolved = None if is_foreign(name) else hub.resolve(name, checkpoints_dir=checkpoints_dir, cache_dir=cache_dir)
    if resolved is not None:
        family_in(name, resolved.config, families, needs)
    default = _default(name, mild, resolved)
    if denoise is not None:
        hub.check_denoise(denoise)
        if default is None:
            raise ValueError(f"{name} has no denoise control (no denoise twin); leave denoise unset")
    strength = default if denoise is None else denoise
    if resolved is None:
        return _load_foreign(name, mild, strength, device, cache_dir, purpose)
    family = get_family(resolved.family)
    network = hub.load(resolved, device=device, denoise=strength)
    restorer = family.restorer
    return ImageModel(
        name, network, lambda piece, **context: restorer.restore(network, piece, device=device, **context),
        restorer.scale, network.config.receptive_radius, restorer.grid, restorer.context, str(device), family.name,
        family=family.name, denoise=strength,
    )


def _load_foreign(name: str, mild: str | None, strength: float | None, device, cache_dir, purpose: str) -> ImageModel:
    file, mild = _foreign_files(name, mild)
    descriptor = foreign.read_model(file, cache_dir=cache_dir, purpose=purpose)
    if mild is not None:
        twin = foreign.read_model(mild, cache_dir=cache_dir, purpose=purpose)
        if not hub.same_architecture(twin.model, descriptor.model):
            raise ValueError(f"{name} ({foreign.describe(descriptor)}) and its denoise twin {mild} ({foreign.describe(twin)}) "
                             "differ in architecture; only the same network can be blended")
        descriptor.model.load_state_dict(hub.blend_state(twin.model, descriptor.model, strength))
    descriptor = descriptor.to(torch.device(device))
    descriptor.model.to(memory_format=torch.channels_last)
    return ImageModel(
        name, descriptor.model, descriptor, descriptor.scale, foreign.overlap(descriptor),
        descriptor.size_requirements.multiple_of, None, str(device), foreign.describe(descriptor), foreign=True,
        denoise=strength if mild is not None else None, tile=foreign.tile(descriptor),
    )


def cached(name: str, *, families: tuple[str, ...], device="cpu", denoise: float | None = None, mild: str | None = None,
           allow_foreign: bool = False, purpose: str = "upscale", needs: str | None = None) -> ImageModel:
    """``image_model`` for serving: loaded once per (name, device, denoise, twin, what is accepted) and shared read-only; the
    name is not looked up again (a Hub model is not fetched on every request). A local checkpoint file is loaded again
    when it changes on disk."""
    stamp = tuple(_file_stamp(n) for n in (name, mild))
    return _load_once(name, families, str(device), denoise, mild, allow_foreign, purpose, needs, stamp)


def _file_stamp(name: str | None):
    path = Path(name) if name and foreign.names_a_file(name) and not name.startswith(foreign.HUB_PREFIX) else None
    if path is None or not path.is_file():
        return None
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=8)
def _load_once(name, families, device, denoise, mild, allow_foreign, purpose, needs, stamp):
    return image_model(name, families=families, device=device, denoise=denoise, mild=mild, allow_foreign=allow_foreign,
                       purpose=purpose, needs=needs)
