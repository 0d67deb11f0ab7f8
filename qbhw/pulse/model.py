"""The pulse-level model in qbhw's own types: subsystems, static Hamiltonian, control operators, dissipators.

Units: ns and rad/ns (hbar = 1). Subsystems are oscillator ladders in big-endian order (``dims[0]`` is the
leftmost Kronecker factor); for the cavity-QED device, (transmon with L levels, resonator with Fock cutoff D).

Frames (docs/physics.md section 6.1). The model is written in the frame rotating at ``frame_frequencies`` w_s on
each subsystem, F = sum_s w_s n_s; for the device, w = omega_r on both modes, the resonator's frame. The laboratory
Hamiltonian is H_lab(t) = F + H(t) with

    H(t) = static + sum_tracks term(t),
    term(t) = Re[v(t) e^{-i w t}] O        for a Hermitian control operator O (flux detuning, coupling switch),
    term(t) = v(t) e^{-i w t} O + h.c.     for a non-Hermitian one (a drive on b^dag),

v(t) piecewise constant on the schedule's spans and w the track's carrier in this frame. States of every engine
are returned in this frame. With ``rwa=False`` the model also carries the counter-rotating coupling g(ab + h.c.)
(static in the laboratory frame, a carrier 2 omega_r here) and a drive's counter-rotating part.

Dissipators are ``Jump(label, site, rate, operator)``: rate * D[operator] on one subsystem,
D[A]rho = A rho A^dag - (1/2){A^dag A, rho}; the label names the imperfection it belongs to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from qbhw import _validate
from qbhw._arrays import readonly as _readonly
from qbhw.errors import ParameterError

# ------------------------------------------------------------------------------------------------ the model


def lowering(d: int) -> np.ndarray:
    """sum_n sqrt(n) |n-1><n| on levels 0 ... d-1."""
    return np.diag(np.sqrt(np.arange(1, d, dtype=float)), k=1).astype(complex)


def embed(op: np.ndarray, site: int, dims: Sequence[int]) -> np.ndarray:
    """op on subsystem ``site``, identity elsewhere (big-endian)."""
    out = np.ones((1, 1), dtype=complex)
    for k, d in enumerate(dims):
        out = np.kron(out, op if k == site else np.eye(d))
    return out


@dataclass(frozen=True, eq=False)
class Operator:
    """A named control operator. ``site`` is the subsystem it acts on (``matrix`` then has that subsystem's
    dimension) or None for an operator on several subsystems (``matrix`` on the full space)."""

    name: str
    matrix: np.ndarray
    site: int | None
    hermitian: bool


@dataclass(frozen=True, eq=False)
class Jump:
    """``rate`` * D[``operator``] on subsystem ``site`` (rate in 1/ns); ``label`` names its imperfection."""

    label: str
    site: int
    rate: float
    operator: np.ndarray


@dataclass(frozen=True, eq=False)
class PulseModel:
    """Subsystems, static Hamiltonian (per subsystem), control operators and dissipators, in the rotating frame."""

    dims: tuple[int, ...]
    labels: tuple[str, ...]
    local_static: tuple[np.ndarray, ...]
    operators: tuple[Operator, ...]
    jumps: tuple[Jump, ...]
    frame_frequencies: tuple[float, ...]
    rwa: bool = True

    def __post_init__(self) -> None:
        if len(self.local_static) != len(self.dims) or len(self.frame_frequencies) != len(self.dims):
            raise ValueError("one static Hamiltonian and one frame frequency per subsystem")
        for j in self.jumps:
            if j.rate < 0 or not math.isfinite(j.rate):
                raise ParameterError(j.label, "a rate >= 0", j.rate)

    @property
    def dim(self) -> int:
        return int(np.prod(self.dims))

    def operator(self, name: str) -> Operator:
        for op in self.operators:
            if op.name == name:
                return op
        raise KeyError(f"the model has no control operator {name!r}")

    @cached_property
    def _full(self) -> dict[str, np.ndarray]:
        return {
            op.name: (op.matrix if op.site is None else embed(op.matrix, op.site, self.dims)) for op in self.operators
        }

    def full(self, name: str) -> np.ndarray:
        """A control operator on the full space."""
        return self._full[name]

    @cached_property
    def static(self) -> np.ndarray:
        out = np.zeros((self.dim, self.dim), dtype=complex)
        for s, h in enumerate(self.local_static):
            out += embed(h, s, self.dims)
        return out

    @cached_property
    def numbers(self) -> tuple[np.ndarray, ...]:
        """diag(n_s) on the full space, per subsystem."""
        return tuple(
            np.real(np.diag(embed(np.diag(np.arange(d, dtype=complex)), s, self.dims))) for s, d in enumerate(self.dims)
        )

    @cached_property
    def number(self) -> np.ndarray:
        """diag(N), N = sum_s n_s (conserved by the rotating-wave couplings)."""
        return np.sum(self.numbers, axis=0)

    @cached_property
    def frame(self) -> np.ndarray:
        """diag(F), F = sum_s w_s n_s: H_lab = F + H."""
        return np.sum([w * n for w, n in zip(self.frame_frequencies, self.numbers, strict=True)], axis=0)

    def full_jumps(self) -> list[tuple[float, np.ndarray]]:
        return [(j.rate, embed(j.operator, j.site, self.dims)) for j in self.jumps if j.rate > 0]

    def frame_shift(self, name: str) -> float:
        """lambda with [F, O] = lambda O (O's carrier in the laboratory frame is w + lambda)."""
        o = self.full(name)
        f = self.frame
        rows, cols = np.nonzero(np.abs(o) > 0)
        if rows.size == 0:
            return 0.0
        shifts = f[rows] - f[cols]
        if np.ptp(shifts) > 1e-9 * max(1.0, float(np.max(np.abs(f)))):
            raise ValueError(f"control operator {name!r} is not an eigenoperator of the frame")
        return float(shifts[0])

    def number_shift(self, name: str) -> float:
        """mu with [N, O] = mu O (0 for excitation-conserving operators, +1 for b^dag), or NaN if none exists."""
        o = self.full(name)
        rows, cols = np.nonzero(np.abs(o) > 0)
        if rows.size == 0:
            return 0.0
        shifts = self.number[rows] - self.number[cols]
        return float(shifts[0]) if np.ptp(shifts) == 0 else math.nan


# --------------------------------------------------------------------------------------------- schedules


@dataclass(frozen=True, eq=False)
class Track:
    """Values of one control operator, one per span (complex; rad/ns for a Hamiltonian term, or a dimensionless
    factor for an operator that already carries its strength, such as the coupling); ``carrier`` in rad/ns."""

    operator: str
    values: np.ndarray
    carrier: float = 0.0

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=complex).reshape(-1)
        if not np.all(np.isfinite(v)):
            raise ParameterError("values", "finite control values", self.operator)
        object.__setattr__(self, "values", _readonly(v))
        object.__setattr__(self, "carrier", _validate.finite("carrier", self.carrier))


