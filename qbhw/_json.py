"""JSON for qbhw's records: plain values, numpy scalars and arrays, mappings and sequences; NaN and infinities
become null (JSON has neither). A ground-floor helper: every layer that writes JSON uses it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (dict, list, str, int, float, bool, None); raises TypeError otherwise."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence | np.ndarray):
        return [jsonable(v) for v in value]
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_json(obj: Mapping[str, Any]) -> str:
    """One JSON object, indented; non-finite floats become null."""
    return json.dumps(jsonable(obj), indent=2, allow_nan=False)
