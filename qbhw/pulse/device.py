"""Cavity-QED device parameters for the pulse layer: a flux-tunable transmon and a storage resonator.

Laboratory units, carried in the field names (docs/physics.md section 6.1): frequencies f = omega/2pi in GHz,
``coupling_mhz`` = g/2pi of H = g(a^dag b + a b^dag), ``kappa_mhz`` = kappa/2pi (energy decay rate of the
resonator), times in us (T1, T2) or ns (reset, flux rise). ``excited_population`` p_e is the transmon's thermal
excited population (T1 relaxes it to p_e); ``reset_error`` is the excited population a reset leaves behind;
``thermal_photons`` the mean occupation of the resonator's bath.

A ``CavityQEDDevice`` is what the pulse-level micromaser runs on. It can be written in Python (e.g.
``synthetic_micromaser_device()``) or read from a calibration with ``from_calibration``, which reads the names of
calibration schema v2 (``QubitCalibration.tunable_range_ghz``, ``flux_rise_ns``, ``reset_duration_ns``;
``ResonatorCalibration.role``, ``thermal_photons``) with ``getattr``, so it works on any object carrying them.
Every rule is checked on construction; a violation raises ``CalibrationError`` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from qbhw.errors import CalibrationError

RESONATOR_ROLES = ("readout", "storage", "bus")


def _finite(name: str, value: object) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CalibrationError(f"must be a finite number (got {value!r})", field=name) from None
    if isinstance(value, bool) or not math.isfinite(v):
        raise CalibrationError(f"must be a finite number (got {value!r})", field=name)
    return v


def _positive(name: str, value: object) -> float:
    v = _finite(name, value)
    if v <= 0.0:
        raise CalibrationError(f"must be > 0 (got {value!r})", field=name)
    return v


def _nonnegative(name: str, value: object) -> float:
    v = _finite(name, value)
    if v < 0.0:
        raise CalibrationError(f"must be >= 0 (got {value!r})", field=name)
    return v


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Transmon:
    """A transmon as a Duffing oscillator: H = omega_q(t) b^dag b + (alpha/2) b^dag b^dag b b.

    freq_ghz            idle (parked) frequency f_01
    anharmonicity_ghz   alpha/2pi = f_12 - f_01 (negative for a transmon)
    t1_us, t2_us        energy relaxation and coherence times (None: no such process); T2 <= 2 T1
    excited_population  thermal excited population p_e of its environment, in [0, 1/2)
    reset_error         excited population left by a reset, in [0, 1]
    reset_duration_ns   duration of the reset, >= 0
    tunable_range_ghz   (low, high) reachable f_01 by flux, or None for a fixed-frequency transmon
    flux_rise_ns        rise (and fall) time of a flux pulse, >= 0
    """

    freq_ghz: float
    anharmonicity_ghz: float
    t1_us: float | None = None
    t2_us: float | None = None
    excited_population: float = 0.0
    reset_error: float = 0.0
    reset_duration_ns: float = 0.0
    tunable_range_ghz: tuple[float, float] | None = None
    flux_rise_ns: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "freq_ghz", _positive("freq_ghz", self.freq_ghz))
        _set(self, "anharmonicity_ghz", _finite("anharmonicity_ghz", self.anharmonicity_ghz))
        t1 = None if self.t1_us is None else _positive("t1_us", self.t1_us)
        t2 = None if self.t2_us is None else _positive("t2_us", self.t2_us)
        if t2 is not None and t1 is not None and t2 > 2.0 * t1:
            raise CalibrationError(f"must be <= 2*t1_us (got {t2!r} > 2*{t1!r})", field="t2_us")
        _set(self, "t1_us", t1)
        _set(self, "t2_us", t2)
        p = _finite("excited_population", self.excited_population)
        if not 0.0 <= p < 0.5:
            raise CalibrationError(f"must be in [0, 0.5) (got {p!r})", field="excited_population")
        _set(self, "excited_population", p)
        r = _finite("reset_error", self.reset_error)
        if not 0.0 <= r <= 1.0:
            raise CalibrationError(f"must be in [0, 1] (got {r!r})", field="reset_error")
        _set(self, "reset_error", r)
        _set(self, "reset_duration_ns", _nonnegative("reset_duration_ns", self.reset_duration_ns))
        _set(self, "flux_rise_ns", _nonnegative("flux_rise_ns", self.flux_rise_ns))
        if self.tunable_range_ghz is not None:
            try:
                low, high = self.tunable_range_ghz
            except (TypeError, ValueError):
                raise CalibrationError(
                    f"must be a pair (low, high) or None (got {self.tunable_range_ghz!r})", field="tunable_range_ghz"
                ) from None
            low = _positive("tunable_range_ghz[0]", low)
            high = _positive("tunable_range_ghz[1]", high)
            if low > high:
                raise CalibrationError(f"must have low <= high (got {low!r} > {high!r})", field="tunable_range_ghz")
            _set(self, "tunable_range_ghz", (low, high))

    @property
    def dephasing_rate_per_us(self) -> float:
        """Gamma_phi = 1/T2 - 1/(2 T1) in 1/us (0 when T2 is not given; with T1 unknown, 1/T2)."""
        if self.t2_us is None:
            return 0.0
        g1 = 0.0 if self.t1_us is None else 1.0 / self.t1_us
        return max(1.0 / self.t2_us - 0.5 * g1, 0.0)

    def reaches(self, freq_ghz: float) -> bool:
        """Whether a flux pulse can bring f_01 to ``freq_ghz``."""
        if self.tunable_range_ghz is None:
            return False
        low, high = self.tunable_range_ghz
        return low <= freq_ghz <= high


@dataclass(frozen=True)
class Resonator:
    """A resonator mode truncated at a Fock cutoff: H = omega_r a^dag a, energy decay kappa into a bath holding
    ``thermal_photons``; ``role`` is "readout", "storage" or "bus"."""

    freq_ghz: float
    kappa_mhz: float = 0.0
    thermal_photons: float = 0.0
    role: str = "storage"

    def __post_init__(self) -> None:
        _set(self, "freq_ghz", _positive("freq_ghz", self.freq_ghz))
        _set(self, "kappa_mhz", _nonnegative("kappa_mhz", self.kappa_mhz))
        _set(self, "thermal_photons", _nonnegative("thermal_photons", self.thermal_photons))
        if self.role not in RESONATOR_ROLES:
            raise CalibrationError(f"must be one of {list(RESONATOR_ROLES)} (got {self.role!r})", field="role")


@dataclass(frozen=True)
class CavityQEDDevice:
    """One flux-tunable transmon coupled to one resonator with g/2pi = ``coupling_mhz``.

    ``sample_ns`` is the control electronics' sample time: flux ramps and drive envelopes are piecewise constant
    over samples of this length (as an arbitrary waveform generator outputs them).
    """

    name: str
    transmon: Transmon
    resonator: Resonator
    coupling_mhz: float
    sample_ns: float = 0.25

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise CalibrationError(f"must be a non-empty string (got {self.name!r})", field="name")
        if not isinstance(self.transmon, Transmon):
            raise CalibrationError(f"must be a Transmon (got {type(self.transmon).__name__})", field="transmon")
        if not isinstance(self.resonator, Resonator):
            raise CalibrationError(f"must be a Resonator (got {type(self.resonator).__name__})", field="resonator")
        _set(self, "coupling_mhz", _nonnegative("coupling_mhz", self.coupling_mhz))
        _set(self, "sample_ns", _positive("sample_ns", self.sample_ns))

    def require_micromaser_host(self) -> None:
        """Raise CalibrationError unless the transmon can be flux-pulsed into resonance with a storage resonator."""
        t, r = self.transmon, self.resonator
        if r.role != "storage":
            raise CalibrationError(
                f"device {self.name!r} cannot host the micromaser: its resonator is a {r.role} resonator, "
                "not a storage resonator"
            )
        if t.tunable_range_ghz is None:
            raise CalibrationError(
                f"device {self.name!r} cannot host the micromaser: its transmon is not flux-tunable "
                "(no tunable_range_ghz)"
            )
        if not t.reaches(r.freq_ghz):
            low, high = t.tunable_range_ghz
            raise CalibrationError(
                f"device {self.name!r} cannot host the micromaser: the transmon's tunable range {low:g}-{high:g} GHz "
                f"does not reach the storage resonator at {r.freq_ghz:g} GHz"
            )
        if self.coupling_mhz <= 0.0:
            raise CalibrationError(
                f"device {self.name!r} cannot host the micromaser: the transmon-resonator coupling is 0"
            )


def synthetic_micromaser_device() -> CavityQEDDevice:
    """A documented synthetic transmon + storage-resonator pair (typical published circuit-QED values, not a device).

    Transmon parked at 5.0 GHz, tunable 4.0-6.5 GHz, alpha/2pi = -0.25 GHz, T1 = 100 us, T2 = 80 us, thermal
    p_e = 0.01, reset leaving 1 % excited after 1.2 us (IBM-like reset durations are 1.6-2.2 us), flux ramps of
    2 ns (flux-line bandwidth ~100 MHz); storage resonator at 6.0 GHz with kappa/2pi = 5 kHz (Q ~ 1.2e6) and
    0.005 thermal photons; swap coupling g/2pi = 10 MHz (5-20 MHz for resonant swaps); 0.25 ns control samples.
    Ranges as in Krantz et al., Appl. Phys. Rev. 6, 021318 (2019) and Blais et al., Rev. Mod. Phys. 93, 025005 (2021).
    """
    return CavityQEDDevice(
        name="synthetic_micromaser",
        transmon=Transmon(
            freq_ghz=5.0,
            anharmonicity_ghz=-0.25,
            t1_us=100.0,
            t2_us=80.0,
            excited_population=0.01,
            reset_error=0.01,
            reset_duration_ns=1200.0,
            tunable_range_ghz=(4.0, 6.5),
            flux_rise_ns=2.0,
        ),
        resonator=Resonator(freq_ghz=6.0, kappa_mhz=0.005, thermal_photons=0.005, role="storage"),
        coupling_mhz=10.0,
        sample_ns=0.25,
    )


# ------------------------------------------------------------------------------------------ from a calibration


def _required(obj: Any, name: str, where: str) -> Any:
    value = getattr(obj, name, None)
    if value is None:
        raise CalibrationError(
            "is missing: the pulse-level micromaser needs it (calibration schema v2)", field=f"{where}.{name}"
        )
    return value


def from_calibration(cal: Any, *, resonator: int | None = None, sample_ns: float | None = None) -> CavityQEDDevice:
    """The transmon-storage pair of a device calibration that can host the micromaser.

    Reads (schema v2 names) ``cal.name``, ``cal.dt_ns``, ``cal.resonators[j].{freq_ghz, kappa_mhz, coupling_mhz,
    qubit, role, thermal_photons}`` and ``cal.qubits[k].{freq_ghz, anharmonicity_ghz, t1_us, t2_us,
    excited_population, reset_error, reset_duration_ns, tunable_range_ghz, flux_rise_ns}``. Uses resonator
    ``resonator`` if given, else the first storage resonator whose transmon is flux-tunable into resonance with it.
    ``sample_ns`` defaults to the calibration's ``dt_ns`` (0.25 ns if it has none).

    Raises CalibrationError naming the device and what it lacks: no storage resonator, no flux-tunable transmon
    that reaches one, or a missing field.
    """
    name = str(getattr(cal, "name", "device"))
    resonators = tuple(getattr(cal, "resonators", ()) or ())
    qubits = tuple(getattr(cal, "qubits", ()) or ())
    if resonator is not None:
        if isinstance(resonator, bool) or not isinstance(resonator, int) or not 0 <= resonator < len(resonators):
            raise CalibrationError(
                f"device {name!r} has no resonator {resonator!r} (it has {len(resonators)})", field="resonators"
            )
        candidates = [resonator]
    else:
        candidates = list(range(len(resonators)))
    roles = [getattr(resonators[j], "role", None) for j in candidates]
    storage = [j for j, role in zip(candidates, roles, strict=True) if role == "storage"]
    if not storage:
        if all(role is None for role in roles):
            why = "its calibration gives no resonator roles (schema v1)" if resonators else "it has no resonators"
        else:
            why = "no resonator has role 'storage'"
        raise CalibrationError(f"device {name!r} cannot host the micromaser: it has no storage resonator ({why})")
    reasons = []
    for j in storage:
        r = resonators[j]
        q = getattr(r, "qubit", None)
        if q is None or not 0 <= int(q) < len(qubits):
            reasons.append(f"resonator {j} is coupled to no listed qubit")
            continue
        qubit = qubits[int(q)]
        span = getattr(qubit, "tunable_range_ghz", None)
        f_r = float(_required(r, "freq_ghz", f"resonators[{j}]"))
        if span is None:
            reasons.append(f"storage resonator {j} sits on qubit {q}, which is not flux-tunable")
            continue
        low, high = (float(x) for x in span)
        if not low <= f_r <= high:
            reasons.append(f"qubit {q} tunes over {low:g}-{high:g} GHz, not to resonator {j} at {f_r:g} GHz")
            continue
        where_q, where_r = f"qubits[{q}]", f"resonators[{j}]"
        try:
            transmon = Transmon(
                freq_ghz=_required(qubit, "freq_ghz", where_q),
                anharmonicity_ghz=_required(qubit, "anharmonicity_ghz", where_q),
                t1_us=_required(qubit, "t1_us", where_q),
                t2_us=_required(qubit, "t2_us", where_q),
                excited_population=_required(qubit, "excited_population", where_q),
                reset_error=_required(qubit, "reset_error", where_q),
                reset_duration_ns=_required(qubit, "reset_duration_ns", where_q),
                tunable_range_ghz=(low, high),
                flux_rise_ns=_required(qubit, "flux_rise_ns", where_q),
            )
        except CalibrationError as e:
            raise e if e.field.startswith("qubits[") else e.within(where_q) from None
        try:
            res = Resonator(
                freq_ghz=f_r,
                kappa_mhz=_required(r, "kappa_mhz", where_r),
                thermal_photons=_required(r, "thermal_photons", where_r),
                role="storage",
            )
        except CalibrationError as e:
            raise e if e.field.startswith("resonators[") else e.within(where_r) from None
        dt = sample_ns if sample_ns is not None else getattr(cal, "dt_ns", None)
        return CavityQEDDevice(
            name=f"{name}:q{q}-r{j}",
            transmon=transmon,
            resonator=res,
            coupling_mhz=_required(r, "coupling_mhz", where_r),
            sample_ns=0.25 if dt is None else dt,
        )
    raise CalibrationError(
        f"device {name!r} cannot host the micromaser: no storage resonator has a flux-tunable transmon that reaches "
        f"it ({'; '.join(reasons)})"
    )


def as_device(device: Any) -> CavityQEDDevice:
    """``device`` itself, ``synthetic_micromaser_device()`` for None, or ``from_calibration(device)``."""
    if device is None:
        return synthetic_micromaser_device()
    if isinstance(device, CavityQEDDevice):
        return device
    if hasattr(device, "resonators") and hasattr(device, "qubits"):
        return from_calibration(device)
    raise CalibrationError(
        f"must be a CavityQEDDevice or a device calibration (got {type(device).__name__})", field="device"
    )
