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

Steady state (no ``time``). For the exact exchange without local channels the model's steady state is a fixed
point of every collision, so the fewest collisions k after which exact_state stays within the tolerance is found
exactly (details["stability_certified"]). The palindromic product is only symmetric under reversal, not under
every permutation of the cells: it leaks population out of the symmetric (j = N/2) sector at O(theta^3) per
collision, so its own long-time limit is NOT the collective steady state. From |g...g> it first relaxes into a
plateau within the tolerance, the state reported at k, and then drifts away slowly (measured for the default
circuits, N = 3..6, T = 0.5..5: trace distance 1e-2 at k, 0.02-0.12 after 1000 more collisions). Its k is checked
only over a window (2k + STABLE_MARGIN collisions; stability_certified False): exact_state at k is what the
circuit produces and is within the tolerance, but more collisions would not bring it closer.

Steps (``MappedCircuit.steps``, qbhw.mapping.CollisionStep): the collective collision is a step on all N cells and
the ancilla with generator V and duration theta (the exchange angle: coupling times interaction time; it stands
for a bath time dt with gamma dt = theta^2/(2n+1)), realised as "unitary" (exact), "palindromic" or "sequential";
a local thermal collision is a "flip-flop" step on (cell, ancilla) with duration phi; a dephasing collision a
"zz" step with generator sz_i sz_a and duration phi/2.

Sizes: N <= MAX_CIRCUIT_N = 6 (8 qubits; the register tomography needs 3^N settings and the exact channel is
propagated as dense 2^N x 2^N matrices).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.mapping._collisions import (
    FLIP_FLOP,
    ZZ,
    CollisionStep,
    ancilla_flip_flops,
    ancilla_step,
    append_steps,
    apply_steps,
    fewest_stable_steps,
    needs_purifier,
    steps_channel,
)
from qbhw.mapping._common import MappedCircuit
from qbhw.models.collective import (
    CollectiveParams,
    collective_hamiltonian,
    dicke_density_matrix,
    state_at,
    steady_state,
)
from qbhw.physics.distance import fidelity, trace_distance

#: largest number of cells for a circuit (N + 2 qubits; 3^N tomography settings; dense 2^N channel)
MAX_CIRCUIT_N = 6
#: largest N for exchange="exact" (one UnitaryGate on N + 1 <= 4 qubits)
MAX_EXACT_N = 3
EXCHANGES = ("exact", "palindromic", "sequential")
#: default trace-distance target between exact_state and the model's steady state (no ``time``): the mapping error
#: of the default N = 2 ... 6 circuits stays below the statistical resolution of their tomography
NESS_TOLERANCE = 1e-2
#: collision angles scanned for the steady state (no ``time``): 0.05 ... 1.55 in steps of 0.05, i.e. from the
#: Lindblad regime (theta^2 << 1) up to just below pi/2, where one collision fully swaps an excitation between a
#: cell and the ancilla (larger angles fold back); the step 0.05 resolves the fewest-collisions staircase k(theta)
THETA_GRID = tuple(round(0.05 * k, 2) for k in range(1, 32))
#: most collisions the steady-state search will use (circuit depth: 100 palindromic collisions at N = 6 are
#: ~2000 two-qubit gates, beyond any present device's coherence)
MAX_NESS_COLLISIONS = 100
#: most collisions of any collective circuit (given by --collisions or derived from --time), refused before any
#: step is built: building the steps, their exact channel and the circuit costs ~7.5 ms per collision at N = 6
#: (measured), so 2000 take ~15 s (and ~30000 two-qubit gates on a device, far beyond its coherence)
MAX_CIRCUIT_COLLISIONS = 2000
#: with ``time``: the largest collision angle is THETA_TIME / sqrt(N). The collision error per unit time is
#: O(theta^2 <J+J->) and <J+J-> grows ~N in the symmetric ladder from |g...g>, so theta sqrt(N) sets the error;
#: 0.5 gives measured mapping errors (trace distance, T = 2, gamma t = 0.2 ... 5) <= 4e-3 at N = 2 (exact
#: exchange) and 1e-2 ... 2e-2 at N = 3 ... 6 (palindromic, whose sector leak adds to it at long times)
THETA_TIME = 0.5


