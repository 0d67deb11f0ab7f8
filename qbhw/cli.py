"""The ``qbhw`` command line (docs/design.md section 3).

Physics flags are in units of the model's reference frequency (hbar = k_B = 1). ``--json`` prints one JSON object
to stdout; warnings go to stderr. Bad input gives one line ``qbhw: error: ...`` naming the flag and what is allowed,
and exit status 2, with no traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from qbhw import __version__
from qbhw.errors import ParameterError, QbhwError
from qbhw.report import table, to_json

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit with status 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"qbhw: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


@dataclass(frozen=True)
class Flag:
    """A command-line flag; ``dest`` is the parameter field it sets (``--omega-b`` -> ``omega_b``)."""

    name: str
    type: Callable[[str], Any]
    help: str
    default: Any = None
    choices: tuple[str, ...] | None = None
    required: bool = False
    aliases: tuple[str, ...] = ()  # older spellings, still accepted

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Outcome:
    """What a command computed: a title, values keyed like the JSON output, and warnings."""

    title: str
    values: dict[str, Any]
    warnings: tuple[str, ...] = ()
    rows: list[tuple[str, Any]] | None = None  # the table to print, when it is not the values themselves
    text: str | None = None  # preformatted text to print instead of a table


@dataclass(frozen=True)
class IdealCommand:
    name: str
    help: str
    flags: tuple[Flag, ...]
    run: Callable[[argparse.Namespace], Outcome]
    params_type: str  # "module:Class" of the parameter dataclass (imported only to show defaults in --help)


def _params(params_type: type, args: argparse.Namespace) -> Any:
    """Build a parameter dataclass from the flags that match its fields (None means: the dataclass default)."""
    names = {f.name for f in dataclasses.fields(params_type)}
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}
    return params_type(**given)


def _scalars(result: Any, keys: Sequence[str]) -> dict[str, Any]:
    return {k: getattr(result, k) for k in keys}


# --------------------------------------------------------------------------------------------------- charger

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


def _run_charger(args: argparse.Namespace) -> Outcome:
    from qbhw.models import charger

    params = _params(charger.ChargerParams, args)
    result = charger.evolve(params, args.time)
    values = {"model": "charger", "parameters": dataclasses.asdict(params), "time": result.time}
    values |= _scalars(result, _CHARGER_KEYS)
    return Outcome(f"charger-battery spins at t = {result.time:g} (battery b, from |0>_b|1>_c)", values)


# ----------------------------------------------------------------------------------------- thermal gradient


def _run_thermal_gradient(args: argparse.Namespace) -> Outcome:
    from qbhw.models import thermal_gradient as tg

    params = _params(tg.ThermalGradientParams, args)
    if args.time is not None and args.cycle_time is not None:
        raise ParameterError("time", "omitted when --cycle-time is given (choose one of them)", args.time)
    values: dict[str, Any] = {"model": "thermal-gradient", "parameters": dataclasses.asdict(params)}
    warnings: tuple[str, ...] = ()
    if args.cycle_time is not None:
        cycle = tg.limit_cycle(params, args.cycle_time)
        values["cycle_time"] = cycle.cycle_time
        values |= _scalars(cycle, ("work", "heat", "power", "efficiency", "ergotropy", "energy", "purity"))
        warnings = tuple(cycle.warnings)
        title = f"two-stroke limit cycle, charging time {cycle.cycle_time:g}"
    elif args.time is not None:
        state = tg.state_at(params, args.time)
        values["time"] = state.time
        values |= _scalars(state, ("energy", "ergotropy", "capacity", "purity"))
        title = f"charging from the ground state of H, t = {state.time:g}"
    else:
        ness = tg.ness(params)
        values |= _scalars(ness, ("energy", "ergotropy", "capacity", "purity"))
        title = "non-equilibrium steady state"
    values["master_equation"] = params.master_equation
    values["warnings"] = list(warnings)
    return Outcome(f"thermal-gradient battery: {title} ({params.master_equation} master equation)", values, warnings)


# ---------------------------------------------------------------------------------------------- collective


def _run_collective(args: argparse.Namespace) -> Outcome:
    from qbhw.models import collective

    params = _params(collective.CollectiveParams, args)
    if args.time is None:
        result = collective.steady_state(params)
        title = "steady state from |g...g>"
    else:
        result = collective.state_at(params, args.time)
        title = f"state at t = {result.time:g} from |g...g>"
    values: dict[str, Any] = {"model": "collective", "parameters": dataclasses.asdict(params)}
    if args.time is not None:
        values["time"] = result.time
    values |= _scalars(result, ("energy", "ergotropy", "capacity", "purity"))
    return Outcome(f"collective-dissipation battery, N = {params.n}: {title}", values)


# ---------------------------------------------------------------------------------------------- micromaser


def _run_micromaser(args: argparse.Namespace) -> Outcome:
    from qbhw.models import micromaser

    params = _params(micromaser.MicromaserParams, args)
    result = micromaser.evolve(params)
    values: dict[str, Any] = {"model": "micromaser", "parameters": dataclasses.asdict(params)}
    values |= _scalars(
        result,
        ("collisions", "cutoff", "energy", "ergotropy", "capacity", "purity", "mean_photons", "top_level_population"),
    )
    return Outcome(f"micromaser battery after {result.collisions} collisions (cavity from vacuum)", values)


IDEAL_COMMANDS: tuple[IdealCommand, ...] = (
    IdealCommand(
        name="charger",
        help="charger-battery spins: battery capacity against quantum resources (docs/physics.md section 2)",
        flags=(
            Flag("--omega-b", float, "battery frequency, > 0"),
            Flag("--omega-c", float, "charger frequency, > 0"),
            Flag("--j1", float, "flip-flop coupling J1, finite"),
            Flag("--j2", float, "Ising coupling J2, finite"),
            Flag("--time", float, "evolution time from |0>_b|1>_c, >= 0", default=0.3),
        ),
        run=_run_charger,
        params_type="qbhw.models.charger:ChargerParams",
    ),
    IdealCommand(
        name="thermal-gradient",
        help="two qubits between a hot and a cold bath: NESS, charging, two-stroke cycle (docs/physics.md section 1)",
        flags=(
            Flag("--omega-a", float, "hot-side qubit frequency, > 0"),
            Flag("--omega-s", float, "cold-side qubit frequency, > 0"),
            Flag("--temperature-a", float, "hot-bath temperature, >= 0", aliases=("--t-a",)),
            Flag("--temperature-s", float, "cold-bath temperature, >= 0", aliases=("--t-s",)),
            Flag("--gamma", float, "system-bath rate (flat spectral density), > 0"),
            Flag("--g", float, "qubit-qubit exchange coupling, >= 0"),
            Flag(
                "--master-equation", str, "global (thermodynamically consistent) or local", choices=("global", "local")
            ),
            Flag("--time", float, "charging time from the ground state of H, >= 0 (default: the NESS)"),
            Flag("--cycle-time", float, "charging time of the two-stroke limit cycle, > 0"),
        ),
        run=_run_thermal_gradient,
        params_type="qbhw.models.thermal_gradient:ThermalGradientParams",
    ),
    IdealCommand(
        name="collective",
        help="N cells collectively coupled to a thermal bath, optional local channels (docs/physics.md section 3)",
        flags=(
            Flag("--n", int, "number of cells N, integer >= 1", required=True),
            Flag("--temperature", float, "temperature of the collective bath, >= 0", required=True),
            Flag("--gamma", float, "collective rate, >= 0"),
            Flag("--gamma-local", float, "local emission/absorption rate per cell, >= 0"),
            Flag("--local-temperature", float, "temperature of the local channels, >= 0"),
            Flag("--dephasing", float, "local pure-dephasing rate per cell, >= 0"),
            Flag("--time", float, "evolution time from |g...g>, >= 0 (default: the steady state)"),
        ),
        run=_run_collective,
        params_type="qbhw.models.collective:CollectiveParams",
    ),
    IdealCommand(
        name="micromaser",
        help="a cavity charged by a stream of atoms through Jaynes-Cummings collisions (docs/physics.md section 4)",
        flags=(
            Flag("--g-tau", float, "coupling times interaction time per collision, > 0"),
            Flag("--p-excited", float, "excited population P of each atom, in [0, 1]"),
            Flag("--coherence", float, "atomic coherence C (fraction of the pure-state value), in [0, 1]"),
            Flag("--collisions", int, "number of collisions K, integer >= 0"),
            Flag("--cutoff", int, "Fock cutoff D (default: automatic; the run fails if the top level fills)"),
            Flag("--cavity-loss", float, "cavity damping kappa*dt between collisions, >= 0"),
            Flag("--thermal-photons", float, "mean thermal photon number of the cavity's bath, >= 0"),
            Flag(
                "--coupling",
                str,
                "jaynes-cummings (sqrt(n) ladder) or ladder (Geneva quantum walk)",
                choices=("jaynes-cummings", "ladder"),
            ),
            Flag("--cutoff-tolerance", float, "largest population allowed in the top Fock level, in (0, 1)"),
        ),
        run=_run_micromaser,
        params_type="qbhw.models.micromaser:MicromaserParams",
    ),
)


# ------------------------------------------------------------------------------------------------------ run


@dataclass(frozen=True)
class RunModel:
    """How ``qbhw run MODEL`` builds experiments: which flag may be a range, and which flags are circuit options
    (keyword arguments of the mapping's builder) rather than model parameters."""

    sweepable: str  # dest of the flag that accepts start:stop:step
    integer: bool  # whether that flag is an integer
    options: tuple[str, ...]  # dests passed to the circuit builder
    extra_flags: tuple[Flag, ...] = ()
    axis: str = ""  # plot axis label
    unsupported: tuple[tuple[str, str], ...] = ()  # (dest, why) of ideal flags that have no circuit mapping yet


RUN_MODELS: dict[str, RunModel] = {
    "charger": RunModel("time", False, ("time",), axis="charging time t"),
    "thermal-gradient": RunModel(
        "time",
        False,
        ("time", "steps"),
        extra_flags=(Flag("--steps", int, "Trotter/collision steps of the circuit (default: the mapping's choice)"),),
        axis="charging time t",
        unsupported=(
            (
                "cycle_time",
                "omitted for qbhw run: the two-stroke limit cycle has no circuit mapping yet "
                "(qbhw ideal thermal-gradient --cycle-time computes it)",
            ),
        ),
    ),
    "collective": RunModel(
        "time",
        False,
        ("time", "collisions", "theta", "exchange"),
        extra_flags=(
            Flag("--collisions", int, "ancilla collisions in the circuit (default: the mapping's choice)"),
            Flag("--theta", float, "collision angle of the ancilla exchange (default: the mapping's choice)"),
            Flag(
                "--exchange",
                str,
                "exact multi-qubit exchange or its palindromic two-qubit product",
                choices=("exact", "palindromic"),
            ),
        ),
        axis="time gamma t",
    ),
    "micromaser": RunModel(
        "collisions",
        True,
        ("encoding",),
        extra_flags=(Flag("--encoding", str, "cavity encoding on qubits", choices=("binary", "unary")),),
        axis="collisions K",
    ),
}


def _progress(done: int, total: int, index: int) -> None:
    """A bar redrawn in place on a terminal; one line per point otherwise (logs, CI)."""
    if sys.stderr.isatty():
        width = 30
        filled = int(round(width * done / max(total, 1)))
        sys.stderr.write(f"\rqbhw: [{'#' * filled}{'.' * (width - filled)}] {done}/{total} points")
        if done == total:
            sys.stderr.write("\n")
    else:
        what = "loaded from --out" if index < 0 else f"point {index} done"
        sys.stderr.write(f"qbhw: {done}/{total} points ({what})\n")
    sys.stderr.flush()


def _out_dir(path: str, force: bool) -> Any:
    from pathlib import Path

    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ParameterError("out", "a directory (it is an existing file)", path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".qbhw_write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ParameterError("out", f"a directory that can be written ({exc.strerror})", path) from None
    if (out / "result.json").exists() and not force:
        raise QbhwError(f"{out / 'result.json'} exists; pass --force to replace it or choose another --out")
    if force:  # start over: points stored by an earlier run are not reused
        import shutil

        shutil.rmtree(out / "points", ignore_errors=True)
    return out


def _run_run(args: argparse.Namespace) -> Outcome:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from qbhw.experiments import Experiment, PointStore, parse_range, run_points
    from qbhw.experiments.records import grid, plot, three_way_rows
    from qbhw.hardware import default_device, load_calibration, noiseless

    spec = RUN_MODELS[args.model]
    command = next(c for c in IDEAL_COMMANDS if c.name == args.model)
    params_type = _params_class(command)
    for dest, why in spec.unsupported:
        if getattr(args, dest, None) is not None:
            raise ParameterError(dest, why, getattr(args, dest))
    raw = getattr(args, spec.sweepable)
    values: tuple[Any, ...] = (None,) if raw is None else parse_range(raw, spec.sweepable, integer=spec.integer)
    device = default_device() if args.device is None else load_calibration(args.device)
    if args.noiseless:
        device = noiseless(device)
    if args.workers < 1:
        raise ParameterError("workers", "an integer >= 1", args.workers)
    out = _out_dir(args.out, args.force) if args.out else None
    experiments = []
    for k, v in enumerate(values):
        point = argparse.Namespace(**vars(args))
        setattr(point, spec.sweepable, v)
        params = _params(params_type, point)
        options = tuple((o, getattr(point, o)) for o in spec.options if getattr(point, o, None) is not None)
        experiments.append(
            Experiment(
                model=args.model,
                params=params,
                device=device,
                options=options,
                shots=args.shots,
                seed=args.seed + k,
                mitigate_readout=not args.no_readout_mitigation,
                bootstrap=args.bootstrap,
                estimator=args.estimator,
            )
        )
    store = PointStore(out) if out is not None else None
    progress = _progress if len(experiments) > 1 or args.workers > 1 else None
    if args.workers > 1 and len(experiments) > 1:
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=get_context("spawn")) as pool:
            points = run_points(experiments, executor=pool, store=store, progress=progress)
    else:
        points = run_points(experiments, store=store, progress=progress)
    records = [p["record"] for p in points]
    first = records[0]
    if len(records) == 1:
        values_out: dict[str, Any] = first
        header, rows = three_way_rows(first)
        text = grid(header, rows)
        c = first["circuit"]
        title = (
            f"{args.model} on {first['device']} (qubits {c['physical_qubits']}, register "
            f"{c['register_physical_qubits']}; {c['two_qubit_gates']} two-qubit gates, depth {c['depth']}, "
            f"{c['duration_ns'] / 1000:.1f} us), shots {first['shots']}, "
            f"seed {first['seed']}"
        )
    else:
        values_out = {
            "model": args.model,
            "device": first["device"],
            "shots": first["shots"],
            "seed": args.seed,
            "qiskit_version": first["qiskit_version"],
            "sweep": {"parameter": spec.sweepable, "values": list(values)},
            "points": records,
        }
        header = [spec.sweepable, "ideal W", "circuit W", "noisy W", "measured W [CI]"]
        rows = []
        for v, r in zip(values, records, strict=True):
            m = r["measured"]
            meas = "-" if not m else f"{m['ergotropy']:.4f} [{m['ergotropy_ci'][0]:.4f}, {m['ergotropy_ci'][1]:.4f}]"
            rows.append(
                [
                    f"{v:g}",
                    f"{r['ideal']['ergotropy']:.4f}",
                    f"{r['circuit']['ergotropy']:.4f}",
                    f"{r['noisy']['ergotropy']:.4f}",
                    meas,
                ]
            )
        text = grid(header, rows)
        title = (
            f"{args.model} on {first['device']}: ergotropy vs {spec.sweepable}, shots {first['shots']} per point, "
            f"seed {args.seed}"
        )
    estimator = first["measured"]["estimator"] if first["measured"] else "none (shots 0)"
    text = f"{title}\n{'-' * len(title)}\n{text}\n(measured: estimator {estimator}; circuit = the noiseless circuit)"
    if out is not None:
        from qbhw._files import write_atomic

        counts = [p["counts"] for p in points] if len(points) > 1 else points[0]["counts"]
        write_atomic(out / "counts.json", to_json({"counts": counts}) + "\n")
        xs = [0.0 if v is None else float(v) for v in values]
        plot(records, xs, spec.axis, out / "ergotropy.png", title=f"{args.model} on {first['device']}")
        write_atomic(out / "result.json", to_json(values_out) + "\n")  # last: its presence marks a finished run
        text += f"\nwrote {out / 'result.json'}, {out / 'counts.json'}, {out / 'ergotropy.png'}"
    return Outcome(title, values_out, text=text)


def _add_run_parser(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run a battery on a (simulated) device: ideal, noisy prediction and measured with CI",
        description="Map a battery model to a circuit, run it on Qiskit Aer with a device's noise, and compare "
        "ideal, noisy-predicted and tomographically measured ergotropy.",
    )
    models = run.add_subparsers(dest="model", metavar="MODEL", parser_class=_Parser)
    models.required = True
    for command in IDEAL_COMMANDS:
        spec = RUN_MODELS[command.name]
        sub = models.add_parser(command.name, help=command.help, description=command.help)
        _add_flags(sub, command.flags + spec.extra_flags, _defaults(command), sweepable=spec.sweepable)
        sub.add_argument(
            "--device",
            help="device name in calibrations/ or a calibration JSON path (default: the embedded default device)",
        )
        sub.add_argument(
            "--noiseless",
            action="store_true",
            help="remove every error from the device (checks mapping, transpilation and tomography)",
        )
        sub.add_argument(
            "--shots",
            type=int,
            default=None,
            help="total shots, split over the tomography settings; 0 skips the measurement (default 8192 per setting)",
        )
        sub.add_argument("--seed", type=int, default=0, help="seed of sampling and bootstrap (default 0)")
        sub.add_argument("--bootstrap", type=int, default=200, help="bootstrap samples (default 200)")
        sub.add_argument(
            "--estimator",
            default="auto",
            choices=("auto", "full-pauli", "dicke-z"),
            help="tomography estimator (default auto: full Pauli tomography, up to 6 register qubits)",
        )
        sub.add_argument(
            "--no-readout-mitigation", action="store_true", help="fit without the calibration's readout confusion"
        )
        sub.add_argument("--workers", type=int, default=1, help="parallel processes for sweep points (default 1)")
        sub.add_argument(
            "--out", help="folder for result.json, counts.json and ergotropy.png; an interrupted sweep resumes there"
        )
        sub.add_argument(
            "--force", action="store_true", help="replace an existing result in --out and discard its stored points"
        )
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
        sub.set_defaults(_run=_run_run)


# ------------------------------------------------------------------------------------------------- devices


def _run_devices(args: argparse.Namespace) -> Outcome:
    from qbhw.hardware import list_device_summaries

    summaries = list_device_summaries()
    devices = [dataclasses.asdict(s) for s in summaries]
    return Outcome("device snapshots in calibrations/", {"devices": devices}, rows=_device_rows(summaries))


def _device_rows(summaries: Sequence[Any]) -> list[tuple[str, Any]]:
    rows = []
    for s in summaries:
        two_q = "n/a" if s.median_2q_error is None else f"{s.median_2q_error:.2e}"
        rows.append(
            (
                s.name + (" (default)" if s.default else ""),
                f"{s.num_qubits} qubits, {s.num_resonators} resonators; median T1 {s.median_t1_us:.0f} us, "
                f"T2 {s.median_t2_us:.0f} us, readout error {s.median_readout_error:.2e}, "
                f"p_excited {s.median_excited_population:.2e}, 2q error {two_q}; {s.source}, {s.date}",
            )
        )
    return rows


def _run_devices_import(args: argparse.Namespace) -> Outcome:
    from pathlib import Path

    from qbhw.hardware import calibrations_dir, import_fake_backend, save_calibration

    cal = import_fake_backend(args.name)
    out = Path(args.out) if args.out else calibrations_dir() / f"{cal.name}.json"
    if out.exists() and not args.force:
        raise QbhwError(f"{out} exists; pass --force to replace it or --out to write elsewhere")
    path = save_calibration(cal, out)
    values = {
        "device": cal.name,
        "path": str(path),
        "num_qubits": cal.num_qubits,
        "source": cal.source,
        "date": cal.date,
    }
    return Outcome(f"imported {cal.name}", values)


# ----------------------------------------------------------------------------------------------- the parser


def _add_flags(
    sub: argparse.ArgumentParser, flags: Sequence[Flag], defaults: dict[str, Any], sweepable: str | None = None
) -> None:
    """Add model flags to a subcommand; ``defaults`` (the parameter dataclass's) are shown in the help. The
    ``sweepable`` flag is read as text, so that it can hold a range start:stop:step."""
    for flag in flags:
        shown = defaults.get(flag.dest, flag.default)
        help_text = flag.help + (f" (default {shown})" if shown is not None else "")
        sweep = flag.dest == sweepable
        if sweep:
            help_text += "; a range start:stop:step (inclusive) runs a sweep"
        sub.add_argument(
            flag.name,
            *flag.aliases,
            dest=flag.dest,
            type=str if sweep else flag.type,
            default=flag.default,
            choices=flag.choices,
            help=help_text,
            metavar=None if flag.choices else flag.dest.upper(),
            required=flag.required,
        )


def _params_class(command: IdealCommand) -> type:
    """The parameter dataclass named by ``command.params_type`` ("module:Class")."""
    module, name = command.params_type.split(":")
    return getattr(importlib.import_module(module), name)


def _defaults(command: IdealCommand) -> dict[str, Any]:
    params_type = _params_class(command)
    return {f.name: f.default for f in dataclasses.fields(params_type) if f.default is not dataclasses.MISSING}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qbhw", description="Quantum batteries from the literature onto quantum hardware.")
    parser.add_argument("--version", action="version", version=f"qbhw {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    ideal = commands.add_parser("ideal", help="exact ideal physics of a battery model")
    models = ideal.add_subparsers(dest="model", metavar="MODEL", parser_class=_Parser)
    models.required = True
    for command in IDEAL_COMMANDS:
        sub = models.add_parser(command.name, help=command.help, description=command.help)
        _add_flags(sub, command.flags, _defaults(command))
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
        sub.set_defaults(_run=command.run)

    _add_run_parser(commands)

    devices = commands.add_parser(
        "devices",
        help="list the embedded device snapshots, or import one",
        description="List the device calibration snapshots in calibrations/.",
    )
    devices.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    devices.set_defaults(_run=_run_devices)
    device_commands = devices.add_subparsers(dest="devices_command", metavar="SUBCOMMAND", parser_class=_Parser)
    imp = device_commands.add_parser(
        "import", help="snapshot a qiskit-ibm-runtime fake backend into calibrations/ (needs the ibm extra)"
    )
    imp.add_argument("name", help="fake backend, e.g. FakeTorino, fake_torino or torino")
    imp.add_argument("--out", help="where to write the JSON (default calibrations/<name>.json)")
    imp.add_argument("--force", action="store_true", help="replace an existing file")
    imp.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    imp.set_defaults(_run=_run_devices_import)
    return parser


def _flag_name(parameter: str) -> str:
    return "--" + parameter.replace("_", "-")


def _fail(message: str) -> int:
    sys.stderr.write(f"qbhw: error: {message}\n")
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        outcome = args._run(args)
    except ParameterError as exc:
        return _fail(f"{_flag_name(exc.parameter)} must be {exc.allowed} (got {exc.got!r})")
    except QbhwError as exc:
        return _fail(str(exc))
    for warning in outcome.warnings:
        sys.stderr.write(f"qbhw: warning: {warning}\n")
    if args.json:
        sys.stdout.write(to_json(outcome.values) + "\n")
    elif outcome.text is not None:
        sys.stdout.write(outcome.text + "\n")
    elif outcome.rows is not None:
        sys.stdout.write(table(outcome.rows, title=outcome.title) + "\n")
    else:
        rows = [(k, v) for k, v in outcome.values.items() if k not in ("parameters", "model", "warnings")]
        rows = [(k, v) for k, v in rows if not (isinstance(v, float) and math.isnan(v))]
        text = table(rows, title=outcome.title)
        if "parameters" in outcome.values:
            text += "\n(parameters: " + ", ".join(f"{k}={v}" for k, v in outcome.values["parameters"].items()) + ")"
        sys.stdout.write(text + "\n")
    return 0


def entry() -> None:  # pragma: no cover - console-script shim
    raise SystemExit(main())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
