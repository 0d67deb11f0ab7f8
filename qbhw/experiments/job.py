"""A job: one model on one device, at one point or swept over one quantity — ``qbhw run`` without its parser.

``run_job`` builds one ``Experiment`` per value of the model's sweep field (``catalog.ModelSpec.sweep_field``:
``time``, or ``collisions`` for the micromaser), runs them through ``sweep.run_points`` (in this process, in
``workers`` processes, or through any executor), and returns a ``JobResult`` of typed records. Point k gets the
seed ``seed + k``. Writing result files and rendering tables is ``qbhw.report``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from qbhw import _validate
from qbhw.experiments.catalog import ModelSpec, model_spec
from qbhw.experiments.pipeline import DEFAULT_BOOTSTRAP, Experiment
from qbhw.experiments.records import PointRecord
from qbhw.experiments.sweep import PointStore, run_points
from qbhw.hardware import DeviceCalibration


@dataclass(frozen=True)
class JobResult:
    """The records of a job, in the order of ``values`` (the sweep field's values; ``(None,)`` for one point at
    the inputs as given), with the job's seed."""

    model: str
    sweep_field: str
    values: tuple[Any, ...]
    records: tuple[PointRecord, ...]
    seed: int

    @property
    def spec(self) -> ModelSpec:
        return model_spec(self.model)

    @property
    def is_sweep(self) -> bool:
        return len(self.records) > 1

    def xs(self) -> tuple[float, ...]:
        """The sweep field's value of each point (0 where it is unset, e.g. the thermal-gradient NESS)."""
        out = []
        for r in self.records:
            v = r.value(self.sweep_field)
            out.append(0.0 if v is None else float(v))
        return tuple(out)


def experiments_for(
    model: str,
    params: Any,
    *,
    device: DeviceCalibration,
    time: Any = None,
    options: Any = None,
    sweep: Sequence[Any] | None = None,
    seed: int = 0,
    **settings: Any,
) -> list[Experiment]:
    """One Experiment per sweep value (``sweep`` None: one at ``params``/``time`` as given); point k has seed
    ``seed + k``. ``settings``: the other Experiment fields (shots, bootstrap, estimator, ...)."""
    spec = model_spec(model)
    if time is None and spec.time is not None:
        time = spec.time()
    seed = _validate.integer_at_least("seed", seed, 0)
    out = []
    for k, value in enumerate([None] if sweep is None else list(sweep)):
        p, t = (params, time) if value is None else spec.with_value(params, time, value)
        out.append(Experiment(model, p, device, time=t, options=options, seed=seed + k, **settings))
    return out


def run_job(
    model: str,
    params: Any,
    *,
    device: DeviceCalibration,
    time: Any = None,
    options: Any = None,
    sweep: Sequence[Any] | None = None,
    shots: int | None = None,
    seed: int = 0,
    mitigate_readout: bool = True,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    estimator: str = "auto",
    measurement: str = "state",
    workers: int = 1,
    executor: Executor | None = None,
    store: PointStore | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> JobResult:
    """Run ``model`` at ``params`` (and ``time``, ``options``) on ``device``, at every value of ``sweep`` for the
    model's sweep field, or once (module docstring). ``workers`` > 1 runs the points in that many processes (when
    no ``executor`` is given); ``store`` resumes from and saves to a point store; ``progress(done, total, index)``
    is called after each point."""
    workers = _validate.integer_at_least("workers", workers, 1)
    spec = model_spec(model)
    exps = experiments_for(
        model,
        params,
        device=device,
        time=time,
        options=options,
        sweep=sweep,
        seed=seed,
        shots=shots,
        mitigate_readout=mitigate_readout,
        bootstrap=bootstrap,
        estimator=estimator,
        measurement=measurement,
    )
    if executor is None and workers > 1 and len(exps) > 1:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            records = run_points(exps, executor=pool, store=store, progress=progress)
    else:
        records = run_points(exps, executor=executor, store=store, progress=progress)
    values = (None,) if sweep is None else tuple(sweep)
    return JobResult(model, spec.sweep_field, values, tuple(records), int(seed))
