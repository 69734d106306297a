"""Upscalers that other projects trained (ESRGAN, Real-ESRGAN's compact models, SPAN, SwinIR, ...), loaded through
``spandrel`` without ever running code from the file.

A foreign checkpoint is named by a local file (``.pth``, ``.pt``, ``.ckpt`` or ``.safetensors``) or by a file in a
Hugging Face Hub repo, written as ``huggingface_hub.HfFileSystem`` writes the Hub's files::

    hf://<org>/<repo>/<path/in/repo>              hf://ai-forever/Real-ESRGAN/RealESRGAN_x4.pth
    hf://<org>/<repo>@<revision>/<path/in/repo>   pinned to a branch, tag or commit (a "/" in it written %2F)
    hf://datasets/<org>/<repo>/<path/in/repo>     a file in a dataset repo

The ``hf://`` prefix is what tells a Hub file from this project's own model repos, which are named ``org/name``.

Nothing in a file runs: safetensors files hold tensors only, and every other file is read by torch's
``weights_only`` unpickler, which builds tensors and plain containers (dicts, lists, tuples, numbers, strings) and
refuses any other object before building it — a pickle that would import or call anything is an error, and
TorchScript archives (programs) are refused. ``spandrel`` then finds the architecture, its scale and its
hyperparameters in the state dict (unwrapping ``params_ema`` / ``params`` / ``state_dict``).

Tiling: ``overlap`` is the context a tile needs for the tiled result to equal the whole-image one. For
architectures built of convolutions alone (ESRGAN's RRDB, Real-ESRGAN's compact SRVGG, SPAN) it is the receptive
radius, the convolutions' reach added up (``receptive_radius``); deep ones reach further than any influence they keep,
so the overlap is never more than ``EFFECTIVE_RADIUS`` pixels of the resolution the network's body runs at: the
distance beyond which Real-ESRGAN's release weights change no output by a tenth of a level of 255 (``bench/foreign.py``
measures the reach; docs/results.md shows its table). Other upscalers (attention windows) get that cap too.
The 1x restoration models ``derain`` takes (KBNet, Restormer, MPRNet) see their whole input (channel attention, the
global average pooling of channel attention), so no overlap makes their tiled result equal the whole one: they run
whole up to one window of ``RESTORATION_TILE`` (MPRNet: ``RESTORATION_TILES``) + 2 x ``RESTORATION_OVERLAP`` pixels a
side (their memory grows with the photo: a few gigabytes for a window), and beyond it in tiles with that overlap
(``bench/foreign_derain.py`` measures what a tile changes and the memory).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import torch
from torch import nn

__all__ = ["CHECKPOINT_SUFFIXES", "HUB_PREFIX", "HUB_FORM", "EFFECTIVE_RADIUS", "HubFile", "DERAINERS",
           "EXTRA_ARCHES", "URL_FORM", "url_file", "names_a_file", "parse_hub_file", "local_file", "read_state_dict", "read_model",
           "extra_arches", "licence", "receptive_radius", "overlap", "tile", "describe", "RESTORATION_OVERLAP", "RESTORATION_TILE",
           "RESTORATION_TILES"]

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt", ".safetensors")
HUB_PREFIX = "hf://"
HUB_FORM = "hf://<org>/<repo>[@<revision>]/<path/to/file>"
# spandrel's architectures whose only spatial operations are convolutions, nearest/bilinear resampling and pixel
# (un)shuffles, so that their convolutions' reach is their receptive radius
CONVOLUTIONAL = frozenset({"ESRGAN", "Compact", "SPAN"})
EFFECTIVE_RADIUS = 112  # input pixels: the reach bench/foreign.py measures (docs/results.md, "Reach")
RESTORATION_OVERLAP = 64  # input pixels of context at each tile's seams for a 1x model with global operations
RESTORATION_TILE = 256  # and the tile it runs with unless told otherwise: a 384-pixel window takes a few GB
# MPRNet's first two stages cut their input into quarters and halves, so a tile moves those cuts: it runs whole to a
# larger window, which its lighter memory allows (bench/foreign_derain.py)
RESTORATION_TILES = {"MPRNet": 512}
# The 1x restoration architectures ``derain`` takes: those whose authors published deraining weights (trained on
# Rain13K). Other restoration networks (NAFNet, SCUNet, ...) denoise or deblur, and would leave the rain.
DERAINERS = {"KBNet": "KBNet (Zhang et al. 2023)", "Restormer": "Restormer (Zamir et al. 2022)",
             "MPRNet": "MPRNet (Zamir et al. 2021)"}
EXTRA_ARCHES = "spandrel-extra-arches"  # Restormer, MPRNet and others, under their authors' non-commercial licences
PURPOSES = ("upscale", "derain")
_NOT_UPSCALERS = {
    "FaceSR": "a face restoration model (it restores aligned faces, not whole photos)",
    "Inpainting": "an inpainting model (it fills masked holes)",
    "Restoration": "a 1x restoration model (its output is the input's size)",
}


@dataclass(frozen=True)
class HubFile:
    """A file in a Hugging Face Hub repo: what ``hf_hub_download`` takes."""

    repo_id: str
    filename: str
    revision: str | None = None
    repo_type: str = "model"


def names_a_file(name: str) -> bool:
    """Whether ``name`` names another project's checkpoint (a Hub file, a pinned URL or a checkpoint file) rather than a
    ganapps model."""
    return name.startswith((HUB_PREFIX, *URL_PREFIXES)) or Path(name).suffix.lower() in CHECKPOINT_SUFFIXES


URL_PREFIXES = ("https://", "file://")
URL_FORM = "https://<host>/<path/to/file>#sha256=<the file's sha256>"
URL_CACHE = Path.home() / ".cache" / "ganapps" / "urls"  # downloaded URL files, each in a folder named by its sha256


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def url_file(name: str, *, cache_dir=None) -> Path:
    """The local copy of a checkpoint published at a URL (a GitHub release, say), pinned by its sha256 in the name:
    downloaded once into ``cache_dir`` (default ``URL_CACHE``), its hash checked on every use; a file whose hash is not
    the pinned one is refused (and not kept)."""
    url, _, pin = name.partition("#sha256=")
    if not re.fullmatch(r"[0-9a-f]{64}", pin.lower()):
        raise ValueError(f"{name}: a URL's file can change under the same address; pin it with its sha256: {URL_FORM}")
    pin = pin.lower()
    filename = unquote(url.rstrip("/").rsplit("/", 1)[-1])
    if Path(filename).suffix.lower() not in CHECKPOINT_SUFFIXES:
        raise ValueError(f"{name}: a checkpoint file ends in {', '.join(CHECKPOINT_SUFFIXES)}")
    target = Path(cache_dir or URL_CACHE) / pin / filename
    if target.is_file() and _sha256(target) == pin:
        return target
    import urllib.error
    import urllib.request

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{filename}.{os.getpid()}.partial")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
        found = _sha256(partial)
        if found != pin:
            raise ValueError(f"{name}: the file there has sha256 {found}, not the {pin} its name pins; refused")
        os.replace(partial, target)
    except (urllib.error.URLError, OSError) as err:
        raise ValueError(f"{name}: downloading it needs the network ({getattr(err, 'reason', err)}); connect and try again "
                         "— the shipped models work offline") from None
    finally:
        partial.unlink(missing_ok=True)
    return target


def parse_hub_file(name: str) -> HubFile:
    """``hf://[datasets/]<org>/<repo>[@<revision>]/<path>`` -> its ``HubFile``; a ValueError names the form."""
    rest = name.removeprefix(HUB_PREFIX)
    repo_type = "model"
    for prefix, kind in (("datasets/", "dataset"), ("models/", "model")):
        if rest.startswith(prefix):
            rest, repo_type = rest.removeprefix(prefix), kind
    parts = rest.split("/")
    if len(parts) < 3 or not all(parts):
        raise ValueError(f"{name!r} is not a Hub file; write {HUB_FORM}")
    repo, _, revision = parts[1].partition("@")
    filename = "/".join(parts[2:])
    if Path(filename).suffix.lower() not in CHECKPOINT_SUFFIXES:
        raise ValueError(f"{name!r}: a checkpoint file ends in {', '.join(CHECKPOINT_SUFFIXES)}")
    return HubFile(f"{parts[0]}/{repo}", filename, unquote(revision) or None, repo_type)


