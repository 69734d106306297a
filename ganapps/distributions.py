"""Toy data for the GAN lab: 1-D and 2-D distributions, and how close a set of samples comes to one.

A ``Distribution`` is a Gaussian mixture (``modes`` with one ``std``) or points near a curve (moons,
spiral). Mode coverage follows the Unrolled GAN (Metz et al. 2017) and VEEGAN (Srivastava et al.
2017) papers: a sample is of high quality if it lies within 3 standard deviations of a mode; a
mode is covered if at least 1% of the samples are high-quality samples of it.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["Distribution", "DISTRIBUTIONS", "distribution", "coverage", "js_divergence"]


class Distribution:
    """A toy data distribution: a Gaussian mixture (``modes`` with one ``std``), or points near a curve."""

    def __init__(self, name: str, dim: int, modes: np.ndarray | None = None, std: float = 0.0, weights=None, curve=None):
        self.name, self.dim, self.std = name, dim, std
        self.modes = None if modes is None else np.asarray(modes, np.float64).reshape(-1, dim)
        if self.modes is None:
            self.weights = None
        else:
            self.weights = np.full(len(self.modes), 1 / len(self.modes)) if weights is None else np.asarray(weights)
        self.curve = curve  # for moons and spiral: t in [0, 1) -> points on the curve

    def sample(self, num: int, rng: torch.Generator) -> torch.Tensor:
        if self.modes is not None:
            which = torch.multinomial(torch.as_tensor(self.weights, dtype=torch.float32), num, replacement=True, generator=rng)
            centres = torch.as_tensor(self.modes, dtype=torch.float32)[which]
        else:
            centres = torch.as_tensor(self.curve(torch.rand(num, generator=rng).numpy()), dtype=torch.float32)
        return centres + self.std * torch.randn(num, self.dim, generator=rng)

    def density(self, x: np.ndarray) -> np.ndarray:
        """Exact density of a 1-D mixture at points x (N,)."""
        if self.dim != 1 or self.modes is None:
            raise ValueError("exact densities are available for the 1-D mixtures only")
        x = np.asarray(x, np.float64)[:, None]
        normal = np.exp(-0.5 * ((x - self.modes[:, 0]) / self.std) ** 2) / (self.std * math.sqrt(2 * math.pi))
        return (normal * self.weights).sum(1)

    def nearest_mode(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index of the nearest mode, distance in standard deviations) for points (N, dim)."""
        if self.modes is None:
            reference = self.curve(np.linspace(0, 1, 4000, endpoint=False))
            distance = np.sqrt(((points[:, None, :] - reference[None]) ** 2).sum(-1)).min(1)
            return np.zeros(len(points), int), distance / self.std
        distance = np.sqrt(((points[:, None, :] - self.modes[None]) ** 2).sum(-1))
        return distance.argmin(1), distance.min(1) / self.std

    @property
    def support(self) -> tuple[float, float]:
        """A 1-D interval (or the square's half-width in 2-D) holding the data."""
        if self.modes is not None:
            low, high = self.modes.min() - 4 * self.std, self.modes.max() + 4 * self.std
        else:
            points = self.curve(np.linspace(0, 1, 1000))
            low, high = points.min() - 4 * self.std, points.max() + 4 * self.std
        return float(low), float(high)


def _moons(t):
    t = np.asarray(t) * 2
    upper = t < 1
    angle = np.where(upper, t, t - 1) * math.pi
    x = np.where(upper, np.cos(angle), 1 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    return np.stack([x - 0.5, y - 0.25], 1) * 1.6


def _spiral(t):
    angle = np.sqrt(np.asarray(t)) * 3 * math.pi
    radius = angle / (3 * math.pi) * 2
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)


DISTRIBUTIONS = {
    "gaussian": lambda: Distribution("gaussian", 1, [[1.0]], std=0.5),
    "mixture2": lambda: Distribution("mixture2", 1, [[-1.5], [1.5]], std=0.4),
    "ring8": lambda: Distribution(
        "ring8", 2, [[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)] for k in range(8)], std=0.05
    ),
    "grid25": lambda: Distribution("grid25", 2, [[x, y] for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], std=0.05),
    "moons": lambda: Distribution("moons", 2, std=0.05, curve=_moons),
    "spiral": lambda: Distribution("spiral", 2, std=0.05, curve=_spiral),
}


def distribution(name: str) -> Distribution:
    if name not in DISTRIBUTIONS:
        raise ValueError(f"unknown toy data {name!r}; available: {', '.join(DISTRIBUTIONS)}")
    return DISTRIBUTIONS[name]()



def coverage(data: Distribution, points: np.ndarray) -> tuple[int | None, float]:
    """(modes covered, share of high-quality samples): within 3 std of a mode; a mode needs 1% of samples."""
    nearest, distance = data.nearest_mode(points)
    good = distance <= 3
    if data.modes is None:
        return None, float(good.mean())
    counts = np.bincount(nearest[good], minlength=len(data.modes))
    return int((counts >= 0.01 * len(points)).sum()), float(good.mean())


def js_divergence(data: Distribution, points: np.ndarray, *, bins: int = 60, rng_seed: int = 0) -> float:
    """Jensen-Shannon divergence (nats, at most log 2) between data and samples, on a histogram grid."""
    reference = data.sample(len(points), torch.Generator().manual_seed(rng_seed)).numpy()
    low, high = data.support
    edges = [np.linspace(low, high, bins + 1)] * data.dim
    p = np.histogramdd(reference, bins=edges)[0].ravel() + 1e-10
    q = np.histogramdd(points, bins=edges)[0].ravel() + 1e-10
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    return float(0.5 * (p * np.log(p / m)).sum() + 0.5 * (q * np.log(q / m)).sum())
