"""The GAN of Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, on 1-D and 2-D toy data.

Two small MLPs play the minimax game min_G max_D V(D, G) with
V = E_x[log D(x)] + E_z[log(1 - D(G(z)))]. For a fixed G the best discriminator is
D*(x) = p_data(x) / (p_data(x) + p_g(x)); at the global optimum p_g = p_data, D = 1/2 everywhere
and V = -log 4. On toy data all of this can be computed and watched. Besides the original
(saturating) loss, the family trains with the non-saturating loss of the same paper, least
squares (Mao et al. 2017), hinge (Lim & Ye 2017) and WGAN-GP (Gulrajani et al. 2017).

Mode coverage follows the Unrolled GAN (Metz et al. 2017) and VEEGAN (Srivastava et al. 2017)
papers: a generated sample is of high quality if it lies within 3 standard deviations of a mode;
a mode is covered if at least 1% of the samples are high-quality samples of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data import TOY
from ..lab.distributions import coverage, distribution, js_divergence
from ..losses import ADVERSARIAL, discriminator_loss, generator_loss, gradient_penalty
from .family import Family, Network, TrainState, check_positive

__all__ = [
    "Config", "Generator", "Discriminator", "make_state", "train_step", "discriminator_step", "generator_step", "sample", "LOSSES",
    "evaluate", "OPTIMIZERS", "NOISES", "ACTIVATIONS", "draw_noise", "FAMILY",
]

LOSSES = ADVERSARIAL  # the objectives the lab compares (losses.py)
OPTIMIZERS = ("adam", "sgd", "rmsprop")
NOISES = ("uniform", "gaussian")
ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "silu": nn.SiLU, "linear": nn.Identity}


# --- the recipe and the two players ---------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """Everything that defines a toy GAN run: data, noise, both MLPs, the objective and the optimisers."""

    data: str = "ring8"
    noise: str = "gaussian"
    noise_dim: int = 2
    g_width: int = 128
    g_depth: int = 3
    g_activation: str = "relu"  # a smooth one (silu, tanh) gives G a smooth density; linear: a Gaussian
    d_width: int = 128
    d_depth: int = 3
    loss: str = "hinge"  # the default recipe: on the ring of 8 it covers every mode (bench/theory.py)
    optimizer: str = "adam"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    d_steps: int = 1

    def __post_init__(self):
        distribution(self.data)  # validates the name
        for name, choices in (("noise", NOISES), ("loss", LOSSES), ("optimizer", OPTIMIZERS), ("g_activation", ACTIVATIONS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; available: {', '.join(choices)}")
        for name, high in (("noise_dim", 2), ("g_width", 1024), ("g_depth", 8), ("d_width", 1024), ("d_depth", 8), ("d_steps", 20)):
            check_positive(name, getattr(self, name))
            if getattr(self, name) > high:
                raise ValueError(f"{name} must be at most {high}, got {getattr(self, name)}")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 1e-6 <= value <= 1.0):
                raise ValueError(f"{name} must be in 1e-6..1, got {value!r}")

    @property
    def data_dim(self) -> int:
        return distribution(self.data).dim

    @classmethod
    def tiny(cls) -> Config:
        return cls(g_width=8, g_depth=1, d_width=8, d_depth=1)


def mlp(inputs: int, width: int, depth: int, outputs: int, activation) -> nn.Sequential:
    layers, previous = [], inputs
    for _ in range(depth):
        layers += [nn.Linear(previous, width), activation()]
        previous = width
    return nn.Sequential(*layers, nn.Linear(previous, outputs))


class Generator(nn.Module, Network, library_name="ganapps", tags=["gan", "toy"]):
    """z (B, noise_dim) -> x (B, data_dim)."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.net = mlp(config.noise_dim, config.g_width, config.g_depth, config.data_dim, ACTIVATIONS[config.g_activation])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """x (B, data_dim) -> logits (B,); D(x) = sigmoid(logit). For WGAN-GP the logit is the critic's score."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.net = mlp(config.data_dim, config.d_width, config.d_depth, 1, lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def draw_noise(num: int, config: Config, rng: torch.Generator | None) -> torch.Tensor:
    if config.noise == "uniform":
        return torch.rand(num, config.noise_dim, generator=rng) * 2 - 1
    return torch.randn(num, config.noise_dim, generator=rng)


def _optimizer(name: str, params, lr: float):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.SGD(params, lr=lr)


