"""The training loop shared by every family.

``training_steps`` is a generator that runs one ``train_step`` of the family per iteration and
yields its log; ``train`` consumes it with everything a long run needs: a progress bar, a metrics
log (``metrics.jsonl``), sample grids, atomic checkpoints, resume, and a NaN guard (losses are read
back from the device when logged or saved, not every step). Several
processes under ``torchrun`` train data-parallel with PyTorch DDP (gloo on CPU, nccl on GPU).

Output folder of a run::

    <out>/training_state.pt   everything needed to resume (weights, optimizers, random streams, step)
    <out>/model/              the exported network: config.json + model.safetensors + README.md
    <out>/metrics.jsonl       one line of averaged losses every ``log_every`` steps
    <out>/samples/step_NNNNNN.png
    <out>/snapshots/step_NNNNNN/   the exported network every ``snapshot_every`` steps (validation curves)
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from . import data as data_module
from . import hub
from .imaging import save_grid
from .models import get_family

log = logging.getLogger(__name__)

INIT_ITEMS = 500  # training items a family's data-dependent initialisation sees
STATE_FILE = "training_state.pt"
SCHEDULES = ("constant", "cosine")


def option(default=None, help: str = "", *, choices=None, factory=None):
    """A ``TrainConfig`` field with what the command line says about it (``python -m ganapps train``
    makes one flag per field from these: the defaults and choices live here only)."""
    metadata = {"help": help, "choices": choices}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class TrainConfig:
    """One training run: everything ``python -m ganapps train`` and a recipe's train step can say.

    ``model`` overrides fields of the family's ``Config`` (the architecture); ``training`` sets the
    family's training options (its ``Training``: loss weights, the perceptual choice).
    """

    family: str = option(help="the family to train")
    data: tuple[str, ...] = option(
        (), "data folder(s): for MNIST the folder holding MNIST/raw; for toy a name (ring8, mixture2, ...); "
            "paired rain as side-by-side:FOLDER")
    out: str | None = option(None, "run folder (default runs/<family>)")
    steps: int = option(10_000, "the step the run ends at")
    batch_size: int | None = option(None, "per process (default: the family's, 64; toy 256; ssgan 100)")
    lr: float | None = option(None, "learning rate (default: the family's); given on a resumed run, the rest of it uses it")
    schedule: str = option("constant", "learning rate: constant, or cosine decay to 0 at --steps (plan the run's end)",
                           choices=SCHEDULES)
    decay_from: int = option(0, "the step where the cosine starts (to go on from a finished run: its last step)")
    seed: int = option(0, "seed of the initial weights, the batches and the noise")
    device: str = option("auto", "auto, cpu, cuda or cuda:N")
    model: dict = option(help='JSON of architecture fields, e.g. \'{"base_channels": 64}\'', factory=dict)
    training: dict = option(help='JSON of the family\'s training options, e.g. \'{"perceptual": "vgg19", "d_jitter": 8}\'',
                            factory=dict)
    tiny: bool = option(False, "the family's tiny config (smoke tests)")
    sample_every: int = option(1000, "write a sample grid every N steps (<out>/samples/)")
    checkpoint_every: int = option(1000, "save the training state and the model every N steps")
    log_every: int = option(50, "append the mean losses to <out>/metrics.jsonl every N steps")
    download: bool = option(False, "let torchvision download MNIST into --data")
    snapshot_every: int | None = option(None, "keep the exported network every N steps in <out>/snapshots/")
    data_options: dict = option(help='JSON for the photo datasets, e.g. \'{"patch": 256, "degradation": "mild"}\'',
                                factory=dict)
    ema: float | None = option(None, "export a moving average of the weights with this decay (e.g. 0.999)")
    phase: str | None = option(None, "for families trained in phases: srgan srresnet|srgan, realesrgan psnr|gan")
    init: str | None = option(None, "start the exported network from this model's weights (e.g. SRGAN from SRResNet)")
    grow: bool = option(False, "with --resume or --init: the run or model was saved with fewer layers; new layers start "
                               "as the identity, their optimiser afresh")
    workers: int | None = option(None, "DataLoader processes making batches (default: 4 on GPU for photo and rain crops, else 0)")

    def __post_init__(self):
        if not self.data:
            raise ValueError("data is needed: the folders (or the toy distribution's name) to train on")
        family = get_family(self.family)
        if self.out is None:
            self.out = f"runs/{self.family}"
        phases = family.phases
        if self.batch_size is None:
            self.batch_size = family.batch_size
        if self.workers is not None and self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        if self.phase is not None and self.phase not in phases:
            raise ValueError(
                f"{self.family} has no phase {self.phase!r}; available: {', '.join(phases) or '(none: it trains in one phase)'}"
            )
        self.data = tuple(str(d) for d in self.data)
        for name in ("steps", "batch_size", "sample_every", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; available: {', '.join(SCHEDULES)}")
        if not 0 <= self.decay_from < self.steps:
            raise ValueError(f"decay_from must be a step before the last ({self.steps}), got {self.decay_from}")
        if self.decay_from and self.schedule == "constant":
            raise ValueError("decay_from is where a schedule starts to decay: give --schedule cosine with it")
        if self.snapshot_every is not None and self.snapshot_every < 1:
            raise ValueError(f"snapshot_every must be >= 1, got {self.snapshot_every}")
        if self.ema is not None and not 0.0 < self.ema < 1.0:
            raise ValueError(f"ema must be a decay between 0 and 1 (e.g. 0.999), got {self.ema}")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"unknown device {self.device!r}; available: auto, cpu, cuda")
        model_config(self)  # the architecture's fields and values, before any data is read
        family.training_from(self.training)  # and the training options


def _load_grown(model: nn.Module, saved: dict, *, path: Path) -> None:
    """Load every saved tensor into ``model``, whose architecture may add layers (``--grow``).

    The added layers keep their initialisation; the families start new layers as the identity
    (e.g. residual branches with a zero last convolution), so the grown network computes what
    the saved one did.
    """
    try:
        missing, unexpected = model.load_state_dict(saved, strict=False)
    except RuntimeError as err:  # a layer of another shape
        raise ValueError(f"{path} cannot grow into this architecture: {err}") from None
    if unexpected:
        raise ValueError(f"{path} has layers this architecture lacks ({', '.join(unexpected)}): it can only grow")
    if missing:
        log.info("grown %s: new %s", type(model).__name__, ", ".join(missing))


@contextlib.contextmanager
def process_group(device: str = "auto"):
    """Under torchrun, the process group for everything inside (nccl on GPU, gloo on CPU); a no-op otherwise.

    The entry point owns it, as nanoGPT's train.py does: ``python -m ganapps train`` joins at the
    start and leaves at the end, all processes together (a process that exits still in the group
    can abort in gloo's teardown). Train several runs inside one ``with`` block: torchrun cannot
    join a second group.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) == 1 or dist.is_initialized():
        yield
        return
    dist.init_process_group("nccl" if resolve_device(device).type == "cuda" else "gloo")
    try:
        yield
    finally:
        dist.barrier()
        dist.destroy_process_group()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but no CUDA GPU is available; use --device cpu or auto")
    return torch.device(name)


