"""Pulse-informed circuit noise (qbhw.experiments.pulse_noise, issue 13 item 5): the encoded micromaser on a
cavity-QED device with every collision the pulse-level collision channel, simulated by Aer with Kraus instructions.

References: ``qbhw.pulse.run_micromaser`` (the same collision map repeated K times on the cavity, numpy), and in the
ideal pulse limit (``imperfections="none"``) the QuTiP oracle of the ideal micromaser (tests/oracles/pulse.py).

Tolerances. Aer and run_micromaser apply the same D^2 x D^2 map; they differ by its conversion to trace-preserving
Kraus operators (the engine's trace error and the dropped Choi weight, both recorded and ~3e-13 per collision with
the exact engine, asserted below 1e-11) and by rounding (~1e-15 per entry and collision): 1e-10 for K <= 3
collisions leaves a margin of 30. In the ideal limit the exact engine's collision is the Jaynes-Cummings unitary
to rounding (tests/test_pulse_micromaser.py), so the register state equals the oracle's to the same 1e-10.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from oracles.pulse import jaynes_cummings_micromaser

from qbhw import pulse
from qbhw.cli import main
from qbhw.experiments import (
    Experiment,
    MicromaserOptions,
    compile_verified,
    predict_pulse_noise,
    pulse_noise_circuit,
    uses_pulse_noise,
)
from qbhw.experiments.native import uses_native
from qbhw.experiments.pulse_noise import choi_kraus, embed_kraus
from qbhw.hardware import load_calibration
from qbhw.mapping import micromaser_circuit
from qbhw.models.micromaser import MicromaserParams

TOL = 1e-10
PULSE = MicromaserOptions(noise="pulse")


def _random_channel(d: int, n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """n random Kraus operators of a CPTP map on d levels (a random isometry) and its row-major superoperator."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n * d, d)) + 1j * rng.normal(size=(n * d, d))
    q, _ = np.linalg.qr(z)  # (n d) x d isometry
    ks = [q[k * d : (k + 1) * d] for k in range(n)]
    # row-major vec: vec(K rho K^dag) = (K (x) conj(K)) vec(rho)
    return ks, sum(np.kron(k, k.conj()) for k in ks)


def _apply(ks: list[np.ndarray], rho: np.ndarray) -> np.ndarray:
    return sum(k @ rho @ k.conj().T for k in ks)


def test_choi_kraus_reproduces_the_map_and_is_trace_preserving() -> None:
    ks, s = _random_channel(4, 3, seed=11)
    kraus, dropped, correction = choi_kraus(s, 4)
    assert len(kraus) == 3  # the Choi rank of three generic Kraus operators
    assert dropped < 1e-13 and correction < 1e-13
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    assert np.abs(_apply(kraus, x) - _apply(ks, x)).max() < 1e-13
    assert np.abs(sum(k.conj().T @ k for k in kraus) - np.eye(4)).max() < 1e-13
    # embedded in 8 levels: the same map on levels 0..3, identity on 4..7, trace preserving on all 8
    big = embed_kraus(kraus, 8)
    assert np.abs(sum(k.conj().T @ k for k in big) - np.eye(8)).max() < 1e-13
    y = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    out = _apply(big, y)
    assert np.abs(out[:4, :4] - _apply(ks, y[:4, :4])).max() < 1e-13
    assert np.abs(out[4:, 4:] - y[4:, 4:]).max() < 1e-13
    assert np.abs(out[:4, 4:]).max() == 0.0  # coherences between used and unused levels are removed


def test_choi_kraus_normalises_a_slightly_non_trace_preserving_map() -> None:
    _, s = _random_channel(3, 2, seed=2)
    kraus, _, correction = choi_kraus(1.0000001 * s, 3)  # an engine's trace error of 1e-7
    assert correction == pytest.approx(1e-7, rel=1e-3)
    assert np.abs(sum(k.conj().T @ k for k in kraus) - np.eye(3)).max() < 1e-13


def test_noise_option_selects_the_route() -> None:
    params = MicromaserParams(collisions=2, cutoff=6)
    cqed = load_calibration("synthetic_cqed")
    assert uses_native(Experiment("micromaser", params, cqed))
    assert uses_native(Experiment("micromaser", params, cqed, options=MicromaserOptions(noise="device")))
    exp = Experiment("micromaser", params, cqed, options=PULSE)
    assert uses_pulse_noise(exp) and not uses_native(exp)


