"""Semi-supervised GAN on MNIST (Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016).

The discriminator is also the digit classifier: K + 1 classes, the ten digits and "generated".
Its ten logits l_k give the class; the "generated" logit is fixed at 0, so D(x) = Z / (Z + 1)
with Z = sum_k exp(l_k) is the chance that x is real. Three terms train it: cross-entropy on the
few labelled digits, log D(x) on the unlabelled ones and log(1 - D(G(z))) on generated ones. The
generator learns by feature matching: the mean of D's last hidden layer on its digits should
equal that on real ones. The unlabelled digits teach D features; the labels only name them.

Both networks are the paper's MNIST ones: D a 784-1000-500-250-250-250-10 MLP with Gaussian
noise on its input and after every layer and weight-normalised layers; G a 100-500-500-784 MLP
with batch norm and softplus. The exported network holds both: its forward gives the
discriminator's ten digit logits (``ganapps.classify``), ``sample`` draws from its generator.
Its config lists the MNIST training images whose labels it learned from (``labelled_indices``) and how
many it saw without labels (``unlabelled_images``: 0 for the baseline trained on the labels alone).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..data import SEMI_SUPERVISED_MNIST
from .family import (
    AdamOptions,
    Family,
    Network,
    TrainState,
    check_positive,
    example_digits,
    example_reading,
    two_player_state,
    unconditioned,
)

__all__ = ["Config", "Training", "MNIST_TRAIN", "SemiSupervisedGAN", "Discriminator", "Generator", "make_state",
           "unsupervised_loss", "train_step", "sample", "FAMILY"]

IMAGE_PIXELS = 28 * 28


@dataclass(frozen=True)
class Config:
    """Images are (1, 28, 28) in [-1, 1]. The last two fields are set after training: what it learned from."""

    noise_dim: int = 100
    d_widths: tuple[int, ...] = (1000, 500, 250, 250, 250)
    g_width: int = 500
    input_noise: float = 0.3
    hidden_noise: float = 0.5
    labelled_indices: tuple[int, ...] = ()  # the MNIST training images whose labels it learned from
    unlabelled_images: int = 0  # how many training images it saw without their labels

    def __post_init__(self):
        object.__setattr__(self, "d_widths", tuple(int(w) for w in self.d_widths))  # config.json gives lists
        object.__setattr__(self, "labelled_indices", tuple(int(i) for i in self.labelled_indices))
        check_positive("noise_dim", self.noise_dim)
        check_positive("g_width", self.g_width)
        if not self.d_widths or min(self.d_widths) < 1:
            raise ValueError(f"d_widths must be positive layer widths, got {self.d_widths}")
        for name in ("input_noise", "hidden_noise"):
            if not 0 <= getattr(self, name) < float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)!r}")
        if int(self.unlabelled_images) != self.unlabelled_images or self.unlabelled_images < 0:
            raise ValueError(f"unlabelled_images must be a count >= 0, got {self.unlabelled_images!r}")

    @classmethod
    def tiny(cls) -> Config:
        return cls(noise_dim=8, d_widths=(32, 16), g_width=32)


@dataclass(frozen=True)
class Training(AdamOptions):
    """How the pair is trained. ``unlabelled_weight`` 0 trains the classifier on the labelled digits alone
    (the baseline the GAN is compared with; the generator then does not train); ``g_steps``: generator
    updates per discriminator update; Adam's betas (the paper's beta1 0.5)."""

    unlabelled_weight: float = 1.0
    g_steps: int = 1

    def __post_init__(self):
        super().__post_init__()
        check_positive("g_steps", self.g_steps)
        if not 0 <= self.unlabelled_weight < float("inf"):
            raise ValueError(f"unlabelled_weight must be a finite number >= 0, got {self.unlabelled_weight!r}")


MNIST_TRAIN = 60_000  # the semi-supervised runs see every MNIST training image without its label


def migrate(raw: dict) -> dict:
    """A format-1 config.json: ``unlabelled_weight`` (training) said whether it learned from unlabelled digits."""
    weight = raw.pop("unlabelled_weight", 1.0)
    raw.setdefault("unlabelled_images", MNIST_TRAIN if weight else 0)
    return raw


class WeightNormLinear(nn.Module):
    """y = g * (V x) / ||V|| + b per output unit (Salimans & Kingma 2016): the paper's dense layers.

    With ``train_scale`` False the scale g stays where the data-dependent initialisation set it (a
    buffer) and only the direction V and the bias learn, as in the paper's code for every hidden
    layer (learning them made the semi-supervised discriminator worse: the model card's study).
    """

    def __init__(self, inputs: int, outputs: int, *, train_scale: bool = True):
        super().__init__()
        self.direction = nn.Parameter(torch.randn(outputs, inputs) * 0.05)
        if train_scale:
            self.scale = nn.Parameter(torch.ones(outputs))
        else:
            self.register_buffer("scale", torch.ones(outputs))
        self.bias = nn.Parameter(torch.zeros(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.direction * (self.scale / self.direction.norm(dim=1)).unsqueeze(1)
        return F.linear(x, weight, self.bias)

    @torch.no_grad()
    def initialise(self, x: torch.Tensor) -> torch.Tensor:
        """Data-dependent initialisation: scale and bias that give each unit zero mean and unit
        variance on the batch ``x``; returns the layer's output on it, for the next layer's."""
        self.scale.fill_(1.0)
        self.bias.zero_()
        out = self(x)
        mean, std = out.mean(0), out.std(0) + 1e-6
        self.scale.div_(std)
        self.bias.copy_(-mean / std)
        return self(x)


class Discriminator(nn.Module):
    """images (B, 1, 28, 28) -> (ten class logits (B, 10), last hidden layer (B, d_widths[-1])).

    In training mode Gaussian noise is added to the input and to every hidden layer (the paper's
    regulariser); in eval mode the network is deterministic.
    """

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        widths = (IMAGE_PIXELS, *config.d_widths)
        self.hidden = nn.ModuleList(WeightNormLinear(a, b, train_scale=False) for a, b in zip(widths, widths[1:]))
        self.classify = WeightNormLinear(widths[-1], 10)

    def _noisy(self, x: torch.Tensor, sigma: float, rng: torch.Generator | None = None) -> torch.Tensor:
        """x plus Gaussian noise of std ``sigma`` in training mode (drawn from ``rng`` if given)."""
        if not (self.training and sigma):
            return x
        return x + sigma * (torch.randn(x.shape, generator=rng).to(x.device) if rng is not None else torch.randn_like(x))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self._noisy((images.flatten(1) + 1) / 2, self.config.input_noise)  # the paper's [0, 1] pixels
        for layer in self.hidden:
            features = F.relu(layer(h))
            h = self._noisy(features, self.config.hidden_noise)
        return self.classify(h), features  # the features before their noise

    @torch.no_grad()
    def initialise(self, images: torch.Tensor, rng: torch.Generator | None = None) -> None:
        """Every layer's data-dependent initialisation, in order, on a batch of real digits with the
        training noise (drawn from ``rng``): each unit starts at zero mean and unit variance on what
        it will see while training (in training mode, as a fresh network is)."""
        h = self._noisy((images.flatten(1) + 1) / 2, self.config.input_noise, rng)
        for layer in self.hidden:
            h = self._noisy(F.relu(layer.initialise(h)), self.config.hidden_noise, rng)
        self.classify.initialise(h)


class Generator(nn.Module):
    """z (B, noise_dim), uniform in [0, 1) -> images (B, 1, 28, 28), from -1 (black) up (clamp for display)."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        w = config.g_width
        self.body = nn.Sequential(
            nn.Linear(config.noise_dim, w, bias=False), nn.BatchNorm1d(w), nn.Softplus(),
            nn.Linear(w, w, bias=False), nn.BatchNorm1d(w), nn.Softplus(),
        )
        self.out = WeightNormLinear(w, IMAGE_PIXELS)


    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # softplus pixels, not the paper's sigmoid: with a sigmoid the generator saturates and collapses
        # to one pattern that D rejects with certainty (ImprovedGAN-pytorch, Sleepychord, made the same change)
        return (2 * F.softplus(self.out(self.body(z))) - 1).view(-1, 1, 28, 28)


class SemiSupervisedGAN(nn.Module, Network, library_name="ganapps", tags=["gan", "semi-supervised", "mnist", "classifier"]):
    """The exported pair: ``discriminator`` (the digit classifier) and ``generator``.

    ``forward(images)`` gives the ten digit logits (B, 10).
    """

    def __init__(self, config: Config, *, generator: Generator | None = None, discriminator: Discriminator | None = None):
        super().__init__()
        self.config = config
        self.generator = generator if generator is not None else Generator(config)
        self.discriminator = discriminator if discriminator is not None else Discriminator(config)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.discriminator(images)[0]


def make_state(config: Config, *, training: Training | None = None, lr: float = 3e-3, rng: torch.Generator, device) -> TrainState:
    """Adam (beta1 0.5) at the paper's 0.003 for both."""
    return two_player_state(config, Generator(config), Discriminator(config), lr_g=lr, lr_d=lr, rng=rng, device=device,
                            training=training or Training())


def initialise(state: TrainState, batch) -> None:
    """The discriminator's data-dependent initialisation (Salimans & Kingma 2016) on a first batch."""
    state.models["discriminator"].initialise(batch[0], state.rng)


def assemble(models: dict[str, nn.Module]) -> SemiSupervisedGAN:
    """The exported pair, sharing the training networks' parameters."""
    generator, discriminator = models["generator"], models["discriminator"]
    return SemiSupervisedGAN(discriminator.config, generator=generator, discriminator=discriminator)


def uniform_noise(num: int, config: Config, rng: torch.Generator | None, device) -> torch.Tensor:
    return torch.rand(num, config.noise_dim, generator=rng).to(device)


def unsupervised_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """-(log D(x) + log(1 - D(G(z)))) / 2 with D = Z / (Z + 1), Z = sum_k exp(l_k), from the ten logits:
    log D = lse - softplus(lse) and log(1 - D) = -softplus(lse), with lse = log Z (stable for any logits)."""
    lse_real, lse_fake = logits_real.logsumexp(1), logits_fake.logsumexp(1)
    return 0.5 * ((F.softplus(lse_real) - lse_real).mean() + F.softplus(lse_fake).mean())


def train_step(state: TrainState, batch) -> dict[str, torch.Tensor]:
    unlabelled, labelled, labels = batch
    config, training = state.config, state.training
    generator, discriminator = state.models["generator"], state.models["discriminator"]
    opt_g, opt_d = state.optimizers["opt_g"], state.optimizers["opt_d"]

    # (1) Discriminator: name the labelled digits; call unlabelled ones real and generated ones fake.
    opt_d.zero_grad(set_to_none=True)
    logits_labelled, _ = discriminator(labelled)
    loss_supervised = F.cross_entropy(logits_labelled, labels)
    loss_d = loss_supervised
    loss_unsupervised = torch.zeros((), device=state.device)
    if training.unlabelled_weight:
        fake = generator(uniform_noise(len(unlabelled), config, state.rng, state.device))
        logits_real, _ = discriminator(unlabelled)
        logits_fake, _ = discriminator(fake.detach())
        loss_unsupervised = unsupervised_loss(logits_real, logits_fake)
        loss_d = loss_d + training.unlabelled_weight * loss_unsupervised
    loss_d.backward()
    opt_d.step()
    losses = {"loss_supervised": loss_supervised.detach(), "loss_unsupervised": loss_unsupervised.detach()}
    if not training.unlabelled_weight:
        return losses

    # (2) Generator: feature matching, || E f(x) - E f(G(z)) ||^2 on D's last hidden layer, both
    # through the discriminator as it is now (the real features of step 1 are one update old)
    with torch.no_grad():
        _, features_real = discriminator(unlabelled)
    for update in range(training.g_steps):  # more than one: a generator that keeps up with D (its loss stays low)
        if update:
            fake = generator(uniform_noise(len(unlabelled), config, state.rng, state.device))
        opt_g.zero_grad(set_to_none=True)
        _, features_fake = discriminator(fake)
        loss_g = (features_real.mean(0) - features_fake.mean(0)).square().mean()
        loss_g.backward()
        opt_g.step()
    return {**losses, "loss_g": loss_g.detach()}


@torch.inference_mode()
def sample(network: SemiSupervisedGAN, num_images: int, *, seed: int | None = None, device="cpu"):
    """(num_images, 1, 28, 28) in [-1, 1] from the generator; the same seed gives the same digits."""
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    generator = network.generator.eval()
    return generator(uniform_noise(num_images, network.config, rng, "cpu").to(device)).clamp(-1, 1)


def preview(network: SemiSupervisedGAN, *, seed: int = 0, device="cpu", data=None):
    """64 generated digits for the training sample grid: (images, images per row)."""
    return sample(network, 64, seed=seed, device=device), 8


def _example_batch(config: Config, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Unlabelled digits, labelled ones, their labels."""
    return (example_digits(config, rng)[0], *example_digits(config, rng))


def finish(network: SemiSupervisedGAN, *, data, training: Training, **_) -> Config:
    """After training: which training images' labels the run learned from, and how many it saw without labels (none
    for the baseline trained on the labels alone), in the config (the "What D learned" tab reads them)."""
    unlabelled = len(data) if training.unlabelled_weight else 0
    return dataclasses.replace(network.config, labelled_indices=tuple(data.labelled_indices), unlabelled_images=unlabelled)


FAMILY = Family(
    name="ssgan", config=Config, network=SemiSupervisedGAN, make_state=make_state, train_step=train_step,
    dataset=SEMI_SUPERVISED_MNIST, preview=preview, sample=sample, batch_size=100, assemble=assemble, initialise=initialise,
    ddp_find_unused_parameters=True,  # feature matching leaves out the classifying layer
    training=Training, migrate=migrate, example_use=example_reading,
    example_batch=_example_batch, conditions=unconditioned("a semi-supervised GAN"), finish=finish,
)
