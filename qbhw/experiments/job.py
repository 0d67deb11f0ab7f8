"""A job: one model on one device, at one point or swept over one quantity — ``qbhw run`` without its parser.

``run_job`` builds one ``Experiment`` per value of the model's sweep field (``catalog.ModelSpec.sweep_field``:
``time``, or ``collisions`` for the micromaser), checks every size of the job before any work (``check_job``),
runs them through ``sweep.run_points`` (in this process, in ``workers`` processes, on a Dask cluster given by its
scheduler address, or through any executor), and returns a ``JobResult`` of typed records. Seeds: point k of n
draws its randomness from ``numpy.random.SeedSequence(seed).spawn(n)[k]``, i.e. the job seed with spawn key (k,)
(independent streams for every point and every seed; ``seed + k`` would make the sweeps of seeds 0 and 1 share
all but one point). Writing result files and rendering tables is ``qbhw.report``'s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from qbhw import _validate
from qbhw.errors import MissingDependencyError, ParameterError
from qbhw.experiments.catalog import ModelSpec, model_spec
from qbhw.experiments.native import check_native_sizes, uses_native
from qbhw.experiments.pipeline import (
    DEFAULT_BOOTSTRAP,
    SHOTS_PER_SETTING,
    Experiment,
    Progress,
    check_sizes,
)
from qbhw.experiments.pulse_noise import check_pulse_noise, uses_pulse_noise
from qbhw.experiments.records import PointRecord
from qbhw.experiments.sweep import MAX_POINTS, PointStore, run_points
from qbhw.hardware import DeviceCalibration

# Size limits of a whole job (README "Limits"; measured on 2 cores, 24 GiB), besides each point's own:
#: shots summed over the points: ~1 us each to sample, so 1e9 are ~20 min of sampling
MAX_JOB_SHOTS = 1_000_000_000
#: bootstrap samples x settings summed over the points: ~50 us each, so 2e7 are ~20 min of refits
MAX_JOB_BOOTSTRAP_SETTINGS = 20_000_000
#: worker processes: each holds ~350 MiB (qiskit, Aer, the noise model) plus ~120 bytes per shot of its largest
#: setting; the workers of a job may use at most WORKER_MEMORY_BYTES together
MAX_WORKERS = 32
WORKER_MEMORY_BYTES = 16 * 2**30
#: resident memory of an idle worker and per shot of a setting being sampled (measured: 228 MiB after a charger
#: point, 1.4 GB with 1e7 shots in one setting)
_WORKER_BASE_BYTES = 350 * 2**20
_BYTES_PER_SHOT = 120


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
    sweep_field: str | None = None,
    **settings: Any,
) -> list[Experiment]:
    """One Experiment per sweep value (``sweep`` None: one at ``params``/``time`` as given) of ``sweep_field`` (one
    of ``ModelSpec.swept_fields``; default the model's ``sweep_field``); point k of n has the job seed and spawn key
    (k,) (module docstring). ``settings``: the other Experiment fields (shots, ...)."""
    spec = model_spec(model)
    field = _sweep_field(spec, sweep_field)
    if time is None and spec.time is not None:
        time = spec.time()
    seed = _validate.integer_at_least("seed", seed, 0)
    values = [None] if sweep is None else list(sweep)
    if len(values) > MAX_POINTS:
        raise ParameterError(field, f"a range of at most {MAX_POINTS} points", len(values))
    children = np.random.SeedSequence(seed).spawn(len(values))
    out = []
    for value, child in zip(values, children, strict=True):
        p, t = (params, time) if value is None else spec.with_value(params, time, value, field)
        out.append(
            Experiment(model, p, device, time=t, options=options, seed=seed, spawn_key=child.spawn_key, **settings)
        )
    return out


def _sweep_field(spec: ModelSpec, name: str | None) -> str:
    if name is None:
        return spec.sweep_field
    if name not in spec.swept_fields:
        raise ValueError(f"{spec.name} cannot sweep {name!r} (one of {', '.join(spec.swept_fields)})")
    return name


def check_job(experiments: Sequence[Experiment], workers: int = 1) -> None:
    """Refuse a job whose sizes exceed the limits (module constants, and each point's ``check_sizes``) before any
    work; ParameterErrors name the flag to change."""
    workers = _validate.integer_at_least("workers", workers, 1)
    if workers > MAX_WORKERS:
        raise ParameterError("workers", f"an integer <= {MAX_WORKERS} (processes; README, Limits)", workers)
    total_shots = total_boot = largest = 0
    for exp in experiments:
        # the native cavity-QED micromaser has a displacement grid, not Pauli settings (qbhw.experiments.native)
        settings = check_native_sizes(exp) if uses_native(exp) else check_sizes(exp)[1]
        if uses_pulse_noise(exp):  # the device and run must host pulse-informed collisions (--noise pulse)
            check_pulse_noise(exp)
        elif not uses_native(exp) and getattr(exp.options, "imperfections", None) is not None:
            raise ParameterError(
                "imperfections",
                "omitted unless --noise pulse or on a device with a storage resonator (the native run): the "
                "device's gate noise has no pulse-level imperfections",
                exp.options.imperfections,
            )
        if exp.shots == 0:
            continue
        circuits = 2 if exp.spec.runs_cycle(exp.time) else 1  # a limit cycle measures two circuits
        shots = SHOTS_PER_SETTING * settings if exp.shots is None else exp.shots
        total_shots += circuits * shots
        total_boot += circuits * exp.bootstrap * settings
        largest = max(largest, -(-shots // settings))
    points = len(experiments)
    if total_shots > MAX_JOB_SHOTS:
        raise ParameterError(
            "shots",
            f"at most {MAX_JOB_SHOTS:.3g} summed over the {points} points (~1 us each to sample; README, Limits)",
            total_shots // max(points, 1),
        )
    if total_boot > MAX_JOB_BOOTSTRAP_SETTINGS:
        raise ParameterError(
            "bootstrap",
            f"such that bootstrap x settings summed over the {points} points is <= {MAX_JOB_BOOTSTRAP_SETTINGS:.3g} "
            "(~50 us each; README, Limits)",
            experiments[0].bootstrap,
        )
    used = min(workers, points)
    need = used * (_WORKER_BASE_BYTES + _BYTES_PER_SHOT * largest)
    if used > 1 and need > WORKER_MEMORY_BYTES:
        fit = max(1, WORKER_MEMORY_BYTES // (_WORKER_BASE_BYTES + _BYTES_PER_SHOT * largest))
        raise ParameterError(
            "workers",
            f"an integer <= {fit} for {largest} shots per setting (each worker needs ~"
            f"{(_WORKER_BASE_BYTES + _BYTES_PER_SHOT * largest) / 2**30:.2g} GiB; together at most "
            f"{WORKER_MEMORY_BYTES / 2**30:.0f} GiB; README, Limits)",
            workers,
        )


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
    scheduler: str | None = None,
    store: PointStore | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    stages: Callable[[int], Progress | None] | None = None,
    layouts: int = 1,
    sweep_field: str | None = None,
) -> JobResult:
    """Run ``model`` at ``params`` (and ``time``, ``options``) on ``device``, at every value of ``sweep`` for the
    model's sweep field, or once (module docstring). ``workers`` > 1 runs the points in that many processes (when
    no ``executor`` is given); ``scheduler`` the address of a running Dask scheduler (``distributed`` extra) runs
    them on its cluster; ``store`` resumes from and saves to a point store; ``progress(done, total, index)`` is
    called after each point; ``stages(index)`` gives the stage callback of a point run in this process;
    ``layouts``: the spread of the noisy prediction over that many qubit sets (``Experiment.layouts``);
    ``sweep_field``: the field ``sweep`` sets (one of ``ModelSpec.swept_fields``; default the model's
    ``sweep_field``)."""
    workers = _validate.integer_at_least("workers", workers, 1)
    spec = model_spec(model)
    field = _sweep_field(spec, sweep_field)
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
        layouts=layouts,
        sweep_field=field,
    )
    check_job(exps, workers)
    if scheduler is not None and executor is None:
        with _dask_executor(scheduler) as dask:
            records = run_points(exps, executor=dask, store=store, progress=progress)
    elif executor is None and workers > 1 and len(exps) > 1:
        with _process_pool(min(workers, len(exps))) as pool:
            records = run_points(exps, executor=pool, store=store, progress=progress)
    else:
        records = run_points(exps, executor=executor, store=store, progress=progress, stages=stages)
    values = (None,) if sweep is None else tuple(sweep)
    return JobResult(model, field, values, tuple(records), int(seed))


def _ignore_interrupts() -> None:  # pragma: no cover - runs in the worker processes
    """Worker initializer: Ctrl-C reaches the whole process group; only the parent handles it (it stops the pool),
    so that no worker prints a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _process_pool(workers: int) -> Iterator[Executor]:
    """A ProcessPoolExecutor of spawned workers that ignore SIGINT; on an interrupt or error of the parent the
    workers are terminated at once instead of finishing their points."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_ignore_interrupts)
    try:
        yield pool
    except BaseException:
        processes = list(getattr(pool, "_processes", {}).values())  # no public way to stop running workers (3.11)
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.join(timeout=5)
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def _dask_executor(address: str) -> Iterator[Executor]:
    """An executor on the Dask cluster whose scheduler listens at ``address`` (``distributed`` extra)."""
    try:
        from distributed import Client
    except ImportError:
        raise MissingDependencyError(
            "--scheduler needs the Dask distributed client: pip install 'qbhw[distributed]'"
        ) from None
    try:
        client = Client(address, timeout=_DASK_CONNECT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ParameterError(
            "scheduler",
            f"the address of a running Dask scheduler, e.g. tcp://host:8786 (connecting failed: {exc})",
            address,
        ) from None
    try:
        yield client.get_executor()
    finally:
        client.close()


#: seconds to wait for a Dask scheduler to answer
_DASK_CONNECT_S = 10
