"""Cavity tomography the way cavity-QED labs measure a resonator (docs/physics.md section 6.4,
docs/tomography_intervals.md "Cavity tomography").

Two binary measurements through the dispersively coupled transmon, both POVMs linear in the resonator state rho
(Fock basis, cutoff D):

* ``"parity"`` (displaced parity, Wigner sampling): for each displacement alpha a Ramsey sequence of wait
  pi/|chi| maps the parity of D(alpha)^dag rho D(alpha) onto the transmon, |g> for parity +1. With the parity
  contrast c (coherence lost during the wait) and the transmon readout confusion (p(1|0), p(0|1)), outcome 0
  ("read 0") has the effect E_0 = (1 - p(1|0) + p(0|1)) / 2 I + (1 - p(1|0) - p(0|1)) / 2 c Pi(alpha), with
  Pi(alpha) = D(alpha) P D(alpha)^dag = D(2 alpha) P, P = (-1)^n; <Pi(alpha)> = (pi/2) W(alpha).
* ``"number"`` (photon-number-resolved populations): for each k a number-selective pi pulse excites the transmon
  with probability s_n^(k) = ``selective_fidelity`` for n = k, ``selective_leak`` for |n - k| = 1, 0 otherwise
  (an ideal pulse: delta_nk); outcome 1 ("read 1") then has the diagonal effect p(1|0) I + (1 - p(1|0) -
  p(0|1)) diag(s^(k)).

Outcome index 0 is "read 0" for both. The matrix elements of D(beta) are the exact ones (generalised Laguerre
polynomials), so the effects on the first D levels are the compressions of the infinite-dimensional operators:
sampling a state of any cutoff is exact.

Estimation (``estimate_cavity``) on a cutoff ``cutoff`` (D_fit): rho = I/D + sum_k x_k B_k over an orthonormal
basis of traceless Hermitian matrices (all of them for parity data; the diagonal ones for number data). The
*linear* estimator is the shot-weighted least-squares solution x = L (f - b) of p_s(0) = b_s + A_s x: a fixed
linear function of the frequencies, unbiased for every state supported on the cutoff, with the exact multinomial
variance. Energy <n> (H = omega a^dag a) and the fidelity to a pure target are linear; the purity 1/D + sum x_k^2
is made unbiased by subtracting the unbiased variance of each x_k; ergotropy has the purity-capped plug-in with
the sample-split lower bound of ``qbhw.tomography``. The state itself is fitted by maximum likelihood (R rho R
iteration with dilution) on the same effects; its top-level weight is the cutoff-honesty figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import eval_genlaguerre, gammaln

from qbhw import _validate
from qbhw._arrays import readonly
from qbhw.errors import CalibrationError, ParameterError
from qbhw.hardware import units
from qbhw.physics.distance import fidelity as uhlmann_fidelity
from qbhw.tomography._bootstrap import (
    Interval,
    PurityError,
    capped_upper,
    check_common,
    finish,
    levels,
    linear_interval,
    linear_statistic,
    no_interval,
    purity_error,
    resample,
    split_halves,
    streams,
)
from qbhw.tomography._estimate import std_bias
from qbhw.tomography._spectral import ergotropy_functional, fidelity_functional, group_levels, min_linear_on_purity_ball

KINDS = ("parity", "number")
#: largest Fock cutoff of a cavity fit (the parity model has D^2 - 1 parameters and D^2 (2D - 1) effect entries
#: per ring; D = 40 is ~1e5 settings x parameters)
MAX_CAVITY_CUTOFF = 40
#: largest number of settings of one cavity data set
MAX_CAVITY_SETTINGS = 20_000
#: largest shots of one setting (int64 bookkeeping, as for Pauli tomography)
MAX_CAVITY_SHOTS = 2**50
#: the grid rule's radius: rings out to |alpha| = GRID_RADIUS sqrt(D) (condition numbers in the docs' table)
GRID_RADIUS = 0.9
#: default tolerance on the fitted state's top-level weight (cutoff honesty)
TOP_WEIGHT_TOLERANCE = 0.02
#: relative singular value below which the effects do not identify a parameter (informational completeness)
_RANK_TOL = 1e-9
_MLE_MAX_ITER = 5_000
#: bootstrap replicates used for the purity's second-order variance terms (purity_error's Gram matrix is B x B)
_PURITY_REPLICATES = 1000
_MLE_TOL = 1e-10

INTERVAL_CAVITY = (
    "one-sided normal bounds from linear statistics of binomial settings: energy and pure-target fidelity "
    "least-squares linear; purity unbiased; ergotropy upper = min(plug-in + z sigma, purity cap), lower = sample "
    "split (as qbhw.tomography)"
)
ASSUMPTION_IDEAL = (
    "ideal parity map (contrast 1) and ideal number-selective pulses (P(excite | n) = delta_nk); readout confusion "
    "as given"
)


# ------------------------------------------------------------------------------------------ measurement model


@dataclass(frozen=True)
class CavityMeasurement:
    """How the transmon reads the cavity (module doc).

    ``p1_given_0`` / ``p0_given_1``: the transmon readout confusion P(read 1 | g), P(read 0 | e);
    ``parity_contrast``: c in (0, 1], the fraction of the parity signal that survives the Ramsey wait;
    ``selective_fidelity``: P(excite | n = k) of a number-selective pi pulse; ``selective_leak``: P(excite | n =
    k +- 1); ``assumption``: where these numbers come from, in words.
    """

    p1_given_0: float = 0.0
    p0_given_1: float = 0.0
    parity_contrast: float = 1.0
    selective_fidelity: float = 1.0
    selective_leak: float = 0.0
    assumption: str = ASSUMPTION_IDEAL

    def __post_init__(self) -> None:
        for name in ("p1_given_0", "p0_given_1", "selective_leak"):
            v = _validate.finite(name, getattr(self, name))
            if not 0.0 <= v < 0.5:
                raise ParameterError(name, "a probability in [0, 0.5)", v)
            object.__setattr__(self, name, v)
        for name in ("parity_contrast", "selective_fidelity"):
            v = _validate.finite(name, getattr(self, name))
            if not 0.0 < v <= 1.0:
                raise ParameterError(name, "in (0, 1]", v)
            object.__setattr__(self, name, v)
        if self.p1_given_0 + self.p0_given_1 >= 1.0:
            raise ParameterError("p0_given_1", "p1_given_0 + p0_given_1 < 1 (a readout that tells g from e)", "")

    @property
    def visibility(self) -> float:
        """1 - p(1|0) - p(0|1): the fraction of the transmon's population difference the readout keeps."""
        return 1.0 - self.p1_given_0 - self.p0_given_1

    def to_dict(self) -> dict[str, Any]:
        return {
            "p1_given_0": self.p1_given_0,
            "p0_given_1": self.p0_given_1,
            "parity_contrast": self.parity_contrast,
            "selective_fidelity": self.selective_fidelity,
            "selective_leak": self.selective_leak,
            "assumption": self.assumption,
        }

    @classmethod
    def from_calibration(
        cls, cal: Any, *, resonator: int | None = None, detuning_mhz: float = -100.0, selectivity: float = 3.0
    ) -> CavityMeasurement:
        """The measurement model of the storage resonator that ``qbhw.pulse.from_calibration`` picks (or
        ``resonator``) on a device calibration (schema v2).

        The transmon is flux-tuned to ``detuning_mhz`` (f_q - f_r, default -100 MHz: |chi|/2pi ~ 0.7 MHz for g/2pi
        = 10 MHz, alpha/2pi = -250 MHz; the parked detuning if the transmon cannot reach it) where the dispersive
        shift per photon is chi = g^2 alpha / (Delta (Delta + alpha)) (docs/physics.md 6.1). Readout confusion:
        the transmon's ``readout_p1_given_0`` / ``readout_p0_given_1``. Parity: Ramsey wait t = pi/|chi|,
        contrast exp(-t/T2). Number-selective pulse: Gaussian of sigma = ``selectivity``/|chi|, leak to n = k +- 1
        sin^2((pi/2) exp(-selectivity^2/2)), fidelity exp(-2 sigma/T1) (relaxation over ~4 sigma at half the
        excited population) less the leak's complement. Raises CalibrationError when the device has no storage
        resonator with a flux-tunable transmon.
        """
        from qbhw.pulse import from_calibration

        det = _validate.finite("detuning_mhz", detuning_mhz)
        sel = _validate.positive("selectivity", selectivity)
        resonators = tuple(getattr(cal, "resonators", ()) or ())
        candidates = [resonator] if resonator is not None else list(range(len(resonators)))
        device = None
        for j in candidates:
            try:
                device = from_calibration(cal, resonator=j)
            except CalibrationError:
                if resonator is not None or j == candidates[-1]:
                    raise
                continue
            break
        if device is None:
            device = from_calibration(cal)  # raises, naming what is missing
            j = 0
        q = int(resonators[j].qubit)
        qubit = cal.qubits[q]
        t = device.transmon
        f_r = device.resonator.freq_ghz
        target = f_r + units.mhz_to_ghz(det)
        delta_mhz = det if t.reaches(target) else units.ghz_to_mhz(t.freq_ghz - f_r)
        alpha_mhz = units.ghz_to_mhz(t.anharmonicity_ghz)
        g_mhz = device.coupling_mhz
        denom = delta_mhz * (delta_mhz + alpha_mhz)
        if delta_mhz == 0.0 or denom == 0.0:
            raise ParameterError("detuning_mhz", "a detuning at which the dispersive shift is finite", det)
        chi = abs(units.mhz_to_rad_per_ns(g_mhz**2 * alpha_mhz / denom))
        wait_ns = math.pi / chi
        sigma_ns = sel / chi
        t2_ns = units.us_to_ns(t.t2_us) if t.t2_us is not None else math.inf
        t1_ns = units.us_to_ns(t.t1_us) if t.t1_us is not None else math.inf
        contrast = math.exp(-wait_ns / t2_ns)
        leak = math.sin(0.5 * math.pi * math.exp(-0.5 * sel**2)) ** 2
        fidelity = math.exp(-2.0 * sigma_ns / t1_ns)
        return cls(
            p1_given_0=float(qubit.readout_p1_given_0),
            p0_given_1=float(qubit.readout_p0_given_1),
            parity_contrast=max(contrast, 1e-12),
            selective_fidelity=max(fidelity, 1e-12),
            selective_leak=min(leak, 0.49),
            assumption=(
                f"{device.name}: readout confusion of qubit {q}; transmon at f_q - f_r = {delta_mhz:g} MHz, "
                f"|chi|/2pi = {units.rad_per_ns_to_mhz(chi):.4g} MHz; parity wait pi/|chi| = {wait_ns:.4g} ns, "
                f"contrast exp(-wait/T2); selective Gaussian pi pulse sigma = {sel:g}/|chi| = {sigma_ns:.4g} ns, "
                "fidelity exp(-2 sigma/T1), leak sin^2(pi/2 exp(-selectivity^2/2)) to n = k +- 1"
            ),
        )