def make_state(config: Config, *, training=None, lr: float | None = None, rng: torch.Generator, device="cpu") -> TrainState:
    """``lr`` (from --lr) overrides both players' rates; otherwise the config's lr_g and lr_d."""
    generator, discriminator = Generator(config).to(device), Discriminator(config).to(device)
    return TrainState(
        config=config,
        models={"generator": generator, "discriminator": discriminator},
        optimizers={
            "opt_g": _optimizer(config.optimizer, generator.parameters(), lr or config.lr_g),
            "opt_d": _optimizer(config.optimizer, discriminator.parameters(), lr or config.lr_d),
        },
        rng=rng,
        device=torch.device(device),
        extra={"data": distribution(config.data)},
    )


def discriminator_step(state: TrainState, real: torch.Tensor) -> dict[str, torch.Tensor]:
    """One update of D alone, G fixed: real samples ``real`` against as many of G's, fresh. D's half of the game."""
    config, generator, discriminator = state.config, state.models["generator"], state.models["discriminator"]
    opt_d = state.optimizers["opt_d"]
    with torch.no_grad():
        fake = generator(draw_noise(real.shape[0], config, state.rng).to(state.device))
    opt_d.zero_grad(set_to_none=True)
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    loss_d = discriminator_loss(config.loss, real_logits, fake_logits)
    if config.loss == "wgan_gp":
        loss_d = loss_d + gradient_penalty(discriminator, real, fake, state.rng)
    loss_d.backward()
    opt_d.step()
    return {"loss_d": loss_d.detach(), "d_real": torch.sigmoid(real_logits).mean().detach()}


def generator_step(state: TrainState, num: int) -> dict[str, torch.Tensor]:
    """One update of G alone, D fixed, on ``num`` fresh samples. G's half of the game."""
    config, generator, discriminator = state.config, state.models["generator"], state.models["discriminator"]
    opt_g = state.optimizers["opt_g"]
    opt_g.zero_grad(set_to_none=True)
    fake_logits = discriminator(generator(draw_noise(num, config, state.rng).to(state.device)))
    loss_g = generator_loss(config.loss, fake_logits)
    loss_g.backward()
    grad_norm = torch.sqrt(sum((p.grad**2).sum() for p in generator.parameters() if p.grad is not None))
    opt_g.step()
    return {"loss_g": loss_g.detach(), "d_fake": torch.sigmoid(fake_logits).mean().detach(), "grad_norm_g": grad_norm.detach()}


def train_step(state: TrainState, batch) -> dict[str, torch.Tensor]:
    (real,) = batch
    n = real.shape[0]
    # (1) Discriminator, d_steps times (fresh real samples after the first)
    for step in range(state.config.d_steps):
        if step:
            real = state.extra["data"].sample(n, state.rng).to(state.device)
        d_losses = discriminator_step(state, real)
    # (2) Generator
    g_losses = generator_step(state, n)
    return {"loss_d": d_losses["loss_d"], "loss_g": g_losses["loss_g"], "d_real": d_losses["d_real"],
            "d_fake": g_losses["d_fake"], "grad_norm_g": g_losses["grad_norm_g"]}


@torch.inference_mode()
def sample(generator: Generator, num_images: int, *, seed: int | None = None, device="cpu") -> torch.Tensor:
    """``num_images`` points (N, data_dim) from the generator (the family contract's argument names)."""
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    return generator(draw_noise(num_images, generator.config, rng).to(device)).cpu()


@torch.inference_mode()
def evaluate(state: TrainState, *, num: int = 2500, seed: int = 0) -> dict:
    """Numbers that describe where the game stands (the live read-out and metrics.json)."""
    config, data = state.config, state.extra["data"]
    generator, discriminator = state.models["generator"], state.models["discriminator"]
    generator.eval()
    rng = torch.Generator().manual_seed(seed)
    real = data.sample(num, rng).to(state.device)
    fake = generator(draw_noise(num, config, rng).to(state.device))
    generator.train()
    d_real, d_fake = torch.sigmoid(discriminator(real)), torch.sigmoid(discriminator(fake))
    eps = 1e-7
    value = (torch.log(d_real + eps).mean() + torch.log(1 - d_fake + eps).mean()).item()
    points = fake.cpu().numpy().astype(np.float64)
    modes, quality = coverage(data, points)
    return {
        "modes_covered": modes,
        "num_modes": None if data.modes is None else len(data.modes),
        "high_quality_fraction": quality,
        "mean_d_real": d_real.mean().item(),
        "mean_d_fake": d_fake.mean().item(),
        "value": value,
        "js_divergence": js_divergence(data, points),
    }


def _example_use(generator: Generator) -> torch.Tensor:
    return sample(generator, 4, seed=0)


def _example_batch(config: Config, rng: torch.Generator) -> tuple[torch.Tensor]:
    return (distribution(config.data).sample(32, rng),)


FAMILY = Family(
    name="toy", config=Config, network=Generator, make_state=make_state, train_step=train_step, dataset=TOY,
    batch_size=256, threads=1, sample=sample,
    example_batch=_example_batch, example_use=_example_use,
)
