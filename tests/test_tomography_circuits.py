"""Settings, shot split, measurement circuits and the clbit <-> register-position mapping (qbhw.tomography)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qbhw.errors import ParameterError
from qbhw.physics.operators import kron
from qbhw.tomography import (
    TomographyData,
    fit_linear,
    measurement_circuits,
    pauli_expectations,
    pauli_settings,
    split_shots,
)

qiskit = pytest.importorskip("qiskit")
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister  # noqa: E402
from qiskit.quantum_info import Operator, Pauli  # noqa: E402


def test_pauli_settings_order_and_count():
    assert pauli_settings(1) == ("X", "Y", "Z")
    s = pauli_settings(3)
    assert len(s) == 27 and len(set(s)) == 27 and s[0] == "XXX" and s[1] == "XXY" and s[-1] == "ZZZ"
    with pytest.raises(ParameterError, match="^n must be"):
        pauli_settings(0)


def test_split_shots():
    st = pauli_settings(2)
    assert split_shots(9000, st) == (1000,) * 9
    out = split_shots(20, st)
    assert sum(out) == 20 and max(out) - min(out) == 1 and out[0] == 3
    with pytest.raises(ParameterError, match=r"^shots must be >= 9 \(one per measurement setting\)"):
        split_shots(8, st)
    with pytest.raises(ParameterError, match="^settings"):
        split_shots(100, ["XQ"])


def _basis_unitary(qc: QuantumCircuit, physical: int, n_before: int) -> np.ndarray:
    """Unitary of the gates appended after the barrier on one physical qubit."""
    one = QuantumCircuit(1)
    for ins in qc.data[n_before:]:
        if ins.operation.name in ("barrier", "measure"):
            continue
        assert [qc.find_bit(q).index for q in ins.qubits] == [physical]
        one.append(ins.operation, [0])
    return Operator(one).data


@pytest.mark.parametrize("basis_gates", [("rz", "sx", "x"), ("u",), ("rx", "ry")])
def test_basis_change_maps_plus_eigenstate_to_zero(basis_gates):
    """For each Pauli P, the appended gates V satisfy V^dag Z V = P (so outcome 0 <-> eigenvalue +1), to 1e-12."""
    base = QuantumCircuit(2)
    for label in "XYZ":
        (qc,) = measurement_circuits(base, [1], [label], basis_gates=basis_gates)
        ops = {ins.operation.name for ins in qc.data} - {"barrier", "measure"}
        assert ops <= set(basis_gates)
        v = _basis_unitary(qc, 1, 0)
        z = np.diag([1.0, -1.0])
        np.testing.assert_allclose(v.conj().T @ z @ v, Pauli(label).to_matrix(), atol=1e-12)


def test_circuits_with_and_without_classical_registers():
    qr = QuantumRegister(3, "q")
    plain = QuantumCircuit(qr, name="bat")
    plain.x(0)
    withc = QuantumCircuit(qr, ClassicalRegister(1, "tomo"), ClassicalRegister(2, "c"), name="bat")
    for circ in (plain, withc):
        circs = measurement_circuits(circ, [2, 0], pauli_settings(2))
        assert len(circs) == 9
        for qc, s in zip(circs, pauli_settings(2), strict=True):
            assert qc.name == f"bat_tomo_{s}"
            assert qc.metadata["tomography_setting"] == s
            new = qc.cregs[-1]
            assert new.size == 2 and new.name not in {r.name for r in circ.cregs}
            assert qc.metadata["tomography_register"] == new.name
            meas = [
                (qc.find_bit(i.qubits[0]).index, qc.find_bit(i.clbits[0]).registers[0][1])
                for i in qc.data
                if i.operation.name == "measure"
            ]
            assert meas == [(2, 0), (0, 1)]  # clbit k of the new register <- qubits[k]
        assert circ.num_clbits == (0 if circ is plain else 3)  # the input is not modified
    with pytest.raises(ParameterError, match="^qubits"):
        measurement_circuits(plain, [0, 3], pauli_settings(2))
    with pytest.raises(ParameterError, match="^qubits"):
        measurement_circuits(plain, [1, 1], pauli_settings(2))
    with pytest.raises(ParameterError, match="^settings"):
        measurement_circuits(plain, [0, 1], ["XYZ"])


def test_counts_key_mapping_and_other_registers():
    """'c1 c0' keys: the leftmost group is the tomography register; its rightmost bit is position 0."""
    data = TomographyData(("ZZ",), ({"01 1": 3, "01 0": 2, "10 0": 5},))
    # "01": clbit 0 = 1 -> position 0 excited -> physics index 0b10 = 2; "10" -> index 1
    np.testing.assert_array_equal(data.array, [[0, 5, 5, 0]])
    assert data.shots == (10,)
    with pytest.raises(ParameterError, match="^counts"):
        TomographyData(("ZZ",), ({"012": 1},))
    with pytest.raises(ParameterError, match="^counts"):
        TomographyData(("ZZ",), ({"01": -1},))
    with pytest.raises(ParameterError, match="^counts"):
        TomographyData(("ZZ", "XX"), ({"01": 1},))
    with pytest.raises(ParameterError, match="^counts"):
        TomographyData(("ZZ",), ({"01": 0},))
    with pytest.raises(ParameterError, match="^settings"):
        TomographyData(("ZZ", "ZZ"), ({"01": 1}, {"01": 1}))


def test_aer_bit_order_excited_first_position():
    """|e> on register position 0 (physical qubit 2), |g> on position 1: rho[2, 2] = 1 in physics order."""
    aer = pytest.importorskip("qiskit_aer")
    qc = QuantumCircuit(3)
    qc.x(2)
    circs = measurement_circuits(qc, [2, 0], pauli_settings(2))
    res = aer.AerSimulator().run(circs, shots=200, seed_simulator=7).result()
    data = TomographyData(pauli_settings(2), tuple(res.get_counts(i) for i in range(9)))
    rho = fit_linear(data)
    assert rho[2, 2].real == pytest.approx(1.0, abs=1e-12)  # Z-Z outcomes are deterministic


def test_aer_noiseless_pauli_expectations(rand):
    """Noiseless Aer runs of a random 2-qubit state on physical qubits (3, 1) of a 4-qubit circuit with an
    existing measured classical register reproduce all 15 Pauli expectations within 4 sigma of shot noise
    (sigma^2 = (1 - <P>^2) / shots_used, shots_used = shots x number of settings containing P)."""
    aer = pytest.importorskip("qiskit_aer")
    from qiskit import transpile

    psi = rand.pure_state(4)  # physics order: position 0 = physical qubit 3
    qr = QuantumRegister(4)
    cr = ClassicalRegister(1, "c")
    qc = QuantumCircuit(qr, cr)
    # Qiskit's initialize uses little-endian order over its qubit list: list [1, 3] makes qubit 3 the MSB,
    # i.e. amplitudes indexed (q3, q1), which is our physics order (position 0 = qubit 3).
    qc.initialize(psi, [qr[1], qr[3]])
    qc.measure(qr[0], cr[0])  # an unrelated measured register (always 0)
    qc = transpile(qc, basis_gates=["rz", "sx", "x", "cx"], optimization_level=0)
    shots = 4000
    settings = pauli_settings(2)
    circs = measurement_circuits(qc, [3, 1], settings)
    res = aer.AerSimulator().run(circs, shots=shots, seed_simulator=11).result()
    data = TomographyData(settings, tuple(res.get_counts(i) for i in range(len(settings))), seed=11)
    assert all(" " in k for k in data.counts[0])  # two registers in the keys
    est = pauli_expectations(data)
    rho = np.outer(psi, psi.conj())
    for label, value in est.items():
        if label == "II":
            continue
        op = kron(*[Pauli(c).to_matrix() for c in label])
        exact = float(np.real(np.trace(rho @ op)))
        used = shots * 3 ** label.count("I")
        sigma = math.sqrt(max(1 - exact**2, 1e-3) / used)
        assert abs(value - exact) < 4 * sigma, (label, value, exact)
    # the fitted state matches the Statevector of the register as well
    # <psi|rho_fit|psi>: each of the 15 Pauli terms is off by ~1/sqrt(shots) ~ 0.016, weighted by 1/4
    assert np.real(psi.conj() @ fit_linear(data) @ psi) == pytest.approx(1.0, abs=0.05)
