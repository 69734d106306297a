import os

# Tests never reach the network: the Hub path is exercised against a cache the tests build.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
# One torch thread, here and in the processes tests start (the app, torchrun, the CLI): tiny models
# run fastest so, and threads that compete with anything else on the machine slow the suite 4x.
os.environ["OMP_NUM_THREADS"] = "1"

import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

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


def random_weights(generator: torch.nn.Module, folder: Path) -> str:
    """A tiny generator with random (non-zero) weights, saved as a model folder: its path."""
    from ganapps import hub

    for parameter in generator.parameters():
        torch.nn.init.normal_(parameter, 0.0, 0.05)
    hub.save(generator, folder)
    return str(folder)


@pytest.fixture(scope="session")
def sr_model(tmp_path_factory) -> str:
    """A tiny SRGAN upscaler (x4) with random weights, as a model folder."""
    from ganapps.models import srgan

    torch.manual_seed(0)
    return random_weights(srgan.Generator(srgan.Config(channels=8, num_blocks=2)), tmp_path_factory.mktemp("models") / "sr-tiny")


@pytest.fixture(scope="session")
def rain_model(tmp_path_factory) -> str:
    """A tiny ID-CGAN derainer with random weights, as a model folder."""
    from ganapps.models import derain

    torch.manual_seed(0)
    generator = derain.Generator(derain.Config(channels=8, growth=4, layers_per_block=2))
    return random_weights(generator, tmp_path_factory.mktemp("models") / "derain-tiny")


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The launched app, one for the whole test session: (its URL, its process).

    Its output goes to a file, not a pipe: a pipe nobody reads fills up, and the server then blocks on its
    next log line in the middle of a request."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    log = tmp_path_factory.mktemp("app") / "app.log"
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"app.py exited: {log.read_text()}") from None
            time.sleep(0.5)
    else:
        process.kill()
        raise RuntimeError("app.py did not start in 120 s")
    yield url, process
    labs = lab_processes(process.pid)
    process.terminate()
    process.wait(timeout=30)
    deadline = time.time() + 10  # the theory lab's processes end with the server
    while any(os.path.exists(f"/proc/{pid}") for pid in labs) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in labs), "lab processes outlived the server"


@pytest.fixture(scope="session")
def app_url(app):
    return app[0]


def lab_processes(pid: int) -> list[int]:
    """The theory lab's processes of the server ``pid`` (its multiprocessing children but the resource tracker)."""
    tasks = [f"/proc/{pid}/task/{task}/children" for task in os.listdir(f"/proc/{pid}/task")]
    children = [int(child) for path in tasks for child in open(path).read().split()]
    return [child for child in children if b"spawn_main" in open(f"/proc/{child}/cmdline", "rb").read()]
