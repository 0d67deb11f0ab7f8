"""Private kernel of ``qbhw.models.micromaser``: a repeated channel on a truncated Fock space, in a real gauge.

Model-agnostic: the caller supplies the first map and the period (as sparse matrices on the coordinates below),
and reads back states, the population of the top Fock level and an error bound; it decides what a too-large top
population means.

Coordinates. With G = diag(i^n) a Hermitian D x D matrix rho is stored gauged, rho~ = G rho G^dag
(rho~_nm = i^(n-m) rho_nm). For maps that are real in this gauge (the micromaser's with a real atomic coherence)
rho~ = S + iA with S real symmetric and A real antisymmetric evolve separately, so a state is the vector of the
D^2 real coordinates S_nm (n <= m) then A_nm (n < m), restricted to those the dynamics can reach.

Runs. ``Runner`` visits increasing collision numbers K, rho_K = first (period)^(K-1) rho_0, by three paths:

* ``steps``: one sparse mat-vec per collision, the top-level population noted after each;
* ``stationary``: a collision map M is CPTP, hence non-expansive in trace norm, and so is M^2. If the two-step
  increment d_k = rho_(k+2) - rho_k has ||d_k||_1 <= eps, then ||d_j||_1 <= eps for every j >= k (d_(j+1) =
  M d_j), so ||rho_(k+2m) - rho_k||_1 <= m eps and ||rho_(k+1+2m) - rho_(k+1)||_1 <= m eps. Once that bound is
  below ``stop_bound`` for the largest collision number to be visited (or eps sits at the rounding floor) the
  run stops stepping: every later K is answered by rho_k or rho_(k+1) (the one of the same parity as K; M has a
  period-2 mode, so one-step increments need not decay) with ``error_bound`` = m eps. eps is measured in the
  upper bound sqrt(D) ||d||_F every CHECK_EVERY collisions and exactly (eigenvalues) when the run stops;
* ``powers``: if stationarity is not reached within about the cost of the alternative, long gaps are bridged
  with cached dense powers M^(2^j) (repeated squaring, ~2 n^3 log2(K) flops for n coordinates), checking the
  top level at the visited collisions only.

The error bounds are statements about the exact map applied to the computed states; the rounding of each
collision (~1e-16 relative, common to every path) is not included. Repeated squaring drifts by ~1e-16 K.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

_I_POWERS = np.array([1.0, 1j, -1.0, -1j])

# Rough single-thread costs (seconds) that choose between stepping and repeated squaring. Only the choice of
# path depends on them, never a result beyond rounding, and the choice is insensitive to factors of ~3. Values
# measured on the reference machine (2 shared AMD EPYC cores, OpenBLAS on one thread): a scipy CSR mat-vec costs
# ~4 us of dispatch plus ~0.7 ns per stored entry (memory bound); dgemm runs at ~50 GFLOP/s; a dense mat-vec
# streams ~7 GB/s.
SPARSE_CALL = 4e-6
SPARSE_PER_NNZ = 1e-9
DENSE_PER_FLOP = 2e-11
DENSE_PER_BYTE = 1.5e-10
#: collisions between two stationarity checks (each check costs about one sparse step)
CHECK_EVERY = 32
#: stop stepping once the early-stop bound for the last requested collision is below this (trace norm)
STOP_BOUND = 1e-12
#: two-step increments (trace-norm bound) at or below this that no longer halve between checks are at the
#: rounding level of the stepping itself; the run then stops with the (larger) bound it can certify
ROUNDING_FLOOR = 1e-14
#: repeated squaring keeps dense n x n powers: at most this many coordinates (50 MB per power, ~0.6 s per squaring)
POWERS_MAX_SIZE = 2500
#: stepping without a way out (too large for squaring, not stationary) stops after this many multiply-adds
MAX_STEP_WORK = 1e11


def gauge(d: int) -> np.ndarray:
    """g_n = i^n, so rho~ = g rho g^* has entries i^(n-m) rho_nm."""
    return _I_POWERS[np.arange(d) % 4]


@dataclass(frozen=True)
class RealCoordinates:
    """Real coordinates of a gauged Hermitian D x D matrix: S_nm (n <= m) then A_nm (n < m)."""

    d: int

    @cached_property
    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n, m, kind) per coordinate, kind 0 = symmetric part, 1 = antisymmetric part."""
        iu_n, iu_m = np.triu_indices(self.d)
        su_n, su_m = np.triu_indices(self.d, k=1)
        n = np.concatenate([iu_n, su_n])
        m = np.concatenate([iu_m, su_m])
        kind = np.concatenate([np.zeros(iu_n.size, np.int64), np.ones(su_n.size, np.int64)])
        return n, m, kind

    @property
    def size(self) -> int:
        return self.d * self.d

    @property
    def symmetric_size(self) -> int:
        return self.d * (self.d + 1) // 2

    def index(self, n: np.ndarray, m: np.ndarray, kind: int) -> np.ndarray:
        """Coordinate index of (n, m) with n <= m (n < m for kind 1)."""
        d = self.d
        n = np.asarray(n, dtype=np.int64)
        m = np.asarray(m, dtype=np.int64)
        if kind == 0:  # row-major upper triangle including the diagonal
            return n * d - n * (n - 1) // 2 + (m - n)
        return self.symmetric_size + n * (d - 1) - n * (n - 1) // 2 + (m - n - 1)

    def to_coordinates(self, rho_gauged: np.ndarray) -> np.ndarray:
        n, m, kind = self.pairs
        z = rho_gauged[n, m]
        return np.where(kind == 0, z.real, z.imag)

    def to_matrix(self, coords: np.ndarray) -> np.ndarray:
        n, m, kind = self.pairs
        sym = kind == 0
        out = np.zeros((self.d, self.d), dtype=complex)
        out[n[sym], m[sym]] = coords[sym]
        out[m[sym], n[sym]] = coords[sym]
        out[n[~sym], m[~sym]] += 1j * coords[~sym]
        out[m[~sym], n[~sym]] -= 1j * coords[~sym]
        return out

    @cached_property
    def frobenius_weights(self) -> np.ndarray:
        """w with ||rho~||_F^2 = sum_j w_j c_j^2: 1 on the diagonal, 2 for every off-diagonal pair."""
        n, m, _ = self.pairs
        return np.where(n == m, 1.0, 2.0)


