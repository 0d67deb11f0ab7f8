"""Experiment bundles on disk: ISA circuits, their manifest, and the counts that come back (pure I/O, qiskit only).

A bundle is a directory that can leave the machine for a device and come back with counts:

=====================  ==============================================================================================
``manifest.json``      written last: ``schema_version``, the circuits in order (name, shots, width, classical
                       registers), the sha256 of every other file, and the opaque sections ``qbhw prepare`` fills
                       (versions, model, device, layout, seeds, predictions, estimator, execution)
``circuits.qpy``       every circuit, in manifest order, as QPY: the authoritative copy (loads back ``==``, layout
                       included). Written at QPY version 13 when the installed qiskit can, so that qiskit 1.3.0 and
                       2.x both read it; the version used is recorded in the manifest
``qasm3/NAME.qasm``    one OpenQASM 3 program per circuit: a human-readable copy (see below what it cannot carry)
``jobs.json``          added by submission (job ids, backend, time, primitive and its options)
``counts.json``        added by collection: the counts format below
``collected.json``     added by collection, last: the seal of the collected bundle (format ``qbhw-collected/1``):
                       the manifest's content hash and the sha256 of ``counts.json`` and ``jobs.json``
=====================  ==============================================================================================

Every file the manifest lists is verified against its sha256 before use; a changed, missing or unlisted file is
refused with one line naming it. ``jobs.json``, ``counts.json`` and ``collected.json`` are written after the
manifest and are therefore not hashed by it; the seal closes the chain: a changed manifest no longer has the content
hash the seal names, a changed ``counts.json`` or ``jobs.json`` no longer has its sealed sha256
(``verify_collection``). ``counts.json`` also names the bundle by the manifest's content hash. (Hashes detect
changes, not a forger who rewrites every hash consistently: nothing in a bundle is signed.)

What OpenQASM 3 cannot carry
----------------------------
Measured with qiskit 2.6.2 exporting and qiskit-qasm3-import 0.6.0 importing (``qiskit.qasm3.loads``); qiskit 1.3.0
exports the same text. An ISA circuit transpiled onto a device and read back from its ``.qasm`` file keeps its
instructions in order on the same physical qubits, its classical registers (names, sizes, order) and which clbit each
measurement writes, mid-circuit measurements and resets, barriers, delays (in ``dt``, see below) and ``if`` blocks.
It loses:

* the width: the program names only the physical qubits it uses (``$100``), so the circuit comes back with
  max(used index) + 1 qubits instead of the device's width;
* the layout: which virtual qubit sits on which physical qubit (``circuit.layout``), and the quantum register names;
* the circuit's name, its metadata and its global phase;
* angles within pi*1e-9 rad of a simple fraction of pi (or below 1e-9 rad) are written symbolically
  (``pi/2``, ``0``) and come back snapped; every other angle round-trips exactly;
* gates outside ``stdgates.inc`` (e.g. ``ecr``, ``rzz``) are written with a ``gate`` definition and come back as a
  generic gate of that name whose matrix equals the original up to a global phase (the definition's phase is lost).

Delays must be in ``dt``: QPY (qiskit 1.3.0 and 2.6.2 alike) stores a delay's duration without its unit and reads
it back as ``dt`` (qiskit issue #8293, still open), so 250 ns would come back as 250 dt and 2.5 us would not load at
all; qiskit 1.3.0's ``==`` does not even see the difference. ``write_bundle`` therefore refuses a delay in any other
unit (transpiling onto a target with ``dt`` converts them: 100 ns -> 25 dt on a 4 ns device), and checks before
writing that the QPY bytes load back equal to the circuits.

Mid-circuit variants such as Heron's ``measure_2``/``reset_2`` cannot be exported at all ("non-unitary subroutine
calls are not yet supported"): a bundle keeps the plain ``measure``/``reset`` circuits; a submission may convert its
own copy. In the pulse environment (qiskit 1.3.0) qiskit-qasm3-import is not installed, so ``.qasm`` files can be
written but not read back there.

The counts format (``qbhw-counts/1``)
-------------------------------------
``{"format": "qbhw-counts/1", "bundle": "<manifest content hash, optional>", "circuits": {NAME: {"shots": S,
"registers": {REG: {"num_bits": k, "counts": {"0101": n, ...}, "memory": ["0101", ...]}}}}}``. A bitstring is
Qiskit's: its rightmost character is clbit 0 of the register. ``counts`` sum to ``shots``. ``memory`` (optional,
all registers of a circuit or none) lists every shot's bits in shot order, the same order for every register of the
circuit, so joint outcomes across registers survive; when present, ``counts`` must equal its tally. Users of other
providers write ``counts`` only.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io
import json
import keyword
import math
import numbers
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qbhw._files import write_atomic
from qbhw.errors import QbhwError

#: manifest schema this module writes and reads
SCHEMA_VERSION = 1
BUNDLE_FORMAT = "qbhw-bundle"
COUNTS_FORMAT = "qbhw-counts/1"

MANIFEST_FILE = "manifest.json"
QPY_FILE = "circuits.qpy"
QASM3_DIR = "qasm3"
JOBS_FILE = "jobs.json"
COUNTS_FILE = "counts.json"
SEAL_FILE = "collected.json"
SEAL_FORMAT = "qbhw-collected/1"
#: files a bundle gains after its manifest was written (not hashed by it; the seal hashes the others)
LATER_FILES = (JOBS_FILE, COUNTS_FILE, SEAL_FILE)
#: where the counts of a collected bundle came from
COUNT_SOURCES = ("jobs", "counts file")

#: the opaque JSON sections the prepare step fills, in manifest order
SECTIONS = ("versions", "model", "device", "layout", "seeds", "predictions", "estimator", "execution")

#: QPY version both environments read (qiskit 1.3.0 reads up to 13; qiskit 2.x writes 13 and newer)
PORTABLE_QPY_VERSION = 13
#: largest shot number per circuit a bundle accepts (per-shot memory of 10^6 shots is ~10 MB of JSON per register)
MAX_SHOTS = 1_000_000

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_BITS = re.compile(r"[01]+")
_HEX64 = re.compile(r"[0-9a-f]{64}")


# ------------------------------------------------------------------------------------------------ JSON helpers


def _json_safe(value: Any, where: str) -> Any:
    """A copy of ``value`` made of dict/list/str/int/float/bool/None (tuples become lists, numpy scalars Python
    numbers); a non-finite float or any other type raises QbhwError naming ``where``."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v):
            raise QbhwError(f"{where} must be a finite number (got {value!r})")
        return v
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise QbhwError(f"{where} must have string keys (got {k!r})")
            out[k] = _json_safe(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, list | tuple):
        return [_json_safe(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise QbhwError(f"{where} must be JSON data (dict, list, str, int, float, bool, null); got {type(value).__name__}")


def _metadata_safe(value: Any, where: str) -> None:
    """Circuit metadata must already be plain str/int/float/bool/None/list/dict: numpy scalars break QPY and tuples
    break the runtime's metadata handling (qiskit-ibm-runtime issues #3063, #2913)."""
    if value is None or type(value) in (bool, int, str):
        return
    if type(value) is float:
        if not math.isfinite(value):
            raise QbhwError(f"{where} must be a finite number (got {value!r})")
        return
    if type(value) is list:
        for i, v in enumerate(value):
            _metadata_safe(v, f"{where}[{i}]")
        return
    if type(value) is dict:
        for k, v in value.items():
            if type(k) is not str:
                raise QbhwError(f"{where} must have string keys (got {k!r})")
            _metadata_safe(v, f"{where}[{k!r}]")
        return
    raise QbhwError(
        f"{where} is a {type(value).__module__}.{type(value).__name__}; circuit metadata must be plain "
        "str, int, float, bool, None, list or dict (convert numpy values and tuples)"
    )


def _exact_keys(obj: Any, required: Iterable[str], where: str, optional: Iterable[str] = ()) -> dict[str, Any]:
    """``obj`` as a dict whose keys are exactly ``required`` plus any of ``optional``; one line otherwise."""
    if not isinstance(obj, Mapping):
        raise QbhwError(f"{where} must be a JSON object (got {type(obj).__name__})")
    required = tuple(required)
    allowed = set(required) | set(optional)
    unknown = sorted(set(obj) - allowed)
    missing = [k for k in required if k not in obj]
    if unknown:
        raise QbhwError(f"{where} has unknown key(s) {', '.join(map(repr, unknown))}")
    if missing:
        raise QbhwError(f"{where} lacks key(s) {', '.join(map(repr, missing))}")
    return dict(obj)


def _int_at_least(value: Any, low: int, where: str, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < low:
        raise QbhwError(f"{where} must be an integer >= {low} (got {value!r})")
    if high is not None and int(value) > high:
        raise QbhwError(f"{where} must be an integer <= {high} (got {value!r})")
    return int(value)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise QbhwError(f"{where} must be a non-empty string (got {value!r})")
    return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QbhwError(f"{path}: no such file ({what})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QbhwError(f"{path}: cannot read {what} ({exc.__class__.__name__}: {exc})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise QbhwError(f"{path}: not valid JSON ({_first_line(exc)})") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


# ------------------------------------------------------------------------------------------------ the manifest


@dataclass(frozen=True)
class RegisterSpec:
    """A classical register of a circuit: its name and number of bits."""

    name: str
    num_bits: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "num_bits": self.num_bits}

    @classmethod
    def from_dict(cls, obj: Any, where: str = "register") -> RegisterSpec:
        d = _exact_keys(obj, ("name", "num_bits"), where)
        return cls(_string(d["name"], f"{where}.name"), _int_at_least(d["num_bits"], 1, f"{where}.num_bits"))


@dataclass(frozen=True)
class CircuitSpec:
    """One circuit of a bundle: name, shots, width (qubits) and classical registers in the circuit's order."""

    name: str
    shots: int
    num_qubits: int
    registers: tuple[RegisterSpec, ...]
    qasm3: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shots": self.shots,
            "num_qubits": self.num_qubits,
            "registers": [r.to_dict() for r in self.registers],
            "qasm3": self.qasm3,
        }

    @classmethod
    def from_dict(cls, obj: Any, where: str = "circuit") -> CircuitSpec:
        d = _exact_keys(obj, ("name", "shots", "num_qubits", "registers", "qasm3"), where)
        regs = d["registers"]
        if not isinstance(regs, list) or not regs:
            raise QbhwError(f"{where}.registers must be a non-empty list")
        return cls(
            name=_string(d["name"], f"{where}.name"),
            shots=_int_at_least(d["shots"], 1, f"{where}.shots", MAX_SHOTS),
            num_qubits=_int_at_least(d["num_qubits"], 1, f"{where}.num_qubits"),
            registers=tuple(RegisterSpec.from_dict(r, f"{where}.registers[{i}]") for i, r in enumerate(regs)),
            qasm3=_string(d["qasm3"], f"{where}.qasm3"),
        )


@dataclass(frozen=True)
class FileEntry:
    """A file of the bundle (path relative to the bundle, '/'-separated), its sha256 and size."""

    path: str
    sha256: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size_bytes": self.size_bytes}

    @classmethod
    def from_dict(cls, obj: Any, where: str = "file") -> FileEntry:
        d = _exact_keys(obj, ("path", "sha256", "size_bytes"), where)
        path = _string(d["path"], f"{where}.path")
        if path.startswith("/") or ".." in path.split("/") or "\\" in path:
            raise QbhwError(f"{where}.path must be a relative path inside the bundle (got {path!r})")
        sha = d["sha256"]
        if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
            raise QbhwError(f"{where}.sha256 must be 64 lowercase hex digits (got {sha!r})")
        return cls(path, sha, _int_at_least(d["size_bytes"], 0, f"{where}.size_bytes"))


_MANIFEST_KEYS = ("format", "schema_version", "created_utc", "qpy", "circuits", "files") + SECTIONS


@dataclass(frozen=True)
class Manifest:
    """The bundle's table of contents (``manifest.json``).

    Owned here: ``circuits`` (order = QPY order), ``files`` (every file but the manifest and the later
    ``jobs.json``/``counts.json``), ``qpy`` (file, QPY version, writing qiskit). Opaque: ``sections``, one JSON value
    per name in ``SECTIONS``, filled by the prepare step. ``to_dict``/``from_dict`` refuse unknown or missing keys
    and another ``schema_version`` with one line.
    """

    circuits: tuple[CircuitSpec, ...]
    files: tuple[FileEntry, ...]
    qpy: Mapping[str, Any]
    sections: Mapping[str, Any]
    created_utc: str
    schema_version: int = SCHEMA_VERSION

    @property
    def circuit_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.circuits)

    @property
    def shots(self) -> dict[str, int]:
        """Shots per circuit name."""
        return {c.name: c.shots for c in self.circuits}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "schema_version": self.schema_version,
            "created_utc": self.created_utc,
            "qpy": dict(self.qpy),
            "circuits": [c.to_dict() for c in self.circuits],
            "files": [f.to_dict() for f in self.files],
        }
        for name in SECTIONS:
            out[name] = self.sections[name]
        return out

    @classmethod
    def from_dict(cls, obj: Any) -> Manifest:
        if isinstance(obj, Mapping) and "schema_version" in obj and obj["schema_version"] != SCHEMA_VERSION:
            raise QbhwError(
                f"manifest has schema_version {obj['schema_version']!r}; this qbhw reads schema_version "
                f"{SCHEMA_VERSION} (use the qbhw version that wrote the bundle)"
            )
        d = _exact_keys(obj, _MANIFEST_KEYS, "manifest")
        if d["format"] != BUNDLE_FORMAT:
            raise QbhwError(f"manifest format must be {BUNDLE_FORMAT!r} (got {d['format']!r})")
        qpy = _exact_keys(d["qpy"], ("file", "version", "qiskit"), "manifest.qpy")
        if qpy["file"] != QPY_FILE:
            raise QbhwError(f"manifest.qpy.file must be {QPY_FILE!r} (got {qpy['file']!r})")
        _int_at_least(qpy["version"], 1, "manifest.qpy.version")
        _string(qpy["qiskit"], "manifest.qpy.qiskit")
        circuits = d["circuits"]
        if not isinstance(circuits, list) or not circuits:
            raise QbhwError("manifest.circuits must be a non-empty list")
        files = d["files"]
        if not isinstance(files, list):
            raise QbhwError("manifest.files must be a list")
        specs = tuple(CircuitSpec.from_dict(c, f"manifest.circuits[{i}]") for i, c in enumerate(circuits))
        _check_names([c.name for c in specs], "manifest.circuits")
        entries = tuple(FileEntry.from_dict(f, f"manifest.files[{i}]") for i, f in enumerate(files))
        paths = [f.path for f in entries]
        if len(set(paths)) != len(paths):
            raise QbhwError("manifest.files lists a path twice")
        expected = {QPY_FILE} | {c.qasm3 for c in specs}
        if set(paths) != expected:
            raise QbhwError(
                f"manifest.files must list {QPY_FILE} and each circuit's qasm3 file, nothing else "
                f"(differs in: {', '.join(sorted(set(paths) ^ expected))})"
            )
        return cls(
            circuits=specs,
            files=entries,
            qpy=qpy,
            sections={name: _json_safe(d[name], f"manifest.{name}") for name in SECTIONS},
            created_utc=_string(d["created_utc"], "manifest.created_utc"),
            schema_version=SCHEMA_VERSION,
        )

    def content_hash(self) -> str:
        """sha256 (hex) of the manifest's canonical JSON: identifies the bundle, every file included (the manifest
        holds their hashes). Goes into job tags and counts.json."""
        return hashlib.sha256(_canonical_json(self.to_dict())).hexdigest()

    def job_tag(self) -> str:
        """The job tag that names this bundle on a provider (``qbhw-bundle-`` + the first 16 hex digits of the
        content hash), so that its jobs can be found again (``QiskitRuntimeService().jobs(job_tags=[...])``)."""
        return "qbhw-bundle-" + self.content_hash()[:16]