@dataclass(frozen=True, eq=False)
class Schedule:
    """Piecewise-constant controls on spans [edges[k], edges[k+1]] (ns, edges[0] = 0, strictly increasing).

    Carrier phases are referenced to this schedule's own t = 0.
    """

    edges: np.ndarray
    tracks: tuple[Track, ...] = field(default=())

    def __post_init__(self) -> None:
        e = np.asarray(self.edges, dtype=float).reshape(-1)
        if e.size < 2 or e[0] != 0.0 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
            raise ParameterError("duration_ns", "spans of positive duration starting at t = 0", list(e[:4]))
        object.__setattr__(self, "edges", _readonly(e))
        tracks = tuple(self.tracks)
        for t in tracks:
            if t.values.size != e.size - 1:
                raise ValueError(f"track {t.operator!r} has {t.values.size} values for {e.size - 1} spans")
        object.__setattr__(self, "tracks", tracks)

    @property
    def duration(self) -> float:
        return float(self.edges[-1])

    @property
    def spans(self) -> int:
        return int(self.edges.size - 1)

    def values_at(self, span: int) -> dict[str, tuple[complex, float]]:
        """{operator: (value, carrier)} of the tracks that are non-zero on ``span``."""
        out: dict[str, tuple[complex, float]] = {}
        for t in self.tracks:
            v = complex(t.values[span])
            if v != 0:
                if t.operator in out:
                    raise ValueError(f"two tracks on operator {t.operator!r} are active together")
                out[t.operator] = (v, t.carrier)
        return out

    @staticmethod
    def concatenate(parts: Sequence[Schedule]) -> Schedule:
        """One schedule running ``parts`` back to back (a track missing from a part is 0 there; carriers must agree)."""
        names: dict[str, float] = {}
        for p in parts:
            for t in p.tracks:
                if t.operator in names and names[t.operator] != t.carrier:
                    raise ValueError(f"track {t.operator!r} changes carrier between parts")
                names[t.operator] = t.carrier
        edges = [0.0]
        values: dict[str, list[np.ndarray]] = {n: [] for n in names}
        for p in parts:
            offset = edges[-1]
            edges.extend((offset + p.edges[1:]).tolist())
            present = {t.operator: t for t in p.tracks}
            for n, c in names.items():
                if n in present:
                    v = present[n].values
                    if c != 0.0:  # carrier phases are referenced to the part's own start
                        v = v * np.exp(1j * c * offset)
                    values[n].append(np.asarray(v))
                else:
                    values[n].append(np.zeros(p.spans, dtype=complex))
        return Schedule(np.array(edges), tuple(Track(n, np.concatenate(values[n]), names[n]) for n in names))


def constant_schedule(duration_ns: float, values: Mapping[str, complex]) -> Schedule:
    """One span of ``duration_ns`` with constant real/complex values (no carriers)."""
    return Schedule(np.array([0.0, float(duration_ns)]), tuple(Track(k, np.array([v])) for k, v in values.items()))
