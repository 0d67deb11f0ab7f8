"""Choosing physical qubits (select_qubits, qubit_costs) and cutting them out of a device (restrict)."""

from __future__ import annotations

import dataclasses

import pytest

from qbhw.hardware import (
    CalibrationError,
    DeviceCalibration,
    load_calibration,
    qubit_costs,
    restrict,
    select_qubits,
    synthetic_cavity_qed,
)


def _pair_score(cal: DeviceCalibration, a: int, b: int) -> float:
    costs = qubit_costs(cal)
    two = min(g.error for g in cal.gates if len(g.qubits) == 2 and set(g.qubits) == {a, b})
    return costs[a] + costs[b] + two


@pytest.mark.parametrize("name", ["synthetic_cqed", "fake_torino"])
def test_select_two_qubits_is_the_best_edge(name: str) -> None:
    cal = load_calibration(name)
    chosen = select_qubits(cal, 2)
    # exhaustive oracle over all calibrated edges (greedy growth is exact for k = 2)
    best = min(_pair_score(cal, a, b) for a, b in cal.coupling_map)
    assert chosen in cal.coupling_map or chosen[::-1] in cal.coupling_map
    assert _pair_score(cal, *chosen) == pytest.approx(best, abs=1e-15)


def test_select_qubits_avoids_bad_qubits() -> None:
    torino = load_calibration("fake_torino")
    chosen = select_qubits(torino, 5)
    assert len(set(chosen)) == 5 and 0 not in chosen  # qubit 0 reads out with ~17 % error
    sub = restrict(torino, chosen)
    # connected: every added qubit has an edge to an earlier one
    for k in range(1, 5):
        assert any((j, k) in sub.coupling_map or (k, j) in sub.coupling_map for j in range(k))
    with pytest.raises(CalibrationError, match="k must be at most the 133 qubits"):
        select_qubits(torino, 500)
    with pytest.raises(CalibrationError, match="k must be an integer >= 1"):
        select_qubits(torino, 0)


def test_restrict_relabels_qubits_gates_edges_couplings_and_resonators() -> None:
    cal = synthetic_cavity_qed()
    sub = restrict(cal, [2, 1])
    assert [q.t1_us for q in sub.qubits] == [cal.qubits[2].t1_us, cal.qubits[1].t1_us]
    assert [q.index for q in sub.qubits] == [0, 1]
    assert set(sub.coupling_map) == {(0, 1), (1, 0)}
    assert sub.gate("cz", (0, 1)).error == cal.gate("cz", (2, 1)).error
    assert sub.gate("sx", (1,)) == dataclasses.replace(cal.gate("sx", (1,)), qubits=(1,))
    # resonators keep their order (readout 1, readout 2, storage 1, storage 2), relabelled
    assert [(r.index, r.qubit, r.role, r.freq_ghz) for r in sub.resonators] == [
        (0, 1, "readout", 7.05),
        (1, 0, "readout", 6.95),
        (2, 1, "storage", 4.60),
        (3, 0, "storage", 4.50),
    ]
    assert [(c.qubits, c.j_mhz) for c in sub.qubit_couplings] == [((1, 0), 2.5)]
    assert (sub.dt_ns, sub.granularity, sub.pulse_alignment) == (cal.dt_ns, cal.granularity, cal.pulse_alignment)
    assert "physical qubits [2, 1]" in sub.notes[-1] and sub.name == "synthetic_cqed_q2_1"


def test_restrict_rejects_bad_subsets() -> None:
    cal = synthetic_cavity_qed()
    with pytest.raises(CalibrationError, match="must be distinct"):
        restrict(cal, [1, 1])
    with pytest.raises(CalibrationError, match=r"must be qubits of synthetic_cqed \(0..3\) \(got \[7\]\)"):
        restrict(cal, [0, 7])
    with pytest.raises(CalibrationError, match="must list at least one qubit"):
        restrict(cal, [])


def test_restrict_keeps_long_names_valid() -> None:
    cal = dataclasses.replace(synthetic_cavity_qed(), name="d" * 100)
    sub = restrict(cal, range(4))
    assert len(sub.name) == 100 and sub.name.endswith("_q0_1_2_3")
