"""The family contract: what every model family gives the training loop, the hub and the command line.

Each family module (``dcgan.py``, ``srgan.py``, ...) ends with one ``FAMILY = Family(...)`` that
names its parts; ``models.FAMILIES`` registers them. The loop, ``hub``, ``photos`` and the CLI use a
family through this contract alone (how it trains, and how it is used: a sampler or a restorer);
the verbs about one family in particular (InfoGAN's codes in ``digits``, the toy lab) also use
that family's own public names, its ``__all__``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import ClassVar

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .. import weights

__all__ = ["Network", "Restorer", "Family", "TrainState", "NoOptions", "AdamOptions", "CONFIG_FORMAT", "FILE_KEYS", "options",
           "check_rate_ratio",
           "adam", "two_player_state", "normal_noise", "check_positive", "example_digits", "example_photo", "example_reading",
           "upscale_batch", "upscale_preview", "upscale_example_batch", "upscale_example_use", "no_codes", "unconditioned"]

# The version of config.json's layout. 1 (no "format_version" key): training options could sit beside the
# architecture; 2: the architecture and what inference needs, nothing else.
CONFIG_FORMAT = 2
# The keys of a config.json beside its config's fields: the family, the format, and a denoise twin's default strength.
FILE_KEYS = ("family", "format_version", "default_denoise")


@dataclass
class TrainState:
    """Everything one training run changes; ``training.py`` checkpoints it as a whole.

    ``config`` builds the networks; ``training`` holds the family's training options (its ``Training``:
    loss weights, the perceptual choice), which the train step reads and the exported network never
    carries. ``models`` are the networks by name (under torchrun the train step gets a copy of the
    state whose models are wrapped in DDP, see ``training.Run``); ``optimizers`` are keyed by name
    (``opt_g``, ``opt_d``); ``rng`` draws the noise and codes, so a resumed run continues the same
    random stream. ``extra`` belongs to the family (its train step's own objects, e.g. the toy
    distribution or a VGG): nothing outside the family module reads it.
    """

    config: object
    models: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    rng: torch.Generator
    device: torch.device
    extra: dict = field(default_factory=dict)
    training: object = None  # None: the family has no training options (NoOptions)

    def __post_init__(self):
        if self.training is None:
            self.training = NoOptions()


@dataclass(frozen=True)
class NoOptions:
    """The training options of a family that has none beyond ``TrainConfig``'s."""


def options(cls: type, values: dict, what: str):
    """``cls(**values)``; an unknown key is a ValueError that names it and the known ones."""
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown))}; available: {', '.join(known) or '(none)'}")
    return cls(**values)


@dataclass(frozen=True)
class AdamOptions:
    """Adam's betas, a training option of every family that trains with Adam (a family's ``Training`` derives from
    this): DCGAN's 0.5 and 0.999 unless the family's paper says otherwise."""

    beta1: float = 0.5
    beta2: float = 0.999

    def __post_init__(self):
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")

    @property
    def betas(self) -> tuple[float, float]:
        return self.beta1, self.beta2


