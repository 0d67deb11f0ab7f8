"""The limit cycle of an engine model as an experiment (docs/design.md section 2.2; docs/physics.md section 1).

An engine model with ``time.cycle_time`` runs as ``run_cycle``: the model's ``EngineCycle`` gives two
circuits, the register just before and just after the last extraction of k cycles; both are compiled onto the
same physical qubits, predicted with one noise model and measured independently (stage experiments with the
point's spawn key extended by 0 and 1). Work, power, heat and efficiency (``records.CYCLE_DEFINITIONS``) come from
the two states in every column; measured ones from linear estimates with their exact multinomial variances
(``cycle_estimates``).

The stages are those of ``qbhw.experiments.pipeline``, run once per circuit.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np

from qbhw.errors import QbhwError
from qbhw.experiments import execute
from qbhw.experiments.catalog import EngineCycle
from qbhw.experiments.compile import Compiled
from qbhw.experiments.pipeline import (
    CONFIDENCE,
    TRANSPILE_CHECK_TOL,
    Experiment,
    ExperimentResult,
    Measurement,
    Measurer,
    Prediction,
    Predictor,
    Progress,
    _Clock,
    _compilation_report,
    _measured_record,
    _noted,
    compile_verified,
    estimate,
    measure,
    predict,
)
from qbhw.experiments.records import (
    CycleFigures,
    CycleRecord,
    FrozenMapping,
    MeasuredCycle,
    MeasuredFigure,
    SettingCounts,
    StageRecord,
    freeze,
)
from qbhw.mapping import MappedCircuit


@dataclass(frozen=True, eq=False)
class StageResult:
    """One circuit of a limit-cycle point: its experiment (the point's, with the spawn key extended by the stage's
    index: 0 before, 1 after the last extraction) and the outputs of its stages."""

    experiment: Experiment
    mapped: MappedCircuit
    compiled: Compiled
    prediction: Prediction
    measurement: Measurement | None
    measured: Any  # qbhw.tomography.BatteryEstimate, or None when shots = 0


@dataclass(frozen=True, eq=False)
class CycleRun:
    """An engine's limit cycle run as two circuits (``run_cycle``): the model's ``EngineCycle``, the before and
    after stages, and the engine quantities (``records.CYCLE_DEFINITIONS``) of the ideal model, the noiseless
    circuits, the noisy prediction, and measured (None without a measurement)."""

    engine: EngineCycle
    before: StageResult
    after: StageResult
    ideal: CycleFigures
    circuit: CycleFigures
    noisy: CycleFigures
    measured: MeasuredCycle | None

    def record(self) -> CycleRecord:
        after = self.after
        return CycleRecord(
            cycles=self.engine.cycles,
            ideal=self.ideal,
            circuit=self.circuit,
            noisy=self.noisy,
            measured=self.measured,
            bath_heat=self.engine.bath_heat,
            bath_efficiency=self.engine.bath_efficiency,
            after=StageRecord(
                ideal=after.prediction.ideal,
                circuit=after.prediction.exact,
                noisy=after.prediction.noisy,
                compilation=_compilation_report(after.mapped, after.compiled),
                measured=_measured_record(after.mapped, after.measured),
                shots=after.experiment.shots if after.measured is None else int(after.measured.shots),
                sampling_seed=after.experiment.seeds()[0],
                spawn_key=after.experiment.spawn_key,
                counts=()
                if after.measurement is None
                else tuple(
                    SettingCounts(s, freeze(c))
                    for s, c in zip(after.measurement.settings, after.measurement.counts, strict=True)
                ),
            ),
            extraction_two_qubit_gates=self.after.compiled.two_qubit_gates - self.before.compiled.two_qubit_gates,
            warnings=self.engine.warnings,
        )


def cycle_figures(engine: EngineCycle, before: np.ndarray, after: np.ndarray) -> CycleFigures:
    """Work per cycle Tr[(rho_b - rho_a) H], power = work / tau, heat Tr[(rho_b - rho_a) O_heat] and efficiency =
    work / heat (NaN when the heat vanishes) of the register states before and after the last extraction."""
    diff = np.asarray(before) - np.asarray(after)
    work = float(np.real(np.trace(diff @ engine.before.hamiltonian)))
    heat = float(np.real(np.trace(diff @ engine.heat_operator)))
    scale = float(np.abs(np.linalg.eigvalsh(engine.heat_operator)).max())
    efficiency = work / heat if abs(heat) > 1e-15 * max(scale, 1e-300) else math.nan
    return CycleFigures(work, work / engine.cycle_time, heat, efficiency)


def fieller_interval(
    work: float, heat: float, var_work: float, var_heat: float, cov: float, z: float
) -> tuple[float, float]:
    """Fieller's interval for the ratio work/heat of two jointly normal estimates: the etas with
    (work - eta heat)^2 <= z^2 Var(work - eta heat); (NaN, NaN) when it is not bounded (heat^2 <= z^2 var_heat: the
    heat is not resolved from 0 at this level). Contains work/heat whenever bounded."""
    a = heat * heat - z * z * var_heat
    if not a > 0.0:
        return math.nan, math.nan
    b = work * heat - z * z * cov
    c = work * work - z * z * var_work
    disc = max(b * b - a * c, 0.0)
    root = math.sqrt(disc)
    return (b - root) / a, (b + root) / a


def _tomography_input(exp: Experiment, compiled: Compiled, measurement: Measurement) -> tuple[Any, Any]:
    """(TomographyData, ReadoutModel or None) of a measurement, as ``estimate`` builds them."""
    from qbhw import tomography

    data = tomography.TomographyData.from_counts(measurement.settings, measurement.counts, seed=measurement.seed)
    readout = (
        tomography.ReadoutModel.from_calibration(compiled.device, compiled.register) if exp.mitigate_readout else None
    )
    return data, readout


def measured_cycle(engine: EngineCycle, before: StageResult, after: StageResult) -> MeasuredCycle | None:
    """``cycle_estimates`` from the two stages' counts and readout models (as ``estimate`` uses them); None without
    measurements."""
    if before.measurement is None or after.measurement is None:
        return None
    data_b, readout_b = _tomography_input(before.experiment, before.compiled, before.measurement)
    data_a, readout_a = _tomography_input(after.experiment, after.compiled, after.measurement)
    return cycle_estimates(engine, data_b, data_a, readout_before=readout_b, readout_after=readout_a)


def cycle_estimates(
    engine: EngineCycle,
    before: Any,
    after: Any,
    *,
    readout_before: Any = None,
    readout_after: Any = None,
    confidence: float = CONFIDENCE,
) -> MeasuredCycle:
    """The measured engine quantities (``records.CYCLE_DEFINITIONS``) from the tomography data (``TomographyData``)
    of the register before and after the last extraction: linear-inversion estimates of Tr[rho H] and
    Tr[rho O_heat] with their exact multinomial covariance (``qbhw.tomography.linear_functionals``, each with its
    readout model). The two data sets are independent, so the covariances of the differences add. Work, power
    and heat: value -/+ z sigma, z = Phi^-1((1 + confidence) / 2); efficiency: ``fieller_interval``."""
    from qbhw import tomography

    ops = [engine.before.hamiltonian, engine.heat_operator]
    est_b = tomography.linear_functionals(before, ops, readout=readout_before)
    est_a = tomography.linear_functionals(after, ops, readout=readout_after)
    values = est_b.values - est_a.values
    cov = est_b.covariance + est_a.covariance
    work, heat = float(values[0]), float(values[1])
    sd_w, sd_q = math.sqrt(max(cov[0, 0], 0.0)), math.sqrt(max(cov[1, 1], 0.0))
    z = statistics.NormalDist().inv_cdf(0.5 * (1.0 + confidence))
    tau = engine.cycle_time
    efficiency = work / heat if heat != 0.0 else math.nan
    figures = {  # work, power and heat are unbiased (linear); the std of the efficiency is not defined
        "work": MeasuredFigure(work, (work - z * sd_w, work + z * sd_w), sd_w),
        "power": MeasuredFigure(work / tau, ((work - z * sd_w) / tau, (work + z * sd_w) / tau), sd_w / tau),
        "heat": MeasuredFigure(heat, (heat - z * sd_q, heat + z * sd_q), sd_q),
        "efficiency": MeasuredFigure(
            efficiency, fieller_interval(work, heat, float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1]), z)
        ),
    }
    return MeasuredCycle(FrozenMapping(figures))


def compile_after(engine: EngineCycle, before: Compiled, *, progress: Progress | None = None) -> Compiled:
    """The "after" circuit of a limit cycle as the device runs it: the compiled "before" circuit, unchanged, followed
    by the extraction unitary compiled onto the register's physical qubits (routing, if needed, only through the
    "before" circuit's qubits), so that the two circuits differ by the extraction alone. The extraction is compiled
    and verified on its own (``compile_verified`` of a circuit that applies it to |0...0>), and the whole is
    verified against the mapping's exact "after" state (``execute.verify``, ``TRANSPILE_CHECK_TOL``)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate

    mapped = engine.after
    n = mapped.num_qubits
    register = list(mapped.register)
    qc = QuantumCircuit(n, name=f"{mapped.circuit.name}_extraction")
    qc.append(UnitaryGate(engine.extraction_unitary, label="U*"), register[::-1])  # first qarg: least significant
    u = np.asarray(engine.extraction_unitary)
    start = np.zeros((2 ** len(register),) * 2, dtype=complex)
    start[0, 0] = 1.0
    end = u @ start @ u.conj().T
    extraction = dataclasses.replace(
        mapped, circuit=qc, ideal_state=end, exact_state=end, description="the extraction alone", steps=()
    )
    others = [q for q in before.physical_qubits if q not in before.register]
    layout = [0] * n
    for k, v in enumerate(register):
        layout[v] = before.register[k]
    for v, q in zip([v for v in range(n) if v not in register], others, strict=True):
        layout[v] = q
    part = compile_verified(
        extraction, before.device, qubits=before.physical_qubits, initial_layout=layout, progress=progress
    )
    clock = _Clock(progress)
    circuit = before.circuit.compose(part.circuit)
    compiled = Compiled(
        circuit=circuit,
        device=before.device,
        physical_qubits=before.physical_qubits,
        initial_layout=before.initial_layout,
        register=part.register,
        depth=int(circuit.depth()),
        two_qubit_gates=before.two_qubit_gates + part.two_qubit_gates,
        duration_ns=before.duration_ns + part.duration_ns,
        seed_transpiler=before.seed_transpiler,
        route=before.route,
    )
    check = execute.verify(compiled.circuit, before.device, compiled.register, mapped.exact_state)
    clock.done("verify", f"before + extraction, max deviation {check:.1e}")
    if not check <= TRANSPILE_CHECK_TOL:
        raise QbhwError(
            f"the compiled extraction appended to the compiled {mapped.model} circuit changed its channel (max "
            f"deviation {check:.2e} > {TRANSPILE_CHECK_TOL:g}); this is a transpiler bug — try another qiskit version"
        )
    return dataclasses.replace(compiled, check=check)


