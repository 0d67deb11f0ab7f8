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


def _finish(sub: _Parser, run: Callable[[argparse.Namespace], Outcome]) -> None:
    """Register ``run`` and the flags an error may name (call after the last ``add_argument``)."""
    defaults = {a.dest: a.default for a in sub._actions if a.option_strings}
    sub.set_defaults(_run=run, _flags=frozenset(sub.flag_dests), _command=sub.prog, _defaults=defaults)


# ---------------------------------------------------------------------------------------------- model flags


def _add_model_flags(sub: _Parser, fields: Sequence[Any], *, sweep: str | None = None) -> None:
    """One flag per catalogue field (``qbhw.experiments.ModelField``), with its help and default; the ``sweep``
    field is read as text, so that it can hold a range start:stop:step. A flag the user does not give is None:
    the dataclass default applies."""
    for f in fields:
        help_text = f.help + (f" (default {f.default})" if f.default is not None else "")
        is_sweep = f.name == sweep
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
    from qbhw.experiments import PointStore, check_job, experiments_for, model_spec, parse_range, run_job
    from qbhw.hardware import default_device, noiseless

    spec = model_spec(args.model)
    fields = spec.fields(run=True)
    values = _model_values(args, fields)
    raw = values.pop(spec.sweep_field)
    kind = next(f.kind for f in fields if f.name == spec.sweep_field)
    sweep = None if raw is None else parse_range(raw, spec.sweep_field, integer=kind is int)
    params, time, options = spec.inputs(values)
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
        text = report.run_text(job, args.plot)
    else:
        with report.result_directory(args.out, force=args.force, command=" ".join(sys.argv)) as out:
            job = run(PointStore(out))
            _check_finite(report.run_json(job))
            paths = report.write_run_outputs(job, out, args.plot)
        text = report.run_text(job, args.plot) + "\nwrote " + ", ".join(str(p) for p in paths)
    return Outcome(report.run_title(job, args.plot), report.run_json(job), text=text)


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
        default="ergotropy",
        choices=("energy", "ergotropy", "capacity", "purity", "fidelity"),
        help="the figure of the sweep table and of --out's plot FIGURE.png (default ergotropy)",
    )
    sub.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    sub.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


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
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
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
    submit.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    _finish(submit, _run_submit)

    collect = commands.add_parser(
        "collect",
        help="collect the counts of a submitted bundle, or ingest counts produced elsewhere",
        description="Retrieve the results of the bundle's jobs (or read --counts FILE in the qbhw-counts/1 "
        "format), check that every circuit has its shots, and store them in the bundle.",
    )
    collect.add_argument("bundle", help="the bundle directory")
    collect.add_argument("--counts", help="a qbhw-counts/1 JSON file with the counts of every circuit (any provider)")
    collect.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
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
    analyze.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
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
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
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
        _add_model_flags(sub, spec.fields(run=True), sweep=spec.sweep_field)
        _add_run_flags(sub)
        _finish(sub, _run_run)

    _add_bundle_commands(commands)

    devices = commands.add_parser(
        "devices",
        help="list the embedded device snapshots, or import one",
        description="List the device calibration snapshots: the built-in ones and those in the user calibrations "
        "folder ($QBHW_CALIBRATIONS, else ~/.local/share/qbhw/calibrations).",
    )
    devices.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    device_commands = devices.add_subparsers(dest="devices_command", metavar="SUBCOMMAND", parser_class=_Parser)
    imp = device_commands.add_parser(
        "import", help="snapshot a qiskit-ibm-runtime fake backend into the user calibrations folder (ibm extra)"
    )
    imp.add_argument("name", help="fake backend, e.g. FakeTorino, fake_torino or torino")
    imp.add_argument("--out", help="where to write the JSON (default: <user calibrations folder>/<name>.json)")
    imp.add_argument("--force", action="store_true", help="replace an existing file")
    imp.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
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
