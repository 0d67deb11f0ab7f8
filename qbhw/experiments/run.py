"""One experiment: a battery model, its circuit, a device, shots and a seed -> ideal, noisy-predicted and measured.

Data flow (docs/design.md section 2): parameters -> ideal model state (``MappedCircuit.ideal_state``) -> logical circuit
-> transpiled onto the device -> (a) exact density matrix under the device's Aer noise model ("noisy") and
(b) Pauli tomography circuits sampled by Aer with the same noise ("measured", fitted with bootstrap intervals).
All figures refer to the battery part of the register, with the model's battery Hamiltonian; ``fidelity`` is
Uhlmann's (Tr sqrt(sqrt(rho) sigma sqrt(rho)))^2 of the register state to the ideal register state.

Randomness: the experiment seed is expanded by ``numpy.random.SeedSequence`` into the Aer sampling seed and the
bootstrap seed, both recorded; the transpiler seed is fixed (``TRANSPILER_SEED``) and recorded. Same inputs and
seed -> identical results.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.experiments.compile import Compiled, compile_for_device
from qbhw.experiments.execute import counts as aer_counts
from qbhw.experiments.execute import final_state, from_state, reduced_state
from qbhw.hardware import DeviceCalibration
from qbhw.mapping import MappedCircuit
from qbhw.physics import capacity, ergotropy, partial_trace, purity, stored_energy
from qbhw.physics.distance import fidelity

TRANSPILER_SEED = 7
SHOTS_PER_SETTING = 8192  # default: shots = 8192 x the number of measurement settings
DEFAULT_BOOTSTRAP = 200
FULL_TOMOGRAPHY_MAX_QUBITS = 6  # 729 Pauli settings; beyond, only the Dicke estimator (collective) is available

#: model name -> (parameter class, circuit builder), as "module:name"
MODELS: Mapping[str, tuple[str, str]] = {
    "charger": ("qbhw.models.charger:ChargerParams", "qbhw.mapping.charger:charger_circuit"),
    "thermal-gradient": (
        "qbhw.models.thermal_gradient:ThermalGradientParams",
        "qbhw.mapping.thermal_gradient:thermal_gradient_circuit",
    ),
    "collective": ("qbhw.models.collective:CollectiveParams", "qbhw.mapping.collective:collective_circuit"),
    "micromaser": ("qbhw.models.micromaser:MicromaserParams", "qbhw.mapping.micromaser:micromaser_circuit"),
}
ESTIMATORS = ("auto", "full-pauli", "dicke-z")


def resolve(spec: str) -> Any:
    """The object named by "module:name"."""
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Experiment:
    """Everything that determines a run.

    model        a key of ``MODELS``
    params       that model's parameter dataclass
    options      keyword arguments of the model's circuit builder (e.g. ``(("time", 0.3),)``), as sorted pairs
    device       the full device calibration
    shots        total shots, split over the tomography settings; 0 skips the measurement; None means
                 ``SHOTS_PER_SETTING`` per setting
    seed         experiment seed (module docstring)
    mitigate_readout   put the calibration's readout confusion into the tomography measurement model
    bootstrap    bootstrap samples for the intervals
    estimator    "full-pauli" (3^n Pauli settings), "dicke-z" (Z basis only; collective battery, assumes each
                 excitation sector is the symmetric Dicke state) or "auto" (full up to 6 register qubits)
    confidence   two-sided confidence level of the intervals
    """

    model: str
    params: Any
    device: DeviceCalibration
    options: tuple[tuple[str, Any], ...] = ()
    shots: int | None = None
    seed: int = 0
    mitigate_readout: bool = True
    bootstrap: int = DEFAULT_BOOTSTRAP
    estimator: str = "auto"
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ParameterError("model", "one of " + ", ".join(MODELS), self.model)
        if self.shots is not None:
            object.__setattr__(self, "shots", _validate.integer_at_least("shots", self.shots, 0))
        object.__setattr__(self, "seed", _validate.integer_at_least("seed", self.seed, 0))
        object.__setattr__(self, "bootstrap", _validate.integer_at_least("bootstrap", self.bootstrap, 2))
        _validate.one_of("estimator", self.estimator, ESTIMATORS)
        if not 0.0 < self.confidence < 1.0:
            raise ParameterError("confidence", "in (0, 1)", self.confidence)
        object.__setattr__(self, "options", tuple(sorted(self.options)))

    def seeds(self) -> tuple[int, int]:
        """(Aer sampling seed, bootstrap seed), derived from ``seed``."""
        a, b = np.random.SeedSequence(int(self.seed)).generate_state(2)
        return int(a), int(b)


@dataclass(frozen=True)
class Figures:
    """Battery figures of one state (model units): stored energy above the ground energy, ergotropy, capacity,
    purity of the battery state, fidelity of the register state to the ideal one, and for a truncated cavity the
    population outside the model's cutoff (NaN where it does not apply)."""

    energy: float
    ergotropy: float
    capacity: float
    purity: float
    fidelity: float
    outside_cutoff: float = float("nan")


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """ideal: the model; exact: the noiseless circuit (the mapping's collision/Trotter error); noisy: the exact
    density matrix of the transpiled circuit under the device noise; measured: tomography with bootstrap
    intervals (None when shots = 0). ``counts`` pairs each setting with its counts."""

    experiment: Experiment
    mapped: MappedCircuit
    compiled: Compiled
    ideal: Figures
    exact: Figures
    noisy: Figures
    noisy_state: np.ndarray
    measured: Any = None
    counts: tuple[tuple[str, dict[str, int]], ...] = ()
    sampling_seed: int = 0
    bootstrap_seed: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def build_circuit(model: str, params: Any, options: tuple[tuple[str, Any], ...] = ()) -> MappedCircuit:
    """The model's MappedCircuit (``MODELS``)."""
    if model not in MODELS:
        raise ParameterError("model", "one of " + ", ".join(MODELS), model)
    return resolve(MODELS[model][1])(params, **dict(options))


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
        return float("nan")
    return float(np.real(np.trace(register_state) - np.trace(register_state[:cutoff, :cutoff])))


