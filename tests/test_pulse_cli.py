"""``qbhw pulse``: micromaser, charger and thermal-gradient at pulse level from the command line (issue 12 item 7,
issue 13 item 4): the issues' done-when commands, JSON keys (docs/design.md section 3: ``ideal`` and ``pulse``
objects plus engine, frame, RWA, levels, cutoff), tables, sweeps with a plot, the error budget, and --out (atomic,
locked, refused when a result exists). Bad inputs are rows of tests/test_contract.py.

Tolerances: the exact engine's ideal limit is held to 1e-8 (the issue's figure; measured ~1e-13); qiskit-dynamics
against QuTiP to 1e-6 (both at rtol 1e-9; measured ~2e-9).
"""

import json
import math
from pathlib import Path

import pytest

from qbhw.cli import main
from qbhw.models import charger as ch
from qbhw.models import micromaser as mm
from qbhw.pulse import dynamics_available

DONE_WHEN = (
    "--g-tau",
    "1.1107207345",
    "--p-excited",
    "0.5",
    "--coherence",
    "1",
    "--collisions",
    "10",
    "--cutoff",
    "12",
)
LEVELS = ("--imperfections", "levels", "--levels", "3", "--anharmonicity-mhz", "-200", "--coupling-mhz", "5")


def run(capsys, *argv):
    """Run the CLI in-process; return (exit status, stdout, stderr)."""
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys, *argv):
    status, out, err = run(capsys, *argv, "--json")
    assert status == 0, err
    return json.loads(out)


# ----------------------------------------------------------------------------------------------- micromaser


def test_done_when_no_imperfections_equals_the_ideal_model(capsys):
    data = run_json(capsys, "pulse", "micromaser", *DONE_WHEN, "--imperfections", "none")
    ideal = mm.evolve(mm.MicromaserParams(g_tau=1.1107207345, p_excited=0.5, coherence=1.0, collisions=10, cutoff=12))
    for key in ("energy", "ergotropy", "purity", "mean_photons"):
        assert abs(data["pulse"][key] - getattr(ideal, key)) < 1e-8
        assert data["ideal"][key] == getattr(ideal, key)
    assert data["pulse"]["fidelity"] == pytest.approx(1.0, abs=1e-8) and data["pulse"]["max_leakage"] == 0.0
    for key in ("engine", "frame", "rwa", "levels", "cutoff"):
        assert key in data
    assert data["engine"] == "exact" and data["frame"] == "rotating" and data["rwa"] is True
    assert data["levels"] == 2 and data["cutoff"] == 12 and data["device"] == "synthetic_cqed:q0-r4"
    assert data["parameters"]["g_tau"] == 1.1107207345 and data["imperfections"] == "none"


def test_done_when_three_levels_show_the_leakage_correction(capsys):
    status, out, err = run(capsys, "pulse", "micromaser", *DONE_WHEN, *LEVELS)
    assert status == 0, err
    assert "micromaser at pulse level on synthetic_cqed:q0-r4 after 10 collisions (imperfections levels)" in out
    assert "leakage (largest per collision)" in out and "levels 3" in out
    assert err.startswith("qbhw: collision map")  # progress on stderr, the table on stdout
    data = run_json(capsys, "pulse", "micromaser", *DONE_WHEN, *LEVELS, "--quiet")
    assert data["levels"] == 3 and data["coupling_mhz"] == 5.0 and data["anharmonicity_mhz"] == -200.0
    assert data["pulse"]["max_leakage"] > 1e-4  # |e,n> -> |f,n-1> once the cavity holds photons
    assert abs(data["pulse"]["ergotropy"] - data["ideal"]["ergotropy"]) > 1e-3
    assert data["pulse"]["fidelity_phase_corrected"] < 1 - 1e-5


@pytest.mark.slow
@pytest.mark.skipif(not dynamics_available(), reason="qiskit-dynamics is installed only in the pulse environment")
def test_done_when_dynamics_agrees_with_qutip(capsys):
    dyn = run_json(capsys, "pulse", "micromaser", *DONE_WHEN, *LEVELS, "--engine", "dynamics", "--quiet")
    qt = run_json(capsys, "pulse", "micromaser", *DONE_WHEN, *LEVELS, "--engine", "qutip", "--quiet")
    assert dyn["engine"] == "dynamics" and qt["engine"] == "qutip"
    for key in ("energy", "ergotropy", "purity", "max_leakage", "fidelity"):
        assert abs(dyn["pulse"][key] - qt["pulse"][key]) < 1e-6