def _check_names(names: Sequence[str], where: str) -> None:
    seen: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith("."):
            raise QbhwError(
                f"{where}: circuit name {name!r} is not file-system safe (1-100 characters from A-Z a-z 0-9 _ . -, "
                "starting with a letter or digit, not ending with '.')"
            )
        folded = name.casefold()
        if folded in seen:
            raise QbhwError(f"{where}: circuit names must be unique, also ignoring case ({seen[folded]!r}, {name!r})")
        seen[folded] = name


# ------------------------------------------------------------------------------------------------ circuits


def _check_circuit(qc: Any, where: str) -> tuple[RegisterSpec, ...]:
    """Registers of a circuit a bundle can hold: every clbit in exactly one register, register names that are
    identifiers (the runtime's result fields), no unbound parameters, plain metadata."""
    from qiskit import QuantumCircuit

    if not isinstance(qc, QuantumCircuit):
        raise QbhwError(f"{where} must be a qiskit QuantumCircuit (got {type(qc).__name__})")
    if qc.parameters:
        raise QbhwError(f"{where} has unbound parameters ({', '.join(p.name for p in qc.parameters)}); bind them")
    if not qc.cregs:
        raise QbhwError(f"{where} has no classical register: it would return no counts")
    owner: dict[Any, str] = {}
    for reg in qc.cregs:
        if reg.size == 0:
            raise QbhwError(f"{where}: classical register {reg.name!r} has no bits")
        if not reg.name.isidentifier() or keyword.iskeyword(reg.name):
            raise QbhwError(
                f"{where}: classical register name {reg.name!r} must be a Python identifier and not a keyword "
                "(the runtime names its result fields after registers)"
            )
        for bit in reg:
            if bit in owner:
                raise QbhwError(f"{where}: classical registers {owner[bit]!r} and {reg.name!r} share a bit")
            owner[bit] = reg.name
    loose = [i for i, bit in enumerate(qc.clbits) if bit not in owner]
    if loose:
        raise QbhwError(f"{where}: clbit(s) {loose} belong to no classical register; their outcomes would be lost")
    if not isinstance(qc.metadata, dict):
        raise QbhwError(f"{where}: metadata must be a dict (got {type(qc.metadata).__name__})")
    _metadata_safe(qc.metadata, f"{where}: metadata")
    _check_delays(qc, where)
    return tuple(RegisterSpec(reg.name, reg.size) for reg in qc.cregs)


