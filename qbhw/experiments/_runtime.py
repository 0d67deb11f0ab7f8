"""Submitting bundle circuits through qiskit-ibm-runtime and retrieving their counts: the only module that imports
qiskit_ibm_runtime for submission (inside the functions; the module itself imports without it, so ``jobs.json``
can be read in an environment without the runtime).

Behaviour verified on qiskit-ibm-runtime 0.51.0 (samplomatic 0.21.0, qiskit 2.6.2, qiskit-aer 0.18.2), by running it
and reading its source:

* Primitive. ``qiskit_ibm_runtime.executor_sampler.Sampler`` is the recommended sampler (``SamplerV2`` is deprecated
  since 0.50, and the top-level ``Sampler`` name still means ``SamplerV2`` in 0.51): it prepares a ``QuantumProgram``
  client-side (twirling by samplomatic, dynamical decoupling by Qiskit's padding pass) and submits it to the
  ``Executor``. ``sampler_kind()`` says which one the installed runtime offers; ``SamplerV2`` is used only without it.
* Shots. All pubs of one executor job must share one shot count ("All pubs must have the same number of shots"):
  one job per distinct shot count.
* Local mode. A fake backend as ``mode`` runs the job on Aer with the fake's noise model, in this process; the job
  cannot be retrieved by id later, so its counts are stored in the jobs record at once. The executor's local mode
  seeds every pub with the SAME ``seed_simulator``: two identical circuits in one job return identical counts, and
  different circuits share their random stream. A seeded local submission therefore runs one job per circuit, each
  with its own seed spawned from ``numpy.random.SeedSequence(seed)``; an unseeded one runs one job per shot count.
  The mode handed to the runtime is the simulator its local mode builds for a fake, ``AerSimulator.from_backend``
  with ``NoiseModel.from_backend(fake)``, with that noise model RESTRICTED to the qubits the job's circuits act on:
  Aer copies and serialises the whole noise model on every circuit it runs (on the 133-qubit FakeTorino 6.8 s of
  CPU per circuit, 8 of every 10 s), and the fake's noise is local (errors of gates on their own qubits, readout per
  qubit, relaxation of delays per qubit), so the errors of instructions on other qubits can never act. The same
  seed gives identical counts with the restricted and the whole noise model (tested), at 0.15 s per circuit. The
  noise model is built once per submission (3 s on FakeTorino).
* Dynamical decoupling (``dd`` = "XX", "XpXm" or "XY4"; ``dynamical_decoupling`` options). Refused by both samplers
  for circuits with control flow ("not compatible with dynamic circuits"); mid-circuit measurements and resets
  are accepted, and the executor applies DD client-side, so it is simulated in local mode too. ``SamplerV2`` in
  local mode ignores it ("have no effect in local testing mode"): refused here.
* Pauli twirling (``twirl``; ``twirling.enable_gates``; measurement twirling stays off: samplomatic 0.21 cannot
  propagate it through a mid-circuit measurement followed by reset). Fails on control flow ("'if_else' is not
  supported") and on some circuits with explicit delays ("unsupported rz propagation"; on 150 random 3-qubit
  circuits on FakeTorino: 19 of 126 with delays failed, none of 24 without, and every failure passed once its
  delays were removed). The executor's own client-side preparation is therefore run on every circuit before
  anything is submitted, and a refusal is one line. In local mode a twirled circuit with nothing to twirl (no
  2-qubit gate, so a parameter-free template) comes back wrong: Aer's sampler simulates only the first of its
  (N, 0)-shaped randomizations and returns all-zero bits for the others (P(1) = 0.008 instead of 0.25 for one
  ry(1.0)); such circuits run untwirled locally, which is all their twirl would do. Twirling executes
  num_randomizations x shots_per_randomization shots, rounded up from the request; with 32 randomizations of
  shots/32 each the executed shots equal the requested ones, so twirled shots must be a multiple of 32.
* Results. ``PrimitiveResult[i].data.<register>`` is a ``BitArray``; ``json.dumps(result, cls=RuntimeEncoder)``
  fails on executor results (its metadata holds a ``Metadata`` object), so each register's bits are stored as
  per-shot bitstrings in the ``qbhw-counts/1`` format of ``qbhw.experiments.bundle``.
* Credentials: only ``QiskitRuntimeService()``'s own lookup, i.e. ``QISKIT_IBM_TOKEN`` (with ``QISKIT_IBM_INSTANCE``,
  ``QISKIT_IBM_CHANNEL``, ``QISKIT_IBM_URL``) or the account saved by ``QiskitRuntimeService.save_account`` in
  ``~/.qiskit/qiskit-ibm.json``. Nothing here reads, stores or prints a token; local mode never opens a service.
  Jobs carry the caller's tags (put the bundle's content hash there) in ``environment.job_tags``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import json
import numbers
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qbhw._files import write_atomic
from qbhw.errors import MissingDependencyError, ParameterError, QbhwError
from qbhw.experiments.bundle import (
    COUNTS_FILE,
    JOBS_FILE,
    MAX_SHOTS,
    SEAL_FILE,
    BundleCounts,
    CircuitCounts,
    CollectionSeal,
    RegisterCounts,
    RegisterSpec,
    load_counts,
    read_bundle,
    read_manifest,
    verify_bundle,
    write_collection,
)

PRIMITIVES = ("executor", "sampler_v2")
DD_SEQUENCES = ("XX", "XpXm", "XY4")
#: randomizations per circuit when twirling; shots must be a multiple of it so that the executed shots are exact
TWIRL_RANDOMIZATIONS = 32
JOBS_FORMAT = "qbhw-jobs/1"

NO_CREDENTIALS = (
    "no IBM Quantum credentials found: save an account once with "
    "QiskitRuntimeService.save_account(token=..., instance=...) (kept by qiskit-ibm-runtime in "
    "~/.qiskit/qiskit-ibm.json), or set QISKIT_IBM_TOKEN and QISKIT_IBM_INSTANCE (optionally QISKIT_IBM_CHANNEL) "
    "in the environment; qbhw never stores credentials"
)

_INSTALL = "pip install 'qbhw[ibm]' (or pip install qiskit-ibm-runtime)"


# ------------------------------------------------------------------------------------------------ helpers


def _redact(text: str) -> str:
    token = os.environ.get("QISKIT_IBM_TOKEN")
    if token and len(token) >= 4:
        text = text.replace(token, "***")
    return text


def _one_line(exc: BaseException) -> str:
    """``Type: first line of the message``, without a token from the environment, at most 300 characters."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    out = _redact(f"{exc.__class__.__name__}: {first}" if first else exc.__class__.__name__)
    return out if len(out) <= 300 else out[:297] + "..."


