"""Bohr-frequency (eigen-operator) decomposition, the building block of global (Davies) master equations.

For a Hermitian H with distinct energies e and eigenprojectors P_e, an operator A splits as

    A = sum_w A(w),    A(w) = sum_{e' - e = w} P_e A P_e',    [H, A(w)] = -w A(w),

so A(w) lowers the energy by w (w > 0) or raises it by |w| (w < 0), and A(-w) = A(w)^dagger for Hermitian A.
Energies closer than ``tol * scale`` are one level and Bohr frequencies closer than ``tol * scale`` are one
component (scale = max(1, max |e|)), which groups exactly degenerate transitions into a single jump operator as the
secular approximation requires.
"""

from __future__ import annotations

import numpy as np

from qbhw.physics.thermodynamics import energy_levels


def bohr_components(
    hamiltonian: np.ndarray, operator: np.ndarray, tol: float = 1e-9
) -> tuple[tuple[float, np.ndarray], ...]:
    """The nonzero components (w, A(w)) of ``operator``, sorted by ascending Bohr frequency w.

    Blocks P_e A P_e' with Frobenius norm <= tol * ||A||_F are dropped; frequencies of one group are averaged.
    """
    h = np.asarray(hamiltonian, dtype=complex)
    a = np.asarray(operator, dtype=complex)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or a.shape != h.shape:
        raise ValueError(f"hamiltonian and operator must be square of equal shape, got {h.shape} and {a.shape}")
    levels = energy_levels(h, tol)
    scale = max(1.0, max(abs(e) for e, _ in levels))
    norm = float(np.linalg.norm(a))
    blocks: list[tuple[float, np.ndarray]] = []
    for e_low, p_low in levels:
        for e_high, p_high in levels:
            block = p_low @ a @ p_high
            if np.linalg.norm(block) > tol * norm:
                blocks.append((e_high - e_low, block))
    blocks.sort(key=lambda item: item[0])
    out: list[tuple[float, np.ndarray]] = []
    group: list[tuple[float, np.ndarray]] = []
    for item in blocks:
        if group and item[0] - group[-1][0] > tol * scale:
            out.append((float(np.mean([w for w, _ in group])), np.sum([b for _, b in group], axis=0)))
            group = []
        group.append(item)
    if group:
        out.append((float(np.mean([w for w, _ in group])), np.sum([b for _, b in group], axis=0)))
    return tuple(out)
