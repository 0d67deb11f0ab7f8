"""Exact sampling of the tomography settings from a known state with the device's measurement noise
(qbhw.tomography.MeasurementNoise, outcome_probabilities, sample_counts), checked against Aer."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qbhw.errors import ParameterError
from qbhw.hardware import default_device, noise_model, noiseless, restrict
from qbhw.tomography import (
    MAX_SHOTS_PER_SETTING,
    MeasurementNoise,
    ReadoutModel,
    TomographyData,
    measurement_circuits,
    outcome_probabilities,
    pauli_settings,
    sample_counts,
)

scipy_stats = pytest.importorskip("scipy.stats")


def _amplified(cal, qubits, gate_error=0.08, p10=0.06, p01=0.09):
    """The sub-device on ``qubits`` with large single-qubit gate errors and readout errors, so that a model that
    drops either is rejected by the chi-square test below at any reasonable seed."""
    sub = restrict(cal, qubits)
    gates = tuple(dataclasses.replace(g, error=gate_error) if len(g.qubits) == 1 and g.duration_ns > 0 else g
                  for g in sub.gates)  # fmt: skip
    qs = tuple(
        dataclasses.replace(q, readout_p1_given_0=p10 + 0.01 * k, readout_p0_given_1=p01 - 0.01 * k)
        for k, q in enumerate(sub.qubits)
    )
    return dataclasses.replace(sub, gates=gates, qubits=qs)


def test_effects_are_povms_and_reduce_to_the_ideal_ones(rand):
    """Noiseless device -> the ideal projectors (I +- s)/2 (1e-12: rounding of the gate matrices); a device
    with readout errors only in Z: Z effects equal the readout-only ones exactly, X / Y differ by the gate
    error (> 1e-6); every basis's effects sum to the identity."""
    cal = default_device()
    q = (3, 4)
    quiet = MeasurementNoise.from_calibration(noiseless(cal), q)
    ideal = MeasurementNoise.from_readout(ReadoutModel.ideal(2))
    for a, b in zip(quiet.effects, ideal.effects, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
    real = MeasurementNoise.from_calibration(cal, q)
    ro_only = MeasurementNoise.from_readout(ReadoutModel.from_calibration(cal, q))
    for a, b in zip(real.effects, ro_only.effects, strict=True):
        np.testing.assert_allclose(a.sum(axis=1), np.broadcast_to(np.eye(2), (3, 2, 2)), atol=1e-12)
        np.testing.assert_allclose(a[2], b[2], atol=1e-15)
        assert np.abs(a[:2] - b[:2]).max() > 1e-6
    rho = rand.density_matrix(4)
    np.testing.assert_allclose(
        outcome_probabilities(rho, pauli_settings(2), noise=ro_only),
        outcome_probabilities(rho, pauli_settings(2), readout=ReadoutModel.from_calibration(cal, q)),
        atol=1e-14,
    )


def test_probabilities_match_an_explicit_channel(rand):
    """Independent construction: apply each qubit's noisy basis change (rz(pi/2), sx for X; sx for Y; each sx
    followed by the Kraus form of its calibrated error, rz virtual and error-free) to the state, take the Z-basis
    diagonal, apply the confusion matrices; equal to 1e-12 for a random 2-qubit state on the amplified device."""
    from qiskit.quantum_info import Kraus, Operator

    from qbhw.hardware import gate_noise

    cal = _amplified(default_device(), (5, 6))
    rho = rand.density_matrix(4)
    settings = pauli_settings(2)
    got = outcome_probabilities(rho, settings, noise=MeasurementNoise.from_calibration(cal, (0, 1)))
    from qiskit.circuit.library import RZGate, SXGate

    sx = {g.qubits[0]: g for g in cal.gates if g.name == "sx"}
    rz = Operator(RZGate(np.pi / 2)).data
    sxu = Operator(SXGate()).data

    def channel(q, basis):
        kraus = Kraus(gate_noise(cal, sx[q]).error.to_quantumchannel()).data
        steps = {"X": [rz, sxu], "Y": [sxu], "Z": []}[basis]
        ops = [np.eye(2, dtype=complex)]
        for u in steps:
            ops = [u @ k for k in ops]
            if u is sxu:
                ops = [kr @ k for kr in kraus for k in ops]
        return ops

    ro = ReadoutModel.from_calibration(cal, (0, 1))
    expected = []
    for s in settings:
        k0, k1 = channel(0, s[0]), channel(1, s[1])
        out = sum(np.kron(a, b) @ rho @ np.kron(a, b).conj().T for a in k0 for b in k1)
        p_true = np.real(np.diag(out))
        expected.append(np.kron(ro.confusion(0), ro.confusion(1)) @ p_true)
    np.testing.assert_allclose(got, np.array(expected), atol=1e-12)


def test_equal_in_distribution_to_aer():
    """Chi-square test: counts of the measurement circuits run by Aer with the (amplified) device noise model,
    started from a fixed 2-qubit density matrix, against the exact probabilities of the numpy sampler. The
    statistic over 9 settings x 4 outcomes (27 degrees of freedom) must lie below the 0.999 quantile of the
    chi-square distribution; the same counts against the readout-only probabilities must lie far above it (the
    test can fail: gate errors of 0.08 shift the X / Y outcomes by ~4 %)."""
    aer = pytest.importorskip("qiskit_aer")
    from qiskit import QuantumCircuit
    from qiskit_aer.library import SetDensityMatrix

    cal = _amplified(default_device(), (5, 6))
    rng = np.random.default_rng(5)
    g = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho = g @ g.conj().T / np.trace(g @ g.conj().T).real  # physics order: position 0 = qubit 1 below
    register = [1, 0]  # register position k <- device qubit register[k]
    # Aer's state is little-endian over (qubit 0, qubit 1): qubit 1 is the most significant, i.e. position 0
    init = QuantumCircuit(2)
    init.append(SetDensityMatrix(rho), [0, 1])
    settings = pauli_settings(2)
    circuits = measurement_circuits(init, register, settings, basis_gates=cal.basis_gates)
    shots = 20_000
    sim = aer.AerSimulator(method="density_matrix", noise_model=noise_model(cal))
    result = sim.run(circuits, shots=shots, seed_simulator=17).result()
    data = TomographyData(settings, tuple(result.get_counts(i) for i in range(len(settings))))
    observed = np.asarray(data.array, dtype=float)

    def chi2(p):
        expected = shots * p
        return float(np.sum((observed - expected) ** 2 / expected))

    dof = len(settings) * 3
    limit = scipy_stats.chi2.ppf(0.999, dof)
    noise = MeasurementNoise.from_calibration(cal, register)
    assert chi2(outcome_probabilities(rho, settings, noise=noise)) < limit
    readout_only = ReadoutModel.from_calibration(cal, register)
    assert chi2(outcome_probabilities(rho, settings, readout=readout_only)) > 10 * limit


def test_sampler_seeded_validated_and_limited(rand):
    rho = rand.density_matrix(4)
    noise = MeasurementNoise.from_calibration(default_device(), (0, 1))
    a = sample_counts(rho, pauli_settings(2), 500, seed=3, noise=noise)
    b = sample_counts(rho, pauli_settings(2), 500, seed=3, noise=noise)
    assert a == b and a.shots == (500,) * 9
    with pytest.raises(ParameterError, match="^noise"):
        sample_counts(rho, pauli_settings(2), 10, seed=1, noise=noise, readout=ReadoutModel.ideal(2))
    with pytest.raises(ParameterError, match="^noise"):
        outcome_probabilities(np.eye(8) / 8, pauli_settings(3), noise=noise)
    with pytest.raises(ParameterError, match="^shots_per_setting"):
        sample_counts(rho, pauli_settings(2), MAX_SHOTS_PER_SETTING + 1, seed=1)
    with pytest.raises(ParameterError, match="^effects"):
        MeasurementNoise((np.zeros((3, 2, 2, 2)),))
    big = sample_counts(rho, ("ZZ",), MAX_SHOTS_PER_SETTING, seed=2)  # the largest allowed shot number works
    assert big.shots == (MAX_SHOTS_PER_SETTING,)


def test_estimator_with_the_measurement_noise_is_exact_and_readout_only_is_not(rand):
    """Exact data (1e12 counts) sampled with the amplified device's measurement noise: fitted with the same
    MeasurementNoise the figures are exact (1e-8); fitted with its readout confusion alone the X / Y Paulis are
    shrunk by the gate errors and the purity is off by far more than 1e-3. The effects carry no weight outside
    span{I, basis Pauli} (leakage at rounding level), and the Z effects are the readout confusion."""
    from qbhw.physics import purity, stored_energy
    from qbhw.tomography import estimate_battery

    cal = _amplified(default_device(), (5, 6))
    noise = MeasurementNoise.from_calibration(cal, (0, 1))
    assert noise.leakage < 1e-12
    ro = noise.readout()
    assert ro == ReadoutModel.from_calibration(cal, (0, 1))
    rho = rand.density_matrix(4)
    h = np.diag([0.0, 1.0, 2.0, 3.0])
    p = outcome_probabilities(rho, pauli_settings(2), noise=noise)
    data = TomographyData.from_array(pauli_settings(2), np.rint(p * 1e12).astype(np.int64))
    good = estimate_battery(data, h, noise=noise, bootstrap=0, seed=1)
    assert good.purity.value == pytest.approx(purity(rho), abs=1e-8)
    assert good.energy.value == pytest.approx(stored_energy(rho, h), abs=1e-8)
    assert good.to_dict()["measurement_model"] == "readout and basis-change gates" and good.readout == ro
    bad = estimate_battery(data, h, readout=ro, bootstrap=0, seed=1)
    assert abs(bad.purity.value - purity(rho)) > 1e-3
    assert bad.energy.value == pytest.approx(good.energy.value, abs=1e-8)  # Z-only figures are unaffected
    with pytest.raises(ParameterError, match="^noise"):
        estimate_battery(data, h, noise=noise, readout=ro, seed=1)
