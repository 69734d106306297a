"""ID-CGAN — Zhang, Sindagi & Patel, "Image De-raining Using a Conditional Generative Adversarial
Network", IEEE TCSVT 2019 (arXiv 2017).

A conditional GAN whose generator sees the rainy photo and must produce the clean one. The
generator is a densely connected encoder-decoder: dense blocks (each layer sees all earlier
feature maps of its block) at half and quarter resolution, transition layers between them and
skip connections across. The discriminator is multi-scale: a patch-level head scores every
local window and a global head scores the whole image. The "refined" loss adds three terms —
per-pixel, adversarial and perceptual — weighted 1, 6.6e-3 and 1 as in the paper.

Departures, for the CPU budget and for stability: the generator predicts the rain layer to
subtract (residual learning, as DDN/JORDER) rather than the clean image; L1 instead of L2 as the
pixel term. The perceptual term is chosen by the recipe (``Training.perceptual``): VGG19 relu2_2
features (the paper used VGG16 relu2_2; the weights must be on disk, nothing is downloaded
implicitly), or discriminator feature matching (pix2pixHD), as for SRGAN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..data import RAIN
from ..losses import bce, check_perceptual, feature_matching, ssim, vgg19_features
from .family import AdamOptions, Family, Network, Restorer, TrainState, check_positive, example_photo, two_player_state
from .layers import ResidualBlock

__all__ = [
    "Config", "Training", "Stage", "Generator", "Discriminator", "make_state", "train_step", "restore", "GRID",
    "image_statistics", "FAMILY",
]



@dataclass(frozen=True)
class Config:
    """Architecture of the deraining pair. Images are RGB in [0, 1], any size."""

    channels: int = 32
    growth: int = 16
    layers_per_block: int = 4
    disc_channels: int = 32
    refine_blocks: int = 1  # residual blocks at full resolution, where thin streaks are
    global_context: bool = True  # a per-image colour correction from whole-image statistics (haze)
    # PReNet's progressive stages: one small full-resolution network, its weights shared by every
    # stage, sees the rainy photo beside the current estimate and corrects the estimate.
    stages: int = 0
    stage_channels: int = 16
    stage_blocks: int = 2

    def __post_init__(self):
        for name in ("channels", "growth", "layers_per_block", "disc_channels", "stage_channels", "stage_blocks"):
            check_positive(name, getattr(self, name))
        for name in ("refine_blocks", "stages"):
            if getattr(self, name):
                check_positive(name, getattr(self, name))
        if not isinstance(self.global_context, bool):
            raise ValueError(f"global_context must be true or false, got {self.global_context!r}")

    @property
    def receptive_radius(self) -> int:
        """How far (in pixels) an output pixel can see: the tile overlap that makes tiling exact.

        Each 3x3 convolution reaches one pixel of its own level (1, 2 or 4 full-resolution
        pixels at full, half and quarter resolution), each halving or doubling one more: three
        convolutions and 2r in the residual blocks at full resolution, 2n at half and n at
        quarter resolution, and four resamplings (1 + 2 + 2 + 1). Each progressive stage adds its
        two outer convolutions and two per residual block.
        """
        stages = self.stages * (2 + 2 * self.stage_blocks)
        return 3 + 2 * self.refine_blocks + 2 * (2 * self.layers_per_block) + 4 * self.layers_per_block + 6 + stages

    @classmethod
    def tiny(cls) -> Config:
        return cls(channels=4, growth=4, layers_per_block=1, disc_channels=4)


class DenseBlock(nn.Module):
    """Each 3x3 layer adds ``growth`` channels and sees every earlier map; a 1x1 conv then maps to ``out``."""

    def __init__(self, channels: int, growth: int, layers: int, out: int):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels + i * growth, growth, 3, padding=1), nn.ReLU(inplace=True)) for i in range(layers)
        )
        self.transition = nn.Sequential(nn.Conv2d(channels + layers * growth, out, 1), nn.ReLU(inplace=True))

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, dim=1)))
        return self.transition(torch.cat(features, dim=1))


GRID = 4  # two halvings: the network pads its input to a multiple of this, and tiles must start on it
STATISTICS = 17  # see image_statistics
STATISTICS_PIXELS = 65_536  # image_statistics looks at a regular subsample of about this many pixels


def image_statistics(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] -> (B, 17): what haze and dense rain do to a whole photo.

    Per colour channel its mean, standard deviation and 1st/50th/99th percentiles, and the 1st and
    50th percentiles of the dark channel (the darkest channel of each pixel), which haze lifts
    (He, Sun & Tang 2009). Computed on a regular grid of at most about 65,536 pixels, so a
    12-megapixel photo costs no more than a crop, and a tiled pass can compute them once for
    the whole photo.
    """
    height, width = images.shape[-2:]
    stride = max(1, math.ceil(math.sqrt(height * width / STATISTICS_PIXELS)))
    pixels = images[..., ::stride, ::stride].flatten(2).float()  # (B, 3, N)
    levels = torch.tensor([0.01, 0.5, 0.99], device=pixels.device)
    channel = torch.quantile(pixels, levels, dim=2).permute(1, 2, 0).flatten(1)  # (B, 9)
    dark = torch.quantile(pixels.amin(dim=1), levels[:2], dim=1).t()  # (B, 2)
    return torch.cat([pixels.mean(dim=2), pixels.std(dim=2, correction=0), channel, dark], dim=1)


