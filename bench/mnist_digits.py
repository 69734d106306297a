"""Benchmark of the shipped MNIST GANs: fidelity, variety, code control, Fréchet distance and speed.

    python bench/mnist_digits.py --data ../shared/data [--samples 10000] [--only infogan] [--infogan runs/x/model]

Judged by the project's own classifier (checkpoints/mnist-classifier) on real MNIST; prints
Markdown tables. Every number is measured on this machine when it runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganapps import hub
from ganapps.data import mnist
from ganapps.digits import sample_digits
from ganapps.metrics import classify, features, frechet_distance, rank_correlation, slant, stroke_width
from ganapps.models import infogan
from ganapps.reporting import markdown_table
from ganapps.training import Run, TrainConfig, training_steps


def in_batches(fn, total, batch=250):
    return torch.cat([fn(start, min(batch, total - start)) for start in range(0, total, batch)])


def diversity(feats: torch.Tensor, pairs: int = 5000, seed: int = 0) -> float:
    """Mean distance between random pairs of samples in the classifier's feature space."""
    rng = torch.Generator().manual_seed(seed)
    a, b = torch.randint(len(feats), (2, pairs), generator=rng)
    return (feats[a] - feats[b]).norm(dim=1).mean().item()


SECTIONS = ["dcgan", "cgan", "infogan", "speed"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="folder holding MNIST/raw")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--traversal-rows", type=int, default=200)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="the parts to run (default: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--infogan", default="infogan-mnist", help="the InfoGAN to judge (a name or a model folder)")
    args = parser.parse_args()
    n = args.samples
    torch.set_num_threads(args.threads)

    classifier = hub.load("mnist-classifier")
    test_images, test_labels = mnist(args.data, train=False)
    train_images, train_labels = mnist(args.data, train=True)
    predicted, _ = classify(classifier, test_images)
    real_feats = features(classifier, test_images)
    reference_fd = frechet_distance(features(classifier, train_images[:n]), real_feats)
    print(f"Classifier accuracy on the MNIST test set: {(predicted == test_labels).float().mean():.2%}")

    fd_rows = [("MNIST train (reference floor)", f"{reference_fd:.2f}")]
    quality_rows = []

    if "dcgan" in args.only:
        # --- DCGAN: mode coverage and confidence --------------------------------------------------
        images = in_batches(lambda s, k: sample_digits("dcgan-mnist", k, seed=10_000 + s), n)
        pred, conf = classify(classifier, images)
        shares = torch.bincount(pred, minlength=10).float() / n
        fd_rows.append(("dcgan-mnist", f"{frechet_distance(features(classifier, images), real_feats):.2f}"))
        quality_rows.append(("dcgan-mnist", "confidence > 0.9", f"{(conf > 0.9).float().mean():.2%}", ">= 90%"))
        quality_rows.append(("dcgan-mnist", "rarest / commonest digit share", f"{shares.min():.2%} / {shares.max():.2%}", "5% .. 15%"))
        print(markdown_table(
            "DCGAN: share of each digit in " + f"{n:,} samples", [str(d) for d in range(10)], [[f"{s:.1%}" for s in shares]]))

    per_digit = n // 10
    if "cgan" in args.only:
        # --- CGAN: the asked-for digit, and variety within each digit -----------------------------
        accuracy, variety = [], []
        all_images = []
        for digit in range(10):
            images = in_batches(lambda s, k, digit=digit: sample_digits("cgan-mnist", k, seed=20_000 + 100 * digit + s, digit=digit),
                                per_digit)
            pred, _ = classify(classifier, images)
            accuracy.append((pred == digit).float().mean().item())
            real = features(classifier, test_images[test_labels == digit])
            variety.append(diversity(features(classifier, images)) / diversity(real))
            all_images.append(images)
        images = torch.cat(all_images)
        fd_rows.append(("cgan-mnist", f"{frechet_distance(features(classifier, images), real_feats):.2f}"))
        overall = sum(accuracy) / 10
        quality_rows.append(("cgan-mnist", "classified as the digit asked for", f"{overall:.2%}", ">= 99%"))
        quality_rows.append(("cgan-mnist", "within-digit variety / real (min over digits)", f"{min(variety):.2f}", "visible variety"))
        print(markdown_table("CGAN per digit", ["digit", *map(str, range(10))],
              [["classified as asked", *[f"{a:.1%}" for a in accuracy]], ["variety vs real", *[f"{v:.2f}" for v in variety]]]))

    if "infogan" in args.only:
        # --- InfoGAN: category -> digit, and the slant / width codes ------------------------------
        model = args.infogan
        generator = hub.load(model)
        config = generator.config
        chosen, all_images = [], []
        for digit in range(10):
            try:
                images = in_batches(  # as `python -m ganapps sample infogan --digit D` draws them, at seeds of its own
                    lambda s, k, digit=digit: sample_digits(model, k, seed=30_000 + 100 * digit + s, digit=digit), per_digit
                )
            except ValueError:
                chosen.append(float("nan"))
                continue
            pred, _ = classify(classifier, images)
            chosen.append((pred == digit).float().mean().item())
            all_images.append(images)
        images = in_batches(lambda s, k: sample_digits(model, k, seed=40_000 + s), n)
        fd_rows.append((model, f"{frechet_distance(features(classifier, images), real_feats):.2f}"))
        valid = [c if c == c else 0.0 for c in chosen]  # a digit no category draws: 0
        quality_rows.append((model, f"choosing a digit gives that digit ({per_digit:,} per digit), mean", f"{sum(valid) / 10:.2%}",
                             ">= 99%"))
        quality_rows.append((model, "the same, weakest digit", f"{min(valid):.2%} (digit {valid.index(min(valid))})", ">= 97%"))
        print(markdown_table("InfoGAN categories", ["digit", *map(str, range(10))],
              [["category", *[str([k for k, d in enumerate(config.category_digits) if d == digit]) for digit in range(10)]],
               ["gives that digit", *[f"{c:.1%}" if c == c else "none" for c in chosen]]]))

        traversal_rows = []
        for attribute, measure in (("slant", slant), ("width", stroke_width)):
            for low, high in ((-1.0, 1.0), (-2.0, 2.0)):
                sweep = torch.linspace(low, high, 9)
                rhos, kept = [], []
                for row in range(args.traversal_rows):
                    digit = row % 10
                    if digit not in config.category_digits:
                        continue
                    noise = torch.randn(1, config.noise_dim, generator=torch.Generator().manual_seed(50_000 + row))
                    category = config.category_digits.index(digit)
                    codes = torch.zeros(9, config.num_continuous)
                    codes[:, config.slant_code if attribute == "slant" else config.width_code] = sweep * (
                        config.slant_sign if attribute == "slant" else config.width_sign
                    )
                    images = infogan.sample(generator, 9, labels=[category] * 9, codes=codes, latents=noise.repeat(9, 1))
                    rhos.append(rank_correlation(sweep, measure(images)))
                    kept.append((classify(classifier, images)[0] == digit).float().mean().item())
                rhos = torch.tensor(rhos)
                traversal_rows.append((attribute, f"{low:+.0f}..{high:+.0f}", f"{rhos.nanmean():.3f}", f"{rhos.nanmedian():.3f}",
                                       f"{sum(kept) / len(kept):.1%}"))
                if (low, high) == (-1.0, 1.0):
                    quality_rows.append((model, f"{attribute}: rank correlation code vs measured (mean)",
                                         f"{rhos.nanmean():.3f}", ">= 0.9"))
                    quality_rows.append((model, f"{attribute}: digit kept along the traversal",
                                         f"{sum(kept) / len(kept):.1%}", ">= 90%"))
        print(markdown_table(f"InfoGAN traversals ({args.traversal_rows} rows of 9 steps, noise fixed per row)",
              ["code", "range", "mean rank corr.", "median rank corr.", "digit kept"], traversal_rows))

    print(markdown_table("Targets", ["model", "measure", "value", "target"], quality_rows))
    print(markdown_table(
        f"Fréchet distance in the classifier's feature space ({n:,} samples vs the MNIST test set)", ["samples", "FD"], fd_rows))

    if "speed" in args.only:
        # --- speed --------------------------------------------------------------------------------
        speed_rows = []
        for family, model in (("dcgan", "dcgan-mnist"), ("cgan", "cgan-mnist"), ("infogan", "infogan-mnist")):
            kwargs = {"digit": 3} if family != "dcgan" else {}
            sample_digits(model, 64, seed=0, **kwargs)
            started = time.perf_counter()
            for seed in range(20):
                sample_digits(model, 64, seed=seed, **kwargs)
            sample_ms = (time.perf_counter() - started) / 20 * 1000
            cfg = TrainConfig(family=family, data=(args.data,), out="/tmp/ganapps-bench-unused", batch_size=64)
            run = Run(cfg, data=(train_images, train_labels))
            steps = training_steps(run)
            for _ in range(5):
                next(steps)
            started = time.perf_counter()
            for _ in range(40):
                next(steps)
            per_step = (time.perf_counter() - started) / 40
            epoch_minutes = per_step * (len(train_images) // 64) / 60
            speed_rows.append((model, f"{sample_ms:.1f} ms", f"{per_step * 1000:.0f} ms", f"{epoch_minutes:.1f} min"))
        print(markdown_table(
            "Speed on this machine (2 CPU cores, float32)", ["model", "64 digits", "train step (batch 64)", "one MNIST epoch"],
              speed_rows))


if __name__ == "__main__":
    main()
