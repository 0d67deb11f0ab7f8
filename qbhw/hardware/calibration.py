"""Device calibrations: schema, validation, JSON load/save, the embedded snapshots in ``calibrations/``.

A calibration describes physical transmons (and optional resonator modes) in laboratory units; every JSON key
carries its unit: ``freq_ghz`` (f = omega/2pi), ``anharmonicity_ghz`` ((omega_12 - omega_01)/2pi, negative for
transmons), ``t1_us``, ``t2_us`` (T2 = 1/(Gamma_1/2 + Gamma_phi), so 0 < T2 <= 2 T1), ``duration_ns``,
``kappa_mhz`` (kappa/2pi, energy decay rate of a resonator), ``coupling_mhz`` (g/2pi of H = g(a sigma+ + h.c.)),
``dt_ns``. Probabilities are plain numbers: ``readout_p1_given_0`` = P(read 1 | prepared 0),
``readout_p0_given_1`` = P(read 0 | prepared 1), ``reset_error`` = P(|1> after a reset), ``excited_population``
= thermal excited population p_e of the qubit's environment (0 <= p_e < 1/2; it fixes the effective temperature
T through p_e = 1/(exp(h f / k_B T) + 1), see ``qbhw.hardware.units``). Gate ``error`` is the average gate
infidelity 1 - F_avg, at most d/(d+1) for a d-dimensional gate. Qubit labels are physical indices 0..n-1,
basis index 0 = |0> = |g>.

Every rule is checked when a dataclass is built (from Python or from JSON); a violation raises
``CalibrationError`` naming the file (when there is one) and the field path, e.g.
``calibrations/x.json: qubits[3].t2_us must be <= 2*t1_us (got 250 > 2*100)``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import functools
import json
import math
import numbers
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from qbhw._files import write_atomic
from qbhw.errors import CalibrationError
from qbhw.hardware.units import effective_temperature_mk

#: the schema this module writes; ``KNOWN_SCHEMA_VERSIONS`` are those it reads
SCHEMA_VERSION = 1
KNOWN_SCHEMA_VERSIONS = (1,)
#: the embedded device ``qbhw run`` uses when no ``--device`` is given
DEFAULT_DEVICE = "fake_torino"

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """'; did you mean 'x'?' for a close known name (a forgotten unit suffix counts as close), else ''."""
    known = list(known)
    unit = [k for k in known if k.startswith(name + "_")]
    hint = unit[:1] or difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def _join(prefix: str, name: str) -> str:
    if not prefix:
        return name
    if not name:
        return prefix
    return prefix + name if name.startswith("[") else f"{prefix}.{name}"


# ---------------------------------------------------------------------------------------------- field checks


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _real(name: str, value: object) -> float:
    if not _is_real(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        raise CalibrationError(f"must be a finite number (got {value!r})", field=name)
    return float(value)  # type: ignore[arg-type]


def _positive(name: str, value: object) -> float:
    v = _real(name, value)
    if v <= 0:
        raise CalibrationError(f"must be > 0 (got {value!r})", field=name)
    return v


def _nonnegative(name: str, value: object) -> float:
    v = _real(name, value)
    if v < 0:
        raise CalibrationError(f"must be >= 0 (got {value!r})", field=name)
    return v


def _in_range(name: str, value: object, low: float, high: float, *, high_open: bool = False, why: str = "") -> float:
    v = _real(name, value)
    ok = low <= v < high if high_open else low <= v <= high
    if not ok:
        bracket = ")" if high_open else "]"
        raise CalibrationError(f"must be in [{low:g}, {high:g}{bracket}{why} (got {value!r})", field=name)
    return v


def _index(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise CalibrationError(f"must be an integer >= 0 (got {value!r})", field=name)
    return int(value)


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CalibrationError(f"must be a non-empty string (got {value!r})", field=name)
    return value


_T = TypeVar("_T")


def _optional(check: Callable[[str, object], _T], name: str, value: object) -> _T | None:
    return None if value is None else check(name, value)


def _sequence(name: str, value: object) -> tuple[Any, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise CalibrationError(f"must be a list (got {value!r})", field=name)
    return tuple(value)


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@functools.cache
def _standard_gate_arity() -> Mapping[str, int]:
    """Names of Qiskit's standard unitary gates -> number of qubits (present in qiskit 1.3 and 2.x)."""
    from qiskit.circuit import Gate
    from qiskit.circuit.library import get_standard_gate_name_mapping

    return {
        name: op.num_qubits
        for name, op in get_standard_gate_name_mapping().items()
        if isinstance(op, Gate) and op.num_qubits > 0
    }


