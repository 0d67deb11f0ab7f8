"""Device parameters, reading them from a calibration, imperfection switches, envelopes; one-line errors."""

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest

from qbhw.errors import CalibrationError, ParameterError
from qbhw.models import micromaser as mm
from qbhw.pulse import (
    IMPERFECTIONS,
    CavityQEDDevice,
    Drag,
    FlatTop,
    Gaussian,
    Imperfections,
    PulseOptions,
    Resonator,
    Transmon,
    build_collision,
    envelope,
    from_calibration,
    parse_imperfections,
    propagate,
    run_micromaser,
    sample,
    synthetic_micromaser_device,
)

# ------------------------------------------------------------------------------------------------ devices


def _qubit(**over):
    base = dict(
        freq_ghz=5.0,
        anharmonicity_ghz=-0.3,
        t1_us=100.0,
        t2_us=80.0,
        excited_population=0.01,
        reset_error=0.02,
        reset_duration_ns=800.0,
        tunable_range_ghz=(4.0, 6.5),
        flux_rise_ns=3.0,
    )
    base.update(over)
    return SimpleNamespace(**base)


def _resonator(**over):
    base = dict(freq_ghz=6.1, kappa_mhz=0.004, coupling_mhz=12.0, qubit=1, role="storage", thermal_photons=0.01)
    base.update(over)
    return SimpleNamespace(**base)


def _calibration(qubits=None, resonators=None, **over):
    """A stand-in with the attribute names of calibration schema v2."""
    return SimpleNamespace(
        name=over.get("name", "standin"),
        dt_ns=over.get("dt_ns", 0.5),
        qubits=qubits if qubits is not None else (_qubit(tunable_range_ghz=None), _qubit()),
        resonators=resonators
        if resonators is not None
        else (_resonator(qubit=0, role="readout", coupling_mhz=60.0, kappa_mhz=0.2), _resonator()),
    )


def test_from_calibration_reads_the_schema_v2_names():
    dev = from_calibration(_calibration())
    assert dev.name == "standin:q1-r1"
    assert dev.coupling_mhz == 12.0 and dev.sample_ns == 0.5
    assert dev.transmon.tunable_range_ghz == (4.0, 6.5) and dev.transmon.flux_rise_ns == 3.0
    assert dev.transmon.reset_error == 0.02 and dev.transmon.reset_duration_ns == 800.0
    assert dev.resonator.kappa_mhz == 0.004 and dev.resonator.thermal_photons == 0.01
    dev.require_micromaser_host()


@pytest.mark.parametrize(
    ("cal", "needle"),
    [
        (_calibration(resonators=(_resonator(role="readout"),)), "no storage resonator"),
        (_calibration(resonators=()), "no storage resonator .it has no resonators"),
        (_calibration(resonators=(_resonator(qubit=0),)), "qubit 0, which is not flux-tunable"),
        (_calibration(qubits=(_qubit(), _qubit(tunable_range_ghz=(4.0, 5.5)))), "does not|not to resonator 1"),
        (_calibration(qubits=(_qubit(), _qubit(flux_rise_ns=None))), r"qubits\[1\].flux_rise_ns is missing"),
        (_calibration(resonators=(_resonator(thermal_photons=None),)), r"resonators\[0\].thermal_photons is missing"),
        (_calibration(qubits=(_qubit(), _qubit(t2_us=500.0))), r"qubits\[1\].t2_us must be <= 2\*t1_us"),
    ],
)
def test_a_device_that_cannot_host_the_micromaser_says_why(cal, needle):
    with pytest.raises(CalibrationError, match=needle) as info:
        from_calibration(cal)
    assert "\n" not in str(info.value)


def test_embedded_devices():
    from pathlib import Path

    from qbhw.hardware import load_calibration

    # schema v2: the synthetic cavity-QED device has a flux-tunable transmon and a storage resonator per pair
    dev = from_calibration(load_calibration("synthetic_cqed"))
    assert dev.resonator.role == "storage" and dev.transmon.reaches(dev.resonator.freq_ghz)
    params = mm.MicromaserParams(g_tau=1.0, p_excited=0.5, coherence=1.0, collisions=3, cutoff=6)
    r = run_micromaser(params, load_calibration("synthetic_cqed"), imperfections="none")
    assert r.metadata["device"] == dev.name and abs(r.pulse.ergotropy - mm.evolve(params).ergotropy) < 1e-8
    # a schema-v1 file loads with readout resonators only; a transmon-only device has no resonator at all
    v1 = Path(__file__).resolve().parent / "data" / "calibration_v1_synthetic_cqed.json"
    with pytest.raises(CalibrationError, match="'synthetic_cqed' cannot host the micromaser: it has no storage"):
        run_micromaser(params, load_calibration(v1))
    with pytest.raises(CalibrationError, match="'fake_torino' cannot host the micromaser.*no resonators"):
        run_micromaser(params, load_calibration("fake_torino"))


