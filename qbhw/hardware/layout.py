"""Choosing which physical qubits of a device a small circuit should use, and cutting them out (``restrict``).

Score of a connected set S of qubits (lower is better):
    sum_{q in S} [ (p(1|0) + p(0|1))/2 + error(sx on q) ] + sum over the edges of a spanning tree of S of the
    two-qubit gate error (the tree grown greedily, always through the cheapest edge).
Devices calibrate some qubits much worse than others (FakeTorino's qubit 0 reads out with 17 % error), so a
trivial layout on qubits 0..k-1 can dominate the noise budget. Deterministic: ties go to the lower index.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from qbhw.errors import CalibrationError
from qbhw.hardware import checks
from qbhw.hardware.calibration import MAX_NAME_LENGTH, DeviceCalibration


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
    return ranked_qubit_sets(cal, k, 1)[0]


def ranked_qubit_sets(cal: DeviceCalibration, k: int, count: int) -> tuple[tuple[int, ...], ...]:
    """Up to ``count`` distinct sets of k connected qubits, best score first (``select_qubits`` is the first): the
    greedy growth of ``select_qubits`` from every starting qubit, distinct as sets, ties to the lower start."""
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

    found: dict[frozenset[int], tuple[float, int, tuple[int, ...]]] = {}
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
        key = frozenset(chosen)
        if len(chosen) == k and (key not in found or score < found[key][0]):
            found[key] = (score, start, tuple(chosen))
    if not found:
        raise CalibrationError(f"has no connected set of {k} qubits in {cal.name}", field="k")
    return tuple(qs for _, _, qs in sorted(found.values())[: max(1, int(count))])


def restrict(cal: DeviceCalibration, qubits: Sequence[int]) -> DeviceCalibration:
    """The sub-device on physical ``qubits``, relabelled so that new qubit k is physical qubit ``qubits[k]``.

    Keeps the gates, coupling edges, qubit couplings and resonators that lie entirely inside the subset (and the
    timing constraints); records the map in ``notes``. To compile onto the device's own physical indices instead,
    use ``transpile_target(cal)`` with an initial layout.
    """
    phys = tuple(checks.index(f"qubits[{k}]", q) for k, q in enumerate(checks.sequence("qubits", qubits)))
    if not phys:
        raise CalibrationError("must list at least one qubit", field="qubits")
    if len(set(phys)) != len(phys):
        raise CalibrationError(f"must be distinct (got {checks.brief(list(phys))})", field="qubits")
    bad = [q for q in phys if q >= cal.num_qubits]
    if bad:
        raise CalibrationError(
            f"must be qubits of {cal.name} (0..{cal.num_qubits - 1}) (got {checks.brief(bad)})", field="qubits"
        )
    new = {q: k for k, q in enumerate(phys)}
    gates = tuple(
        dataclasses.replace(g, qubits=tuple(new[q] for q in g.qubits))
        for g in cal.gates
        if all(q in new for q in g.qubits)
    )
    used = {g.name for g in gates}
    note = (
        f"restricted from {cal.name} to physical qubits {list(phys)} (qubit k here is physical qubit {list(phys)}[k])"
    )
    suffix = "_q" + "_".join(str(q) for q in phys) if len(phys) <= 8 else f"_sub{len(phys)}"
    return dataclasses.replace(
        cal,
        name=cal.name[: MAX_NAME_LENGTH - len(suffix)] + suffix,
        qubits=tuple(dataclasses.replace(cal.qubits[q], index=new[q]) for q in phys),
        gates=gates,
        coupling_map=tuple((new[a], new[b]) for a, b in cal.coupling_map if a in new and b in new),
        basis_gates=tuple(g for g in cal.basis_gates if g in used),
        resonators=tuple(
            dataclasses.replace(r, index=k, qubit=new[r.qubit])
            for k, r in enumerate(r for r in cal.resonators if r.qubit in new)
        ),
        qubit_couplings=tuple(
            dataclasses.replace(c, qubits=(new[c.qubits[0]], new[c.qubits[1]]))
            for c in cal.qubit_couplings
            if all(q in new for q in c.qubits)
        ),
        notes=cal.notes + (note,),
    )
