"""The theory lab's claims, measured: optimal discriminator, equilibrium, vanishing gradients, mode coverage.

    python bench/theory.py [--seeds 5] [--steps 5000]

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

from ganapps import toylab  # noqa: E402
from ganapps.models import toy  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5000)
    args = parser.parse_args()
    torch.set_num_threads(1)
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
    print("\n### Theory lab checks\n\n| claim | measured | target |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n(-log 4 = {-math.log(4):.4f})")


if __name__ == "__main__":
    main()
