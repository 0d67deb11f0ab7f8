"""One experiment as stages with typed hand-overs (docs/design.md section 2):

    Experiment -> map -> MappedCircuit -> compile (+ verify) -> Compiled -> predict -> Prediction
               -> measure -> Measurement -> estimate -> BatteryEstimate -> PointRecord

* map       the model's circuit (``catalog``): logical circuit, register, battery Hamiltonian, ideal and exact states;
* compile   onto the device's own qubits (``compile.compile_for_device``, pure), then verified: the noiseless
            simulation of the ISA circuit must reproduce the mapping's exact state (``execute.verify``), else the
            "two-stage" route is tried, else the run stops;
* predict   ideal / exact / noisy figures; noisy = the exact density matrix of the ISA circuit under the device's
            noise (Aer, ``execute``). A pulse-level engine replaces this stage;
* measure   the tomography settings, their shots and counts: "state" (default) samples the settings from the
            predicted noisy state with the device's measurement noise (one short simulation per setting);
            "circuits" runs the ISA measurement circuits themselves (what a backend would run; the same
            distribution, one full simulation per setting). A real backend replaces this stage;
* estimate  the tomography fit with bootstrap intervals (``qbhw.tomography``).

All figures refer to the battery part of the register with the model's battery Hamiltonian; ``fidelity`` is
Uhlmann's (Tr sqrt(sqrt(rho) sigma sqrt(rho)))^2 of the register state to the ideal register state.

Randomness: the experiment seed is expanded by ``numpy.random.SeedSequence`` into the sampling seed and the
bootstrap seed, both recorded; the transpiler seed is ``compile.TRANSPILER_SEED``, recorded. Same inputs and seed ->
identical results.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError, QbhwError
from qbhw.experiments import execute
from qbhw.experiments.catalog import ModelSpec, model_spec
from qbhw.experiments.compile import (
    ROUTES,
    TRANSPILER_SEED,
    Compiled,
    compile_for_device,
    measurement_circuits,
)
from qbhw.experiments.records import (
    CircuitReport,
    Figures,
    MeasuredRecord,
    PointRecord,
    SettingCounts,
    freeze,
)
from qbhw.hardware import DeviceCalibration
from qbhw.mapping import MappedCircuit
from qbhw.physics import capacity, ergotropy, partial_trace, purity, stored_energy
from qbhw.physics.distance import fidelity

SHOTS_PER_SETTING = 8192  # default: shots = 8192 x the number of measurement settings
DEFAULT_BOOTSTRAP = 200
#: two-sided confidence level of every interval
CONFIDENCE = 0.95
FULL_TOMOGRAPHY_MAX_QUBITS = 6  # 729 Pauli settings; beyond, only the Dicke estimator (collective) is available
ESTIMATORS = ("auto", "full-pauli", "dicke-z")
#: how ``measure`` obtains counts (module docstring)
MEASUREMENTS = ("state", "circuits")
#: largest |entry| difference allowed between the noiseless ISA circuit's register state and the mapping's exact
#: state. Both are exact computations (Aer's density matrix, the mapping's channel), agreeing to ~1e-12 when the
#: transpilation is right; a wrong one is off by O(0.1) (qiskit 1.3.0: 0.45). 1e-6 separates them with margin for
#: the rounding of circuits with thousands of gates.
TRANSPILE_CHECK_TOL = 1e-6


@dataclass(frozen=True)
class Experiment:
    """Everything that determines a run.

    model        a name of ``catalog.MODELS``
    params       that model's parameter dataclass
    device       the device calibration
    time         the model's time dataclass (``catalog.ChargerTime`` ...); None means its default; None for the
                 micromaser (its time is ``params.collisions``)
    options      the model's circuit-options dataclass, or None (the mapping's defaults)
    shots        total shots, split over the tomography settings; 0 skips the measurement; None means
                 ``SHOTS_PER_SETTING`` per setting
    seed         experiment seed (module docstring)
    mitigate_readout   put the calibration's readout confusion into the tomography measurement model
    bootstrap    bootstrap samples for the intervals
    estimator    "full-pauli" (3^n Pauli settings), "dicke-z" (Z basis only; models whose states are permutation
                 symmetric, assumes each excitation sector is the symmetric Dicke state) or "auto" (full up to
                 ``FULL_TOMOGRAPHY_MAX_QUBITS`` register qubits)
    measurement  "state" or "circuits" (module docstring)
    """

    model: str
    params: Any
    device: DeviceCalibration
    time: Any = None
    options: Any = None
    shots: int | None = None
    seed: int = 0
    mitigate_readout: bool = True
    bootstrap: int = DEFAULT_BOOTSTRAP
    estimator: str = "auto"
    measurement: str = "state"

    def __post_init__(self) -> None:
        spec = model_spec(self.model)
        if self.time is None and spec.time is not None:
            object.__setattr__(self, "time", spec.time())
        spec.check(self.params, self.time, self.options)
        if self.shots is not None:
            object.__setattr__(self, "shots", _validate.integer_at_least("shots", self.shots, 0))
        object.__setattr__(self, "seed", _validate.integer_at_least("seed", self.seed, 0))
        object.__setattr__(self, "bootstrap", _validate.integer_at_least("bootstrap", self.bootstrap, 2))
        _validate.one_of("estimator", self.estimator, ESTIMATORS)
        _validate.one_of("measurement", self.measurement, MEASUREMENTS)

    @property
    def spec(self) -> ModelSpec:
        return model_spec(self.model)

    def seeds(self) -> tuple[int, int]:
        """(sampling seed, bootstrap seed), derived from ``seed``."""
        a, b = np.random.SeedSequence(int(self.seed)).generate_state(2)
        return int(a), int(b)


# ----------------------------------------------------------------------------------------------------- map


def map_circuit(exp: Experiment) -> MappedCircuit:
    """Stage "map": the model's logical circuit (``catalog.ModelSpec.circuit``)."""
    return exp.spec.circuit(exp.params, exp.time, exp.options)


