"""Lindblad tools (docs/physics.md section 0) against QuTiP, closed forms, quadrature and the Qiskit/Aer primitives.

Conventions checked here rather than assumed:
* qbhw vectorises by column stacking, vec(X) = X.reshape(-1, order="F"), so vec(A X B) = (B^T kron A) vec(X).
  QuTiP's ``operator_to_vector`` stacks columns too (asserted below), so qbhw and ``qutip.liouvillian``
  matrices are directly comparable. Qiskit's ``SuperOp`` is column-stacking as well: SuperOp(U) = conj(U) kron U
  (asserted below).
* D[L]rho = L rho L^dag - (1/2){L^dag L, rho}; a rate r with operator A means r D[A] (QuTiP: c_op sqrt(r) A).
* Qubit: basis index 0 = |g> = Qiskit |0>, index 1 = |e> = Qiskit |1>; H = (omega/2) sigma_z, sigma_z =
  diag(-1, +1); sigma_- = |g><e|. Multi-qubit arrays are big-endian (qubit 0 leftmost); the only multi-qubit
  Qiskit comparison (XXPlusYYGate with beta = 0) is symmetric under exchanging the qubits, so endianness drops out.

Tolerances: superoperator identities 1e-12 (rounding of sums of Kronecker products); expm-based results vs closed
forms 1e-12; vs QuTiP's ODE solver 1e-8 (its atol/rtol set to 1e-12/1e-10); SVD null vectors 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip
import scipy.integrate as si
import scipy.linalg as sla
from oracles.models import collective_model

from qbhw.errors import NonUniqueSteadyStateError
from qbhw.models.collective import CollectiveParams
from qbhw.physics import (
    bose_einstein,
    dissipator,
    ergotropy,
    evolve,
    excited_population,
    fixed_point,
    gibbs_state,
    integrated_evolution,
    liouvillian,
    propagator,
    stationary_dimension,
    steady_state,
)
from qbhw.physics.lindblad import apply, unvec, vec
from qbhw.physics.operators import SIGMA_MINUS, SIGMA_PLUS, SIGMA_Z, kron

SUPEROP = 1e-12


def _random_lindbladian(rand, d: int, n_jumps: int) -> tuple[np.ndarray, list[tuple[float, np.ndarray]]]:
    h = rand.hermitian(d)
    jumps = [(float(0.1 + rand.rng.random()), rand.ginibre(d, d)) for _ in range(n_jumps)]
    return h, jumps


def _qutip_c_ops(jumps: list[tuple[float, np.ndarray]]) -> list[qutip.Qobj]:
    return [qutip.Qobj(np.sqrt(rate) * a) for rate, a in jumps]


def _thermal_qubit(gamma: float, omega: float, temperature: float, with_h: bool = True) -> np.ndarray:
    """gamma (n+1) D[sigma_-] + gamma n D[sigma_+] (+ -i[(omega/2) sigma_z, .])."""
    n = bose_einstein(omega, temperature)
    h = 0.5 * omega * SIGMA_Z if with_h else None
    return liouvillian(h, [(gamma * (n + 1), SIGMA_MINUS), (gamma * n, SIGMA_PLUS)], dim=2)


def _collective(n_qubits: int, temperature: float, gamma_local: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(Liouvillian, H) of H = J_z, (n+1) D[J-] + n D[J+] (+ the same thermal rates locally per qubit), from the
    QuTiP oracle (tests/oracles/models.py; column-stacked like qbhw)."""
    params = CollectiveParams(n_qubits, temperature, gamma_local=gamma_local, local_temperature=temperature)
    h, c_ops = collective_model(params)
    return qutip.liouvillian(h, c_ops).full(), h.full()


# --------------------------------------------------------------------------------------------------------
# superoperators


