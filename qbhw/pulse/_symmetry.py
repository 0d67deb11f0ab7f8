"""Exact reductions of a phase-covariant, permutation-symmetric Lindbladian (for ``qbhw.pulse.collective``).

Subsystems have big-endian dims; E(i) is the total excitation number of basis state i, the sum over subsystems
of the excitation number of their level (``numbers``; by default the level index itself, as for a ladder). Two
exact reductions of L = -i[H, .] + sum_A D[A]:

1. Coherence order. If H commutes with E and every jump operator A is an eigenoperator of E ([E, A] = mu A),
   L maps a matrix element |i><j| of order E_i - E_j to elements of the same order. The states reached from a
   diagonal initial state, and a unique steady state, lie in the order-0 block {(i, j): E_i = E_j}.
2. Permutations of identical subsystems (``permutable``). If L commutes with every simultaneous relabelling of
   those subsystems, the permutation-invariant operators are an invariant subspace, spanned by the orbit sums
   e_O = sum_{p in O} |p> of the pairs p = (i, j). With rho = sum_O c_O e_O,

       (L rho)[rep(O')] = sum_O L_red[O', O] c_O,     L_red[O', O] = sum_{p in O} L[rep(O'), p],

   so only the representatives' rows of L are needed (each column is mapped to its orbit and summed).

Trace. Tr rho = sum over the diagonal orbits of |O| c_O. By trace preservation this functional is a left null
vector of L_red, so one diagonal row is redundant: the steady state drops the ground orbit's row, pins its
coefficient to 1, solves once with a sparse LU and normalises; a singular system means that the steady state is
not unique (``SingularSystem``).

Row-major pairs: p = i * dim + j (as ``qbhw.pulse._exact``). Writing L rho = G rho + rho G^dag + sum_A A rho A^dag
with G = -iH - (1/2) sum_A A^dag A, the row (i, j) of L has G[i, k] at (k, j), conj(G[j, l]) at (i, l) and
A[i, k] conj(A[j, l]) at (k, l).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

#: reduced generators with at most this many unknowns are diagonalised densely for dynamics
DENSE_MAX = 1500


class SingularSystem(ArithmeticError):
    """The pinned steady-state system is singular: more than one stationary state (or none with weight on the
    ground state)."""


@dataclass(frozen=True, eq=False)
class Reduction:
    """The order-0 pairs of a space and their orbits under permutations of the ``permutable`` subsystems.

    ``rows``, ``cols``: every order-0 pair (i, j); ``orbit``: its orbit index; ``rep_rows``, ``rep_cols``: one
    representative pair per orbit; ``sizes``: |O|; ``diagonal``: whether the orbit holds diagonal pairs (i = i).
    """

    dims: tuple[int, ...]
    permutable: tuple[int, ...]
    digits: np.ndarray  # (subsystems, dim): level of every subsystem in every basis state
    rows: np.ndarray
    cols: np.ndarray
    orbit: np.ndarray
    keys: np.ndarray  # sorted orbit keys (one per orbit)
    rep_rows: np.ndarray
    rep_cols: np.ndarray
    sizes: np.ndarray
    diagonal: np.ndarray

    @property
    def dim(self) -> int:
        return int(np.prod(self.dims))

    @property
    def size(self) -> int:
        """Number of orbits: the unknowns of the reduced problem."""
        return int(self.keys.size)

    @property
    def ground(self) -> int:
        """The orbit of the pair (0, 0): every subsystem in its ground level."""
        return int(np.flatnonzero((self.rep_rows == 0) & (self.rep_cols == 0))[0])

    def lookup(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Orbit index of each pair (i, j) (every pair must be of order 0)."""
        key = _keys(self.digits, self.dims, self.permutable, i, j)
        pos = np.searchsorted(self.keys, key)
        if np.any(pos >= self.keys.size) or np.any(self.keys[np.minimum(pos, self.keys.size - 1)] != key):
            raise AssertionError("a pair outside the order-0 block: the Liouvillian is not phase covariant")
        return pos

    def trace_weights(self) -> np.ndarray:
        """w_O = |O| on diagonal orbits, 0 elsewhere: Tr rho = w . c."""
        return np.where(self.diagonal, self.sizes, 0).astype(float)


def _numbers(dims: tuple[int, ...], numbers: Sequence[np.ndarray] | None) -> list[np.ndarray]:
    if numbers is None:
        return [np.arange(d, dtype=np.int64) for d in dims]
    out = [np.rint(np.asarray(x, dtype=float)).astype(np.int64).reshape(-1) for x in numbers]
    if len(out) != len(dims) or any(x.size != d or np.any(x < 0) for x, d in zip(out, dims, strict=True)):
        raise ValueError("one excitation number >= 0 per level of every subsystem")
    return out


