"""Private kernels of ``qbhw.models.collective``: Schur-Weyl bookkeeping, the population rate equation, its
steady state and propagation, and the figures of merit of block states.

N spins-1/2, H = omega0 J_z with omega0 = 1. Schur-Weyl: (C^2)^{(x)N} = (+)_j V_j (x) C^{d_j}, j = N/2, N/2 - 1,
..., 0 or 1/2, with multiplicity

    d_j = N! (2j+1) / ((N/2+j+1)! (N/2-j)!) = binom(N, N/2-j) - binom(N, N/2-j-1).

A state that is permutation invariant and diagonal in |j, m> is

    rho = (+)_j sum_m p(j, m) |j, m><j, m| (x) 1_{d_j}/d_j,    sum_{j,m} p(j, m) = 1,

so its 2^N spectrum is {p(j, m)/d_j with multiplicity d_j}. Populations are stored as a 2-D array
``p[a, k]`` for the sector j = j_values[a] and k = m + N/2 excitations (0 <= k <= N, zero outside
N/2 - j <= k <= N/2 + j). Energies above the ground state are k (omega0 = 1), multiplicity binom(N, k).

Every dissipator of the model is permutation invariant and phase covariant, so such states stay such states and
the exact dynamics is the classical rate equation dp/dt = A p built here (column convention: A[target, source]).

Local single-spin rates (derivation). For a permutation-invariant rho, sum_i X_i rho Y_i = N X_N rho Y_N after
symmetrisation, and spin N is coupled to the first N-1 spins (spin a, multiplicity d^{N-1}_a) by the
Clebsch-Gordan coefficients of a (x) 1/2 -> a +- 1/2. With the ratios

    r_-(j) = N d^{N-1}_{j-1/2} / d^N_j = 2j (N/2+j+1) / (2j+1),
    r_+(j) = N d^{N-1}_{j+1/2} / d^N_j = (2j+2)(N/2-j)/(2j+1)

(r_- + r_+ = N), the rate of sum_i D[s-_i] from (j, m) is

    to (j,   m-1):  r_- (j+m)(j-m+1)/(2j)^2 + r_+ (j+m)(j-m+1)/(2j+2)^2
    to (j-1, m-1):  r_- (j+m)(j+m-1)/(2j)^2
    to (j+1, m-1):  r_+ (j-m+1)(j-m+2)/(2j+2)^2,

which sum to m + N/2 = <j,m| sum_i s+_i s-_i |j,m>. sum_i D[s+_i] is the same with m -> -m (and m-1 -> m+1).
For sum_i D[sz_i] (sz_i sz_i = 1, so the loss is N): to (j-1, m): r_- (j^2 - m^2)/j^2, to (j+1, m):
r_+ ((j+1)^2 - m^2)/(j+1)^2, the rest stays in (j, m). Collective: <j,m-1|J-|j,m>^2 = (j+m)(j-m+1).
(These agree with Chase & Geremia, PRA 78, 052101 (2008) and Shammah et al., PRA 98, 063815 (2018); the tests
check them against the full 2^N Lindbladian.)

Steady state (``steady_populations``). Every transition changes the excitation number k by 0 or +-1, so in the
order "shell by shell" (k = 0 ... N, j ascending inside a shell of s_k = N/2 - |k - N/2| + 1 states) A is block
tridiagonal. The balance equations have one redundant row (the columns of A sum to zero); the population of the
ground state |j = N/2, m = -N/2> (shell 0, alone) is pinned to 1 and its balance row dropped, which leaves a
non-singular system when the stationary state is unique. In shell order the matrix is banded (bandwidth
~N/2): up to N = BAND_MAX_N it is one LAPACK banded solve (dgbsv, ~N^4/4 flops); above, the shells 1 ... N are
eliminated in order (block Thomas algorithm, LAPACK dgesv per shell, O(sum_k s_k^3) ~ N^4/12 flops, in larger
BLAS calls). -A restricted to the unknowns is a column diagonally dominant M-matrix, for which Gaussian
elimination needs no pivoting across blocks (Wilkinson's bound on the growth factor applies). The result is
normalised.
Everything that depends on N alone (layout, the five unit-rate generators on one sparsity pattern, the positions
of every entry in the shell blocks, multiplicities, binomials) is built once per N and cached.

Figures of merit (``figures``). Sorting the nonzero eigenvalues v_i = p_i/d_i (descending, multiplicity
c_i = d_i, cumulative count C_i, C_0 = 0) against the energies k in ascending order (cumulative multiplicity
B_k = sum_{k' <= k} binom(N, k')), the passive energy is (summation by parts)

    sum_x e(x) r(x) = sum_{k=0}^{N-1} R(B_k),   R(x) = weight beyond the top x positions,

and R is piecewise linear: R(C_i) = sum_{i' > i} p_i', with slope -v_i between C_(i-1) and C_i. For N <= FLOAT_N
every C_i and B_k is an integer below 2^53, exact in a float, and R(B_k) is one linear interpolation; above, the N
differences C_i - B_k that enter are formed with Python integers (multiplicities up to 2^N), so no float
cancellation of numbers of size 2^N occurs. Since binom(N, k) = binom(N, N-k), the highest energy on the unitary
orbit of rho is N - passive, hence capacity = N - 2 passive; ergotropy = <k> - passive.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import blas, lapack

#: cumulative multiplicities up to 2^N are integers exactly representable in a float for N <= 52
FLOAT_N = 52
#: the steady state is one banded LAPACK solve up to this N, shell elimination above (measured on one core: equal
#: cost near N = 100; only speed depends on it, the results agree to rounding)
BAND_MAX_N = 90
#: the five dissipators of the model, in the order of ``rates`` vectors
CHANNELS = ("down", "up", "local_down", "local_up", "dephasing")


def all_j(n: int) -> np.ndarray:
    """Every spin j of N spins-1/2, ascending: (N mod 2)/2, ..., N/2."""
    return np.arange(n % 2, n + 1, 2) / 2.0


def multiplicity(n: int, j: float) -> int:
    """d_j = binom(N, N/2 - j) - binom(N, N/2 - j - 1), an exact Python int."""
    r = int(round(n / 2 - j))
    return math.comb(n, r) - (math.comb(n, r - 1) if r >= 1 else 0)


@functools.lru_cache(maxsize=8)
def binomials(n: int) -> tuple[int, ...]:
    """(binom(N, k) for k = 0..N) as exact Python ints (iteratively, O(N) big-int operations; cached)."""
    out = [1]
    for k in range(n):
        out.append(out[-1] * (n - k) // (k + 1))
    return tuple(out)


def k_range(n: int, j: float) -> tuple[int, int]:
    """Excitation numbers k = m + N/2 of sector j: N/2 - j .. N/2 + j (inclusive)."""
    lo = int(round(n / 2 - j))
    return lo, n - lo


@dataclass(frozen=True, eq=False)
class Layout:
    """Flat enumeration of the (j, m) states of the sectors ``j_values`` (ascending), sector by sector."""

    n: int
    j_values: np.ndarray
    j: np.ndarray  # (M,) spin j of each flat state
    m: np.ndarray  # (M,) magnetic number
    sector: np.ndarray  # (M,) index into j_values
    offsets: np.ndarray  # (len(j_values) + 1,) start of each sector in the flat vector

    @property
    def size(self) -> int:
        return int(self.j.size)

    @property
    def k(self) -> np.ndarray:
        """Excitation number k = m + N/2 of each flat state."""
        return np.rint(self.m + self.n / 2).astype(np.int64)

    def index(self, j: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Flat index of (j, m); -1 where the sector is not carried or |m| > j."""
        j = np.asarray(j, dtype=float)
        m = np.asarray(m, dtype=float)
        pos = np.searchsorted(self.j_values, j)
        pos_c = np.clip(pos, 0, len(self.j_values) - 1)
        ok = (pos < len(self.j_values)) & (self.j_values[pos_c] == j) & (np.abs(m) <= j + 1e-9)
        idx = self.offsets[pos_c] + np.rint(m + j).astype(np.int64)
        return np.where(ok, idx, -1)

    def to_grid(self, flat: np.ndarray) -> np.ndarray:
        """Flat vector(s) (..., M) -> populations p[..., a, k] of shape (..., len(j_values), N+1)."""
        flat = np.asarray(flat, dtype=float)
        out = np.zeros((*flat.shape[:-1], len(self.j_values), self.n + 1))
        out[..., self.sector, self.k] = flat
        return out

    def from_grid(self, grid: np.ndarray) -> np.ndarray:
        return np.asarray(grid, dtype=float)[..., self.sector, self.k]


