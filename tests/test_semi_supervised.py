"""The semi-supervised GAN (its loss, data and training) and reading digits from uploads."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from ganapps import data, hub, recipes, recognition, sample_digits
from ganapps.models import ssgan
from ganapps.recognition import BLACK_ON_WHITE, WHITE_ON_BLACK, classify, mnist_layout
from ganapps.training import TrainConfig

from .conftest import ROOT


def test_the_unsupervised_loss_is_the_k_plus_one_class_objective():
    logits_real, logits_fake = torch.randn(6, 10) * 3, torch.randn(5, 10) * 3
    z_real, z_fake = logits_real.exp().sum(1), logits_fake.exp().sum(1)  # D = Z / (Z + 1): "generated" has logit 0
    expected = -0.5 * (torch.log(z_real / (z_real + 1)).mean() + torch.log(1 / (z_fake + 1)).mean())
    assert ssgan.unsupervised_loss(logits_real, logits_fake) == pytest.approx(expected.item(), rel=1e-5)
    huge = torch.full((2, 10), 200.0)  # no overflow where exp would
    assert torch.isfinite(ssgan.unsupervised_loss(huge, -huge))


def test_the_labelled_digits_are_the_first_of_each_class_and_batches_draw_from_them_alone():
    labels = torch.tensor([3, 1, 3, 0, 1, 1, 0, 3, 2, 2, 0])
    assert data.first_of_each_class(labels, 2) == [0, 1, 2, 3, 4, 6, 8, 9]
    with pytest.raises(ValueError, match="only 3 training items of class 0, fewer than 4 per class"):
        data.first_of_each_class(labels, 4)
    images = torch.arange(11.0).view(11, 1, 1, 1).expand(11, 1, 28, 28)
    semi = data.SemiSupervisedMNIST(images, labels, labels_per_class=2)
    unlabelled, labelled, drawn = semi.batch(torch.tensor([5, 7, 10]), seed=1)
    assert torch.equal(unlabelled[:, 0, 0, 0], torch.tensor([5.0, 7.0, 10.0]))
    indices = labelled[:, 0, 0, 0].long()
    assert set(indices.tolist()) <= set(semi.labelled_indices) and torch.equal(drawn, labels[indices])
    assert all(torch.equal(a, b) for a, b in zip(semi.batch(torch.tensor([5, 7, 10]), seed=1), (unlabelled, labelled, drawn)))


def test_data_dependent_initialisation_standardises_every_unit_on_the_noisy_batch_and_fixes_hidden_scales():
    discriminator = ssgan.Discriminator(ssgan.Config.tiny())
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    discriminator.initialise(images, torch.Generator().manual_seed(3))
    noise = torch.randn(64, 28 * 28, generator=torch.Generator().manual_seed(3))  # the first noise the rng drew
    out = discriminator.hidden[0]((images.flatten(1) + 1) / 2 + 0.3 * noise)
    assert torch.allclose(out.mean(0), torch.zeros(32), atol=1e-4) and torch.allclose(out.std(0), torch.ones(32), atol=1e-3)
    # the paper's hidden layers keep the scale the initialisation set; only the classifying layer learns its own
    trainable = {name for name, _ in discriminator.named_parameters()}
    assert "hidden.0.scale" not in trainable and "hidden.0.scale" in discriminator.state_dict()
    assert "classify.scale" in trainable and not torch.equal(discriminator.hidden[0].scale, torch.ones(32))


def test_the_labels_alone_baseline_leaves_the_generator_untouched():
    state = ssgan.make_state(ssgan.Config.tiny(), training=ssgan.Training(unlabelled_weight=0.0),
                             rng=torch.Generator().manual_seed(0), device="cpu")
    before = [p.clone() for p in state.models["generator"].parameters()]
    batch = torch.rand(8, 1, 28, 28) * 2 - 1, torch.rand(8, 1, 28, 28) * 2 - 1, torch.arange(8) % 10
    losses = ssgan.train_step(state, batch)
    assert set(losses) == {"loss_supervised", "loss_unsupervised"} and losses["loss_unsupervised"] == 0
    assert all(torch.equal(a, b) for a, b in zip(before, state.models["generator"].parameters()))


@pytest.fixture(scope="module")
def trained(fake_mnist, tmp_path_factory):
    """A tiny semi-supervised GAN trained on the fake MNIST (label k: a bar at column 2 + 2k)."""
    out = tmp_path_factory.mktemp("ssgan")
    cfg = TrainConfig(family="ssgan", data=(str(fake_mnist),), out=str(out), steps=150, batch_size=32, tiny=True,
                      checkpoint_every=150, sample_every=150, data_options={"labels_per_class": 3})
    recipes.train(cfg, progress=False)
    return out / "model"


def test_a_trained_model_lists_its_labels_classifies_and_samples(trained):
    config = json.loads((trained / "config.json").read_text())
    assert config["family"] == "ssgan" and config["labelled_indices"] == list(range(30))  # labels are index % 10
    assert config["unlabelled_images"] == 256  # every training image of the fake MNIST, without its label
    bars = torch.full((10, 1, 28, 28), -1.0)
    for k in range(10):
        bars[k, 0, 4:24, 2 + 2 * k : 4 + 2 * k] = 1.0
    readings = classify(bars, model=str(trained))
    assert sum(r.digit == k for k, r in enumerate(readings)) >= 8, [r.digit for r in readings]
    assert all(abs(sum(r.probabilities) - 1) < 1e-4 and abs(r.confidence - max(r.probabilities)) < 1e-6 for r in readings)
    digits = sample_digits(str(trained), 5, seed=3)
    assert digits.shape == (5, 1, 28, 28) and digits.min() >= -1 and digits.max() <= 1
    assert torch.equal(digits, sample_digits(str(trained), 5, seed=3))


def seven_on_paper(size: int = 200) -> Image.Image:
    """The shipped CGAN's 7, drawn as dark ink on a light page, ``size`` pixels, JPEG."""
    digit = sample_digits("cgan-mnist", 1, digit=7, seed=0)[0, 0]
    page = Image.fromarray(((1 - digit) * 127.5).clamp(0, 255).byte().numpy()).resize((size, size), Image.BICUBIC)
    buffer = io.BytesIO()
    page.save(buffer, format="JPEG", quality=80)
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_uploads_are_laid_out_as_mnist_whatever_their_ink_and_size():
    page = np.full((300, 180), 255, np.uint8)
    page[40:260, 80:100] = 0  # a dark "1", off centre on a light, tall page
    digit, ink = mnist_layout(page)
    assert ink == BLACK_ON_WHITE and digit.shape == (1, 1, 28, 28)
    rows, columns = (digit[0, 0] > 0).any(1).nonzero().flatten(), (digit[0, 0] > 0).any(0).nonzero().flatten()
    assert rows[-1] - rows[0] + 1 == 20 and 12 <= (columns[0] + columns[-1]) / 2 <= 15  # 20 px tall, centred
    assert digit[0, 0, 0, 0] == -1  # black around it
    light, ink = mnist_layout(255 - page)
    assert ink == WHITE_ON_BLACK and torch.allclose(light, digit, atol=1e-5)
    rgba = np.zeros((300, 180, 4), np.uint8)  # black strokes on a transparent sketch
    rgba[40:260, 80:100, 3] = 255
    assert mnist_layout(rgba)[1] == BLACK_ON_WHITE and torch.allclose(mnist_layout(rgba)[0], digit, atol=1e-5)
    for blank in (np.full((50, 50), 255, np.uint8), np.zeros((1, 1), np.uint8)):
        with pytest.raises(ValueError, match="no digit found"):
            mnist_layout(blank)