def check_rate_ratio(value, name: str = "g_lr_ratio") -> None:
    """One network's learning rate over the other's: a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def adam(params, lr: float, betas=(0.5, 0.999)) -> torch.optim.Adam:
    """Adam with ``betas`` (the DCGAN betas unless a family's training options say otherwise)."""
    return torch.optim.Adam(params, lr=lr, betas=betas)


def two_player_state(config, generator: nn.Module, discriminator: nn.Module, *, lr_g: float, lr_d: float,
                     rng: torch.Generator, device, extra: dict | None = None, training=None) -> TrainState:
    """A generator and a discriminator on ``device``, each with its own ``adam`` (``opt_g``, ``opt_d``) with the betas of
    ``training`` (an ``AdamOptions``)."""
    generator, discriminator = generator.to(device), discriminator.to(device)
    return TrainState(
        config=config,
        models={"generator": generator, "discriminator": discriminator},
        optimizers={"opt_g": adam(generator.parameters(), lr_g, training.betas),
                    "opt_d": adam(discriminator.parameters(), lr_d, training.betas)},
        rng=rng,
        device=torch.device(device),
        extra=extra or {},
        training=training,
    )


def normal_noise(num: int, dim: int, rng: torch.Generator | None, device) -> torch.Tensor:
    """N(0, 1) noise drawn on the CPU (portable: the same seed gives the same noise on any device)."""
    return torch.randn(num, dim, generator=rng).to(device)


def check_positive(name: str, value: int) -> None:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


class Network(PyTorchModelHubMixin):
    """What every exported network derives from, beside ``nn.Module``: the Hub mixin's ``save_pretrained``
    and ``push_to_hub``, and a ``from_pretrained`` with ``ganapps.load``'s rules.

    ``Generator.from_pretrained("checkpoints/cgan-mnist")`` or ``from_pretrained("org/repo", revision=...)``
    refuses a model of another family, reads safetensors only and every tensor strictly.
    """

    _family: ClassVar[Family]  # set by the Family that exports the class

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, *, revision: str | None = None, cache_dir=None):
        family = getattr(cls, "_family", None)
        if family is None:
            raise TypeError(f"{cls.__name__} is not the exported network of a family; load it with ganapps.load")
        name = str(pretrained_model_name_or_path) + (f"@{revision}" if revision else "")
        raw = weights.read_config(name, cache_dir=cache_dir)
        weights.family_in(name, raw, family.name)
        model = cls(family.config_from(raw))
        weights.read_weights(model, name, cache_dir=cache_dir)
        return model.eval()


@dataclass(frozen=True)
class Restorer:
    """How an image-to-image family's network is used on a photo.

    - ``restore(network, batch, *, device, **context)``: (B, 3, h, w) in [0, 1] -> (B, 3, scale*h, scale*w) in [0, 1];
    - ``scale``: how much larger the output is;
    - ``grid``: tiles must start on multiples of it (the network's pooling), so tiling changes nothing;
    - ``context(photo) -> dict`` (optional): computed once on the whole photo (B, 3, H, W) and passed to
      every tile's ``restore``, so that all tiles are treated alike.

    Tiles overlap by the network's ``config.receptive_radius``.
    """

    restore: Callable[..., torch.Tensor]
    scale: int = 1
    grid: int = 1
    context: Callable[[torch.Tensor], dict] | None = None


