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
            predicted noisy state with the device's measurement noise (numpy's multinomial sampler of the exact
            outcome probabilities, ``sample_from_state``);
            "circuits" runs the ISA measurement circuits themselves (what a backend would run; the same
            distribution, one full simulation per setting). A real backend replaces this stage;
* estimate  the tomography fit with bootstrap intervals (``qbhw.tomography``).

All figures refer to the battery part of the register with the model's battery Hamiltonian; ``fidelity`` is
Uhlmann's (Tr sqrt(sqrt(rho) sigma sqrt(rho)))^2 of the register state to the ideal register state.

Randomness: ``numpy.random.SeedSequence(seed, spawn_key=spawn_key)`` (point k of a job: the job seed and the key
(k,), i.e. ``SeedSequence(seed).spawn(n)[k]``) generates the sampling seed and the bootstrap seed, all recorded; the
transpiler seed is ``compile.TRANSPILER_SEED``, recorded. Same inputs and seed -> identical results.

Sizes: every size is bounded before any work starts (``check_sizes``; the README's "Limits" table says why each
bound is what it is): shots, shots per setting, bootstrap samples, bootstrap samples x settings, layouts.

Progress: ``run_experiment(..., progress=...)`` reports each stage as it ends, ``progress(stage, seconds, note)``.

