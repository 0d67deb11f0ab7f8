"""Cavity tomography (qbhw.tomography.cavity): the measurement model against QuTiP primitives, the linear
estimator's exact expectation, interval coverage, the maximum-likelihood fit, the two estimators' agreement, the
readout model and the cutoff honesty.

References are built from QuTiP primitives (``qutip.displace``, ``qutip.wigner``, ``qutip.coherent_dm``,
``qutip.thermal_dm``, ``qutip.fock_dm``) or closed forms (the micromaser's cotangent trapping state, docs/physics.md
section 4.2), never from qbhw's own operators.

Coverage tolerances: over R independent data sets a rate with nominal value p has binomial standard deviation
sigma = sqrt(p (1 - p) / R); K = 3 sigma. Each end of a 95 % interval must miss at most 0.025 + K sigma (one-sided
guarantee: ends may be conservative).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip

from qbhw.errors import ParameterError
from qbhw.hardware import load_calibration
from qbhw.tomography import (
    CavityData,
    CavityMeasurement,
    cavity_probabilities,
    displacement_grid,
    estimate_cavity,
    parity_operator,
    sample_cavity,
)
from qbhw.tomography.cavity import cavity_model, displacement_matrix, fit_cavity_mle

K = 3
CONFUSION = CavityMeasurement(p1_given_0=0.02, p0_given_1=0.05, parity_contrast=0.9, assumption="test")


def _coherent(alpha: complex, dim: int) -> np.ndarray:
    """The coherent state's block on ``dim`` levels, renormalised (a state that lives on the cutoff)."""
    rho = qutip.coherent_dm(dim, alpha, method="analytic").full()
    return rho / np.trace(rho)


def _trapping_state(n_tr: int, q: float = 0.5) -> np.ndarray:
    """The pure cotangent state of the micromaser at exact trapping g tau = pi / sqrt(N_tr + 1) (physics 4.2)."""
    gt = math.pi / math.sqrt(n_tr + 1)
    c = [1.0 + 0j]
    for n in range(1, n_tr + 1):
        c.append(c[-1] * (-1j) * math.sqrt((1 - q) / q) / math.tan(gt * math.sqrt(n) / 2))
    v = np.array(c)
    v /= np.linalg.norm(v)
    return np.outer(v, v.conj())


def _pad(rho: np.ndarray, dim: int) -> np.ndarray:
    out = np.zeros((dim, dim), dtype=complex)
    out[: rho.shape[0], : rho.shape[0]] = rho
    return out


def _energy(rho: np.ndarray) -> float:
    return float(np.real(np.trace(rho @ qutip.num(rho.shape[0]).full())))


STATES = {
    "fock3": lambda d: qutip.fock_dm(d, 3).full(),
    "coherent": lambda d: _coherent(0.8 - 0.5j, d),
    "thermal": lambda d: qutip.thermal_dm(d, 0.7).full(),  # normalised on its d levels
    "trapping": lambda d: _pad(_trapping_state(3), d),
}


# ------------------------------------------------------------------------------------------ measurement model


@pytest.mark.parametrize("beta", [0.3 + 0.2j, -1.5 - 0.7j, 3.0 + 1.0j])
def test_displacement_elements_match_qutip(beta: complex) -> None:
    # qutip.displace exponentiates in a truncated space; its low block is exact to rounding when N >> |beta|^2
    ref = qutip.displace(200, beta).full()[:12, :12]
    assert np.abs(displacement_matrix(beta, 12) - ref).max() < 1e-12


@pytest.mark.parametrize("name", sorted(STATES))
def test_parity_expectation_is_the_wigner_function(name: str) -> None:
    rho = STATES[name](10)
    xs = np.array([-0.7, 0.0, 0.4])
    ps = np.array([-0.3, 0.25])
    w = qutip.wigner(qutip.Qobj(rho), xs, ps, g=2)  # g = 2: alpha = x + i p; w[i_p, i_x]
    for i, p in enumerate(ps):
        for j, x in enumerate(xs):
            par = np.real(np.trace(parity_operator(complex(x, p), 10) @ rho))
            assert par == pytest.approx(math.pi / 2 * w[i, j], abs=1e-10)


def test_probabilities_fold_readout_and_contrast() -> None:
    rho = _coherent(0.5, 30)
    alpha = np.array([0.3 + 0.1j])
    par = float(np.real(np.trace(parity_operator(alpha[0], 30) @ rho)))
    p = cavity_probabilities(rho, "parity", alpha, measurement=CONFUSION)
    p_g = (1 + 0.9 * par) / 2
    assert p[0, 0] == pytest.approx(0.98 * p_g + 0.05 * (1 - p_g), abs=1e-14)
    pn = cavity_probabilities(rho, "number", [0, 1, 2], measurement=CONFUSION)
    pops = np.real(np.diag(rho))[:3]
    assert np.allclose(pn[:, 1], 0.02 + 0.93 * pops, atol=1e-14)


