"""The digits API over the shipped checkpoints, and the `sample` command other tools call."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from ganapps import digits, hub
from ganapps.digits import interpolate, sample_batches, sample_digits, traversal, write_number
from ganapps.metrics import classify

from .conftest import ROOT


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_images": 0}, r"num_images must be in 1..256, got 0"),
        ({"num_images": 257}, r"num_images must be in 1..256"),
        ({"num_images": 2.5}, r"num_images must be a whole number"),
        ({"seed": -1}, r"seed must be in 0..4294967295"),
        ({"seed": 2**32}, r"seed must be in 0..4294967295"),
        ({"digit": 10, "model": "cgan-mnist"}, r"digit must be in 0..9, got 10"),
        ({"slant": 2.5, "model": "infogan-mnist"}, r"slant must be in -2.0..2.0, got 2.5"),
        ({"width": float("nan"), "model": "infogan-mnist"}, r"width must be a number"),
        ({"digit": 3}, r"DCGAN draws unconditioned digits"),
        ({"slant": 1.0, "model": "cgan-mnist"}, r"slant and width are InfoGAN codes"),
        ({"model": "mnist-classifier"}, r"is a classifier model"),
        ({"model": "no-such-model"}, r"unknown model 'no-such-model'; available: "),
    ],
)
def test_bad_arguments_are_refused_with_the_allowed_range(kwargs, message):
    kwargs = {"model": "dcgan-mnist", "num_images": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        sample_digits(kwargs.pop("model"), kwargs.pop("num_images"), **kwargs)


def test_cgan_draws_the_digit_asked_for_deterministically():
    a = sample_digits("cgan-mnist", 6, seed=11, digit=4)
    assert a.shape == (6, 1, 28, 28) and torch.equal(a, sample_digits("cgan-mnist", 6, seed=11, digit=4))
    assert len({tuple(x.flatten().tolist()) for x in a}) == 6  # six different hands


def test_write_number_lays_out_digits_and_gaps():
    image = write_number("20 26", seed=1)
    assert image.shape == (1, 1, 28, 4 * 28 + 14)
    assert torch.all(image[..., 56:70] == -1)  # the space
    assert torch.allclose(image[..., :28], write_number("2", seed=1)[..., :28], atol=1e-5)


@pytest.mark.parametrize("text, message", [("12a4", "remove 'a'"), ("", "type a number"), ("1" * 33, "at most 32 digits"), ("٣", "remove")])
def test_write_number_refuses_what_it_cannot_write(text, message):
    with pytest.raises(ValueError, match=message):
        write_number(text)


def test_interpolation_ends_are_the_seeds_digits():
    strip = interpolate("dcgan-mnist", 5, 9, steps=4)
    assert strip.shape == (4, 1, 28, 28)
    assert torch.allclose(strip[0], sample_digits("dcgan-mnist", 1, seed=5)[0], atol=1e-5)
    assert torch.allclose(strip[-1], sample_digits("dcgan-mnist", 1, seed=9)[0], atol=1e-5)


def test_infogan_digit_maps_to_its_calibrated_category(tmp_path):
    generator = hub.load("infogan-mnist")
    digit = generator.config.category_digits[0]
    images = sample_digits("infogan-mnist", 3, seed=0, digit=digit, slant=0.5, width=-0.5)
    assert images.shape == (3, 1, 28, 28)
    # A calibration in which two categories draw a 0 and none draws the 7: asking for a 7 says so.
    digits = tuple(0 if d == 7 else d for d in generator.config.category_digits)
    generator.config = dataclasses.replace(generator.config, category_digits=digits)
    hub.save(generator, tmp_path / "no-seven")
    with pytest.raises(ValueError, match="no category of this InfoGAN draws a 7"):
        sample_digits(str(tmp_path / "no-seven"), 1, digit=7)
    assert sample_digits(str(tmp_path / "no-seven"), 2, digit=0, seed=0).shape == (2, 1, 28, 28)


@pytest.mark.parametrize("attribute", ["slant", "width", "digit"])
def test_traversal_grid_varies_one_code_per_row(attribute):
    config = hub.load("infogan-mnist").config
    images, columns = traversal("infogan-mnist", attribute, digit=config.category_digits[0], seed=2, rows=3, steps=5)
    assert columns == (10 if attribute == "digit" else 5)
    assert images.shape == (3 * columns, 1, 28, 28)
    rows = images.view(3, columns, -1)
    assert not torch.equal(rows[0, 0], rows[0, -1])


def test_traversal_refuses_unknown_attribute():
    with pytest.raises(ValueError, match="available: slant, width, digit"):
        traversal("infogan-mnist", "colour")


def run_sample(*args):
    return subprocess.run([sys.executable, "-m", "ganapps", "sample", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("family, extra", [("dcgan", []), ("cgan", ["--digit", "7"]), ("infogan", ["--slant", "1", "--width", "-1"])])
def test_cli_sample_writes_one_28x28_grayscale_png_per_digit(family, extra, tmp_path):
    result = run_sample(family, "--num-images", "5", "--seed", "3", "--out", str(tmp_path), *extra)
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"{i:04d}.png" for i in range(5)]
    images = [Image.open(tmp_path / name) for name in files]
    assert all(image.mode == "L" and image.size == (28, 28) for image in images)
    expected = sample_digits(digits.DEFAULT_MODELS[family], 5, seed=3, digit=7 if family == "cgan" else None,
                             slant=1.0 if family == "infogan" else None, width=-1.0 if family == "infogan" else None)
    assert np.array_equal(np.asarray(images[2]), ((expected[2, 0].clamp(-1, 1) + 1) * 127.5).round().byte().numpy())


def test_any_number_of_digits_comes_in_bounded_batches(tmp_path):
    batches = list(sample_batches("cgan-mnist", 600, seed=5))
    assert [len(b) for b in batches] == [256, 256, 88]
    assert torch.equal(batches[0], sample_digits("cgan-mnist", 256, seed=5))  # the first batch: as before
    assert not torch.equal(batches[1][:10], batches[0][:10])  # later batches draw new noise
    assert all(torch.equal(a, b) for a, b in zip(batches, sample_batches("cgan-mnist", 600, seed=5)))
    # labels cycle 0..9 across batches: digit 600 - 88 = 512 is a 2, as in one long sequence
    classifier = hub.load("mnist-classifier")
    predicted = classify(classifier, batches[2])[0]
    assert (predicted == torch.arange(512, 600) % 10).float().mean() > 0.8
    with pytest.raises(ValueError, match="digit must be in 0..9"):
        sample_batches("cgan-mnist", 1000, digit=12)  # refused before anything is drawn
    result = run_sample("dcgan", "--num-images", "300", "--seed", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{i:04d}.png" for i in range(300)]


def test_cli_sample_reports_bad_arguments():
    result = run_sample("dcgan", "--num-images", "2", "--out", "/tmp/never", "--digit", "3")
    assert result.returncode == 2 and "DCGAN draws unconditioned digits" in result.stderr
    result = run_sample("cgan", "--num-images", "2", "--out", "/tmp/never", "--digit", "12")
    assert result.returncode == 2 and "digit must be in 0..9" in result.stderr
