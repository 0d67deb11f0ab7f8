"""Pulse level: the micromaser battery on a cavity-QED device, and collective dissipation of N transmons through a
common resonator (docs/physics.md section 6).

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

For ``qbhw pulse collective``: ``collective_params_from_device(device, n)`` (the ideal model a device maps to),
``run_collective(n, device, ...)`` (steady state, or the state at ``time_us``), ``sweep_kappa`` +
``plot_kappa_sweep`` for ``--kappa-mhz a:b:s``, ``evolve_collective`` for trajectories.
"""

from qbhw.pulse.budget import BUDGET_ROWS, BudgetRow, PulseBudget, budget, plot_budget
from qbhw.pulse.collective import (
    COLLECTIVE_IMPERFECTIONS,
    CollectiveDevice,
    CollectiveFigures,
    PulseCollectiveFigures,
    PulseCollectiveResult,
    PulseCollectiveSweep,
    PulseCollectiveTrajectory,
    collective_device,
    collective_imperfections,
    collective_model,
    collective_params_from_device,
    evolve_collective,
    plot_kappa_sweep,
    run_collective,
    sweep_kappa,
    synthetic_collective_device,
)
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
    "COLLECTIVE_IMPERFECTIONS",
    "ENGINES",
    "ENVELOPES",
    "FRAMES",
    "IMPERFECTIONS",
    "PREPARATIONS",
    "BudgetRow",
    "CavityFigures",
    "CavityQEDDevice",
    "CollectiveDevice",
    "CollectiveFigures",
    "Collision",
    "CollisionChannel",
    "Drag",
    "FlatTop",
    "Gaussian",
    "Imperfections",
    "Jump",
    "Operator",
    "PulseBudget",
    "PulseCollectiveFigures",
    "PulseCollectiveResult",
    "PulseCollectiveSweep",
    "PulseCollectiveTrajectory",
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
    "collective_device",
    "collective_imperfections",
    "collective_model",
    "collective_params_from_device",
    "collision_channel",
    "dynamics_available",
    "envelope",
    "evolve_collective",
    "exact_supported",
    "from_calibration",
    "ideal_channel",
    "parse_imperfections",
    "plot_budget",
    "plot_kappa_sweep",
    "plot_sweep",
    "propagate",
    "run_collective",
    "run_micromaser",
    "sample",
    "sweep_kappa",
    "sweep_micromaser",
    "synthetic_collective_device",
    "synthetic_micromaser_device",
]
