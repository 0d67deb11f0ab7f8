"""qbhw.experiments: compilation keeps the register, the noisy prediction, sweeps, resume and reproducibility.

These tests use a small toy MappedCircuit (so they do not depend on any one model's mapping); the four models'
end-to-end runs are in tests/test_run.py.
"""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qbhw.errors import ParameterError, QbhwError
from qbhw.experiments import (
    Experiment,
    PointStore,
    compile_for_device,
    fingerprint,
    parse_range,
    run_points,
)
from qbhw.experiments.execute import density_matrix
from qbhw.hardware import default_device, noiseless, restrict
from qbhw.mapping import MappedCircuit, qiskit_to_physics


@pytest.fixture(scope="module")
def device():
    return default_device()


def _toy() -> MappedCircuit:
    """Three qubits; the register (2, 0) (physics order) ends entangled and mixed: a reset on qubit 1 after a CX."""
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator

    qc = QuantumCircuit(3)
    qc.ry(1.1, 1)
    qc.cx(1, 0)
    qc.reset(1)
    qc.ry(0.7, 2)
    qc.cx(2, 0)
    qc.rz(0.3, 2)
    ref = qc.copy()
    ref.save_density_matrix(qubits=[0, 2])  # little-endian over (0, 2) -> physics order (2, 0) after reversal
    rho = qiskit_to_physics(
        np.asarray(AerSimulator(method="density_matrix").run(ref).result().data()["density_matrix"]), 2
    )
    rho = rho.reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4)  # physics order (2, 0)
    h = np.diag([0.0, 1.0, 1.0, 2.0])
    return MappedCircuit("toy", qc, (2, 0), (0, 1), h, rho, rho)


def test_parse_range_is_inclusive_and_validated():
    assert parse_range("0:30:5", "collisions", integer=True) == (0, 5, 10, 15, 20, 25, 30)
    assert parse_range("0:1:0.1", "time", integer=False)[-1] == pytest.approx(1.0)  # 1e-9 slack keeps the end
    assert len(parse_range("0:1:0.1", "time", integer=False)) == 11
    assert parse_range("7", "collisions", integer=True) == (7,)
    for bad in ("5:0:1", "0:5:0", "0:5:-1", "a:b:c", "1:2", "0:inf:1"):
        with pytest.raises(ParameterError) as err:
            parse_range(bad, "collisions", integer=True)
        assert err.value.parameter == "collisions"


def test_compiled_register_follows_the_final_layout(device):
    """Noiseless simulation of the transpiled, routed circuit gives the logical register state (1e-12: numerics)."""
    toy = _toy()
    compiled = compile_for_device(toy, device)
    assert len(compiled.physical_qubits) == 3 and compiled.two_qubit_gates >= 2
    assert compiled.duration_ns > 0
    rho = density_matrix(compiled.circuit, compiled.register, compiled.device, noisy=False)
    assert np.abs(rho - toy.exact_state).max() < 1e-12


def test_noiseless_device_reproduces_the_exact_state(device):
    """On qbhw.hardware.noiseless the noise model (gates, idle relaxation, reset) is the identity to ~1e-12."""
    toy = _toy()
    compiled = compile_for_device(toy, noiseless(device))
    rho = density_matrix(compiled.idle_noisy, compiled.register, compiled.device, noisy=True)
    assert np.abs(rho - toy.exact_state).max() < 1e-9


def test_noise_changes_the_state_by_the_expected_order(device):
    """Under the device noise the state moves by ~ (number of gates x error) + readout-free relaxation: more than
    1e-4 and less than 0.1 for this 3-qubit circuit (a sanity window around the per-gate errors ~1e-3)."""
    toy = _toy()
    compiled = compile_for_device(toy, device)
    rho = density_matrix(compiled.idle_noisy, compiled.register, compiled.device, noisy=True)
    assert 1e-4 < np.abs(rho - toy.exact_state).max() < 0.1
    assert np.trace(rho).real == pytest.approx(1.0, abs=1e-12)


