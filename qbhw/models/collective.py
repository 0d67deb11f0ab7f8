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
is unique and comes from one linear solve of the rate equation with the ground-state population pinned
(qbhw.models._dicke: block elimination shell by shell, structure cached per N). Otherwise it is not unique and
comes from the conserved quantities of the initial state, never from a null vector:

* pure collective (gamma_local = dephasing = 0): the weight w_j of every sector j is conserved and
  p(j, m) = w_j x^{m+j} (1-x)/(1-x^{2j+1}) (docs/physics.md 3.2: from |g...g>, p_k = x^k (1-x)/(1-x^{N+1}));
* dephasing only (gamma = gamma_local = 0): the number of excitations is conserved and dephasing equilibrates
  each shell: p(j, k) = P(k) d_j / binom(N, k);
* no dissipation at all: the initial state.

Sizes and limits (checked before any work; ParameterError names the field). Pure collective dissipation from
symmetric-sector states works up to N = MAX_LADDER_N = 10^4 (closed forms; dynamics from |g...g> by the exact
spectral decomposition of the symmetrised, provably truncated ladder). States that carry every j sector (local
channels, thermal product initial states) need N <= MAX_BLOCK_N = 400: the steady-state solve then holds
~N^3/2 floats in its blocks (~130 MB at N = 400) and costs ~N^4/12 flops (0.1-0.3 s on one core). Temperatures
are at most MAX_TEMPERATURE and rates at most MAX_RATE, so that every rate gamma (n + 1) N^2 is a finite float.
Time evolution of the rate equation uses dense matrix exponentials for <= DENSE_MAX populations (and
||A||_1 t <= MAX_DENSE_STIFFNESS) and scipy's expm_multiply above (cost ~ ||A||_1 t sparse mat-vecs,
||A|| ~ gamma (2n+1) N^2 / 2: stiff at large N); a run whose estimated cost exceeds MAX_EVOLUTION_FLOPS (about a
minute on one core), or whose result would exceed MAX_TRAJECTORY_BYTES, or that asks for more than MAX_TIMES
times, is refused before it starts. Pure collective dissipation from |g...g> (the spectral ladder) takes any
finite time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

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
#: largest temperature (either bath): n ~ T, so rates gamma (n + 1) stay far below float overflow
MAX_TEMPERATURE = 1e12
#: largest rate (gamma, gamma_local, dephasing), in units of omega0
MAX_RATE = 1e6
#: rate equations with at most this many populations are propagated with dense matrix exponentials
DENSE_MAX = 700
#: refuse a time evolution whose estimated cost exceeds this many flops (~1 minute on one core at ~3 GFLOP/s)
MAX_EVOLUTION_FLOPS = 2e11
#: dense matrix exponentials only for ||A||_1 t up to this (<= 40 squarings; far beyond, A t overflows)
MAX_DENSE_STIFFNESS = 1e12
#: largest number of times in one evolution
MAX_TIMES = 10_000
#: largest size of the populations array of one trajectory (len(times) x sectors x (N + 1) floats)
MAX_TRAJECTORY_BYTES = 1e9


def _at_most(name: str, value: float, bound: float, why: str) -> None:
    if value > bound:
        raise ParameterError(name, f"<= {bound:g} ({why})", value)


# ---------------------------------------------------------------------------------------------------------------
# Parameters and states


@dataclass(frozen=True)
class CollectiveParams:
    """N spins with H = J_z (omega0 = 1): collective bath at ``temperature`` with rate ``gamma``; optional local
    emission/absorption at rate ``gamma_local`` from a bath at ``local_temperature``, and local pure dephasing
    ``dephasing`` (times D[sz_i]). Rates in [0, MAX_RATE], temperatures in [0, MAX_TEMPERATURE], 1 <= N <=
    MAX_LADDER_N (MAX_BLOCK_N with local channels); module docstring."""

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
        for name in ("temperature", "local_temperature"):
            _at_most(name, getattr(self, name), MAX_TEMPERATURE, "the thermal photon number n ~ T must stay finite")
        for name in ("gamma", "gamma_local", "dephasing"):
            _at_most(name, getattr(self, name), MAX_RATE, "rates are in units of omega0")
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
        n = _spins(self.n)
        js = np.asarray(self.j_values, dtype=float).reshape(-1)
        p = np.asarray(self.populations, dtype=float)
        valid = set(_dicke.all_j(n).tolist())
        if js.size == 0 or any(j not in valid for j in js.tolist()) or np.any(np.diff(js) <= 0):
            raise ParameterError("j_values", f"ascending spins of {n} spins-1/2 ({sorted(valid)[:3]}...)", js)
        if p.shape != (js.size, n + 1) or not np.all(np.isfinite(p)) or np.any(p < -1e-12):
            raise ParameterError("populations", f"a finite array >= 0 of shape ({js.size}, {n + 1})", p.shape)
        lo = np.rint(n / 2 - js).astype(np.int64)
        k = np.arange(n + 1)
        outside = (k[None, :] < lo[:, None]) | (k[None, :] > (n - lo)[:, None])
        if np.any(p[outside] != 0):
            a = int(np.nonzero(np.any(outside & (p != 0), axis=1))[0][0])
            raise ParameterError("populations", f"zero outside {lo[a]} <= k <= {n - lo[a]} in sector j = {js[a]}", p[a])
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


