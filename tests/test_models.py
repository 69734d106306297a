"""The family contract, for every family on tiny configs."""

import copy
import dataclasses

import numpy as np
import pytest
import torch

from ganapps import hub
from ganapps.models import TRAINABLE, cgan, classifier, dcgan, derain, infogan, realesrgan, srgan
from ganapps.models.family import example_photo


def make(name):
    family = TRAINABLE[name]
    return family.network(family.config.tiny()).eval()


def run_model(name, model):
    """One forward pass of the exported network, as a user would call it (the family's ``example_use``)."""
    return TRAINABLE[name].example_use(model)


def training_batch(name, seed=1):
    family = TRAINABLE[name]
    return family.example_batch(family.config.tiny(), torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", list(TRAINABLE))
def test_output_shape_and_range(name):
    family = TRAINABLE[name]
    out = run_model(name, make(name))
    assert torch.isfinite(out).all()
    if family.restorer is not None:  # photos in [0, 1], scaled by the restorer's factor
        scale = family.restorer.scale
        assert out.shape == (2, 3, 20 * scale, 12 * scale) and out.min() >= 0 and out.max() <= 1
    elif out.dim() == 4:  # digits in [-1, 1]
        assert out.shape == (4, 1, 28, 28) and out.min() >= -1 and out.max() <= 1
    else:  # points (toy) or a reader's logits, one row per input
        assert out.shape[0] == 4 and out.dim() == 2


def test_photo_discriminators_return_logits_and_features():
    sr_disc = srgan.Discriminator(srgan.Config.tiny())
    logits, features = sr_disc(torch.rand(3, 3, 32, 32))
    assert logits.shape == (3,) and len(features) == 8
    rain_disc = derain.Discriminator(derain.Config.tiny())
    patch, whole, features = rain_disc(torch.rand(2, 3, 32, 40), torch.rand(2, 3, 32, 40))
    assert patch.shape == (2, 1, 4, 5) and whole.shape == (2,) and len(features) == 3
    unet = realesrgan.Discriminator(realesrgan.Config.tiny())
    pixels, features = unet(torch.rand(2, 3, 32, 40))
    assert pixels.shape == (2, 1, 32, 40) and len(features) == 6  # a verdict per pixel; 3 down, 3 up


def test_unet_discriminator_is_spectrally_normalised():
    unet = realesrgan.Discriminator(realesrgan.Config(disc_channels=8)).train()
    for _ in range(30):  # power iterations converge while training
        unet(torch.rand(1, 3, 16, 16))
    conv = unet.down[1]
    sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
    assert sigma == pytest.approx(1.0, abs=0.05)


def test_photo_generators_start_as_bicubic_and_identity():
    low_res = torch.rand(1, 3, 8, 8)
    bicubic = torch.nn.functional.interpolate(low_res, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.allclose(make("srgan")(low_res), bicubic)
    assert torch.allclose(make("realesrgan")(low_res), bicubic)
    photo = example_photo()
    assert torch.equal(make("derain")(photo), photo)


@pytest.mark.parametrize("module", [dcgan, cgan, infogan], ids=lambda m: m.FAMILY.name)
def test_discriminator_returns_logits_per_image(module):
    name = module.FAMILY.name
    disc = module.Discriminator(module.FAMILY.config.tiny())
    images = torch.rand(3, 1, 28, 28) * 2 - 1
    out = disc(images, torch.tensor([0, 1, 2])) if name == "cgan" else disc(images)
    logits = out[0] if name == "infogan" else out
    assert logits.shape == (3,)
    if name == "infogan":
        assert out[1].shape == (3, 10) and out[2].shape == (3, disc.config.num_continuous)


@pytest.mark.parametrize("name", list(TRAINABLE))
def test_config_validation_names_the_field(name):
    config = TRAINABLE[name].config
    field = next(f.name for f in dataclasses.fields(config) if type(f.default) is int and f.default > 0)  # a size
    with pytest.raises(ValueError, match=f"{field} must be a positive integer, got 0"):
        config(**{field: 0})


@pytest.mark.parametrize("name", list(TRAINABLE))
def test_training_options_are_checked_and_apart_from_the_architecture(name):
    family = TRAINABLE[name]
    architecture = {f.name for f in dataclasses.fields(family.config)}
    assert not architecture & {f.name for f in dataclasses.fields(family.training)}
    with pytest.raises(ValueError, match="unknown .* 'no_such_option'"):
        family.training_from({"no_such_option": 1})
    with pytest.raises(ValueError, match="unknown .* 'no_such_field'"):
        family.config_from({"family": name, "format_version": 2, "no_such_field": 1})


def test_infogan_config_checks_its_calibration():
    with pytest.raises(ValueError, match="category_digits"):
        infogan.Config(category_digits=(1, 2, 3))
    with pytest.raises(ValueError, match="slant_code"):
        infogan.Config(slant_code=5)
    with pytest.raises(ValueError, match="width_sign"):
        infogan.Config(width_sign=0)
    assert infogan.Config(category_digits=list(range(10))).category_digits == tuple(range(10))


def test_infogan_information_weights_scale_their_terms():
    with pytest.raises(ValueError, match="category_weight must be in 0..10, got 11"):
        infogan.Training(category_weight=11)
    torch.manual_seed(0)
    logits, means = torch.randn(6, 10), torch.randn(6, 3)
    categories, codes = torch.arange(6), torch.rand(6, 3) * 2 - 1
    parts = {name: infogan.info_loss(logits, means, categories, codes, infogan.Training(**weights)).item()
             for name, weights in (("category", {"category_weight": 1, "continuous_weight": 0}),
                                   ("continuous", {"category_weight": 0, "continuous_weight": 1}))}
    both = infogan.info_loss(logits, means, categories, codes, infogan.Training(category_weight=2, continuous_weight=0.5)).item()
    assert both == pytest.approx(2 * parts["category"] + 0.5 * parts["continuous"], rel=1e-6)
    assert parts["category"] == pytest.approx(torch.nn.functional.cross_entropy(logits, categories).item())


@pytest.mark.parametrize("name", list(TRAINABLE))
def test_save_load_round_trip_gives_identical_outputs(name, tmp_path):
    model = make(name)
    torch.nn.init.normal_(next(model.parameters()))  # not just the initialisation
    hub.save(model, tmp_path / name)
    loaded = hub.load(str(tmp_path / name))
    assert type(loaded) is type(model) and loaded.config == model.config
    assert torch.equal(run_model(name, model), run_model(name, loaded))
    assert sorted(p.name for p in (tmp_path / name).iterdir()) == ["README.md", "config.json", "model.safetensors"]


@pytest.mark.parametrize("name, phase", [(name, None) for name in TRAINABLE] + [("srgan", "srgan"), ("realesrgan", "gan")])
def test_three_training_steps_give_finite_losses_and_change_the_model(name, phase):
    family = TRAINABLE[name]
    kwargs = {} if phase is None else {"phase": phase}
    state = family.make_state(family.config.tiny(), training=family.training(), rng=torch.Generator().manual_seed(0),
                              device="cpu", **kwargs)
    exported = family.exported(state.models)
    before = [p.detach().clone() for p in exported.parameters()]
    batch = training_batch(name)
    for _ in range(3):
        losses = family.train_step(state, batch)
        assert losses and all(v.dim() == 0 and not v.requires_grad and torch.isfinite(v) for v in losses.values()), losses
    assert any(not torch.equal(a, b) for a, b in zip(before, exported.parameters()))


def _has_discriminator(name, phase) -> bool:
    family = TRAINABLE[name]
    state = family.make_state(family.config.tiny(), rng=torch.Generator(), device="cpu", **({"phase": phase} if phase else {}))
    return "discriminator" in state.models


# Every family and phase that plays the game (ssgan's discriminator is a classifier first: its own tests)
ADVERSARIAL = [(name, phase) for name, family in TRAINABLE.items() for phase in (family.phases or (None,))
               if family.dataset.name != "mnist-semi" and _has_discriminator(name, phase)]


@pytest.mark.parametrize("name, phase", ADVERSARIAL)
def test_every_adversarial_loss_pushes_the_discriminator_the_right_way(name, phase):
    """Read off one train step, at the discriminator's logits (higher: more real): D's loss pulls them up on real
    data and down on generated data, G's loss pulls them up on its own output. A loss with the wrong sign or the
    wrong target shows here, where "some parameter changed" cannot see it."""
    family = TRAINABLE[name]
    kwargs = {} if phase is None else {"phase": phase}
    state = family.make_state(family.config.tiny(), training=family.training(), rng=torch.Generator().manual_seed(0),
                              device="cpu", **kwargs)
    batch = training_batch(name)
    real = [t for t in batch if t.is_floating_point()][-1]  # what D is shown as real (digits, high-res, clean photos)
    pulls = {"D on real": [], "D on generated": [], "G": []}

    def watch(module, args, output):
        logits = output[0] if isinstance(output, tuple) else output
        images = [a for a in args if torch.is_tensor(a) and a.is_floating_point()]
        if not logits.requires_grad:
            return  # a feature-matching target, under no_grad
        if any(a.grad_fn is not None for a in images):  # made by G in this graph
            kind = "G"
        elif any(a.untyped_storage().data_ptr() == real.untyped_storage().data_ptr() for a in images[-1:]):
            kind = "D on real"
        else:
            kind = "D on generated"
        def pull(grad):  # > 0: the loss wants the logits higher (a gradient penalty's own autograd.grad is no loss)
            if not torch.is_grad_enabled():
                pulls[kind].append(float(-grad.sum()))

        logits.register_hook(pull)

    state.models["discriminator"].register_forward_hook(watch)
    family.train_step(state, batch)
    assert all(pulls.values()), pulls
    assert all(p > 0 for p in pulls["D on real"]) and all(p < 0 for p in pulls["D on generated"]), pulls
    assert all(p > 0 for p in pulls["G"]), pulls


def test_dcgan_r1_penalty_is_gamma_half_the_squared_gradient_at_real_digits():
    real, labels = training_batch("dcgan")
    losses = {}
    for gamma in (0.0, 10.0):
        torch.manual_seed(0)
        state = dcgan.make_state(dcgan.Config.tiny(), training=dcgan.Training(r1_gamma=gamma),
                                 rng=torch.Generator().manual_seed(0), device="cpu")
        if gamma:
            images = real.clone().requires_grad_(True)
            discriminator = copy.deepcopy(state.models["discriminator"])
            (grad,) = torch.autograd.grad(discriminator(images).sum(), images)
            penalty = gamma / 2 * grad.square().sum(dim=(1, 2, 3)).mean().item()
        losses[gamma] = dcgan.train_step(state, (real, labels))["loss_d"].item()
    assert penalty > 1e-4
    assert losses[10.0] - losses[0.0] == pytest.approx(penalty, rel=1e-4)
    with pytest.raises(ValueError, match="r1_gamma"):
        dcgan.Training(r1_gamma=-1.0)


def test_same_seed_same_digits_other_seed_other_digits():
    generator = make("cgan")
    a = cgan.sample(generator, 4, labels=[1, 2, 3, 4], seed=5)
    b = cgan.sample(generator, 4, labels=[1, 2, 3, 4], seed=5)
    c = cgan.sample(generator, 4, labels=[1, 2, 3, 4], seed=6)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_cgan_sample_rejects_labels_out_of_range():
    with pytest.raises(ValueError, match="0..9"):
        cgan.sample(make("cgan"), 2, labels=[3, 10], seed=0)


def test_infogan_changing_a_code_keeps_the_noise():
    generator = make("infogan")
    codes = torch.zeros(2, generator.config.num_continuous)
    a = infogan.sample(generator, 2, labels=[0, 0], codes=codes, seed=3)
    codes[:, 0] = 1.0
    b = infogan.sample(generator, 2, labels=[0, 0], codes=codes, seed=3)
    assert not torch.equal(a, b)
    latents = torch.randn(2, generator.config.noise_dim, generator=torch.Generator().manual_seed(3))
    c = infogan.sample(generator, 1, labels=[0], codes=codes[:1], latents=latents[:1], seed=99)
    assert torch.allclose(b[:1], c, atol=1e-6)


def test_classifier_features_feed_its_head():
    model = make("classifier")
    images = torch.rand(2, 1, 28, 28) * 2 - 1
    with torch.inference_mode():
        assert torch.allclose(model.head(model.features(images)), model(images))
    assert dataclasses.asdict(model.config)["feature_dim"] == classifier.Config.tiny().feature_dim


def test_differentiable_ssim_matches_scikit_image_and_enters_the_deraining_loss():
    from skimage import data as skdata

    from ganapps.losses import ssim
    from ganapps.metrics import ssim as reference

    clean = skdata.camera()[:96, :96].astype(float)
    noisy = (clean + torch.randn(96, 96, generator=torch.Generator().manual_seed(0)).numpy() * 20).clip(0, 255)
    as_tensor = lambda image: torch.tensor(image / 255, dtype=torch.float32)[None, None]
    assert ssim(as_tensor(clean), as_tensor(noisy)).item() == pytest.approx(reference(clean, noisy), abs=1e-3)
    assert ssim(as_tensor(clean), as_tensor(clean)).item() == pytest.approx(1.0, abs=1e-6)

    batch = training_batch("derain")
    losses = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)  # the same initial weights
        state = derain.make_state(derain.Config.tiny(), training=derain.Training(ssim_weight=weight),
                                  rng=torch.Generator().manual_seed(0), device="cpu")
        losses[weight] = derain.train_step(state, batch)["loss_pixel"].item()
    assert losses[1.0] > losses[0.0] + 0.1  # random crops are far from similar: 1 - SSIM adds most of a unit


def test_realesrgan_discriminator_jitter_crops_real_and_restored_alike():
    with pytest.raises(ValueError, match="d_jitter must be 0 or a positive multiple of 8"):
        realesrgan.Training(d_jitter=4)
    state = realesrgan.make_state(realesrgan.Config.tiny(), training=realesrgan.Training(d_jitter=8),
                                  rng=torch.Generator().manual_seed(0), device="cpu", phase="gan")
    seen = []
    state.models["discriminator"].register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[-2:]))
    low, high = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 32, 32)
    losses = realesrgan.train_step(state, (low, high))
    assert all(torch.isfinite(v) for v in losses.values())
    assert seen and all(shape == (24, 24) for shape in seen)  # every look of D: the same 24-pixel crop
    rng = torch.Generator().manual_seed(0)
    offsets = torch.tensor([realesrgan.jitter_offset(16, rng) for _ in range(4000)])
    counts = torch.bincount(offsets.flatten() % 8, minlength=8)  # the phase on D's stride-8 grid
    assert offsets.max() < 16 and counts.min() > 0.8 * counts.max()  # every phase alike


