"""Collective dissipation through a common resonator at pulse level (qbhw.pulse.collective; docs/physics.md 3, 6.3).

References: the QuTiP oracle of tests/oracles/pulse_collective.py (built from QuTiP primitives), the ideal model's
closed forms (docs/physics.md 3.2), the exact stationarity of a thermal resonator times a ladder Gibbs state, and
the rate equation of a transmon's three levels under the Purcell rates of a detuned, damped resonator. Units in the
oracle: rad/ns and ns, converted here by hand (2 pi x MHz / 1000), not with qbhw's converters.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qbhw.cli import main
from qbhw.errors import CalibrationError, MissingDependencyError, ParameterError
from qbhw.models import collective as col
from qbhw.physics import distance
from qbhw.pulse import (
    CollectiveDevice,
    Resonator,
    Transmon,
    _symmetry,
    collective_params_from_device,
    dynamics_available,
    evolve_collective,
    run_collective,
    sweep_kappa,
    synthetic_collective_device,
)
from qbhw.pulse import collective as pc
from tests.oracles import pulse_collective as oracle

TWO_PI = 2.0 * math.pi


def rad_per_ns(mhz: float) -> float:
    return TWO_PI * mhz / 1000.0


def device(**changes: float) -> CollectiveDevice:
    """A small test device: transmons and resonator at 5 GHz, alpha/2pi = -250 MHz, g/2pi = 2 MHz."""
    t = dict(t1_us=100.0, t2_us=190.0, excited_population=0.01, anharmonicity_ghz=-0.25)
    r = dict(kappa_mhz=20.0, thermal_photons=1.0 / math.expm1(0.5))
    g = changes.pop("coupling_mhz", 2.0)
    for k in list(changes):
        if k in t:
            t[k] = changes.pop(k)
        elif k in r:
            r[k] = changes.pop(k)
    assert not changes
    return CollectiveDevice(
        name="test",
        transmon=Transmon(freq_ghz=5.0, **t),
        resonator=Resonator(freq_ghz=5.0, role="bus", **r),
        coupling_mhz=g,
    )


def oracle_rates(dev: CollectiveDevice, imperfections: str, levels: int) -> dict[str, float]:
    """The oracle's rates (rad/ns, 1/ns) for ``dev``, by hand from its T1, T2, p_e (docs/physics.md 6.1)."""
    t = dev.transmon
    on = set(imperfections.split(",")) if imperfections not in ("all", "none") else set()
    if imperfections == "all":
        on = {"levels", "t1", "t2", "thermal"}
    t1_ns, t2_ns = t.t1_us * 1e3, t.t2_us * 1e3
    return dict(
        g=rad_per_ns(dev.coupling_mhz),
        kappa=rad_per_ns(dev.resonator.kappa_mhz),
        n_th=dev.resonator.thermal_photons,
        alpha=TWO_PI * t.anharmonicity_ghz if levels > 2 else 0.0,
        down=(1 - t.excited_population) / t1_ns if "t1" in on else 0.0,
        up=t.excited_population / t1_ns if "thermal" in on else 0.0,
        dephasing=(1 / t2_ns - 0.5 / t1_ns) if "t2" in on else 0.0,
    )


# ------------------------------------------------------------------------------------------------ the mapping


def test_mapping_of_the_synthetic_device_to_the_ideal_model():
    dev = synthetic_collective_device()
    p = collective_params_from_device(dev, 3)
    omega0 = TWO_PI * 5.0  # rad/ns
    g, kappa = rad_per_ns(2.0), rad_per_ns(20.0)
    assert p.n == 3
    assert p.gamma == pytest.approx(4 * g * g / kappa / omega0, rel=1e-12)
    assert p.gamma == pytest.approx(4 * 2.0**2 / 20.0 / 5000.0, rel=1e-12)  # 4 (g/2pi)^2/((kappa/2pi) f_r)
    assert p.temperature == pytest.approx(2.0, rel=1e-12)  # n_th = 1/(e^{1/2} - 1)
    gamma_1 = 1.0 / (100e3 * omega0)  # 1/T1 in units of omega0
    assert p.gamma_local == pytest.approx((1 - 2 * 0.01) * gamma_1, rel=1e-12)
    assert p.local_temperature == pytest.approx(1.0 / math.log(99.0), rel=1e-12)
    assert p.dephasing == pytest.approx(0.5 * (1 / 190e3 - 0.5 / 100e3) / omega0, rel=1e-12)
    # the local channel reproduces the transmon's own rates: gamma_L (n_L + 1) = (1 - p_e)/T1, gamma_L n_L = p_e/T1
    n_l = 1.0 / math.expm1(1.0 / p.local_temperature)
    assert p.gamma_local * (n_l + 1) == pytest.approx(0.99 * gamma_1, rel=1e-12)
    assert p.gamma_local * n_l == pytest.approx(0.01 * gamma_1, rel=1e-12)


