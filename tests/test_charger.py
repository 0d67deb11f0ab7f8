"""Charger-battery spins against docs/physics.md section 2.2: closed forms, identities and QuTiP.

Tolerances: 1e-9 for the 10-digit reference table (it is printed to 10 digits); 1e-12 where two exact
computations of the same number meet (closed form vs matrix exponential); 1e-8 against qutip.sesolve run with
atol = rtol = 1e-12.
"""

import numpy as np
import pytest
import qutip
import scipy.linalg as sla
from oracles.models import charger_hamiltonian, charger_initial_state

from qbhw.errors import ParameterError
from qbhw.models import charger as ch

REF = ch.ChargerParams(omega_b=1.0, omega_c=1.0, j1=1.0, j2=0.5)

# docs/physics.md 2.2, omega_b = omega_c = 1, J1 = 1, J2 = 0.5
TABLE = [
    # t, P_b, C_b, E, F3, B_max, I, T_b, dC
    (
        0.3,
        0.0873321925,
        1.6506712298,
        0.5646424734,
        1.2797039679,
        2.2967987485,
        0.5646424734,
        0.6483014108,
        0.6986575404,
    ),
    (
        np.pi / 8,
        0.1464466094,
        1.4142135624,
        0.7071067812,
        1.4142135624,
        2.4494897428,
        0.7071067812,
        0.6123724357,
        1.1715728753,
    ),
    (
        0.6,
        0.3188211228,
        0.7247155090,
        0.9320390860,
        1.6545070914,
        2.7340057482,
        0.9320390860,
        0.5318136756,
        2.5505689821,
    ),
    (np.pi / 4, 0.5, 0.0, 1.0, 1.7320508076, 2.8284271247, 1.0, 0.5, 4.0),
    (
        1.0,
        0.7080734183,
        0.8322936731,
        0.9092974268,
        1.6290008044,
        2.7031994454,
        0.9092974268,
        0.5415667525,
        2.3354126538,
    ),
]


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"t={r[0]:.4f}")
def test_reference_table(row):
    t, pb, cb, e, f3, bmax, imag, tb, dc = row
    r = ch.evolve(REF, t)
    got = [
        r.battery_excitation,
        r.capacity,
        r.concurrence,
        r.steering,
        r.chsh,
        r.imaginarity,
        r.texture_battery,
        r.residual_capacity,
    ]
    np.testing.assert_allclose(got, [pb, cb, e, f3, bmax, imag, tb, dc], atol=1e-9)
    assert r.texture_global == pytest.approx(0.8660254038, abs=1e-9)


def test_battery_ergotropy_reference():
    assert ch.evolve(REF, 1.0).ergotropy == pytest.approx(0.8322936731, abs=1e-9)
    for t in (0.3, np.pi / 8, 0.6, np.pi / 4):  # P_b <= 1/2: the diagonal battery state is passive
        assert ch.evolve(REF, t).ergotropy == pytest.approx(0.0, abs=1e-12)


def _random_params(rng):
    return ch.ChargerParams(
        omega_b=rng.uniform(0.2, 3.0), omega_c=rng.uniform(0.2, 3.0), j1=rng.uniform(-2, 2), j2=rng.uniform(-2, 2)
    )


def test_closed_form_equals_matrix_exponential():
    rng = np.random.default_rng(11)
    for _ in range(20):
        p = _random_params(rng)
        t = rng.uniform(0, 10)
        exact = sla.expm(-1j * ch.hamiltonian(p) * t) @ ch.initial_state()
        np.testing.assert_allclose(ch.state(p, t), exact, atol=1e-12)


def test_pure_state_identities_hold_for_any_parameters():
    rng = np.random.default_rng(12)
    for _ in range(40):
        p = _random_params(rng)
        t = rng.uniform(0, 10)
        r = ch.evolve(p, t)
        e = r.concurrence
        omega, delta = p.rabi_frequency, p.detuning
        s = np.sin(omega * t)
        assert (r.capacity / (2 * p.omega_b)) ** 2 + e**2 == pytest.approx(1.0, abs=1e-12)
        assert r.chsh == pytest.approx(2 * np.sqrt(1 + e**2), abs=1e-12)
        assert r.steering == pytest.approx(np.sqrt(1 + 2 * e**2), abs=1e-12)
        assert r.coherence_l1 == pytest.approx(e, abs=1e-12)
        assert r.imaginarity == pytest.approx(abs(p.j1 / omega * np.sin(2 * omega * t)), abs=1e-12)
        a_plus_b_sq = 1 + 2 * (delta * p.j1 / omega**2) * s**2
        assert r.texture_global == pytest.approx(np.sqrt(1 - a_plus_b_sq / 4), abs=1e-12)
        assert r.texture_battery == pytest.approx(0.5 * np.sqrt(1 + (r.capacity / (2 * p.omega_b)) ** 2), abs=1e-12)
        assert r.residual_capacity == pytest.approx(
            2 * (p.omega_b + p.omega_c) * (1 - np.sqrt(max(0.0, 1 - e**2))), abs=1e-9
        )
        pb = (p.j1 / omega) ** 2 * s**2
        assert r.battery_excitation == pytest.approx(pb, abs=1e-12)
        assert r.energy == pytest.approx(2 * p.omega_b * pb, abs=1e-12)
        assert r.ergotropy == pytest.approx(2 * p.omega_b * max(0.0, 2 * pb - 1), abs=1e-12)
        assert r.ergotropy <= r.capacity + 1e-12


