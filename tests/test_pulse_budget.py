"""The error budget of the pulse-level micromaser on the synthetic device."""

import json

import pytest

from qbhw.models import micromaser as mm
from qbhw.pulse import BUDGET_ROWS, IMPERFECTIONS, budget, plot_budget, synthetic_micromaser_device


@pytest.mark.slow
def test_budget_on_the_synthetic_device():
    params = mm.MicromaserParams(g_tau=1.1107207345, p_excited=0.5, coherence=1.0, collisions=6, cutoff=9)
    b = budget(params, synthetic_micromaser_device())
    assert [r.name for r in b.rows] == list(BUDGET_ROWS)
    ideal = mm.evolve(params)
    none = b.row("none")
    for key in ("energy", "ergotropy", "purity"):
        assert abs(getattr(none.figures, key) - getattr(ideal, key)) < 1e-8
        assert getattr(b.ideal, key) == getattr(ideal, key)
    assert abs(none.delta_ergotropy) < 1e-8 and none.engine == "exact"
    assert b.row("levels").levels == 3 and b.row("all").levels == 3 and b.row("t1").levels == 2
    assert b.row("all").delta_ergotropy < 0
    assert b.largest_cost in IMPERFECTIONS
    d = b.to_dict()
    json.dumps(d)
    assert d["largest_cost"] == b.largest_cost and len(d["rows"]) == len(BUDGET_ROWS)
    fig = plot_budget(b)
    assert len(fig.axes) == 2