class Stage(nn.Module):
    """(rainy, estimate) -> a better estimate, at full resolution: estimate + f(rainy, estimate).

    PReNet's recursive unit (Ren et al., "Progressive Image Deraining Networks", CVPR 2019, PRN_r)
    without its LSTM; its last convolution starts at zero, so a grown network computes what it did.
    """

    def __init__(self, channels: int, blocks: int):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(6, channels, 3, padding=1), nn.ReLU(inplace=True))
        self.body = nn.Sequential(*(ResidualBlock(channels) for _ in range(blocks)))
        self.tail = nn.Conv2d(channels, 3, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, rainy: torch.Tensor, estimate: torch.Tensor) -> torch.Tensor:
        return estimate + self.tail(self.body(self.head(torch.cat([rainy, estimate], dim=1) * 2 - 1)))


class Generator(nn.Module, Network, library_name="ganapps", tags=["gan", "deraining", "id-cgan"]):
    """rainy (B, 3, H, W) in [0, 1] -> derained (B, 3, H, W), about [0, 1].

    The dense blocks work at half and quarter resolution (as ID-CGAN's, which follow a strided
    first stage); at full resolution there are the first and last convolutions, the skip
    connection that carries fine detail across and ``refine_blocks`` residual blocks. Dense
    concatenation is memory traffic, and at full resolution it would dominate the running time
    on a CPU. With ``global_context`` a small network reads ``image_statistics`` of the whole
    photo and corrects each colour channel by a gain and an offset: haze and the veil of dense
    far rain lift the whole picture, which no window of the encoder-decoder can tell from a
    bright scene.
    """

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        c, g, n = config.channels, config.growth, config.layers_per_block
        self.head = nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.ReLU(inplace=True))  # (B, c, H, W)
        self.encode1 = DenseBlock(c, g, n, 2 * c)  # (B, 2c, H/2, W/2)
        self.encode2 = DenseBlock(2 * c, g, n, 3 * c)  # (B, 3c, H/4, W/4)
        self.decode1 = DenseBlock(3 * c + 2 * c, g, n, 2 * c)  # (B, 2c, H/2, W/2)
        self.decode0 = nn.Sequential(nn.Conv2d(2 * c + c, c, 3, padding=1), nn.ReLU(inplace=True))  # (B, c, H, W)
        self.refine = nn.Sequential(*(ResidualBlock(c) for _ in range(config.refine_blocks)))
        for block in self.refine:  # a new block starts as the identity (so a trained network can grow)
            nn.init.zeros_(block.body[2].weight)
            nn.init.zeros_(block.body[2].bias)
        self.tail = nn.Conv2d(c, 3, 3, padding=1)
        nn.init.zeros_(self.tail.weight)  # start as the identity: no rain removed yet
        nn.init.zeros_(self.tail.bias)
        self.stage = Stage(config.stage_channels, config.stage_blocks) if config.stages else None
        self.correct = None
        if config.global_context:
            self.correct = nn.Sequential(nn.Linear(STATISTICS, 64), nn.ReLU(inplace=True), nn.Linear(64, 6))  # gain, offset
            nn.init.zeros_(self.correct[2].weight)  # no correction yet
            nn.init.zeros_(self.correct[2].bias)

    def forward(self, rainy: torch.Tensor, statistics: torch.Tensor | None = None) -> torch.Tensor:
        """``statistics``: ``image_statistics`` of the whole photo when ``rainy`` is a tile of it (default: of ``rainy``)."""
        height, width = rainy.shape[-2:]
        pad = (0, (-width) % GRID, 0, (-height) % GRID)  # two halvings need sides divisible by 4
        x = F.pad(rainy, pad, mode="replicate") * 2 - 1
        level0 = self.head(x)
        level1 = self.encode1(F.avg_pool2d(level0, 2))
        level2 = self.encode2(F.avg_pool2d(level1, 2))
        up1 = self.decode1(torch.cat([F.interpolate(level2, scale_factor=2, mode="nearest"), level1], dim=1))
        up0 = self.decode0(torch.cat([F.interpolate(up1, scale_factor=2, mode="nearest"), level0], dim=1))
        rain = self.tail(self.refine(up0))[..., :height, :width]
        derained = rainy - rain
        for _ in range(self.config.stages):
            derained = self.stage(rainy, derained)
        if self.correct is None:
            return derained
        if statistics is None:
            statistics = image_statistics(rainy)
        gain, offset = self.correct(statistics.to(rainy.dtype)).view(-1, 2, 3, 1, 1).unbind(dim=1)
        return derained * (1 + gain) + offset


