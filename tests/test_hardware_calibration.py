"""Device calibrations: schema round trips, validation of every rule, device lookup, fake-backend import, units.

The synthetic device (qbhw.hardware.synthetic) is the base of the crafted bad files: each test changes one field of
its JSON and checks that loading fails with a message naming the file and the field path.
"""

from __future__ import annotations

import copy
import dataclasses
import decimal
import json
import os
from pathlib import Path
from typing import Any

import pytest

from qbhw.hardware import (
    DEFAULT_DEVICE,
    CalibrationError,
    DeviceCalibration,
    GateCalibration,
    QubitCalibration,
    calibration_to_dict,
    calibrations_dir,
    default_device,
    dumps_calibration,
    list_device_summaries,
    list_devices,
    load_calibration,
    restrict,
    save_calibration,
    synthetic_cavity_qed,
)
from qbhw.hardware import calibration as calmod
from qbhw.hardware.units import (
    GHZ_PER_MK,
    effective_temperature_mk,
    excited_population_at,
    rate_per_us_to_reference,
    temperature_mk_to_reference,
    time_ns_to_reference,
)

EMBEDDED = ("fake_brisbane", "fake_torino", "synthetic_cqed")


def _write(tmp_path: Path, data: Any, name: str = "bad.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return p


def _base() -> dict[str, Any]:
    return calibration_to_dict(synthetic_cavity_qed())


# ------------------------------------------------------------------------------------------------ snapshots


def test_embedded_devices_are_listed() -> None:
    assert set(EMBEDDED) <= set(list_devices())
    assert DEFAULT_DEVICE in list_devices()
    assert default_device().name == DEFAULT_DEVICE


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_snapshot_round_trip(name: str, tmp_path: Path) -> None:
    cal = load_calibration(name)
    assert cal.name == name  # file stem == name field
    out = save_calibration(cal, tmp_path / f"{name}.json")
    again = load_calibration(out)
    assert again == cal
    # the committed file is exactly what save_calibration writes (no hand edits, stable formatting)
    assert out.read_text(encoding="utf-8") == (calibrations_dir() / f"{name}.json").read_text(encoding="utf-8")


def test_synthetic_snapshot_matches_its_generator() -> None:
    # regenerate with: save_calibration(synthetic_cavity_qed(), "calibrations/synthetic_cqed.json")
    assert load_calibration("synthetic_cqed") == synthetic_cavity_qed()


def test_python_built_calibration_round_trip(tmp_path: Path) -> None:
    cal = synthetic_cavity_qed()
    path = save_calibration(cal, tmp_path / "sub" / "x.json")
    assert load_calibration(path) == cal
    assert load_calibration(str(path)) == cal
    assert dumps_calibration(load_calibration(path)) == dumps_calibration(cal)


def test_lists_and_tuples_are_normalised() -> None:
    d = _base()
    cal = calmod.calibration_from_dict(d)
    assert isinstance(cal.coupling_map, tuple) and all(isinstance(e, tuple) for e in cal.coupling_map)
    assert isinstance(cal.gates[0].qubits, tuple)
    assert hash(cal.gates[0]) == hash(GateCalibration(cal.gates[0].name, list(cal.gates[0].qubits), 70.0, 0.003))


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "dev.json"
    cal = synthetic_cavity_qed()
    save_calibration(cal, target)
    before = target.read_text(encoding="utf-8")
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(calmod.os, "replace", boom)
    changed = dataclasses.replace(cal, notes=("changed",))
    with pytest.raises(OSError, match="disk full"):
        save_calibration(changed, target)
    assert target.read_text(encoding="utf-8") == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["dev.json"]  # no temporary file left behind


def test_summaries() -> None:
    summaries = {s.name: s for s in list_device_summaries()}
    syn = summaries["synthetic_cqed"]
    assert syn.num_qubits == 4 and syn.num_resonators == 4
    assert syn.median_t1_us == pytest.approx(115.0, abs=1e-12)  # median of 100, 110, 120, 140
    assert summaries[DEFAULT_DEVICE].default
    assert summaries["fake_torino"].num_qubits == 133 and summaries["fake_brisbane"].num_qubits == 127


# ------------------------------------------------------------------------------------------------ device lookup


def test_unknown_device_lists_known_ones() -> None:
    with pytest.raises(CalibrationError) as info:
        load_calibration("no_such_device")
    msg = str(info.value)
    assert "unknown device 'no_such_device'" in msg
    for name in EMBEDDED:
        assert name in msg


def test_device_names_are_case_and_dash_insensitive() -> None:
    assert load_calibration("Synthetic-CQED").name == "synthetic_cqed"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(CalibrationError, match="calibration file not found: .*nope.json"):
        load_calibration(missing)


def test_missing_calibration_folder(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="does not exist"):
        list_devices(tmp_path / "absent")


# ------------------------------------------------------------------------------------------------ validation


def _set(d: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        d = d[key]
    d[path[-1]] = value


def _delete(d: dict[str, Any], path: tuple[Any, ...]) -> None:
    for key in path[:-1]:
        d = d[key]
    del d[path[-1]]


# (mutation path, new value, expected field path, expected words); value _DELETE removes the key
_DELETE = object()
BAD_FIELDS = [
    (("qubits", 1, "t2_us"), 201.0, "qubits[1].t2_us", "must be <= 2*t1_us (got 201.0 > 2*100.0)"),
    (("qubits", 0, "t1_us"), 0.0, "qubits[0].t1_us", "must be > 0"),
    (("qubits", 0, "t1_us"), -5.0, "qubits[0].t1_us", "must be > 0"),
    (("qubits", 0, "t2_us"), 0.0, "qubits[0].t2_us", "must be > 0"),
    (("qubits", 0, "t1_us"), "100", "qubits[0].t1_us", "must be a finite number"),
    (("qubits", 0, "t1_us"), True, "qubits[0].t1_us", "must be a finite number"),
    (("qubits", 2, "freq_ghz"), 0.0, "qubits[2].freq_ghz", "must be > 0"),
    (("qubits", 2, "freq_ghz"), -4.8, "qubits[2].freq_ghz", "must be > 0"),
    (("qubits", 0, "readout_p1_given_0"), 1.2, "qubits[0].readout_p1_given_0", "must be in [0, 1]"),
    (("qubits", 0, "readout_p0_given_1"), -0.1, "qubits[0].readout_p0_given_1", "must be in [0, 1]"),
    (("qubits", 3, "reset_error"), 2.0, "qubits[3].reset_error", "must be in [0, 1]"),
    (("qubits", 0, "excited_population"), 0.5, "qubits[0].excited_population", "must be in [0, 0.5)"),
    (("qubits", 0, "excited_population"), -1e-3, "qubits[0].excited_population", "must be in [0, 0.5)"),
    (("qubits", 0, "readout_duration_ns"), -1.0, "qubits[0].readout_duration_ns", "must be >= 0"),
    (("qubits", 1, "index"), 5, "qubits[1].index", "must be 1"),
    (("qubits", 1, "index"), -1, "qubits[1].index", "must be an integer >= 0"),
    (("qubits", 0, "t1"), 100.0, "qubits[0].t1", "is not a known key; did you mean 't1_us'?"),
    (("qubits", 0, "t2_us"), _DELETE, "qubits[0].t2_us", "is missing"),
    (("qubits",), [], "qubits", "must list at least one qubit"),
    (("gates", 0, "duration_ns"), -1.0, "gates[0].duration_ns", "must be >= 0"),
    (("gates", 0, "error"), 0.9, "gates[0].error", "must be in [0, 0.8]"),
    (("gates", 8, "error"), 0.7, "gates[8].error", "must be in [0, 0.666667]"),
    (("gates", 0, "qubits"), [0, 7], "gates[0].qubits", "must be existing qubits"),
    (("gates", 0, "qubits"), [0, 2], "gates[0].qubits", "must be an edge of coupling_map"),
    (("gates", 0, "qubits"), [0, 0], "gates[0].qubits", "must be distinct qubits"),
    (("gates", 0, "name"), "cx", "gates[0].name", "must be one of basis_gates"),
    (("gates", 8, "qubits"), [0, 1], "gates[8].qubits", "must list 1 qubit(s) for 'id'"),
    (("gates", 0, "speed"), 1.0, "gates[0].speed", "is not a known key"),
    (("gates", 1), {"name": "cz", "qubits": [0, 1], "duration_ns": 70.0, "error": 0.003}, "gates[1]", "duplicates"),
    (("basis_gates", 0), "cnot", "basis_gates[0]", "must be a Qiskit standard gate name"),
    (("basis_gates",), ["cz", "id", "rz", "sx", "x", "x"], "basis_gates[5]", "is listed twice"),
    (("basis_gates",), ["cz", "id", "rz", "sx", "x", "h"], "gates", "has no 'h' calibration"),
    (("coupling_map", 0), [0, 9], "coupling_map[0]", "must join existing qubits"),
    (("coupling_map", 0), [1, 1], "coupling_map[0]", "must join two different qubits"),
    (("coupling_map", 1), [0, 1], "coupling_map[1]", "is listed twice"),
    (("coupling_map", 0), [0, 1, 2], "coupling_map[0]", "must be a pair"),
    (("resonators", 0, "qubit"), 9, "resonators[0].qubit", "must be an existing qubit"),
    (("resonators", 1, "kappa_mhz"), -1.0, "resonators[1].kappa_mhz", "must be >= 0"),
    (("resonators", 0, "freq_ghz"), 0.0, "resonators[0].freq_ghz", "must be > 0"),
    (("resonators", 2, "index"), 0, "resonators[2].index", "must be 2"),
    (("resonators", 0, "kappa"), 0.2, "resonators[0].kappa", "did you mean 'kappa_mhz'?"),
    (("schema_version",), 99, "schema_version", "must be one of [1]"),
    (("schema_version",), _DELETE, "schema_version", "is missing"),
    (("date",), "yesterday", "date", "must be an ISO 8601 date"),
    (("name",), "a/b", "name", "must contain only letters"),
    (("source",), "", "source", "must be a non-empty string"),
    (("dt_ns",), 0.0, "dt_ns", "must be > 0"),
    (("qubit_count",), 4, "qubit_count", "is not a known key"),
    (("notes",), "one note", "notes", "must be a list"),
]


@pytest.mark.parametrize(("path", "value", "field", "words"), BAD_FIELDS, ids=[b[2] + ":" + b[3] for b in BAD_FIELDS])
def test_each_rule_rejects_a_crafted_file(
    path: tuple[Any, ...], value: Any, field: str, words: str, tmp_path: Path
) -> None:
    d = _base()
    if value is _DELETE:
        _delete(d, path)
    else:
        _set(d, path, copy.deepcopy(value))
    p = _write(tmp_path, d)
    with pytest.raises(CalibrationError) as info:
        load_calibration(p)
    e = info.value
    assert e.field == field
    assert e.file == str(p)
    assert str(e).startswith(f"{p}: {field} ")
    assert words in str(e)


def test_missing_one_qubit_gate_calibration(tmp_path: Path) -> None:
    d = _base()
    d["gates"] = [g for g in d["gates"] if not (g["name"] == "sx" and g["qubits"] == [2])]
    with pytest.raises(CalibrationError, match=r"bad\.json: gates has no 'sx' calibration for qubit\(s\) \[2\]"):
        load_calibration(_write(tmp_path, d))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"schema_version": 1, "name": ', "is not valid JSON"),
        ("[1, 2, 3]", "must be a JSON object at the top level"),
        ("", "is not valid JSON"),
    ],
)
def test_malformed_files(text: str, words: str, tmp_path: Path) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(CalibrationError) as info:
        load_calibration(p)
    assert str(info.value).startswith(f"{p}: ")
    assert words in str(info.value)


