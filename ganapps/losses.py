"""The training objectives the families share, each written once: the GAN losses, R1 and WGAN-GP,
feature matching, the perceptual loss (VGG19 features or the discriminator's own), SSIM and the
sub-pixel terms. A family's ``train_step`` composes them as its paper does; its own objective (InfoGAN's
information term, the semi-supervised discriminator's) stays in its file.

Discriminators return logits: every loss here takes logits, never probabilities.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F

from .metrics import sub_pixel_boundaries, sub_pixel_detail, sub_pixel_pattern

__all__ = [
    "bce", "ADVERSARIAL", "discriminator_loss", "generator_loss", "r1_penalty", "gradient_penalty", "feature_matching",
    "PERCEPTUAL", "check_perceptual", "vgg19_path", "vgg19_features", "ssim", "SUB_PIXEL_TERMS", "sub_pixel_term",
]


# --- the adversarial game --------------------------------------------------------------------------


def bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Binary cross-entropy of logits against a constant target (1.0 real, 0.0 fake): the game of
    Goodfellow et al. (2014), D's side with both targets, G's non-saturating side with 1.0."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


# The objectives the theory lab compares, by name: D's loss and G's for each.
ADVERSARIAL = ("minimax", "nonsaturating", "least_squares", "hinge", "wgan_gp")


def discriminator_loss(loss: str, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D's loss of the objective ``loss`` (one of ``ADVERSARIAL``); WGAN-GP's penalty is added apart."""
    if loss in ("minimax", "nonsaturating"):
        # maximise log D(x) + log(1 - D(G(z)))
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    if loss == "least_squares":
        return 0.5 * ((real_logits - 1) ** 2).mean() + 0.5 * (fake_logits**2).mean()
    if loss == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    if loss == "wgan_gp":
        return fake_logits.mean() - real_logits.mean()  # the critic
    raise ValueError(f"unknown loss {loss!r}; available: {', '.join(ADVERSARIAL)}")


def generator_loss(loss: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """G's loss of the objective ``loss`` (one of ``ADVERSARIAL``)."""
    if loss == "minimax":
        # minimise log(1 - D(G(z))): the original objective, whose gradient vanishes when D wins
        return -F.softplus(fake_logits).mean()
    if loss == "nonsaturating":
        # maximise log D(G(z)) instead (Goodfellow et al. 2014, §3)
        return F.softplus(-fake_logits).mean()
    if loss == "least_squares":
        return 0.5 * ((fake_logits - 1) ** 2).mean()
    if loss in ("hinge", "wgan_gp"):
        return -fake_logits.mean()  # raise the critic's score of fakes
    raise ValueError(f"unknown loss {loss!r}; available: {', '.join(ADVERSARIAL)}")


def r1_penalty(logits_real: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||grad_x D(x)||^2 at real samples ``real`` (which required grad when
    ``logits_real`` were computed); R1 (Mescheder et al. 2018) adds gamma / 2 times it to D's loss."""
    (grad,) = torch.autograd.grad(logits_real.sum(), real, create_graph=True)
    return grad.square().flatten(1).sum(1).mean()


def gradient_penalty(discriminator, real: torch.Tensor, fake: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): 10 (||grad D(x_hat)|| - 1)^2 on points between real and fake samples."""
    mix = torch.rand(real.shape[0], 1, generator=rng).to(real.device)
    points = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(points).sum(), points, create_graph=True)
    return 10 * ((grad.norm(dim=1) - 1) ** 2).mean()


def feature_matching(fake_features: list[torch.Tensor], real_features: list[torch.Tensor]) -> torch.Tensor:
    """The mean over layers of the L1 distance between the discriminator's features of restored and real images."""
    return sum(F.l1_loss(fake, real) for fake, real in zip(fake_features, real_features)) / len(real_features)


# --- the perceptual loss ---------------------------------------------------------------------------

# "vgg19": distances between ImageNet VGG19 features (SRGAN, ESRGAN, ID-CGAN); "discriminator_features":
# feature matching on the training discriminator's own layers, which needs no pretrained network.
PERCEPTUAL = ("vgg19", "discriminator_features")

# torchvision VGG19 layer indices of the feature maps the perceptual losses use.
VGG19_LAYERS = {"relu2_2": 9, "conv5_4": 35}


def check_perceptual(name: str) -> None:
    if name not in PERCEPTUAL:
        raise ValueError(f"unknown perceptual loss {name!r}; available: {', '.join(PERCEPTUAL)}")


def vgg19_path() -> str:
    """Where torchvision keeps the ImageNet VGG19 weights (``torch.hub.get_dir()``, ``$TORCH_HOME``)."""
    from torchvision.models import VGG19_Weights

    return os.path.join(torch.hub.get_dir(), "checkpoints", VGG19_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1])


def vgg19_features(layer: str, device):
    """A frozen ImageNet VGG19 cut after ``layer``, as a function of images in [0, 1].

    Nothing is downloaded implicitly: without the weights on disk a ValueError says where they are
    looked for and how to put them there, before any training starts.
    """
    from torchvision.models import VGG19_Weights, vgg19

    path = vgg19_path()
    if not os.path.isfile(path):
        raise ValueError(
            f"perceptual = \"vgg19\" needs torchvision's ImageNet VGG19 weights at {path} (not found). Download them "
            f"once with `python -c \"import torchvision; torchvision.models.vgg19(weights='IMAGENET1K_V1')\"` "
            f"(or copy {VGG19_Weights.IMAGENET1K_V1.url} there), or train with perceptual = \"discriminator_features\""
        )
    network = vgg19()
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    features = network.features[: VGG19_LAYERS[layer]].to(device).eval().requires_grad_(False)
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
    return lambda images: features((images - mean) / std)


# --- image fidelity --------------------------------------------------------------------------------


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


# --- the sub-pixel terms ---------------------------------------------------------------------------

# Each a bench measure of a grid's positions or phases (``metrics.py``), made a training term: the
# output's measure against the ground truth's, squared. The period is in units of the upscale factor
# ("scale") or of the JPEG block in the output ("block").
SUB_PIXEL_TERMS = {
    "positions": "the dots: each sub-pixel position's detail (metrics.sub_pixel_detail)",
    "pattern": "the checkerboard: each position's signed detail (metrics.sub_pixel_pattern)",
    "boundaries": "the low-res pixel grid: the gradient at each phase (metrics.sub_pixel_boundaries)",
    "blocks": "the JPEG's 8x8 grid in the output: the gradient at each phase",
    "mesh": "the checkerboard, over the ground truth's detail (a smooth output cannot shrink it by adding grain)",
}


def sub_pixel_term(name: str, output: torch.Tensor, target: torch.Tensor, *, scale: int, jpeg_block: int = 8) -> torch.Tensor:
    """The sub-pixel term ``name`` (one of ``SUB_PIXEL_TERMS``) of an upscaled batch against its ground truth."""
    if name == "positions":
        measure, period = sub_pixel_detail, scale
    elif name == "pattern":
        measure, period = sub_pixel_pattern, scale
    elif name == "boundaries":
        measure, period = sub_pixel_boundaries, scale
    elif name == "blocks":
        measure, period = sub_pixel_boundaries, jpeg_block * scale
    elif name == "mesh":
        def measure(images, *, period):
            return sub_pixel_pattern(images, period=period, reference=target)

        period = scale
    else:
        raise ValueError(f"unknown sub-pixel term {name!r}; available: {', '.join(SUB_PIXEL_TERMS)}")
    return (measure(output, period=period) - measure(target, period=period)).square().mean()
