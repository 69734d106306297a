"""Practical x4 super-resolution for real photos — after Real-ESRGAN (Wang et al., "Real-ESRGAN: Training
Real-World Blind Super-Resolution with Pure Synthetic Data", ICCV 2021 workshops).

Trained on high-res photos degraded on the fly by ``ganapps.degrade`` (blur, resize, noise and JPEG,
twice), so it learns to undo what uploaded photos carry instead of enlarging it. Two models, as in the
paper:

* ``phase="psnr"`` (shipped as ``photo-x4-psnr``): the generator alone with an L1 loss;
* ``phase="gan"`` (shipped as ``photo-x4``): initialised from it, then L1 + a perceptual term +
  0.1 x an adversarial loss against a U-Net discriminator with spectral normalisation, whose
  per-pixel verdicts give the generator feedback on every region, not one score per crop.

The generator follows Real-ESRGAN's compact model (SRVGGNetCompact, behind its fast general models):
3x3 convolutions all at the input's resolution and a single pixel shuffle to x4 at the end, added to
a bicubic upscale of the input. Unlike SRResNet it has no convolutions at 2x and 4x, which are
most of SRResNet's cost. Unlike SRVGGNetCompact, its convolutions sit in residual blocks with a
long skip (SRResNet's body), which starts learning much sooner on a CPU budget (the model card
has the comparison). With ``hr_conv`` one more 3x3 convolution runs after the shuffle, at the
output's resolution, so that neighbouring sub-pixel positions share their detail. It does not stop
one of the 16 positions from going its own way in the GAN phase and covering the picture in dots.
Two training options work at that: ``d_blur`` low-passes what the discriminator's strided
convolutions read, so its gradients depend less on a pixel's phase on their grid, and
``position_weight`` keeps the positions' detail like the ground truth's, and ``pattern_weight`` their signed
mean detail, so that they cannot settle into a mesh of opposite signs instead. ``boundary_weight`` (in
either phase) keeps the gradients across each low-res pixel's boundary like those within it, as in the
ground truth: an L1-trained network marks every low-res pixel's boundary, which the JPEG grid measure
counts too; ``block_weight`` does the same on the grid of the JPEG's blocks, and ``mesh_weight`` is
``pattern_weight`` measured against the ground truth's detail, for the PSNR phase. For a network already
trained, ``reset_positions`` gives a position back its start's weights and ``equalize_positions``
makes all positions answer a constant area alike (the model card measures all four).

A denoise control, as Real-ESRGAN's general model has: the same network trained on noise-free
degradations (``degrade.mild_degradation``) ships beside it, and the two are blended weight by weight.

The perceptual term is chosen by the recipe (``Training.perceptual``): the distance between VGG19
features (conv5_4), or between the discriminator's own intermediate features of the real and the
restored image (feature matching, pix2pixHD), which needs no pretrained network.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from ..data import DEGRADED_PHOTOS
from ..losses import bce, check_perceptual, feature_matching, sub_pixel_term, vgg19_features
from .family import (
    AdamOptions,
    Family,
    Network,
    Restorer,
    TrainState,
    check_positive,
    check_rate_ratio,
    upscale_batch,
    upscale_example_batch,
    upscale_example_use,
    upscale_preview,
)
from .layers import ResidualBlock

__all__ = ["Config", "Training", "Generator", "Discriminator", "make_state", "train_step", "restore", "preview", "reset_positions",
           "equalize_positions", "jitter_offset", "PHASES", "SCALE", "FAMILY"]

PHASES = ("psnr", "gan")
SCALE = 4
JPEG_BLOCK = 8  # the JPEG's blocks, in low-res pixels


@dataclass(frozen=True)
class Config:
    """The compact generator (``channels`` wide, ``num_blocks`` residual blocks) and the U-Net discriminator."""

    channels: int = 48
    num_blocks: int = 8
    disc_channels: int = 16  # Real-ESRGAN's is 64, many times the cost per step on a CPU
    # A 3x3 convolution after the pixel shuffle, at the output's resolution: each output pixel then
    # mixes neighbours from all 16 sub-pixel positions. It starts as the identity (a model without
    # it, grown, computes what it did).
    hr_conv: bool = False

    def __post_init__(self):
        check_positive("channels", self.channels)
        check_positive("num_blocks", self.num_blocks)
        check_positive("disc_channels", self.disc_channels)

    @property
    def receptive_radius(self) -> int:
        """How far (in input pixels) an output pixel can see: the tile overlap that makes tiling exact."""
        # one pixel for each convolution (head, two per block, body end, tail); two more for the bicubic
        # skip. The skip runs beside the convolutions, not after them, so its two pixels also cover the
        # quarter of an input pixel that the convolution after the shuffle adds.
        return 1 + 2 * self.num_blocks + 1 + 1 + 2

    @classmethod
    def tiny(cls) -> Config:
        return cls(channels=8, num_blocks=1, disc_channels=4)


@dataclass(frozen=True)
class Training(AdamOptions):
    """How the networks are trained, beyond ``TrainConfig``: the discriminator's jitter and blur, the
    perceptual term, and the weights of the sub-pixel terms (``losses.SUB_PIXEL_TERMS``)."""

    # The discriminator sees each batch (real and restored alike) cropped at a random
    # offset of up to this many pixels, so its strided convolutions meet the generator's 4-pixel
    # sub-pixel grid at every phase, and their phase-dependent gradients average out instead of
    # pushing the sub-pixel outputs apart. A multiple of 8 (the discriminator's stride); 0: off.
    d_jitter: int = 0
    # The discriminator low-passes what each strided convolution reads ([1, 3, 3, 1]
    # binomial blur, as StyleGAN2's discriminator does), so its verdict and gradients depend less on
    # a pixel's phase on its stride grid (anti-aliased downsampling, Zhang 2019).
    d_blur: bool = False
    # The weight of a term that keeps the 16 sub-pixel positions alike in detail (each
    # position's mean absolute luma Laplacian over the average position's, the output's against the
    # ground truth's, squared): a pixel shuffle lets each position drift on its own, into dots.
    position_weight: float = 0.0
    # The weight of a term that keeps the 16 positions' mean signed detail (the luma
    # Laplacian's mean at each position over the mean absolute Laplacian) the ground truth's, squared:
    # with only the detail held alike, the positions can still take opposite signs, into a 4-pixel mesh.
    pattern_weight: float = 0.0
    # Either phase: the weight of a term that keeps the luma gradient at each of the 4
    # phases of the low-res pixel grid (over the mean at all four) the ground truth's, squared.
    boundary_weight: float = 0.0
    # Either phase: the same at each of the 32 phases of the grid of the JPEG's 8x8 blocks
    # in the output (the training chains' last JPEG is aligned with the crop): the block edges a restored
    # JPEG keeps.
    block_weight: float = 0.0
    # Either phase: ``pattern_weight``'s term with both patterns over the ground truth's
    # detail instead of each over its own. A smooth output (the PSNR phase's) then has no way to shrink
    # the term but to lose its mesh: over its own little detail, adding grain would shrink it too.
    mesh_weight: float = 0.0
    # The perceptual term: "vgg19" (Real-ESRGAN's, conv5_4 features) or "discriminator_features".
    perceptual: str = "discriminator_features"
    # The GAN phase's loss: L1 + perceptual_weight x VGG19's (Real-ESRGAN's 1), or feature_matching_weight x the
    # discriminator's features (srgan's 0.1), + adversarial_weight x the adversarial term (Real-ESRGAN's 0.1).
    adversarial_weight: float = 0.1
    perceptual_weight: float = 1.0
    feature_matching_weight: float = 0.1
    # The discriminator learns at this times the generator's rate (TTUR, Heusel et al. 2017): at the same rate the
    # spectrally normalised U-Net stayed near chance, and the generator learned no texture from it.
    d_lr_ratio: float = 4.0
    # Adam's betas for both networks (Real-ESRGAN's 0.9, 0.99).
    beta1: float = 0.9
    beta2: float = 0.99

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.d_jitter, int) or self.d_jitter < 0 or self.d_jitter % 8:
            raise ValueError(f"d_jitter must be 0 or a positive multiple of 8 (the discriminator's stride), got {self.d_jitter!r}")
        for name in (*SUB_PIXEL_WEIGHTS.values(), "adversarial_weight", "perceptual_weight", "feature_matching_weight"):
            if not 0 <= getattr(self, name) < float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)!r}")
        check_rate_ratio(self.d_lr_ratio, "d_lr_ratio")
        check_perceptual(self.perceptual)


# Each sub-pixel term (``losses.sub_pixel_term``) by the training option that weighs it.
SUB_PIXEL_WEIGHTS = {"positions": "position_weight", "pattern": "pattern_weight", "boundaries": "boundary_weight",
                     "blocks": "block_weight", "mesh": "mesh_weight"}


class Generator(nn.Module, Network, library_name="ganapps", tags=["gan", "real-esrgan", "super-resolution"]):
    """low_res (B, 3, h, w) in [0, 1] -> high_res (B, 3, 4h, 4w), about [0, 1] (clamp for display)."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        c = config.channels
        self.head = nn.Conv2d(3, c, 3, padding=1)
        self.body = nn.Sequential(*[ResidualBlock(c) for _ in range(config.num_blocks)], nn.Conv2d(c, c, 3, padding=1))
        self.tail = nn.Conv2d(c, 3 * SCALE * SCALE, 3, padding=1)  # every output pixel's colour, at low res
        nn.init.zeros_(self.tail.weight)  # start as bicubic, learn the missing detail
        nn.init.zeros_(self.tail.bias)
        self.shuffle = nn.PixelShuffle(SCALE)
        self.hr_conv = None
        if config.hr_conv:
            self.hr_conv = nn.Conv2d(3, 3, 3, padding=1)
            with torch.no_grad():  # the identity: grown from a model without it, the output is unchanged
                self.hr_conv.weight.zero_()
                self.hr_conv.weight[:, :, 1, 1] = torch.eye(3)
                self.hr_conv.bias.zero_()

    def forward(self, low_res: torch.Tensor) -> torch.Tensor:
        features = self.head(low_res)
        features = features + self.body(features)  # long skip
        detail = self.shuffle(self.tail(features))  # (B, 3, 4h, 4w)
        if self.hr_conv is not None:
            detail = self.hr_conv(detail)
        return F.interpolate(low_res, scale_factor=SCALE, mode="bicubic", align_corners=False) + detail


