"""The thermal-gradient engine's limit cycle as a run (``qbhw run thermal-gradient --cycle-time``, issue 14 item 6)
and the micromaser's engineered cavity loss on a device (item 7).

References, all independent of the code under test: the closed form of the g = 0 engine (docs/physics.md 1.2);
QuTiP's global master equation and the micromaser with loss built from QuTiP primitives (tests/oracles); the
linear estimator's exact mean and variance by enumerating every multinomial outcome of each setting, with outcome
probabilities written out here from the Pauli eigenvectors and the readout confusion; Monte-Carlo coverage with
tolerances from the binomial spread of the miss count.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import statistics

import numpy as np
import pytest
import qutip as qt
import scipy.linalg
from oracles import circuits as oracle_circuits
from oracles import models as oracle_models

from qbhw import tomography
from qbhw.cli import main
from qbhw.errors import ParameterError
from qbhw.experiments import (
    CYCLE_KEYS,
    CycleFigures,
    Experiment,
    JobResult,
    PointRecord,
    ThermalGradientTime,
    cycle_estimates,
    cycle_figures,
    fieller_interval,
    model_spec,
    run_experiment,
)
from qbhw.hardware import default_device, noiseless
from qbhw.models import thermal_gradient as tg

SPEC = model_spec("thermal-gradient")
Z95 = statistics.NormalDist().inv_cdf(0.975)


def _engine(tau: float, **params):
    return SPEC.cycle(tg.ThermalGradientParams(**params), ThermalGradientTime(cycle_time=tau), None)


def _binomial_band(trials: int, p: float, sigmas: float = 4.0) -> tuple[float, float]:
    """mean -/+ sigmas standard deviations of a Binomial(trials, p) count."""
    mean, sd = trials * p, math.sqrt(trials * p * (1 - p))
    return mean - sigmas * sd, mean + sigmas * sd


# ----------------------------------------------------------------------------- linear functionals (tomography)

_EIGEN = {  # outcome bit 0 = the +1 eigenvector of Qiskit's Pauli (qbhw.tomography's convention), basis (|0>, |1>)
    "X": (np.array([1, 1]) / math.sqrt(2), np.array([1, -1]) / math.sqrt(2)),
    "Y": (np.array([1, 1j]) / math.sqrt(2), np.array([1, -1j]) / math.sqrt(2)),
    "Z": (np.array([1, 0]), np.array([0, 1])),
}


def _probabilities(rho: np.ndarray, setting: str, confusion: list[np.ndarray]) -> np.ndarray:
    """P(read m) of a setting, m in physics order (position 0 the most significant bit): Born rule on the product
    eigenvectors, then the readout confusion A_k[read, true] of each position."""
    n = len(setting)
    true = np.zeros(2**n)
    for m, bits in enumerate(itertools.product((0, 1), repeat=n)):
        vec = np.array([1.0 + 0j])
        for k, b in enumerate(bits):
            vec = np.kron(vec, _EIGEN[setting[k]][b])
        true[m] = float(np.real(vec.conj() @ rho @ vec))
    a = confusion[0]
    for c in confusion[1:]:
        a = np.kron(a, c)
    return a @ true


def test_linear_functionals_are_the_linear_inversion_estimate(rand) -> None:
    """The value is Tr[rho_lin O] of ``fit_linear`` (the same estimator, reached through the Pauli expansion instead
    of the inverted measurement model), with and without readout; the identity is estimated as exactly 1."""
    rho = rand.density_matrix(4)
    ops = [rand.hermitian(4), np.diag([0.0, 1.0, 2.0, 3.0]), np.eye(4)]
    settings = tomography.pauli_settings(2)
    shots = [300, 500, 700, 400, 900, 650, 800, 350, 1000]
    for readout in (None, tomography.ReadoutModel((0.02, 0.06), (0.04, 0.01))):
        data = tomography.sample_counts(rho, settings, shots, seed=5, readout=readout)
        est = tomography.linear_functionals(data, ops, readout=readout)
        lin = tomography.fit_linear(data, readout=readout)
        for value, op in zip(est.values, ops, strict=True):
            assert value == pytest.approx(float(np.real(np.trace(lin @ op))), abs=1e-12)
        assert est.values[2] == pytest.approx(1.0, abs=1e-14) and est.std[2] == pytest.approx(0.0, abs=1e-14)


def test_linear_functionals_mean_and_covariance_by_exact_enumeration(rand) -> None:
    """Every count vector of every setting enumerated (2 qubits, 2-4 shots per setting, readout errors): the
    estimate's exact mean is Tr[rho O] (unbiased) and its exact covariance is the module's formula evaluated at the
    true probabilities (reached as the plug-in at counts p N lambda, lambda = 1e10, times lambda)."""
    rho = rand.density_matrix(4)
    ops = [rand.hermitian(4), rand.hermitian(4)]
    settings = tomography.pauli_settings(2)
    shots = [2, 3, 4, 2, 3, 4, 2, 3, 4]
    readout = tomography.ReadoutModel((0.03, 0.08), (0.05, 0.02))
    confusion = [readout.confusion(k) for k in range(2)]
    probs = [_probabilities(rho, s, confusion) for s in settings]
    base = np.array([[n, 0, 0, 0] for n in shots])
    base_value = tomography.linear_functionals(
        tomography.TomographyData.from_array(settings, base), ops, readout=readout
    ).values
    mean = base_value.copy()
    cov = np.zeros((2, 2))
    for s, (n, p) in enumerate(zip(shots, probs, strict=True)):
        outcomes, weights = [], []
        for split in itertools.product(range(n + 1), repeat=3):
            if sum(split) > n:
                continue
            counts = np.array([*split, n - sum(split)])
            weights.append(math.factorial(n) / np.prod([math.factorial(c) for c in counts]) * np.prod(p**counts))
            array = base.copy()
            array[s] = counts
            data = tomography.TomographyData.from_array(settings, array)
            outcomes.append(tomography.linear_functionals(data, ops, readout=readout).values)
        w, x = np.array(weights), np.array(outcomes)
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
        m_s = w @ x
        mean += m_s - base_value
        cov += (x - m_s).T @ ((x - m_s) * w[:, None])
    truth = [float(np.real(np.trace(rho @ op))) for op in ops]
    assert mean == pytest.approx(truth, abs=1e-10)
    lam = 1e10
    big = np.array([np.round(p * n * lam) for n, p in zip(shots, probs, strict=True)]).astype(np.int64)
    formula = tomography.linear_functionals(
        tomography.TomographyData.from_array(settings, big), ops, readout=readout
    ).covariance
    assert formula * lam == pytest.approx(cov, rel=1e-6, abs=1e-12)


def test_linear_functionals_refuse_what_they_cannot_estimate(rand) -> None:
    data = tomography.sample_counts(rand.density_matrix(4), ("ZZ", "XX"), 100, seed=1)
    y = np.array([[0, -1j], [1j, 0]])
    with pytest.raises(ParameterError) as err:  # Y Y is measured by no setting
        tomography.linear_functionals(data, [np.kron(y, y)])
    assert err.value.parameter == "operators"
    est = tomography.linear_functionals(data, [np.diag([0.0, 1.0, 1.0, 2.0])])  # Z terms only: measured
    assert np.isfinite(est.values[0]) and est.std[0] > 0
    for bad in (np.array([[0, 1], [0, 0]]), np.array([[0, 1], [0, 0], [0, 0], [0, 0]]), np.diag([1, 1j, 0, 0])):
        with pytest.raises(ParameterError):
            tomography.linear_functionals(data, [bad])


# ----------------------------------------------------------------------------------------------- Fieller


def test_fieller_interval_contains_the_ratio_and_refuses_unresolved_heat() -> None:
    lo, hi = fieller_interval(1.0, 2.0, 0.01, 0.01, 0.002, Z95)
    assert lo < 0.5 < hi
    # small variances: the delta-method interval eta -/+ z sqrt(Var(W - eta Q)) / |Q|
    eta, v_w, v_q, c = 0.5, 1e-8, 2e-8, 5e-9
    lo, hi = fieller_interval(1.0, 2.0, v_w, v_q, c, Z95)
    half = Z95 * math.sqrt(v_w - 2 * eta * c + eta**2 * v_q) / 2.0
    assert (lo, hi) == pytest.approx((eta - half, eta + half), rel=1e-6)
    assert all(math.isnan(x) for x in fieller_interval(1.0, 0.1, 0.01, 0.01, 0.0, Z95))  # |Q| < z sigma_Q


def test_fieller_interval_covers_at_the_nominal_rate() -> None:
    """4000 bivariate normal (work, heat) estimates around (0.018, 0.036), sigmas (0.008, 0.007), correlation 0.5
    (the shape of a tau = 10 measurement): the 95 % Fieller interval misses the true ratio as often as a
    Binomial(4000, 0.05) count allows (4 sigma band); an unbounded interval claims nothing and counts as covering."""
    rng = np.random.default_rng(20250601)
    sw, sq, rho = 0.008, 0.007, 0.5
    cov = np.array([[sw**2, rho * sw * sq], [rho * sw * sq, sq**2]])
    draws = rng.multivariate_normal([0.018, 0.036], cov, size=4000)
    misses = 0
    for w, q in draws:
        lo, hi = fieller_interval(w, q, cov[0, 0], cov[1, 1], cov[0, 1], Z95)
        misses += not (math.isnan(lo) or lo <= 0.5 <= hi)
    low, high = _binomial_band(4000, 0.05)
    assert low <= misses <= high, misses


# ------------------------------------------------------------------------------------ the engine's columns


@pytest.mark.parametrize("tau", [1.0, 2.5, 5.0, 10.0, 30.0, 100.0])
def test_circuit_work_is_the_model_work_within_the_mapping_bound(tau: float) -> None:
    """ideal = the model's limit cycle; the noiseless circuits' work differs from it by at most the mapping's bound
    2 D ||H - U^+ H U|| (D the trace distance of the circuit's state before the extraction to the model's)."""
    eng = _engine(tau)
    model = tg.limit_cycle(tg.ThermalGradientParams(), tau)
    ideal = cycle_figures(eng, eng.before.ideal_state, eng.after.ideal_state)
    circuit = cycle_figures(eng, eng.before.exact_state, eng.after.exact_state)
    assert ideal.work == pytest.approx(model.work, abs=1e-12) and eng.ideal_work == model.work
    assert ideal.power == pytest.approx(model.power, abs=1e-12)
    assert eng.bath_heat == model.heat and eng.bath_efficiency == model.efficiency
    assert abs(circuit.work - ideal.work) <= eng.before.details["work_error_bound_ideal"]
    assert circuit.power == pytest.approx(circuit.work / tau, rel=1e-14)


def test_ideal_cycle_matches_qutip_global_master_equation() -> None:
    """tau = 10, reference parameters: rho_end = fixed point of e^{L tau} o U with QuTiP's secular (global)
    Liouvillian, U the model's extraction unitary (a permutation of H's eigenbasis here, so its phases do not
    matter); the hot bath's heat Tr[H L_A(int_0^tau e^{L t} dt rho_start)], L_A from the Liouvillian's linearity in
    gamma_A and the integral from the block exponential exp([[L, 1], [0, 0]] tau). Work, heat and the hot qubit's
    energy gain against the run's ideal column."""
    tau = 10.0
    eng = _engine(tau)
    p1 = tg.ThermalGradientParams(gamma=0.01, gamma_s=0.01)
    p2 = tg.ThermalGradientParams(gamma=0.02, gamma_s=0.01)
    big_l = oracle_models.thermal_gradient_global(p1).full()
    l_a = oracle_models.thermal_gradient_global(p2).full() - big_l
    h = oracle_models.thermal_gradient_operators(2.0, 1.0, 0.05)[0].full()
    u = np.asarray(tg.limit_cycle(p1, tau).extraction_unitary)
    s_u = qt.sprepost(qt.Qobj(u), qt.Qobj(u.conj().T)).full()
    w, v = np.linalg.eig(scipy.linalg.expm(big_l * tau) @ s_u)
    rho_end = v[:, np.argmin(np.abs(w - 1.0))].reshape(4, 4, order="F")
    rho_end = rho_end / np.trace(rho_end)
    rho_start = u @ rho_end @ u.conj().T
    block = np.zeros((32, 32), dtype=complex)
    block[:16, :16], block[:16, 16:] = big_l, np.eye(16)
    integral = scipy.linalg.expm(block * tau)[:16, 16:] @ rho_start.reshape(-1, order="F")
    heat = float(np.real(np.trace(h @ (l_a @ integral).reshape(4, 4, order="F"))))
    work = float(np.real(np.trace(h @ (rho_end - rho_start))))
    n_a = np.kron(np.diag([0.0, 1.0]), np.eye(2))
    gain = 2.0 * float(np.real(np.trace(n_a @ (rho_end - rho_start))))
    ideal = cycle_figures(eng, eng.before.ideal_state, eng.after.ideal_state)
    assert ideal.work == pytest.approx(work, abs=1e-9)
    assert eng.bath_heat == pytest.approx(heat, abs=1e-9)
    assert ideal.heat == pytest.approx(gain, abs=1e-9)
    # at g = 0.05 the hot qubit's gain is not the bath's heat: the exchange moves energy during the stroke
    assert abs(ideal.heat - eng.bath_heat) > 1e-4


