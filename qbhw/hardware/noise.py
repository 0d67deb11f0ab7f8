"""Aer noise models built from a DeviceCalibration, for just the physical qubits a circuit uses.

Per qubit q (T1, T2, p_e = ``excited_population`` from the calibration, never recomputed from a frequency):

* relaxation for a time t: Aer's ``thermal_relaxation_error(T1, T2, t, p_e)``, the generalized amplitude damping
  channel with dephasing. It equals exp(L t) of the thermal Lindbladian
  L = gamma (nbar + 1) D[sigma-] + gamma nbar D[sigma+] + gamma_phi D[sigma_z], with 1/T1 = gamma (2 nbar + 1),
  p_e = nbar / (2 nbar + 1), 1/T2 = 1/(2 T1) + 2 gamma_phi (docs/physics.md section 0). Its process fidelity has the
  closed form F_pro = (1 + e^{-t/T1} + 2 e^{-t/T2}) / 4 (independent of p_e).
* a gate of duration t and calibrated average infidelity r_cal on qubits Q (d = 2^|Q|): the product of the
  relaxation channels of its qubits for time t, followed by a depolarizing channel
  rho -> (1 - lambda) rho + lambda Tr[rho] I/d with lambda = d (r_cal - r_relax) / (d F_relax - 1), which makes
  the total average infidelity exactly r_cal (F_pro is affine in lambda: F_pro = (1 - lambda) F_pro,relax +
  lambda/d^2; F_avg = (d F_pro + 1)/(d + 1)). When relaxation alone already exceeds r_cal, lambda = 0 and the
  model error is r_relax > r_cal (reported by ``gate_noise``). The whole gate error is one Kraus channel (Aer
  ``QuantumError(Kraus(...))``, relaxation part from the closed-form superoperator of the same channel as
  ``thermal_relaxation_error``); without relaxation it is Aer's Pauli-mixture ``depolarizing_error``.
* readout: ``ReadoutError([[1 - p(1|0), p(1|0)], [p(0|1), 1 - p(0|1)]])`` (row = prepared, column = read).
* reset: after the ideal reset the qubit is |1> with probability ``reset_error`` (Aer ``reset_error(0, p)``).

Idle time: an Aer NoiseModel attaches noise to instructions, not to time. Circuits that idle insert ``delay``
instructions; ``idle_relaxation_pass`` returns Aer's RelaxationNoisePass configured from the calibration, which
appends after each delay the thermal relaxation of that delay's duration. A fixed error attached to the
``delay`` name in the NoiseModel would ignore the duration, so none is attached. ``relaxation_error`` gives the
channel for an explicit idle time.

Qubit order: errors on a gate act on its qubits in argument order; in a QuantumError's own register, argument 0
is Qiskit qubit 0 (the rightmost tensor factor).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qbhw.errors import CalibrationError
from qbhw.hardware.calibration import DeviceCalibration, GateCalibration, _index, _nonnegative

if TYPE_CHECKING:  # qiskit_aer is imported when a function needs it, so importing qbhw.hardware stays light
    from qiskit_aer.noise import NoiseModel, QuantumError, RelaxationNoisePass


def _qubit(cal: DeviceCalibration, qubit: int) -> Any:
    q = _index("qubit", qubit)
    if q >= cal.num_qubits:
        raise CalibrationError(f"must be a qubit of {cal.name} (0..{cal.num_qubits - 1}) (got {qubit})", field="qubit")
    return cal.qubits[q]


def relaxation_error(cal: DeviceCalibration, qubit: int, duration_ns: float) -> QuantumError:
    """Thermal relaxation of physical ``qubit`` over ``duration_ns``: T1, T2 and p_e from the calibration."""
    from qiskit_aer.noise import thermal_relaxation_error

    q = _qubit(cal, qubit)
    t = _nonnegative("duration_ns", duration_ns)
    return thermal_relaxation_error(q.t1_us * 1e3, q.t2_us * 1e3, t, q.excited_population)


def _relaxation_superop(cal: DeviceCalibration, qubit: int, duration_ns: float) -> np.ndarray:
    """Column-stacked superoperator of ``relaxation_error`` (vec = [rho00, rho10, rho01, rho11]):
    populations relax towards (1 - p_e, p_e) as e^{-t/T1}, coherences decay as e^{-t/T2}."""
    q = _qubit(cal, qubit)
    a = -math.expm1(-duration_ns / (q.t1_us * 1e3))
    e2 = math.exp(-duration_ns / (q.t2_us * 1e3))
    p = q.excited_population
    return np.array(
        [
            [1.0 - p * a, 0.0, 0.0, (1.0 - p) * a],
            [0.0, e2, 0.0, 0.0],
            [0.0, 0.0, e2, 0.0],
            [p * a, 0.0, 0.0, 1.0 - (1.0 - p) * a],
        ]
    )


def relaxation_process_fidelity(cal: DeviceCalibration, qubits: Sequence[int], duration_ns: float) -> float:
    """F_pro of the product of the qubits' relaxation channels over ``duration_ns``: prod (1 + e^{-t/T1} + 2
    e^{-t/T2})/4."""
    t = _nonnegative("duration_ns", duration_ns)
    f = 1.0
    for qubit in qubits:
        q = _qubit(cal, qubit)
        f *= (1.0 + math.exp(-t / (q.t1_us * 1e3)) + 2.0 * math.exp(-t / (q.t2_us * 1e3))) / 4.0
    return f


def _average_from_process(f_pro: float, d: int) -> float:
    return (d * f_pro + 1.0) / (d + 1.0)


@dataclass(frozen=True)
class GateNoise:
    """The noise of one calibrated gate and how it was sized.

    ``relaxation_error`` = 1 - F_avg of the relaxation part, ``depolarizing_param`` = lambda,
    ``model_error`` = 1 - F_avg of the whole channel (= ``calibrated_error`` unless relaxation alone exceeds it),
    ``error`` the Aer QuantumError (None for an ideal gate: zero duration and zero error, or everything disabled).
    """

    name: str
    qubits: tuple[int, ...]
    duration_ns: float
    calibrated_error: float
    relaxation_error: float
    depolarizing_param: float
    model_error: float
    error: QuantumError | None = field(default=None, compare=False, repr=False)

    @property
    def matches_calibration(self) -> bool:
        """True when the model reproduces the calibrated error (relaxation did not exceed it)."""
        return self.relaxation_error <= self.calibrated_error


def gate_noise(cal: DeviceCalibration, gate: GateCalibration, *, thermal: bool = True) -> GateNoise:
    """Relaxation over the gate's duration (if ``thermal``) then depolarizing, sized to the calibrated error."""
    from qiskit_aer.noise import depolarizing_error

    k = len(gate.qubits)
    d = 2**k
    t = gate.duration_ns if thermal else 0.0
    f_pro_relax = relaxation_process_fidelity(cal, gate.qubits, t)
    f_relax = _average_from_process(f_pro_relax, d)
    r_relax = 1.0 - f_relax
    lam = 0.0
    if gate.error > r_relax and d * f_relax - 1.0 > 0.0:
        lam = min(d * (gate.error - r_relax) / (d * f_relax - 1.0), d * d / (d * d - 1.0))
    model_error = 1.0 - _average_from_process((1.0 - lam) * f_pro_relax + lam / (d * d), d)

    err: QuantumError | None = None
    if thermal and t > 0.0:
        from qiskit.quantum_info import Kraus, SuperOp
        from qiskit_aer.noise import QuantumError

        channel = None
        for qubit in gate.qubits:
            # expand: earlier arguments stay on the low (rightmost) positions, so argument j is Qiskit qubit j
            one = SuperOp(_relaxation_superop(cal, qubit, t))
            channel = one if channel is None else channel.expand(one)
        assert channel is not None  # every gate acts on at least one qubit
        if lam > 0.0:
            vec_i = np.eye(d).reshape(-1, order="F")
            dep = (1.0 - lam) * np.eye(d * d) + lam * np.outer(vec_i / d, vec_i)
            channel = SuperOp(dep @ channel.data, input_dims=channel.input_dims(), output_dims=channel.output_dims())
        # one Kraus channel per gate: ~10x faster to build than composing Aer's circuit ensembles, and lighter to
        # ship to the simulator
        err = QuantumError(Kraus(channel))
    elif lam > 0.0:
        err = depolarizing_error(lam, k)
    return GateNoise(
        name=gate.name,
        qubits=gate.qubits,
        duration_ns=gate.duration_ns,
        calibrated_error=gate.error,
        relaxation_error=r_relax,
        depolarizing_param=lam,
        model_error=model_error,
        error=err,
    )


