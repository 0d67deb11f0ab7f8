"""Presentation of results, at the top of the stack: tables for people, JSON for programs, the ergotropy plot,
and the result files of ``qbhw run``. Reads typed records (``qbhw.experiments.PointRecord``, ``JobResult``);
holds no state and never switches matplotlib's backend for the process (the plot draws on its own
``Figure`` with the Agg canvas).
"""

from __future__ import annotations

import io
import math
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from qbhw._files import write_atomic
from qbhw._json import to_json
from qbhw.errors import ParameterError, QbhwError
from qbhw.experiments import FIGURE_KEYS, JobResult, PointRecord

# ---------------------------------------------------------------------------------------------------- tables


def format_value(value: Any) -> str:
    """A value of a two-column table: floats to 10 significant digits, sequences in brackets."""
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
    return grid([(k, format_value(v)) for k, v in rows], title=title, align="ll")


def values_table(values: Mapping[str, Any], title: str | None = None) -> str:
    """The table of ``qbhw ideal``: every value except ``model``, ``parameters`` and ``warnings`` (NaN rows left
    out), then the parameters on one line."""
    rows = [(k, v) for k, v in values.items() if k not in ("parameters", "model", "warnings")]
    rows = [(k, v) for k, v in rows if not (isinstance(v, float) and math.isnan(v))]
    text = table(rows, title=title)
    if "parameters" in values:
        text += "\n(parameters: " + ", ".join(f"{k}={v}" for k, v in values["parameters"].items()) + ")"
    return text


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float | np.floating):
        return f"{float(x):.4f}"
    return str(x)


def three_way_table(record: PointRecord) -> str:
    """quantity | ideal | circuit (noiseless) | noisy | measured [CI] of one point."""
    m = record.measured
    conf = 0.95 if m is None else m.confidence
    header = ["", "ideal", "circuit", "noisy", f"measured [{100 * conf:.0f}% CI]"]
    rows = []
    for key in (*FIGURE_KEYS, "outside_cutoff"):
        noisy = getattr(record.noisy, key)
        if math.isnan(noisy):
            continue
        measured = "-"
        if m is not None and key in m.figures:
            fig = m.figures[key]
            if key == "outside_cutoff":
                measured = f"{fig.value:.4f} (point)"
            else:
                measured = f"{fig.value:.4f} [{fig.ci[0]:.4f}, {fig.ci[1]:.4f}]"
        rows.append([key, _fmt(getattr(record.ideal, key)), _fmt(getattr(record.circuit, key)), _fmt(noisy), measured])
    return grid(rows, header=header)


def sweep_table(job: JobResult) -> str:
    """Ergotropy of each point of a sweep: swept value | ideal | circuit | noisy | measured [CI]."""
    header = [job.sweep_field, "ideal W", "circuit W", "noisy W", "measured W [CI]"]
    rows = []
    for v, r in zip(job.values, job.records, strict=True):
        m = r.measured
        meas = "-" if m is None else f"{m.ergotropy.value:.4f} [{m.ergotropy.ci[0]:.4f}, {m.ergotropy.ci[1]:.4f}]"
        x = r.value(job.sweep_field) if v is None else v
        rows.append(
            [
                "-" if x is None else f"{x:g}",
                f"{r.ideal.ergotropy:.4f}",
                f"{r.circuit.ergotropy:.4f}",
                f"{r.noisy.ergotropy:.4f}",
                meas,
            ]
        )
    return grid(rows, header=header)


def run_title(job: JobResult) -> str:
    """The title line of ``qbhw run``'s table."""
    first = job.records[0]
    if not job.is_sweep:
        c = first.compilation
        return (
            f"{job.model} on {first.device} (qubits {list(c.physical_qubits)}, register "
            f"{list(c.register_physical_qubits)}; {c.two_qubit_gates} two-qubit gates, depth {c.depth}, "
            f"{c.duration_ns / 1000:.1f} us), shots {first.shots}, seed {first.seed}"
        )
    return (
        f"{job.model} on {first.device}: ergotropy vs {job.sweep_field}, shots {first.shots} per point, seed {job.seed}"
    )


