"""The calibration schema (version 2): every rule, version-1 upgrade, JSON round trips, content hash, lookups.

The synthetic device (qbhw.hardware.synthetic) is the base of the crafted bad calibrations: each case changes one
field of its JSON and checks that loading fails with a message naming the file and the field path. Malformed
files of other shapes (not JSON, wrong types, file-system failures) are in test_hardware_files.py.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from qbhw.hardware import (
    KNOWN_SCHEMA_VERSIONS,
    SCHEMA_VERSION,
    CalibrationError,
    DeviceCalibration,
    GateCalibration,
    QubitCalibration,
    QubitCouplingCalibration,
    ResonatorCalibration,
    calibration_from_dict,
    calibration_hash,
    calibration_to_dict,
    dumps_calibration,
    load_calibration,
    read_calibration,
    save_calibration,
    synthetic_cavity_qed,
)

V1_FILE = Path(__file__).parent / "data" / "calibration_v1_synthetic_cqed.json"
# the keys schema version 2 added, per object
V2_DEVICE_KEYS = {"granularity", "min_length", "pulse_alignment", "acquire_alignment", "qubit_couplings"}
V2_QUBIT_KEYS = {"tunable_range_ghz", "flux_rise_ns"}
V2_RESONATOR_KEYS = {"role", "thermal_photons"}


def _write(tmp_path: Path, data: Any, name: str = "bad.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return p


def _base() -> dict[str, Any]:
    return calibration_to_dict(synthetic_cavity_qed())


# ------------------------------------------------------------------------------------------------ round trips


def test_python_built_calibration_round_trip(tmp_path: Path) -> None:
    cal = synthetic_cavity_qed()
    path = save_calibration(cal, tmp_path / "sub" / "x.json")
    assert load_calibration(path) == cal
    assert load_calibration(str(path)) == cal
    assert dumps_calibration(read_calibration(path)) == dumps_calibration(cal)
    assert calibration_from_dict(json.loads(dumps_calibration(cal))) == cal


def test_file_lists_every_key_of_schema_2() -> None:
    d = _base()
    assert d["schema_version"] == SCHEMA_VERSION == 2
    assert set(d) >= V2_DEVICE_KEYS
    assert set(d["qubits"][0]) >= V2_QUBIT_KEYS
    assert set(d["resonators"][0]) >= V2_RESONATOR_KEYS
    assert d["qubit_couplings"][0] == {"qubits": [0, 1], "j_mhz": 2.0}


def test_lists_and_tuples_are_normalised() -> None:
    cal = calibration_from_dict(_base())
    assert isinstance(cal.coupling_map, tuple) and all(isinstance(e, tuple) for e in cal.coupling_map)
    assert isinstance(cal.gates[0].qubits, tuple) and isinstance(cal.qubits[0].tunable_range_ghz, tuple)
    assert isinstance(cal.qubit_couplings[0].qubits, tuple)
    g = cal.gates[0]
    assert hash(g) == hash(GateCalibration(g.name, list(g.qubits), g.duration_ns, g.error))


# ------------------------------------------------------------------------------------------------ version 1


def test_version_1_file_loads_with_the_defaults_of_version_2() -> None:
    """A file written by the schema-1 code (the synthetic device as it was) still loads, upgraded in memory."""
    raw = json.loads(V1_FILE.read_text(encoding="utf-8"))
    assert raw["schema_version"] == 1 and not V2_DEVICE_KEYS & set(raw)
    cal = read_calibration(V1_FILE)
    assert cal.schema_version == SCHEMA_VERSION
    assert (cal.granularity, cal.min_length, cal.pulse_alignment, cal.acquire_alignment) == (1, 1, 1, 1)
    assert cal.qubit_couplings == ()
    assert all(q.tunable_range_ghz is None and q.flux_rise_ns is None for q in cal.qubits)
    assert all(r.role == "readout" and r.thermal_photons == 0.0 for r in cal.resonators)
    # every value of the file is kept
    for q, raw_q in zip(cal.qubits, raw["qubits"], strict=True):
        assert {k: getattr(q, k) for k in raw_q} == raw_q
    assert [[g.name, list(g.qubits), g.duration_ns, g.error] for g in cal.gates] == [
        [g["name"], g["qubits"], g["duration_ns"], g["error"]] for g in raw["gates"]
    ]
    assert cal.dt_ns == raw["dt_ns"] and cal.notes == tuple(raw["notes"])


def test_version_1_file_may_not_use_version_2_keys(tmp_path: Path) -> None:
    raw = json.loads(V1_FILE.read_text(encoding="utf-8"))
    raw["qubits"][2]["flux_rise_ns"] = 2.0
    with pytest.raises(CalibrationError) as info:
        load_calibration(_write(tmp_path, raw))
    assert info.value.field == "qubits[2].flux_rise_ns"
    assert "is not a key of schema version 1" in str(info.value) and "set schema_version to 2" in str(info.value)


def test_known_versions() -> None:
    assert KNOWN_SCHEMA_VERSIONS == (1, 2)
    with pytest.raises(CalibrationError, match="schema_version must be 2"):
        dataclasses.replace(synthetic_cavity_qed(), schema_version=1)


# ------------------------------------------------------------------------------------------------ content hash


def test_calibration_hash_is_the_content() -> None:
    cal = synthetic_cavity_qed()
    h = calibration_hash(cal)
    assert len(h) == 64 and int(h, 16) >= 0
    assert calibration_hash(synthetic_cavity_qed()) == h  # a separately built equal calibration
    assert calibration_hash(calibration_from_dict(json.loads(dumps_calibration(cal)))) == h
    # any change of content changes it, including a single note and a single float's last digit
    assert calibration_hash(dataclasses.replace(cal, notes=cal.notes + ("x",))) != h
    q0 = dataclasses.replace(cal.qubits[0], t1_us=cal.qubits[0].t1_us * (1 + 2**-52))
    assert calibration_hash(dataclasses.replace(cal, qubits=(q0,) + cal.qubits[1:])) != h


def test_calibration_hash_is_sha256_of_the_canonical_json() -> None:
    import hashlib

    cal = synthetic_cavity_qed()
    canonical = json.dumps(calibration_to_dict(cal), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert calibration_hash(cal) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------------ validation


def _set(d: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        d = d[key]
    d[path[-1]] = value


def _delete(d: dict[str, Any], path: tuple[Any, ...]) -> None:
    for key in path[:-1]:
        d = d[key]
    del d[path[-1]]


# (mutation path, new value, expected field path, expected words); value _DELETE removes the key.
# Base: synthetic_cqed (qubit 1: T1 = 50 us; qubit 0 tunable in [3.8, 5.0] GHz; gates sorted by name: 8 cz, then
# id, rz, sx, x per qubit; resonators 0-3 readout, 4-7 storage; dt = 0.5 ns, granularity 8, min_length 16).
_DELETE = object()
BAD_FIELDS = [
    (("qubits", 1, "t2_us"), 101.0, "qubits[1].t2_us", "must be <= 2*t1_us (got 101.0 > 2*50.0)"),
    (("qubits", 0, "t1_us"), 0.0, "qubits[0].t1_us", "must be a finite number > 0"),
    (("qubits", 0, "t1_us"), -5.0, "qubits[0].t1_us", "must be a finite number > 0"),
    (("qubits", 0, "t2_us"), 0.0, "qubits[0].t2_us", "must be a finite number > 0"),
    (("qubits", 0, "t1_us"), "100", "qubits[0].t1_us", "must be a finite real number (got '100')"),
    (("qubits", 0, "t1_us"), True, "qubits[0].t1_us", "must be a finite real number (got True)"),
    (("qubits", 0, "t1_us"), 1e300, "qubits[0].t1_us", "must be a number of magnitude <= 1e+18"),
    (("qubits", 2, "freq_ghz"), 0.0, "qubits[2].freq_ghz", "must be a finite number > 0"),
    (("qubits", 2, "freq_ghz"), -4.8, "qubits[2].freq_ghz", "must be a finite number > 0"),
    (("qubits", 0, "readout_p1_given_0"), 1.2, "qubits[0].readout_p1_given_0", "must be in [0, 1]"),
    (("qubits", 0, "readout_p0_given_1"), -0.1, "qubits[0].readout_p0_given_1", "must be in [0, 1]"),
    (("qubits", 3, "reset_error"), 2.0, "qubits[3].reset_error", "must be in [0, 1]"),
    (("qubits", 0, "excited_population"), 0.5, "qubits[0].excited_population", "must be in [0, 0.5)"),
    (("qubits", 0, "excited_population"), -1e-3, "qubits[0].excited_population", "must be in [0, 0.5)"),
    (("qubits", 0, "readout_duration_ns"), -1.0, "qubits[0].readout_duration_ns", "must be a finite number >= 0"),
    (("qubits", 1, "index"), 5, "qubits[1].index", "must be 1"),
    (("qubits", 1, "index"), -1, "qubits[1].index", "must be an integer >= 0"),
    (("qubits", 1, "index"), 1.0, "qubits[1].index", "must be an integer >= 0"),
    (("qubits", 0, "t1"), 100.0, "qubits[0].t1", "is not a known key; did you mean 't1_us'?"),
    (("qubits", 0, "t2_us"), _DELETE, "qubits[0].t2_us", "is missing"),
    (("qubits",), [], "qubits", "must list at least one qubit"),
    (("qubits", 0, "tunable_range_ghz"), [5.2, 4.0], "qubits[0].tunable_range_ghz", "with min < max"),
    (("qubits", 0, "tunable_range_ghz"), [3.0], "qubits[0].tunable_range_ghz", "must be a pair [min, max]"),
    (("qubits", 0, "tunable_range_ghz"), [0.0, 5.0], "qubits[0].tunable_range_ghz[0]", "must be a finite number > 0"),
    (("qubits", 0, "freq_ghz"), 5.5, "qubits[0].freq_ghz", "must lie in tunable_range_ghz [3.8, 5]"),
    (("qubits", 0, "tunable_range_ghz"), None, "qubits[0].flux_rise_ns", "must be null for a fixed-frequency"),
    (("qubits", 0, "flux_rise_ns"), -1.0, "qubits[0].flux_rise_ns", "must be a finite number >= 0"),
    (("qubits", 1, "reset_duration_ns"), 499.9, "qubits[1].reset_duration_ns", "must be a whole number of samples"),
    (("gates", 0, "duration_ns"), -1.0, "gates[0].duration_ns", "must be a finite number >= 0"),
    (("gates", 0, "duration_ns"), 50.0, "gates[0].duration_ns", "must be a multiple of granularity = 8 samples"),
    (("gates", 0, "duration_ns"), 4.0, "gates[0].duration_ns", "must be at least min_length = 16 samples"),
    (("gates", 0, "error"), 0.9, "gates[0].error", "must be in [0, 0.8]"),
    (("gates", 8, "error"), 0.7, "gates[8].error", "must be in [0, 0.666667]"),
    (("gates", 0, "qubits"), [0, 7], "gates[0].qubits", "must be existing qubits"),
    (("gates", 0, "qubits"), [0, 2], "gates[0].qubits", "must be an edge of coupling_map"),
    (("gates", 0, "qubits"), [0, 0], "gates[0].qubits", "must be distinct qubits"),
    (("gates", 0, "name"), "cx", "gates[0].name", "must be one of basis_gates"),
    (("gates", 8, "qubits"), [0, 1], "gates[8].qubits", "must list 1 qubit(s) for 'id'"),
    (("gates", 0, "speed"), 1.0, "gates[0].speed", "is not a known key"),
    (("gates", 1), {"name": "cz", "qubits": [0, 1], "duration_ns": 48.0, "error": 0.005}, "gates[1]", "duplicates"),
    (("basis_gates", 0), "cnot", "basis_gates[0]", "must be a Qiskit standard gate name"),
    (("basis_gates",), ["cz", "id", "rz", "sx", "x", "x"], "basis_gates[5]", "is listed twice"),
    (("basis_gates",), ["cz", "id", "rz", "sx", "x", "h"], "gates", "has no 'h' calibration"),
    (("coupling_map", 0), [0, 9], "coupling_map[0]", "must join existing qubits"),
    (("coupling_map", 0), [1, 1], "coupling_map[0]", "must join two different qubits"),
    (("coupling_map", 1), [0, 1], "coupling_map[1]", "is listed twice"),
    (("coupling_map", 0), [0, 1, 2], "coupling_map[0]", "must be a pair"),
    (("resonators", 0, "qubit"), 9, "resonators[0].qubit", "must be an existing qubit"),
    (("resonators", 1, "kappa_mhz"), -1.0, "resonators[1].kappa_mhz", "must be a finite number >= 0"),
    (("resonators", 0, "freq_ghz"), 0.0, "resonators[0].freq_ghz", "must be a finite number > 0"),
    (("resonators", 2, "index"), 0, "resonators[2].index", "must be 2"),
    (("resonators", 0, "kappa"), 0.2, "resonators[0].kappa", "did you mean 'kappa_mhz'?"),
    (("resonators", 4, "role"), "memory", "resonators[4].role", "must be one of 'readout', 'storage', 'bus'"),
    (("resonators", 4, "thermal_photons"), -0.1, "resonators[4].thermal_photons", "must be a finite number >= 0"),
    (("qubit_couplings", 0, "qubits"), [0, 0], "qubit_couplings[0].qubits", "must be two different qubits"),
    (("qubit_couplings", 0, "qubits"), [0, 9], "qubit_couplings[0].qubits", "must be existing qubits"),
    (("qubit_couplings", 0, "qubits"), [0, 1, 2], "qubit_couplings[0].qubits", "must be a pair [a, b]"),
    (("qubit_couplings", 1, "qubits"), [1, 0], "qubit_couplings[1]", "duplicates another coupling of qubits [0, 1]"),
    (("qubit_couplings", 0, "j_mhz"), "2", "qubit_couplings[0].j_mhz", "must be a finite real number"),
    (("qubit_couplings", 0, "j"), 2.0, "qubit_couplings[0].j", "did you mean 'j_mhz'?"),
    (("qubit_couplings", 0, "j_mhz"), _DELETE, "qubit_couplings[0].j_mhz", "is missing"),
    (("schema_version",), 99, "schema_version", "must be one of [1, 2]"),
    (("schema_version",), "2", "schema_version", "must be one of [1, 2]"),
    (("schema_version",), True, "schema_version", "must be one of [1, 2]"),
    (("schema_version",), _DELETE, "schema_version", "is missing"),
    (("date",), "yesterday", "date", "must be an ISO 8601 date"),
    (("name",), "a/b", "name", "must be at most 100 letters"),
    (("name",), "x" * 101, "name", "must be at most 100 letters"),
    (("source",), "", "source", "must be a non-empty string"),
    (("dt_ns",), 0.0, "dt_ns", "must be a finite number > 0"),
    (("dt_ns",), 0.3, "qubits[0].readout_duration_ns", "must be a whole number of samples of dt_ns = 0.3"),
    (("dt_ns",), None, "granularity", "must be 1 when dt_ns is null"),
    (("granularity",), 0, "granularity", "must be an integer in [1, 65536]"),
    (("granularity",), 2.0, "granularity", "must be an integer in [1, 65536]"),
    (("pulse_alignment",), True, "pulse_alignment", "must be an integer in [1, 65536]"),
    (("granularity",), 3, "qubits[0].readout_duration_ns", "must be a multiple of granularity = 3 samples"),
    (("min_length",), 200, "gates[0].duration_ns", "must be at least min_length = 200 samples"),
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
    assert "\n" not in str(e)


def test_missing_one_qubit_gate_calibration(tmp_path: Path) -> None:
    d = _base()
    d["gates"] = [g for g in d["gates"] if not (g["name"] == "sx" and g["qubits"] == [2])]
    with pytest.raises(CalibrationError, match=r"bad\.json: gates has no 'sx' calibration for qubit\(s\) \[2\]"):
        load_calibration(_write(tmp_path, d))


def test_python_construction_names_the_field() -> None:
    with pytest.raises(CalibrationError) as info:
        QubitCalibration(0, 5.0, -0.3, 100.0, 250.0, 0.01, 0.02, 0.0, 0.01)
    assert info.value.field == "t2_us" and info.value.file is None
    assert str(info.value) == "t2_us must be <= 2*t1_us (got 250.0 > 2*100.0)"
    cal = synthetic_cavity_qed()
    with pytest.raises(CalibrationError, match=r"gates\[0\]\.qubits must be an edge of coupling_map"):
        dataclasses.replace(cal, coupling_map=cal.coupling_map[2:])
    with pytest.raises(CalibrationError, match="role must be one of"):
        ResonatorCalibration(0, 5.0, 0.1, 10.0, 0, role="storge")
    with pytest.raises(CalibrationError, match="qubits must be two different qubits"):
        QubitCouplingCalibration((1, 1), 2.0)


def test_durations_without_dt_are_free() -> None:
    """Without dt_ns nothing is counted in samples: any duration is allowed and the constraints must be 1."""
    cal = synthetic_cavity_qed()
    free = dataclasses.replace(cal, dt_ns=None, granularity=1, min_length=1, pulse_alignment=1, acquire_alignment=1)
    odd = dataclasses.replace(free.gates[0], duration_ns=47.3)
    assert dataclasses.replace(free, gates=(odd,) + free.gates[1:]).gates[0].duration_ns == 47.3


# ------------------------------------------------------------------------------------------------ lookups


def test_gate_lookup() -> None:
    cal = synthetic_cavity_qed()
    assert cal.gate("cz", (2, 3)).error == 8.0e-3
    with pytest.raises(CalibrationError, match="has no gate 'cz' on qubits \\[0, 2\\]"):
        cal.gate("cz", [0, 2])


def test_resonator_and_coupling_lookups() -> None:
    cal = synthetic_cavity_qed()
    storage = cal.resonators_of(2, role="storage")
    assert len(storage) == 1 and storage[0].qubit == 2 and storage[0].role == "storage"
    assert [r.role for r in cal.resonators_of(2)] == ["readout", "storage"]
    assert cal.qubit_coupling(1, 0) is cal.qubit_coupling(0, 1) is not None
    assert cal.qubit_coupling(0, 2) is None
    with pytest.raises(CalibrationError, match="role must be one of"):
        cal.resonators_of(0, role="memory")
    assert isinstance(cal, DeviceCalibration) and cal.qubits[0].tunable and cal.num_qubits == 4
