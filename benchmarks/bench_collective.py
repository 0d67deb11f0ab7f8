"""Collective-dissipation battery: qbhw's steady state and evolution against the populations-only PIQS solve, QuTiP
and today's code (docs/physics.md section 3).

Case: N spins, collective bath T = 2, gamma = 0.5, local decay gamma_local = 0.5 at T_L = 0, dephasing 0.05
(unique steady state). Columns:

* qbhw: ``collective.steady_state(params)``, the whole call including every figure of merit;
* PIQS populations: the anchor. In PIQS's Dicke-basis Liouvillian the populations rho_(jm, jm) are coupled to no
  coherence (these channels are phase covariant and permutation invariant, so the diagonal of the Dicke basis is
  an invariant subspace; the coupling entries are exactly zero), so a PIQS user keeps only those M =
  (N/2 + 1)^2 rows and columns, puts the trace in the first row and calls scipy's spsolve. The matrix is built
  beforehand (not timed); only the solve is timed, figures not included;
* before: a copy of qbhw's steady_state as of main at a0678c7 (the rate matrix rebuilt per call, a dense trace
  row, SuperLU, figures in a Python loop over exact integers).

Then the evolution from |g...g> to gamma t = 5 against qutip.mesolve of the PIQS Liouvillian (rtol 1e-8).

Every case runs ROUNDS rounds; inside a round the variants alternate, each timed over enough repetitions to last
~20 ms. Printed: min and median seconds per call, spread (max/min over rounds) and the ratio (median of the per-round
ratios). BLAS/OpenMP threads are limited to one (qbhw._threads). Run: .venv/bin/python benchmarks/bench_collective.py
(about 2 minutes; --quick for a smoke run).
"""

from __future__ import annotations

import math
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spla

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qutip
from _timing import print_table
from qutip import piqs

import qbhw
from qbhw._threads import limit_threads, thread_report
from qbhw.models import collective as co
from qbhw.physics import passive_energy_from_spectra

ROUNDS = 5
T_EVOLVE = 5.0


def case(n: int) -> co.CollectiveParams:
    return co.CollectiveParams(n, 2.0, gamma=0.5, gamma_local=0.5, local_temperature=0.0, dephasing=0.05)


# ----------------------------------------------------------------------------------------------- timing


def per_call(fn: Callable[[], Any], target: float = 0.02) -> float:
    """Seconds per call, averaged over enough calls to last ~``target`` seconds."""
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    reps = max(1, int(target / max(once, 1e-7)))
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


@dataclass
class Rounds:
    """Per-round seconds per call of each variant, timed alternately."""

    times: dict[str, list[float]]

    def stats(self, name: str) -> tuple[float, float, float]:
        t = np.array(self.times[name])
        return float(t.min()), float(np.median(t)), float(t.max() / t.min())

    def ratio(self, slow: str, fast: str) -> float:
        return float(np.median(np.array(self.times[slow]) / np.array(self.times[fast])))


def interleaved(variants: dict[str, Callable[[], Any]], rounds: int = ROUNDS, target: float = 0.02) -> Rounds:
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            times[name].append(per_call(fn, target))
    return Rounds(times)


# ------------------------------------------------------------------------------ the anchor: PIQS populations


def piqs_liouvillian(params: co.CollectiveParams) -> qutip.Qobj:
    """PIQS Dicke-basis Liouvillian of the same model. PIQS's dephasing term is rate * D[sz/2] = (rate/4) D[sz],
    hence the factor 4; emission/pumping are rate * D[s-_i], D[s+_i]."""
    n = params.n
    nb, nl = params.n_thermal, params.local_n_thermal
    system = piqs.Dicke(
        n,
        hamiltonian=piqs.jspin(n, "z"),
        emission=params.gamma_local * (nl + 1),
        pumping=params.gamma_local * nl,
        dephasing=4 * params.dephasing,
        collective_emission=params.gamma * (nb + 1),
        collective_pumping=params.gamma * nb,
    )
    return system.liouvillian()