def _runtime_module() -> Any:
    try:
        import qiskit_ibm_runtime
    except ImportError:
        raise MissingDependencyError(f"submitting to a backend needs qiskit-ibm-runtime: {_INSTALL}") from None
    return qiskit_ibm_runtime


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _walk(qc: Any, qubit_index: Mapping[Any, int]) -> Iterable[tuple[Any, tuple[int, ...]]]:
    """(operation, physical qubits) of every instruction, control-flow blocks included (their own instructions
    follow the control-flow operation itself)."""
    for inst in qc.data:
        qargs = tuple(qubit_index[q] for q in inst.qubits)
        yield inst.operation, qargs
        for block in getattr(inst.operation, "blocks", ()):
            inner = {b: qubit_index[q] for b, q in zip(block.qubits, inst.qubits, strict=True)}
            yield from _walk(block, inner)


def _ops(qc: Any) -> Iterable[tuple[Any, tuple[int, ...]]]:
    return _walk(qc, {q: i for i, q in enumerate(qc.qubits)})


def _has_control_flow(qc: Any) -> bool:
    return any(getattr(op, "blocks", None) for op, _ in _ops(qc))


def _has_delay(qc: Any) -> bool:
    return any(op.name == "delay" for op, _ in _ops(qc))


# ------------------------------------------------------------------------------------------------ primitive


def sampler_kind() -> str:
    """The sampler the installed qiskit-ibm-runtime recommends: "executor"
    (``qiskit_ibm_runtime.executor_sampler.Sampler``, runtime >= 0.50) or "sampler_v2" (``SamplerV2``)."""
    _runtime_module()
    try:
        from qiskit_ibm_runtime.executor_sampler import Sampler  # noqa: F401
    except ImportError:
        return "sampler_v2"
    return "executor"


def _runtime_version() -> str:
    return str(getattr(_runtime_module(), "__version__", "?"))


# ------------------------------------------------------------------------------------------------ backend checks


def check_backend(target_or_backend: Any, circuits: Sequence[Any]) -> None:
    """Refuse, before anything is submitted, circuits that use an instruction the backend does not offer on those
    physical qubits (e.g. ``reset`` on a Nighthawk-class device without it, an ``if_else`` on a backend without
    control flow), that are wider than the backend, or that give ``rzz`` an angle outside IBM's [0, pi/2].

    ``target_or_backend``: a qiskit ``Target`` or a BackendV2 (its ``target``). Circuit qubit i is physical qubit i
    (ISA circuits). Barriers are directives and always allowed.
    """
    target = getattr(target_or_backend, "target", target_or_backend)
    name = getattr(target_or_backend, "name", None) or getattr(target, "description", None) or "the backend"
    offered = set(target.operation_names)
    for qc in circuits:
        if qc.num_qubits > target.num_qubits:
            raise QbhwError(f"circuit {qc.name!r} has {qc.num_qubits} qubits; backend {name} has {target.num_qubits}")
        for op, qargs in _ops(qc):
            if op.name in ("barrier", "store"):
                continue
            if op.name not in offered:
                hint = (
                    "; collision circuits need a mid-circuit reset: choose a device that offers it"
                    if op.name == "reset"
                    else ""
                )
                raise QbhwError(
                    f"backend {name} has no {op.name!r} instruction (circuit {qc.name!r} uses it on qubit(s) "
                    f"{list(qargs)}){hint}"
                )
            if getattr(op, "blocks", None):
                continue  # control flow is offered globally; its blocks are checked instruction by instruction
            if not target.instruction_supported(op.name, qargs):
                raise QbhwError(
                    f"backend {name} does not offer {op.name!r} on qubit(s) {list(qargs)} (circuit {qc.name!r}); "
                    "transpile the circuits for this backend"
                )
            if op.name == "rzz" and op.params and isinstance(op.params[0], numbers.Real):
                angle = float(op.params[0])
                if not 0.0 <= angle <= np.pi / 2 + 1e-10:
                    raise QbhwError(
                        f"circuit {qc.name!r}: rzz angle {angle:.6g} on qubits {list(qargs)} is outside [0, pi/2], "
                        "the only range IBM backends run"
                    )


def _resolve_backend(backend: Any, *, local: bool, service: Any) -> tuple[Any, Any]:
    """(backend object, service or None). A name resolves to the matching fake backend when ``local``, else
    through the runtime service."""
    rt = _runtime_module()
    ibm_backend = getattr(rt, "IBMBackend", None)
    if not isinstance(backend, str):
        if not hasattr(backend, "target"):
            raise ParameterError("backend", "a backend name or a BackendV2", type(backend).__name__)
        is_ibm = ibm_backend is not None and isinstance(backend, ibm_backend)
        if local and is_ibm:
            raise ParameterError(
                "backend", "a fake backend when local (a real IBM backend runs remotely)", backend.name
            )
        if not local and not is_ibm:
            raise ParameterError(
                "backend", "an IBM Quantum backend (a fake or simulator backend needs local)", backend.name
            )
        return backend, None
    if local:
        from qiskit_ibm_runtime import fake_provider

        from qbhw.hardware import fake_backend_class_name

        return getattr(fake_provider, fake_backend_class_name(backend))(), None
    if backend.lower().startswith("fake"):
        raise ParameterError("backend", "a real device name without local (fake backends run only locally)", backend)
    svc = service if service is not None else _service()
    try:
        return svc.backend(backend), svc
    except Exception as exc:
        raise QbhwError(f"IBM Quantum offers no backend {backend!r} to this account ({_one_line(exc)})") from None


def _service() -> Any:
    """``QiskitRuntimeService()`` from the saved account or the environment; one line when there is none."""
    rt = _runtime_module()
    from qiskit_ibm_runtime.accounts import AccountNotFoundError

    try:
        return rt.QiskitRuntimeService()
    except AccountNotFoundError:
        raise QbhwError(NO_CREDENTIALS) from None
    except Exception as exc:
        raise QbhwError(
            f"could not open IBM Quantum with the saved account or the QISKIT_IBM_* environment ({_one_line(exc)})"
        ) from None


