"""Pieces shared by several families: the training state, the loss helper, weight init."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class TrainState:
    """Everything one training run changes; ``training.py`` checkpoints it as a whole.

    ``models`` are the networks by name (under torchrun the train step gets a copy of the state
    whose models are wrapped in DDP, see ``training.Run``); ``optimizers`` are keyed by name
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


class ResidualBlock(nn.Module):
    """x + conv(relu(conv(x))), 3x3 convolutions keeping ``channels`` (SRResNet's and the deraining generator's)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x):
        return x + self.body(x)


def bce_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Binary cross-entropy of logits against a constant target (1.0 real, 0.0 fake)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def ssim(a: torch.Tensor, b: torch.Tensor, *, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Mean structural similarity of two batches (B, C, H, W) in [0, 1], differentiable: the
    Gaussian-window SSIM of Wang et al. (2004), each channel on its own, no padding."""
    coords = torch.arange(window, dtype=a.dtype, device=a.device) - (window - 1) / 2
    kernel = torch.exp(-(coords**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = a.shape[1]
    kernel = (kernel[:, None] * kernel[None, :]).expand(channels, 1, window, window)

    def blur(x):
        return F.conv2d(x, kernel, groups=channels)

    mean_a, mean_b = blur(a), blur(b)
    var_a = blur(a * a) - mean_a**2
    var_b = blur(b * b) - mean_b**2
    covariance = blur(a * b) - mean_a * mean_b
    c1, c2 = 0.01**2, 0.03**2
    numerator = (2 * mean_a * mean_b + c1) * (2 * covariance + c2)
    return (numerator / ((mean_a**2 + mean_b**2 + c1) * (var_a + var_b + c2))).mean()


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


def two_player_state(config, generator: nn.Module, discriminator: nn.Module, *, lr_g: float, lr_d: float,
                     rng: torch.Generator, device, extra: dict | None = None) -> TrainState:
    """A generator and a discriminator on ``device``, each with its own ``adam`` (``opt_g``, ``opt_d``)."""
    generator, discriminator = generator.to(device), discriminator.to(device)
    return TrainState(
        config=config,
        models={"generator": generator, "discriminator": discriminator},
        optimizers={"opt_g": adam(generator.parameters(), lr_g), "opt_d": adam(discriminator.parameters(), lr_d)},
        rng=rng,
        device=torch.device(device),
        extra=extra or {},
    )


def normal_noise(num: int, dim: int, rng: torch.Generator | None, device) -> torch.Tensor:
    """N(0, 1) noise drawn on the CPU (portable: the same seed gives the same noise on any device)."""
    return torch.randn(num, dim, generator=rng).to(device)


def check_positive(name: str, value: int) -> None:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


# torchvision VGG19 layer indices of the feature maps perceptual losses use.
VGG19_LAYERS = {"relu2_2": 9, "conv5_4": 35}


def vgg_features(layer: str, device):
    """A frozen VGG19 (ImageNet) cut after ``layer`` — only if torchvision already has its weights on disk.

    Returns a function of images in [0, 1], or None when the weights are not there: nothing is
    ever downloaded implicitly, and callers fall back to a loss that needs no pretrained network.
    """
    import os

    from torchvision.models import VGG19_Weights, vgg19

    path = os.path.join(torch.hub.get_dir(), "checkpoints", VGG19_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1])
    if not os.path.isfile(path):
        return None
    network = vgg19()
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    features = network.features[: VGG19_LAYERS[layer]].to(device).eval().requires_grad_(False)
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
    return lambda images: features((images - mean) / std)


# The MNIST networks of Chen et al. (InfoGAN, 2016, appendix C), shared by DCGAN and InfoGAN.


def mnist_generator_layers(inputs: int, c: int, hidden: int) -> tuple[nn.Sequential, nn.Sequential]:
    """(project, upsample): (B, inputs) -> (B, 4c * 49), then (B, 4c, 7, 7) -> (B, 1, 28, 28) in [-1, 1]."""
    project = nn.Sequential(
        nn.Linear(inputs, hidden, bias=False),
        nn.BatchNorm1d(hidden),
        nn.ReLU(True),
        nn.Linear(hidden, 4 * c * 7 * 7, bias=False),
        nn.BatchNorm1d(4 * c * 7 * 7),
        nn.ReLU(True),
    )
    upsample = nn.Sequential(
        nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1, bias=False),  # (B, 2c, 14, 14)
        nn.BatchNorm2d(2 * c),
        nn.ReLU(True),
        nn.ConvTranspose2d(2 * c, 1, 4, 2, 1),  # (B, 1, 28, 28)
        nn.Tanh(),
    )
    return project, upsample


def mnist_discriminator_trunk(c: int, hidden: int) -> nn.Sequential:
    """images (B, 1, 28, 28) -> features (B, hidden): two stride-2 convolutions and a hidden layer."""
    return nn.Sequential(
        nn.Conv2d(1, 2 * c, 4, 2, 1),  # (B, 2c, 14, 14)
        nn.LeakyReLU(0.1, True),
        nn.Conv2d(2 * c, 4 * c, 4, 2, 1, bias=False),  # (B, 4c, 7, 7)
        nn.BatchNorm2d(4 * c),
        nn.LeakyReLU(0.1, True),
        nn.Flatten(),
        nn.Linear(4 * c * 7 * 7, hidden, bias=False),  # (B, hidden)
        nn.BatchNorm1d(hidden),
        nn.LeakyReLU(0.1, True),
    )
