"""The qiskit-dynamics 0.6.0 engine: its ``Solver`` with ``Signal`` objects (no ``qiskit.pulse`` schedules).

The only module that imports qiskit_dynamics, which exists only in the pulse environment (it pins qiskit 1.3.0).
Traps: a real ``y0`` is integrated in real arithmetic without a warning, so states are always passed complex.
Frames, as measured here (qiskit-dynamics 0.6.0, vectorised Lindblad model, array or DensityMatrix ``y0``): with
``rotating_frame=F`` the solver takes ``y0`` as the state in that frame at ``t_span[0]`` and returns the state in
that frame at ``t_span[1]`` (agreement 2e-13 with exp(iFt) U rho U^dag exp(-iFt)); the laboratory-frame state
(0.24 away in the test) is NOT what it returns. The laboratory Hamiltonian F + H is handed over with
``rotating_frame=F`` for frame="rotating" (no conversion needed), and without a frame for frame="lab" (converted
to the rotating frame at the end). The Lindblad equation is vectorised (column-stacked) with sparse arrays; a batch of m
states is one (n^2, m) initial condition. Each span is a separate solve, so no step straddles a control jump.
"""

from __future__ import annotations

import numpy as np

from qbhw.errors import MissingDependencyError
from qbhw.pulse.model import PulseModel, Schedule

INSTALL_HINT = (
    "the dynamics engine needs qiskit-dynamics 0.6.0, which pins qiskit 1.3.0 and is installed only in the pulse "
    "environment: make env-pulse, or pip install 'qbhw[pulse]' in a separate environment"
)


def available() -> bool:
    try:
        import qiskit_dynamics  # noqa: F401
    except Exception:
        return False
    return True


def propagate(
    model: PulseModel,
    schedule: Schedule,
    states: np.ndarray,
    *,
    frame: str = "rotating",
    rtol: float = 1e-9,
    atol: float | None = None,
    method: str = "DOP853",
) -> np.ndarray:
    """Evolve ``states`` (m, n, n) through ``schedule``; solved in ``frame``, returned in the model's rotating frame."""
    try:
        from qiskit_dynamics import Signal, Solver
    except Exception as e:  # ImportError, or qiskit.pulse missing on qiskit 2.x
        raise MissingDependencyError(f"{INSTALL_HINT} ({type(e).__name__}: {e})") from None

    x = np.array(states, dtype=complex)  # complex always: a real y0 is integrated in real arithmetic
    single = x.ndim == 2
    if single:
        x = x[None]
    m, n = x.shape[0], model.dim

    operators: list[np.ndarray] = []
    plan: list[tuple[np.ndarray, float, complex]] = []  # (values, lab carrier, envelope factor) per operator
    for track in schedule.tracks:
        op = model.operator(track.operator)
        full = model.full(track.operator)
        w_lab = track.carrier + model.frame_shift(track.operator)
        if op.hermitian:
            operators.append(full)
            plan.append((track.values, w_lab, 1.0))
        else:  # u O + u* O^dag = Re(u) (O + O^dag) + Im(u) i(O - O^dag), Im(u) = Re(-i u)
            operators.append(full + full.conj().T)
            plan.append((track.values, w_lab, 1.0))
            operators.append(1j * (full - full.conj().T))
            plan.append((track.values, w_lab, -1j))
    dissipators = [np.sqrt(rate) * a for rate, a in model.full_jumps()]
    solver = Solver(
        static_hamiltonian=model.static + np.diag(model.frame),
        hamiltonian_operators=operators if operators else None,
        static_dissipators=dissipators if dissipators else None,
        rotating_frame=model.frame if frame == "rotating" else None,
        array_library="scipy_sparse",
        vectorized=True,
    )
    y = np.stack([xi.reshape(-1, order="F") for xi in x], axis=1).astype(complex)
    edges = schedule.edges
    for k in range(schedule.spans):
        signals = [
            Signal(envelope=complex(factor * values[k]), carrier_freq=-w_lab / (2.0 * np.pi))
            for values, w_lab, factor in plan
        ]
        result = solver.solve(
            t_span=[float(edges[k]), float(edges[k + 1])],
            y0=y,
            signals=signals if signals else None,
            method=method,
            rtol=rtol,
            atol=rtol * 1e-2 if atol is None else atol,
        )
        y = np.asarray(result.y[-1], dtype=complex)  # in the solver's frame at edges[k + 1]
    out = np.stack([y[:, j].reshape(n, n, order="F") for j in range(m)])
    if frame == "lab":
        ph = np.exp(1j * model.frame * schedule.duration)
        out = ph[None, :, None] * out * ph.conj()[None, None, :]
    return out[0] if single else out
