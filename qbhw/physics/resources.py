"""Quantum resources of a state (docs/physics.md section 2.1).

Basis-dependent measures (l1 coherence, l1 imaginarity, texture) use the basis in which rho is written, i.e. the
computational basis of the model. Two-qubit measures use the Pauli matrices X, Y, Z with Z = diag(+1, -1) on
the given basis; they are invariant under local unitaries, so the label convention (|0> = |g> or not) does not
change them.

* concurrence   Wootters, C = max(0, l1 - l2 - l3 - l4), l_k the singular values of A^T (Y x Y) A with
                rho = A A^dagger (equivalent to the square roots of the eigenvalues of rho rho~, but exact on
                pure states instead of losing half the digits to a square root)
* steering      F3 = sqrt(Tr T^T T), the maximum over measurement settings of (1/sqrt 3)|sum_k <A_k x B_k>|
                with T_ij = Tr[rho sigma_i x sigma_j] (Costa & Angelo 2016); F3 > 1 witnesses steering
* chsh          B_max = 2 sqrt(i1 + i2), i1, i2 the two largest eigenvalues of T^T T (Horodecki 1995);
                B_max > 2 violates the CHSH inequality
* coherence_l1  sum_{i != j} |rho_ij|
* imaginarity   sum_{i != j} |Im rho_ij|
* texture       (1/2) || rho - |f><f| ||_1 with |f> = d^{-1/2} sum_i |i>, the trace distance to the flat state
"""

from __future__ import annotations

import numpy as np

from qbhw.physics.operators import PAULI_X, PAULI_Y, PAULI_Z

_PAULIS = (PAULI_X, PAULI_Y, PAULI_Z)
_YY = np.kron(PAULI_Y, PAULI_Y)


def _square(rho: np.ndarray, name: str = "rho") -> np.ndarray:
    r = np.asarray(rho, dtype=complex)
    if r.ndim != 2 or r.shape[0] != r.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {r.shape}")
    return r


def _two_qubit(rho: np.ndarray) -> np.ndarray:
    r = _square(rho)
    if r.shape != (4, 4):
        raise ValueError(f"rho must be a two-qubit density matrix of shape (4, 4), got {r.shape}")
    return r


def bloch_vector(rho: np.ndarray) -> np.ndarray:
    """(<X>, <Y>, <Z>) of a qubit state, Z = diag(+1, -1) on the given basis."""
    r = _square(rho)
    if r.shape != (2, 2):
        raise ValueError(f"rho must be a qubit density matrix of shape (2, 2), got {r.shape}")
    return np.array([np.real(np.trace(r @ p)) for p in _PAULIS])


def correlation_matrix(rho: np.ndarray) -> np.ndarray:
    """T_ij = Tr[rho sigma_i x sigma_j] of a two-qubit state."""
    r = _two_qubit(rho)
    return np.array([[np.real(np.trace(r @ np.kron(a, b))) for b in _PAULIS] for a in _PAULIS])


def concurrence(rho: np.ndarray) -> float:
    """Wootters concurrence of a two-qubit state (pure or mixed)."""
    r = _two_qubit(rho)
    r = 0.5 * (r + r.conj().T)
    w, v = np.linalg.eigh(r)
    a = v * np.sqrt(np.clip(w, 0.0, None))
    lam = np.linalg.svd(a.T @ _YY @ a, compute_uv=False)
    lam = np.sort(np.concatenate([lam, np.zeros(max(0, 4 - lam.size))]))[::-1]
    return float(max(0.0, lam[0] - lam[1] - lam[2] - lam[3]))


def steering(rho: np.ndarray) -> float:
    """Maximal linear steering F3 = sqrt(Tr T^T T)."""
    t = correlation_matrix(rho)
    return float(np.sqrt(np.sum(t * t)))


def chsh(rho: np.ndarray) -> float:
    """Maximal CHSH value 2 sqrt(i1 + i2) (Horodecki criterion)."""
    t = correlation_matrix(rho)
    iota = np.sort(np.linalg.eigvalsh(t.T @ t))[::-1]
    return float(2.0 * np.sqrt(max(0.0, iota[0] + iota[1])))


def coherence_l1(rho: np.ndarray) -> float:
    """l1 norm of coherence in the given basis."""
    r = _square(rho)
    return float(np.sum(np.abs(r)) - np.sum(np.abs(np.diag(r))))


def imaginarity_l1(rho: np.ndarray) -> float:
    """l1 norm of imaginarity in the given basis."""
    r = _square(rho)
    return float(np.sum(np.abs(np.imag(r))) - np.sum(np.abs(np.imag(np.diag(r)))))


def texture(rho: np.ndarray) -> float:
    """Trace distance (1/2)||rho - |f><f|||_1 to the flat state |f> = d^{-1/2} sum_i |i>."""
    r = _square(rho)
    d = r.shape[0]
    flat = np.full((d, d), 1.0 / d, dtype=complex)
    diff = 0.5 * ((r - flat) + (r - flat).conj().T)
    return float(0.5 * np.sum(np.abs(np.linalg.eigvalsh(diff))))