def _check_delays(qc: Any, where: str) -> None:
    """Delays must be in dt: QPY (qiskit 1.3.0 and 2.6.2) stores a delay's duration without its unit and reads it
    back as dt (qiskit issue #8293), so 250 ns would become 250 dt; a transpiled ISA circuit has dt delays."""
    for inst in qc.data:
        op = inst.operation
        if op.name == "delay" and getattr(op, "unit", "dt") != "dt":
            qubit = qc.find_bit(inst.qubits[0]).index
            raise QbhwError(
                f"{where} has a delay of {op.duration} {op.unit} on qubit {qubit}; bundle circuits need delays in dt "
                "(QPY reads any other unit back as dt): transpile onto the device's target or give the delay in dt"
            )
        for block in getattr(op, "blocks", ()):
            _check_delays(block, where)


def _qpy_bytes(circuits: Sequence[Any]) -> tuple[bytes, int]:
    """QPY of ``circuits`` at PORTABLE_QPY_VERSION when this qiskit can write it and the circuits fit it, else at
    the installed qiskit's own version. Returns (bytes, version written)."""
    from qiskit import qpy

    compat = getattr(qpy, "QPY_COMPATIBILITY_VERSION", qpy.QPY_VERSION)
    if compat <= PORTABLE_QPY_VERSION <= qpy.QPY_VERSION:
        buf = io.BytesIO()
        try:
            qpy.dump(list(circuits), buf, version=PORTABLE_QPY_VERSION)
            return buf.getvalue(), PORTABLE_QPY_VERSION
        except Exception:  # a feature newer than the portable version: fall back to this qiskit's own
            pass
    buf = io.BytesIO()
    try:
        qpy.dump(list(circuits), buf)
    except Exception as exc:
        raise QbhwError(f"the circuits cannot be written as QPY ({exc.__class__.__name__}: {exc})") from None
    return buf.getvalue(), qpy.QPY_VERSION


