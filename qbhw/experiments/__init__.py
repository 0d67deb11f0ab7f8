"""Experiments: a model + its circuit + a device + measurement + shots + seed, run on Aer (the only code that
touches a backend), compared as ideal / noisy-predicted / measured; sweeps through any concurrent.futures executor.
"""

from qbhw.experiments.compile import Compiled, compile_for_device
from qbhw.experiments.run import (
    DEFAULT_BOOTSTRAP,
    MODELS,
    SHOTS_PER_SETTING,
    Experiment,
    ExperimentResult,
    Figures,
    build_circuit,
    figures,
    run_experiment,
)
from qbhw.experiments.sweep import PointStore, fingerprint, parse_range, run_point, run_points

__all__ = [
    "DEFAULT_BOOTSTRAP",
    "MODELS",
    "SHOTS_PER_SETTING",
    "Compiled",
    "Experiment",
    "ExperimentResult",
    "Figures",
    "PointStore",
    "build_circuit",
    "compile_for_device",
    "figures",
    "fingerprint",
    "parse_range",
    "run_experiment",
    "run_point",
    "run_points",
]
