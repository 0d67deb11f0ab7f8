"""Real-backend experiments end to end: ``qbhw prepare`` -> ``submit`` -> ``collect`` -> ``analyze``
(qbhw.experiments.prepare, _runtime's bundle functions, analyze; the command line).

Fast tests analyse the committed example bundle ``circuits/charger_fake_torino`` (prepared with readout-calibration
circuits, submitted in the runtime's local mode, collected) or copies of it, and feed it counts sampled here from
known states through known readout errors. Slow tests run the whole round trip on fake backends (the runtime's
local mode) and check the measured figures against an independent reference: the exact density matrix of the
bundle's own circuit under the fake backend's own Aer noise model (``NoiseModel.from_backend``), which is what
generated the counts. Tolerances: 5 standard deviations (a correct pipeline fails one such check with probability
~6e-7); statistical ones use the binomial spread or the bootstrap standard deviation of the figure.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from runtime_fakes import FakeJob, FakeService

from qbhw.cli import main
from qbhw.errors import QbhwError
from qbhw.experiments import (
    FIGURE_KEYS,
    BundleCounts,
    CircuitCounts,
    JobsRecord,
    PointRecord,
    RegisterCounts,
    analyze_bundle,
    collect_bundle,
    read_bundle,
)
from qbhw.experiments.bundle import COUNTS_FILE, JOBS_FILE, MANIFEST_FILE, SEAL_FILE, read_manifest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "circuits" / "charger_fake_torino"
LATER = (JOBS_FILE, COUNTS_FILE, SEAL_FILE)
HAS_RUNTIME = importlib.util.find_spec("qiskit_ibm_runtime") is not None
needs_runtime = pytest.mark.skipif(not HAS_RUNTIME, reason="needs qiskit-ibm-runtime (extra 'ibm')")
#: a 5-sigma band
Z = 5.0


# ------------------------------------------------------------------------------------------------ helpers


def run(capsys, *argv):
    """The CLI in-process: (exit status, stdout, stderr)."""
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(status, out, err, *needles):
    assert status == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("qbhw: error:")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def digests(directory):
    """sha256 of every file under ``directory`` by relative path (to show that nothing was written or changed)."""
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(Path(directory).rglob("*"))
        if p.is_file()
    }


def copy_bundle(tmp_path, *, collected=True, name="B"):
    """A copy of the example bundle; without the files of submission and collection unless ``collected``."""
    target = tmp_path / name
    shutil.copytree(EXAMPLE, target, ignore=None if collected else shutil.ignore_patterns(*LATER))
    return target


def physics_energy(rho, hamiltonian, battery, n):
    """Stored energy Tr[rho_B H] - min eig H of the battery positions of an n-qubit register state (physics order),
    by an explicit partial trace (numpy only)."""
    t = np.asarray(rho).reshape([2] * (2 * n))
    keep = sorted(battery)
    for q in reversed([q for q in range(n) if q not in keep]):
        m = t.ndim // 2
        t = np.trace(t, axis1=q, axis2=q + m)
    d = 2 ** len(keep)
    rho_b = t.reshape(d, d)
    h = np.asarray(hamiltonian)
    return float(np.real(np.trace(rho_b @ h)) - np.linalg.eigvalsh(h)[0])


def manifest_matrix(obj):
    return np.asarray(obj["real"]) + 1j * np.asarray(obj["imag"])


# ------------------------------------------------------------------------------------------------ the example


def test_example_bundle_analyzes_to_the_documented_json(capsys):
    status, out, err = run(capsys, "analyze", EXAMPLE, "--json")
    assert status == 0, err
    data = json.loads(out)
    manifest = read_manifest(EXAMPLE)
    predictions = manifest.sections["predictions"]
    for column in ("ideal", "circuit", "noisy"):  # the predictions are the manifest's, unchanged
        assert {k: data[column][k] for k in predictions[column]} == predictions[column]
    measured = data["measured"]
    for key in FIGURE_KEYS:
        low, high = measured[f"{key}_ci"]
        assert low <= high and math.isfinite(measured[key])
    assert measured["readout_mitigated"] is True and measured["shots"] == 9 * 2048
    assert data["readout"]["source"] == "calibration circuits" and data["readout"]["qubits"] == [99, 92]
    assert set(data["agreement"]) == set(FIGURE_KEYS)
    bundle = data["bundle"]
    assert bundle["content_hash"] == manifest.content_hash() and bundle["ran_on"] == "fake_torino"
    assert bundle["local"] is True and bundle["counts_source"] == "jobs" and len(bundle["job_ids"]) == 11
    assert data["device"] == "fake_torino" and data["seed"] == 0
    record = PointRecord.from_dict(data)  # the JSON is a point record (plus the bundle's keys)
    assert record.measured is not None and record.measured.ergotropy.ci == tuple(measured["ergotropy_ci"])
    assert run(capsys, "analyze", EXAMPLE, "--json")[1] == out  # same counts, same numbers


def test_example_bundle_text_shows_the_three_way_table_and_readout(capsys):
    status, out, err = run(capsys, "analyze", EXAMPLE)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("charger on fake_torino, ran on fake_torino (local) (register [99, 92])")
    assert lines[2].split() == ["ideal", "circuit", "noisy", "measured", "[95%", "CI]"]
    assert "readout mitigation from the calibration circuits: q99 P(1|0)=" in out


def test_example_circuits_load_back_and_are_isa_for_the_device():
    from qbhw.experiments import check_isa
    from qbhw.hardware import calibration_hash, load_calibration

    manifest, circuits = read_bundle(EXAMPLE)
    device = load_calibration("fake_torino")
    assert manifest.sections["device"]["calibration_hash"] == calibration_hash(device)
    for qc in circuits:
        check_isa(qc, device)
    names = [qc.name for qc in circuits]
    assert names[-2:] == ["charger_readout_0", "charger_readout_1"]
    layout = manifest.sections["layout"]
    for qc in circuits[:-2]:  # clbit k of 'tomo' measures register position k
        measured = {
            qc.find_bit(i.clbits[0]).index: qc.find_bit(i.qubits[0]).index for i in qc.data if i.name == "measure"
        }
        assert [measured[k] for k in range(2)] == layout["register"] == qc.metadata["tomography_qubits"]


@pytest.mark.skipif(
    importlib.util.find_spec("qiskit_qasm3_import") is None, reason="reading OpenQASM 3 needs qiskit-qasm3-import"
)
def test_example_qasm3_copies_hold_the_same_instructions():
    from qiskit import qasm3

    manifest, circuits = read_bundle(EXAMPLE)
    for spec, qc in zip(manifest.circuits, circuits, strict=True):
        back = qasm3.loads((EXAMPLE / spec.qasm3).read_text())
        assert dict(back.count_ops()) == dict(qc.count_ops()), spec.name
        assert [(r.name, r.size) for r in back.cregs] == [(r.name, r.size) for r in qc.cregs]


# ------------------------------------------------------------------------------------------------ against the pipeline


def test_analysis_equals_the_pipelines_estimate_of_the_same_counts():
    """The manifest carries everything the fit needs: the pipeline's own estimate stage, run on the same counts with
    the same readout model and seed, gives exactly the analysis's measured record; predicting again gives the
    manifest's predictions."""
    import dataclasses

    from qbhw.experiments import (
        ChargerTime,
        Experiment,
        Measurement,
        compile_verified,
        estimate,
        execute,
        map_circuit,
        predict,
    )
    from qbhw.hardware import load_calibration
    from qbhw.models.charger import ChargerParams

    analysis = analyze_bundle(EXAMPLE)
    manifest = analysis.manifest
    cal = load_calibration("fake_torino")
    exp = Experiment("charger", ChargerParams(), cal, time=ChargerTime(0.3), seed=0)
    mapped = map_circuit(exp)
    compiled = compile_verified(mapped, cal)
    assert list(compiled.register) == manifest.sections["layout"]["register"]
    prediction = predict(mapped, compiled, execute.simulator(cal, compiled.physical_qubits, noisy=True))
    for column, figures in (("ideal", prediction.ideal), ("circuit", prediction.exact), ("noisy", prediction.noisy)):
        assert figures.to_dict() == pytest.approx(manifest.sections["predictions"][column], abs=1e-12)
    # the readout of the day (calibration circuits) in place of the stored one
    r = analysis.readout
    qubits = list(cal.qubits)
    for k, q in enumerate(r.qubits):
        qubits[q] = dataclasses.replace(
            qubits[q], readout_p1_given_0=r.p1_given_0[k], readout_p0_given_1=r.p0_given_1[k]
        )
    # ... and, as the analysis has only the readout of the day, basis-change gates without error in the pipeline's
    # measurement model (qbhw run's fit also models their calibrated errors)
    gates = tuple(dataclasses.replace(g, error=0.0, duration_ns=0.0) if len(g.qubits) == 1 else g for g in cal.gates)
    today = dataclasses.replace(compiled, device=dataclasses.replace(cal, qubits=tuple(qubits), gates=gates))
    est = manifest.sections["estimator"]
    counts = [dict(c.counts) for c in analysis.record.counts]
    measurement = Measurement("full-pauli", tuple(est["settings"]), (2048,) * 9, tuple(counts), 0, "circuits")
    pipeline = estimate(exp, mapped, today, measurement).to_dict()
    measured = analysis.record.measured.to_dict()
    # the analysis adds the calibration circuits' spread to each interval in quadrature (analyze step 3)
    spread = measured.pop("readout_calibration_std")
    assert measured.pop("interval").startswith(pipeline.pop("interval") + "; widened in quadrature")
    z = 1.959963984540054  # the normal quantile of the 95 % intervals
    bounds = {"energy": (0, 2), "ergotropy": (0, 2), "capacity": (0, 2), "purity": (0.5, 1), "fidelity": (0, 1)}
    for key in FIGURE_KEYS:
        (lo, hi), (plo, phi) = measured.pop(f"{key}_ci"), pipeline.pop(f"{key}_ci")
        assert lo <= plo and hi >= phi
        if bounds[key][0] < lo and hi < bounds[key][1]:  # not clipped at the figure's physical range
            assert (hi - lo) / 2 == pytest.approx(math.hypot((phi - plo) / 2, z * spread[key]), rel=1e-12)
    # the same measurement model, written two ways: the readout alone, or readout and error-free gates
    assert measured.pop("measurement_model") == "readout"
    assert pipeline.pop("measurement_model") == "readout and basis-change gates"
    assert measured.keys() == pipeline.keys()
    for key, value in pipeline.items():  # the same numbers up to rounding (the gates' identity channels)
        if isinstance(value, float) or (isinstance(value, list) and all(isinstance(v, float) for v in value)):
            assert measured[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
        else:
            assert measured[key] == value, key


def test_the_readout_calibrations_spread_matches_its_first_order_propagation():
    """The charger's stored energy is E = omega_b (1 - <Z_b>) (H_b = -omega_b Z_b), and readout correction gives
    <Z> = (z_raw - p01 + p10) / (1 - p10 - p01), so to first order sigma_E = omega_b sqrt(((1 + Z) s10)^2 +
    ((1 - Z) s01)^2) / (1 - p10 - p01) with the binomial s10, s01 of the calibration circuits. The analysis's
    replicate spread (50 readout models) must agree within 3.5 times its own relative error 1/sqrt(2 * 49)."""
    analysis = analyze_bundle(EXAMPLE)
    r = analysis.readout
    p10, p01 = r.p1_given_0[0], r.p0_given_1[0]  # register position 0 is the battery
    s10, s01 = r.std[0]
    energy = analysis.record.measured.energy.value
    zb = 1.0 - energy  # omega_b = 1
    expected = math.hypot((1 + zb) * s10, (1 - zb) * s01) / (1 - p10 - p01)
    got = analysis.record.measured.extra["readout_calibration_std"]["energy"]
    assert abs(got - expected) <= 3.5 / math.sqrt(98) * expected, (got, expected)


# ------------------------------------------------------------------------------------------------ known counts


def _probabilities(rho, setting):
    """Outcome probabilities (index in physics order, position 0 most significant) of measuring Pauli setting[k] on
    register position k: rotate each eigenbasis onto Z (X: H; Y: H S^dag) and read the diagonal."""
    h = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
    rot = {"X": h, "Y": h @ np.diag([1, -1j]), "Z": np.eye(2)}
    u = np.array([[1.0]])
    for pauli in setting:
        u = np.kron(u, rot[pauli])
    return np.clip(np.real(np.diag(u @ rho @ u.conj().T)), 0, None)


def _confuse(p, n, p10, p01):
    """Outcome distribution after independent readout errors (qubit k: P(read 1|0) = p10[k], P(read 0|1) = p01[k])."""
    out = np.asarray(p, dtype=float).reshape([2] * n)
    for k in range(n):
        a = np.array([[1 - p10[k], p01[k]], [p10[k], 1 - p01[k]]])
        out = np.moveaxis(np.tensordot(a, out, axes=([1], [k])), 0, k)
    return out.reshape(-1)


def _qiskit_key(index, n):
    bits = format(index, f"0{n}b")  # physics order: position 0 first
    return bits[::-1]  # Qiskit: clbit 0 (position 0) rightmost


def _sampled_counts(manifest, rho, p10, p01, rng):
    """qbhw-counts/1 counts of every circuit of the example's manifest, sampled from ``rho`` with the readout
    errors p10, p01 (the calibration circuits from |0..0> and |1..1>)."""
    est = manifest.sections["estimator"]
    n = len(manifest.sections["layout"]["register"])
    shots = manifest.circuits[0].shots
    probs = {c: _probabilities(rho, s) for s, c in zip(est["settings"], est["circuits"], strict=True)}
    for bit, name in est["readout"]["circuits"].items():
        probs[name] = np.eye(2**n)[0 if bit == "0" else -1]
    out = {}
    for spec in manifest.circuits:
        p = _confuse(probs[spec.name], n, p10, p01)
        draws = rng.multinomial(shots, p / p.sum())
        counts = {_qiskit_key(i, n): int(c) for i, c in enumerate(draws) if c}
        out[spec.name] = CircuitCounts(shots, {spec.registers[0].name: RegisterCounts(n, counts)})
    return BundleCounts(out)


def test_readout_calibration_circuits_correct_a_readout_the_stored_calibration_gets_wrong(tmp_path, capsys, rng):
    """Counts sampled here from the ideal state with readout errors far from the stored ones: the analysis reads the
    errors from the bundle's calibration circuits (within 5 binomial sigma of the truth), notes the stored values as
    stale, and the energy -- linear in rho, so unbiased -- lies within 5 bootstrap sigma of the exact value."""
    bundle = copy_bundle(tmp_path, collected=False)
    manifest = read_manifest(bundle)
    est = manifest.sections["estimator"]
    rho = manifest_matrix(est["target_state"])
    p10, p01 = (0.05, 0.03), (0.08, 0.10)
    path = tmp_path / "elsewhere.json"
    path.write_text(json.dumps(_sampled_counts(manifest, rho, p10, p01, rng).to_dict()))
    status, out, err = run(capsys, "collect", bundle, "--counts", path)
    assert status == 0, err
    status, out, err = run(capsys, "analyze", bundle, "--json")
    assert status == 0, err
    data = json.loads(out)
    shots = manifest.circuits[0].shots
    readout = data["readout"]
    for got, true in ((readout["p1_given_0"], p10), (readout["p0_given_1"], p01)):
        for g, t in zip(got, true, strict=True):
            assert abs(g - t) <= Z * math.sqrt(t * (1 - t) / shots)
    assert sum("stale" in note for note in data["notes"]) >= 2
    exact = physics_energy(rho, manifest_matrix(est["hamiltonian"]), est["battery"], 2)
    m = data["measured"]
    assert abs(m["energy"] - exact) <= Z * m["energy_std"]
    assert data["bundle"]["counts_source"] == "counts file" and data["bundle"]["counts_file"] == "elsewhere.json"
    assert data["bundle"]["ran_on"] is None


def test_a_device_far_from_its_prediction_is_flagged_with_the_likely_causes(tmp_path, capsys, rng):
    """Counts of a state unlike the prediction (the battery excited, |e>_b|g>_c: stored energy 2 against a predicted
    0.19): energy and fidelity are flagged far outside, followed by one line naming the likely causes."""
    bundle = copy_bundle(tmp_path, collected=False)
    manifest = read_manifest(bundle)
    rho = np.zeros((4, 4))
    rho[2, 2] = 1.0  # physics order: position 0 (the battery) excited
    path = tmp_path / "excited.json"
    path.write_text(json.dumps(_sampled_counts(manifest, rho, (0.01, 0.01), (0.01, 0.01), rng).to_dict()))
    assert run(capsys, "collect", bundle, "--counts", path)[0] == 0
    status, out, err = run(capsys, "analyze", bundle, "--json")
    assert status == 0, err
    data = json.loads(out)
    assert data["agreement"]["energy"]["status"] == "far outside"
    assert data["agreement"]["fidelity"]["status"] == "far outside"
    assert data["flags"][0].startswith("energy: the noisy prediction 0.1867 lies far outside the measured 95%")
    causes = data["flags"][-1]
    assert causes.startswith("likely causes: ")
    assert all(cause in causes for cause in ("stale calibration", "drift", "crosstalk"))
    assert "this run was local" not in causes  # the counts came from a file
    status, out, err = run(capsys, "analyze", bundle)
    assert status == 0 and "FLAG: energy: the noisy prediction" in out


# ------------------------------------------------------------------------------------------------ tampering


def _append_byte(path):
    path.write_bytes(path.read_bytes() + b" ")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (MANIFEST_FILE, "manifest.json: changed after the counts were collected"),
        ("circuits.qpy", "circuits.qpy: does not match its sha256"),
        ("qasm3/charger_tomo_XY.qasm", "charger_tomo_XY.qasm: does not match its sha256"),
        (COUNTS_FILE, "counts.json: does not match its sha256 in collected.json"),
        (JOBS_FILE, "jobs.json: does not match its sha256 in collected.json"),
        (SEAL_FILE, "collected.json"),
    ],
)
def test_tampering_with_any_file_makes_analyze_refuse(tmp_path, capsys, target, message):
    bundle = copy_bundle(tmp_path)
    path = bundle / target
    if target == MANIFEST_FILE:  # a valid manifest with a changed prediction
        data = json.loads(path.read_text())
        data["predictions"]["noisy"]["ergotropy"] += 0.1
        path.write_text(json.dumps(data, indent=2))
    elif target == SEAL_FILE:
        data = json.loads(path.read_text())
        data["counts_sha256"] = "0" * 64
        path.write_text(json.dumps(data))
    else:
        _append_byte(path)
    one_line_error(*run(capsys, "analyze", bundle), message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: (b / "notes.txt").write_text("x"), "notes.txt: not part of the bundle"),
        (lambda b: (b / COUNTS_FILE).unlink(), "counts.json: missing from the collected bundle"),
        (lambda b: (b / "qasm3" / "charger_tomo_ZZ.qasm").unlink(), "charger_tomo_ZZ.qasm: missing from the bundle"),
        (lambda b: [(b / f).unlink() for f in LATER], "no counts yet; run qbhw collect"),
    ],
)
def test_added_and_missing_files_are_refused(tmp_path, capsys, change, message):
    bundle = copy_bundle(tmp_path)
    change(bundle)
    one_line_error(*run(capsys, "analyze", bundle), message)


