"""The transmon + resonator Hamiltonian and dissipators of a ``CavityQEDDevice`` (docs/physics.md section 6.1).

In the frame rotating at omega_r on both modes (transmon b with L levels first, resonator a with cutoff D second):

    H(t) = Delta(t) b^dag b + (alpha/2) b^dag b^dag b b + c(t) g (a^dag b + a b^dag) + [u(t) b^dag + h.c.],

Delta(t) = omega_q(t) - omega_r the flux-controlled detuning (track "detuning", rad/ns), c(t) in {0, 1} the coupling
switch (track "coupling"; 1 throughout on a real device, 0 while parked when the ``dispersive`` imperfection is
off), u(t) the drive (track "drive" on b^dag). Without the rotating-wave approximation the coupling is
g(a + a^dag)(b + b^dag): the extra g(a b + h.c.) is track "counter" with carrier 2 omega_r.

Dissipators (rates in 1/ns) by imperfection: t1: Gamma_1 D[b]; thermal: Gamma_1 n_q (D[b] + D[b^dag]) and
kappa n_r (D[a] + D[a^dag]); t2: 2 Gamma_phi D[b^dag b]; kappa: kappa D[a]; with Gamma_1 = 1/T1,
Gamma_phi = 1/T2 - 1/(2 T1), n_q = p_e/(1 - 2 p_e), n_r the resonator's thermal photons.
"""

from __future__ import annotations

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.pulse import _units
from qbhw.pulse.device import CavityQEDDevice
from qbhw.pulse.imperfections import Imperfections
from qbhw.pulse.model import Jump, Operator, PulseModel, embed, lowering

TRANSMON, RESONATOR = 0, 1
#: largest transmon x resonator dimension L*D accepted (the collision map propagates D^2 states of (L D)^2 entries)
MAX_DIMENSION = 200


def cavity_qed_model(
    device: CavityQEDDevice,
    *,
    levels: int,
    cutoff: int,
    imperfections: Imperfections,
    coupling_mhz: float | None = None,
    anharmonicity_mhz: float | None = None,
    rwa: bool = True,
) -> PulseModel:
    """The model of ``device`` with ``levels`` transmon levels and a Fock ``cutoff``, dissipators as switched on."""
    lv = _validate.integer_at_least("levels", levels, 2)
    d = _validate.integer_at_least("cutoff", cutoff, 2)
    if lv * d > MAX_DIMENSION:
        raise ParameterError(
            "cutoff", f"at most {MAX_DIMENSION // lv} with {lv} transmon levels (levels x cutoff <= {MAX_DIMENSION})", d
        )
    t, r = device.transmon, device.resonator
    g_mhz = device.coupling_mhz if coupling_mhz is None else _validate.nonnegative("coupling_mhz", coupling_mhz)
    alpha_ghz = (
        t.anharmonicity_ghz
        if anharmonicity_mhz is None
        else _validate.finite("anharmonicity_mhz", anharmonicity_mhz) * 1e-3
    )
    g = _units.mhz_to_rad_per_ns(g_mhz)
    alpha = _units.ghz_to_rad_per_ns(alpha_ghz)
    omega_r = _units.ghz_to_rad_per_ns(r.freq_ghz)

    b = lowering(lv)
    a = lowering(d)
    dims = (lv, d)
    h_q = 0.5 * alpha * (b.conj().T @ b.conj().T @ b @ b)
    h_r = np.zeros((d, d), dtype=complex)
    bf = embed(b, TRANSMON, dims)
    af = embed(a, RESONATOR, dims)
    exchange = g * (af.conj().T @ bf + af @ bf.conj().T)
    ops = [
        Operator("detuning", b.conj().T @ b, TRANSMON, hermitian=True),
        Operator("coupling", exchange, None, hermitian=True),
        Operator("drive", b.conj().T.copy(), TRANSMON, hermitian=False),
    ]
    if not rwa:
        ops.append(Operator("counter", g * (af @ bf), None, hermitian=False))
        ops.append(Operator("drive_counter", b.conj().T.copy(), TRANSMON, hermitian=False))

    imp = imperfections
    gamma1 = _units.rate_per_ns(t.t1_us)
    n_q = _units.thermal_occupation(t.excited_population)
    gamma_phi = t.dephasing_rate_per_us * 1e-3
    kappa = _units.mhz_to_rad_per_ns(r.kappa_mhz)
    n_r = r.thermal_photons
    jumps: list[Jump] = []
    if imp.t1 and gamma1 > 0:
        jumps.append(Jump("t1", TRANSMON, gamma1, b))
    if imp.thermal and gamma1 > 0 and n_q > 0:
        jumps += [
            Jump("thermal", TRANSMON, gamma1 * n_q, b),
            Jump("thermal", TRANSMON, gamma1 * n_q, b.conj().T.copy()),
        ]
    if imp.t2 and gamma_phi > 0:
        jumps.append(Jump("t2", TRANSMON, 2.0 * gamma_phi, b.conj().T @ b))
    if imp.kappa and kappa > 0:
        jumps.append(Jump("kappa", RESONATOR, kappa, a))
    if imp.thermal and kappa > 0 and n_r > 0:
        jumps += [
            Jump("thermal", RESONATOR, kappa * n_r, a),
            Jump("thermal", RESONATOR, kappa * n_r, a.conj().T.copy()),
        ]
    return PulseModel(
        dims=dims,
        labels=("transmon", "resonator"),
        local_static=(h_q, h_r),
        operators=tuple(ops),
        jumps=tuple(jumps),
        frame_frequencies=(omega_r, omega_r),
        rwa=bool(rwa),
    )
