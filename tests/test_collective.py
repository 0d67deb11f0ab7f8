"""Collective-dissipation battery (qbhw.models.collective; docs/physics.md section 3).

References: the closed forms and tables of docs/physics.md 3.2-3.3, and the full 2^N Lindbladian built from QuTiP
primitives in tests/oracles/models.py (qbhw's basis: big-endian, index 0 = |g>), solved here with scipy (sparse LU,
expm) and scored with the dense qbhw.physics figures of merit; the PIQS pitfall is shown on a QuTiP state.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip
import scipy.linalg as sla
import scipy.sparse as sps
from oracles.models import collective_ground, collective_model, collective_thermal_product
from scipy.sparse.linalg import spsolve

from qbhw.errors import ParameterError
from qbhw.models import _dicke
from qbhw.models import collective as co
from qbhw.models import collective_studies as studies
from qbhw.physics import capacity, ergotropy, passive_energy_from_spectra, purity, stored_energy
from qbhw.physics.thermal import bose_einstein

# closed forms evaluated in floating point: agreement to ~1e-15 relative; the table has 10 printed digits
TABLE_TOL = 6e-11
# full 2^N Lindbladian (dense expm / SVD) vs the rate equation: both exact, rounding of O(1e-13) at dim 4^N
FULL_TOL = 1e-9

# docs/physics.md 3.2 reference table W_ss/omega0 for N = 2..8
W_TABLE = {
    0.5: [0.0158762400, 0.0201302187, 0.0209946071, 0.0211508067, 0.0211772578, 0.0211815565, 0.0211822356],
    1.0: [0.0900305732, 0.1512615253, 0.1844670789, 0.2007585595, 0.2082852114, 0.2116247881, 0.2130644599],
    1 / math.log(2): [1 / 7, 4 / 15, 0.3548387097, 0.4126984127, 0.4488188976, 0.4705882353, 0.4833659491],
    2.0: [0.1863237232, 0.3704777455, 0.5230221621, 0.6412053440, 0.7292515223, 0.7930456392, 0.8382794415],
    math.inf: [1 / 3, 0.75, 1.2, 1.6666666667, 2.1428571429, 2.625, 3.1111111111],
}
W_LARGE_N = {0.5: 0.0211823595, 1.0: 0.2140972657, 1 / math.log(2): 0.5, 2.0: 0.9349634228}
ENERGY_T2 = [0.6798433322, 0.9154235115, 1.0943666334, 1.2271199036, 1.3235304677, 1.3922351996, 1.4403899482]
CAPACITY_T2 = [1.0129607821, 1.9101084678, 2.8573110576, 3.8281708808]


# ----------------------------------------------------------------------------------------- full 2^N reference


def full_model(params: co.CollectiveParams) -> tuple[np.ndarray, np.ndarray]:
    """(H, Liouvillian) on (C^2)^{(x)N} from the QuTiP oracle (column-stacked superoperator, qbhw's basis)."""
    h, c_ops = collective_model(params)
    return h.full(), qutip.liouvillian(h, c_ops).full()


def full_thermal_product(n: int, temperature: float) -> np.ndarray:
    return collective_thermal_product(n, temperature).full()


def full_ground(n: int) -> np.ndarray:
    return collective_ground(n).full()


def full_evolve(lv: np.ndarray, rho0: np.ndarray, times: np.ndarray) -> list[np.ndarray]:
    """exp(L t) vec(rho0) with scipy's expm (column stacking)."""
    d = rho0.shape[0]
    v0 = rho0.reshape(-1, order="F")
    return [(sla.expm(lv * t) @ v0).reshape(d, d, order="F") for t in times]


def full_steady_state(lv: np.ndarray) -> np.ndarray:
    """Unique stationary state of the full Liouvillian: sparse LU of L with one row replaced by Tr rho = 1."""
    d2 = lv.shape[0]
    d = int(round(math.sqrt(d2)))
    a = sps.lil_matrix(lv)
    a[0, :] = np.eye(d).reshape(-1, order="F")  # Tr rho = sum of the diagonal entries of vec(rho)
    b = np.zeros(d2, dtype=complex)
    b[0] = 1.0
    rho = spsolve(a.tocsc(), b).reshape(d, d, order="F")
    return 0.5 * (rho + rho.conj().T)


def dense_figures(rho: np.ndarray, h: np.ndarray) -> tuple[float, float, float, float]:
    return stored_energy(rho, h), ergotropy(rho, h), capacity(rho, h), purity(rho)


def block_figures(s) -> tuple[float, float, float, float]:
    return s.energy, s.ergotropy, s.capacity, s.purity


# ----------------------------------------------------------------------------------- docs/physics.md 3.2 closed forms


@pytest.mark.parametrize("temperature", list(W_TABLE))
def test_steady_state_ergotropy_table(temperature):
    for n, w_ref in zip(range(2, 9), W_TABLE[temperature], strict=True):
        if math.isinf(temperature):
            w = co.ladder_closed_form(n, math.inf).ergotropy
        else:
            w = co.steady_state(co.CollectiveParams(n, temperature)).ergotropy
        assert w == pytest.approx(w_ref, abs=TABLE_TOL), (n, temperature)


def test_energy_and_capacity_at_t2():
    for n, e_ref in zip(range(2, 9), ENERGY_T2, strict=True):
        s = co.steady_state(co.CollectiveParams(n, 2.0))
        assert s.energy == pytest.approx(e_ref, abs=TABLE_TOL)
    for n, c_ref in zip(range(2, 6), CAPACITY_T2, strict=True):
        assert co.steady_state(co.CollectiveParams(n, 2.0)).capacity == pytest.approx(c_ref, abs=TABLE_TOL)


def test_block_solver_equals_closed_form_and_populations():
    for n in (1, 2, 5, 13):
        for t in (0.3, 2.0, 7.0):
            s = co.steady_state(co.CollectiveParams(n, t))
            cf = co.ladder_closed_form(n, t)
            x = math.exp(-1 / t)
            p_ref = x ** np.arange(n + 1) * (1 - x) / (1 - x ** (n + 1))
            np.testing.assert_allclose(s.populations[0], p_ref, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(cf.populations, p_ref, rtol=1e-12, atol=1e-15)
            # the spectral ergotropy/capacity with multiplicities equals the closed forms (1e-12: rounding)
            assert s.ergotropy == pytest.approx(cf.ergotropy, abs=1e-12)
            assert s.capacity == pytest.approx(cf.capacity, abs=1e-12)
            assert s.energy == pytest.approx(cf.energy, abs=1e-12)


def test_special_cases():
    for t in (0.4, 1.0, 3.0):
        x = math.exp(-1 / t)
        assert co.steady_state(co.CollectiveParams(1, t)).ergotropy == pytest.approx(0.0, abs=1e-15)
        assert co.steady_state(co.CollectiveParams(2, t)).ergotropy == pytest.approx(x**2 / (1 + x + x**2), abs=1e-14)
    for n in (2, 5, 30):
        inf = co.ladder_closed_form(n, math.inf)
        assert inf.ergotropy == pytest.approx(n * (n - 1) / (2 * (n + 1)), abs=1e-12)
        assert inf.energy == pytest.approx(n / 2, abs=1e-12)
        assert inf.ergotropy / inf.capacity == pytest.approx(0.5, abs=1e-12)
        # T -> infinity is approached continuously: |W(T) - W(inf)| = O(N^2/T); 1e-4 at T = 1e6, N <= 30
        assert co.steady_state(co.CollectiveParams(n, 1e6)).ergotropy == pytest.approx(inf.ergotropy, abs=1e-3)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 1 / math.log(2), 2.0])
