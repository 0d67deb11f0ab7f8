"""Presentation of results, at the top of the stack: tables for people, JSON for programs, the figure plot, the
result files of ``qbhw run`` in their (locked) folder, and progress lines. Reads typed records
(``qbhw.experiments.PointRecord``, ``JobResult``); holds no state and never switches matplotlib's backend for the
process (the plot draws on its own ``Figure`` with the Agg canvas).
"""

from __future__ import annotations

import contextlib
import io
import math
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from qbhw._files import LOCK_NAME, folder_lock, write_atomic
from qbhw._json import to_json
from qbhw.errors import ParameterError
from qbhw.experiments import FIGURE_KEYS, JobResult, PointRecord, model_spec

# ---------------------------------------------------------------------------------------------------- tables


#: how a table shows a value the model leaves undefined (None), by key; other keys show "none"
UNDEFINED = {"efficiency": "undefined (no heat from the hot bath)", "cutoff_reference": "none (truncation exact)"}


def format_value(value: Any, key: str = "") -> str:
    """A value of a two-column table: floats to 10 significant digits, sequences in brackets, None as a word."""
    if value is None:
        return UNDEFINED.get(key, "none")
    if isinstance(value, float | np.floating):
        return f"{float(value):.10g}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def grid(
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] | None = None,
    title: str | None = None,
    align: str | None = None,
) -> str:
    """THE table renderer: cells in columns two spaces apart, ``align`` one character per column ("l" or "r";
    default: first column left, the others right), an optional header underlined column by column, and an
    optional title underlined across its width."""
    cells = ([list(header)] if header is not None else []) + [list(r) for r in rows]
    ncol = max((len(r) for r in cells), default=0)
    align = align or "l" + "r" * (ncol - 1)
    widths = [max((len(r[i]) for r in cells if i < len(r)), default=0) for i in range(ncol)]
    lines = [title, "-" * len(title)] if title else []
    for k, r in enumerate(cells):
        out = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align, strict=False)]
        lines.append("  ".join(out).rstrip())
        if header is not None and k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def table(rows: Sequence[tuple[str, Any]], title: str | None = None) -> str:
    """Two columns, quantity and value (``format_value``), both left-aligned."""
    return grid([(k, format_value(v, k)) for k, v in rows], title=title, align="ll")


def values_table(values: Mapping[str, Any], title: str | None = None) -> str:
    """The table of ``qbhw ideal``: every value except ``model``, ``parameters`` and ``warnings`` (NaN rows left
    out), then the parameters on one line."""
    rows = [(k, v) for k, v in values.items() if k not in ("parameters", "model", "warnings")]
    rows = [(k, v) for k, v in rows if not (isinstance(v, float) and math.isnan(v))]
    text = table(rows, title=title)
    if "parameters" in values:
        params = ", ".join(f"{k}={'default' if v is None else v}" for k, v in values["parameters"].items())
        text += f"\n(parameters: {params})"
    return text


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float | np.floating):
        text = f"{float(x):.4f}"
        return "0.0000" if text == "-0.0000" else text  # a rounding-level negative is not a sign
    return str(x)


def label(model: str, key: str) -> str:
    """How tables name the figure ``key`` of ``model``: its JSON key (``ModelSpec.figure_names``; the micromaser's
    capacity is ``truncated_capacity``, the capacity within the truncated Fock space, which measures the cutoff)."""
    return model_spec(model).figure_name(key)


def _ci(fig: Any) -> str:
    return f"{fig.value:.4f} [{fig.ci[0]:.4f}, {fig.ci[1]:.4f}]"


