"""Every shipped model's output, pinned: a change of shipped weights (or of what a shipped model computes) fails here.

Each model in checkpoints/ is run through the verb people use it by (its task in ``catalog``) on a fixed input or
seed, and a slice of its output is held to the numbers below; a denoise twin is pinned at both ends of its strength.
After a deliberate change of a shipped model, print the new pins and paste them over PINNED:

    python -m tests.test_shipped
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data as skdata

from ganapps import catalog, hub
from ganapps.digits import sample_digits
from ganapps.photos import derain, upscale
from ganapps.recognition import CLASSIFIER_FAMILIES


def photo() -> np.ndarray:
    """(12, 16, 3) uint8: a bit of a real photo (scikit-image's astronaut), the same on every machine."""
    return np.ascontiguousarray(skdata.astronaut()[100:196:8, 180:308:8])


def digits() -> torch.Tensor:
    """(2, 1, 28, 28) in [-1, 1]: two fixed strokes, a vertical bar and a ring."""
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    bar = ((xx - 14).abs() < 2) & ((yy - 14).abs() < 9)
    ring = ((torch.hypot(yy - 14, xx - 14) - 7).abs() < 1.6)
    return torch.stack([bar, ring]).float().mul(2).sub(1)[:, None]


def outputs(name: str) -> dict[str, list[float]]:
    """What ``name`` gives for the fixed inputs, rounded to 4 decimals: a few values per way it is used."""
    found = {}
    if name in catalog.DIGITS.values():
        found["sample"] = sample_digits(name, 2, seed=0)[:, 0, 14, 8:20:3].flatten()
    if name in catalog.CLASSIFY:
        with torch.inference_mode():  # the logits: probabilities of such clear strokes are all 0 or 1
            found["read"] = hub.load_cached(name, family=CLASSIFIER_FAMILIES)(digits())[:, :5].flatten()
    if name in catalog.UPSCALE:
        strengths = (0.0, 1.0) if hub.has_denoise(name) else (None,)
        for strength in strengths:
            result = upscale(photo(), model=name, denoise=strength).color
            found["upscale" if strength is None else f"upscale denoise {strength:g}"] = result[0, :, 20, 24:30].flatten()
    if name in catalog.DERAIN:
        found["derain"] = derain(photo(), model=name).color[0, :, 6, 4:10].flatten()
    return {what: [round(float(value), 4) for value in values] for what, values in found.items()}


PINNED = {
    'cgan-mnist': {
        'sample': [-0.8858, -0.9991, -0.9999, -1.0, -1.0, -0.9734, 0.9998, -0.9915],
    },
    'dcgan-mnist': {
        'sample': [0.9806, -1.0, -1.0, -0.9874, -1.0, -0.9806, 0.6847, -0.9383],
    },
    'derain-idcgan': {
        'derain': [
            0.8103, 0.966, 0.8674, 0.7541, 0.8184, 0.8282, 0.5617, 0.8856, 0.776,
            0.5495, 0.7162, 0.7093, 0.4836, 0.823, 0.7302, 0.5165, 0.5977, 0.5789,
        ],
    },
    'derain-idcgan-mix': {
        'derain': [
            0.7511, 0.9673, 0.8401, 0.6934, 0.7853, 0.88, 0.5046, 0.8863, 0.7556,
            0.475, 0.6562, 0.7269, 0.4267, 0.8409, 0.7193, 0.4663, 0.5552, 0.6055,
        ],
    },
    'derain-idcgan-ssim': {
        'derain': [
            0.7582, 0.9348, 0.8288, 0.6812, 0.7734, 0.8818, 0.5159, 0.858, 0.7413,
            0.4646, 0.6535, 0.749, 0.4443, 0.8239, 0.7018, 0.4501, 0.5541, 0.6294,
        ],
    },
    'infogan-mnist': {
        'sample': [-0.9459, -0.999, -0.7802, 0.9984, -1.0, -1.0, -1.0, -0.5732],
    },
    'mnist-100-labels': {
        'read': [-21.67, 65.1613, -11.9124, -12.9138, 8.4168, 28.5713, -10.2026, -8.2487, -9.8686, -7.9524],
    },
    'mnist-classifier': {
        'read': [-4.4718, 11.4016, -4.5479, -3.3246, -2.5466, 13.8749, -11.6089, -2.8248, -1.4483, -8.1598],
    },
    'photo-x4': {
        'upscale denoise 0': [
            0.7734, 0.7298, 0.6809, 0.6243, 0.5936, 0.5829, 0.5761, 0.5286, 0.4745,
            0.4133, 0.3904, 0.3867, 0.511, 0.4635, 0.4114, 0.3519, 0.3217, 0.3129,
        ],
        'upscale denoise 1': [
            0.7833, 0.7393, 0.6913, 0.6321, 0.6039, 0.5915, 0.5892, 0.5358, 0.4809,
            0.4148, 0.3951, 0.3891, 0.5182, 0.4656, 0.4153, 0.3536, 0.3305, 0.3236,
        ],
    },
    'photo-x4-psnr': {
        'upscale denoise 0': [
            0.761, 0.7237, 0.6861, 0.6515, 0.6177, 0.5982, 0.5542, 0.5122, 0.4735,
            0.4421, 0.4136, 0.3986, 0.4861, 0.4499, 0.4124, 0.3785, 0.3421, 0.3167,
        ],
        'upscale denoise 1': [
            0.7674, 0.7313, 0.6925, 0.6561, 0.6221, 0.5989, 0.5753, 0.529, 0.4852,
            0.4476, 0.4169, 0.3963, 0.5002, 0.4596, 0.4191, 0.3823, 0.3497, 0.3247,
        ],
    },
    'srgan-x4': {
        'upscale': [
            0.6358, 0.5304, 0.6336, 0.6914, 0.7169, 0.6777, 0.4466, 0.3197, 0.4059,
            0.4676, 0.6164, 0.4254, 0.382, 0.2793, 0.3457, 0.4126, 0.4935, 0.3358,
        ],
    },
    'srresnet-x4': {
        'upscale': [
            0.6554, 0.6438, 0.6627, 0.6634, 0.646, 0.5927, 0.4346, 0.4257, 0.4468,
            0.4565, 0.4506, 0.4083, 0.3839, 0.3829, 0.3943, 0.3977, 0.3824, 0.333,
        ],
    },
    'ssgan-mnist': {
        'sample': [-0.1903, 0.2618, 0.7108, -0.9748, -0.9292, 0.6392, 0.6143, 1.0],
        'read': [-13.83, 1.0997, -15.1561, -14.3184, -13.6595, 1.9493, -11.3031, -12.281, -12.9335, -13.1963],
    },
}


def test_every_shipped_model_is_pinned():
    assert sorted(PINNED) == hub.available(), "a shipped model without pins (or pins of one no longer shipped): " \
                                               "print them with python -m tests.test_shipped"


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_shipped_model_gives_its_pinned_output(name):
    found = outputs(name)
    assert sorted(found) == sorted(PINNED[name])
    for what, values in PINNED[name].items():
        assert np.allclose(found[what], values, rtol=1e-4, atol=2e-4), f"{name} {what}: {found[what]} != {values}"


if __name__ == "__main__":
    torch.set_num_threads(1)
    print("PINNED = {")
    for name in hub.available():
        print(f"    {name!r}: {{")
        for what, values in outputs(name).items():
            print(f"        {what!r}: {values},")
        print("    },")
    print("}")  # ruff format, or break the long lines by hand
