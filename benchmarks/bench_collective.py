"""Collective-dissipation battery: qbhw's j-block rate equation against QuTiP (docs/physics.md section 3).

1. Collective + local channels, N = 10, 20, 30: qbhw vs qutip.piqs (Dicke-basis Liouvillian, qutip.steadystate /
   qutip.mesolve), steady state and evolution from |g...g> to gamma t = 5. The table shows qbhw's ergotropy, the
   ergotropy of PIQS's state scored with the multiplicities d_j, and the naive ergotropy of the PIQS Dicke-basis
   matrix treated as an ordinary density matrix (each (j, m) counted once): the naive number is WRONG.
   The PIQS steady state is a sparse LU solve of the PIQS Liouvillian restricted to its j-diagonal blocks
   (qutip.steadystate fails on the full Dicke-basis Liouvillian, see piqs_steady_state).
2. Pure collective N = 8 from |g...g>: qbhw vs the full 2^N Lindbladian in QuTiP (mesolve to gamma t = 5; the
   steady state is not unique, so qutip.steadystate does not apply; qbhw's is the closed form).

Run: .venv/bin/python benchmarks/bench_collective.py   (about 1-3 minutes)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import scipy.sparse.linalg as spla

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qutip
from _timing import best_of, print_table
from qutip import piqs

from qbhw.models import collective as co
from qbhw.physics import ergotropy
from qbhw.physics.operators import SIGMA_MINUS, SIGMA_Z

T_EVOLVE = 5.0
#: qutip.steadystate(method="eigen") on the PIQS Liouvillian: ~3 s at N = 10, did not finish in 4 min at N = 20
EIGEN_MAX_N = 10


def piqs_model(params: co.CollectiveParams):
    """PIQS Dicke-basis Liouvillian of the same Lindbladian. PIQS's dephasing term is rate * D[sz/2] =
    (rate/4) D[sz], hence the factor 4; emission/pumping are rate * D[s-_i], D[s+_i]."""
    n = params.n
    nb, nl = params.n_thermal, params.local_n_thermal
    jz = piqs.jspin(n, "z")
    system = piqs.Dicke(
        n,
        hamiltonian=jz,
        emission=params.gamma_local * (nl + 1),
        pumping=params.gamma_local * nl,
        dephasing=4 * params.dephasing,
        collective_emission=params.gamma * (nb + 1),
        collective_pumping=params.gamma * nb,
    )
    return system.liouvillian(), jz


def dicke_labels(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(j, m) of every PIQS Dicke-basis index, read off the diagonals of J^2 and J_z."""
    jx, jy, jz = piqs.jspin(n)
    m = np.real(np.diag(jz.full()))
    j2 = np.real(np.diag((jx * jx + jy * jy + jz * jz).full()))
    return np.round(np.sqrt(1 + 4 * j2) - 1) / 2, m


