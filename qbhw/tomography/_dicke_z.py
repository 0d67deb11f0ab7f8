"""Collective battery figures from the all-Z setting only, under the Dicke assumption (DICKE_ASSUMPTION).

P(k), the probability of k excitations, is a linear function of the read-weight frequencies (readout corrected
through the transfer matrix of a symmetric sector). Under the assumption the state is sum_k P(k) |D_k><D_k| on
the 2^N-level ladder (levels omega j of multiplicity C(N, j)), so its figures are those of a diagonal state with
spectrum {P(k)} and 2^N - N - 1 zeros: the same constructions as the full-Pauli estimator (energy linear, purity
unbiased, ergotropy and capacity as maxima of linear functionals of P with a purity cap and a sample-split lower
end), with intervals that hold under the assumption (docs/tomography_intervals.md).
"""

from __future__ import annotations

import math

import numpy as np

from qbhw import _validate
from qbhw._arrays import readonly
from qbhw.errors import ParameterError
from qbhw.tomography._bootstrap import (
    RESAMPLING,
    Interval,
    capped_upper,
    check_common,
    check_shots,
    finish,
    levels,
    linear_interval,
    linear_statistic,
    no_interval,
    purity_error,
    split_halves,
    streams,
)
from qbhw.tomography._data import MeasurementNoise, ReadoutModel, TomographyData
from qbhw.tomography._estimate import ESTIMATES, BatteryEstimate, std_bias
from qbhw.tomography._fit import project_to_simplex
from qbhw.tomography._spectral import min_linear_on_purity_ball

DICKE_ASSUMPTION = (
    "each excitation sector k is the symmetric Dicke state |N/2, k - N/2> (exact for ideal pure "
    "collective dissipation from |g...g>); coherences between sectors are ignored"
)
INTERVAL_DICKE = (
    "under the Dicke assumption, one-sided normal bounds from linear statistics of P(k): energy linear; purity "
    "unbiased (bootstrap std); ergotropy, capacity: upper = min(plug-in + z sigma, purity cap), lower = sample split"
)


def _dicke_transfer(readout: ReadoutModel | None, n: int) -> np.ndarray:
    """T[k', k] = P(read weight k' | true state uniform over the C(N, k) strings of weight k) (a symmetric Dicke
    state has exactly this Z distribution). Dynamic programming over qubits on polynomials in z (read 1)."""
    if readout is None:
        return np.eye(n + 1)
    dp = np.zeros((n + 1, n + 1))  # dp[j] = sum over strings of the first qubits with j true ones, in z
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


