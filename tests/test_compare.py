"""Models side by side on one photo (ganapps.compare): the library, the command line."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ganapps.compare import compare_derain, compare_upscale, label_of, sheet, write
from ganapps.photos import derain, upscale

from .conftest import ROOT


def photo():
    return np.random.default_rng(0).integers(0, 255, (12, 18, 3), np.uint8)


def test_each_model_gives_what_the_verb_alone_gives(sr_model, rain_model):
    results = compare_upscale(photo(), [sr_model, "bicubic"], scale=2)
    assert [r.name for r in results] == [sr_model, "bicubic"] and all(r.seconds >= 0 for r in results)
    assert np.array_equal(results[0].picture.to_array(), upscale(photo(), model=sr_model, scale=2).to_array())
    assert np.array_equal(results[1].picture.to_array(), upscale(photo(), model="bicubic", scale=2).to_array())
    assert all(r.picture.size == (36, 24) for r in results)
    rained = compare_derain(photo(), [rain_model, "derain-idcgan"], strength=0.5)
    assert np.array_equal(rained[0].picture.to_array(), derain(photo(), model=rain_model, strength=0.5).to_array())
    assert rained[1].setting == "strength 0.5"


@pytest.mark.parametrize("models, message", [
    (["bicubic"], "compare 2 to 4 models, got 1"),
    (["bicubic"] * 2, "each model once"),
    (["a", "b", "c", "d", "e"], "compare 2 to 4 models, got 5"),
    ("bicubic", "give the models to compare as a list"),
    (["bicubic", "dcgan-mnist"], "is a dcgan model"),
])
def test_a_wrong_set_of_models_is_refused(models, message):
    with pytest.raises(ValueError, match=message):
        compare_upscale(photo(), models, scale=2)


def test_the_sheet_shows_the_same_crop_of_each_and_the_files_are_named_after_the_models(sr_model, tmp_path):
    results = compare_upscale(photo(), [sr_model, "bicubic"], scale=2)
    image = sheet(results, panel=16)
    assert image.size == (2 * (16 + 8) + 8, 16 + 36 + 16)
    left = np.asarray(results[1].picture.to_pil())[4:20, 10:26]  # the centre crop of the 36x24 result
    assert np.array_equal(np.asarray(image)[8:24, 8 + 24 : 8 + 24 + 16], left)
    zoomed = np.asarray(sheet(results, panel=48))  # the whole 36x24 result, shown at 48 // 36 = 1x; at panel 80, 2x
    assert zoomed.shape[:2] == (24 + 36 + 16, 2 * (36 + 8) + 8)
    twice = np.asarray(sheet(results, panel=80))
    assert np.array_equal(twice[8 : 8 + 48 : 2, 8 + 80 : 8 + 80 + 72 : 2], np.asarray(results[1].picture.to_pil()))
    paths, target = write(results, tmp_path, "street", format="jpeg", quality=90)
    assert [p.name for p in paths] == ["street-sr-tiny.jpg", "street-bicubic.jpg"] and target.name == "street-compare.png"
    assert Image.open(paths[0]).format == "JPEG"
    assert label_of("hf://org/repo@main/4x-Model.pth") == "4x-Model" and label_of("org/name@v2") == "name_v2"


def test_cli_compares_and_writes_each_result_and_the_sheet(tmp_path):
    Image.fromarray(photo()).save(tmp_path / "street.png")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "ganapps", "compare", "derain", str(tmp_path / "street.png"), "--models",
                           "derain-idcgan-ssim", "derain-idcgan", "--out", str(tmp_path / "out"), "--strength", "0.5"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "street-compare.png", "street-derain-idcgan-ssim.png", "street-derain-idcgan.png"]
    assert "derain-idcgan-ssim: " in done.stdout and "strength 0.5" in done.stdout
    wrong = subprocess.run([sys.executable, "-m", "ganapps", "compare", "derain", str(tmp_path / "street.png"), "--models",
                            "derain-idcgan", "derain-idcgan-mix", "--out", str(tmp_path / "x"), "--scale", "2"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert wrong.returncode == 2 and "are for upscale" in wrong.stderr
