"""The command line: docs/design.md section 3 keys and values, and one-line errors with exit status 2."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from qbhw.cli import main

CHARGER_KEYS = {
    "energy",
    "ergotropy",
    "capacity",
    "purity",
    "concurrence",
    "steering",
    "chsh",
    "coherence_l1",
    "imaginarity",
    "texture_battery",
    "texture_global",
}


def run(capsys, *argv):
    """Run the CLI in-process; return (exit status, stdout, stderr)."""
    try:
        status = main(list(argv))
    except SystemExit as exc:  # argparse's own exits (usage errors, --help)
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys, *argv):
    status, out, err = run(capsys, *argv, "--json")
    assert status == 0, err
    return json.loads(out)


def assert_usage_error(status, out, err, *needles):
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line, no traceback
    assert lines[0].startswith("qbhw: error:")
    for needle in needles:
        assert needle in lines[0]


def test_charger_json_matches_physics_md(capsys):
    data = run_json(
        capsys, "ideal", "charger", "--omega-b", "1", "--omega-c", "1", "--j1", "1", "--j2", "0.5", "--time", "0.3"
    )
    assert set(data) >= CHARGER_KEYS
    # docs/physics.md 2.2 reference row t = 0.3 (printed to 10 digits)
    assert data["capacity"] == pytest.approx(1.6506712298, abs=1e-9)
    assert data["concurrence"] == pytest.approx(0.5646424734, abs=1e-9)
    assert data["steering"] == pytest.approx(1.2797039679, abs=1e-9)
    assert data["chsh"] == pytest.approx(2.2967987485, abs=1e-9)
    assert data["texture_battery"] == pytest.approx(0.6483014108, abs=1e-9)
    assert data["texture_global"] == pytest.approx(0.8660254038, abs=1e-9)
    assert data["ergotropy"] == pytest.approx(0.0, abs=1e-12)
    assert data["parameters"] == {"omega_b": 1.0, "omega_c": 1.0, "j1": 1.0, "j2": 0.5}


def test_charger_table_is_readable(capsys):
    status, out, _ = run(capsys, "ideal", "charger", "--time", "1")
    assert status == 0
    assert "capacity" in out and "0.8322936731" in out


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["ideal", "charger", "--omega-b", "-1"], ["--omega-b", "> 0"]),
        (["ideal", "charger", "--omega-c", "0"], ["--omega-c", "> 0"]),
        (["ideal", "charger", "--j1", "nan"], ["--j1", "finite"]),
        (["ideal", "charger", "--time", "-2"], ["--time", ">= 0"]),
        (["ideal", "charger", "--time", "inf"], ["--time", "finite"]),
        (["ideal", "charger", "--j2", "abc"], ["--j2", "invalid float"]),
        (["ideal", "charger", "--bogus", "1"], ["unrecognized arguments", "--bogus"]),
        (["ideal", "no-such-model"], ["invalid choice", "no-such-model"]),
        ([], ["required"]),
    ],
)
def test_bad_input_is_one_line_with_status_2(capsys, argv, needles):
    status, out, err = run(capsys, *argv)
    assert_usage_error(status, out, err, *needles)


def test_console_script_is_installed():
    exe = shutil.which("qbhw", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run([exe, "ideal", "charger", "--omega-b", "-1"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


TG = [
    "ideal",
    "thermal-gradient",
    "--omega-a",
    "2",
    "--omega-s",
    "1",
    "--temperature-a",
    "2",
    "--temperature-s",
    "0.1",
    "--gamma",
    "0.01",
]


def test_thermal_gradient_ness_json(capsys):
    data = run_json(capsys, *TG, "--g", "0")
    assert {"energy", "ergotropy", "capacity", "purity", "master_equation"} <= set(data)
    # docs/physics.md 1.2: W_NESS(g -> 0) = (omega_a - omega_s)(P_A - P_S) = 0.2688960235
    assert data["ergotropy"] == pytest.approx(0.2688960235, abs=1e-9)
    assert data["master_equation"] == "global" and data["warnings"] == []


def test_thermal_gradient_cycle_json_matches_closed_form(capsys):
    data = run_json(capsys, *TG, "--g", "0", "--cycle-time", "1000")
    assert {"work", "heat", "power", "efficiency"} <= set(data)
    # docs/physics.md 1.2 limit-cycle table, tau = 1000 (Q_A = 2 W: the table's 5.3776765483e-1 is a typo)
    assert data["work"] == pytest.approx(2.6888382661e-1, rel=1e-9)
    assert data["heat"] == pytest.approx(2 * 2.6888382661e-1, rel=1e-9)
    assert data["efficiency"] == pytest.approx(0.5, abs=1e-12)
    assert data["power"] == pytest.approx(2.6888382661e-1 / 1000, rel=1e-9)


def test_thermal_gradient_charging_time(capsys):
    data = run_json(capsys, *TG, "--g", "0.05", "--time", "0")
    # at t = 0 the battery is in the ground state of H: no energy, no ergotropy, pure
    assert data["energy"] == pytest.approx(0.0, abs=1e-12)
    assert data["ergotropy"] == pytest.approx(0.0, abs=1e-12)
    assert data["purity"] == pytest.approx(1.0, abs=1e-12)


def test_local_master_equation_efficiency_carries_the_warning(capsys):
    status, out, err = run(capsys, *TG, "--g", "0.05", "--master-equation", "local", "--cycle-time", "1", "--json")
    assert status == 0
    data = json.loads(out)
    assert data["master_equation"] == "local"
    assert any("thermodynamically inconsistent" in w for w in data["warnings"])
    assert "qbhw: warning:" in err and "thermodynamically inconsistent" in err


@pytest.mark.parametrize(
    "extra, needles",
    [
        (["--gamma", "0"], ["--gamma", "> 0"]),
        (["--temperature-a", "-1"], ["--temperature-a", ">= 0"]),
        (["--omega-s", "inf"], ["--omega-s", "finite"]),
        (["--g", "-0.1"], ["--g", ">= 0"]),
        (["--g", "3"], ["--g", "global master equation"]),
        (["--master-equation", "redfield"], ["--master-equation", "invalid choice"]),
        (["--cycle-time", "0"], ["--cycle-time", "> 0"]),
        (["--time", "1", "--cycle-time", "1"], ["--time", "--cycle-time"]),
    ],
)
def test_thermal_gradient_bad_input(capsys, extra, needles):
    status, out, err = run(capsys, *TG, *extra)
    assert_usage_error(status, out, err, *needles)


def _has_runtime() -> bool:
    try:
        import qiskit_ibm_runtime  # noqa: F401
    except ImportError:
        return False
    return True


def test_devices_lists_the_embedded_snapshots(capsys):
    status, out, err = run(capsys, "devices", "--json")
    assert status == 0, err
    devices = {d["name"]: d for d in json.loads(out)["devices"]}
    assert {"fake_torino", "fake_brisbane", "synthetic_cqed"} <= set(devices)
    assert sum(d["default"] for d in devices.values()) == 1
    assert devices["synthetic_cqed"]["num_resonators"] > 0
    for d in devices.values():  # the Heron temperature trap: no device at 50 % excited population
        assert 0 <= d["median_excited_population"] < 0.1
    status, out, _ = run(capsys, "devices")
    assert status == 0 and "fake_torino (default)" in out


def test_devices_import_never_overwrites_silently(capsys, tmp_path):
    target = tmp_path / "torino.json"
    target.write_text("keep me")
    status, out, err = run(capsys, "devices", "import", "FakeTorino", "--out", str(target))
    # the target is checked before the import (so also where qiskit-ibm-runtime is missing)
    assert_usage_error(status, out, err, "exists", "--force")
    assert target.read_text() == "keep me"


@pytest.mark.skipif(not _has_runtime(), reason="qiskit-ibm-runtime (extra 'ibm') is not installed here")
def test_devices_import_writes_a_loadable_calibration(capsys, tmp_path):
    from qbhw.hardware import load_calibration

    target = tmp_path / "manila.json"
    data = run_json(capsys, "devices", "import", "FakeManilaV2", "--out", str(target))
    assert data["num_qubits"] == 5
    assert load_calibration(target).num_qubits == 5


def test_devices_import_unknown_backend(capsys):
    status, out, err = run(capsys, "devices", "import", "FakeNowhere")
    assert_usage_error(status, out, err, "FakeNowhere" if _has_runtime() else "pip install")


MM = ["ideal", "micromaser", "--g-tau", "0.993458826580", "--p-excited", "0.5", "--coherence", "1"]


def test_micromaser_json_matches_physics_md(capsys):
    data = run_json(capsys, *MM, "--collisions", "30", "--cutoff", "12")
    assert {"energy", "ergotropy", "purity", "mean_photons", "top_level_population"} <= set(data)
    # docs/physics.md 4.3, set M1, (q, c) = (0.5, 1), n = 30 (printed to 10 digits)
    assert data["energy"] == pytest.approx(2.1674396402, abs=1e-9)
    assert data["ergotropy"] == pytest.approx(2.1670200482, abs=1e-9)
    assert data["purity"] == pytest.approx(0.9993216395, abs=1e-9)
    assert data["mean_photons"] == data["energy"]  # omega = 1
    assert data["top_level_population"] < 1e-20  # docs/physics.md: the top levels stay empty to ~1e-31


def test_micromaser_incoherent_half_excited_is_passive(capsys):
    # negative control (docs/physics.md 4.2): q = 1/2, c = 0 under exact trapping tends to the maximally mixed state on
    # {0..N_tr}; after 2000 collisions the ergotropy is already ~0
    data = run_json(capsys, *MM[:-1], "0", "--collisions", "2000", "--cutoff", "12")
    assert data["ergotropy"] == pytest.approx(0.0, abs=1e-6)
    assert data["energy"] == pytest.approx(4.5, abs=1e-3)


@pytest.mark.parametrize(
    "extra, needles",
    [
        (["--p-excited", "1.5"], ["--p-excited", "[0, 1]"]),
        (["--coherence", "-0.1"], ["--coherence", "[0, 1]"]),
        (["--g-tau", "0"], ["--g-tau", "> 0"]),
        (["--collisions", "-1"], ["--collisions", ">= 0"]),
        (["--cavity-loss", "-1"], ["--cavity-loss", ">= 0"]),
        (["--thermal-photons", "nan"], ["--thermal-photons"]),
        (["--coupling", "rabi"], ["--coupling", "invalid choice"]),
        # fully excited incoherent atoms at a non-trapping g*tau climb the ladder: a cutoff of 10 overflows
        (
            ["--g-tau", "1.0", "--p-excited", "1", "--coherence", "0", "--collisions", "1000", "--cutoff", "10"],
            ["--cutoff", "raise --cutoff"],
        ),
    ],
)
def test_micromaser_bad_input(capsys, extra, needles):
    status, out, err = run(capsys, *MM, *extra)
    assert_usage_error(status, out, err, *needles)


def test_collective_json_matches_physics_md(capsys):
    data = run_json(capsys, "ideal", "collective", "--n", "8", "--temperature", "2")
    # docs/physics.md 3.2 closed forms, N = 8, T = 2 (printed to 10 digits)
    assert data["ergotropy"] == pytest.approx(0.8382794415, abs=1e-9)
    assert data["energy"] == pytest.approx(1.4403899482, abs=1e-9)
    x = np.exp(-1 / 2)  # C = N - 2 + 2 p_0, p_0 = (1 - x)/(1 - x^(N+1))
    assert data["capacity"] == pytest.approx(8 - 2 + 2 * (1 - x) / (1 - x**9), abs=1e-9)


def test_collective_same_temperature_local_channel_is_passive(capsys):
    # docs/physics.md 3.3 no-go: local bath at the same temperature -> Gibbs steady state, W = 0
    data = run_json(
        capsys,
        "ideal",
        "collective",
        "--n",
        "4",
        "--temperature",
        "2",
        "--gamma-local",
        "0.5",
        "--local-temperature",
        "2",
    )
    assert data["ergotropy"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "extra, needles",
    [
        (["--n", "0", "--temperature", "2"], ["--n", ">= 1"]),
        (["--n", "2.5", "--temperature", "2"], ["--n", "invalid int"]),
        (["--n", "4", "--temperature", "-1"], ["--temperature", ">= 0"]),
        (["--n", "4", "--temperature", "2", "--gamma", "-1"], ["--gamma", ">= 0"]),
        (["--n", "4", "--temperature", "2", "--gamma-local", "-0.1"], ["--gamma-local", ">= 0"]),
        (["--n", "4", "--temperature", "2", "--dephasing", "inf"], ["--dephasing"]),
        (["--n", "4", "--temperature", "2", "--time", "-1"], ["--time"]),
        (["--temperature", "2"], ["--n", "required"]),
    ],
)
def test_collective_bad_input(capsys, extra, needles):
    status, out, err = run(capsys, "ideal", "collective", *extra)
    assert_usage_error(status, out, err, *needles)


# ------------------------------------------------------------------------------ flags from the model catalogue

_BAD_VALUE = {float: "nan", int: "-7", str: "bogus"}


def _help(capsys, *argv):
    status, out, _ = run(capsys, *argv, "--help")
    assert status == 0
    return out


def _model_cases():
    from qbhw.experiments import MODELS

    for command in ("ideal", "run"):
        for spec in MODELS.values():
            for field in spec.fields(run=command == "run"):
                yield command, spec.name, field


@pytest.mark.parametrize(("command", "model", "field"), list(_model_cases()), ids=lambda x: getattr(x, "name", x))
def test_every_model_flag_refuses_a_bad_value_naming_a_flag_of_its_command(capsys, command, model, field):
    """Walk every flag the catalogue generates (params, time and circuit-option fields): a bad value gives one line
    with exit 2 that names a flag of that very command (never exit 1, which would mean a ParameterError on an
    internal name), and the flag is in the command's --help with its field's help text."""
    import re

    required = ["--n", "2", "--temperature", "2"] if model == "collective" else []
    extra = ["--shots", "0"] if command == "run" else []
    status, out, err = run(capsys, command, model, *required, field.flag, _BAD_VALUE[field.kind], *extra)
    assert_usage_error(status, out, err)
    named = re.findall(r"--[a-z][a-z0-9-]*", err.splitlines()[0])
    assert named, err
    text = _help(capsys, command, model)
    assert all(flag in text for flag in named), (named, err)
    assert field.flag in text and " ".join(field.help.split()[:3]) in " ".join(text.split())


def test_thermal_gradient_temperature_aliases_are_accepted(capsys):
    """--t-a/--t-s are the old spellings of --temperature-a/--temperature-s: same result, errors in the new name."""
    new = run_json(capsys, "ideal", "thermal-gradient", "--temperature-a", "3", "--temperature-s", "0.2")
    old = run_json(capsys, "ideal", "thermal-gradient", "--t-a", "3", "--t-s", "0.2")
    assert old == new and new["parameters"]["temperature_a"] == 3.0 and new["parameters"]["temperature_s"] == 0.2
    status, out, err = run(capsys, "ideal", "thermal-gradient", "--t-a", "-1")
    assert_usage_error(status, out, err, "--temperature-a", ">= 0")
    assert "--t-a" in _help(capsys, "run", "thermal-gradient")


def test_run_reports_time_where_ideal_does(capsys):
    """Physical time is a model quantity: `qbhw ideal` and `qbhw run` both put it at the top level (the micromaser's
    is its collisions parameter, in `parameters`, as in `qbhw ideal`)."""
    ideal = run_json(capsys, "ideal", "charger", "--time", "0.4")
    ran = run_json(capsys, "run", "charger", "--time", "0.4", "--shots", "0")
    assert ideal["time"] == ran["time"] == 0.4 and ran["options"] == {}
    assert ran["measured"] is None and ran["ideal"]["capacity"] == pytest.approx(ideal["capacity"], abs=1e-12)
    ideal = run_json(capsys, "ideal", "micromaser", "--collisions", "3", "--cutoff", "8")
    ran = run_json(capsys, "run", "micromaser", "--collisions", "3", "--cutoff", "8", "--shots", "0")
    assert ideal["parameters"]["collisions"] == ran["parameters"]["collisions"] == 3 and "time" not in ran


def test_a_parameter_error_on_an_internal_name_is_an_internal_error(capsys, monkeypatch):
    """A ParameterError whose parameter is not a flag of the command is qbhw's bug: one line, exit 1, said so."""
    from qbhw.errors import ParameterError
    from qbhw.models import charger

    def broken(params, time):
        raise ParameterError("params", "something internal", 1)

    monkeypatch.setattr(charger, "evolve", broken)
    status, out, err = run(capsys, "ideal", "charger")
    assert status == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("qbhw: internal error:") and "'params' is not a flag" in err


