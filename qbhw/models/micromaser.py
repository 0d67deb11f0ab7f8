"""Micromaser battery: a cavity charged by a stream of atoms (docs/physics.md section 4).

Shaghaghi et al., arXiv:2204.09995 (Jaynes-Cummings collisions); Seah et al., arXiv:2105.01863 (the Geneva
quantum-walk battery, ``coupling="ladder"``). Units: the cavity frequency omega = 1, hbar = 1.

Battery: a Fock ladder truncated at ``cutoff`` D (levels n = 0 ... D-1), H_B = a^dag a. Each atom arrives in

    rho_Q = (1-P)|g><g| + P|e><e| + C sqrt(P(1-P)) (|g><e| + |e><g|),   P = p_excited, C = coherence,

(docs/physics.md writes q = 1 - P, c = C) and interacts once, on resonance, in the interaction picture:

    U = exp(-i theta (b s+ + b^dag s-)),   theta = g_tau,   s+ = |e><g|,
    b = a = sum_n sqrt(n) |n-1><n|   (coupling="jaynes-cummings"),   b = A = sum_n |n-1><n|   (coupling="ladder"),

with b truncated to the D levels. Register order: battery first, atom second (big-endian), atom basis (|g>, |e>).
Because (b s+ + b^dag s-)^2 = b b^dag (x) |e><e| + b^dag b (x) |g><g|, U has the Kraus blocks (cavity operators)

    <g|U|g> = cos(theta sqrt(b^dag b)),
    <e|U|e> = cos(theta sqrt(b b^dag)),
    <e|U|g> = -i b sin(theta sqrt(b^dag b)) / sqrt(b^dag b),
    <g|U|e> = -i b^dag sin(theta sqrt(b b^dag)) / sqrt(b b^dag),

and one collision is Phi(rho) = Tr_Q[U (rho (x) rho_Q) U^dag] = sum_{i,k,l} (rho_Q)_kl <i|U|k> rho <i|U|l>^dag.
The truncated U is unitary, so Phi preserves the trace, but it is wrong where the top level D-1 is populated
(|D-1, e> cannot reach |D, g>): see the cutoff check below.

Optional cavity loss between collisions: for one free interval dt the cavity obeys

    d rho/dt = kappa (nth + 1) D[b] rho + kappa nth D[b^dag] rho,   cavity_loss = kappa dt,   thermal_photons = nth,

so ``cavity_loss`` is dimensionless (the photon number decays as exp(-cavity_loss) per interval at nth = 0). The
channel Lambda = exp(cavity_loss ((nth+1) D[b] + nth D[b^dag])) is exact (matrix exponentials). Collisions and
intervals alternate: the state right after the K-th collision is rho_K = Phi (Lambda Phi)^(K-1) rho_0 (K >= 1).
The free rotation exp(-i a^dag a t) is omitted (interaction picture); it changes no reported quantity.

Figures of merit: energy = mean_photons = Tr[rho a^dag a] (stored energy above the vacuum), ergotropy and
capacity with the non-degenerate ladder H_B = diag(0, 1, ..., D-1), purity Tr rho^2, the photon-number
distribution diag(rho).

Method. With G = diag(i^n), the gauge rho~ = G rho G^dag (rho~_nm = i^(n-m) rho_nm) makes the map real for real C,
so rho~ = S + iA with S real symmetric and A real antisymmetric evolve independently. The map acts on the D^2 real
coordinates (S_nm for n <= m, A_nm for n < m), restricted to those reachable from the initial state (from the
vacuum with C = 0 only the D populations). Short gaps are stepped with the sparse map; long ones with cached
dense powers M^(2^j) (repeated squaring), so 10^6 collisions cost ~20 dense products.

Cutoff honesty: the population of the top level D-1 is checked at every sampled collision (every collision of a
sparse-stepped gap; for a final state computed with powers, every collision of a prefix of the run and then
collisions 2^j and K); if it exceeds ``cutoff_tolerance`` the run raises CutoffError (a ParameterError on
``cutoff``) instead of returning a number.

Exact fixed points under exact trapping theta sqrt(N_tr + 1) = k pi (docs/physics.md section 4.2): the pure
cotangent state (C = 1, k odd) and the truncated geometric state (C = 0).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from qbhw import _validate
from qbhw._arrays import readonly as _readonly
from qbhw.errors import CutoffError, ParameterError
from qbhw.physics import thermodynamics as thermo

COUPLINGS = ("jaynes-cummings", "ladder")

#: cutoff used when none is given and no exact bound applies (the cutoff check guards it)
DEFAULT_CUTOFF = 60
#: largest cutoff chosen automatically from an exact bound (collisions + 2 or N_tr + 2)
MAX_AUTO_CUTOFF = 80
#: |theta sqrt(N + 1) - k pi| below which theta counts as an exact trapping value
TRAPPING_TOLERANCE = 1e-9

_I_POWERS = np.array([1.0, 1j, -1.0, -1j])


# ------------------------------------------------------------------------------------------------ parameters


@dataclass(frozen=True)
class MicromaserParams:
    """Collision-model parameters (units of the cavity frequency; the cavity starts in the vacuum by default).

    g_tau            theta = g tau, the coupling times the interaction time, > 0
    p_excited        P, excited population of each atom, in [0, 1]
    coherence        C, coherence of each atom (rho_eg = C sqrt(P(1-P))), in [0, 1]
    collisions       number of atoms K, integer >= 0
    cutoff           Fock cutoff D (levels 0 ... D-1), integer >= 2; None chooses one (``resolved_cutoff``)
    cavity_loss      kappa dt, the damping exponent of one interval between collisions, >= 0 (dimensionless)
    thermal_photons  nth, mean photon number of the cavity's bath, >= 0
    coupling         "jaynes-cummings" (b = a) or "ladder" (unweighted b = sum |n-1><n|, Seah et al.)
    cutoff_tolerance largest allowed population of the top level D-1, in (0, 1]
    """

    g_tau: float = field(
        default=math.pi / math.sqrt(10.0), metadata={"help": "coupling times interaction time per collision, > 0"}
    )
    p_excited: float = field(default=0.5, metadata={"help": "excited population P of each atom, in [0, 1]"})
    coherence: float = field(
        default=1.0, metadata={"help": "atomic coherence C (fraction of the pure-state value), in [0, 1]"}
    )
    collisions: int = field(default=30, metadata={"help": "number of collisions K, integer >= 0"})
    cutoff: int | None = field(
        default=None, metadata={"help": "Fock cutoff D (default: automatic; the run fails if the top level fills)"}
    )
    cavity_loss: float = field(default=0.0, metadata={"help": "cavity damping kappa*dt between collisions, >= 0"})
    thermal_photons: float = field(
        default=0.0, metadata={"help": "mean thermal photon number of the cavity's bath, >= 0"}
    )
    coupling: str = field(
        default="jaynes-cummings", metadata={"help": "jaynes-cummings (sqrt(n) ladder) or ladder (Geneva quantum walk)"}
    )
    cutoff_tolerance: float = field(
        default=1e-6, metadata={"help": "largest population allowed in the top Fock level, in (0, 1)"}
    )

    def __post_init__(self) -> None:
        _validate.positive("g_tau", self.g_tau)
        _validate.in_closed_interval("p_excited", self.p_excited, 0.0, 1.0)
        _validate.in_closed_interval("coherence", self.coherence, 0.0, 1.0)
        # numpy integers are accepted and stored as int (as are integral floats such as 30.0)
        object.__setattr__(self, "collisions", _validate.integer_at_least("collisions", self.collisions, 0))
        if self.cutoff is not None:
            object.__setattr__(self, "cutoff", _validate.integer_at_least("cutoff", self.cutoff, 2))
        _validate.nonnegative("cavity_loss", self.cavity_loss)
        _validate.nonnegative("thermal_photons", self.thermal_photons)
        _validate.one_of("coupling", self.coupling, COUPLINGS)
        tol = _validate.finite("cutoff_tolerance", self.cutoff_tolerance)
        if not 0.0 < tol <= 1.0:
            raise ParameterError("cutoff_tolerance", "in (0, 1]", self.cutoff_tolerance)

    @property
    def p_ground(self) -> float:
        """q = 1 - P (docs/physics.md's parameter)."""
        return 1.0 - float(self.p_excited)


# --------------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MicromaserResult:
    """The cavity after ``collisions`` atoms. Scalar names match the JSON keys of the command line.

    ``state`` is rho in the Fock basis (interaction picture), shape (D, D); ``photon_distribution`` its diagonal.
    ``top_level_population`` is the largest population of level D-1 over the checked collisions (see module doc).
    """

    collisions: int
    cutoff: int
    energy: float
    ergotropy: float
    capacity: float
    purity: float
    mean_photons: float
    top_level_population: float
    photon_distribution: np.ndarray
    state: np.ndarray


@dataclass(frozen=True)
class MicromaserTrajectory:
    """Figures of merit over the collision numbers ``collisions`` (arrays of that length).

    ``photon_distribution`` has shape (len(collisions), D); ``top_level_population`` is the population of level
    D-1 at each sampled collision; ``max_top_level_population`` the maximum over every checked collision
    (including those stepped between samples). ``final_state`` is rho after the last sampled collision.
    """

    collisions: np.ndarray
    cutoff: int
    energy: np.ndarray
    ergotropy: np.ndarray
    capacity: np.ndarray
    purity: np.ndarray
    mean_photons: np.ndarray
    top_level_population: np.ndarray
    max_top_level_population: float
    photon_distribution: np.ndarray
    final_state: np.ndarray


# ------------------------------------------------------------------------------------------ operators, states


def lowering_operator(cutoff: int, coupling: str = "jaynes-cummings") -> np.ndarray:
    """b on levels 0 ... D-1: sum_n sqrt(n)|n-1><n| (Jaynes-Cummings) or sum_n |n-1><n| (ladder)."""
    d = _validate.integer_at_least("cutoff", cutoff, 2)
    _validate.one_of("coupling", coupling, COUPLINGS)
    n = np.arange(1, d)
    weights = np.sqrt(n) if coupling == "jaynes-cummings" else np.ones(d - 1)
    return np.diag(weights.astype(float), k=1)


def atom_state(p_excited: float, coherence: float) -> np.ndarray:
    """rho_Q = (1-P)|g><g| + P|e><e| + C sqrt(P(1-P))(|g><e| + |e><g|), basis (|g>, |e>)."""
    p = _validate.in_closed_interval("p_excited", p_excited, 0.0, 1.0)
    c = _validate.in_closed_interval("coherence", coherence, 0.0, 1.0)
    x = c * math.sqrt(p * (1.0 - p))
    return np.array([[1.0 - p, x], [x, p]], dtype=complex)


def collision_unitary(g_tau: float, cutoff: int, coupling: str = "jaynes-cummings") -> np.ndarray:
    """U = exp(-i theta (b s+ + b^dag s-)) on cavity (x) atom, shape (2D, 2D), from its closed-form blocks."""
    blocks = _kraus_blocks(_validate.positive("g_tau", g_tau), lowering_operator(cutoff, coupling))
    d = blocks[0][0].shape[0]
    u = np.zeros((d, 2, d, 2), dtype=complex)
    for i in range(2):
        for k in range(2):
            u[:, i, :, k] = blocks[i][k]
    return u.reshape(2 * d, 2 * d)


def _kraus_blocks(theta: float, b: np.ndarray) -> list[list[np.ndarray]]:
    """[[<g|U|g>, <g|U|e>], [<e|U|g>, <e|U|e>]] for U = exp(-i theta (b s+ + b^dag s-)), b with real weights."""
    nd = np.diag(b.T @ b).copy()  # b^dag b (diagonal)
    nu = np.diag(b @ b.T).copy()  # b b^dag (diagonal, 0 at the truncation edge)

    def sinc_part(x: np.ndarray) -> np.ndarray:
        r = np.sqrt(x)
        out = np.full_like(r, theta)
        nz = r > 0
        out[nz] = np.sin(theta * r[nz]) / r[nz]
        return out

    gg = np.diag(np.cos(theta * np.sqrt(nd))).astype(complex)
    ee = np.diag(np.cos(theta * np.sqrt(nu))).astype(complex)
    eg = -1j * (b * sinc_part(nd)[None, :])  # -i b f(b^dag b)
    ge = -1j * (b.T * sinc_part(nu)[None, :])  # -i b^dag f(b b^dag)
    return [[gg, ge], [eg, ee]]


def trapping_photon_number(
    g_tau: float, coupling: str = "jaynes-cummings", tolerance: float = TRAPPING_TOLERANCE, n_max: int = 10**6
) -> int | None:
    """The smallest N_tr <= n_max with |g_tau sqrt(N_tr + 1) - k pi| <= tolerance for an integer k >= 1, else None.

    For the ladder every transition has weight 1, so it traps (trivially, at N_tr = 0) only when g_tau = k pi.
    """
    theta = _validate.positive("g_tau", g_tau)
    _validate.one_of("coupling", coupling, COUPLINGS)
    if coupling == "ladder":
        k = round(theta / math.pi)
        return 0 if k >= 1 and abs(theta - k * math.pi) <= tolerance else None
    k = 1
    while True:
        m = round((k * math.pi / theta) ** 2)  # candidate N_tr + 1
        if m - 1 > n_max:
            return None
        if m >= 1 and abs(theta * math.sqrt(m) - k * math.pi) <= tolerance:
            return m - 1
        k += 1


def _trapping_order(g_tau: float, n_tr: int) -> int:
    return round(g_tau * math.sqrt(n_tr + 1) / math.pi)


def _require_trapping(g_tau: float) -> int:
    n_tr = trapping_photon_number(g_tau)
    if n_tr is None:
        raise ParameterError(
            "g_tau", f"an exact trapping value pi k / sqrt(N + 1) (within {TRAPPING_TOLERANCE:g})", g_tau
        )
    return n_tr


def _pad(psi: np.ndarray, cutoff: int | None, minimum: int) -> np.ndarray:
    d = minimum if cutoff is None else _validate.integer_at_least("cutoff", cutoff, minimum)
    out = np.zeros(d, dtype=psi.dtype)
    out[: psi.size] = psi
    return out


def cotangent_state(g_tau: float, p_excited: float, cutoff: int | None = None) -> np.ndarray:
    """Pure fixed point for C = 1 under exact trapping g_tau sqrt(N_tr + 1) = k pi with k odd (ket, normalised).

    c_n = c_(n-1) (-i) sqrt(P/(1-P)) cot(g_tau sqrt(n) / 2), n = 1 ... N_tr: in every block {|n-1,e>, |n,g>} U
    maps the product with sqrt(1-P)|g> + sqrt(P)|e> onto the product with sqrt(1-P)|g> - sqrt(P)|e>, so the
    cavity is unchanged. The block (N_tr, e) <-> (N_tr+1, g) needs cos(g_tau sqrt(N_tr+1)) = -1, i.e. k odd (for
    k even no such pure fixed point exists and this raises). P = 1 gives |N_tr>. Length N_tr + 1 or ``cutoff``.
    """
    theta = _validate.positive("g_tau", g_tau)
    p = _validate.in_closed_interval("p_excited", p_excited, 0.0, 1.0)
    n_tr = _require_trapping(theta)
    if _trapping_order(theta, n_tr) % 2 == 0:
        raise ParameterError("g_tau", "a trapping value k pi / sqrt(N_tr + 1) with k odd", g_tau)
    psi = np.zeros(n_tr + 1, dtype=complex)
    if p == 1.0:
        psi[n_tr] = 1.0
    else:
        ratio = math.sqrt(p / (1.0 - p))
        psi[0] = 1.0
        for n in range(1, n_tr + 1):
            psi[n] = psi[n - 1] * ratio * (-1j) / math.tan(0.5 * theta * math.sqrt(n))
        psi /= np.linalg.norm(psi)
    return _pad(psi, cutoff, n_tr + 1)


def geometric_state(g_tau: float, p_excited: float, cutoff: int | None = None) -> np.ndarray:
    """Fixed point for C = 0 under exact trapping: p_n proportional to (P/(1-P))^n, n = 0 ... N_tr (density matrix).

    Detailed balance: up and down rates across n <-> n+1 carry the same sin^2 factor. P = 1 gives |N_tr><N_tr|.
    """
    theta = _validate.positive("g_tau", g_tau)
    p = _validate.in_closed_interval("p_excited", p_excited, 0.0, 1.0)
    n_tr = _require_trapping(theta)
    weights = np.zeros(n_tr + 1)
    if p == 1.0:
        weights[n_tr] = 1.0
    else:
        log_ratio = math.log(p / (1.0 - p)) if p > 0.0 else -math.inf
        n = np.arange(n_tr + 1)
        logs = n * log_ratio if p > 0.0 else np.where(n == 0, 0.0, -np.inf)
        weights = np.exp(logs - np.max(logs))
        weights /= weights.sum()
    return np.diag(_pad(weights.astype(complex), cutoff, n_tr + 1))


def fixed_point(params: MicromaserParams, cutoff: int | None = None) -> np.ndarray | None:
    """The exact stationary density matrix of docs/physics.md 4.2 for these parameters, or None if none is known.

    Known: Jaynes-Cummings coupling, no loss, exact trapping, and C = 0 (geometric state) or C = 1 with k odd
    (cotangent state). Shape (D, D) with D = ``cutoff``, else ``params.cutoff``, else N_tr + 1.
    """
    if params.coupling != "jaynes-cummings" or params.cavity_loss > 0.0:
        return None
    n_tr = trapping_photon_number(params.g_tau)
    if n_tr is None:
        return None
    d = cutoff if cutoff is not None else params.cutoff
    if params.coherence == 0.0:
        return geometric_state(params.g_tau, params.p_excited, d)
    if params.coherence == 1.0 and _trapping_order(params.g_tau, n_tr) % 2 == 1:
        psi = cotangent_state(params.g_tau, params.p_excited, d)
        return np.outer(psi, psi.conj())
    return None


# ----------------------------------------------------------------------------------------------- the cutoff


def _support_top(rho: np.ndarray, threshold: float = 0.0) -> int:
    diag = np.real(np.diag(rho))
    nz = np.nonzero(diag > threshold)[0]
    return int(nz[-1]) if nz.size else 0


def resolved_cutoff(params: MicromaserParams, initial_state: np.ndarray | None = None) -> int:
    """The Fock cutoff D a run uses.

    ``params.cutoff`` if given. Otherwise, with n0 the highest occupied level of the initial state:
    * no thermal photons entering (thermal_photons = 0 or cavity_loss = 0): each collision adds at most one
      photon, so D = n0 + K + 2 keeps level D-1 exactly empty; under exact Jaynes-Cummings trapping with
      n0 <= N_tr the support never exceeds N_tr, so D = N_tr + 2 also suffices. The smaller bound is used if it
      is at most MAX_AUTO_CUTOFF;
    * otherwise D = max(DEFAULT_CUTOFF, n0 + 2), guarded by the cutoff check.
    """
    if params.cutoff is not None:
        return int(params.cutoff)
    n0 = 0 if initial_state is None else _support_top(_as_density_matrix(initial_state))
    bounds: list[int] = []
    if params.cavity_loss == 0.0 or params.thermal_photons == 0.0:
        bounds.append(n0 + int(params.collisions) + 2)
        if params.coupling == "jaynes-cummings":
            n_tr = trapping_photon_number(params.g_tau)
            if n_tr is not None and n0 <= n_tr:
                bounds.append(n_tr + 2)
    exact = min(bounds) if bounds else None
    if exact is not None and exact <= MAX_AUTO_CUTOFF:
        return max(exact, 2)
    return max(DEFAULT_CUTOFF, n0 + 2)


def _as_density_matrix(state: np.ndarray) -> np.ndarray:
    s = np.asarray(state, dtype=complex)
    if s.ndim == 1:
        s = np.outer(s, s.conj())
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ParameterError("initial_state", "a ket or a square density matrix in the Fock basis", s.shape)
    return s


def _initial_density_matrix(initial_state: np.ndarray | None, cutoff: int) -> np.ndarray:
    rho = np.zeros((cutoff, cutoff), dtype=complex)
    if initial_state is None:
        rho[0, 0] = 1.0
        return rho
    s = _as_density_matrix(initial_state)
    d0 = s.shape[0]
    if d0 > cutoff:
        if np.max(np.abs(s[cutoff:, :])) > 0 or np.max(np.abs(s[:, cutoff:])) > 0:
            raise ParameterError("cutoff", f"at least {_support_top(s) + 1} to hold the initial state", cutoff)
        s = s[:cutoff, :cutoff]
        d0 = cutoff
    if not np.allclose(s, s.conj().T, atol=1e-12) or abs(np.trace(s) - 1.0) > 1e-9:
        raise ParameterError("initial_state", "Hermitian with unit trace", "a matrix that is not")
    if np.linalg.eigvalsh(0.5 * (s + s.conj().T))[0] < -1e-9:
        raise ParameterError("initial_state", "positive semidefinite", "a matrix with a negative eigenvalue")
    rho[:d0, :d0] = s
    return rho


# ------------------------------------------------------------------------------------------ the real map


def _superop_rowmajor(left: np.ndarray, right: np.ndarray) -> sp.csr_matrix:
    """Superoperator of rho -> left rho right^dag on row-major vec(rho) (index n D + m): left (x) conj(right)."""
    return sp.kron(sp.csr_matrix(left), sp.csr_matrix(np.conj(right)), format="csr")


def _collision_superop(params: MicromaserParams, d: int) -> sp.csr_matrix:
    """Phi on row-major vec(rho), complex, D^2 x D^2 (sparse)."""
    b = lowering_operator(d, params.coupling)
    blocks = _kraus_blocks(float(params.g_tau), b)
    rq = atom_state(params.p_excited, params.coherence)
    out = sp.csr_matrix((d * d, d * d), dtype=complex)
    for i in range(2):
        for k in range(2):
            for l in range(2):
                w = rq[k, l]
                if w != 0:
                    out = out + w * _superop_rowmajor(blocks[i][k], blocks[i][l])
    out.eliminate_zeros()
    return out


def _loss_superop(params: MicromaserParams, d: int) -> sp.csr_matrix | None:
    """Lambda = exp(cavity_loss ((nth+1) D[b] + nth D[b^dag])) on row-major vec(rho), or None without loss.

    The generator conserves n - m, so it is exponentiated block by block (blocks of size D - |n - m|).
    """
    gamma = float(params.cavity_loss)
    if gamma == 0.0:
        return None
    nth = float(params.thermal_photons)
    b = lowering_operator(d, params.coupling)
    eye = np.eye(d)

    def diss(a: np.ndarray) -> sp.csr_matrix:
        ada = a.T @ a
        return _superop_rowmajor(a, a) - 0.5 * _superop_rowmajor(ada, eye) - 0.5 * _superop_rowmajor(eye, ada)

    gen = gamma * (nth + 1.0) * diss(b)
    if nth > 0.0:
        gen = gen + gamma * nth * diss(b.T)
    gen = sp.csr_matrix(gen)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for shift in range(-(d - 1), d):
        n = np.arange(max(0, shift), min(d, d + shift))
        idx = n * d + (n - shift)
        block = sla.expm(gen[idx][:, idx].toarray())
        rows.append(np.repeat(idx, idx.size))
        cols.append(np.tile(idx, idx.size))
        vals.append(block.reshape(-1))
    lam = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(d * d, d * d))
    lam.eliminate_zeros()
    return lam


