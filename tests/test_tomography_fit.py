"""Fitters, readout model, exact sampling and distances (qbhw.tomography, qbhw.physics.distance)."""

from __future__ import annotations

import numpy as np
import pytest

from qbhw.errors import ParameterError
from qbhw.physics.distance import fidelity, trace_distance
from qbhw.tomography import (
    ReadoutModel,
    TomographyData,
    fit_linear,
    fit_mle,
    fit_projected,
    outcome_probabilities,
    pauli_settings,
    project_to_simplex,
    sample_counts,
)

#: counts = round(p * EXACT_SHOTS): rounding error 1e-12 relative, so fits of "exact" data agree to ~1e-10
EXACT_SHOTS = 1e12


def _exact_data(rho, settings, readout=None):
    p = outcome_probabilities(rho, settings, readout=readout)
    return TomographyData.from_array(settings, np.rint(p * EXACT_SHOTS).astype(np.int64))


def _physical(rho, tol=1e-10):
    return (
        np.allclose(rho, rho.conj().T, atol=tol) and abs(np.trace(rho) - 1) < tol and np.linalg.eigvalsh(rho)[0] > -tol
    )


@pytest.mark.parametrize("n", [1, 2, 3])
def test_exact_recovery(rand, n):
    rho = rand.density_matrix(2**n)
    data = _exact_data(rho, pauli_settings(n))
    for fit in (fit_linear, fit_projected):
        np.testing.assert_allclose(fit(data), rho, atol=1e-10)


def test_shot_noise_level_recovery(rand):
    """M shots per setting: each Pauli coefficient has sigma <= 1/sqrt(3^(n-w) M); ||rho_fit - rho||_F^2 =
    2^-n sum_P dc_P^2 <= 2^-n * 4^n / M ~ 1e-3 for n = 2, M = 4000; bound at 5x that (a chi-square tail)."""
    rho = rand.density_matrix(4)
    data = sample_counts(rho, pauli_settings(2), 4000, seed=1)
    for fit in (fit_linear, fit_projected, fit_mle):
        err = np.linalg.norm(fit(data) - rho) ** 2
        assert err < 5 * 4 / 4000


def test_readout_mitigation(rand):
    rho = rand.density_matrix(4)
    ro = ReadoutModel((0.03, 0.08), (0.06, 0.02))
    data = _exact_data(rho, pauli_settings(2), readout=ro)
    np.testing.assert_allclose(fit_linear(data, readout=ro), rho, atol=1e-10)
    np.testing.assert_allclose(fit_projected(data, readout=ro), rho, atol=1e-10)
    # without mitigation the state is biased by the confusion (readout shrinks <Z> by ~1 - p01 - p10)
    assert trace_distance(fit_projected(data), rho) > 0.02
    # MLE with noisy effects on sampled data: closer to rho than the unmitigated fit
    sampled = sample_counts(rho, pauli_settings(2), 20000, seed=3, readout=ro)
    err_m = trace_distance(fit_mle(sampled, readout=ro), rho)
    err_u = trace_distance(fit_mle(sampled), rho)
    assert err_m < 0.02 < err_u


def test_mle_and_projection_are_physical_when_linear_is_not(rand):
    """A pure state with few shots: the linear estimate has a negative eigenvalue; the others never do."""
    psi = rand.pure_state(4)
    rho = np.outer(psi, psi.conj())
    negative = 0
    for seed in range(10):
        data = sample_counts(rho, pauli_settings(2), 50, seed=seed)
        lin = fit_linear(data)
        negative += np.linalg.eigvalsh(lin)[0] < -1e-3
        assert abs(np.trace(lin) - 1) < 1e-12 and np.allclose(lin, lin.conj().T)
        for fit in (fit_projected, fit_mle):
            assert _physical(fit(data))
    assert negative >= 5


def test_projection_is_closest_state(rand):
    """SGS: no random density matrix is closer (Frobenius) to the linear estimate than the projection."""
    psi = rand.pure_state(4)
    data = sample_counts(np.outer(psi, psi.conj()), pauli_settings(2), 30, seed=2)
    lin, proj = fit_linear(data), fit_projected(data)
    best = np.linalg.norm(lin - proj)
    for _ in range(200):
        other = rand.density_matrix(4, rank=rand.rng.integers(1, 5))
        other = 0.5 * (other + proj) if rand.rng.random() < 0.5 else other
        assert np.linalg.norm(lin - other) >= best - 1e-12


def test_mle_maximises_likelihood(rand):
    """The MLE's log-likelihood is >= that of the projected estimate and of nearby states."""
    psi = rand.pure_state(4)
    rho = 0.9 * np.outer(psi, psi.conj()) + 0.1 * np.eye(4) / 4
    st = pauli_settings(2)
    data = sample_counts(rho, st, 300, seed=5)

    def loglik(r):
        p = outcome_probabilities(r, st)
        return float(np.sum(data.array * np.log(np.clip(p, 1e-300, None))))

    mle = fit_mle(data)
    ll = loglik(mle)
    assert ll >= loglik(fit_projected(data)) - 1e-9
    for _ in range(20):
        other = 0.98 * mle + 0.02 * rand.density_matrix(4)
        assert ll >= loglik(other) - 1e-6  # tolerance: the R rho R iteration stops at a change of 1e-10


