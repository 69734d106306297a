"""Export the app as a Hugging Face Space: a folder to upload as it is, and nothing else in it.

``export_space(directory)`` writes::

    app.py            the app, unchanged
    LICENSE           the project's licence (MIT)
    ganapps/          the library (no __pycache__)
    checkpoints/      every shipped model folder, each checked to load strictly
    README.md         the project README with the Spaces front matter (sdk: gradio, the installed version)
    requirements.txt  the runtime packages only (requirements-app.txt): no pytest, no playwright
    .gitattributes    routes every binary and every file over 10 MB through LFS/Xet, as the Hub requires

Publish it with ``hf upload <you>/<space> <directory> . --repo-type=space`` or
``huggingface_hub.upload_folder(repo_id=..., folder_path=..., repo_type="space")``; both send the
binaries through LFS/Xet. ``hub.push`` stays the way to publish one model to a model repo.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import os
import shutil
import tempfile
from pathlib import Path

from . import hub

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_REQUIREMENTS = ROOT / "requirements-app.txt"
LARGE_FILE = 10_000_000  # bytes; the Hub refuses larger files outside LFS/Xet

# The Hub's default .gitattributes, plus images: model cards hold JPEG strips, and a Space refuses
# binary files that are not in LFS/Xet.
LFS_PATTERNS = (
    "*.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs.* *.mlmodel *.model *.msgpack *.npy *.npz"
    " *.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar *.safetensors saved_model/**/* *.tar.* *.tar"
    " *.tflite *.tgz *.wasm *.xz *.zip *.zst *tfevents*"
    " *.png *.jpg *.jpeg *.webp *.gif *.bmp *.tif *.tiff"
).split()
LFS_ATTRIBUTES = "filter=lfs diff=lfs merge=lfs -text"


def is_binary(path: Path) -> bool:
    """Binary as git decides it: a NUL byte in the first 8000 bytes."""
    with open(path, "rb") as f:
        return b"\0" in f.read(8000)


def _needs_lfs(path: Path) -> bool:
    return path.stat().st_size > LARGE_FILE or is_binary(path)


def _matches_lfs_pattern(relative: str) -> bool:
    """Whether a basename pattern of LFS_PATTERNS routes this file (patterns with a slash are not checked)."""
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, p) for p in LFS_PATTERNS if "/" not in p)


def _escape(relative: str) -> str:
    """A path as a .gitattributes pattern that matches exactly it."""
    for char in "\\*?[":
        relative = relative.replace(char, "\\" + char)
    return "/" + relative.replace(" ", "[[:space:]]")


def gitattributes(folder: Path) -> str:
    """The Space's .gitattributes: the pattern rules, plus one rule per binary or large file they miss."""
    lines = ["# Binary and large files go through LFS/Xet: the Hub refuses them as plain git objects."]
    lines += [f"{pattern} {LFS_ATTRIBUTES}" for pattern in LFS_PATTERNS]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if _needs_lfs(path) and not _matches_lfs_pattern(relative):
            lines.append(f"{_escape(relative)} {LFS_ATTRIBUTES}")
    return "\n".join(lines) + "\n"


def space_readme(readme: Path | None = None) -> str:
    """The project README, whose front matter (title, emoji, ...) is the Space's, with the keys a
    Space must have set: sdk gradio at the installed version, app.py."""
    path = readme or ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    if not (text.startswith("---\n") and "\n---\n" in text[3:]):
        raise ValueError(f"{path} has no Spaces front matter (a '---' block with title, emoji, sdk, ...)")
    head, text = text[4:].split("\n---\n", 1)
    meta = {}
    for line in head.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not line.startswith((" ", "#")):
            meta[key.strip()] = value.strip()
    meta.update(sdk="gradio", sdk_version=importlib.metadata.version("gradio"), app_file="app.py")
    front = "\n".join(f"{key}: {value}" for key, value in meta.items())
    return f"---\n{front}\n---\n{text}"


def runtime_requirements() -> str:
    """The runtime requirements file, as a Space installs it (no ``-r`` includes)."""
    if not RUNTIME_REQUIREMENTS.is_file():
        raise ValueError(f"no runtime requirements at {RUNTIME_REQUIREMENTS}; export from the project folder")
    text = RUNTIME_REQUIREMENTS.read_text(encoding="utf-8")
    if any(line.strip().startswith(("-r", "--requirement")) for line in text.splitlines()):
        raise ValueError(f"{RUNTIME_REQUIREMENTS.name} must list its packages itself, without -r includes")
    return text


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def export_space(directory: str | Path, *, checkpoints: str | Path | None = None) -> Path:
    """Write a Space-ready folder at ``directory`` (new or empty) and return it.

    ``checkpoints`` is the folder of model folders to ship (default: the project's ``checkpoints/``);
    every model in it must load strictly, so a broken model is never published. The folder is built
    beside its destination and renamed into place: a failed export leaves nothing behind, and an
    existing non-empty folder is refused, never overwritten.
    """
    directory = Path(directory).resolve()
    source = Path(checkpoints or hub.CHECKPOINTS).resolve()
    package = Path(__file__).resolve().parent
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValueError(f"{directory} exists and is not an empty folder; give a new or empty folder")
    if _inside(directory, package) or _inside(directory, source):
        raise ValueError(f"{directory} is inside what it would copy; give a folder elsewhere")
    names = [name for name in hub.available(source) if not name.startswith(".")]  # not save()'s leftovers
    if not names:
        raise ValueError(f"no models in {source}: a Space needs the shipped checkpoints")

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        shutil.copy2(ROOT / "app.py", staging / "app.py")
        shutil.copy2(ROOT / "LICENSE", staging / "LICENSE")  # the MIT licence travels with the code
        shutil.copytree(package, staging / "ganapps", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
        for name in names:
            target = staging / "checkpoints" / name
            shutil.copytree(source / name, target, ignore=shutil.ignore_patterns(".*"))
            try:
                hub.verify(str(target))  # the copy, strictly: every tensor must match its config
            except ValueError as err:  # a damaged file, weights that do not match the config, ...
                raise ValueError(f"model {name!r} in {source} does not load, so it is not exported: {err}") from err
        (staging / "README.md").write_text(space_readme(), encoding="utf-8")
        (staging / "requirements.txt").write_text(runtime_requirements(), encoding="utf-8")
        (staging / ".gitattributes").write_text(gitattributes(staging), encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp makes it private
        os.replace(staging, directory)  # an empty folder at the destination is replaced atomically
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def publish_commands(directory: str | Path, repo_id: str = "<you>/<space>") -> str:
    """How to publish an exported folder as a Space, with the hf command line or from Python."""
    return (
        f"hf upload {repo_id} {directory} . --repo-type=space      # creates a Gradio Space if it does not exist\n"
        f'python -c "from huggingface_hub import create_repo, upload_folder; '
        f"create_repo('{repo_id}', repo_type='space', space_sdk='gradio', exist_ok=True); "
        f"upload_folder(repo_id='{repo_id}', folder_path='{directory}', repo_type='space')\""
    )
