"""The error budget of the pulse-level micromaser: what each imperfection of the device costs.

The same protocol is run with every imperfection off ("none", which must reproduce the ideal model), with each
imperfection of ``IMPERFECTIONS`` switched on alone, and with all of them ("all"). Each row holds the cavity's
energy, ergotropy, purity, fidelity (raw and after the best cavity rotation) and leakage after K collisions, and
its differences to the ideal model (pulse minus ideal).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from qbhw.models import micromaser as mm
from qbhw.pulse.imperfections import IMPERFECTIONS, Imperfections
from qbhw.pulse.micromaser import CavityFigures, PulseOptions, run_micromaser

#: the budget's rows, in order
BUDGET_ROWS = ("none",) + IMPERFECTIONS + ("all",)


@dataclass(frozen=True)
class BudgetRow:
    """One case of the budget: the figures after K collisions, their deltas to the ideal model, what ran."""

    name: str
    figures: CavityFigures
    delta_energy: float
    delta_ergotropy: float
    delta_purity: float
    delta_fidelity: float
    engine: str
    levels: int
    calibrated_tau_ns: float

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        out.update(self.figures.to_dict())
        out.update(
            delta_energy=self.delta_energy,
            delta_ergotropy=self.delta_ergotropy,
            delta_purity=self.delta_purity,
            delta_fidelity=self.delta_fidelity,
            engine=self.engine,
            levels=self.levels,
            calibrated_tau_ns=self.calibrated_tau_ns,
        )
        return out


@dataclass(frozen=True)
class PulseBudget:
    """The ideal figures and one row per case of BUDGET_ROWS."""

    ideal: CavityFigures
    rows: tuple[BudgetRow, ...]
    collisions: int
    device: str
    cutoff: int
    metadata: dict[str, Any]

    def row(self, name: str) -> BudgetRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def largest_cost(self) -> str:
        """The single imperfection that loses the most ergotropy on its own."""
        singles = [r for r in self.rows if r.name in IMPERFECTIONS]
        return min(singles, key=lambda r: r.delta_ergotropy).name

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ideal": self.ideal.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
            "largest_cost": self.largest_cost,
            "collisions": self.collisions,
            "device": self.device,
            "cutoff": self.cutoff,
        }
        out.update(self.metadata)
        return out


def budget(
    params: mm.MicromaserParams,
    device: Any = None,
    *,
    engine: str = "auto",
    levels: int | None = None,
    coupling_mhz: float | None = None,
    anharmonicity_mhz: float | None = None,
    options: PulseOptions | None = None,
) -> PulseBudget:
    """Run ``run_micromaser`` for every row of BUDGET_ROWS (same parameters, device and engine choice).

    All rows share one Fock cutoff: ``params.cutoff``, or the one the "all" case needs.
    """
    cases = [("none", Imperfections.none())]
    cases += [(name, Imperfections.only(name)) for name in IMPERFECTIONS]
    cases += [("all", Imperfections.all())]
    runs = {}
    for name, imp in cases:
        runs[name] = run_micromaser(
            params,
            device,
            engine=engine,
            levels=levels if imp.levels else None,
            coupling_mhz=coupling_mhz,
            anharmonicity_mhz=anharmonicity_mhz,
            imperfections=imp,
            options=options,
        )
        if params.cutoff is None and name == "none":
            params = dataclasses.replace(params, cutoff=runs[name].cutoff)
    ideal = runs["none"].ideal
    rows = []
    for name, _ in cases:
        r = runs[name]
        f = r.pulse
        rows.append(
            BudgetRow(
                name=name,
                figures=f,
                delta_energy=f.energy - ideal.energy,
                delta_ergotropy=f.ergotropy - ideal.ergotropy,
                delta_purity=f.purity - ideal.purity,
                delta_fidelity=f.fidelity_phase_corrected - 1.0,
                engine=r.engine,
                levels=r.levels,
                calibrated_tau_ns=r.calibrated_tau_ns,
            )
        )
    first = runs["all"]
    meta = {
        "g_tau": float(params.g_tau),
        "p_excited": float(params.p_excited),
        "coherence": float(params.coherence),
        "coupling_mhz": first.metadata["coupling_mhz"],
        "anharmonicity_mhz": first.metadata["anharmonicity_mhz"],
        "preparation": first.metadata["preparation"],
        "frame": first.frame,
        "rwa": first.rwa,
    }
    return PulseBudget(
        ideal=ideal,
        rows=tuple(rows),
        collisions=first.collisions,
        device=first.metadata["device"],
        cutoff=first.cutoff,
        metadata=meta,
    )


def plot_budget(result: PulseBudget) -> Any:
    """Bar chart of each case's ergotropy change and phase-corrected infidelity: a matplotlib Figure (Agg canvas,
    no process-wide backend change)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 5.2))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    names = [r.name for r in result.rows]
    x = range(len(names))
    ax1.bar(x, [r.delta_ergotropy for r in result.rows], color="tab:red")
    ax1.axhline(0.0, color="k", lw=0.6)
    ax1.set_ylabel("ergotropy - ideal")
    ax1.set_title(
        f"error budget after {result.collisions} collisions on {result.device} "
        f"(ideal W = {result.ideal.ergotropy:.4g})",
        fontsize=10,
    )
    ax2.bar(x, [max(1.0 - r.figures.fidelity_phase_corrected, 1e-16) for r in result.rows], color="tab:blue")
    ax2.set_yscale("log")
    ax2.set_ylabel("1 - F (phase corrected)")
    ax2.set_xticks(list(x))
    ax2.set_xticklabels(names, rotation=30)
    fig.tight_layout()
    return fig
