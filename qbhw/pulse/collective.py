"""Collective dissipation through a common resonator, at pulse level (docs/physics.md sections 3 and 6.3).

The device. N identical transmons (Duffing oscillators with L levels, anharmonicity alpha) sit at the frequency
omega_r of one low-Q resonator (Fock cutoff D, energy decay kappa into a line that carries n_th thermal photons,
e.g. injected thermal noise) and each couples to it with g. In the frame rotating at omega_r on every mode, with
the rotating-wave approximation,

    H = sum_i (alpha/2) b_i^dag b_i^dag b_i b_i + g sum_i (a^dag b_i + a b_i^dag),
    L = -i[H, .] + kappa (n_th + 1) D[a] + kappa n_th D[a^dag]
        + sum_i [gamma_down D[b_i] + gamma_up D[b_i^dag] + 2 Gamma_phi D[b_i^dag b_i]],

with the transmons' own relaxation from T1 at their thermal population p_e and pure dephasing from T2
(qbhw.hardware.units.relaxation_rates: gamma_down = (1 - p_e)/T1, gamma_up = p_e/T1, Gamma_phi = 1/T2 - 1/(2 T1)).

The ideal model. For kappa >> g sqrt(N) the resonator can be eliminated adiabatically: the transmons' qubit
subspace then sees gamma (n_th + 1) D[J-] + gamma n_th D[J+] with gamma = 4 g^2 / kappa and the temperature
T = 1/ln(1 + 1/n_th) of the resonator's bath, and the local channels of docs/physics.md 3.3.
``collective_params_from_device`` is that mapping, in units of the reference frequency omega_0 = omega_r
(= 2 pi f_r, the resonator's frequency, at which the transmons work):

    gamma = 4 (g/2pi)^2 / ((kappa/2pi) f_r),        T = 1 / ln(1 + 1/n_th),
    gamma_local = (1 - 2 p_e) / (T1 omega_0),       local_temperature = 1 / ln((1 - p_e)/p_e)   (t1 and thermal),
    gamma_local = (1 - p_e) / (T1 omega_0),         local_temperature = 0                       (t1 alone),
    dephasing = Gamma_phi / (2 omega_0)             (2 Gamma_phi D[b^dag b] = (Gamma_phi/2) D[sigma_z] on a qubit).

Corrections to the elimination are of relative order g^2 N / kappa^2 (docs/physics.md 6.3); ``sweep_kappa``
measures them and fits their order. A transmon's third level adds an error of another kind: the resonator's
thermal photons drive |e> -> |f> through the Lorentzian tail at detuning alpha (rate ~ 2 g^2 kappa n_th/alpha^2
per excitation), against the |f> -> |e> relaxation 2/T1, so the |f> population grows with kappa.

The |f> population. Results are reported for the transmons' state projected onto the qubit subspace {g, e}^N and
renormalised (big-endian, index 0 = |g...g>, as ``qbhw.models.collective.dicke_density_matrix``); ``leakage`` is
the population outside it (some transmon in |f> or above). Energy, ergotropy and capacity are those of H = J_z
(units of hbar omega_r; energy counts excitations, as ``qbhw ideal collective``).

Initial state and steady state. Dynamics start from the transmons in |g...g> and the resonator in its thermal
state (it sits in its bath before the experiment). With any transmon channel (t1, t2) the steady state is
unique. Without one (imperfections ``none``, or ``levels`` alone) it is not: every permutation-symmetry sector
of the transmons is conserved (docs/physics.md 3.1; ``qutip.steadystate`` is wrong there). From |g...g> the state
never leaves the symmetric subspace of the transmons (H and the resonator's jumps are symmetric), which is
invariant and in which the steady state is unique; that subspace is then the model (``symmetric=True``).

Engines. ``exact`` (qbhw's, the default): the Liouvillian reduced exactly by its excitation-number covariance and
the transmons' permutation symmetry (``qbhw.pulse._symmetry``), steady state by one sparse LU, dynamics by matrix
exponentials of the reduced generator. ``qutip`` and ``dynamics`` (the pulse environment) integrate the full
``PulseModel`` (``collective_model``) with ``qbhw.pulse.propagate``; ``qutip`` also computes steady states with
``qutip.steadystate`` on the same Liouvillian (on the symmetric subspace when it is not unique). Units inside:
ns and rad/ns; device quantities carry their units (MHz, us, GHz).

Sizes are checked before any work (``ParameterError`` naming the flag): the resonator's cutoff holds its thermal
tail (top-level population of the thermal state <= CUTOFF_TOLERANCE / 4; a state that fills the top level beyond
CUTOFF_TOLERANCE raises CutoffError), the reduced problem at most MAX_ORBITS unknowns, the full-space engines at
most MAX_ODE_DIM states. Three transmon levels are used by default where the reduced problem has at most
LEVELS_BUDGET unknowns, two otherwise.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from qbhw import _validate
from qbhw._arrays import readonly as _readonly
from qbhw.errors import CalibrationError, NonFiniteResultError, ParameterError, QbhwError
from qbhw.hardware import units
from qbhw.models import collective as col
from qbhw.physics import distance
from qbhw.physics import thermodynamics as thermo
from qbhw.pulse import _symmetry
from qbhw.pulse.cqed import transmon_rates
from qbhw.pulse.device import Resonator, Transmon
from qbhw.pulse.imperfections import IMPERFECTIONS, Imperfections, parse_imperfections
from qbhw.pulse.model import Jump, Operator, PulseModel, constant_schedule, embed, lowering
from qbhw.pulse.simulate import check_engine, propagate

#: the imperfection switches this protocol has (no flux pulses, no parked coupling, no reset; the resonator's
#: kappa and thermal photons are the collective bath itself)
COLLECTIVE_IMPERFECTIONS = ("levels", "t1", "t2", "thermal")
#: largest population allowed in the resonator's top Fock level D - 1
CUTOFF_TOLERANCE = 1e-6
#: largest Fock cutoff of the resonator
MAX_CUTOFF = 60
#: largest thermal photon number of the resonator's bath (its thermal tail must fit MAX_CUTOFF levels)
MAX_THERMAL_PHOTONS = 3.0
#: kappa/2pi and g/2pi at most this fraction of f_r (the Lindblad resonator and the RWA need kappa, g << omega_r)
MAX_RATE_FRACTION = 0.1
#: largest number of transmon levels
MAX_LEVELS = 4
#: largest number of order-0 pairs built for the reduction (each costs ~50 bytes while it is built)
MAX_PAIRS = 3_000_000
#: largest number of unknowns of the reduced problem (its LU factors take up to ~0.3 R^2 complex entries)
MAX_ORBITS = 9_000
#: three transmon levels by default only where the reduced problem has at most this many unknowns
LEVELS_BUDGET = 6_000
#: largest full-space dimension L^N D for the qutip and dynamics engines (their Liouvillian has (L^N D)^2 rows)
MAX_ODE_DIM = 200
#: refuse an exact time evolution whose estimated cost exceeds this many flops (~1 minute on one core)
MAX_EVOLUTION_FLOPS = 2e11
#: largest number of times in one evolution
MAX_TIMES = 2_000
#: largest number of points of a kappa sweep
MAX_SWEEP_POINTS = 100
#: a trace distance below this is rounding (the fit of the convergence order leaves it out)
ROUNDING_DISTANCE = 1e-11


# ------------------------------------------------------------------------------------------------ the device


@dataclass(frozen=True)
class CollectiveDevice:
    """N identical transmons working at the frequency of one low-Q resonator (docs/physics.md 6.3).

    ``transmon``: the transmons' parameters (all N alike): anharmonicity, T1, T2, thermal population p_e; its
    ``freq_ghz`` must equal the resonator's, or its ``tunable_range_ghz`` must reach it (the transmons are then
    flux-tuned into resonance for the whole experiment). ``resonator``: frequency f_r (the reference frequency),
    ``kappa_mhz`` = kappa/2pi > 0 and ``thermal_photons`` n_th of its bath. ``coupling_mhz`` = g/2pi of each
    transmon to the resonator. Checked on construction (CalibrationError naming the field).
    """

    name: str
    transmon: Transmon
    resonator: Resonator
    coupling_mhz: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise CalibrationError(f"must be a non-empty string (got {self.name!r})", field="name")
        if not isinstance(self.transmon, Transmon):
            raise CalibrationError(f"must be a Transmon (got {type(self.transmon).__name__})", field="transmon")
        if not isinstance(self.resonator, Resonator):
            raise CalibrationError(f"must be a Resonator (got {type(self.resonator).__name__})", field="resonator")
        g = _validate.positive("coupling_mhz", self.coupling_mhz, error=_calibration_error)
        object.__setattr__(self, "coupling_mhz", g)
        if self.resonator.kappa_mhz <= 0.0:
            raise CalibrationError("must be > 0 for a low-Q resonator (got 0)", field="resonator.kappa_mhz")
        f_r, t = self.resonator.freq_ghz, self.transmon
        if t.freq_ghz != f_r and not t.reaches(f_r):
            raise CalibrationError(
                f"device {self.name!r} cannot host collective dissipation: its transmons at {t.freq_ghz:g} GHz are "
                f"neither resonant with the resonator at {f_r:g} GHz nor flux-tunable to it"
            )

    @property
    def reference_ghz(self) -> float:
        """f_r: omega_0 = 2 pi f_r is the unit of the ideal model."""
        return self.resonator.freq_ghz


def _calibration_error(name: str, allowed: str, got: object) -> Exception:
    return CalibrationError(f"must be {allowed} (got {got!r})", field=name)


def synthetic_collective_device() -> CollectiveDevice:
    """A documented synthetic device (typical published circuit-QED values, not a real device).

    Fixed-frequency transmons at 5.0 GHz, alpha/2pi = -0.25 GHz, T1 = 100 us, T2 = 190 us (close to the T1 limit
    2 T1, as the best fixed-frequency transmons: pure dephasing at Gamma_phi/Gamma_1 = 0.03 only, because pure
    dephasing mixes the bright and dark sectors and removes the steady-state ergotropy already at Gamma_phi ~
    Gamma_1, i.e. T2 ~ T1), thermal p_e = 0.01;
    a low-Q bus resonator at 5.0 GHz with kappa/2pi = 20 MHz (Q = 250) fed with thermal noise of n_th = 1.5415
    photons (1/(e^{1/2} - 1): the temperature 2 hbar omega_r / k_B, 480 mK at 5 GHz); g/2pi = 2 MHz, so that
    kappa/(g sqrt N) = 5.8 at N = 3 and gamma/2pi = 4 (g/2pi)^2/(kappa/2pi) = 0.8 MHz (1/gamma = 0.2 us).
    Ranges as in Krantz et al., Appl. Phys. Rev. 6, 021318 (2019) and Blais et al., Rev. Mod. Phys. 93, 025005
    (2021); superradiance of two transmons through a damped resonator: Mlynek et al., Nat. Commun. 5, 5186 (2014).
    """
    return CollectiveDevice(
        name="synthetic_collective",
        transmon=Transmon(freq_ghz=5.0, anharmonicity_ghz=-0.25, t1_us=100.0, t2_us=190.0, excited_population=0.01),
        resonator=Resonator(freq_ghz=5.0, kappa_mhz=20.0, thermal_photons=1.0 / math.expm1(0.5), role="bus"),
        coupling_mhz=2.0,
    )


def thermal_photons_at(temperature: float) -> float:
    """n_th = 1/(e^{1/T} - 1) at T in units of hbar omega_r / k_B (0 at T = 0)."""
    return 0.0 if temperature == 0.0 else 1.0 / math.expm1(1.0 / temperature)


def temperature_of(thermal_photons: float) -> float:
    """T = 1/ln(1 + 1/n_th) in units of hbar omega_r / k_B (0 at n_th = 0)."""
    return 0.0 if thermal_photons == 0.0 else 1.0 / math.log1p(1.0 / thermal_photons)


def collective_device(
    device: CollectiveDevice | None = None,
    *,
    coupling_mhz: float | None = None,
    kappa_mhz: float | None = None,
    thermal_photons: float | None = None,
    temperature: float | None = None,
    t1_us: float | None = None,
    t2_us: float | None = None,
) -> CollectiveDevice:
    """``device`` (default ``synthetic_collective_device()``) with the given values replaced.

    ``temperature`` (units of hbar omega_r / k_B) sets n_th = 1/(e^{1/T} - 1) and excludes ``thermal_photons``.
    Bounds: 0 < g/2pi, kappa/2pi <= MAX_RATE_FRACTION f_r; 0 <= n_th <= MAX_THERMAL_PHOTONS; T1 > 0, 0 < T2 <=
    2 T1. Raises ParameterError naming the argument (the command line's flag).
    """
    dev = synthetic_collective_device() if device is None else device
    if not isinstance(dev, CollectiveDevice):
        raise ParameterError("device", "a CollectiveDevice", type(dev).__name__)
    if temperature is not None and thermal_photons is not None:
        raise ParameterError("temperature", "given without --thermal-photons (both set n_th)", temperature)
    f_mhz = units.ghz_to_mhz(dev.reference_ghz)
    bound = MAX_RATE_FRACTION * f_mhz
    resonator, transmon = dev.resonator, dev.transmon
    g = dev.coupling_mhz
    if coupling_mhz is not None:
        g = _validate.positive("coupling_mhz", coupling_mhz)
        if g > bound:
            raise ParameterError("coupling_mhz", f"<= {bound:g} (0.1 f_r: the rotating-wave approximation)", g)
    if kappa_mhz is not None:
        k = _check_kappa(kappa_mhz, bound)
        resonator = dataclasses.replace(resonator, kappa_mhz=k)
    if temperature is not None:
        t = _validate.nonnegative("temperature", temperature)
        n_th = thermal_photons_at(t) if t < 1e3 else math.inf
        if n_th > MAX_THERMAL_PHOTONS:
            limit = temperature_of(MAX_THERMAL_PHOTONS)
            raise ParameterError(
                "temperature",
                f"<= {limit:.4g} at pulse level (n_th <= {MAX_THERMAL_PHOTONS:g}: the resonator's Fock cutoff must "
                "hold its thermal tail)",
                temperature,
            )
        resonator = dataclasses.replace(resonator, thermal_photons=n_th)
    if thermal_photons is not None:
        n_th = _validate.nonnegative("thermal_photons", thermal_photons)
        if n_th > MAX_THERMAL_PHOTONS:
            raise ParameterError(
                "thermal_photons",
                f"<= {MAX_THERMAL_PHOTONS:g} at pulse level (the resonator's Fock cutoff must hold its thermal tail)",
                thermal_photons,
            )
        resonator = dataclasses.replace(resonator, thermal_photons=n_th)
    if resonator.thermal_photons > MAX_THERMAL_PHOTONS:
        raise ParameterError("thermal_photons", f"<= {MAX_THERMAL_PHOTONS:g} at pulse level", resonator.thermal_photons)
    t1 = transmon.t1_us if t1_us is None else _validate.positive("t1_us", t1_us)
    t2 = transmon.t2_us if t2_us is None else _validate.positive("t2_us", t2_us)
    if t1 is not None and t2 is not None and t2 > 2.0 * t1:
        if t2_us is not None:
            raise ParameterError("t2_us", f"<= 2*t1_us = {2.0 * t1:g}", t2_us)
        raise ParameterError(
            "t1_us", f">= t2_us/2 = {0.5 * t2:g} (the device's T2 is {t2:g} us; give --t2-us too)", t1_us
        )
    transmon = dataclasses.replace(transmon, t1_us=t1, t2_us=t2)
    return dataclasses.replace(dev, transmon=transmon, resonator=resonator, coupling_mhz=g)


def _check_kappa(kappa_mhz: float, bound: float) -> float:
    k = _validate.positive("kappa_mhz", kappa_mhz)
    if k > bound:
        raise ParameterError(
            "kappa_mhz", f"<= {bound:g} (0.1 f_r: a Markovian resonator needs kappa << omega_r)", kappa_mhz
        )
    return k


# ------------------------------------------------------------------------------------------------ imperfections


def collective_imperfections(value: Imperfections | str = "all") -> Imperfections:
    """The switches of this protocol (COLLECTIVE_IMPERFECTIONS) from ``all``, ``none``, a list of names or an
    Imperfections (whose other switches are ignored). ``thermal`` needs ``t1`` (the transmon's thermal
    population is the upward part of its T1 relaxation)."""
    if isinstance(value, str):
        names = [p.strip().lower() for p in value.split(",")]
        other = [n for n in names if n in IMPERFECTIONS and n not in COLLECTIVE_IMPERFECTIONS]
        if other and names != ["all"]:
            raise ParameterError(
                "imperfections",
                "all, none or a comma-separated list of " + ", ".join(COLLECTIVE_IMPERFECTIONS) + " (collective "
                "dissipation has no flux pulse, parked coupling or reset, and the resonator's kappa is its bath)",
                other[0],
            )
    imp = parse_imperfections(value)
    imp = Imperfections.only(*[n for n in COLLECTIVE_IMPERFECTIONS if getattr(imp, n)])
    if imp.thermal and not imp.t1:
        raise ParameterError(
            "imperfections",
            "thermal together with t1 (the transmons' thermal population is the upward part of their T1 relaxation)",
            str(value),
        )
    return imp


def _imperfections_text(imp: Imperfections) -> str:
    on = [n for n in COLLECTIVE_IMPERFECTIONS if getattr(imp, n)]
    if len(on) == len(COLLECTIVE_IMPERFECTIONS):
        return "all"
    return ",".join(on) if on else "none"


# ------------------------------------------------------------------------------------------------ the mapping


def collective_params_from_device(
    device: CollectiveDevice | None, n: int, *, imperfections: Imperfections | str = "all"
) -> col.CollectiveParams:
    """The ideal model (``qbhw.models.collective``) of ``n`` transmons on ``device`` after adiabatic elimination of
    the resonator, in units of omega_0 = 2 pi f_r (module docstring): gamma = 4 g^2/(kappa omega_0), temperature
    from n_th, the transmons' T1 (with ``t1``; at their p_e with ``thermal``) as the local channels and their
    pure dephasing (with ``t2``) as ``dephasing``. ``device`` None is ``synthetic_collective_device()``."""
    dev = collective_device(device)
    n = _validate.integer_at_least("n", n, 1)
    imp = collective_imperfections(imperfections)
    f_r = dev.reference_ghz
    g, kappa = dev.coupling_mhz, dev.resonator.kappa_mhz
    gamma = units.frequency_to_reference(units.mhz_to_ghz(4.0 * g * g / kappa), f_r)
    t = dev.transmon
    p = t.excited_population
    gamma_local, local_temperature, dephasing = 0.0, 0.0, 0.0
    if imp.t1 and t.t1_us is not None:
        relax = units.rate_per_us_to_reference(1.0 / t.t1_us, f_r)  # Gamma_1 / omega_0
        if imp.thermal and p > 0.0:
            gamma_local = (1.0 - 2.0 * p) * relax  # gamma_L (n_L + 1) = (1 - p) Gamma_1, gamma_L n_L = p Gamma_1
            local_temperature = 1.0 / math.log((1.0 - p) / p)
        else:
            gamma_local = (1.0 - p) * relax
    if imp.t2 and t.t2_us is not None:
        dephasing = 0.5 * units.rate_per_us_to_reference(t.dephasing_rate_per_us, f_r)
    return col.CollectiveParams(
        n=n,
        temperature=temperature_of(dev.resonator.thermal_photons),
        gamma=gamma,
        gamma_local=gamma_local,
        local_temperature=local_temperature,
        dephasing=dephasing,
    )


# ------------------------------------------------------------------------------------------------ the model


@dataclass(frozen=True, eq=False)
class _Terms:
    """The model's numbers in ns and rad/ns, after the imperfection switches."""

    n: int
    levels: int
    cutoff: int
    alpha: float
    g: float
    kappa: float
    n_th: float
    down: float
    up: float
    dephasing: float
    omega_r: float

    @property
    def symmetric(self) -> bool:
        """No transmon channel: the symmetric subspace of the transmons is the model (module docstring)."""
        return self.down == 0.0 and self.up == 0.0 and self.dephasing == 0.0

    @property
    def transmon_dim(self) -> int:
        return self.levels**self.n

    @property
    def full_dim(self) -> int:
        return self.transmon_dim * self.cutoff


def _terms(device: CollectiveDevice, n: int, levels: int, cutoff: int, imp: Imperfections) -> _Terms:
    t = device.transmon
    down, up, dephasing = transmon_rates(t)
    return _Terms(
        n=n,
        levels=levels,
        cutoff=cutoff,
        alpha=units.ghz_to_rad_per_ns(t.anharmonicity_ghz) if levels > 2 else 0.0,
        g=units.mhz_to_rad_per_ns(device.coupling_mhz),
        kappa=units.mhz_to_rad_per_ns(device.resonator.kappa_mhz),
        n_th=device.resonator.thermal_photons,
        down=down if imp.t1 else 0.0,
        up=up if imp.thermal else 0.0,
        dephasing=dephasing if imp.t2 else 0.0,
        omega_r=units.ghz_to_rad_per_ns(device.reference_ghz),
    )


def symmetric_basis(n: int, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """(V, excitations): the isometry from the symmetric subspace of n L-level transmons into the L^n space
    (columns: normalised sums over the product states with the same occupation of each level; column 0 is
    |g...g>) and the excitation number of each column."""
    dim = levels**n
    digits = np.array(np.unravel_index(np.arange(dim), (levels,) * n)).reshape(n, dim)
    occupation = np.stack([np.sum(digits == lv, axis=0) for lv in range(levels)])  # (levels, dim)
    excitations = digits.sum(axis=0)
    key = np.zeros(dim, dtype=np.int64)
    for lv in range(levels):
        key = key * (n + 1) + occupation[lv]
    # order: excitation number ascending, then the key (|g...g> first)
    order = np.lexsort((-key, excitations))
    uniq_keys: list[int] = []
    column = np.empty(dim, dtype=np.int64)
    seen: dict[int, int] = {}
    for i in order:
        k = int(key[i])
        if k not in seen:
            seen[k] = len(uniq_keys)
            uniq_keys.append(k)
        column[i] = seen[k]
    counts = np.bincount(column)
    v = np.zeros((dim, len(uniq_keys)))
    v[np.arange(dim), column] = 1.0 / np.sqrt(counts[column])
    exc = np.zeros(len(uniq_keys), dtype=np.int64)
    exc[column] = excitations
    return v, exc


def _sparse_embed(op: sp.spmatrix | np.ndarray, site: int, dims: Sequence[int]) -> sp.csr_matrix:
    out = sp.identity(1, dtype=complex, format="csr")
    for k, d in enumerate(dims):
        out = sp.kron(out, sp.csr_matrix(op) if k == site else sp.identity(d, dtype=complex, format="csr"), "csr")
    return sp.csr_matrix(out)


def _local_parts(terms: _Terms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(b, alpha term, a) on one transmon and on the resonator."""
    b = lowering(terms.levels)
    bd = b.conj().T
    return b, 0.5 * terms.alpha * (bd @ bd @ b @ b), lowering(terms.cutoff)


def _resonator_jumps(terms: _Terms) -> list[tuple[str, float, np.ndarray]]:
    a = lowering(terms.cutoff)
    out = [("bath", terms.kappa * (terms.n_th + 1.0), a)]
    if terms.n_th > 0:
        out.append(("bath", terms.kappa * terms.n_th, a.conj().T.copy()))
    return out


def _transmon_jumps(terms: _Terms) -> list[tuple[str, float, np.ndarray]]:
    b = lowering(terms.levels)
    out = []
    if terms.down > 0:
        out.append(("t1", terms.down, b))
    if terms.up > 0:
        out.append(("thermal", terms.up, b.conj().T.copy()))
    if terms.dephasing > 0:
        out.append(("t2", 2.0 * terms.dephasing, b.conj().T @ b))
    return out


def _sparse_model(terms: _Terms) -> tuple[tuple[int, ...], list[np.ndarray], sp.csr_matrix, list[sp.csr_matrix]]:
    """(dims, excitation numbers per subsystem, H, jump operators with sqrt(rate)) of the exact engine."""
    b, h_alpha, a = _local_parts(terms)
    d = terms.cutoff
    if terms.symmetric:
        v, exc = symmetric_basis(terms.n, terms.levels)
        vs = sp.csr_matrix(v)
        tdims = (terms.levels,) * terms.n
        big_b = sp.csr_matrix((v.shape[0], v.shape[0]), dtype=complex)
        big_h = sp.csr_matrix((v.shape[0], v.shape[0]), dtype=complex)
        for i in range(terms.n):
            big_b = big_b + _sparse_embed(b, i, tdims)
            big_h = big_h + _sparse_embed(h_alpha, i, tdims)
        b_s = sp.csr_matrix(vs.T @ big_b @ vs)
        h_s = sp.csr_matrix(vs.T @ big_h @ vs)
        dims: tuple[int, ...] = (v.shape[1], d)
        numbers = [exc, np.arange(d)]
        h = sp.kron(h_s, sp.identity(d), "csr") + terms.g * (
            sp.kron(b_s, sp.csr_matrix(a.conj().T), "csr") + sp.kron(b_s.conj().T, sp.csr_matrix(a), "csr")
        )
        jumps = [
            math.sqrt(rate) * sp.kron(sp.identity(v.shape[1]), sp.csr_matrix(op), "csr")
            for _, rate, op in _resonator_jumps(terms)
        ]
        return dims, numbers, sp.csr_matrix(h), jumps
    dims = (terms.levels,) * terms.n + (d,)
    numbers = [np.arange(x) for x in dims]
    a_full = _sparse_embed(a, terms.n, dims)
    h = sp.csr_matrix((terms.full_dim, terms.full_dim), dtype=complex)
    jumps = []
    for i in range(terms.n):
        b_i = _sparse_embed(b, i, dims)
        h = h + _sparse_embed(h_alpha, i, dims) + terms.g * (a_full.conj().T @ b_i + a_full @ b_i.conj().T)
        jumps.extend(math.sqrt(rate) * _sparse_embed(op, i, dims) for _, rate, op in _transmon_jumps(terms))
    jumps.extend(math.sqrt(rate) * _sparse_embed(op, terms.n, dims) for _, rate, op in _resonator_jumps(terms))
    return dims, numbers, sp.csr_matrix(h), jumps


def _pulse_model(terms: _Terms) -> PulseModel:
    """The model as a ``PulseModel`` for the ODE engines (the symmetric subspace when ``terms.symmetric``)."""
    b, h_alpha, a = _local_parts(terms)
    d = terms.cutoff
    if terms.symmetric:
        v, _ = symmetric_basis(terms.n, terms.levels)
        tdims = (terms.levels,) * terms.n
        big_b = np.sum([embed(b, i, tdims) for i in range(terms.n)], axis=0)
        big_h = np.sum([embed(h_alpha, i, tdims) for i in range(terms.n)], axis=0)
        b_s, h_s = v.T @ big_b @ v, v.T @ big_h @ v
        dims: tuple[int, ...] = (v.shape[1], d)
        exchange = terms.g * (np.kron(b_s, a.conj().T) + np.kron(b_s.conj().T, a))
        return PulseModel(
            dims=dims,
            labels=("transmons (symmetric subspace)", "resonator"),
            local_static=(h_s.astype(complex), np.zeros((d, d), dtype=complex)),
            operators=(Operator("coupling", exchange.astype(complex), None, hermitian=True),),
            jumps=tuple(Jump(label, 1, rate, op) for label, rate, op in _resonator_jumps(terms)),
            frame_frequencies=(terms.omega_r, terms.omega_r),
        )
    dims = (terms.levels,) * terms.n + (d,)
    a_full = embed(a, terms.n, dims)
    exchange = np.zeros((terms.full_dim, terms.full_dim), dtype=complex)
    for i in range(terms.n):
        b_i = embed(b, i, dims)
        exchange += terms.g * (a_full.conj().T @ b_i + a_full @ b_i.conj().T)
    jumps = [Jump(label, i, rate, op) for i in range(terms.n) for label, rate, op in _transmon_jumps(terms)]
    jumps += [Jump(label, terms.n, rate, op) for label, rate, op in _resonator_jumps(terms)]
    return PulseModel(
        dims=dims,
        labels=tuple(f"transmon {i}" for i in range(terms.n)) + ("resonator",),
        local_static=(h_alpha.astype(complex),) * terms.n + (np.zeros((d, d), dtype=complex),),
        operators=(Operator("coupling", exchange, None, hermitian=True),),
        jumps=tuple(jumps),
        frame_frequencies=(terms.omega_r,) * (terms.n + 1),
    )


def collective_model(
    device: CollectiveDevice | None,
    n: int,
    *,
    levels: int = 2,
    cutoff: int = 10,
    imperfections: Imperfections | str = "all",
) -> PulseModel:
    """The N transmons + resonator of ``device`` as a ``PulseModel`` (dims (L, ..., L, D), big-endian, transmons
    first; frame rotating at omega_r on every mode, RWA) with one control operator, "coupling" = g sum_i (a^dag b_i
    + a b_i^dag), held at 1 throughout; with no transmon channel switched on, the model is the symmetric subspace
    of the transmons, dims (S, D) (module docstring). For ``qbhw.pulse.propagate`` and QuTiP-level checks."""
    dev = collective_device(device)
    imp = collective_imperfections(imperfections)
    n = _validate.integer_at_least("n", n, 1)
    lv = _validate.integer_at_least("levels", levels, 2)
    d = _validate.integer_at_least("cutoff", cutoff, 2)
    terms = _terms(dev, n, lv, d, imp)
    if terms.full_dim > 4 * MAX_ODE_DIM:
        raise ParameterError("n", f"such that L^N D <= {4 * MAX_ODE_DIM} for a dense PulseModel", n)
    return _pulse_model(terms)


def thermal_populations(thermal_photons: float, cutoff: int) -> np.ndarray:
    """p_n = x^n (1 - x)/(1 - x^D), x = n_th/(n_th + 1), n = 0..D-1: the resonator's truncated thermal state."""
    if thermal_photons == 0.0:
        p = np.zeros(cutoff)
        p[0] = 1.0
        return p
    x = thermal_photons / (thermal_photons + 1.0)
    weights = np.power(x, np.arange(cutoff, dtype=float))
    return np.asarray(weights / weights.sum())


def auto_cutoff(thermal_photons: float, tolerance: float = CUTOFF_TOLERANCE) -> int:
    """The smallest cutoff D >= 3 whose truncated thermal state holds at most tolerance/4 in level D-1, plus 2
    (the transmons' excitations pass through the resonator)."""
    d = 3
    while d < MAX_CUTOFF and thermal_populations(thermal_photons, d)[-1] > 0.25 * tolerance:
        d += 1
    return min(d + 2, MAX_CUTOFF)


# ------------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class CollectiveFigures:
    """The ideal model's figures (``qbhw ideal collective``): units of hbar omega_r, energy counted from |g...g>."""

    energy: float
    ergotropy: float
    capacity: float
    purity: float

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PulseCollectiveFigures:
    """Figures of the transmons' qubit-subspace state at pulse level (module docstring), its trace distance to the
    ideal state, the population outside the qubit subspace (``leakage``) and the resonator's mean photon number
    and top-level population."""

    energy: float
    ergotropy: float
    capacity: float
    purity: float
    trace_distance: float
    leakage: float
    mean_photons: float
    top_level_population: float

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, eq=False)
class PulseCollectiveResult:
    """Ideal and pulse-level state of the transmons at ``time_us`` (None: the steady state).

    ``params`` is the ideal model the device maps to (``collective_params_from_device``); ``qubit_state`` the
    pulse-level 2^N state (qubit subspace, renormalised), ``ideal_state`` the ideal one, ``transmon_state`` the
    pulse-level L^N state of the transmons (resonator traced out), all big-endian. ``settings`` holds the device
    numbers and the run's choices (``to_dict``).
    """

    ideal: CollectiveFigures
    pulse: PulseCollectiveFigures
    params: col.CollectiveParams
    time_us: float | None
    settings: dict[str, Any] = field(default_factory=dict)
    qubit_state: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    ideal_state: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    transmon_state: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ideal": self.ideal.to_dict(), "pulse": self.pulse.to_dict()}
        out["time_us"] = self.time_us
        out.update(self.settings)
        out["collective_params"] = dataclasses.asdict(self.params)
        return out


@dataclass(frozen=True, eq=False)
class PulseCollectiveTrajectory:
    """Ideal and pulse-level figures at each of ``times_us`` (arrays of that length); ``settings`` as in
    PulseCollectiveResult."""

    times_us: np.ndarray
    ideal: dict[str, np.ndarray]
    pulse: dict[str, np.ndarray]
    params: col.CollectiveParams
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "times_us": self.times_us.tolist(),
            "ideal": {k: v.tolist() for k, v in self.ideal.items()},
            "pulse": {k: v.tolist() for k, v in self.pulse.items()},
        }
        out.update(self.settings)
        out["collective_params"] = dataclasses.asdict(self.params)
        return out


@dataclass(frozen=True, eq=False)
class PulseCollectiveSweep:
    """One result per kappa of ``kappa_mhz`` (ascending); ``order`` is the fitted slope of log(trace distance)
    against log(g^2 N / kappa^2) over the points above rounding (None with fewer than 3 such points): 1 where the
    adiabatic elimination's relative corrections ~ g^2 N/kappa^2 dominate the difference."""

    kappa_mhz: np.ndarray
    points: tuple[PulseCollectiveResult, ...]
    order: float | None
    order_points: int

    def column(self, side: str, key: str) -> np.ndarray:
        """The values of figure ``key`` of ``side`` ("ideal" or "pulse") along the sweep."""
        return np.array([getattr(getattr(p, side), key) for p in self.points], dtype=float)

    def setting(self, key: str) -> np.ndarray:
        return np.array([p.settings[key] for p in self.points], dtype=float)

    def to_dict(self) -> dict[str, Any]:
        first = self.points[0].settings
        varying = ("kappa_mhz", "elimination_ratio", "expansion", "gamma_mhz")
        out: dict[str, Any] = {k: v for k, v in first.items() if k not in varying}
        out["kappa_mhz"] = self.kappa_mhz.tolist()
        for k in varying[1:]:
            out[k] = self.setting(k).tolist()
        out["ideal"] = {k: self.column("ideal", k).tolist() for k in ("energy", "ergotropy", "capacity", "purity")}
        names = [f.name for f in dataclasses.fields(PulseCollectiveFigures)]
        out["pulse"] = {k: self.column("pulse", k).tolist() for k in names}
        out["convergence_order"] = self.order
        out["convergence_points"] = self.order_points
        out["collective_params"] = [dataclasses.asdict(p.params) for p in self.points]
        return out


# ------------------------------------------------------------------------------------------------ planning


@dataclass(frozen=True, eq=False)
class _Plan:
    device: CollectiveDevice
    imperfections: Imperfections
    terms: _Terms
    engine: str
    levels_note: str
    reduction: _symmetry.Reduction | None
    cutoff_tolerance: float


def _reduction_for(terms: _Terms) -> tuple[tuple[int, ...], list[np.ndarray], tuple[int, ...]]:
    """(dims, numbers, permutable subsystems) of the exact engine's reduced space."""
    if terms.symmetric:
        _, exc = symmetric_basis(terms.n, terms.levels)
        return (exc.size, terms.cutoff), [exc, np.arange(terms.cutoff)], ()
    dims = (terms.levels,) * terms.n + (terms.cutoff,)
    return dims, [np.arange(x) for x in dims], tuple(range(terms.n))


def _size_message(terms: _Terms, what: str) -> str:
    return (
        f"small enough for the pulse-level state: N = {terms.n} transmons with {terms.levels} levels and a Fock cutoff "
        f"{terms.cutoff} have L^N D = {terms.full_dim} states; {what}"
    )


def _symmetric_size(terms: _Terms) -> int:
    return math.comb(terms.n + terms.levels - 1, terms.levels - 1)


def _ode_dim(terms: _Terms) -> int:
    """The dimension of the state the ODE engines integrate (the symmetric subspace's when it is the model)."""
    return _symmetric_size(terms) * terms.cutoff if terms.symmetric else terms.full_dim


def _reduce(terms: _Terms) -> _symmetry.Reduction:
    """The exact engine's reduction, with its sizes checked first (ParameterError naming --n)."""
    if terms.symmetric:
        if _symmetric_size(terms) > 10_000:
            raise ParameterError(
                "n", _size_message(terms, f"the symmetric subspace has {_symmetric_size(terms)} states"), terms.n
            )
        if terms.transmon_dim > 2_000_000:
            raise ParameterError("n", _size_message(terms, "the transmons' space is too large to symmetrise"), terms.n)
    dims, numbers, perm = _reduction_for(terms)
    pairs = _symmetry.order_zero_size(dims, numbers)
    if pairs > MAX_PAIRS:
        raise ParameterError(
            "n",
            _size_message(terms, f"{pairs:.3g} order-0 matrix elements exceed the limit {MAX_PAIRS:.0e}"),
            terms.n,
        )
    red = _symmetry.reduce_space(dims, perm, numbers)
    if red.size > MAX_ORBITS:
        raise ParameterError(
            "n",
            _size_message(
                terms,
                f"the reduced steady-state problem has {red.size} unknowns, more than {MAX_ORBITS} (its LU factors "
                f"would take ~{0.3 * red.size**2 * 20 / 2**30:.1f} GiB)",
            ),
            terms.n,
        )
    return red


def _plan(
    n: int,
    device: CollectiveDevice | None,
    *,
    levels: int | None,
    cutoff: int | None,
    engine: str,
    imperfections: Imperfections | str,
    overrides: dict[str, Any],
    dynamics: bool,
    cutoff_tolerance: float = CUTOFF_TOLERANCE,
) -> _Plan:
    n = _validate.integer_at_least("n", n, 1)
    if n > 16:
        raise ParameterError(
            "n", f"an integer <= 16 at pulse level (the transmons' space has L^N >= 2^{n} = {2**n} states)", n
        )
    check_engine(engine)
    tol = _validate.finite("cutoff_tolerance", cutoff_tolerance)
    if not 0.0 < tol <= 1.0:
        raise ParameterError("cutoff_tolerance", "in (0, 1]", cutoff_tolerance)
    imp = collective_imperfections(imperfections)
    dev = collective_device(device, **overrides)
    if levels is not None:
        levels = _validate.integer_at_least("levels", levels, 2)
        if levels > MAX_LEVELS:
            raise ParameterError("levels", f"an integer in [2, {MAX_LEVELS}]", levels)
        if not imp.levels and levels != 2:
            raise ParameterError(
                "levels", "2 when the 'levels' imperfection is off (add levels to --imperfections)", levels
            )
    if cutoff is not None:
        d = _validate.integer_at_least("cutoff", cutoff, 2)
        if d > MAX_CUTOFF:
            raise ParameterError("cutoff", f"an integer in [2, {MAX_CUTOFF}]", cutoff)
        top = float(thermal_populations(dev.resonator.thermal_photons, d)[-1])
        if top > tol:  # checked before any work; the solved state is checked again (_pulse_figures)
            raise ParameterError(
                "cutoff",
                f"large enough that the resonator's top Fock level {d - 1} holds at most {tol:.3g} of the "
                f"population (its thermal state alone puts {top:.3g} there; the default is "
                f"{auto_cutoff(dev.resonator.thermal_photons, tol)})",
                cutoff,
            )
    else:
        d = auto_cutoff(dev.resonator.thermal_photons, tol)
    exact = engine in ("auto", "exact")
    note = ""
    red: _symmetry.Reduction | None = None
    if not imp.levels:
        lv = 2
    elif levels is not None:
        lv = levels
    else:  # three levels where they fit the budget of this run (steady state: LU; dynamics: eigendecomposition)
        lv = 3
        probe = _terms(dev, n, 3, d, imp)
        budget = (_symmetry.DENSE_MAX if dynamics else LEVELS_BUDGET) if exact else MAX_ODE_DIM
        try:
            red = _reduce(probe) if exact else None
            too_big = (red.size if red is not None else _ode_dim(probe)) > budget
        except ParameterError:
            too_big = True
        if too_big:
            lv, red = 2, None
            what = "a time evolution" if dynamics else "a steady state"
            note = (
                f"3 transmon levels do not fit {what} of N = {n} with cutoff {d} in the default budget; 2 levels "
                "used (--levels 3 asks for them)"
            )
    terms = _terms(dev, n, lv, d, imp)
    if exact:
        red = _reduce(terms) if red is None else red
    else:
        dim = _ode_dim(terms)
        if dim > MAX_ODE_DIM:
            raise ParameterError(
                "engine",
                f"exact (or auto) for this size: the {engine} engine integrates the full Liouvillian, and N = {n} "
                f"transmons with {lv} levels and cutoff {d} have {dim} states (limit {MAX_ODE_DIM})",
                engine,
            )
    return _Plan(dev, imp, terms, "exact" if engine == "auto" else engine, note, red, tol)


# ------------------------------------------------------------------------------------------------ solving


def _states_from_coefficients(plan: _Plan, coefficients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(transmons' L^N state, resonator populations) of the reduced state ``coefficients``."""
    red, terms = plan.reduction, plan.terms
    assert red is not None
    d = terms.cutoff
    n_i, n_j = red.rows % d, red.cols % d
    same = n_i == n_j
    dim_t = red.dim // d
    vals = coefficients[red.orbit[same]]
    rho = np.zeros((dim_t, dim_t), dtype=complex)
    np.add.at(rho, (red.rows[same] // d, red.cols[same] // d), vals)
    diag = red.rows == red.cols
    w = coefficients[red.orbit[diag]].real
    photons = np.bincount(n_i[diag], weights=w, minlength=d)
    if terms.symmetric:
        v, _ = symmetric_basis(terms.n, terms.levels)
        rho = v @ rho @ v.T
    return 0.5 * (rho + rho.conj().T), photons


def _states_from_dense(plan: _Plan, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    terms = plan.terms
    d = terms.cutoff
    dim_t = rho.shape[0] // d
    r = rho.reshape(dim_t, d, dim_t, d)
    rho_t = np.einsum("injn->ij", r)
    photons = np.real(np.einsum("inin->n", r))
    if terms.symmetric:
        v, _ = symmetric_basis(terms.n, terms.levels)
        rho_t = v @ rho_t @ v.T
    return 0.5 * (rho_t + rho_t.conj().T), photons


def _initial_dense(plan: _Plan) -> np.ndarray:
    terms = plan.terms
    dim_t = _symmetric_size(terms) if terms.symmetric else terms.transmon_dim
    ground = np.zeros((dim_t, dim_t))
    ground[0, 0] = 1.0  # |g...g> (column 0 of the symmetric basis)
    return np.kron(ground, np.diag(thermal_populations(terms.n_th, terms.cutoff))).astype(complex)


def _initial_coefficients(plan: _Plan) -> np.ndarray:
    red, terms = plan.reduction, plan.terms
    assert red is not None
    d = terms.cutoff
    c = np.zeros(red.size, dtype=complex)
    idx = np.arange(d)  # |g...g, n> has index n (the transmons' ground state is index 0)
    c[red.lookup(idx, idx)] = thermal_populations(terms.n_th, d)
    return c


def _steady_states(plan: _Plan) -> tuple[np.ndarray, np.ndarray, str]:
    terms = plan.terms
    if plan.engine == "exact":
        red = plan.reduction
        assert red is not None
        _, _, h, jumps = _sparse_model(terms)
        gen = _symmetry.reduced_generator(red, h, jumps)
        try:
            c = _symmetry.steady_coefficients(red, gen)
        except _symmetry.SingularSystem:
            raise QbhwError(
                "the steady state of this model is not unique (the pinned linear system is singular); evolve in "
                "time instead (--time-us)"
            ) from None
        rho_t, photons = _states_from_coefficients(plan, c)
        space = "symmetric subspace" if terms.symmetric else "permutation-invariant"
        return rho_t, photons, f"exact: sparse LU of the {space} order-0 block ({red.size} unknowns)"
    if plan.engine == "qutip":
        from qbhw.pulse import _engine_qutip

        rho = _engine_qutip.steady_state(_pulse_model(terms), values={"coupling": 1.0})
        rho_t, photons = _states_from_dense(plan, rho)
        space = "the symmetric subspace" if terms.symmetric else "the full Liouvillian"
        return rho_t, photons, f"qutip: qutip.steadystate on {space}"
    raise ParameterError(
        "engine",
        "exact, auto or qutip for a steady state (qiskit-dynamics integrates in time: give --time-us)",
        plan.engine,
    )


def _trajectory_states(plan: _Plan, times_ns: np.ndarray) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    terms = plan.terms
    if plan.engine == "exact":
        red = plan.reduction
        assert red is not None
        _, _, h, jumps = _sparse_model(terms)
        gen = _symmetry.reduced_generator(red, h, jumps)
        cost = _symmetry.evolution_cost(gen, times_ns)
        if cost > MAX_EVOLUTION_FLOPS:
            raise ParameterError(
                "time_us",
                f"a shorter time (or fewer distinct steps): this evolution would cost ~{cost:.2g} flops (limit "
                f"{MAX_EVOLUTION_FLOPS:.0e}; the resonator's kappa makes the generator stiff)",
                float(units.ns_to_us(float(np.max(times_ns)))),
            )
        cs = _symmetry.evolve(gen, _initial_coefficients(plan), times_ns)
        how = "eigendecomposition" if red.size <= _symmetry.DENSE_MAX else "expm_multiply"
        return [_states_from_coefficients(plan, c) for c in cs], f"exact: {how} of the reduced generator"
    model = _pulse_model(terms)
    rho = _initial_dense(plan)
    order = np.argsort(times_ns, kind="stable")
    out: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0), np.zeros(0))] * times_ns.size
    now = 0.0
    for k in order:
        dt = float(times_ns[k]) - now
        if dt > 0:
            rho = propagate(model, constant_schedule(dt, {"coupling": 1.0}), rho, engine=plan.engine, rtol=1e-10)
            now = float(times_ns[k])
        out[k] = _states_from_dense(plan, rho)
    return out, f"{plan.engine}: the full Liouvillian integrated in time (rtol 1e-10)"


def _qubit_projection(rho_t: np.ndarray, n: int, levels: int) -> tuple[np.ndarray, float]:
    """The transmons' state on {g, e}^N renormalised (big-endian) and the population outside it."""
    if levels == 2:
        tr = float(np.real(np.trace(rho_t)))
        return rho_t / tr, max(0.0, 1.0 - tr)
    digits = np.array(np.unravel_index(np.arange(levels**n), (levels,) * n)).reshape(n, -1)
    idx = np.flatnonzero(np.all(digits < 2, axis=0))
    block = rho_t[np.ix_(idx, idx)]
    tr = float(np.real(np.trace(block)))
    return block / tr, max(0.0, 1.0 - tr)


def _check_finite(values: dict[str, float], where: str) -> None:
    for k, v in values.items():
        if not math.isfinite(v):
            raise NonFiniteResultError(f"{where}.{k}", v)


def _pulse_figures(
    rho_t: np.ndarray, photons: np.ndarray, plan: _Plan, ideal_state: np.ndarray
) -> tuple[PulseCollectiveFigures, np.ndarray]:
    terms = plan.terms
    rho_q, leakage = _qubit_projection(rho_t, terms.n, terms.levels)
    h = col.collective_hamiltonian(terms.n)
    top = float(photons[-1])
    if top > plan.cutoff_tolerance:
        raise ParameterError(
            "cutoff",
            f"large enough that the resonator's top Fock level {terms.cutoff - 1} holds at most "
            f"{plan.cutoff_tolerance:.3g} of the population (it held {top:.3g}); raise --cutoff",
            terms.cutoff,
        )
    values = {
        "energy": thermo.energy(rho_q, h) + 0.5 * terms.n,
        "ergotropy": max(0.0, thermo.ergotropy(rho_q, h)),
        "capacity": thermo.capacity(rho_q, h),
        "purity": thermo.purity(rho_q),
        "trace_distance": distance.trace_distance(rho_q, ideal_state),
        "leakage": leakage,
        "mean_photons": float(np.dot(np.arange(photons.size), photons)),
        "top_level_population": max(0.0, top),
    }
    _check_finite(values, "pulse")
    return PulseCollectiveFigures(**values), rho_q


def _settings(plan: _Plan, method: str) -> dict[str, Any]:
    dev, terms = plan.device, plan.terms
    g, kappa = dev.coupling_mhz, dev.resonator.kappa_mhz
    t = dev.transmon
    out: dict[str, Any] = {
        "n": terms.n,
        "device": dev.name,
        "engine": plan.engine,
        "method": method,
        "frame": "rotating at omega_r (every mode)",
        "rwa": True,
        "levels": terms.levels,
        "cutoff": terms.cutoff,
        "imperfections": _imperfections_text(plan.imperfections),
        "reference_ghz": dev.reference_ghz,
        "coupling_mhz": g,
        "kappa_mhz": kappa,
        "thermal_photons": dev.resonator.thermal_photons,
        "temperature": temperature_of(dev.resonator.thermal_photons),
        "anharmonicity_mhz": units.ghz_to_mhz(t.anharmonicity_ghz),
        "t1_us": t.t1_us,
        "t2_us": t.t2_us,
        "excited_population": t.excited_population,
        "gamma_mhz": 4.0 * g * g / kappa,
        "elimination_ratio": kappa / (g * math.sqrt(terms.n)),
        "expansion": g * g * terms.n / (kappa * kappa),
        "unique_steady_state": not terms.symmetric,
    }
    if plan.levels_note:
        out["note"] = plan.levels_note
    return out


def _ideal_figures(state: Any) -> CollectiveFigures:
    return CollectiveFigures(
        energy=float(state.energy),
        ergotropy=float(state.ergotropy),
        capacity=float(state.capacity),
        purity=float(state.purity),
    )


def run_collective(
    n: int,
    device: CollectiveDevice | None = None,
    *,
    time_us: float | None = None,
    coupling_mhz: float | None = None,
    kappa_mhz: float | None = None,
    thermal_photons: float | None = None,
    temperature: float | None = None,
    t1_us: float | None = None,
    t2_us: float | None = None,
    levels: int | None = None,
    cutoff: int | None = None,
    engine: str = "auto",
    imperfections: Imperfections | str = "all",
    cutoff_tolerance: float = CUTOFF_TOLERANCE,
) -> PulseCollectiveResult:
    """The transmons of the full transmons-plus-resonator model beside the ideal model they map to
    (``qbhw pulse collective``): the steady state (``time_us`` None) or the state at ``time_us`` from |g...g> and
    a thermal resonator.

    ``device``: a CollectiveDevice (default ``synthetic_collective_device()``); ``coupling_mhz``, ``kappa_mhz``,
    ``thermal_photons`` | ``temperature``, ``t1_us``, ``t2_us`` replace its values (``collective_device``).
    ``levels``: transmon levels (default 3 where it fits, module docstring); ``cutoff``: the resonator's (default
    from its thermal tail); ``cutoff_tolerance``: the largest population allowed in its top level. ``engine``:
    "auto"/"exact", "qutip" or "dynamics" (time evolution only; pulse environment). ``imperfections``: ``all``,
    ``none`` or a list of levels, t1, t2, thermal.
    Raises ParameterError (bad or too large input, before any work; a resonator state that fills its top Fock
    level names ``cutoff``), MissingDependencyError, QbhwError (a singular steady-state system).
    """
    overrides = dict(
        coupling_mhz=coupling_mhz,
        kappa_mhz=kappa_mhz,
        thermal_photons=thermal_photons,
        temperature=temperature,
        t1_us=t1_us,
        t2_us=t2_us,
    )
    if time_us is not None:
        time_us = _validate.nonnegative("time_us", time_us)
    plan = _plan(
        n,
        device,
        levels=levels,
        cutoff=cutoff,
        engine=engine,
        imperfections=imperfections,
        overrides=overrides,
        dynamics=time_us is not None,
        cutoff_tolerance=cutoff_tolerance,
    )
    params = collective_params_from_device(plan.device, plan.terms.n, imperfections=plan.imperfections)
    if time_us is None:
        ideal = col.steady_state(params)
        rho_t, photons, method = _steady_states(plan)
    else:
        t_ns = units.us_to_ns(time_us)
        ideal = col.state_at(params, units.time_ns_to_reference(t_ns, plan.device.reference_ghz))
        states, method = _trajectory_states(plan, np.array([t_ns]))
        rho_t, photons = states[0]
    ideal_state = col.dicke_density_matrix(ideal.state)
    pulse, rho_q = _pulse_figures(rho_t, photons, plan, ideal_state)
    return PulseCollectiveResult(
        ideal=_ideal_figures(ideal),
        pulse=pulse,
        params=params,
        time_us=time_us,
        settings=_settings(plan, method),
        qubit_state=_readonly(rho_q),
        ideal_state=_readonly(ideal_state),
        transmon_state=_readonly(rho_t),
    )


def evolve_collective(
    n: int,
    times_us: Sequence[float] | np.ndarray,
    device: CollectiveDevice | None = None,
    **options: Any,
) -> PulseCollectiveTrajectory:
    """Ideal and pulse-level figures at each of ``times_us`` (>= 0, any order) from |g...g> and a thermal
    resonator; ``options`` as ``run_collective`` (coupling_mhz, kappa_mhz, thermal_photons, temperature, t1_us,
    t2_us, levels, cutoff, engine, imperfections, cutoff_tolerance)."""
    try:
        t = np.asarray(times_us, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ParameterError("time_us", "finite values >= 0 (at least one)", times_us) from None
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ParameterError("time_us", "finite values >= 0 (at least one)", times_us)
    if t.size > MAX_TIMES:
        raise ParameterError("time_us", f"at most {MAX_TIMES} values", t.size)
    known = ("coupling_mhz", "kappa_mhz", "thermal_photons", "temperature", "t1_us", "t2_us")
    overrides = {k: options.pop(k) for k in known if k in options}
    plan = _plan(
        n,
        device,
        levels=options.pop("levels", None),
        cutoff=options.pop("cutoff", None),
        engine=options.pop("engine", "auto"),
        imperfections=options.pop("imperfections", "all"),
        overrides=overrides,
        dynamics=True,
        cutoff_tolerance=options.pop("cutoff_tolerance", CUTOFF_TOLERANCE),
    )
    if options:
        raise TypeError(f"unknown options {sorted(options)}")
    params = collective_params_from_device(plan.device, plan.terms.n, imperfections=plan.imperfections)
    times_ns = np.array([units.us_to_ns(float(x)) for x in t])
    model_times = [units.time_ns_to_reference(float(x), plan.device.reference_ghz) for x in times_ns]
    traj = col.evolve(params, model_times)
    states, method = _trajectory_states(plan, times_ns)
    ideal: dict[str, list[float]] = {k: [] for k in ("energy", "ergotropy", "capacity", "purity")}
    pulse: dict[str, list[float]] = {f.name: [] for f in dataclasses.fields(PulseCollectiveFigures)}
    for k, (rho_t, photons) in enumerate(states):
        ref = col.dicke_density_matrix(col.DickePopulations(params.n, traj.j_values, traj.populations[k]))
        figs, _ = _pulse_figures(rho_t, photons, plan, ref)
        for key in pulse:
            pulse[key].append(getattr(figs, key))
        for key in ideal:
            ideal[key].append(float(getattr(traj, key)[k]))
    return PulseCollectiveTrajectory(
        times_us=_readonly(t),
        ideal={k: _readonly(v) for k, v in ideal.items()},
        pulse={k: _readonly(v) for k, v in pulse.items()},
        params=params,
        settings=_settings(plan, method),
    )


def _fit_order(points: Sequence[PulseCollectiveResult]) -> tuple[float | None, int]:
    x = np.array([p.settings["expansion"] for p in points])
    y = np.array([p.pulse.trace_distance for p in points])
    ok = y > ROUNDING_DISTANCE
    if int(ok.sum()) < 3 or np.ptp(np.log(x[ok])) == 0:
        return None, int(ok.sum())
    slope = float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])
    return slope, int(ok.sum())


def sweep_kappa(
    n: int,
    kappa_mhz: Sequence[float] | np.ndarray,
    device: CollectiveDevice | None = None,
    *,
    progress: Callable[[int, int, int], None] | None = None,
    **options: Any,
) -> PulseCollectiveSweep:
    """``run_collective`` at each kappa/2pi of ``kappa_mhz`` (MHz; sorted, duplicates dropped), everything else
    alike: the approach of the pulse-level steady state (or state at ``time_us``) to the ideal model as the
    resonator's decay grows, and the fitted order of the difference in g^2 N/kappa^2. ``progress(done, total,
    index)`` is called after each point.

    The order is 1 where the elimination's corrections ~ g^2 N / kappa^2 dominate (local rates held at a fixed
    ratio to gamma). At a device's fixed T1 and T2 a second correction of order 1/kappa appears: the transmons'
    own linewidth adds to the resonator's in the Purcell rate, 4 g^2/(kappa + 2/T2); it matters where the steady
    state depends on gamma (local rates comparable to gamma), and the fitted order then lies between 1/2 and 1."""
    try:
        ks = np.asarray(kappa_mhz, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ParameterError("kappa_mhz", "a list of positive values", kappa_mhz) from None
    if ks.size == 0:
        raise ParameterError("kappa_mhz", "a non-empty list of positive values", list(ks))
    if ks.size > MAX_SWEEP_POINTS:
        raise ParameterError("kappa_mhz", f"at most {MAX_SWEEP_POINTS} values", ks.size)
    dev = collective_device(device)
    bound = MAX_RATE_FRACTION * units.ghz_to_mhz(dev.reference_ghz)
    ks = np.unique([_check_kappa(float(k), bound) for k in ks])
    options.pop("kappa_mhz", None)
    points: list[PulseCollectiveResult] = []
    for k in ks:  # the first point checks every input before the others run
        points.append(run_collective(n, dev, kappa_mhz=float(k), **options))
        if progress is not None:
            progress(len(points), int(ks.size), len(points) - 1)
    order, used = _fit_order(points)
    return PulseCollectiveSweep(kappa_mhz=_readonly(ks), points=tuple(points), order=order, order_points=used)


def plot_kappa_sweep(sweep: PulseCollectiveSweep) -> Any:
    """Two panels: ergotropy (ideal and pulse level) against kappa/(g sqrt N), and the trace distance between the
    two against g^2 N/kappa^2 on log axes with the slope-1 line of the elimination's corrections. A matplotlib
    Figure (Agg canvas, no process-wide backend change)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    fig = Figure(figsize=(9.0, 3.8))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    ratio = sweep.setting("elimination_ratio")
    ax1.plot(ratio, sweep.column("ideal", "ergotropy"), "k--", label="ideal, gamma = 4 g^2/kappa")
    ax1.plot(ratio, sweep.column("pulse", "ergotropy"), "o-", ms=4, label="pulse level (qubit subspace)")
    ax1.set_xscale("log")
    nice = [v * 10.0**e for e in range(-1, 4) for v in (1.0, 2.0, 5.0)]
    ticks = [v for v in nice if ratio.min() <= v <= ratio.max()]
    if len(ticks) >= 2:  # plain numbers: the log axis's minor labels overlap over a short range
        ax1.set_xticks(ticks, [f"{v:g}" for v in ticks])
        ax1.xaxis.set_minor_formatter(NullFormatter())
    ax1.set_xlabel("kappa / (g sqrt N)")
    ax1.set_ylabel("ergotropy (units of hbar omega_r)")
    ax1.legend(fontsize=8)
    x = sweep.setting("expansion")
    y = sweep.column("pulse", "trace_distance")
    ok = y > ROUNDING_DISTANCE
    if np.any(ok):
        ax2.loglog(x[ok], y[ok], "o-", ms=4, label="trace distance to ideal")
        x0, y0 = x[ok][-1], y[ok][-1]
        ax2.loglog(x[ok], y0 * x[ok] / x0, "k:", label="slope 1 (g^2 N / kappa^2)")
        leak = sweep.column("pulse", "leakage")
        if np.any(leak > ROUNDING_DISTANCE):
            ax2.loglog(x[leak > ROUNDING_DISTANCE], leak[leak > ROUNDING_DISTANCE], "s--", ms=3, label="leakage (|f>)")
    else:
        ax2.text(0.5, 0.5, "pulse = ideal to rounding", ha="center", transform=ax2.transAxes)
    ax2.set_xlabel("g^2 N / kappa^2")
    ax2.set_ylabel("trace distance")
    order = "" if sweep.order is None else f", fitted order {sweep.order:.2f}"
    ax2.set_title(f"distance to the ideal model{order}", fontsize=9)
    ax2.legend(fontsize=8)
    s = sweep.points[0].settings
    fig.suptitle(
        f"N = {s['n']} transmons ({s['levels']} levels) on {s['device']}: g/2pi = {s['coupling_mhz']:g} MHz, "
        f"n_th = {s['thermal_photons']:.3g}, imperfections {s['imperfections']}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig
