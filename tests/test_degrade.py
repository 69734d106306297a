"""The degradation pipeline (each stage does what its parameter says), the degraded training data and the
Real-ESRGAN-style model's geometry."""

import cv2
import numpy as np
import pytest
import torch
from skimage import data as skdata

from ganapps import degrade
from ganapps.data import PhotoPatches, bicubic_downscale, split_files
from ganapps.metrics import block_grid_energy
from ganapps.models import realesrgan


def photo(size=96) -> np.ndarray:
    return cv2.resize(skdata.astronaut(), (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def moments(kernel):
    """(var_x, var_y, cov_xy) of a kernel seen as a distribution over its pixel offsets."""
    half = kernel.shape[0] // 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1]
    return (kernel * x * x).sum(), (kernel * y * y).sum(), (kernel * x * y).sum()


def test_gaussian_kernel_has_the_sigmas_and_angle_it_is_given():
    kernel = degrade.gaussian_kernel(41, 3.0)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-6) and np.allclose(kernel, kernel.T)
    assert moments(kernel)[:2] == pytest.approx((9.0, 9.0), rel=1e-3)
    var_x, var_y, cov = moments(degrade.gaussian_kernel(41, 3.0, 1.0))
    assert (var_x, var_y, cov) == pytest.approx((9.0, 1.0, 0.0), abs=0.01)
    var_x, var_y, cov = moments(degrade.gaussian_kernel(41, 3.0, 1.0, angle=90))  # the long axis turned upright
    assert (var_x, var_y) == pytest.approx((1.0, 9.0), abs=0.01)
    var_x, var_y, cov = moments(degrade.gaussian_kernel(41, 3.0, 1.0, angle=45))
    assert (var_x, var_y, cov) == pytest.approx((5.0, 5.0, 4.0), abs=0.01)


def test_generalized_kernel_shape_follows_beta():
    def tail(beta):  # share of the weight beyond 2 sigma along the axis
        kernel = degrade.gaussian_kernel(41, 2.0, beta=beta)
        return kernel[20, np.abs(np.arange(41) - 20) > 4].sum() / kernel[20].sum()

    assert tail(1.0) > tail(2.0) > tail(4.0)  # heavy tails below the Gaussian, a plateau above


def test_bad_stage_parameters_are_refused():
    with pytest.raises(ValueError, match="odd"):
        degrade.gaussian_kernel(4, 1.0)
    with pytest.raises(ValueError, match="resize method 'nearest'"):
        degrade.resize(photo(), (10, 10), "nearest")
    with pytest.raises(ValueError, match="JPEG quality must be in 1..100, got 0"):
        degrade.jpeg(photo(), 0)
    with pytest.raises(ValueError, match="unknown noise 'salt'"):
        degrade.Order(noise=("salt", 0.1, False))
    with pytest.raises(ValueError, match="resize scale"):
        degrade.Order(scale=0)


def test_blur_convolves_with_the_kernel():
    impulse = np.zeros((31, 31, 3), np.float32)
    impulse[15, 15] = 1
    kernel = degrade.gaussian_kernel(9, 1.5, 0.7, angle=30)
    out = degrade.blur(impulse, kernel)
    assert np.allclose(out[11:20, 11:20, 0], kernel[::-1, ::-1], atol=1e-7)
    assert np.allclose(out[..., 0], out[..., 2])


def test_resize_gives_the_size_and_keeps_flat_colour():
    flat = np.full((40, 60, 3), 0.3, np.float32)
    for method in degrade.RESIZE_METHODS:
        out = degrade.resize(flat, (25, 11), method)
        assert out.shape == (11, 25, 3) and np.allclose(out, 0.3, atol=1e-6)


@pytest.mark.parametrize("gray", [False, True])
def test_gaussian_noise_has_the_sigma_it_is_given(gray):
    flat = np.full((200, 200, 3), 0.5, np.float32)
    noise = degrade.gaussian_noise(flat, 0.05, gray=gray, rng=np.random.default_rng(0)) - flat
    assert noise.std() == pytest.approx(0.05, rel=0.03) and abs(noise.mean()) < 0.002
    assert np.allclose(noise[..., 0], noise[..., 1]) == gray


@pytest.mark.parametrize("gray", [False, True])
def test_poisson_noise_grows_with_scale_and_brightness(gray):
    def variance(level, scale):
        flat = np.full((200, 200, 3), level, np.float32)
        noise = degrade.poisson_noise(flat, scale, gray=gray, rng=np.random.default_rng(1)) - flat
        assert np.allclose(noise[..., 0], noise[..., 2]) == gray
        return noise.var()

    # counts ~ Poisson(level * 255 / scale), so the variance of level is level * scale / 255
    assert variance(0.5, 2.0) == pytest.approx(0.5 * 2.0 / 255, rel=0.05)
    assert variance(0.2, 2.0) == pytest.approx(0.2 * 2.0 / 255, rel=0.05)
    assert variance(0.5, 0.5) == pytest.approx(0.5 * 0.5 / 255, rel=0.05)


def test_jpeg_quality_sets_the_error_and_the_block_grid():
    image = photo(128)
    errors = [np.abs(degrade.jpeg(image, quality) - image).mean() for quality in (95, 60, 20)]
    assert errors[0] < errors[1] < errors[2] and errors[0] < 0.02
    as_uint8 = lambda a: (a * 255).round().astype(np.uint8)
    blocky = block_grid_energy(as_uint8(degrade.jpeg(image, 10)), period=8)
    assert blocky > 1.3 > block_grid_energy(as_uint8(image), period=8)


def test_degrade_is_deterministic_by_seed_and_sized_by_scale():
    image = photo()
    chain = degrade.Degradation(
        first=degrade.Order(kernel=(7, 1.2, 0.6, 20.0, 1.5), scale=0.7, method="area", noise=("gaussian", 0.03, False), quality=70),
        second=degrade.Order(scale=1.1, method="bilinear", noise=("poisson", 1.0, True)),
        final_method="bicubic", final_quality=60,
    )
    a, b = degrade.degrade(image, chain, seed=3), degrade.degrade(image, chain, seed=3)
    assert a.shape == (24, 24, 3) and a.dtype == np.float32 and np.array_equal(a, b)
    assert not np.array_equal(a, degrade.degrade(image, chain, seed=4))
    assert 0 <= a.min() and a.max() <= 1


def test_no_degradation_is_the_benchmark_s_bicubic_downscale():
    image = photo()
    expected = bicubic_downscale((image * 255).round().astype(np.uint8), 4)  # Pillow's, antialiased
    difference = np.abs(degrade.degrade(image, degrade.Degradation()) * 255 - expected)
    assert difference.mean() < 0.3 and difference.max() < 4  # Pillow rounds between its two 8-bit passes
    aliased = cv2.resize(image, (24, 24), interpolation=cv2.INTER_CUBIC) * 255  # OpenCV's does not antialias
    assert np.abs(aliased - expected).mean() > 3 * difference.mean()


def test_random_chains_are_reproducible_and_cover_every_stage():
    draws = [degrade.random_degradation(np.random.default_rng(seed)) for seed in range(400)]
    assert draws[:20] == [degrade.random_degradation(np.random.default_rng(seed)) for seed in range(20)]
    orders = [d.first for d in draws] + [d.second for d in draws if d.second is not None]
    kernels = [o.kernel for o in orders if o.kernel is not None]
    assert any(k[1] != k[2] for k in kernels) and any(k[1] == k[2] for k in kernels)  # anisotropic and isotropic
    assert {k[4] < 2 for k in kernels if k[4] != 2} == {True, False}  # both generalized shapes
    assert {o.noise[0] for o in orders if o.noise} == set(degrade.NOISE_KINDS)
    assert {o.noise[2] for o in orders if o.noise} == {True, False}
    assert {o.method for o in orders} == set(degrade.RESIZE_METHODS)
    assert any(o.scale < 1 for o in orders) and any(o.scale > 1 for o in orders)
    qualities = [d.final_quality for d in draws if d.final_quality is not None]
    assert 0.7 < len(qualities) / len(draws) < 0.95 and min(qualities) < 40 and max(qualities) > 90
    assert 0.25 < sum(d.first == degrade.Order() and d.second is None for d in draws) / len(draws) < 0.45  # web downscales
    assert degrade.Degradation() in draws  # some photos come clean


def test_degraded_patches_are_reproducible_and_differ_from_bicubic(tmp_path):
    for index in range(3):
        cv2.imwrite(str(tmp_path / f"{index}.png"), skdata.astronaut()[index * 50 : index * 50 + 200, :200])
    degraded = PhotoPatches([tmp_path], patch=64, degraded=True)
    indices = torch.tensor([0, 1, 2])
    low, high = degraded.batch(indices, seed=7)
    assert low.shape == (3, 3, 16, 16) and high.shape == (3, 3, 64, 64)
    assert all(torch.equal(a, b) for a, b in zip((low, high), degraded.batch(indices, seed=7)))
    as_uint8 = lambda t: (t.permute(1, 2, 0) * 255).round().byte().numpy()
    bicubic = [bicubic_downscale(as_uint8(h), 4) for h in high]
    assert sum(np.abs(as_uint8(lo).astype(int) - b).mean() > 1 for lo, b in zip(low, bicubic)) >= 2


def test_validation_photos_are_never_trained_on(tmp_path):
    for index in range(25):
        cv2.imwrite(str(tmp_path / f"{index:02d}.png"), skdata.astronaut()[:130, :130])
    paths = sorted(tmp_path.iterdir())
    validation = split_files(paths, "validation")
    assert [p.name for p in validation] == ["09.png", "19.png"]
    assert set(validation).isdisjoint(split_files(paths, "train")) and len(split_files(paths, "all")) == 25
    assert len(PhotoPatches([tmp_path], degraded=True, split="train")) == 23


@pytest.mark.parametrize("hr_conv", [False, True])
def test_receptive_radius_bounds_what_an_output_pixel_sees(hr_conv):
    torch.manual_seed(0)
    config = realesrgan.Config(channels=4, num_blocks=2, hr_conv=hr_conv)
    generator = realesrgan.Generator(config)
    for parameter in generator.parameters():
        torch.nn.init.normal_(parameter, 0.0, 0.3)
    image = torch.rand(1, 3, 40, 40)
    poked = image.clone()
    poked[..., 20, 20] += 1
    changed = (generator(poked) - generator(image)).abs().amax(dim=(0, 1)) > 1e-6
    rows, cols = torch.nonzero(changed, as_tuple=True)
    reach = max((rows - 81.5).abs().max(), (cols - 81.5).abs().max()).item() / realesrgan.SCALE  # in input pixels
    assert config.receptive_radius - 2 <= reach <= config.receptive_radius


def test_mild_chains_add_no_noise_blur_lightly_and_compress_little():
    draws = [degrade.mild_degradation(np.random.default_rng(seed)) for seed in range(300)]
    assert all(d.second is None and d.first.noise is None and d.first.quality is None and d.first.scale == 1.0 for d in draws)
    qualities = [d.final_quality for d in draws if d.final_quality is not None]
    assert 0.35 < len(qualities) / len(draws) < 0.65 and min(qualities) >= 85
    sigmas = [d.first.kernel[1] for d in draws if d.first.kernel is not None]
    assert 0.2 < len(sigmas) / len(draws) < 0.4 and max(sigmas) <= 1.0
    assert set(degrade.DEGRADATIONS) == {"web", "mild"}
