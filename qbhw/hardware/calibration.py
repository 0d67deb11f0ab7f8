"""The calibration schema (version 2): frozen dataclasses of a device and the rules each one obeys.

A calibration describes physical transmons, their gates, couplings and resonator modes in laboratory units; every
field carries its unit in its name:

* frequencies f = omega/2pi: ``freq_ghz`` (a qubit's idle/parked f01, a resonator's f_r), ``tunable_range_ghz``
  (min, max f01 reachable by flux; null = fixed frequency), ``anharmonicity_ghz`` ((omega_12 - omega_01)/2pi,
  negative for transmons);
* rates and couplings /2pi in MHz: ``kappa_mhz`` (kappa/2pi, a resonator's energy decay rate),
  ``coupling_mhz`` (g/2pi of g(a^dag b + a b^dag), resonator a, transmon b), ``j_mhz`` (J/2pi of the static
  exchange J(b1^dag b2 + b1 b2^dag) between two transmons);
* times: ``t1_us``, ``t2_us`` (T2 = 1/(Gamma_1/2 + Gamma_phi), so 0 < T2 <= 2 T1), ``duration_ns``,
  ``readout_duration_ns``, ``reset_duration_ns``, ``flux_rise_ns`` (rise = fall time of a flux pulse), ``dt_ns``
  (control sample time); timing constraints ``granularity``, ``min_length``, ``pulse_alignment``,
  ``acquire_alignment`` are integers in units of dt (Qiskit's Target conventions);
* probabilities and populations: ``readout_p1_given_0`` = P(read 1 | prepared 0), ``readout_p0_given_1`` =
  P(read 0 | prepared 1), ``reset_error`` = residual excited population P(|1>) right after a reset,
  ``excited_population`` = thermal p_e of the qubit's environment (0 <= p_e < 1/2; with f it fixes the effective
  temperature, p_e = 1/(exp(h f / k_B T) + 1), see ``qbhw.hardware.units``), ``thermal_photons`` = mean thermal
  photon number n_th of a resonator's bath. Gate ``error`` is the average gate infidelity 1 - F_avg, at most
  d/(d+1) for a d-dimensional gate.

Qubit labels are physical indices 0..n-1, basis index 0 = |0> = |g>. Every rule is checked when a dataclass is
built (from Python or from JSON); a violation raises ``CalibrationError`` naming the field path, e.g.
``qubits[3].t2_us must be <= 2*t1_us (got 250 > 2*100)``; ``calibration_io`` adds the file. Version-1 files (no
tunable range, flux rise, resonator role or thermal photons, qubit couplings or timing constraints) load with the
defaults of those fields.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from qbhw.errors import CalibrationError
from qbhw.hardware import checks
from qbhw.hardware.units import effective_temperature_mk

#: the schema the dataclasses follow (files of every ``KNOWN_SCHEMA_VERSIONS`` are read, and upgraded to it)
SCHEMA_VERSION = 2
KNOWN_SCHEMA_VERSIONS = (1, 2)
#: what a resonator is for: "readout" (dispersive measurement), "storage" (a high-Q memory/battery mode),
#: "bus" (a mode mediating couplings)
RESONATOR_ROLES = ("readout", "storage", "bus")
#: largest timing constraint (in units of dt) accepted
MAX_TIMING_CONSTRAINT = 1 << 16
#: a duration is a whole number of samples when it is within this of k * dt (Qiskit's own rounding tolerance,
#: 1e-15 s, in ns)
SAMPLE_TOLERANCE_NS = 1e-6
#: longest device name (it becomes a file name)
MAX_NAME_LENGTH = 100

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _fail(reason: str, field: str) -> CalibrationError:
    return CalibrationError(reason, field=field)


@dataclass(frozen=True)
class QubitCalibration:
    """One physical qubit (a transmon). Units are in the field names; see the module docstring.

    ``freq_ghz`` (the idle f01; for a flux-tunable transmon its parking point) and ``anharmonicity_ghz`` may be
    None (unknown: Heron fake backends report no frequency); the thermal state is carried by
    ``excited_population`` itself, so a missing frequency never turns into an infinite temperature.
    ``readout_duration_ns`` / ``reset_duration_ns`` are the durations of ``measure`` / ``reset``; ``reset_error``
    is the excited population a reset leaves behind. A flux-tunable transmon has ``tunable_range_ghz`` = (min, max)
    of f01 with the idle frequency inside it, and ``flux_rise_ns`` the rise (= fall) time of its flux pulses.
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
    tunable_range_ghz: tuple[float, float] | None = None
    flux_rise_ns: float | None = None

    def __post_init__(self) -> None:
        _set(self, "index", checks.index("index", self.index))
        _set(self, "freq_ghz", checks.optional(checks.positive, "freq_ghz", self.freq_ghz))
        _set(self, "anharmonicity_ghz", checks.optional(checks.real, "anharmonicity_ghz", self.anharmonicity_ghz))
        t1 = checks.positive("t1_us", self.t1_us)
        t2 = checks.positive("t2_us", self.t2_us)
        if t2 > 2.0 * t1:
            raise _fail(f"must be <= 2*t1_us (got {self.t2_us!r} > 2*{self.t1_us!r})", "t2_us")
        _set(self, "t1_us", t1)
        _set(self, "t2_us", t2)
        for name in ("readout_p1_given_0", "readout_p0_given_1", "reset_error"):
            _set(self, name, checks.in_interval(name, getattr(self, name), 0.0, 1.0))
        p_e = checks.in_interval(
            "excited_population",
            self.excited_population,
            0.0,
            0.5,
            high_open=True,
            why=" (1/2 is infinite temperature)",
        )
        _set(self, "excited_population", p_e)
        for name in ("readout_duration_ns", "reset_duration_ns", "flux_rise_ns"):
            _set(self, name, checks.optional(checks.nonnegative, name, getattr(self, name)))
        _set(self, "tunable_range_ghz", checks.optional(_frequency_range, "tunable_range_ghz", self.tunable_range_ghz))
        if self.tunable_range_ghz is None:
            if self.flux_rise_ns is not None:
                raise _fail("must be null for a fixed-frequency qubit (tunable_range_ghz is null)", "flux_rise_ns")
        elif self.freq_ghz is not None:
            low, high = self.tunable_range_ghz
            if not low <= self.freq_ghz <= high:
                raise _fail(f"must lie in tunable_range_ghz [{low:g}, {high:g}] (got {self.freq_ghz:g})", "freq_ghz")

    @property
    def temperature_mk(self) -> float | None:
        """Effective temperature (mK) from ``excited_population`` and ``freq_ghz``; None if the frequency is unknown."""
        if self.freq_ghz is None:
            return None
        return effective_temperature_mk(self.freq_ghz, self.excited_population)

    @property
    def tunable(self) -> bool:
        """True for a flux-tunable transmon (``tunable_range_ghz`` is set)."""
        return self.tunable_range_ghz is not None


