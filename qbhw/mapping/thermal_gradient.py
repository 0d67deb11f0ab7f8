"""Thermal-gradient battery (qbhw.models.thermal_gradient, docs/physics.md section 1) as a collision-model circuit.

Qubits (virtual): A = 0, S = 1 (the register and the battery, physics order (A, S) as in the model), one bath
ancilla (2) shared by both baths, and its purifier (3) when a prepared state is mixed. ``hamiltonian`` is the
model's H = H0 + g (s+_A s-_S + h.c.) (energies and ergotropy with H, as in the model).

Baths. A collision of qubit j with an ancilla in tau_j = (1-P_j)|g><g| + P_j|e><e|, P_j = 1/(e^{omega_j/T_j}+1),
by exp[-i phi (s-_j s+_a + h.c.)] = XXPlusYYGate(2 phi) followed by a reset of the ancilla is EXACTLY the
generalised amplitude-damping channel exp(t L_j), L_j = gamma_j [(n_j+1) D[s-_j] + n_j D[s+_j]], when

    sin^2 phi = 1 - exp(-Gamma_j t),   Gamma_j = gamma_j (2 n_j + 1)

(populations relax by cos^2 phi towards P_j, coherences by cos phi). D(t) = exp(t (L_A + L_S)) is therefore exact
(L_A and L_S act on different qubits), and it commutes with the free part H0 (phase covariance).

Step. S(dt) = D(dt/2) U_H(dt) D(dt/2), U_H(dt) = exp(-i H dt) as one two-qubit UnitaryGate (the RZ phases of H0
are part of it: omega_a != omega_s). This is the symmetric (Strang) splitting of the LOCAL master equation
L = -i[H, .] + L_A + L_S; its only error comes from [g exchange, L_A + L_S] != 0, O(dt^2) over a fixed time.
Adjacent half steps merge: S^k = D(dt/2) [U_H D(dt)]^{k-1} U_H D(dt/2). The collision model realises the local ME;
``ideal_state`` is the model's state for the master equation of ``params`` (global by default), and details give
the distance to both.

Steps (``MappedCircuit.steps``, qbhw.mapping.CollisionStep): a bath collision is a "flip-flop" step on (j,
ancilla) with generator s-_j s+_a + h.c. and duration phi (the exchange angle: coupling times interaction time;
it stands for a bath time t through sin^2 phi = 1 - exp(-Gamma_j t)); the coherent step is a "unitary" step on
(A, S) with generator H and duration dt (model time); the extraction of the limit cycle a "unitary" step with
generator i log U* and duration 1.

Modes of ``thermal_gradient_circuit``.
* ``time`` given: charging from the ground state |gg> of H for that time: k steps of dt = time/k, k = ``steps`` or
  ceil(time/dt_max), dt_max = min(DT_TIME, 0.25/max(Gamma_j), 0.25/g). The Strang error per unit time is
  ~ dt^2 g Gamma (Gamma + g) (nested commutators of the exchange and the baths), and the baths forget errors
  older than ~1/Gamma, so the error in the state is ~ (dt g) (dt (Gamma + g)) times the 1/12-1/24 of the
  splitting's commutators: the two factors 0.25 keep dt Gamma and dt g <= 1/4, and DT_TIME = 4 caps dt when both
  are small (the coherent step itself is exact at any dt). Measured (trace distance to the local ME, times
  5 ... 1000): <= 5.4e-4 for the defaults, <= 2.5e-4 at g = 0.2 or gamma = 0.1, <= 9.7e-4 at both.
* no ``time``: the NESS. The circuit starts from the product of the local Gibbs states (prepared exactly with
  ``prepare_qubit``; the g -> 0 NESS, a trace distance ~ g (P_A - P_S)/|omega_a - omega_s| from the NESS) and
  applies k steps S(dt) whose baths are accelerated: Gamma_j -> lambda Gamma_j (``bath_speedup``; larger
  collision angles). The local-ME NESS depends on the rates only through Gamma/|omega_a - omega_s| corrections,
  so the fixed point of the accelerated step stays close to it while k drops from ~several/Gamma/dt to a few.
  (dt, lambda, k) are chosen on DT_GRID x SPEEDUP_GRID: the fewest steps k after which the distance to the
  local-ME NESS provably stays <= ``tolerance`` (``fewest_stable_steps`` with the step map's fixed point).

``limit_cycle_circuits`` maps the two-stroke engine (charge for tau, extract by U*(rho_NESS)) as k cycles; see
there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.mapping._collisions import (
    FLIP_FLOP,
    CollisionStep,
    ancilla_step,
    append_steps,
    apply_steps,
    coherent_step,
    fewest_stable_steps,
    needs_purifier,
    steps_superoperator,
    unitary_step,
    vec_step,
)
from qbhw.mapping._common import MappedCircuit, is_mixed, prepare_qubit
from qbhw.models.thermal_gradient import (
    CycleResult,
    ThermalGradientParams,
    hamiltonian,
    limit_cycle,
    liouvillian,
    ness,
    state_at,
)
from qbhw.physics.distance import trace_distance
from qbhw.physics.lindblad import fixed_point, left_right, propagator, unvec, vec
from qbhw.physics.operators import kron, partial_trace
from qbhw.physics.thermal import bose_einstein, excited_population
from qbhw.physics.thermodynamics import energy

#: default trace-distance target of the NESS circuit w.r.t. the local-ME NESS: below the resolution of two-qubit
#: tomography at the default shots (9 settings x 8192 shots give ~1e-2 in trace distance), and below the g -> 0
#: starting point's distance (~1.4e-2 for the defaults) so that the circuit must actually converge
NESS_TOLERANCE = 5e-3
#: coherent step times scanned for the NESS, in octaves. Measured for the defaults: at dt = 32 no bath speed-up
#: keeps the step map's fixed point within NESS_TOLERANCE of the local-ME NESS (>= 7e-3: the Strang error), at
#: dt <= 16 several do; dt = 1 resolves the detuning omega_a - omega_s ~ 1
DT_GRID = (1.0, 2.0, 4.0, 8.0, 16.0)
#: bath accelerations scanned for the NESS, from the physical rates (1). Measured for the defaults: at lambda = 30
#: the accelerated fixed point is 3.7e-3 ... 1.3e-2 from the local-ME NESS depending on dt, at lambda = 50 it is
#: >= 6e-3 for every dt on DT_GRID, so larger speed-ups cannot help
SPEEDUP_GRID = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
#: most Trotter steps of a NESS circuit (circuit depth: ~9 CZ per step after transpilation, ~350 in all)
MAX_NESS_STEPS = 40
#: most Trotter steps of any thermal-gradient circuit (given by --steps or derived from --time), refused before any
#: step is built: 10^4 steps take ~3 s to build with their exact channel (measured) and are ~10^5 two-qubit gates
MAX_CIRCUIT_STEPS = 10_000
#: with ``time``: the largest step (model units); see the module docstring for the two factors 0.25
DT_TIME = 4.0
#: default trace-distance target of the limit-cycle circuits w.r.t. the local-ME limit cycle (as for the NESS)
CYCLE_TOLERANCE = NESS_TOLERANCE
#: most engine cycles of a limit-cycle circuit (each cycle relaxes the register by ~exp(-Gamma tau); 100 cycles
#: of the default steps are ~2000 two-qubit gates, beyond any present device's coherence)
MAX_CYCLES = 100


@dataclass(frozen=True)
class _Bath:
    """One local bath: excited population of its ancilla and Gamma = gamma (2n+1)."""

    p_excited: float
    relaxation_rate: float


def _baths(params: ThermalGradientParams) -> tuple[_Bath, _Bath]:
    g_a, g_s = params.rates
    out = []
    for rate, omega, temp in ((g_a, params.omega_a, params.temperature_a), (g_s, params.omega_s, params.temperature_s)):
        n = bose_einstein(omega, temp)
        out.append(_Bath(excited_population(omega, temp), rate * (2.0 * n + 1.0)))
    return out[0], out[1]


def collision_angle(relaxation_rate: float, t: float) -> float:
    """phi with sin^2 phi = 1 - exp(-Gamma t): the exchange angle of an exact thermal collision lasting t."""
    return math.asin(math.sqrt(-math.expm1(-relaxation_rate * t)))


def _thermal_qubit(p_excited: float) -> np.ndarray:
    return np.diag([1.0 - p_excited, p_excited]).astype(complex)


def bath_steps(params: ThermalGradientParams, t: float, bath_speedup: float = 1.0) -> tuple[CollisionStep, ...]:
    """The exact bath channel D(t) = exp(t (L_A + L_S)) (rates times ``bath_speedup``) as two collisions, A then S."""
    out = []
    for site, (bath, name) in enumerate(zip(_baths(params), "AS", strict=True)):
        phi = collision_angle(bath_speedup * bath.relaxation_rate, t)
        out.append(ancilla_step((site,), FLIP_FLOP, phi, _thermal_qubit(bath.p_excited), "flip-flop", label=name))
    return tuple(out)


def charging_steps(
    params: ThermalGradientParams, dt: float, steps: int, bath_speedup: float = 1.0
) -> tuple[CollisionStep, ...]:
    """k = ``steps`` Strang steps S(dt) with merged halves: D(dt/2) [U_H D(dt)]^{k-1} U_H D(dt/2) (none for k = 0)."""
    if steps == 0:
        return ()
    half = bath_steps(params, dt / 2, bath_speedup)
    full = bath_steps(params, dt, bath_speedup)
    coherent = coherent_step((0, 1), hamiltonian(params), dt, label="exp(-iH dt)")
    out: list[CollisionStep] = list(half)
    for k in range(steps):
        out.append(coherent)
        out.extend(half if k == steps - 1 else full)
    return tuple(out)


def _step_superop(params: ThermalGradientParams, dt: float, speedup: float) -> np.ndarray:
    """S(dt) = D(dt/2) U_H(dt) D(dt/2) as a 16x16 superoperator, baths accelerated by ``speedup``."""
    return steps_superoperator(charging_steps(params, dt, 1, speedup), (2, 2))


def _gibbs_product(params: ThermalGradientParams) -> tuple[np.ndarray, np.ndarray]:
    bath_a, bath_s = _baths(params)
    return _thermal_qubit(bath_a.p_excited), _thermal_qubit(bath_s.p_excited)


def _fixed_point(superop: np.ndarray) -> np.ndarray | None:
    """The unique fixed point of a step map, or None when it is not resolved (rates at the rounding level)."""
    try:
        return fixed_point(superop, rtol=1e-12)
    except ArithmeticError:  # includes NonUniqueSteadyStateError
        return None


@dataclass(frozen=True)
class _Plan:
    dt: float
    steps: int
    bath_speedup: float
    rule: str
    certified: bool = False


def _dt_max(params: ThermalGradientParams) -> float:
    rates = [b.relaxation_rate for b in _baths(params)]
    bounds = [DT_TIME, 0.25 / max(rates)]
    if params.g > 0:
        bounds.append(0.25 / params.g)
    return min(bounds)


def _plan_time(params: ThermalGradientParams, time: float, steps: int | None, dt: float | None) -> _Plan:
    if time == 0.0:
        return _Plan(0.0, 0, 1.0, "time 0: no step (the qubits stay in the ground state)")
    if steps is not None and dt is not None and abs(steps * dt - time) > 1e-9 * max(1.0, time):
        raise ValueError(f"steps and dt must satisfy steps * dt = time = {time:g}")
    if steps is not None:
        return _Plan(time / steps, steps, 1.0, "given steps, dt = time/steps")
    dt_max = dt if dt is not None else _dt_max(params)
    k = max(1, math.ceil(time / dt_max - 1e-12))
    rule = (
        "steps = ceil(time/dt), dt = time/steps"
        if dt is not None
        else (f"steps = ceil(time/dt_max), dt_max = min({DT_TIME:g}, 0.25/max Gamma_j, 0.25/g) = {dt_max:.4g}")
    )
    return _Plan(time / k, k, 1.0, rule)


def _plan_ness(
    params: ThermalGradientParams,
    rho0: np.ndarray,
    target: np.ndarray,
    steps: int | None,
    dt: float | None,
    speedup: float | None,
    tolerance: float,
) -> tuple[_Plan, bool]:
    dts = [dt] if dt is not None else list(DT_GRID)
    lams = [speedup] if speedup is not None else list(SPEEDUP_GRID)
    best: tuple[tuple, _Plan] | None = None
    fixed_point_ok = False
    for d in dts:
        for lam in lams:
            s = _step_superop(params, d, lam)
            fp = _fixed_point(s)
            fp_ok = fp is not None and trace_distance(fp, target) <= tolerance
            fixed_point_ok = fixed_point_ok or fp_ok
            if steps is not None:
                v = vec(rho0)
                for _ in range(steps):
                    v = s @ v
                dist = trace_distance(unvec(v, 4), target)
                key: tuple = (not (fp_ok and dist <= tolerance), dist, lam, d)
                plan = _Plan(d, steps, lam, "given steps; (dt, bath_speedup) minimising the distance")
            else:
                if not fp_ok:
                    continue
                found = fewest_stable_steps(vec_step(s), rho0, target, tolerance, MAX_NESS_STEPS, fixed_point=fp)
                if found.steps is None:
                    continue
                key = (False, found.steps, lam, d)
                plan = _Plan(
                    d,
                    found.steps,
                    lam,
                    "fewest steps k after which the distance to the local-ME NESS stays within tolerance (proven "
                    "with the step map's fixed point); ties: smaller speedup, dt",
                    certified=found.certified,
                )
            if best is None or key < best[0]:
                best = (key, plan)
    if best is None:
        if fixed_point_ok:
            raise ParameterError(
                "gamma",
                f"large enough that the baths (sped up at most {max(lams):g}x, steps dt <= {max(dts):g}) bring the "
                f"register within {tolerance:g} of the NESS in <= {MAX_NESS_STEPS} steps; give --steps N to run "
                "N steps anyway (the distance to the NESS is then reported), or use --time",
                params.gamma,
            )
        raise ParameterError(
            "gamma",
            "small enough, relative to the qubit splittings and g, that the collision circuit's NESS lies within "
            f"{tolerance:g} of the model's for some step dt in {list(dts)}; give --steps N to run N steps anyway "
            "(the distance to the NESS is then reported), or use --time",
            params.gamma,
        )
    return best[1], not best[0][0]


def _check_params(params: ThermalGradientParams) -> np.ndarray:
    """H, after checking that its ground state is |gg> (the circuits start from, and measure energy above, it)."""
    if not isinstance(params, ThermalGradientParams):
        raise TypeError(f"params must be a ThermalGradientParams (got {type(params).__name__})")
    h = hamiltonian(params)
    evals, evecs = np.linalg.eigh(h)
    if abs(abs(evecs[0, 0]) - 1.0) > 1e-9 or evals[1] - evals[0] < 1e-9:
        raise ParameterError("g", "< sqrt(omega_a * omega_s) (the ground state of H must be |gg>)", params.g)
    return h


def _positive_option(name: str, value: float) -> float:
    """A keyword option that no command-line flag sets: a plain ValueError (a programming error, not a user's)."""
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0 (got {value!r})")
    return v


def _circuit(
    name: str, prepared: tuple[np.ndarray, np.ndarray] | None, steps: tuple[CollisionStep, ...]
) -> tuple[Any, int]:
    """The circuit on A = 0, S = 1, ancilla 2 (and purifier 3 when a prepared state is mixed)."""
    from qiskit import QuantumCircuit

    mixed = needs_purifier(steps) or (prepared is not None and any(is_mixed(r) for r in prepared))
    pur = 3 if mixed else None
    qc = QuantumCircuit(4 if mixed else 3, name=name)
    if prepared is not None:
        prepare_qubit(qc, 0, prepared[0], pur)
        prepare_qubit(qc, 1, prepared[1], pur)
    append_steps(qc, steps, [[0], [1]], ancilla=2, purifier=pur)
    return qc, (4 if mixed else 3)


def _logical_ops(qc: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in qc.count_ops().items()}


def thermal_gradient_circuit(
    params: ThermalGradientParams,
    time: float | None = None,
    *,
    steps: int | None = None,
    dt: float | None = None,
    bath_speedup: float | None = None,
    tolerance: float = NESS_TOLERANCE,
) -> MappedCircuit:
    """The thermal-gradient battery as a Trotterised collision model (module docstring).

    time          charging time from |gg> (None: the NESS); ``steps`` (flag --steps) overrides the step rule.
    dt            (no flag) the step time; bath_speedup (no flag) lambda >= 1 multiplying both bath rates (NESS
                  only); tolerance (no flag) the NESS target: trace distance to the local-ME NESS. Invalid values
                  of these three raise ValueError.
    """
    h = _check_params(params)
    tolerance = _positive_option("tolerance", tolerance)
    if steps is not None:
        steps = _validate.integer_at_least("steps", steps, 1)
        if steps > MAX_CIRCUIT_STEPS:
            raise ParameterError("steps", f"an integer <= {MAX_CIRCUIT_STEPS} (circuit size)", steps)
    if dt is not None:
        dt = _positive_option("dt", dt)
    if bath_speedup is not None:
        bath_speedup = _positive_option("bath_speedup", bath_speedup)
        if bath_speedup < 1.0:
            raise ValueError(f"bath_speedup must be >= 1 (got {bath_speedup!r})")
    local = replace(params, master_equation="local")

    prepared: tuple[np.ndarray, np.ndarray] | None
    if time is None:
        ideal = ness(params).rho
        local_ref = ness(local).rho
        prepared = _gibbs_product(params)
        rho0 = kron(*prepared)
        plan, met = _plan_ness(params, rho0, local_ref, steps, dt, bath_speedup, tolerance)
    else:
        time = _validate.nonnegative("time", time)
        if bath_speedup not in (None, 1.0):
            raise ValueError("bath_speedup must be 1 (the physical rates) when time is given")
        ideal = state_at(params, time).rho
        local_ref = state_at(local, time).rho
        prepared = None
        rho0 = np.zeros((4, 4), dtype=complex)
        rho0[0, 0] = 1.0
        plan = _plan_time(params, time, steps, dt)
        if plan.steps > MAX_CIRCUIT_STEPS:
            raise ParameterError(
                "time",
                f"short enough for at most {MAX_CIRCUIT_STEPS} Trotter steps (circuit size; this time needs "
                f"{plan.steps})",
                time,
            )
        met = None

    sequence = charging_steps(params, plan.dt, plan.steps, plan.bath_speedup)
    exact = apply_steps(sequence, rho0, (2, 2))
    qc, _ = _circuit("thermal_gradient", prepared, sequence)

    bath_a, bath_s = _baths(params)
    lam = plan.bath_speedup
    dist_ideal = trace_distance(exact, ideal)
    details: dict[str, Any] = {
        "mode": "ness" if time is None else "time",
        "steps": plan.steps,
        "dt": plan.dt,
        "simulated_time": plan.steps * plan.dt,
        "bath_speedup": plan.bath_speedup,
        "collision_angle_a": collision_angle(lam * bath_a.relaxation_rate, plan.dt),
        "collision_angle_s": collision_angle(lam * bath_s.relaxation_rate, plan.dt),
        "ancilla_excited_population_a": bath_a.p_excited,
        "ancilla_excited_population_s": bath_s.p_excited,
        "rule": plan.rule,
        "master_equation": params.master_equation,
        "trace_distance_exact_ideal": dist_ideal,
        "trace_distance_exact_local_me": trace_distance(exact, local_ref),
        "trace_distance_local_me_ideal": trace_distance(local_ref, ideal),
        "logical_ops": _logical_ops(qc),
    }
    if time is None:
        fp = _fixed_point(_step_superop(params, plan.dt, plan.bath_speedup))
        details["tolerance"] = tolerance
        details["tolerance_met"] = met
        details["stability_certified"] = plan.certified
        details["trace_distance_fixed_point_local_me"] = (
            trace_distance(fp, local_ref) if fp is not None else float("nan")
        )
        details["trace_distance_initial_local_me"] = trace_distance(rho0, local_ref)
    what = "NESS from the local Gibbs product" if time is None else f"charging from |gg> for time {time:g}"
    desc = (
        f"thermal gradient: {plan.steps} Trotter steps dt = {plan.dt:.4g} (exp(-iH dt) + exact thermal "
        f"collisions, bath speed-up {plan.bath_speedup:g}); {what}; trace distance to the "
        f"{params.master_equation} ME {dist_ideal:.2e}"
    )
    return MappedCircuit(
        model="thermal-gradient",
        circuit=qc,
        register=(0, 1),
        battery=(0, 1),
        hamiltonian=h,
        ideal_state=ideal,
        exact_state=exact,
        description=desc,
        details=details,
        steps=sequence,
    )


# ---------------------------------------------------------------------------------------------- limit cycle


@dataclass(frozen=True, eq=False)
class LimitCycleCircuits:
    """The two-stroke engine's limit cycle as two circuits (``limit_cycle_circuits``).

    before   k - 1 full cycles, then the charging stroke of cycle k: the register just BEFORE the last extraction
             (ideal_state = the model's rho_end)
    after    k full cycles: the register just AFTER the last extraction (ideal_state = U rho_end U^dagger)
    ideal    the ideal model's limit cycle (qbhw.models.thermal_gradient.limit_cycle): work per cycle
             E_before - E_after, heat Q_A, power, efficiency, U = ``ideal.extraction_unitary``
    cycles   k, the number of cycles (charging strokes) of ``before``

    Both circuits have register = (A, S) = (0, 1) and battery = both; their ``exact_state``s are the circuits'
    exact channels. ``exact_work`` is the work per cycle of the circuit's channel; details["work_error_bound_ideal"]
    bounds |exact_work - ideal.work| (2 D ||H - U^+ H U||, D the trace distance before the extraction). At short
    cycles the work per cycle is small (~ tau) while the state tolerance is not, so that bound can exceed the work.
    """

    before: MappedCircuit
    after: MappedCircuit
    ideal: CycleResult
    cycles: int

    @property
    def exact_work(self) -> float:
        """E_before - E_after of the exact channel states (with H)."""
        h = self.before.hamiltonian
        return energy(self.before.exact_state, h) - energy(self.after.exact_state, h)


def _cycle_start(target_after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The product of the single-qubit marginals of the post-extraction limit-cycle state: prepared exactly with
    two ``prepare_qubit`` (its only error is the A-S correlation, ~ g/|omega_a - omega_s| of the cycle)."""
    return partial_trace(target_after, (2, 2), keep=(0,)), partial_trace(target_after, (2, 2), keep=(1,))


def limit_cycle_circuits(
    params: ThermalGradientParams,
    cycle_time: float,
    *,
    steps: int | None = None,
    cycles: int | None = None,
    tolerance: float = CYCLE_TOLERANCE,
) -> LimitCycleCircuits:
    """The limit cycle of the two-stroke engine (docs/physics.md 1.1: charge for tau = ``cycle_time``, then
    extract instantly by U = U*(rho_NESS)) as k cycles of circuit.

    One cycle: the charging stroke as ``thermal_gradient_circuit`` charges for a time (``steps`` Strang steps of
    dt = tau/steps with the physical bath rates; default steps = ceil(tau/dt_max), the same rule), then U as one
    two-qubit UnitaryGate (a "unitary" CollisionStep with generator i log U). U is the ideal model's
    (``ideal.extraction_unitary``, the NESS of ``params.master_equation``). The register starts in the product of
    the marginals of the local-ME limit cycle's post-extraction state (``prepare_qubit``; like the NESS circuit's
    g -> 0 start). k = ``cycles``, or the fewest cycles after which the register provably stays within
    ``tolerance`` (trace distance) of the local-ME limit cycle with the same U (``fewest_stable_steps`` with the
    circuit cycle's fixed point); the circuit realises the local ME, so that is its reference, and details give
    the distance to the ideal (``params.master_equation``) cycle as well.

    Raises ParameterError("cycle_time") when more than MAX_CYCLES cycles would be needed (short cycles relax the
    register by only ~exp(-Gamma tau) each).
    """
    h = _check_params(params)
    tau = _validate.positive("cycle_time", cycle_time)
    tolerance = _positive_option("tolerance", tolerance)
    if steps is not None:
        steps = _validate.integer_at_least("steps", steps, 1)
    if cycles is not None:
        c = float(cycles)
        if not (c.is_integer() and c >= 1):
            raise ValueError(f"cycles must be an integer >= 1 (got {cycles!r})")
        cycles = int(c)

    ideal = limit_cycle(params, tau)
    u = np.asarray(ideal.extraction_unitary)
    s_u = left_right(u, u.conj().T)
    local = replace(params, master_equation="local")
    local_end = fixed_point(propagator(liouvillian(local), tau) @ s_u, rtol=1e-12)
    local_after = u @ local_end @ u.conj().T

    n = steps if steps is not None else max(1, math.ceil(tau / _dt_max(params) - 1e-12))
    dt = tau / n
    stroke = charging_steps(params, dt, n)
    extract = unitary_step((0, 1), u, label="U*")
    s_charge = steps_superoperator(stroke, (2, 2))
    cycle_map = s_u @ s_charge  # on post-extraction states: charge, then extract
    fp_after = fixed_point(cycle_map, rtol=1e-12)

    prepared = _cycle_start(local_after)
    rho0 = kron(*prepared)
    if cycles is None:
        found = fewest_stable_steps(vec_step(cycle_map), rho0, local_after, tolerance, MAX_CYCLES, fixed_point=fp_after)
        if found.steps is None:
            x = math.exp(-min(b.relaxation_rate for b in _baths(params)) * tau)
            raise ParameterError(
                "cycle_time",
                f"long enough that the register reaches the limit cycle within {tolerance:g} in <= {MAX_CYCLES} "
                f"cycles (each charging stroke relaxes it by only ~exp(-Gamma tau) = {x:.3g}); use a longer "
                "--cycle-time or a larger --gamma",
                cycle_time,
            )
        k, certified, met = found.steps, found.certified, True
        rule = (
            f"fewest cycles k after which the register stays within {tolerance:g} of the local-ME limit cycle "
            "(proven with the circuit cycle's fixed point)"
        )
    else:
        k, certified, met, rule = cycles, False, None, "given cycles"

    before_steps = (stroke + (extract,)) * (k - 1) + stroke
    after_steps = before_steps + (extract,)
    exact_before = apply_steps(before_steps, rho0, (2, 2))
    exact_after = apply_steps(after_steps, rho0, (2, 2))
    ideal_before = np.asarray(ideal.rho_end)
    ideal_after = u @ ideal_before @ u.conj().T
    if met is None:
        met = trace_distance(exact_after, local_after) <= tolerance

    bath_a, bath_s = _baths(params)
    # the work per cycle Tr[rho_end (H - U^+ H U)] is linear in rho_end: |dW| <= 2 D(rho, sigma) ||H - U^+ H U||
    work_norm = float(np.abs(np.linalg.eigvalsh(h - u.conj().T @ h @ u)).max())
    common: dict[str, Any] = {
        "mode": "cycle",
        "cycle_time": tau,
        "cycles": k,
        "steps": n,
        "dt": dt,
        "bath_speedup": 1.0,
        "collision_angle_a": collision_angle(bath_a.relaxation_rate, dt),
        "collision_angle_s": collision_angle(bath_s.relaxation_rate, dt),
        "ancilla_excited_population_a": bath_a.p_excited,
        "ancilla_excited_population_s": bath_s.p_excited,
        "rule": rule,
        "master_equation": params.master_equation,
        "tolerance": tolerance,
        "tolerance_met": bool(met),
        "stability_certified": certified,
        "trace_distance_fixed_point_local_me": trace_distance(fp_after, local_after),
        "trace_distance_initial_local_me": trace_distance(rho0, local_after),
        "work_ideal": ideal.work,
        "work_local_me": energy(local_end, h) - energy(local_after, h),
        "work_exact": energy(exact_before, h) - energy(exact_after, h),
        "work_error_bound_ideal": 2.0 * work_norm * trace_distance(exact_before, ideal_before),
        "work_error_bound_local_me": 2.0 * work_norm * trace_distance(exact_before, local_end),
        "heat_ideal": ideal.heat,
        "power_ideal": ideal.power,
        "efficiency_ideal": ideal.efficiency,
    }
    if common["work_error_bound_ideal"] >= abs(ideal.work):
        common["warning"] = (
            f"the work per cycle {ideal.work:.3g} is not resolved: the circuit's state error bounds its error by "
            f"{common['work_error_bound_ideal']:.3g} (short cycles store little work per cycle); use a longer "
            "--cycle-time"
        )

    def mapped(
        stage: str, seq: tuple[CollisionStep, ...], exact: np.ndarray, ideal_state: np.ndarray, local_ref: np.ndarray
    ) -> MappedCircuit:
        qc, _ = _circuit(f"thermal_gradient_cycle_{stage}", prepared, seq)
        dist = trace_distance(exact, ideal_state)
        details = {
            **common,
            "stage": stage,
            "trace_distance_exact_ideal": dist,
            "trace_distance_exact_local_me": trace_distance(exact, local_ref),
            "trace_distance_local_me_ideal": trace_distance(local_ref, ideal_state),
            "logical_ops": _logical_ops(qc),
        }
        desc = (
            f"thermal-gradient engine, {k} cycles of tau = {tau:g} ({n} Trotter steps dt = {dt:.4g} with exact "
            f"thermal collisions, then U* of the NESS); register {stage} the last extraction; trace distance to "
            f"the {params.master_equation}-ME limit cycle {dist:.2e}"
        )
        return MappedCircuit(
            model="thermal-gradient",
            circuit=qc,
            register=(0, 1),
            battery=(0, 1),
            hamiltonian=h,
            ideal_state=ideal_state,
            exact_state=exact,
            description=desc,
            details=details,
            steps=seq,
        )

    return LimitCycleCircuits(
        before=mapped("before", before_steps, exact_before, ideal_before, local_end),
        after=mapped("after", after_steps, exact_after, ideal_after, local_after),
        ideal=ideal,
        cycles=k,
    )