def test_realesrgan_discriminator_blur_makes_its_verdict_follow_a_shifted_image():
    checker = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2 * 2.0 - 1  # the highest frequency
    assert realesrgan.binomial_blur(checker.expand(1, 2, 8, 8))[..., 2:-2, 2:-2].abs().max() < 1e-6
    assert torch.allclose(realesrgan.binomial_blur(torch.ones(1, 2, 8, 8))[..., 1:-2, 1:-2], torch.ones(1, 2, 5, 5))
    torch.manual_seed(0)
    plain = realesrgan.Discriminator(realesrgan.Config.tiny()).eval()
    blurred = realesrgan.Discriminator(realesrgan.Config.tiny(), blur=True).eval()
    blurred.load_state_dict(plain.state_dict())  # the same weights: only the blur differs
    image = torch.rand(1, 3, 64, 64)
    changes = []
    with torch.no_grad():
        for discriminator in (plain, blurred):  # the verdict on a crop and on the crop one pixel to the right
            first, second = discriminator(image[..., 1:-7])[0], discriminator(image[..., 2:-6])[0]
            change = (first[..., 8:-8, 9:-8] - second[..., 8:-8, 8:-9]).abs().mean() / first.abs().mean()
            changes.append(float(change))
    assert changes[1] < 0.3 * changes[0], changes  # without the blur the stride grid's phase changes the verdict


