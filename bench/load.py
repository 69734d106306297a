"""The app under load: simulated visitors through gradio_client, all at once, for a while.

    python bench/load.py [--seconds 120] [--labs 4] [--digits 2] [--photos 2]

Starts ``python app.py`` on a free port as a user would (torch's default threads; the handlers set
their own), then runs the visitors side by side, each with its own session:

* a lab visitor presses Play and then does what the page's timer does: asks for a frame
  (``/toy_tick``) every half second, or at the next half second when a frame took longer;
* a digit visitor samples DCGAN, CGAN and InfoGAN digits or writes a number, with a short pause;
* a photo visitor uploads a small JPEG to upscale x4 or to derain, with a short pause.

Prints the calls and failures per endpoint, latency percentiles, each lab's training speed
(steps/s, read from the step count the lab shows) and the server's peak memory.

The visitors run on the server's machine, but a real visitor's browser does not: they run at a
lower priority (nice 10) and leave the result images on the server instead of downloading them
(``download_files=False``), so that their own work does not count against the server's.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the package, from a clone

from ganapps.reporting import markdown_table  # noqa: E402

TICK_SECONDS = 0.5  # the theory tab's timer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int) -> subprocess.Popen:
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("OMP_NUM_THREADS", None)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("app.py exited") from None
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("app.py did not start in 120 s")


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    """The process's children (the theory lab's processes), from /proc."""
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def small_photos(folder: Path) -> list[str]:
    """Two small JPEG uploads (as a phone or a website would send them), made from scikit-image's photos."""
    from skimage import data as skdata

    paths = []
    for name, image in (("chelsea", skdata.chelsea()), ("coffee", skdata.coffee())):
        path = folder / f"{name}.jpg"
        Image.fromarray(image).resize((160, 120), Image.LANCZOS).save(path, quality=80)
        paths.append(str(path))
    return paths


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls: dict[str, list[float]] = {}
        self.failures: dict[str, list[str]] = {}
        self.labs: list[tuple[int, float]] = []  # (steps trained, seconds playing) per lab

    def call(self, client, api_name: str, *args):
        started = time.perf_counter()
        try:
            result = client.predict(*args, api_name=api_name)
        except Exception as err:
            with self.lock:
                self.failures.setdefault(api_name, []).append(f"{type(err).__name__}: {err}"[:200])
            return None
        with self.lock:
            self.calls.setdefault(api_name, []).append(time.perf_counter() - started)
        return result


def lab_visitor(url, recorder: Recorder, stop: float, seed: int):
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    recorder.call(client, "/toy_reset", seed)
    recorder.call(client, "/toy_play", seed)
    started, first_step, last_step = time.perf_counter(), None, 0
    while time.perf_counter() < stop:
        tick = time.perf_counter()
        result = recorder.call(client, "/toy_tick", seed)
        if result is not None:
            last_step = int(re.search(r"\| step \| (\d+) \|", result[1]).group(1))
            if first_step is None:
                first_step, started = last_step, time.perf_counter()
        # as the page's timer: the next tick on the half-second grid after this one returned
        elapsed = time.perf_counter() - tick
        time.sleep(TICK_SECONDS - elapsed % TICK_SECONDS)
    recorder.call(client, "/toy_pause")
    with recorder.lock:
        recorder.labs.append((last_step - (first_step or 0), time.perf_counter() - started))


def digit_visitor(url, recorder: Recorder, stop: float, seed: int):
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    rng = random.Random(seed)
    while time.perf_counter() < stop:
        kind = rng.choice(["dcgan", "cgan", "infogan", "number"])
        if kind == "dcgan":
            recorder.call(client, "/dcgan_sample", 16, rng.randrange(10**6))
        elif kind == "cgan":
            recorder.call(client, "/cgan_sample", rng.randrange(10), 16, rng.randrange(10**6))
        elif kind == "infogan":
            recorder.call(client, "/infogan_sample", rng.randrange(10), rng.uniform(-2, 2), rng.uniform(-2, 2), 16, rng.randrange(10**6))
        else:
            recorder.call(client, "/cgan_write_number", str(rng.randrange(10**6)), rng.randrange(10**6))
        time.sleep(rng.uniform(0.3, 1.0))


def photo_visitor(url, recorder: Recorder, stop: float, seed: int, photos: list[str]):
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, download_files=False)
    rng = random.Random(seed)
    while time.perf_counter() < stop:
        photo = handle_file(rng.choice(photos))
        if rng.random() < 0.5:
            recorder.call(client, "/upscale", photo, "photo-x4", 4)
        else:
            recorder.call(client, "/derain", photo, "derain-idcgan-ssim")
        time.sleep(rng.uniform(0.5, 1.5))


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--labs", type=int, default=4)
    parser.add_argument("--digits", type=int, default=2)
    parser.add_argument("--photos", type=int, default=2)
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    process = start_app(port)
    os.nice(10)  # the visitors; the server started at normal priority
    recorder = Recorder()
    try:
        with tempfile.TemporaryDirectory() as folder:
            photos = small_photos(Path(folder))
            stop = time.perf_counter() + args.seconds
            visitors = (
                [threading.Thread(target=lab_visitor, args=(url, recorder, stop, i)) for i in range(args.labs)]
                + [threading.Thread(target=digit_visitor, args=(url, recorder, stop, i)) for i in range(args.digits)]
                + [threading.Thread(target=photo_visitor, args=(url, recorder, stop, i, photos)) for i in range(args.photos)]
            )
            for visitor in visitors:
                visitor.start()
            for visitor in visitors:
                visitor.join()
        memory = peak_memory_mb(process.pid)
        lab_memory = [peak_memory_mb(child) for child in children(process.pid)]
        alive = process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=30)

    print(f"{len(visitors)} visitors ({args.labs} labs playing, {args.digits} digits, {args.photos} photos) "
          f"for {args.seconds:.0f} s on {os.cpu_count()} CPU cores; the app still serving at the end: {alive}")
    names = sorted(set(recorder.calls) | set(recorder.failures))
    rows = []
    for name in names:
        times = recorder.calls.get(name, [])
        rows.append((name, len(times), len(recorder.failures.get(name, [])), f"{percentile(times, 50):.2f}",
                     f"{percentile(times, 95):.2f}", f"{max(times, default=float('nan')):.2f}"))
    print(markdown_table("Calls (seconds)", ["endpoint", "calls", "failed", "p50", "p95", "max"], rows))
    digit_times = [t for name in ("/dcgan_sample", "/cgan_sample", "/infogan_sample", "/cgan_write_number")
                   for t in recorder.calls.get(name, [])]
    speeds = [steps / seconds for steps, seconds in recorder.labs]
    failed = sum(len(v) for v in recorder.failures.values())
    print(markdown_table("Targets", ["measure", "value", "target"], [
        ("failed calls", failed, "0"),
        ("slowest playing lab (steps/s)", f"{min(speeds, default=float('nan')):.1f}", ">= 20"),
        ("labs' mean (steps/s)", f"{statistics.mean(speeds) if speeds else float('nan'):.1f}", ""),
        ("digit calls p95 (s)", f"{percentile(digit_times, 95):.2f}", "< 1"),
        ("server peak memory (MB)", f"{memory:.0f}", "(printed)"),
        (f"lab processes' peak memory (MB, {len(lab_memory)} processes)", f"{sum(lab_memory):.0f}", "(printed)"),
    ]))
    for name, messages in recorder.failures.items():
        print(f"\n{name}: {len(messages)} failed, e.g. {messages[0]}")


if __name__ == "__main__":
    main()
