"""End-to-end runs (qbhw.experiments.run_experiment and ``qbhw run``): ideal, noiseless circuit, noisy prediction
and tomography, on the embedded default device."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from qbhw.cli import main
from qbhw.experiments import ChargerTime, Experiment, run_experiment
from qbhw.hardware import default_device, noiseless
from qbhw.models.charger import ChargerParams
from qbhw.models.micromaser import MicromaserParams

DONE_MICROMASER = [
    "--g-tau",
    "1.1107207345",
    "--p-excited",
    "0.5",
    "--coherence",
    "1",
    "--collisions",
    "10",
    "--cutoff",
    "8",
]
CHARGER = ["--omega-b", "1", "--omega-c", "1", "--j1", "1", "--j2", "0.5", "--time", "0.3"]


@pytest.fixture(scope="module")
def device():
    return default_device()


def _run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _inside(ci, value, slack=0.0):
    return ci[0] - slack <= value <= ci[1] + slack


def test_charger_run_matches_the_model_and_its_interval_covers_the_prediction(capsys):
    """ideal = the charger model's figures (docs/physics.md 2.2 t = 0.3 row: C_b = 1.6506712298); the exact circuit is
    the model to 1e-12; the 95 % interval of every measured figure contains the noisy prediction (fixed seed)."""
    out = _run_json(capsys, ["run", "charger", *CHARGER, "--json"])
    assert out["ideal"]["capacity"] == pytest.approx(1.6506712298, abs=1e-9)
    assert out["circuit"]["capacity"] == pytest.approx(out["ideal"]["capacity"], abs=1e-12)
    assert out["circuit"]["fidelity"] == pytest.approx(1.0, abs=1e-12)
    assert 0.9 < out["noisy"]["fidelity"] < 1.0  # 3 CZ + readout-free relaxation on Torino: ~1e-2 infidelity
    m = out["measured"]
    for key in ("energy", "capacity", "purity", "fidelity"):
        assert _inside(m[f"{key}_ci"], out["noisy"][key]), key
    assert m["ergotropy_ci"][0] <= out["noisy"]["ergotropy"] + 1e-12 <= m["ergotropy_ci"][1] + 1e-12
    assert m["estimator"] == "full-pauli" and m["readout_mitigated"] is True
    assert out["shots"] == 9 * 8192 and out["device"] == "fake_torino"
    assert set(("qiskit_version", "seed")) <= set(out)


def test_isa_tomography_circuits_measure_what_the_fast_path_measures(capsys):
    """--measurement circuits runs the ISA tomography circuits a backend would run (one full simulation per
    setting) instead of sampling the settings from the predicted final state. Both end in the same outcome
    probabilities, and at the same sampling seed Aer draws the same counts from them: the measured figures are
    identical (tests/test_experiments.py also compares the two count distributions at different seeds)."""
    fast = _run_json(capsys, ["run", "charger", *CHARGER, "--shots", "9000", "--json"])
    isa = _run_json(capsys, ["run", "charger", *CHARGER, "--shots", "9000", "--measurement", "circuits", "--json"])
    assert isa["noisy"] == fast["noisy"] and isa["measured"] == fast["measured"]
    for key in ("energy", "capacity", "purity", "fidelity"):
        assert _inside(isa["measured"][f"{key}_ci"], isa["noisy"][key]), key


def test_same_seed_gives_identical_json(capsys):
    a = _run_json(capsys, ["run", "charger", *CHARGER, "--shots", "900", "--seed", "5", "--json"])
    b = _run_json(capsys, ["run", "charger", *CHARGER, "--shots", "900", "--seed", "5", "--json"])
    c = _run_json(capsys, ["run", "charger", *CHARGER, "--shots", "900", "--seed", "6", "--json"])
    assert a == b
    assert a["measured"] != c["measured"]


def test_micromaser_done_command(capsys):
    """The issue's done command: gtau = pi/sqrt(8) traps at 7 photons, so 3 cavity qubits hold it exactly
    (circuit = ideal to 1e-9) and the measured ergotropy's interval contains the noisy prediction."""
    out = _run_json(capsys, ["run", "micromaser", *DONE_MICROMASER, "--json"])
    assert out["circuit"]["ergotropy"] == pytest.approx(out["ideal"]["ergotropy"], abs=1e-9)
    assert out["circuit"]["fidelity"] == pytest.approx(1.0, abs=1e-9)
    m = out["measured"]
    assert _inside(m["ergotropy_ci"], out["noisy"]["ergotropy"])
    assert _inside(m["energy_ci"], out["noisy"]["energy"])
    assert out["noisy"]["ergotropy"] < out["ideal"]["ergotropy"]  # ~300 CZ on a real device's noise