@dataclass(frozen=True, eq=False)
class Propagator:
    """rho_K = first (period)^(K-1) rho_0 on the kept coordinates ``keep`` (the period's factors apply right to
    left); ``top`` is the position of S_(D-1, D-1) in ``keep``, or -1 if it cannot be reached."""

    coords: RealCoordinates
    keep: np.ndarray
    first: sp.csr_matrix
    period: tuple[sp.csr_matrix, ...]
    top: int

    @cached_property
    def dense_period(self) -> np.ndarray:
        mats = [f.toarray() for f in self.period]
        out = mats[-1]
        for m in reversed(mats[:-1]):
            out = m @ out
        return out

    @property
    def size(self) -> int:
        return int(self.keep.size)

    @property
    def step_nnz(self) -> int:
        return int(sum(f.nnz for f in self.period))

    @cached_property
    def weights(self) -> np.ndarray:
        return self.coords.frobenius_weights[self.keep]

    def trace_norm_bound(self, delta: np.ndarray) -> float:
        """sqrt(D) ||Delta||_F >= ||Delta||_1 for the Hermitian matrix with kept coordinates ``delta``."""
        return math.sqrt(self.coords.d * float(np.dot(self.weights * delta, delta)))

    def trace_norm(self, delta: np.ndarray) -> float:
        """||Delta||_1 exactly (eigenvalues; the gauge is unitary and leaves it unchanged)."""
        full = np.zeros(self.coords.pairs[0].size)
        full[self.keep] = delta
        return float(np.sum(np.abs(np.linalg.eigvalsh(self.coords.to_matrix(full)))))

    def matrix(self, v: np.ndarray) -> np.ndarray:
        """rho (un-gauged) from kept coordinates."""
        full = np.zeros(self.coords.pairs[0].size)
        full[self.keep] = v
        g = gauge(self.coords.d)
        return g.conj()[:, None] * self.coords.to_matrix(full) * g[None, :]


