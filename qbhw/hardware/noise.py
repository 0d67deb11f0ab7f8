"""Aer noise models built from a DeviceCalibration, for just the physical qubits a circuit uses; the noiseless
variant of a device.

Per qubit q (T1, T2, p_e = ``excited_population`` from the calibration, never recomputed from a frequency):

* relaxation for a time t: exp(L t) of the thermal Lindbladian of ``qbhw.hardware.units.relaxation_rates``,
  L = Gamma_down D[sigma-] + Gamma_up D[sigma+] + (Gamma_phi/2) D[sigma_z] with Gamma_down = (1 - p_e)/T1,
  Gamma_up = p_e/T1, Gamma_phi = 1/T2 - 1/(2 T1) (docs/physics.md sections 0 and 6.1; the pulse level uses the same
  function, so both agree by construction). This is the generalized amplitude damping channel with dephasing (the
  channel of Aer's ``thermal_relaxation_error(T1, T2, t, p_e)``). Its process fidelity has the closed form
  F_pro = (1 + e^{-t/T1} + 2 e^{-t/T2}) / 4 (independent of p_e).
* a gate of duration t and calibrated average infidelity r_cal on qubits Q (d = 2^|Q|): the product of the
  relaxation channels of its qubits for time t, followed by a depolarizing channel
  rho -> (1 - lambda) rho + lambda Tr[rho] I/d with lambda = d (r_cal - r_relax) / (d F_relax - 1), which makes
  the total average infidelity exactly r_cal (F_pro is affine in lambda: F_pro = (1 - lambda) F_pro,relax +
  lambda/d^2; F_avg = (d F_pro + 1)/(d + 1)). When relaxation alone already exceeds r_cal, lambda = 0 and the
  model error is r_relax > r_cal (reported by ``gate_noise``). The whole gate error is one Kraus channel (Aer
  ``QuantumError(Kraus(...))``, relaxation part from ``relaxation_superop``); without relaxation it is Aer's
  Pauli-mixture ``depolarizing_error``.
* readout: ``ReadoutError([[1 - p(1|0), p(1|0)], [p(0|1), 1 - p(0|1)]])`` (row = prepared, column = read).
* reset: after the ideal reset the qubit is |1> with probability ``reset_error`` (Aer ``reset_error(0, p)``).

Idle time: an Aer NoiseModel attaches noise to instructions, not to time. Circuits that idle insert ``delay``
instructions; ``idle_relaxation_pass`` returns Aer's RelaxationNoisePass configured from the calibration, which
appends after each delay the thermal relaxation of that delay's duration. A fixed error attached to the
``delay`` name in the NoiseModel would ignore the duration, so none is attached (the pass uses Aer's
``thermal_relaxation_error`` with the same T1, T2, p_e: the same channel). ``relaxation_error`` gives the channel for
an explicit idle time.

Caching: ``noise_model`` is built once per calibration content (``calibration_hash``), set of qubits and switches;
each call returns its own copy of the cached model (copying costs 1/40 to 1/200 of building: 0.3 ms against 60 ms
for two FakeTorino qubits, benchmarks/bench_noise_model.py), so a caller may add errors to it without touching
anyone else's.

Qubit order: errors on a gate act on its qubits in argument order; in a QuantumError's own register, argument 0
is Qiskit qubit 0 (the rightmost tensor factor).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from qbhw.errors import CalibrationError
from qbhw.hardware import checks
from qbhw.hardware.calibration import DeviceCalibration, GateCalibration, QubitCalibration
from qbhw.hardware.calibration_io import ContentKey
from qbhw.hardware.units import RelaxationRates, ns_to_s, relaxation_rates, us_to_s

if TYPE_CHECKING:  # qiskit_aer is imported when a function needs it, so importing qbhw.hardware stays light
    from qiskit_aer.noise import NoiseModel, QuantumError, RelaxationNoisePass


def _qubit(cal: DeviceCalibration, qubit: int) -> QubitCalibration:
    q = checks.index("qubit", qubit)
    if q >= cal.num_qubits:
        raise CalibrationError(f"must be a qubit of {cal.name} (0..{cal.num_qubits - 1}) (got {qubit})", field="qubit")
    return cal.qubits[q]


def qubit_relaxation_rates(cal: DeviceCalibration, qubit: int) -> RelaxationRates:
    """``relaxation_rates`` (per ns) of physical ``qubit`` from its T1, T2 and excited population."""
    q = _qubit(cal, qubit)
    return relaxation_rates(q.t1_us, q.t2_us, q.excited_population)


def relaxation_superop(rates: RelaxationRates, duration_ns: float) -> np.ndarray:
    """Column-stacked superoperator (vec = [rho00, rho10, rho01, rho11], index 0 = |g>) of the thermal relaxation
    with ``rates`` over ``duration_ns``: populations relax towards (1 - p_e, p_e) as e^{-Gamma_1 t}, coherences
    decay as e^{-Gamma_2 t}."""
    t = checks.nonnegative("duration_ns", duration_ns)
    a = -math.expm1(-rates.relaxation_per_ns * t)
    e2 = math.exp(-rates.coherence_decay_per_ns * t)
    p = rates.excited_population
    return np.array(
        [
            [1.0 - p * a, 0.0, 0.0, (1.0 - p) * a],
            [0.0, e2, 0.0, 0.0],
            [0.0, 0.0, e2, 0.0],
            [p * a, 0.0, 0.0, 1.0 - (1.0 - p) * a],
        ]
    )


def relaxation_error(cal: DeviceCalibration, qubit: int, duration_ns: float) -> QuantumError:
    """Thermal relaxation of physical ``qubit`` over ``duration_ns`` as an Aer QuantumError (one Kraus channel)."""
    from qiskit.quantum_info import Kraus, SuperOp
    from qiskit_aer.noise import QuantumError

    return QuantumError(Kraus(SuperOp(relaxation_superop(qubit_relaxation_rates(cal, qubit), duration_ns))))


def relaxation_process_fidelity(cal: DeviceCalibration, qubits: Sequence[int], duration_ns: float) -> float:
    """F_pro of the product of the qubits' relaxation channels over ``duration_ns``: prod (1 + e^{-t/T1} + 2
    e^{-t/T2})/4."""
    t = checks.nonnegative("duration_ns", duration_ns)
    f = 1.0
    for qubit in qubits:
        r = qubit_relaxation_rates(cal, qubit)
        f *= (1.0 + math.exp(-r.relaxation_per_ns * t) + 2.0 * math.exp(-r.coherence_decay_per_ns * t)) / 4.0
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
            one = SuperOp(relaxation_superop(qubit_relaxation_rates(cal, qubit), t))
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
        i = checks.index(f"qubits[{k}]", q)
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
    the device keeps physical indices; ``restrict`` relabels a subset as 0..k-1 instead).
    ``thermal`` includes relaxation during gates, ``gates`` the depolarizing part (with ``thermal=False`` the
    depolarizing part alone carries the calibrated error), ``readout`` and ``reset`` their errors.
    Built once per calibration content, set of qubits and switches; each call returns its own copy.
    """
    used = _physical_qubits(cal, range(cal.num_qubits) if qubits is None else qubits)
    cached = _noise_model(ContentKey(cal), frozenset(used), bool(thermal), bool(gates), bool(readout), bool(reset))
    return copy.deepcopy(cached)


