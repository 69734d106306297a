"""Photos come back whole: formats read, profile, EXIF and XMP kept (or dropped as asked), the format and size asked,
alpha edges without fringes, folder trees, through the library and the command line."""

import io
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import ExifTags, Image, ImageCms

from ganapps.imaging import METADATA_CHOICES, Picture, read_image
from ganapps.photos import derain, upscale

from .conftest import ROOT
from .photo_files import (
    CAMERA,
    DATE_TAKEN,
    EXIF_IFD,
    GPS_IFD,
    LENS,
    ORIENTATION,
    PIXEL_X,
    PIXEL_Y,
    TAKEN,
    THUMBNAIL,
    XMP,
    camera_photo,
    cmyk_photo,
    fringe,
    heic_photo,
    naive_cmyk,
    rgb_profile,
    sixteen_bit,
    soft_logo,
    upright,
    warm_cmyk,
)


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def exif_of(image: Image.Image) -> dict:
    exif = image.getexif()
    return {"ifd0": dict(exif), "exif": dict(exif.get_ifd(EXIF_IFD)), "gps": dict(exif.get_ifd(GPS_IFD))}


def xmp_of(image: Image.Image) -> bytes:
    return image.info.get("xmp") or image.getexif().get(700) or b""


def assert_camera_tags_kept(image: Image.Image):
    tags = exif_of(image)
    assert {tag: tags["ifd0"][tag] for tag in CAMERA} == CAMERA
    assert tags["exif"][LENS] == TAKEN[LENS] and tags["exif"][DATE_TAKEN] == TAKEN[DATE_TAKEN]
    assert float(tags["exif"][0x829A]) == pytest.approx(TAKEN[0x829A]) and float(tags["exif"][0x829D]) == pytest.approx(2.8)
    assert tags["ifd0"].get(ORIENTATION, 1) == 1  # the pixels are upright
    assert (tags["exif"][PIXEL_X], tags["exif"][PIXEL_Y]) == image.size


@pytest.mark.parametrize("format", ["png", "jpeg", "webp", "tiff", "avif"])
def test_a_camera_jpeg_comes_back_upright_with_its_profile_exif_and_xmp(sr_model, tmp_path, format):
    result = upscale(camera_photo(), model=sr_model, scale=2)
    assert result.size == (96, 64)  # stored 32x48 with orientation 6: upright, it is 48x32
    data = result.save(tmp_path / f"out.{format}", format=format).read_bytes()
    image = opened(data)
    assert image.size == (96, 64) and image.format == {"jpeg": "JPEG", "tiff": "TIFF"}.get(format, format.upper())
    assert image.info["icc_profile"] == rgb_profile()  # byte for byte
    assert_camera_tags_kept(image)
    assert exif_of(image)["gps"][2] == (48.0, 51.0, 30.0)
    assert THUMBNAIL not in data and not image.getexif().get_ifd(ExifTags.IFD.IFD1)  # the old thumbnail shows the old pixels
    assert xmp_of(image) == XMP
    assert read_image(data, max_pixels=10**6).size == (96, 64)  # read back: not turned a second time


def test_the_pixels_are_turned_upright_for_every_orientation(sr_model):
    expected = upright().astype(float)
    for orientation in (1, 3, 6, 8):
        picture = read_image(camera_photo(orientation=orientation), max_pixels=10**6).to_array().astype(float)
        assert np.abs(picture - expected).mean() < 8 < 20 < np.abs(picture[::-1, ::-1] - expected).mean()  # JPEG's loss