class WorkExceeded(Exception):
    """Stepping would exceed MAX_STEP_WORK without a certificate and without repeated squaring."""

    def __init__(self, collision: int) -> None:
        self.collision = collision
        super().__init__(f"stepping budget exhausted at collision {collision}")


@dataclass(frozen=True, eq=False)
class _Certificate:
    """States at collisions k and k + 1 whose two-step increments are at most ``eps`` in trace norm from then on."""

    k: int
    even: np.ndarray  # state at collision k
    odd: np.ndarray  # state at collision k + 1
    eps: float


class Runner:
    """Visits increasing collision numbers (module docstring); ``horizon`` is the largest one that will be asked for,
    ``certify=False`` switches the early stop off (every collision stepped, or squared).

    After ``advance_to(K)``: ``v`` is the state at K (or the certified state of the same parity), ``bound`` its
    early-stop error bound, ``path`` the path that produced it; ``max_top``/``max_top_at`` the largest top-level
    population seen (with the certificate's bound added for collisions answered by it) and where.
    """

    def __init__(
        self, prop: Propagator, v0: np.ndarray, *, horizon: int, stop_bound: float = STOP_BOUND, certify: bool = True
    ) -> None:
        self.prop = prop
        self.certify = certify
        self.v = v0
        self.k = 0
        self.horizon = horizon
        self.stop_bound = stop_bound
        self.bound = 0.0
        self.path = "steps"
        self.paths: list[str] = []
        self.cert: _Certificate | None = None
        self.powers: list[np.ndarray] = []
        self.work = 0.0
        self.max_top = self._top(v0)
        self.max_top_at = 0
        self._eps_prev = math.inf
        n = prop.size
        self.step_cost = SPARSE_CALL * len(prop.period) + SPARSE_PER_NNZ * prop.step_nnz
        self.can_square = n <= POWERS_MAX_SIZE
        self.squaring_cost = 2.0 * n**3 * DENSE_PER_FLOP
        self.matvec_cost = 8.0 * n * n * DENSE_PER_BYTE

    # ------------------------------------------------------------------------------------------ bookkeeping

    def _top(self, v: np.ndarray) -> float:
        return float(v[self.prop.top]) if self.prop.top >= 0 else 0.0

    def _note(self, path: str) -> None:
        self.path = path
        if path not in self.paths:
            self.paths.append(path)

    def _powers_cost(self, gap: int) -> float:
        have = len(self.powers)
        need = max(gap.bit_length(), 1)
        return max(0, need - have) * self.squaring_cost + bin(gap).count("1") * self.matvec_cost

    # ------------------------------------------------------------------------------------------------ paths

    def _step(self, v: np.ndarray) -> np.ndarray:
        for f in reversed(self.prop.period):
            v = f @ v
        return v

    def _steps(self, count: int) -> None:
        """``count`` collisions one by one, noting the top-level population after each (the hot loop)."""
        top, v, best, best_at = self.prop.top, self.v, self.max_top, self.max_top_at
        factors = tuple(reversed(self.prop.period))
        if len(factors) == 1:
            (m,) = factors
            for i in range(count):
                v = m @ v
                if top >= 0 and v[top] > best:
                    best, best_at = float(v[top]), self.k + i + 1
        else:
            for i in range(count):
                for f in factors:
                    v = f @ v
                if top >= 0 and v[top] > best:
                    best, best_at = float(v[top]), self.k + i + 1
        self.v, self.k, self.max_top, self.max_top_at = v, self.k + count, best, best_at
        self.work += count * self.prop.step_nnz
        if not self.can_square and self.work > MAX_STEP_WORK:
            raise WorkExceeded(self.k)

    def _certify(self, before: np.ndarray, middle: np.ndarray) -> bool:
        """Try to certify stationarity from the states at k - 2 (``before``), k - 1 (``middle``) and k (``v``)."""
        eps = self.prop.trace_norm_bound(self.v - before)
        m = (self.horizon - (self.k - 1)) // 2
        plateau = eps <= ROUNDING_FLOOR and eps > 0.5 * self._eps_prev
        self._eps_prev = eps
        if m * eps > self.stop_bound and not plateau:
            return False
        eps = self.prop.trace_norm(self.v - before)  # exact, for the bound that is reported
        self.cert = _Certificate(self.k - 1, middle, self.v, eps)
        return True

    def _steps_checked(self, count: int) -> bool:
        """Up to ``count`` collisions, checking stationarity every CHECK_EVERY; True once certified."""
        done = 0
        while done < count:
            chunk = min(CHECK_EVERY, count - done)
            if chunk < 3 or self.k < 1 or not self.certify:
                self._steps(chunk)
                done += chunk
                continue
            self._steps(chunk - 2)
            before = self.v
            self._steps(1)
            middle = self.v
            self._steps(1)
            done += chunk
            if self._certify(before, middle):
                return True
        return False

    def _power(self, j: int) -> np.ndarray:
        while len(self.powers) <= j:
            if not self.powers:
                self.powers.append(np.ascontiguousarray(self.prop.dense_period))
            else:
                last = self.powers[-1]
                self.powers.append(last @ last)
        return self.powers[j]

    def _squarings(self, gap: int) -> None:
        j = 0
        while gap:
            if gap & 1:
                self.v = self._power(j) @ self.v
                self.k += 1 << j
                t = self._top(self.v)
                if t > self.max_top:
                    self.max_top, self.max_top_at = t, self.k
            gap >>= 1
            j += 1

    def _from_certificate(self, target: int) -> None:
        c = self.cert
        assert c is not None
        if (target - c.k) % 2 == 0:
            base, m = c.even, (target - c.k) // 2
        else:
            base, m = c.odd, (target - c.k - 1) // 2
        self.v, self.k, self.bound = base, target, m * c.eps
        # a diagonal entry of a traceless Hermitian Delta is at most ||Delta||_1 / 2
        top = max(self._top(c.even), self._top(c.odd)) + 0.5 * ((self.horizon - c.k) // 2) * c.eps
        if top > self.max_top:
            self.max_top, self.max_top_at = top, target
        self._note("stationary")

    # ------------------------------------------------------------------------------------------------ visit

    def advance_to(self, target: int) -> None:
        """Bring the runner to collision ``target`` (>= the current one)."""
        if target < self.k:
            raise ValueError("collision numbers must be visited in increasing order")
        if self.cert is not None:
            self._from_certificate(target)
            return
        if self.k == 0 and target > 0:
            self.v = self.prop.first @ self.v
            self.k = 1
            t = self._top(self.v)
            if t > self.max_top:
                self.max_top, self.max_top_at = t, 1
        gap = target - self.k
        if gap <= 0:
            self._note(self.path if self.paths else "steps")
            return
        stepping = gap * self.step_cost
        if not self.can_square or stepping <= self._powers_cost(gap):
            if self._steps_checked(gap):
                self._from_certificate(target)
            else:
                self.bound = 0.0
                self._note("steps")
            return
        # probe: step (and check) for about the cost of the powers path, then square the rest
        probe = min(gap, max(CHECK_EVERY, int(self._powers_cost(gap) / self.step_cost)))
        if self._steps_checked(probe):
            self._from_certificate(target)
            return
        self._squarings(target - self.k)
        self.bound = 0.0
        self._note("powers")
        # two more collisions measure the increment at the target: later targets may then be certified
        if self.horizon > target and self.certify:
            after = self._step(self.v)
            later = self._step(after)
            eps = self.prop.trace_norm_bound(later - self.v)
            if (self.horizon - target) // 2 * eps <= self.stop_bound:
                self.cert = _Certificate(target, self.v, after, self.prop.trace_norm(later - self.v))
