"""Two coupled transmons at pulse level: the charger (docs/physics.md sections 2 and 6.1) and the thermal-gradient
battery (sections 1 and 6.1) from a device's physics.

The pair. Two transmons (Duffing oscillators with L levels, ladder operators b_1, b_2) with a static capacitive
exchange J (J/2pi = the calibration's ``qubit_couplings[].j_mhz``):

    H = sum_k [omega_k(t) n_k + (alpha_k/2) n_k (n_k - 1)] + J (b_1^dag b_2 + b_1 b_2^dag),

omega_k(t) the parked frequency plus a flux pulse (tunable transmons only). Dissipators as the micromaser's
(``qbhw.pulse.cqed.transmon_rates``: gamma_down D[b], gamma_up D[b^dag], 2 Gamma_phi D[b^dag b] from T1, T2, p_e).
Everything is written in one frame rotating at a common frequency omega_f on every mode (H conserves the total
excitation number N, so the exchange stays static there); states are returned in that frame.

Static ZZ and the charger's J2. The one-excitation block {|10>, |01>} is closed (|20> has two excitations), so the
flip-flop is exactly J whatever L is: J1 = J. The third levels shift only |11>, which couples to |20> and |02>
with sqrt(2) J: zeta = E_11 - E_10 - E_01 + E_00 (dressed energies) is, to second order in J,

    zeta = 2 J^2 (alpha_1 + alpha_2) / ((Delta + alpha_1)(Delta - alpha_2)),   Delta = omega_1 - omega_2,

with corrections of relative order (J/alpha)^2. Sign convention: the charger's H contains J2 Z_b Z_c with Qiskit's
Z (Z|0> = +|0>), whose energies give E_11 - E_10 - E_01 + E_00 = 4 J2 whatever the sign convention of Z, so
J2 = zeta/4. On the computational subspace the transmon pair is then exactly (up to a constant) the charger

    H = -omega_b Z_b - omega_c Z_c + J1 (s+_b s-_c + h.c.) + J2 Z_b Z_c,
    omega_b = (omega_1 + zeta/2)/2,  omega_c = (omega_2 + zeta/2)/2,  J1 = J,  J2 = zeta/4,

omega_k the transmon frequency when the other transmon is in |0> (the charger's |0> is the transmon's |g>). The
charger's model unit here is hbar J: J1 = 1, times in units of 1/J (J t = pi/2 is a full swap).

The charger protocol (``run_charger``). Battery b = the pair's first transmon, charger c = its second. Both start in
their reset state (|g>, or excited with the calibration's ``reset_error`` when the ``reset`` imperfection is on),
c is excited by a pi pulse at its parked frequency (Gaussian, DRAG for L >= 3; or the exact rotation), then one
transmon is flux-pulsed into resonance with the other (the battery if its tunable range reaches the charger's
frequency, else the charger) for a flat top calibrated on the vacuum-Rabi-like transfer |01> -> |10> so that
sin^2 of the transfer angle is sin^2(J t) (``qbhw.pulse.calibrate_flat_top``, as the micromaser's swap), and back.
The frame is omega_f = the interaction frequency; the battery's local phase from the flux ramps is removed by the
virtual Z an experiment would calibrate (the phase of <10|U|01>/<01|U|01> set to the ideal charger's). Result:
the state of the computational subspace (renormalised; the population outside it is the ``leakage``) and every
figure of ``qbhw.models.charger`` beside the ideal charger at (omega_b, omega_c, J1, J2) above and the same time.

The thermal-gradient battery (``run_thermal_gradient``). Transmon A (hot side, the pair member of higher frequency)
and S (cold side), detuned, with exchange J = g of docs/physics.md section 1. What is modelled:

* the hot bath: a low-Q "bath" resonator resonant with A, coupled by g_r (a^dag b_A + h.c.), itself damped at
  kappa into a line carrying n_h thermal photons (engineered noise); for kappa >> g_r it is, adiabatically
  eliminated, a Markovian bath on A with rate Gamma = 4 g_r^2 / kappa at occupation n_h (docs/physics.md 6.3). With
  the ``kappa`` imperfection ON the resonator is simulated (its Lorentzian filters transitions detuned from it, e.g.
  A's |e> -> |f>); OFF, the eliminated bath acts on A's ladder directly (Gamma (n_h + 1) D[b_A] + Gamma n_h D[b_A^dag],
  a flat spectrum);
* the cold bath: S's own environment, its T1 at its thermal population p_e (always on: it is the model's cold bath);
* imperfections: ``levels`` (third levels), ``t1``/``thermal`` (A's own decay and upward jumps into its cold
  environment), ``t2`` (pure dephasing of both), ``rise`` (finite ramps of the extraction pulse), ``kappa`` (above);
  ``dispersive`` and ``reset`` have no counterpart here.

The ideal model at the device (``thermal_gradient_params``), in units of omega_S: omega_a = f_A/f_S, omega_s = 1,
g = J/omega_S, gamma = Gamma/omega_S, temperature_a from n_h at f_A, gamma_s = (1 - 2 p_S)/(T1_S omega_S) and
temperature_s from p_S (so that gamma_s (n_S + 1) = (1 - p_S)/T1_S, as the transmon's decay). With every
imperfection off the pulse-level model is exactly the ideal model's local master equation; the comparison is with
its global master equation (they differ at order (J/Delta)^2 here).

The NESS is the null vector of the Liouvillian on the block of excitation-number-diagonal operators (H conserves N
and every jump changes it by a fixed amount, so the steady state lives there). The two-stroke cycle: charging for
tau under the constant generator (its exact propagator), then extraction by a calibrated swap (S flux-pulsed to
A's frequency for a full exchange, J t = pi/2, and back), the SWAP engine of docs/physics.md 1.2 for g -> 0; the
limit cycle is the fixed point of (charging o extraction). Work per cycle = E(rho_end) - E(rho after extraction)
with the parked pair Hamiltonian (the baths act during the finite extraction too: their exchange is part of it);
heat = the energy the hot bath delivers during the charging stroke, Q_h = int Tr[H D_hot(rho)] dt (H the pair's,
or the pair's plus the resonator's when the resonator is simulated); efficiency W/Q_h, power W/(tau + extraction).
"""

from __future__ import annotations

import dataclasses
import math
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from qbhw import _validate
from qbhw._arrays import readonly as _readonly
from qbhw.errors import CalibrationError, ParameterError, QbhwError
from qbhw.hardware import units
from qbhw.models import charger as ch
from qbhw.models import thermal_gradient as tg
from qbhw.physics import distance
from qbhw.physics import thermodynamics as thermo
from qbhw.pulse.cqed import transmon_rates
from qbhw.pulse.device import Transmon
from qbhw.pulse.envelopes import Drag, Gaussian, sample
from qbhw.pulse.imperfections import Imperfections, parse_imperfections
from qbhw.pulse.micromaser import _ramp, calibrate_flat_top, single_excitation_transfer
from qbhw.pulse.model import Jump, Operator, PulseModel, Schedule, Track, embed, lowering
from qbhw.pulse.simulate import check_engine, propagate, resolve_engine

#: ``progress(stage, seconds, note)`` after each stage of a run
Progress = Callable[[str, float, str], None]
#: transmon levels with the ``levels`` imperfection on when none are given
DEFAULT_LEVELS = 3
#: largest transmon levels of a pair (the pair's Hilbert space is L^2, with the bath resonator L^2 D)
MAX_LEVELS = 6
#: largest dimension of the excitation-number-diagonal operator block of the thermal-gradient model (dense maps
#: of this size are exponentiated: 2500^2 complex entries are 100 MB)
MAX_BLOCK = 2500
#: largest batch (operators x entries) an ODE engine propagates for the thermal-gradient extraction map
MAX_ODE_BATCH = 4_000_000
#: largest population of the bath resonator's top Fock level in the steady state
TOP_LEVEL_TOLERANCE = 1e-6


# ----------------------------------------------------------------------------------------------- the pair


@dataclass(frozen=True)
class TransmonPair:
    """Two transmons with a static exchange J/2pi = ``exchange_mhz`` (laboratory units; ``qubits`` the physical
    indices on the device they come from, or None). ``sample_ns`` is the control electronics' sample time."""

    name: str
    first: Transmon
    second: Transmon
    exchange_mhz: float
    sample_ns: float = 0.25
    qubits: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.first, Transmon) or not isinstance(self.second, Transmon):
            raise CalibrationError("must be Transmons", field="pair")
        j = _validate.finite("exchange_mhz", self.exchange_mhz)
        if j <= 0.0:
            raise CalibrationError(
                f"device {self.name!r}: the transmons {self.qubits} have no exchange coupling (J = {j:g} MHz)",
                field="qubit_couplings",
            )
        object.__setattr__(self, "exchange_mhz", j)
        object.__setattr__(self, "sample_ns", _validate.positive("sample_ns", self.sample_ns))

    @property
    def transmons(self) -> tuple[Transmon, Transmon]:
        return self.first, self.second

    def swapped(self) -> TransmonPair:
        return dataclasses.replace(
            self, first=self.second, second=self.first, qubits=None if self.qubits is None else self.qubits[::-1]
        )


