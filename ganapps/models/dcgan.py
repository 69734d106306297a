"""DCGAN — Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep Convolutional
Generative Adversarial Networks", ICLR 2016.

The generator maps noise z ~ N(0, I) to a 28x28 digit through two fully connected layers and two
stride-2 transposed convolutions with batch norm and ReLU, ending in Tanh; the discriminator mirrors
it with stride-2 convolutions, batch norm (not on its input layer) and LeakyReLU, then a hidden
fully connected layer. This is the MNIST variant of DCGAN that Chen et al. (InfoGAN, 2016,
appendix C) used; the shallower all-convolutional pair (one projection, no hidden layers) drew
far fewer recognisable digits (the model card has the comparison). Non-saturating GAN loss; Adam
with beta1 0.5 and a faster generator than discriminator (the InfoGAN MNIST recipe). The R1
penalty (Mescheder, Geiger & Nowozin 2018) keeps the discriminator from overpowering the
generator as training goes on, so the generator keeps improving (measured in the model card).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..data import MNIST
from ..losses import bce, r1_penalty
from .family import (
    AdamOptions,
    Family,
    Network,
    TrainState,
    check_positive,
    check_rate_ratio,
    example_digits,
    normal_noise,
    two_player_state,
    unconditioned,
)
from .layers import dcgan_init, mnist_discriminator_trunk, mnist_generator_layers

__all__ = ["Config", "Training", "Generator", "Discriminator", "make_state", "train_step", "sample", "FAMILY"]


@dataclass(frozen=True)
class Config:
    """Architecture of the DCGAN pair. Images are (1, 28, 28) in [-1, 1]."""

    latent_dim: int = 64
    base_channels: int = 32
    hidden_dim: int = 256

    def __post_init__(self):
        check_positive("latent_dim", self.latent_dim)
        check_positive("base_channels", self.base_channels)
        check_positive("hidden_dim", self.hidden_dim)

    @classmethod
    def tiny(cls) -> Config:
        return cls(latent_dim=8, base_channels=4, hidden_dim=16)


class Generator(nn.Module, Network, library_name="ganapps", tags=["gan", "dcgan", "mnist"]):
    """z (B, latent_dim) -> images (B, 1, 28, 28) in [-1, 1]."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.project, self.upsample = mnist_generator_layers(config.latent_dim, config.base_channels, config.hidden_dim)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        c = self.config.base_channels
        h = self.project(z).view(-1, 4 * c, 7, 7)  # (B, 4c, 7, 7)
        return self.upsample(h)


class Discriminator(nn.Module):
    """images (B, 1, 28, 28) -> real/fake logits (B,)."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        c = config.base_channels
        self.features = mnist_discriminator_trunk(c, config.hidden_dim)
        self.classify = nn.Linear(config.hidden_dim, 1)
        self.apply(dcgan_init)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(images)).squeeze(1)


@dataclass(frozen=True)
class Training(AdamOptions):
    """How the pair is trained: ``r1_gamma`` weighs the R1 penalty on D's gradient at real digits (0: off);
    ``g_lr_ratio``: G's learning rate over D's (5: 1e-3 / 2e-4, as in the InfoGAN MNIST recipe); Adam's betas."""

    r1_gamma: float = 1.0
    g_lr_ratio: float = 5.0

    def __post_init__(self):
        super().__post_init__()
        check_rate_ratio(self.g_lr_ratio)
        if not 0 <= self.r1_gamma < float("inf"):
            raise ValueError(f"r1_gamma must be a finite number >= 0, got {self.r1_gamma!r}")


def make_state(config: Config, *, training: Training | None = None, lr: float = 2e-4, rng: torch.Generator, device) -> TrainState:
    """Adam for both; G learns ``g_lr_ratio`` times faster than D."""
    training = training or Training()
    return two_player_state(config, Generator(config), Discriminator(config), lr_g=training.g_lr_ratio * lr, lr_d=lr, rng=rng,
                            device=device, training=training)


def train_step(state: TrainState, batch) -> dict[str, torch.Tensor]:
    real, _labels = batch
    generator, discriminator = state.models["generator"], state.models["discriminator"]
    opt_g, opt_d = state.optimizers["opt_g"], state.optimizers["opt_d"]
    z = normal_noise(real.shape[0], state.config.latent_dim, state.rng, state.device)
    fake = generator(z)

    # (1) Discriminator: maximise log D(x) + log(1 - D(G(z)))
    opt_d.zero_grad(set_to_none=True)
    gamma = state.training.r1_gamma
    if gamma:
        real = real.detach().requires_grad_(True)
    logits_real = discriminator(real)
    loss_d_real = bce(logits_real, 1.0)
    if gamma:  # R1 (Mescheder et al. 2018): keep D flat on the data, so the game converges
        loss_d_real = loss_d_real + gamma / 2 * r1_penalty(logits_real, real)
    loss_d_real.backward()
    loss_d_fake = bce(discriminator(fake.detach()), 0.0)
    loss_d_fake.backward()
    opt_d.step()

    # (2) Generator: maximise log D(G(z))   (the non-saturating form, Goodfellow et al. 2014, §3)
    opt_g.zero_grad(set_to_none=True)
    loss_g = bce(discriminator(fake), 1.0)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": (loss_d_real + loss_d_fake).detach(), "loss_g": loss_g.detach()}


@torch.inference_mode()
def sample(generator: Generator, num_images: int, *, seed: int | None = None, latents=None, device="cpu"):
    """Return (num_images, 1, 28, 28) in [-1, 1]; the same seed gives the same digits.

    ``latents`` (num_images, latent_dim) replaces the drawn noise, for interpolations.
    """
    if latents is None:
        rng = torch.Generator().manual_seed(seed) if seed is not None else None
        latents = normal_noise(num_images, generator.config.latent_dim, rng, "cpu")
    return generator(latents.to(device))


def preview(generator: Generator, *, seed: int = 0, device="cpu", data=None):
    """64 samples for the training sample grid: (images, images per row)."""
    return sample(generator, 64, seed=seed, device=device), 8


def _example_use(generator: Generator) -> torch.Tensor:
    return sample(generator, 4, seed=0)


FAMILY = Family(
    name="dcgan", config=Config, network=Generator, make_state=make_state, train_step=train_step, dataset=MNIST, preview=preview,
    sample=sample, training=Training, example_batch=example_digits,
    example_use=_example_use, conditions=unconditioned("a DCGAN"),
)
