"""Cavity tomography: qbhw's maximum-likelihood fit and interval construction at Fock cutoffs D = 8 and 16, against a
plain SciPy maximum-likelihood fit of the same data (docs/tomography_intervals.md, "Cavity tomography").

Case: a coherent state alpha = 1 + 0.5i restricted to D levels and renormalised, displaced-parity data on
``displacement_grid(D)`` (1 + D (2D - 1) settings) at 1000 shots per setting with readout confusion p(1|0) = 0.02,
p(0|1) = 0.05 and parity contrast 0.95. Columns:

* qbhw MLE: ``fit_cavity_mle`` (R rho R iteration with dilution, started from the projected linear estimate);
* SciPy MLE (the peer): rho = T T^dag / Tr, T lower triangular (D^2 real parameters), negative log-likelihood
  and its analytic gradient minimised by ``scipy.optimize.minimize(method="L-BFGS-B")`` from the same start;
* interval: ``estimate_cavity(..., mle=False, bootstrap=200)``: every figure's interval without the state fit.

Printed: min and median seconds over ROUNDS runs, the ratio peer / qbhw (medians), and how far apart the two
maximum-likelihood states are (trace distance, log-likelihood difference). The correctness of the effects against
``qutip.displace`` / ``qutip.wigner`` is a test (tests/test_cavity_tomography.py), not timed here.
Run: .venv/bin/python benchmarks/bench_cavity_tomography.py [--quick]
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import qutip
import scipy
import scipy.optimize as sopt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import print_table

import qbhw
from qbhw._threads import limit_threads, thread_report
from qbhw.tomography import CavityMeasurement, displacement_grid, estimate_cavity, sample_cavity
from qbhw.tomography.cavity import cavity_model, fit_cavity_mle

MEAS = CavityMeasurement(p1_given_0=0.02, p0_given_1=0.05, parity_contrast=0.95, assumption="benchmark")


def scipy_mle(effects: np.ndarray, counts: np.ndarray, rho0: np.ndarray) -> np.ndarray:
    """Plain Cholesky-parametrised MLE with L-BFGS-B (the peer)."""
    d = rho0.shape[0]
    n0, n1 = counts[:, 0].astype(float), counts[:, 1].astype(float)
    low = np.tril_indices(d)
    t0 = np.linalg.cholesky(rho0 + 1e-6 * np.eye(d))

    def unpack(v: np.ndarray) -> np.ndarray:
        t = np.zeros((d, d), dtype=complex)
        half = len(low[0])
        t[low] = v[:half] + 1j * v[half:]
        return t

    def nll(v: np.ndarray) -> tuple[float, np.ndarray]:
        t = unpack(v)
        a = t @ t.conj().T
        tr = float(np.real(np.trace(a)))
        p = np.clip(np.real(np.einsum("sij,ji->s", effects, a)) / tr, 1e-12, 1 - 1e-12)
        f = -float(n0 @ np.log(p) + n1 @ np.log1p(-p))
        w = -(n0 / p - n1 / (1 - p))  # d f / d p
        g_rho = np.tensordot(w, effects, axes=(0, 0))  # d f / d rho (Hermitian)
        g_a = (g_rho - float(np.real(np.einsum("ij,ji->", g_rho, a))) / tr * np.eye(d)) / tr
        g_t = 2.0 * g_a @ t
        return f, np.concatenate([g_t[low].real, g_t[low].imag])

    v0 = np.concatenate([t0[low].real, t0[low].imag])
    res = sopt.minimize(nll, v0, jac=True, method="L-BFGS-B", options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-9})
    t = unpack(res.x)
    a = t @ t.conj().T
    return a / np.trace(a)


def loglik(effects: np.ndarray, counts: np.ndarray, rho: np.ndarray) -> float:
    p = np.clip(np.real(np.einsum("sij,ji->s", effects, rho)), 1e-300, 1 - 1e-16)
    return float(counts[:, 0] @ np.log(p) + counts[:, 1] @ np.log1p(-p))


def timed(fn, rounds):  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def main() -> None:
    with limit_threads():
        run("--quick" in sys.argv)


def run(quick: bool) -> None:
    rounds = 1 if quick else 3
    print(thread_report())
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"qutip {qutip.__version__}, qbhw {qbhw.__version__}; {rounds} rounds"
    )
    rows = []
    for d in (8,) if quick else (8, 16):
        rho = qutip.coherent_dm(d, 1.0 + 0.5j, method="analytic").full()
        rho /= np.trace(rho)
        grid = displacement_grid(d)
        data = sample_cavity(rho, "parity", grid, 1000, seed=d, measurement=MEAS)
        model = cavity_model(data, d, MEAS)
        counts = np.asarray(data.counts)
        start = np.asarray(np.clip(model.density(model.estimate(counts)), None, None))
        w, v = np.linalg.eigh(start)
        w = np.clip(w, 1e-3 / d, None)
        start = (v * (w / w.sum())) @ v.conj().T
        t_q, fit_q = timed(lambda m=model, c=counts: fit_cavity_mle(m, c), rounds)
        t_s, fit_s = timed(lambda m=model, c=counts, s=start: scipy_mle(m.effects, c, s), rounds)
        t_i, _ = timed(
            lambda dd=data, d=d: estimate_cavity(dd, cutoff=d, measurement=MEAS, bootstrap=200, seed=1, mle=False),
            rounds,
        )
        dist = 0.5 * float(np.abs(np.linalg.eigvalsh(fit_q - fit_s)).sum())
        dll = loglik(model.effects, counts, fit_q) - loglik(model.effects, counts, fit_s)
        rows.append(
            [
                d,
                grid.size,
                min(t_q),
                statistics.median(t_q),
                min(t_s),
                statistics.median(t_s),
                statistics.median(t_s) / statistics.median(t_q),
                min(t_i),
                statistics.median(t_i),
                f"{dist:.1e}",
                f"{dll:+.2e}",
            ]
        )
    print_table(
        "cavity tomography: MLE fit (qbhw R rho R vs SciPy L-BFGS-B Cholesky) and the intervals (200 bootstrap)",
        [
            "D",
            "settings",
            "qbhw MLE min s",
            "median s",
            "SciPy MLE min s",
            "median s",
            "ratio SciPy/qbhw",
            "interval min s",
            "median s",
            "trace dist",
            "logL qbhw - SciPy",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
