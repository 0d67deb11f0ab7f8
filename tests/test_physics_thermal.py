"""Thermal factors and Gibbs states (docs/physics.md section 0, all [EXACT]).

n(omega, T) = 1/(e^{omega/T} - 1), p_e = 1/(e^{omega/T} + 1) = n/(2n+1), x = e^{-omega/T} = n/(n+1);
all three vanish at T = 0. Gibbs state exp(-H/T)/Z, at T = 0 the uniform mixture over the ground space.
Qubit convention: basis index 0 = |g>, H = (omega/2) sigma_z with sigma_z = diag(-1, +1).
"""

from __future__ import annotations

import decimal
import warnings

import numpy as np
import pytest
import qutip
import scipy.linalg as sla

from qbhw.errors import ParameterError
from qbhw.physics import (
    boltzmann_ratio,
    bose_einstein,
    ergotropy,
    excited_population,
    gibbs_state,
    passive_state,
)
from qbhw.physics.operators import SIGMA_Z

# Closed forms evaluated at 40 significant digits with the standard library's decimal module: an oracle that
# shares no code (and no float rounding) with numpy.
_CTX = decimal.Context(prec=40)


def _exp_ratio(omega: float, temperature: float) -> decimal.Decimal:
    return _CTX.exp(_CTX.divide(decimal.Decimal(omega), decimal.Decimal(temperature)))


def n_exact(omega: float, temperature: float) -> float:
    return float(_CTX.divide(1, _exp_ratio(omega, temperature) - 1))


def pe_exact(omega: float, temperature: float) -> float:
    return float(_CTX.divide(1, _exp_ratio(omega, temperature) + 1))


# (omega, T, printed value from docs/physics.md section 0, half a unit of its last printed digit)
N_TABLE = [
    (1.0, 2.0, 1.5414940825, 0.5e-10),
    (2.0, 2.0, 0.5819767069, 0.5e-10),
    (1.0, 0.1, 4.5402e-5, 0.5e-9),
]
PE_TABLE = [
    (1.0, 2.0, 0.3775406688, 0.5e-10),
    (2.0, 2.0, 0.2689414214, 0.5e-10),
    (1.0, 0.1, 4.539787e-5, 0.5e-11),
    (0.5, 0.1, 6.692851e-3, 0.5e-9),
]


@pytest.mark.parametrize(("omega", "temperature", "printed", "half_digit"), N_TABLE)
def test_bose_einstein_listed_values(omega: float, temperature: float, printed: float, half_digit: float) -> None:
    value = bose_einstein(omega, temperature)
    # against the 40-digit closed form: only float64 rounding of expm1 and the division (a few ulp) remains
    assert value == pytest.approx(n_exact(omega, temperature), rel=1e-12, abs=0)
    # against docs/physics.md's printed digits: rounding of the printed number (10 digits => 1e-9 relative or better)
    assert abs(value - printed) <= half_digit


@pytest.mark.parametrize(("omega", "temperature", "printed", "half_digit"), PE_TABLE)
def test_excited_population_listed_values(omega: float, temperature: float, printed: float, half_digit: float) -> None:
    value = excited_population(omega, temperature)
    assert value == pytest.approx(pe_exact(omega, temperature), rel=1e-12, abs=0)  # float rounding only
    assert abs(value - printed) <= half_digit  # rounding of the printed number


@pytest.mark.parametrize("omega", [0.3, 1.0, 2.0, 7.5])
@pytest.mark.parametrize("temperature", [0.05, 0.1, 0.5, 1.0, 2.0, 30.0, 1e4])
def test_thermal_factor_identities(omega: float, temperature: float) -> None:
    n = bose_einstein(omega, temperature)
    pe = excited_population(omega, temperature)
    x = boltzmann_ratio(omega, temperature)
    # independent decimal oracle for every (omega, T); float rounding only
    assert n == pytest.approx(n_exact(omega, temperature), rel=1e-12, abs=0)
    assert pe == pytest.approx(pe_exact(omega, temperature), rel=1e-12, abs=0)
    # p_e = n/(2n+1) and x = n/(n+1) = e^{-omega/T}: rearrangements of the same closed form, a few ulp apart
    assert pe == pytest.approx(n / (2 * n + 1), rel=1e-12, abs=0)
    assert x == pytest.approx(n / (n + 1), rel=1e-12, abs=0)
    assert x == pytest.approx(float(_CTX.divide(1, _exp_ratio(omega, temperature))), rel=1e-12, abs=0)
    assert 0.0 < pe < 0.5


@pytest.mark.parametrize("omega", [0.5, 1.0, 3.0])
def test_zero_temperature_limits(omega: float) -> None:
    assert bose_einstein(omega, 0.0) == 0.0
    assert excited_population(omega, 0.0) == 0.0
    assert boltzmann_ratio(omega, 0.0) == 0.0
    # continuity: at T = omega/50 all three are ~ e^{-50} ~ 2e-22, i.e. already 0 to double precision
    t_small = omega / 50
    assert 0.0 < bose_einstein(omega, t_small) < 3e-22
    assert 0.0 < excited_population(omega, t_small) < 3e-22
    assert 0.0 < boltzmann_ratio(omega, t_small) < 3e-22


