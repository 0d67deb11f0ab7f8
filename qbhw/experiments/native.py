"""The native cavity-QED run of the micromaser (docs/physics.md sections 6.2 and 6.4).

On a device whose calibration lists a storage resonator (``qbhw run micromaser --device synthetic_cqed``) the
battery is the resonator itself: no binary encoding, no circuit. The stages of ``pipeline.run_experiment`` become

* predict   ideal: the ideal model at the pulse run's cutoff (``qbhw.models.micromaser.evolve``); circuit: the
            same (there is no circuit; the JSON's ``circuit.description`` says so); noisy: the pulse-level state
            after K collisions on the device with its default imperfections (``qbhw.pulse.run_micromaser``);
* measure   displaced-parity counts of that state on the grid of ``qbhw.tomography.displacement_grid`` at the
            same cutoff, through the transmon with the device's readout confusion and parity contrast
            (``CavityMeasurement.from_calibration``);
* estimate  ``qbhw.tomography.estimate_cavity``: linear energy, unbiased purity, capped / sample-split
            ergotropy, the fidelity to the ideal state, the maximum-likelihood state with its top-level weight;
            and, as a cross-check of the energy, number-selective populations (D settings at the same shots per
            setting; ``number_energy`` with its interval in ``measured``).

Figures are those of the cavity with H = a^dag a in units of the resonator frequency (the model's units).
``truncated_capacity`` is the capacity within the cutoff's space, as for the encoded run. Seeds as the pipeline:
sampling and bootstrap seeds from ``Experiment.seeds()``.
"""

from __future__ import annotations

import dataclasses
import time as _time
from typing import Any

import numpy as np

from qbhw.errors import CalibrationError, ParameterError
from qbhw.experiments.pipeline import (
    MAX_BOOTSTRAP_SETTINGS,
    MAX_SHOTS_PER_SETTING,
    SHOTS_PER_SETTING,
    Experiment,
    Progress,
    _versions,
    calibration_info,
)
from qbhw.experiments.records import (
    CircuitReport,
    Figures,
    MeasuredRecord,
    PointRecord,
    SettingCounts,
    freeze,
)
from qbhw.hardware import DeviceCalibration
from qbhw.physics import capacity, ergotropy, purity, stored_energy
from qbhw.physics.distance import fidelity

NATIVE_DESCRIPTION = (
    "native cavity-QED mapping: the storage resonator is the cavity (no binary encoding, no circuit); the circuit "
    "column is the ideal model at the pulse run's cutoff, noisy is the pulse-level prediction, measured is "
    "displaced-parity cavity tomography"
)


def uses_native(exp: Experiment) -> bool:
    """Whether ``exp`` runs natively: the micromaser on a device whose calibration lists a storage resonator, unless
    it asks for the encoded circuit with pulse-informed collisions (``--noise pulse``, ``experiments.pulse_noise``)."""
    if exp.model != "micromaser" or getattr(exp.options, "noise", None) == "pulse":
        return False
    return any(getattr(r, "role", None) == "storage" for r in (getattr(exp.device, "resonators", ()) or ()))


#: largest Fock cutoff of the native run: the catalogue's hardware-run limit for the micromaser (D <= 16)
MAX_NATIVE_CUTOFF = 16


def grid_size(cutoff: int) -> int:
    """Displacements of ``qbhw.tomography.displacement_grid(cutoff)`` (1 + D (2D - 1)), from the grid itself so
    that the size check follows the grid's rule."""
    from qbhw import tomography

    return len(tomography.displacement_grid(cutoff))


