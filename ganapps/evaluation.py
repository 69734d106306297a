"""Benchmark protocols: super-resolution on standard sets (PSNR/SSIM on Y, as the literature)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .data import bicubic_downscale
from .imaging import IMAGE_SUFFIXES, load_rgb
from .metrics import high_frequency_energy, psnr_ssim_y
from .photos import upscale

log = logging.getLogger(__name__)


def modcrop(image: np.ndarray, scale: int) -> np.ndarray:
    """Crop (H, W, 3) to a multiple of ``scale`` on both sides (top-left kept)."""
    return image[: image.shape[0] - image.shape[0] % scale, : image.shape[1] - image.shape[1] % scale]


def evaluate_sr(folder, *, models=("bicubic", "srresnet-x4", "srgan-x4"), scale: int = 4) -> dict[str, dict[str, float]]:
    """The x``scale`` protocol on one folder of ground-truth images, for each model.

    Modcrop, PIL bicubic downscale, upscale, round to 8 bits, then PSNR/SSIM on Y with ``scale``
    pixels shaved from each border. Also the high-frequency energy relative to the ground truth
    (1.0: as much fine detail as the original; below: smoother). Returns {model: {metric: mean}}.
    """
    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ValueError(f"no images in {folder}")
    scores = {model: {"psnr": [], "ssim": [], "hf_ratio": []} for model in models}
    for path in paths:
        high_res = modcrop(load_rgb(path), scale)
        low_res = bicubic_downscale(high_res, scale)
        reference_hf = high_frequency_energy(high_res[scale:-scale, scale:-scale])
        for model in models:
            output = upscale(low_res, model=model, scale=scale).to_array()
            value_psnr, value_ssim = psnr_ssim_y(output, high_res, shave=scale)
            scores[model]["psnr"].append(value_psnr)
            scores[model]["ssim"].append(value_ssim)
            scores[model]["hf_ratio"].append(high_frequency_energy(output[scale:-scale, scale:-scale]) / reference_hf)
            log.info("%s %s: %.2f dB", path.name, model, value_psnr)
    return {model: {k: float(np.mean(v)) for k, v in metrics.items()} for model, metrics in scores.items()}
