"""Deraining: the rain synthesizer, inference on every kind of input, evaluation, the derain command."""

import dataclasses
import io
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from ganapps import hub
from ganapps.evaluation import evaluate_derain
from ganapps.models import derain as derain_family
from ganapps.photos import derain
from ganapps.rain import RainParams, add_rain, random_params
from ganapps.tiling import tiled_apply

from .conftest import ROOT

BLACK = np.zeros((160, 160, 3), np.float32)


def rain_only(**params):
    return add_rain(BLACK, RainParams(**params), seed=3).mean(axis=2)


def gradient_tensor(image):
    gy, gx = np.gradient(image)
    return (gx * gx).sum(), (gy * gy).sum(), (gx * gy).sum()


def test_rain_is_deterministic_by_seed():
    photo = skdata.astronaut()[:64, :64]
    a, b = add_rain(photo, RainParams(), seed=1), add_rain(photo, RainParams(), seed=1)
    assert a.dtype == np.float32 and a.shape == (64, 64, 3) and np.array_equal(a, b)
    assert not np.array_equal(a, add_rain(photo, RainParams(), seed=2))


def test_amount_brightness_and_layers_add_rain():
    assert rain_only(amount=0.9).mean() > 1.5 * rain_only(amount=0.2).mean() > 0
    assert rain_only(brightness=0.9).mean() > 1.5 * rain_only(brightness=0.3).mean()
    assert rain_only(layers=4).mean() > rain_only(layers=1).mean()


def test_angle_sets_the_streak_direction():
    jxx, jyy, jxy = gradient_tensor(rain_only(angle=0.0))
    assert jxx > 4 * jyy  # vertical streaks: the intensity changes across them, horizontally
    right, left = gradient_tensor(rain_only(angle=30.0))[2], gradient_tensor(rain_only(angle=-30.0))[2]
    assert right * left < 0  # leaning the other way flips the sign of the cross term


def test_length_makes_longer_streaks():
    def vertical_correlation(image, lag=12):
        a, b = image[:-lag] - image.mean(), image[lag:] - image.mean()
        return (a * b).mean() / image.var()

    assert vertical_correlation(rain_only(length=70.0, angle=0.0)) > vertical_correlation(rain_only(length=10.0, angle=0.0)) + 0.2


def test_haze_and_blur_and_grayscale():
    photo = skdata.camera()[200:264, 200:264]
    clear, hazy = add_rain(photo, RainParams(amount=0.0), seed=0), add_rain(photo, RainParams(amount=0.0, haze=0.5), seed=0)
    assert hazy.shape == (64, 64) and hazy.std() == pytest.approx(clear.std() * 0.5, rel=0.01)  # the veil halves contrast
    assert hazy.mean() > clear.mean()
    sharp, blurred = add_rain(photo, RainParams(), seed=0), add_rain(photo, RainParams(blur=2.0), seed=0)
    assert np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(sharp, axis=1)).mean()


@pytest.mark.parametrize("field, value", [("amount", 1.5), ("angle", 90), ("length", 1), ("layers", 0), ("haze", -0.1)])
def test_rain_parameters_are_checked(field, value):
    with pytest.raises(ValueError, match=f"rain {field} must be in"):
        RainParams(**{field: value})


def test_random_training_rain_is_valid_and_varied():
    rng = np.random.default_rng(0)
    params = [random_params(rng) for _ in range(300)]
    assert len({p.angle for p in params}) == 300 and {p.layers for p in params} == {1, 2, 3, 4}
    drizzle = [p for p in params if p.width <= 1.4 and p.brightness <= 0.6 and p.layers <= 2 and not p.haze]
    assert 0.3 <= len(drizzle) / len(params) <= 0.45  # a third drawn as drizzle, a few more from the broad range


def test_training_pairs_include_dry_photos(tmp_path):
    from ganapps.data import RainPatches

    Image.fromarray(skdata.astronaut()[::2, ::2]).save(tmp_path / "photo.png")
    indices = torch.zeros(40, dtype=torch.long)
    rainy, clean = RainPatches([tmp_path], patch=64, dry_share=0.25).batch(indices, seed=0)
    dry = (rainy == clean).flatten(1).all(1)
    assert 3 <= dry.sum() <= 20  # about a quarter of the synthetic crops stay dry, the rest get rain
    rainy, clean = RainPatches([tmp_path], patch=64, dry_share=0.0).batch(indices, seed=0)
    assert not (rainy == clean).flatten(1).all(1).any()