#: how many noise models a process keeps (a sweep uses one device and one qubit set)
NOISE_MODEL_CACHE_SIZE = 16


@functools.lru_cache(maxsize=NOISE_MODEL_CACHE_SIZE)
def _noise_model(
    key: ContentKey, used: frozenset[int], thermal: bool, gates: bool, readout: bool, reset: bool
) -> NoiseModel:
    from qiskit_aer.noise import NoiseModel, ReadoutError, reset_error

    cal = key.calibration
    model = NoiseModel(basis_gates=list(cal.basis_gates))
    if gates or thermal:
        # gates with the same qubits, duration and error (id, sx, x on IBM devices) share one channel
        made: dict[tuple[tuple[int, ...], float, float], QuantumError | None] = {}
        for g in cal.gates:
            if not used.issuperset(g.qubits):
                continue
            k = (g.qubits, g.duration_ns, g.error if gates else 0.0)
            if k not in made:
                made[k] = gate_noise(cal, GateCalibration(g.name, *k), thermal=thermal).error
            if made[k] is not None:
                model.add_quantum_error(made[k], g.name, list(g.qubits))
    for q in sorted(used):
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
    t1s = [us_to_s(q.t1_us) if q.index in used else inf for q in cal.qubits]
    t2s = [us_to_s(q.t2_us) if q.index in used else inf for q in cal.qubits]
    pops = [q.excited_population for q in cal.qubits]
    dt = None if cal.dt_ns is None else ns_to_s(cal.dt_ns)
    return RelaxationNoisePass(t1s, t2s, dt=dt, op_types=Delay, excited_state_populations=pops)


NOISELESS_T_US = 1e15  # T1 = T2 so long that relaxation over a circuit is ~1e-12: numerically no noise


def noiseless(cal: DeviceCalibration) -> DeviceCalibration:
    """The same device (qubits, couplings, gate set, durations, timing) with every error removed: T1 = T2 =
    ``NOISELESS_T_US``, no readout, reset or gate error, zero thermal population; resonators without loss
    (kappa = 0) or thermal photons. Its noise model is the identity to ~1e-12, so runs on it check the mapping,
    transpilation and tomography alone."""
    qs = tuple(
        dataclasses.replace(
            q,
            t1_us=NOISELESS_T_US,
            t2_us=NOISELESS_T_US,
            readout_p1_given_0=0.0,
            readout_p0_given_1=0.0,
            reset_error=0.0,
            excited_population=0.0,
        )
        for q in cal.qubits
    )
    return dataclasses.replace(
        cal,
        name=f"{cal.name[:80]}_noiseless",
        qubits=qs,
        gates=tuple(dataclasses.replace(g, error=0.0) for g in cal.gates),
        resonators=tuple(dataclasses.replace(r, kappa_mhz=0.0, thermal_photons=0.0) for r in cal.resonators),
        notes=cal.notes + ("all errors removed (qbhw.hardware.noiseless)",),
    )