# ------------------------------------------------------------------------------------------ effects


def displacement_matrix(beta: complex, dim: int) -> np.ndarray:
    """<m|D(beta)|n> for m, n < dim: the exact matrix elements (not the exponential of truncated operators),
    sqrt(n!/m!) beta^(m-n) e^(-|beta|^2/2) L_n^(m-n)(|beta|^2) for m >= n, and
    sqrt(m!/n!) (-beta*)^(n-m) e^(-|beta|^2/2) L_m^(n-m)(|beta|^2) for m < n."""
    b = complex(beta)
    x = abs(b) ** 2
    out = np.zeros((dim, dim), dtype=complex)
    m, n = np.meshgrid(np.arange(dim), np.arange(dim), indexing="ij")
    lo, hi = np.minimum(m, n), np.maximum(m, n)
    k = hi - lo
    lag = eval_genlaguerre(lo, k, x)
    logmag = 0.5 * (gammaln(lo + 1) - gammaln(hi + 1)) - 0.5 * x
    if abs(b) > 0.0:
        logmag = logmag + k * math.log(abs(b))
        phase = b / abs(b)
        ph = np.where(m >= n, phase**k, (-np.conj(phase)) ** k)
        out = np.exp(logmag) * lag * ph
    else:
        out = np.where(k == 0, 1.0 + 0j, 0.0)
    return np.asarray(out, dtype=complex)


