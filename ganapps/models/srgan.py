"""SRGAN — Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network", CVPR 2017.

The generator works at low resolution: a stack of residual blocks with a long skip connection,
then two x2 sub-pixel (pixel-shuffle) stages up to x4. Two models come from it, as in the paper:

* **SRResNet** (``phase="srresnet"``): the generator alone, trained with a pixel loss — the best
  PSNR, slightly smooth;
* **SRGAN** (``phase="srgan"``): initialised from SRResNet and trained with a content loss plus an
  adversarial loss (weight 1e-3) against a VGG-style discriminator, for sharper texture.

Departures from the paper, each for this project's CPU budget and measured in the README:
no batch norm in the residual blocks (EDSR, Lim et al. 2017, showed it hurts SR and costs
time); 48 channels and 8 blocks instead of 64 and 16 (``Config.paper()`` restores them); the
network predicts the difference from a bicubic upscale rather than the image itself, which
trains much faster; L1 instead of L2 as the pixel loss.

The content loss of the paper is a distance between VGG19 features (``Training(perceptual="vgg19")``,
which needs torchvision's ImageNet weights on disk). ``perceptual="discriminator_features"`` makes
it L1 on pixels plus discriminator feature matching (Wang et al., pix2pixHD, 2018): the distance
between the discriminator's intermediate features of the real and the super-resolved image, a
learned perceptual distance that needs no pretrained network.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..data import PHOTOS
from ..losses import bce, check_perceptual, feature_matching, vgg19_features
from .family import (
    AdamOptions,
    Family,
    Network,
    Restorer,
    TrainState,
    check_positive,
    upscale_batch,
    upscale_example_batch,
    upscale_example_use,
    upscale_preview,
)
from .layers import ResidualBlock

__all__ = ["Config", "Training", "Generator", "Discriminator", "make_state", "train_step", "restore", "PHASES", "preview",
           "example_batch", "example_use", "FAMILY"]

PHASES = ("srresnet", "srgan")
SCALE = 4


@dataclass(frozen=True)
class Config:
    """Architecture of the x4 SR generator and its discriminator. Images are RGB in [0, 1]."""

    channels: int = 48
    num_blocks: int = 8
    disc_channels: int = 32

    def __post_init__(self):
        check_positive("channels", self.channels)
        check_positive("num_blocks", self.num_blocks)
        check_positive("disc_channels", self.disc_channels)

    @property
    def receptive_radius(self) -> int:
        """How far (in low-res pixels) an output pixel can see: the tile overlap that makes tiling exact."""
        # head + 2 per block + body end + first upsampling conv, at low res; then the x2 conv,
        # the last conv and the bicubic skip add less than 3 more low-res pixels.
        return 1 + 2 * self.num_blocks + 1 + 1 + 3

    @classmethod
    def tiny(cls) -> Config:
        return cls(channels=8, num_blocks=1, disc_channels=4)

    @classmethod
    def paper(cls) -> Config:
        """The paper's size (64 channels, 16 blocks), for users with a GPU."""
        return cls(channels=64, num_blocks=16, disc_channels=64)


class Generator(nn.Module, Network, library_name="ganapps", tags=["gan", "srgan", "super-resolution"]):
    """low_res (B, 3, h, w) in [0, 1] -> high_res (B, 3, 4h, 4w), about [0, 1] (clamp for display)."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        c = config.channels
        self.head = nn.Conv2d(3, c, 3, padding=1)
        self.body = nn.Sequential(*[ResidualBlock(c) for _ in range(config.num_blocks)], nn.Conv2d(c, c, 3, padding=1))
        self.upsample = nn.Sequential(
            nn.Conv2d(c, 4 * c, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(c),  # (B, c, 2h, 2w)
            nn.Conv2d(c, 4 * c, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(c),  # (B, c, 4h, 4w)
        )
        self.tail = nn.Conv2d(c, 3, 3, padding=1)
        nn.init.zeros_(self.tail.weight)  # start as bicubic, learn the missing detail
        nn.init.zeros_(self.tail.bias)

    def forward(self, low_res: torch.Tensor) -> torch.Tensor:
        features = self.head(low_res)
        features = features + self.body(features)  # long skip (SRResNet)
        detail = self.tail(self.upsample(features))  # (B, 3, 4h, 4w)
        base = F.interpolate(low_res, scale_factor=SCALE, mode="bicubic", align_corners=False)
        return base + detail


class Discriminator(nn.Module):
    """high_res (B, 3, H, W) -> (logits (B,), intermediate features for feature matching)."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        c = config.disc_channels
        widths = [c, c, 2 * c, 2 * c, 4 * c, 4 * c, 8 * c, 8 * c]
        layers, previous = [], 3
        for index, width in enumerate(widths):
            stride = 2 if index % 2 else 1
            block = [nn.Conv2d(previous, width, 3, stride, 1)]
            if index:
                block.append(nn.BatchNorm2d(width))
            block.append(nn.LeakyReLU(0.2, inplace=True))
            layers.append(nn.Sequential(*block))
            previous = width
        self.blocks = nn.ModuleList(layers)  # (B, 8c, H/16, W/16) at the end
        self.classify = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8 * c, 16 * c), nn.LeakyReLU(0.2, inplace=True), nn.Linear(16 * c, 1)
        )

    def forward(self, images: torch.Tensor):
        features = []
        h = images * 2 - 1
        for block in self.blocks:
            h = block(h)
            features.append(h)
        return self.classify(h).squeeze(1), features