def run_text(job: JobResult) -> str:
    """What ``qbhw run`` prints: title, the three-way table (one point) or the sweep table, and a footer."""
    title = run_title(job)
    body = sweep_table(job) if job.is_sweep else three_way_table(job.records[0])
    m = job.records[0].measured
    estimator = "none (shots 0)" if m is None else m.estimator
    return f"{title}\n{'-' * len(title)}\n{body}\n(measured: estimator {estimator}; circuit = the noiseless circuit)"


def run_json(job: JobResult) -> dict[str, Any]:
    """The JSON object of ``qbhw run --json``: the point's record, or for a sweep the points with the sweep."""
    first = job.records[0]
    if not job.is_sweep:
        return first.to_dict()
    return {
        "model": job.model,
        "device": first.device,
        "shots": first.shots,
        "seed": job.seed,
        "qiskit_version": first.qiskit_version,
        "sweep": {"parameter": job.sweep_field, "values": list(job.values)},
        "points": [r.to_dict() for r in job.records],
    }


def counts_json(job: JobResult) -> dict[str, Any]:
    """The JSON object of counts.json: per point (a list of points for a sweep) the counts of every setting."""
    per_point = [r.counts_list() for r in job.records]
    return {"counts": per_point if job.is_sweep else per_point[0]}


# ------------------------------------------------------------------------------------------------------ plot


def plot_ergotropy(job: JobResult, *, title: str = "") -> bytes:
    """PNG of ergotropy vs the swept quantity: ideal, noiseless circuit, noisy prediction, and measured with its
    interval drawn exactly from the record (a bar from the interval's low to high end, the point on it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xs = np.array(job.xs())
    records = job.records
    fig = Figure(figsize=(6.0, 4.0), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    line = len(xs) > 1
    ax.plot(xs, [r.ideal.ergotropy for r in records], "-o" if line else "o", color="black", label="ideal model", ms=4)
    ax.plot(
        xs,
        [r.circuit.ergotropy for r in records],
        "--" if line else "s",
        color="tab:gray",
        label="circuit, noiseless",
        ms=4,
    )
    ax.plot(
        xs,
        [r.noisy.ergotropy for r in records],
        "-o" if line else "o",
        color="tab:blue",
        label="noisy prediction",
        ms=4,
    )
    measured = [r.measured for r in records]
    if all(m is not None for m in measured):
        w = [m.ergotropy.value for m in measured if m is not None]
        lo = [m.ergotropy.ci[0] for m in measured if m is not None]
        hi = [m.ergotropy.ci[1] for m in measured if m is not None]
        conf = measured[0].confidence if measured[0] is not None else 0.95
        ax.vlines(xs, lo, hi, color="tab:red", lw=1.2)
        ax.plot(xs, w, "D", color="tab:red", ms=4, label=f"measured ({100 * conf:.0f}% CI)")
    ax.axhline(0.0, color="0.8", lw=0.8)
    ax.set_xlabel(job.spec.axis_label)
    ax.set_ylabel("ergotropy (model units)")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------------- files

RESULT_FILES = ("result.json", "counts.json", "ergotropy.png")


def output_directory(path: str | Path, *, force: bool) -> Path:
    """The folder ``--out`` names, created and checked writable; an existing ``result.json`` is refused without
    ``force``, and ``force`` discards the points an earlier run stored there."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ParameterError("out", "a directory (it is an existing file)", str(path))
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".qbhw_write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ParameterError("out", f"a directory that can be written ({exc.strerror})", str(path)) from None
    if (out / "result.json").exists() and not force:
        raise QbhwError(f"{out / 'result.json'} exists; pass --force to replace it or choose another --out")
    if force:  # start over: points stored by an earlier run are not reused
        shutil.rmtree(out / "points", ignore_errors=True)
    return out


def write_run_outputs(job: JobResult, out: Path) -> tuple[Path, ...]:
    """Write counts.json, ergotropy.png and, last (its presence marks a finished run), result.json; atomically."""
    first = job.records[0]
    paths = (out / "result.json", out / "counts.json", out / "ergotropy.png")
    write_atomic(paths[1], to_json(counts_json(job)) + "\n")
    write_atomic(paths[2], plot_ergotropy(job, title=f"{job.model} on {first.device}"))
    write_atomic(paths[0], to_json(run_json(job)) + "\n")
    return paths


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
            what = "loaded from --out" if index < 0 else f"point {index} done"
            out.write(f"qbhw: {done}/{total} points ({what})\n")
        out.flush()

    return progress


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
