"""Thermal factors (hbar = k_B = 1). Temperature 0 is allowed and gives the zero-temperature limits."""

from __future__ import annotations

import numpy as np

from qbhw import _validate


def bose_einstein(omega: float, temperature: float) -> float:
    """Mean occupation n(omega, T) = 1 / (exp(omega/T) - 1); 0 at T = 0."""
    omega = _validate.positive("omega", omega)
    temperature = _validate.nonnegative("temperature", temperature)
    if temperature == 0.0:
        return 0.0
    x = omega / temperature
    # e^{-x} / (1 - e^{-x}): no overflow for large x (e^{-x} underflows quietly to 0), exact for small x
    return float(np.exp(-x) / -np.expm1(-x))


def excited_population(omega: float, temperature: float) -> float:
    """Excited population of a thermal qubit of splitting omega: 1 / (exp(omega/T) + 1) = n/(2n+1)."""
    omega = _validate.positive("omega", omega)
    temperature = _validate.nonnegative("temperature", temperature)
    if temperature == 0.0:
        return 0.0
    x = omega / temperature
    # 1/(e^x + 1) written to stay finite for large x
    return float(np.exp(-x) / (1.0 + np.exp(-x)))


def boltzmann_ratio(omega: float, temperature: float) -> float:
    """x = exp(-omega/T) = n/(n+1); 0 at T = 0."""
    omega = _validate.positive("omega", omega)
    temperature = _validate.nonnegative("temperature", temperature)
    if temperature == 0.0:
        return 0.0
    return float(np.exp(-omega / temperature))


def gibbs_state(hamiltonian: np.ndarray, temperature: float) -> np.ndarray:
    """exp(-H/T)/Z; at T = 0 the uniform mixture over the ground space."""
    temperature = _validate.nonnegative("temperature", temperature)
    h = np.asarray(hamiltonian, dtype=complex)
    energies, vecs = np.linalg.eigh(h)
    shifted = energies - energies[0]
    if temperature == 0.0:
        tol = 1e-12 * max(1.0, float(np.max(np.abs(energies))))
        weights = (shifted <= tol).astype(float)
    else:
        weights = np.exp(-shifted / temperature)
    weights /= weights.sum()
    return (vecs * weights) @ vecs.conj().T
