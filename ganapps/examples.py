"""Example inputs for the app, made from images that ship inside scikit-image (no downloads)."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from PIL import Image

from .data import bicubic_downscale

FOLDER = Path(tempfile.gettempdir()) / "ganapps-examples"
# skimage.data images bundled with the package, how much their low-resolution example is shrunk,
# and the JPEG quality it is saved with (None: PNG, a clean downscale as in the SR benchmark).
SR_SOURCES = {"chelsea": (3, 75), "coffee": (4, 60), "astronaut": (4, None), "rocket": (3, None)}


@cache
def sr_examples() -> list[str]:
    """Small photos to upscale: each skimage picture shrunk with bicubic, some saved as web JPEGs."""
    from skimage import data

    FOLDER.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (factor, quality) in SR_SOURCES.items():
        path = FOLDER / (f"{name}-small.png" if quality is None else f"{name}-small-q{quality}.jpg")
        if not path.exists():
            small = Image.fromarray(bicubic_downscale(getattr(data, name)(), factor))
            small.save(path, **({} if quality is None else {"quality": quality}))
        paths.append(str(path))
    return paths

RAIN_SOURCES = ("astronaut", "coffee", "chelsea")  # clean photos for "make it rain" and rainy examples


@cache
def clean_examples() -> list[str]:
    """Clean skimage photos for the "make it rain" panel."""
    from skimage import data

    FOLDER.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in RAIN_SOURCES:
        path = FOLDER / f"{name}.png"
        if not path.exists():
            Image.fromarray(getattr(data, name)()).save(path)
        paths.append(str(path))
    return paths


@cache
def rainy_examples() -> list[str]:
    """The same photos with synthetic rain of each benchmark strength (fixed seeds): inputs to derain."""
    import numpy as np

    from .rain import RainParams, add_rain

    paths = []
    for clean, strength in zip(clean_examples(), ("medium", "heavy", "light")):
        path = FOLDER / f"{Path(clean).stem}-rain-{strength}.png"
        if not path.exists():
            rainy = add_rain(np.asarray(Image.open(clean).convert("RGB")), RainParams.strength(strength), seed=0)
            Image.fromarray((rainy * 255).round().astype(np.uint8)).save(path)
        paths.append(str(path))
    return paths