def _check_qpy_round_trip(data: bytes, circuits: Sequence[Any]) -> None:
    """The QPY bytes load back to circuits equal to ``circuits`` (name, metadata and layout included) in this qiskit,
    before anything is written: a bundle never holds circuits that would come back different."""
    from qiskit import qpy

    try:
        loaded = qpy.load(io.BytesIO(data))
    except Exception as exc:
        raise QbhwError(
            f"the circuits' QPY does not load back ({exc.__class__.__name__}: {_first_line(exc)})"
        ) from None
    for back, qc in zip(loaded, circuits, strict=True):
        if back != qc or back.name != qc.name or back.metadata != qc.metadata or back.layout != qc.layout:
            raise QbhwError(
                f"circuit {qc.name!r} does not come back equal from QPY in this qiskit; it cannot be bundled"
            )


def _qasm3_text(qc: Any, where: str) -> str:
    from qiskit import qasm3

    try:
        return qasm3.dumps(qc)
    except Exception as exc:
        raise QbhwError(
            f"{where} cannot be exported to OpenQASM 3 ({_first_line(exc)}); bundle circuits keep plain measure/reset"
        ) from None


def _check_shots(shots: int | Sequence[int], n: int) -> tuple[int, ...]:
    if isinstance(shots, numbers.Integral) and not isinstance(shots, bool):
        values: list[Any] = [shots] * n
    elif isinstance(shots, Sequence) and not isinstance(shots, str):
        values = list(shots)
        if len(values) != n:
            raise QbhwError(f"shots must be one integer or one per circuit ({n}); got {len(values)} values")
    else:
        raise QbhwError(f"shots must be an integer or a sequence of integers (got {shots!r})")
    return tuple(_int_at_least(s, 1, "shots", MAX_SHOTS) for s in values)


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_bundle(
    directory: str | os.PathLike[str],
    circuits: Sequence[Any],
    manifest_sections: Mapping[str, Any],
    *,
    shots: int | Sequence[int],
) -> Manifest:
    """Write ``circuits`` (ISA circuits with unique, file-system-safe names) as a new bundle in ``directory``.

    ``manifest_sections`` gives one JSON value per name of ``SECTIONS`` (tuples are stored as lists, numpy scalars
    as numbers). ``shots``: one number for all circuits or one per circuit. Everything is checked before anything is
    written: an existing non-empty ``directory``, an unknown or missing section, duplicate or unsafe names, metadata
    that is not plain JSON, loose clbits, a circuit that OpenQASM 3 cannot express: one-line QbhwError. Each file is
    written atomically, the manifest last. Returns the manifest.
    """
    from qiskit import __version__ as qiskit_version

    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise QbhwError(f"{target} already exists and is not an empty directory; choose a new bundle directory")
    if isinstance(circuits, str) or not isinstance(circuits, Sequence) or not circuits:
        raise QbhwError("circuits must be a non-empty sequence of QuantumCircuit")
    if not isinstance(manifest_sections, Mapping):
        raise QbhwError("manifest_sections must be a mapping with the keys " + ", ".join(SECTIONS))
    unknown = sorted(set(manifest_sections) - set(SECTIONS))
    missing = [s for s in SECTIONS if s not in manifest_sections]
    if unknown or missing:
        raise QbhwError(
            "manifest sections must be exactly " + ", ".join(SECTIONS) + f" (unknown: {unknown}, missing: {missing})"
        )
    sections = {name: _json_safe(manifest_sections[name], f"manifest section {name}") for name in SECTIONS}
    shot_list = _check_shots(shots, len(circuits))
    registers = [_check_circuit(qc, f"circuit {i} ({getattr(qc, 'name', '?')!r})") for i, qc in enumerate(circuits)]
    names = [qc.name for qc in circuits]
    _check_names(names, "circuits")

    # serialise in memory first: nothing touches the disk before every check passed
    qpy_data, qpy_version = _qpy_bytes(circuits)
    _check_qpy_round_trip(qpy_data, circuits)
    files: dict[str, bytes] = {QPY_FILE: qpy_data}
    specs = []
    for qc, regs, n in zip(circuits, registers, shot_list, strict=True):
        rel = f"{QASM3_DIR}/{qc.name}.qasm"
        files[rel] = _qasm3_text(qc, f"circuit {qc.name!r}").encode("utf-8")
        specs.append(CircuitSpec(qc.name, n, qc.num_qubits, regs, rel))
    manifest = Manifest(
        circuits=tuple(specs),
        files=tuple(FileEntry(p, hashlib.sha256(b).hexdigest(), len(b)) for p, b in files.items()),
        qpy={"file": QPY_FILE, "version": qpy_version, "qiskit": qiskit_version},
        sections=sections,
        created_utc=_utc_now(),
    )
    manifest_text = json.dumps(manifest.to_dict(), indent=2, allow_nan=False) + "\n"

    created = not target.exists()
    written: list[Path] = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for rel, data in files.items():
            written.append(write_atomic(target / rel, data))
        written.append(write_atomic(target / MANIFEST_FILE, manifest_text))
    except OSError as exc:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        if created:
            for folder in (target / QASM3_DIR, target):
                with contextlib.suppress(OSError):
                    folder.rmdir()
        raise QbhwError(
            f"{target}: cannot write the bundle ({exc.__class__.__name__}: {exc.strerror or exc})"
        ) from None
    return manifest