def test_vectorisation_conventions(rand) -> None:
    x = rand.ginibre(3, 3)
    v = vec(x)
    np.testing.assert_array_equal(v, x.reshape(-1, order="F"))
    np.testing.assert_array_equal(unvec(v), x)
    # QuTiP stacks columns too: the premise of comparing Liouvillian matrices entry by entry
    np.testing.assert_allclose(qutip.operator_to_vector(qutip.Qobj(x)).full().ravel(), v, atol=0)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_dissipator_and_liouvillian_action(rand, d: int) -> None:
    h, jumps = _random_lindbladian(rand, d, 2)
    rho = rand.density_matrix(d)
    a = jumps[0][1]
    ada = a.conj().T @ a
    expected_d = a @ rho @ a.conj().T - 0.5 * (ada @ rho + rho @ ada)
    np.testing.assert_allclose(apply(dissipator(a), rho), expected_d, atol=SUPEROP)
    expected = -1j * (h @ rho - rho @ h) + sum(
        r * (b @ rho @ b.conj().T - 0.5 * (b.conj().T @ b @ rho + rho @ b.conj().T @ b)) for r, b in jumps
    )
    np.testing.assert_allclose(apply(liouvillian(h, jumps), rho), expected, atol=SUPEROP)
    # trace preservation: vec(1)^dagger L = 0
    np.testing.assert_allclose(vec(np.eye(d)).conj() @ liouvillian(h, jumps), 0, atol=SUPEROP)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_liouvillian_vs_qutip(rand, d: int) -> None:
    h, jumps = _random_lindbladian(rand, d, 3)
    expected = qutip.liouvillian(qutip.Qobj(h), _qutip_c_ops(jumps)).full()
    np.testing.assert_allclose(liouvillian(h, jumps), expected, rtol=0, atol=SUPEROP)
    # purely dissipative form
    expected_d = qutip.liouvillian(None, _qutip_c_ops(jumps)).full()
    np.testing.assert_allclose(liouvillian(None, jumps, dim=d), expected_d, rtol=0, atol=SUPEROP)


def test_liouvillian_rejects_negative_rate() -> None:
    with pytest.raises(ValueError, match="rates"):
        liouvillian(None, [(-0.1, SIGMA_MINUS)])


# --------------------------------------------------------------------------------------------------------
# time evolution


def test_evolve_vs_qutip_mesolve(rand) -> None:
    h, jumps = _random_lindbladian(rand, 3, 2)
    rho0 = rand.density_matrix(3)
    times = np.linspace(0.0, 3.0, 31)
    ours = evolve(liouvillian(h, jumps), rho0, times)
    result = qutip.mesolve(
        qutip.Qobj(h),
        qutip.Qobj(rho0),
        times,
        _qutip_c_ops(jumps),
        options={"atol": 1e-12, "rtol": 1e-10, "nsteps": 100_000},
    )
    for k, state in enumerate(result.states):
        np.testing.assert_allclose(ours[k], state.full(), rtol=0, atol=1e-8)  # ODE tolerance of mesolve


def test_evolve_grids_agree_with_expm(rand) -> None:
    h, jumps = _random_lindbladian(rand, 3, 2)
    lv = liouvillian(h, jumps)
    rho0 = rand.density_matrix(3)
    uniform = np.linspace(0.5, 4.5, 9)  # propagated with one step exponential
    scattered = np.array([2.0, 0.0, 0.7, 4.5, 0.7])  # unsorted, repeated: one exponential per time
    for times in (uniform, scattered):
        out = evolve(lv, rho0, times)
        for k, t in enumerate(times):
            np.testing.assert_allclose(out[k], unvec(sla.expm(lv * t) @ vec(rho0)), atol=1e-12)
    np.testing.assert_allclose(propagator(lv, 1.3) @ propagator(lv, 0.4), propagator(lv, 1.7), atol=1e-12)
    with pytest.raises(ValueError, match="times"):
        evolve(lv, rho0, [0.0, -1.0])


@pytest.mark.parametrize(("gamma", "omega", "temperature"), [(0.3, 1.0, 2.0), (1.0, 2.0, 0.1), (0.05, 0.5, 0.0)])
def test_thermal_qubit_is_generalized_amplitude_damping(rand, gamma: float, omega: float, temperature: float) -> None:
    # Gamma1 = gamma (2n+1), p = n/(2n+1): rho_ee(t) = p + (rho_ee(0) - p) e^{-Gamma1 t},
    # rho_ge(t) = rho_ge(0) e^{(i omega - Gamma1/2) t}  (rho_ge = row |g>, column |e>)
    n = bose_einstein(omega, temperature)
    g1, p = gamma * (2 * n + 1), excited_population(omega, temperature)
    lv = _thermal_qubit(gamma, omega, temperature)
    rho0 = rand.density_matrix(2)
    times = np.array([0.0, 0.3, 1.0, 1.7, 5.0, 40.0])
    out = evolve(lv, rho0, times)
    for k, t in enumerate(times):
        ee = p + (rho0[1, 1].real - p) * np.exp(-g1 * t)
        ge = rho0[0, 1] * np.exp((1j * omega - 0.5 * g1) * t)
        expected = np.array([[1 - ee, ge], [np.conj(ge), ee]])
        np.testing.assert_allclose(out[k], expected, rtol=0, atol=1e-12)


