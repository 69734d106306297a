"""Validation curves of super-resolution runs: the snapshots a run kept (``--snapshot-every``), scored.

    python bench/superres_curve.py --runs runs/psnr-a runs/psnr-b \
        --validation ../shared/data/sr/train/BSD200 ../shared/data/sr/train/General100 --plot curve.png

For every snapshot (``<run>/snapshots/step_NNNNNN``) of every run: the validation photos of each
folder (every 10th, never trained on), shrunk x4 with PIL bicubic and saved as JPEG (quality 75 by
default), upscaled; PSNR-Y gain over bicubic (shave 4), block-grid energy (the ground truth's
beside it), texture over the ground truth's, the checkerboard (``metrics.periodic_pattern``) and the sub-pixel dots
(``metrics.position_energy``); with ``--split-grid`` also the grid's two parts, the JPEG blocks over the other
low-res pixels' boundaries and those over the gradients within a pixel (``evaluate_sr``). The seconds are the run's
own training time at that step (``metrics.jsonl``), so runs compare at equal wall time. Prints a
Markdown table; ``--plot`` also draws gain and grid against log(step).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganapps.evaluation import evaluate_sr  # noqa: E402
from ganapps.reporting import curve_plot, markdown_table  # noqa: E402
from ganapps.training import run_seconds  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="*", default=[], help="run folders with snapshots/")
    parser.add_argument("--validation", nargs="+", required=True, help="training folders, scored on their validation split")
    parser.add_argument("--jpeg", type=int, default=75, help="JPEG quality of the low-res inputs (0: none)")
    parser.add_argument("--reference", nargs="*", default=[], help="models scored once beside the runs (e.g. the run's --init)")
    parser.add_argument("--every", type=int, default=1, help="score every Nth snapshot (and always the last)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--plot", help="PNG of gain and grid against log(step)")
    parser.add_argument("--split-grid", action="store_true", help="add the grid's JPEG-block and pixel-boundary parts")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    quality = args.jpeg or None

    baseline = {f: evaluate_sr(f, models=["bicubic"], jpeg_quality=quality, split="validation") for f in args.validation}
    rows, curves = [], {}

    def score(label, model, step, seconds):
        scores = {f: evaluate_sr(f, models=[model], jpeg_quality=quality, split="validation") for f in args.validation}
        row = [label, f"{step:,}" if step is not None else "", seconds]
        for folder in args.validation:
            mine, truth = scores[folder][model], scores[folder]["ground truth"]
            gain = mine["psnr"] - baseline[folder]["bicubic"]["psnr"]
            row += [f"{gain:+.2f}", f"{mine['grid']:.2f} ({truth['grid']:.2f})", f"{mine['texture']:.2f}", f"{mine['checkerboard']:.3f}",
                    f"{mine['dots']:.2f} ({truth['dots']:.2f})"]
            if args.split_grid:
                row += [f"{mine[part]:.2f} ({truth[part]:.2f})" for part in ("jpeg grid", "pixel grid")]
            if step is not None:
                curves.setdefault((label, Path(folder).name), []).append((step, gain, mine["grid"]))
        rows.append(row)

    for model in args.reference:
        score(model, model, None, "")
    for run in map(Path, args.runs):
        snapshots = sorted((run / "snapshots").glob("step_*"))
        snapshots = [s for i, s in enumerate(snapshots) if i % args.every == 0 or s == snapshots[-1]]
        seconds = run_seconds(run)
        for snapshot in snapshots:
            step = int(snapshot.name.split("_")[1])
            score(run.name, str(snapshot), step, f"{seconds.get(step, float('nan')):.0f}")
    header = ["run", "step", "seconds"]
    for folder in args.validation:
        name = Path(folder).name
        header += [f"{name} gain (dB)", f"{name} grid (truth)", f"{name} texture", f"{name} checkerboard", f"{name} dots (truth)"]
        if args.split_grid:
            header += [f"{name} JPEG blocks / pixel boundaries (truth)", f"{name} pixel boundaries / within (truth)"]
    inputs = f"JPEG quality {quality}" if quality else "clean bicubic"
    print(markdown_table(f"Validation curves, x4 of {inputs} inputs (gain: PSNR-Y over bicubic)", header, rows))

    if args.plot:
        gains = {f"{run}, {folder}": [(step, gain) for step, gain, _ in points] for (run, folder), points in curves.items()}
        grids = {f"{run}, {folder}": [(step, grid) for step, _, grid in points] for (run, folder), points in curves.items()}
        curve_plot(args.plot, [("PSNR-Y gain over bicubic (dB)", gains), ("block-grid energy", grids)], xlabel="step", log_x=True)

if __name__ == "__main__":
    main()
