"""Which imperfections of the cavity-QED device a pulse-level run includes (one switch per error-budget row).

    levels      the transmon's levels beyond |e> (L >= 3: leakage to |f>, level shifts); off: a two-level atom
    rise        flux pulses with finite rise/fall time; off: instantaneous flux edges
    dispersive  the transmon-resonator coupling stays on while the transmon is parked (dispersive shift, Stark
                shift during the preparation pulse, residual exchange); off: coupling only during the flux pulse
    t1          transmon decay gamma_down D[b], gamma_down = (1 - p_e)/T1
    t2          transmon pure dephasing 2 Gamma_phi D[b^dag b], Gamma_phi = 1/T2 - 1/(2 T1)
    kappa       resonator decay kappa (1 + n_r) D[a]
    thermal     the baths' upward jumps: gamma_up D[b^dag] (gamma_up = p_e/T1) and kappa n_r D[a^dag]; with t1 and
                kappa the transmon relaxes to p_e at 1/T1 and the resonator to n_r at kappa (docs/physics.md 6.1)
    reset       the reset leaves the transmon excited with the calibration's reset_error; off: a perfect reset

``none`` is the ideal Jaynes-Cummings collision: a two-level atom, instantaneous flux edges, no coupling while
parked, no dissipation, a perfect reset (the preparation pulse is then an exact rotation). The reset's duration is
part of the protocol's timing and always present; it costs something only through the switches above.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from qbhw.errors import ParameterError

#: the switch names, in the order of the error budget
IMPERFECTIONS = ("levels", "rise", "dispersive", "t1", "t2", "kappa", "thermal", "reset")


@dataclass(frozen=True)
class Imperfections:
    """One switch per imperfection (see the module docstring); the default is every imperfection on ("all")."""

    levels: bool = True
    rise: bool = True
    dispersive: bool = True
    t1: bool = True
    t2: bool = True
    kappa: bool = True
    thermal: bool = True
    reset: bool = True

    def __post_init__(self) -> None:
        for name in IMPERFECTIONS:
            if not isinstance(getattr(self, name), bool):
                raise ParameterError("imperfections", f"switches that are True or False ({name})", getattr(self, name))

    @classmethod
    def all(cls) -> Imperfections:
        return cls()

    @classmethod
    def none(cls) -> Imperfections:
        return cls(**dict.fromkeys(IMPERFECTIONS, False))

    @classmethod
    def only(cls, *names: str) -> Imperfections:
        """Exactly the imperfections ``names`` on."""
        for n in names:
            if n not in IMPERFECTIONS:
                raise ParameterError("imperfections", "names from " + ", ".join(IMPERFECTIONS), n)
        return cls(**{n: n in names for n in IMPERFECTIONS})

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(n for n in IMPERFECTIONS if getattr(self, n))

    @property
    def dissipative(self) -> bool:
        return self.t1 or self.t2 or self.kappa or self.thermal

    def with_(self, **switches: bool) -> Imperfections:
        return dataclasses.replace(self, **switches)

    def __str__(self) -> str:
        on = self.enabled
        if len(on) == len(IMPERFECTIONS):
            return "all"
        return ",".join(on) if on else "none"


def parse_imperfections(text: str | Imperfections) -> Imperfections:
    """``all``, ``none`` or a comma-separated list of names from IMPERFECTIONS (the command line's --imperfections).

    Raises ParameterError("imperfections", ...) for an empty text, an unknown name, or ``all``/``none`` mixed with
    names.
    """
    if isinstance(text, Imperfections):
        return text
    allowed = "all, none or a comma-separated list of " + ", ".join(IMPERFECTIONS)
    if not isinstance(text, str):
        raise ParameterError("imperfections", allowed, text)
    names = [p.strip().lower() for p in text.split(",")]
    if not text.strip() or any(not n for n in names):
        raise ParameterError("imperfections", allowed, text)
    if names == ["all"]:
        return Imperfections.all()
    if names == ["none"]:
        return Imperfections.none()
    bad = [n for n in names if n not in IMPERFECTIONS]
    if bad:
        raise ParameterError("imperfections", allowed, bad[0])
    return Imperfections.only(*names)