def run_cycle(
    exp: Experiment,
    *,
    predictor: Predictor | None = None,
    measurer: Measurer | None = None,
    progress: Progress | None = None,
) -> ExperimentResult:
    """An engine's limit cycle (``ModelSpec.cycle``) as two circuits, the register just before and just after the
    last extraction: the "after" circuit is the compiled "before" circuit followed by the compiled extraction
    (``compile_after``), so that they are one experiment and differ by the extraction alone; both verified,
    predicted (one noise model) and measured
    independently (stage experiments with the point's spawn key extended by 0 and 1: independent sampling and
    bootstrap streams); then the engine quantities of every column (``cycle_figures``, ``measured_cycle``). The
    ExperimentResult's stage fields are the "before" circuit's; ``cycle`` holds the rest. ``predictor``,
    ``measurer`` and ``progress`` as for ``run_experiment``."""
    if exp.spec.cycle is None:
        raise TypeError(f"{exp.model} has no engine cycle")
    clock = _Clock(progress)
    engine = exp.spec.cycle(exp.params, exp.time, exp.options)
    clock.done(
        "map",
        f"{engine.cycles} engine cycle(s) of tau = {engine.cycle_time:g}; two circuits of "
        f"{engine.before.num_qubits} qubits",
    )
    compiled_before = compile_verified(engine.before, exp.device, progress=_noted(progress, "before"))
    compiled_after = compile_after(engine, compiled_before, progress=_noted(progress, "after: the extraction"))
    clock = _Clock(progress)
    sim: execute.Simulator | None = None

    def aer() -> execute.Simulator:  # one noise model for both circuits (the same physical qubits)
        nonlocal sim
        if sim is None:
            sim = execute.simulator(exp.device, compiled_before.physical_qubits, noisy=True)
        return sim

    stages = []
    for index, (mapped, compiled) in enumerate(((engine.before, compiled_before), (engine.after, compiled_after))):
        stage_exp = dataclasses.replace(exp, spawn_key=(*exp.spawn_key, index))
        note = ("before", "after")[index]
        prediction = predictor(mapped, compiled) if predictor is not None else predict(mapped, compiled, aer())
        clock.done("simulate", f"{note}: noisy prediction ({prediction.engine})")
        if measurer is not None:
            measurement = measurer(stage_exp, mapped, compiled, prediction)
        else:
            measurement = measure(stage_exp, mapped, compiled, prediction, aer())
        if measurement is not None:
            clock.done("sample", f"{note}: {len(measurement.settings)} settings, {sum(measurement.shots)} shots")
        estimated = estimate(stage_exp, mapped, compiled, measurement)
        if measurement is not None:
            clock.done("fit + bootstrap", f"{note}: {exp.bootstrap} bootstrap samples")
        stages.append(StageResult(stage_exp, mapped, compiled, prediction, measurement, estimated))
    before, after = stages
    run = CycleRun(
        engine=engine,
        before=before,
        after=after,
        ideal=cycle_figures(engine, engine.before.ideal_state, engine.after.ideal_state),
        circuit=cycle_figures(engine, engine.before.exact_state, engine.after.exact_state),
        noisy=cycle_figures(engine, before.prediction.noisy_state, after.prediction.noisy_state),
        measured=measured_cycle(engine, before, after),
    )
    return ExperimentResult(
        exp, before.mapped, before.compiled, before.prediction, before.measurement, before.measured, None, cycle=run
    )
