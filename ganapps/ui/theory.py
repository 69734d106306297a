"""Tab "Theory lab": train a GAN on toy data live, watch p_g, D(x) and the z -> x map, run the lessons."""

from __future__ import annotations

import functools
import threading

import gradio as gr
import numpy as np

from .. import metrics
from ..lab import checks, claims, figures, games, live, processes
from ..lab.distributions import DISTRIBUTIONS, DRAW_RANGE, MIN_DRAWN_POINTS, drawn_name
from ..models import toy
from .common import ALL_CORES, required, seed_box, user_errors

# While playing, a timer in the page asks for a frame every TICK_SECONDS: a lab process trains for
# TRAIN_SECONDS of CPU time (at least MIN_STEPS steps) and draws, and the server's worker is free
# for other visitors. On a busy machine frames come less often, but each still trains TRAIN_SECONDS,
# so most of a lab's CPU goes to training.
TICK_SECONDS = 0.5
TRAIN_SECONDS = 0.6
MIN_STEPS = 10
LAB_NICENESS = 5  # labs fill idle CPU; other visitors' requests (digits, photos) come first
MAX_LABS_AT_ONCE = 16  # ticks of this many labs run side by side; more wait their turn
CONTROLS = (
    "data", "noise", "noise_dim", "loss", "optimizer", "lr_g", "lr_d", "d_steps",
    "g_width", "g_depth", "g_activation", "d_width", "d_depth",
)



@functools.cache
def labs() -> processes.LabProcesses:
    """Where every visitor's lab trains and draws: made when the app is built (or first asked), not at import."""
    return processes.LabProcesses(ALL_CORES, niceness=LAB_NICENESS)
DRAWING = "your drawing"  # the Data menu's entry for the data a visitor drew (kept in the session)
CANVAS = 320  # pixels of the square the data is drawn in


def _numbers(n: dict, lab: live.Lab) -> str:
    modes = "—" if n["modes_covered"] is None else f"{n['modes_covered']} of {n['num_modes']}"
    rows = [
        ("step (D / G updates)", f"{n['step']} ({n['updates_d']} / {n['updates_g']})"),
        ("loss D / loss G", f"{n.get('loss_d', float('nan')):.3f} / {n.get('loss_g', float('nan')):.3f}"),
        ("mean D(real) / D(fake)", f"{n['mean_d_real']:.3f} / {n['mean_d_fake']:.3f}"),
        ("V(D, G)  (optimum: -log 4 = -1.386)", f"{n['value']:.3f}"),
        ("generator gradient norm", f"{n.get('grad_norm_g', float('nan')):.2e}"),
        ("modes covered", modes),
        ("high-quality samples (within 3 std of a mode)", f"{n['high_quality_fraction']:.1%}"),
        ("JS divergence estimate (max log 2 = 0.693)", f"{n['js_divergence']:.3f}"),
        ("losses moving the way progress did, G / D", _agreement(lab)),
    ]
    if n.get("optimal_gap") is not None:
        rows.insert(4, ("mean abs(D - D*) where the samples are (0: D is optimal for this G)", f"{n['optimal_gap']:.4f}"))
    note = "  \n*Generator frozen: only D learns.*" if lab.frozen else ""
    return "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows) + note


def _agreement(lab: live.Lab) -> str:
    found = metrics.losses_vs_progress(lab.progress)
    if not found["stretches"]:
        return f"— (counted every {live.PROGRESS_EVERY} steps, once the JS divergence moves)"
    n = found["stretches"]
    return f"{found['agree_g'] / n:.0%} / {found['agree_d'] / n:.0%} of {n} stretches of {live.PROGRESS_EVERY} steps (a coin flip: 50%)"


