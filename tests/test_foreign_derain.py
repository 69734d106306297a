"""Other projects' deraining models (KBNet through spandrel; Restormer and MPRNet through spandrel-extra-arches) in
derain: read as tensors only, run as spandrel runs them, refused by name where they do not belong."""

import subprocess
import sys

import numpy as np
import pytest
import safetensors.torch
import spandrel
import torch
from spandrel.architectures.KBNet import KBNet_s
from spandrel.architectures.NAFNet import NAFNet

from ganapps import foreign
from ganapps.photos import derain, upscale

from .conftest import ROOT
from .test_foreign import network
from .test_foreign import save as save_upscaler

spandrel_extra_arches = pytest.importorskip("spandrel_extra_arches")  # in requirements.txt: the tests always have it
from spandrel_extra_arches.architectures.MPRNet import MPRNet  # noqa: E402
from spandrel_extra_arches.architectures.Restormer import Restormer  # noqa: E402

DERAINERS = {
    "KBNet": lambda: KBNet_s(width=8, middle_blk_num=1, enc_blk_nums=[1, 1, 1, 1], dec_blk_nums=[1, 1, 1, 1]),
    "Restormer": lambda: Restormer(dim=8, num_blocks=[1, 1, 1, 1], num_refinement_blocks=1, heads=[1, 1, 1, 1]),
    "MPRNet": lambda: MPRNet(n_feat=8, scale_unetfeats=4, scale_orsnetfeats=4, num_cab=1),
}


def tiny(architecture: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = DERAINERS[architecture]().eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)  # away from the initialisation: every weight matters
    return model


def saved(model, path):
    state_dict = {k: v.clone().contiguous() for k, v in model.state_dict().items()}  # MPRNet shares some tensors
    if str(path).endswith(".safetensors"):
        safetensors.torch.save_file(state_dict, str(path))
    else:
        torch.save({"params": state_dict}, path)
    return str(path)


def rainy() -> np.ndarray:
    """(13, 19, 3) uint8: sides that are no multiple of 8 or 16."""
    return np.random.default_rng(1).integers(0, 255, (13, 19, 3), np.uint8)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
@pytest.mark.parametrize("architecture", DERAINERS)
def test_a_deraining_checkpoint_runs_as_spandrel_runs_it(tmp_path, architecture, suffix):
    model = tiny(architecture)
    path = saved(model, tmp_path / f"{architecture}{suffix}")
    expected = spandrel.ModelLoader().load_from_state_dict(model.state_dict()).float().eval()
    photo = rainy()
    reference = expected(torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255)[0].permute(1, 2, 0).numpy()
    result = derain(photo, model=path).to_array().astype(float)
    assert result.shape == photo.shape and np.abs(result - reference * 255).max() <= 1
    half = derain(photo, model=path, strength=0.5).to_array().astype(float)  # a share of its rain layer, as ours
    assert np.abs(half - (photo + 0.5 * (reference * 255 - photo))).max() <= 1


def test_each_kind_of_model_is_refused_where_it_does_not_belong(tmp_path):
    restormer = saved(tiny("Restormer"), tmp_path / "restormer.pth")
    with pytest.raises(ValueError, match=r"is a Restormer x1 .* restoration model \(1x\), not an upscaler: derain takes it"):
        upscale(rainy(), model=restormer)
    upscaler = save_upscaler(network("Compact"), tmp_path / "compact.pth")
    with pytest.raises(ValueError, match=r"is an upscaler \(RealESRGAN Compact x4.*\), not a deraining model: upscale takes it"):
        derain(rainy(), model=upscaler)
    nafnet = saved(NAFNet(width=8, middle_blk_num=1, enc_blk_nums=[1, 1], dec_blk_nums=[1, 1]), tmp_path / "nafnet.pth")
    with pytest.raises(ValueError, match="derain takes the 1x restoration architectures with published deraining weights: "
                                         "KBNet, Restormer, MPRNet"):
        derain(rainy(), model=nafnet)
    with pytest.raises(ValueError, match="not a deraining model: upscale takes it"):
        derain(rainy(), model="realesr-general-x4v3")  # a catalog upscaler (its file is never fetched: offline)


