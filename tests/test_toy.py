"""The theory lab: toy data, the five objectives, the measurements, the lessons and the theory."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from ganapps import metrics
from ganapps.lab import checks, distributions, figures, live, processes
from ganapps.models import toy

from .conftest import ROOT


@pytest.mark.parametrize("name", list(distributions.DISTRIBUTIONS))
def test_real_data_scores_as_perfect(name):
    data = distributions.distribution(name)
    points = data.sample(4000, torch.Generator().manual_seed(0)).numpy().astype(np.float64)
    assert points.shape == (4000, data.dim)
    modes, quality = distributions.coverage(data, points)
    assert quality > 0.985  # 2-D: 98.9% of a Gaussian lies within 3 std
    assert modes == (None if data.modes is None else len(data.modes))
    assert distributions.js_divergence(data, points) < 0.05


def test_one_dimensional_density_is_exact():
    data = distributions.distribution("mixture2")
    xs = np.linspace(-5, 5, 20001)
    assert np.trapezoid(data.density(xs), xs) == pytest.approx(1.0, abs=1e-6)
    assert data.density(np.array([1.5]))[0] == pytest.approx(0.5 / (0.4 * np.sqrt(2 * np.pi)), rel=1e-3)


def test_collapsed_samples_cover_one_mode():
    data = distributions.distribution("ring8")
    points = np.repeat(data.modes[:1], 1000, axis=0) + 0.01
    assert distributions.coverage(data, points) == (1, 1.0)


@pytest.mark.parametrize("loss", toy.LOSSES)
def test_every_objective_teaches_d_to_tell_real_from_generated(loss):
    """A few steps of each objective: D scores the data above the generator's samples, which it did not at the start."""
    small = toy.Config(data="gaussian", loss=loss, g_width=8, g_depth=1, d_width=16, d_depth=1, d_steps=5, lr_g=1e-4)
    state = toy.make_state(small, rng=torch.Generator().manual_seed(0))
    discriminator, data = state.models["discriminator"], state.extra["data"]

    def margin():
        with torch.no_grad():
            real = data.sample(2000, torch.Generator().manual_seed(1))
            fake = toy.sample(state.models["generator"], 2000, seed=1)
            return (discriminator(real).mean() - discriminator(fake).mean()).item()

    before = margin()
    for _ in range(30):
        logs = toy.train_step(state, (data.sample(64, state.rng),))
        assert all(torch.isfinite(v) for v in logs.values())
    assert margin() > max(before, 0) + 0.3, (before, margin())


@pytest.mark.parametrize("field, value, message", [
    ("loss", "wasserstein", "unknown loss 'wasserstein'; available: minimax, nonsaturating"),
    ("data", "ring9", "unknown toy data 'ring9'"),
    ("g_width", 5000, "g_width must be at most 1024"),
    ("d_steps", 2.5, "d_steps must be a whole number"),
    ("lr_d", 3.0, "lr_d must be in 1e-6..1"),
])
def test_bad_recipes_are_refused(field, value, message):
    with pytest.raises(ValueError, match=message):
        live.config_from(**{field: value})


@pytest.mark.slow
def test_the_discriminator_approaches_the_optimal_one():
    # a shorter schedule than bench/theory.py's (steps 1,500 / 750 / 375 of batch 2,048): 0.027-0.031 over seeds 0-2
    assert checks.check_optimal_discriminator(d_steps=600, batch_size=1024) <= 0.05


def test_the_saturating_loss_starves_the_generator():
    result = checks.check_vanishing_gradients()
    assert result["mean_d_fake"] < 0.05  # D confidently rejects the fakes
    assert result["ratio"] >= 10


@pytest.mark.parametrize("preset", list(live.PRESETS))
def test_lessons_run_and_draw(preset):
    config, frozen = live.PRESETS[preset]
    lab = live.Lab(config, seed=1, freeze_generator=frozen)
    before = {k: v.clone() for k, v in lab.state.models["generator"].state_dict().items()}
    lab.advance(5)
    after = lab.state.models["generator"].state_dict()
    assert frozen == all(torch.equal(before[k], after[k]) for k in before)
    assert lab.figure().size == (880, 368)
    assert set(lab.numbers()) >= {"step", "modes_covered", "high_quality_fraction", "value", "js_divergence"}


def test_a_lab_sent_to_another_process_trains_on_exactly_as_it_would_have():
    import pickle

    straight = live.Lab(toy.Config(), seed=4)
    straight.advance(30)
    travelled = live.Lab(toy.Config(), seed=4)
    travelled.advance(10)
    travelled, picture, numbers = live.frame(pickle.loads(pickle.dumps(travelled)), min_steps=20)
    assert travelled.step == numbers["step"] == 30 and picture.size == (880, 368)
    for key, value in straight.state.models["generator"].state_dict().items():
        assert torch.equal(value, travelled.state.models["generator"].state_dict()[key]), key
    assert [h["loss_d"] for h in straight.history] == [h["loss_d"] for h in travelled.history]


