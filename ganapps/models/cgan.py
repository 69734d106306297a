"""CGAN — Mirza & Osindero, "Conditional Generative Adversarial Nets", 2014.

Both players see the digit label y. The generator receives z concatenated with a learned label
embedding; the discriminator scores (x, y) pairs, so a well-drawn digit with the wrong label is
rejected and G learns to draw the digit it was asked for. The discriminator conditions by
projection (Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018): its logit is
psi(h) + <embed(y), h> for features h of x, a conditioning that gives much sharper class fidelity
than concatenating y to the input. Trunks are the DCGAN ones; loss is the non-saturating one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..data import MNIST
from ..losses import bce
from .family import (
    AdamOptions,
    Family,
    Network,
    TrainState,
    check_positive,
    example_digits,
    no_codes,
    normal_noise,
    two_player_state,
)
from .layers import dcgan_init

__all__ = ["Config", "Training", "Generator", "Discriminator", "make_state", "train_step", "sample", "conditions", "FAMILY"]


@dataclass(frozen=True)
class Config:
    """Architecture of the CGAN pair. Images are (1, 28, 28) in [-1, 1]."""

    latent_dim: int = 64
    num_classes: int = 10
    base_channels: int = 32
    embed_dim: int = 16

    def __post_init__(self):
        check_positive("latent_dim", self.latent_dim)
        check_positive("base_channels", self.base_channels)
        check_positive("embed_dim", self.embed_dim)
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {self.num_classes}")

    @classmethod
    def tiny(cls) -> Config:
        return cls(latent_dim=8, base_channels=4, embed_dim=4)


class Generator(nn.Module, Network, library_name="ganapps", tags=["gan", "cgan", "mnist"]):
    """(z (B, latent_dim), labels (B,)) -> images (B, 1, 28, 28) in [-1, 1]."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        c = config.base_channels
        self.embed = nn.Embedding(config.num_classes, config.embed_dim)
        self.project = nn.Sequential(
            nn.Linear(config.latent_dim + config.embed_dim, 4 * c * 7 * 7, bias=False),
            nn.BatchNorm1d(4 * c * 7 * 7),
            nn.ReLU(True),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1, bias=False),  # (B, 2c, 14, 14)
            nn.BatchNorm2d(2 * c),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * c, 1, 4, 2, 1),  # (B, 1, 28, 28)
            nn.Tanh(),
        )
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        c = self.config.base_channels
        h = self.project(torch.cat([z, self.embed(labels)], dim=1))  # (B, 4c * 49)
        return self.upsample(h.view(-1, 4 * c, 7, 7))


class Discriminator(nn.Module):
    """(images (B, 1, 28, 28), labels (B,)) -> logits (B,) that (x, y) is a real pair."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        c = config.base_channels
        self.features = nn.Sequential(
            nn.Conv2d(1, 2 * c, 4, 2, 1),  # (B, 2c, 14, 14)
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * c, 4 * c, 4, 2, 1, bias=False),  # (B, 4c, 7, 7)
            nn.BatchNorm2d(4 * c),
            nn.LeakyReLU(0.2, True),
            nn.Flatten(),
            nn.Linear(4 * c * 7 * 7, 8 * c),  # (B, 8c)
            nn.LeakyReLU(0.2, True),
        )
        self.classify = nn.Linear(8 * c, 1)
        self.project = nn.Embedding(config.num_classes, 8 * c)
        self.apply(dcgan_init)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.features(images)  # (B, 8c)
        return self.classify(h).squeeze(1) + (self.project(labels) * h).sum(dim=1)


@dataclass(frozen=True)
class Training(AdamOptions):
    """How the pair is trained: Adam's betas (DCGAN's), for both at the same rate."""


def make_state(config: Config, *, training: Training | None = None, lr: float = 2e-4, rng: torch.Generator, device) -> TrainState:
    return two_player_state(config, Generator(config), Discriminator(config), lr_g=lr, lr_d=lr, rng=rng, device=device,
                            training=training or Training())


def train_step(state: TrainState, batch) -> dict[str, torch.Tensor]:
    real, labels = batch
    generator, discriminator = state.models["generator"], state.models["discriminator"]
    opt_g, opt_d = state.optimizers["opt_g"], state.optimizers["opt_d"]
    z = normal_noise(real.shape[0], state.config.latent_dim, state.rng, state.device)
    fake_labels = torch.randint(state.config.num_classes, (real.shape[0],), generator=state.rng).to(state.device)
    fake = generator(z, fake_labels)

    # (1) Discriminator: maximise log D(x | y) + log(1 - D(G(z | y') | y'))
    opt_d.zero_grad(set_to_none=True)
    loss_d_real = bce(discriminator(real, labels), 1.0)
    loss_d_real.backward()
    loss_d_fake = bce(discriminator(fake.detach(), fake_labels), 0.0)
    loss_d_fake.backward()
    opt_d.step()

    # (2) Generator: maximise log D(G(z | y') | y')   (non-saturating)
    opt_g.zero_grad(set_to_none=True)
    loss_g = bce(discriminator(fake, fake_labels), 1.0)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": (loss_d_real + loss_d_fake).detach(), "loss_g": loss_g.detach()}


@torch.inference_mode()
def sample(generator: Generator, num_images: int, *, labels, seed: int | None = None, device="cpu"):
    """Return (num_images, 1, 28, 28) in [-1, 1] showing ``labels``; the same seed gives the same digits."""
    labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    if labels.numel() != num_images:
        raise ValueError(f"got {labels.numel()} labels for {num_images} images")
    if labels.numel() and (labels.min() < 0 or labels.max() >= generator.config.num_classes):
        raise ValueError(f"labels must be in 0..{generator.config.num_classes - 1}, got {labels.tolist()}")
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    z = normal_noise(num_images, generator.config.latent_dim, rng, "cpu")
    return generator(z.to(device), labels.to(device))


def preview(generator: Generator, *, seed: int = 0, device="cpu", data=None):
    """Eight rows of 0..9 for the training sample grid: (images, images per row)."""
    k = generator.config.num_classes
    return sample(generator, 8 * k, labels=torch.arange(k).repeat(8), seed=seed, device=device), k


def _example_use(generator: Generator) -> torch.Tensor:
    return sample(generator, 4, labels=[0, 1, 2, 3], seed=0)


def conditions(generator: Generator, num_images: int, *, seed: int, start: int = 0, digit=None, slant=None, width=None) -> dict:
    """``sample``'s labels: ``digit`` for every image, or the digits in turn from place ``start`` of a sequence."""
    no_codes("a CGAN", slant, width)
    classes = generator.config.num_classes
    labels = torch.arange(start, start + num_images) % classes if digit is None else torch.full((num_images,), digit)
    return {"labels": labels}


FAMILY = Family(
    name="cgan", config=Config, network=Generator, make_state=make_state, train_step=train_step, dataset=MNIST, preview=preview,
    sample=sample, training=Training, example_batch=example_digits, example_use=_example_use, conditions=conditions,
)