def test_g_zero_heat_is_the_hot_bath_heat_and_the_efficiency_is_otto() -> None:
    """g = 0 (docs/physics.md 1.2 table, tau = 10): W = 1.8358919093e-2, Q_A = 3.6717838186e-2, eta = 1 - w_S/w_A
    = 0.5; the hot qubit's energy gain is exactly the hot bath's heat, and the circuit has no Trotter error."""
    eng = _engine(10.0, g=0.0)
    ideal = cycle_figures(eng, eng.before.ideal_state, eng.after.ideal_state)
    circuit = cycle_figures(eng, eng.before.exact_state, eng.after.exact_state)
    assert ideal.work == pytest.approx(1.8358919093e-2, abs=1e-11)
    assert ideal.heat == pytest.approx(3.6717838186e-2, abs=1e-11)
    assert ideal.heat == pytest.approx(eng.bath_heat, abs=1e-13)
    assert ideal.efficiency == pytest.approx(0.5, abs=1e-12) and eng.bath_efficiency == pytest.approx(0.5, abs=1e-12)
    for key in CYCLE_KEYS:
        assert getattr(circuit, key) == pytest.approx(getattr(ideal, key), abs=1e-11), key


def test_measured_intervals_cover_the_circuit_values_at_the_nominal_rate() -> None:
    """The noiseless device's measurement: counts sampled from the circuits' exact states (8192 shots per setting,
    ideal readout), 400 data-set pairs with spawned seeds. The 95 % intervals of work, power and heat (linear
    estimates -/+ z sigma) and of the efficiency (Fieller) miss the circuit's exact values as often as a
    Binomial(400, 0.05) count allows (4 sigma band: 3 ... 37)."""
    eng = _engine(10.0)
    circuit = cycle_figures(eng, eng.before.exact_state, eng.after.exact_state)
    settings = tomography.pauli_settings(2)
    misses = dict.fromkeys(CYCLE_KEYS, 0)
    reps = 400
    for child in np.random.SeedSequence(14).spawn(reps):
        sb, sa = (int(x) for x in child.generate_state(2))
        before = tomography.sample_counts(eng.before.exact_state, settings, 8192, seed=sb)
        after = tomography.sample_counts(eng.after.exact_state, settings, 8192, seed=sa)
        m = cycle_estimates(eng, before, after)
        for key in CYCLE_KEYS:
            lo, hi = m[key].ci
            misses[key] += not (math.isnan(lo) or lo <= getattr(circuit, key) <= hi)
            assert math.isnan(lo) or lo <= m[key].value <= hi
    low, high = _binomial_band(reps, 0.05)
    for key, count in misses.items():
        assert low <= count <= high, (key, count)