def three_way_table(record: PointRecord) -> str:
    """quantity | ideal | circuit (noiseless) | noisy | measured [CI] of one point; with ``--layouts`` also the
    range of the noisy prediction over the qubit sets."""
    m = record.measured
    conf = 0.95 if m is None else m.confidence
    spread = record.layouts
    header = ["", "ideal", "circuit", "noisy"]
    if spread is not None:
        header.append(f"noisy, {len(spread.noisy)} layouts [min, max] std")
    header.append(f"measured [{100 * conf:.0f}% CI]")
    rows = []
    for key in (*FIGURE_KEYS, "outside_cutoff"):
        noisy = getattr(record.noisy, key)
        if math.isnan(noisy):
            continue
        measured = "-"
        if m is not None and key in m.figures:
            measured = f"{m.figures[key].value:.4f} (point)" if key == "outside_cutoff" else _ci(m.figures[key])
        row = [label(record.model, key), _fmt(getattr(record.ideal, key)), _fmt(getattr(record.circuit, key))]
        row.append(_fmt(noisy))
        if spread is not None:
            sp = spread.spread(key)
            row.append(f"[{sp['min']:.4f}, {sp['max']:.4f}] {sp['std']:.4f}")
        rows.append(row + [measured])
    return grid(rows, header=header)


def sweep_table(job: JobResult, figure: str = "ergotropy") -> str:
    """One figure of each point of a sweep: swept value | ideal | circuit | noisy | measured [CI]."""
    short = {"energy": "E", "ergotropy": "W", "capacity": "C", "purity": "P", "fidelity": "F"}[figure]
    header = [job.sweep_field, f"ideal {short}", f"circuit {short}", f"noisy {short}", f"measured {short} [CI]"]
    rows = []
    for v, r in zip(job.values, job.records, strict=True):
        m = r.measured
        meas = "-" if m is None else _ci(m.figures[figure])
        x = r.value(job.sweep_field) if v is None else v
        rows.append(
            [
                "-" if x is None else f"{x:g}",
                f"{getattr(r.ideal, figure):.4f}",
                f"{getattr(r.circuit, figure):.4f}",
                f"{getattr(r.noisy, figure):.4f}",
                meas,
            ]
        )
    return grid(rows, header=header)


def _pulse_noise(record: PointRecord) -> bool:
    """Whether the record's noisy column is the encoded circuit with pulse-level collisions (``--noise pulse``)."""
    return record.compilation.details.get("noise") == "pulse"


def run_title(job: JobResult, figure: str = "ergotropy") -> str:
    """The title line of ``qbhw run``'s table."""
    first = job.records[0]
    native = first.compilation.transpile_route == "native"
    if not job.is_sweep and native:  # the native cavity-QED micromaser (qbhw.experiments.native): no circuit
        return (
            f"{job.model} on {first.device}, native: the storage resonator is the cavity (no circuit, "
            f"{first.compilation.duration_ns / 1000:.1f} us of collisions), shots {first.shots}, seed {first.seed}"
        )
    if not job.is_sweep:
        c = first.compilation
        return (
            f"{job.model} on {first.device} (qubits {list(c.physical_qubits)}, register "
            f"{list(c.register_physical_qubits)}; {c.two_qubit_gates} two-qubit gates, depth {c.depth}, "
            f"{c.duration_ns / 1000:.1f} us), shots {first.shots}, seed {first.seed}; "
            + ("noisy = pulse-level collision channels" if _pulse_noise(first) else "noisy = this one compilation")
        )
    return (
        f"{job.model} on {first.device}: {label(job.model, figure).replace('_', ' ')} vs {job.sweep_field}, shots "
        f"{first.shots} per "
        f"point, seed {job.seed}; "
        + (
            "native: the storage resonator is the cavity"
            if native
            else "noisy = pulse-level collision channels"
            if _pulse_noise(first)
            else "noisy = each point's one compilation"
        )
    )