def distributed_context(device: torch.device) -> tuple[int, int, torch.device]:
    """(rank, world_size, device); under torchrun the process group must be joined (``process_group``)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return 0, 1, device
    if not dist.is_initialized():
        raise RuntimeError("under torchrun, train inside `with ganapps.training.process_group(): ...` "
                           "(python -m ganapps train does): the entry point joins the process group and leaves it")
    rank = dist.get_rank()
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return rank, world_size, device


def model_config(cfg: TrainConfig):
    family = get_family(cfg.family)
    base = family.config.tiny() if cfg.tiny else family.config()
    known = {f.name for f in fields(base)}
    overrides = dict(cfg.model)
    if "data" in known and cfg.data:  # an architecture that names its data (toy: --data ring8) takes it from --data
        overrides.setdefault("data", cfg.data[0])
    unknown = set(overrides) - known
    misplaced = unknown & {f.name for f in fields(family.training)}
    if misplaced:
        raise ValueError(f"{', '.join(sorted(misplaced))}: training options of {cfg.family}, not its architecture; "
                         "give them as training (--training JSON, or a recipe step's training table)")
    if unknown:
        raise ValueError(f"unknown {cfg.family} config fields {sorted(unknown)}; available: {', '.join(sorted(known))}")
    return family.config(**{**asdict(base), **overrides})


class Run:
    """The live objects of one run: state, data, and where it is in the data.

    ``state`` holds the networks themselves: they are saved, previewed and exported. Under
    torchrun the train step gets ``step_state``, the same state with each network wrapped in
    DistributedDataParallel (which averages the gradients); otherwise it is ``state`` itself.
    """

    def __init__(self, cfg: TrainConfig, *, data=None, resume: bool = False):
        self.cfg = cfg
        self.family = get_family(cfg.family)
        device = resolve_device(cfg.device)
        self.rank, self.world_size, device = distributed_context(device)
        if data is None:
            data = self.family.dataset.load(cfg.data, download=cfg.download, **cfg.data_options)
        self.data = data_module.TensorBatches(*data) if isinstance(data, tuple) else data
        torch.manual_seed(cfg.seed)  # identical initial weights in every process (DDP also broadcasts)
        rng = torch.Generator().manual_seed(data_module.seed_of(cfg.seed, self.rank))
        kwargs = {"rng": rng, "device": device, "training": self.family.training_from(cfg.training)}
        if cfg.lr is not None:
            kwargs["lr"] = cfg.lr
        if cfg.phase is not None:
            kwargs["phase"] = cfg.phase
        self.state = self.family.make_state(model_config(cfg), **kwargs)
        self.live = self.family.exported(self.state.models)  # the network being trained, as exported
        # the rates the optimisers start from (this run's --lr or the family's); a schedule scales them
        self.base_lrs = {name: [group["lr"] for group in opt.param_groups] for name, opt in self.state.optimizers.items()}
        resuming = resume and (Path(cfg.out) / STATE_FILE).is_file()
        if cfg.init is not None and not resuming:  # a resumed run has its own weights
            start = hub.load(cfg.init, family=cfg.family)
            exported = self.live
            if cfg.grow:  # e.g. a layer added to the architecture: it starts as initialised (the identity)
                _load_grown(exported, start.state_dict(), path=Path(cfg.init))
            else:  # the same architecture
                try:
                    exported.load_state_dict(start.state_dict())
                except RuntimeError:
                    raise ValueError(f"--init {cfg.init!r} has config {start.config}, this run {self.state.config}"
                                     " (--grow starts a larger architecture from it)") from None
        elif self.family.initialise is not None:  # fresh networks (a resumed run then loads its own)
            first = torch.arange(min(len(self.data), INIT_ITEMS))
            self.family.initialise(self.state, self.data.batch(first, data_module.seed_of(cfg.seed)))
        self.step = 0
        self.out = Path(cfg.out)
        # The exported network's moving average (Karras et al. 2018; Yazici et al. 2019): the weights
        # a GAN oscillates around, which give cleaner samples than the latest ones.
        self.ema = copy.deepcopy(self.live).requires_grad_(False) if cfg.ema else None
        if resuming:
            self._load(self.out / STATE_FILE)
        self.step_state = self.state
        if self.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [device.index] if device.type == "cuda" else None
            unused = self.family.ddp_find_unused_parameters
            wrapped = {name: DDP(model, device_ids=ids, find_unused_parameters=unused) for name, model in self.state.models.items()}
            self.step_state = dataclasses.replace(self.state, models=wrapped)
        on_the_fly = getattr(self.data, "on_the_fly", False)  # crops, degradations, rain: made per batch
        self.workers = cfg.workers if cfg.workers is not None else (4 if device.type == "cuda" and on_the_fly else 0)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def export(self):
        """The network that gets exported: the moving average when there is one."""
        return self.ema if self.ema is not None else self.live

    def lr_factor(self, step: int) -> float:
        """The schedule's multiplier of the starting rates for step ``step`` (0-based) of ``cfg.steps``."""
        if self.cfg.schedule == "constant":
            return 1.0
        start, end = self.cfg.decay_from, self.cfg.steps
        progress = min(max(step - start, 0), end - start) / (end - start)
        return 0.5 * (1.0 + math.cos(math.pi * progress))  # cosine, 1 -> 0

    def apply_schedule(self) -> None:
        """Set every optimiser's rates for the coming step: a function of the step alone, so resume is exact."""
        if self.cfg.schedule == "constant":
            return
        factor = self.lr_factor(self.step)
        for name, opt in self.state.optimizers.items():
            for group, base in zip(opt.param_groups, self.base_lrs[name]):
                group["lr"] = base * factor

    @torch.no_grad()
    def update_ema(self) -> None:
        if self.ema is None:
            return
        live = self.live
        for averaged, current in zip(self.ema.parameters(), live.parameters()):
            averaged.lerp_(current, 1.0 - self.cfg.ema)
        for averaged, current in zip(self.ema.buffers(), live.buffers()):
            averaged.copy_(current)  # batch-norm statistics follow the live network

    def _load(self, path: Path) -> None:
        saved = torch.load(path, map_location=self.state.device, weights_only=True)
        if saved["family"] != self.cfg.family:
            raise ValueError(f"{path} is a {saved['family']} run, not {self.cfg.family}")
        # States saved before the training options left the Config hold them in "config": they are parted
        # from the architecture here; fields added to a Config since the state was saved take their defaults.
        options = {f.name for f in fields(self.family.training)}
        saved_training = {**{k: v for k, v in saved["config"].items() if k in options}, **saved.get("training", {})}
        architecture = {k: v for k, v in saved["config"].items() if k not in options}
        saved_config = {**asdict(type(self.state.config)()), **architecture}
        grow = saved_config != asdict(self.state.config)
        if grow and not self.cfg.grow:
            raise ValueError(f"{path} was trained with config {architecture}, not {asdict(self.state.config)}")
        now = asdict(self.state.training)
        if {**now, **saved_training} != now:
            log.info("training options changed on resume: %s -> %s", saved_training, now)
        load = functools.partial(_load_grown, path=path) if grow else nn.Module.load_state_dict
        for name, model in self.state.models.items():
            load(model, saved["models"][name])
        if self.ema is not None:  # a run that had no average yet starts it from its current weights
            load(self.ema, saved.get("ema") or self.live.state_dict())
        for name, opt in self.state.optimizers.items():
            rates = [group["lr"] for group in opt.param_groups]  # as built from this run's --lr
            sizes = [len(group["params"]) for group in saved["optimizers"][name]["param_groups"]]
            if grow and sizes != [len(group["params"]) for group in opt.param_groups]:
                log.info("%s restarts: its network grew", name)
                continue
            opt.load_state_dict(saved["optimizers"][name])
            if self.cfg.lr is not None:  # --lr given on --resume: the rest of the run uses it (e.g. a lower one to finish)
                for group, rate in zip(opt.param_groups, rates):
                    group["lr"] = rate
        rank = self.rank if self.rank < len(saved["rng"]) else 0  # resumed on more processes than saved
        self.state.rng.set_state(saved["rng"][rank])
        if "torch_rng" in saved:  # dropout and other global-RNG layers (absent from early checkpoints)
            torch.set_rng_state(saved["torch_rng"][rank])
        self.step = saved["step"]
        log.info("resumed %s from step %d", path, self.step)

    def read(self, sums: dict[str, torch.Tensor], count: int) -> dict[str, float]:
        """The mean of each loss over the last ``count`` steps (``sums`` of the losses the train steps
        returned), read back from the device at once: the run's only sync with it. Raises
        FloatingPointError, on every rank alike, if a step made any loss non-finite."""
        names = list(sums)
        totals = torch.stack([sums[name].float() for name in names]).tolist() if names else []
        means = {name: total / count for name, total in zip(names, totals)}
        bad = [name for name, value in means.items() if not math.isfinite(value)]
        if self.world_size > 1:  # every rank stops, with the same message, or none does (they would wait forever)
            bad = self.bad_anywhere(bad, means)
        if bad:
            steps = f"step {self.step}" if count == 1 else f"steps {self.step - count + 1}-{self.step}"
            raise FloatingPointError(
                f"{', '.join(bad)} became {means[bad[0]]} in {steps}; "
                f"stopped without saving (the last checkpoint in {self.cfg.out} is intact)"
            )
        return means

    def bad_anywhere(self, bad: list[str], losses: dict[str, float]) -> list[str]:
        """The non-finite losses of the first rank that has any, on every rank (``losses`` then hold that rank's)."""
        flag = torch.tensor([self.rank if bad else self.world_size], device=self.state.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        first = int(flag.item())
        if first == self.world_size:
            return []
        message = [bad, dict(losses)] if self.rank == first else None
        shared = [message]
        dist.broadcast_object_list(shared, src=first)
        names, values = shared[0]
        losses.update(values)
        return names

    def _gather(self, value: torch.Tensor) -> list[torch.Tensor]:
        """``value`` from every process, in rank order (a one-item list without DDP)."""
        if self.world_size == 1:
            return [value]
        values = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def save(self) -> None:
        """Write training_state.pt and model/ atomically (temporary file, then rename)."""
        if self.world_size > 1:
            # DDP keeps parameters identical but copies buffers (batch-norm statistics) from rank 0
            # only at the start of each forward; copy them once more so every process ends equal.
            for model in self.state.models.values():
                for buffer in model.buffers():
                    dist.broadcast(buffer, 0)
        rngs, torch_rngs = self._gather(self.state.rng.get_state()), self._gather(torch.get_rng_state())
        if not self.is_main:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        saved = {
            "family": self.cfg.family,
            "config": asdict(self.state.config),
            "training": asdict(self.state.training),
            "train": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.cfg).items()},
            "step": self.step,
            "models": {name: model.state_dict() for name, model in self.state.models.items()},
            "ema": None if self.ema is None else self.ema.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.state.optimizers.items()},
            "rng": rngs,
            "torch_rng": torch_rngs,
        }
        tmp = self.out / f".{STATE_FILE}.tmp"
        torch.save(saved, tmp)
        os.replace(tmp, self.out / STATE_FILE)
        hub.save(self.export, self.out / "model", card=model_card_draft(self.cfg, self.step))

    def save_snapshot(self) -> None:
        """The exported network as it is now, in snapshots/step_NNNNNN/ (kept: validation curves)."""
        if self.is_main:
            hub.save(self.export, self.out / "snapshots" / f"step_{self.step:06d}", card=model_card_draft(self.cfg, self.step))

    def close(self) -> None:
        """Wait until every process is done (under torchrun); a no-op otherwise."""
        if self.world_size > 1 and dist.is_initialized():
            dist.barrier()

    def save_samples(self) -> None:
        preview = self.family.preview
        if preview is None or not self.is_main:
            return
        generator = self.export
        was_training = generator.training
        generator.eval()
        images, nrow = preview(generator, seed=0, device=self.state.device, data=self.data)
        generator.train(was_training)
        save_grid(images, self.out / "samples" / f"step_{self.step:06d}.png", nrow=nrow)