def _thermal_qubit(p_excited: float) -> np.ndarray:
    return np.diag([1.0 - p_excited, p_excited]).astype(complex)


def exchange_unitary(n: int, theta: float, exchange: str = "exact") -> np.ndarray:
    """The collision unitary on (cells 0..N-1, ancilla), big-endian: exp(-i theta V) ("exact") or its
    palindromic/sequential product of two-qubit factors (module docstring)."""
    return np.asarray(_collective_step(n, theta, 0.0, exchange).unitary)


def _collective_step(n: int, theta: float, p_excited: float, exchange: str) -> CollisionStep:
    _validate.one_of("exchange", exchange, EXCHANGES)
    gates = "unitary" if exchange == "exact" else exchange
    v = np.sum(ancilla_flip_flops(n), axis=0)
    return ancilla_step(
        tuple(range(n)), v, theta, _thermal_qubit(p_excited), gates, label="exchange" if gates == "unitary" else ""
    )


def _local_thermal_step(cell: int, rate: float, p_excited: float, dt: float) -> CollisionStep:
    """Exact exp(dt rate [(n_L+1) D[s-] + n_L D[s+]]) on ``cell`` (rate = gamma_local (2 n_L + 1))."""
    phi = math.asin(math.sqrt(-math.expm1(-rate * dt)))
    return ancilla_step((cell,), FLIP_FLOP, phi, _thermal_qubit(p_excited), "flip-flop", label="local bath")


def _dephasing_step(cell: int, dephasing: float, dt: float) -> CollisionStep:
    """Exact exp(dt dephasing D[sz]) on ``cell``: ancilla |+>, RZZ(phi) = exp(-i phi/2 ZZ), cos phi = e^{-2 deph dt}."""
    phi = math.acos(math.exp(-2.0 * dephasing * dt))
    plus = np.full((2, 2), 0.5, dtype=complex)
    return ancilla_step((cell,), ZZ, 0.5 * phi, plus, "zz", label="dephasing")


def _local_layer(params: CollectiveParams, dt: float) -> list[CollisionStep]:
    out: list[CollisionStep] = []
    if dt <= 0:
        return out
    n = params.n
    if params.gamma_local > 0:
        nl = params.local_n_thermal
        rate = params.gamma_local * (2.0 * nl + 1.0)
        for i in range(n):
            out.append(_local_thermal_step(i, rate, nl / (2.0 * nl + 1.0), dt))
    if params.dephasing > 0:
        for i in range(n):
            out.append(_dephasing_step(i, params.dephasing, dt))
    return out


def collision_steps(
    params: CollectiveParams, theta: float, collisions: int, exchange: str
) -> tuple[CollisionStep, ...]:
    """Loc(dt/2) [C Loc(dt)]^{k-1} C Loc(dt/2): k symmetric steps Loc(dt/2) C Loc(dt/2) with merged halves,
    gamma dt = theta^2/(2n+1) (no step for k = 0)."""
    if collisions == 0:
        return ()
    nb = params.n_thermal
    dt = theta**2 / (params.gamma * (2.0 * nb + 1.0))
    coll = _collective_step(params.n, theta, nb / (2.0 * nb + 1.0), exchange)
    half, full = _local_layer(params, dt / 2), _local_layer(params, dt)
    seq: list[CollisionStep] = list(half)
    for step in range(collisions):
        seq.append(coll)
        seq.extend(half if step == collisions - 1 else full)
    return tuple(seq)


def _ground(n: int) -> np.ndarray:
    rho = np.zeros((2**n, 2**n), dtype=complex)
    rho[0, 0] = 1.0
    return rho


@dataclass(frozen=True)
class _Plan:
    """Collision angle, number of collisions and the time each collision represents (gamma dt = theta^2/(2n+1))."""

    theta: float
    collisions: int
    dt: float
    rule: str
    certified: bool = False


