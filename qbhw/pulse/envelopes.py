"""Pulse envelopes and their piecewise-constant sampling (control electronics output one value per sample).

Envelopes are dimensionless shapes of time t in ns, t in [0, duration_ns]; the pulse builder scales them.

    Gaussian   g(t) = (exp(-(t - T/2)^2 / (2 sigma^2)) - e0) / (1 - e0), lifted so that g(0) = g(T) = 0
    Drag       g(t) - i beta g'(t) / alpha: the Gaussian plus a derivative quadrature that cancels the leading
               leakage to |f> of a transmon with anharmonicity alpha (Motzoi et al., PRL 103, 110501 (2009));
               in qbhw's drive convention H = (A/2)(i x(t) b^dag + h.c.) the real part rotates about y
    FlatTop    0 -> 1 -> 0 with cosine ramps of rise_ns (sin^2(pi t / (2 rise))) and a flat top of flat_ns
    Square     1 for duration_ns

``sample(envelope, sample_ns)`` returns span edges and one value per span, taken at the span's midpoint; the
flat top of a FlatTop is one span of its exact length (so a calibrated flat top need not be a whole number of
samples), its ramps are sampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError

ENVELOPES = ("gaussian", "drag", "flat_top", "square")


def _duration(name: str, value: float) -> float:
    return _validate.nonnegative(name, value)


@dataclass(frozen=True)
class Square:
    duration_ns: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "duration_ns", _duration("duration_ns", self.duration_ns))

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        return np.where((t >= 0) & (t <= self.duration_ns), 1.0, 0.0).astype(complex)


@dataclass(frozen=True)
class Gaussian:
    """Lifted Gaussian of total length ``duration_ns`` and width ``sigma_ns`` (default duration/4)."""

    duration_ns: float
    sigma_ns: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "duration_ns", _validate.positive("duration_ns", self.duration_ns))
        sigma = self.duration_ns / 4.0 if self.sigma_ns is None else self.sigma_ns
        object.__setattr__(self, "sigma_ns", _validate.positive("sigma_ns", sigma))

    @property
    def sigma(self) -> float:
        return float(self.sigma_ns)  # type: ignore[arg-type]

    def real_shape(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        half = 0.5 * self.duration_ns
        e0 = math.exp(-(half**2) / (2.0 * self.sigma**2))
        g = (np.exp(-((t - half) ** 2) / (2.0 * self.sigma**2)) - e0) / (1.0 - e0)
        return np.where((t >= 0) & (t <= self.duration_ns), g, 0.0)

    def derivative(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        half = 0.5 * self.duration_ns
        e0 = math.exp(-(half**2) / (2.0 * self.sigma**2))
        d = -(t - half) / self.sigma**2 * np.exp(-((t - half) ** 2) / (2.0 * self.sigma**2)) / (1.0 - e0)
        return np.where((t >= 0) & (t <= self.duration_ns), d, 0.0)

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return self.real_shape(t).astype(complex)


@dataclass(frozen=True)
class Drag:
    """Gaussian with a derivative quadrature: x(t) = g(t) - i beta g'(t) / alpha, alpha = 2 pi anharmonicity_ghz."""

    duration_ns: float
    anharmonicity_ghz: float
    sigma_ns: float | None = None
    beta: float = 1.0

    def __post_init__(self) -> None:
        g = Gaussian(self.duration_ns, self.sigma_ns)
        object.__setattr__(self, "duration_ns", g.duration_ns)
        object.__setattr__(self, "sigma_ns", g.sigma_ns)
        alpha = _validate.finite("anharmonicity_ghz", self.anharmonicity_ghz)
        if alpha == 0.0:
            raise ParameterError("anharmonicity_ghz", "non-zero for a DRAG pulse", alpha)
        object.__setattr__(self, "beta", _validate.finite("beta", self.beta))

    def __call__(self, t: np.ndarray) -> np.ndarray:
        g = Gaussian(self.duration_ns, self.sigma_ns)
        alpha = 2.0 * math.pi * self.anharmonicity_ghz
        return g.real_shape(t) - 1j * self.beta * g.derivative(t) / alpha


@dataclass(frozen=True)
class FlatTop:
    """0 -> 1 in ``rise_ns`` (cosine ramp), 1 for ``flat_ns``, 1 -> 0 in ``rise_ns``; rise 0 gives a square pulse."""

    flat_ns: float
    rise_ns: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "flat_ns", _duration("flat_ns", self.flat_ns))
        object.__setattr__(self, "rise_ns", _duration("rise_ns", self.rise_ns))

    @property
    def duration_ns(self) -> float:
        return self.flat_ns + 2.0 * self.rise_ns

    def ramp(self, t: np.ndarray) -> np.ndarray:
        """The rising edge on [0, rise_ns]."""
        t = np.asarray(t, dtype=float)
        if self.rise_ns == 0.0:
            return np.ones_like(t)
        return np.sin(0.5 * math.pi * np.clip(t / self.rise_ns, 0.0, 1.0)) ** 2

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        r, f = self.rise_ns, self.flat_ns
        out = np.where(t < r, self.ramp(t), np.where(t <= r + f, 1.0, self.ramp(2 * r + f - t)))
        return np.where((t >= 0) & (t <= self.duration_ns), out, 0.0).astype(complex)


Envelope = Square | Gaussian | Drag | FlatTop


def envelope(name: str, **parameters: float) -> Envelope:
    """Build an envelope by name: ``gaussian``, ``drag``, ``flat_top`` or ``square``."""
    classes = {"gaussian": Gaussian, "drag": Drag, "flat_top": FlatTop, "square": Square}
    if name not in classes:
        raise ParameterError("envelope", "one of " + ", ".join(ENVELOPES), name)
    try:
        return classes[name](**parameters)
    except TypeError as e:
        raise ParameterError("envelope", f"the parameters of a {name} envelope", str(e)) from None


def uniform_edges(start: float, stop: float, sample_ns: float) -> np.ndarray:
    """start, start + dt, ..., stop (the last span shorter if (stop - start) / dt is not an integer)."""
    n = max(1, math.ceil((stop - start) / sample_ns - 1e-9))
    edges = start + sample_ns * np.arange(n + 1, dtype=float)
    edges[-1] = stop
    return edges


def sample(env: Envelope, sample_ns: float) -> tuple[np.ndarray, np.ndarray]:
    """(edges, values): spans [edges[k], edges[k+1]] on which the envelope is held at its midpoint value."""
    dt = _validate.positive("sample_ns", sample_ns)
    if isinstance(env, FlatTop):
        r, f = env.rise_ns, env.flat_ns
        pieces = []
        if r > 0:
            up = uniform_edges(0.0, r, dt)
            pieces.append(up)
        else:
            up = np.array([0.0])
        flat = np.array([r, r + f]) if f > 0 else np.array([r])
        down = (2 * r + f - up)[::-1]
        edges = np.unique(np.concatenate([up, flat, down]))
        mids = 0.5 * (edges[:-1] + edges[1:])
        vals = env(mids)
        if f > 0:
            k = int(np.searchsorted(edges, r))
            vals[k] = 1.0
        return edges, vals
    if isinstance(env, Square):
        return np.array([0.0, env.duration_ns]), np.array([1.0 + 0j])
    edges = uniform_edges(0.0, env.duration_ns, dt)
    mids = 0.5 * (edges[:-1] + edges[1:])
    return edges, np.asarray(env(mids), dtype=complex)
