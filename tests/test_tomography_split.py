"""Sample-split lower end of the tomographic ergotropy interval (qbhw/tomography/_estimate.py module doc).

The basic bootstrap interval under-covers where the spectrum of the battery state is (nearly) degenerate; the
split bound (extraction unitary fitted on half A, its work estimated linearly on half B) is valid whatever the
spectrum. Coverage tolerances: K = 3 binomial sigmas of the nominal rate over REPS independent data sets.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qbhw.physics import ergotropy, extraction_unitary, partial_trace
from qbhw.physics.operators import IDENTITY, PAULI_X, PAULI_Z
from qbhw.tomography import (
    ReadoutModel,
    TomographyData,
    estimate_battery,
    estimate_dicke,
    fit_linear,
    outcome_probabilities,
    pauli_settings,
    sample_counts,
)
from qbhw.tomography._estimate import _embed_positions, _linear_functional, _split_halves
from qbhw.tomography._fit import _model_for

K = 3

#: micromaser cavity (binary encoding, 3 qubits, register index = photon number, H = a^dag a) after 10 noisy
#: collisions on the default device: MicromaserParams(g_tau=1.1107207345, p_excited=0.5, coherence=1.0,
#: collisions=10, cutoff=8), ExperimentResult.noisy_state, rounded to 1e-6 (upper triangle, row by row).
#: Spectrum 0.067, 0.080, 0.084, 0.087, 0.099, 0.104, 0.144, 0.336: a near-degenerate bulk of six; W = 0.6403.
_MASER_UPPER = [
    [
        0.131354 + 0.000000j,
        0.000701 + 0.074565j,
        -0.041142 + 0.000423j,
        0.000090 - 0.018663j,
        0.005415 + 0.000085j,
        -0.000167 + 0.001806j,
        -0.000476 + 0.000190j,
        0.000147 - 0.000696j,
    ],
    [
        0.179582 + 0.000000j,
        0.000450 + 0.088933j,
        -0.038880 + 0.000002j,
        0.000245 - 0.010876j,
        0.002414 + 0.000325j,
        0.000240 - 0.000569j,
        -0.001505 + 0.000015j,
    ],
    [
        0.171433 + 0.000000j,
        0.000132 + 0.064485j,
        -0.018351 - 0.000331j,
        0.000408 - 0.003133j,
        -0.000547 + 0.000090j,
        -0.000012 + 0.000543j,
    ],
    [0.136975 + 0.000000j, -0.000851 + 0.029331j, -0.004645 - 0.000283j, 0.000031 + 0.000960j, 0.000456 + 0.000096j],
    [0.107491 + 0.000000j, -0.000639 + 0.010508j, 0.001213 + 0.000236j, 0.000439 - 0.000189j],
    [0.090522 + 0.000000j, 0.000202 - 0.001482j, -0.000605 - 0.000688j],
    [0.092287 + 0.000000j, 0.001548 - 0.007494j],
    [0.090356 + 0.000000j],
]


def _maser_state() -> np.ndarray:
    rho = np.zeros((8, 8), dtype=complex)
    for i, row in enumerate(_MASER_UPPER):
        rho[i, i:] = row
    rho = rho + np.triu(rho, 1).conj().T
    return rho / np.trace(rho).real


def _coverage(rho, h, shots, reps, seed0, bootstrap=200, battery=None, readout=None):
    """(fraction of ergotropy intervals containing W, fraction of ergotropy_lower above W)."""
    n = rho.shape[0].bit_length() - 1
    rb = rho if battery is None else partial_trace(rho, [2] * n, battery)
    w = ergotropy(rb, h)
    hits = above = 0
    for s in range(reps):
        data = sample_counts(rho, pauli_settings(n), shots, seed=seed0 + s, readout=readout)
        est = estimate_battery(data, h, battery=battery, readout=readout, bootstrap=bootstrap, seed=s)
        hits += est.ergotropy.contains(w)
        above += est.ergotropy_lower > w
    return hits / reps, above / reps


def _sigma(p: float, reps: int) -> float:
    return math.sqrt(p * (1 - p) / reps)


# ------------------------------------------------------------------------------------------------ building blocks


def test_split_halves_partition_the_shots():
    """A + B = counts; A holds floor(N_s / 2) shots of every setting; seeded; huge (exact) counts are thinned."""
    counts = np.array([[3, 0, 7, 1], [250, 250, 0, 1], [1, 1, 0, 0]])
    a, b = _split_halves(np.random.default_rng(1), counts)
    a2, _ = _split_halves(np.random.default_rng(1), counts)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(a + b, counts)
    assert np.all(a >= 0) and np.all(b >= 0)
    np.testing.assert_array_equal(a.sum(axis=1), counts.sum(axis=1) // 2)
    big = np.array([[10**12, 3 * 10**11]])
    a, b = _split_halves(np.random.default_rng(2), big)
    np.testing.assert_array_equal(a + b, big)
    # binomial thinning: each entry ~ N/2 within 6 sigma = 6 sqrt(N)/2
    assert np.all(np.abs(a - big / 2) < 3 * np.sqrt(big))


def test_linear_functional_matches_linear_inversion_and_its_variance(rand):
    """w_hat = Tr[partial_trace(rho_lin) G] of the linear-inversion estimate (1e-12: rounding) for a battery
    subset with readout errors and unequal shots; over R data sets its mean is Tr[rho_B G] within 4 standard
    errors and its empirical std equals the formula's std at the true probabilities within 4 / sqrt(2 R)
    (relative standard error of a sample std), while the plug-in std is within 10 % of it on every data set
    (>= 150 shots per setting)."""
    rho = rand.density_matrix(4)
    g = rand.hermitian(2)
    keep = (1,)
    op = _embed_positions(g, keep, 2)
    exact = float(np.real(np.trace(partial_trace(rho, [2, 2], keep) @ g)))
    assert float(np.real(np.trace(rho @ op))) == pytest.approx(exact, abs=1e-12)
    settings = pauli_settings(2)
    shots = [150 + 20 * i for i in range(len(settings))]
    ro = ReadoutModel((0.03, 0.05), (0.06, 0.02))
    model = _model_for(sample_counts(rho, settings, shots, seed=0, readout=ro), ro)
    p = outcome_probabilities(rho, settings, readout=ro)
    _, sd_true = _linear_functional(model, op, p * np.array(shots, dtype=float)[:, None])
    reps = 3000
    vals = np.empty(reps)
    for s in range(reps):
        data = sample_counts(rho, settings, shots, seed=s, readout=ro)
        vals[s], sd = _linear_functional(model, op, np.asarray(data.array))
        if s < 20:
            lin = fit_linear(data, readout=ro)
            assert vals[s] == pytest.approx(np.real(np.trace(partial_trace(lin, [2, 2], keep) @ g)), abs=1e-12)
        assert abs(sd / sd_true - 1) < 0.1
    assert abs(vals.mean() - exact) < 4 * sd_true / math.sqrt(reps)
    assert abs(vals.std(ddof=1) / sd_true - 1) < 4 / math.sqrt(2 * reps)


def test_exact_data_gives_the_optimal_unitary():
    """Exact data (1e12 counts): U_A is the extraction unitary of the true state, so w_hat = W (1e-5: std of
    half B ~ 1e-6) and the split bound is W up to z std."""
    rho = 0.5 * (IDENTITY + 0.6 * PAULI_X + 0.3 * PAULI_Z)
    h = np.diag([-0.5, 0.5])
    p = outcome_probabilities(rho, pauli_settings(1))
    data = TomographyData.from_array(pauli_settings(1), np.rint(p * 1e12).astype(np.int64))
    est = estimate_battery(data, h, bootstrap=0, seed=3)
    w = ergotropy(rho, h)
    u = extraction_unitary(rho, h)
    assert np.real(np.trace(rho @ h) - np.trace(u @ rho @ u.conj().T @ h)) == pytest.approx(w, abs=1e-12)
    assert est.extractable_work.value == pytest.approx(w, abs=1e-5)
    assert w - 1e-4 < est.ergotropy_lower <= w + 1e-5
    assert math.isnan(est.ergotropy.ci[0])  # no bootstrap: no interval, the split bound is still given


def test_split_seeded_and_reported():
    """One seed fixes everything; the bootstrap stream is not shifted by the split; summary keys; too few
    shots to split -> NaN / None and the plain basic interval."""
    rho = 0.5 * (IDENTITY + 0.4 * PAULI_X - 0.5 * PAULI_Z)
    h = np.diag([-0.5, 0.5])
    data = sample_counts(rho, pauli_settings(1), 300, seed=1)
    a = estimate_battery(data, h, bootstrap=50, seed=4)
    b = estimate_battery(data, h, bootstrap=50, seed=4)
    c = estimate_battery(data, h, bootstrap=50, seed=5)
    assert a.ergotropy == b.ergotropy and a.extractable_work == b.extractable_work
    assert a.ergotropy_lower == b.ergotropy_lower and a.extractable_work != c.extractable_work
    plain = estimate_battery(data, h, bootstrap=50, seed=4, method="linear")  # same bootstrap stream
    assert plain.ergotropy.ci[1] == a.ergotropy.ci[1]
    assert a.ergotropy.ci == (min(a.ergotropy_lower, a.ergotropy.ci[0]), a.ergotropy.ci[1])
    assert a.ergotropy_lower == max(a.extractable_work.ci[0], 0.0)
    assert a.extractable_work.ci[0] < a.extractable_work.value < a.extractable_work.ci[1]
    assert a.extractable_work.bias == 0.0 and a.extractable_work.std > 0.0
    s = a.to_dict()
    assert s["ergotropy_lower"] == a.ergotropy_lower and s["extractable_work_ci"] == list(a.extractable_work.ci)
    assert s["extractable_work_std"] == a.extractable_work.std
    one = TomographyData.from_array(pauli_settings(1), np.array([[1, 0], [0, 1], [1, 0]]))
    e = estimate_battery(one, h, bootstrap=20, seed=1)
    assert math.isnan(e.ergotropy_lower) and e.extractable_work is None and "ergotropy_lower" not in e.to_dict()


# -------------------------------------------------------------------------------------- validity of the bound


def test_split_bound_calibrated_on_maximally_mixed_state():
    """Maximally mixed 2 qubits, H = diag(0, 1, 2, 3): W = 0 and w(rho) = Tr[G]/4 = 0 for every U_A, so w_hat
    is an unbiased estimate of exactly W and P(ergotropy_lower > W) is the one-sided level 0.025 itself (up
    to the normal approximation): within K sigma of 0.025 over REPS = 1000 (sigma = 0.0049). Split only
    (bootstrap = 0)."""
    reps = 1000
    rho = np.eye(4, dtype=complex) / 4
    h = np.diag([0.0, 1.0, 2.0, 3.0])
    above = 0
    for s in range(reps):
        est = estimate_battery(sample_counts(rho, pauli_settings(2), 1000, seed=s), h, bootstrap=0, seed=s)
        above += est.ergotropy_lower > 0.0
    assert abs(above / reps - 0.025) < K * _sigma(0.025, reps)


def test_split_bound_valid_for_non_passive_qubit():
    """Non-passive qubit (W = 0.4415), 500 shots per setting: U_A is nearly optimal, so the bound is nearly
    exact and its miss rate P(ergotropy_lower > W) must stay <= 0.025 + K sigma (REPS = 1000)."""
    reps = 1000
    rho = 0.5 * (IDENTITY + 0.5 * PAULI_X - 0.3 * PAULI_Z)
    h = np.diag([-0.5, 0.5])
    w = ergotropy(rho, h)
    above = 0
    for s in range(reps):
        est = estimate_battery(sample_counts(rho, pauli_settings(1), 500, seed=s), h, bootstrap=0, seed=s)
        above += est.ergotropy_lower > w
    assert above / reps < 0.025 + K * _sigma(0.025, reps)


# --------------------------------------------------------------------------- coverage of the ergotropy interval


@pytest.mark.slow
def test_coverage_maximally_mixed_two_qubits():
    """Maximally mixed 2 qubits, H = diag(0, 1, 2, 3), 1000 shots per setting: basic interval alone 0.58
    (measured); with the split lower end >= 0.95 - K sigma (REPS = 200, sigma = 0.0154)."""
    reps = 200
    cover, above = _coverage(np.eye(4, dtype=complex) / 4, np.diag([0.0, 1.0, 2.0, 3.0]), 1000, reps, 50_000)
    assert cover >= 0.95 - K * _sigma(0.95, reps)
    assert above <= 0.025 + K * _sigma(0.025, reps)


@pytest.mark.slow
def test_coverage_four_qubit_near_degenerate(rand):
    """4 qubits, rho = 0.8 |psi><psi| + 0.2 random (a near-degenerate bulk of 15 small eigenvalues), H =
    diag(0..15), 1000 shots per setting: basic interval alone 0.17 (measured); with the split lower end
    >= 0.95 - K sigma (REPS = 100, sigma = 0.0218)."""
    reps = 100
    psi = rand.pure_state(16)
    rho = 0.8 * np.outer(psi, psi.conj()) + 0.2 * rand.density_matrix(16)
    cover, above = _coverage(rho, np.diag(np.arange(16.0)), 1000, reps, 60_000)
    assert cover >= 0.95 - K * _sigma(0.95, reps)
    assert above <= 0.025 + K * _sigma(0.025, reps)


@pytest.mark.slow
def test_coverage_micromaser_noisy_cavity():
    """Micromaser cavity after 10 noisy collisions (3 qubits, H = a^dag a), 1000 shots per setting: basic
    interval alone 0.855 (measured); with the split lower end >= 0.95 - K sigma (REPS = 150, sigma = 0.0178)."""
    reps = 150
    rho = _maser_state()
    assert ergotropy(rho, np.diag(np.arange(8.0))) == pytest.approx(0.6403, abs=1e-4)
    cover, above = _coverage(rho, np.diag(np.arange(8.0)), 1000, reps, 70_000)
    assert cover >= 0.95 - K * _sigma(0.95, reps)
    assert above <= 0.025 + K * _sigma(0.025, reps)


# ------------------------------------------------------------------------------------------------------- Dicke


def _dicke_state(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sum_k p_k |D_k><D_k|, H = omega * number of excitations), physics order, omega = 1."""
    n = len(p) - 1
    m = np.arange(2**n)
    weight = sum((m >> q) & 1 for q in range(n))
    rho = np.zeros((2**n, 2**n), dtype=complex)
    for k in range(n + 1):
        v = (weight == k).astype(complex)
        rho += p[k] * np.outer(v, v) / v.sum()
    return rho, np.diag(weight.astype(float))


