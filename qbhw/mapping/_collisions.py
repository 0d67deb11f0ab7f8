"""The collision kit shared by the mappings: one step type, its exact channel and its circuit, the flip-flop
unitary, and the search for the fewest steps that stay within a tolerance (docs/physics.md 1.4, 3.4, 4.4).

A collision model is a sequence of ``CollisionStep``s. Each step couples some subsystems of the mapping's system
(qubits, or one cavity of D levels) to a FRESH ancilla qubit prepared in a given state, for U = exp(-i duration
generator), after which the ancilla is discarded (traced out; reset on the circuit when it is reused). A step
without an ancilla is a coherent step on the system alone. From a sequence of steps:

* ``apply_steps`` / ``steps_channel`` / ``steps_superoperator`` give its exact channel (numpy),
* ``append_steps`` appends its circuit (the gate construction named by ``step.gates``),

so the circuit, the exact channel and (in qbhw.pulse) the pulse schedule are derived from one description.

Conventions: big-endian (physics) order throughout; qubit basis index 0 = |g> = Qiskit |0>, s- = |g><e|,
sz = diag(-1, +1); a cavity level n is basis index n. A step's generator acts on system[0] (x) ... (x)
system[-1] (x) ancilla, the ancilla LAST (least significant) when there is one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import scipy.linalg as sla

from qbhw._arrays import readonly
from qbhw.mapping._common import append_preparation, is_mixed, preparation
from qbhw.physics.distance import trace_distance
from qbhw.physics.lindblad import unvec, vec
from qbhw.physics.operators import SIGMA_MINUS, SIGMA_PLUS, SIGMA_Z, embed

#: the circuit constructions a step can name (see CollisionStep)
GATES = ("unitary", "flip-flop", "zz", "palindromic", "sequential", "ladder")

#: s- (x) s+ + s+ (x) s-, the flip-flop of two qubits: exp(-i a FLIP_FLOP) = XXPlusYYGate(2a, beta=0)
FLIP_FLOP = readonly(np.kron(SIGMA_MINUS, SIGMA_PLUS) + np.kron(SIGMA_PLUS, SIGMA_MINUS))
#: sz (x) sz (= Qiskit's Z (x) Z): exp(-i a ZZ) = RZZGate(2a)
ZZ = readonly(np.kron(SIGMA_Z, SIGMA_Z))

#: a step's generator is checked Hermitian (and against its construction) to this tolerance times its size
_MATRIX_TOL = 1e-12
#: ancilla weights below this are dropped from the Kraus decomposition (their Kraus operators vanish to rounding)
_WEIGHT_CUT = 1e-15


# --------------------------------------------------------------------------------------------- the unitaries


def flip_flop_unitary(angle: float, h: np.ndarray | None = None) -> np.ndarray:
    """exp(-i angle h) for a flip-flop h (default ``FLIP_FLOP``; any h with h^3 = h, e.g. an embedded one):
    1 + (cos a - 1) h^2 - i sin a h, since h^2 is the projector onto the pair's one-excitation states."""
    h = FLIP_FLOP if h is None else np.asarray(h)
    return np.eye(h.shape[0], dtype=complex) + (math.cos(angle) - 1.0) * (h @ h) - 1j * math.sin(angle) * h


@lru_cache(maxsize=16)
def ancilla_flip_flops(n: int) -> tuple[np.ndarray, ...]:
    """h_i = s-_i s+_a + s+_i s-_a on (qubits 0..n-1, ancilla), big-endian (cached, read-only)."""
    dims = [2] * (n + 1)
    sp_a = embed(SIGMA_PLUS, n, dims)
    out = []
    for i in range(n):
        term = embed(SIGMA_MINUS, i, dims) @ sp_a
        out.append(readonly(term + term.conj().T))
    return tuple(out)