def test_resonant_texture_is_constant():
    times = np.linspace(0, 5, 41)
    traj = ch.trajectory(ch.ChargerParams(omega_b=1.3, omega_c=1.3, j1=0.7, j2=-0.2), times)
    np.testing.assert_allclose(traj.texture_global, np.sqrt(3) / 2, atol=1e-12)


def test_trajectory_matches_pointwise_evolution():
    p = ch.ChargerParams(omega_b=1.0, omega_c=1.4, j1=0.8, j2=0.1)
    times = np.array([0.0, 0.2, 1.1, 3.7])
    traj = ch.trajectory(p, times)
    for k, t in enumerate(times):
        r = ch.evolve(p, t)
        assert traj.capacity[k] == r.capacity and traj.concurrence[k] == r.concurrence


def test_against_qutip_sesolve():
    """Independent construction: the QuTiP oracle's Hamiltonian (tests/oracles/models.py) and QuTiP's solver."""
    rng = np.random.default_rng(13)
    p = _random_params(rng)
    h = charger_hamiltonian(p.omega_b, p.omega_c, p.j1, p.j2)
    times = np.linspace(0, 4, 9)
    out = qutip.sesolve(h, charger_initial_state(), times, options={"atol": 1e-12, "rtol": 1e-12})
    for t, psi in zip(times, out.states, strict=True):
        r = ch.evolve(p, t)
        np.testing.assert_allclose(r.state, psi.full().ravel(), atol=1e-8)
        rho = qutip.ket2dm(psi)
        assert r.concurrence == pytest.approx(qutip.concurrence(rho), abs=1e-7)  # qutip uses sqrt(eigs)
        rho_b = rho.ptrace(0)
        assert r.purity == pytest.approx((rho_b * rho_b).tr().real, abs=1e-8)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"omega_b": 0.0}, "omega_b"),
        ({"omega_b": -1.0}, "omega_b"),
        ({"omega_c": float("nan")}, "omega_c"),
        ({"j1": float("inf")}, "j1"),
        ({"j2": float("nan")}, "j2"),
        # extreme but finite values are refused (MAX_ENERGY)
        ({"omega_b": 1e308}, "omega_b"),
        ({"omega_c": 1e7}, "omega_c"),
        ({"j1": -1e308}, "j1"),
        ({"j2": 1e308}, "j2"),
    ],
)
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(ParameterError) as info:
        ch.ChargerParams(**kwargs)
    assert info.value.parameter == field


def test_negative_time_is_rejected():
    with pytest.raises(ParameterError) as info:
        ch.evolve(REF, -0.1)
    assert info.value.parameter == "time"


def test_time_limits_and_finite_results():
    for call in (lambda: ch.evolve(REF, 1e308), lambda: ch.trajectory(REF, np.zeros(ch.MAX_TIMES + 1))):
        with pytest.raises(ParameterError) as info:
            call()
        assert info.value.parameter == "time"
    # the largest allowed phase still gives finite numbers
    r = ch.evolve(REF, ch.MAX_PHASE / REF.rabi_frequency)
    assert np.all(np.isfinite(r.state)) and np.isfinite(r.capacity)
    assert ch.figures_of_merit(REF, ch.initial_state()).time is None  # no time recorded, not nan


def test_results_compare_by_identity():
    """eq=False: results that hold arrays compare by identity instead of raising, and are hashable."""
    r, traj = ch.evolve(REF, 0.3), ch.trajectory(REF, [0.0, 0.3])
    assert r == r and r != ch.evolve(REF, 0.3) and traj == traj
    assert len({r, traj}) == 2
    with pytest.raises(ValueError):
        traj.capacity[0] = 1.0  # read-only arrays