def test_too_large_circuit_for_the_device_is_a_parameter_error(device):
    small = restrict(device, [0, 1])
    with pytest.raises(ParameterError) as err:
        compile_for_device(_toy(), small)
    assert err.value.parameter == "device"


def test_experiment_validates_its_fields(device):
    from qbhw.models.charger import ChargerParams

    for field, value in (("shots", -1), ("seed", -3), ("bootstrap", 1), ("estimator", "magic"), ("model", "x")):
        kwargs = {"model": "charger", "params": ChargerParams(), "device": device, field: value}
        with pytest.raises(ParameterError) as err:
            Experiment(**kwargs)
        assert err.value.parameter == field


def test_fingerprint_tracks_everything_that_changes_a_point(device):
    from qbhw.models.charger import ChargerParams

    base = Experiment("charger", ChargerParams(), device, options=(("time", 0.3),))
    assert fingerprint(base) == fingerprint(dataclasses.replace(base))
    for change in (
        {"seed": 1},
        {"shots": 999},
        {"options": (("time", 0.4),)},
        {"params": ChargerParams(j2=0.1)},
        {"device": noiseless(device)},
        {"mitigate_readout": False},
    ):
        assert fingerprint(dataclasses.replace(base, **change)) != fingerprint(base)


def _fake_point(exp: Experiment) -> dict:
    return {"record": {"seed": exp.seed}, "counts": []}


def test_sweep_resumes_without_losing_or_repeating_points(tmp_path, device, monkeypatch):
    """Points already stored are loaded, missing ones run once each, in any executor."""
    from qbhw.experiments import sweep
    from qbhw.models.charger import ChargerParams

    calls: list[int] = []

    def fake(exp):
        calls.append(exp.seed)
        return _fake_point(exp)

    monkeypatch.setattr(sweep, "run_point", fake)
    exps = [
        Experiment("charger", ChargerParams(), device, options=(("time", t),), seed=k)
        for k, t in enumerate((0.1, 0.2, 0.3, 0.4))
    ]
    store = PointStore(tmp_path)
    first = run_points(exps[:2], store=store)  # an "interrupted" sweep: two points done
    assert calls == [0, 1] and [p["record"]["seed"] for p in first] == [0, 1]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = run_points(exps, store=store, executor=pool)
    assert sorted(calls) == [0, 1, 2, 3]  # 0 and 1 were not repeated
    assert [p["record"]["seed"] for p in done] == [0, 1, 2, 3]  # input order
    # a stored point of another experiment is refused, not reused
    with pytest.raises(QbhwError, match="different experiment"):
        run_points([dataclasses.replace(exps[0], shots=7)], store=store)
    assert json.loads(store.path(3).read_text())["point"]["record"]["seed"] == 3


def test_every_compilation_is_verified_against_the_exact_channel(device):
    """The noiseless transpiled circuit reproduces the mapping's exact state to TRANSPILE_CHECK_TOL. This circuit
    (mid-circuit resets next to 3-qubit unitaries) is one that qiskit 1.3.0 transpiles wrongly (max deviation 0.45,
    or a malformed 2-qubit reset): there the two-stage route must take over; on 2.x the direct route passes."""
    from qbhw.experiments.compile import TRANSPILE_CHECK_TOL
    from qbhw.mapping import collective_circuit
    from qbhw.models.collective import CollectiveParams

    mapped = collective_circuit(CollectiveParams(2, 2.0), time=0.5)
    compiled = compile_for_device(mapped, device)
    assert compiled.check <= TRANSPILE_CHECK_TOL
    assert compiled.route in ("direct", "two-stage")
    rho = density_matrix(compiled.circuit, compiled.register, compiled.device, noisy=False)
    assert np.abs(rho - mapped.exact_state).max() <= TRANSPILE_CHECK_TOL