def exchange_order(n: int, theta: float, exchange: str) -> list[tuple[int, float]]:
    """The two-qubit factors (qubit, angle) of a product approximation of exp(-i theta sum_i h_i), in time order.

    "palindromic": e^{-i theta/2 h_0} ... e^{-i theta h_(n-1)} ... e^{-i theta/2 h_0} (symmetric, error O(theta^3));
    "sequential": e^{-i theta h_0} ... e^{-i theta h_(n-1)} (first order: a cascaded, chiral channel).
    """
    if exchange == "palindromic":
        if n == 1:
            return [(0, theta)]
        return (
            [(i, theta / 2) for i in range(n - 1)] + [(n - 1, theta)] + [(i, theta / 2) for i in range(n - 2, -1, -1)]
        )
    if exchange == "sequential":
        return [(i, theta) for i in range(n)]
    raise ValueError(f"no product order for exchange {exchange!r}")


def _apply_two_qubit(gate: np.ndarray, qubit: int, n: int, u: np.ndarray) -> np.ndarray:
    """(gate on (qubit, ancilla), identity elsewhere) @ u, for n qubits and the ancilla last (big-endian), without
    building the 2^(n+1) matrix of the gate: O(2^(2n+2)) instead of O(2^(3n+3))."""
    t = u.reshape(2**qubit, 2, 2 ** (n - 1 - qubit), 2, -1)
    g = gate.reshape(2, 2, 2, 2)  # (qubit out, ancilla out, qubit in, ancilla in)
    return np.einsum("abcd,xcydz->xaybz", g, t).reshape(u.shape)


def _hermitian_part(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + a.conj().T)


# --------------------------------------------------------------------------------------------- the step type


