"""The command line's contract on bad input (issue 10 item 4): every failure a user can reach ends as ONE line on
stderr that names the flag or file and what is allowed, exit status 2 (1 only for qbhw's own bug, said so in the
line; 130 for an interrupt), no traceback, and nothing written.

``CATALOGUE`` is one table of bad inputs grouped by kind (values, ranges, sizes, files, devices, os, interruption).
Other subcommands add their rows here: a row is the argv (``{tmp}`` is a fresh folder), the flag (``--x``) or file
(``{tmp}/...``) the line must name, optional text it must contain, and optional ``setup`` (files to create) and
``patch`` (an OS or numerical failure to simulate, with pytest's monkeypatch). Each row is run in-process; the
test checks the status, the single stderr line, the name (a flag must be one of the command's ``--help``), no
traceback, empty stdout, and that no file under ``{tmp}`` or the working folder was created or changed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from qbhw.cli import main


@dataclass(frozen=True)
class Bad:
    """One bad input (module docstring). ``allowed``: paths (relative to ``{tmp}``) a row may leave behind (a
    sweep's stored points, which a rerun resumes from)."""

    kind: str
    id: str
    argv: tuple[str, ...]
    names: str
    needle: str = ""
    status: int = 2
    setup: Callable[[Path], object] | None = None
    patch: Callable[[pytest.MonkeyPatch, Path], None] | None = None
    allowed: tuple[str, ...] = ()
    needs_runtime: bool = False
    known_flag: bool = True  # False: the row's point is a flag the command does not have
    without_dynamics: bool = False  # the row needs an environment without qiskit-dynamics (the default one)


def _has_runtime() -> bool:
    try:
        import qiskit_ibm_runtime  # noqa: F401
    except ImportError:
        return False
    return True


def _has_dynamics() -> bool:
    from qbhw.pulse import dynamics_available

    return dynamics_available()


# ------------------------------------------------------------------------------------------ file set-ups


def _write(name: str, text: str | bytes) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    return setup


def _small_device(tmp: Path) -> None:
    from qbhw.hardware import default_device, restrict, save_calibration

    save_calibration(restrict(default_device(), (28, 29)), tmp / "two_qubits.json")


def _fixed_cqed(tmp: Path) -> None:
    """synthetic_cqed with every transmon fixed-frequency (no tunable_range_ghz): no flux pulse reaches a resonator."""
    import dataclasses

    from qbhw.hardware import load_calibration, save_calibration

    cal = load_calibration("synthetic_cqed")
    qubits = tuple(dataclasses.replace(q, tunable_range_ghz=None, flux_rise_ns=None) for q in cal.qubits)
    save_calibration(dataclasses.replace(cal, name="fixed_cqed", qubits=qubits), tmp / "fixed_cqed.json")


def _stored_point(text: str) -> Callable[[Path], None]:
    return _write("sweep/points/point_0000.json", text)


@contextlib.contextmanager
def _nothing() -> object:
    yield


def _locked(tmp: Path) -> object:
    """Another process holds the folder's lock: the same flock taken on another open file description."""
    from qbhw._files import folder_lock

    (tmp / "busy").mkdir()
    stack = contextlib.ExitStack()
    stack.enter_context(folder_lock(tmp / "busy", owner="qbhw run charger (another user)"))
    return stack


# ---------------------------------------------------------------------------------------- failure patches


def _raise_in_run(exc: BaseException) -> Callable[[pytest.MonkeyPatch, Path], None]:
    def patch(mp: pytest.MonkeyPatch, tmp: Path) -> None:
        from qbhw.experiments import sweep

        def fail(*args, **kwargs):
            raise exc

        mp.setattr(sweep, "run_point", fail)

    return patch


def _raise_in_ideal(exc: BaseException) -> Callable[[pytest.MonkeyPatch, Path], None]:
    def patch(mp: pytest.MonkeyPatch, tmp: Path) -> None:
        from qbhw.models import charger

        def fail(*args, **kwargs):
            raise exc

        mp.setattr(charger, "evolve", fail)

    return patch


def _nan_ideal(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    import dataclasses

    from qbhw.models import charger

    real = charger.evolve
    mp.setattr(charger, "evolve", lambda *a, **k: dataclasses.replace(real(*a, **k), energy=float("nan")))


def _fake_points(mp: pytest.MonkeyPatch, record) -> None:
    import dataclasses

    from qbhw.experiments import sweep

    mp.setattr(sweep, "run_point", lambda exp, *a: dataclasses.replace(record, spawn_key=exp.spawn_key))


def _disk_full(only: Callable[[str], bool]) -> Callable[[pytest.MonkeyPatch, Path], None]:
    """ENOSPC from the temporary file of every atomic write whose target name passes ``only``; the points are
    computed by a fake (the record of a real charger point) so that the row costs no simulation."""

    def patch(mp: pytest.MonkeyPatch, tmp: Path) -> None:
        import tempfile

        import qbhw._files

        real = tempfile.mkstemp

        def mkstemp(*args, prefix: str = "", **kwargs):
            if only(prefix):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(*args, prefix=prefix, **kwargs)

        mp.setattr(qbhw._files.tempfile, "mkstemp", mkstemp)
        _fake_points(mp, _RECORD[0])

    return patch


def _interrupt_after_one_point(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """The first point finishes (and is stored), Ctrl-C arrives during the second."""
    import dataclasses

    from qbhw.experiments import sweep

    def run_point(exp, *args):
        if exp.spawn_key != (0,):
            raise KeyboardInterrupt
        return dataclasses.replace(_RECORD[0], spawn_key=exp.spawn_key)

    mp.setattr(sweep, "run_point", run_point)


def _no_dask(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """The distributed extra is not installed (an import of it fails)."""
    mp.setitem(sys.modules, "distributed", None)


def _quick_connect(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    pytest.importorskip("distributed")
    from qbhw.experiments import job

    mp.setattr(job, "_DASK_CONNECT_S", 0.5)


def _vanishing_calibration(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """The calibration file disappears between the name lookup and the read."""
    from qbhw.hardware import calibration_io

    real = calibration_io.os.stat

    def stat(path, *args, **kwargs):
        if str(path).endswith("gone.json") and not kwargs:  # the reader's stat, not a listing's lstat
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        return real(path, *args, **kwargs)

    mp.setattr(calibration_io.os, "stat", stat)


#: filled by the ``record`` fixture: a real PointRecord for rows whose points are faked
_RECORD: list = []

RUN_CH = ("run", "charger")
RUN_MM = ("run", "micromaser")
RUN_TG = ("run", "thermal-gradient")
RUN_CO = ("run", "collective", "--n", "3", "--temperature", "2")
PULSE_MM = ("pulse", "micromaser")
PULSE_CH = ("pulse", "charger")
PULSE_TG = ("pulse", "thermal-gradient")
LONG = "x" * 300

CATALOGUE: tuple[Bad, ...] = (
    # ---------------------------------------------------------------- values: wrong type, not finite, out of range
    Bad("values", "omega-b-negative", ("ideal", "charger", "--omega-b", "-1"), "--omega-b", "> 0"),
    Bad("values", "j1-nan", ("ideal", "charger", "--j1", "nan"), "--j1", "finite"),
    Bad("values", "omega-b-1e308", ("ideal", "charger", "--omega-b", "1e308"), "--omega-b"),
    Bad("values", "time-inf", ("ideal", "charger", "--time", "inf"), "--time", "finite"),
    Bad("values", "j2-text", ("ideal", "charger", "--j2", "abc"), "--j2", "invalid float"),
    Bad("values", "unknown-flag", ("ideal", "charger", "--bogus", "1"), "--bogus", "unrecognized", known_flag=False),
    Bad("values", "gamma-zero", ("ideal", "thermal-gradient", "--gamma", "0"), "--gamma", "> 0"),
    Bad("values", "omega-a-1e308", ("ideal", "thermal-gradient", "--omega-a", "1e308"), "--omega-a"),
    Bad(
        "values", "master-equation", ("ideal", "thermal-gradient", "--master-equation", "redfield"), "--master-equation"
    ),
    Bad("values", "time-and-cycle", ("ideal", "thermal-gradient", "--time", "1", "--cycle-time", "1"), "--time"),
    Bad("values", "n-zero", ("ideal", "collective", "--n", "0", "--temperature", "2"), "--n", ">= 1"),
    Bad("values", "n-fraction", ("ideal", "collective", "--n", "2.5", "--temperature", "2"), "--n", "invalid int"),
    Bad("values", "temperature-1e308", ("ideal", "collective", "--n", "4", "--temperature", "1e308"), "--temperature"),
    Bad("values", "p-excited", ("ideal", "micromaser", "--p-excited", "1.5"), "--p-excited", "[0, 1]"),
    Bad("values", "g-tau-1e308", ("ideal", "micromaser", "--g-tau", "1e308"), "--g-tau"),
    Bad("values", "coupling", ("ideal", "micromaser", "--coupling", "rabi"), "--coupling", "invalid choice"),
    Bad("values", "seed-negative", (*RUN_CH, "--seed", "-1"), "--seed", ">= 0"),
    Bad("values", "seed-text", (*RUN_CH, "--seed", "x"), "--seed", "invalid int"),
    Bad("values", "dicke-for-charger", (*RUN_CH, "--estimator", "dicke-z"), "--estimator", "full-pauli"),
    Bad("values", "theta-1e308", (*RUN_CO, "--theta", "1e308", "--shots", "0"), "--theta", "(0, pi]"),
    Bad("values", "coherence", (*RUN_MM, "--coherence", "-0.1"), "--coherence", "[0, 1]"),
    Bad("values", "plot-figure", (*RUN_CH, "--plot", "entropy"), "--plot", "invalid choice"),
    Bad("values", "measurement", (*RUN_CH, "--measurement", "tomography"), "--measurement", "invalid choice"),
    # the thermal-gradient limit cycle (issue 14 item 6) and the micromaser's cavity loss (item 7)
    Bad("values", "run-time-and-cycle", (*RUN_TG, "--cycle-time", "10", "--time", "1"), "--time", "--cycle-time"),
    Bad("values", "cycle-time-zero", (*RUN_TG, "--cycle-time", "0"), "--cycle-time", "> 0"),
    Bad("values", "cycle-time-negative", (*RUN_TG, "--cycle-time", "-3"), "--cycle-time", "> 0"),
    Bad("values", "cycle-time-inf", (*RUN_TG, "--cycle-time", "inf"), "--cycle-time", "finite"),
    Bad("values", "cycles-without-cycle", (*RUN_TG, "--cycles", "5"), "--cycles", "only with --cycle-time"),
    Bad("values", "cycles-zero", (*RUN_TG, "--cycle-time", "10", "--cycles", "0"), "--cycles", ">= 1"),
    Bad("values", "plot-work-without-cycle", (*RUN_CH, "--plot", "work"), "--plot", "--cycle-time"),
    Bad("values", "cycle-layouts", (*RUN_TG, "--cycle-time", "10", "--layouts", "2"), "--layouts", "--cycle-time"),
    Bad(
        "values",
        "cycle-steps-too-few",
        (*RUN_TG, "--cycle-time", "10", "--steps", "1", "--shots", "0"),
        "--steps",
        "local-ME cycle",
    ),
    Bad(
        "values",
        "cycle-time-too-short",
        (*RUN_TG, "--cycle-time", "0.05", "--shots", "0"),
        "--cycle-time",
        "<= 100 cycles",
    ),
    Bad("values", "cavity-loss-unmatched", (*RUN_MM, "--cavity-loss", "0.5", "--cutoff", "8"), "--cavity-loss"),
    Bad("values", "thermal-photons-negative", (*RUN_MM, "--thermal-photons", "-1"), "--thermal-photons", ">= 0"),
    Bad(
        "values",
        "cavity-loss-cutoff",  # the defaults' cavity (g_tau = pi/sqrt(10)) fills levels 8 and 9 in 10 collisions
        (*RUN_MM, "--cavity-loss", "0.01", "--collisions", "10", "--cutoff", "8"),
        "--cutoff",
        "large enough for the physical cavity",
    ),
    # ----------------------------------------------------------------------------------- ranges of a sweep flag
    Bad("ranges", "reversed", (*RUN_CH, "--time", "1:0:0.1"), "--time", "non-empty range"),
    Bad("ranges", "zero-step", (*RUN_CH, "--time", "0:1:0"), "--time", "step > 0"),
    Bad("ranges", "infinite-stop", (*RUN_CH, "--time", "0:inf:1"), "--time", "finite"),
    Bad("ranges", "empty-parts", (*RUN_CH, "--time", "::"), "--time", "range start:stop:step"),
    Bad("ranges", "overflowing-count", (*RUN_CH, "--time", "0:1e308:1e-308"), "--time", "at most 1000 points"),
    Bad("ranges", "too-many-points", (*RUN_CH, "--time", "0:1:1e-300"), "--time", "at most 1000 points"),
    Bad("ranges", "four-parts", (*RUN_CO, "--time", "0:1:2:3"), "--time", "range start:stop:step"),
    Bad("ranges", "integer-zero-step", (*RUN_MM, "--collisions", "0:10:0"), "--collisions", "step > 0"),
    Bad("ranges", "integer-fraction", (*RUN_MM, "--collisions", "1.5:3:1"), "--collisions", "integer"),
    Bad("ranges", "integer-too-many", (*RUN_MM, "--collisions", "0:100000:1"), "--collisions", "1000 points"),
    Bad("ranges", "cycle-time-reversed", (*RUN_TG, "--cycle-time", "20:10:1"), "--cycle-time", "non-empty range"),
    Bad(
        "ranges",
        "two-ranges",
        (*RUN_TG, "--cycle-time", "1:20:1", "--time", "2:3:1"),
        "--cycle-time",
        "one quantity is swept at a time",
    ),
    # --------------------------------------------------------------------------- sizes: refused before any work
    Bad("sizes", "shots-below-settings", (*RUN_CH, "--shots", "5"), "--shots", ">= 9"),
    Bad("sizes", "shots-huge-integer", (*RUN_CH, "--shots", "99999999999999999999999"), "--shots", "<= 1e+08"),
    Bad("sizes", "shots-1e12", (*RUN_CH, "--shots", "1000000000000"), "--shots", "<= 1e+08"),
    Bad(
        "sizes",
        "shots-per-setting",
        ("run", "collective", "--n", "5", "--temperature", "2", "--estimator", "dicke-z", "--shots", "30000000"),
        "--shots",
        "per setting",
    ),
    Bad("sizes", "bootstrap-huge", (*RUN_CH, "--bootstrap", "99999999999999"), "--bootstrap", "<= 1e+05"),
    Bad("sizes", "bootstrap-one", (*RUN_CH, "--bootstrap", "1"), "--bootstrap", ">= 2"),
    Bad(
        "sizes",
        "bootstrap-settings",
        ("run", "collective", "--n", "6", "--temperature", "2", "--bootstrap", "5000"),
        "--bootstrap",
        "729 settings",
    ),
    Bad("sizes", "workers-zero", (*RUN_CH, "--workers", "0"), "--workers", ">= 1"),
    Bad("sizes", "workers-huge", (*RUN_CH, "--workers", "100000"), "--workers", "<= 32"),
    Bad(
        "sizes",
        "workers-memory",
        (*RUN_CH, "--time", "0:1:0.1", "--shots", "90000000", "--workers", "11"),
        "--workers",
        "GiB",
    ),
    Bad("sizes", "job-shots", (*RUN_CH, "--time", "0:1:0.002", "--shots", "9000000"), "--shots", "summed over"),
    Bad("sizes", "layouts-zero", (*RUN_CH, "--layouts", "0"), "--layouts", ">= 1"),
    Bad("sizes", "layouts-many", (*RUN_CH, "--layouts", "11"), "--layouts", "<= 10"),
    Bad("sizes", "cavity-cutoff", (*RUN_MM, "--cutoff", "64"), "--cutoff", "<= 16"),
    Bad("sizes", "circuit-collisions", (*RUN_MM, "--collisions", "100000", "--shots", "0"), "--collisions", "<= 60"),
    Bad("sizes", "trotter-steps", (*RUN_TG, "--steps", "99999999999", "--shots", "0"), "--steps", "<= 10000"),
    Bad("sizes", "steps-from-time", (*RUN_TG, "--time", "1e6", "--shots", "0"), "--time", "at most 10000"),
    Bad("sizes", "steps-from-cycle-time", (*RUN_TG, "--cycle-time", "1e308"), "--cycle-time", "at most 10000"),
    Bad("sizes", "cycle-steps", (*RUN_TG, "--cycle-time", "10", "--steps", "20000"), "--steps", "<= 10000"),
    Bad("sizes", "cycles-steps", (*RUN_TG, "--cycle-time", "10", "--cycles", "100000"), "--cycles", "10000 steps"),
    Bad("sizes", "cycle-shots", (*RUN_TG, "--cycle-time", "10", "--shots", "60000000"), "--shots", "two circuits"),
    Bad(
        "sizes",
        "cycle-job-shots",
        (*RUN_TG, "--cycle-time", "1:1000:1", "--shots", "9000000"),
        "--shots",
        "summed over the 1000 points",
    ),
    Bad(
        "sizes",
        "loss-collisions",
        (*RUN_MM, "--cavity-loss", "0.01", "--collisions", "60", "--cutoff", "8", "--g-tau", "1.1107207345"),
        "--collisions",
        "with --cavity-loss",
    ),
    Bad("sizes", "ancilla-collisions", (*RUN_CO, "--collisions", "999999999", "--shots", "0"), "--collisions"),
    Bad("sizes", "collisions-from-time", (*RUN_CO, "--time", "1000", "--shots", "0"), "--time", "at most 2000"),
    Bad("sizes", "collisions-overflow", (*RUN_CO, "--time", "1e308", "--shots", "0"), "--time", "at most 2000"),
    Bad("sizes", "register-cells", ("run", "collective", "--n", "7", "--temperature", "2"), "--n", "<= 6"),
    Bad("sizes", "ideal-n", ("ideal", "collective", "--n", "99999999999999999999", "--temperature", "2"), "--n"),
    Bad("sizes", "ideal-cutoff", ("ideal", "micromaser", "--cutoff", "100000"), "--cutoff", "<= 300"),
    Bad(
        "sizes", "ideal-collisions", ("ideal", "micromaser", "--collisions", "99999999999999999999999"), "--collisions"
    ),
    # -------------------------------------------------------------------------------------------- files
    Bad("files", "missing-calibration", (*RUN_CH, "--device", "{tmp}/missing.json"), "{tmp}/missing.json", "not found"),
    Bad(
        "files",
        "malformed-json",
        (*RUN_CH, "--device", "{tmp}/bad.json"),
        "{tmp}/bad.json",
        "not valid JSON",
        setup=_write("bad.json", "{"),
    ),
    Bad(
        "files",
        "json-list",
        (*RUN_CH, "--device", "{tmp}/list.json"),
        "{tmp}/list.json",
        "JSON object",
        setup=_write("list.json", "[]"),
    ),
    Bad(
        "files",
        "json-deep",
        (*RUN_CH, "--device", "{tmp}/deep.json"),
        "{tmp}/deep.json",
        "nested",
        setup=_write("deep.json", "[" * 100_000 + "]" * 100_000),
    ),
    Bad(
        "files",
        "json-nan-fields",
        (*RUN_CH, "--device", "{tmp}/nan.json"),
        "{tmp}/nan.json",
        setup=_write("nan.json", '{"schema_version": 1, "name": "x", "qubits": [{"t1_us": NaN}]}'),
    ),
    Bad(
        "files",
        "json-binary",
        (*RUN_CH, "--device", "{tmp}/bin.json"),
        "{tmp}/bin.json",
        "UTF-8",
        setup=_write("bin.json", b"\xff\xfe\x00garbage"),
    ),
    Bad(
        "files",
        "json-huge-number",
        (*RUN_CH, "--device", "{tmp}/num.json"),
        "{tmp}/num.json",
        setup=_write("num.json", '{"schema_version": 1e999999}'),
    ),
    Bad(
        "files",
        "calibration-folder",
        (*RUN_CH, "--device", "{tmp}/folder"),
        "{tmp}/folder",
        "directory",
        setup=lambda tmp: (tmp / "folder").mkdir(),
    ),
    Bad("files", "calibration-device-file", (*RUN_CH, "--device", "/dev/null"), "/dev/null", "regular file"),
    Bad(
        "files",
        "vanished-calibration",
        (*RUN_CH, "--device", "{tmp}/gone.json"),
        "{tmp}/gone.json",
        "not found",
        setup=_write("gone.json", "{}"),
        patch=_vanishing_calibration,
    ),
    Bad("files", "out-empty", (*RUN_CH, "--out", ""), "--out", "empty"),
    Bad("files", "out-blank", (*RUN_CH, "--out", "  "), "--out", "empty"),
    Bad(
        "files", "out-is-a-file", (*RUN_CH, "--out", "{tmp}/file"), "--out", "existing file", setup=_write("file", "x")
    ),
    Bad(
        "files",
        "out-under-a-file",
        (*RUN_CH, "--out", "{tmp}/file/sub"),
        "--out",
        "can be written",
        setup=_write("file", "x"),
    ),
    Bad("files", "out-name-too-long", (*RUN_CH, "--out", "{tmp}/" + LONG), "--out", "too long"),
    Bad("files", "out-kernel-refuses", (*RUN_CH, "--out", "/proc/qbhw-out"), "--out", "can be written"),
    Bad(
        "files",
        "out-has-a-result",
        (*RUN_CH, "--out", "{tmp}/done"),
        "--out",
        "--force",
        setup=_write("done/result.json", "{}"),
    ),
    Bad(
        "files",
        "out-unreadable-point",
        (*RUN_CH, "--shots", "0", "--out", "{tmp}/sweep"),
        "{tmp}/sweep/points/point_0000.json",
        "not a readable point file",
        setup=_stored_point("{not json"),
    ),
    Bad(
        "files",
        "out-point-of-another-run",
        (*RUN_CH, "--shots", "0", "--out", "{tmp}/sweep"),
        "{tmp}/sweep/points/point_0000.json",
        "different experiment",
        setup=_stored_point('{"fingerprint": "x", "experiment": "y", "point": {}}'),
    ),
    Bad(
        "files",
        "out-point-wrong-shape",
        (*RUN_CH, "--shots", "0", "--out", "{tmp}/sweep"),
        "{tmp}/sweep/points/point_0000.json",
        setup=_stored_point("[[[1]]]"),
    ),
    Bad("files", "out-in-use", (*RUN_CH, "--shots", "0", "--out", "{tmp}/busy"), "--out", "in use", setup=_locked),
    # ------------------------------------------------------------------------------------------ devices
    Bad("devices", "unknown-device", (*RUN_CH, "--device", "no_such_device"), "--device", "no_such_device"),
    Bad("devices", "empty-device", (*RUN_CH, "--device", ""), "--device", "empty"),
    # the native cavity-QED micromaser (qbhw.experiments.native)
    Bad(
        "devices",
        "native-no-tunable-transmon",
        (*RUN_MM, "--device", "{tmp}/fixed_cqed.json", "--collisions", "2", "--cutoff", "6"),
        "--device",
        "flux-tunable",
        setup=_fixed_cqed,
    ),
    Bad(
        "devices",
        "native-cutoff-too-small",
        (*RUN_MM, "--device", "synthetic_cqed", "--collisions", "2", "--cutoff", "3"),
        "--cutoff",
        "raise --cutoff",
    ),
    Bad(
        "devices",
        "native-shots-below-grid",
        (*RUN_MM, "--device", "synthetic_cqed", "--cutoff", "6", "--shots", "10"),
        "--shots",
        "67-point grid",
    ),
    # pulse-informed collision noise on the encoded micromaser (qbhw.experiments.pulse_noise)
    Bad(
        "devices",
        "noise-pulse-transmon-only",
        (*RUN_MM, "--device", "fake_torino", "--noise", "pulse", "--collisions", "2"),
        "--noise",
        "storage resonator",
    ),
    Bad(
        "devices",
        "noise-pulse-measurement-circuits",
        (*RUN_MM, "--device", "synthetic_cqed", "--noise", "pulse", "--collisions", "2", "--measurement", "circuits"),
        "--measurement",
        "--noise pulse",
    ),
    Bad(
        "devices",
        "noise-pulse-layouts",
        (*RUN_MM, "--device", "synthetic_cqed", "--noise", "pulse", "--collisions", "2", "--layouts", "2"),
        "--layouts",
        "--noise pulse",
    ),
    Bad(
        "devices",
        "imperfections-without-pulse-level",
        (*RUN_MM, "--device", "fake_torino", "--collisions", "2", "--imperfections", "none"),
        "--imperfections",
        "--noise pulse",
    ),
    Bad(
        "values",
        "imperfections-unknown",
        (*RUN_MM, "--device", "synthetic_cqed", "--noise", "pulse", "--collisions", "2", "--imperfections", "nope"),
        "--imperfections",
        "comma-separated",
    ),
    Bad(
        "devices",
        "noise-pulse-cavity-loss",
        (*RUN_MM, "--device", "synthetic_cqed", "--noise", "pulse", "--collisions", "2", "--cavity-loss", "0.1"),
        "--cavity-loss",
        "kappa",
    ),
    Bad("devices", "native-layouts", (*RUN_MM, "--device", "synthetic_cqed", "--layouts", "2"), "--layouts", "native"),
    Bad(
        "devices",
        "device-too-small",
        (*RUN_CO, "--shots", "0", "--device", "{tmp}/two_qubits.json"),
        "--device",
        "at least",
        setup=_small_device,
    ),
    Bad("devices", "import-unknown", ("devices", "import", "FakeNowhere"), "FakeNowhere", needs_runtime=True),
    Bad("devices", "import-out-empty", ("devices", "import", "FakeTorino", "--out", ""), "--out", "empty"),
    Bad(
        "devices",
        "import-out-too-long",
        ("devices", "import", "FakeTorino", "--out", "{tmp}/" + LONG + ".json"),
        "--out",
        "too long",
    ),
    Bad("devices", "import-out-directory", ("devices", "import", "FakeTorino", "--out", "{tmp}"), "--out", "directory"),
    Bad(
        "devices",
        "import-out-exists",
        ("devices", "import", "FakeTorino", "--out", "{tmp}/t.json"),
        "{tmp}/t.json",
        "--force",
        setup=_write("t.json", "keep me"),
    ),
    Bad(
        "devices",
        "import-out-kernel-refuses",
        ("devices", "import", "FakeTorino", "--out", "/proc/x.json"),
        "/proc/x.json",
        "cannot write",
        needs_runtime=True,
    ),
    # --------------------------------------------------------------------------- os and numerical failures
    Bad(
        "os",
        "disk-full-point",
        (*RUN_CH, "--out", "{tmp}/full"),
        "--out",
        "No space left",
        patch=_disk_full(lambda prefix: True),
    ),
    Bad(
        "os",
        "disk-full-results",
        (*RUN_CH, "--out", "{tmp}/full"),
        "--out",
        "No space left",
        patch=_disk_full(lambda prefix: not prefix.startswith(".point_")),
        allowed=("full",),
    ),
    Bad("os", "memory", (*RUN_CH, "--shots", "900"), "--shots", "out of memory", patch=_raise_in_run(MemoryError())),
    Bad("os", "memory-at-defaults", RUN_CH, "", "out of memory", status=1, patch=_raise_in_run(MemoryError())),
    Bad(
        "os",
        "linear-algebra",
        ("ideal", "charger", "--j1", "3"),
        "--j1",
        "LinAlgError",
        patch=_raise_in_ideal(np.linalg.LinAlgError("Singular matrix")),
    ),
    Bad(
        "os",
        "overflow",
        ("ideal", "charger", "--omega-c", "2"),
        "--omega-c",
        "OverflowError",
        patch=_raise_in_ideal(OverflowError("(34, 'Numerical result out of range')")),
    ),
    Bad(
        "os",
        "floating-point",
        ("ideal", "charger", "--time", "7"),
        "--time",
        "FloatingPointError",
        patch=_raise_in_ideal(FloatingPointError("overflow encountered")),
    ),
    Bad(
        "os",
        "recursion",
        ("ideal", "charger", "--j2", "2"),
        "--j2",
        "recursed",
        patch=_raise_in_ideal(RecursionError("maximum recursion depth exceeded")),
    ),
    Bad("os", "non-finite-result", ("ideal", "charger", "--j2", "2"), "--j2", "not finite", patch=_nan_ideal),
    Bad(
        "os",
        "os-error-elsewhere",
        (*RUN_CH, "--shots", "900"),
        "/some/file",
        "Input/output error",
        patch=_raise_in_run(OSError(errno.EIO, os.strerror(errno.EIO), "/some/file")),
    ),
    Bad(
        "os",
        "scheduler-extra-missing",
        (*RUN_CH, "--time", "0:0.2:0.2", "--scheduler", "tcp://127.0.0.1:1"),
        "--scheduler",
        "pip install 'qbhw[distributed]'",
        patch=_no_dask,
    ),
    Bad(
        "os",
        "scheduler-unreachable",
        (*RUN_CH, "--time", "0:0.2:0.2", "--scheduler", "tcp://127.0.0.1:1"),
        "--scheduler",
        "running Dask scheduler",
        patch=_quick_connect,
    ),
    # ------------------------------------------------------------------------- qbhw pulse (issue 12 item 7)
    Bad("values", "pulse-levels-one", (*PULSE_MM, "--levels", "1"), "--levels", ">= 2"),
    Bad(
        "values", "pulse-levels-without-imperfection", (*PULSE_MM, "--levels", "3", "--imperfections", "t1"), "--levels"
    ),
    Bad("values", "pulse-engine", (*PULSE_MM, "--engine", "magic"), "--engine", "invalid choice"),
    Bad(
        "values",
        "pulse-dynamics-elsewhere",
        (*PULSE_MM, "--engine", "dynamics"),
        "pulse environment",
        "make env-pulse",
        without_dynamics=True,
    ),
    Bad("values", "pulse-imperfection", (*PULSE_MM, "--imperfections", "levels,foo"), "--imperfections", "'foo'"),
    Bad("values", "pulse-drive-negative", (*PULSE_MM, "--drive-ns", "-5"), "--drive-ns", "> 0"),
    Bad("values", "pulse-coupling-negative", (*PULSE_MM, "--coupling-mhz", "-5"), "--coupling-mhz", ">= 0"),
    Bad("values", "pulse-coupling-nan", (*PULSE_MM, "--coupling-mhz", "nan"), "--coupling-mhz", "finite"),
    Bad(
        "values",
        "pulse-harmonic-transmon",
        (*PULSE_MM, "--anharmonicity-mhz", "0", "--imperfections", "levels"),
        "--anharmonicity-mhz",
        "non-zero",
    ),
    Bad("values", "pulse-preparation", (*PULSE_MM, "--preparation", "magic"), "--preparation", "invalid choice"),
    Bad("values", "pulse-budget-range", (*PULSE_MM, "--budget", "--collisions", "1:3:1"), "--budget", "one collision"),
    Bad("values", "pulse-budget-none", (*PULSE_MM, "--budget", "--imperfections", "none"), "--imperfections", "'all'"),
    Bad("values", "pulse-charger-time", (*PULSE_CH, "--time", "-1"), "--time", ">= 0"),
    Bad("values", "pulse-charger-pair", (*PULSE_CH, "--pair", "x"), "--pair", "A,B"),
    Bad("values", "pulse-charger-pair-missing", (*PULSE_CH, "--pair", "0,7"), "--pair", "0..3"),
    Bad("values", "pulse-tg-cycle", (*PULSE_TG, "--cycle-time-us", "-1"), "--cycle-time-us", "> 0"),
    Bad("values", "pulse-tg-kappa", (*PULSE_TG, "--bath-kappa-mhz", "-1"), "--bath-kappa-mhz", "> 0"),
    Bad("values", "pulse-tg-photons", (*PULSE_TG, "--bath-photons", "-1"), "--bath-photons", "> 0"),
    Bad("values", "pulse-tg-coupling", (*PULSE_TG, "--bath-coupling-mhz", "0"), "--bath-coupling-mhz", "> 0"),
    Bad("ranges", "pulse-collisions-reversed", (*PULSE_MM, "--collisions", "5:1:1"), "--collisions", "non-empty"),
    Bad("ranges", "pulse-charger-time-step", (*PULSE_CH, "--time", "0:1:0"), "--time", "step > 0"),
    Bad("sizes", "pulse-cutoff-huge", (*PULSE_MM, "--cutoff", "100000"), "--cutoff", "<= 300"),
    Bad(
        "sizes",
        "pulse-cutoff-map",
        (*PULSE_MM, "--imperfections", "levels", "--levels", "8", "--cutoff", "30"),
        "--cutoff",
        "at most 25",
    ),
    Bad("sizes", "pulse-levels-huge", (*PULSE_MM, "--imperfections", "levels", "--levels", "100"), "--levels"),
    Bad("sizes", "pulse-pair-levels", (*PULSE_TG, "--imperfections", "levels", "--levels", "9"), "--levels", "<= 6"),
    Bad("sizes", "pulse-tg-bath-cutoff", (*PULSE_TG, "--bath-cutoff", "1"), "--bath-cutoff", ">= 2"),
    Bad(
        "sizes",
        "pulse-cutoff-outgrown",
        (*PULSE_MM, "--cutoff", "3", "--collisions", "5", "--quiet", "--out", "{tmp}/mm"),
        "--cutoff",
        "raise --cutoff",
    ),
    Bad("files", "pulse-out-empty", (*PULSE_MM, "--out", " "), "--out", "empty"),
    Bad(
        "files",
        "pulse-out-has-a-result",
        (*PULSE_CH, "--out", "{tmp}/done"),
        "--out",
        "--force",
        setup=_write("done/result.json", "{}"),
    ),
    Bad("files", "pulse-out-in-use", (*PULSE_TG, "--quiet", "--out", "{tmp}/busy"), "--out", "in use", setup=_locked),
    Bad("devices", "pulse-unknown-device", (*PULSE_MM, "--device", "no_such_device"), "--device", "no_such_device"),
    Bad("devices", "pulse-empty-device", (*PULSE_CH, "--device", ""), "--device", "empty"),
    Bad("devices", "pulse-no-resonator", (*PULSE_MM, "--device", "fake_torino"), "fake_torino", "no storage resonator"),
    Bad(
        "devices",
        "pulse-not-tunable",
        (*PULSE_MM, "--device", "{tmp}/fixed_cqed.json"),
        "fixed_cqed",
        "not flux-tunable",
        setup=_fixed_cqed,
    ),
    Bad("devices", "pulse-charger-no-pair", (*PULSE_CH, "--device", "fake_torino"), "fake_torino", "exchange coupling"),
    Bad("devices", "pulse-tg-no-pair", (*PULSE_TG, "--device", "fake_torino"), "fake_torino", "exchange coupling"),
    # ---------------------------------------------------------------------------------------- interruption
    Bad(
        "interruption",
        "run-with-out",
        (*RUN_CH, "--time", "0:1:0.5", "--out", "{tmp}/sweep"),
        "{tmp}/sweep",
        "1 finished point(s) are stored in",
        status=130,
        patch=_interrupt_after_one_point,
        allowed=("sweep",),
    ),
    Bad(
        "interruption",
        "run-with-out-before-a-point",
        (*RUN_CH, "--time", "0:1:0.5", "--out", "{tmp}/sweep"),
        "",
        "nothing was written",
        status=130,
        patch=_raise_in_run(KeyboardInterrupt()),
    ),
    Bad(
        "interruption",
        "run-without-out",
        RUN_CH,
        "",
        "nothing was written",
        status=130,
        patch=_raise_in_run(KeyboardInterrupt()),
    ),
    Bad(
        "interruption",
        "ideal",
        ("ideal", "charger"),
        "",
        "nothing was written",
        status=130,
        patch=_raise_in_ideal(KeyboardInterrupt()),
    ),
)


# ------------------------------------------------------------------------ qbhw pulse collective (docs/physics.md 6.3)
PULSE_CO = ("pulse", "collective", "--n", "3")
CATALOGUE += (
    Bad("values", "pulse-co-kappa-zero", (*PULSE_CO, "--kappa-mhz", "0"), "--kappa-mhz", "> 0"),
    Bad("values", "pulse-co-kappa-high", (*PULSE_CO, "--kappa-mhz", "1000"), "--kappa-mhz", "<= 500"),
    Bad("values", "pulse-co-kappa-nan", (*PULSE_CO, "--kappa-mhz", "nan"), "--kappa-mhz", "finite"),
    Bad("values", "pulse-co-photons", (*PULSE_CO, "--thermal-photons", "10"), "--thermal-photons", "<= 3"),
    Bad("values", "pulse-co-photons-negative", (*PULSE_CO, "--thermal-photons", "-1"), "--thermal-photons", ">= 0"),
    Bad("values", "pulse-co-temperature-high", (*PULSE_CO, "--temperature", "1e308"), "--temperature", "n_th"),
    Bad(
        "values",
        "pulse-co-bath-twice",
        (*PULSE_CO, "--temperature", "1", "--thermal-photons", "1"),
        "--temperature",
        "without --thermal-photons",
    ),
    Bad("values", "pulse-co-coupling", (*PULSE_CO, "--coupling-mhz", "-2"), "--coupling-mhz", "> 0"),
    Bad("values", "pulse-co-t2", (*PULSE_CO, "--t1-us", "10", "--t2-us", "30"), "--t2-us", "<= 2*t1_us"),
    Bad("values", "pulse-co-imperfection", (*PULSE_CO, "--imperfections", "rise"), "--imperfections", "collective"),
    Bad("values", "pulse-co-thermal-alone", (*PULSE_CO, "--imperfections", "thermal"), "--imperfections", "t1"),
    Bad("values", "pulse-co-engine", (*PULSE_CO, "--engine", "magic"), "--engine", "invalid choice"),
    Bad("values", "pulse-co-levels", (*PULSE_CO, "--levels", "3", "--imperfections", "t1"), "--levels", "2 when"),
    Bad("values", "pulse-co-n-zero", ("pulse", "collective", "--n", "0"), "--n", ">= 1"),
    Bad("ranges", "pulse-co-kappa-reversed", (*PULSE_CO, "--kappa-mhz", "20:5:5"), "--kappa-mhz", "non-empty"),
    Bad("ranges", "pulse-co-kappa-from-zero", (*PULSE_CO, "--kappa-mhz", "0:20:10"), "--kappa-mhz", "> 0"),
    Bad("ranges", "pulse-co-kappa-many", (*PULSE_CO, "--kappa-mhz", "1:500:1"), "--kappa-mhz", "at most 100"),
    Bad("sizes", "pulse-co-n-large", ("pulse", "collective", "--n", "7", "--levels", "3"), "--n", "states"),
    Bad("sizes", "pulse-co-cutoff", (*PULSE_CO, "--levels", "2", "--cutoff", "4"), "--cutoff", "top Fock level"),
    Bad(
        "sizes",
        "pulse-co-ode-engine",
        ("pulse", "collective", "--n", "4", "--levels", "3", "--engine", "qutip"),
        "--engine",
        "states",
    ),
    Bad(
        "sizes",
        "pulse-co-time",
        (*PULSE_CO, "--levels", "3", "--time-us", "1e6"),
        "--time-us",
        "shorter time",
    ),
    Bad(
        "files",
        "pulse-co-out-is-a-file",
        (*PULSE_CO, "--levels", "2", "--out", "{tmp}/file"),
        "--out",
        "existing file",
        setup=_write("file", "x"),
    ),
)


def test_the_catalogue_is_large_and_covers_every_kind_and_subcommand():
    kinds = {b.kind for b in CATALOGUE}
    assert kinds == {"values", "ranges", "sizes", "files", "devices", "os", "interruption"}
    assert len(CATALOGUE) >= 60 and len({b.id for b in CATALOGUE}) == len(CATALOGUE)
    commands = {" ".join(b.argv[:2]) for b in CATALOGUE}
    assert {"ideal charger", "ideal thermal-gradient", "ideal collective", "ideal micromaser"} <= commands
    assert {"run charger", "run thermal-gradient", "run collective", "run micromaser", "devices import"} <= commands
    assert {"pulse micromaser", "pulse charger", "pulse thermal-gradient"} <= commands


@pytest.fixture(scope="module")
def record():
    """A real charger point (shots 0) that rows with faked points return."""
    from qbhw.experiments import Experiment, run_experiment
    from qbhw.hardware import default_device
    from qbhw.models.charger import ChargerParams

    rec = run_experiment(Experiment("charger", ChargerParams(), default_device(), shots=0)).record()
    _RECORD[:] = [rec]
    return rec


_HELP: dict[tuple[str, ...], str] = {}


def _help(command: tuple[str, ...], capsys) -> str:
    if command not in _HELP:
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        _HELP[command] = capsys.readouterr().out
    return _HELP[command]


def _snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """Every folder under ``roots`` and every file with its size and modification time."""
    out = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames:
                out[str(Path(dirpath) / name) + "/"] = (0, 0)
            for name in filenames:
                st = (Path(dirpath) / name).lstat()
                out[str(Path(dirpath) / name)] = (st.st_size, st.st_mtime_ns)
    return out


#: a progress line (``qbhw.report.stage_printer``): it may precede the one failure line of a run that had started
_PROGRESS = re.compile(
    r"^qbhw: ((point \d+/\d+ )?(map|compile|verify|simulate|sample|fit \+ bootstrap) \d|\d+/\d+ points \()"
)


@pytest.mark.parametrize("bad", CATALOGUE, ids=lambda b: f"{b.kind}-{b.id}")
def test_bad_input_is_one_line_naming_the_flag_or_file(bad, tmp_path, monkeypatch, capsys, record):
    if bad.needs_runtime and not _has_runtime():
        pytest.skip("qiskit-ibm-runtime (extra 'ibm') is not installed here")
    if bad.without_dynamics and _has_dynamics():
        pytest.skip("qiskit-dynamics is installed here (the pulse environment)")
    tmp = tmp_path / "t"
    tmp.mkdir()
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # anything written relative to the working folder shows in the snapshot
    held = bad.setup(tmp) if bad.setup is not None else None
    with held if isinstance(held, contextlib.ExitStack) else _nothing():
        if bad.patch is not None:
            bad.patch(monkeypatch, tmp)
        before = _snapshot(tmp, work)
        argv = [a.replace("{tmp}", str(tmp)) for a in bad.argv]
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse's own refusals
            status = exc.code
        out, err = capsys.readouterr()
        after = _snapshot(tmp, work)
    assert status == bad.status, err
    assert out == ""
    assert "Traceback" not in err
    lines = [line for line in err.strip("\n").splitlines() if not _PROGRESS.match(line)]
    assert len(lines) == 1 and err.endswith(lines[0] + "\n"), err
    line = lines[0]
    prefix = {2: "qbhw: error:", 1: "qbhw: internal error:", 130: "qbhw: interrupted"}[bad.status]
    assert line.startswith(prefix), line
    if bad.status == 1:
        assert "please report this" in line
    name = bad.names.replace("{tmp}", str(tmp))
    assert name in line, line
    if name.startswith("--") and bad.known_flag:
        command = tuple(a for a in bad.argv[:2])
        assert re.search(rf"{re.escape(name)}\b", _help(command, capsys)), f"{name} is not a flag of {command}"
    assert bad.needle.replace("{tmp}", str(tmp)) in line, line
    changed = {
        p
        for p in set(before) ^ set(after) | {p for p in before if p in after and before[p] != after[p]}
        if not any(p == str(tmp / a) + "/" or p.startswith(str(tmp / a) + "/") for a in bad.allowed)
    }
    assert not changed, f"written: {sorted(changed)}"


# --------------------------------------------------------------------------- one writer per result folder


def _qbhw(*argv: str, **kwargs) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "qbhw"
    return subprocess.Popen([str(exe), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.slow
def test_two_concurrent_runs_into_one_out_give_one_success_and_one_clear_refusal(tmp_path):
    """Two sweeps with different seeds started together into one --out: the one that holds the folder's lock runs;
    the other is refused at once with one line naming --out (exit 2) and writes nothing. The first sweep is long
    (41 points) and is interrupted once the second has been refused, so the test does not depend on which process
    is faster on a loaded machine: every point stored is the first run's."""
    import signal

    out = tmp_path / "shared"
    args = ("run", "charger", "--time", "0:4:0.1", "--shots", "900", "--quiet", "--out", str(out))
    first = _qbhw(*args, "--seed", "0")
    deadline = time.monotonic() + 60
    while not (out / ".qbhw.lock").exists() or not (out / ".qbhw.lock").read_text():
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = _qbhw(*args, "--seed", "1")
    s_out, s_err = second.communicate(timeout=120)
    first_running = first.poll() is None
    if first_running:
        first.send_signal(signal.SIGINT)
    _, f_err = first.communicate(timeout=300)
    assert first_running, f"the 41-point sweep finished before the second run was refused: {f_err}"
    assert first.returncode in (0, 130), f_err
    assert second.returncode == 2 and s_out == ""
    assert s_err.count("\n") == 1 and "Traceback" not in s_err
    assert s_err.startswith("qbhw: error: --out must be a folder no other qbhw run is writing to"), s_err
    stored = [json.loads(p.read_text()) for p in (out / "points").glob("*.json")]
    assert stored and all(rec["point"]["seed"] == 0 for rec in stored), [rec["point"]["seed"] for rec in stored]
    assert not (out / "result.json").exists() or json.loads((out / "result.json").read_text())["seed"] == 0
    # once the first has stopped, the folder is free again: the other seed is refused for the stored points of a
    # different experiment (not for a lock)
    third = _qbhw(*args, "--seed", "1")
    _, t_err = third.communicate(timeout=120)
    assert third.returncode == 2 and "no other qbhw run" not in t_err, t_err


# ---------------------------------------------------------------------------------------- a real Ctrl-C


def _wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 120) -> list[str]:
    """stderr lines of ``proc`` up to the first that contains ``needle``."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"no {needle!r} in {lines}")


@pytest.mark.slow
def test_ctrl_c_exits_130_with_one_line_and_the_sweep_resumes(tmp_path):
    """SIGINT after the first point of a sweep is stored: exit 130, one line saying how to resume, no traceback,
    no result files; rerunning the same command loads the stored point and finishes the others."""
    import signal

    out = tmp_path / "sweep"
    args = ("run", "charger", "--time", "0:0.4:0.2", "--shots", "900", "--out", str(out))
    proc = _qbhw(*args)
    _wait_for_line(proc, "1/3 points")
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)[1], None
    assert proc.returncode == 130
    assert "Traceback" not in rest
    interrupted = [line for line in rest.splitlines() if line.startswith("qbhw: interrupted")]
    assert (
        len(interrupted) == 1 and "stored in" in interrupted[0] and "rerun the same command to resume" in interrupted[0]
    )
    assert not (out / "result.json").exists() and not (out / "counts.json").exists()
    stored = sorted(p.name for p in (out / "points").glob("point_*.json"))
    assert stored and not any(p.name.startswith(".") for p in (out / "points").iterdir())
    again = _qbhw(*args)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert f"{len(stored)}/3 points (loaded from --out)" in err
    assert len(json.loads((out / "result.json").read_text())["points"]) == 3


@pytest.mark.slow
def test_ctrl_c_without_out_says_nothing_was_written(tmp_path):
    import signal

    proc = _qbhw("run", "charger", "--shots", "900", cwd=tmp_path)
    _wait_for_line(proc, "qbhw: map")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and out == ""
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "qbhw: interrupted; nothing was written"
    assert list(tmp_path.iterdir()) == []
