"""Clips through the photo verbs, frame by frame: ``upscale_video`` and ``derain_video`` (PyAV, which bundles FFmpeg).

Every frame goes through the same model, options and tiling as a photo (``photos.upscale_picture``,
``photos.derain``), any model the photo verbs take. The result has the clip's frames with their own timestamps (so
the same frame count and rate, a variable rate included), the audio and subtitle streams copied packet for packet
(never re-encoded), the container's and the streams' metadata (``metadata=`` as for photos: the location can be
dropped), the display rotation, and the colour description (matrix, range, primaries, transfer), with which the
frames are converted to RGB and back.

Video is encoded with H.264 in MP4 by default (``CODECS``; ``crf``: the constant-quality level, lower is better and
larger) as 8-bit 4:2:0, which needs even sides: an upscaled size is rounded to the nearest even numbers, and a clip
with an odd side is derained to the same size in 4:4:4.

Resumable: frames are encoded in segments of ``SEGMENT_SECONDS`` (each starts on a key frame), every finished
segment kept in a work folder beside the result (``<result>.parts``) with the settings it was made with. A stopped
run started again with the same settings continues after its last finished segment; the segments are then joined
with the source's other streams into the result, written whole, and the work folder removed. The result is the
same as an uninterrupted run's, byte for byte. Other settings start afresh.

Flicker: the mean absolute change from one frame to the next (levels of 255), of the result and of the reference,
the input resized to the result's size with bicubic; their ratio is in the result (1: no more flicker than the
input). Both verbs can use the time axis (``temporal``, ``temporal_fuse``): upscaling steadies the detail a network
draws a little differently in each frame, and deraining takes away the rain a frame kept, since rain moves from frame
to frame and the scene does not.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from . import photos
from .imaging import Picture, check_metadata
from .photo_models import ImageModel

__all__ = ["VIDEO_SUFFIXES", "CODECS", "DEFAULT_CRF", "CONTAINERS", "MAX_TEMPORAL", "Clip", "VideoResult", "probe",
           "temporal_fuse", "upscale_video", "derain_video", "is_video", "unheld"]

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
# our codec names -> FFmpeg's encoders; each one's default constant-quality level and its range
CODECS = {"h264": "libx264", "h265": "libx265", "vp9": "libvpx-vp9", "av1": "libsvtav1"}
DEFAULT_CRF = {"h264": 18, "h265": 20, "vp9": 24, "av1": 28}
CRF_RANGE = {"h264": (0, 51), "h265": (0, 51), "vp9": (0, 63), "av1": (0, 63)}
CONTAINERS = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "webm": "webm"}
SEGMENT_SECONDS = 2  # the most work a stopped run loses; each segment starts on a key frame
MAX_FRAME_PIXELS = 3840 * 2160  # an input frame up to 4K
MAX_RESULT_PIXELS = 7680 * 4320  # a result frame up to 8K
MAX_TEMPORAL = 4  # neighbouring frames on each side
TEMPORAL_MODES = ("rain", "steady")
STEADY_LEVELS = 10  # levels of 255: how far an aligned neighbour's pixel may differ and still be averaged in
_GPS_KEYS = ("location", "com.apple.quicktime.location")  # metadata keys (and their prefixes) that hold a place
_SIGNATURES = {b"ftyp": "an MP4/MOV", b"\x1a\x45\xdf\xa3": "a Matroska/WebM", b"RIFF": "an AVI"}


def is_video(path) -> bool:
    """Whether ``path`` names a video by its suffix (what the command line and folder walks send to the video verbs)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


@dataclass(frozen=True)
class Clip:
    """What ``probe`` read of a video file: its first video stream and the streams copied beside it."""

    path: Path
    width: int
    height: int
    frames: int  # as the container declares them (or counted)
    rate: Fraction  # the average frame rate
    duration: float  # seconds
    rotation: int  # display rotation, degrees counter-clockwise
    codec: str
    bit_depth: int
    others: tuple[str, ...]  # the streams copied: "audio aac", "subtitle mov_text", ...
    skipped: tuple[str, ...] = ()  # the streams that are not: further video streams (cover art), data

    def describe(self) -> str:
        extra = f", {', '.join(self.others)}" if self.others else ", no sound"
        return f"{self.width}x{self.height} {self.codec}, {self.frames} frames at {float(self.rate):.3g} fps ({self.duration:.1f} s){extra}"