def layout(n: int, j_values: np.ndarray) -> Layout:
    j_values = np.asarray(j_values, dtype=float)
    sizes = np.rint(2 * j_values + 1).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    sector = np.repeat(np.arange(len(j_values)), sizes)
    j = j_values[sector]
    m = (np.arange(sector.size) - offsets[sector]) - j
    return Layout(n=n, j_values=j_values, j=j, m=m, sector=sector, offsets=offsets)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=float), where=den != 0)


def _local_ratios(n: int, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r_minus = 2 * j * (n / 2 + j + 1) / (2 * j + 1)
    r_plus = (2 * j + 2) * (n / 2 - j) / (2 * j + 1)
    return r_minus, r_plus


def emission_rates(n: int, j: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rates of sum_i D[s-_i] from (j, m) to (j, m-1), (j-1, m-1), (j+1, m-1) (see the module docstring)."""
    j = np.asarray(j, dtype=float)
    m = np.asarray(m, dtype=float)
    rm, rp = _local_ratios(n, j)
    same = _safe_div(rm * (j + m) * (j - m + 1), (2 * j) ** 2) + rp * (j + m) * (j - m + 1) / (2 * j + 2) ** 2
    down = _safe_div(rm * (j + m) * (j + m - 1), (2 * j) ** 2)
    up = rp * (j - m + 1) * (j - m + 2) / (2 * j + 2) ** 2
    return same, down, up


def dephasing_rates(n: int, j: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rates of sum_i D[sz_i] from (j, m) to (j-1, m) and (j+1, m)."""
    j = np.asarray(j, dtype=float)
    m = np.asarray(m, dtype=float)
    rm, rp = _local_ratios(n, j)
    down = _safe_div(rm * (j**2 - m**2), j**2)
    up = rp * ((j + 1) ** 2 - m**2) / (j + 1) ** 2
    return down, up


def _transitions(lay: Layout, channel: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(target, source, unit rate) of the off-diagonal transitions of one channel at rate 1."""
    n, j, m = lay.n, lay.j, lay.m
    if channel == "down":
        moves = [((j + m) * (j - m + 1), j, m - 1)]
    elif channel == "up":
        moves = [((j - m) * (j + m + 1), j, m + 1)]
    elif channel == "local_down":
        s, d, u = emission_rates(n, j, m)
        moves = [(s, j, m - 1), (d, j - 1, m - 1), (u, j + 1, m - 1)]
    elif channel == "local_up":
        s, d, u = emission_rates(n, j, -m)  # sum_i D[s+_i] is sum_i D[s-_i] under m -> -m
        moves = [(s, j, m + 1), (d, j - 1, m + 1), (u, j + 1, m + 1)]
    elif channel == "dephasing":
        d, u = dephasing_rates(n, j, m)
        moves = [(d, j - 1, m), (u, j + 1, m)]
    else:  # pragma: no cover - internal names only
        raise ValueError(channel)
    src = np.arange(lay.size)
    rows, cols, vals = [], [], []
    for rate, tj, tm in moves:
        rate = np.asarray(rate, dtype=float)
        keep = rate > 0
        tgt = lay.index(tj[keep], tm[keep])
        if np.any(tgt < 0):  # a transition out of the carried sectors: a bug in the caller
            raise AssertionError("rate into a sector that is not carried")
        rows.append(tgt)
        cols.append(src[keep])
        vals.append(rate[keep])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def generator(
    lay: Layout,
    *,
    down: float,
    up: float,
    local_down: float = 0.0,
    local_up: float = 0.0,
    dephasing: float = 0.0,
) -> sp.csr_matrix:
    """Rate matrix A (dp/dt = A p, A[target, source]) of

    down D[J-] + up D[J+] + local_down sum_i D[s-_i] + local_up sum_i D[s+_i] + dephasing sum_i D[sz_i]

    on the sectors of ``lay``. Local channels must only be switched on when every sector is carried.
    """
    rates = {"down": down, "up": up, "local_down": local_down, "local_up": local_up, "dephasing": dephasing}
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for name, rate in rates.items():
        if rate:
            r, c, v = _transitions(lay, name)
            rows.append(r)
            cols.append(c)
            vals.append(rate * v)
    src = np.arange(lay.size)
    r = np.concatenate([*rows, src]) if rows else src
    c = np.concatenate([*cols, src]) if cols else src
    v_off = np.concatenate(vals) if vals else np.zeros(0)
    out_rate = np.bincount(c[: v_off.size], weights=v_off, minlength=lay.size)
    v = np.concatenate([v_off, -out_rate])
    return sp.csr_matrix((v, (r, c)), shape=(lay.size, lay.size))


def ladder_gibbs(n_levels: int, x: float) -> np.ndarray:
    """p_i = x^i (1-x)/(1-x^{n_levels}), i = 0..n_levels-1, for 0 <= x <= 1 (x = 1: uniform); no overflow."""
    i = np.arange(n_levels, dtype=float)
    if x >= 1.0:
        return np.full(n_levels, 1.0 / n_levels)
    if x <= 0.0:
        out = np.zeros(n_levels)
        out[0] = 1.0
        return out
    logx = math.log(x)
    # (1-x)/(1-x^L) = expm1(log x) / expm1(L log x), both negative: no cancellation
    norm = math.expm1(logx) / math.expm1(n_levels * logx)
    with np.errstate(under="ignore"):
        return norm * np.exp(i * logx)


# ---------------------------------------------------------------------------------------------------------------
# Multiplicities and figures of merit


@dataclass(frozen=True, eq=False)
class _Counts:
    """Per N: multiplicities d_r of the sectors j = N/2 - r (r = 0 ... floor(N/2)) and cumulative binomials."""

    n: int
    d_exact: tuple[int, ...]  # d_r, exact
    log_d: np.ndarray  # log d_r
    d_float: np.ndarray  # float(d_r) (inf where it does not fit a float)
    bounds: np.ndarray | None  # B_k, k = 0 .. N-1, as floats (exact for N <= FLOAT_N)


@functools.lru_cache(maxsize=16)
def counts(n: int) -> _Counts:
    binom = binomials(n)
    d = tuple(binom[r] - (binom[r - 1] if r >= 1 else 0) for r in range(n // 2 + 1))
    log_d = np.array([math.log(x) for x in d])
    d_float = np.array([float(x) if x < 2**1000 else math.inf for x in d])
    bounds = np.cumsum(np.array(binom[:n], dtype=float)) if n <= FLOAT_N else None
    for a in (log_d, d_float, bounds):
        if a is not None:
            a.setflags(write=False)
    return _Counts(n, d, log_d, d_float, bounds)


@dataclass(frozen=True)
class Figures:
    energy: float
    ergotropy: float
    capacity: float
    purity: float


def _passive_float(cnt: _Counts, p: np.ndarray, v: np.ndarray, d: np.ndarray) -> float:
    """sum_{k<N} R(B_k) (module docstring) by linear interpolation, exact positions (N <= FLOAT_N)."""
    assert cnt.bounds is not None
    order = np.argsort(-v)
    m = p.size
    positions = np.zeros(m + 1)
    d[order].cumsum(out=positions[1:])  # C_0 = 0, C_1, ..., C_m
    beyond = np.zeros(m + 1)
    p[order][::-1].cumsum(out=beyond[-2::-1])  # R(C_i) = weight of the blocks after i
    return float(np.interp(cnt.bounds, positions, beyond, right=0.0).sum())


def _passive_exact(cnt: _Counts, p: np.ndarray, r: np.ndarray) -> float:
    """The same with Python integers (any N): only the boundaries B_k below the total count are visited."""
    key = np.log(p) - cnt.log_d[r]  # log of v = p/d, safe where d overflows a float
    order = np.argsort(key)[::-1]
    d_obj = np.empty(len(cnt.d_exact), dtype=object)
    d_obj[:] = cnt.d_exact
    c_s = d_obj[r[order]]
    c_cum = np.cumsum(c_s)
    total = c_cum[-1]
    p_s = p[order]
    tail = np.cumsum(p_s[::-1])[::-1]
    beyond = np.append(tail[1:], 0.0)
    out = 0.0
    b = 0
    binom = binomials(cnt.n)
    for k in range(cnt.n):
        b += binom[k]
        if b >= total:
            break
        i = int(np.searchsorted(c_cum, b, side="right"))
        out += float(beyond[i]) + float(p_s[i]) * ((c_cum[i] - b) / c_s[i])
    return out


def figures_from_flat(
    n: int, p: np.ndarray, r: np.ndarray, k: np.ndarray, *, d_float: np.ndarray | None = None
) -> Figures:
    """Figures of merit of the block state with populations ``p`` (>= 0, summing to 1) of the sectors
    j = N/2 - r in shells k (flat arrays of equal length; zero populations allowed). ``d_float`` may give the
    multiplicity of every entry (precomputed by the caller)."""
    cnt = counts(n)
    energy = float(p @ k)
    if n <= FLOAT_N:
        d = cnt.d_float[r] if d_float is None else d_float
        v = p / d
        purity = float(p @ v)
        passive = _passive_float(cnt, p, v, d)
    else:
        nz = p > 0
        if not nz.all():
            p, r = p[nz], r[nz]
        with np.errstate(under="ignore"):
            purity = float(p @ np.exp(np.log(p) - cnt.log_d[r]))
        passive = _passive_exact(cnt, p, r)
    return Figures(energy=energy, ergotropy=energy - passive, capacity=n - 2.0 * passive, purity=purity)


def figures(n: int, j_values: np.ndarray, populations: np.ndarray) -> Figures:
    """Stored energy, ergotropy, capacity and purity of the 2^N state with populations p[a, k] (module doc)."""
    p = np.asarray(populations, dtype=float)
    a, k = np.nonzero(p > 0)
    r = np.rint(n / 2 - np.asarray(j_values, dtype=float)).astype(np.int64)[a]
    return figures_from_flat(n, p[a, k], r, k)


# ---------------------------------------------------------------------------------------------------------------
# Steady state: the cached per-N system


@dataclass(frozen=True, eq=False)
class _System:
    """Everything the steady-state solve of N spins needs that does not depend on the rates (all sectors).

    ``unit_data[c]`` holds the entries of the generator of channel c at unit rate on one sparsity pattern;
    ``pos`` says where each entry goes in the solver's buffer (band storage or shell blocks; the row of the pinned
    ground state goes to a dump slot); ``r``, ``k`` and ``grid_index`` give each unknown's sector (N/2 - j),
    shell and flat position on the [a, k] grid; ``band`` = (kl, ku) of the banded solve, or None for shells.
    """

    n: int
    size: int  # number of populations M = (floor(N/2)+1)(ceil(N/2)+1)
    unit_data: np.ndarray  # (5, nnz)
    pos: np.ndarray  # (nnz,) positions in the buffer
    buffer_size: int
    band: tuple[int, int] | None
    r: np.ndarray  # (M,) N/2 - j per unknown, in solver order (ground state first)
    k: np.ndarray  # (M,) excitation number per unknown (float)
    d_float: np.ndarray  # (M,) multiplicity d_j per unknown (float)
    j_values: np.ndarray  # every sector j, ascending (the rows of the [a, k] grid)
    grid_index: np.ndarray  # (M,) a (N + 1) + k on the [a, k] grid (a: sector index among all_j, ascending)
    shells: tuple[_Shell, ...]  # shells 1 ... N (empty for a banded solve)


@dataclass(frozen=True)
class _Shell:
    """Shell q >= 1 of the solver: unknowns a0:a1 (solver order, s = a1 - a0 of them), the sizes of shells q-1 and
    q+1, and the offsets of D_q (s x s), L_q (s x s_prev) and UB_q = [U_q | b_q] (s x (s_next + 1)) in the buffer,
    all three in Fortran order."""

    a0: int
    a1: int
    s_prev: int
    s_next: int
    d_off: int
    l_off: int
    ub_off: int


def _shell_order(n: int, lay: Layout) -> np.ndarray:
    """Permutation of the flat (j-major) states into shell order: k ascending, j ascending inside a shell."""
    return np.lexsort((lay.j, lay.k))


@functools.lru_cache(maxsize=4)
def system(n: int) -> _System:
    lay = layout(n, all_j(n))
    size = lay.size
    order = _shell_order(n, lay)
    rank = np.empty(size, dtype=np.int64)
    rank[order] = np.arange(size)  # flat index -> solver index
    # union sparsity pattern of the five unit generators (diagonal included), in solver indices
    per_channel = []
    for name in CHANNELS:
        r, c, v = _transitions(lay, name)
        diag = np.bincount(c, weights=v, minlength=size)
        per_channel.append(
            (
                np.concatenate([rank[r], np.arange(size)]),
                np.concatenate([rank[c], np.arange(size)]),
                np.concatenate([v, -diag[order]]),
            )
        )
    lin = np.unique(np.concatenate([rr * size + cc for rr, cc, _ in per_channel]))
    unit = np.zeros((len(CHANNELS), lin.size))
    for ch, (rr, cc, vv) in enumerate(per_channel):
        np.add.at(unit[ch], np.searchsorted(lin, rr * size + cc), vv)
    rows, cols = lin // size, lin % size
    k_sorted = lay.k[order]
    r_sorted = np.rint(n / 2 - lay.j[order]).astype(np.int64)
    grid_index = lay.sector[order] * (n + 1) + k_sorted
    starts = np.searchsorted(k_sorted, np.arange(n + 2))
    m1 = size - 1
    band: tuple[int, int] | None = None
    if n <= BAND_MAX_N:
        # unknowns 1..M-1 (solver index - 1) in LAPACK band storage ab[kl + ku + i - j, j] (Fortran order, 2 kl +
        # ku + 1 rows: kl extra rows for the pivoting fill), then the right-hand side -A[:, ground], then a dump slot
        inner = (rows > 0) & (cols > 0)
        kl = max(1, int(np.max(rows[inner] - cols[inner])))
        ku = max(1, int(np.max(cols[inner] - rows[inner])))
        band = (kl, ku)
        height = 2 * kl + ku + 1
        buffer_size = height * m1 + m1 + 1
        dump = buffer_size - 1
        pos = np.where(
            rows == 0,
            dump,
            np.where(cols == 0, height * m1 + (rows - 1), (cols - 1) * height + (kl + ku + rows - cols)),
        )
        shells: tuple[_Shell, ...] = ()
    else:
        # per shell q >= 1 (size s, rows a0:a1): D_q (s x s), L_q (s x s_prev, q >= 2) and UB_q = [U_q | b_q]
        # (s x (s_next + 1)), all Fortran order; shell 1's b column receives A[shell 1, ground] (negated later)
        offs = []
        off = 0
        for q in range(1, n + 1):
            a0, a1 = int(starts[q]), int(starts[q + 1])
            s = a1 - a0
            s_prev = int(starts[q] - starts[q - 1])
            s_next = int(starts[q + 2] - starts[q + 1]) if q < n else 0
            d_off = off
            off += s * s
            l_off = off
            off += s * s_prev if q >= 2 else 0
            ub_off = off
            off += s * (s_next + 1)
            offs.append((a0, a1, s_prev, s_next, d_off, l_off, ub_off))
        dump = off
        buffer_size = off + 1
        shell_of = np.searchsorted(starts, np.arange(size), side="right") - 1
        qr, qc = shell_of[rows], shell_of[cols]
        pos = np.full(rows.size, dump, dtype=np.int64)
        for q in range(1, n + 1):
            a0, a1, s_prev, s_next, d_off, l_off, ub_off = offs[q - 1]
            s = a1 - a0
            here = qr == q
            same = here & (qc == q)
            pos[same] = d_off + (cols[same] - a0) * s + (rows[same] - a0)
            below = here & (qc == q - 1)
            if q >= 2:
                pos[below] = l_off + (cols[below] - int(starts[q - 1])) * s + (rows[below] - a0)
            else:  # the ground-state column: minus the right-hand side of shell 1
                pos[below] = ub_off + s_next * s + (rows[below] - a0)
            above = here & (qc == q + 1)
            pos[above] = ub_off + (cols[above] - a1) * s + (rows[above] - a0)
        shells = tuple(_Shell(*o) for o in offs)
    d_float = counts(n).d_float[r_sorted]
    k_float = k_sorted.astype(float)
    js = lay.j_values.copy()
    for a in (unit, pos, k_float, r_sorted, grid_index, d_float, js):
        a.setflags(write=False)
    return _System(n, size, unit, pos, buffer_size, band, r_sorted, k_float, d_float, js, grid_index, shells)


def _shell_solve(sysm: _System, buf: np.ndarray) -> np.ndarray:
    """Block Thomas elimination over the shells 1..N; returns the unknowns (solver order without the ground).

    Forward: S_1 = D_1, S_q = D_q - L_q G_(q-1) with [G_q | y_q] = S_q^{-1} [U_q | b_q], b_1 = -A[shell 1, ground],
    b_q = -L_q y_(q-1). Backward: x_N = y_N, x_q = y_q - G_q x_(q+1). The blocks are Fortran-ordered views of
    ``buf``, updated in place by BLAS/LAPACK.
    """
    gs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    g_prev = y_prev = np.zeros(0)
    for q, sh in enumerate(sysm.shells, start=1):
        s, t = sh.a1 - sh.a0, sh.s_next
        d_blk = buf[sh.d_off : sh.d_off + s * s].reshape(s, s).T
        ub = buf[sh.ub_off : sh.ub_off + s * (t + 1)].reshape(t + 1, s).T
        if q == 1:
            ub[:, t] *= -1.0
        else:
            l_blk = buf[sh.l_off : sh.l_off + s * sh.s_prev].reshape(sh.s_prev, s).T
            blas.dgemm(-1.0, l_blk, g_prev, 1.0, d_blk, overwrite_c=1)
            blas.dgemv(-1.0, l_blk, y_prev, 0.0, ub[:, t], overwrite_y=1)
        _, _, x, info = lapack.dgesv(d_blk, ub, overwrite_a=1, overwrite_b=1)
        if info != 0:
            raise ArithmeticError(f"the steady-state system is singular at shell {q} (LAPACK info {info})")
        g_prev, y_prev = x[:, :t], x[:, t]
        gs.append(g_prev)
        ys.append(y_prev)
    out = [ys[-1]]
    for q in range(len(ys) - 2, -1, -1):
        out.append(ys[q] - gs[q] @ out[-1])
    return np.concatenate(out[::-1])


def steady_populations(sysm: _System, rates: np.ndarray) -> np.ndarray:
    """Stationary populations (solver order, summing to 1) for the channel rates (order of CHANNELS); the
    stationary state must be unique. Raises ArithmeticError if the system is singular or the result not finite."""
    buf = np.zeros(sysm.buffer_size)
    buf[sysm.pos] = rates @ sysm.unit_data
    m1 = sysm.size - 1
    if sysm.band is not None:
        kl, ku = sysm.band
        height = 2 * kl + ku + 1
        ab = buf[: height * m1].reshape(m1, height).T
        b = buf[height * m1 : height * m1 + m1]
        np.negative(b, out=b)
        _, _, x, info = lapack.dgbsv(kl, ku, ab, b, overwrite_ab=1, overwrite_b=1)
        if info != 0:
            raise ArithmeticError(f"the steady-state system is singular (LAPACK info {info})")
    else:
        x = _shell_solve(sysm, buf)
    p = np.empty(sysm.size)
    p[0] = 1.0
    np.maximum(x, 0.0, out=p[1:])  # rounding only: the exact solution of a unique stationary state is positive
    total = float(p.sum())
    if not math.isfinite(total):
        raise ArithmeticError("the steady-state solve gave populations that are not finite")
    p /= total
    return p


# ---------------------------------------------------------------------------------------------------------------
# Propagation


def propagate(a: sp.csr_matrix, p0: np.ndarray, times: np.ndarray, *, dense_max: int) -> np.ndarray:
    """exp(A t) p0 for every t (sorted internally), exact up to rounding: dense Pade (at most ``dense_max``
    populations; one matrix exponential per distinct step) or scipy's expm_multiply. The caller bounds the cost."""
    order = np.argsort(times, kind="stable")
    out = np.empty((times.size, p0.size))
    dense = a.toarray() if p0.size <= dense_max else None
    cache: dict[float, np.ndarray] = {}
    v = p0.astype(float)
    t_prev = 0.0
    for idx in order:
        dt = float(times[idx]) - t_prev
        if dt > 0:
            if dense is not None:
                if dt not in cache:
                    cache[dt] = sla.expm(dense * dt)
                v = cache[dt] @ v
            else:
                v = spla.expm_multiply(a * dt, v)
            t_prev = float(times[idx])
        out[idx] = v
    return out


def ladder_from_bottom(x: float, n_thermal: float, gamma: float, n_levels: int, times: np.ndarray) -> np.ndarray:
    """Pure collective ladder of 2j+1 = n_levels states started in its bottom state, x = e^{-1/T} > 0: exact
    spectral solution of the symmetrised birth-death chain, truncated where it provably does not matter.

    Rates: i -> i-1 at gamma (n+1) a_i, i -> i+1 at gamma n a_{i+1}, a_i = i (n_levels - i). Detailed balance with
    pi_i = x^i gives S = Pi^{-1/2} A Pi^{1/2} symmetric tridiagonal, and from the bottom
    p_i(t) = x^{i/2} sum_l V_{il} V_{0l} e^{lambda_l t}. Reversibility bounds p_i(t) <= x^i for all t, so
    cutting the ladder at K changes the result by at most x^K gamma n K n_levels t_max (made < 1e-18).
    """
    nb, g = n_thermal, gamma
    t_max = float(times.max())
    log_inv_x = -math.log(x)
    k_cut = n_levels - 1
    if log_inv_x > 0:
        log_scale = math.log(max(1.0, g * (nb + 1.0))) + 2.0 * math.log(n_levels) + math.log(max(t_max, 1.0))
        k_cut = min(n_levels - 1, math.ceil((42.0 + log_scale) / log_inv_x) + 1)
    levels = k_cut + 1
    i = np.arange(1, levels, dtype=float)
    a_i = i * (n_levels - i)  # |<i-1|J-|i>|^2 inside the sector
    out_down = np.concatenate([[0.0], g * (nb + 1.0) * a_i])
    out_up = np.concatenate([g * nb * a_i, [0.0]])  # reflecting at the cut
    diag = -(out_down + out_up)
    off = g * math.sqrt(nb * (nb + 1.0)) * a_i
    lam, vec = sla.eigh_tridiagonal(diag, off)
    # the largest eigenvalue is the stationary mode, exactly 0 (eigenvector pi^{1/2}); rounding would otherwise
    # make it ~ -1e-14 and decay it away at huge t
    lam = np.minimum(lam, 0.0)
    lam[-1] = 0.0
    weights = vec[0, :]  # V_{0l}
    scale = np.exp(0.5 * np.arange(levels) * math.log(x))  # x^{i/2}
    res = np.zeros((times.size, n_levels))
    with np.errstate(under="ignore", over="ignore"):
        decay = np.exp(np.outer(times, lam))  # (T, L); t lam = -inf (huge t) decays to 0
    res[:, :levels] = (decay * weights) @ vec.T * scale
    return res
