"""The one table of battery models: what each model's parameters, physical time and circuit options are, how its
ideal physics is solved, how its circuit is built, and which quantity a sweep varies (docs/design.md section 2).

Every command-line flag of ``qbhw ideal MODEL`` and ``qbhw run MODEL`` comes from the fields of three frozen
dataclasses per model, with the help text in each field's ``metadata["help"]``:

* ``params``   the model's own parameter class (``qbhw.models``): the physics, in model units;
* ``time``     how long the model evolves (``ChargerTime``, ``ThermalGradientTime``, ``CollectiveTime``); None for the
               micromaser, whose time is its number of collisions, a parameter of the model. Physical time is a
               model quantity for every model: ``qbhw ideal`` and ``qbhw run`` report it at the same place;
* ``options``  how the circuit is built (``ThermalGradientOptions``, ``CollectiveOptions``) or, for the micromaser,
               how its collisions' noise is predicted (``MicromaserOptions``); None where the mapping has no
               choices (charger). Options change the circuit or its noisy prediction, never the ideal physics.

Adding a battery means adding one ``ModelSpec`` here (and its model and mapping modules).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.mapping import (
    MappedCircuit,
    cavity_levels,
    charger_circuit,
    collective_circuit,
    limit_cycle_circuits,
    limit_cycle_steps,
    micromaser_circuit,
    thermal_gradient_circuit,
)
from qbhw.models import charger, collective, micromaser
from qbhw.models import thermal_gradient as tg

# ------------------------------------------------------------------------------------------ time and options


@dataclass(frozen=True)
class ChargerTime:
    """Evolution time of the charger from |0>_b |1>_c (model units)."""

    time: float = field(default=0.3, metadata={"help": "evolution time from |0>_b|1>_c, >= 0"})


@dataclass(frozen=True)
class ThermalGradientTime:
    """At most one of: the charging time from the ground state of H, or the charging time of the two-stroke limit
    cycle; neither means the non-equilibrium steady state."""

    time: float | None = field(
        default=None, metadata={"help": "charging time from the ground state of H, >= 0 (default: the NESS)"}
    )
    cycle_time: float | None = field(
        default=None, metadata={"help": "charging time of the two-stroke limit cycle, > 0"}
    )

    def __post_init__(self) -> None:
        if self.time is not None and self.cycle_time is not None:
            raise ParameterError("time", "omitted when --cycle-time is given (choose one of them)", self.time)
        if self.cycle_time is not None:
            object.__setattr__(self, "cycle_time", _validate.positive("cycle_time", self.cycle_time))


@dataclass(frozen=True)
class CollectiveTime:
    """Evolution time from |g...g>; None means the steady state."""

    time: float | None = field(
        default=None, metadata={"help": "evolution time from |g...g>, >= 0 (default: the steady state)"}
    )


@dataclass(frozen=True)
class ThermalGradientOptions:
    """Circuit options of ``qbhw.mapping.thermal_gradient_circuit``; None leaves the choice to the mapping."""

    steps: int | None = field(
        default=None,
        metadata={
            "help": "Trotter/collision steps of the circuit, per charging stroke with --cycle-time (default: the "
            "mapping's choice)"
        },
    )
    cycles: int | None = field(
        default=None,
        metadata={
            "help": "engine cycles of the limit-cycle circuits, with --cycle-time only (default: the fewest that "
            "provably reach the limit cycle)"
        },
    )


@dataclass(frozen=True)
class CollectiveOptions:
    """Circuit options of ``qbhw.mapping.collective_circuit``; None leaves the choice to the mapping."""

    collisions: int | None = field(
        default=None, metadata={"help": "ancilla collisions in the circuit (default: the mapping's choice)"}
    )
    theta: float | None = field(
        default=None, metadata={"help": "collision angle of the ancilla exchange (default: the mapping's choice)"}
    )
    exchange: str | None = field(
        default=None,
        metadata={
            "help": "exact multi-qubit exchange or its palindromic two-qubit product (default: the mapping's choice)",
            "choices": ("exact", "palindromic"),
        },
    )


#: the micromaser's ``--noise``: "device" (the device's gate noise on the encoded circuit, or, on a cavity-QED device,
#: the native run) or "pulse" (the encoded circuit with each collision's pulse-level channel; a cavity-QED device)
NOISES = ("device", "pulse")


@dataclass(frozen=True)
class MicromaserOptions:
    """How ``qbhw run micromaser`` predicts the noisy state (``qbhw.experiments.pulse_noise``): ``noise`` None means
    "device"; ``imperfections`` (the pulse level's, ``qbhw.pulse.parse_imperfections``; None means "all") applies to
    the pulse-level collisions, i.e. with ``noise="pulse"`` or in the native cavity-QED run."""

    noise: str | None = field(
        default=None,
        metadata={
            "help": "noise of the collisions: 'device' (the device's gate noise; on a device with a storage resonator "
            "the native cavity run) or 'pulse' (the encoded circuit with each collision's pulse-level channel, on a "
            "device with a flux-tunable transmon and a storage resonator) (default: device)",
            "choices": NOISES,
        },
    )
    imperfections: str | None = field(
        default=None,
        metadata={
            "help": "pulse-level imperfections of the collisions, with --noise pulse or on a device with a storage "
            "resonator (native run): all, none (the ideal pulse limit) or a comma-separated list, as for 'qbhw pulse "
            "micromaser' (default: all)"
        },
    )

    def __post_init__(self) -> None:
        if self.noise is not None and self.noise not in NOISES:
            raise ParameterError("noise", "one of " + ", ".join(repr(n) for n in NOISES), self.noise)
        if self.imperfections is not None:
            from qbhw.pulse import parse_imperfections

            parse_imperfections(self.imperfections)  # ParameterError("imperfections", ...) for a bad text


def _given(options: Any) -> dict[str, Any]:
    """The fields of an options dataclass that were set (None means: the builder's default)."""
    if options is None:
        return {}
    return {
        f.name: getattr(options, f.name) for f in dataclasses.fields(options) if getattr(options, f.name) is not None
    }


# ------------------------------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class ModelField:
    """One input of a model, as the command line shows it.

    name      the dataclass field (``omega_b``), also the argparse destination; the flag is ``--omega-b``
    owner     "params", "time" or "options": the dataclass of ``ModelSpec`` that holds it
    kind      int, float or str (the value type; None-able fields are optional flags)
    default   the dataclass default (None when the field has none: then ``required``)
    choices   the allowed strings, or None
    aliases   older flag spellings that are still accepted
    """

    name: str
    owner: str
    kind: type
    help: str
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return flag_name(self.name)


def flag_name(name: str) -> str:
    """The command-line flag of a field name: ``omega_b`` -> ``--omega-b``."""
    return "--" + name.replace("_", "-")


def _kind(annotation: Any) -> type:
    """int, float or str from a field annotation such as ``float | None``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else None
    if annotation not in (int, float, str):
        raise TypeError(f"unsupported field type {annotation!r} for a command-line flag")
    return typing.cast(type, annotation)


def _fields_of(cls: type | None, owner: str, extra: Mapping[str, Mapping[str, Any]]) -> tuple[ModelField, ...]:
    if cls is None:
        return ()
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        meta = {**f.metadata, **extra.get(f.name, {})}
        if "help" not in meta:
            raise TypeError(f"{cls.__name__}.{f.name} has no metadata['help'] (every flag needs its help text)")
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        choices = meta.get("choices")
        out.append(
            ModelField(
                name=f.name,
                owner=owner,
                kind=_kind(hints[f.name]),
                help=str(meta["help"]),
                default=f.default if f.default is not dataclasses.MISSING else None,
                required=not has_default,
                choices=None if choices is None else tuple(choices),
                aliases=tuple(meta.get("aliases", ())),
            )
        )
    return tuple(out)


# -------------------------------------------------------------------------------------------- ideal physics


@dataclass(frozen=True)
class IdealResult:
    """What ``qbhw ideal MODEL`` prints: a title, the JSON object (``values``: ``model``, ``parameters``, the time
    quantities and the model's figures, keys of docs/design.md section 3) and the model's warnings."""

    title: str
    values: Mapping[str, Any]
    warnings: tuple[str, ...] = ()


def _scalars(result: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: getattr(result, k) for k in keys}


_CHARGER_KEYS = (
    "energy",
    "ergotropy",
    "capacity",
    "purity",
    "concurrence",
    "steering",
    "chsh",
    "coherence_l1",
    "imaginarity",
    "texture_battery",
    "texture_global",
    "residual_capacity",
    "battery_excitation",
)


def _charger_ideal(params: charger.ChargerParams, time: ChargerTime, /) -> IdealResult:
    result = charger.evolve(params, time.time)
    values = {"model": "charger", "parameters": dataclasses.asdict(params), "time": result.time}
    values |= _scalars(result, _CHARGER_KEYS)
    return IdealResult(f"charger-battery spins at t = {result.time:g} (battery b, from |0>_b|1>_c)", values)


def _thermal_gradient_ideal(params: tg.ThermalGradientParams, time: ThermalGradientTime, /) -> IdealResult:
    values: dict[str, Any] = {"model": "thermal-gradient", "parameters": dataclasses.asdict(params)}
    warnings: tuple[str, ...] = ()
    if time.cycle_time is not None:
        cycle = tg.limit_cycle(params, time.cycle_time)
        values["cycle_time"] = cycle.cycle_time
        values |= _scalars(cycle, ("work", "heat", "power", "efficiency", "ergotropy", "energy", "purity"))
        warnings = tuple(cycle.warnings)
        title = f"two-stroke limit cycle, charging time {cycle.cycle_time:g}"
    elif time.time is not None:
        state = tg.state_at(params, time.time)
        values["time"] = state.time
        values |= _scalars(state, ("energy", "ergotropy", "capacity", "purity"))
        title = f"charging from the ground state of H, t = {state.time:g}"
    else:
        ness = tg.ness(params)
        values |= _scalars(ness, ("energy", "ergotropy", "capacity", "purity"))
        title = "non-equilibrium steady state"
    values["master_equation"] = params.master_equation
    values["warnings"] = list(warnings)
    return IdealResult(
        f"thermal-gradient battery: {title} ({params.master_equation} master equation)", values, warnings
    )


def _collective_ideal(params: collective.CollectiveParams, time: CollectiveTime, /) -> IdealResult:
    values: dict[str, Any] = {"model": "collective", "parameters": dataclasses.asdict(params)}
    if time.time is None:
        result = collective.steady_state(params)
        title = "steady state from |g...g>"
    else:
        result = collective.state_at(params, time.time)
        title = f"state at t = {result.time:g} from |g...g>"
        values["time"] = result.time
    values |= _scalars(result, ("energy", "ergotropy", "capacity", "purity"))
    return IdealResult(f"collective-dissipation battery, N = {params.n}: {title}", values)


def _micromaser_ideal(params: micromaser.MicromaserParams, time: None, /) -> IdealResult:
    result = micromaser.evolve(params)
    values: dict[str, Any] = {"model": "micromaser", "parameters": dataclasses.asdict(params)}
    values |= _scalars(
        result,
        (
            "collisions",
            "cutoff",
            "energy",
            "ergotropy",
            "truncated_capacity",
            "purity",
            "mean_photons",
            "top_level_population",
            "method",
            "error_bound",
            "cutoff_error",
            "cutoff_reference",
        ),
    )
    return IdealResult(f"micromaser battery after {result.collisions} collisions (cavity from vacuum)", values)


# -------------------------------------------------------------------------------------------------- circuits


def _charger_circuit(params: charger.ChargerParams, time: ChargerTime, options: None, /) -> MappedCircuit:
    return charger_circuit(params, time.time)


def _thermal_gradient_circuit(
    params: tg.ThermalGradientParams, time: ThermalGradientTime, options: ThermalGradientOptions | None, /
) -> MappedCircuit:
    if time.cycle_time is not None:
        raise ParameterError(
            "cycle_time",
            "omitted here: the two-stroke limit cycle is measured on two circuits, before and after the last "
            "extraction (qbhw run thermal-gradient --cycle-time runs it)",
            time.cycle_time,
        )
    _check_thermal_gradient(params, time, options)
    return thermal_gradient_circuit(params, time=time.time, **_given(options))


def _check_thermal_gradient(
    params: tg.ThermalGradientParams, time: ThermalGradientTime, options: ThermalGradientOptions | None, /
) -> None:
    """The circuit sizes known before any circuit is built (a limit cycle: ``qbhw.mapping.limit_cycle_steps``);
    --cycles only with --cycle-time."""
    given = _given(options)
    if time.cycle_time is None:
        if "cycles" in given:
            raise ParameterError("cycles", "given only with --cycle-time (the engine's limit cycle)", given["cycles"])
        return
    limit_cycle_steps(params, time.cycle_time, steps=given.get("steps"), cycles=given.get("cycles"))


def _collective_circuit(
    params: collective.CollectiveParams, time: CollectiveTime, options: CollectiveOptions | None, /
) -> MappedCircuit:
    return collective_circuit(params, time=time.time, **_given(options))


def _micromaser_circuit(
    params: micromaser.MicromaserParams, time: None, options: MicromaserOptions | None, /
) -> MappedCircuit:
    return micromaser_circuit(params)  # the noise option does not change the circuit


# -------------------------------------------------------------------------------------------- engine cycle


@dataclass(frozen=True, eq=False)
class EngineCycle:
    """What a limit-cycle run measures (``ModelSpec.cycle``): the register just before and just after the last
    extraction as two circuits (``MappedCircuit``s on the same virtual qubits; ``after`` is ``before`` followed by
    ``extraction_unitary`` on the register, physics order), the number of engine cycles and the cycle time (model
    units); ``heat_operator`` (on the register, physics order), whose change over the charging
    stroke is reported as the heat; the model's own work, hot-bath heat and efficiency (None where undefined); and
    the warnings of the point."""

    before: MappedCircuit
    after: MappedCircuit
    cycles: int
    cycle_time: float
    heat_operator: np.ndarray
    extraction_unitary: np.ndarray
    ideal_work: float
    bath_heat: float
    bath_efficiency: float | None
    warnings: tuple[str, ...] = ()


def _thermal_gradient_engine(
    params: tg.ThermalGradientParams, time: ThermalGradientTime, options: ThermalGradientOptions | None, /
) -> EngineCycle:
    """The two-stroke engine's limit cycle (``qbhw.mapping.limit_cycle_circuits``). Heat: the hot qubit's energy
    gain omega_a (<n_A>_before - <n_A>_after) over the charging stroke, which a register tomography measures and
    which is the hot bath's heat Q_A exactly at g = 0 (at g > 0 the exchange moves energy between A and S during
    the stroke; the model's Q_A is reported beside it)."""
    if time.cycle_time is None:
        raise TypeError("the thermal-gradient engine cycle needs time.cycle_time")
    _check_thermal_gradient(params, time, options)
    cyc = limit_cycle_circuits(params, time.cycle_time, **_given(options))
    details = cyc.before.details
    warnings = list(cyc.ideal.warnings)
    if "warning" in details:
        warnings.append(str(details["warning"]))
    if not details["tolerance_met"]:
        warnings.append(
            f"after the {cyc.cycles} given cycles the register is "
            f"{cyc.after.details['trace_distance_exact_local_me']:.3g} (trace distance) from the local-ME limit "
            f"cycle, more than the tolerance {details['tolerance']:g}: not yet the limit cycle"
        )
    hot = params.omega_a * np.kron(np.diag([0.0, 1.0]), np.eye(2))  # omega_a n_A, order (A, S)
    return EngineCycle(
        before=cyc.before,
        after=cyc.after,
        cycles=cyc.cycles,
        cycle_time=float(time.cycle_time),
        heat_operator=hot,
        extraction_unitary=np.asarray(cyc.ideal.extraction_unitary),
        ideal_work=float(cyc.ideal.work),
        bath_heat=float(cyc.ideal.heat),
        bath_efficiency=None if cyc.ideal.efficiency is None else float(cyc.ideal.efficiency),
        warnings=tuple(warnings),
    )


# ------------------------------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class ModelSpec:
    """One battery model (module docstring).

    name          the command-line name (``thermal-gradient``)
    help          one line for ``--help``
    params        the model's parameter dataclass (``qbhw.models``)
    time          the dataclass of its evolution time, or None when the time is a parameter (micromaser)
    options       the dataclass of its circuit options, or None
    ideal         ``ideal(params, time) -> IdealResult``: the exact ideal physics (``qbhw ideal``)
    circuit       ``circuit(params, time, options) -> MappedCircuit``: the logical circuit (``qbhw.mapping``)
    sweep_field   the field a range ``start:stop:step`` sweeps (in ``params`` or ``time``)
    axis_label    the plot's x-axis label for that field
    dicke_estimator   whether the Dicke-Z estimator (permutation-symmetric states, Z counts only) applies
    flag_metadata     extra metadata of ``params`` fields (``choices``, ``aliases``), by field name
    register_qubits   ``register_qubits(params) -> int``: the circuit's tomography register size, without building it
    figure_names      battery figures this model reports under another name (``capacity`` -> ``truncated_capacity``)
    sweep_fields      other fields a range may sweep instead (one at a time), with their axis labels
    cycle             ``cycle(params, time, options) -> EngineCycle``: the two circuits of an engine's limit cycle
                      (before and after the last extraction), used when ``time.cycle_time`` is set; None for models
                      without an engine cycle
    check_circuit     ``check_circuit(params, time, options)``: circuit sizes checked before any work (raises
                      ParameterError), or None
    """

    name: str
    help: str
    params: type
    time: type | None
    options: type | None
    ideal: Callable[[Any, Any], IdealResult]
    circuit: Callable[[Any, Any, Any], MappedCircuit]
    sweep_field: str
    axis_label: str
    dicke_estimator: bool = False
    flag_metadata: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    register_qubits: Callable[[Any], int] | None = None
    figure_names: Mapping[str, str] = field(default_factory=dict)
    sweep_fields: Mapping[str, str] = field(default_factory=dict)
    cycle: Callable[[Any, Any, Any], EngineCycle] | None = None
    check_circuit: Callable[[Any, Any, Any], None] | None = None

    def register_size(self, params: Any) -> int:
        """Qubits of the tomography register of ``params``' circuit, known before the circuit is built (the
        run-level size limits are checked with it before any work)."""
        if self.register_qubits is None:
            raise TypeError(f"{self.name}: no register_qubits in its ModelSpec")
        return int(self.register_qubits(params))

    def figure_name(self, key: str) -> str:
        """The name under which this model reports the battery figure ``key`` (``figure_names``; e.g. the
        micromaser's ``capacity`` is ``truncated_capacity``: the capacity within the truncated Fock space)."""
        return self.figure_names.get(key, key)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields(run=True)]
        if len(set(names)) != len(names):
            raise TypeError(f"{self.name}: a field name is used twice in params, time and options: {names}")
        for name in (self.sweep_field, *self.sweep_fields):
            if name not in {f.name for f in self.fields(run=False)}:
                raise TypeError(f"{self.name}: sweep field {name!r} is not a params or time field")

    @property
    def swept_fields(self) -> tuple[str, ...]:
        """Every field a range may sweep: ``sweep_field`` first, then ``sweep_fields``."""
        return (self.sweep_field, *self.sweep_fields)

    def axis_label_of(self, name: str) -> str:
        """The plot's x-axis label when the field ``name`` is swept."""
        return self.axis_label if name == self.sweep_field else self.sweep_fields.get(name, name.replace("_", " "))

    def runs_cycle(self, time: Any) -> bool:
        """Whether ``time`` asks for the engine's limit cycle (two circuits, ``cycle``) instead of one circuit."""
        return self.cycle is not None and getattr(time, "cycle_time", None) is not None

    def check_inputs(self, params: Any, time: Any, options: Any) -> None:
        """``check_circuit`` (sizes known before any circuit is built), when the model has one."""
        if self.check_circuit is not None:
            self.check_circuit(params, time, options)

    def fields(self, *, run: bool) -> tuple[ModelField, ...]:
        """The model's flags: params and time fields, plus the circuit options for ``qbhw run`` (``run=True``)."""
        out = _fields_of(self.params, "params", self.flag_metadata) + _fields_of(self.time, "time", {})
        return out + (_fields_of(self.options, "options", {}) if run else ())

    def inputs(self, values: Mapping[str, Any]) -> tuple[Any, Any, Any]:
        """(params, time, options) from flag values by field name; a missing or None value takes the dataclass
        default. Errors are ParameterErrors naming the field."""

        def build(cls: type | None) -> Any:
            if cls is None:
                return None
            names = {f.name for f in dataclasses.fields(cls) if f.init}
            return cls(**{k: v for k, v in values.items() if k in names and v is not None})

        return build(self.params), build(self.time), build(self.options)

    def with_value(self, params: Any, time: Any, value: Any, name: str | None = None) -> tuple[Any, Any]:
        """(params, time) with the swept field ``name`` (default ``sweep_field``) set to ``value`` (validated by
        the dataclass)."""
        name = self.sweep_field if name is None else name
        if name in {f.name for f in dataclasses.fields(self.params)}:
            return dataclasses.replace(params, **{name: value}), time
        return params, dataclasses.replace(time, **{name: value})

    def sweep_value(self, params: Any, time: Any, name: str | None = None) -> Any:
        """The current value of the swept field ``name`` (default ``sweep_field``; None when unset, e.g. the
        thermal-gradient NESS)."""
        name = self.sweep_field if name is None else name
        owner = params if name in {f.name for f in dataclasses.fields(self.params)} else time
        return getattr(owner, name)

    def check(self, params: Any, time: Any, options: Any) -> None:
        """Raise TypeError unless the three inputs are this model's dataclasses (a programming error)."""
        for what, cls, value, optional in (
            ("params", self.params, params, False),
            ("time", self.time, time, False),
            ("options", self.options, options, True),
        ):
            ok = value is None if cls is None else isinstance(value, cls) or (optional and value is None)
            if not ok:
                wanted = "None" if cls is None else cls.__name__ + (" or None" if optional else "")
                raise TypeError(f"{self.name}: {what} must be {wanted}, not {type(value).__name__}")


MODELS: Mapping[str, ModelSpec] = types.MappingProxyType(
    {
        "charger": ModelSpec(
            name="charger",
            help="charger-battery spins: battery capacity against quantum resources (docs/physics.md section 2)",
            params=charger.ChargerParams,
            time=ChargerTime,
            options=None,
            ideal=_charger_ideal,
            circuit=_charger_circuit,
            sweep_field="time",
            axis_label="charging time t",
            register_qubits=lambda params: 2,
        ),
        "thermal-gradient": ModelSpec(
            name="thermal-gradient",
            help="two qubits between a hot and a cold bath: NESS, charging, two-stroke cycle (docs/physics.md "
            "section 1)",
            params=tg.ThermalGradientParams,
            time=ThermalGradientTime,
            options=ThermalGradientOptions,
            ideal=_thermal_gradient_ideal,
            circuit=_thermal_gradient_circuit,
            sweep_field="time",
            axis_label="charging time t",
            flag_metadata={
                "temperature_a": {"aliases": ("--t-a",)},
                "temperature_s": {"aliases": ("--t-s",)},
                "master_equation": {"choices": tg.MASTER_EQUATIONS},
            },
            register_qubits=lambda params: 2,
            sweep_fields={"cycle_time": "cycle time tau (charging stroke)"},
            cycle=_thermal_gradient_engine,
            check_circuit=_check_thermal_gradient,
        ),
        "collective": ModelSpec(
            name="collective",
            help="N cells collectively coupled to a thermal bath, optional local channels (docs/physics.md section 3)",
            params=collective.CollectiveParams,
            time=CollectiveTime,
            options=CollectiveOptions,
            ideal=_collective_ideal,
            circuit=_collective_circuit,
            sweep_field="time",
            axis_label="time gamma t",
            dicke_estimator=True,
            register_qubits=lambda params: int(params.n),
        ),
        "micromaser": ModelSpec(
            name="micromaser",
            help="a cavity charged by a stream of atoms through Jaynes-Cummings collisions (docs/physics.md section 4)",
            params=micromaser.MicromaserParams,
            time=None,
            options=MicromaserOptions,
            ideal=_micromaser_ideal,
            circuit=_micromaser_circuit,
            sweep_field="collisions",
            axis_label="collisions K",
            flag_metadata={"coupling": {"choices": micromaser.COUPLINGS}},
            register_qubits=lambda params: cavity_levels(params)[1],
            figure_names={"capacity": "truncated_capacity"},
        ),
    }
)


def model_spec(name: str) -> ModelSpec:
    """The ModelSpec of ``name``; ParameterError("model") for an unknown name."""
    if name not in MODELS:
        raise ParameterError("model", "one of " + ", ".join(MODELS), name)
    return MODELS[name]
