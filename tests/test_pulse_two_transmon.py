"""Two coupled transmons at pulse level (qbhw.pulse.two_transmon): the charger's J1 and J2 from the device, the
pulse-level charging, and the thermal-gradient battery, against exact statements and QuTiP oracles
(tests/oracles/two_transmon.py, built from QuTiP primitives).

Tolerances: the exact engine is exact up to floating point (a few 1e-13 on 4x4 states; 1e-10 is held); QuTiP's
steadystate (direct sparse solve) agrees to ~1e-12 (1e-9 held); the ODE engines run at rtol 1e-9..1e-10 (1e-7
held). The perturbative static ZZ is second order in J: its error is O(J^4/alpha^3), tested by its scaling.
"""

import dataclasses
import json
import math

import numpy as np
import pytest

from qbhw.errors import CalibrationError, ParameterError
from qbhw.hardware import load_calibration
from qbhw.models import charger as ch
from qbhw.models import thermal_gradient as tg
from qbhw.pulse import (
    HotBath,
    Transmon,
    TransmonPair,
    charger_coupling,
    dressed_energies,
    fit_static_zz,
    pair_from_calibration,
    parse_pair,
    plot_charger,
    plot_thermal_gradient,
    run_charger,
    run_thermal_gradient,
    static_zz_perturbative,
    sweep_charger,
    sweep_thermal_gradient,
    thermal_gradient_params,
)
from qbhw.pulse import two_transmon as tt
from tests.oracles import two_transmon as oracle

SYN = load_calibration("synthetic_cqed")


def _pair(**kwargs) -> TransmonPair:
    """Two tunable transmons 0.6 GHz apart, J/2pi = 2 MHz (or as given)."""
    first = Transmon(4.0, -0.21, 50.0, 40.0, 0.01, 0.002, 0.0, (4.0, 5.0), 2.0)
    second = Transmon(4.6, -0.23, 60.0, 70.0, 0.005, 0.002, 0.0, (4.6, 5.3), 2.0)
    values = dict(name="pair", first=first, second=second, exchange_mhz=2.0, sample_ns=0.5, qubits=(0, 1))
    values.update(kwargs)
    return TransmonPair(**values)


# ------------------------------------------------------------------------------------------- the couplings


def test_the_pair_comes_from_the_device_calibration():
    p = pair_from_calibration(SYN)
    assert p.qubits == (0, 1) and p.exchange_mhz == SYN.qubit_coupling(0, 1).j_mhz
    assert p.first.freq_ghz == SYN.qubits[0].freq_ghz and p.second.anharmonicity_ghz == SYN.qubits[1].anharmonicity_ghz
    assert p.sample_ns == SYN.dt_ns
    assert pair_from_calibration(SYN, (2, 1)).qubits == (2, 1)
    with pytest.raises(ParameterError) as e:
        pair_from_calibration(SYN, (0, 2))
    assert e.value.parameter == "pair" and "coupled pair" in e.value.allowed
    with pytest.raises(CalibrationError, match="'fake_torino' cannot host a two-transmon battery"):
        pair_from_calibration(load_calibration("fake_torino"))
    assert parse_pair("3, 1") == (3, 1)
    for bad in ("1", "1,1", "a,b", "1,2,3", "-1,2"):
        with pytest.raises(ParameterError):
            parse_pair(bad)


@pytest.mark.parametrize(("levels", "delta_ghz"), [(3, 0.0), (3, -0.12), (4, 0.0), (3, 0.35)])
def test_static_zz_from_diagonalisation_equals_a_qutip_oracle(levels, delta_ghz):
    omegas, alphas, j = (4.6 + delta_ghz, 4.6), (-0.21, -0.23), 0.002
    ours = dressed_energies(omegas, alphas, j, levels)["zeta"]
    theirs = oracle.static_zz(omegas, alphas, j, levels)
    assert abs(ours - theirs) < 1e-13


def test_the_docs_example_of_the_static_zz():
    # docs/physics.md 6.1: J = 3 MHz, Delta = -0.1 GHz, alpha = -0.30 / -0.32 GHz: 1.2676e-4 GHz exact,
    # 1.2682e-4 GHz from the corrected second-order formula
    exact = dressed_energies((4.9, 5.0), (-0.30, -0.32), 0.003, 3)["zeta"]
    assert exact == pytest.approx(1.2676e-4, abs=1e-8)
    assert static_zz_perturbative(0.003, -0.1, -0.30, -0.32) == pytest.approx(1.2682e-4, abs=1e-8)


