"""Loading and saving models: local folders first (``checkpoints/<name>``), the Hugging Face Hub by repo id.

A model folder holds ``config.json`` (the architecture, plus ``"family"``), ``model.safetensors``
and a model card ``README.md``; a photo model with a denoise control also ``mild.safetensors``, its
twin trained on noise-free degradations (``load(..., denoise=)`` blends the two). Weights are read
with safetensors only (never pickle) and strictly: every tensor must match. Names resolve in this order:

1. an existing folder path;
2. ``<checkpoints_dir>/<name>`` (default ``checkpoints/`` beside the package);
3. a Hub repo id ``org/name``, optionally pinned: ``org/name@<revision>``.

Photo models are also loaded as ``ImageModel``s, ready to run on a photo tile by tile: this project's
own (by the names above) and other projects' upscalers (a checkpoint file, an ``hf://`` Hub file or a
``catalog.HUB_UPSCALE`` name; ``foreign.py``) alike.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import safetensors.torch
import torch
from torch import nn

from . import catalog, foreign
from .models import family_of, get_family
from .tiling import tiled_apply
from .weights import (
    CARD_FILE,
    CONFIG_FILE,
    MILD_WEIGHTS_FILE,
    WEIGHTS_FILE,
    family_in,
    fetch,
    model_names,
    read_config,
    read_weights,
)

log = logging.getLogger(__name__)


def _shipped_checkpoints() -> Path:
    """The shipped models: ``checkpoints/`` beside the package in a clone, inside it once installed (pyproject.toml)."""
    package = Path(__file__).resolve().parent
    installed = package / "checkpoints"
    return installed if installed.is_dir() else package.parent / "checkpoints"


CHECKPOINTS = _shipped_checkpoints()


def available(checkpoints_dir: str | Path | None = None) -> list[str]:
    """Names of the models in the local checkpoints folder."""
    return model_names(checkpoints_dir or CHECKPOINTS)


def _where(checkpoints_dir, cache_dir) -> dict:
    return {"root": checkpoints_dir or CHECKPOINTS, "cache_dir": cache_dir}


def load_config(name: str, *, checkpoints_dir=None, cache_dir=None) -> dict:
    """The raw ``config.json`` of a model, including its ``family``."""
    return read_config(name, **_where(checkpoints_dir, cache_dir))


def check_family(name: str, families: str | tuple[str, ...], *, needs: str | None = None, **fetch_options) -> str:
    """The family written in model ``name``'s config.json, if it is (one of) ``families``.

    Otherwise a ValueError saying what the model is and what is needed (``needs``, e.g. the model
    names a tab offers; by default the families). Only config.json is read, no weights.
    """
    return family_in(name, load_config(name, **fetch_options), families, needs)


def has_denoise(name: str, **fetch_options) -> bool:
    """Whether model ``name`` has a denoise control (its config names a default strength and it ships a mild twin)."""
    return load_config(name, **fetch_options).get("default_denoise") is not None


def load(
    name: str, *, device="cpu", checkpoints_dir=None, cache_dir=None, family: str | tuple[str, ...] | None = None,
    denoise: float | None = None,
):
    """Load a model by name, folder or Hub repo id, in eval mode on ``device``.

    ``family`` (optional: one name or several) is checked against the checkpoint's own before any
    weights are read, so a CGAN cannot be loaded where a DCGAN is expected. ``denoise`` (0..1), for
    a model with a denoise control: every weight is ``(1 - denoise) * mild + denoise * model``
    (Real-ESRGAN's denoise strength), 0 keeping noise and grain, 1 removing them.
    """
    raw = load_config(name, checkpoints_dir=checkpoints_dir, cache_dir=cache_dir)
    found = family_in(name, raw, family)
    module = get_family(found)
    model = module.network(module.config_from(raw))
    read_weights(model, name, WEIGHTS_FILE, **_where(checkpoints_dir, cache_dir))
    if denoise is not None:
        check_denoise(denoise)
        if raw.get("default_denoise") is None:
            raise ValueError(f"model {name!r} has no denoise control (no mild twin); leave denoise unset")
        mild = module.network(model.config)
        read_weights(mild, name, MILD_WEIGHTS_FILE, **_where(checkpoints_dir, cache_dir))
        model.load_state_dict(_blend(mild, model, denoise))
    return model.to(device).eval().requires_grad_(False)


def verify(name: str, **fetch_options) -> None:
    """Load every weight file of a model strictly (its denoise twin too); a ValueError says what is wrong."""
    load(name, denoise=0.0 if has_denoise(name, **fetch_options) else None, **fetch_options)


def check_denoise(denoise) -> None:
    if isinstance(denoise, bool) or not isinstance(denoise, (int, float)) or not 0.0 <= denoise <= 1.0:
        raise ValueError(f"denoise must be a strength in 0..1 (0 keeps noise and grain, 1 removes them), got {denoise!r}")


def same_architecture(first, second) -> bool:
    """Whether two networks are one architecture: the same class with the same weights' names and shapes
    (foreign networks have no config to compare; ours may differ in learned facts, e.g. InfoGAN's calibration)."""
    shapes = [{name: value.shape for name, value in network.state_dict().items()} for network in (first, second)]
    return type(first) is type(second) and shapes[0] == shapes[1]


def _blend(first, second, weight: float) -> dict:
    """The state dict ``(1 - weight) * first + weight * second`` (integer buffers: ``first``'s)."""
    other = second.state_dict()
    return {k: v.lerp(other[k], weight) if v.is_floating_point() else v for k, v in first.state_dict().items()}


def blend(first, second, weight: float):
    """A new network of ``first``'s class and config, in eval mode, with every weight
    ``(1 - weight) * first + weight * second`` (two networks of one architecture)."""
    if not same_architecture(first, second):
        raise ValueError("only networks of the same architecture can be blended")
    out = copy.deepcopy(first).eval()
    out.load_state_dict(_blend(first, second, weight))
    return out


def load_cached(name: str, device: str = "cpu", family: str | tuple[str, ...] | None = None, denoise: float | None = None):
    """``load`` for serving: loaded once per (name, device, denoise) and shared read-only between requests.

    ``family`` is checked on every call (config.json only), so each model is cached once whatever asks for it.
    """
    if family is not None:
        check_family(name, family)
    return _load_once(name, device, denoise)


@functools.lru_cache(maxsize=16)
def _load_once(name: str, device: str, denoise: float | None):
    return load(name, device=device, denoise=denoise)


FOREIGN_DEFAULT_DENOISE = 0.5  # a foreign pair's default strength: Real-ESRGAN's --denoise_strength


@dataclass(frozen=True)
class ImageModel:
    """An image-to-image model loaded to run on photos, this project's own or another project's: the network and
    everything inference needs, resolved from its name once.

    ``run(piece, **context)``: (1, 3, h, w) in [0, 1] on ``device`` -> (1, 3, scale*h, scale*w) in [0, 1];
    ``overlap``: the context (input pixels) a tile needs so that tiling changes nothing; ``grid``: tiles start
    on its multiples; ``context(photo)``: computed once on the whole photo and passed to every tile.
    """

    name: str
    network: nn.Module
    run: Callable[..., torch.Tensor]
    scale: int
    overlap: int
    grid: int = 1
    context: Callable[[torch.Tensor], dict] | None = None
    device: str = "cpu"
    description: str = ""

    def restore(self, photo: torch.Tensor, *, tile: int, progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
        """``photo`` (1, 3, H, W) in [0, 1] on the CPU, tile by tile in bounded memory -> (1, 3, scale*H, scale*W)."""
        context = self.context(photo) if self.context is not None else {}

        def run(piece: torch.Tensor) -> torch.Tensor:
            piece = piece.to(self.device).contiguous(memory_format=torch.channels_last)
            return self.run(piece, **context).float().cpu()

        with torch.inference_mode():
            return tiled_apply(run, photo, scale=self.scale, tile=tile, overlap=self.overlap, align=self.grid, progress=progress)


def _foreign_names(name: str, mild: str | None) -> tuple[str, str | None]:
    """A catalog Hub upscaler's files (its own twin unless ``mild`` names another), or ``name`` and ``mild`` as given."""
    entry = catalog.HUB_UPSCALE.get(name)
    return (entry.file, mild or entry.mild) if entry is not None else (name, mild)


def is_foreign(name: str) -> bool:
    """Whether ``name`` is another project's upscaler: a checkpoint file, an ``hf://`` Hub file or a Hub catalog name."""
    return name in catalog.HUB_UPSCALE or foreign.is_foreign(name)


def default_denoise(name: str, mild: str | None = None, **fetch_options) -> float | None:
    """The denoise strength model ``name`` uses unless told otherwise, or None if it has no denoise twin."""
    if is_foreign(name):
        return FOREIGN_DEFAULT_DENOISE if _foreign_names(name, mild)[1] is not None else None
    if mild is not None:
        raise ValueError(f"{name!r} is a ganapps model; its denoise twin is in its folder (mild= is for foreign checkpoints)")
    return load_config(name, **fetch_options).get("default_denoise")


def load_image_model(
    name: str, *, families: tuple[str, ...], device="cpu", denoise: float | None = None, mild: str | None = None,
    allow_foreign: bool = False, needs: str | None = None, checkpoints_dir=None, cache_dir=None,
) -> ImageModel:
    """Load a photo model by name as an ``ImageModel`` on ``device``.

    ``families``: the ganapps families accepted (checked before any weights are read; ``needs`` says what is needed
    when the model is not one of them). ``allow_foreign``: also another project's upscaler (a checkpoint file, an
    ``hf://`` file or a ``catalog.HUB_UPSCALE`` name).
    ``denoise`` (0..1), for a model with a denoise twin: every weight is ``(1 - denoise) * twin + denoise * model``;
    None: the model's default (``default_denoise``). ``mild``: a foreign model's twin (a catalog entry has its own).
    """
    if is_foreign(name) and not allow_foreign:
        raise ValueError(f"{name}: other projects' checkpoints are loaded as upscalers only; this needs "
                         f"{needs or 'a ' + ' or '.join(families) + ' model'}")
    default = default_denoise(name, mild, checkpoints_dir=checkpoints_dir, cache_dir=cache_dir)
    if denoise is not None:
        check_denoise(denoise)
        if default is None:
            raise ValueError(f"{name} has no denoise control (no denoise twin); leave denoise unset")
    strength = default if denoise is None else denoise
    if is_foreign(name):
        return _load_foreign(name, mild, strength, device, cache_dir)
    family = get_family(check_family(name, families, needs=needs, checkpoints_dir=checkpoints_dir, cache_dir=cache_dir))
    network = load(name, device=device, denoise=strength, checkpoints_dir=checkpoints_dir, cache_dir=cache_dir)
    restorer = family.restorer
    return ImageModel(
        name, network, lambda piece, **context: restorer.restore(network, piece, device=device, **context),
        restorer.scale, network.config.receptive_radius, restorer.grid, restorer.context, str(device), family.name,
    )


def _load_foreign(name: str, mild: str | None, strength: float | None, device, cache_dir) -> ImageModel:
    file, mild = _foreign_names(name, mild)
    descriptor = foreign.load(file, cache_dir=cache_dir)
    if mild is not None:
        twin = foreign.load(mild, cache_dir=cache_dir)
        if not same_architecture(twin.model, descriptor.model):
            raise ValueError(f"{name} ({foreign.describe(descriptor)}) and its denoise twin {mild} ({foreign.describe(twin)}) "
                             "differ in architecture; only the same network can be blended")
        descriptor.model.load_state_dict(_blend(twin.model, descriptor.model, strength))
    descriptor = descriptor.to(torch.device(device))
    descriptor.model.to(memory_format=torch.channels_last)
    return ImageModel(
        name, descriptor.model, descriptor, descriptor.scale, foreign.overlap(descriptor),
        descriptor.size_requirements.multiple_of, None, str(device), foreign.describe(descriptor),
    )


def image_model_cached(name: str, *, families: tuple[str, ...], device="cpu", denoise: float | None = None,
                       mild: str | None = None, allow_foreign: bool = False, needs: str | None = None) -> ImageModel:
    """``load_image_model`` for serving: loaded once per (name, device, denoise, twin) and shared read-only.

    A ganapps model's family is checked on every call (config.json only; ``needs`` says what is needed when it is
    not one of ``families``); a local checkpoint file is loaded again when it changes on disk."""
    if not is_foreign(name):
        check_family(name, families, needs=needs)
    stamp = tuple(_file_stamp(n) for n in (name, mild))
    return _image_model_once(name, families, str(device), denoise, mild, allow_foreign, needs, stamp)


def _file_stamp(name: str | None):
    path = Path(name) if name and foreign.is_foreign(name) and not name.startswith(foreign.HUB_PREFIX) else None
    if path is None or not path.is_file():
        return None
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=8)
def _image_model_once(name, families, device, denoise, mild, allow_foreign, needs, stamp):
    return load_image_model(name, families=families, device=device, denoise=denoise, mild=mild, allow_foreign=allow_foreign,
                            needs=needs)


def save(model, directory: str | Path, *, card: str | None = None, mild=None, default_denoise: float | None = None) -> Path:
    """Write ``model`` as a model folder (config.json with its family, model.safetensors, README.md).

    ``mild``: its denoise twin, the same network trained on noise-free degradations, written as
    mild.safetensors; ``default_denoise`` (needed with it) is the strength ``photos.upscale`` uses
    unless told otherwise, written into config.json.

    The folder is built next to its destination and swapped in with renames, so a crash never
    leaves a half-written model where a good one was.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        unwrapped = getattr(model, "module", model)  # a DDP wrapper
        if card is not None:
            (staging / CARD_FILE).write_text(card)
        elif (directory / CARD_FILE).is_file():
            shutil.copy2(directory / CARD_FILE, staging / CARD_FILE)
        config = family_of(unwrapped).config_file(unwrapped.config)
        if (mild is None) != (default_denoise is None):
            raise ValueError("a denoise twin (mild) and its default strength (default_denoise) go together")
        if mild is not None:
            if not same_architecture(mild, unwrapped):
                raise ValueError("a denoise twin must be the same network with the same architecture")
            check_denoise(default_denoise)
            config["default_denoise"] = float(default_denoise)
        unwrapped.save_pretrained(staging, config=config)
        if mild is not None:
            safetensors.torch.save_model(mild, str(staging / MILD_WEIGHTS_FILE))
        old = directory.with_name(f".{directory.name}.old")
        if directory.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(directory, old)
        os.replace(staging, directory)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def interpolate(first: str, second: str, weight: float, **load_options):
    """Network interpolation (ESRGAN, Wang et al. 2018): every weight ``(1 - weight) * first + weight * second``.

    Two models of one architecture, e.g. a PSNR-trained network and its GAN fine-tune: the blend
    trades the GAN's texture for the PSNR model's calm, continuously, without retraining.
    Returns the blended network of ``first``'s class and config, in eval mode.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"interpolation weight must be in 0..1, got {weight}")
    a, b = load(first, **load_options), load(second, **load_options)
    if not same_architecture(a, b):
        raise ValueError(f"{first!r} and {second!r} differ in architecture; only the same network can be interpolated")
    return blend(a, b, weight)


def push(name: str, repo_id: str, *, revision: str | None = None, private: bool = False, token=None, checkpoints_dir=None) -> str:
    """Upload a local model folder (weights, config and model card) to a Hub repo; returns the commit URL."""
    from huggingface_hub import HfApi

    folder = fetch(name, CONFIG_FILE, **_where(checkpoints_dir, None)).parent
    verify(str(folder))  # refuse to publish something that does not load strictly
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    info = api.upload_folder(
        repo_id=repo_id,
        folder_path=folder,
        allow_patterns=[CONFIG_FILE, WEIGHTS_FILE, MILD_WEIGHTS_FILE, CARD_FILE],
        revision=revision,
        commit_message=f"Upload {folder.name} with ganapps",
    )
    return str(info)
