"""Small array helpers shared by the result dataclasses."""

from __future__ import annotations

import numpy as np


def readonly(a: np.ndarray) -> np.ndarray:
    """A read-only copy of ``a``, so that a frozen result cannot be changed through its arrays."""
    a = np.array(a)
    a.setflags(write=False)
    return a
