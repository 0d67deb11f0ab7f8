"""Battery figures of merit from tomography data, with bootstrap confidence intervals.

Bootstrap: NON-PARAMETRIC — every replicate redraws, for each setting independently, the same number of shots
from the observed outcome frequencies (multinomial), and refits with the same fitter. Chosen over the
parametric bootstrap because it needs no model of the device: if the readout model or the assumed state family
is off, the observed spread is still what is resampled. Its "true" world is the empirical distribution, whose
plug-in figure is exactly the point estimate, as the pivotal interval requires.

Interval: BASIC (pivotal) bootstrap, [2 t - q(1 - a/2), 2 t - q(a/2)] with t the point estimate and q the
quantiles of the replicates, then clipped to the physical range of the figure. Ergotropy is convex in rho, so
t is biased upward (docs/physics.md section 0); the replicates carry the same bias relative to t, and reflecting
them around t removes it to leading order. A percentile interval [q(a/2), q(1-a/2)] would instead shift the
interval by the bias and never contain W = 0 for a passive state; the basic interval does (its lower end is
2t - q(1-a/2) and for a passive state t ~ sigma^2 chi^2 while q(1-a/2) exceeds 2t except with negligible
probability). ``bias`` = mean(replicates) - t estimates E[t] - true value; ``value - bias`` is the
bias-corrected estimate.

Pivot of the full-Pauli intervals: the LINEAR-INVERSION estimate, whatever ``method`` gives the point value.
The physical-state constraint (projection, MLE) is not smooth at the boundary of the state space: in the
bootstrap world the centre (the data's own estimate) often lies on or outside that boundary while the true
state lies inside, so the replicates of a constrained fit carry a spurious inward bias and the pivotal interval
under-covers (measured: 0.91-0.92 instead of 0.95 for a 2-qubit state with smallest eigenvalue 0.04 at 400 shots
per setting; linear pivot: 0.95). The linear estimate is a smooth (linear) function of the frequencies, so its
pivot is consistent. ``value``, ``std`` and ``bias`` belong to the estimate of ``method``.

Lower end of the ergotropy interval: SAMPLE SPLIT. At a (nearly) degenerate spectrum W is not differentiable,
the plug-in estimate is biased upward by more than its spread and the bootstrap under-estimates that bias, so
the basic lower end is too high (measurements below). The counts of every setting are therefore split at random
into halves A and B (multivariate hypergeometric thinning of the observed shots: given the shot numbers, A and
B are independent multinomial samples of the same probabilities). The state fitted on A (with ``method``)
fixes U_A = extraction_unitary of its battery part; the work U_A extracts from the TRUE state,

    w(rho) = Tr[rho_B H] - Tr[U_A rho_B U_A^dag H] = Tr[rho_B G],   G = H - U_A^dag H U_A,

satisfies W(rho) >= w(rho) (W maximises over unitaries) and is LINEAR in rho, so its linear-inversion estimate
w_hat from B alone is unbiased given A, whatever the spectrum. w_hat = g0 + sum_{s,m} a_{s,m} f_s(m) is a
linear function of B's frequencies, so its variance is exactly sum_s [sum_m a^2 p_s(m) - (sum_m a p_s(m))^2]
/ N_s; it is evaluated at B's frequencies and the bound uses the normal quantile: ``ergotropy_lower`` =
max(w_hat - z sigma_hat, 0), z = Phi^-1((1 + confidence) / 2), a one-sided lower confidence bound for W at
level (1 + confidence) / 2. (Normal rather than a bootstrap of w_hat: for a linear statistic the
non-parametric bootstrap reproduces this same plug-in variance plus Monte-Carlo noise, its only extra content
being a skewness of relative order N^-1/2; the closed form is deterministic given the split and costs one
matrix product.) The reported ergotropy interval is (min(basic low, ergotropy_lower), basic high): where the
spectrum is (nearly) degenerate the basic upper end is conservative, because the convexity bias pushes the
pivot up by more than the bootstrap removes; the lower end misses W at most with the split bound's
probability (1 - confidence) / 2. In the smooth regime the upper end is only as good as the basic bootstrap
(measured miss rate 0.038 +- 0.006 instead of 0.025 for the non-passive qubit below, 500 shots per setting).
Price: B has half the shots and U_A is fitted on only half of them, so the split bound lies further below
than the basic lower end (mean interval width, micromaser cavity below at 8192 shots per setting: 0.069
basic, 0.124 with the split; 1000 shots: 0.20 -> 0.43). ``extractable_work`` is the
Interval of w (two-sided, same z; bias 0 by construction). The split uses its own random stream derived from
the same seed (``numpy.random.SeedSequence(seed, spawn_key=(1,))``), so the bootstrap stream
(``default_rng(seed)``) is unchanged by it and does not depend on it.

Measured coverage of the BASIC interval alone (before the split lower end): at a fully DEGENERATE spectrum W
is not differentiable and the bootstrap is inconsistent; for the maximally mixed 2-qubit state with
H = diag(0, 1, 2, 3) and 1000 shots per setting the 95 % interval contains W = 0 only ~54-58 % of the time
(every pivot choice). Passive states with distinct
populations (Gibbs states, decreasing populations) and the maximally mixed qubit are fine (0.94-1.0).
The same non-smoothness spoils the intervals of LARGE registers whose state has a near-degenerate bulk of small
eigenvalues: 4 qubits, rho = 0.8 |psi><psi| + 0.2 random, 1000 shots per setting, H = diag(0..15): the bias
(+0.14 projected, +0.80 linear) dwarfs the spread (0.056) and is under-estimated by the bootstrap; coverage
0.27 (linear pivot) / 0.5 (projected pivot) over 60 data sets (0.17 over 200 for another draw); the 3-qubit
micromaser cavity after 10 noisy collisions (eigenvalues 0.07-0.10 in a bulk of six) 0.855 at 1000 shots per
setting, 0.96 at 8192. With the split lower end (200-300 data sets each): 1.00, 0.973, 0.995 and 0.98; the
non-passive qubit 0.936 -> 0.954 (1000 data sets); tests/test_tomography_split.py.

The Dicke-Z estimator does the same with the sector populations: half A fixes the permutation of sectors onto
energy levels, half B estimates its work linearly (``_dicke_split_bound``); the bound holds under
DICKE_ASSUMPTION, like the point value.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from qbhw import _validate
from qbhw._arrays import readonly
from qbhw.errors import ParameterError
from qbhw.physics import capacity, ergotropy, extraction_unitary, partial_trace, purity, stored_energy
from qbhw.physics.distance import fidelity
from qbhw.physics.thermodynamics import capacity_from_spectra, passive_energy_from_spectra
from qbhw.tomography._data import ReadoutModel, TomographyData
from qbhw.tomography._fit import (
    _averaging_operator,
    _check_state,
    _linear_paulis,
    _mle,
    _Model,
    _model_for,
    _project,
    _require_complete,
    _to_density,
    _to_paulis,
    project_to_simplex,
)

INTERVAL_METHOD_DICKE = "basic; ergotropy: basic upper, lower = min(basic, split-permutation bound)"
INTERVAL_METHOD_FULL = "basic, linear-inversion pivot; ergotropy: basic upper, lower = min(basic, split-unitary bound)"
RESAMPLING = "nonparametric-multinomial"
METHODS = ("linear", "projected", "mle")
#: replicates are refitted in chunks of this many (memory ~ chunk x settings x 2^n)
_CHUNK = 50


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap summary: ``ci`` = (low, high) at the estimate's confidence,
    ``std`` = standard deviation of the replicates, ``bias`` = mean(replicates) - value. NaN when no bootstrap."""

    value: float
    ci: tuple[float, float]
    std: float
    bias: float

    @property
    def corrected(self) -> float:
        """Bias-corrected estimate value - bias."""
        return self.value - self.bias

    def contains(self, x: float) -> bool:
        return self.ci[0] <= x <= self.ci[1]

    def __float__(self) -> float:
        return self.value


