"""Reading handwritten digits: any image in the MNIST layout, then a digit classifier's answer.

``mnist_layout`` turns a photo, scan or drawing of one digit into what MNIST's classifiers saw
in training: a white digit on black, its box scaled to 20 pixels on the longer side and placed
in 28x28 by its centre of mass (LeCun et al.'s preparation of MNIST). Dark ink on a light page
is told from light ink on a dark one by the image's border. ``classify`` reads a batch with a
shipped model: the semi-supervised GAN's discriminator or a supervised classifier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import hub, weights
from .imaging import read_image

__all__ = ["Reading", "CLASSIFIER_FAMILIES", "MAX_DIGIT_PIXELS", "EVALUATION_FILE", "mnist_layout", "classify", "evaluation"]

CLASSIFIER_FAMILIES = ("ssgan", "classifier")  # families whose network maps digits to ten logits
MAX_DIGIT_PIXELS = 4096 * 4096
DIGIT_BOX = 20  # pixels: the longer side of the digit's box in the 28x28 image, as in MNIST
BORDER = 0.1  # the share of each side that counts as the page around the digit
WHITE_ON_BLACK, BLACK_ON_WHITE = "white on black", "black on white"
EVALUATION_FILE = "evaluation.json"  # a model's measured MNIST test error (bench/semi_supervised.py --record)


@dataclass(frozen=True)
class Reading:
    """A classifier's answer for one image: the digit, its probability, all ten, and the ink detected."""

    digit: int
    confidence: float
    probabilities: tuple[float, ...]
    ink: str


def mnist_layout(source) -> tuple[torch.Tensor, str]:
    """One image (a path, bytes, PIL image or array; any size, colour or bit depth) -> ((1, 1, 28, 28)
    in [-1, 1] as MNIST, the ink detected: "white on black" or "black on white").

    Transparent pixels count as white paper. A blank image is a ValueError.
    """
    picture = read_image(source, max_pixels=MAX_DIGIT_PIXELS)
    color = picture.color[0]
    gray = color[0] if picture.grayscale else 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    if picture.alpha is not None:
        alpha = picture.alpha[0, 0]
        gray = gray * alpha + (1 - alpha)
    height, width = gray.shape
    rim_y, rim_x = max(1, round(height * BORDER)), max(1, round(width * BORDER))
    inner = torch.zeros_like(gray, dtype=torch.bool)
    inner[rim_y : height - rim_y, rim_x : width - rim_x] = True
    page = gray[~inner] if (~inner).any() else gray.flatten()
    ink = BLACK_ON_WHITE if page.median() > 0.5 else WHITE_ON_BLACK
    strokes = 1 - gray if ink == BLACK_ON_WHITE else gray
    strokes = (strokes - strokes[~inner].median() if (~inner).any() else strokes - strokes.min()).clamp(min=0)
    if strokes.max() < 0.1:
        raise ValueError("no digit found: the image is blank (or its strokes barely differ from the page)")
    strokes = strokes / strokes.max()
    rows, columns = (strokes > 0.2).any(1).nonzero().flatten(), (strokes > 0.2).any(0).nonzero().flatten()
    box = strokes[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    scale = DIGIT_BOX / max(box.shape)
    size = (max(1, round(box.shape[0] * scale)), max(1, round(box.shape[1] * scale)))
    small = F.interpolate(box[None, None], size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0].clamp(0, 1)
    ys, xs = torch.arange(size[0], dtype=torch.float32), torch.arange(size[1], dtype=torch.float32)
    mass = small.sum().clamp(min=1e-6)
    centre_y, centre_x = (small.sum(1) * ys).sum() / mass, (small.sum(0) * xs).sum() / mass
    top = int(np.clip(round(13.5 - centre_y.item()), 0, 28 - size[0]))
    left = int(np.clip(round(13.5 - centre_x.item()), 0, 28 - size[1]))
    digit = torch.zeros(28, 28)
    digit[top : top + size[0], left : left + size[1]] = small
    return (digit * 2 - 1)[None, None], ink


@torch.inference_mode()
def classify(images, *, model: str = "ssgan-mnist", device: str = "cpu") -> list[Reading]:
    """Read each image's digit with ``model`` (a semi-supervised GAN or a classifier).

    ``images``: one image or a list (paths, bytes, PIL images, arrays, or MNIST tensors (B, 1, 28,
    28) in [-1, 1], used as they are). A ValueError names the first image that cannot be read.
    """
    network = hub.load_cached(model, device, family=CLASSIFIER_FAMILIES)
    if isinstance(images, torch.Tensor):
        batch, inks = images.float(), [WHITE_ON_BLACK] * len(images)
    else:
        items = images if isinstance(images, (list, tuple)) else [images]
        if not items:
            return []
        laid_out = []
        for number, item in enumerate(items, 1):
            try:
                laid_out.append(mnist_layout(item))
            except ValueError as err:
                name = item if isinstance(item, str) else f"image {number}"
                raise ValueError(f"{name}: {err}") from None
        batch, inks = torch.cat([digit for digit, _ in laid_out]), [ink for _, ink in laid_out]
    probabilities = F.softmax(network(batch.to(device)), dim=1).cpu()
    confidence, digits = probabilities.max(1)
    return [
        Reading(int(d), float(c), tuple(round(float(p), 6) for p in row), ink)
        for d, c, row, ink in zip(digits, confidence, probabilities, inks)
    ]


def evaluation(model: str) -> dict | None:
    """What ``bench/semi_supervised.py --record`` measured of ``model`` (``test_error_percent``,
    ``wrong``, ``of``, ``command``), kept in its folder; None if it was never measured."""
    try:
        path = weights.fetch(model, EVALUATION_FILE, root=hub.CHECKPOINTS)
    except ValueError:
        return None
    return json.loads(path.read_text())