# ------------------------------------------------------------------------------------------------- compile


def compile_verified(
    mapped: MappedCircuit, device: DeviceCalibration, *, seed_transpiler: int = TRANSPILER_SEED
) -> Compiled:
    """Stage "compile": ``compile_for_device`` by the first route of ``compile.ROUTES`` whose ISA circuit passes
    ``execute.verify`` against the mapping's exact state (``TRANSPILE_CHECK_TOL``); the returned Compiled carries
    that check. Raises QbhwError when no route passes."""
    from qiskit.transpiler import TranspilerError

    check, failure = math.inf, ""
    for route in ROUTES:
        try:
            compiled = compile_for_device(mapped, device, route=route, seed_transpiler=seed_transpiler)
        except ParameterError:
            raise
        except (TranspilerError, QbhwError) as exc:  # qiskit 1.3.0 on some circuits with resets: the next route
            failure = f" ({route}: {exc})"
            continue
        check = execute.verify(compiled.circuit, device, compiled.register, mapped.exact_state)
        if check <= TRANSPILE_CHECK_TOL:
            return dataclasses.replace(compiled, check=check)
    raise QbhwError(
        f"transpiling the {mapped.model} circuit onto {device.name} changed its channel (max deviation "
        f"{check:.2e} > {TRANSPILE_CHECK_TOL:g}){failure}; this is a transpiler bug — try another qiskit version"
    )


# ------------------------------------------------------------------------------------------------- predict


def battery_state(mapped: MappedCircuit, register_state: np.ndarray) -> np.ndarray:
    """Reduced state of the battery positions of the register (physics order)."""
    n = len(mapped.register)
    if len(mapped.battery) == n:
        return register_state
    return partial_trace(register_state, [2] * n, keep=list(mapped.battery))


def outside_cutoff(mapped: MappedCircuit, register_state: np.ndarray) -> float:
    """Population of register levels at or above the model's Fock cutoff D (a cavity register of 2^m > D levels);
    NaN when the register has no levels outside the model's space."""
    cutoff = mapped.details.get("cutoff")
    if cutoff is None or cutoff >= register_state.shape[0]:
        return math.nan
    return float(np.real(np.trace(register_state) - np.trace(register_state[:cutoff, :cutoff])))


def figures(mapped: MappedCircuit, register_state: np.ndarray) -> Figures:
    """Figures of a register state (see ``Figures``)."""
    rho = battery_state(mapped, register_state)
    h = mapped.hamiltonian
    return Figures(
        energy=float(stored_energy(rho, h)),
        ergotropy=float(ergotropy(rho, h)),
        capacity=float(capacity(rho, h)),
        purity=float(purity(rho)),
        fidelity=float(fidelity(register_state, mapped.ideal_state)),
        outside_cutoff=outside_cutoff(mapped, register_state),
    )


@dataclass(frozen=True, eq=False)
class Prediction:
    """Stage "predict": the figures of the ideal model, of the noiseless circuit (the mapping's exact channel) and
    of the noisy device, with the noisy register state (physics order) they come from; ``engine`` names what made
    the noisy state ("aer": the ISA circuit under the device's Aer noise model). ``final_state``: the engine's
    state of all the qubits it simulated (for "aer" an Aer DensityMatrix in the simulator's qubit order), or None;
    the fast measurement samples from it when present."""

    ideal: Figures
    exact: Figures
    noisy: Figures
    noisy_state: np.ndarray
    engine: str = "aer"
    final_state: Any = None


