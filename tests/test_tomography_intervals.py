"""The interval construction (docs/tomography_intervals.md): its inequalities, its building blocks, and its
coverage.

Coverage tolerances: over R independent data sets a rate with nominal value p has binomial standard deviation
sigma = sqrt(p (1 - p) / R); K = 3 sigma. Each end of a 95 % interval must miss at most 0.025 + K sigma (one-sided
guarantee: ends may be conservative), the two-sided coverage must be at least 0.95 - K sigma.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qbhw.physics import capacity, ergotropy, partial_trace, purity, stored_energy
from qbhw.physics.distance import fidelity
from qbhw.physics.operators import IDENTITY, PAULI_X, PAULI_Z
from qbhw.tomography import estimate_battery, pauli_settings, sample_counts
from qbhw.tomography._bootstrap import linear_statistic, split_halves
from qbhw.tomography._spectral import (
    capacity_functional,
    ergotropy_functional,
    group_levels,
    min_linear_on_purity_ball,
)

K = 3
FIGURES = ("energy", "ergotropy", "capacity", "purity", "fidelity")

#: micromaser cavity (binary encoding, 3 qubits, register index = photon number, H = a^dag a) after 10 noisy
#: collisions on the default device: MicromaserParams(g_tau=1.1107207345, p_excited=0.5, coherence=1.0,
#: collisions=10, cutoff=8), ExperimentResult.noisy_state, rounded to 1e-6 (upper triangle, row by row).
#: Spectrum 0.067, 0.080, 0.084, 0.087, 0.099, 0.104, 0.144, 0.336: a near-degenerate bulk of six; W = 0.6403.
_MASER_UPPER = [
    [0.131354, 0.000701 + 0.074565j, -0.041142 + 0.000423j, 0.000090 - 0.018663j, 0.005415 + 0.000085j,
     -0.000167 + 0.001806j, -0.000476 + 0.000190j, 0.000147 - 0.000696j],
    [0.179582, 0.000450 + 0.088933j, -0.038880 + 0.000002j, 0.000245 - 0.010876j, 0.002414 + 0.000325j,
     0.000240 - 0.000569j, -0.001505 + 0.000015j],
    [0.171433, 0.000132 + 0.064485j, -0.018351 - 0.000331j, 0.000408 - 0.003133j, -0.000547 + 0.000090j,
     -0.000012 + 0.000543j],
    [0.136975, -0.000851 + 0.029331j, -0.004645 - 0.000283j, 0.000031 + 0.000960j, 0.000456 + 0.000096j],
    [0.107491, -0.000639 + 0.010508j, 0.001213 + 0.000236j, 0.000439 - 0.000189j],
    [0.090522, 0.000202 - 0.001482j, -0.000605 - 0.000688j],
    [0.092287, 0.001548 - 0.007494j],
    [0.090356],
]  # fmt: skip


def _maser_state() -> np.ndarray:
    rho = np.zeros((8, 8), dtype=complex)
    for i, row in enumerate(_MASER_UPPER):
        rho[i, i:] = row
    rho = rho + np.triu(rho, 1).conj().T
    return rho / np.trace(rho).real


def _sigma(p: float, reps: int) -> float:
    return math.sqrt(p * (1 - p) / reps)


def _truth(rho, h, battery, target):
    n = rho.shape[0].bit_length() - 1
    rb = rho if battery is None else partial_trace(rho, [2] * n, battery)
    out = {"energy": stored_energy(rb, h), "ergotropy": ergotropy(rb, h), "capacity": capacity(rb, h)}
    out["purity"] = purity(rb)
    if target is not None:
        out["fidelity"] = fidelity(rho, target)
    return out


def _coverage(rho, h, shots, reps, seed0, *, battery=None, target=None, bootstrap=50):
    """Per figure: (coverage, miss-low rate, miss-high rate, point-inside rate) over ``reps`` data sets."""
    n = rho.shape[0].bit_length() - 1
    truth = _truth(rho, h, battery, target)
    tally = {k: np.zeros(4) for k in truth}
    for s in range(reps):
        data = sample_counts(rho, pauli_settings(n), shots, seed=seed0 + s)
        est = estimate_battery(data, h, battery=battery, target=target, bootstrap=bootstrap, seed=s)
        for k, t in truth.items():
            iv = getattr(est, k)
            lo, hi = iv.ci
            tol = 1e-12
            tally[k] += [lo - tol <= t <= hi + tol, t < lo - tol, t > hi + tol, lo <= iv.value <= hi]
    return {k: v / reps for k, v in tally.items()}


def _assert_covers(result, reps):
    for name, (cover, low, high, inside) in result.items():
        assert low <= 0.025 + K * _sigma(0.025, reps), (name, low)
        assert high <= 0.025 + K * _sigma(0.025, reps), (name, high)
        assert cover >= 0.95 - K * _sigma(0.95, reps), (name, cover)
        assert inside == 1.0, name


# ------------------------------------------------------------------------------------------- the inequalities


def test_plug_in_dominates_every_fixed_functional(rand):
    """W(X) = max_U Tr[X G_U] and C(X) = max over bases, also for unphysical X (Hermitian, trace 1, negative
    eigenvalues): the plug-in is reached by its own functional (1e-12) and no random unitary / basis beats it.
    This is the inequality that makes plug-in + z sigma an upper bound for every state."""
    e, basis = np.linalg.eigh(rand.hermitian(4))
    h = (basis * e) @ basis.conj().T
    for _ in range(20):
        x = rand.hermitian(4)
        x = x - (np.trace(x).real - 1) * np.eye(4) / 4  # trace 1, typically indefinite
        w, g = ergotropy_functional(x, e, basis)
        c, gc = capacity_functional(x, e)
        assert np.real(np.trace(x @ g)) == pytest.approx(w, abs=1e-12)
        assert np.real(np.trace(x @ gc)) == pytest.approx(c, abs=1e-12)
        for _ in range(10):
            u = rand.unitary(4)
            assert np.real(np.trace(x @ (h - u.conj().T @ h @ u))) <= w + 1e-12
            assert np.real(np.trace(x @ ((u * (e - e[::-1])) @ u.conj().T))) <= c + 1e-12
    rho = rand.density_matrix(4)
    assert ergotropy_functional(rho, e, basis)[0] == pytest.approx(ergotropy(rho, h), abs=1e-12)
    assert capacity_functional(rho, e)[0] == pytest.approx(capacity(rho, h), abs=1e-12)


def test_purity_ball_minimum_against_an_independent_solver(rand):
    """m(P) = min <r, e> over the simplex cut by sum r^2 <= P: equal (1e-6) to scipy's SLSQP on the expanded
    problem for degenerate random levels, and reached by the threshold spectrum; the caps W <= Tr[rho H] - m(P),
    C <= -m_c(P) hold for random states and are equalities for a state with that spectrum."""
    from scipy.optimize import minimize

    _, levels = rand.degenerate_hamiltonian((1, 3, 2, 1, 1))
    vals, mults = group_levels(levels)
    np.testing.assert_array_equal(mults, [1, 3, 2, 1, 1])
    d = levels.size
    for p in (1 / d, 0.15, 0.3, 0.6, 1.0):
        best = np.inf
        for _ in range(5):
            x0 = rand.probabilities(d)
            cons = [
                {"type": "eq", "fun": lambda r: r.sum() - 1.0},
                {"type": "ineq", "fun": lambda r, p=p: p - r @ r},
            ]
            res = minimize(lambda r: r @ levels, x0, bounds=[(0, 1)] * d, constraints=cons, method="SLSQP",
                           options={"ftol": 1e-12, "maxiter": 500})  # fmt: skip
            if res.success:
                best = min(best, res.fun)
        assert float(min_linear_on_purity_ball(vals, mults, p)) == pytest.approx(best, abs=1e-6), p
    h = np.diag(levels)
    cap_vals, cap_mults = group_levels(-(levels[::-1] - levels))
    for _ in range(20):
        rho = rand.density_matrix(d)
        p = purity(rho)
        assert ergotropy(rho, h) <= np.real(np.trace(rho @ h)) - min_linear_on_purity_ball(vals, mults, p) + 1e-12
        assert capacity(rho, h) <= -min_linear_on_purity_ball(cap_vals, cap_mults, p) + 1e-12
    # equality: the minimiser's spectrum (threshold form, constant on levels) in a random basis
    m = float(min_linear_on_purity_ball(vals, mults, 0.3))
    r = np.clip(0.3 - 0.2 * (levels - levels[0]), 0.0, None)
    r /= r.sum()
    rho = rand.with_spectrum(r)
    p = purity(rho)
    assert ergotropy(rho, h) == pytest.approx(
        np.real(np.trace(rho @ h)) - float(min_linear_on_purity_ball(vals, mults, p)), abs=1e-9
    )
    assert m <= float(r @ levels) + 1e-12


def test_split_halves_partition_the_shots():
    """A + B = counts; A holds floor(N_s / 2) shots of every setting; seeded; huge (exact) counts are thinned."""
    counts = np.array([[3, 0, 7, 1], [250, 250, 0, 1], [1, 1, 0, 0]])
    a, b = split_halves(np.random.default_rng(1), counts)
    a2, _ = split_halves(np.random.default_rng(1), counts)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(a + b, counts)
    assert np.all(a >= 0) and np.all(b >= 0)
    np.testing.assert_array_equal(a.sum(axis=1), counts.sum(axis=1) // 2)
    big = np.array([[10**12, 3 * 10**11]])
    a, b = split_halves(np.random.default_rng(2), big)
    np.testing.assert_array_equal(a + b, big)
    assert np.all(np.abs(a - big / 2) < 3 * np.sqrt(big))  # binomial thinning: within 6 sigma = 3 sqrt(N)


def test_linear_statistic_variance_is_the_multinomial_one(rand):
    """One setting, a fixed weight vector a: over R = 4000 multinomial draws the empirical variance of sum a f
    equals the formula's (its mean over the draws, unbiased by construction) within 4 / sqrt(2 R) relative."""
    p = rand.probabilities(5)
    a = rand.rng.normal(size=5)
    n = 40
    reps = 4000
    counts = rand.rng.multinomial(n, p, size=reps)
    values = np.array([linear_statistic(0.0, a[None, :], c[None, :])[0] for c in counts])
    var_hat = np.array([linear_statistic(0.0, a[None, :], c[None, :])[1] ** 2 for c in counts])
    exact = (a**2 @ p - (a @ p) ** 2) / n
    assert abs(var_hat.mean() / exact - 1) < 4 / math.sqrt(reps)  # unbiased (N - 1 divisor)
    assert abs(values.var(ddof=1) / exact - 1) < 4 / math.sqrt(2 * reps)