class _Ladder:
    """The 2^N levels omega j (multiplicity C(N, j)) and the slot energies of the i-th lowest / highest slot for
    i = 0..N (a diagonal state has N + 1 sector values, the other 2^N - N - 1 values are 0)."""

    def __init__(self, n: int, omega: float) -> None:
        self.levels = omega * np.arange(n + 1, dtype=float)
        self.mults = np.array([float(math.comb(n, j)) for j in range(n + 1)])
        cum = np.cumsum(self.mults)
        i = np.arange(n + 1)
        self.low = self.levels[np.searchsorted(cum, i, side="right")]  # i-th lowest slot
        self.high = omega * n - self.low  # the ladder is symmetric: i-th highest slot
        # capacity functional per slot: e_{d-1-i} - e_i = omega (N - 2 j); the cap minimises its negative
        order = np.argsort(-(omega * n - 2.0 * self.levels))
        self.cap_levels = (-(omega * n - 2.0 * self.levels))[order], self.mults[order]

    def gains(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ergotropy gains, capacity gains) per sector, (..., N+1), of the orderings optimal for ``values``
        (signed; ties lower k first): W(values) = gains_w . values, C(values) = gains_c . values, and for any
        other distribution P, gains_w . P <= W(P) and gains_c . P <= C(P)."""
        v = np.asarray(values, dtype=float)
        n1 = v.shape[-1]
        order = np.argsort(-v, axis=-1, kind="stable")  # descending, lower k first among ties
        ranks = np.argsort(order, axis=-1)  # rank of each sector in the descending order
        positive = v > 0
        low_r, high_from_end = self.low[ranks], self.high[n1 - 1 - ranks]
        passive_slot = np.where(positive, low_r, np.where(v < 0, high_from_end, 0.0))
        active_slot = np.where(positive, self.high[ranks], np.where(v < 0, self.low[n1 - 1 - ranks], 0.0))
        k = self.levels  # sector k has energy omega k
        return k - passive_slot, active_slot - passive_slot


def estimate_dicke(
    data: TomographyData,
    *,
    omega: float = 1.0,
    readout: ReadoutModel | None = None,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int,
    noise: MeasurementNoise | None = None,
) -> BatteryEstimate:
    """Collective battery of N qubits, H = (omega/2) sum_i sigma_z^i, from the all-Z setting only (module doc).

    P(k) = T^-1 h / shots, h the read-weight histogram of the "Z...Z" counts (other settings are ignored) and T
    the readout transfer of a symmetric sector (``readout``, or the Z-basis readout of ``noise``). The figures
    hold under DICKE_ASSUMPTION, which Z data cannot test: a non-symmetric or dephased-across-sectors state gives
    a different (too large) ergotropy.
    ``excitation_distribution`` is the simplex projection of P; ``estimator`` = "dicke-z".
    """
    if not isinstance(data, TomographyData):
        raise ParameterError("data", "a TomographyData", type(data).__name__)
    n = data.num_qubits
    zs = "Z" * n
    if zs not in data.settings:
        raise ParameterError("data", f"counts of the all-Z setting {zs!r}", data.settings)
    omega = _validate.positive("omega", omega)
    if noise is not None:
        if not isinstance(noise, MeasurementNoise):
            raise ParameterError("noise", "a MeasurementNoise or None", type(noise).__name__)
        if readout is not None:
            raise ParameterError("noise", "None when readout is given (noise includes the readout)", "both")
        readout = noise.readout()  # the Z basis has no gates: its readout confusion is the whole model
    if readout is not None:
        if not isinstance(readout, ReadoutModel):
            raise ParameterError("readout", "a ReadoutModel or None", type(readout).__name__)
        if readout.num_qubits != n:
            raise ParameterError("readout", f"a ReadoutModel of {n} qubits (the data's)", readout.num_qubits)
    bootstrap, confidence, seed = check_common(bootstrap, confidence, seed)
    row = np.asarray(data.array[data.settings.index(zs)])
    check_shots(row[None, :])
    m = np.arange(2**n)
    weights = sum((m >> k) & 1 for k in range(n))  # Hamming weight = number of excitations
    hist = np.bincount(weights, weights=row, minlength=n + 1).astype(np.int64)[None, :]
    shots = int(hist.sum())
    t_inv = np.linalg.inv(_dicke_transfer(readout, n))  # P = t_inv f: per-shot value of weight w is t_inv[:, w]
    ladder = _Ladder(n, omega)
    width = omega * n

    f = hist[0] / shots
    p_lin = t_inv @ f
    energy = float(ladder.levels @ p_lin)
    purity_hat = float(_purity(hist[None], t_inv)[0])
    g_w, g_c = ladder.gains(p_lin)
    w_plug, c_plug = float(g_w @ p_lin), float(g_c @ p_lin)
    w_point = min(w_plug, energy - float(min_linear_on_purity_ball(ladder.levels, ladder.mults, purity_hat)))
    c_point = min(c_plug, -float(min_linear_on_purity_ball(*ladder.cap_levels, purity_hat)))
    p_fit = project_to_simplex(p_lin)

    def stat(gains: np.ndarray, counts: np.ndarray = hist) -> tuple[float, float]:
        value, std = linear_statistic(0.0, (gains @ t_inv)[None, :], counts)
        return float(value), float(std)

    figures: dict[str, Interval]
    if shots < 2:  # no variance can be estimated from one shot
        figures = {
            "energy": no_interval(energy, ESTIMATES["energy"]),
            "purity": no_interval(purity_hat, ESTIMATES["purity"]),
            "ergotropy": no_interval(w_point, ESTIMATES["ergotropy"]),
            "capacity": no_interval(c_point, ESTIMATES["capacity"]),
        }
        return _result(figures, p_fit, confidence, bootstrap, seed, readout, shots, math.nan, None)

    z = levels(confidence)
    boot_rng, split_rng = streams(seed)
    reps = boot_rng.multinomial(shots, f, size=bootstrap)[:, None, :]  # (B, 1, N+1)
    p_reps = (reps[:, 0, :] / shots) @ t_inv.T
    purity_reps = _purity(reps, t_inv)
    gw_reps, gc_reps = ladder.gains(p_reps)
    energy_reps = p_reps @ ladder.levels
    perr = purity_error(purity_hat, stat(2.0 * p_lin)[1] ** 2, p_lin, p_reps - p_lin, 1.0)
    _, sd_energy = stat(ladder.levels)
    half_a, half_b = split_halves(split_rng, hist)
    gw_a, gc_a = ladder.gains(t_inv @ (half_a[0] / max(int(half_a.sum()), 1)))

    figures = {}
    figures["energy"] = linear_interval(energy, sd_energy, z["end"], (0.0, width), ESTIMATES["energy"])
    figures["purity"] = finish(
        purity_hat,
        *perr.bounds(z["end"]),
        (1.0 / (n + 1), 1.0),
        perr.std,
        0.0,
        ESTIMATES["purity"],
    )

    _, sd_gw = stat(g_w)
    purity_up = perr.bounds(z["quarter"])[1]
    floor = float(min_linear_on_purity_ball(ladder.levels, ladder.mults, purity_up))
    upper = capped_upper(w_plug, sd_gw, energy, sd_energy, floor, z)
    work, sd_work = stat(gw_a, half_b)
    lower = work - z["end"] * sd_work
    w_reps = np.minimum(
        np.sum(gw_reps * p_reps, axis=-1),
        energy_reps - min_linear_on_purity_ball(ladder.levels, ladder.mults, purity_reps),
    )
    figures["ergotropy"] = finish(
        w_point, lower, upper, (0.0, width), *std_bias(w_reps, w_point), ESTIMATES["ergotropy"]
    )
    ergotropy_lower = min(max(lower, 0.0), width)
    work_iv = finish(
        work,
        lower,
        work + z["end"] * sd_work,
        (float(gw_a.min()), float(gw_a.max())),
        sd_work,
        0.0,
        "split-sample linear",
    )

    _, sd_gc = stat(g_c)
    cap_c = -float(min_linear_on_purity_ball(*ladder.cap_levels, perr.bounds(z["half"])[1]))
    upper_c = min(c_plug + z["half"] * sd_gc, cap_c)
    cap_b, sd_cap_b = stat(gc_a, half_b)
    c_reps = np.minimum(np.sum(gc_reps * p_reps, axis=-1), -min_linear_on_purity_ball(*ladder.cap_levels, purity_reps))
    figures["capacity"] = finish(
        c_point, cap_b - z["end"] * sd_cap_b, upper_c, (0.0, width), *std_bias(c_reps, c_point), ESTIMATES["capacity"]
    )
    return _result(figures, p_fit, confidence, bootstrap, seed, readout, shots, ergotropy_lower, work_iv)


def _purity(hist: np.ndarray, t_inv: np.ndarray) -> np.ndarray:
    """Unbiased estimate of sum_k P(k)^2 from histograms (..., 1, N+1): P_hat(k)^2 minus the unbiased estimate
    of its variance (sample variance of the per-shot values t_inv[k, w] over the shots / shots)."""
    h = hist[..., 0, :].astype(float)
    shots = h.sum(axis=-1, keepdims=True)
    f = h / shots
    p = f @ t_inv.T
    second = f @ (t_inv**2).T
    var = (second - p**2) / np.maximum(shots - 1.0, 1.0)
    return np.sum(p**2 - var, axis=-1)


def _result(
    figures: dict[str, Interval],
    p_fit: np.ndarray,
    confidence: float,
    bootstrap: int,
    seed: int,
    readout: ReadoutModel | None,
    shots: int,
    lower: float,
    work: Interval | None,
) -> BatteryEstimate:
    n = p_fit.size - 1
    return BatteryEstimate(
        estimator="dicke-z",
        method="linear+simplex",
        battery=tuple(range(n)),
        ergotropy=figures["ergotropy"],
        energy=figures["energy"],
        capacity=figures["capacity"],
        purity=figures["purity"],
        fidelity=None,
        state=None,
        excitation_distribution=readonly(p_fit),
        confidence=confidence,
        bootstrap=bootstrap,
        interval_method=INTERVAL_DICKE,
        resampling=RESAMPLING,
        seed=seed,
        readout=readout,
        shots=shots,
        assumption=DICKE_ASSUMPTION,
        ergotropy_lower=lower,
        extractable_work=work,
    )