def local_file(name: str, *, cache_dir=None) -> Path:
    """The local path of checkpoint ``name``: the file itself, a Hub file from the Hugging Face cache (downloaded on
    first use, with a progress bar), or a pinned URL's file (``url_file``)."""
    if name.startswith(URL_PREFIXES):
        return url_file(name, cache_dir=cache_dir)
    if not name.startswith(HUB_PREFIX):
        path = Path(name)
        if not path.is_file():
            raise ValueError(f"no checkpoint file {name!r} (a local .pth/.pt/.ckpt/.safetensors file, or {HUB_FORM})")
        return path
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    hub_file = parse_hub_file(name)
    try:
        return Path(hf_hub_download(hub_file.repo_id, hub_file.filename, revision=hub_file.revision,
                                    repo_type=hub_file.repo_type, cache_dir=cache_dir))
    except LocalEntryNotFoundError:
        raise ValueError(
            f"{name}: {hub_file.filename} from the Hub repo {hub_file.repo_id} is not in the Hugging Face cache yet, "
            "and downloading it needs the network (huggingface.co); connect and try again — the shipped models work offline"
        ) from None
    except RevisionNotFoundError:
        raise ValueError(f"{name}: the Hub repo {hub_file.repo_id} has no revision {hub_file.revision!r}") from None
    except RepositoryNotFoundError:
        raise ValueError(f"{name}: no Hub repo {hub_file.repo_id} (or it is private or gated: log in with a token)") from None
    except EntryNotFoundError:
        raise ValueError(f"{name}: the Hub repo {hub_file.repo_id} has no file {hub_file.filename}") from None
    except HFValidationError as err:
        raise ValueError(f"{name!r} is not a valid Hub file ({err}); write {HUB_FORM}") from None


