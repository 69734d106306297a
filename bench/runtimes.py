"""Runtimes for the photo generators, side by side: torch eager, torch.compile and ONNX Runtime.

    python bench/runtimes.py --models photo-x4 srresnet-x4 derain-idcgan-ssim --threads 2

Each generator runs on one tile (the size the app feeds it, 256x256 by default) in float32,
channels-last for torch. For every runtime: the median time of ``--repeats`` runs after warm-up, the
speed-up over eager in this run, the largest difference from eager's output, and whether it
qualifies (at least 1.3x faster with outputs equal to 1e-4: the bar for adopting a runtime).
Needs ``onnxruntime``, ``onnx`` and ``onnxscript`` (``pip install onnxruntime onnx onnxscript``);
a runtime that fails to build is reported as such.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganapps import hub  # noqa: E402
from ganapps.reporting import markdown_table  # noqa: E402

SPEEDUP_BAR, TOLERANCE = 1.3, 1e-4


def timed(run, repeats: int) -> float:
    run()
    run()  # warm-up: allocations, compiled kernels, ONNX Runtime's arenas
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def eager(model, x):
    model = model.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)

    def run():
        with torch.inference_mode():
            return model(x)

    return run


def compiled(model, x):
    model = torch.compile(model.to(memory_format=torch.channels_last))
    x = x.contiguous(memory_format=torch.channels_last)

    def run():
        with torch.inference_mode():
            return model(x)

    return run


def onnx_runtime(model, x, threads: int):
    import onnxruntime

    path = Path(tempfile.mkdtemp()) / "model.onnx"
    torch.onnx.export(model, (x,), str(path), dynamo=True, external_data=False)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    feed = {name: x.numpy()}
    return lambda: torch.from_numpy(session.run(None, feed)[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["photo-x4", "srresnet-x4", "derain-idcgan-ssim"])
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows = []
    x = torch.rand(1, 3, args.tile, args.tile, generator=torch.Generator().manual_seed(0))
    for name in args.models:
        model = hub.load(name)
        reference = eager(model, x)
        expected = reference()
        base = timed(reference, args.repeats)
        rows.append((name, "torch eager", f"{base:.3f}", "1.00x", "0", "reference"))
        for runtime, build in (("torch.compile", lambda name=name: compiled(hub.load(name), x)),
                               ("ONNX Runtime", lambda name=name: onnx_runtime(hub.load(name), x, args.threads))):
            try:
                started = time.perf_counter()
                run = build()
                output = run()  # the first call compiles
                setup = time.perf_counter() - started
            except Exception as err:
                rows.append((name, runtime, "-", "-", "-", f"failed: {type(err).__name__}: {str(err)[:80]}"))
                continue
            seconds = timed(run, args.repeats)
            difference = (output.float() - expected).abs().max().item()
            speedup = base / seconds
            verdict = "qualifies" if speedup >= SPEEDUP_BAR and difference <= TOLERANCE else "does not qualify"
            rows.append((name, runtime, f"{seconds:.3f}", f"{speedup:.2f}x", f"{difference:.1e}",
                         f"{verdict} (setup {setup:.0f} s)"))
    print(markdown_table(f"One {args.tile}x{args.tile} tile, float32, {args.threads} threads (median of {args.repeats})",
          ["model", "runtime", "seconds", "speed-up over eager", "max |output - eager|",
           f"verdict (>= {SPEEDUP_BAR}x and <= {TOLERANCE:g})"], rows))


if __name__ == "__main__":
    main()
