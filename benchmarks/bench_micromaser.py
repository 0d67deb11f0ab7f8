"""Micromaser battery: qbhw against stepping the collision map with QuTiP, and qbhw alone at 10^6 collisions.

Anchor: the textbook QuTiP loop rho -> ptrace(U (rho x rho_Q) U^dag, cavity) with U = expm(-i g tau (a s+ + a^dag s-))
built from qutip.destroy, one collision per iteration. Case: coherent atoms C = 1, P = 1/2, a generic (non-trapping)
g tau = 1, cavity from the vacuum. Run: .venv/bin/python benchmarks/bench_micromaser.py [--quick] [--threads]

BLAS runs single-threaded unless --threads is given: on a shared 2-core machine multithreaded OpenBLAS makes
QuTiP's small (80 x 80) products 10x slower and erratic (0.35 to 4 ms per collision), which would inflate the ratio.
"""

from __future__ import annotations

import math
import os
import sys

if "--threads" not in sys.argv[1:]:  # must precede the numpy import
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
from pathlib import Path

import numpy as np
import qutip as qt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of, print_table

from qbhw.models import micromaser as mm


def qutip_energy(g_tau: float, p_excited: float, coherence: float, cutoff: int, collisions: int) -> float:
    b = qt.destroy(cutoff)
    s_plus = qt.sigmam()  # |e><g| with |g> = basis 0 (qbhw's convention)
    u = (-1j * g_tau * (qt.tensor(b, s_plus) + qt.tensor(b.dag(), s_plus.dag()))).expm()
    ud = u.dag()
    x = coherence * math.sqrt(p_excited * (1 - p_excited))
    rho_q = qt.Qobj(np.array([[1 - p_excited, x], [x, p_excited]]))
    rho = qt.fock_dm(cutoff, 0)
    for _ in range(collisions):
        rho = (u * qt.tensor(rho, rho_q) * ud).ptrace(0)
    return float(qt.expect(qt.num(cutoff), rho))


def main(quick: bool = False) -> None:
    g_tau, p_excited, coherence, d = 1.0, 0.5, 1.0, 40
    rows = []
    for k in (10**3,) if quick else (10**4, 10**5):
        params = mm.MicromaserParams(g_tau=g_tau, p_excited=p_excited, coherence=coherence, collisions=k, cutoff=d)
        t_qbhw, r = best_of(lambda: mm.evolve(params), repeat=3)
        t_qutip, e_qutip = best_of(lambda: qutip_energy(g_tau, p_excited, coherence, d, k), repeat=1)
        rows.append(
            [
                f"{k:.0e} collisions, D = {d}",
                t_qbhw,
                t_qutip,
                t_qutip / t_qbhw,
                r.energy,
                e_qutip,
                abs(r.energy - e_qutip),
            ]
        )
    print_table(
        "micromaser: qbhw evolve vs QuTiP stepping (C = 1, P = 0.5, g tau = 1)",
        ["case", "qbhw s", "qutip s", "ratio", "E qbhw", "E qutip", "|dE|"],
        rows,
    )

    big = mm.MicromaserParams(g_tau=g_tau, p_excited=p_excited, coherence=coherence, collisions=10**6, cutoff=60)
    t_big, rb = best_of(lambda: mm.evolve(big), repeat=1)
    traj_params = mm.MicromaserParams(
        g_tau=g_tau, p_excited=p_excited, coherence=coherence, collisions=10**6, cutoff=60
    )
    t_traj, tr = best_of(lambda: mm.trajectory(traj_params), repeat=1)
    print_table(
        "micromaser: qbhw alone at 10^6 collisions, D = 60 (C = 1, P = 0.5, g tau = 1)",
        ["run", "seconds", "energy", "ergotropy", "purity", "max top-level population"],
        [
            ["evolve (final state)", t_big, rb.energy, rb.ergotropy, rb.purity, rb.top_level_population],
            [
                f"trajectory ({tr.collisions.size} log-spaced points)",
                t_traj,
                float(tr.energy[-1]),
                float(tr.ergotropy[-1]),
                float(tr.purity[-1]),
                tr.max_top_level_population,
            ],
        ],
    )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