def test_device_validation_names_the_field():
    for kwargs, field in [
        (dict(t1_us=-1.0), "t1_us"),
        (dict(t1_us=10.0, t2_us=30.0), "t2_us"),
        (dict(excited_population=0.6), "excited_population"),
        (dict(reset_duration_ns=-5.0), "reset_duration_ns"),
        (dict(flux_rise_ns=-1.0), "flux_rise_ns"),
        (dict(tunable_range_ghz=(6.0, 5.0)), "tunable_range_ghz"),
    ]:
        with pytest.raises(CalibrationError) as info:
            Transmon(freq_ghz=5.0, anharmonicity_ghz=-0.3, **kwargs)
        assert info.value.field == field
    with pytest.raises(CalibrationError, match="kappa_mhz"):
        Resonator(freq_ghz=6.0, kappa_mhz=-1.0)
    with pytest.raises(CalibrationError, match="role"):
        Resonator(freq_ghz=6.0, role="memory")
    with pytest.raises(CalibrationError, match="coupling_mhz"):
        CavityQEDDevice("x", Transmon(5.0, -0.3), Resonator(6.0), coupling_mhz=-3.0)


def test_dephasing_rate_from_t1_and_t2():
    t = Transmon(freq_ghz=5.0, anharmonicity_ghz=-0.3, t1_us=100.0, t2_us=80.0)
    assert t.dephasing_rate_per_us == pytest.approx(1 / 80 - 1 / 200)
    assert Transmon(freq_ghz=5.0, anharmonicity_ghz=-0.3, t1_us=100.0, t2_us=200.0).dephasing_rate_per_us == 0.0


def test_a_qubit_relaxes_at_one_over_t1_and_dephases_at_one_over_t2():
    # a two-level transmon alone with T1, T2 and a thermal population (docs/physics.md section 6.1): populations
    # relax to p_e at 1/T1, the coherence decays at exactly 1/T2 (the rates of qbhw.hardware.units.relaxation_rates)
    p_e = 0.05
    t = Transmon(5.0, -0.3, t1_us=0.2, t2_us=0.15, excited_population=p_e, tunable_range_ghz=(4.0, 6.5))
    dev = dataclasses.replace(synthetic_micromaser_device(), transmon=t)
    from qbhw.pulse import Schedule, Track, cavity_qed_model

    model = cavity_qed_model(dev, levels=2, cutoff=2, imperfections=Imperfections.only("t1", "t2", "thermal"))
    psi = np.array([1, 0, 1, 0], dtype=complex) / math.sqrt(2)  # (|g> + |e>)/sqrt 2 (x) |0>
    out = propagate(model, Schedule(np.array([0.0, 100.0]), (Track("detuning", np.array([0.0])),)), np.outer(psi, psi))
    q = out.reshape(2, 2, 2, 2).trace(axis1=1, axis2=3)  # the transmon (the resonator's thermal jumps aside)
    assert abs(q[0, 1]) == pytest.approx(0.5 * math.exp(-100.0 / 150.0), rel=1e-12)
    assert q[1, 1].real == pytest.approx(p_e + (0.5 - p_e) * math.exp(-100.0 / 200.0), rel=1e-12)


# ------------------------------------------------------------------------------------------ imperfections


def test_parse_imperfections():
    assert parse_imperfections("all") == Imperfections.all()
    assert parse_imperfections("none") == Imperfections.none()
    assert parse_imperfections(" levels, T1 ") == Imperfections.only("levels", "t1")
    assert str(Imperfections.only("rise", "kappa")) == "rise,kappa"
    assert str(Imperfections.all()) == "all" and str(Imperfections.none()) == "none"
    for name in IMPERFECTIONS:
        assert parse_imperfections(name).enabled == (name,)
    for text in ("", "levels,,t1", "levels,bogus", "all,t1", "none,levels", "Noise"):
        with pytest.raises(ParameterError) as info:
            parse_imperfections(text)
        assert info.value.parameter == "imperfections"


