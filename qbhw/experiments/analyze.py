"""Analysing a collected bundle: the counts against the predictions the bundle was prepared with (``qbhw analyze``).

1. Verify: every file the manifest lists has its sha256, nothing else is in the bundle, and the seal of the
   collection (``bundle.verify_collection``) names this manifest and holds the sha256 of ``counts.json`` and
   ``jobs.json``: a change to any file of the bundle is refused with one line naming it.
2. Readout model: from the bundle's own readout-calibration circuits when it has them (P(read 1 | |0...0>) and
   P(read 0 | |1...1>) per register qubit, with their binomial standard deviations), else the stored calibration
   the manifest recorded (taken as exact: a provider states no uncertainty); which one is recorded either way.
3. Fit: the estimator the manifest names (``qbhw.tomography.estimate_battery`` with the manifest's fitter, battery
   Hamiltonian and target state, or ``estimate_dicke``), with its bootstrap count, confidence and seed: the same
   counts give the same numbers. The calibration circuits' own shot noise is propagated: one readout model is used
   for every setting, so its error does not average out over the settings (micromaser demo point, 27 settings and
   the calibration at 8192 shots each: it moves the energy by 0.0033, against a bootstrap standard deviation of
   0.0084). ``READOUT_REPLICATES`` readout models are drawn from the calibration's binomial spread, the figures
   refitted with each (with the estimate the intervals are built around: for full Pauli tomography the
   linear-inversion pivot, whose readout sensitivity the physical projection damps, e.g. dE/dP(1|0) = -1.84 linear,
   -0.98 projected, for the example charger), and their standard deviation s is added to each interval in quadrature
   (each end moves out by sqrt(h^2 + (z s)^2) - h, h the half width, z the normal quantile; then clipped to the
   figure's range); ``readout_calibration_std`` records s per figure.
4. Compare with the noisy prediction (qbhw's noise model of the calibration at preparation). A prediction inside the
   measured interval is "inside"; outside by more than half the interval's width (for a central interval of
   +-1.96 sigma, a deviation beyond ~3.9 sigma: chance ~1e-4) and more than the resolution of the data (the
   figure's range divided by the smallest number of shots of a setting) is "far outside" and flagged with its
   likely causes; outside by less is "outside", which a 95 % interval is for one figure in twenty by chance.

The result is a ``records.PointRecord`` (the same record ``qbhw run`` makes, so the report renders it alike) with
the bundle's provenance, the readout model used and the comparison.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qbhw.errors import ParameterError, QbhwError
from qbhw.experiments._runtime import JobsRecord, read_jobs
from qbhw.experiments.bundle import (
    JOBS_FILE,
    BundleCounts,
    CollectionSeal,
    Manifest,
    verify_bundle,
    verify_collection,
)
from qbhw.experiments.prepare import READOUT_SOURCES, matrix_from_json
from qbhw.experiments.records import (
    FIGURE_KEYS,
    CircuitReport,
    Figures,
    MeasuredRecord,
    PointRecord,
    SettingCounts,
    freeze,
)

STATUSES = ("inside", "outside", "far outside")
#: readout models drawn from the calibration circuits' spread to propagate it into the intervals (module docstring)
READOUT_REPLICATES = 50
#: the spawn key of their random stream (``SeedSequence(bootstrap_seed, spawn_key=(2,))``; the tomography's
#: bootstrap uses the seed itself and its split spawn key 1)
READOUT_SPAWN_KEY = 2
READOUT_WIDENING = (
    f"widened in quadrature by the readout calibration's spread ({READOUT_REPLICATES} readout models drawn from the "
    "calibration circuits' binomial spread)"
)
#: a stored readout error further than this many binomial standard deviations from today's calibration circuits is
#: called stale in the notes
STALE_READOUT_SIGMAS = 5.0

LIKELY_CAUSES = (
    "the device did not behave like the calibration the prediction used: a stale calibration (import the device's "
    "calibration again and prepare a new bundle), drift during the run, or noise qbhw's model lacks (crosstalk, "
    "leakage, coherent and non-Markovian errors)"
)
DICKE_CAUSE = (
    "the dicke-z estimator assumes each excitation sector is the symmetric Dicke state, which local noise breaks "
    "(its ergotropy, capacity and purity then come out too large; prepare with --estimator full-pauli)"
)
LOCAL_CAUSE = (
    "; this run was local, so the counts come from the fake backend's own Aer noise model "
    "(AerSimulator.from_backend), which models its calibration differently from qbhw"
)


# ------------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class Agreement:
    """The noisy prediction of one figure against its measured interval: ``outside_by`` is the distance from the
    interval (0 inside), ``status`` one of ``STATUSES`` (module docstring, step 4)."""

    figure: str
    predicted: float
    measured: float
    ci: tuple[float, float]
    outside_by: float
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "predicted": self.predicted,
            "measured": self.measured,
            "ci": [self.ci[0], self.ci[1]],
            "outside_by": self.outside_by,
            "status": self.status,
        }


@dataclass(frozen=True)
class ReadoutUsed:
    """The readout model of the fit: its ``source`` (``prepare.READOUT_SOURCES``), the register's physical ``qubits``
    (register order), P(1|0) and P(0|1) per qubit, their binomial standard deviations (calibration circuits only,
    else None), and the stored calibration's values for comparison."""

    source: str
    qubits: tuple[int, ...]
    p1_given_0: tuple[float, ...]
    p0_given_1: tuple[float, ...]
    std: tuple[tuple[float, float], ...] | None
    stored_p1_given_0: tuple[float, ...]
    stored_p0_given_1: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "qubits": list(self.qubits),
            "p1_given_0": list(self.p1_given_0),
            "p0_given_1": list(self.p0_given_1),
            "std": None if self.std is None else [list(s) for s in self.std],
            "stored_p1_given_0": list(self.stored_p1_given_0),
            "stored_p0_given_1": list(self.stored_p0_given_1),
        }