@pytest.mark.parametrize("delta_ghz", [0.0, -0.75, -0.12])
def test_the_perturbative_static_zz_is_right_to_second_order(delta_ghz):
    # the error of 2 J^2 (a1 + a2)/((D + a1)(D - a2)) is O(J^4): halving J divides it by 16 (to O(J^6)), and it is
    # below (J/alpha)^2 of zeta itself
    alphas = (-0.21, -0.22)
    errors = []
    for j in (0.004, 0.002, 0.001):
        exact = dressed_energies((4.55 + delta_ghz, 4.55), alphas, j, 3)["zeta"]
        pert = static_zz_perturbative(j, delta_ghz, *alphas)
        assert abs(exact - pert) < 10 * (j / 0.21) ** 2 * abs(exact)
        errors.append(abs(exact - pert))
    assert errors[0] / errors[1] == pytest.approx(16.0, rel=0.02)
    assert errors[1] / errors[2] == pytest.approx(16.0, rel=0.01)


def test_two_level_transmons_have_no_static_zz_and_j1_is_j_whatever_the_levels():
    p = pair_from_calibration(SYN)
    two = charger_coupling(p, 2)
    assert two.zz_khz == 0.0 and two.j2 == 0.0 and two.j1 == 1.0
    for levels in (3, 4, 5):
        c = charger_coupling(p, levels)
        assert c.j1 == 1.0 and c.exchange_mhz == 2.0
        assert c.j2 == pytest.approx(c.zz_khz * 1e-3 / 4.0 / c.exchange_mhz, rel=1e-12)
    # the fourth level changes zeta only at higher order than the third's contribution
    assert charger_coupling(p, 4).zz_khz == pytest.approx(charger_coupling(p, 3).zz_khz, rel=1e-6)


def test_the_charger_hamiltonian_at_the_derived_couplings_has_the_pairs_computational_spectrum():
    # sign convention: with J2 = zeta/4 the charger's H (J2 Z_b Z_c, Qiskit Z) has, up to one constant, the
    # dressed energies of the transmon pair's computational states (E_00, the one-excitation pair, E_11); the
    # pair's from a QuTiP diagonalisation, in units of J
    import qutip

    pair = _pair()
    for levels in (2, 3):
        c = charger_coupling(pair, levels)
        j_ghz = pair.exchange_mhz * 1e-3
        f = c.interaction_ghz
        alphas = (-0.21, -0.23) if levels >= 3 else (0.0, 0.0)
        energies, states = oracle.duffing_pair((f, f), alphas, j_ghz, levels).eigenstates()
        number = qutip.tensor(qutip.num(levels), qutip.qeye(levels)) + qutip.tensor(
            qutip.qeye(levels), qutip.num(levels)
        )
        one = [e for e, v in zip(energies, states, strict=True) if abs(qutip.expect(number, v) - 1) < 1e-9]
        target = qutip.tensor(qutip.basis(levels, 1), qutip.basis(levels, 1))
        e11 = energies[int(np.argmax([abs(target.overlap(v)) ** 2 for v in states]))]
        device = np.sort([0.0, *one, e11]) / j_ghz
        h = ch.hamiltonian(c.params())
        charger = np.sort(np.linalg.eigvalsh(h) - h[0, 0].real)  # |00> is an eigenstate of the charger's H
        assert np.max(np.abs(charger - device)) < 1e-9 * np.max(np.abs(device))
        assert 4 * c.j2 == pytest.approx(oracle.static_zz((f, f), alphas, j_ghz, levels) / j_ghz, abs=1e-12)


def test_the_fitted_static_zz_matches_the_exact_and_the_second_order_one():
    # Ramsey-like phase of <11|rho(t)|00> at the interaction point, fitted over 20 us: equal to the exact zeta
    # to 1e-4 relative (the wiggles of relative size (J/alpha)^2 average out over the window), and to the
    # second-order formula within its own error (relative 3.5e-4 here)
    c = charger_coupling(pair_from_calibration(SYN), 3)
    fit = fit_static_zz(SYN, levels=3)
    assert fit.engine == "exact"
    assert fit.zz_khz == pytest.approx(c.zz_khz, rel=1e-4)
    assert abs(fit.zz_khz - c.zz_perturbative_khz) < 2 * abs(c.zz_khz - c.zz_perturbative_khz)
    assert abs(c.zz_khz - c.zz_perturbative_khz) / c.zz_khz < 10 * (2e-3 / 0.21) ** 2
    assert json.dumps(fit.to_dict())


