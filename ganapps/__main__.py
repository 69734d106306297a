"""Command line: python -m ganapps sample | classify | lab | upscale | derain | compare | models | train | calibrate |
evaluate | interpolate | pair | push | space."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from itertools import chain
from pathlib import Path

from . import catalog
from .digits import DEFAULT_MODELS
from .foreign import DERAINERS, HUB_FORM, RESTORATION_OVERLAP, RESTORATION_TILE, RESTORATION_TILES
from .models import TRAINABLE
from .photos import DEFAULT_TILE, DERAIN_TILE, MAX_SCALE, MIN_SCALE
from .video import MAX_TEMPORAL


def _train(args) -> None:
    from .models import get_family
    from .recipes import load_recipe, train
    from .training import TrainConfig, process_group

    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if getattr(args, f.name, None) is not None}
    if args.recipe:
        extra = sorted(set(given) - RECIPE_OVERRIDES)
        if extra or args.loss is not None:
            flags = [f"--{name.replace('_', '-')}" for name in extra] + (["--loss"] if args.loss is not None else [])
            allowed = [f"--{name}" for name in sorted(RECIPE_OVERRIDES)] + ["--threads", "--data-root", "--work", "--checkpoints"]
            raise ValueError(f"a recipe says how every step trains; {', '.join(flags)} cannot go with --recipe "
                             f"(only {', '.join(allowed)} and --dry-run)")
        recipe = load_recipe(args.recipe, data_root=args.data_root, out=args.work, checkpoints=args.checkpoints)
        for step in recipe.steps:  # where the steps run: checked as any TrainConfig is
            if step.config is not None:
                step.config = dataclasses.replace(step.config, **given)
        print(recipe.plan())
        if args.dry_run:
            return
        _set_threads(args.threads or get_family(recipe.family).threads)
        print(f"made {recipe.run()}")
        return
    if args.dry_run or args.data_root or args.work or args.checkpoints:
        raise ValueError("--dry-run, --data-root, --work and --checkpoints go with --recipe")
    if "family" not in given:
        raise ValueError("give a family to train (or --recipe FILE)")
    if args.loss is not None:
        if given["family"] != "toy":
            raise ValueError("--loss is for the toy family; other families have their paper's objective")
        given["model"] = {**given.get("model", {}), "loss": args.loss}
    cfg = TrainConfig(**given)
    _set_threads(args.threads or get_family(cfg.family).threads)
    with process_group(cfg.device):  # under torchrun: joined here, left at the end, all processes together
        run = train(cfg, resume=args.resume, classifier=args.classifier or None)
    if run.is_main:
        print(f"trained {cfg.family} to step {run.step}; model in {run.out / 'model'}")


def _set_threads(threads: int | None) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)


# What may be said on the command line beside --recipe: where the steps run, not how they train.
RECIPE_OVERRIDES = {"device", "workers"}


def _train_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per ``TrainConfig`` field, with its help, default and choices from the dataclass (and no
    default in the namespace: a flag not given leaves the dataclass's own)."""
    from .training import TrainConfig

    for f in dataclasses.fields(TrainConfig):
        if f.name == "family":
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        shown = f" (default {default})" if default not in (None, (), {}, False) else ""
        kwargs = {"help": f.metadata["help"] + shown, "default": argparse.SUPPRESS, "dest": f.name}
        kind = str(f.type)
        if kind == "bool":
            kwargs["action"] = "store_true"
        elif kind == "dict":
            kwargs.update(type=json.loads, metavar="JSON")
        elif kind.startswith("tuple"):
            kwargs["nargs"] = "+"
        else:
            kwargs["type"] = int if kind.startswith("int") else float if kind.startswith("float") else str
        if f.metadata.get("choices"):
            kwargs["choices"] = list(f.metadata["choices"])
        parser.add_argument(f"--{f.name.replace('_', '-')}", **kwargs)