def _spins(n: int) -> int:
    """A validated number of spins, 1 <= N <= MAX_LADDER_N (checked before anything is allocated)."""
    n = _validate.integer_at_least("n", n, 1)
    if n > MAX_LADDER_N:
        raise ParameterError("n", f"an integer <= {MAX_LADDER_N}", n)
    return n


def ground_state(n: int) -> DickePopulations:
    """|g...g> = |j = N/2, m = -N/2>."""
    n = _spins(n)
    p = np.zeros((1, n + 1))
    p[0, 0] = 1.0
    return DickePopulations(n, np.array([n / 2]), p)


def dicke_state(n: int, excitations: int) -> DickePopulations:
    """The symmetric Dicke state |D_k> = |j = N/2, m = k - N/2> with k = ``excitations``."""
    n = _spins(n)
    k = _validate.integer_at_least("excitations", excitations, 0)
    if k > n:
        raise ParameterError("excitations", f"an integer in [0, {n}]", excitations)
    p = np.zeros((1, n + 1))
    p[0, k] = 1.0
    return DickePopulations(n, np.array([n / 2]), p)


def thermal_product_state(n: int, temperature: float) -> DickePopulations:
    """The product of N thermal qubits, exp(-H/T)/Z: p(j, k) = d_j q^k (1-q)^{N-k}, q = 1/(e^{1/T}+1)."""
    n = _spins(n)
    temperature = _validate.nonnegative("temperature", temperature)
    if temperature == 0.0:
        return ground_state(n)
    if n > MAX_BLOCK_N:
        raise ParameterError("n", f"an integer <= {MAX_BLOCK_N} for a state carrying every j sector", n)
    js = _dicke.all_j(n)
    beta = 1.0 / temperature
    log_q = -beta - math.log1p(math.exp(-beta))  # log(1/(e^beta + 1))
    log_1q = -math.log1p(math.exp(-beta))
    lo = np.rint(n / 2 - js).astype(np.int64)
    k = np.arange(n + 1)
    inside = (k[None, :] >= lo[:, None]) & (k[None, :] <= (n - lo)[:, None])
    log_d = _dicke.counts(n).log_d[lo]
    with np.errstate(under="ignore"):
        p = np.where(inside, np.exp(log_d[:, None] + k[None, :] * log_q + (n - k[None, :]) * log_1q), 0.0)
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


def _checked(value: float, name: str) -> float:
    if not math.isfinite(value):  # pragma: no cover - a bug, not an input error (inputs are bounded)
        raise ArithmeticError(f"the collective {name} is not finite")
    return value


def _frozen(a: np.ndarray) -> np.ndarray:
    """``a`` itself, made read-only (for arrays created here and not shared)."""
    a.setflags(write=False)
    return a


def _result(params: CollectiveParams, time: float, js: np.ndarray, p: np.ndarray, f: _dicke.Figures) -> CollectiveState:
    """The result for populations ``p`` and sectors ``js`` created by the caller (frozen, not copied)."""
    return CollectiveState(
        params=params,
        time=float(time),
        j_values=_frozen(js),
        populations=_frozen(p),
        sector_weights=_frozen(p.sum(axis=1)),
        energy=_checked(f.energy, "energy"),
        ergotropy=_checked(f.ergotropy, "ergotropy"),
        capacity=_checked(f.capacity, "capacity"),
        purity=_checked(f.purity, "purity"),
    )


def _state_result(params: CollectiveParams, time: float, js: np.ndarray, p: np.ndarray) -> CollectiveState:
    p = np.where(p < 0, 0.0, p)  # rounding of O(1e-16) only; the exact dynamics is positivity preserving
    p = p / p.sum()
    return _result(params, time, np.array(js, dtype=float), p, _dicke.figures(params.n, js, p))


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
    n = _spins(n)
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


def _occupation(temperature: float) -> float:
    """n = 1/(e^{1/T} - 1) for a validated T >= 0 (qbhw.physics.bose_einstein without the checks)."""
    return 0.0 if temperature == 0.0 else math.exp(-1.0 / temperature) / -math.expm1(-1.0 / temperature)


def _rates(params: CollectiveParams) -> dict[str, float]:
    nb, nl = _occupation(params.temperature), _occupation(params.local_temperature)
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


