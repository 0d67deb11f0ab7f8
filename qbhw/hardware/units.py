"""Laboratory units <-> qbhw's reference units, in ONE place.

Calibrations store ordinary frequencies f = omega/2pi in GHz (``freq_ghz``), linewidths and couplings as
kappa/2pi and g/2pi in MHz, times in us or ns, temperatures in mK. Ideal models use hbar = k_B = 1 and a reference
angular frequency omega_0 = 2pi f_ref = 1. Then

    omega / omega_0 = f / f_ref,     t * omega_0 = 2pi f_ref t,     gamma / omega_0 = gamma / (2pi f_ref),
    T / omega_0 = k_B T / (h f_ref),

and a thermal qubit of frequency f at temperature T has excited population p_e = 1 / (exp(h f / k_B T) + 1).
h and k_B are the exact SI values (2019 redefinition).
"""

from __future__ import annotations

import math

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.physics.thermal import excited_population

#: Planck constant h in J s (exact)
PLANCK_H = 6.62607015e-34
#: Boltzmann constant k_B in J/K (exact)
BOLTZMANN_K = 1.380649e-23
#: k_B * (1 mK) / h in GHz: the frequency equivalent of one millikelvin (about 0.0208 GHz)
GHZ_PER_MK = BOLTZMANN_K * 1e-3 / PLANCK_H / 1e9


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


def s_to_ns(time_s: float) -> float:
    return time_s * 1e9
