"""The ``qbhw`` command line (docs/design.md section 3): parsing and dispatch only.

Model flags come from the model catalogue (``qbhw.experiments.MODELS``): one flag per field of a model's
parameter, time and circuit-options dataclasses, with the field's help. Physics flags are in units of the model's
reference frequency (hbar = k_B = 1). ``--json`` prints one JSON object to stdout; warnings and progress go to
stderr. Bad input gives one line ``qbhw: error: ...`` naming the flag and what is allowed, exit status 2, no
traceback; a failure that is qbhw's own fault gives one line ``qbhw: internal error: ...`` and exit status 1.
The whole command runs with BLAS/OpenMP threads limited (``qbhw._threads``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from qbhw import __version__
from qbhw._json import to_json
from qbhw._threads import limit_threads
from qbhw.errors import NonFiniteResultError, ParameterError, QbhwError

EXIT_USAGE = 2
EXIT_INTERNAL = 1
#: 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit with status 2, and which records the destinations of
    its flags (``flag_dests``): the parameters an error may name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.flag_dests: set[str] = set()
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        if action.option_strings:
            self.flag_dests.add(action.dest)
        return action

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"qbhw: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


@dataclass(frozen=True)
class Outcome:
    """What a command computed: a title, values keyed like the JSON output, and warnings; ``rows`` is the table to
    print when it is not the values themselves, ``text`` preformatted text to print instead of a table."""

    title: str
    values: dict[str, Any]
    warnings: tuple[str, ...] = ()
    rows: list[tuple[str, Any]] | None = None
    text: str | None = None


def _add_json(sub: _Parser) -> None:
    """The ``--json`` flag every command has (docs/design.md section 3: one JSON object on stdout)."""
    sub.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def _finish(sub: _Parser, run: Callable[[argparse.Namespace], Outcome]) -> None:
    """Register ``run`` and the flags an error may name (call after the last ``add_argument``)."""
    defaults = {a.dest: a.default for a in sub._actions if a.option_strings}
    sub.set_defaults(_run=run, _flags=frozenset(sub.flag_dests), _command=sub.prog, _defaults=defaults)


# ---------------------------------------------------------------------------------------------- model flags


def _add_model_flags(sub: _Parser, fields: Sequence[Any], *, sweep: Sequence[str] = ()) -> None:
    """One flag per catalogue field (``qbhw.experiments.ModelField``), with its help and default; the ``sweep``
    fields are read as text, so that they can hold a range start:stop:step. A flag the user does not give is None:
    the dataclass default applies."""
    for f in fields:
        help_text = f.help + (f" (default {f.default})" if f.default is not None else "")
        is_sweep = f.name in sweep
        if is_sweep:
            help_text += "; a range start:stop:step (inclusive) runs a sweep"
        sub.add_argument(
            f.flag,
            *f.aliases,
            dest=f.name,
            type=str if is_sweep else f.kind,
            default=None,
            choices=f.choices,
            help=help_text,
            metavar=None if f.choices else f.name.upper(),
            required=f.required,
        )


def _model_values(args: argparse.Namespace, fields: Sequence[Any]) -> dict[str, Any]:
    return {f.name: getattr(args, f.name) for f in fields}


# ---------------------------------------------------------------------------------------------------- ideal


def _run_ideal(args: argparse.Namespace) -> Outcome:
    from qbhw.experiments import model_spec

    spec = model_spec(args.model)
    params, time, _ = spec.inputs(_model_values(args, spec.fields(run=False)))
    result = spec.ideal(params, time)
    return Outcome(result.title, dict(result.values), result.warnings)


# ------------------------------------------------------------------------------------------------------ run


def _run_run(args: argparse.Namespace) -> Outcome:
    from qbhw import report
    from qbhw.experiments import CYCLE_KEYS, FIGURE_KEYS, PointStore, check_job, experiments_for, model_spec, run_job
    from qbhw.hardware import default_device, noiseless

    spec = model_spec(args.model)
    fields = spec.fields(run=True)
    values = _model_values(args, fields)
    sweep_field, sweep = _sweep(spec, fields, values)
    params, time, options = spec.inputs(values)
    first = spec.with_value(params, time, sweep[0], sweep_field)[1] if sweep else time
    cycle = spec.runs_cycle(first)
    figure = args.plot if args.plot is not None else ("work" if cycle else "ergotropy")
    if figure in CYCLE_KEYS and not cycle:
        raise ParameterError("plot", "one of " + ", ".join(FIGURE_KEYS) + " (the others need --cycle-time)", figure)
    if args.out is not None and not args.out.strip():
        raise ParameterError("out", "a folder name (it is empty)", args.out)
    if args.device is not None and not args.device.strip():
        raise ParameterError("device", "a device name or the path of a calibration file (it is empty)", args.device)
    device = default_device() if args.device is None else _device(args.device)
    if args.noiseless:
        device = noiseless(device)
    settings: dict[str, Any] = dict(
        time=time,
        options=options,
        sweep=sweep,
        shots=args.shots,
        seed=args.seed,
        mitigate_readout=not args.no_readout_mitigation,
        bootstrap=args.bootstrap,
        estimator=args.estimator,
        measurement=args.measurement,
        layouts=args.layouts,
        sweep_field=sweep_field,
    )
    check_job(experiments_for(args.model, params, device=device, **settings), args.workers)  # before any work
    many = sweep is not None and len(sweep) > 1
    parallel = args.workers > 1 or args.scheduler is not None

    def run(store: PointStore | None) -> Any:
        quiet = args.quiet
        job = run_job(
            args.model,
            params,
            device=device,
            workers=args.workers,
            scheduler=args.scheduler,
            store=store,
            progress=report.progress_printer() if (many or parallel) and not quiet else None,
            stages=None if quiet else report.stage_printer(len(sweep) if sweep else 1),
            **settings,
        )
        if not quiet:
            report.end_progress()
        return job

    if args.out is None:
        job = run(None)
        text = report.run_text(job, figure)
    else:
        with report.result_directory(args.out, force=args.force, command=" ".join(sys.argv)) as out:
            job = run(PointStore(out))
            _check_finite(report.run_json(job))
            paths = report.write_run_outputs(job, out, figure)
        text = report.run_text(job, figure) + "\nwrote " + ", ".join(str(p) for p in paths)
    return Outcome(report.run_title(job, figure), report.run_json(job), report.run_warnings(job), text=text)


def _sweep(spec: Any, fields: Sequence[Any], values: dict[str, Any]) -> tuple[str, tuple[Any, ...] | None]:
    """(the swept field, its values or None) from the model's sweepable flags (``ModelSpec.swept_fields``): the one
    holding a range start:stop:step, else the first given; the other given ones are single numbers, put back into
    ``values``. At most one range."""
    from qbhw.experiments import parse_range

    kinds = {f.name: f.kind for f in fields}
    parsed = {}
    for name in spec.swept_fields:
        raw = values.pop(name)
        if raw is not None:
            parsed[name] = parse_range(raw, name, integer=kinds[name] is int)
    ranged = [name for name, v in parsed.items() if len(v) > 1]
    if len(ranged) > 1:
        raise ParameterError(
            ranged[1],
            f"a single number when {_flag_name(ranged[0])} is a range (one quantity is swept at a time)",
            values.get(ranged[1], parsed[ranged[1]][0]),
        )
    field = ranged[0] if ranged else next(iter(parsed), spec.sweep_field)
    for name, v in parsed.items():
        if name != field:
            values[name] = v[0]
    return field, parsed.get(field)


def _device(name_or_path: str) -> Any:
    """The calibration ``--device`` names; an unknown name is a ParameterError naming --device (a file's errors
    name the file)."""
    from qbhw.errors import CalibrationError
    from qbhw.hardware import load_calibration

    try:
        return load_calibration(name_or_path)
    except CalibrationError as exc:
        if exc.file is not None:
            raise
        raise ParameterError(
            "device", f"a device name or the path of a calibration file ({exc.reason})", name_or_path
        ) from None


def _add_run_flags(sub: _Parser) -> None:
    from qbhw.experiments import DEFAULT_BOOTSTRAP, SHOTS_PER_SETTING

    sub.add_argument(
        "--device",
        help="a device name (built-in snapshot or user calibration, see 'qbhw devices') or a calibration JSON path "
        "(default: the built-in default device)",
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
        help=f"total shots, split over the tomography settings; 0 skips the measurement (default {SHOTS_PER_SETTING} "
        "per setting)",
    )
    sub.add_argument("--seed", type=int, default=0, help="seed of sampling and bootstrap (default 0)")
    sub.add_argument(
        "--bootstrap", type=int, default=DEFAULT_BOOTSTRAP, help=f"bootstrap samples (default {DEFAULT_BOOTSTRAP})"
    )
    sub.add_argument(
        "--estimator",
        default="auto",
        choices=("auto", "full-pauli", "dicke-z"),
        help="tomography estimator (default auto: full Pauli tomography, up to 6 register qubits)",
    )
    sub.add_argument(
        "--measurement",
        default="state",
        choices=("state", "circuits"),
        help="how the counts are simulated: state samples each setting from the predicted noisy state (default), "
        "circuits runs the ISA tomography circuits a backend would run (same distribution, one full simulation "
        "per setting)",
    )
    sub.add_argument(
        "--no-readout-mitigation", action="store_true", help="fit without the calibration's readout confusion"
    )
    sub.add_argument(
        "--layouts",
        type=int,
        default=1,
        help="also predict the noisy figures on the K best qubit sets of the device and report their spread "
        "(min, max, std) besides the best one's (default 1: that one compilation only)",
    )
    sub.add_argument(
        "--workers", type=int, default=1, help="parallel processes for sweep points on this machine (default 1)"
    )
    sub.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the sweep points on the Dask cluster whose scheduler listens at ADDRESS (tcp://host:8786; "
        "extra 'distributed'), with the same point store and resume",
    )
    sub.add_argument(
        "--out",
        help="folder for result.json, counts.json and the plot; locked while the run writes it; an interrupted sweep "
        "resumes there",
    )
    sub.add_argument(
        "--force", action="store_true", help="replace an existing result in --out and discard its stored points"
    )
    sub.add_argument(
        "--plot",
        default=None,
        choices=("energy", "ergotropy", "capacity", "purity", "fidelity", "work", "power", "heat", "efficiency"),
        help="the figure of the sweep table and of --out's plot FIGURE.png (default ergotropy; work with "
        "--cycle-time; work, power, heat and efficiency need --cycle-time)",
    )
    sub.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    _add_json(sub)


# ------------------------------------------------------------------------------------------------- devices


def _run_devices(args: argparse.Namespace) -> Outcome:
    from qbhw.hardware import list_device_summaries
    from qbhw.report import device_rows

    summaries = list_device_summaries()
    devices = [dataclasses.asdict(s) for s in summaries]
    from qbhw.errors import CalibrationError
    from qbhw.hardware import user_calibrations_dir

    try:
        title = f"device snapshots (built in, and user calibrations in {user_calibrations_dir()})"
    except CalibrationError:  # no home folder: there are only the built-in ones
        title = "device snapshots (built in)"
    return Outcome(title, {"devices": devices}, rows=device_rows(summaries))


def _run_devices_import(args: argparse.Namespace) -> Outcome:
    from pathlib import Path

    from qbhw.hardware import calibrations_dir, import_fake_backend, save_calibration

    if args.out is not None and not args.out.strip():
        raise ParameterError("out", "the path of a .json file to write (it is empty)", args.out)
    if args.out is not None:  # the path is checked before the (slow) import
        _check_import_target(Path(args.out), args.force)
    cal = import_fake_backend(args.name)
    out = Path(args.out) if args.out else calibrations_dir() / f"{cal.name}.json"
    _check_import_target(out, args.force)
    path = save_calibration(cal, out)
    values = {
        "device": cal.name,
        "path": str(path),
        "num_qubits": cal.num_qubits,
        "source": cal.source,
        "date": cal.date,
    }
    return Outcome(f"imported {cal.name}", values)


def _check_import_target(out: Any, force: bool) -> None:
    try:
        exists, is_dir = out.exists(), out.is_dir()
    except OSError as exc:  # a name too long, a component that is a file, ...
        raise ParameterError("out", f"a path that can be written ({exc.strerror or exc})", str(out)) from None
    if is_dir:
        raise ParameterError("out", "the path of a .json file to write (it is a directory)", str(out))
    if exists and not force:
        raise QbhwError(f"{out} exists; pass --force to replace it or --out to write elsewhere")


# ---------------------------------------------------------------------------------------------------- pulse

#: the device ``qbhw pulse`` runs on when --device is not given (the built-in cavity-QED device)
PULSE_DEVICE = "synthetic_cqed"


def _has_result(out: str) -> bool:
    """Whether the folder ``out`` holds a result.json (False when the path cannot be examined: the writer, which
    takes the folder's lock, says why)."""
    try:
        return (Path(out) / "result.json").exists()
    except OSError:
        return False


def _pulse_checks(args: argparse.Namespace) -> Any:
    """Checks shared by the ``qbhw pulse`` commands before any work: --out and --device not empty, the engine known
    and installed (one line naming the environment that has it), --imperfections parsed. Returns the
    Imperfections."""
    from qbhw import pulse

    if args.out is not None and not args.out.strip():
        raise ParameterError("out", "a folder name (it is empty)", args.out)
    if args.out is not None and not args.force and _has_result(args.out):
        # refused before the work; report.result_directory checks it again under the lock
        raise ParameterError(
            "out", "a folder without a finished result (it has result.json; pass --force to replace it)", args.out
        )
    if args.device is not None and not args.device.strip():
        raise ParameterError("device", "a device name or the path of a calibration file (it is empty)", args.device)
    pulse.check_engine(args.engine)
    return pulse.parse_imperfections(args.imperfections)


def _pulse_stages(args: argparse.Namespace) -> Any:
    """The progress callback of a pulse-level run (a line per finished stage on stderr), or None with --quiet."""
    from qbhw import report

    return None if args.quiet else report.stage_printer(1)(0)


def _pulse_write(args: argparse.Namespace, values: dict[str, Any], pictures: dict[str, Any], text: str) -> str:
    """With --out: the locked folder, result.json and the pictures (rendered before the first write), atomically;
    returns ``text`` with the files written."""
    from qbhw import report

    if args.out is None:
        return text
    _check_finite(values)
    rendered = {name: report.figure_png(fig) for name, fig in pictures.items()}
    with report.result_directory(args.out, force=args.force, command=" ".join(sys.argv)) as out:
        paths = report.write_pulse_outputs(out, values, rendered)
    return text + "\nwrote " + ", ".join(str(p) for p in paths)


def _run_pulse_micromaser(args: argparse.Namespace) -> Outcome:
    import time

    from qbhw import pulse, report
    from qbhw.experiments import model_spec, parse_range

    spec = model_spec("micromaser")
    values = _model_values(args, spec.fields(run=False))
    raw = values.pop("collisions")
    grid = None if raw is None else parse_range(raw, "collisions", integer=True)
    if grid is not None and len(grid) == 1:
        values["collisions"], grid = grid[0], None
    if grid is not None:
        values["collisions"] = grid[-1]
    params, _, _ = spec.inputs(values)
    imperfections = _pulse_checks(args)
    if args.budget and grid is not None:
        raise ParameterError("budget", "given with one collision number (not a --collisions range)", raw)
    if args.budget and args.imperfections != "all":
        raise ParameterError(
            "imperfections", "left at 'all' with --budget (the budget switches each one on in turn)", args.imperfections
        )
    options = pulse.PulseOptions(preparation=args.preparation, drive_ns=args.drive_ns)
    device = _device(PULSE_DEVICE if args.device is None else args.device)
    common: dict[str, Any] = dict(
        engine=args.engine,
        levels=args.levels,
        coupling_mhz=args.coupling_mhz,
        anharmonicity_mhz=args.anharmonicity_mhz,
        options=options,
        progress=_pulse_stages(args),
    )
    start = time.perf_counter()
    pictures: dict[str, Any] = {}
    if args.budget:
        result = pulse.budget(params, device, **common)
        out = {"model": "micromaser", "kind": "budget", "parameters": dataclasses.asdict(params)} | result.to_dict()
        text = report.pulse_budget_text(out)
        title = f"error budget of the micromaser on {result.device}"
        pictures["budget.png"] = pulse.plot_budget(result)
    elif grid is not None:
        sweep = pulse.sweep_micromaser(params, device, [int(k) for k in grid], imperfections=imperfections, **common)
        out = {"model": "micromaser", "kind": "sweep", "parameters": dataclasses.asdict(params)} | sweep.to_dict()
        text = report.pulse_sweep_text(out)
        title = f"micromaser at pulse level on {out['device']}: ergotropy vs collisions"
        pictures["ergotropy.png"] = pulse.plot_sweep(sweep)
    else:
        run = pulse.run_micromaser(params, device, imperfections=imperfections, **common)
        out = {"model": "micromaser", "kind": "run", "parameters": dataclasses.asdict(params)} | run.to_dict()
        text = report.pulse_micromaser_text(out)
        title = f"micromaser at pulse level on {out['device']}"
    out["seconds"] = round(time.perf_counter() - start, 3)
    return Outcome(title, out, text=_pulse_write(args, out, pictures, text))


def _pulse_times(raw: str | None, parameter: str, default: float | None) -> tuple[float, ...] | None:
    """A number or a range start:stop:step of ``parameter`` (None: ``default``, or None)."""
    from qbhw.experiments import parse_range

    if raw is None:
        return None if default is None else (default,)
    return tuple(float(x) for x in parse_range(raw, parameter, integer=False))


def _run_pulse_charger(args: argparse.Namespace) -> Outcome:
    import time

    from qbhw import pulse, report

    times = _pulse_times(args.time, "time", 0.3)
    assert times is not None
    imperfections = _pulse_checks(args)
    pair = pulse.parse_pair(args.pair)
    device = _device(PULSE_DEVICE if args.device is None else args.device)
    common: dict[str, Any] = dict(
        pair=pair,
        levels=args.levels,
        engine=args.engine,
        imperfections=imperfections,
        preparation=args.preparation,
        drive_ns=args.drive_ns,
    )
    start = time.perf_counter()
    zz_fit = None
    if args.fit_zz:
        levels = 2 if not imperfections.levels else (3 if args.levels is None else args.levels)
        zz_fit = pulse.fit_static_zz(device, pair=pair, levels=levels, engine=args.engine).to_dict()
    results = pulse.sweep_charger(device, times, progress=_pulse_stages(args) if len(times) > 1 else None, **common)
    pictures: dict[str, Any] = {}
    if len(results) == 1:
        out = {"model": "charger", "kind": "run"} | results[0].to_dict()
        if zz_fit is not None:
            out["zz_fit"] = zz_fit
        text = report.pulse_charger_text(out)
        title = f"charger at pulse level on {out['device']}"
    else:
        out = {"model": "charger", "kind": "sweep", "points": [r.to_dict() for r in results]}
        if zz_fit is not None:
            out["zz_fit"] = zz_fit
        text = report.pulse_charger_sweep_text(out)
        title = f"charger at pulse level on {results[0].metadata['device']} vs J t"
        pictures["charger.png"] = pulse.plot_charger(results)
    out["seconds"] = round(time.perf_counter() - start, 3)
    return Outcome(title, out, text=_pulse_write(args, out, pictures, text))


def _run_pulse_thermal_gradient(args: argparse.Namespace) -> Outcome:
    import time

    from qbhw import pulse, report

    taus = _pulse_times(args.cycle_time_us, "cycle_time_us", None)
    imperfections = _pulse_checks(args)
    pair = pulse.parse_pair(args.pair)
    hot = pulse.HotBath(
        kappa_mhz=args.bath_kappa_mhz,
        coupling_mhz=args.bath_coupling_mhz,
        thermal_photons=args.bath_photons,
        cutoff=args.bath_cutoff,
    )
    device = _device(PULSE_DEVICE if args.device is None else args.device)
    common: dict[str, Any] = dict(
        pair=pair, hot=hot, levels=args.levels, engine=args.engine, imperfections=imperfections
    )
    start = time.perf_counter()
    pictures: dict[str, Any] = {}
    if taus is None or len(taus) == 1:
        tau = None if taus is None else taus[0]
        result = pulse.run_thermal_gradient(device, cycle_time_us=tau, progress=_pulse_stages(args), **common)
        out = {"model": "thermal-gradient", "kind": "run"} | result.to_dict()
        text = report.pulse_thermal_gradient_text(out)
        title = f"thermal-gradient battery at pulse level on {out['device']}"
    else:
        results = pulse.sweep_thermal_gradient(device, taus, progress=_pulse_stages(args), **common)
        out = {"model": "thermal-gradient", "kind": "sweep", "points": [r.to_dict() for r in results]}
        text = report.pulse_thermal_gradient_sweep_text(out)
        title = f"thermal-gradient limit cycle at pulse level on {results[0].metadata['device']}"
        pictures["cycle.png"] = pulse.plot_thermal_gradient(results)
    out["seconds"] = round(time.perf_counter() - start, 3)
    return Outcome(title, out, text=_pulse_write(args, out, pictures, text))


def _add_pulse_flags(sub: _Parser, *, levels_help: str, preparation: bool = True) -> None:
    """The flags every ``qbhw pulse`` command has (``preparation``: and those of a preparation pulse)."""
    from qbhw import pulse

    sub.add_argument(
        "--device",
        help=f"a device name or calibration JSON path (default {PULSE_DEVICE}, the built-in cavity-QED device)",
    )
    sub.add_argument(
        "--engine",
        default="auto",
        choices=pulse.ENGINES,
        help="auto (qbhw's exact propagators where the pulses are piecewise constant, else QuTiP), exact, qutip, or "
        "dynamics (qiskit-dynamics: the pulse environment only) (default auto)",
    )
    sub.add_argument("--levels", type=int, default=None, help=levels_help)
    sub.add_argument(
        "--imperfections",
        default="all",
        help="all, none, or a comma-separated list of " + ", ".join(pulse.IMPERFECTIONS) + " (default all)",
    )
    if preparation:
        sub.add_argument(
            "--preparation",
            default="drive",
            choices=pulse.PREPARATIONS,
            help="drive: a Gaussian/DRAG drive pulse prepares the transmon; ideal: the exact rotation (default drive)",
        )
        sub.add_argument(
            "--drive-ns",
            type=float,
            default=20.0,
            help="length of the preparation drive pulse in ns, > 0 (default 20)",
        )
    sub.add_argument("--out", help="folder for result.json and the plot; locked while the run writes it")
    sub.add_argument("--force", action="store_true", help="replace an existing result in --out")
    sub.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    _add_json(sub)


def _add_pulse_commands(commands: Any) -> None:
    from qbhw.experiments import model_spec

    group = commands.add_parser(
        "pulse",
        help="a battery at pulse level on a cavity-QED device, beside its ideal model",
        description="Run a battery's protocol at pulse level on a cavity-QED device (Duffing transmons, resonators, "
        "flux and drive pulses, T1/T2, resonator loss) with qbhw's exact propagators, QuTiP or qiskit-dynamics, "
        "and compare it with the ideal model (docs/physics.md section 6).",
    )
    models = group.add_subparsers(dest="model", metavar="MODEL", parser_class=_Parser)
    models.required = True

    spec = model_spec("micromaser")
    sub = models.add_parser(
        "micromaser",
        help="the micromaser: a transmon flux-pulsed into a storage resonator once per collision",
        description="The micromaser battery at pulse level: per collision the flux-tunable transmon is reset, "
        "prepared by a drive pulse, flux-pulsed into resonance with the storage resonator for the calibrated swap "
        "time, and detuned again (docs/physics.md section 6.2).",
    )
    _add_model_flags(sub, spec.fields(run=False), sweep="collisions")
    _add_pulse_flags(sub, levels_help="transmon levels with the 'levels' imperfection on, >= 2 (default 3)")
    sub.add_argument(
        "--coupling-mhz", type=float, default=None, help="g/2pi of the transmon-resonator swap (default: the device's)"
    )
    sub.add_argument(
        "--anharmonicity-mhz", type=float, default=None, help="alpha/2pi of the transmon (default: the device's)"
    )
    sub.add_argument(
        "--budget",
        action="store_true",
        help="the error budget: every imperfection off, each alone, all (table; with --out also budget.png)",
    )
    _finish(sub, _run_pulse_micromaser)

    sub = models.add_parser(
        "charger",
        help="the charger from two coupled transmons: J1 = J, J2 = zeta/4 from their third levels",
        description="The charger-battery spins of docs/physics.md section 2 on two capacitively coupled transmons: "
        "J1 and J2 derived from the device (J2 = zeta/4, the static ZZ of the third levels), the charging from "
        "|0>_b|1>_c at pulse level (a pi pulse on the charger, a calibrated flux pulse into resonance), compared "
        "with the ideal charger at those couplings (docs/physics.md section 6.1).",
    )
    sub.add_argument(
        "--pair",
        help="the transmons B,C (battery, charger) by physical index, a coupled pair of the device (default: its "
        "first listed exchange coupling)",
    )
    sub.add_argument(
        "--time",
        default=None,
        help="charging time J t in units of 1/J (J t = pi/2 is a full swap), >= 0 (default 0.3); a range "
        "start:stop:step runs a sweep",
    )
    sub.add_argument(
        "--fit-zz",
        action="store_true",
        help="also fit the static ZZ from the pair's pulse-level dynamics (a 20 us Ramsey-like phase)",
    )
    _add_pulse_flags(sub, levels_help="transmon levels with the 'levels' imperfection on, 2..6 (default 3)")
    _finish(sub, _run_pulse_charger)

    sub = models.add_parser(
        "thermal-gradient",
        help="two detuned transmons between a hot bath resonator and the cold transmon's own environment",
        description="The thermal-gradient battery of docs/physics.md section 1 on two detuned coupled transmons: "
        "the hot bath a resonator fed thermal photons on the higher-frequency transmon, the cold bath the other "
        "transmon's own T1; the NESS at pulse level vs the global master equation at the device's parameters, "
        "and with --cycle-time-us the two-stroke cycle with the extraction by a calibrated swap.",
    )
    sub.add_argument(
        "--pair",
        help="the transmons by physical index, a coupled pair of the device (default: its first listed exchange "
        "coupling); the higher-frequency one is the hot side A",
    )
    sub.add_argument(
        "--cycle-time-us",
        default=None,
        help="charging time of the two-stroke limit cycle in us, > 0 (default: the NESS only); a range "
        "start:stop:step runs a sweep",
    )
    sub.add_argument(
        "--bath-kappa-mhz", type=float, default=10.0, help="kappa/2pi of the hot bath resonator in MHz (default 10)"
    )
    sub.add_argument(
        "--bath-coupling-mhz",
        type=float,
        default=0.25,
        help="g_r/2pi between the hot transmon and its bath resonator in MHz (default 0.25)",
    )
    sub.add_argument(
        "--bath-photons", type=float, default=0.5, help="thermal photons n_h fed to the bath resonator (default 0.5)"
    )
    sub.add_argument(
        "--bath-cutoff",
        type=int,
        default=None,
        help="Fock cutoff of the bath resonator (default: its thermal top level below 1e-7)",
    )
    _add_pulse_flags(
        sub, levels_help="transmon levels with the 'levels' imperfection on, 2..6 (default 3)", preparation=False
    )
    _finish(sub, _run_pulse_thermal_gradient)

    _add_pulse_collective(models)


# -------------------------------------------------------------------------------------- pulse collective


def _run_pulse_collective(args: argparse.Namespace) -> Outcome:
    from qbhw import report
    from qbhw._files import write_atomic
    from qbhw.experiments import parse_range
    from qbhw.pulse import plot_kappa_sweep, run_collective, sweep_kappa

    kappas = None if args.kappa_mhz is None else parse_range(args.kappa_mhz, "kappa_mhz", integer=False)
    if args.out is not None and not args.out.strip():
        raise ParameterError("out", "a folder name (it is empty)", args.out)
    options: dict[str, Any] = dict(
        time_us=args.time_us,
        coupling_mhz=args.coupling_mhz,
        thermal_photons=args.thermal_photons,
        temperature=args.temperature,
        t1_us=args.t1_us,
        t2_us=args.t2_us,
        levels=args.levels,
        cutoff=args.cutoff,
        engine=args.engine,
        imperfections=args.imperfections,
    )
    sweep = kappas is not None and len(kappas) > 1
    if sweep:
        assert kappas is not None
        progress = None if args.quiet else report.progress_printer()
        result: Any = sweep_kappa(args.n, kappas, progress=progress, **options)
        if not args.quiet:
            report.end_progress()
    else:
        result = run_collective(args.n, kappa_mhz=None if kappas is None else kappas[0], **options)
    values = result.to_dict()
    _check_finite(values)
    title, text = _pulse_collective_text(result, sweep)
    if args.out is not None:
        import io

        with report.result_directory(args.out, force=args.force, command=" ".join(sys.argv)) as out:
            paths = []
            if sweep:
                buffer = io.BytesIO()
                plot_kappa_sweep(result).savefig(buffer, format="png", dpi=120)
                paths.append(write_atomic(out / "kappa_sweep.png", buffer.getvalue()))
            paths.append(write_atomic(out / "result.json", to_json(values) + "\n"))
        text += "\nwrote " + ", ".join(str(p) for p in paths)
    return Outcome(title, values, text=text)


def _pulse_collective_text(result: Any, sweep: bool) -> tuple[str, str]:
    """The table of ``qbhw pulse collective``: ideal beside pulse level (one point), or one row per kappa."""
    from qbhw.report import grid

    first = result.points[0] if sweep else result
    s = first.settings
    when = "steady state" if first.time_us is None else f"t = {first.time_us:g} us from |g...g>"
    title = (
        f"collective dissipation through a resonator at pulse level: N = {s['n']} transmons ({s['levels']} levels) "
        f"+ resonator (cutoff {s['cutoff']}) on {s['device']}, {when}"
    )
    footer = [
        f"g/2pi = {s['coupling_mhz']:g} MHz, n_th = {s['thermal_photons']:.4g} (T = {s['temperature']:.4g} hbar "
        f"omega_r/k_B), f_r = {s['reference_ghz']:g} GHz, T1 = {s['t1_us']} us, T2 = {s['t2_us']} us, p_e = "
        f"{s['excited_population']:g}, alpha/2pi = {s['anharmonicity_mhz']:g} MHz",
        f"imperfections {s['imperfections']}; engine {s['method']}; frame {s['frame']}, RWA",
        "pulse-level figures: the transmons' state on {g, e}^N renormalised (leakage: population outside it); "
        "ideal: qbhw ideal collective at gamma = 4 g^2/kappa",
    ]
    if "note" in s:
        footer.append(f"note: {s['note']}")

    def f(x: float) -> str:
        return f"{x:.6g}"

    rows: list[tuple[str, ...]]
    if not sweep:
        rows = [
            (k, f(getattr(result.ideal, k)), f(getattr(result.pulse, k)))
            for k in ("energy", "ergotropy", "capacity", "purity")
        ]
        rows += [
            ("trace distance", "", f(result.pulse.trace_distance)),
            ("leakage", "", f(result.pulse.leakage)),
            ("resonator photons", "", f(result.pulse.mean_photons)),
            ("kappa/2pi (MHz)", f(s["kappa_mhz"]), ""),
            ("kappa/(g sqrt N)", f(s["elimination_ratio"]), ""),
            ("gamma/2pi (MHz)", f(s["gamma_mhz"]), ""),
        ]
        table = grid(rows, header=("quantity", "ideal", "pulse"), title=title)
        return title, table + "\n" + "\n".join(footer)
    rows = [
        (
            f(p.settings["kappa_mhz"]),
            f"{p.settings['elimination_ratio']:.4g}",
            f"{p.settings['expansion']:.3g}",
            f"{p.settings['gamma_mhz']:.4g}",
            f"{p.ideal.ergotropy:.6f}",
            f"{p.pulse.ergotropy:.6f}",
            f"{p.pulse.trace_distance:.3g}",
            f"{p.pulse.leakage:.3g}",
        )
        for p in result.points
    ]
    header = (
        "kappa/2pi MHz",
        "kappa/(g sqrt N)",
        "g^2 N/kappa^2",
        "gamma/2pi MHz",
        "W ideal",
        "W pulse",
        "trace distance",
        "leakage",
    )
    order = (
        "fitted order of the trace distance in g^2 N/kappa^2: "
        + ("none (fewer than 3 points above rounding)" if result.order is None else f"{result.order:.3f}")
        + f" over {result.order_points} points (1 = the adiabatic elimination's corrections)"
    )
    leak = [p.pulse.leakage for p in result.points]
    if s["levels"] > 2 and leak[-1] > max(leak[0], 1e-3):
        footer.append(
            "note: the leakage out of {g, e}^N grows with kappa (the resonator's thermal photons drive |e> -> |f> "
            "through its Lorentzian tail): the ideal model of qubits fails there; --levels 2 isolates the "
            "elimination's corrections"
        )
    return title, grid(rows, header=header, title=title) + "\n" + "\n".join([order, *footer])


def _add_pulse_collective(subparsers: Any) -> None:
    """``qbhw pulse collective``: N transmons and a low-Q resonator fed with thermal photons, at pulse level,
    beside the ideal collective model (docs/physics.md 6.3)."""
    from qbhw.pulse import COLLECTIVE_IMPERFECTIONS, ENGINES

    sub = subparsers.add_parser(
        "collective",
        help="collective dissipation of N transmons through a common low-Q resonator, against the ideal model",
        description="N transmons resonant with one low-Q resonator fed with thermal photons, simulated with the "
        "resonator (pulse level), beside the ideal collective model it reduces to for kappa >> g sqrt(N) "
        "(gamma = 4 g^2/kappa, temperature from n_th, the transmons' T1 and T2 as local channels). A range "
        "--kappa-mhz a:b:s shows the approach to the ideal model as kappa grows. Device: a synthetic one "
        "(transmons and resonator at 5 GHz, g/2pi = 2 MHz, kappa/2pi = 20 MHz, n_th = 1.54, T1 = 100 us, "
        "T2 = 190 us, p_e = 0.01, alpha/2pi = -250 MHz); the flags replace its values.",
    )
    sub.add_argument("--n", type=int, required=True, help="number of transmons N, integer >= 1")
    sub.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="temperature of the resonator's bath in units of hbar omega_r/k_B (sets n_th = 1/(e^(1/T) - 1); "
        "default the device's n_th = 1.54, T = 2)",
    )
    sub.add_argument(
        "--thermal-photons",
        type=float,
        default=None,
        help="thermal photons n_th of the resonator's bath (instead of --temperature)",
    )
    sub.add_argument("--coupling-mhz", type=float, default=None, help="g/2pi of each transmon to the resonator, MHz")
    sub.add_argument(
        "--kappa-mhz",
        default=None,
        help="kappa/2pi of the resonator, MHz; a range start:stop:step (inclusive) runs a sweep with a plot",
    )
    sub.add_argument("--t1-us", type=float, default=None, help="the transmons' T1, us")
    sub.add_argument("--t2-us", type=float, default=None, help="the transmons' T2, us (<= 2 T1)")
    sub.add_argument(
        "--levels", type=int, default=None, help="transmon levels (default 3 where the state fits, 2 otherwise)"
    )
    sub.add_argument(
        "--cutoff", type=int, default=None, help="the resonator's Fock cutoff (default: from its thermal tail)"
    )
    sub.add_argument(
        "--time-us",
        type=float,
        default=None,
        help="the state at this time (us) from |g...g> and a thermal resonator, instead of the steady state",
    )
    sub.add_argument(
        "--engine",
        default="auto",
        choices=ENGINES,
        help="auto/exact: qbhw's reduced exact solver; qutip: QuTiP on the full Liouvillian; dynamics: "
        "qiskit-dynamics (pulse environment, time evolution only) (default auto)",
    )
    sub.add_argument(
        "--imperfections",
        default="all",
        help="all, none (two-level transmons, only the resonator's bath) or a comma-separated list of "
        + ", ".join(COLLECTIVE_IMPERFECTIONS)
        + " (default all)",
    )
    sub.add_argument("--out", help="folder for result.json and, for a sweep, kappa_sweep.png")
    sub.add_argument("--force", action="store_true", help="replace an existing result in --out")
    sub.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    _add_json(sub)
    _finish(sub, _run_pulse_collective)