def test_manifest_of_another_schema_version_is_refused(tmp_path, capsys):
    bundle = copy_bundle(tmp_path)
    data = json.loads((bundle / MANIFEST_FILE).read_text())
    data["schema_version"] = 2
    (bundle / MANIFEST_FILE).write_text(json.dumps(data))
    before = digests(bundle)
    for command in (("analyze", bundle), ("collect", bundle), ("submit", bundle, "--local")):
        one_line_error(*run(capsys, *command), "schema_version 2; this qbhw reads schema_version 1")
    assert digests(bundle) == before


# ------------------------------------------------------------------------------------------------ submit


def test_submitting_twice_is_refused_and_nothing_changes(tmp_path, capsys):
    bundle = copy_bundle(tmp_path)
    before = digests(bundle)
    one_line_error(*run(capsys, "submit", bundle, "--local"), "already records jobs: the bundle was submitted")
    assert digests(bundle) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--local", "--backend", "fake_manila"), "--backend must be the bundle's own device fake_torino"),
        (("--backend", "ibm_fez"), "--backend must be the bundle's own device fake_torino"),
        ((), "--backend must be a real IBM Quantum backend without --local (the fake backend fake_torino runs only"),
    ],
)
def test_a_backend_other_than_the_manifests_is_refused_before_anything_runs(tmp_path, capsys, argv, message):
    bundle = copy_bundle(tmp_path, collected=False)
    before = digests(bundle)
    one_line_error(*run(capsys, "submit", bundle, *argv), message)
    assert digests(bundle) == before  # no jobs.json, no lock left behind