def test_the_fit_agrees_between_engines():
    a = fit_static_zz(SYN, levels=3, duration_ns=2000.0, samples=21)
    b = fit_static_zz(SYN, levels=3, duration_ns=2000.0, samples=21, engine="qutip")
    assert b.engine == "qutip" and abs(a.zz_khz - b.zz_khz) < 1e-5 * abs(a.zz_khz)


# --------------------------------------------------------------------------------------------- the charger


@pytest.mark.parametrize("time", [0.0, 0.3, math.pi / 4, 1.2, math.pi / 2, 2.5])
@pytest.mark.parametrize("preparation", ["ideal", "drive"])
def test_two_level_transmons_without_dissipation_are_exactly_the_charger_with_j2_zero(time, preparation):
    # exactness: two 2-level transmons with exchange J, no dissipation, instantaneous flux edges: the state is the
    # charger's psi(t) with J1 = J, J2 = 0 (frame of the interaction frequency), and so is every figure
    r = run_charger(SYN, time=time, imperfections="none", preparation=preparation)
    assert r.levels == 2 and r.coupling.j1 == 1.0 and r.coupling.j2 == 0.0 and r.engine == "exact"
    ideal = np.outer(r.ideal.state, r.ideal.state.conj())
    assert np.max(np.abs(r.pulse_state - ideal)) < 1e-10
    j = 2 * math.pi * r.coupling.exchange_mhz * 1e-3
    assert np.max(np.abs(r.pulse_state - oracle.exchange_state(j, time / j))) < 1e-10
    for key in tt.FIGURE_KEYS:
        assert abs(getattr(r.pulse, key) - getattr(r.ideal, key)) < 1e-8 * max(1.0, abs(getattr(r.ideal, key)))
    assert r.leakage < 1e-14 and r.fidelity == pytest.approx(1.0, abs=1e-12)
    assert abs(r.phase_correction) < 1e-12


def test_the_charger_runs_when_the_charger_transmon_is_the_one_flux_pulsed():
    # battery parked above the charger's range reach: the charger is tuned to the battery (interaction there)
    first = Transmon(5.2, -0.21, 50.0, 40.0, 0.0, 0.0, 0.0, None, 0.0)
    second = Transmon(4.6, -0.23, 60.0, 70.0, 0.0, 0.0, 0.0, (4.6, 5.3), 2.0)
    p = TransmonPair("swapped", first, second, 2.0, 0.5)
    r = run_charger(p, time=0.9, imperfections="none")
    assert r.mover == 1 and r.coupling.interaction_ghz == 5.2
    ideal = np.outer(r.ideal.state, r.ideal.state.conj())
    assert np.max(np.abs(r.pulse_state - ideal)) < 1e-10
    with_ramps = run_charger(p, time=0.9, imperfections="rise")
    assert with_ramps.fidelity > 1 - 1e-6 and with_ramps.calibration_residual < 1e-10


def test_three_levels_leave_the_charging_from_01_unchanged_but_give_j2():
    # from |0>_b|1>_c the state stays in the one-excitation block, which the third levels do not touch: with an
    # exact preparation the charging is the 2-level one whatever L, while J2 = zeta/4 != 0
    two = run_charger(SYN, time=0.7, imperfections="none", preparation="ideal")
    three = run_charger(SYN, time=0.7, imperfections="levels", levels=3, preparation="ideal")
    assert three.coupling.j2 > 0.005
    assert abs(three.pulse.battery_excitation - two.pulse.battery_excitation) < 1e-12
    assert three.leakage < 1e-14 and three.fidelity == pytest.approx(1.0, abs=1e-12)
    # a DRAG pi pulse on a 3-level charger leaks a little (the preparation, not the exchange)
    drive = run_charger(SYN, time=0.7, imperfections="levels", levels=3)
    assert 1e-7 < drive.leakage < 1e-3


