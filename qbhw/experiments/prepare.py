"""Preparing an experiment bundle: one model point, mapped, compiled onto a device's own qubits, verified and
predicted, as the ISA circuits a backend runs plus everything the analysis needs (``qbhw prepare``).

The stages are the pipeline's (``pipeline.map_circuit``, ``compile_verified``, ``predict``, ``measurement_plan``,
``compile.measurement_circuits``); the files are ``bundle.write_bundle``'s. What the manifest's sections hold:

============  =========================================================================================================
versions      qbhw, Python, qiskit, qiskit-aer, qiskit-ibm-runtime, qiskit-qasm3-import at preparation
model         ``name``, ``parameters``, ``time`` and ``options`` (set fields only), the circuit's ``description`` and
              ``details`` (mapping error, angles, steps)
device        ``name``, ``source``, calibration ``date`` and ``calibration_hash`` (``qbhw.hardware.calibration_hash``),
              ``num_qubits``, ``dt_ns``, ``origin`` (where the calibration came from), ``backend`` (the backend a
              submission targets), ``register_readout`` (the stored readout errors of the register's qubits, the
              fallback of the readout mitigation) and the calibration of the used ``qubits`` and ``gates``
layout        ``physical_qubits`` (chosen, routing stays inside them), ``initial_layout`` (virtual qubit i starts on
              physical ``initial_layout[i]``), ``register`` (register position k ends on physical ``register[k]``,
              physics order), ``battery`` (register positions of the battery), the classical registers and
              ``bit_order``, and the ``compilation`` report (depth, two-qubit gates, duration, transpiler seed, check)
seeds         ``seed`` (given), ``sampling_seed`` (a local submission's simulator seeds are spawned from it),
              ``bootstrap_seed`` (the analysis), ``seed_transpiler``; the first two come from
              ``Experiment.seeds()``, as in ``qbhw run``
predictions   ``ideal``, ``circuit`` (the noiseless circuit, from the mapping's exact channel) and ``noisy`` (the exact
              density matrix of the ISA circuit under qbhw's noise model of the calibration), each the battery
              figures of ``records.Figures``; ``noisy_engine`` says what made the noisy state
estimator     what ``analyze`` fits: ``name`` ("full-pauli" or "dicke-z"), ``fitter``, ``bootstrap``, ``confidence``,
              the ``settings`` and their ``circuits`` (same order), ``register`` (the tomography register), ``battery``,
              the battery ``hamiltonian`` and the ideal ``target_state`` of the register ({"real", "imag"} matrices,
              physics order), ``omega`` (dicke-z), ``cutoff`` (micromaser: levels at or above it are outside the
              model), and ``readout``: the mitigation's ``source`` ("calibration circuits" when the bundle has them,
              else "stored calibration") with the calibration circuits' names and register
execution     ``dynamical_decoupling`` (None or "XX", "XpXm", "XY4"), ``twirling`` (bool), both off by default and
              checked at preparation by the executor sampler's own client-side preparation; ``primitive`` the
              sampler the installed qiskit-ibm-runtime recommends (None without it); ``shots_per_circuit``
============  =========================================================================================================

Circuits: ``MODEL_tomo_SETTING`` (the compiled circuit, the basis change of the setting in the device's gates, the
register measured into the classical register ``tomo``, clbit k = register position k) and, with
``readout_calibration``, ``MODEL_readout_0`` / ``MODEL_readout_1`` (the register's qubits prepared in |0...0> /
|1...1> and measured into ``readout``, clbit k = register position k): a calibration taken on the day of the run,
since a stored one is stale then. Every circuit gets the same shots.

Devices (``resolve_bundle_device``): a calibration (object, JSON path or a known device name, ``qbhw devices``), a
qiskit-ibm-runtime fake backend name (``fake_fez``; its calibration imported from the fake), an IBM Quantum backend
name (``ibm_torino``; its calibration imported from the service backend: needs credentials) or a BackendV2 object.
When a backend is known (a fake matching the device's name, the service backend, the object), the circuits are
checked against its own Target: its ``reset`` before anything is compiled (collision circuits need it; some devices
have none), every instruction on its qubits afterwards.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qbhw import _validate
from qbhw.errors import CalibrationError, MissingDependencyError, ParameterError, QbhwError
from qbhw.experiments import _runtime, execute
from qbhw.experiments.bundle import MAX_SHOTS, Manifest, library_versions, write_bundle
from qbhw.experiments.compile import Compiled, check_isa, measurement_circuits
from qbhw.experiments.pipeline import (
    CONFIDENCE,
    DEFAULT_BOOTSTRAP,
    SHOTS_PER_SETTING,
    Experiment,
    compile_verified,
    ideal_target,
    make_record,
    map_circuit,
    measurement_plan,
    predict,
)
from qbhw.experiments.records import PointRecord
from qbhw.hardware import (
    DeviceCalibration,
    calibration_from_backend,
    calibration_hash,
    calibration_to_dict,
    device_backend,
    fake_backend_class_name,
    import_fake_backend,
    load_calibration,
)
from qbhw.mapping import MappedCircuit

#: shots of every circuit of a bundle unless given (the ``qbhw run`` default per tomography setting)
SHOTS_PER_CIRCUIT = SHOTS_PER_SETTING
#: the tomography fitter the analysis uses (``qbhw.tomography.estimate_battery``'s ``method``)
FITTER = "projected"
#: the classical registers of the bundle's circuits
TOMOGRAPHY_REGISTER = "tomo"
READOUT_REGISTER = "readout"
#: where the readout mitigation of the analysis comes from
READOUT_SOURCES = ("calibration circuits", "stored calibration")
#: how a bundle's device was obtained
ORIGINS = ("calibration", "fake backend", "IBM Quantum backend", "backend object")
BIT_ORDER = (
    "clbit k of a register holds register position k (physics order: position 0 is the leftmost Kronecker factor); "
    "a Qiskit bitstring is read right to left (its rightmost character is clbit 0)"
)


# ------------------------------------------------------------------------------------------------ the device


@dataclass(frozen=True)
class BundleDevice:
    """A device resolved for a bundle: its calibration (what compiles and predicts), where it came from
    (``ORIGINS``), the name of the backend a submission targets, and the backend object whose own Target the
    circuits are checked against (None when there is none: a calibration of no known backend)."""

    calibration: DeviceCalibration
    origin: str
    backend_name: str
    backend: Any = None


def _runtime_installed() -> bool:
    try:
        _runtime.sampler_kind()
    except MissingDependencyError:
        return False
    return True


def _fake_instance(name: str) -> Any:
    from qiskit_ibm_runtime import fake_provider

    return getattr(fake_provider, fake_backend_class_name(name))()


def resolve_bundle_device(device: Any, *, service: Any = None) -> BundleDevice:
    """The BundleDevice of ``device`` (module docstring): a DeviceCalibration, a BackendV2, or a string naming a
    calibration (path or known device), a fake backend (``fake_...``), or an IBM Quantum backend (``ibm_...``)."""
    if isinstance(device, DeviceCalibration):
        return _with_matching_fake(device)
    if not isinstance(device, str):
        if not hasattr(device, "target"):
            raise ParameterError("device", "a device name, a calibration path, or a backend", type(device).__name__)
        cal = calibration_from_backend(device, name=str(device.name))
        return BundleDevice(cal, "backend object", str(device.name), device)
    text = device.strip()
    try:
        return _with_matching_fake(load_calibration(text))
    except CalibrationError as exc:
        unknown = exc
    lowered = text.lower()
    if lowered.startswith("ibm_"):
        backend = _runtime.service_backend(text, service=service)
        cal = calibration_from_backend(
            backend, name=str(backend.name), source=f"IBM Quantum backend {backend.name} (imported by qbhw prepare)"
        )
        return BundleDevice(cal, "IBM Quantum backend", str(backend.name), backend)
    if lowered.startswith("fake"):
        if not _runtime_installed():
            raise MissingDependencyError(
                f"{unknown}; a qiskit-ibm-runtime fake backend needs the runtime: pip install 'qbhw[ibm]'"
            )
        try:
            cal = import_fake_backend(text)
        except CalibrationError:
            raise unknown from None
        fake = _fake_instance(text)
        return BundleDevice(cal, "fake backend", str(fake.name), fake)
    raise unknown


def _with_matching_fake(cal: DeviceCalibration) -> BundleDevice:
    """A calibration; a name ``fake_...`` that names one of the installed runtime's fake backends brings that fake
    along (its Target checks the circuits; a local submission runs on it)."""
    if cal.name.lower().startswith("fake") and _runtime_installed():
        try:
            fake = _fake_instance(cal.name)
        except CalibrationError:
            return BundleDevice(cal, "calibration", cal.name)
        return BundleDevice(cal, "calibration", str(fake.name), fake)
    return BundleDevice(cal, "calibration", cal.name)


# ------------------------------------------------------------------------------------------------ circuits


def _uses(circuit: Any, name: str) -> bool:
    def walk(qc: Any) -> bool:
        for inst in qc.data:
            if inst.operation.name == name:
                return True
            if any(walk(block) for block in getattr(inst.operation, "blocks", ())):
                return True
        return False

    return walk(circuit)


def _check_reset(mapped: MappedCircuit, bd: BundleDevice) -> None:
    """Before compiling: a circuit with mid-circuit resets needs a backend that offers ``reset``."""
    if bd.backend is None or not _uses(mapped.circuit, "reset"):
        return
    if "reset" not in set(bd.backend.target.operation_names):
        raise QbhwError(
            f"backend {bd.backend_name} has no 'reset' instruction, and the {mapped.model} circuit resets its "
            "ancillas between collisions; choose a device that offers a mid-circuit reset"
        )


def readout_circuits(compiled: Compiled, *, name: str) -> list[Any]:
    """The readout-calibration circuits of the register of ``compiled``: ``{name}_readout_0`` measures the register's
    qubits in |0...0>, ``{name}_readout_1`` after an X on each (in the device's basis gates); register ``readout``,
    clbit k = register position k; ISA circuits of the device."""
    from qiskit import ClassicalRegister, QuantumCircuit, transpile

    device = compiled.device
    one = QuantumCircuit(1)
    one.x(0)
    flip = [inst.operation for inst in transpile(one, basis_gates=list(device.basis_gates), optimization_level=1).data]
    qubits = list(compiled.register)
    out = []
    for bit in ("0", "1"):
        creg = ClassicalRegister(len(qubits), READOUT_REGISTER)
        qc = QuantumCircuit(device.num_qubits, name=f"{name}_readout_{bit}")
        qc.add_register(creg)
        if bit == "1":
            for q in qubits:
                for op in flip:
                    qc.append(op, [qc.qubits[q]])
        qc.barrier([qc.qubits[q] for q in qubits])
        for k, q in enumerate(qubits):
            qc.measure(qc.qubits[q], creg[k])
        qc.metadata = {"readout_calibration": bit, "readout_qubits": [int(q) for q in qubits]}
        check_isa(qc, device)
        out.append(qc)
    return out


# ------------------------------------------------------------------------------------------------ sections


def _matrix(a: np.ndarray) -> dict[str, Any]:
    arr = np.asarray(a, dtype=complex)
    return {"real": arr.real.tolist(), "imag": arr.imag.tolist()}


def matrix_from_json(obj: Mapping[str, Any], where: str) -> np.ndarray:
    """A complex matrix stored by ``prepare`` as {"real": rows, "imag": rows}; one line when malformed."""
    try:
        real = np.asarray(obj["real"], dtype=float)
        imag = np.asarray(obj["imag"], dtype=float)
    except (KeyError, TypeError, ValueError):
        raise QbhwError(f"{where} must be {{'real': rows, 'imag': rows}} of numbers") from None
    if real.ndim != 2 or real.shape[0] != real.shape[1] or real.shape != imag.shape or not real.size:
        raise QbhwError(f"{where} must be a square matrix (got shape {real.shape} and {imag.shape})")
    if not (np.all(np.isfinite(real)) and np.all(np.isfinite(imag))):
        raise QbhwError(f"{where} holds a non-finite number")
    return real + 1j * imag


def _set_fields(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    return {k: v for k, v in dataclasses.asdict(obj).items() if v is not None}


def _device_section(bd: BundleDevice, compiled: Compiled) -> dict[str, Any]:
    cal = bd.calibration
    full = calibration_to_dict(cal)
    used = set(compiled.physical_qubits)
    return {
        "name": cal.name,
        "source": cal.source,
        "date": cal.date,
        "calibration_hash": calibration_hash(cal),
        "num_qubits": cal.num_qubits,
        "dt_ns": cal.dt_ns,
        "origin": bd.origin,
        "backend": bd.backend_name,
        "register_readout": [
            {
                "qubit": int(q),
                "p1_given_0": cal.qubits[q].readout_p1_given_0,
                "p0_given_1": cal.qubits[q].readout_p0_given_1,
            }
            for q in compiled.register
        ],
        "qubits": [full["qubits"][q] for q in sorted(used)],
        "gates": [g for g in full["gates"] if set(g["qubits"]) <= used],
    }


def _layout_section(mapped: MappedCircuit, compiled: Compiled, readout: bool) -> dict[str, Any]:
    return {
        "physical_qubits": list(compiled.physical_qubits),
        "initial_layout": list(compiled.initial_layout),
        "register": list(compiled.register),
        "battery": list(mapped.battery),
        "tomography_register": TOMOGRAPHY_REGISTER,
        "readout_register": READOUT_REGISTER if readout else None,
        "bit_order": BIT_ORDER,
        "compilation": {
            "depth": compiled.depth,
            "two_qubit_gates": compiled.two_qubit_gates,
            "duration_ns": compiled.duration_ns,
            "seed_transpiler": compiled.seed_transpiler,
            "transpile_check": compiled.check,
            "transpile_route": compiled.route,
        },
    }


# ------------------------------------------------------------------------------------------------ prepare


@dataclass(frozen=True, eq=False)
class PreparedBundle:
    """What ``prepare_bundle`` wrote: the bundle ``directory``, its ``manifest``, the ``device`` it targets, and the
    point's ``record`` without a measurement (the predictions and the compilation report)."""

    directory: Path
    manifest: Manifest
    device: BundleDevice
    record: PointRecord


def _check_out(out: str | os.PathLike[str]) -> Path:
    text = os.fspath(out)
    if not text.strip():
        raise ParameterError("out", "a new directory for the bundle (got an empty path)", text)
    path = Path(text)
    if path.exists() or path.is_symlink():
        raise ParameterError("out", "a new directory (it exists; a bundle is never written over anything)", text)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ParameterError("out", f"a directory that can be created ({parent} is not writable)", text)
    return path


def prepare_bundle(
    out: str | os.PathLike[str],
    model: str,
    params: Any,
    *,
    device: Any,
    time: Any = None,
    options: Any = None,
    shots: int = SHOTS_PER_CIRCUIT,
    seed: int = 0,
    readout_calibration: bool = False,
    dd: str | None = None,
    twirl: bool = False,
    estimator: str = "auto",
    bootstrap: int = DEFAULT_BOOTSTRAP,
    service: Any = None,
) -> PreparedBundle:
    """Write the bundle of ``model`` at ``params`` (``time``, ``options``) on ``device`` into the new directory
    ``out`` (module docstring). ``shots`` per circuit; ``seed`` as in ``qbhw run``; ``readout_calibration`` adds the
    two readout-calibration circuits; ``dd`` ("XX", "XpXm", "XY4") and ``twirl`` are recorded execution options,
    checked here (they need qiskit-ibm-runtime); ``estimator`` and ``bootstrap`` fix what the analysis fits.
    Everything is checked before the bundle is written; the directory is never overwritten."""
    path = _check_out(out)
    shots = _validate.integer_at_least("shots", shots, 1)
    if shots > MAX_SHOTS:
        raise ParameterError("shots", f"an integer in [1, {MAX_SHOTS}] (shots per circuit)", shots)
    if dd is not None and dd not in _runtime.DD_SEQUENCES:
        raise ParameterError("dd", "one of " + ", ".join(_runtime.DD_SEQUENCES), dd)
    if not isinstance(twirl, bool):
        raise ParameterError("twirl", "true or false", twirl)
    if not isinstance(readout_calibration, bool):
        raise ParameterError("readout_calibration", "true or false", readout_calibration)
    if twirl and shots % _runtime.TWIRL_RANDOMIZATIONS:
        raise ParameterError(
            "shots", f"a multiple of {_runtime.TWIRL_RANDOMIZATIONS} with --twirl (shots per randomization)", shots
        )
    runtime = _runtime_installed()
    if (dd is not None or twirl) and not runtime:
        raise MissingDependencyError(
            "checking dynamical decoupling and twirling needs qiskit-ibm-runtime: pip install 'qbhw[ibm]'"
        )
    if getattr(options, "noise", None) == "pulse":
        raise ParameterError(
            "noise", "'device' for a hardware bundle (the backend's own noise is what it measures)", "pulse"
        )
    if getattr(options, "imperfections", None) is not None:
        raise ParameterError(
            "imperfections",
            "omitted for a hardware bundle (the backend's own noise is what it measures)",
            options.imperfections,
        )
    bd = resolve_bundle_device(device, service=service)
    cal = bd.calibration
    exp = Experiment(
        model,
        params,
        cal,
        time=time,
        options=options,
        seed=seed,
        bootstrap=bootstrap,
        estimator=estimator,
        measurement="circuits",
    )
    mapped = map_circuit(exp)
    _check_reset(mapped, bd)
    chosen, settings, _ = measurement_plan(exp, mapped)
    compiled = compile_verified(mapped, cal)
    sim = execute.simulator(cal, compiled.physical_qubits, noisy=True)
    prediction = predict(mapped, compiled, sim)

    base = model
    circuits = measurement_circuits(compiled, settings, name=base)
    readout = readout_circuits(compiled, name=base) if readout_calibration else []
    circuits = circuits + readout
    if bd.backend is not None:
        _runtime.check_backend(bd.backend, circuits)
    primitive = None
    if dd is not None or twirl:
        checker = bd.backend if bd.backend is not None else device_backend(cal)
        primitive = _runtime.check_execution(circuits, backend=checker, shots=shots, dd=dd, twirl=twirl)
    elif runtime:
        primitive = _runtime.sampler_kind()

    record = make_record(exp, mapped, compiled, prediction, None, None)
    sampling_seed, bootstrap_seed = exp.seeds()
    cutoff = mapped.details.get("cutoff")
    sections = {
        "versions": library_versions(),
        "model": {
            "name": model,
            "parameters": dataclasses.asdict(params),
            "time": _set_fields(exp.time),
            "options": _set_fields(options),
            "description": mapped.description,
            "details": mapped.details,
        },
        "device": _device_section(bd, compiled),
        "layout": _layout_section(mapped, compiled, bool(readout)),
        "seeds": {
            "seed": exp.seed,
            "sampling_seed": sampling_seed,
            "bootstrap_seed": bootstrap_seed,
            "seed_transpiler": compiled.seed_transpiler,
        },
        "predictions": {
            "ideal": prediction.ideal.to_dict(),
            "circuit": prediction.exact.to_dict(),
            "noisy": prediction.noisy.to_dict(),
            "noisy_engine": f"{prediction.engine}: exact density matrix of the ISA circuit under qbhw's noise model of "
            f"calibration {calibration_hash(cal)[:12]} (gates, idle relaxation, reset; readout in the measurement)",
        },
        "estimator": {
            "name": chosen,
            "fitter": FITTER if chosen == "full-pauli" else "linear+simplex",
            "bootstrap": exp.bootstrap,
            "confidence": CONFIDENCE,
            "settings": list(settings),
            "circuits": [qc.name for qc in circuits[: len(settings)]],
            "register": TOMOGRAPHY_REGISTER,
            "battery": list(mapped.battery),
            "hamiltonian": _matrix(mapped.hamiltonian),
            "target_state": _matrix(ideal_target(mapped)) if chosen == "full-pauli" else None,
            "omega": 1.0 if chosen == "dicke-z" else None,
            "cutoff": None if cutoff is None else int(cutoff),
            "readout": {
                "source": READOUT_SOURCES[0] if readout else READOUT_SOURCES[1],
                "circuits": {"0": readout[0].name, "1": readout[1].name} if readout else None,
                "register": READOUT_REGISTER if readout else None,
            },
        },
        "execution": {
            "dynamical_decoupling": dd,
            "twirling": twirl,
            "primitive": primitive,
            "shots_per_circuit": shots,
        },
    }
    manifest = write_bundle(path, circuits, sections, shots=shots)
    return PreparedBundle(path, manifest, bd, record)


__all__ = [
    "BIT_ORDER",
    "FITTER",
    "ORIGINS",
    "READOUT_REGISTER",
    "READOUT_SOURCES",
    "SHOTS_PER_CIRCUIT",
    "TOMOGRAPHY_REGISTER",
    "BundleDevice",
    "PreparedBundle",
    "matrix_from_json",
    "prepare_bundle",
    "readout_circuits",
    "resolve_bundle_device",
]