def test_large_n_saturation(temperature):
    nb = bose_einstein(1.0, temperature)
    limit = nb**2 / (nb + 1)
    assert limit == pytest.approx(W_LARGE_N[temperature], abs=TABLE_TOL)
    w = studies.sweep(co.CollectiveParams(2, temperature), ns=[2, 8, 64, 400]).ergotropy[:, 0]
    assert w[1] > w[0] and np.all(np.diff(w) >= -1e-15)  # monotone in N (saturated to rounding at T = 0.5) ...
    assert np.all(w < limit + 1e-12)  # ... and bounded by n^2/(n+1)
    # x^{N+1} N-corrections are below 1e-12 at N = 400 for these temperatures
    assert w[-1] == pytest.approx(limit, abs=1e-12)


def test_n_10000_closed_form():
    s = co.steady_state(co.CollectiveParams(10_000, 2.0))
    nb = bose_einstein(1.0, 2.0)
    assert s.ergotropy == pytest.approx(nb**2 / (nb + 1), abs=1e-11)
    assert s.energy == pytest.approx(nb, abs=1e-11)  # <k> -> x/(1-x) = n
    p0 = 1 - math.exp(-0.5)
    assert s.capacity == pytest.approx(10_000 - 2 + 2 * p0, abs=1e-8)  # O(N) value: relative 1e-12
    # high temperature: the ladder is nearly uniform, W = <k> - 1 + p0 with all N levels populated
    hot = co.steady_state(co.CollectiveParams(10_000, 5_000.0))
    cf = co.ladder_closed_form(10_000, 5_000.0)
    assert hot.ergotropy == pytest.approx(cf.ergotropy, rel=1e-11)
    assert hot.purity == pytest.approx(float(np.sum(cf.populations**2)), rel=1e-11)