def run_text(job: JobResult, figure: str = "ergotropy") -> str:
    """What ``qbhw run`` prints: title, the three-way table (one point) or the sweep table of ``figure``, and a
    footer that says what the columns are."""
    title = run_title(job, figure)
    body = sweep_table(job, figure) if job.is_sweep else three_way_table(job.records[0])
    m = job.records[0].measured
    estimator = "none (shots 0)" if m is None else m.estimator
    layouts = job.records[0].layouts
    which = "each point's one compilation" if job.is_sweep else "this one compilation"
    noisy = (
        f"noisy = the prediction of {which} (qubit choice and routing; --layouts K shows the spread over the K best)"
        if layouts is None
        else f"noisy = the prediction of the best of {len(layouts.noisy)} qubit sets, the spread over all of them"
    )
    if _pulse_noise(job.records[0]):
        noisy = (
            "noisy = the encoded circuit with each collision the pulse-level channel of the device's transmon and "
            "storage resonator (--noise pulse; Aer with Kraus instructions), readout noise in measured"
        )
    footer = f"(measured: estimator {estimator}; circuit = the noiseless circuit; {noisy})"
    if job.records[0].compilation.transpile_route == "native":
        footer = (
            f"(measured: estimator {estimator}, displaced-parity cavity tomography; circuit = the ideal model (no "
            "circuit); noisy = the pulse-level prediction on the device)"
        )
    return f"{title}\n{'-' * len(title)}\n{body}\n{footer}"


def _versions(records: Sequence[PointRecord]) -> list[dict[str, str]]:
    seen: list[dict[str, str]] = []
    for r in records:
        v = {"qiskit": r.qiskit_version, "qiskit_aer": r.qiskit_aer_version, "qbhw": r.qbhw_version}
        if v not in seen:
            seen.append(v)
    return seen


def run_json(job: JobResult) -> dict[str, Any]:
    """The JSON object of ``qbhw run --json``: the point's record, or for a sweep the points with the sweep, the
    calibration and the library versions of every point (one entry per distinct set; a resumed sweep never
    mixes them, ``qbhw.experiments.PointStore``)."""
    first = job.records[0]
    if not job.is_sweep:
        return first.to_dict()
    return {
        "model": job.model,
        "device": first.device,
        "calibration": None if first.calibration is None else first.calibration.to_dict(),
        "shots": first.shots,
        "seed": job.seed,
        "seeds": "point k draws from numpy.random.SeedSequence(seed).spawn(points)[k] (its spawn_key)",
        "qiskit_version": first.qiskit_version,
        "versions": _versions(job.records),
        "sweep": {"parameter": job.sweep_field, "values": list(job.values)},
        "points": [r.to_dict() for r in job.records],
    }


#: how counts.json's bitstrings and registers are ordered
BIT_ORDER = (
    "Qiskit bitstrings: character k from the right is classical bit k, which holds register position k (so the "
    "leftmost character is the last register position)"
)
REGISTER_ORDER = (
    "register position k is physical qubit register_physical_qubits[k]; position 0 is the leftmost Kronecker factor "
    "of qbhw's states (big-endian), basis 0 = |g> = Qiskit |0>"
)


def _counts_point(r: PointRecord) -> dict[str, Any]:
    c = r.compilation
    return {
        "physical_qubits": list(c.physical_qubits),
        "register_physical_qubits": list(c.register_physical_qubits),
        "shots": r.shots,
        "shots_per_setting": sorted({s.shots for s in r.counts}),
        "seed": r.seed,
        "spawn_key": list(r.spawn_key),
        "sampling_seed": r.sampling_seed,
        "bootstrap_seed": None if r.measured is None else r.measured.bootstrap_seed,
        "counts": r.counts_list(),
    }


def counts_json(job: JobResult) -> dict[str, Any]:
    """The JSON object of counts.json: the orders, and per point (``points`` for a sweep) the physical qubits, the
    register's, shots, seeds and the counts of every setting (each with its shots)."""
    first = job.records[0]
    head = {
        "model": job.model,
        "device": first.device,
        "calibration": None if first.calibration is None else first.calibration.to_dict(),
        "bit_order": BIT_ORDER,
        "register_order": REGISTER_ORDER,
    }
    if not job.is_sweep:
        return head | _counts_point(first)
    points = [{job.sweep_field: v} | _counts_point(r) for v, r in zip(job.values, job.records, strict=True)]
    return head | {"sweep": {"parameter": job.sweep_field, "values": list(job.values)}, "points": points}