def test_a_photographed_seven_is_read_by_the_shipped_classifier():
    (reading,) = classify([seven_on_paper()], model="mnist-classifier")
    assert (reading.digit, reading.ink) == (7, BLACK_ON_WHITE) and reading.confidence > 0.9
    with pytest.raises(ValueError, match="image 2: not an image"):
        classify([seven_on_paper(), b"not an image"], model="mnist-classifier")
    with pytest.raises(ValueError, match="is a cgan model; this needs a ssgan or classifier model"):
        classify([seven_on_paper()], model="cgan-mnist")


def test_cli_reads_each_image_and_reports_the_bad_ones(tmp_path):
    seven_on_paper().save(tmp_path / "seven.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    command = [sys.executable, "-m", "ganapps", "classify", str(tmp_path / "seven.jpg"), str(tmp_path / "notes.txt"),
               "--model", "mnist-classifier"]
    result = subprocess.run([*command, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr  # ran, one image failed
    first, second = map(json.loads, result.stdout.splitlines())
    assert (first["path"], first["digit"], first["ink"]) == (str(tmp_path / "seven.jpg"), 7, BLACK_ON_WHITE)
    assert second["path"] == str(tmp_path / "notes.txt") and second["error"].startswith("not an image")
    plain = subprocess.run(command[:-2] + ["--model", "mnist-classifier"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert plain.stdout.splitlines()[0].startswith(f"{tmp_path / 'seven.jpg'}: 7 (confidence ")
    wrong = subprocess.run([*command[:5], "--model", "dcgan-mnist"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "is a dcgan model; this needs" in wrong.stderr and not wrong.stdout


def test_the_shipped_semi_supervised_models_list_the_same_hundred_labels():
    configs = [hub.load_config(name) for name in ("ssgan-mnist", "mnist-100-labels")]
    assert configs[0]["labelled_indices"] == configs[1]["labelled_indices"] and len(configs[0]["labelled_indices"]) == 100
    assert configs[1]["unlabelled_images"] == 0 and configs[0]["unlabelled_images"] == 60_000
    assert configs[0]["labelled_indices"][:3] == [0, 1, 2]  # the first ten of each digit, in MNIST's order
    for name in ("ssgan-mnist", "mnist-100-labels", "mnist-classifier"):
        measured = recognition.evaluation(name)
        assert measured is not None and measured["of"] == 10_000 and 0 < measured["test_error_percent"] < 100, name
