"""Battery models as logical circuits (collisions with reset, exchange gates, bosonic encodings), each with the
exact channel it implements, for verification against the ideal models.

Public surface: exactly what is re-exported here. Every builder returns a ``MappedCircuit``.
"""

from qbhw.mapping._common import MappedCircuit, prepare_qubit, qubit_state_preparation
from qbhw.mapping.charger import charger_circuit, evolution_circuit
from qbhw.mapping.collective import collective_circuit
from qbhw.mapping.micromaser import micromaser_circuit
from qbhw.mapping.thermal_gradient import thermal_gradient_circuit, thermal_relaxation_circuit
from qbhw.physics.operators import qiskit_to_physics

__all__ = [
    "MappedCircuit",
    "charger_circuit",
    "collective_circuit",
    "evolution_circuit",
    "micromaser_circuit",
    "prepare_qubit",
    "qiskit_to_physics",
    "qubit_state_preparation",
    "thermal_gradient_circuit",
    "thermal_relaxation_circuit",
]
