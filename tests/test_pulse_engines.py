"""The three pulse engines on one model: agreement, frames, relaxation to the right thermal states, bad engines.

Tolerances. The brief's agreement threshold is 1e-6 in trace distance for ODE engines run at rtol <= 1e-8 (measured
here ~1e-10 for QuTiP and qiskit-dynamics at rtol 1e-10 against the exact engine); the exact engine against
closed forms holds to 1e-12 (matrix exponentials).
"""

import dataclasses
import math
import os

import numpy as np
import pytest

from qbhw.errors import MissingDependencyError, ParameterError
from qbhw.models import micromaser as mm
from qbhw.physics import distance
from qbhw.pulse import (
    Imperfections,
    PulseOptions,
    Resonator,
    Schedule,
    Track,
    Transmon,
    build_collision,
    cavity_qed_model,
    collision_channel,
    dynamics_available,
    exact_supported,
    propagate,
    synthetic_micromaser_device,
)
from tests.oracles import pulse as oracle

ENV = os.environ.get("QBHW_ENV")
DEVICE = synthetic_micromaser_device()
ENGINES = ["qutip"] + (["dynamics"] if dynamics_available() else [])


def _lossy_device():
    """Short coherence times and a fast reset, so that dissipation matters within one short collision."""
    t = dataclasses.replace(DEVICE.transmon, t1_us=5.0, t2_us=4.0, reset_duration_ns=40.0, excited_population=0.05)
    r = dataclasses.replace(DEVICE.resonator, kappa_mhz=0.5, thermal_photons=0.05)
    return dataclasses.replace(DEVICE, transmon=t, resonator=r)


def _shaped_collision(cutoff=4):
    params = mm.MicromaserParams(g_tau=1.0, p_excited=0.4, coherence=0.7, collisions=1, cutoff=cutoff)
    return build_collision(
        params,
        _lossy_device(),
        levels=3,
        cutoff=cutoff,
        imperfections=Imperfections.all(),
        options=PulseOptions(drive_ns=8.0),
    )


def _map_distance(a, b, d):
    """Largest trace distance between the images of the basis states |i><i| and (|i>+|j>)(<i|+<j|)/2."""
    worst = 0.0
    for i in range(d):
        for j in range(i, d):
            v = np.zeros(d, dtype=complex)
            v[i] += 1
            v[j] += 1
            rho = np.outer(v, v.conj()) / np.vdot(v, v).real
            x = (a @ rho.reshape(-1)).reshape(d, d)
            y = (b @ rho.reshape(-1)).reshape(d, d)
            worst = max(worst, distance.trace_distance(x, y))
    return worst


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_agree_on_one_state(engine, rand):
    col = _shaped_collision(cutoff=3)
    rho = np.kron(np.diag([0.9, 0.1, 0.0]), rand.density_matrix(3))
    for sched in (col.prep_schedules[0][1], col.flux):
        a = propagate(col.model, sched, rho, engine="exact")
        b = propagate(col.model, sched, rho, engine=engine, rtol=1e-9)
        assert distance.trace_distance(a, b) < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_engines_agree_on_a_dissipative_shaped_pulse_collision(engine):
    col = _shaped_collision()
    exact = collision_channel(col, engine="exact")
    other = collision_channel(col, engine=engine, rtol=1e-8)
    assert other.engines["preparation"] == engine and other.engines["flux"] == engine
    assert _map_distance(exact.matrix, other.matrix, 4) < 1e-6
    assert np.max(np.abs(exact.leakage - other.leakage)) < 1e-6


@pytest.mark.slow
@pytest.mark.skipif(not dynamics_available(), reason="qiskit-dynamics lives in the pulse environment")
def test_dynamics_agrees_with_qutip(rand):
    col = _shaped_collision()
    rho = np.kron(np.diag([0.9, 0.1, 0.0]), rand.density_matrix(4))
    for sched in (col.prep_schedules[0][1], col.flux):
        a = propagate(col.model, sched, rho, engine="qutip", rtol=1e-9)
        b = propagate(col.model, sched, rho, engine="dynamics", rtol=1e-9)
        assert distance.trace_distance(a, b) < 1e-6


@pytest.mark.skipif(ENV != "default", reason="the default environment has no qiskit-dynamics")
def test_dynamics_in_the_default_environment_says_where_to_get_it():
    col = _shaped_collision()
    with pytest.raises(MissingDependencyError) as info:
        propagate(col.model, col.flux, np.eye(12) / 12, engine="dynamics")
    text = str(info.value)
    assert "\n" not in text and "pip install 'qbhw[pulse]'" in text and "qiskit 1.3.0" in text


