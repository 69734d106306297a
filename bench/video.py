"""Video: frames per second per model, flicker against the input's, and the time axis against moving rain.

    python bench/video.py --photos ../shared/data/sr/bench/Set14 --threads 2

Clips are made here with PyAV from real photos (``--photos``): a camera panning ``PAN`` pixels a frame across a photo
(the photo cut down to the clip's size after a downscale, so the frames are real texture, not noise).

1. Speed: frames per second of ``upscale_video`` (x2; the networks with their default ``temporal`` 1) and ``derain_video`` on a 480p
   (854x480) and a 720p (1280x720) clip of ``--frames`` frames, decoding and encoding (H.264) included, measured in
   this run.
2. Flicker: on a 360x240 panning clip (JPEG-compressed frames, as phones' clips are compressed), the mean absolute
   change from frame to frame of the x2 result, divided by the same of the bicubic-upscaled input (1: no more
   flicker than the input), frame by frame (temporal 0) and steadied with a neighbour on each side (temporal 1).
3. Rain: rain.py's streaks, new drops every frame (rain moves), over a static and over a panning 320x240 clip of each
   photo; PSNR-Y against the clean frames of the rainy clip, of ``derain_video`` frame by frame, and with 1 and 2
   neighbouring frames on each side (``--temporal``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganapps import rain, video  # noqa: E402
from ganapps.data import image_files  # noqa: E402
from ganapps.imaging import jpeg_roundtrip, resize  # noqa: E402
from ganapps.metrics import psnr_ssim_y  # noqa: E402
from ganapps.reporting import markdown_table  # noqa: E402

PAN = 1  # pixels a frame
UPSCALERS = ("bicubic", "photo-x4", "photo-x4-psnr", "srgan-x4")
DERAINER = "derain-idcgan-ssim"
PARTS = ("speed", "flicker", "rain")
RAIN = rain.RainParams(amount=0.5, angle=10, length=20, width=1.2, brightness=0.6, layers=2)


def write_clip(path: Path, frames: list[np.ndarray], rate: int = 24) -> Path:
    """H.264 at crf 12 (close to the frames), no sound."""
    import av

    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.options = {"crf": "12"}
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def panning(photo: np.ndarray, width: int, height: int, frames: int, pan: int) -> list[np.ndarray]:
    """``frames`` crops of ``width`` x ``height`` from ``photo`` (resized to cover them and the pan), moving ``pan`` a frame."""
    need = width + pan * frames
    scale = max(need / photo.shape[1], height / photo.shape[0])
    cover = resize(photo, (round(photo.shape[1] * scale) + 1, round(photo.shape[0] * scale) + 1), "lanczos")
    return [np.ascontiguousarray(cover[:height, pan * k: pan * k + width]) for k in range(frames)]


def decoded(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def load(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", required=True, help="a folder of photos (e.g. Set14)")
    parser.add_argument("--count", type=int, default=4, help="photos of --photos used for flicker and rain")
    parser.add_argument("--frames", type=int, default=6, help="frames of the speed clips")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=PARTS, help="what to measure (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp())
    photos = [load(path) for path in image_files(args.photos)[: args.count]]

    speed_rows = []
    for width, height in ((854, 480), (1280, 720)) if "speed" in args.parts else ():
        clip = write_clip(work / f"speed-{height}.mp4", panning(photos[0], width, height, args.frames, PAN))
        runs = [("upscale", name, 0 if name == "bicubic" else 1) for name in UPSCALERS]
        runs += [("derain", DERAINER, temporal) for temporal in (0, 2)]
        for verb, name, temporal in runs:
            started = time.perf_counter()
            if verb == "upscale":
                video.upscale_video(clip, work / "speed-out.mp4", model=name, scale=2, temporal=temporal)
            else:
                video.derain_video(clip, work / "speed-out.mp4", model=name, temporal=temporal)
            label = f"{verb} {name}" + (" x2" if verb == "upscale" else "") + (f", temporal {temporal}" if temporal else "")
            speed_rows.append([label, f"{width}x{height}", f"{args.frames / (time.perf_counter() - started):.2f}"])
        print(f"measured speed at {height}p", file=sys.stderr, flush=True)

    flicker_rows = []
    runs = [(name, temporal) for name in UPSCALERS for temporal in ((0,) if name == "bicubic" else (0, 1))]
    ratios = {run: [] for run in runs}
    for index, photo in enumerate(photos if "flicker" in args.parts else []):
        frames = [jpeg_roundtrip(frame, 80) for frame in panning(photo, 360, 240, 24, PAN)]
        clip = write_clip(work / f"flicker-{index}.mp4", frames)
        for name, temporal in runs:
            result = video.upscale_video(clip, work / "flicker-out.mp4", model=name, scale=2, temporal=temporal)
            ratios[name, temporal].append(result.flicker_ratio)
    for (name, temporal), values in ratios.items() if "flicker" in args.parts else ():
        flicker_rows.append([name, str(temporal), *(f"{r:.2f}" for r in values), f"**{np.mean(values):.2f}**"])

    rain_rows = []
    for camera, pan in (("static", 0), ("panning", PAN)) if "rain" in args.parts else ():
        scores = {key: [] for key in ("rainy", "0", "1", "2")}
        for index, photo in enumerate(photos):
            clean = panning(photo, 320, 240, 12, pan)
            rainy = [(rain.add_rain(frame, RAIN, seed=100 * index + k) * 255).round().astype(np.uint8)
                     for k, frame in enumerate(clean)]
            clip = write_clip(work / f"rain-{camera}-{index}.mp4", rainy)
            truth = decoded(write_clip(work / "clean.mp4", clean))  # the clean frames through the same codec
            scores["rainy"] += [psnr_ssim_y(frame, reference)[0] for frame, reference in zip(decoded(clip), truth)]
            for temporal in (0, 1, 2):
                result = video.derain_video(clip, work / "rain-out.mp4", model=DERAINER, temporal=temporal)
                scores[str(temporal)] += [psnr_ssim_y(frame, reference)[0] for frame, reference in zip(decoded(result.path), truth)]
        rain_rows.append([camera, *(f"{np.mean(scores[key]):.2f}" for key in ("rainy", "0", "1", "2"))])
        print(f"measured rain, {camera}", file=sys.stderr, flush=True)

    tables = {
        "speed": (f"Frames per second ({args.frames} frames, H.264, {args.threads} threads)", ["run", "input", "frames/s"], speed_rows),
        "flicker": (f"Flicker of the x2 result / the bicubic-upscaled input's, 360x240 clips panning {PAN} px a frame over "
                    f"{len(photos)} photos of {Path(args.photos).name} (JPEG 80 frames)",
                    ["model", "temporal", *(f"photo {i + 1}" for i in range(len(photos))), "mean"], flicker_rows),
        "rain": (f"Moving rain (rain.py, new drops every frame), {DERAINER}: mean PSNR-Y (dB) against the clean frames, 12 "
                 f"frames of {len(photos)} photos, 320x240", ["camera", "rainy", "frame by frame", "temporal 1", "temporal 2"],
                 rain_rows),
    }
    for part in args.parts:
        print(markdown_table(*tables[part]))


if __name__ == "__main__":
    main()
