"""The theory lab: one user's live toy GAN, its pictures, its lessons, and the theory checked.

``Lab`` wraps a ``training.Run`` of the ``toy`` family: ``advance`` takes steps from the shared
``training_steps`` generator, ``figure`` draws where the game stands (for 1-D data the picture
of Goodfellow et al. 2014, Figure 1; for 2-D data the discriminator's landscape), ``numbers``
measures it. ``PRESETS`` set up each lesson. The ``check_*`` functions verify the theory
numerically; tests and ``bench/theory.py`` run them.
"""

from __future__ import annotations

import concurrent.futures
import copy
import functools
import math
import multiprocessing
import os
import tempfile
import threading
import time
from dataclasses import asdict, replace

import numpy as np
import torch
from PIL import Image

from . import games
from .distributions import DRAW_RANGE, MAX_DRAWN_POINTS, distribution
from .losses import generator_loss
from .metrics import rank_correlation
from .models import toy
from .training import Run, TrainConfig, training_steps

BATCH_SIZE = toy.FAMILY.batch_size
LOG4 = math.log(4)

# Each lesson: a recipe and whether the generator is frozen. The 1-D lessons use the original GAN's
# cross-entropy objective, whose optimal discriminator and value -log 4 the theory is about.
PRESETS: dict[str, tuple[toy.Config, bool]] = {
    "optimal discriminator": (toy.Config(data="mixture2", noise="uniform", noise_dim=1, loss="nonsaturating", lr_d=1e-3, d_steps=5), True),
    "equilibrium": (toy.Config(data="gaussian", noise="uniform", noise_dim=1, loss="nonsaturating", lr_g=5e-4, lr_d=5e-4), False),
    "vanishing gradients": (
        toy.Config(data="gaussian", noise="uniform", noise_dim=1, loss="minimax", lr_g=5e-4, lr_d=2e-3, d_steps=5), False
    ),
    "mode collapse": (toy.Config(data="ring8", loss="nonsaturating", lr_g=2e-3, lr_d=5e-5), False),
    "mode collapse fixed": (toy.Config(data="ring8"), False),
}
PRESETS["losses vs progress"] = PRESETS["mode collapse fixed"]  # the default recipe, its losses set beside its progress
# Slow motion: the 1-D game of the optimal-discriminator lesson, with both players free, stepped one at a time.
PRESETS["slow motion"] = (toy.Config(data="mixture2", noise="uniform", noise_dim=1, loss="nonsaturating", lr_g=2e-3, lr_d=2e-3), False)
PLAYERS = ("D", "G")
MAX_UPDATES_PER_PRESS = 1000

# Every PROGRESS_EVERY steps a lab measures its progress (the JS divergence estimate on PROGRESS_SAMPLES
# samples, the same noise each time) and the mean losses since the last measurement. A stretch in
# which the estimate moved by less than PROGRESS_TOLERANCE counts neither as progress nor as regress.
PROGRESS_EVERY = 50
PROGRESS_SAMPLES = 2000
PROGRESS_TOLERANCE = 0.02


