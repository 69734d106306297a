"""Other projects' upscalers: tiny checkpoints of the architectures spandrel detects, in every format people publish,
loaded through the library, the command line and the Hub cache; refused pickles; exact tiling; any scale; pairs."""

import os
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest
import safetensors.torch
import torch
from PIL import Image
from skimage import data as skdata
from spandrel.architectures.Compact import Compact
from spandrel.architectures.ESRGAN import ESRGAN
from spandrel.architectures.SPAN import SPAN

from ganapps import foreign, photo_models
from ganapps.photos import denoise_strength, derain, upscale
from ganapps.tiling import tiled_apply

from .conftest import ROOT
from .test_hub import COMMIT, build_hub_cache

ARCHITECTURES = {  # tiny networks of each architecture, as their authors' code builds them
    "Compact": lambda: Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=3, upscale=4, act_type="prelu"),
    "ESRGAN": lambda: ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=4),
    "SPAN": lambda: SPAN(num_in_ch=3, num_out_ch=3, feature_channels=8, upscale=2),
}
SCALES = {"Compact": 4, "ESRGAN": 4, "SPAN": 2}
WRAPPERS = {"plain": lambda sd: sd, "params": lambda sd: {"params": sd}, "params_ema": lambda sd: {"params_ema": sd, "iter": 5}}


def network(architecture: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = ARCHITECTURES[architecture]().eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)  # away from the initialisation: every weight matters
    return model


def save(model: torch.nn.Module, path, wrapper: str = "plain"):
    state_dict = {k: v.contiguous() for k, v in model.state_dict().items()}
    if str(path).endswith(".safetensors"):
        safetensors.torch.save_file(state_dict, str(path))
    else:
        torch.save(WRAPPERS[wrapper](state_dict), path)
    return str(path)


def photo(size=(23, 17)) -> np.ndarray:
    return np.asarray(Image.fromarray(skdata.astronaut()).resize(size, Image.BICUBIC))


def forward(model, image: np.ndarray) -> torch.Tensor:
    """The network's own forward pass on a uint8 photo, the reference our results are held to."""
    with torch.no_grad():
        return model(torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255).clamp(0, 1)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("form", ["plain.pth", "params.pth", "params_ema.pt", "model.safetensors", "ckpt.ckpt"])