def parity_operator(alpha: complex, dim: int) -> np.ndarray:
    """Pi(alpha) = D(alpha) P D(alpha)^dag = D(2 alpha) P on the first ``dim`` Fock levels (exact compression);
    <Pi(alpha)> = (pi/2) W(alpha)."""
    d2 = displacement_matrix(2.0 * complex(alpha), dim)
    sign = (-1.0) ** np.arange(dim)
    pi = d2 * sign[None, :]
    return 0.5 * (pi + pi.conj().T)


def effects(kind: str, points: np.ndarray, dim: int, measurement: CavityMeasurement) -> np.ndarray:
    """Effects E_s of outcome 0 ("read 0") of every setting, shape (S, dim, dim) (outcome 1: I - E_s)."""
    m = measurement
    eye = np.eye(dim)
    out = np.empty((len(points), dim, dim), dtype=complex)
    if kind == "parity":
        base = 0.5 * (1.0 - m.p1_given_0 + m.p0_given_1)
        slope = 0.5 * m.visibility * m.parity_contrast
        for i, a in enumerate(points):
            out[i] = base * eye + slope * parity_operator(complex(a), dim)
    else:
        n = np.arange(dim)
        for i, k in enumerate(points.astype(np.int64)):
            s = np.where(n == int(k), m.selective_fidelity, np.where(np.abs(n - int(k)) == 1, m.selective_leak, 0.0))
            read1 = m.p1_given_0 + m.visibility * s
            out[i] = np.diag(1.0 - read1)
    return out


def displacement_grid(cutoff: int, *, rings: int | None = None, radius: float | None = None) -> np.ndarray:
    """The displacement grid of a fit at Fock cutoff D (the stated rule):

    * radius |alpha|_max = 0.9 sqrt(D) (``GRID_RADIUS``): a state on the first D levels has its Wigner structure
      within |alpha| <~ sqrt(D), and D equally spaced rings must sample its radial oscillation (period ~ pi /
      (2 sqrt(D)) at the top level) finely enough: the condition number of the least-squares map is 13 at D = 16
      with 0.9 sqrt(D), 1e3 with sqrt(D), 3e5 with 1.1 sqrt(D) (docs/tomography_intervals.md);
    * ``rings`` (default D: the diagonal needs D distinct radii with the origin) rings at radii
      |alpha|_max j / rings, j = 1 .. rings, plus the origin;
    * 2D - 1 points per ring (the coherence rho_{m,n} varies around a ring as e^{i (m-n) theta}, |m - n| <= D - 1:
      2(D - 1) + 1 points resolve every angular frequency), rotated by half a step on alternate rings.

    That is 1 + D (2D - 1) settings, about twice the D^2 - 1 real parameters; ``estimate_cavity`` checks the rank.
    """
    d = _validate.integer_at_least("cutoff", cutoff, 2)
    r = d if rings is None else _validate.integer_at_least("rings", rings, 1)
    rmax = GRID_RADIUS * math.sqrt(d) if radius is None else _validate.positive("radius", radius)
    per = 2 * d - 1
    pts = [0j]
    for j in range(1, r + 1):
        rad = rmax * j / r
        off = 0.5 * (j % 2)
        pts.extend(rad * np.exp(2j * math.pi * (np.arange(per) + off) / per))
    return np.asarray(pts, dtype=complex)


# ------------------------------------------------------------------------------------------ data and sampling