def test_mapping_follows_the_imperfection_switches():
    dev = device()
    omega0 = TWO_PI * 5.0
    t1 = collective_params_from_device(dev, 2, imperfections="t1")
    assert t1.gamma_local == pytest.approx(0.99 / (100e3 * omega0), rel=1e-12)
    assert t1.local_temperature == 0.0 and t1.dephasing == 0.0
    none = collective_params_from_device(dev, 2, imperfections="none")
    assert none.gamma_local == 0.0 and none.dephasing == 0.0 and not none.unique_steady_state
    with pytest.raises(ParameterError) as e:
        collective_params_from_device(dev, 2, imperfections="thermal")
    assert e.value.parameter == "imperfections"


@pytest.mark.parametrize("bad", ["rise", "levels,reset", "kappa"])
def test_imperfections_without_meaning_here_are_refused(bad):
    with pytest.raises(ParameterError) as e:
        pc.collective_imperfections(bad)
    assert e.value.parameter == "imperfections"


def test_device_rules():
    with pytest.raises(CalibrationError, match="kappa_mhz"):
        CollectiveDevice("x", Transmon(5.0, -0.25), Resonator(5.0, kappa_mhz=0.0), 2.0)
    with pytest.raises(CalibrationError, match="neither resonant"):
        CollectiveDevice("x", Transmon(5.2, -0.25), Resonator(5.0, kappa_mhz=10.0), 2.0)
    tunable = Transmon(5.2, -0.25, tunable_range_ghz=(4.5, 5.5))
    assert CollectiveDevice("x", tunable, Resonator(5.0, kappa_mhz=10.0), 2.0).reference_ghz == 5.0


# ------------------------------------------------------------------------------------ exact engine vs QuTiP


@pytest.mark.parametrize(
    ("n", "levels", "cutoff", "imperfections", "kappa"),
    [(2, 3, 6, "all", 10.0), (3, 2, 8, "t1,t2,thermal", 4.0), (2, 2, 6, "t1", 30.0), (1, 3, 8, "all", 20.0)],
)
def test_exact_steady_state_equals_qutip_oracle(n, levels, cutoff, imperfections, kappa):
    # a short T1 so that the local channels matter; qutip.steadystate is valid: the steady state is unique
    dev = device(kappa_mhz=kappa, t1_us=0.5, t2_us=0.6)
    r = run_collective(
        n, dev, levels=levels, cutoff=cutoff, imperfections=imperfections, temperature=1.0, cutoff_tolerance=1.0
    )
    rates = oracle_rates(pc.collective_device(dev, temperature=1.0), imperfections, levels)
    ref = oracle.steady_transmons(n, levels, cutoff, **rates)
    assert np.max(np.abs(r.transmon_state - ref)) < 1e-10  # two direct sparse solves of the same equations
    assert r.settings["unique_steady_state"]


def test_qutip_engine_equals_exact_engine():
    kw = dict(levels=3, cutoff=6, imperfections="all", temperature=1.0, t1_us=0.5, t2_us=0.6, cutoff_tolerance=1.0)
    a = run_collective(2, device(), **kw)
    b = run_collective(2, device(), engine="qutip", **kw)
    assert np.max(np.abs(a.transmon_state - b.transmon_state)) < 1e-10
    assert b.settings["engine"] == "qutip" and a.settings["engine"] == "exact"