def _frequency_range(name: str, value: object) -> tuple[float, float]:
    pair = checks.sequence(name, value)
    if len(pair) != 2:
        raise checks.calibration_error(name, "a pair [min, max]", value)
    low = checks.positive(f"{name}[0]", pair[0])
    high = checks.positive(f"{name}[1]", pair[1])
    if not low < high:
        raise _fail(f"must be [min, max] with min < max (got [{low:g}, {high:g}])", name)
    return (low, high)


@dataclass(frozen=True)
class GateCalibration:
    """A calibrated gate on physical ``qubits`` (ordered as the gate's arguments)."""

    name: str
    qubits: tuple[int, ...]
    duration_ns: float
    error: float

    def __post_init__(self) -> None:
        checks.text("name", self.name)
        qubits = checks.sequence("qubits", self.qubits)
        if not qubits:
            raise _fail("must list at least one qubit (got [])", "qubits")
        qubits = tuple(checks.index(f"qubits[{k}]", q) for k, q in enumerate(qubits))
        if len(set(qubits)) != len(qubits):
            raise _fail(f"must be distinct qubits (got {checks.brief(list(qubits))})", "qubits")
        _set(self, "qubits", qubits)
        _set(self, "duration_ns", checks.nonnegative("duration_ns", self.duration_ns))
        d = 2 ** min(len(qubits), 64)
        why = f" (the largest average infidelity of a {len(qubits)}-qubit gate is d/(d+1))"
        _set(self, "error", checks.in_interval("error", self.error, 0.0, d / (d + 1), why=why))