def test_noiseless_device_measures_the_ideal_state(device):
    """On a device without errors the noisy prediction is the circuit's exact state (1e-9) and the measured
    interval contains the ideal ergotropy."""
    exp = Experiment(
        "micromaser",
        MicromaserParams(g_tau=1.1107207345, p_excited=0.5, coherence=1.0, collisions=4, cutoff=8),
        noiseless(device),
        seed=3,
    )
    r = run_experiment(exp)
    assert r.noisy.ergotropy == pytest.approx(r.exact.ergotropy, abs=1e-9)
    assert r.noisy.fidelity == pytest.approx(1.0, abs=1e-9)
    assert _inside(r.measured.ergotropy.ci, r.ideal.ergotropy)
    assert np.abs(r.noisy_state - r.mapped.ideal_state).max() < 1e-9


def test_sweep_writes_result_counts_and_plot_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = ["run", "charger", "--time", "0:0.4:0.2", "--shots", "900", "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "measured W" in text and "0.4" in text
    result = json.loads((out / "result.json").read_text())
    assert result["sweep"] == {"parameter": "time", "values": [0.0, 0.2, 0.4]}
    assert [p["time"] for p in result["points"]] == [0.0, 0.2, 0.4]
    assert [p["seed"] for p in result["points"]] == [0, 0, 0]
    assert [p["spawn_key"] for p in result["points"]] == [[0], [1], [2]]
    assert result["calibration"]["name"] == "fake_torino" and len(result["calibration"]["content_hash"]) == 64
    assert result["versions"] == [{k: result["points"][0][f"{k}_version"] for k in ("qiskit", "qiskit_aer", "qbhw")}]
    counts = json.loads((out / "counts.json").read_text())
    assert counts["sweep"] == result["sweep"] and "from the right" in counts["bit_order"]
    points = counts["points"]
    assert len(points) == 3 and sum(s["shots"] for s in points[0]["counts"]) == 900
    for p, r in zip(points, result["points"], strict=True):
        assert p["register_physical_qubits"] == r["circuit"]["register_physical_qubits"]
        assert (p["seed"], p["spawn_key"], p["sampling_seed"]) == (r["seed"], r["spawn_key"], r["sampling_seed"])
        assert p["bootstrap_seed"] == r["measured"]["bootstrap_seed"]
        assert all(s["shots"] == sum(s["counts"].values()) for s in p["counts"])
    assert (out / "ergotropy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list((out / "points").glob("point_*.json"))) == 3
    # an existing result is never overwritten silently
    assert main(argv) == 2
    assert "--out must be a folder without a finished result" in capsys.readouterr().err
    # an interrupted sweep resumes: remove the result and one point; the rerun redoes exactly that point
    (out / "result.json").unlink()
    (out / "points" / "point_0001.json").unlink()
    assert main(argv + ["--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again == result
    # --force starts over: stored points are discarded, not reused
    (out / "points" / "point_0002.json").write_text('{"fingerprint": "stale", "point": {}}')
    assert main(argv + ["--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == result


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "charger", *CHARGER, "--shots", "5"], "--shots must be >= 9 (one per measurement setting)"),
        (["run", "charger", "--time", "1:0:0.1"], "--time must be a non-empty range"),
        (["run", "micromaser", "--collisions", "0:10:0"], "--collisions must be a range start:stop:step with step > 0"),
        (["run", "charger", "--device", "no_such_device"], "no_such_device"),
        (["run", "micromaser", "--cutoff", "64"], "--cutoff must be"),
        (["run", "micromaser", "--cavity-loss", "0.1"], "--cavity-loss must be"),
        (["run", "charger", "--seed", "-1"], "--seed must be an integer >= 0"),
        (["run", "charger", "--workers", "0"], "--workers must be an integer >= 1"),
        (["run", "thermal-gradient", "--cycle-time", "10"], "--cycle-time must be omitted for qbhw run"),
        (["run", "collective", "--n", "7", "--temperature", "2"], "--n must be"),
    ],
)
def test_bad_run_input_is_one_line_and_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qbhw: error:") and "Traceback" not in err
    assert needle in err, err


def test_unwritable_out_is_a_clear_error(tmp_path, capsys):
    """A file in the way, a path under a file, and a folder the kernel refuses (/proc: even root cannot mkdir)."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", "charger", "--shots", "9", "--out", str(blocker)]) == 2
    assert "--out must be a directory (it is an existing file)" in capsys.readouterr().err
    for bad in (blocker / "sub", "/proc/qbhw-out"):
        assert main(["run", "charger", "--shots", "9", "--out", str(bad)]) == 2
        err = capsys.readouterr().err
        assert "--out must be a directory that can be written" in err and err.count("\n") == 1


def test_dicke_estimator_is_refused_for_other_models(device):
    from qbhw.errors import ParameterError

    with pytest.raises(ParameterError) as err:
        run_experiment(Experiment("charger", ChargerParams(), device, time=ChargerTime(0.3), estimator="dicke-z"))
    assert err.value.parameter == "estimator"


def test_thermal_gradient_and_collective_runs(capsys):
    """Defaults of the other two models: the ideal column is the model (docs/physics.md: W_NESS = 0.26585 at g = 0.05
    with the global ME; collective N = 3, T = 2 closed form W = 0.3705), the noiseless circuit is within the
    mapping's own reported trace distance (figures move by at most ~||H|| x distance), and the interval of the
    measured ergotropy contains the noisy prediction (fixed seeds)."""
    tg = _run_json(capsys, ["run", "thermal-gradient", "--json"])
    assert tg["ideal"]["ergotropy"] == pytest.approx(0.26585, abs=5e-5)
    assert tg["circuit"]["details"]["trace_distance_exact_ideal"] < 1e-2
    # |W(rho) - W(sigma)| <= 2 D (spectral width of H), D the trace distance; width = omega_a + omega_s = 3
    assert (
        abs(tg["circuit"]["ergotropy"] - tg["ideal"]["ergotropy"])
        <= 2.0 * 3.0 * tg["circuit"]["details"]["trace_distance_exact_ideal"]
    )
    assert _inside(tg["measured"]["ergotropy_ci"], tg["noisy"]["ergotropy"])
    co = _run_json(capsys, ["run", "collective", "--n", "3", "--temperature", "2", "--json"])
    assert co["ideal"]["ergotropy"] == pytest.approx(0.3705, abs=5e-5)
    assert co["circuit"]["details"]["trace_distance_exact_ideal"] <= 1e-2
    assert _inside(co["measured"]["ergotropy_ci"], co["noisy"]["ergotropy"])
    assert co["measured"]["estimator"] == "full-pauli"


def test_negative_control_resonant_thermal_ness_on_the_noiseless_device(capsys):
    """docs/physics.md section 5: the resonant thermal NESS (global ME) is passive, W = 0 exactly. Measured on the
    noiseless device, the 95 % interval includes 0 (its lower end is the sample-split bound, which does not
    inherit the convexity bias). The plug-in point estimate is biased upward (ergotropy is convex), but only by
    about one bootstrap standard deviation: it lies within 5 of them above the noiseless circuit's W (which
    differs from 0 by the mapping error, ~3e-3)."""
    out = _run_json(capsys, ["run", "thermal-gradient", "--omega-a", "1", "--omega-s", "1", "--noiseless", "--json"])
    assert out["ideal"]["ergotropy"] == pytest.approx(0.0, abs=1e-12)
    m = out["measured"]
    assert m["ergotropy_ci"][0] <= 0.0 + 1e-12
    assert out["noisy"]["ergotropy"] == pytest.approx(out["circuit"]["ergotropy"], abs=1e-9)  # noiseless device
    assert m["ergotropy"] <= out["noisy"]["ergotropy"] + 5 * m["ergotropy_std"], m


@pytest.mark.slow
def test_workers_run_the_same_points_and_report_their_errors_as_one_line(capsys):
    """--workers 2 (spawned processes, each limiting its BLAS threads) gives the records of the serial run, and a
    ParameterError raised inside a worker crosses the process boundary intact: one line naming the flag, exit 2."""
    argv = ["run", "charger", "--time", "0:0.2:0.2", "--shots", "900", "--json"]
    serial = _run_json(capsys, argv)
    parallel = _run_json(capsys, [*argv, "--workers", "2"])
    assert parallel == serial
    assert main(["run", "micromaser", "--cutoff", "64", "--collisions", "1:2:1", "--workers", "2"]) == 2
    err = capsys.readouterr().err.splitlines()  # the mapping refuses a cavity of more than 4 qubits, in the worker
    assert err[-1].startswith("qbhw: error: --cutoff must be") and not any("Traceback" in e for e in err)


def test_progress_goes_to_stderr_one_line_per_stage_and_quiet_silences_it(capsys):
    """A single point reports its stages (map ... fit + bootstrap) on stderr with their times, one line each off a
    terminal; stdout holds only the result; --quiet prints no progress at all."""
    argv = ["run", "charger", *CHARGER, "--shots", "900", "--bootstrap", "20"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    stages = [line.split()[1] for line in err.splitlines()]
    assert stages == ["map", "compile", "verify", "simulate", "sample", "fit"], err
    assert "qbhw:" not in out and out.startswith("charger on fake_torino")
    assert main([*argv, "--quiet"]) == 0
    quiet_out, quiet_err = capsys.readouterr()
    assert quiet_err == "" and quiet_out == out


def test_ideal_tables_name_the_truncated_capacity_and_undefined_values_in_words(capsys):
    """The micromaser's capacity is the capacity within the truncated space: named truncated_capacity in `qbhw
    ideal` (table and JSON), with the propagation method, its error bound and the cutoff error; an efficiency the
    model leaves undefined (no heat from the hot bath) is a word, not "None"."""
    argv = ["ideal", "micromaser", "--g-tau", "0.993458826580", "--collisions", "30", "--cutoff", "12"]
    assert main(argv) == 0
    table = capsys.readouterr().out
    for row in ("truncated_capacity", "method", "error_bound", "cutoff_error", "cutoff_reference"):
        assert re.search(rf"^{row}\s+\S", table, re.M), row
    assert not re.search(r"^capacity\s", table, re.M)
    data = _run_json(capsys, [*argv, "--json"])
    assert "capacity" not in data and data["truncated_capacity"] == pytest.approx(10.99916082, abs=1e-7)
    assert data["method"] in ("steps", "stationary", "powers") and data["error_bound"] >= 0
    tg = ["ideal", "thermal-gradient", "--g", "0", "--cycle-time", "10", "--temperature-a", "0", "--temperature-s", "0"]
    assert main(tg) == 0
    table = capsys.readouterr().out
    assert re.search(r"^efficiency\s+undefined \(no heat from the hot bath\)$", table, re.M) and "None" not in table
    assert _run_json(capsys, [*tg, "--json"])["efficiency"] is None


@pytest.mark.slow
def test_a_sweep_on_a_dask_cluster_gives_the_serial_records_and_resumes(tmp_path, capsys):
    """--scheduler ADDRESS runs the points on an existing Dask cluster (here a LocalCluster of one worker process)
    with the same point store: the same JSON as the serial run, and a rerun after losing a point recomputes only
    that point."""
    distributed = pytest.importorskip("distributed")
    argv = ["run", "charger", "--time", "0:0.2:0.2", "--shots", "900", "--bootstrap", "20", "--json", "--quiet"]
    serial = _run_json(capsys, argv)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        out = tmp_path / "dask"
        on_dask = _run_json(capsys, [*argv, "--scheduler", cluster.scheduler_address, "--out", str(out)])
        assert on_dask == serial
        (out / "result.json").unlink()
        (out / "points" / "point_0001.json").unlink()
        kept = (out / "points" / "point_0000.json").stat().st_mtime_ns
        again = _run_json(capsys, [*argv, "--scheduler", cluster.scheduler_address, "--out", str(out)])
        assert again == serial
        assert (out / "points" / "point_0000.json").stat().st_mtime_ns == kept  # loaded, not recomputed
        assert (out / "points" / "point_0001.json").exists()
