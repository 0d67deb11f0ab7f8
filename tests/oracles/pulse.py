"""Reference models for the pulse level, built from QuTiP primitives only (``destroy``, ``qeye``, ``tensor``,
``expm``, ``ptrace``, ``steadystate``), never from qbhw's operators.

Conventions of the returned arrays: transmon (x) resonator, big-endian, both in the Fock basis of ``qutip.destroy``
(index 0 = ground state = qbhw's |g>, index 1 = |e>, ...), which is qbhw's pulse-level order. Frequencies in rad/ns,
times in ns.
"""

from __future__ import annotations

import math

import numpy as np
import qutip


def closed_collision_unitary(levels: int, cutoff: int, alpha: float, g: float, tau: float) -> np.ndarray:
    """exp(-i tau [(alpha/2) b^dag b^dag b b + g (a^dag b + a b^dag)]): a transmon resonant with the resonator, in
    the resonator's rotating frame (docs/physics.md section 6.2)."""
    b = qutip.tensor(qutip.destroy(levels), qutip.qeye(cutoff))
    a = qutip.tensor(qutip.qeye(levels), qutip.destroy(cutoff))
    h = 0.5 * alpha * b.dag() * b.dag() * b * b + g * (a.dag() * b + a * b.dag())
    return (-1j * tau * h).expm().full()


def jaynes_cummings_micromaser(
    g_tau: float, p_excited: float, coherence: float, cutoff: int, collisions: int
) -> np.ndarray:
    """The cavity after ``collisions`` atoms of the ideal micromaser (docs/physics.md section 4.1), stepped in QuTiP:
    rho -> Tr_atom[U (rho (x) rho_Q) U^dag], U = exp(-i g_tau (a s+ + a^dag s-)), atom basis (|g>, |e>)."""
    a = qutip.tensor(qutip.destroy(cutoff), qutip.qeye(2))
    s_minus = qutip.tensor(qutip.qeye(cutoff), qutip.destroy(2))  # |g><e| with |g> = basis 0
    u = (-1j * g_tau * (a * s_minus.dag() + a.dag() * s_minus)).expm()
    x = coherence * math.sqrt(p_excited * (1.0 - p_excited))
    rho_q = qutip.Qobj(np.array([[1.0 - p_excited, x], [x, p_excited]]))
    rho = qutip.fock_dm(cutoff, 0)
    for _ in range(collisions):
        rho = (u * qutip.tensor(rho, rho_q) * u.dag()).ptrace(0)
    return rho.full()


def relaxed_oscillator(levels: int, rate: float, thermal: float) -> np.ndarray:
    """Steady state of rate (n+1) D[b] + rate n D[b^dag] on ``levels`` levels (QuTiP's steadystate)."""
    b = qutip.destroy(levels)
    c_ops = [math.sqrt(rate * (thermal + 1.0)) * b]
    if thermal > 0:
        c_ops.append(math.sqrt(rate * thermal) * b.dag())
    return qutip.steadystate(0 * b.dag() * b, c_ops).full()


def truncated_thermal_state(levels: int, thermal: float) -> np.ndarray:
    """QuTiP's thermal_dm (Boltzmann weights (n/(n+1))^k on the truncated ladder, normalised)."""
    return qutip.thermal_dm(levels, thermal).full()