# ---------------------------------------------------------------------------------------------- calibration


@pytest.mark.slow
def test_split_bound_is_exactly_calibrated_on_the_maximally_mixed_state():
    """Maximally mixed 2 qubits, H = diag(0, 1, 2, 3): W = 0 and the work of ANY unitary on the true state is
    Tr[G]/4 = 0, so the split estimate is unbiased for exactly W and P(lower end > W) is the nominal 0.025 (up to
    the normal approximation): within K sigma over R = 800 (sigma = 0.0055). No bootstrap (closed forms only)."""
    reps = 800
    rho = np.eye(4, dtype=complex) / 4
    h = np.diag([0.0, 1.0, 2.0, 3.0])
    above = 0
    for s in range(reps):
        est = estimate_battery(sample_counts(rho, pauli_settings(2), 1000, seed=s), h, bootstrap=0, seed=s)
        above += est.ergotropy_lower > 0.0
    assert abs(above / reps - 0.025) < K * _sigma(0.025, reps)


def test_coverage_qubit_fast():
    """A non-passive qubit (W = 0.4415) with a mixed target, 500 shots per setting, R = 300 data sets with 30
    bootstrap replicates: every figure, both ends (fast version of the slow cases below)."""
    reps = 300
    rho = 0.5 * (IDENTITY + 0.5 * PAULI_X - 0.3 * PAULI_Z)
    target = 0.5 * (IDENTITY + 0.45 * PAULI_X - 0.4 * PAULI_Z)
    h = np.diag([-0.5, 0.5])
    _assert_covers(_coverage(rho, h, 500, reps, 10_000, target=target, bootstrap=30), reps)


