"""Typed, frozen records of a run: what a sweep worker returns, what the point store saves, what the report reads.

``PointRecord.to_dict()`` is the JSON object of one point (docs/design.md section 3: ``ideal``, ``circuit``,
``noisy``, ``measured``, provenance); ``PointRecord.from_dict`` reads it back, so that a record survives a process
boundary, a point file and a resumed sweep unchanged (``from_dict(to_dict(r))`` equals ``r``). Values are plain
(float, int, str, tuples, read-only mappings), so records compare with ``==``.

The measured part is the tomography estimate's one JSON projection (``qbhw.tomography.BatteryEstimate.to_dict``),
kept as ``MeasuredRecord``: typed attributes for the keys qbhw reads, and every other key it does not know
(``extra``) carried along unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qbhw._json import jsonable
from qbhw.experiments.catalog import model_spec

#: the battery figures of every state, in table order
FIGURE_KEYS = ("energy", "ergotropy", "capacity", "purity", "fidelity")


class FrozenMapping(Mapping[str, Any]):
    """A read-only mapping that pickles (records cross process boundaries) and compares by content."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMapping({self._data!r})"


def freeze(value: Any) -> Any:
    """Plain JSON data made immutable: mappings -> FrozenMapping, lists -> tuples."""
    value = jsonable(value)
    if isinstance(value, dict):
        return FrozenMapping({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of ``freeze``: read-only mappings and tuples back to dicts and lists."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


def _float(value: Any) -> float:
    """A JSON number (null = NaN) as float."""
    return math.nan if value is None else float(value)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@dataclass(frozen=True)
class Figures:
    """Battery figures of one state (model units): stored energy above the ground energy, ergotropy, capacity,
    purity of the battery state, fidelity of the register state to the ideal one, and for a truncated cavity the
    population outside the model's cutoff (NaN where it does not apply)."""

    energy: float
    ergotropy: float
    capacity: float
    purity: float
    fidelity: float
    outside_cutoff: float = math.nan

    def __eq__(self, other: object) -> bool:  # NaN-aware: a record read back equals the one written
        if not isinstance(other, Figures):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in dataclasses.fields(self))

    def to_dict(self) -> dict[str, float]:
        out = {f.name: float(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if math.isnan(out["outside_cutoff"]):
            del out["outside_cutoff"]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Figures:
        return cls(**{f.name: _float(data.get(f.name)) for f in dataclasses.fields(cls) if f.name in data})


@dataclass(frozen=True)
class MeasuredFigure:
    """One measured figure: point value, interval [low, high], bootstrap std and bias (NaN when absent)."""

    value: float
    ci: tuple[float, float]
    std: float = math.nan
    bias: float = math.nan

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MeasuredFigure):
            return NotImplemented
        mine = (self.value, *self.ci, self.std, self.bias)
        theirs = (other.value, *other.ci, other.std, other.bias)
        return all(_same(a, b) for a, b in zip(mine, theirs, strict=True))

    def contains(self, x: float) -> bool:
        return self.ci[0] <= x <= self.ci[1]


#: keys of the estimate's projection that MeasuredRecord reads into typed fields (besides the figures)
_MEASURED_SCALARS = {
    "estimator": str,
    "fitter": str,
    "interval": str,
    "resampling": str,
    "bootstrap": int,
    "confidence": float,
    "bootstrap_seed": int,
    "readout_mitigated": bool,
    "shots": int,
}


@dataclass(frozen=True)
class MeasuredRecord:
    """The measured column: ``figures`` by name (``energy``, ``ergotropy``, ...; ``outside_cutoff`` as a point value
    without interval), how it was estimated, and ``extra``: the keys of the estimate's projection that this class
    does not read (kept, and written back, unchanged)."""

    figures: Mapping[str, MeasuredFigure]
    estimator: str
    fitter: str
    interval: str
    resampling: str
    bootstrap: int
    confidence: float
    bootstrap_seed: int
    readout_mitigated: bool
    shots: int
    extra: Mapping[str, Any] = field(default_factory=lambda: FrozenMapping({}))

    def __getitem__(self, name: str) -> MeasuredFigure:
        return self.figures[name]

    @property
    def ergotropy(self) -> MeasuredFigure:
        return self.figures["ergotropy"]

    @property
    def energy(self) -> MeasuredFigure:
        return self.figures["energy"]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeasuredRecord:
        """From the estimate's JSON projection (``BatteryEstimate.to_dict()``, plus ``outside_cutoff``)."""
        used: set[str] = set()
        figures: dict[str, MeasuredFigure] = {}
        for name in (*FIGURE_KEYS, "outside_cutoff"):
            if name not in data:
                continue
            value = _float(data[name])
            ci_raw = data.get(f"{name}_ci")
            ci = (value, value) if ci_raw is None else (_float(ci_raw[0]), _float(ci_raw[1]))
            figures[name] = MeasuredFigure(value, ci, _float(data.get(f"{name}_std")), _float(data.get(f"{name}_bias")))
            used |= {name, f"{name}_ci", f"{name}_std", f"{name}_bias"}
        scalars = {}
        for key, kind in _MEASURED_SCALARS.items():
            if key not in data:
                raise ValueError(f"the measured record has no {key!r}")
            scalars[key] = kind(data[key])
            used.add(key)
        extra = {k: v for k, v in data.items() if k not in used}
        return cls(figures=FrozenMapping(figures), extra=freeze(extra), **scalars)

    def to_dict(self) -> dict[str, Any]:
        """The projection it was read from (key order: figures, then how, then the extra keys)."""
        out: dict[str, Any] = {}
        for name, fig in self.figures.items():
            out[name] = fig.value
            if name == "outside_cutoff":
                continue
            out[f"{name}_ci"] = [fig.ci[0], fig.ci[1]]
            if not math.isnan(fig.std):
                out[f"{name}_std"] = fig.std
            if not math.isnan(fig.bias):
                out[f"{name}_bias"] = fig.bias
        out.update({key: getattr(self, key) for key in _MEASURED_SCALARS})
        out.update(thaw(self.extra))
        return out


@dataclass(frozen=True)
class CircuitReport:
    """How the register was made: the mapping's description and details, and the compilation onto the device."""

    description: str
    details: Mapping[str, Any]
    physical_qubits: tuple[int, ...]
    register_physical_qubits: tuple[int, ...]
    depth: int
    two_qubit_gates: int
    duration_ns: float
    seed_transpiler: int
    transpile_check: float
    transpile_route: str

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["details"] = thaw(self.details)
        out["physical_qubits"] = list(self.physical_qubits)
        out["register_physical_qubits"] = list(self.register_physical_qubits)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CircuitReport:
        return cls(
            description=str(data["description"]),
            details=freeze(data["details"]),
            physical_qubits=tuple(int(q) for q in data["physical_qubits"]),
            register_physical_qubits=tuple(int(q) for q in data["register_physical_qubits"]),
            depth=int(data["depth"]),
            two_qubit_gates=int(data["two_qubit_gates"]),
            duration_ns=float(data["duration_ns"]),
            seed_transpiler=int(data["seed_transpiler"]),
            transpile_check=_float(data["transpile_check"]),
            transpile_route=str(data["transpile_route"]),
        )


@dataclass(frozen=True)
class SettingCounts:
    """Counts of one tomography setting: Qiskit bitstrings of the tomography register (character k from the
    right is register position k) -> count."""

    setting: str
    counts: Mapping[str, int]

    @property
    def shots(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {"setting": self.setting, "shots": self.shots, "counts": dict(sorted(self.counts.items()))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SettingCounts:
        return cls(str(data["setting"]), FrozenMapping({str(k): int(v) for k, v in data["counts"].items()}))


@dataclass(frozen=True)
class CalibrationInfo:
    """Which calibration a point ran on: its name, date and source as the file states them, and the SHA-256 of its
    canonical content (``qbhw.hardware.calibration_hash``: an edited file has another hash under the same name)."""

    name: str
    date: str
    source: str
    content_hash: str

    def to_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationInfo:
        return cls(**{f.name: str(data[f.name]) for f in dataclasses.fields(cls)})


def _spread(values: Sequence[float]) -> dict[str, float]:
    """min, max and standard deviation (ddof 0: the spread of these layouts, not an estimate) of ``values``."""
    mean = sum(values) / len(values)
    return {
        "min": min(values),
        "max": max(values),
        "std": math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)),
    }


@dataclass(frozen=True)
class LayoutSpread:
    """The noisy prediction on the K best qubit sets of the device (``--layouts K``), best first: entry 0 is the
    compilation the point reports; the others show how much the prediction depends on that one choice."""

    physical_qubits: tuple[tuple[int, ...], ...]
    register_physical_qubits: tuple[tuple[int, ...], ...]
    two_qubit_gates: tuple[int, ...]
    noisy: tuple[Figures, ...]

    def spread(self, key: str) -> dict[str, float]:
        """min, max and std over the layouts of figure ``key``."""
        return _spread([float(getattr(f, key)) for f in self.noisy])

    def to_dict(self, names: Mapping[str, str] | None = None) -> dict[str, Any]:
        """``names`` renames figures (a model's ``ModelSpec.figure_names``)."""
        names = names or {}
        return {
            "count": len(self.noisy),
            "physical_qubits": [list(q) for q in self.physical_qubits],
            "register_physical_qubits": [list(q) for q in self.register_physical_qubits],
            "two_qubit_gates": list(self.two_qubit_gates),
            "spread": renamed({key: self.spread(key) for key in FIGURE_KEYS}, names),
            "noisy": [renamed(f.to_dict(), names) for f in self.noisy],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], names: Mapping[str, str] | None = None) -> LayoutSpread:
        back = {new: old for old, new in (names or {}).items()}
        return cls(
            physical_qubits=tuple(tuple(int(q) for q in qs) for qs in data["physical_qubits"]),
            register_physical_qubits=tuple(tuple(int(q) for q in qs) for qs in data["register_physical_qubits"]),
            two_qubit_gates=tuple(int(g) for g in data["two_qubit_gates"]),
            noisy=tuple(Figures.from_dict(renamed(f, back)) for f in data["noisy"]),
        )


#: the companions of a figure ``x`` in a measured projection: ``x_ci``, ``x_std``, ``x_bias``
_COMPANIONS = ("", "_ci", "_std", "_bias")


def renamed(data: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with each figure ``old`` of ``names`` (and its ``_ci``, ``_std``, ``_bias`` companions) renamed to
    ``names[old]``; other keys unchanged, order kept."""
    table = {old + c: new + c for old, new in names.items() for c in _COMPANIONS}
    return {table.get(k, k): v for k, v in data.items()}


@dataclass(frozen=True)
class PointRecord:
    """One point of a run (module docstring).

    model, parameters, time, options   the inputs: model name, the params, time and circuit-options dataclasses
                      as plain mappings, unset (None) time and option fields left out (``time`` holds the model's
                      evolution time, e.g. {"time": 0.3}; empty for a steady state and for the micromaser, whose time
                      is its ``collisions`` parameter)
    device, shots, seed, sampling_seed   where and how it was measured (``shots``: total over the settings)
    ideal, circuit, noisy   Figures of the ideal model, the noiseless circuit (its exact channel) and the noisy
                      prediction; ``compilation`` the circuit report
    measured          the tomography estimate (None when shots = 0); ``counts`` its data, one entry per setting
    qiskit_version, qiskit_aer_version, qbhw_version   the software that made it
    spawn_key         the point's key under the job seed: its randomness is ``SeedSequence(seed, spawn_key)``
                      (point k of a job has (k,); ``sampling_seed`` and the measured ``bootstrap_seed`` derive from it)
    calibration       name, date, source and content hash of the device calibration
    layouts           the noisy prediction on the K best qubit sets (``--layouts K``), or None

    In the JSON, figures the model names otherwise (``ModelSpec.figure_names``: the micromaser's ``capacity`` is
    ``truncated_capacity``) carry that name in ``ideal``, ``circuit``, ``noisy`` and ``measured``.
    """

    model: str
    parameters: Mapping[str, Any]
    time: Mapping[str, Any]
    options: Mapping[str, Any]
    device: str
    shots: int | None
    seed: int
    sampling_seed: int
    ideal: Figures
    circuit: Figures
    noisy: Figures
    compilation: CircuitReport
    measured: MeasuredRecord | None
    qiskit_version: str
    qiskit_aer_version: str
    qbhw_version: str
    counts: tuple[SettingCounts, ...] = ()
    spawn_key: tuple[int, ...] = ()
    calibration: CalibrationInfo | None = None
    layouts: LayoutSpread | None = None

    @property
    def figure_names(self) -> Mapping[str, str]:
        return model_spec(self.model).figure_names

    def to_dict(self, *, counts: bool = False) -> dict[str, Any]:
        """The JSON object of the point (docs/design.md section 3); the time quantities sit at the top level, where
        ``qbhw ideal`` puts them. ``counts=True`` adds ``counts`` (the point store keeps them; result.json does
        not, counts.json does)."""
        names = self.figure_names
        out: dict[str, Any] = {"model": self.model, "parameters": thaw(self.parameters)}
        out.update(thaw(self.time))
        out.update(
            options=thaw(self.options),
            device=self.device,
            calibration=None if self.calibration is None else self.calibration.to_dict(),
            shots=self.shots,
            seed=self.seed,
            spawn_key=list(self.spawn_key),
            sampling_seed=self.sampling_seed,
            qiskit_version=self.qiskit_version,
            qiskit_aer_version=self.qiskit_aer_version,
            qbhw_version=self.qbhw_version,
            ideal=renamed(self.ideal.to_dict(), names),
            circuit={**renamed(self.circuit.to_dict(), names), **self.compilation.to_dict()},
            noisy=renamed(self.noisy.to_dict(), names),
        )
        if self.layouts is not None:
            out["noisy_layouts"] = self.layouts.to_dict(names)
        out["measured"] = None if self.measured is None else renamed(self.measured.to_dict(), names)
        if counts:
            out["counts"] = self.counts_list()
        return out

    def counts_list(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.counts]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PointRecord:
        """The record of ``to_dict`` (with or without counts). The time keys are the model's time fields
        (``qbhw.experiments.catalog``)."""
        spec = model_spec(str(data["model"]))
        time_fields = () if spec.time is None else tuple(f.name for f in dataclasses.fields(spec.time))
        back = {new: old for old, new in spec.figure_names.items()}
        circuit = renamed(data["circuit"], back)
        measured = data.get("measured")
        measured = None if measured is None else renamed(measured, back)
        calibration = data.get("calibration")
        layouts = data.get("noisy_layouts")
        return cls(
            model=spec.name,
            parameters=freeze(data["parameters"]),
            time=freeze({k: data[k] for k in time_fields if k in data}),
            options=freeze(data.get("options", {})),
            device=str(data["device"]),
            shots=None if data["shots"] is None else int(data["shots"]),
            seed=int(data["seed"]),
            sampling_seed=int(data["sampling_seed"]),
            ideal=Figures.from_dict(renamed(data["ideal"], back)),
            circuit=Figures.from_dict(circuit),
            noisy=Figures.from_dict(renamed(data["noisy"], back)),
            compilation=CircuitReport.from_dict(circuit),
            measured=None if measured is None else MeasuredRecord.from_dict(measured),
            qiskit_version=str(data["qiskit_version"]),
            qiskit_aer_version=str(data["qiskit_aer_version"]),
            qbhw_version=str(data["qbhw_version"]),
            counts=tuple(SettingCounts.from_dict(c) for c in data.get("counts", ())),
            spawn_key=tuple(int(k) for k in data.get("spawn_key", ())),
            calibration=None if calibration is None else CalibrationInfo.from_dict(calibration),
            layouts=None if layouts is None else LayoutSpread.from_dict(layouts, spec.figure_names),
        )

    def value(self, name: str) -> Any:
        """The value of a params or time field by name (``time``, ``collisions``, ...); None when unset."""
        if name in self.time:
            return self.time[name]
        return self.parameters.get(name)


def records_equal(a: Sequence[PointRecord], b: Sequence[PointRecord]) -> bool:
    """Whether two sequences of records are equal element by element."""
    return len(a) == len(b) and all(x == y for x, y in zip(a, b, strict=True))