def _luma(image: torch.Tensor) -> np.ndarray:
    """The luma (H, W) of one RGB image (3, H, W), by hand, for the sub-pixel terms' tests."""
    return (image * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0).numpy()


def test_position_term_finds_dots_at_their_position():
    from scipy.ndimage import laplace

    from ganapps.metrics import sub_pixel_detail

    torch.manual_seed(0)
    images = torch.rand(1, 3, 32, 32)
    images[..., 1::4, 2::4] += 0.5  # dots at one sub-pixel position
    found = sub_pixel_detail(images, period=realesrgan.SCALE)
    luma = _luma(images[0])
    by_hand = np.abs(laplace(luma)).reshape(8, 4, 8, 4).mean(axis=(0, 2))
    assert np.allclose(found.numpy(), by_hand / by_hand.mean(), atol=1e-5)
    assert found.argmax() == 1 * 4 + 2 and found.max() > 1.3
    with pytest.raises(ValueError, match="position_weight"):
        realesrgan.Training(position_weight=-1.0)
    state = realesrgan.make_state(realesrgan.Config.tiny(), training=realesrgan.Training(position_weight=10.0),
                                  rng=torch.Generator().manual_seed(0), device="cpu", phase="gan")
    losses = realesrgan.train_step(state, (torch.rand(2, 3, 8, 8), torch.rand(2, 3, 32, 32)))
    assert torch.isfinite(losses["loss_positions"]) and losses["loss_positions"] > 0


