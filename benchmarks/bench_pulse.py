"""Pulse-level micromaser collision: qbhw's exact engine against QuTiP mesolve and qiskit-dynamics, side by side.

Case: the synthetic transmon + storage pair with every imperfection on (3 transmon levels, 2 ns flux ramps, coupling
on while parked, T1, T2, kappa, thermal baths, 1 % reset error, 1.2 us reset window), g tau = pi/sqrt 8, P = 1/2,
C = 1, a DRAG preparation pulse of 20 ns; Fock cutoff D. The reset window has no control and is the exact channel
in every engine (see qbhw.pulse.micromaser); the engines integrate the preparation and flux pulses.

1. one collision of one state (transmon reset state (x) |0><0|), each engine (ODE engines at rtol 1e-8);
2. the collision's map on the cavity (D(D+1)/2 inputs), each engine;
3. 10^3 collisions: qbhw (one map, applied 10^3 times) with each engine, against stepping the collision state by
   state with QuTiP mesolve (the whole collision, reset window included, integrated per collision, as a QuTiP user
   would). The stepping peer is timed on N_PEER collisions; its cost is linear in the number of collisions, so the
   10^3 figure is N_PEER's time x 1000 / N_PEER (printed as such).

Times are wall seconds, min / median of >= 3 runs (the peer stepping: of 3 runs of N_PEER collisions). Run:
.venv/bin/python benchmarks/bench_pulse.py [--quick]   (and .venv-pulse/bin/python for qiskit-dynamics)
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

from qbhw import pulse
from qbhw._threads import limit_threads, thread_report
from qbhw.models import micromaser as mm
from qbhw.physics import distance


def timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def collision(cutoff: int):
    params = mm.MicromaserParams(
        g_tau=math.pi / math.sqrt(8), p_excited=0.5, coherence=1.0, collisions=1, cutoff=cutoff
    )
    return params, pulse.build_collision(
        params, pulse.synthetic_micromaser_device(), levels=3, cutoff=cutoff, imperfections=pulse.Imperfections.all()
    )


def one_state(col, engine: str) -> np.ndarray:
    """rho_R (x) |0><0| through one collision (reset window exact, pulses with ``engine``)."""
    d = col.cutoff
    vac = np.zeros((d, d), dtype=complex)
    vac[0, 0] = 1.0
    x = np.kron(col.reset_state, vac)
    x = pulse.propagate(col.model, col.idle, x, engine="exact")
    x = pulse.propagate(col.model, col.prep_schedules[0][1], x, engine=engine, rtol=1e-8)
    return pulse.propagate(col.model, col.flux, x, engine=engine, rtol=1e-8)


def stepping_peer(col, collisions: int) -> np.ndarray:
    """QuTiP mesolve per collision, reset window included; the cavity after ``collisions`` collisions.

    The drive phase tracks the pulled resonator as in qbhw (a cavity rotation by the tracked frame before each
    collision), so that both describe the same protocol in the same frame.
    """
    d, lv = col.cutoff, col.levels
    cav = np.zeros((d, d), dtype=complex)
    cav[0, 0] = 1.0
    n = np.arange(d)
    turn = np.exp(1j * col.frame_rotation * np.subtract.outer(n, n))
    for _ in range(collisions):
        x = np.kron(col.reset_state, cav * turn)
        for sched in (col.idle, col.prep_schedules[0][1], col.flux):
            x = pulse.propagate(col.model, sched, x, engine="qutip", rtol=1e-8)
        cav = x.reshape(lv, d, lv, d).trace(axis1=0, axis2=2)
    return cav


def apply_map(channel, collisions: int) -> np.ndarray:
    d = int(round(math.sqrt(channel.matrix.shape[0])))
    v = np.zeros(d * d, dtype=complex)
    v[0] = 1.0
    m = np.ascontiguousarray(channel.matrix)
    for _ in range(collisions):
        v = m @ v
    return v.reshape(d, d)


def main(quick: bool = False) -> None:
    import qiskit
    import qutip
    import scipy

    versions = (
        f"numpy {np.__version__}, scipy {scipy.__version__}, qutip {qutip.__version__}, qiskit {qiskit.__version__}"
    )
    engines = ["exact", "qutip"]
    if pulse.dynamics_available():
        import qiskit_dynamics

        engines.append("dynamics")
        versions += f", qiskit-dynamics {qiskit_dynamics.__version__}"
    print(versions)
    print("threads:", [(r["internal_api"], r["num_threads"]) for r in thread_report()])
    print()
    repeat = 3
    d_state, d_map = (6, 4) if quick else (8, 6)
    n_peer = 3 if quick else 10

    _, col = collision(d_state)
    rows, ref = [], None
    for engine in engines:
        tmin, tmed, out = timed(lambda e=engine: one_state(col, e), repeat)
        ref = out if ref is None else ref
        rows.append([engine, tmin, tmed, tmed / rows[0][2] if rows else 1.0, distance.trace_distance(out, ref)])
    print_table(
        f"one collision of one state, D = {d_state}, L = 3, all imperfections (pulses by the engine, reset exact)",
        ["engine", "min s", "median s", "median / exact", "trace distance to exact"],
        rows,
    )

    _, col = collision(d_map)
    rows, channels = [], {}
    for engine in engines:
        tmin, tmed, ch = timed(lambda e=engine: pulse.collision_channel(col, engine=e, rtol=1e-8), repeat)
        channels[engine] = ch
        err = np.max(np.abs(ch.matrix - channels["exact"].matrix))
        rows.append([engine, tmin, tmed, tmed / rows[0][2] if rows else 1.0, err])
    print_table(
        f"the collision's map on the cavity, D = {d_map} ({d_map * (d_map + 1) // 2} inputs)",
        ["engine", "min s", "median s", "median / exact", "max |M - M_exact|"],
        rows,
    )

    k = 1000
    rows = []
    for engine in engines:
        tmin, tmed, rho = timed(
            lambda e=engine: apply_map(pulse.collision_channel(col, engine=e, rtol=1e-8), k), repeat
        )
        rows.append([f"qbhw, map by {engine}", tmin, tmed, float(np.real(np.trace(rho @ np.diag(np.arange(d_map)))))])
    pmin, pmed, cav = timed(lambda: stepping_peer(col, n_peer), repeat)
    scale = k / n_peer
    rows.append([f"QuTiP mesolve stepping ({n_peer} collisions x {scale:g})", pmin * scale, pmed * scale, float("nan")])
    exact_rho = apply_map(channels["exact"], n_peer)
    print_table(
        f"10^3 collisions, D = {d_map}",
        ["method", "min s", "median s", "energy after 10^3"],
        rows,
    )
    gap = distance.trace_distance(cav, exact_rho)
    print(
        f"peer check: after {n_peer} collisions the stepped QuTiP state is {gap:.1e} (trace distance) from qbhw's map"
    )
    best = rows[0][2]
    print(f"ratio QuTiP stepping / qbhw exact, 10^3 collisions (median): {rows[-1][2] / best:.0f}")


if __name__ == "__main__":
    with limit_threads():
        main(quick="--quick" in sys.argv[1:])
