"""Bundles on disk (qbhw.experiments.bundle): QPY and OpenQASM 3 round trips of ISA circuits on a large device's
physical qubits, the manifest's schema, sha256 verification, and the counts format.

Runs in both environments (qiskit 2.x and 1.3.0). Reading OpenQASM 3 needs qiskit-qasm3-import, which only the
default environment has; those tests are skipped in the pulse environment.
"""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pytest

from qbhw.errors import QbhwError
from qbhw.experiments.bundle import (
    COUNTS_FILE,
    JOBS_FILE,
    MANIFEST_FILE,
    PORTABLE_QPY_VERSION,
    QPY_FILE,
    SCHEMA_VERSION,
    SEAL_FILE,
    SECTIONS,
    BundleCounts,
    CircuitCounts,
    Manifest,
    RegisterCounts,
    RegisterSpec,
    check_counts,
    dump_counts,
    library_versions,
    load_counts,
    read_bundle,
    read_manifest,
    verify_bundle,
    verify_collection,
    write_bundle,
    write_collection,
)

HAS_QASM3_IMPORT = importlib.util.find_spec("qiskit_qasm3_import") is not None
needs_qasm3_import = pytest.mark.skipif(
    not HAS_QASM3_IMPORT, reason="reading OpenQASM 3 needs qiskit-qasm3-import (not in the pulse environment)"
)

#: qiskit's OpenQASM 3 exporter writes an angle symbolically (pi/2, 3*pi/7, 0) when it lies within pi_check's
#: eps = 1e-9 of a fraction p/q in units of pi (so within pi*1e-9 rad), of p/(q*pi), or of 0; that is the largest
#: change a round trip can make to an angle
QASM3_ANGLE_TOLERANCE = math.pi * 1e-9


def sections(**overrides):
    out = {name: {} for name in SECTIONS}
    out.update(overrides)
    return out


def _torino_target():
    from qbhw.hardware import load_calibration, transpile_target

    return transpile_target(load_calibration("fake_torino"))


@pytest.fixture(scope="module")
def isa_circuits():
    """Collision-like circuits transpiled onto fake_torino's 133 physical qubits (high indices), with a mid-circuit
    measurement into its own register, a mid-circuit reset, delays given in ns, us and dt (the transpiler turns them
    into dt), barriers, and a small hand-built circuit with dt delays, no layout and a global phase."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile

    target = _torino_target()
    qr = QuantumRegister(3, "q")
    anc = ClassicalRegister(1, "anc")
    tomo = ClassicalRegister(2, "tomo")
    qc = QuantumCircuit(qr, anc, tomo, name="collision_k2")
    qc.h(0)
    qc.cx(0, 1)
    qc.barrier()
    qc.delay(100, 0, unit="ns")
    qc.delay(8, 1, unit="dt")
    qc.delay(1, 2, unit="us")
    qc.measure(2, anc[0])
    qc.reset(2)
    qc.rx(0.3, 2)
    qc.ry(1.234567890123, 1)
    qc.cx(2, 1)
    qc.barrier()
    qc.measure(0, tomo[0])
    qc.measure(1, tomo[1])
    qc.metadata = {"setting": "XZ", "collisions": 2, "angle": 0.3, "qubits": [100, 101, 102]}
    first = transpile(qc, target=target, initial_layout=[100, 101, 102], optimization_level=1, seed_transpiler=11)

    other = QuantumCircuit(QuantumRegister(2, "r"), ClassicalRegister(2, "tomo"), name="readout.cal-01")
    other.x(1)
    other.reset(0)
    other.measure([0, 1], [0, 1])
    second = transpile(other, target=target, initial_layout=[120, 121], optimization_level=1, seed_transpiler=11)

    hand = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(1, "m"), name="hand_delays", global_phase=0.25)
    hand.delay(40, 0, unit="dt")
    hand.delay(7, 1)
    hand.x(0)
    hand.reset(1)
    hand.measure(0, 0)
    return [first, second, hand]


@pytest.fixture
def bundle(tmp_path, isa_circuits):
    directory = tmp_path / "bundle"
    manifest = write_bundle(directory, isa_circuits, sections(model={"name": "charger"}), shots=[1000, 512, 64])
    return directory, manifest


# ------------------------------------------------------------------------------------------------ QPY


def test_fixture_is_what_the_round_trips_claim_to_cover(isa_circuits):
    first, _, hand = isa_circuits
    assert first.num_qubits == 133 and first.layout is not None
    ops = first.count_ops()
    assert ops["reset"] == 1 and ops["barrier"] == 2 and ops["delay"] == 3 and ops["measure"] == 3
    # the transpiler turned every delay into dt on this target (dt = 4 ns): 100 ns -> 25, 1 us -> 250
    delays = sorted(i.operation.duration for i in first.data if i.operation.name == "delay")
    assert delays == [8, 25, 250]
    assert {i.operation.unit for i in first.data if i.operation.name == "delay"} == {"dt"}
    assert {first.find_bit(q).index for i in first.data for q in i.qubits} == {100, 101, 102}
    assert [(r.name, r.size) for r in first.cregs] == [("anc", 1), ("tomo", 2)]
    assert {i.operation.unit for i in hand.data if i.operation.name == "delay"} == {"dt"}
    assert hand.layout is None and hand.global_phase == 0.25


def _physical(qc):
    """Physical qubits of the circuit's virtual qubits (ancillas dropped), in virtual order, from its layout."""
    virtual = qc.layout.initial_virtual_layout(filter_ancillas=True).get_physical_bits()
    order = qc.layout.input_qubit_mapping
    return [p for p, _ in sorted(virtual.items(), key=lambda item: order[item[1]])]


