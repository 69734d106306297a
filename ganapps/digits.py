"""Digits from the MNIST GANs, by model name: the library behind the three digit tabs and the CLI.

Every function validates its arguments (a ValueError naming the allowed range) before touching a
model, loads the model read-only through ``hub.load_cached`` and draws its randomness from
``seed`` alone, so the same call gives the same digits whatever else is running.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import catalog, hub
from .models import TRAINABLE, cgan, dcgan, get_family, infogan

MAX_IMAGES = 256
MAX_SEED = 2**32 - 1
CODE_LIMIT = 2.0  # sliders reach twice the training range of the continuous codes, U(-1, 1)
MAX_NUMBER_LENGTH = 32
MAX_STEPS = 32
DEFAULT_MODELS = catalog.DIGITS  # each digit family's shipped model
DIGIT_FAMILIES = tuple(name for name, family in TRAINABLE.items() if family.conditions is not None)


def check_int(name: str, value, low: int, high: int) -> int:
    """``value`` as an int in [low, high]; integral floats (as JSON numbers arrive) are accepted."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number in {low}..{high}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {int(value)}")
    return int(value)


def check_float(name: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number in {low}..{high}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return float(value)


def sample_digits(
    model: str = "dcgan-mnist",
    num_images: int = 16,
    *,
    seed: int = 0,
    digit: int | None = None,
    slant: float | None = None,
    width: float | None = None,
    device="cpu",
    start: int = 0,
) -> torch.Tensor:
    """``num_images`` (at most 256) digits (N, 1, 28, 28) in [-1, 1] from a DCGAN, CGAN, InfoGAN or semi-supervised GAN.

    ``digit`` asks a CGAN or InfoGAN for that digit (a CGAN without one cycles through 0..9; an
    InfoGAN without one draws its category); ``slant`` and ``width`` (InfoGAN only, -2..2, where
    -1..1 is the training range) set the attribute codes, which are otherwise drawn. ``start``
    is the position of the first image in a longer sequence (``sample_batches``): the cycles of
    labels go on from there. More digits: ``sample_batches``.
    """
    num_images = check_int("num_images", num_images, 1, MAX_IMAGES)
    start = check_int("start", start, 0, 2**62)
    seed = check_int("seed", seed, 0, MAX_SEED)
    if digit is not None:
        digit = check_int("digit", digit, 0, 9)
    if slant is not None:
        slant = check_float("slant", slant, -CODE_LIMIT, CODE_LIMIT)
    if width is not None:
        width = check_float("width", width, -CODE_LIMIT, CODE_LIMIT)
    family = get_family(hub.check_family(model, DIGIT_FAMILIES))
    generator = hub.load_cached(model, str(device))
    conditions = family.conditions(generator, num_images, seed=seed, start=start, digit=digit, slant=slant, width=width)
    return family.sample(generator, num_images, seed=seed, device=device, **conditions)


def sample_batches(model: str = "dcgan-mnist", num_images: int = 16, *, seed: int = 0, **options):
    """Any number of digits, as an iterator of batches of at most ``MAX_IMAGES``: memory stays bounded.

    Thousands of digits (e.g. for a Fréchet distance) are written batch by batch. Up to
    ``MAX_IMAGES`` digits come as one batch equal to ``sample_digits(model, num_images, seed=seed,
    **options)``; after that, batch ``b`` draws from a seed made of ``(seed, b)`` (NumPy's
    SeedSequence), and label cycles run on across batches. Every option is checked before the
    first batch is drawn.
    """
    if isinstance(num_images, bool) or not isinstance(num_images, int) or num_images < 1:
        raise ValueError(f"num_images must be a whole number >= 1, got {num_images!r}")
    seed = check_int("seed", seed, 0, MAX_SEED)
    sample_digits(model, 1, seed=seed, **options)  # a bad option fails here, before any output

    def batches():
        for batch, start in enumerate(range(0, num_images, MAX_IMAGES)):
            batch_seed = seed if batch == 0 else int(np.random.SeedSequence([seed, batch]).generate_state(1)[0])
            yield sample_digits(model, min(MAX_IMAGES, num_images - start), seed=batch_seed, start=start, **options)

    return batches()


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between latent vectors a and b (D,) at fractions t (S,) -> (S, D).

    Gaussian latents live near a sphere; a straight line between two of them passes through
    unlikely low-norm points, which is why DCGAN interpolations are usually spherical.
    """
    omega = torch.arccos(torch.clamp((a / a.norm()) @ (b / b.norm()), -1.0, 1.0))
    if omega.abs() < 1e-6:
        return torch.lerp(a, b, t[:, None])
    return (torch.sin((1 - t) * omega)[:, None] * a + torch.sin(t * omega)[:, None] * b) / torch.sin(omega)


def interpolate(model: str = "dcgan-mnist", seed_a: int = 0, seed_b: int = 1, *, steps: int = 10, device="cpu"):
    """Digits (steps, 1, 28, 28) morphing from seed_a's digit to seed_b's along a latent great circle."""
    seed_a = check_int("seed_a", seed_a, 0, MAX_SEED)
    seed_b = check_int("seed_b", seed_b, 0, MAX_SEED)
    steps = check_int("steps", steps, 2, MAX_STEPS)
    generator = hub.load_cached(model, str(device), "dcgan")
    dim = generator.config.latent_dim
    # The ends are exactly the digits that sample_digits(model, 1, seed=seed_a / seed_b) draws.
    a = torch.randn(1, dim, generator=torch.Generator().manual_seed(seed_a))[0]
    b = torch.randn(1, dim, generator=torch.Generator().manual_seed(seed_b))[0]
    latents = slerp(a, b, torch.linspace(0, 1, steps))
    return dcgan.sample(generator, steps, latents=latents, device=device)


def write_number(text: str, *, seed: int = 0, model: str = "cgan-mnist", device="cpu") -> torch.Tensor:
    """A number written out in generated handwriting: (1, 1, 28, W) in [-1, 1].

    ``text`` may hold digits and spaces (a space leaves a half-digit gap), e.g. "2026" or
    "555 0123"; anything else is refused, never dropped.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string of digits, got {type(text).__name__}")
    text = text.strip()
    if not text:
        raise ValueError("type a number to write, e.g. 2026")
    bad = sorted({ch for ch in text if not (ch.isascii() and ch.isdigit()) and ch != " "})
    if bad:
        raise ValueError(f"only digits and spaces can be written; remove {' '.join(repr(ch) for ch in bad)}")
    digits = [int(ch) for ch in text if ch != " "]
    if len(digits) > MAX_NUMBER_LENGTH:
        raise ValueError(f"at most {MAX_NUMBER_LENGTH} digits can be written at once, got {len(digits)}")
    seed = check_int("seed", seed, 0, MAX_SEED)
    generator = hub.load_cached(model, str(device), "cgan")
    images = cgan.sample(generator, len(digits), labels=digits, seed=seed, device=device).cpu()
    gap = -torch.ones(1, 28, 14)
    pieces, drawn = [], iter(images)
    for ch in text:
        pieces.append(gap if ch == " " else next(drawn))
    return torch.cat(pieces, dim=2).unsqueeze(0)  # (1, 1, 28, W)


def traversal(
    model: str = "infogan-mnist",
    attribute: str = "slant",
    *,
    digit: int | None = None,
    seed: int = 0,
    rows: int = 4,
    steps: int = 9,
    device="cpu",
):
    """A grid that varies one InfoGAN code along each row, everything else fixed per row.

    ``attribute`` is "slant" or "width" (swept over -2..2) or "digit" (each category in digit
    order). Returns (images (rows * columns, 1, 28, 28), columns).
    """
    if attribute not in ("slant", "width", "digit"):
        raise ValueError(f"unknown attribute {attribute!r}; available: slant, width, digit")
    seed = check_int("seed", seed, 0, MAX_SEED)
    rows = check_int("rows", rows, 1, 16)
    steps = check_int("steps", steps, 2, MAX_STEPS)
    if digit is not None:
        digit = check_int("digit", digit, 0, 9)
    generator = hub.load_cached(model, str(device), "infogan")
    config = generator.config
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(rows, config.noise_dim, generator=rng)  # one noise vector per row
    if attribute == "digit":
        if config.category_digits is None:
            infogan.categories_of(config, 0)  # raises the "not calibrated" error
        order = sorted(range(config.num_categories), key=lambda k: config.category_digits[k])
        columns = len(order)
        labels = torch.tensor(order).repeat(rows)
        codes = torch.zeros(rows * columns, config.num_continuous)
    else:
        columns = steps
        if digit is None:
            row_labels = torch.randint(config.num_categories, (rows,), generator=rng)
        else:
            categories = infogan.categories_of(config, digit)
            row_labels = torch.tensor([categories[r % len(categories)] for r in range(rows)])
        labels = row_labels.repeat_interleave(columns)
        sweep = torch.linspace(-CODE_LIMIT, CODE_LIMIT, columns).repeat(rows)
        codes = infogan.codes_for(config, rows * columns, 0.0, 0.0)
        code, sign = (
            (config.slant_code, config.slant_sign) if attribute == "slant" else (config.width_code, config.width_sign)
        )
        codes[:, code] = sweep * sign
    latents = z.repeat_interleave(columns, dim=0)
    images = infogan.sample(generator, rows * columns, labels=labels, codes=codes, latents=latents, device=device)
    return images, columns