@pytest.mark.slow
def test_coverage_non_passive_qubit():
    reps = 1000
    rho = 0.5 * (IDENTITY + 0.5 * PAULI_X - 0.3 * PAULI_Z)
    target = 0.5 * (IDENTITY + 0.6 * PAULI_X - 0.8 * PAULI_Z)  # pure target: linear fidelity
    _assert_covers(_coverage(rho, np.diag([-0.5, 0.5]), 500, reps, 20_000, target=target), reps)


@pytest.mark.slow
@pytest.mark.parametrize("w_goal", [0.015, 0.036])
def test_coverage_nearly_passive_degenerate_two_qubits(rand, w_goal):
    """The independent check's failure: nearly passive 2-qubit states with degenerate levels (H = diag(0, 1, 1,
    2)), W ~ 0.015-0.036, where the basic bootstrap's upper end covered only 0.88-0.91. 1000 shots per setting,
    R = 500."""
    reps = 500
    h = np.diag([0.0, 1.0, 1.0, 2.0])
    base = np.diag(np.sort(rand.probabilities(4))[::-1]).astype(complex)
    gen = rand.hermitian(4)
    lo, hi = 0.0, 1.0
    for _ in range(50):  # rotate away from passive until W = w_goal
        mid = 0.5 * (lo + hi)
        w, v = np.linalg.eigh(gen)
        u = (v * np.exp(-1j * mid * w)) @ v.conj().T
        rho = u @ base @ u.conj().T
        lo, hi = (mid, hi) if ergotropy(rho, h) < w_goal else (lo, mid)
    assert ergotropy(rho, h) == pytest.approx(w_goal, rel=1e-3)
    _assert_covers(_coverage(rho, h, 1000, reps, 30_000), reps)


