"""Reference models of two coupled transmons, built from QuTiP primitives only (``destroy``, ``qeye``, ``tensor``,
``basis``, ``expm``, ``steadystate``), never from qbhw's operators.

Conventions of the returned arrays: transmon 1 (x) transmon 2 (x) [resonator], big-endian, each in the Fock basis of
``qutip.destroy`` (index 0 = ground state = qbhw's |g>), which is qbhw's pulse-level order. Frequencies in rad/ns
(or any one unit), times in ns.
"""

from __future__ import annotations

import math

import numpy as np
import qutip


def _pair_operators(levels: int, extra: int | None = None) -> tuple[qutip.Qobj, qutip.Qobj, qutip.Qobj | None]:
    ids = [qutip.qeye(levels), qutip.qeye(levels)] + ([qutip.qeye(extra)] if extra else [])

    def at(k: int, op: qutip.Qobj) -> qutip.Qobj:
        parts = list(ids)
        parts[k] = op
        return qutip.tensor(*parts)

    b1 = at(0, qutip.destroy(levels))
    b2 = at(1, qutip.destroy(levels))
    a = at(2, qutip.destroy(extra)) if extra else None
    return b1, b2, a


def duffing_pair(omegas: tuple[float, float], alphas: tuple[float, float], j: float, levels: int) -> qutip.Qobj:
    """H = sum_k [omega_k n_k + (alpha_k/2) b_k^dag b_k^dag b_k b_k] + J (b_1^dag b_2 + b_1 b_2^dag)."""
    b1, b2, _ = _pair_operators(levels)
    h = 0 * b1.dag() * b1
    for omega, alpha, b in zip(omegas, alphas, (b1, b2), strict=True):
        h = h + omega * b.dag() * b + 0.5 * alpha * b.dag() * b.dag() * b * b
    return h + j * (b1.dag() * b2 + b1 * b2.dag())


def static_zz(omegas: tuple[float, float], alphas: tuple[float, float], j: float, levels: int) -> float:
    """zeta = E_11 - E_10 - E_01 + E_00 from QuTiP's eigenstates: E_11 the eigenstate overlapping |11> most, E_10 +
    E_01 the two eigenvalues of eigenstates with one excitation."""
    h = duffing_pair(omegas, alphas, j, levels)
    b1, b2, _ = _pair_operators(levels)
    number = b1.dag() * b1 + b2.dag() * b2
    energies, states = h.eigenstates()
    one = [e for e, s in zip(energies, states, strict=True) if abs(qutip.expect(number, s) - 1.0) < 1e-9]
    assert len(one) == 2
    target = qutip.tensor(qutip.basis(levels, 1), qutip.basis(levels, 1))
    overlaps = [abs(target.overlap(s)) ** 2 for s in states]
    e11 = float(energies[int(np.argmax(overlaps))])
    e00 = float(energies[int(np.argmin(energies))])
    return e11 - sum(one) + e00


def exchange_state(j: float, time: float, levels: int = 2) -> np.ndarray:
    """exp(-i t J (b_1^dag b_2 + h.c.)) |0>|1> as a density matrix: two resonant transmons, in their rotating
    frame, no anharmonic shift reachable from one excitation."""
    b1, b2, _ = _pair_operators(levels)
    u = (-1j * time * j * (b1.dag() * b2 + b1 * b2.dag())).expm()
    psi = u * qutip.tensor(qutip.basis(levels, 0), qutip.basis(levels, 1))
    return (psi * psi.dag()).full()


def thermal_pair_ness(
    detuning_s: float,
    alphas: tuple[float, float],
    j: float,
    levels: int,
    *,
    hot_rate: float,
    hot_photons: float,
    cold_down: float,
    cold_up: float,
    resonator: tuple[int, float, float] | None = None,
    own_down: float = 0.0,
    own_up: float = 0.0,
) -> np.ndarray:
    """The steady state of transmons A (hot) and S (cold), frame rotating at A's frequency (S detuned by
    ``detuning_s``), exchange J; hot bath: with ``resonator`` = (cutoff, g_r, kappa) a resonator resonant with A
    damped at kappa into n_h = ``hot_photons`` photons, else hot_rate (n_h + 1) D[b_A] + hot_rate n_h D[b_A^dag];
    cold bath cold_down D[b_S] + cold_up D[b_S^dag]; A's own own_down D[b_A] + own_up D[b_A^dag]. Returned: the
    two transmons' reduced state (QuTiP steadystate)."""
    extra = None if resonator is None else resonator[0]
    b_a, b_s, a = _pair_operators(levels, extra)
    h = detuning_s * b_s.dag() * b_s + j * (b_a.dag() * b_s + b_a * b_s.dag())
    for alpha, b in zip(alphas, (b_a, b_s), strict=True):
        h = h + 0.5 * alpha * b.dag() * b.dag() * b * b
    c_ops = [math.sqrt(cold_down) * b_s, math.sqrt(cold_up) * b_s.dag()]
    if own_down:
        c_ops.append(math.sqrt(own_down) * b_a)
    if own_up:
        c_ops.append(math.sqrt(own_up) * b_a.dag())
    if resonator is None:
        c_ops += [math.sqrt(hot_rate * (hot_photons + 1.0)) * b_a, math.sqrt(hot_rate * hot_photons) * b_a.dag()]
    else:
        assert a is not None
        _, g_r, kappa = resonator
        h = h + g_r * (a.dag() * b_a + a * b_a.dag())
        c_ops += [math.sqrt(kappa * (hot_photons + 1.0)) * a, math.sqrt(kappa * hot_photons) * a.dag()]
    rho = qutip.steadystate(h, c_ops)
    if resonator is not None:
        rho = rho.ptrace([0, 1])
    return rho.full()
