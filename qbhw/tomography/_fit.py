"""Measurement model, fitters and exact sampling for Pauli-setting tomography.

Pauli coordinates: rho = 2^-n sum_P c_P P over P = P_0 (x) ... (x) P_{n-1}, P_k in {I, X, Y, Z} (Qiskit Z =
diag(+1, -1)), c_P = Tr[rho P]; the Pauli index is sum_k code(P_k) 4^(n-1-k) with I, X, Y, Z = 0, 1, 2, 3.

Measurement model. Setting s measures P_k = s_k on position k; with readout confusion A_k[m, t] the outcome
probabilities are

    p_s(m) = sum_j K[m, j] c_{P(s, j)},    K = M_0 (x) ... (x) M_{n-1},   M_k = A_k [[1/2, 1/2], [1/2, -1/2]],

where j runs over the 2^n patterns "position k carries I (bit 0) or s_k (bit 1)". Equivalently the noisy POVM
effects are E_{s,m} = sum_j K[m, j] P(s, j). K does not depend on the setting, so one 2^n x 2^n matrix and an
index table idx[s, j] = P(s, j) hold the whole model; they are cached per (settings, readout).

Fitters (all return a density matrix in physics order, d = 2^n):

* ``fit_linear``: per setting c^(s) = K^-1 f_s (the unique solution of that setting's block of p = B c, i.e. the
  least-squares solution with the noisy effects); each c_P is the shot-weighted mean over the settings that
  contain P. Unbiased, may be unphysical. For ideal readout K is a scaled orthogonal matrix and this IS the
  least-squares solution of the full overcomplete system.
* ``fit_projected``: the closest density matrix in Frobenius norm to the linear estimate (Smolin, Gambetta,
  Smith, PRL 108, 070502 (2012)): keep the eigenvectors, project the eigenvalues onto the probability simplex.
  One matrix product + one eigendecomposition per fit.
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
from qbhw.tomography._data import ReadoutModel, TomographyData
from qbhw.tomography._settings import check_settings

_CODE = {"I": 0, "X": 1, "Y": 2, "Z": 3}
_HALF = np.array([[0.5, 0.5], [0.5, -0.5]])  # rows: true outcome t, columns: (I, sigma)
#: largest register for full tomography (memory of the Pauli-to-matrix map grows as 8^n)
MAX_QUBITS = 8


@dataclass(frozen=True)
class _Model:
    n: int
    idx: np.ndarray  # (S, 2^n) Pauli index of pattern j in setting s
    k: np.ndarray  # (2^n, 2^n) K
    k_inv: np.ndarray  # (2^n, 2^n) K^-1
    to_matrix: sp.csr_matrix  # (4^n, 4^n): vec(rho) (row-major) = to_matrix @ c / 2^n
    complete: bool  # every Pauli is in some setting


def _kron_all(mats: Sequence[np.ndarray]) -> np.ndarray:
    return functools.reduce(np.kron, mats)


@functools.lru_cache(maxsize=16)
def _pauli_to_matrix(n: int) -> sp.csr_matrix:
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


@functools.lru_cache(maxsize=16)
def _model(settings: tuple[str, ...], readout: ReadoutModel | None) -> _Model:
    n = len(settings[0])
    if n > MAX_QUBITS:
        raise ParameterError("settings", f"at most {MAX_QUBITS} qubits for full tomography", n)
    codes = np.array([[_CODE[c] for c in s] for s in settings])  # (S, n)
    patterns = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)[None, :]) & 1  # (2^n, n), bit of position k
    weights = 4 ** np.arange(n - 1, -1, -1)
    idx = (patterns[None, :, :] * codes[:, None, :]) @ weights  # (S, 2^n)
    if readout is None:
        ms = [_HALF] * n
    else:
        if readout.num_qubits != n:
            raise ParameterError("readout", f"a ReadoutModel of {n} qubits (the data's)", readout.num_qubits)
        ms = [readout.confusion(k) @ _HALF for k in range(n)]
    k = _kron_all(ms)
    k_inv = _kron_all([np.linalg.inv(m) for m in ms])
    complete = np.unique(idx).size == 4**n
    return _Model(n, idx, k, k_inv, _pauli_to_matrix(n), bool(complete))


def _model_for(data: TomographyData, readout: ReadoutModel | None) -> _Model:
    if not isinstance(data, TomographyData):
        raise ParameterError("data", "a TomographyData", type(data).__name__)
    if readout is not None and not isinstance(readout, ReadoutModel):
        raise ParameterError("readout", "a ReadoutModel or None", type(readout).__name__)
    return _model(data.settings, readout)


def _require_complete(model: _Model) -> None:
    if not model.complete:
        raise ParameterError(
            "data",
            "settings that contain every Pauli operator (informationally complete; use pauli_settings(n))",
            "an incomplete set of settings",
        )


def _averaging_operator(model: _Model, shots: np.ndarray) -> sp.csr_matrix:
    """Sparse (4^n x S 2^n) map from per-setting estimates c^(s)_j to the shot-weighted means c_P."""
    s, m = model.idx.shape
    w = np.repeat(np.asarray(shots, dtype=float), m)
    cols = np.arange(s * m)
    rows = model.idx.reshape(-1)
    den = np.bincount(rows, weights=w, minlength=4**model.n)
    return sp.csr_matrix((w / den[rows], (rows, cols)), shape=(4**model.n, s * m))


def _linear_paulis(model: _Model, counts: np.ndarray, average: sp.csr_matrix | None = None) -> np.ndarray:
    """Linear-inversion Pauli vectors from counts of shape (..., S, 2^n); returns (..., 4^n) real.

    ``average`` (from ``_averaging_operator`` with the per-setting shots) may be passed to reuse it for a stack
    of resampled data sets with the same shots per setting.
    """
    shots = counts.sum(axis=-1)
    if average is None:
        average = _averaging_operator(model, shots.reshape(-1, shots.shape[-1])[0])
    freqs = counts / shots[..., None]
    chat = freqs @ model.k_inv.T  # (..., S, 2^n): per-setting estimates of c over the patterns
    lead = counts.shape[:-2]
    c = (average @ chat.reshape(-1, chat.shape[-2] * chat.shape[-1]).T).T.reshape(*lead, 4**model.n)
    c[..., 0] = 1.0
    return c


def _to_density(model: _Model, c: np.ndarray) -> np.ndarray:
    """rho (or a stack of them) from Pauli vectors (..., 4^n)."""
    d = 2**model.n
    lead = c.shape[:-1]
    vec = model.to_matrix @ c.reshape(-1, 4**model.n).T  # (d^2, B)
    rho = (vec.T / d).reshape(*lead, d, d)
    return 0.5 * (rho + np.conj(np.swapaxes(rho, -1, -2)))


def _to_paulis(model: _Model, rho: np.ndarray) -> np.ndarray:
    """c_P = Tr[rho P] for rho of shape (..., d, d)."""
    d = 2**model.n
    lead = rho.shape[:-2]
    vec = np.asarray(rho, dtype=complex).reshape(-1, d * d)
    c = (model.to_matrix.conj().T @ vec.T).T
    return np.real(c).reshape(*lead, 4**model.n)


def _probabilities(model: _Model, c: np.ndarray) -> np.ndarray:
    """p_s(m) of shape (..., S, 2^n) from Pauli vectors (..., 4^n)."""
    return c[..., model.idx] @ model.k.T


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


def _project(rho: np.ndarray) -> np.ndarray:
    """Closest density matrix (Frobenius norm) to Hermitian unit-trace matrices (..., d, d)."""
    w, v = np.linalg.eigh(rho)
    p = project_to_simplex(w)
    out = (v * p[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))
    return 0.5 * (out + np.conj(np.swapaxes(out, -1, -2)))


def fit_linear(data: TomographyData, *, readout: ReadoutModel | None = None) -> np.ndarray:
    """Linear-inversion estimate (Hermitian, trace 1, possibly not positive), physics order; see module doc."""
    model = _model_for(data, readout)
    _require_complete(model)
    return _to_density(model, _linear_paulis(model, data.array))


def fit_projected(data: TomographyData, *, readout: ReadoutModel | None = None) -> np.ndarray:
    """Closest physical state to the linear-inversion estimate (Smolin-Gambetta-Smith), physics order."""
    return _project(fit_linear(data, readout=readout))


_MLE_MAX_ITER = 5000
_MLE_TOL = 1e-10


def _mle(model: _Model, counts: np.ndarray, rho0: np.ndarray) -> np.ndarray:
    """R rho R iteration for one data set (counts (S, 2^n)), with dilution when a step does not increase L."""
    d = 2**model.n
    total = counts.sum()
    rho = 0.999 * rho0 + 0.001 * np.eye(d) / d
    mask = counts > 0

    def loglik(c: np.ndarray) -> tuple[float, np.ndarray]:
        p = _probabilities(model, c)
        return float(np.sum(counts[mask] * np.log(np.clip(p[mask], 1e-300, None)))), p

    c = _to_paulis(model, rho)
    ll, p = loglik(c)
    eps = np.inf
    for _ in range(_MLE_MAX_ITER):
        w = np.where(mask, counts / (total * np.clip(p, 1e-300, None)), 0.0)  # n/(N p)
        g = np.bincount(model.idx.reshape(-1), weights=(w @ model.k).reshape(-1), minlength=4**model.n)
        r = (model.to_matrix @ g).reshape(d, d)  # R = sum_{s,m} w E_{s,m}
        while True:
            step = r if np.isinf(eps) else (np.eye(d) + eps * r) / (1.0 + eps)
            new = step @ rho @ step.conj().T
            new = 0.5 * (new + new.conj().T) / np.real(np.trace(new))
            c_new = _to_paulis(model, new)
            ll_new, p_new = loglik(c_new)
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
    model = _model_for(data, readout)
    _require_complete(model)
    start = _project(_to_density(model, _linear_paulis(model, data.array)))
    return _mle(model, data.array, start)


def pauli_expectations(data: TomographyData, *, readout: ReadoutModel | None = None) -> dict[str, float]:
    """Linear-inversion estimates of Tr[rho P] for every Pauli string P over "IXYZ" (character k = register
    position k, Qiskit Z = diag(+1, -1)) that some setting measures."""
    model = _model_for(data, readout)
    c = _linear_paulis(model, data.array)
    labels = "IXYZ"
    out = {}
    for p in np.unique(model.idx):
        s = "".join(labels[(int(p) >> (2 * (model.n - 1 - k))) & 3] for k in range(model.n))
        out[s] = float(c[p])
    return out


def _check_state(rho: np.ndarray, name: str = "rho") -> np.ndarray:
    r = np.asarray(rho, dtype=complex)
    if r.ndim != 2 or r.shape[0] != r.shape[1] or r.shape[0] < 2 or r.shape[0] & (r.shape[0] - 1):
        raise ParameterError(name, "a square matrix of dimension 2^n", r.shape)
    tol = 1e-8  # rounding of a state built in floating point
    if (
        not np.allclose(r, r.conj().T, atol=tol)
        or abs(np.trace(r) - 1) > tol
        or np.linalg.eigvalsh(0.5 * (r + r.conj().T))[0] < -tol
    ):
        raise ParameterError(name, "a density matrix (Hermitian, trace 1, positive semidefinite)", "other matrix")
    return 0.5 * (r + r.conj().T)


def outcome_probabilities(
    rho: np.ndarray, settings: Sequence[str], *, readout: ReadoutModel | None = None
) -> np.ndarray:
    """Exact outcome probabilities (settings x 2^n, outcome index in physics order) of the state ``rho``
    (physics order) for the given settings, including the readout confusion when given."""
    r = _check_state(rho)
    n = r.shape[0].bit_length() - 1
    settings = check_settings(settings, n)
    model = _model(settings, readout)
    p = _probabilities(model, _to_paulis(model, r))
    p = np.clip(p, 0.0, None)
    return p / p.sum(axis=-1, keepdims=True)


def sample_counts(
    rho: np.ndarray,
    settings: Sequence[str],
    shots_per_setting: int | Sequence[int],
    *,
    seed: int,
    readout: ReadoutModel | None = None,
) -> TomographyData:
    """Multinomial counts of the exact outcome probabilities of ``rho`` (+ readout confusion), drawn with
    ``numpy.random.default_rng(seed)``; returned as Qiskit-style counts (the seed is recorded)."""
    from qbhw import _validate

    seed = _validate.integer_at_least("seed", seed, 0)
    p = outcome_probabilities(rho, settings, readout=readout)
    settings = tuple(settings)
    if isinstance(shots_per_setting, Sequence):
        if len(shots_per_setting) != len(settings):
            raise ParameterError(
                "shots_per_setting", f"{len(settings)} values (one per setting)", len(shots_per_setting)
            )
        shots = np.array([_validate.integer_at_least("shots_per_setting", s, 1) for s in shots_per_setting])
    else:
        shots = np.full(len(settings), _validate.integer_at_least("shots_per_setting", shots_per_setting, 1))
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(shots, p)
    return TomographyData.from_array(settings, counts, seed=seed)