def _qubit_field(qubit: Any, name: str, where: str, device: str) -> Any:
    value = getattr(qubit, name, None)
    if value is None:
        raise CalibrationError(
            f"device {device!r}: {where}.{name} is missing (the pulse-level pair needs it; calibration schema v2)"
        )
    return value


def _transmon(cal: Any, k: int) -> Transmon:
    device = str(getattr(cal, "name", "device"))
    q = cal.qubits[k]
    where = f"qubits[{k}]"
    span = getattr(q, "tunable_range_ghz", None)
    try:
        return Transmon(
            freq_ghz=_qubit_field(q, "freq_ghz", where, device),
            anharmonicity_ghz=_qubit_field(q, "anharmonicity_ghz", where, device),
            t1_us=getattr(q, "t1_us", None),
            t2_us=getattr(q, "t2_us", None),
            excited_population=getattr(q, "excited_population", 0.0) or 0.0,
            reset_error=getattr(q, "reset_error", 0.0) or 0.0,
            reset_duration_ns=getattr(q, "reset_duration_ns", 0.0) or 0.0,
            tunable_range_ghz=None if span is None else tuple(span),
            flux_rise_ns=getattr(q, "flux_rise_ns", 0.0) or 0.0,
        )
    except CalibrationError as e:
        raise e.within(where) from None


def parse_pair(text: str | Sequence[int] | None) -> tuple[int, int] | None:
    """``--pair A,B`` -> (A, B) (two different integers >= 0); None stays None."""
    if text is None:
        return None
    allowed = "two different qubit indices A,B (integers >= 0)"
    if isinstance(text, str):
        parts = [p.strip() for p in text.split(",")]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise ParameterError("pair", allowed, text) from None
    else:
        values = list(text)
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
        raise ParameterError("pair", allowed, text)
    if values[0] == values[1]:
        raise ParameterError("pair", allowed, text)
    return values[0], values[1]


def pair_from_calibration(
    cal: Any, pair: tuple[int, int] | None = None, *, sample_ns: float | None = None
) -> TransmonPair:
    """The transmon pair ``pair`` = (first, second) of a device calibration with its exchange J (schema v2
    ``qubit_couplings``), or, for None, the first coupled pair listed. CalibrationError names the device and what it
    lacks (no exchange couplings, a pair that is not coupled, a missing field); ParameterError("pair") for indices
    the device does not have."""
    name = str(getattr(cal, "name", "device"))
    couplings = tuple(getattr(cal, "qubit_couplings", ()) or ())
    qubits = tuple(getattr(cal, "qubits", ()) or ())
    if pair is None:
        usable = [c for c in couplings if getattr(c, "j_mhz", 0.0)]
        if not usable:
            raise CalibrationError(
                f"device {name!r} cannot host a two-transmon battery: it lists no exchange coupling between "
                "transmons (qubit_couplings, calibration schema v2)"
            )
        a, b = (int(x) for x in usable[0].qubits)
    else:
        a, b = pair
        if max(a, b) >= len(qubits):
            raise ParameterError("pair", f"qubits of device {name!r} (0..{len(qubits) - 1})", f"{a},{b}")
        coupling = cal.qubit_coupling(a, b) if hasattr(cal, "qubit_coupling") else None
        if coupling is None:
            listed = ", ".join(f"{c.qubits[0]},{c.qubits[1]}" for c in couplings) or "none"
            raise ParameterError("pair", f"a coupled pair of device {name!r} ({listed})", f"{a},{b}")
    coupling = next(c for c in couplings if set(c.qubits) == {a, b})
    dt = sample_ns if sample_ns is not None else getattr(cal, "dt_ns", None)
    return TransmonPair(
        name=f"{name}:q{a}-q{b}",
        first=_transmon(cal, a),
        second=_transmon(cal, b),
        exchange_mhz=float(coupling.j_mhz),
        sample_ns=0.25 if dt is None else float(dt),
        qubits=(a, b),
    )


def as_pair(device: Any, pair: tuple[int, int] | None = None) -> TransmonPair:
    """``device`` itself (a TransmonPair; ``pair`` must then be None) or ``pair_from_calibration(device, pair)``."""
    if isinstance(device, TransmonPair):
        if pair is not None:
            raise ParameterError("pair", "omitted for a TransmonPair", pair)
        return device
    if hasattr(device, "qubits"):
        return pair_from_calibration(device, pair)
    raise CalibrationError(
        f"must be a TransmonPair or a device calibration (got {type(device).__name__})", field="device"
    )


# ------------------------------------------------------------------------------------------- static ZZ


def static_zz_perturbative(j: float, delta: float, alpha_1: float, alpha_2: float) -> float:
    """zeta = 2 J^2 (alpha_1 + alpha_2) / ((Delta + alpha_1)(Delta - alpha_2)), Delta = omega_1 - omega_2 (any one
    unit for all arguments; second order in J, docs/physics.md 6.1)."""
    return 2.0 * j**2 * (alpha_1 + alpha_2) / ((delta + alpha_1) * (delta - alpha_2))


def _pair_hamiltonian(omegas: Sequence[float], alphas: Sequence[float], j: float, levels: int) -> np.ndarray:
    b = lowering(levels)
    n = np.diag(np.arange(levels, dtype=float)).astype(complex)
    dims = (levels, levels)
    h = np.zeros((levels**2, levels**2), dtype=complex)
    for k in range(2):
        h += embed(omegas[k] * n + 0.5 * alphas[k] * (n @ n - n), k, dims)
    x = embed(b, 0, dims).conj().T @ embed(b, 1, dims)
    return h + j * (x + x.conj().T)


def dressed_energies(omegas: Sequence[float], alphas: Sequence[float], j: float, levels: int) -> dict[str, float]:
    """E_00, E_01 + E_10 and E_11 of the pair Hamiltonian by exact diagonalisation of its excitation-number
    blocks, and zeta = E_11 - E_10 - E_01 + E_00 (units of the arguments). E_11 is the eigenvalue of the
    two-excitation block whose eigenvector overlaps |11> most; the one-excitation block is exactly 2x2, so
    E_01 + E_10 is its trace omega_1 + omega_2 (its eigenvectors need no labels, which at resonance are ambiguous)."""
    lv = _validate.integer_at_least("levels", levels, 2)
    h = _pair_hamiltonian(omegas, alphas, j, lv)
    number = np.add.outer(np.arange(lv), np.arange(lv)).reshape(-1)
    two = np.nonzero(number == 2)[0]
    w, v = np.linalg.eigh(h[np.ix_(two, two)])
    k = int(np.argmax(np.abs(v[int(np.nonzero(two == lv + 1)[0][0])]) ** 2))
    one = np.nonzero(number == 1)[0]
    out = {
        "00": float(np.real(h[0, 0])),
        "01+10": float(np.real(np.trace(h[np.ix_(one, one)]))),
        "11": float(w[k]),
    }
    out["zeta"] = out["11"] - out["01+10"] + out["00"]
    return out


@dataclass(frozen=True)
class ChargerCoupling:
    """The charger's couplings derived from the pair at the interaction point (module docstring).

    Laboratory values: J/2pi (MHz), the interaction frequency f (GHz; both transmons there), zeta/2pi there
    (kHz) by exact diagonalisation and by the second-order formula, and zeta/2pi at the parking point. Model values
    (unit hbar J): omega_b, omega_c, j1 = 1, j2 = zeta/(4J).
    """

    levels: int
    exchange_mhz: float
    interaction_ghz: float
    zz_khz: float
    zz_perturbative_khz: float
    parked_zz_khz: float
    parked_zz_perturbative_khz: float
    omega_b: float
    omega_c: float
    j1: float
    j2: float

    def params(self) -> ch.ChargerParams:
        """The ideal charger at these couplings."""
        return ch.ChargerParams(omega_b=self.omega_b, omega_c=self.omega_c, j1=self.j1, j2=self.j2)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _interaction(pair: TransmonPair) -> tuple[int, float]:
    """(index of the transmon that is flux-pulsed, interaction frequency in GHz): the battery (first) tuned to the
    charger's parked frequency if its range reaches it, else the charger tuned to the battery's."""
    a, b = pair.transmons
    if a.freq_ghz == b.freq_ghz:
        return 0, a.freq_ghz
    if a.reaches(b.freq_ghz):
        return 0, b.freq_ghz
    if b.reaches(a.freq_ghz):
        return 1, a.freq_ghz
    ranges = ", ".join(
        f"q{'?' if pair.qubits is None else pair.qubits[k]} {t.freq_ghz:g} GHz "
        + (
            "(fixed frequency)"
            if t.tunable_range_ghz is None
            else f"(tunable {t.tunable_range_ghz[0]:g}-{t.tunable_range_ghz[1]:g})"
        )
        for k, t in enumerate(pair.transmons)
    )
    raise CalibrationError(
        f"device {pair.name!r} cannot host the pulse-level charger: neither transmon can be flux-tuned into "
        f"resonance with the other ({ranges})"
    )