# ------------------------------------------------------------------------------------------------ collect


def _example_counts():
    return BundleCounts(
        {
            name: CircuitCounts.from_dict(cc, name)
            for name, cc in json.loads((EXAMPLE / COUNTS_FILE).read_text())["circuits"].items()
        }
    )


def _write_counts(path, counts):
    path.write_text(json.dumps(counts.to_dict()))
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: {**c, "stray": c["charger_tomo_XX"]}, "counts for circuit(s) the manifest does not have: stray"),
        (lambda c: {k: v for k, v in c.items() if k != "charger_tomo_ZZ"}, "no counts for circuit(s) charger_tomo_ZZ"),
        (
            lambda c: {
                **c,
                "charger_tomo_XX": CircuitCounts(10, {"tomo": RegisterCounts(2, {"00": 10})}),
            },
            "circuit 'charger_tomo_XX': the manifest asks for 2048 shots, the counts have 10",
        ),
    ],
)
def test_counts_that_do_not_fit_the_manifest_are_refused_and_nothing_is_written(tmp_path, capsys, edit, message):
    bundle = copy_bundle(tmp_path, collected=False)
    before = digests(bundle)
    counts = BundleCounts(edit(dict(_example_counts().circuits)))
    one_line_error(*run(capsys, "collect", bundle, "--counts", _write_counts(tmp_path / "c.json", counts)), message)
    assert digests(bundle) == before


