"""The Dicke-Z estimator (collective battery from the all-Z setting, under DICKE_ASSUMPTION): exact values against
qbhw.physics on the full 2^N state and against qbhw.models.collective's figures, the closed form, the assumption's
failure mode, validation, and the coverage of its intervals under the assumption (K = 3 binomial sigmas)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qbhw.errors import ParameterError
from qbhw.models.collective import DickePopulations, figures_of_merit
from qbhw.physics import capacity, ergotropy, purity, stored_energy
from qbhw.physics.operators import kron
from qbhw.tomography import (
    DICKE_ASSUMPTION,
    ReadoutModel,
    TomographyData,
    estimate_dicke,
    outcome_probabilities,
    sample_counts,
)

K = 3
EXACT_SHOTS = 1e12


def _exact_data(rho, settings, readout=None):
    p = outcome_probabilities(rho, settings, readout=readout)
    return TomographyData.from_array(settings, np.rint(p * EXACT_SHOTS).astype(np.int64))


def _dicke_state(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sum_k p_k |D_k><D_k|, H = number of excitations), physics order, omega = 1."""
    n = len(p) - 1
    m = np.arange(2**n)
    weight = sum((m >> q) & 1 for q in range(n))
    rho = np.zeros((2**n, 2**n), dtype=complex)
    for k in range(n + 1):
        v = (weight == k).astype(complex)
        rho += p[k] * np.outer(v, v) / v.sum()
    return rho, np.diag(weight.astype(float))


@pytest.mark.parametrize("n", [2, 3, 4])
def test_exact_on_symmetric_states(rand, n):
    """rho = sum_k p_k |D_k><D_k| with random p: the estimate equals qbhw.physics on the full 2^N state and
    qbhw.models.collective.figures_of_merit (1e-8: rounding of 1e12 counts), with and without readout errors."""
    p = rand.probabilities(n + 1)
    rho, h = _dicke_state(p)
    model = figures_of_merit(DickePopulations(n, np.array([n / 2]), p[None, :]))
    ro = ReadoutModel(tuple(rand.rng.uniform(0, 0.08, n)), tuple(rand.rng.uniform(0, 0.08, n)))
    for readout in (None, ro):
        est = estimate_dicke(_exact_data(rho, ["Z" * n], readout), readout=readout, bootstrap=20, seed=1)
        assert est.estimator == "dicke-z" and est.assumption == DICKE_ASSUMPTION
        assert est.to_dict()["assumption"] == DICKE_ASSUMPTION
        np.testing.assert_allclose(est.excitation_distribution, p, atol=1e-9)
        for name, exact, other in [
            ("ergotropy", ergotropy(rho, h), model.ergotropy),
            ("energy", stored_energy(rho, h), model.energy),
            ("capacity", capacity(rho, h), model.capacity),
            ("purity", purity(rho), model.purity),
        ]:
            iv = getattr(est, name)
            assert iv.value == pytest.approx(exact, abs=1e-8) and exact == pytest.approx(other, abs=1e-12), name
            assert iv.ci[0] - 1e-8 <= exact <= iv.ci[1] + 1e-8
    # the split bound on exact data: the permutation fitted on half A is the passive one, w = W
    assert est.extractable_work.value == pytest.approx(ergotropy(rho, h), abs=1e-5)
    # readout errors ignored in the model: biased P(k)
    biased = estimate_dicke(_exact_data(rho, ["Z" * n], ro), bootstrap=0, seed=1)
    assert np.abs(biased.excitation_distribution - p).max() > 1e-3


def test_closed_form_collective_steady_state():
    """docs/physics.md 3.2: steady state from |g...g> at n_bar = 1 (x = 1/2), N = 3: W = 4/15 exactly."""
    n, x = 3, 0.5
    p = x ** np.arange(n + 1) * (1 - x) / (1 - x ** (n + 1))
    rho, _ = _dicke_state(p)
    est = estimate_dicke(_exact_data(rho, ["ZZZ"]), bootstrap=0, seed=0)
    assert est.ergotropy.value == pytest.approx(4 / 15, abs=1e-9)


