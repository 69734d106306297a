"""Training as the library and the command line run it: the shared loop, then the work that a
family's trained model still needs before it is used.

The loop (``training.train``) knows no family by name; what follows it lives here, above it:

- InfoGAN: its codes are measured with a digit classifier (``infogan.calibrate``) and the answer
  stored in the exported config, so the slant and width controls work on the new model;
- ssgan: the training images whose labels it learned from, stored in the exported config;
- toy: the run's final measurements and picture (``toylab.write_report``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from . import hub, toylab
from .models import infogan
from .training import Run, TrainConfig
from .training import train as train_loop

__all__ = ["train", "AFTER_TRAINING", "DEFAULT_CLASSIFIER"]

DEFAULT_CLASSIFIER = "mnist-classifier"


def calibrate_infogan(run: Run, *, classifier: str | None = DEFAULT_CLASSIFIER) -> None:
    """Measure what the trained codes mean with ``classifier`` (None: skip) and store it in the exported config."""
    if not classifier:
        return
    generator = run.export
    generator.eval()
    generator.config = infogan.calibrate(generator, hub.load(classifier, family="classifier"))


def record_labels(run: Run, **_) -> None:
    """Store in the exported config which training images' labels a semi-supervised run learned from."""
    network = run.export
    network.config = dataclasses.replace(network.config, labelled_indices=tuple(run.data.labelled_indices))


AFTER_TRAINING: dict[str, Callable[..., None]] = {
    "infogan": calibrate_infogan,
    "ssgan": record_labels,
    "toy": lambda run, **_: toylab.write_report(run),
}


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = True, data=None,
          classifier: str | None = DEFAULT_CLASSIFIER) -> Run:
    """Train to ``cfg.steps`` (``training.train``), then the family's work after training, and save once more.

    ``classifier``: the digit classifier that calibrates an InfoGAN's codes (None: leave them uncalibrated).
    Under torchrun every process runs this; the final save gathers from all of them.
    """
    follow_up = AFTER_TRAINING.get(cfg.family)
    after = None if follow_up is None else (lambda run: follow_up(run, classifier=classifier))
    return train_loop(cfg, resume=resume, progress=progress, data=data, after=after)
