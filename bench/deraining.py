"""Benchmark of deraining: real heavy-rain pairs, Set14 with synthetic rain at three strengths, speed, memory.

    python bench/deraining.py --pairs ../shared/data/rain/heavy_samples --set14 ../shared/data/sr/bench/Set14

PSNR / SSIM on Y, no shave (``ganapps.evaluation``). Synthetic rain uses ``RainParams.strength``
with fixed seeds (image i gets seed i). Speed: seconds per megapixel; memory: peak resident
memory of a fresh process that derains a 12-megapixel photo (4000x3000).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganapps.evaluation import evaluate_derain, evaluate_derain_synthetic  # noqa: E402
from ganapps.photos import derain  # noqa: E402

PEAK_MEMORY = """
import resource, sys, numpy as np
sys.path.insert(0, {root!r})
from ganapps.photos import derain
photo = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
assert derain(photo, model={model!r}).size == (4000, 3000)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", required=True, help="folder with rainy/test and clean/test")
    parser.add_argument("--set14", required=True, help="clean benchmark photos for synthetic rain")
    parser.add_argument("--model", default="derain-idcgan")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()

    rows = []
    sets = [("heavy pairs (5, real streak data)", lambda: evaluate_derain(
        Path(args.pairs) / "rainy" / "test", Path(args.pairs) / "clean" / "test", model=args.model))]
    for strength in ("light", "medium", "heavy"):
        sets.append((f"Set14 + {strength} synthetic rain", lambda s=strength: evaluate_derain_synthetic(args.set14, s, model=args.model)))
    for name, run in sets:
        scores = run()
        rainy, model = scores["rainy input"], scores[args.model]
        rows.append((name, f"{rainy['psnr']:.2f} / {rainy['ssim']:.4f}", f"{model['psnr']:.2f} / {model['ssim']:.4f}",
                     f"{model['psnr'] - rainy['psnr']:+.2f} dB"))
    print("\n### Deraining (PSNR-Y dB / SSIM-Y)\n")
    print("| set | rainy input | derained | gain |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")

    photo = np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    derain(photo[:64, :64], model=args.model)
    started = time.perf_counter()
    for _ in range(2):
        derain(photo, model=args.model)
    seconds = (time.perf_counter() - started) / 2 / (1024 * 1024 / 1e6)
    peak = "-"
    if not args.skip_memory:
        out = subprocess.run([sys.executable, "-c", PEAK_MEMORY.format(root=str(ROOT), model=args.model)],
                             capture_output=True, text=True, check=True).stdout
        peak = f"{int(out.split()[-1]) / 1024**2:.2f} GB"
    print("\n### Speed and memory on this machine (2 CPU cores, float32, tile 512)\n")
    print("| seconds per megapixel | peak memory, 12-megapixel photo |\n|---|---|")
    print(f"| {seconds:.2f} | {peak} |")


if __name__ == "__main__":
    main()
