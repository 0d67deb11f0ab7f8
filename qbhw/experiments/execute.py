"""Running circuits on Qiskit Aer with a device's noise: the only module of qbhw that touches a simulator.

Circuits arrive on the device's own qubits (a 133-qubit device gives 133-qubit circuits). ``compact`` moves a
circuit onto the qubits it acts on (qubit i of the compact circuit = physical qubit ``qubits[i]``, increasing), so
Aer never builds a state of the idle qubits; the noise model is built for the same qubits (the calibration
``restrict``ed to them), once per ``Simulator``. A noisy simulator also attaches the calibration's thermal
relaxation to every ``delay`` (``qbhw.hardware.idle_relaxation_pass``): Aer channel instructions that exist only
inside this module, never in a circuit a caller sees.

Qubit order: density matrices are returned in physics order over the requested physical qubits (first listed
qubit = leftmost Kronecker factor); Aer's own results are little-endian and are reordered here, in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qbhw.errors import QbhwError
from qbhw.hardware import DeviceCalibration, idle_relaxation_pass, noise_model, restrict
from qbhw.physics.operators import qiskit_to_physics

#: instructions that do not make a qubit active
_DIRECTIVES = ("barrier",)


def active_qubits(circuit: Any) -> tuple[int, ...]:
    """The qubits (indices of ``circuit``) that some instruction other than a barrier acts on, increasing."""
    used: set[int] = set()
    for inst in circuit.data:
        if inst.operation.name not in _DIRECTIVES:
            used.update(circuit.find_bit(b).index for b in inst.qubits)
    return tuple(sorted(used))


def compact(circuit: Any, qubits: Sequence[int]) -> Any:
    """``circuit`` on ``len(qubits)`` qubits: its qubit ``qubits[i]`` becomes qubit i. Every non-barrier instruction
    must act inside ``qubits``; barriers keep their qubits that are. Classical registers are kept."""
    from qiskit import QuantumCircuit, QuantumRegister

    position = {q: i for i, q in enumerate(qubits)}
    register = QuantumRegister(len(qubits), "q")
    out = QuantumCircuit(register, *circuit.cregs, name=circuit.name, metadata=circuit.metadata)
    for inst in circuit.data:
        qs = [circuit.find_bit(b).index for b in inst.qubits]
        if inst.operation.name in _DIRECTIVES:
            kept = [register[position[q]] for q in qs if q in position]
            if kept:
                out.barrier(kept)
            continue
        if any(q not in position for q in qs):
            raise QbhwError(f"{inst.operation.name} on qubits {qs} lies outside the simulated qubits {list(qubits)}")
        out.append(inst.operation, [register[position[q]] for q in qs], inst.clbits, copy=False)
    return out


def reduced_state(full: Any, qubits: Sequence[int]) -> np.ndarray:
    """Reduced density matrix of ``qubits`` (indices of ``full``; physics order: qubits[0] the leftmost factor) from
    a qiskit/Aer DensityMatrix of all its qubits (little-endian)."""
    from qiskit.quantum_info import partial_trace

    qubits = list(qubits)
    traced = [q for q in range(full.num_qubits) if q not in qubits]
    reduced = partial_trace(full, traced) if traced else full
    kept = sorted(qubits)  # reduced is little-endian over the kept qubits in increasing index order
    k = len(kept)
    rho = qiskit_to_physics(np.asarray(reduced.data, dtype=complex), k)  # physics order over ``kept``
    perm = [kept.index(q) for q in qubits]
    return rho.reshape((2,) * (2 * k)).transpose(perm + [k + p for p in perm]).reshape(2**k, 2**k)


@dataclass(frozen=True, eq=False)
class Simulator:
    """Aer density-matrix simulation of circuits on ``qubits`` (physical; simulator qubit i = ``qubits[i]``) of
    ``device``, with the
    device's noise on those qubits (gates, idle relaxation, reset, readout) when ``noisy``, else none.

    Build it with ``simulator(device, qubits, noisy=...)``: the noise model is made once, there.
    """

    device: DeviceCalibration
    qubits: tuple[int, ...]
    noisy: bool
    backend: Any
    idle: Any  # PassManager attaching idle relaxation, or None

    def _prepare(self, circuit: Any) -> Any:
        """A new circuit for Aer: ``circuit`` (device width, qubit q = physical q) compacted onto ``qubits``, with
        the idle relaxation attached when noisy. The caller's circuit is never modified."""
        if circuit.num_qubits != self.device.num_qubits:
            raise QbhwError(
                f"circuit {circuit.name!r} has {circuit.num_qubits} qubits; the simulator takes circuits on all "
                f"{self.device.num_qubits} qubits of {self.device.name}"
            )
        return self._noisy(compact(circuit, self.qubits))

    def _noisy(self, compacted: Any) -> Any:
        return compacted if self.idle is None else self.idle.run(compacted)

    def _run(self, circuit: Any, **options: Any) -> Any:
        result = self.backend.run(circuit, **options).result()
        if not result.success:  # pragma: no cover - Aer reports failures through the result
            raise QbhwError(f"Aer simulation of {circuit.name!r} failed: {result.status}")
        return result

    def final_state(self, circuit: Any) -> Any:
        """The exact final density matrix of the simulated qubits (Aer ``DensityMatrix``, little-endian over
        ``qubits``: simulator qubit i = ``qubits[i]``) of ``circuit`` (device width). The save instruction is
        appended here, to a copy."""
        import qiskit_aer  # noqa: F401  (registers QuantumCircuit.save_density_matrix)

        qc = self._prepare(circuit)
        qc.save_density_matrix(label="rho")
        return self._run(qc).data(0)["rho"]

    def register_state(self, circuit: Any, register: Sequence[int]) -> np.ndarray:
        """Density matrix (physics order) of the physical qubits ``register`` at the end of ``circuit``."""
        return reduced_state(self.final_state(circuit), self._positions(register))

    def counts(self, circuits: Sequence[Any], shots: Sequence[int], *, seed: int) -> list[dict[str, int]]:
        """Counts of each circuit (device width; its own shot number), readout error included. Circuit i is
        simulated with ``seed_simulator = seed + i``, so the result depends only on ``seed``."""
        return self._counts([self._prepare(qc) for qc in circuits], shots, seed)

    def _counts(self, compacted: Sequence[Any], shots: Sequence[int], seed: int) -> list[dict[str, int]]:
        out = []
        for i, (qc, n) in enumerate(zip(compacted, shots, strict=True)):
            result = self._run(qc, shots=int(n), seed_simulator=int(seed) + i)
            out.append({k: int(v) for k, v in result.get_counts(0).items()})
        return out

    def sample_state(
        self,
        rho: np.ndarray,
        register: Sequence[int],
        settings: Sequence[str],
        shots: Sequence[int],
        *,
        seed: int,
        full: Any = None,
    ) -> list[dict[str, int]]:
        """Counts of the tomography settings measured on a known state ``rho`` of the physical qubits ``register``
        (physics order): the simulated qubits start in ``full`` (an Aer/qiskit DensityMatrix of all of them, in
        simulator order, whose register part is ``rho``) or else in ``rho`` (x) |0..0> on the others (Aer
        ``set_density_matrix``); each setting's basis change, in the device's basis gates, and measurement follow
        with the device's gate and readout noise. The same distribution as running the measurement circuits after
        the circuit that made the state, at the cost of one short simulation per setting. ``qbhw run`` samples with
        numpy instead (``pipeline.sample_from_state``, ~100x faster); this Aer path stays as an independent
        reference in tests/test_experiments.py."""
        from qiskit import QuantumCircuit
        from qiskit_aer.library import SetDensityMatrix

        from qbhw import tomography

        positions = self._positions(register)
        state = _embed(np.asarray(rho, dtype=complex), positions, len(self.qubits)) if full is None else full
        start = QuantumCircuit(len(self.qubits), name="state")
        start.append(SetDensityMatrix(state), start.qubits)
        circuits = tomography.measurement_circuits(start, positions, settings, basis_gates=self.device.basis_gates)
        return self._counts([self._noisy(qc) for qc in circuits], shots, seed)

    def _positions(self, physical: Sequence[int]) -> list[int]:
        where = {q: i for i, q in enumerate(self.qubits)}
        missing = [q for q in physical if q not in where]
        if missing:
            raise QbhwError(f"qubits {missing} are not among the simulated qubits {list(self.qubits)}")
        return [where[q] for q in physical]


