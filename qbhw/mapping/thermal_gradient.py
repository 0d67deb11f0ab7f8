"""Thermal-gradient battery (qbhw.models.thermal_gradient, docs/physics.md section 1) as a collision-model circuit.

Qubits (virtual): A = 0, S = 1 (the register and the battery, physics order (A, S) as in the model), one bath
ancilla (2) shared by both baths, and its purifier (3) when an ancilla state is mixed. ``hamiltonian`` is the
model's H = H0 + g (s+_A s-_S + h.c.) (energies and ergotropy with H, as in the model).

Baths. A collision of qubit j with an ancilla in tau_j = (1-P_j)|g><g| + P_j|e><e|, P_j = 1/(e^{omega_j/T_j}+1),
by XXPlusYYGate(2 phi) = exp[-i phi (s-_j s+_a + h.c.)] followed by a reset of the ancilla is EXACTLY the
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

Modes.
* ``time`` given: charging from the ground state |gg> of H for that time: k steps of dt = time/k, k = ``steps`` or
  ceil(time/dt_max), dt_max = min(DT_TIME, 0.25/max(Gamma_j), 0.25/g).
* no ``time``: the NESS. The circuit starts from the product of the local Gibbs states (prepared exactly with
  ``prepare_qubit``; the g -> 0 NESS, a trace distance ~ g (P_A - P_S)/|omega_a - omega_s| from the NESS) and
  applies k steps S(dt) whose baths are accelerated: Gamma_j -> lambda Gamma_j (``bath_speedup``; larger
  collision angles). The local-ME NESS depends on the rates only through Gamma/|omega_a - omega_s| corrections,
  so the fixed point of the accelerated step stays close to it while k drops from ~several/Gamma/dt to a few.
  (dt, lambda, k) are chosen on DT_GRID x SPEEDUP_GRID: the fewest steps after which the distance to the
  local-ME NESS stays <= ``tolerance`` (checked up to 2k + STABLE_MARGIN steps) with the step map's fixed point
  also within ``tolerance``. Both distances are in details.

The limit cycle (``--cycle-time``) is not mapped: ``qbhw run thermal-gradient --cycle-time`` must reject it.
``thermal_relaxation_circuit`` is the alternative bath realisation with Aer relaxation errors (see there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.linalg as sla

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.mapping._common import MappedCircuit, prepare_qubit
from qbhw.mapping.collective import kraus_from_unitary
from qbhw.models.thermal_gradient import ThermalGradientParams, hamiltonian, ness, state_at
from qbhw.physics.lindblad import fixed_point, left_right, unvec, vec
from qbhw.physics.operators import SIGMA_MINUS, SIGMA_PLUS, kron
from qbhw.physics.thermal import bose_einstein, excited_population
from qbhw.physics.thermodynamics import extraction_unitary

#: default trace-distance target of the NESS circuit w.r.t. the local-ME NESS (the product of the local Gibbs
#: states is ~1.4e-2 away for the default parameters, the global-ME NESS 2.4e-3)
NESS_TOLERANCE = 5e-3
#: coherent step times and bath accelerations scanned for the NESS
DT_GRID = (1.0, 2.0, 4.0, 8.0, 16.0)
SPEEDUP_GRID = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
MAX_NESS_STEPS = 40
STABLE_MARGIN = 10
#: with ``time``: the largest step (model units); error O(dt^2), ~4e-4 in trace distance for the defaults
DT_TIME = 4.0


def _trace_distance(a: np.ndarray, b: np.ndarray) -> float:
    d = np.asarray(a) - np.asarray(b)
    return 0.5 * float(np.abs(np.linalg.eigvalsh(0.5 * (d + d.conj().T))).sum())


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


def _collision_superop(site: int, bath: _Bath, phi: float) -> np.ndarray:
    """Superoperator (column stacking, 4x4 states (A, S)) of the collision of ``site`` with its thermal ancilla."""
    h = np.kron(SIGMA_MINUS, SIGMA_PLUS)
    h = h + h.conj().T
    u = np.eye(4) + (math.cos(phi) - 1.0) * (h @ h) - 1j * math.sin(phi) * h  # exp(-i phi h), h^3 = h
    tau = np.diag([1.0 - bath.p_excited, bath.p_excited]).astype(complex)
    eye = np.eye(2)
    out = np.zeros((16, 16), dtype=complex)
    for k in kraus_from_unitary(u, tau):
        full = kron(k, eye) if site == 0 else kron(eye, k)
        out += np.kron(full.conj(), full)
    return out


def _step_superop(params: ThermalGradientParams, dt: float, speedup: float) -> np.ndarray:
    """S(dt) = D(dt/2) U_H(dt) D(dt/2), baths accelerated by ``speedup`` (1 = the physical local ME)."""
    bath_a, bath_s = _baths(params)
    half = _collision_superop(
        0, bath_a, collision_angle(speedup * bath_a.relaxation_rate, dt / 2)
    ) @ _collision_superop(1, bath_s, collision_angle(speedup * bath_s.relaxation_rate, dt / 2))
    u = sla.expm(-1j * hamiltonian(params) * dt)
    return half @ left_right(u, u.conj().T) @ half


def _gibbs_product(params: ThermalGradientParams) -> tuple[np.ndarray, np.ndarray]:
    bath_a, bath_s = _baths(params)
    return (
        np.diag([1 - bath_a.p_excited, bath_a.p_excited]).astype(complex),
        np.diag([1 - bath_s.p_excited, bath_s.p_excited]).astype(complex),
    )


@dataclass(frozen=True)
class StepPlan:
    dt: float
    steps: int
    bath_speedup: float
    rule: str


def _dt_max(params: ThermalGradientParams) -> float:
    rates = [b.relaxation_rate for b in _baths(params)]
    bounds = [DT_TIME, 0.25 / max(rates)]
    if params.g > 0:
        bounds.append(0.25 / params.g)
    return min(bounds)


def _plan_time(params: ThermalGradientParams, time: float, steps: int | None, dt: float | None) -> StepPlan:
    if time == 0.0:
        return StepPlan(0.0, 0, 1.0, "time 0: no step (the qubits stay in the ground state)")
    if steps is not None and dt is not None and abs(steps * dt - time) > 1e-9 * max(1.0, time):
        raise ParameterError("steps", f"consistent with dt and time (steps * dt = {time:g})", steps)
    if steps is not None:
        return StepPlan(time / steps, steps, 1.0, "given steps, dt = time/steps")
    dt_max = dt if dt is not None else _dt_max(params)
    k = max(1, math.ceil(time / dt_max - 1e-12))
    rule = (
        "steps = ceil(time/dt), dt = time/steps"
        if dt is not None
        else (f"steps = ceil(time/dt_max), dt_max = min({DT_TIME:g}, 0.25/max Gamma_j, 0.25/g) = {dt_max:.4g}")
    )
    return StepPlan(time / k, k, 1.0, rule)


def _stable_k(step: np.ndarray, rho0: np.ndarray, target: np.ndarray, tolerance: float, limit: int) -> int | None:
    v = vec(rho0)
    found: int | None = None
    j = 0
    while True:
        j += 1
        v = step @ v
        if _trace_distance(unvec(v, 4), target) <= tolerance:
            found = j if found is None else found
        else:
            found = None
        if found is not None and j >= 2 * found + STABLE_MARGIN:
            return found
        if found is None and j >= limit:
            return None


def _plan_ness(
    params: ThermalGradientParams,
    rho0: np.ndarray,
    target: np.ndarray,
    steps: int | None,
    dt: float | None,
    speedup: float | None,
    tolerance: float,
) -> tuple[StepPlan, bool]:
    dts = [dt] if dt is not None else list(DT_GRID)
    lams = [speedup] if speedup is not None else list(SPEEDUP_GRID)
    best: tuple[tuple, StepPlan] | None = None
    for d in dts:
        for lam in lams:
            s = _step_superop(params, d, lam)
            fp_ok = _trace_distance(fixed_point(s, rtol=1e-12), target) <= tolerance
            if steps is not None:
                v = vec(rho0)
                for _ in range(steps):
                    v = s @ v
                dist = _trace_distance(unvec(v, 4), target)
                key = (not (fp_ok and dist <= tolerance), dist, lam, d)
                plan = StepPlan(d, steps, lam, "given steps; (dt, bath_speedup) minimising the distance")
            else:
                if not fp_ok:
                    continue
                k = _stable_k(s, rho0, target, tolerance, MAX_NESS_STEPS)
                if k is None:
                    continue
                key = (False, k, lam, d)
                plan = StepPlan(
                    d,
                    k,
                    lam,
                    "fewest steps k within tolerance of the local-ME NESS up to 2k + "
                    f"{STABLE_MARGIN} steps, fixed point within tolerance; ties: smaller speedup, dt",
                )
            if best is None or key < best[0]:
                best = (key, plan)
    if best is None:
        raise ParameterError(
            "tolerance",
            f"reachable with dt in {dts}, bath_speedup in {lams} and <= {MAX_NESS_STEPS} steps "
            "(give steps, dt and bath_speedup explicitly, or a larger tolerance)",
            tolerance,
        )
    return best[1], not best[0][0]


def thermal_gradient_circuit(
    params: ThermalGradientParams,
    *,
    time: float | None = None,
    steps: int | None = None,
    dt: float | None = None,
    bath_speedup: float | None = None,
    tolerance: float = NESS_TOLERANCE,
) -> MappedCircuit:
    """The thermal-gradient battery as a Trotterised collision model (module docstring).

    time          charging time from |gg> (None: the NESS); steps / dt override the step rule.
    bath_speedup  lambda >= 1 multiplying both bath rates (NESS only; ``time`` requires the physical 1).
    tolerance     NESS target: trace distance to the local-ME NESS.
    """
    if not isinstance(params, ThermalGradientParams):
        raise ParameterError("params", "a ThermalGradientParams", type(params).__name__)
    tolerance = _validate.positive("tolerance", tolerance)
    if steps is not None:
        steps = _validate.integer_at_least("steps", steps, 1)
    if dt is not None:
        dt = _validate.positive("dt", dt)
    if bath_speedup is not None:
        bath_speedup = _validate.finite("bath_speedup", bath_speedup)
        if bath_speedup < 1.0:
            raise ParameterError("bath_speedup", "a number >= 1", bath_speedup)
    h = hamiltonian(params)
    local = replace(params, master_equation="local")
    evals, evecs = np.linalg.eigh(h)
    if abs(abs(evecs[0, 0]) - 1.0) > 1e-9 or evals[1] - evals[0] < 1e-9:
        raise ParameterError("g", "< sqrt(omega_a * omega_s) (the ground state of H must be |gg>)", params.g)

    if time is None:
        ideal = ness(params).rho
        local_ref = ness(local).rho
        rho_a, rho_s = _gibbs_product(params)
        rho0 = kron(rho_a, rho_s)
        plan, met = _plan_ness(params, rho0, local_ref, steps, dt, bath_speedup, tolerance)
    else:
        time = _validate.nonnegative("time", time)
        if bath_speedup not in (None, 1.0):
            raise ParameterError("bath_speedup", "1 (the physical rates) when time is given", bath_speedup)
        ideal = state_at(params, time).rho
        local_ref = state_at(local, time).rho
        rho0 = np.zeros((4, 4), dtype=complex)
        rho0[0, 0] = 1.0
        plan = _plan_time(params, time, steps, dt)
        met = None

    step = _step_superop(params, plan.dt, plan.bath_speedup)
    v = vec(rho0)
    for _ in range(plan.steps):
        v = step @ v
    exact = unvec(v, 4)
    exact = 0.5 * (exact + exact.conj().T)

    bath_a, bath_s = _baths(params)
    lam = plan.bath_speedup
    phis = {
        "half": (
            collision_angle(lam * bath_a.relaxation_rate, plan.dt / 2),
            collision_angle(lam * bath_s.relaxation_rate, plan.dt / 2),
        ),
        "full": (
            collision_angle(lam * bath_a.relaxation_rate, plan.dt),
            collision_angle(lam * bath_s.relaxation_rate, plan.dt),
        ),
    }
    u_h = sla.expm(-1j * h * plan.dt)

    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate, XXPlusYYGate

    mixed = any(b.p_excited > 1e-12 for b in (bath_a, bath_s))  # prepare_qubit: pure below 1e-12
    anc, pur = 2, (3 if mixed else None)
    qc = QuantumCircuit(4 if mixed else 3, name="thermal_gradient")
    taus = [np.diag([1 - b.p_excited, b.p_excited]).astype(complex) for b in (bath_a, bath_s)]
    if time is None:
        prepare_qubit(qc, 0, taus[0], pur)
        prepare_qubit(qc, 1, taus[1], pur)

    def baths(which: str) -> None:
        for site in (0, 1):
            prepare_qubit(qc, anc, taus[site], pur)
            # exp[-i phi (s-s+ + s+s-)] = XXPlusYYGate(2 phi, beta=0) (docs/physics.md section 0)
            qc.append(XXPlusYYGate(2.0 * phis[which][site], 0.0), [site, anc])
            qc.reset(anc)

    baths("half")
    for k in range(plan.steps):
        qc.append(UnitaryGate(u_h, label="exp(-iH dt)"), [1, 0])  # physics order (A, S) -> qargs reversed
        baths("half" if k == plan.steps - 1 else "full")

    extraction = QuantumCircuit(2, name="extraction")
    extraction.append(UnitaryGate(extraction_unitary(ideal, h), label="U*"), [1, 0])

    dist_ideal = _trace_distance(exact, ideal)
    details: dict[str, Any] = {
        "mode": "ness" if time is None else "time",
        "steps": plan.steps,
        "dt": plan.dt,
        "simulated_time": plan.steps * plan.dt,
        "bath_speedup": plan.bath_speedup,
        "collision_angle_a": phis["full"][0],
        "collision_angle_s": phis["full"][1],
        "ancilla_excited_population_a": bath_a.p_excited,
        "ancilla_excited_population_s": bath_s.p_excited,
        "rule": plan.rule,
        "master_equation": params.master_equation,
        "trace_distance_exact_ideal": dist_ideal,
        "trace_distance_exact_local_me": _trace_distance(exact, local_ref),
        "trace_distance_local_me_ideal": _trace_distance(local_ref, ideal),
        "logical_ops": {str(k): int(v) for k, v in qc.count_ops().items()},
    }
    if time is None:
        details["tolerance"] = tolerance
        details["tolerance_met"] = met
        details["trace_distance_fixed_point_local_me"] = _trace_distance(fixed_point(step, rtol=1e-12), local_ref)
        details["trace_distance_initial_local_me"] = _trace_distance(rho0, local_ref)
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
        extraction=extraction,
        description=desc,
        details=details,
    )


def _bath_kraus(bath: _Bath, t: float) -> list[np.ndarray]:
    """Kraus operators of the exact local bath channel exp(t L_j) on one qubit (generalised amplitude damping)."""
    phi = collision_angle(bath.relaxation_rate, t)
    h = np.kron(SIGMA_MINUS, SIGMA_PLUS)
    h = h + h.conj().T
    u = np.eye(4) + (math.cos(phi) - 1.0) * (h @ h) - 1j * math.sin(phi) * h
    return kraus_from_unitary(u, np.diag([1.0 - bath.p_excited, bath.p_excited]).astype(complex))


@dataclass(frozen=True, eq=False)
class RelaxationMapping:
    """The Aer-relaxation variant: ``mapped.circuit`` holds identity UnitaryGates labelled "bath_a_half", "bath_a",
    "bath_s_half", "bath_s" that ``noise_model`` turns into the exact local bath channels. Simulate it with
    AerSimulator(method="density_matrix", noise_model=noise_model) WITHOUT transpiling (transpilation would
    remove the identity placeholders); it is a simulation of the baths, not a hardware circuit."""

    mapped: MappedCircuit
    noise_model: Any


def thermal_relaxation_circuit(
    params: ThermalGradientParams, *, time: float, steps: int | None = None, dt: float | None = None
) -> RelaxationMapping:
    """Charging from |gg> for ``time`` with the baths as Aer quantum errors instead of collisions (docs/physics.md 0:
    the local thermal Lindbladian is the generalised amplitude damping of ``thermal_relaxation_error``).

    The channels are built from explicit Kraus operators (``kraus_error``), not ``thermal_relaxation_error``, which
    drops Kraus operators of weight < 1e-8 and so turns a cold bath (P_S ~ 4.5e-5) into T = 0. The step is the
    same Strang splitting as ``thermal_gradient_circuit`` (same exact_state for the same steps), on 2 qubits.
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate
    from qiskit_aer.noise import NoiseModel, kraus_error

    base = thermal_gradient_circuit(params, time=time, steps=steps, dt=dt)
    k, step_dt = base.details["steps"], base.details["dt"]
    bath_a, bath_s = _baths(params)
    noise = NoiseModel(basis_gates=["unitary"])
    for label, bath, qubit, t in (
        ("bath_a_half", bath_a, 0, step_dt / 2),
        ("bath_a", bath_a, 0, step_dt),
        ("bath_s_half", bath_s, 1, step_dt / 2),
        ("bath_s", bath_s, 1, step_dt),
    ):
        noise.add_quantum_error(kraus_error(_bath_kraus(bath, t)), label, [qubit])
    qc = QuantumCircuit(2, name="thermal_gradient_relaxation")
    eye = np.eye(2)

    def baths(suffix: str) -> None:
        qc.append(UnitaryGate(eye, label="bath_a" + suffix), [0])
        qc.append(UnitaryGate(eye, label="bath_s" + suffix), [1])

    u_h = sla.expm(-1j * hamiltonian(params) * step_dt)
    baths("_half")
    for j in range(k):
        qc.append(UnitaryGate(u_h, label="exp(-iH dt)"), [1, 0])
        baths("_half" if j == k - 1 else "")
    mapped = MappedCircuit(
        model="thermal-gradient",
        circuit=qc,
        register=(0, 1),
        battery=(0, 1),
        hamiltonian=base.hamiltonian,
        ideal_state=base.ideal_state,
        exact_state=base.exact_state,
        extraction=base.extraction,
        description=base.description.replace("exact thermal collisions", "Aer Kraus bath errors"),
        details={
            **base.details,
            "logical_ops": {str(a): int(b) for a, b in qc.count_ops().items()},
            "bath_realisation": "aer_kraus_errors",
        },
    )
    return RelaxationMapping(mapped, noise)