# ---------------------------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class QubitCalibration:
    """One physical qubit (a transmon). Units are in the field names; see the module docstring.

    ``freq_ghz`` and ``anharmonicity_ghz`` may be None (unknown: Heron fake backends report no frequency); the
    thermal state is carried by ``excited_population`` itself, so a missing frequency never turns into an infinite
    temperature. ``readout_duration_ns`` / ``reset_duration_ns`` are the durations of ``measure`` / ``reset``.
    """

    index: int
    freq_ghz: float | None
    anharmonicity_ghz: float | None
    t1_us: float
    t2_us: float
    readout_p1_given_0: float
    readout_p0_given_1: float
    reset_error: float
    excited_population: float
    readout_duration_ns: float | None = None
    reset_duration_ns: float | None = None

    def __post_init__(self) -> None:
        _set(self, "index", _index("index", self.index))
        _set(self, "freq_ghz", _optional(_positive, "freq_ghz", self.freq_ghz))
        _set(self, "anharmonicity_ghz", _optional(_real, "anharmonicity_ghz", self.anharmonicity_ghz))
        t1 = _positive("t1_us", self.t1_us)
        t2 = _positive("t2_us", self.t2_us)
        if t2 > 2.0 * t1:
            raise CalibrationError(f"must be <= 2*t1_us (got {self.t2_us!r} > 2*{self.t1_us!r})", field="t2_us")
        _set(self, "t1_us", t1)
        _set(self, "t2_us", t2)
        for name in ("readout_p1_given_0", "readout_p0_given_1", "reset_error"):
            _set(self, name, _in_range(name, getattr(self, name), 0.0, 1.0))
        _set(
            self,
            "excited_population",
            _in_range(
                "excited_population",
                self.excited_population,
                0.0,
                0.5,
                high_open=True,
                why=" (1/2 is infinite temperature)",
            ),
        )
        for name in ("readout_duration_ns", "reset_duration_ns"):
            _set(self, name, _optional(_nonnegative, name, getattr(self, name)))

    @property
    def temperature_mk(self) -> float | None:
        """Effective temperature (mK) from ``excited_population`` and ``freq_ghz``; None if the frequency is unknown."""
        if self.freq_ghz is None:
            return None
        return effective_temperature_mk(self.freq_ghz, self.excited_population)


@dataclass(frozen=True)
class GateCalibration:
    """A calibrated gate on physical ``qubits`` (ordered as the gate's arguments)."""

    name: str
    qubits: tuple[int, ...]
    duration_ns: float
    error: float

    def __post_init__(self) -> None:
        _text("name", self.name)
        qubits = _sequence("qubits", self.qubits)
        if not qubits:
            raise CalibrationError("must list at least one qubit (got [])", field="qubits")
        qubits = tuple(_index(f"qubits[{k}]", q) for k, q in enumerate(qubits))
        if len(set(qubits)) != len(qubits):
            raise CalibrationError(f"must be distinct qubits (got {list(qubits)})", field="qubits")
        _set(self, "qubits", qubits)
        _set(self, "duration_ns", _nonnegative("duration_ns", self.duration_ns))
        d = 2 ** len(qubits)
        _set(
            self,
            "error",
            _in_range(
                "error",
                self.error,
                0.0,
                d / (d + 1),
                why=f" (the largest average infidelity of a {len(qubits)}-qubit gate is d/(d+1))",
            ),
        )


