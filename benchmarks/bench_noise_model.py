"""Noise models: qbhw's ``noise_model(cal, qubits)`` against Aer's ``NoiseModel.from_backend(backend)``.

Anchor: ``qiskit_aer.noise.NoiseModel.from_backend`` on the qiskit-ibm-runtime fake backend (it always builds errors
for every qubit and gate of the device). qbhw builds them only for the physical qubits a circuit uses, from the
committed calibration snapshot (loaded beforehand; its load time is printed separately). Both produce thermal
relaxation + depolarizing gate errors sized to the same calibrated gate error, and readout errors.
Also shows the Heron temperature trap: Heron fake backends report no qubit frequency, so
``from_backend(FakeTorino(), temperature=50)`` cannot use the temperature: with frequency None (runtime 0.51, Aer
0.18.2) it silently relaxes to p_e = 0, with a frequency of 0 it would give p_e = 1/2. qbhw relaxes to the calibrated
p_e (50 mK at the documented 4.8 GHz fallback).
Run: .venv/bin/python benchmarks/bench_noise_model.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of, print_table

from qbhw.hardware import load_calibration, noise_model, relaxation_error


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


def main(quick: bool = False) -> None:
    try:
        from qiskit_ibm_runtime.fake_provider import FakeBrisbane, FakeTorino
    except ImportError:
        print("bench_noise_model needs qiskit-ibm-runtime (pip install 'qbhw[ibm]')")
        return
    from qiskit.quantum_info import SuperOp
    from qiskit_aer.noise import NoiseModel

    rows = []
    cases = (("fake_torino", FakeTorino), ("fake_brisbane", FakeBrisbane))
    for name, backend_cls in cases[:1] if quick else cases:
        t_load, cal = best_of(lambda name=name: load_calibration(name), repeat=3)
        backend = backend_cls()
        t_anchor, _ = best_of(lambda backend=backend: NoiseModel.from_backend(backend), repeat=1 if quick else 2)
        for qubits in (_connected(cal.coupling_map, 2), _connected(cal.coupling_map, 5)):
            t_qbhw, _ = best_of(lambda qubits=qubits: noise_model(cal, qubits), repeat=5)
            rows.append([name, len(qubits), t_load, t_qbhw, t_anchor, t_anchor / t_qbhw])
        if not quick:
            t_all, _ = best_of(lambda: noise_model(cal), repeat=1)
            rows.append([name, f"all {cal.num_qubits}", t_load, t_all, t_anchor, t_anchor / t_all])
    print_table(
        "noise model construction: qbhw noise_model(cal, qubits) vs NoiseModel.from_backend(backend) [s]",
        ["device", "qubits", "qbhw load", "qbhw build", "from_backend", "ratio"],
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
    main(quick="--quick" in sys.argv)