@pytest.mark.slow
@pytest.mark.skipif(not dynamics_available(), reason="qiskit-dynamics is installed only in the pulse environment")
def test_dynamics_agrees_with_qutip_and_exact_on_a_dissipative_run(capsys):
    args = ("pulse", "micromaser", "--collisions", "3", "--cutoff", "6", "--imperfections", "levels,rise,t1,kappa")
    runs = {e: run_json(capsys, *args, "--engine", e, "--quiet") for e in ("dynamics", "qutip", "exact")}
    for key in ("energy", "ergotropy", "purity"):
        assert abs(runs["dynamics"]["pulse"][key] - runs["qutip"]["pulse"][key]) < 1e-6
        assert abs(runs["exact"]["pulse"][key] - runs["qutip"]["pulse"][key]) < 1e-6


@pytest.mark.skipif(dynamics_available(), reason="qiskit-dynamics is installed here")
def test_dynamics_in_the_default_environment_says_where_it_is(capsys):
    status, out, err = run(capsys, "pulse", "micromaser", "--engine", "dynamics")
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "pulse environment" in err and "make env-pulse" in err and "qbhw[pulse]" in err


@pytest.mark.slow
def test_a_collision_range_is_a_sweep_with_a_plot(capsys, tmp_path):
    out = tmp_path / "sweep"
    args = ("pulse", "micromaser", "--g-tau", "1.1107207345", "--collisions", "0:6:2", "--cutoff", "10")
    status, text, err = run(
        capsys, *args, "--imperfections", "levels,rise", "--preparation", "ideal", "--out", str(out)
    )
    assert status == 0, err
    assert "ergotropy vs collisions" in text and "wrote" in text
    assert [line.split()[0] for line in text.splitlines() if line[:1].isdigit()] == ["0", "2", "4", "6"]
    assert "qbhw: collision map" in err and "qbhw: collisions" in err
    result = json.loads((out / "result.json").read_text())
    assert result["kind"] == "sweep" and result["collisions"] == [0, 2, 4, 6]
    assert len(result["pulse"]["ergotropy"]) == 4 and result["ideal"]["ergotropy"][0] == 0.0
    assert (out / "ergotropy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the folder holds a finished result: refused without --force (nothing changed), replaced with it
    before = (out / "result.json").read_text()
    status, text, err = run(capsys, *args, "--out", str(out))
    assert status == 2 and "--force" in err and (out / "result.json").read_text() == before
    status, _, err = run(capsys, *args, "--imperfections", "none", "--out", str(out), "--force", "--quiet")
    assert status == 0 and err == ""
    assert json.loads((out / "result.json").read_text())["imperfections"] == "none"
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["ergotropy.png", "result.json"]


def test_a_small_budget_prints_every_row_and_writes_the_chart(capsys, tmp_path):
    args = ("pulse", "micromaser", "--g-tau", "1.1107207345", "--collisions", "3", "--cutoff", "6", "--budget")
    status, text, err = run(capsys, *args, "--preparation", "ideal", "--out", str(tmp_path / "b"))
    assert status == 0, err
    from qbhw.pulse import BUDGET_ROWS

    rows = [line.split()[0] for line in text.splitlines() if line.split() and line.split()[0] in BUDGET_ROWS]
    assert rows == list(BUDGET_ROWS)
    assert "largest single cost" in text and err.count("qbhw: budget row") == len(BUDGET_ROWS)
    result = json.loads((tmp_path / "b" / "result.json").read_text())
    assert result["kind"] == "budget" and result["rows"][0]["name"] == "none"
    assert abs(result["rows"][0]["delta_ergotropy"]) < 1e-8
    assert (tmp_path / "b" / "budget.png").stat().st_size > 1000


@pytest.mark.slow
def test_done_when_budget_on_the_synthetic_device(capsys):
    # the README's budget: 10 collisions at g tau = pi/(2 sqrt 2), P = 1/2, C = 1, cutoff 12, on synthetic_cqed
    data = run_json(capsys, "pulse", "micromaser", *DONE_WHEN, "--budget", "--quiet")
    rows = {r["name"]: r for r in data["rows"]}
    assert abs(rows["none"]["delta_ergotropy"]) < 1e-8
    # parked below its storage resonator the transmon no longer sweeps through the e-f degeneracy: the largest
    # leakage per collision with every imperfection is a few 1e-3 (it was 4.5e-2 parked above)
    assert rows["all"]["max_leakage"] < 1e-2
    assert -0.1 < rows["all"]["delta_ergotropy"] < 0
    assert data["largest_cost"] in rows


# --------------------------------------------------------------------------------------------------- charger


def test_charger_derives_j1_and_j2_and_compares_every_resource(capsys):
    status, text, err = run(capsys, "pulse", "charger", "--time", "0.7")
    assert status == 0, err
    assert "J2 = zeta/4" in text and "static ZZ zeta/2pi" in text
    for name in ("battery capacity", "concurrence", "steering F3", "CHSH maximum", "l1 imaginarity", "texture"):
        assert name in text
    data = run_json(capsys, "pulse", "charger", "--time", "0.7")
    c = data["coupling"]
    assert c["j1"] == 1.0 and c["levels"] == 3 and c["j2"] == pytest.approx(c["zz_khz"] / 4e3 / c["exchange_mhz"])
    assert data["ideal"]["battery_excitation"] == pytest.approx(math.sin(0.7) ** 2, rel=1e-12)
    ideal = ch.evolve(ch.ChargerParams(omega_b=c["omega_b"], omega_c=c["omega_c"], j1=c["j1"], j2=c["j2"]), 0.7)
    assert data["ideal"]["capacity"] == ideal.capacity
    assert 0.95 < data["pulse"]["fidelity"] <= 1.0 and data["engine"] == "exact" and data["rwa"] is True


def test_charger_exact_limit_from_the_command_line(capsys):
    data = run_json(capsys, "pulse", "charger", "--imperfections", "none", "--time", "1.1", "--fit-zz")
    assert data["coupling"]["j2"] == 0.0 and data["levels"] == 2
    for key, value in data["ideal"].items():
        assert abs(data["pulse"][key] - value) < 1e-8 * max(1.0, abs(value))
    assert abs(data["zz_fit"]["zz_khz"]) < 1e-6


def test_charger_time_range_writes_a_plot(capsys, tmp_path):
    status, text, err = run(
        capsys, "pulse", "charger", "--time", "0:1.5:0.5", "--imperfections", "none", "--out", str(tmp_path / "c")
    )
    assert status == 0, err
    assert err.count("qbhw: time") == 4 and "wrote" in text
    result = json.loads((tmp_path / "c" / "result.json").read_text())
    assert [p["time"] for p in result["points"]] == [0.0, 0.5, 1.0, 1.5]
    assert (tmp_path / "c" / "charger.png").stat().st_size > 1000


# ------------------------------------------------------------------------------------------ thermal gradient


def test_thermal_gradient_ness_against_both_master_equations(capsys):
    data = run_json(capsys, "pulse", "thermal-gradient", "--imperfections", "none")
    assert data["pulse"]["ergotropy"] == pytest.approx(data["ideal_local"]["ergotropy"], abs=1e-12)
    assert data["pulse"]["ergotropy"] == pytest.approx(data["ideal"]["ergotropy"], rel=1e-3)
    p = data["ideal_parameters"]
    assert p["master_equation"] == "global" and p["omega_s"] == 1.0 and p["omega_a"] > 1.0
    _, text, _ = run(capsys, "pulse", "thermal-gradient", "--imperfections", "none")
    assert "non-equilibrium steady state" in text and "ideal, global ME" in text


def test_thermal_gradient_cycle_and_its_sweep(capsys, tmp_path):
    data = run_json(capsys, "pulse", "thermal-gradient", "--imperfections", "rise", "--cycle-time-us", "2")
    c = data["cycle"]
    assert c["pulse"]["work"] == pytest.approx(c["ideal"]["work"], rel=0.01)
    assert c["pulse"]["work"] == pytest.approx(c["pulse"]["heat_total"], abs=1e-12)
    assert data["extraction_ns"] > 125.0  # the calibrated swap with flux ramps
    status, text, err = run(
        capsys,
        "pulse",
        "thermal-gradient",
        "--imperfections",
        "none",
        "--cycle-time-us",
        "1:3:1",
        "--out",
        str(tmp_path / "t"),
    )
    assert status == 0, err
    assert "tau (us)" in text and err.count("qbhw: cycle time") == 3
    assert (tmp_path / "t" / "cycle.png").stat().st_size > 1000
    result = json.loads((tmp_path / "t" / "result.json").read_text())
    assert [p["cycle_time_us"] for p in result["points"]] == [1.0, 2.0, 3.0]


def test_pulse_help_lists_the_three_models(capsys):
    status, out, _ = run(capsys, "pulse", "--help")
    assert status == 0
    for name in ("micromaser", "charger", "thermal-gradient"):
        assert name in out
    status, out, _ = run(capsys, "pulse", "micromaser", "--help")
    for flag in ("--device", "--engine", "--levels", "--coupling-mhz", "--anharmonicity-mhz", "--imperfections"):
        assert flag in out
    assert "--budget" in out and "--out" in out and "--json" in out


def test_no_result_is_written_when_a_run_fails(capsys, tmp_path):
    out = tmp_path / "fails"
    status, _, err = run(capsys, "pulse", "micromaser", "--cutoff", "3", "--collisions", "5", "--out", str(out))
    assert status == 2 and "--cutoff" in err
    assert not out.exists() or not any(p for p in out.iterdir() if p.name != ".qbhw.lock")
    assert not Path(out / "result.json").exists()