class Discriminator(nn.Module):
    """(rainy, candidate) pairs -> (patch logits (B, 1, h, w), global logits (B,), features).

    Conditioned like pix2pix: it sees the rainy input beside the candidate clean image.
    """

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        c = config.disc_channels
        widths = [c, 2 * c, 4 * c]
        blocks, previous = [], 6
        for index, width in enumerate(widths):
            layers = [nn.Conv2d(previous, width, 4, 2, 1)]
            if index:
                layers.append(nn.InstanceNorm2d(width, affine=True))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            blocks.append(nn.Sequential(*layers))
            previous = width
        self.blocks = nn.ModuleList(blocks)  # (B, 4c, H/8, W/8)
        self.patch = nn.Conv2d(4 * c, 1, 3, padding=1)  # local realism, one logit per window
        self.global_head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * c, 1))

    def forward(self, rainy: torch.Tensor, candidate: torch.Tensor):
        h = torch.cat([rainy, candidate], dim=1) * 2 - 1
        features = []
        for block in self.blocks:
            h = block(h)
            features.append(h)
        return self.patch(h), self.global_head(h).squeeze(1), features


@dataclass(frozen=True)
class Training(AdamOptions):
    """How the pair is trained: ``ssim_weight`` adds ssim_weight x (1 - SSIM) to the pixel loss (PReNet's);
    ``perceptual`` is ``"vgg19"`` (ID-CGAN's relu2_2 features) or ``"discriminator_features"``."""

    ssim_weight: float = 0.0
    perceptual: str = "discriminator_features"
    adversarial_weight: float = 6.6e-3  # ID-CGAN's weights: pixel 1, adversarial 6.6e-3, perceptual 1
    perceptual_weight: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        for name in ("ssim_weight", "adversarial_weight", "perceptual_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        check_perceptual(self.perceptual)


def make_state(config: Config, *, training: Training | None = None, lr: float = 2e-4, rng: torch.Generator, device) -> TrainState:
    training = training or Training()
    extra = {"vgg": vgg19_features("relu2_2", device)} if training.perceptual == "vgg19" else {}
    return two_player_state(config, Generator(config), Discriminator(config), lr_g=lr, lr_d=lr, rng=rng, device=device,
                            extra=extra, training=training)


def _adversarial(patch_logits, global_logits, target: float) -> torch.Tensor:
    return (bce(patch_logits, target) + bce(global_logits, target)) / 2


def train_step(state: TrainState, batch) -> dict[str, torch.Tensor]:
    rainy, clean = batch
    generator, discriminator = state.models["generator"], state.models["discriminator"]
    opt_g, opt_d = state.optimizers["opt_g"], state.optimizers["opt_d"]
    derained = generator(rainy)

    # (1) Discriminator: maximise log D(rainy, clean) + log(1 - D(rainy, G(rainy))), patch and global
    opt_d.zero_grad(set_to_none=True)
    patch, whole, _ = discriminator(rainy, clean)
    loss_d_real = _adversarial(patch, whole, 1.0)
    loss_d_real.backward()
    patch, whole, _ = discriminator(rainy, derained.detach())
    loss_d_fake = _adversarial(patch, whole, 0.0)
    loss_d_fake.backward()
    opt_d.step()

    # (2) Generator, the refined loss: pixel + 6.6e-3 adversarial + perceptual
    opt_g.zero_grad(set_to_none=True)
    patch, whole, features_fake = discriminator(rainy, derained)
    loss_adversarial = _adversarial(patch, whole, 1.0)
    loss_pixel = F.l1_loss(derained, clean)
    if state.training.ssim_weight:
        loss_pixel = loss_pixel + state.training.ssim_weight * (1 - ssim(derained, clean))
    if state.training.perceptual == "vgg19":
        vgg = state.extra["vgg"]
        with torch.no_grad():
            target = vgg(clean)
        loss_perceptual = F.mse_loss(vgg(derained), target)
    else:
        with torch.no_grad():
            features_real = discriminator(rainy, clean)[2]
        loss_perceptual = feature_matching(features_fake, features_real)
    training = state.training
    (loss_pixel + training.adversarial_weight * loss_adversarial + training.perceptual_weight * loss_perceptual).backward()
    opt_g.step()
    return {
        "loss_d": (loss_d_real + loss_d_fake).detach(),
        "loss_g": loss_adversarial.detach(),
        "loss_pixel": loss_pixel.detach(),
        "loss_perceptual": loss_perceptual.detach(),
    }


@torch.inference_mode()
def restore(generator: Generator, rainy: torch.Tensor, *, device="cpu", statistics=None) -> torch.Tensor:
    """Derain a batch (B, 3, H, W) in [0, 1]; returns the same shape in [0, 1].

    ``statistics``: ``image_statistics`` of the whole photo when ``rainy`` is one tile of it.
    """
    if statistics is not None:
        statistics = statistics.to(device)
    return generator(rainy.to(device), statistics).clamp_(0, 1)


def preview(generator: Generator, *, seed: int = 0, device="cpu", data=None):
    """Rows of (rainy, derained, clean) on fixed crops, in [-1, 1]: (images, per row)."""
    rainy, clean = data.fixed_batch(4)
    derained = restore(generator, rainy, device=device).cpu()
    return torch.stack([rainy, derained, clean], dim=1).flatten(0, 1) * 2 - 1, 3


def _whole_photo(photo: torch.Tensor) -> dict:
    """The whole photo's statistics, for every tile alike."""
    return {"statistics": image_statistics(photo)}


def _example_batch(config: Config, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.rand(2, 3, 24, 24, generator=rng), torch.rand(2, 3, 24, 24, generator=rng)


def _example_use(generator: Generator) -> torch.Tensor:
    return restore(generator, example_photo())


FAMILY = Family(
    name="derain", config=Config, network=Generator, make_state=make_state, train_step=train_step, dataset=RAIN, preview=preview,
    restorer=Restorer(restore, grid=GRID, context=_whole_photo), training=Training,
    example_batch=_example_batch, example_use=_example_use,
)
