"""Collective dissipation through a common resonator at pulse level: qbhw's exact engine against QuTiP.

Case: N transmons (L levels) + one resonator (Fock cutoff D), the synthetic collective device (g/2pi = 2 MHz,
kappa/2pi = 20 MHz, alpha/2pi = -250 MHz, p_e = 0.01) at n_th = 0.582 (T = 1) with T1 = 1 us, T2 = 1.5 us, so
that every channel matters and the steady state is unique (imperfections all). The same Liouvillian on both sides:
QuTiP's is built here from QuTiP primitives (tensor, destroy), as a QuTiP user would; the two agree to the
printed difference.

1. steady state: qbhw's whole ``run_collective`` call (reduction by excitation-number covariance and permutation
   symmetry, sparse LU, partial trace, projection, figures and the ideal model) against ``qutip.steadystate`` alone
   (default: direct sparse solve) and with ``use_rcm=True`` (reverse Cuthill-McKee ordering); the faster QuTiP
   variant is the anchor;
2. dynamics from |g...g> and a thermal resonator to t = 0.1, 0.25, 0.5, 1 us: qbhw's ``evolve_collective`` (exact:
   eigendecomposition of the reduced generator) against ``qutip.mesolve`` (rtol 1e-8, atol 1e-10) on the full
   Liouvillian.

Times are wall seconds, min / median of >= 3 runs (ratios: of the minima / of the medians), qbhw and QuTiP
alternating in one process with one BLAS thread.
Run: .venv/bin/python benchmarks/bench_pulse_collective.py [--quick]
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import print_table

from qbhw._threads import limit_threads, thread_report
from qbhw.pulse import collective as pc

QUICK = "--quick" in sys.argv
REPEAT = 3
TIMES_US = [0.1, 0.25, 0.5, 1.0]


def device() -> pc.CollectiveDevice:
    return pc.collective_device(pc.synthetic_collective_device(), temperature=1.0, t1_us=1.0, t2_us=1.5)


def qutip_model(n: int, levels: int, cutoff: int):
    """H and collapse operators of the device (rotating frame at omega_r, RWA), from QuTiP primitives."""
    import qutip

    dev = device()
    g = 2 * math.pi * dev.coupling_mhz / 1e3
    kappa = 2 * math.pi * dev.resonator.kappa_mhz / 1e3
    alpha = 2 * math.pi * dev.transmon.anharmonicity_ghz if levels > 2 else 0.0
    n_th = dev.resonator.thermal_photons
    t1, t2, p = dev.transmon.t1_us * 1e3, dev.transmon.t2_us * 1e3, dev.transmon.excited_population
    eyes = [qutip.qeye(levels)] * n + [qutip.qeye(cutoff)]

    def on(op, site):
        f = list(eyes)
        f[site] = op
        return qutip.tensor(f)

    a = on(qutip.destroy(cutoff), n)
    h = 0 * a.dag() * a
    c_ops = [math.sqrt(kappa * (n_th + 1)) * a, math.sqrt(kappa * n_th) * a.dag()]
    for i in range(n):
        b = on(qutip.destroy(levels), i)
        h += 0.5 * alpha * b.dag() * b.dag() * b * b + g * (a.dag() * b + a * b.dag())
        c_ops += [math.sqrt((1 - p) / t1) * b, math.sqrt(p / t1) * b.dag()]
        c_ops.append(math.sqrt(2 * (1 / t2 - 0.5 / t1)) * b.dag() * b)
    rho0 = qutip.tensor(qutip.tensor([qutip.fock_dm(levels, 0)] * n), qutip.thermal_dm(cutoff, n_th))
    return h, c_ops, rho0


def timed(fn, repeat: int = REPEAT):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def fmt(t_min: float, t_med: float) -> str:
    def one(t: float) -> str:
        return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"

    return f"{one(t_min)} / {one(t_med)}"


def steady_case(n: int, levels: int, cutoff: int) -> list:
    import qutip

    kw = dict(levels=levels, cutoff=cutoff, cutoff_tolerance=1.0)
    h, c_ops, _ = qutip_model(n, levels, cutoff)
    runs = {"qbhw": [], "qutip": [], "qutip_rcm": []}
    out = {}
    for _ in range(REPEAT):  # alternating, so that both see the same load
        for name, fn in (
            ("qbhw", lambda: pc.run_collective(n, device(), **kw)),
            ("qutip", lambda: qutip.steadystate(h, c_ops)),
            ("qutip_rcm", lambda: qutip.steadystate(h, c_ops, use_rcm=True)),
        ):
            t0 = time.perf_counter()
            out[name] = fn()
            runs[name].append(time.perf_counter() - t0)
    ref = out["qutip"].ptrace(list(range(n))).full()
    diff = float(np.max(np.abs(out["qbhw"].transmon_state - ref)))
    q = {k: (min(v), statistics.median(v)) for k, v in runs.items()}
    anchor = min(("qutip", "qutip_rcm"), key=lambda k: q[k][1])
    return [
        f"{n} x {levels} + {cutoff}",
        (levels**n) * cutoff,
        fmt(*q["qbhw"]),
        fmt(*q["qutip"]),
        fmt(*q["qutip_rcm"]),
        f"{q[anchor][0] / q['qbhw'][0]:.3g} / {q[anchor][1] / q['qbhw'][1]:.3g}",
        f"{diff:.1e}",
    ]


def dynamics_case(n: int, levels: int, cutoff: int) -> list:
    import qutip

    kw = dict(levels=levels, cutoff=cutoff, cutoff_tolerance=1.0)
    h, c_ops, rho0 = qutip_model(n, levels, cutoff)
    tlist = [0.0] + [t * 1e3 for t in TIMES_US]
    opts = {"rtol": 1e-8, "atol": 1e-10, "nsteps": 10**7, "store_states": True}
    runs = {"qbhw": [], "qutip": []}
    out = {}
    for _ in range(REPEAT):
        for name, fn in (
            ("qbhw", lambda: pc.evolve_collective(n, TIMES_US, device(), **kw)),
            ("qutip", lambda: qutip.mesolve(h, rho0, tlist, c_ops=c_ops, options=opts)),
        ):
            t0 = time.perf_counter()
            out[name] = fn()
            runs[name].append(time.perf_counter() - t0)
    final = pc.run_collective(n, device(), time_us=TIMES_US[-1], **kw).transmon_state
    ref = out["qutip"].states[-1].ptrace(list(range(n))).full()
    diff = float(np.max(np.abs(final - ref)))
    q = {k: (min(v), statistics.median(v)) for k, v in runs.items()}
    return [
        f"{n} x {levels} + {cutoff}",
        (levels**n) * cutoff,
        fmt(*q["qbhw"]),
        fmt(*q["qutip"]),
        f"{q['qutip'][0] / q['qbhw'][0]:.3g} / {q['qutip'][1] / q['qbhw'][1]:.3g}",
        f"{diff:.1e}",
    ]


def qbhw_alone(n: int, levels: int) -> list:
    """qbhw at the cutoff its run picks from the thermal tail (T = 1: D = 17), where QuTiP's full Liouvillian is
    out of reach: (L^N D)^2 rows."""
    d = pc.auto_cutoff(device().resonator.thermal_photons)
    t_min, t_med, r = timed(lambda: pc.run_collective(n, device(), levels=levels))
    return [f"{n} x {levels} + {d}", (levels**n) * d, ((levels**n) * d) ** 2, fmt(t_min, t_med), r.settings["method"]]


def main() -> None:
    import qiskit
    import qutip
    import scipy

    with limit_threads():
        versions = f"qutip {qutip.__version__}, scipy {scipy.__version__}, numpy {np.__version__}"
        print(f"{versions}, qiskit {qiskit.__version__}")
        print(f"threads: {thread_report()}\n")
        steady = [(3, 2, 8), (3, 3, 6)] if QUICK else [(3, 2, 8), (3, 3, 6), (4, 2, 8), (4, 2, 12)]
        rows = [steady_case(*c) for c in steady]
        print_table(
            "steady state (N x L + D; qbhw run_collective vs qutip.steadystate), min / median",
            ["case", "states", "qbhw", "qutip direct", "qutip rcm", "qutip / qbhw (min / median)", "max |d rho_T|"],
            rows,
        )
        dyn = [(3, 2, 8)] if QUICK else [(3, 2, 8), (3, 3, 6), (4, 2, 8)]
        rows = [dynamics_case(*c) for c in dyn]
        print_table(
            f"dynamics to {TIMES_US} us (qbhw evolve_collective vs qutip.mesolve rtol 1e-8), min / median",
            ["case", "states", "qbhw", "qutip mesolve", "qutip / qbhw (min / median)", "max |d rho_T| at 1 us"],
            rows,
        )
        alone = [(3, 2), (4, 2)] if QUICK else [(3, 2), (3, 3), (4, 2), (4, 3)]
        rows = [qbhw_alone(*c) for c in alone]
        print_table(
            "qbhw alone at its own cutoff (the full Liouvillian has states^2 rows), min / median",
            ["case", "states", "Liouvillian rows", "qbhw", "method"],
            rows,
        )


if __name__ == "__main__":
    main()
