"""Battery estimates with bootstrap intervals: bias, coverage, negative controls, Dicke estimator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qbhw.errors import ParameterError
from qbhw.models.micromaser import MicromaserParams, evolve
from qbhw.physics import capacity, ergotropy, partial_trace, purity, stored_energy
from qbhw.physics.distance import fidelity
from qbhw.physics.operators import IDENTITY, PAULI_X, PAULI_Y, PAULI_Z, kron
from qbhw.tomography import (
    DICKE_ASSUMPTION,
    ReadoutModel,
    TomographyData,
    estimate_battery,
    estimate_dicke,
    fit_linear,
    outcome_probabilities,
    pauli_settings,
    sample_counts,
)

OMEGA = 1.0
H1 = np.diag([-OMEGA / 2, OMEGA / 2])  # (omega/2) sigma_z, physics convention sigma_z = diag(-1, +1)
EXACT_SHOTS = 1e12  # counts = round(p * EXACT_SHOTS): exact to ~1e-12


def _qubit(x: float, y: float, z: float) -> np.ndarray:
    """Qubit state with Qiskit Bloch vector (x, y, z); z > 0 leans to |0> = |g>."""
    return 0.5 * (IDENTITY + x * PAULI_X + y * PAULI_Y + z * PAULI_Z)


def _exact_data(rho, settings, readout=None):
    p = outcome_probabilities(rho, settings, readout=readout)
    return TomographyData.from_array(settings, np.rint(p * EXACT_SHOTS).astype(np.int64))


def test_point_figures_exact_and_battery_subset(rand):
    """Exact data: every figure equals qbhw.physics on the reduced state (1e-9: rounding of 1e12 counts)."""
    rho = rand.density_matrix(8)
    h = rand.hermitian(4)
    target = rand.density_matrix(8)
    est = estimate_battery(_exact_data(rho, pauli_settings(3)), h, battery=[2, 0], target=target, bootstrap=20, seed=1)
    rb = partial_trace(rho, [2, 2, 2], [0, 2])
    assert est.battery == (0, 2) and est.estimator == "full-pauli" and est.method == "projected"
    assert est.ergotropy.value == pytest.approx(ergotropy(rb, h), abs=1e-9)
    assert est.energy.value == pytest.approx(stored_energy(rb, h), abs=1e-9)
    assert est.capacity.value == pytest.approx(capacity(rb, h), abs=1e-9)
    assert est.purity.value == pytest.approx(purity(rb), abs=1e-9)
    assert est.fidelity.value == pytest.approx(fidelity(rho, target), abs=1e-9)
    np.testing.assert_allclose(est.state, rho, atol=1e-9)
    s = est.to_dict()
    assert s["ergotropy"] == est.ergotropy.value and s["ergotropy_ci"] == list(est.ergotropy.ci)
    assert s["interval"] == (
        "basic, linear-inversion pivot; ergotropy: basic upper, lower = min(basic, split-unitary bound)"
    )
    assert s["resampling"] == "nonparametric-multinomial" and s["bootstrap_seed"] == 1
    # split bound on exact data: U_A is the optimal unitary of the true state, so w = W; half B has 5e11 shots
    # per setting, std ~ 1e-6 -> 1e-5 tolerance (~10 std)
    w_true = ergotropy(rb, h)
    assert est.extractable_work.value == pytest.approx(w_true, abs=1e-5) and est.extractable_work.std < 1e-5
    assert w_true - 1e-4 < est.ergotropy_lower <= w_true + 1e-5
    assert est.ergotropy.ci[0] <= est.ergotropy_lower
    assert s["ergotropy_lower"] == est.ergotropy_lower and s["extractable_work"] == est.extractable_work.value
    assert s["extractable_work_ci"] == list(est.extractable_work.ci)


def test_reproducible_and_validated(rand):
    rho = rand.density_matrix(4)
    data = sample_counts(rho, pauli_settings(2), 200, seed=3)
    h = np.diag([0.0, 1.0, 1.0, 2.0])
    a = estimate_battery(data, h, bootstrap=30, seed=4)
    b = estimate_battery(data, h, bootstrap=30, seed=4)
    c = estimate_battery(data, h, bootstrap=30, seed=5)
    assert a.ergotropy == b.ergotropy and a.ergotropy.ci != c.ergotropy.ci
    for kwargs, name in [
        ({"method": "bayes"}, "method"),
        ({"bootstrap": 1}, "bootstrap"),
        ({"confidence": 1.0}, "confidence"),
        ({"battery": [2]}, "battery"),
        ({"target": np.eye(2) / 2}, "target"),
        ({"seed": -1}, "seed"),
    ]:
        with pytest.raises(ParameterError, match=f"^{name}"):
            estimate_battery(data, h, **{"seed": 1, **kwargs})
    with pytest.raises(ParameterError, match="^hamiltonian"):
        estimate_battery(data, np.eye(2), seed=1)
    none = estimate_battery(data, h, bootstrap=0, seed=1)
    assert math.isnan(none.ergotropy.std) and none.ergotropy.value == a.ergotropy.value


def test_linear_inversion_ergotropy_bias_formula():
    """docs/physics.md section 0: thermal qubit with Bloch length r0, M shots per axis, linear inversion:
    E[W_hat] - W = omega / (2 M r0) to leading order (W = 0 here). r0 = 0.5, M = 1000 -> 1.000e-3.
    Tolerance: 4 standard errors of the Monte-Carlo mean (std of W_hat ~ its mean, R = 3000 -> ~1.8 %),
    plus 1 % for the next order in 1/M (docs/physics.md's 200k-repetition check gives 1.0009e-3)."""
    r0, m, reps = 0.5, 1000, 3000
    rho = _qubit(0.0, 0.0, r0)
    settings = pauli_settings(1)
    w = np.array([ergotropy(fit_linear(sample_counts(rho, settings, m, seed=s)), H1) for s in range(reps)])
    predicted = OMEGA / (2 * m * r0)
    se = w.std(ddof=1) / math.sqrt(reps)
    assert abs(w.mean() - predicted) < 4 * se + 0.01 * predicted
    assert w.mean() > 10 * se  # the bias is resolved: a biased-up estimate of W = 0


@pytest.mark.slow
def test_ergotropy_interval_coverage():
    """Non-passive qubit (W = 0.4415): over REPS independent data sets (500 shots per setting) the 95 % basic
    bootstrap interval (200 replicates) contains the true W at a rate within K = 3 binomial sigmas of 0.95
    (sigma = sqrt(0.95 * 0.05 / REPS) = 0.0126 for REPS = 300)."""
    reps, k = 300, 3
    rho = _qubit(0.5, 0.0, -0.3)
    w_true = ergotropy(rho, H1)
    assert w_true > 0.4
    hits = 0
    for s in range(reps):
        est = estimate_battery(sample_counts(rho, pauli_settings(1), 500, seed=10_000 + s), H1, bootstrap=200, seed=s)
        hits += est.ergotropy.contains(w_true)
    sigma = math.sqrt(0.95 * 0.05 / reps)
    assert abs(hits / reps - 0.95) < k * sigma


@pytest.mark.slow
def test_ergotropy_interval_coverage_two_qubit_battery(rand):
    """Same for the battery qubit 1 of an entangled-ish 2-qubit register with readout errors mitigated in the
    model (REPS = 150, K = 3: sigma = 0.0178)."""
    reps, k = 150, 3
    psi = np.array([0.2, 0.3, 0.5, 0.787], dtype=complex)
    psi /= np.linalg.norm(psi)
    rho = 0.85 * np.outer(psi, psi.conj()) + 0.15 * np.eye(4) / 4
    w_true = ergotropy(partial_trace(rho, [2, 2], [1]), H1)
    assert w_true > 0.2
    ro = ReadoutModel((0.02, 0.04), (0.05, 0.03))
    hits = 0
    for s in range(reps):
        data = sample_counts(rho, pauli_settings(2), 400, seed=20_000 + s, readout=ro)
        est = estimate_battery(data, H1, battery=[1], readout=ro, bootstrap=200, seed=s)
        hits += est.ergotropy.contains(w_true)
    assert abs(hits / reps - 0.95) < k * math.sqrt(0.95 * 0.05 / reps)


def test_passive_qubit_gibbs_interval_contains_zero():
    """Negative control: a Gibbs qubit (p_e = 0.2, W = 0). Over 20 seeds the point estimate is >= 0 and biased
    up on average, yet every 95 % interval includes 0."""
    rho = np.diag([0.8, 0.2]).astype(complex)
    assert ergotropy(rho, H1) == pytest.approx(0.0, abs=1e-15)
    values = []
    for s in range(20):
        est = estimate_battery(sample_counts(rho, pauli_settings(1), 1000, seed=s), H1, seed=s)
        values.append(est.ergotropy.value)
        assert est.ergotropy.ci[0] <= 0.0  # clipped at 0: the interval includes W = 0
        assert est.ergotropy.bias > 0.0  # the bootstrap sees the convexity bias
    assert np.mean(values) > 0.0


def test_passive_micromaser_cavity_interval_contains_zero():
    """Negative control: micromaser cavity after 3 incoherent atoms (P = 1/2, C = 0, g tau = pi/2, trapping at
    N_tr = 3, D = 4) from the vacuum: diagonal with decreasing populations (0.42, 0.36, 0.20, 0.013), passive
    (W = 0). Binary encoding in 2 qubits (register index = n), H = a^dag a. Over 20 seeds every 95 % interval
    includes 0 while every point estimate shows false ergotropy."""
    params = MicromaserParams(
        g_tau=math.pi / 2, p_excited=0.5, coherence=0.0, collisions=3, cutoff=4, cutoff_tolerance=1.0
    )
    rho = evolve(params).state
    pops = np.real(np.diag(rho))
    assert np.all(np.diff(pops) < 0) and np.abs(rho - np.diag(pops)).max() == 0.0
    h = np.diag([0.0, 1.0, 2.0, 3.0])
    assert ergotropy(rho, h) == pytest.approx(0.0, abs=1e-12)
    for s in range(20):
        est = estimate_battery(sample_counts(rho, pauli_settings(2), 1000, seed=s), h, seed=s)
        assert est.ergotropy.value > 0.0
        assert est.ergotropy.ci[0] <= 0.0


# ------------------------------------------------------------------------------------------------- Dicke


def _dicke_ket(n: int, k: int) -> np.ndarray:
    m = np.arange(2**n)
    v = (sum((m >> q) & 1 for q in range(n)) == k).astype(complex)
    return v / np.linalg.norm(v)


def _collective_h(n: int) -> np.ndarray:
    """(omega/2) sum_i sigma_z^i + N omega/2 = omega * (number of excitations), diagonal in physics order."""
    m = np.arange(2**n)
    return np.diag(OMEGA * sum((m >> q) & 1 for q in range(n)).astype(float))


@pytest.mark.parametrize("n", [2, 3, 4])
def test_dicke_estimator_exact_on_symmetric_states(rand, n):
    """rho = sum_k p_k |D_k><D_k| with random p: the Dicke estimate equals qbhw.physics on the full 2^N state
    (1e-9: rounding of 1e12 counts), with and without readout errors in the data and the model."""
    p = rand.probabilities(n + 1)
    rho = sum(p[k] * np.outer(_dicke_ket(n, k), _dicke_ket(n, k).conj()) for k in range(n + 1))
    h = _collective_h(n)
    ro = ReadoutModel(tuple(rand.rng.uniform(0, 0.08, n)), tuple(rand.rng.uniform(0, 0.08, n)))
    for readout in (None, ro):
        est = estimate_dicke(_exact_data(rho, ["Z" * n], readout), omega=OMEGA, readout=readout, bootstrap=20, seed=1)
        assert est.estimator == "dicke-z" and est.assumption == DICKE_ASSUMPTION
        np.testing.assert_allclose(est.excitation_distribution, p, atol=1e-9)
        assert est.ergotropy.value == pytest.approx(ergotropy(rho, h), abs=1e-9)
        assert est.energy.value == pytest.approx(stored_energy(rho, h), abs=1e-9)
        assert est.capacity.value == pytest.approx(capacity(rho, h), abs=1e-9)
        assert est.purity.value == pytest.approx(purity(rho), abs=1e-9)
    # readout errors ignored in the model: biased P(k)
    biased = estimate_dicke(_exact_data(rho, ["Z" * n], ro), bootstrap=0, seed=1)
    assert np.abs(biased.excitation_distribution - p).max() > 1e-3


def test_dicke_closed_form_collective_steady_state():
    """docs/physics.md 3.2: steady state from |g...g> at n_bar = 1 (x = 1/2), N = 3: W = 4/15 exactly."""
    n, x = 3, 0.5
    p = x ** np.arange(n + 1) * (1 - x) / (1 - x ** (n + 1))
    rho = sum(p[k] * np.outer(_dicke_ket(n, k), _dicke_ket(n, k).conj()) for k in range(n + 1))
    est = estimate_dicke(_exact_data(rho, ["ZZZ"]), bootstrap=0, seed=0)
    assert est.ergotropy.value == pytest.approx(4 / 15, abs=1e-9)


def test_dicke_assumption_matters():
    """Non-symmetric states with the same Z statistics give a different (larger) Dicke ergotropy:
    (a) (|ge><ge| + |eg><eg|)/2: true W = omega/2, Dicke-assumed W = omega (P(1) = 1 -> pure |D_1>);
    (b) a product Gibbs state (passive, W = 0): the Dicke estimate reports W > 0."""
    h = _collective_h(2)
    rho = np.diag([0.0, 0.5, 0.5, 0.0]).astype(complex)
    assert ergotropy(rho, h) == pytest.approx(0.5, abs=1e-12)
    est = estimate_dicke(_exact_data(rho, ["ZZ"]), bootstrap=0, seed=0)
    assert est.ergotropy.value == pytest.approx(1.0, abs=1e-9)
    gibbs = kron(np.diag([0.7, 0.3]), np.diag([0.7, 0.3]), np.diag([0.7, 0.3])).astype(complex)
    assert ergotropy(gibbs, _collective_h(3)) == pytest.approx(0.0, abs=1e-12)
    est = estimate_dicke(_exact_data(gibbs, ["ZZZ"]), bootstrap=0, seed=0)
    assert est.ergotropy.value > 0.1


def test_dicke_bootstrap_and_validation(rand):
    n = 4
    p = rand.probabilities(n + 1)
    rho = sum(p[k] * np.outer(_dicke_ket(n, k), _dicke_ket(n, k).conj()) for k in range(n + 1))
    w_true = ergotropy(rho, _collective_h(n))
    data = sample_counts(rho, ["ZZZZ"], 20_000, seed=2)
    est = estimate_dicke(data, bootstrap=300, seed=3)
    # one data set: the interval is a few std wide and (at 95 %) should hold the truth; 5 std as a sanity bound
    assert abs(est.ergotropy.value - w_true) < 5 * est.ergotropy.std
    assert est.ergotropy.ci[0] < est.ergotropy.value < est.ergotropy.ci[1] or est.ergotropy.std == 0
    with pytest.raises(ParameterError, match="^data"):
        estimate_dicke(sample_counts(rho, ["XXXX"], 10, seed=1), seed=1)
    with pytest.raises(ParameterError, match="^omega"):
        estimate_dicke(data, omega=0.0, seed=1)
    with pytest.raises(ParameterError, match="^readout"):
        estimate_dicke(data, readout=ReadoutModel((0.1,), (0.1,)), seed=1)
