"""Scales beyond a model's own: run it once and enlarge the rest with Lanczos, or run it twice and shrink?

    python bench/superres_scale.py --data ../shared/data/sr/bench/Set5 ../shared/data/sr/bench/Set14

For each target scale (6 and 8 by default) and each x4 model: the ground truth is cropped to a multiple of the scale
and shrunk with bicubic; "once" upscales it with the model at its own scale and resizes to the target with Lanczos
(what ``ganapps.upscale`` does); "twice" runs the model on its own result and shrinks to the target with Lanczos.
PSNR / SSIM on Y with the scale shaved from each border, as ``evaluate sr``. Prints a table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganapps.data import bicubic_downscale, image_files  # noqa: E402
from ganapps.evaluation import modcrop  # noqa: E402
from ganapps.imaging import load_rgb  # noqa: E402
from ganapps.metrics import psnr_ssim_y  # noqa: E402
from ganapps.photos import upscale  # noqa: E402
from ganapps.reporting import markdown_table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--models", nargs="+", default=["photo-x4-psnr", "srresnet-x4", "photo-x4"])
    parser.add_argument("--scales", nargs="+", type=int, default=[6, 8])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for folder in args.data:
        for scale in args.scales:
            for model in args.models:
                scores = {"once": [], "twice": []}
                for path in image_files(folder):
                    truth = modcrop(load_rgb(path), scale)
                    low_res = bicubic_downscale(truth, scale)
                    once = upscale(low_res, model=model, scale=scale).to_array()
                    first = upscale(low_res, model=model, scale=4)
                    twice = upscale(first, model=model, scale=scale / 4).to_array()
                    for name, result in (("once", once), ("twice", twice)):
                        scores[name].append(psnr_ssim_y(result, truth, shave=scale))
                once, twice = (np.mean(scores[name], axis=0) for name in ("once", "twice"))
                rows.append([Path(folder).name, f"x{scale}", model, f"{once[0]:.2f} / {once[1]:.4f}", f"{twice[0]:.2f} / {twice[1]:.4f}",
                             f"{twice[0] - once[0]:+.2f}"])
    print(markdown_table("Beyond the model's scale: PSNR-Y (dB) / SSIM-Y, once + Lanczos up against twice + Lanczos down",
          ["set", "scale", "model", "once", "twice", "twice - once (dB)"], rows))


if __name__ == "__main__":
    main()
