"""Super-resolution of real-world files: every kind of input, tiling, metrics, the upscale command."""

import io
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from ganapps import hub
from ganapps.evaluation import evaluate_sr, modcrop
from ganapps.imaging import read_image
from ganapps.metrics import (
    block_grid_energy,
    periodic_pattern,
    position_energies,
    position_energy,
    psnr,
    psnr_ssim_y,
    rgb_to_y,
    ssim,
    texture,
)
from ganapps.models import realesrgan, srgan
from ganapps.photos import denoise_strength, upscale
from ganapps.tiling import tiled_apply

from .conftest import ROOT


def png_bytes(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kwargs.pop("format", "PNG"), **kwargs)
    return buffer.getvalue()


def photo(size=(24, 16)) -> Image.Image:
    return Image.fromarray(skdata.astronaut()).resize(size, Image.BICUBIC)


def test_tiled_equals_untiled_when_the_overlap_covers_the_receptive_field(sr_model):
    generator = hub.load(sr_model)
    image = torch.rand(1, 3, 37, 29)
    whole = srgan.restore(generator, image)
    radius = generator.config.receptive_radius
    tiled = tiled_apply(lambda t: srgan.restore(generator, t), image, scale=4, tile=8, overlap=radius)
    assert tiled.shape == whole.shape == (1, 3, 148, 116)
    assert torch.allclose(tiled, whole, atol=1e-5)
    too_small = tiled_apply(lambda t: srgan.restore(generator, t), image, scale=4, tile=8, overlap=1)
    assert not torch.allclose(too_small, whole, atol=1e-5)  # the test can tell a seam when there is one


@pytest.mark.parametrize("tile, hr_conv", [(16, False), (23, True), (40, False), (40, True)])
def test_photo_model_tiles_give_the_untiled_result(tmp_path, tile, hr_conv):
    """The compact generator (realesrgan family) runs through the same path, any tile size."""
    torch.manual_seed(0)
    generator = realesrgan.Generator(realesrgan.Config(channels=8, num_blocks=2, hr_conv=hr_conv))
    for parameter in generator.parameters():
        torch.nn.init.normal_(parameter, 0.0, 0.1)
    hub.save(generator, tmp_path / "photo-tiny")
    image = np.asarray(photo((53, 37)))
    whole = upscale(image, model=str(tmp_path / "photo-tiny"), tile=4096)
    tiled = upscale(image, model=str(tmp_path / "photo-tiny"), tile=tile)
    assert whole.size == (212, 148) and torch.allclose(tiled.color, whole.color, atol=1e-5)
    assert not torch.allclose(whole.color, upscale(image, model="bicubic").color, atol=1e-2)  # the network ran


def test_no_seam_on_a_smooth_gradient(sr_model):
    ramp = np.tile(np.linspace(40, 200, 64, dtype=np.uint8), (64, 1))
    gradient = np.stack([ramp, ramp.T, np.full_like(ramp, 90)], axis=-1)
    tiled = upscale(gradient, model=sr_model, tile=16).to_array().astype(np.float64)
    whole = upscale(gradient, model=sr_model, tile=4096).to_array().astype(np.float64)
    assert np.abs(tiled - whole).max() <= 1  # rounding only
    # The jump across each tile border (every 64 output pixels) is like the jumps beside it.
    steps = np.abs(np.diff(tiled.mean(axis=(0, 2))))
    for border in (63, 127, 191):
        assert steps[border] <= 2 * np.median(steps[border - 8 : border + 8]) + 1


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_size_for_each_scale(sr_model, scale):
    result = upscale(photo(), model=sr_model, scale=scale)
    assert result.size == (24 * scale, 16 * scale) and not result.grayscale and result.alpha is None


def test_bicubic_matches_pillow(sr_model):
    # Pillow's 8-bit bicubic rounds between its two passes; ours resizes in 32-bit float.
    image = photo()
    expected = np.asarray(image.resize((96, 64), Image.BICUBIC)).astype(int)
    difference = np.abs(upscale(image, model="bicubic").to_array().astype(int) - expected)
    assert difference.mean() < 0.5 and difference.max() <= 8