def test_counts_of_another_bundle_and_recollection_are_refused(tmp_path, capsys):
    bundle = copy_bundle(tmp_path, collected=False)
    other = BundleCounts(_example_counts().circuits, bundle="0" * 64)
    one_line_error(
        *run(capsys, "collect", bundle, "--counts", _write_counts(tmp_path / "c.json", other)),
        "the counts belong to another bundle",
    )
    one_line_error(*run(capsys, "collect", bundle), "has not been submitted (no jobs.json): run qbhw submit")
    collected = copy_bundle(tmp_path, name="C")
    before = digests(collected)
    one_line_error(*run(capsys, "collect", collected), "counts.json exists: the bundle's counts were already collected")
    (collected / COUNTS_FILE).unlink()
    (collected / SEAL_FILE).unlink()
    one_line_error(
        *run(capsys, "collect", collected, "--counts", _write_counts(tmp_path / "d.json", _example_counts())),
        "jobs.json records submitted jobs: collect their results (without --counts)",
    )
    assert set(digests(collected)) == set(before) - {COUNTS_FILE, SEAL_FILE}


def test_collected_counts_equal_the_stored_local_results(tmp_path):
    bundle = copy_bundle(tmp_path)
    for name in (COUNTS_FILE, SEAL_FILE):
        (bundle / name).unlink()
    counts, seal = collect_bundle(bundle)
    assert seal.source == "jobs" and list(counts.circuits) == list(read_manifest(bundle).circuit_names)
    assert (bundle / COUNTS_FILE).read_bytes() == (EXAMPLE / COUNTS_FILE).read_bytes()


