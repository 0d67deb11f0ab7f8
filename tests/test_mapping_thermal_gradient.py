"""Thermal-gradient collision circuit (qbhw.mapping.thermal_gradient; docs/physics.md 1.1-1.4).

References: the model (qbhw.models.thermal_gradient, local and global ME), the g -> 0 closed form (docs/physics.md 1.2),
QuTiP's mesolve of the local ME, and a noiseless Aer density-matrix simulation of the logical circuit.
Order (A, S), big-endian, index 0 = |g> = Qiskit |0>.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from _aer import register_state

from qbhw.errors import ParameterError
from qbhw.mapping.thermal_gradient import (
    _baths,
    _collision_superop,
    collision_angle,
    thermal_gradient_circuit,
)
from qbhw.models import thermal_gradient as tg
from qbhw.physics import ergotropy, stored_energy
from qbhw.physics.distance import trace_distance
from qbhw.physics.lindblad import propagator
from qbhw.physics.operators import qiskit_to_physics

# exact channels (dense 16x16 superoperators, matrix exponentials): agreement to rounding
NUMERIC_TOL = 1e-12
# exact_state vs the Aer density-matrix simulation of ~100 gates: both exact up to rounding
CIRCUIT_TOL = 1e-9


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


@pytest.mark.parametrize("site", [0, 1])
@pytest.mark.parametrize("t", [0.3, 7.0, 80.0])
def test_thermal_collision_is_the_exact_local_bath(site: int, t: float) -> None:
    # sin^2 phi = 1 - exp(-Gamma t) reproduces exp(t L_j) exactly (generalised amplitude damping)
    params = tg.ThermalGradientParams(g=0.0, master_equation="local")
    bath = _baths(params)[site]
    diss = tg.generator(params).dissipator_a if site == 0 else tg.generator(params).dissipator_s
    got = _collision_superop(site, bath, collision_angle(bath.relaxation_rate, t))
    assert np.abs(got - propagator(diss, t)).max() < NUMERIC_TOL


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
    local = replace(params, master_equation="local")
    ref = tg.state_at(local, 40.0).rho
    errs = [
        trace_distance(thermal_gradient_circuit(params, time=40.0, steps=k).exact_state, ref) for k in (40, 80, 160)
    ]  # dt = 1, 0.5, 0.25: asymptotic regime (dt omega ~ 1)
    assert 3.5 < errs[0] / errs[1] < 4.5
    assert 3.7 < errs[1] / errs[2] < 4.3


def test_time_mode_against_qutip_local_me() -> None:
    qutip = pytest.importorskip("qutip")
    params = tg.ThermalGradientParams(g=0.1, gamma=0.05)
    t = 20.0
    h = tg.hamiltonian(params)
    jumps_a, jumps_s = tg.bath_jumps(replace(params, master_equation="local"))
    c_ops = [qutip.Qobj(np.sqrt(r) * a) for r, a in jumps_a + jumps_s if r > 0]
    rho0 = np.zeros((4, 4), dtype=complex)
    rho0[0, 0] = 1
    res = qutip.mesolve(qutip.Qobj(h), qutip.Qobj(rho0), [0.0, t], c_ops=c_ops, options={"atol": 1e-12, "rtol": 1e-10})
    mc = thermal_gradient_circuit(params, time=t, steps=200)
    # Trotter error at dt = 0.1 is O(g gamma omega dt^2 t) ~ 1e-6; mesolve's integrator ~1e-9
    assert trace_distance(mc.exact_state, res.states[-1].full()) < 1e-5
    assert mc.details["trace_distance_exact_local_me"] < 1e-5


def test_default_ness_is_shallow_and_close() -> None:
    params = tg.ThermalGradientParams()
    mc = thermal_gradient_circuit(params)
    d = mc.details
    assert d["tolerance_met"] and d["trace_distance_exact_local_me"] <= d["tolerance"]
    assert d["trace_distance_fixed_point_local_me"] <= d["tolerance"]
    # the collision circuit improves on its starting point (the g -> 0 NESS)
    assert d["trace_distance_exact_local_me"] < d["trace_distance_initial_local_me"]
    assert d["steps"] <= 5
    # |dW| <= 2 ||H|| D (ergotropy is Lipschitz in trace distance)
    w_ideal = tg.ness(params).ergotropy
    bound = 2 * np.abs(np.linalg.eigvalsh(mc.hamiltonian)).max() * d["trace_distance_exact_ideal"]
    assert abs(ergotropy(mc.exact_state, mc.hamiltonian) - w_ideal) <= bound


def test_extraction_unitary_empties_the_ideal_state() -> None:
    from qiskit.quantum_info import Operator

    mc = thermal_gradient_circuit(tg.ThermalGradientParams())
    u = qiskit_to_physics(Operator(mc.extraction).data, 2)
    after = u @ mc.ideal_state @ u.conj().T
    w = ergotropy(mc.ideal_state, mc.hamiltonian)
    assert w > 0.2
    assert abs(stored_energy(mc.ideal_state, mc.hamiltonian) - stored_energy(after, mc.hamiltonian) - w) < 1e-9
    assert ergotropy(after, mc.hamiltonian) < 1e-9


@pytest.mark.parametrize(
    ("build", "field"),
    [
        ({"steps": 0}, "steps"),
        ({"dt": -1.0}, "dt"),
        ({"bath_speedup": 0.5}, "bath_speedup"),
        ({"time": 10.0, "bath_speedup": 2.0}, "bath_speedup"),
        ({"tolerance": 0.0}, "tolerance"),
        ({"time": 10.0, "steps": 3, "dt": 1.0}, "steps"),
        ({"time": -1.0}, "time"),
        ({"tolerance": 1e-9}, "tolerance"),
    ],
)
def test_bad_input_names_the_field(build: dict, field: str) -> None:
    with pytest.raises(ParameterError) as err:
        thermal_gradient_circuit(tg.ThermalGradientParams(), **build)
    assert err.value.parameter == field


def test_local_me_with_strong_coupling_is_rejected() -> None:
    # g^2 > omega_a omega_s: |gg> is no longer the ground state of H (the global ME already refuses it)
    with pytest.raises(ParameterError) as err:
        thermal_gradient_circuit(tg.ThermalGradientParams(g=2.0, master_equation="local"), time=1.0)
    assert err.value.parameter == "g"


def test_aer_relaxation_variant_equals_exact_channel_including_cold_bath() -> None:
    from qiskit_aer import AerSimulator

    from qbhw.mapping.thermal_gradient import thermal_relaxation_circuit

    params = tg.ThermalGradientParams()
    rel = thermal_relaxation_circuit(params, time=20.0, steps=5)
    qc = rel.mapped.circuit.copy()
    qc.save_density_matrix(qubits=[0, 1])
    backend = AerSimulator(method="density_matrix", noise_model=rel.noise_model)
    rho = qiskit_to_physics(np.asarray(backend.run(qc).result().data(0)["density_matrix"]), 2)
    assert np.abs(rho - rel.mapped.exact_state).max() < CIRCUIT_TOL
    assert np.abs(rho - thermal_gradient_circuit(params, time=20.0, steps=5).exact_state).max() < CIRCUIT_TOL

    # g = 0 and tiny steps: each cold-bath absorption Kraus weight P_S (1 - e^{-Gamma_S dt}) ~ 4.5e-9 is below Aer's
    # 1e-8 truncation of thermal_relaxation_error; the explicit Kraus errors keep it, so the S excitation is the
    # closed form P_S (1 - e^{-Gamma_S t}) ~ 8.2e-6 (to rounding), not 0
    cold = tg.ThermalGradientParams(g=0.0)
    rel = thermal_relaxation_circuit(cold, time=20.0, steps=1000)
    qc = rel.mapped.circuit.copy()
    qc.save_density_matrix(qubits=[1])
    backend = AerSimulator(method="density_matrix", noise_model=rel.noise_model)
    rho_s = np.asarray(backend.run(qc).result().data(0)["density_matrix"])
    bath_s = _baths(cold)[1]
    expected = bath_s.p_excited * -np.expm1(-bath_s.relaxation_rate * 20.0)
    assert expected > 5e-6
    assert abs(rho_s[1, 1].real - expected) < 1e-12