def test_python_construction_names_the_field() -> None:
    with pytest.raises(CalibrationError) as info:
        QubitCalibration(0, 5.0, -0.3, 100.0, 250.0, 0.01, 0.02, 0.0, 0.01)
    assert info.value.field == "t2_us" and info.value.file is None
    assert str(info.value) == "t2_us must be <= 2*t1_us (got 250.0 > 2*100.0)"
    cal = synthetic_cavity_qed()
    with pytest.raises(CalibrationError, match=r"gates\[0\]\.qubits must be an edge of coupling_map"):
        dataclasses.replace(cal, coupling_map=cal.coupling_map[2:])


def test_gate_lookup() -> None:
    cal = synthetic_cavity_qed()
    assert cal.gate("cz", (2, 3)).error == 5.0e-3
    with pytest.raises(CalibrationError, match="has no gate 'cz' on qubits \\[0, 2\\]"):
        cal.gate("cz", [0, 2])


# ------------------------------------------------------------------------------------------------ restrict


def test_restrict_relabels_qubits_gates_edges_and_resonators() -> None:
    cal = synthetic_cavity_qed()
    sub = restrict(cal, [2, 1])
    assert isinstance(sub, DeviceCalibration)
    assert [q.t1_us for q in sub.qubits] == [cal.qubits[2].t1_us, cal.qubits[1].t1_us]
    assert set(sub.coupling_map) == {(0, 1), (1, 0)}
    assert sub.gate("cz", (0, 1)).error == cal.gate("cz", (2, 1)).error
    assert sub.gate("sx", (1,)) == dataclasses.replace(cal.gate("sx", (1,)), qubits=(1,))
    assert [(r.index, r.qubit, r.freq_ghz) for r in sub.resonators] == [(0, 1, 6.50), (1, 0, 6.35)]
    assert "physical qubits [2, 1]" in sub.notes[-1]


