"""Collective-dissipation battery (qbhw.models.collective, docs/physics.md section 3) as a collision-model circuit.

Qubits (virtual, also the physics order of the register): cells 0..N-1, then one bath ancilla (qubit N) and, when
a mixed ancilla state is needed, its purifier (qubit N+1). The register and the battery are the N cells;
``hamiltonian`` is J_z = (1/2) sum_i sz_i (omega0 = 1, sz = diag(-1, +1), big-endian, index 0 = |g>). The cells
start in |g...g>.

One collective collision: prepare the ancilla in tau = (1-p)|g><g| + p|e><e|, p = n/(2n+1) (``prepare_qubit``),
apply

    U(theta) = exp[-i theta V],    V = sum_i (s-_i s+_a + s+_i s-_a) = J- s+_a + J+ s-_a,

and reset the ancilla. Its channel on the cells is E(rho) = Tr_a[U (rho (x) tau) U^dagger]. To second order in
theta, E = 1 + theta^2 [(1-p) D[J-] + p D[J+]] + O(theta^4) (the first order vanishes because tau is diagonal),
i.e. the model's gamma (n+1) D[J-] + gamma n D[J+] for a time Delta t with

    gamma Delta t = theta^2 / (2n + 1).

Fixed point: U conserves the total excitation number of cells + ancilla and preserves the symmetric subspace, so
the joint state rho_ss (x) tau with rho_ss = sum_k x^k |D_k><D_k| / Z (x = e^{-1/T}) is ~ x^{k + k_a} on
Sym (x) C^2 and commutes with U: rho_ss is a fixed point of E for EVERY theta (tests verify it). Large angles
therefore reach the exact steady state in few collisions.

``exchange`` selects how U is realised:

* "exact"        U as one UnitaryGate on N+1 qubits (N <= MAX_EXACT_N = 3: at most 4 qubits);
* "palindromic"  the symmetric product prod_{i=0}^{N-1} e^{-i theta/2 h_i} prod_{i=N-1}^{0} e^{-i theta/2 h_i},
                 h_i = s-_i s+_a + h.c., as 2N-1 XXPlusYYGates (the two middle factors merge). Its BCH error
                 is O(theta^3) and odd in the ancilla ladder operators, so the channel error is O(theta^4) per
                 collision, O(theta^2) in the generator and in the fixed point;
* "sequential"   NEGATIVE CONTROL ONLY: prod_i e^{-i theta h_i} in one order. It realises a cascaded (chiral)
                 master equation, not the collective one, and its error does not vanish as theta -> 0
                 (docs/physics.md 3.4: W ~ 0.04-0.08 instead of 0.3705 for N = 3, T = 2). Never use it for physics.

Local channels (optional) are local collisions, applied symmetrically around each collective collision,
Loc(dt/2) C Loc(dt/2) with dt = theta^2/(gamma (2n+1)); adjacent halves merge into Loc(dt):

* local thermal bath on cell i: an ancilla at local_temperature exchanged with cell i by XXPlusYY(2 phi) with
  sin^2 phi = 1 - exp(-gamma_local (2 n_L + 1) dt). This is EXACTLY the generalised amplitude-damping channel
  exp(dt gamma_local [(n_L+1) D[s-_i] + n_L D[s+_i]]) (populations relax by cos^2 phi, coherences by cos phi);
* local dephasing on cell i: an ancilla in |+> and RZZ(phi) (= exp(-i phi/2 Z_i Z_a)) with cos phi =
  exp(-2 dephasing dt): EXACTLY exp(dt dephasing D[sz_i]).

They commute with each other and across cells, so only the collective/local splitting (O(dt^2) per unit time,
symmetric) and the collective collision itself (O(theta^2)) make the mapping error.

Sizes: N <= MAX_CIRCUIT_N = 6 (8 qubits; the register tomography needs 3^N settings and the exact channel is
propagated as dense 2^N x 2^N matrices).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.linalg as sla

from qbhw import _validate
from qbhw._arrays import readonly
from qbhw.errors import ParameterError
from qbhw.mapping._common import MappedCircuit, prepare_qubit
from qbhw.models.collective import (
    CollectiveParams,
    collective_hamiltonian,
    dicke_density_matrix,
    state_at,
    steady_state,
)
from qbhw.physics.operators import SIGMA_MINUS, SIGMA_PLUS, embed
from qbhw.physics.thermodynamics import extraction_unitary

#: largest number of cells for a circuit (N + 2 qubits; 3^N tomography settings; dense 2^N channel)
MAX_CIRCUIT_N = 6
#: largest N for exchange="exact" (one UnitaryGate on N + 1 <= 4 qubits)
MAX_EXACT_N = 3
#: largest N for which the extraction unitary is given (an N-qubit UnitaryGate)
MAX_EXTRACTION_N = 3
EXCHANGES = ("exact", "palindromic", "sequential")
#: default trace-distance target between exact_state and the model's steady state (no ``time``)
NESS_TOLERANCE = 1e-2
#: collision angles scanned for the steady state (no ``time``)
THETA_GRID = tuple(round(0.05 * k, 2) for k in range(1, 32))
#: most collisions the steady-state search will use
MAX_NESS_COLLISIONS = 100
#: a steady-state choice of k must stay within tolerance up to 2k + STABLE_MARGIN collisions
STABLE_MARGIN = 10
#: with ``time``: the largest collision angle, theta_max / sqrt(N) (the largest ladder matrix element of J- is
#: ~ N/2, so theta sqrt(N) bounds the angles inside a collision); global error O(theta^2)
THETA_TIME = 0.5


def _thermal_qubit(p_excited: float) -> np.ndarray:
    return np.diag([1.0 - p_excited, p_excited]).astype(complex)


@lru_cache(maxsize=16)
def _exchange_terms(n: int) -> tuple[np.ndarray, ...]:
    """h_i = s-_i s+_a + s+_i s-_a on (cells 0..N-1, ancilla), big-endian (cached; do not modify)."""
    dims = [2] * (n + 1)
    sp_a = embed(SIGMA_PLUS, n, dims)
    out = []
    for i in range(n):
        sm_i = embed(SIGMA_MINUS, i, dims)
        term = sm_i @ sp_a
        out.append(readonly(term + term.conj().T))
    return tuple(out)


def _flip_flop(h: np.ndarray, angle: float) -> np.ndarray:
    """exp(-i angle h) for a flip-flop h (h^3 = h, h^2 = projector on the pair's one-excitation states):
    1 + (cos a - 1) h^2 - i sin a h."""
    return np.eye(h.shape[0], dtype=complex) + (math.cos(angle) - 1.0) * (h @ h) - 1j * math.sin(angle) * h


def exchange_order(n: int, theta: float, exchange: str) -> list[tuple[int, float]]:
    """The two-qubit factors (cell, angle) of a non-exact exchange, in time order: e^{-i angle h_cell} each."""
    if exchange == "palindromic":
        if n == 1:
            return [(0, theta)]
        return (
            [(i, theta / 2) for i in range(n - 1)] + [(n - 1, theta)] + [(i, theta / 2) for i in range(n - 2, -1, -1)]
        )
    if exchange == "sequential":
        return [(i, theta) for i in range(n)]
    raise ParameterError("exchange", "one of 'palindromic', 'sequential' for a gate sequence", exchange)


def exchange_unitary(n: int, theta: float, exchange: str = "exact") -> np.ndarray:
    """The collision unitary on (cells 0..N-1, ancilla), big-endian: exp(-i theta V) ("exact") or its
    palindromic/sequential product of two-qubit factors (module docstring)."""
    _validate.one_of("exchange", exchange, EXCHANGES)
    terms = _exchange_terms(n)
    if exchange == "exact":
        return sla.expm(-1j * theta * sum(terms))
    u = np.eye(2 ** (n + 1), dtype=complex)
    for cell, angle in exchange_order(n, theta, exchange):
        u = _flip_flop(terms[cell], angle) @ u
    return u


def kraus_from_unitary(u: np.ndarray, ancilla_state: np.ndarray) -> list[np.ndarray]:
    """Kraus operators of rho -> Tr_a[U (rho (x) tau) U^dagger], ancilla = LAST (least significant) factor of U.

    tau is diagonal (thermal or after diagonalisation): K_{ij} = sqrt(tau_j) <i|_a U |j>_a.
    """
    w, v = np.linalg.eigh(np.asarray(ancilla_state, dtype=complex))
    d = u.shape[0] // 2
    u_rot = u @ np.kron(np.eye(d), v)  # ancilla basis = eigenbasis of tau
    u4 = u_rot.reshape(d, 2, d, 2)
    out = []
    for j in range(2):
        if w[j] <= 1e-15:
            continue
        for i in range(2):
            out.append(math.sqrt(float(w[j])) * u4[:, i, :, j])
    return out


def apply_kraus(kraus: list[np.ndarray], rho: np.ndarray) -> np.ndarray:
    return sum(k @ rho @ k.conj().T for k in kraus)


def _trace_distance(a: np.ndarray, b: np.ndarray) -> float:
    return 0.5 * float(np.abs(np.linalg.eigvalsh(0.5 * ((a - b) + (a - b).conj().T))).sum())


@dataclass(frozen=True)
class _Collision:
    """One collision: ancilla state, Kraus operators on the 2^N cells, and how to append it to a circuit."""

    ancilla_state: np.ndarray
    kraus: tuple[np.ndarray, ...]
    gates: Callable[[Any, int], None]  # gates(circuit, ancilla): the interaction (ancilla already prepared)


def _collective_collision(n: int, theta: float, p_excited: float, exchange: str) -> _Collision:
    tau = _thermal_qubit(p_excited)
    u = exchange_unitary(n, theta, exchange)

    def gates(qc: Any, anc: int) -> None:
        from qiskit.circuit.library import UnitaryGate, XXPlusYYGate

        if exchange == "exact":
            # UnitaryGate reads its first qarg as the least significant bit: physics order reversed
            qc.append(UnitaryGate(u, label="exchange"), [anc] + list(range(n - 1, -1, -1)))
        else:
            # exp[-i a (s-s+ + s+s-)] = exp[-i a (XX+YY)/2] = XXPlusYYGate(2a, beta=0) (docs/physics.md section 0)
            for cell, angle in exchange_order(n, theta, exchange):
                qc.append(XXPlusYYGate(2.0 * angle, 0.0), [cell, anc])

    return _Collision(tau, tuple(kraus_from_unitary(u, tau)), gates)


def _local_thermal_collision(n: int, cell: int, rate: float, p_excited: float, dt: float) -> _Collision:
    """Exact exp(dt rate [(n_L+1) D[s-] + n_L D[s+]]) on ``cell`` (rate = gamma_local (2 n_L + 1))."""
    phi = math.asin(math.sqrt(-math.expm1(-rate * dt)))
    tau = _thermal_qubit(p_excited)
    h = _exchange_terms(1)[0]
    kr = kraus_from_unitary(sla.expm(-1j * phi * h), tau)
    full = tuple(embed(k, cell, [2] * n) for k in kr)

    def gates(qc: Any, anc: int) -> None:
        from qiskit.circuit.library import XXPlusYYGate

        qc.append(XXPlusYYGate(2.0 * phi, 0.0), [cell, anc])

    return _Collision(tau, full, gates)


def _dephasing_collision(n: int, cell: int, dephasing: float, dt: float) -> _Collision:
    """Exact exp(dt dephasing D[sz]) on ``cell``: ancilla |+>, RZZ(phi) with cos phi = exp(-2 dephasing dt)."""
    phi = math.acos(math.exp(-2.0 * dephasing * dt))
    plus = np.full((2, 2), 0.5, dtype=complex)
    zz = np.diag([1.0, -1.0, -1.0, 1.0])  # Z (x) Z, Qiskit Z = diag(1, -1) on |0> = |g>
    u = np.diag(np.exp(-0.5j * phi * np.diag(zz)))
    kr = kraus_from_unitary(u, plus)
    full = tuple(embed(k, cell, [2] * n) for k in kr)

    def gates(qc: Any, anc: int) -> None:
        qc.rzz(phi, cell, anc)

    return _Collision(plus, full, gates)


def _local_layer(params: CollectiveParams, dt: float) -> list[_Collision]:
    out: list[_Collision] = []
    if dt <= 0:
        return out
    n = params.n
    if params.gamma_local > 0:
        nl = params.local_n_thermal
        rate = params.gamma_local * (2.0 * nl + 1.0)
        for i in range(n):
            out.append(_local_thermal_collision(n, i, rate, nl / (2.0 * nl + 1.0), dt))
    if params.dephasing > 0:
        for i in range(n):
            out.append(_dephasing_collision(n, i, params.dephasing, dt))
    return out


def _sequence(params: CollectiveParams, theta: float, collisions: int, exchange: str) -> list[_Collision]:
    """Loc(dt/2) [C Loc(dt)]^{k-1} C Loc(dt/2): k symmetric steps Loc(dt/2) C Loc(dt/2) with merged halves."""
    nb = params.n_thermal
    dt = theta**2 / (params.gamma * (2.0 * nb + 1.0))
    coll = _collective_collision(params.n, theta, nb / (2.0 * nb + 1.0), exchange)
    half, full = _local_layer(params, dt / 2), _local_layer(params, dt)
    seq: list[_Collision] = list(half)
    for step in range(collisions):
        seq.append(coll)
        seq.extend(half if step == collisions - 1 else full)
    return seq


def _step_kraus(params: CollectiveParams, theta: float, exchange: str) -> list[tuple[np.ndarray, ...]]:
    """One symmetric step Loc(dt/2) C Loc(dt/2) as a list of Kraus sets, applied in order."""
    return [c.kraus for c in _sequence(params, theta, 1, exchange)]


def _apply_step(step: list[tuple[np.ndarray, ...]], rho: np.ndarray) -> np.ndarray:
    for kr in step:
        rho = apply_kraus(list(kr), rho)
    return rho


def _ground(n: int) -> np.ndarray:
    rho = np.zeros((2**n, 2**n), dtype=complex)
    rho[0, 0] = 1.0
    return rho


def _first_stable_k(
    step: list[tuple[np.ndarray, ...]], target: np.ndarray, n: int, tolerance: float, k_limit: int
) -> tuple[int | None, float]:
    """The fewest collisions k <= k_limit after which the trace distance to ``target`` is <= tolerance AND stays so
    up to 2k + STABLE_MARGIN collisions (no lucky transient). Returns (k or None, distance at k)."""
    rho = _ground(n)
    k_found: int | None = None
    d_found = math.inf
    j = 0
    while True:
        j += 1
        rho = _apply_step(step, rho)
        d = _trace_distance(rho, target)
        if d <= tolerance:
            if k_found is None:
                k_found, d_found = j, d
        else:
            k_found = None
        if k_found is not None and j >= 2 * k_found + STABLE_MARGIN:
            return k_found, d_found
        if k_found is None and j >= k_limit:
            return None, d


@dataclass(frozen=True)
class CollisionPlan:
    """Collision angle, number of collisions and the time each collision represents (gamma dt = theta^2/(2n+1))."""

    theta: float
    collisions: int
    dt: float
    rule: str


def _plan_time(params: CollectiveParams, time: float, collisions: int | None, theta: float | None) -> CollisionPlan:
    rate = params.gamma * (2.0 * params.n_thermal + 1.0)
    total = rate * time  # sum of theta^2 over collisions
    if time == 0.0:
        return CollisionPlan(0.0, 0, 0.0, "time 0: no collision (the cells stay in |g...g>)")
    if collisions is not None and theta is not None:
        if abs(collisions * theta**2 - total) > 1e-9 * max(1.0, total):
            raise ParameterError(
                "collisions",
                f"consistent with theta and time: collisions * theta^2 = gamma (2n+1) time = {total:.6g}",
                collisions,
            )
        return CollisionPlan(theta, collisions, time / collisions, "given theta and collisions")
    if collisions is not None:
        return CollisionPlan(
            math.sqrt(total / collisions), collisions, time / collisions, "theta = sqrt(gamma (2n+1) time / collisions)"
        )
    theta_max = theta if theta is not None else THETA_TIME / math.sqrt(params.n)
    k = max(1, math.ceil(total / theta_max**2 - 1e-12))
    rule = (
        "collisions = ceil(gamma (2n+1) time / theta^2), then theta = sqrt(gamma (2n+1) time / collisions)"
        if theta is not None
        else f"collisions = ceil(gamma (2n+1) time N / {THETA_TIME}^2), theta = sqrt(gamma (2n+1) time / collisions)"
        f" (theta sqrt(N) <= {THETA_TIME})"
    )
    return CollisionPlan(math.sqrt(total / k), k, time / k, rule)


def _plan_ness(
    params: CollectiveParams,
    target: np.ndarray,
    collisions: int | None,
    theta: float | None,
    exchange: str,
    tolerance: float,
) -> tuple[CollisionPlan, bool]:
    """Steady state. Without ``collisions``: for each theta (THETA_GRID or the given one) the fewest collisions k
    after which exact_state stays within ``tolerance`` of the model's steady state (checked up to 2k +
    STABLE_MARGIN collisions); the theta with the smallest k wins (ties: smaller theta). With ``collisions``: the
    theta minimising the distance after that many collisions. Returns (plan, tolerance met)."""
    n = params.n
    rate = params.gamma * (2.0 * params.n_thermal + 1.0)
    thetas = [theta] if theta is not None else list(THETA_GRID)
    if collisions is not None:
        best: tuple[float, float] | None = None
        for th in thetas:
            step = _step_kraus(params, th, exchange)
            rho = _ground(n)
            for _ in range(collisions):
                rho = _apply_step(step, rho)
            d = _trace_distance(rho, target)
            if best is None or d < best[0] - 1e-15:
                best = (d, th)
        assert best is not None
        th = best[1]
        return CollisionPlan(th, collisions, th**2 / rate, _ness_rule(theta, collisions)), best[0] <= tolerance
    found: tuple[int, float] | None = None
    closest: tuple[float, float] | None = None  # (distance after MAX_NESS_COLLISIONS, theta) if none qualifies
    for th in thetas:
        limit = MAX_NESS_COLLISIONS if found is None else found[0] - 1
        if limit < 1:
            break
        k, d = _first_stable_k(_step_kraus(params, th, exchange), target, n, tolerance, limit)
        if k is not None:
            found = (k, th)
        elif found is None and (closest is None or d < closest[0]):
            closest = (d, th)
    if found is not None:
        k, th = found
        return CollisionPlan(th, k, th**2 / rate, _ness_rule(theta, None)), True
    assert closest is not None
    th = closest[1]
    return CollisionPlan(th, MAX_NESS_COLLISIONS, th**2 / rate, _ness_rule(theta, None) + " (NOT met)"), False


def _ness_rule(theta: float | None, collisions: int | None) -> str:
    if theta is not None and collisions is not None:
        return "given theta and collisions"
    if theta is not None:
        return f"given theta; fewest collisions k with trace distance <= tolerance up to 2k + {STABLE_MARGIN}"
    if collisions is not None:
        return "given collisions; theta on THETA_GRID minimising the trace distance"
    return (
        "theta on THETA_GRID and the fewest collisions k with trace distance <= tolerance, staying so up to "
        f"2k + {STABLE_MARGIN} collisions"
    )


def collective_circuit(
    params: CollectiveParams,
    *,
    time: float | None = None,
    collisions: int | None = None,
    theta: float | None = None,
    exchange: str | None = None,
    tolerance: float = NESS_TOLERANCE,
) -> MappedCircuit:
    """The collective battery as k collisions of N cells with a thermal ancilla (module docstring).

    time       charge from |g...g> for ``time`` (model units): k collisions with k dt = time,
               gamma dt = theta^2/(2n+1); default rule theta sqrt(N) <= THETA_TIME (see details["rule"]).
               None: the steady state from |g...g> (qbhw.models.collective.steady_state); theta and k are chosen
               on THETA_GRID so that exact_state is within ``tolerance`` (trace distance) of it.
    collisions, theta   override the automatic choice (with ``time`` they must satisfy k theta^2 = gamma(2n+1) t).
    exchange   "exact" (N <= 3), "palindromic", or "sequential" (negative control, wrong physics); None chooses
               "exact" for N <= 2 and "palindromic" above (at N = 3 the exact 4-qubit exchange transpiles to ~95 CZ
               per collision against ~11 for the palindromic product, for the same 1e-2 accuracy).

    ideal_state is the model's state on 2^N (dicke_density_matrix); exact_state is k applications of the exact
    step channel (numpy Kraus maps) to |g...g>; extraction is U* of ideal_state (N <= 3, else None).
    """
    if not isinstance(params, CollectiveParams):
        raise ParameterError("params", "a CollectiveParams", type(params).__name__)
    n = params.n
    if exchange is None:
        exchange = "exact" if n <= 2 else "palindromic"
    _validate.one_of("exchange", exchange, EXCHANGES)
    if n > MAX_CIRCUIT_N:
        raise ParameterError(
            "n",
            f"an integer <= {MAX_CIRCUIT_N} for a circuit (N cells + 2 ancillas; 3^N tomography settings and "
            "a dense 2^N channel)",
            n,
        )
    if exchange == "exact" and n > MAX_EXACT_N:
        raise ParameterError(
            "n",
            f"an integer <= {MAX_EXACT_N} for the exact exchange (one UnitaryGate on N + 1 <= 4 qubits); use "
            "the palindromic exchange",
            n,
        )
    if params.gamma <= 0:
        raise ParameterError(
            "gamma", "> 0 for a collision circuit (the collective collision sets the time step)", params.gamma
        )
    tolerance = _validate.positive("tolerance", tolerance)
    if collisions is not None:
        collisions = _validate.integer_at_least("collisions", collisions, 1)
    if theta is not None:
        theta = _validate.positive("theta", theta)

    if time is None:
        model = steady_state(params)
        ideal = dicke_density_matrix(model.state)
        plan, met = _plan_ness(params, ideal, collisions, theta, exchange, tolerance)
    else:
        time = _validate.nonnegative("time", time)
        model = state_at(params, time)
        ideal = dicke_density_matrix(model.state)
        plan = _plan_time(params, time, collisions, theta)
        met = None

    seq = _sequence(params, plan.theta, plan.collisions, exchange)
    exact = _ground(n)
    for c in seq:
        exact = apply_kraus(list(c.kraus), exact)
    exact = 0.5 * (exact + exact.conj().T)

    needs_purifier = any(np.count_nonzero(np.abs(np.linalg.eigvalsh(c.ancilla_state)) > 1e-12) > 1 for c in seq)
    from qiskit import QuantumCircuit

    anc = n
    pur = n + 1 if needs_purifier else None
    qc = QuantumCircuit(n + 1 + (1 if needs_purifier else 0), name=f"collective_{exchange}")
    for c in seq:
        prepare_qubit(qc, anc, c.ancilla_state, pur)
        c.gates(qc, anc)
        qc.reset(anc)

    h = collective_hamiltonian(n)
    extraction = None
    if n <= MAX_EXTRACTION_N:
        from qiskit.circuit.library import UnitaryGate

        extraction = QuantumCircuit(n, name="extraction")
        extraction.append(UnitaryGate(extraction_unitary(ideal, h), label="U*"), list(range(n - 1, -1, -1)))

    nb = params.n_thermal
    distance = _trace_distance(exact, ideal)
    details: dict[str, Any] = {
        "exchange": exchange,
        "theta": plan.theta,
        "collisions": plan.collisions,
        "dt": plan.dt,
        "gamma_dt": params.gamma * plan.dt,
        "simulated_time": plan.collisions * plan.dt,
        "ancilla_excited_population": nb / (2.0 * nb + 1.0),
        "rule": plan.rule,
        "trace_distance_exact_ideal": distance,
        "fidelity_exact_ideal": _fidelity(exact, ideal),
        "local_collisions_per_step": len(_local_layer(params, plan.dt)),
        "logical_ops": {str(k): int(v) for k, v in qc.count_ops().items()},
    }
    if met is not None:
        details["tolerance"] = tolerance
        details["tolerance_met"] = met
    if exchange == "sequential":
        details["warning"] = "sequential exchange: cascaded master equation, NOT the collective model (control)"
    what = "steady state" if time is None else f"time {time:g}"
    desc = (
        f"collective dissipation, N = {n}: {plan.collisions} collisions ({exchange} exchange, theta = "
        f"{plan.theta:.4g}, gamma dt = {params.gamma * plan.dt:.4g}) with a thermal ancilla p_e = "
        f"{nb / (2 * nb + 1):.4g} and reset; target: {what}; trace distance to the model {distance:.2e}"
    )
    return MappedCircuit(
        model="collective",
        circuit=qc,
        register=tuple(range(n)),
        battery=tuple(range(n)),
        hamiltonian=h,
        ideal_state=ideal,
        exact_state=exact,
        extraction=extraction,
        description=desc,
        details=details,
    )


def _fidelity(a: np.ndarray, b: np.ndarray) -> float:
    """Uhlmann fidelity (Tr sqrt(sqrt(a) b sqrt(a)))^2."""
    w, v = np.linalg.eigh(0.5 * (a + a.conj().T))
    sa = (v * np.sqrt(np.clip(w, 0, None))) @ v.conj().T
    m = sa @ b @ sa
    ev = np.clip(np.linalg.eigvalsh(0.5 * (m + m.conj().T)), 0, None)
    return float(np.sum(np.sqrt(ev)) ** 2)
