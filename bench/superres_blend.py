"""photo-x4's blend, chosen by measurement (``ganapps.finishing.repair_and_blend``, the step of recipes/photo-x4.toml):
a GAN run's network, its sub-pixel dots repaired, interpolated with the PSNR network it started from.

    python bench/superres_blend.py --gan runs/photo-x4-gan-jitter/model --start photo-x4-psnr \
        --validation ../shared/data/sr/train/BSD200 ../shared/data/sr/train/General100 [--out checkpoints/photo-x4]

Prints the GAN's detail at each of the 16 sub-pixel positions, each blend's scores on the validation photos (gain
over bicubic, grid, texture, checkerboard, dots) beside the start's strong network and the GAN as trained, the
weight chosen and, with ``--out``, each denoise strength's mean gain.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganapps import hub
from ganapps.evaluation import evaluate_sr
from ganapps.finishing import repair_and_blend
from ganapps.reporting import markdown_table

COLUMNS = (("gain", "+.2f"), ("grid", ".2f"), ("texture", ".2f"), ("checkerboard", ".3f"), ("dots", ".2f"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gan", required=True, help="the GAN run's exported network (a model folder)")
    parser.add_argument("--start", default="photo-x4-psnr", help="the paired PSNR model the GAN phase started from")
    parser.add_argument("--validation", nargs="+", required=True, help="training folders, scored on their validation split")
    parser.add_argument("--weights", nargs="+", type=float, default=[0.25, 0.375, 0.5, 0.625, 0.75, 1.0])
    parser.add_argument("--dots", type=float, default=1.5, help="reset positions with more than this times the average detail")
    parser.add_argument("--jpeg", type=int, default=75)
    parser.add_argument("--denoise", nargs="+", type=float, default=[0, 0.25, 0.5, 0.75, 1])
    parser.add_argument("--out", help="save the chosen blend as a paired model folder here")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    report = repair_and_blend(args.gan, args.start, args.validation, args.out, weights=args.weights, dots=args.dots,
                              jpeg=args.jpeg, denoise=args.denoise)
    print(markdown_table(
        f"Detail at each sub-pixel position of {args.gan}'s outputs, over the average position (validation photos, JPEG {args.jpeg})",
          ["row", *[f"column {c}" for c in range(4)]], [[r, *[f"{e:.2f}" for e in report.energies[r]]] for r in range(4)]))
    print(f"reset to {args.start}'s: {report.reset or 'none'}")
    names = [Path(f).name for f in args.validation]
    bicubic = {f: evaluate_sr(f, models=["bicubic"], jpeg_quality=args.jpeg, split="validation") for f in args.validation}
    rows = [["ground truth"] + [cell for s in bicubic.values()
                                for cell in ("", f"{s['ground truth']['grid']:.2f}", "1.00", f"{s['ground truth']['checkerboard']:.3f}",
                                             f"{s['ground truth']['dots']:.2f}")]]
    with tempfile.TemporaryDirectory() as scratch:
        start = str(hub.save(hub.load(args.start, denoise=1.0), Path(scratch) / "start"))
        for label, model in ((f"{args.start} (strong)", start), ("GAN as trained", args.gan)):
            scores = {f: evaluate_sr(f, models=[model], jpeg_quality=args.jpeg, split="validation")[model] for f in args.validation}
            rows.append([label] + [f"{(s['psnr'] - bicubic[f]['bicubic']['psnr'] if k == 'gain' else s[k]):{fmt}}"
                                   for f, s in scores.items() for k, fmt in COLUMNS])
    rows += [[weight] + [f"{s[k]:{fmt}}" for s in scores.values() for k, fmt in COLUMNS] for weight, scores in report.blends.items()]
    print(markdown_table(f"Blends with {args.start} (its strong network), validation photos as JPEG {args.jpeg}: gain over bicubic",
          ["GAN weight"] + [f"{n} {m}" for n in names for m in ("gain (dB)", "grid", "texture", "checkerboard", "dots")], rows))
    print(f"chosen GAN weight: {report.weight:g}")
    if report.denoise:
        print(markdown_table(
            f"Denoise strength of the chosen blend (GAN weight {report.weight:g}): mean gain over bicubic at JPEG {args.jpeg} and 50",
              ["denoise", "mean gain (dB)"], [[f"{d:g}", f"{g:+.3f}"] for d, g in report.denoise.items()]))
        print(f"saved {report.out}: default denoise {report.default_denoise:g}")


if __name__ == "__main__":
    main()