def test_integrated_evolution_vs_quadrature(rand) -> None:
    h, jumps = _random_lindbladian(rand, 3, 2)
    lv = liouvillian(h, jumps)
    rho0 = rand.density_matrix(3)
    t = 2.5
    w, v = np.linalg.eig(lv)  # diagonalisable for random jumps; fast integrand for the quadrature
    coeff = np.linalg.solve(v, vec(rho0))

    def integrand(s: float) -> np.ndarray:
        return v @ (np.exp(w * s) * coeff)

    assert np.linalg.cond(v) < 1e4  # the eigenbasis is well conditioned, so the integrand is accurate
    integral, error = si.quad_vec(integrand, 0.0, t, epsabs=1e-13, epsrel=1e-13)
    assert error < 1e-11
    np.testing.assert_allclose(integrated_evolution(lv, rho0, t), unvec(integral), rtol=0, atol=1e-9)


def test_integrated_evolution_thermal_qubit_closed_form(rand) -> None:
    # int_0^t rho_ee = p t + (rho_ee(0) - p)(1 - e^{-Gamma1 t})/Gamma1 ; trace of the integral = t
    gamma, omega, temperature, t = 0.3, 1.0, 2.0, 1.7
    n = bose_einstein(omega, temperature)
    g1, p = gamma * (2 * n + 1), excited_population(omega, temperature)
    rho0 = rand.density_matrix(2)
    out = integrated_evolution(_thermal_qubit(gamma, omega, temperature), rho0, t)
    assert out[1, 1].real == pytest.approx(p * t + (rho0[1, 1].real - p) * (1 - np.exp(-g1 * t)) / g1, abs=1e-12)
    assert np.trace(out).real == pytest.approx(t, abs=1e-12)
    rate = 1j * omega - 0.5 * g1
    assert out[0, 1] == pytest.approx(rho0[0, 1] * np.expm1(rate * t) / rate, abs=1e-12)


# --------------------------------------------------------------------------------------------------------
# stationary states


def test_steady_state_vs_qutip(rand) -> None:
    h, jumps = _random_lindbladian(rand, 4, 2)
    lv = liouvillian(h, jumps)
    assert stationary_dimension(lv) == 1
    ours = steady_state(lv)
    expected = qutip.steadystate(qutip.Qobj(h), _qutip_c_ops(jumps)).full()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9)  # SVD null vector vs QuTiP's direct solve
    np.testing.assert_allclose(apply(lv, ours), 0, atol=1e-9)
    assert np.trace(ours).real == pytest.approx(1.0, abs=1e-12)
    assert np.min(np.linalg.eigvalsh(ours)) > 0  # full rank for generic jumps


@pytest.mark.parametrize(("omega", "temperature"), [(1.0, 2.0), (2.0, 0.1)])
def test_thermal_qubit_steady_state_is_gibbs(omega: float, temperature: float) -> None:
    rho = steady_state(_thermal_qubit(0.3, omega, temperature))
    np.testing.assert_allclose(rho, gibbs_state(0.5 * omega * SIGMA_Z, temperature), atol=1e-12)


@pytest.mark.parametrize(("n_qubits", "dimension"), [(2, 2), (3, 5), (4, 14)])
def test_collective_dissipation_has_non_unique_steady_state(n_qubits: int, dimension: int) -> None:
    # gamma(n+1) D[J-] + gamma n D[J+] conserves J^2 and the Schur-Weyl labels: sum_j d_j^2 stationary states
    lv, _ = _collective(n_qubits, 2.0)
    assert stationary_dimension(lv) == dimension
    with pytest.raises(NonUniqueSteadyStateError) as info:
        steady_state(lv)
    assert info.value.dimension == dimension


@pytest.mark.parametrize("n_qubits", [2, 3])
def test_collective_plus_local_same_temperature_is_gibbs(n_qubits: int) -> None:
    # local dissipation breaks the symmetry: a unique steady state, the Gibbs state (both baths at T), W = 0
    temperature = 2.0
    lv, h = _collective(n_qubits, temperature, gamma_local=0.3)
    assert stationary_dimension(lv) == 1
    rho = steady_state(lv)
    np.testing.assert_allclose(rho, gibbs_state(h, temperature), atol=1e-10)
    assert abs(ergotropy(rho, h)) < 1e-10