def _bundle_files(root: Path) -> set[str]:
    out = set()
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in names:
            out.add((Path(folder) / name).relative_to(root).as_posix())
    return out


def read_manifest(directory: str | os.PathLike[str]) -> Manifest:
    """The manifest of the bundle in ``directory`` (no file verified: see ``read_bundle``)."""
    root = Path(directory)
    if not root.is_dir():
        raise QbhwError(f"{root}: no such bundle directory")
    path = root / MANIFEST_FILE
    if not path.is_file():
        raise QbhwError(f"{path}: no such file; {root} is not a complete bundle")
    try:
        return Manifest.from_dict(_read_json(path, "the bundle manifest"))
    except QbhwError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise QbhwError(f"{path}: {exc}") from None


def verify_bundle(directory: str | os.PathLike[str]) -> Manifest:
    """The manifest, after checking that the directory holds exactly the files it lists (plus the later
    ``jobs.json``/``counts.json``) with the listed sha256; a changed, missing or unlisted file: one line naming it."""
    root = Path(directory)
    manifest = read_manifest(root)
    listed = {f.path: f for f in manifest.files}
    present = _bundle_files(root) - {MANIFEST_FILE, *LATER_FILES}
    for rel in sorted(listed):
        if rel not in present:
            raise QbhwError(f"{root / rel}: missing from the bundle (listed in {MANIFEST_FILE})")
    extra = sorted(present - set(listed))
    if extra:
        raise QbhwError(f"{root / extra[0]}: not part of the bundle (not listed in {MANIFEST_FILE}); remove it")
    for rel, entry in sorted(listed.items()):
        path = root / rel
        try:
            digest = _sha256_file(path)
        except OSError as exc:
            raise QbhwError(f"{path}: cannot read ({exc.__class__.__name__}: {exc.strerror or exc})") from None
        if digest != entry.sha256:
            raise QbhwError(f"{path}: does not match its sha256 in {MANIFEST_FILE} (changed after the bundle was made)")
    return manifest


def read_bundle(directory: str | os.PathLike[str]) -> tuple[Manifest, tuple[Any, ...]]:
    """(manifest, circuits) of the bundle in ``directory``, every file verified first (see ``verify_bundle``).

    The circuits are loaded from QPY, in manifest order, and checked against the manifest (names, widths,
    registers). A bundle of another schema version is refused.
    """
    from qiskit import __version__ as qiskit_version
    from qiskit import qpy

    root = Path(directory)
    manifest = verify_bundle(root)
    path = root / QPY_FILE
    try:
        with warnings.catch_warnings():
            # a bundle written by a newer qiskit at the portable QPY version: verified above, loads fine
            warnings.filterwarnings(
                "ignore", message=".*is newer than the current qiskit version", category=UserWarning
            )
            with open(path, "rb") as fh:
                circuits = tuple(qpy.load(fh))
    except Exception as exc:
        raise QbhwError(
            f"{path}: qiskit {qiskit_version} cannot load it (QPY version {manifest.qpy['version']}, written by "
            f"qiskit {manifest.qpy['qiskit']}): {exc.__class__.__name__}: {_first_line(exc)}"
        ) from None
    if len(circuits) != len(manifest.circuits):
        raise QbhwError(f"{path}: holds {len(circuits)} circuits, the manifest lists {len(manifest.circuits)}")
    for qc, spec in zip(circuits, manifest.circuits, strict=True):
        regs = tuple(RegisterSpec(r.name, r.size) for r in qc.cregs)
        if qc.name != spec.name or qc.num_qubits != spec.num_qubits or regs != spec.registers:
            raise QbhwError(f"{path}: circuit {qc.name!r} does not match the manifest's entry for {spec.name!r}")
    return manifest, circuits


