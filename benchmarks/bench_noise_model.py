"""Noise models: qbhw's ``noise_model(cal, qubits)`` against Aer's ``NoiseModel.from_backend(backend)``.

Anchor: ``qiskit_aer.noise.NoiseModel.from_backend`` on the qiskit-ibm-runtime fake backend (it always builds errors
for every qubit and gate of the device). qbhw builds them only for the physical qubits a circuit uses, from the
built-in calibration snapshot (loaded beforehand; its load time is printed separately), and caches the model per
calibration content and set of qubits. Both produce thermal relaxation + depolarizing gate errors sized to the
same calibrated gate error, and readout errors. Columns:

* qbhw cold: a model not yet cached (each run uses a calibration of new content, so the content hash, the gate
  channels and the model are all computed);
* qbhw cached: the same call again (hash of an already hashed calibration, cache lookup, a copy of the model);
* ratio: from_backend / qbhw cold, of the minima and of the medians.

Also shows the Heron temperature trap: Heron fake backends report no qubit frequency, so
``from_backend(FakeTorino(), temperature=50)`` cannot use the temperature: with frequency None (runtime 0.51, Aer
0.18.2) it silently relaxes to p_e = 0, with a frequency of 0 it would give p_e = 1/2. qbhw relaxes to the calibrated
p_e (50 mK at the documented 4.8 GHz fallback).

Threads: BLAS/OpenMP pools pinned to one thread (qbhw._threads.limit_threads), as the command line runs.
Run: .venv/bin/python benchmarks/bench_noise_model.py [--quick]   (timings: min and median of >= 3 runs)
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import print_table

from qbhw._threads import limit_threads, thread_report
from qbhw.hardware import DeviceCalibration, load_calibration, noise_model, relaxation_error

RUNS = 3  # timed runs per cell (min and median reported)


def min_median(fn: Callable[[], Any], runs: int = RUNS) -> tuple[float, float]:
    """Minimum and median wall time (s) of ``runs`` calls of ``fn``."""
    times = []
    for _ in range(max(3, runs)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def _fixed_point_excited_population(superop: np.ndarray) -> float:
    """Excited population of the stationary state of a one-qubit channel (column-stacked superoperator)."""
    vals, vecs = np.linalg.eig(superop)
    v = vecs[:, int(np.argmin(np.abs(vals - 1.0)))]
    rho = v.reshape(2, 2, order="F")
    rho = rho / np.trace(rho)
    return float(rho[1, 1].real)


def _connected(edges: tuple[tuple[int, int], ...], k: int) -> list[int]:
    """k connected qubits, breadth first from the first edge (what a small circuit would use)."""
    out = [edges[0][0]]
    while len(out) < k:
        out.append(next(b if a in out else a for a, b in edges if (a in out) != (b in out)))
    return out


def _fresh(cal: DeviceCalibration) -> DeviceCalibration:
    """The same device with a new note: new content, so nothing of it is cached yet."""
    return dataclasses.replace(cal, notes=cal.notes + (f"benchmark run {uuid.uuid4()}",))


def _versions() -> str:
    import qiskit
    import qiskit_aer
    import qiskit_ibm_runtime

    import qbhw

    return (
        f"qbhw {qbhw.__version__}, qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, "
        f"qiskit-ibm-runtime {qiskit_ibm_runtime.__version__}, numpy {np.__version__}"
    )


def main(quick: bool = False) -> None:
    try:
        from qiskit_ibm_runtime.fake_provider import FakeBrisbane, FakeTorino
    except ImportError:
        print("bench_noise_model needs qiskit-ibm-runtime (pip install 'qbhw[ibm]')")
        return
    from qiskit.quantum_info import SuperOp
    from qiskit_aer.noise import NoiseModel

    print(_versions())
    for pool in thread_report():
        print(f"  thread pool: {pool['internal_api']} {pool['version']} -> {pool['num_threads']} thread(s)")
    print()

    rows = []
    cases = (("fake_torino", FakeTorino), ("fake_brisbane", FakeBrisbane))
    for name, backend_cls in cases[:1] if quick else cases:
        load = min_median(lambda name=name: load_calibration(name))
        cal = load_calibration(name)
        backend = backend_cls()
        anchor = min_median(lambda backend=backend: NoiseModel.from_backend(backend))
        subsets: list[list[int] | None] = [_connected(cal.coupling_map, 2), _connected(cal.coupling_map, 5)]
        if not quick:
            subsets.append(None)
        for qubits in subsets:
            cold = min_median(lambda qubits=qubits: noise_model(_fresh(cal), qubits))
            noise_model(cal, qubits)
            cached = min_median(lambda qubits=qubits: noise_model(cal, qubits))
            size = f"all {cal.num_qubits}" if qubits is None else len(qubits)
            rows.append(
                [
                    name,
                    size,
                    f"{load[0]:.4g} / {load[1]:.4g}",
                    f"{cold[0]:.4g} / {cold[1]:.4g}",
                    f"{cached[0]:.3g} / {cached[1]:.3g}",
                    f"{anchor[0]:.4g} / {anchor[1]:.4g}",
                    f"{anchor[0] / cold[0]:.3g} / {anchor[1] / cold[1]:.3g}",
                ]
            )
    print_table(
        f"noise model construction [s, min / median of {max(3, RUNS)} runs]: qbhw noise_model(cal, qubits) vs "
        "Aer NoiseModel.from_backend(backend)",
        ["device", "qubits", "qbhw load", "qbhw cold", "qbhw cached", "from_backend", "ratio"],
        rows,
    )

    # Heron temperature trap: relaxation-only errors, fixed point of the sx error on qubit 0
    nm = NoiseModel.from_backend(FakeTorino(), gate_error=False, readout_error=False, temperature=50)
    aer_pe = _fixed_point_excited_population(SuperOp(nm._local_quantum_errors["sx"][(0,)]).data)
    cal = load_calibration("fake_torino")
    ours = _fixed_point_excited_population(SuperOp(relaxation_error(cal, 0, cal.gate("sx", (0,)).duration_ns)).data)
    print_table(
        "Heron (FakeTorino) qubit 0, thermal relaxation at 50 mK: stationary excited population",
        ["from_backend(temperature=50 mK)", "qbhw (calibrated p_e)"],
        [[aer_pe, ours]],
    )


if __name__ == "__main__":
    with limit_threads():
        main(quick="--quick" in sys.argv)