def _remote_bundle(tmp_path):
    """A copy of the example as if submitted to ibm_torino: one remote job per circuit, no stored results."""
    import dataclasses

    bundle = copy_bundle(tmp_path)
    record = JobsRecord.from_dict(json.loads((bundle / JOBS_FILE).read_text()))
    remote = dataclasses.replace(
        record,
        backend="ibm_torino",
        local=False,
        jobs=tuple(dataclasses.replace(j, results=None, job_id=f"job-{i}") for i, j in enumerate(record.jobs)),
    )
    for name in LATER:
        (bundle / name).unlink()
    (bundle / JOBS_FILE).write_text(json.dumps(remote.to_dict()))
    return bundle, remote


def _result(num_pubs, shots=2048):
    from qiskit.primitives import PrimitiveResult
    from qiskit.primitives.containers import BitArray, DataBin, SamplerPubResult

    pub = SamplerPubResult(DataBin(tomo=BitArray.from_samples(["00"] * shots, num_bits=2), shape=()), metadata={})
    return PrimitiveResult([pub] * num_pubs, metadata={})


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (FakeJob("ERROR", error="Error code 3211; Job not valid"), "job job-0 on ibm_torino failed: Error code 3211"),
        (FakeJob("CANCELLED"), "job job-0 on ibm_torino was cancelled"),
        (FakeJob("RUNNING"), "job job-0 on ibm_torino is RUNNING; collect again when it has finished"),
        (FakeJob("DONE", _result(2)), "job job-0 on ibm_torino returned a partial result: 2 of 1 circuits"),
        (FakeJob("DONE", _result(1, shots=100)), "register 'tomo' has 100 shots of 2 bits"),
    ],
)
def test_failed_cancelled_unfinished_and_partial_jobs_are_one_line_and_nothing_is_written(tmp_path, job, message):
    bundle, remote = _remote_bundle(tmp_path)
    before = digests(bundle)
    service = FakeService({j.job_id: job for j in remote.jobs})
    with pytest.raises(QbhwError, match=message) as info:
        collect_bundle(bundle, service=service)
    assert "\n" not in str(info.value)
    assert digests(bundle) == before


