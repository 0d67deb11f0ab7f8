"""The linear measurement model of Pauli-setting tomography, and the fitters built on it.

Pauli coordinates: rho = 2^-n sum_P c_P P over P = P_0 (x) ... (x) P_{n-1}, P_k in {I, X, Y, Z} (Qiskit Z =
diag(+1, -1)), c_P = Tr[rho P]; the Pauli index is sum_k code(P_k) 4^(n-1-k) with I, X, Y, Z = 0, 1, 2, 3.

Measurement model. Setting s measures P_k = s_k on position k. With per-qubit, per-basis matrices M[k, b]
(``ReadoutModel.matrices`` or ``MeasurementNoise.matrices``: readout confusion, and with the latter the
basis-change gates' errors) the outcome probabilities are

    p_s(m) = sum_j K_s[m, j] c_{P(s, j)},    K_s = M[0, s_0] (x) ... (x) M[n-1, s_{n-1}],

where j runs over the 2^n patterns "position k carries I (bit 0) or s_k (bit 1)". An index table idx[s, j] =
P(s, j) and the n x 3 matrices hold the whole model (``LinearModel``, cached per (settings, measurement model));
K_s is never formed: it is applied qubit by qubit.

Linear inversion: per setting c^(s) = K_s^-1 f_s (f_s the observed frequencies); each c_P is the shot-weighted mean
of the c^(s)_j over the (s, j) with P(s, j) = P. Every c_P, and so Tr[rho_lin O] for any operator O, is a fixed
linear function of the frequencies: unbiased, with an exactly computable multinomial variance
(``LinearModel.functional``). For ideal readout this is the least-squares solution of the overcomplete system.

Fitters (all return a density matrix in physics order, d = 2^n):

* ``fit_linear``: the linear-inversion estimate (Hermitian, trace 1, possibly not positive).
* ``fit_projected``: the closest density matrix in Frobenius norm to it (Smolin, Gambetta, Smith, PRL 108,
  070502 (2012)): keep the eigenvectors, project the eigenvalues onto the probability simplex.
* ``fit_mle``: maximum likelihood, max_rho sum_{s,m} n_s(m) log p_s(m) over density matrices, by the R rho R
  iteration (Hradil 1997; diluted steps, Rehacek et al. PRA 75, 042108 (2007), whenever a step lowers the
  likelihood), started from the projected estimate mixed with 1e-3 of I/d.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from qbhw.errors import ParameterError
from qbhw.physics.operators import IDENTITY, PAULI_X, PAULI_Y, PAULI_Z
from qbhw.tomography._data import MeasurementNoise, ReadoutModel, TomographyData

_CODE = {"I": 0, "X": 1, "Y": 2, "Z": 3}
#: largest register for full tomography (memory of the Pauli-to-matrix map grows as 8^n)
MAX_QUBITS = 8


def _kron_all(mats: Sequence[np.ndarray]) -> np.ndarray:
    return functools.reduce(np.kron, mats)


@functools.lru_cache(maxsize=16)
def pauli_to_matrix(n: int) -> sp.csr_matrix:
    """Sparse map c -> vec(sum_P c_P P), rows i*d + j (row-major vec), d = 2^n; 2^n * 4^n non-zeros."""
    singles = [IDENTITY, PAULI_X, PAULI_Y, PAULI_Z]
    xbit = np.array([0, 1, 1, 0])
    phase1 = np.array([[s[a, a ^ x] for a in range(2)] for s, x in zip(singles, xbit, strict=True)])  # (4, 2)
    phase = _kron_all([phase1] * n)  # (4^n, 2^n): entry P[i, i ^ x(P)]
    d = 2**n
    xmask = np.zeros(1, dtype=np.int64)
    for _ in range(n):
        xmask = (xmask[:, None] * 2 + xbit[None, :]).reshape(-1)
    rows_i = np.arange(d)[None, :]
    cols_j = rows_i ^ xmask[:, None]
    rows = (rows_i * d + cols_j).reshape(-1)
    paulis = np.repeat(np.arange(4**n), d)
    return sp.csr_matrix((phase.reshape(-1), (rows, paulis)), shape=(d * d, 4**n))


def pauli_density(c: np.ndarray, n: int) -> np.ndarray:
    """rho (or a stack of them, shape (..., 2^n, 2^n)) from Pauli vectors (..., 4^n); Hermitian by construction."""
    d = 2**n
    lead = c.shape[:-1]
    vec = pauli_to_matrix(n) @ c.reshape(-1, 4**n).T  # (d^2, B)
    rho = (vec.T / d).reshape(*lead, d, d)
    return 0.5 * (rho + np.conj(np.swapaxes(rho, -1, -2)))


@functools.lru_cache(maxsize=16)
def _matrix_to_pauli(n: int) -> sp.csr_matrix:
    """Sparse map vec(op) -> Tr[op P] over the Paulis (the conjugate transpose of ``pauli_to_matrix``)."""
    return pauli_to_matrix(n).conj().T.tocsr()


def pauli_vector(op: np.ndarray, n: int) -> np.ndarray:
    """Tr[op P] for every Pauli P (op of shape (..., 2^n, 2^n)); real part (op Hermitian)."""
    d = 2**n
    lead = op.shape[:-2]
    vec = np.asarray(op, dtype=complex).reshape(-1, d * d)
    c = (_matrix_to_pauli(n) @ vec.T).T
    return np.real(c).reshape(*lead, 4**n)


def embedded_indices(keep: Sequence[int], n: int) -> np.ndarray:
    """Register Pauli index of P_B (x) I for every Pauli index of the sorted positions ``keep``: the reduced state
    of those positions has Pauli vector c[embedded_indices(keep, n)]."""
    m = len(keep)
    codes = (np.arange(4**m)[:, None] >> (2 * np.arange(m - 1, -1, -1))[None, :]) & 3  # (4^m, m)
    weights = 4 ** (n - 1 - np.asarray(keep, dtype=np.int64))
    return codes @ weights


def kron_apply(mats: np.ndarray, codes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """y[..., s, :] = (mats[0, codes[s, 0]] (x) ... (x) mats[n-1, codes[s, n-1]]) x[..., s, :], qubit by qubit;
    mats (n, 3, 2, 2), codes (S, n) basis indices, x (..., S, 2^n) with position 0 the most significant bit.
    Each 2 x 2 step is written out elementwise (broadcast over settings): no per-setting matrix is formed."""
    n = mats.shape[0]
    lead = x.shape[:-2]
    s = x.shape[-2]
    out = np.asarray(x, dtype=float)
    for k in range(n):
        t = out.reshape(*lead, s, 2**k, 2, 2 ** (n - 1 - k))
        m = mats[k][codes[:, k]][:, :, :, None, None]  # (S, 2, 2, 1, 1): broadcasts against (S, 2^k, 2^(n-1-k))
        x0, x1 = t[..., 0, :], t[..., 1, :]
        y = np.empty_like(t)
        y[..., 0, :] = m[:, 0, 0] * x0 + m[:, 0, 1] * x1
        y[..., 1, :] = m[:, 1, 0] * x0 + m[:, 1, 1] * x1
        out = y
    return out.reshape(*lead, s, 2**n)


@dataclass(frozen=True, eq=False)
class LinearModel:
    """The measurement model of a set of settings (module doc).

    ``idx[s, j]`` Pauli index measured by pattern j of setting s; ``codes[s, k]`` the basis (0, 1, 2 = X, Y, Z)
    of position k in setting s; ``mats`` / ``inv`` the (n, 3, 2, 2) per-qubit matrices M[k, b] and inverses;
    ``complete``: every Pauli is in some setting (informationally complete).
    """

    n: int
    idx: np.ndarray
    codes: np.ndarray
    mats: np.ndarray
    inv: np.ndarray
    complete: bool

    @property
    def settings_count(self) -> int:
        return int(self.idx.shape[0])

    def averaging(self, shots: np.ndarray) -> sp.csr_matrix:
        """Sparse (4^n x S 2^n) map from per-setting estimates c^(s)_j to their shot-weighted means c_P."""
        s, m = self.idx.shape
        w = np.repeat(np.asarray(shots, dtype=float), m)
        rows = self.idx.reshape(-1)
        den = np.bincount(rows, weights=w, minlength=4**self.n)
        return sp.csr_matrix((w / den[rows], (rows, np.arange(s * m))), shape=(4**self.n, s * m))

    def per_setting(self, freqs: np.ndarray) -> np.ndarray:
        """c^(s)_j = (K_s^-1 f_s)_j for frequencies (..., S, 2^n): the mean of the per-shot values K_s^-1[j, m]."""
        return kron_apply(self.inv, self.codes, freqs)

    def per_setting_second(self, freqs: np.ndarray) -> np.ndarray:
        """sum_m K_s^-1[j, m]^2 f_s(m): the mean of the squared per-shot values (the Kronecker structure survives
        the elementwise square)."""
        return kron_apply(self.inv**2, self.codes, freqs)

    def linear(self, counts: np.ndarray, average: sp.csr_matrix | None = None) -> np.ndarray:
        """Linear-inversion Pauli vectors (..., 4^n) from counts (..., S, 2^n); ``average`` (from ``averaging`` with
        the shots per setting) may be passed to reuse it for a stack of data sets with equal shots."""
        shots = counts.sum(axis=-1)
        if average is None:
            average = self.averaging(shots.reshape(-1, shots.shape[-1])[0])
        return self.from_per_setting(self.per_setting(counts / shots[..., None]), average)

    def from_per_setting(self, chat: np.ndarray, average: sp.csr_matrix) -> np.ndarray:
        """Pauli vectors (..., 4^n) from per-setting estimates (..., S, 2^n) and the averaging operator."""
        lead = chat.shape[:-2]
        flat = chat.reshape(-1, chat.shape[-2] * chat.shape[-1])
        c = np.asarray(average @ flat.T).T.reshape(*lead, 4**self.n)
        c[..., 0] = 1.0
        return c

    def density(self, c: np.ndarray) -> np.ndarray:
        """rho (or a stack) from Pauli vectors (..., 4^n)."""
        return pauli_density(c, self.n)

    def paulis(self, rho: np.ndarray) -> np.ndarray:
        """c_P = Tr[rho P] for rho of shape (..., d, d)."""
        return pauli_vector(rho, self.n)

    def probabilities(self, c: np.ndarray) -> np.ndarray:
        """p_s(m) of shape (..., S, 2^n) from Pauli vectors (..., 4^n)."""
        return kron_apply(self.mats, self.codes, c[..., self.idx])

    def effect_weights(self, w: np.ndarray) -> np.ndarray:
        """sum_m w[s, m] K_s[m, j]: the weight of the Pauli P(s, j) in sum_{s,m} w[s, m] E_{s,m}."""
        return kron_apply(np.swapaxes(self.mats, -1, -2), self.codes, w)

    def functional(self, g: np.ndarray, average: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """(g0, a) such that sum_P g_P c_P of the linear-inversion estimate equals g0 + sum_{s,m} a[s, m] f_s(m),
        for one or several coefficient vectors g of shape (..., 4^n) (c_I = 1 is fixed: g0 = g_I); ``average``
        from ``averaging`` with the data's shots per setting."""
        g = np.asarray(g, dtype=float)
        lead = g.shape[:-1]
        flat = g.reshape(-1, 4**self.n).copy()
        g0 = flat[:, 0].copy()
        flat[:, 0] = 0.0
        coef = np.asarray(flat @ average).reshape(-1, *self.idx.shape)  # weight of c^(s)_j
        a = kron_apply(np.swapaxes(self.inv, -1, -2), self.codes, coef)  # weight of f_s(m)
        return g0.reshape(lead), a.reshape(*lead, *self.idx.shape)