@dataclass(frozen=True, eq=False)
class CollisionStep:
    """One collision (or coherent step) of a collision model; frozen, arrays read-only.

    system      positions of the subsystems the step touches, in the mapping's system (physics order), in the
                order of the generator's factors
    dims        their dimensions: 2 for a qubit, D for a cavity of D levels (photon number n = index n)
    generator   Hermitian matrix on system[0] (x) ... (x) system[-1] (x) ancilla (the ancilla last, when present),
                big-endian, in model units: the interaction Hamiltonian with unit coupling for a collision, the
                model's Hamiltonian for a coherent step
    duration    model units; the step is U = exp(-i duration generator) (see ``gates`` for the two exceptions).
                For a collision it is the coupling g (in the model's reference frequency) times the interaction
                time tau, i.e. the exchange angle: a pulse layer switches a coupling g on for tau = duration / g
                (after converting g to hardware units). For a coherent step it is the evolution time. What it
                means per model is stated in each mapping's docstring.
    ancilla     the fresh ancilla's state, 2x2 in the basis (|g>, |e>); None for a coherent step on the system
    reset       whether the circuit resets the ancilla after the step (so that a later step can reuse the qubit);
                False only for an ancilla nothing reuses. The exact channel always traces the ancilla out.
    gates       how the circuit realises the step (``append_steps``):
                "unitary"      U as one UnitaryGate (qubits only); a mapping may use any exact construction instead
                "flip-flop"    generator FLIP_FLOP on (qubit, ancilla) or on two system qubits: XXPlusYYGate(2d, 0)
                "zz"           generator ZZ on (qubit, ancilla) or on two system qubits: RZZGate(2d)
                "palindromic"  generator sum_i h_i (every system qubit exchanged with the ancilla); the circuit and
                               ``unitary`` are its palindromic product of XXPlusYYGates (``exchange_order``), not
                               exp(-i d sum_i h_i): error O(d^3) in U
                "sequential"   the same with the sequential product: a NEGATIVE CONTROL (cascaded channel)
                "ladder"       one cavity of M = 2^m levels and the ancilla; the generator couples only the pairs
                               {|n, e>, |n+1, g>} (real couplings c_n, c_n = 0 for a pair left out) and may hold
                               (pi/duration)|M-1, e><M-1, e| (a sign -1 at the truncation edge, standing for the
                               physical amplitude cos(theta w_M) < 0 of the level M the register lacks); the
                               circuit holds the cavity in the reflected Gray code (docs/physics.md 4.4)
    label       a short name for circuits and reports
    """

    system: tuple[int, ...]
    dims: tuple[int, ...]
    generator: np.ndarray
    duration: float
    ancilla: np.ndarray | None = None
    reset: bool = True
    gates: str = "unitary"
    label: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "system", tuple(int(s) for s in self.system))
        set_(self, "dims", tuple(int(d) for d in self.dims))
        set_(self, "duration", float(self.duration))
        if len(self.system) != len(self.dims) or not self.system or len(set(self.system)) != len(self.system):
            raise ValueError("system and dims must be equally long, non-empty, without repeated positions")
        if any(s < 0 for s in self.system) or any(d < 2 for d in self.dims):
            raise ValueError("system positions must be >= 0 and dimensions >= 2")
        if not math.isfinite(self.duration) or self.duration < 0.0:
            raise ValueError(f"duration must be finite and >= 0 (got {self.duration})")
        if self.gates not in GATES:
            raise ValueError(f"gates must be one of {GATES} (got {self.gates!r})")
        g = np.asarray(self.generator, dtype=complex)
        size = int(np.prod(self.dims)) * (1 if self.ancilla is None else 2)
        if g.shape != (size, size):
            raise ValueError(f"generator must be {size}x{size} for dims {self.dims} (ancilla last); got {g.shape}")
        if np.max(np.abs(g - g.conj().T), initial=0.0) > _MATRIX_TOL * max(1.0, float(np.max(np.abs(g)))):
            raise ValueError("generator must be Hermitian")
        set_(self, "generator", readonly(_hermitian_part(g)))
        if self.ancilla is not None:
            a = np.asarray(self.ancilla, dtype=complex)
            if a.shape != (2, 2) or np.max(np.abs(a - a.conj().T)) > _MATRIX_TOL or abs(np.trace(a) - 1) > 1e-9:
                raise ValueError("ancilla must be a 2x2 Hermitian matrix with trace 1")
            if np.linalg.eigvalsh(_hermitian_part(a))[0] < -1e-9:
                raise ValueError("ancilla must be positive semidefinite")
            set_(self, "ancilla", readonly(_hermitian_part(a)))
        self._check_gates()

    def _check_gates(self) -> None:
        g = self.generator
        qubits = all(d == 2 for d in self.dims)
        two = len(self.system) + (self.ancilla is not None) == 2
        if self.gates in ("flip-flop", "zz"):
            ref = FLIP_FLOP if self.gates == "flip-flop" else ZZ
            if not (qubits and two and np.allclose(g, ref, atol=_MATRIX_TOL)):
                raise ValueError(f"gates={self.gates!r} needs the generator {self.gates} on two qubits")
        elif self.gates in ("palindromic", "sequential"):
            if not (qubits and self.ancilla is not None):
                raise ValueError(f"gates={self.gates!r} needs system qubits and an ancilla")
            if not np.allclose(g, np.sum(ancilla_flip_flops(len(self.system)), axis=0), atol=_MATRIX_TOL):
                raise ValueError(f"gates={self.gates!r} needs the generator sum_i (s-_i s+_a + h.c.)")
        elif self.gates == "ladder":
            if len(self.system) != 1 or self.ancilla is None or self.dims[0] & (self.dims[0] - 1):
                raise ValueError("gates='ladder' needs one cavity of 2^m levels and an ancilla")
            couplings, edge = _ladder_parts(g, self.dims[0], self.duration)
            rebuilt = _ladder_generator(couplings, edge, self.duration)
            if not np.allclose(g, rebuilt, atol=_MATRIX_TOL * max(1.0, float(np.max(np.abs(g))))):
                raise ValueError("gates='ladder' needs a generator on the pairs {|n,e>, |n+1,g>} (and the edge term)")
        elif not qubits:
            raise ValueError("gates='unitary' needs qubit subsystems (a cavity is realised by gates='ladder')")

    @property
    def size(self) -> int:
        """Dimension of the step's space, system subsystems times the ancilla."""
        return self.generator.shape[0]

    @cached_property
    def unitary(self) -> np.ndarray:
        """The unitary the circuit applies on (system..., ancilla): exp(-i duration generator), except for
        gates = "palindromic"/"sequential", where it is the product of the two-qubit factors."""
        d = self.duration
        if self.gates == "flip-flop":
            u = flip_flop_unitary(d)
        elif self.gates == "zz":
            u = np.diag(np.exp(-1j * d * np.diag(ZZ).real))
        elif self.gates in ("palindromic", "sequential"):
            n = len(self.system)
            u = np.eye(self.size, dtype=complex)
            for qubit, angle in exchange_order(n, d, self.gates):
                u = _apply_two_qubit(flip_flop_unitary(angle), qubit, n, u)
        elif self.gates == "ladder":
            couplings, edge = _ladder_parts(self.generator, self.dims[0], d)
            u = _ladder_unitary(couplings, edge, d)
        else:
            u = sla.expm(-1j * d * self.generator)
        return readonly(u)

    @cached_property
    def kraus(self) -> tuple[np.ndarray, ...]:
        """Kraus operators of the step on its own system subsystems (product of ``dims``): see ``collision_kraus``."""
        if self.ancilla is None:
            return (self.unitary,)
        return tuple(readonly(k) for k in collision_kraus(self.unitary, self.ancilla))


