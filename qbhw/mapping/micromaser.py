"""Micromaser battery as a collision circuit: a binary-encoded cavity charged by re-prepared atom qubits.

docs/physics.md section 4.4. Units of the cavity frequency (omega = 1).

Register and encoding. The cavity is held in m = ceil(log2 D) qubits, virtual qubits 0 ... m-1 = register, in
physics order: register index n (register[0] the most significant bit) is the photon number n, n = 0 ... M-1 with
M = 2^m; levels n >= D exist in the encoding and carry their energy (hamiltonian = diag(0, 1, ..., M-1)). Virtual
qubit m is the atom (|g> = |0>, |e> = |1>), virtual qubit m+1 a purifier, present only when the atom state is
mixed (``prepare_qubit``). During the collisions the cavity qubits hold the reflected Gray code g(n) = n ^ (n >> 1)
of n (the vacuum is 0 in both codes); m-1 CX gates at the end convert back to binary.

One collision, exact. U = exp(-i theta (b s+ + b^dag s-)), theta = g_tau, is block diagonal: |0, g> alone and
the pairs {|n, e>, |n+1, g>} (n = 0, 1, ...), on which it is RX(phi_n) = exp(-i (phi_n/2) X) in that order with

    phi_n = 2 theta w_(n+1),   w_k = sqrt(k) (coupling="jaynes-cummings") or 1 (coupling="ladder").

The pairs are disjoint, so applying them one after another is exact (no Trotter error). In the Gray code the step
n -> n+1 flips exactly one bit j(n); for each bit j the circuit applies CX(atom -> q_j) . UCRX_j . CX(atom -> q_j),
where the CX brings |n, e> onto the cavity word g(n+1) of its partner and UCRX_j (``qiskit.circuit.library.
UCRXGate``, RX(angle) on the atom multiplexed over the m cavity qubits) rotates it with phi_n on the word g(n+1)
of every pair whose step flips j (angle 0 elsewhere). This replaces the CINC^dag . UCRX . CINC form of docs/physics.md
4.4 (same unitary) at about 2/3 of its two-qubit gate count (m = 3: ~30 CZ instead of ~48).

Truncation edge. |M-1, e> would couple to |M, g>, which the register does not hold; the circuit leaves it alone
(the model's own truncation at M, equal to CINC's mod-M wrap with theta_0 = 0) except for the sign:
U|M-1, e> = s |M-1, e> with s = sign(cos(theta w_M)). s = -1 (e.g. exact trapping theta sqrt(M) = k pi with k
odd, where the physical amplitude is exactly cos(k pi) = -1) costs one multi-controlled Z per collision in which
level M-1 can be occupied. A collision is also pruned to the pairs that can be occupied: from the vacuum the
cavity holds at most k-1 photons before collision k (and at most N_tr under exact Jaynes-Cummings trapping), so
empty pairs get angle 0 and an all-zero UCRX is omitted. The exact channel ``exact_state`` is built from the same
pruned unitaries in numpy, so it is the circuit's channel on every input, not only on the vacuum.

Ideal state and gauge. ``ideal_state`` is the untruncated micromaser (``qbhw.models.micromaser`` at its automatic,
exact cutoff, min(K, N_tr) + 2 <= 62 levels) restricted to the M register levels. It is the physical density
matrix in the Fock basis (the model's ``state``, already un-gauged: rho_01 = i C sqrt(P(1-P)) sin(theta) after one
collision), which is also what the circuit produces; no gauge factor i^(n-m) appears anywhere here. If the
physical cavity puts more than ``cutoff_tolerance`` of population above level M-1 at any collision, the register
cannot hold it and ParameterError("cutoff") is raised.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.mapping._common import MappedCircuit, prepare_qubit, qubit_state_preparation
from qbhw.models import micromaser as model
from qbhw.physics import distance
from qbhw.physics import thermodynamics as thermo

ENCODINGS = ("binary", "unary")
#: largest cavity register (qubits) for a hardware run: D <= 16 levels
MAX_CAVITY_QUBITS = 4
#: largest number of collisions for a hardware run (circuit depth; ~30-70 CZ per collision)
MAX_COLLISIONS = 60


def _gray(n: int) -> int:
    return n ^ (n >> 1)


@dataclasses.dataclass(frozen=True)
class CollisionPlan:
    """What the circuit applies in collision k (1-based), shared by the circuit and its exact channel.

    angles[n] is phi_n of the pair {|n, e>, |n+1, g>} (0 for a pruned pair), n = 0 ... M-2; edge_phase says
    whether the phase -1 on |M-1, e> is applied.
    """

    collision: int
    angles: tuple[float, ...]
    edge_phase: bool


def _weights(coupling: str, levels: int) -> np.ndarray:
    """w_k, k = 0 ... levels (sqrt(k) for Jaynes-Cummings, 1 for the ladder)."""
    k = np.arange(levels + 1, dtype=float)
    return np.sqrt(k) if coupling == "jaynes-cummings" else np.ones_like(k)


def cavity_levels(params: model.MicromaserParams) -> tuple[int, int]:
    """(D, m): the cutoff D the register must hold and the number of cavity qubits m = ceil(log2 D) (m >= 1).

    D = ``params.cutoff``, or, when it is None, the smallest number of levels that holds the cavity exactly from
    the vacuum: min(K, N_tr) + 1 (N_tr under exact Jaynes-Cummings trapping, else K), at least 2.
    Raises ParameterError("cutoff") for D > 2^MAX_CAVITY_QUBITS.
    """
    if params.cutoff is not None:
        d = int(params.cutoff)
    else:
        top = int(params.collisions)
        if params.coupling == "jaynes-cummings":
            n_tr = model.trapping_photon_number(params.g_tau)
            if n_tr is not None:
                top = min(top, n_tr)
        d = max(2, top + 1)
    if d > 2**MAX_CAVITY_QUBITS:
        raise ParameterError(
            "cutoff",
            f"<= {2**MAX_CAVITY_QUBITS} for a hardware run (a cavity register of at most {MAX_CAVITY_QUBITS} "
            "qubits); without --cutoff the cavity needs min(collisions, N_tr) + 1 levels",
            d,
        )
    m = max(1, math.ceil(math.log2(d)))
    return d, m


def _trapping(params: model.MicromaserParams) -> int | None:
    return model.trapping_photon_number(params.g_tau) if params.coupling == "jaynes-cummings" else None


def collision_plans(params: model.MicromaserParams, cavity_qubits: int) -> list[CollisionPlan]:
    """The pruned collisions 1 ... K on an M = 2^cavity_qubits register (see the module docstring)."""
    levels = 2**cavity_qubits
    theta = float(params.g_tau)
    w = _weights(params.coupling, levels)
    phi = 2.0 * theta * w[1:levels]  # phi_n = 2 theta w_(n+1), n = 0 ... M-2
    edge_sign = -1.0 if math.cos(theta * w[levels]) < 0.0 else 1.0
    n_tr = _trapping(params)
    top_reachable = levels - 1 if n_tr is None else min(levels - 1, n_tr)
    plans = []
    for k in range(1, int(params.collisions) + 1):
        occupied = min(k - 1, top_reachable)  # highest photon number before collision k
        angles = tuple(float(phi[n]) if n <= occupied else 0.0 for n in range(levels - 1))
        plans.append(CollisionPlan(k, angles, edge_sign < 0.0 and occupied >= levels - 1))
    return plans


def collision_matrix(plan: CollisionPlan) -> np.ndarray:
    """The unitary of one planned collision on cavity (x) atom, physics order (index 2n + a), shape (2M, 2M)."""
    levels = len(plan.angles) + 1
    u = np.eye(2 * levels, dtype=complex)
    for n, phi in enumerate(plan.angles):
        if phi == 0.0:
            continue
        i, j = 2 * n + 1, 2 * (n + 1)  # |n, e>, |n+1, g>
        c, s = math.cos(0.5 * phi), math.sin(0.5 * phi)
        u[i, i] = u[j, j] = c
        u[i, j] = u[j, i] = -1j * s
    if plan.edge_phase:
        u[2 * levels - 1, 2 * levels - 1] = -1.0
    return u


def _apply_collision(rho: np.ndarray, u: np.ndarray, rho_atom: np.ndarray) -> np.ndarray:
    """Tr_atom[U (rho (x) rho_atom) U^dag] = sum_{i,k,l} (rho_atom)_kl U_ik rho U_il^dag."""
    levels = rho.shape[0]
    blocks = u.reshape(levels, 2, levels, 2)
    out = np.zeros_like(rho)
    for i in range(2):
        for k in range(2):
            for l in range(2):
                if rho_atom[k, l] != 0:
                    out += rho_atom[k, l] * (blocks[:, i, :, k] @ rho @ blocks[:, i, :, l].conj().T)
    return out


def exact_channel_state(
    plans: list[CollisionPlan], rho_atom: np.ndarray, cavity_qubits: int, initial: np.ndarray | None = None
) -> np.ndarray:
    """The register state after the planned collisions (physics order, photon-number basis), from the vacuum."""
    levels = 2**cavity_qubits
    rho = np.zeros((levels, levels), dtype=complex)
    if initial is None:
        rho[0, 0] = 1.0
    else:
        rho[...] = initial
    for plan in plans:
        rho = _apply_collision(rho, collision_matrix(plan), rho_atom)
    return 0.5 * (rho + rho.conj().T)


def collision_circuit(plan: CollisionPlan, cavity_qubits: int):
    """One planned collision on m + 1 qubits: cavity (Gray-coded, qubit m-1-j holds bit j) and the atom (qubit m).

    The atom preparation and reset are not included.
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UCRXGate

    m = cavity_qubits
    levels = 2**m
    atom = m
    qc = QuantumCircuit(m + 1, name=f"collision {plan.collision}")

    def bit_qubit(j: int) -> int:
        return m - 1 - j

    controls = [bit_qubit(j) for j in range(m)]  # UCRX control k = bit k of the multiplexer index
    if plan.edge_phase:
        # -1 on |M-1, e>: cavity word g(M-1) = 2^(m-1), atom e (commutes with every pair rotation); a
        # multi-controlled Z as H . MCX . H on the atom (MCX with open controls exists in qiskit 1.3 and 2.x)
        qc.h(atom)
        qc.mcx(controls, atom, ctrl_state=_gray(levels - 1))
        qc.h(atom)
    for j in range(m):
        angles = [0.0] * levels
        for n, phi in enumerate(plan.angles):
            if phi != 0.0 and _gray(n) ^ _gray(n + 1) == 1 << j:
                angles[_gray(n + 1)] = phi
        if not any(angles):
            continue
        qc.cx(atom, bit_qubit(j))
        qc.append(UCRXGate(angles), [atom] + controls)
        qc.cx(atom, bit_qubit(j))
    return qc