def read_state_dict(path: Path, name: str) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file, never running code; wrappers (``params_ema``, ``params``, ...) taken off."""
    import safetensors
    import safetensors.torch
    import spandrel

    try:
        if path.suffix.lower() == ".safetensors":
            raw = safetensors.torch.load_file(str(path))
        else:
            raw = torch.load(path, map_location="cpu", weights_only=True, mmap=False)
    except pickle.UnpicklingError as err:
        if "Weights only load failed" not in str(err):
            raise ValueError(f"{name}: cannot be read: not a PyTorch checkpoint, or a damaged one ({err})") from None
        lines = [line.strip() for line in str(err).splitlines()]
        found = next((line for line in lines if "GLOBAL" in line or "Unsupported" in line), "an object that is not a tensor")
        raise ValueError(f"{name}: refused: loading it would run code or build objects other than tensors ({found}); "
                         "only state dicts of tensors are loaded") from None
    except RuntimeError as err:
        if "TorchScript" in str(err):
            raise ValueError(f"{name}: refused: a TorchScript archive is a program; only state dicts of tensors are loaded") from None
        raise ValueError(f"{name}: cannot be read as a PyTorch checkpoint ({str(err).splitlines()[0]})") from None
    except Exception as err:  # an untrusted file: whatever it breaks in the reader, it is not a checkpoint we can read
        raise ValueError(
            f"{name}: cannot be read: the file is truncated, damaged or not a checkpoint ({type(err).__name__}: {err})"
        ) from None
    if not isinstance(raw, dict):
        raise ValueError(f"{name}: holds a {type(raw).__name__}, not a state dict")
    state_dict = spandrel.canonicalize_state_dict(raw)
    tensors = {key: value for key, value in state_dict.items() if isinstance(value, torch.Tensor)}
    if not tensors:
        raise ValueError(f"{name}: no weights found (top-level keys: {', '.join(map(str, list(raw)[:8])) or 'none'})")
    return tensors


@functools.cache
def extra_arches() -> bool:
    """Whether ``spandrel-extra-arches`` is installed (then its architectures are known to spandrel): optional."""
    try:
        import spandrel_extra_arches
    except ImportError:
        return False
    spandrel_extra_arches.install()
    return True


def read_model(name: str, *, cache_dir=None, purpose: str = "upscale"):
    """Checkpoint ``name`` as a ``spandrel.ImageModelDescriptor`` (float32, CPU, eval mode) of an RGB upscaler
    (``purpose="upscale"``) or of a 1x restoration network of an architecture that derains (``"derain"``: ``DERAINERS``).

    A ValueError says what the file is when it is not what ``purpose`` needs, and which verb takes it: an architecture
    spandrel does not know (and whether ``spandrel-extra-arches`` would), an upscaler given to derain, a deraining
    model given to upscale, a face restoration or inpainting model, one that is not RGB in and out.
    """
    import spandrel

    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}; available: {', '.join(PURPOSES)}")
    state_dict = read_state_dict(local_file(name, cache_dir=cache_dir), name)
    try:
        extra_arches()
        descriptor = spandrel.ModelLoader().load_from_state_dict(state_dict)
    except spandrel.UnsupportedModelError:
        keys = ", ".join(list(state_dict)[:4])
        more = "" if extra_arches() else f"; Restormer, MPRNet and others are known once `pip install {EXTRA_ARCHES}` is done"
        raise ValueError(f"{name}: an unknown model layout ({len(state_dict)} tensors: {keys}, ...); known: the "
                         f"architectures spandrel detects (ESRGAN, Real-ESRGAN Compact, SPAN, SwinIR, HAT, KBNet, ...){more}") from None
    except (RuntimeError, KeyError, IndexError, AssertionError, ValueError) as err:  # a known layout with bad tensors
        raise ValueError(f"{name}: its weights do not fit the architecture they resemble ({err})") from None
    kind = f"{descriptor.architecture.name} {descriptor.purpose} model"
    architecture = descriptor.architecture.id
    if purpose == "upscale" and architecture in DERAINERS and descriptor.scale == 1:
        raise ValueError(f"{name} is a {describe(descriptor)} restoration model (1x), not an upscaler: derain takes it")
    if purpose == "upscale" and descriptor.purpose != "SR":
        raise ValueError(f"{name} is {_NOT_UPSCALERS.get(descriptor.purpose, 'a ' + kind)} ({kind}), not an upscaler")
    if purpose == "derain" and descriptor.purpose == "SR":
        raise ValueError(f"{name} is an upscaler ({describe(descriptor)}), not a deraining model: upscale takes it")
    if purpose == "derain" and (architecture not in DERAINERS or descriptor.scale != 1):
        raise ValueError(f"{name} is a {kind}; derain takes the 1x restoration architectures with published deraining "
                         f"weights: {', '.join(DERAINERS)}")
    if (descriptor.input_channels, descriptor.output_channels) != (3, 3):
        raise ValueError(f"{name}: a {kind} with {descriptor.input_channels} input and {descriptor.output_channels} "
                         "output channels; only RGB models (3 in, 3 out) are supported")
    return descriptor.float().eval()


def licence(descriptor) -> str | None:
    """What a model's architecture code is licensed under, where it is not spandrel's MIT: spandrel-extra-arches'."""
    if type(descriptor.model).__module__.startswith("spandrel_extra_arches"):
        return f"its authors' non-commercial licence ({EXTRA_ARCHES})"
    return None


