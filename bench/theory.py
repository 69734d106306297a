"""The theory lab's claims, measured (``ganapps.lab.claims``, as ``python -m ganapps lab`` prints them),
over more seeds, and the lab's training speed.

    python bench/theory.py [--seeds 5] [--steps 5000] [--games-only]

Prints a Markdown table; each row is computed by the library.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganapps.lab import checks, claims, live
from ganapps.models import toy

GAME_CLAIMS = ["prisoners_dilemma", "boxed_pigs", "dirac_simultaneous", "dirac_alternating", "dirac_r1"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--games-only", action="store_true", help="only the game lesson's claims (a second)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = GAME_CLAIMS if args.games_only else list(claims.CLAIMS)
    rows = [claims.row(name, result) for name, result in claims.measure_all(names, seeds=args.seeds, steps=args.steps).items()]
    started = time.perf_counter()
    checks.dirac_lesson(lr=0.1, steps=300, gamma=1.0)
    seconds = time.perf_counter() - started
    rows.append(f"| dirac lesson speed | the Dirac-GAN figure and numbers, one CPU thread | {seconds:.2f} s | < 2 s | |")
    if not args.games_only:
        lab = live.Lab(toy.Config(), seed=0)
        lab.advance(20)
        started = time.perf_counter()
        lab.advance(500)
        rate = 500 / (time.perf_counter() - started)
        rows.append(f"| training speed | default networks, one CPU thread | {rate:.0f} steps/s | >= 50 | |")
    print(f"\n### Theory lab claims ({args.seeds} seeds x {args.steps} steps for mode coverage)\n\n{claims.HEADER}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