def test_metadata_choices_keep_drop_the_location_or_drop_everything_but_the_profile(rain_model, tmp_path):
    results = {choice: opened(derain(camera_photo(), model=rain_model, metadata=choice).save(tmp_path / f"{choice}.png").read_bytes())
               for choice in METADATA_CHOICES}
    keep, no_gps, dropped = results["keep"], results["drop-gps"], results["drop"]
    assert exif_of(keep)["gps"] and b"exif:GPSLatitude" in xmp_of(keep) and b"<exif:GPSAltitude>" in xmp_of(keep)
    assert not exif_of(no_gps)["gps"] and GPS_IFD not in no_gps.getexif()
    assert_camera_tags_kept(no_gps)
    assert xmp_of(no_gps) == XMP.replace(b' exif:GPSLatitude="48,51.5N" exif:GPSLongitude="2,17.7E"', b"").replace(
        b"<exif:GPSAltitude>35/1</exif:GPSAltitude>", b"")  # the rest of the packet byte for byte
    assert not dropped.getexif() and not xmp_of(dropped) and "exif" not in dropped.info
    assert all(image.info["icc_profile"] == rgb_profile() for image in results.values())
    with pytest.raises(ValueError, match="unknown metadata choice 'none'; available: keep, drop-gps, drop"):
        derain(camera_photo(), model=rain_model, metadata="none")


@pytest.mark.parametrize("make", [heic_photo, lambda: camera_photo("AVIF")], ids=["heic", "avif"])
def test_heic_and_avif_are_read_by_both_verbs_with_what_they_carry(sr_model, rain_model, tmp_path, make):
    photo = make()
    for result in (upscale(photo, model=sr_model, scale=2), derain(photo, model=rain_model)):
        image = opened(result.save(tmp_path / "out.jpg", quality=90).read_bytes())
        assert image.info["icc_profile"] == rgb_profile() and xmp_of(image) == XMP
        assert_camera_tags_kept(image)
    picture = read_image(photo, max_pixels=10**6)
    assert picture.size == (48, 32) and np.abs(picture.to_array().astype(float) - upright()).mean() < 6  # upright


def test_a_truncated_heic_gets_a_clear_error(sr_model):
    with pytest.raises(ValueError, match="not an image|truncated or corrupt"):
        upscale(heic_photo()[:400], model=sr_model)


def test_cmyk_is_converted_through_its_own_profile(sr_model):
    data, profile = cmyk_photo()
    picture = read_image(data, max_pixels=10**6)
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    expected = np.asarray(ImageCms.profileToProfile(opened(data), source, ImageCms.createProfile("sRGB"), outputMode="RGB"))
    naive = np.asarray(opened(data).convert("RGB"))
    assert np.array_equal(picture.to_array(), expected)
    assert np.abs(expected.astype(int) - naive).mean() > 20  # the profile is far from the naive formula
    assert warm_cmyk(1, 0, 0, 0) != naive_cmyk(1, 0, 0, 0)
    srgb = ImageCms.ImageCmsProfile(io.BytesIO(picture.metadata.icc_profile)).profile
    assert srgb.xcolor_space == "RGB "  # the pixels are sRGB now: so is the profile they carry
    assert upscale(data, model=sr_model, scale=2).size == (96, 64)


def test_sixteen_bit_tiff_stays_sixteen_bit_in_png_and_tiff(sr_model, tmp_path):
    deep = sixteen_bit()
    ok, encoded = cv2.imencode(".tif", cv2.cvtColor(deep, cv2.COLOR_RGB2BGR))
    picture = read_image(encoded.tobytes(), max_pixels=10**6)
    assert picture.bit_depth == 16 and np.array_equal(picture.to_array(), deep)
    result = upscale(encoded.tobytes(), model=sr_model, scale=2)
    for format in ("png", "tiff"):
        saved = cv2.imread(str(result.save(tmp_path / f"deep.{format}")), cv2.IMREAD_UNCHANGED)
        assert saved.dtype == np.uint16 and saved.shape == (28, 40, 3)
        assert np.array_equal(cv2.cvtColor(saved, cv2.COLOR_BGR2RGB), result.to_array())
        assert result.conversions(format) == []
    assert result.conversions("jpeg") == ["16-bit colour written as 8-bit: JPEG holds 8 bits here (png and tiff keep 16)"]
    assert opened(result.save(tmp_path / "deep.jpg").read_bytes()).mode == "RGB"


