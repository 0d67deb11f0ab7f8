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

Two coupled transmons (``two_transmon``): ``TransmonPair`` / ``pair_from_calibration``, the charger's J1 and J2
from the device (``charger_coupling``, ``static_zz_perturbative``, ``dressed_energies``, ``fit_static_zz``) and its
pulse-level charging (``run_charger``, ``sweep_charger``, ``plot_charger``), the thermal-gradient battery with a
hot bath resonator (``HotBath``, ``thermal_gradient_params``, ``run_thermal_gradient``, ``sweep_thermal_gradient``,
``plot_thermal_gradient``), for ``qbhw pulse charger`` and ``qbhw pulse thermal-gradient``.

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
from qbhw.pulse.two_transmon import (
    BatteryFigures,
    ChargerCoupling,
    CycleFigures,
    HotBath,
    PulseChargerResult,
    PulseThermalGradientResult,
    TransmonPair,
    ZZFit,
    charger_coupling,
    dressed_energies,
    fit_static_zz,
    pair_from_calibration,
    parse_pair,
    plot_charger,
    plot_thermal_gradient,
    run_charger,
    run_thermal_gradient,
    static_zz_perturbative,
    sweep_charger,
    sweep_thermal_gradient,
    thermal_gradient_params,
)

__all__ = [
    "BUDGET_ROWS",
    "COLLECTIVE_IMPERFECTIONS",
    "ENGINES",
    "ENVELOPES",
    "FRAMES",
    "IMPERFECTIONS",
    "PREPARATIONS",
    "BatteryFigures",
    "BudgetRow",
    "CavityFigures",
    "CavityQEDDevice",
    "ChargerCoupling",
    "CollectiveDevice",
    "CollectiveFigures",
    "Collision",
    "CollisionChannel",
    "CycleFigures",
    "Drag",
    "FlatTop",
    "Gaussian",
    "HotBath",
    "Imperfections",
    "Jump",
    "Operator",
    "PulseBudget",
    "PulseChargerResult",
    "PulseCollectiveFigures",
    "PulseCollectiveResult",
    "PulseCollectiveSweep",
    "PulseCollectiveTrajectory",
    "PulseMicromaserResult",
    "PulseMicromaserSweep",
    "PulseModel",
    "PulseOptions",
    "PulseThermalGradientResult",
    "Resonator",
    "Schedule",
    "Square",
    "Track",
    "Transmon",
    "TransmonPair",
    "ZZFit",
    "budget",
    "build_collision",
    "calibrate_flat_top",
    "cavity_qed_model",
    "charger_coupling",
    "check_engine",
    "collective_device",
    "collective_imperfections",
    "collective_model",
    "collective_params_from_device",
    "collision_channel",
    "dressed_energies",
    "dynamics_available",
    "envelope",
    "evolve_collective",
    "exact_supported",
    "fit_static_zz",
    "from_calibration",
    "ideal_channel",
    "pair_from_calibration",
    "parse_imperfections",
    "parse_pair",
    "plot_budget",
    "plot_charger",
    "plot_kappa_sweep",
    "plot_sweep",
    "plot_thermal_gradient",
    "propagate",
    "run_charger",
    "run_collective",
    "run_micromaser",
    "run_thermal_gradient",
    "sample",
    "static_zz_perturbative",
    "sweep_charger",
    "sweep_kappa",
    "sweep_micromaser",
    "sweep_thermal_gradient",
    "synthetic_collective_device",
    "synthetic_micromaser_device",
    "thermal_gradient_params",
]