@dataclass(frozen=True)
class ResonatorCalibration:
    """A bosonic mode (readout or storage resonator) coupled to one qubit: f_r, kappa/2pi, g/2pi."""

    index: int
    freq_ghz: float
    kappa_mhz: float
    coupling_mhz: float
    qubit: int

    def __post_init__(self) -> None:
        _set(self, "index", _index("index", self.index))
        _set(self, "freq_ghz", _positive("freq_ghz", self.freq_ghz))
        _set(self, "kappa_mhz", _nonnegative("kappa_mhz", self.kappa_mhz))
        _set(self, "coupling_mhz", _nonnegative("coupling_mhz", self.coupling_mhz))
        _set(self, "qubit", _index("qubit", self.qubit))


@dataclass(frozen=True)
class DeviceCalibration:
    """A device snapshot. ``qubits[k].index == k``; ``gates`` use only ``basis_gates`` (Qiskit standard gate names)
    and every one-qubit basis gate is calibrated on every qubit; multi-qubit gates act on ``coupling_map`` edges
    (directed pairs, as the gate's argument order). ``date`` is ISO 8601; ``dt_ns`` the control sample time.
    """

    name: str
    source: str
    date: str
    qubits: tuple[QubitCalibration, ...]
    gates: tuple[GateCalibration, ...]
    coupling_map: tuple[tuple[int, int], ...]
    basis_gates: tuple[str, ...]
    resonators: tuple[ResonatorCalibration, ...] = ()
    notes: tuple[str, ...] = ()
    dt_ns: float | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.schema_version not in KNOWN_SCHEMA_VERSIONS or isinstance(self.schema_version, bool):
            raise CalibrationError(
                f"must be one of {list(KNOWN_SCHEMA_VERSIONS)} (got {self.schema_version!r})", field="schema_version"
            )
        _text("name", self.name)
        if not _NAME_RE.match(self.name):
            raise CalibrationError(
                f"must contain only letters, digits, '_', '.', '-' (got {self.name!r})", field="name"
            )
        _text("source", self.source)
        _text("date", self.date)
        try:
            _dt.datetime.fromisoformat(self.date)
        except ValueError:
            raise CalibrationError(f"must be an ISO 8601 date (got {self.date!r})", field="date") from None
        _set(self, "dt_ns", _optional(_positive, "dt_ns", self.dt_ns))
        notes = _sequence("notes", self.notes)
        for k, note in enumerate(notes):
            _text(f"notes[{k}]", note)
        _set(self, "notes", notes)

        qubits = _sequence("qubits", self.qubits)
        if not qubits:
            raise CalibrationError("must list at least one qubit", field="qubits")
        for k, q in enumerate(qubits):
            if not isinstance(q, QubitCalibration):
                raise CalibrationError(f"must be a QubitCalibration (got {type(q).__name__})", field=f"qubits[{k}]")
            if q.index != k:
                raise CalibrationError(
                    f"must be {k}: qubits are listed in index order 0..n-1 (got {q.index})", field=f"qubits[{k}].index"
                )
        _set(self, "qubits", qubits)
        n = len(qubits)

        arity = _standard_gate_arity()
        basis = _sequence("basis_gates", self.basis_gates)
        for k, g in enumerate(basis):
            _text(f"basis_gates[{k}]", g)
            if g not in arity:
                extra = _did_you_mean(g, arity)
                raise CalibrationError(
                    f"must be a Qiskit standard gate name (got {g!r}{extra})", field=f"basis_gates[{k}]"
                )
            if g in basis[:k]:
                raise CalibrationError(f"is listed twice ({g!r})", field=f"basis_gates[{k}]")
        _set(self, "basis_gates", basis)

        edges = []
        for k, e in enumerate(_sequence("coupling_map", self.coupling_map)):
            pair = _sequence(f"coupling_map[{k}]", e)
            if len(pair) != 2:
                raise CalibrationError(f"must be a pair [a, b] (got {list(pair)})", field=f"coupling_map[{k}]")
            a, b = (_index(f"coupling_map[{k}][{j}]", x) for j, x in enumerate(pair))
            if a >= n or b >= n:
                raise CalibrationError(
                    f"must join existing qubits 0..{n - 1} (got [{a}, {b}])", field=f"coupling_map[{k}]"
                )
            if a == b:
                raise CalibrationError(f"must join two different qubits (got [{a}, {b}])", field=f"coupling_map[{k}]")
            if (a, b) in edges:
                raise CalibrationError(f"is listed twice ([{a}, {b}])", field=f"coupling_map[{k}]")
            edges.append((a, b))
        _set(self, "coupling_map", tuple(edges))
        edge_set = set(edges)

        gates = _sequence("gates", self.gates)
        seen: set[tuple[str, tuple[int, ...]]] = set()
        for k, g in enumerate(gates):
            where = f"gates[{k}]"
            if not isinstance(g, GateCalibration):
                raise CalibrationError(f"must be a GateCalibration (got {type(g).__name__})", field=where)
            if g.name not in basis:
                raise CalibrationError(
                    f"must be one of basis_gates {list(basis)} (got {g.name!r})", field=f"{where}.name"
                )
            if len(g.qubits) != arity[g.name]:
                raise CalibrationError(
                    f"must list {arity[g.name]} qubit(s) for {g.name!r} (got {list(g.qubits)})", field=f"{where}.qubits"
                )
            if max(g.qubits) >= n:
                raise CalibrationError(
                    f"must be existing qubits 0..{n - 1} (got {list(g.qubits)})", field=f"{where}.qubits"
                )
            if len(g.qubits) == 2 and g.qubits not in edge_set:
                raise CalibrationError(
                    f"must be an edge of coupling_map (got {list(g.qubits)})", field=f"{where}.qubits"
                )
            key = (g.name, g.qubits)
            if key in seen:
                raise CalibrationError(f"duplicates another {g.name!r} on {list(g.qubits)}", field=where)
            seen.add(key)
        _set(self, "gates", gates)
        for g in basis:
            if arity[g] == 1:
                missing = [q for q in range(n) if (g, (q,)) not in seen]
                if missing:
                    raise CalibrationError(f"has no {g!r} calibration for qubit(s) {missing[:10]}", field="gates")
            elif not any(name == g for name, _ in seen):
                raise CalibrationError(f"has no calibration for basis gate {g!r}", field="gates")

        resonators = _sequence("resonators", self.resonators)
        for k, r in enumerate(resonators):
            if not isinstance(r, ResonatorCalibration):
                raise CalibrationError(
                    f"must be a ResonatorCalibration (got {type(r).__name__})", field=f"resonators[{k}]"
                )
            if r.index != k:
                raise CalibrationError(
                    f"must be {k}: resonators are listed in index order (got {r.index})", field=f"resonators[{k}].index"
                )
            if r.qubit >= n:
                raise CalibrationError(
                    f"must be an existing qubit 0..{n - 1} (got {r.qubit})", field=f"resonators[{k}].qubit"
                )
        _set(self, "resonators", resonators)

    # -- lookups ----------------------------------------------------------------------------------------------
    @property
    def num_qubits(self) -> int:
        return len(self.qubits)

    @functools.cached_property
    def _gate_index(self) -> dict[tuple[str, tuple[int, ...]], GateCalibration]:
        return {(g.name, g.qubits): g for g in self.gates}

    def gate(self, name: str, qubits: Sequence[int]) -> GateCalibration:
        """The calibration of gate ``name`` on physical ``qubits`` (argument order); CalibrationError if absent."""
        try:
            return self._gate_index[(name, tuple(int(q) for q in qubits))]
        except KeyError:
            raise CalibrationError(f"has no gate {name!r} on qubits {list(qubits)}", field="gates", file=None) from None


