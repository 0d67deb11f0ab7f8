"""A Qiskit transpiler Target from a DeviceCalibration (durations in s, errors, T1/T2/frequency per qubit).

Measure carries the mean readout error (p(1|0) + p(0|1))/2 and the readout duration; reset its error and
duration; delay is available on every qubit. Works on qiskit 1.3 and 2.x (BackendV2-era Target API only).
"""

from __future__ import annotations

from typing import Any

from qbhw.hardware.calibration import DeviceCalibration


def transpile_target(cal: DeviceCalibration) -> Any:
    """``qiskit.transpiler.Target`` with the calibration's basis gates on their calibrated qubits and edges."""
    from qiskit.circuit import Delay, Measure, Parameter, Reset
    from qiskit.circuit.library import get_standard_gate_name_mapping
    from qiskit.providers import QubitProperties
    from qiskit.transpiler import InstructionProperties, Target

    def seconds(ns: float | None) -> float | None:
        return None if ns is None else ns * 1e-9

    qprops = [
        QubitProperties(
            t1=q.t1_us * 1e-6, t2=q.t2_us * 1e-6, frequency=None if q.freq_ghz is None else q.freq_ghz * 1e9
        )
        for q in cal.qubits
    ]
    target = Target(
        description=cal.name,
        num_qubits=cal.num_qubits,
        dt=seconds(cal.dt_ns),
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
