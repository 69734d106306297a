"""InfoGAN — Chen, Duan, Houthooft, Schulman, Sutskever & Abbeel, "InfoGAN: Interpretable
Representation Learning by Information Maximizing Generative Adversarial Nets", NeurIPS 2016.

The generator's input is split into incompressible noise z and a structured code c: here one
10-way categorical code and three continuous codes in [-1, 1]. Besides the GAN game, both players
maximise a variational lower bound on the mutual information I(c; G(z, c)): a Q head, sharing the
discriminator's convolutional trunk, predicts c from the image, and its log-likelihood is added to
both objectives (lambda 1 for the categorical code; 0.5 for the continuous ones, Gaussian with unit
variance). Nothing tells the model what the codes mean; on MNIST the categories tend to become digits
and the continuous codes slant and stroke width. ``calibrate`` measures the trained generator to
find out which is which, and the answer is stored in the ``Config``.

The paper's MNIST experiment used two continuous codes. Here a third code, at a middle weight,
leaves room for slant, width and one more style factor; the model card has the measurements that
chose it (two codes gave almost no slant at a low weight and turned into rotations at a high one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from ..data import MNIST
from ..losses import bce
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
)
from .layers import dcgan_init, mnist_discriminator_trunk, mnist_generator_layers

__all__ = ["Config", "Training", "Generator", "Discriminator", "make_state", "train_step", "sample", "calibrate", "draw_codes",
           "info_loss", "categories_of", "codes_for", "conditions", "FAMILY"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    """Architecture of the InfoGAN pair, and what its codes were measured to mean.

    Images are (1, 28, 28) in [-1, 1]. ``category_digits[k]`` is the digit that category k draws;
    ``slant_code`` / ``width_code`` index the continuous code that controls slant / stroke width,
    and ``slant_sign`` / ``width_sign`` say whether raising that code raises the attribute (+1) or
    lowers it (-1). They stay None until ``calibrate`` has measured a trained generator.
    """

    noise_dim: int = 62
    num_categories: int = 10
    num_continuous: int = 3
    base_channels: int = 32
    hidden_dim: int = 256
    category_digits: tuple[int, ...] | None = None
    slant_code: int | None = None
    slant_sign: int = 1
    width_code: int | None = None
    width_sign: int = 1

    def __post_init__(self):
        check_positive("noise_dim", self.noise_dim)
        check_positive("base_channels", self.base_channels)
        check_positive("hidden_dim", self.hidden_dim)
        if self.num_categories < 2:
            raise ValueError(f"num_categories must be >= 2, got {self.num_categories}")
        if self.num_continuous < 0:
            raise ValueError(f"num_continuous must be >= 0, got {self.num_continuous}")
        if self.category_digits is not None:
            object.__setattr__(self, "category_digits", tuple(int(d) for d in self.category_digits))
            if len(self.category_digits) != self.num_categories:
                raise ValueError(
                    f"category_digits needs one digit per category ({self.num_categories}), "
                    f"got {len(self.category_digits)}"
                )
        for name in ("slant_code", "width_code"):
            code = getattr(self, name)
            if code is not None and not 0 <= code < self.num_continuous:
                raise ValueError(f"{name} must be in 0..{self.num_continuous - 1}, got {code}")
        for name in ("slant_sign", "width_sign"):
            if getattr(self, name) not in (1, -1):
                raise ValueError(f"{name} must be 1 or -1, got {getattr(self, name)}")

    @property
    def latent_dim(self) -> int:
        return self.noise_dim + self.num_categories + self.num_continuous

    @classmethod
    def tiny(cls) -> Config:
        return cls(noise_dim=8, base_channels=4, hidden_dim=16)


class Generator(nn.Module, Network, library_name="ganapps", tags=["gan", "infogan", "mnist"]):
    """(z (B, noise_dim), categories (B,), continuous (B, num_continuous)) -> (B, 1, 28, 28) in [-1, 1]."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.project, self.upsample = mnist_generator_layers(config.latent_dim, config.base_channels, config.hidden_dim)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor, categories: torch.Tensor, continuous: torch.Tensor) -> torch.Tensor:
        c = self.config.base_channels
        one_hot = F.one_hot(categories, self.config.num_categories).to(z.dtype)
        h = self.project(torch.cat([z, one_hot, continuous], dim=1))  # (B, 4c * 49)
        return self.upsample(h.view(-1, 4 * c, 7, 7))