def _physical_qubits(cal: DeviceCalibration, qubits: Sequence[int]) -> tuple[int, ...]:
    out = []
    for k, q in enumerate(qubits):
        i = _index(f"qubits[{k}]", q)
        if i >= cal.num_qubits:
            raise CalibrationError(
                f"must be physical qubits of {cal.name} (0..{cal.num_qubits - 1}) (got {i})", field=f"qubits[{k}]"
            )
        out.append(i)
    if len(set(out)) != len(out):
        raise CalibrationError(f"must be distinct (got {out})", field="qubits")
    return tuple(out)


def noise_model(
    cal: DeviceCalibration,
    qubits: Sequence[int] | None = None,
    *,
    thermal: bool = True,
    gates: bool = True,
    readout: bool = True,
    reset: bool = True,
) -> NoiseModel:
    """Aer NoiseModel on the physical ``qubits`` (all qubits if None) of ``cal``; see the module docstring.

    Only gates whose qubits all lie in ``qubits`` get errors, keyed by physical index (a circuit transpiled onto
    the device keeps physical indices; use ``calibration.restrict`` first to relabel a subset as 0..k-1).
    ``thermal`` includes relaxation during gates, ``gates`` the depolarizing part (with ``thermal=False`` the
    depolarizing part alone carries the calibrated error), ``readout`` and ``reset`` their errors.
    """
    from qiskit_aer.noise import NoiseModel, ReadoutError, reset_error

    used = _physical_qubits(cal, range(cal.num_qubits) if qubits is None else qubits)
    inside = set(used)
    model = NoiseModel(basis_gates=list(cal.basis_gates))
    if gates or thermal:
        # gates with the same qubits, duration and error (id, sx, x on IBM devices) share one channel
        made: dict[tuple[tuple[int, ...], float, float], QuantumError | None] = {}
        for g in cal.gates:
            if not inside.issuperset(g.qubits):
                continue
            key = (g.qubits, g.duration_ns, g.error if gates else 0.0)
            if key not in made:
                made[key] = gate_noise(cal, GateCalibration(g.name, *key), thermal=thermal).error
            if made[key] is not None:
                model.add_quantum_error(made[key], g.name, list(g.qubits))
    for q in used:
        qc = cal.qubits[q]
        if readout and (qc.readout_p1_given_0 > 0.0 or qc.readout_p0_given_1 > 0.0):
            matrix = [
                [1.0 - qc.readout_p1_given_0, qc.readout_p1_given_0],
                [qc.readout_p0_given_1, 1.0 - qc.readout_p0_given_1],
            ]
            model.add_readout_error(ReadoutError(matrix), [q])
        if reset and qc.reset_error > 0.0:
            model.add_quantum_error(reset_error(0.0, qc.reset_error), "reset", [q])
    return model


def idle_relaxation_pass(cal: DeviceCalibration, qubits: Sequence[int] | None = None) -> RelaxationNoisePass:
    """Aer transpiler pass that appends thermal relaxation of the right duration after every ``delay`` on the
    listed physical qubits (all if None); other qubits stay ideal. Run it on a circuit with physical indices
    (``PassManager([pass]).run(circuit)``); delays in ``dt`` units need ``cal.dt_ns``.
    """
    from qiskit.circuit import Delay
    from qiskit_aer.noise import RelaxationNoisePass

    used = set(_physical_qubits(cal, range(cal.num_qubits) if qubits is None else qubits))
    inf = float("inf")
    t1s = [q.t1_us * 1e-6 if q.index in used else inf for q in cal.qubits]
    t2s = [q.t2_us * 1e-6 if q.index in used else inf for q in cal.qubits]
    pops = [q.excited_population for q in cal.qubits]
    dt = None if cal.dt_ns is None else cal.dt_ns * 1e-9
    return RelaxationNoisePass(t1s, t2s, dt=dt, op_types=Delay, excited_state_populations=pops)