class Lab:
    """A toy GAN that one user trains step by step. Not shared: every session builds its own."""

    def __init__(self, config: toy.Config, *, seed: int = 0, freeze_generator: bool = False, run: Run | None = None):
        if run is None:
            cfg = TrainConfig(family="toy", data=(config.data,), out=tempfile.gettempdir(), steps=10**9,
                              batch_size=BATCH_SIZE, seed=seed, device="cpu", model=asdict(config))
            run = Run(cfg)
        self.run = run
        self.config, self.seed, self.frozen = config, seed, freeze_generator
        self.data = distribution(config.data)  # what the lab draws and measures against
        if freeze_generator:  # D still learns; G's optimiser takes zero-size steps
            for group in self.state.optimizers["opt_g"].param_groups:
                group["lr"] = 0.0
        self.history: list[dict] = []
        self.progress: list[dict] = []  # every PROGRESS_EVERY steps: step, js_divergence, the stretch's mean losses
        self.updates = {player: 0 for player in PLAYERS}  # each player's optimiser steps, both kinds of step counted
        self.last_move: dict | None = None  # the last slow-motion step: which player, how many updates, its network before
        self.moves: list[dict] = []  # every slow-motion step: the player, both counters after it, its loss, D's gap to D*
        self._steps = None  # the run's training_steps, made when first needed

    def __getstate__(self) -> dict:
        """Everything but the step generator, which cannot be pickled: the app trains labs in other
        processes, and ``training_steps`` picks up exactly where ``run.step`` says."""
        return {**self.__dict__, "_steps": None}

    @property
    def state(self):
        return self.run.state

    @property
    def step(self) -> int:
        return self.run.step

    def advance(self, num_steps: int) -> dict:
        """Train ``num_steps`` steps; returns the last log (losses, D on real and fake, G's gradient norm)."""
        log = {}
        if self._steps is None:
            self._steps = training_steps(self.run)
        self.last_move = None
        for _ in range(num_steps):
            entry = next(self._steps)
            self.updates["D"] += self.config.d_steps
            self.updates["G"] += 1
            losses = {k: v for k, v in entry.items() if k not in ("step", "epoch")}
            log = {"step": entry["step"], "epoch": entry["epoch"], **self.run.read(losses, 1)}  # a tiny CPU model: read every step
            self.history.append(log)
            if log["step"] % PROGRESS_EVERY == 0:
                self._measure_progress()
        del self.history[:-2000]
        del self.progress[:-2000]
        return log

    def step_player(self, player: str, times: int = 1) -> dict:
        """Slow motion: ``times`` updates of one player (``"D"`` or ``"G"``) while the other stands still.

        The figure then shows what they changed: D's curve (1-D) or its D = 1/2 line (2-D) before and
        after, with the optimal D* = p_data / (p_data + p_g) of the generator that stood still; or the
        generated samples before and after. Returns the last update's losses.
        """
        if player not in PLAYERS:
            raise ValueError(f"unknown player {player!r}; available: {', '.join(PLAYERS)}")
        if isinstance(times, bool) or not float(times).is_integer() or not 1 <= times <= MAX_UPDATES_PER_PRESS:
            raise ValueError(f"updates per press must be a whole number in 1..{MAX_UPDATES_PER_PRESS}, got {times!r}")
        if player == "G" and self.frozen:
            raise ValueError("the generator is frozen in this lab: untick 'Freeze the generator' and Reset to step G")
        state, network = self.state, self.state.models["discriminator" if player == "D" else "generator"]
        before = copy.deepcopy(network).requires_grad_(False)
        for _ in range(int(times)):
            if player == "D":
                losses = toy.discriminator_step(state, self.data.sample(BATCH_SIZE, state.rng).to(state.device))
            else:
                losses = toy.generator_step(state, BATCH_SIZE)
        self.updates[player] += int(times)
        self.last_move = {"player": player, "times": int(times), "before": before}
        losses = {name: float(value) for name, value in losses.items()}
        self.moves.append({"player": player, "updates": dict(self.updates), "gap": self.optimal_gap(), **losses})
        del self.moves[:-500]
        return losses

    def optimal_gap(self) -> float | None:
        """For 1-D data: how far D is from its best answer to the generator as it is, D* = p_data / (p_data + p_g)
        (p_g estimated from G's samples): the mean |D(x) - D*(x)| where the samples are, weighted by
        (p_data + p_g) / 2, the points D is trained on."""
        if self.data.dim != 1 or self.data.modes is None:
            return None
        low, high = self.data.support
        xs = np.linspace(low - 1, high + 1, 400)
        with torch.inference_mode():
            d = torch.sigmoid(self.state.models["discriminator"](torch.as_tensor(xs, dtype=torch.float32)[:, None])).numpy()
            samples = toy.sample(self.state.models["generator"], 20_000, seed=0).numpy()[:, 0]
        p_data, p_g = self.data.density(xs), kde(samples, xs)
        mass = p_data + p_g
        return float((np.abs(d - p_data / (mass + 1e-12)) * mass).sum() / mass.sum())

    def _measure_progress(self) -> None:
        found = toy.evaluate(self.state, num=PROGRESS_SAMPLES)
        stretch = self.history[-PROGRESS_EVERY:]
        self.progress.append({"step": self.step, "js_divergence": found["js_divergence"],
                              **{k: float(np.mean([h[k] for h in stretch])) for k in ("loss_d", "loss_g")}})

    def numbers(self) -> dict:
        last = self.history[-1] if self.history else {}
        if self.last_move is not None:  # the slow-motion step's own loss, beside the last step of the game's
            last = {**last, **self.moves[-1]}
        # D's distance from D* where the lesson is about it (a slow-motion step, measured once then; a frozen G):
        # off the hot path of every other Play frame, where it would cost a tenth of the frame
        gap = self.moves[-1]["gap"] if self.last_move is not None else self.optimal_gap() if self.frozen else None
        return {"step": self.step, "updates_d": self.updates["D"], "updates_g": self.updates["G"], "optimal_gap": gap,
                **toy.evaluate(self.state), **{k: last[k] for k in ("loss_d", "loss_g", "grad_norm_g") if k in last}}

    # --- pictures ---------------------------------------------------------------------------

    def figure(self, *, width: float = 11.0, height: float = 4.6, dpi: int = 80) -> Image.Image:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (main, curves) = plt.subplots(1, 2, figsize=(width, height), dpi=dpi, gridspec_kw={"width_ratios": [1.6, 1]})
        if self.data.dim == 1:
            self._draw_1d(main)
        else:
            self._draw_2d(main)
        self._draw_history(curves)
        # Fixed margins and the canvas's own pixels: tight_layout and a PNG round trip are slow, and
        # the app draws a frame several times a second for every playing visitor.
        two_d = self.data.dim == 2  # room for the colour bar of D(x)
        fig.subplots_adjust(left=0.03, right=0.985, bottom=0.11, top=0.93, wspace=0.25 if two_d else 0.1)
        fig.canvas.draw()
        picture = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
        plt.close(fig)
        return picture

    @torch.inference_mode()
    def _draw_1d(self, ax) -> None:
        data, config = self.data, self.config
        generator, discriminator = self.state.models["generator"], self.state.models["discriminator"]
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
        move = self.last_move
        if move is not None and move["player"] == "D":  # what the step changed: D before it
            d_before = torch.sigmoid(move["before"](torch.as_tensor(xs, dtype=torch.float32)[:, None])).numpy()
            ax.plot(xs, d_before * top, ":", color="tab:blue", lw=1.5, label="D(x) before the step")
        if move is not None and move["player"] == "G":  # what the step changed: p_g before it
            before = toy.sample(move["before"], 20_000, seed=0).numpy()[:, 0]
            ax.plot(xs, kde(before, xs), "--", color="green", lw=1, alpha=0.6, label="p_g before the step")
        if self.frozen or (move is not None and move["player"] == "D"):  # the optimal discriminator for this (fixed) G
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
        ax.set_title(self._title("densities, D(x) and the map z -> G(z)"), fontsize=10)

    def _title(self, what: str) -> str:
        """The main picture's title: the step (or the slow-motion move just made) and what is drawn."""
        move = self.last_move
        if move is None:
            return f"step {self.step}: {what}"
        other = "G" if move["player"] == "D" else "D"
        return f"{move['player']} updated {move['times']}x, {other} fixed: {what}"

    def _draw_2d(self, ax) -> None:
        data, config = self.data, self.config
        generator, discriminator = self.state.models["generator"], self.state.models["discriminator"]
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
        move = self.last_move
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
        ax.set_title(self._title("D(x), samples, G's pull (arrows), image of a z grid"), fontsize=10)

    def _draw_history(self, ax) -> None:
        if self.last_move is not None:
            _moves_picture(ax, self.moves)
            return
        if not self.history:
            ax.set_axis_off()
            return
        steps = [h["step"] for h in self.history]
        ax.plot(steps, [h["loss_d"] for h in self.history], label="loss D", lw=1)
        ax.plot(steps, [h["loss_g"] for h in self.history], label="loss G", lw=1)
        ax.plot(steps, [h["d_real"] for h in self.history], label="mean D(real)", lw=1)
        ax.plot(steps, [h["d_fake"] for h in self.history], label="mean D(fake)", lw=1)
        shown = [p for p in self.progress if p["step"] >= steps[0]]
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