def predict(mapped: MappedCircuit, compiled: Compiled, sim: execute.Simulator) -> Prediction:
    """Stage "predict" on Aer: the exact final density matrix of ``compiled.circuit`` under ``sim``'s noise."""
    full = sim.final_state(compiled.circuit)
    rho = execute.reduced_state(full, [sim.qubits.index(q) for q in compiled.register])
    return Prediction(
        ideal=figures(mapped, mapped.ideal_state),
        exact=figures(mapped, mapped.exact_state),
        noisy=figures(mapped, rho),
        noisy_state=rho,
        final_state=full,
    )


# ------------------------------------------------------------------------------------------------- measure


@dataclass(frozen=True)
class Measurement:
    """Stage "measure": one entry per tomography setting (strings over "XYZ", character k for register position
    k) with its shots and counts (Qiskit bitstrings of the tomography register, clbit k = register position k);
    ``estimator`` the estimator the settings serve, ``seed`` the sampling seed, ``method`` "state" or "circuits"."""

    estimator: str
    settings: tuple[str, ...]
    shots: tuple[int, ...]
    counts: tuple[dict[str, int], ...]
    seed: int
    method: str


def choose_estimator(exp: Experiment, mapped: MappedCircuit) -> str:
    """The estimator of ``exp`` for this register ("auto" resolved)."""
    n = len(mapped.register)
    if exp.estimator != "auto":
        if exp.estimator == "dicke-z" and not exp.spec.dicke_estimator:
            raise ParameterError(
                "estimator",
                f"full-pauli for the {exp.model} battery (dicke-z assumes permutation-symmetric collective states)",
                exp.estimator,
            )
        return exp.estimator
    if n <= FULL_TOMOGRAPHY_MAX_QUBITS:
        return "full-pauli"
    if exp.spec.dicke_estimator:
        return "dicke-z"
    raise ParameterError(
        "estimator", f"full-pauli with at most {FULL_TOMOGRAPHY_MAX_QUBITS} register qubits", exp.estimator
    )


def measurement_plan(exp: Experiment, mapped: MappedCircuit) -> tuple[str, tuple[str, ...], tuple[int, ...]]:
    """(estimator, settings, shots per setting) of ``exp``; shots = 0 is not a plan (``measure`` returns None)."""
    from qbhw import tomography

    estimator = choose_estimator(exp, mapped)
    n = len(mapped.register)
    settings = tomography.pauli_settings(n) if estimator == "full-pauli" else ("Z" * n,)
    total = SHOTS_PER_SETTING * len(settings) if exp.shots is None else exp.shots
    return estimator, tuple(settings), tuple(tomography.split_shots(total, settings))


def measure(
    exp: Experiment, mapped: MappedCircuit, compiled: Compiled, prediction: Prediction, sim: execute.Simulator
) -> Measurement | None:
    """Stage "measure" on Aer (module docstring); None when ``exp.shots`` is 0."""
    if exp.shots == 0:
        return None
    estimator, settings, shots = measurement_plan(exp, mapped)
    seed = exp.seeds()[0]
    if exp.measurement == "circuits":
        counts = sim.counts(measurement_circuits(compiled, settings), shots, seed=seed)
    else:
        full = prediction.final_state if prediction.engine == "aer" else None
        counts = sim.sample_state(prediction.noisy_state, compiled.register, settings, shots, seed=seed, full=full)
    return Measurement(estimator, settings, shots, tuple(counts), seed, exp.measurement)


# ------------------------------------------------------------------------------------------------ estimate


def estimate(exp: Experiment, mapped: MappedCircuit, compiled: Compiled, measurement: Measurement | None) -> Any:
    """Stage "estimate": the tomography estimate (``qbhw.tomography.BatteryEstimate``) with bootstrap intervals at
    ``CONFIDENCE``; None without a measurement."""
    from qbhw import tomography

    if measurement is None:
        return None
    data = tomography.TomographyData.from_counts(measurement.settings, measurement.counts, seed=measurement.seed)
    readout = (
        tomography.ReadoutModel.from_calibration(compiled.device, compiled.register) if exp.mitigate_readout else None
    )
    seed = exp.seeds()[1]
    if measurement.estimator == "full-pauli":
        return tomography.estimate_battery(
            data,
            mapped.hamiltonian,
            battery=mapped.battery,
            target=mapped.ideal_state,
            readout=readout,
            bootstrap=exp.bootstrap,
            confidence=CONFIDENCE,
            seed=seed,
        )
    return tomography.estimate_dicke(data, readout=readout, bootstrap=exp.bootstrap, confidence=CONFIDENCE, seed=seed)


# -------------------------------------------------------------------------------------------------- record


