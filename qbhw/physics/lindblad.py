"""Lindblad master equations on small, dense Hilbert spaces.

Superoperators act on column-stacked density matrices: vec(A X B) = (B^T kron A) vec(X), vec = ``x.reshape(-1,
order="F")``. A Liouvillian is built from H and (rate, A) pairs meaning ``rate * D[A]`` with
D[A]rho = A rho A^dagger - (1/2){A^dagger A, rho}. Every function here is exact up to floating point (matrix
exponentials, SVD null spaces); nothing is integrated with a step size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg as sla

from qbhw.errors import NonUniqueSteadyStateError

Jump = tuple[float, np.ndarray]


def vec(rho: np.ndarray) -> np.ndarray:
    return np.asarray(rho, dtype=complex).reshape(-1, order="F")


def unvec(v: np.ndarray, dim: int | None = None) -> np.ndarray:
    v = np.asarray(v)
    d = int(round(np.sqrt(v.size))) if dim is None else dim
    return v.reshape(d, d, order="F")


def left_right(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Superoperator of X -> a X b."""
    return np.kron(np.asarray(b).T, np.asarray(a))


def commutator_superop(h: np.ndarray) -> np.ndarray:
    """Superoperator of X -> -i[H, X]."""
    h = np.asarray(h, dtype=complex)
    eye = np.eye(h.shape[0])
    return -1j * (np.kron(eye, h) - np.kron(h.T, eye))


def dissipator(a: np.ndarray) -> np.ndarray:
    """Superoperator of D[A]."""
    a = np.asarray(a, dtype=complex)
    eye = np.eye(a.shape[0])
    ada = a.conj().T @ a
    return np.kron(a.conj(), a) - 0.5 * np.kron(eye, ada) - 0.5 * np.kron(ada.T, eye)


def liouvillian(hamiltonian: np.ndarray | None, jumps: Sequence[Jump], dim: int | None = None) -> np.ndarray:
    """-i[H, .] + sum_k rate_k D[A_k]. Pass ``hamiltonian=None`` (with ``dim``) for a purely dissipative part."""
    if hamiltonian is None:
        if dim is None:
            if not jumps:
                raise ValueError("liouvillian needs a Hamiltonian, a jump operator or dim")
            dim = np.asarray(jumps[0][1]).shape[0]
        out = np.zeros((dim * dim, dim * dim), dtype=complex)
    else:
        out = commutator_superop(hamiltonian)
    for rate, a in jumps:
        if rate < 0:
            raise ValueError(f"Lindblad rates must be >= 0, got {rate}")
        if rate:
            out = out + rate * dissipator(a)
    return out


def apply(superop: np.ndarray, rho: np.ndarray) -> np.ndarray:
    rho = np.asarray(rho, dtype=complex)
    return unvec(superop @ vec(rho), rho.shape[0])


def propagator(superop: np.ndarray, t: float) -> np.ndarray:
    """exp(L t)."""
    return sla.expm(np.asarray(superop) * t)


def evolve(superop: np.ndarray, rho0: np.ndarray, times: Sequence[float] | np.ndarray) -> np.ndarray:
    """rho(t) = exp(L t) rho0 for every t in ``times`` (any order, t >= 0); returns shape (len(times), d, d).

    Sorted, evenly spaced grids are propagated with one matrix exponential of the step (exact, no step error).
    """
    t_arr = np.asarray(times, dtype=float).reshape(-1)
    if np.any(t_arr < 0) or not np.all(np.isfinite(t_arr)):
        raise ValueError("times must be finite and >= 0")
    rho0 = np.asarray(rho0, dtype=complex)
    d = rho0.shape[0]
    out = np.empty((t_arr.size, d, d), dtype=np.complex128)
    if t_arr.size == 0:
        return out
    steps = np.diff(t_arr)
    uniform = t_arr.size > 2 and np.all(steps > 0) and np.allclose(steps, steps[0], rtol=1e-12, atol=0)
    if uniform:
        v = propagator(superop, t_arr[0]) @ vec(rho0)
        step = propagator(superop, steps[0])
        for k in range(t_arr.size):
            out[k] = unvec(v, d)
            v = step @ v
    else:
        for k, t in enumerate(t_arr):
            out[k] = unvec(propagator(superop, t) @ vec(rho0), d)
    return out


def integrated_evolution(superop: np.ndarray, rho0: np.ndarray, t: float) -> np.ndarray:
    """int_0^t exp(L s) rho0 ds, exactly, from the exponential of the augmented matrix [[L, v], [0, 0]]."""
    rho0 = np.asarray(rho0, dtype=complex)
    d = rho0.shape[0]
    n = d * d
    aug = np.zeros((n + 1, n + 1), dtype=complex)
    aug[:n, :n] = superop
    aug[:n, n] = vec(rho0)
    return unvec(sla.expm(aug * t)[:n, n], d)


def stationary_dimension(superop: np.ndarray, rtol: float = 1e-10) -> int:
    """Dimension of the null space of L (the number of independent stationary states, for a Lindbladian)."""
    s = np.linalg.svd(np.asarray(superop), compute_uv=False)
    return int(np.sum(s <= rtol * max(s[0], 1e-300)))


def steady_state(superop: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """The unique stationary state of L, trace one and Hermitian.

    Raises NonUniqueSteadyStateError when the null space has dimension > 1 (e.g. pure collective dissipation),
    instead of returning an arbitrary, possibly unphysical, null vector.
    """
    superop = np.asarray(superop)
    _, s, vh = np.linalg.svd(superop)
    null = int(np.sum(s <= rtol * max(s[0], 1e-300)))
    if null != 1:
        if null == 0:
            raise ArithmeticError("the Liouvillian has no stationary state at this tolerance")
        raise NonUniqueSteadyStateError(null)
    d = int(round(np.sqrt(superop.shape[0])))
    rho = unvec(vh[-1].conj(), d)
    rho = rho / np.trace(rho)
    return 0.5 * (rho + rho.conj().T)


def fixed_point(channel: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """The unique fixed point of a channel superoperator (eigenvalue 1), trace one and Hermitian."""
    channel = np.asarray(channel)
    return steady_state(channel - np.eye(channel.shape[0]), rtol=rtol)
