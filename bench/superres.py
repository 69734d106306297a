"""Benchmark of x4 super-resolution: quality on clean and on JPEG ("web photo") inputs, speed, memory.

    python bench/superres.py --data ../shared/data/sr/bench/Set5 ../shared/data/sr/bench/Set14 \
        --validation ../shared/data/sr/train/BSD200 ../shared/data/sr/train/General100

Quality: modcrop, PIL bicubic downscale, PSNR/SSIM on Y with a 4-pixel shave (``ganapps.evaluation``),
plus the texture relative to the ground truth's (mean absolute Laplacian of Y: well under 1 is the
smooth "oil painting" look, over 1 invented grain). The web-photo table saves the low-res inputs as
JPEG (quality 75 and 50 by default) first, and adds the block-grid energy at the JPEG blocks' period
(1.0: no grid) and its two parts: the JPEG blocks' boundaries against the other low-res pixels'
boundaries, and those against the gradients within a low-res pixel (what a bicubic skip or a pixel
shuffle marks on every pixel, and the grid counts as well); then the checkerboard, the fine detail
that repeats every 4 pixels (the pixel shuffle's period; near 0 in photos), with the ground truth's
own values beside them.
``--denoise-sweep`` scores the models that have a denoise control at each strength
given, on the web photos of each JPEG quality (how their default strength was chosen). ``--validation``
folders are scored on their validation split (every 10th photo, never trained on by photo-x4).
Speed: seconds per output megapixel, the models taking turns, and the ratio to ``srresnet-x4``
measured in the same run (absolute times differ from machine to machine). Memory: peak resident
memory of a fresh process that upscales a 2000x2000 photo x4. Prints Markdown tables.
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

from ganapps.evaluation import evaluate_sr  # noqa: E402
from ganapps.photos import denoise_strength, upscale  # noqa: E402
from ganapps.reporting import markdown_table  # noqa: E402

MODELS = ("bicubic", "srresnet-x4", "srgan-x4", "photo-x4-psnr", "photo-x4")
REFERENCE = "srresnet-x4"  # speed ratios are to this model, measured in the same run
PEAK_MEMORY = """
import resource, sys, numpy as np, torch
torch.set_num_threads({threads})
sys.path.insert(0, {root!r})
from ganapps.photos import upscale
photo = np.random.default_rng(0).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)
result = upscale(photo, model={model!r}, scale=4)
assert result.size == (8000, 8000)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def web_columns(scores) -> list[str]:
    """The web-photo table's artefact columns: block grid, its two parts, checkerboard, sub-pixel dots."""
    grids = [f"{scores[name]:.2f}" for name in ("grid", "jpeg grid", "pixel grid")]
    return grids + [f"{scores['checkerboard']:.3f}", f"{scores['dots']:.2f}"]


def quality_rows(sets, models, jpeg_quality=None, denoise=None):
    rows = []
    for label, folder, split in sets:
        results = evaluate_sr(folder, models=models, jpeg_quality=jpeg_quality, split=split, denoise=denoise)
        truth = results.pop("ground truth")
        for model, scores in results.items():
            row = [label, model, f"{scores['psnr']:.2f}", f"{scores['ssim']:.4f}", f"{scores['texture']:.2f}"]
            rows.append(row if jpeg_quality is None else row + web_columns(scores))
        if jpeg_quality is not None:
            rows.append([label, "ground truth", "", "", "1.00", *web_columns(truth)])
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", default=[], help="benchmark folders (ground truth), scored whole")
    parser.add_argument("--validation", nargs="*", default=[], help="training folders, scored on their validation split")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--jpeg", nargs="*", type=int, default=[75, 50], help="JPEG qualities of the web-photo table")
    parser.add_argument("--denoise-sweep", nargs="*", type=float, default=[], metavar="STRENGTH",
                        help="score the models with a denoise control at these strengths (e.g. 0 0.25 0.5 0.75 1)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    sets = [(Path(f).name, f, "all") for f in args.data] + [(f"{Path(f).name} validation", f, "validation") for f in args.validation]
    header = ["set", "model", "PSNR-Y (dB)", "SSIM-Y", "texture / ground truth"]
    web_header = header + ["block-grid energy (1.0: none)", "JPEG blocks / other pixel boundaries", "pixel boundaries / within pixels",
                           "checkerboard (0: none)", "sub-pixel dots (1.0: none)"]
    if not args.skip_quality:
        print(markdown_table("x4 quality on clean bicubic downscales (PSNR / SSIM on Y, shave 4)", header, quality_rows(sets, args.models)))
        for quality in args.jpeg:
            print(markdown_table(f"x4 quality on web photos: bicubic downscale saved as JPEG quality {quality}",
                  web_header, quality_rows(sets, args.models, quality)))
    paired = [model for model in args.models if denoise_strength(model) is not None]
    for quality in args.jpeg if paired else []:
        for strength in args.denoise_sweep:
            print(markdown_table(f"Denoise strength {strength:g}, web photos (JPEG quality {quality})",
                  web_header, quality_rows(sets, paired, quality, denoise=strength)))

    if args.skip_speed:
        return
    photo = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)  # x4 -> 1.05 megapixels
    seconds = {model: 0.0 for model in args.models}
    for model in args.models:
        upscale(photo[:64, :64], model=model)  # load and warm up
    rounds = 3
    for _ in range(rounds):  # the models take turns, so that a change in the machine's speed hits all alike
        for model in args.models:
            started = time.perf_counter()
            upscale(photo, model=model)
            seconds[model] += time.perf_counter() - started
    per_mp = {model: total / rounds / (1024 * 1024 / 1e6) for model, total in seconds.items()}
    rows = []
    for model in args.models:
        peak = "-"
        if not args.skip_memory:
            out = subprocess.run([sys.executable, "-c", PEAK_MEMORY.format(root=str(ROOT), model=model, threads=args.threads)],
                                 capture_output=True, text=True, check=True).stdout
            peak = f"{int(out.split()[-1]) / 1024**2:.2f} GB"
        ratio = f"{per_mp[model] / per_mp[REFERENCE]:.2f}" if REFERENCE in per_mp else "-"
        rows.append((model, f"{per_mp[model]:.2f}", ratio, peak))
    print(markdown_table(f"Speed and memory on this machine ({args.threads} threads, float32, default tile 256)",
          ["model", "seconds per output megapixel", f"time / {REFERENCE}'s", "peak memory, 2000x2000 -> 8000x8000"], rows))


if __name__ == "__main__":
    main()
