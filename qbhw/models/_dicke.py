"""Private helpers of ``qbhw.models.collective``: Schur-Weyl bookkeeping and the population rate equation.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from qbhw.physics.thermodynamics import passive_energy_from_spectra


def all_j(n: int) -> np.ndarray:
    """Every spin j of N spins-1/2, ascending: (N mod 2)/2, ..., N/2."""
    return np.arange(n % 2, n + 1, 2) / 2.0


def multiplicity(n: int, j: float) -> int:
    """d_j = binom(N, N/2 - j) - binom(N, N/2 - j - 1), an exact Python int."""
    r = int(round(n / 2 - j))
    return math.comb(n, r) - (math.comb(n, r - 1) if r >= 1 else 0)


def binomials(n: int) -> list[int]:
    """[binom(N, k) for k = 0..N] as exact Python ints (iteratively, O(N) big-int operations)."""
    out = [1]
    for k in range(n):
        out.append(out[-1] * (n - k) // (k + 1))
    return out


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
        out = np.zeros(flat.shape[:-1] + (len(self.j_values), self.n + 1))
        k = np.rint(self.m + self.n / 2).astype(np.int64)
        out[..., self.sector, k] = flat
        return out

    def from_grid(self, grid: np.ndarray) -> np.ndarray:
        k = np.rint(self.m + self.n / 2).astype(np.int64)
        return np.asarray(grid, dtype=float)[..., self.sector, k]


def layout(n: int, j_values: np.ndarray) -> Layout:
    j_values = np.asarray(j_values, dtype=float)
    sizes = np.rint(2 * j_values + 1).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    sector = np.repeat(np.arange(len(j_values)), sizes)
    j = j_values[sector]
    m = np.concatenate([np.arange(-jj, jj + 0.5, 1.0) for jj in j_values]) if len(j_values) else np.zeros(0)
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
    n = lay.n
    j, m = lay.j, lay.m
    src = np.arange(lay.size)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []

    def add(rate: np.ndarray, tj: np.ndarray, tm: np.ndarray) -> None:
        rate = np.asarray(rate, dtype=float)
        keep = rate > 0
        if not np.any(keep):
            return
        tgt = lay.index(tj[keep], tm[keep])
        if np.any(tgt < 0):  # a transition out of the carried sectors: a bug in the caller
            raise AssertionError("rate into a sector that is not carried")
        rows.append(tgt)
        cols.append(src[keep])
        vals.append(rate[keep])

    if down:
        add(down * (j + m) * (j - m + 1), j, m - 1)
    if up:
        add(up * (j - m) * (j + m + 1), j, m + 1)
    if local_down:
        s, d, u = emission_rates(n, j, m)
        add(local_down * s, j, m - 1)
        add(local_down * d, j - 1, m - 1)
        add(local_down * u, j + 1, m - 1)
    if local_up:
        s, d, u = emission_rates(n, j, -m)  # sum_i D[s+_i] is sum_i D[s-_i] under m -> -m
        add(local_up * s, j, m + 1)
        add(local_up * d, j - 1, m + 1)
        add(local_up * u, j + 1, m + 1)
    if dephasing:
        d, u = dephasing_rates(n, j, m)
        add(dephasing * d, j - 1, m)
        add(dephasing * u, j + 1, m)
    if rows:
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        v = np.concatenate(vals)
    else:
        r = c = np.zeros(0, dtype=np.int64)
        v = np.zeros(0)
    out_rate = np.bincount(c, weights=v, minlength=lay.size)
    r = np.concatenate([r, src])
    c = np.concatenate([c, src])
    v = np.concatenate([v, -out_rate])
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


@dataclass(frozen=True)
class Figures:
    energy: float
    ergotropy: float
    capacity: float
    purity: float


def figures(n: int, j_values: np.ndarray, populations: np.ndarray, binom: list[int] | None = None) -> Figures:
    """Stored energy, ergotropy, capacity and purity of the 2^N state with populations p[a, k] (see module doc).

    The spectrum of rho is {p/d_j, multiplicity d_j} (plus 0 for sectors not carried) and that of H is
    {k, multiplicity binom(N, k)}; ergotropy and capacity come from qbhw.physics.*_from_spectra with exact
    integer multiplicities.
    """
    p = np.asarray(populations, dtype=float)
    ks = np.arange(n + 1, dtype=float)
    energy = float(np.sum(p * ks[None, :]))
    binom = binomials(n) if binom is None else binom
    values: list[float] = []
    counts: list[int] = []
    carried = 0
    purity = 0.0
    for a, jj in enumerate(j_values):
        d = multiplicity(n, float(jj))
        lo, hi = k_range(n, float(jj))
        block = p[a, lo : hi + 1]
        carried += d * (hi - lo + 1)
        dv = float(d)
        vals = block / dv
        purity += float(np.sum(block * vals))
        values.extend(vals.tolist())
        counts.extend([d] * block.size)
    rest = 2**n - carried
    if rest:
        values.append(0.0)
        counts.append(rest)
    passive = passive_energy_from_spectra(values, counts, ks, binom)
    active = passive_energy_from_spectra(values, counts, ks, binom, descending=False)
    # capacity = active - passive energy (the definition of qbhw.physics.capacity_from_spectra)
    return Figures(energy=energy, ergotropy=energy - passive, capacity=active - passive, purity=purity)
