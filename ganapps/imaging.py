"""The one place that converts between library tensors and images (PIL, numpy, files).

Digit tensors are float (B, 1, H, W) in [-1, 1]; photos are ``Picture``s, float in [0, 1].
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import struct
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pillow_heif
import torch
from PIL import Image

pillow_heif.register_heif_opener()  # HEIC/HEIF (iPhone photos) open as any other image; Pillow reads AVIF itself
log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif", ".avif"}


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


# --- photo files: read whole, written whole -----------------------------------------------------

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
ORIENTATION, IMAGE_WIDTH, IMAGE_LENGTH = 0x0112, 0x0100, 0x0101  # EXIF tags of the first IFD
EXIF_IFD, GPS_IFD, PIXEL_X, PIXEL_Y = 0x8769, 0x8825, 0xA002, 0xA003  # the Exif sub-IFD's pixel dimensions
XMP_TAG, ICC_TAG = 700, 34675  # where a TIFF keeps its XMP packet and ICC profile
# TIFF tags that describe a TIFF file's own pixel layout, not the photo: never carried to another file.
_TIFF_LAYOUT = {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 284, 317, 320, 322, 323,
                324, 325, 330, 338, 339, 340, 341, 347, 530, 531, 532, XMP_TAG, ICC_TAG}
_EXIF_NAMESPACE = rb"http://ns\.adobe\.com/exif/1\.0/"
METADATA_CHOICES = ("keep", "drop-gps", "drop")
METADATA_HELP = ("keep: the ICC profile, EXIF (camera, lens, date, exposure, location) and XMP; drop-gps: all of it "
                 "but the location; drop: no EXIF and no XMP. The colour profile stays in every case: it says what the "
                 "pixel values mean, and the colours change without it")


def check_metadata(choice) -> str:
    if choice not in METADATA_CHOICES:
        raise ValueError(f"unknown metadata choice {choice!r}; available: {', '.join(METADATA_CHOICES)}")
    return choice


@dataclass(frozen=True)
class Metadata:
    """What a photo file carries besides its pixels, to be written with the result.

    ``icc_profile``: the ICC colour profile, bytes as read; ``exif``: the EXIF block as Pillow serialises it
    (``Exif.tobytes``); ``xmp``: the XMP packet, bytes as read. The pixels stay in the photo's own colour space:
    the profile says what they mean.
    """

    icc_profile: bytes | None = None
    exif: bytes | None = None
    xmp: bytes | None = None

    def choose(self, choice: str) -> Metadata:
        """The metadata the user asked to keep: ``choice`` is one of METADATA_CHOICES (see METADATA_HELP)."""
        if check_metadata(choice) == "keep":
            return self
        if choice == "drop":
            return Metadata(self.icc_profile)
        exif = None
        if self.exif:
            parsed = _exif(self.exif)
            parsed.pop(GPS_IFD, None)
            exif = parsed.tobytes() if len(parsed) else None
        return Metadata(self.icc_profile, exif, None if self.xmp is None else _without_gps(self.xmp))

    def exif_for(self, size: tuple[int, int]) -> Image.Exif | None:
        """The EXIF to write with upright pixels of ``size`` = (width, height): orientation 1, the pixel dimensions
        updated where the block states them, no embedded thumbnail (``Exif.tobytes`` writes none)."""
        if not self.exif:
            return None
        exif = _exif(self.exif)
        if ORIENTATION in exif:
            exif[ORIENTATION] = 1
        blocks = [(IMAGE_WIDTH, IMAGE_LENGTH, exif)] + ([(PIXEL_X, PIXEL_Y, exif.get_ifd(EXIF_IFD))] if EXIF_IFD in exif else [])
        for width_tag, height_tag, ifd in blocks:  # get_ifd of a block that is not there would add an empty one
            if width_tag in ifd:
                ifd[width_tag] = size[0]
            if height_tag in ifd:
                ifd[height_tag] = size[1]
        return exif


def _exif(raw: bytes) -> Image.Exif:
    exif = Image.Exif()
    exif.load(raw)
    return exif


def _without_gps(xmp: bytes) -> bytes:
    """The XMP packet without its exif:GPS* properties (attributes or elements), the rest byte for byte."""
    for prefix in set(re.findall(rb"xmlns:([\w.-]+)\s*=\s*[\"']" + _EXIF_NAMESPACE + rb"[\"']", xmp)):
        name = re.escape(prefix) + rb":GPS[\w.-]*"
        xmp = re.sub(rb"\s" + name + rb"\s*=\s*(\"[^\"]*\"|'[^']*')", b"", xmp)
        xmp = re.sub(rb"<(" + name + rb")\b[^>]*/>", b"", xmp)
        xmp = re.sub(rb"<(" + name + rb")\b[^>]*>.*?</\1\s*>", b"", xmp, flags=re.DOTALL)
    return xmp


def _read_metadata(image: Image.Image) -> Metadata:
    """The ICC profile, EXIF and XMP of an opened image (whatever its format)."""
    icc = image.info.get("icc_profile") or None
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if image.format == "TIFF":
        xmp = image.tag_v2.get(XMP_TAG, xmp)
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    elif isinstance(xmp, tuple):  # a TIFF tag read as a tuple of bytes
        xmp = bytes(xmp)
    exif = image.getexif()
    if image.format == "TIFF" and len(exif):  # the first IFD is the file's own: keep only what describes the photo
        exif = _exif(exif.tobytes())
        for tag in _TIFF_LAYOUT & set(exif):
            del exif[tag]
    return Metadata(icc, exif.tobytes() if len(exif) else None, xmp or None)


@dataclass
class Picture:
    """A photo as the library works on it, and what it takes to write the result the same way.

    ``color`` is float (1, C, H, W) in [0, 1] with C = 3 (RGB) or 1 (grayscale); ``alpha`` is
    (1, 1, H, W) or None; ``bit_depth`` is 8 or 16. Orientation is already upright (EXIF applied).
    ``metadata``: the file's ICC profile, EXIF and XMP, written with the pixels by ``save``.
    """

    color: torch.Tensor
    alpha: torch.Tensor | None = None
    bit_depth: int = 8
    metadata: Metadata = field(default_factory=Metadata)

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
        """An 8-bit PIL image for display (L, LA, RGB or RGBA), its ICC profile in ``info`` for colour-managed viewers."""
        eight = self if self.bit_depth == 8 else Picture(self.color, self.alpha, 8)
        image = Image.fromarray(eight.to_array())
        if self.metadata.icc_profile:
            image.info["icc_profile"] = self.metadata.icc_profile
        return image

    @property
    def opaque(self) -> bool:
        """No pixel is transparent at all (no alpha channel, or one that is 1 everywhere)."""
        return self.alpha is None or bool((self.alpha >= 1).all())

    def conversions(self, format: str) -> list[str]:
        """What writing this picture as ``format`` changes, each said in a sentence (empty: nothing); a ValueError
        if the format cannot hold it (transparency in a JPEG)."""
        format = check_format(format)
        notes = []
        if self.alpha is not None and format == "jpeg" and self.opaque:
            notes.append("the alpha channel, opaque everywhere, is left out: JPEG has none")
        elif self.alpha is not None and format == "jpeg":
            raise ValueError("JPEG cannot hold transparency and this photo has an alpha channel; "
                             f"write one of {', '.join(f for f in OUTPUT_FORMATS if f != 'jpeg')}")
        if self.bit_depth == 16 and format not in SIXTEEN_BIT_FORMATS:
            notes.append(f"16-bit colour written as 8-bit: {format.upper()} holds 8 bits here "
                         f"({' and '.join(SIXTEEN_BIT_FORMATS)} keep 16)")
        if self.bit_depth == 16 and self.grayscale and self.alpha is not None and format in SIXTEEN_BIT_FORMATS:
            notes.append("16-bit grayscale with alpha written as 16-bit RGBA (the gray in all three channels)")
        if self.grayscale and self.metadata.icc_profile and format in RGB_ONLY_FORMATS:
            notes.append(f"the grayscale colour profile is left out: {format.upper()} stores gray photos as RGB")
        return notes

    def encode(self, format: str = "png", *, quality: int | None = None, lossless: bool = False) -> bytes:
        """The file's bytes in ``format`` (one of OUTPUT_FORMATS), with the ICC profile, EXIF and XMP this picture
        carries; ``quality`` (1..100) for the lossy formats (default DEFAULT_QUALITY), ``lossless`` for WebP."""
        format = check_format(format)
        quality = check_quality(format, quality, lossless)
        self.conversions(format)  # refuses what the format cannot hold
        icc, xmp = self.metadata.icc_profile, self.metadata.xmp
        exif = self.metadata.exif_for(self.size)
        alpha = None if format == "jpeg" else self.alpha  # an opaque one: stated in conversions()
        if format in SIXTEEN_BIT_FORMATS:
            picture = self
            if self.bit_depth == 16 and self.grayscale and self.alpha is not None:  # stated in conversions()
                picture = Picture(self.rgb(), self.alpha, 16)
            encode = _png if format == "png" else _tiff
            return encode(picture.to_array(), icc, None if exif is None else exif.tobytes(), xmp)
        image = Picture(self.color, alpha, 8).to_pil()
        if self.grayscale and format in RGB_ONLY_FORMATS:
            image, icc = image.convert("RGBA" if alpha is not None else "RGB"), None  # stated in conversions()
        options = {"quality": quality, "icc_profile": icc, "exif": exif, "xmp": xmp}
        if format == "jpeg":
            options.update(optimize=True, subsampling=0 if quality >= 90 else 2)  # 4:4:4 keeps fine colour edges
        elif format == "webp":
            options.update(lossless=lossless, method=4)
        buffer = io.BytesIO()
        image.save(buffer, format=format.upper(), **{key: value for key, value in options.items() if value is not None})
        return buffer.getvalue()

    def save(self, path, *, format: str | None = None, quality: int | None = None, lossless: bool = False) -> Path:
        """Write the picture to ``path`` in ``format`` (default: the one its suffix names), whole (see ``encode``).

        The file appears complete or not at all: it is written beside the target and renamed into place."""
        path = Path(path)
        format = format_for(path, format)
        data = self.encode(format, quality=quality, lossless=lossless)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            partial.write_bytes(data)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return path


# --- writing: formats, their options, their encoders --------------------------------------------

OUTPUT_FORMATS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "tiff": ".tif", "avif": ".avif"}  # format -> suffix
SUFFIX_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp", ".tif": "tiff", ".tiff": "tiff",
                  ".avif": "avif"}
DEFAULT_QUALITY = {"jpeg": 95, "webp": 95, "avif": 90}  # the lossy formats
SIXTEEN_BIT_FORMATS = ("png", "tiff")
RGB_ONLY_FORMATS = ("webp", "avif")


def check_format(format) -> str:
    if format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {format!r}; available: {', '.join(OUTPUT_FORMATS)}")
    return format


def format_for(path, format: str | None = None) -> str:
    """The format a file is written in: ``format`` if given (it must agree with the path's suffix, if that names
    one), else the one the suffix names."""
    named = SUFFIX_FORMATS.get(Path(path).suffix.lower())
    if format is None:
        if named is None:
            raise ValueError(f"cannot tell the format of {path} from its suffix; use one of "
                             f"{', '.join(sorted(SUFFIX_FORMATS))} or give a format ({', '.join(OUTPUT_FORMATS)})")
        return named
    check_format(format)
    if named is not None and named != format:
        raise ValueError(f"{path} names a {named.upper()} file, but the format asked is {format}")
    return format


def check_quality(format: str, quality, lossless: bool = False) -> int | None:
    """The quality to encode ``format`` with: ``quality`` checked (a whole number in 1..100), or the format's
    default; None for the lossless formats, which take none."""
    if lossless and format != "webp":
        raise ValueError(f"lossless is a WebP option; {format} is " + ("lossless already" if format in SIXTEEN_BIT_FORMATS
                                                                       else "always lossy"))
    if format not in DEFAULT_QUALITY:
        if quality is not None:
            raise ValueError(f"quality is for the lossy formats ({', '.join(DEFAULT_QUALITY)}); {format} is lossless")
        return None
    if quality is None:
        return DEFAULT_QUALITY[format]
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise ValueError(f"quality must be a whole number in 1..100, got {quality!r}")
    return int(quality)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(array: np.ndarray, icc: bytes | None, exif: bytes | None, xmp: bytes | None) -> bytes:
    """A PNG of uint8 or uint16 gray, RGB or RGBA (or 8-bit gray + alpha), with iCCP, eXIf and XMP's iTXt chunks
    put right after the header, where every reader looks for them."""
    import cv2

    if array.ndim == 3 and array.shape[2] == 2:  # gray + alpha, 8-bit: OpenCV has no such PNG, Pillow has
        buffer = io.BytesIO()
        Image.fromarray(array, "LA").save(buffer, format="PNG", compress_level=1)
        data = buffer.getvalue()
    else:
        if array.ndim == 3:
            array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR if array.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
        ok, encoded = cv2.imencode(".png", array)
        if not ok:
            raise ValueError(f"OpenCV could not encode a {array.shape} {array.dtype} PNG")
        data = encoded.tobytes()
    chunks = []
    if icc:
        chunks.append(_png_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(icc)))
    if exif:
        chunks.append(_png_chunk(b"eXIf", exif.removeprefix(b"Exif\0\0")))
    if xmp:
        chunks.append(_png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp))
    header_end = len(PNG_SIGNATURE) + 25  # the IHDR chunk: length, type, 13 bytes, CRC
    return data[:header_end] + b"".join(chunks) + data[header_end:]


def _tiff(array: np.ndarray, icc: bytes | None, exif: bytes | None, xmp: bytes | None) -> bytes:
    """A deflate-compressed TIFF of uint8 or uint16 gray, RGB or RGBA (alpha unassociated), one strip, with the ICC
    profile, XMP and EXIF (its camera tags in the first IFD, its Exif and GPS blocks as sub-IFDs, as cameras write).

    Written here rather than by Pillow, whose TIFF writer holds no 16-bit colour and drops EXIF's sub-IFDs."""
    from PIL import TiffImagePlugin

    planes = array[..., None] if array.ndim == 2 else array
    height, width, samples = planes.shape
    bits = 16 if planes.dtype == np.uint16 else 8
    strip = zlib.compress(np.ascontiguousarray(planes, dtype="<u2" if bits == 16 else np.uint8).tobytes(), 6)
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    if exif:
        parsed = _exif(exif)
        for tag, value in parsed.items():
            if tag not in _TIFF_LAYOUT:
                ifd[tag] = parsed.get_ifd(tag) if tag in (EXIF_IFD, GPS_IFD) else value
    ifd[256], ifd[257], ifd[258], ifd[259] = width, height, (bits,) * samples, 8  # 8: deflate
    ifd[262] = 2 if samples >= 3 else 1  # RGB or gray (black is zero)
    ifd[273], ifd[277], ifd[278], ifd[279], ifd[284] = (0,), samples, height, (len(strip),), 1
    if samples in (2, 4):
        ifd[338] = (2,)  # the last sample is unassociated alpha
    if icc:
        ifd[ICC_TAG] = icc
    if xmp:
        ifd[XMP_TAG] = xmp
    # Pillow lays the strip after the directory and what it points to, and shifts the strip offset (0) past them.
    return b"II*\0" + struct.pack("<I", 8) + ifd.tobytes(8) + strip


