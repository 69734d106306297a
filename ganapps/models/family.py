"""The family contract: what every model family gives the training loop, the hub and the command line.

Each family module (``dcgan.py``, ``srgan.py``, ...) ends with one ``FAMILY = Family(...)`` that
names its parts; ``models.FAMILIES`` registers them. The loop, ``hub``, ``photos`` and the CLI use a
family through this contract alone (how it trains, and how it is used: a sampler or a restorer);
the verbs about one family in particular (InfoGAN's codes in ``digits``, the toy lab) also use
that family's own public names, its ``__all__``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .. import weights
from .layers import TrainState

__all__ = ["Network", "Restorer", "Family"]


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

    - ``config``: a frozen dataclass of the architecture with a ``tiny()`` classmethod (tests,
      smoke runs); its fields and ``"family": name`` make a checkpoint's ``config.json``.
    - ``network``: the exported ``nn.Module`` class, built from a config, saved and loaded by
      ``hub`` (the generator; the classifier for the classifier family).
    - ``make_state(config, *, rng, device, lr=..., [phase=...]) -> TrainState``: fresh networks
      and optimisers; ``state.models[export]`` is a ``network``, or ``assemble(state.models)``
      makes one from several of them (sharing their parameters) for a family that exports a pair.
    - ``train_step(state, batch) -> {loss name: detached 0-dim tensor}``: one optimisation step; the
      loop reads the losses back from the device only when it logs or saves (no sync per step).
    - ``dataset``: the ``data.load`` name of its training data.
    - ``preview(network, *, seed, device, data) -> (images, per row)``: the training sample grid.
    - ``phases``: names accepted by ``make_state(phase=)`` (the first is the default), or ().
    - how a trained network is used: ``sample(network, num_images, *, seed, device, ...)`` for a
      generator of images or points, or ``restorer`` (a ``Restorer``) for an image-to-image network.
    - ``initialise(state, batch)`` (optional): data-dependent initialisation of fresh networks on a
      first batch of training data, the same in every process.
    - ``ddp_find_unused_parameters``: a train step leaves some parameters out of a backward pass
      (e.g. a frozen discriminator), which DDP must be told.
    - ``threads``: torch intra-op threads ``python -m ganapps train`` uses unless ``--threads``
      says otherwise (None: torch's default, one per core). 1 for tiny networks: their steps take
      microseconds of arithmetic and slow down 10x when threads compete with other work.
    """

    name: str
    config: type
    network: type[nn.Module]
    make_state: Callable[..., TrainState]
    train_step: Callable[[TrainState, tuple[torch.Tensor, ...]], dict[str, torch.Tensor]]
    dataset: str
    export: str = "generator"
    preview: Callable[..., tuple[torch.Tensor, int]] | None = None
    phases: tuple[str, ...] = ()
    batch_size: int = 64
    ddp_find_unused_parameters: bool = False
    threads: int | None = None
    sample: Callable[..., torch.Tensor] | None = None
    restorer: Restorer | None = None
    assemble: Callable[[dict[str, nn.Module]], nn.Module] | None = None
    initialise: Callable[[TrainState, tuple[torch.Tensor, ...]], None] | None = None

    def exported(self, models: dict[str, nn.Module]) -> nn.Module:
        """The ``network`` of a training state's ``models``: ``models[export]``, or what ``assemble`` makes."""
        return self.assemble(models) if self.assemble is not None else models[self.export]

    def __post_init__(self):
        if not hasattr(self.config, "tiny") or not {f.name for f in fields(self.config)}:
            raise TypeError(f"{self.name}: config must be a dataclass with a tiny() classmethod")
        if "family" in {f.name for f in fields(self.config)}:
            raise TypeError(f"{self.name}: 'family' is reserved in config.json")
        if not (issubclass(self.network, nn.Module) and issubclass(self.network, Network)):
            raise TypeError(f"{self.name}: network must be an nn.Module and a family.Network class")
        self.network._family = self  # from_pretrained checks and builds through it

    def config_from(self, raw: dict):
        """The family's config from a ``config.json`` dict (its ``family`` key and unknown keys ignored)."""
        known = {f.name for f in fields(self.config)}
        return self.config(**{k: v for k, v in raw.items() if k in known})
