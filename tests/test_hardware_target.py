"""Transpile targets of whole devices: the calibration's gates, errors and durations on the device's own physical
indices, its dt and timing constraints honoured by scheduled transpilation, one target per calibration content.
Runs in both environments (qiskit 1.3.0 and 2.x)."""

from __future__ import annotations

import dataclasses

import pytest
from qiskit import QuantumCircuit, transpile

from qbhw.errors import QbhwError
from qbhw.hardware import DeviceCalibration, device_backend, load_calibration, synthetic_cavity_qed, transpile_target


@pytest.fixture(scope="module")
def syn() -> DeviceCalibration:
    return synthetic_cavity_qed()


def test_target_carries_the_calibration(syn: DeviceCalibration) -> None:
    target = transpile_target(syn)
    assert target.num_qubits == 4
    assert target["cz"][(2, 3)].error == 8e-3
    assert target["cz"][(2, 3)].duration == pytest.approx(48e-9, rel=1e-15)
    assert not target.instruction_supported("cz", (0, 2))
    assert target["measure"][(0,)].error == pytest.approx(0.015, abs=1e-15)  # (0.010 + 0.020)/2
    assert target["reset"][(3,)].duration == pytest.approx(500e-9, rel=1e-15)
    assert target.qubit_properties[1].t1 == pytest.approx(50e-6, rel=1e-15)
    assert target.qubit_properties[2].frequency == pytest.approx(5.1e9, rel=1e-15)
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.measure_all()
    out = transpile(qc, target=target, optimization_level=1, seed_transpiler=7)
    assert set(out.count_ops()) <= set(syn.basis_gates) | {"measure", "barrier"}
    for inst in out.data:
        if inst.operation.name == "cz":
            pair = tuple(out.find_bit(q).index for q in inst.qubits)
            assert pair in syn.coupling_map


def test_timing_constraints_and_whole_sample_durations(syn: DeviceCalibration) -> None:
    target = transpile_target(syn)
    assert target.dt == pytest.approx(0.5e-9, rel=1e-15)
    assert (target.granularity, target.min_length, target.pulse_alignment, target.acquire_alignment) == (8, 16, 8, 8)
    durations = target.durations()  # seconds -> dt: Qiskit warns (an error here) if a duration is not whole samples
    assert durations.get("cz", [0, 1], "dt") == 96
    assert durations.get("sx", [3], "dt") == 48
    assert durations.get("measure", [2], "dt") == 2000
    assert durations.get("reset", [1], "dt") == 1000
    brisbane = transpile_target(load_calibration("fake_brisbane"))
    assert (brisbane.granularity, brisbane.min_length, brisbane.pulse_alignment) == (8, 16, 8)
    assert brisbane.durations().get("ecr", list(next(iter(brisbane["ecr"]))), "dt") == 1320


def _start_times(cal: DeviceCalibration, circuit: QuantumCircuit) -> list[tuple[str, int]]:
    backend = device_backend(cal)
    out = transpile(circuit, backend=backend, scheduling_method="alap", optimization_level=0, seed_transpiler=1)
    return [(inst.operation.name, t0) for inst, t0 in zip(out.data, out.op_start_times, strict=True)]


def test_scheduled_circuit_respects_pulse_and_acquire_alignment(syn: DeviceCalibration) -> None:
    """A 3-sample delay would start the next pulse off the 8-sample grid; the device's alignment moves it on
    (through device_backend: qiskit 1.3.0 drops a bare target's timing constraints)."""
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.delay(3, 0, unit="dt")
    qc.sx(0)
    qc.cz(0, 1)
    qc.measure([0, 1], [0, 1])
    aligned = _start_times(syn, qc)
    assert ("sx", 56) in aligned  # 48 + 3 samples, moved on to the next multiple of 8
    assert all(t0 % 8 == 0 for name, t0 in aligned if name != "delay")
    # the control: the same device without alignment constraints starts sx at 48 + 3 = 51 samples
    free = dataclasses.replace(syn, granularity=1, min_length=1, pulse_alignment=1, acquire_alignment=1)
    assert ("sx", 51) in _start_times(free, qc)


def test_device_backend_is_for_compilation_only(syn: DeviceCalibration) -> None:
    backend = device_backend(syn)
    assert backend.target is transpile_target(syn) and backend is device_backend(synthetic_cavity_qed())
    assert backend.num_qubits == 4 and backend.dt == pytest.approx(0.5e-9, rel=1e-15)
    with pytest.raises(QbhwError, match="compile-only backend"):
        backend.run(QuantumCircuit(1))


def test_physical_indices_with_an_initial_layout() -> None:
    """The experiments compile onto the whole device with an initial layout: the circuit keeps physical indices."""
    torino = load_calibration("fake_torino")
    a, b = next((a, b) for a, b in torino.coupling_map if a > 50)
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    out = transpile(qc, backend=device_backend(torino), initial_layout=[a, b], optimization_level=1, seed_transpiler=3)
    assert out.num_qubits == 133
    used = {out.find_bit(q).index for inst in out.data for q in inst.qubits}
    assert used == {a, b}


def test_target_is_built_once_per_content(syn: DeviceCalibration) -> None:
    assert transpile_target(syn) is transpile_target(synthetic_cavity_qed())
    other = dataclasses.replace(syn, notes=syn.notes + ("another content",))
    assert transpile_target(other) is not transpile_target(syn)


def test_target_without_dt() -> None:
    free = dataclasses.replace(
        synthetic_cavity_qed(), dt_ns=None, granularity=1, min_length=1, pulse_alignment=1, acquire_alignment=1
    )
    target = transpile_target(free)
    assert target.dt is None and target["cz"][(0, 1)].duration == pytest.approx(48e-9, rel=1e-15)
