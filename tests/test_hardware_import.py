"""Calibrations imported from Qiskit BackendV2 objects: qiskit-ibm-runtime's fake backends (the ibm extra) and
qiskit's own GenericBackendV2 (both environments): values, timing constraints, and the committed snapshots."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from qbhw.hardware import (
    CalibrationError,
    calibration_from_backend,
    load_calibration,
    read_calibration,
    save_calibration,
)


def _runtime() -> Any:
    return pytest.importorskip("qiskit_ibm_runtime", reason="qiskit-ibm-runtime (the ibm extra) is not installed")


def test_generic_backend_with_timing_constraints(tmp_path: Path) -> None:
    """Any BackendV2 is read from its target: T1/T2, gates, dt and the timing constraints in units of dt."""
    with warnings.catch_warnings():  # qiskit 1.3.0's fake_provider imports its own deprecated qiskit.providers.models
        warnings.filterwarnings("ignore", message="qiskit.providers.models is deprecated", category=DeprecationWarning)
        from qiskit.providers.fake_provider import GenericBackendV2

        backend = GenericBackendV2(num_qubits=5, seed=11)
    cal = calibration_from_backend(backend, name="generic5")
    target = backend.target
    assert cal.num_qubits == 5 and cal.dt_ns == pytest.approx(target.dt * 1e9, rel=1e-15)
    assert (cal.granularity, cal.min_length, cal.pulse_alignment, cal.acquire_alignment) == (
        target.granularity,
        target.min_length,
        target.pulse_alignment,
        target.acquire_alignment,
    )
    for q in range(5):
        assert cal.qubits[q].t1_us == pytest.approx(target.qubit_properties[q].t1 * 1e6, rel=1e-12)
    assert any("import date" in n for n in cal.notes)
    assert read_calibration(save_calibration(cal, tmp_path / "g.json")) == cal


def test_import_fake_torino_is_valid_and_faithful() -> None:
    rt = _runtime()
    from qbhw.hardware import import_fake_backend

    cal = import_fake_backend("FakeTorino")
    backend = rt.fake_provider.FakeTorino()
    target = backend.target
    assert cal.name == "fake_torino" and cal.num_qubits == backend.num_qubits == 133
    assert cal.dt_ns == pytest.approx(target.dt * 1e9, rel=1e-15)
    assert (cal.granularity, cal.min_length, cal.pulse_alignment, cal.acquire_alignment) == (1, 2, 1, 1)
    for q in (0, 17, 132):
        qp = backend.qubit_properties(q)
        assert cal.qubits[q].t1_us == pytest.approx(qp.t1 * 1e6, rel=1e-12)
        assert cal.qubits[q].t2_us == pytest.approx(min(qp.t2, 2 * qp.t1) * 1e6, rel=1e-12)
        assert cal.gate("sx", (q,)).error == target["sx"][(q,)].error
        assert cal.gate("sx", (q,)).duration_ns == pytest.approx(target["sx"][(q,)].duration * 1e9, rel=1e-12)
        assert cal.qubits[q].excited_population < 0.02  # no Heron temperature trap
    kept = [qa for qa, ip in target["cz"].items() if ip.error < 1.0]
    assert len([g for g in cal.gates if g.name == "cz"]) == len(kept)
    assert all(target["cz"][g.qubits].error == g.error for g in cal.gates if g.name == "cz")
    assert set(cal.coupling_map) == set(kept)


@pytest.mark.parametrize(("name", "cls"), [("fake_torino", "FakeTorino"), ("fake_brisbane", "FakeBrisbane")])
def test_committed_snapshot_is_this_import(
    name: str, cls: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The built-in snapshot is exactly the import, when made with the same qiskit-ibm-runtime version."""
    _runtime()
    from qbhw.hardware import import_fake_backend

    monkeypatch.setenv("QBHW_CALIBRATIONS", str(tmp_path / "none"))
    snap = load_calibration(name)
    cal = import_fake_backend(cls)
    if snap.source != cal.source:
        pytest.skip(f"installed runtime differs from the snapshot's ({snap.source})")
    assert snap == cal


def test_import_fake_backend_name_variants_and_unknown() -> None:
    _runtime()
    from qbhw.hardware import fake_backend_class_name

    for variant in ("FakeTorino", "fake_torino", "torino", "ibm_torino", "TORINO"):
        assert fake_backend_class_name(variant) == "FakeTorino"
    assert fake_backend_class_name("athens") == "FakeAthensV2"
    with pytest.raises(CalibrationError) as info:
        fake_backend_class_name("FakeNowhere")
    assert "unknown fake backend 'FakeNowhere'" in str(info.value)
    assert "FakeTorino" in str(info.value) and "FakeBrisbane" in str(info.value)


def test_import_small_fake_backend_round_trips(tmp_path: Path) -> None:
    _runtime()
    from qbhw.hardware import import_fake_backend

    cal = import_fake_backend("athens")
    assert cal.name == "fake_athens_v2" and cal.num_qubits == 5 and "cx" in cal.basis_gates
    assert cal.dt_ns is not None and cal.dt_ns < 1.0
    assert load_calibration(save_calibration(cal, tmp_path / "a.json")) == cal


def test_heron_snapshot_has_no_infinite_temperature_qubit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from qbhw.hardware.units import excited_population_at

    monkeypatch.setenv("QBHW_CALIBRATIONS", str(tmp_path / "none"))
    cal = load_calibration("fake_torino")
    assert all(q.freq_ghz is None for q in cal.qubits)  # Heron fake backends report no frequency
    # 50 mK at the documented 4.8 GHz fallback: p_e = 1/(exp(4.8/(50*GHZ_PER_MK)) + 1) ~ 0.0099, never 1/2
    pops = {q.excited_population for q in cal.qubits}
    assert pops == {excited_population_at(4.8, 50.0)}
    assert max(pops) < 0.02
    assert any("4.8 GHz" in n for n in cal.notes)


def test_eagle_snapshot_excited_population_follows_frequency(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QBHW_CALIBRATIONS", str(tmp_path / "none"))
    cal = load_calibration("fake_brisbane")
    for q in cal.qubits:
        assert q.freq_ghz is not None
        # exact inverse relation (1e-12 relative: float round trip through log/exp)
        assert q.temperature_mk == pytest.approx(50.0, rel=1e-12)
        assert q.t2_us <= 2 * q.t1_us


def test_broken_one_qubit_gates_are_kept_fully_depolarizing() -> None:
    """FakeAachen reports id/sx/x with error 1 on qubits 19 and 35: kept at 2/3 (the schema needs every one-qubit
    basis gate on every qubit); the broken qubits are never chosen."""
    rt = _runtime()
    from qbhw.hardware import import_fake_backend, select_qubits

    target = rt.fake_provider.FakeAachen().target
    broken = sorted({q for (q,), ip in target["sx"].items() if ip.error >= 1.0})
    cal = import_fake_backend("FakeAachen")
    assert broken == [19, 35]
    for q in broken:
        assert cal.gate("sx", (q,)).error == pytest.approx(2 / 3, abs=1e-15)
    assert any("kept as fully depolarizing" in n and "sx[19]" in n for n in cal.notes)
    assert not set(select_qubits(cal, 6)) & set(broken)
