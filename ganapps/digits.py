"""Digits from the MNIST GANs, by model name: the library behind the three digit tabs and the CLI."""

from __future__ import annotations

import logging

from . import hub
from .models import infogan

log = logging.getLogger(__name__)


def calibrate_run(run, classifier_name: str) -> None:
    """After InfoGAN training: measure what its codes mean and store it in the exported config."""
    classifier = hub.load(classifier_name, family="classifier")
    generator = run.export
    generator.eval()
    generator.config = infogan.calibrate(generator, classifier)
    log.info("calibrated InfoGAN codes: %s", generator.config)
