"""Before/after strip of real rainy photos: one row per photo, the rainy photo then each model's result.

    python bench/deraining_strip.py ../shared/data/rain/real/rainy/ID-CGAN_image/6_input.jpg ... \
        --models derain-idcgan derain-idcgan-mix --out strip.jpg

Real rain has no ground truth: this is for the eye. A file more than twice as wide as high is taken
as two side-by-side copies of one photo (DID-MDN's layout) and its left half is used. Each photo is
derained at full size, then every panel is shrunk to ``--height`` pixels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganapps.imaging import load_rgb
from ganapps.photos import derain

GAP = 4


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", nargs="+")
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--out", required=True, help="the strip (JPEG or PNG)")
    parser.add_argument("--height", type=int, default=240, help="panel height in pixels")
    args = parser.parse_args()

    rows = []
    for path in args.photos:
        rainy = load_rgb(path)
        if rainy.shape[1] > 2 * rainy.shape[0]:
            rainy = rainy[:, : rainy.shape[1] // 2]
        panels = [Image.fromarray(rainy)] + [derain(rainy, model=model).to_pil() for model in args.models]
        width = round(rainy.shape[1] * args.height / rainy.shape[0])
        rows.append([panel.resize((width, args.height), Image.LANCZOS) for panel in panels])
        print(path, "done", file=sys.stderr, flush=True)
    columns = len(rows[0])
    row_width = max(sum(p.width for p in row) + GAP * (columns - 1) for row in rows)
    strip = Image.new("RGB", (row_width, len(rows) * (args.height + GAP) - GAP), (255, 255, 255))
    for index, row in enumerate(rows):
        left = 0
        for panel in row:
            strip.paste(panel, (left, index * (args.height + GAP)))
            left += panel.width + GAP
    strip.save(args.out, quality=90)
    print(f"{args.out}: {strip.width}x{strip.height}, rows {', '.join(Path(p).name for p in args.photos)}; "
          f"columns: rainy, {', '.join(args.models)}")


if __name__ == "__main__":
    main()
