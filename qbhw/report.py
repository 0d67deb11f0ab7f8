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
from qbhw.experiments import CYCLE_KEYS, FIGURE_KEYS, JobResult, PointRecord, model_spec

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


def _g(x: Any) -> str:
    """An engine quantity to 4 significant digits ("-" for NaN or None)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    text = f"{float(x):.4g}"
    return "0" if text == "-0" else text


def _ci_g(fig: Any) -> str:
    if math.isnan(fig.ci[0]) or math.isnan(fig.ci[1]):
        return f"{_g(fig.value)} [not bounded]"
    return f"{_g(fig.value)} [{_g(fig.ci[0])}, {_g(fig.ci[1])}]"


#: how the tables name the engine quantities of a limit cycle
CYCLE_LABELS = {
    "work": "work per cycle",
    "power": "power",
    "heat": "heat (hot qubit)",
    "efficiency": "efficiency",
}


def cycle_table(record: PointRecord) -> str:
    """The three-way table of a limit-cycle point: the engine quantities (work, power, heat, efficiency), then the
    figures of the register before and after the last extraction."""
    cyc = record.cycle
    if cyc is None:
        raise ValueError("cycle_table needs a limit-cycle point")
    m = record.measured
    conf = 0.95 if m is None else m.confidence
    header = ["", "ideal", "circuit", "noisy", f"measured [{100 * conf:.0f}% CI]"]
    rows = []
    for key in CYCLE_KEYS:
        measured = "-" if cyc.measured is None else _ci_g(cyc.measured[key])
        columns = (getattr(cyc.ideal, key), getattr(cyc.circuit, key), getattr(cyc.noisy, key))
        rows.append([CYCLE_LABELS[key], *(_g(v) for v in columns), measured])
    stages = (
        ("before", record.ideal, record.circuit, record.noisy, m),
        ("after", cyc.after.ideal, cyc.after.circuit, cyc.after.noisy, cyc.after.measured),
    )
    for stage, ideal, circuit, noisy, meas in stages:
        for key in FIGURE_KEYS:
            measured = "-" if meas is None or key not in meas.figures else _ci(meas.figures[key])
            row = [f"{label(record.model, key)} {stage}", _fmt(getattr(ideal, key)), _fmt(getattr(circuit, key))]
            rows.append([*row, _fmt(getattr(noisy, key)), measured])
    return grid(rows, header=header)


def cycle_footer(record: PointRecord, *, sweep: bool = False) -> str:
    """What the limit-cycle rows are (``qbhw.experiments.CYCLE_DEFINITIONS``, shortly); for one point also its
    cycles and the model's own hot-bath heat and efficiency."""
    cyc = record.cycle
    if cyc is None:
        return ""
    if sweep:
        head = "limit cycles: before/after = the register just before/after the last extraction"
        model = "the model's hot-bath heat and efficiency are each point's ideal bath_heat, bath_efficiency in the JSON"
    else:
        tau = record.time.get("cycle_time")
        eff = "undefined" if cyc.bath_efficiency is None else f"{cyc.bath_efficiency:.4g}"
        head = (
            f"limit cycle: {cyc.cycles} engine cycle(s) of tau = {tau:g} per circuit; before/after = the register "
            "just before/after the last extraction"
        )
        model = f"the model's hot-bath heat is {cyc.bath_heat:.4g}, its efficiency {eff}"
    return (
        f"({head}: the same compiled circuit, then the compiled extraction; work = E_before - E_after, power = "
        "work/tau; heat = the hot qubit's energy gain omega_a (<n_A>_before - <n_A>_after) over the charging stroke, "
        f"the hot bath's heat only at g = 0: {model}; measured work, power, heat: linear estimates -/+ z sigma of the "
        f"two independent tomographies; efficiency: Fieller's interval){'' if sweep else not_an_engine_note(record)}"
    )


