"""The offline round trip of all four models: prepare -> submit --local -> collect -> analyze on a fake backend, and
a check of qbhw's noise model against the fake backend's own.

For each model (at the README's example points) and seed, a bundle with readout-calibration circuits is prepared on
the device, submitted in qiskit-ibm-runtime's local mode (the fake backend's own Aer noise model,
``NoiseModel.from_backend``, generates the counts), collected and analysed. Two predictions are compared with the
measured intervals:

* ``qbhw``  the noisy prediction in the manifest: qbhw's noise model of the device's calibration (what a user gets
            before running on hardware);
* ``fake``  the exact density matrix of the same ISA circuit under the fake backend's own noise model (Aer,
            density-matrix method): the model that generated the counts, so the interval should contain it at the
            stated rate, up to the small errors of the tomography basis-change gates.

Their difference is a real check of qbhw's noise model against ``AerSimulator.from_backend``. A third column,
``qbhw p_e=0``, is qbhw's noise model of the same calibration with every qubit's thermal excited population and
reset error set to 0 (the fake's model assumes zero temperature and an ideal reset; qbhw assumes 50 mK): where it
equals ``fake``, that assumption is the whole difference. Prints one table per model (first seed), then the
containment counts over all seeds, and the time of each stage.

    .venv/bin/python circuits/round_trip.py [--device fake_torino] [--seeds 1] [--shots 8192] [--models ...]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from qbhw._threads import limit_threads, thread_report
from qbhw.experiments import (
    analyze_bundle,
    collect_bundle,
    model_spec,
    prepare_bundle,
    read_bundle,
    submit_bundle,
)
from qbhw.experiments.bundle import library_versions
from qbhw.physics import capacity, ergotropy, partial_trace, purity, stored_energy
from qbhw.physics.distance import fidelity

#: the README's example points (``qbhw run`` section), the micromaser at the demo's last point
POINTS = {
    "charger": {},
    "thermal-gradient": {},
    "collective": {"n": 3, "temperature": 2.0},
    "micromaser": {"g_tau": 1.1107207345, "p_excited": 0.5, "coherence": 1.0, "collisions": 10, "cutoff": 8},
}
FIGURES = ("energy", "ergotropy", "capacity", "purity", "fidelity")


def _matrix(obj):
    return np.asarray(obj["real"]) + 1j * np.asarray(obj["imag"])


def fake_prediction(bundle: Path, backend_name: str) -> dict[str, float]:
    """Figures of the register state under the fake backend's own Aer noise model: the bundle's all-Z tomography
    circuit without its measurements, simulated exactly (density matrix) with ``AerSimulator.from_backend``."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import DensityMatrix
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime import fake_provider

    from qbhw.hardware import fake_backend_class_name

    manifest, circuits = read_bundle(bundle)
    est = manifest.sections["estimator"]
    register = manifest.sections["layout"]["register"]
    zs = est["circuits"][est["settings"].index("Z" * len(register))]
    qc = next(c for c in circuits if c.name == zs)
    bare = QuantumCircuit(qc.num_qubits)
    for inst in qc.data:
        if inst.operation.name not in ("measure", "barrier"):
            bare.append(inst.operation, [bare.qubits[qc.find_bit(q).index] for q in inst.qubits])
    bare.save_density_matrix(qubits=register, label="rho")
    fake = getattr(fake_provider, fake_backend_class_name(backend_name))()
    sim = AerSimulator.from_backend(fake, method="density_matrix")
    rho = DensityMatrix(sim.run(bare, shots=1).result().data(0)["rho"]).reverse_qargs().data  # physics order
    n = len(register)
    battery = list(est["battery"])
    rho_b = rho if len(battery) == n else partial_trace(rho, [2] * n, keep=battery)
    h = _matrix(est["hamiltonian"])
    out = {
        "energy": float(stored_energy(rho_b, h)),
        "ergotropy": float(ergotropy(rho_b, h)),
        "capacity": float(capacity(rho_b, h)),
        "purity": float(purity(rho_b)),
    }
    if est.get("target_state") is not None:
        out["fidelity"] = float(fidelity(rho, _matrix(est["target_state"])))
    return out


def cold_prediction(model: str, device: str) -> dict[str, float]:
    """qbhw's noisy prediction with zero thermal population and an ideal reset on every qubit of the calibration."""
    import dataclasses

    from qbhw.experiments import Experiment, compile_verified, execute, map_circuit, predict
    from qbhw.hardware import load_calibration

    spec = model_spec(model)
    params, t, options = spec.inputs(POINTS[model])
    cal = load_calibration(device)
    cold = dataclasses.replace(
        cal,
        qubits=tuple(dataclasses.replace(q, excited_population=0.0, reset_error=0.0) for q in cal.qubits),
    )
    exp = Experiment(model, params, cal, time=t, options=options)
    mapped = map_circuit(exp)
    compiled = compile_verified(mapped, cal)  # the bundle's circuit: compilation does not read p_e
    sim = execute.simulator(cold, compiled.physical_qubits, noisy=True)
    return predict(mapped, dataclasses.replace(compiled, device=cold), sim).noisy.to_dict()


_REFERENCES: dict[str, tuple[dict[str, float], dict[str, float]]] = {}


