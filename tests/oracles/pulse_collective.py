"""N transmons and one resonator (docs/physics.md 6.3), built from QuTiP primitives only (``destroy``, ``qeye``,
``tensor``, ``thermal_dm``, ``steadystate``, ``mesolve``, ``ptrace``), never from qbhw's operators.

Order: transmon 0, ..., transmon N-1, resonator (big-endian, as ``qutip.tensor``); each transmon in the Fock basis
of ``qutip.destroy(levels)`` (index 0 = |g>, 1 = |e>, 2 = |f>). Rotating frame at the resonator's frequency, all
modes resonant, rotating-wave approximation; rates and frequencies in rad/ns, times in ns:

    H = sum_i (alpha/2) b_i^dag^2 b_i^2 + g sum_i (a^dag b_i + a b_i^dag),
    c_ops: sqrt(kappa (n_th + 1)) a, sqrt(kappa n_th) a^dag, and per transmon sqrt(down) b_i, sqrt(up) b_i^dag,
           sqrt(2 dephasing) b_i^dag b_i.
"""

from __future__ import annotations

import math

import numpy as np
import qutip


def transmons_and_resonator(
    n: int,
    levels: int,
    cutoff: int,
    *,
    g: float,
    kappa: float,
    n_th: float,
    alpha: float = 0.0,
    down: float = 0.0,
    up: float = 0.0,
    dephasing: float = 0.0,
) -> tuple[qutip.Qobj, list[qutip.Qobj]]:
    """(H, c_ops) of the module docstring."""
    eyes = [qutip.qeye(levels)] * n + [qutip.qeye(cutoff)]

    def on(op: qutip.Qobj, site: int) -> qutip.Qobj:
        factors = list(eyes)
        factors[site] = op
        return qutip.tensor(factors)

    a = on(qutip.destroy(cutoff), n)
    bs = [on(qutip.destroy(levels), i) for i in range(n)]
    h = 0 * a.dag() * a
    for b in bs:
        h = h + 0.5 * alpha * b.dag() * b.dag() * b * b + g * (a.dag() * b + a * b.dag())
    c_ops = [math.sqrt(kappa * (n_th + 1.0)) * a]
    if n_th > 0:
        c_ops.append(math.sqrt(kappa * n_th) * a.dag())
    for b in bs:
        if down > 0:
            c_ops.append(math.sqrt(down) * b)
        if up > 0:
            c_ops.append(math.sqrt(up) * b.dag())
        if dephasing > 0:
            c_ops.append(math.sqrt(2.0 * dephasing) * b.dag() * b)
    return h, c_ops


def initial_state(n: int, levels: int, cutoff: int, n_th: float) -> qutip.Qobj:
    """|g...g><g...g| (x) the resonator's truncated thermal state (``qutip.thermal_dm``)."""
    ground = qutip.tensor([qutip.fock_dm(levels, 0)] * n)
    return qutip.tensor(ground, qutip.thermal_dm(cutoff, n_th))


def transmons_state(rho: qutip.Qobj, n: int) -> np.ndarray:
    """The transmons' reduced state (resonator traced out) as an array."""
    return rho.ptrace(list(range(n))).full()


def steady_transmons(n: int, levels: int, cutoff: int, **rates: float) -> np.ndarray:
    """The transmons' part of ``qutip.steadystate`` (valid only where the steady state is unique)."""
    h, c_ops = transmons_and_resonator(n, levels, cutoff, **rates)
    return transmons_state(qutip.steadystate(h, c_ops), n)


def evolve_transmons(n: int, levels: int, cutoff: int, times_ns: list[float], **rates: float) -> list[np.ndarray]:
    """The transmons' states at ``times_ns`` (ascending) from ``initial_state``, with ``qutip.mesolve``."""
    h, c_ops = transmons_and_resonator(n, levels, cutoff, **rates)
    rho0 = initial_state(n, levels, cutoff, rates["n_th"])
    tlist = [0.0, *times_ns]
    options = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**7, "store_states": True}
    result = qutip.mesolve(h, rho0, tlist, c_ops=c_ops, options=options)
    return [transmons_state(s, n) for s in result.states[1:]]


def qubit_block(rho: np.ndarray, n: int, levels: int) -> np.ndarray:
    """The block of an L^N state on {g, e}^N (big-endian), not renormalised."""
    idx = [i for i in range(levels**n) if all(d < 2 for d in np.unravel_index(i, (levels,) * n))]
    return rho[np.ix_(idx, idx)]
