"""Command line: python -m ganapps sample | train | calibrate | evaluate | push."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from .models import TRAINABLE


def _train(args) -> None:
    from .training import TrainConfig, train

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    cfg = TrainConfig(
        family=args.family,
        data=tuple(args.data),
        out=args.out or f"runs/{args.family}",
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        model=json.loads(args.model) if args.model else {},
        tiny=args.tiny,
        sample_every=args.sample_every,
        checkpoint_every=args.checkpoint_every,
        log_every=args.log_every,
        download=args.download,
    )
    after = None
    if args.family == "infogan" and args.classifier:
        from .digits import calibrate_run

        after = lambda run: calibrate_run(run, args.classifier)  # noqa: E731
    run = train(cfg, resume=args.resume, after_training=after)
    if run.is_main:
        print(f"trained {args.family} to step {run.step}; model in {run.out / 'model'}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ganapps", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a family (resumable; works under torchrun for DDP)")
    p.add_argument("family", choices=list(TRAINABLE))
    p.add_argument("--data", nargs="+", required=True, help="data folder(s); for MNIST the folder holding MNIST/raw")
    p.add_argument("--out", help="run folder (default runs/<family>)")
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--batch-size", type=int, default=64, help="per process")
    p.add_argument("--lr", type=float, help="learning rate (default: the family's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--model", help='JSON of architecture overrides, e.g. \'{"base_channels": 64}\'')
    p.add_argument("--tiny", action="store_true", help="the family's tiny config (smoke tests)")
    p.add_argument("--sample-every", type=int, default=1000)
    p.add_argument("--checkpoint-every", type=int, default=1000)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--resume", action="store_true", help="continue from <out>/training_state.pt if present")
    p.add_argument("--download", action="store_true", help="let torchvision download MNIST into --data")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--classifier", default="mnist-classifier",
                   help="InfoGAN only: the classifier used to calibrate the codes after training ('' to skip)")
    p.set_defaults(func=_train)
    return parser


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
