"""Field checks of the calibration schema: the rules of ``qbhw._validate`` raising CalibrationError with the field.

Every check takes the field's name (or path, ``qubits[3].t1_us``) and the value, and returns the normalised value
or raises ``CalibrationError("must be ... (got ...)", field=name)``. Values read from JSON are checked strictly:
a number must be a JSON number (not a string, not a boolean), an index an integer. Numbers are bounded in
magnitude by ``MAX_MAGNITUDE`` so that unit conversions downstream (x 1e9, products of two fields) stay finite.

Also here: the table of Qiskit's standard gate names and the "did you mean" hint, shared by the schema and the
backend import.
"""

from __future__ import annotations

import difflib
import functools
import numbers
import reprlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from qbhw import _validate
from qbhw.errors import CalibrationError

#: largest magnitude of any number in a calibration (1e18: far beyond any physical value in its unit, e.g. a T1 of
#: 1e15 us is what ``noiseless`` uses; conversions by 1e9 and products of two fields stay far from overflow)
MAX_MAGNITUDE = 1e18

_BRIEF = reprlib.Repr()
_BRIEF.maxstring = 60
_BRIEF.maxother = 60
_BRIEF.maxlist = 6
_BRIEF.maxdict = 4
_BRIEF.maxlevel = 3
_BRIEF.maxlong = 40


def brief(value: object) -> str:
    """A short repr of ``value`` for an error message: long strings, lists and deep nesting are abbreviated."""
    return _BRIEF.repr(value)


def key_text(key: object) -> str:
    """A JSON key as it appears in a field path: itself when short and printable, else an abbreviated repr."""
    text = str(key)
    return text if len(text) <= 60 and text.isprintable() else brief(text)


def calibration_error(name: str, allowed: str, got: object) -> CalibrationError:
    """The ``qbhw._validate`` error factory of the calibration schema."""
    return CalibrationError(f"must be {allowed} (got {brief(got)})", field=name)


def real(name: str, value: object) -> float:
    """A finite number (not a bool or string) of magnitude at most ``MAX_MAGNITUDE``."""
    v = _validate.real(name, value, error=calibration_error)
    if abs(v) > MAX_MAGNITUDE:
        raise calibration_error(name, f"a number of magnitude <= {MAX_MAGNITUDE:g}", value)
    return v


def positive(name: str, value: object) -> float:
    return _validate.positive(name, real(name, value), error=calibration_error)


def nonnegative(name: str, value: object) -> float:
    return _validate.nonnegative(name, real(name, value), error=calibration_error)


def in_interval(name: str, value: object, low: float, high: float, *, high_open: bool = False, why: str = "") -> float:
    return _validate.in_interval(
        name, real(name, value), low, high, high_open=high_open, why=why, error=calibration_error
    )


def index(name: str, value: object) -> int:
    """An integer >= 0 (qubit, resonator and list indices)."""
    return _validate.index(name, value, error=calibration_error)


def count(name: str, value: object, low: int, high: int) -> int:
    """An integer in [low, high] given as an integer (timing constraints in units of dt)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= int(value) <= high:
        raise calibration_error(name, f"an integer in [{low}, {high}]", value)
    return int(value)


def text(name: str, value: object) -> str:
    return _validate.text(name, value, error=calibration_error)


def sequence(name: str, value: object) -> tuple[Any, ...]:
    return _validate.sequence(name, value, error=calibration_error)


def one_of(name: str, value: object, allowed: Iterable[str]) -> str:
    return _validate.one_of(name, text(name, value), allowed, error=calibration_error)


_T = TypeVar("_T")


def optional(check: Callable[[str, object], _T], name: str, value: object) -> _T | None:
    """None stays None (null in JSON: unknown or absent); anything else must pass ``check``."""
    return None if value is None else check(name, value)


def mapping(name: str, value: object) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise calibration_error(name, "a JSON object", value)
    return value


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """'; did you mean 'x'?' for a close known name (a forgotten unit suffix counts as close), else ''."""
    known = list(known)
    unit = [k for k in known if k.startswith(name + "_")]
    hint = unit[:1] or difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {hint[0]!r}?" if hint else ""


@functools.cache
def standard_gate_arity() -> Mapping[str, int]:
    """Names of Qiskit's standard unitary gates -> number of qubits (the same in qiskit 1.3 and 2.x)."""
    from qiskit.circuit import Gate
    from qiskit.circuit.library import get_standard_gate_name_mapping

    return {
        name: op.num_qubits
        for name, op in get_standard_gate_name_mapping().items()
        if isinstance(op, Gate) and op.num_qubits > 0
    }
