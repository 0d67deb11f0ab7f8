"""Micromaser battery as a collision circuit: a binary-encoded cavity charged by re-prepared atom qubits.

docs/physics.md section 4.4. Units of the cavity frequency (omega = 1).

Register and encoding. The cavity is held in m = ceil(log2 D) qubits, virtual qubits 0 ... m-1 = register, in
physics order: register index n (register[0] the most significant bit) is the photon number n, n = 0 ... M-1 with
M = 2^m; levels n >= D exist in the encoding and carry their energy (hamiltonian = diag(0, 1, ..., M-1)). Virtual
qubit m is the atom (|g> = |0>, |e> = |1>), virtual qubit m+1 a purifier, present only when an ancilla state is
mixed (``prepare_qubit``). During the collisions the cavity qubits hold the reflected Gray code g(n) = n ^ (n >> 1)
of n (the vacuum is 0 in both codes); m-1 CX gates at the end convert back to binary.

One collision, exact. U = exp(-i theta (b s+ + b^dag s-)), theta = g_tau, is block diagonal: |0, g> alone and
the pairs {|n, e>, |n+1, g>} (n = 0, 1, ...), on which it is RX(phi_n) = exp(-i (phi_n/2) X) in that order with

    phi_n = 2 theta w_(n+1),   w_k = sqrt(k) (coupling="jaynes-cummings") or 1 (coupling="ladder").

The pairs are disjoint, so applying them one after another is exact (no Trotter error); the Gray-coded pair
rotations are the kit's "ladder" construction (qbhw.mapping._collisions).

Truncation edge. |M-1, e> would couple to |M, g>, which the register does not hold; the circuit leaves it alone
(the model's own truncation at M, equal to CINC's mod-M wrap with theta_0 = 0) except for the sign:
U|M-1, e> = s |M-1, e> with s = sign(cos(theta w_M)). s = -1 (e.g. exact trapping theta sqrt(M) = k pi with k
odd, where the physical amplitude is exactly cos(k pi) = -1) costs one multi-controlled Z per collision in which
level M-1 can be occupied. A collision is also pruned to the pairs that can be occupied: from the vacuum the
cavity holds at most k-1 photons before collision k (and at most N_tr under exact Jaynes-Cummings trapping), so
empty pairs get coupling 0 and an all-zero UCRX is omitted. The exact channel ``exact_state`` is built from the
same steps, so it is the circuit's channel on every input, not only on the vacuum.

Cavity loss (``cavity_loss`` = kappa dt between collisions, ``thermal_photons`` = nth). Between two atoms the
model applies Lambda = exp(kappa dt [(nth+1) D[b] + nth D[b^dag]]) (b the coupling's lowering operator, truncated
at M levels on the register). The circuit engineers it with S sub-collisions of the cavity with a damping
ancilla in tau_L = (1-p)|g><g| + p|e><e|, p = nth/(2 nth + 1), by the same ladder exchange exp(-i phi (b s+ +
b^dag s-)), then reset. tau_L is diagonal, so to second order one sub-collision is 1 + phi^2 [(1-p) D[b] +
p D[b^dag]] + O(phi^4), the generator above for kappa dt / S when

    phi^2 = kappa dt (2 nth + 1) / S.

S is the fewest number (<= MAX_LOSS_SUBCOLLISIONS) for which the S sub-collisions match Lambda within
LOSS_TOLERANCE in trace distance for EVERY register state: the bound (1/2) sqrt(M) ||S_circ - S_Lambda||_2 (the
spectral norm of the superoperator difference; ||X||_1 <= sqrt(M) ||X||_2 and ||rho||_2 <= 1) is computed, not
estimated. The damping ancilla is the atom's qubit, reset and re-prepared (every ancilla is fresh, so one qubit
serves both). Without thermal photons the loss only lowers the photon number, so the pruning above still holds;
with them every pair can be occupied and nothing is pruned.

Steps (``MappedCircuit.steps``): every collision is a "ladder" CollisionStep on the cavity (system position 0,
dims (M,)) and the ancilla, generator sum_n c_n (|n, e><n+1, g| + h.c.) (c_n = w_(n+1), 0 for a pruned pair,
plus the edge term), duration theta = g_tau for an atom (coupling times interaction time) and phi for a loss
sub-collision.

Ideal state and gauge. ``ideal_state`` is the untruncated micromaser (``qbhw.models.micromaser`` at its automatic
cutoff, min(K, N_tr) + 2 <= 62 levels without thermal photons, 60 with them) restricted to the M register levels.
It is the physical density matrix in the Fock basis (the model's ``state``, already un-gauged: rho_01 =
i C sqrt(P(1-P)) sin(theta) after one collision), which is also what the circuit produces; no gauge factor i^(n-m)
appears anywhere here. If the physical cavity puts more than ``cutoff_tolerance`` of population above level M-1
at any collision, the register cannot hold it and ParameterError("cutoff") is raised.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.mapping._collisions import (
    CollisionStep,
    append_steps,
    apply_steps,
    gray_to_binary,
    ladder_step,
    needs_purifier,
    steps_superoperator,
)
from qbhw.mapping._common import MappedCircuit
from qbhw.models import micromaser as model
from qbhw.physics import distance
from qbhw.physics.lindblad import liouvillian, propagator

ENCODINGS = ("binary",)
#: largest cavity register (qubits) for a hardware run: D <= 16 levels
MAX_CAVITY_QUBITS = 4
#: largest number of atom collisions for a hardware run (circuit depth; ~30-70 CZ per collision)
MAX_COLLISIONS = 60
#: largest trace distance, over every register state, between the S loss sub-collisions and the model's loss
#: channel of one interval: 5e-3, half the tomography resolution of a 3-4 qubit register at the default shots
LOSS_TOLERANCE = 5e-3
#: most loss sub-collisions per interval between atoms (each costs as much as an atom collision)
MAX_LOSS_SUBCOLLISIONS = 16
#: most collisions of a circuit with cavity loss, atoms and damping sub-collisions together (the same depth
#: budget as MAX_COLLISIONS lossless atoms, twice over)
MAX_CIRCUIT_COLLISIONS = 2 * MAX_COLLISIONS


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


def _thermal_qubit(p_excited: float) -> np.ndarray:
    return np.diag([1.0 - p_excited, p_excited]).astype(complex)


def loss_channel(params: model.MicromaserParams, levels: int) -> np.ndarray:
    """The model's loss channel of one interval, exp(kappa dt [(nth+1) D[b] + nth D[b^dag]]) on ``levels`` levels,
    as a superoperator on column-stacked states (b = the coupling's lowering operator, truncated)."""
    b = model.lowering_operator(levels, params.coupling)
    kdt, nth = float(params.cavity_loss), float(params.thermal_photons)
    return propagator(liouvillian(None, [(kdt * (nth + 1.0), b), (kdt * nth, b.T)], dim=levels), 1.0)


def _loss_plan(params: model.MicromaserParams, levels: int) -> tuple[int, float, float]:
    """(S, phi, bound): the fewest sub-collisions S whose channel is within LOSS_TOLERANCE of the model's loss
    channel for every register state (bound = (1/2) sqrt(M) ||S_circ - S_Lambda||_2), their angle phi."""
    nth = float(params.thermal_photons)
    tau = _thermal_qubit(nth / (2.0 * nth + 1.0))
    couplings = _weights(params.coupling, levels)[1:levels]
    target = loss_channel(params, levels)
    bound = math.inf
    for s in range(1, MAX_LOSS_SUBCOLLISIONS + 1):
        phi = math.sqrt(float(params.cavity_loss) * (2.0 * nth + 1.0) / s)
        sub = ladder_step(couplings, phi, tau)
        superop = np.linalg.matrix_power(steps_superoperator([sub], (levels,)), s)
        bound = 0.5 * math.sqrt(levels) * float(np.linalg.norm(superop - target, 2))
        if bound <= LOSS_TOLERANCE:
            return s, phi, bound
    raise ParameterError(
        "cavity_loss",
        f"small enough that {MAX_LOSS_SUBCOLLISIONS} engineered damping collisions per interval match the loss "
        f"channel within {LOSS_TOLERANCE:g} on the {levels}-level register (they reach {bound:.3g}); use a smaller "
        "--cavity-loss, --thermal-photons or --cutoff",
        params.cavity_loss,
    )


def collision_steps(params: model.MicromaserParams, cavity_qubits: int) -> tuple[CollisionStep, ...]:
    """The circuit's steps on an M = 2^cavity_qubits register: atom collisions 1 ... K (pruned, with the edge sign),
    and between them, with cavity loss, S damping sub-collisions each (module docstring). The last atom is not
    reset (nothing reuses its qubit afterwards)."""
    loss = _loss_plan(params, 2**cavity_qubits) if params.cavity_loss > 0.0 else None
    return _collision_steps(params, cavity_qubits, loss)


def _collision_steps(
    params: model.MicromaserParams, cavity_qubits: int, loss: tuple[int, float, float] | None
) -> tuple[CollisionStep, ...]:
    levels = 2**cavity_qubits
    theta = float(params.g_tau)
    w = _weights(params.coupling, levels)
    couplings = w[1:levels]  # c_n = w_(n+1), n = 0 ... M-2
    edge_sign = -1.0 if math.cos(theta * w[levels]) < 0.0 else 1.0
    n_tr = _trapping(params)
    pumped = loss is not None and params.thermal_photons > 0.0  # loss with thermal photons adds photons anywhere
    top_reachable = levels - 1 if n_tr is None else min(levels - 1, n_tr)
    atom = model.atom_state(params.p_excited, params.coherence)
    nth = float(params.thermal_photons)
    tau_l = _thermal_qubit(nth / (2.0 * nth + 1.0))
    k_final = int(params.collisions)
    out: list[CollisionStep] = []
    for k in range(1, k_final + 1):
        occupied = levels - 1 if pumped else min(k - 1, top_reachable)  # highest photon number before collision k
        c = np.where(np.arange(levels - 1) <= occupied, couplings, 0.0)
        edge = edge_sign < 0.0 and occupied >= levels - 1
        out.append(ladder_step(c, theta, atom, edge_phase=edge, reset=k < k_final, label=f"atom {k}"))
        if loss is not None and k < k_final:
            s, phi, _ = loss
            # after collision k at most min(k, top) photons; the damping pair {|n-1, e>, |n, g>} (index n-1) is
            # occupied from |n, g> (n <= top) or, with thermal photons, from |n-1, e>
            top = levels - 1 if pumped else min(k, top_reachable)
            c_loss = np.where(np.arange(levels - 1) <= (top if pumped else top - 1), couplings, 0.0)
            sub = ladder_step(c_loss, phi, tau_l, label=f"loss {k}")
            out.extend([sub] * s)
    return tuple(out)


def _check_hardware_params(params: model.MicromaserParams, encoding: str) -> None:
    _validate.one_of("encoding", encoding, ENCODINGS)
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
            f"the population above level {levels - 1} (tolerance {params.cutoff_tolerance:g}); raise --cutoff "
            f"(<= {2**MAX_CAVITY_QUBITS}) or lower --collisions",
            params.cutoff if params.cutoff is not None else d,
        )
    rho_ref = np.asarray(traj.final_state)
    ideal = np.zeros((levels, levels), dtype=complex)
    top = min(levels, rho_ref.shape[0])
    ideal[:top, :top] = rho_ref[:top, :top]
    return ideal, leak


