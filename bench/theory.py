"""The theory lab's claims, measured: optimal discriminator, equilibrium, vanishing gradients, mode coverage,
and the game lesson (pure Nash equilibria of the lecture's games; the Dirac-GAN under three update rules).

    python bench/theory.py [--seeds 5] [--steps 5000] [--games-only]

Prints a Markdown table; each row is computed by ``ganapps.toylab``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganapps import games, toylab  # noqa: E402
from ganapps.models import toy  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--games-only", action="store_true", help="only the game lesson's rows (a second)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.games_only:
        print_table("The game and its equilibrium", game_rows())
        return
    rows = []
    error = toylab.check_optimal_discriminator()
    rows.append(("1. max abs(D - D*) on the support, G frozen (1-D mixture)", f"{error:.3f}", "<= 0.05"))
    eq = toylab.check_equilibrium()
    rows.append(("2. mean abs(D(x) - 1/2) after a 1-D run", f"{eq['mean_abs_d_minus_half']:.3f}", "<= 0.05"))
    rows.append(("2. abs(V(D, G) + log 4) after a 1-D run", f"{eq['value_gap']:.3f} (V = {eq['value']:.3f})", "<= 0.05"))
    vg = toylab.check_vanishing_gradients()
    rows.append(("3. G gradient norm, non-saturating / saturating (D(G(z)) = "
                 f"{vg['mean_d_fake']:.3f})", f"{vg['ratio']:.1f}x", ">= 10x"))
    for preset, target in (("mode collapse", "<= 4 modes"), ("mode collapse fixed", "8 modes, >= 80% high quality")):
        results = [toylab.check_mode_coverage(preset, seed=seed, steps=args.steps) for seed in range(args.seeds)]
        modes = [r["modes_covered"] for r in results]
        quality = [r["high_quality_fraction"] for r in results]
        rows.append((f"4. ring8 '{preset}', {args.seeds} seeds x {args.steps} steps: modes covered",
                     ", ".join(map(str, modes)), target))
        rows.append((f"4. ring8 '{preset}': high-quality samples", ", ".join(f"{q:.0%}" for q in quality), ""))
    lab = toylab.Lab(toy.Config(), seed=0)
    lab.advance(20)
    started = time.perf_counter()
    lab.advance(500)
    rows.append(("training speed, default networks, one CPU thread", f"{500 / (time.perf_counter() - started):.0f} steps/s", ">= 50"))
    print_table("Theory lab checks", rows + game_rows())
    print(f"\n(-log 4 = {-math.log(4):.4f})")


def game_rows():
    rows = []
    for game, expected in ((games.PRISONERS_DILEMMA, [("confess", "confess")]), (games.BOXED_PIGS, [("press", "wait")])):
        found = [(game.actions[0][i], game.actions[1][j]) for i, j in games.pure_nash(game)]
        rows.append((f"5. {game.name}: pure Nash equilibria by best responses", "; ".join(map(" / ".join, found)) or "none",
                     "; ".join(map(" / ".join, expected))))
    started = time.perf_counter()
    _, ratios = toylab.dirac_lesson(lr=0.1, steps=300, gamma=1.0)
    seconds = time.perf_counter() - started
    for rule, ratio in ratios.items():
        rows.append((f"6. Dirac-GAN from (1, 1), 300 steps of 0.1, {rule}: distance to (0, 0), end / start",
                     f"{ratio:.3g}", toylab.DIRAC_TARGETS[rule]))
    rows.append(("6. Dirac-GAN lesson: figure and numbers, one CPU thread", f"{seconds:.2f} s", "< 2 s"))
    return rows


def print_table(title, rows):
    print(f"\n### {title}\n\n| claim | measured | target |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
