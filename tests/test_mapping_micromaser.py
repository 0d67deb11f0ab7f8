"""qbhw.mapping.micromaser: the binary (Gray-coded) Jaynes-Cummings collision circuit (docs/physics.md section 4.4).

Conventions: the register is the cavity, photon number n = register index (register[0] most significant bit),
physics (big-endian) order; the atom is |g> = |0>, |e> = |1>. Aer's density matrices and Qiskit operators are
little-endian and are reordered with qiskit_to_physics. All states are in the physical Fock basis (no gauge).
Tolerances: 1e-9 between Aer's noiseless density matrix and the exact channel (rounding over a few hundred
gates); 1e-12 for unitaries built from ~30 gates and for numpy channels (rounding); 1e-9 against QuTiP and the
model (independent double-precision iterations over <= 12 collisions, observed ~1e-15).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip as qt
from _aer import register_state
from qiskit import transpile
from qiskit.circuit import Gate
from qiskit.quantum_info import Operator

from qbhw.errors import ParameterError
from qbhw.mapping.micromaser import (
    MAX_COLLISIONS,
    CollisionPlan,
    collision_circuit,
    collision_matrix,
    collision_plans,
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


def _circuit_collision_unitary(plan: CollisionPlan, m: int) -> np.ndarray:
    """The collision sub-circuit's unitary in physics order, photon-number (not Gray) basis, cavity (x) atom."""
    u = qiskit_to_physics(Operator(collision_circuit(plan, m)).data, m + 1)
    p = _gray_permutation(m)
    return p.T @ u @ p


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
def test_collision_circuit_is_the_planned_unitary(m, rng):
    """Full unitary on all 2^(m+1) inputs, including the truncation edge |M-1, e> with and without its phase."""
    levels = 2**m
    for edge in (False, True):
        angles = tuple(float(a) for a in rng.uniform(-7.0, 7.0, levels - 1))
        plan = CollisionPlan(1, angles, edge)
        np.testing.assert_allclose(_circuit_collision_unitary(plan, m), collision_matrix(plan), atol=1e-12)


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
    plan = collision_plans(params, m)[-1]  # the last collision prunes nothing
    assert all(a != 0.0 for a in plan.angles) and not plan.edge_phase
    u_model = mm.collision_unitary(theta, levels, coupling)
    np.testing.assert_allclose(_circuit_collision_unitary(plan, m), u_model, atol=1e-12)
    # exact trapping theta sqrt(8) = pi: the physical |7, e> -> cos(pi) |7, e> = -|7, e>
    trap = mm.MicromaserParams(g_tau=math.pi / math.sqrt(8.0), collisions=levels + 1, cutoff=levels)
    plan = collision_plans(trap, m)[-1]
    assert plan.edge_phase
    u_big = mm.collision_unitary(trap.g_tau, levels + 1)[: 2 * levels, : 2 * levels]
    np.testing.assert_allclose(_circuit_collision_unitary(plan, m), u_big, atol=1e-12)


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
    assert mc.details["mapping_error_trace_distance"] < 1e-9
    # ideal == the model at an untruncated cutoff (the model's own cutoff 8 is refused: its top level is populated)
    ref = mm.evolve(mm.MicromaserParams(**{**DONE, "cutoff": 12})).state
    assert np.max(np.abs(ref[8:, :])) < 1e-9
    np.testing.assert_allclose(mc.ideal_state, ref[:8, :8], atol=1e-12)
    with pytest.raises(ParameterError):
        mm.evolve(params)
    # independent QuTiP iteration
    np.testing.assert_allclose(mc.exact_state, _qutip_micromaser(1.1107207345, 0.5, 1.0, 10, 12)[:8, :8], atol=1e-9)
    # without the edge phase the circuit would be the model truncated at 8 levels, visibly wrong
    plans = collision_plans(params, 3)
    wrong = np.zeros((8, 8), complex)
    wrong[0, 0] = 1.0
    for _plan in plans:
        u = mm.collision_unitary(params.g_tau, 8)
        rq = mm.atom_state(0.5, 1.0)
        blocks = u.reshape(8, 2, 8, 2)
        wrong = sum(
            rq[k, l] * blocks[:, i, :, k] @ wrong @ blocks[:, i, :, l].conj().T
            for i in range(2)
            for k in range(2)
            for l in range(2)
        )
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
    assert mc.details["mapping_error_trace_distance"] > 1e-2
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


def test_extraction_unitary_leaves_the_passive_state():
    mc = micromaser_circuit(mm.MicromaserParams(**DONE))
    u = qiskit_to_physics(Operator(mc.extraction).data, 3)
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


# ------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("kw", "encoding", "field"),
    [
        ({"cavity_loss": 0.1}, "binary", "cavity_loss"),
        ({"thermal_photons": 0.2}, "binary", "thermal_photons"),
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
