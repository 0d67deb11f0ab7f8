"""The device registry: built-in snapshots as package data, the user calibrations folder, lookup by name or path,
summaries, and ``qbhw devices`` / ``qbhw devices import`` on top of them.

Every test that touches the user folder points ``$QBHW_CALIBRATIONS`` at a temporary folder, so the machine's own
``~/.local/share/qbhw/calibrations`` is never read or written.
"""

from __future__ import annotations

import dataclasses
import json
import os
from importlib import resources
from pathlib import Path

import pytest

from qbhw.cli import main
from qbhw.hardware import (
    CALIBRATIONS_ENV,
    DEFAULT_DEVICE,
    CalibrationError,
    DeviceCalibration,
    builtin_calibrations,
    calibrations_dir,
    default_device,
    dumps_calibration,
    list_device_summaries,
    list_devices,
    load_calibration,
    resolve_device,
    save_calibration,
    synthetic_cavity_qed,
    user_calibrations_dir,
)

BUILTIN = ("fake_brisbane", "fake_torino", "synthetic_cqed")


def renamed(cal: DeviceCalibration, name: str) -> DeviceCalibration:
    return dataclasses.replace(cal, name=name)


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user-calibrations"
    monkeypatch.setenv(CALIBRATIONS_ENV, str(folder))
    return folder