def test_an_unexpected_exception_is_one_line_not_a_traceback(capsys, monkeypatch):
    from qbhw.models import charger

    def broken(params, time):
        raise KeyError("boom")

    monkeypatch.setattr(charger, "evolve", broken)
    status, out, err = run(capsys, "ideal", "charger")
    assert (status, out) == (1, "") and err == "qbhw: internal error: KeyError: 'boom' (please report this)\n"


def test_thermal_gradient_without_a_reachable_mapping_names_a_flag_that_exists(capsys):
    """Issue 9: `qbhw run thermal-gradient --gamma 1e-5 --shots 0` once said "--tolerance must be ...", a flag no
    command has. The error must name a flag of `qbhw run thermal-gradient`."""
    import re

    status, out, err = run(capsys, "run", "thermal-gradient", "--gamma", "1e-5", "--shots", "0")
    assert_usage_error(status, out, err)
    named = re.findall(r"--[a-z][a-z0-9-]*", err)
    assert named and all(flag in _help(capsys, "run", "thermal-gradient") for flag in named), err


def test_a_steady_state_run_has_no_time_like_the_ideal_command(capsys):
    ideal = run_json(capsys, "ideal", "thermal-gradient")
    ran = run_json(capsys, "run", "thermal-gradient", "--shots", "0")
    assert "time" not in ideal and "time" not in ran and "cycle_time" not in ran
    assert ran["ideal"]["ergotropy"] == pytest.approx(ideal["ergotropy"], abs=1e-9)
