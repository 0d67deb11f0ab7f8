"""Calibrations from any Qiskit BackendV2 (real or simulated), in particular qiskit-ibm-runtime's fake backends.

Reads ``backend.target`` (gate durations and errors, measure/reset durations, coupling edges, dt and the timing
constraints granularity, min_length, pulse_alignment, acquire_alignment) and
``backend.target.qubit_properties`` (T1, T2, frequency). When the backend also offers ``properties()`` (runtime's
fake and real IBM backends do) the asymmetric readout errors P(1|0), P(0|1) and the anharmonicity come from there;
otherwise the target's symmetric measure error is used for both.

Choices, each recorded in the calibration's ``notes``:

* Effective temperature: backends carry none. The excited population is that of a thermal qubit at
  ``temperature_mk`` (default ``DEFAULT_TEMPERATURE_MK`` = 50 mK, typical of published transmon effective
  temperatures, roughly 40-70 mK) at the qubit's frequency: p_e = 1/(exp(h f / k_B T) + 1), about 1 %.
* Missing frequency (Heron fake backends report none; a frequency of 0 is treated as missing): ``freq_ghz`` is
  stored as null (unknown), and p_e is computed at ``FALLBACK_FREQ_GHZ`` = 4.8 GHz, typical of IBM fixed-frequency
  transmons. The thermal state is stored as p_e itself, so nothing downstream recomputes it from a frequency. This
  avoids the Heron temperature trap of ``NoiseModel.from_backend(..., temperature=T)``: with a frequency of 0 it
  evaluates p_e = 1/(e^0 + 1) = 1/2; with no frequency (runtime 0.51 with Aer 0.18.2) it silently ignores T and
  uses p_e = 0.
* T2 > 2 T1 (unphysical, seen on a few qubits of real snapshots): T2 is clamped to 2 T1.
* Multi-qubit gates with error >= 1 (IBM's mark of a broken gate or coupler) are dropped, and so is a coupling
  edge left without gates. A one-qubit gate reported broken is kept as fully depolarizing (error d/(d+1) = 2/3):
  the schema needs every one-qubit basis gate on every qubit, and qubit selection then avoids that qubit. Errors
  between d/(d+1) and 1 are clamped to d/(d+1) as well. Missing gate errors count as 0, missing durations as 0.
* Reset error: backends report none; it is set to the qubit's thermal excited population (a reset leaves the
  qubit in its environment's residual excitation at best).
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from qbhw.errors import CalibrationError, MissingDependencyError
from qbhw.hardware.calibration import DeviceCalibration, GateCalibration, QubitCalibration
from qbhw.hardware.checks import standard_gate_arity
from qbhw.hardware.units import excited_population_at, hz_to_ghz, s_to_ns, s_to_us

#: effective temperature (mK) assumed for backends that report none
DEFAULT_TEMPERATURE_MK = 50.0
#: frequency (GHz) at which p_e is evaluated for qubits whose frequency is unknown
FALLBACK_FREQ_GHZ = 4.8

_NOT_GATES = frozenset({"measure", "reset", "delay", "barrier"})


def _fake_provider() -> Any:
    try:
        from qiskit_ibm_runtime import fake_provider
    except ImportError:
        raise MissingDependencyError(
            "importing fake backends needs qiskit-ibm-runtime: pip install 'qbhw[ibm]' "
            "(or pip install qiskit-ibm-runtime)"
        ) from None
    return fake_provider


def known_fake_backends() -> tuple[str, ...]:
    """Class names of the BackendV2 fake backends in the installed qiskit-ibm-runtime (e.g. ``FakeTorino``)."""
    fp = _fake_provider()
    base: Any = getattr(fp, "FakeBackendV2", None)
    if base is None:  # pragma: no cover - layout of older runtime versions
        from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

        base = FakeBackendV2
    out = []
    for name in dir(fp):
        obj = getattr(fp, name)
        if name.startswith("Fake") and isinstance(obj, type) and issubclass(obj, base) and obj is not base:
            out.append(name)
    return tuple(sorted(out))


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def fake_backend_class_name(name: str) -> str:
    """``FakeTorino`` for ``FakeTorino``, ``fake_torino``, ``torino`` or ``ibm_torino`` (case-insensitive).

    Raises CalibrationError listing the known fake backends when nothing matches.
    """
    known = known_fake_backends()
    key = _squash(name)
    key = key[3:] if key.startswith("ibm") else key
    key = key if key.startswith("fake") else "fake" + key
    by_key = {_squash(k): k for k in known}
    for candidate in (key, key + "v2"):
        if candidate in by_key:
            return by_key[candidate]
    raise CalibrationError(f"unknown fake backend {name!r}; known fake backends: {', '.join(known)}")


def _snake(class_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def import_fake_backend(name: str, *, temperature_mk: float = DEFAULT_TEMPERATURE_MK) -> DeviceCalibration:
    """Calibration of the qiskit-ibm-runtime fake backend ``name`` (see ``fake_backend_class_name``).

    The calibration is named like the class in snake case (``FakeTorino`` -> ``fake_torino``).
    """
    fp = _fake_provider()
    cls_name = fake_backend_class_name(name)
    backend = getattr(fp, cls_name)()
    import qiskit_ibm_runtime

    version = getattr(qiskit_ibm_runtime, "__version__", "?")
    props = backend.properties()
    source = (
        f"qiskit-ibm-runtime {version} fake_provider.{cls_name} (snapshot of {getattr(props, 'backend_name', '?')} "
        f"version {getattr(props, 'backend_version', '?')})"
    )
    return calibration_from_backend(backend, name=_snake(cls_name), source=source, temperature_mk=temperature_mk)


def _props_value(props: Any, qubit: int, key: str) -> float | None:
    if props is None:
        return None
    try:
        entry = props.qubit_property(qubit).get(key)
    except Exception:  # BackendPropertyError for a qubit without properties
        return None
    if entry is None:
        return None
    value = entry[0] if isinstance(entry, tuple) else entry
    return None if value is None else float(value)


def _ghz(hertz: float | None) -> float | None:
    # BackendProperties.qubit_property converts to SI units (Hz)
    return None if hertz is None else hz_to_ghz(hertz)


def _ns(seconds: float | None) -> float | None:
    return None if seconds is None else round(s_to_ns(float(seconds)), 6)  # drop float noise below 1 fs


def _ids(items: list[Any], limit: int = 12) -> str:
    text = ", ".join(str(x) for x in items[:limit])
    return text + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def calibration_from_backend(
    backend: Any,
    *,
    name: str | None = None,
    source: str | None = None,
    temperature_mk: float = DEFAULT_TEMPERATURE_MK,
    fallback_freq_ghz: float = FALLBACK_FREQ_GHZ,
) -> DeviceCalibration:
    """DeviceCalibration of a Qiskit BackendV2 (its ``target``; ``properties()`` if it has one). See module doc."""
    target = backend.target
    n = int(target.num_qubits)
    props = backend.properties() if callable(getattr(backend, "properties", None)) else None
    qprops = target.qubit_properties or [None] * n
    notes: list[str] = []

    def inst(op: str, q: int) -> Any:
        if op not in target.operation_names:
            return None
        return target[op].get((q,))

    missing_freq: list[int] = []
    clamped_t2: list[str] = []
    qubits = []
    for q in range(n):
        qp = qprops[q]
        t1 = None if qp is None else qp.t1
        t2 = None if qp is None else qp.t2
        if t1 is None or t2 is None:
            raise CalibrationError(f"qubit {q} of backend {getattr(backend, 'name', '?')} reports no T1/T2")
        t1_us = s_to_us(float(t1))
        t2_us = s_to_us(float(t2))
        if t2_us > 2.0 * t1_us:
            clamped_t2.append(f"{q} ({t2_us:.4g} us)")
            t2_us = 2.0 * t1_us
        freq = None if qp is None or qp.frequency is None or qp.frequency <= 0 else hz_to_ghz(float(qp.frequency))
        if freq is None:
            missing_freq.append(q)
        p_e = excited_population_at(freq if freq is not None else fallback_freq_ghz, temperature_mk)
        meas = inst("measure", q)
        sym = None if meas is None or meas.error is None else float(meas.error)
        p10 = _props_value(props, q, "prob_meas1_prep0")
        p01 = _props_value(props, q, "prob_meas0_prep1")
        if p10 is None or p01 is None:
            p10 = p01 = sym if sym is not None else 0.0
        reset = inst("reset", q)
        reset_err = None if reset is None or reset.error is None else float(reset.error)
        qubits.append(
            QubitCalibration(
                index=q,
                freq_ghz=freq,
                anharmonicity_ghz=_ghz(_props_value(props, q, "anharmonicity")),
                t1_us=t1_us,
                t2_us=t2_us,
                readout_p1_given_0=p10,
                readout_p0_given_1=p01,
                reset_error=p_e if reset_err is None else reset_err,
                excited_population=p_e,
                readout_duration_ns=None if meas is None else _ns(meas.duration),
                reset_duration_ns=None if reset is None else _ns(reset.duration),
            )
        )
    notes.append(
        f"excited_population: thermal population at an assumed effective temperature of {temperature_mk:g} mK "
        "(the backend reports none)"
    )
    if missing_freq:
        notes.append(
            "freq_ghz unknown (the backend reports none) for "
            + (f"all {n} qubits" if len(missing_freq) == n else f"qubits {_ids(missing_freq)}")
            + f"; excited_population is evaluated at {fallback_freq_ghz:g} GHz for them"
        )
    if clamped_t2:
        notes.append(f"t2_us clamped to 2*t1_us (reported T2 > 2 T1) on qubits {_ids(clamped_t2)}")
    if all(inst("reset", q) is None or inst("reset", q).error is None for q in range(n)):
        notes.append("reset_error: the backend reports none; set to the qubit's excited_population")

    arity = standard_gate_arity()
    gates: list[GateCalibration] = []
    broken: list[str] = []
    broken_1q: list[str] = []
    clamped: list[str] = []
    unknown_error: set[str] = set()
    for op in sorted(target.operation_names):
        if op in _NOT_GATES or op not in arity:
            continue
        for qargs, ip in sorted(target[op].items(), key=lambda kv: (kv[0] is None, kv[0] or ())):
            if qargs is None:
                continue
            err = None if ip is None else ip.error
            dur = None if ip is None else ip.duration
            if err is None:
                unknown_error.add(op)
                err = 0.0
            err = float(err)
            d = 2 ** len(qargs)
            if err >= 1.0 and len(qargs) > 1:
                broken.append(f"{op}{list(qargs)}")
                continue
            if err >= 1.0:
                broken_1q.append(f"{op}{list(qargs)}")
                err = d / (d + 1)
            elif err > d / (d + 1):
                clamped.append(f"{op}{list(qargs)}")
                err = d / (d + 1)
            gates.append(GateCalibration(op, tuple(int(x) for x in qargs), _ns(dur) or 0.0, err))
    if broken:
        notes.append(f"dropped gates with error >= 1 (broken): {_ids(broken)}")
    if broken_1q:
        notes.append(f"one-qubit gates with error >= 1 (broken) kept as fully depolarizing (2/3): {_ids(broken_1q)}")
    if clamped:
        notes.append(f"gate error clamped to d/(d+1) on {_ids(clamped)}")
    if unknown_error:
        notes.append(f"gates without a reported error, taken as 0: {', '.join(sorted(unknown_error))}")
    coupling = sorted({g.qubits for g in gates if len(g.qubits) == 2})
    basis = tuple(sorted({g.name for g in gates}))

    date = None
    if props is not None and getattr(props, "last_update_date", None) is not None:
        date = props.last_update_date.isoformat()
    if date is None:
        date = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
        notes.append("date: the backend reports no calibration date; this is the import date")
    dt = getattr(target, "dt", None)

    def constraint(name: str) -> int:  # in units of dt: meaningless (1) without a dt
        return int(getattr(target, name, 1) or 1) if dt is not None else 1

    return DeviceCalibration(
        name=name or _snake(str(getattr(backend, "name", "backend"))),
        source=source or f"Qiskit backend {getattr(backend, 'name', '?')}",
        date=date,
        qubits=tuple(qubits),
        gates=tuple(gates),
        coupling_map=tuple((a, b) for a, b in coupling),
        basis_gates=basis,
        resonators=(),
        notes=tuple(notes),
        dt_ns=None if dt is None else s_to_ns(float(dt)),
        granularity=constraint("granularity"),
        min_length=constraint("min_length"),
        pulse_alignment=constraint("pulse_alignment"),
        acquire_alignment=constraint("acquire_alignment"),
    )