# ---------------------------------------------------------------------------------------------- JSON mapping

_QUBIT_KEYS = tuple(f.name for f in dataclasses.fields(QubitCalibration))
_GATE_KEYS = tuple(f.name for f in dataclasses.fields(GateCalibration))
_RESONATOR_KEYS = tuple(f.name for f in dataclasses.fields(ResonatorCalibration))
_DEVICE_KEYS = (
    "schema_version",
    "name",
    "source",
    "date",
    "dt_ns",
    "basis_gates",
    "notes",
    "qubits",
    "gates",
    "coupling_map",
    "resonators",
)
_OPTIONAL_KEYS = {
    QubitCalibration: {"readout_duration_ns", "reset_duration_ns"},
    GateCalibration: set(),
    ResonatorCalibration: set(),
    DeviceCalibration: {"resonators", "notes", "dt_ns"},
}

_D = TypeVar("_D")


def _build(cls: type[_D], keys: tuple[str, ...], data: object, path: str) -> _D:
    """cls(**data) after checking that data is an object with exactly the known keys; errors carry ``path``."""
    if not isinstance(data, Mapping):
        raise CalibrationError(f"must be a JSON object (got {data!r})", field=path)
    for key in data:
        if key not in keys:
            extra = _did_you_mean(str(key), keys)
            raise CalibrationError(f"is not a known key{extra} (known: {', '.join(keys)})", field=_join(path, str(key)))
    for key in keys:
        if key not in data and key not in _OPTIONAL_KEYS[cls]:
            raise CalibrationError("is missing (required)", field=_join(path, key))
    kwargs = {k: data[k] for k in keys if k in data}
    return cls(**kwargs)