@dataclass(frozen=True, eq=False)
class BundleAnalysis:
    """The analysis of a collected bundle (module docstring): the point ``record`` (predictions from the manifest,
    measured from the counts), the bundle's ``manifest``, the collection ``seal``, the ``jobs`` record (None when
    the counts were ingested from a file without submission), the ``readout`` model used, the ``agreement`` of each
    figure, ``flags`` (far-outside figures with their likely causes) and ``notes``."""

    directory: Path
    manifest: Manifest
    record: PointRecord
    seal: CollectionSeal
    jobs: JobsRecord | None
    readout: ReadoutUsed
    agreement: tuple[Agreement, ...]
    flags: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def ran_on(self) -> str | None:
        """The backend the counts came from (None when ingested from a counts file)."""
        return None if self.jobs is None else self.jobs.backend

    def bundle_dict(self) -> dict[str, Any]:
        device = self.manifest.sections["device"]
        jobs = self.jobs
        return {
            "directory": str(self.directory),
            "content_hash": self.manifest.content_hash(),
            "job_tag": self.manifest.job_tag(),
            "schema_version": self.manifest.schema_version,
            "created_utc": self.manifest.created_utc,
            "device": {k: device.get(k) for k in ("name", "date", "calibration_hash", "origin", "backend")},
            "circuits": len(self.manifest.circuits),
            "shots_per_circuit": sorted(set(self.manifest.shots.values())),
            "counts_source": self.seal.source,
            "counts_file": self.seal.counts_file,
            "collected_utc": self.seal.collected_utc,
            "ran_on": None if jobs is None else jobs.backend,
            "local": None if jobs is None else jobs.local,
            "primitive": None if jobs is None else jobs.primitive,
            "job_ids": [] if jobs is None else list(jobs.job_ids),
            "other_backend": False if jobs is None else jobs.other_backend,
            "execution": self.manifest.sections["execution"],
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``qbhw analyze --json``: the record's keys (``ideal``, ``circuit``, ``noisy``,
        ``measured`` with ``*_ci``, ``model``, ``parameters``, ``device``, ``shots``, ``seed``, versions), and
        ``bundle`` (provenance), ``readout``, ``agreement`` (per figure), ``flags``, ``notes``."""
        from qbhw import __version__

        out = self.record.to_dict()
        out["bundle"] = self.bundle_dict()
        out["readout"] = self.readout.to_dict()
        out["agreement"] = {a.figure: a.to_dict() for a in self.agreement}
        out["flags"] = list(self.flags)
        out["notes"] = list(self.notes)
        out["analysis_qbhw_version"] = __version__
        return out


# ------------------------------------------------------------------------------------------------ manifest access


def _get(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise QbhwError(f"manifest {where} lacks {key!r}: the bundle was not written by qbhw prepare")
    return obj[key]


def _section(manifest: Manifest, name: str) -> Mapping[str, Any]:
    value = manifest.sections.get(name)
    if not isinstance(value, Mapping):
        raise QbhwError(f"manifest section {name!r} is not an object: the bundle was not written by qbhw prepare")
    return value


# ------------------------------------------------------------------------------------------------ readout


def _register_counts(counts: BundleCounts, circuit: str, register: str) -> Mapping[str, int]:
    cc = counts.circuits[circuit]
    if register not in cc.registers:
        raise QbhwError(f"circuit {circuit!r} has no classical register {register!r} in the counts")
    return cc.registers[register].counts


def _bit_fraction(counts: Mapping[str, int], k: int, bit: str) -> tuple[float, float]:
    """(fraction of shots whose clbit k reads ``bit``, its binomial standard deviation)."""
    total = sum(counts.values())
    hits = sum(n for key, n in counts.items() if key[-1 - k] == bit)
    p = hits / total
    return p, math.sqrt(max(p * (1.0 - p), 0.0) / total)


def _readout(manifest: Manifest, counts: BundleCounts) -> tuple[Any, ReadoutUsed, list[str]]:
    from qbhw import tomography

    est = _section(manifest, "estimator")
    spec = _get(est, "readout", "estimator")
    device = _section(manifest, "device")
    stored = _get(device, "register_readout", "device")
    qubits = tuple(int(_get(r, "qubit", "device.register_readout")) for r in stored)
    s10 = tuple(float(_get(r, "p1_given_0", "device.register_readout")) for r in stored)
    s01 = tuple(float(_get(r, "p0_given_1", "device.register_readout")) for r in stored)
    source = _get(spec, "source", "estimator.readout")
    notes: list[str] = []
    if source == READOUT_SOURCES[0]:
        names = _get(spec, "circuits", "estimator.readout")
        register = _get(spec, "register", "estimator.readout")
        zero = _register_counts(counts, _get(names, "0", "estimator.readout.circuits"), register)
        one = _register_counts(counts, _get(names, "1", "estimator.readout.circuits"), register)
        p10 = [_bit_fraction(zero, k, "1") for k in range(len(qubits))]
        p01 = [_bit_fraction(one, k, "0") for k in range(len(qubits))]
        used = ReadoutUsed(
            source,
            qubits,
            tuple(p for p, _ in p10),
            tuple(p for p, _ in p01),
            tuple((a[1], b[1]) for a, b in zip(p10, p01, strict=True)),
            s10,
            s01,
        )
        for k, q in enumerate(qubits):
            for what, (p, sd), old in (("P(1|0)", p10[k], s10[k]), ("P(0|1)", p01[k], s01[k])):
                if abs(p - old) > STALE_READOUT_SIGMAS * max(sd, 1.0 / sum(zero.values())):
                    notes.append(
                        f"readout {what} of qubit {q}: {p:.4f} +- {sd:.4f} from the calibration circuits, {old:.4f} "
                        "in the stored calibration (stale; the fit uses the circuits')"
                    )
    elif source == READOUT_SOURCES[1]:
        used = ReadoutUsed(source, qubits, s10, s01, None, s10, s01)
    else:
        raise QbhwError(f"manifest estimator.readout.source must be one of {', '.join(READOUT_SOURCES)}")
    try:
        model = tomography.ReadoutModel(used.p1_given_0, used.p0_given_1)
    except ParameterError:
        worst = int(np.argmax(np.add(used.p1_given_0, used.p0_given_1)))
        raise QbhwError(
            f"the readout of qubit {qubits[worst]} is no better than guessing (P(1|0) + P(0|1) = "
            f"{used.p1_given_0[worst] + used.p0_given_1[worst]:.3f} >= 1, {source}): the counts cannot be corrected"
        ) from None
    return model, used, notes


# ------------------------------------------------------------------------------------------------ analysis


def _fitter(manifest: Manifest, counts: BundleCounts) -> tuple[Callable[..., Any], list[Any]]:
    """``fit(readout, bootstrap, pivot=False) -> BatteryEstimate`` of the manifest's estimator on the bundle's
    tomography counts (``pivot``: with the linear-inversion fitter, the pivot of the full-Pauli intervals), and the
    counts per setting."""
    from qbhw import tomography

    est = _section(manifest, "estimator")
    seeds = _section(manifest, "seeds")
    name = _get(est, "name", "estimator")
    settings = [str(s) for s in _get(est, "settings", "estimator")]
    circuits = [str(c) for c in _get(est, "circuits", "estimator")]
    register = str(_get(est, "register", "estimator"))
    if len(settings) != len(circuits):
        raise QbhwError("manifest estimator lists a different number of settings and circuits")
    per_setting = [dict(_register_counts(counts, c, register)) for c in circuits]
    data = tomography.TomographyData.from_counts(settings, per_setting)
    confidence = float(_get(est, "confidence", "estimator"))
    seed = int(_get(seeds, "bootstrap_seed", "seeds"))
    setting_counts = [SettingCounts(s, freeze(c)) for s, c in zip(settings, per_setting, strict=True)]
    if name == "full-pauli":
        h = matrix_from_json(_get(est, "hamiltonian", "estimator"), "manifest estimator.hamiltonian")
        target = _get(est, "target_state", "estimator")
        battery = [int(b) for b in _get(est, "battery", "estimator")]
        target_state = None if target is None else matrix_from_json(target, "manifest estimator.target_state")
        method = str(_get(est, "fitter", "estimator"))

        def fit_full(readout: Any, bootstrap: int, pivot: bool = False) -> Any:
            return tomography.estimate_battery(
                data,
                h,
                battery=battery,
                target=target_state,
                method="linear" if pivot else method,
                readout=readout,
                bootstrap=bootstrap,
                confidence=confidence,
                seed=seed,
            )

        return fit_full, setting_counts
    if name == "dicke-z":
        omega = float(_get(est, "omega", "estimator"))

        def fit_dicke(readout: Any, bootstrap: int, pivot: bool = False) -> Any:
            return tomography.estimate_dicke(
                data, omega=omega, readout=readout, bootstrap=bootstrap, confidence=confidence, seed=seed
            )

        return fit_dicke, setting_counts
    raise QbhwError(f"manifest estimator.name must be 'full-pauli' or 'dicke-z' (got {name!r})")


def _readout_spread(
    manifest: Manifest, counts: BundleCounts, used: ReadoutUsed, fit: Callable[..., Any]
) -> dict[str, float]:
    """Standard deviation of each figure over ``READOUT_REPLICATES`` readout models drawn from the calibration
    circuits' binomial spread (parametric bootstrap of P(1|0), P(0|1) per qubit; module docstring), each figure
    from the estimate the intervals are built around (full Pauli: the linear-inversion pivot)."""
    from qbhw import tomography

    spec = _get(_section(manifest, "estimator"), "readout", "estimator")
    names = _get(spec, "circuits", "estimator.readout")
    n0 = counts.circuits[_get(names, "0", "estimator.readout.circuits")].shots
    n1 = counts.circuits[_get(names, "1", "estimator.readout.circuits")].shots
    seed = int(_get(_section(manifest, "seeds"), "bootstrap_seed", "seeds"))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(READOUT_SPAWN_KEY,)))
    reps: list[list[float]] = []
    for _ in range(READOUT_REPLICATES):
        p10 = rng.binomial(n0, used.p1_given_0) / n0
        p01 = rng.binomial(n1, used.p0_given_1) / n1
        if np.any(p10 + p01 >= 1.0):
            continue
        values = fit(tomography.ReadoutModel(tuple(p10), tuple(p01)), 0, pivot=True).to_dict()
        reps.append([float(values.get(k, math.nan)) for k in FIGURE_KEYS])
    if len(reps) < 2:
        return {}
    spread = np.std(np.asarray(reps), axis=0, ddof=1)
    return {k: float(s) for k, s in zip(FIGURE_KEYS, spread, strict=True) if math.isfinite(s)}


def _figure_bounds(manifest: Manifest, figure: str) -> tuple[float, float]:
    """The physical range of a figure (where intervals are clipped, as ``qbhw.tomography`` does)."""
    if figure == "fidelity":
        return 0.0, 1.0
    est = _section(manifest, "estimator")
    if figure == "purity":
        if est.get("name") == "dicke-z":
            return 1.0 / (len(_get(_section(manifest, "layout"), "register", "layout")) + 1), 1.0
        return 2.0 ** -len(_get(est, "battery", "estimator")), 1.0
    return 0.0, _figure_range(manifest, figure)


def _widen(manifest: Manifest, values: dict[str, Any], spread: Mapping[str, float], confidence: float) -> None:
    """Add the readout calibration's spread to each interval in quadrature: each end moves out by
    sqrt(h^2 + (z s)^2) - h, h the interval's half width, z the normal quantile of ``confidence``; clipped to the
    figure's physical range."""
    z = statistics.NormalDist().inv_cdf(0.5 * (1.0 + confidence))
    for key, s in spread.items():
        ci = values.get(f"{key}_ci")
        if ci is None:
            continue
        lo, hi = float(ci[0]), float(ci[1])
        half = 0.5 * (hi - lo)
        extra = math.sqrt(half**2 + (z * s) ** 2) - half
        low, high = _figure_bounds(manifest, key)
        values[f"{key}_ci"] = [max(lo - extra, low), min(hi + extra, high)]
    values["readout_calibration_std"] = dict(spread)
    values["interval"] = f"{values['interval']}; {READOUT_WIDENING}"