# ------------------------------------------------------------------------------------------------ counts


@dataclass(frozen=True, eq=False)
class RegisterCounts:
    """Outcomes of one classical register: ``counts`` (Qiskit bitstring -> number; rightmost character = clbit 0)
    and optionally ``memory``, every shot's bitstring in shot order."""

    num_bits: int
    counts: Mapping[str, int]
    memory: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _int_at_least(self.num_bits, 1, "num_bits")
        if not isinstance(self.counts, Mapping):
            raise QbhwError(f"counts must be a mapping bitstring -> count (got {type(self.counts).__name__})")
        clean: dict[str, int] = {}
        for key, value in self.counts.items():
            if not isinstance(key, str) or len(key) != self.num_bits or not _BITS.fullmatch(key):
                raise QbhwError(f"counts key {key!r} is not a string of {self.num_bits} characters '0'/'1'")
            clean[key] = _int_at_least(value, 0, f"counts[{key!r}]")
        object.__setattr__(self, "counts", dict(sorted(clean.items())))
        if self.memory is not None:
            if isinstance(self.memory, str) or not isinstance(self.memory, Sequence):
                raise QbhwError("memory must be a list of bitstrings, one per shot")
            memory = tuple(self.memory)
            for i, bits in enumerate(memory):
                if not isinstance(bits, str) or len(bits) != self.num_bits or not _BITS.fullmatch(bits):
                    raise QbhwError(f"memory[{i}] {bits!r} is not a string of {self.num_bits} characters '0'/'1'")
            tally = {k: v for k, v in self.counts.items() if v}
            if dict(Counter(memory)) != tally:
                raise QbhwError("counts do not equal the tally of memory")
            object.__setattr__(self, "memory", memory)

    @property
    def shots(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"num_bits": self.num_bits, "counts": dict(self.counts)}
        if self.memory is not None:
            out["memory"] = list(self.memory)
        return out

    @classmethod
    def from_dict(cls, obj: Any, where: str = "register") -> RegisterCounts:
        d = _exact_keys(obj, ("num_bits", "counts"), where, optional=("memory",))
        try:
            return cls(d["num_bits"], d["counts"], d.get("memory"))
        except QbhwError as exc:
            raise QbhwError(f"{where}: {exc}") from None

    @classmethod
    def from_memory(cls, memory: Sequence[str], num_bits: int) -> RegisterCounts:
        """From every shot's bitstring (the tally becomes ``counts``)."""
        return cls(num_bits, dict(Counter(memory)), tuple(memory))


@dataclass(frozen=True, eq=False)
class CircuitCounts:
    """The outcomes of one circuit: ``shots`` and one RegisterCounts per classical register (circuit order)."""

    shots: int
    registers: Mapping[str, RegisterCounts]

    def __post_init__(self) -> None:
        _int_at_least(self.shots, 1, "shots", MAX_SHOTS)
        if not isinstance(self.registers, Mapping) or not self.registers:
            raise QbhwError("registers must be a non-empty mapping register name -> RegisterCounts")
        for name, reg in self.registers.items():
            if not isinstance(reg, RegisterCounts):
                raise QbhwError(f"registers[{name!r}] must be a RegisterCounts (got {type(reg).__name__})")
            if reg.shots != self.shots:
                raise QbhwError(f"register {name!r} counts sum to {reg.shots}, not to shots = {self.shots}")
        with_memory = [reg.memory is not None for reg in self.registers.values()]
        if any(with_memory) and not all(with_memory):
            raise QbhwError("memory must be given for every register of a circuit or for none")
        object.__setattr__(self, "registers", dict(self.registers))

    @property
    def has_memory(self) -> bool:
        return all(reg.memory is not None for reg in self.registers.values())

    def register_specs(self) -> tuple[RegisterSpec, ...]:
        return tuple(RegisterSpec(name, reg.num_bits) for name, reg in self.registers.items())

    def joint_counts(self) -> dict[str, int]:
        """Counts keyed like Qiskit's ``Result.get_counts``: the registers' bitstrings joined by spaces, the LAST
        register leftmost. Needs ``memory`` when there is more than one register."""
        regs = list(self.registers.values())
        if len(regs) == 1:
            return dict(regs[0].counts)
        if not self.has_memory:
            raise QbhwError("joint counts of several registers need per-shot memory, which these counts lack")
        columns = [reg.memory for reg in reversed(regs)]
        return dict(Counter(" ".join(bits) for bits in zip(*columns, strict=True)))

    def to_dict(self) -> dict[str, Any]:
        return {"shots": self.shots, "registers": {name: reg.to_dict() for name, reg in self.registers.items()}}

    @classmethod
    def from_dict(cls, obj: Any, where: str = "circuit") -> CircuitCounts:
        d = _exact_keys(obj, ("shots", "registers"), where)
        regs = d["registers"]
        if not isinstance(regs, Mapping) or not regs:
            raise QbhwError(f"{where}.registers must be a non-empty JSON object")
        parsed = {name: RegisterCounts.from_dict(reg, f"{where}.registers[{name!r}]") for name, reg in regs.items()}
        try:
            return cls(d["shots"], parsed)
        except QbhwError as exc:
            raise QbhwError(f"{where}: {exc}") from None