def coherent_step(system: Sequence[int], generator: np.ndarray, duration: float, label: str = "") -> CollisionStep:
    """A step without ancilla on qubits ``system``: U = exp(-i duration generator), one UnitaryGate."""
    return CollisionStep(tuple(system), (2,) * len(system), generator, duration, label=label)


def unitary_step(system: Sequence[int], u: np.ndarray, label: str = "") -> CollisionStep:
    """A coherent step applying the unitary ``u`` (e.g. an extraction unitary) on qubits ``system``, described by the
    Hermitian generator G = i log(u) (principal branch, eigenphases in (-pi, pi]) and duration 1."""
    u = np.asarray(u, dtype=complex)
    t, z = sla.schur(u, output="complex")  # u normal: t is diagonal up to rounding, z unitary
    phases = np.angle(np.diag(t))
    generator = (z * (-phases)) @ z.conj().T
    return coherent_step(system, _hermitian_part(generator), 1.0, label)


def ancilla_step(
    system: Sequence[int],
    generator: np.ndarray,
    duration: float,
    ancilla: np.ndarray,
    gates: str,
    *,
    reset: bool = True,
    label: str = "",
) -> CollisionStep:
    """A collision of the qubits ``system`` with a fresh ancilla in ``ancilla`` (see CollisionStep)."""
    return CollisionStep(tuple(system), (2,) * len(system), generator, duration, ancilla, reset, gates, label)


def _ladder_generator(couplings: np.ndarray, edge: bool, duration: float) -> np.ndarray:
    levels = len(couplings) + 1
    g = np.zeros((2 * levels, 2 * levels), dtype=complex)
    for n, c in enumerate(couplings):
        g[2 * n + 1, 2 * (n + 1)] = g[2 * (n + 1), 2 * n + 1] = c  # |n, e> <-> |n+1, g>
    if edge:
        g[2 * levels - 1, 2 * levels - 1] = math.pi / duration
    return g


def _ladder_parts(g: np.ndarray, levels: int, duration: float) -> tuple[np.ndarray, bool]:
    """(couplings c_n, edge phase) of a ladder generator; the edge entry must be pi/duration (or 0)."""
    couplings = np.array([g[2 * n + 1, 2 * (n + 1)].real for n in range(levels - 1)])
    corner = g[2 * levels - 1, 2 * levels - 1].real
    edge = corner != 0.0
    if edge and (duration <= 0.0 or abs(corner * duration - math.pi) > 1e-9):
        raise ValueError("the edge term of a ladder generator must be pi/duration")
    return couplings, edge


def _ladder_unitary(couplings: np.ndarray, edge: bool, duration: float) -> np.ndarray:
    """exp(-i d G) of a ladder generator: RX(2 d c_n) on each pair {|n, e>, |n+1, g>}, -1 on |M-1, e> at the edge."""
    levels = len(couplings) + 1
    u = np.eye(2 * levels, dtype=complex)
    for n, c in enumerate(couplings):
        if c == 0.0:
            continue
        i, j = 2 * n + 1, 2 * (n + 1)
        u[i, i] = u[j, j] = math.cos(duration * c)
        u[i, j] = u[j, i] = -1j * math.sin(duration * c)
    if edge:
        u[2 * levels - 1, 2 * levels - 1] = -1.0
    return u