def dicke_labels(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(j, m) of every PIQS Dicke-basis index, read off the diagonals of J^2 and J_z."""
    jx, jy, jz = piqs.jspin(n)
    m = np.real(np.diag(jz.full()))
    j2 = np.real(np.diag((jx * jx + jy * jy + jz * jz).full()))
    return np.round(np.sqrt(1 + 4 * j2) - 1) / 2, m


def piqs_population_system(params: co.CollectiveParams) -> tuple[sp.csc_matrix, np.ndarray, float]:
    """(A with the trace in row 0, b, the largest |entry| coupling populations to coherences) of the populations-
    only PIQS problem."""
    lv = piqs_liouvillian(params).data.as_scipy().tocsc()
    nds = piqs.num_dicke_states(params.n)
    diag = np.arange(nds) * (nds + 1)  # column-stacked index of rho_(i, i)
    off = np.setdiff1d(np.arange(nds * nds), diag)
    coupling = float(abs(lv[diag][:, off]).max()) if off.size else 0.0
    a = lv[diag][:, diag].real.tolil()
    a[0, :] = 1.0
    b = np.zeros(nds)
    b[0] = 1.0
    return a.tocsc(), b, coupling


def piqs_to_grid(params: co.CollectiveParams, pops: np.ndarray) -> np.ndarray:
    n = params.n
    j, m = dicke_labels(n)
    js = co.steady_state(params).j_values
    out = np.zeros((js.size, n + 1))
    out[np.searchsorted(js, j), np.rint(m + n / 2).astype(int)] = pops
    return out


# ------------------------------------------------------------------------- before: qbhw at main a0678c7


def _b_all_j(n: int) -> np.ndarray:
    return np.arange(n % 2, n + 1, 2) / 2.0


def _b_multiplicity(n: int, j: float) -> int:
    r = round(n / 2 - j)
    return math.comb(n, r) - (math.comb(n, r - 1) if r >= 1 else 0)


def _b_layout(n: int, js: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    sizes = np.rint(2 * js + 1).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    sector = np.repeat(np.arange(len(js)), sizes)
    m = np.concatenate([np.arange(-jj, jj + 0.5, 1.0) for jj in js])
    return js[sector], m, sector, offsets


def _b_index(js, offsets, j, m):
    pos = np.searchsorted(js, j)
    pos_c = np.clip(pos, 0, len(js) - 1)
    ok = (pos < len(js)) & (js[pos_c] == j) & (np.abs(m) <= j + 1e-9)
    return np.where(ok, offsets[pos_c] + np.rint(m + j).astype(np.int64), -1)


def _b_div(num, den):
    return np.divide(num, den, out=np.zeros_like(num, dtype=float), where=den != 0)


def _b_generator(n, js, rates):
    j, m, _, offsets = _b_layout(n, js)
    size = j.size
    src = np.arange(size)
    rows, cols, vals = [], [], []

    def add(rate, tj, tm):
        rate = np.asarray(rate, dtype=float)
        keep = rate > 0
        if np.any(keep):
            rows.append(_b_index(js, offsets, tj[keep], tm[keep]))
            cols.append(src[keep])
            vals.append(rate[keep])

    rm = 2 * j * (n / 2 + j + 1) / (2 * j + 1)
    rp = (2 * j + 2) * (n / 2 - j) / (2 * j + 1)

    def emission(mm):
        same = _b_div(rm * (j + mm) * (j - mm + 1), (2 * j) ** 2) + rp * (j + mm) * (j - mm + 1) / (2 * j + 2) ** 2
        return (
            same,
            _b_div(rm * (j + mm) * (j + mm - 1), (2 * j) ** 2),
            rp * (j - mm + 1) * (j - mm + 2) / (2 * j + 2) ** 2,
        )

    add(rates["down"] * (j + m) * (j - m + 1), j, m - 1)
    add(rates["up"] * (j - m) * (j + m + 1), j, m + 1)
    s, d, u = emission(m)
    add(rates["local_down"] * s, j, m - 1)
    add(rates["local_down"] * d, j - 1, m - 1)
    add(rates["local_down"] * u, j + 1, m - 1)
    s, d, u = emission(-m)
    add(rates["local_up"] * s, j, m + 1)
    add(rates["local_up"] * d, j - 1, m + 1)
    add(rates["local_up"] * u, j + 1, m + 1)
    add(rates["dephasing"] * _b_div(rm * (j**2 - m**2), j**2), j - 1, m)
    add(rates["dephasing"] * rp * ((j + 1) ** 2 - m**2) / (j + 1) ** 2, j + 1, m)
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    out_rate = np.bincount(c, weights=v, minlength=size)
    r, c, v = np.concatenate([r, src]), np.concatenate([c, src]), np.concatenate([v, -out_rate])
    return sp.csr_matrix((v, (r, c)), shape=(size, size)), j, m


def before_steady_state(params: co.CollectiveParams) -> tuple[np.ndarray, float, float, float, float]:
    """Today's (a0678c7) unique-steady-state path: (populations [a, k], energy, ergotropy, capacity, purity)."""
    n = params.n
    nb, nl = params.n_thermal, params.local_n_thermal
    rates = {
        "down": params.gamma * (nb + 1.0),
        "up": params.gamma * nb,
        "local_down": params.gamma_local * (nl + 1.0),
        "local_up": params.gamma_local * nl,
        "dephasing": params.dephasing,
    }
    js = _b_all_j(n)
    a, j, m = _b_generator(n, js, rates)
    a = sp.vstack([sp.csr_matrix(np.ones((1, j.size))), a[1:]], format="csc")
    b = np.zeros(j.size)
    b[0] = 1.0
    flat = spla.spsolve(a, b)
    p = np.zeros((js.size, n + 1))
    p[np.searchsorted(js, j), np.rint(m + n / 2).astype(np.int64)] = flat
    p = np.where(p < 0, 0.0, p)
    p = p / p.sum()
    # figures: a Python loop over sectors with exact integer multiplicities
    ks = np.arange(n + 1, dtype=float)
    binom = [1]
    for k in range(n):
        binom.append(binom[-1] * (n - k) // (k + 1))
    values: list[float] = []
    counts: list[int] = []
    carried, purity = 0, 0.0
    for a_idx, jj in enumerate(js):
        d = _b_multiplicity(n, float(jj))
        lo = round(n / 2 - jj)
        block = p[a_idx, lo : n - lo + 1]
        carried += d * block.size
        vals = block / float(d)
        purity += float(np.sum(block * vals))
        values.extend(vals.tolist())
        counts.extend([d] * block.size)
    if 2**n - carried:
        values.append(0.0)
        counts.append(2**n - carried)
    energy = float(np.sum(p * ks[None, :]))
    passive = passive_energy_from_spectra(values, counts, ks, binom)
    active = passive_energy_from_spectra(values, counts, ks, binom, descending=False)
    return p, energy, energy - passive, active - passive, purity


# ---------------------------------------------------------------------------------------------------- runs


def fmt_stats(r: Rounds, name: str) -> list[Any]:
    lo, med, spread = r.stats(name)
    return [lo, med, f"{spread:.2f}"]


def bench_small(ns: tuple[int, ...]) -> None:
    rows = []
    for n in ns:
        params = case(n)
        a, b, coupling = piqs_population_system(params)
        s = co.steady_state(params)
        before = before_steady_state(params)
        piqs_pops = piqs_to_grid(params, spla.spsolve(a, b))
        r = interleaved(
            {
                "qbhw": lambda: co.steady_state(params),
                "piqs": lambda: spla.spsolve(a, b),
                "before": lambda: before_steady_state(params),
            }
        )
        rows.append(
            [
                n,
                *fmt_stats(r, "qbhw"),
                *fmt_stats(r, "piqs"),
                r.ratio("piqs", "qbhw"),
                *fmt_stats(r, "before"),
                r.ratio("before", "qbhw"),
                float(np.abs(s.populations - before[0]).max()),
                float(np.abs(s.populations - piqs_pops).max()),
                coupling,
            ]
        )
    print_table(
        "steady state, N = 10 / 20 / 30: qbhw (whole call with figures) vs populations-only PIQS spsolve (prebuilt, "
        "no figures) vs before (a0678c7); seconds per call",
        [
            "N",
            "qbhw min",
            "qbhw med",
            "spread",
            "PIQS min",
            "PIQS med",
            "spread",
            "PIQS/qbhw",
            "before min",
            "before med",
            "spread",
            "before/qbhw",
            "|dp| before",
            "|dp| PIQS",
            "PIQS pop-coh coupling",
        ],
        rows,
    )


def bench_large(ns: tuple[int, ...]) -> None:
    rows = []
    for n in ns:
        params = case(n)
        s = co.steady_state(params)
        before = before_steady_state(params)
        r = interleaved(
            {"qbhw": lambda: co.steady_state(params), "before": lambda: before_steady_state(params)},
            rounds=3 if n >= 400 else ROUNDS,
            target=0.05,
        )
        figs = (s.energy, s.ergotropy, s.capacity, s.purity)
        rel = max(abs(x - y) / max(1.0, abs(y)) for x, y in zip(figs, before[1:], strict=True))
        rows.append(
            [
                n,
                *fmt_stats(r, "qbhw"),
                *fmt_stats(r, "before"),
                r.ratio("before", "qbhw"),
                float(np.abs(s.populations - before[0]).max()),
                rel,
            ]
        )
    print_table(
        "steady state at large N: qbhw vs before (a0678c7); seconds per call (the first qbhw call per N also builds "
        "the cached structure and is not timed)",
        [
            "N",
            "qbhw min",
            "qbhw med",
            "spread",
            "before min",
            "before med",
            "spread",
            "before/qbhw",
            "|dp|",
            "max rel. d(figures)",
        ],
        rows,
    )


def bench_evolution(ns: tuple[int, ...]) -> None:
    rows = []
    times = np.array([0.0, T_EVOLVE])
    opts = {"atol": 1e-10, "rtol": 1e-8, "nsteps": 10**7}
    for n in ns:
        params = case(n)
        lv = piqs_liouvillian(params)
        rho0 = piqs.ground(n)
        traj = co.evolve(params, times)
        res = qutip.mesolve(lv, rho0, times, options=opts)
        j, m = dicke_labels(n)
        pops = np.real(np.diag(res.states[-1].full()))
        grid = np.zeros_like(traj.populations[-1])
        grid[np.searchsorted(traj.j_values, j), np.rint(m + n / 2).astype(int)] = pops
        r = interleaved(
            {"qbhw": lambda: co.evolve(params, times), "qutip": lambda: qutip.mesolve(lv, rho0, times, options=opts)},
            rounds=3,
            target=0.0,
        )
        rows.append(
            [
                n,
                *fmt_stats(r, "qbhw"),
                *fmt_stats(r, "qutip"),
                r.ratio("qutip", "qbhw"),
                float(np.abs(grid - traj.populations[-1]).max()),
            ]
        )
    print_table(
        f"evolution from |g...g> to gamma t = {T_EVOLVE:g}: qbhw (exact propagation + figures) vs qutip.mesolve of the "
        "PIQS Liouvillian (rtol 1e-8; populations only compared)",
        ["N", "qbhw min", "qbhw med", "spread", "mesolve min", "mesolve med", "spread", "mesolve/qbhw", "|dp|"],
        rows,
    )


def main(quick: bool = False) -> None:
    with limit_threads():
        print(
            f"qbhw {qbhw.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, qutip {qutip.__version__}, "
            f"python {platform.python_version()}"
        )
        for info in thread_report():
            print(
                f"  thread pool: {info['internal_api']} {info['version']} ({info['prefix']}): "
                f"{info['num_threads']} thread(s)"
            )
        print(f"rounds: {ROUNDS} (3 for N >= 400 and for the evolution)\n")
        bench_small((10,) if quick else (10, 20, 30))
        bench_large((100,) if quick else (100, 200, 400))
        bench_evolution((10,) if quick else (10, 20, 30))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