def test_every_format_loads_and_upscales_as_its_own_forward_pass(tmp_path, architecture, form):
    model = network(architecture)
    path = save(model, tmp_path / form, form.split(".")[0] if form.split(".")[0] in WRAPPERS else "plain")
    loaded = photo_models.image_model(path, families=(), allow_foreign=True)
    assert loaded.scale == SCALES[architecture] and loaded.description.startswith(
        {"Compact": "RealESRGAN Compact", "ESRGAN": "ESRGAN", "SPAN": "SPAN"}[architecture])
    image = photo()
    result = upscale(image, model=path, scale=SCALES[architecture])
    expected = forward(model, image)
    assert result.size == (23 * SCALES[architecture], 17 * SCALES[architecture])
    assert torch.allclose(result.color, expected, atol=1e-5)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_tiled_equals_untiled_with_the_chosen_overlap_and_not_with_less(tmp_path, architecture):
    path = save(network(architecture), tmp_path / "model.pth")
    loaded = photo_models.image_model(path, families=(), allow_foreign=True)
    radius = foreign.receptive_radius(foreign.read_model(path))
    assert loaded.overlap == radius < foreign.EFFECTIVE_RADIUS  # tiny networks: their whole receptive field
    image = torch.from_numpy(photo((3 * 16 + 2 * radius + 5, 2 * 16 + 2 * radius + 3))).permute(2, 0, 1)[None].float() / 255
    whole = loaded.restore(image, tile=4096)
    tiled = loaded.restore(image, tile=16)
    assert torch.allclose(tiled, whole, atol=1e-5)
    seams = tiled_apply(loaded.run, image, scale=loaded.scale, tile=16, overlap=2)
    assert (seams - whole).abs().max() > 1e-3  # the test can tell a seam when there is one


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_receptive_radius_bounds_what_an_output_pixel_sees(tmp_path, architecture):
    model = network(architecture)
    radius = foreign.receptive_radius(foreign.read_model(save(model, tmp_path / "model.pth")))
    side = 2 * radius + 9
    image = torch.rand(1, 3, side, side, dtype=torch.float64)
    changed = image.clone()
    changed[:, :, side // 2, side // 2] += 0.5  # one input pixel
    with torch.no_grad():  # in float64, where an influence through twenty layers of small weights still shows
        difference = (model.double()(changed) - model(image)).abs().amax(dim=(0, 1))  # (H*scale, W*scale)
    rows, cols = torch.nonzero(difference > 1e-13, as_tuple=True)
    scale = SCALES[architecture]
    reach = max((rows // scale - side // 2).abs().max().item(), (cols // scale - side // 2).abs().max().item())
    # a bound, and a tight one (SPAN's gates, sigmoid(x) - 0.5, let random weights' influence fade a little sooner)
    assert radius - {"Compact": 2, "ESRGAN": 2, "SPAN": 5}[architecture] <= reach <= radius


def test_the_effective_radius_caps_deep_networks(tmp_path):
    deep = foreign.read_model(save(ESRGAN(in_nc=3, out_nc=3, num_filters=4, num_blocks=8, scale=4), tmp_path / "deep.pth"))
    # the first convolution, eight RRDBs of 15, the trunk's last; then x2, x4 and two at x4: 1.25 pixels; one for resampling
    assert foreign.receptive_radius(deep) == 125
    assert foreign.overlap(deep) == foreign.EFFECTIVE_RADIUS < 125


def test_any_scale_gives_the_rounded_size(tmp_path):
    path = save(network("Compact"), tmp_path / "model.pth")
    for scale, size in [(2.5, (58, 42)), (1, (23, 17)), (6, (138, 102)), (8, (184, 136)), (3.3, (76, 56))]:
        assert upscale(photo(), model=path, scale=scale).size == size == (round(23 * scale), round(17 * scale))
    assert upscale(photo(), model="bicubic", scale=2.5).size == (58, 42)


def test_grayscale_rgba_and_sixteen_bit_keep_their_kind(tmp_path):
    path = save(network("Compact"), tmp_path / "model.pth")
    gray = upscale(photo()[..., 0], model=path, scale=2)
    assert gray.grayscale and gray.size == (46, 34)
    rgba = np.dstack([photo(), np.full((17, 23), 128, np.uint8)])
    with_alpha = upscale(rgba, model=path, scale=2)
    assert with_alpha.alpha is not None and abs(with_alpha.alpha.mean().item() - 128 / 255) < 1e-3
    deep = upscale(photo().astype(np.uint16) * 257, model=path, scale=2)
    assert deep.bit_depth == 16 and deep.to_array().dtype == np.uint16


def test_progress_is_reported_tile_by_tile(tmp_path):
    path = save(network("Compact"), tmp_path / "model.pth")
    calls = []
    upscale(photo((64, 40)), model=path, tile=16, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1] > 1 and [done for done, _ in calls] == list(range(1, len(calls) + 1))


def test_a_pair_blends_weight_by_weight_through_denoise(tmp_path):
    strong, mild = network("Compact", seed=1), network("Compact", seed=2)
    strong_path, mild_path = save(strong, tmp_path / "x4v3.pth"), save(mild, tmp_path / "wdn-x4v3.pth", "params")
    assert denoise_strength(strong_path, mild_path) == photo_models.FOREIGN_DEFAULT_DENOISE and denoise_strength(strong_path) is None
    image = photo()
    assert torch.allclose(upscale(image, model=strong_path, mild=mild_path, denoise=1.0).color, forward(strong, image), atol=1e-5)
    assert torch.allclose(upscale(image, model=strong_path, mild=mild_path, denoise=0.0).color, forward(mild, image), atol=1e-5)
    blend = network("Compact")
    blend.load_state_dict({k: 0.7 * v + 0.3 * mild.state_dict()[k] for k, v in strong.state_dict().items()})
    assert torch.allclose(upscale(image, model=strong_path, mild=mild_path, denoise=0.7).color, forward(blend, image), atol=1e-5)
    default = upscale(image, model=strong_path, mild=mild_path).color  # 0.5
    assert torch.allclose(default, upscale(image, model=strong_path, mild=mild_path, denoise=0.5).color)
    with pytest.raises(ValueError, match="has no denoise control"):
        upscale(image, model=strong_path, denoise=0.5)
    other = save(network("ESRGAN"), tmp_path / "rrdb.pth")
    with pytest.raises(ValueError, match="differ in architecture"):
        upscale(image, model=strong_path, mild=other)


class RunsCode:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path, how):
    marker = tmp_path / "ran"
    payload = RunsCode()
    payload.marker = marker
    path = tmp_path / "evil.pth"
    if how == "torch.save":
        torch.save({"params": network("Compact").state_dict(), "hook": payload}, path)
    else:
        path.write_bytes(pickle.dumps({"params": payload}, protocol=2))
    with pytest.raises(ValueError, match="refused: loading it would run code or build objects other than tensors"):
        upscale(photo(), model=str(path))
    assert not marker.exists()


def test_a_torchscript_archive_is_refused(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.trace(network("Compact"), torch.rand(1, 3, 8, 8)), str(path))
    with pytest.raises(ValueError, match="refused: a TorchScript archive is a program"):
        upscale(photo(), model=str(path))


def test_what_is_not_an_upscaler_gets_an_error_that_says_what_it_is(tmp_path):
    restoration = save(ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=1), tmp_path / "1x.pth")
    with pytest.raises(ValueError, match=r"is a 1x restoration model .*\(ESRGAN Restoration model\), not an upscaler"):
        upscale(photo(), model=restoration)
    with pytest.raises(ValueError, match="derain takes the 1x restoration architectures with published deraining weights: KBNet"):
        derain(photo(), model=restoration)
    unknown = save(torch.nn.Linear(3, 4), tmp_path / "classifier.pth")
    with pytest.raises(ValueError, match=r"an unknown model layout \(2 tensors: weight, bias"):
        upscale(photo(), model=unknown)
    (tmp_path / "cut.pth").write_bytes((tmp_path / "1x.pth").read_bytes()[:500])
    with pytest.raises(ValueError, match="cannot be read"):
        upscale(photo(), model=str(tmp_path / "cut.pth"))
    with pytest.raises(ValueError, match="no checkpoint file"):
        upscale(photo(), model=str(tmp_path / "missing.safetensors"))


def test_a_hub_file_loads_from_the_cache_pinned_or_not_and_in_a_dataset_repo(tmp_path, monkeypatch):
    import huggingface_hub.constants

    model = network("SPAN")
    folder = tmp_path / "repo"
    (folder / "weights").mkdir(parents=True)
    save(model, folder / "weights" / "2x_span.safetensors")
    build_hub_cache(tmp_path / "cache", "someone/span-x2", folder)
    dataset = tmp_path / "cache" / "datasets--someone--upscalers"
    shutil.copytree(tmp_path / "cache" / "models--someone--span-x2", dataset)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    image = photo()
    for name in ("hf://someone/span-x2/weights/2x_span.safetensors", f"hf://someone/span-x2@{COMMIT}/weights/2x_span.safetensors",
                 "hf://datasets/someone/upscalers/weights/2x_span.safetensors"):
        assert torch.allclose(upscale(image, model=name, scale=2).color, forward(model, image), atol=1e-5)
    with pytest.raises(ValueError, match="someone/span-x2 is not in the Hugging Face cache yet, and downloading it needs the network"):
        upscale(image, model="hf://someone/span-x2/weights/other.pth")
    with pytest.raises(ValueError, match="not a Hub file; write hf://<org>/<repo>"):
        upscale(image, model="hf://someone/span-x2")


def test_a_catalog_upscaler_without_network_names_its_repo_and_the_shipped_models_still_work(tmp_path, monkeypatch):
    import huggingface_hub.constants

    from ganapps import catalog

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    for name, entry in catalog.HUB_UPSCALE.items():
        assert foreign.parse_hub_file(entry.file).filename.endswith(foreign.CHECKPOINT_SUFFIXES)
        repo = foreign.parse_hub_file(entry.file).repo_id
        needs_network = f"from the Hub repo {repo} is not in the Hugging Face cache yet, and downloading it needs the network"
        with pytest.raises(ValueError, match=needs_network):
            upscale(photo(), model=name)
    assert denoise_strength("realesr-general-x4v3") == photo_models.FOREIGN_DEFAULT_DENOISE  # a pair: the slider shows
    assert upscale(photo(), model="photo-x4", scale=2).size == (46, 34)


@pytest.mark.slow
def test_the_command_line_takes_a_checkpoint_file_a_scale_and_a_tile(tmp_path):
    model = network("ESRGAN")
    path = save(model, tmp_path / "RealESRGAN_tiny.pth", "params_ema")
    image = photo((41, 29))
    Image.fromarray(image).save(tmp_path / "in.png")
    expected = (forward(model, image)[0].permute(1, 2, 0).numpy() * 255).round()
    for options, size in ([], (164, 116)), (["--tile", "16"], (164, 116)), (["--scale", "2.5"], (102, 72)):
        out = tmp_path / f"out{len(options)}"
        done = subprocess.run([sys.executable, "-m", "ganapps", "upscale", str(tmp_path / "in.png"), "--model", path, "--out", str(out),
                               *options], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        result = np.asarray(Image.open(out / "in.png"))
        assert result.shape[:2] == size[::-1]
        if size == (164, 116):
            assert np.abs(result.astype(float) - expected).max() <= 1  # within one level of 255 of its own forward pass
    evil = tmp_path / "evil.pth"
    payload = RunsCode()
    payload.marker = tmp_path / "ran"
    torch.save({"params": payload}, evil)
    done = subprocess.run([sys.executable, "-m", "ganapps", "upscale", str(tmp_path / "in.png"), "--model", str(evil), "--out",
                           str(tmp_path / "never")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "refused" in done.stderr and not (tmp_path / "ran").exists()
