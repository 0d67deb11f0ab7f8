"""qbhw.mapping.charger: the exact exp(-iHt) circuit of the charger model (docs/physics.md section 2.3).

Conventions: register (b, c) = virtual qubits (0, 1), physics (big-endian) order with b first; the model basis
{|0>, |1>} with Z = diag(+1, -1) is Qiskit's. Qiskit operators are little-endian and are reordered with
qiskit_to_physics (the same index permutation applies to unitaries).
Tolerances: 1e-10 for the compiled unitary against scipy.linalg.expm (the brief's bound; the observed error is
~1e-15, double-precision rounding of a handful of 4x4 products); 1e-9 for Aer's noiseless density matrix
against the closed form (rounding of ~10 gates in Aer); 1e-9 for the ten-digit reference values of docs/physics.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg as sla
from _aer import register_state
from qiskit import transpile
from qiskit.quantum_info import Operator

from qbhw.errors import ParameterError
from qbhw.mapping import extraction_circuit
from qbhw.mapping.charger import charger_circuit, evolution_circuit
from qbhw.models import charger as model
from qbhw.physics import operators as ops
from qbhw.physics import thermodynamics as thermo
from qbhw.physics.operators import qiskit_to_physics


def _physics_unitary(qc) -> np.ndarray:
    return qiskit_to_physics(Operator(qc).data, qc.num_qubits)


def _equal_up_to_phase(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - e^{i chi} b| with the best global phase chi."""
    overlap = np.trace(b.conj().T @ a)
    phase = overlap / abs(overlap)
    return float(np.max(np.abs(a - phase * b)))


def _random_params(rng) -> model.ChargerParams:
    return model.ChargerParams(
        omega_b=rng.uniform(0.2, 2.0), omega_c=rng.uniform(0.2, 2.0), j1=rng.uniform(-2.0, 2.0), j2=rng.uniform(-1, 1)
    )


def test_compiled_unitary_equals_expm(rng):
    cases = [(model.ChargerParams(), t) for t in (0.0, 0.3, math.pi / 8, math.pi / 4, 1.0)]
    cases += [(_random_params(rng), rng.uniform(0.0, 6.0)) for _ in range(12)]
    cases += [(model.ChargerParams(omega_b=1.0, omega_c=1.0, j1=0.0, j2=0.3), 0.7)]  # Omega = 0
    cases += [(model.ChargerParams(omega_b=1.0, omega_c=1.7, j1=0.0, j2=0.3), 0.7)]  # J1 = 0, detuned
    for params, t in cases:
        qc = evolution_circuit(params, t)
        expected = sla.expm(-1j * model.hamiltonian(params) * t)
        assert _equal_up_to_phase(_physics_unitary(qc), expected) < 1e-10
        # standard gates only, no UnitaryGate
        assert set(qc.count_ops()) <= {"rz", "xx_plus_yy", "rzz"}


def test_circuit_state_matches_model_in_aer(rng):
    for params, t in [(model.ChargerParams(), 1.0), (_random_params(rng), rng.uniform(0, 5))]:
        mc = charger_circuit(params, t)
        assert mc.register == (0, 1) and mc.battery == (0,)
        psi = model.state(params, t)
        np.testing.assert_allclose(mc.ideal_state, ops.dm(psi), atol=1e-14)
        np.testing.assert_array_equal(mc.exact_state, mc.ideal_state)
        np.testing.assert_allclose(register_state(mc), mc.exact_state, atol=1e-9)
        np.testing.assert_allclose(mc.hamiltonian, model.battery_hamiltonian(params), atol=0)
        # one coherent step, exp(-iHt): its unitary is the circuit's (up to the X that prepares |0>_b |1>_c)
        (step,) = mc.steps
        assert step.ancilla is None and step.duration == t
        np.testing.assert_allclose(np.asarray(step.unitary), _physics_unitary(evolution_circuit(params, t)), atol=1e-10)
        assert mc.details["trace_distance_exact_ideal"] == 0.0


@pytest.mark.parametrize(
    ("t", "p_b", "c_b"),
    [(0.3, 0.0873321925, 1.6506712298), (math.pi / 8, 0.1464466094, 1.4142135624), (1.0, 0.7080734183, 0.8322936731)],
)
def test_reference_values(t, p_b, c_b):
    """docs/physics.md 2.2 table (omega_b = omega_c = 1, J1 = 1, J2 = 0.5): P_b and C_b of the circuit's battery
    state."""
    mc = charger_circuit(model.ChargerParams(), t)
    rho_b = ops.partial_trace(mc.exact_state, (2, 2), keep=(0,))
    assert float(np.real(rho_b[1, 1])) == pytest.approx(p_b, abs=1e-9)
    assert thermo.capacity(rho_b, mc.hamiltonian) == pytest.approx(c_b, abs=1e-9)


def test_extraction_acts_on_battery_only_and_leaves_passive_state(rng):
    params = _random_params(rng)
    for t in (0.4, 1.0, 2.3):
        mc = charger_circuit(params, t)
        u = _physics_unitary(extraction_circuit(mc))
        rho_b = ops.partial_trace(mc.ideal_state, (2, 2), keep=(0,))
        u_b = thermo.extraction_unitary(rho_b, mc.hamiltonian)
        np.testing.assert_allclose(u, np.kron(u_b, np.eye(2)), atol=1e-12)
        after = ops.partial_trace(u @ mc.ideal_state @ u.conj().T, (2, 2), keep=(0,))
        w = thermo.ergotropy(rho_b, mc.hamiltonian)
        e_before = thermo.energy(rho_b, mc.hamiltonian)
        assert thermo.energy(after, mc.hamiltonian) == pytest.approx(e_before - w, abs=1e-12)
        assert thermo.ergotropy(after, mc.hamiltonian) == pytest.approx(0.0, abs=1e-12)


def test_two_qubit_gate_count():
    """The whole evolution needs at most 3 CZ on an all-to-all basis (any two-qubit unitary does)."""
    mc = charger_circuit(model.ChargerParams(), 1.0)
    t = transpile(mc.circuit, basis_gates=["cz", "rz", "sx", "x"], optimization_level=2, seed_transpiler=7)
    assert t.count_ops().get("cz", 0) <= 3


def test_bad_time_raises():
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ParameterError) as err:
            charger_circuit(model.ChargerParams(), bad)
        assert err.value.parameter == "time"