def charger_coupling(pair: TransmonPair, levels: int = DEFAULT_LEVELS) -> ChargerCoupling:
    """J1 and J2 of the charger on ``pair`` with ``levels`` transmon levels, at the interaction point."""
    lv = _validate.integer_at_least("levels", levels, 2)
    _, f_int = _interaction(pair)
    a, b = pair.transmons
    j_ghz = units.mhz_to_ghz(pair.exchange_mhz)
    alphas = (a.anharmonicity_ghz, b.anharmonicity_ghz) if lv >= 3 else (0.0, 0.0)
    at = dressed_energies((f_int, f_int), alphas, j_ghz, lv)
    parked = dressed_energies((a.freq_ghz, b.freq_ghz), alphas, j_ghz, lv)
    pert = static_zz_perturbative(j_ghz, 0.0, *alphas) if lv >= 3 else 0.0
    delta = a.freq_ghz - b.freq_ghz
    pert_parked = static_zz_perturbative(j_ghz, delta, *alphas) if lv >= 3 else 0.0
    zeta = at["zeta"]
    return ChargerCoupling(
        levels=lv,
        exchange_mhz=pair.exchange_mhz,
        interaction_ghz=f_int,
        zz_khz=units.ghz_to_mhz(zeta) * 1e3,
        zz_perturbative_khz=units.ghz_to_mhz(pert) * 1e3,
        parked_zz_khz=units.ghz_to_mhz(parked["zeta"]) * 1e3,
        parked_zz_perturbative_khz=units.ghz_to_mhz(pert_parked) * 1e3,
        omega_b=units.frequency_to_reference(0.5 * (f_int + 0.5 * zeta), j_ghz),
        omega_c=units.frequency_to_reference(0.5 * (f_int + 0.5 * zeta), j_ghz),
        j1=1.0,
        j2=units.frequency_to_reference(0.25 * zeta, j_ghz),
    )


# ---------------------------------------------------------------------------------------------- the model


def _levels(levels: int | None, imperfections: Imperfections) -> int:
    if levels is not None:
        levels = _validate.integer_at_least("levels", levels, 2)
        if levels > MAX_LEVELS:
            raise ParameterError("levels", f"<= {MAX_LEVELS} for a transmon pair", levels)
        if not imperfections.levels and levels != 2:
            raise ParameterError(
                "levels", "2 when the 'levels' imperfection is off (add levels to --imperfections)", levels
            )
    if not imperfections.levels:
        return 2
    return DEFAULT_LEVELS if levels is None else levels


@dataclass(frozen=True)
class HotBath:
    """The thermal-gradient battery's hot bath: a resonator resonant with transmon A, coupling g_r/2pi =
    ``coupling_mhz``, energy decay kappa/2pi = ``kappa_mhz`` into a line carrying ``thermal_photons`` n_h; ``cutoff``
    its Fock cutoff (None: the smallest with the thermal top-level population below 1e-7). Design values (an
    engineered bath; the built-in devices have no such mode): kappa >> g_r puts it in the Markov limit with rate
    Gamma = 4 g_r^2 / kappa, here Gamma/2pi = 25 kHz (1/Gamma = 6.4 us), about 10x the cold bath of a 50-70 us T1,
    and slow against the 125 ns extraction swap of J/2pi = 2 MHz (Gamma t_swap = 0.02: the finite extraction time
    costs work in proportion to it)."""

    kappa_mhz: float = 10.0
    coupling_mhz: float = 0.25
    thermal_photons: float = 0.5
    cutoff: int | None = None

    def __post_init__(self) -> None:
        _validate.positive("bath_kappa_mhz", self.kappa_mhz)
        _validate.positive("bath_coupling_mhz", self.coupling_mhz)
        n = _validate.positive("bath_photons", self.thermal_photons)
        if n > 50.0:
            raise ParameterError("bath_photons", "<= 50 (a hotter line needs a Fock cutoff beyond qbhw's limits)", n)
        if self.cutoff is not None:
            _validate.integer_at_least("bath_cutoff", self.cutoff, 2)

    @property
    def rate_per_ns(self) -> float:
        """Gamma = 4 g_r^2 / kappa (rad/ns), the adiabatically eliminated resonator's rate."""
        g = units.mhz_to_rad_per_ns(self.coupling_mhz)
        return 4.0 * g * g / units.mhz_to_rad_per_ns(self.kappa_mhz)

    def resolved_cutoff(self) -> int:
        if self.cutoff is not None:
            return int(self.cutoff)
        x = self.thermal_photons / (1.0 + self.thermal_photons)
        d = 2
        while (1.0 - x) * x ** (d - 1) > 1e-7:
            d += 1
        return d


def pair_model(
    pair: TransmonPair,
    *,
    levels: int,
    imperfections: Imperfections,
    frame_ghz: float,
    hot: HotBath | None = None,
    cold_only: bool = False,
) -> PulseModel:
    """The PulseModel of ``pair`` in the frame rotating at ``frame_ghz`` on every mode.

    Subsystems: transmon 0, transmon 1 (L levels each) and, with ``hot`` and the ``kappa`` imperfection on, the
    bath resonator (resonant with transmon 0). Control operators: ``flux_0``, ``flux_1`` (n_k: a frequency shift
    from the parked point, rad/ns), ``exchange`` (J(b_0^dag b_1 + h.c.), a factor), ``drive_0``, ``drive_1`` (b_k^dag),
    ``bath`` (g_r(a^dag b_0 + h.c.), a factor; with the resonator). Jumps, by label: ``t1``/``thermal``/``t2`` for
    the transmons as switched on; with ``cold_only`` (the thermal gradient) transmon 1's T1 jumps are always on
    (label ``cold``) and transmon 0's only with t1/thermal; ``hot`` for the hot bath.
    """
    lv = int(levels)
    imp = imperfections
    w_f = units.ghz_to_rad_per_ns(frame_ghz)
    b = lowering(lv)
    n = np.diag(np.arange(lv, dtype=float)).astype(complex)
    explicit = hot is not None and imp.kappa
    d = hot.resolved_cutoff() if explicit and hot is not None else 0
    dims: tuple[int, ...] = (lv, lv, d) if explicit else (lv, lv)
    statics: list[np.ndarray] = []
    for t in pair.transmons:
        omega = units.ghz_to_rad_per_ns(t.freq_ghz) - w_f
        alpha = units.ghz_to_rad_per_ns(t.anharmonicity_ghz) if lv >= 3 else 0.0
        statics.append(omega * n + 0.5 * alpha * (n @ n - n))
    labels = ["transmon 0", "transmon 1"]
    if explicit:
        statics.append(np.zeros((d, d), dtype=complex))  # resonant with transmon 0: rotating with it
        labels.append("bath resonator")
    j = units.mhz_to_rad_per_ns(pair.exchange_mhz)
    b0, b1 = embed(b, 0, dims), embed(b, 1, dims)
    ops = [
        Operator("flux_0", n.copy(), 0, hermitian=True),
        Operator("flux_1", n.copy(), 1, hermitian=True),
        Operator("exchange", j * (b0.conj().T @ b1 + b1.conj().T @ b0), None, hermitian=True),
        Operator("drive_0", b.conj().T.copy(), 0, hermitian=False),
        Operator("drive_1", b.conj().T.copy(), 1, hermitian=False),
    ]
    if explicit and hot is not None:
        a = embed(lowering(d), 2, dims)
        g_r = units.mhz_to_rad_per_ns(hot.coupling_mhz)
        ops.append(Operator("bath", g_r * (a.conj().T @ b0 + b0.conj().T @ a), None, hermitian=True))
    jumps: list[Jump] = []
    for k, t in enumerate(pair.transmons):
        down, up, dephasing = transmon_rates(t)
        cold = cold_only and k == 1
        if (imp.t1 or cold) and down > 0:
            jumps.append(Jump("cold" if cold else "t1", k, down, b))
        if (imp.thermal or cold) and up > 0:
            jumps.append(Jump("cold" if cold else "thermal", k, up, b.conj().T.copy()))
        if imp.t2 and dephasing > 0:
            jumps.append(Jump("t2", k, 2.0 * dephasing, n.copy()))
    if hot is not None:
        nh = hot.thermal_photons
        if explicit:
            kappa = units.mhz_to_rad_per_ns(hot.kappa_mhz)
            ar = lowering(d)
            jumps.append(Jump("hot", 2, kappa * (1.0 + nh), ar))
            jumps.append(Jump("hot", 2, kappa * nh, ar.conj().T.copy()))
        else:
            rate = hot.rate_per_ns
            jumps.append(Jump("hot", 0, rate * (1.0 + nh), b))
            jumps.append(Jump("hot", 0, rate * nh, b.conj().T.copy()))
    return PulseModel(
        dims=dims,
        labels=tuple(labels),
        local_static=tuple(statics),
        operators=tuple(ops),
        jumps=tuple(jumps),
        frame_frequencies=(w_f,) * len(dims),
        rwa=True,
    )