@dataclass(frozen=True)
class VideoResult:
    """What ``upscale_video`` / ``derain_video`` wrote: ``resumed`` frames were found finished in the work folder;
    ``flicker`` and ``reference_flicker`` (levels of 255, over the frames made in this run) and ``notes`` (what the
    format changed, e.g. 10 bits made 8)."""

    path: Path
    width: int
    height: int
    frames: int
    rate: Fraction
    copied: tuple[str, ...]
    resumed: int = 0
    flicker: float = float("nan")
    reference_flicker: float = float("nan")
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def flicker_ratio(self) -> float:
        return self.flicker / self.reference_flicker if self.reference_flicker > 0 else float("nan")

    def summary(self) -> str:
        parts = [f"{self.width}x{self.height}, {self.frames} frames at {float(self.rate):.3g} fps"]
        if self.copied:
            parts.append("copied: " + ", ".join(self.copied))
        if self.resumed:
            parts.append(f"{self.resumed} frames resumed from the work folder")
        if not math.isnan(self.flicker_ratio):
            parts.append(f"flicker {self.flicker:.2f} levels/frame ({self.flicker_ratio:.2f}x the input's)")
        return "; ".join(parts + list(self.notes))


# --- reading -------------------------------------------------------------------------------------


def _av():
    import av

    return av


def _open(path: Path):
    """The file opened by FFmpeg, or a ValueError that says what it is."""
    av = _av()
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        container = av.open(str(path))
    except av.FFmpegError as err:
        with open(path, "rb") as file:
            head = file.read(12)
        kind = next((name for signature, name in _SIGNATURES.items() if signature in head[:12]), None)
        if kind is not None:
            raise ValueError(f"truncated or corrupt: it starts as {kind} file, but FFmpeg cannot read it "
                             f"({err.strerror})") from None
        raise ValueError(f"not a video (FFmpeg cannot read it: {err.strerror})") from None
    if container.format.name == "image2" or container.format.name.endswith("_pipe"):
        container.close()
        raise ValueError("a still image, not a video: upscale or derain it as a photo")
    if not container.streams.video:
        others = ", ".join(_name(s) for s in container.streams) or "none"
        container.close()
        raise ValueError(f"no video stream (its streams: {others})")
    return container


def _others(container) -> list:
    """The streams copied beside the video: audio and subtitles (further video streams, such as cover art, and data
    streams, such as a phone's timecode, are not: ``Clip.skipped``)."""
    return [s for s in container.streams if s.type in ("audio", "subtitle")]


def _bit_depth(stream) -> int:
    format = stream.codec_context.format
    return max((component.bits for component in format.components), default=8) if format is not None else 8


def probe(path, *, max_pixels: int = MAX_FRAME_PIXELS) -> Clip:
    """Read what a video file holds, and refuse what cannot be made from it with one clear line: a file that is not a
    video or is truncated, no video stream, a frame over ``max_pixels``."""
    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > max_pixels:
            raise ValueError(f"its frames are {width}x{height} = {width * height / 1e6:.1f} megapixels; the "
                             f"limit is {max_pixels / 1e6:.1f} (4K) — scale the clip down first")
        frames = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
        rate = stream.average_rate or stream.guessed_rate
        if not frames or not rate:
            raise ValueError("its video stream has no frames")
        if stream.duration is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = frames / float(rate)
        rotation = 0
        for frame in container.decode(stream):  # the display matrix comes with the frames
            rotation = int(frame.rotation)
            break
        copied = _others(container)
        skipped = [s for s in container.streams if s is not stream and s not in copied]
        return Clip(path, width, height, frames, Fraction(rate), duration, rotation, stream.codec_context.name,
                    _bit_depth(stream), tuple(_name(s) for s in copied), tuple(_name(s) for s in skipped))


