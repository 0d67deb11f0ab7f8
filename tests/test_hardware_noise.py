"""Aer noise models from calibrations: each piece equals its analytic channel; one relaxation model (the rates of
qbhw.hardware.relaxation_rates) behind all of them; noise models built once per calibration content and qubits;
the noiseless device.

Conventions of these tests: Qiskit |0> = |g> = qbhw basis index 0, so a one-qubit Qiskit SuperOp and a qbhw
superoperator are the same matrix (both column-stacked: vec(rho) = rho.reshape(-1, order="F")). For two qubits,
Qiskit is little-endian: its 4x4 matrices are kron(op on qubit 1, op on qubit 0), i.e. qbhw's big-endian order
with subsystem 0 = Qiskit qubit 1 and subsystem 1 = Qiskit qubit 0. A gate's error acts on its arguments in order:
argument j is Qiskit qubit j of the error.

Thermal Lindbladian (docs/physics.md section 0) for T1, T2, p_e: nbar = p_e/(1 - 2 p_e), gamma = (1/T1)/(2 nbar + 1),
L = gamma (nbar + 1) D[sigma-] + gamma nbar D[sigma+] + gamma_phi D[sigma_z], gamma_phi = (1/T2 - 1/(2 T1))/2.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, Operator, SuperOp, average_gate_fidelity, partial_trace
from qiskit.transpiler import PassManager

from qbhw.hardware import (
    NOISELESS_T_US,
    CalibrationError,
    DeviceCalibration,
    gate_noise,
    idle_relaxation_pass,
    load_calibration,
    noise_model,
    noiseless,
    qubit_relaxation_rates,
    relaxation_error,
    relaxation_process_fidelity,
    relaxation_superop,
    restrict,
    synthetic_cavity_qed,
)
from qbhw.hardware import noise as noise_module
from qbhw.physics.lindblad import liouvillian, propagator
from qbhw.physics.operators import SIGMA_MINUS, SIGMA_PLUS, SIGMA_Z, embed

# closed forms vs matrix exponentials of 4x4 / 16x16 matrices: agreement to ~1e-15, 1e-12 leaves room for the
# exponential's rounding at long times
TOL = 1e-12


@pytest.fixture(scope="module")
def syn() -> DeviceCalibration:
    return synthetic_cavity_qed()


@pytest.fixture(scope="module")
def torino() -> DeviceCalibration:
    return load_calibration("fake_torino")


def _thermal_jumps(t1: float, t2: float, p_e: float, site: int, dims: list[int]) -> list[tuple[float, np.ndarray]]:
    nbar = p_e / (1.0 - 2.0 * p_e)
    gamma = (1.0 / t1) / (2.0 * nbar + 1.0)
    gamma_phi = 0.5 * (1.0 / t2 - 0.5 / t1)
    return [
        (gamma * (nbar + 1.0), embed(SIGMA_MINUS, site, dims)),
        (gamma * nbar, embed(SIGMA_PLUS, site, dims)),
        (gamma_phi, embed(SIGMA_Z, site, dims)),
    ]


def _lindblad_superop(cal: DeviceCalibration, qubits: tuple[int, ...], t_ns: float) -> np.ndarray:
    """exp(L t) for independent thermal baths on ``qubits`` (gate-argument order), in Qiskit's qubit order."""
    k = len(qubits)
    dims = [2] * k
    jumps = []
    for j, q in enumerate(qubits):
        c = cal.qubits[q]
        # argument j is Qiskit qubit j = qbhw subsystem k-1-j
        jumps += _thermal_jumps(c.t1_us * 1e3, c.t2_us * 1e3, c.excited_population, k - 1 - j, dims)
    return propagator(liouvillian(None, jumps, dim=2**k), t_ns)


# ------------------------------------------------------------------------------------------------ relaxation


