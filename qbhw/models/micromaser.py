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
(|D-1, e> cannot reach |D, g>): see the cutoff checks below.

Optional cavity loss between collisions: for one free interval dt the cavity obeys

    d rho/dt = kappa (nth + 1) D[b] rho + kappa nth D[b^dag] rho,   cavity_loss = kappa dt,   thermal_photons = nth,

so ``cavity_loss`` is dimensionless (the photon number decays as exp(-cavity_loss) per interval at nth = 0). The
channel Lambda = exp(cavity_loss ((nth+1) D[b] + nth D[b^dag])) is exact (matrix exponentials). Collisions and
intervals alternate: the state right after the K-th collision is rho_K = Phi (Lambda Phi)^(K-1) rho_0 (K >= 1).
The free rotation exp(-i a^dag a t) is omitted (interaction picture); it changes no reported quantity.

Figures of merit: energy = mean_photons = Tr[rho a^dag a] (stored energy above the vacuum), ergotropy with the
non-degenerate ladder H_B = diag(0, 1, ..., D-1) (a property of the cavity: the passive state fills the lowest
levels), purity Tr rho^2, the photon-number distribution diag(rho). ``truncated_capacity`` is the capacity
C(rho; H_B) within the D-level space only: its active energy puts the largest eigenvalue on level D-1, so it grows
with the cutoff (a near-pure state gives ~D-1) and says nothing about the cavity, whose capacity is unbounded.

Method. With G = diag(i^n) the collision is a real 2-D stencil on rho~ = G rho G^dag (rho~_nm = i^(n-m) rho_nm):

    Phi~(X)_nm = (q cg_n cg_m + P ce_n ce_m) X_nm + P s_n s_m X_(n-1,m-1) + q s_(n+1) s_(m+1) X_(n+1,m+1)
                 + x [cg_n s_m X_(n,m-1) + s_n cg_m X_(n-1,m) - ce_n s_(m+1) X_(n,m+1) - s_(n+1) ce_m X_(n+1,m)],

q = 1 - P, x = C sqrt(P(1-P)), cg_n = cos(theta sqrt((b^dag b)_nn)), ce_n = cos(theta sqrt((b b^dag)_nn)),
s_n = sin(theta w_n) for the weight w_n of b|n> = w_n |n-1> (s_0 = s_D = 0), and Lambda acts on each diagonal
n - m separately. Both maps are assembled directly on the real coordinates of qbhw.models._fock_map (S_nm,
A_nm of rho~ = S + iA), restricted to those reachable from the initial state, and run by its Runner: sparse
steps, an early stop once the state is certifiably stationary (``method="stationary"``, with ``error_bound``
on the trace distance to the exact rho_K), or repeated squaring for slowly mixing runs (module docstring of
qbhw.models._fock_map).

Cutoff honesty, two checks (both must pass; CutoffError, a ParameterError on ``cutoff``, otherwise):

1. the population of level D-1 at every collision the run visits (every collision it steps; the certified bound
   after a stationary stop; the visited collisions of repeated squaring) is at most ``cutoff_tolerance``;
2. ``cutoff_error``: unless the truncation is provably exact (no thermal photons enter and D >= n0 + K + 1, with n0
   the highest occupied level of the initial state: each collision adds at most one photon, and the truncated
   maps are exact on states without population in level D-1), the run is repeated at the cutoff
   D2 = D + max(8, ceil(D/4)) (``cutoff_reference``) and cutoff_error is the largest change of energy, ergotropy
   and purity and of the state in trace norm (hence of every photon-number probability). It must be at most
   ``cutoff_tolerance``. This is an estimate of the truncation error of the reported figures, not a proof: if the
   error decays by a factor f between D and D2, the error of the D result is cutoff_error / (1 - f). For a thermal
   tail (nth photons) f ~ (nth/(nth+1))^(D2-D), e.g. 3 % for nth = 2 at D = 34 (tests: within 10 % of the change
   against a cutoff 40 levels higher); under trapping or for coherent plateaus the tail falls faster than
   geometrically. ``truncated_capacity`` depends on D by definition and is not compared.

