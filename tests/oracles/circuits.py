"""Reference models for the mapping tests, built from QuTiP primitives and closed forms only.

Basis map (written once, used by every function here): a qubit is the two-level oscillator of QuTiP, lowering
operator ``qutip.destroy(2)`` = |0><1|. With |g> = ``basis(2, 0)`` that is sigma_- = |g><e|, and sigma_z =
2 ``num(2)`` - 1 = diag(-1, +1): exactly qbhw's convention (index 0 = |g> = Qiskit |0>). ``qutip.tensor`` is
big-endian like qbhw, so arrays returned here (``.full()``) need no conversion. Superoperators are QuTiP's, which
stack columns like qbhw.physics.lindblad (``operator_to_vector``).

Thermal factors are written out here (n = 1/(e^{w/T} - 1), p_e = n/(2n + 1)) instead of taken from qbhw.physics.
Nothing here calls a qbhw Hamiltonian, jump operator or channel; the functions read only the parameter values of
qbhw's params dataclasses.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import qutip as qt

#: mesolve's tolerances for the references (its error is then ~1e-10, far below the tolerances it is used with)
MESOLVE_OPTIONS = {"atol": 1e-12, "rtol": 1e-10}


def bose_einstein(omega: float, temperature: float) -> float:
    """n(w, T) = 1/(e^{w/T} - 1), 0 at T = 0."""
    return 0.0 if temperature == 0.0 else 1.0 / math.expm1(omega / temperature)


def qubit_lowering(n: int) -> list[qt.Qobj]:
    """sigma_- of each of n qubits (big-endian), from ``qutip.destroy(2)``."""
    eye = qt.qeye(2)
    return [qt.tensor([qt.destroy(2) if k == i else eye for k in range(n)]) for i in range(n)]


def _sz(lowering: qt.Qobj) -> qt.Qobj:
    return 2 * lowering.dag() * lowering - 1


def _thermal_c_ops(rate: float, nth: float, lowering: qt.Qobj) -> list[qt.Qobj]:
    return [c for c in (math.sqrt(rate * (nth + 1.0)) * lowering, math.sqrt(rate * nth) * lowering.dag()) if c.norm()]


# ------------------------------------------------------------------------------------------- thermal gradient


def thermal_gradient_bath_c_ops(params: Any) -> tuple[list[qt.Qobj], list[qt.Qobj]]:
    """The LOCAL bath collapse operators sqrt(gamma_j (n_j + 1)) s-_j, sqrt(gamma_j n_j) s+_j of A and of S
    (docs/physics.md 1.1), qubits (A, S); a zero operator (T_j = 0) is left out."""
    sm_a, sm_s = qubit_lowering(2)
    gamma_s = params.gamma if params.gamma_s is None else params.gamma_s
    return (
        _thermal_c_ops(params.gamma, bose_einstein(params.omega_a, params.temperature_a), sm_a),
        _thermal_c_ops(gamma_s, bose_einstein(params.omega_s, params.temperature_s), sm_s),
    )


def thermal_gradient_local_me(params: Any) -> tuple[qt.Qobj, list[qt.Qobj]]:
    """H = (w_A/2) sz_A + (w_S/2) sz_S + g (s+_A s-_S + h.c.) and the local bath collapse operators of both baths."""
    sm_a, sm_s = qubit_lowering(2)
    h = 0.5 * params.omega_a * _sz(sm_a) + 0.5 * params.omega_s * _sz(sm_s)
    h += params.g * (sm_a.dag() * sm_s + sm_s.dag() * sm_a)
    c_a, c_s = thermal_gradient_bath_c_ops(params)
    return h, c_a + c_s


def thermal_gradient_state(params: Any, time: float, rho0: np.ndarray | None = None) -> np.ndarray:
    """The local-ME state at ``time`` from rho0 (default |gg>), by mesolve."""
    h, c_ops = thermal_gradient_local_me(params)
    start = qt.Qobj(np.diag([1.0, 0, 0, 0]) if rho0 is None else rho0, dims=[[2, 2], [2, 2]])
    res = qt.mesolve(h, start, [0.0, time], c_ops=c_ops, options=MESOLVE_OPTIONS)
    return res.states[-1].full()


def thermal_gradient_limit_cycle(params: Any, cycle_time: float, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rho_end, rho_start) of the local-ME two-stroke cycle with extraction unitary ``u`` (order A, S): rho_end is
    the fixed point of e^{L tau} o U, found as the eigenvector of eigenvalue 1 of QuTiP's superoperator."""
    h, c_ops = thermal_gradient_local_me(params)
    uq = qt.Qobj(u, dims=[[2, 2], [2, 2]])
    cycle = (qt.liouvillian(h, c_ops) * cycle_time).expm() * qt.sprepost(uq, uq.dag())
    w, v = np.linalg.eig(cycle.full())
    vec = v[:, np.argmin(np.abs(w - 1.0))]
    rho_end = vec.reshape(4, 4, order="F")
    rho_end = rho_end / np.trace(rho_end)
    rho_end = 0.5 * (rho_end + rho_end.conj().T)
    return rho_end, u @ rho_end @ u.conj().T


