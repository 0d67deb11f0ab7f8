"""qbhw.mapping.micromaser: the binary (Gray-coded) Jaynes-Cummings collision circuit (docs/physics.md section 4.4).

Conventions: the register is the cavity, photon number n = register index (register[0] most significant bit),
physics (big-endian) order; the atom is |g> = |0>, |e> = |1>. Aer's density matrices and Qiskit operators are
little-endian and are reordered with qiskit_to_physics. All states are in the physical Fock basis (no gauge).
Tolerances: 1e-9 between Aer's noiseless density matrix and the exact channel (rounding over a few hundred
gates); 1e-12 for unitaries built from ~30 gates and for numpy channels (rounding); 1e-9 against QuTiP and the
model (independent double-precision iterations over <= 12 collisions, observed ~1e-15). The engineered cavity loss
is held to its own computed bound (details["loss_channel_error_bound"]), never to a looser number.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import qutip as qt
import scipy.linalg as sla
from _aer import register_state
from oracles import circuits as oracle
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Gate
from qiskit.quantum_info import Operator

from qbhw.errors import ParameterError
from qbhw.mapping import CollisionStep, append_steps, apply_steps, extraction_circuit, steps_superoperator
from qbhw.mapping.micromaser import (
    LOSS_TOLERANCE,
    MAX_COLLISIONS,
    collision_steps,
    loss_channel,
    micromaser_circuit,
)
from qbhw.models import micromaser as mm
from qbhw.physics import distance
from qbhw.physics import thermodynamics as thermo
from qbhw.physics.operators import qiskit_to_physics

#: the issue's done command: --g-tau 1.1107207345 --p-excited 0.5 --coherence 1 --collisions 10 --cutoff 8
DONE = dict(g_tau=1.1107207345, p_excited=0.5, coherence=1.0, collisions=10, cutoff=8)


def _gray_permutation(m: int) -> np.ndarray:
    """P with P[2 g(n) + a, 2 n + a] = 1: photon number n -> Gray word g(n) on cavity (x) atom."""
    levels = 2**m
    p = np.zeros((2 * levels, 2 * levels))
    for n in range(levels):
        for a in range(2):
            p[2 * (n ^ (n >> 1)) + a, 2 * n + a] = 1.0
    return p


def _circuit_collision_unitary(step: CollisionStep, m: int) -> np.ndarray:
    """The collision sub-circuit's unitary in physics order, photon-number (not Gray) basis, cavity (x) atom (the
    step's ancilla replaced by |g>, whose preparation is the identity)."""
    step = dataclasses.replace(step, ancilla=_GROUND)
    qc = QuantumCircuit(m + 1)
    append_steps(qc, [step], [list(range(m))], ancilla=m)
    qc.data = [inst for inst in qc.data if inst.operation.name != "reset"]
    u = qiskit_to_physics(Operator(qc).data, m + 1)
    p = _gray_permutation(m)
    return p.T @ u @ p


def _ladder_generator(couplings: np.ndarray, edge: float = 0.0) -> np.ndarray:
    """sum_n c_n (|n, e><n+1, g| + h.c.) + edge |M-1, e><M-1, e| on cavity (x) atom, index 2n + a."""
    levels = couplings.size + 1
    g = np.zeros((2 * levels, 2 * levels))
    for n, c in enumerate(couplings):
        g[2 * n + 1, 2 * n + 2] = g[2 * n + 2, 2 * n + 1] = c
    g[-1, -1] = edge
    return g


_GROUND = np.diag([1.0, 0.0]).astype(complex)


def _qutip_micromaser(g_tau: float, p: float, c: float, collisions: int, levels: int) -> np.ndarray:
    """Independent JC collision model in QuTiP at a Fock cutoff ``levels`` (qbhw atom basis: s+ = |e><g|)."""
    a = qt.destroy(levels)
    s_plus = qt.basis(2, 1) * qt.basis(2, 0).dag()
    u = (-1j * g_tau * (qt.tensor(a, s_plus) + qt.tensor(a.dag(), s_plus.dag()))).expm()
    x = c * math.sqrt(p * (1.0 - p))
    rho_q = qt.Qobj(np.array([[1.0 - p, x], [x, p]]))
    rho = qt.fock_dm(levels, 0)
    for _ in range(collisions):
        rho = (u * qt.tensor(rho, rho_q) * u.dag()).ptrace(0)
    return rho.full()


# ------------------------------------------------------------------------------------------ one collision