def _build_list(cls: type[_D], keys: tuple[str, ...], data: object, path: str) -> tuple[_D, ...]:
    items = _sequence(path, data) if data is not None else ()
    out = []
    for k, item in enumerate(items):
        where = f"{path}[{k}]"
        try:
            out.append(_build(cls, keys, item, where))
        except CalibrationError as e:
            raise (e if e.field.startswith(where) else e.within(where)) from None
    return tuple(out)


def calibration_from_dict(data: object) -> DeviceCalibration:
    """Build and validate a DeviceCalibration from parsed JSON (CalibrationError names the field path)."""
    if not isinstance(data, Mapping):
        raise CalibrationError(f"must be a JSON object at the top level (got {type(data).__name__})")
    if "schema_version" not in data:
        raise CalibrationError("is missing (required)", field="schema_version")
    version = data["schema_version"]
    if isinstance(version, bool) or version not in KNOWN_SCHEMA_VERSIONS:
        raise CalibrationError(
            f"must be one of {list(KNOWN_SCHEMA_VERSIONS)} (got {version!r})", field="schema_version"
        )
    top = dict(data)
    top["qubits"] = _build_list(QubitCalibration, _QUBIT_KEYS, data.get("qubits"), "qubits")
    top["gates"] = _build_list(GateCalibration, _GATE_KEYS, data.get("gates"), "gates")
    top["resonators"] = _build_list(ResonatorCalibration, _RESONATOR_KEYS, data.get("resonators"), "resonators")
    if "qubits" not in data:
        raise CalibrationError("is missing (required)", field="qubits")
    if "gates" not in data:
        raise CalibrationError("is missing (required)", field="gates")
    return _build(DeviceCalibration, _DEVICE_KEYS, top, "")


def calibration_to_dict(cal: DeviceCalibration) -> dict[str, Any]:
    """Plain JSON-ready dict, keys in schema order."""
    return {
        "schema_version": cal.schema_version,
        "name": cal.name,
        "source": cal.source,
        "date": cal.date,
        "dt_ns": cal.dt_ns,
        "basis_gates": list(cal.basis_gates),
        "notes": list(cal.notes),
        "qubits": [{k: getattr(q, k) for k in _QUBIT_KEYS} for q in cal.qubits],
        "gates": [
            {"name": g.name, "qubits": list(g.qubits), "duration_ns": g.duration_ns, "error": g.error}
            for g in cal.gates
        ],
        "coupling_map": [list(e) for e in cal.coupling_map],
        "resonators": [{k: getattr(r, k) for k in _RESONATOR_KEYS} for r in cal.resonators],
    }