class Discriminator(nn.Module):
    """images (B, 1, 28, 28) -> (real/fake logits (B,), category logits (B, K), continuous means (B, C)).

    The last two are the Q head: it shares every layer but the last with the discriminator, so
    the mutual-information term costs almost nothing (Chen et al. 2016, §5).
    """

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        c = config.base_channels
        self.trunk = mnist_discriminator_trunk(c, config.hidden_dim)
        self.classify = nn.Linear(config.hidden_dim, 1)
        self.q_head = nn.Sequential(
            nn.Linear(config.hidden_dim, 128, bias=False),
            nn.BatchNorm1d(128),
            nn.LeakyReLU(0.1, True),
            nn.Linear(128, config.num_categories + config.num_continuous),
        )
        self.apply(dcgan_init)

    def forward(self, images: torch.Tensor):
        h = self.trunk(images)
        q = self.q_head(h)
        k = self.config.num_categories
        return self.classify(h).squeeze(1), q[:, :k], q[:, k:]


def draw_codes(num: int, config: Config, rng: torch.Generator | None):
    """The prior of the structured code: a uniform category and continuous codes ~ U(-1, 1)."""
    categories = torch.randint(config.num_categories, (num,), generator=rng)
    continuous = torch.rand(num, config.num_continuous, generator=rng) * 2 - 1
    return categories, continuous


@dataclass(frozen=True)
class Training(AdamOptions):
    """How the pair is trained: lambda of the information term for the categorical code and for the continuous ones;
    ``g_lr_ratio``: G's learning rate over D's (5: the paper's MNIST recipe, 1e-3 / 2e-4); Adam's betas."""

    category_weight: float = 1.0
    continuous_weight: float = 0.5
    g_lr_ratio: float = 5.0

    def __post_init__(self):
        super().__post_init__()
        check_rate_ratio(self.g_lr_ratio)
        for name in ("category_weight", "continuous_weight"):
            if not 0 <= getattr(self, name) <= 10:
                raise ValueError(f"{name} must be in 0..10, got {getattr(self, name)}")


def info_loss(cat_logits, cont_mean, categories, continuous, training: Training) -> torch.Tensor:
    """-L_I: ``category_weight`` x cross-entropy for the category plus ``continuous_weight`` x Gaussian NLL (unit
    variance) for the continuous codes."""
    loss = training.category_weight * F.cross_entropy(cat_logits, categories)
    if continuous.shape[1]:
        loss = loss + training.continuous_weight * 0.5 * F.mse_loss(cont_mean, continuous, reduction="none").sum(1).mean()
    return loss


def make_state(config: Config, *, training: Training | None = None, lr: float = 2e-4, rng: torch.Generator, device) -> TrainState:
    """Adam for both; G learns ``g_lr_ratio`` times faster than D."""
    training = training or Training()
    return two_player_state(config, Generator(config), Discriminator(config), lr_g=training.g_lr_ratio * lr, lr_d=lr, rng=rng,
                            device=device, training=training)


def train_step(state: TrainState, batch) -> dict[str, torch.Tensor]:
    real, _labels = batch
    config = state.config
    generator, discriminator = state.models["generator"], state.models["discriminator"]
    opt_g, opt_d = state.optimizers["opt_g"], state.optimizers["opt_d"]
    n = real.shape[0]
    z = normal_noise(n, config.noise_dim, state.rng, state.device)
    categories, continuous = (t.to(state.device) for t in draw_codes(n, config, state.rng))
    fake = generator(z, categories, continuous)

    # (1) Discriminator and Q: maximise log D(x) + log(1 - D(G(z, c))) + lambda L_I(c; G(z, c))
    opt_d.zero_grad(set_to_none=True)
    logits_real, _, _ = discriminator(real)
    loss_d_real = bce(logits_real, 1.0)
    loss_d_real.backward()
    logits_fake, cat_logits, cont_mean = discriminator(fake.detach())
    loss_d_fake = bce(logits_fake, 0.0)
    loss_info_d = info_loss(cat_logits, cont_mean, categories, continuous, state.training)
    (loss_d_fake + loss_info_d).backward()
    opt_d.step()

    # (2) Generator: maximise log D(G(z, c)) + lambda L_I(c; G(z, c))   (non-saturating)
    opt_g.zero_grad(set_to_none=True)
    logits_fake, cat_logits, cont_mean = discriminator(fake)
    loss_g = bce(logits_fake, 1.0)
    loss_info = info_loss(cat_logits, cont_mean, categories, continuous, state.training)
    (loss_g + loss_info).backward()
    opt_g.step()
    return {"loss_d": (loss_d_real + loss_d_fake).detach(), "loss_g": loss_g.detach(), "loss_info": loss_info.detach()}