# ------------------------------------------------------------------------------------------- whole runs


@pytest.fixture(scope="module")
def noiseless_record() -> PointRecord:
    exp = Experiment(
        "thermal-gradient",
        tg.ThermalGradientParams(),
        noiseless(default_device()),
        time=ThermalGradientTime(cycle_time=10.0),
        shots=9 * 2000,
        bootstrap=20,
        seed=3,
        spawn_key=(4,),
    )
    return run_experiment(exp).record()


@pytest.mark.slow  # ~3 s: two compilations, predictions and tomographies
def test_cycle_point_record_round_trips_with_both_circuits(noiseless_record, tmp_path) -> None:
    from qbhw import report
    from qbhw._json import to_json

    r = noiseless_record
    assert r.cycle is not None
    back = PointRecord.from_dict(json.loads(to_json(r.to_dict(counts=True))))
    assert back == r
    d = r.to_dict()
    for column in ("ideal", "circuit", "noisy", "measured"):
        assert set(CYCLE_KEYS) <= set(d[column]), column
    assert {"bath_heat", "bath_efficiency"} <= set(d["ideal"]) and d["cycle_time"] == 10.0
    assert len(d["measured"]["work_ci"]) == 2
    # the two circuits: one experiment (the after circuit is the before circuit plus the extraction's gates),
    # independent spawned streams
    assert d["after"]["circuit"]["physical_qubits"] == d["circuit"]["physical_qubits"]
    extra = d["after"]["circuit"]["two_qubit_gates"] - d["circuit"]["two_qubit_gates"]
    # a two-qubit unitary is <= 3 CZ, plus <= 2 SWAPs (3 CZ each) when routing left A and S apart in a 4-qubit set
    assert extra == d["cycle"]["extraction_two_qubit_gates"] and 1 <= extra <= 9
    assert d["spawn_key"] == [4] and d["after"]["spawn_key"] == [4, 1]
    assert d["sampling_seed"] == int(np.random.SeedSequence(3, spawn_key=(4, 0)).generate_state(2)[0])
    assert d["after"]["sampling_seed"] == int(np.random.SeedSequence(3, spawn_key=(4, 1)).generate_state(2)[0])
    # noiseless device: the noisy prediction is the circuits' exact channel
    for key in CYCLE_KEYS:
        assert d["noisy"][key] == pytest.approx(d["circuit"][key], abs=1e-9), key
    job = JobResult("thermal-gradient", "cycle_time", (10.0,), (r,), 3)
    counts = report.counts_json(job)
    assert counts["after"]["physical_qubits"] == counts["physical_qubits"]
    assert sum(c["shots"] for c in counts["after"]["counts"]) == 18000
    text = report.run_text(job, "work")
    assert "work per cycle" in text and "energy after" in text and "Fieller" in text

    # the noiseless device's ideal, circuit and noisy columns run as an engine (work, heat > 0): no note
    def text_of(cycle):
        return report.run_text(dataclasses.replace(job, records=(dataclasses.replace(r, cycle=cycle),)), "work")

    assert "not run as an engine" not in text_of(dataclasses.replace(r.cycle, measured=None))
    # a noisy device that heats the register: work and heat both < 0, their ratio is no efficiency, and says so
    heated = dataclasses.replace(r.cycle, noisy=CycleFigures(-0.027, -0.0027, -0.019, 0.027 / 0.019), measured=None)
    assert "work or heat <= 0 in the noisy column: the register does not run as an engine" in text_of(heated)


