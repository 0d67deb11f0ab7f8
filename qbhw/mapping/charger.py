"""Charger-battery spins as a two-qubit circuit that applies exp(-iHt) exactly (docs/physics.md section 2.3).

Register (physics order): (b, c) = (virtual qubit 0, virtual qubit 1), battery = (0,). The model's basis
{|0>, |1>} with Z = diag(+1, -1) is Qiskit's computational basis and Qiskit's Z, so the battery is empty in
|0>_b and the circuit starts from |0>_b |1>_c (an X on c). With

    H = -omega_b Z_b - omega_c Z_c + J1 (XX + YY)/2 + J2 Z_b Z_c,

whose three parts [J2 Z_b Z_c], [-(omega_b + omega_c)(Z_b + Z_c)/2] and [-(omega_b - omega_c)(Z_b - Z_c)/2 +
J1 (XX + YY)/2] commute pairwise,

    exp(-iHt) = RZZ(2 J2 t) . RZ_b(-s t) RZ_c(-s t) . V,   s = omega_b + omega_c,

and V = exp(-it[delta sz' + J1 sx']) (delta = omega_c - omega_b) is an SU(2) rotation of span{|01>, |10>} with
sz' = (Z_b - Z_c)/2, sx' = (XX + YY)/2 (identity on |00>, |11>). Its Euler form V = Rz'(a) Rx'(beta) Rz'(a) with
Rz'(a) = RZ_b(a/2) RZ_c(-a/2), Rx'(beta) = XXPlusYYGate(beta, 0) = exp(-i beta (XX + YY)/4), and

    sin(beta/2) = (J1/Omega) sin(Omega t),   a = -arg(cos(Omega t) - i (delta/Omega) sin(Omega t)),

Omega = sqrt(delta^2 + J1^2). Every factor is the exponential of a traceless operator, so the circuit equals
exp(-iHt) exactly (no global phase). The mapping is exact: ideal_state = exact_state = |psi(t)><psi(t)|.

Steps (``MappedCircuit.steps``): one coherent "unitary" CollisionStep on (b, c) with generator H (model units,
basis |0> = |g>) and duration t (model time); the circuit realises it by the decomposition above.
"""

from __future__ import annotations

import math
from typing import Any

from qbhw import _validate
from qbhw.mapping._collisions import coherent_step
from qbhw.mapping._common import MappedCircuit
from qbhw.models import charger as model
from qbhw.physics import operators as ops


def _euler_angles(params: model.ChargerParams, time: float) -> tuple[float, float]:
    """(a, beta) of V = Rz'(a) Rx'(beta) Rz'(a) = exp(-i t (delta sz' + J1 sx'))."""
    omega = params.rabi_frequency
    if omega == 0.0:
        return 0.0, 0.0
    s, c = math.sin(omega * time), math.cos(omega * time)
    v00 = complex(c, -(params.detuning / omega) * s)
    sin_half = max(-1.0, min(1.0, (params.j1 / omega) * s))
    beta = 2.0 * math.asin(sin_half)
    a = -math.atan2(v00.imag, v00.real) if abs(v00) > 1e-15 else 0.0
    return a, beta


def evolution_circuit(params: model.ChargerParams, time: float) -> Any:
    """exp(-iHt) on two qubits (qubit 0 = b, qubit 1 = c) from standard gates (RZ, XXPlusYYGate, RZZ)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import XXPlusYYGate

    t = _validate.nonnegative("time", time)
    a, beta = _euler_angles(params, t)
    qc = QuantumCircuit(2, name="exp(-iHt)")
    b, c = 0, 1
    if a != 0.0:
        qc.rz(0.5 * a, b)
        qc.rz(-0.5 * a, c)
    if beta != 0.0:
        qc.append(XXPlusYYGate(beta, 0.0), [b, c])
    s = (params.omega_b + params.omega_c) * t
    qc.rz(0.5 * a - s, b)
    qc.rz(-0.5 * a - s, c)
    if params.j2 * t != 0.0:
        qc.rzz(2.0 * params.j2 * t, b, c)
    return qc


def charger_circuit(params: model.ChargerParams, time: float) -> MappedCircuit:
    """The charger model at ``time`` as a circuit: X on c, then exp(-iHt) (exact, see the module docstring).

    register = (0, 1) = (b, c); battery = (0,); hamiltonian = H_b = -omega_b Z (2x2, physics basis |0>, |1>);
    ideal_state = exact_state = |psi(t)><psi(t)| (4x4, b first).
    """
    from qiskit import QuantumCircuit

    t = _validate.nonnegative("time", time)
    psi = model.state(params, t)
    rho = ops.dm(psi)
    h_b = model.battery_hamiltonian(params)
    qc = QuantumCircuit(2, name="charger")
    qc.x(1)  # |0>_b |1>_c
    qc.compose(evolution_circuit(params, t), inplace=True)
    a, beta = _euler_angles(params, t)
    return MappedCircuit(
        model="charger",
        circuit=qc,
        register=(0, 1),
        battery=(0,),
        hamiltonian=h_b,
        ideal_state=rho,
        exact_state=rho,
        description=(f"X on c, then exp(-iHt) at t = {t:g}: RZ dressing, XXPlusYY(beta = {beta:.6g}), RZ, RZZ(2 J2 t)"),
        details={
            "time": t,
            "rabi_frequency": params.rabi_frequency,
            "euler_a": a,
            "xx_plus_yy_beta": beta,
            "rzz_angle": 2.0 * params.j2 * t,
            "trace_distance_exact_ideal": 0.0,
            "exact": True,
        },
        steps=(coherent_step((0, 1), model.hamiltonian(params), t, label="exp(-iHt)"),),
    )
