"""The collision kit's public surface (qbhw.mapping: CollisionStep, apply_steps, steps_superoperator, append_steps).

References: QuTiP's partial trace of U (rho (x) tau) U^dagger with operators built from QuTiP primitives
(tests/oracles/circuits.py's basis map: |g> = basis(2, 0), s- = destroy(2)), scipy's expm, Qiskit's Operator of the
appended circuit, and a noiseless Aer density-matrix run. Big-endian (physics) order, ancilla last.
Tolerances: 1e-12 for dense algebra on <= 32-dimensional matrices (rounding, observed ~1e-15); 1e-9 for Aer
(rounding over tens of gates and resets).
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip as qt
import scipy.linalg as sla
from oracles import circuits as oracle
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator

from qbhw.mapping import CollisionStep, append_steps, apply_steps, steps_superoperator
from qbhw.physics.operators import qiskit_to_physics

NUMERIC_TOL = 1e-12
CIRCUIT_TOL = 1e-9


def _flip_flop() -> np.ndarray:
    a, b = oracle.qubit_lowering(2)
    return (a.dag() * b + b.dag() * a).full()


def _zz() -> np.ndarray:
    a, b = oracle.qubit_lowering(2)
    return ((2 * a.dag() * a - 1) * (2 * b.dag() * b - 1)).full()


def _qutip_channel(u: np.ndarray, rho: np.ndarray, tau: np.ndarray, dims: list[int]) -> np.ndarray:
    """Tr_a[U (rho (x) tau) U^dagger] with QuTiP's tensor and ptrace (ancilla last)."""
    joint = qt.tensor(qt.Qobj(rho, dims=[dims, dims]), qt.Qobj(tau))
    uq = qt.Qobj(u, dims=[dims + [2], dims + [2]])
    return (uq * joint * uq.dag()).ptrace(list(range(len(dims)))).full()


def _circuit_unitary(step: CollisionStep, n_system: int) -> np.ndarray:
    """The unitary of the step's interaction alone (no preparation, no reset), physics order, ancilla last."""
    anc = None if step.ancilla is None else n_system
    qc = QuantumCircuit(n_system + (0 if anc is None else 1))
    pure = CollisionStep(
        step.system,
        step.dims,
        step.generator,
        step.duration,
        None if anc is None else np.diag([1.0, 0]),
        True,
        step.gates,
    )
    append_steps(qc, [pure], [[q] for q in range(n_system)], ancilla=anc)
    qc.data = [inst for inst in qc.data if inst.operation.name not in ("reset",) and inst.operation.label != "prep"]
    return qiskit_to_physics(Operator(qc).data, qc.num_qubits)


def test_step_validation_rejects_inconsistent_descriptions() -> None:
    ff = _flip_flop()
    tau = np.diag([0.7, 0.3])
    with pytest.raises(ValueError, match="Hermitian"):
        CollisionStep((0,), (2,), ff + 0.1j * np.eye(4) * np.arange(4), 0.3, tau)
    with pytest.raises(ValueError, match="2x2"):
        CollisionStep((0,), (2,), ff, 0.3)  # no ancilla: the generator must act on the system alone
    with pytest.raises(ValueError, match="flip-flop"):
        CollisionStep((0,), (2,), _zz(), 0.3, tau, gates="flip-flop")
    with pytest.raises(ValueError, match="ancilla"):
        CollisionStep((0,), (2,), ff, 0.3, np.diag([0.7, 0.4]))  # trace 1.1
    with pytest.raises(ValueError, match="duration"):
        CollisionStep((0,), (2,), ff, -0.1, tau)
    with pytest.raises(ValueError, match="ladder"):
        CollisionStep((0,), (4,), np.eye(8), 0.3, tau, gates="ladder")  # not a pair generator
    with pytest.raises(ValueError, match="cavity"):
        CollisionStep((0,), (4,), np.zeros((8, 8)), 0.3, tau)  # a cavity needs gates="ladder"
    step = CollisionStep((0,), (2,), ff, 0.3, tau)
    with pytest.raises(ValueError):
        step.generator[0, 0] = 1.0  # read-only


@pytest.mark.parametrize("gates", ["unitary", "flip-flop", "zz"])
def test_two_qubit_constructions_are_exp_of_the_generator(gates: str) -> None:
    g = _zz() if gates == "zz" else _flip_flop()
    step = CollisionStep((0,), (2,), g, 0.83, np.diag([0.6, 0.4]), gates=gates)
    expected = sla.expm(-1j * 0.83 * g)
    assert np.abs(np.asarray(step.unitary) - expected).max() < NUMERIC_TOL
    assert np.abs(_circuit_unitary(step, 1) - expected).max() < NUMERIC_TOL