@dataclass(frozen=True, eq=False)
class BundleCounts:
    """Counts of a bundle's circuits (``counts.json``): circuit name -> CircuitCounts, and the content hash of the
    bundle they belong to when known (``Manifest.content_hash``)."""

    circuits: Mapping[str, CircuitCounts]
    bundle: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.circuits, Mapping) or not self.circuits:
            raise QbhwError("circuits must be a non-empty mapping circuit name -> CircuitCounts")
        for name, cc in self.circuits.items():
            if not isinstance(name, str) or not isinstance(cc, CircuitCounts):
                raise QbhwError(f"circuits[{name!r}] must be a CircuitCounts (got {type(cc).__name__})")
        if self.bundle is not None and (not isinstance(self.bundle, str) or not _HEX64.fullmatch(self.bundle)):
            raise QbhwError(f"bundle must be a manifest content hash, 64 lowercase hex digits (got {self.bundle!r})")
        object.__setattr__(self, "circuits", dict(self.circuits))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": COUNTS_FORMAT}
        if self.bundle is not None:
            out["bundle"] = self.bundle
        out["circuits"] = {name: cc.to_dict() for name, cc in self.circuits.items()}
        return out

    @classmethod
    def from_dict(cls, obj: Any) -> BundleCounts:
        d = _exact_keys(obj, ("format", "circuits"), "counts", optional=("bundle",))
        if d["format"] != COUNTS_FORMAT:
            raise QbhwError(f"counts format must be {COUNTS_FORMAT!r} (got {d['format']!r})")
        circuits = d["circuits"]
        if not isinstance(circuits, Mapping) or not circuits:
            raise QbhwError("counts.circuits must be a non-empty JSON object")
        parsed = {name: CircuitCounts.from_dict(cc, f"circuits[{name!r}]") for name, cc in circuits.items()}
        return cls(parsed, d.get("bundle"))


def dump_counts(counts: BundleCounts, path: str | os.PathLike[str]) -> Path:
    """Write ``counts`` to ``path`` (format ``qbhw-counts/1``, atomically)."""
    if not isinstance(counts, BundleCounts):
        raise QbhwError(f"counts must be a BundleCounts (got {type(counts).__name__})")
    text = json.dumps(counts.to_dict(), separators=(",", ":"), allow_nan=False) + "\n"
    try:
        return write_atomic(path, text)
    except OSError as exc:
        raise QbhwError(f"{path}: cannot write counts ({exc.__class__.__name__}: {exc.strerror or exc})") from None


def load_counts(path: str | os.PathLike[str]) -> BundleCounts:
    """Counts from a ``qbhw-counts/1`` file; malformed content: one line naming the file and the place."""
    p = Path(path)
    obj = _read_json(p, "counts")
    try:
        return BundleCounts.from_dict(obj)
    except QbhwError as exc:
        raise QbhwError(f"{p}: {exc}") from None


def check_counts(manifest: Manifest, counts: BundleCounts) -> None:
    """Counts fit the bundle: its hash (when the counts name one), every circuit and no other, each with the
    manifest's shots and registers. One line naming what differs."""
    if counts.bundle is not None and counts.bundle != manifest.content_hash():
        raise QbhwError(
            f"the counts belong to another bundle (bundle hash {counts.bundle[:12]}..., this bundle "
            f"{manifest.content_hash()[:12]}...)"
        )
    names = manifest.circuit_names
    extra = [n for n in counts.circuits if n not in names]
    if extra:
        raise QbhwError(f"counts for circuit(s) the manifest does not have: {', '.join(extra[:5])}")
    missing = [n for n in names if n not in counts.circuits]
    if missing:
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        raise QbhwError(f"no counts for circuit(s) {', '.join(missing[:5])}{more}")
    for spec in manifest.circuits:
        cc = counts.circuits[spec.name]
        if cc.shots != spec.shots:
            raise QbhwError(
                f"circuit {spec.name!r}: the manifest asks for {spec.shots} shots, the counts have {cc.shots}"
            )
        if cc.register_specs() != spec.registers:
            want = ", ".join(f"{r.name}[{r.num_bits}]" for r in spec.registers)
            got = ", ".join(f"{r.name}[{r.num_bits}]" for r in cc.register_specs())
            raise QbhwError(f"circuit {spec.name!r}: the manifest's registers are {want}, the counts have {got}")


# ------------------------------------------------------------------------------------------------ the seal


@dataclass(frozen=True)
class CollectionSeal:
    """``collected.json``: the bundle the counts belong to (``Manifest.content_hash``), the sha256 of ``counts.json``
    and of ``jobs.json`` (None: the bundle was never submitted), where the counts came from ("jobs": retrieved from
    the submitted jobs; "counts file": ingested from ``counts_file``, its base name) and when (UTC)."""

    bundle: str
    counts_sha256: str
    jobs_sha256: str | None
    source: str
    counts_file: str | None
    collected_utc: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SEAL_FORMAT,
            "bundle": self.bundle,
            "counts_sha256": self.counts_sha256,
            "jobs_sha256": self.jobs_sha256,
            "source": self.source,
            "counts_file": self.counts_file,
            "collected_utc": self.collected_utc,
        }

    @classmethod
    def from_dict(cls, obj: Any) -> CollectionSeal:
        keys = ("format", "bundle", "counts_sha256", "jobs_sha256", "source", "counts_file", "collected_utc")
        d = _exact_keys(obj, keys, "seal")
        if d["format"] != SEAL_FORMAT:
            raise QbhwError(f"seal format must be {SEAL_FORMAT!r} (got {d['format']!r})")
        for key in ("bundle", "counts_sha256", "jobs_sha256"):
            value = d[key]
            if (value is not None or key != "jobs_sha256") and (
                not isinstance(value, str) or not _HEX64.fullmatch(value)
            ):
                raise QbhwError(f"seal {key} must be 64 lowercase hex digits (got {value!r})")
        if d["source"] not in COUNT_SOURCES:
            raise QbhwError(f"seal source must be one of {', '.join(map(repr, COUNT_SOURCES))} (got {d['source']!r})")
        if d["counts_file"] is not None:
            _string(d["counts_file"], "seal counts_file")
        return cls(
            bundle=d["bundle"],
            counts_sha256=d["counts_sha256"],
            jobs_sha256=d["jobs_sha256"],
            source=d["source"],
            counts_file=d["counts_file"],
            collected_utc=_string(d["collected_utc"], "seal collected_utc"),
        )


