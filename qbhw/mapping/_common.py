"""What every mapping returns, and the building blocks the four mappings share.

Qubit order: a ``MappedCircuit`` lists its register in physics order. ``register[0]`` is the leftmost Kronecker
factor of every matrix here (qbhw's big-endian convention, basis index 0 = |g> = Qiskit |0>), even though Qiskit
itself orders qubits little-endian. Code that reads a Qiskit density matrix or counts must reverse the order;
``qiskit_to_physics`` does this for density matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qbhw._arrays import readonly
from qbhw.physics.operators import partial_trace
from qbhw.physics.thermodynamics import extraction_unitary

if TYPE_CHECKING:
    from qbhw.mapping._collisions import CollisionStep

#: eigenvalue of a qubit density matrix below which it counts as 0, i.e. the state as pure (no purifier qubit).
#: Dropping an eigenvalue lambda < 1e-12 moves the prepared state by lambda < 1e-12 in trace distance, far below
#: every mapping error reported here (>= 1e-10 where not exact) and far above the ~1e-16 rounding of a 2x2
#: eigendecomposition; the smallest populations the models produce (e.g. p_e(1, 0.1) = 4.5e-5) stay mixed.
MIXED_THRESHOLD = 1e-12


@dataclass(frozen=True, eq=False)
class MappedCircuit:
    """A battery model as one logical circuit on virtual qubits, together with what it should produce.

    circuit        logical circuit, virtual qubits 0..num_qubits-1: gates, mid-circuit resets, no measurements and
                   no save instructions (those are appended after transpilation)
    register       virtual qubits whose joint state is reconstructed (tomographed), physics order
    battery        positions in ``register`` that form the battery (the rest is traced out for the battery
                   figures, e.g. the charger qubit); physics order
    hamiltonian    battery Hamiltonian on the battery qubits' computational basis (physics order), model units;
                   its ground energy is the zero of ``energy``
    ideal_state    the ideal model's state of the register (2^len(register) square)
    exact_state    what the noiseless circuit produces on the register, computed from the circuit's exact channel
                   (not by simulating the circuit); differs from ideal_state by the collision/Trotter error only
    model          "charger" | "thermal-gradient" | "collective" | "micromaser"
    description    one line: what the circuit does (angles, number of collisions, encoding)
    details        extra mapping parameters as plain JSON-able values (collision angle, steps, ...); every mapping
                   gives the mapping error as ``details["trace_distance_exact_ideal"]``
    steps          the CollisionSteps the circuit applies, in time order, after its initial-state preparation
                   (the register starts in |0...0> unless the mapping's docstring says which state it prepares);
                   ``exact_state`` is their exact channel (``apply_steps``) applied to that initial state. A step's
                   ``system`` indexes the mapping's system in physics order: the register, except for the
                   micromaser, whose system is the one cavity (index 0, ``dims = (2^m,)``) held by the register
                   qubits. Empty only for a circuit built without steps.

    The optimal extraction circuit of a state is computed on demand by ``extraction_circuit``.
    """

    model: str
    circuit: Any
    register: tuple[int, ...]
    battery: tuple[int, ...]
    hamiltonian: np.ndarray
    ideal_state: np.ndarray
    exact_state: np.ndarray
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    steps: tuple[CollisionStep, ...] = ()

    def __post_init__(self) -> None:
        for name in ("hamiltonian", "ideal_state", "exact_state"):
            object.__setattr__(self, name, readonly(np.asarray(getattr(self, name), dtype=complex)))
        object.__setattr__(self, "steps", tuple(self.steps))
        d = 2 ** len(self.register)
        if self.ideal_state.shape != (d, d) or self.exact_state.shape != (d, d):
            raise ValueError(f"states must be {d}x{d} for a register of {len(self.register)} qubits")
        if self.hamiltonian.shape != (2 ** len(self.battery),) * 2:
            raise ValueError("hamiltonian must act on the battery qubits")

    @property
    def num_qubits(self) -> int:
        return int(self.circuit.num_qubits)


def extraction_circuit(mapped: MappedCircuit, state: np.ndarray | None = None) -> Any:
    """The optimal extraction unitary U* of ``state``'s battery part (default: ``mapped.ideal_state``), as a circuit
    on len(register) qubits whose qubit k is register[k]: one UnitaryGate on the battery positions, identity on the
    other register qubits. U* maps the eigenvectors of the battery state (decreasing weight) onto those of
    ``mapped.hamiltonian`` (increasing energy); U* rho U*^dagger is passive (qbhw.physics.extraction_unitary).
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate

    rho = mapped.ideal_state if state is None else np.asarray(state, dtype=complex)
    n = len(mapped.register)
    if rho.shape != (2**n, 2**n):
        raise ValueError(f"state must be {2**n}x{2**n} (the register's {n} qubits)")
    battery = list(mapped.battery)
    rho_b = rho if len(battery) == n else partial_trace(rho, (2,) * n, keep=battery)
    u = extraction_unitary(rho_b, mapped.hamiltonian)
    qc = QuantumCircuit(n, name="extraction")
    # UnitaryGate reads its first qarg as the least significant bit: the battery positions in reverse order
    qc.append(UnitaryGate(u, label="U*"), battery[::-1])
    return qc


def qubit_state_preparation(rho: np.ndarray, *, tol: float = MIXED_THRESHOLD) -> tuple[float, np.ndarray]:
    """(lambda1, V) with rho = (1 - lambda1) V|0><0|V^+ + lambda1 V|1><1|V^+, lambda1 <= 1/2, V unitary.

    ``rho`` is a 2x2 density matrix in the basis (|g>, |e>) = (|0>, |1>). lambda1 below ``tol`` is returned as 0.0,
    so that a pure state needs no purifying qubit.
    """
    rho = np.asarray(rho, dtype=complex)
    w, v = np.linalg.eigh(0.5 * (rho + rho.conj().T))
    w = np.clip(w.real, 0.0, 1.0)
    order = np.argsort(w)[::-1]  # largest weight on |0>
    w, v = w[order], v[:, order]
    lam1 = float(w[1]) if w[1] > tol else 0.0
    return lam1, v


def is_mixed(rho: np.ndarray) -> bool:
    """Whether preparing the qubit state ``rho`` needs a purifier (its smaller eigenvalue >= MIXED_THRESHOLD)."""
    return qubit_state_preparation(rho)[0] > 0.0


def prepare_qubit(circuit: Any, target: int, rho: np.ndarray, purifier: int | None = None) -> None:
    """Append gates that take ``target`` from |0> to the single-qubit state ``rho`` (2x2, basis |0>=|g>, |1>=|e>).

    A mixed rho = sum_k lambda_k |v_k><v_k| is made with a purifying qubit ``purifier`` (in |0>, and reset to |0>
    afterwards): RY(2 arcsin sqrt(lambda1)) on the purifier, CX purifier -> target, then V = [v0 v1] on the target
    gives sqrt(lambda0)|v0>|0> + sqrt(lambda1)|v1>|1>, and the reset of the purifier leaves the target in rho.
    A pure rho needs no purifier. Raises ValueError for a mixed rho without one.
    """
    append_preparation(circuit, target, preparation(rho), purifier)


def preparation(rho: np.ndarray) -> tuple[float | None, Any]:
    """(RY angle on the purifier or None for a pure state, the UnitaryGate V) of ``prepare_qubit``; computed once
    and appended many times by ``append_preparation``."""
    from qiskit.circuit.library import UnitaryGate

    lam1, v = qubit_state_preparation(rho)
    angle = 2.0 * float(np.arcsin(np.sqrt(lam1))) if lam1 > 0.0 else None
    # V as one named single-qubit gate; the transpiler turns it into native rotations
    return angle, UnitaryGate(v, label="prep")


def append_preparation(circuit: Any, target: int, prep: tuple[float | None, Any], purifier: int | None) -> None:
    angle, gate = prep
    if angle is not None:
        if purifier is None:
            raise ValueError("a mixed qubit state needs a purifier qubit")
        circuit.ry(angle, purifier)
        circuit.cx(purifier, target)
    circuit.append(gate, [target])
    if angle is not None:
        circuit.reset(purifier)
