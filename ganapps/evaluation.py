"""Benchmark protocols: super-resolution and deraining on standard sets (PSNR/SSIM on Y, as the literature)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .data import bicubic_downscale, image_files, split_files
from .imaging import jpeg_roundtrip, load_rgb
from .metrics import block_grid_energy, periodic_pattern, position_energy, psnr_ssim_y, texture
from .photos import DERAIN_MODELS, derain, upscale

log = logging.getLogger(__name__)


def modcrop(image: np.ndarray, scale: int) -> np.ndarray:
    """Crop (H, W, 3) to a multiple of ``scale`` on both sides (top-left kept)."""
    return image[: image.shape[0] - image.shape[0] % scale, : image.shape[1] - image.shape[1] % scale]


def evaluate_sr(
    folder, *, models=("bicubic", "srresnet-x4", "srgan-x4"), scale: int = 4, jpeg_quality: int | None = None, split: str = "all",
    denoise: float | None = None,
) -> dict[str, dict[str, float]]:
    """The x``scale`` protocol on one folder of ground-truth images, for each model.

    Modcrop, PIL bicubic downscale, with ``jpeg_quality`` then saved as a JPEG of that quality (a
    "web photo"), upscale, round to 8 bits, then PSNR/SSIM on Y with ``scale`` pixels shaved from
    each border. Also the texture relative to the ground truth (``metrics.texture``; 1.0: as much fine
    detail as the original, below: smoother, above: invented grain), the block-grid energy at the
    JPEG blocks' period in the output (``metrics.block_grid_energy``; 1.0: no grid), and the pattern
    that repeats at the pixel shuffle's period, ``scale`` (``metrics.periodic_pattern``; a sub-pixel
    checkerboard, near 0 in photos), and how much more detail the busiest of its positions holds than
    the average one (``metrics.position_energy``; sub-pixel dots, near 1 in photos). The grid, split in two:
    "jpeg grid", the JPEG blocks' boundaries against the other low-res pixels' boundaries, and "pixel grid",
    the low-res pixels' boundaries against the gradients within them (``block_grid_energy``'s ``within``;
    both 1.0 in photos). ``split`` takes the
    "train" or "validation" share of the folder (``data.split_files``) or "all". ``denoise``: the
    strength for models with a denoise control (None: each model's default).
    Returns {model: {metric: mean}} with metrics psnr, ssim, texture, grid, jpeg grid, pixel grid,
    checkerboard and dots, plus "ground truth" with its own grids, checkerboard and dots.
    """
    paths = split_files(image_files(folder), split)
    if not paths:
        raise ValueError(f"no images in {folder}")
    period = 8 * scale
    patterns = {
        "grid": lambda image: block_grid_energy(image, period=period),
        "jpeg grid": lambda image: block_grid_energy(image, period=period, within=scale),
        "pixel grid": lambda image: block_grid_energy(image, period=scale),
        "checkerboard": lambda image: periodic_pattern(image, period=scale),
        "dots": lambda image: position_energy(image, period=scale),
    }
    scores = {model: {"psnr": [], "ssim": [], "texture": [], **{name: [] for name in patterns}} for model in models}
    truth = {name: [] for name in patterns}
    for path in paths:
        high_res = modcrop(load_rgb(path), scale)
        low_res = bicubic_downscale(high_res, scale)
        if jpeg_quality is not None:
            low_res = jpeg_roundtrip(low_res, jpeg_quality)
        reference_texture = texture(high_res[scale:-scale, scale:-scale])
        for name, measure in patterns.items():
            truth[name].append(measure(high_res))
        for model in models:
            output = upscale(low_res, model=model, scale=scale, denoise=denoise).to_array()
            value_psnr, value_ssim = psnr_ssim_y(output, high_res, shave=scale)
            scores[model]["psnr"].append(value_psnr)
            scores[model]["ssim"].append(value_ssim)
            scores[model]["texture"].append(texture(output[scale:-scale, scale:-scale]) / reference_texture)
            for name, measure in patterns.items():
                scores[model][name].append(measure(output))
            log.info("%s %s: %.2f dB", path.name, model, value_psnr)
    results = {model: {k: float(np.mean(v)) for k, v in metrics.items()} for model, metrics in scores.items()}
    results["ground truth"] = {k: float(np.mean(v)) for k, v in truth.items()}
    return results


def _derain_scores(pairs, models) -> dict[str, dict[str, float]]:
    """PSNR/SSIM on Y (no shave) of the rainy input and of each model's output, against clean; each pair read once."""
    scores = {name: {"psnr": [], "ssim": []} for name in ("rainy input", *models)}
    for rainy, clean in pairs:
        candidates = [("rainy input", rainy)] + [(model, derain(rainy, model=model).to_array()) for model in models]
        for name, candidate in candidates:
            value_psnr, value_ssim = psnr_ssim_y(candidate, clean)
            scores[name]["psnr"].append(value_psnr)
            scores[name]["ssim"].append(value_ssim)
    return {name: {k: float(np.mean(v)) for k, v in metrics.items()} for name, metrics in scores.items()}


def evaluate_derain(rainy_folder, clean_folder, *, models=DERAIN_MODELS[:1]) -> dict[str, dict[str, float]]:
    """The deraining protocol on real pairs: files of the same name in ``rainy_folder`` and ``clean_folder``."""
    rainy_paths = image_files(rainy_folder)
    if not rainy_paths:
        raise ValueError(f"no images in {rainy_folder}")
    missing = [p.name for p in rainy_paths if not (Path(clean_folder) / p.name).is_file()]
    if missing:
        raise ValueError(f"no clean image in {clean_folder} for: {', '.join(missing)}")
    return _derain_scores(((load_rgb(p), load_rgb(Path(clean_folder) / p.name)) for p in rainy_paths), models)


def evaluate_derain_side_by_side(folder, *, split: str = "validation", models=DERAIN_MODELS[:1]):
    """The protocol on a folder of side-by-side pairs (Rain800's layout), by default its validation split."""
    from .data import side_by_side_pairs

    return _derain_scores(side_by_side_pairs(folder, split=split), models)


def evaluate_derain_synthetic(clean_folder, strength: str, *, models=DERAIN_MODELS[:1], seed: int = 0):
    """The protocol on clean photos with synthetic rain of a fixed strength (``RainParams.strength``) and seeds."""
    paths = image_files(clean_folder)
    return evaluate_derain_on_photos((load_rgb(p) for p in paths), strength, models=models, seed=seed)


RAIN_STRENGTHS = ("light", "medium", "heavy")  # the synthetic rain the benchmarks put on photos (RainParams.preset)


def evaluate_derain_on_photos(photos, strength: str | None, *, models=DERAIN_MODELS[:1], seed: int = 0):
    """The protocol on clean uint8 photos with synthetic rain of a fixed strength; ``None``: no rain (is the photo kept?)."""
    from .rain import RainParams, add_rain

    params = None if strength is None else RainParams.strength(strength)

    def pairs():
        for index, clean in enumerate(photos):
            if params is None:
                yield clean, clean
                continue
            rainy = (add_rain(clean, params, seed=seed + index) * 255).round().astype(np.uint8)
            yield rainy, clean

    return _derain_scores(pairs(), models)


# The rain of the tab's "make rain" check: three layers of fairly bright, fairly wide streaks.
CHECK_RAIN = {"layers": 3, "brightness": 0.7, "width": 1.5}
MAX_CHECK_PIXELS = 4_194_304


def rain_check(image, *, amount: float, angle: float, length: float, seed: int, model: str = DERAIN_MODELS[0]) -> dict:
    """Rain made on a clean photo, derained, and both scored against the photo (PSNR / SSIM on Y).

    ``image``: anything ``imaging.read_image`` takes, up to 4 megapixels. Returns ``rainy`` and
    ``derained`` (uint8 (H, W, 3)) and their ``(psnr, ssim)`` as ``rainy_scores`` and ``derained_scores``.
    """
    from .imaging import read_image
    from .rain import RainParams, add_rain

    params = RainParams(amount=amount, angle=angle, length=length, **CHECK_RAIN)
    clean = read_image(image, max_pixels=MAX_CHECK_PIXELS).rgb()[0].permute(1, 2, 0).numpy()
    rainy = (add_rain(clean, params, seed=seed) * 255).round().astype(np.uint8)
    derained = derain(rainy, model=model).to_array()
    reference = (clean * 255).round().astype(np.uint8)
    return {"rainy": rainy, "derained": derained,
            "rainy_scores": psnr_ssim_y(rainy, reference), "derained_scores": psnr_ssim_y(derained, reference)}


# scikit-image's photos that judge a derainer on rain it was not trained on, and whether it leaves dry photos alone
VALIDATION_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "brick", "grass", "gravel")


def validation_photos(side: int = 384) -> list[np.ndarray]:
    """Centre crops of scikit-image photos, gray ones as three equal channels (uint8 (side, side, 3))."""
    from skimage import data as skdata

    crops = []
    for name in VALIDATION_PHOTOS:
        image = getattr(skdata, name)()
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        crops.append(np.ascontiguousarray(image[top : top + side, left : left + side, :3]))
    return crops
