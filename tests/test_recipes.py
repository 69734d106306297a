"""Recipes (recipes/<model>.toml): every shipped model has one that plans; a tiny one runs from the data to the
shipped folder; the command line made from TrainConfig; config.json's format and the perceptual choice."""

import json
import subprocess
import sys

import pytest
import torch

from ganapps import hub
from ganapps.models import TRAINABLE, dcgan, get_family, realesrgan
from ganapps.recipes import load_recipe
from ganapps.training import STATE_FILE, TrainConfig

from .conftest import ROOT

RECIPES = sorted((ROOT / "recipes").glob("*.toml"))


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "ganapps", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_every_shipped_model_has_a_recipe_that_ships_it():
    assert sorted(path.stem for path in RECIPES) == hub.available()
    for path in RECIPES:
        recipe = load_recipe(path)
        config = hub.load_config(recipe.model)
        assert recipe.model == path.stem and recipe.destination == hub.CHECKPOINTS / path.stem
        trains = [step.config for step in recipe.steps if step.config is not None]
        assert trains and any(cfg.family == config["family"] for cfg in trains), path
        if config["family"] in ("srgan", "realesrgan", "derain"):  # the perceptual loss is said, not found
            assert all(cfg.training.get("perceptual") == "discriminator_features" for cfg in trains
                       if cfg.phase not in ("srresnet",)), path


