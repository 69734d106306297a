"""A deraining run's network blended with the model it started from, chosen by the dry photos.

    python bench/deraining_blend.py --run runs/derain-c/model --start derain-idcgan-mix \
        --rain800 ../shared/data/rain/rain800/train --out checkpoints/derain-idcgan-ssim

For each weight w of ``--weights`` (largest first), w x the run's network + (1 - w) x ``--start``
(network interpolation, weight by weight): PSNR-Y of the rain-free validation photos of
``bench/deraining.py`` after deraining (a dry photo should come back untouched). The choice is the
largest weight whose dry photos keep ``--min-dry`` dB; it is then scored on Rain800's validation
split and the validation photos with synthetic rain, beside the start, and saved with ``--out``
(the run's config; a model card already in the folder is kept).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deraining import validation_photos
from tables import table

from ganapps import hub
from ganapps.evaluation import evaluate_derain_on_photos, evaluate_derain_side_by_side
from ganapps.metrics import psnr_ssim_y
from ganapps.photos import derain


def dry_psnr(model: str, photos) -> float:
    return float(np.mean([psnr_ssim_y(derain(photo, model=model).to_array(), photo)[0] for photo in photos]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="the run's exported network (a model folder)")
    parser.add_argument("--start", default="derain-idcgan-mix", help="the model the run started from")
    parser.add_argument("--weights", nargs="+", type=float, default=[1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25])
    parser.add_argument("--min-dry", type=float, default=45.0, help="dry photos' PSNR-Y the blend must keep (dB)")
    parser.add_argument("--rain800", help="folder of side-by-side pairs; its validation split scores the choice")
    parser.add_argument("--out", help="save the chosen blend here")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    photos = validation_photos()
    rows, chosen = [[args.start, "", f"{dry_psnr(args.start, photos):.2f}"]], None
    with tempfile.TemporaryDirectory() as scratch:
        for weight in sorted(args.weights, reverse=True):
            blend = hub.interpolate(args.run, args.start, 1 - weight)  # the run's class and config
            folder = str(hub.save(blend, Path(scratch) / f"w{weight:g}"))
            dry = dry_psnr(folder, photos)
            rows.append(["blend", f"{weight:g}", f"{dry:.2f}"])
            if dry >= args.min_dry:
                chosen = (weight, blend, folder)
                break
        table(f"Dry validation photos after deraining (PSNR-Y, dB; the choice: the largest weight keeping {args.min_dry:g})",
              ["model", "weight of the run's network", "dry photos PSNR"], rows)
        if chosen is None:
            raise SystemExit("no weight keeps the dry photos")
        weight, blend, folder = chosen
        print(f"chosen weight: {weight:g}\n")
        models = [args.start, folder]
        scores = {"photos " + s: evaluate_derain_on_photos(photos, s, models=models) for s in ("light", "medium", "heavy")}
        if args.rain800:
            scores = {"Rain800 validation": evaluate_derain_side_by_side(args.rain800, split="validation", models=models), **scores}
        table("The choice beside the start (PSNR-Y gain over the rainy input, dB)", ["set", args.start, f"blend {weight:g}"],
              [[name, *[f"{s[m]['psnr'] - s['rainy input']['psnr']:+.2f}" for m in models]] for name, s in scores.items()])
        if args.out:
            print(f"saved {hub.save(blend, args.out)}")


if __name__ == "__main__":
    main()
