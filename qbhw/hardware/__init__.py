"""Device calibrations (schema, JSON files, the device registry, backend import), units, qubit choice, Aer noise
models and transpile targets.

Public surface: exactly what is re-exported here, and the ``units`` module (the one place for unit conversions:
``units.ghz_to_rad_per_ns``, ``units.us_to_ns``, ...). ``import_fake_backend`` needs qiskit-ibm-runtime (the
``ibm`` extra); everything else needs only qiskit and qiskit-aer.
"""

from qbhw.errors import CalibrationError, MissingDependencyError
from qbhw.hardware import units
from qbhw.hardware.backend_import import (
    DEFAULT_TEMPERATURE_MK,
    FALLBACK_FREQ_GHZ,
    calibration_from_backend,
    fake_backend_class_name,
    import_fake_backend,
    known_fake_backends,
)
from qbhw.hardware.calibration import (
    KNOWN_SCHEMA_VERSIONS,
    RESONATOR_ROLES,
    SCHEMA_VERSION,
    DeviceCalibration,
    GateCalibration,
    QubitCalibration,
    QubitCouplingCalibration,
    ResonatorCalibration,
)
from qbhw.hardware.calibration_io import (
    calibration_from_dict,
    calibration_hash,
    calibration_to_dict,
    dumps_calibration,
    read_calibration,
    save_calibration,
)
from qbhw.hardware.devices import (
    CALIBRATIONS_ENV,
    DEFAULT_DEVICE,
    DeviceSummary,
    builtin_calibrations,
    calibrations_dir,
    default_device,
    list_device_summaries,
    list_devices,
    load_calibration,
    resolve_device,
    summarize,
    user_calibrations_dir,
)
from qbhw.hardware.layout import qubit_costs, ranked_qubit_sets, restrict, select_qubits
from qbhw.hardware.noise import (
    NOISELESS_T_US,
    GateNoise,
    gate_noise,
    idle_relaxation_pass,
    noise_model,
    noiseless,
    qubit_relaxation_rates,
    relaxation_error,
    relaxation_process_fidelity,
    relaxation_superop,
)
from qbhw.hardware.synthetic import SYNTHETIC_TEMPERATURE_MK, synthetic_cavity_qed
from qbhw.hardware.target import device_backend, transpile_target
from qbhw.hardware.units import RelaxationRates, relaxation_rates

__all__ = [
    "CALIBRATIONS_ENV",
    "DEFAULT_DEVICE",
    "DEFAULT_TEMPERATURE_MK",
    "FALLBACK_FREQ_GHZ",
    "KNOWN_SCHEMA_VERSIONS",
    "NOISELESS_T_US",
    "RESONATOR_ROLES",
    "SCHEMA_VERSION",
    "SYNTHETIC_TEMPERATURE_MK",
    "CalibrationError",
    "DeviceCalibration",
    "DeviceSummary",
    "GateCalibration",
    "GateNoise",
    "MissingDependencyError",
    "QubitCalibration",
    "QubitCouplingCalibration",
    "RelaxationRates",
    "ResonatorCalibration",
    "builtin_calibrations",
    "calibration_from_backend",
    "calibration_from_dict",
    "calibration_hash",
    "calibration_to_dict",
    "calibrations_dir",
    "default_device",
    "device_backend",
    "dumps_calibration",
    "fake_backend_class_name",
    "gate_noise",
    "idle_relaxation_pass",
    "import_fake_backend",
    "known_fake_backends",
    "list_device_summaries",
    "list_devices",
    "load_calibration",
    "noise_model",
    "noiseless",
    "qubit_costs",
    "qubit_relaxation_rates",
    "ranked_qubit_sets",
    "read_calibration",
    "relaxation_error",
    "relaxation_process_fidelity",
    "relaxation_rates",
    "relaxation_superop",
    "resolve_device",
    "restrict",
    "save_calibration",
    "select_qubits",
    "summarize",
    "synthetic_cavity_qed",
    "transpile_target",
    "units",
    "user_calibrations_dir",
]
