"""Layers shared by several families, and their initialisation."""

from __future__ import annotations

from torch import nn


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


def dcgan_init(module: nn.Module) -> None:
    """Weights from N(0, 0.02), batch-norm scales from N(1, 0.02) (Radford et al. 2016, §4)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


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