def test_grayscale_stays_grayscale(sr_model):
    result = upscale(png_bytes(photo().convert("L")), model=sr_model)
    assert result.grayscale and result.to_array().shape == (64, 96)


def test_rgba_keeps_its_alpha(sr_model):
    image = photo().convert("RGBA")
    alpha = np.zeros((16, 24), np.uint8)
    alpha[:, 12:] = 255
    image.putalpha(Image.fromarray(alpha))
    result = upscale(png_bytes(image), model=sr_model).to_array()
    assert result.shape == (64, 96, 4)
    assert result[:, :40, 3].max() <= 10 and result[:, 56:, 3].min() >= 245


def test_palette_with_transparency_and_la(sr_model):
    palette = photo().convert("P", palette=Image.ADAPTIVE, colors=16)
    assert upscale(png_bytes(palette, transparency=0), model=sr_model).to_array().shape == (64, 96, 4)
    assert upscale(png_bytes(palette), model=sr_model).to_array().shape == (64, 96, 3)
    assert upscale(png_bytes(photo().convert("LA")), model=sr_model).to_array().shape == (64, 96, 2)


def test_sixteen_bit_png_stays_sixteen_bit(sr_model, tmp_path):
    rgb16 = (np.asarray(photo()).astype(np.uint16) * 257) + 3  # values an 8-bit file cannot hold
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
    picture = read_image(encoded.tobytes(), max_pixels=10**6)
    assert picture.bit_depth == 16 and np.array_equal(picture.to_array(), rgb16)
    result = upscale(encoded.tobytes(), model=sr_model)
    saved = cv2.imread(str(result.save(tmp_path / "out.png")), cv2.IMREAD_UNCHANGED)
    assert saved.dtype == np.uint16 and saved.shape == (64, 96, 3)
    gray16 = Image.fromarray(rgb16[..., 1])  # uint16 -> mode I;16
    result = upscale(png_bytes(gray16), model=sr_model)
    saved = cv2.imread(str(result.save(tmp_path / "gray.png")), cv2.IMREAD_UNCHANGED)
    assert result.bit_depth == 16 and saved.dtype == np.uint16 and saved.shape == (64, 96)


def test_cmyk_jpeg_and_one_bit(sr_model):
    assert upscale(png_bytes(photo().convert("CMYK"), format="JPEG"), model=sr_model).to_array().shape == (64, 96, 3)
    assert upscale(png_bytes(photo().convert("1")), model=sr_model).grayscale


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_exif_orientation_is_applied(orientation):
    from PIL import ImageOps

    image = photo((24, 16))
    exif = Image.Exif()
    exif[0x0112] = orientation
    encoded = png_bytes(image, format="JPEG", exif=exif.tobytes(), quality=95)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(encoded))))
    assert np.array_equal(read_image(encoded, max_pixels=10**6).to_array(), expected)


def test_one_pixel_image(sr_model):
    assert upscale(np.full((1, 1, 3), 200, np.uint8), model=sr_model).size == (4, 4)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"this is not an image", "not an image"),
        (b"%PDF-1.4 fake", "not an image"),
        ("truncated", "truncated or corrupt"),
        ("huge", r"4097x4097 = 16.8 megapixels; the limit is 16.8 megapixels"),
        ("bomb", r"declares more than \d+ megapixels, too many to open safely; the limit is 16.8 megapixels"),
    ],
)
def test_bad_files_get_clear_errors(sr_model, payload, message):
    if payload == "bomb":  # a PNG that declares 30000x30000 pixels in under 1 KB
        import struct
        import zlib

        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
        payload = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(90001))) + chunk(b"IEND", b"")
        assert len(payload) < 1000
    if payload == "truncated":
        payload = png_bytes(photo((64, 64)))[:300]
    elif payload == "huge":
        payload = png_bytes(Image.new("RGB", (4097, 4097), (10, 20, 30)))
    with pytest.raises(ValueError, match=message):
        upscale(payload, model=sr_model)