def check_native_sizes(exp: Experiment) -> int:
    """Refuse, before any work, a native run whose shots or bootstrap do not fit its displacement grid; returns
    the number of settings of the largest grid the run can need (the given cutoff, else ``MAX_NATIVE_CUTOFF``:
    the automatic cutoff is known only once the pulse-level run has chosen it)."""
    d = MAX_NATIVE_CUTOFF if exp.params.cutoff is None else int(exp.params.cutoff)
    settings = grid_size(d)
    if exp.shots == 0:
        return settings
    if exp.shots is not None and exp.shots < 2 * settings:
        where = f"cutoff {d}" if exp.params.cutoff is not None else f"up to cutoff {d} (automatic cutoff)"
        raise ParameterError(
            "shots", f"0 or >= {2 * settings} (2 per displacement of the {settings}-point grid, {where})", exp.shots
        )
    if exp.bootstrap * settings > MAX_BOOTSTRAP_SETTINGS:
        raise ParameterError(
            "bootstrap",
            f"an integer <= {MAX_BOOTSTRAP_SETTINGS // settings} for {settings} displacements (bootstrap x settings "
            f"<= {MAX_BOOTSTRAP_SETTINGS:.3g})",
            exp.bootstrap,
        )
    return settings


def _figures(rho: np.ndarray, reference: np.ndarray) -> Figures:
    h = np.diag(np.arange(rho.shape[0], dtype=float))
    return Figures(
        energy=float(stored_energy(rho, h)),
        ergotropy=float(ergotropy(rho, h)),
        capacity=float(capacity(rho, h)),
        purity=float(purity(rho)),
        fidelity=float(fidelity(rho, reference)),
    )


