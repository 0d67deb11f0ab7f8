"""The one place where qbhw limits the threads of BLAS/OpenMP libraries for its own numerics.

qbhw's linear algebra is small and dense (matrices of tens to a few thousand rows). On a machine whose other
cores are busy, a multi-threaded BLAS then spends its time waiting for threads: measured on 2 shared cores, a
6-qubit bootstrap took 76 s with OpenBLAS's default 2 threads and 2.5 s with 1. Parallelism in qbhw comes from
processes (sweep points through an executor), never from threads inside one small matrix product.

``limit_threads()`` is used by the command line, by every sweep worker and by the benchmarks; it is a context
manager so that library code never changes a process-wide setting behind its caller's back. ``thread_report()``
says what the libraries run with (benchmarks print it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

#: threads per BLAS/OpenMP pool inside one qbhw process
DEFAULT_THREADS = 1


@contextlib.contextmanager
def limit_threads(threads: int = DEFAULT_THREADS) -> Iterator[None]:
    """Limit every BLAS and OpenMP pool loaded in this process (and those loaded inside the block) to ``threads``."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(threads)):
        yield


def thread_report() -> list[dict[str, Any]]:
    """One entry per thread pool loaded in this process: library, API, version and the threads it will use."""
    from threadpoolctl import threadpool_info

    return [
        {k: info.get(k) for k in ("internal_api", "prefix", "version", "num_threads", "threading_layer")}
        for info in threadpool_info()
    ]