def _new_lab(seed, freeze, drawing, *values) -> live.Lab:
    fields = dict(zip(CONTROLS, values))
    if fields["data"] == DRAWING:
        if not drawing:
            raise ValueError("there is no drawing yet: draw the data under 'Draw the data' first, or pick other data")
        fields["data"] = drawing
    config = live.config_from(**fields)
    if seed is None or isinstance(seed, bool) or not float(seed).is_integer() or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be a whole number in 0..4294967295, got {seed!r}")
    return live.Lab(config, seed=int(seed), freeze_generator=bool(freeze))


@user_errors
def reset(seed: int, freeze: bool, drawing: str | None, *values):
    """Build a new toy GAN from the controls (untrained) and show it.

    Args:
        seed: random seed of the networks and the data.
        freeze: train only the discriminator (the generator stays as it is).
        drawing: the session's drawn data (Data "your drawing" trains on it); None if nothing was drawn.
        values: data, noise, noise_dim, loss, optimizer, lr_g, lr_d, d_steps, g_width, g_depth, g_activation, d_width, d_depth.

    Returns:
        The picture, the live numbers, and the session's lab.
    """
    lab, picture, numbers = labs().frame(_new_lab(seed, freeze, drawing, *values))
    return picture, _numbers(numbers, lab), lab


@user_errors
def step(lab, seed: int, freeze: bool, drawing: str | None, *values):
    """Take one training step, D then G (a new lab from the controls if there is none), and show it."""
    lab, picture, numbers = labs().frame(lab or _new_lab(seed, freeze, drawing, *values), min_steps=1)
    return picture, _numbers(numbers, lab), lab


def _slow_motion(player: str, lab, times, seed, freeze, drawing, values):
    lab, picture, numbers = labs().move(lab or _new_lab(seed, freeze, drawing, *values), player, required("updates per press", times))
    return picture, _numbers(numbers, lab), lab


@user_errors
def step_d(lab, times: int, seed: int, freeze: bool, drawing: str | None, *values):
    """Slow motion: update only the discriminator, ``times`` times (1..{most}), the generator fixed, and show what changed.

    Args:
        lab: the session's lab (a new one from the controls if there is none).
        times: how many updates of D this press makes.

    Returns:
        The picture (D before the step dotted, D after dashed, and for 1-D data the optimal D* = p_data / (p_data + p_g)
        for the fixed G), the numbers (each player's update count, D's distance from D*), and the lab.
    """
    return _slow_motion("D", lab, times, seed, freeze, drawing, values)


@user_errors
def step_g(lab, times: int, seed: int, freeze: bool, drawing: str | None, *values):
    """Slow motion: update only the generator, ``times`` times (1..{most}), the discriminator fixed, and show what changed.

    Args:
        lab: the session's lab (a new one from the controls if there is none).
        times: how many updates of G this press makes.

    Returns:
        The picture (p_g or the generated points before the step, and where each moved), the numbers, and the lab.
    """
    return _slow_motion("G", lab, times, seed, freeze, drawing, values)


@user_errors
def play(lab, seed: int, freeze: bool, drawing: str | None, *values):
    """Start training continuously (a new lab from the controls if there is none); Pause stops it.

    In the page a timer then calls ``toy_tick`` every {tick} s. API callers call ``/toy_tick``
    themselves, as often as they want frames.
    """
    lab = lab or _new_lab(seed, freeze, drawing, *values)
    return lab, gr.Timer(active=True)


@user_errors
def tick(lab, seed: int, freeze: bool, drawing: str | None, *values):
    """Train for {seconds} s of CPU time (at least {steps} steps) and show the result: one frame of Play."""
    lab, picture, numbers = labs().frame(lab or _new_lab(seed, freeze, drawing, *values), seconds=TRAIN_SECONDS, min_steps=MIN_STEPS)
    return picture, _numbers(numbers, lab), lab