# --- reading -----------------------------------------------------------------------------------

@functools.cache
def _srgb_profile() -> bytes:
    """The sRGB profile's bytes, for pixels converted to sRGB through another profile."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def read_image(source, *, max_pixels: int) -> Picture:
    """Decode a photo for restoration, or raise a ValueError that says what is wrong with it.

    ``source`` is a path, bytes, a PIL image, a uint8/uint16 numpy array or a ``Picture`` already
    decoded (returned as it is). Reads PNG, JPEG, HEIC/HEIF, AVIF, WebP, TIFF, BMP and what else Pillow
    reads; handles grayscale, RGBA and LA (alpha kept apart), palette images (with or without
    transparency), CMYK and Lab (converted to sRGB through their ICC profile where they have one),
    1-bit images, 16-bit PNGs and TIFFs (kept 16-bit) and EXIF orientation (the pixels made upright).
    The ICC profile, EXIF and XMP come with the picture (``Picture.metadata``). Images over
    ``max_pixels`` are refused before they are decoded.
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
        except (Image.UnidentifiedImageError, OSError, ValueError) as err:
            kind = _signature(data)
            if kind is not None:  # the start of a photo file, cut short or damaged before its pixels
                raise ValueError(f"the image file is truncated or corrupt: it starts as a {kind} but cannot be opened ({err})") from None
            raise ValueError(f"not an image: the file is none of the formats read here ({READABLE})") from None
    _check_pixels(*image.size, max_pixels)
    try:
        image.load()
        orientation = image.getexif().get(ORIENTATION, 1)  # HEIF: the container's rotation is applied, and this reset to 1
        metadata = _read_metadata(image)
    except (OSError, SyntaxError, ValueError, RuntimeError) as err:
        raise ValueError(f"the image file is truncated or corrupt ({err})") from None

    if data is not None and _sixteen_bit_color(image, data):
        import cv2  # 16-bit RGB(A) PNG or TIFF: Pillow would drop it to 8 bits

        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if array is None or array.ndim != 3 or array.dtype != np.uint16:
            raise ValueError("the 16-bit image could not be decoded whole; save it as an 8-bit or 16-bit PNG")
        array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB if array.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
    else:
        array, metadata = _pil_to_array(image, metadata)
    if orientation in _ORIENT:
        array = np.ascontiguousarray(_ORIENT[orientation](array))
    picture = _from_array(array, max_pixels)
    picture.metadata = metadata
    return picture