@dataclass(frozen=True, eq=False)
class CavityData:
    """Counts of one cavity measurement: ``kind`` ("parity" or "number"), ``points`` (displacements alpha, or
    photon numbers k), ``counts`` (S, 2) int: column 0 "read 0", column 1 "read 1"; ``seed`` of the sampler."""

    kind: str
    points: np.ndarray
    counts: np.ndarray
    seed: int | None = None

    def __post_init__(self) -> None:
        kind = _validate.one_of("kind", self.kind, KINDS)
        pts = np.asarray(self.points, dtype=complex if kind == "parity" else np.int64).reshape(-1)
        counts = np.asarray(self.counts)
        if counts.shape != (pts.size, 2) or pts.size == 0:
            raise ParameterError("counts", f"an array of shape ({pts.size}, 2) (one row per point)", counts.shape)
        if not np.issubdtype(counts.dtype, np.integer) or counts.min() < 0:
            raise ParameterError("counts", "non-negative integer counts", counts.dtype)
        if int(counts.sum(axis=1).min()) < 1:
            raise ParameterError("counts", "at least one shot per setting", int(counts.sum(axis=1).min()))
        if pts.size > MAX_CAVITY_SETTINGS:
            raise ParameterError("points", f"at most {MAX_CAVITY_SETTINGS} settings", pts.size)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "points", readonly(pts))
        object.__setattr__(self, "counts", readonly(counts.astype(np.int64)))

    @property
    def shots(self) -> int:
        return int(self.counts.sum())

    def to_dict(self) -> dict[str, Any]:
        pts: list[Any]
        if self.kind == "parity":
            pts = [[float(p.real), float(p.imag)] for p in self.points]
        else:
            pts = [int(p) for p in self.points]
        return {"kind": self.kind, "points": pts, "counts": self.counts.tolist(), "seed": self.seed}


def cavity_state(rho: np.ndarray, *, transmon_levels: int | None = None) -> np.ndarray:
    """The resonator's density matrix: ``rho`` itself (D x D), or with ``transmon_levels`` = L the partial trace
    over the transmon of a joint state in the order transmon (x) resonator (``qbhw.pulse``'s order), L D x L D."""
    r = np.asarray(rho, dtype=complex)
    if r.ndim != 2 or r.shape[0] != r.shape[1] or r.shape[0] < 2:
        raise ParameterError("rho", "a square density matrix", r.shape)
    if transmon_levels is not None:
        lv = _validate.integer_at_least("transmon_levels", transmon_levels, 2)
        if r.shape[0] % lv:
            raise ParameterError("transmon_levels", f"a divisor of the state's dimension {r.shape[0]}", lv)
        d = r.shape[0] // lv
        r = np.einsum("aiaj->ij", r.reshape(lv, d, lv, d))
    tol = 1e-8
    if (
        not np.all(np.isfinite(r))
        or not np.allclose(r, r.conj().T, atol=tol)
        or abs(np.trace(r) - 1.0) > tol
        or np.linalg.eigvalsh(0.5 * (r + r.conj().T))[0] < -tol
    ):
        raise ParameterError("rho", "a density matrix (Hermitian, trace 1, positive semidefinite)", "other matrix")
    return 0.5 * (r + r.conj().T)


def _points(kind: str, points: Any) -> np.ndarray:
    kind = _validate.one_of("kind", kind, KINDS)
    if kind == "parity":
        pts = np.asarray(points, dtype=complex).reshape(-1)
        if pts.size == 0 or not np.all(np.isfinite(pts)):
            raise ParameterError("points", "a non-empty sequence of finite displacements", "")
        return pts
    ks = np.asarray(points).reshape(-1)
    if ks.size == 0 or not np.issubdtype(ks.dtype, np.integer) or ks.min() < 0:
        raise ParameterError("points", "a non-empty sequence of photon numbers >= 0", "")
    return ks.astype(np.int64)


def cavity_probabilities(
    rho: np.ndarray,
    kind: str,
    points: Any,
    *,
    measurement: CavityMeasurement | None = None,
    transmon_levels: int | None = None,
) -> np.ndarray:
    """Exact outcome probabilities (S, 2) of the state (module doc); ``measurement`` default: ideal."""
    r = cavity_state(rho, transmon_levels=transmon_levels)
    pts = _points(kind, points)
    m = CavityMeasurement() if measurement is None else measurement
    e = effects(kind, pts, r.shape[0], m)
    p0 = np.clip(np.real(np.einsum("sij,ji->s", e, r)), 0.0, 1.0)
    return np.stack([p0, 1.0 - p0], axis=1)


def sample_cavity(
    rho: np.ndarray,
    kind: str,
    points: Any,
    shots_per_setting: int,
    *,
    seed: int,
    measurement: CavityMeasurement | None = None,
    transmon_levels: int | None = None,
) -> CavityData:
    """Binomial counts of every setting from the exact probabilities, ``numpy.random.default_rng(seed)``."""
    seed = _validate.integer_at_least("seed", seed, 0)
    shots = _validate.integer_at_least("shots_per_setting", shots_per_setting, 1)
    if shots > MAX_CAVITY_SHOTS:
        raise ParameterError("shots_per_setting", f"at most {MAX_CAVITY_SHOTS} (2^50)", shots)
    pts = _points(kind, points)
    if pts.size > MAX_CAVITY_SETTINGS:
        raise ParameterError("points", f"at most {MAX_CAVITY_SETTINGS} settings", pts.size)
    p = cavity_probabilities(rho, kind, pts, measurement=measurement, transmon_levels=transmon_levels)
    n0 = np.random.default_rng(seed).binomial(shots, p[:, 0])
    return CavityData(kind, pts, np.stack([n0, shots - n0], axis=1), seed=seed)


# ------------------------------------------------------------------------------------------ the linear model