@user_errors
def draw(points, seed: int, freeze: bool, *values):
    """Train on data you drew: a new lab whose data is sampled along your strokes (and at your dots), with a small spread.

    Args:
        points: the drawing, a list of at least {fewest} (x, y) points in the plotted square, x and y in
            -{reach}..{reach}, in the order drawn: consecutive points close together make a stroke, a lone point a dot.
        seed: random seed of the networks and the data.
        freeze: train only the discriminator.
        values: the other controls (their data is replaced by the drawing).

    Returns:
        The picture, the numbers, the lab, the drawing (kept for Reset) and the Data menu set to "{drawing}".
    """
    drawing = drawn_name(required("points", points))
    fields = dict(zip(CONTROLS, values)) | {"data": DRAWING}
    lab, picture, numbers = labs().frame(_new_lab(seed, freeze, drawing, *fields.values()))
    return picture, _numbers(numbers, lab), lab, drawing, DRAWING


@user_errors
def sketch_points(sketch) -> list[list[float]]:
    """The points of what was drawn on the canvas (its stroke layers, or what differs from the empty canvas)."""
    if not isinstance(sketch, dict):
        raise ValueError("draw the data on the canvas first")
    layers = [np.asarray(layer) for layer in sketch.get("layers") or [] if layer is not None]
    if layers:
        ink = np.any([layer[..., 3] > 0 if layer.ndim == 3 and layer.shape[-1] == 4 else layer.any(-1) for layer in layers], axis=0)
    elif sketch.get("composite") is not None:
        composite = np.asarray(sketch["composite"])[..., :3].astype(int)
        empty = np.asarray(figures.canvas_picture(composite.shape[1]).resize(composite.shape[1::-1]))[..., :3].astype(int)
        ink = np.abs(composite - empty).sum(-1) > 60
    else:
        raise ValueError("draw the data on the canvas first")
    return live.points_from_sketch(ink)


# the settings these docstrings (the API's and MCP tools' descriptions) state, from the settings themselves
play.__doc__ = play.__doc__.format(tick=TICK_SECONDS)
step_d.__doc__ = step_d.__doc__.format(most=live.MAX_UPDATES_PER_PRESS)
step_g.__doc__ = step_g.__doc__.format(most=live.MAX_UPDATES_PER_PRESS)
draw.__doc__ = draw.__doc__.format(fewest=MIN_DRAWN_POINTS, reach=f"{DRAW_RANGE:g}", drawing=DRAWING)
tick.__doc__ = tick.__doc__.format(seconds=TRAIN_SECONDS, steps=MIN_STEPS)


def preset(name: str):
    """The controls of one lesson (then press Reset or Play)."""
    if name not in live.PRESETS:
        raise gr.Error(f"unknown lesson {name!r}; available: {', '.join(live.PRESETS)}")
    config, frozen = live.PRESETS[name]
    return [getattr(config, field) for field in CONTROLS] + [frozen]


def _payoff_markdown(game: games.Game) -> str:
    """The payoff table, each player's best responses in bold, and the pure Nash equilibria named."""
    table, (rows, columns) = game.table, game.actions
    best_row, best_column = games.best_responses(game, 0), games.best_responses(game, 1)
    equilibria = games.pure_nash(game)

    def cell(i, j):
        mine, theirs = (f"{v:g}" for v in table[i, j])
        mine = f"**{mine}**" if i in best_row[j] else mine
        theirs = f"**{theirs}**" if j in best_column[i] else theirs
        return f"{mine}, {theirs}" + (" ★" if (i, j) in equilibria else "")

    lines = [f"| {game.players[0]} \\ {game.players[1]} | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {action} | " + " | ".join(cell(i, j) for j in range(len(columns))) + " |" for i, action in enumerate(rows)]
    found = "; ".join(f"{game.players[0]} *{rows[i]}*, {game.players[1]} *{columns[j]}*" for i, j in equilibria) or "none in pure actions"
    return ("\n".join(lines) + f"\n\nPayoffs are ({game.players[0]}, {game.players[1]}); a **bold** payoff is that "
            f"player's best response to the other's action. Pure Nash equilibrium (★, both best responses): {found}. "
            + game.story)


