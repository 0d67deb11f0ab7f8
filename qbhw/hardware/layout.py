"""Choosing which physical qubits of a device a small circuit should use.

Score of a connected set S of qubits (lower is better):
    sum_{q in S} [ (p(1|0) + p(0|1))/2 + error(sx on q) ] + sum over the edges of a spanning tree of S of the
    two-qubit gate error (the tree grown greedily, always through the cheapest edge).
Devices calibrate some qubits much worse than others (FakeTorino's qubit 0 reads out with 17 % error), so a
trivial layout on qubits 0..k-1 can dominate the noise budget. Deterministic: ties go to the lower index.
"""

from __future__ import annotations

from qbhw.errors import CalibrationError
from qbhw.hardware.calibration import DeviceCalibration


def qubit_costs(cal: DeviceCalibration) -> tuple[float, ...]:
    """Per qubit: mean readout error + the larger of its sx and x errors (0 if it has neither)."""
    one_q = [0.0] * cal.num_qubits
    for g in cal.gates:
        if len(g.qubits) == 1 and g.name in ("sx", "x"):
            one_q[g.qubits[0]] = max(one_q[g.qubits[0]], g.error)
    return tuple(0.5 * (c.readout_p1_given_0 + c.readout_p0_given_1) + one_q[c.index] for c in cal.qubits)


def select_qubits(cal: DeviceCalibration, k: int) -> tuple[int, ...]:
    """k connected physical qubits with the lowest score (module docstring), in the order they were added.

    Grows a set greedily from every starting qubit (adding the neighbour of least qubit cost + edge error) and
    keeps the best. Raises CalibrationError when no connected set of k qubits exists.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise CalibrationError(f"must be an integer >= 1 (got {k!r})", field="k")
    n = cal.num_qubits
    if k > n:
        raise CalibrationError(f"must be at most the {n} qubits of {cal.name} (got {k})", field="k")
    qubit_cost = qubit_costs(cal)
    edge_cost: dict[tuple[int, int], float] = {}
    for g in cal.gates:
        if len(g.qubits) == 2:
            a, b = sorted(g.qubits)
            edge_cost[(a, b)] = min(edge_cost.get((a, b), 1.0), g.error)
    for a, b in cal.coupling_map:
        edge_cost.setdefault((min(a, b), max(a, b)), 1.0)  # an edge without a calibrated gate is worst-case
    neighbours: dict[int, dict[int, float]] = {q: {} for q in range(n)}
    for (a, b), e in edge_cost.items():
        neighbours[a][b] = e
        neighbours[b][a] = e

    best: tuple[float, tuple[int, ...]] | None = None
    for start in range(n):
        chosen = [start]
        score = qubit_cost[start]
        while len(chosen) < k:
            options = [(qubit_cost[nb] + e, nb) for q in chosen for nb, e in neighbours[q].items() if nb not in chosen]
            if not options:
                break
            cost, nb = min(options)
            chosen.append(nb)
            score += cost
        if len(chosen) == k and (best is None or score < best[0]):
            best = (score, tuple(chosen))
    if best is None:
        raise CalibrationError(f"has no connected set of {k} qubits in {cal.name}", field="k")
    return best[1]
