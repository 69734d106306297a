"""Loading and saving models: local folders first (``checkpoints/<name>``), the Hugging Face Hub by repo id.

A model folder holds ``config.json`` (the architecture, plus ``"family"``), ``model.safetensors``
and a model card ``README.md``; a photo model with a denoise control also ``mild.safetensors``, its
twin trained on noise-free degradations (``load(..., denoise=)`` blends the two). Weights are read
with safetensors only (never pickle) and strictly: every tensor must match. Names resolve in this order:

1. an existing folder path;
2. ``<checkpoints_dir>/<name>`` (default ``checkpoints/`` beside the package);
3. a Hub repo id ``org/name``, optionally pinned: ``org/name@<revision>``.

A name is resolved once (``resolve``): where its files are and its config.json, read once; ``load``
takes the name or what ``resolve`` made of it. Photo models are run through ``photo_models``.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import safetensors.torch

from .models import family_of, get_family
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


@dataclass(frozen=True)
class Resolved:
    """A model name resolved once: its raw config.json (with its ``family``) and where its files are (``where``:
    ``weights.fetch``'s root and cache_dir), so that nothing after it reads the config again."""

    name: str
    config: dict = field(repr=False)
    where: dict = field(repr=False)

    @property
    def family(self) -> str:
        return family_in(self.name, self.config, None)


def resolve(name: str, *, checkpoints_dir=None, cache_dir=None) -> Resolved:
    """Model ``name`` (a folder, a shipped model's name or a Hub repo id) resolved: its config.json read once."""
    where = _where(checkpoints_dir, cache_dir)
    return Resolved(name, read_config(name, **where), where)


def load_config(name: str, *, checkpoints_dir=None, cache_dir=None) -> dict:
    """The raw ``config.json`` of a model, including its ``family``."""
    return resolve(name, checkpoints_dir=checkpoints_dir, cache_dir=cache_dir).config


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
    name: str | Resolved, *, device="cpu", checkpoints_dir=None, cache_dir=None, family: str | tuple[str, ...] | None = None,
    denoise: float | None = None,
):
    """Load a model by name, folder or Hub repo id (or as ``resolve`` found it), in eval mode on ``device``.

    ``family`` (optional: one name or several) is checked against the checkpoint's own before any
    weights are read, so a CGAN cannot be loaded where a DCGAN is expected. ``denoise`` (0..1), for
    a model with a denoise control: every weight is ``(1 - denoise) * mild + denoise * model``
    (Real-ESRGAN's denoise strength), 0 keeping noise and grain, 1 removing them.
    """
    resolved = name if isinstance(name, Resolved) else resolve(name, checkpoints_dir=checkpoints_dir, cache_dir=cache_dir)
    name, raw = resolved.name, resolved.config
    module = get_family(family_in(name, raw, family))
    model = module.network(module.config_from(raw))
    read_weights(model, name, WEIGHTS_FILE, **resolved.where)
    if denoise is not None:
        check_denoise(denoise)
        if raw.get("default_denoise") is None:
            raise ValueError(f"model {name!r} has no denoise control (no mild twin); leave denoise unset")
        mild = module.network(model.config)
        read_weights(mild, name, MILD_WEIGHTS_FILE, **resolved.where)
        model.load_state_dict(blend_state(mild, model, denoise))
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


def blend_state(first, second, weight: float) -> dict:
    """The state dict ``(1 - weight) * first + weight * second`` (integer buffers: ``first``'s)."""
    other = second.state_dict()
    return {k: v.lerp(other[k], weight) if v.is_floating_point() else v for k, v in first.state_dict().items()}


def blend(first, second, weight: float):
    """A new network of ``first``'s class and config, in eval mode, with every weight
    ``(1 - weight) * first + weight * second`` (two networks of one architecture)."""
    if not same_architecture(first, second):
        raise ValueError("only networks of the same architecture can be blended")
    out = copy.deepcopy(first).eval()
    out.load_state_dict(blend_state(first, second, weight))
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