def hermitian_basis(dim: int, *, diagonal_only: bool = False) -> np.ndarray:
    """Orthonormal (Tr[B_j B_k] = delta_jk) traceless Hermitian matrices (K, dim, dim): dim - 1 diagonal ones
    (orthonormal complement of the identity), then (|i><j| + |j><i|)/sqrt2 and (-i|i><j| + i|j><i|)/sqrt2, i < j."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(dim), np.eye(dim)[:, : dim - 1]]))
    mats = [np.diag(q[:, k]) for k in range(1, dim)]
    if not diagonal_only:
        s = 1.0 / math.sqrt(2.0)
        for i in range(dim):
            for j in range(i + 1, dim):
                a = np.zeros((dim, dim), dtype=complex)
                a[i, j] = a[j, i] = s
                mats.append(a)
                b = np.zeros((dim, dim), dtype=complex)
                b[i, j], b[j, i] = -1j * s, 1j * s
                mats.append(b)
    return np.asarray(mats, dtype=complex)


@dataclass(frozen=True, eq=False)
class CavityModel:
    """The least-squares model of one data layout on the cutoff D (module doc): rho = I/D + sum_k x_k B_k,
    p_s(0) = b_s + A[s] . x; ``lsq`` (K, S) maps f(0) - b to x (shot-weighted least squares); ``effects`` (S, D, D)."""

    dim: int
    basis: np.ndarray
    effects: np.ndarray
    a: np.ndarray
    b: np.ndarray
    lsq: np.ndarray
    condition: float

    def coordinates(self, op: np.ndarray) -> tuple[float, np.ndarray]:
        """(o0, o) with Tr[rho op] = o0 + o . x."""
        o = np.real(np.einsum("kij,ji->k", self.basis, op))
        return float(np.real(np.trace(op))) / self.dim, o

    def functional(self, op: np.ndarray) -> tuple[float, np.ndarray]:
        """(g0, a) with the linear estimate of Tr[rho op] = g0 + sum_s a[s, 0] f_s(0) (a[s, 1] = 0), for
        ``linear_statistic``."""
        o0, o = self.coordinates(op)
        w = o @ self.lsq
        a = np.zeros((w.size, 2))
        a[:, 0] = w
        return o0 - float(w @ self.b), a

    def estimate(self, counts: np.ndarray) -> np.ndarray:
        """x for counts (..., S, 2)."""
        f0 = counts[..., 0] / counts.sum(axis=-1)
        return (f0 - self.b) @ self.lsq.T

    def density(self, x: np.ndarray) -> np.ndarray:
        rho = np.eye(self.dim) / self.dim + np.tensordot(x, self.basis, axes=([-1], [0]))
        return 0.5 * (rho + np.conj(np.swapaxes(rho, -1, -2)))

    def variances(self, counts: np.ndarray) -> np.ndarray:
        """Unbiased estimates of Var(x_k) for counts (..., S, 2): sum_s L_ks^2 f(1 - f) / (N_s - 1)."""
        shots = counts.sum(axis=-1).astype(float)
        f0 = counts[..., 0] / shots
        v = f0 * (1.0 - f0) / np.maximum(shots - 1.0, 1.0)
        return v @ (self.lsq**2).T


def cavity_model(data: CavityData, cutoff: int, measurement: CavityMeasurement) -> CavityModel:
    """The least-squares model of ``data`` on the cutoff; ParameterError when the settings do not identify the
    parameters (parity: all D^2 - 1; number: the D - 1 populations)."""
    d = _validate.integer_at_least("cutoff", cutoff, 2)
    if d > MAX_CAVITY_CUTOFF:
        raise ParameterError("cutoff", f"at most {MAX_CAVITY_CUTOFF} for cavity tomography", d)
    basis = hermitian_basis(d, diagonal_only=data.kind == "number")
    eff = effects(data.kind, data.points, d, measurement)
    a = np.real(np.einsum("sij,kji->sk", eff, basis))
    b = np.real(np.einsum("sii->s", eff)) / d
    shots = data.counts.sum(axis=1).astype(float)
    w = np.sqrt(shots / shots.mean())
    u, s, vt = np.linalg.svd(a * w[:, None], full_matrices=False)
    rank = int(np.sum(s > _RANK_TOL * s[0])) if s.size else 0
    if rank < basis.shape[0]:
        what = "D^2 - 1 real parameters" if data.kind == "parity" else "D - 1 populations"
        raise ParameterError(
            "points",
            f"settings that identify the {what} of a cutoff-{d} state (rank {basis.shape[0]}; "
            f"use displacement_grid({d}) or more photon numbers)",
            f"rank {rank} from {data.points.size} settings",
        )
    lsq = (vt.T / s) @ u.T * w[None, :]
    for arr in (basis, eff, a, b, lsq):
        arr.setflags(write=False)
    return CavityModel(d, basis, eff, a, b, lsq, float(s[0] / s[-1]))


# ------------------------------------------------------------------------------------------ maximum likelihood


def fit_cavity_mle(model: CavityModel, counts: np.ndarray, rho0: np.ndarray | None = None) -> np.ndarray:
    """Maximum-likelihood density matrix on the cutoff: max sum_s n_s0 log p_s0 + n_s1 log p_s1 over states, by
    accelerated projected gradient with adaptive restart and backtracking (Shang, Zhang, Ng, PRA 95, 062336
    (2017)): the projection onto the states keeps the eigenvectors and projects the eigenvalues onto the simplex.
    Started from the projected linear estimate mixed with 1e-3 of I/D. (The R rho R iteration needs 1e4+ steps
    for the near-pure states of a micromaser; this converges in a few hundred.)"""
    d = model.dim
    e = model.effects
    n0, n1 = counts[:, 0].astype(float), counts[:, 1].astype(float)
    total = float(counts.sum())
    if rho0 is None:
        rho0 = _project(model.density(model.estimate(counts)))
    rho = 0.999 * rho0 + 0.001 * np.eye(d) / d
    floor = 1e-12

    def probs(r: np.ndarray) -> np.ndarray:
        return np.clip(np.real(np.einsum("sij,ji->s", e, r)), floor, 1.0 - floor)

    def cost(p: np.ndarray) -> float:  # negative log-likelihood per shot
        return -float(n0 @ np.log(p) + n1 @ np.log1p(-p)) / total

    def grad(p: np.ndarray) -> np.ndarray:
        w = -(n0 / p - n1 / (1.0 - p)) / total
        g = np.tensordot(w, e, axes=(0, 0))
        return 0.5 * (g + g.conj().T)

    f_rho = cost(probs(rho))
    theta, f_theta, p_theta = rho, f_rho, probs(rho)
    step, k = 1.0, 0
    for _ in range(_MLE_MAX_ITER):
        g = grad(p_theta)
        while True:
            new = _project(theta - step * g)
            p_new = probs(new)
            f_new = cost(p_new)
            diff = new - theta
            bound = f_theta + float(np.real(np.vdot(g, diff))) + float(np.real(np.vdot(diff, diff))) / (2.0 * step)
            if f_new <= bound + 1e-15 or step < 1e-12:
                break
            step *= 0.5
        if f_new > f_rho:  # restart the momentum from the last iterate
            theta, f_theta, p_theta, k = rho, f_rho, probs(rho), 0
            continue
        change = float(np.abs(new - rho).max())
        k += 1
        theta = new + (k / (k + 3.0)) * (new - rho)
        rho, f_old, f_rho = new, f_rho, f_new
        p_theta = probs(theta)
        f_theta = cost(p_theta)
        step *= 1.2
        if change < _MLE_TOL or abs(f_old - f_rho) < 1e-15 * max(1.0, abs(f_rho)):
            break
    return rho


def _project(rho: np.ndarray) -> np.ndarray:
    from qbhw.tomography._fit import project

    return np.asarray(project(rho))


# ------------------------------------------------------------------------------------------ the estimate


@dataclass(frozen=True, eq=False)
class CavityEstimate:
    """Cavity figures from parity or number data, each an Interval (docs/tomography_intervals.md).

    ``energy``: <n> omega (stored energy of H = omega a^dag a); ``ergotropy``, ``purity`` (parity data only;
    None for number data); ``fidelity`` to ``target`` or None; ``populations`` the linear estimates of P(n) on
    the cutoff with ``population_std``; ``state`` the maximum-likelihood state (parity data; for number data the
    diagonal maximum-likelihood state), ``top_level_weight`` its population of level D - 1 and
    ``cutoff_ok`` whether it is at most ``cutoff_tolerance``; ``settings``, ``shots`` what the interval needed.
    """

    kind: str
    cutoff: int
    omega: float
    energy: Interval
    ergotropy: Interval | None
    purity: Interval | None
    fidelity: Interval | None
    populations: np.ndarray
    population_std: np.ndarray
    state: np.ndarray = field(repr=False)
    top_level_weight: float
    cutoff_tolerance: float
    settings: int
    shots: int
    confidence: float
    bootstrap: int
    seed: int
    measurement: CavityMeasurement
    condition: float
    ergotropy_lower: float = math.nan
    mle_figures: dict[str, float] = field(default_factory=dict)

    @property
    def cutoff_ok(self) -> bool:
        return self.top_level_weight <= self.cutoff_tolerance

    def to_dict(self) -> dict[str, Any]:
        """JSON projection with the keys of ``BatteryEstimate.to_dict`` for the figures it has (``energy``,
        ``energy_ci``, ``energy_std``, ``energy_bias``, ``energy_estimate``, ...), plus the cavity's own."""
        out: dict[str, Any] = {}
        figs = {"energy": self.energy, "ergotropy": self.ergotropy, "purity": self.purity, "fidelity": self.fidelity}
        for name, iv in figs.items():
            if iv is None:
                continue
            out[name] = float(iv.value)
            out[f"{name}_ci"] = [float(iv.ci[0]), float(iv.ci[1])]
            out[f"{name}_std"] = float(iv.std)
            out[f"{name}_bias"] = float(iv.bias)
            out[f"{name}_estimate"] = iv.estimate
        if not math.isnan(self.ergotropy_lower):
            out["ergotropy_lower"] = float(self.ergotropy_lower)
        out.update(
            estimator=f"cavity-{self.kind}",
            fitter="mle",
            interval=INTERVAL_CAVITY,
            resampling="nonparametric-binomial",
            bootstrap=self.bootstrap,
            confidence=self.confidence,
            bootstrap_seed=self.seed,
            readout_mitigated=self.measurement.p1_given_0 > 0.0 or self.measurement.p0_given_1 > 0.0,
            measurement_model=self.measurement.to_dict(),
            shots=self.shots,
            settings=self.settings,
            fit_cutoff=self.cutoff,
            top_level_weight=self.top_level_weight,
            cutoff_tolerance=self.cutoff_tolerance,
            cutoff_ok=self.cutoff_ok,
            condition_number=self.condition,
            populations=[float(x) for x in self.populations],
            mle=dict(self.mle_figures),
        )
        return out