class _Batches(torch.utils.data.Dataset):
    """The batches of steps ``first`` .. ``last - 1`` of a run, in order: item ``k`` is the batch of
    step ``first + k``, made from that step alone (its place in its epoch's shuffle and its seed
    for crops and noise), so a resumed run makes the same batches and DataLoader workers can make
    them ahead, for the whole run at once."""

    def __init__(self, run: Run, first: int, last: int):
        self.data, self.cfg, self.rank, self.world_size = run.data, run.cfg, run.rank, run.world_size
        self.first, self.last = first, last
        self.per_epoch = data_module.steps_per_epoch(len(run.data), self.cfg.batch_size, run.world_size)
        if self.per_epoch == 0:
            raise ValueError(f"{len(run.data)} training items cannot fill one batch of {self.cfg.batch_size} per process")
        self._epoch: tuple[int, list] = (-1, [])

    def __len__(self) -> int:
        return self.last - self.first

    def epoch(self, step: int) -> int:
        return step // self.per_epoch

    def __getitem__(self, k: int):
        step = self.first + k
        epoch, position = divmod(step, self.per_epoch)
        if self._epoch[0] != epoch:
            self._epoch = (epoch, list(data_module.epoch_batches(
                len(self.data), self.cfg.batch_size, seed=self.cfg.seed, epoch=epoch, rank=self.rank,
                world_size=self.world_size,
            )))
        return self.data.batch(self._epoch[1][position], data_module.seed_of(self.cfg.seed, step, self.rank))