# ------------------------------------------------------------------------------------------ bundles (real hardware)


def _run_prepare(args: argparse.Namespace) -> Outcome:
    from qbhw import report
    from qbhw.experiments import model_spec, prepare_bundle

    spec = model_spec(args.model)
    params, time, options = spec.inputs(_model_values(args, spec.fields(run=True)))
    prepared = prepare_bundle(
        args.out,
        args.model,
        params,
        device=args.device,
        time=time,
        options=options,
        shots=args.shots,
        seed=args.seed,
        readout_calibration=args.readout_calibration,
        dd=args.dd,
        twirl=args.twirl,
        estimator=args.estimator,
        bootstrap=args.bootstrap,
    )
    text = report.prepare_text(prepared)
    return Outcome(text.splitlines()[0], report.prepare_json(prepared), text=text)


def _run_submit(args: argparse.Namespace) -> Outcome:
    from qbhw.experiments import submit_bundle

    record = submit_bundle(
        args.bundle, backend=args.backend, local=args.local, allow_other_backend=args.allow_other_backend
    )
    mode = "local mode of qiskit-ibm-runtime" if record.local else "IBM Quantum"
    stored = "; counts stored" if record.local else "; collect them when they have finished"
    title = (
        f"submitted {len(record.circuit_names)} circuits of {args.bundle} to {record.backend} ({mode}, "
        f"{record.primitive} sampler) in {len(record.jobs)} jobs{stored}"
    )
    values = {
        "bundle": str(args.bundle),
        "backend": record.backend,
        "local": record.local,
        "primitive": record.primitive,
        "runtime_version": record.runtime_version,
        "submitted_utc": record.submitted_utc,
        "job_ids": list(record.job_ids),
        "tags": list(record.tags),
        "other_backend": record.other_backend,
    }
    rows = [
        ("backend", record.backend + (f" (prepared for {record.device})" if record.other_backend else "")),
        ("jobs", len(record.jobs)),
        ("job tag", ", ".join(record.tags)),
        ("submitted (UTC)", record.submitted_utc),
        ("record", str(Path(args.bundle) / "jobs.json")),
    ]
    return Outcome(title, values, rows=rows)


