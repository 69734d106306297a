"""The theory lab's pictures: where a lab's game stands (for 1-D data the picture of Goodfellow et al. 2014,
Figure 1; for 2-D data the discriminator's landscape), its losses and progress, its slow-motion presses; and the
square a person draws data in. Each function takes a ``live.Lab`` (read, never changed)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ..losses import generator_loss
from ..models import toy
from .distributions import DRAW_RANGE, LOG4, kde

__all__ = ["figure", "canvas_picture"]


def figure(lab, *, width: float = 11.0, height: float = 4.6, dpi: int = 80) -> Image.Image:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (main, curves) = plt.subplots(1, 2, figsize=(width, height), dpi=dpi, gridspec_kw={"width_ratios": [1.6, 1]})
    if lab.data.dim == 1:
        _draw_1d(lab, main)
    else:
        _draw_2d(lab, main)
    _draw_history(lab, curves)
    # Fixed margins and the canvas's own pixels: tight_layout and a PNG round trip are slow, and
    # the app draws a frame several times a second for every playing visitor.
    two_d = lab.data.dim == 2  # room for the colour bar of D(x)
    fig.subplots_adjust(left=0.03, right=0.985, bottom=0.11, top=0.93, wspace=0.25 if two_d else 0.1)
    fig.canvas.draw()
    picture = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    return picture

@torch.inference_mode()
def _draw_1d(lab, ax) -> None:
    data, config = lab.data, lab.config
    generator, discriminator = lab.state.models["generator"], lab.state.models["discriminator"]
    low, high = data.support
    low, high = low - 1, high + 1
    xs = np.linspace(low, high, 400)
    p_data = data.density(xs)
    samples = toy.sample(generator, 20_000, seed=0).numpy()[:, 0]
    p_g = kde(samples, xs)
    d = torch.sigmoid(discriminator(torch.as_tensor(xs, dtype=torch.float32)[:, None])).numpy()
    top = max(p_data.max(), p_g.max(), 1.0) * 1.1
    ax.plot(xs, p_data, ":", color="black", lw=2, label="p_data")
    ax.plot(xs, p_g, color="green", lw=2, label="p_g")
    ax.plot(xs, d * top, "--", color="tab:blue", lw=2, label="D(x)  (1 at the top)")
    move = lab.last_move
    if move is not None and move["player"] == "D":  # what the step changed: D before it
        d_before = torch.sigmoid(move["before"](torch.as_tensor(xs, dtype=torch.float32)[:, None])).numpy()
        ax.plot(xs, d_before * top, ":", color="tab:blue", lw=1.5, label="D(x) before the step")
    if move is not None and move["player"] == "G":  # what the step changed: p_g before it
        before = toy.sample(move["before"], 20_000, seed=0).numpy()[:, 0]
        ax.plot(xs, kde(before, xs), "--", color="green", lw=1, alpha=0.6, label="p_g before the step")
    if lab.frozen or (move is not None and move["player"] == "D"):  # the optimal discriminator for this (fixed) G
        ax.plot(xs, p_data / (p_data + p_g + 1e-12) * top, color="tab:orange", lw=1, label="D*(x) = p_data / (p_data + p_g)")
    ax.axhline(0.5 * top, color="tab:blue", lw=0.5, alpha=0.4)
    # The map z -> x = G(z): noise on the lower line, where G sends it on the upper one.
    zs = np.linspace(-1, 1, 25) if config.noise == "uniform" else np.linspace(-2, 2, 25)
    z = torch.as_tensor(zs, dtype=torch.float32)[:, None].repeat(1, config.noise_dim)
    gx = generator(z).numpy()[:, 0]
    z_line, x_line = -0.45 * top, -0.08 * top
    z_pos = low + (zs - zs.min()) / (zs.max() - zs.min()) * (high - low)
    ax.hlines([z_line, x_line], low, high, color="gray", lw=1)
    for zp, x in zip(z_pos, np.clip(gx, low, high)):
        ax.annotate("", xy=(x, x_line), xytext=(zp, z_line), arrowprops={"arrowstyle": "->", "color": "gray", "lw": 0.6})
    ax.text(low, z_line - 0.06 * top, "z", fontsize=10)
    ax.text(low, x_line + 0.02 * top, "x", fontsize=10)
    ax.set_xlim(low, high)
    ax.set_ylim(-0.55 * top, top * 1.05)
    ax.set_yticks([])
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(_title(lab, "densities, D(x) and the map z -> G(z)"), fontsize=10)

def _title(lab, what: str) -> str:
    """The main picture's title: the step (or the slow-motion move just made) and what is drawn."""
    move = lab.last_move
    if move is None:
        return f"step {lab.step}: {what}"
    other = "G" if move["player"] == "D" else "D"
    return f"{move['player']} updated {move['times']}x, {other} fixed: {what}"