@dataclass(frozen=True)
class _RealCoordinates:
    """Real coordinates of a gauged Hermitian D x D matrix: S_nm (n <= m) then A_nm (n < m)."""

    d: int

    @cached_property
    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n, m, kind) per coordinate, kind 0 = symmetric part, 1 = antisymmetric part."""
        iu_n, iu_m = np.triu_indices(self.d)
        su_n, su_m = np.triu_indices(self.d, k=1)
        n = np.concatenate([iu_n, su_n])
        m = np.concatenate([iu_m, su_m])
        kind = np.concatenate([np.zeros(iu_n.size, int), np.ones(su_n.size, int)])
        return n, m, kind

    @cached_property
    def embed(self) -> sp.csr_matrix:
        """E: coordinates -> row-major vec of the real matrix S + A (S_mn = S_nm, A_mn = -A_nm)."""
        n, m, kind = self.pairs
        d = self.d
        j = np.arange(n.size)
        offd = n != m
        sign = np.where(kind == 0, 1.0, -1.0)
        rows = np.concatenate([n * d + m, (m * d + n)[offd]])
        cols = np.concatenate([j, j[offd]])
        vals = np.concatenate([np.ones(n.size), sign[offd]])
        return sp.csr_matrix((vals, (rows, cols)), shape=(d * d, n.size))

    @cached_property
    def project(self) -> sp.csr_matrix:
        """P: row-major vec of a real matrix X -> coordinates S_nm = (X_nm + X_mn)/2, A_nm = (X_nm - X_mn)/2."""
        n, m, kind = self.pairs
        d = self.d
        j = np.arange(n.size)
        offd = n != m
        sign = np.where(kind == 0, 1.0, -1.0)
        half = np.where(offd, 0.5, 1.0)
        rows = np.concatenate([j, j[offd]])
        cols = np.concatenate([n * d + m, (m * d + n)[offd]])
        vals = np.concatenate([half, 0.5 * sign[offd]])
        return sp.csr_matrix((vals, (rows, cols)), shape=(n.size, d * d))

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


def _gauge(d: int) -> np.ndarray:
    """g_n = i^n, so rho~ = g rho g^* has entries i^(n-m) rho_nm."""
    return _I_POWERS[np.arange(d) % 4]


def _to_real(superop: sp.csr_matrix, coords: _RealCoordinates) -> sp.csr_matrix:
    """The gauged superoperator (checked to be real) on the real coordinates.

    A real, Hermiticity-preserving map sends real symmetric matrices to real symmetric ones and real
    antisymmetric to real antisymmetric ones, so the coordinate map is block diagonal (S block, A block).
    """
    d = coords.d
    g = _gauge(d)
    gvec = np.kron(g, g.conj())  # row-major vec of the gauge phases i^(n-m)
    gauged = sp.csr_matrix(sp.diags(gvec) @ superop @ sp.diags(gvec.conj()))
    if gauged.nnz and np.max(np.abs(gauged.data.imag)) > 1e-12 * max(1.0, np.max(np.abs(gauged.data))):
        raise ArithmeticError("the gauged micromaser map is not real: the atom coherence must be real")
    out = sp.csr_matrix(coords.project @ sp.csr_matrix(gauged.real) @ coords.embed)
    out.data[np.abs(out.data) < 1e-300] = 0.0
    out.eliminate_zeros()
    return out


@dataclass(frozen=True)
class _Propagator:
    """rho_K = Phi (Lambda Phi)^(K-1) rho_0 on the reachable real coordinates."""

    coords: _RealCoordinates
    keep: np.ndarray  # indices of the reachable coordinates
    first: sp.csr_matrix  # Phi restricted
    period: tuple[sp.csr_matrix, ...]  # factors of M = Phi Lambda, applied right to left (Lambda first)
    top: int  # position of the coordinate S_(D-1, D-1) in ``keep``, or -1 if unreachable

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


def _build_propagator(params: MicromaserParams, d: int, rho0: np.ndarray) -> tuple[_Propagator, np.ndarray]:
    coords = _RealCoordinates(d)
    g = _gauge(d)
    x0 = coords.to_coordinates(g[:, None] * rho0 * g.conj()[None, :])
    phi = _to_real(_collision_superop(params, d), coords)
    loss = _loss_superop(params, d)
    lam = None if loss is None else _to_real(loss, coords)
    # coordinates reachable from the initial support through Phi and Lambda
    pattern = abs(phi)
    if lam is not None:
        pattern = pattern + abs(lam)
    pattern = sp.csr_matrix(pattern)
    pattern.data[:] = 1.0
    reached = np.abs(x0) > 0
    while True:
        grown = reached | (pattern @ reached.astype(float) > 0)
        if np.array_equal(grown, reached):
            break
        reached = grown
    keep = np.nonzero(reached)[0]

    def restrict(m: sp.csr_matrix) -> sp.csr_matrix:
        return sp.csr_matrix(m[keep][:, keep])

    first = restrict(phi)
    period = (first,) if lam is None else (first, restrict(lam))
    top_index = coords.to_coordinates(np.diag(np.eye(d)[d - 1]))  # indicator of S_(D-1, D-1)
    top_pos = np.nonzero(top_index[keep])[0]
    prop = _Propagator(coords, keep, first, period, int(top_pos[0]) if top_pos.size else -1)
    return prop, x0[keep]


# ---------------------------------------------------------------------------------------------- the driver


# rough costs in seconds (measured on 2 shared cores), used only to choose between sparse stepping and powers
_SPARSE_CALL = 1e-5  # Python and scipy overhead of one sparse matrix-vector product
_SPARSE_PER_NNZ = 1.5e-9
_DENSE_PER_FLOP = 1.5e-11  # dense matrix-matrix products (BLAS 3)
_DENSE_PER_BYTE = 1.5e-10  # dense matrix-vector products (memory bound)


class _Runner:
    """Walks increasing collision numbers: sparse steps for short gaps, cached powers M^(2^j) for long ones.

    The plan is global: if stepping every collision of the grid costs more than the squarings the largest gap
    needs, powers are used for every gap that is cheaper that way (the squarings are shared by all gaps).
    """

    def __init__(self, prop: _Propagator, v0: np.ndarray, params: MicromaserParams) -> None:
        self.prop = prop
        self.v = v0
        self.k = 0
        self.powers: list[np.ndarray] = []
        self.max_top = 0.0
        self.max_top_at = 0
        self.tolerance = float(params.cutoff_tolerance)
        n = prop.size
        self.step_cost = _SPARSE_CALL + _SPARSE_PER_NNZ * prop.step_nnz
        self.squaring_cost = 2.0 * n**3 * _DENSE_PER_FLOP
        self.matvec_cost = 8.0 * n * n * _DENSE_PER_BYTE
        self.use_powers = False
        self._note_top()

    def plan(self, grid: np.ndarray) -> bool:
        """Choose powers (True) or plain stepping for visiting ``grid`` (sorted) from collision 1."""
        targets = np.asarray(grid, dtype=np.int64)
        targets = targets[targets > 0]
        gaps = np.diff(np.concatenate([[1], targets])) if targets.size else np.zeros(0, np.int64)
        total_sparse = float(gaps.sum()) * self.step_cost
        max_gap = int(gaps.max()) if gaps.size else 0
        total_dense = max_gap.bit_length() * self.squaring_cost + sum(
            min(int(g) * self.step_cost, bin(int(g)).count("1") * self.matvec_cost) for g in gaps
        )
        self.use_powers = total_dense < total_sparse
        return self.use_powers

    def _top(self) -> float:
        return float(self.v[self.prop.top]) if self.prop.top >= 0 else 0.0

    def _note_top(self) -> None:
        t = self._top()
        if t > self.max_top:
            self.max_top, self.max_top_at = t, self.k

    def _power(self, j: int) -> np.ndarray:
        while len(self.powers) <= j:
            if not self.powers:
                self.powers.append(np.ascontiguousarray(self.prop.dense_period))
            else:
                last = self.powers[-1]
                self.powers.append(last @ last)
        return self.powers[j]

    def _steps(self, gap: int) -> None:
        """``gap`` sparse steps, noting the top-level population after each (the hot loop of short runs)."""
        factors = tuple(reversed(self.prop.period))
        top, v, best, best_at = self.prop.top, self.v, self.max_top, self.max_top_at
        if len(factors) == 1:
            (m,) = factors
            for i in range(gap):
                v = m @ v
                if top >= 0 and v[top] > best:
                    best, best_at = float(v[top]), self.k + i + 1
        else:
            for i in range(gap):
                for f in factors:
                    v = f @ v
                if top >= 0 and v[top] > best:
                    best, best_at = float(v[top]), self.k + i + 1
        self.v, self.k, self.max_top, self.max_top_at = v, self.k + gap, best, best_at

    def advance_to(self, target: int) -> None:
        if target < self.k:
            raise ValueError("collision numbers must be visited in increasing order")
        if self.k == 0 and target > 0:
            self.v = self.prop.first @ self.v
            self.k = 1
            self._note_top()
        gap = target - self.k
        if gap <= 0:
            return
        if not self.use_powers or gap * self.step_cost <= bin(gap).count("1") * self.matvec_cost:
            self._steps(gap)
            return
        j = 0
        while gap:
            if gap & 1:
                self.v = self._power(j) @ self.v
                self.k += 1 << j
                self._note_top()
            gap >>= 1
            j += 1

    def check(self, d: int) -> None:
        if self.max_top > self.tolerance:
            raise CutoffError(d, self.tolerance, self.max_top, self.max_top_at)

    def state(self) -> np.ndarray:
        """rho (un-gauged) at the current collision number."""
        coords = self.prop.coords
        full = np.zeros(coords.pairs[0].size)
        full[self.prop.keep] = self.v
        rho_g = coords.to_matrix(full)
        g = _gauge(coords.d)
        return g.conj()[:, None] * rho_g * g[None, :]


def _figures(rho: np.ndarray) -> dict[str, float | np.ndarray]:
    d = rho.shape[0]
    h = np.diag(np.arange(d, dtype=float))
    dist = np.real(np.diag(rho)).copy()
    e = float(np.dot(np.arange(d), dist))
    return {
        "energy": e,
        "mean_photons": e,
        "ergotropy": thermo.ergotropy(rho, h),
        "capacity": thermo.capacity(rho, h),
        "purity": thermo.purity(rho),
        "photon_distribution": dist,
    }


def _prepare(params: MicromaserParams, initial_state: np.ndarray | None) -> tuple[int, _Runner]:
    d = resolved_cutoff(params, initial_state)
    rho0 = _initial_density_matrix(initial_state, d)
    prop, v0 = _build_propagator(params, d, rho0)
    return d, _Runner(prop, v0, params)


#: with powers, the first collisions are still stepped (and checked) one by one, up to this share of the cost
_PREFIX_SHARE = 0.25
_MIN_PREFIX = 256


def evolve(params: MicromaserParams, initial_state: np.ndarray | None = None) -> MicromaserResult:
    """The cavity after ``params.collisions`` atoms, from the vacuum or ``initial_state`` (ket or matrix, Fock basis).

    Raises CutoffError (a ParameterError on ``cutoff``) if level D-1 held more than ``cutoff_tolerance`` at a
    checked collision: every collision when the run is stepped; with repeated squaring every collision of a
    prefix (at least 256, and about a quarter of the run's cost) and then collisions 2^j and K.
    """
    k_final = int(params.collisions)
    d, runner = _prepare(params, initial_state)
    if runner.plan(np.array([k_final])):
        prefix = int(_PREFIX_SHARE * k_final.bit_length() * runner.squaring_cost / runner.step_cost)
        prefix = min(k_final, max(_MIN_PREFIX, prefix))
        checkpoints = list(range(1, prefix + 1))
        checkpoints += [1 << j for j in range(k_final.bit_length()) if prefix < (1 << j) < k_final] + [k_final]
    else:
        checkpoints = [k_final]
    for k in checkpoints:
        runner.advance_to(k)
        runner.check(d)
    rho = runner.state()
    figs = _figures(rho)
    return MicromaserResult(
        collisions=k_final,
        cutoff=d,
        energy=float(figs["energy"]),
        ergotropy=float(figs["ergotropy"]),
        capacity=float(figs["capacity"]),
        purity=float(figs["purity"]),
        mean_photons=float(figs["mean_photons"]),
        top_level_population=runner.max_top,
        photon_distribution=_readonly(figs["photon_distribution"]),
        state=_readonly(rho),
    )


def default_grid(collisions: int, points: int = 200) -> np.ndarray:
    """Every collision 0 ... K if K < points, else 0 and about ``points`` log-spaced integers up to K."""
    k = _validate.integer_at_least("collisions", collisions, 0)
    if k < points:
        return np.arange(k + 1)
    grid = np.unique(np.round(np.logspace(0, math.log10(k), points - 1)).astype(np.int64))
    return np.unique(np.concatenate([[0], grid, [k]]))


def trajectory(
    params: MicromaserParams,
    collisions: Sequence[int] | np.ndarray | None = None,
    initial_state: np.ndarray | None = None,
) -> MicromaserTrajectory:
    """Figures of merit at each collision number in ``collisions`` (default ``default_grid(params.collisions)``).

    The numbers are sorted and de-duplicated; ``params.collisions`` only sets the default grid (an automatic
    cutoff is resolved for the largest number of the grid). Raises CutoffError as
    ``evolve`` does, checking every sampled collision (and every collision of sparse-stepped gaps).
    """
    if collisions is None:
        grid = default_grid(int(params.collisions))
    else:
        raw = np.asarray(collisions).reshape(-1)
        if raw.size == 0:
            raise ParameterError("collisions", "a non-empty list of integers >= 0", list(raw))
        for value in raw:
            _validate.integer_at_least("collisions", value.item(), 0)
        grid = np.unique(raw.astype(np.int64))
        if params.cutoff is None:  # the automatic cutoff must cover the largest requested collision number
            params = dataclasses.replace(params, collisions=int(grid[-1]))
    d, runner = _prepare(params, initial_state)
    runner.plan(grid)
    rows = []
    for k in grid:
        runner.advance_to(int(k))
        runner.check(d)  # fail as soon as the cutoff is exceeded
        rho = runner.state()
        rows.append((_figures(rho), float(np.real(rho[d - 1, d - 1]))))
    figs = [r[0] for r in rows]

    def column(key: str) -> np.ndarray:
        return _readonly(np.array([f[key] for f in figs]))

    return MicromaserTrajectory(
        collisions=_readonly(grid),
        cutoff=d,
        energy=column("energy"),
        ergotropy=column("ergotropy"),
        capacity=column("capacity"),
        purity=column("purity"),
        mean_photons=column("mean_photons"),
        top_level_population=_readonly(np.array([r[1] for r in rows])),
        max_top_level_population=runner.max_top,
        photon_distribution=column("photon_distribution"),
        final_state=_readonly(runner.state()),
    )
