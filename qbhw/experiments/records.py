"""Results as JSON-able records (docs/design.md section 3), the three-way table, and the plot.

A point record is a plain dict so that it can cross process boundaries (a concurrent.futures or Dask executor),
be stored as one JSON file per sweep point, and be reloaded when an interrupted sweep resumes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from qbhw.experiments.run import ExperimentResult, Figures, outside_cutoff
from qbhw.mapping import MappedCircuit

FIGURE_KEYS = ("energy", "ergotropy", "capacity", "purity", "fidelity")


def _figures(f: Figures) -> dict[str, Any]:
    out = dataclasses.asdict(f)
    if math.isnan(out["outside_cutoff"]):
        del out["outside_cutoff"]
    return out


def _estimate(measured: Any, mapped: MappedCircuit) -> dict[str, Any]:
    """The measured figures: the estimate's own JSON projection, plus the fitted state's weight outside the model's
    Fock cutoff (micromaser registers with more levels than the cutoff)."""
    out: dict[str, Any] = dict(measured.to_dict())
    if measured.state is not None and not math.isnan(outside_cutoff(mapped, measured.state)):
        out["outside_cutoff"] = outside_cutoff(mapped, measured.state)  # point value of the fitted state
    return out


def point_record(result: ExperimentResult) -> dict[str, Any]:
    """The JSON object of one run (keys of docs/design.md section 3 plus provenance)."""
    import qiskit
    import qiskit_aer

    from qbhw import __version__

    exp = result.experiment
    c = result.compiled
    record: dict[str, Any] = {
        "model": exp.model,
        "parameters": dataclasses.asdict(exp.params),
        "options": dict(exp.options),
        "device": exp.device.name,
        "shots": exp.shots if result.measured is None else result.measured.shots,
        "seed": exp.seed,
        "qiskit_version": qiskit.__version__,
        "qiskit_aer_version": qiskit_aer.__version__,
        "qbhw_version": __version__,
        "ideal": _figures(result.ideal),
        "circuit": {
            **_figures(result.exact),
            "description": result.mapped.description,
            "details": result.mapped.details,
            "physical_qubits": list(c.physical_qubits),
            "register_physical_qubits": list(c.register_physical),
            "depth": c.depth,
            "two_qubit_gates": c.two_qubit_gates,
            "duration_ns": c.duration_ns,
            "seed_transpiler": c.seed_transpiler,
            "transpile_check": c.check,
            "transpile_route": c.route,
        },
        "noisy": _figures(result.noisy),
        "measured": None if result.measured is None else _estimate(result.measured, result.mapped),
        "sampling_seed": result.sampling_seed,
    }
    return record


def counts_record(result: ExperimentResult) -> list[dict[str, Any]]:
    """Counts per setting; the bitstring's character k (from the left) is ... as documented by qbhw.tomography."""
    return [{"setting": s, "counts": dict(sorted(c.items()))} for s, c in result.counts]


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float | np.floating):
        return f"{float(x):.4f}"
    return str(x)


def three_way_rows(record: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the table: quantity | ideal | circuit (noiseless) | noisy | measured [CI]."""
    conf = record["measured"].get("confidence", 0.95) if record["measured"] else 0.95
    header = ["", "ideal", "circuit", "noisy", f"measured [{100 * conf:.0f}% CI]"]
    rows = []
    for key in FIGURE_KEYS + ("outside_cutoff",):
        if key not in record["noisy"]:
            continue
        m = record["measured"]
        if m and f"{key}_ci" in m:
            lo, hi = m[f"{key}_ci"]
            measured = f"{m[key]:.4f} [{lo:.4f}, {hi:.4f}]"
        elif m and key in m:
            measured = f"{m[key]:.4f} (point)"
        else:
            measured = "-"
        rows.append(
            [
                key,
                _fmt(record["ideal"].get(key)),
                _fmt(record["circuit"].get(key)),
                _fmt(record["noisy"].get(key)),
                measured,
            ]
        )
    return header, rows


def grid(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left column left-aligned, the others right-aligned."""
    cells = [list(header)] + [list(r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for k, r in enumerate(cells):
        cells_out = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        lines.append("  ".join(cells_out))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot(records: Sequence[dict[str, Any]], xs: Sequence[float], xlabel: str, path: Any, title: str = "") -> None:
    """Ergotropy vs the swept variable: ideal, noiseless circuit, noisy prediction, measured with its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qbhw._files import write_atomic

    fig, ax = plt.subplots(figsize=(6.0, 4.0), dpi=120)
    ideal = [r["ideal"]["ergotropy"] for r in records]
    circuit = [r["circuit"]["ergotropy"] for r in records]
    noisy = [r["noisy"]["ergotropy"] for r in records]
    style = "-o" if len(xs) > 1 else "o"
    ax.plot(xs, ideal, style, color="black", label="ideal model", ms=4)
    ax.plot(xs, circuit, "--" if len(xs) > 1 else "s", color="tab:gray", label="circuit, noiseless", ms=4)
    ax.plot(xs, noisy, style, color="tab:blue", label="noisy prediction", ms=4)
    measured = [r["measured"] for r in records]
    if all(m is not None for m in measured):
        w = [m["ergotropy"] for m in measured]
        lo = [m["ergotropy"] - m["ergotropy_ci"][0] for m in measured]
        hi = [m["ergotropy_ci"][1] - m["ergotropy"] for m in measured]
        conf = measured[0].get("confidence", 0.95)
        ax.errorbar(
            xs,
            w,
            yerr=[np.maximum(lo, 0), np.maximum(hi, 0)],
            fmt="D",
            color="tab:red",
            capsize=3,
            ms=4,
            label=f"measured ({100 * conf:.0f}% CI)",
        )
    ax.axhline(0.0, color="0.8", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("ergotropy (model units)")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    write_atomic(path, buf.getvalue())