def _gray_to_binary(qc, cavity_qubits: int) -> None:
    m = cavity_qubits
    for j in range(m - 2, -1, -1):  # x_j = g_j ^ x_(j+1), from the top bit down
        qc.cx(m - 1 - (j + 1), m - 1 - j)


def _check_hardware_params(params: model.MicromaserParams, encoding: str) -> None:
    _validate.one_of("encoding", encoding, ENCODINGS)
    if encoding == "unary":
        raise ParameterError(
            "encoding",
            "'binary' (the one-hot encoding would need D qubits and 2^D-dimensional register states; not mapped)",
            encoding,
        )
    if params.cavity_loss > 0.0:
        raise ParameterError(
            "cavity_loss", "0 for a hardware run (the circuit has no engineered cavity bath)", params.cavity_loss
        )
    if params.thermal_photons > 0.0:
        raise ParameterError(
            "thermal_photons",
            "0 for a hardware run (the circuit has no engineered cavity bath)",
            params.thermal_photons,
        )
    if params.collisions > MAX_COLLISIONS:
        raise ParameterError("collisions", f"<= {MAX_COLLISIONS} for a hardware run (circuit depth)", params.collisions)


def _ideal_register_state(params: model.MicromaserParams, levels: int, d: int) -> tuple[np.ndarray, float]:
    """(the physical cavity state on levels 0 ... M-1, the largest population above M-1 over collisions 0 ... K)."""
    ref = dataclasses.replace(params, cutoff=None)
    k = int(params.collisions)
    traj = model.trajectory(ref, collisions=np.arange(k + 1))
    dist = np.asarray(traj.photon_distribution)
    leak = float(np.max(np.sum(dist[:, levels:], axis=1))) if dist.shape[1] > levels else 0.0
    if leak > params.cutoff_tolerance:
        raise ParameterError(
            "cutoff",
            f"large enough for the physical cavity: {levels} register levels (cutoff {d}) lose {leak:.3g} of "
            f"the population above level {levels - 1} (tolerance {params.cutoff_tolerance:g})",
            params.cutoff if params.cutoff is not None else d,
        )
    rho_ref = np.asarray(traj.final_state)
    ideal = np.zeros((levels, levels), dtype=complex)
    top = min(levels, rho_ref.shape[0])
    ideal[:top, :top] = rho_ref[:top, :top]
    return ideal, leak