def piqs_steady_state(lv: qutip.Qobj, j: np.ndarray) -> qutip.Qobj:
    """Steady state of the PIQS Liouvillian. qutip.steadystate(lv) raises "Matrix is singular" (qutip 5.3,
    direct and power methods): the Dicke-basis Liouvillian also carries the unphysical coherences between
    different j blocks, many of them stationary. PIQS's states live on the j-diagonal blocks, so restrict L
    to them and solve with sparse LU plus the trace row (the fastest fair anchor)."""
    nds = j.size
    a = lv.data.as_scipy().tocsc()
    rows, cols = np.nonzero(j[:, None] == j[None, :])
    keep = np.sort(rows + cols * nds)  # column-stacked vec index of the element (row, col)
    sub = a[keep][:, keep].tolil()
    diag_pos = np.nonzero((keep % nds) == (keep // nds))[0]
    sub[0, :] = 0
    sub[0, diag_pos] = 1.0
    b = np.zeros(keep.size, dtype=complex)
    b[0] = 1.0
    x = spla.spsolve(sub.tocsc(), b)
    full = np.zeros(nds * nds, dtype=complex)
    full[keep] = x
    rho = full.reshape(nds, nds, order="F")
    return qutip.Qobj(0.5 * (rho + rho.conj().T))


def piqs_scores(params: co.CollectiveParams, rho: qutip.Qobj, jz: qutip.Qobj) -> tuple[float, float, float]:
    """(energy, ergotropy with multiplicities, naive ergotropy) of a PIQS Dicke-basis state."""
    n = params.n
    r = rho.full()
    j, m = dicke_labels(n)
    h_naive = np.diag(m + n / 2)
    naive = ergotropy(r, h_naive)
    js = np.unique(np.round(2 * j) / 2)
    pops = np.zeros((js.size, n + 1))
    diag = np.real(np.diag(r))
    for idx in range(diag.size):
        a = int(np.searchsorted(js, round(2 * j[idx]) / 2))
        pops[a, int(round(m[idx] + n / 2))] += max(diag[idx], 0.0)
    pops /= pops.sum()
    f = co.figures_of_merit(co.DickePopulations(n, js, pops))
    return f.energy, f.ergotropy, naive


def bench_local_channels() -> None:
    rows_ss, rows_ev = [], []
    for n in (10, 20, 30):
        params = co.CollectiveParams(n, 2.0, gamma=0.5, gamma_local=0.5, local_temperature=0.0, dephasing=0.05)
        t_q, s = best_of(lambda: co.steady_state(params), repeat=3)
        lv, jz = piqs_model(params)  # building the PIQS Liouvillian is not timed (it is cached by users)
        j_labels, _ = dicke_labels(n)
        t_p, rho = best_of(lambda: piqs_steady_state(lv, j_labels), repeat=2)
        e_p, w_p, naive = piqs_scores(params, rho, jz)
        if n <= EIGEN_MAX_N:  # the qutip.steadystate method that works on this Liouvillian (sparse eigs)
            t_e, rho_e = best_of(lambda: qutip.steadystate(lv, method="eigen"), repeat=1)
            w_e = piqs_scores(params, rho_e, jz)[1]
            eig = [t_e, t_e / t_q, w_e]
        else:
            eig = ["> 4 min", "-", "-"]
        rows_ss.append([n, t_q, t_p, t_p / t_q, *eig, s.energy, e_p, s.ergotropy, w_p, naive])

        times = np.array([0.0, T_EVOLVE])
        t_q, traj = best_of(lambda: co.evolve(params, times), repeat=3)
        rho0 = piqs.ground(n)
        opts = {"atol": 1e-10, "rtol": 1e-8, "nsteps": 10**7}
        t_p, res = best_of(lambda: qutip.mesolve(lv, rho0, times, options=opts), repeat=1)
        e_p, w_p, naive = piqs_scores(params, res.states[-1], jz)
        rows_ev.append([n, t_q, t_p, t_p / t_q, traj.energy[-1], e_p, traj.ergotropy[-1], w_p, naive])
    header = ["N", "qbhw s", "PIQS s", "ratio", "E qbhw", "E PIQS", "W qbhw", "W PIQS(d_j)", "W PIQS naive"]
    header_ss = header[:4] + ["qutip.steadystate eigen s", "ratio", "W eigen(d_j)"] + header[4:]
    print_table(
        "collective + local channels (T = 2, gamma = gamma_local = 0.5, T_L = 0, dephasing = 0.05): "
        "steady state. PIQS s = sparse LU of the PIQS Liouvillian on its j-diagonal blocks (best case); "
        "qutip.steadystate(L_piqs) itself fails ('Matrix is singular') except with method='eigen'",
        header_ss,
        rows_ss,
    )
    print_table(
        f"same, evolution from |g...g> to gamma t = {T_EVOLVE:g} (PIQS: qutip.mesolve, rtol 1e-8)", header, rows_ev
    )
    print("W PIQS naive = ergotropy of the PIQS Dicke-basis matrix as if it were an ordinary density matrix: it")
    print("ignores the multiplicities d_j of the j blocks and is WRONG; W PIQS(d_j) scores the same PIQS state")
    print("with the multiplicities and agrees with qbhw.\n")


def bench_full_n8() -> None:
    n = 8
    params = co.CollectiveParams(n, 2.0)
    dims = [2] * n
    ops = []
    for op in (SIGMA_MINUS, SIGMA_Z):
        ops.append(
            [qutip.tensor([qutip.qeye(2)] * i + [qutip.Qobj(op)] + [qutip.qeye(2)] * (n - i - 1)) for i in range(n)]
        )
    sm, sz = ops
    jm = sum(sm[1:], sm[0])
    h = 0.5 * sum(sz[1:], sz[0])
    nb = params.n_thermal
    c_ops = [math.sqrt(nb + 1) * jm, math.sqrt(nb) * jm.dag()]
    rho0 = qutip.basis([2] * n, [0] * n).proj()  # |g...g> (index 0 = |g> in qbhw's convention)
    times = np.array([0.0, T_EVOLVE])
    opts = {"atol": 1e-10, "rtol": 1e-8, "nsteps": 10**7}
    t_p, res = best_of(lambda: qutip.mesolve(h, rho0, times, c_ops, options=opts), repeat=1)
    hd = h.full() + n / 2 * np.eye(2**n)
    rho = res.states[-1].full()
    w_full = ergotropy(rho, hd)
    e_full = float(np.real(np.trace(rho @ hd)))
    t_q, traj = best_of(lambda: co.evolve(params, times), repeat=5)
    t_s, s = best_of(lambda: co.steady_state(params), repeat=5)
    del dims
    print_table(
        f"pure collective N = {n}, T = 2, from |g...g> to gamma t = {T_EVOLVE:g}: qbhw vs full 2^N Lindbladian "
        "(qutip.mesolve)",
        ["N", "qbhw s", "QuTiP full s", "ratio", "E qbhw", "E full", "W qbhw", "W full", "W_ss closed form"],
        [[n, t_q, t_p, t_p / t_q, traj.energy[-1], e_full, traj.ergotropy[-1], w_full, s.ergotropy]],
    )
    print(
        f"qbhw steady state (closed form, conserved sector weights): {t_s * 1e3:.3g} ms; docs/physics.md 3.2 "
        "W_ss(N=8, T=2) = 0.8382794415. qutip.steadystate is not applicable (the stationary space has "
        f"dimension sum_j d_j^2 = 1430 for N = 8).\n"
    )


if __name__ == "__main__":
    print(f"qutip {qutip.__version__}, numpy {np.__version__}\n")
    bench_local_channels()
    bench_full_n8()