@pytest.mark.parametrize("m", [1, 2, 3])
def test_ladder_circuit_is_the_step_unitary(m, rng):
    """Full unitary on all 2^(m+1) inputs, including the truncation edge |M-1, e> with and without its phase:
    circuit == step.unitary == expm(-i theta G) with G built here."""
    levels = 2**m
    theta = 0.7
    for edge in (0.0, math.pi / theta):
        couplings = rng.uniform(-5.0, 5.0, levels - 1)
        couplings[rng.integers(levels - 1)] = 0.0  # a pruned pair
        g = _ladder_generator(couplings, edge)
        step = CollisionStep((0,), (levels,), g, theta, _GROUND, gates="ladder")
        expected = sla.expm(-1j * theta * g)
        np.testing.assert_allclose(np.asarray(step.unitary), expected, atol=1e-12)
        np.testing.assert_allclose(_circuit_collision_unitary(step, m), expected, atol=1e-12)


@pytest.mark.parametrize("coupling", ["jaynes-cummings", "ladder"])
def test_full_collision_equals_model_unitary(coupling, rng):
    """Unpruned collision = the model's truncated U at cutoff M (edge sign +1), and, under exact trapping at
    N_tr = M - 1 with k odd, the untruncated U restricted to the register (edge sign -1)."""
    m = 3
    levels = 2**m
    theta = 0.3 + rng.random()
    if coupling == "jaynes-cummings":
        theta = 0.55  # cos(0.55 sqrt 8) > 0: edge sign +1
    params = mm.MicromaserParams(g_tau=theta, collisions=levels + 1, cutoff=levels, coupling=coupling)
    if math.cos(theta * (math.sqrt(levels) if coupling == "jaynes-cummings" else 1.0)) < 0:
        pytest.skip("this draw has edge sign -1")  # pragma: no cover (the ladder draw keeps theta < 1.3)
    step = collision_steps(params, m)[-1]  # the last collision prunes nothing
    assert step.duration == theta and step.generator[-1, -1] == 0  # no edge phase
    u_model = mm.collision_unitary(theta, levels, coupling)
    np.testing.assert_allclose(np.asarray(step.unitary), u_model, atol=1e-12)
    np.testing.assert_allclose(_circuit_collision_unitary(step, m), u_model, atol=1e-12)
    # exact trapping theta sqrt(8) = pi: the physical |7, e> -> cos(pi) |7, e> = -|7, e>
    trap = mm.MicromaserParams(g_tau=math.pi / math.sqrt(8.0), collisions=levels + 1, cutoff=levels)
    step = collision_steps(trap, m)[-1]
    assert step.generator[-1, -1] != 0  # the edge term
    u_big = mm.collision_unitary(trap.g_tau, levels + 1)[: 2 * levels, : 2 * levels]
    np.testing.assert_allclose(_circuit_collision_unitary(step, m), u_big, atol=1e-12)


def test_one_collision_closed_form_and_gauge():
    """rho_1 = [[q + P cos^2, i x], [-i x, P sin^2]], x = C sqrt(qP) sin(theta) (docs/physics.md 4.1): the circuit,
    its exact channel and ideal_state all carry the physical +i (not the model's real gauge)."""
    p, c, theta = 0.3, 0.8, 0.9
    mc = micromaser_circuit(mm.MicromaserParams(g_tau=theta, p_excited=p, coherence=c, collisions=1))
    q, x = 1.0 - p, c * math.sqrt(p * (1.0 - p)) * math.sin(theta)
    rho1 = np.array([[q + p * math.cos(theta) ** 2, 1j * x], [-1j * x, p * math.sin(theta) ** 2]])
    assert mc.details["cavity_qubits"] == 1
    np.testing.assert_allclose(mc.ideal_state, rho1, atol=1e-12)
    np.testing.assert_allclose(mc.exact_state, rho1, atol=1e-12)
    np.testing.assert_allclose(register_state(mc), rho1, atol=1e-9)


# ------------------------------------------------------------------------------------------ whole circuit


