"""Reference models of the four batteries built from QuTiP primitives only (``destroy``, ``sigmaz``, ``tensor``,
``liouvillian``, ``lindblad_dissipator``, ``expm``, ``ptrace``), never from qbhw's operators or Hamiltonians.

Basis map (written once, here). qbhw orders qubits big-endian (qubit 0 is the leftmost ``tensor`` factor) and
uses index 0 = |g>, index 1 = |e> with sigma_z = diag(-1, +1). ``qutip.destroy(2)`` maps index 1 to index 0, so it
is qbhw's s- = |g><e| and ``qutip.num(2)`` is |e><e|; ``qutip.sigmaz()`` = diag(+1, -1) is -sigma_z in qbhw's
qubit basis. Everything below is written with ``LOWER = destroy(2)`` and ``EXCITED = num(2)``, so every returned
operator, state and superoperator is in qbhw's basis: a cavity uses ``destroy(D)`` (index n = n photons); QuTiP
superoperators are column-stacked like qbhw.physics.lindblad (vec(rho) = rho.reshape(-1, order="F")).

The charger model (docs/physics.md section 2) is the exception that is stated in its own basis: there |0> (index
0) is the ground state of -omega Z with Z = diag(+1, -1) = ``qutip.sigmaz()`` (qbhw.models.charger's convention).
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
import qutip as qt

LOWER = qt.destroy(2)  # qbhw's s- = |g><e|
EXCITED = qt.num(2)  # |e><e|


def n_bose(omega: float, temperature: float) -> float:
    """1/(e^{omega/T} - 1), 0 at T = 0 (written here, not taken from qbhw.physics)."""
    return 0.0 if temperature == 0 else 1.0 / math.expm1(omega / temperature)


def on_site(op: qt.Qobj, site: int, n: int) -> qt.Qobj:
    """``op`` on qubit ``site`` of ``n`` (big-endian: site 0 is the leftmost factor)."""
    return qt.tensor([op if k == site else qt.qeye(2) for k in range(n)])


def sigma_z(site: int, n: int) -> qt.Qobj:
    """qbhw's sigma_z = |e><e| - |g><g| = 2 num - 1 on one qubit."""
    return on_site(2 * EXCITED - qt.qeye(2), site, n)


# ------------------------------------------------------------------------------------------- thermal gradient


def thermal_gradient_operators(omega_a: float, omega_s: float, g: float) -> tuple[qt.Qobj, qt.Qobj, qt.Qobj]:
    """(H, s-_A, s-_S) on (A, S): H = (omega_a/2) sz_A + (omega_s/2) sz_S + g (s+_A s-_S + h.c.)."""
    a_a, a_s = on_site(LOWER, 0, 2), on_site(LOWER, 1, 2)
    h = 0.5 * omega_a * sigma_z(0, 2) + 0.5 * omega_s * sigma_z(1, 2) + g * (a_a.dag() * a_s + a_a * a_s.dag())
    return h, a_a, a_s


def thermal_gradient_local(p) -> qt.Qobj:
    """Local master equation: gamma_j [(n_j + 1) D[s-_j] + n_j D[s+_j]], n_j = n(omega_j, T_j)."""
    h, a_a, a_s = thermal_gradient_operators(p.omega_a, p.omega_s, p.g)
    c_ops = []
    for op, w, t, rate in (
        (a_a, p.omega_a, p.temperature_a, p.rates[0]),
        (a_s, p.omega_s, p.temperature_s, p.rates[1]),
    ):
        n = n_bose(w, t)
        c_ops += [math.sqrt(rate * (n + 1)) * op, math.sqrt(rate * n) * op.dag()]
    return qt.liouvillian(h, c_ops)


def thermal_gradient_global(p) -> qt.Qobj:
    """Secular (Davies) master equation: sigma_x^j split into Bohr components of H, transitions of equal frequency
    grouped into one jump, rates gamma_j (n + 1) (w > 0) and gamma_j n (w < 0); from QuTiP's eigenstates."""
    h, a_a, a_s = thermal_gradient_operators(p.omega_a, p.omega_s, p.g)
    evals, evecs = h.eigenstates()
    out = qt.liouvillian(h)
    for op, t, rate in ((a_a, p.temperature_a, p.rates[0]), (a_s, p.temperature_s, p.rates[1])):
        x = (op + op.dag()).full()
        comps: dict[float, tuple[float, np.ndarray]] = {}
        for i, ei in enumerate(evals):
            for k, ek in enumerate(evals):
                vi, vk = evecs[i].full(), evecs[k].full()
                block = vi @ (vi.conj().T @ x @ vk) @ vk.conj().T  # |i><i| X |k><k|, frequency e_k - e_i
                if np.abs(block).max() < 1e-12:
                    continue
                key = round(float(ek - ei), 8)  # exactly degenerate pairs agree to ~1e-15
                w_old, b_old = comps.get(key, (float(ek - ei), np.zeros_like(block)))
                comps[key] = (w_old, b_old + block)
        for w, block in comps.values():
            if abs(w) < 1e-6:  # pragma: no cover - sigma_x has no w = 0 component for g^2 < omega_a omega_s
                raise AssertionError("a Bohr frequency is zero")
            n = n_bose(abs(w), t)
            rate_w = rate * (n + 1) if w > 0 else rate * n
            out += rate_w * qt.lindblad_dissipator(qt.Qobj(block, dims=h.dims))
    return out