def test_joint_state_is_traced_over_the_transmon() -> None:
    cav = _coherent(0.6j, 6)
    tr = np.diag([0.7, 0.3]).astype(complex)
    joint = np.kron(tr, cav)  # transmon (x) resonator, qbhw.pulse's order
    grid = displacement_grid(4)
    assert np.allclose(
        cavity_probabilities(joint, "parity", grid, transmon_levels=2), cavity_probabilities(cav, "parity", grid)
    )


# ------------------------------------------------------------------------------------------ linear estimator


@pytest.mark.parametrize("name", sorted(STATES))
@pytest.mark.parametrize("measurement", [CavityMeasurement(), CONFUSION], ids=["ideal", "confusion"])
def test_linear_estimator_has_exact_expectation(name: str, measurement: CavityMeasurement) -> None:
    # E[f] = p exactly, so the expectation of the least-squares estimate is lsq (p - b): equal to the truth for
    # every state on the cutoff (the trapping state lives on 4 of the 6 levels)
    d = 6 if name == "trapping" else 12
    rho = STATES[name](d)
    grid = displacement_grid(d)
    data = CavityData("parity", grid, np.ones((grid.size, 2), dtype=np.int64))
    model = cavity_model(data, d, measurement)
    p = cavity_probabilities(rho, "parity", grid, measurement=measurement)
    lin = model.density(model.lsq @ (p[:, 0] - model.b))
    assert np.abs(lin - rho[:d, :d]).max() < 1e-9
    assert _energy(lin) == pytest.approx(_energy(rho), abs=1e-8)


def test_ignoring_the_readout_confusion_biases_the_energy() -> None:
    rho = STATES["trapping"](6)
    grid = displacement_grid(6)
    data = CavityData("parity", grid, np.ones((grid.size, 2), dtype=np.int64))
    p = cavity_probabilities(rho, "parity", grid, measurement=CONFUSION)
    naive = cavity_model(data, 6, CavityMeasurement())
    lin = naive.density(naive.lsq @ (p[:, 0] - naive.b))
    assert abs(_energy(lin) - _energy(rho)) > 0.1  # the contrast 0.9 x 0.93 pulls the state towards I/D


def _misses(values: list[tuple[float, float]], truth: float) -> tuple[int, int]:
    # 1e-9: rounding of the truth at the ends of the physical range (a pure state's purity, a passive state's W)
    low = sum(1 for lo, _ in values if truth < lo - 1e-9)
    high = sum(1 for _, hi in values if truth > hi + 1e-9)
    return low, high


def _allowed(r: int) -> int:
    return math.floor(r * (0.025 + K * math.sqrt(0.025 * 0.975 / r)))


@pytest.mark.parametrize("kind", ["parity", "number"])
def test_energy_interval_covers_with_confusion(kind: str) -> None:
    rho = STATES["trapping"](5)
    truth = _energy(rho)
    d, r = 5, 60
    points = displacement_grid(d) if kind == "parity" else np.arange(d)
    seeds = np.random.SeedSequence(11).spawn(r)
    ivs = []
    for s in seeds:
        a, b = (int(x) for x in s.generate_state(2))
        data = sample_cavity(rho, kind, points, 400, seed=a, measurement=CONFUSION)
        est = estimate_cavity(data, cutoff=d, measurement=CONFUSION, bootstrap=0, seed=b, mle=False)
        assert est.energy.ci[0] <= est.energy.value <= est.energy.ci[1]
        ivs.append(est.energy.ci)
    low, high = _misses(ivs, truth)
    assert low <= _allowed(r) and high <= _allowed(r)


def test_estimators_agree_and_report_settings_and_shots() -> None:
    rho = STATES["trapping"](6)
    d = 6
    par = sample_cavity(rho, "parity", displacement_grid(d), 2000, seed=1, measurement=CONFUSION)
    num = sample_cavity(rho, "number", np.arange(d), 2000, seed=2, measurement=CONFUSION)
    e_par = estimate_cavity(par, cutoff=d, measurement=CONFUSION, bootstrap=50, seed=3, target=rho)
    e_num = estimate_cavity(num, cutoff=d, measurement=CONFUSION, bootstrap=0, seed=4)
    sd = math.hypot(e_par.energy.std, e_num.energy.std)
    assert abs(e_par.energy.value - e_num.energy.value) < 3 * sd
    assert e_par.settings == 1 + d * (2 * d - 1) and e_par.shots == 2000 * e_par.settings
    assert e_num.settings == d and e_num.ergotropy is None
    out = e_par.to_dict()
    assert out["estimator"] == "cavity-parity" and out["settings"] == e_par.settings
    for name in ("energy", "ergotropy", "purity", "fidelity"):
        lo, hi = out[f"{name}_ci"]
        assert lo <= out[name] <= hi
    assert out["cutoff_ok"] and out["top_level_weight"] < 0.02


# ------------------------------------------------------------------------------------------ maximum likelihood


