"""What makes a shipped model out of trained networks, after the train steps of its recipe: each a library function
and a recipe step kind (``recipes.KINDS``), so that ``ganapps train --recipe`` replays every shipped model from an
installed package.

- ``calibrate``: measure what an InfoGAN's codes mean with a classifier, into its config.json;
- ``record_test_error``: a digit reader's MNIST test error, into its ``evaluation.json`` (the app shows it);
- ``repair_and_blend``: a GAN upscaler's sub-pixel dots repaired, then blended with the PSNR pair it started from at
  the largest weight that stays more faithful than bicubic, its default denoise strength chosen by measurement;
- ``dry_blend``: a deraining run blended with the model it started from at the largest weight that leaves dry photos
  untouched.

Each logs what it measured (``logging``, as Markdown table rows) and returns it; ``bench/superres_blend.py`` and
``bench/deraining_blend.py`` print the same as tables.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import hub
from .data import bicubic_downscale, image_files, mnist, split_files
from .evaluation import evaluate_sr, modcrop, validation_photos
from .imaging import jpeg_roundtrip, load_rgb
from .metrics import position_energies, psnr_ssim_y
from .models import infogan, realesrgan
from .photos import derain, upscale
from .recognition import EVALUATION_FILE, classify

__all__ = ["calibrate", "record_test_error", "BlendReport", "repair_and_blend", "dry_blend"]

log = logging.getLogger(__name__)


def calibrate(model: str | Path, classifier: str = "mnist-classifier") -> Path:
    """Measure what the InfoGAN in folder ``model`` draws with each code (``infogan.calibrate``) and write it into its
    config.json: which category is which digit, which continuous code is slant and which stroke width."""
    generator = hub.load(str(model), family="infogan")
    generator.config = infogan.calibrate(generator, hub.load(classifier, family="classifier"))
    return hub.save(generator, model)


def record_test_error(model: str | Path, data: str | Path) -> dict:
    """The MNIST test error of digit reader ``model`` (a folder or a shipped model's name) on the whole test set of
    ``data`` (the folder that holds MNIST/), written into the model's ``evaluation.json`` (the app shows it)."""
    images, labels = mnist(str(data), train=False)
    readings = [r for start in range(0, len(images), 1000) for r in classify(images[start : start + 1000], model=str(model))]
    wrong = sum(r.digit != int(label) for r, label in zip(readings, labels))
    record = {"test_error_percent": wrong / 100, "wrong": wrong, "of": len(images),
              "command": "ganapps.finishing.record_test_error (a recipe's record step)"}
    folder = Path(model) if Path(model).is_dir() else hub.CHECKPOINTS / str(model)
    (folder / EVALUATION_FILE).write_text(json.dumps(record, indent=2) + "\n")
    log.info("%s: MNIST test error %.2f %% (%d of %d)", model, wrong / 100, wrong, len(images))
    return record


@dataclass
class BlendReport:
    """What ``repair_and_blend`` measured: the GAN's detail per sub-pixel position (4x4, over the average), the
    positions reset, per GAN weight the scores on each validation folder (gain over bicubic in dB, grid, texture,
    checkerboard, dots), the weight chosen, and per denoise strength the mean gain; ``out`` the folder written."""

    energies: np.ndarray
    reset: list[tuple[int, int]]
    blends: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    weight: float | None = None
    denoise: dict[float, float] = field(default_factory=dict)
    default_denoise: float | None = None
    out: Path | None = None


def _mean_position_energies(model: str, folders, quality: int) -> np.ndarray:
    """(4, 4): each sub-pixel position's detail in ``model``'s x4 outputs, averaged over the validation photos."""
    energies = []
    for folder in folders:
        for path in split_files(image_files(folder), "validation"):
            low_res = jpeg_roundtrip(bicubic_downscale(modcrop(load_rgb(path), 4), 4), quality)
            energies.append(position_energies(upscale(low_res, model=model).to_array(), period=4))
    return np.mean(energies, axis=0)


def _gains(model: str, folders, quality: int, baseline: dict, denoise=None) -> dict:
    scores = {folder: evaluate_sr(folder, models=[model], jpeg_quality=quality, split="validation", denoise=denoise)
              for folder in folders}
    return {folder: {**s[model], "gain": s[model]["psnr"] - baseline[folder]} for folder, s in scores.items()}


def repair_and_blend(gan: str, start: str, validation, out: str | Path | None, *, weights=(0.25, 0.375, 0.5, 0.625, 0.75, 1.0),
                     dots: float = 1.5, jpeg: int = 75, denoise=(0.0, 0.25, 0.5, 0.75, 1.0)) -> BlendReport:
    """photo-x4's finish, chosen by measurement on the validation split of the ``validation`` folders.

    1. Dots: the GAN network's detail at each of the 16 sub-pixel positions (``metrics.position_energies``) of x4
       results of the validation photos saved as JPEG ``jpeg``; positions over ``dots`` times the average are reset
       to ``start``'s strong network (``realesrgan.reset_positions``), then every position answers a constant area
       alike (``realesrgan.equalize_positions``).
    2. Blends: for each GAN weight w, w x repaired GAN + (1 - w) x ``start``'s strong network; the choice is the
       largest weight whose gain over bicubic stays above 0 on every folder.
    3. With ``out``: the chosen weight blended with ``start``'s strong and mild networks (its denoise pair), the
       default strength the one of ``denoise`` with the best mean gain at JPEG 75 and 50, saved as ``out``.
    """
    folders = [str(f) for f in validation]
    generator, strong, mild = hub.load(gan), hub.load(start, denoise=1.0), hub.load(start, denoise=0.0)
    report = BlendReport(_mean_position_energies(gan, folders, jpeg), [])
    report.reset = [tuple(int(i) for i in p) for p in np.argwhere(report.energies > dots)]
    log.info("detail per sub-pixel position, over the average: %s; reset to %s's: %s",
             np.round(report.energies, 2).tolist(), start, report.reset or "none")
    repaired = realesrgan.equalize_positions(realesrgan.reset_positions(generator, strong, report.reset))
    strong, mild = realesrgan.equalize_positions(strong), realesrgan.equalize_positions(mild)  # every blend even
    with tempfile.TemporaryDirectory() as scratch:
        baseline = {f: evaluate_sr(f, models=["bicubic"], jpeg_quality=jpeg, split="validation")["bicubic"]["psnr"] for f in folders}
        for weight in weights:
            blend = str(hub.save(hub.blend(strong, repaired, weight), Path(scratch) / f"w{weight:g}"))
            report.blends[f"{weight:g}"] = scores = _gains(blend, folders, jpeg, baseline)
            log.info("GAN weight %g: gain over bicubic %s", weight, {Path(f).name: round(s["gain"], 2) for f, s in scores.items()})
            if all(s["gain"] > 0 for s in scores.values()):
                report.weight = weight
        if report.weight is None:
            raise ValueError(f"no GAN weight of {list(weights)} keeps the gain over bicubic above 0 on every folder")
        log.info("chosen GAN weight: %g", report.weight)
        if out is None:
            return report
        pair_strong, pair_mild = hub.blend(strong, repaired, report.weight), hub.blend(mild, repaired, report.weight)
        pair = hub.save(pair_strong, Path(scratch) / "pair", mild=pair_mild, default_denoise=1.0)
        baselines = {jpeg: baseline, 50: {f: evaluate_sr(f, models=["bicubic"], jpeg_quality=50, split="validation")["bicubic"]["psnr"]
                                          for f in folders}}
        for strength in denoise:
            gains = [s["gain"] for quality in (jpeg, 50)
                     for s in _gains(str(pair), folders, quality, baselines[quality], strength).values()]
            report.denoise[strength] = float(np.mean(gains))
            log.info("denoise %g: mean gain over bicubic %+.3f dB", strength, report.denoise[strength])
        report.default_denoise = max(report.denoise, key=report.denoise.get)
        report.out = hub.save(pair_strong, out, mild=pair_mild, default_denoise=report.default_denoise)
        log.info("saved %s: GAN weight %g, default denoise %g", report.out, report.weight, report.default_denoise)
    return report


def _dry_psnr(model: str, photos) -> float:
    return float(np.mean([psnr_ssim_y(derain(photo, model=model).to_array(), photo)[0] for photo in photos]))


def dry_blend(run: str, start: str, out: str | Path | None, *, weights=(1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25),
              min_dry: float = 45.0) -> tuple[float, dict[str, float]]:
    """derain-idcgan-ssim's finish: for each weight w (largest first), w x the ``run``'s network + (1 - w) x ``start``
    (network interpolation), and PSNR-Y of the rain-free validation photos (``evaluation.validation_photos``) after
    deraining: a dry photo should come back untouched. The choice is the largest weight that keeps ``min_dry`` dB,
    saved as ``out`` (the run's config; a model card already there is kept). Returns (weight, dry PSNR per model)."""
    photos = validation_photos()
    dry = {start: _dry_psnr(start, photos)}
    with tempfile.TemporaryDirectory() as scratch:
        for weight in sorted(weights, reverse=True):
            blend = hub.interpolate(run, start, 1 - weight)  # the run's class and config
            dry[f"blend {weight:g}"] = _dry_psnr(str(hub.save(blend, Path(scratch) / f"w{weight:g}")), photos)
            log.info("weight %g of the run's network: dry photos %.2f dB", weight, dry[f"blend {weight:g}"])
            if dry[f"blend {weight:g}"] >= min_dry:
                if out is not None:
                    log.info("saved %s", hub.save(blend, out))
                return weight, dry
    raise ValueError(f"no weight of {list(weights)} keeps the dry photos at {min_dry:g} dB")