def test_unknown_engine_and_exact_on_what_it_cannot_do():
    col = _shaped_collision()
    with pytest.raises(ParameterError, match="engine"):
        propagate(col.model, col.flux, np.eye(12) / 12, engine="magic")
    with pytest.raises(ParameterError, match="frame"):
        propagate(col.model, col.flux, np.eye(12) / 12, engine="exact", frame="lab")
    # a drive with a carrier beside a detuning is constant in the drive's frame; a Hermitian term with a carrier is not
    good = Schedule(
        np.array([0.0, 1.0]), (Track("drive", np.array([0.1]), carrier=1.0), Track("detuning", np.array([0.5])))
    )
    assert exact_supported(col.model, good) is None
    bad = Schedule(np.array([0.0, 1.0]), (Track("detuning", np.array([0.5]), carrier=1.0),))
    assert "carrier" in str(exact_supported(col.model, bad))
    with pytest.raises(ParameterError, match="engine"):
        propagate(col.model, bad, np.eye(12) / 12, engine="exact")
    model_cr = cavity_qed_model(DEVICE, levels=2, cutoff=3, imperfections=Imperfections.none(), rwa=False)
    assert "rotating-wave" in str(exact_supported(model_cr, col.flux))


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_lab_and_rotating_frames_agree_with_the_rotating_wave_approximation(engine, rand):
    col = _shaped_collision(cutoff=3)
    rho = rand.density_matrix(9)
    rot = propagate(col.model, col.flux, rho, engine=engine, frame="rotating", rtol=1e-10)
    lab = propagate(col.model, col.flux, rho, engine=engine, frame="lab", rtol=1e-10)
    assert distance.trace_distance(rot, lab) < 1e-6


def test_counter_rotating_terms_give_a_bloch_siegert_sized_correction():
    # g(a + a^dag)(b + b^dag) instead of g(a^dag b + a b^dag): corrections of order g/(omega_q + omega_r) ~ 1e-3
    params = mm.MicromaserParams(g_tau=math.pi / 2, p_excited=1.0, coherence=0.0, collisions=1, cutoff=3)
    col = build_collision(
        params, DEVICE, levels=2, cutoff=3, imperfections=Imperfections.none(), options=PulseOptions()
    )
    rwa_model = col.model
    full_model = cavity_qed_model(DEVICE, levels=2, cutoff=3, imperfections=Imperfections.none(), rwa=False)
    flux = Schedule(
        col.flux.edges,
        col.flux.tracks + (Track("counter", np.ones(col.flux.spans), carrier=2 * rwa_model.frame_frequencies[1]),),
    )
    psi = np.zeros(6, dtype=complex)
    psi[1 * 3 + 0] = 1.0  # |e, 0>
    rho = np.outer(psi, psi.conj())
    a = propagate(rwa_model, col.flux, rho, engine="qutip", frame="lab", rtol=1e-10)
    b = propagate(full_model, flux, rho, engine="qutip", frame="lab", rtol=1e-10)
    g_over_sum = DEVICE.coupling_mhz * 1e-3 / (2 * DEVICE.resonator.freq_ghz)
    assert abs(a[1, 1] - 1.0) < 1e-8  # the RWA swap is complete: |g, 1>
    assert 0.3 * g_over_sum < distance.trace_distance(a, b) < 10 * g_over_sum  # measured 1.7 g/(omega_q + omega_r)


@pytest.mark.parametrize("levels", [2, 3])
def test_transmon_with_t1_and_thermal_population_relaxes_to_it(levels):
    t = Transmon(freq_ghz=5.0, anharmonicity_ghz=-0.25, t1_us=0.05, excited_population=0.08, tunable_range_ghz=(4, 6))
    dev = dataclasses.replace(DEVICE, transmon=t)
    model = cavity_qed_model(dev, levels=levels, cutoff=2, imperfections=Imperfections.only("t1", "thermal"))
    sched = Schedule(np.array([0.0, 2000.0]), (Track("detuning", np.array([-6.0])),))  # 40 T1, parked, uncoupled
    start = np.zeros((2 * levels, 2 * levels), dtype=complex)
    start[levels - 1, levels - 1] = 1.0  # top transmon level (x) vacuum
    out = propagate(model, sched, start, engine="exact")
    q = out.reshape(levels, 2, levels, 2).trace(axis1=1, axis2=3)
    n = 0.08 / (1 - 2 * 0.08)
    reference = oracle.relaxed_oscillator(levels, 1.0 / 50.0, n)
    assert np.max(np.abs(q - reference)) < 1e-12
    if levels == 2:
        assert q[1, 1].real == pytest.approx(0.08, abs=1e-12)


def test_resonator_with_kappa_and_thermal_photons_relaxes_to_the_thermal_state():
    r = Resonator(freq_ghz=6.0, kappa_mhz=5.0, thermal_photons=0.3)
    dev = dataclasses.replace(DEVICE, resonator=r)
    model = cavity_qed_model(dev, levels=2, cutoff=8, imperfections=Imperfections.only("kappa", "thermal"))
    sched = Schedule(np.array([0.0, 3000.0]), (Track("detuning", np.array([-6.0])),))  # ~94 / kappa
    start = np.zeros((16, 16), dtype=complex)
    start[7, 7] = 1.0  # |g> (x) |7>
    out = propagate(model, sched, start, engine="exact")
    cav = out.reshape(2, 8, 2, 8).trace(axis1=0, axis2=2)
    assert np.max(np.abs(cav - oracle.truncated_thermal_state(8, 0.3))) < 1e-12


def test_exact_drive_with_the_coupling_on_matches_a_tight_qutip_run(rand):
    # a drive pulse while the coupling is on: the exact engine's shifted Taylor series in the drive's frame
    col = _shaped_collision(cutoff=3)
    sched = col.prep_schedules[0][1]
    rho = rand.density_matrix(9)
    a = propagate(col.model, sched, rho, engine="exact")
    b = propagate(col.model, sched, rho, engine="qutip", rtol=1e-12)
    assert distance.trace_distance(a, b) < 1e-9
