"""The theory lab's claims, each measured against a target that it can miss.

``measure(name)`` runs one claim's experiment (``checks``, ``games``) and returns what it
measured, the target, and whether it holds; ``python -m ganapps lab`` and ``bench/theory.py``
print them all. Every target is stated before the measurement: a claim whose experiment cannot
come out wrong would teach nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from ..metrics import PROGRESS_TOLERANCE
from . import checks, games
from .live import PROGRESS_EVERY

__all__ = ["Claim", "CLAIMS", "measure", "measure_all", "HEADER", "row"]


@dataclass(frozen=True)
class Claim:
    """What the lecture says, the target it is measured against, and how it is measured.

    ``run(seeds, steps) -> (measured value for the table, holds)``.
    """

    says: str
    target: str
    run: Callable[[int, int], tuple[object, bool]]


def _optimal_discriminator(seeds: int, steps: int):
    error = checks.check_optimal_discriminator()
    return round(error, 4), error <= 0.05


def _equilibrium(seeds: int, steps: int):
    found = checks.check_equilibrium()
    measured = {"mean_abs_d_minus_half": round(found["mean_abs_d_minus_half"], 4), "value": round(found["value"], 4)}
    return measured, found["mean_abs_d_minus_half"] <= 0.05 and found["value_gap"] <= 0.05


def _vanishing_gradients(seeds: int, steps: int):
    found = checks.check_vanishing_gradients()
    return {"ratio": round(found["ratio"], 1), "mean_d_fake": round(found["mean_d_fake"], 4)}, found["ratio"] >= 10


def _coverage(preset: str, holds: Callable[[int, float], bool]):
    def run(seeds: int, steps: int):
        results = [checks.check_mode_coverage(preset, seed=seed, steps=steps) for seed in range(seeds)]
        modes = [r["modes_covered"] for r in results]
        quality = [round(r["high_quality_fraction"], 3) for r in results]
        return {"modes_covered": modes, "high_quality_fraction": quality}, all(map(holds, modes, quality))

    return run


LOSS_AGREEMENT_AT_MOST = 0.75  # a coin flip agrees in half the stretches; a loss that measured progress, in nearly all


def _losses_vs_progress(seeds: int, steps: int):
    found = [checks.check_losses_vs_progress(seed=seed, steps=steps) for seed in range(seeds)]
    stretches = sum(f["stretches"] for f in found)
    # no stretch moved the divergence (a run too short to make progress): nothing shown, the claim does not hold
    share = {k: round(sum(f[k] for f in found) / stretches, 3) if stretches else None for k in ("agree_g", "agree_d")}
    ranks = {k: [None if math.isnan(f[k]) else round(f[k], 2) for f in found] for k in ("rank_g", "rank_d")}  # JSON has no NaN
    measured = {"stretches": stretches, **share, **ranks}
    return measured, stretches > 0 and all(v <= LOSS_AGREEMENT_AT_MOST for v in share.values())


def _game(game: games.Game, expected: list[tuple[str, str]]):
    def run(seeds: int, steps: int):
        found = [(game.actions[0][i], game.actions[1][j]) for i, j in games.pure_nash(game)]
        return [" / ".join(pair) for pair in found], found == expected

    return run


def _dirac(rule: str):
    def run(seeds: int, steps: int):
        _, ratios = checks.dirac_lesson(lr=0.1, steps=300, gamma=1.0)
        return float(f"{ratios[rule]:.3g}"), checks.dirac_holds(rule, ratios[rule])

    return run


CLAIMS: dict[str, Claim] = {
    "optimal_discriminator": Claim(
        "with G fixed, D converges to D* = p_data / (p_data + p_g): largest |D - D*| on the support (1-D mixture)",
        "<= 0.05", _optimal_discriminator),
    "equilibrium": Claim(
        "at the equilibrium D = 1/2 everywhere and V(D, G) = -log 4 (1-D run)",
        "mean |D - 1/2| <= 0.05 and |V + log 4| <= 0.05", _equilibrium),
    "vanishing_gradients": Claim(
        "the saturating loss starves G when D rejects its samples: non-saturating / saturating gradient norm",
        ">= 10x", _vanishing_gradients),
    "mode_collapse": Claim(
        "a fast G against a slow D collapses onto few modes (ring of 8, every seed)", "<= 4 modes",
        _coverage("mode collapse", lambda modes, quality: modes <= 4)),
    "mode_collapse_fixed": Claim(
        "the default recipe (hinge loss, balanced players) covers every mode (ring of 8, every seed)",
        "8 modes and >= 80 % of samples on a mode", _coverage("mode collapse fixed", lambda modes, quality: modes == 8 and quality >= 0.8)),
    "prisoners_dilemma": Claim(
        "prisoner's dilemma: the only pure Nash equilibrium, by best responses", "confess / confess",
        _game(games.PRISONERS_DILEMMA, [("confess", "confess")])),
    "boxed_pigs": Claim(
        "boxed pigs: the big pig presses the lever, the small pig waits", "press / wait",
        _game(games.BOXED_PIGS, [("press", "wait")])),
    "dirac_simultaneous": Claim(
        "Dirac-GAN, simultaneous gradient steps spiral away: distance to (0, 0) after / before (300 steps of 0.1)",
        checks.DIRAC_TARGETS["simultaneous"], _dirac("simultaneous")),
    "dirac_alternating": Claim(
        "Dirac-GAN, alternating steps circle without converging: distance after / before",
        checks.DIRAC_TARGETS["alternating"], _dirac("alternating")),
    "dirac_r1": Claim(
        "Dirac-GAN, an R1 gradient penalty (gamma 1) makes the steps converge: distance after / before",
        checks.DIRAC_TARGETS["r1"], _dirac("r1")),
    "losses_vs_progress": Claim(
        f"no loss tells whether G is improving (default 2-D recipe): of the {PROGRESS_EVERY}-step stretches in which the "
        f"JS divergence estimate moved by more than {PROGRESS_TOLERANCE}, the share in which each loss moved the way "
        "progress did (G's down, D's up as the divergence falls; a coin flip: 0.5); rank_g, rank_d: each loss's rank "
        "correlation with the divergence over the whole run, per seed",
        f"agree_g and agree_d <= {LOSS_AGREEMENT_AT_MOST}", _losses_vs_progress),
}


def measure(name: str, *, seeds: int = 1, steps: int = 5000) -> dict:
    """One claim, measured: {"measured": ..., "target": ..., "holds": bool}. ``seeds`` and ``steps``
    set the mode-coverage runs (each seed a run of ``steps``)."""
    if name not in CLAIMS:
        raise ValueError(f"unknown claim {name!r}; available: {', '.join(CLAIMS)}")
    if seeds < 1 or steps < 1:
        raise ValueError(f"seeds and steps must be >= 1, got {seeds} and {steps}")
    claim = CLAIMS[name]
    measured, holds = claim.run(seeds, steps)
    return {"measured": measured, "target": claim.target, "holds": bool(holds)}


def measure_all(names=None, *, seeds: int = 1, steps: int = 5000) -> dict[str, dict]:
    """``measure`` for each claim named (default: all), in ``CLAIMS``' order."""
    return {name: measure(name, seeds=seeds, steps=steps) for name in (names or CLAIMS)}


HEADER = "| claim | says | measured | target | holds |\n|---|---|---|---|---|"


def row(name: str, result: dict) -> str:
    """One claim's measurement as a row of the Markdown table under ``HEADER`` (its pipes escaped)."""
    cells = [name, CLAIMS[name].says, json.dumps(result["measured"]), result["target"], "yes" if result["holds"] else "**no**"]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
