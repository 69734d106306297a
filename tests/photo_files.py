"""Real photo files as phones, cameras and the web make them, built here with Pillow and pillow-heif: a camera JPEG
(orientation 6, camera tags, GPS, an ICC profile, XMP, an embedded thumbnail), the same as HEIC and AVIF, a CMYK JPEG
with its own profile, a 16-bit TIFF, a logo with a soft transparent edge."""

from __future__ import annotations

import io
import struct
from functools import cache

import numpy as np
from PIL import ExifTags, Image, ImageCms
from skimage import data as skdata

EXIF_IFD, GPS_IFD = ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo
MAKE, MODEL, ORIENTATION = 0x010F, 0x0110, 0x0112
DATE_TAKEN, EXPOSURE, F_NUMBER, LENS, PIXEL_X, PIXEL_Y = 0x9003, 0x829A, 0x829D, 0xA434, 0xA002, 0xA003
CAMERA = {MAKE: "Canon", MODEL: "Canon EOS R5"}
TAKEN = {DATE_TAKEN: "2026:11:28 14:03:59", EXPOSURE: 0.004, F_NUMBER: 2.8, LENS: "RF24-70mm F2.8 L IS USM"}
THUMBNAIL = b"\xff\xd8\xff\xdbTHUMBNAIL-BYTES-THAT-MUST-NOT-SURVIVE\xff\xd9"
XMP = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
       b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
       b'exif:GPSLatitude="48,51.5N" exif:GPSLongitude="2,17.7E"><dc:creator><rdf:Seq><rdf:li>Ada Photographer</rdf:li>'
       b'</rdf:Seq></dc:creator><exif:GPSAltitude>35/1</exif:GPSAltitude></rdf:Description></rdf:RDF></x:xmpmeta>'
       b'<?xpacket end="w"?>')