def service_backend(name: str, *, service: Any = None) -> Any:
    """The IBM Quantum backend ``name`` through ``service`` (default ``QiskitRuntimeService()`` from the saved account
    or the QISKIT_IBM_* environment); one line without credentials or when the account has no such backend."""
    _runtime_module()
    svc = service if service is not None else _service()
    try:
        return svc.backend(name)
    except Exception as exc:
        raise QbhwError(f"IBM Quantum offers no backend {name!r} to this account ({_one_line(exc)})") from None


# ------------------------------------------------------------------------------------------------ local simulators


def _restricted_noise(full: Any, qubits: set[int]) -> Any:
    """A copy of the Aer ``NoiseModel`` ``full`` holding only the errors of instructions on ``qubits`` (local errors
    whose qubits all lie in the set, readout errors of those qubits), its all-qubit errors and its custom noise passes
    (the relaxation of delays). Reads the noise model's private tables (qiskit-aer has no public accessor); None
    when their layout is not the expected one, and the caller keeps the whole model."""
    from qiskit_aer.noise import NoiseModel

    try:
        local = full._local_quantum_errors
        readout = full._local_readout_errors
        defaults = full._default_quantum_errors
        default_readout = full._default_readout_error
        passes = full._custom_noise_passes
    except AttributeError:  # pragma: no cover - another qiskit-aer layout
        return None
    out = NoiseModel(basis_gates=full.basis_gates)
    for name, error in defaults.items():
        out.add_all_qubit_quantum_error(error, name, warnings=False)
    for name, by_qubits in local.items():
        for qargs, error in by_qubits.items():
            if set(qargs) <= qubits:
                out.add_quantum_error(error, name, qargs, warnings=False)
    if default_readout is not None:
        out.add_all_qubit_readout_error(default_readout, warnings=False)
    for qargs, error in readout.items():
        if set(qargs) <= qubits:
            out.add_readout_error(error, qargs, warnings=False)
    out._custom_noise_passes = list(passes)
    return out


class _LocalSimulators:
    """The simulators of a local submission (module docstring, "Local mode"): per job, ``AerSimulator.from_backend``
    of the fake backend (or a copy of the given AerSimulator) with the backend's noise model restricted to the qubits
    the job's circuits act on. The whole noise model is built once, here."""

    def __init__(self, backend: Any) -> None:
        from qiskit_aer import AerSimulator
        from qiskit_aer.noise import NoiseModel

        self.backend = backend
        if isinstance(backend, AerSimulator):
            self.full = getattr(backend.options, "noise_model", None)
        else:
            self.full = NoiseModel.from_backend(backend)
        if self.full is not None and self.full.is_ideal():
            self.full = None

    def mode(self, circuits: Sequence[Any]) -> Any:
        from qiskit_aer import AerSimulator

        used = {q for qc in circuits for op, qargs in _ops(qc) if op.name != "barrier" for q in qargs}
        noise = None if self.full is None else _restricted_noise(self.full, used)
        if noise is None:
            noise = self.full
        try:
            return AerSimulator.from_backend(self.backend, noise_model=noise)
        except Exception:  # a simulator without a target or coupling map: run on it as it is
            return self.backend


# ------------------------------------------------------------------------------------------------ records


@dataclass(frozen=True)
class JobCircuit:
    """A circuit inside a job: its name and classical registers (to check the result's completeness)."""

    name: str
    registers: tuple[RegisterSpec, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "registers": [r.to_dict() for r in self.registers]}

    @classmethod
    def from_dict(cls, obj: Any, where: str) -> JobCircuit:
        d = _keys(obj, ("name", "registers"), where)
        regs = d["registers"]
        if not isinstance(regs, list) or not regs:
            raise QbhwError(f"{where}.registers must be a non-empty list")
        return cls(
            _text(d["name"], f"{where}.name"),
            tuple(RegisterSpec.from_dict(r, f"{where}.registers[{i}]") for i, r in enumerate(regs)),
        )


@dataclass(frozen=True, eq=False)
class JobEntry:
    """One submitted job: its id, shots per circuit, circuits in pub order, the simulator seed (local runs), whether
    its gates were twirled, and, for local jobs, the counts stored at submission (local jobs cannot be retrieved by
    id later)."""

    job_id: str
    shots: int
    circuits: tuple[JobCircuit, ...]
    seed_simulator: int | None = None
    twirled: bool = False
    results: Mapping[str, CircuitCounts] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "shots": self.shots,
            "circuits": [c.to_dict() for c in self.circuits],
            "seed_simulator": self.seed_simulator,
            "twirled": self.twirled,
            "results": None if self.results is None else {n: cc.to_dict() for n, cc in self.results.items()},
        }

    @classmethod
    def from_dict(cls, obj: Any, where: str) -> JobEntry:
        d = _keys(obj, ("job_id", "shots", "circuits", "seed_simulator", "twirled", "results"), where)
        if not isinstance(d["twirled"], bool):
            raise QbhwError(f"{where}.twirled must be true or false (got {d['twirled']!r})")
        circuits = d["circuits"]
        if not isinstance(circuits, list) or not circuits:
            raise QbhwError(f"{where}.circuits must be a non-empty list")
        seed = d["seed_simulator"]
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise QbhwError(f"{where}.seed_simulator must be null or an integer >= 0 (got {seed!r})")
        results = d["results"]
        if results is not None:
            if not isinstance(results, Mapping):
                raise QbhwError(f"{where}.results must be null or a JSON object")
            results = {n: CircuitCounts.from_dict(cc, f"{where}.results[{n!r}]") for n, cc in results.items()}
        shots = d["shots"]
        if isinstance(shots, bool) or not isinstance(shots, int) or not 1 <= shots <= MAX_SHOTS:
            raise QbhwError(f"{where}.shots must be an integer in [1, {MAX_SHOTS}] (got {shots!r})")
        return cls(
            job_id=_text(d["job_id"], f"{where}.job_id"),
            shots=shots,
            circuits=tuple(JobCircuit.from_dict(c, f"{where}.circuits[{i}]") for i, c in enumerate(circuits)),
            seed_simulator=seed,
            twirled=d["twirled"],
            results=results,
        )


