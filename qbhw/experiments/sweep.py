"""Sweeps: many experiments run through a ``concurrent.futures.Executor``, stored point by point, resumable.

Any executor with ``submit`` works: None runs the points in this process one after another, a
``ProcessPoolExecutor`` uses this machine's cores, and ``distributed.Client(...).get_executor()`` spreads them over
a Dask cluster. Each task is the module-level function ``run_point`` on a picklable ``Experiment``; it limits the
BLAS/OpenMP threads of its process (``qbhw._threads``) and returns a ``PointRecord``.

Resuming: with a ``PointStore``, each finished point is written atomically to ``points/point_NNNN.json`` under
the output folder together with its fingerprint; a rerun loads the points whose fingerprint matches and runs only
the missing ones, so an interrupted sweep neither loses nor repeats points. The fingerprint covers the experiment
(model, parameters, device name, shots, seed and spawn key, analysis) and the environment that computes it (the
qiskit, qiskit-aer and qbhw versions and the calibration's content hash): a point stored by another environment or
with an edited calibration is recomputed, never mixed in; a point of a different experiment is an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qbhw._files import write_atomic
from qbhw._json import jsonable, to_json
from qbhw._threads import limit_threads
from qbhw.errors import ParameterError, QbhwError
from qbhw.experiments.native import run_native, uses_native
from qbhw.experiments.pipeline import Experiment, Progress, run_experiment
from qbhw.experiments.pulse_noise import run_pulse_noise, uses_pulse_noise
from qbhw.experiments.records import PointRecord
from qbhw.hardware import calibration_hash

#: most points of one sweep: one file per point, and at the ~2 s a small point takes at least, 1000 points are
#: already half an hour (the job's summed shots and bootstrap work are bounded too, ``job.check_job``)
MAX_POINTS = 1000


def parse_range(text: str, parameter: str, *, integer: bool) -> tuple[float, ...] | tuple[int, ...]:
    """ "start:stop:step" -> start, start + step, ... up to and including stop (within 1e-9 of a step);
    a single number -> that number. Errors name the flag's parameter."""
    kind = "integer" if integer else "number"
    parts = str(text).split(":")
    if len(parts) not in (1, 3):
        raise ParameterError(parameter, f"a {kind} or a range start:stop:step", text)
    try:
        nums = [int(p) if integer else float(p) for p in parts]
    except ValueError:
        raise ParameterError(parameter, f"a {kind} or a range start:stop:step of {kind}s", text) from None
    if any(not math.isfinite(v) for v in nums):
        raise ParameterError(parameter, "finite", text)
    if len(nums) == 1:
        return (nums[0],)
    start, stop, step = nums
    if step <= 0:
        raise ParameterError(parameter, "a range start:stop:step with step > 0", text)
    if stop < start:
        raise ParameterError(parameter, "a non-empty range start:stop:step (start <= stop)", text)
    span = (stop - start) / step
    if not math.isfinite(span) or span + 1 > MAX_POINTS:
        raise ParameterError(parameter, f"a range of at most {MAX_POINTS} points", text)
    count = int(math.floor(span + 1e-9)) + 1
    if count > MAX_POINTS:
        raise ParameterError(parameter, f"a range of at most {MAX_POINTS} points", text)
    if integer:
        return tuple(int(start + k * step) for k in range(count))
    return tuple(float(start + k * step) for k in range(count))


def run_point(experiment: Experiment, progress: Progress | None = None) -> PointRecord:
    """Run one experiment with this process's BLAS/OpenMP threads limited; its PointRecord (picklable).
    ``progress``: the stage callback of ``run_experiment``."""
    with limit_threads():
        if uses_native(experiment):  # the micromaser on a device with a storage resonator: no circuit
            return run_native(experiment, progress)
        if uses_pulse_noise(experiment):  # the encoded micromaser with pulse-level collision channels
            return run_pulse_noise(experiment, progress)
        return run_experiment(experiment, progress=progress).record()


def environment() -> dict[str, str]:
    """The versions of the software that computes a point: qiskit, qiskit-aer, qbhw."""
    import qiskit
    import qiskit_aer

    from qbhw import __version__

    return {"qiskit": str(qiskit.__version__), "qiskit_aer": str(qiskit_aer.__version__), "qbhw": str(__version__)}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(jsonable(value), sort_keys=True).encode()).hexdigest()


