"""The synthetic cavity-QED device is one a pulse-level micromaser can run on (docs/physics.md section 6.1): each
flux-tunable transmon can be brought into resonance with its own high-Q storage resonator, the swap is slow
compared with the flux edges and fast compared with the storage lifetime, the parked transmon is far detuned
(dispersive), and the thermal values are those of the stated temperature. Ranges are those of the issue and of
the package-data README (values typical of published circuit-QED experiments)."""

from __future__ import annotations

import decimal

import pytest

from qbhw.hardware import SYNTHETIC_TEMPERATURE_MK, DeviceCalibration, synthetic_cavity_qed

_CTX = decimal.Context(prec=40)
#: k_B/h in GHz per mK (exact SI constants)
K_OVER_H = _CTX.divide(decimal.Decimal("1.380649e-23"), decimal.Decimal("6.62607015e-34")) / decimal.Decimal(10) ** 12


@pytest.fixture(scope="module")
def syn() -> DeviceCalibration:
    return synthetic_cavity_qed()


def test_flux_tunable_transmons(syn: DeviceCalibration) -> None:
    for q in syn.qubits:
        assert q.tunable_range_ghz is not None and q.freq_ghz is not None and q.anharmonicity_ghz is not None
        _low, high = q.tunable_range_ghz
        assert q.freq_ghz == high  # parked at the upper sweet spot
        assert 1.0 <= q.flux_rise_ns <= 5.0  # type: ignore[operator]
        assert -0.35 <= q.anharmonicity_ghz <= -0.2
        assert q.reset_duration_ns == 500.0 and q.reset_error == 0.002


def test_each_transmon_reaches_its_own_storage_resonator(syn: DeviceCalibration) -> None:
    for q in syn.qubits:
        (storage,) = syn.resonators_of(q.index, role="storage")
        low, high = q.tunable_range_ghz  # type: ignore[misc]
        assert low < storage.freq_ghz < high
        # high Q: kappa/2pi of order kHz; photon lifetime 1/kappa >= 30 us, far beyond a collision cycle
        assert 1e-3 <= storage.kappa_mhz <= 1e-2
        lifetime_us = 1.0 / (2 * 3.141592653589793 * storage.kappa_mhz)
        assert lifetime_us >= 30.0
        # swap coupling of order 5-20 MHz: a full swap 1/(4 g/2pi) lasts >= 4 flux rise times (JC-like collision)
        assert 5.0 <= storage.coupling_mhz <= 20.0
        swap_ns = 1e3 / (4.0 * storage.coupling_mhz)
        assert swap_ns >= 4.0 * q.flux_rise_ns  # type: ignore[operator]
        assert lifetime_us * 1e3 > 20 * (swap_ns + q.reset_duration_ns)  # type: ignore[operator]
        # parked, the transmon is dispersive: detuning >> g, shift chi = g^2 alpha / (Delta (Delta + alpha)) < 1 MHz
        delta = q.freq_ghz - storage.freq_ghz  # type: ignore[operator]
        g = storage.coupling_mhz / 1e3
        assert delta / g > 30
        chi_mhz = 1e3 * g**2 * q.anharmonicity_ghz / (delta * (delta + q.anharmonicity_ghz))  # type: ignore[operator]
        assert 0.0 < abs(chi_mhz) < 1.0


def test_readout_resonators_are_dispersive(syn: DeviceCalibration) -> None:
    for q in syn.qubits:
        (readout,) = syn.resonators_of(q.index, role="readout")
        assert 0.2 <= readout.kappa_mhz <= 5.0
        detuning_mhz = 1e3 * (readout.freq_ghz - q.freq_ghz)  # type: ignore[operator]
        assert detuning_mhz / readout.coupling_mhz > 20
    assert len(syn.resonators) == 2 * syn.num_qubits


def test_exchange_couplings_on_the_ring(syn: DeviceCalibration) -> None:
    assert {frozenset(c.qubits) for c in syn.qubit_couplings} == {frozenset(e) for e in syn.coupling_map}
    for c in syn.qubit_couplings:
        assert 1.0 <= c.j_mhz <= 5.0  # a few MHz
        a, b = (syn.qubits[i] for i in c.qubits)
        assert abs(a.freq_ghz - b.freq_ghz) * 1e3 > 30 * c.j_mhz  # type: ignore[operator]  # detuned >> J


def test_thermal_values_are_those_of_the_stated_temperature(syn: DeviceCalibration) -> None:
    kt = decimal.Decimal(SYNTHETIC_TEMPERATURE_MK) * K_OVER_H  # k_B T / h in GHz
    for q in syn.qubits:
        x = _CTX.divide(decimal.Decimal(repr(q.freq_ghz)), kt)
        assert q.excited_population == pytest.approx(float(_CTX.divide(1, _CTX.exp(x) + 1)), rel=1e-13)
    for r in syn.resonators:
        x = _CTX.divide(decimal.Decimal(repr(r.freq_ghz)), kt)
        assert r.thermal_photons == pytest.approx(float(_CTX.divide(1, _CTX.exp(x) - 1)), rel=1e-13)


def test_timing_fits_the_sample_grid(syn: DeviceCalibration) -> None:
    assert syn.dt_ns == 0.5 and (syn.granularity, syn.min_length, syn.pulse_alignment) == (8, 16, 8)
    # flux edges of 2-3 ns are 4-6 samples: resolvable by the control electronics
    assert all(q.flux_rise_ns / syn.dt_ns >= 4 for q in syn.qubits)  # type: ignore[operator]