def simulator(device: DeviceCalibration, qubits: Sequence[int], *, noisy: bool = True) -> Simulator:
    """A Simulator of the physical ``qubits`` of ``device`` (module docstring); one noise model, built here."""
    from qiskit.transpiler import PassManager
    from qiskit_aer import AerSimulator

    qs = tuple(int(q) for q in qubits)
    if len(set(qs)) != len(qs):
        raise QbhwError(f"simulated qubits must be distinct (got {list(qs)})")
    # one thread per simulation: points of a sweep run in parallel through an executor instead
    options: dict[str, Any] = {"method": "density_matrix", "max_parallel_threads": 1}
    idle = None
    if noisy:
        sub = restrict(device, qs)
        options["noise_model"] = noise_model(sub)
        idle = PassManager([idle_relaxation_pass(sub)])
    return Simulator(device=device, qubits=qs, noisy=noisy, backend=AerSimulator(**options), idle=idle)


def _embed(rho: np.ndarray, positions: Sequence[int], width: int) -> np.ndarray:
    """The state ``rho`` (physics order over ``positions``) (x) |0><0| on the other qubits, as a little-endian
    (Qiskit) density matrix of ``width`` qubits."""
    k = len(positions)
    if rho.shape != (2**k, 2**k):
        raise QbhwError(f"a state of {k} qubits must be {2**k}x{2**k}, not {rho.shape}")
    rest = [q for q in range(width) if q not in positions]
    # physics order over (positions..., rest...): rho (x) |0...0><0...0|
    ground = np.zeros((2 ** len(rest),) * 2, dtype=complex)
    ground[0, 0] = 1.0
    full = np.kron(rho, ground).reshape((2,) * (2 * width))
    # axis j of the physics tensor is qubit order[j]; little-endian puts qubit width-1 first (leftmost)
    order = list(positions) + rest
    axes = [order.index(q) for q in reversed(range(width))]
    return full.transpose(axes + [width + a for a in axes]).reshape(2**width, 2**width)


def verify(circuit: Any, device: DeviceCalibration, register: Sequence[int], expected: np.ndarray) -> float:
    """Max |entry| difference between the noiseless final state of the physical ``register`` of ``circuit`` and
    ``expected`` (physics order); infinity for a malformed circuit (an instruction whose qubit count differs from
    its operation's: qiskit 1.3.0 makes such resets)."""
    if any(len(inst.qubits) != inst.operation.num_qubits for inst in circuit.data):
        return float("inf")
    sim = simulator(device, sorted(set(active_qubits(circuit)) | set(register)), noisy=False)
    rho = sim.register_state(circuit, register)
    return float(np.abs(rho - np.asarray(expected)).max())