def _name(stream) -> str:
    return f"{stream.type} {stream.codec_context.name if stream.codec_context is not None else stream.codec_tag}"


def _rgb(frame) -> np.ndarray:
    """(H, W, 3) uint8: the frame in RGB, converted with its own matrix and range."""
    return frame.to_ndarray(format="rgb24", src_color_range=frame.color_range or None)


# --- measuring -----------------------------------------------------------------------------------


def _shift(reference: np.ndarray, moved: np.ndarray) -> tuple[int, int]:
    """The whole-pixel (rows, cols) translation that aligns ``moved`` with ``reference`` (phase correlation)."""
    from skimage.registration import phase_cross_correlation

    shift, _, _ = phase_cross_correlation(reference.mean(axis=2), moved.mean(axis=2), normalization=None)
    return int(round(shift[0])), int(round(shift[1]))


def _translated(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``image`` moved by (rows, cols), the uncovered pixels NaN."""
    out = np.full(image.shape, np.nan, dtype=np.float32)
    height, width = image.shape[:2]
    if abs(rows) >= height or abs(cols) >= width:
        return out
    src = image[max(-rows, 0): height - max(rows, 0), max(-cols, 0): width - max(cols, 0)]
    out[max(rows, 0): height - max(-rows, 0), max(cols, 0): width - max(-cols, 0)] = src
    return out


def temporal_fuse(frames: list[np.ndarray], centre: int, mode: str = "rain") -> np.ndarray:
    """Frame ``centre`` of restored ``frames`` ((H, W, 3) float32 in [0, 1]) made steadier with its neighbours, each
    aligned to it first (a whole-pixel translation found by phase correlation: a still or panning camera).

    ``mode="rain"`` (derained frames): the per-pixel median of the aligned frames, and of that and the frame, the
    darker. Rain brightens what it falls on and moves from frame to frame, so a streak left in one frame is brighter
    than the median; the scene under it is not.
    ``mode="steady"`` (upscaled frames): each aligned neighbour's pixel weighs ``exp(-(d / STEADY_LEVELS)^2)`` in a
    mean with the frame's own, ``d`` their difference in levels of 255: detail the network drew a little differently
    in each frame is averaged, and what moved on its own (a large difference) keeps the frame's own pixel."""
    if mode not in TEMPORAL_MODES:
        raise ValueError(f"mode must be one of {', '.join(TEMPORAL_MODES)}, got {mode!r}")
    reference = frames[centre]
    aligned = [_translated(frame, *_shift(reference, frame)) for k, frame in enumerate(frames) if k != centre]
    if mode == "rain":
        return np.minimum(reference, np.nanmedian(np.stack([reference, *aligned]), axis=0))
    total, weights = reference.copy(), np.ones(reference.shape[:2] + (1,), np.float32)
    for neighbour in aligned:
        difference = np.abs(neighbour - reference).mean(axis=2, keepdims=True) * 255
        weight = np.nan_to_num(np.exp(-((difference / STEADY_LEVELS) ** 2)), nan=0.0)  # uncovered pixels: no weight
        total += weight * np.nan_to_num(neighbour)
        weights += weight
    return total / weights


# --- writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Output:
    """How the result's video is encoded."""

    codec: str
    crf: int
    width: int
    height: int
    pix_fmt: str
    container: str  # our name: mp4, mov, mkv, webm
    colour: dict  # colorspace, color_range, color_primaries, color_trc of the source
    time_base: Fraction
    rate: Fraction

    def add_stream(self, container):
        stream = container.add_stream(CODECS[self.codec], rate=self.rate)
        stream.width, stream.height, stream.pix_fmt = self.width, self.height, self.pix_fmt
        context = stream.codec_context
        stream.time_base = context.time_base = self.time_base  # frames keep the source's timestamps
        for name, value in self.colour.items():
            setattr(context, name, value)
        crf = str(self.crf)
        context.options = {
            "h264": {"crf": crf, "preset": "medium", "bf": "0"},  # no B-frames: segments join with rising timestamps
            "h265": {"crf": crf, "preset": "medium", "x265-params": "bframes=0:log-level=error"},
            "vp9": {"crf": crf, "b": "0", "row-mt": "1"},
            "av1": {"crf": crf, "preset": "8"},
        }[self.codec]
        return stream

    def frame(self, rgb: np.ndarray, pts: int):
        """An (H, W, 3) uint8 RGB image as an encoder frame, converted with the source's matrix and range."""
        frame = _av().VideoFrame.from_ndarray(rgb, format="rgb24")
        frame = frame.reformat(format=self.pix_fmt, dst_colorspace=self.colour.get("colorspace") or None,
                               dst_color_range=self.colour.get("color_range") or None)
        for name, value in self.colour.items():
            setattr(frame, name, value)
        frame.pts = pts
        return frame


def _check_codec(codec: str, crf, container: str) -> int:
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
    if CODECS[codec] not in _av().codecs_available:
        raise ValueError(f"this FFmpeg has no {CODECS[codec]} encoder for {codec}")
    if container not in CONTAINERS:
        raise ValueError(f"format must be one of {', '.join(CONTAINERS)}, got {container!r}")
    if container == "webm" and codec not in ("vp9", "av1"):
        raise ValueError(f"webm holds vp9 or av1 video, not {codec}")
    low, high = CRF_RANGE[codec]
    crf = DEFAULT_CRF[codec] if crf is None else crf
    if isinstance(crf, bool) or not isinstance(crf, (int, np.integer)) or not low <= crf <= high:
        raise ValueError(f"crf for {codec} must be a whole number in {low}..{high} (lower: better and larger), got {crf!r}")
    return int(crf)


def _metadata(tags: dict, choice: str) -> dict:
    if choice == "drop":
        return {}
    if choice == "drop-gps":
        return {k: v for k, v in tags.items() if not k.lower().startswith(_GPS_KEYS)}
    return dict(tags)


def _work_folder(out: Path, job: dict) -> Path:
    """The work folder for ``out`` holding the finished segments of ``job`` (made afresh when it holds another's)."""
    work = out.with_name(out.name + ".parts")
    stamp = work / "job.json"
    if work.is_dir() and stamp.is_file() and json.loads(stamp.read_text()) == job:
        return work
    if work.is_dir():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    stamp.write_text(json.dumps(job, indent=1))
    return work


def _segment_path(work: Path, index: int, container: str) -> Path:
    return work / f"segment-{index:05d}.{container}"


class _Segments:
    """Writes frames into segment files of ``length`` frames, each written whole (a temporary name, then renamed)."""

    def __init__(self, work: Path, output: _Output, length: int):
        self.work, self.output, self.length = work, output, length
        self.container = self.stream = self.index = None

    def done(self, index: int) -> bool:
        return _segment_path(self.work, index, self.output.container).is_file()

    def write(self, number: int, rgb: np.ndarray, pts: int) -> None:
        index = number // self.length
        if index != self.index:
            self.close()
            self.index = index
            self.partial = self.work / f"writing-{index:05d}.{self.output.container}"
            self.container = _av().open(str(self.partial), "w", format=CONTAINERS[self.output.container])
            self.stream = self.output.add_stream(self.container)
        for packet in self.stream.encode(self.output.frame(rgb, pts)):
            self.container.mux(packet)

    def close(self) -> None:
        if self.container is None:
            return
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        os.replace(self.partial, _segment_path(self.work, self.index, self.output.container))
        self.container = self.stream = self.index = None

    def abandon(self) -> None:
        if self.container is not None:
            self.container.close()
            self.partial.unlink(missing_ok=True)
            self.container = None


def _join(clip: Path, work: Path, output: _Output, target: Path, *, rotation: int, metadata: str) -> None:
    """The finished segments' video and the source's audio and subtitles, packet for packet, into ``target``
    (written whole: a temporary name, then renamed)."""
    av = _av()
    segments = sorted(work.glob(f"segment-*.{output.container}"))
    partial = target.with_name(f".{target.name}.writing")
    try:
        _write_joined(av, clip, segments, partial, output, rotation, metadata)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)


