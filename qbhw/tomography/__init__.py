"""Pauli-setting tomography of a battery register: measurement circuits, fitters with readout in the measurement
model, bootstrap confidence intervals of ergotropy / energy / capacity / purity / fidelity.

Public surface: exactly what is re-exported here. Conventions: a register is listed in physics order (position
0 = leftmost Kronecker factor, basis index 0 = |g> = Qiskit |0>); settings are strings over "XYZ" (character k
for position k); Qiskit bitstrings of the tomography register are "c_{n-1} ... c_0" with clbit k = position k.
Only ``measurement_circuits`` needs qiskit (imported when called).
"""

from qbhw.tomography._data import ReadoutModel, TomographyData
from qbhw.tomography._estimate import (
    DICKE_ASSUMPTION,
    BatteryEstimate,
    Interval,
    estimate_battery,
    estimate_dicke,
)
from qbhw.tomography._fit import (
    MAX_QUBITS,
    fit_linear,
    fit_mle,
    fit_projected,
    outcome_probabilities,
    pauli_expectations,
    project_to_simplex,
    sample_counts,
)
from qbhw.tomography._linear import LinearEstimates, linear_functionals
from qbhw.tomography._settings import REGISTER_NAME, measurement_circuits, pauli_settings, split_shots

__all__ = [
    "DICKE_ASSUMPTION",
    "MAX_QUBITS",
    "REGISTER_NAME",
    "BatteryEstimate",
    "Interval",
    "LinearEstimates",
    "ReadoutModel",
    "TomographyData",
    "estimate_battery",
    "estimate_dicke",
    "fit_linear",
    "fit_mle",
    "fit_projected",
    "linear_functionals",
    "measurement_circuits",
    "outcome_probabilities",
    "pauli_expectations",
    "pauli_settings",
    "project_to_simplex",
    "sample_counts",
    "split_shots",
]