def test_n_10000_dynamics_from_ground_reaches_closed_form():
    params = co.CollectiveParams(10_000, 2.0)
    traj = co.evolve(params, [0.0, 1e-6, 1e-4, 1.0])
    assert abs(traj.energy[0]) < 1e-12  # t = 0 through the eigendecomposition: rounding only
    assert np.all(np.diff(traj.energy) > 0)  # charging from the ground state
    # collective relaxation rate ~ gamma N: at gamma t = 1 the ladder is at its Gibbs state (to rounding)
    assert traj.ergotropy[-1] == pytest.approx(co.ladder_closed_form(10_000, 2.0).ergotropy, abs=1e-12)


# ------------------------------------------------------------------------------ non-uniqueness and conservation


@pytest.mark.parametrize(("n", "dim"), [(2, 2), (3, 5), (4, 14), (8, 1430)])
def test_stationary_dimension_of_pure_collective_is_sum_of_squared_multiplicities(n, dim):
    # sum_j d_j^2 (docs/physics.md 3.1); the SVD of the full Liouvillian for N = 2, 3, 4 is in test_physics_lindblad
    assert dim == sum(_dicke.multiplicity(n, j) ** 2 for j in _dicke.all_j(n))


def test_pure_collective_steady_state_follows_the_initial_state():
    n, t = 4, 2.0
    params = co.CollectiveParams(n, t)
    h, lv = full_model(params)
    rho0 = full_thermal_product(n, 0.8)
    # long-time limit of the full Lindbladian (slowest rate ~ gamma; e^{-400} is far below rounding)
    rho_inf = full_evolve(lv, rho0, [400.0])[0]
    s = co.steady_state(params, co.thermal_product_state(n, 0.8))
    for got, ref in zip(block_figures(s), dense_figures(rho_inf, h), strict=True):
        assert got == pytest.approx(ref, abs=FULL_TOL)
    # the sector weights are the conserved ones of the initial state
    np.testing.assert_allclose(s.sector_weights, co.thermal_product_state(n, 0.8).sector_weights, atol=1e-14)


# ----------------------------------------------------------------------- agreement with the full 2^N Lindbladian


ALL_CHANNELS = dict(temperature=1.3, gamma=0.8, gamma_local=0.35, local_temperature=0.4, dephasing=0.15)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_steady_state_with_all_channels_vs_full(n):
    params = co.CollectiveParams(n, **ALL_CHANNELS)
    s = co.steady_state(params)
    h, lv = full_model(params)
    rho = full_steady_state(lv)
    assert np.abs(lv @ rho.reshape(-1, order="F")).max() < 1e-12
    for got, ref in zip(block_figures(s), dense_figures(rho, h), strict=True):
        assert got == pytest.approx(ref, abs=FULL_TOL)


