"""From a logical MappedCircuit to an ISA circuit on the device's own physical qubits. Pure: no simulation here
(the check of a compilation against the mapping's exact channel is ``execute.verify``, run by the pipeline).

1. Qubit choice: ``qbhw.hardware.select_qubits`` picks the k best connected physical qubits.
2. Layout and routing inside that set: the transpiler's init, layout (VF2 / Sabre) and routing stages (seeded)
   run on the graph of the chosen qubits alone (indexed 0..k-1 for these stages only), so nothing can be placed or
   routed outside them. (qiskit's Sabre cannot run on a device Target restricted to a few qubits: the 2.x
   disjoint-graph code panics on the isolated qubits.)
3. The routed circuit, moved onto the chosen qubits' real indices (width = the device), is translated,
   optimised and scheduled (ALAP) by the remaining stages against the device's own Target, restricted to the
   chosen qubits, with the device's ``dt`` and timing constraints (``granularity``, ``min_length``,
   ``pulse_alignment``, ``acquire_alignment``). Idle time becomes ``delay`` instructions on the chosen qubits.
   The stages are qiskit's level-2 preset, the same passes ``qiskit.transpile`` would run.
The result is what a real backend would run: ``check_isa`` verifies every instruction against the device Target.
Noise is not attached here: the idle relaxation of the delays is an Aer channel and stays inside
``execute`` (it must never reach QPY or OpenQASM).

Routes: "direct" transpiles the logical circuit as it is; "two-stage" first decomposes its multi-qubit unitaries to
cx/u on the logical circuit (qiskit 1.3.0 transpiles some circuits with mid-circuit resets next to 3-qubit
unitaries wrongly; the pipeline takes this route when the direct one fails its verification).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qbhw.errors import ParameterError, QbhwError
from qbhw.hardware import DeviceCalibration, restrict, select_qubits, transpile_target
from qbhw.mapping import MappedCircuit

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

#: the one transpiler seed of qbhw (recorded in every result)
TRANSPILER_SEED = 7
#: preset pass-manager level: 2 is qiskit's default and keeps the transpile time small next to the simulation
TRANSPILER_OPTIMIZATION_LEVEL = 2
ROUTES = ("direct", "two-stage")
#: timing constraints of a Target, in units of dt (``qbhw.hardware.transpile_target`` takes them from the calibration)
TIMING_CONSTRAINTS = ("granularity", "min_length", "pulse_alignment", "acquire_alignment")
#: instructions that are not operations of the device (directives)
_DIRECTIVES = ("barrier",)


@dataclass(frozen=True, eq=False)
class Compiled:
    """A mapped circuit transpiled onto a device's own qubits.

    circuit           ISA circuit of the device's width (qubit q = physical qubit q), scheduled ALAP (idle time
                      as ``delay``), no measurements and no save instructions; what a backend would run. Its
                      layout is in ``initial_layout`` and ``register`` (``circuit.layout`` is not set)
    device            the device calibration (all of it)
    physical_qubits   the qubits chosen for the circuit (``select_qubits``, in its order); routing stays inside them
    initial_layout    physical qubit of each virtual qubit of the logical circuit at the start (a permutation of
                      ``physical_qubits``)
    register          physical qubits holding the mapped register at the end of the circuit, physics order
    depth, two_qubit_gates, duration_ns   transpiled depth, number of two-qubit gates, scheduled duration
    seed_transpiler   the transpiler seed used
    route             "direct" or "two-stage" (module docstring)
    check             max |entry| difference between the noiseless simulation of ``circuit`` (register, physics
                      order) and the mapping's exact state; None until verified (``execute.verify``)
    """

    circuit: Any
    device: DeviceCalibration
    physical_qubits: tuple[int, ...]
    initial_layout: tuple[int, ...]
    register: tuple[int, ...]
    depth: int
    two_qubit_gates: int
    duration_ns: float
    seed_transpiler: int
    route: str = "direct"
    check: float | None = None

    @property
    def register_physical(self) -> tuple[int, ...]:
        """The register's physical qubits (physics order); the same as ``register``."""
        return self.register