def training_steps(run: Run) -> Iterator[dict]:
    """Run ``train_step`` until ``run.cfg.steps``; yield ``{"step", "epoch", <losses>}`` after each.

    The losses are the train step's tensors, still on the device: ``run.read`` turns sums of them
    into floats and stops a run that went non-finite; ``train`` does so before it logs or saves.
    With ``run.workers`` the batches are made ahead by DataLoader processes.
    """
    cfg, state = run.cfg, run.step_state
    batches = _Batches(run, run.step, cfg.steps)
    for model in state.models.values():
        model.train()
    if run.workers == 0:
        made = (batches[k] for k in range(len(batches)))
    else:
        made = torch.utils.data.DataLoader(
            batches, batch_size=None, num_workers=run.workers, pin_memory=state.device.type == "cuda", prefetch_factor=4,
        )
    for batch in made:
        epoch = batches.epoch(run.step)
        batch = tuple(t.to(state.device, non_blocking=True) for t in batch)
        run.apply_schedule()
        losses = run.family.train_step(state, batch)
        run.update_ema()
        run.step += 1
        yield {"step": run.step, "epoch": epoch, **losses}


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = True, data=None,
          after: Callable[[Run], None] | None = None) -> Run:
    """Train to ``cfg.steps`` with logs, sample grids and checkpoints; returns the finished, closed run.

    Also under torchrun. ``after(run)``, once the steps are done (on every process), is work on
    the trained model before the run is saved once more (``recipes.train`` passes the family's).
    ``data`` replaces the data named by ``cfg.data`` (tests).
    """
    run = Run(cfg, data=data, resume=resume)
    out = run.out
    if run.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "train_config.json").write_text(json.dumps(asdict(run.cfg), indent=2))
    bar = None
    if progress and run.is_main:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=run.step, desc=f"train {cfg.family}", dynamic_ncols=True)
    sums: dict[str, torch.Tensor] = {}  # summed on the device, read back when logged or saved
    count, started = 0, time.time()
    for entry in training_steps(run):
        step = entry["step"]
        for key, value in entry.items():
            if key not in ("step", "epoch"):
                sums[key] = sums[key] + value if key in sums else value
        count += 1
        if bar is not None:
            bar.update(1)
        last = step == cfg.steps
        logs = step % cfg.log_every == 0 or last
        samples = step % cfg.sample_every == 0 or last
        snapshots = bool(cfg.snapshot_every) and (step % cfg.snapshot_every == 0 or last)
        checkpoints = step % cfg.checkpoint_every == 0 or last
        if logs or samples or snapshots or checkpoints:
            means = run.read(sums, count)  # nothing is written from a run that went non-finite
        if logs:
            means = {k: round(v, 5) for k, v in means.items()}
            if run.is_main:
                record = {"step": step, "epoch": entry["epoch"], "seconds": round(time.time() - started, 1),
                          "lr_factor": round(run.lr_factor(step - 1), 5), **means}
                with open(out / "metrics.jsonl", "a") as f:
                    f.write(json.dumps(record) + "\n")
                if bar is not None:
                    bar.set_postfix(means)
            sums, count = {}, 0
        if samples:
            run.save_samples()
        if snapshots:
            run.save_snapshot()
        if checkpoints:
            run.save()
    if bar is not None:
        bar.close()
    if after is not None:
        after(run)  # on every process: save() below gathers from all of them
        run.save()
    run.close()
    return run


