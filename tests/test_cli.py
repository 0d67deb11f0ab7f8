"""The command line: design.md section 3 keys and values, and one-line errors with exit status 2."""

import json
import shutil
import subprocess
import sys

import pytest

from qbhw.cli import main

CHARGER_KEYS = {
    "energy", "ergotropy", "capacity", "purity", "concurrence", "steering", "chsh", "coherence_l1",
    "imaginarity", "texture_battery", "texture_global",
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
    data = run_json(capsys, "ideal", "charger", "--omega-b", "1", "--omega-c", "1", "--j1", "1", "--j2", "0.5",
                    "--time", "0.3")
    assert CHARGER_KEYS <= set(data)
    # physics.md 2.2 reference row t = 0.3 (printed to 10 digits)
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