def test_assumption_matters():
    """Non-symmetric states with the same Z statistics give a different (larger) Dicke ergotropy:
    (a) (|ge><ge| + |eg><eg|)/2: true W = 1/2, Dicke-assumed W = 1 (P(1) = 1 -> pure |D_1>);
    (b) a product Gibbs state (passive, W = 0): the Dicke estimate reports W > 0."""
    rho = np.diag([0.0, 0.5, 0.5, 0.0]).astype(complex)
    assert ergotropy(rho, np.diag([0.0, 1.0, 1.0, 2.0])) == pytest.approx(0.5, abs=1e-12)
    assert estimate_dicke(_exact_data(rho, ["ZZ"]), bootstrap=0, seed=0).ergotropy.value == pytest.approx(1.0)
    gibbs = kron(np.diag([0.7, 0.3]), np.diag([0.7, 0.3]), np.diag([0.7, 0.3])).astype(complex)
    assert estimate_dicke(_exact_data(gibbs, ["ZZZ"]), bootstrap=0, seed=0).ergotropy.value > 0.1


def test_validation_and_without_bootstrap(rand):
    rho, _ = _dicke_state(rand.probabilities(5))
    data = sample_counts(rho, ["ZZZZ"], 2000, seed=2)
    with pytest.raises(ParameterError, match="^data"):
        estimate_dicke(sample_counts(rho, ["XXXX"], 10, seed=1), seed=1)
    with pytest.raises(ParameterError, match="^omega"):
        estimate_dicke(data, omega=0.0, seed=1)
    with pytest.raises(ParameterError, match="^readout"):
        estimate_dicke(data, readout=ReadoutModel((0.1,), (0.1,)), seed=1)
    est = estimate_dicke(data, bootstrap=0, seed=1)
    assert math.isnan(est.ergotropy.std) and not math.isnan(est.purity.ci[0]) and est.ergotropy_lower >= 0.0
    full = estimate_dicke(data, bootstrap=100, seed=1)
    assert full.energy == est.energy and full.ergotropy_lower == est.ergotropy_lower
    for name in ("energy", "ergotropy", "capacity", "purity"):
        iv = getattr(full, name)
        assert iv.ci[0] <= iv.value <= iv.ci[1]


def _dicke_coverage(p, shots, reps, readout=None):
    rho, h = _dicke_state(p)
    n = len(p) - 1
    truth = {"energy": stored_energy(rho, h), "ergotropy": ergotropy(rho, h), "capacity": capacity(rho, h)}
    truth["purity"] = purity(rho)
    miss = {k: np.zeros(2) for k in truth}
    for s in range(reps):
        est = estimate_dicke(sample_counts(rho, ["Z" * n], shots, seed=s, readout=readout), readout=readout,
                             bootstrap=100, seed=s)  # fmt: skip
        for k, t in truth.items():
            lo, hi = getattr(est, k).ci
            miss[k] += [t < lo - 1e-12, t > hi + 1e-12]
    return {k: v / reps for k, v in miss.items()}


def test_coverage_under_the_assumption():
    """N = 4, P = (0.1, 0.35, 0.3, 0.2, 0.05), readout errors in data and model, 2000 shots, R = 400: each end
    of every figure misses at most 0.025 + K sigma (sigma = 0.0078)."""
    reps = 400
    ro = ReadoutModel((0.02, 0.03, 0.01, 0.02), (0.03, 0.02, 0.04, 0.01))
    result = _dicke_coverage(np.array([0.1, 0.35, 0.3, 0.2, 0.05]), 2000, reps, ro)
    bound = 0.025 + K * math.sqrt(0.025 * 0.975 / reps)
    for name, (low, high) in result.items():
        assert low <= bound and high <= bound, (name, low, high)


@pytest.mark.slow
def test_split_bound_exactly_calibrated_on_uniform_sectors():
    """Uniform P over the N + 1 = 5 sectors: every permutation of sectors extracts the same work, so the split
    estimate is unbiased for exactly W and P(lower end > W) is the nominal 0.025: within K sigma, R = 1000."""
    rho, h = _dicke_state(np.full(5, 0.2))
    w = ergotropy(rho, h)
    assert w == pytest.approx(1.2, abs=1e-12)
    reps = 1000
    above = sum(
        estimate_dicke(sample_counts(rho, ["ZZZZ"], 1000, seed=s), bootstrap=0, seed=s).ergotropy_lower > w
        for s in range(reps)
    )
    assert abs(above / reps - 0.025) < K * math.sqrt(0.025 * 0.975 / reps)
