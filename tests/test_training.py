"""The shared training loop: checkpoints, resume, NaN guard, the CLI, and DDP across two processes."""

import json
import math
import os
import subprocess
import sys

import pytest
import safetensors.torch
import torch
from PIL import Image
from skimage import data as skdata

from ganapps import hub
from ganapps.models import TRAINABLE
from ganapps.training import STATE_FILE, Run, TrainConfig, train, training_steps

from .conftest import ROOT, free_port


def config(data, out, **overrides):
    base = dict(family="dcgan", data=(str(data),), out=str(out), steps=6, batch_size=8, tiny=True,
                sample_every=3, checkpoint_every=3, log_every=2)
    return TrainConfig(**{**base, **overrides})


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_training_writes_checkpoint_model_metrics_and_samples(fake_mnist, tmp_path):
    run = train(config(fake_mnist, tmp_path), progress=False)
    assert run.step == 6
    assert (tmp_path / STATE_FILE).is_file() and not list(tmp_path.glob(".*tmp*"))
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["step_000003.png", "step_000006.png"]
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [2, 4, 6] and all("loss_d" in line for line in lines)
    loaded = hub.load(str(tmp_path / "model"))
    for key, value in run.export.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


@pytest.mark.parametrize("family", ["dcgan", "cgan", "infogan", "classifier"])
def test_resumed_run_matches_an_uninterrupted_one(family, fake_mnist, tmp_path):
    straight = train(config(fake_mnist, tmp_path / "a", family=family), progress=False)
    train(config(fake_mnist, tmp_path / "b", family=family, steps=3), progress=False)  # "killed" after step 3
    resumed = train(config(fake_mnist, tmp_path / "b", family=family), resume=True, progress=False)
    assert resumed.step == 6
    expected = weights(straight.export)
    for key, value in resumed.export.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_a_learning_rate_given_on_resume_replaces_the_saved_one(fake_mnist, tmp_path):
    train(config(fake_mnist, tmp_path, steps=3), progress=False)
    kept = train(config(fake_mnist, tmp_path, steps=4), resume=True, progress=False)
    assert [g["lr"] for g in kept.state.optimizers["opt_d"].param_groups] == [2e-4]  # DCGAN's own rate
    lowered = train(config(fake_mnist, tmp_path, steps=5, lr=4e-5), resume=True, progress=False)
    assert lowered.step == 5
    assert [g["lr"] for g in lowered.state.optimizers["opt_d"].param_groups] == [4e-5]
    assert [g["lr"] for g in lowered.state.optimizers["opt_g"].param_groups] == [pytest.approx(2e-4)]  # G runs 5x D


def test_resume_refuses_a_different_architecture(fake_mnist, tmp_path):
    train(config(fake_mnist, tmp_path, steps=3), progress=False)
    with pytest.raises(ValueError, match="was trained with config"):
        train(config(fake_mnist, tmp_path, model={"latent_dim": 9}), resume=True, progress=False)


def test_a_state_saved_before_a_config_field_existed_resumes_with_its_default(fake_mnist, tmp_path):
    train(config(fake_mnist, tmp_path, steps=3, family="cgan"), progress=False)
    state = torch.load(tmp_path / STATE_FILE, weights_only=True)
    state["config"].pop("num_classes")  # as a state written before the field was added (it has the default)
    torch.save(state, tmp_path / STATE_FILE)
    assert train(config(fake_mnist, tmp_path, steps=4, family="cgan"), resume=True, progress=False).step == 4


def test_a_state_saved_with_training_options_in_its_config_resumes(fake_mnist, tmp_path, caplog):
    """States written before the training options left the architecture (the committed ones in training/) resume;
    their options are parted from the architecture, and a change of them is logged, not refused."""
    train(config(fake_mnist, tmp_path, steps=3), progress=False)
    state = torch.load(tmp_path / STATE_FILE, weights_only=True)
    assert state["training"] == {"beta1": 0.5, "beta2": 0.999, "r1_gamma": 1.0, "g_lr_ratio": 5.0}
    state["config"]["r1_gamma"] = state.pop("training")["r1_gamma"] * 2  # as written then, with another weight
    torch.save(state, tmp_path / STATE_FILE)
    with caplog.at_level("INFO"):
        assert train(config(fake_mnist, tmp_path, steps=4), resume=True, progress=False).step == 4
    assert ("training options changed on resume: {'r1_gamma': 2.0} -> "
            "{'beta1': 0.5, 'beta2': 0.999, 'r1_gamma': 1.0, 'g_lr_ratio': 5.0}") in caplog.text
    with pytest.raises(ValueError, match="r1_gamma: training options of dcgan, not its architecture"):
        Run(config(fake_mnist, tmp_path / "x", model={"r1_gamma": 0.0}))


