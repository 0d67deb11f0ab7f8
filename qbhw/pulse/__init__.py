"""Pulse level: the micromaser battery on a cavity-QED device (docs/physics.md section 6).

Device parameters in laboratory units (``Transmon``, ``Resonator``, ``CavityQEDDevice``, ``from_calibration``),
pulses (envelopes, piecewise-constant ``Schedule``s), one model type (``PulseModel``) and three engines behind
``propagate``: qbhw's exact propagators, QuTiP 5 and qiskit-dynamics 0.6.0 (pulse environment only). The
micromaser protocol (``run_micromaser``, ``sweep_micromaser``) and its error budget (``budget``) build on them.
Units inside: ns and rad/ns.

For ``qbhw pulse micromaser``: ``check_engine(engine)`` (fails early, one line, when an engine is unknown or not
installed), ``parse_imperfections(text)`` for ``--imperfections``, then ``run_micromaser(params, device, engine=...,
levels=..., coupling_mhz=..., anharmonicity_mhz=..., imperfections=...)`` (``device``: a loaded calibration, a
``CavityQEDDevice`` or None for the synthetic pair), ``sweep_micromaser`` + ``plot_sweep`` for ``--collisions a:b:s``,
``budget`` + ``plot_budget`` for ``--budget``; every result has ``to_dict()``.
"""

from qbhw.pulse.budget import BUDGET_ROWS, BudgetRow, PulseBudget, budget, plot_budget
from qbhw.pulse.cqed import cavity_qed_model
from qbhw.pulse.device import (
    CavityQEDDevice,
    Resonator,
    Transmon,
    from_calibration,
    synthetic_micromaser_device,
)
from qbhw.pulse.envelopes import ENVELOPES, Drag, FlatTop, Gaussian, Square, envelope, sample
from qbhw.pulse.imperfections import IMPERFECTIONS, Imperfections, parse_imperfections
from qbhw.pulse.micromaser import (
    PREPARATIONS,
    CavityFigures,
    Collision,
    CollisionChannel,
    PulseMicromaserResult,
    PulseMicromaserSweep,
    PulseOptions,
    build_collision,
    calibrate_flat_top,
    collision_channel,
    ideal_channel,
    plot_sweep,
    run_micromaser,
    sweep_micromaser,
)
from qbhw.pulse.model import Jump, Operator, PulseModel, Schedule, Track
from qbhw.pulse.simulate import ENGINES, FRAMES, check_engine, dynamics_available, exact_supported, propagate

__all__ = [
    "BUDGET_ROWS",
    "ENGINES",
    "ENVELOPES",
    "FRAMES",
    "IMPERFECTIONS",
    "PREPARATIONS",
    "BudgetRow",
    "CavityFigures",
    "CavityQEDDevice",
    "Collision",
    "CollisionChannel",
    "Drag",
    "FlatTop",
    "Gaussian",
    "Imperfections",
    "Jump",
    "Operator",
    "PulseBudget",
    "PulseMicromaserResult",
    "PulseMicromaserSweep",
    "PulseModel",
    "PulseOptions",
    "Resonator",
    "Schedule",
    "Square",
    "Track",
    "Transmon",
    "budget",
    "build_collision",
    "calibrate_flat_top",
    "cavity_qed_model",
    "check_engine",
    "collision_channel",
    "dynamics_available",
    "envelope",
    "exact_supported",
    "from_calibration",
    "ideal_channel",
    "parse_imperfections",
    "plot_budget",
    "plot_sweep",
    "propagate",
    "run_micromaser",
    "sample",
    "sweep_micromaser",
    "synthetic_micromaser_device",
]
