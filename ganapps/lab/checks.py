"""The theory, checked numerically on labs: the optimal discriminator, the equilibrium, vanishing gradients, mode
coverage, losses against progress, and the Dirac-GAN's update rules. ``claims`` states each with its target; tests
and ``bench/theory.py`` run them."""

from __future__ import annotations

import functools
import math
import tempfile
from dataclasses import asdict

import numpy as np
import torch
from PIL import Image

from ..losses import generator_loss
from ..metrics import losses_vs_progress
from ..models import toy
from ..training import Run, TrainConfig
from . import games
from .distributions import LOG4
from .live import PRESETS, Lab

__all__ = ["DIRAC_TARGETS", "dirac_holds", "dirac_lesson", "check_optimal_discriminator", "check_equilibrium",
           "check_vanishing_gradients", "trained_lab", "check_mode_coverage", "check_losses_vs_progress"]

DIRAC_TARGETS = {"simultaneous": "> 1 (moves away)", "alternating": "0.5..2 (circles, no convergence)", "r1": "< 0.05 (converges)"}


def dirac_holds(rule: str, ratio: float) -> bool:
    """Whether a path's final / starting distance to the equilibrium is what ``DIRAC_TARGETS`` says of its rule."""
    return {"simultaneous": ratio > 1, "alternating": 0.5 <= ratio <= 2, "r1": ratio < 0.05}[rule]


def dirac_lesson(*, lr: float = 0.1, steps: int = 300, gamma: float = 1.0, dpi: int = 80) -> tuple[Image.Image, dict]:
    """The Dirac-GAN (``games.dirac_path``) from (1, 1) under each update rule: the picture and the numbers.

    The picture is the gradient vector field over (theta, psi) with each rule's path on it; the
    numbers are each path's final distance to the equilibrium (0, 0) over its first.
    """
    if isinstance(steps, bool) or not float(steps).is_integer():
        raise ValueError(f"steps must be a whole number, got {steps!r}")
    if not 0 < lr <= 1 or not 1 <= steps <= 5000 or not 0 < gamma <= 10:
        raise ValueError(f"lr must be in (0, 1], steps in 1..5000, gamma in (0, 10]; got {lr}, {steps}, {gamma}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {rule: games.dirac_path(rule, steps=int(steps), lr=lr, gamma=gamma) for rule in games.UPDATE_RULES}
    ratios = {rule: float(np.linalg.norm(path[-1]) / np.linalg.norm(path[0])) for rule, path in paths.items()}
    reach = max(2.0, min(6.0, 1.1 * max(np.abs(path).max() for path in paths.values())))
    grid = np.linspace(-reach, reach, 17)
    theta, psi = np.meshgrid(grid, grid)
    d_theta, d_psi = games.dirac_field(theta, psi)
    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=dpi)
    ax.quiver(theta, psi, d_theta, d_psi, color="0.7", angles="xy")
    labels = {"simultaneous": "simultaneous steps", "alternating": "alternating steps", "r1": f"simultaneous + R1 (gamma {gamma:g})"}
    for (rule, path), colour in zip(paths.items(), ("tab:red", "tab:blue", "tab:green")):
        ax.plot(path[:, 0], path[:, 1], color=colour, lw=1.2, label=f"{labels[rule]}: distance x{ratios[rule]:.2g}")
    ax.plot([1.0], [1.0], "ko", ms=4)
    ax.plot([0.0], [0.0], "k*", ms=10, label="equilibrium (0, 0)")
    ax.set(xlim=(-reach, reach), ylim=(-reach, reach), xlabel="generator position theta", ylabel="discriminator weight psi",
           title=f"Dirac-GAN, {int(steps)} steps of rate {lr:g}")
    ax.legend(loc="lower left", fontsize=7)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.1, top=0.93)
    fig.canvas.draw()
    picture = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    return picture, ratios