Sizes (checked before any work): cutoff <= MAX_CUTOFF, collisions <= MAX_COLLISIONS, g_tau <= MAX_G_TAU,
cavity_loss <= MAX_CAVITY_LOSS, thermal_photons <= MAX_THERMAL_PHOTONS, at most MAX_TRAJECTORY_POINTS sampled
collisions (see the constants for what each bound protects). A run that is neither stationary nor small enough
for repeated squaring stops with a ParameterError on ``collisions`` after ~1e11 multiply-adds (1-2 minutes).

Exact fixed points under exact trapping theta sqrt(N_tr + 1) = k pi (docs/physics.md section 4.2): the pure
cotangent state (C = 1, k odd) and the truncated geometric state (C = 0).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from qbhw import _validate
from qbhw._arrays import readonly as _readonly
from qbhw.errors import CutoffError, ParameterError
from qbhw.models import _fock_map

__all__ = [
    "COUPLINGS",
    "DEFAULT_CUTOFF",
    "CutoffError",
    "MicromaserParams",
    "MicromaserResult",
    "MicromaserTrajectory",
    "atom_state",
    "collision_unitary",
    "cotangent_state",
    "default_grid",
    "evolve",
    "fixed_point",
    "geometric_state",
    "lowering_operator",
    "resolved_cutoff",
    "trajectory",
    "trapping_photon_number",
]

COUPLINGS = ("jaynes-cummings", "ladder")

#: cutoff used when none is given and no exact bound applies (the cutoff checks guard it)
DEFAULT_CUTOFF = 60
#: largest cutoff chosen automatically from an exact bound (collisions + 2 or N_tr + 2)
MAX_AUTO_CUTOFF = 80
#: |theta sqrt(N + 1) - k pi| below which theta counts as an exact trapping value
TRAPPING_TOLERANCE = 1e-9
#: largest cutoff: the maps hold ~D^2 coordinates (and, with loss, ~D^3/3 entries: 0.1 GB at D = 300) and the
#: loss channel costs ~D^4 flops to build (seconds at D = 300)
MAX_CUTOFF = 300
#: largest number of collisions: repeated squaring needs log2(K) <= 30 products and drifts by ~1e-16 K <= 1e-7
MAX_COLLISIONS = 10**9
#: largest g_tau: theta sqrt(n) carries an absolute rounding error ~1e-16 theta sqrt(n), <= 1e-10 rad here, and
#: the trapping search over k <= theta sqrt(n_max)/pi stays below ~3e5 candidates
MAX_G_TAU = 1e3
#: largest cavity_loss and thermal_photons: the loss generator's norm ~ cavity_loss (2 nth + 1) D stays moderate
MAX_CAVITY_LOSS = 1e3
MAX_THERMAL_PHOTONS = 1e3
#: largest number of sampled collisions of a trajectory (one D x D eigendecomposition each)
MAX_TRAJECTORY_POINTS = 10_000
#: the largest N_tr the trapping search considers
MAX_TRAPPING_SEARCH = 10**7


def _at_most(name: str, value: float, bound: float, why: str) -> None:
    if value > bound:
        raise ParameterError(name, f"<= {bound:g} ({why})", value)


# ------------------------------------------------------------------------------------------------ parameters