def test_dicke_split_exact_and_calibrated():
    """Dicke-Z estimator. (a) Exact data, P = (0.1, 0.1, 0.1, 0.1, 0.6): the permutation fitted on A is the
    passive one, w_hat = W (1e-5: std of half B ~ 1e-6). (b) Uniform P over the N + 1 = 5 sectors: every
    permutation of sectors extracts the same work, so w = W exactly and P(ergotropy_lower > W) is the level
    0.025 itself: within K sigma over REPS = 1000 (sigma = 0.0049), 1000 shots, no bootstrap."""
    rho, h = _dicke_state(np.array([0.1, 0.1, 0.1, 0.1, 0.6]))
    w = ergotropy(rho, h)
    probs = outcome_probabilities(rho, ["ZZZZ"])
    exact = TomographyData.from_array(["ZZZZ"], np.rint(probs * 1e12).astype(np.int64))
    est = estimate_dicke(exact, bootstrap=20, seed=1)
    assert est.extractable_work.value == pytest.approx(w, abs=1e-5)
    assert w - 1e-4 < est.ergotropy_lower <= w + 1e-5 and est.ergotropy.ci[0] <= est.ergotropy_lower
    assert est.to_dict()["ergotropy_lower"] == est.ergotropy_lower
    rho, h = _dicke_state(np.full(5, 0.2))
    w = ergotropy(rho, h)
    assert w == pytest.approx(1.2, abs=1e-12)
    reps = 1000
    above = sum(
        estimate_dicke(sample_counts(rho, ["ZZZZ"], 1000, seed=s), bootstrap=0, seed=s).ergotropy_lower > w
        for s in range(reps)
    )
    assert abs(above / reps - 0.025) < K * _sigma(0.025, reps)