def test_pattern_term_finds_a_mesh_that_the_position_term_cannot():
    from scipy.ndimage import laplace

    from ganapps.metrics import sub_pixel_detail, sub_pixel_pattern

    torch.manual_seed(0)
    images = torch.rand(1, 3, 128, 128)
    assert sub_pixel_pattern(images, period=realesrgan.SCALE).abs().max() < 0.15  # noise: no mesh
    rows, columns = torch.meshgrid(torch.arange(128), torch.arange(128), indexing="ij")
    images += 0.3 * (-1.0) ** (rows + columns)  # a fine mesh: every position as busy, opposite signs
    luma = _luma(images[0])
    detail = laplace(luma)
    found = sub_pixel_pattern(images, period=realesrgan.SCALE)
    assert np.allclose(found.numpy(), detail.reshape(32, 4, 32, 4).mean(axis=(0, 2)) / np.abs(detail).mean(), atol=1e-5)
    assert found.square().mean().sqrt() > 0.5
    over_more_detail = sub_pixel_pattern(images, period=realesrgan.SCALE, reference=3 * images)  # the mesh_weight term's
    assert torch.allclose(over_more_detail, found / 3)
    assert (sub_pixel_detail(images, period=realesrgan.SCALE) - 1).abs().max() < 0.05  # the position term is blind to it
    with pytest.raises(ValueError, match="pattern_weight"):
        realesrgan.Training(pattern_weight=float("nan"))
    state = realesrgan.make_state(realesrgan.Config.tiny(), training=realesrgan.Training(pattern_weight=10.0, mesh_weight=10.0),
                                  rng=torch.Generator().manual_seed(0), device="cpu", phase="gan")
    losses = realesrgan.train_step(state, (torch.rand(2, 3, 8, 8), torch.rand(2, 3, 32, 32)))
    for name in ("loss_pattern", "loss_mesh"):
        assert torch.isfinite(losses[name]) and losses[name] > 0, name


