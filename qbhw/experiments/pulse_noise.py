"""Pulse-informed circuit noise: the micromaser's encoded collision circuit with each collision replaced by its
pulse-level channel on a cavity-QED device (docs/physics.md sections 4.4 and 6.2; issue 13 item 5).

``qbhw run micromaser --device synthetic_cqed --noise pulse`` runs the ENCODED mapping (``qbhw.mapping``: the
cavity held in m register qubits, binary code, photon number n = register basis index n, register[0] the most
significant bit) on the device's transmons, instead of the native run. Its stages:

* map, compile, verify  as for any device (the circuit column is the encoded circuit's exact channel);
* predict   noisy = the register after K Kraus instructions, one per collision, each the pulse-level collision
            map of ``qbhw.pulse`` (``build_collision`` + ``collision_channel``, ``--imperfections``, default
            all: the same map ``qbhw.pulse.run_micromaser`` repeats) embedded in the 2^m register
            levels, simulated by Aer (density matrix, no further noise: the collision channel already holds the
            device's physics);
* measure   register tomography sampled from that state with the device's readout on the register qubits
            (``--measurement state``, as today);
* estimate  as for any run.

The map. ``collision_channel`` gives the collision as a D^2 x D^2 superoperator S on row-major vec (the tracked
frame's rotation included). Its Choi matrix C[(i, a), (j, b)] = E(|i><j|)[a, b] = S[a D + b, i D + j] is
Hermitian positive semi-definite up to the engine's error; with C = sum_k l_k v_k v_k^dag, the Kraus operators are
K_k[a, i] = sqrt(l_k) v_k[i D + a] for the eigenvalues above ``KRAUS_CUT`` times the largest (the dropped weight
is recorded). sum_k K_k^dag K_k = 1 + E with |E| ~ the engine's trace error; the operators are multiplied by
(1 + E)^(-1/2) so that the instruction is exactly trace preserving (Qiskit refuses a non-CPTP ``Kraus``); both
corrections are recorded and are ~1e-12 with the exact engine. On the register the D-level operators act on
levels 0 ... D-1 and one more Kraus operator, the projector onto levels D ... 2^m - 1, acts as the identity there
(those levels are never populated from the vacuum: the embedded channel keeps the support in 0 ... D-1).

Cutoff. The pulse-level map is computed at D = ``params.cutoff`` when it is given (the cutoff the encoding was sized
for), else at D = 2^m, every register level (imperfect trapping reaches past the ideal model's N_tr, and the
register has the room). ``qbhw.pulse``'s cutoff check applies: a state whose top level D-1 fills beyond
``cutoff_tolerance`` raises CutoffError (``--cutoff``).

Qubit order. Kraus matrices here are in physics order over the register (position 0 = most significant bit);
Qiskit reads the first qarg of an instruction as its least significant bit, so the instruction's qargs are the
register qubits reversed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qbhw.errors import CalibrationError, ParameterError
from qbhw.experiments import execute
from qbhw.experiments.compile import Compiled
from qbhw.experiments.pipeline import Experiment, Prediction, Progress, figures, run_experiment
from qbhw.experiments.records import PointRecord, freeze
from qbhw.mapping import MappedCircuit
from qbhw.models.micromaser import MicromaserParams

#: eigenvalues of the collision's Choi matrix below KRAUS_CUT times the largest one are dropped (rounding of a
#: PSD matrix of entries ~1: its null eigenvalues come out at ~1e-15 of the largest; physical Kraus weights of a
#: collision on the synthetic device are >= 1e-12)
KRAUS_CUT = 1e-14
#: the engine name of a pulse-informed prediction (``Prediction.engine``)
ENGINE = "aer+pulse"


@dataclass(frozen=True, eq=False)
class PulseNoiseCircuit:
    """The encoded micromaser with every collision replaced by its pulse-level channel (module docstring).

    circuit          logical circuit on the register's m qubits (qubit k = register position k): one ``kraus``
                     instruction per collision, nothing else
    kraus            the register Kraus operators of one collision (2^m x 2^m, physics order), the last one the
                     projector onto the unused levels when cutoff < 2^m
    collisions       K
    cutoff           D of the pulse-level map
    register_levels  2^m
    details          JSON-able: engine, imperfections, transmon levels, calibrated tau, collision period, the
                     engine's trace error, the dropped Choi weight and the trace-preservation correction
    """

    circuit: Any
    kraus: tuple[np.ndarray, ...]
    collisions: int
    cutoff: int
    register_levels: int
    details: dict[str, Any]

    def exact_state(self) -> np.ndarray:
        """The register after the K collisions from the vacuum, by the numpy channel (no simulator)."""
        rho = np.zeros((self.register_levels,) * 2, dtype=complex)
        rho[0, 0] = 1.0
        for _ in range(self.collisions):
            rho = sum((k @ rho @ k.conj().T for k in self.kraus), np.zeros_like(rho))
        return 0.5 * (rho + rho.conj().T)


def choi_kraus(superoperator: np.ndarray, dim: int) -> tuple[list[np.ndarray], float, float]:
    """(Kraus operators, dropped weight, trace correction) of a D^2 x D^2 map on row-major vec (module docstring).

    dropped weight: the sum of |eigenvalue| of the Choi matrix left out (negative ones included), an upper bound
    on the trace norm of the Choi change; trace correction: ||sum K^dag K - 1||_2 before the normalisation."""
    s = np.asarray(superoperator, dtype=complex)
    if s.shape != (dim * dim, dim * dim):
        raise ValueError(f"a superoperator on {dim} levels must be {dim * dim}x{dim * dim}, not {s.shape}")
    choi = s.reshape(dim, dim, dim, dim).transpose(2, 0, 3, 1).reshape(dim * dim, dim * dim)
    w, v = np.linalg.eigh(0.5 * (choi + choi.conj().T))
    keep = w > KRAUS_CUT * float(w.max())
    dropped = float(np.abs(w[~keep]).sum())
    kraus = [math.sqrt(float(lam)) * v[:, k].reshape(dim, dim).T for k, lam in enumerate(w) if keep[k]]
    total = sum((k.conj().T @ k for k in kraus), np.zeros((dim, dim), dtype=complex))
    total = 0.5 * (total + total.conj().T)
    correction = float(np.linalg.norm(total - np.eye(dim), 2))
    ev, evec = np.linalg.eigh(total)
    inv_sqrt = (evec / np.sqrt(ev)) @ evec.conj().T
    return [k @ inv_sqrt for k in kraus], dropped, correction


def embed_kraus(kraus: list[np.ndarray], levels: int) -> list[np.ndarray]:
    """D-level Kraus operators on levels 0 ... D-1 of a ``levels``-level register, and the projector onto the
    levels D ... levels-1 (identity there) when D < levels."""
    d = kraus[0].shape[0]
    if d > levels:
        raise ValueError(f"a {d}-level map does not fit a register of {levels} levels")
    out = []
    for k in kraus:
        big = np.zeros((levels, levels), dtype=complex)
        big[:d, :d] = k
        out.append(big)
    if d < levels:
        rest = np.zeros((levels, levels), dtype=complex)
        rest[d:, d:] = np.eye(levels - d)
        out.append(rest)
    return out


def _host(device: Any) -> Any:
    """The CavityQEDDevice of ``device`` (``qbhw.pulse.from_calibration``); ParameterError naming --noise when the
    device cannot host the collision."""
    from qbhw import pulse

    try:
        return pulse.from_calibration(device)
    except CalibrationError as e:
        raise ParameterError(
            "noise",
            f"'device' on {getattr(device, 'name', 'this device')}: --noise pulse needs a device with a storage "
            f"resonator and a flux-tunable transmon that reaches it ({e})",
            "pulse",
        ) from None


def check_pulse_params(params: MicromaserParams) -> None:
    """The model parameters a pulse-level collision can have (ParameterErrors naming the field)."""
    if params.coupling != "jaynes-cummings":
        raise ParameterError(
            "coupling", "'jaynes-cummings' with --noise pulse (a transmon and a resonator)", params.coupling
        )
    if params.cavity_loss != 0.0:
        raise ParameterError(
            "cavity_loss", "0 with --noise pulse: the device's kappa_mhz sets the cavity loss", params.cavity_loss
        )
    if params.thermal_photons != 0.0:
        raise ParameterError(
            "thermal_photons",
            "0 with --noise pulse: the device's resonator sets its thermal photons",
            params.thermal_photons,
        )


def pulse_noise_circuit(
    mapped: MappedCircuit,
    params: MicromaserParams,
    device: Any,
    *,
    engine: str = "auto",
    levels: int | None = None,
    imperfections: Any = "all",
    options: Any = None,
) -> PulseNoiseCircuit:
    """The encoded micromaser ``mapped`` (``qbhw.mapping.micromaser_circuit(params)``) with every collision the
    pulse-level channel on ``device`` (a calibration or a ``qbhw.pulse.CavityQEDDevice``); module docstring.

    ``engine``, ``levels``, ``imperfections`` and ``options`` as for ``qbhw.pulse.run_micromaser`` (default: the
    device's imperfections, 3 transmon levels). Raises ParameterError naming the field for what the pulse level
    cannot host. The map has no cutoff check of its own: ``run_pulse_noise`` applies qbhw.pulse's (CutoffError).
    """
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Kraus

    from qbhw import pulse

    if mapped.model != "micromaser":
        raise ValueError(f"pulse-informed noise is for the micromaser's circuit, not {mapped.model!r}")
    check_pulse_params(params)
    pulse.check_engine(engine)
    atoms = [s for s in mapped.steps if s.label.startswith("atom")]
    if len(atoms) != len(mapped.steps) or len(atoms) != int(params.collisions):
        raise ValueError("the mapped circuit must be micromaser_circuit(params) without cavity loss")
    m = len(mapped.register)
    register_levels = 2**m
    d = register_levels if params.cutoff is None else int(params.cutoff)
    dev = device if isinstance(device, pulse.CavityQEDDevice) else _host(device)
    imp = pulse.parse_imperfections(imperfections)
    collision = pulse.build_collision(
        dataclasses.replace(params, cutoff=d), dev, levels=levels, cutoff=d, imperfections=imp, options=options
    )
    opts = pulse.PulseOptions() if options is None else options
    channel = pulse.collision_channel(collision, engine=engine, frame=opts.frame, rtol=opts.rtol)
    kraus, dropped, correction = choi_kraus(np.asarray(channel.matrix), d)
    register_kraus = tuple(embed_kraus(kraus, register_levels))
    instruction = Kraus(list(register_kraus)).to_instruction()
    qc = QuantumCircuit(m, name="micromaser_pulse_noise")
    for _ in atoms:
        qc.append(instruction, list(range(m))[::-1])  # first qarg = least significant bit (module docstring)
    details = {
        "noise": "pulse",
        "device": dev.name,
        "engine": channel.engine,
        "imperfections": str(imp),
        "levels": collision.levels,
        "pulse_cutoff": d,
        "register_levels": register_levels,
        "kraus_operators": len(register_kraus),
        "calibrated_tau_ns": collision.tau_ns,
        "collision_ns": collision.period_ns,
        "phase_tracking": collision.tracking,
        "trace_error": channel.trace_error,
        "choi_dropped_weight": dropped,
        "trace_correction": correction,
    }
    return PulseNoiseCircuit(qc, register_kraus, int(params.collisions), d, register_levels, details)


def _top_level_check(pn: PulseNoiseCircuit, params: MicromaserParams) -> None:
    """qbhw.pulse's cutoff honesty on the numpy channel: the top level D-1 after every collision."""
    from qbhw.errors import CutoffError

    rho = np.zeros((pn.register_levels,) * 2, dtype=complex)
    rho[0, 0] = 1.0
    top, at = 0.0, 0
    for k in range(1, pn.collisions + 1):
        rho = sum((op @ rho @ op.conj().T for op in pn.kraus), np.zeros_like(rho))
        p = float(rho[pn.cutoff - 1, pn.cutoff - 1].real)
        if p > top:
            top, at = p, k
    if top > params.cutoff_tolerance:
        raise CutoffError(pn.cutoff, float(params.cutoff_tolerance), top, at)


def predict_pulse_noise(mapped: MappedCircuit, pn: PulseNoiseCircuit, compiled: Compiled) -> Prediction:
    """Stage "predict" with pulse-informed collisions: ``pn.circuit`` on the compiled register's physical qubits,
    Aer density matrix without further noise; the register state in physics order."""
    from qiskit import QuantumCircuit

    width = compiled.device.num_qubits
    qc = QuantumCircuit(width, name=pn.circuit.name)
    qc.compose(pn.circuit, qubits=list(compiled.register), inplace=True)
    sim = execute.simulator(compiled.device, compiled.register, noisy=False)
    rho = sim.register_state(qc, compiled.register)
    return Prediction(
        ideal=figures(mapped, mapped.ideal_state),
        exact=figures(mapped, mapped.exact_state),
        noisy=figures(mapped, rho),
        noisy_state=rho,
        engine=ENGINE,
    )


def imperfections(exp: Experiment) -> str:
    """The pulse-level imperfections of ``exp`` (``--imperfections``; "all" when not given)."""
    value = getattr(exp.options, "imperfections", None)
    return "all" if value is None else str(value)


def uses_pulse_noise(exp: Experiment) -> bool:
    """Whether ``exp`` asks for pulse-informed collisions (the micromaser with ``--noise pulse``)."""
    return exp.model == "micromaser" and getattr(exp.options, "noise", None) == "pulse"


def check_pulse_noise(exp: Experiment) -> None:
    """Refuse, before any work, a pulse-noise experiment the device or the run cannot do (one ParameterError
    naming the flag): a device without a storage resonator and a flux-tunable transmon (--noise), model
    parameters the pulse level sets itself, ``--measurement circuits`` (the measurement circuits would run the
    gate-level collisions, not the pulse-level ones), ``--layouts`` above 1 (the pulse-informed prediction does not
    depend on the qubit choice: its spread would be zero by construction)."""
    _host(exp.device)
    check_pulse_params(exp.params)
    if exp.measurement != "state":
        raise ParameterError(
            "measurement",
            "'state' with --noise pulse (the settings are sampled from the pulse-informed state)",
            exp.measurement,
        )
    if exp.layouts > 1:
        raise ParameterError(
            "layouts", "1 with --noise pulse (the pulse-informed prediction does not depend on the qubits)", exp.layouts
        )


def run_pulse_noise(exp: Experiment, progress: Progress | None = None) -> PointRecord:
    """The PointRecord of ``exp`` with pulse-informed collisions (module docstring): the pipeline with the
    predict stage replaced; the record's ``compilation.details["pulse_noise"]`` holds ``PulseNoiseCircuit.details``
    and ``compilation.details["noise"]`` is "pulse"."""
    check_pulse_noise(exp)
    built: dict[str, PulseNoiseCircuit] = {}

    def predictor(mapped: MappedCircuit, compiled: Compiled) -> Prediction:
        if "pn" not in built:
            built["pn"] = pulse_noise_circuit(mapped, exp.params, exp.device, imperfections=imperfections(exp))
            _top_level_check(built["pn"], exp.params)
        return predict_pulse_noise(mapped, built["pn"], compiled)

    record = run_experiment(exp, predictor=predictor, progress=progress).record()
    details = dict(record.compilation.details)
    details["noise"] = "pulse"
    details["pulse_noise"] = built["pn"].details
    compilation = dataclasses.replace(record.compilation, details=freeze(details))
    return dataclasses.replace(record, compilation=compilation)