def _draw_2d(lab, ax) -> None:
    data, config = lab.data, lab.config
    generator, discriminator = lab.state.models["generator"], lab.state.models["discriminator"]
    low, high = data.support
    span = max(abs(low), abs(high)) + 0.5
    grid = np.linspace(-span, span, 80)  # D on an 80x80 grid: smooth enough, and cheaper than a finer one
    gx, gy = np.meshgrid(grid, grid)
    points = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
    with torch.inference_mode():
        d = torch.sigmoid(discriminator(points)).numpy().reshape(gx.shape)
        real = data.sample(1000, torch.Generator().manual_seed(1)).numpy()
        # the image of a noise grid: lines of constant z1 (and z2) mapped by G
        lines = []
        for value in np.linspace(-1, 1, 9) if config.noise == "uniform" else np.linspace(-2, 2, 9):
            t = torch.linspace(-1, 1, 60) if config.noise == "uniform" else torch.linspace(-2, 2, 60)
            for axis in range(config.noise_dim):
                z = torch.full((60, config.noise_dim), float(value))
                z[:, axis] = t
                lines.append(generator(z).numpy())
    image = ax.imshow(d, extent=(-span, span, -span, span), origin="lower", cmap="RdBu", vmin=0, vmax=1, alpha=0.55)
    move = lab.last_move
    if move is not None and move["player"] == "D":  # what the step changed: where D said 1/2, before and after
        with torch.inference_mode():
            d_before = torch.sigmoid(move["before"](points)).numpy().reshape(gx.shape)
        for surface, style in ((d_before, "dashed"), (d, "solid")):
            if surface.min() < 0.5 < surface.max():
                ax.contour(gx, gy, surface, levels=[0.5], colors="black", linewidths=1, linestyles=style)
        ax.plot([], [], "k--", lw=1, label="D = 1/2 before the step")
        ax.plot([], [], "k-", lw=1, label="D = 1/2 after")
    for line in lines:
        ax.plot(line[:, 0], line[:, 1], color="darkorange", lw=0.4, alpha=0.5)
    ax.scatter(real[:, 0], real[:, 1], s=2, c="black", label="real")
    # where the generator's loss pushes its samples: -grad_x of the loss, per sample
    fake = toy.sample(generator, 1000, seed=2).clone().requires_grad_(True)  # out of inference mode
    loss = generator_loss(config.loss, discriminator(fake))
    (grad,) = torch.autograd.grad(loss, fake)
    fake, grad = fake.detach().numpy(), -grad.numpy()
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="darkorange", label="generated")
    every = slice(None, None, 8)
    if move is not None and move["player"] == "G":  # what the step changed: the same noise, mapped before and after
        before = toy.sample(move["before"], 1000, seed=2).numpy()
        ax.scatter(before[:, 0], before[:, 1], s=2, c="gray", alpha=0.5, label="generated before the step")
        shift = fake - before
        ax.quiver(before[every, 0], before[every, 1], shift[every, 0], shift[every, 1], color="black", width=0.003,
                  angles="xy", scale_units="xy", scale=1)
    norm = np.linalg.norm(grad, axis=1, keepdims=True).max() + 1e-12
    ax.quiver(fake[every, 0], fake[every, 1], grad[every, 0] / norm, grad[every, 1] / norm, color="darkgreen", width=0.003, scale=8)
    ax.set_xlim(-span, span)
    ax.set_ylim(-span, span)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8, markerscale=4)
    ax.figure.colorbar(image, ax=ax, fraction=0.04, label="D(x)")
    ax.set_title(_title(lab, "D(x), samples, G's pull (arrows), image of a z grid"), fontsize=10)

def _draw_history(lab, ax) -> None:
    if lab.last_move is not None:
        _moves_picture(ax, lab.moves)
        return
    if not lab.history:
        ax.set_axis_off()
        return
    steps = [h["step"] for h in lab.history]
    ax.plot(steps, [h["loss_d"] for h in lab.history], label="loss D", lw=1)
    ax.plot(steps, [h["loss_g"] for h in lab.history], label="loss G", lw=1)
    ax.plot(steps, [h["d_real"] for h in lab.history], label="mean D(real)", lw=1)
    ax.plot(steps, [h["d_fake"] for h in lab.history], label="mean D(fake)", lw=1)
    shown = [p for p in lab.progress if p["step"] >= steps[0]]
    if shown:  # progress, on the same axes: the JS divergence falls as G improves
        ax.plot([p["step"] for p in shown], [p["js_divergence"] for p in shown], color="black", lw=2, label="JS divergence (progress)")
    ax.axhline(0.5, color="gray", lw=0.5)
    ax.axhline(LOG4, color="gray", lw=0.5, ls=":")
    ax.legend(fontsize=8)
    ax.set_xlabel("step")
    ax.set_title("losses, D and progress (dotted: log 4)", fontsize=10)



def _moves_picture(ax, moves: list[dict]) -> None:
    """The slow-motion steps, one point per press: the loss of the player that moved, and D's distance from D*."""
    for player, colour, loss in (("D", "tab:blue", "loss_d"), ("G", "green", "loss_g")):
        shown = [(k, m[loss]) for k, m in enumerate(moves, 1) if m["player"] == player]
        if shown:
            ax.plot(*zip(*shown), "o", color=colour, ms=4, label=f"{loss.replace('_', ' ')} after a {player} press")
    gaps = [(k, m["gap"]) for k, m in enumerate(moves, 1) if m["gap"] is not None]
    if gaps:
        ax.plot(*zip(*gaps), color="tab:orange", lw=1.5, label="mean |D - D*| (0: D is optimal for this G)")
    ax.axhline(LOG4, color="gray", lw=0.5, ls=":")
    ax.legend(fontsize=8)
    ax.set_xlabel("press")
    ax.set_title("slow motion, press by press (dotted: log 4)", fontsize=10)



def canvas_picture(size: int = 320) -> Image.Image:
    """The square a person draws data in: -DRAW_RANGE..DRAW_RANGE on both axes, a line every unit, the axes darker."""
    picture = np.full((size, size, 3), 255, np.uint8)
    for value in range(-int(DRAW_RANGE), int(DRAW_RANGE) + 1):
        pixel = min(size - 1, round((value + DRAW_RANGE) / (2 * DRAW_RANGE) * (size - 1)))
        shade = 150 if value == 0 else 225
        picture[:, pixel] = np.minimum(picture[:, pixel], shade)
        picture[size - 1 - pixel] = np.minimum(picture[size - 1 - pixel], shade)
    return Image.fromarray(picture)