def test_qpy_round_trip_equals_the_originals_with_layout(bundle, isa_circuits):
    directory, written = bundle
    manifest, circuits = read_bundle(directory)
    assert manifest == written
    assert len(circuits) == len(isa_circuits)
    for back, original in zip(circuits, isa_circuits, strict=True):
        assert back == original
        assert back.name == original.name
        assert back.layout == original.layout
        assert back.metadata == original.metadata
        assert back.global_phase == original.global_phase
    assert _physical(circuits[0]) == [100, 101, 102]
    assert _physical(circuits[1]) == [120, 121]


def test_manifest_records_circuits_registers_shots_and_portable_qpy(bundle):
    import qiskit

    directory, manifest = bundle
    assert manifest.circuit_names == ("collision_k2", "readout.cal-01", "hand_delays")
    assert manifest.shots == {"collision_k2": 1000, "readout.cal-01": 512, "hand_delays": 64}
    assert manifest.circuits[0].registers == (RegisterSpec("anc", 1), RegisterSpec("tomo", 2))
    assert manifest.circuits[0].num_qubits == 133
    # both environments write QPY version 13, which qiskit 1.3.0 and 2.x read
    assert manifest.qpy == {"file": QPY_FILE, "version": PORTABLE_QPY_VERSION, "qiskit": qiskit.__version__}
    assert (directory / QPY_FILE).read_bytes()[6] == PORTABLE_QPY_VERSION  # QPY header: b"QISKIT" + version byte
    on_disk = json.loads((directory / MANIFEST_FILE).read_text())
    assert on_disk["schema_version"] == SCHEMA_VERSION == 1
    assert [f["path"] for f in on_disk["files"]] == [
        "circuits.qpy",
        "qasm3/collision_k2.qasm",
        "qasm3/readout.cal-01.qasm",
        "qasm3/hand_delays.qasm",
    ]
    assert on_disk["model"] == {"name": "charger"}


def test_if_test_circuit_round_trips_through_qpy(tmp_path):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 2, name="feedback")
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    write_bundle(tmp_path / "b", [qc], sections(), shots=10)
    _, (back,) = read_bundle(tmp_path / "b")
    assert back == qc


# ------------------------------------------------------------------------------------------------ OpenQASM 3


def _view(qc):
    """What OpenQASM 3 carries, per instruction: name, physical qubit indices, (register, index) of each clbit,
    parameters (delay: duration) and delay unit."""
    out = []
    for inst in qc.data:
        op = inst.operation
        clbits = tuple((qc.find_bit(c).registers[0][0].name, qc.find_bit(c).registers[0][1]) for c in inst.clbits)
        out.append(
            (
                op.name,
                tuple(qc.find_bit(q).index for q in inst.qubits),
                clbits,
                tuple(float(p) for p in op.params),
                getattr(op, "unit", None) if op.name == "delay" else None,
            )
        )
    return out