def _estimate(
    manifest: Manifest, counts: BundleCounts, readout: Any, used: ReadoutUsed
) -> tuple[Any, dict[str, Any], list[Any]]:
    est = _section(manifest, "estimator")
    fit, setting_counts = _fitter(manifest, counts)
    estimated = fit(readout, int(_get(est, "bootstrap", "estimator")))
    values = dict(estimated.to_dict())
    if used.source == READOUT_SOURCES[0] and estimated.bootstrap:
        _widen(manifest, values, _readout_spread(manifest, counts, used, fit), float(estimated.confidence))
    cutoff = est.get("cutoff")
    if estimated.state is not None and cutoff is not None and int(cutoff) < estimated.state.shape[0]:
        rho = estimated.state
        values["outside_cutoff"] = float(np.real(np.trace(rho) - np.trace(rho[: int(cutoff), : int(cutoff)])))
    return estimated, values, setting_counts


def _figure_range(manifest: Manifest, figure: str) -> float:
    if figure in ("purity", "fidelity"):
        return 1.0
    est = _section(manifest, "estimator")
    if est.get("name") == "dicke-z":
        return float(est.get("omega") or 1.0) * len(_get(_section(manifest, "layout"), "register", "layout"))
    e = np.linalg.eigvalsh(matrix_from_json(_get(est, "hamiltonian", "estimator"), "manifest estimator.hamiltonian"))
    return float(e[-1] - e[0])


