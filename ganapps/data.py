"""Training and evaluation data: MNIST through torchvision, held in memory as tensors."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

log = logging.getLogger(__name__)


def mnist(root: str | Path, *, train: bool = True, download: bool = False):
    """MNIST as ``(images, labels)``: images (N, 1, 28, 28) float32 in [-1, 1], labels (N,) int64.

    ``root`` is the folder that holds ``MNIST/raw/`` (torchvision's layout). With ``download=True``
    torchvision fetches the files there first; without it a missing dataset is a ValueError.
    """
    from torchvision.datasets import MNIST

    try:
        dataset = MNIST(str(root), train=train, download=download)
    except RuntimeError as err:
        raise ValueError(
            f"no MNIST under {str(root)!r} (expected {Path(root) / 'MNIST' / 'raw'}); "
            f"pass --download to fetch it, or point --data at the folder that holds MNIST/: {err}"
        ) from None
    images = dataset.data.unsqueeze(1).float().div(127.5).sub(1.0)  # (N, 1, 28, 28)
    return images, dataset.targets.long()


def load(kind: str, roots, *, download: bool = False):
    """The training data of a family (its ``DATASET``), from the folders given with ``--data``."""
    if kind == "mnist":
        if len(roots) != 1:
            raise ValueError(f"MNIST training takes one --data folder, got {len(roots)}")
        return mnist(roots[0], train=True, download=download)
    raise ValueError(f"unknown dataset {kind!r}; available: mnist")


def epoch_batches(num_items: int, batch_size: int, *, seed: int, epoch: int, rank: int = 0, world_size: int = 1):
    """Index batches of one epoch, in an order fixed by (seed, epoch): resumable and DDP-safe.

    Every process draws the same permutation and takes its own interleaved share, so the ranks
    see disjoint data; the last incomplete batch is dropped.
    """
    order = torch.randperm(num_items, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    share = order[rank::world_size]
    for start in range(0, len(share) - batch_size + 1, batch_size):
        yield share[start : start + batch_size]


def steps_per_epoch(num_items: int, batch_size: int, world_size: int = 1) -> int:
    return (num_items // world_size) // batch_size
