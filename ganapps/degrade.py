"""Real-photo degradations for super-resolution training: blur, resize, noise and JPEG, applied twice.

A model trained on clean bicubic downscales only learns to enlarge what it is given, JPEG blocks
and sensor noise included. Real-ESRGAN (Wang et al., ICCV 2021 workshops) trains on a
"second-order" chain instead, which this module follows with its own ranges:

    high-res -> [blur -> resize -> noise -> JPEG]  (first order)
             -> [blur -> resize -> noise]          (second order, not always)
             -> resize to high-res / scale -> JPEG (final)

Every stage is a plain function with the parameter it names (``blur(image, kernel)``,
``jpeg(image, quality)``, ...), built on OpenCV (``filter2D``, area ``resize``) and Pillow (bilinear and
bicubic ``resize``, the JPEG codec: ``imaging.resize`` and ``imaging.jpeg_roundtrip``, which the benchmarks use too);
``random_degradation(rng)`` draws a whole chain (``mild_degradation(rng)`` one without noise, for a
model that keeps the photo's grain) and ``degrade(image, degradation, seed=)`` runs it,
deterministically for a given seed. Images are float32 (H, W, 3) RGB in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .imaging import jpeg_roundtrip
from .imaging import resize as pillow_resize

__all__ = [
    "Order", "Degradation", "gaussian_kernel", "blur", "resize", "gaussian_noise", "poisson_noise", "jpeg", "degrade",
    "random_degradation", "mild_degradation", "DEGRADATIONS",
]

RESIZE_METHODS = ("area", "bilinear", "bicubic")
NOISE_KINDS = ("gaussian", "poisson")


def gaussian_kernel(size: int, sigma_x: float, sigma_y: float | None = None, angle: float = 0.0, beta: float = 2.0) -> np.ndarray:
    """A normalised ``size`` x ``size`` blur kernel: exp(-(x' S^-1 x / 2) ** (beta / 2)).

    ``sigma_x`` / ``sigma_y`` are the standard deviations along the kernel's axes (``sigma_y``
    None: isotropic), ``angle`` rotates them (degrees), ``beta`` is the shape of a generalized
    Gaussian: 2 is the Gaussian, below it heavier tails, above it a flatter top (a plateau).
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"kernel size must be odd and positive, got {size}")
    if sigma_x <= 0 or (sigma_y is not None and sigma_y <= 0) or beta <= 0:
        raise ValueError(f"kernel sigmas and beta must be positive, got {sigma_x}, {sigma_y}, {beta}")
    sigma_y = sigma_x if sigma_y is None else sigma_y
    theta = math.radians(angle)
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    covariance = rotation @ np.diag([sigma_x**2, sigma_y**2]) @ rotation.T
    half = size // 2
    grid = np.stack(np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1), indexing="xy"), axis=-1)  # (size, size, [x, y])
    distance = np.einsum("...i,ij,...j->...", grid, np.linalg.inv(covariance), grid)  # squared Mahalanobis
    kernel = np.exp(-0.5 * distance ** (beta / 2))
    return (kernel / kernel.sum()).astype(np.float32)


def blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve every channel with ``kernel`` (borders mirrored)."""
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT_101)


def resize(image: np.ndarray, size: tuple[int, int], method: str = "bicubic") -> np.ndarray:
    """Resize to ``size`` = (width, height) with "area" (OpenCV), "bilinear" or "bicubic" (Pillow).

    Bilinear and bicubic are Pillow's (``imaging.resize``), whose filters widen when shrinking (antialiasing),
    as in the tools that make most downscaled photos and in the benchmark protocol; OpenCV's do not.
    """
    if method not in RESIZE_METHODS:
        raise ValueError(f"unknown resize method {method!r}; available: {', '.join(RESIZE_METHODS)}")
    width, height = max(1, size[0]), max(1, size[1])
    if method == "area":
        return np.clip(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), 0, 1)
    return np.clip(pillow_resize(image, (width, height), method), 0, 1)


def gaussian_noise(image: np.ndarray, sigma: float, *, gray: bool, rng: np.random.Generator) -> np.ndarray:
    """Add white noise of standard deviation ``sigma`` (in [0, 1] units): one field for all channels if ``gray``."""
    shape = image.shape[:2] + (1,) if gray else image.shape
    return np.clip(image + rng.normal(0.0, sigma, shape).astype(np.float32), 0, 1)


def poisson_noise(image: np.ndarray, scale: float, *, gray: bool, rng: np.random.Generator) -> np.ndarray:
    """Shot noise: photon counts with a mean of ``255 * image / scale``, so a larger ``scale`` is noisier.

    ``gray``: the noise of the luma, the same in every channel.
    """
    photons = 255.0 / scale
    source = image @ np.array([0.299, 0.587, 0.114], np.float32) if gray else image
    counts = rng.poisson(np.clip(source, 0, 1) * photons).astype(np.float32) / photons
    noise = counts - source
    return np.clip(image + (noise[..., None] if gray else noise), 0, 1)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through a JPEG file of ``quality`` (1..100), rounded to 8 bits first: ``imaging.jpeg_roundtrip``,
    the benchmarks' web photos."""
    pixels = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    return jpeg_roundtrip(pixels, quality).astype(np.float32) / 255