def ladder_step(
    couplings: Sequence[float] | np.ndarray,
    duration: float,
    ancilla: np.ndarray,
    *,
    edge_phase: bool = False,
    reset: bool = True,
    label: str = "",
) -> CollisionStep:
    """A collision of the cavity (system position 0, M = len(couplings) + 1 levels) with a fresh ancilla:

        generator = sum_n c_n (|n, e><n+1, g| + h.c.) [+ (pi/duration) |M-1, e><M-1, e| if edge_phase],

    e.g. c_n = w_(n+1) gives b s+ + b^dag s- (b = sum_n w_n |n-1><n| truncated at M levels, s+ = |e><g|).
    """
    c = np.asarray(couplings, dtype=float)
    levels = c.size + 1
    g = _ladder_generator(c, edge_phase, duration)
    return CollisionStep((0,), (levels,), g, duration, ancilla, reset, "ladder", label)


# --------------------------------------------------------------------------------------------- the channel


def collision_kraus(u: np.ndarray, ancilla_state: np.ndarray) -> list[np.ndarray]:
    """Kraus operators of rho -> Tr_a[U (rho (x) tau) U^dagger], the ancilla the LAST (least significant) factor.

    With tau = sum_j w_j |v_j><v_j|: K_ij = sqrt(w_j) <i|_a U |v_j>_a (i, j = 0, 1). This is THE channel of a
    collision with a fresh ancilla; every mapping's exact state is built from it.
    """
    u = np.asarray(u, dtype=complex)
    w, v = np.linalg.eigh(_hermitian_part(np.asarray(ancilla_state, dtype=complex)))
    d = u.shape[0] // 2
    u4 = (u @ np.kron(np.eye(d), v)).reshape(d, 2, d, 2)
    return [math.sqrt(float(w[j])) * u4[:, i, :, j] for j in range(2) if w[j] > _WEIGHT_CUT for i in range(2)]


def apply_kraus(kraus: Sequence[np.ndarray], rho: np.ndarray) -> np.ndarray:
    return sum((k @ rho @ k.conj().T for k in kraus), np.zeros_like(rho))


def embed_operator(op: np.ndarray, positions: Sequence[int], dims: Sequence[int]) -> np.ndarray:
    """``op`` acting on the subsystems ``positions`` (in that order) of a register with dimensions ``dims``
    (big-endian), identity on the others."""
    dims = list(dims)
    n = len(dims)
    positions = list(positions)
    if positions == list(range(n)):
        return np.asarray(op)
    rest = [i for i in range(n) if i not in positions]
    order = positions + rest
    big = np.kron(op, np.eye(int(np.prod([dims[i] for i in rest])), dtype=complex))
    t = big.reshape([dims[i] for i in order] * 2)
    axis = [order.index(i) for i in range(n)]
    total = int(np.prod(dims))
    return t.transpose(axis + [n + a for a in axis]).reshape(total, total)


def _check_system(steps: Sequence[CollisionStep], dims: Sequence[int]) -> None:
    for s in steps:
        if any(p >= len(dims) or dims[p] != d for p, d in zip(s.system, s.dims, strict=True)):
            raise ValueError(f"step {s.label!r} acts on {s.system} with dims {s.dims}, not on the system {dims}")


def steps_channel(steps: Sequence[CollisionStep], dims: Sequence[int]) -> Callable[[np.ndarray], np.ndarray]:
    """The exact channel of ``steps`` on a system of dimensions ``dims`` (big-endian), as a function rho -> rho'.

    The Kraus operators of each distinct step are embedded once; the function applies them in time order.
    """
    dims = tuple(int(d) for d in dims)
    _check_system(steps, dims)
    cache: dict[int, list[np.ndarray]] = {}
    sequence = []
    for s in steps:
        if id(s) not in cache:
            cache[id(s)] = [embed_operator(k, s.system, dims) for k in s.kraus]
        sequence.append(cache[id(s)])

    def channel(rho: np.ndarray) -> np.ndarray:
        out = np.asarray(rho, dtype=complex)
        for kraus in sequence:
            out = apply_kraus(kraus, out)
        return out

    return channel