def test_boundary_terms_find_the_low_res_pixels_and_the_jpeg_blocks_in_either_phase():
    from ganapps.metrics import sub_pixel_boundaries

    torch.manual_seed(0)
    images = torch.rand(1, 3, 64, 64)
    assert (sub_pixel_boundaries(images, period=realesrgan.SCALE) - 1).abs().max() < 0.05  # noise: no grid
    images = images + 2 * images[..., ::4, ::4].repeat_interleave(4, -2).repeat_interleave(4, -1)  # 4x4 blocks
    found = sub_pixel_boundaries(images, period=realesrgan.SCALE)
    luma = _luma(images[0])
    across_columns, across_rows = np.abs(np.diff(luma, axis=1)), np.abs(np.diff(luma, axis=0))
    by_hand = (across_columns[:, :60].reshape(64, 15, 4).mean(axis=(0, 1)) + across_rows[:60].reshape(15, 4, 64).mean(axis=(0, 2))) / 2
    assert np.allclose(found.numpy(), by_hand / by_hand.mean(), atol=1e-5)
    assert found.argmax() == 3 and found[3] > 1.5  # the steps between the blocks
    jpeg_grid = sub_pixel_boundaries(images, period=realesrgan.JPEG_BLOCK * realesrgan.SCALE)
    assert jpeg_grid.argmax() % 4 == 3 and (jpeg_grid[3::4] > 1.5).all()  # every 4th phase of the 32
    with pytest.raises(ValueError, match="boundary_weight"):
        realesrgan.Training(boundary_weight=float("inf"))
    with pytest.raises(ValueError, match="block_weight"):
        realesrgan.Training(block_weight=-0.5)
    training = realesrgan.Training(boundary_weight=10.0, block_weight=1.0)
    for phase in realesrgan.PHASES:
        state = realesrgan.make_state(realesrgan.Config.tiny(), training=training, rng=torch.Generator().manual_seed(0),
                                      device="cpu", phase=phase)
        losses = realesrgan.train_step(state, (torch.rand(2, 3, 16, 16), torch.rand(2, 3, 64, 64)))
        for name in ("loss_boundaries", "loss_blocks"):
            assert torch.isfinite(losses[name]) and losses[name] > 0, (phase, name)