def _basis_index(dims: Sequence[int], occupation: Sequence[int]) -> int:
    k = 0
    for d, o in zip(dims, occupation, strict=True):
        k = k * d + o
    return k


def _flux_pulse(
    mover: int, park: float, angle: float, coupling: float, rise_ns: float, sample_ns: float, tracks_on: Sequence[str]
) -> tuple[Schedule, float, float, np.ndarray]:
    """The calibrated flux pulse of transmon ``mover`` from detuning ``park`` (rad/ns, from the other transmon) into
    resonance and back: (schedule, flat top tau_ns, calibration residual, closed single-excitation propagator in the
    basis (mover excited, other excited))."""
    try:
        tau, residual = calibrate_flat_top(angle, coupling, park, rise_ns, sample_ns)
    except ParameterError as e:
        if e.parameter != "g_tau":
            raise
        raise ParameterError("time", e.allowed.replace("(or use", "(or use a device with"), angle) from None
    durs, dets = _ramp(park, rise_ns, sample_ns)
    spans = np.concatenate([durs, [tau], durs[::-1]])
    shift = np.concatenate([dets, [0.0], dets[::-1]]) - park  # the mover's frequency minus its parked one
    keep = spans > 0
    tracks = [Track(f"flux_{mover}", shift[keep])]
    tracks += [Track(name, np.ones(int(keep.sum()))) for name in tracks_on]
    sched = Schedule(np.concatenate([[0.0], np.cumsum(spans[keep])]), tuple(tracks))
    _, up, down = single_excitation_transfer(coupling, park, rise_ns, sample_ns)
    u = down @ sla.expm(-1j * tau * np.array([[0.0, coupling], [coupling, 0.0]])) @ up
    return sched, tau, residual, u


def _pi_pulse(
    model: PulseModel,
    site: int,
    carrier: float,
    alpha_ghz: float,
    duration_ns: float,
    sample_ns: float,
    beta: float,
    tracks_on: Sequence[str],
) -> Schedule:
    """A pi pulse (Gaussian, DRAG for L >= 3) on transmon ``site`` at ``carrier`` (rad/ns, in the frame)."""
    lv = model.dims[site]
    env: Drag | Gaussian = (
        Drag(duration_ns, alpha_ghz, beta=beta) if lv >= 3 and alpha_ghz != 0 else Gaussian(duration_ns)
    )
    edges, x = sample(env, sample_ns)
    area = float(np.dot(x.real, np.diff(edges)))
    values = 0.5j * (math.pi / area) * x
    spans = edges.size - 1
    tracks = [Track(f"drive_{site}", values, carrier=carrier)]
    tracks += [Track(name, np.ones(spans)) for name in tracks_on]
    return Schedule(edges, tuple(tracks))


def _dressed_frequency(model: PulseModel, site: int, coupled: bool) -> float:
    """The frequency (rad/ns, in the frame) of the one-excitation eigenstate most like |1> on ``site``."""
    h = model.static + (model.full("exchange") if coupled else 0.0)
    idx = [_basis_index(model.dims, [1 if k == s else 0 for k in range(len(model.dims))]) for s in range(2)]
    w, v = np.linalg.eigh(h[np.ix_(idx, idx)])
    k = int(np.argmax(np.abs(v[site])))
    return float(w[k])


# ---------------------------------------------------------------------------------------------- the charger


@dataclass(frozen=True, eq=False)
class PulseChargerResult:
    """The charger at pulse level beside the ideal charger at the derived couplings (``to_dict`` for JSON).

    ``ideal`` and ``pulse`` are ``qbhw.models.charger.ChargerResult``s (energies in units of hbar J); ``pulse``
    is of the computational-subspace state renormalised, ``leakage`` the population outside it, ``fidelity`` the
    (squared) fidelity of that state to the ideal one. ``pulse_state`` is the pair's state (L^2 x L^2, frame of the
    interaction frequency, battery phase corrected), ``phase_correction`` the virtual Z applied to the battery.
    """

    coupling: ChargerCoupling
    ideal: ch.ChargerResult
    pulse: ch.ChargerResult
    time: float
    leakage: float
    fidelity: float
    engine: str
    levels: int
    mover: int
    tau_ns: float
    flux_pulse_ns: float
    prep_ns: float
    calibration_residual: float
    phase_correction: float
    metadata: dict[str, Any]
    pulse_state: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        def figures(r: ch.ChargerResult) -> dict[str, float]:
            return {k: float(getattr(r, k)) for k in FIGURE_KEYS}

        out: dict[str, Any] = {
            "ideal": figures(self.ideal),
            "pulse": figures(self.pulse) | {"leakage": self.leakage, "fidelity": self.fidelity},
            "coupling": self.coupling.to_dict(),
            "time": self.time,
            "engine": self.engine,
            "frame": "rotating at the interaction frequency on both transmons",
            "rwa": True,
            "levels": self.levels,
            "flux_pulsed": "battery" if self.mover == 0 else "charger",
            "calibrated_tau_ns": self.tau_ns,
            "flux_pulse_ns": self.flux_pulse_ns,
            "preparation_ns": self.prep_ns,
            "calibration_residual": self.calibration_residual,
            "phase_correction": self.phase_correction,
        }
        out.update(self.metadata)
        return out


#: the charger figures a pulse-level result reports (keys of qbhw.models.charger.ChargerResult)
FIGURE_KEYS = (
    "battery_excitation",
    "energy",
    "ergotropy",
    "capacity",
    "purity",
    "concurrence",
    "steering",
    "chsh",
    "coherence_l1",
    "imaginarity",
    "texture_battery",
    "texture_global",
    "residual_capacity",
)


def _computational_block(rho: np.ndarray, levels: int) -> tuple[np.ndarray, float]:
    idx = [p * levels + q for p in range(2) for q in range(2)]
    block = rho[np.ix_(idx, idx)]
    trace = float(np.real(np.trace(block)))
    if not np.all(np.isfinite(rho)) or trace <= 0.0:
        raise QbhwError("the pulse-level state is not finite (an engine failed); try engine='exact'")
    block = 0.5 * (block + block.conj().T) / trace
    return block, 1.0 - trace


