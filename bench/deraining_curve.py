"""Validation curves of deraining runs: the snapshots a run kept (``--snapshot-every``), scored.

    python bench/deraining_curve.py --runs runs/derain-a runs/derain-b --rain800 ../shared/data/rain/rain800/train \
        --reference derain-idcgan-mix --step-cost --plot curve.png

For every snapshot (``<run>/snapshots/step_NNNNNN``) of every run: PSNR-Y gain over the rainy input
on Rain800's validation split (every tenth pair, never trained on) and on the validation photos of
``bench/deraining.py`` with synthetic rain at three strengths, and PSNR-Y of the rain-free photos
(is a dry photo kept?). ``seconds`` is the run's own training time at that step (``metrics.jsonl``).
With ``--step-cost`` the runs' training steps (rebuilt from ``train_config.json``) are first timed
side by side, taking turns on the same batches' shapes, and ``cost`` is the steps a snapshot took
times its run's seconds per step: runs that trained one after another, under other loads, then
compare at equal training cost. Prints a Markdown table; ``--plot`` draws the Rain800 gain
against the cost (or the steps).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from ganapps.evaluation import RAIN_STRENGTHS as STRENGTHS  # noqa: E402
from ganapps.evaluation import evaluate_derain_on_photos, evaluate_derain_side_by_side, validation_photos  # noqa: E402
from ganapps.reporting import curve_plot, markdown_table  # noqa: E402
from ganapps.training import run_seconds  # noqa: E402


def step_costs(runs: list[Path], rounds: int = 6) -> dict[Path, float]:
    """Median seconds per training step of each run's recipe, the runs taking turns in one process."""
    from dataclasses import fields

    from ganapps.training import Run, TrainConfig, training_steps

    known = {f.name for f in fields(TrainConfig)}  # a run of an older version may have saved others
    steppers = {}
    for run in runs:
        cfg = {k: v for k, v in json.loads((run / "train_config.json").read_text()).items() if k in known}
        cfg.update(out=str(run / "step-cost"), decay_from=0, schedule="constant", snapshot_every=None)  # nothing of the run touched
        steppers[run] = training_steps(Run(TrainConfig(**cfg)))
        next(steppers[run])  # warm up
    times = {run: [] for run in runs}
    for _ in range(rounds):
        for run, steps in steppers.items():
            started = time.perf_counter()
            next(steps)
            times[run].append(time.perf_counter() - started)
    return {run: float(np.median(values)) for run, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="*", default=[], help="run folders with snapshots/")
    parser.add_argument("--rain800", required=True, help="folder of side-by-side pairs; its validation split is scored")
    parser.add_argument("--reference", nargs="*", default=[], help="models scored once beside the runs (e.g. where they started)")
    parser.add_argument("--every", type=int, default=1, help="score every Nth snapshot (and always the last)")
    parser.add_argument("--step-cost", action="store_true", help="time each run's training step side by side first")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--plot", help="PNG of the Rain800 gain against the training cost")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = [Path(run) for run in args.runs]
    costs = step_costs(runs) if args.step_cost else {}

    entries = [(model, model, None, "", "") for model in args.reference]  # (label, model, step, seconds, cost)
    for run in runs:
        snapshots = sorted((run / "snapshots").glob("step_*"))
        snapshots = [s for i, s in enumerate(snapshots) if i % args.every == 0 or s == snapshots[-1]]
        seconds = run_seconds(run)
        start = json.loads((run / "train_config.json").read_text()).get("decay_from", 0)
        for snapshot in snapshots:
            step = int(snapshot.name.split("_")[1])
            cost = f"{(step - start) * costs[run]:.0f}" if run in costs else ""
            entries.append((run.name, str(snapshot), step, f"{seconds.get(step, float('nan')):.0f}", cost))
    models = [model for _, model, *_ in entries]

    # every pair is read (and rained on) once, for all the models
    sets = {"Rain800 val": evaluate_derain_side_by_side(args.rain800, split="validation", models=models)}
    photos = validation_photos()
    for strength in (*STRENGTHS, None):
        sets[f"photos {strength or 'dry'}"] = evaluate_derain_on_photos(photos, strength, models=models)

    rows, curve = [], {}
    for label, model, step, seconds, cost in entries:
        row = [label, f"{step:,}" if step is not None else "", seconds, cost]
        for scores in sets.values():
            rainy = scores["rainy input"]["psnr"]
            row.append(f"{scores[model]['psnr']:.2f}" if not np.isfinite(rainy) else f"{scores[model]['psnr'] - rainy:+.2f}")
        rows.append(row)
        if step is not None:
            gain = sets["Rain800 val"][model]["psnr"] - sets["Rain800 val"]["rainy input"]["psnr"]
            curve.setdefault(label, []).append((float(cost) if cost else step, gain))
    header = ["run", "step", "seconds", "cost (s)", "Rain800 val gain (dB)", *(f"photos {s} gain" for s in STRENGTHS),
              "dry photos PSNR"]
    print(markdown_table("Deraining validation curves (PSNR-Y gain over the rainy input; dry photos: PSNR-Y of the output)", header, rows))

    if args.plot:
        curve_plot(args.plot, [("Rain800 validation gain (dB)", curve)], xlabel="training cost (s)" if costs else "step")

if __name__ == "__main__":
    main()
