"""Pauli-setting tomography of a battery register: measurement circuits, exact sampling from a known state with
the device's measurement noise, fitters with readout in the measurement model, and battery figures (energy,
ergotropy, capacity, purity, fidelity) with confidence intervals, and linear functionals Tr[rho O] with their exact
multinomial covariance (docs/tomography_intervals.md).

Public surface: exactly what is re-exported here. Conventions: a register is listed in physics order (position
0 = leftmost Kronecker factor, basis index 0 = |g> = Qiskit |0>); settings are strings over "XYZ" (character k
for position k); Qiskit bitstrings of the tomography register are "c_{n-1} ... c_0" with clbit k = position k.
Cavity tomography (``qbhw.tomography.cavity``): displaced-parity and number-selective measurements of a
resonator in the Fock basis, with the same interval construction. Only ``measurement_circuits`` and
``MeasurementNoise.from_calibration`` need qiskit (imported when called).
"""

from qbhw.tomography._bootstrap import MAX_BOOTSTRAP, MAX_SHOTS_PER_SETTING, Interval
from qbhw.tomography._data import MeasurementNoise, ReadoutModel, TomographyData
from qbhw.tomography._dicke_z import DICKE_ASSUMPTION, estimate_dicke
from qbhw.tomography._estimate import BatteryEstimate, estimate_battery
from qbhw.tomography._fit import (
    MAX_QUBITS,
    fit_linear,
    fit_mle,
    fit_projected,
    pauli_expectations,
    project_to_simplex,
)
from qbhw.tomography._linear import LinearEstimates, linear_functionals
from qbhw.tomography._sampling import outcome_probabilities, sample_counts
from qbhw.tomography._settings import REGISTER_NAME, measurement_circuits, pauli_settings, split_shots
from qbhw.tomography.cavity import (
    CavityData,
    CavityEstimate,
    CavityMeasurement,
    cavity_probabilities,
    displacement_grid,
    estimate_cavity,
    parity_operator,
    sample_cavity,
)

__all__ = [
    "DICKE_ASSUMPTION",
    "MAX_BOOTSTRAP",
    "MAX_QUBITS",
    "MAX_SHOTS_PER_SETTING",
    "REGISTER_NAME",
    "BatteryEstimate",
    "CavityData",
    "CavityEstimate",
    "CavityMeasurement",
    "Interval",
    "LinearEstimates",
    "MeasurementNoise",
    "ReadoutModel",
    "TomographyData",
    "cavity_probabilities",
    "displacement_grid",
    "estimate_battery",
    "estimate_cavity",
    "estimate_dicke",
    "fit_linear",
    "fit_mle",
    "fit_projected",
    "linear_functionals",
    "measurement_circuits",
    "outcome_probabilities",
    "parity_operator",
    "pauli_expectations",
    "pauli_settings",
    "project_to_simplex",
    "sample_cavity",
    "sample_counts",
    "split_shots",
]