@cache
def rgb_profile() -> bytes:
    """An RGB ICC profile (Little CMS's sRGB), its bytes to find again in every result."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def upright(size=(48, 32)) -> np.ndarray:
    """The photo as it should look: (H, W, 3) uint8, wider than high."""
    return np.asarray(Image.fromarray(skdata.astronaut()).resize(size, Image.BICUBIC))


def camera_exif(orientation: int = 6, size=(32, 48), thumbnail: bool = True) -> bytes:
    """EXIF as a camera writes it: camera and exposure tags, pixel dimensions, GPS, and (IFD1) a JPEG thumbnail."""
    exif = Image.Exif()
    exif.update({**CAMERA, ORIENTATION: orientation})
    exif.get_ifd(EXIF_IFD).update({**TAKEN, PIXEL_X: size[0], PIXEL_Y: size[1]})
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 42.0)})
    raw = exif.tobytes()
    if not thumbnail:
        return raw
    tiff = bytearray(raw.removeprefix(b"Exif\0\0"))
    order = "<" if tiff[:2] == b"II" else ">"
    entries = struct.unpack_from(order + "H", tiff, 8)[0]
    next_ifd = 8 + 2 + 12 * entries  # IFD0's pointer to IFD1, which Pillow leaves 0
    tiff += bytes(len(tiff) % 2)
    ifd1 = len(tiff)
    thumb = ifd1 + 2 + 2 * 12 + 4
    tiff += struct.pack(order + "H", 2) + struct.pack(order + "HHII", 0x0201, 4, 1, thumb)
    tiff += struct.pack(order + "HHII", 0x0202, 4, 1, len(THUMBNAIL)) + struct.pack(order + "I", 0) + THUMBNAIL
    struct.pack_into(order + "I", tiff, next_ifd, ifd1)
    return b"Exif\0\0" + bytes(tiff)


def camera_photo(format: str = "JPEG", orientation: int = 6) -> bytes:
    """The photo as a camera stores it: pixels turned so that ``orientation`` makes them upright again."""
    pixels = upright()
    stored = {1: pixels, 6: np.rot90(pixels, 1), 8: np.rot90(pixels, -1), 3: pixels[::-1, ::-1]}[orientation]
    image = Image.fromarray(np.ascontiguousarray(stored))
    exif = camera_exif(orientation, size=image.size, thumbnail=format == "JPEG")
    buffer = io.BytesIO()
    image.save(buffer, format=format, quality=95, exif=exif, icc_profile=rgb_profile(), xmp=XMP)
    return buffer.getvalue()


def heic_photo() -> bytes:
    """An iPhone-like HEIC: upright pixels (HEIF readers apply the container's rotation), camera EXIF, GPS, profile."""
    import pillow_heif  # noqa: F401  (imported by ganapps.imaging too; here for the HEIF writer)

    return camera_photo("HEIF", orientation=1)


def s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def cmyk_profile(rgb_of) -> bytes:
    """A minimal ICC CMYK input profile: a two-point CLUT whose corners are ``rgb_of(c, m, y, k)`` (sRGB, 0..1), as
    Lab. Little CMS reads it as any printer's profile."""
    from skimage.color import rgb2lab

    corners = [(c, m, y, k) for c in (0, 1) for m in (0, 1) for y in (0, 1) for k in (0, 1)]
    lab = rgb2lab(np.array([rgb_of(*corner) for corner in corners], float)[:, None], illuminant="D50")[:, 0]
    encoded = np.stack([lab[:, 0] * 255 / 100, lab[:, 1] + 128, lab[:, 2] + 128], 1)
    clut = np.clip(np.round(encoded), 0, 255).astype(np.uint8).tobytes()
    ramp = bytes(range(256))
    identity = b"".join(s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    a2b0 = b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + identity + ramp * 4 + clut + ramp * 3
    text = b"test CMYK\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8 + 3 + 67)
    white = s15(0.9642) + s15(1.0) + s15(0.8249)
    tags = [(b"desc", desc), (b"wtpt", b"XYZ " + bytes(4) + white), (b"A2B0", a2b0)]
    start = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, tag in tags:
        tag += bytes(-len(tag) % 4)
        table += signature + struct.pack(">II", start + len(body), len(tag))
        body += tag
    header = (struct.pack(">I", start + len(body)) + bytes(4) + struct.pack(">I", 0x02100000) + b"scnrCMYKLab " + bytes(12)
              + b"acsp" + bytes(28) + white + bytes(48))
    return header + struct.pack(">I", len(tags)) + table + body


def naive_cmyk(c, m, y, k):
    return (1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)


def warm_cmyk(c, m, y, k):
    """A profile far from the naive formula: red and blue swapped."""
    return naive_cmyk(c, m, y, k)[::-1]


def cmyk_photo() -> tuple[bytes, bytes]:
    """(a CMYK JPEG with an embedded profile, that profile)."""
    profile = cmyk_profile(warm_cmyk)
    buffer = io.BytesIO()
    Image.fromarray(upright()).convert("CMYK").save(buffer, format="JPEG", quality=95, icc_profile=profile)
    return buffer.getvalue(), profile


def sixteen_bit(size=(20, 14)) -> np.ndarray:
    """(H, W, 3) uint16 with values no 8-bit file can hold."""
    return (upright(size).astype(np.uint16) * 257 + 3).astype(np.uint16)


COLOUR = (40, 110, 230)  # the logo's colour


def soft_logo(size: int = 48) -> np.ndarray:
    """(H, W, 4) uint8: a disc of COLOUR whose alpha falls to 0 over 8 pixels; black under the transparency."""
    yy, xx = np.mgrid[:size, :size]
    distance = np.hypot(yy - size / 2, xx - size / 2)
    alpha = np.clip((size * 0.35 - distance) / 8, 0, 1)
    logo = np.zeros((size, size, 4), np.uint8)
    logo[alpha > 0, :3] = COLOUR
    logo[..., 3] = np.round(alpha * 255)
    return logo


def fringe(rgba: np.ndarray) -> float:
    """How far the darkest 1 % of the visible edge pixels (alpha 5..95 %) are from COLOUR, in levels (max over RGB)."""
    alpha = rgba[..., 3].astype(float) / 255
    edge = rgba[(alpha > 0.05) & (alpha < 0.95), :3].astype(float)
    darkest = edge[np.argsort(edge.sum(axis=1))[: max(1, len(edge) // 100)]]
    return float(np.abs(darkest - COLOUR).max())
