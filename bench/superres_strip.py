"""Before/after crop of a web photo upscaled x4: bicubic, then each model, side by side.

    python bench/superres_strip.py --photo chelsea --quality 75 --models srgan-x4 photo-x4-psnr photo-x4 \
        --out checkpoints/photo-x4/chelsea-jpeg75.jpg

The photo is a scikit-image picture (``skimage.data``) or an image file, shrunk x``--shrink`` with bicubic and saved
as a JPEG of ``--quality``, as a photo reaches a website or a phone. The whole photo is upscaled;
the strip shows the crop ``--box`` (left top width height, in low-res pixels) of each result,
without resampling. The last panel is the original at full size, for reference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganapps.data import bicubic_downscale
from ganapps.evaluation import modcrop
from ganapps.imaging import jpeg_roundtrip, load_rgb
from ganapps.photos import upscale

GAP = 4


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photo", default="chelsea", help="a colour picture of skimage.data (chelsea, coffee, ...) or an image file")
    parser.add_argument("--shrink", type=int, default=4, help="how much the original is shrunk first")
    parser.add_argument("--quality", type=int, default=75)
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--denoise", nargs="+", metavar="STRENGTH",
                        help="one per model: its denoise strength, or '-' for the model's default (or none)")
    parser.add_argument("--box", type=int, nargs=4, default=[36, 12, 48, 48], metavar=("LEFT", "TOP", "WIDTH", "HEIGHT"))
    parser.add_argument("--out", required=True, help="the strip (JPEG or PNG)")
    args = parser.parse_args()

    if Path(args.photo).is_file():
        original = load_rgb(args.photo)
    else:
        from skimage import data

        original = getattr(data, args.photo)()
    original = modcrop(original, args.shrink * 4)
    web = jpeg_roundtrip(bicubic_downscale(original, args.shrink), args.quality)
    left, top, width, height = args.box
    window = (4 * left, 4 * top, 4 * (left + width), 4 * (top + height))
    strengths = args.denoise or ["-"] * len(args.models)
    if len(strengths) != len(args.models):
        parser.error(f"--denoise takes one value per model ({len(args.models)}), got {len(strengths)}")
    runs = [("bicubic", None)] + [(m, None if d == "-" else float(d)) for m, d in zip(args.models, strengths)]
    panels = [upscale(web, model=name, denoise=d).to_pil().crop(window) for name, d in runs]
    names = [name if d is None else f"{name}, denoise {d:g}" for name, d in runs]
    reference = Image.fromarray(original).resize((4 * web.shape[1], 4 * web.shape[0]), Image.BICUBIC).crop(window)
    panels.append(reference)
    labels = [*names, "original"]
    label_height = 18
    strip = Image.new("RGB", (len(panels) * (4 * width + GAP) - GAP, 4 * height + label_height), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    for index, (panel, label) in enumerate(zip(panels, labels)):
        x = index * (4 * width + GAP)
        strip.paste(panel, (x, label_height))
        draw.text((x + 4, 3), label, fill=(0, 0, 0))
    strip.save(args.out, quality=95)
    print(f"{args.out}: {strip.width}x{strip.height}; {args.photo} shrunk x{args.shrink}, JPEG quality {args.quality}, "
          f"crop {args.box} x4; panels: {', '.join(labels)}")


if __name__ == "__main__":
    main()