@user_errors
def game_equilibrium(name: str):
    """Show a two-player game's payoff table and its pure Nash equilibria, found by best responses.

    Args:
        name: "prisoner's dilemma" or "boxed pigs".

    Returns:
        The payoff table (Markdown) with each player's best responses in bold and the equilibria marked.
    """
    if name not in games.GAMES:
        raise ValueError(f"unknown game {name!r}; available: {', '.join(games.GAMES)}")
    return _payoff_markdown(games.GAMES[name])


@user_errors
def dirac_gan(lr: float, steps: int, gamma: float):
    """Gradient descent on the Dirac-GAN (Mescheder et al. 2018) under three update rules, from the same start.

    Args:
        lr: the step size of both players, in (0, 1].
        steps: how many steps, 1..5000.
        gamma: the weight of the R1 gradient penalty of the third path, in (0, 10].

    Returns:
        The vector field of (generator position, discriminator weight) with each path on it, and each
        path's final distance to the equilibrium over its starting distance.
    """
    picture, ratios = checks.dirac_lesson(lr=required("lr", lr), steps=required("steps", steps), gamma=required("gamma", gamma))
    rows = "\n".join(f"| {rule} | x{ratio:.3g} | {checks.DIRAC_TARGETS[rule]} | {'yes' if checks.dirac_holds(rule, ratio) else 'no'} |"
                      for rule, ratio in ratios.items())
    return picture, "| update rule | distance to (0, 0), end / start | theory | holds |\n|---|---|---|---|\n" + rows


@user_errors
def check_claims(progress=gr.Progress()):
    """Measure every claim of the lab against its target, as `python -m ganapps lab` does (a few minutes on one core).

    Returns:
        A Markdown table: each claim, what it says, what was measured, the target, and whether it holds.
    """
    rows = []
    for done, name in enumerate(claims.CLAIMS):
        progress((done, len(claims.CLAIMS)), desc=name)
        rows.append(claims.row(name, claims.measure(name)))
    return claims.HEADER + "\n" + "\n".join(rows)


LESSONS = {
    "optimal discriminator": "G is frozen; D (dashed) converges to D* = p_data / (p_data + p_g) (orange).",
    "equilibrium": "p_g moves onto p_data and D flattens to 1/2; V(D, G) approaches -log 4.",
    "vanishing gradients": "The original minimax loss: D rejects fakes confidently and G's gradient almost vanishes.",
    "mode collapse": (
        "A fast generator against a very slow discriminator: every sample piles onto one point, which hops around as D catches up."
    ),
    "mode collapse fixed": "The default recipe: hinge loss and balanced players; all eight modes, 93-96% of samples on a mode.",
    "losses vs progress": (
        "The default recipe again, its losses beside its progress (black: the JS divergence, falling as G improves). "
        "Over the run the losses drift with it, but from one stretch to the next neither says whether G got better: "
        "the table counts how often each moved the way the divergence did."
    ),
    "slow motion": "Two bumps of data and an untrained G, both players free: step them one at a time (below).",
}

SLOW_MOTION = (
    "**Slow motion: the game one half at a time.** Press the *Slow motion* lesson, set *updates per press* to 50 and "
    "press **Step D** a few times. G stands still, so D has one best answer, `D*` = p_data / (p_data + p_g) (orange): "
    "the dashed D(x) closes on it press by press, near 1 where there is only data, near 0 on G's samples, 1/2 where "
    "both are as likely; the table's *mean abs(D - `D*`)* falls toward 0 (the right panel draws it per press). That "
    "is the first half of the proof: for a fixed G the optimal D is `D*`. Now set *updates per press* to 1 and press "
    "**Step G**: D stands still, and G's samples (green) climb D's slope, away from where D says 'generated' and "
    "toward the data; the dashed green line is where they were. D is no longer optimal for the new G, and "
    "abs(D - `D*`) jumps. Fix G, improve D; fix D, improve G: a GAN's training alternates the two, and in 2-D "
    "(or on your drawing) Step D redraws D's 1/2 line (dashed before, solid after) and Step G shows each point's move."
)