def _plan_time(params: CollectiveParams, time: float, collisions: int | None, theta: float | None) -> _Plan:
    rate = params.gamma * (2.0 * params.n_thermal + 1.0)
    total = rate * time  # sum of theta^2 over collisions
    if time == 0.0:
        return _Plan(0.0, 0, 0.0, "time 0: no collision (the cells stay in |g...g>)")
    if collisions is not None and theta is not None:
        if abs(collisions * theta**2 - total) > 1e-9 * max(1.0, total):
            raise ParameterError(
                "collisions",
                f"consistent with --theta and --time: collisions * theta^2 = gamma (2n+1) time = {total:.6g} "
                "(give only one of --collisions and --theta)",
                collisions,
            )
        return _Plan(theta, collisions, time / collisions, "given theta and collisions")
    if collisions is not None:
        return _Plan(
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
    return _Plan(math.sqrt(total / k), k, time / k, rule)


def _plan_ness(
    params: CollectiveParams,
    target: np.ndarray,
    collisions: int | None,
    theta: float | None,
    exchange: str,
    tolerance: float,
) -> tuple[_Plan, bool]:
    """Steady state. Without ``collisions``: for each theta (THETA_GRID or the given one) the fewest collisions k
    after which exact_state stays within ``tolerance`` of the model's steady state; the theta with the smallest k
    wins (ties: smaller theta). For the exact exchange without local channels the steady state is a fixed point of
    every collision (module docstring), so staying is proven (``fewest_stable_steps``); otherwise it is checked up
    to 2k + STABLE_MARGIN collisions. With ``collisions``: the theta minimising the distance after that many
    collisions. Returns (plan, tolerance met)."""
    n = params.n
    dims = (2,) * n
    rate = params.gamma * (2.0 * params.n_thermal + 1.0)
    thetas = [theta] if theta is not None else list(THETA_GRID)
    exact_fixed_point = exchange == "exact" and params.gamma_local == 0 and params.dephasing == 0
    if collisions is not None:
        best: tuple[float, float] | None = None
        for th in thetas:
            rho = apply_steps(collision_steps(params, th, collisions, exchange), _ground(n), dims)
            d = trace_distance(rho, target)
            if best is None or d < best[0] - 1e-15:
                best = (d, th)
        assert best is not None
        th = best[1]
        return _Plan(th, collisions, th**2 / rate, _ness_rule(theta, collisions)), best[0] <= tolerance
    found: tuple[int, float, bool] | None = None
    closest: tuple[float, float] | None = None  # (distance after MAX_NESS_COLLISIONS, theta) if none qualifies
    for th in thetas:
        limit = MAX_NESS_COLLISIONS if found is None else found[0] - 1
        if limit < 1:
            break
        step = steps_channel(collision_steps(params, th, 1, exchange), dims)
        search = fewest_stable_steps(
            step, _ground(n), target, tolerance, limit, fixed_point=target if exact_fixed_point else None
        )
        if search.steps is not None:
            found = (search.steps, th, search.certified)
        elif found is None and (closest is None or search.distance < closest[0]):
            closest = (search.distance, th)
    if found is not None:
        k, th, certified = found
        return _Plan(th, k, th**2 / rate, _ness_rule(theta, None), certified), True
    assert closest is not None
    th = closest[1]
    return _Plan(th, MAX_NESS_COLLISIONS, th**2 / rate, _ness_rule(theta, None) + " (NOT met)"), False


def _ness_rule(theta: float | None, collisions: int | None) -> str:
    if theta is not None and collisions is not None:
        return "given theta and collisions"
    if theta is not None:
        return "given theta; fewest collisions k after which the trace distance stays <= tolerance"
    if collisions is not None:
        return "given collisions; theta on THETA_GRID minimising the trace distance"
    return "theta on THETA_GRID and the fewest collisions k after which the trace distance stays <= tolerance"


def collective_circuit(
    params: CollectiveParams,
    time: float | None = None,
    *,
    collisions: int | None = None,
    theta: float | None = None,
    exchange: str | None = None,
    tolerance: float = NESS_TOLERANCE,
) -> MappedCircuit:
    """The collective battery as k collisions of N cells with a thermal ancilla (module docstring).

    time       charge from |g...g> for ``time`` (model units): k collisions with k dt = time,
               gamma dt = theta^2/(2n+1); default rule theta sqrt(N) <= THETA_TIME (see details["rule"]).
               None: the steady state from |g...g> (qbhw.models.collective.steady_state); theta and k are chosen
               on THETA_GRID so that exact_state stays within ``tolerance`` (trace distance) of it.
    collisions, theta   override the automatic choice (with ``time`` they must satisfy k theta^2 = gamma(2n+1) t).
    exchange   "exact" (N <= 3), "palindromic", or "sequential" (negative control, wrong physics); None chooses
               "exact" for N <= 2 and "palindromic" above (at N = 3 the exact 4-qubit exchange transpiles to ~95 CZ
               per collision against ~11 for the palindromic product, for the same 1e-2 accuracy).
    tolerance  (no command-line flag) the steady-state target; an invalid value raises ValueError.

    ideal_state is the model's state on 2^N (dicke_density_matrix); exact_state is the exact channel of the
    circuit's steps applied to |g...g>.
    """
    if not isinstance(params, CollectiveParams):
        raise TypeError(f"params must be a CollectiveParams (got {type(params).__name__})")
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
            "--exchange palindromic",
            n,
        )
    if params.gamma <= 0:
        raise ParameterError(
            "gamma", "> 0 for a collision circuit (the collective collision sets the time step)", params.gamma
        )
    tol = float(tolerance)
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tolerance must be a finite number > 0 (got {tolerance!r})")
    if collisions is not None:
        collisions = _validate.integer_at_least("collisions", collisions, 1)
        if collisions > MAX_CIRCUIT_COLLISIONS:
            raise ParameterError("collisions", f"an integer <= {MAX_CIRCUIT_COLLISIONS} (circuit size)", collisions)
    if theta is not None:
        theta = _validate.positive("theta", theta)
        if theta > math.pi:
            raise ParameterError("theta", "a collision angle in (0, pi]", theta)

    if time is None:
        model = steady_state(params)
        ideal = dicke_density_matrix(model.state)
        plan, met = _plan_ness(params, ideal, collisions, theta, exchange, tol)
    else:
        time = _validate.nonnegative("time", time)
        model = state_at(params, time)
        ideal = dicke_density_matrix(model.state)
        try:
            plan = _plan_time(params, time, collisions, theta)
        except OverflowError:  # gamma (2n+1) time / theta^2 collisions is not even a finite number
            raise ParameterError(
                "time", f"such that the circuit needs at most {MAX_CIRCUIT_COLLISIONS} collisions (circuit size)", time
            ) from None
        if plan.collisions > MAX_CIRCUIT_COLLISIONS:
            raise ParameterError(
                "theta" if theta is not None else "time",
                f"such that the circuit needs at most {MAX_CIRCUIT_COLLISIONS} collisions (circuit size; this needs "
                f"{plan.collisions})",
                theta if theta is not None else time,
            )
        met = None

    seq = collision_steps(params, plan.theta, plan.collisions, exchange)
    exact = apply_steps(seq, _ground(n), (2,) * n)

    from qiskit import QuantumCircuit

    needs = needs_purifier(seq)
    anc = n
    pur = n + 1 if needs else None
    qc = QuantumCircuit(n + 1 + (1 if needs else 0), name=f"collective_{exchange}")
    append_steps(qc, seq, [[i] for i in range(n)], ancilla=anc, purifier=pur)

    nb = params.n_thermal
    distance = trace_distance(exact, ideal)
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
        "fidelity_exact_ideal": fidelity(exact, ideal),
        "local_collisions_per_step": len(_local_layer(params, plan.dt)),
        "logical_ops": {str(k): int(v) for k, v in qc.count_ops().items()},
    }
    if met is not None:
        details["tolerance"] = tol
        details["tolerance_met"] = met
        details["stability_certified"] = plan.certified
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
        hamiltonian=collective_hamiltonian(n),
        ideal_state=ideal,
        exact_state=exact,
        description=desc,
        details=details,
        steps=seq,
    )