@pytest.mark.slow
def test_exact_dynamics_equal_qutip_mesolve():
    dev = device(kappa_mhz=10.0, t1_us=0.5, t2_us=0.6)
    times_us = [0.02, 0.1, 0.4]
    traj = evolve_collective(2, times_us, dev, levels=3, cutoff=6, temperature=1.0, cutoff_tolerance=1.0)
    rates = oracle_rates(pc.collective_device(dev, temperature=1.0), "all", 3)
    refs = oracle.evolve_transmons(2, 3, 6, [t * 1e3 for t in times_us], **rates)
    h = col.collective_hamiltonian(2)
    for k, ref in enumerate(refs):
        block = oracle.qubit_block(ref, 2, 3)
        leak = 1.0 - np.trace(block).real
        q = block / np.trace(block).real
        # mesolve at rtol 1e-10 against an eigendecomposition (cond(V) ~ 1e5 x rounding)
        assert traj.pulse["leakage"][k] == pytest.approx(leak, abs=1e-8)
        assert traj.pulse["energy"][k] == pytest.approx(np.trace(q @ h).real + 1.0, abs=1e-8)


def test_qutip_engine_dynamics_equal_exact_dynamics():
    kw = dict(levels=2, cutoff=8, temperature=1.0, t1_us=0.5, t2_us=0.6, time_us=0.3, cutoff_tolerance=1.0)
    a = run_collective(2, device(), **kw)
    b = run_collective(2, device(), engine="qutip", **kw)
    assert np.max(np.abs(a.transmon_state - b.transmon_state)) < 1e-7  # mesolve rtol 1e-10, stiff kappa


@pytest.mark.pulse
@pytest.mark.skipif(not dynamics_available(), reason="qiskit-dynamics is in the pulse environment only")
def test_dynamics_engine_equals_exact_dynamics():
    kw = dict(levels=2, cutoff=6, temperature=1.0, t1_us=0.5, t2_us=0.6, time_us=0.1, cutoff_tolerance=1.0)
    a = run_collective(2, device(), **kw)
    b = run_collective(2, device(), engine="dynamics", **kw)
    assert np.max(np.abs(a.transmon_state - b.transmon_state)) < 1e-7


def test_dynamics_engine_refuses_a_steady_state_or_is_missing():
    with pytest.raises((ParameterError, MissingDependencyError)) as e:
        run_collective(2, device(), engine="dynamics", levels=2, cutoff=6, cutoff_tolerance=1.0)
    if isinstance(e.value, ParameterError):
        assert e.value.parameter == "engine" and "time" in e.value.allowed


# ------------------------------------------------------------------------- pure collective: not unique, exact


@pytest.mark.parametrize("n", [2, 3, 4])
def test_pure_collective_steady_state_is_the_ideal_closed_form_at_any_kappa(n):
    # H = g(a^dag J- + a J+) conserves a^dag a + J_z and commutes with x^(a^dag a + J_z); the resonator's bath leaves
    # its (truncated) thermal state x^(a^dag a) stationary: rho_th (x) x^{J_z} on the symmetric ladder is exactly
    # stationary, even at kappa < g sqrt(N), so pulse = ideal (docs/physics.md 3.2) to rounding
    dev = device(kappa_mhz=1.0)  # kappa/(g sqrt N) = 0.5/sqrt(N): strong coupling
    r = run_collective(n, dev, imperfections="none")
    assert not r.settings["unique_steady_state"] and r.settings["levels"] == 2
    closed = col.ladder_closed_form(n, 2.0)
    assert r.pulse.ergotropy == pytest.approx(closed.ergotropy, abs=1e-12)
    assert r.pulse.energy == pytest.approx(closed.energy, abs=1e-12)
    assert r.pulse.trace_distance < 1e-12
    if n == 3:
        assert r.pulse.ergotropy == pytest.approx(0.3704777455, abs=1e-10)  # docs/physics.md 3.2 table, T = 2


