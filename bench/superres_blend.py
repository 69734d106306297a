"""photo-x4's blend, chosen by measurement: a GAN run's network, its sub-pixel dots repaired, interpolated
with the PSNR network it started from.

    python bench/superres_blend.py --gan runs/photo-x4-gan-jitter/model --start photo-x4-psnr \
        --validation ../shared/data/sr/train/BSD200 ../shared/data/sr/train/General100 --out checkpoints/photo-x4

1. Dots: the GAN network's detail at each of the 16 sub-pixel positions (``metrics.position_energies``),
   averaged over the validation photos saved as JPEG (quality ``--jpeg``), printed as a 4x4 table.
   Positions over ``--dots`` times the average are reset to the start network's
   (``realesrgan.reset_positions``); then every position answers a constant area alike
   (``realesrgan.equalize_positions``).
2. Blends: for each GAN weight w of ``--weights``, w x repaired GAN + (1 - w) x the start's strong network,
   scored on the validation photos (``evaluate_sr``): gain over bicubic, grid, texture, checkerboard, dots.
3. The choice: the largest weight whose gain over bicubic stays above 0 on every validation folder,
   so that photo-x4 takes as much of the GAN's texture as it can while never coming out less
   faithful than bicubic.
4. With ``--out``: the chosen weight blended with the start's strong and mild networks (its denoise
   pair), the default strength swept over ``--denoise`` at JPEG 75 and 50 (the best mean gain wins),
   saved as a paired model folder (its model card, if the folder has one, is kept).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tables import table

from ganapps import hub
from ganapps.data import bicubic_downscale, image_files, split_files
from ganapps.evaluation import evaluate_sr, modcrop
from ganapps.imaging import jpeg_roundtrip, load_rgb
from ganapps.metrics import position_energies
from ganapps.models import realesrgan
from ganapps.photos import upscale

COLUMNS = (("gain", "+.2f"), ("grid", ".2f"), ("texture", ".2f"), ("checkerboard", ".3f"), ("dots", ".2f"))


def mean_position_energies(model: str, folders, quality: int) -> np.ndarray:
    """(4, 4): each sub-pixel position's detail in ``model``'s x4 outputs, averaged over the validation photos."""
    energies = []
    for folder in folders:
        for path in split_files(image_files(folder), "validation"):
            low_res = jpeg_roundtrip(bicubic_downscale(modcrop(load_rgb(path), 4), 4), quality)
            energies.append(position_energies(upscale(low_res, model=model).to_array(), period=4))
    return np.mean(energies, axis=0)


def gains(model: str, folders, quality: int, baseline: dict, denoise=None) -> dict:
    scores = {folder: evaluate_sr(folder, models=[model], jpeg_quality=quality, split="validation", denoise=denoise) for folder in folders}
    return {folder: {**s[model], "gain": s[model]["psnr"] - baseline[folder]} for folder, s in scores.items()}


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
    names = [Path(f).name for f in args.validation]

    gan, strong, mild = hub.load(args.gan), hub.load(args.start, denoise=1.0), hub.load(args.start, denoise=0.0)
    energies = mean_position_energies(args.gan, args.validation, args.jpeg)
    table(f"Detail at each sub-pixel position of {args.gan}'s outputs, over the average position (validation photos, JPEG {args.jpeg})",
          ["row", *[f"column {c}" for c in range(4)]], [[r, *[f"{e:.2f}" for e in energies[r]]] for r in range(4)])
    rogue = [tuple(int(i) for i in p) for p in np.argwhere(energies > args.dots)]
    print(f"reset to {args.start}'s: {rogue or 'none'}\n")
    repaired = realesrgan.equalize_positions(realesrgan.reset_positions(gan, strong, rogue))
    strong, mild = realesrgan.equalize_positions(strong), realesrgan.equalize_positions(mild)  # so that every blend is even

    header = ["GAN weight"] + [f"{n} {m}" for n in names for m in ("gain (dB)", "grid", "texture", "checkerboard", "dots")]
    with tempfile.TemporaryDirectory() as scratch:
        bicubic = {f: evaluate_sr(f, models=["bicubic"], jpeg_quality=args.jpeg, split="validation") for f in args.validation}
        baseline = {f: scores["bicubic"]["psnr"] for f, scores in bicubic.items()}
        rows, chosen = [["ground truth"]], None
        for truth in (scores["ground truth"] for scores in bicubic.values()):
            rows[0] += ["", f"{truth['grid']:.2f}", "1.00", f"{truth['checkerboard']:.3f}", f"{truth['dots']:.2f}"]
        references = [(f"{args.start} (strong)", str(hub.save(hub.load(args.start, denoise=1.0), Path(scratch) / "start")), None),
                      ("GAN as trained", args.gan, None)]
        blends = [(f"{w:g}", str(hub.save(hub.blend(strong, repaired, w), Path(scratch) / f"w{w:g}")), w) for w in args.weights]
        for label, model, weight in references + blends:
            scores = gains(model, args.validation, args.jpeg, baseline)
            rows.append([label] + [f"{s[k]:{fmt}}" for s in scores.values() for k, fmt in COLUMNS])
            if weight is not None and all(s["gain"] > 0 for s in scores.values()):
                chosen = weight
        table(f"Blends with {args.start} (its strong network), validation photos as JPEG {args.jpeg}: gain over bicubic", header, rows)
        if chosen is None:
            print("no weight keeps the gain above 0 on every folder")
            return
        print(f"chosen GAN weight: {chosen:g}\n")
        if not args.out:
            return

        pair = Path(scratch) / "pair"
        pair_strong, pair_mild = hub.blend(strong, repaired, chosen), hub.blend(mild, repaired, chosen)
        hub.save(pair_strong, pair, mild=pair_mild, default_denoise=1.0)
        baselines = {75: baseline, 50: {f: evaluate_sr(f, models=["bicubic"], jpeg_quality=50, split="validation")["bicubic"]["psnr"]
                                       for f in args.validation}}
        rows, best = [], None
        for strength in args.denoise:
            mean = []
            row = [f"{strength:g}"]
            for quality in (75, 50):
                scores = gains(str(pair), args.validation, quality, baselines[quality], denoise=strength)
                row += [f"{s['gain']:+.2f}" for s in scores.values()]
                mean += [s["gain"] for s in scores.values()]
            rows.append(row + [f"{np.mean(mean):+.3f}"])
            if best is None or np.mean(mean) > best[1]:
                best = (strength, np.mean(mean))
        table(f"Denoise strength of the chosen blend (GAN weight {chosen:g}): gain over bicubic",
              ["denoise", *[f"{n} JPEG {q}" for q in (75, 50) for n in names], "mean gain"], rows)
        out = hub.save(pair_strong, args.out, mild=pair_mild, default_denoise=best[0])
        print(f"saved {out}: GAN weight {chosen:g}, default denoise {best[0]:g}")


if __name__ == "__main__":
    main()
