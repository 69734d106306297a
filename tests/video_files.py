"""Short clips the tests make with PyAV: moving pictures with a sound track, and broken ones."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def scene(index: int, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8: a smooth picture with a square moving one pixel per frame."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 / width, y * 255 / height, 128 + 60 * np.sin((x + y) / 9.0)], axis=2)
    left = (4 + index) % max(1, width - 12)
    image[6:16, left:left + 10] = (240, 220, 40)
    return image.clip(0, 255).astype(np.uint8)


def make_clip(path: Path, *, frames: int = 12, width: int = 48, height: int = 32, rate: int = 24, audio: bool = True,
              rotation: int = 0, colour: bool = True, metadata: dict | None = None, times: list[int] | None = None,
              pix_fmt: str = "yuv420p", scenes=None, subtitle: str | None = None) -> Path:
    """An H.264 clip (BT.709, limited range) with a 440 Hz AAC track as long as the video; ``times``: each frame's
    timestamp in 1/``rate`` units (a variable rate); ``pix_fmt`` yuv444p takes odd sides; ``scenes(index)``: the frames
    ((height, width, 3) uint8; default ``scene``); ``subtitle``: a SubRip line from 0.1 s to 0.6 s (a .mkv ``path``)."""
    import av

    path = Path(path)
    with av.open(str(path), "w") as container:
        container.metadata.update(metadata or {})
        video = container.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        if colour:
            context = video.codec_context
            context.colorspace, context.color_range, context.color_primaries, context.color_trc = 1, 1, 1, 1
        if rotation:
            video.set_display_rotation(rotation)
        video.codec_context.options = {"crf": "10", "bf": "0"}
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=48000)
            sound.layout = "mono"
        if subtitle is not None:
            text = container.add_mux_stream("subrip")
            text.time_base = Fraction(1, 1000)
            line = av.Packet(subtitle.encode())
            line.stream, line.time_base, line.pts, line.dts, line.duration = text, Fraction(1, 1000), 100, 100, 500
            container.mux(line)
        for index in range(frames):
            picture = scenes(index) if scenes else scene(index, width, height)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame = frame.reformat(format=pix_fmt, dst_colorspace=1 if colour else None, dst_color_range=1 if colour else None)
            frame.pts = times[index] if times else index  # in 1/rate, the encoder's time base
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            seconds = ((times[-1] + 1) if times else frames) / rate
            samples, start = int(48000 * seconds), 0
            while start < samples:
                count = min(1024, samples - start)
                wave = 0.3 * np.sin(2 * np.pi * 440 * (start + np.arange(count)) / 48000)
                chunk = av.AudioFrame.from_ndarray(wave.astype(np.float32)[None], format="flt", layout="mono")
                chunk.sample_rate, chunk.pts = 48000, start
                for packet in sound.encode(chunk):
                    container.mux(packet)
                start += count
            for packet in sound.encode():
                container.mux(packet)
    return path


def decoded(path: Path) -> list[tuple[float, np.ndarray]]:
    """Every frame of a clip: (time in seconds, (H, W, 3) uint8 RGB converted with its own matrix and range)."""
    import av

    with av.open(str(path)) as container:
        return [(frame.time, frame.to_ndarray(format="rgb24", src_color_range=frame.color_range or None))
                for frame in container.decode(video=0)]


def streams(path: Path) -> dict:
    """What a clip holds: per stream type, (codec, the end of its last packet in seconds); the first video frame's rotation and colour."""
    import av

    with av.open(str(path)) as container:
        ends = {}
        for packet in container.demux():
            if packet.pts is not None:
                end = float((packet.pts + packet.duration) * packet.time_base)
                ends[packet.stream.index] = max(ends.get(packet.stream.index, 0.0), end)
    with av.open(str(path)) as container:
        found = {s.type: (s.codec_context.name, ends.get(s.index, 0.0)) for s in container.streams}
        frame = next(container.decode(video=0))
        found["rotation"] = frame.rotation
        found["colour"] = (frame.colorspace, frame.color_range, frame.color_primaries, frame.color_trc)
        found["metadata"] = dict(container.metadata)
        return found
