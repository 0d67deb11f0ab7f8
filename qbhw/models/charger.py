"""Charger-battery spins: capacity of a battery spin against quantum resources (docs/physics.md section 2).

Wang et al., arXiv:2605.11399. Two spins, battery b and charger c, in that (big-endian) order:

    H = -omega_b Z_b - omega_c Z_c + J1 (s+_b s-_c + s-_b s+_c) + J2 Z_b Z_c,

with Z = diag(+1, -1) on the model's computational basis {|0>, |1>} and s+- = (X +- iY)/2. So |0> is the ground
state of each local term (energy -omega) and |1> the excited one: the battery is empty in |0>_b. The state starts
in |0>_b |1>_c (battery empty, charger full). H conserves Z_b + Z_c, and in span{|01>, |10>}

    H = -J2 + [[delta, J1], [J1, -delta]],   delta = omega_c - omega_b,   Omega = sqrt(delta^2 + J1^2),
    psi(t) = a |01> + b |10>,   a = cos(Omega t) - i (delta/Omega) sin(Omega t),   b = -i (J1/Omega) sin(Omega t),

up to the global phase exp(i J2 t). Battery excitation P_b = |b|^2. Figures of merit: battery capacity
C(rho_b; H_b) with H_b = -omega_b Z_b, battery energy above its ground state and ergotropy, resources of the
global state (concurrence, steering F3, CHSH maximum, l1 coherence, l1 imaginarity, texture) and the texture of the
battery state, and the residual capacity C(rho_bc; H_b + H_c) - C_b - C_c.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qbhw import _validate
from qbhw._arrays import readonly as _readonly
from qbhw.errors import ParameterError
from qbhw.physics import operators as ops
from qbhw.physics import resources as res
from qbhw.physics import thermodynamics as thermo

_Z = ops.PAULI_Z
#: largest |omega| and |J| (units of the reference frequency)
MAX_ENERGY = 1e6
#: largest phase Omega t and |J2| t of the closed-form state: its rounding (~1e-16 Omega t) stays below 1e-6 rad
MAX_PHASE = 1e10
#: largest number of times of one trajectory (one 4 x 4 state and its resources each)
MAX_TIMES = 100_000
_SP = np.array([[0, 1], [0, 0]], dtype=complex)  # (X + iY)/2 = |0><1|
_SM = _SP.conj().T


@dataclass(frozen=True)
class ChargerParams:
    """Frequencies omega_b, omega_c in (0, MAX_ENERGY] and couplings J1, J2 in [-MAX_ENERGY, MAX_ENERGY], in units of
    the reference frequency."""

    omega_b: float = field(default=1.0, metadata={"help": "battery frequency, > 0"})
    omega_c: float = field(default=1.0, metadata={"help": "charger frequency, > 0"})
    j1: float = field(default=1.0, metadata={"help": "flip-flop coupling J1, finite"})
    j2: float = field(default=0.5, metadata={"help": "Ising coupling J2, finite"})

    def __post_init__(self) -> None:
        values = (
            ("omega_b", _validate.positive("omega_b", self.omega_b)),
            ("omega_c", _validate.positive("omega_c", self.omega_c)),
            ("j1", _validate.finite("j1", self.j1)),
            ("j2", _validate.finite("j2", self.j2)),
        )
        for name, value in values:
            if abs(value) > MAX_ENERGY:
                raise ParameterError(name, f"of magnitude <= {MAX_ENERGY:g} (units of the reference frequency)", value)

    @property
    def detuning(self) -> float:
        """delta = omega_c - omega_b."""
        return self.omega_c - self.omega_b

    @property
    def rabi_frequency(self) -> float:
        """Omega = sqrt(delta^2 + J1^2)."""
        return float(np.hypot(self.detuning, self.j1))


@dataclass(frozen=True, eq=False)
class ChargerResult:
    """Figures of merit at one time; names match the JSON keys of the command line."""

    time: float | None
    state: np.ndarray  # psi(t), basis |00>, |01>, |10>, |11> with the battery first
    battery_excitation: float
    energy: float  # battery energy above its ground state, 2 omega_b P_b
    ergotropy: float  # of rho_b with H_b
    capacity: float  # C(rho_b; H_b) = 2 omega_b |r_b|
    purity: float  # Tr rho_b^2
    concurrence: float
    steering: float
    chsh: float
    coherence_l1: float
    imaginarity: float
    texture_global: float
    texture_battery: float
    residual_capacity: float


@dataclass(frozen=True, eq=False)
class ChargerTrajectory:
    """The same figures of merit as arrays over ``times``."""

    times: np.ndarray
    battery_excitation: np.ndarray
    energy: np.ndarray
    ergotropy: np.ndarray
    capacity: np.ndarray
    purity: np.ndarray
    concurrence: np.ndarray
    steering: np.ndarray
    chsh: np.ndarray
    coherence_l1: np.ndarray
    imaginarity: np.ndarray
    texture_global: np.ndarray
    texture_battery: np.ndarray
    residual_capacity: np.ndarray


def hamiltonian(params: ChargerParams) -> np.ndarray:
    """The 4x4 Hamiltonian, battery first."""
    eye = np.eye(2)
    hb = -params.omega_b * np.kron(_Z, eye)
    hc = -params.omega_c * np.kron(eye, _Z)
    hop = params.j1 * (np.kron(_SP, _SM) + np.kron(_SM, _SP))
    return hb + hc + hop + params.j2 * np.kron(_Z, _Z)


def battery_hamiltonian(params: ChargerParams) -> np.ndarray:
    """H_b = -omega_b Z on the battery alone."""
    return -params.omega_b * _Z


def local_hamiltonian(params: ChargerParams) -> np.ndarray:
    """H_b + H_c on the two spins (the Hamiltonian of the residual capacity)."""
    eye = np.eye(2)
    return -params.omega_b * np.kron(_Z, eye) - params.omega_c * np.kron(eye, _Z)


def initial_state() -> np.ndarray:
    """|0>_b |1>_c."""
    return ops.ket(1, 4)


def _time(params: ChargerParams, time: float) -> float:
    t = _validate.nonnegative("time", time)
    scale = max(params.rabi_frequency, abs(params.j2))
    if scale * t > MAX_PHASE:
        raise ParameterError("time", f"<= {MAX_PHASE / scale:.3g} for these parameters (phase Omega t <= 1e10)", time)
    return t


def state(params: ChargerParams, time: float) -> np.ndarray:
    """psi(t) in closed form, including the global phase exp(i J2 t) so that it equals exp(-iHt)|01>."""
    t = _time(params, time)
    omega = params.rabi_frequency
    psi = np.zeros(4, dtype=complex)
    if omega == 0.0:  # J1 = 0 and resonant: |01> is an eigenstate
        a, b = 1.0 + 0j, 0j
    else:
        s, c = np.sin(omega * t), np.cos(omega * t)
        a = c - 1j * (params.detuning / omega) * s
        b = -1j * (params.j1 / omega) * s
    phase = np.exp(1j * params.j2 * t)
    psi[1], psi[2] = phase * a, phase * b
    return psi


def figures_of_merit(params: ChargerParams, psi: np.ndarray, time: float | None = None) -> ChargerResult:
    """Every figure of merit of the two-spin pure or mixed state given as a vector (pure) or a 4x4 matrix
    (``time`` is only recorded; None when the state does not come from the charging dynamics)."""
    psi = np.asarray(psi, dtype=complex)
    rho = ops.dm(psi) if psi.ndim == 1 else psi
    rho_b = ops.partial_trace(rho, (2, 2), keep=(0,))
    rho_c = ops.partial_trace(rho, (2, 2), keep=(1,))
    h_b = battery_hamiltonian(params)
    h_c = -params.omega_c * _Z
    c_b = thermo.capacity(rho_b, h_b)
    if not np.all(np.isfinite(rho)):
        raise ParameterError("state", "a finite vector or matrix", "non-finite entries")
    return ChargerResult(
        time=None if time is None else float(time),
        state=_readonly(psi),
        battery_excitation=float(np.real(rho_b[1, 1])),
        energy=thermo.stored_energy(rho_b, h_b),
        ergotropy=thermo.ergotropy(rho_b, h_b),
        capacity=c_b,
        purity=thermo.purity(rho_b),
        concurrence=res.concurrence(rho),
        steering=res.steering(rho),
        chsh=res.chsh(rho),
        coherence_l1=res.coherence_l1(rho),
        imaginarity=res.imaginarity_l1(rho),
        texture_global=res.texture(rho),
        texture_battery=res.texture(rho_b),
        residual_capacity=thermo.capacity(rho, local_hamiltonian(params)) - c_b - thermo.capacity(rho_c, h_c),
    )


def evolve(params: ChargerParams, time: float) -> ChargerResult:
    """Figures of merit at ``time`` from |0>_b |1>_c."""
    return figures_of_merit(params, state(params, time), time)


def trajectory(params: ChargerParams, times) -> ChargerTrajectory:
    """Figures of merit over a grid of times (t >= 0, at most MAX_TIMES of them)."""
    try:
        times = np.asarray(times, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ParameterError("time", "finite numbers >= 0", times) from None
    if times.size > MAX_TIMES:
        raise ParameterError("time", f"at most {MAX_TIMES} values", times.size)
    for t in times:
        _time(params, t)
    points = [evolve(params, t) for t in times]
    fields = [f for f in ChargerTrajectory.__dataclass_fields__ if f != "times"]
    return ChargerTrajectory(times=_readonly(times), **{f: _readonly([getattr(p, f) for p in points]) for f in fields})