def run_native(exp: Experiment, progress: Progress | None = None) -> PointRecord:
    """The PointRecord of the native run of ``exp`` (module doc). Raises CalibrationError when the device has a
    storage resonator but no flux-tunable transmon that reaches it, CutoffError when the cutoff fills."""
    from qbhw import pulse, tomography

    device: DeviceCalibration = exp.device
    clock = _time.perf_counter()

    def done(stage: str, note: str) -> None:
        nonlocal clock
        now = _time.perf_counter()
        if progress is not None:
            progress(stage, now - clock, note)
        clock = now

    if exp.layouts > 1:
        raise ParameterError("layouts", "1 for the native cavity run (there is no circuit to lay out)", exp.layouts)
    if exp.measurement != "state":
        raise ParameterError(
            "measurement", "'state' for the native cavity run (there are no measurement circuits)", exp.measurement
        )
    if exp.estimator != "auto":
        raise ParameterError(
            "estimator", "auto for the native cavity run (displaced-parity cavity tomography)", exp.estimator
        )
    check_native_sizes(exp)
    try:
        cqed = pulse.from_calibration(device)
        measurement = tomography.CavityMeasurement.from_calibration(device)
    except CalibrationError as e:  # a device with resonators that cannot host the micromaser: name the flag
        raise ParameterError(
            "device",
            f"a device with a storage resonator and a flux-tunable transmon that reaches it ({e})",
            device.name,
        ) from None
    # without readout mitigation the fit assumes a perfect transmon readout (the data keep the confusion)
    fit_model = (
        measurement
        if exp.mitigate_readout
        else dataclasses.replace(
            measurement,
            p1_given_0=0.0,
            p0_given_1=0.0,
            assumption=measurement.assumption + "; readout confusion NOT in the fit (--no-readout-mitigation)",
        )
    )
    done("map", f"native: {cqed.name}, no circuit")
    imperfections = getattr(exp.options, "imperfections", None)  # --imperfections (qbhw.experiments.MicromaserOptions)
    result = pulse.run_micromaser(exp.params, cqed, imperfections="all" if imperfections is None else imperfections)
    rho = np.asarray(result.pulse_state)
    ideal_state = np.asarray(result.ideal_state)
    d = rho.shape[0]
    done("simulate", f"pulse-level prediction, cutoff {d}, {result.levels} transmon levels ({result.engine})")
    ideal = _figures(ideal_state, ideal_state)
    noisy = _figures(rho, ideal_state)

    sampling_seed, bootstrap_seed = exp.seeds()
    grid = tomography.displacement_grid(d)
    shots_per = SHOTS_PER_SETTING if exp.shots is None else exp.shots // grid.size
    if shots_per > MAX_SHOTS_PER_SETTING:
        raise ParameterError("shots", f"at most {MAX_SHOTS_PER_SETTING:.3g} per displacement", exp.shots)
    measured = None
    counts: tuple[SettingCounts, ...] = ()
    total = 0
    if exp.shots != 0:
        if shots_per < 2:
            raise ParameterError(
                "shots", f"0 or at least {2 * grid.size} (2 per displacement of the {grid.size}-point grid)", exp.shots
            )
        data = tomography.sample_cavity(rho, "parity", grid, shots_per, seed=sampling_seed, measurement=measurement)
        total = data.shots
        done("sample", f"{grid.size} displacements, {total} shots")
        est = tomography.estimate_cavity(
            data,
            cutoff=d,
            measurement=fit_model,
            target=ideal_state,
            bootstrap=exp.bootstrap,
            seed=bootstrap_seed,
        )
        done("fit + bootstrap", f"{exp.bootstrap} bootstrap samples, MLE top-level weight {est.top_level_weight:.2g}")
        out: dict[str, Any] = est.to_dict()
        # the second estimator as a cross-check of the energy: number-selective pi pulses, k = 0 .. D-1, with the
        # same shots per setting (its own stream: the sampling seed's child (2,))
        number_seed = int(np.random.SeedSequence(sampling_seed, spawn_key=(2,)).generate_state(1)[0])
        numbers = tomography.sample_cavity(
            rho, "number", np.arange(d), shots_per, seed=number_seed, measurement=measurement
        )
        by_number = tomography.estimate_cavity(
            numbers, cutoff=d, measurement=fit_model, bootstrap=0, seed=bootstrap_seed, mle=False
        )
        out["number_energy"] = by_number.energy.value
        out["number_energy_ci"] = list(by_number.energy.ci)
        out["number_energy_std"] = by_number.energy.std
        out["number_settings"] = by_number.settings
        out["number_shots"] = by_number.shots
        out["number_seed"] = number_seed
        measured = MeasuredRecord.from_dict(freeze(out))
        counts = tuple(
            SettingCounts(f"parity({a.real:+.6f}{a.imag:+.6f}j)", freeze({"0": int(c[0]), "1": int(c[1])}))
            for a, c in zip(data.points, data.counts, strict=True)
        )
    qiskit_version, aer_version, qbhw_version = _versions()
    details = {
        "mapping": "native",
        "pulse": {k: v for k, v in result.to_dict().items() if k not in ("ideal", "pulse")},
        "pulse_figures": result.pulse.to_dict(),
        "cavity_measurement": measurement.to_dict(),
        "displacements": int(grid.size),
        "shots_per_displacement": int(shots_per) if exp.shots != 0 else 0,
    }
    return PointRecord(
        model=exp.model,
        parameters=freeze(dataclasses.asdict(exp.params)),
        time=freeze({}),
        options=freeze({}),
        device=device.name,
        shots=exp.shots if measured is None else total,
        seed=exp.seed,
        sampling_seed=sampling_seed,
        ideal=ideal,
        circuit=ideal,
        noisy=noisy,
        compilation=CircuitReport(
            description=NATIVE_DESCRIPTION,
            details=freeze(details),
            physical_qubits=(),
            register_physical_qubits=(),
            depth=0,
            two_qubit_gates=0,
            duration_ns=float(result.collision_ns * result.collisions),
            seed_transpiler=0,
            transpile_check=0.0,  # no circuit: the circuit column is the ideal model itself
            transpile_route="native",
        ),
        measured=measured,
        qiskit_version=qiskit_version,
        qiskit_aer_version=aer_version,
        qbhw_version=qbhw_version,
        counts=counts,
        spawn_key=exp.spawn_key,
        calibration=calibration_info(device),
    )