def _register(rho: np.ndarray, levels: int) -> np.ndarray:
    out = np.zeros((levels, levels), dtype=complex)
    out[: rho.shape[0], : rho.shape[0]] = rho
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    "params",
    [
        MicromaserParams(collisions=2, cutoff=6),  # D = 6 < 2^3: identity on levels 6, 7
        MicromaserParams(collisions=3, cutoff=7, p_excited=0.7, g_tau=1.3),
    ],
)
def test_aer_prediction_equals_the_pulse_level_run(params: MicromaserParams) -> None:
    cal = load_calibration("synthetic_cqed")
    mapped = micromaser_circuit(params)
    compiled = compile_verified(mapped, cal)
    pn = pulse_noise_circuit(mapped, params, cal)
    assert pn.details["engine"] == "exact" and pn.details["imperfections"] == "all"
    assert pn.details["trace_correction"] < 1e-11 and pn.details["choi_dropped_weight"] < 1e-11
    prediction = predict_pulse_noise(mapped, pn, compiled)
    reference = pulse.run_micromaser(params, cal)
    expected = _register(np.asarray(reference.pulse_state), 2 ** len(mapped.register))
    assert np.abs(prediction.noisy_state - expected).max() < TOL
    assert np.abs(pn.exact_state() - expected).max() < TOL
    assert prediction.noisy.ergotropy == pytest.approx(reference.pulse.ergotropy, abs=TOL)
    assert prediction.noisy.energy == pytest.approx(reference.pulse.energy, abs=TOL)
    # the device's imperfections are visible: the pulse-informed state is not the ideal one
    assert np.abs(prediction.noisy_state - mapped.ideal_state).max() > 1e-3


def test_ideal_pulse_limit_equals_the_ideal_model() -> None:
    params = MicromaserParams(collisions=3, cutoff=6, p_excited=0.6, g_tau=1.1)
    cal = load_calibration("synthetic_cqed")
    mapped = micromaser_circuit(params)
    compiled = compile_verified(mapped, cal)
    pn = pulse_noise_circuit(mapped, params, cal, imperfections="none")
    assert pn.details["levels"] == 2
    prediction = predict_pulse_noise(mapped, pn, compiled)
    oracle = _register(jaynes_cummings_micromaser(1.1, 0.6, 1.0, 6, 3), 8)
    assert np.abs(prediction.noisy_state - oracle).max() < TOL
    assert np.abs(prediction.noisy_state - mapped.ideal_state).max() < TOL


@pytest.mark.slow
def test_cli_noise_pulse_records_the_noise_and_predicts_the_pulse_level(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "micromaser", "--device", "synthetic_cqed", "--collisions", "2", "--cutoff", "6"]
    code = main([*argv, "--noise", "pulse", "--seed", "4", "--bootstrap", "50", "--quiet", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["options"] == {"noise": "pulse"}
    details = out["circuit"]["details"]
    assert details["noise"] == "pulse" and details["encoding"] == "binary"
    assert details["pulse_noise"]["pulse_cutoff"] == 6 and details["pulse_noise"]["register_levels"] == 8
    reference = pulse.run_micromaser(MicromaserParams(collisions=2, cutoff=6), load_calibration("synthetic_cqed"))
    assert out["noisy"]["ergotropy"] == pytest.approx(reference.pulse.ergotropy, abs=TOL)
    assert out["noisy"]["energy"] == pytest.approx(reference.pulse.energy, abs=TOL)
    # register tomography sampled from that state: energy is linear, its 95 % interval contains the prediction it
    # sampled (a 5 % event otherwise; the seed is fixed)
    lo, hi = out["measured"]["energy_ci"]
    assert lo <= out["noisy"]["energy"] <= hi
    assert out["measured"]["estimator"] == "full-pauli"


@pytest.mark.slow
@pytest.mark.parametrize("noise", [("--noise", "pulse"), ()], ids=["noise-pulse", "native"])
def test_cli_imperfections_none_is_the_ideal_model(noise: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "micromaser", "--device", "synthetic_cqed", "--collisions", "2", "--cutoff", "6", *noise]
    assert main([*argv, "--imperfections", "none", "--shots", "0", "--quiet", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # the ideal pulse limit: two-level transmon, RWA, no dissipation, ideal controls (docs/physics.md 6.2); the
    # ideal column is qbhw.models.micromaser, the noisy one the pulse-level collisions: equal to rounding (TOL)
    for name in ("energy", "ergotropy", "purity"):
        assert out["noisy"][name] == pytest.approx(out["ideal"][name], abs=TOL)
    assert out["noisy"]["fidelity"] == pytest.approx(1.0, abs=TOL)
    where = out["circuit"]["details"]["pulse_noise"] if noise else out["circuit"]["details"]["pulse"]
    assert where["imperfections"] == "none" and where["levels"] == 2


def test_noise_pulse_on_a_transmon_only_device_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "micromaser", "--device", "fake_torino", "--noise", "pulse", "--collisions", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("qbhw: error: --noise must be 'device'") and "storage" in err[0]


def test_noise_pulse_is_refused_for_a_hardware_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bundle"
    argv = ["prepare", "micromaser", "--device", "fake_torino", "--collisions", "2", "--noise", "pulse"]
    code = main([*argv, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("qbhw: error: --noise must be 'device'")
    assert not out.exists()
