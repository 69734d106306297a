"""The one place that converts between library tensors and images (PIL, numpy, files).

Digit tensors are float (B, 1, H, W) in [-1, 1]; photos are ``Picture``s, float in [0, 1].
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def load_rgb(path) -> np.ndarray:
    """A photo file as uint8 (H, W, 3) RGB, EXIF orientation applied (for training data)."""
    from PIL import ImageOps

    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) in [-1, 1] -> (B, H, W) uint8 for one channel, (B, H, W, 3) for three."""
    array = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return array[:, 0].numpy() if array.shape[1] == 1 else array.permute(0, 2, 3, 1).numpy()


def to_pil(images: torch.Tensor, *, scale: int = 1) -> list[Image.Image]:
    """One PIL image (grayscale or RGB) per tensor image, optionally enlarged ``scale`` times (nearest)."""
    out = []
    for array in to_uint8(images):
        image = Image.fromarray(array)
        if scale != 1:
            image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
        out.append(image)
    return out


def grid(images: torch.Tensor, *, nrow: int = 8, padding: int = 2, scale: int = 1) -> Image.Image:
    """Tile (B, C, H, W) in [-1, 1] into one image (grayscale for C=1) with ``nrow`` images per row."""
    from torchvision.utils import make_grid

    tiled = make_grid(images.detach().float().cpu(), nrow=nrow, padding=padding, pad_value=-1.0)  # (3, H', W')
    channels = 1 if images.shape[1] == 1 else 3
    return to_pil(tiled[:channels].unsqueeze(0), scale=scale)[0]


def save_grid(images: torch.Tensor, path: str | Path, *, nrow: int = 8) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid(images, nrow=nrow).save(path)
    return path


# --- photos in and out (super-resolution, deraining) -------------------------------------------

RESIZE_FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}


