"""Device calibrations (schema, validation, load/save, fake-backend import), Aer noise models and transpile targets.

Public surface: exactly what is re-exported here. ``import_fake_backend`` needs qiskit-ibm-runtime (the ``ibm``
extra); everything else needs only qiskit and qiskit-aer.
"""

from qbhw.errors import CalibrationError, MissingDependencyError
from qbhw.hardware.calibration import (
    DEFAULT_DEVICE,
    SCHEMA_VERSION,
    DeviceCalibration,
    DeviceSummary,
    GateCalibration,
    QubitCalibration,
    ResonatorCalibration,
    calibration_from_dict,
    calibration_to_dict,
    calibrations_dir,
    default_device,
    dumps_calibration,
    list_device_summaries,
    list_devices,
    load_calibration,
    noiseless,
    resolve_device,
    restrict,
    save_calibration,
    summarize,
)
from qbhw.hardware.fake_import import (
    DEFAULT_TEMPERATURE_MK,
    FALLBACK_FREQ_GHZ,
    calibration_from_backend,
    fake_backend_class_name,
    import_fake_backend,
    known_fake_backends,
)
from qbhw.hardware.layout import qubit_costs, select_qubits
from qbhw.hardware.noise import (
    GateNoise,
    gate_noise,
    idle_relaxation_pass,
    noise_model,
    relaxation_error,
    relaxation_process_fidelity,
)
from qbhw.hardware.synthetic import synthetic_cavity_qed
from qbhw.hardware.target import transpile_target

__all__ = [
    "DEFAULT_DEVICE",
    "DEFAULT_TEMPERATURE_MK",
    "FALLBACK_FREQ_GHZ",
    "SCHEMA_VERSION",
    "CalibrationError",
    "DeviceCalibration",
    "DeviceSummary",
    "GateCalibration",
    "GateNoise",
    "MissingDependencyError",
    "QubitCalibration",
    "ResonatorCalibration",
    "calibration_from_backend",
    "calibration_from_dict",
    "calibration_to_dict",
    "calibrations_dir",
    "default_device",
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
    "relaxation_error",
    "relaxation_process_fidelity",
    "resolve_device",
    "restrict",
    "save_calibration",
    "select_qubits",
    "summarize",
    "synthetic_cavity_qed",
    "transpile_target",
]