def _versions() -> tuple[str, str, str]:
    import qiskit
    import qiskit_aer

    from qbhw import __version__

    return str(qiskit.__version__), str(qiskit_aer.__version__), str(__version__)


def make_record(
    exp: Experiment,
    mapped: MappedCircuit,
    compiled: Compiled,
    prediction: Prediction,
    measurement: Measurement | None,
    estimated: Any,
) -> PointRecord:
    """The PointRecord of one experiment (``records``)."""
    measured = None
    if estimated is not None:
        data = dict(estimated.to_dict())
        if estimated.state is not None and not math.isnan(outside_cutoff(mapped, estimated.state)):
            data["outside_cutoff"] = outside_cutoff(mapped, estimated.state)  # point value of the fitted state
        measured = MeasuredRecord.from_dict(freeze(data))
    qiskit_version, aer_version, qbhw_version = _versions()
    return PointRecord(
        model=exp.model,
        parameters=freeze(dataclasses.asdict(exp.params)),
        time=freeze(
            {} if exp.time is None else {k: v for k, v in dataclasses.asdict(exp.time).items() if v is not None}
        ),
        options=freeze(
            {} if exp.options is None else {k: v for k, v in dataclasses.asdict(exp.options).items() if v is not None}
        ),
        device=exp.device.name,
        shots=exp.shots if estimated is None else int(estimated.shots),
        seed=exp.seed,
        sampling_seed=exp.seeds()[0],
        ideal=prediction.ideal,
        circuit=prediction.exact,
        noisy=prediction.noisy,
        compilation=CircuitReport(
            description=mapped.description,
            details=freeze(mapped.details),
            physical_qubits=compiled.physical_qubits,
            register_physical_qubits=compiled.register,
            depth=compiled.depth,
            two_qubit_gates=compiled.two_qubit_gates,
            duration_ns=compiled.duration_ns,
            seed_transpiler=compiled.seed_transpiler,
            transpile_check=math.nan if compiled.check is None else compiled.check,
            transpile_route=compiled.route,
        ),
        measured=measured,
        qiskit_version=qiskit_version,
        qiskit_aer_version=aer_version,
        qbhw_version=qbhw_version,
        counts=()
        if measurement is None
        else tuple(SettingCounts(s, freeze(c)) for s, c in zip(measurement.settings, measurement.counts, strict=True)),
    )


# ---------------------------------------------------------------------------------------------- the whole


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """Every stage's output of one experiment (module docstring); ``record()`` is its PointRecord."""

    experiment: Experiment
    mapped: MappedCircuit
    compiled: Compiled
    prediction: Prediction
    measurement: Measurement | None
    measured: Any  # qbhw.tomography.BatteryEstimate, or None when shots = 0

    @property
    def ideal(self) -> Figures:
        return self.prediction.ideal

    @property
    def exact(self) -> Figures:
        return self.prediction.exact

    @property
    def noisy(self) -> Figures:
        return self.prediction.noisy

    @property
    def noisy_state(self) -> np.ndarray:
        return self.prediction.noisy_state

    def record(self) -> PointRecord:
        return make_record(
            self.experiment, self.mapped, self.compiled, self.prediction, self.measurement, self.measured
        )


#: the predict stage as a replaceable function: (mapped, compiled) -> Prediction
Predictor = Callable[[MappedCircuit, Compiled], Prediction]
#: the measure stage as a replaceable function: (experiment, mapped, compiled, prediction) -> Measurement or None
Measurer = Callable[[Experiment, MappedCircuit, Compiled, Prediction], "Measurement | None"]


def run_experiment(
    exp: Experiment, *, predictor: Predictor | None = None, measurer: Measurer | None = None
) -> ExperimentResult:
    """All stages of one experiment (module docstring). By default predict and measure run on Aer with one noise
    model; ``predictor`` replaces the predict stage (e.g. a pulse-level engine) and ``measurer`` the measure stage
    (e.g. counts from a real backend), each with the signature of the default stage without its simulator."""
    mapped = map_circuit(exp)
    compiled = compile_verified(mapped, exp.device)
    sim: execute.Simulator | None = None

    def aer() -> execute.Simulator:  # built once, for whichever default stage runs first
        nonlocal sim
        if sim is None:
            sim = execute.simulator(exp.device, compiled.physical_qubits, noisy=True)
        return sim

    prediction = predictor(mapped, compiled) if predictor is not None else predict(mapped, compiled, aer())
    if measurer is not None:
        measurement = measurer(exp, mapped, compiled, prediction)
    else:
        measurement = measure(exp, mapped, compiled, prediction, aer())
    return ExperimentResult(
        exp, mapped, compiled, prediction, measurement, estimate(exp, mapped, compiled, measurement)
    )