@torch.inference_mode()
def sample(
    generator: Generator, num_images: int, *, labels=None, codes=None, latents=None, seed: int | None = None, device="cpu"
):
    """Return (num_images, 1, 28, 28) in [-1, 1].

    ``labels`` are category indices (not digits: ``Config.category_digits`` maps them) and
    ``codes`` the continuous codes (num_images, num_continuous); ``latents`` (num_images, noise_dim)
    replaces the drawn noise z. What is not given is drawn from the prior with ``seed``; z is drawn
    first, so changing a code or a label keeps the same z.
    """
    config = generator.config
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    z = normal_noise(num_images, config.noise_dim, rng, "cpu")
    if latents is not None:
        z = torch.as_tensor(latents, dtype=torch.float32).reshape(num_images, config.noise_dim)
    drawn_labels, drawn_codes = draw_codes(num_images, config, rng)
    labels = drawn_labels if labels is None else torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    codes = drawn_codes if codes is None else torch.as_tensor(codes, dtype=torch.float32).reshape(num_images, -1)
    if labels.numel() != num_images:
        raise ValueError(f"got {labels.numel()} labels for {num_images} images")
    if labels.numel() and (labels.min() < 0 or labels.max() >= config.num_categories):
        raise ValueError(f"categories must be in 0..{config.num_categories - 1}, got {labels.tolist()}")
    if codes.shape != (num_images, config.num_continuous):
        raise ValueError(f"codes must have shape ({num_images}, {config.num_continuous}), got {tuple(codes.shape)}")
    return generator(z.to(device), labels.to(device), codes.to(device))


def calibrate(generator: Generator, classifier, *, num_per_category: int = 200, seed: int = 0) -> Config:
    """Measure what the trained generator's codes do, and return its config with the answer.

    Category k's digit is the classifier's majority vote over its samples. For each continuous
    code, the samples are drawn with the code swept over [-1, 1] and everything else fixed, and
    the rank correlation of the sweep with the measured slant and stroke width is averaged over
    many rows; slant and width go to the pair of codes with the largest total correlation, each
    with the sign of its correlation.
    """
    from ..metrics import classify, rank_correlation, slant, stroke_width

    config = generator.config
    generator.eval()
    digits = []
    for category in range(config.num_categories):
        images = sample(generator, num_per_category, labels=[category] * num_per_category, seed=seed + category)
        predicted, _ = classify(classifier, images)
        digits.append(int(torch.bincount(predicted, minlength=10).argmax()))

    sweep = torch.linspace(-1, 1, 9)
    rows = 40  # seeds per sweep
    correlations = {}  # (code, attribute) -> mean rank correlation over rows
    for code in range(config.num_continuous):
        values = {"slant": [], "width": []}
        for row in range(rows):
            codes = torch.zeros(len(sweep), config.num_continuous)
            codes[:, code] = sweep
            z = normal_noise(1, config.noise_dim, torch.Generator().manual_seed(seed + 1000 + row), "cpu")
            labels = [row % config.num_categories] * len(sweep)
            images = sample(generator, len(sweep), labels=labels, codes=codes, latents=z.repeat(len(sweep), 1))
            values["slant"].append(rank_correlation(sweep, slant(images)))
            values["width"].append(rank_correlation(sweep, stroke_width(images)))
        for attribute, rhos in values.items():
            correlations[(code, attribute)] = float(torch.tensor(rhos).nanmean())

    if config.num_continuous >= 2:
        # Assign the two attributes jointly: the pair of distinct codes whose sweeps correlate
        # most, in total, with slant and with width (a code can move both; it goes where it moves most).
        pairs = [(a, b) for a in range(config.num_continuous) for b in range(config.num_continuous) if a != b]
        slant_code, width_code = max(
            pairs, key=lambda pair: abs(correlations[(pair[0], "slant")]) + abs(correlations[(pair[1], "width")])
        )
        sign = lambda value: 1 if value >= 0 else -1
        return replace(
            config,
            category_digits=tuple(digits),
            slant_code=slant_code,
            slant_sign=sign(correlations[(slant_code, "slant")]),
            width_code=width_code,
            width_sign=sign(correlations[(width_code, "width")]),
        )
    return replace(config, category_digits=tuple(digits))