@needs_qasm3_import
def test_qasm3_round_trip_keeps_instructions_and_loses_exactly_the_documented(bundle, isa_circuits):
    from qiskit import qasm3

    directory, manifest = bundle
    for spec, original in zip(manifest.circuits, isa_circuits, strict=True):
        loaded = qasm3.loads((directory / spec.qasm3).read_text())
        used = {original.find_bit(q).index for inst in original.data for q in inst.qubits}
        if original.layout is not None:
            # a circuit on physical qubits ($100): the width is the largest index used + 1, not the device's; no
            # quantum register is declared
            assert loaded.num_qubits == max(used) + 1 < original.num_qubits
            assert not loaded.qregs
        else:
            # a circuit on virtual qubits keeps its width and quantum registers
            assert loaded.num_qubits == original.num_qubits
            assert [(r.name, r.size) for r in loaded.qregs] == [(r.name, r.size) for r in original.qregs]
        # layout: not carried (the importer's layout, if any, is the identity on the loaded width)
        if loaded.layout is not None:
            assert all(loaded.layout.initial_layout[q] == i for i, q in enumerate(loaded.qubits))
        # classical registers, instructions on physical qubits, clbits, delays and their units: kept
        assert [(r.name, r.size) for r in loaded.cregs] == [(r.name, r.size) for r in original.cregs]
        got, want = _view(loaded), _view(original)
        assert [g[:3] + g[4:] for g in got] == [w[:3] + w[4:] for w in want]
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g[3], w[3], rtol=0, atol=QASM3_ANGLE_TOLERANCE)
        # name, metadata and global phase: not carried
        assert loaded.name != original.name
        assert loaded.metadata == {}
        assert loaded.global_phase == 0
    assert isa_circuits[0].global_phase != 0 and isa_circuits[2].global_phase != 0  # so the phase loss is tested


@needs_qasm3_import
def test_qasm3_snaps_angles_near_fractions_of_pi_and_keeps_the_others_exactly():
    from qiskit import QuantumCircuit, qasm3

    qc = QuantumCircuit(1)
    angles = [math.pi / 2 + 3e-9, 3 * math.pi / 7, 0.1 + 1e-17, 1.234567890123, 5e-10]
    for a in angles:
        qc.rz(a, 0)
    back = [i.operation.params[0] for i in qasm3.loads(qasm3.dumps(qc)).data]
    assert back[0] == math.pi / 2 and back[0] != angles[0]  # snapped, by less than pi*1e-9
    assert abs(back[0] - angles[0]) < QASM3_ANGLE_TOLERANCE
    assert back[1] == 3 * math.pi / 7
    assert back[2] == angles[2] and back[3] == angles[3]  # plain floats: exact
    assert back[4] == 0.0


@needs_qasm3_import
def test_qasm3_gate_outside_stdgates_comes_back_as_a_custom_gate_up_to_global_phase(tmp_path):
    from qiskit import QuantumCircuit, qasm3, transpile
    from qiskit.circuit.library import ECRGate
    from qiskit.quantum_info import Operator

    from qbhw.hardware import load_calibration, transpile_target

    target = transpile_target(load_calibration("fake_brisbane"))
    qc = QuantumCircuit(2, 2, name="ecr_pair")
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    isa = transpile(qc, target=target, initial_layout=[0, 1], optimization_level=1, seed_transpiler=3)
    assert "ecr" in isa.count_ops()
    write_bundle(tmp_path / "b", [isa], sections(), shots=100)
    loaded = qasm3.loads((tmp_path / "b" / "qasm3" / "ecr_pair.qasm").read_text())
    ecr = next(i.operation for i in loaded.data if i.operation.name == "ecr")
    assert not isinstance(ecr, ECRGate)
    assert Operator(ecr).equiv(Operator(ECRGate()))  # equal up to a global phase ...
    assert Operator(ecr) != Operator(ECRGate())  # ... which the exported definition lost
    _, (back,) = read_bundle(tmp_path / "b")
    assert back == isa  # the QPY copy keeps the real ECR gate