def test_bad_arguments_are_refused(sr_model):
    for scale in (9, 0.5, True, float("nan"), "2"):
        with pytest.raises(ValueError, match="scale must be a number from 1 to 8"):
            upscale(photo(), model=sr_model, scale=scale)
    with pytest.raises(ValueError, match="tile must be"):
        upscale(photo(), model=sr_model, tile=0)
    with pytest.raises(ValueError, match="is a dcgan model"):
        upscale(photo(), model="dcgan-mnist")


def test_psnr_and_ssim_follow_the_standard_protocol():
    clean = skdata.camera().astype(np.float64)
    assert psnr(np.clip(clean + 5, 0, 255), np.clip(clean, 0, 250)) == pytest.approx(20 * np.log10(255 / 5))
    assert ssim(clean, clean) == pytest.approx(1.0)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 12, clean.shape), 0, 255)
    assert 0.3 < ssim(noisy, clean) < 0.8 and ssim(noisy, clean) == pytest.approx(ssim(clean, noisy))
    with pytest.raises(ValueError, match="win_size exceeds image extent"):  # smaller than one 11x11 window
        ssim(clean[:5, :5], clean[:5, :5])


def test_block_grid_energy_sees_a_grid_of_the_period_it_is_given():
    smooth = np.asarray(photo((512, 512)))
    assert 0.9 < block_grid_energy(smooth, period=32) < 1.1
    blocky = smooth.astype(np.int16)
    for k in range(32, 512, 32):
        blocky[:, k:] += 4  # a step at every 32nd column and row
        blocky[k:] += 4
    blocky = (blocky * 0.5).astype(np.uint8)  # the steps add up; halve to stay in range
    assert block_grid_energy(blocky, period=32) > 1.2  # steps of 2 levels in 255
    assert block_grid_energy(blocky, period=24) < 1.1  # another period does not see it
    assert block_grid_energy(blocky, period=32, within=4) > 1.2  # its steps stand out against the other 4-pixel boundaries too
    with pytest.raises(ValueError, match="too small"):
        block_grid_energy(smooth[:20, :20], period=32)
    with pytest.raises(ValueError, match="does not divide"):
        block_grid_energy(smooth, period=32, within=5)