def test_none_is_a_two_level_closed_collision_with_instant_edges():
    params = mm.MicromaserParams(g_tau=1.0, collisions=1, cutoff=4)
    col = build_collision(
        params, synthetic_micromaser_device(), levels=None, cutoff=4, imperfections=Imperfections.none()
    )
    assert col.levels == 2 and col.model.jumps == () and col.flux.spans == 1
    assert col.reset_state[1, 1] == 0.0 and col.cavity_pull == 0.0
    everything = build_collision(
        params, synthetic_micromaser_device(), levels=None, cutoff=4, imperfections=Imperfections.all()
    )
    assert everything.levels == 3
    assert {j.label for j in everything.model.jumps} == {"t1", "t2", "kappa", "thermal"}
    assert everything.flux.spans > 1 and everything.reset_state[1, 1] == 0.01


# ------------------------------------------------------------------------------------------------ envelopes


def test_envelopes_and_their_errors():
    g = Gaussian(20.0)
    assert g(np.array([0.0, 20.0])) == pytest.approx([0.0, 0.0], abs=1e-15)
    assert g(np.array([10.0]))[0] == pytest.approx(1.0)
    edges, values = sample(FlatTop(flat_ns=7.3, rise_ns=2.0), 0.25)
    flat = np.diff(edges)[values.real == 1.0]
    assert flat.size == 1 and flat[0] == pytest.approx(7.3)
    assert edges[-1] == pytest.approx(11.3) and np.all(np.diff(edges) > 0)
    assert envelope("drag", duration_ns=20.0, anharmonicity_ghz=-0.3).beta == 1.0
    with pytest.raises(ParameterError, match="envelope"):
        envelope("sinc", duration_ns=20.0)
    with pytest.raises(ParameterError, match="duration_ns"):
        Gaussian(-1.0)
    with pytest.raises(ParameterError, match="rise_ns"):
        FlatTop(flat_ns=1.0, rise_ns=-0.5)
    with pytest.raises(ParameterError, match="anharmonicity_ghz"):
        Drag(20.0, anharmonicity_ghz=0.0)
    with pytest.raises(ParameterError, match="preparation"):
        PulseOptions(preparation="magic")
    with pytest.raises(ParameterError, match="drive_ns"):
        PulseOptions(drive_ns=-2.0)


def test_drag_trades_leakage_against_phase_error():
    # a pi pulse of 8 ns on a three-level transmon (alpha/2pi = -250 MHz), alone. First-order DRAG (Motzoi et al.
    # 2009): beta = 1 cancels the leading leakage to |f>, beta = 1/2 the leading phase error (the default)
    dev = synthetic_micromaser_device()
    params = mm.MicromaserParams(g_tau=1.0, p_excited=1.0, coherence=0.0, collisions=1, cutoff=2)
    leak, excited = {}, {}
    for beta in (0.0, 0.5, 1.0):
        col = build_collision(
            params,
            dev,
            levels=3,
            cutoff=2,
            imperfections=Imperfections.only("levels"),
            options=PulseOptions(drive_ns=8.0, drag_beta=beta),
        )
        start = np.kron(np.diag([1.0, 0.0, 0.0]), np.diag([1.0, 0.0])).astype(complex)
        out = propagate(col.model, col.prep_schedules[0][1], start, engine="exact")
        q = out.reshape(3, 2, 3, 2).trace(axis1=1, axis2=3)
        leak[beta], excited[beta] = q[2, 2].real, q[1, 1].real
    assert leak[0.0] > 1e-3 and leak[1.0] < 1e-2 * leak[0.0]  # measured 1.9e-3 and 3.3e-6
    assert 1.0 - excited[0.5] < 0.05 * (1.0 - excited[0.0])  # measured 1.2e-3 vs 4.0e-2


def test_a_calibration_runs_end_to_end():
    params = mm.MicromaserParams(g_tau=1.0, p_excited=0.5, coherence=1.0, collisions=3, cutoff=6)
    r = run_micromaser(params, _calibration(), imperfections="none")
    assert r.metadata["device"] == "standin:q1-r1"
    assert abs(r.pulse.ergotropy - mm.evolve(params).ergotropy) < 1e-8
    # the calibration's numbers are used: g/2pi = 12 MHz sets tau
    assert r.calibrated_tau_ns == pytest.approx(1.0 / (2 * math.pi * 12e-3))
