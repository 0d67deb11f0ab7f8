"""Calibration files never break a caller: a catalogue of malformed files and file-system failures, each of which
must end as one CalibrationError naming the file (and the field where there is one): one line, short, no
traceback. Also: atomic, refusing saves, and the command line's one-line errors for such files.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from qbhw.cli import main
from qbhw.hardware import (
    CalibrationError,
    calibration_to_dict,
    load_calibration,
    read_calibration,
    save_calibration,
    synthetic_cavity_qed,
)
from qbhw.hardware import calibration_io as io_module

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
#: an error message is one line of at most this many characters, however large the offending value
MAX_MESSAGE = 600


def _base() -> dict[str, Any]:
    return calibration_to_dict(synthetic_cavity_qed())


def _with(path: tuple[Any, ...], value: Any) -> str:
    d = _base()
    target = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(d)


def _replace_number(path: tuple[Any, ...], literal: str) -> str:
    """The base JSON with the number at ``path`` replaced by a raw JSON literal (NaN, 1e400, huge integers)."""
    return _with(path, "@@").replace('"@@"', literal)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# (id, file text or bytes, expected field or None, words in the message)
CATALOGUE: list[tuple[str, str | bytes, str | None, str]] = [
    # not JSON
    ("empty", "", None, "is not valid JSON"),
    ("truncated", '{"schema_version": 2, "name": ', None, "is not valid JSON"),
    ("trailing comma", '{"schema_version": 2,}', None, "is not valid JSON"),
    ("not utf-8", b'{"name": "\xff\xfe"}', None, "is not UTF-8 text"),
    ("binary", bytes(range(256)), None, "is not UTF-8 text"),
    ("nested too deeply", _deep(200_000), None, "nested too deeply"),
    ("deep value", _with(("notes",), "@@").replace('"@@"', _deep(100_000)), None, "nested too deeply"),
    ("integer too long to convert", _replace_number(("qubits", 0, "t1_us"), "9" * 5000), None, "not valid JSON"),
    ("duplicate key", '{"schema_version": 2, "schema_version": 1}', None, "has the key 'schema_version' twice"),
    # JSON of the wrong shape
    ("top level list", "[1, 2, 3]", None, "must be a JSON object at the top level (got list)"),
    ("top level number", "1", None, "must be a JSON object at the top level (got int)"),
    ("top level string", '"fake_torino"', None, "must be a JSON object at the top level (got str)"),
    ("top level null", "null", None, "must be a JSON object at the top level (got NoneType)"),
    ("qubits an object", _with(("qubits",), {"0": {}}), "qubits", "must be a list"),
    ("qubits a string", _with(("qubits",), "q0 q1"), "qubits", "must be a list"),
    ("qubit a number", _with(("qubits", 0), 1), "qubits[0]", "must be a JSON object (got 1)"),
    ("qubit null", _with(("qubits", 0), None), "qubits[0]", "must be a JSON object (got None)"),
    ("gates a string", _with(("gates",), "cz"), "gates", "must be a list"),
    ("gate qubits a string", _with(("gates", 0, "qubits"), "01"), "gates[0].qubits", "must be a list"),
    ("gate qubit a string", _with(("gates", 0, "qubits"), [0, "1"]), "gates[0].qubits[1]", "must be an integer"),
    ("coupling map a number", _with(("coupling_map",), 5), "coupling_map", "must be a list"),
    ("coupling edge of strings", _with(("coupling_map", 0), ["0", "1"]), "coupling_map[0][0]", "an integer"),
    ("basis gate a number", _with(("basis_gates", 0), 1), "basis_gates[0]", "must be a non-empty string"),
    ("note a number", _with(("notes", 0), 1), "notes[0]", "must be a non-empty string"),
    ("resonator null", _with(("resonators", 0), None), "resonators[0]", "must be a JSON object"),
    ("tunable range a string", _with(("qubits", 0, "tunable_range_ghz"), "3-5"), "qubits[0].tunable_range_ghz", "list"),
    # numbers that are not numbers
    ("boolean for a number", _with(("qubits", 0, "t1_us"), True), "qubits[0].t1_us", "must be a finite real number"),
    ("boolean for an index", _with(("qubits", 0, "index"), False), "qubits[0].index", "must be an integer >= 0"),
    ("boolean for a count", _with(("granularity",), True), "granularity", "must be an integer in"),
    ("string for a number", _with(("dt_ns",), "0.5"), "dt_ns", "must be a finite real number"),
    ("list for a number", _with(("qubits", 0, "t1_us"), [100]), "qubits[0].t1_us", "must be a finite real number"),
    ("object for a number", _with(("gates", 0, "error"), {}), "gates[0].error", "must be a finite real number"),
    ("NaN", _replace_number(("qubits", 0, "t1_us"), "NaN"), "qubits[0].t1_us", "must be a finite real number"),
    (
        "Infinity",
        _replace_number(("qubits", 0, "t2_us"), "Infinity"),
        "qubits[0].t2_us",
        "must be a finite real number",
    ),
    ("-Infinity", _replace_number(("qubits", 0, "anharmonicity_ghz"), "-Infinity"), "qubits[0].anharmonicity_ghz", ""),
    (
        "1e400 (overflows to inf)",
        _replace_number(("gates", 0, "error"), "1e400"),
        "gates[0].error",
        "finite real number",
    ),
    ("huge float", _replace_number(("qubits", 0, "t1_us"), "1e308"), "qubits[0].t1_us", "magnitude <= 1e+18"),
    ("huge integer", _replace_number(("qubits", 0, "t1_us"), "1" + "0" * 400), "qubits[0].t1_us", "finite"),
    ("huge index", _replace_number(("qubits", 1, "index"), "1" + "0" * 400), "qubits[1].index", "must be 1"),
    ("huge count", _replace_number(("min_length",), "1" + "0" * 400), "min_length", "an integer in [1, 65536]"),
    ("huge string", _with(("name",), "x" * 1_000_000), "name", "must be at most 100"),
    ("long unknown key", _with(("y" * 100_000,), 1), None, "is not a known key"),
    ("key with a newline", _with(("a\nb",), 1), "'a\\nb'", "is not a known key"),
]


@pytest.mark.parametrize(("text", "field", "words"), [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE])
def test_malformed_file_is_one_clear_error(text: str | bytes, field: str | None, words: str, tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    with pytest.raises(CalibrationError) as info:
        load_calibration(p)
    e = info.value
    message = str(e)
    assert e.file == str(p) and message.startswith(f"{p}: ")
    if field is not None:
        assert e.field == field
    assert words in message
    assert "\n" not in message and len(message) <= MAX_MESSAGE + len(str(p))


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(_base()).encode("utf-8"))
    assert load_calibration(p) == synthetic_cavity_qed()


# ------------------------------------------------------------------------------------------------ file system


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "dev.json"
    folder.mkdir()
    with pytest.raises(CalibrationError, match="is a directory, not a calibration file"):
        load_calibration(folder)
    with pytest.raises(CalibrationError, match="is a directory"):
        load_calibration(str(tmp_path) + os.sep)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match=r"nope\.json: calibration file not found"):
        load_calibration(tmp_path / "nope.json")


@pytest.mark.skipif(IS_ROOT, reason="root reads files whatever their permissions")
def test_unreadable_file(tmp_path: Path) -> None:
    p = tmp_path / "secret.json"
    p.write_text(json.dumps(_base()), encoding="utf-8")
    p.chmod(0)
    try:
        with pytest.raises(CalibrationError, match="cannot read the file"):
            load_calibration(p)
    finally:
        p.chmod(0o600)


def test_file_that_vanishes_between_look_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file found by stat but deleted before it is opened (another process removed it)."""
    p = tmp_path / "gone.json"
    real_stat = os.stat(tmp_path / ".." / tmp_path.name)  # any existing directory's stat, turned into a file's

    class FileStat:
        st_mode = (real_stat.st_mode & ~0o170000) | 0o100000  # S_IFREG

    monkeypatch.setattr(io_module.os, "stat", lambda path: FileStat())
    with pytest.raises(CalibrationError, match="calibration file not found"):
        read_calibration(p)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(CalibrationError, match="is not a regular file"):
        load_calibration(fifo)