def _interval(value: float, reps: np.ndarray, confidence: float, low: float, high: float) -> Interval:
    if reps.size == 0:
        return Interval(value, (math.nan, math.nan), math.nan, math.nan)
    a = 1.0 - confidence
    q_lo, q_hi = np.quantile(reps, [a / 2, 1 - a / 2])
    lo = min(max(2 * value - q_hi, low), high)
    hi = min(max(2 * value - q_lo, low), high)
    return Interval(
        float(value),
        (float(lo), float(hi)),
        float(np.std(reps, ddof=1)) if reps.size > 1 else 0.0,
        float(np.mean(reps) - value),
    )


@dataclass(frozen=True)
class BatteryEstimate:
    """Battery figures from measured counts, each an Interval (point estimate, basic-bootstrap CI, std, bias).

    ``estimator``: "full-pauli" (state tomography of the register) or "dicke-z" (excitation-number distribution
    from Z counts, assuming each sector is the symmetric Dicke state). ``state``: the fitted register state
    (physics order) for "full-pauli", None for "dicke-z"; ``excitation_distribution``: P(k), k = 0..N, for
    "dicke-z", None otherwise. ``battery``: register positions forming the battery. ``energy`` is the stored
    energy Tr[rho_B H] - min eig H. ``fidelity`` (squared convention) to ``target`` on the whole register, or None.

    ``ergotropy_lower``: one-sided lower confidence bound for W at level (1 + confidence) / 2 from the sample
    split (module doc), clipped to [0, W_max]; ``ergotropy.ci[0]`` = min(basic low, ergotropy_lower).
    ``extractable_work``: w_hat, the linear estimate on half B of the work the extraction unitary fitted on
    half A extracts from the true state (std = its exact multinomial std at B's frequencies, bias = 0, ci =
    w_hat -/+ z std). Both are computed whatever ``bootstrap`` is ("dicke-z": U_A is a permutation of the
    Dicke sectors onto energy levels, fitted and scored under the assumption); NaN / None when a setting has
    fewer than 2 shots.
    """

    estimator: str
    method: str
    battery: tuple[int, ...]
    ergotropy: Interval
    energy: Interval
    capacity: Interval
    purity: Interval
    fidelity: Interval | None
    state: np.ndarray | None = field(repr=False)
    excitation_distribution: np.ndarray | None
    confidence: float
    bootstrap: int
    interval_method: str
    resampling: str
    seed: int
    readout: ReadoutModel | None
    shots: int
    assumption: str = ""
    ergotropy_lower: float = math.nan
    extractable_work: Interval | None = None

    def to_dict(self) -> dict[str, object]:
        """The one JSON projection of an estimate (the keys the README documents for ``measured``): point values
        ``energy``, ``ergotropy``, ``capacity``, ``purity`` (and ``fidelity``), ``*_ci`` as [low, high], ``*_std``,
        ``*_bias``; with a split bound ``ergotropy_lower``, ``extractable_work``, ``extractable_work_ci``,
        ``extractable_work_std``; and how: ``estimator``, ``fitter``, ``interval``, ``resampling``, ``bootstrap``,
        ``confidence``, ``bootstrap_seed``, ``readout_mitigated``, ``shots`` (and ``assumption`` when there is one)."""
        out: dict[str, object] = {}
        figures = {"energy": self.energy, "ergotropy": self.ergotropy, "capacity": self.capacity, "purity": self.purity}
        if self.fidelity is not None:
            figures["fidelity"] = self.fidelity
        for name, iv in figures.items():
            out[name] = float(iv.value)
            out[f"{name}_ci"] = [float(iv.ci[0]), float(iv.ci[1])]
            out[f"{name}_std"] = float(iv.std)
            out[f"{name}_bias"] = float(iv.bias)
        if not math.isnan(self.ergotropy_lower):
            out["ergotropy_lower"] = float(self.ergotropy_lower)
        if self.extractable_work is not None:
            out["extractable_work"] = float(self.extractable_work.value)
            out["extractable_work_ci"] = [float(self.extractable_work.ci[0]), float(self.extractable_work.ci[1])]
            out["extractable_work_std"] = float(self.extractable_work.std)
        out.update(
            estimator=self.estimator,
            fitter=self.method,
            interval=self.interval_method,
            resampling=self.resampling,
            bootstrap=self.bootstrap,
            confidence=self.confidence,
            bootstrap_seed=self.seed,
            readout_mitigated=self.readout is not None,
            shots=self.shots,
        )
        if self.assumption:
            out["assumption"] = self.assumption
        return out


