"""Tests of qbhw.models.thermal_gradient (docs/physics.md section 1) and qbhw.physics.bohr.

Convention fixed here: qubits ordered (A, S) big-endian, basis |g_A g_S>, |g_A e_S>, |e_A g_S>, |e_A e_S>, index
0 = |g>. In QuTiP the same basis is built from qutip.destroy(2) (which lowers index 1 -> 0, so index 0 = |g>) and
qutip.tensor(A-operator, S-operator).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip as qt
from oracles.models import n_bose, thermal_gradient_global, thermal_gradient_local, thermal_gradient_operators

from qbhw.errors import ParameterError
from qbhw.models import thermal_gradient as tg
from qbhw.physics.bohr import bohr_components
from qbhw.physics.lindblad import fixed_point, integrated_evolution, left_right, propagator
from qbhw.physics.thermodynamics import energy, extraction_unitary, incoherent_ergotropy, passive_energy

# Tolerances
CLOSED = 1e-9  # closed forms vs exact dense linear algebra (expm / SVD null vectors): errors ~1e-14
MACHINE = 1e-12  # identities that hold to rounding in 4x4 / 16x16 arithmetic
MESOLVE = 1e-8  # qutip.mesolve with atol 1e-12, rtol 1e-10 over <= 4 relaxation times: error ~1e-10

REF = tg.ThermalGradientParams()  # omega_a=2, omega_s=1, temperature_a=2, temperature_s=0.1, gamma=0.01, g=0.05, global


# ---------------------------------------------------------------------------------------------------------------
# closed forms of docs/physics.md 1.2, written independently of qbhw.physics.thermal


def p_exc(omega: float, t: float) -> float:
    return 0.0 if t == 0 else 1.0 / (math.exp(omega / t) + 1.0)


def swap_engine(p: tg.ThermalGradientParams, tau: float) -> dict[str, float]:
    """g -> 0 limit cycle with SWAP extraction: a, s, W, Q_A and the short-cycle power P0."""
    ga, gs = p.rates
    pa, ps = p_exc(p.omega_a, p.temperature_a), p_exc(p.omega_s, p.temperature_s)
    big_a = ga * (2 * n_bose(p.omega_a, p.temperature_a) + 1)
    big_s = gs * (2 * n_bose(p.omega_s, p.temperature_s) + 1)
    xa, xs = math.exp(-big_a * tau), math.exp(-big_s * tau)
    a = (pa * (1 - xa) + xa * ps * (1 - xs)) / (1 - xa * xs)
    s = ps * (1 - xs) + xs * a
    return {
        "a": a,
        "s": s,
        "work": (p.omega_a - p.omega_s) * (a - s),
        "heat": p.omega_a * (a - s),
        "p0": (p.omega_a - p.omega_s) * big_a * big_s / (big_a + big_s) * (pa - ps),
    }


# ---------------------------------------------------------------------------------------------------------------
# parameters and validation


def test_defaults_are_the_reference_set() -> None:
    p = tg.ThermalGradientParams()
    assert (p.omega_a, p.omega_s, p.temperature_a, p.temperature_s, p.gamma, p.g) == (2.0, 1.0, 2.0, 0.1, 0.01, 0.05)
    assert p.master_equation == "global" and p.gamma_s is None and p.rates == (0.01, 0.01)
    assert tg.ThermalGradientParams(gamma_s=0.03).rates == (0.01, 0.03)
    with pytest.raises(AttributeError):
        p.g = 0.1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("omega_a", 0.0),
        ("omega_a", -1.0),
        ("omega_a", math.nan),
        ("omega_a", "two"),
        ("omega_s", 0.0),
        ("omega_s", math.inf),
        ("temperature_a", -0.1),
        ("temperature_a", math.nan),
        ("temperature_s", -1.0),
        ("temperature_s", math.inf),
        ("gamma", 0.0),
        ("gamma", -0.01),
        ("gamma", math.inf),
        ("g", -0.1),
        ("g", math.inf),
        ("g", math.nan),
        ("master_equation", "lindblad"),
        ("master_equation", None),
        ("gamma_s", 0.0),
        ("gamma_s", -1.0),
        ("gamma_s", math.nan),
        # extreme but finite values are refused (MIN_FREQUENCY, MAX_FREQUENCY, MAX_PARAMETER)
        ("omega_a", 1e308),
        ("omega_s", 1e-300),
        ("temperature_a", 1e308),
        ("temperature_s", 1e7),
        ("gamma", 1e308),
        ("g", 1e308),
        ("gamma_s", 1e308),
    ],
)
def test_invalid_field_raises_parameter_error_naming_it(field: str, value: object) -> None:
    with pytest.raises(ParameterError) as info:
        tg.ThermalGradientParams(**{field: value})
    assert info.value.parameter == field


@pytest.mark.parametrize("g", [math.sqrt(2.0), 1.5, 3.0])
def test_global_me_rejects_ultrastrong_coupling(g: float) -> None:
    # g^2 >= omega_a omega_s = 2: the lower Bohr frequency (omega_a+omega_s)/2 - sqrt(1/4 + g^2) is <= 0
    with pytest.raises(ParameterError) as info:
        tg.ThermalGradientParams(g=g)
    assert info.value.parameter == "g"
    # the local ME stays defined (it never diagonalises H)
    assert tg.ness(tg.ThermalGradientParams(g=g, master_equation="local")).rho.shape == (4, 4)
    # just below the bound the global ME exists and its lowest Bohr frequency is positive
    below = tg.ThermalGradientParams(g=0.999 * math.sqrt(2.0))
    freqs = [w for w, _ in bohr_components(tg.hamiltonian(below), np.kron([[0, 1], [0, 0]], np.eye(2)))]
    assert min(freqs) == pytest.approx(below.lowest_bohr_frequency, abs=MACHINE) and min(freqs) > 0


def test_solver_arguments_are_validated() -> None:
    cases = [
        ("time", lambda: tg.charging(REF, [0.0, -1.0])),
        ("time", lambda: tg.state_at(REF, -1.0)),
        ("time", lambda: tg.charging(REF, [math.nan])),
        ("cycle_time", lambda: tg.limit_cycle(REF, 0.0)),
        ("cycle_time", lambda: tg.cycle_sweep(REF, [1.0, -2.0])),
        ("rho0", lambda: tg.charging(REF, [1.0], rho0=np.eye(2) / 2)),
        ("rho0", lambda: tg.charging(REF, [1.0], rho0=np.eye(4))),
        ("rho0", lambda: tg.charging(REF, [1.0], rho0=np.diag([1.5, -0.5, 0, 0]))),
        # limits: ||L||_1 t <= 1e12, at most MAX_TIMES times and MAX_CYCLE_TIMES cycle times
        ("time", lambda: tg.state_at(REF, 1e308)),
        ("time", lambda: tg.charging(REF, np.zeros(tg.MAX_TIMES + 1))),
        ("cycle_time", lambda: tg.limit_cycle(REF, 1e308)),
        ("cycle_time", lambda: tg.cycle_sweep(REF, np.ones(tg.MAX_CYCLE_TIMES + 1))),
    ]
    for name, call in cases:
        with pytest.raises(ParameterError) as info:
            call()
        assert info.value.parameter == name


# ---------------------------------------------------------------------------------------------------------------
# Hamiltonian, Bohr decomposition, generator structure


def test_hamiltonian_spectrum_and_order() -> None:
    p = tg.ThermalGradientParams(omega_a=2.0, omega_s=1.0, g=0.3)
    h = tg.hamiltonian(p)
    sigma, delta = 1.5, math.sqrt(0.25 + 0.09)  # (wa+ws)/2, sqrt((wa-ws)^2/4 + g^2)
    assert np.allclose(np.linalg.eigvalsh(h), [-sigma, -delta, delta, sigma], atol=MACHINE)
    # order (A, S): |g_A e_S> (index 1) has energy -(wa - ws)/2, |e_A g_S> (index 2) +(wa - ws)/2
    assert np.allclose(np.diag(tg.bare_hamiltonian(p)).real, [-1.5, -0.5, 0.5, 1.5], atol=0)
    assert h[1, 2] == pytest.approx(0.3) and h[2, 1] == pytest.approx(0.3)


def test_bohr_components_of_sigma_x_come_in_degenerate_pairs() -> None:
    p = tg.ThermalGradientParams(g=0.2)
    h = tg.hamiltonian(p)
    sx_a = np.kron(np.array([[0, 1], [1, 0]]), np.eye(2))
    comps = bohr_components(h, sx_a)
    sigma, delta = 1.5, math.sqrt(0.25 + 0.04)
    expected = [-(sigma + delta), -(sigma - delta), sigma - delta, sigma + delta]
    assert np.allclose([w for w, _ in comps], expected, atol=MACHINE)
    assert np.allclose(sum(a for _, a in comps), sx_a, atol=MACHINE)
    for w, a in comps:
        assert np.allclose(h @ a - a @ h, -w * a, atol=MACHINE)
        # each component joins two transitions of equal frequency (gg <-> one dressed state <-> ee): rank 2
        assert np.linalg.matrix_rank(a, tol=1e-9) == 2
    # X(-w) = X(w)^dagger
    assert np.allclose(comps[0][1], comps[3][1].conj().T, atol=MACHINE)


def test_bohr_components_random_hermitian() -> None:
    rng = np.random.default_rng(7)
    m = rng.normal(size=(5, 5)) + 1j * rng.normal(size=(5, 5))
    h = m + m.conj().T
    a = rng.normal(size=(5, 5)) + 1j * rng.normal(size=(5, 5))
    comps = bohr_components(h, a)
    assert len(comps) == 21  # 5 * 4 distinct differences (generic spectrum) + w = 0
    assert np.allclose(sum(c for _, c in comps), a, atol=MACHINE)
    for w, c in comps:
        assert np.allclose(h @ c - c @ h, -w * c, atol=1e-10)


@pytest.mark.parametrize(("wa", "ws"), [(2.0, 1.0), (1.5, 0.5), (1.0, 1.0), (0.7, 1.3)])
def test_global_equals_local_at_zero_coupling(wa: float, ws: float) -> None:
    glob = tg.ThermalGradientParams(omega_a=wa, omega_s=ws, g=0.0, gamma_s=0.02)
    loc = tg.ThermalGradientParams(omega_a=wa, omega_s=ws, g=0.0, gamma_s=0.02, master_equation="local")
    assert np.allclose(tg.liouvillian(glob), tg.liouvillian(loc), atol=MACHINE, rtol=0)
    assert np.allclose(tg.hot_dissipator(glob), tg.hot_dissipator(loc), atol=MACHINE, rtol=0)
    # and they differ as soon as g > 0 (the check above is not vacuous)
    assert not np.allclose(
        tg.liouvillian(tg.ThermalGradientParams(omega_a=wa, omega_s=ws, g=0.1)),
        tg.liouvillian(tg.ThermalGradientParams(omega_a=wa, omega_s=ws, g=0.1, master_equation="local")),
        atol=1e-6,
    )


def test_generator_pieces_add_up_and_are_trace_preserving() -> None:
    for me in ("global", "local"):
        gen = tg.generator(tg.ThermalGradientParams(g=0.2, master_equation=me))
        comm = gen.liouvillian - gen.dissipator_a - gen.dissipator_s
        # the remainder is -i[H, .]: on vec(rho) = rho.reshape(-1, order="F")
        rho = np.diag([0.4, 0.3, 0.2, 0.1]).astype(complex)
        rho[0, 3] = rho[3, 0] = 0.05
        out = (comm @ rho.reshape(-1, order="F")).reshape(4, 4, order="F")
        assert np.allclose(out, -1j * (gen.hamiltonian @ rho - rho @ gen.hamiltonian), atol=MACHINE)
        # trace preservation: vec(1)^dagger L = 0 for every piece
        one = np.eye(4).reshape(-1, order="F")
        for sup in (gen.liouvillian, gen.dissipator_a, gen.dissipator_s):
            assert np.abs(one @ sup).max() < MACHINE
        expected_bk = gen.hamiltonian if me == "global" else tg.bare_hamiltonian(tg.ThermalGradientParams())
        assert np.allclose(gen.bookkeeping_hamiltonian, expected_bk, atol=0)


# ---------------------------------------------------------------------------------------------------------------
# docs/physics.md 1.2: exact g -> 0 results


@pytest.mark.parametrize(
    ("wa", "ws", "w_ness"), [(2.0, 1.0, 0.2688960235), (1.5, 0.5, 0.3141284499), (1.2, 0.8, 0.1416033375)]
)
@pytest.mark.parametrize("me", ["global", "local"])
def test_ness_ergotropy_table_at_zero_coupling(wa: float, ws: float, w_ness: float, me: str) -> None:
    p = tg.ThermalGradientParams(omega_a=wa, omega_s=ws, g=0.0, master_equation=me)
    res = tg.ness(p)
    assert res.ergotropy == pytest.approx(w_ness, abs=1e-10)  # table printed to 10 decimals
    pa, ps = p_exc(wa, 2.0), p_exc(ws, 0.1)
    assert res.ergotropy == pytest.approx((wa - ws) * (pa - ps), abs=CLOSED)
    # the NESS is the product of local Gibbs states, order (A, S)
    prod = np.diag([(1 - pa) * (1 - ps), (1 - pa) * ps, pa * (1 - ps), pa * ps])
    assert np.allclose(res.rho, prod, atol=CLOSED)
    assert res.energy == pytest.approx(wa * pa + ws * ps, abs=CLOSED)
    assert res.purity == pytest.approx(np.sum(np.diag(prod) ** 2), abs=CLOSED)
    assert res.master_equation == me and res.warnings == ()


def test_ness_without_inversion_is_passive_at_zero_coupling() -> None:
    # omega_a/T_a > omega_s/T_s: no population inversion, W_NESS = 0
    p = tg.ThermalGradientParams(omega_a=2.0, omega_s=1.0, temperature_a=0.2, temperature_s=0.5, g=0.0)
    assert abs(tg.ness(p).ergotropy) < MACHINE
    assert tg.ness(p).capacity > 0.1  # mixed, but not empty: the check above is not trivial


def test_extraction_unitary_is_the_swap_at_zero_coupling() -> None:
    res = tg.ness(tg.ThermalGradientParams(g=0.0))
    u = res.extraction_unitary
    perm = np.eye(4)[[0, 2, 1, 3]]  # |ge> <-> |eg>
    assert np.allclose(u, perm, atol=MACHINE)  # exactly the SWAP permutation, phases included
    rng = np.random.default_rng(11)
    for _ in range(3):
        d = rng.dirichlet(np.ones(4))
        assert np.allclose(u @ np.diag(d) @ u.conj().T, np.diag(d[[0, 2, 1, 3]]), atol=MACHINE)


@pytest.mark.parametrize(
    ("tau", "work", "heat"),
    [
        (1.0, 1.8391677556e-3, 3.6783355111e-3),
        (10.0, 1.8358919093e-2, 3.6717838186e-2),
        (100.0, 1.5709564400e-1, 3.1419128801e-1),
        # docs/physics.md prints Q_A = 5.3776765483e-1 here, which contradicts its own W and eta = 0.5 (Q_A = 2 W =
        # 5.3776765322e-1, also the closed form): a transcription slip in the table, reported.
        (1000.0, 2.6888382661e-1, 5.3776765322e-1),
    ],
)
def test_limit_cycle_table_at_zero_coupling(tau: float, work: float, heat: float) -> None:
    p = tg.ThermalGradientParams(g=0.0)
    c = tg.limit_cycle(p, tau)
    assert c.work == pytest.approx(work, rel=1e-9)  # table printed to 11 significant digits
    assert c.heat == pytest.approx(heat, rel=1e-9)
    assert c.efficiency == pytest.approx(0.5, abs=CLOSED)
    assert c.power == pytest.approx(work / tau, rel=1e-9)
    cf = swap_engine(p, tau)
    assert c.work == pytest.approx(cf["work"], abs=CLOSED * 1e-3) and c.heat == pytest.approx(cf["heat"], abs=1e-12)


def test_swap_engine_closed_forms_random() -> None:
    rng = np.random.default_rng(2024)
    for _ in range(6):
        ws = rng.uniform(0.3, 1.0)
        wa = ws * rng.uniform(1.1, 3.0)
        t_a, t_s = rng.uniform(1.0, 3.0), rng.uniform(0.05, 0.3)  # wa/t_a < ws/t_s: inversion
        gamma, gamma_s = rng.uniform(0.005, 0.05), rng.uniform(0.005, 0.05)
        tau = 10 ** rng.uniform(-1, 3)
        if _ == 0:
            t_s = 0.0  # P_S = 0: the NESS spectrum is degenerate (|ge>, |ee> both empty); U* must still be SWAP
        p = tg.ThermalGradientParams(
            omega_a=wa,
            omega_s=ws,
            temperature_a=t_a,
            temperature_s=t_s,
            gamma=gamma,
            gamma_s=gamma_s,
            g=0.0,
            master_equation=str(rng.choice(["global", "local"])),
        )
        c = tg.limit_cycle(p, tau)
        cf = swap_engine(p, tau)
        a, s = cf["a"], cf["s"]
        assert np.allclose(c.rho_end, np.diag([(1 - a) * (1 - s), (1 - a) * s, a * (1 - s), a * s]), atol=CLOSED)
        assert c.work == pytest.approx(cf["work"], abs=CLOSED)
        assert c.heat == pytest.approx(cf["heat"], abs=CLOSED)
        # eta = 1 - omega_s/omega_a for every tau (Otto); relative error ~1e-14 / (a - s) with a - s >= 1e-4
        assert c.efficiency == pytest.approx(1 - ws / wa, abs=CLOSED)
        assert c.heat_cold == pytest.approx(-ws * (a - s), abs=CLOSED)


def test_short_cycle_power() -> None:
    p = tg.ThermalGradientParams(g=0.0)
    p0 = swap_engine(p, 1.0)["p0"]
    assert p0 == pytest.approx(1.8392009240e-3, abs=1e-13)  # docs/physics.md, 11 significant digits
    tau = 1e-4
    c = tg.limit_cycle(p, tau)
    assert c.power == pytest.approx(swap_engine(p, tau)["work"] / tau, rel=1e-7)  # W ~ 2e-7, rounding ~1e-16
    # P(tau) = P0 (1 + O(Gamma tau)), Gamma = max Gamma_j ~ 0.04: relative deviation <~ 4e-6
    assert c.power == pytest.approx(p0, rel=1e-5)
    assert abs(c.power - p0) > 0  # not identical: this is a limit


# ---------------------------------------------------------------------------------------------------------------
# docs/physics.md 1.3: qualitative behaviour for g > 0 (global ME)


def test_ness_ergotropy_decreases_smoothly_with_g() -> None:
    gs = [0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5]
    w = np.array([tg.ness(tg.ThermalGradientParams(g=g)).ergotropy for g in gs])
    assert np.all(np.diff(w) < 0)
    # smooth at g -> 0: W(0) - W(g) = c g^2 + O(g^4), so (W(0) - W(g))/g^2 agrees at g = 0.005, 0.01 to ~1%
    c1, c2 = (w[0] - w[1]) / gs[1] ** 2, (w[0] - w[2]) / gs[2] ** 2
    assert c1 > 0 and c2 == pytest.approx(c1, rel=1e-2)


def test_cycle_efficiency_and_power_vs_cycle_time() -> None:
    p = tg.ThermalGradientParams(omega_a=1.5, omega_s=0.5)
    taus = np.logspace(-1, 5, 25)  # gamma tau from 1e-3 to 1e3
    sw = tg.cycle_sweep(p, taus)
    assert sw.master_equation == "global"
    # eta and P rise as tau shrinks
    assert np.all(np.diff(sw.efficiency) < 0) and np.all(np.diff(sw.power) < 0)
    # plateau for gamma tau <~ 0.1 (values vary by < 1e-4 and < 0.5 % there)
    short = p.gamma * taus <= 0.1
    assert np.ptp(sw.efficiency[short]) < 1e-4 * sw.efficiency[0]
    assert np.ptp(sw.power[short]) < 5e-3 * sw.power[0]
    # a global-ME engine stays below the Otto efficiency for g > 0
    assert np.all(sw.efficiency < 1 - p.omega_s / p.omega_a)
    # long tau: work -> W_NESS, P ~ 1/tau, eta -> 0
    w_ness = tg.ness(p).ergotropy
    assert sw.work[-1] == pytest.approx(w_ness, rel=1e-9)  # e^{-Gamma tau} ~ e^{-1000}
    assert sw.power[-1] * taus[-1] == pytest.approx(w_ness, rel=1e-9)
    assert sw.efficiency[-1] < 0.1 * sw.efficiency[0]


def test_long_cycle_heat_leaks_at_the_ness_current() -> None:
    # for Gamma tau >> 1, Q_A(tau) = Q_transient + J tau with J = Tr[H L_A(rho_NESS)] the NESS heat current
    p = REF
    gen = tg.generator(p)
    rho = tg.ness(p).rho
    j = np.real(np.trace(gen.hamiltonian @ (gen.dissipator_a @ rho.reshape(-1, order="F")).reshape(4, 4, order="F")))
    assert j > 0
    q1, q2 = tg.limit_cycle(p, 1e5).heat, tg.limit_cycle(p, 2e5).heat
    assert q2 - q1 == pytest.approx(j * 1e5, rel=1e-8)  # rounding of Q ~ 1e-13 relative to J tau ~ 1


@pytest.mark.parametrize("me", ["global", "local"])
def test_first_law_bookkeeping(me: str) -> None:
    p = tg.ThermalGradientParams(omega_a=1.5, omega_s=0.5, master_equation=me)
    c = tg.limit_cycle(p, 50.0)
    if me == "global":
        # H_bk = H: over one cycle the charging raises Tr[H rho] by exactly W = Q_A + Q_S
        assert c.work == pytest.approx(c.heat + c.heat_cold, abs=MACHINE)
        assert c.warnings == ()
    else:
        # H_bk = H0: the heats no longer add up to the work measured with H (the local-ME inconsistency)
        assert abs(c.work - c.heat - c.heat_cold) > 1e-5
        assert any("Otto" in w for w in c.warnings)


def test_dead_time_after_extraction() -> None:
    p = REF
    c = tg.limit_cycle(p, 100.0)
    u = c.extraction_unitary
    rho_start = u @ c.rho_end @ u.conj().T
    t = np.linspace(0.0, 100.0, 401)
    tr = tg.charging(p, t, rho0=rho_start)
    zero = np.abs(tr.ergotropy) <= MACHINE  # "exactly 0": passive up to rounding
    k = int(np.argmin(zero))  # first time with positive ergotropy
    assert zero[0] and k > 0 and not np.any(zero[k:])
    assert t[k] > 10.0  # a finite dead time (~32 for these parameters) before the inversion is rebuilt
    assert tr.ergotropy[k] > 1e-6
    assert tr.ergotropy[-1] == pytest.approx(c.ergotropy, abs=MACHINE)  # the cycle closes


# ---------------------------------------------------------------------------------------------------------------
# negative control: resonant qubits


@pytest.mark.parametrize("g", [0.05, 0.2])
def test_resonant_qubits(g: float) -> None:
    glob = tg.ness(tg.ThermalGradientParams(omega_a=1.0, omega_s=1.0, g=g))
    assert abs(glob.ergotropy) < MACHINE
    assert glob.capacity > 0.1  # a mixed, non-trivial state, so W = 0 means passive
    loc_p = tg.ThermalGradientParams(omega_a=1.0, omega_s=1.0, g=g, master_equation="local")
    loc = tg.ness(loc_p)
    # docs/physics.md: W ~ 0.0030 from coherence only (0.0030062 at g = 0.05, 0.0030309 at g = 0.2)
    assert loc.ergotropy == pytest.approx(0.0030, abs=1e-4)
    assert abs(incoherent_ergotropy(loc.rho, tg.hamiltonian(loc_p))) < MACHINE


# ---------------------------------------------------------------------------------------------------------------
# independent oracle: QuTiP (tests/oracles/models.py)


def _spectrum(rate: float, t: float):
    def s(w: float) -> float:  # QuTiP: w > 0 is emission
        if w > 1e-12:
            return rate * (n_bose(w, t) + 1)
        if w < -1e-12:
            return rate * n_bose(-w, t)
        return 0.0  # sigma_x has no w = 0 component here

    return s


def _random_params(rng: np.random.Generator, me: str) -> tg.ThermalGradientParams:
    wa, ws = rng.uniform(0.5, 2.5, size=2)
    return tg.ThermalGradientParams(
        omega_a=wa,
        omega_s=ws,
        temperature_a=rng.uniform(0.5, 3.0),
        temperature_s=float(rng.choice([0.0, rng.uniform(0.05, 1.0)])),
        gamma=rng.uniform(0.005, 0.05),
        gamma_s=rng.uniform(0.005, 0.05),
        g=rng.uniform(0.0, 0.6) * math.sqrt(wa * ws),
        master_equation=me,
    )


@pytest.mark.parametrize("me", ["global", "local"])
def test_against_qutip_liouvillian_and_ness(me: str) -> None:
    rng = np.random.default_rng(12345 if me == "global" else 54321)
    for _ in range(4):
        p = _random_params(rng, me)
        ref = thermal_gradient_global(p) if me == "global" else thermal_gradient_local(p)
        # QuTiP superoperators are column-stacked too, so the matrices compare entry by entry
        assert np.allclose(tg.liouvillian(p), ref.full(), atol=MACHINE, rtol=0)
        rho_q = qt.steadystate(ref).full()
        assert np.allclose(tg.ness(p).rho, rho_q, atol=CLOSED, rtol=0)
        if me == "global":
            # a third construction: QuTiP's secular Bloch-Redfield tensor (no Lamb shift), same flat spectra
            h, a_a, a_s = thermal_gradient_operators(p.omega_a, p.omega_s, p.g)
            br = qt.bloch_redfield_tensor(
                h,
                [
                    (a_a + a_a.dag(), _spectrum(p.rates[0], p.temperature_a)),
                    (a_s + a_s.dag(), _spectrum(p.rates[1], p.temperature_s)),
                ],
                fock_basis=True,
            )
            assert np.allclose(tg.liouvillian(p), br.full(), atol=MACHINE, rtol=0)


@pytest.mark.parametrize("me", ["global", "local"])
def test_charging_against_qutip_mesolve(me: str) -> None:
    rng = np.random.default_rng(777 if me == "global" else 778)
    for _ in range(2):
        p = _random_params(rng, me)
        ref = thermal_gradient_global(p) if me == "global" else thermal_gradient_local(p)
        g0 = qt.tensor(qt.basis(2, 0), qt.basis(2, 0))  # |g_A g_S>, the ground state for g^2 < wa ws
        times = np.linspace(0.0, 2.0 / min(p.rates), 41)
        out = qt.mesolve(ref, qt.ket2dm(g0), times, options={"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**6})
        traj = tg.charging(p, times)
        for k, state in enumerate(out.states):
            assert np.allclose(traj.states[k], state.full(), atol=MESOLVE, rtol=0)


# ---------------------------------------------------------------------------------------------------------------
# physicality and consistency of the solvers


@pytest.mark.parametrize("me", ["global", "local"])
def test_trajectories_are_density_matrices(me: str) -> None:
    rng = np.random.default_rng(99)
    for _ in range(3):
        p = _random_params(rng, me)
        traj = tg.charging(p, np.linspace(0.0, 3.0 / min(p.rates), 60))
        for rho in traj.states:
            assert abs(np.trace(rho) - 1) < MACHINE
            assert np.allclose(rho, rho.conj().T, atol=MACHINE)
            assert np.linalg.eigvalsh(rho)[0] > -MACHINE
        assert np.all(traj.ergotropy >= -MACHINE) and np.all(traj.ergotropy <= traj.capacity + MACHINE)
        assert np.all(traj.purity <= 1 + MACHINE)
        c = tg.limit_cycle(p, 30.0)
        assert abs(np.trace(c.rho_end) - 1) < MACHINE and np.linalg.eigvalsh(c.rho_end)[0] > -MACHINE


def test_charging_from_ground_state_and_to_ness() -> None:
    traj = tg.charging(REF, [0.0, 10.0, 5000.0])
    assert traj.energy[0] == pytest.approx(0.0, abs=MACHINE) and traj.purity[0] == pytest.approx(1.0)
    assert traj.ergotropy[0] == pytest.approx(0.0, abs=MACHINE)
    n = tg.ness(REF)
    assert np.allclose(traj.states[-1], n.rho, atol=CLOSED)  # e^{-Gamma t} ~ e^{-100}
    s = tg.state_at(REF, 10.0)
    assert np.allclose(s.rho, traj.states[1], atol=MACHINE) and s.ergotropy == pytest.approx(traj.ergotropy[1])
    assert s.time == 10.0 and s.master_equation == "global"


def test_cycle_sweep_matches_limit_cycle() -> None:
    p = tg.ThermalGradientParams(omega_a=1.5, omega_s=0.5, g=0.1)
    taus = [0.5, 20.0, 300.0]
    sw = tg.cycle_sweep(p, taus)
    for k, tau in enumerate(taus):
        c = tg.limit_cycle(p, tau)
        assert (sw.work[k], sw.heat[k], sw.power[k], sw.efficiency[k], sw.ergotropy[k]) == pytest.approx(
            (c.work, c.heat, c.power, c.efficiency, c.ergotropy), rel=1e-12
        )
        # the cycle ends where it starts: e^{L tau} U rho_end U^+ = rho_end
        u = c.extraction_unitary
        back = tg.state_at(p, tau, rho0=u @ c.rho_end @ u.conj().T).rho
        assert np.allclose(back, c.rho_end, atol=CLOSED)
        assert c.work > 0 and c.ergotropy >= c.work - MACHINE  # U is optimal only for rho_NESS, not rho_end


def test_local_me_efficiency_can_exceed_otto() -> None:
    """docs/physics.md 1.3 caveat: local ME + H0 bookkeeping can beat the Otto value 1 - omega_s/omega_a.

    With this bookkeeping (W with H, Q_A with H0, U = canonical U*(rho_NESS)) the short-cycle efficiency is
    0.6733 (g = 0.05) and 0.7731 (g = 0.2) against Otto 0.6667; docs/physics.md quotes 0.78 at g = 0.05, which is
    not reproduced (values regression-pinned to 1e-4, the quoted digits).
    """
    otto = 1 - 0.5 / 1.5
    for g, eta in ((0.05, 0.6733), (0.2, 0.7731)):
        p = tg.ThermalGradientParams(omega_a=1.5, omega_s=0.5, g=g, master_equation="local")
        c = tg.limit_cycle(p, 0.1)
        assert c.efficiency > otto
        assert c.efficiency == pytest.approx(eta, abs=1e-4)
        glob = tg.limit_cycle(tg.ThermalGradientParams(omega_a=1.5, omega_s=0.5, g=g), 0.1)
        assert glob.efficiency < otto


def test_results_are_frozen_and_read_only() -> None:
    n = tg.ness(REF)
    with pytest.raises(AttributeError):
        n.ergotropy = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        n.rho[0, 0] = 1.0


# ---------------------------------------------------------------------------------------------------------------
# the extraction unitary: optimality, gauge, and which results depend on the gauge


def test_extraction_unitary_is_optimal_and_gauge_fixed() -> None:
    rng = np.random.default_rng(5)
    for _ in range(5):
        m = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        rho = m @ m.conj().T
        rho /= np.trace(rho)
        k = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        h = k + k.conj().T
        u = extraction_unitary(rho, h)
        assert np.allclose(u @ u.conj().T, np.eye(4), atol=MACHINE)
        passive = u @ rho @ u.conj().T
        assert energy(passive, h) == pytest.approx(passive_energy(rho, h), abs=MACHINE)
        v = extraction_unitary(rho, h)
        assert energy(passive, h) == pytest.approx(energy(v @ rho @ v.conj().T, h), abs=MACHINE)
        # gauge: r_k = U^dagger e_k has its largest component real and positive (also e_k itself)
        _, evecs = np.linalg.eigh(h)
        lead_e = evecs[np.argmax(np.abs(evecs), axis=0), np.arange(4)]
        evecs = evecs * (np.abs(lead_e) / lead_e)  # e_k in the same gauge
        for col in (u.conj().T @ evecs).T:
            lead = col[np.argmax(np.abs(col))]
            assert abs(lead.imag) < MACHINE and lead.real > 0
    # a degenerate rho: ties go to the lower energy, so the empty |ge>, |ee> of a P_S = 0 state stay in place
    rho = np.diag([0.7, 0.0, 0.3, 0.0])
    h = tg.bare_hamiltonian(REF)
    assert np.allclose(extraction_unitary(rho, h), np.eye(4)[[0, 2, 1, 3]], atol=MACHINE)


def _cycle_with(p: tg.ThermalGradientParams, u: np.ndarray, tau: float) -> tuple[float, float]:
    gen = tg.generator(p)
    rho_end = fixed_point(propagator(gen.liouvillian, tau) @ left_right(u, u.conj().T))
    rho_start = u @ rho_end @ u.conj().T
    integral = integrated_evolution(gen.liouvillian, rho_start, tau).reshape(-1, order="F")
    heat = energy((gen.dissipator_a @ integral).reshape(4, 4, order="F"), gen.bookkeeping_hamiltonian)
    return energy(rho_end, gen.hamiltonian) - energy(rho_start, gen.hamiltonian), heat


def test_cycle_gauge_dependence() -> None:
    """U* -> D U* with [D, H] = 0 is equally optimal for rho_NESS. The global-ME cycle does not notice D (rho_NESS
    and the cycle states are diagonal in the eigenbasis of H); the local-ME cycle does, which is why U is fixed
    canonically."""
    rng = np.random.default_rng(3)
    for me, invariant in (("global", True), ("local", False)):
        p = tg.ThermalGradientParams(omega_a=1.5, omega_s=0.5, g=0.2, master_equation=me)
        c = tg.limit_cycle(p, 0.1)
        assert _cycle_with(p, c.extraction_unitary, 0.1) == pytest.approx((c.work, c.heat), rel=1e-9)
        _, v = np.linalg.eigh(tg.hamiltonian(p))
        d = v @ np.diag(np.exp(2j * np.pi * rng.uniform(size=4))) @ v.conj().T
        work, heat = _cycle_with(p, d @ c.extraction_unitary, 0.1)
        if invariant:
            assert (work, heat) == pytest.approx((c.work, c.heat), rel=1e-9)
        else:
            assert abs(work / heat - c.efficiency) > 1e-3


def test_undefined_efficiency_is_none_not_nan() -> None:
    """Both baths at T = 0: the battery never charges, Q_A = 0 and the efficiency is undefined (None, masked)."""
    p = tg.ThermalGradientParams(temperature_a=0.0, temperature_s=0.0, g=0.0)
    c = tg.limit_cycle(p, 10.0)
    assert c.efficiency is None and c.heat == pytest.approx(0.0, abs=1e-15)
    assert any("undefined" in w for w in c.warnings)
    sw = tg.cycle_sweep(p, [1.0, 10.0])
    assert np.ma.is_masked(sw.efficiency) and bool(np.all(sw.efficiency.mask))
    assert np.all(np.isfinite(sw.efficiency.data))


def test_results_compare_by_identity() -> None:
    n = tg.ness(REF)
    assert n == n and n != tg.ness(REF) and len({n, tg.limit_cycle(REF, 1.0)}) == 2