# ------------------------------------------------------------------------------------------------ prepare


def test_prepare_refuses_an_out_that_exists_and_leaves_it_alone(tmp_path, capsys):
    existing = tmp_path / "B"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    for target in (existing, existing / "keep.txt"):
        one_line_error(
            *run(capsys, "prepare", "charger", "--device", "fake_torino", "--out", target),
            "--out must be a new directory (it exists",
        )
    assert digests(existing) == {"keep.txt": hashlib.sha256(b"mine").hexdigest()}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--twirl", "--shots", "100"), "--shots must be a multiple of 32 with --twirl"),
        (("--shots", "0"), "--shots must be an integer >= 1"),
        (("--dd", "XZ"), "argument --dd: invalid choice"),
        (("--seed", "-1"), "--seed must be an integer >= 0"),
        (("--device", "nowhere"), "unknown device 'nowhere'"),
    ],
)
def test_prepare_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, message):
    argv = ("--device", "fake_torino", *argv) if "--device" not in argv else argv
    one_line_error(*run(capsys, "prepare", "charger", "--out", tmp_path / "B", *argv), message)
    assert not (tmp_path / "B").exists()


def test_analyze_out_writes_the_result_files_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "result"
    status, text, err = run(capsys, "analyze", EXAMPLE, "--out", out)
    assert status == 0, err
    assert text.splitlines()[-1].startswith("wrote ")
    assert {p.name for p in out.iterdir()} == {"result.json", "counts.json", "ergotropy.png"}
    result = json.loads((out / "result.json").read_text())
    assert result["bundle"]["content_hash"] == read_manifest(EXAMPLE).content_hash()
    assert len(json.loads((out / "counts.json").read_text())["counts"]) == 9
    before = digests(out)
    one_line_error(*run(capsys, "analyze", EXAMPLE, "--out", out), "it has result.json; pass --force")
    assert digests(out) == before


@needs_runtime
def test_device_names_resolve_to_calibrations_fakes_and_their_backends():
    from qbhw.errors import CalibrationError
    from qbhw.experiments import resolve_bundle_device

    builtin = resolve_bundle_device("fake_torino")
    assert builtin.origin == "calibration" and builtin.backend_name == "fake_torino"
    assert builtin.backend is not None and builtin.backend.num_qubits == 133  # the runtime's fake checks the ISA
    imported = resolve_bundle_device("fake_manila")
    assert imported.origin == "fake backend" and imported.calibration.num_qubits == 5
    assert imported.backend_name == "fake_manila"
    with pytest.raises(CalibrationError, match="unknown device 'nowhere'"):
        resolve_bundle_device("nowhere")


@needs_runtime
@pytest.mark.slow
def test_collision_circuits_are_refused_on_a_device_without_reset_before_compiling(tmp_path, capsys):
    one_line_error(
        *run(capsys, "prepare", "micromaser", "--collisions", "2", "--device", "fake_miami", "--out", tmp_path / "B"),
        "backend fake_miami has no 'reset' instruction, and the micromaser circuit resets its ancillas",
    )
    assert not (tmp_path / "B").exists()


# ------------------------------------------------------------------------------------------------ round trips