def test_init_starts_from_a_model_of_the_same_architecture(fake_mnist, tmp_path):
    first = train(config(fake_mnist, tmp_path / "first", steps=2), progress=False)
    start = str(tmp_path / "first" / "model")
    # the training options may differ (the R1 weight), the architecture may not
    run = Run(config(fake_mnist, tmp_path / "second", init=start, training={"r1_gamma": 0.0}))
    assert all(torch.equal(v, first.export.state_dict()[k]) for k, v in run.export.state_dict().items())
    with pytest.raises(ValueError, match="--grow starts a larger architecture"):
        Run(config(fake_mnist, tmp_path / "third", init=start, model={"latent_dim": 9}))


def test_grow_resumes_a_run_saved_with_fewer_layers(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for index, image in enumerate((skdata.astronaut(), skdata.coffee())):
        Image.fromarray(image[:160, :160]).save(photos / f"{index}.png")
    run = dict(family="derain", data=(str(photos),), out=str(tmp_path / "run"), batch_size=2, tiny=True,
               sample_every=2, checkpoint_every=2, log_every=1)
    plain = {"refine_blocks": 0, "global_context": False}
    before = train(TrainConfig(**run, steps=2, model=plain), progress=False)
    with pytest.raises(ValueError, match="was trained with config"):
        train(TrainConfig(**run, steps=3), resume=True, progress=False)

    grown = Run(TrainConfig(**run, steps=3, grow=True), resume=True)
    assert grown.step == 2
    image = torch.rand(1, 3, 36, 36)
    assert torch.equal(grown.export(image), before.export(image))  # new layers start as the identity
    assert grown.state.optimizers["opt_d"].state_dict()["state"]  # the discriminator did not change: kept
    assert not grown.state.optimizers["opt_g"].state_dict()["state"]  # the generator grew: restarted
    assert train(TrainConfig(**run, steps=3, grow=True), resume=True, progress=False).step == 3
    with pytest.raises(ValueError, match="can only grow"):
        train(TrainConfig(**run, steps=4, grow=True, model=plain), resume=True, progress=False)


def test_nan_stops_the_run_and_keeps_the_last_checkpoint(fake_mnist, tmp_path):
    train(config(fake_mnist, tmp_path, steps=3), progress=False)
    before = (tmp_path / STATE_FILE).read_bytes()
    images = torch.full((64, 1, 28, 28), float("nan"))
    with pytest.raises(FloatingPointError, match="step 4; stopped without saving"):
        train(config(fake_mnist, tmp_path), resume=True, progress=False, data=(images, torch.zeros(64, dtype=torch.long)))
    assert (tmp_path / STATE_FILE).read_bytes() == before


def test_losses_are_read_back_only_when_logged_or_saved(fake_mnist, tmp_path, monkeypatch):
    reads = []
    read = Run.read

    def recording(run, sums, count):
        reads.append((run.step, count))
        return read(run, sums, count)

    monkeypatch.setattr(Run, "read", recording)
    train(config(fake_mnist, tmp_path, steps=7), progress=False)  # logs every 2, samples and checkpoints every 3
    assert reads == [(2, 2), (3, 1), (4, 2), (6, 2), (7, 1)]  # each read covers the steps since the last log
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [record["step"] for record in logged] == [2, 4, 6, 7] and all(math.isfinite(r["loss_d"]) for r in logged)


def test_bad_train_config_is_refused():
    families = "toy, dcgan, cgan, infogan, ssgan, srgan, realesrgan, derain, classifier"
    with pytest.raises(ValueError, match=f"unknown family 'wgan'; available: {families}"):
        TrainConfig(family="wgan", data=("x",), out="y")
    with pytest.raises(ValueError, match="steps must be >= 1"):
        TrainConfig(family="dcgan", data=("x",), out="y", steps=0)


def test_missing_mnist_names_the_folder_and_the_fix(tmp_path):
    with pytest.raises(ValueError, match="--download"):
        train(config(tmp_path, tmp_path / "out"), progress=False)


def run_cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "ganapps", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.mark.slow
def test_cli_trains_and_resumes(fake_mnist, tmp_path):
    common = ["train", "cgan", "--data", str(fake_mnist), "--out", str(tmp_path), "--tiny", "--batch-size", "8",
              "--checkpoint-every", "2", "--sample-every", "2", "--threads", "1"]
    first = run_cli(*common, "--steps", "2")
    assert first.returncode == 0, first.stderr
    second = run_cli(*common, "--steps", "4", "--resume")
    assert second.returncode == 0, second.stderr
    assert "trained cgan to step 4" in second.stdout
    assert torch.load(tmp_path / STATE_FILE, weights_only=True)["step"] == 4
    bad = run_cli("train", "cgan", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x"), "--tiny")
    assert bad.returncode == 2 and "no MNIST under" in bad.stderr


def photo_folder(folder):
    """Ten 160x160 crops of scikit-image's astronaut: enough for the train split of every photo family."""
    folder.mkdir()
    for index in range(10):
        Image.fromarray(skdata.astronaut()[index * 30 : index * 30 + 160, 100:260]).save(folder / f"{index:02d}.png")
    return folder


# One run per family (families trained in phases in their last, adversarial one, where DDP must be told about
# the frozen discriminator), two processes, batch 2 each, three steps. Among them: dcgan's R1 penalty
# differentiates twice, InfoGAN is calibrated with the shipped classifier after training, ssgan's data-dependent
# initialisation is the same in every process; srgan and derain make their batches in a DataLoader worker.
DATA_OF = {"toy": "ring8", "mnist": "MNIST", "mnist-semi": "MNIST", "photos": "PHOTOS", "degraded-photos": "PHOTOS",
           "rain": "PHOTOS"}  # each dataset kind: the data a run of it trains on here
TORCHRUN_RUNS = {
    name: {"family": name, "data": [DATA_OF[family.dataset.name]], **({"phase": family.phases[-1]} if family.phases else {}),
           **({"workers": 1} if family.dataset.name in ("photos", "rain") else {})}
    for name, family in TRAINABLE.items()
}


@pytest.fixture(scope="module")
def torchrun_runs(fake_mnist, tmp_path_factory):
    """All the runs, trained by one ``torchrun --nproc_per_node=2`` (one start-up for all of them)."""
    out = tmp_path_factory.mktemp("torchrun")
    folders = {"MNIST": str(fake_mnist), "PHOTOS": str(photo_folder(out / "photos"))}
    runs = {name: {"steps": 3, "batch_size": 2, **fields, "data": [folders.get(d, d) for d in fields["data"]]}
            for name, fields in TORCHRUN_RUNS.items()}
    result = torchrun(out, runs)
    assert result.returncode == 0, result.stderr[-5000:]
    return out


def torchrun(out, runs, *extra):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
         f"--master_port={free_port()}", str(ROOT / "tests" / "torchrun_worker.py"), str(out), json.dumps(runs), *extra],
        capture_output=True, text=True, timeout=600, env=env,
    )