@dataclass(frozen=True)
class Family:
    """One model family.

    - ``config``: a frozen dataclass of the architecture (and what inference needs) with a ``tiny()``
      classmethod (tests, smoke runs); its fields, ``"family": name`` and ``"format_version"`` make a
      checkpoint's ``config.json``.
    - ``training``: a frozen dataclass of the family's training options (loss weights, the perceptual
      choice), which a recipe sets and the training state keeps; ``make_state`` takes it as ``training=``.
    - ``network``: the exported ``nn.Module`` class, built from a config, saved and loaded by
      ``hub`` (the generator; the classifier for the classifier family).
    - ``make_state(config, *, training, rng, device, lr=..., [phase=...]) -> TrainState``: fresh networks
      and optimisers; ``state.models[export]`` is a ``network``, or ``assemble(state.models)``
      makes one from several of them (sharing their parameters) for a family that exports a pair.
    - ``train_step(state, batch) -> {loss name: detached 0-dim tensor}``: one optimisation step; the
      loop reads the losses back from the device only when it logs or saves (no sync per step).
    - ``dataset``: the kind of its training data (a ``data.Kind``: how it is made from ``--data``).
    - ``preview(network, *, seed, device, data) -> (images, per row)``: the training sample grid.
    - ``phases``: names accepted by ``make_state(phase=)`` (the first is the default), or ().
    - how a trained network is used: ``sample(network, num_images, *, seed, device, ...)`` for a
      generator of images or points, or ``restorer`` (a ``Restorer``) for an image-to-image network.
    - ``conditions(network, num_images, *, seed, start, digit, slant, width) -> dict`` (digit generators): what
      ``sample`` is told beyond the noise to draw ``digit`` (None: the family's own choice; ``start``: the first
      image's place in a longer sequence) with InfoGAN's ``slant`` and ``width`` codes; a ValueError for what the
      family cannot draw.
    - ``initialise(state, batch)`` (optional): data-dependent initialisation of fresh networks on a
      first batch of training data, the same in every process.
    - ``ddp_find_unused_parameters``: a train step leaves some parameters out of a backward pass
      (e.g. a frozen discriminator), which DDP must be told.
    - ``example_batch(config, rng)``: a small training batch for that config, and ``example_use(network)``:
      the exported network used once as a user would (the contract tests run every family through these).
    - ``finish(network, *, data, training, classifier) -> config`` (optional): after the last step, the learned
      facts the trained network needs before it is used (``classifier()`` loads a digit classifier, or gives None
      when the caller skips the measurement), returned as its new config.
    - ``migrate(raw) -> raw`` (optional): rewrites a format-1 ``config.json`` dict, beyond dropping the keys
      that are now training options.
    - ``threads``: torch intra-op threads ``python -m ganapps train`` uses unless ``--threads``
      says otherwise (None: torch's default, one per core). 1 for tiny networks: their steps take
      microseconds of arithmetic and slow down 10x when threads compete with other work.
    """

    name: str
    config: type
    network: type[nn.Module]
    make_state: Callable[..., TrainState]
    train_step: Callable[[TrainState, tuple[torch.Tensor, ...]], dict[str, torch.Tensor]]
    dataset: object  # a data.Kind (data is on this floor, beside the families)
    example_batch: Callable[[object, torch.Generator], tuple[torch.Tensor, ...]]
    example_use: Callable[[nn.Module], torch.Tensor]
    training: type = NoOptions
    export: str = "generator"
    preview: Callable[..., tuple[torch.Tensor, int]] | None = None
    phases: tuple[str, ...] = ()
    batch_size: int = 64
    ddp_find_unused_parameters: bool = False
    threads: int | None = None
    sample: Callable[..., torch.Tensor] | None = None
    restorer: Restorer | None = None
    conditions: Callable[..., dict] | None = None
    finish: Callable[..., object] | None = None
    assemble: Callable[[dict[str, nn.Module]], nn.Module] | None = None
    initialise: Callable[[TrainState, tuple[torch.Tensor, ...]], None] | None = None
    migrate: Callable[[dict], dict] | None = None

    def exported(self, models: dict[str, nn.Module]) -> nn.Module:
        """The ``network`` of a training state's ``models``: ``models[export]``, or what ``assemble`` makes."""
        return self.assemble(models) if self.assemble is not None else models[self.export]

    def __post_init__(self):
        for kind, cls in (("config", self.config), ("training", self.training)):
            if not hasattr(cls, "__dataclass_fields__"):
                raise TypeError(f"{self.name}: {kind} must be a dataclass")
        if not hasattr(self.config, "tiny") or not {f.name for f in fields(self.config)}:
            raise TypeError(f"{self.name}: config must be a dataclass with a tiny() classmethod")
        clash = {f.name for f in fields(self.config)} & (set(FILE_KEYS) | {f.name for f in fields(self.training)})
        if clash:
            raise TypeError(f"{self.name}: {sorted(clash)} cannot be config fields (config.json's own keys, or training options)")
        if not (issubclass(self.network, nn.Module) and issubclass(self.network, Network)):
            raise TypeError(f"{self.name}: network must be an nn.Module and a family.Network class")
        self.network._family = self  # from_pretrained checks and builds through it

    def config_file(self, config) -> dict:
        """``config.json``'s dict of ``config``: its fields, the family and the format version."""
        return {**asdict(config), "family": self.name, "format_version": CONFIG_FORMAT}

    def config_from(self, raw: dict):
        """The family's config from a ``config.json`` dict; an unknown key is a ValueError that names it.

        A format-1 file (no ``format_version``) is migrated: the keys that are now training options
        (this family's ``training`` fields) carried nothing inference reads, and are dropped.
        """
        version = raw.get("format_version", 1)
        if version not in (1, CONFIG_FORMAT):
            raise ValueError(f"config.json format_version {version!r} is not one this ganapps reads (1 or {CONFIG_FORMAT}); "
                             "upgrade ganapps")
        if version == 1:
            raw = self.migrate(dict(raw)) if self.migrate is not None else raw
            raw = {k: v for k, v in raw.items() if k not in {f.name for f in fields(self.training)}}
        return options(self.config, {k: v for k, v in raw.items() if k not in FILE_KEYS}, f"{self.name} config.json keys")

    def training_from(self, values: dict):
        """The family's training options from a dict (a recipe's ``training`` table); unknown keys are errors."""
        return options(self.training, values, f"{self.name} training options")