@pytest.mark.slow
def test_steady_state_n6_vs_qutip_and_the_piqs_pitfall():
    n = 6
    params = co.CollectiveParams(n, **ALL_CHANNELS)
    h, c_ops = collective_model(params)
    rho = qutip.steadystate(h, c_ops).full()
    s = co.steady_state(params)
    ref = dense_figures(rho, h.full())
    for got, r in zip(block_figures(s), ref, strict=True):
        assert got == pytest.approx(r, abs=1e-8)  # qutip's sparse steady-state solve: ~1e-12 residual
    # the naive ergotropy of the Dicke-basis matrix (each (j, m) counted once) is a different, wrong number
    dicke_rho = np.diag(s.populations[s.populations > 0])
    dicke_h = np.diag(np.nonzero(s.populations)[1].astype(float))
    assert abs(ergotropy(dicke_rho, dicke_h) - ref[1]) > 0.2 * ref[1]


@pytest.mark.parametrize(
    ("n", "kw", "initial"),
    [
        (4, dict(temperature=2.0), "ground"),  # pure collective, spectral ladder path
        (4, dict(temperature=2.0), "thermal"),  # pure collective, several sectors
        (3, dict(temperature=0.0), "dicke"),  # T = 0 cascade from |D_2>
        (4, ALL_CHANNELS, "ground"),
        (3, ALL_CHANNELS, "thermal"),
        (4, ALL_CHANNELS, "thermal"),
        (3, dict(temperature=1.0, gamma=0.0, dephasing=0.5), "thermal"),  # dephasing only
    ],
)
def test_evolution_vs_full(n, kw, initial):
    params = co.CollectiveParams(n, **kw)
    h, lv = full_model(params)
    if initial == "ground":
        init, rho0 = co.ground_state(n), full_ground(n)
    elif initial == "thermal":
        init, rho0 = co.thermal_product_state(n, 0.9), full_thermal_product(n, 0.9)
    else:
        init = co.dicke_state(n, 2)
        # |D_2> of 3 qubits: (|gee> + |ege> + |eeg>)/sqrt(3), big-endian indices 3, 5, 6
        psi = np.zeros(2**n, dtype=complex)
        psi[[3, 5, 6]] = 1 / math.sqrt(3)
        rho0 = np.outer(psi, psi.conj())
    times = np.array([0.0, 0.05, 0.3, 1.0, 2.5, 5.0])
    traj = co.evolve(params, times, init)
    rhos = full_evolve(lv, rho0, times)
    for k in range(times.size):
        ref = dense_figures(rhos[k], h)
        got = (traj.energy[k], traj.ergotropy[k], traj.capacity[k], traj.purity[k])
        for g, r in zip(got, ref, strict=True):
            assert g == pytest.approx(r, abs=FULL_TOL), (k, got, ref)
    # state_at agrees with evolve (same exact propagators)
    s = co.state_at(params, 2.5, init)
    assert s.ergotropy == pytest.approx(traj.ergotropy[4], abs=1e-12)


def test_ladder_spectral_path_vs_expm_on_large_ladder():
    # N = 300 from |g...g>: the truncated symmetrised spectral solution against scipy's expm_multiply of the
    # untruncated ladder rate matrix (both exact to rounding; 1e-11 absolute on populations)
    params = co.CollectiveParams(300, 1.5, gamma=0.7)
    times = np.array([0.0, 1e-4, 1e-3, 2e-2])
    traj = co.evolve(params, times)
    from scipy.sparse.linalg import expm_multiply

    a = co.rate_matrix(params, [150.0])
    p0 = np.zeros(301)
    p0[0] = 1.0
    for k, t in enumerate(times):
        ref = expm_multiply(a * t, p0) if t > 0 else p0
        np.testing.assert_allclose(traj.populations[k, 0], ref, atol=1e-11)


# ---------------------------------------------------------------------------- docs/physics.md 3.3 mixed dissipation


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("p", [0.1, 0.5])
def test_same_temperature_local_bath_gives_gibbs(n, p):
    t = 1.7
    for kw in (dict(gamma_local=p, local_temperature=t), dict(dephasing=p)):
        s = co.steady_state(co.CollectiveParams(n, t, gamma=1 - p, **kw))
        gibbs = co.thermal_product_state(n, t)
        np.testing.assert_allclose(s.populations, gibbs.populations, atol=1e-13)  # sparse LU rounding
        assert abs(s.ergotropy) < 1e-13