@needs_qasm3_import
def test_qasm3_if_block_round_trips(tmp_path):
    from qiskit import QuantumCircuit, qasm3

    qc = QuantumCircuit(2, 2, name="feedback")
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    write_bundle(tmp_path / "b", [qc], sections(), shots=10)
    loaded = qasm3.loads((tmp_path / "b" / "qasm3" / "feedback.qasm").read_text())
    assert loaded.count_ops() == {"h": 1, "measure": 2, "if_else": 1}
    block = next(i.operation for i in loaded.data if i.operation.name == "if_else")
    assert block.blocks[0].count_ops() == {"x": 1}


# ------------------------------------------------------------------------------------------------ write refusals


@pytest.mark.parametrize(("duration", "unit"), [(250, "ns"), (2.5, "us"), (1e-7, "s")])
def test_delays_not_in_dt_are_refused(tmp_path, duration, unit):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 1, name="d")
    qc.delay(duration, 1, unit=unit)
    qc.measure(0, 0)
    with pytest.raises(
        QbhwError, match=rf"delay of {duration:g}(\.0)? {unit} on qubit 1; bundle circuits need delays in dt"
    ):
        write_bundle(tmp_path / "b", [qc], sections(), shots=10)
    assert not (tmp_path / "b").exists()


def test_qpy_still_reads_every_delay_unit_back_as_dt():
    """The reason for the refusal above (qiskit issue #8293). If this fails, the installed qiskit's QPY keeps delay
    units and the refusal in write_bundle can be relaxed for it."""
    import io

    from qiskit import QuantumCircuit, qpy

    qc = QuantumCircuit(1)
    qc.delay(250, 0, unit="ns")
    buf = io.BytesIO()
    qpy.dump(qc, buf)
    buf.seek(0)
    back = qpy.load(buf)[0]
    assert (back.data[0].operation.duration, back.data[0].operation.unit) == (250, "dt")


def test_existing_non_empty_directory_is_refused_and_left_alone(tmp_path, isa_circuits):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(QbhwError, match="already exists and is not an empty directory"):
        write_bundle(tmp_path, isa_circuits, sections(), shots=10)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    # an empty directory is fine
    (tmp_path / "empty").mkdir()
    write_bundle(tmp_path / "empty", isa_circuits[:1], sections(), shots=10)
    assert (tmp_path / "empty" / MANIFEST_FILE).is_file()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a/b", "not file-system safe"),
        ("../up", "not file-system safe"),
        ("", "not file-system safe"),
        ("trailing.", "not file-system safe"),
        ("x" * 101, "not file-system safe"),
    ],
)
def test_unsafe_circuit_names_are_refused(tmp_path, name, message):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(1, 1, name="ok")
    qc.measure(0, 0)
    qc.name = name
    with pytest.raises(QbhwError, match=message):
        write_bundle(tmp_path / "b", [qc], sections(), shots=10)
    assert not (tmp_path / "b").exists()


def test_duplicate_names_ignoring_case_are_refused(tmp_path):
    from qiskit import QuantumCircuit

    a = QuantumCircuit(1, 1, name="Setting_X")
    a.measure(0, 0)
    b = a.copy(name="setting_x")
    with pytest.raises(QbhwError, match="unique, also ignoring case"):
        write_bundle(tmp_path / "b", [a, b], sections(), shots=10)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"k": np.int64(3)}, r"metadata\['k'\] is a numpy.int64"),
        ({"qubits": (1, 2)}, r"metadata\['qubits'\] is a builtins.tuple"),
        ({"nested": {"x": [1, np.float32(0.5)]}}, r"metadata\['nested'\]\['x'\]\[1\] is a numpy.float32"),
        ({"bad": float("nan")}, "must be a finite number"),
        ({3: "int key"}, "must have string keys"),
    ],
)
def test_metadata_must_be_plain_json(tmp_path, metadata, message):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(1, 1, name="m")
    qc.measure(0, 0)
    qc.metadata = metadata
    with pytest.raises(QbhwError, match=message):
        write_bundle(tmp_path / "b", [qc], sections(), shots=10)
    assert not (tmp_path / "b").exists()


