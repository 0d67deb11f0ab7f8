"""Exact outcome probabilities and seeded multinomial sampling of the tomography settings from a known state.

``MeasurementNoise`` holds, per register qubit, the effect (POVM element) of every (basis, read bit): the
Heisenberg picture of the basis-change gates with their noise channels (each gate followed by its error, as an
Aer noise model applies it), the Z measurement and the readout confusion. Built from a device calibration it
uses ``qbhw.hardware.gate_noise`` - the channels of ``qbhw.hardware.noise_model`` - so sampling from the exact
register state is equal in distribution to running ``measurement_circuits`` on Aer with the device's noise.
Without gate errors the effects are A[m, 0] (I + s)/2 + A[m, 1] (I - s)/2 for the Pauli s of the basis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qbhw import _validate
from qbhw.errors import ParameterError
from qbhw.physics.operators import IDENTITY, PAULI_X, PAULI_Y, PAULI_Z
from qbhw.tomography._bootstrap import MAX_SHOTS_PER_SETTING
from qbhw.tomography._data import ReadoutModel, TomographyData
from qbhw.tomography._fit import MAX_QUBITS, check_state, pauli_vector
from qbhw.tomography._settings import _basis_change_gates, check_settings

if TYPE_CHECKING:  # pragma: no cover
    from qbhw.hardware import DeviceCalibration

_BASES = "XYZ"
_PAULIS = (IDENTITY, PAULI_X, PAULI_Y, PAULI_Z)
_SIGMA = {"X": PAULI_X, "Y": PAULI_Y, "Z": PAULI_Z}


def _ideal_effects(confusion: np.ndarray) -> np.ndarray:
    """(3, 2, 2, 2): effect of reading bit m in basis X / Y / Z, readout confusion A[m, t] = P(read m | true t)."""
    out = np.zeros((3, 2, 2, 2), dtype=complex)
    for b, label in enumerate(_BASES):
        proj = [(IDENTITY + _SIGMA[label]) / 2, (IDENTITY - _SIGMA[label]) / 2]  # outcome t = 0 is the +1 state
        for m in range(2):
            out[b, m] = confusion[m, 0] * proj[0] + confusion[m, 1] * proj[1]
    return out


@dataclass(frozen=True, eq=False)
class MeasurementNoise:
    """Per register qubit k (physics order), ``effects[k]`` of shape (3, 2, 2, 2): the 2x2 effect of reading bit m
    after the basis change of X / Y / Z (module doc); each (basis) pair sums to the identity."""

    effects: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        if isinstance(self.effects, np.ndarray) or not isinstance(self.effects, Sequence) or not self.effects:
            raise ParameterError("effects", "a non-empty sequence of (3, 2, 2, 2) arrays", self.effects)
        frozen = []
        for e in self.effects:
            a = np.array(e, dtype=complex)
            if a.shape != (3, 2, 2, 2) or not np.all(np.isfinite(a)):
                raise ParameterError("effects", "finite arrays of shape (3, 2, 2, 2)", a.shape)
            total = a.sum(axis=1)
            herm = np.allclose(a, np.conj(np.swapaxes(a, -1, -2)), atol=1e-10)
            psd = all(np.linalg.eigvalsh(x)[0] >= -1e-10 for x in a.reshape(-1, 2, 2))
            if not (herm and psd and np.allclose(total, np.eye(2), atol=1e-10)):
                raise ParameterError("effects", "positive effects summing to the identity in each basis", "other")
            a.setflags(write=False)
            frozen.append(a)
        object.__setattr__(self, "effects", tuple(frozen))

    @property
    def num_qubits(self) -> int:
        return len(self.effects)

    @classmethod
    def from_readout(cls, readout: ReadoutModel) -> MeasurementNoise:
        """Ideal basis changes, readout confusion only."""
        return cls(tuple(_ideal_effects(readout.confusion(k)) for k in range(readout.num_qubits)))

    @classmethod
    def from_calibration(
        cls,
        cal: DeviceCalibration,
        physical_qubits: Sequence[int],
        *,
        basis_gates: Sequence[str] | None = None,
    ) -> MeasurementNoise:
        """The measurement noise of ``physical_qubits`` (register order) of a qbhw.hardware.DeviceCalibration: the
        basis-change gates ``measurement_circuits`` writes in ``basis_gates`` (default: the device's), each gate
        followed by the error channel ``qbhw.hardware.gate_noise`` gives it (none for uncalibrated gates, as
        in ``noise_model``), then the readout confusion of ``ReadoutModel.from_calibration``."""
        from qiskit.quantum_info import Kraus, Operator

        from qbhw.hardware import gate_noise

        readout = ReadoutModel.from_calibration(cal, physical_qubits)
        gates = _basis_change_gates(tuple(cal.basis_gates if basis_gates is None else basis_gates))
        calibrated = {(g.name, g.qubits): g for g in cal.gates}
        effects = []
        for k, q in enumerate(int(x) for x in physical_qubits):
            channels: dict[str, list[tuple[np.ndarray, list[np.ndarray]]]] = {}
            for label in _BASES:
                steps = []
                for op in gates[label]:
                    unitary = np.asarray(Operator(op).data, dtype=complex)
                    kraus: list[np.ndarray] = []
                    gate = calibrated.get((op.name, (q,)))
                    if gate is not None:
                        error = gate_noise(cal, gate).error
                        if error is not None:
                            kraus = [np.asarray(x, dtype=complex) for x in Kraus(error.to_quantumchannel()).data]
                    steps.append((unitary, kraus))
                channels[label] = steps
            effects.append(_noisy_effects(channels, readout.confusion(k)))
        return cls(tuple(effects))


def _noisy_effects(channels: dict[str, list[tuple[np.ndarray, list[np.ndarray]]]], confusion: np.ndarray) -> Any:
    """Effects Lambda^dag(sum_t A[m, t] |t><t|) for each basis, Lambda the gate sequence (unitary, then its error
    channel given by Kraus operators; none = ideal)."""
    out = np.zeros((3, 2, 2, 2), dtype=complex)
    for b, label in enumerate(_BASES):
        for m in range(2):
            e = np.diag([confusion[m, 0], confusion[m, 1]]).astype(complex)
            for unitary, kraus in reversed(channels[label]):  # Heisenberg picture: last operation first
                if kraus:
                    e = sum((kr.conj().T @ e @ kr for kr in kraus), np.zeros((2, 2), dtype=complex))
                e = unitary.conj().T @ e @ unitary
            out[b, m] = 0.5 * (e + e.conj().T)
    return out


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
        effects: Sequence[np.ndarray] = [_ideal_effects(a) for a in confusion]
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