def run_charger(
    device: Any,
    *,
    pair: tuple[int, int] | None = None,
    time: float = 0.3,
    levels: int | None = None,
    engine: str = "auto",
    imperfections: Imperfections | str = "all",
    preparation: str = "drive",
    drive_ns: float = 20.0,
    drag_beta: float = 0.5,
    rtol: float = 1e-9,
) -> PulseChargerResult:
    """The charger from |0>_b |1>_c for ``time`` (units of 1/J) at pulse level on ``device`` (a TransmonPair or a
    calibration with ``pair``), beside the ideal charger at the derived J1, J2 (module docstring).

    Raises ParameterError / CalibrationError naming what is wrong before any propagation.
    """
    check_engine(engine)
    imp = parse_imperfections(imperfections)
    _validate.one_of("preparation", preparation, ("drive", "ideal"))
    _validate.positive("drive_ns", drive_ns)
    t = _validate.nonnegative("time", time)
    if t > 1e4:
        raise ParameterError("time", "<= 1e4 (units of 1/J: 1600 full swaps)", time)
    p = as_pair(device, pair)
    lv = _levels(levels, imp)
    coupling = charger_coupling(p, lv)
    mover, f_int = _interaction(p)
    model = pair_model(p, levels=lv, imperfections=imp, frame_ghz=f_int)
    j = units.mhz_to_rad_per_ns(p.exchange_mhz)
    park = units.ghz_to_rad_per_ns(p.transmons[mover].freq_ghz - f_int)
    on_parked = ("exchange",) if imp.dispersive else ()
    rise = p.transmons[mover].flux_rise_ns if imp.rise else 0.0
    if t == 0.0:
        flux, tau, residual, u1 = None, 0.0, 0.0, np.eye(2, dtype=complex)
    else:
        flux, tau, residual, u1 = _flux_pulse(mover, park, t, j, rise, p.sample_ns, ("exchange",))
    # initial state: reset states, charger excited
    r0 = np.zeros((lv, lv), dtype=complex)
    r1 = np.zeros((lv, lv), dtype=complex)
    e0, e1 = (p.first.reset_error, p.second.reset_error) if imp.reset else (0.0, 0.0)
    r0[0, 0], r0[1, 1] = 1.0 - e0, e0
    r1[0, 0], r1[1, 1] = 1.0 - e1, e1
    rho: np.ndarray = np.kron(r0, r1)
    engines: dict[str, str] = {}
    prep_ns = 0.0
    if preparation == "ideal":
        x = np.eye(lv, dtype=complex)
        x[:2, :2] = [[0.0, -1.0], [1.0, 0.0]]  # exp(-i pi Y/2): |0> -> |1>
        big = np.kron(np.eye(lv), x)
        rho = big @ rho @ big.conj().T
    else:
        carrier = _dressed_frequency(model, 1, imp.dispersive)
        alpha = p.second.anharmonicity_ghz if lv >= 3 else 0.0
        prep = _pi_pulse(model, 1, carrier, alpha, drive_ns, p.sample_ns, drag_beta, on_parked)
        used = resolve_engine(engine, model, prep)
        rho = propagate(model, prep, rho, engine=used, rtol=rtol)
        engines["preparation"] = used
        prep_ns = float(prep.duration)
    if flux is not None:
        used = resolve_engine(engine, model, flux)
        rho = propagate(model, flux, rho, engine=used, rtol=rtol)
        engines["flux"] = used
    # the virtual Z on the battery: the phase of <10|U|01> / <01|U|01> (closed flux pulse) set to the ideal
    # charger's, that of b/a = -i (J1/Omega) tan(Omega t) (exactly that without ramps)
    if mover == 0:  # basis (battery excited, charger excited); the charger starts excited
        a_amp, b_amp = u1[1, 1], u1[0, 1]
    else:  # basis (charger excited, battery excited)
        a_amp, b_amp = u1[0, 0], u1[1, 0]
    psi = ch.state(coupling.params(), t)  # |01> (charger excited) amplitude psi[1], |10> psi[2]
    phi = 0.0
    if min(abs(a_amp), abs(b_amp), abs(psi[1]), abs(psi[2])) > 1e-9:
        phi = float(np.angle(psi[2] / psi[1]) - np.angle(b_amp / a_amp))
        phi = (phi + math.pi) % (2.0 * math.pi) - math.pi
    phases = np.exp(1j * phi * np.arange(lv))
    z = np.kron(np.diag(phases), np.eye(lv))
    rho = z @ rho @ z.conj().T
    rho = 0.5 * (rho + rho.conj().T)
    block, leakage = _computational_block(rho, lv)
    params = coupling.params()
    ideal = ch.evolve(params, t)
    pulse = ch.figures_of_merit(params, block, t)
    fid = min(1.0, distance.fidelity(block, np.outer(ideal.state, ideal.state.conj())))
    used_engines = sorted(set(engines.values())) or ["exact"]
    return PulseChargerResult(
        coupling=coupling,
        ideal=ideal,
        pulse=pulse,
        time=t,
        leakage=max(leakage, 0.0),
        fidelity=fid,
        engine="+".join(used_engines),
        levels=lv,
        mover=mover,
        tau_ns=tau,
        flux_pulse_ns=0.0 if flux is None else float(flux.duration),
        prep_ns=prep_ns,
        calibration_residual=residual,
        phase_correction=phi,
        metadata={
            "device": p.name,
            "pair": None if p.qubits is None else list(p.qubits),
            "imperfections": str(imp),
            "preparation": preparation,
            "engines": engines,
            "model_unit": f"hbar J, J/2pi = {p.exchange_mhz:g} MHz (times in 1/J: J t = pi/2 is a full swap)",
            "time_ns": t / units.time_ns_to_reference(1.0, units.mhz_to_ghz(p.exchange_mhz)),
        },
        pulse_state=_readonly(rho),
    )


@dataclass(frozen=True)
class ZZFit:
    """zeta/2pi (kHz) fitted from pulse-level dynamics: the phase of <11|rho(t)|00> from (|00> + |11>)/sqrt(2)
    with both transmons at the interaction point, closed, a least-squares line over ``samples`` times up to
    ``duration_ns``; ``stderr_khz`` its standard error; ``engine`` that propagated it."""

    zz_khz: float
    stderr_khz: float
    duration_ns: float
    samples: int
    engine: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def fit_static_zz(
    device: Any,
    *,
    pair: tuple[int, int] | None = None,
    levels: int = DEFAULT_LEVELS,
    engine: str = "auto",
    duration_ns: float = 20_000.0,
    samples: int = 201,
    rtol: float = 1e-10,
) -> ZZFit:
    """Fit the static ZZ at the charger's interaction point from the pair's pulse-level dynamics (``ZZFit``).

    In the frame of the interaction frequency E_00 = 0 and E_01 + E_10 = 0, so <11|rho(t)|00> turns at
    -zeta t (plus wiggles of relative size (J/alpha)^2 at the anharmonicity from the admixture of |20>, |02>).
    """
    check_engine(engine)
    lv = _validate.integer_at_least("levels", levels, 2)
    _validate.positive("duration_ns", duration_ns)
    n = _validate.integer_at_least("samples", samples, 3)
    p = as_pair(device, pair)
    mover, f_int = _interaction(p)
    model = pair_model(
        p, levels=lv, imperfections=Imperfections.only("levels") if lv > 2 else Imperfections.none(), frame_ghz=f_int
    )
    shift = units.ghz_to_rad_per_ns(f_int - p.transmons[mover].freq_ghz)
    dt = duration_ns / (n - 1)
    step = Schedule(
        np.array([0.0, dt]), (Track(f"flux_{mover}", np.array([shift])), Track("exchange", np.array([1.0])))
    )
    psi = np.zeros(lv * lv, dtype=complex)
    psi[0] = psi[lv + 1] = 1.0 / math.sqrt(2.0)
    rho = np.outer(psi, psi.conj())
    phases = [0.0]
    used = resolve_engine(engine, model, step)
    for _ in range(n - 1):
        rho = propagate(model, step, rho, engine=used, rtol=rtol)
        phases.append(float(np.angle(rho[lv + 1, 0])))
    times = dt * np.arange(n)
    phi = np.unwrap(np.array(phases))
    design = np.vstack([times, np.ones_like(times)]).T
    coef, res, _, _ = np.linalg.lstsq(design, phi, rcond=None)
    slope = float(coef[0])
    dof = max(n - 2, 1)
    sigma2 = float(res[0]) / dof if res.size else 0.0
    var = sigma2 / float(np.sum((times - times.mean()) ** 2))
    to_khz = units.rad_per_ns_to_mhz(1.0) * 1e3
    return ZZFit(
        zz_khz=-slope * to_khz,
        stderr_khz=math.sqrt(var) * to_khz,
        duration_ns=float(duration_ns),
        samples=n,
        engine=used,
    )


# ------------------------------------------------------------------------------------- the thermal gradient


def _hot_and_cold(pair: TransmonPair) -> TransmonPair:
    """The pair ordered (A, S): A the higher-frequency (hot) transmon."""
    if pair.second.freq_ghz > pair.first.freq_ghz:
        return pair.swapped()
    return pair


def thermal_gradient_params(pair: TransmonPair, hot: HotBath) -> tg.ThermalGradientParams:
    """The ideal thermal-gradient model (global master equation) at the device's parameters, in units of
    omega_S (module docstring). ``pair`` must already be ordered (A, S)."""
    a, s = pair.transmons
    if s.t1_us is None:
        raise CalibrationError(f"device {pair.name!r}: the cold transmon has no T1 (its own bath is the cold bath)")
    ref = s.freq_ghz
    p_s = s.excited_population
    t_s = units.temperature_mk_to_reference(units.effective_temperature_mk(s.freq_ghz, p_s), ref)
    nh = hot.thermal_photons
    t_a = units.temperature_mk_to_reference(units.effective_temperature_mk(a.freq_ghz, nh / (2.0 * nh + 1.0)), ref)
    rate_per_us = units.rad_per_ns_to_mhz(hot.rate_per_ns) * 2.0 * math.pi  # Gamma in 1/us
    return tg.ThermalGradientParams(
        omega_a=units.frequency_to_reference(a.freq_ghz, ref),
        omega_s=1.0,
        temperature_a=t_a,
        temperature_s=t_s,
        gamma=units.rate_per_us_to_reference(rate_per_us, ref),
        g=units.frequency_to_reference(units.mhz_to_ghz(pair.exchange_mhz), ref),
        master_equation="global",
        gamma_s=units.rate_per_us_to_reference((1.0 - 2.0 * p_s) / s.t1_us, ref),
    )