def _sample(args) -> None:
    from pathlib import Path

    from .digits import sample_batches
    from .hub import check_family
    from .imaging import to_pil

    model = args.model or DEFAULT_MODELS[args.family]
    check_family(model, args.family)
    batches = sample_batches(
        model, args.num_images, seed=args.seed, digit=args.digit, slant=args.slant, width=args.width, device=args.device
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width = max(4, len(str(args.num_images - 1)))
    index = 0
    for images in batches:  # a batch at a time: any number of images in bounded memory
        for image in to_pil(images):
            image.save(out / f"{index:0{width}d}.png")
            index += 1
    print(f"wrote {index} images to {out}")


def _calibrate(args) -> None:
    from .finishing import calibrate
    from .hub import load_config

    calibrate(args.model, args.classifier)
    print(json.dumps({k: v for k, v in load_config(args.model).items() if k not in ("family", "format_version")}))


def _classify(args) -> int:
    from .hub import check_family
    from .recognition import CLASSIFIER_FAMILIES, classify

    check_family(args.model, CLASSIFIER_FAMILIES)  # a model that cannot classify is one error, not one per image
    failed = 0
    for path in args.images:  # one at a time: a bad file gets its error and the rest go on
        try:
            (reading,) = classify([path], model=args.model, device=args.device)
        except ValueError as err:
            failed += 1
            message = str(err).removeprefix(f"{path}: ")
            print(json.dumps({"path": path, "error": message}) if args.json else f"{path}: error: {message}", flush=True)
            continue
        if args.json:
            print(json.dumps({"path": path, "digit": reading.digit, "confidence": round(reading.confidence, 4), "ink": reading.ink}))
        else:
            print(f"{path}: {reading.digit} (confidence {reading.confidence:.3f}, {reading.ink})")
    return 1 if failed else 0  # EXIT_STATUS


def _lab(args) -> int:
    import torch

    from .lab.claims import CLAIMS, HEADER, measure, row

    torch.set_num_threads(1)  # the toy networks: more threads only compete
    results = {}
    print(HEADER, flush=True)
    for name in args.claims or CLAIMS:
        results[name] = measure(name, seeds=args.seeds, steps=args.steps)
        print(row(name, results[name]), flush=True)
    if args.json:
        print(json.dumps(results))
    return 0 if all(result["holds"] for result in results.values()) else 1


def _evaluate(args) -> None:
    from pathlib import Path

    from .evaluation import evaluate_derain, evaluate_sr

    if args.task == "derain":
        if not (args.rainy and args.clean):
            raise ValueError("evaluate derain needs --rainy DIR and --clean DIR")
        print("Deraining, PSNR / SSIM on Y (no shave)\n")
        print("| images | PSNR-Y (dB) | SSIM-Y |")
        print("|---|---|---|")
        for name, scores in evaluate_derain(args.rainy, args.clean, models=[args.model]).items():
            print(f"| {name} | {scores['psnr']:.2f} | {scores['ssim']:.4f} |")
        return
    if not args.data:
        raise ValueError("evaluate sr needs --data DIR [DIR...]")
    inputs = "bicubic downscales" + (f" saved as JPEG quality {args.jpeg}" if args.jpeg else "")
    print(f"x{args.scale} super-resolution of {inputs}: PSNR / SSIM on Y (shave {args.scale}), "
          "texture vs ground truth, block-grid energy (1.0: no grid), checkerboard at the pixel shuffle's period (0: none), "
          "sub-pixel dots (1.0: none)\n")
    print("| set | model | PSNR-Y (dB) | SSIM-Y | texture ratio | block-grid energy | checkerboard | dots |")
    print("|---|---|---|---|---|---|---|---|")
    for folder in args.data:
        results = evaluate_sr(folder, models=args.models, scale=args.scale, jpeg_quality=args.jpeg)
        for model, scores in results.items():
            if model == "ground truth":
                print(f"| {Path(folder).name} | ground truth | | | 1.00 | {scores['grid']:.2f} | {scores['checkerboard']:.3f} "
                      f"| {scores['dots']:.2f} |")
                continue
            print(f"| {Path(folder).name} | {model} | {scores['psnr']:.2f} | {scores['ssim']:.4f} "
                  f"| {scores['texture']:.2f} | {scores['grid']:.2f} | {scores['checkerboard']:.3f} | {scores['dots']:.2f} |")


def _restore(args) -> int:
    """upscale / derain: photos and folder trees in, the same names and layout out (``photos.restore_files``)."""
    from tqdm import tqdm

    from . import photos, video

    if args.command == "upscale":
        photos.check_size(args.scale, args.width, args.height)  # before the model loads, as any bad argument
        model = photos.load_upscaler(args.model, denoise=args.denoise, mild=args.mild, device=args.device)  # once, for all inputs
        verb = lambda path, progress: photos.upscale(
            path, model=model, scale=args.scale, width=args.width, height=args.height, tile=args.tile,
            device=args.device, progress=progress, metadata=args.metadata,
        )
    else:
        model = photos.load_derainer(args.model, device=args.device)  # once, for all inputs
        verb = lambda path, progress: photos.derain(
            path, model=model, strength=args.strength, tile=args.tile, device=args.device, progress=progress,
            metadata=args.metadata,
        )

    def restore(path):
        with tqdm(total=1, desc=path.name, unit="tile", leave=False) as bar:
            def progress(done, total):
                bar.total = total
                bar.n = done
                bar.refresh()

            return verb(path, progress)

    given_clips = [path for path in args.inputs if video.is_video(path) and not Path(path).is_dir()]
    inputs = [path for path in args.inputs if path not in given_clips]  # photos, and folders (their photos)
    clips = photos.plan_outputs(given_clips + [path for path in args.inputs if Path(path).is_dir()], args.out,
                                suffixes=video.VIDEO_SUFFIXES, extension=f".{args.container}")
    photo_files = photos.plan_outputs(inputs, args.out, args.format)
    counts = {"done": 0, "skipped": 0, "failed": 0}
    results = photos.restore_files(inputs, args.out, restore, format=args.format, quality=args.quality,
                                   lossless=args.lossless, skip_existing=args.skip_existing) if photo_files else []
    for result in chain(results, (_restore_clip(args, model, source, target) for source, target in clips)):
        counts[result.status] += 1
        if result.status == "failed":
            print(f"error: {result.source}: {result.detail}", file=sys.stderr, flush=True)
        else:
            print(f"{result.source} -> {result.target} ({result.detail})", flush=True)
    summary = ", ".join(f"{count} {status}" for status, count in counts.items() if count or status == "done")
    kinds = " and ".join(kind for kind, items in (("photos", photo_files), ("videos", clips)) if items) or "photos"
    print(f"{summary} (of {sum(counts.values())} {kinds})", file=sys.stderr if counts["failed"] else sys.stdout)
    return 1 if counts["failed"] else 0


def _restore_clip(args, model, source: Path, target: Path):
    """upscale / derain of one video file into ``target``, resumable, with a progress bar in frames."""
    from tqdm import tqdm

    from . import photos, video

    if args.skip_existing and target.exists():
        return photos.FileResult(source, target, "skipped", "already there")
    options = dict(codec=args.codec, crf=args.crf, format=args.container, metadata=args.metadata, tile=args.tile)
    if args.temporal is not None:
        options["temporal"] = args.temporal
    with tqdm(total=1, desc=source.name, unit="frame", leave=False) as bar:
        def progress(done, total):
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            if args.command == "upscale":
                result = video.upscale_video(source, target, model=model, scale=args.scale, width=args.width,
                                             height=args.height, progress=progress, **options)
            else:
                result = video.derain_video(source, target, model=model, strength=args.strength, progress=progress,
                                            **options)
        except ValueError as err:
            return photos.FileResult(source, target, "failed", str(err))
    return photos.FileResult(source, target, "done", result.summary())


def _compare(args) -> None:
    """compare upscale|derain: one photo through 2-4 models; each result and a side-by-side sheet."""
    from pathlib import Path

    from . import compare
    from .imaging import read_image
    from .photos import MAX_UPSCALE_PIXELS

    before = read_image(args.photo, max_pixels=MAX_UPSCALE_PIXELS)  # decoded once: every model, and first on the sheet
    if args.verb == "upscale":
        if args.strength is not None:
            raise ValueError("--strength is for derain; upscale takes --scale, --width or --height")
        results = compare.compare_upscale(before, args.models, scale=args.scale, width=args.width, height=args.height,
                                          tile=args.tile or DEFAULT_TILE, device=args.device, metadata=args.metadata)
    else:
        if args.scale is not None or args.width is not None or args.height is not None:
            raise ValueError("--scale, --width and --height are for upscale; derain keeps the photo's size")
        results = compare.compare_derain(before, args.models, strength=1.0 if args.strength is None else args.strength,
                                         tile=args.tile, device=args.device, metadata=args.metadata)
    paths, sheet = compare.write(results, args.out, Path(args.photo).stem, format=args.format, quality=args.quality, before=before)
    for result, path in zip(results, paths):
        setting = f", {result.setting}" if result.setting else ""
        print(f"{result.name}: {path} ({result.picture.size[0]}x{result.picture.size[1]}{setting}, {result.seconds:.1f} s)")
    print(f"side by side: {sheet}")


def _models(args) -> None:
    """Every model the photo and digit commands take by name: the shipped ones by task, and the Hub's upscalers."""
    from .hub import available

    shipped = set(available())
    print("| task | name | what | here |\n|---|---|---|---|")
    tasks = {"upscale": catalog.UPSCALE, "derain": catalog.DERAIN, "classify": catalog.CLASSIFY,
             "sample": {name: f"{family} digits (MNIST)" for family, name in catalog.DIGITS.items()}}
    for task, models in tasks.items():
        for name, what in models.items():
            here = "interpolation" if name == "bicubic" else "shipped" if name in shipped else "missing"
            print(f"| {task} | `{name}` | {what} | {here} |")
    print("\nUpscalers from the Hugging Face Hub, downloaded on first use (`--model NAME`):\n")
    print("| name | file | architecture | size | licence |\n|---|---|---|---|---|")
    for name, entry in catalog.HUB_UPSCALE.items():
        twin = " + twin" if entry.mild else ""
        print(f"| `{name}` | `{entry.file}`{twin} | {entry.architecture} x{entry.scale} | {entry.megabytes:g} MB | {entry.licence} |")


def _interpolate(args) -> None:
    from .recipes import interpolate

    print(interpolate(args.first, args.second, args.weight, args.out))


def _pair(args) -> None:
    from .recipes import pair

    print(pair(args.model, args.mild, args.default_denoise, args.out))


def _push(args) -> None:
    from .hub import push

    print(push(args.name, args.repo_id, revision=args.revision, private=args.private))


def _space(args) -> None:
    from .space import export_space, publish_commands

    folder = export_space(args.directory, checkpoints=args.checkpoints)
    print(f"wrote a Hugging Face Space to {folder}; publish it with either of:\n{publish_commands(args.directory)}")


def _photo_command(sub, name: str, what: str, *, model: str, model_help: str, tile: int | None, tile_help: str,
                   temporal_help: str):
    """A photos-in, photos-out subcommand (upscale, derain): inputs (files and folders), --out, the model, the tiling,
    the output format and what metadata the results keep."""
    from .imaging import DEFAULT_QUALITY, METADATA_CHOICES, METADATA_HELP, OUTPUT_FORMATS, READABLE
    from .video import CODECS, CONTAINERS, DEFAULT_CRF, VIDEO_SUFFIXES

    p = sub.add_parser(name, help=f"{what}; a file gives <out>/<stem>.<format>, a folder the same tree under <out>")
    p.add_argument("inputs", nargs="+", help=f"photo files ({READABLE}), video files ({', '.join(VIDEO_SUFFIXES)}) and "
                                            "folders of them (walked recursively)")
    p.add_argument("--out", required=True, help="the folder to write the results to")
    p.add_argument("--model", default=model, help=model_help)
    p.add_argument("--tile", type=int, default=tile, help=tile_help)
    p.add_argument("--format", default="png", choices=list(OUTPUT_FORMATS),
                   help="the results' file format (default png; png and tiff keep 16 bits)")
    p.add_argument("--quality", type=int, metavar="1..100",
                   help="for jpeg, webp and avif (default " + ", ".join(f"{f} {q}" for f, q in DEFAULT_QUALITY.items()) + ")")
    p.add_argument("--lossless", action="store_true", help="webp: lossless")
    p.add_argument("--metadata", default="keep", choices=METADATA_CHOICES, help=METADATA_HELP + " (default keep)")
    p.add_argument("--skip-existing", action="store_true",
                   help="keep results already in --out (a stopped run continues where it was; results are written whole)")
    p.add_argument("--device", default="cpu")
    clips = p.add_argument_group(
        "videos", "each frame as a photo, the same frames and timestamps, sound and subtitles copied; a stopped run "
                  "continues from its work folder (<out>/<name>.parts) when run again with the same settings")
    clips.add_argument("--codec", default="h264", choices=list(CODECS), help="video codec (default h264)")
    clips.add_argument("--crf", type=int, help="constant quality, lower is better and larger (default "
                                               + ", ".join(f"{codec} {crf}" for codec, crf in DEFAULT_CRF.items()) + ")")
    clips.add_argument("--container", default="mp4", choices=list(CONTAINERS), help="video file format (default mp4)")
    clips.add_argument("--temporal", type=int, metavar="FRAMES", help=temporal_help)
    p.set_defaults(func=_restore)
    return p


EXIT_STATUS = ("exit status: 0 when all went well; 1 when the command ran but some of its work did not succeed (an input "
               "photo or image that failed, a lab claim that did not hold); 2 when an error stopped it (a bad argument, "
               "a model that cannot load)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ganapps", description=__doc__, epilog=EXIT_STATUS)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a family, or a shipped model from its recipe (resumable; works under torchrun for DDP)")
    p.add_argument("family", nargs="?", choices=list(TRAINABLE), help="the family to train (not with --recipe)")
    p.add_argument("--recipe", help="a recipe file (recipes/<model>.toml): every step from the data to the shipped model")
    p.add_argument("--dry-run", action="store_true", help="with --recipe: print the plan (steps, data, results) and stop")
    p.add_argument("--data-root", help="with --recipe: the folder {data} stands for (default ../shared/data)")
    p.add_argument("--work", help="with --recipe: its work folder instead of the recipe's own (runs/<model>)")
    p.add_argument("--checkpoints", help="with --recipe: the folder to ship the model into (default: the shipped "
                                         "models' checkpoints/, which it replaces)")
    _train_flags(p)
    p.add_argument("--loss", help="toy: minimax, nonsaturating, least_squares, hinge or wgan_gp")
    p.add_argument("--resume", action="store_true", help="continue from <out>/training_state.pt if present")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: one per core; toy: 1)")
    p.add_argument("--classifier", default="mnist-classifier",
                   help="InfoGAN only: the classifier used to calibrate the codes after training ('' to skip)")
    p.set_defaults(func=_train)

    p = sub.add_parser("sample", help="write generated digits as 28x28 grayscale PNG files, one per file")
    p.add_argument("family", choices=list(DEFAULT_MODELS))
    p.add_argument("--num-images", type=int, default=16, help="any number (written in batches of 256)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="folder for 0000.png, 0001.png, ... (28x28 grayscale)")
    p.add_argument("--digit", type=int, help="cgan/infogan: the digit to draw (InfoGAN: mapped to its category)")
    p.add_argument("--slant", type=float, help="infogan: slant code, -2..2 (training range -1..1)")
    p.add_argument("--width", type=float, help="infogan: stroke-width code, -2..2 (training range -1..1)")
    p.add_argument("--model", help="checkpoint name, folder or Hub repo id[@revision] (default <family>-mnist)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_sample)

    p = sub.add_parser("classify", help="read the handwritten digit in each image (any size; dark or light ink)")
    p.add_argument("images", nargs="+", help="image files, one digit each")
    p.add_argument("--model", default=next(iter(catalog.CLASSIFY)), help=f"{catalog.names(catalog.CLASSIFY)}, or a folder")
    p.add_argument("--json", action="store_true", help="one JSON object per line: path, digit, confidence, ink (or error)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_classify)

    p = sub.add_parser("lab", help="measure every claim of the theory lab against its target; a table (exit 1 if one fails)")
    p.add_argument("claims", nargs="*", help="claim names (default: all)")
    p.add_argument("--json", action="store_true", help="also one JSON object as the last line: name -> measured, target, holds")
    p.add_argument("--seeds", type=int, default=1,
                   help="the 2-D runs' claims (mode coverage, losses vs progress): runs, one per seed (default 1)")
    p.add_argument("--steps", type=int, default=5000, help="the 2-D runs' claims: steps of each run (default 5000)")
    p.set_defaults(func=_lab)

    p = sub.add_parser("calibrate", help="measure what a trained InfoGAN's codes mean; rewrite its config.json")
    p.add_argument("model", help="InfoGAN model folder")
    p.add_argument("--classifier", default="mnist-classifier")
    p.set_defaults(func=_calibrate)

    p = _photo_command(
        sub, "upscale", "upscale photos 1-8x", model=next(iter(catalog.UPSCALE)), tile=DEFAULT_TILE,
        tile_help=f"tile side in input pixels: bounds memory, the same result (default {DEFAULT_TILE})",
        temporal_help=f"neighbouring frames on each side (0..{MAX_TEMPORAL}) that steady each upscaled frame: detail drawn a "
                      "little differently in each frame is averaged where the aligned frames agree (default 1; 0: each "
                      "frame as the photo verb gives it)",
        model_help=f"{catalog.names(catalog.UPSCALE)}; from the Hub: {', '.join(catalog.HUB_UPSCALE)}; a ganapps checkpoint "
                   f"folder or Hub repo id (org/name[@revision]); or another project's upscaler: a .pth/.pt/.ckpt/.safetensors "
                   f"file, or a Hub file {HUB_FORM}",
    )
    p.add_argument("--scale", type=float,
                   help=f"any number from {MIN_SCALE} to {MAX_SCALE}, e.g. 2.5: the result is round(width x scale) by "
                        "round(height x scale) pixels (default 4, unless --width or --height is given)")
    p.add_argument("--width", type=int, help="the result's width in pixels, the aspect kept (instead of --scale)")
    p.add_argument("--height", type=int, help="the result's height in pixels; with --width, the result fits inside both")
    p.add_argument("--denoise", type=float, metavar="STRENGTH",
                   help="0..1, for models with a denoise twin: 0 keeps noise and grain, 1 removes them "
                        "(default: the model's own, in its model card; 0.5 for another project's pair)")
    p.add_argument("--mild", metavar="CHECKPOINT",
                   help="another project's upscaler: its denoise twin, the same architecture trained to keep noise "
                        "(e.g. realesr-general-wdn-x4v3.pth beside realesr-general-x4v3.pth)")
    p = _photo_command(sub, "derain", "remove rain from photos", model=next(iter(catalog.DERAIN)),
                       model_help=f"{catalog.names(catalog.DERAIN)}, or a derain checkpoint folder or Hub repo id; or another "
                                  f"project's deraining checkpoint ({', '.join(DERAINERS)}): a .pth/.safetensors file or a "
                                  f"Hub file {HUB_FORM}", tile=None,
                       tile_help=f"tile side in input pixels: bounds memory (default {DERAIN_TILE}: ours give the same result "
                                 f"at any tile; other projects' models {RESTORATION_TILE} (MPRNet {RESTORATION_TILES['MPRNet']}), run "
                                 "whole up to one window and "
                                 f"with a {RESTORATION_OVERLAP}-pixel overlap beyond it)",
                       temporal_help=f"neighbouring frames on each side (0..{MAX_TEMPORAL}) that take away the rain a frame "
                                     "kept: rain moves, the scene does not (default 0: frame by frame)")
    p.add_argument("--strength", type=float, default=1.0,
                   help="0..1: the share of the rain removed (1: all of it, 0.5: half; default 1)")

    p = sub.add_parser("evaluate", help="benchmark protocols (sr: PSNR/SSIM on Y of x4 super-resolution)")
    p.add_argument("task", choices=["sr", "derain"])
    p.add_argument("--data", nargs="+", help="sr: folders of ground-truth images (e.g. Set5 Set14)")
    p.add_argument("--scale", type=int, default=4, choices=range(2, MAX_SCALE + 1), metavar="2..8",
                   help="sr: downscale the ground truth this many times, and upscale it back (default 4)")
    p.add_argument("--models", nargs="+", default=list(reversed(catalog.UPSCALE)),
                   help=f"sr: models to compare (names, checkpoint files or {HUB_FORM})")
    p.add_argument("--jpeg", type=int, choices=range(1, 101), metavar="QUALITY",
                   help="sr: save the low-res inputs as JPEG of this quality (web photos)")
    p.add_argument("--rainy", help="derain: folder of rainy images")
    p.add_argument("--clean", help="derain: folder of clean images with the same file names")
    p.add_argument("--model", default=next(iter(catalog.DERAIN)), help="derain: the model")
    p.set_defaults(func=_evaluate)

    from .compare import MAX_MODELS, MIN_MODELS
    from .imaging import METADATA_CHOICES, OUTPUT_FORMATS

    p = sub.add_parser("compare", help=f"one photo through {MIN_MODELS}-{MAX_MODELS} models: each result and a side-by-side sheet")
    p.add_argument("verb", choices=["upscale", "derain"])
    p.add_argument("photo", help="the photo")
    p.add_argument("--models", nargs="+", required=True, help="the models, as upscale / derain take them (names, files, hf://)")
    p.add_argument("--out", required=True, help="folder for <photo>-<model>.<format> and <photo>-compare.png")
    p.add_argument("--scale", type=float, help="upscale: 1-8 (default 4)")
    p.add_argument("--width", type=int, help="upscale: the results' width instead of a scale")
    p.add_argument("--height", type=int, help="upscale: the results' height instead of a scale")
    p.add_argument("--strength", type=float, help="derain: 0..1 (default 1)")
    p.add_argument("--format", default="png", choices=list(OUTPUT_FORMATS))
    p.add_argument("--quality", type=int, metavar="1..100", help="for jpeg, webp and avif")
    p.add_argument("--metadata", default="keep", choices=METADATA_CHOICES)
    p.add_argument("--tile", type=int, help=f"tile side in input pixels (default: upscale {DEFAULT_TILE}, derain as derain's)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_compare)

    p = sub.add_parser("models", help="list the models the commands take by name: shipped ones by task, the Hub's upscalers")
    p.set_defaults(func=_models)

    p = sub.add_parser("interpolate", help="blend the weights of two models of one architecture (e.g. PSNR and GAN)")
    p.add_argument("first", help="checkpoint name, folder or Hub repo id (weight 0)")
    p.add_argument("second", help="the same architecture (weight 1)")
    p.add_argument("--weight", type=float, required=True, help="0..1: the share of the second model")
    p.add_argument("--out", required=True, help="model folder to write")
    p.set_defaults(func=_interpolate)

    p = sub.add_parser("pair", help="give an upscaling model a denoise control: its twin trained on mild degradations")
    p.add_argument("model", help="the model trained on web degradations (denoise strength 1)")
    p.add_argument("mild", help="the same architecture trained on noise-free degradations (strength 0)")
    p.add_argument("--default-denoise", type=float, required=True, help="0..1: the strength upscale uses by default")
    p.add_argument("--out", required=True, help="model folder to write")
    p.set_defaults(func=_pair)

    p = sub.add_parser("push", help="upload a checkpoint with its model card to the Hugging Face Hub")
    p.add_argument("name", help="checkpoint name or folder")
    p.add_argument("--repo-id", required=True)
    p.add_argument("--revision", help="branch to push to")
    p.add_argument("--private", action="store_true")
    p.set_defaults(func=_push)

    p = sub.add_parser("space", help="write the app as a folder ready to upload as a Hugging Face Space")
    p.add_argument("directory", help="new or empty folder to write")
    p.add_argument("--checkpoints", help="folder of the model folders to ship (default: checkpoints/)")
    p.set_defaults(func=_space)
    return parser


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
