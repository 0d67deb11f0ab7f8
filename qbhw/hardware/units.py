"""Laboratory units <-> qbhw's reference units, and between laboratory units, in ONE place.

Calibrations store ordinary frequencies f = omega/2pi in GHz (``freq_ghz``), linewidths and couplings as
kappa/2pi and g/2pi in MHz, times in us or ns, temperatures in mK; Qiskit wants seconds and Hz, pulse-level
Hamiltonians angular frequencies in rad/ns. The plain converters below (``ghz_to_rad_per_ns``, ``us_to_ns``,
``ns_to_s``, ...) do no range checks (callers validate the quantity itself) and multiply or divide by exact powers
of ten, so each conversion is correctly rounded. ``relaxation_rates`` turns a qubit's
(T1, T2, p_e) into the rates per ns of its Lindbladian, for the Aer noise model and the pulse level alike.

Ideal models use hbar = k_B = 1 and a reference angular frequency omega_0 = 2pi f_ref = 1. Then

    omega / omega_0 = f / f_ref,     t * omega_0 = 2pi f_ref t,     gamma / omega_0 = gamma / (2pi f_ref),
    T / omega_0 = k_B T / (h f_ref),

and a thermal qubit of frequency f at temperature T has excited population p_e = 1 / (exp(h f / k_B T) + 1).
h and k_B are the exact SI values (2019 redefinition).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.physics.thermal import bose_einstein, excited_population

#: Planck constant h in J s (exact)
PLANCK_H = 6.62607015e-34
#: Boltzmann constant k_B in J/K (exact)
BOLTZMANN_K = 1.380649e-23
#: k_B * (1 mK) / h in GHz: the frequency equivalent of one millikelvin (about 0.0208 GHz)
GHZ_PER_MK = BOLTZMANN_K * 1e-3 / PLANCK_H / 1e9

_TWO_PI = 2.0 * math.pi

# ---------------------------------------------------------------------------------------------- plain converters


def ghz_to_rad_per_ns(freq_ghz: float) -> float:
    """Angular frequency omega = 2pi f in rad/ns of an ordinary frequency f in GHz."""
    return _TWO_PI * freq_ghz


def rad_per_ns_to_ghz(omega_rad_per_ns: float) -> float:
    """Ordinary frequency f = omega/2pi in GHz of an angular frequency in rad/ns."""
    return omega_rad_per_ns / _TWO_PI


def mhz_to_rad_per_ns(freq_mhz: float) -> float:
    """Angular frequency (or rate) 2pi f in rad/ns of f in MHz (kappa/2pi, g/2pi, J/2pi)."""
    return _TWO_PI * freq_mhz / 1e3


def rad_per_ns_to_mhz(omega_rad_per_ns: float) -> float:
    """f = omega/2pi in MHz of an angular frequency in rad/ns."""
    return omega_rad_per_ns / _TWO_PI * 1e3


def mhz_to_ghz(freq_mhz: float) -> float:
    return freq_mhz / 1e3


def ghz_to_mhz(freq_ghz: float) -> float:
    return freq_ghz * 1e3


def hz_to_ghz(freq_hz: float) -> float:
    return freq_hz / 1e9


def ghz_to_hz(freq_ghz: float) -> float:
    return freq_ghz * 1e9


def us_to_ns(time_us: float) -> float:
    return time_us * 1e3


def ns_to_us(time_ns: float) -> float:
    return time_ns / 1e3


def ns_to_s(time_ns: float) -> float:
    return time_ns / 1e9


def s_to_ns(time_s: float) -> float:
    return time_s * 1e9


def us_to_s(time_us: float) -> float:
    return time_us / 1e6


def s_to_us(time_s: float) -> float:
    return time_s * 1e6


# ---------------------------------------------------------------------------------------------- relaxation


@dataclass(frozen=True)
class RelaxationRates:
    """Rates per ns of a qubit's thermal relaxation and pure dephasing (docs/physics.md sections 0 and 6.1).

    Lindbladian (b the lowering operator; sigma- for a qubit, the transmon's annihilation operator at the pulse
    level): ``decay_per_ns`` D[b] + ``excitation_per_ns`` D[b^dag] + 2 ``dephasing_per_ns`` D[b^dag b]. For a
    qubit, 2 Gamma_phi D[b^dag b] = (Gamma_phi/2) D[sigma_z]: populations relax to p_e at Gamma_1 = 1/T1 and
    coherences decay at Gamma_1/2 + Gamma_phi = 1/T2.
    """

    decay_per_ns: float  #: Gamma_down = (1 - p_e)/T1
    excitation_per_ns: float  #: Gamma_up = p_e/T1
    dephasing_per_ns: float  #: Gamma_phi = 1/T2 - 1/(2 T1) >= 0

    @property
    def relaxation_per_ns(self) -> float:
        """Gamma_1 = Gamma_down + Gamma_up = 1/T1."""
        return self.decay_per_ns + self.excitation_per_ns

    @property
    def coherence_decay_per_ns(self) -> float:
        """Gamma_2 = Gamma_1/2 + Gamma_phi = 1/T2."""
        return 0.5 * self.relaxation_per_ns + self.dephasing_per_ns

    @property
    def excited_population(self) -> float:
        """The stationary excited population Gamma_up/Gamma_1 = p_e."""
        g1 = self.relaxation_per_ns
        return self.excitation_per_ns / g1 if g1 > 0.0 else 0.0


def relaxation_rates(t1_us: float, t2_us: float, excited_population: float) -> RelaxationRates:
    """The rates per ns of ``RelaxationRates`` for T1, T2 (us) and the thermal excited population p_e:
    Gamma_down = (1 - p_e)/T1, Gamma_up = p_e/T1, Gamma_phi = 1/T2 - 1/(2 T1) (requires T2 <= 2 T1; a negative
    Gamma_phi within rounding, |Gamma_phi| <= 1e-12/T2, is taken as 0)."""
    t1 = us_to_ns(_validate.positive("t1_us", t1_us))
    t2 = us_to_ns(_validate.positive("t2_us", t2_us))
    p = _validate.finite("excited_population", excited_population)
    if not 0.0 <= p < 0.5:
        raise ParameterError("excited_population", "in [0, 0.5)", excited_population)
    dephasing = 1.0 / t2 - 0.5 / t1
    if dephasing < 0.0:
        if dephasing < -1e-12 / t2:
            raise ParameterError("t2_us", f"<= 2*t1_us = {2.0 * t1_us:g}", t2_us)
        dephasing = 0.0
    return RelaxationRates(decay_per_ns=(1.0 - p) / t1, excitation_per_ns=p / t1, dephasing_per_ns=dephasing)


def temperature_mk_to_ghz(temperature_mk: float) -> float:
    """k_B T / h in GHz for T in mK."""
    return _validate.nonnegative("temperature_mk", temperature_mk) * GHZ_PER_MK


def ghz_to_temperature_mk(freq_ghz: float) -> float:
    """The temperature T (mK) with k_B T = h f, for f in GHz."""
    return _validate.nonnegative("freq_ghz", freq_ghz) / GHZ_PER_MK


def excited_population_at(freq_ghz: float, temperature_mk: float) -> float:
    """Thermal excited population 1/(exp(h f / k_B T) + 1) of a qubit at f (GHz) and T (mK); 0 at T = 0."""
    freq_ghz = _validate.positive("freq_ghz", freq_ghz)
    return excited_population(freq_ghz, temperature_mk_to_ghz(temperature_mk))


def thermal_photons_at(freq_ghz: float, temperature_mk: float) -> float:
    """Bose-Einstein mean photon number 1/(exp(h f / k_B T) - 1) of a mode at f (GHz) and T (mK); 0 at T = 0."""
    freq_ghz = _validate.positive("freq_ghz", freq_ghz)
    return bose_einstein(freq_ghz, temperature_mk_to_ghz(temperature_mk))


def effective_temperature_mk(freq_ghz: float, excited_population: float) -> float:
    """Inverse of ``excited_population_at``: T = h f / (k_B ln((1 - p_e)/p_e)) in mK; 0 for p_e = 0.

    Requires 0 <= p_e < 1/2 (p_e = 1/2 is infinite temperature).
    """
    freq_ghz = _validate.positive("freq_ghz", freq_ghz)
    p = _validate.finite("excited_population", excited_population)
    if not 0.0 <= p < 0.5:
        raise ParameterError("excited_population", "in [0, 0.5)", excited_population)
    if p == 0.0:
        return 0.0
    return ghz_to_temperature_mk(freq_ghz / math.log((1.0 - p) / p))


def frequency_to_reference(freq_ghz: float, reference_ghz: float) -> float:
    """omega / omega_0 = f / f_ref."""
    return _validate.finite("freq_ghz", freq_ghz) / _validate.positive("reference_ghz", reference_ghz)


def time_ns_to_reference(duration_ns: float, reference_ghz: float) -> float:
    """Dimensionless time omega_0 t = 2pi f_ref t, for t in ns and f_ref in GHz."""
    duration_ns = _validate.nonnegative("duration_ns", duration_ns)
    return 2.0 * math.pi * _validate.positive("reference_ghz", reference_ghz) * duration_ns


def rate_per_us_to_reference(rate_per_us: float, reference_ghz: float) -> float:
    """gamma / omega_0 for a rate in 1/us (e.g. 1/T1) and f_ref in GHz: gamma / (2pi f_ref * 1e3 /us)."""
    rate_per_us = _validate.nonnegative("rate_per_us", rate_per_us)
    return rate_per_us / (2.0 * math.pi * _validate.positive("reference_ghz", reference_ghz) * 1e3)


def temperature_mk_to_reference(temperature_mk: float, reference_ghz: float) -> float:
    """T / omega_0 = k_B T / (h f_ref) for T in mK."""
    return temperature_mk_to_ghz(temperature_mk) / _validate.positive("reference_ghz", reference_ghz)