def order_zero_pairs(
    dims: Sequence[int], numbers: Sequence[np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(digits, rows, cols): every pair (i, j) with E_i = E_j, shell by shell (E ascending)."""
    dims = tuple(int(d) for d in dims)
    dim = int(np.prod(dims))
    digits = np.array(np.unravel_index(np.arange(dim), dims), dtype=np.int64).reshape(len(dims), dim)
    number = np.sum([x[digits[s]] for s, x in enumerate(_numbers(dims, numbers))], axis=0)
    order = np.argsort(number, kind="stable")
    bounds = np.searchsorted(number[order], np.arange(int(number.max()) + 2))
    rows, cols = [], []
    for e in range(bounds.size - 1):
        members = order[bounds[e] : bounds[e + 1]]
        rows.append(np.repeat(members, members.size))
        cols.append(np.tile(members, members.size))
    return digits, np.concatenate(rows), np.concatenate(cols)


def order_zero_size(dims: Sequence[int], numbers: Sequence[np.ndarray] | None = None) -> int:
    """Number of order-0 pairs sum_E (states with E excitations)^2, without building them."""
    dims = tuple(int(d) for d in dims)
    counts = np.ones(1, dtype=object)
    for x in _numbers(dims, numbers):
        single = np.zeros(int(x.max()) + 1, dtype=object)
        np.add.at(single, x, 1)
        counts = np.convolve(counts, single)
    return int(np.sum(counts**2))


def _keys(
    digits: np.ndarray, dims: tuple[int, ...], permutable: tuple[int, ...], i: np.ndarray, j: np.ndarray
) -> np.ndarray:
    """A canonical integer per pair: the sorted codes (level_i, level_j) of the permutable subsystems, then the
    codes of the others in place (mixed radix)."""
    key = np.zeros(np.shape(i), dtype=np.int64)
    if permutable:
        d = dims[permutable[0]]
        codes = np.stack([digits[s][i] * d + digits[s][j] for s in permutable])
        codes.sort(axis=0)
        for row in codes:
            key = key * (d * d) + row
    for s, d in enumerate(dims):
        if s in permutable:
            continue
        key = key * (d * d) + digits[s][i] * d + digits[s][j]
    return key


def reduce_space(
    dims: Sequence[int], permutable: Sequence[int] = (), numbers: Sequence[np.ndarray] | None = None
) -> Reduction:
    """The order-0 pairs of ``dims`` and their orbits under permutations of the subsystems ``permutable`` (which
    must have one common dimension); ``numbers``: the excitation number of every level of every subsystem."""
    dims = tuple(int(d) for d in dims)
    perm = tuple(sorted(int(s) for s in permutable))
    if perm and len({dims[s] for s in perm}) != 1:
        raise ValueError("permutable subsystems must have the same dimension")
    bits = sum(2 * math.log2(d) for d in dims)
    if bits > 62:
        raise ValueError(f"the pair keys of dims {dims} do not fit 62 bits")
    digits, rows, cols = order_zero_pairs(dims, numbers)
    keys = _keys(digits, dims, perm, rows, cols)
    uniq, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    rep_rows, rep_cols = rows[first], cols[first]
    for a in (rows, cols, inverse, uniq, rep_rows, rep_cols, counts, digits):
        a.setflags(write=False)
    diagonal = rep_rows == rep_cols
    diagonal.setflags(write=False)
    return Reduction(
        dims=dims,
        permutable=perm,
        digits=digits,
        rows=rows,
        cols=cols,
        orbit=inverse.reshape(-1),
        keys=uniq,
        rep_rows=rep_rows,
        rep_cols=rep_cols,
        sizes=counts,
        diagonal=diagonal,
    )


def _row_entries(mat: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(owner, column, value, count per owner) of the non-zeros of ``mat``'s rows ``rows`` (owner = position)."""
    start = mat.indptr[rows]
    count = mat.indptr[rows + 1] - start
    total = int(count.sum())
    owner = np.repeat(np.arange(rows.size), count)
    offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    pos = np.repeat(start, count) + offset
    return owner, mat.indices[pos].astype(np.int64), mat.data[pos], count


def reduced_generator(red: Reduction, hamiltonian: sp.spmatrix, jumps: Sequence[sp.spmatrix]) -> sp.csr_matrix:
    """L_red on the orbits of ``red`` for L = -i[H, .] + sum_A D[A] (each A already carries sqrt(rate))."""
    h = sp.csr_matrix(hamiltonian, dtype=complex)
    a_list = [sp.csr_matrix(a, dtype=complex) for a in jumps]
    g = -1j * h
    for a in a_list:
        g = g - 0.5 * (a.conj().T @ a)
    g = sp.csr_matrix(g)
    g.sum_duplicates()
    ir, jr = red.rep_rows, red.rep_cols
    out_rows, out_cols, out_vals = [], [], []

    owner, k, val, _ = _row_entries(g, ir)  # G rho: (k, j)
    out_rows.append(owner)
    out_cols.append(red.lookup(k, jr[owner]))
    out_vals.append(val)
    owner, col, val, _ = _row_entries(g, jr)  # rho G^dag: (i, l), conj(G[j, l])
    out_rows.append(owner)
    out_cols.append(red.lookup(ir[owner], col))
    out_vals.append(np.conj(val))
    for a in a_list:  # A rho A^dag: (k, l), A[i, k] conj(A[j, l])
        _, k1, v1, c1 = _row_entries(a, ir)
        _, k2, v2, c2 = _row_entries(a, jr)
        per = c1 * c2
        total = int(per.sum())
        if total == 0:
            continue
        owner = np.repeat(np.arange(ir.size), per)
        q = np.arange(total) - np.repeat(np.cumsum(per) - per, per)
        start1 = np.cumsum(c1) - c1
        start2 = np.cumsum(c2) - c2
        n2 = c2[owner]
        p1 = start1[owner] + q // n2
        p2 = start2[owner] + q % n2
        out_rows.append(owner)
        out_cols.append(red.lookup(k1[p1], k2[p2]))
        out_vals.append(v1[p1] * np.conj(v2[p2]))
    size = red.size
    out = sp.csr_matrix(
        (np.concatenate(out_vals), (np.concatenate(out_rows), np.concatenate(out_cols))), shape=(size, size)
    )
    out.sum_duplicates()
    out.eliminate_zeros()
    return out


def steady_coefficients(red: Reduction, generator: sp.csr_matrix) -> np.ndarray:
    """The unique c with L_red c = 0 and Tr rho = 1 (pinned sparse LU, module docstring).

    Raises SingularSystem when the pinned system is singular (more than one stationary state, or
    none with weight on the ground state).
    """
    g = red.ground
    keep = np.ones(red.size, dtype=bool)
    keep[g] = False
    a = generator[keep][:, keep].tocsc()
    b = -np.asarray(generator[keep][:, [g]].toarray()).reshape(-1)
    try:
        lu = spla.splu(a)
        x = lu.solve(b)
    except RuntimeError as lu_error:  # "Factor is exactly singular"
        raise SingularSystem(str(lu_error)) from None
    c = np.empty(red.size, dtype=complex)
    c[keep] = x
    c[g] = 1.0
    trace = complex(red.trace_weights() @ c)
    if not np.all(np.isfinite(c)) or abs(trace) == 0.0:
        raise SingularSystem("no normalisable stationary state")
    c = c / trace
    residual = float(np.max(np.abs(generator @ c)))
    scale = float(abs(generator).max()) if generator.nnz else 1.0
    if not math.isfinite(residual) or residual > 1e-8 * scale:
        raise SingularSystem("no normalisable stationary state")
    return c


def evolution_cost(generator: sp.csr_matrix, times: np.ndarray) -> float:
    """Estimated flops of ``evolve``: ~30 R^3 for the dense eigendecomposition (R <= DENSE_MAX), else scipy's
    expm_multiply: ~5 ||A t||_1 complex sparse products (8 flops per stored entry) over the longest time."""
    size = generator.shape[0]
    if size <= DENSE_MAX:
        return 30.0 * size**3 + 8.0 * size**2 * times.size
    norm = float(spla.norm(generator, 1)) if generator.nnz else 0.0
    return 8.0 * generator.nnz * (5.0 * norm * float(np.max(times, initial=0.0)) + 40.0 * times.size)


#: largest condition number of the eigenvector matrix for which ``evolve`` uses the eigendecomposition
MAX_EIGENVECTOR_CONDITION = 1e9


def evolve(generator: sp.csr_matrix, c0: np.ndarray, times: np.ndarray) -> np.ndarray:
    """c(t) = exp(L_red t) c0 at each of ``times`` (>= 0, any order): (len(times), size).

    Up to DENSE_MAX unknowns: L_red = V diag(w) V^-1 once, then c(t) = V e^{w t} V^-1 c0 at every time (its
    error is ~cond(V) x rounding; a matrix exponential per time step is used instead when cond(V) exceeds
    MAX_EIGENVECTOR_CONDITION). Above: scipy's expm_multiply step by step.
    """
    t = np.asarray(times, dtype=float).reshape(-1)
    c = np.asarray(c0, dtype=complex)
    out = np.empty((t.size, c.size), dtype=complex)
    if generator.shape[0] <= DENSE_MAX:
        dense = generator.toarray()
        w, v = np.linalg.eig(dense)
        if np.linalg.cond(v) <= MAX_EIGENVECTOR_CONDITION:
            x = np.linalg.solve(v, c)
            for k, tk in enumerate(t):
                out[k] = v @ (np.exp(w * tk) * x)
            return out
        order = np.argsort(t, kind="stable")
        now = 0.0
        for idx in order:
            if t[idx] > now:
                c = sla.expm(dense * (float(t[idx]) - now)) @ c
                now = float(t[idx])
            out[idx] = c
        return out
    order = np.argsort(t, kind="stable")
    now = 0.0
    for idx in order:
        if t[idx] > now:
            c = spla.expm_multiply(generator * (float(t[idx]) - now), c)
            now = float(t[idx])
        out[idx] = c
    return out
