"""The QuTiP 5 engine: ``QobjEvo`` + the master-equation solver (``MESolver``, what ``qutip.mesolve`` runs).

The only pulse module that imports qutip. Operators are CSR (a dense ``Qobj`` made the same run ~100x slower).
A batch of m operators is integrated at once as one rectangular superoperator state (column-stacked vectors as
columns, dims [[dims, dims], [[m], [1]]]), so one ODE run gives the map on all inputs. Each span of the schedule
is a separate run, so that no step straddles a jump of the piecewise-constant controls.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qbhw.pulse.model import PulseModel, Schedule


def propagate(
    model: PulseModel,
    schedule: Schedule,
    states: np.ndarray,
    *,
    frame: str = "rotating",
    rtol: float = 1e-9,
    atol: float | None = None,
    method: str = "dop853",
) -> np.ndarray:
    """Evolve ``states`` (m, n, n) through ``schedule``; solved in ``frame`` ("rotating" or "lab"), returned in the
    model's rotating frame."""
    import qutip

    x = np.array(states, dtype=complex)
    single = x.ndim == 2
    if single:
        x = x[None]
    m, n = x.shape[0], model.dim
    dims = list(model.dims)
    lab = frame == "lab"

    def qobj(a: np.ndarray) -> Any:
        return qutip.Qobj(a, dims=[dims, dims]).to("CSR")

    h0 = model.static + (np.diag(model.frame) if lab else 0.0)
    current = {"span": 0}
    terms: list[Any] = [qobj(h0)]
    for track in schedule.tracks:
        op = model.operator(track.operator)
        w = track.carrier + (model.frame_shift(track.operator) if lab else 0.0)
        vals = track.values

        def coeff(t: float, vals: np.ndarray = vals, w: float = w) -> complex:
            return complex(vals[current["span"]] * np.exp(-1j * w * t))

        full = model.full(track.operator)
        if op.hermitian:
            terms.append([qobj(full), lambda t, c=coeff: c(t).real])
        else:
            terms.append([qobj(full), coeff])
            terms.append([qobj(full.conj().T), lambda t, c=coeff: np.conj(c(t))])
    h = qutip.QobjEvo(terms)
    c_ops = [qobj(np.sqrt(rate) * a) for rate, a in model.full_jumps()]
    options = {
        "method": method,
        "rtol": rtol,
        "atol": rtol * 1e-2 if atol is None else atol,
        "nsteps": 10**8,
        "store_states": False,
        "store_final_state": True,
        "progress_bar": False,
    }
    solver = qutip.MESolver(h, c_ops=c_ops, options=options)
    cols = np.stack([xi.reshape(-1, order="F") for xi in x], axis=1)
    state = qutip.Qobj(cols, dims=[[dims, dims], [[m], [1]]], superrep="super")
    edges = schedule.edges
    for k in range(schedule.spans):
        current["span"] = k
        result = solver.run(state, [float(edges[k]), float(edges[k + 1])])
        state = result.final_state
    cols = state.full()
    out = np.stack([cols[:, j].reshape(n, n, order="F") for j in range(m)])
    if lab:
        ph = np.exp(1j * model.frame * schedule.duration)
        out = ph[None, :, None] * out * ph.conj()[None, None, :]
    return out[0] if single else out