def figures(mapped: MappedCircuit, register_state: np.ndarray) -> Figures:
    """Figures of a register state (see ``Figures``)."""
    rho = battery_state(mapped, register_state)
    h = mapped.hamiltonian
    outside = outside_cutoff(mapped, register_state)
    return Figures(
        energy=float(stored_energy(rho, h)),
        ergotropy=float(ergotropy(rho, h)),
        capacity=float(capacity(rho, h)),
        purity=float(purity(rho)),
        fidelity=float(fidelity(register_state, mapped.ideal_state)),
        outside_cutoff=outside,
    )


def _estimator(exp: Experiment, mapped: MappedCircuit) -> str:
    n = len(mapped.register)
    if exp.estimator != "auto":
        if exp.estimator == "dicke-z" and exp.model != "collective":
            raise ParameterError(
                "estimator",
                "full-pauli for the " + exp.model + " battery (dicke-z assumes "
                "permutation-symmetric collective states)",
                exp.estimator,
            )
        return exp.estimator
    if n <= FULL_TOMOGRAPHY_MAX_QUBITS:
        return "full-pauli"
    if exp.model == "collective":
        return "dicke-z"
    raise ParameterError(
        "estimator", f"full-pauli with at most {FULL_TOMOGRAPHY_MAX_QUBITS} register qubits", exp.estimator
    )


def run_experiment(exp: Experiment) -> ExperimentResult:
    """Run one experiment (module docstring)."""
    from qbhw import tomography as tomo

    mapped = build_circuit(exp.model, exp.params, exp.options)
    compiled = compile_for_device(mapped, exp.device, seed_transpiler=TRANSPILER_SEED)
    sampling_seed, bootstrap_seed = exp.seeds()
    full = final_state(compiled.idle_noisy, compiled.device, noisy=True)  # all qubits, Qiskit order
    rho_noisy = reduced_state(full, compiled.register)
    ideal = figures(mapped, mapped.ideal_state)
    exact = figures(mapped, mapped.exact_state)
    noisy = figures(mapped, rho_noisy)
    measured = None
    pairs: tuple[tuple[str, dict[str, int]], ...] = ()
    if exp.shots is None or exp.shots > 0:
        estimator = _estimator(exp, mapped)
        n = len(mapped.register)
        settings = tomo.pauli_settings(n) if estimator == "full-pauli" else ("Z" * n,)
        total = SHOTS_PER_SETTING * len(settings) if exp.shots is None else exp.shots
        shots = tomo.split_shots(total, settings)
        # the measurement circuits start from the simulated final state: identical statistics, one simulation
        circuits = tomo.measurement_circuits(
            from_state(full), compiled.register, settings, basis_gates=("rz", "sx", "x")
        )
        raw = aer_counts(circuits, shots, compiled.device, seed=sampling_seed, noisy=True)
        pairs = tuple(zip(settings, raw, strict=True))
        data = tomo.TomographyData.from_counts(settings, raw, seed=sampling_seed)
        readout = (
            tomo.ReadoutModel.from_calibration(compiled.device, compiled.register) if exp.mitigate_readout else None
        )
        if estimator == "full-pauli":
            measured = tomo.estimate_battery(
                data,
                mapped.hamiltonian,
                battery=mapped.battery,
                target=mapped.ideal_state,
                readout=readout,
                bootstrap=exp.bootstrap,
                confidence=exp.confidence,
                seed=bootstrap_seed,
            )
        else:
            measured = tomo.estimate_dicke(
                data,
                readout=readout,
                bootstrap=exp.bootstrap,
                confidence=exp.confidence,
                seed=bootstrap_seed,
            )
    return ExperimentResult(
        experiment=exp,
        mapped=mapped,
        compiled=compiled,
        ideal=ideal,
        exact=exact,
        noisy=noisy,
        noisy_state=rho_noisy,
        measured=measured,
        counts=pairs,
        sampling_seed=sampling_seed,
        bootstrap_seed=bootstrap_seed,
    )
