"""Battery models as logical circuits (collisions with reset, exchange gates, bosonic encodings), each with the
exact channel it implements, for verification against the ideal models.

Public surface: exactly what is re-exported here. Every builder returns a ``MappedCircuit`` (the limit cycle two,
in ``LimitCycleCircuits``), which lists the ``CollisionStep``s its circuit applies; ``apply_steps`` gives their exact
channel and ``append_steps`` their circuit.
"""

from qbhw.mapping._collisions import CollisionStep, append_steps, apply_steps, steps_superoperator
from qbhw.mapping._common import MappedCircuit, extraction_circuit, prepare_qubit, qubit_state_preparation
from qbhw.mapping.charger import charger_circuit, evolution_circuit
from qbhw.mapping.collective import collective_circuit
from qbhw.mapping.micromaser import cavity_levels, micromaser_circuit
from qbhw.mapping.thermal_gradient import LimitCycleCircuits, limit_cycle_circuits, thermal_gradient_circuit
from qbhw.physics.operators import qiskit_to_physics

__all__ = [
    "CollisionStep",
    "LimitCycleCircuits",
    "MappedCircuit",
    "append_steps",
    "apply_steps",
    "cavity_levels",
    "charger_circuit",
    "collective_circuit",
    "evolution_circuit",
    "extraction_circuit",
    "limit_cycle_circuits",
    "micromaser_circuit",
    "prepare_qubit",
    "qiskit_to_physics",
    "qubit_state_preparation",
    "steps_superoperator",
    "thermal_gradient_circuit",
]