@pytest.mark.slow  # torchrun
def test_a_nan_on_one_rank_stops_every_rank_with_the_same_message(fake_mnist, tmp_path):
    runs = {"dcgan": {"family": "dcgan", "data": [str(fake_mnist)], "steps": 3, "batch_size": 2}}
    result = torchrun(tmp_path, runs, "nan")
    assert result.returncode == 0, result.stderr[-5000:]  # both ranks stopped, neither waits for the other
    messages = [(tmp_path / f"nan-rank{rank}.txt").read_text() for rank in range(2)]
    assert messages[0] == messages[1] and "became nan in steps 1-3; stopped without saving" in messages[0]
    assert not (tmp_path / "nan" / STATE_FILE).exists()


@pytest.mark.slow  # torchrun
@pytest.mark.parametrize("name", list(TORCHRUN_RUNS))
def test_train_under_torchrun_finishes_with_identical_weights(torchrun_runs, name):
    out = torchrun_runs / name
    ranks = [safetensors.torch.load_file(out / f"rank{r}.safetensors") for r in range(2)]
    assert ranks[0].keys() == ranks[1].keys()
    for key in ranks[0]:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
    exported = hub.load(str(out / "model")).state_dict()  # rank 0 saved what every rank holds
    assert all(torch.equal(exported[key], value) for key, value in ranks[0].items())
    assert torch.load(out / STATE_FILE, weights_only=True)["step"] == 3
    assert [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [3]
    if name == "infogan":  # after training, in the library: the codes are measured and saved
        assert hub.load(str(out / "model")).config.category_digits is not None
    if name == "toy":
        assert (out / "final.png").is_file() and json.loads((out / "metrics.json").read_text())["step"] == 3


def test_dataloader_workers_make_the_same_batches(tmp_path):
    photos = str(photo_folder(tmp_path / "photos"))
    runs = [
        train(TrainConfig(family="realesrgan", data=(photos,), out=str(tmp_path / str(workers)), steps=3, batch_size=2,
                          tiny=True, workers=workers), progress=False)
        for workers in (0, 2)
    ]
    assert runs[1].workers == 2 and runs[0].workers == 0
    for key, value in runs[0].export.state_dict().items():
        assert torch.equal(value, runs[1].export.state_dict()[key]), key


def test_moving_average_is_exported_and_resumes_exactly(fake_mnist, tmp_path):
    straight = train(config(fake_mnist, tmp_path / "a", ema=0.5), progress=False)
    live = straight.state.models["generator"].state_dict()
    averaged = straight.export.state_dict()
    assert any(not torch.equal(live[k], averaged[k]) for k in live)
    assert all(torch.equal(v, hub.load(str(tmp_path / "a" / "model")).state_dict()[k]) for k, v in averaged.items())
    train(config(fake_mnist, tmp_path / "b", ema=0.5, steps=3), progress=False)
    resumed = train(config(fake_mnist, tmp_path / "b", ema=0.5), resume=True, progress=False)
    for key, value in resumed.export.state_dict().items():
        assert torch.equal(value, averaged[key]), key


def test_cosine_schedule_decays_to_zero_at_the_last_step_and_resumes_exactly(fake_mnist, tmp_path):
    cosine = dict(schedule="cosine", steps=8, checkpoint_every=100, snapshot_every=4)
    straight = train(config(fake_mnist, tmp_path / "a", **cosine), progress=False)
    factors = [json.loads(line)["lr_factor"] for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    # logged every 2 steps: the factor of the step just taken (0-based 1, 3, 5, 7 of 8)
    assert factors == [pytest.approx(0.5 * (1 + math.cos(math.pi * s / 8)), abs=1e-5) for s in (1, 3, 5, 7)]
    assert [g["lr"] for g in straight.state.optimizers["opt_d"].param_groups] == [pytest.approx(2e-4 * factors[-1], rel=1e-4)]
    assert sorted(p.name for p in (tmp_path / "a" / "snapshots").iterdir()) == ["step_000004", "step_000008"]
    snapshot = hub.load(str(tmp_path / "a" / "snapshots" / "step_000008")).state_dict()
    assert all(torch.equal(v, snapshot[k]) for k, v in straight.export.state_dict().items())

    run = Run(config(fake_mnist, tmp_path / "b", **cosine))
    steps = training_steps(run)
    next(steps), next(steps)
    run.save()  # the last checkpoint, at step 2
    next(steps)  # step 3 is lost when the run is killed
    resumed = train(config(fake_mnist, tmp_path / "b", **cosine), resume=True, progress=False)
    for key, value in resumed.export.state_dict().items():
        assert torch.equal(value, straight.export.state_dict()[key]), key


def test_a_finished_run_goes_on_under_a_cosine_that_starts_where_it_stopped(fake_mnist, tmp_path):
    train(config(fake_mnist, tmp_path / "run", steps=4, checkpoint_every=100), progress=False)
    longer = dict(schedule="cosine", decay_from=4, steps=8, checkpoint_every=100)
    train(config(fake_mnist, tmp_path / "run", **longer), resume=True, progress=False)
    factors = [json.loads(line)["lr_factor"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    # steps 1 and 3 at the constant rate, then 5 and 7 (0-based) on a cosine over steps 4-8
    assert factors == [1.0, 1.0] + [pytest.approx(0.5 * (1 + math.cos(math.pi * s / 4)), abs=1e-5) for s in (1, 3)]
    with pytest.raises(ValueError, match="decay_from must be a step before the last \\(8\\), got 8"):
        config(fake_mnist, tmp_path / "x", schedule="cosine", decay_from=8, steps=8)
    with pytest.raises(ValueError, match="give --schedule cosine"):
        config(fake_mnist, tmp_path / "x", decay_from=2, steps=8)


def test_photo_data_options_reach_the_dataset_and_unknown_ones_are_refused(tmp_path):
    photos = str(photo_folder(tmp_path / "photos"))
    run = Run(TrainConfig(family="realesrgan", data=(photos,), out=str(tmp_path / "run"), steps=1, batch_size=2, tiny=True,
                          data_options={"patch": 64, "degradation": "mild"}))
    low, high = run.data.batch(torch.tensor([0, 1]), seed=0)
    assert high.shape == (2, 3, 64, 64) and low.shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="unknown option.*pach.*available: patch"):
        Run(TrainConfig(family="realesrgan", data=(photos,), out=str(tmp_path / "run"), tiny=True, data_options={"pach": 64}))
    with pytest.raises(ValueError, match="unknown degradation 'heavy'; available: web, mild"):
        Run(TrainConfig(family="realesrgan", data=(photos,), out=str(tmp_path / "run"), tiny=True,
                        data_options={"degradation": "heavy"}))
    with pytest.raises(ValueError, match="unknown schedule 'linear'; available: constant, cosine"):
        TrainConfig(family="realesrgan", data=(photos,), out=str(tmp_path / "run"), schedule="linear")


def test_seeds_of_different_parts_differ_where_arithmetic_would_collide():
    from ganapps.data import seed_of

    # seed * 1000 + rank made (seed 1, rank 0) and (seed 0, rank 1000) one stream
    assert seed_of(1, 0) != seed_of(0, 1000) and seed_of(1, 23) != seed_of(12, 3)
    assert seed_of(5, 7, 1) == seed_of(5, 7, 1) and 0 <= seed_of(5, 7, 1) < 2**63