# Small inputs for the families' ``example_batch`` and ``example_use`` (the contract tests).


def example_digits(config, rng: torch.Generator, num: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """A digit family's ``example_batch``: (num, 1, 28, 28) random images in [-1, 1] and the labels 0, 1, 2, ... (mod 10)."""
    return torch.rand(num, 1, 28, 28, generator=rng) * 2 - 1, torch.arange(num) % 10


# --- how a digit generator is told what to draw ------------------------------------------------------------


def no_codes(kind: str, slant, width) -> None:
    """Refuse InfoGAN's slant and width codes for ``kind`` (e.g. "a CGAN"), which has none."""
    if slant is not None or width is not None:
        raise ValueError(f"slant and width are InfoGAN codes; {kind} has none")


def unconditioned(kind: str) -> Callable[..., dict]:
    """The ``conditions`` of a family whose generator draws unconditioned digits (``kind``: "a DCGAN"): none."""

    def conditions(network, num_images: int, *, seed: int, start: int = 0, digit=None, slant=None, width=None) -> dict:
        no_codes(kind, slant, width)
        if digit is not None:
            raise ValueError(f"{kind} draws unconditioned digits; ask a cgan or infogan model for a digit")
        return {}

    return conditions


# --- what the x4 upscaling families (srgan, realesrgan) share: how a generator is used on a photo ---------


@torch.inference_mode()
def upscale_batch(generator: nn.Module, low_res: torch.Tensor, *, device="cpu") -> torch.Tensor:
    """Super-resolve a batch (B, 3, h, w) in [0, 1] with an upscaling generator: (B, 3, s*h, s*w) in [0, 1]."""
    return generator(low_res.to(device)).clamp_(0, 1)


def upscale_preview(generator: nn.Module, *, seed: int = 0, device="cpu", data=None):
    """Rows of (bicubic, super-resolved, ground truth) on the training data's fixed crops, in [-1, 1]: (images, per row)."""
    import torch.nn.functional as F

    low_res, high_res = data.fixed_batch(4)
    scale = high_res.shape[-1] // low_res.shape[-1]
    bicubic = F.interpolate(low_res, scale_factor=scale, mode="bicubic", align_corners=False).clamp(0, 1)
    super_res = upscale_batch(generator, low_res, device=device).cpu()
    rows = torch.stack([bicubic, super_res, high_res], dim=1).flatten(0, 1)  # (12, 3, H, W)
    return rows * 2 - 1, 3


def upscale_example_batch(config, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A small training batch of an x4 family: random low-res crops and high-res targets."""
    return torch.rand(2, 3, 8, 8, generator=rng), torch.rand(2, 3, 32, 32, generator=rng)


def upscale_example_use(generator: nn.Module) -> torch.Tensor:
    return upscale_batch(generator, example_photo())


def example_photo() -> torch.Tensor:
    """A (2, 3, 20, 12) batch of smooth ramps in [0, 1], its height and width not multiples of 8."""
    return torch.linspace(0, 1, 2 * 3 * 20 * 12).reshape(2, 3, 20, 12)


@torch.inference_mode()
def example_reading(network: nn.Module) -> torch.Tensor:
    """A digit reader's logits (4, classes) for four fixed ramps in [-1, 1]."""
    return network(torch.linspace(-1, 1, 4 * 28 * 28).reshape(4, 1, 28, 28))