@pytest.mark.parametrize("imperfections", ["rise", "t1", "t2", "thermal", "reset", "dispersive", "all"])
def test_each_imperfection_costs_little_and_stays_physical(imperfections):
    r = run_charger(SYN, time=0.8, imperfections=imperfections)
    rho = r.pulse_state
    assert abs(np.trace(rho) - 1) < 1e-10 and np.min(np.linalg.eigvalsh(rho)) > -1e-10
    assert 0.9 < r.fidelity <= 1.0
    assert abs(r.pulse.battery_excitation - r.ideal.battery_excitation) < 0.02
    d = r.to_dict()
    json.dumps(d)
    assert d["imperfections"] == imperfections and set(d["ideal"]) == set(tt.FIGURE_KEYS)


def test_t1_during_a_long_charging_lowers_the_battery_by_its_decay():
    # 10 full swaps (1.25 us at J/2pi = 2 MHz) with T1 only: the excitation decays at ~1/T1 (50-60 us), both
    # transmons sharing it
    r = run_charger(SYN, time=10 * math.pi + math.pi / 2, imperfections="t1", preparation="ideal")
    t_us = r.metadata["time_ns"] * 1e-3
    t1 = np.array([SYN.qubits[0].t1_us, SYN.qubits[1].t1_us])
    lost = 1.0 - np.exp(-t_us / t1)
    assert lost.min() * 0.9 < 1.0 - (r.pulse.battery_excitation * (1 - r.leakage)) < lost.max() * 1.1 + 1e-3


def test_charger_sweep_and_plot():
    results = sweep_charger(SYN, [0.0, 0.5, 1.0], imperfections="none")
    assert [r.time for r in results] == [0.0, 0.5, 1.0]
    fig = plot_charger(results)
    assert len(fig.axes) == 1
    with pytest.raises(ParameterError):
        sweep_charger(SYN, [])


def test_charger_bad_inputs_name_what_is_wrong():
    with pytest.raises(ParameterError) as e:
        run_charger(SYN, time=-1.0)
    assert e.value.parameter == "time"
    with pytest.raises(ParameterError) as e:
        run_charger(SYN, levels=3, imperfections="none")
    assert e.value.parameter == "levels"
    with pytest.raises(ParameterError) as e:
        run_charger(SYN, levels=9)
    assert e.value.parameter == "levels"
    fixed = Transmon(4.0, -0.2, 50.0, 40.0)
    with pytest.raises(CalibrationError, match="neither transmon can be flux-tuned"):
        run_charger(TransmonPair("fixed", fixed, dataclasses.replace(fixed, freq_ghz=4.5), 2.0))
    with pytest.raises(CalibrationError, match="no exchange coupling"):
        _pair(exchange_mhz=0.0)


# ------------------------------------------------------------------------------------- the thermal gradient


def test_the_ideal_parameters_at_the_device():
    p = tt._hot_and_cold(pair_from_calibration(SYN))
    hot = HotBath()
    params = thermal_gradient_params(p, hot)
    a, s = p.transmons
    assert a.freq_ghz > s.freq_ghz and params.omega_a == pytest.approx(a.freq_ghz / s.freq_ghz, rel=1e-15)
    # the hot bath's thermal population at omega_a is n_h's; the cold one's is the transmon's p_e
    from qbhw.physics.thermal import bose_einstein, excited_population

    assert bose_einstein(params.omega_a, params.temperature_a) == pytest.approx(hot.thermal_photons, rel=1e-12)
    assert excited_population(1.0, params.temperature_s) == pytest.approx(s.excited_population, rel=1e-12)
    # gamma_s (n_S + 1) = (1 - p_S)/T1 in units of omega_S; gamma = 4 g_r^2 / kappa
    n_s = bose_einstein(1.0, params.temperature_s)
    omega_s = 2 * math.pi * s.freq_ghz * 1e3  # rad/us
    assert params.gamma_s * (n_s + 1) * omega_s == pytest.approx((1 - s.excited_population) / s.t1_us, rel=1e-12)
    g_r, kappa = 2 * math.pi * hot.coupling_mhz, 2 * math.pi * hot.kappa_mhz  # rad/us
    assert params.gamma * omega_s == pytest.approx(4 * g_r**2 / kappa, rel=1e-12)