def _target_on(target: Any, qubits: Sequence[int]) -> Any:
    """A copy of ``target`` (same width, dt, timing constraints, qubit properties) with only the instructions that
    act inside ``qubits``: the transpiler can neither place nor route anything outside them."""
    from qiskit.transpiler import Target

    inside = set(qubits)
    out = Target(
        description=target.description,
        num_qubits=target.num_qubits,
        dt=target.dt,
        qubit_properties=target.qubit_properties,
        **{name: int(getattr(target, name)) for name in TIMING_CONSTRAINTS},
    )
    for name in target.operation_names:
        props = {qargs: p for qargs, p in target[name].items() if qargs is None or set(qargs) <= inside}
        out.add_instruction(target.operation_from_name(name), props, name=name)
    return out


def _stages(pm: Any, names: Sequence[str]) -> Any:
    """The stages ``names`` of a preset StagedPassManager (with their pre/post hooks), as a new one."""
    from qiskit.transpiler import StagedPassManager

    hooks = {key: getattr(pm, key) for name in names for key in (f"pre_{name}", name, f"post_{name}")}
    return StagedPassManager(stages=list(names), **{k: v for k, v in hooks.items() if v is not None})


def _route(circuit: Any, device: DeviceCalibration, chosen: tuple[int, ...], seed: int) -> Any:
    """Init, layout and routing stages on the sub-graph of the chosen qubits (module docstring, step 2); the
    routed circuit on qubits 0..k-1 (qubit i = ``chosen[i]``) with its TranspileLayout."""
    from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager

    sub = transpile_target(restrict(device, chosen))
    pm = generate_preset_pass_manager(TRANSPILER_OPTIMIZATION_LEVEL, target=sub, seed_transpiler=seed)
    return _stages(pm, ("init", "layout", "routing")).run(circuit)


def _preset(target: Any, seed: int) -> Any:
    """qiskit's level-2 preset pass manager for ``target`` with ALAP scheduling under the Target's timing
    constraints. qiskit 1.3.0 ignores a Target's own constraints unless they are also passed explicitly (a
    deprecated argument there, removed in 2.0), so on 1.x they are."""
    import warnings

    import qiskit
    from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager

    options: dict[str, Any] = {"target": target, "seed_transpiler": seed, "scheduling_method": "alap"}
    constraints = target.timing_constraints()
    aligned = (
        constraints.granularity,
        constraints.min_length,
        constraints.pulse_alignment,
        constraints.acquire_alignment,
    )
    if int(qiskit.__version__.split(".")[0]) < 2 and aligned != (1, 1, 1, 1):
        options["timing_constraints"] = constraints
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*timing_constraints.*")
        return generate_preset_pass_manager(TRANSPILER_OPTIMIZATION_LEVEL, **options)


def _lift(circuit: Any, chosen: Sequence[int], width: int) -> Any:
    """``circuit`` (qubit i = physical ``chosen[i]``) on ``width`` qubits with qubit q = physical q."""
    from qiskit import QuantumCircuit

    out = QuantumCircuit(width, *circuit.cregs, name=circuit.name, global_phase=circuit.global_phase)
    out.metadata = circuit.metadata
    for inst in circuit.data:
        out.append(inst.operation, [out.qubits[chosen[circuit.find_bit(b).index]] for b in inst.qubits], inst.clbits)
    return out


def _duration_ns(circuit: Any, target: Any) -> float:
    """Length of a scheduled circuit: each instruction starts when all its qubits are free (ASAP over the
    instruction list, which after ALAP scheduling holds the idle delays explicitly); durations from the Target
    (delays in their own unit), instructions without a calibrated duration count 0. Rounded to 1e-6 ns: the sum is
    taken in seconds, whose rounding (~1e-16 relative per term) would otherwise show in the last digits."""
    from qiskit.transpiler import TranspilerError

    from qbhw.hardware import units

    durations = target.durations()
    free: dict[int, float] = {}
    for inst in circuit.data:
        qs = [circuit.find_bit(b).index for b in inst.qubits]
        if not qs or inst.operation.name in _DIRECTIVES:
            continue
        try:
            seconds = float(durations.get(inst.operation, qs, unit="s"))
        except TranspilerError:
            seconds = 0.0
        start = max(free.get(q, 0.0) for q in qs)
        for q in qs:
            free[q] = start + seconds
    return round(units.s_to_ns(max(free.values(), default=0.0)), 6)


def isa_violations(circuit: Any, target: Any, *, start: int = 0) -> list[str]:
    """Instructions of ``circuit`` (qubit q = physical qubit q) from index ``start`` on that ``target`` does not
    support, as text."""
    bad = []
    for inst in circuit.data[start:]:
        name = inst.operation.name
        if name in _DIRECTIVES:
            continue
        qargs = tuple(circuit.find_bit(b).index for b in inst.qubits)
        if len(qargs) != inst.operation.num_qubits or not target.instruction_supported(name, qargs):
            bad.append(f"{name} on {list(qargs)}")
    return bad