def compare(manifest: Manifest, record: PointRecord, min_shots: int) -> tuple[Agreement, ...]:
    """The noisy prediction of each figure against its measured interval (module docstring, step 4)."""
    m = record.measured
    if m is None:
        return ()
    out = []
    for key in FIGURE_KEYS:
        predicted = getattr(record.noisy, key)
        if key not in m.figures or math.isnan(predicted):
            continue
        fig = m.figures[key]
        lo, hi = fig.ci
        outside = max(lo - predicted, predicted - hi, 0.0)
        resolution = _figure_range(manifest, key) / max(min_shots, 1)
        if outside <= 0.0:
            status = STATUSES[0]
        elif outside > max(0.5 * (hi - lo), resolution):
            status = STATUSES[2]
        else:
            status = STATUSES[1]
        out.append(Agreement(key, float(predicted), float(fig.value), (float(lo), float(hi)), float(outside), status))
    return tuple(out)


def _record(manifest: Manifest, values: dict[str, Any], setting_counts: list[Any], shots: int) -> PointRecord:
    model = _section(manifest, "model")
    device = _section(manifest, "device")
    layout = _section(manifest, "layout")
    seeds = _section(manifest, "seeds")
    predictions = _section(manifest, "predictions")
    versions = _section(manifest, "versions")
    comp = _get(layout, "compilation", "layout")
    check = comp.get("transpile_check")
    return PointRecord(
        model=str(_get(model, "name", "model")),
        parameters=freeze(_get(model, "parameters", "model")),
        time=freeze(_get(model, "time", "model")),
        options=freeze(_get(model, "options", "model")),
        device=str(_get(device, "name", "device")),
        shots=shots,
        seed=int(_get(seeds, "seed", "seeds")),
        sampling_seed=int(_get(seeds, "sampling_seed", "seeds")),
        ideal=Figures.from_dict(_get(predictions, "ideal", "predictions")),
        circuit=Figures.from_dict(_get(predictions, "circuit", "predictions")),
        noisy=Figures.from_dict(_get(predictions, "noisy", "predictions")),
        compilation=CircuitReport(
            description=str(model.get("description", "")),
            details=freeze(model.get("details", {})),
            physical_qubits=tuple(int(q) for q in _get(layout, "physical_qubits", "layout")),
            register_physical_qubits=tuple(int(q) for q in _get(layout, "register", "layout")),
            depth=int(_get(comp, "depth", "layout.compilation")),
            two_qubit_gates=int(_get(comp, "two_qubit_gates", "layout.compilation")),
            duration_ns=float(_get(comp, "duration_ns", "layout.compilation")),
            seed_transpiler=int(_get(comp, "seed_transpiler", "layout.compilation")),
            transpile_check=math.nan if check is None else float(check),
            transpile_route=str(_get(comp, "transpile_route", "layout.compilation")),
        ),
        measured=MeasuredRecord.from_dict(freeze(values)),
        qiskit_version=str(versions.get("qiskit")),
        qiskit_aer_version=str(versions.get("qiskit-aer")),
        qbhw_version=str(versions.get("qbhw")),
        counts=tuple(setting_counts),
    )


