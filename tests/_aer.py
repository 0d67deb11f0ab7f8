"""Shared by the mapping tests: the independent path, a noiseless Aer density-matrix run of a logical circuit."""

from __future__ import annotations

import numpy as np

from qbhw.mapping import MappedCircuit, qiskit_to_physics


def register_state(mapped: MappedCircuit) -> np.ndarray:
    """Noiseless Aer simulation of ``mapped.circuit``; the register's state in physics order (register[0] first).

    Aer's save instruction lists its first qubit as the least significant bit, hence qiskit_to_physics.
    """
    from qiskit import transpile
    from qiskit_aer import AerSimulator

    sim = AerSimulator(method="density_matrix")
    qc = mapped.circuit.copy()
    qc.save_density_matrix(qubits=list(mapped.register))
    rho = sim.run(transpile(qc, sim)).result().data(0)["density_matrix"]
    return qiskit_to_physics(np.asarray(rho), len(mapped.register))
