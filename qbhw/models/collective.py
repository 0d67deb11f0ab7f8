"""Collective-dissipation battery (Ahmadi et al., arXiv:2510.06384; docs/physics.md section 3).

N identical spins-1/2 (qubits), omega0 = 1 is the unit of energy, temperature and rate (hbar = k_B = 1):

    H = J_z = (1/2) sum_i sz_i,       J- = sum_i s-_i,     sz = |e><e| - |g><g|,  s- = |g><e|,
    L = -i[H, .] + gamma (n+1) D[J-] + gamma n D[J+]
        + gamma_local [(n_L+1) sum_i D[s-_i] + n_L sum_i D[s+_i]] + dephasing sum_i D[sz_i],

with D[A]rho = A rho A^dag - {A^dag A, rho}/2, n = 1/(e^{1/T} - 1) (temperature T), n_L the same at
local_temperature, and x = e^{-1/T} = n/(n+1). Dephasing normalisation: ``dephasing`` multiplies D[sz_i], so a
single-spin coherence decays at rate 2 * dephasing (1/T2 = Gamma1/2 + 2 gamma_phi, as in docs/physics.md section 0).
docs/physics.md 3.3's variant is gamma = 1-p, gamma_local = p, local_temperature = 0.

States. Every channel is permutation invariant and phase covariant. Starting from a permutation-invariant state
diagonal in the Dicke basis |j, m> (|g...g> by default, Dicke states, thermal product states) the state stays

    rho(t) = (+)_j sum_m p(j, m; t) |j, m><j, m| (x) 1_{d_j}/d_j,   d_j = N!(2j+1)/((N/2+j+1)!(N/2-j)!),

and the exact dynamics is a classical rate equation on the O(N^2) populations p(j, m) (qbhw.models._dicke has
the rates and their derivation). Only such initial states are supported (``DickePopulations``); qubit order is
irrelevant (all quantities are permutation invariant; a 2^N matrix built from them is big-endian, qubit 0 the
leftmost Kronecker factor, index 0 = |g>). Populations are reported as ``populations[a, k]``: sector
j = j_values[a], k = m + N/2 excitations.

Figures of merit are those of the full 2^N state: the spectrum {p(j,m)/d_j, multiplicity d_j} against the
energies k (multiplicity binom(N, k)), with exact integer multiplicities (a naive ergotropy of the Dicke-basis
matrix, which ignores d_j, is wrong for every state outside the symmetric sector). ``energy`` is the stored energy
Tr[rho H] - (-N/2) = <k>.

Steady states. With local channels (gamma_local > 0, or dephasing > 0 together with gamma > 0) the steady state
is unique and comes from a sparse LU solve with the trace constraint. Otherwise it is not unique and comes from
the conserved quantities of the initial state, never from a null vector:

* pure collective (gamma_local = dephasing = 0): the weight w_j of every sector j is conserved and
  p(j, m) = w_j x^{m+j} (1-x)/(1-x^{2j+1}) (docs/physics.md 3.2: from |g...g>, p_k = x^k (1-x)/(1-x^{N+1}));
* dephasing only (gamma = gamma_local = 0): the number of excitations is conserved and dephasing equilibrates
  each shell: p(j, k) = P(k) d_j / binom(N, k);
* no dissipation at all: the initial state.

Sizes. Pure collective dissipation from symmetric-sector states works up to N = MAX_LADDER_N = 10^4 (closed
forms; dynamics from |g...g> by the exact spectral decomposition of the symmetrised, provably truncated ladder).
States that carry every j sector (local channels, thermal product initial states) need N <= MAX_BLOCK_N = 400
(about (N/2+1)^2 populations, multiplicities d_j < 1e300). Time evolution of the rate equation uses dense
matrix exponentials for <= DENSE_MAX populations and scipy's expm_multiply above (cost ~ ||A|| t matrix-vector
products, ||A|| ~ gamma (2n+1) N^2 / 2: stiff at large N).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.optimize import minimize_scalar

from qbhw import _validate
from qbhw._arrays import readonly as _readonly
from qbhw.errors import ParameterError
from qbhw.models import _dicke
from qbhw.physics.operators import SIGMA_PLUS, embed
from qbhw.physics.thermal import boltzmann_ratio, bose_einstein

#: largest N for states that carry every j sector (local channels, thermal product initial states)
MAX_BLOCK_N = 400
#: largest N for pure collective dissipation from symmetric-sector states (single Dicke ladder)
MAX_LADDER_N = 10_000
#: rate equations with at most this many populations are propagated with dense matrix exponentials
DENSE_MAX = 700
#: refuse time evolutions with ||A||_1 * t above this (expm_multiply would need ~ that many mat-vecs)
MAX_STIFFNESS = 5e7


# ---------------------------------------------------------------------------------------------------------------
# Parameters and states


@dataclass(frozen=True)
class CollectiveParams:
    """N spins with H = J_z (omega0 = 1): collective bath at ``temperature`` with rate ``gamma``; optional local
    emission/absorption at rate ``gamma_local`` from a bath at ``local_temperature``, and local pure dephasing
    ``dephasing`` (times D[sz_i]). All rates and temperatures >= 0 and finite, n >= 1 (module docstring)."""

    n: int = field(metadata={"help": "number of cells N, integer >= 1"})
    temperature: float = field(metadata={"help": "temperature of the collective bath, >= 0"})
    gamma: float = field(default=1.0, metadata={"help": "collective rate, >= 0"})
    gamma_local: float = field(default=0.0, metadata={"help": "local emission/absorption rate per cell, >= 0"})
    local_temperature: float = field(default=0.0, metadata={"help": "temperature of the local channels, >= 0"})
    dephasing: float = field(default=0.0, metadata={"help": "local pure-dephasing rate per cell, >= 0"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", _validate.integer_at_least("n", self.n, 1))
        for name in ("temperature", "gamma", "gamma_local", "local_temperature", "dephasing"):
            object.__setattr__(self, name, _validate.nonnegative(name, getattr(self, name)))
        if self.carries_all_sectors and self.n > MAX_BLOCK_N:
            raise ParameterError(
                "n",
                f"an integer <= {MAX_BLOCK_N} when local channels are on (the j-block rate equation carries "
                f"~(N/2+1)^2 populations and multiplicities up to 2^N)",
                self.n,
            )
        if self.n > MAX_LADDER_N:
            raise ParameterError(
                "n", f"an integer <= {MAX_LADDER_N} (exact multiplicities binom(N, k) are kept as integers)", self.n
            )

    @property
    def n_thermal(self) -> float:
        """n = 1/(e^{1/T} - 1) of the collective bath."""
        return bose_einstein(1.0, self.temperature)

    @property
    def boltzmann_x(self) -> float:
        """x = e^{-1/T} = n/(n+1)."""
        return boltzmann_ratio(1.0, self.temperature)

    @property
    def local_n_thermal(self) -> float:
        return bose_einstein(1.0, self.local_temperature)

    @property
    def carries_all_sectors(self) -> bool:
        """True when a channel connects different j sectors (local emission/absorption or dephasing)."""
        return self.gamma_local > 0 or self.dephasing > 0

    @property
    def unique_steady_state(self) -> bool:
        """True when L has one stationary state (gamma_local > 0, or dephasing > 0 and gamma > 0)."""
        return self.gamma_local > 0 or (self.dephasing > 0 and self.gamma > 0)


@dataclass(frozen=True, eq=False)
class DickePopulations:
    """rho = (+)_j sum_m p(j, m) |j,m><j,m| (x) 1_{d_j}/d_j for N spins.

    ``populations[a, k]`` = p(j_values[a], m = k - N/2), zero outside N/2 - j <= k <= N/2 + j; sectors not in
    ``j_values`` (ascending) are empty. Sums to 1.
    """

    n: int
    j_values: np.ndarray
    populations: np.ndarray

    def __post_init__(self) -> None:
        n = _validate.integer_at_least("n", self.n, 1)
        js = np.asarray(self.j_values, dtype=float).reshape(-1)
        p = np.asarray(self.populations, dtype=float)
        valid = set(_dicke.all_j(n).tolist())
        if js.size == 0 or any(j not in valid for j in js.tolist()) or np.any(np.diff(js) <= 0):
            raise ParameterError("j_values", f"ascending spins of {n} spins-1/2 ({sorted(valid)[:3]}...)", js)
        if p.shape != (js.size, n + 1) or not np.all(np.isfinite(p)) or np.any(p < -1e-12):
            raise ParameterError("populations", f"a finite array >= 0 of shape ({js.size}, {n + 1})", p.shape)
        for a, j in enumerate(js):
            lo, hi = _dicke.k_range(n, float(j))
            if np.any(p[a, :lo] != 0) or np.any(p[a, hi + 1 :] != 0):
                raise ParameterError("populations", f"zero outside {lo} <= k <= {hi} in sector j = {j}", p[a])
        total = float(p.sum())
        if abs(total - 1.0) > 1e-9:
            raise ParameterError("populations", "summing to 1", total)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "j_values", _readonly(js))
        object.__setattr__(self, "populations", _readonly(p))

    @property
    def sector_weights(self) -> np.ndarray:
        """w_j = sum_m p(j, m), one per entry of j_values."""
        return self.populations.sum(axis=1)


def ground_state(n: int) -> DickePopulations:
    """|g...g> = |j = N/2, m = -N/2>."""
    n = _validate.integer_at_least("n", n, 1)
    p = np.zeros((1, n + 1))
    p[0, 0] = 1.0
    return DickePopulations(n, np.array([n / 2]), p)


def dicke_state(n: int, excitations: int) -> DickePopulations:
    """The symmetric Dicke state |D_k> = |j = N/2, m = k - N/2> with k = ``excitations``."""
    n = _validate.integer_at_least("n", n, 1)
    k = _validate.integer_at_least("excitations", excitations, 0)
    if k > n:
        raise ParameterError("excitations", f"an integer in [0, {n}]", excitations)
    p = np.zeros((1, n + 1))
    p[0, k] = 1.0
    return DickePopulations(n, np.array([n / 2]), p)


def thermal_product_state(n: int, temperature: float) -> DickePopulations:
    """The product of N thermal qubits, exp(-H/T)/Z: p(j, k) = d_j q^k (1-q)^{N-k}, q = 1/(e^{1/T}+1)."""
    n = _validate.integer_at_least("n", n, 1)
    temperature = _validate.nonnegative("temperature", temperature)
    if temperature == 0.0:
        return ground_state(n)
    if n > MAX_BLOCK_N:
        raise ParameterError("n", f"an integer <= {MAX_BLOCK_N} for a state carrying every j sector", n)
    js = _dicke.all_j(n)
    beta = 1.0 / temperature
    log_q = -beta - math.log1p(math.exp(-beta))  # log(1/(e^beta + 1))
    log_1q = -math.log1p(math.exp(-beta))
    p = np.zeros((js.size, n + 1))
    for a, j in enumerate(js):
        lo, hi = _dicke.k_range(n, float(j))
        k = np.arange(lo, hi + 1)
        p[a, lo : hi + 1] = np.exp(math.log(_dicke.multiplicity(n, float(j))) + k * log_q + (n - k) * log_1q)
    return DickePopulations(n, js, p / p.sum())


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class FiguresOfMerit:
    """Of the full 2^N state: stored energy <k>, ergotropy, capacity, purity Tr rho^2."""

    energy: float
    ergotropy: float
    capacity: float
    purity: float


@dataclass(frozen=True, eq=False)
class CollectiveState:
    """The state at ``time`` (math.inf for the steady state) and its figures of merit (names = JSON keys)."""

    params: CollectiveParams
    time: float
    j_values: np.ndarray
    populations: np.ndarray  # [a, k], see DickePopulations
    sector_weights: np.ndarray  # [a]
    energy: float
    ergotropy: float
    capacity: float
    purity: float

    @property
    def state(self) -> DickePopulations:
        return DickePopulations(self.params.n, self.j_values, self.populations)


@dataclass(frozen=True, eq=False)
class CollectiveTrajectory:
    """rho(t) on ``times`` (as given); populations (len(times), len(j_values), N+1), the rest (len(times),)."""

    params: CollectiveParams
    times: np.ndarray
    j_values: np.ndarray
    populations: np.ndarray
    sector_weights: np.ndarray  # (len(times), len(j_values))
    energy: np.ndarray
    ergotropy: np.ndarray
    capacity: np.ndarray
    purity: np.ndarray


def figures_of_merit(state: DickePopulations) -> FiguresOfMerit:
    """Energy, ergotropy, capacity, purity of the 2^N state, every j block counted d_j times."""
    f = _dicke.figures(state.n, state.j_values, state.populations)
    return FiguresOfMerit(f.energy, f.ergotropy, f.capacity, f.purity)


def _state_result(params: CollectiveParams, time: float, js: np.ndarray, p: np.ndarray) -> CollectiveState:
    p = np.where(p < 0, 0.0, p)  # rounding of O(1e-16) only; the exact dynamics is positivity preserving
    p = p / p.sum()
    f = _dicke.figures(params.n, js, p)
    return CollectiveState(
        params=params,
        time=float(time),
        j_values=_readonly(js),
        populations=_readonly(p),
        sector_weights=_readonly(p.sum(axis=1)),
        energy=f.energy,
        ergotropy=f.ergotropy,
        capacity=f.capacity,
        purity=f.purity,
    )


# ---------------------------------------------------------------------------------------------------------------
# Closed forms (docs/physics.md 3.2)


@dataclass(frozen=True, eq=False)
class LadderClosedForm:
    """Pure collective steady state from |g...g>: p_k = x^k (1-x)/(1-x^{N+1}), and (omega0 = 1, any N >= 1)
    energy = <k>, ergotropy = <k> - 1 + p_0, capacity = N - 2 + 2 p_0 (p_0 >= p_1 >= ... pairs with the
    levels k = 0, 1, 1, ... in the passive state and with N, N-1, ... in the active one)."""

    n: int
    x: float
    populations: np.ndarray  # p_k, k = 0..N
    energy: float
    ergotropy: float
    capacity: float


def ladder_closed_form(n: int, temperature: float) -> LadderClosedForm:
    """docs/physics.md 3.2 closed forms; ``temperature`` may be math.inf (x = 1, uniform ladder)."""
    n = _validate.integer_at_least("n", n, 1)
    if isinstance(temperature, int | float) and math.isinf(temperature) and temperature > 0:
        x = 1.0
    else:
        x = boltzmann_ratio(1.0, _validate.nonnegative("temperature", temperature))
    p = _dicke.ladder_gibbs(n + 1, x)
    mean_k = float(np.dot(np.arange(n + 1), p))
    p0 = float(p[0])
    w, c = mean_k - 1.0 + p0, n - 2.0 + 2.0 * p0
    return LadderClosedForm(n=n, x=x, populations=_readonly(p), energy=mean_k, ergotropy=w, capacity=c)


# ---------------------------------------------------------------------------------------------------------------
# Solvers


def _initial(params: CollectiveParams, initial: DickePopulations | None) -> DickePopulations:
    if initial is None:
        return ground_state(params.n)
    if not isinstance(initial, DickePopulations):
        raise ParameterError(
            "initial", "a DickePopulations (ground_state, dicke_state, thermal_product_state)", type(initial).__name__
        )
    if initial.n != params.n:
        raise ParameterError("initial", f"a state of n = {params.n} spins", initial.n)
    return initial


def _sectors(params: CollectiveParams, init: DickePopulations) -> tuple[np.ndarray, np.ndarray]:
    """(j_values, populations) on the sectors the dynamics can reach: all of them if a channel mixes sectors."""
    if params.carries_all_sectors:
        js = _dicke.all_j(params.n)
        p = np.zeros((js.size, params.n + 1))
        pos = np.searchsorted(js, init.j_values)
        p[pos] = init.populations
        return js, p
    keep = init.sector_weights > 0
    return init.j_values[keep], init.populations[keep]


def _rates(params: CollectiveParams) -> dict[str, float]:
    nb, nl = params.n_thermal, params.local_n_thermal
    return {
        "down": params.gamma * (nb + 1.0),
        "up": params.gamma * nb,
        "local_down": params.gamma_local * (nl + 1.0),
        "local_up": params.gamma_local * nl,
        "dephasing": params.dephasing,
    }


def rate_matrix(params: CollectiveParams, j_values: Sequence[float] | None = None) -> sp.csr_matrix:
    """The rate equation dp/dt = A p on the sectors ``j_values`` (default: all), flat order sector by sector
    (ascending j), m ascending inside a sector."""
    js = _dicke.all_j(params.n) if j_values is None else np.asarray(j_values, dtype=float)
    return _dicke.generator(_dicke.layout(params.n, js), **_rates(params))


def steady_state(params: CollectiveParams, initial: DickePopulations | None = None) -> CollectiveState:
    """The t -> infinity state: unique (sparse LU + trace constraint) or fixed by the initial state's conserved
    quantities (module docstring); ``initial`` defaults to |g...g>."""
    init = _initial(params, initial)
    n = params.n
    if params.unique_steady_state:
        js = _dicke.all_j(n)
        lay = _dicke.layout(n, js)
        a = _dicke.generator(lay, **_rates(params))
        # replace the first balance equation by the normalisation sum p = 1 (the columns of A sum to zero, so
        # one equation is redundant; with a unique stationary state the modified matrix is non-singular)
        a = sp.vstack([sp.csr_matrix(np.ones((1, lay.size))), a[1:]], format="csc")
        b = np.zeros(lay.size)
        b[0] = 1.0
        flat = spla.spsolve(a, b)
        return _state_result(params, math.inf, js, lay.to_grid(flat))
    js, p = _sectors(params, init)
    if params.gamma > 0:  # pure collective: ladder Gibbs state inside every sector, sector weights conserved
        x = params.boltzmann_x
        out = np.zeros_like(p)
        for a, j in enumerate(js):
            lo, hi = _dicke.k_range(n, float(j))
            out[a, lo : hi + 1] = p[a].sum() * _dicke.ladder_gibbs(hi - lo + 1, x)
        return _state_result(params, math.inf, js, out)
    if params.dephasing > 0:  # dephasing only: each excitation shell k is equilibrated, P(k) conserved
        shell = p.sum(axis=0)
        binom = _dicke.binomials(n)
        out = np.zeros_like(p)
        for a, j in enumerate(js):
            lo, hi = _dicke.k_range(n, float(j))
            d = _dicke.multiplicity(n, float(j))
            for k in range(lo, hi + 1):
                out[a, k] = shell[k] * (d / binom[k])
        return _state_result(params, math.inf, js, out)
    return _state_result(params, math.inf, js, p)  # no dissipation: every diagonal state is stationary


def _times(times: Sequence[float] | np.ndarray | float) -> np.ndarray:
    t = np.asarray(times, dtype=float).reshape(-1)
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ParameterError("time", "finite values >= 0 (at least one)", times)
    return t


def _propagate(a: sp.csr_matrix, p0: np.ndarray, times: np.ndarray) -> np.ndarray:
    """exp(A t) p0 for every t (sorted internally), exactly up to rounding: dense Pade (small) or expm_multiply."""
    order = np.argsort(times, kind="stable")
    out = np.empty((times.size, p0.size))
    size = p0.size
    dense = a.toarray() if size <= DENSE_MAX else None
    if dense is None:
        stiffness = float(spla.norm(a, 1)) * float(times.max())
        if stiffness > MAX_STIFFNESS:
            raise ParameterError(
                "time",
                f"<= {MAX_STIFFNESS / max(float(spla.norm(a, 1)), 1e-300):.3g} for these parameters (the rate "
                f"equation with {size} populations is stiff: ||A||_1 t = {stiffness:.3g} mat-vecs)",
                float(times.max()),
            )
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


def _ladder_from_bottom(params: CollectiveParams, n_levels: int, times: np.ndarray) -> np.ndarray:
    """Pure collective ladder of 2j+1 = n_levels states started in its bottom state, T > 0: exact spectral
    solution of the symmetrised birth-death chain, truncated where it provably does not matter.

    Rates: i -> i-1 at gamma (n+1) a_i, i -> i+1 at gamma n a_{i+1}, a_i = i (n_levels - i). Detailed balance with
    pi_i = x^i gives S = Pi^{-1/2} A Pi^{1/2} symmetric tridiagonal, and from the bottom
    p_i(t) = x^{i/2} sum_l V_{il} V_{0l} e^{lambda_l t}. Reversibility bounds p_i(t) <= x^i for all t, so
    cutting the ladder at K changes the result by at most x^K gamma n K n_levels t_max (made < 1e-18).
    """
    x = params.boltzmann_x
    nb = params.n_thermal
    g = params.gamma
    t_max = float(times.max())
    log_inv_x = -math.log(x)
    k_cut = n_levels - 1
    if log_inv_x > 0:
        budget = 42.0 + math.log(max(1.0, g * (nb + 1.0) * n_levels**2 * max(t_max, 1.0)))
        k_cut = min(n_levels - 1, int(math.ceil(budget / log_inv_x)) + 1)
    levels = k_cut + 1
    i = np.arange(1, levels, dtype=float)
    a_i = i * (n_levels - i)  # |<i-1|J-|i>|^2 inside the sector
    out_down = np.concatenate([[0.0], g * (nb + 1.0) * a_i])
    out_up = np.concatenate([g * nb * a_i, [0.0]])  # reflecting at the cut
    diag = -(out_down + out_up)
    off = g * math.sqrt(nb * (nb + 1.0)) * a_i
    lam, vec = sla.eigh_tridiagonal(diag, off)
    lam = np.minimum(lam, 0.0)
    weights = vec[0, :]  # V_{0l}
    scale = np.exp(0.5 * np.arange(levels) * math.log(x))  # x^{i/2}
    res = np.zeros((times.size, n_levels))
    with np.errstate(under="ignore"):
        decay = np.exp(np.outer(times, lam))  # (T, L)
    res[:, :levels] = (decay * weights) @ vec.T * scale
    return res


def _bottom_supported(params: CollectiveParams, js: np.ndarray, p: np.ndarray) -> bool:
    for a, j in enumerate(js):
        lo, _ = _dicke.k_range(params.n, float(j))
        if np.any(p[a, lo + 1 :] != 0):
            return False
    return True


def _evolve_populations(params: CollectiveParams, init: DickePopulations, times: np.ndarray):
    js, p = _sectors(params, init)
    n = params.n
    if not params.carries_all_sectors:
        # pure collective: independent ladders, one per carried sector
        out = np.zeros((times.size,) + p.shape)
        bottom = _bottom_supported(params, js, p)
        for a, j in enumerate(js):
            lo, hi = _dicke.k_range(n, float(j))
            w = p[a].sum()
            if bottom and (params.n_thermal == 0.0 or params.gamma == 0.0 or hi == lo):
                out[:, a, lo] = w  # nothing below the bottom and no absorption: stationary
            elif bottom:
                out[:, a, lo : hi + 1] = w * _ladder_from_bottom(params, hi - lo + 1, times)
            else:
                lay = _dicke.layout(n, np.array([j]))
                a_mat = _dicke.generator(lay, **_rates(params))
                out[:, a, lo : hi + 1] = _propagate(a_mat, p[a, lo : hi + 1], times)
        return js, out
    lay = _dicke.layout(n, js)
    a_mat = _dicke.generator(lay, **_rates(params))
    flat = _propagate(a_mat, lay.from_grid(p), times)
    return js, lay.to_grid(flat)


def evolve(
    params: CollectiveParams, times: Sequence[float] | np.ndarray, initial: DickePopulations | None = None
) -> CollectiveTrajectory:
    """rho(t) = e^{L t} rho(0) on ``times`` (>= 0, any order), rho(0) = ``initial`` or |g...g>; exact."""
    t = _times(times)
    init = _initial(params, initial)
    js, pops = _evolve_populations(params, init, t)
    pops = np.where(pops < 0, 0.0, pops)
    pops = pops / pops.sum(axis=(1, 2), keepdims=True)
    binom = _dicke.binomials(params.n)
    figs = [_dicke.figures(params.n, js, pk, binom) for pk in pops]
    return CollectiveTrajectory(
        params=params,
        times=_readonly(t),
        j_values=_readonly(js),
        populations=_readonly(pops),
        sector_weights=_readonly(pops.sum(axis=2)),
        energy=_readonly([f.energy for f in figs]),
        ergotropy=_readonly([f.ergotropy for f in figs]),
        capacity=_readonly([f.capacity for f in figs]),
        purity=_readonly([f.purity for f in figs]),
    )


def state_at(params: CollectiveParams, time: float, initial: DickePopulations | None = None) -> CollectiveState:
    """rho(time) from ``initial`` (default |g...g>) and its figures of merit."""
    t = _times(time)
    if t.size != 1:
        raise ParameterError("time", "a single value >= 0", time)
    init = _initial(params, initial)
    js, pops = _evolve_populations(params, init, t)
    return _state_result(params, float(t[0]), js, pops[0])


# ---------------------------------------------------------------------------------------------------------------
# Sweeps


@dataclass(frozen=True, eq=False)
class SteadyStateSweep:
    """Steady states from |g...g> on the grid ns x temperatures (other parameters from ``params``); the figure
    arrays have shape (len(ns), len(temperatures))."""

    params: CollectiveParams
    ns: np.ndarray
    temperatures: np.ndarray
    energy: np.ndarray
    ergotropy: np.ndarray
    capacity: np.ndarray
    purity: np.ndarray


def sweep(
    params: CollectiveParams,
    *,
    ns: Sequence[int] | None = None,
    temperatures: Sequence[float] | None = None,
) -> SteadyStateSweep:
    """Steady-state figures of merit over N and/or T (each defaults to the value in ``params``)."""
    ns_arr = np.array([params.n] if ns is None else list(ns), dtype=int).reshape(-1)
    ts_arr = np.array([params.temperature] if temperatures is None else list(temperatures), dtype=float).reshape(-1)
    if ns_arr.size == 0:
        raise ParameterError("ns", "at least one N", ns)
    if ts_arr.size == 0:
        raise ParameterError("temperatures", "at least one temperature", temperatures)
    shape = (ns_arr.size, ts_arr.size)
    e, w, c, pur = (np.zeros(shape) for _ in range(4))
    for i, n in enumerate(ns_arr):
        for k, temp in enumerate(ts_arr):
            s = steady_state(replace(params, n=int(n), temperature=float(temp)))
            e[i, k], w[i, k], c[i, k], pur[i, k] = s.energy, s.ergotropy, s.capacity, s.purity
    return SteadyStateSweep(
        params, _readonly(ns_arr), _readonly(ts_arr), _readonly(e), _readonly(w), _readonly(c), _readonly(pur)
    )


def ergotropy_vs_n(params: CollectiveParams, ns: Sequence[int]) -> SteadyStateSweep:
    """N-scaling of the steady state at the temperature of ``params`` (``sweep(params, ns=ns)``)."""
    return sweep(params, ns=ns)


@dataclass(frozen=True)
class TemperatureOptimum:
    """The collective-bath temperature that maximises the steady-state ergotropy from |g...g>.

    ``interior`` is False when the maximum over the scanned bracket is at one of its ends (e.g. pure collective
    dissipation, whose W_ss grows with T up to N(N-1)/(2(N+1))): then ``temperature`` is that end.
    """

    params: CollectiveParams  # at the optimum
    temperature: float
    ergotropy: float
    energy: float
    capacity: float
    interior: bool


def optimal_temperature(
    params: CollectiveParams,
    *,
    t_min: float = 0.05,
    t_max: float = 100.0,
    grid: int = 41,
    xatol: float = 1e-7,
) -> TemperatureOptimum:
    """Maximise W_ss over T in [t_min, t_max]: a log-spaced scan brackets the maximum between the grid
    neighbours of the best point, then a bounded Brent search in log T refines it (W_ss is smooth in T)."""
    t_min = _validate.positive("t_min", t_min)
    t_max = _validate.positive("t_max", t_max)
    if t_max <= t_min:
        raise ParameterError("t_max", f"> t_min = {t_min}", t_max)
    grid = _validate.integer_at_least("grid", grid, 3)

    def w_of(log_t: float) -> float:
        return steady_state(replace(params, temperature=math.exp(log_t))).ergotropy

    logs = np.linspace(math.log(t_min), math.log(t_max), grid)
    values = np.array([w_of(lt) for lt in logs])
    best = int(np.argmax(values))
    interior = 0 < best < grid - 1
    log_t = float(logs[best])
    if interior:
        res = minimize_scalar(
            lambda lt: -w_of(lt), bounds=(logs[best - 1], logs[best + 1]), method="bounded", options={"xatol": xatol}
        )
        if -res.fun >= values[best]:
            log_t = float(res.x)
    s = steady_state(replace(params, temperature=math.exp(log_t)))
    return TemperatureOptimum(s.params, s.params.temperature, s.ergotropy, s.energy, s.capacity, interior)


# ------------------------------------------------------------------------------ dense 2^N matrices

#: largest N for dicke_density_matrix (a dense 2^N x 2^N matrix)
MAX_MATRIX_N = 10


def collective_hamiltonian(n: int) -> np.ndarray:
    """J_z = (1/2) sum_i sz_i on 2^N (diagonal, big-endian): entry = (number of excited cells) - N/2."""
    k = np.array([bin(i).count("1") for i in range(2**n)], dtype=float)
    return np.diag(k - n / 2).astype(complex)


def dicke_density_matrix(state: DickePopulations) -> np.ndarray:
    """The 2^N density matrix (+)_j sum_m p(j, m) P_{j,m}/d_j of a DickePopulations state (big-endian).

    P_{j,m} is the projector onto the joint eigenspace J^2 = j(j+1), J_z = m (rank d_j): inside each excitation
    shell k = m + N/2 (J_z diagonal in the computational basis) J^2 = J-J+ + J_z^2 + J_z is diagonalised and its
    eigenvectors grouped by j.
    """
    n = state.n
    if n > MAX_MATRIX_N:
        raise ParameterError("n", f"an integer <= {MAX_MATRIX_N} for a dense 2^N matrix", n)
    dims = [2] * n
    jp = np.sum([embed(SIGMA_PLUS, i, dims) for i in range(n)], axis=0)
    jm = jp.conj().T
    jz = np.real(np.diag(collective_hamiltonian(n)))
    j2 = np.real(jm @ jp) + np.diag(jz**2 + jz)
    shell = np.rint(jz + n / 2).astype(int)
    rho = np.zeros((2**n, 2**n), dtype=complex)
    for k in range(n + 1):
        idx = np.flatnonzero(shell == k)
        w, v = np.linalg.eigh(j2[np.ix_(idx, idx)])
        for a, j in enumerate(state.j_values):
            p = float(state.populations[a, k])
            if p == 0.0:
                continue
            sel = np.abs(w - j * (j + 1)) < 0.25
            d = int(sel.sum())
            if d != _dicke.multiplicity(n, float(j)):  # pragma: no cover - a bug, not an input error
                raise RuntimeError(f"sector j = {j}, k = {k}: found {d} states")
            block = v[:, sel]
            rho[np.ix_(idx, idx)] += (p / d) * (block @ block.T)
    return rho
