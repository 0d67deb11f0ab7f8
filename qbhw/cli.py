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
from qbhw.errors import ParameterError, QbhwError

EXIT_USAGE = 2
EXIT_INTERNAL = 1


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
    sub.set_defaults(_run=run, _flags=frozenset(sub.flag_dests), _command=sub.prog)


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
    from qbhw.experiments import PointStore, model_spec, parse_range, run_job
    from qbhw.hardware import default_device, load_calibration, noiseless

    spec = model_spec(args.model)
    fields = spec.fields(run=True)
    values = _model_values(args, fields)
    raw = values.pop(spec.sweep_field)
    kind = next(f.kind for f in fields if f.name == spec.sweep_field)
    sweep = None if raw is None else parse_range(raw, spec.sweep_field, integer=kind is int)
    params, time, options = spec.inputs(values)
    if args.workers < 1:
        raise ParameterError("workers", "an integer >= 1", args.workers)
    device = default_device() if args.device is None else load_calibration(args.device)
    if args.noiseless:
        device = noiseless(device)
    out = report.output_directory(args.out, force=args.force) if args.out else None
    many = sweep is not None and len(sweep) > 1
    job = run_job(
        args.model,
        params,
        device=device,
        time=time,
        options=options,
        sweep=sweep,
        shots=args.shots,
        seed=args.seed,
        mitigate_readout=not args.no_readout_mitigation,
        bootstrap=args.bootstrap,
        estimator=args.estimator,
        measurement=args.measurement,
        workers=args.workers,
        store=None if out is None else PointStore(out),
        progress=report.progress_printer() if many or args.workers > 1 else None,
    )
    text = report.run_text(job)
    if out is not None:
        paths = report.write_run_outputs(job, out)
        text += "\nwrote " + ", ".join(str(p) for p in paths)
    return Outcome(report.run_title(job), report.run_json(job), text=text)


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
    sub.add_argument("--workers", type=int, default=1, help="parallel processes for sweep points (default 1)")
    sub.add_argument(
        "--out", help="folder for result.json, counts.json and ergotropy.png; an interrupted sweep resumes there"
    )
    sub.add_argument(
        "--force", action="store_true", help="replace an existing result in --out and discard its stored points"
    )
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

    out = report.output_directory(args.out, force=args.force) if args.out else None
    analysis = analyze_bundle(args.bundle)
    text = report.analysis_text(analysis)
    if out is not None:
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


def _render(outcome: Outcome, as_json: bool) -> str:
    from qbhw import report

    if as_json:
        return to_json(outcome.values)
    if outcome.text is not None:
        return outcome.text
    if outcome.rows is not None:
        return report.table(outcome.rows, title=outcome.title)
    return report.values_table(outcome.values, title=outcome.title)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 success, 2 bad input, 1 internal error)."""
    with limit_threads():
        parser = build_parser()
        args = parser.parse_args(argv)
        try:
            outcome = args._run(args)
            text = _render(outcome, args.json)
        except ParameterError as exc:
            if exc.parameter not in args._flags:  # a bug: the error names no flag of this command
                return _fail(
                    f"{exc} (the parameter {exc.parameter!r} is not a flag of '{args._command}'; please report this)",
                    EXIT_INTERNAL,
                )
            return _fail(f"{_flag_name(exc.parameter)} must be {exc.allowed} (got {exc.got!r})")
        except QbhwError as exc:
            return _fail(str(exc))
        except Exception as exc:  # never a traceback: qbhw's own fault, said so
            return _fail(f"{type(exc).__name__}: {exc} (please report this)", EXIT_INTERNAL)
    for warning in outcome.warnings:
        sys.stderr.write(f"qbhw: warning: {warning}\n")
    sys.stdout.write(text + "\n")
    return 0


def entry() -> None:  # pragma: no cover - console-script shim
    raise SystemExit(main())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
