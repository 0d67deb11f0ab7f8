"""Aer noise models from calibrations: each piece equals its analytic channel.

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
    CalibrationError,
    DeviceCalibration,
    gate_noise,
    idle_relaxation_pass,
    load_calibration,
    noise_model,
    qubit_costs,
    relaxation_error,
    relaxation_process_fidelity,
    restrict,
    select_qubits,
    synthetic_cavity_qed,
    transpile_target,
)
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


def test_noise_model_rejects_bad_qubits(syn: DeviceCalibration) -> None:
    with pytest.raises(CalibrationError, match=r"qubits\[1\] must be physical qubits of synthetic_cqed"):
        noise_model(syn, [0, 9])
    with pytest.raises(CalibrationError, match="must be distinct"):
        noise_model(syn, [1, 1])
    with pytest.raises(CalibrationError, match="must be a qubit of synthetic_cqed"):
        relaxation_error(syn, 4, 10.0)
    with pytest.raises(CalibrationError, match="duration_ns must be >= 0"):
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


# ------------------------------------------------------------------------------------------------ target


def test_transpile_target_carries_the_calibration(syn: DeviceCalibration) -> None:
    from qiskit import transpile

    target = transpile_target(syn)
    assert target.num_qubits == 4
    assert target["cz"][(2, 3)].error == 5e-3
    assert target["cz"][(2, 3)].duration == pytest.approx(70e-9, rel=1e-15)
    assert not target.instruction_supported("cz", (0, 2))
    assert target["measure"][(0,)].error == pytest.approx(0.015, abs=1e-15)  # (0.010 + 0.020)/2
    assert target.qubit_properties[1].t1 == pytest.approx(100e-6, rel=1e-15)
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.measure_all()
    out = transpile(qc, target=target, optimization_level=1, seed_transpiler=7)
    assert set(out.count_ops()) <= set(syn.basis_gates) | {"measure", "barrier"}
    for inst in out.data:
        if inst.operation.name == "cz":
            pair = tuple(out.find_bit(q).index for q in inst.qubits)
            assert pair in syn.coupling_map


# ------------------------------------------------------------------------------------------------ qubit choice


def _pair_score(cal: DeviceCalibration, a: int, b: int) -> float:
    costs = qubit_costs(cal)
    two = min(g.error for g in cal.gates if len(g.qubits) == 2 and set(g.qubits) == {a, b})
    return costs[a] + costs[b] + two


@pytest.mark.parametrize("name", ["synthetic_cqed", "fake_torino"])
def test_select_two_qubits_is_the_best_edge(name: str) -> None:
    cal = load_calibration(name)
    chosen = select_qubits(cal, 2)
    # exhaustive oracle over all calibrated edges (greedy growth is exact for k = 2)
    best = min(_pair_score(cal, a, b) for a, b in cal.coupling_map)
    assert chosen in cal.coupling_map or chosen[::-1] in cal.coupling_map
    assert _pair_score(cal, *chosen) == pytest.approx(best, abs=1e-15)


def test_select_qubits_avoids_bad_qubits(torino: DeviceCalibration) -> None:
    chosen = select_qubits(torino, 5)
    assert len(set(chosen)) == 5 and 0 not in chosen  # qubit 0 reads out with ~17 % error
    sub = restrict(torino, chosen)
    # connected: every added qubit has an edge to an earlier one
    for k in range(1, 5):
        assert any((j, k) in sub.coupling_map or (k, j) in sub.coupling_map for j in range(k))
    with pytest.raises(CalibrationError, match="k must be at most the 133 qubits"):
        select_qubits(torino, 500)
    with pytest.raises(CalibrationError, match="k must be an integer >= 1"):
        select_qubits(torino, 0)
