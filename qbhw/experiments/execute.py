"""Running compiled circuits on Qiskit Aer with a device's noise: the only module that touches a backend.

Qubit order: density matrices are returned in physics order over the requested qubits (first listed qubit =
leftmost Kronecker factor); Aer's own results are little-endian and are reordered here, in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qbhw.hardware import DeviceCalibration, noise_model
from qbhw.physics.operators import qiskit_to_physics


def _simulator(device: DeviceCalibration | None, *, noisy: bool) -> Any:
    from qiskit_aer import AerSimulator

    # one thread per simulation: points of a sweep run in parallel through an executor instead
    options: dict[str, Any] = {"method": "density_matrix", "max_parallel_threads": 1}
    if noisy and device is not None:
        options["noise_model"] = noise_model(device)
    return AerSimulator(**options)


def density_matrix(
    circuit: Any, qubits: Sequence[int], device: DeviceCalibration | None, *, noisy: bool = True
) -> np.ndarray:
    """The exact final density matrix of ``qubits`` (physics order) of ``circuit`` under ``device``'s noise model
    (``noisy=False``: noiseless)."""
    return reduced_state(final_state(circuit, device, noisy=noisy), qubits)


def reduced_state(full: Any, qubits: Sequence[int]) -> np.ndarray:
    """Reduced density matrix of ``qubits`` (physics order: qubits[0] the leftmost factor) from a qiskit/Aer
    DensityMatrix of all qubits (little-endian)."""
    from qiskit.quantum_info import partial_trace

    qubits = list(qubits)
    traced = [q for q in range(full.num_qubits) if q not in qubits]
    reduced = partial_trace(full, traced) if traced else full
    kept = sorted(qubits)  # reduced is little-endian over the kept qubits in increasing index order
    k = len(kept)
    rho = qiskit_to_physics(np.asarray(reduced.data, dtype=complex), k)  # physics order over ``kept``
    perm = [kept.index(q) for q in qubits]
    return rho.reshape((2,) * (2 * k)).transpose(perm + [k + p for p in perm]).reshape(2**k, 2**k)


def final_state(circuit: Any, device: DeviceCalibration | None, *, noisy: bool = True) -> Any:
    """The exact final density matrix of all qubits of ``circuit`` (an Aer/qiskit ``DensityMatrix``, Qiskit's own
    little-endian order) under the device noise. The save instruction is appended here, after transpilation."""
    import qiskit_aer  # noqa: F401  (registers QuantumCircuit.save_density_matrix)

    qc = circuit.copy()
    qc.save_density_matrix(label="rho")
    result = _simulator(device, noisy=noisy).run(qc).result()
    if not result.success:  # pragma: no cover
        raise RuntimeError(f"Aer simulation failed: {result.status}")
    return result.data(0)["rho"]


def from_state(state: Any) -> Any:
    """A circuit that starts by setting its qubits to ``state`` (Aer ``set_density_matrix``): measurement circuits
    appended to it sample the same distribution as appending them to the circuit that made ``state``, at the cost
    of one simulation instead of one per measurement setting."""
    from qiskit import QuantumCircuit
    from qiskit_aer.library import SetDensityMatrix

    qc = QuantumCircuit(state.num_qubits)
    qc.append(SetDensityMatrix(state), qc.qubits)
    return qc


def counts(
    circuits: Sequence[Any], shots: Sequence[int], device: DeviceCalibration | None, *, seed: int, noisy: bool = True
) -> list[dict[str, int]]:
    """Counts of each circuit (its own shot number), sampled by Aer with the device's noise (readout included).

    Circuit i is simulated with ``seed_simulator = seed + i`` so that the result depends only on ``seed``.
    """
    sim = _simulator(device, noisy=noisy)
    out = []
    for i, (qc, n) in enumerate(zip(circuits, shots, strict=True)):
        result = sim.run(qc, shots=int(n), seed_simulator=int(seed) + i).result()
        if not result.success:  # pragma: no cover
            raise RuntimeError(f"Aer simulation failed: {result.status}")
        out.append({k: int(v) for k, v in result.get_counts(0).items()})
    return out
