"""A model's files, and the rules for reading them, shared by ``hub.load`` and every network's
``from_pretrained``: where the files are (a folder, or a Hugging Face Hub repo id ``org/name``
optionally pinned as ``org/name@<revision>``), which family ``config.json`` names, and weights read
with safetensors only (never pickle) and strictly (every tensor present and of its shape)."""

from __future__ import annotations

import json
from pathlib import Path

import safetensors
import safetensors.torch

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "MILD_WEIGHTS_FILE", "CARD_FILE", "model_names", "fetch", "read_config",
           "family_in", "read_weights"]

CONFIG_FILE, WEIGHTS_FILE, CARD_FILE = "config.json", "model.safetensors", "README.md"
MILD_WEIGHTS_FILE = "mild.safetensors"  # the denoise twin: the same network trained to keep noise and grain


def model_names(root: str | Path) -> list[str]:
    """The model folders (those with a config.json) in ``root``."""
    root = Path(root)
    return sorted(p.name for p in root.glob("*") if (p / CONFIG_FILE).is_file()) if root.is_dir() else []


def fetch(name: str, filename: str, *, root: str | Path | None = None, cache_dir=None) -> Path:
    """Local path of ``filename`` of model ``name``: a folder, ``<root>/<name>``, or a Hub repo id (downloaded)."""
    if Path(name).is_dir():
        path = Path(name) / filename
    elif root is not None and (Path(root) / name).is_dir():
        path = Path(root) / name / filename
    elif "/" in name and not name.startswith((".", "/")):
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import (
            EntryNotFoundError,
            HFValidationError,
            LocalEntryNotFoundError,
            RepositoryNotFoundError,
        )

        repo_id, _, revision = name.partition("@")
        try:
            return Path(hf_hub_download(repo_id, filename, revision=revision or None, cache_dir=cache_dir))
        except HFValidationError:
            raise ValueError(f"unknown model {name!r}: no such folder, and not a Hub repo id (org/name[@revision])") from None
        except (EntryNotFoundError, RepositoryNotFoundError, LocalEntryNotFoundError) as err:
            raise ValueError(f"cannot get {filename} of {name!r} from the Hugging Face Hub: {err}") from None
    else:
        names = model_names(root) if root is not None else []
        raise ValueError(
            f"unknown model {name!r}; available: {', '.join(names) or '(none)'}"
            " — or give a folder, or a Hub repo id such as org/name[@revision]"
        )
    if not path.is_file():
        raise ValueError(f"model {name!r} has no {filename} (looked at {path})")
    return path


def read_config(name: str, **where) -> dict:
    """The raw ``config.json`` of a model, including its ``family`` (``where``: ``fetch``'s root and cache_dir)."""
    return json.loads(fetch(name, CONFIG_FILE, **where).read_text())


def family_in(name: str, raw: dict, families: str | tuple[str, ...] | None, needs: str | None = None) -> str:
    """The family a raw config names, if it is (one of) ``families`` (None: any); a ValueError otherwise."""
    found = raw.get("family")
    if found is None:
        raise ValueError(f"model {name!r} has no 'family' in its config.json")
    families = (families,) if isinstance(families, str) else families
    if families is not None and found not in families:
        raise ValueError(f"model {name!r} is a {found} model; this needs {needs or 'a ' + ' or '.join(families) + ' model'}")
    return found


def read_weights(model, name: str, filename: str = WEIGHTS_FILE, **where) -> None:
    """Fill ``model`` from the safetensors file ``filename`` of model ``name``, strictly."""
    path = fetch(name, filename, **where)
    try:
        missing, unexpected = safetensors.torch.load_model(model, str(path), strict=False)
    except RuntimeError as err:  # a tensor of the wrong shape
        raise ValueError(f"weights of {name!r} do not match its config: {err}") from None
    except safetensors.SafetensorError as err:  # a truncated or damaged file
        raise ValueError(f"weights of {name!r} cannot be read ({path}): {err}") from None
    if missing or unexpected:
        raise ValueError(
            f"weights of {name!r} do not match its config: missing {sorted(missing)}, unexpected {sorted(unexpected)}"
        )