def model_card_draft(cfg: TrainConfig, step: int) -> str:
    """The model card written with every checkpoint: the recipe that made it, ready to be extended."""
    return (
        f"---\nlibrary_name: ganapps\ntags: [gan, {cfg.family}]\n---\n\n"
        f"# {cfg.family} trained with ganapps\n\n"
        f"Trained for {step} of {cfg.steps} steps, batch {cfg.batch_size}, seed {cfg.seed}.\n\n"
        f"Recipe: `python -m ganapps train {cfg.family} --data <dir> --steps {cfg.steps} "
        f"--batch-size {cfg.batch_size} --seed {cfg.seed}"
        + (f" --lr {cfg.lr}" if cfg.lr is not None else "")
        + (f" --schedule {cfg.schedule}" if cfg.schedule != "constant" else "")
        + (f" --decay-from {cfg.decay_from}" if cfg.decay_from else "")
        + (f" --data-options '{json.dumps(cfg.data_options)}'" if cfg.data_options else "")
        + (f" --model '{json.dumps(cfg.model)}'" if cfg.model else "")
        + (f" --training '{json.dumps(cfg.training)}'" if cfg.training else "")
        + "`\n"
    )


def run_seconds(run: Path) -> dict[int, float]:
    """Training seconds at each logged step of the run in folder ``run`` (its metrics.jsonl), added up over its resumed
    pieces."""
    seconds, offset, last = {}, 0.0, 0.0
    path = run / "metrics.jsonl"
    if not path.is_file():
        return seconds
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["seconds"] < last:  # a resumed piece starts its clock again
            offset += last
        last = record["seconds"]
        seconds[record["step"]] = offset + record["seconds"]
    return seconds