@dataclass(frozen=True)
class Order:
    """One pass of the chain. ``None`` skips a stage.

    ``kernel``: blur kernel as (size, sigma_x, sigma_y, angle, beta) for ``gaussian_kernel``;
    ``scale``: resize factor relative to the pass's reference size, with ``method``;
    ``noise``: ("gaussian", sigma, gray) or ("poisson", scale, gray); ``quality``: JPEG quality.
    """

    kernel: tuple[int, float, float, float, float] | None = None
    scale: float = 1.0
    method: str = "bicubic"
    noise: tuple[str, float, bool] | None = None
    quality: int | None = None

    def __post_init__(self):
        if self.method not in RESIZE_METHODS:
            raise ValueError(f"unknown resize method {self.method!r}; available: {', '.join(RESIZE_METHODS)}")
        if not 0.05 <= self.scale <= 4:
            raise ValueError(f"resize scale must be in 0.05..4, got {self.scale}")
        if self.noise is not None and self.noise[0] not in NOISE_KINDS:
            raise ValueError(f"unknown noise {self.noise[0]!r}; available: {', '.join(NOISE_KINDS)}")
        if self.quality is not None and not 1 <= self.quality <= 100:
            raise ValueError(f"JPEG quality must be in 1..100, got {self.quality}")


@dataclass(frozen=True)
class Degradation:
    """The whole chain: ``first`` at the high-res size, ``second`` (optional) at the low-res size, then the
    final resize to exactly high-res / scale with ``final_method`` and a JPEG of ``final_quality``."""

    first: Order = Order()
    second: Order | None = None
    final_method: str = "bicubic"
    final_quality: int | None = None

    def __post_init__(self):
        if self.final_method not in RESIZE_METHODS:
            raise ValueError(f"unknown resize method {self.final_method!r}; available: {', '.join(RESIZE_METHODS)}")
        if self.final_quality is not None and not 1 <= self.final_quality <= 100:
            raise ValueError(f"JPEG quality must be in 1..100, got {self.final_quality}")


