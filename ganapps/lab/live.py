"""The theory lab's live GAN: one user's toy GAN (``Lab``), trained step by step or one player at a time, measured,
and drawn (``figures``); ``frame`` and ``move`` make one frame of the app's Play and slow motion. ``PRESETS`` set
up each lesson; ``processes`` runs frames away from the server's threads; ``checks`` verify the theory on labs.
"""

from __future__ import annotations

import copy
import tempfile
import time
from dataclasses import asdict, replace

import numpy as np
import torch
from PIL import Image

from ..models import toy
from ..training import Run, TrainConfig, training_steps
from . import figures
from .distributions import DRAW_RANGE, MAX_DRAWN_POINTS, distribution, kde

__all__ = ["Lab", "PRESETS", "PLAYERS", "MAX_UPDATES_PER_PRESS", "PROGRESS_EVERY", "frame", "move", "points_from_sketch",
           "config_from"]

BATCH_SIZE = toy.FAMILY.batch_size


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

    def figure(self, *, width: float = 11.0, height: float = 4.6, dpi: int = 80) -> Image.Image:
        """Where the game stands, its losses and its progress (``figures.figure``)."""
        return figures.figure(self, width=width, height=height, dpi=dpi)


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