def build() -> None:
    gr.Markdown(
        "Goodfellow et al. (2014): G maps noise to data, D tells real from generated, and they play "
        "min_G max_D V(D, G). Pick the data, the objective and both networks, then Play. The 1-D view is "
        "the paper's Figure 1: data (dots), p_g (green), D (dashed) and arrows from z to x = G(z)."
    )
    threading.Thread(target=labs().start, daemon=True).start()  # the first Play need not wait
    lab = gr.State(None)
    drawing = gr.State(None)  # the data name of what this visitor drew (distributions.drawn_name)
    default = toy.Config()  # the controls start on the default recipe
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            with gr.Row():
                data = gr.Dropdown([*DISTRIBUTIONS, DRAWING], value=default.data, label="Data")
                noise = gr.Dropdown(list(toy.NOISES), value=default.noise, label="Noise")
                noise_dim = gr.Radio([1, 2], value=default.noise_dim, label="Noise dimensions")
            with gr.Row():
                loss = gr.Dropdown(list(toy.LOSSES), value=default.loss, label="Objective")
                optimizer = gr.Dropdown(list(toy.OPTIMIZERS), value=default.optimizer, label="Optimizer")
                d_steps = gr.Slider(1, 20, value=default.d_steps, step=1, label="D steps per G step")
            with gr.Row():
                lr_g = gr.Number(default.lr_g, label="G learning rate", minimum=1e-6, maximum=1.0)
                lr_d = gr.Number(default.lr_d, label="D learning rate", minimum=1e-6, maximum=1.0)
            with gr.Row():
                g_width = gr.Slider(4, 512, value=default.g_width, step=4, label="G width")
                g_depth = gr.Slider(1, 6, value=default.g_depth, step=1, label="G depth")
                g_activation = gr.Dropdown(list(toy.ACTIVATIONS), value=default.g_activation, label="G activation")
                d_width = gr.Slider(4, 512, value=default.d_width, step=4, label="D width")
                d_depth = gr.Slider(1, 6, value=default.d_depth, step=1, label="D depth")
            with gr.Row():
                seed = seed_box()
                freeze = gr.Checkbox(False, label="Freeze the generator")
            with gr.Row():
                play_button = gr.Button("▶ Play", variant="primary")
                pause_button = gr.Button("⏸ Pause")
                step_button = gr.Button("Step")
                reset_button = gr.Button("Reset")
            with gr.Row():
                step_d_button = gr.Button("Step D")
                step_g_button = gr.Button("Step G")
                times = gr.Slider(1, live.MAX_UPDATES_PER_PRESS, value=1, step=1, label="Updates per press (Step D / Step G)")
            with gr.Accordion("Draw the data", open=False):
                gr.Markdown(f"Draw strokes or dots in the square (-{DRAW_RANGE:g}..{DRAW_RANGE:g} on both axes, a line "
                            "every unit), then train on it: the data is sampled along your strokes with a small spread. "
                            f"Reset keeps the drawing (Data: *{DRAWING}*).")
                sketch = gr.Sketchpad(value=figures.canvas_picture(CANVAS), canvas_size=(CANVAS, CANVAS), type="numpy",
                                      image_mode="RGBA", label="Your data", brush=gr.Brush(default_size=6, colors=["#1f77b4"],
                                                                                          color_mode="fixed"))
                draw_button = gr.Button("Train on my drawing", variant="primary")
                points = gr.JSON(visible=False)
            gr.Markdown("**Lessons** — each sets the controls; then press Reset or Play.")
            lesson_buttons = {name: gr.Button(name.capitalize(), size="sm") for name in live.PRESETS}
            gr.Markdown("\n".join(f"- *{name}*: {text}" for name, text in LESSONS.items()))
            gr.Markdown(SLOW_MOTION)
        with gr.Column(scale=2):
            picture = gr.Image(label="The game", type="pil", format="png", interactive=False)
            numbers = gr.Markdown()
    controls = [data, noise, noise_dim, loss, optimizer, lr_g, lr_d, d_steps, g_width, g_depth, g_activation, d_width, d_depth]
    inputs = [seed, freeze, drawing, *controls]
    outputs = [picture, numbers, lab]
    reset_button.click(reset, inputs, outputs, api_name="toy_reset")
    step_button.click(step, [lab, *inputs], outputs, api_name="toy_step")
    step_d_button.click(step_d, [lab, times, *inputs], outputs, api_name="lab_step_d")
    step_g_button.click(step_g, [lab, times, *inputs], outputs, api_name="lab_step_g")
    draw_button.click(sketch_points, sketch, points, api_name=False).success(
        draw, [points, seed, freeze, *controls], [*outputs, drawing, data], api_name="lab_draw")
    timer = gr.Timer(TICK_SECONDS, active=False)
    play_button.click(play, [lab, *inputs], [lab, timer], api_name="toy_play")
    pause_button.click(lambda: gr.Timer(active=False), None, timer, api_name="toy_pause")
    # A tick holds a worker for a fraction of a second, so many labs play side by side; a tick
    # still running when the next is due makes the page skip that one (trigger_mode "once").
    timer.tick(tick, [lab, *inputs], outputs, api_name="toy_tick", show_progress="hidden",
               concurrency_limit=MAX_LABS_AT_ONCE, concurrency_id="toy_tick")
    for name, button in lesson_buttons.items():
        button.click(lambda n=name: preset(n), None, [*controls, freeze], api_name=f"toy_lesson_{name.replace(' ', '_')}").then(
            reset, inputs, outputs, api_name=False
        )
    _build_game_lesson()