@functools.lru_cache(maxsize=16)
def linear_model(settings: tuple[str, ...], measurement: ReadoutModel | MeasurementNoise | None) -> LinearModel:
    """The (cached) LinearModel of validated ``settings`` with a measurement model (None: ideal readout)."""
    n = len(settings[0])
    if n > MAX_QUBITS:
        raise ParameterError("settings", f"at most {MAX_QUBITS} qubits for full tomography", n)
    codes = np.array([[_CODE[c] for c in s] for s in settings])  # (S, n), X, Y, Z = 1, 2, 3
    patterns = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)[None, :]) & 1  # (2^n, n), bit of position k
    weights = 4 ** np.arange(n - 1, -1, -1)
    idx = (patterns[None, :, :] * codes[:, None, :]) @ weights  # (S, 2^n)
    if measurement is None:
        measurement = ReadoutModel.ideal(n)
    if measurement.num_qubits != n:
        name = "readout" if isinstance(measurement, ReadoutModel) else "noise"
        raise ParameterError(name, f"a model of {n} qubits (the data's)", measurement.num_qubits)
    mats = measurement.matrices()
    inv = np.linalg.inv(mats)
    complete = np.unique(idx).size == 4**n
    for a in (idx, mats, inv):
        a.setflags(write=False)
    return LinearModel(n, idx, codes - 1, mats, inv, bool(complete))