@dataclass(frozen=True)
class ResonatorCalibration:
    """A bosonic mode coupled to one transmon: f_r, kappa/2pi (energy decay), g/2pi of g(a^dag b + a b^dag),
    its ``role`` (``RESONATOR_ROLES``) and the mean photon number ``thermal_photons`` of its bath."""

    index: int
    freq_ghz: float
    kappa_mhz: float
    coupling_mhz: float
    qubit: int
    role: str = "readout"
    thermal_photons: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "index", checks.index("index", self.index))
        _set(self, "freq_ghz", checks.positive("freq_ghz", self.freq_ghz))
        _set(self, "kappa_mhz", checks.nonnegative("kappa_mhz", self.kappa_mhz))
        _set(self, "coupling_mhz", checks.nonnegative("coupling_mhz", self.coupling_mhz))
        _set(self, "qubit", checks.index("qubit", self.qubit))
        _set(self, "role", checks.one_of("role", self.role, RESONATOR_ROLES))
        _set(self, "thermal_photons", checks.nonnegative("thermal_photons", self.thermal_photons))


@dataclass(frozen=True)
class QubitCouplingCalibration:
    """A static exchange coupling J(b1^dag b2 + b1 b2^dag) between two transmons, J/2pi = ``j_mhz``; the pair is
    unordered (stored as given)."""

    qubits: tuple[int, int]
    j_mhz: float

    def __post_init__(self) -> None:
        pair = checks.sequence("qubits", self.qubits)
        if len(pair) != 2:
            raise checks.calibration_error("qubits", "a pair [a, b]", self.qubits)
        a, b = (checks.index(f"qubits[{j}]", x) for j, x in enumerate(pair))
        if a == b:
            raise _fail(f"must be two different qubits (got [{a}, {b}])", "qubits")
        _set(self, "qubits", (a, b))
        _set(self, "j_mhz", checks.real("j_mhz", self.j_mhz))