def not_an_engine_note(record: PointRecord) -> str:
    """A footer line naming the columns (of one limit-cycle point) whose work or heat is <= 0: there the register
    does not run as an engine and work/heat (both negative on a noisy device that heats the register) is a ratio,
    not an efficiency. Empty when every column runs as one."""
    cyc = record.cycle
    if cyc is None:
        return ""
    columns = [("ideal", cyc.ideal.work, cyc.ideal.heat), ("circuit", cyc.circuit.work, cyc.circuit.heat)]
    columns.append(("noisy", cyc.noisy.work, cyc.noisy.heat))
    if cyc.measured is not None:
        columns.append(("measured", cyc.measured["work"].value, cyc.measured["heat"].value))
    names = [name for name, work, heat in columns if not (work > 0.0 and heat > 0.0)]
    if not names:
        return ""
    return (
        f"\n(work or heat <= 0 in the {', '.join(names)} column{'s' if len(names) > 1 else ''}: the register does not "
        "run as an engine there, and its efficiency row is the ratio work/heat, not an engine's efficiency)"
    )


def three_way_table(record: PointRecord) -> str:
    """quantity | ideal | circuit (noiseless) | noisy | measured [CI] of one point; with ``--layouts`` also the
    range of the noisy prediction over the qubit sets; a limit-cycle point: ``cycle_table``."""
    if record.cycle is not None:
        return cycle_table(record)
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
    """One figure of each point of a sweep: swept value | ideal | circuit | noisy | measured [CI]. ``figure`` may be
    an engine quantity (``CYCLE_KEYS``) for a sweep of limit-cycle points."""
    check_figure(job, figure)
    short = {"energy": "E", "ergotropy": "W", "capacity": "C", "purity": "P", "fidelity": "F"}.get(figure, figure)
    header = [job.sweep_field, f"ideal {short}", f"circuit {short}", f"noisy {short}", f"measured {short} [CI]"]
    rows = []
    for v, r in zip(job.values, job.records, strict=True):
        x = r.value(job.sweep_field) if v is None else v
        if figure in CYCLE_KEYS:
            assert r.cycle is not None
            cyc = r.cycle
            meas = "-" if cyc.measured is None else _ci_g(cyc.measured[figure])
            cells = [_g(getattr(c, figure)) for c in (cyc.ideal, cyc.circuit, cyc.noisy)]
        else:
            m = r.measured
            meas = "-" if m is None else _ci(m.figures[figure])
            cells = [f"{getattr(c, figure):.4f}" for c in (r.ideal, r.circuit, r.noisy)]
        rows.append(["-" if x is None else f"{x:g}", *cells, meas])
    return grid(rows, header=header)


def is_cycle_job(job: JobResult) -> bool:
    """Whether the job's points are limit cycles (``PointRecord.cycle``)."""
    return all(r.cycle is not None for r in job.records)


def default_figure(job: JobResult) -> str:
    """The figure a sweep table and plot show by default: the work per cycle of limit cycles, else ergotropy."""
    return "work" if is_cycle_job(job) else "ergotropy"


