"""Laboratory units -> the pulse layer's units (ns, rad/ns), in one small module.

Inside ``qbhw.pulse`` times are in ns and angular frequencies, couplings and rates in rad/ns (hbar = 1), so that
H t is dimensionless. Device data carry ordinary frequencies f = omega/2pi (GHz, MHz: ``freq_ghz``,
``coupling_mhz`` = g/2pi, ``kappa_mhz`` = kappa/2pi) and times in us (``t1_us``). These converters are the only
place the pulse layer changes units; they move to ``qbhw/hardware/units.py`` names once that module has them.
"""

from __future__ import annotations

import math

TWO_PI = 2.0 * math.pi


def ghz_to_rad_per_ns(freq_ghz: float) -> float:
    """omega = 2 pi f: f in GHz -> rad/ns."""
    return TWO_PI * float(freq_ghz)


def mhz_to_rad_per_ns(freq_mhz: float) -> float:
    """omega = 2 pi f: f in MHz -> rad/ns (also kappa/2pi in MHz -> kappa in 1/ns)."""
    return TWO_PI * float(freq_mhz) * 1e-3


def rad_per_ns_to_mhz(omega: float) -> float:
    """Inverse of ``mhz_to_rad_per_ns``."""
    return float(omega) / TWO_PI * 1e3


def us_to_ns(duration_us: float) -> float:
    return float(duration_us) * 1e3


def rate_per_ns(time_us: float | None) -> float:
    """1/T for T in us, as a rate in 1/ns; 0 for T = None (no such process)."""
    return 0.0 if time_us is None else 1.0 / us_to_ns(time_us)


def thermal_occupation(excited_population: float) -> float:
    """n with p_e = n/(2n+1) (a two-level system in equilibrium with a bath of mean occupation n), for p_e < 1/2."""
    p = float(excited_population)
    return p / (1.0 - 2.0 * p)
