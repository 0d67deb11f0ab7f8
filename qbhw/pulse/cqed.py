"""The transmon + resonator Hamiltonian and dissipators of a ``CavityQEDDevice`` (docs/physics.md section 6.1).

In the frame rotating at omega_r on both modes (transmon b with L levels first, resonator a with cutoff D second):

    H(t) = Delta(t) b^dag b + (alpha/2) b^dag b^dag b b + c(t) g (a^dag b + a b^dag) + [u(t) b^dag + h.c.],

Delta(t) = omega_q(t) - omega_r the flux-controlled detuning (track "detuning", rad/ns), c(t) in {0, 1} the coupling
switch (track "coupling"; 1 throughout on a real device, 0 while parked when the ``dispersive`` imperfection is
off), u(t) the drive (track "drive" on b^dag). Without the rotating-wave approximation the coupling is
g(a + a^dag)(b + b^dag): the extra g(a b + h.c.) is track "counter" with carrier 2 omega_r.

Dissipators (docs/physics.md section 6.1; rates per ns from ``qbhw.hardware.units.relaxation_rates``, the function
the Aer noise model uses, so both noise paths agree by construction): transmon gamma_down D[b] + gamma_up D[b^dag]
+ 2 Gamma_phi D[b^dag b] with gamma_down = (1 - p_e)/T1, gamma_up = p_e/T1, Gamma_phi = 1/T2 - 1/(2 T1) (a qubit
relaxes to p_e at 1/T1 and its coherence decays at exactly 1/T2); resonator kappa (1 + n_r) D[a] + kappa n_r D[a^dag].
Each imperfection switch adds its own jump operators: t1 the transmon's decay (gamma_down D[b]), thermal the upward
jumps (gamma_up D[b^dag], kappa n_r D[a^dag]), t2 the pure dephasing, kappa the resonator's decay
(kappa (1 + n_r) D[a]); every part is a valid dissipator alone and together they are the full Lindbladian.
"""

from __future__ import annotations

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.hardware import units
from qbhw.pulse.device import CavityQEDDevice, Transmon
from qbhw.pulse.imperfections import Imperfections
from qbhw.pulse.model import Jump, Operator, PulseModel, embed, lowering

TRANSMON, RESONATOR = 0, 1
#: largest transmon x resonator dimension L*D accepted (the collision map propagates D^2 states of (L D)^2 entries)
MAX_DIMENSION = 200


def transmon_rates(transmon: Transmon) -> tuple[float, float, float]:
    """(gamma_down, gamma_up, Gamma_phi) per ns of a transmon; T1 or T2 None means no such process."""
    t1, t2, p = transmon.t1_us, transmon.t2_us, transmon.excited_population
    if t1 is not None and t2 is not None:
        rates = units.relaxation_rates(t1, t2, p)
        return rates.decay_per_ns, rates.excitation_per_ns, rates.dephasing_per_ns
    down = 0.0 if t1 is None else (1.0 - p) / units.us_to_ns(t1)
    up = 0.0 if t1 is None else p / units.us_to_ns(t1)
    dephasing = 0.0 if t2 is None else 1.0 / units.us_to_ns(t2)
    return down, up, dephasing


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
    g = units.mhz_to_rad_per_ns(g_mhz)
    alpha = units.ghz_to_rad_per_ns(alpha_ghz)
    omega_r = units.ghz_to_rad_per_ns(r.freq_ghz)

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
    down, up, dephasing = transmon_rates(t)
    kappa = units.mhz_to_rad_per_ns(r.kappa_mhz)
    n_r = r.thermal_photons
    jumps: list[Jump] = []
    if imp.t1 and down > 0:
        jumps.append(Jump("t1", TRANSMON, down, b))
    if imp.thermal and up > 0:
        jumps.append(Jump("thermal", TRANSMON, up, b.conj().T.copy()))
    if imp.t2 and dephasing > 0:
        jumps.append(Jump("t2", TRANSMON, 2.0 * dephasing, b.conj().T @ b))
    if imp.kappa and kappa > 0:
        jumps.append(Jump("kappa", RESONATOR, kappa * (1.0 + n_r), a))
    if imp.thermal and kappa > 0 and n_r > 0:
        jumps.append(Jump("thermal", RESONATOR, kappa * n_r, a.conj().T.copy()))
    return PulseModel(
        dims=dims,
        labels=("transmon", "resonator"),
        local_static=(h_q, h_r),
        operators=tuple(ops),
        jumps=tuple(jumps),
        frame_frequencies=(omega_r, omega_r),
        rwa=bool(rwa),
    )