@pytest.mark.slow
def test_cycle_sweep_plot_draws_the_json_intervals(noiseless_record) -> None:
    from qbhw import report

    other = dataclasses.replace(noiseless_record, spawn_key=(5,))
    job = JobResult("thermal-gradient", "cycle_time", (10.0, 10.0), (noiseless_record, other), 3)
    points = report.run_json(job)["points"]
    for figure in CYCLE_KEYS:
        series = report.plot_series(job, figure)
        for k, p in enumerate(points):
            ci = p["measured"][f"{figure}_ci"]
            if ci is not None:
                assert (series.low[k], series.high[k]) == (ci[0], ci[1])
    assert report.plot(job, "power")[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.sweep_table(job, "power").count("\n") == 3
    assert report.default_figure(job) == "work"


def test_engine_quantities_are_refused_for_points_without_a_cycle() -> None:
    from qbhw import report
    from qbhw.experiments import ChargerTime
    from qbhw.models.charger import ChargerParams

    record = run_experiment(
        Experiment("charger", ChargerParams(), default_device(), time=ChargerTime(0.3), shots=0)
    ).record()
    job = JobResult("charger", "time", (None,), (record,), 0)
    with pytest.raises(ParameterError) as err:
        report.plot_series(job, "work")
    assert err.value.parameter == "plot" and "--cycle-time" in err.value.allowed
    assert report.default_figure(job) == "ergotropy"


@pytest.mark.slow  # six noiseless runs, ~1.5 s each
def test_noiseless_runs_cover_the_circuit_work() -> None:
    """Six seeds through the whole pipeline on the noiseless device: the work interval misses the circuits' exact
    work in at most 2 of 6 (P(>= 3 misses | 0.05) = 0.2 %); noisy = circuit there."""
    device = noiseless(default_device())
    misses = 0
    for seed in range(6):
        exp = Experiment(
            "thermal-gradient",
            tg.ThermalGradientParams(),
            device,
            time=ThermalGradientTime(cycle_time=10.0),
            bootstrap=10,
            seed=seed,
        )
        cyc = run_experiment(exp).record().cycle
        assert cyc is not None and cyc.measured is not None
        assert cyc.noisy.work == pytest.approx(cyc.circuit.work, abs=1e-9)
        misses += not cyc.measured["work"].contains(cyc.circuit.work)
    assert misses <= 2


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.slow  # ~4 s: the Done-when command of issue 14
def test_cli_cycle_time_10_gives_the_three_way_table(capsys) -> None:
    status, out, err = _run(capsys, ["run", "thermal-gradient", "--cycle-time", "10", "--json", "--quiet"])
    assert status == 0 and err == ""
    d = json.loads(out)
    status, ideal_out, _ = _run(capsys, ["ideal", "thermal-gradient", "--cycle-time", "10", "--json"])
    ideal = json.loads(ideal_out)
    assert d["ideal"]["work"] == pytest.approx(ideal["work"], abs=1e-12)
    assert d["ideal"]["bath_heat"] == ideal["heat"] and d["ideal"]["bath_efficiency"] == ideal["efficiency"]
    assert d["ideal"]["power"] == pytest.approx(ideal["power"], abs=1e-12)
    m = d["measured"]
    assert m["work_ci"][0] <= m["work"] <= m["work_ci"][1]
    assert m["power"] == pytest.approx(m["work"] / 10.0) and m["power_ci"][1] == pytest.approx(m["work_ci"][1] / 10)
    status, text, _ = _run(capsys, ["run", "thermal-gradient", "--cycle-time", "10", "--quiet"])
    assert status == 0 and "work per cycle" in text and "efficiency" in text and "ergotropy before" in text


@pytest.mark.slow  # ~5 s: 61 cycles (1765 two-qubit gates) on the noiseless device
def test_unresolved_short_cycle_warns_on_stderr_and_in_the_json(capsys) -> None:
    argv = ["run", "thermal-gradient", "--cycle-time", "1", "--noiseless", "--shots", "0", "--json", "--quiet"]
    status, out, err = _run(capsys, argv)
    assert status == 0
    assert err.startswith("qbhw: warning: the work per cycle") and err.count("\n") == 1
    d = json.loads(out)
    assert any("not resolved" in w for w in d["cycle"]["warnings"]) and d["cycle"]["cycles"] == 61
    assert d["measured"] is None


@pytest.mark.slow  # ~8 s: a two-point sweep, then its resume
def test_cycle_time_sweep_writes_a_work_plot_and_resumes(tmp_path, capsys) -> None:
    out = tmp_path / "sweep"
    argv = ["run", "thermal-gradient", "--cycle-time", "10:20:10", "--shots", "1800", "--out", str(out), "--json"]
    status, first, _ = _run(capsys, argv)
    assert status == 0
    first_json = json.loads(first)
    assert first_json["sweep"] == {"parameter": "cycle_time", "values": [10.0, 20.0]}
    assert (out / "work.png").exists() and (out / "counts.json").exists()
    assert [p["cycle_time"] for p in first_json["points"]] == [10.0, 20.0]
    (out / "result.json").unlink()
    (out / "points" / "point_0001.json").unlink()
    status, again, err = _run(capsys, argv)
    assert status == 0 and "loaded from --out" in err
    assert json.loads(again)["points"] == first_json["points"]


# ------------------------------------------------------------------------------------------ micromaser loss

DEMO = ["--g-tau", "1.1107207345", "--p-excited", "0.5", "--coherence", "1", "--collisions", "10", "--cutoff", "8"]


@pytest.mark.slow  # ~5-10 s each: 760 two-qubit gates, 27 settings
@pytest.mark.parametrize("nth", [0.0, 0.05])
def test_micromaser_cavity_loss_run_uses_the_model_loss(capsys, nth: float) -> None:
    """``--cavity-loss 0.01 --collisions 10 --cutoff 8`` (at the demo's g_tau = pi/sqrt(8), whose trapping keeps the
    cavity within 8 levels): the ideal column is the lossy micromaser of QuTiP primitives (40 Fock levels, restricted
    to the register); the circuit's distance to it is reported and within its engineered loss's bound; the measured
    estimates of energy and purity lie within 3.5 standard deviations of the noisy prediction (fixed seed)."""
    argv = ["run", "micromaser", *DEMO, "--cavity-loss", "0.01", "--thermal-photons", str(nth), "--json", "--quiet"]
    status, out, err = _run(capsys, argv)
    assert status == 0 and err == ""
    d = json.loads(out)
    rho = oracle_circuits.micromaser_with_loss(1.1107207345, 0.5, 1.0, 10, 40, kappa_dt=0.01, nth=nth)[:8, :8]
    energy = float(np.real(np.trace(rho @ np.diag(np.arange(8.0)))))
    assert d["ideal"]["energy"] == pytest.approx(energy, abs=1e-9)
    details = d["circuit"]["details"]
    assert details["cavity_loss"] == 0.01 and details["thermal_photons"] == nth
    dist = details["trace_distance_exact_ideal"]
    assert dist <= details["loss_error_bound_total"] + details["max_population_above_register"] + 1e-12
    # energies differ by at most 2 D ||H|| (H = diag(0..7))
    assert abs(d["circuit"]["energy"] - d["ideal"]["energy"]) <= 2 * dist * 7 + 1e-12
    # the two parametrisations share the sampling seed and nearly the same state, so their draws are correlated:
    # one fixed-seed draw, checked within 3.5 of its standard deviations (a 5e-4 chance of a false alarm), not
    # against a 95 % interval (a 5 % chance per figure)
    for key in ("energy", "purity"):
        m = d["measured"]
        assert abs(m[key] - d["noisy"][key]) <= 3.5 * m[f"{key}_std"], (key, m[key], d["noisy"][key], m[f"{key}_std"])
    from qbhw import report

    note = report.circuit_note(PointRecord.from_dict(d))  # the table's footer
    assert f"trace distance {dist:.2g}" in note and "2 damping collisions per interval" in note