@pytest.fixture
def no_user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user folder that does not exist: only the built-in devices are known."""
    folder = tmp_path / "absent"
    monkeypatch.setenv(CALIBRATIONS_ENV, str(folder))
    return folder


def _has_runtime() -> bool:
    try:
        import qiskit_ibm_runtime  # noqa: F401
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------------------------------------ built-in


def test_builtin_snapshots_are_package_data(no_user_dir: Path) -> None:
    folder = builtin_calibrations()
    assert folder == resources.files("qbhw.hardware") / "data"
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".json")) == [f"{n}.json" for n in BUILTIN]
    assert (folder / "README.md").is_file()
    assert list_devices() == BUILTIN
    assert DEFAULT_DEVICE in list_devices() and default_device().name == DEFAULT_DEVICE


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_snapshot_is_exactly_what_save_writes(name: str, no_user_dir: Path, tmp_path: Path) -> None:
    cal = load_calibration(name)
    assert cal.name == name  # file stem == name field
    text = (builtin_calibrations() / f"{name}.json").read_text(encoding="utf-8")
    assert text == dumps_calibration(cal)  # no hand edits, stable formatting, schema 2
    assert text.endswith("}\n") and json.loads(text)["schema_version"] == 2
    assert load_calibration(save_calibration(cal, tmp_path / f"{name}.json")) == cal


def test_synthetic_snapshot_matches_its_generator(no_user_dir: Path) -> None:
    # regenerate with: save_calibration(synthetic_cavity_qed(), "qbhw/hardware/data/synthetic_cqed.json")
    assert load_calibration("synthetic_cqed") == synthetic_cavity_qed()


def test_device_names_are_case_and_dash_insensitive(no_user_dir: Path) -> None:
    assert load_calibration("Synthetic-CQED").name == "synthetic_cqed"
    assert load_calibration("  FAKE_TORINO ").name == "fake_torino"


# ------------------------------------------------------------------------------------------------ user folder


def test_user_folder_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CALIBRATIONS_ENV, str(tmp_path / "a"))
    assert user_calibrations_dir() == tmp_path / "a" == calibrations_dir()
    monkeypatch.delenv(CALIBRATIONS_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_calibrations_dir() == tmp_path / "xdg" / "qbhw" / "calibrations"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_calibrations_dir() == tmp_path / "home" / ".local" / "share" / "qbhw" / "calibrations"


def test_user_files_are_found_by_name_and_shadow_builtins(user_dir: Path) -> None:
    cal = synthetic_cavity_qed()
    save_calibration(renamed(cal, "my_device"), user_dir / "my_device.json")
    shadow = renamed(cal, "fake_torino")
    save_calibration(shadow, user_dir / "fake_torino.json")
    assert list_devices() == ("fake_brisbane", "fake_torino", "my_device", "synthetic_cqed")
    assert load_calibration("my-device").name == "my_device"
    assert load_calibration("fake_torino") == shadow  # the user's file wins
    assert default_device() == shadow
    summaries = {s.name: s for s in list_device_summaries()}
    assert summaries["my_device"].origin == "user" and summaries["synthetic_cqed"].origin == "built-in"
    assert summaries["fake_torino"].origin == "user" and summaries["fake_torino"].default
    assert summaries["my_device"].location == str(user_dir / "my_device.json")


def test_a_bad_user_file_names_itself(user_dir: Path) -> None:
    user_dir.mkdir()
    (user_dir / "broken.json").write_text("{", encoding="utf-8")
    assert "broken" in list_devices()
    with pytest.raises(CalibrationError, match=r"broken\.json: is not valid JSON"):
        load_calibration("broken")
    with pytest.raises(CalibrationError, match=r"broken\.json: is not valid JSON"):
        list_device_summaries()
    assert load_calibration("synthetic_cqed").name == "synthetic_cqed"  # the others still load


def test_user_folder_that_is_a_file_counts_as_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv(CALIBRATIONS_ENV, str(blocker))
    assert list_devices() == BUILTIN


# ------------------------------------------------------------------------------------------------ lookup errors


def test_unknown_device_lists_known_ones_and_the_user_folder(no_user_dir: Path) -> None:
    with pytest.raises(CalibrationError) as info:
        load_calibration("no_such_device")
    msg = str(info.value)
    assert "unknown device 'no_such_device'" in msg
    assert all(name in msg for name in BUILTIN) and str(no_user_dir) in msg


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_device_name(name: str) -> None:
    with pytest.raises(CalibrationError, match="the device name is empty"):
        load_calibration(name)


def test_explicit_folder(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="does not exist"):
        list_devices(tmp_path / "absent")
    save_calibration(synthetic_cavity_qed(), tmp_path / "only.json")
    assert list_devices(tmp_path) == ("only",)
    assert load_calibration("only", directory=tmp_path).name == "synthetic_cqed"
    assert resolve_device("only", tmp_path) == tmp_path / "only.json"


def test_a_path_without_json_suffix_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_user_dir: Path
) -> None:
    save_calibration(synthetic_cavity_qed(), tmp_path / "mydev")
    monkeypatch.chdir(tmp_path)
    assert load_calibration("mydev").name == "synthetic_cqed"


# ------------------------------------------------------------------------------------------------ summaries


def test_summaries(no_user_dir: Path) -> None:
    summaries = {s.name: s for s in list_device_summaries()}
    assert set(summaries) == set(BUILTIN)
    syn = summaries["synthetic_cqed"]
    assert syn.num_qubits == 4 and syn.num_resonators == 8 and syn.origin == "built-in"
    assert syn.median_t1_us == pytest.approx(57.5, abs=1e-12)  # median of 50, 55, 60, 70
    assert summaries[DEFAULT_DEVICE].default and sum(s.default for s in summaries.values()) == 1
    assert summaries["fake_torino"].num_qubits == 133 and summaries["fake_brisbane"].num_qubits == 127


# ------------------------------------------------------------------------------------------------ command line


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def _one_line_error(status: int, out: str, err: str, *needles: str) -> None:
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qbhw: error:"), err
    assert all(n in lines[0] for n in needles), lines[0]


def test_devices_lists_user_devices_too(user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_calibration(renamed(synthetic_cavity_qed(), "mine"), user_dir / "mine.json")
    status, out, err = _cli(capsys, "devices", "--json")
    assert status == 0, err
    devices = {d["name"]: d for d in json.loads(out)["devices"]}
    assert set(devices) == set(BUILTIN) | {"mine"}
    assert devices["mine"]["origin"] == "user"


@pytest.mark.skipif(not _has_runtime(), reason="qiskit-ibm-runtime (extra 'ibm') is not installed here")
def test_devices_import_writes_into_the_user_folder(user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _cli(capsys, "devices", "import", "athens", "--json")
    assert status == 0, err
    path = Path(json.loads(out)["path"])
    assert path == user_dir / "fake_athens_v2.json" and path.is_file()
    assert "fake_athens_v2" in list_devices()
    assert load_calibration("fake_athens_v2").num_qubits == 5


@pytest.mark.skipif(not _has_runtime(), reason="qiskit-ibm-runtime (extra 'ibm') is not installed here")
def test_devices_import_refuses_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _cli(capsys, "devices", "import", "athens", "--out", str(tmp_path), "--force")
    _one_line_error(status, out, err, str(tmp_path), "is a directory")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not _has_runtime(), reason="qiskit-ibm-runtime (extra 'ibm') is not installed here")
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_devices_import_refuses_an_unwritable_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        status, out, err = _cli(capsys, "devices", "import", "athens", "--out", str(folder / "a.json"))
        _one_line_error(status, out, err, "cannot write the calibration here")
    finally:
        folder.chmod(0o700)
