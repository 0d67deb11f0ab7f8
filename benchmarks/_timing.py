"""Shared timing helper for the benchmark scripts (not part of the package)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best wall time in seconds over ``repeat`` calls, and the last return value.

    The best of a few runs is the least noisy estimate on a shared machine; each script times qbhw and its
    anchor in the same process, one after the other, so that both see the same load.
    """
    best = float("inf")
    out = None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    """Print a plain-text table (the README copies these)."""
    cells = [header] + [[f"{c:.4g}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(title)
    for k, r in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print()
