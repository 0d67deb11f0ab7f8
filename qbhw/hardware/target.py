"""A Qiskit transpiler Target of a whole device, on its own physical qubit indices, with its timing constraints.

Gates carry their calibrated duration and error on their calibrated qubits and edges; measure carries the mean
readout error (p(1|0) + p(0|1))/2 and the readout duration, reset its error and duration; delay is available on
every qubit. ``dt``, ``granularity``, ``min_length``, ``pulse_alignment`` and ``acquire_alignment`` are passed to
the Target, so a scheduled transpilation (``scheduling_method="alap"``) aligns instructions as the hardware
requires. Durations are whole numbers of samples (the schema checks it) and are handed over as exact multiples of
dt, so Qiskit never rounds them. Works on qiskit 1.3 and 2.x (the Target API common to both).

To compile a small circuit onto chosen physical qubits, transpile with ``initial_layout=physical_qubits``: the
result keeps the device's own indices. Pass ``backend=device_backend(cal)`` rather than ``target=``: qiskit 1.3.0's
``transpile(target=...)`` replaces the target's timing constraints by TimingConstraints() (all 1) when no backend
is given, while a backend's target is honoured by 1.3.0 and 2.x alike. On a device whose pulse or acquire
alignment is not 1, a circuit with delays that are not whole multiples of the alignment must be transpiled with a
``scheduling_method`` (Qiskit refuses to realign an unscheduled circuit), as on IBM Eagle devices.
"""

from __future__ import annotations

import functools
from typing import Any

from qbhw.errors import QbhwError
from qbhw.hardware.calibration import DeviceCalibration
from qbhw.hardware.calibration_io import ContentKey
from qbhw.hardware.units import ghz_to_hz, ns_to_s, us_to_s

#: how many targets a process keeps (a 133-qubit target takes milliseconds to build; a sweep transpiles onto one)
TARGET_CACHE_SIZE = 8


def transpile_target(cal: DeviceCalibration) -> Any:
    """``qiskit.transpiler.Target`` of the whole device ``cal`` (see the module docstring).

    Built once per calibration content and shared: do not modify the result.
    """
    return _target(ContentKey(cal))


@functools.lru_cache(maxsize=TARGET_CACHE_SIZE)
def _target(key: ContentKey) -> Any:
    from qiskit.circuit import Delay, Measure, Parameter, Reset
    from qiskit.circuit.library import get_standard_gate_name_mapping
    from qiskit.providers import QubitProperties
    from qiskit.transpiler import InstructionProperties, Target

    cal = key.calibration
    dt_ns = cal.dt_ns

    def seconds(ns: float | None) -> float | None:
        if ns is None:
            return None
        if dt_ns is not None:  # a whole number of samples (checked by the schema): hand over k * dt exactly
            return ns_to_s(dt_ns) * round(ns / dt_ns)
        return ns_to_s(ns)

    qprops = [
        QubitProperties(
            t1=us_to_s(q.t1_us),
            t2=us_to_s(q.t2_us),
            frequency=None if q.freq_ghz is None else ghz_to_hz(q.freq_ghz),
        )
        for q in cal.qubits
    ]
    target = Target(
        description=cal.name,
        num_qubits=cal.num_qubits,
        dt=None if dt_ns is None else ns_to_s(dt_ns),
        granularity=cal.granularity,
        min_length=cal.min_length,
        pulse_alignment=cal.pulse_alignment,
        acquire_alignment=cal.acquire_alignment,
        qubit_properties=qprops,
    )
    by_name: dict[str, dict[tuple[int, ...], Any]] = {}
    for g in cal.gates:
        by_name.setdefault(g.name, {})[g.qubits] = InstructionProperties(duration=seconds(g.duration_ns), error=g.error)
    mapping = get_standard_gate_name_mapping()
    for name in cal.basis_gates:
        target.add_instruction(mapping[name], by_name[name])
    target.add_instruction(
        Measure(),
        {
            (q.index,): InstructionProperties(
                duration=seconds(q.readout_duration_ns), error=0.5 * (q.readout_p1_given_0 + q.readout_p0_given_1)
            )
            for q in cal.qubits
        },
    )
    target.add_instruction(
        Reset(),
        {
            (q.index,): InstructionProperties(duration=seconds(q.reset_duration_ns), error=q.reset_error)
            for q in cal.qubits
        },
    )
    target.add_instruction(Delay(Parameter("t")), {(q.index,): None for q in cal.qubits})
    return target


def device_backend(cal: DeviceCalibration) -> Any:
    """A compile-only Qiskit BackendV2 whose ``target`` is ``transpile_target(cal)`` (its ``run`` refuses): what to
    hand to ``transpile(..., backend=...)`` so that dt and the timing constraints are honoured on qiskit 1.3.0 and
    2.x alike. Built once per calibration content and shared."""
    return _backend(ContentKey(cal))


@functools.lru_cache(maxsize=TARGET_CACHE_SIZE)
def _backend(key: ContentKey) -> Any:
    from qiskit.providers import BackendV2, Options

    target = _target(key)

    class DeviceBackend(BackendV2):
        """The calibration's transpile target as a backend, for compilation only."""

        @property
        def target(self) -> Any:
            return target

        @property
        def max_circuits(self) -> None:
            return None

        @classmethod
        def _default_options(cls) -> Any:
            return Options()

        def run(self, run_input: Any, **options: Any) -> Any:
            raise QbhwError(
                f"{self.name} is a compile-only backend (qbhw.hardware.device_backend); simulate the compiled "
                "circuits with an Aer simulator and qbhw.hardware.noise_model instead"
            )

    return DeviceBackend(name=key.calibration.name, description=f"qbhw calibration {key.calibration.name}")