READABLE = "PNG, JPEG, HEIC, AVIF, WebP, TIFF, BMP, GIF, ..."


def _signature(data: bytes) -> str | None:
    """The format a file's first bytes announce, or None."""
    if data[4:8] == b"ftyp":
        return "AVIF" if data[8:12] in (b"avif", b"avis") else "HEIF" if data[8:12] in (b"heic", b"heix", b"mif1", b"msf1") else None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    starts = {b"\xff\xd8\xff": "JPEG", PNG_SIGNATURE: "PNG", b"GIF8": "GIF", b"II*\0": "TIFF", b"MM\0*": "TIFF", b"BM": "BMP"}
    return next((kind for start, kind in starts.items() if data.startswith(start)), None)


def _sixteen_bit_color(image: Image.Image, data: bytes) -> bool:
    """A 16-bit RGB or RGBA PNG or TIFF: Pillow has no mode for these and would give 8 bits."""
    if data.startswith(PNG_SIGNATURE):
        return data[24] == 16 and data[25] in (2, 6)
    if image.format == "TIFF":
        bits, samples = image.tag_v2.get(258, (8,)), image.tag_v2.get(277, 1)
        return bits[0] == 16 and samples in (3, 4) and image.tag_v2.get(262) == 2
    return False


def _pil_to_array(image: Image.Image, metadata: Metadata) -> tuple[np.ndarray, Metadata]:
    """The pixels of ``image`` as gray, gray + alpha, RGB or RGBA, and the metadata that goes with them (a colour
    space converted through its profile carries the sRGB profile after)."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(image).astype(np.uint16), metadata
    if mode == "I":  # 32-bit integer gray, as Pillow opens some 16-bit PNGs
        array = np.asarray(image)
        if array.min() < 0 or array.max() > 65535:
            raise ValueError("32-bit integer images are not supported; save it as 8- or 16-bit")
        return array.astype(np.uint16), metadata
    if mode == "F":
        raise ValueError("32-bit floating-point images are not supported; save it as 8- or 16-bit")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        return np.asarray(image.convert("RGBA" if has_alpha else "RGB")), metadata
    if mode == "1":
        return np.asarray(image.convert("L")), metadata
    if mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(image), metadata
    if mode in ("La", "RGBa"):  # premultiplied alpha
        return np.asarray(image.convert(mode.upper())), metadata
    # CMYK, Lab, YCbCr, HSV: to RGB, through the file's own profile where it has one
    if metadata.icc_profile:
        from PIL import ImageCms

        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(metadata.icc_profile))
            converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError) as err:
            log.warning("the %s image's colour profile could not be used (%s); converted without it", mode, err)
        else:
            return np.asarray(converted), replace(metadata, icc_profile=_srgb_profile())
    return np.asarray(image.convert("RGB")), replace(metadata, icc_profile=None)


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
