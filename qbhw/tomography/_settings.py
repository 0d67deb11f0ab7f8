"""Measurement settings, shot allocation and measurement circuits (the only module here that imports qiskit).

Conventions (the whole package):

* A register is a list of physical qubits in physics order: register position k <-> ``qubits[k]``, position 0 is
  the leftmost Kronecker factor of every density matrix, basis index 0 = |g> = Qiskit |0>.
* A setting is a string over "XYZ"; character k is the Pauli measured on register position k. Outcome bit 0 is
  the +1 eigenvalue of the Qiskit Pauli (Z = diag(+1, -1), so Z outcome 0 = |g>).
* Clbit k of the tomography register stores the outcome of register position k, so a Qiskit bitstring
  "c_{n-1} ... c_0" of that register read from right to left is the outcome in physics order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qbhw import _validate
from qbhw.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

#: name of the classical register that ``measurement_circuits`` adds (a suffix makes it unique if taken)
REGISTER_NAME = "tomo"
_PAULIS = "XYZ"


def pauli_settings(n: int) -> tuple[str, ...]:
    """The 3^n Pauli settings of n qubits, strings over "XYZ" (character k for register position k), in
    lexicographic order X < Y < Z with position 0 varying slowest."""
    n = _validate.integer_at_least("n", n, 1)
    return tuple("".join(p) for p in itertools.product(_PAULIS, repeat=n))


def check_settings(settings: Sequence[str], num_qubits: int | None = None) -> tuple[str, ...]:
    """Validate a non-empty sequence of distinct, equally long strings over "XYZ"; return it as a tuple."""
    if isinstance(settings, str) or not isinstance(settings, Sequence) or len(settings) == 0:
        raise ParameterError("settings", "a non-empty sequence of strings over 'XYZ'", settings)
    out = tuple(settings)
    n = num_qubits if num_qubits is not None else len(out[0]) if isinstance(out[0], str) else -1
    for s in out:
        if not isinstance(s, str) or len(s) != n or n < 1 or any(c not in _PAULIS for c in s):
            raise ParameterError(
                "settings", f"strings of {n if n > 0 else 'equal length >= 1'} characters from 'XYZ'", s
            )
    if len(set(out)) != len(out):
        raise ParameterError("settings", "distinct strings", settings)
    return out


def split_shots(shots: int, settings: Sequence[str]) -> tuple[int, ...]:
    """``shots`` split over the settings as evenly as possible (the first ``shots % len(settings)`` get one more)."""
    settings = check_settings(settings)
    s = len(settings)
    if (
        isinstance(shots, bool)
        or not isinstance(shots, int | float)
        or not math.isfinite(shots)
        or int(shots) != shots
        or shots < s
    ):
        raise ParameterError("shots", f">= {s} (one per measurement setting)", shots)
    base, extra = divmod(int(shots), s)
    return tuple(base + (1 if k < extra else 0) for k in range(s))


def _basis_change_gates(basis_gates: tuple[str, ...]) -> dict[str, list[Any]]:
    """Gate sequences (qiskit instructions) that rotate the +1 eigenstate of X / Y onto |0>, in ``basis_gates``.

    With rz and sx: X -> rz(pi/2), sx  (Rz(pi/2) maps +X to +Y, SX = Rx(pi/2) up to phase maps +Y to +Z);
    Y -> sx. Other gate sets: qiskit.transpile of H (X) and Sdg, H (Y) onto ``basis_gates``.
    """
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit.library import RZGate, SXGate

    if {"rz", "sx"} <= set(basis_gates):
        return {"X": [RZGate(math.pi / 2), SXGate()], "Y": [SXGate()], "Z": []}
    out: dict[str, list[Any]] = {"Z": []}
    for label in ("X", "Y"):
        qc = QuantumCircuit(1)
        if label == "Y":
            qc.sdg(0)
        qc.h(0)
        try:
            tqc = transpile(qc, basis_gates=list(basis_gates), optimization_level=1)
        except Exception as exc:  # qiskit raises TranspilerError; report the argument
            raise ParameterError("basis_gates", "a gate set that can express H and Sdg", basis_gates) from exc
        out[label] = [ins.operation for ins in tqc.data]
    return out


def measurement_circuits(
    circuit: QuantumCircuit,
    qubits: Sequence[int],
    settings: Sequence[str],
    *,
    basis_gates: Sequence[str] = ("rz", "sx", "x"),
) -> list[QuantumCircuit]:
    """One copy of ``circuit`` per setting, measuring physical qubit ``qubits[k]`` in the basis ``setting[k]``.

    The basis change is written in ``basis_gates`` (the circuits stay ISA circuits of the device); the
    measurements go into a NEW classical register of ``len(qubits)`` bits (named ``tomo``, or ``tomo1``... if
    taken), clbit k <- ``qubits[k]``; existing classical registers are kept. Each circuit is named
    ``f"{circuit.name}_tomo_{setting}"`` and carries metadata ``tomography_setting``, ``tomography_qubits`` and
    ``tomography_register``. With other classical registers present, Qiskit counts keys hold several
    space-separated groups; the tomography register, added last, is the LEFTMOST group (TomographyData reads it).
    """
    from qiskit import ClassicalRegister, QuantumCircuit

    if not isinstance(circuit, QuantumCircuit):
        raise ParameterError("circuit", "a qiskit QuantumCircuit", type(circuit).__name__)
    if isinstance(qubits, str) or not isinstance(qubits, Sequence) or len(qubits) == 0:
        raise ParameterError("qubits", "a non-empty sequence of physical qubit indices", qubits)
    qs = tuple(_validate.integer_at_least("qubits", q, 0) for q in qubits)
    if len(set(qs)) != len(qs):
        raise ParameterError("qubits", "distinct physical qubits", list(qubits))
    if max(qs) >= circuit.num_qubits:
        raise ParameterError("qubits", f"indices < {circuit.num_qubits} (the circuit's qubits)", list(qubits))
    settings = check_settings(settings, len(qs))
    if isinstance(basis_gates, str) or not all(isinstance(g, str) for g in basis_gates):
        raise ParameterError("basis_gates", "a sequence of gate names", basis_gates)
    gates = _basis_change_gates(tuple(basis_gates))

    taken = {reg.name for reg in circuit.cregs}
    name = REGISTER_NAME
    suffix = 0
    while name in taken:
        suffix += 1
        name = f"{REGISTER_NAME}{suffix}"

    out: list[QuantumCircuit] = []
    for setting in settings:
        qc = circuit.copy(name=f"{circuit.name}_tomo_{setting}")
        creg = ClassicalRegister(len(qs), name)
        qc.add_register(creg)
        qc.barrier([qc.qubits[q] for q in qs])
        for q, pauli in zip(qs, setting, strict=True):
            for op in gates[pauli]:
                qc.append(op, [qc.qubits[q]])
        for k, q in enumerate(qs):
            qc.measure(qc.qubits[q], creg[k])
        meta: dict[str, Any] = dict(circuit.metadata or {})
        meta.update(tomography_setting=setting, tomography_qubits=list(qs), tomography_register=name)
        qc.metadata = meta
        out.append(qc)
    return out