@pytest.mark.slow
def test_pure_collective_qutip_steadystate_trap_and_the_symmetric_subspace():
    # on the full Liouvillian (every permutation sector conserved) qutip.steadystate returns some stationary state;
    # the state reached from |g g> is the one of the symmetric subspace, which long-time mesolve confirms
    dev = device(kappa_mhz=20.0)
    rates = oracle_rates(dev, "none", 2)
    full = oracle.steady_transmons(2, 2, 8, **rates)
    r = run_collective(2, dev, imperfections="none", cutoff=8, cutoff_tolerance=1.0)
    late = oracle.evolve_transmons(2, 2, 8, [10e3], **rates)[0]  # 10 us = 50/gamma (gamma/2pi = 0.8 MHz)
    assert np.max(np.abs(r.transmon_state - late)) < 1e-7
    assert np.max(np.abs(full - late)) > 1e-3  # the trap (docs/physics.md 3.1): not the state reached


@pytest.mark.parametrize(("n", "levels"), [(2, 2), (3, 2), (2, 3), (3, 3)])
def test_symmetric_subspace_has_one_stationary_state(n, levels):
    # the claim behind the symmetric-subspace treatment: there the order-0 generator has a one-dimensional kernel
    dev = pc.collective_device(device(kappa_mhz=10.0))
    imp = pc.collective_imperfections("levels" if levels > 2 else "none")
    terms = pc._terms(dev, n, levels, 5, imp)
    assert terms.symmetric
    red = pc._reduce(terms)
    _, _, h, jumps = pc._sparse_model(terms)
    gen = _symmetry.reduced_generator(red, h, jumps).toarray()
    s = np.linalg.svd(gen, compute_uv=False)
    assert s[-1] < 1e-12 * s[0] and s[-2] > 1e-8 * s[0]


def test_symmetric_basis_is_an_isometry_onto_symmetric_states():
    v, exc = pc.symmetric_basis(3, 3)
    assert v.shape == (27, 10) and np.allclose(v.T @ v, np.eye(10))
    assert exc[0] == 0 and v[0, 0] == 1.0  # column 0 is |g g g>
    swap = np.eye(27)[[np.ravel_multi_index((b, a, c), (3, 3, 3)) for a, b, c in np.ndindex(3, 3, 3)]]
    assert np.allclose(swap @ v, v)


# ------------------------------------------------------------------------------ the adiabatic elimination


def test_error_falls_as_g2_n_over_kappa2_with_local_rates_at_a_fixed_ratio():
    # docs/physics.md 6.3: relative corrections ~ g^2 N/kappa^2. With T1 scaled so that the local rate stays
    # gamma/2 (1/T1 = gamma/2), every correction is of that order: the local slope d log(distance)/d log(x) is 1 up
    # to the next order (relative x ~ 1e-2 at the fitted points) and the truncation floor (~1e-7 here)
    g = 2.0
    kappas = np.array([40.0, 80.0, 160.0, 320.0])
    out = {}
    for n in (2, 3, 4):
        dist = []
        for k in kappas:
            t1 = 1.0 / (0.5 * TWO_PI * 4 * g * g / k)  # us: 1/T1 = gamma/2 with gamma/2pi = 4 g^2/kappa MHz
            r = run_collective(n, device(), kappa_mhz=k, t1_us=t1, t2_us=2 * t1, imperfections="t1", levels=2)
            dist.append(r.pulse.trace_distance)
        x = g * g * n / kappas**2
        slope = np.polyfit(np.log(x), np.log(dist), 1)[0]
        assert slope == pytest.approx(1.0, abs=0.05)
        out[n] = np.array(dist) / x
    # and the coefficient of g^2 N/kappa^2 hardly depends on N: the expansion parameter carries the N
    coeff = np.array([out[n][-1] for n in (2, 3, 4)])
    assert np.ptp(coeff) / coeff.mean() < 0.2


def test_sweep_kappa_approaches_the_ideal_model_and_fits_an_order():
    sw = sweep_kappa(3, [5.0, 10.0, 20.0, 40.0, 80.0], device(t1_us=1.0, t2_us=2.0), imperfections="t1,t2,thermal")
    d = sw.column("pulse", "trace_distance")
    assert np.all(np.diff(d) < 0) and d[-1] < d[0] / 5
    assert sw.order is not None and 0.3 < sw.order < 1.1 and sw.order_points == 5
    data = sw.to_dict()
    assert data["kappa_mhz"] == [5.0, 10.0, 20.0, 40.0, 80.0]
    assert set(data["ideal"]) == {"energy", "ergotropy", "capacity", "purity"}
    assert len(data["pulse"]["trace_distance"]) == 5 and data["convergence_order"] == sw.order


