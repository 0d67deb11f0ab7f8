"""Micromaser battery: qbhw against stepping the collision map with QuTiP, and qbhw alone at 10^6 collisions.

Anchor: the textbook QuTiP loop rho -> ptrace(U (rho x rho_Q) U^dag, cavity) with U = expm(-i g tau (a s+ + a^dag s-))
built from qutip.destroy, one collision per iteration. Cases (cavity from the vacuum):

1. coherent atoms C = 1, P = 1/2 at a generic (non-trapping) g tau = 1, 10^4 collisions at D = 40: qbhw's whole
   ``evolve`` (early stop once the state is certified stationary, plus the second cutoff check at D2 = 50) against
   QuTiP stepping every collision; the table gives the trace norm of the difference of the two final states (the
   norm of qbhw's error bound), qbhw's method, its error bound and its cutoff error;
2. the same at 10^6 collisions and D = 60, qbhw alone, and its distance to applying every one of the 10^6
   collisions with qbhw's own sparse maps (one run);
3. incoherent atoms C = 0, P = 0.3 at exact trapping (N_tr = 9, D = 12): slow mixing, so qbhw squares instead.

Every case runs ROUNDS rounds (QuTiP alternates with qbhw inside a round). Printed: min and median seconds, spread
(max/min over rounds) and the ratio (median of the per-round ratios). BLAS/OpenMP threads are limited to one
(qbhw._threads). Run: .venv/bin/python benchmarks/bench_micromaser.py (about 1-2 minutes; --quick for a smoke run).
"""

from __future__ import annotations

import math
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import qutip as qt
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import print_table

import qbhw
from qbhw._threads import limit_threads, thread_report
from qbhw.models import micromaser as mm

ROUNDS = 3


def qutip_final_state(g_tau: float, p_excited: float, coherence: float, cutoff: int, collisions: int) -> np.ndarray:
    b = qt.destroy(cutoff)
    s_plus = qt.destroy(2).dag()  # |e><g| with |g> = basis 0 (qbhw's convention)
    u = (-1j * g_tau * (qt.tensor(b, s_plus) + qt.tensor(b.dag(), s_plus.dag()))).expm()
    ud = u.dag()
    x = coherence * math.sqrt(p_excited * (1 - p_excited))
    rho_q = qt.Qobj(np.array([[1 - p_excited, x], [x, p_excited]]))
    rho = qt.fock_dm(cutoff, 0)
    for _ in range(collisions):
        rho = (u * qt.tensor(rho, rho_q) * ud).ptrace(0)
    return rho.full()


def every_collision(params: mm.MicromaserParams) -> np.ndarray:
    """rho_K by applying qbhw's sparse collision map K times (no early stop, no squaring)."""
    d = int(params.cutoff)
    prop, v = mm._build_propagator(params, d, mm._initial_density_matrix(None, d))
    v = prop.first @ v
    (m,) = prop.period
    for _ in range(int(params.collisions) - 1):
        v = m @ v
    return prop.matrix(v)


def trace_norm(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b||_1 (the norm of qbhw's error bound)."""
    return float(np.sum(np.abs(np.linalg.eigvalsh(a - b))))


def rounds(variants: dict[str, Callable[[], Any]], count: int = ROUNDS) -> dict[str, np.ndarray]:
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(count):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: np.array(v) for k, v in times.items()}


def stats(t: np.ndarray) -> list[Any]:
    return [float(t.min()), float(np.median(t)), f"{t.max() / t.min():.2f}"]


def main(quick: bool = False) -> None:
    with limit_threads():
        print(
            f"qbhw {qbhw.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, qutip {qt.__version__}, "
            f"python {platform.python_version()}"
        )
        for info in thread_report():
            print(
                f"  thread pool: {info['internal_api']} {info['version']} ({info['prefix']}): "
                f"{info['num_threads']} thread(s)"
            )
        print(f"rounds: {ROUNDS}\n")

        k = 10**3 if quick else 10**4
        p = mm.MicromaserParams(g_tau=1.0, p_excited=0.5, coherence=1.0, collisions=k, cutoff=40)
        r = mm.evolve(p)
        ref = qutip_final_state(1.0, 0.5, 1.0, 40, k)
        t = rounds({"qbhw": lambda: mm.evolve(p), "qutip": lambda: qutip_final_state(1.0, 0.5, 1.0, 40, k)})
        ratio = float(np.median(t["qutip"] / t["qbhw"]))
        print_table(
            f"micromaser, {k:.0e} collisions at D = 40 (C = 1, P = 0.5, g tau = 1): qbhw evolve vs QuTiP stepping",
            [
                "qbhw min",
                "qbhw med",
                "spread",
                "QuTiP min",
                "QuTiP med",
                "spread",
                "QuTiP/qbhw",
                "||drho||_1",
                "|dE|",
                "method",
                "error bound",
                "cutoff error (D2)",
            ],
            [
                [
                    *stats(t["qbhw"]),
                    *stats(t["qutip"]),
                    ratio,
                    trace_norm(r.state, ref),
                    abs(r.energy - float(np.real(np.trace(np.diag(np.arange(40.0)) @ ref)))),
                    r.method,
                    r.error_bound,
                    f"{r.cutoff_error:.1e} ({r.cutoff_reference})",
                ]
            ],
        )

        big = mm.MicromaserParams(
            g_tau=1.0, p_excited=0.5, coherence=1.0, collisions=10**5 if quick else 10**6, cutoff=60
        )
        rb = mm.evolve(big)
        t = rounds({"qbhw": lambda: mm.evolve(big)}, count=5)
        full = every_collision(big)
        slow = mm.MicromaserParams(
            g_tau=math.pi / math.sqrt(10), p_excited=0.3, coherence=0.0, collisions=10**5 if quick else 10**6, cutoff=12
        )
        rs = mm.evolve(slow)
        ts = rounds({"qbhw": lambda: mm.evolve(slow)}, count=5)
        print_table(
            "micromaser, qbhw alone: 10^6 collisions (distance to applying every collision with qbhw's sparse map)",
            [
                "case",
                "min s",
                "median s",
                "spread",
                "method",
                "error bound",
                "||drho||_1 to every collision",
                "energy",
                "cutoff error (D2)",
            ],
            [
                [
                    f"C = 1, g tau = 1, D = 60, K = {big.collisions:.0e}",
                    *stats(t["qbhw"]),
                    rb.method,
                    rb.error_bound,
                    trace_norm(rb.state, full),
                    rb.energy,
                    f"{rb.cutoff_error:.1e} ({rb.cutoff_reference})",
                ],
                [
                    f"C = 0, P = 0.3, trapping, D = 12, K = {slow.collisions:.0e}",
                    *stats(ts["qbhw"]),
                    rs.method,
                    rs.error_bound,
                    "-",
                    rs.energy,
                    f"{rs.cutoff_error:.1e} ({rs.cutoff_reference})",
                ],
            ],
        )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
