"""The image helpers every caller shares: one resize (the benchmarks' Pillow bicubic) and one JPEG round trip
(the benchmarks' web photos and the training degradations)."""

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from ganapps import degrade, photos
from ganapps.data import bicubic_downscale
from ganapps.imaging import jpeg_roundtrip, resize

# odd sizes: JPEG's 8x8 blocks and 2x2 chroma cells cut at the border
CROPS = [(slice(0, 512), slice(0, 512)), (slice(37, 240), slice(11, 168)), (slice(5, 14), slice(3, 16))]


@pytest.mark.parametrize("crop", CROPS)
def test_jpeg_roundtrip_decodes_the_pixels_opencv_s_codec_gave_the_training_data(crop):
    """The photo models trained on OpenCV's JPEGs and the benchmarks measure Pillow's: one function stands for both
    only while the two decode the same pixels (both libjpeg-turbo, 4:2:0, the standard tables)."""
    image = np.ascontiguousarray(skdata.astronaut()[crop])
    for quality in (10, 50, 75, 95, 100):
        encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
        opencv = cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        ours = jpeg_roundtrip(image, quality)
        assert ours.dtype == np.uint8 and ours.shape == image.shape
        assert np.array_equal(ours, opencv), f"quality {quality}: {np.abs(ours.astype(int) - opencv).max()} levels apart"


def test_the_training_jpeg_stage_is_the_benchmark_round_trip_on_8_bit_pixels():
    image = skdata.coffee()[:96, :120].astype(np.float32) / 255 + 0.001  # not on the 8-bit grid: rounded first
    pixels = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    stage = degrade.jpeg(image, 60)
    assert stage.dtype == np.float32 and np.array_equal(stage, jpeg_roundtrip(pixels, 60).astype(np.float32) / 255)
    assert not np.array_equal(jpeg_roundtrip(pixels, 60), pixels)  # the codec did something


@pytest.mark.parametrize("quality", [0, 101, 75.0, True])
def test_jpeg_quality_must_be_a_whole_number_in_1_to_100(quality):
    with pytest.raises(ValueError, match="JPEG quality must be in 1..100"):
        jpeg_roundtrip(skdata.astronaut()[:16, :16], quality)


@pytest.mark.parametrize("method, pillow", [("bicubic", Image.BICUBIC), ("bilinear", Image.BILINEAR), ("lanczos", Image.LANCZOS)])
def test_resize_of_8_bit_photos_is_pillow_s_on_the_whole_image(method, pillow):
    image = skdata.chelsea()[:203, :157]
    for size in ((39, 50), (157 // 4, 203 // 4), (400, 301)):
        expected = np.asarray(Image.fromarray(image).resize(size, pillow))
        out = resize(image, size, method)
        assert out.dtype == np.uint8 and np.array_equal(out, expected)
    benchmark = np.asarray(Image.fromarray(image[:200, :156]).resize((39, 50), Image.BICUBIC))  # the protocol's low-res input
    assert np.array_equal(bicubic_downscale(image[:200, :156], 4), benchmark)


def test_resize_of_float_planes_stays_float_unrounded_and_unclipped():
    step = np.zeros((8, 8), np.float32)
    step[:, 4:] = 1
    up = resize(step, (32, 32))
    assert up.dtype == np.float32 and up.shape == (32, 32)
    assert up.min() < -0.05 and up.max() > 1.05  # bicubic overshoots an edge; callers clip or clamp as they need
    image = skdata.coffee()[:40, :60].astype(np.float32) / 255
    out = resize(image, (25, 17))
    assert out.shape == (17, 25, 3) and out.dtype == np.float32
    for c in range(3):
        assert np.array_equal(out[..., c], np.asarray(Image.fromarray(image[..., c]).resize((25, 17), Image.BICUBIC)))
    assert not np.array_equal(out * 255, np.round(out * 255))  # not rounded to 8 bits


def test_the_photo_verbs_and_the_degradations_resize_with_it():
    image = skdata.astronaut()[:64, :80].astype(np.float32) / 255
    planes = torch.from_numpy(image).permute(2, 0, 1)[None]
    for method in ("bicubic", "lanczos"):
        expected = resize(image, (200, 160), method)
        assert torch.equal(photos.resize(planes, (200, 160), method), torch.from_numpy(expected).permute(2, 0, 1)[None])
    assert np.array_equal(degrade.resize(image, (30, 21), "bilinear"), np.clip(resize(image, (30, 21), "bilinear"), 0, 1))


def test_resize_refuses_what_it_does_not_know():
    with pytest.raises(ValueError, match="unknown resize method 'nearest'; available: bilinear, bicubic, lanczos"):
        resize(np.zeros((4, 4), np.uint8), (2, 2), "nearest")
    with pytest.raises(ValueError, match="uint8 or float arrays, got uint16"):
        resize(np.zeros((4, 4), np.uint16), (2, 2))
