"""Two-qubit battery charged by a thermal gradient (Tacchino et al., arXiv:2007.04463; docs/physics.md section 1).

Qubits are ordered (A, S), big-endian: A (hot side, bath at temperature_a) is the leftmost Kronecker factor, so the
basis is |g_A g_S>, |g_A e_S>, |e_A g_S>, |e_A e_S> (index 0 = |g>, sigma_z = diag(-1, +1), qbhw.physics.operators).

    H0 = (omega_a/2) sz_A + (omega_s/2) sz_S,    H = H0 + g (s+_A s-_S + s-_A s+_S).

Baths (flat spectral density, rates gamma_A = gamma, gamma_S = gamma_s or gamma), n(w, T) = 1/(e^{w/T} - 1):

* local ME   L_j = gamma_j [(n(omega_j, T_j) + 1) D[s-_j] + n(omega_j, T_j) D[s+_j]]
* global ME  L_j = sum_{w > 0} gamma_j [(n(w, T_j) + 1) D[A_j(w)] + n(w, T_j) D[A_j(w)^dagger]], with A_j(w) the
             Bohr components of s-_j in the eigenbasis of H (qbhw.physics.bohr; exactly degenerate transitions
             form one jump). For g^2 < omega_a omega_s every component of s-_j has w > 0, so these are the
             w > 0 components of X_j = sx_j and X_j(-w) = A_j(w)^dagger (the secular Davies generator). At
             g^2 >= omega_a omega_s a Bohr frequency reaches 0 and the flat-density global ME is undefined.

L = -i[H, .] + L_A + L_S. Energies are measured with H: ``energy`` = Tr[rho H] - (ground energy of H). Heat is
booked with H_bk = H (global) or H0 (local, the standard but thermodynamically inconsistent local bookkeeping).
Everything is a dense 4x4 state or 16x16 superoperator, propagated exactly (matrix exponentials).

The extraction unitary U = U*(rho_NESS) is qbhw.physics.extraction_unitary, the optimal unitary with its phases
and ties fixed by a stated convention. For the global ME rho_NESS is diagonal
in the eigenbasis of H, U is a permutation of that basis and the cycle does not depend on the phases; for the
local ME with g > 0 it does (rho_NESS has coherences between eigenstates of H), so the local-ME cycle is defined
by that convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from qbhw import _validate
from qbhw._arrays import readonly as _readonly
from qbhw.errors import ParameterError
from qbhw.physics.bohr import bohr_components
from qbhw.physics.lindblad import (
    Jump,
    commutator_superop,
    evolve,
    fixed_point,
    integrated_evolution,
    left_right,
    propagator,
    steady_state,
    unvec,
    vec,
)
from qbhw.physics.lindblad import (
    liouvillian as _liouvillian,
)
from qbhw.physics.operators import SIGMA_MINUS, SIGMA_Z, embed
from qbhw.physics.thermal import bose_einstein, gibbs_state
from qbhw.physics.thermodynamics import (
    capacity,
    energy,
    ergotropy,
    extraction_unitary,
    purity,
    stored_energy,
)

MASTER_EQUATIONS = ("global", "local")
_DIMS = (2, 2)
#: qubit frequencies lie in [MIN_FREQUENCY, MAX_FREQUENCY] and temperatures, rates and g in [0, MAX_PARAMETER]
#: (units of the reference frequency): then n(omega, T) <= 1e12 and every rate gamma (2n + 1) is a finite float
MIN_FREQUENCY = 1e-6
MAX_FREQUENCY = 1e6
MAX_PARAMETER = 1e6
#: largest ||L||_1 t of one propagation (matrix exponentials need log2(||L|| t) <= 40 squarings)
MAX_STIFFNESS = 1e12
#: largest number of times of a charging trajectory (16 complex numbers each) and of cycle times of a sweep
MAX_TIMES = 100_000
MAX_CYCLE_TIMES = 10_000
#: relative tolerance for merging energies and Bohr frequencies (times max(1, max |E|))
BOHR_TOL = 1e-9
#: the secular (global) ME is flagged when a bath linewidth gamma_j (2 n_j + 1) exceeds this fraction of the
#: splitting between its two Bohr frequencies, sqrt((omega_a - omega_s)^2 + 4 g^2)
SECULAR_WARNING_RATIO = 0.1


def _in_range(name: str, value: float) -> float:
    if value > MAX_PARAMETER:
        raise ParameterError(name, f"<= {MAX_PARAMETER:g} (units of the reference frequency)", value)
    return value


@dataclass(frozen=True)
class ThermalGradientParams:
    """Model parameters in units of the reference frequency (defaults: the reference set of docs/physics.md 1.2).

    omega_a, omega_s  qubit splittings of A (hot side) and S (cold side), in [MIN_FREQUENCY, MAX_FREQUENCY]
    temperature_a, temperature_s   bath temperatures (hot A, cold S), in [0, MAX_PARAMETER] (0 allowed)
    gamma             hot-bath rate gamma_A, in (0, MAX_PARAMETER] (also the cold-bath rate unless gamma_s is given)
    g                 flip-flop coupling, in [0, MAX_PARAMETER]; the global ME needs g^2 < omega_a omega_s
    master_equation   "global" (secular Davies generator of H) or "local"
    gamma_s           cold-bath rate gamma_S, in (0, MAX_PARAMETER], or None for gamma_S = gamma
    """

    omega_a: float = field(default=2.0, metadata={"help": "hot-side qubit frequency, > 0"})
    omega_s: float = field(default=1.0, metadata={"help": "cold-side qubit frequency, > 0"})
    temperature_a: float = field(default=2.0, metadata={"help": "hot-bath temperature, >= 0"})
    temperature_s: float = field(default=0.1, metadata={"help": "cold-bath temperature, >= 0"})
    gamma: float = field(default=0.01, metadata={"help": "system-bath rate (flat spectral density), > 0"})
    g: float = field(default=0.05, metadata={"help": "qubit-qubit exchange coupling, >= 0"})
    master_equation: str = field(default="global", metadata={"help": "global (thermodynamically consistent) or local"})
    gamma_s: float | None = field(default=None, metadata={"help": "cold-bath rate, > 0 (default: the same as gamma)"})

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("omega_a", "omega_s"):
            value = _validate.positive(name, getattr(self, name))
            if not MIN_FREQUENCY <= value <= MAX_FREQUENCY:
                raise ParameterError(name, f"in [{MIN_FREQUENCY:g}, {MAX_FREQUENCY:g}]", value)
            set_(self, name, value)
        for name in ("temperature_a", "temperature_s", "g"):
            set_(self, name, _in_range(name, _validate.nonnegative(name, getattr(self, name))))
        set_(self, "gamma", _in_range("gamma", _validate.positive("gamma", self.gamma)))
        _validate.one_of("master_equation", self.master_equation, MASTER_EQUATIONS)
        if self.gamma_s is not None:
            set_(self, "gamma_s", _in_range("gamma_s", _validate.positive("gamma_s", self.gamma_s)))
        if self.master_equation == "global" and self.lowest_bohr_frequency <= BOHR_TOL * self._energy_scale:
            bound = math.sqrt(self.omega_a * self.omega_s)
            raise ParameterError(
                "g",
                f"< sqrt(omega_a * omega_s) = {bound:.10g} for the global master equation "
                "(at larger g a Bohr frequency is <= 0 and the flat-density global ME is undefined)",
                self.g,
            )

    @property
    def rates(self) -> tuple[float, float]:
        """(gamma_A, gamma_S)."""
        return self.gamma, self.gamma if self.gamma_s is None else float(self.gamma_s)

    @property
    def dressed_splitting(self) -> float:
        """sqrt((omega_a - omega_s)^2 + 4 g^2): the gap between the one-excitation eigenstates of H."""
        return math.hypot(self.omega_a - self.omega_s, 2.0 * self.g)

    @property
    def lowest_bohr_frequency(self) -> float:
        """(omega_a + omega_s)/2 - sqrt((omega_a - omega_s)^2/4 + g^2), ~ min(omega) - g^2/|omega_a - omega_s|."""
        return 0.5 * (self.omega_a + self.omega_s) - 0.5 * self.dressed_splitting

    @property
    def _energy_scale(self) -> float:
        return max(1.0, 0.5 * (self.omega_a + self.omega_s), 0.5 * self.dressed_splitting)


# ---------------------------------------------------------------------------------------------------------------
# Operators and generator


def _sigma_minus(site: int) -> np.ndarray:
    return embed(SIGMA_MINUS, site, _DIMS)


def bare_hamiltonian(params: ThermalGradientParams) -> np.ndarray:
    """H0 = (omega_a/2) sz_A + (omega_s/2) sz_S, order (A, S)."""
    return 0.5 * params.omega_a * embed(SIGMA_Z, 0, _DIMS) + 0.5 * params.omega_s * embed(SIGMA_Z, 1, _DIMS)


def hamiltonian(params: ThermalGradientParams) -> np.ndarray:
    """H = H0 + g (s+_A s-_S + s-_A s+_S), order (A, S)."""
    sm_a, sm_s = _sigma_minus(0), _sigma_minus(1)
    exchange = sm_a.conj().T @ sm_s
    return bare_hamiltonian(params) + params.g * (exchange + exchange.conj().T)


def _local_jumps(omega: float, temperature: float, rate: float, lowering: np.ndarray) -> list[Jump]:
    n = bose_einstein(omega, temperature)
    return [(rate * (n + 1.0), lowering), (rate * n, lowering.conj().T)]


def _global_jumps(
    params: ThermalGradientParams, h: np.ndarray, temperature: float, rate: float, lowering: np.ndarray
) -> list[Jump]:
    jumps: list[Jump] = []
    for w, a_w in bohr_components(h, lowering, BOHR_TOL):
        if w <= BOHR_TOL * params._energy_scale:
            raise ParameterError(
                "g",
                f"< sqrt(omega_a * omega_s) = {math.sqrt(params.omega_a * params.omega_s):.10g} for the global "
                "master equation (a jump has Bohr frequency <= 0)",
                params.g,
            )
        jumps.extend(_local_jumps(w, temperature, rate, a_w))
    return jumps


def bath_jumps(params: ThermalGradientParams) -> tuple[tuple[Jump, ...], tuple[Jump, ...]]:
    """((rate, jump) pairs of the hot bath A, those of the cold bath S); rate * D[jump] each."""
    gamma_a, gamma_s = params.rates
    sm_a, sm_s = _sigma_minus(0), _sigma_minus(1)
    if params.master_equation == "local":
        return (
            tuple(_local_jumps(params.omega_a, params.temperature_a, gamma_a, sm_a)),
            tuple(_local_jumps(params.omega_s, params.temperature_s, gamma_s, sm_s)),
        )
    h = hamiltonian(params)
    return (
        tuple(_global_jumps(params, h, params.temperature_a, gamma_a, sm_a)),
        tuple(_global_jumps(params, h, params.temperature_s, gamma_s, sm_s)),
    )


@dataclass(frozen=True, eq=False)
class Generator:
    """The pieces of L = -i[H, .] + L_A + L_S (superoperators on column-stacked 4x4 states, qbhw.physics.lindblad).

    ``bookkeeping_hamiltonian`` is H_bk: H for the global ME, H0 for the local ME.
    """

    hamiltonian: np.ndarray
    bookkeeping_hamiltonian: np.ndarray
    liouvillian: np.ndarray
    dissipator_a: np.ndarray
    dissipator_s: np.ndarray
    master_equation: str


def generator(params: ThermalGradientParams) -> Generator:
    """Build H, H_bk, L, L_A and L_S for ``params``."""
    h = hamiltonian(params)
    jumps_a, jumps_s = bath_jumps(params)
    d_a = _liouvillian(None, jumps_a, dim=4)
    d_s = _liouvillian(None, jumps_s, dim=4)
    h_bk = h if params.master_equation == "global" else bare_hamiltonian(params)
    return Generator(
        hamiltonian=_readonly(h),
        bookkeeping_hamiltonian=_readonly(h_bk),
        liouvillian=_readonly(commutator_superop(h) + d_a + d_s),
        dissipator_a=_readonly(d_a),
        dissipator_s=_readonly(d_s),
        master_equation=params.master_equation,
    )


def liouvillian(params: ThermalGradientParams) -> np.ndarray:
    """L = -i[H, .] + L_A + L_S as a 16x16 superoperator (column stacking)."""
    return generator(params).liouvillian


def hot_dissipator(params: ThermalGradientParams) -> np.ndarray:
    """L_A, the hot-bath dissipator alone (heat from the hot bath is Tr[H_bk L_A(rho)])."""
    return generator(params).dissipator_a


def model_warnings(params: ThermalGradientParams) -> tuple[str, ...]:
    """Caveats that apply to every result of ``params`` (validity of the chosen master equation)."""
    out: list[str] = []
    if params.master_equation == "local" and params.g > 0:
        otto = 1.0 - params.omega_s / params.omega_a
        out.append(
            "local master equation with g > 0: heat is booked with H0 = (omega_a/2) sz_A + (omega_s/2) sz_S, "
            "which is thermodynamically inconsistent; the efficiency may exceed the Otto value "
            f"1 - omega_s/omega_a = {otto:.6g}. Its limit cycle also depends on the phase convention of "
            "U*(rho_NESS). Use master_equation='global' for efficiencies."
        )
    if params.master_equation == "global" and params.g > 0:
        widths = [
            rate * (2.0 * bose_einstein(omega, t) + 1.0)
            for rate, omega, t in zip(
                params.rates,
                (params.omega_a, params.omega_s),
                (params.temperature_a, params.temperature_s),
                strict=True,
            )
        ]
        if max(widths) > SECULAR_WARNING_RATIO * params.dressed_splitting:
            out.append(
                f"global master equation: the bath linewidth {max(widths):.3g} is not << the dressed splitting "
                f"sqrt((omega_a - omega_s)^2 + 4 g^2) = {params.dressed_splitting:.3g}; the secular "
                "approximation is questionable"
            )
    return tuple(out)


def _null_rtol(scale_rate: float, superop: np.ndarray) -> float:
    """Relative singular-value threshold for a null space: 1e-10, lowered for very slow dynamics."""
    norm = float(np.linalg.norm(superop, 2))
    return max(1e-13, min(1e-10, 1e-3 * scale_rate / max(norm, 1e-300)))


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, eq=False)
class NessResult:
    """The non-equilibrium steady state L rho = 0 and its figures of merit (energies with H).

    ``extraction_unitary`` is U* of rho (qbhw.physics.extraction_unitary): U* rho U*^dagger
    is passive.
    """

    rho: np.ndarray
    energy: float
    ergotropy: float
    capacity: float
    purity: float
    extraction_unitary: np.ndarray
    master_equation: str
    warnings: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class StateResult:
    """rho(time) = e^{L time} rho0 (rho0 = ground state of H unless given) and its figures of merit."""

    time: float
    rho: np.ndarray
    energy: float
    ergotropy: float
    capacity: float
    purity: float
    master_equation: str
    warnings: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class ChargingTrajectory:
    """rho(t) = e^{L t} rho0 on ``times``; ``states`` has shape (len(times), 4, 4), the others (len(times),)."""

    times: np.ndarray
    states: np.ndarray
    energy: np.ndarray
    ergotropy: np.ndarray
    capacity: np.ndarray
    purity: np.ndarray
    master_equation: str
    warnings: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class CycleResult:
    """Limit cycle of the two-stroke engine: charge for tau under L, then apply U = U*(rho_NESS) instantly.

    rho_end is the fixed point of Phi_tau = e^{L tau} o U (the state before extraction), rho_start = U rho_end U^+.
    work = Tr[H rho_end] - Tr[H rho_start];  heat = Q_A = int_0^tau Tr[H_bk L_A(rho(t))] dt, rho(0) = rho_start;
    heat_cold = Q_S likewise with L_S;  power = work / tau;  efficiency = work / heat (None where Q_A = 0:
    undefined, e.g. with both baths at T = 0).
    ergotropy, energy, capacity and purity are those of rho_end (energies with H).
    """

    cycle_time: float
    work: float
    heat: float
    heat_cold: float
    power: float
    efficiency: float | None
    ergotropy: float
    energy: float
    capacity: float
    purity: float
    rho_end: np.ndarray
    extraction_unitary: np.ndarray
    master_equation: str
    warnings: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class CycleSweep:
    """Limit-cycle quantities (see CycleResult) for each cycle time; arrays of shape (len(cycle_times),).

    ``efficiency`` is a masked array (numpy.ma), masked where Q_A = 0 (undefined); its data there is 0.
    """

    cycle_times: np.ndarray
    work: np.ndarray
    heat: np.ndarray
    power: np.ndarray
    efficiency: np.ndarray
    ergotropy: np.ndarray
    master_equation: str
    warnings: tuple[str, ...]


# ---------------------------------------------------------------------------------------------------------------
# Solvers


def _ness_rho(params: ThermalGradientParams, gen: Generator) -> np.ndarray:
    return steady_state(gen.liouvillian, rtol=_null_rtol(min(params.rates), gen.liouvillian))


def ness(params: ThermalGradientParams) -> NessResult:
    """The NESS of L and its energy, ergotropy, capacity, purity and optimal extraction unitary."""
    gen = generator(params)
    rho = _ness_rho(params, gen)
    h = gen.hamiltonian
    return NessResult(
        rho=_readonly(rho),
        energy=stored_energy(rho, h),
        ergotropy=ergotropy(rho, h),
        capacity=capacity(rho, h),
        purity=purity(rho),
        extraction_unitary=_readonly(extraction_unitary(rho, h)),
        master_equation=params.master_equation,
        warnings=model_warnings(params),
    )


def ground_state(params: ThermalGradientParams) -> np.ndarray:
    """The empty battery: the ground state of H as a density matrix (|gg><gg| for g^2 < omega_a omega_s)."""
    return gibbs_state(hamiltonian(params), 0.0)


def _initial_state(params: ThermalGradientParams, rho0: np.ndarray | None) -> np.ndarray:
    if rho0 is None:
        return ground_state(params)
    r = np.asarray(rho0, dtype=complex)
    if r.shape != (4, 4):
        raise ParameterError("rho0", "a 4x4 two-qubit density matrix (order A, S)", r.shape)
    if not np.allclose(r, r.conj().T, atol=1e-10) or abs(np.trace(r) - 1.0) > 1e-10:
        raise ParameterError("rho0", "Hermitian with trace 1", "a non-Hermitian or non-normalised matrix")
    if np.linalg.eigvalsh(0.5 * (r + r.conj().T))[0] < -1e-10:
        raise ParameterError("rho0", "positive semidefinite", "a matrix with a negative eigenvalue")
    return r


def _times(times: np.ndarray | list[float] | float) -> np.ndarray:
    try:
        t = np.asarray(times, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ParameterError("time", "finite numbers >= 0", times) from None
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ParameterError("time", "finite numbers >= 0", times)
    if t.size > MAX_TIMES:
        raise ParameterError("time", f"at most {MAX_TIMES} values", t.size)
    return t


def _check_stiffness(name: str, gen: Generator, t_max: float) -> None:
    """||L||_1 t <= MAX_STIFFNESS for the propagations of one call."""
    norm = float(np.linalg.norm(gen.liouvillian, 1))
    if norm * t_max > MAX_STIFFNESS:
        raise ParameterError(
            name,
            f"<= {MAX_STIFFNESS / norm:.3g} for these parameters (||L||_1 t <= {MAX_STIFFNESS:.0e}; the NESS gives "
            "t -> infinity)",
            t_max,
        )


def charging(
    params: ThermalGradientParams, times: np.ndarray | list[float], rho0: np.ndarray | None = None
) -> ChargingTrajectory:
    """Charging rho(t) = e^{L t} rho0 from rho0 (default: the ground state of H), exact on any time grid."""
    gen = generator(params)
    t = _times(times)
    if t.size:
        _check_stiffness("time", gen, float(t.max()))
    states = evolve(gen.liouvillian, _initial_state(params, rho0), t)
    states = 0.5 * (states + np.conj(np.swapaxes(states, 1, 2)))
    h = gen.hamiltonian
    return ChargingTrajectory(
        times=_readonly(t),
        states=_readonly(states),
        energy=_readonly(np.array([stored_energy(r, h) for r in states])),
        ergotropy=_readonly(np.array([ergotropy(r, h) for r in states])),
        capacity=_readonly(np.array([capacity(r, h) for r in states])),
        purity=_readonly(np.array([purity(r) for r in states])),
        master_equation=params.master_equation,
        warnings=model_warnings(params),
    )


def state_at(params: ThermalGradientParams, time: float, rho0: np.ndarray | None = None) -> StateResult:
    """rho(time) = e^{L time} rho0 (default rho0: the ground state of H) and its figures of merit."""
    t = _validate.nonnegative("time", time)
    traj = charging(params, [t], rho0)
    return StateResult(
        time=t,
        rho=traj.states[0],
        energy=float(traj.energy[0]),
        ergotropy=float(traj.ergotropy[0]),
        capacity=float(traj.capacity[0]),
        purity=float(traj.purity[0]),
        master_equation=params.master_equation,
        warnings=traj.warnings,
    )


def _cycle_setup(params: ThermalGradientParams) -> tuple[Generator, np.ndarray, tuple[str, ...]]:
    gen = generator(params)
    rho_ness = _ness_rho(params, gen)
    u = extraction_unitary(rho_ness, gen.hamiltonian)
    notes = list(model_warnings(params))
    if np.any(np.diff(np.linalg.eigvalsh(rho_ness)) <= 1e-9):
        notes.append(
            "the NESS spectrum is degenerate: U* is not unique; ties are broken towards lower energy "
            "(qbhw.physics.extraction_unitary)"
        )
    return gen, u, tuple(notes)


@dataclass(frozen=True, eq=False)
class _CycleData:
    rho_end: np.ndarray
    work: float
    heat: float
    heat_cold: float
    power: float
    efficiency: float | None


def _cycle(params: ThermalGradientParams, gen: Generator, u: np.ndarray, tau: float) -> _CycleData:
    s_u = left_right(u, u.conj().T)
    phi = propagator(gen.liouvillian, tau) @ s_u
    rate = min(params.rates) * tau
    rtol = max(1e-13, min(1e-10, 1e-3 * min(1.0, rate)))
    rho_end = fixed_point(phi, rtol=rtol)
    rho_start = u @ rho_end @ u.conj().T
    h = gen.hamiltonian
    work = energy(rho_end, h) - energy(rho_start, h)
    integral = vec(integrated_evolution(gen.liouvillian, rho_start, tau))
    heat = energy(unvec(gen.dissipator_a @ integral, 4), gen.bookkeeping_hamiltonian)
    heat_cold = energy(unvec(gen.dissipator_s @ integral, 4), gen.bookkeeping_hamiltonian)
    tiny = 1e-15 * (params.omega_a + params.omega_s)
    efficiency = work / heat if abs(heat) > tiny else None
    values = (work, heat, heat_cold, work / tau, 0.0 if efficiency is None else efficiency)
    if not all(math.isfinite(v) for v in values) or not np.all(np.isfinite(rho_end)):
        raise ArithmeticError("the limit cycle gave a non-finite result")  # pragma: no cover - inputs are bounded
    return _CycleData(rho_end, work, heat, heat_cold, work / tau, efficiency)


def _cycle_time(tau: float) -> float:
    return _validate.positive("cycle_time", tau)


def _masked(values: list[float | None]) -> np.ndarray:
    """A read-only masked array, masked where a value is None."""
    mask = np.array([v is None for v in values])
    out = np.ma.MaskedArray(np.array([0.0 if v is None else v for v in values]), mask=mask)
    out.data.setflags(write=False)
    out.mask.setflags(write=False)
    return out


def limit_cycle(params: ThermalGradientParams, cycle_time: float) -> CycleResult:
    """The periodic steady state of the two-stroke engine with charging time ``cycle_time`` (extraction time 0)."""
    tau = _cycle_time(cycle_time)
    gen, u, notes = _cycle_setup(params)
    _check_stiffness("cycle_time", gen, tau)
    c = _cycle(params, gen, u, tau)
    rho_end = c.rho_end
    h = gen.hamiltonian
    if c.efficiency is None:
        notes = notes + ("the heat from the hot bath is 0: the efficiency is undefined (None)",)
    return CycleResult(
        cycle_time=tau,
        work=c.work,
        heat=c.heat,
        heat_cold=c.heat_cold,
        power=c.power,
        efficiency=c.efficiency,
        ergotropy=ergotropy(rho_end, h),
        energy=stored_energy(rho_end, h),
        capacity=capacity(rho_end, h),
        purity=purity(rho_end),
        rho_end=_readonly(rho_end),
        extraction_unitary=_readonly(u),
        master_equation=params.master_equation,
        warnings=notes,
    )


def cycle_sweep(params: ThermalGradientParams, cycle_times: np.ndarray | list[float]) -> CycleSweep:
    """Work, heat Q_A, power, efficiency and ergotropy of rho_end of the limit cycle for each cycle time."""
    try:
        taus = np.asarray(cycle_times, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ParameterError("cycle_time", "finite numbers > 0", cycle_times) from None
    if taus.size > MAX_CYCLE_TIMES:
        raise ParameterError("cycle_time", f"at most {MAX_CYCLE_TIMES} values", taus.size)
    for tau in taus:
        _cycle_time(tau)
    gen, u, notes = _cycle_setup(params)
    if taus.size:
        _check_stiffness("cycle_time", gen, float(taus.max()))
    rows = [_cycle(params, gen, u, float(tau)) for tau in taus]
    if any(r.efficiency is None for r in rows):
        notes = notes + ("the heat from the hot bath is 0 for some cycle times: efficiency masked there",)
    return CycleSweep(
        cycle_times=_readonly(taus),
        work=_readonly(np.array([r.work for r in rows])),
        heat=_readonly(np.array([r.heat for r in rows])),
        power=_readonly(np.array([r.power for r in rows])),
        efficiency=_masked([r.efficiency for r in rows]),
        ergotropy=_readonly(np.array([ergotropy(r.rho_end, gen.hamiltonian) for r in rows])),
        master_equation=params.master_equation,
        warnings=notes,
    )