def _write_joined(av, clip: Path, segments: list[Path], partial: Path, output: _Output, rotation: int, metadata: str) -> None:
    order = itertools.count()  # packets at the same time keep their order
    with av.open(str(clip)) as source, av.open(str(partial), "w", format=CONTAINERS[output.container]) as result:
        result.metadata.update(_metadata(dict(source.metadata), metadata))
        opened = [av.open(str(path)) for path in segments]
        try:
            video = result.add_stream_from_template(opened[0].streams.video[0])
            video.metadata.update(_metadata(dict(source.streams.video[0].metadata), metadata))
            if rotation:
                video.set_display_rotation(rotation)
            copies = {}
            for stream in _others(source):
                copies[stream.index] = result.add_stream_from_template(stream)
                copies[stream.index].metadata.update(_metadata(dict(stream.metadata), metadata))
                copies[stream.index].disposition = stream.disposition

            def timed(packets):
                for packet in packets:
                    if packet.dts is None and packet.pts is None:
                        continue  # a demuxer's end-of-stream marker
                    out_stream = video if packet.stream.type == "video" else copies[packet.stream.index]
                    when = float((packet.dts if packet.dts is not None else packet.pts) * packet.time_base)
                    packet.stream = out_stream
                    yield when, next(order), packet

            def video_packets():
                for segment in opened:
                    yield from segment.demux(segment.streams.video[0])

            streams = [timed(video_packets())]
            if copies:
                streams.append(timed(source.demux(*[s for s in source.streams if s.index in copies])))
            for _, _, packet in heapq.merge(*streams):
                result.mux(packet)
        finally:
            for segment in opened:
                segment.close()


