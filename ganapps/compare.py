"""Models side by side on one photo: the same photo through 2-4 upscalers or derainers, each result with its time, and
a sheet of them at the same crop and zoom (which upscaler keeps this face, which derainer leaves this sky alone)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from . import photos
from .imaging import Picture, read_image

__all__ = ["MIN_MODELS", "MAX_MODELS", "Compared", "compare_upscale", "compare_derain", "sheet", "label_of", "write"]

MIN_MODELS, MAX_MODELS = 2, 4
SHEET_PANEL = 384  # pixels a side of each panel of the sheet: the same crop of every result, at the same zoom
LABEL_HEIGHT = 36


@dataclass
class Compared:
    """One model's result: its ``name`` as asked, the ``picture``, the ``seconds`` it took (loading included), and what
    it was asked beyond the photo (``setting``, e.g. "denoise 0.5" or "strength 1"; empty when nothing)."""

    name: str
    picture: Picture
    seconds: float
    setting: str = ""


def _check_models(models) -> list[str]:
    if isinstance(models, str) or not isinstance(models, (list, tuple)):
        raise ValueError(f"give the models to compare as a list, got {models!r}")
    models = [m for m in models if m]
    if not MIN_MODELS <= len(models) <= MAX_MODELS:
        raise ValueError(f"compare {MIN_MODELS} to {MAX_MODELS} models, got {len(models)}")
    if len(set(models)) != len(models):
        raise ValueError(f"each model once: {', '.join(models)}")
    return models


def compare_upscale(image, models, *, scale: float | None = None, width: int | None = None, height: int | None = None,
                    tile: int = photos.DEFAULT_TILE, device="cpu", metadata: str = "keep") -> list[Compared]:
    """``photos.upscale`` of one photo by each of ``models`` (2-4 names, as ``upscale`` takes them), all to the same size
    (``scale``, or ``width``/``height``); each at its own default denoise strength."""
    models = _check_models(models)
    photos.check_size(scale, width, height)
    picture = read_image(image, max_pixels=photos.MAX_UPSCALE_PIXELS)  # decoded once for all
    found = []
    for name in models:
        started = time.perf_counter()
        network = photos.load_upscaler(name, device=device)
        result = photos.upscale(picture, model=network, scale=scale, width=width, height=height, tile=tile, device=device,
                                metadata=metadata)
        setting = "" if network.denoise is None else f"denoise {network.denoise:g}"
        found.append(Compared(name, result, time.perf_counter() - started, setting))
    return found


def compare_derain(image, models, *, strength: float = 1.0, tile: int | None = None, device="cpu",
                   metadata: str = "keep") -> list[Compared]:
    """``photos.derain`` of one photo by each of ``models`` (2-4 names, as ``derain`` takes them) at ``strength``."""
    models = _check_models(models)
    picture = read_image(image, max_pixels=photos.MAX_DERAIN_PIXELS)
    found = []
    for name in models:
        started = time.perf_counter()
        result = photos.derain(picture, model=photos.load_derainer(name, device=device), strength=strength, tile=tile,
                               device=device, metadata=metadata)
        found.append(Compared(name, result, time.perf_counter() - started, f"strength {strength:g}"))
    return found


def label_of(name: str) -> str:
    """A model's name as a file name part: a checkpoint file's or Hub file's stem, other characters made safe."""
    stem = Path(name.rstrip("/")).stem if "/" in name or "." in name else name
    return re.sub(r"[^\w.-]+", "_", stem) or "model"


def sheet(results: list[Compared], *, panel: int = SHEET_PANEL, before: Picture | None = None) -> Image.Image:
    """The results side by side: the same centre crop of each (``panel`` pixels a side of the result, or all of it when
    smaller, then enlarged whole times with nearest so that a small result still fills the panel), each labelled with
    its model, setting and time; ``before`` (the photo, resized to the results' size) first, when given."""
    pictures = ([("photo", before, "")] if before is not None else []) + [
        (f"{label_of(r.name)}", r.picture, ", ".join(filter(None, [r.setting, f"{r.seconds:.1f} s"]))) for r in results]
    width, height = results[0].picture.size
    side_w, side_h = min(panel, width), min(panel, height)
    left, top = (width - side_w) // 2, (height - side_h) // 2
    zoom = max(1, panel // max(side_w, side_h))  # every panel the same zoom: pixels stay pixels
    shown_w, shown_h = side_w * zoom, side_h * zoom
    canvas = Image.new("RGB", (len(pictures) * (shown_w + 8) + 8, shown_h + LABEL_HEIGHT + 16), "white")
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    for index, (title, picture, detail) in enumerate(pictures):
        image = picture.to_pil()
        if image.size != (width, height):  # the photo before: nearest, so its pixels show as they are
            image = image.resize((width, height), Image.NEAREST)
        crop = image.convert("RGBA").crop((left, top, left + side_w, top + side_h)).resize((shown_w, shown_h), Image.NEAREST)
        x = 8 + index * (shown_w + 8)
        backdrop = Image.new("RGBA", crop.size, (255, 255, 255, 255))
        canvas.paste(Image.alpha_composite(backdrop, crop).convert("RGB"), (x, 8))
        draw.text((x, shown_h + 12), title, fill="black", font=font)
        draw.text((x, shown_h + 12 + LABEL_HEIGHT // 2), detail, fill=(80, 80, 80), font=font)
    return canvas


def write(results: list[Compared], out, stem: str, *, format: str = "png", quality: int | None = None,
          before: Picture | None = None) -> tuple[list[Path], Path]:
    """Each result as ``out/<stem>-<model>.<ext>`` and the sheet as ``out/<stem>-compare.png``: (results' paths, sheet)."""
    from .imaging import OUTPUT_FORMATS

    out, paths, labels = Path(out), [], []
    for result in results:
        label = label_of(result.name)
        if label in labels:  # two files of one name from different folders
            label = f"{label}-{len(labels) + 1}"
        labels.append(label)
        paths.append(result.picture.save(out / f"{stem}-{label}{OUTPUT_FORMATS[format]}", format=format, quality=quality))
    target = out / f"{stem}-compare.png"
    sheet(results, before=before).save(target)
    return paths, target
