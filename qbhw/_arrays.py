"""Small array helpers shared by the result dataclasses."""

from __future__ import annotations

from typing import Any

import numpy as np


def readonly(a: Any) -> np.ndarray:
    """A read-only copy of ``a``, so that a frozen result cannot be changed through its arrays."""
    out = np.array(a)
    out.setflags(write=False)
    return out
