"""Studies of the collective-dissipation battery built on ``qbhw.models.collective``: steady-state sweeps over N
and T, and the collective-bath temperature that maximises the steady-state ergotropy (docs/physics.md 3.3)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize_scalar

from qbhw import _validate
from qbhw._arrays import readonly as _readonly
from qbhw.errors import ParameterError
from qbhw.models.collective import MAX_TEMPERATURE, CollectiveParams, steady_state

#: largest number of steady states in one sweep (len(ns) x len(temperatures)); each costs up to ~0.3 s at N = 400
MAX_SWEEP_POINTS = 10_000
#: largest temperature grid of optimal_temperature
MAX_GRID = 10_000


@dataclass(frozen=True, eq=False)
class SteadyStateSweep:
    """Steady states from |g...g> on the grid ns x temperatures (other parameters from ``params``); the figure
    arrays have shape (len(ns), len(temperatures))."""

    params: CollectiveParams
    ns: np.ndarray
    temperatures: np.ndarray
    energy: np.ndarray
    ergotropy: np.ndarray
    capacity: np.ndarray
    purity: np.ndarray


def sweep(
    params: CollectiveParams,
    *,
    ns: Sequence[int] | None = None,
    temperatures: Sequence[float] | None = None,
) -> SteadyStateSweep:
    """Steady-state figures of merit over N and/or T (each defaults to the value in ``params``); every point is
    validated (CollectiveParams) before the first solve."""
    ns_list = [params.n] if ns is None else list(np.asarray(ns).reshape(-1))
    ts_list = [params.temperature] if temperatures is None else list(np.asarray(temperatures).reshape(-1))
    if not ns_list:
        raise ParameterError("ns", "at least one N", ns)
    if not ts_list:
        raise ParameterError("temperatures", "at least one temperature", temperatures)
    if len(ns_list) * len(ts_list) > MAX_SWEEP_POINTS:
        raise ParameterError("ns", f"at most {MAX_SWEEP_POINTS} points in all", len(ns_list) * len(ts_list))
    grid = [[replace(params, n=n, temperature=t) for t in ts_list] for n in ns_list]
    shape = (len(ns_list), len(ts_list))
    e, w, c, pur = (np.zeros(shape) for _ in range(4))
    for i, row in enumerate(grid):
        for k, point in enumerate(row):
            s = steady_state(point)
            e[i, k], w[i, k], c[i, k], pur[i, k] = s.energy, s.ergotropy, s.capacity, s.purity
    ns_arr = np.array([row[0].n for row in grid], dtype=int)
    ts_arr = np.array([p.temperature for p in grid[0]], dtype=float)
    return SteadyStateSweep(
        params, _readonly(ns_arr), _readonly(ts_arr), _readonly(e), _readonly(w), _readonly(c), _readonly(pur)
    )


@dataclass(frozen=True)
class TemperatureOptimum:
    """The collective-bath temperature that maximises the steady-state ergotropy from |g...g>.

    ``interior`` is False when the maximum over the scanned bracket is at one of its ends (e.g. pure collective
    dissipation, whose W_ss grows with T up to N(N-1)/(2(N+1))): then ``temperature`` is that end.
    """

    params: CollectiveParams  # at the optimum
    temperature: float
    ergotropy: float
    energy: float
    capacity: float
    interior: bool


def optimal_temperature(
    params: CollectiveParams,
    *,
    t_min: float = 0.05,
    t_max: float = 100.0,
    grid: int = 41,
    xatol: float = 1e-7,
) -> TemperatureOptimum:
    """Maximise W_ss over T in [t_min, t_max]: a log-spaced scan brackets the maximum between the grid
    neighbours of the best point, then a bounded Brent search in log T refines it (W_ss is smooth in T)."""
    t_min = _validate.positive("t_min", t_min)
    t_max = _validate.positive("t_max", t_max)
    if t_max <= t_min:
        raise ParameterError("t_max", f"> t_min = {t_min}", t_max)
    if t_max > MAX_TEMPERATURE:
        raise ParameterError("t_max", f"<= {MAX_TEMPERATURE:g}", t_max)
    grid = _validate.integer_at_least("grid", grid, 3)
    if grid > MAX_GRID:
        raise ParameterError("grid", f"an integer <= {MAX_GRID}", grid)
    xatol = _validate.positive("xatol", xatol)

    def w_of(log_t: float) -> float:
        return steady_state(replace(params, temperature=math.exp(log_t))).ergotropy

    logs = np.linspace(math.log(t_min), math.log(t_max), grid)
    values = np.array([w_of(lt) for lt in logs])
    best = int(np.argmax(values))
    interior = 0 < best < grid - 1
    log_t = float(logs[best])
    if interior:
        res = minimize_scalar(
            lambda lt: -w_of(lt), bounds=(logs[best - 1], logs[best + 1]), method="bounded", options={"xatol": xatol}
        )
        if -res.fun >= values[best]:
            log_t = float(res.x)
    s = steady_state(replace(params, temperature=min(math.exp(log_t), t_max)))
    return TemperatureOptimum(s.params, s.params.temperature, s.ergotropy, s.energy, s.capacity, interior)