@dataclass(frozen=True)
class DeviceCalibration:
    """A device snapshot. ``qubits[k].index == k``; ``gates`` use only ``basis_gates`` (Qiskit standard gate names)
    and every one-qubit basis gate is calibrated on every qubit; multi-qubit gates act on ``coupling_map`` edges
    (directed pairs, as the gate's argument order). ``date`` is ISO 8601. With ``dt_ns`` set, every non-zero
    duration (gates, readout, reset) is a whole number of samples, a multiple of ``granularity`` and at least
    ``min_length`` samples; without it the timing constraints are 1. ``schema_version`` is always
    ``SCHEMA_VERSION`` in memory (older files are upgraded when read).
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
    granularity: int = 1
    min_length: int = 1
    pulse_alignment: int = 1
    acquire_alignment: int = 1
    qubit_couplings: tuple[QubitCouplingCalibration, ...] = ()
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if isinstance(self.schema_version, bool) or self.schema_version != SCHEMA_VERSION:
            raise _fail(
                f"must be {SCHEMA_VERSION} (files of versions {list(KNOWN_SCHEMA_VERSIONS)} are upgraded when read; "
                f"got {checks.brief(self.schema_version)})",
                "schema_version",
            )
        self._check_header()
        self._check_timing()
        n = self._check_qubits()
        basis = self._check_basis()
        edges = self._check_coupling_map(n)
        self._check_gates(n, basis, edges)
        self._check_resonators(n)
        self._check_qubit_couplings(n)
        self._check_durations()

    # -- the rules, one group per method ----------------------------------------------------------------------
    def _check_header(self) -> None:
        checks.text("name", self.name)
        if len(self.name) > MAX_NAME_LENGTH or not _NAME_RE.match(self.name):
            raise _fail(
                f"must be at most {MAX_NAME_LENGTH} letters, digits, '_', '.', '-' (got {checks.brief(self.name)})",
                "name",
            )
        checks.text("source", self.source)
        checks.text("date", self.date)
        try:
            _dt.datetime.fromisoformat(self.date)
        except ValueError:
            raise _fail(f"must be an ISO 8601 date (got {checks.brief(self.date)})", "date") from None
        notes = checks.sequence("notes", self.notes)
        for k, note in enumerate(notes):
            checks.text(f"notes[{k}]", note)
        _set(self, "notes", notes)

    def _check_timing(self) -> None:
        _set(self, "dt_ns", checks.optional(checks.positive, "dt_ns", self.dt_ns))
        for name in ("granularity", "min_length", "pulse_alignment", "acquire_alignment"):
            value = checks.count(name, getattr(self, name), 1, MAX_TIMING_CONSTRAINT)
            if self.dt_ns is None and value != 1:
                raise _fail(f"must be 1 when dt_ns is null (it counts samples of dt; got {value})", name)
            _set(self, name, value)

    def _check_qubits(self) -> int:
        qubits = checks.sequence("qubits", self.qubits)
        if not qubits:
            raise _fail("must list at least one qubit", "qubits")
        for k, q in enumerate(qubits):
            if not isinstance(q, QubitCalibration):
                raise _fail(f"must be a QubitCalibration (got {type(q).__name__})", f"qubits[{k}]")
            if q.index != k:
                raise _fail(
                    f"must be {k}: qubits are listed in index order 0..n-1 (got {q.index})", f"qubits[{k}].index"
                )
        _set(self, "qubits", qubits)
        return len(qubits)

    def _check_basis(self) -> tuple[str, ...]:
        arity = checks.standard_gate_arity()
        basis = checks.sequence("basis_gates", self.basis_gates)
        for k, g in enumerate(basis):
            checks.text(f"basis_gates[{k}]", g)
            if g not in arity:
                hint = checks.did_you_mean(g, arity)
                raise _fail(f"must be a Qiskit standard gate name (got {checks.brief(g)}{hint})", f"basis_gates[{k}]")
            if g in basis[:k]:
                raise _fail(f"is listed twice ({g!r})", f"basis_gates[{k}]")
        _set(self, "basis_gates", basis)
        return basis

    def _check_coupling_map(self, n: int) -> set[tuple[int, int]]:
        edges: list[tuple[int, int]] = []
        seen: set[tuple[int, int]] = set()
        for k, e in enumerate(checks.sequence("coupling_map", self.coupling_map)):
            where = f"coupling_map[{k}]"
            pair = checks.sequence(where, e)
            if len(pair) != 2:
                raise _fail(f"must be a pair [a, b] (got {checks.brief(list(pair))})", where)
            a, b = (checks.index(f"{where}[{j}]", x) for j, x in enumerate(pair))
            if a >= n or b >= n:
                raise _fail(f"must join existing qubits 0..{n - 1} (got [{a}, {b}])", where)
            if a == b:
                raise _fail(f"must join two different qubits (got [{a}, {b}])", where)
            if (a, b) in seen:
                raise _fail(f"is listed twice ([{a}, {b}])", where)
            seen.add((a, b))
            edges.append((a, b))
        _set(self, "coupling_map", tuple(edges))
        return seen

    def _check_gates(self, n: int, basis: tuple[str, ...], edges: set[tuple[int, int]]) -> None:
        arity = checks.standard_gate_arity()
        gates = checks.sequence("gates", self.gates)
        seen: set[tuple[str, tuple[int, ...]]] = set()
        for k, g in enumerate(gates):
            where = f"gates[{k}]"
            if not isinstance(g, GateCalibration):
                raise _fail(f"must be a GateCalibration (got {type(g).__name__})", where)
            if g.name not in basis:
                raise _fail(f"must be one of basis_gates {list(basis)} (got {checks.brief(g.name)})", f"{where}.name")
            qubits = list(g.qubits)
            if len(g.qubits) != arity[g.name]:
                raise _fail(
                    f"must list {arity[g.name]} qubit(s) for {g.name!r} (got {checks.brief(qubits)})", f"{where}.qubits"
                )
            if max(g.qubits) >= n:
                raise _fail(f"must be existing qubits 0..{n - 1} (got {checks.brief(qubits)})", f"{where}.qubits")
            if len(g.qubits) == 2 and g.qubits not in edges:
                raise _fail(f"must be an edge of coupling_map (got {qubits})", f"{where}.qubits")
            key = (g.name, g.qubits)
            if key in seen:
                raise _fail(f"duplicates another {g.name!r} on {qubits}", where)
            seen.add(key)
        _set(self, "gates", gates)
        for g in basis:
            if arity[g] == 1:
                missing = [q for q in range(n) if (g, (q,)) not in seen]
                if missing:
                    raise _fail(f"has no {g!r} calibration for qubit(s) {missing[:10]}", "gates")
            elif not any(name == g for name, _ in seen):
                raise _fail(f"has no calibration for basis gate {g!r}", "gates")

    def _check_resonators(self, n: int) -> None:
        resonators = checks.sequence("resonators", self.resonators)
        for k, r in enumerate(resonators):
            if not isinstance(r, ResonatorCalibration):
                raise _fail(f"must be a ResonatorCalibration (got {type(r).__name__})", f"resonators[{k}]")
            if r.index != k:
                raise _fail(
                    f"must be {k}: resonators are listed in index order (got {r.index})", f"resonators[{k}].index"
                )
            if r.qubit >= n:
                raise _fail(f"must be an existing qubit 0..{n - 1} (got {r.qubit})", f"resonators[{k}].qubit")
        _set(self, "resonators", resonators)

    def _check_qubit_couplings(self, n: int) -> None:
        couplings = checks.sequence("qubit_couplings", self.qubit_couplings)
        seen: set[frozenset[int]] = set()
        for k, c in enumerate(couplings):
            where = f"qubit_couplings[{k}]"
            if not isinstance(c, QubitCouplingCalibration):
                raise _fail(f"must be a QubitCouplingCalibration (got {type(c).__name__})", where)
            if max(c.qubits) >= n:
                raise _fail(f"must be existing qubits 0..{n - 1} (got {list(c.qubits)})", f"{where}.qubits")
            pair = frozenset(c.qubits)
            if pair in seen:
                raise _fail(f"duplicates another coupling of qubits {sorted(pair)} (the pair is unordered)", where)
            seen.add(pair)
        _set(self, "qubit_couplings", couplings)

    def _check_durations(self) -> None:
        if self.dt_ns is None:
            return
        for k, q in enumerate(self.qubits):
            for name in ("readout_duration_ns", "reset_duration_ns"):
                self._check_samples(f"qubits[{k}].{name}", getattr(q, name))
        for k, g in enumerate(self.gates):
            self._check_samples(f"gates[{k}].duration_ns", g.duration_ns)

    def _check_samples(self, where: str, duration_ns: float | None) -> None:
        """A non-zero duration must be k samples of dt, k a multiple of granularity and k >= min_length."""
        if not duration_ns:
            return
        assert self.dt_ns is not None
        k = round(duration_ns / self.dt_ns)
        if not math.isclose(duration_ns, k * self.dt_ns, rel_tol=0.0, abs_tol=SAMPLE_TOLERANCE_NS):
            raise _fail(
                f"must be a whole number of samples of dt_ns = {self.dt_ns:g} "
                f"(got {duration_ns:g} ns = {duration_ns / self.dt_ns:.6g} samples)",
                where,
            )
        if k % self.granularity:
            raise _fail(f"must be a multiple of granularity = {self.granularity} samples (got {k} samples)", where)
        if k < self.min_length:
            raise _fail(f"must be at least min_length = {self.min_length} samples (got {k} samples)", where)

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
            raise _fail(f"has no gate {name!r} on qubits {list(qubits)}", "gates") from None

    def resonators_of(self, qubit: int, role: str | None = None) -> tuple[ResonatorCalibration, ...]:
        """The resonators coupled to physical ``qubit`` (with ``role``, if given), in index order."""
        if role is not None:
            checks.one_of("role", role, RESONATOR_ROLES)
        return tuple(r for r in self.resonators if r.qubit == qubit and (role is None or r.role == role))

    def qubit_coupling(self, a: int, b: int) -> QubitCouplingCalibration | None:
        """The static exchange coupling of qubits a and b (either order), or None if they are not coupled."""
        pair = {int(a), int(b)}
        return next((c for c in self.qubit_couplings if set(c.qubits) == pair), None)