def losses_vs_progress(points: list[dict], *, tolerance: float = PROGRESS_TOLERANCE) -> dict:
    """How well each loss follows a run's progress (``Lab.progress``).

    ``stretches``: between consecutive measurements, those in which the JS divergence estimate
    moved by more than ``tolerance``; ``agree_g`` / ``agree_d``: in how many of them the loss moved
    the way progress did (a loss that tracked G's quality: G's loss down as the divergence falls, D's
    up: in a zero-sum game D loses what G wins). ``rank_g`` / ``rank_d``: each loss's rank
    correlation with the divergence over the whole run, the slow drift a plot shows.
    """
    js, loss_g, loss_d = (np.array([p[k] for p in points], np.float64) for k in ("js_divergence", "loss_g", "loss_d"))
    moved = np.abs(np.diff(js)) > tolerance
    direction = np.sign(np.diff(js))[moved]
    return {
        "stretches": int(moved.sum()),
        "agree_g": int((np.sign(np.diff(loss_g))[moved] == direction).sum()),
        "agree_d": int((np.sign(np.diff(loss_d))[moved] == -direction).sum()),
        "rank_g": rank_correlation(loss_g, js),
        "rank_d": rank_correlation(loss_d, js),
    }


def frame(lab: Lab, *, seconds: float = 0.0, min_steps: int = 0) -> tuple[Lab, Image.Image, dict]:
    """Train ``lab`` for ``seconds`` of CPU time (and at least ``min_steps`` steps), then draw and measure it.

    One frame of the app's Play (Step: ``min_steps=1``; Reset: neither). CPU time, not wall time:
    on a busy machine a frame takes longer but trains as many steps per picture drawn. Returns
    the lab too, so that frames can be made in other processes, as the app does: the lab travels
    pickled.
    """
    started, trained = time.process_time(), 0
    while trained < min_steps or time.process_time() - started < seconds:
        lab.advance(1)
        trained += 1
    return lab, lab.figure(), lab.numbers()