@pytest.mark.slow
def test_coverage_micromaser_noisy_cavity():
    """Micromaser cavity after 10 noisy collisions (3 qubits, H = a^dag a, a near-degenerate bulk), 1000 shots
    per setting, R = 300."""
    reps = 300
    rho = _maser_state()
    h = np.diag(np.arange(8.0))
    assert ergotropy(rho, h) == pytest.approx(0.6403, abs=1e-4)
    _assert_covers(_coverage(rho, h, 1000, reps, 40_000), reps)


@pytest.mark.slow
def test_coverage_four_qubit_near_degenerate_with_mixed_target(rand):
    """4 qubits, rho = 0.8 |psi><psi| + 0.2 random (a near-degenerate bulk of 15 small eigenvalues), H =
    diag(0..15), mixed target, 1000 shots per setting, R = 150 (basic bootstrap alone: 0.17)."""
    reps = 150
    psi = rand.pure_state(16)
    rho = 0.8 * np.outer(psi, psi.conj()) + 0.2 * rand.density_matrix(16)
    target = 0.5 * np.outer(psi, psi.conj()) + 0.5 * rand.density_matrix(16, rank=3)
    _assert_covers(_coverage(rho, np.diag(np.arange(16.0)), 1000, reps, 50_000, target=target), reps)


def test_purity_bounds_solve_their_defining_equation():
    """PurityError.bounds: both ends solve (P_hat - P)^2 = z^2 (variance - sensitivity (P_hat - P)) (1e-12), the
    upper end further from P_hat than the lower one, and P_hat -/+ z std without sensitivity; purity_error keeps
    the variance >= its second-order part and estimates tr S^2 (within 20 % from 50 replicates)."""
    from qbhw.tomography._bootstrap import PurityError, purity_error

    err = PurityError(value=0.07, variance=4e-8, second=1e-8, sensitivity=2e-5)
    z = 1.96
    lo, hi = err.bounds(z)
    for p in (lo, hi):
        x = err.value - p
        assert x**2 == pytest.approx(z**2 * (err.variance - err.sensitivity * x), abs=1e-20)
    assert lo < err.value < hi and hi - err.value > err.value - lo
    flat = PurityError(value=0.0625, variance=4e-8, second=1e-8, sensitivity=0.0)
    assert flat.bounds(z) == pytest.approx((0.0625 - z * 2e-4, 0.0625 + z * 2e-4), abs=1e-15)
    rng = np.random.default_rng(3)
    dev = rng.normal(size=(50, 40)) * 1e-2  # covariance 1e-4 I: tr S^2 = 40e-8, tr S^3 / tr S^2 = 1e-4
    e = purity_error(0.3, 1e-12, np.ones(40), dev, 1.0)
    assert e.variance == e.second and e.second == pytest.approx(2 * 40e-8, rel=0.2)
    assert e.sensitivity == pytest.approx(4 * 1e-4, rel=0.3)  # isotropic S: both slopes are 4 s / d


