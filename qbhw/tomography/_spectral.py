"""Ergotropy and capacity as maxima of linear functionals of the state, and their purity caps.

For a Hermitian unit-trace X (a density matrix or an unphysical linear estimate) with eigenvalues r and H with
ascending levels e (docs/physics.md section 0):

* W(X) = Tr[X H] - sum_k r_k(desc) e_k = max_U Tr[X G_U],  G_U = H - U^dag H U: the maximum is reached by the
  extraction unitary, whose functional is G_W = H - sum_k e_k |r_k(desc)><r_k(desc)|.
* C(X) = sum_k r_k(asc) (e_k - e_{d-1-k}) = max over orthonormal bases {v_k} of sum_k (e_k - e_{d-1-k})
  <v_k|X|v_k> (Ky Fan), reached by the eigenbasis: G_C = sum_k (e_k - e_{d-1-k}) |r_k(asc)><r_k(asc)|.

So W and C are convex, W(X) >= Tr[X G] for every fixed G of the family, with equality at X's own optimum.

Purity caps: the passive energy is the minimum of <r, e> over orderings, so for any state of purity <= P it is at
least m(P) = min { <r, e> : r in the simplex, sum r^2 <= P }, and W <= Tr[rho H] - m(P), C <= max { <r, c> : r in
the simplex, sum r^2 <= P } with c_k = e_{d-1-k} - e_k. ``min_linear_on_purity_ball`` solves the linear
program on the simplex cut by the ball: its minimiser is r = (a - b e)_+, constant on each level.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_LEVEL_TOL = 1e-9


def group_levels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct ascending values, multiplicities) of a 1-D array, values within 1e-9 (relative to the spread)
    merged."""
    v = np.sort(np.asarray(values, dtype=float))
    tol = _LEVEL_TOL * max(1.0, float(v[-1] - v[0]))
    starts = np.concatenate([[0], np.flatnonzero(np.diff(v) > tol) + 1])
    mult = np.diff(np.concatenate([starts, [v.size]])).astype(float)
    vals = np.add.reduceat(v, starts) / mult
    return vals, mult


def min_linear_on_purity_ball(levels: np.ndarray, mults: np.ndarray, purity: np.ndarray | float) -> np.ndarray:
    """m(P) = min <r, e> over probability vectors r with sum r^2 <= P, for energies e given as ascending distinct
    ``levels`` with (possibly huge, float) multiplicities ``mults``; P is clipped to [1/d, 1]. Vectorised over P.

    The minimiser fills the J lowest levels with r_j = 1/G - t (e_j - mean), G their total multiplicity, t from
    sum r^2 = P; the answer is the smallest objective over the feasible J (every candidate is a feasible point,
    and the optimum is one of them)."""
    e = np.asarray(levels, dtype=float)
    g = np.asarray(mults, dtype=float)
    d = float(g.sum())
    p = np.clip(np.asarray(purity, dtype=float), 1.0 / d, 1.0)
    # J = 1: all weight on the ground level, feasible when its uniform spread has purity 1/g_0 <= P
    best = np.where(1.0 / g[0] <= p + 1e-15, e[0], np.inf)
    for j in range(2, e.size + 1):
        gj, ej = g[:j], e[:j]
        total = gj.sum()
        mean = float(gj @ ej) / total
        dev = ej - mean
        s2 = float(gj @ dev**2)
        t = np.sqrt(np.clip(p - 1.0 / total, 0.0, None) / s2)
        feasible = (p >= 1.0 / total - 1e-15) & (1.0 / total - t * dev[-1] >= -1e-15)
        value = mean - t * s2
        best = np.where(feasible & (value < best), value, best)
    return np.where(np.isfinite(best), best, e[0])


def ergotropy_functional(x: np.ndarray, energies: np.ndarray, basis: np.ndarray) -> tuple[float, np.ndarray]:
    """(W(x), G_W) for a Hermitian matrix x and H = basis diag(energies ascending) basis^dag (module doc)."""
    r, v = np.linalg.eigh(x)
    v = v[:, ::-1]  # descending eigenvalues
    h = (basis * energies) @ basis.conj().T
    g = h - (v * energies) @ v.conj().T
    g = 0.5 * (g + g.conj().T)
    return float(np.real(np.trace(x @ h)) - float(r[::-1] @ energies)), g


def capacity_functional(x: np.ndarray, energies: np.ndarray) -> tuple[float, np.ndarray]:
    """(C(x), G_C) for a Hermitian matrix x (module doc)."""
    r, v = np.linalg.eigh(x)
    c = energies - energies[::-1]
    g = (v * c) @ v.conj().T
    return float(r @ c), 0.5 * (g + g.conj().T)


def ergotropy_from_spectra(energy: np.ndarray, spectra: np.ndarray, energies: np.ndarray) -> np.ndarray:
    """W = Tr[x H] - sum r(desc) e(asc) for a stack of mean energies (...,) and spectra (..., d)."""
    return energy - np.sort(spectra, axis=-1)[..., ::-1] @ energies


def capacity_from_spectra(spectra: np.ndarray, energies: np.ndarray) -> np.ndarray:
    """C = sum r(asc) (e_k - e_{d-1-k}) for a stack of spectra (..., d)."""
    return np.sort(spectra, axis=-1) @ (energies - energies[::-1])


def fidelity_functional(x: np.ndarray, vecs: np.ndarray, vals: np.ndarray, regularise: bool) -> tuple[float, Any]:
    """(F(x, sigma), M): Alberti's optimal functional at x for the target sigma = vecs diag(vals) vecs^dag, so that
    F = Tr[x M] and F(rho) <= Tr[rho M] for every state; (nan, None) when x's compression onto sigma's support is
    not positive definite, unless ``regularise``, which lifts small eigenvalues of the compression (any positive
    X gives a valid upper bound)."""
    s = np.sqrt(vals)
    y = vecs.conj().T @ x @ vecs
    a = s[:, None] * y * s[None, :]
    lam, u = np.linalg.eigh(0.5 * (a + a.conj().T))
    if regularise:
        lam = np.clip(lam, 1e-3 * max(float(lam.max()), 1e-12) / lam.size, None)
    elif lam[0] <= 0.0:
        return math.nan, None
    root = float(np.sum(np.sqrt(lam)))
    inv_sqrt = (u / np.sqrt(lam)) @ u.conj().T
    m = root * (vecs * s) @ inv_sqrt @ (vecs * s).conj().T
    return root**2, 0.5 * (m + m.conj().T)