def test_project_to_simplex():
    np.testing.assert_allclose(project_to_simplex([0.5, 0.6, -0.1]), [0.45, 0.55, 0.0], atol=1e-15)
    np.testing.assert_allclose(project_to_simplex([0.2, 0.3, 0.5]), [0.2, 0.3, 0.5], atol=1e-15)
    np.testing.assert_allclose(project_to_simplex([[2.0, 0.0], [0.5, 0.5]]), [[1.0, 0.0], [0.5, 0.5]])


def test_sample_counts_reproducible_and_multinomial(rand):
    rho = rand.density_matrix(2)
    a = sample_counts(rho, pauli_settings(1), 100, seed=9)
    b = sample_counts(rho, pauli_settings(1), 100, seed=9)
    assert a == b and a.seed == 9 and a.shots == (100, 100, 100)
    c = sample_counts(rho, pauli_settings(1), [10, 20, 30], seed=9)
    assert c.shots == (10, 20, 30)
    with pytest.raises(ParameterError, match="^rho"):
        sample_counts(np.eye(2), pauli_settings(1), 10, seed=1)
    with pytest.raises(ParameterError, match="^shots_per_setting"):
        sample_counts(rho, pauli_settings(1), [10, 20], seed=1)
    with pytest.raises(ParameterError, match="^seed"):
        sample_counts(rho, pauli_settings(1), 10, seed=-1)


def test_incomplete_settings_rejected(rand):
    data = sample_counts(rand.density_matrix(4), ("ZZ", "XX"), 10, seed=1)
    with pytest.raises(ParameterError, match="^data"):
        fit_linear(data)
    with pytest.raises(ParameterError, match="^readout"):
        fit_linear(
            sample_counts(rand.density_matrix(2), pauli_settings(1), 10, seed=1),
            readout=ReadoutModel((0.1, 0.1), (0.1, 0.1)),
        )


def test_readout_model_validation_and_calibration():
    from qbhw.hardware import default_device

    with pytest.raises(ParameterError, match="^p1_given_0"):
        ReadoutModel((1.2,), (0.1,))
    with pytest.raises(ParameterError, match="^p0_given_1"):
        ReadoutModel((0.6,), (0.5,))
    with pytest.raises(ParameterError, match="^p0_given_1"):
        ReadoutModel((0.1, 0.1), (0.1,))
    cal = default_device()
    ro = ReadoutModel.from_calibration(cal, [3, 0])
    assert ro.p1_given_0 == (cal.qubits[3].readout_p1_given_0, cal.qubits[0].readout_p1_given_0)
    assert ro.p0_given_1 == (cal.qubits[3].readout_p0_given_1, cal.qubits[0].readout_p0_given_1)
    np.testing.assert_allclose(ro.confusion(0).sum(axis=0), [1.0, 1.0])
    with pytest.raises(ParameterError, match="^physical_qubits"):
        ReadoutModel.from_calibration(cal, [cal.num_qubits])


def test_fidelity_and_trace_distance(rand):
    psi, phi = rand.pure_state(4), rand.pure_state(4)
    p, q = np.outer(psi, psi.conj()), np.outer(phi, phi.conj())
    # pure states: F = |<psi|phi>|^2, D = sqrt(1 - F) (1e-10: eigen-solver rounding)
    f = abs(np.vdot(psi, phi)) ** 2
    assert fidelity(p, q) == pytest.approx(f, abs=1e-10)
    assert trace_distance(p, q) == pytest.approx(np.sqrt(1 - f), abs=1e-10)
    r, s = rand.density_matrix(4), rand.density_matrix(4)
    assert fidelity(r, r) == pytest.approx(1.0, abs=1e-10)
    assert fidelity(r, s) == pytest.approx(fidelity(s, r), abs=1e-10)
    assert fidelity(p, s) == pytest.approx(np.real(psi.conj() @ s @ psi), abs=1e-10)
    # commuting states: F = (sum sqrt(p_i q_i))^2
    a, b = rand.probabilities(4), rand.probabilities(4)
    assert fidelity(np.diag(a), np.diag(b)) == pytest.approx(np.sum(np.sqrt(a * b)) ** 2, abs=1e-12)
    # Fuchs-van de Graaf: 1 - sqrt(F) <= D <= sqrt(1 - F)
    d, f = trace_distance(r, s), fidelity(r, s)
    assert 1 - np.sqrt(f) - 1e-12 <= d <= np.sqrt(1 - f) + 1e-12
    with pytest.raises(ValueError, match="same shape"):
        fidelity(np.eye(2) / 2, np.eye(4) / 4)