def micromaser_circuit(params: model.MicromaserParams, *, encoding: str = "binary") -> MappedCircuit:
    """K Jaynes-Cummings (or ladder) collisions from the vacuum as one circuit with mid-circuit atom resets, and
    the engineered cavity loss between them (module docstring).

    Circuit: ``collision_steps`` on the Gray-coded cavity (qubits 0 ... m-1), the atom / damping ancilla (qubit m)
    and a purifier (qubit m+1, only for a mixed ancilla state); then Gray -> binary. register = (0, ..., m-1)
    (photon number n, most significant bit first), battery = all of it, hamiltonian = diag(0, ..., 2^m - 1).
    ideal_state: the physical micromaser on the register levels (module docstring); exact_state: the circuit's
    channel (pruned collisions, the truncation edge and the engineered loss included).

    encoding must be "binary" (the only cavity encoding mapped). Raises ParameterError naming the field for what
    a hardware run cannot do: collisions > MAX_COLLISIONS (or, with loss, more than MAX_CIRCUIT_COLLISIONS atoms
    and damping collisions), a cutoff above 2^MAX_CAVITY_QUBITS, a register too small for the physical cavity
    (cutoff), a loss the engineered damping cannot match (cavity_loss).
    """
    from qiskit import QuantumCircuit

    _check_hardware_params(params, encoding)
    d, m = cavity_levels(params)
    levels = 2**m
    loss = _loss_plan(params, levels) if params.cavity_loss > 0.0 else None
    k = int(params.collisions)
    if loss is not None and k + (k - 1) * loss[0] > MAX_CIRCUIT_COLLISIONS:
        raise ParameterError(
            "collisions",
            f"<= {(MAX_CIRCUIT_COLLISIONS + loss[0]) // (loss[0] + 1)} with --cavity-loss {params.cavity_loss:g} "
            f"(each interval needs {loss[0]} damping collisions; at most {MAX_CIRCUIT_COLLISIONS} collisions in all)",
            params.collisions,
        )
    ideal, leak = _ideal_register_state(params, levels, d)
    steps = _collision_steps(params, m, loss)
    vacuum = np.zeros((levels, levels), dtype=complex)
    vacuum[0, 0] = 1.0
    exact = apply_steps(steps, vacuum, (levels,))

    mixed = needs_purifier(steps)
    atom = m
    purifier = m + 1 if mixed else None
    qc = QuantumCircuit(m + 2 if mixed else m + 1, name="micromaser")
    append_steps(qc, steps, [list(range(m))], ancilla=atom, purifier=purifier)
    gray_to_binary(qc, list(range(m)))

    theta = float(params.g_tau)
    w = _weights(params.coupling, levels)
    edge_collisions = sum(1 for s in steps if s.label.startswith("atom") and s.generator[-1, -1] != 0)
    trace_dist = distance.trace_distance(exact, ideal)
    details = {
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
        "trace_distance_exact_ideal": trace_dist,
        "fidelity_exact_ideal": distance.fidelity(exact, ideal),
        "gauge": "physical Fock basis (no i^(n-m) gauge), the same as the circuit's output",
        "exact_collisions": True,
    }
    what_loss = ""
    if loss is not None:
        s, phi, bound = loss
        details |= {
            "cavity_loss": float(params.cavity_loss),
            "thermal_photons": float(params.thermal_photons),
            "loss_subcollisions": s,
            "loss_angle": phi,
            "loss_channel_error_bound": bound,
            "loss_error_bound_total": bound * max(0, int(params.collisions) - 1),
            "loss_tolerance": LOSS_TOLERANCE,
        }
        what_loss = f", {s} engineered damping collisions (angle {phi:.4g}) between atoms"
    return MappedCircuit(
        model="micromaser",
        circuit=qc,
        register=tuple(range(m)),
        battery=tuple(range(m)),
        hamiltonian=np.diag(np.arange(levels, dtype=float)),
        ideal_state=ideal,
        exact_state=exact,
        description=(
            f"{int(params.collisions)} exact {params.coupling} collisions (g_tau = {theta:.10g}, P = "
            f"{float(params.p_excited):g}, C = {float(params.coherence):g}) on a {m}-qubit binary cavity "
            f"(Gray-coded while running), atom reset between collisions{what_loss}"
        ),
        details=details,
        steps=steps,
    )