def experiment_fingerprint(experiment: Experiment) -> str:
    """SHA-256 of the experiment's inputs: model, parameters, time, options, device name, shots, seed and spawn key,
    analysis settings (not the calibration's content nor the software: see ``fingerprint``)."""

    def plain(value: Any) -> Any:
        return None if value is None else dataclasses.asdict(value)

    spec = {f.name: getattr(experiment, f.name) for f in dataclasses.fields(experiment)}
    spec.update(
        params=plain(experiment.params),
        time=plain(experiment.time),
        options=plain(experiment.options),
        device=experiment.device.name,
    )
    return _digest(spec)


def fingerprint(experiment: Experiment) -> str:
    """SHA-256 of everything that determines the point: the experiment (``experiment_fingerprint``), the
    calibration's content hash and the software versions (``environment``)."""
    return _digest(
        {
            "experiment": experiment_fingerprint(experiment),
            "calibration": calibration_hash(experiment.device),
            "environment": environment(),
        }
    )


@dataclass(frozen=True)
class PointStore:
    """Folder of finished points of a sweep (module docstring)."""

    directory: Path

    def path(self, index: int) -> Path:
        return Path(self.directory) / "points" / f"point_{index:04d}.json"

    def load(self, index: int, experiment: Experiment) -> PointRecord | None:
        """The stored point ``index`` of ``experiment``; None when there is none, or when it was computed by
        another environment or calibration (module docstring: it is then recomputed). QbhwError naming the file
        when it is unreadable or belongs to another experiment."""
        p = self.path(index)
        if not p.exists():
            return None
        try:
            stored = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise QbhwError(f"{p} is not a readable point file ({exc}); delete it to rerun that point") from None
        if not isinstance(stored, dict) or stored.get("experiment") != experiment_fingerprint(experiment):
            raise QbhwError(
                f"{p} belongs to a different experiment (other parameters, device, shots or seed); use another "
                "--out folder or delete the folder's points/ to start over"
            )
        if stored.get("fingerprint") != fingerprint(experiment):
            return None  # another qiskit/qiskit-aer/qbhw or an edited calibration: recompute, never mix
        try:
            return PointRecord.from_dict(stored["point"])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise QbhwError(f"{p} is not a readable point file ({exc!r}); delete it to rerun that point") from None

    def save(self, index: int, experiment: Experiment, record: PointRecord) -> None:
        """Write the point atomically; an OS failure (a full disk, ...) is a QbhwError naming the file."""
        point = record.to_dict(counts=True)
        text = to_json(
            {
                "fingerprint": fingerprint(experiment),
                "experiment": experiment_fingerprint(experiment),
                "environment": environment(),
                "point": point,
            }
        )
        try:
            write_atomic(self.path(index), text + "\n")
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise QbhwError(
                f"cannot write {self.path(index)} ({reason}); free space there or choose another --out"
            ) from None


def run_points(
    experiments: Sequence[Experiment],
    *,
    executor: Executor | None = None,
    store: PointStore | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    stages: Callable[[int], Progress | None] | None = None,
) -> list[PointRecord]:
    """Run (or load from ``store``) every experiment; returns their records in input order.

    ``progress(done, total, index)`` is called after each point (loaded points count as done at the start, with
    index -1). ``stages(index)``: the stage callback of point ``index`` (``run_experiment``'s ``progress``), for
    points run in this process (an executor's workers report no stages).
    """
    total = len(experiments)
    points: list[PointRecord | None] = [None] * total
    if store is not None:
        for i, exp in enumerate(experiments):
            points[i] = store.load(i, exp)
    todo = [i for i in range(total) if points[i] is None]
    done = total - len(todo)
    if progress is not None and done:
        progress(done, total, -1)

    def finish(i: int, point: PointRecord) -> None:
        nonlocal done
        points[i] = point
        if store is not None:
            store.save(i, experiments[i], point)
        done += 1
        if progress is not None:
            progress(done, total, i)

    if executor is None:
        for i in todo:
            finish(i, run_point(experiments[i]) if stages is None else run_point(experiments[i], stages(i)))
    else:
        futures: dict[Future[Any], int] = {executor.submit(run_point, experiments[i]): i for i in todo}
        try:
            for fut in as_completed(futures):
                finish(futures[fut], fut.result())
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return [p for p in points if p is not None]
