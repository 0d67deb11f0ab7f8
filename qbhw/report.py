"""Rendering of results: plain-text tables for people, JSON for programs."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence | np.ndarray):
        return [_jsonable(v) for v in value]
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_json(obj: Mapping[str, Any]) -> str:
    """One JSON object; non-finite floats become null (JSON has no NaN)."""
    return json.dumps(_jsonable(obj), indent=2, allow_nan=False)


def format_value(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.10g}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def table(rows: Sequence[tuple[str, Any]], title: str | None = None) -> str:
    """Two aligned columns, quantity and value."""
    width = max((len(k) for k, _ in rows), default=0)
    lines = [title, "-" * len(title)] if title else []
    lines += [f"{k.ljust(width)}  {format_value(v)}" for k, v in rows]
    return "\n".join(lines)