def model_for(data: TomographyData, readout: ReadoutModel | None, noise: MeasurementNoise | None = None) -> LinearModel:
    """The LinearModel of ``data``'s settings with the readout model or the measurement noise (at most one)."""
    if not isinstance(data, TomographyData):
        raise ParameterError("data", "a TomographyData", type(data).__name__)
    if readout is not None and not isinstance(readout, ReadoutModel):
        raise ParameterError("readout", "a ReadoutModel or None", type(readout).__name__)
    if noise is not None and not isinstance(noise, MeasurementNoise):
        raise ParameterError("noise", "a MeasurementNoise or None", type(noise).__name__)
    if readout is not None and noise is not None:
        raise ParameterError("noise", "None when readout is given (noise includes the readout)", "both")
    return linear_model(data.settings, noise if noise is not None else readout)


def require_complete(model: LinearModel) -> None:
    if not model.complete:
        raise ParameterError(
            "data",
            "settings that contain every Pauli operator (informationally complete; use pauli_settings(n))",
            "an incomplete set of settings",
        )


def project_to_simplex(values: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row (last axis) onto the probability simplex {x >= 0, sum x = 1}."""
    v = np.asarray(values, dtype=float)
    u = -np.sort(-v, axis=-1)
    css = np.cumsum(u, axis=-1) - 1.0
    ind = np.arange(1, v.shape[-1] + 1)
    cond = u - css / ind > 0
    rho = v.shape[-1] - 1 - np.argmax(cond[..., ::-1], axis=-1)  # last index where cond holds
    theta = np.take_along_axis(css, rho[..., None], axis=-1) / (rho[..., None] + 1.0)
    return np.clip(v - theta, 0.0, None)


def project(rho: np.ndarray) -> np.ndarray:
    """Closest density matrix (Frobenius norm) to Hermitian unit-trace matrices (..., d, d)."""
    w, v = np.linalg.eigh(rho)
    p = project_to_simplex(w)
    out = (v * p[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))
    return 0.5 * (out + np.conj(np.swapaxes(out, -1, -2)))


def fit_linear(data: TomographyData, *, readout: ReadoutModel | None = None) -> np.ndarray:
    """Linear-inversion estimate (Hermitian, trace 1, possibly not positive), physics order; see module doc."""
    model = model_for(data, readout)
    require_complete(model)
    return model.density(model.linear(np.asarray(data.array)))


def fit_projected(data: TomographyData, *, readout: ReadoutModel | None = None) -> np.ndarray:
    """Closest physical state to the linear-inversion estimate (Smolin-Gambetta-Smith), physics order."""
    return project(fit_linear(data, readout=readout))


_MLE_MAX_ITER = 5000
_MLE_TOL = 1e-10


def mle(model: LinearModel, counts: np.ndarray, rho0: np.ndarray) -> np.ndarray:
    """R rho R iteration for one data set (counts (S, 2^n)), with dilution when a step does not increase L."""
    d = 2**model.n
    total = counts.sum()
    rho = 0.999 * rho0 + 0.001 * np.eye(d) / d
    mask = counts > 0
    to_matrix = pauli_to_matrix(model.n)

    def loglik(c: np.ndarray) -> tuple[float, np.ndarray]:
        p = model.probabilities(c)
        return float(np.sum(counts[mask] * np.log(np.clip(p[mask], 1e-300, None)))), p

    c = model.paulis(rho)
    ll, p = loglik(c)
    eps = np.inf
    for _ in range(_MLE_MAX_ITER):
        w = np.where(mask, counts / (total * np.clip(p, 1e-300, None)), 0.0)  # n/(N p)
        g = np.bincount(model.idx.reshape(-1), weights=model.effect_weights(w).reshape(-1), minlength=4**model.n)
        r = (to_matrix @ g).reshape(d, d)  # R = sum_{s,m} w E_{s,m}
        while True:
            step = r if np.isinf(eps) else (np.eye(d) + eps * r) / (1.0 + eps)
            new = step @ rho @ step.conj().T
            new = 0.5 * (new + new.conj().T) / np.real(np.trace(new))
            ll_new, p_new = loglik(model.paulis(new))
            if ll_new >= ll - 1e-12 * abs(ll) or eps < 1e-6:
                break
            eps = 1.0 if np.isinf(eps) else eps / 2.0
        change = np.abs(new - rho).max()
        rho, ll, p = new, ll_new, p_new
        if change < _MLE_TOL:
            break
    return rho


def fit_mle(data: TomographyData, *, readout: ReadoutModel | None = None) -> np.ndarray:
    """Maximum-likelihood density matrix (physics order) under the (noisy) POVM model; see module doc."""
    model = model_for(data, readout)
    require_complete(model)
    counts = np.asarray(data.array)
    return mle(model, counts, project(model.density(model.linear(counts))))


def pauli_expectations(data: TomographyData, *, readout: ReadoutModel | None = None) -> dict[str, float]:
    """Linear-inversion estimates of Tr[rho P] for every Pauli string P over "IXYZ" (character k = register
    position k, Qiskit Z = diag(+1, -1)) that some setting measures."""
    model = model_for(data, readout)
    c = model.linear(np.asarray(data.array))
    labels = "IXYZ"
    out = {}
    for p in np.unique(model.idx):
        s = "".join(labels[(int(p) >> (2 * (model.n - 1 - k))) & 3] for k in range(model.n))
        out[s] = float(c[p])
    return out


def check_state(rho: np.ndarray, name: str = "rho") -> np.ndarray:
    """A density matrix of dimension 2^n (Hermitian, trace 1, positive semidefinite to 1e-8), Hermitian part."""
    r = np.asarray(rho, dtype=complex)
    if r.ndim != 2 or r.shape[0] != r.shape[1] or r.shape[0] < 2 or r.shape[0] & (r.shape[0] - 1):
        raise ParameterError(name, "a square matrix of dimension 2^n", r.shape)
    tol = 1e-8  # rounding of a state built in floating point
    if (
        not np.all(np.isfinite(r))
        or not np.allclose(r, r.conj().T, atol=tol)
        or abs(np.trace(r) - 1) > tol
        or np.linalg.eigvalsh(0.5 * (r + r.conj().T))[0] < -tol
    ):
        raise ParameterError(name, "a density matrix (Hermitian, trace 1, positive semidefinite)", "other matrix")
    return 0.5 * (r + r.conj().T)