def preview(generator: Generator, *, seed: int = 0, device="cpu", data=None):
    """Eight rows, one column per category, for the training sample grid: (images, images per row)."""
    k = generator.config.num_categories
    return sample(generator, 8 * k, labels=torch.arange(k).repeat(8), seed=seed, device=device), k


def _example_use(generator: Generator) -> torch.Tensor:
    return sample(generator, 4, seed=0)


def categories_of(config: Config, digit: int) -> list[int]:
    """The categories of a calibrated InfoGAN that draw ``digit``; a ValueError if none does."""
    if config.category_digits is None:
        raise ValueError("this InfoGAN checkpoint is not calibrated; run `python -m ganapps calibrate` on it")
    categories = [k for k, d in enumerate(config.category_digits) if d == digit]
    if not categories:
        drawn = ", ".join(str(d) for d in sorted(set(config.category_digits)))
        raise ValueError(f"no category of this InfoGAN draws a {digit}; its categories draw: {drawn}")
    return categories


def codes_for(config: Config, num_images: int, slant: float, width: float) -> torch.Tensor:
    """Continuous codes (num_images, num_continuous) that set the measured slant and stroke width."""
    if config.slant_code is None or config.width_code is None:
        raise ValueError("this InfoGAN checkpoint is not calibrated; run `python -m ganapps calibrate` on it")
    codes = torch.zeros(num_images, config.num_continuous)
    codes[:, config.slant_code] = slant * config.slant_sign
    codes[:, config.width_code] = width * config.width_sign
    return codes


def conditions(generator: Generator, num_images: int, *, seed: int, start: int = 0, digit=None, slant=None, width=None) -> dict:
    """``sample``'s labels and codes: the categories that draw ``digit`` (in turn from place ``start`` of a sequence),
    and the measured slant and stroke-width codes set to ``slant`` and ``width`` (the other codes drawn from ``seed``)."""
    config, found = generator.config, {}
    if digit is not None:
        categories = categories_of(config, digit)
        found["labels"] = torch.tensor([categories[i % len(categories)] for i in range(start, start + num_images)])
    if slant is not None or width is not None:
        drawn = draw_codes(num_images, config, torch.Generator().manual_seed(seed))[1]
        fixed = codes_for(config, num_images, slant or 0.0, width or 0.0)
        codes = drawn.clone()
        if slant is not None:
            codes[:, config.slant_code] = fixed[:, config.slant_code]
        if width is not None:
            codes[:, config.width_code] = fixed[:, config.width_code]
        found["codes"] = codes
    return found


def finish(generator: Generator, *, classifier, **_) -> Config:
    """After training: what the codes mean, measured with the digit classifier ``classifier()`` (``calibrate``);
    the config as it was when the caller skips it (None)."""
    reader = classifier()
    if reader is None:
        return generator.config
    generator.eval()
    return calibrate(generator, reader)


FAMILY = Family(
    name="infogan", config=Config, network=Generator, make_state=make_state, train_step=train_step, dataset=MNIST,
    preview=preview, sample=sample, training=Training, example_batch=example_digits,
    example_use=_example_use, conditions=conditions, finish=finish,
    ddp_find_unused_parameters=True,  # scoring real images leaves the Q head out of the loss
)
