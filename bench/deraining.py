"""Benchmark of deraining: each model against the rainy input on every set given, then speed and memory side by side.

    python bench/deraining.py --rain800 ../shared/data/rain/rain800/train --pairs ../shared/data/rain/heavy_samples \
        --set14 ../shared/data/sr/bench/Set14

Sets (each optional): ``--rain800``: the validation split of a folder of side-by-side pairs
(``data.side_by_side_pairs``: every tenth file in name order, never trained on); ``--pairs``:
real pairs in rainy/test and clean/test; ``--set14``: clean photos with synthetic rain at three
strengths (``RainParams.strength``, image i gets seed i); ``--photos``: the validation photos
(eight scikit-image photos, 384-pixel centre crops: rain-free, then the three strengths), on which
recipes were chosen. PSNR / SSIM on Y, no shave (``ganapps.evaluation``).
Speed: seconds per megapixel of a 1024x1024 photo, the models taking turns, best of three rounds;
memory: peak resident memory of a fresh process that derains a 12-megapixel photo (4000x3000).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganapps.evaluation import RAIN_STRENGTHS as STRENGTHS  # noqa: E402
from ganapps.evaluation import (  # noqa: E402
    evaluate_derain,
    evaluate_derain_on_photos,
    evaluate_derain_side_by_side,
    evaluate_derain_synthetic,
    validation_photos,
)
from ganapps.photos import DERAIN_MODELS, derain  # noqa: E402
from ganapps.reporting import markdown_table  # noqa: E402

PEAK_MEMORY = """
import resource, sys, numpy as np
sys.path.insert(0, {root!r})
from ganapps.photos import derain
photo = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
assert derain(photo, model={model!r}).size == (4000, 3000)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def score_cell(scores: dict, rainy: dict) -> str:
    cell = f"{scores['psnr']:.2f} / {scores['ssim']:.4f}"
    return cell if not np.isfinite(rainy["psnr"]) else f"{cell} ({scores['psnr'] - rainy['psnr']:+.2f} dB)"


def seconds_per_megapixel(models, rounds: int = 3) -> dict[str, float]:
    photo = np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    best = {model: float("inf") for model in models}
    for model in models:
        derain(photo[:64, :64], model=model)  # load and warm up
    for _ in range(rounds):
        for model in models:  # taking turns: a machine that slows down slows every model alike
            started = time.perf_counter()
            derain(photo, model=model)
            best[model] = min(best[model], time.perf_counter() - started)
    return {model: seconds / (1024 * 1024 / 1e6) for model, seconds in best.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(reversed(DERAIN_MODELS)), help="the first is the reference for speed")
    parser.add_argument("--rain800", help="folder of side-by-side pairs (left clean, right rainy); its validation split is scored")
    parser.add_argument("--pairs", help="folder with rainy/test and clean/test")
    parser.add_argument("--set14", help="clean benchmark photos for synthetic rain")
    parser.add_argument("--photos", action="store_true", help="the scikit-image validation photos")
    parser.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    sets = []
    if args.rain800:
        sets.append(("Rain800 validation (every 10th pair)",
                     lambda models: evaluate_derain_side_by_side(args.rain800, split="validation", models=models)))
    if args.pairs:
        folders = Path(args.pairs) / "rainy" / "test", Path(args.pairs) / "clean" / "test"
        sets.append(("heavy pairs (5, real streak data)", lambda models: evaluate_derain(*folders, models=models)))
    if args.set14:
        for strength in STRENGTHS:
            sets.append((f"Set14 + {strength} synthetic rain",
                         lambda models, s=strength: evaluate_derain_synthetic(args.set14, s, models=models)))
    if args.photos:
        photos = validation_photos()
        for strength in (None, *STRENGTHS):
            sets.append((f"validation photos, {strength or 'no'} rain",
                         lambda models, s=strength: evaluate_derain_on_photos(photos, s, models=models)))

    rows = []
    for name, run in sets:
        scores = run(args.models)  # each pair read and rained on once for all models
        rainy = scores["rainy input"]
        rainy_cell = "(clean)" if not np.isfinite(rainy["psnr"]) else f"{rainy['psnr']:.2f} / {rainy['ssim']:.4f}"
        rows.append([name, rainy_cell, *(score_cell(scores[model], rainy) for model in args.models)])
        print(name, rows[-1][1:], file=sys.stderr, flush=True)
    if rows:
        print(markdown_table("Deraining (PSNR-Y dB / SSIM-Y, gain over the rainy input)", ["set", "rainy input", *args.models], rows))

    if args.skip_speed:
        return
    speed = seconds_per_megapixel(args.models)
    reference = speed[args.models[0]]
    rows = []
    for model in args.models:
        peak = "-"
        if not args.skip_memory:
            out = subprocess.run([sys.executable, "-c", PEAK_MEMORY.format(root=str(ROOT), model=model)],
                                 capture_output=True, text=True, check=True).stdout
            peak = f"{int(out.split()[-1]) / 1024**2:.2f} GB"
        rows.append([model, f"{speed[model]:.2f}", f"{speed[model] / reference:.2f}x", peak])
    print(markdown_table(f"Speed and memory on this machine ({torch.get_num_threads()} threads, float32, tile 512, one run)",
          ["model", "seconds per megapixel", f"time / {args.models[0]}", "peak memory, 12-megapixel photo"], rows))


if __name__ == "__main__":
    main()
