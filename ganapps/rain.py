"""Synthetic rain: streaks drawn from sparse noise along a direction, in layers at several depths.

How rain datasets (Rain100H, Rain800, ...) are made, and how the deraining model is trained here:
for each layer, sparse random drops are smeared by a motion-blur kernel (a line of the streak's
length and angle, softened to its width), scaled to the layer's brightness and screen-blended
onto the photo. Farther layers are denser, shorter, thinner and dimmer, as rain seen through
depth; optional haze (the veil of distant rain) and blur (a wet lens) complete the picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["RainParams", "add_rain", "random_params"]


@dataclass(frozen=True)
class RainParams:
    """What the rain looks like. Ranges are checked; angles are degrees from vertical (+ leans right)."""

    amount: float = 0.5  # 0..1: density of drops in the nearest layer
    angle: float = 10.0  # -60..60 degrees
    length: float = 30.0  # 4..100 pixels, nearest layer
    width: float = 1.5  # 0.5..6 pixels, nearest layer
    brightness: float = 0.6  # 0.05..1: how white the nearest streaks are
    layers: int = 3  # 1..4 depths
    haze: float = 0.0  # 0..0.6: veil of distant rain
    blur: float = 0.0  # 0..3: Gaussian sigma of the whole picture, pixels

    def __post_init__(self):
        for name, low, high in (
            ("amount", 0.0, 1.0), ("angle", -60.0, 60.0), ("length", 4.0, 100.0), ("width", 0.5, 6.0),
            ("brightness", 0.05, 1.0), ("layers", 1, 4), ("haze", 0.0, 0.6), ("blur", 0.0, 3.0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ValueError(f"rain {name} must be in {low}..{high}, got {value!r}")
        if int(self.layers) != self.layers:
            raise ValueError(f"rain layers must be a whole number, got {self.layers}")

    @classmethod
    def strength(cls, level: str) -> RainParams:
        """Fixed presets for benchmarks: light, medium, heavy."""
        presets = {
            "light": cls(amount=0.25, angle=8.0, length=20.0, width=1.0, brightness=0.45, layers=2),
            "medium": cls(amount=0.5, angle=-12.0, length=32.0, width=1.5, brightness=0.6, layers=3, haze=0.05),
            "heavy": cls(amount=0.85, angle=15.0, length=45.0, width=2.2, brightness=0.75, layers=4, haze=0.15, blur=0.6),
        }
        if level not in presets:
            raise ValueError(f"unknown rain strength {level!r}; available: {', '.join(presets)}")
        return presets[level]


def streak_kernel(length: float, angle: float, width: float) -> np.ndarray:
    """A normalised motion-blur kernel: a line ``length`` long at ``angle`` degrees from vertical."""
    size = int(math.ceil(length)) | 1
    size = max(size, 3)
    kernel = np.zeros((size, size), np.float32)
    centre = (size - 1) / 2
    dx, dy = math.sin(math.radians(angle)) * length / 2, math.cos(math.radians(angle)) * length / 2
    shift = 4  # sub-pixel precision of cv2.line
    p0 = (int(round((centre - dx) * 2**shift)), int(round((centre - dy) * 2**shift)))
    p1 = (int(round((centre + dx) * 2**shift)), int(round((centre + dy) * 2**shift)))
    cv2.line(kernel, p0, p1, 1.0, thickness=1, lineType=cv2.LINE_AA, shift=shift)
    if width > 1:
        kernel = cv2.GaussianBlur(kernel, (0, 0), sigmaX=(width - 1) / 2 + 1e-3)
    return kernel / max(kernel.sum(), 1e-8)


def rain_layer(height: int, width: int, *, density: float, length: float, angle: float, thickness: float, rng) -> np.ndarray:
    """One layer of streaks in [0, 1], (H, W) float32."""
    drops = (rng.random((height, width), dtype=np.float32) < density).astype(np.float32)
    drops *= rng.uniform(0.5, 1.0, (height, width)).astype(np.float32)  # drops differ in size
    drops = cv2.GaussianBlur(drops, (0, 0), sigmaX=max(thickness / 3, 0.3))  # round drops before smearing
    streaks = cv2.filter2D(drops, -1, streak_kernel(length, angle, thickness), borderType=cv2.BORDER_REFLECT)
    top = np.percentile(streaks, 99.9) + 1e-6
    return np.clip(streaks / top, 0, 1)


def add_rain(image: np.ndarray, params: RainParams, *, seed: int = 0) -> np.ndarray:
    """Rain on a photo. ``image``: (H, W, 3) or (H, W) float in [0, 1] (uint8 accepted); returns float32 [0, 1].

    The same seed and parameters give the same rain.
    """
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / 255
    image = np.asarray(image, np.float32)
    gray = image.ndim == 2
    picture = image[..., None] if gray else image
    height, width = picture.shape[:2]
    rng = np.random.default_rng(seed)
    rain = np.zeros((height, width), np.float32)
    for depth in range(int(params.layers)):
        near = 1.0 / (1 + depth)  # 1 for the nearest layer, smaller farther away
        layer = rain_layer(
            height, width,
            density=0.002 + 0.02 * params.amount * (1 + depth) * 0.6,
            length=max(4.0, params.length * (0.45 + 0.55 * near)),
            angle=params.angle + rng.uniform(-3, 3),
            thickness=max(0.5, params.width * (0.5 + 0.5 * near)),
            rng=rng,
        )
        rain = 1 - (1 - rain) * (1 - params.brightness * (0.5 + 0.5 * near) * layer)  # screen
    rainy = 1 - (1 - picture) * (1 - rain[..., None])  # screen blend: light streaks over the scene
    if params.haze:
        rainy = rainy * (1 - params.haze) + params.haze * 0.85
    if params.blur:
        rainy = cv2.GaussianBlur(rainy, (0, 0), sigmaX=params.blur)
        rainy = rainy.reshape(height, width, -1)
    rainy = np.clip(rainy, 0, 1).astype(np.float32)
    return rainy[..., 0] if gray else rainy


DRIZZLE_SHARE = 1 / 3  # share of training rain drawn as drizzle
# Ranges of the streaks' parameters (layers: integers from low up to high - 1); angles are -35..35 in both.
BROAD = dict(amount=(0.1, 1.0), length=(8, 70), width=(0.7, 3.0), brightness=(0.3, 0.95), layers=(1, 5))
DRIZZLE = dict(amount=(0.1, 0.45), length=(8, 35), width=(0.6, 1.4), brightness=(0.25, 0.6), layers=(1, 3))


def _streaks(rng: np.random.Generator, ranges: dict) -> dict:
    return dict(
        amount=float(rng.uniform(*ranges["amount"])),
        angle=float(rng.uniform(-35, 35)),
        length=float(rng.uniform(*ranges["length"])),
        width=float(rng.uniform(*ranges["width"])),
        brightness=float(rng.uniform(*ranges["brightness"])),
        layers=int(rng.integers(*ranges["layers"])),
    )


def random_params(rng: np.random.Generator) -> RainParams:
    """Rain drawn from the broad range used for training, light drizzle to downpour.

    A ``DRIZZLE_SHARE`` of draws are drizzle: few thin, faint, short streaks and no haze (the kind of
    Rain100L). It is the hardest rain to tell from fine bright texture, and its errors are small, so
    drawn uniformly from the broad range it would barely count in a training loss dominated by
    downpours.
    """
    if rng.random() < DRIZZLE_SHARE:
        return RainParams(**_streaks(rng, DRIZZLE))
    return RainParams(
        **_streaks(rng, BROAD),
        haze=float(rng.choice([0.0, rng.uniform(0.0, 0.3)])),
        blur=float(rng.choice([0.0, rng.uniform(0.0, 1.0)])),
    )
