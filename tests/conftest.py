import os

# Tests never reach the network: the Hub path is exercised against a cache the tests build.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
# One torch thread, here and in the processes tests start (the app, torchrun, the CLI): tiny models
# run fastest so, and threads that compete with anything else on the machine slow the suite 4x.
os.environ["OMP_NUM_THREADS"] = "1"

import struct  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write an MNIST idx file (the format torchvision reads)."""
    magic = {1: 0x0801, 3: 0x0803}[array.ndim]
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in array.shape))
        f.write(array.astype(np.uint8).tobytes())


def make_fake_mnist(root: Path, num_train: int = 256, num_test: int = 64) -> Path:
    """A tiny MNIST in torchvision's layout: label k is a bar at column 2 + 2k, with noise."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, count in (("train", num_train), ("t10k", num_test)):
        labels = np.arange(count) % 10
        images = rng.integers(0, 40, size=(count, 28, 28))
        for image, label in zip(images, labels):
            image[4:24, 2 + 2 * label : 4 + 2 * label] = 255
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root


@pytest.fixture(scope="session")
def fake_mnist(tmp_path_factory) -> Path:
    return make_fake_mnist(tmp_path_factory.mktemp("data"))


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
