"""qbhw.experiments: compilation onto the device's own qubits, the simulator seam (compaction, one noise model), the
tomography circuits a backend would run against the fast path, records, sweeps, resume and reproducibility.

Most tests use a small toy MappedCircuit (so they do not depend on any one model's mapping); the four models'
end-to-end runs are in tests/test_run.py.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import pickle
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qbhw.errors import ParameterError, QbhwError
from qbhw.experiments import (
    ChargerTime,
    Experiment,
    PointRecord,
    PointStore,
    check_isa,
    compile_for_device,
    compile_verified,
    execute,
    experiments_for,
    fingerprint,
    measurement_circuits,
    parse_range,
    run_experiment,
    run_points,
)
from qbhw.hardware import default_device, noiseless, restrict
from qbhw.mapping import MappedCircuit, qiskit_to_physics
from qbhw.models.charger import ChargerParams

#: exact computations (Aer density matrices vs the toy's own Aer reference) agree to rounding
EXACT = 1e-12


@pytest.fixture(scope="module")
def device():
    return default_device()


def _toy(delay_dt: int = 0) -> MappedCircuit:
    """Three qubits; the register (2, 0) (physics order) ends entangled and mixed: a reset on qubit 1 after a CX.
    ``delay_dt`` > 0 starts qubit 1 with an idle delay of that many dt (the state is unchanged without noise)."""
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator

    qc = QuantumCircuit(3)
    if delay_dt:
        qc.delay(delay_dt, 1, unit="dt")
    qc.ry(1.1, 1)
    qc.cx(1, 0)
    qc.reset(1)
    qc.ry(0.7, 2)
    qc.cx(2, 0)
    qc.rz(0.3, 2)
    ref = qc.copy()
    ref.save_density_matrix(qubits=[0, 2])  # little-endian over (0, 2) -> physics order (2, 0) after reversal
    rho = qiskit_to_physics(
        np.asarray(AerSimulator(method="density_matrix").run(ref).result().data()["density_matrix"]), 2
    )
    rho = rho.reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4)  # physics order (2, 0)
    h = np.diag([0.0, 1.0, 1.0, 2.0])
    return MappedCircuit("toy", qc, (2, 0), (0, 1), h, rho, rho)


@pytest.fixture(scope="module")
def toy_compiled(device):
    toy = _toy()
    return toy, compile_verified(toy, device)


def test_parse_range_is_inclusive_and_validated():
    assert parse_range("0:30:5", "collisions", integer=True) == (0, 5, 10, 15, 20, 25, 30)
    assert parse_range("0:1:0.1", "time", integer=False)[-1] == pytest.approx(1.0)  # 1e-9 slack keeps the end
    assert len(parse_range("0:1:0.1", "time", integer=False)) == 11
    assert parse_range("7", "collisions", integer=True) == (7,)
    for bad in ("5:0:1", "0:5:0", "0:5:-1", "a:b:c", "1:2", "0:inf:1"):
        with pytest.raises(ParameterError) as err:
            parse_range(bad, "collisions", integer=True)
        assert err.value.parameter == "collisions"


def test_compiled_circuit_lives_on_the_devices_own_qubits(device, toy_compiled):
    """The ISA circuit has the device's width, acts only on the chosen qubits (routing stays inside them), is ISA
    for the device, and its noiseless register state is the logical one (1e-12: numerics)."""
    toy, compiled = toy_compiled
    assert compiled.circuit.num_qubits == device.num_qubits == 133
    assert len(compiled.physical_qubits) == 3 and compiled.two_qubit_gates >= 2 and compiled.duration_ns > 0
    assert set(execute.active_qubits(compiled.circuit)) == set(compiled.physical_qubits)
    assert set(compiled.register) <= set(compiled.physical_qubits)
    check_isa(compiled.circuit, device)
    sim = execute.simulator(device, compiled.physical_qubits, noisy=False)
    assert np.abs(sim.register_state(compiled.circuit, compiled.register) - toy.exact_state).max() < EXACT
    assert compiled.check is not None and compiled.check < EXACT


def test_check_isa_rejects_what_the_device_cannot_run(device):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(device.num_qubits)
    qc.h(0)  # not a basis gate of the device
    with pytest.raises(QbhwError, match="not an ISA circuit"):
        check_isa(qc, device)
    qc = QuantumCircuit(device.num_qubits)
    qc.cz(0, 100)  # not an edge of the device
    with pytest.raises(QbhwError, match="cz on"):
        check_isa(qc, device)


def _gate_starts_dt(compiled, device) -> list[float]:
    """Start time (in dt) of every gate of a scheduled circuit, replaying it ASAP with its explicit delays."""
    dt = device.dt_ns
    assert dt is not None
    durations = {(g.name, g.qubits): g.duration_ns / dt for g in device.gates}
    free: dict[int, float] = {}
    starts = []
    for inst in compiled.circuit.data:
        qs = tuple(compiled.circuit.find_bit(b).index for b in inst.qubits)
        op = inst.operation
        d = float(op.params[0]) if op.name == "delay" else durations.get((op.name, qs), 0.0)
        start = max(free.get(q, 0.0) for q in qs)
        if op.name != "delay" and d > 0:
            starts.append(start)
        for q in qs:
            free[q] = start + d
    return starts


def test_timing_constraints_reach_the_schedule(device):
    """The calibration's timing constraints reach qiskit's scheduler: after an idle delay of 5 dt on a qubit, its
    first gate starts at 16 dt with a pulse alignment of 16 dt (qiskit's ConstrainedReschedule moves it to the next
    multiple; gate durations themselves are assumed aligned, as on real backends), and at 5 dt without one."""
    toy = _toy(delay_dt=5)
    free = _gate_starts_dt(compile_for_device(toy, device), device)
    aligned_device = dataclasses.replace(device, pulse_alignment=16, acquire_alignment=16)
    compiled = compile_for_device(toy, aligned_device)
    aligned = _gate_starts_dt(compiled, device)
    assert (device.pulse_alignment, free[0], aligned[0]) == (1, 5.0, 16.0)
    sim = execute.simulator(device, compiled.physical_qubits, noisy=False)
    assert np.abs(sim.register_state(compiled.circuit, compiled.register) - toy.exact_state).max() < EXACT


def test_noiseless_device_reproduces_the_exact_state(device, toy_compiled):
    """On qbhw.hardware.noiseless the noise model (gates, idle relaxation, reset) is the identity to ~1e-12."""
    toy, compiled = toy_compiled
    sim = execute.simulator(noiseless(device), compiled.physical_qubits, noisy=True)
    assert np.abs(sim.register_state(compiled.circuit, compiled.register) - toy.exact_state).max() < 1e-9


def test_noise_changes_the_state_by_the_expected_order(device, toy_compiled):
    """Under the device noise the state moves by ~ (number of gates x error) + readout-free relaxation: more than
    1e-4 and less than 0.1 for this 3-qubit circuit (a sanity window around the per-gate errors ~1e-3)."""
    toy, compiled = toy_compiled
    rho = execute.simulator(device, compiled.physical_qubits).register_state(compiled.circuit, compiled.register)
    assert 1e-4 < np.abs(rho - toy.exact_state).max() < 0.1
    assert np.trace(rho).real == pytest.approx(1.0, abs=EXACT)


def test_compaction_keeps_the_qubits_and_refuses_strangers(device, toy_compiled):
    _, compiled = toy_compiled
    qs = execute.active_qubits(compiled.circuit)
    small = execute.compact(compiled.circuit, qs)
    assert small.num_qubits == 3 and small.size() == compiled.circuit.size()
    with pytest.raises(QbhwError, match="outside the simulated qubits"):
        execute.compact(compiled.circuit, qs[:2])


def test_too_large_circuit_for_the_device_is_a_parameter_error(device):
    small = restrict(device, [0, 1])
    with pytest.raises(ParameterError) as err:
        compile_for_device(_toy(), small)
    assert err.value.parameter == "device"


def _chi2_homogeneity(a: list[dict[str, int]], b: list[dict[str, int]]) -> tuple[float, int]:
    """Pearson's chi-square statistic of two samples per setting (2 x outcomes tables), summed, and its degrees of
    freedom (outcomes seen - 1 per setting)."""
    stat, dof = 0.0, 0
    for ca, cb in zip(a, b, strict=True):
        keys = sorted(set(ca) | set(cb))
        table = np.array([[ca.get(k, 0) for k in keys], [cb.get(k, 0) for k in keys]], dtype=float)
        expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
        stat += float(((table - expected) ** 2 / expected).sum())
        dof += len(keys) - 1
    return stat, dof


def test_isa_tomography_circuits_equal_the_fast_path_in_distribution(device, toy_compiled):
    """The circuits a backend would run (the ISA circuit + basis change in the device's gates + measurement) and
    the fast path (the settings sampled from the predicted noisy state) give the same counts distribution:
    chi-square homogeneity over the 9 settings at fixed seeds below its 0.999 quantile. The same test rejects the
    fast path fed the register in the wrong order (power check: the statistic far above the quantile)."""
    from scipy.stats import chi2

    from qbhw.tomography import pauli_settings

    _, compiled = toy_compiled
    settings = pauli_settings(2)
    shots = [4000] * len(settings)
    circuits = measurement_circuits(compiled, settings)
    assert all(qc.num_qubits == device.num_qubits for qc in circuits)  # ISA: checked inside measurement_circuits
    sim = execute.simulator(device, execute.active_qubits(compiled.circuit))
    rho = sim.register_state(compiled.circuit, compiled.register)
    direct = sim.counts(circuits, shots, seed=11)
    fast = sim.sample_state(rho, compiled.register, settings, shots, seed=12)
    stat, dof = _chi2_homogeneity(direct, fast)
    assert stat < chi2.ppf(0.999, dof), (stat, dof)
    mixed = 0.8 * rho + 0.2 * np.eye(4) / 4  # 20 % closer to the maximally mixed state
    stat_bad, _ = _chi2_homogeneity(direct, sim.sample_state(mixed, compiled.register, settings, shots, seed=12))
    assert stat_bad > chi2.ppf(0.999, dof), stat_bad


def test_isa_tomography_circuits_equal_the_numpy_sampler_in_distribution(device, toy_compiled):
    """The ISA measurement circuits run on Aer with the device's noise and the pipeline's fast path
    (``sample_from_state``: numpy multinomial from the exact outcome probabilities with the device's basis-change
    gate noise and readout confusion) give the same counts distribution: chi-square homogeneity over the 9
    settings at fixed seeds below its 0.999 quantile; the same statistic rejects the register in the wrong order."""
    from scipy.stats import chi2

    from qbhw.experiments.pipeline import sample_from_state
    from qbhw.tomography import pauli_settings

    _, compiled = toy_compiled
    settings = pauli_settings(2)
    shots = [4000] * len(settings)
    sim = execute.simulator(device, execute.active_qubits(compiled.circuit))
    rho = sim.register_state(compiled.circuit, compiled.register)
    direct = sim.counts(measurement_circuits(compiled, settings), shots, seed=11)
    fast = sample_from_state(device, compiled.register, rho, settings, shots, 12)
    stat, dof = _chi2_homogeneity(direct, fast)
    assert stat < chi2.ppf(0.999, dof), (stat, dof)
    swapped_rho = rho.reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4)
    assert not np.allclose(swapped_rho, rho, atol=0.05)  # the toy state is not symmetric: the check has power
    stat_bad, _ = _chi2_homogeneity(
        direct, sample_from_state(device, compiled.register, swapped_rho, settings, shots, 12)
    )
    assert stat_bad > chi2.ppf(0.999, dof), stat_bad


def test_fast_path_samples_the_register_state_in_physics_order(device):
    """Noiseless device: the counts of ``sample_state`` follow qbhw.tomography.outcome_probabilities of the state
    (an independent formula), chi-square goodness of fit below its 0.999 quantile, for an entangled mixed state
    of two qubits placed in reversed physical order among three simulated qubits."""
    from scipy.stats import chi2

    from qbhw.tomography import outcome_probabilities, pauli_settings

    rng = np.random.default_rng(5)
    g = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho = g @ g.conj().T
    rho /= np.trace(rho)
    clean = noiseless(device)
    sim = execute.simulator(clean, (3, 4, 5), noisy=False)
    settings = pauli_settings(2)
    counts = sim.sample_state(rho, (5, 3), settings, [3000] * 9, seed=2)
    p = outcome_probabilities(rho, settings)
    stat, dof = 0.0, 0
    for c, row in zip(counts, p, strict=True):
        observed = np.array([c.get(format(m, "02b")[::-1], 0) for m in range(4)], dtype=float)
        expected = 3000 * row
        keep = expected > 0
        stat += float(((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum())
        dof += int(keep.sum()) - 1
    assert stat < chi2.ppf(0.999, dof), (stat, dof)


def test_isa_circuits_round_trip_through_qpy(toy_compiled):
    """What a backend receives is plain QPY (and OpenQASM 3): the compiled circuit and its tomography circuits load
    back equal.
    The idle relaxation (Aer channel instructions) exists only inside execute, never in these circuits."""
    from qiskit import qpy

    _, compiled = toy_compiled
    circuits = [compiled.circuit, *measurement_circuits(compiled, ("XZ", "ZY"))]
    names = {inst.operation.name for qc in circuits for inst in qc.data}
    assert names <= {"cz", "rz", "sx", "x", "id", "reset", "delay", "barrier", "measure"}, names
    buf = io.BytesIO()
    qpy.dump(circuits, buf)
    buf.seek(0)
    loaded = qpy.load(buf)
    assert [qc == orig for qc, orig in zip(loaded, circuits, strict=True)] == [True] * len(circuits)
    from qiskit import qasm3

    texts = [qasm3.dumps(qc) for qc in circuits]  # the readable copy exports too
    assert all("delay" in t and "kraus" not in t and "quantum_channel" not in t for t in texts)


def test_experiment_validates_its_fields(device):
    for field, value in (
        ("shots", -1),
        ("seed", -3),
        ("bootstrap", 1),
        ("estimator", "magic"),
        ("model", "x"),
        ("measurement", "guess"),
    ):
        kwargs = {"model": "charger", "params": ChargerParams(), "device": device, field: value}
        with pytest.raises(ParameterError) as err:
            Experiment(**kwargs)
        assert err.value.parameter == field
    with pytest.raises(TypeError, match="time must be ChargerTime"):
        Experiment("charger", ChargerParams(), device, time=0.3)
    assert Experiment("charger", ChargerParams(), device).time == ChargerTime(0.3)


def test_fingerprint_tracks_everything_that_changes_a_point(device):
    base = Experiment("charger", ChargerParams(), device, time=ChargerTime(0.3))
    assert fingerprint(base) == fingerprint(dataclasses.replace(base))
    for change in (
        {"seed": 1},
        {"shots": 999},
        {"time": ChargerTime(0.4)},
        {"params": ChargerParams(j2=0.1)},
        {"device": noiseless(device)},
        {"mitigate_readout": False},
        {"measurement": "circuits"},
    ):
        assert fingerprint(dataclasses.replace(base, **change)) != fingerprint(base)


@pytest.fixture(scope="module")
def charger_record(device) -> PointRecord:
    return run_experiment(Experiment("charger", ChargerParams(), device, shots=900, seed=4)).record()


def test_point_record_round_trips_through_json(charger_record):
    """to_dict -> JSON text -> from_dict gives an equal record (counts included), and the same JSON again."""
    text = json.dumps(charger_record.to_dict(counts=True))
    back = PointRecord.from_dict(json.loads(text))
    assert back == charger_record
    assert back.to_dict(counts=True) == json.loads(text)
    assert back.measured is not None and back.measured.ergotropy == charger_record.measured.ergotropy
    assert back.time == {"time": 0.3} and back.to_dict()["time"] == 0.3 and "options" in back.to_dict()
    assert sum(sum(c.counts.values()) for c in back.counts) == 900
    changed = dataclasses.replace(charger_record, seed=5)
    assert PointRecord.from_dict(changed.to_dict(counts=True)) != charger_record


def test_measured_record_keeps_keys_it_does_not_know(charger_record):
    """The tomography estimate's projection may grow: unknown keys survive a round trip unchanged."""
    data = charger_record.to_dict()
    data["measured"]["energy_estimator"] = "linear"
    data["measured"]["coverage_note"] = {"checked": [1, 2]}
    back = PointRecord.from_dict(data)
    assert back.measured is not None and back.measured.extra["energy_estimator"] == "linear"
    assert back.to_dict()["measured"] == data["measured"]


def test_records_and_errors_cross_process_boundaries(charger_record):
    assert pickle.loads(pickle.dumps(charger_record)) == charger_record
    err = pickle.loads(pickle.dumps(ParameterError("shots", ">= 9", 5)))
    assert (err.parameter, err.allowed, err.got) == ("shots", ">= 9", 5)


def _fake_record(template: PointRecord, exp: Experiment) -> PointRecord:
    return dataclasses.replace(template, seed=exp.seed)


def test_sweep_resumes_without_losing_or_repeating_points(tmp_path, device, monkeypatch, charger_record):
    """Points already stored are loaded, missing ones run once each, in any executor."""
    from qbhw.experiments import sweep

    calls: list[int] = []

    def fake(exp):
        calls.append(exp.seed)
        return _fake_record(charger_record, exp)

    monkeypatch.setattr(sweep, "run_point", fake)
    exps = [
        Experiment("charger", ChargerParams(), device, time=ChargerTime(t), seed=k)
        for k, t in enumerate((0.1, 0.2, 0.3, 0.4))
    ]
    store = PointStore(tmp_path)
    first = run_points(exps[:2], store=store)  # an "interrupted" sweep: two points done
    assert calls == [0, 1] and [p.seed for p in first] == [0, 1]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = run_points(exps, store=store, executor=pool)
    assert sorted(calls) == [0, 1, 2, 3]  # 0 and 1 were not repeated
    assert [p.seed for p in done] == [0, 1, 2, 3]  # input order
    # a stored point of another experiment is refused, not reused
    with pytest.raises(QbhwError, match="different experiment"):
        run_points([dataclasses.replace(exps[0], shots=7)], store=store)
    assert json.loads(store.path(3).read_text())["point"]["seed"] == 3


def test_every_compilation_is_verified_against_the_exact_channel(device):
    """The noiseless transpiled circuit reproduces the mapping's exact state to TRANSPILE_CHECK_TOL. This circuit
    (mid-circuit resets next to 3-qubit unitaries) is one that qiskit 1.3.0 transpiles wrongly (max deviation 0.45,
    or a malformed 2-qubit reset): there the two-stage route takes over; on qiskit 2.x the direct route passes."""
    import qiskit

    from qbhw.experiments import TRANSPILE_CHECK_TOL
    from qbhw.mapping import collective_circuit
    from qbhw.models.collective import CollectiveParams

    mapped = collective_circuit(CollectiveParams(2, 2.0), time=0.5)
    compiled = compile_verified(mapped, device)
    assert compiled.check is not None and compiled.check <= TRANSPILE_CHECK_TOL
    assert compiled.route == ("two-stage" if qiskit.__version__.startswith("1.3.") else "direct")
    sim = execute.simulator(device, execute.active_qubits(compiled.circuit), noisy=False)
    rho = sim.register_state(compiled.circuit, compiled.register)
    assert np.abs(rho - mapped.exact_state).max() <= TRANSPILE_CHECK_TOL
    assert not math.isnan(compiled.duration_ns)


# ------------------------------------------------------------------------------------------- the catalogue


def test_catalogue_covers_every_field_once_with_help_and_a_flag_type():
    """Every field of a model's params, time and options dataclasses is one flag with help text; names are unique
    per model; the sweep field is a params or time field of an int or float kind."""
    from qbhw.experiments import MODELS

    assert set(MODELS) == {"charger", "thermal-gradient", "collective", "micromaser"}
    for spec in MODELS.values():
        fields = spec.fields(run=True)
        names = [f.name for f in fields]
        assert len(names) == len(set(names)), spec.name
        for cls in (spec.params, spec.time, spec.options):
            if cls is not None:
                assert {f.name for f in dataclasses.fields(cls) if f.init} <= set(names), cls
        assert all(f.help and f.kind in (int, float, str) and f.flag.startswith("--") for f in fields)
        sweep = next(f for f in fields if f.name == spec.sweep_field)
        assert sweep.owner in ("params", "time") and sweep.kind in (int, float)
        assert {f.name for f in spec.fields(run=False)} == {f.name for f in fields if f.owner != "options"}


def test_catalogue_builds_typed_inputs_from_flag_values():
    from qbhw.experiments import (
        CollectiveOptions,
        CollectiveTime,
        MicromaserOptions,
        ThermalGradientTime,
        model_spec,
    )
    from qbhw.models.collective import CollectiveParams

    spec = model_spec("collective")
    params, time, options = spec.inputs({"n": 2, "temperature": 1.5, "time": 0.5, "collisions": 3, "theta": None})
    assert params == CollectiveParams(2, 1.5) and time == CollectiveTime(0.5)
    assert options == CollectiveOptions(collisions=3)
    assert spec.with_value(params, time, 0.7) == (params, CollectiveTime(0.7))
    mm = model_spec("micromaser")
    p, t, o = mm.inputs({"collisions": 4})
    assert (p.collisions, t, o) == (4, None, MicromaserOptions()) and mm.with_value(p, t, 6)[0].collisions == 6
    assert o.noise is None and mm.inputs({"noise": "pulse"})[2] == MicromaserOptions(noise="pulse")
    with pytest.raises(ParameterError) as err:
        ThermalGradientTime(time=1.0, cycle_time=2.0)
    assert err.value.parameter == "time" and "--cycle-time" in err.value.allowed
    with pytest.raises(ParameterError) as err:
        model_spec("nope")
    assert err.value.parameter == "model"


def test_run_job_sweeps_the_models_sweep_field_with_spawned_seeds(device, monkeypatch, charger_record):
    """Point k of a job draws from SeedSequence(seed).spawn(n)[k]: the job seed with spawn key (k,), so that the
    points of one job and those of jobs with neighbouring seeds share no stream (seed + k made the sweeps of seeds
    0 and 1 share all but one point seed)."""
    from qbhw.experiments import run_job, sweep

    seen: list[Experiment] = []

    def fake(exp):
        seen.append(exp)
        return dataclasses.replace(charger_record, seed=exp.seed, time={"time": exp.time.time})

    monkeypatch.setattr(sweep, "run_point", fake)
    job = run_job("charger", ChargerParams(j2=0.1), device=device, sweep=(0.0, 0.25), seed=7, shots=90)
    assert [e.time for e in seen] == [ChargerTime(0.0), ChargerTime(0.25)]
    assert [e.seed for e in seen] == [7, 7] and [e.spawn_key for e in seen] == [(0,), (1,)]
    assert all(e.params.j2 == 0.1 and e.shots == 90 for e in seen)
    assert job.is_sweep and job.xs() == (0.0, 0.25) and job.values == (0.0, 0.25)
    children = np.random.SeedSequence(7).spawn(2)
    for exp, child in zip(seen, children, strict=True):
        assert exp.seeds() == tuple(int(x) for x in child.generate_state(2))
    # every point stream of the sweeps with seeds 0 and 1 differs (the old seed + k shared 5 of 6)
    streams = set()
    for seed in (0, 1):
        for exp in experiments_for(
            "charger", ChargerParams(), device=device, sweep=[0.1 * k for k in range(6)], seed=seed
        ):
            streams.add(exp.seeds())
    assert len(streams) == 12


def test_simulating_never_modifies_the_callers_circuit_even_on_a_device_of_the_circuits_width(device):
    """A device exactly as wide as the circuit: the simulator still maps physical qubit q to its own order (the
    chosen qubits need not be sorted), the noiseless state is the exact one, and simulating twice leaves the
    compiled circuit unchanged (no save instruction appended to it)."""
    small = restrict(device, (28, 36, 29))  # Torino's best three, relabelled so that they are chosen as (1, 2, 0)
    toy = _toy()
    compiled = compile_verified(toy, small)
    assert compiled.physical_qubits == (1, 2, 0) and compiled.circuit.num_qubits == 3
    assert compiled.check is not None and compiled.check < EXACT
    size = compiled.circuit.size()
    sim = execute.simulator(small, compiled.physical_qubits, noisy=True)
    first = sim.register_state(compiled.circuit, compiled.register)
    second = sim.register_state(compiled.circuit, compiled.register)
    assert compiled.circuit.size() == size and np.array_equal(first, second)
    assert "save_density_matrix" not in {inst.operation.name for inst in compiled.circuit.data}


def test_a_stage_can_be_replaced_without_forking_the_pipeline(device):
    """A pulse engine replaces predict, a real backend replaces measure: here a predictor that returns the mapping's
    exact state as the "noisy" one (a perfect device) and a measurer that returns fixed counts of |0> on every
    setting. The record then carries their results, and the default Aer stages are not needed."""
    from qbhw.experiments import Measurement, Prediction, figures, measurement_plan

    def perfect(mapped, compiled):
        exact = figures(mapped, mapped.exact_state)
        return Prediction(figures(mapped, mapped.ideal_state), exact, exact, mapped.exact_state, engine="perfect")

    def zeros(exp, mapped, compiled, prediction):
        estimator, settings, shots = measurement_plan(exp, mapped)
        counts = tuple({"0" * len(s): n} for s, n in zip(settings, shots, strict=True))
        return Measurement(estimator, settings, shots, counts, seed=0, method="fixed")

    exp = Experiment("charger", ChargerParams(), device, time=ChargerTime(0.0), shots=900, bootstrap=20)
    r = run_experiment(exp, predictor=perfect, measurer=zeros)
    assert r.prediction.engine == "perfect" and r.noisy == r.exact
    assert r.measurement is not None and r.measurement.method == "fixed"
    record = r.record()
    assert all(dict(c.counts) == {"00": 100} for c in record.counts)
    assert record.noisy.fidelity == pytest.approx(1.0, abs=EXACT)


# ------------------------------------------------------------------------------------- resume, environment


def test_a_point_of_another_environment_or_calibration_is_recomputed_never_mixed(
    tmp_path, device, monkeypatch, charger_record
):
    """The fingerprint covers the qiskit, qiskit-aer and qbhw versions and the calibration's content hash: a point
    stored by another environment, or with an edited calibration of the same name, is recomputed (and the file
    rewritten with the new fingerprint); a point of another experiment is still an error."""
    from qbhw.experiments import sweep

    calls: list[tuple[int, ...]] = []

    def fake(exp):
        calls.append(exp.spawn_key)
        return dataclasses.replace(charger_record, spawn_key=exp.spawn_key)

    monkeypatch.setattr(sweep, "run_point", fake)
    exps = experiments_for("charger", ChargerParams(), device=device, sweep=(0.1, 0.2), shots=90)
    store = PointStore(tmp_path)
    run_points(exps, store=store)
    assert calls == [(0,), (1,)]
    run_points(exps, store=store)  # same environment: loaded, not rerun
    assert calls == [(0,), (1,)]
    stored = json.loads(store.path(0).read_text())
    assert stored["environment"] == sweep.environment() and set(stored["environment"]) == {
        "qiskit",
        "qiskit_aer",
        "qbhw",
    }
    other = {**sweep.environment(), "qiskit": "1.3.0-elsewhere"}
    monkeypatch.setattr(sweep, "environment", lambda: other)
    run_points(exps, store=store)  # another qiskit: both points recomputed
    assert calls == [(0,), (1,)] * 2
    assert json.loads(store.path(0).read_text())["environment"]["qiskit"] == "1.3.0-elsewhere"
    # an edited calibration under the same name: another content hash, recomputed again
    edited = dataclasses.replace(device, date="2099-01-01")
    assert edited.name == device.name
    run_points([dataclasses.replace(e, device=edited) for e in exps], store=store)
    assert calls == [(0,), (1,)] * 3
    with pytest.raises(QbhwError, match="different experiment"):
        run_points([dataclasses.replace(exps[0], shots=91)], store=store)


def test_fingerprint_changes_with_the_software_versions(device, monkeypatch):
    from qbhw.experiments import sweep

    exp = Experiment("charger", ChargerParams(), device)
    before = fingerprint(exp)
    for key in ("qiskit", "qiskit_aer", "qbhw"):
        env = {**sweep.environment(), key: "0.0.0"}
        monkeypatch.setattr(sweep, "environment", lambda env=env: env)
        assert fingerprint(exp) != before
    assert fingerprint(dataclasses.replace(exp, spawn_key=(1,))) != fingerprint(exp)


# ------------------------------------------------------------------------------------------- records, JSON


def test_records_carry_seeds_calibration_and_versions(charger_record, device):
    from qbhw.hardware import calibration_hash

    data = charger_record.to_dict()
    assert data["calibration"] == {
        "name": device.name,
        "date": device.date,
        "source": device.source,
        "content_hash": calibration_hash(device),
    }
    assert data["spawn_key"] == [] and data["seed"] == 4
    exp = Experiment("charger", ChargerParams(), device, shots=900, seed=4)
    assert data["sampling_seed"] == exp.seeds()[0] and data["measured"]["bootstrap_seed"] == exp.seeds()[1]
    assert PointRecord.from_dict(charger_record.to_dict(counts=True)) == charger_record


def test_the_micromaser_capacity_is_named_truncated_capacity_in_its_json(charger_record):
    """ModelSpec.figure_names: the micromaser's capacity is the capacity within the truncated Fock space (it
    measures the cutoff), named so in ideal, circuit, noisy and measured; the record reads it back."""
    from qbhw.experiments.records import FrozenMapping

    mm = dataclasses.replace(charger_record, model="micromaser", parameters=FrozenMapping({"collisions": 30}), time={})
    data = mm.to_dict()
    for part in ("ideal", "circuit", "noisy"):
        assert "truncated_capacity" in data[part] and "capacity" not in data[part]
    assert {"truncated_capacity", "truncated_capacity_ci", "truncated_capacity_std"} <= set(data["measured"])
    assert "capacity_ci" not in data["measured"]
    assert PointRecord.from_dict(mm.to_dict(counts=True)) == mm
    assert data["measured"]["truncated_capacity_ci"] == list(charger_record.measured["capacity"].ci)


# --------------------------------------------------------------------------------------------------- plot


def test_the_plot_draws_exactly_the_json_intervals_at_the_points_real_x(charger_record):
    """The measured bar of every point runs from the JSON interval's low to its high end, with the point on it; a
    single micromaser run with K = 30 is drawn at x = 30 (not at 0); a steady state without x gets one labelled
    position. Every figure of --plot can be drawn."""
    from matplotlib.collections import LineCollection

    from qbhw.experiments import JobResult
    from qbhw.experiments.records import FrozenMapping
    from qbhw.report import PLOT_FIGURES, draw, plot, plot_series

    mm = dataclasses.replace(charger_record, model="micromaser", parameters=FrozenMapping({"collisions": 30}), time={})
    job = JobResult("micromaser", "collisions", (None,), (mm,), 0)
    for figure in PLOT_FIGURES:
        key = "truncated_capacity" if figure == "capacity" else figure
        data = mm.to_dict()["measured"]
        series = plot_series(job, figure)
        assert series.xs == (30.0,)
        assert (series.low[0], series.high[0]) == tuple(data[f"{key}_ci"]) and series.measured[0] == data[key]
        fig = draw(job, figure)
        ax = fig.axes[0]
        bars = [c for c in ax.collections if isinstance(c, LineCollection)]
        assert len(bars) == 1
        (segment,) = bars[0].get_segments()
        assert segment.tolist() == [[30.0, data[f"{key}_ci"][0]], [30.0, data[f"{key}_ci"][1]]]
        lo, hi = ax.get_xlim()
        assert lo < 30.0 < hi and lo > 0.0
    assert plot(job, "purity")[:8] == b"\x89PNG\r\n\x1a\n"
    ness = dataclasses.replace(charger_record, model="thermal-gradient", time=FrozenMapping({}))
    steady = JobResult("thermal-gradient", "time", (None,), (ness,), 0)
    assert plot_series(steady).xs == (None,)
    labels = [t.get_text() for t in draw(steady).axes[0].get_xticklabels()]
    assert labels == ["steady state"]


# ----------------------------------------------------------------------------------------------- progress


def test_stage_progress_goes_to_the_stream_one_line_per_stage(charger_record, device):
    """run_experiment reports map, compile, verify, simulate, sample and fit + bootstrap as they end, each with its
    time; off a terminal the printer writes one line per stage (never to stdout: the stream is stderr)."""
    from qbhw.report import stage_printer

    stream = io.StringIO()
    exp = Experiment("charger", ChargerParams(), device, shots=90, bootstrap=4)
    run_experiment(exp, progress=stage_printer(1, stream)(0))
    lines = stream.getvalue().splitlines()
    stages = [line.split()[1] for line in lines]
    assert stages == ["map", "compile", "verify", "simulate", "sample", "fit"]
    assert all(re.match(r"^qbhw: \S+( \+ bootstrap)? \d+\.\d\d s", line) for line in lines), lines
    several = io.StringIO()
    stage_printer(6, several)(2)("sample", 0.5, "27 settings")
    assert several.getvalue().startswith("qbhw: point 3/6 sample 0.50 s (27 settings)")


def test_layouts_report_the_spread_over_the_best_qubit_sets(device):
    """--layouts K: the noisy prediction on the K best qubit sets (hardware.ranked_qubit_sets, distinct sets, the
    first being the point's own compilation), with min, max and std per figure."""
    from qbhw.experiments.records import LayoutSpread
    from qbhw.hardware import ranked_qubit_sets, select_qubits

    sets = ranked_qubit_sets(device, 2, 3)
    assert sets[0] == select_qubits(device, 2) and len({frozenset(s) for s in sets}) == 3
    r = run_experiment(Experiment("charger", ChargerParams(), device, shots=0, layouts=3))
    spread = r.layouts
    assert isinstance(spread, LayoutSpread) and len(spread.noisy) == 3
    assert spread.physical_qubits[0] == r.compiled.physical_qubits and spread.noisy[0] == r.noisy
    assert [set(q) for q in spread.physical_qubits] == [set(q) for q in sets]
    w = [f.energy for f in spread.noisy]
    sp = spread.spread("energy")
    assert sp["min"] == min(w) and sp["max"] == max(w) and sp["std"] == pytest.approx(float(np.std(w)), abs=1e-15)
    data = r.record().to_dict()
    assert data["noisy_layouts"]["count"] == 3 and data["noisy_layouts"]["spread"]["energy"] == sp
    assert PointRecord.from_dict(data) == r.record()
