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

__all__ = ["Distribution", "DISTRIBUTIONS", "distribution", "coverage", "js_divergence", "drawn_name", "DRAWN", "DRAW_RANGE",
           "MIN_DRAWN_POINTS", "MAX_DRAWN_POINTS", "DRAWN_SPREAD", "STROKE_GAP", "LOG4", "kde"]


class Distribution:
    """A toy data distribution: a Gaussian mixture (``modes`` with one ``std``), or points near a curve."""

    def __init__(self, name: str, dim: int, modes: np.ndarray | None = None, std: float = 0.0, weights=None, curve=None,
                 bounds: tuple[float, float] | None = None):
        self.name, self.dim, self.std, self.bounds = name, dim, std, bounds
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
        """A 1-D interval (or the square's half-width in 2-D) holding the data (a drawing: the square it was drawn in)."""
        if self.bounds is not None:
            return self.bounds
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
    """The toy data called ``name``: one of ``DISTRIBUTIONS``, or a drawing (``drawn_name``)."""
    if isinstance(name, str) and name.startswith(DRAWN):
        return _drawn(_parse_drawing(name))
    if name not in DISTRIBUTIONS:
        raise ValueError(f"unknown toy data {name!r}; available: {', '.join(DISTRIBUTIONS)}, or a drawing ({DRAWN}x,y;x,y;...)")
    return DISTRIBUTIONS[name]()


# --- data a person draws ----------------------------------------------------------------------------

# A drawing is a list of (x, y) points in the plotted square -DRAW_RANGE..DRAW_RANGE, in the order drawn. Consecutive
# points closer than STROKE_GAP belong to one stroke: samples fall along its segments, uniformly by length; a point
# with no such neighbour (a click) is a mode of its own. Every sample gets a Gaussian spread of DRAWN_SPREAD.
DRAWN = "drawn:"  # a drawing's data name: "drawn:x,y;x,y;...", so it travels wherever a data name goes
DRAW_RANGE = 4.0
MIN_DRAWN_POINTS = 3
MAX_DRAWN_POINTS = 600
DRAWN_SPREAD = 0.08
STROKE_GAP = 0.6
CLICK_WEIGHT = 0.1  # a click weighs as much as a stroke this long


def drawn_name(points) -> str:
    """The data name of a drawing: ``points`` a sequence of (x, y) in the plotted square; ValueErrors say what is wrong."""
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("a drawing is a list of (x, y) points, e.g. [[0, 1], [0.5, 1.2], ...]") from None
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"a drawing is a list of (x, y) points, e.g. [[0, 1], [0.5, 1.2], ...]; got shape {array.shape}")
    if len(array) < MIN_DRAWN_POINTS:
        raise ValueError(f"draw at least {MIN_DRAWN_POINTS} points (a stroke or a few clicks); got {len(array)}")
    if len(array) > MAX_DRAWN_POINTS:
        raise ValueError(f"a drawing has at most {MAX_DRAWN_POINTS} points; got {len(array)} (thin it out)")
    if not np.isfinite(array).all():
        raise ValueError("every point of a drawing must be a finite number")
    outside = np.abs(array).max(1) > DRAW_RANGE
    if outside.any():
        x, y = array[outside.argmax()]
        raise ValueError(f"point ({x:g}, {y:g}) is outside the plotted range: x and y must be in "
                         f"-{DRAW_RANGE:g}..{DRAW_RANGE:g} ({int(outside.sum())} of {len(array)} points are outside)")
    return DRAWN + ";".join(f"{x:.3f},{y:.3f}" for x, y in array)


def _parse_drawing(name: str) -> np.ndarray:
    try:
        points = [[float(v) for v in pair.split(",")] for pair in name[len(DRAWN):].split(";") if pair]
    except ValueError:
        raise ValueError(f"a drawing's data name is {DRAWN}x,y;x,y;...; got {name[:40]!r}...") from None
    drawn_name(points)  # the same checks as a drawing given as points
    return np.asarray(points, dtype=np.float64)


def _drawn(points: np.ndarray) -> Distribution:
    """Points along a drawing's strokes (and at its clicks), with a small spread."""
    starts, ends = [], []
    for index, point in enumerate(points):
        joined = False
        if index + 1 < len(points) and np.linalg.norm(points[index + 1] - point) <= STROKE_GAP:
            starts.append(point)
            ends.append(points[index + 1])
            joined = True
        if not joined and (index == 0 or np.linalg.norm(points[index - 1] - point) > STROKE_GAP):
            starts.append(point)  # a click: a piece of no length
            ends.append(point)
    return Distribution("drawing", 2, std=DRAWN_SPREAD, curve=_Pieces(np.asarray(starts), np.asarray(ends)),
                        bounds=(-DRAW_RANGE, DRAW_RANGE))


class _Pieces:
    """t in [0, 1) -> points on straight pieces (a click: a piece of no length), uniformly by length (a click
    weighs CLICK_WEIGHT). A class, not a closure: labs travel pickled to the processes that train them."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray):
        self.starts, self.ends = starts, ends
        weights = np.linalg.norm(ends - starts, axis=1)
        weights = np.where(weights > 0, weights, CLICK_WEIGHT)
        self.edges = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])

    def __call__(self, t) -> np.ndarray:
        t = np.asarray(t, np.float64)
        piece = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, len(self.starts) - 1)
        along = ((t - self.edges[piece]) / (self.edges[piece + 1] - self.edges[piece]))[:, None]
        return self.starts[piece] + along * (self.ends[piece] - self.starts[piece])



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


LOG4 = math.log(4)  # -V(D*, G*) of the original GAN: the value of the game at its equilibrium


def kde(samples: np.ndarray, xs: np.ndarray, bandwidth: float | None = None) -> np.ndarray:
    """Gaussian kernel density estimate of 1-D samples at xs (Silverman's bandwidth by default)."""
    samples = np.asarray(samples, np.float64)
    if bandwidth is None:
        spread = min(samples.std(), np.subtract(*np.percentile(samples, [75, 25])) / 1.34) or samples.std() or 1e-3
        bandwidth = 0.9 * spread * len(samples) ** -0.2
    # bin first: exact enough and fast for many samples
    edges = np.linspace(xs.min() - 5 * bandwidth, xs.max() + 5 * bandwidth, 4001)
    counts, _ = np.histogram(samples, bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    weights = np.exp(-0.5 * ((xs[:, None] - centres[None]) / bandwidth) ** 2)
    return (weights * counts).sum(1) / (len(samples) * bandwidth * math.sqrt(2 * math.pi))
