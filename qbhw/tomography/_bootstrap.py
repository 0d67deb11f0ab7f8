"""Interval primitives shared by the estimators: the Interval result, one-sided normal bounds of linear statistics
with their exact multinomial variance, non-parametric resampling, the sample split, and the argument checks with
their size limits. The construction that uses them is described in docs/tomography_intervals.md.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError

RESAMPLING = "nonparametric-multinomial"
#: largest number of bootstrap replicates (time grows linearly: ~2 ms per replicate at 6 qubits on one core)
MAX_BOOTSTRAP = 20_000
#: largest number of shots of one setting: keeps every count, and a sum of counts over up to 3^8 settings,
#: exact in int64 (2^50 * 3^8 < 2^63) and every frequency exact to double rounding; numpy's multinomial takes any
#: int64, so this is a limit of the bookkeeping, not of the sampler
MAX_SHOTS_PER_SETTING = 2**50
#: numpy's hypergeometric sampler needs fewer shots than this; beyond it shots are thinned independently
_HYPERGEOMETRIC_LIMIT = 10**9


@dataclass(frozen=True)
class Interval:
    """A point estimate with its interval: ``ci`` = (low, high), each end a one-sided confidence bound at level
    (1 + confidence) / 2, clipped to the figure's physical range; the point always lies inside. ``std``: standard
    error of the point estimator; ``bias``: its estimated bias (0 for unbiased estimators, bootstrap mean minus
    value otherwise). ``estimate`` names the point estimator. NaN where no interval was computed."""

    value: float
    ci: tuple[float, float]
    std: float
    bias: float
    estimate: str = ""

    @property
    def corrected(self) -> float:
        """Bias-corrected estimate value - bias."""
        return self.value - self.bias

    def contains(self, x: float) -> bool:
        return self.ci[0] <= x <= self.ci[1]

    def __float__(self) -> float:
        return self.value


def normal_quantile(level: float) -> float:
    """Phi^-1(level) of the standard normal distribution."""
    return statistics.NormalDist().inv_cdf(level)


def finish(
    value: float,
    low: float,
    high: float,
    physical: tuple[float, float],
    std: float,
    bias: float,
    estimate: str,
) -> Interval:
    """An Interval with both ends clipped to the ``physical`` range and the point inside: ends that cross are
    reported in increasing order, and the point is clipped into [low, high] (a point estimate cannot be less
    plausible than the interval's own ends)."""
    lo_p, hi_p = physical
    lo = min(max(low, lo_p), hi_p)
    hi = min(max(high, lo_p), hi_p)
    if lo > hi:
        lo, hi = hi, lo
    v = min(max(value, lo), hi)
    return Interval(float(v), (float(lo), float(hi)), float(std), float(bias), estimate)


def linear_interval(value: float, std: float, z: float, physical: tuple[float, float], estimate: str) -> Interval:
    """The interval of a linear estimate with standard deviation ``std``: value -/+ z std (``finish``), no bias."""
    return finish(value, value - z * std, value + z * std, physical, std, 0.0, estimate)


def capped_upper(plug_in: float, sd_plug: float, energy: float, sd_energy: float, floor: float, z: dict) -> float:
    """Upper end of ergotropy: min(plug-in + z_half sd, energy + z_quarter sd_energy - floor), ``floor`` the least
    passive energy a state of the purity's upper end can have (``min_linear_on_purity_ball``): each bound at half
    the end's miss level, the cap's half split between its energy and purity bounds (docs/tomography_intervals.md)."""
    cap = energy + z["quarter"] * sd_energy - floor
    return min(plug_in + z["half"] * sd_plug, cap)


def no_interval(value: float, estimate: str) -> Interval:
    return Interval(float(value), (math.nan, math.nan), math.nan, math.nan, estimate)


def linear_statistic(g0: np.ndarray | float, a: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value, std) of statistics g0 + sum_{s,m} a[..., s, m] f_s(m), f the frequencies of ``counts`` (S, M).

    The variance is the exact multinomial one, sum_s Var_s(a_s) / N_s, with Var_s estimated without bias from the
    data: (sum_m a^2 f - (sum_m a f)^2) N_s / (N_s - 1) / N_s. Settings need at least 2 shots (checked by the
    callers)."""
    shots = counts.sum(axis=-1).astype(float)
    f = counts / shots[:, None]
    mean_s = np.sum(a * f, axis=-1)
    var_s = (np.sum(a * a * f, axis=-1) - mean_s**2) / np.maximum(shots - 1.0, 1.0)
    value = np.asarray(g0) + mean_s.sum(axis=-1)
    return value, np.sqrt(np.clip(var_s.sum(axis=-1), 0.0, None))


def resample(rng: np.random.Generator, counts: np.ndarray, size: int) -> np.ndarray:
    """``size`` non-parametric replicates (size, S, M) of counts (S, M): multinomial per setting at the observed
    frequencies with the observed shots."""
    shots = counts.sum(axis=-1)
    return rng.multinomial(shots, counts / shots[:, None], size=(size, counts.shape[0]))


def split_halves(rng: np.random.Generator, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, B): for every setting, floor(N_s / 2) of the observed shots drawn without replacement into A
    (multivariate hypergeometric); for N_s >= 1e9 each shot joins A with probability 1/2 instead (binomial
    thinning). Either way the assignment ignores the outcomes, so given the shot numbers A and B are independent
    multinomial samples of the same probabilities."""
    rows = []
    for row in counts:
        total = int(row.sum())
        if total < _HYPERGEOMETRIC_LIMIT:
            rows.append(rng.multivariate_hypergeometric(row, total // 2))
        else:
            rows.append(rng.binomial(row, 0.5))
    a = np.stack(rows).astype(counts.dtype)
    return a, counts - a


def check_common(bootstrap: int, confidence: float, seed: int) -> tuple[int, float, int]:
    """Validated (bootstrap, confidence, seed): bootstrap 0 (point values only) or 2..MAX_BOOTSTRAP."""
    bootstrap = _validate.integer_at_least("bootstrap", bootstrap, 0)
    if bootstrap == 1 or bootstrap > MAX_BOOTSTRAP:
        raise ParameterError("bootstrap", f"0 (no intervals) or an integer in [2, {MAX_BOOTSTRAP}]", bootstrap)
    confidence = _validate.finite("confidence", confidence)
    if not 0.0 < confidence < 1.0:
        raise ParameterError("confidence", "in (0, 1)", confidence)
    seed = _validate.integer_at_least("seed", seed, 0)
    return bootstrap, confidence, seed


def check_shots(counts: np.ndarray) -> None:
    """Every setting has at most MAX_SHOTS_PER_SETTING shots."""
    top = int(counts.sum(axis=-1).max())
    if top > MAX_SHOTS_PER_SETTING:
        raise ParameterError("shots", f"at most {MAX_SHOTS_PER_SETTING} (2^50) per setting", top)


def streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(bootstrap stream, split stream) of an estimate: default_rng(seed) and default_rng(SeedSequence(seed,
    spawn_key=(1,))), independent of each other."""
    return np.random.default_rng(seed), np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))


def levels(confidence: float) -> dict[str, float]:
    """Normal quantiles of the one-sided bounds (docs/tomography_intervals.md): each end misses with probability
    a = (1 - confidence) / 2; an end that is the better of two bounds gives each a / 2, and the purity-capped
    bound splits its a / 2 again between its energy and its purity bound."""
    a = 0.5 * (1.0 - confidence)
    return {"end": normal_quantile(1 - a), "half": normal_quantile(1 - a / 2), "quarter": normal_quantile(1 - a / 4)}


#: the Cornish-Fisher term of the purity's ends is a first-order correction; beyond this skewness (a one-qubit
#: register at the maximally mixed state: 2 sqrt(2) / sqrt(3) = 1.63) it is capped
MAX_PURITY_SKEWNESS = 2.0


@dataclass(frozen=True)
class PurityError:
    """The error model of an unbiased purity estimate P_hat = sum_P (c_hat_P^2 - v_P) / d (Tr of a state's square
    in Pauli or sector coordinates c, v_P the unbiased variance estimates): ``variance`` its estimated variance,
    of which ``second`` is the second-order part 2 tr S^2 / d^2, and ``sensitivity`` how much the variance
    estimate itself rises per unit of noise in P_hat.

    For Gaussian c_hat with covariance S, Var = (4 c.S.c + 2 tr S^2) / d^2. The delta-method variance at the
    data, (4 / d^2) c_hat.S.c_hat, exceeds the first term by (4 / d^2) tr S^2 on average, so the estimate is
    delta - second, with tr S^k from bootstrap deviations of c_hat (``purity_error``). That estimate contains
    (8 / d^2) c.S.delta + (4 / d^2) delta.S.delta, which move with the two noise terms of P_hat itself,
    L = 2 c.delta / d and Q = (|delta|^2 - sum v) / d (slopes (4 / d) c.S^2.c / c.S.c and (4 / d) tr S^3 / tr S^2):
    a low P_hat comes with a low variance estimate, and P_hat -/+ z sigma misses the truth from above more often
    than from below (4.1 % against 1.1 % for a 4-qubit register near the maximally mixed state). Under the
    hypothesis that the truth is P, P_hat - P = x is noise, shared between L and Q in proportion to their
    variances; so the variance at the truth is variance - sensitivity x, and ``bounds`` solve
    x^2 = z^2 (variance - sensitivity x)."""

    value: float
    variance: float
    second: float
    sensitivity: float
    skewness: float = 0.0

    @property
    def std(self) -> float:
        return math.sqrt(self.variance)

    def bounds(self, z: float) -> tuple[float, float]:
        """(lower, upper) one-sided bounds at the normal quantile z (see the class doc)."""
        shift = (z * z - 1.0) * self.skewness / 6.0

        def root(zq: float) -> tuple[float, float]:  # (positive root, magnitude of the negative root)
            k = zq * zq * self.sensitivity
            r = math.sqrt(k * k + 4.0 * zq * zq * self.variance)
            return 0.5 * (r - k), 0.5 * (r + k)

        return self.value - root(z + shift)[0], self.value + root(max(z - shift, 0.0))[1]


def purity_error(
    value: float, delta_variance: float, coords: np.ndarray, deviations: np.ndarray, d: float
) -> PurityError:
    """PurityError from the delta-method variance, the estimated coordinates c_hat (m,) and bootstrap deviations
    (B, m) of them. Moments of the covariance S come from products over distinct replicates (unbiased for
    independent deviations): tr S^2, tr S^3 from pairs and triples of Gram entries; c.S.c and c.S^2.c from the
    projections u_b = dev_b . c_hat, less the noise's share (E[c_hat.S.c_hat] = c.S.c + tr S^2, likewise S^2).
    With fewer than 3 replicates: the delta-method variance alone (larger on average) and no correction."""
    b = deviations.shape[0]
    if b < 3:
        return PurityError(value, delta_variance, 0.0, 0.0)
    gram = deviations @ deviations.T
    gram = gram - np.diag(np.diag(gram))
    tr2 = float(np.sum(gram**2)) / (b * (b - 1))
    tr3 = float(np.trace(gram @ gram @ gram)) / (b * (b - 1) * (b - 2))
    u = deviations @ coords  # c_hat = c + delta: remove the noise's own share from both moments
    csc = float(np.mean(u**2)) - tr2
    cs2c = float(u @ gram @ u) / (b * (b - 1)) - tr3
    second = 2.0 * tr2 / d**2
    variance = max(delta_variance - second, second)
    slope_q = tr3 / tr2 if tr2 > 0.0 else 0.0
    slope_l = max(cs2c, 0.0) / csc if csc > 0.0 else 0.0
    if variance <= 0.0:  # deterministic counts (every setting a single outcome): no spread, nothing to correct
        return PurityError(value, 0.0, 0.0, 0.0)
    sensitivity = (4.0 / d) * (slope_l * (variance - second) + slope_q * second) / variance
    skewness = (8.0 * max(tr3, 0.0) + 24.0 * max(cs2c, 0.0)) / d**3 / variance**1.5
    return PurityError(value, variance, second, max(sensitivity, 0.0), min(skewness, MAX_PURITY_SKEWNESS))