def test_third_level_population_follows_the_detuned_purcell_rates():
    # one transmon, three levels: e <-> f couples to the resonator with sqrt(2) g, detuned by alpha, so the
    # resonator's thermal photons pump it at 8 g^2 kappa n/(kappa^2 + 4 alpha^2) (Lorentzian tail) against decay
    # at the same rate x (n + 1) plus 2 (1 - p_e)/T1; g <-> e at 4 g^2/kappa. The steady populations then follow a
    # detailed-balance chain. Corrections: g^2/kappa^2 = 2.5e-3 and the transmon's linewidth 2/(T2 kappa) ~ 4e-5.
    dev = device(kappa_mhz=40.0)
    r = run_collective(1, dev, levels=3, cutoff=30)
    g, kappa, alpha = rad_per_ns(2.0), rad_per_ns(40.0), TWO_PI * -0.25
    n_th = dev.resonator.thermal_photons
    t1, p = 100e3, 0.01
    ge = 4 * g * g / kappa
    ef = 8 * g * g * kappa / (kappa**2 + 4 * alpha**2)
    e_over_g = (ge * n_th + p / t1) / (ge * (n_th + 1) + (1 - p) / t1)
    f_over_e = (ef * n_th + 2 * p / t1) / (ef * (n_th + 1) + 2 * (1 - p) / t1)
    pops = np.array([1.0, e_over_g, e_over_g * f_over_e])
    pops /= pops.sum()
    assert r.pulse.leakage == pytest.approx(pops[2], rel=0.01)
    assert r.pulse.leakage > 0.05  # the hot resonator fills |f>: the two-level model fails here


def test_leakage_grows_with_kappa_for_three_levels():
    sw = sweep_kappa(2, [5.0, 20.0, 80.0], device(), levels=3, cutoff=20, cutoff_tolerance=1e-4)
    leak = sw.column("pulse", "leakage")
    assert np.all(np.diff(leak) > 0) and leak[0] > 1e-3


# --------------------------------------------------------------------------------- dynamics and the ideal model


def test_long_time_dynamics_reach_the_steady_state():
    dev = device(t1_us=1.0, t2_us=2.0, kappa_mhz=20.0)
    kw = dict(levels=2, imperfections="t1,t2,thermal")
    late = evolve_collective(2, [200.0], dev, **kw)  # 200 us = 200 T1
    ss = run_collective(2, dev, **kw)
    assert late.pulse["ergotropy"][0] == pytest.approx(ss.pulse.ergotropy, abs=1e-9)
    assert late.pulse["energy"][0] == pytest.approx(ss.pulse.energy, abs=1e-9)


@pytest.mark.slow
def test_charging_reaches_the_pure_collective_plateau_before_t1_discharges_it():
    # physics: the battery charges in ~1/(N gamma) to the pure-collective value (docs/physics.md 3.2: 0.3705 at
    # N = 3, T = 2) and relaxes on the T1 scale to the unique steady state of the p -> 0+ limit (~0.03)
    traj = evolve_collective(3, [1.0, 1000.0], synthetic_collective_device(), levels=2)
    w = traj.pulse["ergotropy"]
    assert w[0] == pytest.approx(0.3705, abs=0.01)
    assert w[1] < 0.05
    assert np.max(traj.pulse["trace_distance"]) < 1e-3


# ------------------------------------------------------------------------------------------ sizes and inputs


def test_too_many_transmons_are_refused_up_front_with_the_size():
    with pytest.raises(ParameterError) as e:
        run_collective(7, device(), levels=3)
    assert e.value.parameter == "n"
    assert "3 levels" in e.value.allowed and "states" in e.value.allowed


def test_default_levels_fall_back_to_two_where_three_do_not_fit():
    r = run_collective(4, device())
    assert r.settings["levels"] == 2 and "3 transmon levels do not fit" in r.settings["note"]