def _run_collect(args: argparse.Namespace) -> Outcome:
    from qbhw.experiments import collect_bundle

    counts, seal = collect_bundle(args.bundle, counts_file=args.counts)
    shots = sorted({cc.shots for cc in counts.circuits.values()})
    source = "the submitted jobs" if seal.source == "jobs" else f"{args.counts}"
    title = f"collected the counts of {len(counts.circuits)} circuits of {args.bundle} from {source}"
    values = {
        "bundle": str(args.bundle),
        "circuits": len(counts.circuits),
        "shots": shots,
        "source": seal.source,
        "counts_file": seal.counts_file,
        "collected_utc": seal.collected_utc,
        "counts_sha256": seal.counts_sha256,
    }
    rows = [
        ("circuits", len(counts.circuits)),
        ("shots per circuit", ", ".join(map(str, shots))),
        ("stored", f"{Path(args.bundle) / 'counts.json'} (sealed in collected.json)"),
    ]
    return Outcome(title, values, rows=rows)


def _run_analyze(args: argparse.Namespace) -> Outcome:
    from qbhw import report
    from qbhw.experiments import analyze_bundle

    if args.out is None:
        analysis = analyze_bundle(args.bundle)
        text = report.analysis_text(analysis)
    else:  # --out is checked and locked before the analysis, as for qbhw run
        with report.result_directory(args.out, force=args.force, command=" ".join(sys.argv)) as out:
            analysis = analyze_bundle(args.bundle)
            text = report.analysis_text(analysis)
            paths = report.write_analysis_outputs(analysis, out)
        text += "\nwrote " + ", ".join(str(p) for p in paths)
    return Outcome(report.analysis_title(analysis), analysis.to_dict(), text=text)