def test_mle_recovers_the_state_at_the_shot_noise_rate() -> None:
    rho = STATES["coherent"](30)
    d = 8
    grid = displacement_grid(d)
    errors = []
    for shots in (500, 8000):
        data = sample_cavity(rho, "parity", grid, shots, seed=shots)
        model = cavity_model(data, d, CavityMeasurement())
        fit = fit_cavity_mle(model, np.asarray(data.counts))
        errors.append(0.5 * np.abs(np.linalg.eigvalsh(fit - rho[:d, :d])).sum())  # trace distance
        assert np.real(np.trace(fit)) == pytest.approx(1.0, abs=1e-12)
        assert np.linalg.eigvalsh(fit)[0] > -1e-12
    # O(1/sqrt(shots)): 16 x the shots divides the error by ~4 (a factor 2..8 at these fixed seeds)
    assert 2.0 < errors[0] / errors[1] < 8.0
    assert errors[1] < 0.05


def test_cutoff_honesty_flags_weight_at_the_top() -> None:
    rho = _coherent(2.0, 40)  # <n> = 4: much weight beyond 5 levels
    data = sample_cavity(rho, "parity", displacement_grid(5), 500, seed=0)
    est = estimate_cavity(data, cutoff=5, bootstrap=0, seed=0)
    assert not est.cutoff_ok and est.top_level_weight > 0.1
    assert est.to_dict()["cutoff_ok"] is False


def test_grid_that_cannot_identify_the_state_is_refused() -> None:
    grid = displacement_grid(8, rings=4)
    data = sample_cavity(STATES["coherent"](10), "parity", grid, 100, seed=0)
    with pytest.raises(ParameterError, match="points") as e:
        estimate_cavity(data, cutoff=8, seed=0)
    assert "rank 63" in str(e.value)


def test_measurement_model_from_the_synthetic_device() -> None:
    cal = load_calibration("synthetic_cqed")
    m = CavityMeasurement.from_calibration(cal)
    assert 0.0 < m.p1_given_0 < 0.5 and 0.0 < m.p0_given_1 < 0.5
    assert 0.9 < m.parity_contrast < 1.0 and 0.9 < m.selective_fidelity < 1.0 and m.selective_leak < 1e-3
    assert "chi" in m.assumption


def test_bad_inputs_name_their_parameter() -> None:
    with pytest.raises(ParameterError, match="p1_given_0"):
        CavityMeasurement(p1_given_0=0.7)
    with pytest.raises(ParameterError, match="rho"):
        cavity_probabilities(np.eye(3), "parity", [0j])
    with pytest.raises(ParameterError, match="cutoff"):
        estimate_cavity(sample_cavity(np.eye(2) / 2, "number", [0, 1], 10, seed=0), cutoff=1000, seed=0)


# ------------------------------------------------------------------------------------------ coverage (slow)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["trapping", "thermal"])
def test_coverage_of_every_figure(name: str) -> None:
    d = 6
    rho = STATES[name](d)
    rho = rho / np.trace(rho)  # the thermal state restricted to 6 levels, renormalised: the fitted cutoff is exact
    truths = {
        "energy": _energy(rho),
        "purity": float(np.real(np.trace(rho @ rho))),
        # ergotropy: E minus the passive energy (eigenvalues descending on the ladder 0..D-1, physics section 0)
        "ergotropy": _energy(rho) - float(np.sort(np.linalg.eigvalsh(rho))[::-1] @ np.arange(d)),
        "fidelity": 1.0,
    }
    r = 200
    grid = displacement_grid(d)
    ivs: dict[str, list[tuple[float, float]]] = {k: [] for k in truths}
    for s in np.random.SeedSequence(5).spawn(r):
        a, b = (int(x) for x in s.generate_state(2))
        data = sample_cavity(rho, "parity", grid, 500, seed=a, measurement=CONFUSION)
        est = estimate_cavity(data, cutoff=d, measurement=CONFUSION, target=rho, bootstrap=100, seed=b, mle=False)
        for k in truths:
            iv = getattr(est, k)
            ivs[k].append(iv.ci)
    for k, truth in truths.items():
        low, high = _misses(ivs[k], truth)
        assert low <= _allowed(r) and high <= _allowed(r), (k, low, high)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["parity", "number"])
def test_energy_coverage_with_the_device_measurement_model(kind: str) -> None:
    # synthetic_cqed's model: readout confusion of its transmon, parity contrast 0.991, selective pulses with
    # fidelity 0.987 and leak 3e-4 to n = k +- 1; a mixed micromaser-like state (trapping state dephased 30 %)
    m = CavityMeasurement.from_calibration(load_calibration("synthetic_cqed"))
    d = 6
    pure = STATES["trapping"](d)
    rho = 0.7 * pure + 0.3 * np.diag(np.diag(pure))
    truth = _energy(rho)
    r = 200
    points = displacement_grid(d) if kind == "parity" else np.arange(d)
    ivs = []
    for s in np.random.SeedSequence(21).spawn(r):
        a, b = (int(x) for x in s.generate_state(2))
        data = sample_cavity(rho, kind, points, 300, seed=a, measurement=m)
        ivs.append(estimate_cavity(data, cutoff=d, measurement=m, bootstrap=0, seed=b, mle=False).energy.ci)
    low, high = _misses(ivs, truth)
    assert low <= _allowed(r) and high <= _allowed(r)
