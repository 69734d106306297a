"""Other projects' deraining networks (KBNet, Restormer, MPRNet): what a tile changes, memory and time.

    python bench/foreign_derain.py deraining.pth model_deraining.pth --data ../shared/data/rain/real/rainy
    python bench/foreign_derain.py --random KBNet Restormer MPRNet --data ../shared/data/rain/real/rainy

Each checkpoint is a file, an ``hf://`` Hub file or a pinned URL (``ganapps.foreign``); ``--random`` builds the
architecture at its published deraining configuration with random weights (seeded), for when no published file can
be reached: its numbers then describe the architecture's global operations, not what trained weights do with them.

All three see their whole input somewhere (Restormer's channel attention, the channel attention's global average
pooling in MPRNet and KBNet), so no overlap makes a tiled result equal the whole one: ``derain`` runs them whole up to
one window (``foreign.RESTORATION_TILE`` + 2 x ``foreign.RESTORATION_OVERLAP`` pixels a side) and in tiles beyond it.

1. Tiled against whole: the real rainy photos of ``--data`` (the left half of each, resized to 448 pixels wide), run
   whole and with ``--tile 128`` and the default tile; the mean and the largest difference, in levels of 255.
2. Memory: the peak resident memory of ``ganapps derain`` on a 384x288 photo whole, and on it and a 768x576 photo with
   the model's default tile (``foreign.tile``; bounded: the same window, whatever the photo's size).
3. Time: seconds per megapixel of the whole ``ganapps derain`` process on the 768x576 photo, measured in this run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import safetensors.torch
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganapps import foreign  # noqa: E402
from ganapps.data import IMAGE_SUFFIXES  # noqa: E402
from ganapps.photos import derain, load_derainer  # noqa: E402
from ganapps.reporting import markdown_table  # noqa: E402

TILES = (128, foreign.RESTORATION_TILE)
WIDTH = 448  # pixels: wider than one window of the default tile (256 + 2 x 64)
PHOTOS = 2  # of --data, every sixth in name order


def published_configuration(architecture: str) -> torch.nn.Module:
    """The architecture as its authors configured it for deraining, with random weights (seed 0)."""
    torch.manual_seed(0)
    if architecture == "KBNet":
        from spandrel.architectures.KBNet import KBNet_s

        return KBNet_s().eval()
    if architecture == "Restormer":
        from spandrel_extra_arches.architectures.Restormer import Restormer

        return Restormer().eval()
    if architecture == "MPRNet":
        from spandrel_extra_arches.architectures.MPRNet import MPRNet

        return MPRNet().eval()
    raise SystemExit(f"--random takes {', '.join(foreign.DERAINERS)}, not {architecture}")


def rainy_photos(folder: str) -> list[np.ndarray]:
    photos = []
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    for path in files[::6][:PHOTOS]:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
            rgb = rgb.crop((0, 0, rgb.width // 2, rgb.height)) if rgb.width > 1.6 * rgb.height else rgb  # side by side
            photos.append(np.asarray(rgb.resize((WIDTH, round(WIDTH * rgb.height / rgb.width)), Image.BICUBIC)))
    return photos


def peak_and_seconds(model: str, photo: Path, tile: int) -> tuple[float, float]:
    """Peak resident memory (MB) and seconds of ``ganapps derain`` on ``photo`` (the whole process), by /usr/bin/time."""
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(["/usr/bin/time", "-f", "%M %e", sys.executable, "-m", "ganapps", "derain", str(photo), "--model",
                               model, "--tile", str(tile), "--out", out], cwd=ROOT, capture_output=True, text=True, check=True)
    kilobytes, seconds = done.stderr.strip().splitlines()[-1].split()
    return int(kilobytes) / 1024, float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="*")
    parser.add_argument("--random", nargs="*", default=[], metavar="ARCHITECTURE")
    parser.add_argument("--data", required=True, help="a folder of rainy photos (e.g. rain/real/rainy)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photos = rainy_photos(args.data)
    work = Path(tempfile.mkdtemp())
    models = [(Path(name).name, name) for name in args.checkpoints]
    for architecture in args.random:
        path = work / f"{architecture}.safetensors"
        state = {k: v.clone().contiguous() for k, v in published_configuration(architecture).state_dict().items()}
        safetensors.torch.save_file(state, str(path))
        models.append((f"{architecture} (random weights)", str(path)))
    from skimage import data as skdata

    sizes = {}
    for width, height in ((384, 288), (768, 576)):
        sizes[width] = work / f"photo-{width}.png"
        Image.fromarray(skdata.astronaut()).resize((width, height), Image.BICUBIC).save(sizes[width])

    tiled_rows, memory_rows = [], []
    for label, name in models:
        descriptor = foreign.read_model(name, purpose="derain")
        differences = {tile: [] for tile in TILES}
        for photo in photos:
            whole = derain(photo, model=name, tile=4096).to_array().astype(float)
            for tile in TILES:
                differences[tile].append(np.abs(derain(photo, model=name, tile=tile).to_array() - whole))
        tiled_rows.append([label, foreign.describe(descriptor), str(foreign.overlap(descriptor)),
                           *(f"{np.mean([d.mean() for d in differences[t]]):.2f} / {max(d.max() for d in differences[t]):.0f}"
                             for t in TILES)])
        default = load_derainer(name).tile
        runs = [peak_and_seconds(name, sizes[width], tile) for width, tile in ((384, 4096), (384, default), (768, default))]
        memory_rows.append([label, str(default), *(f"{peak:.0f}" for peak, _ in runs), f"{runs[-1][1] / (768 * 576 / 1e6):.0f}"])
        print(f"measured {label}: {tiled_rows[-1]} {memory_rows[-1]}", file=sys.stderr, flush=True)

    print(markdown_table(f"Tiled against whole: mean / largest difference in levels of 255, {len(photos)} real rainy photos "
                         f"of {Path(args.data).name}, {WIDTH} pixels wide",
                         ["model", "architecture", "overlap", *(f"--tile {t}" for t in TILES)], tiled_rows))
    print(markdown_table(f"Peak memory (MB, the whole process) and time, {args.threads} threads",
                         ["model", "default tile", "384x288 whole", "384x288, default tile", "768x576, default tile",
                          "s per megapixel (768x576, the process)"],
                         memory_rows))


if __name__ == "__main__":
    main()