def test_restrict_rejects_bad_subsets() -> None:
    cal = synthetic_cavity_qed()
    with pytest.raises(CalibrationError, match="must be distinct"):
        restrict(cal, [1, 1])
    with pytest.raises(CalibrationError, match=r"must be qubits of synthetic_cqed \(0..3\) \(got \[7\]\)"):
        restrict(cal, [0, 7])


# ------------------------------------------------------------------------------------------------ Heron trap


def test_heron_snapshot_has_no_infinite_temperature_qubit() -> None:
    cal = load_calibration("fake_torino")
    assert all(q.freq_ghz is None for q in cal.qubits)  # Heron fake backends report no frequency
    # 50 mK at the documented 4.8 GHz fallback: p_e = 1/(exp(4.8/(50*GHZ_PER_MK)) + 1) ~ 0.0099, never 1/2
    pops = {q.excited_population for q in cal.qubits}
    assert pops == {excited_population_at(4.8, 50.0)}
    assert max(pops) < 0.02
    assert any("4.8 GHz" in n for n in cal.notes)


def test_eagle_snapshot_excited_population_follows_frequency() -> None:
    cal = load_calibration("fake_brisbane")
    for q in cal.qubits:
        assert q.freq_ghz is not None
        # exact inverse relation (1e-12 relative: float round trip through log/exp)
        assert q.temperature_mk == pytest.approx(50.0, rel=1e-12)
        assert q.t2_us <= 2 * q.t1_us