def _diagonal_block(model: PulseModel) -> np.ndarray:
    """Row-major vec indices (i, j) with N_i = N_j: the excitation-number-diagonal operators."""
    number = np.rint(model.number).astype(np.int64)
    return np.nonzero((number[:, None] == number[None, :]).reshape(-1))[0]


def _block_generator(
    model: PulseModel, h: np.ndarray, index: np.ndarray, jumps: Sequence[tuple[float, np.ndarray]]
) -> np.ndarray:
    """-i[H, .] + sum rate D[A] on the operators ``index`` (row-major vec), dense."""
    n = model.dim
    eye = sp.identity(n, dtype=complex, format="csr")
    hs = sp.csr_matrix(h)
    gen = -1j * (sp.kron(hs, eye) - sp.kron(eye, hs.T))
    for rate, a in jumps:
        a_s = sp.csr_matrix(a)
        ada = (a_s.conj().T @ a_s).tocsr()
        gen = gen + rate * (sp.kron(a_s, a_s.conj()) - 0.5 * sp.kron(ada, eye) - 0.5 * sp.kron(eye, ada.T))
    gen = sp.csr_matrix(gen)
    return gen[index][:, index].toarray()


def _span_hamiltonian(model: PulseModel, values: dict[str, tuple[complex, float]]) -> np.ndarray:
    h = model.static.copy()
    for name, (v, carrier) in values.items():
        if carrier != 0.0 or not model.operator(name).hermitian:
            raise ValueError("the thermal-gradient extraction has no drives")
        h = h + v.real * model.full(name)
    return h


def _null_vector(matrix: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    """The trace-one solution rho (n x n) of matrix @ vec_block(rho) = 0: one equation replaced by Tr rho = 1."""
    diag = np.nonzero(index // n == index % n)[0]
    a = matrix.copy()
    a[diag[0], :] = 0.0
    a[diag[0], diag] = 1.0
    rhs = np.zeros(index.size, dtype=complex)
    rhs[diag[0]] = 1.0
    x = np.linalg.solve(a, rhs)
    flat = np.zeros(n * n, dtype=complex)
    flat[index] = x
    rho = flat.reshape(n, n)
    return 0.5 * (rho + rho.conj().T)


@dataclass(frozen=True)
class BatteryFigures:
    """Figures of the two-transmon battery state (model units hbar omega_S): energy above the ground state,
    ergotropy, capacity and purity of the two-qubit state (the computational block renormalised, with the pair
    Hamiltonian's block), the |e> populations of A and S, and the population outside the two-qubit subspace
    (``leakage``). Work and heat of the cycle are energy bookkeeping with the whole L-level Hamiltonian."""

    energy: float
    ergotropy: float
    capacity: float
    purity: float
    excited_a: float
    excited_s: float
    leakage: float

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CycleFigures:
    """The two-stroke limit cycle (model units): work and heat from the hot bath per cycle, power, efficiency (None
    where the heat is 0), the battery figures before extraction, and ``heat_total``, what every bath delivers per
    cycle (the first law of the limit cycle: work = heat_total; None for the ideal model, which does not book it)."""

    cycle_time: float
    work: float
    heat: float
    power: float
    efficiency: float | None
    ergotropy: float
    energy: float
    heat_total: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, eq=False)
class PulseThermalGradientResult:
    """NESS (and, with a cycle time, the limit cycle) of the thermal-gradient battery at pulse level beside the
    ideal model's global master equation at the device's parameters (``params``)."""

    params: tg.ThermalGradientParams
    ideal: BatteryFigures
    ideal_local: BatteryFigures
    pulse: BatteryFigures
    cycle_ideal: CycleFigures | None
    cycle_pulse: CycleFigures | None
    levels: int
    resonator_cutoff: int | None
    top_level_population: float
    engine: str
    metadata: dict[str, Any]
    pulse_state: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ideal": self.ideal.to_dict(),
            "ideal_local": self.ideal_local.to_dict(),
            "pulse": self.pulse.to_dict(),
            "ideal_parameters": dataclasses.asdict(self.params),
            "engine": self.engine,
            "frame": "rotating at the hot transmon's frequency on every mode",
            "rwa": True,
            "levels": self.levels,
            "resonator_cutoff": self.resonator_cutoff,
            "top_level_population": self.top_level_population,
        }
        if self.cycle_ideal is not None and self.cycle_pulse is not None:
            out["cycle"] = {"ideal": self.cycle_ideal.to_dict(), "pulse": self.cycle_pulse.to_dict()}
        out.update(self.metadata)
        return out


def _pair_lab_hamiltonian(pair: TransmonPair, levels: int, reference_ghz: float) -> np.ndarray:
    """The parked pair's Hamiltonian in the laboratory frame, units of 2pi reference_ghz (model units)."""
    a, s = pair.transmons
    alphas = (a.anharmonicity_ghz, s.anharmonicity_ghz) if levels >= 3 else (0.0, 0.0)
    h = _pair_hamiltonian((a.freq_ghz, s.freq_ghz), alphas, units.mhz_to_ghz(pair.exchange_mhz), levels)
    return h / reference_ghz


def _battery_figures(rho_pair: np.ndarray, h: np.ndarray, levels: int) -> BatteryFigures:
    """Energy, ergotropy, capacity and purity of the two-qubit state (the computational block renormalised, with
    the block of ``h``), as the ideal model's; the |e> populations and the leakage out of the block from the whole
    state. On L >= 3 levels the whole state's ergotropy and capacity are not the qubits' (the pair's second
    excitation manifold reaches |02> below |11>, so the L-level spectrum admits orderings the qubits do not)."""
    rho = 0.5 * (rho_pair + rho_pair.conj().T)
    idx = [p * levels + q for p in range(2) for q in range(2)]
    block = rho[np.ix_(idx, idx)]
    inside = float(np.real(np.trace(block)))
    qubits = block / inside
    h4 = h[np.ix_(idx, idx)]
    dims = (levels, levels)
    ra = np.real(np.diag(rho)).reshape(dims)
    return BatteryFigures(
        energy=thermo.stored_energy(qubits, h4),
        ergotropy=thermo.ergotropy(qubits, h4),
        capacity=thermo.capacity(qubits, h4),
        purity=thermo.purity(qubits),
        excited_a=float(ra[1, :].sum()),
        excited_s=float(ra[:, 1].sum()),
        leakage=max(1.0 - inside, 0.0),
    )


def _embed_qubits(rho4: np.ndarray, levels: int) -> np.ndarray:
    out = np.zeros((levels**2, levels**2), dtype=complex)
    idx = [p * levels + q for p in range(2) for q in range(2)]
    out[np.ix_(idx, idx)] = rho4
    return out