def check_figure(job: JobResult, figure: str) -> None:
    """ParameterError("plot") unless ``figure`` is one of PLOT_FIGURES, or of CYCLE_PLOT_FIGURES for a job of
    limit-cycle points."""
    if figure in PLOT_FIGURES or (figure in CYCLE_PLOT_FIGURES and is_cycle_job(job)):
        return
    if is_cycle_job(job):
        raise ParameterError("plot", "one of " + ", ".join(PLOT_FIGURES + CYCLE_PLOT_FIGURES), figure)
    raise ParameterError(
        "plot",
        "one of " + ", ".join(PLOT_FIGURES) + " (" + ", ".join(CYCLE_PLOT_FIGURES) + " need --cycle-time)",
        figure,
    )


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
    name = CYCLE_LABELS[figure] if figure in CYCLE_KEYS else label(job.model, figure).replace("_", " ")
    per = "per circuit (two per point)" if is_cycle_job(job) else "per point"
    return (
        f"{job.model} on {first.device}: {name} vs {job.sweep_field}, shots {first.shots} {per}, seed {job.seed}; "
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
    circuit = "the noiseless circuit" if job.is_sweep else circuit_note(job.records[0])
    footer = f"(measured: estimator {estimator}; circuit = {circuit}; {noisy})"
    if job.records[0].cycle is not None:
        footer += "\n" + cycle_footer(job.records[0], sweep=job.is_sweep)
    if job.records[0].compilation.transpile_route == "native":
        footer = (
            f"(measured: estimator {estimator}, displaced-parity cavity tomography; circuit = the ideal model (no "
            "circuit); noisy = the pulse-level prediction on the device)"
        )
    return f"{title}\n{'-' * len(title)}\n{body}\n{footer}"


def circuit_note(record: PointRecord) -> str:
    """What the circuit column is, with the mapping's distance to the ideal state (its details
    ``trace_distance_exact_ideal``; for the micromaser's engineered cavity loss also the bound on its channel)."""
    details = record.compilation.details
    out = "the noiseless circuit"
    dist = details.get("trace_distance_exact_ideal")
    if isinstance(dist, int | float) and not isinstance(dist, bool):
        what = "before the last extraction" if record.cycle is not None else ""
        out += f", trace distance {float(dist):.2g} to the ideal state{' ' + what if what else ''}"
    if "loss_subcollisions" in details:
        out += (
            f"; cavity loss engineered by {details['loss_subcollisions']} damping collisions per interval, each "
            f"interval within {float(details['loss_channel_error_bound']):.2g} of the model's loss channel"
        )
    return out


def run_warnings(job: JobResult) -> tuple[str, ...]:
    """The warnings of a job's points (a limit cycle's unresolved work, ...), each once; in a sweep prefixed with
    the point's swept value."""
    out: list[str] = []
    for v, r in zip(job.values, job.records, strict=True):
        if r.cycle is None:
            continue
        x = r.value(job.sweep_field) if v is None else v
        where = f"{job.sweep_field} = {x:g}: " if job.is_sweep and x is not None else ""
        for w in r.cycle.warnings:
            if where + w not in out:
                out.append(where + w)
    return tuple(out)


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
    out: dict[str, Any] = {
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
    if r.cycle is not None:  # the second circuit of a limit cycle: the register after the last extraction
        a = r.cycle.after
        out["after"] = {
            "physical_qubits": list(a.compilation.physical_qubits),
            "register_physical_qubits": list(a.compilation.register_physical_qubits),
            "shots": a.shots,
            "shots_per_setting": sorted({s.shots for s in a.counts}),
            "spawn_key": list(a.spawn_key),
            "sampling_seed": a.sampling_seed,
            "bootstrap_seed": None if a.measured is None else a.measured.bootstrap_seed,
            "counts": [c.to_dict() for c in a.counts],
        }
    return out


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

#: what ``--plot`` can draw for every point
PLOT_FIGURES = FIGURE_KEYS
#: what it can draw besides for limit-cycle points (``PointRecord.cycle``)
CYCLE_PLOT_FIGURES = CYCLE_KEYS


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
    """The values ``plot`` draws for ``figure`` (``check_figure``); an interval that is not
    bounded (a limit cycle's efficiency with unresolved heat) is (NaN, NaN)."""
    check_figure(job, figure)
    records = job.records
    xs = tuple(None if r.value(job.sweep_field) is None else float(r.value(job.sweep_field)) for r in records)
    if figure in CYCLE_KEYS:
        cycles = [r.cycle for r in records if r.cycle is not None]
        meas = [c.measured for c in cycles]
        have_m = all(m is not None for m in meas)
        cfigs = [m[figure] for m in meas if m is not None] if have_m else []
        return PlotSeries(
            figure=figure,
            xs=xs,
            ideal=tuple(getattr(c.ideal, figure) for c in cycles),
            circuit=tuple(getattr(c.circuit, figure) for c in cycles),
            noisy=tuple(getattr(c.noisy, figure) for c in cycles),
            measured=tuple(f.value for f in cfigs) if have_m else None,
            low=tuple(f.ci[0] for f in cfigs) if have_m else None,
            high=tuple(f.ci[1] for f in cfigs) if have_m else None,
        )
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
    if figure in ("energy", "ergotropy", "capacity", "work", "power", "heat"):
        ax.axhline(0.0, color="0.8", lw=0.8)
    if unset:  # no value of the swept quantity (a steady state): one labelled position per point
        ax.set_xticks(xs, ["steady state" if x is None else f"{x:g}" for x in series.xs])
        ax.set_xlim(xs[0] - 1.0, xs[-1] + 1.0)
    else:
        ax.set_xlabel(job.spec.axis_label_of(job.sweep_field))
        if not line:  # one point: centre it at its own x
            x0 = float(xs[0])
            ax.set_xlim(x0 - max(1.0, abs(x0)) * 0.5, x0 + max(1.0, abs(x0)) * 0.5)
    unit = "" if figure in ("purity", "fidelity", "efficiency") else " (model units)"
    name = CYCLE_LABELS[figure] if figure in CYCLE_KEYS else label(job.model, figure).replace("_", " ")
    ax.set_ylabel(f"{name}{unit}")
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


# ---------------------------------------------------------------------------------------------- pulse level


def _pg(x: Any, digits: int = 6) -> str:
    """A figure of a pulse-level table: ``digits`` significant digits, '-' for None or NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float | np.floating):
        return f"{float(x):.{digits}g}"
    return str(x)


def _settings_line(values: Mapping[str, Any], keys: Sequence[str]) -> str:
    return "(" + ", ".join(f"{k} {format_value(values[k], k)}" for k in keys if k in values) + ")"


_MICROMASER_ROWS = (
    ("energy", "energy"),
    ("ergotropy", "ergotropy"),
    ("purity", "purity"),
    ("mean_photons", "mean photons"),
    ("leakage", "leakage (last collision)"),
    ("max_leakage", "leakage (largest per collision)"),
    ("fidelity", "fidelity to the ideal state"),
    ("fidelity_phase_corrected", "fidelity, cavity phase corrected"),
    ("phase", "cavity phase (rad)"),
    ("top_level_population", "top Fock level population"),
)


def pulse_micromaser_text(values: Mapping[str, Any]) -> str:
    """The table of ``qbhw pulse micromaser`` from its JSON object (``PulseMicromaserResult.to_dict()``): ideal
    vs pulse level, then the settings that produced it."""
    title = (
        f"micromaser at pulse level on {values['device']} after {values['collisions']} collisions "
        f"(imperfections {values['imperfections']})"
    )
    rows = []
    for key, name in _MICROMASER_ROWS:
        ideal = values["ideal"][key]
        if key in ("leakage", "max_leakage", "fidelity", "fidelity_phase_corrected", "phase"):
            ideal = None
        rows.append([name, _pg(ideal), _pg(values["pulse"][key])])
    body = grid(rows, header=["", "ideal", "pulse level"])
    settings = _settings_line(
        values,
        (
            "engine",
            "frame",
            "rwa",
            "levels",
            "cutoff",
            "coupling_mhz",
            "anharmonicity_mhz",
            "preparation",
            "calibrated_tau_ns",
            "flux_pulse_ns",
            "collision_ns",
        ),
    )
    note = "(energies in units of hbar omega_r; ideal = qbhw ideal micromaser at the same cutoff)"
    return f"{title}\n{'-' * len(title)}\n{body}\n{settings}\n{note}"


def pulse_sweep_text(values: Mapping[str, Any]) -> str:
    """The sweep table of ``qbhw pulse micromaser --collisions a:b:s`` (``PulseMicromaserSweep.to_dict()``)."""
    title = (
        f"micromaser at pulse level on {values['device']}: ergotropy vs collisions "
        f"(imperfections {values['imperfections']})"
    )
    ideal, pulse = values["ideal"], values["pulse"]
    rows = []
    for k, key in enumerate(values["collisions"]):
        rows.append(
            [
                str(key),
                f"{ideal['ergotropy'][k]:.6f}",
                f"{pulse['ergotropy'][k]:.6f}",
                f"{ideal['energy'][k]:.6f}",
                f"{pulse['energy'][k]:.6f}",
                f"{pulse['purity'][k]:.6f}",
                f"{pulse['leakage'][k]:.2e}",
                f"{pulse['fidelity_phase_corrected'][k]:.6f}",
            ]
        )
    header = ["collisions", "ideal W", "pulse W", "ideal E", "pulse E", "pulse purity", "leakage", "F (phase)"]
    body = grid(rows, header=header)
    settings = _settings_line(
        values, ("engine", "frame", "rwa", "levels", "cutoff", "calibrated_tau_ns", "flux_pulse_ns", "collision_ns")
    )
    return f"{title}\n{'-' * len(title)}\n{body}\n{settings}"


def pulse_budget_text(values: Mapping[str, Any]) -> str:
    """The error-budget table of ``qbhw pulse micromaser --budget`` (``PulseBudget.to_dict()``): one row per case
    (every imperfection off, each alone, all), with the change of ergotropy and energy against the ideal model."""
    ideal = values["ideal"]
    title = (
        f"error budget of the micromaser on {values['device']} after {values['collisions']} collisions "
        f"(ideal W = {ideal['ergotropy']:.6g}, E = {ideal['energy']:.6g}, purity {ideal['purity']:.6g})"
    )
    rows = []
    for r in values["rows"]:
        rows.append(
            [
                r["name"],
                f"{r['ergotropy']:.5f}",
                f"{r['delta_ergotropy']:+.5f}",
                f"{r['energy']:.5f}",
                f"{r['delta_energy']:+.5f}",
                f"{r['purity']:.5f}",
                f"{r['fidelity_phase_corrected']:.5f}",
                f"{r['max_leakage']:.1e}",
                f"{r['levels']}",
            ]
        )
    header = ["case", "W", "W - ideal", "E", "E - ideal", "purity", "F (phase)", "leakage", "levels"]
    body = grid(rows, header=header)
    footer = (
        f"(largest single cost: {values['largest_cost']}; case none must equal the ideal model; "
        f"cutoff {values['cutoff']}, engine of the rows: {', '.join(sorted({r['engine'] for r in values['rows']}))})"
    )
    return f"{title}\n{'-' * len(title)}\n{body}\n{footer}"


def figure_png(fig: Any) -> bytes:
    """PNG bytes of a matplotlib Figure (drawn on its own Agg canvas)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    return buf.getvalue()


def write_pulse_outputs(out: Path, values: Mapping[str, Any], pictures: Mapping[str, bytes]) -> tuple[Path, ...]:
    """Write the PNGs ``pictures`` (name -> bytes) and, last (its presence marks a finished run), result.json,
    each atomically; a failed write removes what this call wrote (never a partial result). OSErrors become a
    ParameterError naming --out."""
    items: list[tuple[str, str | bytes]] = [(name, data) for name, data in pictures.items()]
    items.append(("result.json", to_json(values) + "\n"))
    written: list[Path] = []
    try:
        for name, content in items:
            written.append(write_atomic(out / name, content))
    except OSError as exc:
        for p in written:
            with contextlib.suppress(OSError):
                p.unlink()
        raise ParameterError(
            "out",
            f"a folder where {Path(exc.filename or items[len(written)][0]).name} can be written ({_reason(exc)})",
            str(out),
        ) from None
    return tuple(written[-1:] + written[:-1])


_CHARGER_ROWS = (
    ("battery_excitation", "battery excitation P_b"),
    ("energy", "battery energy"),
    ("ergotropy", "battery ergotropy"),
    ("capacity", "battery capacity"),
    ("purity", "battery purity"),
    ("concurrence", "concurrence"),
    ("steering", "steering F3"),
    ("chsh", "CHSH maximum"),
    ("coherence_l1", "l1 coherence"),
    ("imaginarity", "l1 imaginarity"),
    ("texture_battery", "texture (battery)"),
    ("texture_global", "texture (global)"),
    ("residual_capacity", "residual capacity"),
)


def _coupling_lines(c: Mapping[str, Any], fit: Mapping[str, Any] | None) -> list[str]:
    lines = [
        f"J/2pi = {c['exchange_mhz']:g} MHz (J1 = J exactly: the one-excitation block is closed); interaction at "
        f"{c['interaction_ghz']:g} GHz, {c['levels']} transmon levels",
        f"static ZZ zeta/2pi there: {c['zz_khz']:.6g} kHz exact (diagonalisation), {c['zz_perturbative_khz']:.6g} kHz "
        "at second order, 2 J^2 (a1 + a2)/((D + a1)(D - a2))"
        + ("" if fit is None else f", {fit['zz_khz']:.6g} +- {fit['stderr_khz']:.2g} kHz fitted ({fit['engine']})"),
        f"(parked: {c['parked_zz_khz']:.6g} kHz exact, {c['parked_zz_perturbative_khz']:.6g} kHz at second order)",
        f"charger (model unit hbar J): omega_b = omega_c = {c['omega_b']:.6f}, J1 = {c['j1']:g}, "
        f"J2 = zeta/4 = {c['j2']:.6g} (H ⊃ J2 Z_b Z_c, Qiskit Z)",
    ]
    return lines


def pulse_charger_text(values: Mapping[str, Any]) -> str:
    """The table of ``qbhw pulse charger`` (``PulseChargerResult.to_dict()``): the derived couplings, then ideal vs
    pulse-level figures at the time given."""
    title = (
        f"charger at pulse level on {values['device']}, J t = {values['time']:g} ({values['time_ns']:.4g} ns; "
        f"imperfections {values['imperfections']})"
    )
    rows = [[name, _pg(values["ideal"][key]), _pg(values["pulse"][key])] for key, name in _CHARGER_ROWS]
    rows.append(["leakage out of the qubits", "-", _pg(values["pulse"]["leakage"])])
    rows.append(["fidelity to the ideal state", "-", _pg(values["pulse"]["fidelity"], 10)])
    body = grid(rows, header=["", "ideal", "pulse level"])
    lines = _coupling_lines(values["coupling"], values.get("zz_fit"))
    settings = _settings_line(
        values,
        (
            "engine",
            "levels",
            "flux_pulsed",
            "preparation",
            "calibrated_tau_ns",
            "flux_pulse_ns",
            "preparation_ns",
            "phase_correction",
        ),
    )
    note = (
        "(energies in units of hbar J; pulse level = the two-qubit state renormalised, frame rotating at the "
        "interaction frequency, battery phase corrected by a calibrated virtual Z)"
    )
    return "\n".join([title, "-" * len(title), *lines, body, settings, note])


def pulse_charger_sweep_text(values: Mapping[str, Any]) -> str:
    """The table of ``qbhw pulse charger --time a:b:s``."""
    points = values["points"]
    first = points[0]
    title = f"charger at pulse level on {first['device']} vs J t (imperfections {first['imperfections']})"
    rows = []
    for p in points:
        i, q = p["ideal"], p["pulse"]
        rows.append(
            [
                f"{p['time']:g}",
                f"{i['battery_excitation']:.6f}",
                f"{q['battery_excitation']:.6f}",
                f"{i['capacity']:.4f}",
                f"{q['capacity']:.4f}",
                f"{i['concurrence']:.6f}",
                f"{q['concurrence']:.6f}",
                f"{q['fidelity']:.6f}",
                f"{q['leakage']:.1e}",
            ]
        )
    header = ["J t", "ideal P_b", "pulse P_b", "ideal C_b", "pulse C_b", "ideal E", "pulse E", "F", "leakage"]
    lines = _coupling_lines(first["coupling"], values.get("zz_fit"))
    note = "(C_b battery capacity in hbar J; E concurrence; F fidelity of the renormalised two-qubit state)"
    return "\n".join([title, "-" * len(title), *lines, grid(rows, header=header), note])


_BATTERY_ROWS = (
    ("energy", "energy"),
    ("ergotropy", "ergotropy"),
    ("capacity", "capacity"),
    ("purity", "purity"),
    ("excited_a", "excited population of A (hot)"),
    ("excited_s", "excited population of S (cold)"),
    ("leakage", "population outside the qubits"),
)
_CYCLE_ROWS = (
    ("work", "work per cycle"),
    ("heat", "heat from the hot bath"),
    ("power", "power"),
    ("efficiency", "efficiency"),
    ("ergotropy", "ergotropy before extraction"),
)


def pulse_thermal_gradient_text(values: Mapping[str, Any]) -> str:
    """The tables of ``qbhw pulse thermal-gradient`` (``PulseThermalGradientResult.to_dict()``): the NESS, ideal
    (global and local master equations at the device's parameters) vs pulse level, and the limit cycle."""
    title = f"thermal-gradient battery at pulse level on {values['device']} (imperfections {values['imperfections']})"
    p = values["ideal_parameters"]
    lines = [
        f"hot bath: {values['hot_bath']}, kappa/2pi {values['bath_kappa_mhz']:g} MHz, g_r/2pi "
        f"{values['bath_coupling_mhz']:g} MHz, n_h {values['bath_photons']:g}: Gamma/2pi = "
        f"{values['hot_rate_mhz'] * 1e3:.4g} kHz; cold bath: the cold transmon's T1",
        "ideal model (units of omega_S): " + ", ".join(f"{k} {format_value(v, k)}" for k, v in p.items()),
    ]
    rows = [
        [name, _pg(values["ideal"][key]), _pg(values["ideal_local"][key]), _pg(values["pulse"][key])]
        for key, name in _BATTERY_ROWS
    ]
    body = "non-equilibrium steady state\n" + grid(
        rows, header=["", "ideal, global ME", "ideal, local ME", "pulse level"]
    )
    if "cycle" in values:
        c = values["cycle"]
        crow = [[name, _pg(c["ideal"][key]), _pg(c["pulse"][key])] for key, name in _CYCLE_ROWS]
        body += (
            f"\n\ntwo-stroke limit cycle, charging {values['cycle_time_us']:g} us, extraction by a "
            f"{values['extraction_ns']:.4g} ns calibrated swap (ideal: an instantaneous SWAP)\n"
            + grid(crow, header=["", "ideal, global ME", "pulse level"])
        )
    settings = _settings_line(values, ("engine", "levels", "resonator_cutoff", "top_level_population"))
    note = (
        f"(energies in units of {values['model_unit']}; pulse level = the two-qubit state renormalised (the population "
        "outside it shown), work and heat with the whole L-level Hamiltonian; states in the frame of the hot transmon)"
    )
    return "\n".join([title, "-" * len(title), *lines, body, settings, note])


def pulse_thermal_gradient_sweep_text(values: Mapping[str, Any]) -> str:
    """The table of ``qbhw pulse thermal-gradient --cycle-time-us a:b:s``."""
    points = values["points"]
    first = points[0]
    title = (
        f"thermal-gradient limit cycle at pulse level on {first['device']} vs charging time "
        f"(imperfections {first['imperfections']})"
    )
    rows = []
    for p in points:
        i, q = p["cycle"]["ideal"], p["cycle"]["pulse"]
        rows.append(
            [
                f"{p['cycle_time_us']:g}",
                _pg(i["work"]),
                _pg(q["work"]),
                _pg(i["power"]),
                _pg(q["power"]),
                _pg(i["efficiency"], 4),
                _pg(q["efficiency"], 4),
            ]
        )
    header = ["tau (us)", "ideal W", "pulse W", "ideal P", "pulse P", "ideal eta", "pulse eta"]
    note = f"(units of {first['model_unit']}; ideal: global ME, instantaneous SWAP; pulse: calibrated swap pulse)"
    return "\n".join([title, "-" * len(title), grid(rows, header=header), note])


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