def apply_steps(steps: Sequence[CollisionStep], rho: np.ndarray, dims: Sequence[int]) -> np.ndarray:
    """rho after the exact channel of ``steps`` (Hermitian part; the channel preserves the trace)."""
    return _hermitian_part(steps_channel(steps, dims)(rho))


def steps_superoperator(steps: Sequence[CollisionStep], dims: Sequence[int]) -> np.ndarray:
    """The channel of ``steps`` as a superoperator on column-stacked states (qbhw.physics.lindblad's ``vec``)."""
    dims = tuple(int(d) for d in dims)
    _check_system(steps, dims)
    total = int(np.prod(dims))
    out = np.eye(total * total, dtype=complex)
    cache: dict[int, np.ndarray] = {}
    for s in steps:
        if id(s) not in cache:
            kraus = [embed_operator(k, s.system, dims) for k in s.kraus]
            cache[id(s)] = np.sum([np.kron(k.conj(), k) for k in kraus], axis=0)
        out = cache[id(s)] @ out
    return out


# --------------------------------------------------------------------------------------------- the circuit


def needs_purifier(steps: Sequence[CollisionStep]) -> bool:
    """Whether some step's ancilla state is mixed (``prepare_qubit`` then needs a purifier qubit)."""
    return any(s.ancilla is not None and is_mixed(s.ancilla) for s in steps)


def append_steps(
    circuit: Any,
    steps: Sequence[CollisionStep],
    qubits: Sequence[Sequence[int]],
    *,
    ancilla: int | None = None,
    purifier: int | None = None,
) -> None:
    """Append the circuit of ``steps`` to ``circuit``: for each step, prepare the ancilla (``prepare_qubit``, from
    |0>), the interaction (``step.gates``), and the ancilla's reset if ``step.reset``.

    qubits[p]  the virtual qubits holding system subsystem p, most significant first: one for a qubit, m for a
               cavity of 2^m levels (held in the reflected Gray code g(n) = n ^ (n >> 1) during "ladder" steps;
               the caller converts from and to binary)
    ancilla    the ancilla qubit (must be |0> before the first step with an ancilla, and a step without reset
               must be the last one using it); purifier: a qubit in |0> for mixed ancilla states
    """
    ancilla_free = True
    # one gate object per distinct step (a step repeated k times is appended k times; UnitaryGate checks its matrix)
    gates: dict[int, tuple[Any, list[tuple[Any, list[int]]]]] = {}
    for s in steps:
        if id(s) not in gates:
            prep = preparation(s.ancilla) if s.ancilla is not None else None
            gates[id(s)] = (prep, _interaction(s, qubits, ancilla))
        prep, ops = gates[id(s)]
        if prep is not None:
            if ancilla is None:
                raise ValueError(f"step {s.label!r} needs an ancilla qubit")
            if not ancilla_free:
                raise ValueError("a step without reset must be the last step that uses the ancilla")
            append_preparation(circuit, ancilla, prep, purifier)
        for op, qargs in ops:
            if op == "rzz":
                circuit.rzz(*qargs)
            else:
                circuit.append(op, qargs)
        if s.ancilla is not None:
            if s.reset:
                circuit.reset(ancilla)
            else:
                ancilla_free = False