def dumps_calibration(cal: DeviceCalibration) -> str:
    """JSON text: one qubit, gate or resonator per line (diff-friendly); floats keep their exact repr."""
    d = calibration_to_dict(cal)

    def one(x: object) -> str:
        return json.dumps(x, ensure_ascii=False, allow_nan=False)

    lines = ["{"]
    keys = list(d)
    for i, key in enumerate(keys):
        value = d[key]
        comma = "," if i < len(keys) - 1 else ""
        if key in ("qubits", "gates", "resonators", "notes") and value:
            lines.append(f"  {one(key)}: [")
            lines += [f"    {one(item)}" + ("," if j < len(value) - 1 else "") for j, item in enumerate(value)]
            lines.append(f"  ]{comma}")
        elif key == "coupling_map" and value:
            chunks = [value[j : j + 12] for j in range(0, len(value), 12)]
            lines.append(f"  {one(key)}: [")
            lines += [
                "    " + ", ".join(one(e) for e in chunk) + ("," if j < len(chunks) - 1 else "")
                for j, chunk in enumerate(chunks)
            ]
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {one(key)}: {one(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- files


def calibrations_dir() -> Path:
    """The repository's ``calibrations/`` folder (found relative to this package: source checkouts and editable
    installs only)."""
    return Path(__file__).resolve().parents[2] / "calibrations"


def _directory(directory: str | os.PathLike[str] | None) -> Path:
    folder = calibrations_dir() if directory is None else Path(directory)
    if not folder.is_dir():
        raise CalibrationError(
            f"the calibration folder {folder} does not exist (the embedded snapshots ship with a source checkout "
            "of qbhw; pass the path of a calibration JSON file instead)"
        )
    return folder


def list_devices(directory: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """Names of the embedded snapshots (``calibrations/*.json`` file stems), sorted."""
    return tuple(sorted(p.stem for p in _directory(directory).glob("*.json")))


def _canonical(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def resolve_device(path_or_name: str | os.PathLike[str], directory: str | os.PathLike[str] | None = None) -> Path:
    """The file of a device given as a path to a JSON file or as the name of an embedded snapshot."""
    text = os.fspath(path_or_name)
    p = Path(text)
    if text.endswith(".json") or os.sep in text or (os.altsep and os.altsep in text):
        if not p.is_file():
            raise CalibrationError(f"calibration file not found: {text}")
        return p
    names = list_devices(directory)
    wanted = _canonical(text)
    for name in names:
        if _canonical(name) == wanted:
            return _directory(directory) / f"{name}.json"
    if p.is_file():
        return p
    known = ", ".join(names) if names else "(none)"
    raise CalibrationError(
        f"unknown device {text!r}; known devices: {known} (or pass the path of a calibration JSON file)"
    )


def load_calibration(
    path_or_name: str | os.PathLike[str], *, directory: str | os.PathLike[str] | None = None
) -> DeviceCalibration:
    """Load and validate a calibration from a JSON file path or an embedded device name (``list_devices()``)."""
    path = resolve_device(path_or_name, directory)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CalibrationError(f"cannot read the file ({e})", file=str(path)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CalibrationError(
            f"is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}", file=str(path)
        ) from None
    try:
        return calibration_from_dict(data)
    except CalibrationError as e:
        raise e.in_file(path) from None


def save_calibration(cal: DeviceCalibration, path: str | os.PathLike[str]) -> Path:
    """Write ``cal`` as JSON atomically (temporary file in the same folder, then os.replace). Returns the path."""
    if not isinstance(cal, DeviceCalibration):
        raise TypeError(f"save_calibration needs a DeviceCalibration, got {type(cal).__name__}")
    return write_atomic(path, dumps_calibration(cal))


def default_device() -> DeviceCalibration:
    """The embedded default device of ``qbhw run`` (``DEFAULT_DEVICE``)."""
    return load_calibration(DEFAULT_DEVICE)


# ---------------------------------------------------------------------------------------------- derived devices


def restrict(cal: DeviceCalibration, qubits: Sequence[int]) -> DeviceCalibration:
    """The sub-device on physical ``qubits``, relabelled so that new qubit k is physical qubit ``qubits[k]``.

    Keeps the gates, coupling edges and resonators that lie entirely inside the subset; records the map in notes.
    """
    phys = tuple(_index(f"qubits[{k}]", q) for k, q in enumerate(qubits))
    if not phys:
        raise CalibrationError("must list at least one qubit", field="qubits")
    if len(set(phys)) != len(phys):
        raise CalibrationError(f"must be distinct (got {list(phys)})", field="qubits")
    bad = [q for q in phys if q >= cal.num_qubits]
    if bad:
        raise CalibrationError(f"must be qubits of {cal.name} (0..{cal.num_qubits - 1}) (got {bad})", field="qubits")
    new = {q: k for k, q in enumerate(phys)}
    qs = tuple(dataclasses.replace(cal.qubits[q], index=new[q]) for q in phys)
    gates = tuple(
        dataclasses.replace(g, qubits=tuple(new[q] for q in g.qubits))
        for g in cal.gates
        if all(q in new for q in g.qubits)
    )
    edges = tuple((new[a], new[b]) for a, b in cal.coupling_map if a in new and b in new)
    resonators = tuple(
        dataclasses.replace(r, index=k, qubit=new[r.qubit])
        for k, r in enumerate(r for r in cal.resonators if r.qubit in new)
    )
    used = {g.name for g in gates}
    basis = tuple(g for g in cal.basis_gates if g in used)
    note = (
        f"restricted from {cal.name} to physical qubits {list(phys)} (qubit k here is physical qubit {list(phys)}[k])"
    )
    return DeviceCalibration(
        name=f"{cal.name}_q" + "_".join(str(q) for q in phys) if len(phys) <= 8 else f"{cal.name}_sub{len(phys)}",
        source=cal.source,
        date=cal.date,
        qubits=qs,
        gates=gates,
        coupling_map=edges,
        basis_gates=basis,
        resonators=resonators,
        notes=cal.notes + (note,),
        dt_ns=cal.dt_ns,
        schema_version=cal.schema_version,
    )


NOISELESS_T_US = 1e15  # T1 = T2 so long that relaxation over a circuit is ~1e-12: numerically no noise


def noiseless(cal: DeviceCalibration) -> DeviceCalibration:
    """The same device (qubits, coupling map, gate set and durations) with every error removed: T1 = T2 =
    ``NOISELESS_T_US``, no readout, reset or gate error, zero thermal population. Its noise model is the identity
    to ~1e-12, so runs on it check the mapping, transpilation and tomography alone."""
    qs = tuple(
        dataclasses.replace(
            q,
            t1_us=NOISELESS_T_US,
            t2_us=NOISELESS_T_US,
            readout_p1_given_0=0.0,
            readout_p0_given_1=0.0,
            reset_error=0.0,
            excited_population=0.0,
        )
        for q in cal.qubits
    )
    gates = tuple(dataclasses.replace(g, error=0.0) for g in cal.gates)
    return dataclasses.replace(
        cal,
        name=f"{cal.name}_noiseless",
        qubits=qs,
        gates=gates,
        notes=cal.notes + ("all errors removed (qbhw.hardware.noiseless)",),
    )


@dataclass(frozen=True)
class DeviceSummary:
    """One line of ``qbhw devices``: sizes and median figures of a calibration."""

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


def _median(values: Sequence[float]) -> float:
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
    """``summarize`` of every embedded snapshot (what ``qbhw devices`` prints)."""
    folder = _directory(directory)
    return tuple(summarize(load_calibration(folder / f"{name}.json")) for name in list_devices(folder))
