"""The package installs like any other: a wheel built from the clone gives a ``ganapps`` command that works
from any folder, with the shipped models inside it; and the code passes the lint settings in pyproject.toml."""

import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from .conftest import ROOT


@pytest.mark.slow  # builds and installs the wheel
def test_the_installed_command_works_from_any_folder_with_the_shipped_models(tmp_path):
    clone, wheels, target = tmp_path / "clone", tmp_path / "wheels", tmp_path / "site"
    # what a clone holds (the build writes into the folder it builds, so not into this one)
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(".*", "runs", "training", "build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(clone)], check=True, timeout=300)
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), *map(str, wheels.glob("*.whl"))], check=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    Image.new("RGB", (24, 16), (200, 120, 40)).save(elsewhere / "small.png")
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import ganapps, ganapps.hub as h; print(ganapps.__file__, h.CHECKPOINTS)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(path.startswith(str(target)) for path in where), where  # not the clone's copy
    command = target / "bin" / "ganapps"
    result = subprocess.run([str(command), "upscale", "small.png", "--model", "photo-x4-psnr", "--out", "out"],
                            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert Image.open(elsewhere / "out" / "small.png").size == (96, 64)


def test_the_code_passes_the_lint_settings():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
