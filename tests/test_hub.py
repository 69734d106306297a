"""Loading by name, folder and Hub repo id (against a Hub cache built here), and the errors."""

import shutil

import pytest
import torch

from ganapps import hub
from ganapps.models import dcgan, family_of

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def saved(tmp_path):
    generator = dcgan.Generator(dcgan.Config.tiny()).eval()
    hub.save(generator, tmp_path / "dcgan-tiny")
    return generator, tmp_path / "dcgan-tiny"


def build_hub_cache(cache, repo_id: str, folder, commit: str = COMMIT) -> None:
    """The layout huggingface_hub keeps on disk: refs/main -> snapshots/<commit>/<files>."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(folder, repo / "snapshots" / commit)


def outputs(model):
    return dcgan.sample(model, 3, seed=1)


def test_hub_repo_loads_from_the_cache_offline(saved, tmp_path):
    generator, folder = saved
    build_hub_cache(tmp_path / "cache", "someone/dcgan-tiny", folder)
    for name in ("someone/dcgan-tiny", f"someone/dcgan-tiny@{COMMIT}"):
        loaded = hub.load(name, cache_dir=tmp_path / "cache")
        assert loaded.config == generator.config
        assert torch.equal(outputs(loaded), outputs(generator))


def test_unknown_revision_or_repo_is_a_clear_error(saved, tmp_path):
    _, folder = saved
    build_hub_cache(tmp_path / "cache", "someone/dcgan-tiny", folder)
    with pytest.raises(ValueError, match="from the Hugging Face Hub"):
        hub.load("someone/dcgan-tiny@" + "f" * 40, cache_dir=tmp_path / "cache")
    with pytest.raises(ValueError, match="from the Hugging Face Hub"):
        hub.load("someone/other", cache_dir=tmp_path / "cache")


def test_local_name_resolves_in_the_checkpoints_folder(saved):
    generator, folder = saved
    loaded = hub.load("dcgan-tiny", checkpoints_dir=folder.parent)
    assert torch.equal(outputs(loaded), outputs(generator))
    assert hub.available(folder.parent) == ["dcgan-tiny"]


def test_unknown_name_lists_the_available_models(saved):
    _, folder = saved
    with pytest.raises(ValueError, match=r"unknown model 'nope'; available: dcgan-tiny"):
        hub.load("nope", checkpoints_dir=folder.parent)
    with pytest.raises(ValueError, match=r"unknown model 'runs/missing/model': no such folder, and not a Hub repo id"):
        hub.load("runs/missing/model", checkpoints_dir=folder.parent)  # a mistyped path, not a repo id


def test_weights_must_match_strictly(saved, tmp_path):
    _, folder = saved
    wrong = tmp_path / "wrong"
    shutil.copytree(folder, wrong)
    config = (wrong / "config.json").read_text().replace('"latent_dim": 8', '"latent_dim": 9')
    (wrong / "config.json").write_text(config)
    with pytest.raises(ValueError, match="do not match its config"):
        hub.load(str(wrong))


def test_no_pickle_weights(saved, tmp_path):
    generator, folder = saved
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    shutil.copy(folder / "config.json", pickled / "config.json")
    torch.save(generator.state_dict(), pickled / "pytorch_model.bin")
    with pytest.raises(ValueError, match="has no model.safetensors"):
        hub.load(str(pickled))


def test_family_is_checked(saved):
    _, folder = saved
    with pytest.raises(ValueError, match="is a dcgan model; this needs a cgan model"):
        hub.load(str(folder), family="cgan")


def test_from_pretrained_follows_the_rules_of_load(saved, tmp_path):
    from ganapps.models import cgan

    generator, folder = saved
    build_hub_cache(tmp_path / "cache", "someone/dcgan-tiny", folder)
    for loaded in (dcgan.Generator.from_pretrained(folder),
                   dcgan.Generator.from_pretrained("someone/dcgan-tiny", revision=COMMIT, cache_dir=tmp_path / "cache")):
        assert loaded.config == generator.config and not loaded.training
        assert torch.equal(outputs(loaded), outputs(generator))
    with pytest.raises(ValueError, match="is a dcgan model; this needs a cgan model"):
        cgan.Generator.from_pretrained(folder)
    wrong = tmp_path / "wrong"
    shutil.copytree(folder, wrong)
    (wrong / "config.json").write_text((wrong / "config.json").read_text().replace('"latent_dim": 8', '"latent_dim": 9'))
    with pytest.raises(ValueError, match="do not match its config"):
        dcgan.Generator.from_pretrained(wrong)
    (wrong / "model.safetensors").unlink()
    torch.save(generator.state_dict(), wrong / "pytorch_model.bin")
    with pytest.raises(ValueError, match="has no model.safetensors"):
        dcgan.Generator.from_pretrained(wrong)


def test_shipped_checkpoints_load_strictly_and_sample_deterministically():
    from ganapps.digits import DEFAULT_MODELS, sample_digits
    from ganapps.photos import derain, upscale

    names = hub.available()
    assert {"dcgan-mnist", "cgan-mnist", "infogan-mnist", "mnist-classifier", "srresnet-x4", "srgan-x4", "photo-x4",
            "photo-x4-psnr", "derain-idcgan", "derain-idcgan-mix", "derain-idcgan-ssim"} <= set(names)
    photo = torch.rand(20, 24, 3).mul(255).byte().numpy()
    for name in names:
        model = hub.load(name)
        assert model.training is False
        card = (hub.CHECKPOINTS / name / "README.md").read_text()
        assert "python -m ganapps train" in card, f"{name} model card lacks its recipe"
        family = family_of(model).name
        if family in DEFAULT_MODELS:  # the seed decides the digits (what the network computes: test_models' pins)
            assert not torch.equal(sample_digits(name, 4, seed=3), sample_digits(name, 4, seed=4))
        elif family in ("srgan", "realesrgan", "derain"):
            result = (derain if family == "derain" else upscale)(photo, model=name)
            scale = 1 if family == "derain" else 4
            assert result.size == (24 * scale, 20 * scale) and 0 < result.to_array().std() < 128


def test_interpolation_blends_every_weight_and_refuses_other_architectures(tmp_path):
    import subprocess
    import sys

    from ganapps.models import realesrgan

    from .conftest import ROOT

    torch.manual_seed(0)
    first, second = (realesrgan.Generator(realesrgan.Config.tiny()) for _ in range(2))
    for parameter in second.parameters():
        torch.nn.init.normal_(parameter)
    hub.save(first, tmp_path / "a")
    hub.save(second, tmp_path / "b")
    blend = hub.interpolate(str(tmp_path / "a"), str(tmp_path / "b"), 0.25)
    for name, value in blend.state_dict().items():
        expected = 0.75 * first.state_dict()[name] + 0.25 * second.state_dict()[name]
        assert torch.allclose(value, expected, atol=1e-6), name
    assert torch.equal(hub.interpolate(str(tmp_path / "a"), str(tmp_path / "b"), 0.0).tail.weight, first.tail.weight)
    in_memory = hub.blend(second, first, 0.75)  # networks, not folders: the first's config, inputs untouched
    assert in_memory.config == second.config and torch.equal(second.tail.weight, hub.load(str(tmp_path / "b")).tail.weight)
    assert torch.allclose(in_memory.tail.weight, blend.tail.weight, atol=1e-6)
    hub.save(realesrgan.Generator(realesrgan.Config(channels=4, num_blocks=1)), tmp_path / "c")
    with pytest.raises(ValueError, match="differ in architecture"):
        hub.interpolate(str(tmp_path / "a"), str(tmp_path / "c"), 0.5)
    with pytest.raises(ValueError, match="weight must be in 0..1"):
        hub.interpolate(str(tmp_path / "a"), str(tmp_path / "b"), 1.5)
    result = subprocess.run([sys.executable, "-m", "ganapps", "interpolate", str(tmp_path / "a"), str(tmp_path / "b"),
                             "--weight", "0.25", "--out", str(tmp_path / "blend")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert torch.equal(hub.load(str(tmp_path / "blend")).tail.weight, blend.tail.weight)
    assert "--weight 0.25" in (tmp_path / "blend" / "README.md").read_text()


def test_denoise_twin_blends_the_weights_and_is_refused_where_there_is_none(tmp_path):
    from ganapps.models import realesrgan

    torch.manual_seed(0)
    strong, mild = (realesrgan.Generator(realesrgan.Config.tiny()).eval() for _ in range(2))
    for parameter in [*strong.parameters(), *mild.parameters()]:
        torch.nn.init.normal_(parameter, 0.0, 0.1)
    hub.save(strong, tmp_path / "paired", mild=mild, default_denoise=0.7)
    hub.save(strong, tmp_path / "plain")
    assert hub.load_config(str(tmp_path / "paired"))["default_denoise"] == 0.7 and hub.has_denoise(str(tmp_path / "paired"))
    assert not hub.has_denoise(str(tmp_path / "plain"))
    for strength in (0.0, 0.3, 1.0):
        blended = hub.load(str(tmp_path / "paired"), denoise=strength).state_dict()
        for key, value in mild.state_dict().items():
            assert torch.allclose(blended[key], value + strength * (strong.state_dict()[key] - value), atol=1e-6), key
    assert all(torch.equal(v, strong.state_dict()[k]) for k, v in hub.load(str(tmp_path / "paired")).state_dict().items())
    with pytest.raises(ValueError, match="has no denoise control"):
        hub.load(str(tmp_path / "plain"), denoise=0.5)
    with pytest.raises(ValueError, match=r"denoise must be a strength in 0\.\.1"):
        hub.load(str(tmp_path / "paired"), denoise=1.5)
    hub.verify(str(tmp_path / "paired"))
    (tmp_path / "paired" / hub.MILD_WEIGHTS_FILE).write_bytes(b"truncated")
    with pytest.raises(ValueError, match="cannot be read"):
        hub.verify(str(tmp_path / "paired"))  # what push and the Space export run first
    with pytest.raises(ValueError, match="go together"):
        hub.save(strong, tmp_path / "bad", mild=mild)
    with pytest.raises(ValueError, match="same network"):
        hub.save(strong, tmp_path / "bad", mild=realesrgan.Generator(realesrgan.Config(channels=4, num_blocks=1)), default_denoise=0.5)


@pytest.mark.slow
def test_cli_pair_writes_a_model_with_a_denoise_control(tmp_path):
    import subprocess
    import sys

    from ganapps.models import realesrgan

    from .conftest import ROOT

    torch.manual_seed(0)
    for name in ("strong", "mild"):
        hub.save(realesrgan.Generator(realesrgan.Config.tiny()), tmp_path / name)
    result = subprocess.run(
        [sys.executable, "-m", "ganapps", "pair", str(tmp_path / "strong"), str(tmp_path / "mild"), "--default-denoise", "0.6",
         "--out", str(tmp_path / "paired")], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert hub.load_config(str(tmp_path / "paired"))["default_denoise"] == 0.6
    assert (tmp_path / "paired" / hub.MILD_WEIGHTS_FILE).is_file()
    mild = hub.load(str(tmp_path / "mild")).state_dict()
    assert all(torch.equal(v, mild[k]) for k, v in hub.load(str(tmp_path / "paired"), denoise=0.0).state_dict().items())
    refused = subprocess.run(
        [sys.executable, "-m", "ganapps", "pair", str(tmp_path / "strong"), str(tmp_path / "mild"), "--default-denoise", "2",
         "--out", str(tmp_path / "bad")], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert refused.returncode == 2 and "denoise must be a strength in 0..1" in refused.stderr


def test_a_photo_verb_reads_its_model_s_config_once_and_a_served_model_not_again(monkeypatch):
    from pathlib import Path

    import numpy as np

    from ganapps import photo_models
    from ganapps.photos import derain, upscale

    reads = []
    read_text = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: (reads.append(self.parent.name) if self.name == "config.json"
                                                                     else None) or read_text(self, *a, **k))
    photo_models._load_once.cache_clear()
    photo = np.full((8, 8, 3), 120, np.uint8)
    upscale(photo, model="photo-x4", scale=2)
    derain(photo, model="derain-idcgan")
    assert reads == ["photo-x4", "derain-idcgan"]  # once each: resolved into one object, which everything after uses
    upscale(photo, model="photo-x4", scale=2, denoise=0.2)  # another blend: loaded anew, its config read once more
    upscale(photo, model="photo-x4", scale=2)
    derain(photo, model="derain-idcgan")
    assert reads == ["photo-x4", "derain-idcgan", "photo-x4"]  # served from the cache: not looked up again


def test_the_models_command_lists_every_catalog_model(capsys):
    from ganapps import catalog
    from ganapps.__main__ import main

    assert main(["models"]) == 0
    listed = capsys.readouterr().out
    names = [*catalog.UPSCALE, *catalog.DERAIN, *catalog.CLASSIFY, *catalog.DIGITS.values()]
    assert all(f"`{name}` |" in listed for name in names) and "missing" not in listed  # every one shipped here
    assert all(f"| `{name}` | `{entry.file}`" in listed for name, entry in catalog.HUB_UPSCALE.items())