def test_done_command_exact_and_matches_everything():
    """gtau = pi/sqrt 8 traps at 7 photons: 3 qubits hold the cavity exactly, edge phase included."""
    params = mm.MicromaserParams(**DONE)
    mc = micromaser_circuit(params)
    assert mc.register == (0, 1, 2) and mc.battery == (0, 1, 2)
    assert mc.num_qubits == 4  # pure atom: no purifier
    assert mc.details["trapping_photon_number"] == 7 and mc.details["edge_phase_collisions"] == 3
    np.testing.assert_allclose(mc.hamiltonian, np.diag(np.arange(8.0)), atol=0)
    # circuit == exact channel
    np.testing.assert_allclose(register_state(mc), mc.exact_state, atol=1e-9)
    # exact channel == ideal (the register holds the physical cavity exactly)
    assert distance.trace_distance(mc.exact_state, mc.ideal_state) < 1e-9
    assert mc.details["trace_distance_exact_ideal"] < 1e-9
    # ideal == the model at an untruncated cutoff (the model's own cutoff 8 is refused: its top level is populated)
    ref = mm.evolve(mm.MicromaserParams(**{**DONE, "cutoff": 12})).state
    assert np.max(np.abs(ref[8:, :])) < 1e-9
    np.testing.assert_allclose(mc.ideal_state, ref[:8, :8], atol=1e-12)
    with pytest.raises(ParameterError):
        mm.evolve(params)
    # independent QuTiP iteration
    np.testing.assert_allclose(mc.exact_state, _qutip_micromaser(1.1107207345, 0.5, 1.0, 10, 12)[:8, :8], atol=1e-9)
    # the steps alone give the exact state; without the edge phase the circuit would be the model truncated at 8
    # levels, visibly wrong (the QuTiP iteration at cutoff 8)
    vacuum = np.zeros((8, 8), complex)
    vacuum[0, 0] = 1.0
    np.testing.assert_allclose(apply_steps(mc.steps, vacuum, (8,)), mc.exact_state, atol=1e-12)
    assert sum(s.generator[-1, -1] != 0 for s in mc.steps) == 3
    wrong = _qutip_micromaser(1.1107207345, 0.5, 1.0, 10, 8)
    assert distance.trace_distance(wrong, mc.ideal_state) > 1e-4


def test_mixed_atom_with_purifier_and_truncation_edge():
    """Mixed atoms (purifier qubit), K > M with population at the edge: the circuit still equals its exact
    channel, which now differs from the physical cavity (cutoff_tolerance relaxed to allow the leak)."""
    params = mm.MicromaserParams(
        g_tau=1.0, p_excited=0.8, coherence=0.6, collisions=7, cutoff=4, cutoff_tolerance=1.0
    )  # cos(1.0 * sqrt 4) < 0: edge phase in collisions 4 ... 7
    mc = micromaser_circuit(params)
    assert mc.num_qubits == 4 and mc.details["purifier"]
    assert mc.details["edge_phase_collisions"] == 4
    np.testing.assert_allclose(register_state(mc), mc.exact_state, atol=1e-9)
    assert abs(np.trace(mc.exact_state) - 1.0) < 1e-12
    assert mc.details["max_population_above_register"] > 1e-2
    assert mc.details["trace_distance_exact_ideal"] > 1e-2
    with pytest.raises(ParameterError) as err:  # with the default tolerance the register is too small
        micromaser_circuit(mm.MicromaserParams(g_tau=1.0, p_excited=0.8, coherence=0.6, collisions=7, cutoff=4))
    assert err.value.parameter == "cutoff"


def test_exact_equals_ideal_whenever_register_holds_the_cavity(rng):
    """From the vacuum, K <= M - 1 collisions never reach |M-1, e>: the mapping is then exact for any theta."""
    for coupling in ("jaynes-cummings", "ladder"):
        p, c, theta = rng.random(), rng.random(), 0.2 + 2.5 * rng.random()
        params = mm.MicromaserParams(g_tau=theta, p_excited=p, coherence=c, collisions=3, coupling=coupling)
        mc = micromaser_circuit(params)
        assert mc.details["cavity_qubits"] == 2  # automatic cutoff K + 1 = 4
        np.testing.assert_allclose(mc.exact_state, mc.ideal_state, atol=1e-12)
        np.testing.assert_allclose(register_state(mc), mc.exact_state, atol=1e-9)
    np.testing.assert_allclose(
        micromaser_circuit(mm.MicromaserParams(g_tau=0.8, p_excited=0.7, coherence=0.4, collisions=3)).exact_state,
        _qutip_micromaser(0.8, 0.7, 0.4, 3, 6)[:4, :4],
        atol=1e-9,
    )