def _positions(generator: Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The tail's weight and bias per colour and sub-pixel position (row, column in the output's 4x4
    cell), as the pixel shuffle orders its channels: views of shape (3, 4, 4, channels, 3, 3) and (3, 4, 4)."""
    tail = generator.tail
    return tail.weight.view(3, SCALE, SCALE, *tail.weight.shape[1:]), tail.bias.view(3, SCALE, SCALE)


@torch.no_grad()
def reset_positions(generator: Generator, reference: Generator, positions) -> Generator:
    """A copy of ``generator`` that computes the sub-pixel ``positions`` ((row, column) pairs) as
    ``reference`` does (e.g. the network a GAN phase started from): the repair for a position whose
    output went its own way in training and covers the picture in dots (``metrics.position_energies``)."""
    repaired = copy.deepcopy(generator)
    weight, bias = _positions(repaired)
    reference_weight, reference_bias = _positions(reference)
    for row, column in positions:
        weight[:, row, column] = reference_weight[:, row, column]
        bias[:, row, column] = reference_bias[:, row, column]
    return repaired


@torch.no_grad()
def equalize_positions(generator: Generator) -> Generator:
    """A copy of ``generator`` whose 16 sub-pixel positions answer a constant feature map alike.

    Each position's kernel gives up the part of its summed weights, and of its bias, by which it
    differs from the mean of all positions, spread evenly over its 3x3 taps. An area of constant
    features then gets the same detail at every position, where it would get a fixed 4-pixel
    pattern (``metrics.periodic_pattern``); the answer to features that vary around their local
    3x3 mean is unchanged.
    """
    equalized = copy.deepcopy(generator)
    weight, bias = _positions(equalized)
    summed = weight.sum(dim=(-2, -1), keepdim=True)  # (3, 4, 4, channels, 1, 1)
    weight -= (summed - summed.mean(dim=(1, 2), keepdim=True)) / (weight.shape[-1] * weight.shape[-2])
    bias.copy_(bias.mean(dim=(1, 2), keepdim=True).expand_as(bias))
    return equalized


def binomial_blur(images: torch.Tensor) -> torch.Tensor:
    """Each channel filtered by the separable [1, 3, 3, 1] / 8 binomial, the same size out (zero padding)."""
    taps = images.new_tensor([1.0, 3.0, 3.0, 1.0]) / 8
    kernel = (taps[:, None] * taps[None, :]).expand(images.shape[1], 1, 4, 4)
    return F.conv2d(F.pad(images, (1, 2, 1, 2)), kernel, groups=images.shape[1])


class Discriminator(nn.Module):
    """Real-ESRGAN's U-Net discriminator with spectral norm: images (B, 3, H, W) -> (per-pixel logits
    (B, 1, H, W), intermediate features for feature matching). H and W must be multiples of 8.

    ``blur``: each strided convolution reads a low-passed input (``Training.d_blur``)."""

    def __init__(self, config: Config, *, blur: bool = False):
        super().__init__()
        self.config, self.blur = config, blur
        c = config.disc_channels
        sn = spectral_norm
        self.conv0 = nn.Conv2d(3, c, 3, 1, 1)
        self.down = nn.ModuleList([sn(nn.Conv2d(c * 2**i, c * 2 ** (i + 1), 4, 2, 1, bias=False)) for i in range(3)])
        self.up = nn.ModuleList([sn(nn.Conv2d(c * 2 ** (i + 1), c * 2**i, 3, 1, 1, bias=False)) for i in reversed(range(3))])
        self.refine = nn.Sequential(
            sn(nn.Conv2d(c, c, 3, 1, 1, bias=False)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(c, c, 3, 1, 1, bias=False)), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c, 1, 3, 1, 1),
        )

    def forward(self, images: torch.Tensor):
        h = F.leaky_relu(self.conv0(images * 2 - 1), 0.2)
        skips, features = [h], []
        for conv in self.down:
            h = F.leaky_relu(conv(binomial_blur(h) if self.blur else h), 0.2)
            skips.append(h)
            features.append(h)
        skips.pop()  # the bottleneck itself
        for conv in self.up:
            h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
            h = F.leaky_relu(conv(h), 0.2) + skips.pop()
            features.append(h)
        return self.refine(h), features


def make_state(config: Config, *, training: Training | None = None, lr: float = 2e-4, rng: torch.Generator, device,
               phase: str = "psnr") -> TrainState:
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; available: {', '.join(PHASES)}")
    training = training or Training()
    generator = Generator(config).to(device, memory_format=torch.channels_last)  # faster convolutions on CPUs
    models = {"generator": generator}
    betas = training.betas
    optimizers = {"opt_g": torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)}
    extra = {"phase": phase}
    if phase == "gan":
        discriminator = Discriminator(config, blur=training.d_blur).to(device, memory_format=torch.channels_last)
        models["discriminator"] = discriminator
        optimizers["opt_d"] = torch.optim.Adam(discriminator.parameters(), lr=lr * training.d_lr_ratio, betas=betas)
        if training.perceptual == "vgg19":
            extra["vgg"] = vgg19_features("conv5_4", device)
    return TrainState(config=config, models=models, optimizers=optimizers, rng=rng, device=torch.device(device), extra=extra,
                      training=training)


def jitter_offset(jitter: int, rng: torch.Generator) -> tuple[int, int]:
    """(top, left) of the discriminator's crop, each uniform over 0..jitter-1: with ``jitter`` a multiple
    of its stride, every phase of its grid comes up equally often. (Offsets up to ``jitter`` itself
    drew phase 0 twice as often as the others: the kind of phase bias the jitter is there to remove.)"""
    top, left = torch.randint(0, jitter, (2,), generator=rng).tolist()
    return top, left


def _sub_pixel_losses(training: Training, super_res: torch.Tensor, high_res: torch.Tensor) -> dict[str, tuple[float, torch.Tensor]]:
    """{log name: (weight, term)} of the sub-pixel terms ``training`` turns on (``losses.sub_pixel_term``)."""
    return {f"loss_{name}": (getattr(training, option), sub_pixel_term(name, super_res, high_res, scale=SCALE, jpeg_block=JPEG_BLOCK))
            for name, option in SUB_PIXEL_WEIGHTS.items() if getattr(training, option)}


def train_step(state: TrainState, batch) -> dict[str, torch.Tensor]:
    low_res, high_res = batch
    generator, opt_g = state.models["generator"], state.optimizers["opt_g"]
    super_res = generator(low_res)
    loss_pixel = F.l1_loss(super_res, high_res)
    sub_pixel = _sub_pixel_losses(state.training, super_res, high_res)
    loss_sub_pixel = sum(weight * term for weight, term in sub_pixel.values())
    logged = {name: term.detach() for name, (_, term) in sub_pixel.items()}

    if state.extra["phase"] == "psnr":
        opt_g.zero_grad(set_to_none=True)
        (loss_pixel + loss_sub_pixel).backward()
        opt_g.step()
        return {**logged, "loss_pixel": loss_pixel.detach()}

    discriminator, opt_d = state.models["discriminator"], state.optimizers["opt_d"]
    jitter = state.training.d_jitter
    if jitter:  # one random crop for this step, the same for real and restored images
        top, left = jitter_offset(jitter, state.rng)
        height, width = high_res.shape[-2] - jitter, high_res.shape[-1] - jitter
        high_res_d = high_res[..., top : top + height, left : left + width]
        super_res_d = super_res[..., top : top + height, left : left + width]
    else:
        high_res_d, super_res_d = high_res, super_res
    # (1) Generator first (Real-ESRGAN's order): L1 + perceptual + 0.1 * BCE(D(G(x)), real), per pixel
    discriminator.requires_grad_(False)
    opt_g.zero_grad(set_to_none=True)
    logits_fake, features_fake = discriminator(super_res_d)
    loss_adversarial = bce(logits_fake, 1.0)
    if state.training.perceptual == "vgg19":
        vgg = state.extra["vgg"]
        with torch.no_grad():
            target = vgg(high_res)
        loss_perceptual = F.l1_loss(vgg(super_res), target)
        weight = state.training.perceptual_weight
    else:
        with torch.no_grad():
            features_real = discriminator(high_res_d)[1]
        loss_perceptual = feature_matching(features_fake, features_real)
        weight = state.training.feature_matching_weight
    loss = loss_pixel + weight * loss_perceptual + state.training.adversarial_weight * loss_adversarial + loss_sub_pixel
    loss.backward()
    opt_g.step()

    # (2) Discriminator: BCE(D(y), real) + BCE(D(G(x)), fake), per pixel
    discriminator.requires_grad_(True)
    opt_d.zero_grad(set_to_none=True)
    logits_real = discriminator(high_res_d)[0]
    loss_d_real = bce(logits_real, 1.0)
    logits_fake = discriminator(super_res_d.detach())[0]
    loss_d_fake = bce(logits_fake, 0.0)
    (loss_d_real + loss_d_fake).backward()
    opt_d.step()
    return {
        **logged,
        "loss_d": (loss_d_real + loss_d_fake).detach(),
        "loss_g": loss_adversarial.detach(),
        "loss_perceptual": loss_perceptual.detach(),
        "loss_pixel": loss_pixel.detach(),
    }


# Inference and sample grids are SRGAN's: any x4 generator of [0, 1] images.
restore, preview = upscale_batch, upscale_preview


FAMILY = Family(
    name="realesrgan", config=Config, network=Generator, make_state=make_state, train_step=train_step,
    dataset=DEGRADED_PHOTOS, preview=preview, phases=PHASES, restorer=Restorer(restore, scale=SCALE),
    ddp_find_unused_parameters=True,  # the discriminator is frozen during the generator's step
    training=Training, example_batch=upscale_example_batch, example_use=upscale_example_use,
)