def _apply(image: np.ndarray, order: Order, reference: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if order.kernel is not None:
        image = blur(image, gaussian_kernel(*order.kernel))
    if order.scale != 1.0:
        image = resize(image, (round(reference[0] * order.scale), round(reference[1] * order.scale)), order.method)
    if order.noise is not None:
        kind, level, gray = order.noise
        noisy = gaussian_noise if kind == "gaussian" else poisson_noise
        image = noisy(image, level, gray=gray, rng=rng)
    if order.quality is not None:
        image = jpeg(image, order.quality)
    return image


def degrade(high_res: np.ndarray, degradation: Degradation, *, scale: int = 4, seed: int = 0) -> np.ndarray:
    """float32 (H, W, 3) in [0, 1] -> the low-res photo (H // scale, W // scale, 3) that ``degradation`` makes.

    The noise is drawn from ``seed``: the same image, chain and seed give the same result.
    """
    rng = np.random.default_rng(seed)
    height, width = high_res.shape[:2]
    low = (width // scale, height // scale)
    image = _apply(np.asarray(high_res, np.float32), degradation.first, (width, height), rng)
    if degradation.second is not None:
        image = _apply(image, degradation.second, low, rng)
    image = resize(image, low, degradation.final_method)
    if degradation.final_quality is not None:
        image = jpeg(image, degradation.final_quality)
    return image


def _random_kernel(rng: np.random.Generator, sigma: tuple[float, float]) -> tuple[int, float, float, float, float]:
    """Isotropic or anisotropic, Gaussian or generalized (heavy-tailed or plateau), as Real-ESRGAN draws them."""
    sigma_x = float(rng.uniform(*sigma))
    sigma_y = sigma_x if rng.random() < 0.5 else float(rng.uniform(*sigma))
    kind = rng.random()
    beta = 2.0 if kind < 0.6 else float(rng.uniform(0.5, 2.0) if kind < 0.8 else rng.uniform(2.0, 4.0))
    size = int(min(21, 2 * math.ceil(3 * max(sigma_x, sigma_y)) + 1))
    return size, sigma_x, sigma_y, float(rng.uniform(-90, 90)), beta


def _random_noise(rng: np.random.Generator, sigma: float, poisson: float) -> tuple[str, float, bool]:
    gray = bool(rng.random() < 0.4)
    if rng.random() < 0.6:
        return "gaussian", float(rng.uniform(1, sigma)) / 255, gray
    return "poisson", float(rng.uniform(0.05, poisson)), gray


def random_degradation(rng: np.random.Generator) -> Degradation:
    """A chain drawn to cover the photos people upload, from clean downscales to small noisy web JPEGs.

    Milder than Real-ESRGAN's ranges: a third of the chains are a plain downscale, most of them
    saved as a JPEG (a photo shrunk for the web; a few come clean), most of the others end in a JPEG of
    quality 30..95 too, and their second pass is drawn half the time.
    """
    methods = list(RESIZE_METHODS)
    if rng.random() < 0.35:
        quality = int(rng.integers(30, 96)) if rng.random() < 0.8 else None
        return Degradation(final_method=str(rng.choice(methods)), final_quality=quality)
    first = Order(
        kernel=_random_kernel(rng, (0.2, 2.5)) if rng.random() < 0.7 else None,
        scale=float(rng.choice([rng.uniform(0.5, 1.0), rng.uniform(1.0, 1.3), 1.0], p=[0.5, 0.2, 0.3])),
        method=str(rng.choice(methods)),
        noise=_random_noise(rng, 20, 2.0) if rng.random() < 0.5 else None,
        quality=int(rng.integers(40, 96)) if rng.random() < 0.5 else None,
    )
    second = None
    if rng.random() < 0.5:
        second = Order(
            kernel=_random_kernel(rng, (0.2, 1.2)) if rng.random() < 0.5 else None,
            scale=float(rng.uniform(0.7, 1.2)),
            method=str(rng.choice(methods)),
            noise=_random_noise(rng, 12, 1.5) if rng.random() < 0.4 else None,
        )
    return Degradation(
        first=first,
        second=second,
        final_method=str(rng.choice(methods)),
        final_quality=int(rng.integers(30, 96)) if rng.random() < 0.85 else None,
    )


def mild_degradation(rng: np.random.Generator) -> Degradation:
    """A chain without noise: at most a light blur, then a downscale, sometimes a high-quality JPEG.

    A photo shrunk with care. A model trained on it enlarges grain and fine texture instead of
    taking them for noise or compression: the "no denoising" end of a denoise-strength blend (as
    Real-ESRGAN's general model and its ``-wdn`` twin), whose other end is trained on
    ``random_degradation``. (With JPEGs down to quality 30 the twin learned to smooth as much as
    the other end, and the blend changed nothing a user could see.)
    """
    methods = list(RESIZE_METHODS)
    first = Order(kernel=_random_kernel(rng, (0.2, 1.0)) if rng.random() < 0.3 else None)
    quality = int(rng.integers(85, 96)) if rng.random() < 0.5 else None
    return Degradation(first=first, final_method=str(rng.choice(methods)), final_quality=quality)


DEGRADATIONS = {"web": random_degradation, "mild": mild_degradation}  # name -> chain drawer (PhotoPatches)