def test_extraction_circuit_leaves_the_passive_state():
    mc = micromaser_circuit(mm.MicromaserParams(**DONE))
    u = qiskit_to_physics(Operator(extraction_circuit(mc)).data, 3)
    after = u @ mc.ideal_state @ u.conj().T
    w = thermo.ergotropy(mc.ideal_state, mc.hamiltonian)
    assert w > 1.0  # nearly pure, highly excited
    assert thermo.energy(after, mc.hamiltonian) == pytest.approx(
        thermo.energy(mc.ideal_state, mc.hamiltonian) - w, abs=1e-10
    )


def test_done_command_two_qubit_gate_budget():
    """Regression guard on compactness: ~30 CZ per collision + 14 per edge phase (304 measured with qiskit 2.6)."""
    mc = micromaser_circuit(mm.MicromaserParams(**DONE))
    t = transpile(mc.circuit, basis_gates=["cz", "rz", "sx", "x"], optimization_level=1, seed_transpiler=3)
    assert t.count_ops().get("cz", 0) <= 330
    # only standard gates, small UnitaryGates (atom preparation) and resets: no measurement, no classical control
    assert all(isinstance(inst.operation, Gate) or inst.operation.name == "reset" for inst in mc.circuit.data)
    assert all(inst.operation.num_qubits <= 4 for inst in mc.circuit.data if inst.operation.name == "unitary")
    assert mc.circuit.num_clbits == 0


# ------------------------------------------------------------------------------------------ cavity loss

#: the issue's done command with loss: --cavity-loss 0.01 --collisions 10 --cutoff 8
LOSSY = {**DONE, "cavity_loss": 0.01}


def test_loss_channel_is_qutips():
    """The target of the engineered damping, exp(kappa dt [(n+1) D[b] + n D[b^dag]]) on the register levels."""
    for coupling in ("jaynes-cummings", "ladder"):
        params = mm.MicromaserParams(**{**LOSSY, "thermal_photons": 0.3, "coupling": coupling})
        ref = oracle.cavity_loss_superoperator(8, 0.01, 0.3, coupling)
        np.testing.assert_allclose(loss_channel(params, 8), ref, atol=1e-12)


@pytest.mark.parametrize("nth", [0.0, 0.3])
def test_damping_collisions_match_the_loss_channel_within_their_bound(nth, rand):
    """S sub-collisions of angle phi^2 = kappa dt (2n+1)/S against QuTiP's loss channel: the computed bound holds for
    random register states (and for the worst Fock state), the error is first order in 1/S, and the loss steps of
    the circuit are exactly those sub-collisions."""
    # thermal photons push ~1e-5 above the 8 levels: the register's truncation is not what this test is about
    params = mm.MicromaserParams(**{**LOSSY, "thermal_photons": nth, "cutoff_tolerance": 1e-4})
    mc = micromaser_circuit(params)
    d = mc.details
    s, phi, bound = d["loss_subcollisions"], d["loss_angle"], d["loss_channel_error_bound"]
    assert bound <= LOSS_TOLERANCE and phi == pytest.approx(math.sqrt(0.01 * (2 * nth + 1) / s), rel=1e-15)
    ref = oracle.cavity_loss_superoperator(8, 0.01, nth, "jaynes-cummings")
    p = nth / (2 * nth + 1)
    tau = np.diag([1 - p, p]).astype(complex)
    g = _ladder_generator(np.sqrt(np.arange(1.0, 8.0)))  # b s+ + b^dag s- on 8 levels

    def error(sub: int) -> tuple[float, np.ndarray]:
        step = CollisionStep((0,), (8,), g, math.sqrt(0.01 * (2 * nth + 1) / sub), tau, gates="ladder")
        diff = np.linalg.matrix_power(steps_superoperator([step], (8,)), sub) - ref
        return 0.5 * math.sqrt(8) * float(np.linalg.norm(diff, 2)), diff

    mine, diff = error(s)
    assert mine == pytest.approx(bound, rel=1e-9)
    states = [rand.density_matrix(8) for _ in range(20)] + [np.diag(np.eye(8)[n]).astype(complex) for n in range(8)]
    worst = max(
        distance.trace_distance((diff @ r.reshape(-1, order="F")).reshape(8, 8, order="F"), 0 * r) for r in states
    )
    assert 0 < worst <= bound
    assert 1.6 < error(4)[0] / error(8)[0] < 2.4  # O(phi^4) per sub-collision: O(1/S) per interval
    loss_steps = [st for st in mc.steps if st.label.startswith("loss")]
    assert len(loss_steps) == 9 * s and all(st.duration == phi for st in loss_steps)