def check_isa(circuit: Any, device: DeviceCalibration, *, target: Any = None, start: int = 0) -> None:
    """Raise QbhwError unless every instruction of ``circuit`` from index ``start`` on is an instruction of
    ``device`` on those physical qubits (barriers aside). ``target``: the device's Target, if already built."""
    if circuit.num_qubits != device.num_qubits:
        raise QbhwError(
            f"circuit {circuit.name!r} has {circuit.num_qubits} qubits, not the {device.num_qubits} of {device.name}"
        )
    bad = isa_violations(circuit, transpile_target(device) if target is None else target, start=start)
    if bad:
        raise QbhwError(f"circuit {circuit.name!r} is not an ISA circuit of {device.name}: {', '.join(bad[:5])}")


def compile_for_device(
    mapped: MappedCircuit,
    device: DeviceCalibration,
    *,
    route: str = "direct",
    seed_transpiler: int = TRANSPILER_SEED,
    qubits: Sequence[int] | None = None,
) -> Compiled:
    """Transpile ``mapped`` onto ``device``'s own qubits (module docstring): choose qubits and layout, transpile
    (optimization level 2, seeded) against the device Target restricted to them, schedule ALAP. Not verified
    (``Compiled.check`` is None). ``qubits``: the connected physical qubits to use instead of ``select_qubits``'
    choice (e.g. another of ``qbhw.hardware.ranked_qubit_sets``). Raises ParameterError("device") when the device
    is too small, and qiskit's TranspilerError when this route cannot transpile the circuit."""
    from qiskit import transpile

    if route not in ROUTES:
        raise ParameterError("route", "one of " + ", ".join(ROUTES), route)
    k = mapped.num_qubits
    if k > device.num_qubits:
        raise ParameterError(
            "device", f"a device with at least {k} qubits for this {mapped.model} circuit", device.name
        )
    logical = mapped.circuit
    if route == "two-stage":
        logical = transpile(logical, basis_gates=["cx", "u", "reset"], optimization_level=0)
    chosen = select_qubits(device, k) if qubits is None else tuple(int(q) for q in qubits)
    if len(chosen) != k or len(set(chosen)) != k:
        raise QbhwError(f"the {mapped.model} circuit needs {k} distinct qubits (got {list(chosen)})")
    routed = _route(logical, device, chosen, seed_transpiler)
    full = transpile_target(device)
    target = _target_on(full, chosen)
    pm = _preset(target, seed_transpiler)
    isa = _stages(pm, ("translation", "optimization", "scheduling")).run(_lift(routed, chosen, device.num_qubits))
    check_isa(isa, device, target=full)
    initial = tuple(chosen[i] for i in routed.layout.initial_index_layout(filter_ancillas=True))
    final = routed.layout.final_index_layout(filter_ancillas=True)
    register = tuple(chosen[final[v]] for v in mapped.register)
    two_q = sum(1 for inst in isa.data if inst.operation.num_qubits == 2 and inst.operation.name not in _DIRECTIVES)
    return Compiled(
        circuit=isa,
        device=device,
        physical_qubits=chosen,
        initial_layout=initial,
        register=register,
        depth=int(isa.depth()),
        two_qubit_gates=int(two_q),
        duration_ns=float(_duration_ns(isa, target)),
        seed_transpiler=int(seed_transpiler),
        route=route,
    )


def measurement_circuits(
    compiled: Compiled, settings: Sequence[str], *, name: str | None = None
) -> list[QuantumCircuit]:
    """The tomography circuits a backend would run: ``compiled.circuit`` with the basis change of each setting
    (in the device's basis gates) and the measurement of the register appended (``qbhw.tomography``), each checked
    to be ISA for the device. Clbit k holds register position k."""
    from qbhw import tomography

    circuit = compiled.circuit if name is None else compiled.circuit.copy(name=name)
    out = tomography.measurement_circuits(circuit, compiled.register, settings, basis_gates=compiled.device.basis_gates)
    target = transpile_target(compiled.device)
    prefix = len(compiled.circuit.data)  # verified by compile_for_device; only the appended part is new
    for qc in out:
        check_isa(qc, compiled.device, target=target, start=prefix)
    return out
