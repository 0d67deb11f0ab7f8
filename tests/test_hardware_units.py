"""Units: exact SI constants, thermal populations, laboratory <-> reference conversions, the plain laboratory
converters, and the one relaxation model (T1, T2, p_e -> rates per ns). Independent values are computed at 40
digits with decimal."""

from __future__ import annotations

import decimal
import math

import pytest

from qbhw.errors import ParameterError
from qbhw.hardware import RelaxationRates, relaxation_rates
from qbhw.hardware import units as u

_CTX = decimal.Context(prec=40)
D = decimal.Decimal
#: k_B/h = 1.380649e-23 / 6.62607015e-34 Hz/K (exact SI), in GHz per mK
K_OVER_H_GHZ_PER_MK = _CTX.divide(D("1.380649e-23"), D("6.62607015e-34")) / D(10) ** 12


def test_units_constants_and_thermal_population() -> None:
    assert pytest.approx(float(K_OVER_H_GHZ_PER_MK), rel=1e-15) == u.GHZ_PER_MK
    # p_e = 1/(exp(h f/k_B T) + 1) at 5 GHz, 50 mK, evaluated independently at 40 digits
    x = _CTX.divide(D(5), D(50) * K_OVER_H_GHZ_PER_MK)
    pe = float(_CTX.divide(1, _CTX.exp(x) + 1))
    assert u.excited_population_at(5.0, 50.0) == pytest.approx(pe, rel=1e-13)
    assert u.effective_temperature_mk(5.0, pe) == pytest.approx(50.0, rel=1e-12)
    assert u.excited_population_at(5.0, 0.0) == 0.0 and u.effective_temperature_mk(5.0, 0.0) == 0.0


def test_thermal_photons_are_bose_einstein() -> None:
    x = _CTX.divide(D("4.4"), D(50) * K_OVER_H_GHZ_PER_MK)
    nbar = float(_CTX.divide(1, _CTX.exp(x) - 1))
    assert u.thermal_photons_at(4.4, 50.0) == pytest.approx(nbar, rel=1e-13)
    assert u.thermal_photons_at(4.4, 0.0) == 0.0
    # a qubit's p_e and a mode's n_th at the same f and T: p_e = n/(2n + 1)
    n = u.thermal_photons_at(5.0, 50.0)
    assert u.excited_population_at(5.0, 50.0) == pytest.approx(n / (2 * n + 1), rel=1e-13)


def test_units_reference_conversions() -> None:
    # omega_0 t = 2 pi f_ref t: 5 GHz x 1 ns = 5 cycles = 10 pi radians
    assert u.time_ns_to_reference(1.0, 5.0) == pytest.approx(10 * math.pi, rel=1e-15)
    # gamma/omega_0 for 1/T1 = 0.01 /us at 5 GHz: 1e4 /s / (2 pi 5e9 /s)
    assert u.rate_per_us_to_reference(0.01, 5.0) == pytest.approx(1e4 / (2 * math.pi * 5e9), rel=1e-15)
    # T/omega_0 = k_B T / (h f_ref)
    assert u.temperature_mk_to_reference(50.0, 5.0) == pytest.approx(50.0 * u.GHZ_PER_MK / 5.0, rel=1e-15)


def test_plain_converters() -> None:
    assert u.ghz_to_rad_per_ns(1.0) == 2 * math.pi  # 1 GHz = 2 pi rad/ns
    assert u.mhz_to_rad_per_ns(10.0) == pytest.approx(2 * math.pi * 0.01, rel=1e-16)
    assert u.rad_per_ns_to_ghz(u.ghz_to_rad_per_ns(4.73)) == pytest.approx(4.73, rel=1e-16)
    assert u.rad_per_ns_to_mhz(u.mhz_to_rad_per_ns(12.5)) == pytest.approx(12.5, rel=1e-15)
    # exact powers of ten: each conversion is the correctly rounded quotient or product
    assert u.hz_to_ghz(4.721905813680797e9) == 4.721905813680797e9 / 1e9
    assert u.ns_to_s(68.0) == 68.0 / 1e9 and u.s_to_ns(6.8e-8) == 6.8e-8 * 1e9
    assert u.us_to_s(185.0) == 185.0 / 1e6 and u.s_to_us(1.85e-4) == 1.85e-4 * 1e6
    assert u.us_to_ns(1.5) == 1500.0 and u.ns_to_us(1500.0) == 1.5
    assert u.mhz_to_ghz(250.0) == 0.25 and u.ghz_to_mhz(0.25) == 250.0 and u.ghz_to_hz(5.0) == 5e9


def test_relaxation_rates() -> None:
    # T1 = 100 us, T2 = 150 us, p_e = 1 %: Gamma_1 = 1e-5 /ns, Gamma_phi = 1/150000 - 1/200000 = 1/600000 /ns
    r = relaxation_rates(100.0, 150.0, 0.01)
    assert isinstance(r, RelaxationRates)
    assert r.decay_per_ns == pytest.approx(0.99e-5, rel=1e-15)
    assert r.excitation_per_ns == pytest.approx(0.01e-5, rel=1e-15)
    assert r.dephasing_per_ns == pytest.approx(1.0 / 600_000.0, rel=1e-12)
    assert r.relaxation_per_ns == pytest.approx(1e-5, rel=1e-15)  # 1/T1
    assert r.coherence_decay_per_ns == pytest.approx(1.0 / 150_000.0, rel=1e-12)  # 1/T2
    assert r.excited_population == pytest.approx(0.01, rel=1e-14)
    # T2 = 2 T1: no pure dephasing (exactly 0, never a negative rate from rounding)
    assert relaxation_rates(73.1, 146.2, 0.0).dephasing_per_ns == 0.0


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        ((100.0, 200.1, 0.0), "t2_us"),
        ((0.0, 1.0, 0.0), "t1_us"),
        ((1.0, -1.0, 0.0), "t2_us"),
        ((1.0, 1.0, 0.5), "excited_population"),
    ],
)
def test_relaxation_rates_refuse_unphysical_input(args: tuple[float, float, float], parameter: str) -> None:
    with pytest.raises(ParameterError) as info:
        relaxation_rates(*args)
    assert info.value.parameter == parameter