def test_training_pairs_include_gray_photos(tmp_path):
    from ganapps.data import RainPatches

    Image.fromarray(skdata.astronaut()[::2, ::2]).save(tmp_path / "photo.png")
    indices = torch.zeros(40, dtype=torch.long)
    for gray_share, low, high in ((0.0, 0, 0), (0.2, 3, 16), (1.0, 40, 40)):
        rainy, clean = RainPatches([tmp_path], patch=64, gray_share=gray_share).batch(indices, seed=0)
        gray = [((images[:, 0] == images[:, 1]) & (images[:, 1] == images[:, 2])).flatten(1).all(1) for images in (rainy, clean)]
        assert torch.equal(gray[0], gray[1])  # both sides of a pair, or neither
        assert low <= gray[0].sum() <= high


def side_by_side_folder(folder, count):
    """``count`` pix2pix-layout files: left the clean photo (its number in red), right the rainy one (in green)."""
    folder.mkdir()
    for number in range(1, count + 1):
        pair = np.zeros((32, 70, 3), np.uint8)
        pair[:, :35, 0], pair[:, 35:, 1] = number, number
        Image.fromarray(pair).save(folder / f"{number}.png")
    return folder


def test_side_by_side_pairs_are_split_once_by_name_order(tmp_path):
    from ganapps.data import side_by_side_pairs

    folder = side_by_side_folder(tmp_path / "pairs", 25)
    train, validation = side_by_side_pairs(folder), side_by_side_pairs(folder, split="validation")
    assert len(train) == 23 and len(validation) == 2 and len(side_by_side_pairs(folder, split="all")) == 25
    rainy, clean = validation[0]
    assert rainy.shape == clean.shape == (32, 35, 3)
    assert (rainy[..., 1] > 0).all() and (rainy[..., 0] == 0).all() and (clean[..., 1] == 0).all()  # right rainy, left clean
    names = sorted(f"{n}.png" for n in range(1, 26))  # name order: 1, 10, 11, ..., 19, 2, 20, ...
    held_out = {int(names[9][:-4]), int(names[19][:-4])}
    assert {int(clean[0, 0, 0]) for _, clean in validation} == held_out
    assert not held_out & {int(clean[0, 0, 0]) for _, clean in train}
    with pytest.raises(ValueError, match="unknown split 'test'; available: train, validation, all"):
        side_by_side_pairs(folder, split="test")


def test_training_pairs_read_side_by_side_folders(tmp_path):
    from ganapps.data import RainPatches

    folder = side_by_side_folder(tmp_path / "pairs", 10)
    patches = RainPatches([f"side-by-side:{folder}"], patch=32, gray_share=0.0)
    assert len(patches) == 9  # the training split, each pair once
    rainy, clean = patches.batch(torch.arange(9), seed=0)
    assert (rainy[:, 0] == 0).all() and (rainy[:, 1] > 0).all() and (clean[:, 1] == 0).all()


def test_tiled_equals_untiled_within_tolerance(rain_model):
    generator = hub.load(rain_model)
    image = torch.from_numpy(skdata.astronaut()[::4, ::4][:70, :90] / 255).float().permute(2, 0, 1)[None]
    whole = derain_family.restore(generator, image)
    statistics = derain_family.image_statistics(image)
    tiled = tiled_apply(
        lambda t: derain_family.restore(generator, t, statistics=statistics), image, scale=1, tile=8, overlap=32
    )
    assert tiled.shape == whole.shape
    assert (tiled - whole).abs().max() < 2 / 255
    # Each tile's own statistics would correct it differently: the whole photo's are what keep tiles alike.
    alone = tiled_apply(lambda t: derain_family.restore(generator, t), image, scale=1, tile=8, overlap=32)
    assert (alone - whole).abs().max() > 2 / 255


def test_receptive_radius_bounds_what_an_output_pixel_sees():
    torch.manual_seed(0)
    config = derain_family.Config(channels=4, growth=4, layers_per_block=2, refine_blocks=2, global_context=False,
                                  stages=2, stage_channels=4, stage_blocks=1)
    generator = derain_family.Generator(config)
    for parameter in generator.parameters():
        torch.nn.init.normal_(parameter, 0.0, 0.3)
    image = torch.rand(1, 3, 128, 128)
    for row, col in ((64, 64), (61, 66), (63, 63)):  # every phase of the pooling grid
        poked = image.clone()
        poked[..., row, col] += 1
        changed = (generator(poked) - generator(image)).abs().amax(dim=(0, 1)) > 0
        rows, cols = torch.nonzero(changed, as_tuple=True)
        reach = max((rows - row).abs().max(), (cols - col).abs().max()).item()
        assert config.receptive_radius - 8 <= reach <= config.receptive_radius  # a bound, and not a loose one