def _gad_kraus(p_excited: float, decay: float) -> list[np.ndarray]:
    """Generalised amplitude damping in closed form, basis (|g>, |e>): populations relax by ``decay`` = e^{-Gamma t}
    towards p_excited, coherences by sqrt(decay)."""
    a, b = math.sqrt(1.0 - p_excited), math.sqrt(p_excited)
    s, r = math.sqrt(decay), math.sqrt(1.0 - decay)
    return [
        a * np.array([[1, 0], [0, s]]),
        a * np.array([[0, r], [0, 0]]),
        b * np.array([[s, 0], [0, 1]]),
        b * np.array([[0, 0], [r, 0]]),
    ]


def thermal_relaxation_circuit(params: Any, steps: int, dt: float) -> tuple[Any, Any]:
    """The thermal-gradient charging from |gg> with the baths as Aer quantum errors instead of collisions: the same
    Strang step D(dt/2) U_H(dt) D(dt/2) (merged halves) on 2 qubits, where each D is an identity UnitaryGate
    labelled "bath_a", "bath_a_half", "bath_s", "bath_s_half" that the returned NoiseModel turns into the exact
    bath channel (explicit Kraus operators: Aer's ``thermal_relaxation_error`` drops Kraus weights < 1e-8 and so
    turns a cold bath, P_S ~ 4.5e-5, into T = 0). Simulate WITHOUT transpiling (it would remove the identities).

    Returns (circuit, noise_model); the circuit's qubit 0 is A, qubit 1 is S.
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate
    from qiskit_aer.noise import NoiseModel, kraus_error

    gamma_s = params.gamma if params.gamma_s is None else params.gamma_s
    noise = NoiseModel(basis_gates=["unitary"])
    for name, qubit, omega, temp, rate in (
        ("bath_a", 0, params.omega_a, params.temperature_a, params.gamma),
        ("bath_s", 1, params.omega_s, params.temperature_s, gamma_s),
    ):
        n = bose_einstein(omega, temp)
        p, big_gamma = n / (2.0 * n + 1.0), rate * (2.0 * n + 1.0)
        noise.add_quantum_error(kraus_error(_gad_kraus(p, math.exp(-big_gamma * dt))), name, [qubit])
        noise.add_quantum_error(kraus_error(_gad_kraus(p, math.exp(-big_gamma * dt / 2))), name + "_half", [qubit])
    h, _ = thermal_gradient_local_me(params)
    u_h = (-1j * h * dt).expm().full()
    qc = QuantumCircuit(2, name="thermal_gradient_relaxation")
    eye = np.eye(2)

    def baths(suffix: str) -> None:
        qc.append(UnitaryGate(eye, label="bath_a" + suffix), [0])
        qc.append(UnitaryGate(eye, label="bath_s" + suffix), [1])

    baths("_half")
    for j in range(steps):
        qc.append(UnitaryGate(u_h, label="exp(-iH dt)"), [1, 0])  # physics order (A, S) -> qargs reversed
        baths("_half" if j == steps - 1 else "")
    return qc, noise


# ------------------------------------------------------------------------------------------------ collective


def collective_me(params: Any) -> tuple[qt.Qobj, list[qt.Qobj]]:
    """H = (1/2) sum_i sz_i and the collapse operators of docs/physics.md 3.1/3.3: sqrt(gamma (n+1)) J-,
    sqrt(gamma n) J+, local sqrt(gamma_L (n_L+1)) s-_i, sqrt(gamma_L n_L) s+_i, sqrt(dephasing) sz_i."""
    sms = qubit_lowering(params.n)
    jm = sum(sms[1:], sms[0])
    h = 0.5 * sum((_sz(s) for s in sms[1:]), _sz(sms[0]))
    c_ops = _thermal_c_ops(params.gamma, bose_einstein(1.0, params.temperature), jm)
    n_loc = bose_einstein(1.0, params.local_temperature)
    for s in sms:
        if params.gamma_local > 0:
            c_ops += _thermal_c_ops(params.gamma_local, n_loc, s)
        if params.dephasing > 0:
            c_ops.append(math.sqrt(params.dephasing) * _sz(s))
    return h, c_ops


def collective_state(params: Any, time: float) -> np.ndarray:
    """The state at ``time`` from |g...g>, by mesolve (2^N x 2^N)."""
    h, c_ops = collective_me(params)
    ground = qt.tensor([qt.basis(2, 0)] * params.n)
    res = qt.mesolve(h, ground * ground.dag(), [0.0, time], c_ops=c_ops, options=MESOLVE_OPTIONS)
    return res.states[-1].full()


# ------------------------------------------------------------------------------------------------ micromaser


def cavity_lowering(levels: int, coupling: str) -> qt.Qobj:
    """b on ``levels`` Fock levels: ``qutip.destroy`` (Jaynes-Cummings) or the unweighted sum_n |n-1><n| (ladder)."""
    if coupling == "jaynes-cummings":
        return qt.destroy(levels)
    terms = [qt.basis(levels, n - 1) * qt.basis(levels, n).dag() for n in range(1, levels)]
    return sum(terms[1:], terms[0])


def cavity_loss_superoperator(levels: int, kappa_dt: float, nth: float, coupling: str) -> np.ndarray:
    """exp(kappa dt [(nth+1) D[b] + nth D[b^dag]]) on ``levels`` levels (column stacking)."""
    b = cavity_lowering(levels, coupling)
    c_ops = [math.sqrt(kappa_dt * (nth + 1.0)) * b] + ([math.sqrt(kappa_dt * nth) * b.dag()] if nth > 0 else [])
    return qt.liouvillian(None, c_ops).expm().full()


def micromaser_with_loss(
    g_tau: float,
    p_excited: float,
    coherence: float,
    collisions: int,
    levels: int,
    kappa_dt: float = 0.0,
    nth: float = 0.0,
    coupling: str = "jaynes-cummings",
) -> np.ndarray:
    """rho_K = Phi (Lambda Phi)^(K-1) |0><0| at a Fock cutoff ``levels``: collisions U = exp(-i g_tau (b s+ +
    b^dag s-)) with the atom rho_Q = (1-P)|g><g| + P|e><e| + C sqrt(P(1-P)) (|g><e| + h.c.), loss Lambda between."""
    b = cavity_lowering(levels, coupling)
    s_plus = qt.destroy(2).dag()  # |e><g| in the basis map above
    u = (-1j * g_tau * (qt.tensor(b, s_plus) + qt.tensor(b.dag(), s_plus.dag()))).expm()
    x = coherence * math.sqrt(p_excited * (1.0 - p_excited))
    rho_q = qt.Qobj(np.array([[1.0 - p_excited, x], [x, p_excited]]))
    loss = None
    if kappa_dt > 0:
        c_ops = [math.sqrt(kappa_dt * (nth + 1.0)) * b] + ([math.sqrt(kappa_dt * nth) * b.dag()] if nth > 0 else [])
        loss = qt.liouvillian(None, c_ops).expm()
    rho = qt.fock_dm(levels, 0)
    for k in range(collisions):
        if k > 0 and loss is not None:
            rho = qt.vector_to_operator(loss * qt.operator_to_vector(rho))
        rho = (u * qt.tensor(rho, rho_q) * u.dag()).ptrace(0)
    return rho.full()