def _add_bundle_commands(commands: Any) -> None:
    """``qbhw prepare``, ``submit``, ``collect``, ``analyze`` (docs/design.md section 3; README "Running on real
    hardware")."""
    from qbhw.experiments import DEFAULT_BOOTSTRAP, MODELS, SHOTS_PER_CIRCUIT

    prepare = commands.add_parser(
        "prepare",
        help="write a bundle of ISA circuits, predictions and manifest for a real (or fake) backend",
        description="Map a battery model, compile it onto a device's own qubits, verify and predict it, and write "
        "the ISA tomography circuits (QPY and OpenQASM 3) with a manifest into a new bundle directory.",
    )
    models = prepare.add_subparsers(dest="model", metavar="MODEL", parser_class=_Parser)
    models.required = True
    for spec in MODELS.values():
        sub = models.add_parser(spec.name, help=spec.help, description=spec.help)
        _add_model_flags(sub, spec.fields(run=True))
        sub.add_argument(
            "--device",
            required=True,
            help="a device (built-in snapshot, user calibration or calibration JSON path), a qiskit-ibm-runtime fake "
            "backend (fake_fez), or an IBM Quantum backend (ibm_torino; needs saved credentials)",
        )
        sub.add_argument("--out", required=True, help="the new bundle directory (must not exist)")
        sub.add_argument(
            "--shots",
            type=int,
            default=SHOTS_PER_CIRCUIT,
            help=f"shots of EACH circuit (every tomography setting and readout calibration; default "
            f"{SHOTS_PER_CIRCUIT})",
        )
        sub.add_argument("--seed", type=int, default=0, help="seed of local simulation and bootstrap (default 0)")
        sub.add_argument(
            "--bootstrap",
            type=int,
            default=DEFAULT_BOOTSTRAP,
            help=f"bootstrap samples of the analysis (default {DEFAULT_BOOTSTRAP})",
        )
        sub.add_argument(
            "--estimator",
            default="auto",
            choices=("auto", "full-pauli", "dicke-z"),
            help="tomography estimator of the analysis (default auto: full Pauli tomography, up to 6 register qubits)",
        )
        sub.add_argument(
            "--readout-calibration",
            action="store_true",
            help="add circuits measuring the register's qubits in |0..0> and |1..1>: the analysis corrects readout "
            "with them instead of the stored calibration (recommended on real hardware)",
        )
        sub.add_argument(
            "--dd",
            default=None,
            choices=("XX", "XpXm", "XY4"),
            help="dynamical decoupling sequence applied by the runtime's sampler (default off; not for circuits with "
            "control flow)",
        )
        sub.add_argument(
            "--twirl",
            action="store_true",
            help="Pauli twirling of two-qubit gates by the runtime's sampler (default off; shots a multiple of 32)",
        )
        _add_json(sub)
        _finish(sub, _run_prepare)

    submit = commands.add_parser(
        "submit",
        help="submit a bundle through qiskit-ibm-runtime (or run it locally on the matching fake backend)",
        description="Submit the bundle's circuits with the sampler the installed qiskit-ibm-runtime recommends; "
        "credentials come only from the saved account or the QISKIT_IBM_* environment. Job ids go into jobs.json.",
    )
    submit.add_argument("bundle", help="the bundle directory (written by qbhw prepare)")
    submit.add_argument("--backend", help="backend name (default: the bundle's device)")
    submit.add_argument(
        "--local",
        action="store_true",
        help="run on the fake backend of the bundle's device in the runtime's local mode (counts stored at once)",
    )
    submit.add_argument(
        "--allow-other-backend",
        action="store_true",
        help="run on a backend other than the bundle's device (recorded; the predictions stay the device's)",
    )
    _add_json(submit)
    _finish(submit, _run_submit)

    collect = commands.add_parser(
        "collect",
        help="collect the counts of a submitted bundle, or ingest counts produced elsewhere",
        description="Retrieve the results of the bundle's jobs (or read --counts FILE in the qbhw-counts/1 "
        "format), check that every circuit has its shots, and store them in the bundle.",
    )
    collect.add_argument("bundle", help="the bundle directory")
    collect.add_argument("--counts", help="a qbhw-counts/1 JSON file with the counts of every circuit (any provider)")
    _add_json(collect)
    _finish(collect, _run_collect)

    analyze = commands.add_parser(
        "analyze",
        help="fit a collected bundle's counts and compare ideal, noisy-predicted and measured",
        description="Verify every file of the bundle, fit the counts with qbhw's tomography (readout mitigation "
        "from the bundle's calibration circuits, else the stored calibration) with bootstrap intervals, and print "
        "the three-way table; a measured value far from the noisy prediction is flagged.",
    )
    analyze.add_argument("bundle", help="the collected bundle directory")
    analyze.add_argument("--out", help="folder for result.json, counts.json and ergotropy.png")
    analyze.add_argument("--force", action="store_true", help="replace an existing result in --out")
    _add_json(analyze)
    _finish(analyze, _run_analyze)