def test_without_imperfections_the_ness_is_exactly_the_local_master_equation():
    # exactness: two-level transmons, the hot bath in its Markov limit on A, S's own T1 as the cold bath: the
    # pulse-level model is the ideal model's local master equation at the device's parameters
    r = run_thermal_gradient(SYN, imperfections="none")
    local = tg.ness(dataclasses.replace(r.params, master_equation="local"))
    assert np.max(np.abs(r.pulse_state - local.rho)) < 1e-10
    assert r.pulse.ergotropy == pytest.approx(r.ideal_local.ergotropy, abs=1e-12)
    # and the global master equation differs at order (J/Delta)^2 ~ 4e-6 (relative) here, no more
    assert (
        abs(r.pulse.ergotropy - r.ideal.ergotropy) < 10 * (r.params.g / (r.params.omega_a - 1)) ** 2 * r.ideal.ergotropy
    )
    # the g -> 0 closed form of docs/physics.md 1.2
    pa, ps = r.ideal.excited_a, r.ideal.excited_s
    assert r.pulse.ergotropy == pytest.approx((r.params.omega_a - 1.0) * (pa - ps), rel=1e-3)


@pytest.mark.parametrize("levels", [2, 3])
def test_the_ness_with_the_bath_resonator_equals_a_qutip_oracle(levels):
    hot = HotBath(kappa_mhz=8.0, coupling_mhz=0.5, thermal_photons=0.3, cutoff=11)
    imp = "kappa,t1,thermal" + (",levels" if levels > 2 else "")
    r = run_thermal_gradient(SYN, hot=hot, imperfections=imp, levels=levels if levels > 2 else None)
    p = tt._hot_and_cold(pair_from_calibration(SYN))
    a, s = p.transmons
    two_pi = 2 * math.pi
    alphas = (two_pi * a.anharmonicity_ghz, two_pi * s.anharmonicity_ghz) if levels > 2 else (0.0, 0.0)
    down_s, up_s = (1 - s.excited_population) / (s.t1_us * 1e3), s.excited_population / (s.t1_us * 1e3)
    down_a, up_a = (1 - a.excited_population) / (a.t1_us * 1e3), a.excited_population / (a.t1_us * 1e3)
    ref = oracle.thermal_pair_ness(
        two_pi * (s.freq_ghz - a.freq_ghz),
        alphas,
        two_pi * p.exchange_mhz * 1e-3,
        levels,
        hot_rate=0.0,
        hot_photons=hot.thermal_photons,
        cold_down=down_s,
        cold_up=up_s,
        resonator=(11, two_pi * hot.coupling_mhz * 1e-3, two_pi * hot.kappa_mhz * 1e-3),
        own_down=down_a,
        own_up=up_a,
    )
    assert np.max(np.abs(r.pulse_state - ref)) < 1e-9


def test_the_resonator_filters_the_hot_bath_away_from_the_cold_transmon():
    # the Markov (flat-spectrum) bath on b_A also reaches S through its hybridisation with A, at rate
    # Gamma_c = Gamma (J/Delta)^2 (up Gamma_c n_h, down Gamma_c (n_h + 1)), and heats it by
    # Gamma_c (n_h - p_S (2 n_h + 1)) / Gamma_1S; the resonator, 0.75 GHz away from S with kappa/2pi = 10 MHz, filters
    # that out (to (kappa/2Delta)^2 ~ 4e-5 of it): S is colder with it by that much
    markov = run_thermal_gradient(SYN, imperfections="none")
    resonator = run_thermal_gradient(SYN, imperfections="kappa")
    p = markov.params
    from qbhw.physics.thermal import bose_einstein

    n_s, n_h = bose_einstein(1.0, p.temperature_s), 0.5
    p_s = n_s / (2 * n_s + 1)
    cross = p.gamma * (p.g / (p.omega_a - p.omega_s)) ** 2
    heating = cross * (n_h - p_s * (2 * n_h + 1)) / (p.gamma_s * (2 * n_s + 1))
    assert markov.pulse.excited_s - resonator.pulse.excited_s == pytest.approx(heating, rel=0.02)


def test_the_third_level_of_the_hot_transmon_fills_without_its_own_relaxation():
    # A's |e> -> |f> sees the hot bath too: with nothing else on A, the ratio p_f/p_e is the bath's n/(n+1)
    # (flat Markov bath or filtered resonator alike); A's own T1 into its cold environment empties |f>
    alone = run_thermal_gradient(SYN, imperfections="levels", levels=3)
    x = 0.5 / 1.5
    pops = np.real(np.diag(alone.pulse_state)).reshape(3, 3).sum(axis=1)
    assert pops[2] / pops[1] == pytest.approx(x, rel=1e-3)
    assert alone.pulse.leakage > 0.05
    drained = run_thermal_gradient(SYN, imperfections="levels,kappa,t1,thermal", levels=3, hot=HotBath(cutoff=14))
    assert drained.pulse.leakage < 0.01