@pytest.mark.parametrize("qubit", [0, 1, 2, 3])  # T2 < T1 (0, 2) and T1 < T2 <= 2 T1 (1, 3): both Aer branches
@pytest.mark.parametrize("t_ns", [0.0, 32.0, 5_000.0, 300_000.0])
def test_relaxation_equals_thermal_lindbladian(syn: DeviceCalibration, qubit: int, t_ns: float) -> None:
    aer = SuperOp(relaxation_error(syn, qubit, t_ns)).data
    np.testing.assert_allclose(aer, _lindblad_superop(syn, (qubit,), t_ns), atol=TOL, rtol=0)


def test_relaxation_on_heron_relaxes_to_calibrated_population(torino: DeviceCalibration) -> None:
    # the Heron temperature trap would give p_e = 1/2; the fixed point must be the calibrated p_e (about 0.0099)
    for q in (0, 42, 132):
        p_e = torino.qubits[q].excited_population
        s = SuperOp(relaxation_error(torino, q, 1e9)).data  # 1 s >> T1: fully thermalised
        rho = (s @ np.array([1.0, 0.0, 0.0, 1.0]) / 2.0).reshape(2, 2, order="F")
        assert rho[1, 1].real == pytest.approx(p_e, abs=TOL)
        assert p_e < 0.02
        np.testing.assert_allclose(s, _lindblad_superop(torino, (q,), 1e9), atol=TOL, rtol=0)


@pytest.mark.parametrize("qubit", [0, 1, 2, 3])
def test_rates_give_the_same_lindbladian_in_the_pulse_form(syn: DeviceCalibration, qubit: int) -> None:
    """The pulse level writes the rates as Gamma_down D[b] + Gamma_up D[b^dag] + 2 Gamma_phi D[b^dag b]; for a qubit
    this is the oracle's thermal Lindbladian (T1, T2, p_e) exactly, and relaxation_superop is its exponential."""
    r = qubit_relaxation_rates(syn, qubit)
    n = SIGMA_PLUS @ SIGMA_MINUS  # b^dag b = |e><e|
    pulse_form = liouvillian(
        None,
        [(r.decay_per_ns, SIGMA_MINUS), (r.excitation_per_ns, SIGMA_PLUS), (2.0 * r.dephasing_per_ns, n)],
        dim=2,
    )
    c = syn.qubits[qubit]
    oracle = liouvillian(None, _thermal_jumps(c.t1_us * 1e3, c.t2_us * 1e3, c.excited_population, 0, [2]), dim=2)
    np.testing.assert_allclose(pulse_form, oracle, atol=TOL * abs(oracle).max(), rtol=0)
    for t_ns in (24.0, 30_000.0):
        np.testing.assert_allclose(relaxation_superop(r, t_ns), propagator(oracle, t_ns), atol=TOL, rtol=0)


def test_relaxation_process_fidelity_closed_form(syn: DeviceCalibration) -> None:
    for qubits, t in (((0,), 32.0), ((1, 2), 70.0), ((3, 0), 5000.0)):
        s = _lindblad_superop(syn, qubits, t)
        d = 2 ** len(qubits)
        assert relaxation_process_fidelity(syn, qubits, t) == pytest.approx(np.trace(s).real / d**2, abs=TOL)


# ------------------------------------------------------------------------------------------------ gate errors


@pytest.mark.parametrize("gate", [("cz", (1, 2)), ("cz", (2, 1)), ("sx", (3,))])
def test_gate_channel_is_relaxation_then_depolarizing(
    syn: DeviceCalibration, gate: tuple[str, tuple[int, ...]]
) -> None:
    g = syn.gate(*gate)
    noise = gate_noise(syn, g)
    d = 2 ** len(g.qubits)
    relax = _lindblad_superop(syn, g.qubits, g.duration_ns)
    # depolarizing superoperator (1 - lam) Id + lam vec(I/d) vec(I)^T (column stacking: Tr rho = vec(I)^T vec(rho))
    vec_i = np.eye(d).reshape(-1, order="F")
    lam = noise.depolarizing_param
    dep = (1.0 - lam) * np.eye(d * d) + lam * np.outer(vec_i / d, vec_i)
    np.testing.assert_allclose(SuperOp(noise.error).data, dep @ relax, atol=TOL, rtol=0)
    assert 0.0 < lam < 1.0


def _gates_within(cal: DeviceCalibration, qubits: set[int]) -> list:
    return [g for g in cal.gates if set(g.qubits) <= qubits and (g.duration_ns > 0 or g.error > 0)]


def test_total_gate_error_equals_calibration_synthetic(syn: DeviceCalibration) -> None:
    for g in _gates_within(syn, set(range(syn.num_qubits))):
        noise = gate_noise(syn, g)
        assert noise.matches_calibration
        # average_gate_fidelity of the composed Aer channel: 1e-12 absolute (errors ~1e-3, float rounding ~1e-16)
        assert 1.0 - average_gate_fidelity(noise.error) == pytest.approx(g.error, abs=TOL)
        assert noise.model_error == pytest.approx(g.error, abs=TOL)


@pytest.mark.parametrize("name", ["fake_torino", "fake_brisbane"])
def test_total_gate_error_equals_calibration_real_devices(name: str) -> None:
    cal = load_calibration(name)
    gates = _gates_within(cal, set(range(0, 8)))
    assert len(gates) > 30
    for g in gates:
        noise = gate_noise(cal, g)
        measured = 1.0 - average_gate_fidelity(noise.error)
        if noise.matches_calibration:
            assert measured == pytest.approx(g.error, abs=TOL)
        else:  # relaxation alone exceeds the calibrated error: no depolarizing part
            assert noise.depolarizing_param == 0.0
            assert measured == pytest.approx(noise.relaxation_error, abs=TOL)


def test_relaxation_exceeding_calibration_is_reported(torino: DeviceCalibration) -> None:
    def relax_infidelity(g: object) -> float:  # closed form, cheap: 1 - (d F_pro + 1)/(d + 1)
        d = 2 ** len(g.qubits)
        return 1.0 - (d * relaxation_process_fidelity(torino, g.qubits, g.duration_ns) + 1.0) / (d + 1.0)

    over = [g for g in torino.gates if g.duration_ns > 0 and relax_infidelity(g) > g.error]
    assert over, "the Torino snapshot has gates whose T1/T2-limited error exceeds the calibrated error"
    g = over[0]
    noise = gate_noise(torino, g)
    assert noise.model_error == pytest.approx(noise.relaxation_error, abs=TOL)
    assert noise.model_error > g.error


def test_depolarizing_only_when_thermal_is_off(syn: DeviceCalibration) -> None:
    for g in (syn.gate("cz", (0, 1)), syn.gate("x", (2,))):
        noise = gate_noise(syn, g, thermal=False)
        d = 2 ** len(g.qubits)
        assert noise.relaxation_error == 0.0
        assert noise.depolarizing_param == pytest.approx(d * g.error / (d - 1), abs=TOL)
        assert 1.0 - average_gate_fidelity(noise.error) == pytest.approx(g.error, abs=TOL)


def test_ideal_gates_get_no_error(syn: DeviceCalibration) -> None:
    noise = gate_noise(syn, syn.gate("rz", (0,)))
    assert noise.error is None and noise.model_error == 0.0


# ------------------------------------------------------------------------------------------------ noise model


def test_noise_model_covers_only_the_listed_qubits(syn: DeviceCalibration) -> None:
    nm = noise_model(syn, [0, 1])
    assert sorted(nm.noise_qubits) == [0, 1]
    assert set(nm.noise_instructions) == {"cz", "id", "sx", "x", "measure", "reset"}
    keys = {(e["operations"][0], tuple(e["gate_qubits"][0])) for e in nm.to_dict()["errors"] if e["type"] == "qerror"}
    assert ("cz", (0, 1)) in keys and ("cz", (1, 0)) in keys
    assert not any(2 in q or 3 in q for _, q in keys)
    assert ("rz", (0,)) not in keys  # virtual gate: no error
    assert sorted(nm.basis_gates) == sorted(syn.basis_gates)


