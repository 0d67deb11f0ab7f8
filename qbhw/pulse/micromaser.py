"""The micromaser battery on a cavity-QED device, at pulse level (docs/physics.md sections 4 and 6.2).

The cavity of ``qbhw.models.micromaser`` is a storage resonator; each "atom" is the same flux-tunable transmon,
used once per collision. One collision, in the resonator's rotating frame (local time from 0):

1. reset: the transmon is replaced by the reset state (|g>, or excited with the calibration's ``reset_error``
   when the ``reset`` imperfection is on), then waits parked for ``reset_duration_ns`` (the resonator keeps
   decaying and, with the coupling on while parked, the dispersive phase keeps accumulating);
2. preparation of rho_Q = (1-P)|g><g| + P|e><e| + C sqrt(P(1-P))(|g><e| + h.c.): a Gaussian drive pulse (DRAG
   for L >= 3 levels) of area 2 arcsin sqrt(P) at the parked (vacuum-dressed) frequency, or, with
   ``preparation="ideal"``, the exact rotation it implements; C < 1 is a mixture of the pulse with its phase and
   with the opposite phase (weights (1 +- C)/2), i.e. a dephased atom;
3. a flux pulse bringing the transmon from its parked detuning Delta_p to resonance (Delta = 0), a flat top of
   tau, and back, with cosine ramps of the calibration's rise time (or instantaneous edges);
4. the transmon is discarded (the next collision's reset).

The drive phase is referenced to the resonator's frame at the start of every collision and set so that the
atom's coherence arrives real and positive at the start of the flat top (the free phase of the parked atom and of
the ramp is compensated, as an experiment calibrates a virtual Z); every collision is then the same map on the
cavity, computed once (D(D+1)/2 inputs |i><j|, i <= j, the rest by Hermiticity) and applied K times.

Phase tracking. While the transmon is parked with the coupling on, the resonator is pulled to omega_r + delta_c
(delta_c ~ -g^2/Delta_p; 0.75 rad per 1.2 us collision at g/2pi = 10 MHz, Delta_p/2pi = -1 GHz), so coherent atoms
would meet a cavity field turned by delta_c T each collision, which dephases the battery. An experiment tracks the
measured (pulled) frequency: each collision's drive phase is referenced to the frame rotating at omega_r + delta_c.
That is the same as working in that frame, where every collision is again the same map M' = M A with
A = Ad(e^{i delta_c T a^dag a}) (T the collision period), and rho_K = (M A)^K rho_0 (the vacuum is unchanged by A):
states are reported in the tracked frame aligned with the resonator frame at the end of the last collision
(``phase_tracking=False`` runs the untracked protocol). With ``Imperfections.none()`` the collision is
exactly the Jaynes-Cummings collision exp(-i g tau (a sigma+ + a^dag sigma-)) of the ideal model.

tau is calibrated as experiments calibrate swap times: on the vacuum-Rabi transfer |e,0> -> |g,1> of the whole
flux pulse (ramps included), |<g,1|U|e,0>|^2 = sin^2(g_tau) on the branch of g_tau (without ramps tau = g_tau/g).

Figures (units of hbar omega_r, as the ideal model): energy = mean photon number, ergotropy on the ladder
diag(0, ..., D-1), purity; leakage = population of transmon levels >= 2 at the end of a collision (before the
reset); fidelity F (squared convention) to the ideal model's state, raw and after the best cavity rotation
e^{-i phi a^dag a} (the always-on dispersive shift rotates the cavity between collisions; ergotropy, energy and
purity do not change under it), with phi reported. Cutoff honesty as in the ideal model: the population of Fock
level D-1 is checked after every stepped collision and a run that exceeds ``cutoff_tolerance`` raises CutoffError.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla
import scipy.optimize as sopt

from qbhw import _validate
from qbhw._arrays import readonly as _readonly
from qbhw.errors import CutoffError, ParameterError, QbhwError
from qbhw.hardware import units
from qbhw.models import micromaser as mm
from qbhw.physics import distance
from qbhw.physics import thermodynamics as thermo
from qbhw.pulse import _exact
from qbhw.pulse.cqed import MAX_DIMENSION, cavity_qed_model
from qbhw.pulse.device import CavityQEDDevice, as_device
from qbhw.pulse.envelopes import Drag, FlatTop, Gaussian, sample, uniform_edges
from qbhw.pulse.imperfections import Imperfections, parse_imperfections
from qbhw.pulse.model import PulseModel, Schedule, Track, constant_schedule
from qbhw.pulse.simulate import FRAMES, check_engine, propagate, resolve_engine

PREPARATIONS = ("drive", "ideal")
#: transmon levels used when the ``levels`` imperfection is on and none are given
DEFAULT_LEVELS = 3


@dataclass(frozen=True)
class PulseOptions:
    """Protocol details that are not device data.

    preparation   "drive" (a Gaussian/DRAG pulse of ``drive_ns``) or "ideal" (the exact rotation)
    drive_ns      length of the preparation pulse (sigma = drive_ns / 4)
    drag_beta     DRAG coefficient of the preparation pulse on a transmon with L >= 3 levels
    phase_tracking  reference every collision's drive phase to the resonator's dressed (pulled) frequency while
                  parked, as an experiment tracks a measured frequency; states are then reported in that frame
    frame         frame the ODE engines integrate in: "rotating" (the resonator's) or "lab"
    rtol          relative tolerance of the ODE engines (absolute: rtol / 100)
    """

    preparation: str = "drive"
    drive_ns: float = 20.0
    drag_beta: float = 0.5
    phase_tracking: bool = True
    frame: str = "rotating"
    rtol: float = 1e-9

    def __post_init__(self) -> None:
        _validate.one_of("preparation", self.preparation, PREPARATIONS)
        _validate.positive("drive_ns", self.drive_ns)
        _validate.finite("drag_beta", self.drag_beta)
        _validate.one_of("frame", self.frame, FRAMES)
        _validate.positive("rtol", self.rtol)


# ------------------------------------------------------------------------------------------ the collision


@dataclass(frozen=True, eq=False)
class Collision:
    """One collision of the pulse-level protocol (see the module docstring), ready to be propagated."""

    model: PulseModel
    reset_state: np.ndarray
    reset_ns: float
    idle: Schedule | None
    preparation: str
    prep_unitaries: tuple[tuple[float, np.ndarray], ...]
    prep_schedules: tuple[tuple[float, Schedule], ...]
    flux: Schedule
    tau_ns: float
    flux_ns: float
    prep_ns: float
    park_detuning: float
    coupling: float
    calibration_residual: float
    cavity_pull: float
    tracking: bool
    imperfections: Imperfections
    device: CavityQEDDevice
    coupling_mhz: float
    anharmonicity_mhz: float

    @property
    def levels(self) -> int:
        return self.model.dims[0]

    @property
    def cutoff(self) -> int:
        return self.model.dims[1]

    @property
    def period_ns(self) -> float:
        return self.reset_ns + self.prep_ns + self.flux_ns

    @property
    def frame_rotation(self) -> float:
        """Phase (rad) by which the tracked frame turns the cavity per collision: cavity_pull * period, or 0."""
        return self.cavity_pull * self.period_ns if self.tracking else 0.0


def _ramp(park: float, rise_ns: float, sample_ns: float) -> tuple[np.ndarray, np.ndarray]:
    """(durations, detunings) of the sampled rising edge Delta(t) = Delta_p (1 - s(t)) (empty for rise 0)."""
    if rise_ns == 0.0:
        return np.zeros(0), np.zeros(0)
    edges = uniform_edges(0.0, rise_ns, sample_ns)
    mids = 0.5 * (edges[:-1] + edges[1:])
    s = FlatTop(0.0, rise_ns).ramp(mids)
    return np.diff(edges), park * (1.0 - s)


def single_excitation_transfer(
    g: float, park: float, rise_ns: float, sample_ns: float
) -> tuple[Any, np.ndarray, np.ndarray]:
    """P(tau) = |<g,1|U|e,0>|^2 of the flux pulse (closed, basis |e,0>, |g,1>; H = [[Delta, g], [g, 0]]).

    Returns (P as a function of the flat-top length tau in ns, U of the rising edge, U of the falling edge).
    """
    durs, dets = _ramp(park, rise_ns, sample_ns)

    def step(delta: float, dt: float) -> np.ndarray:
        return sla.expm(-1j * dt * np.array([[delta, g], [g, 0.0]]))

    up = np.eye(2, dtype=complex)
    for dt, delta in zip(durs, dets, strict=True):
        up = step(delta, dt) @ up
    down = np.eye(2, dtype=complex)
    for dt, delta in zip(durs[::-1], dets[::-1], strict=True):
        down = step(delta, dt) @ down

    def transfer(tau: float) -> float:
        u = down @ step(0.0, tau) @ up
        return float(abs(u[1, 0]) ** 2)

    return transfer, up, down


def calibrate_flat_top(g_tau: float, g: float, park: float, rise_ns: float, sample_ns: float) -> tuple[float, float]:
    """(tau_ns, residual): the flat-top length whose vacuum-Rabi transfer equals sin^2(g_tau) on g_tau's branch.

    Without ramps tau = g_tau / g exactly. With ramps P(tau) ~ sin^2(g tau + c), c the ramps' own exchange angle;
    the root is searched on the branch [j pi/2, (j+1) pi/2] that holds g_tau (bisection, or the closest approach
    when g_tau sits on an extremum); ``residual`` = |P(tau) - sin^2(g_tau)|.
    """
    if rise_ns == 0.0:
        return g_tau / g, 0.0
    transfer, _, _ = single_excitation_transfer(g, park, rise_ns, sample_ns)
    target = math.sin(g_tau) ** 2
    c = math.asin(math.sqrt(min(1.0, transfer(0.0))))
    if g_tau < c - 1e-12:
        raise ParameterError(
            "g_tau",
            f">= {c:.4g}, the exchange angle of the flux ramps alone (or use shorter ramps or a weaker coupling)",
            g_tau,
        )
    j = math.floor(g_tau / (0.5 * math.pi))
    lo = max(0.0, (j * 0.5 * math.pi - c) / g)
    hi = max(lo, ((j + 1) * 0.5 * math.pi - c) / g)

    def f(tau: float) -> float:
        return transfer(tau) - target

    flo, fhi = f(lo), f(hi)
    if flo * fhi < 0:
        tau = float(sopt.brentq(f, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=500))
    else:
        res = sopt.minimize_scalar(lambda t: f(t) ** 2, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
        tau = float(res.x)
    return tau, abs(f(tau))


def parked_frequencies(model: PulseModel, park: float, coupled: bool) -> tuple[float, float]:
    """(transmon, resonator) frequencies in rad/ns, resonator frame, of the one-excitation dressed states while
    parked: the |e,0>-like one (the preparation drive's frequency) and the |g,1>-like one (the resonator pulled by
    the parked transmon, about -g^2/Delta_p; what phase tracking follows)."""
    if not coupled:
        return park, 0.0
    h = model.static + park * model.full("detuning") + model.full("coupling")
    d = model.dims[1]
    one = [1 * d + 0, 0 * d + 1]  # |e,0>, |g,1>
    w, v = np.linalg.eigh(h[np.ix_(one, one)])
    k = int(np.argmax(np.abs(v[0])))
    return float(w[k]), float(w[1 - k])


def transmon_levels(levels: int | None, imperfections: Imperfections) -> int:
    """L: ``levels`` (default 3) with the ``levels`` imperfection on, 2 without it (asking for more is an error)."""
    if levels is not None:
        levels = _validate.integer_at_least("levels", levels, 2)
        if not imperfections.levels and levels != 2:
            raise ParameterError(
                "levels", "2 when the 'levels' imperfection is off (add levels to --imperfections)", levels
            )
    if not imperfections.levels:
        return 2
    return DEFAULT_LEVELS if levels is None else levels


def build_collision(
    params: mm.MicromaserParams,
    device: CavityQEDDevice,
    *,
    levels: int | None,
    cutoff: int,
    imperfections: Imperfections,
    coupling_mhz: float | None = None,
    anharmonicity_mhz: float | None = None,
    options: PulseOptions | None = None,
) -> Collision:
    """The pulse-level collision for ``params`` (g_tau, P, C) on ``device`` with the given imperfections."""
    opts = PulseOptions() if options is None else options
    imp = imperfections
    device.require_micromaser_host()
    lv = transmon_levels(levels, imp)
    model = cavity_qed_model(
        device,
        levels=lv,
        cutoff=cutoff,
        imperfections=imp,
        coupling_mhz=coupling_mhz,
        anharmonicity_mhz=anharmonicity_mhz,
        rwa=True,
    )
    t = device.transmon
    g_mhz = device.coupling_mhz if coupling_mhz is None else float(coupling_mhz)
    alpha_mhz = t.anharmonicity_ghz * 1e3 if anharmonicity_mhz is None else float(anharmonicity_mhz)
    if g_mhz <= 0.0:
        raise ParameterError("coupling_mhz", "> 0 for the micromaser's exchange", g_mhz)
    if lv >= 3 and alpha_mhz == 0.0:
        raise ParameterError("anharmonicity_mhz", "non-zero for a transmon with 3 or more levels", alpha_mhz)
    g = units.mhz_to_rad_per_ns(g_mhz)
    park = units.ghz_to_rad_per_ns(t.freq_ghz - device.resonator.freq_ghz)
    dt = device.sample_ns
    c_park = 1.0 if imp.dispersive else 0.0
    theta = float(params.g_tau)
    p, c = float(params.p_excited), float(params.coherence)

    reset = np.zeros((lv, lv), dtype=complex)
    p_reset = t.reset_error if imp.reset else 0.0
    reset[0, 0], reset[1, 1] = 1.0 - p_reset, p_reset
    idle = None
    if t.reset_duration_ns > 0:
        idle = constant_schedule(t.reset_duration_ns, {"detuning": park, "coupling": c_park})

    # flux pulse: ramps sampled, flat top of the calibrated length, coupling on throughout
    rise = t.flux_rise_ns if imp.rise else 0.0
    tau, residual = calibrate_flat_top(theta, g, park, rise, dt)
    durs, dets = _ramp(park, rise, dt)
    spans = np.concatenate([durs, [tau], durs[::-1]])
    detuning = np.concatenate([dets, [0.0], dets[::-1]])
    keep = spans > 0
    flux = Schedule(
        np.concatenate([[0.0], np.cumsum(spans[keep])]),
        (Track("detuning", detuning[keep]), Track("coupling", np.ones(int(keep.sum())))),
    )
    ramp_phase = float(np.dot(durs, dets))  # int Delta dt over the rising edge: the atom's free phase there

    # preparation
    weights = [((1.0 + c) / 2.0, 0.0), ((1.0 - c) / 2.0, math.pi)] if 0.0 < p < 1.0 else [(1.0, 0.0)]
    weights = [(w, ph) for w, ph in weights if w > 0.0]
    theta_p = 2.0 * math.asin(math.sqrt(p))
    prep_unitaries: list[tuple[float, np.ndarray]] = []
    prep_schedules: list[tuple[float, Schedule]] = []
    prep_ns = 0.0
    if opts.preparation == "ideal" or p == 0.0:
        rot = np.eye(lv, dtype=complex)
        rot[:2, :2] = [[math.cos(theta_p / 2), -math.sin(theta_p / 2)], [math.sin(theta_p / 2), math.cos(theta_p / 2)]]
        levels_n = np.arange(lv)
        for w, ph in weights:
            phases = np.exp(1j * (ramp_phase + ph) * levels_n)
            prep_unitaries.append((w, phases[:, None] * rot))
    else:
        prep_ns = float(opts.drive_ns)
        if lv >= 3:
            env: Drag | Gaussian = Drag(prep_ns, alpha_mhz * 1e-3, beta=opts.drag_beta)
        else:
            env = Gaussian(prep_ns)
        edges, x = sample(env, dt)
        area = float(np.dot(x.real, np.diff(edges)))
        amplitude = theta_p / area
        carrier = parked_frequencies(model, park, imp.dispersive)[0]
        for w, ph in weights:
            phase = carrier * prep_ns + ramp_phase + ph
            values = 0.5j * amplitude * x * np.exp(1j * phase)
            spans_n = edges.size - 1
            prep_schedules.append(
                (
                    w,
                    Schedule(
                        edges,
                        (
                            Track("detuning", np.full(spans_n, park)),
                            Track("coupling", np.full(spans_n, c_park)),
                            Track("drive", values, carrier=carrier),
                        ),
                    ),
                )
            )
    return Collision(
        model=model,
        reset_state=reset,
        reset_ns=t.reset_duration_ns,
        idle=idle,
        preparation="ideal" if prep_unitaries else "drive",
        prep_unitaries=tuple(prep_unitaries),
        prep_schedules=tuple(prep_schedules),
        flux=flux,
        tau_ns=tau,
        flux_ns=float(flux.duration),
        prep_ns=prep_ns,
        park_detuning=park,
        coupling=g,
        calibration_residual=residual,
        cavity_pull=parked_frequencies(model, park, imp.dispersive)[1],
        tracking=opts.phase_tracking,
        imperfections=imp,
        device=device,
        coupling_mhz=g_mhz,
        anharmonicity_mhz=alpha_mhz,
    )


# ------------------------------------------------------------------------------------- the collision map


@dataclass(frozen=True, eq=False)
class CollisionChannel:
    """One collision as a map on the cavity: vec(rho') = matrix @ vec(rho) (row-major vec, D^2 x D^2), and the
    leakage functional: leakage of the collision = Re(leakage @ vec(rho)) for the cavity state rho before it."""

    matrix: np.ndarray
    leakage: np.ndarray
    engines: dict[str, str]
    trace_error: float

    @property
    def engine(self) -> str:
        used = sorted({e for part, e in self.engines.items() if part != "reset"})
        return "+".join(used) if used else "exact"


def collision_channel(
    collision: Collision, *, engine: str = "auto", frame: str = "rotating", rtol: float = 1e-9
) -> CollisionChannel:
    """Propagate the D^2 cavity basis operators |i><j| (with the transmon in the reset state) through one collision.

    The reset window has no control: every engine applies it as the exact map of its constant generator.
    """
    check_engine(engine)
    model = collision.model
    lv, d = model.dims
    m = d * d
    # Hermiticity: the image of |j><i| is the adjoint of the image of |i><j|, so only i <= j is propagated
    pairs = [(i, j) for i in range(d) for j in range(i, d)]
    x5 = np.zeros((len(pairs), lv, d, lv, d), dtype=complex)
    for k, (i, j) in enumerate(pairs):
        x5[k, :, i, :, j] = collision.reset_state
    x = x5.reshape(len(pairs), lv * d, lv * d)
    engines: dict[str, str] = {}
    if collision.idle is not None:
        x = _exact.propagate(model, collision.idle, x)
        engines["reset"] = "exact"
    if collision.prep_unitaries:
        out = np.zeros_like(x)
        for w, u in collision.prep_unitaries:
            big = np.kron(u, np.eye(d))
            out += w * (big @ x @ big.conj().T)
        x = out
        engines["preparation"] = "exact"
    else:
        out = np.zeros_like(x)
        for w, sched in collision.prep_schedules:
            used = resolve_engine(engine, model, sched, frame)
            out += w * propagate(model, sched, x, engine=used, frame=frame, rtol=rtol)
            engines["preparation"] = used
        x = out
    used = resolve_engine(engine, model, collision.flux, frame)
    x = propagate(model, collision.flux, x, engine=used, frame=frame, rtol=rtol)
    engines["flux"] = used
    x5 = x.reshape(len(pairs), lv, d, lv, d)
    half = np.einsum("kqaqb->kab", x5)
    half_leak = np.einsum("kqaqa->kq", x5)[:, 2:].sum(axis=1) if lv > 2 else np.zeros(len(pairs), dtype=complex)
    cav = np.zeros((m, d, d), dtype=complex)
    leak = np.zeros(m, dtype=complex)
    for k, (i, j) in enumerate(pairs):
        cav[i * d + j] = half[k]
        leak[i * d + j] = half_leak[k]
        if i != j:
            cav[j * d + i] = half[k].conj().T
            leak[j * d + i] = np.conj(half_leak[k])
    matrix = cav.reshape(m, m).T
    theta = collision.frame_rotation
    if theta != 0.0:  # tracked frame: rho_ij -> e^{i theta (i - j)} rho_ij before the collision (see module doc)
        idx = np.arange(d)
        matrix = matrix * np.exp(1j * theta * np.subtract.outer(idx, idx)).reshape(-1)[None, :]
    diag_in = np.arange(d) * (d + 1)
    trace_error = float(np.max(np.abs(np.trace(cav[diag_in], axis1=1, axis2=2) - 1.0)))
    return CollisionChannel(matrix=_readonly(matrix), leakage=_readonly(leak), engines=engines, trace_error=trace_error)


def ideal_channel(params: mm.MicromaserParams, cutoff: int) -> np.ndarray:
    """The ideal model's collision as a D^2 x D^2 map (row-major vec), from its public unitary and atom state."""
    d = cutoff
    u = mm.collision_unitary(float(params.g_tau), d).reshape(d, 2, d, 2)  # cavity first, atom (g, e) second
    rq = mm.atom_state(params.p_excited, params.coherence)
    out = np.zeros((d * d, d * d), dtype=complex)
    for i in range(2):
        for k in range(2):
            for l in range(2):
                if rq[k, l] != 0:
                    out += rq[k, l] * np.kron(u[:, i, :, k], u[:, i, :, l].conj())
    return out


# ----------------------------------------------------------------------------------------- the repetition


def _figures(rho: np.ndarray) -> dict[str, float]:
    if not np.all(np.isfinite(rho)):
        raise QbhwError("the pulse-level state is not finite (an engine failed); try engine='exact' or a smaller rtol")
    d = rho.shape[0]
    h = np.diag(np.arange(d, dtype=float))
    e = float(np.real(np.trace(rho @ h)))
    return {
        "energy": e,
        "mean_photons": e,
        "ergotropy": thermo.ergotropy(rho, h),
        "purity": thermo.purity(rho),
    }


def _fidelity(rho: np.ndarray, reference: np.ndarray) -> float:
    """Fidelity (squared convention), clipped at 1 (rounding can exceed it by ~1e-11 for equal pure states)."""
    return min(1.0, distance.fidelity(rho, reference))


def best_phase(rho: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """(phi, F): the cavity rotation e^{-i phi a^dag a} rho e^{i phi a^dag a} closest in fidelity to ``reference``."""
    n = np.arange(rho.shape[0])
    diff = n[:, None] - n[None, :]

    def fid(phi: float) -> float:
        return _fidelity(rho * np.exp(-1j * phi * diff), reference)

    grid = np.linspace(-math.pi, math.pi, 97)[:-1]
    vals = [fid(x) for x in grid]
    k = int(np.argmax(vals))
    step = grid[1] - grid[0]
    res = sopt.minimize_scalar(
        lambda x: -fid(x), bounds=(grid[k] - step, grid[k] + step), method="bounded", options={"xatol": 1e-10}
    )
    phi, best = (float(res.x), -float(res.fun)) if -res.fun >= vals[k] else (float(grid[k]), float(vals[k]))
    phi = (phi + math.pi) % (2.0 * math.pi) - math.pi
    return phi, best


class _Stepper:
    """rho_k = M^k rho_0 for the pulse-level and the ideal maps, with the cutoff check and per-collision leakage."""

    def __init__(self, channel: CollisionChannel, ideal: np.ndarray, d: int, tolerance: float) -> None:
        self.m = np.ascontiguousarray(channel.matrix)
        self.ideal = np.ascontiguousarray(ideal)
        self.leak = np.asarray(channel.leakage)
        self.d = d
        self.tolerance = tolerance
        v0 = np.zeros(d * d, dtype=complex)
        v0[0] = 1.0
        self.v, self.w = v0, v0.copy()
        self.k = 0
        self.top_index = (d - 1) * d + (d - 1)
        self.max_top, self.max_top_at = 0.0, 0
        self.max_leak = 0.0
        self.last_leak = 0.0
        self.powers: list[tuple[np.ndarray, np.ndarray]] = []

    def _note(self) -> None:
        top = float(self.v[self.top_index].real)
        if top > self.max_top:
            self.max_top, self.max_top_at = top, self.k
        if self.max_top > self.tolerance:
            raise CutoffError(self.d, self.tolerance, self.max_top, self.max_top_at)

    def _power(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        while len(self.powers) <= j:
            if not self.powers:
                self.powers.append((self.m, self.ideal))
            else:
                a, b = self.powers[-1]
                self.powers.append((a @ a, b @ b))
        return self.powers[j]

    def advance_to(self, target: int) -> None:
        gap = target - self.k
        if gap < 0:
            raise ValueError("collision numbers must increase")
        step_limit = 2048
        while gap > 0:
            if gap <= step_limit:
                for _ in range(gap):
                    leak = float(np.real(self.leak @ self.v))
                    self.last_leak = leak
                    self.max_leak = max(self.max_leak, leak)
                    self.v = self.m @ self.v
                    self.w = self.ideal @ self.w
                    self.k += 1
                    self._note()
                gap = 0
            else:  # binary powers: checked at the collisions they land on
                j = gap.bit_length() - 1
                a, b = self._power(j)
                self.v = a @ self.v
                self.w = b @ self.w
                self.k += 1 << j
                gap -= 1 << j
                self._note()
                self.last_leak = float(np.real(self.leak @ self.v))  # the next collision's, as the best estimate
                self.max_leak = max(self.max_leak, self.last_leak)

    def states(self) -> tuple[np.ndarray, np.ndarray]:
        def mat(v: np.ndarray) -> np.ndarray:
            r = v.reshape(self.d, self.d)
            return 0.5 * (r + r.conj().T)

        return mat(self.v), mat(self.w)


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CavityFigures:
    """Figures of the cavity after K collisions (JSON keys of the command line)."""

    energy: float
    ergotropy: float
    purity: float
    mean_photons: float
    leakage: float
    max_leakage: float
    fidelity: float
    fidelity_phase_corrected: float
    phase: float
    top_level_population: float

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, eq=False)
class PulseMicromaserSweep:
    """Pulse-level and ideal figures at each collision number of ``collisions`` (arrays of that length).

    ``leakage[k]`` is the leakage of collision ``collisions[k]`` (0 at collision 0); ``phase[k]`` the best cavity
    rotation of the pulse-level state onto the ideal one. ``metadata`` holds the run's settings (see ``to_dict``).
    """

    collisions: np.ndarray
    ideal_energy: np.ndarray
    ideal_ergotropy: np.ndarray
    ideal_purity: np.ndarray
    energy: np.ndarray
    ergotropy: np.ndarray
    purity: np.ndarray
    leakage: np.ndarray
    fidelity: np.ndarray
    fidelity_phase_corrected: np.ndarray
    phase: np.ndarray
    max_leakage: float
    max_top_level_population: float
    metadata: dict[str, Any]
    final_state: np.ndarray
    final_ideal_state: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.metadata)
        out["collisions"] = [int(k) for k in self.collisions]
        out["ideal"] = {
            "energy": self.ideal_energy.tolist(),
            "ergotropy": self.ideal_ergotropy.tolist(),
            "purity": self.ideal_purity.tolist(),
        }
        out["pulse"] = {
            "energy": self.energy.tolist(),
            "ergotropy": self.ergotropy.tolist(),
            "purity": self.purity.tolist(),
            "leakage": self.leakage.tolist(),
            "fidelity": self.fidelity.tolist(),
            "fidelity_phase_corrected": self.fidelity_phase_corrected.tolist(),
            "phase": self.phase.tolist(),
            "max_leakage": self.max_leakage,
            "top_level_population": self.max_top_level_population,
        }
        return out


@dataclass(frozen=True, eq=False)
class PulseMicromaserResult:
    """Ideal and pulse-level cavity after ``collisions`` atoms, and the settings that produced them.

    ``ideal`` comes from ``qbhw.models.micromaser.evolve`` at the same cutoff (what ``qbhw ideal micromaser``
    prints); ``pulse_state`` and ``ideal_state`` are rho in the Fock basis, resonator frame.
    """

    ideal: CavityFigures
    pulse: CavityFigures
    collisions: int
    engine: str
    engines: dict[str, str]
    frame: str
    rwa: bool
    levels: int
    cutoff: int
    calibrated_tau_ns: float
    flux_pulse_ns: float
    collision_ns: float
    metadata: dict[str, Any]
    pulse_state: np.ndarray
    ideal_state: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ideal": self.ideal.to_dict(), "pulse": self.pulse.to_dict()}
        out.update(
            engine=self.engine,
            engines=dict(self.engines),
            frame=self.frame,
            rwa=self.rwa,
            levels=self.levels,
            cutoff=self.cutoff,
            calibrated_tau_ns=self.calibrated_tau_ns,
            flux_pulse_ns=self.flux_pulse_ns,
            collision_ns=self.collision_ns,
            collisions=self.collisions,
        )
        out.update(self.metadata)
        return out


# ------------------------------------------------------------------------------------------ entry points


def _check_params(params: mm.MicromaserParams) -> None:
    if not isinstance(params, mm.MicromaserParams):
        raise ParameterError("params", "a MicromaserParams", type(params).__name__)
    if params.coupling != "jaynes-cummings":
        raise ParameterError(
            "coupling", "'jaynes-cummings' at pulse level (a transmon and a resonator)", params.coupling
        )
    if params.cavity_loss != 0.0:
        raise ParameterError(
            "cavity_loss", "0 at pulse level: the device's kappa_mhz sets the cavity loss", params.cavity_loss
        )
    if params.thermal_photons != 0.0:
        raise ParameterError(
            "thermal_photons",
            "0 at pulse level: the device's resonator sets its thermal photons",
            params.thermal_photons,
        )


#: memory for the batch of joint states a collision map is computed from (D(D+1)/2 states of (L D)^2); the
#: propagation holds a few copies of it
MAX_MAP_BYTES = 256 * 2**20


def max_cutoff(levels: int) -> int:
    """The largest Fock cutoff whose collision map fits MAX_MAP_BYTES and MAX_DIMENSION with ``levels`` levels."""
    d = MAX_DIMENSION // levels
    while d > 2 and d * (d + 1) // 2 * (levels * d) ** 2 * 16 > MAX_MAP_BYTES:
        d -= 1
    return d


def pulse_cutoff(params: mm.MicromaserParams, levels: int) -> int:
    """The Fock cutoff of a pulse-level run: ``params.cutoff``, else the ideal model's automatic one plus 2
    (imperfect trapping reaches one or two levels further), at most ``max_cutoff(levels)``; checked before any
    work starts."""
    limit = max_cutoff(levels)
    if params.cutoff is not None:
        d = int(params.cutoff)
    else:
        d = min(mm.resolved_cutoff(params) + 2, limit)
    if d > limit:
        raise ParameterError(
            "cutoff",
            f"at most {limit} at pulse level with {levels} transmon levels (the collision map is computed from "
            f"D(D+1)/2 joint states of (L D)^2 entries, {MAX_MAP_BYTES // 2**20} MB at most)",
            d,
        )
    return d


@dataclass(frozen=True, eq=False)
class _Setup:
    params: mm.MicromaserParams
    collision: Collision
    channel: CollisionChannel
    options: PulseOptions
    metadata: dict[str, Any]


def _setup(
    params: mm.MicromaserParams,
    device: Any,
    *,
    engine: str,
    levels: int | None,
    coupling_mhz: float | None,
    anharmonicity_mhz: float | None,
    imperfections: Imperfections | str,
    options: PulseOptions | None,
) -> _Setup:
    _check_params(params)
    check_engine(engine)
    opts = PulseOptions() if options is None else options
    imp = parse_imperfections(imperfections)
    dev = as_device(device)
    d = pulse_cutoff(params, transmon_levels(levels, imp))
    col = build_collision(
        params,
        dev,
        levels=levels,
        cutoff=d,
        imperfections=imp,
        coupling_mhz=coupling_mhz,
        anharmonicity_mhz=anharmonicity_mhz,
        options=opts,
    )
    channel = collision_channel(col, engine=engine, frame=opts.frame, rtol=opts.rtol)
    metadata = {
        "device": dev.name,
        "imperfections": str(imp),
        "preparation": col.preparation,
        "coupling_mhz": col.coupling_mhz,
        "anharmonicity_mhz": col.anharmonicity_mhz,
        "calibration_residual": col.calibration_residual,
        "phase_tracking": col.tracking,
        "cavity_pull_mhz": units.rad_per_ns_to_mhz(col.cavity_pull),
        "g_tau": float(params.g_tau),
        "p_excited": float(params.p_excited),
        "coherence": float(params.coherence),
        "trace_error": channel.trace_error,
    }
    return _Setup(params, col, channel, opts, metadata)


def _collision_grid(collisions: Sequence[int] | np.ndarray) -> np.ndarray:
    raw = np.asarray(collisions).reshape(-1)
    if raw.size == 0:
        raise ParameterError("collisions", "a non-empty list of integers >= 0", list(raw))
    for value in raw:
        _validate.integer_at_least("collisions", value.item(), 0)
    return np.unique(raw.astype(np.int64))


def sweep_micromaser(
    params: mm.MicromaserParams,
    device: Any = None,
    collisions: Sequence[int] | np.ndarray | None = None,
    *,
    engine: str = "auto",
    levels: int | None = None,
    coupling_mhz: float | None = None,
    anharmonicity_mhz: float | None = None,
    imperfections: Imperfections | str = "all",
    options: PulseOptions | None = None,
) -> PulseMicromaserSweep:
    """Ideal and pulse-level figures at each collision number (default ``mm.default_grid(params.collisions)``).

    One collision map is computed and applied repeatedly (binary powers of it for long gaps); the ideal model's
    map is stepped alongside for the fidelities. ``device`` is a CavityQEDDevice, a device calibration (read
    with ``from_calibration``) or None (``synthetic_micromaser_device()``).
    """
    grid = mm.default_grid(int(params.collisions)) if collisions is None else _collision_grid(collisions)
    if collisions is not None and params.cutoff is None:
        params = dataclasses.replace(params, collisions=int(grid[-1]))
    s = _setup(
        params,
        device,
        engine=engine,
        levels=levels,
        coupling_mhz=coupling_mhz,
        anharmonicity_mhz=anharmonicity_mhz,
        imperfections=imperfections,
        options=options,
    )
    d = s.collision.cutoff
    stepper = _Stepper(s.channel, ideal_channel(params, d), d, float(params.cutoff_tolerance))
    rows = []
    for k in grid:
        stepper.advance_to(int(k))
        rho, ref = stepper.states()
        fp, fi = _figures(rho), _figures(ref)
        phi, fpc = best_phase(rho, ref)
        rows.append((fi, fp, stepper.last_leak if k > 0 else 0.0, _fidelity(rho, ref), fpc, phi))
    rho, ref = stepper.states()

    def col(fn: Any) -> np.ndarray:
        return _readonly(np.array([fn(r) for r in rows], dtype=float))

    return PulseMicromaserSweep(
        collisions=_readonly(grid),
        ideal_energy=col(lambda r: r[0]["energy"]),
        ideal_ergotropy=col(lambda r: r[0]["ergotropy"]),
        ideal_purity=col(lambda r: r[0]["purity"]),
        energy=col(lambda r: r[1]["energy"]),
        ergotropy=col(lambda r: r[1]["ergotropy"]),
        purity=col(lambda r: r[1]["purity"]),
        leakage=col(lambda r: r[2]),
        fidelity=col(lambda r: r[3]),
        fidelity_phase_corrected=col(lambda r: r[4]),
        phase=col(lambda r: r[5]),
        max_leakage=stepper.max_leak,
        max_top_level_population=stepper.max_top,
        metadata=_run_metadata(s),
        final_state=_readonly(rho),
        final_ideal_state=_readonly(ref),
    )


def _run_metadata(s: _Setup) -> dict[str, Any]:
    col = s.collision
    out = {
        "engine": s.channel.engine,
        "engines": dict(s.channel.engines),
        "frame": s.options.frame,
        "rwa": True,
        "levels": col.levels,
        "cutoff": col.cutoff,
        "calibrated_tau_ns": col.tau_ns,
        "flux_pulse_ns": col.flux_ns,
        "collision_ns": col.period_ns,
    }
    out.update(s.metadata)
    return out


def run_micromaser(
    params: mm.MicromaserParams,
    device: Any = None,
    *,
    engine: str = "auto",
    levels: int | None = None,
    coupling_mhz: float | None = None,
    anharmonicity_mhz: float | None = None,
    imperfections: Imperfections | str = "all",
    options: PulseOptions | None = None,
) -> PulseMicromaserResult:
    """The cavity after ``params.collisions`` atoms at pulse level beside the ideal model's (``qbhw pulse micromaser``).

    ``device``: a CavityQEDDevice, a device calibration (``from_calibration``) or None (the synthetic pair).
    ``engine``: "auto" (exact where the schedule is piecewise constant, QuTiP otherwise), "exact", "qutip" or
    "dynamics" (pulse environment only). ``levels``: transmon levels when the ``levels`` imperfection is on
    (default 3). ``coupling_mhz`` (g/2pi) and ``anharmonicity_mhz`` (alpha/2pi) override the device's.
    ``imperfections``: an Imperfections or the command line's text (``all``, ``none``, ``levels,t1``, ...).
    Raises CutoffError when the top Fock level fills, ParameterError / CalibrationError on bad input.
    """
    k = int(params.collisions)
    s = _setup(
        params,
        device,
        engine=engine,
        levels=levels,
        coupling_mhz=coupling_mhz,
        anharmonicity_mhz=anharmonicity_mhz,
        imperfections=imperfections,
        options=options,
    )
    d = s.collision.cutoff
    stepper = _Stepper(s.channel, ideal_channel(params, d), d, float(params.cutoff_tolerance))
    stepper.advance_to(k)
    rho, _ = stepper.states()
    ideal = mm.evolve(dataclasses.replace(params, cutoff=d))
    ref = np.asarray(ideal.state)
    fp = _figures(rho)
    phi, fpc = best_phase(rho, ref)
    pulse = CavityFigures(
        energy=fp["energy"],
        ergotropy=fp["ergotropy"],
        purity=fp["purity"],
        mean_photons=fp["mean_photons"],
        leakage=stepper.last_leak if k > 0 else 0.0,
        max_leakage=stepper.max_leak,
        fidelity=_fidelity(rho, ref),
        fidelity_phase_corrected=fpc,
        phase=phi,
        top_level_population=stepper.max_top,
    )
    ideal_figs = CavityFigures(
        energy=ideal.energy,
        ergotropy=ideal.ergotropy,
        purity=ideal.purity,
        mean_photons=ideal.mean_photons,
        leakage=0.0,
        max_leakage=0.0,
        fidelity=1.0,
        fidelity_phase_corrected=1.0,
        phase=0.0,
        top_level_population=ideal.top_level_population,
    )
    meta = _run_metadata(s)
    return PulseMicromaserResult(
        ideal=ideal_figs,
        pulse=pulse,
        collisions=k,
        engine=meta.pop("engine"),
        engines=meta.pop("engines"),
        frame=meta.pop("frame"),
        rwa=meta.pop("rwa"),
        levels=meta.pop("levels"),
        cutoff=meta.pop("cutoff"),
        calibrated_tau_ns=meta.pop("calibrated_tau_ns"),
        flux_pulse_ns=meta.pop("flux_pulse_ns"),
        collision_ns=meta.pop("collision_ns"),
        metadata=meta,
        pulse_state=_readonly(rho),
        ideal_state=_readonly(ref),
    )


def plot_sweep(sweep: PulseMicromaserSweep, *, quantity: str = "ergotropy") -> Any:
    """Ideal and pulse-level ``quantity`` ("ergotropy", "energy" or "purity") vs collisions: a matplotlib Figure
    (Agg canvas, no process-wide backend change)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _validate.one_of("quantity", quantity, ("ergotropy", "energy", "purity"))
    fig = Figure(figsize=(6.0, 3.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    k = sweep.collisions
    ax.plot(k, getattr(sweep, f"ideal_{quantity}"), "k--", label="ideal (Jaynes-Cummings)")
    ax.plot(k, getattr(sweep, quantity), "o-", ms=3, label=f"pulse level ({sweep.metadata.get('imperfections')})")
    if k.size and k[-1] > 50:
        ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("collisions")
    ax.set_ylabel(f"{quantity} (units of hbar omega_r)" if quantity != "purity" else "purity")
    ax.set_title(f"micromaser on {sweep.metadata.get('device')}: {quantity}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