def test_each_format_round_trips(tmp_path):
    picture = read_image(upright(), max_pixels=10**6)
    lossless = {format: read_image(picture.save(tmp_path / f"a.{format}").read_bytes(), max_pixels=10**6).to_array()
                for format in ("png", "tiff")}
    assert all(np.array_equal(array, upright()) for array in lossless.values())
    webp = read_image(picture.save(tmp_path / "a.webp", lossless=True), max_pixels=10**6).to_array()
    assert np.array_equal(webp, upright())
    sizes = {quality: len(picture.encode("jpeg", quality=quality)) for quality in (50, 95)}
    assert sizes[50] < sizes[95]
    for format in ("jpeg", "webp", "avif"):
        decoded = read_image(picture.encode(format, quality=90), max_pixels=10**6).to_array().astype(float)
        assert np.abs(decoded - upright()).mean() < 8, format
    rgba = read_image(soft_logo(), max_pixels=10**6)
    for format in ("png", "webp", "tiff", "avif"):
        assert read_image(rgba.encode(format), max_pixels=10**6).alpha is not None, format


def test_what_a_format_cannot_do_is_refused_or_stated(tmp_path):
    rgba = read_image(soft_logo(), max_pixels=10**6)
    with pytest.raises(ValueError, match="JPEG cannot hold transparency.*write one of png, webp, tiff, avif"):
        rgba.save(tmp_path / "logo.jpg")
    opaque = Picture(torch.rand(1, 3, 4, 4), torch.ones(1, 1, 4, 4))
    assert opaque.conversions("jpeg") == ["the alpha channel, opaque everywhere, is left out: JPEG has none"]
    assert opaque.conversions("png") == [] and read_image(opaque.encode("jpeg"), max_pixels=100).alpha is None
    picture = Picture(torch.rand(1, 3, 4, 4))
    for call, message in [
        (lambda: picture.save(tmp_path / "a.png", quality=90), "quality is for the lossy formats"),
        (lambda: picture.save(tmp_path / "a.jpg", lossless=True), "lossless is a WebP option; jpeg is always lossy"),
        (lambda: picture.save(tmp_path / "a.jpg", quality=0), r"quality must be a whole number in 1..100"),
        (lambda: picture.save(tmp_path / "a.png", format="jpeg"), "names a PNG file, but the format asked is jpeg"),
        (lambda: picture.save(tmp_path / "a.gif"), "cannot tell the format"),
        (lambda: picture.save(tmp_path / "a", format="bmp"), "unknown output format 'bmp'; available: png, jpeg, webp, tiff, avif"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_a_target_width_or_height_instead_of_a_factor(sr_model):
    photo = camera_photo()  # 48x32 upright
    assert upscale(photo, model="bicubic", width=100).size == (100, 67)
    assert upscale(photo, model="bicubic", height=100).size == (150, 100)
    assert upscale(photo, model=sr_model, width=200, height=100).size == (150, 100)  # fits inside both
    assert upscale(photo, model=sr_model, width=200, height=200).size == (200, 133)
    for kwargs, message in [
        ({"width": 500}, r"width 500 is 10.4 times this 48x32 photo; upscaling goes from 1 to 8 times \(here 48x32 to 384x256\)"),
        ({"width": 30}, "0.625 times"),
        ({"width": 100, "scale": 2}, "give a scale or a target width and/or height, not both"),
        ({"height": 0}, "height must be a whole number of pixels, at least 1"),
        ({"width": 99.5}, "width must be a whole number"),
    ]:
        with pytest.raises(ValueError, match=message):
            upscale(photo, model=sr_model, **kwargs)


def test_a_soft_alpha_edge_keeps_its_colour():
    logo = soft_logo()
    result = upscale(logo, model="photo-x4", scale=4).to_array()
    assert result.shape == (192, 192, 4) and fringe(result) <= 15
    assert fringe(upscale(logo, model="bicubic", scale=4).to_array()) <= 1
    # the negative control: the same upscale of the colour as it was, black under the transparency
    black_under = read_image(logo, max_pixels=10**6)
    naive = Picture(upscale(logo[..., :3], model="photo-x4", scale=4).color, upscale(logo, model="bicubic", scale=4).alpha)
    assert fringe(naive.to_array()) > 40
    assert black_under.to_array()[0, 0, :3].tolist() == [0, 0, 0]


def run_cli(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "ganapps", *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def test_cli_keeps_profile_and_exif_in_a_jpeg_of_the_width_asked(tmp_path):
    (tmp_path / "IMG_0001.jpg").write_bytes(camera_photo())
    done = run_cli("upscale", tmp_path / "IMG_0001.jpg", "--out", tmp_path / "out", "--model", "bicubic", "--width", 100,
                   "--format", "jpeg", "--quality", 90, "--metadata", "drop-gps")
    assert done.returncode == 0, done.stderr
    image = Image.open(tmp_path / "out" / "IMG_0001.jpg")
    assert image.format == "JPEG" and image.size == (100, 67) and image.info["icc_profile"] == rgb_profile()
    assert_camera_tags_kept(image)
    assert not exif_of(image)["gps"] and b"GPS" not in xmp_of(image)
    assert "1 done (of 1 photos)" in done.stdout


def test_cli_does_a_folder_tree_names_the_broken_file_and_continues_where_it_stopped(tmp_path):
    photos = tmp_path / "photos"
    (photos / "trip" / "day 2").mkdir(parents=True)
    (photos / ".thumbnails").mkdir()
    (photos / "a.jpg").write_bytes(camera_photo())
    (photos / "a.png").write_bytes(cv2.imencode(".png", upright())[1].tobytes())
    (photos / "trip" / "b.heic").write_bytes(heic_photo())
    (photos / "trip" / "day 2" / "c.tif").write_bytes(cv2.imencode(".tif", sixteen_bit())[1].tobytes())
    (photos / "trip" / "broken.jpg").write_bytes(camera_photo()[:300])
    (photos / ".thumbnails" / "hidden.jpg").write_bytes(camera_photo())
    (photos / "notes.txt").write_text("not a photo")
    out = tmp_path / "out"
    done = run_cli("upscale", photos, "--out", out, "--model", "bicubic", "--scale", 2)
    assert done.returncode == 1
    written = sorted(str(path.relative_to(out)) for path in out.rglob("*") if path.is_file())
    assert written == ["a-jpg.png", "a-png.png", "trip/b.png", "trip/day 2/c.png"]
    assert f"error: {photos / 'trip' / 'broken.jpg'}: the image file is truncated or corrupt: it starts as a JPEG" in done.stderr
    assert "4 done, 1 failed (of 5 photos)" in done.stderr
    assert cv2.imread(str(out / "trip" / "day 2" / "c.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    (out / "trip" / "b.png").unlink()  # as if the run had been stopped before it
    before = {path: path.stat().st_mtime_ns for path in out.rglob("*.png")}
    again = run_cli("upscale", photos, "--out", out, "--model", "bicubic", "--scale", 2, "--skip-existing")
    assert "1 done, 3 skipped, 1 failed (of 5 photos)" in again.stderr
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in before.items())  # nothing rewritten
    assert (out / "trip" / "b.png").exists()


def test_cli_refuses_bad_output_options_before_any_work(tmp_path):
    (tmp_path / "a.png").write_bytes(cv2.imencode(".png", upright())[1].tobytes())
    for args, message in [
        (["--format", "png", "--quality", 90], "quality is for the lossy formats"),
        (["--scale", 2, "--width", 100], "give a scale or a target width and/or height, not both"),
    ]:
        done = run_cli("upscale", tmp_path / "a.png", "--out", tmp_path / "out", "--model", "bicubic", *args)
        assert done.returncode == 2 and message in done.stderr
    assert not (tmp_path / "out").exists()