def unheld(path, container: str) -> list[str]:
    """The streams of the clip at ``path`` that ``container`` cannot hold ("subtitle subrip" in mp4); mkv holds any."""
    av = _av()
    with av.open(str(path)) as source:
        others = _others(source)
        if not others:
            return []
        with av.open(os.devnull, "w", format=CONTAINERS[container]) as probe_out:
            supported = probe_out.supported_codecs
        return [_name(s) for s in others if s.codec_context.name not in supported]


def _copyable(path: Path, container: str) -> None:
    """Refuse, before any work, a source stream the chosen container cannot hold (nothing is dropped)."""
    refused = unheld(path, container)
    if refused:
        raise ValueError(f"the clip has {', '.join(refused)}, which {container} cannot hold; choose the mkv container "
                         "(--container mkv), which holds any stream, so that nothing is dropped")


# --- the verbs -----------------------------------------------------------------------------------


def _frames(container, stream, declared: int) -> Iterator:
    """The decoded frames; a ValueError for a file that is cut short or corrupt."""
    av = _av()
    count = 0
    try:
        for frame in container.decode(stream):
            count += 1
            yield frame
    except av.FFmpegError as err:
        raise ValueError(f"truncated or corrupt after frame {count} of {declared} ({err.strerror})") from None
    if count < 0.95 * declared:
        raise ValueError(f"truncated: {count} of its {declared} frames could be decoded")