def test_deterministic_counts_give_a_point_interval_without_error():
    """Every setting of a |00> register read as one outcome (counts fixed, not sampled: zero spread, as a stage
    that returns fixed counts produces): every figure is finite, its interval is the point itself (up to rounding,
    1e-12) for energy and purity, and the point lies inside its interval."""
    from qbhw.tomography import TomographyData

    settings = pauli_settings(2)
    counts = [{"00": 100} for _ in settings]
    target = np.zeros((4, 4), dtype=complex)
    target[0, 0] = 1.0
    est = estimate_battery(
        TomographyData.from_counts(settings, counts), np.diag([0.0, 1.0, 1.0, 2.0]), target=target, bootstrap=20, seed=0
    )
    for name in FIGURES:
        iv = getattr(est, name)
        assert math.isfinite(iv.value) and iv.ci[0] <= iv.value <= iv.ci[1], name
    assert est.purity.ci == pytest.approx((est.purity.value,) * 2, abs=1e-12)
    assert est.energy.ci == pytest.approx((est.energy.value,) * 2, abs=1e-12)


def test_purity_skewness_matches_the_chi_square_of_the_maximally_mixed_state():
    """At c = 0 with isotropic covariance S = s I_m the purity's noise is s (chi2_m - m) / d: skewness
    2 sqrt(2 / m). purity_error estimates it from 400 replicates (within 25 %: the triple-product estimate of
    tr S^3 has a relative spread of ~10 % here), and with the exact skewness the Cornish-Fisher ends of ``bounds``
    reproduce the chi-square quantiles (scipy) within 0.03 standard deviations."""
    from scipy.stats import chi2

    from qbhw.tomography._bootstrap import PurityError, purity_error

    m, s = 15, 1e-4
    rng = np.random.default_rng(5)
    dev = rng.normal(size=(400, m)) * math.sqrt(s)
    e = purity_error(0.25, 0.0, np.zeros(m), dev, 1.0)
    exact = 2.0 * math.sqrt(2.0 / m)
    assert e.skewness == pytest.approx(exact, rel=0.25)
    sd = math.sqrt(2.0 * m) * s
    err = PurityError(value=0.0, variance=sd**2, second=sd**2, sensitivity=0.0, skewness=exact)
    lo, hi = err.bounds(1.959964)
    # the lower end allows the noise's upper 2.5 % quantile, the upper end its lower one
    assert -lo / sd == pytest.approx((chi2.ppf(0.975, m) - m) / math.sqrt(2 * m), abs=0.03)
    assert -hi / sd == pytest.approx((chi2.ppf(0.025, m) - m) / math.sqrt(2 * m), abs=0.03)


def test_nearly_pure_mixed_target_fidelity_keeps_a_useful_lower_end():
    """A mixed target with tiny eigenvalues (here a 2-qubit state at purity ~0.94): the linear estimate's
    compression onto its support is often not positive definite, and the Alberti lower end does not exist. The
    interval then keeps the linear bound F(rho, sigma) >= Tr[rho sigma]: its lower end stays informative (median
    above 0.8, not the trivial 0), and over 100 data sets the truth F(rho, sigma) is missed at most 12 times
    (a 95 % interval: Binomial(100, 0.05) exceeds 12 with probability 0.004)."""
    from qbhw.physics.distance import fidelity
    from qbhw.tomography import estimate_battery, pauli_settings, sample_counts

    rng = np.random.default_rng(3)

    def near_pure(weight: float) -> np.ndarray:
        psi = rng.normal(size=4) + 1j * rng.normal(size=4)
        psi /= np.linalg.norm(psi)
        g = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        mix = g @ g.conj().T
        return (1 - weight) * np.outer(psi, psi.conj()) + weight * mix / np.trace(mix)

    sigma = near_pure(0.03)
    rho = 0.97 * sigma + 0.03 * near_pure(0.2)
    truth = float(fidelity(rho, sigma))
    h = np.diag([0.0, 1.0, 1.0, 2.0])
    misses, lows = 0, []
    for k in range(100):
        data = sample_counts(rho, pauli_settings(2), 1000, seed=100 + k)
        est = estimate_battery(data, h, battery=[0, 1], target=sigma, bootstrap=20, seed=k).to_dict()
        lo, hi = est["fidelity_ci"]
        assert lo <= est["fidelity"] <= hi
        misses += not (lo <= truth <= hi)
        lows.append(lo)
    assert misses <= 12, misses
    assert float(np.median(lows)) > 0.8, np.median(lows)