def test_bose_einstein_deep_zero_temperature_has_no_warning() -> None:
    # n(1, 1e-3) = e^{-1000} underflows to 0 in float64; the correct result is 0.0 without a RuntimeWarning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bose_einstein(1.0, 1e-3) == 0.0


def test_deep_zero_temperature_population_and_ratio() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert excited_population(1.0, 1e-3) == 0.0
        assert boltzmann_ratio(1.0, 1e-3) == 0.0


@pytest.mark.parametrize(
    ("func", "args", "field"),
    [
        (bose_einstein, (0.0, 1.0), "omega"),
        (bose_einstein, (-1.0, 1.0), "omega"),
        (bose_einstein, (1.0, -0.1), "temperature"),
        (excited_population, (1.0, float("nan")), "temperature"),
        (boltzmann_ratio, (float("inf"), 1.0), "omega"),
        (gibbs_state, (np.eye(2), -1.0), "temperature"),
    ],
)
def test_invalid_arguments_name_the_parameter(func, args, field: str) -> None:
    with pytest.raises(ParameterError) as info:
        func(*args)
    assert info.value.parameter == field


@pytest.mark.parametrize(("omega", "temperature"), [(1.0, 2.0), (2.0, 2.0), (1.0, 0.1), (0.5, 0.1)])
def test_qubit_gibbs_state_populations(omega: float, temperature: float) -> None:
    # H = (omega/2) sigma_z, index 0 = |g>: Gibbs = diag(1 - p_e, p_e)
    rho = gibbs_state(0.5 * omega * SIGMA_Z, temperature)
    pe = pe_exact(omega, temperature)
    np.testing.assert_allclose(rho, np.diag([1.0 - pe, pe]), rtol=0, atol=1e-14)  # float rounding


@pytest.mark.parametrize(("omega", "temperature", "levels"), [(1.0, 2.0, 6), (0.7, 0.3, 10), (2.0, 5.0, 25)])
def test_oscillator_gibbs_state_vs_qutip_thermal_dm(omega: float, temperature: float, levels: int) -> None:
    # qutip.thermal_dm(N, n) (method 'operator') = exp(-beta a^dag a)/Z on the truncated space, with
    # n = 1/(e^beta - 1), i.e. exactly the Gibbs state of H = omega a^dag a at T with n = n(omega, T)
    h = omega * np.diag(np.arange(levels, dtype=float))
    expected = qutip.thermal_dm(levels, bose_einstein(omega, temperature)).full()
    np.testing.assert_allclose(gibbs_state(h, temperature), expected, rtol=0, atol=1e-13)  # float rounding


@pytest.mark.parametrize("d", [2, 3, 5, 8])
@pytest.mark.parametrize("temperature", [0.1, 0.7, 3.0])
def test_gibbs_state_vs_expm(rand, d: int, temperature: float) -> None:
    h = rand.hermitian(d)
    expected = sla.expm(-h / temperature)
    expected /= np.trace(expected)
    # expm (Pade) vs eigendecomposition: both backward stable, agreement ~1e-13 at ||H/T|| <~ 30
    np.testing.assert_allclose(gibbs_state(h, temperature), expected, rtol=0, atol=1e-11)
    qutip_gibbs = (-qutip.Qobj(h) / temperature).expm()
    np.testing.assert_allclose(gibbs_state(h, temperature), (qutip_gibbs / qutip_gibbs.tr()).full(), atol=1e-11)


def test_gibbs_state_zero_temperature_degenerate_ground_space(rand) -> None:
    # three random levels (gaps >= 0.2) of multiplicities 3, 2, 1: at T = 0 the uniform mixture of the 3 ground states
    h, _ = rand.degenerate_hamiltonian((3, 2, 1))
    _, evecs = np.linalg.eigh(h)
    ground = evecs[:, :3]
    expected = ground @ ground.conj().T / 3
    np.testing.assert_allclose(gibbs_state(h, 0.0), expected, rtol=0, atol=1e-12)  # eigh rounding
    # and the T -> 0+ limit is continuous: at T = 0.2/40 each excited weight is <= e^{-40} ~ 4e-18
    np.testing.assert_allclose(gibbs_state(h, 0.2 / 40), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("multiplicities", [(1, 1, 1, 1), (2, 1), (1, 3), (2, 2, 2), (1, 2, 3, 1), (4,)])
@pytest.mark.parametrize("temperature", [0.0, 0.3, 1.0, 10.0])
def test_gibbs_state_is_passive(rand, multiplicities: tuple[int, ...], temperature: float) -> None:
    h, _ = rand.degenerate_hamiltonian(multiplicities)
    rho = gibbs_state(h, temperature)
    # W = Tr[rho H] - sum r_desc e_asc: both terms O(1), cancellation leaves rounding ~1e-15
    assert abs(ergotropy(rho, h)) < 1e-12
    # the passive rearrangement of a Gibbs state is the Gibbs state itself (also with degenerate levels,
    # where the Gibbs weights are equal inside each level)
    np.testing.assert_allclose(passive_state(rho, h), rho, rtol=0, atol=1e-12)
