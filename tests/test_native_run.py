"""The native cavity-QED run of the micromaser (qbhw.experiments.native): on a device with a storage resonator the
cavity is the resonator (no circuit), noisy is the pulse-level prediction, measured is displaced-parity tomography.

The pulse-level state is checked against the ideal model by tests/test_pulse_micromaser.py; here the run's
plumbing: the columns, what the JSON says, the measured interval against the pulse-level prediction it sampled,
and the bad inputs (one line, exit 2).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from qbhw.cli import main
from qbhw.experiments import Experiment
from qbhw.experiments.native import NATIVE_DESCRIPTION, run_native, uses_native
from qbhw.hardware import load_calibration, save_calibration
from qbhw.models.micromaser import MicromaserParams

# 2 collisions at cutoff 6: the pulse-level channel is a few seconds on one core
PARAMS = MicromaserParams(collisions=2, cutoff=6)


def test_native_route_is_chosen_by_the_device() -> None:
    assert uses_native(Experiment("micromaser", PARAMS, load_calibration("synthetic_cqed")))
    assert not uses_native(Experiment("micromaser", PARAMS, load_calibration("fake_torino")))


@pytest.mark.slow
def test_native_record_columns_and_interval() -> None:
    exp = Experiment("micromaser", PARAMS, load_calibration("synthetic_cqed"), seed=3)
    rec = run_native(exp)
    assert rec.circuit == rec.ideal  # no circuit: the circuit column is the ideal model
    assert rec.compilation.description == NATIVE_DESCRIPTION and rec.compilation.transpile_route == "native"
    assert rec.measured is not None
    out = rec.to_dict()
    assert out["measured"]["estimator"] == "cavity-parity"
    assert out["measured"]["settings"] == 1 + 6 * 11
    for name in ("energy", "ergotropy", "purity"):
        lo, hi = out["measured"][f"{name}_ci"]
        assert lo <= out["measured"][name] <= hi
    # energy is linear: its 95 % interval contains the pulse-level prediction it sampled (a 5 % event otherwise;
    # the seed is fixed)
    assert rec.measured.energy.contains(rec.noisy.energy)
    assert out["measured"]["cutoff_ok"]
    # the number-selective cross-check agrees with the parity energy within their combined spread
    m = out["measured"]
    assert abs(m["number_energy"] - m["energy"]) < 3 * (m["number_energy_std"] ** 2 + m["energy_std"] ** 2) ** 0.5
    assert m["number_settings"] == 6
    # the record survives its JSON
    assert type(rec).from_dict(json.loads(json.dumps(out))).to_dict() == out
    # the same experiment and seed give the same record
    assert run_native(dataclasses.replace(exp)).to_dict() == out


def _no_tunable(tmp: Path) -> Path:
    cal = load_calibration("synthetic_cqed")
    qubits = tuple(dataclasses.replace(q, tunable_range_ghz=None, flux_rise_ns=None) for q in cal.qubits)
    path = tmp / "fixed.json"
    save_calibration(dataclasses.replace(cal, name="fixed", qubits=qubits), path)
    return path


def test_device_with_resonators_but_no_tunable_transmon_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _no_tunable(tmp_path)
    code = main(["run", "micromaser", "--device", str(path), "--collisions", "2", "--cutoff", "6", "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "flux-tunable" in err[0] and "Traceback" not in err[0]