@dataclass(frozen=True)
class MicromaserParams:
    """Collision-model parameters (units of the cavity frequency; the cavity starts in the vacuum by default).

    g_tau            theta = g tau, the coupling times the interaction time, in (0, MAX_G_TAU]
    p_excited        P, excited population of each atom, in [0, 1]
    coherence        C, coherence of each atom (rho_eg = C sqrt(P(1-P))), in [0, 1]
    collisions       number of atoms K, integer in [0, MAX_COLLISIONS]
    cutoff           Fock cutoff D (levels 0 ... D-1), integer in [2, MAX_CUTOFF]; None chooses one
                     (``resolved_cutoff``)
    cavity_loss      kappa dt, the damping exponent of one interval between collisions, in [0, MAX_CAVITY_LOSS]
    thermal_photons  nth, mean photon number of the cavity's bath, in [0, MAX_THERMAL_PHOTONS]
    coupling         "jaynes-cummings" (b = a) or "ladder" (unweighted b = sum |n-1><n|, Seah et al.)
    cutoff_tolerance largest allowed population of the top level D-1 and largest allowed change of a figure when
                     the cutoff is raised (module docstring), in (0, 1]
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
        default=1e-6,
        metadata={
            "help": "largest population allowed in the top Fock level, and largest change of a figure when the "
            "cutoff is raised, in (0, 1]"
        },
    )

    def __post_init__(self) -> None:
        _validate.positive("g_tau", self.g_tau)
        _at_most("g_tau", float(self.g_tau), MAX_G_TAU, "theta sqrt(n) must be accurate to far below a radian")
        _validate.in_closed_interval("p_excited", self.p_excited, 0.0, 1.0)
        _validate.in_closed_interval("coherence", self.coherence, 0.0, 1.0)
        # numpy integers are accepted and stored as int (as are integral floats such as 30.0)
        object.__setattr__(self, "collisions", _validate.integer_at_least("collisions", self.collisions, 0))
        if self.collisions > MAX_COLLISIONS:
            raise ParameterError("collisions", f"an integer <= {MAX_COLLISIONS}", self.collisions)
        if self.cutoff is not None:
            object.__setattr__(self, "cutoff", _validate.integer_at_least("cutoff", self.cutoff, 2))
            if self.cutoff > MAX_CUTOFF:
                raise ParameterError("cutoff", f"an integer <= {MAX_CUTOFF}", self.cutoff)
        _validate.nonnegative("cavity_loss", self.cavity_loss)
        _at_most("cavity_loss", float(self.cavity_loss), MAX_CAVITY_LOSS, "the interval is then fully damped")
        _validate.nonnegative("thermal_photons", self.thermal_photons)
        _at_most("thermal_photons", float(self.thermal_photons), MAX_THERMAL_PHOTONS, "no cutoff could hold them")
        _validate.one_of("coupling", self.coupling, COUPLINGS)
        tol = _validate.finite("cutoff_tolerance", self.cutoff_tolerance)
        if not 0.0 < tol <= 1.0:
            raise ParameterError("cutoff_tolerance", "in (0, 1]", self.cutoff_tolerance)

    @property
    def p_ground(self) -> float:
        """q = 1 - P (docs/physics.md's parameter)."""
        return 1.0 - float(self.p_excited)


# --------------------------------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class MicromaserResult:
    """The cavity after ``collisions`` atoms. Scalar names match the JSON keys of the command line.

    ``state`` is rho in the Fock basis (interaction picture), shape (D, D); ``photon_distribution`` its diagonal.
    ``truncated_capacity`` is the capacity within the D-level space (module docstring: it measures the cutoff,
    not the cavity). ``top_level_population`` is the largest population of level D-1 over the checked collisions.
    ``method`` is the path that produced the state: "steps" (every collision applied), "stationary" (stepped until
    certified stationary) or "powers" (repeated squaring); ``error_bound`` bounds the trace distance of ``state``
    to the exact rho_K of the truncated model (0 unless stationary; rounding not included). ``cutoff_error`` is
    the largest change of energy, ergotropy, purity or of the state (trace norm) when the cutoff is raised to
    ``cutoff_reference``; both 0 / None when the truncation is provably exact.
    """

    collisions: int
    cutoff: int
    energy: float
    ergotropy: float
    truncated_capacity: float
    purity: float
    mean_photons: float
    top_level_population: float
    photon_distribution: np.ndarray
    state: np.ndarray
    method: str
    error_bound: float
    cutoff_error: float
    cutoff_reference: int | None

    @property
    def capacity(self) -> float:
        """Deprecated alias of ``truncated_capacity`` (kept for the command line; it is not the cavity's capacity)."""
        return self.truncated_capacity


@dataclass(frozen=True, eq=False)
class MicromaserTrajectory:
    """Figures of merit over the collision numbers ``collisions`` (arrays of that length).

    ``photon_distribution`` has shape (len(collisions), D); ``top_level_population`` is the population of level
    D-1 at each sampled collision; ``max_top_level_population`` the maximum over every checked collision
    (including those stepped between samples). ``final_state`` is rho after the last sampled collision.
    ``method`` lists the paths that ran ("steps", "stationary", "powers", joined by "+"), ``error_bound`` the
    early-stop bound of each sample, ``cutoff_error``/``cutoff_reference`` as in MicromaserResult (maximum over
    the samples).
    """

    collisions: np.ndarray
    cutoff: int
    energy: np.ndarray
    ergotropy: np.ndarray
    truncated_capacity: np.ndarray
    purity: np.ndarray
    mean_photons: np.ndarray
    top_level_population: np.ndarray
    max_top_level_population: float
    photon_distribution: np.ndarray
    final_state: np.ndarray
    method: str
    error_bound: np.ndarray
    cutoff_error: float
    cutoff_reference: int | None


# ------------------------------------------------------------------------------------------ operators, states


def lowering_operator(cutoff: int, coupling: str = "jaynes-cummings") -> np.ndarray:
    """b on levels 0 ... D-1: sum_n sqrt(n)|n-1><n| (Jaynes-Cummings) or sum_n |n-1><n| (ladder)."""
    d = _validate.integer_at_least("cutoff", cutoff, 2)
    if d > MAX_CUTOFF:
        raise ParameterError("cutoff", f"an integer <= {MAX_CUTOFF}", d)
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
    For each k only the nearest m = N_tr + 1 = round((k pi / g_tau)^2) can match; the candidates k <=
    g_tau sqrt(n_max + 2) / pi are tested at once (finite for every allowed g_tau and n_max).
    """
    theta = _validate.positive("g_tau", g_tau)
    _at_most("g_tau", theta, MAX_G_TAU, "theta sqrt(n) must be accurate to far below a radian")
    _validate.one_of("coupling", coupling, COUPLINGS)
    n_max = _validate.integer_at_least("n_max", n_max, 0)
    _at_most("n_max", n_max, MAX_TRAPPING_SEARCH, "the search tests every k up to theta sqrt(n_max)/pi")
    tolerance = _validate.nonnegative("tolerance", tolerance)
    if coupling == "ladder":
        k_ladder = round(theta / math.pi)
        return 0 if k_ladder >= 1 and abs(theta - k_ladder * math.pi) <= tolerance else None
    k_max = math.floor(theta * math.sqrt(n_max + 2.0) / math.pi)
    if k_max < 1:
        return None
    k = np.arange(1, k_max + 1, dtype=float)
    m = np.rint((k * math.pi / theta) ** 2)
    hit = (m >= 1) & (m - 1 <= n_max) & (np.abs(theta * np.sqrt(m) - k * math.pi) <= tolerance)
    found = np.flatnonzero(hit)
    return int(m[found[0]]) - 1 if found.size else None


def _trapping_order(g_tau: float, n_tr: int) -> int:
    return round(g_tau * math.sqrt(n_tr + 1) / math.pi)


def _require_trapping(g_tau: float) -> int:
    n_tr = trapping_photon_number(g_tau)
    if n_tr is None:
        raise ParameterError(
            "g_tau", f"an exact trapping value pi k / sqrt(N + 1) (within {TRAPPING_TOLERANCE:g})", g_tau
        )
    return n_tr


def _pad(psi: np.ndarray, cutoff: int | None, minimum: int, limit: int | None = None) -> np.ndarray:
    """``psi`` padded with zeros to length ``cutoff`` (default ``minimum``), at most ``limit`` long."""
    d = minimum if cutoff is None else _validate.integer_at_least("cutoff", cutoff, minimum)
    if limit is not None and d > limit:
        raise ParameterError("cutoff", f"<= {limit} for a dense D x D state (MAX_CUTOFF)", d)
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
    elif p == 0.0:
        psi[0] = 1.0
    else:  # the product of cotangents in logs: it can exceed any float for large N_tr
        cots = 1.0 / np.tan(0.5 * theta * np.sqrt(np.arange(1, n_tr + 1)))
        logs = np.concatenate([[0.0], np.cumsum(0.5 * math.log(p / (1.0 - p)) + np.log(np.abs(cots)))])
        signs = np.concatenate([[1.0], np.cumprod(np.sign(cots))])
        with np.errstate(under="ignore"):
            psi = np.exp(logs - logs.max()) * signs * (-1j) ** np.arange(n_tr + 1)
        psi /= np.linalg.norm(psi)
    return _pad(psi, cutoff, n_tr + 1)


def geometric_state(g_tau: float, p_excited: float, cutoff: int | None = None) -> np.ndarray:
    """Fixed point for C = 0 under exact trapping: p_n proportional to (P/(1-P))^n, n = 0 ... N_tr (density matrix).

    Detailed balance: up and down rates across n <-> n+1 carry the same sin^2 factor. P = 1 gives |N_tr><N_tr|.
    """
    theta = _validate.positive("g_tau", g_tau)
    p = _validate.in_closed_interval("p_excited", p_excited, 0.0, 1.0)
    n_tr = _require_trapping(theta)
    if max(n_tr + 1, cutoff or 0) > MAX_CUTOFF:
        raise ParameterError("cutoff", f"<= {MAX_CUTOFF} for a dense D x D state (here D >= N_tr + 1)", n_tr + 1)
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
        psi = _pad(cotangent_state(params.g_tau, params.p_excited), d, n_tr + 1, limit=MAX_CUTOFF)
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
    if n0 + 2 > MAX_CUTOFF:
        raise ParameterError("initial_state", f"supported on levels below {MAX_CUTOFF - 1} (MAX_CUTOFF)", n0)
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


# ------------------------------------------------------------------------------------------ the real maps


def _stencil(params: MicromaserParams, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float]:
    """(cg, ce, s, q, P, x) of the gauged collision stencil (module docstring); s has length D + 1."""
    n = np.arange(d)
    w = np.sqrt(n.astype(float)) if params.coupling == "jaynes-cummings" else np.where(n > 0, 1.0, 0.0)
    theta = float(params.g_tau)
    nd = w**2  # (b^dag b)_nn
    nu = np.append(w[1:] ** 2, 0.0)  # (b b^dag)_nn, 0 at the truncation edge
    s = np.zeros(d + 1)
    s[1:d] = np.sin(theta * w[1:])
    p = float(params.p_excited)
    x = float(params.coherence) * math.sqrt(p * (1.0 - p))
    return np.cos(theta * np.sqrt(nd)), np.cos(theta * np.sqrt(nu)), s, 1.0 - p, p, x


def _collision_map(params: MicromaserParams, coords: _fock_map.RealCoordinates, kinds: tuple[int, ...]):
    """The gauged collision on the real coordinates of the given kinds (0: S, 1: A), as COO triplets."""
    d = coords.d
    cg, ce, s, q, p, x = _stencil(params, d)
    rows, cols, vals = [], [], []
    for kind in kinds:
        n, m = np.triu_indices(d, k=kind)
        out = coords.index(n, m, kind)
        terms = (
            (0, 0, q * cg[n] * cg[m] + p * ce[n] * ce[m]),
            (-1, -1, p * s[n] * s[m]),
            (1, 1, q * s[n + 1] * s[m + 1]),
            (0, -1, x * cg[n] * s[m]),
            (-1, 0, x * s[n] * cg[m]),
            (0, 1, -x * ce[n] * s[m + 1]),
            (1, 0, -x * s[n + 1] * ce[m]),
        )
        for dn, dm, coef in terms:
            n2, m2 = n + dn, m + dm
            ok = (coef != 0) & (n2 >= 0) & (m2 >= 0) & (n2 < d) & (m2 < d)
            if kind == 1:
                ok &= n2 != m2  # A has no diagonal
            lo, hi = np.minimum(n2[ok], m2[ok]), np.maximum(n2[ok], m2[ok])
            sign = 1.0 if kind == 0 else np.where(n2[ok] < m2[ok], 1.0, -1.0)
            rows.append(out[ok])
            cols.append(coords.index(lo, hi, kind))
            vals.append(sign * coef[ok])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def _loss_map(params: MicromaserParams, coords: _fock_map.RealCoordinates, kinds: tuple[int, ...]):
    """Lambda = exp(cavity_loss ((nth+1) D[b] + nth D[b^dag])) on the coordinates (COO triplets), or None.

    The generator maps the diagonal X_(n, n+s) to itself (so it commutes with the gauge and acts alike on S and
    A): (b X b^dag)_(n,n+s) = w_(n+1) w_(n+s+1) X_(n+1,n+s+1), (b^dag X b)_(n,n+s) = w_n w_(n+s) X_(n-1,n+s-1),
    {b^dag b, X}_nm = (nd_n + nd_m) X_nm, {b b^dag, X}_nm = (nu_n + nu_m) X_nm; each diagonal is exponentiated.
    """
    gamma = float(params.cavity_loss)
    if gamma == 0.0:
        return None
    d = coords.d
    nth = float(params.thermal_photons)
    idx = np.arange(d)
    w = np.sqrt(idx.astype(float)) if params.coupling == "jaynes-cummings" else np.where(idx > 0, 1.0, 0.0)
    w_ext = np.append(w, 0.0)  # w_D = 0: b^dag |D-1> = 0 in the truncation
    nd, nu = w**2, w_ext[1:] ** 2
    down, up = gamma * (nth + 1.0), gamma * nth
    rows, cols, vals = [], [], []
    for kind in kinds:
        for shift in range(kind, d):
            n = np.arange(d - shift)
            gen = np.diag(-0.5 * (down * (nd[n] + nd[n + shift]) + up * (nu[n] + nu[n + shift])))
            if n.size > 1:
                gen += np.diag(down * w_ext[n[:-1] + 1] * w_ext[n[:-1] + shift + 1], k=1)
                gen += np.diag(up * w_ext[n[1:]] * w_ext[n[1:] + shift], k=-1)
            block = sla.expm(gen)
            pos = coords.index(n, n + shift, kind)
            rows.append(np.repeat(pos, n.size))
            cols.append(np.tile(pos, n.size))
            vals.append(block.reshape(-1))
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def _build_propagator(params: MicromaserParams, d: int, rho0: np.ndarray) -> tuple[_fock_map.Propagator, np.ndarray]:
    """The maps on the coordinates reachable from ``rho0`` (only S if rho0 has no antisymmetric part)."""
    coords = _fock_map.RealCoordinates(d)
    g = _fock_map.gauge(d)
    x0 = coords.to_coordinates(g[:, None] * rho0 * g.conj()[None, :])
    kinds = (0,) if not np.any(x0[coords.symmetric_size :]) else (0, 1)
    size = coords.size

    def matrix(triplets) -> sp.csr_matrix:
        r, c, v = triplets
        out = sp.csr_matrix((v, (r, c)), shape=(size, size))
        out.data[np.abs(out.data) < 1e-300] = 0.0
        out.eliminate_zeros()
        return out

    phi = matrix(_collision_map(params, coords, kinds))
    loss = _loss_map(params, coords, kinds)
    lam = None if loss is None else matrix(loss)
    # coordinates reachable from the initial support through Phi and Lambda
    pattern = abs(phi) if lam is None else abs(phi) + abs(lam)
    pattern.data[:] = 1.0
    reached = np.abs(x0) > 0
    while True:
        grown = reached | (pattern @ reached.astype(float) > 0)
        if np.array_equal(grown, reached):
            break
        reached = grown
    keep = np.flatnonzero(reached)

    def restrict(m: sp.csr_matrix) -> sp.csr_matrix:
        return sp.csr_matrix(m[keep][:, keep])

    first = restrict(phi)
    period = (first,) if lam is None else (first, restrict(lam))
    top_pos = np.flatnonzero(keep == coords.index(np.array([d - 1]), np.array([d - 1]), 0)[0])
    prop = _fock_map.Propagator(coords, keep, first, period, int(top_pos[0]) if top_pos.size else -1)
    return prop, x0[keep]


# ---------------------------------------------------------------------------------------------- the driver


@dataclass(frozen=True, eq=False)
class _Figures:
    energy: float
    ergotropy: float
    truncated_capacity: float
    purity: float
    photon_distribution: np.ndarray


def _figures(rho: np.ndarray) -> _Figures:
    """Energy, ergotropy, truncated capacity and purity from one eigendecomposition (H = diag(0 ... D-1))."""
    d = rho.shape[0]
    levels = np.arange(d, dtype=float)
    dist = np.real(np.diag(rho)).copy()
    energy = float(levels @ dist)
    r = np.linalg.eigvalsh(0.5 * (rho + rho.conj().T))  # ascending
    passive = float(levels @ r[::-1])
    f = _Figures(energy, energy - passive, float(levels @ (r - r[::-1])), float(r @ r), dist)
    if not all(math.isfinite(v) for v in (f.energy, f.ergotropy, f.truncated_capacity, f.purity)):
        raise ArithmeticError("the micromaser figures of merit are not finite")  # pragma: no cover - a bug
    return f


@dataclass(frozen=True, eq=False)
class _Run:
    """States and bookkeeping of one run over sorted collision numbers."""

    states: list[np.ndarray]
    bounds: list[float]
    paths: list[str]
    method_last: str
    max_top: float
    max_top_at: int


def _run(params: MicromaserParams, d: int, rho0: np.ndarray, grid: np.ndarray) -> _Run:
    prop, v0 = _build_propagator(params, d, rho0)
    runner = _fock_map.Runner(prop, v0, horizon=int(grid[-1]))
    states, bounds = [], []
    try:
        for k in grid:
            runner.advance_to(int(k))
            if runner.max_top > params.cutoff_tolerance:  # fail as soon as the cutoff is exceeded
                raise CutoffError(d, params.cutoff_tolerance, runner.max_top, runner.max_top_at)
            states.append(prop.matrix(runner.v))
            bounds.append(runner.bound)
    except _fock_map.WorkExceeded as err:
        raise ParameterError(
            "collisions",
            f"at most ~{err.collision} for these parameters: the cavity does not become stationary and the map "
            f"({prop.size} coordinates) is too large for repeated squaring; lower --collisions or --cutoff",
            int(grid[-1]),
        ) from None
    return _Run(states, bounds, list(runner.paths), runner.path, runner.max_top, runner.max_top_at)


def _truncation_exact(params: MicromaserParams, d: int, rho0: np.ndarray, k_max: int) -> bool:
    """True when the truncated run is provably the untruncated one (module docstring, cutoff check 2)."""
    if params.cavity_loss > 0.0 and params.thermal_photons > 0.0:
        return False
    return d >= _support_top(rho0) + k_max + 1


def _reference_cutoff(d: int) -> int:
    return d + max(8, math.ceil(d / 4))


def _change(a: _Figures, b: _Figures, rho_a: np.ndarray, rho_b: np.ndarray) -> float:
    """Largest change of energy, ergotropy, purity and of the state (trace norm) between cutoffs D < D2."""
    grown = np.zeros_like(rho_b)
    da = rho_a.shape[0]
    grown[:da, :da] = rho_a
    trace = float(np.sum(np.abs(np.linalg.eigvalsh(grown - rho_b))))
    return max(abs(a.energy - b.energy), abs(a.ergotropy - b.ergotropy), abs(a.purity - b.purity), trace)


def _cutoff_check(
    params: MicromaserParams, d: int, rho0: np.ndarray, grid: np.ndarray, run: _Run, figs: list[_Figures]
) -> tuple[float, int | None]:
    if _truncation_exact(params, d, rho0, int(grid[-1])):
        return 0.0, None
    d2 = _reference_cutoff(d)
    rho0_2 = np.zeros((d2, d2), dtype=complex)
    rho0_2[:d, :d] = rho0
    relaxed = dataclasses.replace(params, cutoff=None, cutoff_tolerance=1.0)
    ref = _run(relaxed, d2, rho0_2, grid)
    error = max(_change(f, _figures(s2), s, s2) for f, s, s2 in zip(figs, run.states, ref.states, strict=True))
    if error > params.cutoff_tolerance:
        raise CutoffError(d, params.cutoff_tolerance, run.max_top, run.max_top_at, reference=(d2, error))
    return error, d2


def _prepare(params: MicromaserParams, initial_state: np.ndarray | None) -> tuple[int, np.ndarray]:
    d = resolved_cutoff(params, initial_state)
    return d, _initial_density_matrix(initial_state, d)


def evolve(params: MicromaserParams, initial_state: np.ndarray | None = None) -> MicromaserResult:
    """The cavity after ``params.collisions`` atoms, from the vacuum or ``initial_state`` (ket or matrix, Fock basis).

    Raises CutoffError (a ParameterError on ``cutoff``) if either cutoff check fails (module docstring).
    """
    k_final = int(params.collisions)
    d, rho0 = _prepare(params, initial_state)
    grid = np.array([k_final])
    run = _run(params, d, rho0, grid)
    rho = run.states[-1]
    figs = _figures(rho)
    cutoff_error, reference = _cutoff_check(params, d, rho0, grid, run, [figs])
    return MicromaserResult(
        collisions=k_final,
        cutoff=d,
        energy=figs.energy,
        ergotropy=figs.ergotropy,
        truncated_capacity=figs.truncated_capacity,
        purity=figs.purity,
        mean_photons=figs.energy,
        top_level_population=run.max_top,
        photon_distribution=_readonly(figs.photon_distribution),
        state=_readonly(rho),
        method=run.method_last,
        error_bound=run.bounds[-1],
        cutoff_error=cutoff_error,
        cutoff_reference=reference,
    )


def default_grid(collisions: int, points: int = 200) -> np.ndarray:
    """Every collision 0 ... K if K < points, else 0 and about ``points`` log-spaced integers up to K."""
    k = _validate.integer_at_least("collisions", collisions, 0)
    points = _validate.integer_at_least("points", points, 2)
    _at_most("points", points, MAX_TRAJECTORY_POINTS, "one eigendecomposition per sampled collision")
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

    The numbers are sorted and de-duplicated (at most MAX_TRAJECTORY_POINTS, each <= MAX_COLLISIONS);
    ``params.collisions`` only sets the default grid (an automatic cutoff is resolved for the largest number of the
    grid). Raises CutoffError as ``evolve`` does, checking every sampled collision (and every collision of
    stepped gaps).
    """
    if collisions is None:
        grid = default_grid(int(params.collisions))
    else:
        raw = np.asarray(collisions, dtype=object).reshape(-1)
        if raw.size == 0:
            raise ParameterError("collisions", "a non-empty list of integers >= 0", list(raw))
        if raw.size > MAX_TRAJECTORY_POINTS:
            raise ParameterError("collisions", f"at most {MAX_TRAJECTORY_POINTS} collision numbers", raw.size)
        values = [_validate.integer_at_least("collisions", v.item() if hasattr(v, "item") else v, 0) for v in raw]
        if max(values) > MAX_COLLISIONS:
            raise ParameterError("collisions", f"integers <= {MAX_COLLISIONS}", max(values))
        grid = np.unique(np.array(values, dtype=np.int64))
        if params.cutoff is None:  # the automatic cutoff must cover the largest requested collision number
            params = dataclasses.replace(params, collisions=int(grid[-1]))
    d, rho0 = _prepare(params, initial_state)
    run = _run(params, d, rho0, grid)
    figs = [_figures(s) for s in run.states]
    cutoff_error, reference = _cutoff_check(params, d, rho0, grid, run, figs)

    def column(key: str) -> np.ndarray:
        return _readonly(np.array([getattr(f, key) for f in figs]))

    return MicromaserTrajectory(
        collisions=_readonly(grid),
        cutoff=d,
        energy=column("energy"),
        ergotropy=column("ergotropy"),
        truncated_capacity=column("truncated_capacity"),
        purity=column("purity"),
        mean_photons=column("energy"),
        top_level_population=_readonly(np.array([float(np.real(s[d - 1, d - 1])) for s in run.states])),
        max_top_level_population=run.max_top,
        photon_distribution=column("photon_distribution"),
        final_state=_readonly(run.states[-1]),
        method="+".join(run.paths),
        error_bound=_readonly(np.array(run.bounds)),
        cutoff_error=cutoff_error,
        cutoff_reference=reference,
    )
