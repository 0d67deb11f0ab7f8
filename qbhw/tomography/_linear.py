"""Linear functionals Tr[rho O] of the measured register from Pauli-setting counts: their linear-inversion estimates
and the exact multinomial covariance of those estimates.

Estimator. O = sum_P o_P P over the Pauli strings P (Qiskit's X, Y, Z = diag(1, -1) on each position, physics
order), o_P = Tr[P O] / 2^n. Setting s measures every P whose non-identity positions T carry the setting's Paulis;
its outcome m (bit m_k = 0: the +1 eigenvalue, as in qbhw.tomography) is an unbiased single-shot estimate
prod_{k in T} lambda_k(m_k) of <P>, with lambda_k = A_k^{-T} (1, -1) and A_k[read, true] the readout confusion of
position k (ideal readout: lambda = (1, -1)). <P> is the shot-weighted mean over the settings that measure it (the
linear inversion of ``fit_linear``), so

    T_hat(O) = o_I + sum_{s,m} a_{s,m} f_s(m),
    a_{s,m} = sum_{P != I measured by s} o_P (N_s / N_P) prod_{k in T(P)} lambda_k(m_k),

with f_s the outcome frequencies of setting s, N_s its shots and N_P the shots of all settings that measure P.
T_hat is unbiased for every state (given the measurement model) and linear in the frequencies of independent
multinomial settings, hence

    Cov(T_hat(O_i), T_hat(O_j)) = sum_s [sum_m a^i a^j p_s(m) - (sum_m a^i p_s(m)) (sum_m a^j p_s(m))] / N_s,

reported at the observed frequencies p_s = f_s (plug-in; consistent as the shots grow). A normal interval
T_hat -/+ z sigma then covers Tr[rho O] at the nominal rate asymptotically in the shots (central limit theorem for
a sum of independent multinomial frequencies).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qbhw._arrays import readonly
from qbhw.errors import ParameterError
from qbhw.physics.operators import IDENTITY, PAULI_X, PAULI_Y, PAULI_Z
from qbhw.tomography._data import ReadoutModel, TomographyData

_CODE = {"X": 1, "Y": 2, "Z": 3}
_PAULI_MATRICES = np.stack([IDENTITY, PAULI_X, PAULI_Y, PAULI_Z])


@dataclass(frozen=True, eq=False)
class LinearEstimates:
    """Linear-inversion estimates of Tr[rho O_i] (``values``, shape (K,)) and their covariance (K, K), exact for the
    multinomial counts and evaluated at the observed frequencies (module docstring)."""

    values: np.ndarray
    covariance: np.ndarray

    @property
    def std(self) -> np.ndarray:
        """Standard deviation of each estimate."""
        return np.sqrt(np.maximum(np.diag(self.covariance), 0.0))


def pauli_coefficients(operator: np.ndarray, n: int) -> np.ndarray:
    """o_P = Tr[P O] / 2^n for all 4^n Pauli strings P, index sum_k code_k 4^(n-1-k) (codes I, X, Y, Z = 0..3,
    position 0 the leftmost factor); real for a Hermitian O."""
    t = np.asarray(operator, dtype=complex).reshape([2] * (2 * n))
    # contract (row k, column k) of every position with the four Paulis: Tr[P O] = sum_ab P[b, a] O[a, b]
    letters = "abcdefghijklmnopqrstuvwxyz"
    rows, cols = letters[:n], letters[n : 2 * n]
    out_idx = letters[2 * n : 3 * n]
    spec = rows + cols + "," + ",".join(f"{out_idx[k]}{cols[k]}{rows[k]}" for k in range(n)) + "->" + out_idx
    coeffs = np.einsum(spec, t, *([_PAULI_MATRICES] * n), optimize=True)
    return np.real(coeffs).reshape(-1) / 2**n


@functools.lru_cache(maxsize=16)
def _pattern_paulis(settings: tuple[str, ...]) -> np.ndarray:
    """(S, 2^n): Pauli index of the pattern T (bit of position 0 most significant) of each setting."""
    n = len(settings[0])
    codes = np.array([[_CODE[c] for c in s] for s in settings])
    patterns = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)[None, :]) & 1
    weights = 4 ** np.arange(n - 1, -1, -1)
    return (patterns[None, :, :] * codes[:, None, :]) @ weights


def _outcome_weights(readout: ReadoutModel | None, n: int) -> np.ndarray:
    """Lambda[T, m] = prod_{k in T} lambda_k(m_k): (2^n, 2^n), rows the patterns T, columns the outcomes m."""
    out = np.ones((1, 1))
    for k in range(n):
        lam = np.array([1.0, -1.0]) if readout is None else np.linalg.solve(readout.confusion(k).T, [1.0, -1.0])
        out = np.kron(out, np.array([[1.0, 1.0], lam]))
    return out


def linear_functionals(
    data: TomographyData, operators: Sequence[np.ndarray], *, readout: ReadoutModel | None = None
) -> LinearEstimates:
    """Linear-inversion estimates of Tr[rho O] for each Hermitian ``operators[i]`` (on the whole register, physics
    order) from ``data``, with their joint covariance (module docstring). ``readout``: the readout confusion of the
    measurement model (None: ideal readout). Raises ParameterError when an operator is not Hermitian of the
    register's size or needs a Pauli that no setting measures."""
    if not isinstance(data, TomographyData):
        raise ParameterError("data", "a TomographyData", type(data).__name__)
    n = data.num_qubits
    if readout is not None and (not isinstance(readout, ReadoutModel) or readout.num_qubits != n):
        raise ParameterError("readout", f"a ReadoutModel of {n} qubits (the data's) or None", readout)
    d = 2**n
    ops = [np.asarray(o, dtype=complex) for o in operators]
    if not ops:
        raise ParameterError("operators", "at least one operator", 0)
    for o in ops:
        if o.shape != (d, d) or not np.all(np.isfinite(o)) or not np.allclose(o, o.conj().T, atol=1e-12):
            raise ParameterError("operators", f"finite Hermitian ({d}, {d}) matrices", o.shape)
    coeffs = np.stack([pauli_coefficients(o, n) for o in ops])  # (K, 4^n)
    counts = np.asarray(data.array, dtype=float)  # (S, 2^n)
    shots = counts.sum(axis=1)
    idx = _pattern_paulis(data.settings)  # (S, 2^n)
    measured = np.bincount(idx.reshape(-1), weights=np.repeat(shots, d), minlength=4**n)  # N_P
    scale = np.max(np.abs(coeffs))
    missing = (measured == 0) & np.any(np.abs(coeffs) > 1e-14 * max(scale, 1e-300), axis=0)
    if np.any(missing[1:]):
        raise ParameterError(
            "operators", "operators whose Pauli strings the settings measure", "an unmeasured Pauli string"
        )
    safe = np.where(measured > 0, measured, 1.0)
    w = coeffs[:, idx] * (shots[:, None] / safe[idx])[None, :, :]  # (K, S, 2^n): o_P N_s / N_P per pattern
    w[:, :, 0] = 0.0  # the identity pattern: c_I = 1 is known
    a = w @ _outcome_weights(readout, n)  # (K, S, 2^n) weight of each frequency
    f = counts / shots[:, None]
    mean_s = np.einsum("ksm,sm->ks", a, f)  # (K, S)
    values = coeffs[:, 0] + mean_s.sum(axis=1)
    second = np.einsum("ksm,jsm,sm->kjs", a, a, f)
    cov = np.einsum("kjs,s->kj", second - mean_s[:, None, :] * mean_s[None, :, :], 1.0 / shots)
    cov = 0.5 * (cov + cov.T)
    return LinearEstimates(readonly(values), readonly(cov))