def _build_game_lesson() -> None:
    first = next(iter(games.GAMES))
    with gr.Accordion("The game and its equilibrium", open=False):
        gr.Markdown(
            "A Nash equilibrium is a pair of strategies where neither player gains by changing alone: each is a "
            "best response to the other. A GAN is a two-player zero-sum game whose equilibrium is p_g = p_data, "
            "D = 1/2 — but gradient descent finds a Nash equilibrium reliably only for convex problems."
        )
        with gr.Row():
            game = gr.Radio(list(games.GAMES), value=first, label="Game", scale=1)
            table = gr.Markdown(_payoff_markdown(games.GAMES[first]))
        game.change(game_equilibrium, game, table, api_name="game_equilibrium")
        gr.Markdown(
            "**The Dirac-GAN** (Mescheder et al., 2018): the data is one point at 0, the generator puts all its "
            "mass at theta, the discriminator is D(x) = psi x. The only equilibrium is (0, 0). From the same start, "
            "simultaneous gradient steps spiral out, alternating steps circle, and a gradient penalty on D at the "
            "data (R1) makes them converge."
        )
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                lr = gr.Slider(0.01, 0.5, value=0.1, step=0.01, label="Step size")
                steps = gr.Slider(10, 2000, value=300, step=10, label="Steps")
                gamma = gr.Slider(0.1, 5, value=1.0, step=0.1, label="R1 weight gamma")
                run = gr.Button("Run the three rules", variant="primary")
            with gr.Column(scale=2):
                field = gr.Image(label="Vector field and paths", type="pil", format="png", interactive=False)
                distances = gr.Markdown()
        run.click(dirac_gan, [lr, steps, gamma], [field, distances], api_name="dirac_gan")
    with gr.Accordion("Every claim, measured", open=False):
        gr.Markdown("Each lesson's claim run as an experiment and held to a target it could miss, as "
                    "`python -m ganapps lab` prints them.")
        measure = gr.Button("Measure every claim")
        table = gr.Markdown()
        measure.click(check_claims, None, table, api_name="check_claims")
