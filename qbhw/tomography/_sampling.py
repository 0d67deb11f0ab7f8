"""Exact outcome probabilities and seeded multinomial sampling of the tomography settings from a known state.

With a ``MeasurementNoise`` built from a device calibration (basis-change gates with their error channels, then
the readout confusion) sampling from the exact register state is equal in distribution to running
``measurement_circuits`` on Aer with the device's noise model (tests/test_tomography_sampling.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.physics.operators import IDENTITY, PAULI_X, PAULI_Y, PAULI_Z
from qbhw.tomography._bootstrap import MAX_SHOTS_PER_SETTING
from qbhw.tomography._data import MeasurementNoise, ReadoutModel, TomographyData, ideal_effects
from qbhw.tomography._fit import MAX_QUBITS, check_state, pauli_vector
from qbhw.tomography._settings import check_settings

_BASES = "XYZ"
_PAULIS = (IDENTITY, PAULI_X, PAULI_Y, PAULI_Z)


def _all_setting_probabilities(c: np.ndarray, n: int, effects: Sequence[np.ndarray]) -> np.ndarray:
    """p[s, m] for all 3^n settings (pauli_settings order) from the Pauli vector c of the state:
    p_s(m) = Tr[rho (x)_k F^k_{s_k, m_k}] = sum_P c_P prod_k phi^k_{s_k m_k P_k} / 2 with phi = Tr[F P]."""
    t = c.reshape((4,) * n)
    for k, eff in enumerate(effects):
        phi = np.real(np.einsum("bmij,pji->bmp", eff, np.stack(_PAULIS))).reshape(6, 4) / 2.0
        t = np.tensordot(phi, t, axes=([1], [k]))  # the new axis (basis, bit) goes first
        t = np.moveaxis(t, 0, k)
    t = t.reshape((3, 2) * n)
    t = t.transpose(list(range(0, 2 * n, 2)) + list(range(1, 2 * n, 2)))
    return t.reshape(3**n, 2**n)


def outcome_probabilities(
    rho: np.ndarray,
    settings: Sequence[str],
    *,
    readout: ReadoutModel | None = None,
    noise: MeasurementNoise | None = None,
) -> np.ndarray:
    """Exact outcome probabilities (settings x 2^n, outcome index in physics order) of the state ``rho`` (physics
    order) for the given settings, with the readout confusion (``readout``) or the full measurement noise
    (``noise``; give at most one of them)."""
    r = check_state(rho)
    n = r.shape[0].bit_length() - 1
    if n > MAX_QUBITS:
        raise ParameterError("rho", f"a register of at most {MAX_QUBITS} qubits", n)
    settings = check_settings(settings, n)
    if readout is not None and noise is not None:
        raise ParameterError("noise", "None when readout is given (noise includes the readout)", "both")
    if noise is None:
        if readout is not None and not isinstance(readout, ReadoutModel):
            raise ParameterError("readout", "a ReadoutModel or None", type(readout).__name__)
        if readout is not None and readout.num_qubits != n:
            raise ParameterError("readout", f"a ReadoutModel of {n} qubits (the state's)", readout.num_qubits)
        confusion = [np.eye(2) if readout is None else readout.confusion(k) for k in range(n)]
        effects: Sequence[np.ndarray] = [ideal_effects(a) for a in confusion]
    else:
        if not isinstance(noise, MeasurementNoise):
            raise ParameterError("noise", "a MeasurementNoise or None", type(noise).__name__)
        if noise.num_qubits != n:
            raise ParameterError("noise", f"a MeasurementNoise of {n} qubits (the state's)", noise.num_qubits)
        effects = noise.effects
    table = _all_setting_probabilities(pauli_vector(r, n), n, effects)
    rows = [sum(_BASES.index(ch) * 3 ** (n - 1 - k) for k, ch in enumerate(s)) for s in settings]
    p = np.clip(table[rows], 0.0, None)
    return p / p.sum(axis=-1, keepdims=True)


def sample_counts(
    rho: np.ndarray,
    settings: Sequence[str],
    shots_per_setting: int | Sequence[int],
    *,
    seed: int,
    readout: ReadoutModel | None = None,
    noise: MeasurementNoise | None = None,
) -> TomographyData:
    """Multinomial counts of the exact outcome probabilities of ``rho`` (with ``readout`` confusion or the full
    measurement ``noise``), drawn with ``numpy.random.default_rng(seed)``; Qiskit-style counts with the seed
    recorded. Shots per setting: 1 .. 2^50."""
    seed = _validate.integer_at_least("seed", seed, 0)
    p = outcome_probabilities(rho, settings, readout=readout, noise=noise)
    settings = tuple(settings)
    if isinstance(shots_per_setting, Sequence):
        if len(shots_per_setting) != len(settings):
            raise ParameterError(
                "shots_per_setting", f"{len(settings)} values (one per setting)", len(shots_per_setting)
            )
        shots = np.array([_validate.integer_at_least("shots_per_setting", s, 1) for s in shots_per_setting])
    else:
        shots = np.full(len(settings), _validate.integer_at_least("shots_per_setting", shots_per_setting, 1))
    if int(shots.max()) > MAX_SHOTS_PER_SETTING:
        raise ParameterError("shots_per_setting", f"at most {MAX_SHOTS_PER_SETTING} (2^50)", int(shots.max()))
    counts = np.random.default_rng(seed).multinomial(shots, p)
    return TomographyData.from_array(settings, counts, seed=seed)