@dataclass(frozen=True, eq=False)
class JobsRecord:
    """What a submission did (``jobs.json``): backend, local or remote, submission time (UTC, ISO 8601), the
    primitive ("executor" or "sampler_v2") and qiskit-ibm-runtime version, the options set on it, the job tags, and
    the jobs. For a bundle's submission also: ``bundle``, the manifest's content hash; ``device``, the backend the
    bundle was prepared for; ``other_backend``, True when it ran on another backend on purpose
    (``--allow-other-backend``). Holds no credentials."""

    backend: str
    local: bool
    primitive: str
    runtime_version: str
    submitted_utc: str
    options: Mapping[str, Any]
    tags: tuple[str, ...]
    jobs: tuple[JobEntry, ...] = field(default=())
    bundle: str | None = None
    device: str | None = None
    other_backend: bool = False

    @property
    def job_ids(self) -> tuple[str, ...]:
        return tuple(j.job_id for j in self.jobs)

    @property
    def circuit_names(self) -> tuple[str, ...]:
        return tuple(c.name for j in self.jobs for c in j.circuits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": JOBS_FORMAT,
            "backend": self.backend,
            "local": self.local,
            "primitive": self.primitive,
            "runtime_version": self.runtime_version,
            "submitted_utc": self.submitted_utc,
            "options": dict(self.options),
            "tags": list(self.tags),
            "bundle": self.bundle,
            "device": self.device,
            "other_backend": self.other_backend,
            "jobs": [j.to_dict() for j in self.jobs],
        }

    @classmethod
    def from_dict(cls, obj: Any) -> JobsRecord:
        keys = ("format", "backend", "local", "primitive", "runtime_version", "submitted_utc", "options", "tags")
        d = _keys(obj, keys + ("jobs",), "jobs record", optional=("bundle", "device", "other_backend"))
        if d["format"] != JOBS_FORMAT:
            raise QbhwError(f"jobs record format must be {JOBS_FORMAT!r} (got {d['format']!r})")
        if not isinstance(d["local"], bool):
            raise QbhwError(f"jobs record local must be true or false (got {d['local']!r})")
        if d["primitive"] not in PRIMITIVES:
            raise QbhwError(f"jobs record primitive must be one of {', '.join(PRIMITIVES)} (got {d['primitive']!r})")
        if not isinstance(d["options"], Mapping):
            raise QbhwError("jobs record options must be a JSON object")
        tags = d["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise QbhwError("jobs record tags must be a list of strings")
        jobs = d["jobs"]
        if not isinstance(jobs, list) or not jobs:
            raise QbhwError("jobs record jobs must be a non-empty list")
        other = d.get("other_backend", False)
        if not isinstance(other, bool):
            raise QbhwError(f"jobs record other_backend must be true or false (got {other!r})")
        optional = {k: d.get(k) for k in ("bundle", "device")}
        for key, value in optional.items():
            if value is not None:
                _text(value, f"jobs record {key}")
        return cls(
            backend=_text(d["backend"], "jobs record backend"),
            local=d["local"],
            primitive=d["primitive"],
            runtime_version=_text(d["runtime_version"], "jobs record runtime_version"),
            submitted_utc=_text(d["submitted_utc"], "jobs record submitted_utc"),
            options=dict(d["options"]),
            tags=tuple(tags),
            jobs=tuple(JobEntry.from_dict(j, f"jobs[{i}]") for i, j in enumerate(jobs)),
            bundle=optional["bundle"],
            device=optional["device"],
            other_backend=other,
        )


def _keys(obj: Any, keys: Sequence[str], where: str, optional: Sequence[str] = ()) -> dict[str, Any]:
    if not isinstance(obj, Mapping):
        raise QbhwError(f"{where} must be a JSON object (got {type(obj).__name__})")
    unknown = sorted(set(obj) - set(keys) - set(optional))
    missing = [k for k in keys if k not in obj]
    if unknown:
        raise QbhwError(f"{where} has unknown key(s) {', '.join(map(repr, unknown))}")
    if missing:
        raise QbhwError(f"{where} lacks key(s) {', '.join(map(repr, missing))}")
    return dict(obj)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise QbhwError(f"{where} must be a non-empty string (got {value!r})")
    return value


def write_jobs(directory: str | os.PathLike[str], record: JobsRecord) -> Path:
    """Write ``record`` as ``directory/jobs.json`` (atomically); refused when the bundle already records jobs
    (submitting again would run its circuits twice)."""
    path = Path(directory) / JOBS_FILE
    if path.exists():
        raise QbhwError(f"{path} already records jobs; the bundle was submitted (collect it, or prepare a new bundle)")
    text = json.dumps(record.to_dict(), separators=(",", ":"), allow_nan=False) + "\n"
    try:
        return write_atomic(path, text)
    except OSError as exc:
        raise QbhwError(
            f"{path}: cannot write the jobs record ({exc.__class__.__name__}: {exc.strerror or exc})"
        ) from None


def read_jobs(directory: str | os.PathLike[str]) -> JobsRecord:
    """The jobs record of the bundle in ``directory``; one line when it is missing or malformed."""
    path = Path(directory) / JOBS_FILE
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QbhwError(f"{path}: no such file; the bundle has not been submitted") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise QbhwError(f"{path}: cannot read the jobs record ({_one_line(exc)})") from None
    try:
        return JobsRecord.from_dict(obj)
    except QbhwError as exc:
        raise QbhwError(f"{path}: {exc}") from None


# ------------------------------------------------------------------------------------------------ submission


def _check_submission(circuits: Sequence[Any]) -> list[Any]:
    from qiskit import QuantumCircuit

    if isinstance(circuits, str) or not isinstance(circuits, Sequence) or not circuits:
        raise QbhwError(f"circuits must be a non-empty sequence of QuantumCircuit (got {type(circuits).__name__})")
    seen: set[str] = set()
    for qc in circuits:
        if not isinstance(qc, QuantumCircuit):
            raise QbhwError(f"circuits must be QuantumCircuit objects (got {type(qc).__name__})")
        if qc.name in seen:
            raise QbhwError(f"circuit names must be unique (got {qc.name!r} twice)")
        seen.add(qc.name)
        if qc.parameters:
            raise QbhwError(f"circuit {qc.name!r} has unbound parameters; bind them before submitting")
        if not qc.cregs:
            raise QbhwError(f"circuit {qc.name!r} has no classical register: it would return no counts")
    return list(circuits)


def _check_shots(shots: int | Sequence[int], n: int) -> list[int]:
    if isinstance(shots, numbers.Integral) and not isinstance(shots, bool):
        values: list[Any] = [shots] * n
    elif isinstance(shots, Sequence) and not isinstance(shots, str) and len(shots) == n:
        values = list(shots)
    else:
        raise ParameterError("shots", f"an integer or one integer per circuit ({n})", shots)
    for s in values:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or not 1 <= int(s) <= MAX_SHOTS:
            raise ParameterError("shots", f"an integer in [1, {MAX_SHOTS}]", s)
    return [int(s) for s in values]


def _options(*, shots: int, dd: str | None, twirl: bool, tags: Sequence[str], seed: int | None) -> dict[str, Any]:
    """The options one job sets on the primitive (the runtime's option names)."""
    out: dict[str, Any] = {
        "default_shots": shots,
        "dynamical_decoupling": {"enable": dd is not None, **({"sequence_type": dd} if dd else {})},
        "twirling": {"enable_gates": bool(twirl), "enable_measure": False},
        "environment": {"job_tags": list(tags)},
        "simulator": {"seed_simulator": seed},
    }
    if twirl:
        out["twirling"]["num_randomizations"] = TWIRL_RANDOMIZATIONS
        out["twirling"]["shots_per_randomization"] = shots // TWIRL_RANDOMIZATIONS
    return out


def _apply_options(sampler: Any, options: Mapping[str, Any]) -> None:
    """Set ``options`` on the sampler; options left at their defaults are not touched (SamplerV2's local mode warns
    about every option that was set, even to its default)."""
    o = sampler.options
    o.default_shots = options["default_shots"]
    if options["dynamical_decoupling"]["enable"]:
        o.dynamical_decoupling.enable = True
        o.dynamical_decoupling.sequence_type = options["dynamical_decoupling"]["sequence_type"]
    if options["twirling"]["enable_gates"]:
        for key, value in options["twirling"].items():
            setattr(o.twirling, key, value)
    if options["environment"]["job_tags"]:
        o.environment.job_tags = list(options["environment"]["job_tags"])
    if options["simulator"]["seed_simulator"] is not None:
        o.simulator.seed_simulator = options["simulator"]["seed_simulator"]


def _make_sampler(kind: str, backend: Any, options: Mapping[str, Any]) -> Any:
    if kind == "executor":
        from qiskit_ibm_runtime.executor_sampler import Sampler

        sampler = Sampler(mode=backend)
    else:
        from qiskit_ibm_runtime import SamplerV2

        with warnings.catch_warnings():  # chosen on purpose: the runtime offers no executor sampler, or a test asks
            warnings.filterwarnings("ignore", message="The SamplerV2 class is deprecated", category=DeprecationWarning)
            sampler = SamplerV2(mode=backend)
    _apply_options(sampler, options)
    return sampler


def _prevalidate(kind: str, backend: Any, qc: Any, options: Mapping[str, Any], local: bool) -> int | None:
    """Run the executor sampler's own client-side preparation (twirling, DD) of ``qc`` before any job is submitted,
    so that a refusal is one line naming the circuit instead of a half-submitted bundle. Returns the number of
    parameters of the twirled template circuit (None when nothing was prepared)."""
    if kind != "executor" or not (options["twirling"]["enable_gates"] or options["dynamical_decoupling"]["enable"]):
        return None
    try:
        from qiskit_ibm_runtime.executor_sampler.prepare import prepare
        from qiskit_ibm_runtime.options_models.sampler import SamplerOptions
    except ImportError:  # another runtime layout: the run itself still refuses client-side
        return None
    sampler_options = SamplerOptions()
    for key, value in options["twirling"].items():
        setattr(sampler_options.twirling, key, value)
    sampler_options.dynamical_decoupling.enable = options["dynamical_decoupling"]["enable"]
    if "sequence_type" in options["dynamical_decoupling"]:
        sampler_options.dynamical_decoupling.sequence_type = options["dynamical_decoupling"]["sequence_type"]
    try:
        program, _ = prepare([qc], sampler_options, options["default_shots"], add_tags=local, backend=backend)
    except Exception as exc:
        what = "twirling" if options["twirling"]["enable_gates"] else "dynamical decoupling"
        known = (
            " (samplomatic cannot twirl some circuits with explicit delays; submit without twirl)"
            if options["twirling"]["enable_gates"] and _has_delay(qc)
            else ""
        )
        raise QbhwError(f"{what} cannot be applied to circuit {qc.name!r}: {_one_line(exc)}{known}") from None
    if not options["twirling"]["enable_gates"]:
        return None
    return len(program.items[0].circuit.parameters)


def _submission_copy(qc: Any) -> Any:
    """The circuit as submitted: metadata cleared (the runtime returns circuit metadata through JSON-like passthrough
    data, where numpy values and tuples have broken jobs before; counts are matched by position)."""
    out = qc.copy()
    out.metadata = {}
    return out


def _groups(keys: Sequence[Any], per_circuit: bool) -> list[list[int]]:
    """Circuit indices per job: one job per circuit, or one per distinct key (shots, twirled) in order of first
    use."""
    if per_circuit:
        return [[i] for i in range(len(keys))]
    order: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        order.setdefault(key, []).append(i)
    return list(order.values())


def _check_execution(
    circuits: Sequence[Any], shot_list: Sequence[int], *, dd: str | None, twirl: bool, kind: str, local: bool
) -> None:
    """The refusals that need no backend: DD and twirling of dynamic circuits, twirled shots that are not a multiple
    of the randomizations, options SamplerV2 would ignore locally or cannot check."""
    if dd is not None and dd not in DD_SEQUENCES:
        raise ParameterError("dd", "one of " + ", ".join(DD_SEQUENCES), dd)
    if not isinstance(twirl, bool):
        raise ParameterError("twirl", "true or false", twirl)
    if twirl:
        bad = [s for s in shot_list if s % TWIRL_RANDOMIZATIONS]
        if bad:
            raise ParameterError(
                "shots",
                f"a multiple of {TWIRL_RANDOMIZATIONS} when twirling ({TWIRL_RANDOMIZATIONS} randomizations of "
                "shots/32 each, so that the executed shots equal the requested ones)",
                bad[0],
            )
    if kind not in PRIMITIVES:
        raise QbhwError(f"primitive must be one of {', '.join(PRIMITIVES)} (got {kind!r})")
    for qc in circuits:
        if dd is not None and _has_control_flow(qc):
            raise QbhwError(
                f"dynamical decoupling cannot run circuit {qc.name!r}: it has control flow (a dynamic circuit), "
                "which the runtime's samplers refuse with DD; submit without dd"
            )
        if twirl and _has_control_flow(qc):
            raise QbhwError(f"twirling cannot run circuit {qc.name!r}: it has control flow; submit without twirl")
        if twirl and kind == "sampler_v2" and _has_delay(qc):
            raise QbhwError(
                f"twirling with SamplerV2 cannot be checked before submission and fails on circuits with explicit "
                f"delays such as {qc.name!r}; submit without twirl"
            )
    if kind == "sampler_v2" and local and (dd is not None or twirl):
        raise QbhwError("SamplerV2's local mode ignores dynamical decoupling and twirling; submit without them")


def check_execution(
    circuits: Sequence[Any],
    *,
    backend: Any,
    shots: int | Sequence[int],
    dd: str | None = None,
    twirl: bool = False,
    primitive: str | None = None,
) -> str:
    """Refuse, with one line and before anything is submitted, execution options the circuits cannot take:
    everything ``submit`` refuses before its first job (unknown DD sequence, DD or twirling of dynamic circuits,
    twirled shots that are not a multiple of 32, and what the executor sampler's own client-side preparation of
    each circuit refuses, e.g. samplomatic failing on some circuits with explicit delays). ``backend``: a BackendV2
    whose target the preparation uses (a fake, an IBM backend or ``qbhw.hardware.device_backend``). Returns the
    primitive that was checked ("executor" or "sampler_v2"). Needs qiskit-ibm-runtime."""
    circuits = _check_submission(circuits)
    shot_list = _check_shots(shots, len(circuits))
    kind = primitive if primitive is not None else sampler_kind()
    _check_execution(circuits, shot_list, dd=dd, twirl=twirl, kind=kind, local=False)
    for i, qc in enumerate(circuits):
        opts = _options(shots=shot_list[i], dd=dd, twirl=twirl, tags=(), seed=None)
        _prevalidate(kind, backend, qc, opts, False)
    return kind


def submit(
    circuits: Sequence[Any],
    *,
    backend: Any,
    shots: int | Sequence[int],
    local: bool,
    dd: str | None = None,
    twirl: bool = False,
    tags: Sequence[str] = (),
    seed: int | None = None,
    service: Any = None,
    primitive: str | None = None,
) -> JobsRecord:
    """Submit ISA ``circuits`` (unique names) with ``shots`` each (one number or one per circuit) through the sampler
    the installed runtime recommends (``primitive`` overrides it: "executor" or "sampler_v2").

    ``backend``: a device name (remote: through ``service`` or ``QiskitRuntimeService()`` from the saved account or
    the QISKIT_IBM_* environment) or, with ``local=True``, a fake backend name (``fake_torino``, ``ibm_torino``,
    ``FakeTorino``) run in the runtime's local mode (module docstring); or a backend object. Local counts are stored
    in the returned record at once. ``dd``: a dynamical-decoupling sequence ("XX", "XpXm", "XY4"); ``twirl``: Pauli
    twirling of 2-qubit gates (shots a multiple of 32); both off by default. ``tags``: job tags (put the bundle's
    hash here). ``seed``: simulator seed of a local run (seeds per job spawned from it; with the executor one job per
    circuit, since it seeds every pub of a job alike); ignored remotely. Twirling in local mode leaves circuits with
    nothing to twirl (no 2-qubit gate) untwirled (``JobEntry.twirled``): the runtime's local executor returns wrong
    counts for them otherwise.
    Everything that can be refused is refused before the first job is submitted, with one line.
    """
    circuits = _check_submission(circuits)
    shot_list = _check_shots(shots, len(circuits))
    if not isinstance(local, bool):
        raise ParameterError("local", "true or false", local)
    if isinstance(tags, str) or not all(isinstance(t, str) and t for t in tags):
        raise QbhwError(f"tags must be a sequence of non-empty strings (got {tags!r})")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ParameterError("seed", "an integer >= 0", seed)
    kind = primitive if primitive is not None else sampler_kind()
    _check_execution(circuits, shot_list, dd=dd, twirl=twirl, kind=kind, local=local)

    backend_obj, _ = _resolve_backend(backend, local=local, service=service)
    check_backend(backend_obj, circuits)
    local_seed = int(seed) if local and seed is not None else None
    # twirled per circuit: in the executor's local mode a circuit with nothing to twirl (a parameter-free template,
    # e.g. no 2-qubit gate) comes back wrong when twirled -- Aer's sampler simulates only the first randomization
    # of a parameter-free circuit bound to an (N, 0) parameter array and returns zeros for the others -- so such a
    # circuit runs untwirled there, which is what its twirl amounts to anyway
    twirled = [twirl] * len(circuits)
    for i, qc in enumerate(circuits):
        opts = _options(shots=shot_list[i], dd=dd, twirl=twirl, tags=tags, seed=None)
        template_parameters = _prevalidate(kind, backend_obj, qc, opts, local)
        if local and template_parameters == 0:
            twirled[i] = False
    groups = _groups(
        list(zip(shot_list, twirled, strict=True)), per_circuit=local_seed is not None and kind == "executor"
    )
    seeds: list[int | None] = [None] * len(groups)
    if local_seed is not None:  # independent streams per job (the executor seeds every pub of a job alike)
        children = np.random.SeedSequence(local_seed).spawn(len(groups))
        seeds = [int(c.generate_state(1, np.uint32)[0]) for c in children]
    plans = []
    for group, group_seed in zip(groups, seeds, strict=True):
        opts = _options(shots=shot_list[group[0]], dd=dd, twirl=twirled[group[0]], tags=tags, seed=group_seed)
        plans.append((group, opts))

    simulators = _LocalSimulators(backend_obj) if local else None
    submitted_utc = _utc_now()
    jobs: list[JobEntry] = []
    for k, (group, opts) in enumerate(plans):
        pubs = [_submission_copy(circuits[i]) for i in group]
        try:
            mode = backend_obj if simulators is None else simulators.mode(pubs)
            sampler = _make_sampler(kind, mode, opts)
            handle = sampler.run(pubs, shots=opts["default_shots"])
            job_id = str(handle.job_id())
        except QbhwError:
            raise
        except Exception as exc:
            done = [j.job_id for j in jobs]
            already = f"; already submitted: {', '.join(done)}" if done and not local else ""
            raise QbhwError(f"job {k + 1} of {len(plans)} was not submitted: {_one_line(exc)}{already}") from None
        entry = JobEntry(
            job_id=job_id,
            shots=opts["default_shots"],
            circuits=tuple(JobCircuit(circuits[i].name, _register_specs(circuits[i])) for i in group),
            seed_simulator=opts["simulator"]["seed_simulator"],
            twirled=opts["twirling"]["enable_gates"],
        )
        jobs.append(entry)
        if local:  # local jobs run in this process: collect each before the next one starts
            jobs[-1] = dataclasses.replace(entry, results=_result_counts(handle, entry, str(backend_obj.name)))
    summary: dict[str, Any] = {
        "dynamical_decoupling": {"enable": dd is not None, "sequence_type": dd},
        "twirling": {
            "enable_gates": twirl,
            "enable_measure": False,
            "num_randomizations": TWIRL_RANDOMIZATIONS if twirl else None,
        },
        "job_tags": list(tags),
        "seed": local_seed,
    }
    return JobsRecord(
        backend=str(backend_obj.name),
        local=local,
        primitive=kind,
        runtime_version=_runtime_version(),
        submitted_utc=submitted_utc,
        options=summary,
        tags=tuple(tags),
        jobs=tuple(jobs),
    )


def _register_specs(qc: Any) -> tuple[RegisterSpec, ...]:
    return tuple(RegisterSpec(r.name, r.size) for r in qc.cregs)


# ------------------------------------------------------------------------------------------------ results


def _status_name(status: Any) -> str:
    return str(getattr(status, "name", status)).upper()


def _counts_from_result(result: Any, job: JobEntry, where: str) -> dict[str, CircuitCounts]:
    """Per-circuit counts (per-shot bitstrings kept) from a PrimitiveResult of ``job``; a missing circuit or
    register, or a shot number other than the job's: one line ("partial result")."""
    try:
        pubs = list(result)
    except TypeError:
        raise QbhwError(f"{where} returned no primitive result ({type(result).__name__})") from None
    if len(pubs) != len(job.circuits):
        raise QbhwError(f"{where} returned a partial result: {len(pubs)} of {len(job.circuits)} circuits")
    out: dict[str, CircuitCounts] = {}
    for pub, circuit in zip(pubs, job.circuits, strict=True):
        data = pub.data
        registers: dict[str, RegisterCounts] = {}
        for spec in circuit.registers:
            bits = getattr(data, spec.name, None)
            if bits is None:
                raise QbhwError(
                    f"{where} returned a partial result: circuit {circuit.name!r} lacks register {spec.name!r}"
                )
            shape = tuple(getattr(bits, "shape", ()))
            if shape != () or bits.num_bits != spec.num_bits or bits.num_shots != job.shots:
                raise QbhwError(
                    f"{where} returned a partial result: circuit {circuit.name!r} register {spec.name!r} has "
                    f"{bits.num_shots} shots of {bits.num_bits} bits (shape {shape}); expected {job.shots} shots of "
                    f"{spec.num_bits} bits"
                )
            registers[spec.name] = RegisterCounts.from_memory(list(bits.get_bitstrings()), spec.num_bits)
        out[circuit.name] = CircuitCounts(job.shots, registers)
    return out


def _result_counts(handle: Any, job: JobEntry, backend_name: str) -> dict[str, CircuitCounts]:
    where = f"job {job.job_id} on {backend_name}"
    try:
        result = handle.result()
    except Exception as exc:
        raise QbhwError(f"{where} failed: {_one_line(exc)}") from None
    return _counts_from_result(result, job, where)


def retrieve(jobs_record: JobsRecord, *, service: Any = None) -> dict[str, CircuitCounts]:
    """Counts of every circuit of ``jobs_record``, in submission order: the stored counts of local jobs, or the
    results of remote jobs through ``service`` (default ``QiskitRuntimeService()``). A job that failed, was
    cancelled, is not finished yet, or returned a partial result: one line naming the job."""
    if not isinstance(jobs_record, JobsRecord):
        raise QbhwError(f"jobs_record must be a JobsRecord (got {type(jobs_record).__name__})")
    out: dict[str, CircuitCounts] = {}
    if jobs_record.local:
        for job in jobs_record.jobs:
            if job.results is None:
                raise QbhwError(
                    f"local job {job.job_id} has no stored counts, and local jobs cannot be retrieved by id; "
                    "submit the bundle again"
                )
            missing = [c.name for c in job.circuits if c.name not in job.results]
            if missing:
                raise QbhwError(f"local job {job.job_id} stored no counts for circuit(s) {', '.join(missing)}")
            out.update({c.name: job.results[c.name] for c in job.circuits})
        return out
    svc = service if service is not None else _service()
    for job in jobs_record.jobs:
        where = f"job {job.job_id} on {jobs_record.backend}"
        try:
            handle = svc.job(job.job_id)
            status = _status_name(handle.status())
        except QbhwError:
            raise
        except Exception as exc:
            raise QbhwError(f"{where} could not be retrieved: {_one_line(exc)}") from None
        if status in ("ERROR", "FAILED"):
            reason = ""
            with contextlib.suppress(Exception):  # without a message, the status alone is the message
                reason = (str(handle.error_message() or "").strip().splitlines() or [""])[0]
            raise QbhwError(f"{where} failed" + (f": {_redact(reason)[:300]}" if reason else ""))
        if status == "CANCELLED":
            raise QbhwError(f"{where} was cancelled; its circuits have no counts (prepare and submit a new bundle)")
        if status != "DONE":
            raise QbhwError(f"{where} is {status}; collect again when it has finished")
        out.update(_result_counts(handle, job, jobs_record.backend))
    return out


# ------------------------------------------------------------------------------------------------ bundles

#: the file that marks a submission in progress (created exclusively; removed when the submission ends)
SUBMIT_LOCK = ".submitting"


def _family(name: str) -> str:
    """``torino`` for ``fake_torino``, ``FakeTorino``, ``FakeTorinoV2``, ``ibm_torino``: the device a fake backend
    is a snapshot of."""
    import re

    key = re.sub(r"[^a-z0-9]", "", name.lower())
    for prefix in ("fake", "ibm"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key[:-2] if key.endswith("v2") else key


def _manifest_value(manifest: Any, section: str, key: str) -> Any:
    value = manifest.sections.get(section)
    if not isinstance(value, Mapping) or key not in value:
        raise QbhwError(f"manifest section {section!r} lacks {key!r}: the bundle was not written by qbhw prepare")
    return value[key]


def submit_bundle(
    directory: str | os.PathLike[str],
    *,
    backend: str | None = None,
    local: bool = False,
    allow_other_backend: bool = False,
    service: Any = None,
    primitive: str | None = None,
) -> JobsRecord:
    """Submit the circuits of the bundle in ``directory`` (every file verified first) with the manifest's shots,
    execution options (DD, twirling) and job tag, and write ``jobs.json``. ``backend``: default the one the bundle
    was prepared for; another one is refused unless ``allow_other_backend`` (recorded). ``local``: run on the fake
    backend of that device in the runtime's local mode (seeded by the manifest's sampling seed; counts stored at
    once). Refused before anything is submitted: a bundle with jobs already recorded, a submission in progress, a
    fake backend without ``local``, missing credentials (remote), anything ``submit`` refuses."""
    root = Path(directory)
    read_manifest(root)
    if (root / JOBS_FILE).exists():
        raise QbhwError(
            f"{root / JOBS_FILE} already records jobs: the bundle was submitted (collect it, or prepare a new bundle)"
        )
    if (root / SUBMIT_LOCK).exists():
        raise QbhwError(
            f"{root / SUBMIT_LOCK} exists: a submission of this bundle is running or was interrupted; check for its "
            "jobs (job tag in the manifest's content hash) before removing it"
        )
    manifest, circuits = read_bundle(root)
    expected = str(_manifest_value(manifest, "device", "backend"))
    execution = manifest.sections.get("execution") or {}
    name = expected if backend is None else backend
    if not local and name.lower().startswith("fake"):
        raise ParameterError(
            "backend",
            f"a real IBM Quantum backend without --local (the fake backend {name} runs only locally: pass --local)",
            name,
        )
    same = _family(name) == _family(expected) if local else name.lower() == expected.lower()
    if not same and not allow_other_backend:
        raise ParameterError(
            "backend",
            f"the bundle's own device {expected} (its predictions are for that calibration; --allow-other-backend "
            "runs it elsewhere anyway, recorded)",
            name,
        )
    seed = int(_manifest_value(manifest, "seeds", "sampling_seed")) if local else None
    try:
        fd = os.open(root / SUBMIT_LOCK, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise QbhwError(f"{root / SUBMIT_LOCK} exists: a submission of this bundle is running") from None
    except OSError as exc:
        raise QbhwError(f"{root}: cannot write into the bundle ({exc.__class__.__name__}: {exc.strerror})") from None
    os.close(fd)
    try:
        try:
            record = submit(
                list(circuits),
                backend=name,
                shots=[spec.shots for spec in manifest.circuits],
                local=local,
                dd=execution.get("dynamical_decoupling"),
                twirl=bool(execution.get("twirling", False)),
                tags=(manifest.job_tag(),),
                seed=seed,
                service=service,
                primitive=primitive,
            )
        except ParameterError as exc:
            if exc.parameter == "backend":
                raise
            raise QbhwError(
                f"the bundle's {exc.parameter} must be {exc.allowed} (got {exc.got!r}); prepare the bundle again"
            ) from None
        record = dataclasses.replace(record, bundle=manifest.content_hash(), device=expected, other_backend=not same)
        try:
            write_jobs(root, record)
        except QbhwError as exc:
            if record.local:
                raise
            raise QbhwError(
                f"{exc}; the jobs WERE submitted: {', '.join(record.job_ids)} (job tag {manifest.job_tag()})"
            ) from None
    finally:
        with contextlib.suppress(OSError):
            (root / SUBMIT_LOCK).unlink()
    return record


def collect_bundle(
    directory: str | os.PathLike[str], *, counts_file: str | os.PathLike[str] | None = None, service: Any = None
) -> tuple[BundleCounts, CollectionSeal]:
    """Collect the counts of the bundle in ``directory``: retrieve the results of its submitted jobs (``jobs.json``;
    local ones are stored there), or ingest ``counts_file`` (format ``qbhw-counts/1``) produced elsewhere; check
    that every circuit of the manifest has counts with its shots and no other circuit has any; store them as
    ``counts.json`` and seal the collection (``bundle.write_collection``). A job that failed, was cancelled or is not
    finished, a partial result, counts of unknown circuits, a bundle already collected: one line, nothing written."""
    root = Path(directory)
    manifest = verify_bundle(root)
    for name in (COUNTS_FILE, SEAL_FILE):
        if (root / name).exists():
            raise QbhwError(f"{root / name} exists: the bundle's counts were already collected (analyze it)")
    if counts_file is not None:
        if (root / JOBS_FILE).exists():
            raise QbhwError(
                f"{root / JOBS_FILE} records submitted jobs: collect their results (without --counts), or prepare a "
                "new bundle for counts produced elsewhere"
            )
        counts = load_counts(counts_file)
        seal = write_collection(root, manifest, counts, source="counts file", counts_file=str(counts_file))
        return counts, seal
    if not (root / JOBS_FILE).exists():
        raise QbhwError(
            f"{root} has not been submitted (no {JOBS_FILE}): run qbhw submit {root}, or pass --counts FILE with "
            "counts produced elsewhere"
        )
    jobs = read_jobs(root)
    digest = manifest.content_hash()
    if (jobs.bundle is not None and jobs.bundle != digest) or manifest.job_tag() not in jobs.tags:
        raise QbhwError(f"{root / JOBS_FILE} records the jobs of another bundle (its tags lack {manifest.job_tag()})")
    counts = BundleCounts(retrieve(jobs, service=service), bundle=digest)
    seal = write_collection(root, manifest, counts, source="jobs")
    return counts, seal


__all__ = [
    "DD_SEQUENCES",
    "JOBS_FORMAT",
    "NO_CREDENTIALS",
    "PRIMITIVES",
    "SUBMIT_LOCK",
    "TWIRL_RANDOMIZATIONS",
    "JobCircuit",
    "JobEntry",
    "JobsRecord",
    "check_backend",
    "check_execution",
    "collect_bundle",
    "read_jobs",
    "retrieve",
    "sampler_kind",
    "service_backend",
    "submit",
    "submit_bundle",
    "write_jobs",
]
