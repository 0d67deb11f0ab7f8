"""A documented synthetic cavity-QED device on which a micromaser battery can run. NOT a real device.

Four flux-tunable transmons on a ring 0-1-2-3-0 (static exchange J on each edge, CZ gates by flux pulses). Each
transmon has a dispersive readout resonator above it and a high-Q storage resonator below it, inside its tunable
range: parked at its upper sweet spot the transmon is detuned from its storage mode by 0.6-0.7 GHz; a flux
pulse brings it into resonance for a swap (the micromaser's collision), after which it is reset. Every value is
typical of published circuit-QED experiments; the package-data README (``qbhw/hardware/data/README.md``) gives
the source of each, paper by paper, and says where a value is typical of the literature rather than from one
paper.

* transmons: parked f01 = 5.0-5.4 GHz at the top of a tunable range reaching 3.8-4.1 GHz, alpha/2pi = -0.20 to
  -0.23 GHz, T1 = 50-70 us, T2 = 45-90 us, flux pulses rising in 2-3 ns, readout P(1|0) ~ 1 %, P(0|1) ~ 2-3 %
  (decay during a 1 us readout), effective temperature 50 mK (p_e ~ 0.6-0.8 %), a 500 ns reset leaving 0.2 %;
* gates: sx, x, id of 24 ns with error 3-4e-4, virtual rz (0 ns, error 0), CZ of 48 ns with error 5-8e-3 on
  the ring edges (both argument orders); static exchange J/2pi = 1.9-3.0 MHz on the same edges;
* storage resonators (role "storage"): f = 4.4-4.7 GHz, kappa/2pi = 3-5 kHz (Q ~ 1e6, photon lifetime
  1/kappa ~ 30-50 us), swap coupling g/2pi = 8-15 MHz (a full swap in 1/(4 g/2pi) ~ 17-31 ns);
* readout resonators (role "readout"): f = 6.90-7.15 GHz (about 1.8 GHz above the parked transmon: dispersive),
  kappa/2pi = 0.8-1.2 MHz, g/2pi = 55-65 MHz;
* resonator baths: Bose-Einstein photon number at the same 50 mK (1.1-1.5e-2 for storage, ~1e-3 for readout);
* control: dt = 0.5 ns (2 GS/s); timing constraints granularity 8, min_length 16, pulse and acquire alignment 8
  samples (as on IBM Eagle devices), so every duration above is a multiple of 4 ns.

The built-in snapshot ``synthetic_cqed.json`` is ``save_calibration(synthetic_cavity_qed(), ...)``; a test keeps
them equal.
"""

from __future__ import annotations

from qbhw.hardware.calibration import (
    DeviceCalibration,
    GateCalibration,
    QubitCalibration,
    QubitCouplingCalibration,
    ResonatorCalibration,
)
from qbhw.hardware.units import excited_population_at, thermal_photons_at

SYNTHETIC_NAME = "synthetic_cqed"
#: effective temperature of the synthetic device's environment (mK): transmons and resonator baths
SYNTHETIC_TEMPERATURE_MK = 50.0

# index: (parked freq_ghz, tunable_range_ghz, anharmonicity_ghz, t1_us, t2_us, p(1|0), p(0|1), sx/x/id error,
#         flux_rise_ns); T2 < T1 on qubits 0 and 2, T1 < T2 <= 2 T1 on qubits 1 and 3
_QUBITS = (
    (5.00, (3.80, 5.00), -0.21, 60.0, 45.0, 0.010, 0.020, 3.0e-4, 2.0),
    (5.30, (4.00, 5.30), -0.22, 50.0, 80.0, 0.012, 0.025, 4.0e-4, 2.0),
    (5.10, (3.90, 5.10), -0.20, 70.0, 55.0, 0.008, 0.018, 3.5e-4, 3.0),
    (5.40, (4.10, 5.40), -0.23, 55.0, 90.0, 0.015, 0.030, 3.0e-4, 2.5),
)
# ring edges: CZ error and static exchange J/2pi (MHz)
_EDGES = (((0, 1), 5.0e-3, 2.0), ((1, 2), 6.0e-3, 2.5), ((2, 3), 8.0e-3, 3.0), ((3, 0), 5.5e-3, 1.9))
# per transmon: readout (freq_ghz, kappa_mhz, coupling_mhz) and storage (freq_ghz, kappa_mhz, coupling_mhz)
_READOUT = ((6.90, 1.0, 60.0), (7.05, 0.8, 55.0), (6.95, 1.2, 65.0), (7.15, 1.0, 60.0))
_STORAGE = ((4.40, 0.004, 10.0), (4.60, 0.005, 12.0), (4.50, 0.003, 8.0), (4.70, 0.004, 15.0))
_SQ_NS = 24.0
_CZ_NS = 48.0
_READOUT_NS = 1000.0
_RESET_NS = 500.0
_RESET_RESIDUAL = 0.002


