"""From a logical MappedCircuit to an ISA circuit on a device: qubit choice, transpilation, scheduling, idle noise.

The circuit is transpiled onto the sub-device of the ``k`` best connected physical qubits
(``qbhw.hardware.select_qubits``), relabelled 0..k-1 by ``qbhw.hardware.restrict``; routing inside that set may
permute qubits, so the register's physical positions are read from the final layout. Scheduling (ALAP) turns idle
time into ``delay`` instructions, after which the calibration's thermal relaxation is attached to every delay
(``qbhw.hardware.idle_relaxation_pass``), so that idle qubits decay at the device's temperature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qbhw.errors import ParameterError, QbhwError
from qbhw.experiments.execute import density_matrix
from qbhw.hardware import DeviceCalibration, idle_relaxation_pass, restrict, select_qubits, transpile_target
from qbhw.mapping import MappedCircuit

TRANSPILER_OPTIMIZATION_LEVEL = 2
#: largest |entry| difference allowed between the noiseless transpiled register state and the mapping's exact state
TRANSPILE_CHECK_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class Compiled:
    """A mapped circuit transpiled onto a device.

    circuit           ISA circuit on the sub-device (qubits 0..k-1 = ``physical_qubits``), scheduled (idle time as
                      ``delay``); no measurements or save instructions
    idle_noisy        the same circuit with the calibration's thermal relaxation attached after every delay (Aer
                      channel instructions): what the noisy simulation runs
    device            the sub-device calibration (``restrict`` of the full device to ``physical_qubits``)
    physical_qubits   the full device's qubit indices, position k = sub-device qubit k
    register          sub-device qubits holding the mapped register at the end of the circuit, physics order
    depth, two_qubit_gates, duration_ns   transpiled depth, number of two-qubit gates, scheduled duration
    seed_transpiler   the transpiler seed used
    check             max |entry| difference between the noiseless simulation of ``circuit`` (register, physics
                      order) and the mapping's ``exact_state``: every compilation is verified (qiskit 1.3.0's
                      transpiler corrupts some circuits with mid-circuit resets and 3-qubit unitaries)
    route             "direct", or "two-stage" when the direct transpilation failed the check and multi-qubit
                      unitaries were first decomposed to cx/u on the logical circuit
    """

    circuit: Any
    idle_noisy: Any
    device: DeviceCalibration
    physical_qubits: tuple[int, ...]
    register: tuple[int, ...]
    depth: int
    two_qubit_gates: int
    duration_ns: float
    seed_transpiler: int
    check: float = 0.0
    route: str = "direct"

    @property
    def register_physical(self) -> tuple[int, ...]:
        """The register's qubits as indices of the full device (physics order)."""
        return tuple(self.physical_qubits[q] for q in self.register)


def _duration_ns(circuit: Any, device: DeviceCalibration) -> float:
    """Length of a scheduled circuit: each instruction starts when all its qubits are free (ASAP over the
    instruction list, which after ALAP scheduling contains the idle delays explicitly)."""
    durations: dict[tuple[str, tuple[int, ...]], float] = {(g.name, g.qubits): g.duration_ns for g in device.gates}
    for q in device.qubits:
        durations[("measure", (q.index,))] = q.readout_duration_ns or 0.0
        durations[("reset", (q.index,))] = q.reset_duration_ns or 0.0
    free = [0.0] * circuit.num_qubits
    for inst in circuit.data:
        qs = tuple(circuit.find_bit(b).index for b in inst.qubits)
        op = inst.operation
        if op.name == "delay":
            unit = getattr(op, "unit", "dt")
            value = float(op.params[0])
            scale = {"dt": device.dt_ns or 0.0, "s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0, "ps": 1e-3}[unit]
            d = value * scale
        else:
            d = durations.get((op.name, qs), 0.0)
        if not qs:
            continue
        start = max(free[q] for q in qs)
        for q in qs:
            free[q] = start + d
    return max(free, default=0.0)


def compile_for_device(mapped: MappedCircuit, device: DeviceCalibration, *, seed_transpiler: int = 7) -> Compiled:
    """Choose qubits, transpile (optimization level 2, seeded), schedule ALAP, verify the result against the
    mapping's exact state (noiseless Aer run; see ``Compiled.check``), and attach idle relaxation."""
    from qiskit import transpile
    from qiskit.transpiler import PassManager, TranspilerError

    k = mapped.num_qubits
    if k > device.num_qubits:
        raise ParameterError(
            "device", f"a device with at least {k} qubits for this {mapped.model} circuit", device.name
        )
    physical = select_qubits(device, k)
    sub = restrict(device, physical)
    target = transpile_target(sub)

    def attempt(circuit: Any) -> tuple[Any, tuple[int, ...], float]:
        try:
            isa = transpile(
                circuit,
                target=target,
                optimization_level=TRANSPILER_OPTIMIZATION_LEVEL,
                seed_transpiler=seed_transpiler,
                scheduling_method="alap",
            )
        except TranspilerError:  # qiskit 1.3.0: the malformed reset below fails ALAP scheduling
            return None, (), float("inf")
        final = isa.layout.final_index_layout() if isa.layout is not None else list(range(k))
        register = tuple(int(final[v]) for v in mapped.register)
        if any(len(inst.qubits) != inst.operation.num_qubits for inst in isa.data):
            return isa, register, float("inf")  # malformed instruction (qiskit 1.3.0 with resets)
        rho = density_matrix(isa, register, None, noisy=False)
        return isa, register, float(np.abs(rho - mapped.exact_state).max())

    route = "direct"
    isa, register, check = attempt(mapped.circuit)
    if not check <= TRANSPILE_CHECK_TOL:
        route = "two-stage"
        logical = transpile(mapped.circuit, basis_gates=["cx", "u", "reset"], optimization_level=0)
        isa, register, check = attempt(logical)
    if not check <= TRANSPILE_CHECK_TOL:
        raise QbhwError(
            f"transpiling the {mapped.model} circuit onto {device.name} changed its channel (max deviation "
            f"{check:.2e} > {TRANSPILE_CHECK_TOL:g}); this is a transpiler bug — try another qiskit version"
        )
    two_q = sum(1 for inst in isa.data if inst.operation.num_qubits == 2 and inst.operation.name != "barrier")
    noisy_idle = PassManager([idle_relaxation_pass(sub)]).run(isa)
    return Compiled(
        circuit=isa,
        idle_noisy=noisy_idle,
        device=sub,
        physical_qubits=tuple(physical),
        register=register,
        depth=int(isa.depth()),
        two_qubit_gates=int(two_q),
        duration_ns=float(_duration_ns(isa, sub)),
        seed_transpiler=int(seed_transpiler),
        check=check,
        route=route,
    )
