"""Range checks shared by the parameter dataclasses. Each raises ParameterError naming the field."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

from qbhw.errors import ParameterError


def finite(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, "a finite real number", value) from None
    if not math.isfinite(v):
        raise ParameterError(name, "a finite real number", value)
    return v


def positive(name: str, value: float) -> float:
    v = finite(name, value)
    if v <= 0:
        raise ParameterError(name, "a finite number > 0", value)
    return v


def nonnegative(name: str, value: float) -> float:
    v = finite(name, value)
    if v < 0:
        raise ParameterError(name, "a finite number >= 0", value)
    return v


def in_closed_interval(name: str, value: float, low: float, high: float) -> float:
    v = finite(name, value)
    if not low <= v <= high:
        raise ParameterError(name, f"in [{low:g}, {high:g}]", value)
    return v


def integer_at_least(name: str, value: int, low: int) -> int:
    """An integral number (int, numpy integer, or a float with an integral value) >= low, returned as int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(name, f"an integer >= {low}", value)
    if not isinstance(value, numbers.Integral) and not (math.isfinite(value) and int(value) == value):
        raise ParameterError(name, f"an integer >= {low}", value)
    if value < low:
        raise ParameterError(name, f"an integer >= {low}", value)
    return int(value)


def one_of(name: str, value: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ParameterError(name, "one of " + ", ".join(repr(a) for a in allowed), value)
    return value