Limit cycle: an engine model with ``time.cycle_time`` runs as ``qbhw.experiments.cycle.run_cycle`` (two
circuits, before and after the last extraction; that module's docstring).
"""

from __future__ import annotations

import dataclasses
import math
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    CalibrationInfo,
    CircuitReport,
    Figures,
    LayoutSpread,
    MeasuredRecord,
    PointRecord,
    SettingCounts,
    freeze,
)
from qbhw.hardware import DeviceCalibration, calibration_hash, ranked_qubit_sets
from qbhw.mapping import MappedCircuit
from qbhw.physics import capacity, ergotropy, partial_trace, purity, stored_energy
from qbhw.physics.distance import fidelity

if TYPE_CHECKING:
    from qbhw.experiments.cycle import CycleRun

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

# Size limits of one point, checked before any work (README "Limits"; measured on 2 cores, 24 GiB):
#: shots of one point: Aer samples ~1 us per shot, so 1e8 shots are ~2 min of sampling
MAX_SHOTS = 100_000_000
#: shots of one setting: Aer keeps ~120 bytes per shot of a run (9e7 shots in 9 settings: 1.4 GB peak), so 2e7 in
#: one setting stay below ~2.5 GB (the Dicke-Z estimator has a single setting)
MAX_SHOTS_PER_SETTING = 20_000_000
#: bootstrap samples: each refits every setting; 1e5 x 9 settings of a two-qubit register take ~40 s
MAX_BOOTSTRAP = 100_000
#: bootstrap samples x settings: a refit costs up to ~50 us per setting (36 ms per sample of a six-qubit register,
#: 729 settings), so 2e6 is ~100 s; it allows the default 200 samples up to 6 qubits (1.5e5) and 2700 at 6 qubits
MAX_BOOTSTRAP_SETTINGS = 2_000_000
#: qubit sets of ``--layouts``: each is one more compilation, verification and noisy simulation of the point
MAX_LAYOUTS = 10


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
    spawn_key    the point's key under ``seed`` (module docstring); () for an experiment made on its own
    layouts      compile and predict on the ``layouts`` best qubit sets (the first is the point's; the others give
                 the spread of the noisy prediction over compilations); 1 by default
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
    spawn_key: tuple[int, ...] = ()
    layouts: int = 1

    def __post_init__(self) -> None:
        spec = model_spec(self.model)
        if self.time is None and spec.time is not None:
            object.__setattr__(self, "time", spec.time())
        spec.check(self.params, self.time, self.options)
        if self.shots is not None:
            shots = _validate.integer_at_least("shots", self.shots, 0)
            _at_most("shots", shots, MAX_SHOTS, "shots of one point (~1 us each to sample)")
            object.__setattr__(self, "shots", shots)
        object.__setattr__(self, "seed", _validate.integer_at_least("seed", self.seed, 0))
        bootstrap = _validate.integer_at_least("bootstrap", self.bootstrap, 2)
        _at_most("bootstrap", bootstrap, MAX_BOOTSTRAP, "samples")
        object.__setattr__(self, "bootstrap", bootstrap)
        layouts = _validate.integer_at_least("layouts", self.layouts, 1)
        _at_most("layouts", layouts, MAX_LAYOUTS, "qubit sets (each is one more compilation and simulation)")
        object.__setattr__(self, "layouts", layouts)
        if isinstance(self.spawn_key, str | bytes) or not isinstance(self.spawn_key, Sequence):
            raise TypeError(f"spawn_key must be a tuple of integers >= 0 (got {self.spawn_key!r})")
        key = tuple(_validate.integer_at_least("spawn_key", k, 0) for k in self.spawn_key)
        object.__setattr__(self, "spawn_key", key)
        _validate.one_of("estimator", self.estimator, ESTIMATORS)
        _validate.one_of("measurement", self.measurement, MEASUREMENTS)

    @property
    def spec(self) -> ModelSpec:
        return model_spec(self.model)

    def seed_sequence(self) -> np.random.SeedSequence:
        """``SeedSequence(seed, spawn_key=spawn_key)``: the source of all of this point's randomness."""
        return np.random.SeedSequence(int(self.seed), spawn_key=self.spawn_key)

    def seeds(self) -> tuple[int, int]:
        """(sampling seed, bootstrap seed), drawn from ``seed_sequence()``."""
        a, b = self.seed_sequence().generate_state(2)
        return int(a), int(b)


def _at_most(name: str, value: int, limit: int, what: str) -> None:
    if value > limit:
        raise ParameterError(name, f"an integer <= {limit:.3g} ({what}; README, Limits)", value)


def settings_count(exp: Experiment, register_qubits: int) -> tuple[str, int]:
    """(estimator, number of tomography settings) of ``exp`` on a register of ``register_qubits`` qubits."""
    estimator = _estimator_for(exp, register_qubits)
    return estimator, 3**register_qubits if estimator == "full-pauli" else 1


def check_sizes(exp: Experiment) -> tuple[str, int]:
    """Check the sizes of ``exp`` that depend on its register (module docstring) before any work; returns
    (estimator, settings). The register size comes from the model catalogue, without building the circuit."""
    n = exp.spec.register_size(exp.params)
    estimator, settings = settings_count(exp, n)
    exp.spec.check_inputs(exp.params, exp.time, exp.options)
    if exp.spec.runs_cycle(exp.time) and exp.layouts > 1:
        raise ParameterError(
            "layouts",
            "1 with --cycle-time (a limit-cycle point is two circuits on one qubit set; the spread over qubit sets "
            "is not computed for it)",
            exp.layouts,
        )
    if exp.shots == 0:
        return estimator, settings
    shots = SHOTS_PER_SETTING * settings if exp.shots is None else exp.shots
    if exp.spec.runs_cycle(exp.time) and 2 * shots > MAX_SHOTS:
        raise ParameterError(
            "shots",
            f"an integer <= {MAX_SHOTS // 2:.3g} with --cycle-time (each of the two circuits gets them; "
            f"{MAX_SHOTS:.3g} per point, ~1 us each to sample; README, Limits)",
            shots,
        )
    if shots < settings:
        raise ParameterError("shots", f">= {settings} (one per measurement setting)", shots)
    per_setting = -(-shots // settings)
    if per_setting > MAX_SHOTS_PER_SETTING:
        raise ParameterError(
            "shots",
            f"at most {MAX_SHOTS_PER_SETTING:.3g} per setting ({settings} settings of a {n}-qubit register, "
            "~120 bytes per shot in the simulator; README, Limits)",
            shots,
        )
    if exp.bootstrap * settings > MAX_BOOTSTRAP_SETTINGS:
        raise ParameterError(
            "bootstrap",
            f"an integer <= {MAX_BOOTSTRAP_SETTINGS // settings} for {settings} settings (bootstrap x settings <= "
            f"{MAX_BOOTSTRAP_SETTINGS:.3g}, ~50 us each; README, Limits)",
            exp.bootstrap,
        )
    return estimator, settings


# ----------------------------------------------------------------------------------------------------- map


def map_circuit(exp: Experiment) -> MappedCircuit:
    """Stage "map": the model's logical circuit (``catalog.ModelSpec.circuit``)."""
    return exp.spec.circuit(exp.params, exp.time, exp.options)


# ------------------------------------------------------------------------------------------------- compile


#: ``progress(stage, seconds, note)``: called as each stage of a point ends (module docstring)
Progress = Callable[[str, float, str], None]


class _Clock:
    """Times the stages of one point for a Progress callback (none: no timing)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.start = _time.perf_counter()

    def done(self, stage: str, note: str = "") -> None:
        now = _time.perf_counter()
        if self.progress is not None:
            self.progress(stage, now - self.start, note)
        self.start = now


def compile_verified(
    mapped: MappedCircuit,
    device: DeviceCalibration,
    *,
    seed_transpiler: int = TRANSPILER_SEED,
    qubits: Sequence[int] | None = None,
    progress: Progress | None = None,
    initial_layout: Sequence[int] | None = None,
) -> Compiled:
    """Stage "compile": ``compile_for_device`` by the first route of ``compile.ROUTES`` whose ISA circuit passes
    ``execute.verify`` against the mapping's exact state (``TRANSPILE_CHECK_TOL``); the returned Compiled carries
    that check. ``qubits``, ``initial_layout``: as for ``compile_for_device``. Raises QbhwError when no route
    passes."""
    from qiskit.transpiler import TranspilerError

    check, failure = math.inf, ""
    clock = _Clock(progress)
    for route in ROUTES:
        try:
            compiled = compile_for_device(
                mapped,
                device,
                route=route,
                seed_transpiler=seed_transpiler,
                qubits=qubits,
                initial_layout=initial_layout,
            )
        except ParameterError:
            raise
        except (TranspilerError, QbhwError) as exc:  # qiskit 1.3.0 on some circuits with resets: the next route
            failure = f" ({route}: {exc})"
            continue
        clock.done("compile", f"{compiled.two_qubit_gates} two-qubit gates on qubits {list(compiled.physical_qubits)}")
        check = execute.verify(compiled.circuit, device, compiled.register, mapped.exact_state)
        clock.done("verify", f"max deviation {check:.1e}")
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


def ideal_target(mapped: MappedCircuit) -> np.ndarray:
    """The ideal register state normalised to trace 1: the fidelity's reference (the state itself when its trace
    is 1 to 1e-12). The micromaser's ideal state is the physical cavity restricted to the register levels, short of
    the population above them by at most its cutoff tolerance; the tomography requires a density matrix."""
    rho = np.asarray(mapped.ideal_state)
    trace = float(np.real(np.trace(rho)))
    return rho if abs(trace - 1.0) <= 1e-12 else rho / trace


def figures(mapped: MappedCircuit, register_state: np.ndarray) -> Figures:
    """Figures of a register state (see ``Figures``)."""
    rho = battery_state(mapped, register_state)
    h = mapped.hamiltonian
    return Figures(
        energy=float(stored_energy(rho, h)),
        ergotropy=float(ergotropy(rho, h)),
        capacity=float(capacity(rho, h)),
        purity=float(purity(rho)),
        fidelity=float(fidelity(register_state, ideal_target(mapped))),
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
    return _estimator_for(exp, len(mapped.register))


def _estimator_for(exp: Experiment, n: int) -> str:
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
        counts = sample_from_state(compiled.device, compiled.register, prediction.noisy_state, settings, shots, seed)
    return Measurement(estimator, settings, shots, tuple(counts), seed, exp.measurement)


def sample_from_state(
    device: DeviceCalibration,
    register: Sequence[int],
    rho: np.ndarray,
    settings: Sequence[str],
    shots: Sequence[int],
    seed: int,
) -> list[dict[str, int]]:
    """The fast path of "measure": each setting's counts drawn with numpy's multinomial sampler from the exact
    outcome probabilities of the register state ``rho`` (physics order) on the physical qubits ``register``, with
    the device's measurement noise folded in (``qbhw.tomography.MeasurementNoise``: the basis-change gates in the
    device's basis gates with their calibrated errors, then the readout confusion). Equal in distribution to
    running the ISA measurement circuits on Aer with the device's noise model (tested by chi-square), at a small
    fraction of the cost (6 qubits, 729 settings: 0.1 s instead of 21 s)."""
    from qbhw import tomography

    noise = tomography.MeasurementNoise.from_calibration(device, tuple(register))
    data = tomography.sample_counts(rho, tuple(settings), list(shots), seed=seed, noise=noise)
    return [dict(c) for c in data.counts]


# ------------------------------------------------------------------------------------------------ estimate


def estimate(exp: Experiment, mapped: MappedCircuit, compiled: Compiled, measurement: Measurement | None) -> Any:
    """Stage "estimate": the tomography estimate (``qbhw.tomography.BatteryEstimate``) with bootstrap intervals at
    ``CONFIDENCE``; None without a measurement."""
    from qbhw import tomography

    if measurement is None:
        return None
    data = tomography.TomographyData.from_counts(measurement.settings, measurement.counts, seed=measurement.seed)
    # the fit's measurement model is what the counts went through (on Aer or on the fast path): the basis-change
    # gates' calibrated errors, then the readout confusion; none without readout mitigation. (A bundle's analysis
    # has the readout of the day only: docs/design.md section 2.3.)
    noise = (
        tomography.MeasurementNoise.from_calibration(compiled.device, tuple(compiled.register))
        if exp.mitigate_readout
        else None
    )
    seed = exp.seeds()[1]
    if measurement.estimator == "full-pauli":
        return tomography.estimate_battery(
            data,
            mapped.hamiltonian,
            battery=mapped.battery,
            target=ideal_target(mapped),
            noise=noise,
            bootstrap=exp.bootstrap,
            confidence=CONFIDENCE,
            seed=seed,
        )
    return tomography.estimate_dicke(data, noise=noise, bootstrap=exp.bootstrap, confidence=CONFIDENCE, seed=seed)


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
    layouts: LayoutSpread | None = None,
    cycle: CycleRun | None = None,
) -> PointRecord:
    """The PointRecord of one experiment (``records``); ``layouts`` the spread over qubit sets, if computed;
    ``cycle`` the limit cycle of an engine point (then the other arguments are its "before" stage)."""
    measured = _measured_record(mapped, estimated)
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
        sampling_seed=exp.seeds()[0] if cycle is None else cycle.before.experiment.seeds()[0],
        ideal=prediction.ideal,
        circuit=prediction.exact,
        noisy=prediction.noisy,
        compilation=_compilation_report(mapped, compiled),
        measured=measured,
        qiskit_version=qiskit_version,
        qiskit_aer_version=aer_version,
        qbhw_version=qbhw_version,
        counts=()
        if measurement is None
        else tuple(SettingCounts(s, freeze(c)) for s, c in zip(measurement.settings, measurement.counts, strict=True)),
        spawn_key=exp.spawn_key,
        calibration=calibration_info(exp.device),
        layouts=layouts,
        cycle=None if cycle is None else cycle.record(),
    )


def _measured_record(mapped: MappedCircuit, estimated: Any) -> MeasuredRecord | None:
    """The measured column of a record from a tomography estimate (None without one)."""
    if estimated is None:
        return None
    data = dict(estimated.to_dict())
    if estimated.state is not None and not math.isnan(outside_cutoff(mapped, estimated.state)):
        data["outside_cutoff"] = outside_cutoff(mapped, estimated.state)  # point value of the fitted state
    return MeasuredRecord.from_dict(freeze(data))


def _compilation_report(mapped: MappedCircuit, compiled: Compiled) -> CircuitReport:
    return CircuitReport(
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
    )


def calibration_info(device: DeviceCalibration) -> CalibrationInfo:
    """Name, date, source and content hash of ``device`` (``records.CalibrationInfo``)."""
    return CalibrationInfo(device.name, device.date, device.source, calibration_hash(device))


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
    layouts: LayoutSpread | None = None
    cycle: CycleRun | None = None  # an engine's limit cycle: the fields above are then its "before" stage

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
            self.experiment,
            self.mapped,
            self.compiled,
            self.prediction,
            self.measurement,
            self.measured,
            self.layouts,
            self.cycle,
        )


#: the predict stage as a replaceable function: (mapped, compiled) -> Prediction
Predictor = Callable[[MappedCircuit, Compiled], Prediction]
#: the measure stage as a replaceable function: (experiment, mapped, compiled, prediction) -> Measurement or None
Measurer = Callable[[Experiment, MappedCircuit, Compiled, Prediction], "Measurement | None"]


def layout_spread(
    exp: Experiment,
    mapped: MappedCircuit,
    compiled: Compiled,
    prediction: Prediction,
    predictor: Predictor | None = None,
    progress: Progress | None = None,
) -> LayoutSpread:
    """The noisy prediction of ``mapped`` on the ``exp.layouts`` best qubit sets of the device
    (``qbhw.hardware.ranked_qubit_sets``; fewer when the device has fewer connected sets), the first being
    ``compiled``'s own: each set is compiled, verified and predicted like the point itself."""
    ranked = ranked_qubit_sets(exp.device, mapped.num_qubits, exp.layouts)
    others = [q for q in ranked if set(q) != set(compiled.physical_qubits)][: exp.layouts - 1]
    compilations, noisy = [compiled], [prediction.noisy]
    for k, qubits in enumerate(others):
        note = f"layout {k + 2}/{len(others) + 1}"
        other = compile_verified(mapped, exp.device, qubits=qubits, progress=_noted(progress, note))
        clock = _Clock(progress)
        if predictor is not None:
            noisy.append(predictor(mapped, other).noisy)
        else:
            noisy.append(predict(mapped, other, execute.simulator(exp.device, other.physical_qubits)).noisy)
        clock.done("simulate", note)
        compilations.append(other)
    return LayoutSpread(
        physical_qubits=tuple(c.physical_qubits for c in compilations),
        register_physical_qubits=tuple(c.register for c in compilations),
        two_qubit_gates=tuple(c.two_qubit_gates for c in compilations),
        noisy=tuple(noisy),
    )


def _noted(progress: Progress | None, note: str) -> Progress | None:
    if progress is None:
        return None

    def call(stage: str, seconds: float, detail: str) -> None:
        progress(stage, seconds, f"{note}: {detail}" if detail else note)

    return call


def run_experiment(
    exp: Experiment,
    *,
    predictor: Predictor | None = None,
    measurer: Measurer | None = None,
    progress: Progress | None = None,
) -> ExperimentResult:
    """All stages of one experiment (module docstring). By default predict and measure run on Aer with one noise
    model; ``predictor`` replaces the predict stage (e.g. a pulse-level engine) and ``measurer`` the measure stage
    (e.g. counts from a real backend), each with the signature of the default stage without its simulator.
    ``progress(stage, seconds, note)`` is called as each stage ends (map, compile, verify, simulate, sample,
    estimate; and compile, verify, simulate per extra layout). Sizes are checked first (``check_sizes``).
    An engine's limit cycle (``ModelSpec.runs_cycle``) runs as ``run_cycle``."""
    check_sizes(exp)
    if exp.spec.runs_cycle(exp.time):
        from qbhw.experiments.cycle import run_cycle  # the cycle's stages are built from this module's

        return run_cycle(exp, predictor=predictor, measurer=measurer, progress=progress)
    clock = _Clock(progress)
    mapped = map_circuit(exp)
    clock.done("map", f"{mapped.num_qubits} qubits, register of {len(mapped.register)}")
    compiled = compile_verified(mapped, exp.device, progress=progress)
    clock = _Clock(progress)
    sim: execute.Simulator | None = None

    def aer() -> execute.Simulator:  # built once, for whichever default stage runs first
        nonlocal sim
        if sim is None:
            sim = execute.simulator(exp.device, compiled.physical_qubits, noisy=True)
        return sim

    prediction = predictor(mapped, compiled) if predictor is not None else predict(mapped, compiled, aer())
    clock.done("simulate", f"noisy prediction ({prediction.engine})")
    layouts = None
    if exp.layouts > 1:
        layouts = layout_spread(exp, mapped, compiled, prediction, predictor, progress)
        clock = _Clock(progress)
    if measurer is not None:
        measurement = measurer(exp, mapped, compiled, prediction)
    else:
        measurement = measure(exp, mapped, compiled, prediction, aer())
    if measurement is not None:
        clock.done("sample", f"{len(measurement.settings)} settings, {sum(measurement.shots)} shots")
    estimated = estimate(exp, mapped, compiled, measurement)
    if measurement is not None:
        clock.done("fit + bootstrap", f"{exp.bootstrap} bootstrap samples")
    return ExperimentResult(exp, mapped, compiled, prediction, measurement, estimated, layouts)