def test_readout_error_matrix_equals_calibration(torino: DeviceCalibration) -> None:
    qubits = [0, 5, 86]
    nm = noise_model(torino, qubits)
    ro = {
        tuple(e["gate_qubits"][0]): np.array(e["probabilities"])
        for e in nm.to_dict()["errors"]
        if e["type"] == "roerror"
    }
    assert sorted(ro) == [(q,) for q in qubits]
    for q in qubits:
        c = torino.qubits[q]
        expected = [[1 - c.readout_p1_given_0, c.readout_p1_given_0], [c.readout_p0_given_1, 1 - c.readout_p0_given_1]]
        np.testing.assert_array_equal(ro[(q,)], np.array(expected))


def test_noise_model_is_built_once_per_content_and_qubits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Equal calibrations built separately share one cached model (keyed by calibration_hash and the set of
    qubits); every call returns its own copy, so a caller's changes never leak into the next call."""
    import dataclasses
    import uuid

    unique = (str(uuid.uuid4()),)  # a content no other test has cached
    first = dataclasses.replace(synthetic_cavity_qed(), notes=unique)
    second = dataclasses.replace(synthetic_cavity_qed(), notes=unique)
    calls = []
    real = noise_module.gate_noise
    monkeypatch.setattr(noise_module, "gate_noise", lambda *a, **k: calls.append(a) or real(*a, **k))
    a = noise_model(first, [0, 1])
    built = len(calls)
    assert built > 0
    b = noise_model(second, [1, 0])
    assert len(calls) == built  # nothing rebuilt: same content, same set of qubits
    assert a is not b and a == b
    a.add_all_qubit_quantum_error(gate_noise(first, first.gate("cz", (0, 1))).error, ["cz"])
    assert a != b and noise_model(second, [0, 1]) == b  # the cached model was not touched
    noise_model(second, [0, 2])
    assert len(calls) > built  # another set of qubits is another model


def test_noise_model_rejects_bad_qubits(syn: DeviceCalibration) -> None:
    with pytest.raises(CalibrationError, match=r"qubits\[1\] must be physical qubits of synthetic_cqed"):
        noise_model(syn, [0, 9])
    with pytest.raises(CalibrationError, match="must be distinct"):
        noise_model(syn, [1, 1])
    with pytest.raises(CalibrationError, match="must be a qubit of synthetic_cqed"):
        relaxation_error(syn, 4, 10.0)
    with pytest.raises(CalibrationError, match="duration_ns must be a finite number >= 0"):
        relaxation_error(syn, 0, -1.0)


def _density_matrix(circuit: QuantumCircuit, nm: object | None = None) -> np.ndarray:
    from qiskit_aer import AerSimulator

    sim = AerSimulator(method="density_matrix", noise_model=nm)
    qc = circuit.copy()
    qc.save_density_matrix()
    return np.asarray(sim.run(qc).result().data()["density_matrix"])


def test_reset_error_in_simulation(syn: DeviceCalibration) -> None:
    q = 2
    nm = noise_model(syn, [q], thermal=False, gates=False, readout=False)
    qc = QuantumCircuit(4)
    qc.x(q)
    qc.reset(q)
    rho = _density_matrix(qc, nm)
    p = syn.qubits[q].reset_error
    # qubit 2 is bit 2 of the little-endian index: |0100> = 4
    expected = np.zeros((16, 16))
    expected[0, 0], expected[4, 4] = 1 - p, p
    np.testing.assert_allclose(rho, expected, atol=TOL)


