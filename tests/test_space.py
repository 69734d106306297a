"""python -m ganapps space: the exported folder alone runs the app, installs no test tools, and puts
every binary or large file in LFS/Xet, as the Hub requires of a Space."""

import ast
import importlib.metadata
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from gradio_client import Client

from ganapps.__main__ import main
from ganapps.space import LARGE_FILE, export_space, is_binary

from .conftest import ROOT, free_port

ENTRIES = {"app.py", "ganapps", "checkpoints", "README.md", "LICENSE", "requirements.txt", ".gitattributes"}
TEST_ONLY = {"pytest", "playwright", "gradio-client"}
GIT = shutil.which("git") or "/usr/bin/git"


@pytest.fixture(scope="module")
def space(tmp_path_factory) -> Path:
    return export_space(tmp_path_factory.mktemp("export") / "made")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(path: Path) -> set[str]:
    """Package names of a requirements file, following -r includes."""
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            names |= requirement_names(path.parent / line.split(None, 1)[1])
        elif line and not line.startswith("-"):
            names.add(normalize(re.match(r"[A-Za-z0-9._-]+", line).group()))
    return names


def third_party_imports(folder: Path) -> set[str]:
    """Top-level modules that app.py and ganapps/ import, other than the standard library and ganapps.

    An import guarded by ``except ImportError`` is optional (``spaces``, present on ZeroGPU Spaces only).
    """
    found = set()
    for path in [folder / "app.py", *(folder / "ganapps").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        optional = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.Try)
                    and any(getattr(h.type, "id", None) in ("ImportError", "ModuleNotFoundError") for h in node.handlers)
                    for statement in node.body for inner in ast.walk(statement)}
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"ganapps", "__future__"}


def lfs_files(folder: Path, paths: list[str]) -> set[str]:
    """Which of ``paths`` git routes through LFS, by the folder's own .gitattributes (git check-attr)."""
    work = Path(tempfile.mkdtemp(dir=folder.parent)) / folder.name
    shutil.copytree(folder, work)
    subprocess.run([GIT, "init", "-q"], cwd=work, check=True)
    out = subprocess.run([GIT, "check-attr", "-z", "--stdin", "filter"], cwd=work, check=True, capture_output=True,
                         input="\0".join(paths) + "\0", text=True).stdout.split("\0")
    return {path for path, _, value in zip(out[0::3], out[1::3], out[2::3]) if value == "lfs"}


def must_be_lfs(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and (p.stat().st_size > LARGE_FILE or is_binary(p)))


@pytest.mark.slow  # launches the exported app
def test_the_exported_folder_alone_serves_the_app(space, tmp_path):
    alone = tmp_path / "elsewhere" / "space"
    shutil.copytree(space, alone)
    assert not (alone / "tests").exists() and not (alone.parent.parent / "shared").exists()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False",
               OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    # The folder's own copy of ganapps is the one imported, not the project's.
    origin = subprocess.run([sys.executable, "-c", "import importlib.util; print(importlib.util.find_spec('ganapps').origin)"],
                            cwd=alone, env=env, check=True, capture_output=True, text=True).stdout.strip()
    assert Path(origin).resolve() == (alone / "ganapps" / "__init__.py").resolve()
    process = subprocess.Popen([sys.executable, "app.py"], cwd=alone, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"app.py exited: {process.stdout.read()}")
                if time.time() > deadline:
                    pytest.fail("app.py did not start in 120 s")
                time.sleep(0.5)
        result = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(3, 6, 0, api_name="/cgan_sample")
        assert len(result) == 6
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_requirements_are_the_runtime_ones_only(space):
    exported = requirement_names(space / "requirements.txt")
    assert not exported & TEST_ONLY, exported & TEST_ONLY
    assert exported == requirement_names(ROOT / "requirements-app.txt")
    distributions = importlib.metadata.packages_distributions()
    for module in third_party_imports(space):
        assert {normalize(d) for d in distributions.get(module, [module])} & exported, f"{module} is not required"
    # The project's requirements.txt still installs everything, for running and for testing.
    assert requirement_names(ROOT / "requirements.txt") >= exported | TEST_ONLY


def test_folder_holds_the_app_and_nothing_else(space):
    assert {p.name for p in space.iterdir()} == ENTRIES
    assert not [p for p in space.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]
    assert {p.name for p in (space / "checkpoints").iterdir()} == {p.name for p in (ROOT / "checkpoints").iterdir()
                                                                  if (p / "config.json").is_file()}
    readme = (space / "README.md").read_text()
    front = readme.split("---\n")[1]
    assert readme.startswith("---\n") and "\nsdk: gradio\n" in front and "\napp_file: app.py\n" in front
    assert f"\nsdk_version: {importlib.metadata.version('gradio')}\n" in front
    assert "# ganapps" in readme.split("---\n", 2)[2]


def test_every_binary_and_large_file_goes_through_lfs(space):
    paths = must_be_lfs(space)
    assert any(p.endswith(".safetensors") for p in paths) and any(p.endswith(".jpg") for p in paths)
    assert lfs_files(space, paths) == set(paths)
    assert "app.py" not in lfs_files(space, ["app.py", "README.md"])  # text stays plain git


def test_binaries_no_pattern_covers_get_their_own_rule(tmp_path):
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(ROOT / "checkpoints" / "cgan-mnist", checkpoints / "cgan-mnist")
    (checkpoints / "cgan-mnist" / "odd name.dat").write_bytes(b"\0\1\2" * 100)
    (checkpoints / "cgan-mnist" / "big.log").write_text("x" * (LARGE_FILE + 1))
    folder = export_space(tmp_path / "made", checkpoints=checkpoints)
    paths = must_be_lfs(folder)
    assert {"checkpoints/cgan-mnist/odd name.dat", "checkpoints/cgan-mnist/big.log"} <= set(paths)
    assert lfs_files(folder, paths) == set(paths)


def test_a_model_that_does_not_load_is_not_published(tmp_path):
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(ROOT / "checkpoints" / "cgan-mnist", checkpoints / "cgan-mnist")
    weights = checkpoints / "cgan-mnist" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ValueError, match="'cgan-mnist' .* does not load"):
        export_space(tmp_path / "out" / "made", checkpoints=checkpoints)
    assert list((tmp_path / "out").iterdir()) == []  # no folder, no staging left behind


def test_a_non_empty_folder_is_refused_and_left_alone(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not an empty folder"):
        export_space(folder)
    assert main(["space", str(folder)]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["notes.txt"] and (folder / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_the_command_line_prints_the_folder_and_how_to_publish(tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()  # an existing empty folder is fine
    assert main(["space", str(folder)]) == 0
    out = capsys.readouterr().out
    assert str(folder) in out and "--repo-type=space" in out and "repo_type='space'" in out
    assert {p.name for p in folder.iterdir()} == ENTRIES