@dataclass(frozen=True)
class Training(AdamOptions):
    """How the pair is trained: ``perceptual`` is the content loss's distance, ``"vgg19"`` (the paper's)
    or ``"discriminator_features"`` (L1 + feature matching; ``losses.PERCEPTUAL``)."""

    perceptual: str = "discriminator_features"
    adversarial_weight: float = 1e-3  # the paper's weight of the adversarial term
    # with discriminator_features: L1 + this x feature matching (1.0 gave speckled texture on text within 200 steps)
    feature_matching_weight: float = 0.1
    beta1: float = 0.9  # Adam's, both networks (the paper's)

    def __post_init__(self):
        super().__post_init__()
        check_perceptual(self.perceptual)
        for name in ("adversarial_weight", "feature_matching_weight"):
            if not 0 <= getattr(self, name) < float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)!r}")


def make_state(config: Config, *, training: Training | None = None, lr: float = 2e-4, rng: torch.Generator, device,
               phase: str = "srresnet") -> TrainState:
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; available: {', '.join(PHASES)}")
    training = training or Training()
    generator = Generator(config).to(device)
    models = {"generator": generator}
    betas = training.betas
    optimizers = {"opt_g": torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)}
    extra = {"phase": phase}
    if phase == "srgan":
        discriminator = Discriminator(config).to(device)
        models["discriminator"] = discriminator
        optimizers["opt_d"] = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas)
        if training.perceptual == "vgg19":
            extra["vgg"] = vgg19_features("conv5_4", device)
    return TrainState(config=config, models=models, optimizers=optimizers, rng=rng, device=torch.device(device), extra=extra,
                      training=training)




def train_step(state: TrainState, batch) -> dict[str, torch.Tensor]:
    low_res, high_res = batch
    generator, opt_g = state.models["generator"], state.optimizers["opt_g"]
    super_res = generator(low_res)

    if state.extra["phase"] == "srresnet":
        # SRResNet: minimise || G(low_res) - high_res ||_1
        opt_g.zero_grad(set_to_none=True)
        loss_pixel = F.l1_loss(super_res, high_res)
        loss_pixel.backward()
        opt_g.step()
        return {"loss_pixel": loss_pixel.detach()}

    discriminator, opt_d = state.models["discriminator"], state.optimizers["opt_d"]
    # (1) Discriminator: maximise log D(high_res) + log(1 - D(G(low_res)))
    opt_d.zero_grad(set_to_none=True)
    loss_d_real = bce(discriminator(high_res)[0], 1.0)
    loss_d_real.backward()
    loss_d_fake = bce(discriminator(super_res.detach())[0], 0.0)
    loss_d_fake.backward()
    opt_d.step()

    # (2) Generator: minimise content(G(low_res), high_res) - 1e-3 log D(G(low_res))
    opt_g.zero_grad(set_to_none=True)
    logits_fake, features_fake = discriminator(super_res)
    loss_adversarial = bce(logits_fake, 1.0)
    loss_pixel = F.l1_loss(super_res, high_res)
    if state.training.perceptual == "vgg19":
        vgg = state.extra["vgg"]
        with torch.no_grad():
            target = vgg(high_res)
        loss_content = F.mse_loss(vgg(super_res) / 12.75, target / 12.75)  # VGG54, rescaled as in the paper
    else:
        with torch.no_grad():
            features_real = discriminator(high_res)[1]
        loss_content = loss_pixel + state.training.feature_matching_weight * feature_matching(features_fake, features_real)
    (loss_content + state.training.adversarial_weight * loss_adversarial).backward()
    opt_g.step()
    return {
        "loss_d": (loss_d_real + loss_d_fake).detach(),
        "loss_g": loss_adversarial.detach(),
        "loss_content": loss_content.detach(),
        "loss_pixel": loss_pixel.detach(),
    }


restore, preview, example_batch, example_use = upscale_batch, upscale_preview, upscale_example_batch, upscale_example_use


FAMILY = Family(
    name="srgan", config=Config, network=Generator, make_state=make_state, train_step=train_step, dataset=PHOTOS,
    preview=preview, phases=PHASES, restorer=Restorer(restore, scale=SCALE), training=Training,
    example_batch=example_batch, example_use=example_use,
)
