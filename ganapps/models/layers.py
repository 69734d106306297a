"""Pieces shared by several families: the training state, the loss helper, weight init."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class TrainState:
    """Everything one training run changes; ``training.py`` checkpoints it as a whole.

    ``models`` are the modules the train step calls (wrapped in DDP when training on several
    processes); ``optimizers`` are keyed by name (``opt_g``, ``opt_d``); ``rng`` draws the noise and
    codes, so a resumed run continues the same random stream.
    """

    config: object
    models: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    rng: torch.Generator
    device: torch.device
    extra: dict = field(default_factory=dict)


def bce_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Binary cross-entropy of logits against a constant target (1.0 real, 0.0 fake)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def dcgan_init(module: nn.Module) -> None:
    """Weights from N(0, 0.02), batch-norm scales from N(1, 0.02) (Radford et al. 2016, §4)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def adam(params, lr: float, betas=(0.5, 0.999)) -> torch.optim.Adam:
    """Adam with the DCGAN betas, which every GAN family here trains with."""
    return torch.optim.Adam(params, lr=lr, betas=betas)


def normal_noise(num: int, dim: int, rng: torch.Generator | None, device) -> torch.Tensor:
    """N(0, 1) noise drawn on the CPU (portable: the same seed gives the same noise on any device)."""
    return torch.randn(num, dim, generator=rng).to(device)


def check_positive(name: str, value: int) -> None:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
