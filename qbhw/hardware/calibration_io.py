"""Calibrations as JSON: dict mapping (schema versions 1 and 2), text, atomic save, reading a file, content hash.

Reading never lets a malformed file through as a traceback: a file that is missing, a directory, unreadable,
larger than ``MAX_FILE_BYTES``, not UTF-8, not JSON (including nesting too deep for the parser and integers too
long to convert), not an object, with a key twice in one object, with unknown or missing keys, or with a value of
the wrong type or range raises one ``CalibrationError`` naming the file and the field path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO, Any, TypeVar

from qbhw._files import write_atomic
from qbhw.errors import CalibrationError
from qbhw.hardware import checks
from qbhw.hardware.calibration import (
    KNOWN_SCHEMA_VERSIONS,
    SCHEMA_VERSION,
    DeviceCalibration,
    GateCalibration,
    QubitCalibration,
    QubitCouplingCalibration,
    ResonatorCalibration,
)

#: largest calibration file read (a 1000-qubit device is about 3 MB)
MAX_FILE_BYTES = 32 * 1024 * 1024

# JSON keys of each object, in file order, and which of them may be absent (their dataclass default is used)
_DEVICE_KEYS = (
    "schema_version",
    "name",
    "source",
    "date",
    "dt_ns",
    "granularity",
    "min_length",
    "pulse_alignment",
    "acquire_alignment",
    "basis_gates",
    "notes",
    "qubits",
    "gates",
    "coupling_map",
    "qubit_couplings",
    "resonators",
)
_KEYS: dict[type, tuple[str, ...]] = {
    QubitCalibration: tuple(f.name for f in dataclasses.fields(QubitCalibration)),
    GateCalibration: tuple(f.name for f in dataclasses.fields(GateCalibration)),
    ResonatorCalibration: tuple(f.name for f in dataclasses.fields(ResonatorCalibration)),
    QubitCouplingCalibration: tuple(f.name for f in dataclasses.fields(QubitCouplingCalibration)),
    DeviceCalibration: _DEVICE_KEYS,
}
_OPTIONAL: dict[type, frozenset[str]] = {
    QubitCalibration: frozenset({"readout_duration_ns", "reset_duration_ns", "tunable_range_ghz", "flux_rise_ns"}),
    GateCalibration: frozenset(),
    ResonatorCalibration: frozenset({"role", "thermal_photons"}),
    QubitCouplingCalibration: frozenset(),
    DeviceCalibration: frozenset(
        {
            "resonators",
            "notes",
            "dt_ns",
            "granularity",
            "min_length",
            "pulse_alignment",
            "acquire_alignment",
            "qubit_couplings",
        }
    ),
}
#: keys that schema version 2 added (a version-1 file may not use them)
_NEW_IN_2: dict[type, frozenset[str]] = {
    QubitCalibration: frozenset({"tunable_range_ghz", "flux_rise_ns"}),
    GateCalibration: frozenset(),
    ResonatorCalibration: frozenset({"role", "thermal_photons"}),
    QubitCouplingCalibration: frozenset(),
    DeviceCalibration: frozenset(
        {"granularity", "min_length", "pulse_alignment", "acquire_alignment", "qubit_couplings"}
    ),
}

_D = TypeVar("_D")


def _build(cls: type[_D], data: object, path: str, version: int, **given: Any) -> _D:
    """cls(**data) after checking that data is an object with exactly the known keys of ``version``; ``given``
    replaces values already built (nested lists). Errors carry ``path``."""
    obj = checks.mapping(path, data) if path else data
    if not isinstance(obj, Mapping):
        raise CalibrationError(f"must be a JSON object at the top level (got {type(data).__name__})")
    keys = _KEYS[cls]
    for key in obj:
        name = checks.key_text(key)
        if key not in keys:
            hint = checks.did_you_mean(name, keys)
            raise CalibrationError(f"is not a known key{hint} (known: {', '.join(keys)})", field=name).within(path)
        if version < 2 and key in _NEW_IN_2[cls]:
            raise CalibrationError(
                "is not a key of schema version 1 (it is new in version 2: set schema_version to 2)", field=name
            ).within(path)
    for key in keys:
        if key not in obj and key not in _OPTIONAL[cls]:
            raise CalibrationError("is missing (required)", field=key).within(path)
    kwargs = {k: obj[k] for k in keys if k in obj}
    kwargs.update(given)
    if cls is DeviceCalibration:
        kwargs["schema_version"] = SCHEMA_VERSION  # upgraded: the dataclasses are the current schema
    try:
        return cls(**kwargs)
    except CalibrationError as e:
        raise e.within(path) from None


def _build_list(cls: type[_D], data: Mapping[str, Any], key: str, version: int) -> tuple[_D, ...]:
    if key not in data:
        return ()
    items = checks.sequence(key, data[key])
    return tuple(_build(cls, item, f"{key}[{k}]", version) for k, item in enumerate(items))


def calibration_from_dict(data: object) -> DeviceCalibration:
    """Build and validate a DeviceCalibration from parsed JSON of schema version 1 or 2 (CalibrationError names
    the field path). Version-1 data is upgraded: the fields version 2 added take their defaults."""
    if not isinstance(data, Mapping):
        raise CalibrationError(f"must be a JSON object at the top level (got {type(data).__name__})")
    if "schema_version" not in data:
        raise CalibrationError("is missing (required)", field="schema_version")
    version = data["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int) or version not in KNOWN_SCHEMA_VERSIONS:
        raise CalibrationError(
            f"must be one of {list(KNOWN_SCHEMA_VERSIONS)} (got {checks.brief(version)})", field="schema_version"
        )
    for key in ("qubits", "gates"):
        if key not in data:
            raise CalibrationError("is missing (required)", field=key)
    return _build(
        DeviceCalibration,
        data,
        "",
        version,
        qubits=_build_list(QubitCalibration, data, "qubits", version),
        gates=_build_list(GateCalibration, data, "gates", version),
        resonators=_build_list(ResonatorCalibration, data, "resonators", version),
        qubit_couplings=_build_list(QubitCouplingCalibration, data, "qubit_couplings", version),
    )


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _object(item: object) -> dict[str, Any]:
    return {k: _plain(getattr(item, k)) for k in _KEYS[type(item)]}


def calibration_to_dict(cal: DeviceCalibration) -> dict[str, Any]:
    """Plain JSON-ready dict of schema ``SCHEMA_VERSION``, keys in file order, every key present."""
    out: dict[str, Any] = {}
    for key in _DEVICE_KEYS:
        value = getattr(cal, key)
        if key in ("qubits", "gates", "resonators", "qubit_couplings"):
            out[key] = [_object(item) for item in value]
        elif key == "coupling_map":
            out[key] = [list(e) for e in value]
        else:
            out[key] = _plain(value)
    return out


def _one(x: object) -> str:
    return json.dumps(x, ensure_ascii=False, allow_nan=False)


def dumps_calibration(cal: DeviceCalibration) -> str:
    """JSON text: one qubit, gate, coupling, resonator or note per line (diff-friendly); floats keep their repr."""
    d = calibration_to_dict(cal)
    lines = ["{"]
    keys = list(d)
    for i, key in enumerate(keys):
        value = d[key]
        comma = "," if i < len(keys) - 1 else ""
        if key in ("qubits", "gates", "resonators", "qubit_couplings", "notes") and value:
            lines.append(f"  {_one(key)}: [")
            lines += [f"    {_one(item)}" + ("," if j < len(value) - 1 else "") for j, item in enumerate(value)]
            lines.append(f"  ]{comma}")
        elif key == "coupling_map" and value:
            chunks = [value[j : j + 12] for j in range(0, len(value), 12)]
            lines.append(f"  {_one(key)}: [")
            lines += [
                "    " + ", ".join(_one(e) for e in chunk) + ("," if j < len(chunks) - 1 else "")
                for j, chunk in enumerate(chunks)
            ]
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {_one(key)}: {_one(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def calibration_hash(cal: DeviceCalibration) -> str:
    """SHA-256 (hex) of the canonical JSON of ``cal`` (``calibration_to_dict`` with sorted keys, no spaces): equal
    for equal content however the calibration was made. Computed once per object."""
    memo = cal.__dict__.get("_content_hash")
    if memo is None:
        text = json.dumps(
            calibration_to_dict(cal), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        memo = hashlib.sha256(text.encode("utf-8")).hexdigest()
        object.__setattr__(cal, "_content_hash", memo)  # a frozen object: its content (and hash) never changes
    return str(memo)


class ContentKey:
    """A hashable handle on a calibration whose equality is its content (``calibration_hash``): the key of the
    per-process caches of noise models and transpile targets, so that equal calibrations built separately (e.g.
    two ``noiseless(device)`` calls) share one entry."""

    __slots__ = ("calibration", "digest")

    def __init__(self, calibration: DeviceCalibration) -> None:
        self.calibration = calibration
        self.digest = calibration_hash(calibration)

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ContentKey) and other.digest == self.digest

    def __repr__(self) -> str:
        return f"ContentKey({self.calibration.name!r}, {self.digest[:12]})"


# ---------------------------------------------------------------------------------------------- files


def save_calibration(cal: DeviceCalibration, path: str | os.PathLike[str]) -> Path:
    """Write ``cal`` as JSON atomically (temporary file in the same folder, then os.replace); returns the path.

    Refuses with CalibrationError naming the path when it is a directory or cannot be written (permissions, a
    name too long, a full disk, ...); a failed write leaves any existing file as it was.
    """
    if not isinstance(cal, DeviceCalibration):
        raise TypeError(f"save_calibration needs a DeviceCalibration, got {type(cal).__name__}")
    target = Path(path)
    try:
        if target.is_dir():
            raise CalibrationError("is a directory; give the path of a .json file to write", file=str(target))
        return write_atomic(target, dumps_calibration(cal))
    except (OSError, ValueError) as e:
        if isinstance(e, CalibrationError):
            raise
        raise CalibrationError(f"cannot write the calibration here ({_reason(e)})", file=str(target)) from None


def _reason(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CalibrationError(f"has the key {checks.key_text(key)!r} twice in one JSON object")
        out[key] = value
    return out


def parse_calibration(raw: bytes) -> DeviceCalibration:
    """A calibration from the bytes of a JSON file (UTF-8, an optional byte-order mark allowed)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CalibrationError(f"is not UTF-8 text (byte {e.start})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except CalibrationError:
        raise
    except json.JSONDecodeError as e:
        raise CalibrationError(f"is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise CalibrationError("is not valid JSON for qbhw: nested too deeply") from None
    except ValueError as e:  # e.g. an integer literal longer than Python converts
        raise CalibrationError(f"is not valid JSON: {e}") from None
    return calibration_from_dict(data)


def read_calibration(path: str | os.PathLike[str] | Traversable) -> DeviceCalibration:
    """Load and validate the calibration JSON file at ``path`` (CalibrationError names the file and field)."""
    where = str(path)
    try:
        if isinstance(path, str | os.PathLike):
            mode = os.stat(path).st_mode  # refuse directories, pipes and devices before opening (a FIFO would block)
            if stat.S_ISDIR(mode):
                raise CalibrationError("is a directory, not a calibration file", file=where)
            if not stat.S_ISREG(mode):
                raise CalibrationError("is not a regular file", file=where)
            opened: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by the with statement below
        else:
            opened = path.open("rb")
        with opened as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except CalibrationError:
        raise
    except IsADirectoryError:
        raise CalibrationError("is a directory, not a calibration file", file=where) from None
    except FileNotFoundError:
        raise CalibrationError("calibration file not found", file=where) from None
    except (OSError, ValueError) as e:  # permissions, a name too long, an embedded NUL, ...
        raise CalibrationError(f"cannot read the file ({_reason(e)})", file=where) from None
    if len(raw) > MAX_FILE_BYTES:
        raise CalibrationError(f"is larger than {MAX_FILE_BYTES // 2**20} MiB; not a calibration file", file=where)
    try:
        return parse_calibration(raw)
    except CalibrationError as e:
        raise e.in_file(where) from None