def test_simulated_circuit_applies_errors_on_the_right_qubits(syn: DeviceCalibration) -> None:
    sub = restrict(syn, [2, 1])  # circuit qubit 0 = physical 2, circuit qubit 1 = physical 1
    nm = noise_model(sub)
    qc = QuantumCircuit(2)
    qc.sx(0)
    qc.cz(1, 0)
    rho = _density_matrix(qc, nm)
    expected = DensityMatrix.from_label("00").evolve(Operator.from_label("I").tensor(_sx()))
    expected = expected.evolve(SuperOp(gate_noise(sub, sub.gate("sx", (0,))).error), [0])
    expected = expected.evolve(Operator(_cz()))
    expected = expected.evolve(SuperOp(gate_noise(sub, sub.gate("cz", (1, 0))).error), [1, 0])
    np.testing.assert_allclose(rho, expected.data, atol=TOL)


def _sx() -> Operator:
    from qiskit.circuit.library import SXGate

    return Operator(SXGate())


def _cz() -> Operator:
    from qiskit.circuit.library import CZGate

    return Operator(CZGate())


# ------------------------------------------------------------------------------------------------ idle time


def test_idle_pass_adds_duration_dependent_relaxation(syn: DeviceCalibration) -> None:
    qc = QuantumCircuit(4)
    qc.x(0)
    qc.x(1)
    qc.delay(20_000, 0, unit="ns")
    qc.delay(4_000, 1, unit="dt")  # 4000 dt x 0.5 ns = 2 us, but qubit 1 is not listed: stays ideal
    qc.delay(10_000, 2, unit="dt")  # 5 us on qubit 2 (in |0>): thermal excitation towards p_e
    noisy = PassManager([idle_relaxation_pass(syn, [0, 2])]).run(qc)
    rho = _density_matrix(noisy)
    dm = DensityMatrix(rho)
    r0 = partial_trace(dm, [1, 2, 3]).data
    r1 = partial_trace(dm, [0, 2, 3]).data
    r2 = partial_trace(dm, [0, 1, 3]).data
    one = np.array([0.0, 0.0, 0.0, 1.0])  # vec(|1><1|)
    zero = np.array([1.0, 0.0, 0.0, 0.0])
    exp0 = (_lindblad_superop(syn, (0,), 20_000.0) @ one).reshape(2, 2, order="F")
    exp2 = (_lindblad_superop(syn, (2,), 5_000.0) @ zero).reshape(2, 2, order="F")
    np.testing.assert_allclose(r0, exp0, atol=TOL)
    np.testing.assert_allclose(r1, np.diag([0.0, 1.0]), atol=TOL)
    np.testing.assert_allclose(r2, exp2, atol=TOL)
    assert r2[1, 1].real > 0  # the thermal bath excites an idle |0>


# ------------------------------------------------------------------------------------------------ noiseless


def test_noiseless_device_removes_every_error_and_keeps_the_rest(syn: DeviceCalibration) -> None:
    quiet = noiseless(syn)
    assert all(q.t1_us == q.t2_us == NOISELESS_T_US for q in quiet.qubits)
    assert all(q.excited_population == q.reset_error == q.readout_p1_given_0 == 0.0 for q in quiet.qubits)
    assert all(g.error == 0.0 for g in quiet.gates)
    assert all(r.kappa_mhz == 0.0 and r.thermal_photons == 0.0 for r in quiet.resonators)
    # the Hamiltonian and the timing stay: frequencies, couplings, durations, constraints
    assert [r.coupling_mhz for r in quiet.resonators] == [r.coupling_mhz for r in syn.resonators]
    assert quiet.qubit_couplings == syn.qubit_couplings and quiet.coupling_map == syn.coupling_map
    assert [g.duration_ns for g in quiet.gates] == [g.duration_ns for g in syn.gates]
    assert (quiet.dt_ns, quiet.granularity, quiet.min_length) == (syn.dt_ns, syn.granularity, syn.min_length)
    nm = noise_model(quiet)
    assert not any(e["type"] == "roerror" for e in nm.to_dict()["errors"])
    # the longest gate's channel is the identity to ~1e-12 (relaxation over 48 ns at T = 1e15 us)
    cz = gate_noise(quiet, quiet.gate("cz", (0, 1)))
    np.testing.assert_allclose(SuperOp(cz.error).data, np.eye(16), atol=1e-12)