def test_variant_finite_temperature_optimum():
    # docs/physics.md 3.3: gamma = 1-p, local T = 0 decay at rate p; N = 4, p = 0.5: optimum near T = 2.4, W = 0.107
    opt = studies.optimal_temperature(co.CollectiveParams(4, 1.0, gamma=0.5, gamma_local=0.5))
    assert opt.interior
    assert opt.temperature == pytest.approx(2.4, abs=0.1)  # "near 2.4" (docs/physics.md prints one digit)
    assert opt.ergotropy == pytest.approx(0.107, abs=5e-4)  # printed to three digits
    for dt in (-0.05, 0.05):  # it is a maximum
        w = co.steady_state(co.CollectiveParams(4, opt.temperature + dt, gamma=0.5, gamma_local=0.5)).ergotropy
        assert w < opt.ergotropy
    # W -> 0 at both ends
    for t in (0.05, 500.0):
        assert co.steady_state(co.CollectiveParams(4, t, gamma=0.5, gamma_local=0.5)).ergotropy < 0.01
    # pure collective: no interior optimum, W grows with T up to the bracket end
    assert not studies.optimal_temperature(co.CollectiveParams(4, 1.0), t_max=20.0).interior


def test_variant_n2_is_passive_and_n3_discontinuity():
    for t in (0.5, 2.0, 10.0):
        for p in (0.1, 0.5, 0.9):
            assert abs(co.steady_state(co.CollectiveParams(2, t, gamma=1 - p, gamma_local=p)).ergotropy) < 1e-13
    # N = 3, T = 2: W(p -> 0+) ~ 0.041 but W(p = 0, from |g...g>) = 0.3705
    w_small = co.steady_state(co.CollectiveParams(3, 2.0, gamma=1 - 1e-7, gamma_local=1e-7)).ergotropy
    assert w_small == pytest.approx(0.041, abs=1e-3)
    assert co.steady_state(co.CollectiveParams(3, 2.0)).ergotropy == pytest.approx(0.3704777455, abs=TABLE_TOL)


def test_long_evolution_reaches_the_unique_steady_state():
    params = co.CollectiveParams(24, 1.5, gamma=0.6, gamma_local=0.4, local_temperature=0.2, dephasing=0.05)
    s = co.steady_state(params)
    traj = co.evolve(params, [0.0, 150.0])
    # slowest relaxation ~ gamma_local: e^{-0.4 * 150} ~ 1e-26, so only rounding remains
    np.testing.assert_allclose(traj.populations[-1], s.populations, atol=1e-12)
    assert traj.ergotropy[-1] == pytest.approx(s.ergotropy, abs=1e-10)


@pytest.mark.slow
def test_n100_with_local_channels_runs():
    params = co.CollectiveParams(100, 2.0, gamma=0.5, gamma_local=0.5)
    s = co.steady_state(params)
    assert s.j_values.size == 51 and s.populations.shape == (51, 101)
    assert s.ergotropy > 0 and s.ergotropy <= s.capacity
    traj = co.evolve(params, [0.0, 1.0, 5.0])
    assert np.all(np.abs(traj.populations.sum(axis=(1, 2)) - 1) < 1e-12)
    assert np.all(traj.populations >= 0)
    # at gamma t = 5 the slowest mode (~ gamma_local) has not finished: still near but not at the steady state
    assert abs(traj.energy[-1] - s.energy) < 0.2 * s.energy


# ------------------------------------------------------------------------------- the steady-state solver itself