@pytest.mark.parametrize("tile", [17, 33, 45, 50])
def test_tiled_equals_untiled_for_any_tile_size(rain_model, tile):
    """Tiles start on the pooling grid and get the whole receptive field as context: the same result."""
    photo = (add_rain(skdata.astronaut()[:90, :118], RainParams(), seed=1) * 255).astype(np.uint8)
    whole = derain(photo, model=rain_model, tile=4096).color
    tiled = derain(photo, model=rain_model, tile=tile).color
    assert torch.allclose(tiled, whole, atol=1e-5)


def test_image_statistics_see_haze_and_ignore_the_photo_size():
    clean = torch.from_numpy(skdata.astronaut()).permute(2, 0, 1)[None].float() / 255
    hazy = clean * 0.7 + 0.3 * 0.85
    before, after = derain_family.image_statistics(clean), derain_family.image_statistics(hazy)
    assert before.shape == (1, derain_family.STATISTICS)
    # Means, percentiles and the dark channel follow the veil; the spread shrinks with it.
    level = torch.cat([before[:, :3], before[:, 6:]], dim=1) * 0.7 + 0.3 * 0.85
    assert torch.allclose(torch.cat([after[:, :3], after[:, 6:]], dim=1), level, atol=1e-4)
    assert torch.allclose(after[:, 3:6], before[:, 3:6] * 0.7, atol=1e-4)
    big = torch.nn.functional.interpolate(clean, scale_factor=8, mode="nearest")  # 4096 x 4096
    assert torch.allclose(derain_family.image_statistics(big), before, atol=0.02)


def test_new_layers_start_as_the_identity():
    """A network grown with refinement blocks, progressive stages and the global correction computes what it did before."""
    torch.manual_seed(0)
    plain = derain_family.Generator(dataclasses.replace(derain_family.Config.tiny(), refine_blocks=0, global_context=False))
    for parameter in plain.parameters():
        torch.nn.init.normal_(parameter, 0.0, 0.1)
    grown = derain_family.Generator(dataclasses.replace(derain_family.Config.tiny(), stages=3, stage_channels=4))
    missing, unexpected = grown.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith(("refine.", "correct.", "stage.")) for k in missing)
    image = torch.rand(2, 3, 36, 44)
    assert torch.equal(grown(image), plain(image))


def png_bytes(image, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, format=kwargs.pop("format", "PNG"), **kwargs)
    return buffer.getvalue()


def test_every_kind_of_input(rain_model):
    photo = Image.fromarray(skdata.coffee()).resize((48, 32))
    assert derain(photo, model=rain_model).to_array().shape == (32, 48, 3)
    assert derain(png_bytes(photo.convert("L")), model=rain_model).grayscale
    rgba = photo.convert("RGBA")
    rgba.putalpha(77)
    result = derain(png_bytes(rgba), model=rain_model).to_array()
    assert result.shape == (32, 48, 4) and (result[..., 3] == 77).all()  # alpha kept as it was
    assert derain(np.asarray(photo).astype(np.uint16) * 257, model=rain_model).bit_depth == 16
    assert derain(png_bytes(photo.convert("CMYK"), format="JPEG"), model=rain_model).to_array().shape == (32, 48, 3)
    assert derain(png_bytes(photo.convert("P")), model=rain_model).to_array().shape == (32, 48, 3)


@pytest.mark.parametrize(
    "payload, message",
    [(b"GIF89a-not-really", "truncated or corrupt: it starts as a GIF"), (b"plain text", "not an image"),
     ("truncated", "truncated"), ("huge", "the limit is 16.8 megapixels")],
)
def test_bad_inputs_get_clear_errors(rain_model, payload, message):
    if payload == "truncated":
        payload = png_bytes(Image.new("RGB", (80, 80), (5, 6, 7)))[:90]
    elif payload == "huge":
        payload = png_bytes(Image.new("L", (4097, 4097)))
    with pytest.raises(ValueError, match=message):
        derain(payload, model=rain_model)


