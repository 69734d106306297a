"""Training as the library and the command line run it: one run (``train``: the shared loop, then the
work that a family's trained model still needs before it is used), and a recipe (``Recipe``: every
run and blend that makes a shipped model, from the data to its checkpoint).

The loop (``training.train``) knows no family by name; what follows it lives here, above it:

- InfoGAN: its codes are measured with a digit classifier (``infogan.calibrate``) and the answer
  stored in the exported config, so the slant and width controls work on the new model;
- ssgan: the training images it learned from (labelled and not), stored in the exported config;
- toy: the run's final measurements and picture (``lab.report.write_report``).

A recipe is a TOML file (``recipes/<model>.toml``, read with ``tomllib``)::

    model = "photo-x4-psnr"        # the shipped model it makes: checkpoints/<model>
    family = "realesrgan"          # each train step's family unless the step names another
    out = "runs/photo-x4-psnr"     # work folder: step <name> writes <out>/<name>
    ship = "@paired"               # the step whose result becomes checkpoints/<model> (weights and config)

    [[steps]]                      # kind = "train" (the default): TrainConfig's fields, as the CLI's flags
    name = "parent"
    phase = "psnr"
    data = ["{data}/sr/train/T91"] # {data}: the data root (--data-root, default ../shared/data)
    steps = 12500
    architecture = { channels = 48, num_blocks = 8 }   # the network (TrainConfig.model, the CLI's --model)
    training = { perceptual = "discriminator_features" }

    [[steps]]
    name = "strong"
    init = "@parent"               # an earlier step's result (or a model name); resume_from = "@x": its state
    ...

Other kinds (``KINDS``): ``pair`` (model, mild, default_denoise), ``interpolate`` (first, second, weight), and the
work after training that ``finishing`` does: ``calibrate`` (model, classifier), ``record`` (model, data),
``repair_and_blend`` (gan, start, validation, weights, dots, jpeg, denoise) and ``dry_blend`` (run, start, weights,
min_dry). A train step's result is ``<out>/<name>/model``; a calibrate or record step's the model folder it changes;
the others' ``<out>/<name>``. ``"@name/path"``
is a file or folder in a step's folder (a train step's: its run, e.g. ``"@sharpen/snapshots/step_004000"``).
Running a recipe again goes on where it stopped: every train step resumes its own state.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as a package
    import tomli as tomllib

from . import finishing, hub
from .data import SIDE_BY_SIDE, TOY
from .lab.distributions import DISTRIBUTIONS, DRAWN
from .lab.report import write_report
from .models import get_family
from .recognition import EVALUATION_FILE
from .training import STATE_FILE, Run, TrainConfig, process_group
from .training import train as train_loop

__all__ = ["train", "DEFAULT_CLASSIFIER", "Recipe", "Step", "load_recipe", "DATA_ROOT", "pair",
           "interpolate"]

DEFAULT_CLASSIFIER = "mnist-classifier"


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = True, data=None,
          classifier: str | None = DEFAULT_CLASSIFIER) -> Run:
    """Train to ``cfg.steps`` (``training.train``), then the family's work after training, and save once more.

    ``classifier``: the digit classifier that calibrates an InfoGAN's codes (None: leave them uncalibrated).
    Under torchrun every process runs this; the final save gathers from all of them.
    """
    family = get_family(cfg.family)

    def after(run: Run) -> None:
        if family.finish is not None:  # the learned facts the model needs before it is used, into its config
            reader = (lambda: hub.load(classifier, family="classifier")) if classifier else (lambda: None)
            run.export.config = family.finish(run.export, data=run.data, training=run.state.training, classifier=reader)
        if family.dataset is TOY:  # a run on the lab's toy data: the lab's measurements and picture of it
            write_report(run)

    return train_loop(cfg, resume=resume, progress=progress, data=data, after=after)


# --- models made from others ------------------------------------------------------------------------


def _blend_card(title: str, command: str, what: str) -> str:
    """The model card of a model made from others (interpolate, pair)."""
    return f"---\nlibrary_name: ganapps\n---\n\n# {title}\n\nMade with `python -m ganapps {command}`: {what}\n"


def interpolate(first: str, second: str, weight: float, out: str | Path) -> Path:
    """Write the network interpolation ``(1 - weight) x first + weight x second`` as the model folder ``out``."""
    card = _blend_card(f"Network interpolation of {first} and {second}", f"interpolate {first} {second} --weight {weight} --out {out}",
                       f"every weight is {1 - weight:g} x {first} + {weight:g} x {second}.")
    return hub.save(hub.interpolate(first, second, weight), out, card=card)


def pair(model: str, mild: str, default_denoise: float, out: str | Path) -> Path:
    """Write ``model`` with its denoise twin ``mild`` (the same architecture trained to keep noise) as ``out``."""
    card = _blend_card(f"{model} with the denoise twin {mild}", f"pair {model} {mild} --default-denoise {default_denoise} --out {out}",
                       f"denoise strength d gives every weight (1 - d) x {mild} + d x {model}; {default_denoise:g} unless asked otherwise.")
    return hub.save(hub.load(model), out, card=card, mild=hub.load(mild), default_denoise=default_denoise)


# --- recipes -------------------------------------------------------------------------------------------

DATA_ROOT = "../shared/data"  # where {data} points unless --data-root says otherwise
# Each kind of step beside train: its keys (beside name and kind, every one stated in the recipe), and what it does
# with their values and its result folder.
KINDS: dict[str, tuple[tuple[str, ...], Callable[[dict, Path], object]]] = {
    "pair": (("model", "mild", "default_denoise"), lambda v, out: pair(out=out, **v)),
    "interpolate": (("first", "second", "weight"), lambda v, out: interpolate(out=out, **v)),
    "calibrate": (("model", "classifier"), lambda v, out: finishing.calibrate(**v)),
    "record": (("model", "data"), lambda v, out: finishing.record_test_error(**v)),
    "repair_and_blend": (("gan", "start", "validation", "weights", "dots", "jpeg", "denoise"),
                         lambda v, out: finishing.repair_and_blend(out=out, **v)),
    "dry_blend": (("run", "start", "weights", "min_dry"), lambda v, out: finishing.dry_blend(out=out, **v)),
}
IN_PLACE = ("calibrate", "record")  # kinds that change the model folder they name: their result is that folder
# A train step's keys: TrainConfig's fields, its architecture (TrainConfig.model, the CLI's --model) named for what it is
# beside the recipe's model name, and where it goes on from.
TRAIN_KEYS = tuple(f.name for f in fields(TrainConfig) if f.name not in ("out", "model")) + ("architecture", "resume_from", "classifier")
RECIPE_KEYS = ("model", "family", "out", "ship", "steps")


@dataclass
class Step:
    """One step of a recipe: ``values`` are its keys with ``{data}`` filled in and ``@refs`` resolved to paths."""

    name: str
    kind: str
    values: dict
    result: Path
    config: TrainConfig | None = None  # a train step's run
    needs: set[str] = field(default_factory=set)  # the earlier steps it refers to

@dataclass
class Recipe:
    path: Path
    model: str
    family: str
    out: Path
    data_root: str
    steps: list[Step]
    ship: Step
    checkpoints: Path  # the folder of model folders the result is shipped into

    @property
    def destination(self) -> Path:
        return self.checkpoints / self.model

    def plan(self) -> str:
        """What running the recipe does, step by step, without doing it (``--dry-run``)."""
        lines = [f"recipe {self.path}: {self.model} ({self.family}); data root {self.data_root}; work folder {self.out}"]
        needed = {step.name for step in self.needed()}
        for number, step in enumerate(self.steps, 1):
            skipped = "" if step.name in needed else " [skipped: a later step goes on from its saved state]"
            lines.append(f"{number:2d}. {step.name}: {_describe(step)}{skipped}")
            if step.config is not None:
                missing = [d for d in step.config.data if _data_path(d) is not None and not _data_path(d).exists()]
                lines.append(f"      data: {' '.join(step.config.data)}" + (f"  (not found here: {' '.join(missing)})" if missing else ""))
            lines.append(f"      -> {step.result}")
        files = ", ".join(sorted(p.name for p in self.ship.result.glob("*.safetensors"))) or "model.safetensors"
        lines.append(f"ship: {self.ship.result} -> {self.destination} (config.json, {files}; the model card stays)")
        return "\n".join(lines)

    def needed(self) -> list[Step]:
        """The steps to run, in order: those the shipped result depends on, back to the train steps that have a
        state to go on from (a run resumed from a committed state needs nothing that came before it)."""
        by_name = {step.name: step for step in self.steps}
        needed, wanted = set(), [self.ship]
        while wanted:
            step = wanted.pop()
            if step.name in needed:
                continue
            needed.add(step.name)
            if step.config is not None and (Path(step.config.out) / STATE_FILE).exists():
                continue  # it goes on from its own state
            wanted += [by_name[name] for name in step.needs]
        return [step for step in self.steps if step.name in needed]

    def run(self, *, progress: bool = True) -> Path:
        """The needed steps in order (train steps go on from their saved state), then the ship; returns the shipped folder."""
        steps = self.needed()
        with process_group(steps[0].config.device if steps[0].config else "auto"):
            for step in steps:
                _run_step(step, progress=progress)
        return _ship(self.ship.result, self.destination)


def _data_path(item: str) -> Path | None:
    """The folder a --data item names (None: a toy distribution's name, or a drawing's)."""
    if item in DISTRIBUTIONS or item.startswith(DRAWN):
        return None
    return Path(item.removeprefix(SIDE_BY_SIDE))


def _describe(step: Step) -> str:
    values = step.values
    if step.config is None:
        shown = " ".join(f"{k}={v}" for k, v in values.items())
        return f"{step.kind} {shown}"
    cfg = step.config
    parts = [f"train {cfg.family}" + (f" (phase {cfg.phase})" if cfg.phase else ""), f"to step {cfg.steps:,}",
             f"batch {cfg.batch_size}", f"lr {cfg.lr if cfg.lr is not None else 'default'}", f"{cfg.schedule}"
             + (f" from step {cfg.decay_from:,}" if cfg.decay_from else ""), f"seed {cfg.seed}"]
    parts += [f"ema {cfg.ema}"] if cfg.ema else []
    parts += [f"init {cfg.init}"] if cfg.init else []
    parts += [f"from the state in {Path(values['resume_from']).parent}"] if "resume_from" in values else []
    parts += ["grown"] if cfg.grow else []
    for name, shown in (("model", "architecture"), ("training", "training"), ("data_options", "data_options")):
        if getattr(cfg, name):
            parts.append(f"{shown} {json.dumps(getattr(cfg, name))}")
    return ", ".join(parts)


def load_recipe(path: str | Path, *, data_root: str | None = None, out: str | Path | None = None,
                checkpoints: str | Path | None = None) -> Recipe:
    """Read and check a recipe: every key known, every train step a valid ``TrainConfig`` (architecture and
    training options included), every ``@ref`` an earlier step. Nothing is trained or read from the data.

    ``data_root``: what ``{data}`` stands for (default ``DATA_ROOT``); ``out``: the work folder instead of the
    recipe's; ``checkpoints``: where the result is shipped (default the shipped models' folder, ``hub.CHECKPOINTS``).
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ValueError(f"cannot read recipe {path}: {err}") from None
    unknown = sorted(set(raw) - set(RECIPE_KEYS))
    missing = [key for key in RECIPE_KEYS if key not in raw]
    if unknown or missing:
        raise ValueError(f"recipe {path}: " + "; ".join(
            ([f"unknown keys {unknown}"] if unknown else []) + ([f"missing keys {missing}"] if missing else []))
            + f" (a recipe has {', '.join(RECIPE_KEYS)})")
    data_root = data_root or DATA_ROOT
    work = Path(out or raw["out"])
    steps: dict[str, Step] = {}
    for number, values in enumerate(raw["steps"], 1):
        values = dict(values)
        name = values.pop("name", None)
        kind = values.pop("kind", "train")
        where = f"recipe {path}, step {number} ({name or 'unnamed'})"
        if not name or name in steps or name == "out":
            raise ValueError(f"{where}: every step needs a name of its own")
        if kind != "train" and kind not in KINDS:
            raise ValueError(f"{where}: unknown kind {kind!r}; available: train, {', '.join(KINDS)}")
        allowed = TRAIN_KEYS if kind == "train" else KINDS[kind][0]
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise ValueError(f"{where}: unknown keys {unknown}; a {kind} step takes {', '.join(allowed)}")
        result = work / name / "model" if kind == "train" else work / name
        needs: set[str] = set()

        def resolve(value, *, own=result, where=where, needs=needs):
            if isinstance(value, str) and value.startswith("@"):
                ref, _, inside = value[1:].partition("/")  # "@step/path": a file or folder in that step's folder
                if ref == "out":
                    return str(own)
                if ref not in steps:
                    raise ValueError(f"{where}: {value} is not an earlier step; earlier: {', '.join(steps) or '(none)'}")
                needs.add(ref)
                earlier = steps[ref]
                if not inside:
                    return str(earlier.result)
                return str((earlier.result.parent if earlier.kind == "train" else earlier.result) / inside)
            if isinstance(value, str):
                return value.replace("{data}", data_root)
            if isinstance(value, list):
                return [resolve(v, own=own, where=where) for v in value]
            return value

        values = {k: (v if isinstance(v, dict) else resolve(v)) for k, v in values.items()}  # tables: architecture, options
        if kind != "train":
            missing = [k for k in KINDS[kind][0] if k not in values]
            if missing:
                raise ValueError(f"{where}: a step of kind {kind} needs {', '.join(missing)}")
            if kind in IN_PLACE:
                result = Path(values["model"])
        step = Step(name, kind, values, result, needs=needs)
        if kind == "train":
            options = {k: v for k, v in values.items() if k not in ("resume_from", "classifier", "architecture")}
            options.setdefault("family", raw["family"])
            if "architecture" in values:
                options["model"] = values["architecture"]
            try:
                step.config = TrainConfig(**{**options, "out": str(work / name), "data": tuple(options.get("data", ()))})
            except (TypeError, ValueError) as err:
                raise ValueError(f"{where}: {err}") from None
        steps[name] = step
    ship = raw["ship"]
    if not (isinstance(ship, str) and ship.startswith("@") and ship[1:] in steps):
        raise ValueError(f"recipe {path}: ship must name a step as @name; steps: {', '.join(steps)}")
    return Recipe(path, raw["model"], raw["family"], work, data_root, list(steps.values()), steps[ship[1:]],
                  Path(checkpoints) if checkpoints is not None else hub.CHECKPOINTS)


def _run_step(step: Step, *, progress: bool) -> None:
    values = step.values
    if step.kind == "train":
        cfg = step.config
        state = Path(cfg.out) / STATE_FILE
        if "resume_from" in values and not state.exists():  # go on from that step's state with this step's settings
            state.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(values["resume_from"]).parent / STATE_FILE, state)
        classifier = values.get("classifier", DEFAULT_CLASSIFIER)
        train(cfg, resume=True, progress=progress, classifier=classifier or None)
    else:
        KINDS[step.kind][1](values, step.result)


def _ship(result: Path, destination: Path) -> Path:
    """Copy a model folder's config.json, weights and measured test error into ``destination`` (its model card and
    pictures stay)."""
    hub.verify(str(result))
    if result.resolve() == destination.resolve():
        return destination
    destination.mkdir(parents=True, exist_ok=True)
    for source in [result / "config.json", *sorted(result.glob("*.safetensors")), *result.glob(EVALUATION_FILE)]:
        shutil.copy2(source, destination / source.name)
    return destination
