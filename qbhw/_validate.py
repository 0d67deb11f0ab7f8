"""Range checks shared by the parameter dataclasses and the calibration schema.

Each check returns the normalised value or raises the exception built by ``error(name, allowed, got)``: by default
a ParameterError naming the field (``allowed`` says in words what would have been accepted). The calibration
schema passes a factory that raises CalibrationError with the field path instead, so both share one set of rules.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from qbhw.errors import ParameterError

#: builds the exception a failed check raises: (field name, what is allowed in words, the value given)
ErrorFactory = Callable[[str, str, object], Exception]


def parameter_error(name: str, allowed: str, got: object) -> Exception:
    """The default ``ErrorFactory``: ParameterError(name, allowed, got)."""
    return ParameterError(name, allowed, got)


def finite(name: str, value: float, *, error: ErrorFactory = parameter_error) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise error(name, "a finite real number", value) from None
    if not math.isfinite(v):
        raise error(name, "a finite real number", value)
    return v


def positive(name: str, value: float, *, error: ErrorFactory = parameter_error) -> float:
    v = finite(name, value, error=error)
    if v <= 0:
        raise error(name, "a finite number > 0", value)
    return v


def nonnegative(name: str, value: float, *, error: ErrorFactory = parameter_error) -> float:
    v = finite(name, value, error=error)
    if v < 0:
        raise error(name, "a finite number >= 0", value)
    return v


def in_closed_interval(
    name: str, value: float, low: float, high: float, *, error: ErrorFactory = parameter_error
) -> float:
    return in_interval(name, value, low, high, error=error)


def in_interval(
    name: str,
    value: float,
    low: float,
    high: float,
    *,
    high_open: bool = False,
    why: str = "",
    error: ErrorFactory = parameter_error,
) -> float:
    """low <= value <= high (value < high when ``high_open``); ``why`` is appended to the allowed range in words."""
    v = finite(name, value, error=error)
    ok = low <= v < high if high_open else low <= v <= high
    if not ok:
        raise error(name, f"in [{low:g}, {high:g}{')' if high_open else ']'}{why}", value)
    return v


def integer_at_least(name: str, value: int, low: int, *, error: ErrorFactory = parameter_error) -> int:
    """An integral number (int, numpy integer, or a float with an integral value) >= low, returned as int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(name, f"an integer >= {low}", value)
    if not isinstance(value, numbers.Integral) and not (math.isfinite(value) and int(value) == value):
        raise error(name, f"an integer >= {low}", value)
    if value < low:
        raise error(name, f"an integer >= {low}", value)
    return int(value)


def one_of(name: str, value: str, allowed: Iterable[str], *, error: ErrorFactory = parameter_error) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise error(name, "one of " + ", ".join(repr(a) for a in allowed), value)
    return value


# -- strict type checks for data read from files (JSON): no conversion of strings, booleans or floats ----------


def real(name: str, value: object, *, error: ErrorFactory = parameter_error) -> float:
    """A real number given as a number (not a bool, not a string), finite, returned as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(name, "a finite real number", value)
    return finite(name, value, error=error)  # type: ignore[arg-type]


def index(name: str, value: object, *, error: ErrorFactory = parameter_error) -> int:
    """An integer >= 0 given as an integer (int or numpy integer; not a bool, not a float), returned as int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise error(name, "an integer >= 0", value)
    return int(value)


def text(name: str, value: object, *, error: ErrorFactory = parameter_error) -> str:
    """A string with at least one non-space character."""
    if not isinstance(value, str) or not value.strip():
        raise error(name, "a non-empty string", value)
    return value


def sequence(name: str, value: object, *, error: ErrorFactory = parameter_error) -> tuple[Any, ...]:
    """A list or tuple (not a string, bytes or mapping), returned as a tuple."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise error(name, "a list", value)
    return tuple(value)