def _sha256_or_none(path: Path) -> str | None:
    try:
        return _sha256_file(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise QbhwError(f"{path}: cannot read ({exc.__class__.__name__}: {exc.strerror or exc})") from None


def write_collection(
    directory: str | os.PathLike[str],
    manifest: Manifest,
    counts: BundleCounts,
    *,
    source: str,
    counts_file: str | None = None,
) -> CollectionSeal:
    """Store the counts of the bundle in ``directory`` (checked against ``manifest`` with ``check_counts``) as
    ``counts.json``, then seal the collection (``collected.json``; module docstring), both atomically. Refused when
    the bundle already holds counts or a seal (nothing is overwritten). The stored counts name the bundle and list
    the circuits in manifest order."""
    if source not in COUNT_SOURCES:
        raise QbhwError(f"source must be one of {', '.join(map(repr, COUNT_SOURCES))} (got {source!r})")
    root = Path(directory)
    for name in (COUNTS_FILE, SEAL_FILE):
        if (root / name).exists():
            raise QbhwError(f"{root / name} exists: the bundle's counts were already collected (analyze it)")
    check_counts(manifest, counts)
    digest = manifest.content_hash()
    ordered = BundleCounts({name: counts.circuits[name] for name in manifest.circuit_names}, bundle=digest)
    path = dump_counts(ordered, root / COUNTS_FILE)
    seal = CollectionSeal(
        bundle=digest,
        counts_sha256=_sha256_file(path),
        jobs_sha256=_sha256_or_none(root / JOBS_FILE),
        source=source,
        counts_file=None if counts_file is None else Path(counts_file).name,
        collected_utc=_utc_now(),
    )
    text = json.dumps(seal.to_dict(), indent=2, allow_nan=False) + "\n"
    try:
        write_atomic(root / SEAL_FILE, text)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise QbhwError(f"{root / SEAL_FILE}: cannot write ({exc.__class__.__name__}: {exc.strerror or exc})") from None
    return seal


def verify_collection(directory: str | os.PathLike[str], manifest: Manifest) -> tuple[BundleCounts, CollectionSeal]:
    """The counts and seal of the collected bundle in ``directory`` whose verified manifest is ``manifest``, after
    checking the chain (module docstring): the seal names this manifest, ``counts.json`` and ``jobs.json`` have the
    sealed sha256, the counts fit the manifest. Anything else: one line naming the file."""
    root = Path(directory)
    seal_path, counts_path = root / SEAL_FILE, root / COUNTS_FILE
    if not seal_path.exists():
        if counts_path.exists():
            raise QbhwError(
                f"{counts_path} is not sealed (no {SEAL_FILE}): it was not written by qbhw collect, or the collection "
                "was interrupted; remove it and collect again"
            )
        raise QbhwError(f"{root}: no counts yet; run qbhw collect {root} (after qbhw submit, or with --counts FILE)")
    try:
        seal = CollectionSeal.from_dict(_read_json(seal_path, "the collection seal"))
    except QbhwError as exc:
        if str(exc).startswith(str(seal_path)):
            raise
        raise QbhwError(f"{seal_path}: {exc}") from None
    if seal.bundle != manifest.content_hash():
        raise QbhwError(
            f"{root / MANIFEST_FILE}: changed after the counts were collected (its content hash is no longer the one "
            f"{SEAL_FILE} names)"
        )
    got = _sha256_or_none(counts_path)
    if got is None:
        raise QbhwError(f"{counts_path}: missing from the collected bundle (sealed in {SEAL_FILE})")
    if got != seal.counts_sha256:
        raise QbhwError(f"{counts_path}: does not match its sha256 in {SEAL_FILE} (changed after collection)")
    jobs = _sha256_or_none(root / JOBS_FILE)
    if jobs != seal.jobs_sha256:
        what = (
            "appeared after collection"
            if seal.jobs_sha256 is None
            else (
                "is missing"
                if jobs is None
                else "does not match its sha256 in " + SEAL_FILE + " (changed after collection)"
            )
        )
        raise QbhwError(f"{root / JOBS_FILE}: {what}")
    counts = load_counts(counts_path)
    try:
        check_counts(manifest, counts)
    except QbhwError as exc:
        raise QbhwError(f"{counts_path}: {exc}") from None
    return counts, seal


def library_versions() -> dict[str, str | None]:
    """Installed versions of qbhw, Python and the Qiskit packages a bundle depends on (None: not installed)."""
    import platform
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("qbhw", "qiskit", "qiskit-aer", "qiskit-ibm-runtime", "qiskit-qasm3-import"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


__all__ = [
    "BUNDLE_FORMAT",
    "COUNTS_FILE",
    "COUNTS_FORMAT",
    "COUNT_SOURCES",
    "JOBS_FILE",
    "LATER_FILES",
    "MANIFEST_FILE",
    "MAX_SHOTS",
    "PORTABLE_QPY_VERSION",
    "QASM3_DIR",
    "QPY_FILE",
    "SCHEMA_VERSION",
    "SEAL_FILE",
    "SEAL_FORMAT",
    "SECTIONS",
    "BundleCounts",
    "CircuitCounts",
    "CircuitSpec",
    "CollectionSeal",
    "FileEntry",
    "Manifest",
    "RegisterCounts",
    "RegisterSpec",
    "check_counts",
    "dump_counts",
    "library_versions",
    "load_counts",
    "read_bundle",
    "read_manifest",
    "verify_bundle",
    "verify_collection",
    "write_bundle",
    "write_collection",
]
