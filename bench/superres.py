"""Benchmark of x4 super-resolution: quality on Set5/Set14 by the standard protocol, speed, memory.

    python bench/superres.py --data ../shared/data/sr/bench/Set5 ../shared/data/sr/bench/Set14

Quality: modcrop, PIL bicubic downscale, PSNR/SSIM on Y with a 4-pixel shave (``ganapps.evaluation``),
plus high-frequency energy relative to the ground truth (sharpness). Speed: seconds per output
megapixel on this machine. Memory: peak resident memory of a fresh process that upscales a
2000x2000 photo x4. Prints Markdown tables.
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

from tables import table  # noqa: E402  (bench/tables.py)
from ganapps.evaluation import evaluate_sr  # noqa: E402
from ganapps.photos import upscale  # noqa: E402

MODELS = ("bicubic", "srresnet-x4", "srgan-x4")
PEAK_MEMORY = """
import resource, sys, numpy as np
sys.path.insert(0, {root!r})
from ganapps.photos import upscale
photo = np.random.default_rng(0).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)
result = upscale(photo, model={model!r}, scale=4)
assert result.size == (8000, 8000)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", nargs="+", required=True, help="benchmark folders (ground truth)")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()

    rows = []
    for folder in args.data:
        for model, scores in evaluate_sr(folder, models=args.models).items():
            rows.append((Path(folder).name, model, f"{scores['psnr']:.2f}", f"{scores['ssim']:.4f}", f"{scores['hf_ratio']:.2f}"))
    table("x4 quality (PSNR / SSIM on Y, shave 4)", ["set", "model", "PSNR-Y (dB)", "SSIM-Y", "HF energy / ground truth"], rows)

    photo = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)  # x4 -> 1.05 megapixels
    rows = []
    for model in args.models:
        upscale(photo[:64, :64], model=model)  # load and warm up
        started = time.perf_counter()
        for _ in range(3):
            upscale(photo, model=model)
        seconds = (time.perf_counter() - started) / 3 / (1024 * 1024 / 1e6)
        peak = "-"
        if not args.skip_memory:
            out = subprocess.run([sys.executable, "-c", PEAK_MEMORY.format(root=str(ROOT), model=model)],
                                 capture_output=True, text=True, check=True).stdout
            peak = f"{int(out.split()[-1]) / 1024**2:.2f} GB"
        rows.append((model, f"{seconds:.2f}", peak))
    table("Speed and memory on this machine (2 CPU cores, float32, default tile 256)",
          ["model", "seconds per output megapixel", "peak memory, 2000x2000 -> 8000x8000"], rows)


if __name__ == "__main__":
    main()