def test_derain_refuses_other_families(rain_model):
    with pytest.raises(ValueError, match="is a cgan model"):
        derain(np.zeros((8, 8, 3), np.uint8), model="cgan-mnist")


def test_evaluate_and_cli_on_a_small_paired_set(rain_model, tmp_path):
    for name, source in (("a.png", skdata.astronaut()), ("b.png", skdata.chelsea())):
        clean = np.asarray(Image.fromarray(source).resize((40, 32)))
        (tmp_path / "clean").mkdir(exist_ok=True)
        (tmp_path / "rainy").mkdir(exist_ok=True)
        Image.fromarray(clean).save(tmp_path / "clean" / name)
        rainy = (add_rain(clean, RainParams(), seed=1) * 255).round().astype(np.uint8)
        Image.fromarray(rainy).save(tmp_path / "rainy" / name)
    scores = evaluate_derain(tmp_path / "rainy", tmp_path / "clean", models=[rain_model])
    assert set(scores) == {"rainy input", rain_model} and 5 < scores["rainy input"]["psnr"] < 40
    result = subprocess.run(
        [sys.executable, "-m", "ganapps", "derain", str(tmp_path / "rainy" / "a.png"), str(tmp_path / "rainy" / "b.png"),
         "--out", str(tmp_path / "out"), "--model", rain_model],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]


def test_cli_uses_the_default_model_and_reports_bad_inputs(tmp_path):
    photo = (add_rain(skdata.coffee()[:40, :56], RainParams(), seed=2) * 255).round().astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "rainy.png")
    (tmp_path / "notes.png").write_bytes(b"not an image")
    result = subprocess.run(
        [sys.executable, "-m", "ganapps", "derain", str(tmp_path / "notes.png"), str(tmp_path / "rainy.png"), "--tile", "23",
         "--out", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1 and "notes.png: not an image" in result.stderr
    written = np.asarray(Image.open(tmp_path / "out" / "rainy.png")).astype(int)
    for model, same in (("derain-idcgan-ssim", True), ("derain-idcgan-mix", False)):  # the library's default, whatever the tile
        assert (np.abs(written - derain(photo, model=model).to_array()).max() <= 1) == same


def test_strength_removes_that_share_of_the_rain_layer(rain_model, tmp_path):
    rainy = (add_rain(skdata.coffee()[:40, :56], RainParams(), seed=3) * 255).round().astype(np.uint8)
    full = derain(rainy, model=rain_model).to_array().astype(int)
    assert np.array_equal(derain(rainy, model=rain_model, strength=0.0).to_array(), rainy)  # nothing removed
    half = derain(rainy, model=rain_model, strength=0.5).to_array().astype(int)
    assert np.abs(half - (rainy.astype(int) + full) / 2).max() <= 1
    gray = np.asarray(Image.fromarray(rainy).convert("L"))
    assert np.array_equal(derain(gray, model=rain_model, strength=0.0).to_array(), gray)  # gray stays gray
    for bad in (-0.1, 1.5, True):
        with pytest.raises(ValueError, match="strength must be in 0..1"):
            derain(rainy, model=rain_model, strength=bad)
    Image.fromarray(rainy).save(tmp_path / "rainy.png")
    result = subprocess.run(
        [sys.executable, "-m", "ganapps", "derain", str(tmp_path / "rainy.png"), "--out", str(tmp_path / "out"),
         "--model", rain_model, "--strength", "0.5"], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert np.abs(np.asarray(Image.open(tmp_path / "out" / "rainy.png")).astype(int) - half).max() <= 1


def test_rain_check_scores_the_rain_made_and_the_rain_removed(rain_model):
    from ganapps.evaluation import rain_check

    photo = skdata.astronaut()[100:164, 150:246]
    check = rain_check(photo, amount=0.6, angle=10, length=30, seed=0, model=rain_model)
    assert check["rainy"].shape == check["derained"].shape == photo.shape
    assert check["rainy_scores"][0] < 35  # the rain is there, and measured against the photo
    assert not np.array_equal(check["rainy"], photo)
    again = rain_check(photo, amount=0.6, angle=10, length=30, seed=0, model=rain_model)
    assert np.array_equal(again["rainy"], check["rainy"])  # the seed decides the rain
    with pytest.raises(ValueError, match="the limit is 4.2 megapixels"):
        rain_check(np.zeros((2100, 2100, 3), np.uint8), amount=0.5, angle=0, length=20, seed=0, model=rain_model)
