"""Tomography: sampling the settings from a known noisy register state, and the whole estimate with its intervals.

1. Sampling (the measure stage of `qbhw run`): Aer running the measurement circuits, started from the register's
   density matrix (SetDensityMatrix) under the device's noise model, all settings in ONE batched run (the fastest
   way to use Aer), against qbhw's exact sampler (MeasurementNoise.from_calibration + sample_counts), which is
   equal in distribution (tests/test_tomography_sampling.py). 3 and 6 qubits, 8192 shots per setting.
2. The whole estimate (estimate_battery: linear fit, split bounds, 200 bootstrap replicates, every figure and
   interval) for 2..6 qubits; and, if qiskit-experiments is installed, its StateTomography fitter
   (linear_inversion + make_positive) on the same counts, once and over the same 200 resamples.

Run: .venv/bin/python benchmarks/bench_tomography.py   (about 1-2 minutes; min / median of 3 runs)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import print_table

from qbhw._threads import limit_threads, thread_report
from qbhw.hardware import default_device, noise_model, restrict
from qbhw.tomography import (
    MeasurementNoise,
    ReadoutModel,
    estimate_battery,
    measurement_circuits,
    pauli_settings,
    sample_counts,
)

SHOTS = 8192
BOOTSTRAP = 200
REPEAT = 3
QUBITS = (10, 11, 12, 13, 14, 15)  # a chain-free choice: the sampler needs no coupling


def timed(fn, repeat: int = REPEAT) -> tuple[float, float, object]:
    """(min, median) wall time over ``repeat`` calls, and the last return value."""
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def random_state(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(2**n, 2**n)) + 1j * rng.normal(size=(2**n, 2**n))
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    psi /= np.linalg.norm(psi)
    mixed = g @ g.conj().T
    return 0.8 * np.outer(psi, psi.conj()) + 0.2 * mixed / np.trace(mixed).real


def sampling_rows() -> list[list[object]]:
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator
    from qiskit_aer.library import SetDensityMatrix

    rows = []
    for n in (3, 6):
        cal = restrict(default_device(), QUBITS[:n])
        register = list(range(n))[::-1]  # physics position 0 = the most significant Qiskit qubit
        rho = random_state(n, n)
        settings = pauli_settings(n)
        init = QuantumCircuit(n)
        init.append(SetDensityMatrix(rho), list(range(n)))
        circuits = measurement_circuits(init, register, settings, basis_gates=cal.basis_gates)
        sim = AerSimulator(method="density_matrix", noise_model=noise_model(cal), max_parallel_threads=1)

        def aer(sim=sim, circuits=circuits):
            return sim.run(circuits, shots=SHOTS, seed_simulator=1).result()

        def qbhw(cal=cal, register=register, rho=rho, settings=settings):
            noise = MeasurementNoise.from_calibration(cal, register)
            return sample_counts(rho, settings, SHOTS, seed=1, noise=noise)

        a_min, a_med, _ = timed(aer)
        q_min, q_med, _ = timed(qbhw)
        rows.append([f"{n} qubits, {len(settings)} settings x {SHOTS}", a_min, a_med, q_min, q_med, a_min / q_min])
    return rows


def estimate_rows() -> list[list[object]]:
    rows = []
    cal = default_device()
    for n in range(2, 7):
        rho = random_state(n, 10 + n)
        h = np.diag(np.arange(2.0**n))
        readout = ReadoutModel.from_calibration(cal, QUBITS[:n])
        data = sample_counts(rho, pauli_settings(n), SHOTS, seed=2, readout=readout)

        def run(data=data, h=h, readout=readout, rho=rho):
            return estimate_battery(data, h, target=rho, readout=readout, bootstrap=BOOTSTRAP, seed=3)

        t_min, t_med, _ = timed(run)
        rows.append([n, 3**n, t_min, t_med])
    return rows


def qiskit_experiments_rows() -> list[list[object]] | None:
    try:
        from qiskit_experiments.library.tomography.basis import PauliMeasurementBasis
        from qiskit_experiments.library.tomography.fitters import linear_inversion, postprocess_fitter
    except ImportError:
        return None
    index = {"Z": 0, "X": 1, "Y": 2}
    n = 4
    rho = random_state(n, 14)
    settings = pauli_settings(n)
    data = sample_counts(rho, settings, SHOTS, seed=2)
    perm = np.array([int(format(m, f"0{n}b")[::-1], 2) for m in range(2**n)])  # physics index -> Qiskit int
    meas = np.array([[index[c] for c in s] for s in settings])

    def qe_fit(counts: np.ndarray) -> np.ndarray:
        outcome = np.zeros((1, len(settings), 2**n), dtype=int)
        outcome[0][:, perm] = counts
        fits, meta = linear_inversion(
            outcome, counts.sum(axis=1), meas, np.zeros((len(settings), 0), dtype=int),
            measurement_basis=PauliMeasurementBasis(),
        )  # fmt: skip
        return np.asarray(postprocess_fitter(fits, meta, make_positive=True)[0][0])

    rng = np.random.default_rng(1)
    counts = np.asarray(data.array)
    shots = counts.sum(axis=1)
    resampled = rng.multinomial(shots, counts / shots[:, None], size=(BOOTSTRAP, len(settings)))
    h = np.diag(np.arange(2.0**n))
    q_min, q_med, _ = timed(lambda: estimate_battery(data, h, bootstrap=BOOTSTRAP, seed=1))
    e_min, e_med, _ = timed(lambda: [qe_fit(c) for c in resampled], repeat=1)
    return [[f"{n} qubits: fit + {BOOTSTRAP} refits", q_min, q_med, e_min, e_med, e_min / q_min]]


def main() -> None:
    import qiskit
    import qiskit_aer

    with limit_threads():
        print(f"numpy {np.__version__}, qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}")
        print(f"threads: {thread_report()}\n")
        print_table(
            "1. sampling the settings from a known register state (s)",
            ["case", "Aer min", "Aer median", "qbhw min", "qbhw median", "Aer / qbhw"],
            sampling_rows(),
        )
        print_table(
            f"2. estimate_battery, every figure and interval, {BOOTSTRAP} bootstrap replicates (s)",
            ["qubits", "settings", "min", "median"],
            estimate_rows(),
        )
        rows = qiskit_experiments_rows()
        if rows is None:
            print("3. qiskit-experiments is not installed (pip install qiskit-experiments): comparison skipped")
        else:
            print_table(
                "3. against qiskit-experiments' StateTomography fitter (s)",
                ["task", "qbhw min", "qbhw median", "QE min", "QE median", "QE / qbhw"],
                rows,
            )


if __name__ == "__main__":
    main()