# ------------------------------------------------------------------------------------------------------ plot

#: what ``--plot`` can draw
PLOT_FIGURES = FIGURE_KEYS


@dataclass(frozen=True)
class PlotSeries:
    """What the plot of one figure draws: x of each point (None where the point has no value of the swept
    quantity, e.g. the thermal-gradient NESS: drawn at one labelled position), the ideal, circuit and noisy values,
    and the measured value with its interval exactly as in the JSON (None without a measurement)."""

    figure: str
    xs: tuple[float | None, ...]
    ideal: tuple[float, ...]
    circuit: tuple[float, ...]
    noisy: tuple[float, ...]
    measured: tuple[float, ...] | None
    low: tuple[float, ...] | None
    high: tuple[float, ...] | None


def plot_series(job: JobResult, figure: str = "ergotropy") -> PlotSeries:
    """The values ``plot`` draws for ``figure`` (one of PLOT_FIGURES)."""
    if figure not in PLOT_FIGURES:
        raise ParameterError("plot", "one of " + ", ".join(PLOT_FIGURES), figure)
    records = job.records
    xs = tuple(None if r.value(job.sweep_field) is None else float(r.value(job.sweep_field)) for r in records)
    measured = [r.measured for r in records]
    have = all(m is not None and figure in m.figures for m in measured)
    figs = [m.figures[figure] for m in measured if m is not None] if have else []
    return PlotSeries(
        figure=figure,
        xs=xs,
        ideal=tuple(getattr(r.ideal, figure) for r in records),
        circuit=tuple(getattr(r.circuit, figure) for r in records),
        noisy=tuple(getattr(r.noisy, figure) for r in records),
        measured=tuple(f.value for f in figs) if have else None,
        low=tuple(f.ci[0] for f in figs) if have else None,
        high=tuple(f.ci[1] for f in figs) if have else None,
    )


def plot(job: JobResult, figure: str = "ergotropy", *, title: str = "") -> bytes:
    """PNG of ``draw(job, figure, title=title)``."""
    buf = io.BytesIO()
    draw(job, figure, title=title).savefig(buf, format="png")
    return buf.getvalue()


