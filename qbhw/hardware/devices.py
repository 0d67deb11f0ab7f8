"""The device registry: named calibrations shipped with qbhw and in the user's calibrations folder.

Two folders are searched by name (the file stem; case and '-'/'_' do not matter):

1. the user calibrations folder, ``user_calibrations_dir()``: ``$QBHW_CALIBRATIONS`` if set, else
   ``$XDG_DATA_HOME/qbhw/calibrations``, else ``~/.local/share/qbhw/calibrations``. ``qbhw devices import``
   writes here (an installed package is not writable); a file here shadows a built-in one of the same name;
2. the built-in snapshots, package data in ``qbhw/hardware/data/`` (read with ``importlib.resources``, so they
   work from a wheel as from a source checkout), with a README giving the source of every value.

Anything containing a path separator or ending in ``.json`` is read as a file path instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from qbhw.errors import CalibrationError
from qbhw.hardware.calibration import DeviceCalibration
from qbhw.hardware.calibration_io import read_calibration

#: the built-in device ``qbhw run`` uses when no ``--device`` is given
DEFAULT_DEVICE = "fake_torino"
#: environment variable naming the user calibrations folder
CALIBRATIONS_ENV = "QBHW_CALIBRATIONS"

#: where a device was found
ORIGIN_BUILTIN = "built-in"
ORIGIN_USER = "user"
ORIGIN_FOLDER = "folder"


def builtin_calibrations() -> Traversable:
    """The folder of the built-in snapshots (package data ``qbhw/hardware/data``)."""
    return resources.files("qbhw.hardware") / "data"


def user_calibrations_dir() -> Path:
    """The user calibrations folder (it need not exist): ``$QBHW_CALIBRATIONS``, else
    ``$XDG_DATA_HOME/qbhw/calibrations``, else ``~/.local/share/qbhw/calibrations``."""
    env = os.environ.get(CALIBRATIONS_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "qbhw" / "calibrations"
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no HOME and no password entry
        raise CalibrationError(f"cannot find a home folder for the user calibrations; set {CALIBRATIONS_ENV}") from None
    return home / ".local" / "share" / "qbhw" / "calibrations"


def calibrations_dir() -> Path:
    """Where ``qbhw devices import`` writes by default: ``user_calibrations_dir()`` (the name is kept from the
    time when the snapshots lived in the repository's ``calibrations/`` folder)."""
    return user_calibrations_dir()


def _json_files(folder: Traversable) -> dict[str, Traversable]:
    try:
        return {p.name[: -len(".json")]: p for p in folder.iterdir() if p.name.endswith(".json") and p.is_file()}
    except (OSError, ValueError):
        return {}


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _entries(directory: str | os.PathLike[str] | None) -> dict[str, tuple[str, Traversable]]:
    """name -> (origin, file), user files over built-in ones; only ``directory`` when it is given."""
    if directory is not None:
        folder = Path(directory)
        if not _is_dir(folder):
            raise CalibrationError(f"the calibration folder {folder} does not exist")
        return {name: (ORIGIN_FOLDER, p) for name, p in _json_files(folder).items()}
    out = {name: (ORIGIN_BUILTIN, p) for name, p in _json_files(builtin_calibrations()).items()}
    try:
        user = user_calibrations_dir()
    except CalibrationError:
        return out
    if _is_dir(user):  # an unreadable user folder counts as empty: the built-in devices still work
        out.update({name: (ORIGIN_USER, p) for name, p in _json_files(user).items()})
    return out


def list_devices(directory: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """Names of the known devices (built-in and user, or those in ``directory``), sorted."""
    return tuple(sorted(_entries(directory)))


def _canonical(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _looks_like_path(text: str) -> bool:
    return text.endswith(".json") or os.sep in text or bool(os.altsep and os.altsep in text)


def resolve_device(
    path_or_name: str | os.PathLike[str], directory: str | os.PathLike[str] | None = None
) -> Traversable:
    """The file of a device given as a path to a JSON file or as the name of a known device (see module doc)."""
    text = os.fspath(path_or_name)
    if not text.strip():
        raise CalibrationError("the device name is empty; give a device name or the path of a calibration file")
    if _looks_like_path(text):
        return Path(text)
    entries = _entries(directory)
    wanted = _canonical(text)
    for name, (_, location) in entries.items():
        if _canonical(name) == wanted:
            return location
    try:
        if Path(text).is_file():
            return Path(text)
    except (OSError, ValueError):
        pass
    known = ", ".join(sorted(entries)) if entries else "(none)"
    where = "" if directory is not None else f"; put NAME.json in {_user_dir_text()}"
    raise CalibrationError(
        f"unknown device {text!r}; known devices: {known} (or pass the path of a calibration JSON file{where})"
    )


def _user_dir_text() -> str:
    try:
        return str(user_calibrations_dir())
    except CalibrationError:
        return f"${CALIBRATIONS_ENV}"


def load_calibration(
    path_or_name: str | os.PathLike[str], *, directory: str | os.PathLike[str] | None = None
) -> DeviceCalibration:
    """Load and validate a calibration from a JSON file path or a device name (``list_devices()``)."""
    return read_calibration(resolve_device(path_or_name, directory))


def default_device() -> DeviceCalibration:
    """The default device of ``qbhw run`` (``DEFAULT_DEVICE``; a user file of that name takes precedence)."""
    return load_calibration(DEFAULT_DEVICE)


@dataclass(frozen=True)
class DeviceSummary:
    """One line of ``qbhw devices``: sizes and median figures of a calibration, and where it was found
    (``origin``: "built-in", "user" or "folder"; ``location``: the file)."""

    name: str
    num_qubits: int
    num_resonators: int
    basis_gates: tuple[str, ...]
    source: str
    date: str
    median_t1_us: float
    median_t2_us: float
    median_readout_error: float
    median_excited_population: float
    median_2q_error: float | None
    default: bool = False
    notes: tuple[str, ...] = field(default=())
    origin: str = ""
    location: str = ""


def _median(values: list[float]) -> float:
    s = sorted(values)
    m = len(s) // 2
    return s[m] if len(s) % 2 else 0.5 * (s[m - 1] + s[m])


def summarize(cal: DeviceCalibration) -> DeviceSummary:
    """Median T1, T2, readout error ((p(1|0)+p(0|1))/2), p_e and two-qubit gate error of a calibration."""
    two_q = [g.error for g in cal.gates if len(g.qubits) == 2]
    return DeviceSummary(
        name=cal.name,
        num_qubits=cal.num_qubits,
        num_resonators=len(cal.resonators),
        basis_gates=cal.basis_gates,
        source=cal.source,
        date=cal.date,
        median_t1_us=_median([q.t1_us for q in cal.qubits]),
        median_t2_us=_median([q.t2_us for q in cal.qubits]),
        median_readout_error=_median([0.5 * (q.readout_p1_given_0 + q.readout_p0_given_1) for q in cal.qubits]),
        median_excited_population=_median([q.excited_population for q in cal.qubits]),
        median_2q_error=_median(two_q) if two_q else None,
        default=cal.name == DEFAULT_DEVICE,
        notes=cal.notes,
    )


def list_device_summaries(directory: str | os.PathLike[str] | None = None) -> tuple[DeviceSummary, ...]:
    """``summarize`` of every known device, sorted by name (what ``qbhw devices`` prints); a malformed file
    raises CalibrationError naming it."""
    out = []
    for name, (origin, location) in sorted(_entries(directory).items()):
        summary = summarize(read_calibration(location))
        out.append(replace(summary, origin=origin, location=str(location), default=name == DEFAULT_DEVICE))
    return tuple(out)
