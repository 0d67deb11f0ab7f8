"""Distances between density matrices.

* fidelity        F(rho, sigma) = (Tr sqrt(sqrt(rho) sigma sqrt(rho)))^2   -- the SQUARED (Jozsa) convention:
                  F = 1 for equal states, F = |<psi|phi>|^2 for pure states, F = <psi|sigma|psi> if rho = |psi><psi|.
* trace distance  D(rho, sigma) = (1/2) ||rho - sigma||_1 = (1/2) sum_k |eig_k(rho - sigma)|,  0 <= D <= 1.

Both take dense square arrays of equal shape (any basis order, as long as it is the same for both).
"""

from __future__ import annotations

import numpy as np


def _hermitian(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=complex)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square matrix (got shape {a.shape})")
    return 0.5 * (a + a.conj().T)


def _clip_rounding(w: np.ndarray) -> np.ndarray:
    """Eigenvalues below the rounding level 10 d eps max|w| (or negative) set to 0: sqrt would amplify them."""
    cut = 10 * w.size * np.finfo(float).eps * max(float(np.max(np.abs(w))), 1e-300)
    return np.where(w > cut, w, 0.0)


def _psd_sqrt(a: np.ndarray) -> np.ndarray:
    """sqrt(a) of a Hermitian matrix, negative eigenvalues (rounding, or an unphysical estimate) clipped to 0."""
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(_clip_rounding(w))) @ v.conj().T


def fidelity(rho: np.ndarray, sigma: np.ndarray) -> float:
    """Uhlmann-Jozsa fidelity (Tr sqrt(sqrt(rho) sigma sqrt(rho)))^2, squared convention, in [0, 1] for states.

    Negative eigenvalues of either argument (an unphysical linear-inversion estimate) are clipped at 0 inside the
    square roots, as are eigenvalues at the rounding level (whose square roots would otherwise add ~1e-8 to the
    fidelity of pure states); the traces are not renormalised.
    """
    r = _hermitian(rho, "rho")
    s = _hermitian(sigma, "sigma")
    if r.shape != s.shape:
        raise ValueError(f"rho and sigma must have the same shape (got {r.shape} and {s.shape})")
    sr = _psd_sqrt(r)
    inner = sr @ s @ sr
    w = np.linalg.eigvalsh(0.5 * (inner + inner.conj().T))
    return float(np.sum(np.sqrt(_clip_rounding(w))) ** 2)


def trace_distance(rho: np.ndarray, sigma: np.ndarray) -> float:
    """(1/2) ||rho - sigma||_1: half the sum of the absolute eigenvalues of the Hermitian difference."""
    r = _hermitian(rho, "rho")
    s = _hermitian(sigma, "sigma")
    if r.shape != s.shape:
        raise ValueError(f"rho and sigma must have the same shape (got {r.shape} and {s.shape})")
    return float(0.5 * np.sum(np.abs(np.linalg.eigvalsh(r - s))))
