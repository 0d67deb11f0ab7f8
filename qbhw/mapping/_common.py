"""What every mapping returns, and the building blocks the four mappings share.

Qubit order: a ``MappedCircuit`` lists its register in physics order. ``register[0]`` is the leftmost Kronecker
factor of every matrix here (qbhw's big-endian convention, basis index 0 = |g> = Qiskit |0>), even though Qiskit
itself orders qubits little-endian. Code that reads a Qiskit density matrix or counts must reverse the order;
``qiskit_to_physics`` does this for density matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qbhw._arrays import readonly


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
    extraction     a circuit on len(register) qubits (its qubit k is register[k]) applying the optimal extraction
                   unitary of ideal_state's battery part, or None when the model does not define one
    model          "charger" | "thermal-gradient" | "collective" | "micromaser"
    description    one line: what the circuit does (angles, number of collisions, encoding)
    details        extra mapping parameters as plain JSON-able values (collision angle, steps, ...)
    """

    model: str
    circuit: Any
    register: tuple[int, ...]
    battery: tuple[int, ...]
    hamiltonian: np.ndarray
    ideal_state: np.ndarray
    exact_state: np.ndarray
    extraction: Any = None
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("hamiltonian", "ideal_state", "exact_state"):
            object.__setattr__(self, name, readonly(np.asarray(getattr(self, name), dtype=complex)))
        d = 2 ** len(self.register)
        if self.ideal_state.shape != (d, d) or self.exact_state.shape != (d, d):
            raise ValueError(f"states must be {d}x{d} for a register of {len(self.register)} qubits")
        if self.hamiltonian.shape != (2 ** len(self.battery),) * 2:
            raise ValueError("hamiltonian must act on the battery qubits")

    @property
    def num_qubits(self) -> int:
        return int(self.circuit.num_qubits)


def qubit_state_preparation(rho: np.ndarray, *, tol: float = 1e-12) -> tuple[float, np.ndarray]:
    """(lambda1, V) with rho = (1 - lambda1) V|0><0|V^+ + lambda1 V|1><1|V^+, lambda1 <= 1/2, V in SU(2)-ish.

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


def prepare_qubit(circuit: Any, target: int, rho: np.ndarray, purifier: int | None = None) -> None:
    """Append gates that take ``target`` from |0> to the single-qubit state ``rho`` (2x2, basis |0>=|g>, |1>=|e>).

    A mixed rho = sum_k lambda_k |v_k><v_k| is made with a purifying qubit ``purifier`` (in |0>, and reset to |0>
    afterwards): RY(2 arcsin sqrt(lambda1)) on the purifier, CX purifier -> target, then V = [v0 v1] on the target
    gives sqrt(lambda0)|v0>|0> + sqrt(lambda1)|v1>|1>, and the reset of the purifier leaves the target in rho.
    A pure rho needs no purifier. Raises ValueError for a mixed rho without one.
    """
    from qiskit.circuit.library import UnitaryGate

    lam1, v = qubit_state_preparation(rho)
    if lam1 > 0.0:
        if purifier is None:
            raise ValueError("a mixed qubit state needs a purifier qubit")
        circuit.ry(2.0 * float(np.arcsin(np.sqrt(lam1))), purifier)
        circuit.cx(purifier, target)
    # V as one named single-qubit gate; the transpiler turns it into native rotations
    circuit.append(UnitaryGate(v, label="prep"), [target])
    if lam1 > 0.0:
        circuit.reset(purifier)