def run_model(model: str, device: str, seed: int, shots: int, root: Path) -> dict:
    spec = model_spec(model)
    params, t, options = spec.inputs(POINTS[model])
    bundle = root / f"{model}_{seed}"
    clock = {}
    start = time.perf_counter()
    prepared = prepare_bundle(
        bundle, model, params, device=device, time=t, options=options, shots=shots, seed=seed, readout_calibration=True
    )
    clock["prepare"] = time.perf_counter() - start
    start = time.perf_counter()
    record = submit_bundle(bundle, local=True)
    clock["submit"] = time.perf_counter() - start
    start = time.perf_counter()
    collect_bundle(bundle)
    clock["collect"] = time.perf_counter() - start
    start = time.perf_counter()
    analysis = analyze_bundle(bundle)
    clock["analyze"] = time.perf_counter() - start
    start = time.perf_counter()
    if model not in _REFERENCES:  # the same circuit for every seed
        _REFERENCES[model] = (fake_prediction(bundle, record.backend), cold_prediction(model, device))
    fake, cold = _REFERENCES[model]
    clock["references"] = time.perf_counter() - start
    return {
        "model": model,
        "seed": seed,
        "circuits": len(prepared.manifest.circuits),
        "record": analysis.record,
        "fake": fake,
        "cold": cold,
        "flags": analysis.flags,
        "clock": clock,
        "compilation": analysis.record.compilation,
    }


def table(result: dict) -> str:
    r = result["record"]
    m = r.measured
    c = result["compilation"]
    lines = [
        f"{result['model']} (register {list(c.register_physical_qubits)}, {c.two_qubit_gates} two-qubit gates, "
        f"{c.duration_ns / 1000:.1f} us; {result['circuits']} circuits)",
        "",
        "| figure | ideal | qbhw noisy | qbhw p_e=0 | fake's own noisy | measured [95% CI] | qbhw in CI | fake in CI |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in FIGURES:
        if key not in m.figures or key not in result["fake"]:
            continue
        fig = m.figures[key]
        qbhw, fake = getattr(r.noisy, key), result["fake"][key]
        lines.append(
            f"| {key} | {getattr(r.ideal, key):.4f} | {qbhw:.4f} | {result['cold'][key]:.4f} | {fake:.4f} | "
            f"{fig.value:.4f} "
            f"[{fig.ci[0]:.4f}, {fig.ci[1]:.4f}] | {'yes' if fig.contains(qbhw) else 'NO'} | "
            f"{'yes' if fig.contains(fake) else 'NO'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="fake_torino")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per model (0, 1, ...)")
    parser.add_argument("--shots", type=int, default=8192, help="shots per circuit")
    parser.add_argument("--models", nargs="*", default=list(POINTS))
    args = parser.parse_args()
    with limit_threads():
        print(thread_report())
        print({k: v for k, v in library_versions().items() if v})
        results = []
        with tempfile.TemporaryDirectory(prefix="qbhw_round_trip_") as tmp:
            for model in args.models:
                for seed in range(args.seeds):
                    results.append(run_model(model, args.device, seed, args.shots, Path(tmp)))
                    res = results[-1]
                    clock = ", ".join(f"{k} {v:.1f} s" for k, v in res["clock"].items())
                    print(f"{model} seed {seed}: {clock}", flush=True)
        print()
        for res in results:
            if res["seed"] == 0:
                print(table(res))
                if res["flags"]:
                    print("\nflags: " + " | ".join(res["flags"]))
                print()
        print("containment of the predictions in the measured 95% intervals (all seeds):")
        print("| model | figures | qbhw noisy inside | fake's own inside | max diff qbhw | max diff p_e=0 |")
        print("|---|---|---|---|---|---|")
        for model in args.models:
            rows = [r for r in results if r["model"] == model]
            n = q = f = 0
            gap = cold_gap = 0.0
            for res in rows:
                m = res["record"].measured
                for key in FIGURES:
                    if key not in m.figures or key not in res["fake"]:
                        continue
                    n += 1
                    q += m.figures[key].contains(getattr(res["record"].noisy, key))
                    f += m.figures[key].contains(res["fake"][key])
                    gap = max(gap, abs(getattr(res["record"].noisy, key) - res["fake"][key]))
                    cold_gap = max(cold_gap, abs(res["cold"][key] - res["fake"][key]))
            print(f"| {model} | {n} | {q} | {f} | {gap:.4f} | {cold_gap:.1e} |")
        print("\nmisses of the fake's own prediction (model: figure x count):")
        for model in args.models:
            misses: dict[str, int] = {}
            for res in (r for r in results if r["model"] == model):
                m = res["record"].measured
                for key in FIGURES:
                    if key in m.figures and key in res["fake"] and not m.figures[key].contains(res["fake"][key]):
                        misses[key] = misses.get(key, 0) + 1
            print(f"{model}: " + (", ".join(f"{k} x {n}" for k, n in misses.items()) or "none"))
        total = {k: sum(r["clock"][k] for r in results) for k in results[0]["clock"]}
        print("\ntotal time: " + ", ".join(f"{k} {v:.1f} s" for k, v in total.items()))
        if any(math.isnan(r["record"].noisy.energy) for r in results):
            raise SystemExit("a prediction is NaN")


if __name__ == "__main__":
    main()