def _fake_reference_energy(bundle, setting_circuit, backend_name):
    """Stored energy of the register under the fake backend's own Aer noise model: the exact density matrix of the
    bundle's circuit ``setting_circuit`` (an all-Z setting: no basis change) with its measurements removed, by Aer
    with ``NoiseModel.from_backend`` -- the model that generated the local counts, independent of qbhw's."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import DensityMatrix
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime import fake_provider

    from qbhw.hardware import fake_backend_class_name

    manifest, circuits = read_bundle(bundle)
    qc = next(c for c in circuits if c.name == setting_circuit)
    register = manifest.sections["layout"]["register"]
    bare = QuantumCircuit(qc.num_qubits)
    for inst in qc.data:
        if inst.operation.name not in ("measure", "barrier"):
            bare.append(inst.operation, [bare.qubits[qc.find_bit(q).index] for q in inst.qubits])
    bare.save_density_matrix(qubits=register, label="rho")
    fake = getattr(fake_provider, fake_backend_class_name(backend_name))()
    sim = AerSimulator.from_backend(fake, method="density_matrix")
    rho = DensityMatrix(sim.run(bare, shots=1).result().data(0)["rho"]).reverse_qargs().data  # physics order
    est = manifest.sections["estimator"]
    return physics_energy(rho, manifest_matrix(est["hamiltonian"]), est["battery"], len(register))


@needs_runtime
@pytest.mark.slow
def test_done_when_charger_on_fake_torino_round_trip(tmp_path, capsys):
    """The issue's closing commands, exactly: prepare -> submit --local -> collect -> analyze --json."""
    bundle = tmp_path / "B"
    for argv in (
        ("prepare", "charger", "--device", "fake_torino", "--out", bundle),
        ("submit", bundle, "--local"),
        ("collect", bundle),
    ):
        status, out, err = run(capsys, *argv)
        assert status == 0, err
    status, out, err = run(capsys, "analyze", bundle, "--json")
    assert status == 0, err
    data = json.loads(out)
    predictions = read_manifest(bundle).sections["predictions"]
    assert "ergotropy_ci" in data["measured"]
    for column in ("ideal", "circuit", "noisy"):
        assert {k: data[column][k] for k in predictions[column]} == predictions[column]
    assert data["bundle"]["ran_on"] == "fake_torino" and data["readout"]["source"] == "stored calibration"


@needs_runtime
@pytest.mark.slow
def test_micromaser_demo_point_round_trip_agrees_with_the_fakes_own_noise_model(tmp_path, capsys):
    """The demo point (10 collisions, gtau = pi/sqrt(8)) with readout-calibration circuits on fake_torino: the
    measured energy (linear in rho, readout corrected with the fake's own readout) lies within 5 bootstrap sigma of
    the exact energy under the noise model that generated the counts."""
    bundle = tmp_path / "M"
    model = ("--g-tau", "1.1107207345", "--p-excited", "0.5", "--coherence", "1", "--collisions", "10", "--cutoff", "8")
    for argv in (
        ("prepare", "micromaser", *model, "--device", "fake_torino", "--out", bundle, "--readout-calibration"),
        ("submit", bundle, "--local"),
        ("collect", bundle),
    ):
        status, out, err = run(capsys, *argv)
        assert status == 0, err
    status, out, err = run(capsys, "analyze", bundle, "--json")
    assert status == 0, err
    data = json.loads(out)
    assert "ergotropy_ci" in data["measured"] and data["readout"]["source"] == "calibration circuits"
    reference = _fake_reference_energy(bundle, "micromaser_tomo_ZZZ", "fake_torino")
    m = data["measured"]
    assert abs(m["energy"] - reference) <= Z * m["energy_std"], (m["energy"], reference, m["energy_std"])


@needs_runtime
@pytest.mark.slow
def test_dynamical_decoupling_and_twirling_round_trip_and_are_recorded(tmp_path, capsys):
    for flag, extra in (("--dd", ("XY4",)), ("--twirl", ())):
        bundle = tmp_path / flag.strip("-")
        status, out, err = run(
            capsys, "prepare", "charger", "--device", "fake_manila", "--out", bundle, "--shots", "1024", flag, *extra
        )
        assert status == 0, err
        execution = read_manifest(bundle).sections["execution"]
        assert execution == {
            "dynamical_decoupling": "XY4" if flag == "--dd" else None,
            "twirling": flag == "--twirl",
            "primitive": "executor",
            "shots_per_circuit": 1024,
        }
        assert run(capsys, "submit", bundle, "--local")[0] == 0
        jobs = json.loads((bundle / JOBS_FILE).read_text())
        assert jobs["options"]["dynamical_decoupling"]["enable"] is (flag == "--dd")
        assert jobs["options"]["twirling"]["enable_gates"] is (flag == "--twirl")
        assert run(capsys, "collect", bundle)[0] == 0
        status, out, err = run(capsys, "analyze", bundle, "--json")
        assert status == 0, err
        assert json.loads(out)["bundle"]["execution"] == execution


# ------------------------------------------------------------------------------------------------ credentials


def _isolated_env(tmp_path, **extra):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QISKIT")}
    env.update(HOME=str(home), QBHW_CALIBRATIONS=str(tmp_path / "calibrations"), **extra)
    return env