def run_thermal_gradient(
    device: Any,
    *,
    pair: tuple[int, int] | None = None,
    hot: HotBath | None = None,
    levels: int | None = None,
    engine: str = "auto",
    imperfections: Imperfections | str = "all",
    cycle_time_us: float | None = None,
    rtol: float = 1e-9,
    progress: Progress | None = None,
) -> PulseThermalGradientResult:
    """The thermal-gradient battery at pulse level on ``device`` (a TransmonPair or a calibration with ``pair``;
    the pair is ordered hot A = higher frequency first): its NESS, and with ``cycle_time_us`` the two-stroke limit
    cycle, beside the ideal model (global master equation, and the local one) at the device's parameters.

    The NESS and the charging stroke are exact (the Liouvillian's null vector and exponential on the
    excitation-number-diagonal block); ``engine`` propagates the extraction pulse (auto/exact: exact propagators;
    qutip, dynamics: those ODE solvers, for models small enough, MAX_ODE_BATCH).
    """
    check_engine(engine)
    imp = parse_imperfections(imperfections)
    hot = HotBath() if hot is None else hot
    p = _hot_and_cold(as_pair(device, pair))
    if p.first.freq_ghz == p.second.freq_ghz:
        raise CalibrationError(
            f"device {p.name!r}: the thermal-gradient battery needs two detuned transmons (both at "
            f"{p.first.freq_ghz:g} GHz)"
        )
    lv = _levels(levels, imp)
    if cycle_time_us is not None:
        tau_us = _validate.positive("cycle_time_us", cycle_time_us)
        if tau_us > 1e4:
            raise ParameterError("cycle_time_us", "<= 1e4 (10 ms; the NESS is the long-cycle limit)", cycle_time_us)
    params = thermal_gradient_params(p, hot)
    ref = p.second.freq_ghz
    model = pair_model(p, levels=lv, imperfections=imp, frame_ghz=p.first.freq_ghz, hot=hot, cold_only=True)
    index = _diagonal_block(model)
    if index.size > MAX_BLOCK:
        raise ParameterError(
            "bath_cutoff" if imp.kappa else "levels",
            f"a model whose excitation-diagonal block has at most {MAX_BLOCK} operators (this one: {index.size}; "
            "lower --levels or --bath-cutoff, or a colder --bath-photons)",
            hot.resolved_cutoff() if imp.kappa else lv,
        )
    start = _time.perf_counter()
    n = model.dim
    always = {"exchange": (1.0 + 0j, 0.0)}
    if "bath" in {o.name for o in model.operators}:
        always["bath"] = (1.0 + 0j, 0.0)
    h_charge = _span_hamiltonian(model, always)
    jumps = model.full_jumps()
    gen = _block_generator(model, h_charge, index, jumps)
    rho = _null_vector(gen, index, n)
    keep = (0, 1)
    rho_pair = _partial(rho, model.dims, keep)
    top = _top_population(rho, model.dims) if len(model.dims) == 3 else 0.0
    if top > TOP_LEVEL_TOLERANCE:
        raise ParameterError(
            "bath_cutoff",
            f"large enough that the bath resonator's top Fock level {model.dims[2] - 1} holds at most "
            f"{TOP_LEVEL_TOLERANCE:g} of the steady state (it holds {top:.3g}); raise --bath-cutoff",
            model.dims[2],
        )
    h_pair = _pair_lab_hamiltonian(p, lv, ref)
    pulse = _battery_figures(rho_pair, h_pair, lv)
    ideal_ness = tg.ness(params)
    local_ness = tg.ness(dataclasses.replace(params, master_equation="local"))
    h2 = _pair_lab_hamiltonian(p, 2, ref)
    ideal = _battery_figures(_embed_qubits(ideal_ness.rho, 2), h2, 2)
    ideal_local = _battery_figures(_embed_qubits(local_ness.rho, 2), h2, 2)
    if progress is not None:
        progress("steady state", _time.perf_counter() - start, f"{index.size} operators")
    engines = {"ness": "exact", "charging": "exact"}
    meta: dict[str, Any] = {
        "device": p.name,
        "pair": None if p.qubits is None else list(p.qubits),
        "hot_transmon": None if p.qubits is None else p.qubits[0],
        "cold_transmon": None if p.qubits is None else p.qubits[1],
        "imperfections": str(imp),
        "hot_bath": "resonator (simulated)" if imp.kappa else "Markov limit of the resonator (4 g_r^2/kappa on A)",
        "bath_kappa_mhz": hot.kappa_mhz,
        "bath_coupling_mhz": hot.coupling_mhz,
        "bath_photons": hot.thermal_photons,
        "hot_rate_mhz": units.rad_per_ns_to_mhz(hot.rate_per_ns),
        "model_unit": f"hbar omega_S, omega_S/2pi = {ref:g} GHz",
        "engines": engines,
        "warnings": list(tg.model_warnings(params)),
    }
    cycle_ideal = cycle_pulse = None
    if cycle_time_us is not None:
        start = _time.perf_counter()
        tau_ns = units.us_to_ns(float(cycle_time_us))
        cycle_pulse, extra = _pulse_cycle(model, p, imp, index, gen, lv, tau_ns, engine, rtol)
        engines["extraction"] = extra.pop("engine")
        meta.update(extra)
        cycle_model = units.time_ns_to_reference(tau_ns, ref)
        lc = tg.limit_cycle(params, cycle_model)
        cycle_ideal = CycleFigures(
            cycle_time=lc.cycle_time,
            work=lc.work,
            heat=lc.heat,
            power=lc.power,
            efficiency=lc.efficiency,
            ergotropy=lc.ergotropy,
            energy=lc.energy,
        )
        meta["cycle_time_us"] = float(cycle_time_us)
        if progress is not None:
            progress("limit cycle", _time.perf_counter() - start, engines["extraction"])
    return PulseThermalGradientResult(
        params=params,
        ideal=ideal,
        ideal_local=ideal_local,
        pulse=pulse,
        cycle_ideal=cycle_ideal,
        cycle_pulse=cycle_pulse,
        levels=lv,
        resonator_cutoff=model.dims[2] if len(model.dims) == 3 else None,
        top_level_population=top,
        engine="+".join(sorted(set(engines.values()))),
        metadata=meta,
        pulse_state=_readonly(rho_pair),
    )