def test_registers_must_hold_every_clbit_once_under_an_identifier(tmp_path):
    from qiskit import ClassicalRegister, QuantumCircuit
    from qiskit.circuit import Clbit

    loose = QuantumCircuit(2, name="loose")
    loose.add_register(ClassicalRegister(1, "m"))
    loose.add_bits([Clbit()])
    loose.measure(0, 0)
    loose.measure(1, 1)
    with pytest.raises(QbhwError, match="belong to no classical register"):
        write_bundle(tmp_path / "a", [loose], sections(), shots=10)
    keyword = QuantumCircuit(1, name="kw")
    keyword.add_register(ClassicalRegister(1, "if"))
    keyword.measure(0, 0)
    with pytest.raises(QbhwError, match="must be a Python identifier and not a keyword"):
        write_bundle(tmp_path / "b", [keyword], sections(), shots=10)
    unmeasured = QuantumCircuit(1, name="none")
    with pytest.raises(QbhwError, match="no classical register"):
        write_bundle(tmp_path / "c", [unmeasured], sections(), shots=10)


def test_unbound_parameters_are_refused(tmp_path):
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    qc = QuantumCircuit(1, 1, name="p")
    qc.rx(Parameter("theta"), 0)
    qc.measure(0, 0)
    with pytest.raises(QbhwError, match="unbound parameters"):
        write_bundle(tmp_path / "b", [qc], sections(), shots=10)


def test_sections_must_be_exactly_the_known_ones_and_json(tmp_path, isa_circuits):
    qcs = isa_circuits[:1]
    with pytest.raises(QbhwError, match=r"unknown: \['modle'\]"):
        write_bundle(tmp_path / "a", qcs, {**sections(), "modle": {}}, shots=10)
    partial = sections()
    del partial["seeds"]
    with pytest.raises(QbhwError, match=r"missing: \['seeds'\]"):
        write_bundle(tmp_path / "b", qcs, partial, shots=10)
    with pytest.raises(QbhwError, match=r"predictions\['noisy'\]\['ergotropy'\] must be a finite number"):
        write_bundle(tmp_path / "c", qcs, sections(predictions={"noisy": {"ergotropy": float("nan")}}), shots=10)
    with pytest.raises(QbhwError, match="must be JSON data"):
        write_bundle(tmp_path / "d", qcs, sections(model={"params": object()}), shots=10)
    assert not any(tmp_path.iterdir())
    # tuples and numpy scalars are stored as JSON lists and numbers
    m = write_bundle(
        tmp_path / "e",
        qcs,
        sections(layout={"qubits": (100, 101)}, predictions={"w": np.float64(0.25), "k": np.int64(3)}),
        shots=10,
    )
    assert m.sections["layout"] == {"qubits": [100, 101]}
    assert m.sections["predictions"] == {"w": 0.25, "k": 3}
    assert type(m.sections["predictions"]["k"]) is int


@pytest.mark.parametrize(
    ("shots", "message"),
    [(0, ">= 1"), ([10, 10], "one per circuit"), (10**7, "<= 1000000"), (2.5, "integer"), (True, "integer")],
)
def test_shots_are_checked(tmp_path, isa_circuits, shots, message):
    with pytest.raises(QbhwError, match=message):
        write_bundle(tmp_path / "b", isa_circuits, sections(), shots=shots)


# ------------------------------------------------------------------------------------------------ verification


def test_tampered_file_is_named(bundle):
    directory, _ = bundle
    path = directory / "qasm3" / "collision_k2.qasm"
    path.write_text(path.read_text().replace("rz(pi/2)", "rz(pi/4)", 1))
    with pytest.raises(QbhwError, match=r"collision_k2\.qasm: does not match its sha256") as info:
        read_bundle(directory)
    assert "\n" not in str(info.value)


def test_tampered_qpy_is_named(bundle):
    directory, _ = bundle
    data = bytearray((directory / QPY_FILE).read_bytes())
    data[-1] ^= 1
    (directory / QPY_FILE).write_bytes(bytes(data))
    with pytest.raises(QbhwError, match=r"circuits\.qpy: does not match its sha256"):
        read_bundle(directory)