def test_fixed_point_of_channels(rand) -> None:
    # thermal-qubit channel e^{L t}: fixed point diag(1 - p, p)
    p = excited_population(1.0, 2.0)
    fp = fixed_point(propagator(_thermal_qubit(0.3, 1.0, 2.0), 1.7))
    np.testing.assert_allclose(fp, np.diag([1 - p, p]), atol=1e-12)
    # random channel (Stinespring isometry d -> d*k, Kraus K_i = blocks): compare with the eigenvector of
    # eigenvalue 1 found by a general eigensolver
    d, k = 3, 2
    iso = np.linalg.qr(rand.ginibre(d * k, d))[0]
    kraus = [iso[i * d : (i + 1) * d] for i in range(k)]
    channel = sum(np.kron(kr.conj(), kr) for kr in kraus)
    np.testing.assert_allclose(sum(kr.conj().T @ kr for kr in kraus), np.eye(d), atol=1e-12)  # trace preserving
    w, v = np.linalg.eig(channel)
    idx = int(np.argmin(np.abs(w - 1)))
    expected = unvec(v[:, idx])
    expected /= np.trace(expected)
    fp = fixed_point(channel)
    np.testing.assert_allclose(fp, expected, atol=1e-9)
    np.testing.assert_allclose(sum(kr @ fp @ kr.conj().T for kr in kraus), fp, atol=1e-12)
    # the identity channel fixes everything: no unique fixed point
    with pytest.raises(NonUniqueSteadyStateError):
        fixed_point(np.eye(4))


# --------------------------------------------------------------------------------------------------------
# hardware primitives (docs/physics.md section 0)


def test_qiskit_superop_is_column_stacking(rand) -> None:
    from qiskit.quantum_info import Operator, SuperOp

    u = rand.unitary(2)
    np.testing.assert_allclose(SuperOp(Operator(u)).data, np.kron(u.conj(), u), atol=1e-14)


@pytest.mark.parametrize(
    ("gamma", "omega", "temperature", "t", "atol"),
    [
        (0.3, 1.0, 2.0, 1.7, 1e-12),  # docs/physics.md's case; rounding only
        (1.0, 1.0, 0.5, 0.4, 1e-12),
        (0.05, 0.5, 3.0, 9.0, 1e-12),
        # Cold and short: p_e (1 - e^{-Gamma1 t}) = 6.8e-10. Aer builds this channel as Kraus(Choi), and
        # qiskit's Choi -> Kraus conversion drops Kraus operators whose Choi eigenvalue is below its ATOL_DEFAULT
        # = 1e-8, so here Aer loses the |g> -> |e> jump (and 7e-10 of trace): agreement only to ~1e-8.
        (1.0, 2.0, 0.1, 0.4, 1e-8),
    ],
)
def test_aer_thermal_relaxation_equals_thermal_lindbladian(
    rand, gamma: float, omega: float, temperature: float, t: float, atol: float
) -> None:
    from qiskit.quantum_info import DensityMatrix, Operator, SuperOp
    from qiskit_aer.noise import thermal_relaxation_error

    n = bose_einstein(omega, temperature)
    g1 = gamma * (2 * n + 1)
    error = thermal_relaxation_error(t1=1 / g1, t2=2 / g1, time=t, excited_state_population=n / (2 * n + 1))
    aer = SuperOp(error).data
    # dissipator only (Aer's channel has no free precession): e^{L_D t}, rounding only
    exact = propagator(_thermal_qubit(gamma, omega, temperature, with_h=False), t)
    np.testing.assert_allclose(aer, exact, rtol=0, atol=atol)
    # convention-free check on a state (Qiskit |0> = |g>): same density matrix
    rho = rand.density_matrix(2)
    np.testing.assert_allclose(DensityMatrix(rho).evolve(SuperOp(error)).data, apply(exact, rho), atol=atol)
    # with H = (omega/2) sigma_z the dissipator is phase covariant: e^{Lt} = (e^{-iHt} . e^{-iHt}^dag) o Aer
    u = sla.expm(-1j * t * 0.5 * omega * SIGMA_Z)
    full = propagator(_thermal_qubit(gamma, omega, temperature), t)
    np.testing.assert_allclose(SuperOp(Operator(u)).data @ aer, full, atol=atol)


@pytest.mark.parametrize("gt", [0.0, 0.37, 1.0, np.pi / 2, 2.9])
def test_xx_plus_yy_gate_is_flip_flop_evolution(gt: float) -> None:
    from qiskit.circuit.library import XXPlusYYGate
    from qiskit.quantum_info import Operator

    flip_flop = kron(SIGMA_PLUS, SIGMA_MINUS) + kron(SIGMA_MINUS, SIGMA_PLUS)
    x, y = np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]])
    np.testing.assert_allclose(flip_flop, 0.5 * (np.kron(x, x) + np.kron(y, y)), atol=0)
    expected = sla.expm(-1j * gt * flip_flop)
    # same matrix including the global phase; rounding of expm and of Qiskit's closed form
    np.testing.assert_allclose(Operator(XXPlusYYGate(theta=2 * gt, beta=0.0)).data, expected, atol=1e-12)
    if gt > 0:  # the factor 2 matters: theta = g t is a different gate
        assert np.max(np.abs(Operator(XXPlusYYGate(theta=gt, beta=0.0)).data - expected)) > 1e-2