def test_file_too_large_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "big.json"
    p.write_text(json.dumps(_base()), encoding="utf-8")
    monkeypatch.setattr(io_module, "MAX_FILE_BYTES", 1000)
    with pytest.raises(CalibrationError, match="is larger than"):
        load_calibration(p)


@pytest.mark.parametrize("bad", ["a\0b.json", "x" * 300 + ".json"], ids=["nul byte", "name too long"])
def test_unopenable_path(bad: str, tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="cannot read the file"):
        load_calibration(tmp_path / bad)


# ------------------------------------------------------------------------------------------------ saving


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "dev.json"
    cal = synthetic_cavity_qed()
    save_calibration(cal, target)
    before = target.read_text(encoding="utf-8")
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    import qbhw._files

    monkeypatch.setattr(qbhw._files.os, "replace", boom)
    changed = dataclasses.replace(cal, notes=("changed",))
    with pytest.raises(CalibrationError, match=r"dev\.json: cannot write the calibration here \(No space left"):
        save_calibration(changed, target)
    assert target.read_text(encoding="utf-8") == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["dev.json"]  # no temporary file left behind


def test_save_refuses_a_directory_and_a_name_too_long(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="is a directory; give the path of a .json file"):
        save_calibration(synthetic_cavity_qed(), tmp_path)
    with pytest.raises(CalibrationError, match="cannot write the calibration here"):
        save_calibration(synthetic_cavity_qed(), tmp_path / ("x" * 300 + ".json"))
    with pytest.raises(CalibrationError, match="cannot write the calibration here"):
        save_calibration(synthetic_cavity_qed(), tmp_path / "a\0b.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(IS_ROOT, reason="root writes into read-only folders")
def test_save_refuses_an_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(CalibrationError, match="cannot write the calibration here"):
            save_calibration(synthetic_cavity_qed(), folder / "x.json")
    finally:
        folder.chmod(0o700)


def test_save_into_a_path_below_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CalibrationError, match="cannot write the calibration here"):
        save_calibration(synthetic_cavity_qed(), blocker / "x.json")


# ------------------------------------------------------------------------------------------------ command line


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    "case", ["truncated", "top level list", "nested too deeply", "NaN", "huge integer", "gate qubit a string"]
)
def test_command_line_reports_a_bad_device_file_in_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = next(c[1] for c in CATALOGUE if c[0] == case)
    p = tmp_path / "dev.json"
    p.write_text(text if isinstance(text, str) else "", encoding="utf-8")
    status, out, err = _cli(capsys, "run", "charger", "--device", str(p), "--shots", "100")
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"qbhw: error: {p}: ")


def test_command_line_reports_a_directory_as_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _cli(capsys, "run", "charger", "--device", str(tmp_path) + os.sep, "--shots", "100")
    assert status == 2 and out == "" and err.count("\n") == 1 and "is a directory" in err