# ----------------------------------------------------------------------------------------------- the parser


def build_parser() -> argparse.ArgumentParser:
    from qbhw.experiments import MODELS

    parser = _Parser(prog="qbhw", description="Quantum batteries from the literature onto quantum hardware.")
    parser.add_argument("--version", action="version", version=f"qbhw {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    ideal = commands.add_parser("ideal", help="exact ideal physics of a battery model")
    models = ideal.add_subparsers(dest="model", metavar="MODEL", parser_class=_Parser)
    models.required = True
    for spec in MODELS.values():
        sub = models.add_parser(spec.name, help=spec.help, description=spec.help)
        _add_model_flags(sub, spec.fields(run=False))
        _add_json(sub)
        _finish(sub, _run_ideal)

    run = commands.add_parser(
        "run",
        help="run a battery on a (simulated) device: ideal, noisy prediction and measured with CI",
        description="Map a battery model to a circuit, compile it onto a device's own qubits, simulate it on Qiskit "
        "Aer with the device's noise, and compare ideal, noisy-predicted and tomographically measured figures.",
    )
    models = run.add_subparsers(dest="model", metavar="MODEL", parser_class=_Parser)
    models.required = True
    for spec in MODELS.values():
        sub = models.add_parser(spec.name, help=spec.help, description=spec.help)
        _add_model_flags(sub, spec.fields(run=True), sweep=spec.swept_fields)
        _add_run_flags(sub)
        _finish(sub, _run_run)

    _add_pulse_commands(commands)
    _add_bundle_commands(commands)

    devices = commands.add_parser(
        "devices",
        help="list the embedded device snapshots, or import one",
        description="List the device calibration snapshots: the built-in ones and those in the user calibrations "
        "folder ($QBHW_CALIBRATIONS, else ~/.local/share/qbhw/calibrations).",
    )
    _add_json(devices)
    device_commands = devices.add_subparsers(dest="devices_command", metavar="SUBCOMMAND", parser_class=_Parser)
    imp = device_commands.add_parser(
        "import", help="snapshot a qiskit-ibm-runtime fake backend into the user calibrations folder (ibm extra)"
    )
    imp.add_argument("name", help="fake backend, e.g. FakeTorino, fake_torino or torino")
    imp.add_argument("--out", help="where to write the JSON (default: <user calibrations folder>/<name>.json)")
    imp.add_argument("--force", action="store_true", help="replace an existing file")
    _add_json(imp)
    _finish(imp, _run_devices_import)
    _finish(devices, _run_devices)  # after its subparser: the subcommand's defaults win when it is given
    return parser


# ------------------------------------------------------------------------------------------------ main


def _flag_name(parameter: str) -> str:
    return "--" + parameter.replace("_", "-")


def _fail(message: str, status: int = EXIT_USAGE) -> int:
    kind = "error" if status == EXIT_USAGE else "internal error"
    sys.stderr.write(f"qbhw: {kind}: {' '.join(message.split())}\n")
    return status


def _check_finite(value: Any, where: str = "") -> None:
    """Raise NonFiniteResultError at the first non-finite float in a result (a table of NaN is never printed)."""
    import math

    import numpy as np

    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return
    if isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            raise NonFiniteResultError(where or "value", float(value))
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{where}.{k}" if where else str(k))
        return
    if isinstance(value, list | tuple | np.ndarray):
        for i, v in enumerate(value):
            _check_finite(v, f"{where}[{i}]")


#: flags whose values set how large a computation is (named when memory or time runs out)
_SIZE_FLAGS = ("shots", "bootstrap", "workers", "layouts", "n", "cutoff", "collisions", "steps", "time", "cycle_time")


def _given_flags(args: argparse.Namespace, names: Sequence[str] | None = None) -> list[str]:
    """The flags of this command that the user set (their value differs from the default), as --flags."""
    defaults = getattr(args, "_defaults", {})
    out = []
    for dest in sorted(getattr(args, "_flags", ())):
        if names is not None and dest not in names:
            continue
        if dest in ("json", "quiet", "force", "out", "plot") or dest.startswith("_"):
            continue
        value = getattr(args, dest, None)
        if value is not None and value != defaults.get(dest):
            out.append(_flag_name(dest))
    return out


def _input_failure(args: argparse.Namespace, what: str, names: Sequence[str] | None = None) -> int:
    """One line for a failure the inputs caused (numerical trouble, memory): the flags given, or, when the user
    gave none (the defaults), an internal error."""
    flags = _given_flags(args, names) or (_given_flags(args) if names is not None else [])
    if not flags:
        return _fail(f"{what} at the default inputs (please report this)", EXIT_INTERNAL)
    return _fail(f"{what}; the inputs {', '.join(flags)} are outside what qbhw can compute: change them")


def _render(outcome: Outcome, as_json: bool) -> str:
    from qbhw import report

    if as_json:
        return to_json(outcome.values)
    if outcome.text is not None:
        return outcome.text
    if outcome.rows is not None:
        return report.table(outcome.rows, title=outcome.title)
    return report.values_table(outcome.values, title=outcome.title)


def _interrupted(args: argparse.Namespace | None) -> int:
    from pathlib import Path

    out = getattr(args, "out", None)
    stored = 0
    if getattr(args, "_run", None) is _run_run and out:
        try:
            stored = sum(1 for _ in (Path(out) / "points").glob("point_*.json"))
        except OSError:
            stored = 0
    if stored:
        what = f"interrupted; {stored} finished point(s) are stored in {out}: rerun the same command to resume"
    else:
        what = "interrupted; nothing was written"
    start = "\r\033[K" if sys.stderr.isatty() else ""  # a terminal shows ^C (and maybe a progress line) there
    sys.stderr.write(f"{start}qbhw: {what}\n")
    return EXIT_INTERRUPTED


def _run_command(args: argparse.Namespace) -> tuple[Outcome, str]:
    outcome = args._run(args)
    _check_finite(outcome.values)
    return outcome, _render(outcome, args.json)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 success, 2 bad input, 1 internal error, 130 interrupted).

    Every failure is one line on stderr, never a traceback: bad input names the flag (or file) and what is
    allowed; numerical failures, memory exhaustion and non-finite results name the flags given; OS errors name
    the file; Ctrl-C says whether the run can be resumed.
    """
    args: argparse.Namespace | None = None
    try:
        with limit_threads():
            parser = build_parser()
            args = parser.parse_args(argv)
            outcome, text = _run_command(args)
        for warning in outcome.warnings:
            sys.stderr.write(f"qbhw: warning: {warning}\n")
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return 0
    except KeyboardInterrupt:
        return _interrupted(args)
    except SystemExit:
        raise
    except BrokenPipeError:  # the reader of stdout went away (qbhw ... | head): nothing more to say
        return EXIT_USAGE
    except BaseException as exc:
        if args is None:  # pragma: no cover - the parser itself failed
            return _fail(f"{type(exc).__name__}: {exc} (please report this)", EXIT_INTERNAL)
        return _failure(args, exc)


def _failure(args: argparse.Namespace, exc: BaseException) -> int:
    """The one line and exit status of a failed command (``main``)."""
    import numpy as np

    if isinstance(exc, ParameterError):
        if exc.parameter not in args._flags:  # a bug: the error names no flag of this command
            return _fail(
                f"{exc} (the parameter {exc.parameter!r} is not a flag of '{args._command}'; please report this)",
                EXIT_INTERNAL,
            )
        return _fail(f"{_flag_name(exc.parameter)} must be {exc.allowed} (got {exc.got!r})")
    if isinstance(exc, NonFiniteResultError):
        return _input_failure(args, f"the result is not finite ({exc.where} = {exc.value!r})")
    if isinstance(exc, QbhwError):
        return _fail(str(exc))
    if isinstance(exc, MemoryError):
        return _input_failure(args, "out of memory (README, Limits)", _SIZE_FLAGS)
    if isinstance(exc, RecursionError):
        return _input_failure(args, "the computation recursed too deeply")
    if isinstance(exc, ArithmeticError | np.linalg.LinAlgError):  # overflow, division by zero, singular matrices
        return _input_failure(args, f"the computation failed numerically ({type(exc).__name__}: {exc})")
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc} (an operating-system error)")
    return _fail(f"{type(exc).__name__}: {exc} (please report this)", EXIT_INTERNAL)


def entry() -> None:  # pragma: no cover - console-script shim
    raise SystemExit(main())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