def test_block_grid_energy_within_tells_the_jpeg_grid_from_the_low_res_pixels():
    smooth = np.asarray(photo((512, 512)))
    blocks = smooth[::4, ::4].repeat(4, axis=0).repeat(4, axis=1)  # every 4x4 block one colour: no JPEG grid
    pixelated = ((blocks.astype(np.int16) + smooth) // 2).astype(np.uint8)
    assert block_grid_energy(pixelated, period=4) > 2.5  # steps on every low-res pixel's boundary
    assert block_grid_energy(pixelated, period=32) > 1.8  # which the plain grid counts as JPEG blocks
    assert 0.9 < block_grid_energy(pixelated, period=32, within=4) < 1.1


def test_y_channel_and_shave_follow_the_protocol():
    assert rgb_to_y(np.array([[[0, 0, 0]]]))[0, 0] == pytest.approx(16.0)
    assert rgb_to_y(np.array([[[255, 255, 255]]]))[0, 0] == pytest.approx(235.0)
    image = np.asarray(photo((40, 40)))
    damaged = image.copy()
    damaged[:4] = 0  # only inside the shaved border
    assert psnr_ssim_y(damaged, image, shave=4)[0] == float("inf")
    assert modcrop(np.zeros((10, 13, 3)), 4).shape == (8, 12, 3)


def test_cli_upscale_writes_one_png_per_input_with_the_same_stem(sr_model, tmp_path):
    photo().save(tmp_path / "holiday.jpg")
    photo().convert("L").save(tmp_path / "scan.png")
    (tmp_path / "notes.png").write_bytes(b"not an image")
    result = subprocess.run(
        [sys.executable, "-m", "ganapps", "upscale", str(tmp_path / "holiday.jpg"), str(tmp_path / "notes.png"),
         str(tmp_path / "scan.png"), "--out", str(tmp_path / "out"), "--model", sr_model, "--scale", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1 and "notes.png: not an image" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["holiday.png", "scan.png"]
    assert Image.open(tmp_path / "out" / "holiday.png").size == (48, 32)
    assert Image.open(tmp_path / "out" / "scan.png").mode == "L"


def test_web_photo_evaluation_scores_jpeg_inputs_and_the_grid(sr_model, tmp_path):
    for index in range(2):
        Image.fromarray(skdata.astronaut()[index * 100 : index * 100 + 96, :96]).save(tmp_path / f"{index}.png")
    clean = evaluate_sr(tmp_path, models=["bicubic"])
    web = evaluate_sr(tmp_path, models=["bicubic"], jpeg_quality=50)
    assert web["bicubic"]["psnr"] < clean["bicubic"]["psnr"] - 0.3  # the JPEG costs fidelity
    assert web["bicubic"]["grid"] > clean["bicubic"]["grid"]  # and shows its blocks
    assert set(web["ground truth"]) == {"grid", "jpeg grid", "pixel grid", "checkerboard", "dots"}
    assert web["bicubic"]["pixel grid"] > web["ground truth"]["pixel grid"] + 0.1  # bicubic marks every low-res pixel
    assert web["bicubic"]["texture"] < 0.7  # bicubic is smooth: the oil-painting end of the texture ratio
    result = subprocess.run(
        [sys.executable, "-m", "ganapps", "evaluate", "sr", "--data", str(tmp_path), "--models", "bicubic", sr_model,
         "--jpeg", "75"], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "saved as JPEG quality 75" in result.stdout and "block-grid energy" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith(f"| {tmp_path.name} |")]
    assert [row.split("|")[2].strip() for row in rows] == ["bicubic", sr_model, "ground truth"]


def test_texture_is_the_mean_absolute_laplacian_and_sees_blur_and_grain():
    image = np.asarray(photo((256, 256)))
    blurred = np.asarray(photo((64, 64)).resize((256, 256), Image.BICUBIC))
    grainy = np.clip(image + np.random.default_rng(0).normal(0, 8, image.shape), 0, 255)
    assert texture(blurred) < 0.6 * texture(image) < 0.6 * texture(grainy)
    flat = np.full((16, 16, 3), 128.0)
    flat[8, 8] = 138.0  # one bright pixel: |laplacian| of its luma is 4x the step at it, 1x at its 4 neighbours
    step = rgb_to_y(flat)[8, 8] - rgb_to_y(flat)[0, 0]
    assert texture(flat) == pytest.approx(8 * step / 256)


@pytest.fixture(scope="module")
def paired_model(tmp_path_factory):
    """A tiny realesrgan model with a denoise twin (random weights, so the blend changes the output)."""
    torch.manual_seed(1)
    strong, mild = (realesrgan.Generator(realesrgan.Config.tiny()).eval() for _ in range(2))
    for parameter in [*strong.parameters(), *mild.parameters()]:
        torch.nn.init.normal_(parameter, 0.0, 0.05)
    folder = tmp_path_factory.mktemp("models") / "paired-tiny"
    hub.save(strong, folder, mild=mild, default_denoise=0.75)
    return str(folder)


def test_denoise_strength_blends_the_twin_and_defaults_to_the_model_s_own(paired_model, sr_model):
    image = photo((20, 20))
    outputs = {d: upscale(image, model=paired_model, denoise=d).to_array().astype(int) for d in (0.0, 0.75, 1.0)}
    assert np.array_equal(upscale(image, model=paired_model).to_array(), outputs[0.75])
    assert np.abs(outputs[0.0] - outputs[1.0]).max() > 2
    assert denoise_strength(paired_model) == 0.75 and denoise_strength(sr_model) is None and denoise_strength("bicubic") is None
    with pytest.raises(ValueError, match="has no denoise control"):
        upscale(image, model=sr_model, denoise=0.5)
    with pytest.raises(ValueError, match=r"denoise must be a strength in 0\.\.1"):
        upscale(image, model=paired_model, denoise=-0.1)


def test_cli_upscale_takes_a_denoise_strength(paired_model, tmp_path):
    photo((20, 20)).save(tmp_path / "noisy.png")
    for strength in ("0", "1"):
        result = subprocess.run(
            [sys.executable, "-m", "ganapps", "upscale", str(tmp_path / "noisy.png"), "--out", str(tmp_path / strength),
             "--model", paired_model, "--denoise", strength], cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
    expected = upscale(tmp_path / "noisy.png", model=paired_model, denoise=0.0).to_array()
    assert np.array_equal(np.asarray(Image.open(tmp_path / "0" / "noisy.png")), expected)
    assert not np.array_equal(np.asarray(Image.open(tmp_path / "1" / "noisy.png")), expected)


def test_position_energy_sees_dots_whose_sign_follows_the_picture():
    image = np.asarray(photo((256, 256))).astype(np.float64)
    assert position_energy(image, period=4) < 1.2
    dotted = image.copy()
    signs = np.where(np.arange(64)[:, None] < 32, 1.0, -1.0) * np.ones((1, 64))  # bright dots above, dark below
    dotted[1::4, 2::4] += 12 * signs[..., None]  # one sub-pixel position, (row 1, column 2), its own way
    dotted = np.clip(dotted, 0, 255)
    assert periodic_pattern(dotted, period=4) < 0.15  # the signed means cancel
    energies = position_energies(dotted, period=4)
    assert energies.shape == (4, 4) and np.unravel_index(energies.argmax(), energies.shape) == (1, 2)
    assert position_energy(dotted, period=4) > 2
    with pytest.raises(ValueError, match="too small"):
        position_energy(image[:3, :3], period=4)


def test_sub_pixel_repairs_reset_a_position_and_even_out_constant_areas():
    torch.manual_seed(0)
    generator, reference = (realesrgan.Generator(realesrgan.Config(channels=4, num_blocks=1, hr_conv=True)).eval() for _ in range(2))
    for network in (generator, reference):
        for parameter in (network.tail.weight, network.tail.bias):
            parameter.data.normal_(0, 0.1)
    flat = torch.full((1, 3, 32, 32), 0.5)

    def position_spread(network):  # per-position detail of a flat photo, away from the borders
        detail = (network(flat) - flat.mean())[0, :, 48:80, 48:80]
        positions = detail.reshape(3, 8, 4, 8, 4).mean(dim=(1, 3))  # (colour, row, column)
        return (positions - positions.mean(dim=(1, 2), keepdim=True)).abs().max().item()

    assert position_spread(generator) > 0.05
    before = generator.tail.weight.clone()
    equalized = realesrgan.equalize_positions(generator)
    assert position_spread(equalized) < 1e-5
    assert position_spread(realesrgan.equalize_positions(equalized)) < 1e-5
    assert torch.equal(generator.tail.weight, before)  # a copy: the original is kept
    assert not torch.allclose(equalized.tail.weight, generator.tail.weight)

    repaired = realesrgan.reset_positions(generator, reference, [(1, 2)])
    channels = [colour * 16 + 1 * 4 + 2 for colour in range(3)]  # the pixel shuffle's order
    others = [c for c in range(48) if c not in channels]
    assert torch.equal(repaired.tail.weight[channels], reference.tail.weight[channels])
    assert torch.equal(repaired.tail.bias[channels], reference.tail.bias[channels])
    assert torch.equal(repaired.tail.weight[others], generator.tail.weight[others])
    kept = {name: value for name, value in generator.state_dict().items() if not name.startswith("tail.")}
    assert all(torch.equal(repaired.state_dict()[name], value) for name, value in kept.items())


def test_periodic_pattern_sees_a_sub_pixel_checkerboard_and_not_a_photo():
    image = np.asarray(photo((256, 256))).astype(np.float64)
    assert periodic_pattern(image, period=4) < 0.1
    checkered = image.copy()
    checkered[::4, ::4] += 6  # one of the 16 sub-pixel positions a little brighter
    assert periodic_pattern(np.clip(checkered, 0, 255), period=4) > 0.3
    assert periodic_pattern(np.clip(checkered, 0, 255), period=3) < 0.1  # another period does not see it
    with pytest.raises(ValueError, match="too small"):
        periodic_pattern(image[:3, :3], period=4)
