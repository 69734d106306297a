"""What a toy training run leaves behind: its final measurements and picture."""

from __future__ import annotations

import json

from ..models import toy
from ..training import Run
from .live import Lab

__all__ = ["write_report"]


def write_report(run: Run) -> None:
    """After toy training (``recipes.train``): <out>/metrics.json and the final picture <out>/final.png."""
    if not run.is_main:
        return

    lab = Lab(run.state.config, run=run)
    numbers = {"step": run.step, **toy.evaluate(run.state, num=5000)}
    (run.out / "metrics.json").write_text(json.dumps(numbers, indent=2))
    lab.figure().save(run.out / "final.png")