def _interaction(step: CollisionStep, qubits: Sequence[Sequence[int]], ancilla: int | None) -> list[tuple[Any, list]]:
    """The (operation, qargs) pairs realising ``step.gates`` (the "ladder" construction goes through a circuit)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate, XXPlusYYGate

    physical = [q for p in step.system for q in qubits[p]]
    if step.gates != "ladder" and len(physical) != len(step.system):
        raise ValueError(f"gates={step.gates!r} acts on qubits; give one qubit per system subsystem")
    targets = physical + ([] if step.ancilla is None or ancilla is None else [ancilla])
    if step.gates == "unitary":
        # UnitaryGate reads its first qarg as the least significant bit: physics order reversed. The matrix is a
        # writeable C-ordered copy: qiskit-aer 0.18 simulated a UnitaryGate holding the step's read-only matrix
        # wrongly (trace distance ~0.5, with qiskit 1.3.0 and 2.6.2; Qiskit's Operator was right)
        return [(UnitaryGate(np.array(step.unitary, order="C"), label=step.label or None), targets[::-1])]
    if step.gates == "flip-flop":
        # exp[-i a (s-s+ + s+s-)] = exp[-i a (XX + YY)/2] = XXPlusYYGate(2a, beta=0) (docs/physics.md section 0)
        return [(XXPlusYYGate(2.0 * step.duration, 0.0), targets)]
    if step.gates == "zz":
        return [("rzz", [2.0 * step.duration, targets[0], targets[1]])]
    if step.gates in ("palindromic", "sequential"):
        return [
            (XXPlusYYGate(2.0 * angle, 0.0), [physical[qubit], targets[-1]])
            for qubit, angle in exchange_order(len(step.system), step.duration, step.gates)
        ]
    couplings, edge = _ladder_parts(step.generator, step.dims[0], step.duration)
    width = max(max(targets) + 1, 1)
    sub = QuantumCircuit(width)
    _append_ladder(sub, 2.0 * step.duration * couplings, edge, physical, targets[-1])
    return [(inst.operation, [sub.find_bit(q).index for q in inst.qubits]) for inst in sub.data]


def _gray(n: int) -> int:
    return n ^ (n >> 1)


def _append_ladder(circuit: Any, angles: np.ndarray, edge: bool, cavity: Sequence[int], atom: int) -> None:
    """RX(angles[n]) on every pair {|n, e>, |n+1, g>} of a Gray-coded cavity (cavity[0] = most significant bit),
    and -1 on |M-1, e> if ``edge``.

    In the Gray code the step n -> n+1 flips exactly one bit j(n). For each bit j: CX(atom -> q_j) . UCRX_j .
    CX(atom -> q_j), where the CX brings |n, e> onto the cavity word g(n+1) of its partner and UCRX_j (RX on the
    atom multiplexed over the m cavity qubits) rotates the pair by angles[n] on the word g(n+1) of every pair whose
    step flips j (angle 0 elsewhere). The pairs are disjoint, so the product is exact. This replaces the
    CINC^dag . UCRX . CINC form of docs/physics.md 4.4 (same unitary) at about 2/3 of its two-qubit gates.
    """
    from qiskit.circuit.library import UCRXGate

    m = len(cavity)
    levels = 2**m

    def bit_qubit(j: int) -> int:
        return cavity[m - 1 - j]

    controls = [bit_qubit(j) for j in range(m)]  # UCRX control k = bit k of the multiplexer index
    if edge:
        # -1 on |M-1, e>: cavity word g(M-1) = 2^(m-1), atom e (commutes with every pair rotation); a
        # multi-controlled Z as H . MCX . H on the atom (MCX with open controls exists in qiskit 1.3 and 2.x)
        circuit.h(atom)
        circuit.mcx(controls, atom, ctrl_state=_gray(levels - 1))
        circuit.h(atom)
    for j in range(m):
        multiplexed = [0.0] * levels
        for n, phi in enumerate(angles):
            if phi != 0.0 and _gray(n) ^ _gray(n + 1) == 1 << j:
                multiplexed[_gray(n + 1)] = float(phi)
        if not any(multiplexed):
            continue
        circuit.cx(atom, bit_qubit(j))
        circuit.append(UCRXGate(multiplexed), [atom] + controls)
        circuit.cx(atom, bit_qubit(j))


def gray_to_binary(circuit: Any, cavity: Sequence[int]) -> None:
    """Convert a cavity register (cavity[0] most significant) from the reflected Gray code to binary: m-1 CX."""
    m = len(cavity)
    for j in range(m - 2, -1, -1):  # x_j = g_j ^ x_(j+1), from the top bit down
        circuit.cx(cavity[m - 1 - (j + 1)], cavity[m - 1 - j])


# --------------------------------------------------------------------------------------------- the search

#: a step count found WITHOUT a fixed point must keep the distance within tolerance up to 2k + STABLE_MARGIN steps:
#: a heuristic guard against a transient dip on the time scale of the approach itself (2k) and, for small k, of a
#: few steps more. It is NOT a proof: measured on the collective palindromic grid (N = 3..6, T = 0.5..5, theta =
#: 0.05..1.55 in steps of 0.15), 10 of the 39 k it accepted left the tolerance within 500 collisions, and every
#: default palindromic steady-state circuit drifts away after its k (qbhw.mapping.collective, "Steady state").
#: Results found this way say so (``StableSearch.certified`` False); with a fixed point the search is exact.
STABLE_MARGIN = 10
#: with a fixed point, the search follows the trajectory for at most CERTIFY_HORIZON * max(limit, STABLE_MARGIN)
#: steps to certify k (a cost cap only: a k not certified by then is rejected, never accepted wrongly)
CERTIFY_HORIZON = 4


@dataclass(frozen=True)
class StableSearch:
    """Result of ``fewest_stable_steps``: ``steps`` (None if none qualifies), the trace distance to the target at
    ``steps`` (or after the last step examined), and whether staying within tolerance is proven (``certified``,
    from a fixed point) or only checked over a window (2k + STABLE_MARGIN)."""

    steps: int | None
    distance: float
    certified: bool


def fewest_stable_steps(
    step: Callable[[np.ndarray], np.ndarray],
    rho0: np.ndarray,
    target: np.ndarray,
    tolerance: float,
    limit: int,
    *,
    fixed_point: np.ndarray | None = None,
) -> StableSearch:
    """The fewest k <= ``limit`` with D(step^j(rho0), target) <= tolerance for every j >= k (D = trace distance).

    With ``fixed_point`` (any state sigma with step(sigma) = sigma): D(step^j rho0, sigma) never increases with j
    (trace distance contracts under a channel), so once D(rho_J, sigma) + D(sigma, target) <= tolerance at some J,
    the distance to the target stays within tolerance for every later step; k is then the start of the run of
    in-tolerance steps that reaches J. The result is exact (``certified``); k is rejected if no certificate is
    reached within CERTIFY_HORIZON * max(limit, STABLE_MARGIN) steps. Without a fixed point, k is accepted once
    the distance stays within tolerance up to 2k + STABLE_MARGIN steps (not certified).
    """
    rho = np.asarray(rho0, dtype=complex)
    d = trace_distance(rho, target)
    slack = None if fixed_point is None else tolerance - trace_distance(fixed_point, target)
    if slack is not None and slack < 0.0:
        return StableSearch(None, d, True)
    horizon = 2 * limit + STABLE_MARGIN if slack is None else CERTIFY_HORIZON * max(limit, STABLE_MARGIN)
    found: tuple[int, float] | None = None  # (first step of the current run within tolerance, its distance)
    j = 0
    while j < horizon:
        j += 1
        rho = step(rho)
        d = trace_distance(rho, target)
        if d > tolerance:
            found = None
        elif found is None:
            found = (j, d)
        if found is None:
            if j >= limit:  # any k found from here on would exceed the limit
                return StableSearch(None, d, slack is not None)
        elif fixed_point is not None and slack is not None:
            if trace_distance(rho, fixed_point) <= slack:
                return StableSearch(found[0], found[1], True)
        elif j >= 2 * found[0] + STABLE_MARGIN:
            return StableSearch(found[0], found[1], False)
    return StableSearch(None, d, slack is not None)


def vec_step(superop: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """rho -> superop applied to rho (column stacking), for ``fewest_stable_steps``."""

    def step(rho: np.ndarray) -> np.ndarray:
        return unvec(superop @ vec(rho), rho.shape[0])

    return step