def _qbhw(env, cwd, *argv):
    return subprocess.run(
        [sys.executable, "-m", "qbhw.cli", *map(str, argv)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@needs_runtime
@pytest.mark.slow
def test_missing_credentials_is_one_line_naming_the_ways_and_nothing_else(tmp_path):
    from qbhw.experiments._runtime import NO_CREDENTIALS

    env = _isolated_env(tmp_path)
    out = _qbhw(env, tmp_path, "prepare", "charger", "--device", "ibm_torino", "--out", tmp_path / "R")
    assert (out.returncode, out.stdout, out.stderr) == (2, "", f"qbhw: error: {NO_CREDENTIALS}\n")
    assert not (tmp_path / "R").exists()
    bundle = copy_bundle(tmp_path, collected=False)
    before = digests(bundle)
    out = _qbhw(env, tmp_path, "submit", bundle, "--backend", "ibm_torino", "--allow-other-backend")
    assert (out.returncode, out.stdout, out.stderr) == (2, "", f"qbhw: error: {NO_CREDENTIALS}\n")
    assert digests(bundle) == before


@needs_runtime
@pytest.mark.slow
def test_fake_secrets_in_the_environment_never_reach_a_bundle_or_the_terminal(tmp_path):
    secret = "FAKE-SECRET-91be4d"
    env = _isolated_env(
        tmp_path,
        QISKIT_IBM_TOKEN=f"{secret}-token",
        QISKIT_IBM_INSTANCE=f"crn:v1:{secret}-instance",
        QISKIT_IBM_CHANNEL="ibm_quantum_platform",
        QISKIT_IBM_URL="http://127.0.0.1:9",
    )
    outputs = []
    for argv in (
        ("prepare", "charger", "--device", "fake_manila", "--out", "B", "--readout-calibration", "--shots", "512"),
        ("submit", "B", "--local"),
        ("collect", "B"),
        ("analyze", "B", "--out", "R"),
        ("analyze", "B", "--json"),
    ):
        out = _qbhw(env, tmp_path, *argv)
        assert out.returncode == 0, out.stderr
        outputs.append(out.stdout + out.stderr)
    out = _qbhw(env, tmp_path, "prepare", "charger", "--device", "ibm_torino", "--out", "X")
    assert out.returncode == 2 and out.stderr.startswith("qbhw: error: ") and out.stdout == ""
    outputs.append(out.stdout + out.stderr)
    assert not any(secret in text for text in outputs)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"B/manifest.json", "B/jobs.json", "B/counts.json", "B/collected.json", "R/result.json"} <= {
        p.relative_to(tmp_path).as_posix() for p in files
    }
    for path in files:
        assert secret.encode() not in path.read_bytes(), path


class _RemoteBackend:
    """A stand-in for an IBM Quantum backend: FakeManilaV2's target and properties under a real device's name."""

    def __init__(self, name):
        from qiskit_ibm_runtime.fake_provider import FakeManilaV2

        self._fake = FakeManilaV2()
        self.name = name
        self.target = self._fake.target

    def properties(self):
        return self._fake.properties()


class _BackendService:
    def __init__(self, backends):
        self._backends = backends

    def backend(self, name):
        if name not in self._backends:
            raise RuntimeError(f"no backend {name}")
        return self._backends[name]


@needs_runtime
@pytest.mark.slow
def test_a_real_backend_name_imports_its_calibration_from_the_service(tmp_path):
    from qbhw.experiments import prepare_bundle, resolve_bundle_device
    from qbhw.models.charger import ChargerParams

    service = _BackendService({"ibm_example": _RemoteBackend("ibm_example")})
    device = resolve_bundle_device("ibm_example", service=service)
    assert device.origin == "IBM Quantum backend" and device.backend_name == "ibm_example"
    assert device.calibration.name == "ibm_example" and device.calibration.num_qubits == 5
    with pytest.raises(QbhwError, match="IBM Quantum offers no backend 'ibm_nowhere' to this account"):
        resolve_bundle_device("ibm_nowhere", service=service)
    prepared = prepare_bundle(tmp_path / "B", "charger", ChargerParams(), device="ibm_example", service=service)
    section = prepared.manifest.sections["device"]
    assert (section["origin"], section["backend"], section["name"]) == (
        "IBM Quantum backend",
        "ibm_example",
        "ibm_example",
    )
    assert "ibm_example" in section["source"]


@pytest.mark.skipif(HAS_RUNTIME, reason="only where qiskit-ibm-runtime is missing (pulse environment)")
def test_without_the_runtime_a_fake_backend_device_says_how_to_install_it(tmp_path, capsys):
    one_line_error(
        *run(capsys, "prepare", "charger", "--device", "fake_fez", "--out", tmp_path / "B"),
        "unknown device 'fake_fez'",
        "pip install 'qbhw[ibm]'",
    )
    # a built-in snapshot needs no runtime: the bundle is prepared from the calibration alone
    status, out, err = run(capsys, "prepare", "charger", "--device", "fake_torino", "--out", tmp_path / "C")
    assert status == 0, err
    assert out.startswith("charger on fake_torino")
    device = read_manifest(tmp_path / "C").sections["device"]
    assert device["origin"] == "calibration" and device["backend"] == "fake_torino"
    assert read_manifest(tmp_path / "C").sections["execution"]["primitive"] is None
