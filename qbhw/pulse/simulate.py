"""One model, three engines: qbhw's exact propagators, QuTiP and qiskit-dynamics (docs/physics.md section 6).

``propagate(model, schedule, states, engine=...)`` evolves a batch of operators (shape (m, n, n)) through a
schedule; every engine returns states in the model's rotating frame. ``engine="auto"`` runs the exact engine when
the schedule is piecewise constant in some frame (``exact_supported``) and QuTiP otherwise. Asking for
``dynamics`` where qiskit-dynamics is not installed raises MissingDependencyError with the install command.
"""

from __future__ import annotations

import numpy as np

from qbhw import _validate
from qbhw.errors import MissingDependencyError, ParameterError
from qbhw.pulse import _engine_dynamics, _exact
from qbhw.pulse.model import PulseModel, Schedule

ENGINES = ("auto", "exact", "qutip", "dynamics")
FRAMES = ("rotating", "lab")


def dynamics_available() -> bool:
    """Whether qiskit-dynamics (the pulse environment) can be imported here."""
    return _engine_dynamics.available()


def check_engine(engine: str) -> str:
    """``engine`` if it is known and installed; ParameterError or MissingDependencyError (one line) otherwise."""
    _validate.one_of("engine", engine, ENGINES)
    if engine == "dynamics" and not dynamics_available():
        raise MissingDependencyError(_engine_dynamics.INSTALL_HINT)
    return engine


def exact_supported(model: PulseModel, schedule: Schedule) -> str | None:
    """None if the exact engine can run this schedule, else why not."""
    return _exact.check(model, schedule)


def resolve_engine(engine: str, model: PulseModel, schedule: Schedule, frame: str = "rotating") -> str:
    """The engine that ``engine`` means for this schedule ("auto" -> "exact" or "qutip")."""
    check_engine(engine)
    _validate.one_of("frame", frame, FRAMES)
    if engine == "auto":
        return "exact" if frame == "rotating" and _exact.check(model, schedule) is None else "qutip"
    if engine == "exact":
        if frame != "rotating":
            raise ParameterError("frame", "'rotating' for the exact engine (it solves in the resonator's frame)", frame)
        reason = _exact.check(model, schedule)
        if reason is not None:
            raise ParameterError("engine", f"qutip or dynamics for this schedule ({reason})", engine)
    return engine


def propagate(
    model: PulseModel,
    schedule: Schedule,
    states: np.ndarray,
    *,
    engine: str = "auto",
    frame: str = "rotating",
    rtol: float = 1e-9,
) -> np.ndarray:
    """Evolve a batch of operators (m, n, n) (or one (n, n)) through ``schedule`` with ``engine``.

    ``frame`` is the frame the ODE engines integrate in (results are always returned in the rotating frame);
    ``rtol`` their relative tolerance (absolute tolerance rtol/100). The exact engine has no tolerance.
    """
    _validate.positive("rtol", rtol)
    used = resolve_engine(engine, model, schedule, frame)
    if used == "exact":
        return _exact.propagate(model, schedule, states)
    if used == "qutip":
        from qbhw.pulse import _engine_qutip

        return _engine_qutip.propagate(model, schedule, states, frame=frame, rtol=rtol)
    return _engine_dynamics.propagate(model, schedule, states, frame=frame, rtol=rtol)
