"""Operators in qbhw's physics convention.

Single qubit: basis index 0 = |g>, index 1 = |e> (the same labelling as Qiskit's |0>, |1>).
``sigma_z = |e><e| - |g><g| = diag(-1, +1)``, ``sigma_minus = |g><e|``, ``sigma_plus = |e><g|``.
Note that Qiskit's Z equals ``-sigma_z`` in this convention.

Several subsystems: **big-endian** Kronecker order, as in physics papers. Subsystem 0 is the leftmost factor,
so for two qubits the basis is |00>, |01>, |10>, |11> with the first label belonging to subsystem 0.
Qiskit is little-endian (qubit 0 is the rightmost label); ``qiskit_to_physics`` converts density matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import numpy as np

IDENTITY = np.eye(2, dtype=complex)
SIGMA_X = np.array([[0, 1], [1, 0]], dtype=complex)
SIGMA_Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
#: sigma_z = |e><e| - |g><g| with |g> = index 0
SIGMA_Z = np.array([[-1, 0], [0, 1]], dtype=complex)
#: sigma_- = |g><e|
SIGMA_MINUS = np.array([[0, 1], [0, 0]], dtype=complex)
#: sigma_+ = |e><g|
SIGMA_PLUS = np.array([[0, 0], [1, 0]], dtype=complex)

#: Pauli matrices in the computational basis (|0>, |1>), Z = diag(+1, -1): the convention of quantum
#: information (and of Qiskit). Used for resources (Bloch vectors, correlation matrices, CHSH).
PAULI_X = SIGMA_X
PAULI_Y = SIGMA_Y
PAULI_Z = np.array([[1, 0], [0, -1]], dtype=complex)


def kron(*ops: np.ndarray) -> np.ndarray:
    """Kronecker product in big-endian order (first argument is subsystem 0)."""
    return reduce(np.kron, ops)


def embed(op: np.ndarray, site: int, dims: Sequence[int]) -> np.ndarray:
    """``op`` acting on subsystem ``site`` of a register with local dimensions ``dims`` (big-endian)."""
    factors = [np.eye(d, dtype=complex) for d in dims]
    factors[site] = np.asarray(op, dtype=complex)
    return kron(*factors)


def ket(index: int, dim: int) -> np.ndarray:
    v = np.zeros(dim, dtype=complex)
    v[index] = 1.0
    return v


def dm(psi: np.ndarray) -> np.ndarray:
    """|psi><psi|."""
    psi = np.asarray(psi, dtype=complex).reshape(-1)
    return np.outer(psi, psi.conj())


def partial_trace(rho: np.ndarray, dims: Sequence[int], keep: Sequence[int]) -> np.ndarray:
    """Reduced density matrix on the subsystems ``keep`` (big-endian order is preserved)."""
    dims = list(dims)
    n = len(dims)
    keep = sorted(keep)
    traced = [i for i in range(n) if i not in keep]
    t = np.asarray(rho).reshape(dims + dims)
    # trace pairs (i, i+n) for traced subsystems, highest index first so axis numbers stay valid
    for count, i in enumerate(sorted(traced, reverse=True)):
        nleft = n - count
        t = np.trace(t, axis1=i, axis2=i + nleft)
    d = int(np.prod([dims[i] for i in keep])) if keep else 1
    return t.reshape(d, d)


def qiskit_to_physics(rho: np.ndarray, num_qubits: int) -> np.ndarray:
    """Reorder a density matrix from Qiskit's little-endian qubit order to physics (big-endian) order.

    If ``rho`` came from a Qiskit object over qubits (q0, ..., q_{n-1}) (q0 the least significant bit), the result
    has q0 as its leftmost Kronecker factor. The map is its own inverse.
    """
    n = num_qubits
    t = np.asarray(rho).reshape((2,) * (2 * n))
    rev = list(range(n - 1, -1, -1))
    return t.transpose(rev + [n + k for k in rev]).reshape(2**n, 2**n)