def analyze_bundle(directory: str | Path) -> BundleAnalysis:
    """Verify, fit and compare the collected bundle in ``directory`` (module docstring). Tampering, a bundle that is
    not collected, or a manifest not written by ``qbhw prepare``: one-line QbhwError."""
    root = Path(directory)
    manifest = verify_bundle(root)
    counts, seal = verify_collection(root, manifest)
    jobs = read_jobs(root) if (root / JOBS_FILE).exists() else None
    readout, used, notes = _readout(manifest, counts)
    estimated, values, setting_counts = _estimate(manifest, counts, readout, used)
    record = _record(manifest, values, setting_counts, int(estimated.shots))
    names = [str(c) for c in _get(_section(manifest, "estimator"), "circuits", "estimator")]
    min_shots = min(manifest.shots[n] for n in names)
    agreement = compare(manifest, record, min_shots)
    flags = []
    conf = 100 * (record.measured.confidence if record.measured is not None else 0.95)
    for a in agreement:
        if a.status == STATUSES[2]:
            flags.append(
                f"{a.figure}: the noisy prediction {a.predicted:.4f} lies far outside the measured {conf:.0f}% "
                f"interval [{a.ci[0]:.4f}, {a.ci[1]:.4f}] (by {a.outside_by:.4f})"
            )
        elif a.status == STATUSES[1]:
            notes.append(
                f"{a.figure}: the noisy prediction {a.predicted:.4f} lies outside the measured {conf:.0f}% interval "
                f"[{a.ci[0]:.4f}, {a.ci[1]:.4f}] by {a.outside_by:.4f} (a {conf:.0f}% interval misses about one figure "
                f"in {round(100 / (100 - conf)):d} by chance)"
            )
    if flags:
        causes = LIKELY_CAUSES + (LOCAL_CAUSE if jobs is not None and jobs.local else "")
        if _section(manifest, "estimator").get("name") == "dicke-z":
            causes = DICKE_CAUSE + "; else " + causes
        flags.append("likely causes: " + causes)
    if jobs is not None and jobs.other_backend:
        notes.append(
            f"the circuits ran on {jobs.backend}, not on {jobs.device}, for which they were prepared "
            "(--allow-other-backend): the predictions are those of the preparation's calibration"
        )
    return BundleAnalysis(root, manifest, record, seal, jobs, used, agreement, tuple(flags), tuple(notes))


__all__ = [
    "LIKELY_CAUSES",
    "STATUSES",
    "Agreement",
    "BundleAnalysis",
    "ReadoutUsed",
    "analyze_bundle",
    "compare",
]