def _check_common(bootstrap: int, confidence: float, seed: int) -> tuple[int, float, int]:
    bootstrap = _validate.integer_at_least("bootstrap", bootstrap, 0)
    if bootstrap == 1:
        raise ParameterError("bootstrap", "0 (no intervals) or an integer >= 2", bootstrap)
    confidence = _validate.finite("confidence", confidence)
    if not 0.0 < confidence < 1.0:
        raise ParameterError("confidence", "in (0, 1)", confidence)
    seed = _validate.integer_at_least("seed", seed, 0)
    return bootstrap, confidence, seed


def _check_hamiltonian(hamiltonian: np.ndarray, dim: int) -> np.ndarray:
    h = np.asarray(hamiltonian, dtype=complex)
    if h.shape != (dim, dim):
        raise ParameterError("hamiltonian", f"a ({dim}, {dim}) matrix on the battery positions", h.shape)
    if not np.all(np.isfinite(h)) or not np.allclose(h, h.conj().T, atol=1e-10):
        raise ParameterError("hamiltonian", "a finite Hermitian matrix", "non-Hermitian matrix")
    return 0.5 * (h + h.conj().T)


def _resample(rng: np.random.Generator, counts: np.ndarray, size: int) -> np.ndarray:
    """``size`` non-parametric replicates (size, S, M) of counts (S, M): multinomial per setting."""
    shots = counts.sum(axis=-1)
    return rng.multinomial(shots, counts / shots[:, None], size=(size, counts.shape[0]))