def _sector_bounds(n: int, js: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, size, offset i = k - lo) of every sector on the [a, k] grid."""
    lo = np.rint(n / 2 - js).astype(np.int64)
    size = np.rint(2 * js + 1).astype(np.int64)
    return lo, size, np.arange(n + 1)[None, :] - lo[:, None]


def _ladder_gibbs_grid(n: int, js: np.ndarray, weights: np.ndarray, x: float) -> np.ndarray:
    """w_j x^i (1-x)/(1-x^{2j+1}) at i = m + j inside every sector (ladder_gibbs, vectorised over sectors)."""
    _, size, i = _sector_bounds(n, js)
    inside = (i >= 0) & (i < size[:, None])
    if x >= 1.0:
        vals = np.broadcast_to(1.0 / size[:, None], i.shape)
    elif x <= 0.0:
        vals = (i == 0).astype(float)
    else:
        logx = math.log(x)
        norm = math.expm1(logx) / np.expm1(size * logx)
        with np.errstate(under="ignore"):
            vals = norm[:, None] * np.exp(np.where(inside, i, 0) * logx)
    return np.where(inside, weights[:, None] * vals, 0.0)


def _dephased_grid(n: int, js: np.ndarray, shell: np.ndarray) -> np.ndarray:
    """p(j, k) = P(k) d_j / binom(N, k) inside every sector (floats where they fit, exact division otherwise)."""
    lo, _, i = _sector_bounds(n, js)
    inside = (i >= 0) & (np.arange(n + 1)[None, :] <= (n - lo)[:, None])
    cnt = _dicke.counts(n)
    binom = _dicke.binomials(n)
    if n <= 1000:  # every d_j and binom(N, k) is a finite float; the ratio is correct to 2 ulp
        ratio = cnt.d_float[lo][:, None] / np.array([float(b) for b in binom])[None, :]
    else:
        ratio = np.array([[cnt.d_exact[r] / b for b in binom] for r in lo])
    return np.where(inside, shell[None, :] * ratio, 0.0)


def steady_state(params: CollectiveParams, initial: DickePopulations | None = None) -> CollectiveState:
    """The t -> infinity state: unique (pinned linear solve) or fixed by the initial state's conserved
    quantities (module docstring); ``initial`` defaults to |g...g>."""
    n = params.n
    if params.unique_steady_state:
        if initial is not None:
            _initial(params, initial)
        sysm = _dicke.system(n)
        r = _rates(params)
        p = _dicke.steady_populations(sysm, np.array([r[c] for c in _dicke.CHANNELS]))
        grid = np.zeros((sysm.j_values.size, n + 1))
        grid.reshape(-1)[sysm.grid_index] = p
        figs = _dicke.figures_from_flat(n, p, sysm.r, sysm.k, d_float=sysm.d_float)
        return _result(params, math.inf, sysm.j_values, grid, figs)
    init = _initial(params, initial)
    js, p = _sectors(params, init)
    if params.gamma > 0:  # pure collective: ladder Gibbs state inside every sector, sector weights conserved
        return _state_result(params, math.inf, js, _ladder_gibbs_grid(n, js, p.sum(axis=1), params.boltzmann_x))
    if params.dephasing > 0:  # dephasing only: each excitation shell k is equilibrated, P(k) conserved
        return _state_result(params, math.inf, js, _dephased_grid(n, js, p.sum(axis=0)))
    return _state_result(params, math.inf, js, p)  # no dissipation: every diagonal state is stationary


def _times(times: Sequence[float] | np.ndarray | float) -> np.ndarray:
    try:
        t = np.asarray(times, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ParameterError("time", "finite values >= 0 (at least one)", times) from None
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ParameterError("time", "finite values >= 0 (at least one)", times)
    if t.size > MAX_TIMES:
        raise ParameterError("time", f"at most {MAX_TIMES} values", t.size)
    return t


def _bottom_supported(params: CollectiveParams, js: np.ndarray, p: np.ndarray) -> bool:
    lo, _, _ = _sector_bounds(params.n, js)
    above = np.arange(params.n + 1)[None, :] > lo[:, None]
    return not np.any(p[above] != 0)


def _evolution_cost(a: sp.csr_matrix, times: np.ndarray) -> float:
    """Flops of _dicke.propagate (an estimate): Pade + squarings per distinct step (dense), or ~||A t||_1 + 40 per
    time sparse mat-vecs (expm_multiply)."""
    size = a.shape[0]
    norm = float(spla.norm(a, 1)) if a.nnz else 0.0
    ts = np.sort(times)
    steps = [float(x) for x in np.unique(np.diff(np.concatenate([[0.0], ts]))) if x > 0]
    if size <= DENSE_MAX:  # Python floats: a product beyond the float range is inf, without a warning
        if norm * float(ts[-1]) > MAX_DENSE_STIFFNESS:
            return math.inf
        squarings = sum(max(0.0, math.log2(norm) + math.log2(dt)) if norm > 0 else 0.0 for dt in steps)
        return 2.0 * size**3 * (8.0 * len(steps) + squarings) + 2.0 * size**2 * times.size
    return 2.0 * a.nnz * (1.1 * norm * float(ts[-1]) + 40.0 * times.size)


def _check_cost(flops: float, t_max: float) -> None:
    if math.isinf(flops):
        raise ParameterError(
            "time",
            f"such that ||A||_1 t <= {MAX_DENSE_STIFFNESS:.0e} for these parameters (a dense matrix exponential "
            "needs log2(||A||_1 t) squarings; steady_state gives t -> infinity)",
            t_max,
        )
    if flops > MAX_EVOLUTION_FLOPS:
        raise ParameterError(
            "time",
            f"a shorter time (or fewer distinct time steps): the rate equation for these parameters would cost "
            f"~{flops:.2g} flops (limit {MAX_EVOLUTION_FLOPS:.0e})",
            t_max,
        )


def _propagate(a: sp.csr_matrix, p0: np.ndarray, times: np.ndarray) -> np.ndarray:
    return _dicke.propagate(a, p0, times, dense_max=DENSE_MAX)


def _evolve_populations(
    params: CollectiveParams, init: DickePopulations, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    js, p = _sectors(params, init)
    n = params.n
    if (times.size * js.size * (n + 1) * 8) > MAX_TRAJECTORY_BYTES:
        raise ParameterError(
            "time", f"fewer values: {times.size} times x {js.size} sectors x {n + 1} levels exceed 1 GB", times.size
        )
    if not params.carries_all_sectors:
        # pure collective: independent ladders, one per carried sector
        out = np.zeros((times.size, *p.shape))
        bottom = _bottom_supported(params, js, p)
        plans = []
        cost = 0.0
        for a, j in enumerate(js):
            lo, hi = _dicke.k_range(n, float(j))
            w = p[a].sum()
            if bottom and (params.n_thermal == 0.0 or params.gamma == 0.0 or hi == lo):
                plans.append(("static", a, lo, hi, w, None))  # nothing below the bottom, no absorption: stationary
            elif bottom:
                plans.append(("ladder", a, lo, hi, w, None))
                cost += 2.0 * times.size * (hi - lo + 1) ** 2
            else:
                a_mat = _dicke.generator(_dicke.layout(n, np.array([j])), **_rates(params))
                plans.append(("rate", a, lo, hi, w, a_mat))
                cost += _evolution_cost(a_mat, times)
        _check_cost(cost, float(times.max()))
        for kind, a, lo, hi, w, a_mat in plans:
            if kind == "static":
                out[:, a, lo] = w
            elif kind == "ladder":
                out[:, a, lo : hi + 1] = w * _dicke.ladder_from_bottom(
                    params.boltzmann_x, params.n_thermal, params.gamma, hi - lo + 1, times
                )
            else:
                assert a_mat is not None
                out[:, a, lo : hi + 1] = _propagate(a_mat, p[a, lo : hi + 1], times)
        return js, out
    lay = _dicke.layout(n, js)
    a_mat = _dicke.generator(lay, **_rates(params))
    _check_cost(_evolution_cost(a_mat, times), float(times.max()))
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
    figs = [_dicke.figures(params.n, js, pk) for pk in pops]
    values = {
        name: _readonly([_checked(getattr(f, name), name) for f in figs])
        for name in ("energy", "ergotropy", "capacity", "purity")
    }
    return CollectiveTrajectory(
        params=params,
        times=_readonly(t),
        j_values=_readonly(js),
        populations=_readonly(pops),
        sector_weights=_readonly(pops.sum(axis=2)),
        **values,
    )


def state_at(params: CollectiveParams, time: float, initial: DickePopulations | None = None) -> CollectiveState:
    """rho(time) from ``initial`` (default |g...g>) and its figures of merit."""
    t = _times(time)
    if t.size != 1:
        raise ParameterError("time", "a single value >= 0", time)
    init = _initial(params, initial)
    js, pops = _evolve_populations(params, init, t)
    return _state_result(params, float(t[0]), js, pops[0])


# ------------------------------------------------------------------------------ dense 2^N matrices

#: largest N for dicke_density_matrix (a dense 2^N x 2^N matrix)
MAX_MATRIX_N = 10


def collective_hamiltonian(n: int) -> np.ndarray:
    """J_z = (1/2) sum_i sz_i on 2^N (diagonal, big-endian): entry = (number of excited cells) - N/2."""
    n = _validate.integer_at_least("n", n, 1)
    if n > MAX_MATRIX_N:
        raise ParameterError("n", f"an integer <= {MAX_MATRIX_N} for a dense 2^N matrix", n)
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
