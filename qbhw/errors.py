"""Exceptions that the command line turns into one-line messages (exit status 2)."""

from __future__ import annotations


class QbhwError(Exception):
    """Base class of every error qbhw raises on purpose."""


class ParameterError(QbhwError, ValueError):
    """A parameter is out of its allowed range.

    ``parameter`` is the field name (``omega_b``); the command line maps it to its flag (``--omega-b``).
    ``allowed`` says in words what would have been accepted.
    """

    def __init__(self, parameter: str, allowed: str, got: object) -> None:
        self.parameter = parameter
        self.allowed = allowed
        self.got = got
        super().__init__(f"{parameter} must be {allowed} (got {got!r})")


class NonUniqueSteadyStateError(QbhwError, ArithmeticError):
    """The Liouvillian has more than one stationary state; a null vector picked at random would be wrong."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        super().__init__(
            f"the steady state is not unique: the stationary space has dimension {dimension}; "
            "evolve from an initial state or project onto the conserved quantities instead"
        )
