"""Exceptions that the command line turns into one-line messages (exit status 2)."""

from __future__ import annotations

import os


def _restore(cls: type[QbhwError], args: tuple[object, ...], state: dict[str, object]) -> QbhwError:
    """Unpickle a QbhwError without calling its ``__init__`` (whose signature differs per class)."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class QbhwError(Exception):
    """Base class of every error qbhw raises on purpose. Picklable with all its attributes, so that an error
    raised in a sweep worker process reaches the command line intact."""

    def __reduce__(self) -> tuple[object, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


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


class CalibrationError(QbhwError, ValueError):
    """A calibration is malformed or unphysical, or a device is unknown.

    ``field`` is the path inside the calibration (``qubits[3].t2_us``, empty for the whole file), ``file`` the
    file it came from (None when built in Python), ``reason`` the rule that failed.
    """

    def __init__(self, reason: str, *, field: str = "", file: str | None = None) -> None:
        self.reason = reason
        self.field = field
        self.file = file
        text = f"{field} {reason}" if field else reason
        super().__init__(f"{file}: {text}" if file else text)

    def within(self, prefix: str) -> CalibrationError:
        """The same error with ``prefix`` prepended to its field path (``qubits[3]`` + ``t1_us``)."""
        return CalibrationError(self.reason, field=_join_field(prefix, self.field), file=self.file)

    def in_file(self, file: str | os.PathLike[str]) -> CalibrationError:
        return CalibrationError(self.reason, field=self.field, file=str(file))


def _join_field(prefix: str, name: str) -> str:
    """``qubits[3]`` + ``t1_us`` -> ``qubits[3].t1_us``; an index joins without a dot."""
    if not prefix:
        return name
    if not name:
        return prefix
    return f"{prefix}{name}" if name.startswith("[") else f"{prefix}.{name}"


class MissingDependencyError(QbhwError, ImportError):
    """An optional dependency is not installed; the message gives the install command."""


class CutoffError(ParameterError):
    """The top Fock level D-1 held more than ``cutoff_tolerance``, or (with ``reference=(D2, change)``) raising the
    cutoff to D2 changed a reported figure by more than it: the truncated result would be wrong."""

    def __init__(
        self,
        cutoff: int,
        tolerance: float,
        population: float,
        collision: int,
        *,
        reference: tuple[int, float] | None = None,
    ) -> None:
        self.top_level_population = population
        self.collision = collision
        self.reference = reference
        if reference is None:
            allowed = (
                f"large enough that the top Fock level {cutoff - 1} holds at most {tolerance:.3g} of the population "
                f"(it held {population:.3g} after collision {collision}); raise --cutoff"
            )
        else:
            allowed = (
                f"large enough that the results do not depend on it: raising it to {reference[0]} changes a figure "
                f"by {reference[1]:.3g}, more than {tolerance:.3g}; raise --cutoff"
            )
        super().__init__("cutoff", allowed, cutoff)


class NonFiniteResultError(QbhwError, ArithmeticError):
    """A computed result holds NaN or an infinity (``where``: the JSON path of the first one): an error, never a
    table of NaN."""

    def __init__(self, where: str, value: float) -> None:
        self.where = where
        self.value = value
        super().__init__(f"the result {where} is {value!r}")