@pytest.mark.parametrize("path", RECIPES[:1] + RECIPES[-1:], ids=lambda p: p.stem)
def test_dry_run_prints_the_plan_and_trains_nothing(path, tmp_path):
    done = run_cli("train", "--recipe", str(path), "--dry-run", "--work", str(tmp_path / "runs"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"recipe {path}") and f"-> {hub.CHECKPOINTS / path.stem}" in done.stdout
    assert not (tmp_path / "runs").exists()


def write(tmp_path, text: str):
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    return path


TINY = """
model = "tiny-cgan"
family = "cgan"
out = "runs/never-used"
ship = "@blend"

[[steps]]
name = "first"
data = ["{data}"]
tiny = true
steps = 2
batch_size = 8
checkpoint_every = 2
sample_every = 2

[[steps]]
name = "slower"
resume_from = "@first"
data = ["{data}"]
tiny = true
steps = 4
lr = 1e-5
batch_size = 8
checkpoint_every = 2
sample_every = 2

[[steps]]
name = "blend"
kind = "interpolate"
first = "@first"
second = "@slower"
weight = 0.5
"""


def test_a_tiny_recipe_runs_from_the_data_to_the_shipped_folder(fake_mnist, tmp_path):
    path = write(tmp_path, TINY)
    work, shelf = tmp_path / "runs", tmp_path / "checkpoints"
    done = run_cli("train", "--recipe", str(path), "--data-root", str(fake_mnist), "--work", str(work),
                   "--checkpoints", str(shelf), "--threads", "1")
    assert done.returncode == 0, done.stderr
    assert torch.load(work / "slower" / STATE_FILE, weights_only=True)["step"] == 4  # went on from step 2
    first, slower = (hub.load(str(work / name / "model")) for name in ("first", "slower"))
    shipped = hub.load(str(shelf / "tiny-cgan"))
    for name, value in shipped.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(value, (first.state_dict()[name] + slower.state_dict()[name]) / 2, atol=1e-6), name
    assert json.loads((shelf / "tiny-cgan" / "config.json").read_text())["format_version"] == 2
    # run again with a committed state in the last train step: the steps before it are not needed
    recipe = load_recipe(path, data_root=str(fake_mnist), out=work)
    assert [step.name for step in recipe.needed()] == ["first", "slower", "blend"]  # blend reads first's result
    recipe = load_recipe(write(tmp_path, TINY.replace('first = "@first"', 'first = "@slower"')), out=work)
    assert [step.name for step in recipe.needed()] == ["slower", "blend"]
    assert "[skipped: a later step goes on from its saved state]" in recipe.plan().splitlines()[1]


@pytest.mark.parametrize("old, new, message", [
    ('ship = "@blend"', 'shipp = "@blend"', "unknown keys \\['shipp'\\]"),
    ('resume_from = "@first"', 'resume_from = "@nothing"', "@nothing is not an earlier step; earlier: first"),
    ("lr = 1e-5", "learning_rate = 1e-5", "unknown keys \\['learning_rate'\\]"),
    ("weight = 0.5", "", "a step of kind interpolate needs weight"),
    ("steps = 4", "steps = 0", "steps must be >= 1, got 0"),
    ("steps = 2", "architecture = { base_channels = 0 }\nsteps = 2", "base_channels must be a positive integer, got 0"),
    ("steps = 2", "model = { base_channels = 8 }\nsteps = 2", "unknown keys \\['model'\\]; a train step takes .*architecture"),
    ("steps = 2", "training = { r1_gamma = 1.0 }\nsteps = 2", "unknown cgan training options 'r1_gamma'; available: beta1, beta2"),
])
def test_a_wrong_recipe_is_refused_naming_what_is_wrong(tmp_path, old, new, message):
    assert old in TINY
    with pytest.raises(ValueError, match=message):
        load_recipe(write(tmp_path, TINY.replace(old, new, 1)))


@pytest.mark.slow
def test_the_train_command_is_made_from_trainconfig():
    help_text = run_cli("train", "--help").stdout
    for field in TrainConfig.__dataclass_fields__:
        if field != "family":
            assert f"--{field.replace('_', '-')}" in help_text, field
    assert "{constant,cosine}" in help_text and "(default 10000)" in help_text
    assert "--steps cannot go with --recipe" in run_cli("train", "--recipe", str(RECIPES[0]), "--steps", "5").stderr
    assert "give a family to train" in run_cli("train", "--data", "x").stderr
    wrong = run_cli("train", "dcgan", "--data", "x", "--model", '{"r1_gamma": 0}')
    assert wrong.returncode == 2 and "r1_gamma: training options of dcgan, not its architecture" in wrong.stderr


def test_vgg19_without_its_weights_stops_at_the_start_saying_where_they_are_looked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    where = str(tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth")
    with pytest.raises(ValueError, match=f'perceptual = "vgg19" needs .* at {where}'):
        realesrgan.make_state(realesrgan.Config.tiny(), training=realesrgan.Training(perceptual="vgg19"),
                              rng=torch.Generator(), device="cpu", phase="gan")
    with pytest.raises(ValueError, match="unknown perceptual loss 'vgg16'; available: vgg19, discriminator_features"):
        realesrgan.Training(perceptual="vgg16")


def test_config_files_have_a_format_and_old_ones_are_migrated(tmp_path):
    family = get_family("dcgan")
    written = family.config_file(dcgan.Config.tiny())
    assert written["format_version"] == 2 and written["family"] == "dcgan"
    old = {k: v for k, v in written.items() if k != "format_version"} | {"r1_gamma": 1.0}  # as format 1 wrote it
    assert family.config_from(old) == dcgan.Config.tiny()
    with pytest.raises(ValueError, match="unknown dcgan config.json keys 'r1_gamma'"):
        family.config_from(written | {"r1_gamma": 1.0})  # in format 2 a training option is an unknown key
    with pytest.raises(ValueError, match="format_version 3 is not one this ganapps reads"):
        family.config_from(written | {"format_version": 3})
    ssgan = get_family("ssgan")
    baseline = ssgan.config_from({"family": "ssgan", "unlabelled_weight": 0.0, "g_steps": 1, "labelled_indices": [3]})
    assert baseline.unlabelled_images == 0 and ssgan.config_from({"family": "ssgan"}).unlabelled_images == 60_000
    for name in hub.available():  # the shipped files are all in the current format
        assert hub.load_config(name)["format_version"] == 2, name
    assert set(TRAINABLE) >= {hub.load_config(name)["family"] for name in hub.available()}


FINISHED = """
model = "tiny-{family}"
family = "{family}"
out = "runs/never-used"
ship = "@{last}"

[[steps]]
name = "train"
data = ["{{data}}"]
tiny = true
steps = 2
batch_size = 8
checkpoint_every = 2
sample_every = 2
{train_extra}

[[steps]]
name = "{last}"
kind = "{kind}"
model = "@train"
{extra}
"""


def test_the_work_after_training_is_a_step_of_the_recipe_not_a_command(fake_mnist, tmp_path):
    from ganapps.recognition import EVALUATION_FILE

    shelf = tmp_path / "checkpoints"
    recorded = FINISHED.format(family="classifier", last="record", kind="record", extra='data = "{data}"', train_extra="")
    load_recipe(write(tmp_path, recorded), data_root=str(fake_mnist), out=tmp_path / "a", checkpoints=shelf).run(progress=False)
    record = json.loads((shelf / "tiny-classifier" / EVALUATION_FILE).read_text())
    assert record["of"] == 64 and record["test_error_percent"] == record["wrong"] / 100  # fake MNIST's 64 test digits

    calibrated = FINISHED.format(family="infogan", last="pick", kind="calibrate", extra='classifier = "mnist-classifier"',
                                 train_extra='classifier = ""')  # not calibrated after training: the pick step does it
    recipe = load_recipe(write(tmp_path, calibrated), data_root=str(fake_mnist), out=tmp_path / "b", checkpoints=shelf)
    assert recipe.ship.result == tmp_path / "b" / "train" / "model"  # a calibrate step changes the folder it names
    recipe.run(progress=False)
    config = hub.load(str(shelf / "tiny-infogan")).config  # measured by the pick step only: training skipped it
    assert config.category_digits is not None and config.slant_code is not None and config.width_code is not None
    with pytest.raises(ValueError, match="unknown kind 'command'; available: train, pair, interpolate, calibrate, record"):
        load_recipe(write(tmp_path, recorded.replace('kind = "record"', 'kind = "command"')))
