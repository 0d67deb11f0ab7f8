"""A documented synthetic cavity-QED device: four fixed-frequency transmons on a ring, one resonator per transmon.

NOT a real device. Every number is a round value typical of published circuit-QED hardware (ranges as in
Krantz et al., Appl. Phys. Rev. 6, 021318 (2019) and Blais et al., Rev. Mod. Phys. 93, 025005 (2021)):

* transmons: f = 4.80-5.25 GHz (neighbours detuned by >= 150 MHz), anharmonicity -0.30 to -0.32 GHz,
  T1 = 100-140 us, T2 = 80-130 us, readout P(1|0) ~ 1 %, P(0|1) ~ 2-3 % (decay during a 1 us readout),
  effective temperature 50 mK (p_e ~ 0.7-0.8 %), reset leaves p_e;
* gates: sx, x, id of 32 ns with error 2-3e-4, virtual rz (0 ns, error 0), CZ of 70 ns with error 3-5e-3 on the
  ring 0-1-2-3-0 (both argument orders);
* resonators: f_r = 6.20-6.65 GHz (dispersive: 1.4 GHz above its transmon), kappa/2pi = 0.2 MHz (photon lifetime
  1/kappa ~ 0.8 us), g/2pi = 55-65 MHz (swap time 1/(4 g/2pi) ~ 4 ns on resonance; dispersive shift
  |chi|/2pi = |g^2/Delta * alpha/(Delta + alpha)| ~ 0.4-0.6 MHz).

``calibrations/synthetic_cqed.json`` is ``save_calibration(synthetic_cavity_qed(), ...)``; a test keeps them equal.
"""

from __future__ import annotations

from qbhw.hardware.calibration import (
    DeviceCalibration,
    GateCalibration,
    QubitCalibration,
    ResonatorCalibration,
)
from qbhw.hardware.units import excited_population_at

SYNTHETIC_NAME = "synthetic_cqed"
#: effective temperature of the synthetic device's environment (mK)
SYNTHETIC_TEMPERATURE_MK = 50.0

# index: (freq_ghz, anharmonicity_ghz, t1_us, t2_us, p(1|0), p(0|1), sx/x/id error)
_QUBITS = (
    (4.80, -0.30, 120.0, 90.0, 0.010, 0.020, 2.0e-4),
    (5.10, -0.31, 100.0, 110.0, 0.012, 0.025, 3.0e-4),
    (4.95, -0.32, 140.0, 80.0, 0.008, 0.018, 2.5e-4),
    (5.25, -0.30, 110.0, 130.0, 0.015, 0.030, 2.2e-4),
)
# ring edges and CZ errors
_CZ = (((0, 1), 3.0e-3), ((1, 2), 4.0e-3), ((2, 3), 5.0e-3), ((3, 0), 3.5e-3))
# per transmon: (freq_ghz, kappa_mhz, coupling_mhz)
_RESONATORS = ((6.20, 0.2, 60.0), (6.50, 0.2, 55.0), (6.35, 0.2, 65.0), (6.65, 0.2, 60.0))
_SQ_NS = 32.0
_CZ_NS = 70.0


def synthetic_cavity_qed() -> DeviceCalibration:
    """The synthetic 4-transmon, 4-resonator device (see the module docstring for every parameter's origin)."""
    qubits = []
    gates = []
    for k, (f, alpha, t1, t2, p10, p01, e1) in enumerate(_QUBITS):
        p_e = excited_population_at(f, SYNTHETIC_TEMPERATURE_MK)
        qubits.append(
            QubitCalibration(
                index=k,
                freq_ghz=f,
                anharmonicity_ghz=alpha,
                t1_us=t1,
                t2_us=t2,
                readout_p1_given_0=p10,
                readout_p0_given_1=p01,
                reset_error=p_e,
                excited_population=p_e,
                readout_duration_ns=1000.0,
                reset_duration_ns=1200.0,
            )
        )
        gates += [
            GateCalibration("id", (k,), _SQ_NS, e1),
            GateCalibration("rz", (k,), 0.0, 0.0),
            GateCalibration("sx", (k,), _SQ_NS, e1),
            GateCalibration("x", (k,), _SQ_NS, e1),
        ]
    edges = []
    for (a, b), err in _CZ:
        for pair in ((a, b), (b, a)):
            edges.append(pair)
            gates.append(GateCalibration("cz", pair, _CZ_NS, err))
    resonators = tuple(
        ResonatorCalibration(index=k, freq_ghz=f, kappa_mhz=kappa, coupling_mhz=g, qubit=k)
        for k, (f, kappa, g) in enumerate(_RESONATORS)
    )
    return DeviceCalibration(
        name=SYNTHETIC_NAME,
        source="synthetic: qbhw.hardware.synthetic.synthetic_cavity_qed() (typical-of-literature values, not a real "
        "device)",
        date="2026-11-22",
        qubits=tuple(qubits),
        gates=tuple(sorted(gates, key=lambda g: (g.name, g.qubits))),
        coupling_map=tuple(sorted(edges)),
        basis_gates=("cz", "id", "rz", "sx", "x"),
        resonators=resonators,
        notes=(
            "synthetic device: four fixed-frequency transmons on a ring 0-1-2-3-0 with CZ, one resonator per "
            "transmon; round values typical of published circuit-QED hardware (Krantz et al. 2019, Blais et al. "
            "2021), not a measured device",
            f"excited_population: thermal population at {SYNTHETIC_TEMPERATURE_MK:g} mK at each transmon's "
            "frequency; reset_error equals it",
            "resonators: kappa_mhz = kappa/2pi (energy decay), coupling_mhz = g/2pi of g(a sigma+ + a^dagger "
            "sigma-), each resonator 1.4 GHz above its transmon (dispersive regime)",
        ),
        dt_ns=0.5,
    )