def test_the_licence_of_an_extra_architecture_is_stated_and_its_absence_explained(tmp_path, monkeypatch):
    descriptor = foreign.read_model(saved(tiny("Restormer"), tmp_path / "r.pth"), purpose="derain")
    assert "non-commercial licence (spandrel-extra-arches)" in foreign.describe(descriptor)
    assert foreign.licence(foreign.read_model(saved(tiny("KBNet"), tmp_path / "k.pth"), purpose="derain")) is None  # MIT
    monkeypatch.setattr(foreign, "extra_arches", lambda: False)
    unknown = saved(torch.nn.Linear(3, 4), tmp_path / "unknown.pth")
    with pytest.raises(ValueError, match="known once `pip install spandrel-extra-arches` is done"):
        derain(rainy(), model=unknown)


def test_cli_derains_with_another_project_s_checkpoint(tmp_path):
    from PIL import Image

    Image.fromarray(rainy()).save(tmp_path / "street.png")
    path = saved(tiny("KBNet"), tmp_path / "kbnet.safetensors")
    done = subprocess.run([sys.executable, "-m", "ganapps", "derain", str(tmp_path / "street.png"), "--model", path,
                           "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "out" / "street.png").size == (19, 13)


def test_a_url_pinned_by_its_sha256_is_downloaded_once_and_a_changed_file_refused(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setattr(foreign, "URL_CACHE", tmp_path / "cache")
    path = tmp_path / "published" / "kbnet.pth"
    path.parent.mkdir()
    saved(tiny("KBNet"), path)
    pin = hashlib.sha256(path.read_bytes()).hexdigest()
    url = f"{path.as_uri()}#sha256={pin}"
    expected = derain(rainy(), model=saved(tiny("KBNet"), tmp_path / "local.pth")).to_array()
    assert np.array_equal(derain(rainy(), model=url).to_array(), expected)
    assert (tmp_path / "cache" / pin / "kbnet.pth").is_file()
    path.unlink()  # the published file gone: the checked copy serves
    assert np.array_equal(foreign.read_model(url, purpose="derain").model.state_dict()["intro.weight"],
                          tiny("KBNet").state_dict()["intro.weight"])
    saved(tiny("Restormer"), path)  # another file at the same address
    other = f"{path.as_uri()}#sha256={'0' * 64}"
    with pytest.raises(ValueError, match=f"has sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}, not the 0+ its name pins"):
        derain(rainy(), model=other)
    assert not (tmp_path / "cache" / ("0" * 64) / "kbnet.pth").exists()
    with pytest.raises(ValueError, match="pin it with its sha256"):
        derain(rainy(), model=path.as_uri())
    with pytest.raises(ValueError, match="needs the network"):
        derain(rainy(), model=f"{(tmp_path / 'nowhere.pth').as_uri()}#sha256={pin[::-1]}")


def test_a_derainer_that_sees_its_whole_input_runs_whole_up_to_one_window_and_in_tiles_beyond(tmp_path):
    from ganapps.photos import load_derainer

    path = saved(tiny("Restormer"), tmp_path / "restormer.safetensors")
    network = load_derainer(path)
    assert (network.tile, network.overlap) == (foreign.RESTORATION_TILE, foreign.RESTORATION_OVERLAP)
    side = foreign.RESTORATION_TILE + 2 * foreign.RESTORATION_OVERLAP  # one window
    photo = np.random.default_rng(2).integers(0, 255, (side - 3, side - 5, 3), np.uint8)
    calls = []
    whole = derain(photo, model=network, progress=lambda done, total: calls.append(total)).to_array()
    assert set(calls) == {1} and np.array_equal(whole, derain(photo, model=network, tile=4096).to_array())
    larger = np.random.default_rng(3).integers(0, 255, (side + 40, side + 40, 3), np.uint8)
    calls.clear()
    derain(larger, model=network, progress=lambda done, total: calls.append(total))
    assert set(calls) == {4}  # bounded memory: 2 x 2 windows, each at most one window's size
