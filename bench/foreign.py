"""Other projects' upscalers: how far an output pixel's inputs reach (the tile overlap), tiled against untiled, speed.

    python bench/foreign.py RealESRGAN_x4plus.pth realesr-general-x4v3.pth --data ../shared/data/sr/bench/Set14

Each checkpoint is a file or an ``hf://`` Hub file (``ganapps.foreign``). For each:

1. Reach: the photos of ``--data`` (halved), run whole and with their top ``CUT`` rows cut off; the largest change, in
   levels of 255, of the outputs ``d`` input pixels below the cut, for each ``d``. Where it falls under 0.1 at every
   ``d`` beyond is how much context a tile needs (``foreign.EFFECTIVE_RADIUS``).
2. Tiled: the largest difference, in levels of 255, between the untiled result (``ganapps upscale --tile 4096``)
   and ``--tile 48`` / the default tile, on a 200x150 photo, and against the checkpoint's own forward pass
   (spandrel, untiled).
3. Time: seconds for a 2-megapixel result, untiled and with the default tile, measured in this run.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganapps import foreign  # noqa: E402
from ganapps.data import bicubic_downscale, image_files  # noqa: E402
from ganapps.imaging import resize  # noqa: E402
from ganapps.photos import DEFAULT_TILE, upscale  # noqa: E402
from ganapps.reporting import markdown_table  # noqa: E402

CUT = 40
DISTANCES = (0, 8, 16, 32, 48, 64, 80, 96, 104, 112, 120, 128)


def photos(folder: str, count: int):
    for path in image_files(folder)[:count]:
        with Image.open(path) as image:
            yield bicubic_downscale(np.asarray(image.convert("RGB")), 2)


def reach(descriptor, folder: str, count: int) -> dict[int, float]:
    """The largest change (levels) of the outputs ``d`` input pixels below a cut edge, over the photos."""
    worst = {}
    scale = descriptor.scale
    for image in photos(folder, count):
        x = torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255
        with torch.inference_mode():
            whole, cut = descriptor(x), descriptor(x[:, :, CUT:])
        rows = ((cut - whole[:, :, CUT * scale:]).abs().amax(dim=(0, 1, 3)) * 255).reshape(-1, scale).amax(1)
        for d in DISTANCES:
            if d < len(rows):
                worst[d] = max(worst.get(d, 0.0), rows[d:].max().item())  # at d and beyond
    return worst


def levels(a, b) -> float:
    return float(np.abs(a.astype(float) - b.astype(float)).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--data", required=True, help="a folder of photos (e.g. Set14)")
    parser.add_argument("--photos", type=int, default=4, help="photos of --data measured for the reach")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from skimage import data as skdata

    astronaut = skdata.astronaut()
    reach_rows, tiled_rows, time_rows = [], [], []
    for name in args.checkpoints:
        descriptor = foreign.read_model(name)
        label = Path(name).name
        worst = reach(descriptor, args.data, args.photos)
        reach_rows.append([label, foreign.describe(descriptor), str(foreign.receptive_radius(descriptor)),
                           str(foreign.overlap(descriptor)), *(f"{worst[d]:.2f}" if d in worst else "" for d in DISTANCES)])

        small = resize(astronaut, (200, 150))
        with torch.inference_mode():
            own = descriptor(torch.from_numpy(small.copy()).permute(2, 0, 1)[None].float() / 255)
        own = (own[0].permute(1, 2, 0).numpy() * 255).round()
        untiled = upscale(small, model=name, scale=descriptor.scale, tile=4096).to_array()
        tiled_rows.append([label, f"{levels(untiled, own):.0f}",
                           *(f"{levels(upscale(small, model=name, scale=descriptor.scale, tile=tile).to_array(), untiled):.0f}"
                             for tile in (48, DEFAULT_TILE))])

        side = round(math.sqrt(2e6) / descriptor.scale)  # a 2-megapixel result
        big = resize(astronaut, (side, side))
        seconds = {}
        for tile in (4096, DEFAULT_TILE, 4096, DEFAULT_TILE):  # alternated: a machine's drift falls on both
            started = time.perf_counter()
            upscale(big, model=name, scale=descriptor.scale, tile=tile)
            seconds[tile] = min(seconds.get(tile, math.inf), time.perf_counter() - started)
        time_rows.append([label, f"{side}x{side} -> {side * descriptor.scale}x{side * descriptor.scale}",
                          f"{seconds[4096]:.1f}", f"{seconds[DEFAULT_TILE]:.1f}", f"{seconds[DEFAULT_TILE] / seconds[4096]:.2f}"])
        print(f"measured {label}", file=sys.stderr, flush=True)

    print(markdown_table(f"Reach: largest output change (levels of 255) at d input pixels and beyond from a cut edge, {args.photos} photos "
          f"of {Path(args.data).name} halved",
          ["checkpoint", "architecture", "receptive radius", "overlap", *(f"d={d}" for d in DISTANCES)], reach_rows))
    print(markdown_table("Tiled against untiled, largest difference in levels of 255 (200x150 photo)",
          ["checkpoint", "untiled vs its own forward pass", "--tile 48 vs untiled", f"--tile {DEFAULT_TILE} (default) vs untiled"],
          tiled_rows))
    print(markdown_table(f"Time of a 2-megapixel result, best of two, {args.threads} threads",
          ["checkpoint", "size", "untiled (s)", f"default tile {DEFAULT_TILE} (s)", "ratio"], time_rows))


if __name__ == "__main__":
    main()