def check_optimal_discriminator(*, seed: int = 0, d_steps: int = 1500, batch_size: int = 2048, profile=False) -> float:
    """Largest |D(x) - D*(x)| on a grid over the data's support (modes +- 3 std), D trained with G frozen.

    D*(x) = p_data / (p_data + p_g) with both densities exact: p_data is the two-component mixture,
    and the frozen generator is linear (identity activations), set to map Gaussian noise onto
    N(0, 1.2^2), a density that overlaps both modes, so D* is smooth and known everywhere. D then
    trains alone on large batches, the learning rate lowered twice by 10x to settle it.
    """
    config = toy.Config(data="mixture2", noise="gaussian", noise_dim=1, g_activation="linear", loss="nonsaturating", lr_d=1e-3)
    cfg = TrainConfig(family="toy", data=(config.data,), out=tempfile.gettempdir(), steps=10**9,
                      batch_size=batch_size, seed=seed, device="cpu", model=asdict(config))
    lab = Lab(config, seed=seed, freeze_generator=True, run=Run(cfg))
    mean, std = 0.0, 1.2
    generator = lab.state.models["generator"]
    with torch.no_grad():  # G(z) = a z + b; rescale its last layer so that G(z) = std z + mean
        b, a = generator(torch.tensor([[0.0], [1.0]]))[:, 0].tolist()
        a -= b
        last = generator.net[-1]
        last.weight.mul_(std / a)
        last.bias.copy_((last.bias - b) * (std / a) + mean)
    for rate, steps in ((1e-3, d_steps), (1e-4, d_steps // 2), (1e-5, d_steps // 4)):
        for group in lab.state.optimizers["opt_d"].param_groups:
            group["lr"] = rate
        lab.advance(steps)
    data = lab.data
    xs = np.linspace(data.modes.min() - 3 * data.std, data.modes.max() + 3 * data.std, 301)
    p_data = data.density(xs)
    p_g = np.exp(-0.5 * ((xs - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
    with torch.inference_mode():
        d = torch.sigmoid(lab.state.models["discriminator"](torch.as_tensor(xs, dtype=torch.float32)[:, None])).numpy()
    error = np.abs(d - p_data / (p_data + p_g))
    if profile:
        for x, a, b, e in zip(xs[::10], p_data[::10], p_g[::10], error[::10]):
            print(f"{x:+.2f} p_data {a:.4f} p_g {b:.4f} error {e:.3f}")
    return float(error.max())


def check_equilibrium(*, seed: int = 0, steps: int = 4000) -> dict:
    """After a 1-D run: mean |D(x) - 1/2| over the support and |V(D, G) - (-log 4)|."""
    config, _ = PRESETS["equilibrium"]
    lab = Lab(config, seed=seed)
    lab.advance(steps)
    data = lab.data
    xs = np.linspace(data.modes.min() - 3 * data.std, data.modes.max() + 3 * data.std, 301)
    with torch.inference_mode():
        d = torch.sigmoid(lab.state.models["discriminator"](torch.as_tensor(xs, dtype=torch.float32)[:, None])).numpy()
    numbers = toy.evaluate(lab.state, num=20_000)
    return {"mean_abs_d_minus_half": float(np.abs(d - 0.5).mean()), "value": numbers["value"],
            "value_gap": abs(numbers["value"] + LOG4)}


def check_vanishing_gradients(*, seed: int = 0, d_steps: int = 500) -> dict:
    """Generator gradient norms under the saturating and non-saturating losses, with D confidently rejecting fakes."""
    config = toy.Config(data="gaussian", noise="uniform", noise_dim=1, loss="nonsaturating", lr_d=2e-3)
    lab = Lab(config, seed=seed, freeze_generator=True)
    lab.advance(d_steps)  # train D alone until it rejects the untrained generator's samples
    generator, discriminator = lab.state.models["generator"], lab.state.models["discriminator"]
    z = toy.draw_noise(4096, config, torch.Generator().manual_seed(seed))
    norms = {}
    for loss in ("minimax", "nonsaturating"):
        generator.zero_grad(set_to_none=True)
        logits = discriminator(generator(z))
        generator_loss(loss, logits).backward()
        norms[loss] = float(torch.sqrt(sum((p.grad**2).sum() for p in generator.parameters())))
    with torch.inference_mode():
        d_fake = torch.sigmoid(discriminator(generator(z))).mean().item()
    return {"mean_d_fake": d_fake, "grad_norm_minimax": norms["minimax"], "grad_norm_nonsaturating": norms["nonsaturating"],
            "ratio": norms["nonsaturating"] / max(norms["minimax"], 1e-30)}


@functools.lru_cache(maxsize=16)
def trained_lab(preset: str, *, seed: int, steps: int) -> Lab:
    """A lesson's lab after ``steps`` steps, kept: several claims read the same run (do not train it on)."""
    config, frozen = PRESETS[preset]
    lab = Lab(config, seed=seed, freeze_generator=frozen)
    lab.advance(steps)
    return lab


def check_mode_coverage(preset: str, *, seed: int, steps: int = 5000) -> dict:
    return toy.evaluate(trained_lab(preset, seed=seed, steps=steps).state, num=5000)


def check_losses_vs_progress(*, seed: int, steps: int = 5000) -> dict:
    """``losses_vs_progress`` over a run of the default 2-D recipe (the run the mode-coverage claim reads)."""
    return losses_vs_progress(trained_lab("mode collapse fixed", seed=seed, steps=steps).progress)