def test_the_limit_cycle_against_the_instant_swap_model_and_the_first_law():
    # the extraction takes t_swap = pi/(2J) = 125 ns, during which the baths act: the work per cycle differs from
    # the ideal (instantaneous SWAP) model's by O((Gamma_h + Gamma_1S) t_swap), and the hot bath's extra heat
    # during the swap lowers the efficiency in proportion to Gamma_h t_swap (at a fixed Gamma_h tau): ~4x less
    # when g_r halves (Gamma_h ~ g_r^2)
    deficits = []
    t1_s = pair_from_calibration(SYN).first.t1_us * 1e3  # the cold transmon S is q0 (the lower frequency)
    for g_r in (0.5, 0.25):
        hot = HotBath(coupling_mhz=g_r)
        r = run_thermal_gradient(SYN, hot=hot, imperfections="none", cycle_time_us=4.0 * (0.5 / g_r) ** 2)
        c, ideal = r.cycle_pulse, r.cycle_ideal
        assert c is not None and ideal is not None and c.efficiency is not None and ideal.efficiency is not None
        t_swap = r.metadata["extraction_ns"]
        assert abs(c.work / ideal.work - 1.0) < 2 * (hot.rate_per_ns + 1 / t1_s) * t_swap
        assert abs(c.work - c.heat_total) < 1e-12  # over a limit cycle every bath's energy leaves as work
        assert ideal.efficiency == pytest.approx(1.0 - 1.0 / r.params.omega_a, rel=1e-3)  # Otto, g -> 0
        deficits.append(ideal.efficiency - c.efficiency)
        assert 0 < deficits[-1] < 0.5 * hot.rate_per_ns * t_swap
    assert 3.0 < deficits[0] / deficits[1] < 5.0


def test_the_limit_cycle_agrees_between_engines():
    kw = dict(imperfections="rise,t1,t2,thermal", cycle_time_us=1.0)
    exact = run_thermal_gradient(SYN, engine="exact", **kw).cycle_pulse
    ode = run_thermal_gradient(SYN, engine="qutip", **kw)
    assert ode.metadata["engines"]["extraction"] == "qutip"
    assert abs(ode.cycle_pulse.work - exact.work) < 1e-7 * abs(exact.work)
    assert abs(ode.cycle_pulse.heat - exact.heat) < 1e-7 * abs(exact.heat)


@pytest.mark.slow
def test_every_imperfection_on_the_synthetic_device():
    r = run_thermal_gradient(SYN, cycle_time_us=2.0)
    assert r.levels == 3 and r.resonator_cutoff is not None and r.top_level_population < 1e-6
    c = r.cycle_pulse
    assert c is not None and abs(c.work - c.heat_total) < 1e-10
    # A's own T1 leaks the hot bath's heat into its cold environment: more heat for less work
    assert c.heat > 1.5 * r.cycle_ideal.heat and c.work < r.cycle_ideal.work
    json.dumps(r.to_dict())


def test_thermal_gradient_sweep_plot_and_bad_inputs():
    results = sweep_thermal_gradient(SYN, [0.5, 1.0], imperfections="none")
    assert len(results) == 2 and results[1].cycle_pulse.work > results[0].cycle_pulse.work
    assert len(plot_thermal_gradient(results).axes) == 2
    with pytest.raises(ParameterError) as e:
        run_thermal_gradient(SYN, cycle_time_us=0.0)
    assert e.value.parameter == "cycle_time_us"
    with pytest.raises(ParameterError) as e:
        run_thermal_gradient(SYN, hot=HotBath(cutoff=3), imperfections="kappa")
    assert e.value.parameter == "bath_cutoff" and "raise --bath-cutoff" in e.value.allowed
    for kwargs, name in (
        ({"kappa_mhz": 0.0}, "bath_kappa_mhz"),
        ({"coupling_mhz": -1.0}, "bath_coupling_mhz"),
        ({"thermal_photons": 100.0}, "bath_photons"),
        ({"cutoff": 1}, "bath_cutoff"),
    ):
        with pytest.raises(ParameterError) as e:
            HotBath(**kwargs)
        assert e.value.parameter == name
    equal = _pair(second=dataclasses.replace(_pair().first))
    with pytest.raises(CalibrationError, match="two detuned transmons"):
        run_thermal_gradient(equal)
