"""What the discriminator learned: MNIST test error of the semi-supervised GAN (100 labels) beside
the same network trained on the same 100 labels alone and the supervised classifier of all 60,000.

    python bench/semi_supervised.py --data ../shared/data [--record] [--runs runs/ssgan-mnist] [--every 2] [--plot curve.png]

The whole MNIST test set (10,000 digits). ``--runs``: also the test error of each snapshot of
those training runs (the curve). A second table reads 1,000 test digits the way uploads are
read (``ganapps.classify`` on black-on-white JPEGs four times larger): the preparation of an
upload must not cost accuracy. Prints Markdown tables. ``--record`` writes each shipped model's
test error into its folder (``evaluation.json``), where the app reads it.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganapps import catalog, hub
from ganapps.data import mnist
from ganapps.finishing import record_test_error
from ganapps.recognition import classify
from ganapps.reporting import curve_plot, markdown_table

PAPER = ("Salimans et al. 2016, feature matching (their MNIST MLP)", "100", "0.93 ± 0.065")


def test_errors(model: str, images: torch.Tensor, labels: torch.Tensor) -> int:
    readings = [r for start in range(0, len(images), 1000) for r in classify(images[start : start + 1000], model=model)]
    return sum(r.digit != int(label) for r, label in zip(readings, labels))


def labels_used(model: str) -> str:
    config = hub.load_config(model)
    if config["family"] == "ssgan":
        return f"{len(config['labelled_indices'])}" if config["labelled_indices"] else "100 (run in progress)"
    return "60,000"


def as_upload(image: torch.Tensor) -> bytes:
    """A test digit as someone might photograph it: black ink on white, 112 px, JPEG quality 85."""
    pixels = ((1 - image[0]) * 127.5).clamp(0, 255).byte().numpy()
    buffer = io.BytesIO()
    Image.fromarray(pixels).resize((112, 112), Image.BICUBIC).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="the folder that holds MNIST/ (torchvision's layout)")
    parser.add_argument("--models", nargs="*", default=[m for m in catalog.CLASSIFY if m in hub.available()])
    parser.add_argument("--runs", nargs="*", default=[], help="training runs whose snapshots/ make the curve")
    parser.add_argument("--every", type=int, default=1, help="score every Nth snapshot (and always the last)")
    parser.add_argument("--plot", help="PNG of the test error against the training step")
    parser.add_argument("--record", action="store_true", help="write each model's test error to <model>/evaluation.json")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images, labels = mnist(args.data, train=False)

    rows = []
    for model in args.models:  # --record: the recipes' record step (ganapps.finishing), which writes evaluation.json
        wrong = record_test_error(model, args.data)["wrong"] if args.record else test_errors(model, images, labels)
        rows.append((model, labels_used(model), f"{wrong / 100:.2f} ({wrong} of 10,000)"))
    print(markdown_table("MNIST test error", ["model", "labels", "test error %"], [*rows, PAPER]))

    if args.models:
        few = slice(0, 1000)
        uploads = [as_upload(image) for image in images[few]]
        rows = []
        for model in args.models:
            readings = classify(uploads, model=model)
            wrong = sum(r.digit != int(label) for r, label in zip(readings, labels[few]))
            dark = sum(r.ink == "black on white" for r in readings)
            rows.append((model, f"{test_errors(model, images[few], labels[few]) / 10:.1f}", f"{wrong / 10:.1f}", f"{dark} of 1,000"))
        print(markdown_table("The first 1,000 test digits as uploads (black on white, 112 px, JPEG 85)",
              ["model", "error % as MNIST", "error % as uploads", "ink found dark on light"], rows))

    curves = {}
    for run in map(Path, args.runs):
        snapshots = sorted((run / "snapshots").glob("step_*"))
        chosen = snapshots[:: args.every]
        if snapshots and snapshots[-1] not in chosen:
            chosen.append(snapshots[-1])
        points = [(int(s.name.removeprefix("step_")), test_errors(str(s), images, labels) / 100) for s in chosen]
        curves[run.name] = points
        train = json.loads((run / "train_config.json").read_text())
        print(markdown_table(f"{run.name}: test error against step (of {train['steps']:,}, batch {train['batch_size']})",
              ["step", "epoch", "test error %"], [(step, f"{step * train['batch_size'] / 60000:.0f}", f"{e:.2f}") for step, e in points]))
    if args.plot and curves:
        curve_plot(args.plot, [("MNIST test error %", curves)], xlabel="training step")


if __name__ == "__main__":
    main()