def _check_target(target: np.ndarray | None, d: int) -> np.ndarray | None:
    if target is None:
        return None
    t = np.asarray(target, dtype=complex)
    if t.ndim == 1:
        if t.size != d or not np.all(np.isfinite(t)) or np.linalg.norm(t) == 0:
            raise ParameterError("target", f"a state vector of length {d} or a ({d}, {d}) density matrix", t.shape)
        t = t / np.linalg.norm(t)
        return np.outer(t, t.conj())
    if t.shape != (d, d):
        raise ParameterError("target", f"a state vector of length {d} or a ({d}, {d}) density matrix", t.shape)
    return cavity_state(t)


def estimate_cavity(
    data: CavityData,
    *,
    cutoff: int,
    measurement: CavityMeasurement | None = None,
    omega: float = 1.0,
    target: np.ndarray | None = None,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int,
    cutoff_tolerance: float = TOP_WEIGHT_TOLERANCE,
    mle: bool = True,
) -> CavityEstimate:
    """Cavity figures with confidence intervals from parity or number data (module doc).

    ``cutoff``: D_fit of the fit; ``measurement``: the model the data were taken with (default ideal);
    ``omega``: the resonator frequency in the model's units (H = omega a^dag a, energies omega n); ``target``:
    a state vector or density matrix on the cutoff for the fidelity (parity data). ``bootstrap`` replicates give
    the std and bias of the nonlinear points and the purity's second-order variance term. ``mle=False`` skips
    the maximum-likelihood fit (``state`` is then the projected linear estimate; the figures do not use it).
    Streams as
    ``estimate_battery``: bootstrap default_rng(seed), sample split default_rng(SeedSequence(seed, spawn_key=(1,))).
    """
    if not isinstance(data, CavityData):
        raise ParameterError("data", "a CavityData", type(data).__name__)
    m = CavityMeasurement() if measurement is None else measurement
    if not isinstance(m, CavityMeasurement):
        raise ParameterError("measurement", "a CavityMeasurement or None", type(m).__name__)
    omega = _validate.positive("omega", omega)
    tol = _validate.finite("cutoff_tolerance", cutoff_tolerance)
    if not 0.0 < tol <= 1.0:
        raise ParameterError("cutoff_tolerance", "in (0, 1]", tol)
    bootstrap, confidence, seed = check_common(bootstrap, confidence, seed)
    model = cavity_model(data, cutoff, m)
    d = model.dim
    tgt = _check_target(target, d)
    if tgt is not None and data.kind == "number":
        raise ParameterError("target", "None for number data (populations only)", "a target")
    counts = np.asarray(data.counts)
    if int(counts.sum(axis=1).max()) > MAX_CAVITY_SHOTS:
        raise ParameterError("shots", f"at most {MAX_CAVITY_SHOTS} (2^50) per setting", int(counts.sum(axis=1).max()))

    energies = omega * np.arange(d, dtype=float)
    h = np.diag(energies).astype(complex)
    x = model.estimate(counts)
    lin = model.density(x)
    pops_std = np.zeros(d)
    pops = np.real(np.diag(lin)).copy()
    two_shots = int(counts.sum(axis=1).min()) >= 2

    def stat(op: np.ndarray, c: np.ndarray | None = None) -> tuple[float, float]:
        g0, a = model.functional(op)
        v, s = linear_statistic(g0, a, counts if c is None else c)
        return float(v), float(s)

    if two_shots:
        for n in range(d):
            pops_std[n] = stat(np.diag(np.eye(d)[n]).astype(complex))[1]

    # maximum-likelihood state and cutoff honesty
    mle_state = fit_cavity_mle(model, counts) if mle else _project(lin)
    top = float(np.real(mle_state[d - 1, d - 1]))
    mle_figs = {
        "energy": float(np.real(np.trace(mle_state @ h))),
        "top_level_weight": top,
    }
    energy_v, sd_e = stat(h)
    z = levels(confidence)
    width = float(energies[-1])

    if data.kind == "number":
        e_iv = (
            linear_interval(energy_v, sd_e, z["end"], (0.0, width), "linear")
            if two_shots
            else no_interval(energy_v, "linear")
        )
        return _cavity_result(
            data,
            model,
            m,
            omega,
            e_iv,
            None,
            None,
            None,
            pops,
            pops_std,
            mle_state,
            top,
            tol,
            confidence,
            bootstrap,
            seed,
            math.nan,
            mle_figs,
        )

    # parity data: purity, ergotropy, fidelity
    lev = group_levels(energies)
    var_x = model.variances(counts)
    purity_hat = float(1.0 / d + np.sum(x**2 - var_x))
    w_plug, g_w = ergotropy_functional(lin, energies, np.eye(d))
    w_point = min(w_plug, energy_v - float(min_linear_on_purity_ball(*lev, purity_hat)))
    mle_figs["ergotropy"] = float(ergotropy_functional(mle_state, energies, np.eye(d))[0])
    mle_figs["purity"] = float(np.real(np.trace(mle_state @ mle_state)))
    rank = 0
    vecs = vals = None
    if tgt is not None:
        wt, vt = np.linalg.eigh(tgt)
        keep = wt > 1e-10
        vecs, vals = vt[:, keep], wt[keep]
        rank = int(keep.sum())
        mle_figs["fidelity"] = uhlmann_fidelity(mle_state, tgt)
    if not two_shots:
        f_iv = None
        if rank:
            f_iv = no_interval(mle_figs["fidelity"], "mle plug-in")
        return _cavity_result(
            data,
            model,
            m,
            omega,
            no_interval(energy_v, "linear"),
            no_interval(w_point, "capped plug-in"),
            no_interval(purity_hat, "unbiased"),
            f_iv,
            pops,
            pops_std,
            mle_state,
            top,
            tol,
            confidence,
            bootstrap,
            seed,
            math.nan,
            mle_figs,
        )

    boot_rng, split_rng = streams(seed)
    reps_x = np.zeros((0, x.size))
    reps_p = np.zeros(0)
    if bootstrap:
        rs = resample(boot_rng, counts, bootstrap)
        reps_x = model.estimate(rs)
        reps_p = 1.0 / d + np.sum(reps_x**2 - model.variances(rs), axis=-1)
    # purity: unbiased, with the package's error model in coordinates c = sqrt(D) x, d = D
    scale = math.sqrt(d)
    g_p = 2.0 * model.density(x) - 2.0 * np.eye(d) / d  # gradient of sum x^2 as an operator: 2 sum x_k B_k
    delta_var = stat(g_p)[1] ** 2
    # purity_error forms the Gram matrix of the deviations (B x B, and its cube's trace): its moments of the
    # covariance are estimated from at most _PURITY_REPLICATES replicates (relative error ~ 1/sqrt(1000) on tr S^2)
    devs = scale * (reps_x[:_PURITY_REPLICATES] - x)
    perr: PurityError = purity_error(purity_hat, delta_var, scale * x, devs, float(d))
    e_iv = linear_interval(energy_v, sd_e, z["end"], (0.0, width), "linear")
    p_iv = finish(purity_hat, *perr.bounds(z["end"]), (1.0 / d, 1.0), perr.std, 0.0, "unbiased")

    # ergotropy (as estimate_battery)
    _, sd_gw = stat(g_w)
    purity_up = perr.bounds(z["quarter"])[1]
    upper = capped_upper(w_plug, sd_gw, energy_v, sd_e, float(min_linear_on_purity_ball(*lev, purity_up)), z)
    half_a, half_b = split_halves(split_rng, counts)
    lin_a = model.density(model.estimate(half_a))
    _, g_wa = ergotropy_functional(lin_a, energies, np.eye(d))
    work, sd_work = stat(g_wa, half_b)
    lower = work - z["end"] * sd_work
    w_reps = np.zeros(0)
    if bootstrap:
        rho_b = model.density(reps_x)
        e_b = np.real(np.einsum("bii,i->b", rho_b, energies))
        spectra = np.linalg.eigvalsh(rho_b)
        w_b = e_b - np.sort(spectra, axis=-1)[:, ::-1] @ energies
        w_reps = np.minimum(w_b, e_b - min_linear_on_purity_ball(*lev, reps_p))
    w_iv = finish(w_point, lower, upper, (0.0, width), *std_bias(w_reps, w_point), "capped plug-in")

    f_iv = None
    if rank == 1:
        assert vecs is not None
        psi = vecs[:, 0]
        f_v, sd_f = stat(np.outer(psi, psi.conj()))
        f_iv = linear_interval(f_v, sd_f, z["end"], (0.0, 1.0), "linear")
    elif rank > 1:
        assert vecs is not None and vals is not None
        # lower end: the better of the plug-in's Alberti certificate and the linear bound F >= Tr[rho sigma]
        # (||sqrt(rho) sqrt(sigma)||_1^2 >= ||.||_2^2), each at level a / 2
        f_point, m_plug = fidelity_functional(lin, vecs, vals, regularise=False)
        assert tgt is not None
        overlap, sd_o = stat(tgt)
        f_low = overlap - z["half"] * sd_o
        estimate = "plug-in"
        if m_plug is None:  # no certificate: the maximum-likelihood state's fidelity is the point
            f_point, estimate = mle_figs["fidelity"], "mle plug-in"
        else:
            f_low = max(f_low, f_point - z["half"] * stat(m_plug)[1])
        _, m_a = fidelity_functional(lin_a, vecs, vals, regularise=True)
        f_b, sd_b = stat(m_a, half_b)
        f_reps = np.zeros(0)
        if bootstrap:
            f_reps = np.array([fidelity_functional(r, vecs, vals, regularise=False)[0] for r in model.density(reps_x)])
        f_iv = finish(f_point, f_low, f_b + z["end"] * sd_b, (0.0, 1.0), *std_bias(f_reps, f_point), estimate)
    return _cavity_result(
        data,
        model,
        m,
        omega,
        e_iv,
        w_iv,
        p_iv,
        f_iv,
        pops,
        pops_std,
        mle_state,
        top,
        tol,
        confidence,
        bootstrap,
        seed,
        min(max(lower, 0.0), width),
        mle_figs,
    )


def _cavity_result(
    data: CavityData,
    model: CavityModel,
    m: CavityMeasurement,
    omega: float,
    energy: Interval,
    ergotropy: Interval | None,
    purity: Interval | None,
    fidelity: Interval | None,
    pops: np.ndarray,
    pops_std: np.ndarray,
    state: np.ndarray,
    top: float,
    tol: float,
    confidence: float,
    bootstrap: int,
    seed: int,
    lower: float,
    mle_figs: dict[str, float],
) -> CavityEstimate:
    return CavityEstimate(
        kind=data.kind,
        cutoff=model.dim,
        omega=omega,
        energy=energy,
        ergotropy=ergotropy,
        purity=purity,
        fidelity=fidelity,
        populations=readonly(pops),
        population_std=readonly(pops_std),
        state=readonly(state),
        top_level_weight=top,
        cutoff_tolerance=tol,
        settings=int(data.points.size),
        shots=data.shots,
        confidence=confidence,
        bootstrap=bootstrap,
        seed=seed,
        measurement=m,
        condition=model.condition,
        ergotropy_lower=lower,
        mle_figures=mle_figs,
    )