@pytest.mark.slow
def test_lab_processes_make_frames_and_replace_a_process_that_died():
    import os
    import signal

    pool = processes.LabProcesses(1)
    try:
        lab, _, numbers = pool.frame(live.Lab(toy.Config(), seed=4), min_steps=3)
        assert lab.step == numbers["step"] == 3
        (pid,) = pool._pool._processes  # the one process, killed as an out-of-memory kill would
        os.kill(pid, signal.SIGKILL)
        lab, _, numbers = pool.frame(lab, min_steps=2)  # made again in a new process
        assert lab.step == numbers["step"] == 5 and pid not in pool._pool._processes
    finally:
        pool._pool.shutdown()


@pytest.mark.slow
def test_cli_trains_a_toy_gan_and_writes_its_report(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ganapps", "train", "toy", "--data", "mixture2", "--loss", "hinge", "--steps", "40",
         "--seed", "0", "--out", str(tmp_path), "--threads", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert {"modes_covered", "high_quality_fraction", "mean_d_real", "mean_d_fake", "value"} <= set(metrics)
    assert metrics["step"] == 40 and (tmp_path / "final.png").is_file()
    assert json.loads((tmp_path / "train_config.json").read_text())["model"] == {"loss": "hinge"}


def test_dirac_lesson_draws_the_three_rules_and_each_does_what_theory_says():
    picture, ratios = checks.dirac_lesson(lr=0.1, steps=300, gamma=1.0)
    assert picture.size[0] > 300 and set(ratios) == {"simultaneous", "alternating", "r1"}
    assert all(checks.dirac_holds(rule, ratio) for rule, ratio in ratios.items())
    assert not checks.dirac_holds("r1", ratios["alternating"]) and not checks.dirac_holds("alternating", ratios["r1"])
    with pytest.raises(ValueError, match="steps in 1..5000"):
        checks.dirac_lesson(steps=0)
    with pytest.raises(ValueError, match="steps must be a whole number"):
        checks.dirac_lesson(steps=12.5)


def test_losses_vs_progress_counts_the_stretches_where_a_loss_moved_with_the_divergence():
    js = [0.69, 0.60, 0.61, 0.40, 0.45, 0.30]  # moves: -0.09, +0.01 (under the tolerance), -0.21, +0.05, -0.15
    points = [{"step": 50 * i, "js_divergence": v, "loss_g": 2 * v, "loss_d": 1 - v} for i, v in enumerate(js)]
    found = metrics.losses_vs_progress(points)
    assert found["stretches"] == 4 and found["agree_g"] == found["agree_d"] == 4  # both follow progress exactly
    assert found["rank_g"] == pytest.approx(1.0) and found["rank_d"] == pytest.approx(-1.0)
    backwards = metrics.losses_vs_progress([{**p, "loss_g": -p["loss_g"], "loss_d": 0.0} for p in points])
    assert backwards["agree_g"] == 0 and backwards["agree_d"] == 0  # G's loss against progress; D's flat: never moved
    assert metrics.losses_vs_progress(points, tolerance=0.1)["stretches"] == 2


def test_a_lab_measures_its_progress_every_stretch_with_the_mean_losses_of_the_stretch():
    lab = live.Lab(toy.Config(), seed=3)
    lab.advance(2 * live.PROGRESS_EVERY + 7)
    assert [p["step"] for p in lab.progress] == [live.PROGRESS_EVERY, 2 * live.PROGRESS_EVERY]
    stretch = lab.history[live.PROGRESS_EVERY : 2 * live.PROGRESS_EVERY]
    assert lab.progress[1]["loss_g"] == pytest.approx(sum(h["loss_g"] for h in stretch) / len(stretch))
    assert 0 <= lab.progress[1]["js_divergence"] <= math.log(2) + 1e-9


# --- data a person draws, and the game in slow motion ------------------------------------------------


@pytest.mark.slow
def test_a_drawing_is_data_along_its_strokes_and_at_its_dots():
    stroke = [[x, 1.0] for x in np.linspace(-2, 2, 21)]  # a horizontal line, 4 long
    name = distributions.drawn_name(stroke + [[3.0, -3.0]])  # and a lone dot
    data = distributions.distribution(name)
    points = data.sample(20_000, torch.Generator().manual_seed(0)).numpy()
    on_dot = np.linalg.norm(points - [3.0, -3.0], axis=1) < 5 * distributions.DRAWN_SPREAD
    on_line = (np.abs(points[:, 1] - 1.0) < 5 * distributions.DRAWN_SPREAD) & (np.abs(points[:, 0]) < 2.5)
    assert (on_dot | on_line).all()
    weight = distributions.CLICK_WEIGHT / (4.0 + distributions.CLICK_WEIGHT)  # a dot weighs as a stroke this long
    assert on_dot.mean() == pytest.approx(weight, abs=0.005)
    assert np.histogram(points[on_line, 0], bins=4, range=(-2, 2))[0].min() > 0.2 * on_line.sum()  # even along it
    assert distributions.coverage(data, points)[1] > 0.98 and distributions.js_divergence(data, points) < 0.05
    assert data.support == (-distributions.DRAW_RANGE, distributions.DRAW_RANGE)
    assert distributions.distribution(name).sample(5, torch.Generator().manual_seed(1)).shape == (5, 2)  # from its name


@pytest.mark.parametrize("points, message", [
    ([[0, 0], [1, 1]], "draw at least 3 points"),
    ([[0, 0], [1, 1], [0, -4.5]], r"point \(0, -4.5\) is outside the plotted range: x and y must be in -4..4"),
    ([[0, 0], [1, 1], [0, float("nan")]], "finite"),
    ([[0, 0, 0]] * 3, r"a list of \(x, y\) points"),
    ("circle", r"a list of \(x, y\) points"),
    ([[0, 0]] * (distributions.MAX_DRAWN_POINTS + 1), "at most"),
])
def test_a_bad_drawing_is_refused_saying_why(points, message):
    with pytest.raises(ValueError, match=message):
        distributions.drawn_name(points)


def test_points_from_a_sketch_land_where_they_were_drawn():
    size = 321
    ink = np.zeros((size, size), bool)
    ink[0, 0] = ink[-1, -1] = ink[160, 160] = True  # top left, bottom right, the centre
    assert live.points_from_sketch(ink) == [[-4.0, 4.0], [0.0, 0.0], [4.0, -4.0]]
    ink[100:110, 20:300] = True  # a thick stroke: thinned on a grid, still a stroke
    points = live.points_from_sketch(ink, limit=100)
    assert len(points) <= 100 and distributions.drawn_name(points)
    with pytest.raises(ValueError, match="the canvas is empty"):
        live.points_from_sketch(np.zeros((10, 10), bool))
    assert figures.canvas_picture(320).size == (320, 320)


def test_slow_motion_steps_one_player_while_the_other_stands_still():
    config, frozen = live.PRESETS["slow motion"]
    lab = live.Lab(config, seed=0, freeze_generator=frozen)
    generator, discriminator = lab.state.models["generator"], lab.state.models["discriminator"]
    g_before = [p.clone() for p in generator.parameters()]
    gaps = [lab.optimal_gap()]
    for _ in range(4):  # fix G, improve D: D closes on D* = p_data / (p_data + p_g)
        lab.step_player("D", 50)
        gaps.append(lab.optimal_gap())
    assert all(torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))
    assert gaps[0] > 0.3 and gaps[-1] < 0.01 and gaps == sorted(gaps, reverse=True), gaps
    assert lab.updates == {"D": 200, "G": 0} and lab.step == 0
    d_before = [p.clone() for p in discriminator.parameters()]
    fooled = toy.evaluate(lab.state)["mean_d_fake"]
    lab.step_player("G", 5)  # fix D, improve G: its samples climb D toward the data, and D is optimal no longer
    assert all(torch.equal(a, b) for a, b in zip(d_before, discriminator.parameters()))
    assert toy.evaluate(lab.state)["mean_d_fake"] > fooled + 0.1 and lab.optimal_gap() > 10 * gaps[-1]
    assert lab.updates == {"D": 200, "G": 5} and [m["player"] for m in lab.moves] == ["D"] * 4 + ["G"]
    assert lab.figure().size == (880, 368)  # G before the step and after
    lab.advance(2)  # the game's own steps count both players' updates
    assert lab.updates == {"D": 200 + 2 * config.d_steps, "G": 7} and lab.last_move is None
    with pytest.raises(ValueError, match="unknown player 'Q'; available: D, G"):
        lab.step_player("Q")
    with pytest.raises(ValueError, match="updates per press must be a whole number in 1..1000"):
        lab.step_player("D", 0)
    frozen_lab = live.Lab(config, seed=0, freeze_generator=True)
    with pytest.raises(ValueError, match="the generator is frozen"):
        frozen_lab.step_player("G")


def test_slow_motion_on_a_drawing_draws_d_before_and_after():
    lab = live.Lab(toy.Config(data=distributions.drawn_name([[-2, -2], [2, 2], [2, -2]])), seed=0)
    lab.advance(50)
    lab.step_player("D", 20)
    assert lab.optimal_gap() is None and lab.figure().size == (880, 368)  # 2-D: D's 1/2 line before and after
    lab.step_player("G", 3)
    assert lab.figure().size == (880, 368)  # each point's move
    assert pickle_round_trip(lab).updates == lab.updates  # labs travel pickled to the lab processes


def pickle_round_trip(lab):
    import pickle

    return pickle.loads(pickle.dumps(lab))