# What each family's network computes, pinned at a fixed seed (diffusers' expected_slice): six values spread
# over the output of the tiny network with its weights drawn N(0, 0.05^2), as run_model calls it.
EXPECTED_SLICES = {
    "toy": [-0.0852, 0.0156, -0.0974, -0.0859, 0.0269, 0.0174],
    "dcgan": [-0.0496, -0.0514, -0.0338, -0.0528, -0.0482, -0.0515],
    "cgan": [-0.0005, -0.0053, 0.0053, -0.0050, -0.0117, -0.0062],
    "infogan": [-0.0361, -0.0312, -0.0319, -0.0305, -0.0322, -0.0386],
    "srgan": [0.0000, 0.2090, 0.3962, 0.5822, 0.8102, 0.9941],
    "realesrgan": [0.0158, 0.1439, 0.4813, 0.4672, 0.7288, 1.0000],
    "derain": [0.0000, 0.0189, 0.2454, 0.5854, 0.5914, 0.7932],
    "classifier": [-0.0008, -0.0263, 0.0553, 0.0212, -0.0093, -0.0078],
    "ssgan": [0.0692, 0.0911, 0.0161, 0.0401, -0.0280, -0.0118],
}


@pytest.mark.parametrize("name", list(TRAINABLE))
def test_tiny_network_outputs_are_pinned(name):
    torch.manual_seed(0)
    model = make(name)
    for parameter in model.parameters():  # zero-initialised tails would pin nothing: weights drawn afresh
        torch.nn.init.normal_(parameter, 0.0, 0.05)
    out = run_model(name, model).flatten()
    picked = out[torch.linspace(0, out.numel() - 1, 6).long()]
    if name not in EXPECTED_SLICES:  # a new family: pin what its network computes
        pytest.fail(f"{name} is not pinned: add it to EXPECTED_SLICES with its slice {[round(v, 4) for v in picked.tolist()]}")
    assert torch.allclose(picked, torch.tensor(EXPECTED_SLICES[name]), atol=2e-4), picked.tolist()