def _run(
    source: Path,
    out: Path,
    clip: Clip,
    *,
    restore: Callable[[np.ndarray], np.ndarray],
    size: tuple[int, int],
    settings: dict,
    codec: str,
    crf: int | None,
    format: str | None,
    metadata: str,
    temporal: int = 0,
    mode: str = "rain",
    progress: Callable[[int, int], None] | None = None,
) -> VideoResult:
    """``restore`` each frame ((H, W, 3) uint8 -> (h, w, 3) float32 in [0, 1]) of ``clip`` into ``out``, resumably."""
    av = _av()
    container = format or (out.suffix.lower().lstrip(".") if out.suffix.lower().lstrip(".") in CONTAINERS else "mp4")
    crf = _check_codec(codec, crf, container)
    _copyable(source, container)
    width, height = size
    even = width % 2 == 0 and height % 2 == 0
    pix_fmt = "yuv420p" if even else "yuv444p"
    if not even and codec != "h264":
        raise ValueError(f"a {width}x{height} result has an odd side: {codec} needs even sides (h264 takes odd ones in 4:4:4)")
    notes = [] if clip.bit_depth <= 8 else [f"{clip.bit_depth}-bit frames written as 8-bit"]
    if clip.skipped:
        notes.append(f"not copied: {', '.join(clip.skipped)}")
    if not even:
        notes.append("an odd side: written in 4:4:4")
    stat = source.stat()
    job = {"source": [source.name, stat.st_size, stat.st_mtime_ns], "settings": settings, "codec": codec, "crf": crf,
           "format": container, "temporal": [temporal, mode], "size": [width, height], "metadata": metadata}
    work = _work_folder(out, job)
    decoder = av.open(str(source))
    stream = decoder.streams.video[0]
    stream.thread_type = "AUTO"
    context = stream.codec_context
    colour = {name: int(getattr(context, name)) for name in ("colorspace", "color_range", "color_primaries", "color_trc")}
    output = _Output(codec, crf, width, height, pix_fmt, container, colour, stream.time_base, clip.rate)
    segments = _Segments(work, output, max(1, round(float(clip.rate) * SEGMENT_SECONDS)))
    window: dict[int, list] = {}  # frame number -> [rgb uint8, pts, restored or None]
    made, resumed, changes, reference_changes = 0, 0, [], []
    previous = None

    def restored(number: int) -> np.ndarray:
        entry = window[number]
        if entry[2] is None:
            entry[2] = restore(entry[0])
        return entry[2]

    def emit(number: int, last: int | None = None) -> None:
        """Frame ``number`` (``last``: the clip's last frame, once known) into its segment, or counted as resumed."""
        nonlocal made, resumed, previous
        if segments.done(number // segments.length):
            resumed += 1
            previous = None
        else:
            if temporal:
                end = number + temporal if last is None else min(last, number + temporal)
                neighbours = range(max(0, number - temporal), end + 1)
                result = temporal_fuse([restored(k) for k in neighbours], list(neighbours).index(number), mode)
            else:
                result = restored(number)
            rgb = window[number][0]
            reference = rgb.astype(np.float32) / 255
            if rgb.shape[:2] != (height, width):  # upscaled: against the input resized with bicubic
                planes = photos.resize(torch.from_numpy(reference).permute(2, 0, 1)[None], (width, height))
                reference = planes[0].permute(1, 2, 0).clamp(0, 1).numpy()
            if previous is not None and number % segments.length:
                changes.append(np.abs(result - previous[0]).mean())
                reference_changes.append(np.abs(reference - previous[1]).mean())
            previous = (result, reference)
            segments.write(number, (result * 255).round().astype(np.uint8), window[number][1])
            made += 1
        if progress is not None:
            progress(made + resumed, clip.frames)
        for old in [k for k in window if k < number + 1 - temporal]:
            del window[old]

    try:
        number = -1
        for number, frame in enumerate(_frames(decoder, stream, clip.frames)):
            window[number] = [_rgb(frame), frame.pts if frame.pts is not None else number, None]
            if number - temporal >= 0:
                emit(number - temporal)
        for pending in range(max(0, number - temporal + 1), number + 1):
            emit(pending, last=number)
        segments.close()
    except BaseException as err:
        segments.abandon()
        if isinstance(err, ValueError):  # a broken file: nothing to resume
            shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        decoder.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    _join(source, work, output, out, rotation=clip.rotation, metadata=metadata)
    shutil.rmtree(work)
    return VideoResult(out, width, height, number + 1, clip.rate, clip.others, resumed,
                       float(np.mean(changes) * 255) if changes else float("nan"),
                       float(np.mean(reference_changes) * 255) if reference_changes else float("nan"), tuple(notes))


def _check_temporal(temporal) -> None:
    if isinstance(temporal, bool) or not isinstance(temporal, (int, np.integer)) or not 0 <= temporal <= MAX_TEMPORAL:
        raise ValueError(f"temporal must be a whole number of frames in 0..{MAX_TEMPORAL}, got {temporal!r}")


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def upscale_video(
    source,
    out,
    *,
    model: str | ImageModel = photos.SR_MODELS[0],
    scale: float | None = None,
    width: int | None = None,
    height: int | None = None,
    denoise: float | None = None,
    mild: str | None = None,
    temporal: int = 1,
    tile: int = photos.DEFAULT_TILE,
    codec: str = "h264",
    crf: int | None = None,
    format: str | None = None,
    metadata: str = "keep",
    device="cpu",
    progress: Callable[[int, int], None] | None = None,
    max_pixels: int = MAX_FRAME_PIXELS,
) -> VideoResult:
    """Upscale every frame of the video file ``source`` as ``photos.upscale`` does a photo (the same model, options
    and tiling) and write the clip to ``out``; see the module's docstring for what is kept and how a stopped run
    resumes. The result's sides are the photo verb's, rounded to the nearest even numbers.

    ``temporal`` (0..MAX_TEMPORAL): steady each frame with that many upscaled frames on each side (``temporal_fuse``,
    "steady": detail the network draws a little differently from frame to frame is averaged where the aligned
    frames agree); 0: each frame exactly as the photo verb gives it.
    ``codec``: one of ``CODECS`` (h264 by default); ``crf``: its quality level (``DEFAULT_CRF``); ``format``: the
    container (``CONTAINERS``; default: ``out``'s suffix, or mp4). ``progress(done, total)`` after every frame."""
    source, out = Path(source), Path(out)
    check_metadata(metadata)
    _check_temporal(temporal)
    photos.check_size(scale, width, height)
    clip = probe(source, max_pixels=max_pixels)
    network = model if isinstance(model, ImageModel) else photos.load_upscaler(model, denoise=denoise, mild=mild, device=device)
    upright = (clip.height, clip.width) if clip.rotation % 180 else (clip.width, clip.height)  # sizes are asked upright
    factor, _ = photos.target_size(upright, scale=scale, width=width, height=height)
    size = (_even(clip.width * factor), _even(clip.height * factor))
    if size[0] * size[1] > MAX_RESULT_PIXELS:
        raise ValueError(f"the result's frames would be {size[0]}x{size[1]}; the limit is 8K (7680x4320) — choose a smaller "
                         "scale")

    def restore(rgb: np.ndarray) -> np.ndarray:
        picture = Picture(torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255)
        result = photos.upscale_picture(picture, network, size, tile=tile)
        return result.color[0].permute(1, 2, 0).numpy()

    settings = {"verb": "upscale", "model": network.name, "denoise": network.denoise, "tile": tile}
    return _run(source, out, clip, restore=restore, size=size, settings=settings, codec=codec, crf=crf, format=format,
                metadata=metadata, temporal=int(temporal), mode="steady", progress=progress)


def derain_video(
    source,
    out,
    *,
    model: str | ImageModel = photos.DERAIN_MODELS[0],
    strength: float = 1.0,
    temporal: int = 0,
    tile: int | None = None,
    codec: str = "h264",
    crf: int | None = None,
    format: str | None = None,
    metadata: str = "keep",
    device="cpu",
    progress: Callable[[int, int], None] | None = None,
    max_pixels: int = MAX_FRAME_PIXELS,
) -> VideoResult:
    """Derain every frame of the video file ``source`` as ``photos.derain`` does a photo (the same model, strength and
    tiling) and write the clip to ``out`` at its own size; see the module's docstring.

    ``temporal`` (0..MAX_TEMPORAL): also use that many frames on each side of every frame (``temporal_fuse``: what
    rain a frame keeps is taken away where its aligned neighbours are darker); 0: frame by frame."""
    source, out = Path(source), Path(out)
    check_metadata(metadata)
    _check_temporal(temporal)
    photos.check_derain_options(strength, tile)
    clip = probe(source, max_pixels=max_pixels)
    network = model if isinstance(model, ImageModel) else photos.load_derainer(model, device=device)

    def restore(rgb: np.ndarray) -> np.ndarray:
        return photos.derain(rgb, model=network, strength=strength, tile=tile).color[0].permute(1, 2, 0).numpy()

    settings = {"verb": "derain", "model": network.name, "strength": strength, "tile": tile}
    return _run(source, out, clip, restore=restore, size=(clip.width, clip.height), settings=settings, codec=codec,
                crf=crf, format=format, metadata=metadata, temporal=int(temporal), progress=progress)