@pytest.mark.parametrize("gates", ["palindromic", "sequential"])
def test_product_exchanges_match_their_factor_order(gates: str) -> None:
    # palindromic: h0(t/2) h1(t/2) h2(t) h1(t/2) h0(t/2) in time order; sequential: h0(t) h1(t) h2(t)
    sms = oracle.qubit_lowering(4)
    h = [(s.dag() * sms[3] + sms[3].dag() * s).full() for s in sms[:3]]
    t = 0.41
    factors = (
        [(0, t / 2), (1, t / 2), (2, t), (1, t / 2), (0, t / 2)] if gates == "palindromic" else [(0, t), (1, t), (2, t)]
    )
    expected = np.eye(16, dtype=complex)
    for q, a in factors:
        expected = sla.expm(-1j * a * h[q]) @ expected
    step = CollisionStep((0, 1, 2), (2, 2, 2), sum(h), t, np.diag([0.9, 0.1]), gates=gates)
    assert np.abs(np.asarray(step.unitary) - expected).max() < NUMERIC_TOL
    assert np.abs(_circuit_unitary(step, 3) - expected).max() < NUMERIC_TOL
    # the product is not exp(-i t sum h): O(t^3) (palindromic) or O(t^2) (sequential) away
    assert np.abs(expected - sla.expm(-1j * t * sum(h))).max() > 1e-4


def test_channel_is_qutips_partial_trace(rand) -> None:
    # a generic two-qubit system step with a non-diagonal (coherent) ancilla state
    g = rand.ginibre(8, 8)
    g = g + g.conj().T
    tau = rand.density_matrix(2)
    rho = rand.density_matrix(4)
    step = CollisionStep((0, 1), (2, 2), g, 0.7, tau)
    ref = _qutip_channel(sla.expm(-0.7j * g), rho, tau, [2, 2])
    assert np.abs(apply_steps([step], rho, (2, 2)) - ref).max() < NUMERIC_TOL
    sup = steps_superoperator([step], (2, 2))
    assert np.abs((sup @ rho.reshape(-1, order="F")).reshape(4, 4, order="F") - ref).max() < NUMERIC_TOL


def test_steps_on_reordered_subsystems_embed_correctly(rand) -> None:
    # a step on system positions (2, 0) of three qubits: generator order (q2, q0, ancilla)
    g = rand.ginibre(8, 8)
    g = g + g.conj().T
    tau = rand.density_matrix(2)
    rho = rand.density_matrix(8)
    step = CollisionStep((2, 0), (2, 2), g, 0.5, tau)
    # reference: the generator on (q2, q0, a), tensored with 1 on q1 and permuted to (q0, q1, q2, a) by QuTiP
    g_sub = qt.Qobj(g, dims=[[2, 2, 2], [2, 2, 2]])
    g_full = qt.tensor(g_sub, qt.qeye(2)).permute([1, 3, 0, 2])
    u = (-0.5j * g_full).expm()
    joint = qt.tensor(qt.Qobj(rho, dims=[[2, 2, 2], [2, 2, 2]]), qt.Qobj(tau))
    ref = (u * joint * u.dag()).ptrace([0, 1, 2]).full()
    assert np.abs(apply_steps([step], rho, (2, 2, 2)) - ref).max() < NUMERIC_TOL


def test_circuit_of_steps_equals_their_channel_in_aer(rand) -> None:
    """Mixed ancillas (purifier), coherent steps, flip-flop/zz collisions on different qubits, a repeated step and a
    final step without reset: the Aer density matrix of append_steps' circuit equals apply_steps from |000>."""
    from qiskit_aer import AerSimulator

    ff, zz = _flip_flop(), _zz()
    h = rand.ginibre(4, 4)
    h = h + h.conj().T
    thermal = np.diag([0.8, 0.2]).astype(complex)
    repeated = CollisionStep((1,), (2,), ff, 0.9, thermal, gates="flip-flop")
    steps = [
        CollisionStep((0, 2), (2, 2), h, 0.6),  # coherent, non-adjacent qubits
        repeated,
        CollisionStep((2,), (2,), zz, 0.4, np.full((2, 2), 0.5), gates="zz"),
        repeated,
        CollisionStep((0,), (2,), ff, 1.2, rand.density_matrix(2), gates="flip-flop", reset=False),
    ]
    qc = QuantumCircuit(5)
    append_steps(qc, steps, [[0], [1], [2]], ancilla=3, purifier=4)
    qc.save_density_matrix(qubits=[0, 1, 2])
    sim = AerSimulator(method="density_matrix")
    from qiskit import transpile

    rho = qiskit_to_physics(np.asarray(sim.run(transpile(qc, sim)).result().data(0)["density_matrix"]), 3)
    start = np.zeros((8, 8), dtype=complex)
    start[0, 0] = 1.0
    assert np.abs(rho - apply_steps(steps, start, (2, 2, 2))).max() < CIRCUIT_TOL
    assert qc.count_ops()["reset"] == 3 + 3  # three ancilla resets, three purifier resets (mixed ancilla states)
    with pytest.raises(ValueError, match="last step"):
        append_steps(QuantumCircuit(5), [steps[-1], repeated], [[0], [1], [2]], ancilla=3, purifier=4)