def synthetic_cavity_qed() -> DeviceCalibration:
    """The synthetic 4-transmon device with a readout and a storage resonator per transmon (module docstring)."""
    qubits = []
    gates = []
    for k, (f, tunable, alpha, t1, t2, p10, p01, e1, rise) in enumerate(_QUBITS):
        qubits.append(
            QubitCalibration(
                index=k,
                freq_ghz=f,
                anharmonicity_ghz=alpha,
                t1_us=t1,
                t2_us=t2,
                readout_p1_given_0=p10,
                readout_p0_given_1=p01,
                reset_error=_RESET_RESIDUAL,
                excited_population=excited_population_at(f, SYNTHETIC_TEMPERATURE_MK),
                readout_duration_ns=_READOUT_NS,
                reset_duration_ns=_RESET_NS,
                tunable_range_ghz=tunable,
                flux_rise_ns=rise,
            )
        )
        gates += [
            GateCalibration("id", (k,), _SQ_NS, e1),
            GateCalibration("rz", (k,), 0.0, 0.0),
            GateCalibration("sx", (k,), _SQ_NS, e1),
            GateCalibration("x", (k,), _SQ_NS, e1),
        ]
    edges = []
    couplings = []
    for (a, b), err, j in _EDGES:
        couplings.append(QubitCouplingCalibration((a, b), j))
        for pair in ((a, b), (b, a)):
            edges.append(pair)
            gates.append(GateCalibration("cz", pair, _CZ_NS, err))
    modes = [(k, "readout", *r) for k, r in enumerate(_READOUT)] + [(k, "storage", *s) for k, s in enumerate(_STORAGE)]
    resonators = tuple(
        ResonatorCalibration(
            index=i,
            freq_ghz=f,
            kappa_mhz=kappa,
            coupling_mhz=g,
            qubit=q,
            role=role,
            thermal_photons=thermal_photons_at(f, SYNTHETIC_TEMPERATURE_MK),
        )
        for i, (q, role, f, kappa, g) in enumerate(modes)
    )
    return DeviceCalibration(
        name=SYNTHETIC_NAME,
        source="synthetic: qbhw.hardware.synthetic.synthetic_cavity_qed() (values typical of published circuit-QED "
        "experiments, not a real device)",
        date="2026-12-01",
        qubits=tuple(qubits),
        gates=tuple(sorted(gates, key=lambda g: (g.name, g.qubits))),
        coupling_map=tuple(sorted(edges)),
        basis_gates=("cz", "id", "rz", "sx", "x"),
        resonators=resonators,
        notes=(
            "synthetic device: four flux-tunable transmons on a ring 0-1-2-3-0 with CZ and a static exchange J; each "
            "transmon has a readout resonator (resonators 0-3) and a high-Q storage resonator inside its tunable "
            "range (resonators 4-7); values typical of published circuit-QED experiments (sources in the "
            "package-data README), not a measured device",
            f"excited_population and thermal_photons: thermal at {SYNTHETIC_TEMPERATURE_MK:g} mK at each transmon's "
            "parked frequency and each resonator's frequency; reset_error is the residual excited population after "
            "an active reset",
            "resonators: kappa_mhz = kappa/2pi (energy decay), coupling_mhz = g/2pi of g(a^dag b + a b^dag); "
            "qubit_couplings: j_mhz = J/2pi of J(b1^dag b2 + b1 b2^dag)",
        ),
        dt_ns=0.5,
        granularity=8,
        min_length=16,
        pulse_alignment=8,
        acquire_alignment=8,
        qubit_couplings=tuple(couplings),
    )