# ---------------------------------------------------------------------------------------------------- charger


def charger_hamiltonian(omega_b: float, omega_c: float, j1: float, j2: float) -> qt.Qobj:
    """H = -omega_b Z_b - omega_c Z_c + J1 (s+_b s-_c + h.c.) + J2 Z_b Z_c in the charger's basis (module doc)."""
    sz, sp, sm, i2 = qt.sigmaz(), qt.sigmap(), qt.sigmam(), qt.qeye(2)
    return (
        -omega_b * qt.tensor(sz, i2)
        - omega_c * qt.tensor(i2, sz)
        + j1 * (qt.tensor(sp, sm) + qt.tensor(sm, sp))
        + j2 * qt.tensor(sz, sz)
    )


def charger_initial_state() -> qt.Qobj:
    """|0>_b |1>_c: battery empty, charger full."""
    return qt.tensor(qt.basis(2, 0), qt.basis(2, 1))


# ------------------------------------------------------------------------------------------------- collective


def collective_model(params) -> tuple[qt.Qobj, list[qt.Qobj]]:
    """(H, c_ops) on N qubits: H = J_z, gamma (n + 1) D[J-] + gamma n D[J+] + gamma_local [(n_L + 1) sum D[s-_i]
    + n_L sum D[s+_i]] + dephasing sum D[sz_i] (docs/physics.md section 3)."""
    n = params.n
    sm = [on_site(LOWER, i, n) for i in range(n)]
    jm = reduce(lambda x, y: x + y, sm)
    h = 0.5 * reduce(lambda x, y: x + y, [sigma_z(i, n) for i in range(n)])
    nb, nl = n_bose(1.0, params.temperature), n_bose(1.0, params.local_temperature)
    c_ops = [math.sqrt(params.gamma * (nb + 1)) * jm, math.sqrt(params.gamma * nb) * jm.dag()]
    c_ops += [math.sqrt(params.gamma_local * (nl + 1)) * s for s in sm]
    c_ops += [math.sqrt(params.gamma_local * nl) * s.dag() for s in sm]
    c_ops += [math.sqrt(params.dephasing) * sigma_z(i, n) for i in range(n)]
    return h, [c for c in c_ops if c.norm() > 0]


def collective_ground(n: int) -> qt.Qobj:
    """|g...g><g...g| (index 0 of every qubit)."""
    return qt.tensor([qt.fock_dm(2, 0)] * n)


def collective_thermal_product(n: int, temperature: float) -> qt.Qobj:
    """The product of N thermal qubits exp(-sz/(2T))/Z."""
    q = 0.0 if temperature == 0 else 1.0 / (math.exp(1.0 / temperature) + 1.0)
    return qt.tensor([qt.Qobj(np.diag([1.0 - q, q]))] * n)


# ------------------------------------------------------------------------------------------------- micromaser


def micromaser_steps(params, collisions: int, rho0: np.ndarray | None = None) -> list[np.ndarray]:
    """rho_0 ... rho_K of the micromaser (docs/physics.md section 4): U = expm(-i g_tau (b s+ + b^dag s-)) on
    cavity (x) atom, rho -> ptrace(U (rho x rho_Q) U^dag, cavity), and exp(L) of the damping between collisions;
    cavity ``destroy(D)`` (or the unweighted ladder), atom in qbhw's basis (index 0 = |g>)."""
    d = params.cutoff
    b = qt.destroy(d) if params.coupling == "jaynes-cummings" else qt.Qobj(np.diag(np.ones(d - 1), 1))
    s_plus = LOWER.dag()  # |e><g|
    u = (-1j * params.g_tau * (qt.tensor(b, s_plus) + qt.tensor(b.dag(), s_plus.dag()))).expm()
    x = params.coherence * math.sqrt(params.p_excited * (1 - params.p_excited))
    rho_q = qt.Qobj(np.array([[1 - params.p_excited, x], [x, params.p_excited]]))
    lam = None
    if params.cavity_loss > 0:
        c_ops = [math.sqrt(params.cavity_loss * (params.thermal_photons + 1)) * b]
        if params.thermal_photons > 0:
            c_ops.append(math.sqrt(params.cavity_loss * params.thermal_photons) * b.dag())
        lam = qt.liouvillian(None, c_ops).expm()  # one free interval of unit length, rates kappa dt
    rho = qt.fock_dm(d, 0) if rho0 is None else qt.Qobj(rho0)
    out = [rho.full()]
    for k in range(collisions):
        if k > 0 and lam is not None:
            rho = qt.vector_to_operator(lam * qt.operator_to_vector(rho))
        rho = (u * qt.tensor(rho, rho_q) * u.dag()).ptrace(0)
        out.append(rho.full())
    return out


def micromaser_unitary(g_tau: float, cutoff: int, coupling: str) -> np.ndarray:
    """U = expm(-i g_tau (b s+ + b^dag s-)) on cavity (x) atom."""
    b = qt.destroy(cutoff) if coupling == "jaynes-cummings" else qt.Qobj(np.diag(np.ones(cutoff - 1), 1))
    s_plus = LOWER.dag()
    return (-1j * g_tau * (qt.tensor(b, s_plus) + qt.tensor(b.dag(), s_plus.dag()))).expm().full()
