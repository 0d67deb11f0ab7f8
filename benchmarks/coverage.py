"""Coverage study of qbhw's tomography intervals: how often the reported 95 % interval of each figure contains the
true value of the state that was sampled, per end, with the mean interval width (docs/tomography_intervals.md).

For every case the true register state is the pipeline's exact noisy prediction (``true_state``, the ONE place that
calls the experiments API), or an explicit state. Each of R data sets is drawn from it with qbhw's exact sampler
(the device's basis-change gate noise and readout confusion folded in, as Aer would sample the measurement
circuits), fitted with the pipeline's estimator (readout-mitigated), and scored: two-sided coverage, the miss rate
of each end (truth below the lower end / above the upper end), the mean width, and how often the printed point
lies inside its own interval. The binomial 95 % band of the coverage for R data sets is printed beside it.

Run (both take minutes; --quick is the smoke test):
    .venv/bin/python benchmarks/coverage.py --out docs/coverage_table.md
    .venv/bin/python benchmarks/coverage.py --quick
Cases can be chosen with --cases NAME ...; --reps R overrides the number of data sets of every case.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FIGURES = ("energy", "ergotropy", "capacity", "purity", "fidelity")
LOW_SHOTS = 1000
DEFAULT_SHOTS = 8192  # per setting, as `qbhw run`
BOOTSTRAP = 200


@dataclass(frozen=True)
class Truth:
    """The sampled register state (physics order), its battery, Hamiltonian, target and device qubits."""

    rho: np.ndarray
    hamiltonian: np.ndarray
    battery: tuple[int, ...]
    target: np.ndarray | None
    device: Any  # DeviceCalibration the physical qubits refer to, or None (ideal measurement)
    physical: tuple[int, ...] | None


def true_state(model: str, params: Any, time: Any, options: Any, device: Any) -> Truth:
    """The exact noisy register state of the pipeline for one model point (the one function that calls the
    experiments API; adapt it when that API changes). ``time`` / ``options``: the model's ``<Model>Time`` /
    ``<Model>Options`` dataclasses of ``qbhw.experiments`` (None: their defaults)."""
    from qbhw.experiments import Experiment, run_experiment

    r = run_experiment(Experiment(model, params, device, time=time, options=options, shots=0))
    compiled = r.compiled
    return Truth(
        rho=np.asarray(r.noisy_state),
        hamiltonian=np.asarray(r.mapped.hamiltonian),
        battery=tuple(int(b) for b in r.mapped.battery),
        target=np.asarray(r.mapped.ideal_state),
        device=compiled.device,  # the whole device; ``register`` holds its physical qubits, physics order
        physical=tuple(int(q) for q in compiled.register),
    )


@dataclass(frozen=True)
class Case:
    name: str
    shots: int  # per setting
    reps: int
    model: str = ""
    params: Any = None
    time: Any = None  # the model's time dataclass (qbhw.experiments.ChargerTime ...); None: its default
    options: Any = None  # the model's circuit-options dataclass; None: the mapping's defaults
    noisy: bool = True
    estimator: str = "full-pauli"
    state: str = ""  # name of an explicit state (``explicit_states``) instead of a model point
    slow: bool = field(default=False, compare=False)


def explicit_states() -> dict[str, Truth]:
    """Nearly passive two-qubit states with degenerate levels (H = diag(0, 1, 1, 2), W ~ 0.015-0.036) and the
    maximally mixed two-qubit state with H = diag(0, 1, 2, 3): the cases where a bootstrap is inconsistent."""
    rng = np.random.default_rng(20260101)
    h_deg = np.diag([0.0, 1.0, 1.0, 2.0])
    out: dict[str, Truth] = {}
    from qbhw.physics import ergotropy

    targets = {"passive-deg-a": 0.015, "passive-deg-b": 0.025, "passive-deg-c": 0.036}
    for name, w_goal in targets.items():
        pops = np.sort(rng.dirichlet(np.full(4, 4.0)))[::-1]
        base = np.diag(pops).astype(complex)
        g = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        herm = (g + g.conj().T) / 2
        lo, hi = 0.0, 1.0
        for _ in range(60):  # rotate away from passive until W = w_goal (W grows with the angle here)
            mid = 0.5 * (lo + hi)
            w, v = np.linalg.eigh(herm)
            u = (v * np.exp(-1j * mid * w)) @ v.conj().T
            rho = u @ base @ u.conj().T
            lo, hi = (mid, hi) if ergotropy(rho, h_deg) < w_goal else (lo, mid)
        out[name] = Truth(rho, h_deg, (0, 1), None, None, None)
    out["mixed-2q"] = Truth(np.eye(4, dtype=complex) / 4, np.diag([0.0, 1.0, 2.0, 3.0]), (0, 1), None, None, None)
    return out


def cases(r_small: int, r_big: int) -> list[Case]:
    from qbhw.experiments import ChargerTime
    from qbhw.models.charger import ChargerParams
    from qbhw.models.collective import CollectiveParams
    from qbhw.models.micromaser import MicromaserParams
    from qbhw.models.thermal_gradient import ThermalGradientParams

    out: list[Case] = []
    for shots in (DEFAULT_SHOTS, LOW_SHOTS):
        tag = "" if shots == DEFAULT_SHOTS else "-low"
        for noisy in (True, False):
            dtag = "" if noisy else "-noiseless"
            out += [
                Case(f"charger{tag}{dtag}", shots, r_small, "charger", ChargerParams(), ChargerTime(0.3), None, noisy),
                Case(
                    f"thermal-gradient{tag}{dtag}",
                    shots,
                    r_small,
                    "thermal-gradient",
                    ThermalGradientParams(),
                    None,
                    None,
                    noisy,
                ),
                Case(f"micromaser{tag}{dtag}", shots, r_small, "micromaser", MicromaserParams(), None, None, noisy),
            ]
            for n in range(2, 7):
                out.append(
                    Case(
                        f"collective-n{n}{tag}{dtag}",
                        shots,
                        r_small if n <= 4 else r_big,
                        "collective",
                        CollectiveParams(n=n, temperature=2.0),
                        None,
                        None,
                        noisy,
                        slow=n >= 5,
                    )
                )
            out += [
                Case(
                    f"micromaser-d4{tag}{dtag}",
                    shots,
                    r_small,
                    "micromaser",
                    MicromaserParams(collisions=3, cutoff=4),
                    None,
                    None,
                    noisy,
                ),
                Case(
                    f"micromaser-d8{tag}{dtag}",
                    shots,
                    r_small,
                    "micromaser",
                    MicromaserParams(g_tau=1.1107207345, collisions=10, cutoff=8),
                    None,
                    None,
                    noisy,
                ),
                Case(
                    f"micromaser-d16{tag}{dtag}",
                    shots,
                    r_small,
                    "micromaser",
                    MicromaserParams(cutoff=16),
                    None,
                    None,
                    noisy,
                ),
            ]
        for n in (4, 6):
            out.append(
                Case(
                    f"collective-n{n}-dicke-z{tag}",
                    shots,
                    r_small,
                    "collective",
                    CollectiveParams(n=n, temperature=2.0),
                    None,
                    None,
                    True,
                    "dicke-z",
                )
            )
        for name in ("passive-deg-a", "passive-deg-b", "passive-deg-c", "mixed-2q"):
            out.append(Case(f"{name}{tag}", shots, r_small, state=name))
    return out


# ----------------------------------------------------------------------------------------------- sampling and truth


def _sampler(truth: Truth, settings: tuple[str, ...]) -> tuple[Any, dict[str, Any], str]:
    """(draw(shots, seed) -> TomographyData, the fit's measurement-model keyword, sampler label). The fit uses the
    same measurement model as the sampler (the device's MeasurementNoise where qbhw has one, else its readout)."""
    from qbhw import tomography as tomo

    readout = None
    noise = None
    if truth.device is not None:
        readout = tomo.ReadoutModel.from_calibration(truth.device, truth.physical)
        if hasattr(tomo, "MeasurementNoise"):
            noise = tomo.MeasurementNoise.from_calibration(truth.device, truth.physical)
    if noise is not None:
        probs = tomo.outcome_probabilities(truth.rho, settings, noise=noise)
        label = "exact (basis-change gate noise + readout)"
        model: dict[str, Any] = {"noise": noise}
    else:
        model = {"readout": readout}
        probs = tomo.outcome_probabilities(truth.rho, settings, readout=readout)
        label = "exact (readout only)" if readout is not None else "exact (ideal measurement)"

    def draw(shots: int, seed: int) -> Any:
        counts = np.random.default_rng(seed).multinomial(shots, probs)
        return tomo.TomographyData.from_array(settings, counts, seed=seed)

    return draw, model, label


def _dicke_truth(truth: Truth) -> dict[str, float]:
    """Figures of sum_k P(k) |D_k><D_k| (the Dicke-Z estimator's assumption) with P(k) the true excitation
    distribution, H = sum_i sigma_z^i / 2 (levels k with multiplicity C(N, k))."""
    from qbhw.physics.thermodynamics import capacity_from_spectra, passive_energy_from_spectra

    d = truth.rho.shape[0]
    n = d.bit_length() - 1
    weights = np.array([bin(m).count("1") for m in range(d)])
    p = np.bincount(weights, weights=np.real(np.diag(truth.rho)), minlength=n + 1)
    e = np.arange(n + 1, dtype=float)
    mult_e = [math.comb(n, k) for k in range(n + 1)]
    zeros = d - (n + 1)
    vals = np.concatenate([p, [0.0]]) if zeros else p
    mult_r = [1] * (n + 1) + ([zeros] if zeros else [])
    energy = float(p @ e)
    return {
        "energy": energy,
        "ergotropy": energy - passive_energy_from_spectra(vals, mult_r, e, mult_e),
        "capacity": capacity_from_spectra(vals, mult_r, e, mult_e),
        "purity": float(p @ p),
    }


def _dicke_symmetrised(truth: Truth) -> Truth:
    """sum_k P(k) |D_k><D_k| with P(k) the excitation distribution of the sampled state: the state of DICKE_ASSUMPTION
    with the same Z-weight statistics (the noisy register itself is not permutation symmetric, and with
    qubit-dependent readout errors its weight histogram is not that of any Dicke state)."""
    d = truth.rho.shape[0]
    weights = np.array([bin(m).count("1") for m in range(d)])
    p = np.bincount(weights, weights=np.real(np.diag(truth.rho)), minlength=weights.max() + 1)
    rho = np.zeros((d, d), dtype=complex)
    for k, pk in enumerate(p):
        v = (weights == k).astype(complex)
        rho += pk * np.outer(v, v) / v.sum()
    return Truth(rho, truth.hamiltonian, truth.battery, None, truth.device, truth.physical)


def _true_figures(truth: Truth) -> dict[str, float]:
    from qbhw.physics import capacity, ergotropy, partial_trace, purity, stored_energy
    from qbhw.physics.distance import fidelity

    n = truth.rho.shape[0].bit_length() - 1
    rb = truth.rho if len(truth.battery) == n else partial_trace(truth.rho, [2] * n, list(truth.battery))
    h = truth.hamiltonian
    out = {
        "energy": stored_energy(rb, h),
        "ergotropy": ergotropy(rb, h),
        "capacity": capacity(rb, h),
        "purity": purity(rb),
    }
    if truth.target is not None:
        out["fidelity"] = fidelity(truth.rho, truth.target)
    return out


# --------------------------------------------------------------------------------------------------------- the study


@dataclass
class Tally:
    truth: float
    reps: int = 0
    covered: int = 0
    low: int = 0  # truth below the lower end
    high: int = 0  # truth above the upper end
    width: float = 0.0
    inside: int = 0  # point inside its own interval

    def add(self, value: float, ci: Sequence[float]) -> None:
        lo, hi = float(ci[0]), float(ci[1])
        tol = 1e-12 * max(1.0, abs(self.truth))  # rounding of a truth on the boundary (W = 0 of a passive state)
        self.reps += 1
        self.low += self.truth < lo - tol
        self.high += self.truth > hi + tol
        self.covered += lo - tol <= self.truth <= hi + tol
        self.width += hi - lo
        self.inside += lo - 1e-12 <= value <= hi + 1e-12


def case_truth(case: Case, states: dict[str, Truth]) -> Truth:
    """The case's true state; model points are computed once per (model, params, time, options, device) and kept in
    ``states`` (the low- and default-shot cases of one point share it)."""
    from qbhw.hardware import default_device, noiseless

    if case.state:
        return states[case.state]
    key = repr((case.model, case.params, case.time, case.options, case.noisy))
    if key not in states:
        device = default_device() if case.noisy else noiseless(default_device())
        states[key] = true_state(case.model, case.params, case.time, case.options, device)
    return states[key]


def run_case(case: Case, states: dict[str, Truth], base_seed: int) -> tuple[dict[str, Tally], str, float]:
    from qbhw import tomography as tomo

    truth = case_truth(case, states)
    n = truth.rho.shape[0].bit_length() - 1
    if case.estimator == "dicke-z":  # the estimator's guarantee holds under its assumption: sample a Dicke state
        truth = _dicke_symmetrised(truth)
        settings: tuple[str, ...] = ("Z" * n,)
        exact = _dicke_truth(truth)
    else:
        settings = tomo.pauli_settings(n)
        exact = _true_figures(truth)
    draw, model, label = _sampler(truth, settings)
    tallies = {k: Tally(v) for k, v in exact.items()}
    seeds = np.random.SeedSequence([base_seed, zlib_crc(case.name)]).spawn(case.reps)
    t0 = time.perf_counter()
    for child in seeds:
        sample_seed, boot_seed = (int(x) for x in child.generate_state(2))
        data = draw(case.shots, sample_seed)
        if case.estimator == "dicke-z":
            est = tomo.estimate_dicke(data, **model, bootstrap=BOOTSTRAP, seed=boot_seed)
        else:
            est = tomo.estimate_battery(
                data,
                truth.hamiltonian,
                battery=truth.battery,
                target=truth.target,
                **model,
                bootstrap=BOOTSTRAP,
                seed=boot_seed,
            )
        record = est.to_dict()
        for name, tally in tallies.items():
            tally.add(record[name], record[f"{name}_ci"])
    return tallies, label, (time.perf_counter() - t0) / case.reps


# ------------------------------------------------------------------------------------------ diagnosis (--diagnose)


def diagnose(case: Case, states: dict[str, Truth], base_seed: int, reps: int, boot: int) -> list[str]:
    """What made the old construction fail: over ``reps`` data sets, (a) the shift of the projected state's energy
    against the linear estimate's spread, (b) the bias of the plug-in ergotropy (linear and projected estimate)
    against its spread, and (c) the bias a non-parametric bootstrap attributes to the linear plug-in (the basic
    interval removes exactly that bias) against the real one."""
    from qbhw import tomography as tomo
    from qbhw.physics import ergotropy, partial_trace

    truth = case_truth(case, states)
    n = truth.rho.shape[0].bit_length() - 1
    settings = tomo.pauli_settings(n)
    draw, model, _ = _sampler(truth, settings)
    readout = model.get("readout") or (model["noise"].readout() if model.get("noise") else None)
    exact = _true_figures(truth)
    h = truth.hamiltonian
    e0 = float(np.linalg.eigvalsh(h)[0])

    def battery(rho: np.ndarray) -> np.ndarray:
        return rho if len(truth.battery) == n else partial_trace(rho, [2] * n, list(truth.battery))

    def figures(data: Any) -> tuple[float, float, float, float]:
        lin = battery(tomo.fit_linear(data, readout=readout))
        proj = battery(tomo.fit_projected(data, readout=readout))
        return (
            float(np.real(np.trace(lin @ h))) - e0,
            float(np.real(np.trace(proj @ h))) - e0,
            ergotropy(lin, h),
            ergotropy(proj, h),
        )

    rows = []
    boot_bias = []
    rng = np.random.default_rng(base_seed)
    for k in range(reps):
        data = draw(case.shots, int(rng.integers(2**32)))
        rows.append(figures(data))
        counts = np.asarray(data.array)
        shots = counts.sum(axis=1)
        w_star = [
            figures(tomo.TomographyData.from_array(settings, rng.multinomial(shots, counts / shots[:, None])))[2]
            for _ in range(boot if k < max(reps // 2, 1) else 0)
        ]
        if w_star:
            boot_bias.append(np.mean(w_star) - rows[-1][2])
    a = np.array(rows)
    sd_e, sd_w = a[:, 0].std(ddof=1), a[:, 2].std(ddof=1)
    real_bias = a[:, 2].mean() - exact["ergotropy"]
    return [
        f"| {case.name} | {n} | {case.shots} | {reps} | {(a[:, 1].mean() - exact['energy']) / sd_e:+.2f} | "
        f"{(a[:, 0].mean() - exact['energy']) / sd_e:+.2f} | {real_bias:+.4f} | "
        f"{a[:, 3].mean() - exact['ergotropy']:+.4f} | "
        f"{sd_w:.4f} | {np.mean(boot_bias):+.4f} | {np.mean(boot_bias) / real_bias:.2f} |"
    ]


DIAGNOSE_HEADER = [
    "| case | qubits | shots/setting | R | projected energy: mean shift / sd | linear energy: mean shift / sd | "
    "W bias, linear plug-in | W bias, projected plug-in | sd of W (linear) | bootstrap's W bias | ratio |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]


def zlib_crc(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode())


def band(reps: int, p: float) -> tuple[float, float]:
    """Binomial 95 % band of an observed rate for nominal rate p over ``reps`` data sets (normal approximation)."""
    s = 1.959964 * math.sqrt(p * (1 - p) / reps)
    return max(p - s, 0.0), min(p + s, 1.0)


def table(results: list[tuple[Case, dict[str, Tally], str, float]]) -> str:
    lines = [
        "| case | shots/setting | R | figure | true | coverage | 95 % band | miss low | miss high | mean width "
        "| point inside |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, tallies, _, _ in results:
        for name in FIGURES:
            if name not in tallies:
                continue
            t = tallies[name]
            lo, hi = band(t.reps, 0.95)
            lines.append(
                f"| {case.name} | {case.shots} | {t.reps} | {name} | {t.truth:.4f} | {t.covered / t.reps:.3f} | "
                f"{lo:.3f}-{hi:.3f} | {t.low / t.reps:.3f} | {t.high / t.reps:.3f} | {t.width / t.reps:.4f} | "
                f"{t.inside / t.reps:.3f} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer data sets (smoke test)")
    parser.add_argument("--cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--skip-slow", action="store_true", help="skip the 5- and 6-qubit cases")
    parser.add_argument("--reps", type=int, help="data sets per case (overrides the defaults)")
    parser.add_argument("--reps-small", type=int, default=1000, help="data sets per case up to 4 qubits")
    parser.add_argument("--reps-big", type=int, default=200, help="data sets per 5- and 6-qubit case")
    parser.add_argument("--seed", type=int, default=2026, help="base seed of the study")
    parser.add_argument("--out", help="write the markdown table to this file")
    parser.add_argument(
        "--diagnose", action="store_true", help="measure the causes of the old construction's failures instead"
    )
    args = parser.parse_args(argv)

    import qiskit
    import qiskit_aer

    import qbhw
    from qbhw._threads import limit_threads, thread_report

    r_small, r_big = (100, 40) if args.quick else (args.reps_small, args.reps_big)
    chosen = [c for c in cases(r_small, r_big) if not args.cases or c.name in args.cases]
    chosen = [c for c in chosen if not (args.skip_slow and c.slow)]
    if args.reps:
        chosen = [Case(**{**c.__dict__, "reps": args.reps}) for c in chosen]
    header = (
        f"qbhw {getattr(qbhw, '__version__', '?')} from {Path(qbhw.__file__).parent}, numpy {np.__version__}, "
        f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, bootstrap {BOOTSTRAP}, seed {args.seed}"
    )
    print(header, file=sys.stderr)
    results = []
    with limit_threads():
        print(f"threads: {thread_report()}", file=sys.stderr)
        states = explicit_states()
        if args.diagnose:
            lines = list(DIAGNOSE_HEADER)
            for case in chosen:
                lines += diagnose(case, states, args.seed, args.reps or 40, 100)
                print(lines[-1], file=sys.stderr, flush=True)
            text = "\n".join(lines) + "\n"
            print(text)
            if args.out:
                Path(args.out).write_text(text)
            return
        for case in chosen:
            tallies, label, per = run_case(case, states, args.seed)
            results.append((case, tallies, label, per))
            summary = ", ".join(f"{k} {t.covered / t.reps:.3f} ({t.low}/{t.high})" for k, t in tallies.items())
            print(f"{case.name}: {per:.3f} s per data set; {label}; {summary}", file=sys.stderr, flush=True)
            if args.out:  # written after every case, so that an interrupted study keeps what it measured
                Path(args.out).write_text(_report(header, results))
    print(_report(header, results))


def _report(header: str, results: list[tuple[Case, dict[str, Tally], str, float]]) -> str:
    return (
        f"<!-- {header}; command: python benchmarks/coverage.py {' '.join(sys.argv[1:])} -->\n"
        + "Sampler: "
        + ", ".join(sorted({r[2] for r in results}))
        + ". Nominal: coverage 0.95, each end 0.025.\n\n"
        + table(results)
        + "\n"
    )


if __name__ == "__main__":
    main()