def spectral_figures(n: int, js: np.ndarray, p: np.ndarray) -> tuple[float, float, float, float]:
    """Energy, ergotropy, capacity, purity from qbhw.physics's (value, multiplicity) forms with exact integers: an
    independent implementation of the pairing of the 2^N spectrum with the energies."""
    values, counts, carried = [], [], 0
    for a, j in enumerate(js):
        d = _dicke.multiplicity(n, float(j))
        lo, hi = _dicke.k_range(n, float(j))
        values += [x / d for x in p[a, lo : hi + 1]]
        counts += [d] * (hi - lo + 1)
        carried += d * (hi - lo + 1)
    values.append(0.0)
    counts.append(2**n - carried)
    ks = np.arange(n + 1, dtype=float)
    binom = [math.comb(n, k) for k in range(n + 1)]
    passive = passive_energy_from_spectra(values, counts, ks, binom)
    active = passive_energy_from_spectra(values, counts, ks, binom, descending=False)
    energy = float(np.sum(p * ks[None, :]))
    purity_ = sum(v * v * c for v, c in zip(values, counts, strict=True) if v)
    return energy, energy - passive, active - passive, purity_


def trace_row_solve(params: co.CollectiveParams) -> np.ndarray:
    """The stationary populations by scipy's sparse LU with the normalisation in place of the first balance row."""
    a = co.rate_matrix(params).tolil()
    a[0, :] = 1.0
    b = np.zeros(a.shape[0])
    b[0] = 1.0
    flat = spsolve(a.tocsc(), b)
    return _dicke.layout(params.n, _dicke.all_j(params.n)).to_grid(flat)


@pytest.mark.parametrize("n", [1, 2, 12, 17, 18, 25, 40, 52, 53, 64, 90])
def test_pinned_shell_solver_against_sparse_lu(n):
    """Dense (small N) and shell-by-shell (large N) pinned solves against an independent trace-row sparse LU;
    the figures against the exact-integer spectral forms (float path up to N = 52, Python integers above).
    Tolerances: populations 1e-12 relative to their maximum (both solves are backward stable on a matrix with
    condition ~N^2 gamma / gamma_local); figures 1e-12 relative to their O(N) scale."""
    params = co.CollectiveParams(n, 1.3, gamma=0.8, gamma_local=0.35, local_temperature=0.4, dephasing=0.15)
    s = co.steady_state(params)
    ref = trace_row_solve(params)
    np.testing.assert_allclose(s.populations, ref, rtol=0, atol=1e-12 * ref.max())
    for got, want in zip(block_figures(s), spectral_figures(n, s.j_values, s.populations), strict=True):
        assert got == pytest.approx(want, abs=1e-12 * max(1, n))


@pytest.mark.slow
def test_pinned_shell_solver_at_n_200():
    params = co.CollectiveParams(200, 2.0, gamma=0.5, gamma_local=0.5, dephasing=0.05)
    s = co.steady_state(params)
    np.testing.assert_allclose(s.populations, trace_row_solve(params), rtol=0, atol=1e-12)
    for got, want in zip(block_figures(s), spectral_figures(200, s.j_values, s.populations), strict=True):
        assert got == pytest.approx(want, abs=1e-12 * 200)


