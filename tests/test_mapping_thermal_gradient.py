"""Thermal-gradient collision circuits (qbhw.mapping.thermal_gradient; docs/physics.md 1.1-1.4): charging, NESS and
the two-stroke limit cycle.

References: QuTiP's local master equation built from primitives (tests/oracles/circuits.py: mesolve, and the cycle's
superoperator), the g -> 0 closed forms (docs/physics.md 1.2), the model (qbhw.models.thermal_gradient) for the
ideal states, an Aer variant with explicit Kraus bath errors, and a noiseless Aer density-matrix simulation of the
logical circuit. Order (A, S), big-endian, index 0 = |g> = Qiskit |0>.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import qutip as qt
from _aer import register_state
from oracles import circuits as oracle

from qbhw.errors import ParameterError
from qbhw.mapping import apply_steps, extraction_circuit, limit_cycle_circuits, steps_superoperator
from qbhw.mapping.thermal_gradient import bath_steps, collision_angle, thermal_gradient_circuit
from qbhw.models import thermal_gradient as tg
from qbhw.physics import energy, ergotropy, stored_energy
from qbhw.physics.distance import trace_distance
from qbhw.physics.operators import qiskit_to_physics

# exact channels (dense 16x16 superoperators, matrix exponentials): agreement to rounding
NUMERIC_TOL = 1e-12
# exact_state vs the Aer density-matrix simulation of a few hundred gates: both exact up to rounding
CIRCUIT_TOL = 1e-9
# QuTiP's mesolve at atol 1e-12 / rtol 1e-10 (oracle.MESOLVE_OPTIONS): observed <= 1e-10 here; 1e-8 leaves 100x
MESOLVE_TOL = 1e-8


@pytest.mark.parametrize(
    ("params", "build"),
    [
        (tg.ThermalGradientParams(), {}),
        (tg.ThermalGradientParams(), {"time": 30.0}),
        (tg.ThermalGradientParams(temperature_s=0.0, g=0.2, gamma=0.05), {"time": 10.0, "steps": 4}),
        (
            tg.ThermalGradientParams(omega_a=1.5, omega_s=0.5, gamma_s=0.02),
            {"steps": 3, "dt": 2.0, "bath_speedup": 10.0},
        ),
    ],
)
def test_circuit_implements_exact_channel(params: tg.ThermalGradientParams, build: dict) -> None:
    mc = thermal_gradient_circuit(params, **build)
    assert np.abs(register_state(mc) - mc.exact_state).max() < CIRCUIT_TOL


@pytest.mark.parametrize("t", [0.3, 7.0, 80.0])
def test_thermal_collision_is_the_exact_local_bath(t: float) -> None:
    # sin^2 phi = 1 - exp(-Gamma t) reproduces exp(t L_j) exactly (generalised amplitude damping); L_j from QuTiP
    params = tg.ThermalGradientParams(g=0.0)
    for step, jumps in zip(bath_steps(params, t), oracle.thermal_gradient_bath_c_ops(params), strict=True):
        mine = steps_superoperator([step], (2, 2))
        ref = (qt.liouvillian(None, jumps) * t).expm().full()
        assert np.abs(mine - ref).max() < NUMERIC_TOL


def test_g_zero_ness_is_exact() -> None:
    # g = 0: the NESS is the product of local Gibbs states (docs/physics.md 1.2), which the circuit prepares and every
    # step keeps exactly; W_NESS = (omega_a - omega_s)(P_A - P_S) = 0.2688960235
    params = tg.ThermalGradientParams(g=0.0)
    mc = thermal_gradient_circuit(params)
    assert trace_distance(mc.exact_state, mc.ideal_state) < NUMERIC_TOL
    assert abs(ergotropy(mc.exact_state, mc.hamiltonian) - 0.2688960235) < 1e-9  # 10 printed digits


def test_trotter_error_is_second_order() -> None:
    # symmetric splitting D(dt/2) U_H(dt) D(dt/2) with exact pieces: global error O(dt^2) against the local ME
    params = tg.ThermalGradientParams()
    ref = oracle.thermal_gradient_state(params, 40.0)
    errs = [trace_distance(thermal_gradient_circuit(params, 40.0, steps=k).exact_state, ref) for k in (40, 80, 160)]
    # dt = 1, 0.5, 0.25: asymptotic regime (dt omega ~ 1); ratio 4 up to O(dt^2) corrections
    assert 3.5 < errs[0] / errs[1] < 4.5
    assert 3.7 < errs[1] / errs[2] < 4.3


def test_time_mode_against_qutip_local_me() -> None:
    params = tg.ThermalGradientParams(g=0.1, gamma=0.05)
    t = 20.0
    ref = oracle.thermal_gradient_state(params, t)
    mc = thermal_gradient_circuit(params, t, steps=200)
    # Trotter error at dt = 0.1 is O(g gamma dt^2 t) ~ 1e-6, mesolve's ~1e-10: both far below 1e-5
    assert trace_distance(mc.exact_state, ref) < 1e-5
    assert abs(mc.details["trace_distance_exact_local_me"] - trace_distance(mc.exact_state, ref)) < MESOLVE_TOL


def test_steps_describe_the_circuit() -> None:
    # the steps alone give the exact state (from |gg>), and the circuit built from them has one collision per step
    params = tg.ThermalGradientParams()
    mc = thermal_gradient_circuit(params, 12.0)
    rho0 = np.diag([1.0, 0, 0, 0]).astype(complex)
    assert np.abs(apply_steps(mc.steps, rho0, (2, 2)) - mc.exact_state).max() < NUMERIC_TOL
    baths = [s for s in mc.steps if s.ancilla is not None]
    assert len(baths) == 2 * (mc.details["steps"] + 1)
    assert mc.circuit.count_ops()["xx_plus_yy"] == len(baths) and mc.circuit.count_ops()["reset"] >= len(baths)
    h_qutip, _ = oracle.thermal_gradient_local_me(params)
    coherent = [s for s in mc.steps if s.ancilla is None]
    assert all(np.abs(s.generator - h_qutip.full()).max() < NUMERIC_TOL for s in coherent)
    assert {s.duration for s in coherent} == {mc.details["dt"]}


def test_default_ness_is_shallow_and_provably_stable() -> None:
    params = tg.ThermalGradientParams()
    mc = thermal_gradient_circuit(params)
    d = mc.details
    assert d["tolerance_met"] and d["stability_certified"]
    assert d["trace_distance_exact_local_me"] <= d["tolerance"]
    assert d["trace_distance_fixed_point_local_me"] <= d["tolerance"]
    # the collision circuit improves on its starting point (the g -> 0 NESS)
    assert d["trace_distance_exact_local_me"] < d["trace_distance_initial_local_me"]
    assert d["steps"] <= 5
    # |dW| <= 2 ||H|| D (ergotropy is Lipschitz in trace distance)
    w_ideal = tg.ness(params).ergotropy
    bound = 2 * np.abs(np.linalg.eigvalsh(mc.hamiltonian)).max() * d["trace_distance_exact_ideal"]
    assert abs(ergotropy(mc.exact_state, mc.hamiltonian) - w_ideal) <= bound
    # "fewest" and "stays": k - 1 steps are outside the tolerance, every count from k to 300 inside
    local = tg.ness(replace(params, master_equation="local")).rho
    step = dict(dt=d["dt"], bath_speedup=d["bath_speedup"])
    dist = [
        trace_distance(thermal_gradient_circuit(params, steps=j, **step).exact_state, local)
        for j in (*range(max(1, d["steps"] - 1), d["steps"] + 30), 100, 300)
    ]
    if d["steps"] > 1:
        assert dist[0] > d["tolerance"]
        dist = dist[1:]
    assert max(dist) <= d["tolerance"]


def test_extraction_circuit_empties_the_ideal_state() -> None:
    from qiskit.quantum_info import Operator

    mc = thermal_gradient_circuit(tg.ThermalGradientParams())
    u = qiskit_to_physics(Operator(extraction_circuit(mc)).data, 2)
    after = u @ mc.ideal_state @ u.conj().T
    w = ergotropy(mc.ideal_state, mc.hamiltonian)
    assert w > 0.2
    assert abs(stored_energy(mc.ideal_state, mc.hamiltonian) - stored_energy(after, mc.hamiltonian) - w) < 1e-9
    assert ergotropy(after, mc.hamiltonian) < 1e-9


@pytest.mark.parametrize(
    ("build", "field"),
    [
        ({"steps": 0}, "steps"),
        ({"time": -1.0}, "time"),
        ({"time": float("nan")}, "time"),
    ],
)
def test_bad_flag_values_name_the_flag(build: dict, field: str) -> None:
    with pytest.raises(ParameterError) as err:
        thermal_gradient_circuit(tg.ThermalGradientParams(), **build)
    assert err.value.parameter == field


@pytest.mark.parametrize(
    "build",
    [
        {"dt": -1.0},
        {"bath_speedup": 0.5},
        {"time": 10.0, "bath_speedup": 2.0},
        {"tolerance": 0.0},
        {"time": 10.0, "steps": 3, "dt": 1.0},
    ],
)
def test_bad_python_options_are_value_errors(build: dict) -> None:
    # dt, bath_speedup and tolerance have no command-line flag: a bad value is a programming error, not a
    # ParameterError that the CLI would print as a non-existent --flag
    with pytest.raises(ValueError) as err:
        thermal_gradient_circuit(tg.ThermalGradientParams(), **build)
    assert not isinstance(err.value, ParameterError)


def test_slow_baths_name_gamma_and_say_what_to_do() -> None:
    # issue 9 item 7: `qbhw run thermal-gradient --gamma 1e-5` used to blame a non-existent --tolerance
    params = tg.ThermalGradientParams(gamma=1e-5)
    with pytest.raises(ParameterError) as err:
        thermal_gradient_circuit(params)
    assert err.value.parameter == "gamma" and "--steps" in err.value.allowed
    mc = thermal_gradient_circuit(params, steps=10)  # the way out the message names
    assert mc.details["steps"] == 10 and not mc.details["tolerance_met"]


def test_local_me_with_strong_coupling_is_rejected() -> None:
    # g^2 > omega_a omega_s: |gg> is no longer the ground state of H (the global ME already refuses it)
    with pytest.raises(ParameterError) as err:
        thermal_gradient_circuit(tg.ThermalGradientParams(g=2.0, master_equation="local"), 1.0)
    assert err.value.parameter == "g"


def test_aer_relaxation_variant_equals_exact_channel_including_cold_bath() -> None:
    from qiskit_aer import AerSimulator

    params = tg.ThermalGradientParams()
    qc, noise = oracle.thermal_relaxation_circuit(params, steps=5, dt=4.0)
    qc.save_density_matrix(qubits=[0, 1])
    backend = AerSimulator(method="density_matrix", noise_model=noise)
    rho = qiskit_to_physics(np.asarray(backend.run(qc).result().data(0)["density_matrix"]), 2)
    assert np.abs(rho - thermal_gradient_circuit(params, 20.0, steps=5).exact_state).max() < CIRCUIT_TOL

    # g = 0 and tiny steps: each cold-bath absorption Kraus weight P_S (1 - e^{-Gamma_S dt}) ~ 4.5e-9 is below Aer's
    # 1e-8 truncation of thermal_relaxation_error; the explicit Kraus errors keep it, so the S excitation is the
    # closed form P_S (1 - e^{-Gamma_S t}) ~ 8.2e-6 (to rounding), not 0
    cold = tg.ThermalGradientParams(g=0.0)
    qc, noise = oracle.thermal_relaxation_circuit(cold, steps=1000, dt=0.02)
    qc.save_density_matrix(qubits=[1])
    backend = AerSimulator(method="density_matrix", noise_model=noise)
    rho_s = np.asarray(backend.run(qc).result().data(0)["density_matrix"])
    n_s = oracle.bose_einstein(cold.omega_s, cold.temperature_s)
    expected = n_s / (2 * n_s + 1) * -np.expm1(-cold.gamma * (2 * n_s + 1) * 20.0)
    assert expected > 5e-6
    assert abs(rho_s[1, 1].real - expected) < 1e-12
    circuit = thermal_gradient_circuit(cold, 20.0, steps=1000).exact_state
    assert abs(circuit[1, 1].real + circuit[3, 3].real - expected) < 1e-12


# ---------------------------------------------------------------------------------------------- limit cycle


def _work_bound(mc, u: np.ndarray, distance: float) -> float:
    """|W(rho) - W(sigma)| <= 2 D(rho, sigma) ||H - U^+ H U||: the work per cycle Tr[rho (H - U^+ H U)] is linear."""
    h = mc.hamiltonian
    return 2.0 * distance * float(np.abs(np.linalg.eigvalsh(h - u.conj().T @ h @ u)).max())


def test_limit_cycle_g_zero_is_the_closed_form() -> None:
    # g = 0: local = global ME, U = SWAP, no Trotter error (H0 commutes with the baths); the limit cycle is the
    # product of the closed-form populations a, s (docs/physics.md 1.2), which the circuit prepares and keeps:
    # W(tau = 10) = 1.8358919093e-2 (10 printed digits)
    params = tg.ThermalGradientParams(g=0.0)
    cyc = limit_cycle_circuits(params, 10.0)
    assert cyc.cycles == 1
    assert abs(cyc.exact_work - 1.8358919093e-2) < 1e-11
    assert abs(cyc.ideal.work - 1.8358919093e-2) < 1e-11
    assert trace_distance(cyc.before.exact_state, cyc.ideal.rho_end) < NUMERIC_TOL


@pytest.mark.parametrize("tau", [10.0, 100.0])
def test_limit_cycle_against_qutip_local_me(tau: float) -> None:
    params = tg.ThermalGradientParams()
    cyc = limit_cycle_circuits(params, tau)
    d = cyc.before.details
    u = np.asarray(cyc.ideal.extraction_unitary)
    end, start = oracle.thermal_gradient_limit_cycle(params, tau, u)
    # the stable search guarantees the stated tolerance w.r.t. the local-ME cycle with the same U
    assert d["tolerance_met"] and d["stability_certified"]
    d_before = trace_distance(cyc.before.exact_state, end)
    d_after = trace_distance(cyc.after.exact_state, start)
    assert d_before <= d["tolerance"] and abs(d_before - d_after) < NUMERIC_TOL  # U preserves trace distance
    assert abs(d_before - d["trace_distance_exact_local_me"]) < 1e-9  # eigenvector vs SVD null space: rounding
    # work per cycle E_before - E_after of the circuit's channel against the QuTiP cycle, bounded by the state error
    w_ref = energy(end, cyc.before.hamiltonian) - energy(start, cyc.before.hamiltonian)
    assert abs(cyc.exact_work - w_ref) <= _work_bound(cyc.before, u, d_before)
    assert abs(d["work_exact"] - cyc.exact_work) < NUMERIC_TOL
    assert abs(cyc.exact_work - cyc.ideal.work) <= d["work_error_bound_ideal"]
    # the ideal cycle is the model's
    assert cyc.ideal.work == tg.limit_cycle(params, tau).work
    assert np.abs(cyc.before.ideal_state - cyc.ideal.rho_end).max() == 0


@pytest.mark.slow  # ~2 s: 120 cycles of up to 20 Trotter steps, ~65000 circuit instructions
def test_limit_cycle_trotter_error_is_second_order() -> None:
    # 120 cycles (each contracts by ~exp(-Gamma_S tau) ~ 0.9: the fixed point is reached to ~1e-8), then the only
    # error is the Strang splitting: O(dt^2)
    params = tg.ThermalGradientParams()
    tau = 10.0
    cyc = [limit_cycle_circuits(params, tau, steps=n, cycles=120) for n in (5, 10, 20)]
    end, _ = oracle.thermal_gradient_limit_cycle(params, tau, np.asarray(cyc[0].ideal.extraction_unitary))
    errs = [trace_distance(c.before.exact_state, end) for c in cyc]
    assert 3.5 < errs[0] / errs[1] < 4.5
    assert 3.7 < errs[1] / errs[2] < 4.3


def test_limit_cycle_circuits_implement_their_channels() -> None:
    params = tg.ThermalGradientParams()
    cyc = limit_cycle_circuits(params, 10.0, cycles=3)
    assert cyc.cycles == 3 and cyc.before.register == cyc.after.register == (0, 1)
    assert cyc.before.battery == (0, 1)
    for mc in (cyc.before, cyc.after):
        assert np.abs(register_state(mc) - mc.exact_state).max() < CIRCUIT_TOL
    # before = 3 charging strokes and 2 extractions, after = one extraction more
    ext = [s for s in cyc.after.steps if s.label == "U*"]
    assert len(ext) == 3 and len(cyc.after.steps) == len(cyc.before.steps) + 1
    assert np.abs(ext[0].unitary - np.asarray(cyc.ideal.extraction_unitary)).max() < NUMERIC_TOL


def test_short_cycle_warns_that_its_work_is_not_resolved() -> None:
    # tau = 1: the register is within 5e-3 of the limit cycle after 61 cycles, but the work per cycle (1.8e-3) is
    # below the bound 2 D ||H - U^+ H U|| on its error; the circuit's work is indeed 40 % off
    cyc = limit_cycle_circuits(tg.ThermalGradientParams(), 1.0)
    d = cyc.before.details
    assert d["tolerance_met"] and "not resolved" in d["warning"]
    assert abs(cyc.exact_work - cyc.ideal.work) <= d["work_error_bound_ideal"]
    assert "warning" not in limit_cycle_circuits(tg.ThermalGradientParams(), 10.0).before.details


def test_limit_cycle_too_short_names_cycle_time() -> None:
    # tau = 0.05: each stroke relaxes the register by ~exp(-Gamma tau) ~ 0.999, far more than MAX_CYCLES cycles
    with pytest.raises(ParameterError) as err:
        limit_cycle_circuits(tg.ThermalGradientParams(), 0.05)
    assert err.value.parameter == "cycle_time"
    with pytest.raises(ParameterError) as err:
        limit_cycle_circuits(tg.ThermalGradientParams(), -1.0)
    assert err.value.parameter == "cycle_time"


def test_collision_angle_is_the_exact_relaxation() -> None:
    # populations relax by cos^2 phi = exp(-Gamma t)
    assert math.cos(collision_angle(0.3, 2.0)) ** 2 == pytest.approx(math.exp(-0.6), abs=1e-15)