# ------------------------------------------------------------------------------------------------ units

_CTX = decimal.Context(prec=40)


def test_units_constants_and_thermal_population() -> None:
    # k_B/h = 1.380649e-23 / 6.62607015e-34 Hz/K (exact SI) = 20.836619123... GHz/K
    exact = _CTX.divide(decimal.Decimal("1.380649e-23"), decimal.Decimal("6.62607015e-34")) / decimal.Decimal(10) ** 12
    assert pytest.approx(float(exact), rel=1e-15) == GHZ_PER_MK
    # p_e = 1/(exp(h f/k_B T) + 1) at 5 GHz, 50 mK, evaluated independently at 40 digits
    x = _CTX.divide(decimal.Decimal(5), decimal.Decimal(50) * exact)
    pe = float(_CTX.divide(1, _CTX.exp(x) + 1))
    assert excited_population_at(5.0, 50.0) == pytest.approx(pe, rel=1e-13)
    assert effective_temperature_mk(5.0, pe) == pytest.approx(50.0, rel=1e-12)
    assert excited_population_at(5.0, 0.0) == 0.0 and effective_temperature_mk(5.0, 0.0) == 0.0


def test_units_reference_conversions() -> None:
    # omega_0 t = 2 pi f_ref t: 5 GHz x 1 ns = 5 cycles = 10 pi radians
    assert time_ns_to_reference(1.0, 5.0) == pytest.approx(10 * 3.141592653589793, rel=1e-15)
    # gamma/omega_0 for 1/T1 = 0.01 /us at 5 GHz: 1e4 /s / (2 pi 5e9 /s)
    assert rate_per_us_to_reference(0.01, 5.0) == pytest.approx(1e4 / (2 * 3.141592653589793 * 5e9), rel=1e-15)
    # T/omega_0 = k_B T / (h f_ref)
    assert temperature_mk_to_reference(50.0, 5.0) == pytest.approx(50.0 * GHZ_PER_MK / 5.0, rel=1e-15)


# ------------------------------------------------------------------------------------------------ fake import


def _runtime() -> Any:
    return pytest.importorskip("qiskit_ibm_runtime", reason="qiskit-ibm-runtime (the ibm extra) is not installed")


def test_import_fake_torino_is_valid_and_faithful() -> None:
    rt = _runtime()
    from qbhw.hardware import import_fake_backend

    cal = import_fake_backend("FakeTorino")
    backend = rt.fake_provider.FakeTorino()
    target = backend.target
    assert cal.name == "fake_torino" and cal.num_qubits == backend.num_qubits == 133
    assert cal.dt_ns == pytest.approx(target.dt * 1e9, rel=1e-15)
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
    # the committed snapshot is this import, when made with the same qiskit-ibm-runtime version
    snap = load_calibration("fake_torino")
    if snap.source == cal.source:
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
    assert load_calibration(save_calibration(cal, tmp_path / "a.json")) == cal


def test_snapshot_files_end_with_newline_and_are_readable() -> None:
    for name in EMBEDDED:
        p = calibrations_dir() / f"{name}.json"
        assert p.read_text(encoding="utf-8").endswith("}\n")
        assert os.access(p, os.R_OK)