@pytest.mark.parametrize("n", [7, 52, 53, 150])
def test_figures_of_random_block_states_match_the_spectral_forms(rng, n):
    """Random populations on random sectors (zeros included): the vectorised figures equal the exact forms."""
    js = _dicke.all_j(n)
    keep = np.sort(rng.choice(js.size, size=max(1, js.size // 2), replace=False))
    p = np.zeros((keep.size, n + 1))
    for a, j in enumerate(js[keep]):
        lo, hi = _dicke.k_range(n, float(j))
        p[a, lo : hi + 1] = rng.random(hi - lo + 1) * (rng.random(hi - lo + 1) > 0.2)
    p /= p.sum()
    f = co.figures_of_merit(co.DickePopulations(n, js[keep], p))
    got = (f.energy, f.ergotropy, f.capacity, f.purity)
    for g, w in zip(got, spectral_figures(n, js[keep], p), strict=True):
        assert g == pytest.approx(w, abs=1e-12 * n)


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (dict(n=0, temperature=1.0), "n"),
        (dict(n=2.5, temperature=1.0), "n"),
        (dict(n=3, temperature=-1.0), "temperature"),
        (dict(n=3, temperature=math.nan), "temperature"),
        (dict(n=3, temperature=1.0, gamma=-0.1), "gamma"),
        (dict(n=3, temperature=1.0, gamma_local=-1.0), "gamma_local"),
        (dict(n=3, temperature=1.0, local_temperature=-1.0), "local_temperature"),
        (dict(n=3, temperature=1.0, dephasing=-1e-3), "dephasing"),
        (dict(n=500, temperature=1.0, gamma_local=0.1), "n"),
        (dict(n=20_000, temperature=1.0), "n"),
        # extreme but finite values are refused before any work (module docstring, "Sizes and limits")
        (dict(n=10**300, temperature=1.0), "n"),
        (dict(n=3, temperature=1e308), "temperature"),
        (dict(n=3, temperature=1.0, local_temperature=1e13), "local_temperature"),
        (dict(n=3, temperature=1.0, gamma=1e308), "gamma"),
        (dict(n=3, temperature=1.0, gamma_local=1e7), "gamma_local"),
        (dict(n=3, temperature=1.0, dephasing=1e308), "dephasing"),
    ],
)
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(ParameterError) as err:
        co.CollectiveParams(**kwargs)
    assert err.value.parameter == field


def test_bad_states_and_times():
    params = co.CollectiveParams(3, 1.0)
    with pytest.raises(ParameterError) as err:
        co.steady_state(params, co.ground_state(4))
    assert err.value.parameter == "initial"
    with pytest.raises(ParameterError) as err:
        co.evolve(params, [-1.0])
    assert err.value.parameter == "time"
    with pytest.raises(ParameterError) as err:
        co.dicke_state(3, 4)
    assert err.value.parameter == "excitations"
    with pytest.raises(ParameterError) as err:
        co.DickePopulations(2, np.array([1.0]), np.array([[0.5, 0.2, 0.2]]))
    assert err.value.parameter == "populations"


@pytest.mark.parametrize(
    ("params", "times"),
    [
        (co.CollectiveParams(4, 1.0, gamma_local=0.5), [1e308]),  # dense expm: ~1000 squarings
        (co.CollectiveParams(60, 1.0, gamma_local=0.5), [1e6]),  # expm_multiply: ~1e8 mat-vecs
        (co.CollectiveParams(3, 1.0), np.linspace(0, 1, co.MAX_TIMES + 1)),
        (co.CollectiveParams(400, 1.0, gamma_local=0.5), np.linspace(0, 1, 2000)),  # 2000 x 201 x 401 floats > 1 GB
    ],
)
def test_evolutions_beyond_the_limits_are_refused_before_they_start(params, times):
    with pytest.raises(ParameterError) as err:
        co.evolve(params, times)
    assert err.value.parameter == "time"


@pytest.mark.parametrize(
    "call",
    [
        lambda: co.ground_state(10**12),
        lambda: co.dicke_state(10**12, 1),
        lambda: co.thermal_product_state(10**5, 1.0),
        lambda: co.ladder_closed_form(10**9, 1.0),
        lambda: co.collective_hamiltonian(40),
        lambda: co.DickePopulations(10**12, np.array([0.5]), np.zeros((1, 2))),
    ],
)
def test_sizes_are_checked_before_anything_is_allocated(call):
    with pytest.raises(ParameterError) as err:
        call()
    assert err.value.parameter == "n"


def test_huge_times_on_the_spectral_ladder_are_exact():
    """From |g...g> under pure collective dissipation the spectral solution handles any finite time."""
    traj = co.evolve(co.CollectiveParams(50, 2.0), [0.0, 1e308])
    assert traj.ergotropy[-1] == pytest.approx(co.ladder_closed_form(50, 2.0).ergotropy, abs=1e-12)


def test_rates_conserve_trace_and_emission_total():
    # columns of A sum to zero; local emission leaves (j, m) at total rate m + N/2 = <sum_i s+_i s-_i>
    params = co.CollectiveParams(7, 0.0, gamma=0.0, gamma_local=1.0)
    a = co.rate_matrix(params).toarray()
    np.testing.assert_allclose(a.sum(axis=0), 0.0, atol=1e-12)
    lay = co._dicke.layout(7, co._dicke.all_j(7))
    np.testing.assert_allclose(-np.diag(a), lay.m + 3.5, atol=1e-12)