def _embed_positions(op: np.ndarray, keep: tuple[int, ...], n: int) -> np.ndarray:
    """op (on the sorted register positions ``keep``, physics order) (x) identity on the other qubits, as a
    2^n x 2^n matrix in physics order: Tr[rho . result] = Tr[partial_trace(rho, keep) op]."""
    if len(keep) == n:
        return op
    order = list(keep) + [p for p in range(n) if p not in keep]
    t = np.kron(op, np.eye(2 ** (n - len(keep)))).reshape([2] * (2 * n))
    perm = [order.index(p) for p in range(n)]
    return t.transpose(perm + [n + q for q in perm]).reshape(2**n, 2**n)


#: numpy's hypergeometric sampler needs fewer shots than this; beyond it shots are thinned independently
_HYPERGEOMETRIC_LIMIT = 10**9


def _split_halves(rng: np.random.Generator, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, B): for every setting, floor(N_s / 2) of the observed shots drawn without replacement into A
    (multivariate hypergeometric); for N_s >= 1e9 (exact-probability test data) each shot joins A with
    probability 1/2 instead (binomial thinning). Either way the assignment ignores the outcomes, so given the
    shot numbers A and B are independent multinomial samples."""
    rows = []
    for row in counts:
        total = int(row.sum())
        if total < _HYPERGEOMETRIC_LIMIT:
            rows.append(rng.multivariate_hypergeometric(row, total // 2))
        else:
            rows.append(rng.binomial(row, 0.5))
    a = np.stack(rows).astype(counts.dtype)
    return a, counts - a


def _linear_functional(model: _Model, op: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """(value, std) of the linear-inversion estimate of Tr[rho op] (op on the whole register, Hermitian) from
    counts (S, M): value = g_0 + sum_{s,m} a_{s,m} f_s(m) with g_P = Tr[P op] / 2^n, std the exact multinomial
    standard deviation sqrt(sum_s [sum_m a^2 p - (sum_m a p)^2] / N_s) at p = the observed frequencies."""
    shots = counts.sum(axis=-1).astype(float)
    g = _to_paulis(model, op) / 2**model.n
    g0, g[0] = g[0], 0.0  # c_I = 1 is fixed, not estimated
    average = _averaging_operator(model, shots)
    coef = (average.T @ g).reshape(model.idx.shape)  # weight of the per-setting estimate c^(s)_j
    a = coef @ model.k_inv  # weight of the frequency f_s(m)
    f = counts / shots[:, None]
    mean_s = np.sum(a * f, axis=1)
    var = np.sum((np.sum(a * a * f, axis=1) - mean_s**2) / shots)
    return float(g0 + mean_s.sum()), math.sqrt(max(float(var), 0.0))


def _split_bound(
    rng: np.random.Generator,
    model: _Model,
    counts: np.ndarray,
    fit_state: Callable[[np.ndarray], np.ndarray],
    keep: tuple[int, ...],
    h: np.ndarray,
    confidence: float,
) -> tuple[float, Interval | None]:
    """(ergotropy_lower, extractable_work) from a sample split (module doc); (NaN, None) if a setting has < 2
    shots. ``fit_state`` maps counts (S, M) to the fitted register state (the estimate's fitter)."""
    if counts.sum(axis=-1).min() < 2:
        return math.nan, None
    n = model.n
    half_a, half_b = _split_halves(rng, counts)
    rho_a = fit_state(half_a)
    rb_a = rho_a if len(keep) == n else partial_trace(rho_a, [2] * n, keep)
    u = extraction_unitary(rb_a, h)
    gain = h - u.conj().T @ h @ u  # w(rho) = Tr[rho_B gain]
    gain = 0.5 * (gain + gain.conj().T)
    value, std = _linear_functional(model, _embed_positions(gain, keep, n), half_b)
    g = np.linalg.eigvalsh(gain)
    e = np.linalg.eigvalsh(h)
    return _normal_bound(value, std, confidence, (float(g[0]), float(g[-1])), float(e[-1] - e[0]))


def _normal_bound(
    value: float, std: float, confidence: float, w_range: tuple[float, float], w_max: float
) -> tuple[float, Interval]:
    """(ergotropy_lower, Interval of w): z = Phi^-1((1 + confidence) / 2); w's interval value -/+ z std clipped
    to ``w_range`` (range of w over all states), the ergotropy bound value - z std clipped to [0, w_max]."""
    z = statistics.NormalDist().inv_cdf(0.5 * (1.0 + confidence))
    lo, hi = w_range
    lower = min(max(value - z * std, 0.0), w_max)
    ci = (min(max(value - z * std, lo), hi), min(max(value + z * std, lo), hi))
    return lower, Interval(value, ci, std, 0.0)


def estimate_battery(
    data: TomographyData,
    hamiltonian: np.ndarray,
    *,
    battery: Sequence[int] | None = None,
    target: np.ndarray | None = None,
    method: str = "projected",
    readout: ReadoutModel | None = None,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int,
) -> BatteryEstimate:
    """Fit the register state and score the battery part with ``hamiltonian``, with bootstrap intervals.

    ``battery``: register positions of the battery (physics order kept; all if None); rho_B = partial trace of
    the fitted register state over the others; ``hamiltonian`` acts on rho_B (dimension 2^len(battery)).
    ``method``: "projected" (Smolin-Gambetta-Smith; default, fast), "mle" (R rho R maximum likelihood; every
    replicate is refitted, slow beyond ~3 qubits) or "linear" (unbiased, may be unphysical). ``readout``: the
    readout model entering the measurement model (None: ideal readout). ``target``: register state for the
    fidelity. Module doc: resampling, interval construction and the sample-split lower end of the ergotropy
    interval. The bootstrap uses default_rng(seed), the split default_rng(SeedSequence(seed, spawn_key=(1,))).
    """
    model = _model_for(data, readout)
    _require_complete(model)
    n = data.num_qubits
    method = _validate.one_of("method", method, METHODS)
    bootstrap, confidence, seed = _check_common(bootstrap, confidence, seed)
    if battery is None:
        keep = tuple(range(n))
    else:
        if isinstance(battery, str) or not isinstance(battery, Sequence) or len(battery) == 0:
            raise ParameterError("battery", "a non-empty sequence of register positions", battery)
        keep = tuple(_validate.integer_at_least("battery", b, 0) for b in battery)
        if len(set(keep)) != len(keep) or max(keep) >= n:
            raise ParameterError("battery", f"distinct register positions in 0..{n - 1}", list(battery))
        keep = tuple(sorted(keep))
    db = 2 ** len(keep)
    h = _check_hamiltonian(hamiltonian, db)
    if target is not None:
        target = _check_state(target, "target")
        if target.shape != (2**n, 2**n):
            raise ParameterError("target", f"a ({2**n}, {2**n}) register state", target.shape)

    counts = np.asarray(data.array)
    average = _averaging_operator(model, counts.sum(axis=-1))

    def fit(
        c: np.ndarray, start: np.ndarray | None = None, avg: sp.csr_matrix | None = average
    ) -> tuple[np.ndarray, np.ndarray]:
        """(linear-inversion estimate, estimate of ``method``) for counts (S, M) or a stack (B, S, M) with the
        shots per setting of ``avg`` (None: of ``c``)."""
        lin = _to_density(model, _linear_paulis(model, c, avg))
        if method == "linear":
            return lin, lin
        rho = _project(lin)
        if method == "mle":
            if rho.ndim == 2:
                return lin, _mle(model, c, rho if start is None else start)
            # warm start at the point estimate when given, else at each resample's projection
            starts = rho if start is None else [start] * len(c)
            return lin, np.stack([_mle(model, ci, s) for ci, s in zip(c, starts, strict=True)])
        return lin, rho

    def figures(rho: np.ndarray) -> tuple[float, ...]:
        rb = rho if len(keep) == n else partial_trace(rho, [2] * n, keep)
        out = (ergotropy(rb, h), stored_energy(rb, h), capacity(rb, h), purity(rb))
        return out + ((fidelity(rho, target),) if target is not None else ())

    lin_hat, rho_hat = fit(counts)
    point = figures(rho_hat)
    pivot = figures(lin_hat) if method != "linear" else point
    rng = np.random.default_rng(seed)
    reps = np.zeros((bootstrap, len(point)))
    reps_lin = reps if method == "linear" else np.zeros_like(reps)
    for start in range(0, bootstrap, _CHUNK):
        size = min(_CHUNK, bootstrap - start)
        lins, rhos = fit(_resample(rng, counts, size), rho_hat)
        for i in range(size):
            reps[start + i] = figures(rhos[i])
            if method != "linear":
                reps_lin[start + i] = figures(lins[i])
    e = np.linalg.eigvalsh(h)
    width = float(e[-1] - e[0])
    ranges = [(0.0, width), (0.0, width), (0.0, width), (1.0 / db, 1.0), (0.0, 1.0)]
    split_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    lower, work = _split_bound(split_rng, model, counts, lambda c: fit(c, avg=None)[1], keep, h, confidence)
    iv = []
    for k in range(len(point)):
        ci = _interval(pivot[k], reps_lin[:, k], confidence, *ranges[k]).ci
        if k == 0 and bootstrap and not math.isnan(lower):
            ci = (min(ci[0], lower), ci[1])
        iv.append(
            Interval(
                float(point[k]),
                ci,
                float(np.std(reps[:, k], ddof=1)) if bootstrap else math.nan,
                float(np.mean(reps[:, k]) - point[k]) if bootstrap else math.nan,
            )
        )
    return BatteryEstimate(
        estimator="full-pauli",
        method=method,
        battery=keep,
        ergotropy=iv[0],
        energy=iv[1],
        capacity=iv[2],
        purity=iv[3],
        fidelity=iv[4] if target is not None else None,
        state=readonly(rho_hat),
        excitation_distribution=None,
        confidence=confidence,
        bootstrap=bootstrap,
        interval_method=INTERVAL_METHOD_FULL,
        resampling=RESAMPLING,
        seed=seed,
        readout=readout,
        shots=int(counts.sum()),
        ergotropy_lower=lower,
        extractable_work=work,
    )


# ----------------------------------------------------------------------------------- collective (Dicke) estimator

DICKE_ASSUMPTION = (
    "each excitation sector k is the symmetric Dicke state |N/2, k - N/2> (exact for ideal pure "
    "collective dissipation from |g...g>); coherences between sectors are ignored"
)


def _dicke_transfer(readout: ReadoutModel | None, n: int) -> np.ndarray:
    """T[k', k] = P(read weight k' | true state uniform over the C(N, k) strings of weight k) (a symmetric Dicke
    state has exactly this Z distribution). Dynamic programming over qubits on polynomials in z (read 1)."""
    if readout is None:
        return np.eye(n + 1)
    # dp[j] = sum over strings of the first i qubits with j true ones of prod_q f_{x_q, q}(z), as coefficients
    dp = np.zeros((n + 1, n + 1))
    dp[0, 0] = 1.0
    for q in range(n):
        a, b = readout.p1_given_0[q], readout.p0_given_1[q]
        f0 = np.array([1.0 - a, a])  # true 0: read 0 w.p. 1-a, read 1 w.p. a
        f1 = np.array([b, 1.0 - b])
        new = np.zeros_like(dp)
        for j in range(q + 2):
            if j <= q:
                new[j, 1:] += dp[j, :-1] * f0[1]
                new[j] += dp[j] * f0[0]
            if j >= 1:
                new[j, 1:] += dp[j - 1, :-1] * f1[1]
                new[j] += dp[j - 1] * f1[0]
        dp = new
    binom = np.array([math.comb(n, k) for k in range(n + 1)], dtype=float)
    return (dp / binom[:, None]).T  # rows k' (read weight), columns k


def _dicke_figures(p: np.ndarray, n: int, omega: float) -> tuple[float, float, float, float]:
    """(W, E, C, purity) of sum_k p_k |D_k><D_k| with H = (omega/2) sum sigma_z (levels omega k, mult C(N,k))."""
    ks = np.arange(n + 1)
    e = omega * ks
    mult_e = [math.comb(n, k) for k in ks]
    zeros = 2**n - (n + 1)
    vals = np.concatenate([p, [0.0]]) if zeros else p
    mult_r = [1] * (n + 1) + ([zeros] if zeros else [])
    energy = float(np.dot(p, e))
    w = energy - passive_energy_from_spectra(vals, mult_r, e, mult_e)
    c = capacity_from_spectra(vals, mult_r, e, mult_e)
    return w, energy, c, float(np.dot(p, p))


def estimate_dicke(
    data: TomographyData,
    *,
    omega: float = 1.0,
    readout: ReadoutModel | None = None,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int,
) -> BatteryEstimate:
    """Collective battery of N qubits, H = (omega/2) sum_i sigma_z^i, from the all-Z setting only.

    P(k) = probability of k excitations: the read-weight histogram h(k') of the "Z...Z" counts (other settings
    are ignored), corrected for readout through the transfer matrix T of a symmetric sector (h = T P), P =
    simplex projection of T^-1 h. Figures under DICKE_ASSUMPTION: rho = sum_k P(k)|D_k><D_k|, whose spectrum is
    {P(k)} plus 2^N - N - 1 zeros against levels omega k of multiplicity C(N, k). The assumption is untested by
    Z data: a non-symmetric or dephased-across-sectors state gives a different (too large) ergotropy. Bootstrap:
    non-parametric resampling of the histogram, basic interval (module doc). ``estimator`` = "dicke-z".
    """
    if not isinstance(data, TomographyData):
        raise ParameterError("data", "a TomographyData", type(data).__name__)
    n = data.num_qubits
    zs = "Z" * n
    if zs not in data.settings:
        raise ParameterError("data", f"counts of the all-Z setting {zs!r}", data.settings)
    omega = _validate.positive("omega", omega)
    if readout is not None:
        if not isinstance(readout, ReadoutModel):
            raise ParameterError("readout", "a ReadoutModel or None", type(readout).__name__)
        if readout.num_qubits != n:
            raise ParameterError("readout", f"a ReadoutModel of {n} qubits (the data's)", readout.num_qubits)
    bootstrap, confidence, seed = _check_common(bootstrap, confidence, seed)
    row = np.asarray(data.array[data.settings.index(zs)])
    m = np.arange(2**n)
    weights = sum((m >> k) & 1 for k in range(n))  # Hamming weight = number of excitations
    hist = np.bincount(weights, weights=row, minlength=n + 1)
    shots = int(row.sum())
    t_inv = np.linalg.inv(_dicke_transfer(readout, n))

    def fit(h: np.ndarray) -> np.ndarray:
        return project_to_simplex((h / h.sum(axis=-1, keepdims=True)) @ t_inv.T)

    p_hat = fit(hist)
    point = _dicke_figures(p_hat, n, omega)
    rng = np.random.default_rng(seed)
    reps_p = (
        fit(rng.multinomial(shots, hist / shots, size=bootstrap).astype(float)) if bootstrap else np.zeros((0, n + 1))
    )
    reps = np.array([_dicke_figures(p, n, omega) for p in reps_p]).reshape(bootstrap, 4)
    width = omega * n
    ranges = [(0.0, width), (0.0, width), (0.0, width), (1.0 / (n + 1), 1.0)]
    iv = [_interval(point[k], reps[:, k], confidence, *ranges[k]) for k in range(4)]
    split_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    lower, work = _dicke_split_bound(split_rng, np.rint(hist).astype(np.int64), t_inv, n, omega, confidence, fit)
    if bootstrap and not math.isnan(lower):
        iv[0] = Interval(iv[0].value, (min(iv[0].ci[0], lower), iv[0].ci[1]), iv[0].std, iv[0].bias)
    return BatteryEstimate(
        estimator="dicke-z",
        method="linear+simplex",
        battery=tuple(range(n)),
        ergotropy=iv[0],
        energy=iv[1],
        capacity=iv[2],
        purity=iv[3],
        fidelity=None,
        state=None,
        excitation_distribution=readonly(p_hat),
        confidence=confidence,
        bootstrap=bootstrap,
        interval_method=INTERVAL_METHOD_DICKE,
        resampling=RESAMPLING,
        seed=seed,
        readout=readout,
        shots=shots,
        assumption=DICKE_ASSUMPTION,
        ergotropy_lower=lower,
        extractable_work=work,
    )


def _dicke_split_bound(
    rng: np.random.Generator,
    hist: np.ndarray,
    t_inv: np.ndarray,
    n: int,
    omega: float,
    confidence: float,
    fit: Callable[[np.ndarray], np.ndarray],
) -> tuple[float, Interval | None]:
    """Sample-split bound of the Dicke-assumed ergotropy (module doc). Half A fixes the permutation: sectors
    sorted by descending P_A(k) (ties: lower k first) take the lowest levels of the 2^N-fold ladder omega j
    (multiplicity C(N, j)); the zero-population non-symmetric states fill the rest. Its work on the assumed
    state, w = sum_k P(k) (omega k - e_slot(k)), is linear in P; half B estimates it with the unprojected
    P_B = T^-1 h_B / N_B (unbiased), variance exact multinomial at B's frequencies. (NaN, None) if < 2 shots."""
    total = int(hist.sum())
    if total < 2:
        return math.nan, None
    half_a, half_b = _split_halves(rng, hist[None, :])
    p_a = fit(half_a[0].astype(float))
    ladder = np.repeat(omega * np.arange(n + 1), [math.comb(n, j) for j in range(n + 1)])  # ascending
    order = sorted(range(n + 1), key=lambda k: (-p_a[k], k))
    slot = np.empty(n + 1)
    slot[order] = ladder[: n + 1]
    gain = omega * np.arange(n + 1) - slot  # w = gain . P
    a = t_inv.T @ gain  # w_hat = a . f with f = B's read-weight frequencies
    shots_b = float(half_b.sum())
    f = half_b[0] / shots_b
    value = float(a @ f)
    std = math.sqrt(max(float(a**2 @ f - value**2), 0.0) / shots_b)
    return _normal_bound(value, std, confidence, (float(gain.min()), float(gain.max())), omega * n)