def _partial(rho: np.ndarray, dims: Sequence[int], keep: Sequence[int]) -> np.ndarray:
    n = len(dims)
    t = rho.reshape(tuple(dims) + tuple(dims))
    drop = [k for k in range(n) if k not in keep]
    for k in sorted(drop, reverse=True):
        t = np.trace(t, axis1=k, axis2=k + t.ndim // 2)
    d = int(np.prod([dims[k] for k in keep]))
    return t.reshape(d, d)


def _top_population(rho: np.ndarray, dims: Sequence[int]) -> float:
    pops = np.real(np.diag(rho)).reshape(tuple(dims))
    return float(pops[..., -1].sum())


class _Integrator:
    """int_0^dt e^{gen t} v dt for a generator with a unique stationary state rho_ss: dt Tr(v) rho_ss + x with
    gen x = (e^{gen dt} - 1)(v - Tr(v) rho_ss), Tr x = 0 (gen is invertible on traceless operators). One LU of gen
    with one equation replaced by the trace serves rho_ss and every x."""

    def __init__(self, gen: np.ndarray, index: np.ndarray, n: int) -> None:
        self.diag = np.nonzero(index // n == index % n)[0]
        a = gen.copy()
        a[self.diag[0], :] = 0.0
        a[self.diag[0], self.diag] = 1.0
        self.lu = sla.lu_factor(a)
        e = np.zeros(index.size, dtype=complex)
        e[self.diag[0]] = 1.0
        self.ss = sla.lu_solve(self.lu, e)

    def __call__(self, prop: np.ndarray, v: np.ndarray, dt: float) -> np.ndarray:
        trace = v[self.diag].sum()
        w = v - trace * self.ss
        b = prop @ w - w
        b[self.diag[0]] = 0.0
        return dt * trace * self.ss + sla.lu_solve(self.lu, b)


def _pulse_cycle(
    model: PulseModel,
    pair: TransmonPair,
    imp: Imperfections,
    index: np.ndarray,
    gen: np.ndarray,
    levels: int,
    tau_ns: float,
    engine: str,
    rtol: float,
) -> tuple[CycleFigures, dict[str, Any]]:
    """The limit cycle: fixed point of (charging for tau) o (extraction pulse) on the diagonal block, and its
    energy bookkeeping over the whole cycle (module docstring): with H(t) the laboratory Hamiltonian of the
    simulated modes, E = Tr[H rho], dE/dt = Tr[dH/dt rho] + sum_baths Tr[H D_bath(rho)], so over the extraction
    pulse the control's work output is W = E(before) - E(after) + (energy the baths deliver during the pulse);
    Q_h = what the hot bath delivers over the whole cycle."""
    n = model.dim
    a, s = pair.transmons
    j = units.mhz_to_rad_per_ns(pair.exchange_mhz)
    park = units.ghz_to_rad_per_ns(s.freq_ghz - a.freq_ghz)
    rise = s.flux_rise_ns if imp.rise else 0.0
    if not s.reaches(a.freq_ghz):
        span = (
            "fixed frequency"
            if s.tunable_range_ghz is None
            else f"tunable {s.tunable_range_ghz[0]:g}-{s.tunable_range_ghz[1]:g} GHz"
        )
        raise CalibrationError(
            f"device {pair.name!r} cannot extract by a swap: the cold transmon ({span}) cannot be flux-tuned to the "
            f"hot one at {a.freq_ghz:g} GHz"
        )
    always = ["exchange"] + (["bath"] if "bath" in {o.name for o in model.operators} else [])
    # the cold transmon (model site 1) is flux-pulsed to the hot one for a full exchange, J t = pi/2, and back
    extraction, tau, residual, _ = _flux_pulse(1, park, 0.5 * math.pi, j, rise, pair.sample_ns, always)
    m = index.size
    used = resolve_engine(engine, model, extraction)
    if used != "exact" and m * n * n > MAX_ODE_BATCH:
        raise ParameterError(
            "engine",
            f"exact or auto for this model ({m} operators of dimension {n}: the {used} engine would propagate "
            f"{m * n * n:.2e} entries, at most {MAX_ODE_BATCH:.0e}; lower --levels or --bath-cutoff)",
            engine,
        )
    ref_rad = units.ghz_to_rad_per_ns(pair.second.freq_ghz)
    jumps = model.full_jumps()
    labels = [x.label for x in model.jumps if x.rate > 0]
    hot_jumps = [jp for jp, label in zip(jumps, labels, strict=True) if label == "hot"]
    zero = np.zeros((n, n), dtype=complex)
    d_all = _block_generator(model, zero, index, jumps)
    d_hot = _block_generator(model, zero, index, hot_jumps)

    def lab(h: np.ndarray) -> np.ndarray:  # the laboratory Hamiltonian in model units, as a row-major vec of H^T
        return ((np.diag(model.frame) + h) / ref_rad).T.reshape(-1)[index]

    # the extraction, span by span: exact propagators (its map, unless an ODE engine is asked for, and always the
    # energy bookkeeping)
    spans: list[tuple[_Integrator, np.ndarray, np.ndarray, float]] = []
    cache: dict[tuple[Any, ...], tuple[_Integrator, np.ndarray, np.ndarray]] = {}
    for k in range(extraction.spans):
        values = extraction.values_at(k)
        dt = float(extraction.edges[k + 1] - extraction.edges[k])
        key = (tuple(sorted((name, v) for name, (v, _) in values.items())), dt)
        if key not in cache:
            h = _span_hamiltonian(model, values)
            g = _block_generator(model, h, index, jumps)
            cache[key] = (_Integrator(g, index, n), sla.expm(g * dt), lab(h))
        integrator, prop, h_lab = cache[key]
        spans.append((integrator, prop, h_lab, dt))
    if used == "exact":
        ext = np.eye(m, dtype=complex)
        for _, prop, _, _ in spans:
            ext = prop @ ext
    else:
        basis = np.zeros((m, n * n), dtype=complex)
        basis[np.arange(m), index] = 1.0
        out = propagate(model, extraction, basis.reshape(m, n, n), engine=used, rtol=rtol)
        ext = out.reshape(m, n * n)[:, index].T
    charge = sla.expm(gen * tau_ns)
    rho_end = _null_vector(charge @ ext - np.eye(m), index, n)
    v_end = rho_end.reshape(-1)[index]
    v_start = ext @ v_end
    h_parked = lab(_span_hamiltonian(model, {name: (1.0 + 0j, 0.0) for name in always}))
    # during the extraction: what every bath, and the hot one, delivers
    q_ext = q_ext_hot = 0.0
    v = v_end
    for integrator, prop, h_lab, dt in spans:
        integ = integrator(prop, v, dt)
        q_ext += float(np.real(h_lab @ (d_all @ integ)))
        q_ext_hot += float(np.real(h_lab @ (d_hot @ integ)))
        v = prop @ v
    work = float(np.real(h_parked @ v_end - h_parked @ v_start)) + q_ext
    integ = _Integrator(gen, index, n)(charge, v_start, tau_ns)
    heat = float(np.real(h_parked @ (d_hot @ integ))) + q_ext_hot
    heat_total = float(np.real(h_parked @ (d_all @ integ))) + q_ext
    flat_start = np.zeros(n * n, dtype=complex)
    flat_start[index] = v_start
    rho_start = flat_start.reshape(n, n)
    pair_end = _partial(rho_end, model.dims, (0, 1))
    tau_model = units.time_ns_to_reference(tau_ns, pair.second.freq_ghz)
    extract_model = units.time_ns_to_reference(float(extraction.duration), pair.second.freq_ghz)
    figures_end = _battery_figures(pair_end, _pair_lab_hamiltonian(pair, levels, pair.second.freq_ghz), levels)
    return (
        CycleFigures(
            cycle_time=tau_model,
            work=work,
            heat=heat,
            power=work / (tau_model + extract_model),
            efficiency=work / heat if abs(heat) > 1e-15 else None,
            ergotropy=figures_end.ergotropy,
            energy=figures_end.energy,
            heat_total=heat_total,
        ),
        {
            "engine": used,
            "extraction_ns": float(extraction.duration),
            "extraction_flat_top_ns": tau,
            "extraction_calibration_residual": residual,
            "extraction_time": extract_model,
            "extraction_energy_change": float(np.real(h_parked @ (v_end - v_start))),
            "cycle_state_after_extraction_trace": float(np.real(np.trace(rho_start))),
        },
    )


# ------------------------------------------------------------------------------------------------ sweeps


def sweep_charger(
    device: Any, times: Sequence[float], *, progress: Progress | None = None, **kwargs: Any
) -> tuple[PulseChargerResult, ...]:
    """``run_charger`` at each of ``times`` (units of 1/J; each with its own calibrated flux pulse); ``kwargs`` as
    for ``run_charger``. ``progress(stage, seconds, note)`` after each time."""
    if len(times) == 0:
        raise ParameterError("time", "at least one time", list(times))
    out = []
    for k, t in enumerate(times):
        start = _time.perf_counter()
        out.append(run_charger(device, time=t, **kwargs))
        if progress is not None:
            progress(f"time {k + 1}/{len(times)}", _time.perf_counter() - start, f"J t = {t:g}")
    return tuple(out)


def plot_charger(results: Sequence[PulseChargerResult]) -> Any:
    """Battery capacity (relative to its full value 2 omega_b) and concurrence vs J t, ideal and pulse level: a
    matplotlib Figure (Agg canvas, no process-wide backend change)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    t = [r.time for r in results]
    full = [2.0 * r.coupling.omega_b for r in results]
    ax.plot(t, [r.ideal.capacity / f for r, f in zip(results, full, strict=True)], "k-", label="ideal C_b / 2 omega_b")
    ax.plot(t, [r.pulse.capacity / f for r, f in zip(results, full, strict=True)], "o", ms=4, label="pulse level")
    ax.plot(t, [r.ideal.concurrence for r in results], "k--", label="ideal concurrence")
    ax.plot(t, [r.pulse.concurrence for r in results], "s", ms=4, label="pulse level")
    ax.set_xlabel("J t")
    first = results[0]
    ax.set_title(
        f"charger on {first.metadata['device']} ({first.metadata['imperfections']}; J2/J1 = {first.coupling.j2:.3g})",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def sweep_thermal_gradient(
    device: Any, cycle_times_us: Sequence[float], *, progress: Progress | None = None, **kwargs: Any
) -> tuple[PulseThermalGradientResult, ...]:
    """``run_thermal_gradient`` with each of ``cycle_times_us``; ``kwargs`` as for ``run_thermal_gradient``."""
    if len(cycle_times_us) == 0:
        raise ParameterError("cycle_time_us", "at least one cycle time", list(cycle_times_us))
    out = []
    for k, tau in enumerate(cycle_times_us):
        start = _time.perf_counter()
        out.append(run_thermal_gradient(device, cycle_time_us=tau, **kwargs))
        if progress is not None:
            progress(f"cycle time {k + 1}/{len(cycle_times_us)}", _time.perf_counter() - start, f"{tau:g} us")
    return tuple(out)


def plot_thermal_gradient(results: Sequence[PulseThermalGradientResult]) -> Any:
    """Work per cycle and efficiency vs the cycle time, ideal (global ME) and pulse level: a matplotlib Figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 3.6))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    tau = [float(r.metadata["cycle_time_us"]) for r in results]
    pairs = [(r.cycle_ideal, r.cycle_pulse) for r in results if r.cycle_ideal is not None and r.cycle_pulse is not None]
    ax1.plot(tau, [i.work for i, _ in pairs], "k-", label="ideal (global ME, instantaneous SWAP)")
    ax1.plot(tau, [p.work for _, p in pairs], "o", ms=4, label="pulse level (calibrated swap)")
    ax1.set_ylabel("work per cycle (hbar omega_S)")
    ax2.plot(tau, [np.nan if i.efficiency is None else i.efficiency for i, _ in pairs], "k-", label="ideal")
    ax2.plot(tau, [np.nan if p.efficiency is None else p.efficiency for _, p in pairs], "o", ms=4, label="pulse level")
    ax2.set_ylabel("efficiency W / Q_h")
    for ax in (ax1, ax2):
        ax.set_xlabel("charging time (us)")
        ax.legend(fontsize=7)
    fig.suptitle(
        f"thermal-gradient battery on {results[0].metadata['device']} ({results[0].metadata['imperfections']})",
        fontsize=9,
    )
    fig.tight_layout()
    return fig