def describe(descriptor) -> str:
    """"ESRGAN x4 (64nf, 23nb)": a foreign model's architecture, scale and spandrel's tags, and its licence where it is
    not spandrel's, for summaries."""
    tags = f" ({', '.join(descriptor.tags)})" if descriptor.tags else ""
    terms = licence(descriptor)
    return f"{descriptor.architecture.name} x{descriptor.scale}{tags}" + (f"; {terms}" if terms else "")


def _reach(descriptor) -> list[tuple[float, float]]:
    """(reach in input pixels, resolution relative to the input) of every convolution the model runs, in order:
    ``dilation * (kernel - 1) / 2`` at the resolution it runs at (one at half resolution reaches twice as far, one
    at the output's 4x a quarter), read off one forward pass on a small input."""
    model = descriptor.model
    requirements = descriptor.size_requirements
    side = max(requirements.minimum, 8 * requirements.multiple_of)
    found = []

    def record(module, inputs):
        resolution = inputs[0].shape[-1] / side  # this convolution's pixels per input pixel
        found.append((module.dilation[-1] * (module.kernel_size[-1] - 1) / 2 / resolution, resolution))

    hooks = [m.register_forward_pre_hook(record) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.inference_mode():
            parameter = next(model.parameters())
            model(torch.zeros(1, descriptor.input_channels, side, side, dtype=parameter.dtype, device=parameter.device))
    finally:
        for hook in hooks:
            hook.remove()
    return found


def receptive_radius(descriptor) -> int:
    """How far (input pixels) an output pixel can see through the model's convolutions: their reach added up, plus one
    pixel for resampling. Exact for the convolutional architectures (``CONVOLUTIONAL``), an underestimate for others."""
    return _radius(_reach(descriptor))


def _radius(reach: list[tuple[float, float]]) -> int:
    return math.ceil(sum(distance for distance, _ in reach)) + 1


def _global(descriptor) -> bool:
    """A 1x restoration model that sees its whole input (not built of convolutions alone)."""
    return descriptor.scale == 1 and descriptor.architecture.id not in CONVOLUTIONAL


def tile(descriptor) -> int | None:
    """The tile a foreign model runs with unless told otherwise: ``RESTORATION_TILE`` (or its architecture's, in
    ``RESTORATION_TILES``) for a 1x model with global operations (bounded memory), None (the verb's default) for
    others."""
    return RESTORATION_TILES.get(descriptor.architecture.id, RESTORATION_TILE) if _global(descriptor) else None


def overlap(descriptor) -> int:
    """The tile overlap for a foreign model: its receptive radius, at most ``EFFECTIVE_RADIUS`` pixels of the
    resolution its body runs at (a network that first shrinks its input 2x, as Real-ESRGAN's x2 models, reaches twice
    as far in input pixels); ``RESTORATION_OVERLAP`` for a 1x model with global operations, which no overlap makes
    exact."""
    if _global(descriptor):
        return RESTORATION_OVERLAP
    reach = _reach(descriptor)
    cap = math.ceil(EFFECTIVE_RADIUS / min((resolution for _, resolution in reach), default=1.0))
    if descriptor.architecture.id not in CONVOLUTIONAL:
        return cap
    return min(_radius(reach), cap)