def test_ode_engines_are_refused_beyond_their_size():
    with pytest.raises(ParameterError) as e:
        run_collective(4, device(), engine="qutip", levels=3)
    assert e.value.parameter == "engine"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(kappa_mhz=0.0), "kappa_mhz"),
        (dict(kappa_mhz=600.0), "kappa_mhz"),
        (dict(kappa_mhz=float("nan")), "kappa_mhz"),
        (dict(thermal_photons=5.0), "thermal_photons"),
        (dict(thermal_photons=-1.0), "thermal_photons"),
        (dict(temperature=10.0), "temperature"),
        (dict(temperature=1.0, thermal_photons=1.0), "temperature"),
        (dict(coupling_mhz=0.0), "coupling_mhz"),
        (dict(t2_us=500.0), "t2_us"),
        (dict(t1_us=10.0), "t1_us"),
        (dict(levels=5), "levels"),
        (dict(levels=3, imperfections="t1"), "levels"),
        (dict(cutoff=61), "cutoff"),
        (dict(time_us=-1.0), "time_us"),
        (dict(engine="magic"), "engine"),
        (dict(n=0), "n"),
    ],
)
def test_bad_inputs_name_their_parameter(kwargs, name):
    n = kwargs.pop("n", 2)
    with pytest.raises(ParameterError) as e:
        run_collective(n, device(), **kwargs)
    assert e.value.parameter == name


def test_a_cutoff_too_small_for_the_thermal_tail_is_refused():
    with pytest.raises(ParameterError) as e:
        run_collective(2, device(), levels=2, cutoff=6)
    assert e.value.parameter == "cutoff" and "top Fock level 5" in e.value.allowed


def test_results_are_finite_and_serialisable():
    r = run_collective(2, device(), levels=2)
    data = json.loads(json.dumps(r.to_dict()))
    assert set(data["ideal"]) == {"energy", "ergotropy", "capacity", "purity"}
    assert {"trace_distance", "leakage", "mean_photons", "top_level_population"} <= set(data["pulse"])
    assert data["rwa"] is True and data["levels"] == 2 and data["engine"] == "exact"
    assert data["collective_params"]["gamma"] == pytest.approx(4 * 4 / 20 / 5000)


# ------------------------------------------------------------------------------------------ the command line


def test_cli_single_point_json(capsys):
    status = main(["pulse", "collective", "--n", "2", "--levels", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert out["ideal"]["ergotropy"] == pytest.approx(out["pulse"]["ergotropy"], abs=1e-3)
    for key in ("engine", "frame", "rwa", "levels", "cutoff", "kappa_mhz", "elimination_ratio"):
        assert key in out


@pytest.mark.slow
def test_cli_kappa_sweep_writes_json_and_plot(tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = ["pulse", "collective", "--n", "2", "--levels", "2", "--kappa-mhz", "5:25:10", "--t1-us", "1"]
    status = main([*argv, "--t2-us", "2", "--out", str(out), "--quiet"])
    text = capsys.readouterr().out
    assert status == 0
    assert "fitted order" in text and "kappa/(g sqrt N)" in text
    data = json.loads((out / "result.json").read_text())
    assert data["kappa_mhz"] == [5.0, 15.0, 25.0]
    assert len(data["ideal"]["ergotropy"]) == 3 and len(data["pulse"]["ergotropy"]) == 3
    # T1 = 1 us is comparable to gamma here: the distance to the ideal model falls as kappa grows
    assert np.all(np.diff(data["pulse"]["trace_distance"]) < 0)
    assert data["convergence_points"] == 3 and 0.2 < data["convergence_order"] < 1.2
    assert (out / "kappa_sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_table_shows_ideal_and_pulse(capsys):
    assert main(["pulse", "collective", "--n", "2", "--levels", "2", "--temperature", "1"]) == 0
    text = capsys.readouterr().out
    assert "ergotropy" in text and "trace distance" in text and "steady state" in text


def test_distance_reported_is_the_trace_distance_of_the_states():
    r = run_collective(2, device(), levels=2, t1_us=1.0, t2_us=2.0)
    assert r.pulse.trace_distance == pytest.approx(distance.trace_distance(r.qubit_state, r.ideal_state), abs=1e-15)