def test_done_command_with_loss_matches_circuit_model_and_qutip():
    """--cavity-loss 0.01 --collisions 10 --cutoff 8: circuit == exact channel (Aer); exact channel vs the model with
    loss within the rigorous total bound (K - 1) x per-interval bound; the model == an independent QuTiP iteration."""
    params = mm.MicromaserParams(**LOSSY)
    mc = micromaser_circuit(params)
    d = mc.details
    np.testing.assert_allclose(register_state(mc), mc.exact_state, atol=1e-9)
    assert (
        d["trace_distance_exact_ideal"]
        <= d["loss_error_bound_total"]
        == pytest.approx(9 * d["loss_channel_error_bound"])
    )
    ref = oracle.micromaser_with_loss(1.1107207345, 0.5, 1.0, 10, 12, kappa_dt=0.01)
    assert np.abs(ref[8:, :]).max() < 1e-9  # the register holds the physical cavity
    np.testing.assert_allclose(mc.ideal_state, ref[:8, :8], atol=1e-9)
    # loss is visible: the lossless cavity differs by far more than the mapping error
    lossless = micromaser_circuit(mm.MicromaserParams(**DONE)).ideal_state
    assert distance.trace_distance(lossless, mc.ideal_state) > 10 * d["trace_distance_exact_ideal"]


def test_loss_with_thermal_photons_and_ladder_coupling():
    """Thermal photons: no pruning (the loss can add photons); the ladder coupling's loss uses its unweighted b."""
    for coupling, nth in (("jaynes-cummings", 0.05), ("ladder", 0.0)):
        params = mm.MicromaserParams(
            g_tau=0.5,
            p_excited=0.6,
            coherence=0.5,
            collisions=4,
            cutoff=8,
            cavity_loss=0.02,
            thermal_photons=nth,
            coupling=coupling,
        )
        mc = micromaser_circuit(params)
        d = mc.details
        np.testing.assert_allclose(register_state(mc), mc.exact_state, atol=1e-9)
        ref = oracle.micromaser_with_loss(0.5, 0.6, 0.5, 4, 16, 0.02, nth, coupling)
        np.testing.assert_allclose(mc.ideal_state, ref[:8, :8], atol=1e-9)
        assert d["trace_distance_exact_ideal"] <= d["loss_error_bound_total"]
        assert d["purifier"]  # the atom (C < 1) is mixed
        # pruning: the second atom meets at most 1 photon, i.e. the pairs n = 0, 1, unless thermal photons
        # entered (then every pair can be occupied before the second atom)
        second = next(st for st in mc.steps if st.label == "atom 2")
        pairs = np.count_nonzero([second.generator[2 * n + 1, 2 * n + 2] for n in range(7)])
        assert pairs == (7 if nth > 0 else 2)


def test_too_much_loss_names_cavity_loss_or_collisions():
    with pytest.raises(ParameterError) as err:
        micromaser_circuit(mm.MicromaserParams(**{**DONE, "cavity_loss": 0.5}))
    assert err.value.parameter == "cavity_loss" and "--cavity-loss" in err.value.allowed
    # 0.05 on 4 levels needs 3 damping collisions per interval: 40 atoms would need 157 collisions in all
    lossy = mm.MicromaserParams(g_tau=0.3, collisions=40, cutoff=4, cavity_loss=0.05, cutoff_tolerance=1.0)
    with pytest.raises(ParameterError) as err:
        micromaser_circuit(lossy)
    assert err.value.parameter == "collisions"


# ------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("kw", "encoding", "field"),
    [
        ({"collisions": MAX_COLLISIONS + 1}, "binary", "collisions"),
        ({"cutoff": 17}, "binary", "cutoff"),
        ({"collisions": 20, "g_tau": 0.3}, "binary", "cutoff"),  # automatic cutoff 21 > 16
        ({"collisions": 12, "cutoff": 5, "g_tau": 0.4}, "binary", "cutoff"),  # 8 levels too few for the cavity
        ({}, "unary", "encoding"),
        ({}, "qudit", "encoding"),
    ],
)
def test_impossible_mappings_raise(kw, encoding, field):
    params = mm.MicromaserParams(**{**DONE, "cutoff": None, **kw})
    with pytest.raises(ParameterError) as err:
        micromaser_circuit(params, encoding=encoding)
    assert err.value.parameter == field
