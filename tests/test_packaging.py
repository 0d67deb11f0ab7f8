"""qbhw as an installable package: one version, type hints marked, the device snapshots shipped as package data,
and (slow) a wheel built from the source, installed into a fresh virtual environment outside the source tree,
running ``qbhw devices`` and ``qbhw run charger --json`` with the default device."""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import qbhw

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DATA = ROOT / "qbhw" / "hardware" / "data"


def test_version_has_one_source() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "qbhw.__version__"}
    assert importlib.metadata.version("qbhw") == qbhw.__version__


def test_type_hints_are_marked() -> None:
    assert (ROOT / "qbhw" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["qbhw"]


def test_every_snapshot_file_is_package_data() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["qbhw.hardware"]
    files = sorted(p.name for p in DATA.iterdir() if p.is_file())
    assert "README.md" in files and "fake_torino.json" in files
    for name in files:
        assert any(fnmatch.fnmatch(f"data/{name}", pattern) for pattern in patterns), name


def _copy_source(dst: Path) -> Path:
    """The files a wheel is built from, copied so that the build leaves nothing in the worktree."""
    dst.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dst / name)
    shutil.copytree(ROOT / "qbhw", dst / "qbhw", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dst


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_runs_the_default_device(tmp_path: Path) -> None:
    if os.environ.get("QBHW_ENV") == "pulse":
        pytest.skip("the wheel does not depend on the environment; it is built and installed in the default one")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["QBHW_CALIBRATIONS"] = str(tmp_path / "user-calibrations")  # empty: only the packaged devices
    src = _copy_source(tmp_path / "src")
    wheels = tmp_path / "wheels"
    built = _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(wheels)], tmp_path, env)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = wheels.glob("qbhw-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("fake_torino.json", "fake_brisbane.json", "synthetic_cqed.json", "README.md"):
        assert f"qbhw/hardware/data/{name}" in names
    assert "qbhw/py.typed" in names

    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = _run([str(python), "-m", "pip", "install", "--no-compile", str(wheel)], tmp_path, env)
    assert installed.returncode == 0, installed.stderr[-3000:]

    work = tmp_path / "elsewhere"  # outside the source tree: nothing can be found relative to a checkout
    work.mkdir()
    where = _run([str(python), "-c", "import qbhw; print(qbhw.__file__)"], work, env)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    qbhw_cli = str(venv / "bin" / "qbhw")

    devices = _run([qbhw_cli, "devices", "--json"], work, env)
    assert devices.returncode == 0, devices.stderr
    listed = {d["name"]: d for d in json.loads(devices.stdout)["devices"]}
    assert {"fake_torino", "fake_brisbane", "synthetic_cqed"} <= set(listed)
    assert listed["fake_torino"]["default"] and listed["fake_torino"]["origin"] == "built-in"

    run = _run([qbhw_cli, "run", "charger", "--json"], work, env)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["device"] == "fake_torino" and result["qbhw_version"] == qbhw.__version__
    assert set(result) >= {"ideal", "circuit", "noisy", "measured"}
    assert list(work.iterdir()) == []  # nothing written without --out