def test_missing_and_extra_files_are_named(bundle):
    directory, _ = bundle
    (directory / "qasm3" / "notes.txt").write_text("x")
    with pytest.raises(QbhwError, match=r"qasm3/notes\.txt: not part of the bundle"):
        read_bundle(directory)
    (directory / "qasm3" / "notes.txt").unlink()
    (directory / "qasm3" / "hand_delays.qasm").unlink()
    with pytest.raises(QbhwError, match=r"hand_delays\.qasm: missing from the bundle"):
        read_bundle(directory)


def test_later_files_do_not_break_verification(bundle):
    directory, manifest = bundle
    (directory / JOBS_FILE).write_text("{}")
    (directory / COUNTS_FILE).write_text("{}")
    assert read_bundle(directory)[0] == manifest


def test_missing_manifest_is_an_incomplete_bundle(bundle):
    directory, _ = bundle
    (directory / MANIFEST_FILE).unlink()
    with pytest.raises(QbhwError, match="not a complete bundle"):
        read_bundle(directory)
    with pytest.raises(QbhwError, match="no such bundle directory"):
        read_bundle(directory / "nowhere")


def _rewrite_manifest(directory, change):
    data = json.loads((directory / MANIFEST_FILE).read_text())
    change(data)
    (directory / MANIFEST_FILE).write_text(json.dumps(data))


def test_other_schema_version_is_refused(bundle):
    directory, _ = bundle
    _rewrite_manifest(directory, lambda d: d.update(schema_version=2))
    with pytest.raises(QbhwError, match="schema_version 2; this qbhw reads schema_version 1") as info:
        read_bundle(directory)
    assert str(info.value).startswith(str(directory / MANIFEST_FILE))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(extra_key=1), "unknown key"),
        (lambda d: d.pop("seeds"), "lacks key"),
        (lambda d: d.pop("schema_version"), "lacks key"),
        (lambda d: d.update(format="other"), "format must be"),
        (lambda d: d["circuits"][0].update(shots=0), r"circuits\[0\]\.shots must be an integer >= 1"),
        (lambda d: d["files"][0].update(sha256="XYZ"), "64 lowercase hex"),
        (lambda d: d["files"][1].update(path="../../etc/passwd"), "relative path inside the bundle"),
        (lambda d: d["files"].pop(), "must list circuits.qpy and each circuit's qasm3 file"),
    ],
)
def test_malformed_manifest_is_refused_in_one_line(bundle, change, message):
    directory, _ = bundle
    _rewrite_manifest(directory, change)
    with pytest.raises(QbhwError, match=message) as info:
        read_manifest(directory)
    assert "\n" not in str(info.value)


def test_manifest_that_is_not_json_is_named(bundle):
    directory, _ = bundle
    (directory / MANIFEST_FILE).write_text('{"schema_version": NaN}')
    with pytest.raises(QbhwError, match="manifest.json: not valid JSON"):
        read_bundle(directory)


def test_manifest_dict_round_trip_and_content_hash(bundle):
    _, manifest = bundle
    again = Manifest.from_dict(json.loads(json.dumps(manifest.to_dict())))
    assert again == manifest
    assert again.content_hash() == manifest.content_hash()
    assert len(manifest.content_hash()) == 64
    assert manifest.job_tag() == "qbhw-bundle-" + manifest.content_hash()[:16]
    changed = Manifest.from_dict({**manifest.to_dict(), "seeds": {"transpile": 1}})
    assert changed.content_hash() != manifest.content_hash()


def test_library_versions_name_the_installed_packages():
    import qiskit

    v = library_versions()
    assert v["qiskit"] == qiskit.__version__
    assert set(v) == {"python", "qbhw", "qiskit", "qiskit-aer", "qiskit-ibm-runtime", "qiskit-qasm3-import"}


# ------------------------------------------------------------------------------------------------ counts


def _counts():
    anc = RegisterCounts.from_memory(["0", "1", "1", "0", "1"], 1)
    tomo = RegisterCounts.from_memory(["01", "01", "10", "00", "01"], 2)
    return CircuitCounts(5, {"anc": anc, "tomo": tomo})


