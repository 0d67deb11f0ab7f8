"""Collective-dissipation collision circuit (qbhw.mapping.collective; docs/physics.md 3.2-3.4).

References: the model's exact solvers (qbhw.models.collective), QuTiP's mesolve of the 2^N Lindbladian built from
primitives (tests/oracles/circuits.py), and a noiseless Aer density-matrix simulation of the logical circuit.
Order: big-endian, cell 0 leftmost, index 0 = |g> = Qiskit |0>, sz = diag(-1, +1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _aer import register_state
from oracles import circuits as oracle

from qbhw.errors import ParameterError
from qbhw.mapping import CollisionStep, apply_steps, extraction_circuit
from qbhw.mapping.collective import collective_circuit, exchange_unitary
from qbhw.models import collective as co
from qbhw.models.collective import collective_hamiltonian, dicke_density_matrix
from qbhw.physics import ergotropy, stored_energy
from qbhw.physics.operators import qiskit_to_physics

# dense linear algebra on <= 2^5-dimensional matrices, exact maps: agreement to rounding, O(1e-14)
NUMERIC_TOL = 1e-9
# exact-channel states vs the Aer density-matrix simulation: both exact, hundreds of gates of rounding
CIRCUIT_TOL = 1e-9
# QuTiP's mesolve at atol 1e-12 / rtol 1e-10 (oracle.MESOLVE_OPTIONS): observed <= 3e-11 here; 1e-8 leaves 300x
MESOLVE_TOL = 1e-8


# ---------------------------------------------------------------------------------------------------------------
# The 2^N matrix of the model's Dicke populations


@pytest.mark.parametrize("n", [2, 3, 4])
def test_dicke_density_matrix_matches_qutip_with_every_sector(n: int) -> None:
    # local channels populate every j sector: the multiplicity spreading of dicke_density_matrix is exercised;
    # the reference is mesolve of the full 2^N Lindbladian built from QuTiP primitives
    p = co.CollectiveParams(n=n, temperature=1.5, gamma=1.0, gamma_local=0.4, local_temperature=0.7, dephasing=0.2)
    t = 0.8
    mine = dicke_density_matrix(co.state_at(p, t).state)
    assert np.abs(mine - oracle.collective_state(p, t)).max() < MESOLVE_TOL


@pytest.mark.parametrize("n", [2, 3])
def test_dicke_density_matrix_of_pure_collective_steady_state(n: int) -> None:
    p = co.CollectiveParams(n=n, temperature=2.0)
    rho = dicke_density_matrix(co.steady_state(p).state)
    closed = co.ladder_closed_form(n, 2.0)
    h = collective_hamiltonian(n)
    assert abs(np.trace(rho) - 1) < NUMERIC_TOL
    assert abs(ergotropy(rho, h) - closed.ergotropy) < NUMERIC_TOL
    assert abs(stored_energy(rho, h) - closed.energy) < NUMERIC_TOL


# ---------------------------------------------------------------------------------------------------------------
# The collision channel


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("theta", [0.2, 0.9, 1.4])
def test_exact_collision_keeps_the_lindblad_fixed_point_for_any_angle(n: int, theta: float) -> None:
    # rho_ss (x) tau ~ x^(k + k_a) on Sym (x) C^2 commutes with U: the steady state is a fixed point for all theta
    # V = J- s+_a + J+ s-_a from QuTiP primitives; the step's own unitary must be exp(-i theta V)
    p = co.CollectiveParams(n=n, temperature=2.0)
    rho_ss = dicke_density_matrix(co.steady_state(p).state)
    pe = p.n_thermal / (2 * p.n_thermal + 1)
    tau = np.diag([1 - pe, pe]).astype(complex)
    sms = oracle.qubit_lowering(n + 1)
    v = sum(s.dag() * sms[n] + sms[n].dag() * s for s in sms[:n]).full()
    step = CollisionStep(tuple(range(n)), (2,) * n, v, theta, tau)
    u = np.asarray(step.unitary)
    assert np.abs(u - exchange_unitary(n, theta)).max() < NUMERIC_TOL
    joint = np.kron(rho_ss, tau)
    assert np.abs(u @ joint - joint @ u).max() < NUMERIC_TOL
    assert np.abs(apply_steps([step], rho_ss, (2,) * n) - rho_ss).max() < NUMERIC_TOL


def test_palindromic_unitary_is_second_order() -> None:
    # symmetric product: ||U_pal - U_exact|| = O(theta^3), so halving theta divides it by 8
    errs = [np.abs(exchange_unitary(3, th, "palindromic") - exchange_unitary(3, th)).max() for th in (0.1, 0.05)]
    assert 7.0 < errs[0] / errs[1] < 9.0
    seq = [np.abs(exchange_unitary(3, th, "sequential") - exchange_unitary(3, th)).max() for th in (0.1, 0.05)]
    assert 3.5 < seq[0] / seq[1] < 4.5  # the sequential product is only first order: O(theta^2)


# ---------------------------------------------------------------------------------------------------------------
# Circuit == exact channel (noiseless Aer)


@pytest.mark.parametrize(
    ("kwargs", "build"),
    [
        ({"n": 2, "temperature": 2.0}, {"exchange": "exact"}),
        ({"n": 3, "temperature": 1.0}, {"exchange": "exact", "time": 0.2}),
        ({"n": 3, "temperature": 2.0}, {"exchange": "palindromic", "time": 0.2}),
        ({"n": 3, "temperature": 2.0}, {"exchange": "sequential", "time": 0.2}),
        (
            {"n": 2, "temperature": 2.0, "gamma_local": 0.3, "local_temperature": 0.5, "dephasing": 0.2},
            {"exchange": "palindromic", "time": 0.3},
        ),
        ({"n": 2, "temperature": 0.0}, {"exchange": "exact", "time": 0.5}),
    ],
)
def test_circuit_implements_exact_channel(kwargs: dict, build: dict) -> None:
    mc = collective_circuit(co.CollectiveParams(**kwargs), **build)
    assert mc.register == tuple(range(kwargs["n"])) and mc.battery == mc.register
    assert np.abs(register_state(mc) - mc.exact_state).max() < CIRCUIT_TOL


# ---------------------------------------------------------------------------------------------------------------
# Mapping error


def test_default_steady_state_is_within_tolerance_and_shallow() -> None:
    mc = collective_circuit(co.CollectiveParams(n=2, temperature=2.0))
    d = mc.details
    assert d["tolerance_met"] and d["trace_distance_exact_ideal"] <= d["tolerance"] == 1e-2
    assert d["stability_certified"]  # exact exchange: the steady state is a fixed point of every collision
    assert d["collisions"] <= 10
    w = ergotropy(mc.exact_state, mc.hamiltonian)
    assert (
        abs(w - co.ladder_closed_form(2, 2.0).ergotropy) < 2 * d["trace_distance_exact_ideal"] * 2
    )  # |dW| <= 2||H|| D


@pytest.mark.parametrize("exchange", ["exact", "palindromic"])
def test_time_mapping_error_is_first_order_in_dt(exchange: str) -> None:
    # per collision E = exp(L dt) + O(theta^4) = O(dt^2): the global error is O(dt) = O(theta^2), so doubling the
    # number of collisions halves it (ratio 2 up to O(dt) corrections)
    p = co.CollectiveParams(n=2, temperature=2.0)
    errs = [
        collective_circuit(p, time=0.5, collisions=k, exchange=exchange).details["trace_distance_exact_ideal"]
        for k in (20, 40, 80)
    ]
    assert 1.7 < errs[0] / errs[1] < 2.3
    assert 1.8 < errs[1] / errs[2] < 2.2


def test_time_mode_against_qutip_with_local_channels() -> None:
    # the circuit's exact channel against mesolve of the 2^N Lindbladian from QuTiP primitives: the mapping error is
    # the O(theta^2) collision error plus the O(dt^2) collective/local splitting; with 40 collisions of gamma t = 0.5
    # (theta^2 = 0.0625 (2n+1) ~ 0.03) it is ~5e-3, and the circuit's steps alone reproduce exact_state
    p = co.CollectiveParams(n=2, temperature=2.0, gamma_local=0.3, local_temperature=0.5, dephasing=0.2)
    mc = collective_circuit(p, 0.5, collisions=40, exchange="palindromic")
    ref = oracle.collective_state(p, 0.5)
    err = float(0.5 * np.abs(np.linalg.eigvalsh(mc.exact_state - ref)).sum())
    assert err < 1e-2
    assert abs(err - mc.details["trace_distance_exact_ideal"]) < MESOLVE_TOL  # the model agrees with mesolve
    mc80 = collective_circuit(p, 0.5, collisions=80, exchange="palindromic")
    err80 = float(0.5 * np.abs(np.linalg.eigvalsh(mc80.exact_state - ref)).sum())
    assert 1.7 < err / err80 < 2.3  # first order in theta^2: halving theta^2 halves it
    assert np.abs(apply_steps(mc.steps, np.diag([1.0, 0, 0, 0]), (2, 2)) - mc.exact_state).max() < NUMERIC_TOL
    kinds = {s.gates for s in mc.steps}
    assert kinds == {"palindromic", "flip-flop", "zz"}


def test_local_channels_converge_to_unique_steady_state() -> None:
    # docs/physics.md 3.3 variant (T = 0 local decay): unique steady state; the collision fixed point error is
    # O(theta^2)
    p = co.CollectiveParams(n=2, temperature=2.0, gamma=0.5, gamma_local=0.5, local_temperature=0.0)
    mc = collective_circuit(p, exchange="exact")
    assert mc.details["tolerance_met"] and mc.details["trace_distance_exact_ideal"] <= 1e-2
    d1 = collective_circuit(p, time=1.0, collisions=20).details["trace_distance_exact_ideal"]
    d2 = collective_circuit(p, time=1.0, collisions=40).details["trace_distance_exact_ideal"]
    assert 1.7 < d1 / d2 < 2.3


def test_palindromic_recovers_collective_ergotropy_and_sequential_does_not() -> None:
    # docs/physics.md 3.4 trap (N = 3, T = 2): exact W = 0.3705; the sequential order gives ~0.04-0.08 at any theta
    p = co.CollectiveParams(n=3, temperature=2.0)
    w_ref = co.ladder_closed_form(3, 2.0).ergotropy
    h = collective_hamiltonian(3)
    for theta in (0.3, 0.15):
        k = math.ceil(4.0 * (2 * p.n_thermal + 1) / theta**2)  # gamma t = 4: relaxed to ~1e-4 of the ladder
        pal = collective_circuit(p, time=k * theta**2 / (2 * p.n_thermal + 1), collisions=k, exchange="palindromic")
        seq = collective_circuit(p, time=k * theta**2 / (2 * p.n_thermal + 1), collisions=k, exchange="sequential")
        assert abs(ergotropy(pal.exact_state, h) - w_ref) < 0.02 * (theta / 0.3) ** 2  # O(theta^2) error
        # the cascaded map relaxes towards W ~ 0.04-0.08; at gamma t = 4 it is already > 0.1 below, at any theta
        assert w_ref - ergotropy(seq.exact_state, h) > 0.1


def test_extraction_circuit_makes_ideal_state_passive() -> None:
    from qiskit.quantum_info import Operator

    mc = collective_circuit(co.CollectiveParams(n=2, temperature=2.0))
    u = qiskit_to_physics(Operator(extraction_circuit(mc)).data, 2)
    after = u @ mc.ideal_state @ u.conj().T
    w = ergotropy(mc.ideal_state, mc.hamiltonian)
    assert w > 0.1
    assert abs(stored_energy(mc.ideal_state, mc.hamiltonian) - stored_energy(after, mc.hamiltonian) - w) < NUMERIC_TOL
    assert ergotropy(after, mc.hamiltonian) < NUMERIC_TOL


def test_circuit_has_only_hardware_instructions() -> None:
    mc = collective_circuit(co.CollectiveParams(n=3, temperature=2.0), exchange="palindromic", time=0.1)
    allowed = {"xx_plus_yy", "reset", "ry", "cx", "unitary", "rzz"}
    assert set(mc.circuit.count_ops()) <= allowed
    for inst in mc.circuit.data:
        assert inst.operation.num_qubits <= 4


# ---------------------------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("kwargs", "build", "field"),
    [
        ({"n": 7, "temperature": 1.0}, {"exchange": "palindromic"}, "n"),
        ({"n": 4, "temperature": 1.0}, {"exchange": "exact"}, "n"),
        ({"n": 2, "temperature": 1.0}, {"exchange": "trotter"}, "exchange"),
        ({"n": 2, "temperature": 1.0, "gamma": 0.0}, {}, "gamma"),
        ({"n": 2, "temperature": 1.0}, {"collisions": 0}, "collisions"),
        ({"n": 2, "temperature": 1.0}, {"theta": -0.1}, "theta"),
        ({"n": 2, "temperature": 1.0}, {"time": -1.0}, "time"),
        ({"n": 2, "temperature": 1.0}, {"time": 1.0, "theta": 0.3, "collisions": 3}, "collisions"),
    ],
)
def test_bad_input_names_the_flag(kwargs: dict, build: dict, field: str) -> None:
    with pytest.raises(ParameterError) as err:
        collective_circuit(co.CollectiveParams(**kwargs), **build)
    assert err.value.parameter == field


def test_bad_python_options_are_not_parameter_errors() -> None:
    # tolerance has no command-line flag; a wrong params type is a programming error
    with pytest.raises(ValueError) as err:
        collective_circuit(co.CollectiveParams(n=2, temperature=1.0), tolerance=0.0)
    assert not isinstance(err.value, ParameterError)
    with pytest.raises(TypeError):
        collective_circuit(object())  # type: ignore[arg-type]