def resize(image: np.ndarray, size: tuple[int, int], method: str = "bicubic") -> np.ndarray:
    """(H, W) or (H, W, C) resized to ``size`` = (width, height) with Pillow's ``method``, channel by channel.

    uint8 stays uint8, in Pillow's 8-bit arithmetic (the SR benchmarks' bicubic downscale); float stays float
    (float32, no rounding or clipping). Pillow's filters widen when shrinking (antialiasing), as in the tools that
    make most downscaled photos and in the benchmark protocol; OpenCV's and torch's do not. The networks' own
    upsampling (``F.interpolate`` inside a model) is part of what they compute and is not this.
    """
    if method not in RESIZE_FILTERS:
        raise ValueError(f"unknown resize method {method!r}; available: {', '.join(RESIZE_FILTERS)}")
    if image.dtype != np.uint8 and not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"resize takes uint8 or float arrays, got {image.dtype}")
    planes = image[..., None] if image.ndim == 2 else image
    resized = [np.asarray(Image.fromarray(planes[..., c]).resize(size, RESIZE_FILTERS[method])) for c in range(planes.shape[2])]
    return resized[0] if image.ndim == 2 else np.stack(resized, axis=-1)


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """uint8 (H, W, 3) RGB saved as a JPEG of ``quality`` (1..100) and decoded: Pillow's libjpeg, 4:2:0 chroma, as
    phones and websites save. The SR benchmarks' web photos and the training degradations (``degrade.jpeg``) both
    come through here."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality!r}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(buffer).convert("RGB"))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# EXIF orientation -> the numpy operation that makes the pixels upright (as PIL's exif_transpose).
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


@dataclass
class Picture:
    """A photo as the library works on it, and what it takes to write the result the same way.

    ``color`` is float (1, C, H, W) in [0, 1] with C = 3 (RGB) or 1 (grayscale); ``alpha`` is
    (1, 1, H, W) or None; ``bit_depth`` is 8 or 16. Orientation is already upright (EXIF applied).
    """

    color: torch.Tensor
    alpha: torch.Tensor | None = None
    bit_depth: int = 8

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.color.shape[-1], self.color.shape[-2]

    @property
    def grayscale(self) -> bool:
        return self.color.shape[1] == 1

    def rgb(self) -> torch.Tensor:
        """Colour as (1, 3, H, W) (grayscale repeated), for networks trained on RGB."""
        return self.color.expand(-1, 3, -1, -1) if self.grayscale else self.color

    def to_array(self) -> np.ndarray:
        """(H, W), (H, W, 2), (H, W, 3) or (H, W, 4) as uint8 or uint16, channels gray/RGB then alpha."""
        planes = self.color if self.alpha is None else torch.cat([self.color, self.alpha], dim=1)
        top = 65535 if self.bit_depth == 16 else 255
        array = (planes[0].clamp(0, 1) * top).round_().permute(1, 2, 0).numpy()
        array = array.astype(np.uint16 if self.bit_depth == 16 else np.uint8)
        return array[..., 0] if array.shape[2] == 1 else array

    def to_pil(self) -> Image.Image:
        """An 8-bit PIL image for display (L, LA, RGB or RGBA)."""
        eight = self if self.bit_depth == 8 else Picture(self.color, self.alpha, 8)
        return Image.fromarray(eight.to_array())

    def save(self, path) -> Path:
        """Write a PNG that keeps the bit depth, the alpha channel and grayscale."""
        import cv2

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        array = self.to_array()
        if array.ndim == 3 and array.shape[2] in (3, 4):
            array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR if array.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
        elif array.ndim == 3:  # gray + alpha: OpenCV has no such PNG, PIL does for 8 bit
            if self.bit_depth == 16:
                raise ValueError("16-bit grayscale with alpha cannot be written as PNG here; drop the alpha first")
            Image.fromarray(array).save(path)  # (H, W, 2) uint8 -> LA
            return path
        if not cv2.imwrite(str(path), array):
            raise ValueError(f"cannot write {path}")
        return path


def read_image(source, *, max_pixels: int) -> Picture:
    """Decode a photo for restoration, or raise a ValueError that says what is wrong with it.

    ``source`` is a path, bytes, a PIL image, a uint8/uint16 numpy array or a ``Picture`` already
    decoded (returned as it is). Handles grayscale, RGBA and LA (alpha kept apart), palette images
    (with or without transparency), CMYK and other colour spaces (converted to RGB), 1-bit images,
    16-bit PNGs (kept 16-bit) and EXIF orientation. Images over ``max_pixels`` are refused before
    they are decoded.
    """
    if isinstance(source, Picture):
        _check_pixels(*source.size, max_pixels)
        return source
    if isinstance(source, np.ndarray):
        return _from_array(source, max_pixels)
    if isinstance(source, Image.Image):
        image, data = source, None
    else:
        try:
            data = Path(source).read_bytes() if not isinstance(source, (bytes, bytearray)) else bytes(source)
        except OSError as err:
            raise ValueError(f"cannot read {source}: {err.strerror}") from None
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:  # declares over twice Pillow's MAX_IMAGE_PIXELS, whatever its size on disk
            raise ValueError(
                f"the image declares more than {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels, too many to open "
                f"safely; the limit is {max_pixels / 1e6:.1f} megapixels — crop or downscale it first"
            ) from None
        except (Image.UnidentifiedImageError, OSError):
            raise ValueError("not an image: the file is none of the formats Pillow reads (PNG, JPEG, WebP, BMP, TIFF, ...)") from None
    _check_pixels(*image.size, max_pixels)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"the image file is truncated or corrupt ({err})") from None
    orientation = image.getexif().get(0x0112, 1) if hasattr(image, "getexif") else 1

    if data is not None and data.startswith(PNG_SIGNATURE) and data[24] == 16 and data[25] in (2, 6):
        import cv2  # 16-bit RGB(A) PNG: Pillow would drop it to 8 bits

        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB if array.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
    else:
        array = _pil_to_array(image)
    if orientation in _ORIENT:
        array = np.ascontiguousarray(_ORIENT[orientation](array))
    return _from_array(array, max_pixels)


def _pil_to_array(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(image).astype(np.uint16)
    if mode == "I":  # 32-bit integer gray, as Pillow opens some 16-bit PNGs
        array = np.asarray(image)
        if array.min() < 0 or array.max() > 65535:
            raise ValueError("32-bit integer images are not supported; save it as 8- or 16-bit")
        return array.astype(np.uint16)
    if mode == "F":
        raise ValueError("32-bit floating-point images are not supported; save it as 8- or 16-bit")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))
    if mode == "1":
        return np.asarray(image.convert("L"))
    if mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(image)
    if mode in ("La", "RGBa"):  # premultiplied alpha
        return np.asarray(image.convert(mode.upper()))
    return np.asarray(image.convert("RGB"))  # CMYK, YCbCr, LAB, HSV


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ValueError(
            f"the image is {width}x{height} = {width * height / 1e6:.1f} megapixels; "
            f"the limit is {max_pixels / 1e6:.1f} megapixels — crop or downscale it first"
        )
    if width < 1 or height < 1:
        raise ValueError(f"the image is empty ({width}x{height})")


def _from_array(array: np.ndarray, max_pixels: int) -> Picture:
    if array.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"image arrays must be uint8 or uint16, got {array.dtype}")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"image arrays must be (H, W) or (H, W, 1..4), got shape {array.shape}")
    _check_pixels(array.shape[1], array.shape[0], max_pixels)
    bit_depth = 16 if array.dtype == np.uint16 else 8
    planes = torch.from_numpy(array.astype(np.float32) / (65535 if bit_depth == 16 else 255)).permute(2, 0, 1)[None]
    color_channels = 1 if array.shape[2] in (1, 2) else 3
    alpha = planes[:, color_channels:] if array.shape[2] in (2, 4) else None
    return Picture(planes[:, :color_channels].contiguous(), None if alpha is None else alpha.contiguous(), bit_depth)