def test_counts_round_trip_through_the_file(tmp_path):
    counts = BundleCounts({"c0": _counts(), "c1": CircuitCounts(3, {"m": RegisterCounts(1, {"0": 1, "1": 2})})})
    path = dump_counts(counts, tmp_path / "counts.json")
    back = load_counts(path)
    assert back.to_dict() == counts.to_dict()
    raw = json.loads(path.read_text())
    assert raw["format"] == "qbhw-counts/1"
    assert raw["circuits"]["c0"]["registers"]["tomo"] == {
        "num_bits": 2,
        "counts": {"00": 1, "01": 3, "10": 1},
        "memory": ["01", "01", "10", "00", "01"],
    }
    assert "memory" not in raw["circuits"]["c1"]["registers"]["m"]


def test_joint_counts_follow_qiskit_key_order():
    # Qiskit's get_counts puts the last register leftmost: "tomo anc"
    assert _counts().joint_counts() == {"01 0": 1, "01 1": 2, "10 1": 1, "00 0": 1}
    single = CircuitCounts(3, {"m": RegisterCounts(1, {"0": 1, "1": 2})})
    assert single.joint_counts() == {"0": 1, "1": 2}
    no_memory = CircuitCounts(2, {"a": RegisterCounts(1, {"0": 2}), "b": RegisterCounts(1, {"1": 2})})
    with pytest.raises(QbhwError, match="need per-shot memory"):
        no_memory.joint_counts()


def test_joint_counts_feed_the_tomography_data():
    from qbhw.tomography import TomographyData

    data = TomographyData(settings=("ZZ",), counts=(_counts().joint_counts(),))
    # the leftmost group is the tomography register: 00 once, 01 three times, 10 once
    assert data.array.sum() == 5
    assert sorted(data.array[0].tolist()) == [0, 1, 1, 3]