def micromaser_circuit(params: model.MicromaserParams, *, encoding: str = "binary") -> MappedCircuit:
    """K Jaynes-Cummings (or ladder) collisions from the vacuum as one circuit with mid-circuit atom resets.

    Circuit: for k = 1 ... K: [reset atom (k >= 2)], prepare the atom in ``atom_state(P, C)`` (``prepare_qubit``,
    purifier qubit m+1 only for a mixed atom), the exact collision (``collision_circuit``); then Gray -> binary.
    register = (0, ..., m-1) (photon number n, most significant bit first), battery = all of it, hamiltonian =
    diag(0, ..., 2^m - 1). ideal_state: the physical micromaser on the register levels (module docstring);
    exact_state: the circuit's channel (pruned collisions and the truncation edge included). extraction: U* of
    ideal_state with that hamiltonian, one UnitaryGate on the register.

    Raises ParameterError naming the field for what a hardware run cannot do: encoding="unary", cavity_loss > 0,
    thermal_photons > 0, collisions > MAX_COLLISIONS, a cutoff above 2^MAX_CAVITY_QUBITS, a register too small
    for the physical cavity (cutoff).
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate

    _check_hardware_params(params, encoding)
    d, m = cavity_levels(params)
    levels = 2**m
    ideal, leak = _ideal_register_state(params, levels, d)
    rho_atom = model.atom_state(params.p_excited, params.coherence)
    mixed = qubit_state_preparation(rho_atom)[0] > 0.0
    plans = collision_plans(params, m)
    exact = exact_channel_state(plans, rho_atom, m)

    atom = m
    purifier = m + 1 if mixed else None
    qc = QuantumCircuit(m + 2 if mixed else m + 1, name="micromaser")
    for plan in plans:
        if plan.collision > 1:
            qc.reset(atom)
        prepare_qubit(qc, atom, rho_atom, purifier)
        qc.compose(collision_circuit(plan, m), qubits=list(range(m + 1)), inplace=True)
    _gray_to_binary(qc, m)

    hamiltonian = np.diag(np.arange(levels, dtype=float))
    u_star = thermo.extraction_unitary(ideal, hamiltonian)
    extraction = QuantumCircuit(m, name="extraction")
    extraction.append(UnitaryGate(u_star, label="U*"), list(range(m - 1, -1, -1)))  # qubit 0 = most significant

    theta = float(params.g_tau)
    w = _weights(params.coupling, levels)
    edge_collisions = sum(p.edge_phase for p in plans)
    trace_dist = distance.trace_distance(exact, ideal)
    return MappedCircuit(
        model="micromaser",
        circuit=qc,
        register=tuple(range(m)),
        battery=tuple(range(m)),
        hamiltonian=hamiltonian,
        ideal_state=ideal,
        exact_state=exact,
        extraction=extraction,
        description=(
            f"{int(params.collisions)} exact {params.coupling} collisions (g_tau = {theta:.10g}, P = "
            f"{float(params.p_excited):g}, C = {float(params.coherence):g}) on a {m}-qubit binary cavity "
            f"(Gray-coded while running), atom reset between collisions"
        ),
        details={
            "encoding": "binary",
            "cavity_qubits": m,
            "register_levels": levels,
            "cutoff": d,
            "collisions": int(params.collisions),
            "coupling": params.coupling,
            "pair_angles": [float(2.0 * theta * w[n + 1]) for n in range(levels - 1)],
            "edge_sign": -1 if math.cos(theta * w[levels]) < 0.0 else 1,
            "edge_phase_collisions": int(edge_collisions),
            "trapping_photon_number": _trapping(params),
            "purifier": bool(mixed),
            "max_population_above_register": leak,
            "mapping_error_trace_distance": trace_dist,
            "mapping_fidelity": distance.fidelity(exact, ideal),
            "gauge": "physical Fock basis (no i^(n-m) gauge), the same as the circuit's output",
            "exact_collisions": True,
        },
    )