def move(lab: Lab, player: str, times: int = 1) -> tuple[Lab, Image.Image, dict]:
    """Slow motion: ``times`` updates of one player (``Lab.step_player``), then draw and measure, as ``frame`` does."""
    lab.step_player(player, times)
    return lab, lab.figure(), lab.numbers()


def canvas_picture(size: int = 320) -> Image.Image:
    """The square a person draws data in: -DRAW_RANGE..DRAW_RANGE on both axes, a line every unit, the axes darker."""
    picture = np.full((size, size, 3), 255, np.uint8)
    for value in range(-int(DRAW_RANGE), int(DRAW_RANGE) + 1):
        pixel = min(size - 1, round((value + DRAW_RANGE) / (2 * DRAW_RANGE) * (size - 1)))
        shade = 150 if value == 0 else 225
        picture[:, pixel] = np.minimum(picture[:, pixel], shade)
        picture[size - 1 - pixel] = np.minimum(picture[size - 1 - pixel], shade)
    return Image.fromarray(picture)


def points_from_sketch(ink: np.ndarray, *, limit: int = MAX_DRAWN_POINTS // 2) -> list[list[float]]:
    """The (x, y) points of a drawing on ``canvas_picture``: ``ink`` (H, W) is true where the person drew. The
    pixels are thinned to at most ``limit`` on a grid (a stroke keeps its shape), as points of the plane."""
    ink = np.asarray(ink, bool)
    rows, columns = np.nonzero(ink)
    if len(rows) == 0:
        raise ValueError("the canvas is empty: draw the data first (strokes or dots)")
    height, width = ink.shape
    cell = 1
    while len(np.unique(np.stack([rows // cell, columns // cell], 1), axis=0)) > limit:
        cell += 1
    _, first = np.unique(np.stack([rows // cell, columns // cell], 1), axis=0, return_index=True)
    first = np.sort(first)
    xs = columns[first] / (width - 1) * 2 * DRAW_RANGE - DRAW_RANGE
    ys = DRAW_RANGE - rows[first] / (height - 1) * 2 * DRAW_RANGE
    return [[round(float(x), 3), round(float(y), 3)] for x, y in zip(xs, ys)]


def _start_worker(server: int, niceness: int = 0) -> None:
    """Set up a process that makes lab frames for the app (``frame``): one torch thread (a toy step
    is microseconds of arithmetic; more threads only compete), ``niceness``, and an exit as soon as
    the server process is gone, killed or stopped (it cannot always say so)."""
    torch.set_num_threads(1)
    os.nice(niceness)

    def exit_with_server():
        while os.getppid() == server:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=exit_with_server, daemon=True).start()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot



class LabProcesses:
    """Processes that make lab frames (``frame``) for a server, one per core, started when first needed.

    Labs train and draw there, not in the server's threads: a frame is mostly Python (matplotlib,
    small torch ops), and labs playing in the server's threads slow each other and every other
    visitor through the GIL (``bench/load.py`` measures both ways). The processes are spawned (a
    server's threads are never forked), run at ``niceness`` (labs fill idle CPU; other requests come
    first), and exit when the server does. The labs themselves live in the users' sessions, so
    processes that die (killed, out of memory) are replaced and the frame is made again.
    """

    def __init__(self, workers: int, *, niceness: int = 0):
        self.workers, self.niceness = workers, niceness
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _processes(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                    initargs=(os.getpid(), self.niceness),
                )
            return self._pool

    def frame(self, lab: Lab, **budget) -> tuple[Lab, Image.Image, dict]:
        """``frame(lab, **budget)`` in one of the processes."""
        return self._run(frame, lab, **budget)

    def move(self, lab: Lab, player: str, times: int = 1) -> tuple[Lab, Image.Image, dict]:
        """``move(lab, player, times)`` in one of the processes."""
        return self._run(move, lab, player, times)

    def _run(self, work, *args, **kwargs):
        pool = self._processes()
        try:
            return pool.submit(work, *args, **kwargs).result()
        except concurrent.futures.process.BrokenProcessPool:
            self._forget(pool)
            return self._processes().submit(work, *args, **kwargs).result()

    def _forget(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        """Drop broken processes (several frames may find them broken at once: only the first does)."""
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def start(self) -> None:
        """Start every process now and wait until each has imported what a frame needs."""
        pool = self._processes()
        for done in [pool.submit(time.sleep, 0.5) for _ in range(self.workers)]:
            done.result()


# What theory says each update rule does on the Dirac-GAN, as a test of a path's end / start distance.
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


def kde(samples: np.ndarray, xs: np.ndarray, bandwidth: float | None = None) -> np.ndarray:
    """Gaussian kernel density estimate of 1-D samples at xs (Silverman's bandwidth by default)."""
    samples = np.asarray(samples, np.float64)
    if bandwidth is None:
        spread = min(samples.std(), np.subtract(*np.percentile(samples, [75, 25])) / 1.34) or samples.std() or 1e-3
        bandwidth = 0.9 * spread * len(samples) ** -0.2
    # bin first: exact enough and fast for many samples
    edges = np.linspace(xs.min() - 5 * bandwidth, xs.max() + 5 * bandwidth, 4001)
    counts, _ = np.histogram(samples, bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    weights = np.exp(-0.5 * ((xs[:, None] - centres[None]) / bandwidth) ** 2)
    return (weights * counts).sum(1) / (len(samples) * bandwidth * math.sqrt(2 * math.pi))


def write_report(run: Run) -> None:
    """After toy training (``recipes.train``): <out>/metrics.json and the final picture <out>/final.png."""
    import json

    if not run.is_main:
        return

    lab = Lab(run.state.config, run=run)
    numbers = {"step": run.step, **toy.evaluate(run.state, num=5000)}
    (run.out / "metrics.json").write_text(json.dumps(numbers, indent=2))
    lab.figure().save(run.out / "final.png")


# --- the theory, checked ---------------------------------------------------------------------------


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


def config_from(**fields) -> toy.Config:
    """A toy Config from UI values (numbers may arrive as floats); errors name the field."""
    base = toy.Config()
    ints = {"noise_dim", "g_width", "g_depth", "d_width", "d_depth", "d_steps"}
    values = {}
    for name, value in fields.items():
        if value is None:
            raise ValueError(f"{name} is required")
        if name in ints:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
                raise ValueError(f"{name} must be a whole number, got {value!r}")
            value = int(value)
        values[name] = value
    return replace(base, **values)