def _doc(shots, register, **top):
    return {"format": "qbhw-counts/1", **top, "circuits": {"c": {"shots": shots, "registers": {"m": register}}}}


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"format": "qbhw-counts/2", "circuits": {}}, "format must be 'qbhw-counts/1'"),
        ({"format": "qbhw-counts/1", "circuits": {}, "extra": 1}, "unknown key"),
        ({"format": "qbhw-counts/1"}, "lacks key"),
        (
            _doc(3, {"num_bits": 1, "counts": {"0": 2}}),
            r"circuits\['c'\]: register 'm' counts sum to 2, not to shots = 3",
        ),
        (_doc(2, {"num_bits": 2, "counts": {"0": 2}}), "counts key '0' is not a string of 2 characters"),
        (_doc(2, {"num_bits": 1, "counts": {"1": -1, "0": 3}}), "must be an integer >= 0"),
        (_doc(2, {"num_bits": 1, "counts": {"0": 2}, "memory": ["0", "1"]}), "do not equal the tally of memory"),
        (_doc(1, {"num_bits": 1, "counts": {"0": 1}}, bundle="abc"), "manifest content hash"),
        (_doc(1, {"num_bits": 1, "counts": {"0": 1}, "shots": 1}), "unknown key"),
    ],
)
def test_malformed_counts_are_refused_in_one_line_naming_the_file(tmp_path, obj, message):
    path = tmp_path / "counts.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(QbhwError, match=message) as info:
        load_counts(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_counts_file_that_is_not_json_is_named(tmp_path):
    path = tmp_path / "counts.json"
    path.write_text("{not json")
    with pytest.raises(QbhwError, match="counts.json: not valid JSON"):
        load_counts(path)
    with pytest.raises(QbhwError, match="no such file"):
        load_counts(tmp_path / "missing.json")


def _counts_for(manifest, shots=None):
    out = {}
    for spec in manifest.circuits:
        n = spec.shots if shots is None else shots
        out[spec.name] = CircuitCounts(
            n, {r.name: RegisterCounts(r.num_bits, {"0" * r.num_bits: n}) for r in spec.registers}
        )
    return out


def test_check_counts_accepts_matching_counts_and_names_every_mismatch(bundle):
    _, manifest = bundle
    good = _counts_for(manifest)
    check_counts(manifest, BundleCounts(good))
    check_counts(manifest, BundleCounts(good, bundle=manifest.content_hash()))
    with pytest.raises(QbhwError, match="belong to another bundle"):
        check_counts(manifest, BundleCounts(good, bundle="0" * 64))
    with pytest.raises(QbhwError, match="the manifest does not have: stray"):
        check_counts(manifest, BundleCounts({**good, "stray": good["hand_delays"]}))
    partial = dict(good)
    del partial["readout.cal-01"]
    with pytest.raises(QbhwError, match=r"no counts for circuit\(s\) readout.cal-01"):
        check_counts(manifest, BundleCounts(partial))
    with pytest.raises(QbhwError, match="asks for 1000 shots, the counts have 7"):
        check_counts(manifest, BundleCounts({**good, "collision_k2": _counts_for(manifest, 7)["collision_k2"]}))
    wrong_regs = CircuitCounts(64, {"other": RegisterCounts(1, {"0": 64})})
    with pytest.raises(QbhwError, match=r"registers are m\[1\], the counts have other\[1\]"):
        check_counts(manifest, BundleCounts({**good, "hand_delays": wrong_regs}))


# ------------------------------------------------------------------------------------------------ the seal


def test_collection_is_sealed_and_verifies(bundle):
    directory, manifest = bundle
    (directory / JOBS_FILE).write_text('{"jobs": "stand-in"}\n')
    seal = write_collection(directory, manifest, BundleCounts(_counts_for(manifest)), source="jobs")
    assert seal.bundle == manifest.content_hash() and seal.jobs_sha256 is not None
    assert json.loads((directory / SEAL_FILE).read_text())["format"] == "qbhw-collected/1"
    verify_bundle(directory)  # the later files are no strangers to the bundle
    counts, again = verify_collection(directory, manifest)
    assert again == seal and counts.bundle == manifest.content_hash()
    assert list(counts.circuits) == list(manifest.circuit_names)  # stored in manifest order
    with pytest.raises(QbhwError, match="already collected"):
        write_collection(directory, manifest, BundleCounts(_counts_for(manifest)), source="jobs")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: (d / COUNTS_FILE).write_text((d / COUNTS_FILE).read_text() + " "), "counts.json: does not match"),
        (lambda d: (d / JOBS_FILE).write_text("{}"), "jobs.json: does not match its sha256"),
        (lambda d: (d / JOBS_FILE).unlink(), "jobs.json: is missing"),
        (lambda d: (d / COUNTS_FILE).unlink(), "counts.json: missing from the collected bundle"),
        (lambda d: _rewrite_manifest(d, lambda m: m["model"].update(name="other")), "manifest.json: changed after"),
        (lambda d: (d / SEAL_FILE).write_text("{}"), "collected.json: seal has unknown|collected.json: seal lacks"),
        (lambda d: (d / SEAL_FILE).unlink(), "counts.json is not sealed"),
    ],
)
def test_any_change_to_a_collected_bundle_is_named(bundle, change, message):
    directory, manifest = bundle
    (directory / JOBS_FILE).write_text('{"jobs": "stand-in"}\n')
    write_collection(directory, manifest, BundleCounts(_counts_for(manifest)), source="jobs")
    change(directory)
    with pytest.raises(QbhwError, match=message) as info:
        verify_collection(directory, read_manifest(directory))
    assert "\n" not in str(info.value)


def test_jobs_appearing_after_an_ingested_collection_are_named(bundle):
    directory, manifest = bundle
    seal = write_collection(
        directory, manifest, BundleCounts(_counts_for(manifest)), source="counts file", counts_file="/x/y/c.json"
    )
    assert seal.jobs_sha256 is None and seal.counts_file == "c.json"  # the base name only: no paths of the user
    (directory / JOBS_FILE).write_text("{}")
    with pytest.raises(QbhwError, match="jobs.json: appeared after collection"):
        verify_collection(directory, manifest)


def test_uncollected_bundle_says_how_to_collect(bundle):
    directory, manifest = bundle
    with pytest.raises(QbhwError, match="no counts yet; run qbhw collect"):
        verify_collection(directory, manifest)
    with pytest.raises(QbhwError, match="counts for circuit"):
        write_collection(directory, manifest, BundleCounts({"stray": _counts()}), source="jobs")
    assert not (directory / COUNTS_FILE).exists() and not (directory / SEAL_FILE).exists()  # nothing written