def draw(job: JobResult, figure: str = "ergotropy", *, title: str = "") -> Any:
    """A matplotlib Figure (Agg canvas) of ``figure`` vs the swept quantity (a single run at its own x): ideal,
    noiseless circuit, noisy prediction, and measured with its interval drawn exactly from the record (a bar from
    the interval's low to high end, the point on it); ``plot_series`` are the values drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    series = plot_series(job, figure)
    unset = any(x is None for x in series.xs)
    xs = np.arange(len(series.xs), dtype=float) if unset else np.array(series.xs, dtype=float)
    fig = Figure(figsize=(6.0, 4.0), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    line = len(xs) > 1
    ax.plot(xs, series.ideal, "-o" if line else "o", color="black", label="ideal model", ms=4)
    native = job.records[0].compilation.transpile_route == "native"  # no circuit: the circuit column is ideal
    if not native:
        ax.plot(xs, series.circuit, "--" if line else "s", color="tab:gray", label="circuit, noiseless", ms=4)
    noisy_label = (
        "pulse-level prediction"
        if native
        else "pulse-informed prediction"
        if _pulse_noise(job.records[0])
        else "noisy prediction"
    )
    ax.plot(xs, series.noisy, "-o" if line else "o", color="tab:blue", label=noisy_label, ms=4)
    if series.measured is not None and series.low is not None and series.high is not None:
        conf = job.records[0].measured.confidence if job.records[0].measured is not None else 0.95
        ax.vlines(xs, series.low, series.high, color="tab:red", lw=1.2)
        ax.plot(xs, series.measured, "D", color="tab:red", ms=4, label=f"measured ({100 * conf:.0f}% CI)")
    if figure in ("energy", "ergotropy", "capacity"):
        ax.axhline(0.0, color="0.8", lw=0.8)
    if unset:  # no value of the swept quantity (a steady state): one labelled position per point
        ax.set_xticks(xs, ["steady state" if x is None else f"{x:g}" for x in series.xs])
        ax.set_xlim(xs[0] - 1.0, xs[-1] + 1.0)
    else:
        ax.set_xlabel(job.spec.axis_label)
        if not line:  # one point: centre it at its own x
            x0 = float(xs[0])
            ax.set_xlim(x0 - max(1.0, abs(x0)) * 0.5, x0 + max(1.0, abs(x0)) * 0.5)
    unit = "" if figure in ("purity", "fidelity") else " (model units)"
    ax.set_ylabel(f"{label(job.model, figure).replace('_', ' ')}{unit}")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_ergotropy(job: JobResult, *, title: str = "") -> bytes:
    """``plot(job, "ergotropy")``."""
    return plot(job, "ergotropy", title=title)


# ----------------------------------------------------------------------------------------------------- files


def result_files(figure: str = "ergotropy") -> tuple[str, ...]:
    """The files ``qbhw run --out`` writes (result.json last: its presence marks a finished run)."""
    return ("counts.json", f"{figure}.png", "result.json")


@contextlib.contextmanager
def result_directory(path: str | Path, *, force: bool, command: str = "") -> Iterator[Path]:
    """The folder ``--out`` names, for the duration of a run: created, checked writable, and locked (one writer
    per folder: a second run into it is refused while this one runs, ``qbhw._files.folder_lock``). An existing
    ``result.json`` is refused without ``force``; ``force`` discards the points an earlier run stored there.
    Every refusal is a ParameterError naming --out."""
    text = str(path)
    if not text.strip():
        raise ParameterError("out", "a folder name (it is empty)", text)
    out = Path(path)
    created = False
    try:
        if out.exists() and not out.is_dir():
            raise ParameterError("out", "a directory (it is an existing file)", text)
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".qbhw_write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        _remove_if_unused(out, created)
        raise ParameterError("out", f"a directory that can be written ({_reason(exc)})", text) from None
    try:
        with folder_lock(out, owner=command) as locked:
            if (out / "result.json").exists() and not force:
                raise ParameterError(
                    "out", "a folder without a finished result (it has result.json; pass --force to replace it)", text
                )
            if force:  # start over: points stored by an earlier run are not reused
                shutil.rmtree(out / "points", ignore_errors=True)
            try:
                yield locked
            except BaseException:
                _remove_if_unused(out, created)  # a run that failed before its first point leaves nothing
                raise
    except BlockingIOError as exc:
        raise ParameterError(
            "out",
            f"a folder no other qbhw run is writing to (it is in use: {exc.strerror}); wait or choose another",
            text,
        ) from None


def _remove_if_unused(out: Path, created: bool) -> None:
    """Remove the folder this run created when it holds nothing but the lock file and an empty points/."""
    if not created:
        return
    with contextlib.suppress(OSError):
        points = out / "points"
        if points.is_dir() and not any(points.iterdir()):
            points.rmdir()
        if {p.name for p in out.iterdir()} <= {LOCK_NAME}:
            shutil.rmtree(out)


def output_directory(path: str | Path, *, force: bool) -> Path:
    """``result_directory`` checks without holding the lock (for callers that write once, at once)."""
    with result_directory(path, force=force) as out:
        return out


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def write_run_outputs(job: JobResult, out: Path, figure: str = "ergotropy") -> tuple[Path, ...]:
    """Write counts.json, FIGURE.png and, last (its presence marks a finished run), result.json, each atomically;
    all three are rendered before the first is written, and a failed write (a full disk, ...) removes the ones this
    call wrote: never a partial result. OSErrors become a ParameterError naming --out."""
    first = job.records[0]
    names = result_files(figure)
    data: tuple[str | bytes, ...] = (
        to_json(counts_json(job)) + "\n",
        plot(job, figure, title=f"{job.model} on {first.device}"),
        to_json(run_json(job)) + "\n",
    )
    written: list[Path] = []
    try:
        for name, content in zip(names, data, strict=True):
            written.append(write_atomic(out / name, content))
    except OSError as exc:
        for p in written:
            with contextlib.suppress(OSError):
                p.unlink()
        raise ParameterError(
            "out",
            f"a folder where {Path(exc.filename or names[len(written)]).name} can be written ({_reason(exc)})",
            str(out),
        ) from None
    return (out / "result.json", out / "counts.json", out / f"{figure}.png")


# -------------------------------------------------------------------------------------------------- devices


def device_rows(summaries: Sequence[Any]) -> list[tuple[str, Any]]:
    """One row per device summary (``qbhw.hardware.DeviceSummary``) for ``qbhw devices``."""
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


# ------------------------------------------------------------------------------------------------- progress


def progress_printer(stream: TextIO | None = None) -> Callable[[int, int, int], None]:
    """``progress(done, total, index)`` for ``run_job``: a bar redrawn in place on a terminal, one line per point
    otherwise (logs, CI); ``index`` -1 means points loaded from the point store."""
    out = sys.stderr if stream is None else stream

    def progress(done: int, total: int, index: int) -> None:
        if out.isatty():
            width = 30
            filled = int(round(width * done / max(total, 1)))
            out.write(f"\rqbhw: [{'#' * filled}{'.' * (width - filled)}] {done}/{total} points")
            if done == total:
                out.write("\n")
        else:
            what = "loaded from --out" if index < 0 else f"point {index + 1} done"
            out.write(f"qbhw: {done}/{total} points ({what})\n")
        out.flush()

    return progress


def stage_printer(total: int, stream: TextIO | None = None) -> Callable[[int], Callable[[str, float, str], None]]:
    """``stages(index)`` for ``run_job``: each stage of a point (map, compile, verify, simulate, sample, fit +
    bootstrap) as it ends, with its time and the point's time so far; on a terminal one line redrawn in place,
    otherwise (logs, CI) one line per stage. Always on stderr (or ``stream``), never on stdout."""
    out = sys.stderr if stream is None else stream
    import time

    def for_point(index: int) -> Callable[[str, float, str], None]:
        start = time.perf_counter()
        where = f"point {index + 1}/{total} " if total > 1 else ""

        def stage(name: str, seconds: float, note: str) -> None:
            elapsed = time.perf_counter() - start
            text = f"qbhw: {where}{name} {seconds:.2f} s" + (f" ({note})" if note else "") + f", {elapsed:.1f} s in all"
            if out.isatty():
                out.write("\r\033[K" + text)
            else:
                out.write(text + "\n")
            out.flush()

        return stage

    return for_point


def end_progress(stream: TextIO | None = None) -> None:
    """Clear a progress line left on a terminal (before the result is printed)."""
    out = sys.stderr if stream is None else stream
    if out.isatty():
        out.write("\r\033[K")
        out.flush()


# -------------------------------------------------------------------------------------------------- bundles


def _bundle_job(record: PointRecord) -> JobResult:
    from qbhw.experiments import model_spec

    return JobResult(record.model, model_spec(record.model).sweep_field, (None,), (record,), record.seed)


def prepare_text(prepared: Any) -> str:
    """What ``qbhw prepare`` prints: where the bundle went, what it holds, and the predictions (ideal, noiseless
    circuit, noisy) the analysis will be compared with (``qbhw.experiments.PreparedBundle``)."""
    record, manifest = prepared.record, prepared.manifest
    c = record.compilation
    shots = sorted(set(manifest.shots.values()))
    title = (
        f"{record.model} on {record.device} (qubits {list(c.physical_qubits)}, register "
        f"{list(c.register_physical_qubits)}; {c.two_qubit_gates} two-qubit gates, depth {c.depth}, "
        f"{c.duration_ns / 1000:.1f} us): {len(manifest.circuits)} circuits x {', '.join(map(str, shots))} shots"
    )
    est = manifest.sections["estimator"]
    execution = manifest.sections["execution"]
    dd = execution["dynamical_decoupling"] or "off"
    lines = [
        title,
        "-" * len(title),
        three_way_table(record),
        f"(measured: after qbhw submit and qbhw collect; estimator {est['name']}, readout mitigation from the "
        f"{est['readout']['source']}; dynamical decoupling {dd}, twirling {'on' if execution['twirling'] else 'off'})",
        f"wrote bundle {prepared.directory} (job tag {manifest.job_tag()}; backend {prepared.device.backend_name})",
    ]
    return "\n".join(lines)


def prepare_json(prepared: Any) -> dict[str, Any]:
    """The JSON object of ``qbhw prepare --json``."""
    manifest = prepared.manifest
    out = {
        "bundle": str(prepared.directory),
        "content_hash": manifest.content_hash(),
        "job_tag": manifest.job_tag(),
        "backend": prepared.device.backend_name,
        "circuits": [{"name": c.name, "shots": c.shots} for c in manifest.circuits],
    }
    record = prepared.record.to_dict()
    record.pop("measured")
    out.update(record)
    for section in ("device", "estimator", "execution"):
        value = dict(manifest.sections[section])
        if section == "device":
            value = {k: v for k, v in value.items() if k not in ("qubits", "gates")}
        if section == "estimator":
            value = {k: v for k, v in value.items() if k not in ("hamiltonian", "target_state")}
        out[f"bundle_{section}"] = value
    return out


def analysis_title(analysis: Any) -> str:
    """The title line of ``qbhw analyze`` (``qbhw.experiments.BundleAnalysis``)."""
    record = analysis.record
    c = record.compilation
    bundle = analysis.bundle_dict()
    if analysis.jobs is None:
        where = f"counts from {analysis.seal.counts_file or 'a counts file'}"
    else:
        where = f"ran on {analysis.jobs.backend}" + (" (local)" if analysis.jobs.local else "")
    shots = ", ".join(map(str, bundle["shots_per_circuit"]))
    return (
        f"{record.model} on {record.device}, {where} (register {list(c.register_physical_qubits)}), shots {shots} per "
        f"circuit, bundle {analysis.directory}"
    )


def analysis_text(analysis: Any) -> str:
    """What ``qbhw analyze`` prints: title, the three-way table (noisy = the prediction recorded at preparation),
    the readout model used, notes and flags."""
    title = analysis_title(analysis)
    m = analysis.record.measured
    r = analysis.readout
    readout = ", ".join(
        f"q{q} P(1|0)={a:.4f} P(0|1)={b:.4f}" for q, a, b in zip(r.qubits, r.p1_given_0, r.p0_given_1, strict=True)
    )
    lines = [
        title,
        "-" * len(title),
        three_way_table(analysis.record),
        f"(measured: estimator {m.estimator if m is not None else '-'}; readout mitigation from the {r.source}: "
        f"{readout}; noisy = qbhw's prediction at preparation)",
    ]
    lines += [f"note: {n}" for n in analysis.notes]
    lines += [f"FLAG: {f}" for f in analysis.flags]
    if not analysis.flags:
        inside = sum(a.status == "inside" for a in analysis.agreement)
        lines.append(f"agreement: the noisy prediction lies inside {inside} of {len(analysis.agreement)} intervals")
    return "\n".join(lines)


def write_analysis_outputs(analysis: Any, out: Path) -> tuple[Path, ...]:
    """Write counts.json, ergotropy.png and, last, result.json (the JSON of ``qbhw analyze --json``) into ``out``,
    atomically."""
    job = _bundle_job(analysis.record)
    paths = (out / "result.json", out / "counts.json", out / "ergotropy.png")
    write_atomic(paths[1], to_json(counts_json(job)) + "\n")
    title = f"{analysis.record.model} on {analysis.record.device}: bundle {analysis.manifest.job_tag()}"
    write_atomic(paths[2], plot_ergotropy(job, title=title))
    write_atomic(paths[0], to_json(analysis.to_dict()) + "\n")
    return paths
