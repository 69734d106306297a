"""A deraining run's network blended with the model it started from, chosen by the dry photos
(``ganapps.finishing.dry_blend``, the step of recipes/derain-idcgan-ssim.toml), then scored beside the start.

    python bench/deraining_blend.py --run runs/derain-c/model --start derain-idcgan-mix \
        --rain800 ../shared/data/rain/rain800/train [--out checkpoints/derain-idcgan-ssim]

Prints the dry photos' PSNR-Y for each weight tried (the choice: the largest that keeps ``--min-dry`` dB), and the
choice's gain over the rainy input on Rain800's validation split and the validation photos with synthetic rain.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganapps.evaluation import evaluate_derain_on_photos, evaluate_derain_side_by_side, validation_photos
from ganapps.finishing import dry_blend
from ganapps.reporting import markdown_table


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="the run's exported network (a model folder)")
    parser.add_argument("--start", default="derain-idcgan-mix", help="the model the run started from")
    parser.add_argument("--weights", nargs="+", type=float, default=[1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25])
    parser.add_argument("--min-dry", type=float, default=45.0, help="dry photos' PSNR-Y the blend must keep (dB)")
    parser.add_argument("--rain800", help="folder of side-by-side pairs; its validation split scores the choice")
    parser.add_argument("--out", help="save the chosen blend here (default: a temporary folder, to score it)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or str(Path(scratch) / "blend")
        weight, dry = dry_blend(args.run, args.start, out, weights=args.weights, min_dry=args.min_dry)
        print(markdown_table(f"Dry validation photos after deraining (PSNR-Y, dB; the choice: the largest weight keeping {args.min_dry:g})",
              ["model", "dry photos PSNR"], [[name, f"{value:.2f}"] for name, value in dry.items()]))
        models = [args.start, out]
        photos = validation_photos()
        scores = {"photos " + s: evaluate_derain_on_photos(photos, s, models=models) for s in ("light", "medium", "heavy")}
        if args.rain800:
            scores = {"Rain800 validation": evaluate_derain_side_by_side(args.rain800, split="validation", models=models), **scores}
        print(markdown_table("The choice beside the start (PSNR-Y gain over the rainy input, dB)", ["set", args.start, f"blend {weight:g}"],
              [[name, *[f"{s[m]['psnr'] - s['rainy input']['psnr']:+.2f}" for m in models]] for name, s in scores.items()]))


if __name__ == "__main__":
    main()
