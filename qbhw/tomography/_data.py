"""Tomography data (counts per setting) and the measurement models: readout confusion per qubit (``ReadoutModel``),
and the full measurement noise per qubit and basis (``MeasurementNoise``: basis-change gates with their error
channels, then the readout confusion).

Both give, per register qubit k and basis b in "XYZ", the 2 x 2 matrix M[k, b][m, t] with p(read m) =
M[m, 0] c_I + M[m, 1] c_b for a qubit state (c_I + c_b b + ...)/2: the columns are the weights of the identity and
of the basis's Pauli in the effect of outcome m. Ideal readout: M = [[1/2, 1/2], [1/2, -1/2]].
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from qbhw import _validate
from qbhw._arrays import readonly
from qbhw.errors import ParameterError
from qbhw.physics.operators import IDENTITY, PAULI_X, PAULI_Y, PAULI_Z
from qbhw.tomography._settings import _basis_change_gates, check_settings

if TYPE_CHECKING:  # pragma: no cover
    from qbhw.hardware import DeviceCalibration

_BASES = "XYZ"
_SIGMA = {"X": PAULI_X, "Y": PAULI_Y, "Z": PAULI_Z}
_HALF = np.array([[0.5, 0.5], [0.5, -0.5]])  # rows: true outcome t, columns: (I, sigma)


def _register_bits(key: str, n: int) -> str:
    """The tomography register's bits of a Qiskit counts key: the leftmost space-separated group."""
    if not isinstance(key, str):
        raise ParameterError("counts", "mappings with bitstring keys", key)
    token = key.split()[0] if key.strip() else ""
    if len(token) != n or any(c not in "01" for c in token):
        raise ParameterError(
            "counts", f"keys whose leftmost group is {n} bits of '0'/'1' (Qiskit binary bitstrings)", key
        )
    return token


def _count_value(value: object) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or int(float(value)) != value
        or value < 0
    ):
        raise ParameterError("counts", "non-negative integer counts", value)
    return int(float(value))


@dataclass(frozen=True)
class TomographyData:
    """Counts of the measurement circuits, one mapping per setting, exactly as Qiskit returns them.

    ``settings[i]`` (string over "XYZ", character k for register position k) was measured with ``counts[i]``
    (bitstring -> count). Keys are Qiskit bitstrings of the tomography register "c_{n-1} ... c_0" (clbit k =
    register position k); keys with several space-separated register groups are accepted and the LEFTMOST group
    (the register ``measurement_circuits`` added last) is used, summing over the others. ``seed`` records the
    simulator/sampler seed when there was one.

    Derived: ``num_qubits``, ``shots`` (per setting) and ``array`` (settings x 2^n counts, outcome index in
    physics order: bit of register position 0 is the most significant).
    """

    settings: tuple[str, ...]
    counts: tuple[Mapping[str, int], ...]
    seed: int | None = None
    num_qubits: int = field(init=False)
    array: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        settings = check_settings(self.settings)
        n = len(settings[0])
        if isinstance(self.counts, Mapping | str) or not isinstance(self.counts, Sequence):
            raise ParameterError("counts", "a sequence of mappings, one per setting", type(self.counts).__name__)
        if len(self.counts) != len(settings):
            raise ParameterError("counts", f"{len(settings)} mappings (one per setting)", len(self.counts))
        arr = np.zeros((len(settings), 2**n), dtype=np.int64)
        frozen = []
        for i, c in enumerate(self.counts):
            if not isinstance(c, Mapping):
                raise ParameterError("counts", "mappings bitstring -> count", type(c).__name__)
            copy = {}
            for key, value in c.items():
                v = _count_value(value)
                bits = _register_bits(key, n)
                arr[i, int(bits[::-1], 2)] += v  # reversed: register position 0 first (physics order)
                copy[key] = v
            if arr[i].sum() == 0:
                raise ParameterError(
                    "counts", f"at least one count per setting (setting {settings[i]!r} has none)", dict(c)
                )
            frozen.append(MappingProxyType(copy))
        if self.seed is not None:
            object.__setattr__(self, "seed", _validate.integer_at_least("seed", self.seed, 0))
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "counts", tuple(frozen))
        object.__setattr__(self, "num_qubits", n)
        object.__setattr__(self, "array", readonly(arr))

    @property
    def shots(self) -> tuple[int, ...]:
        """Total counts per setting."""
        return tuple(int(s) for s in self.array.sum(axis=1))

    @classmethod
    def from_counts(
        cls, settings: Sequence[str], counts: Sequence[Mapping[str, int]], *, seed: int | None = None
    ) -> TomographyData:
        """Same as the constructor (for symmetry with ``from_array``)."""
        return cls(tuple(settings), tuple(counts), seed)

    @classmethod
    def from_array(cls, settings: Sequence[str], array: np.ndarray, *, seed: int | None = None) -> TomographyData:
        """From a (settings x 2^n) array of counts with the outcome index in physics order (see class doc)."""
        settings = check_settings(settings)
        n = len(settings[0])
        a = np.asarray(array)
        if a.shape != (len(settings), 2**n):
            raise ParameterError("array", f"shape ({len(settings)}, {2**n})", a.shape)
        if not np.issubdtype(a.dtype, np.integer):
            if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
                raise ParameterError("array", "integer counts", a.dtype)
            a = a.astype(np.int64)
        keys = [format(m, f"0{n}b")[::-1] for m in range(2**n)]  # physics index -> Qiskit bitstring
        counts = [{keys[m]: int(row[m]) for m in np.flatnonzero(row)} for row in a]
        return cls(settings, tuple(counts), seed)


@dataclass(frozen=True)
class ReadoutModel:
    """Independent readout errors: per register qubit k, p1_given_0[k] = P(read 1 | |0>), p0_given_1[k] =
    P(read 0 | |1>). Confusion matrix A_k[m, t] = P(read m | true t) = [[1 - p10, p01], [p10, 1 - p01]].

    Requires p1_given_0 + p0_given_1 < 1 for every qubit (invertible, better than guessing).
    """

    p1_given_0: tuple[float, ...]
    p0_given_1: tuple[float, ...]

    def __post_init__(self) -> None:
        for name in ("p1_given_0", "p0_given_1"):
            v = getattr(self, name)
            if isinstance(v, str) or not isinstance(v, Sequence | np.ndarray) or len(v) == 0:
                raise ParameterError(name, "a non-empty sequence of probabilities", v)
            object.__setattr__(self, name, tuple(_validate.in_closed_interval(name, x, 0.0, 1.0) for x in v))
        if len(self.p1_given_0) != len(self.p0_given_1):
            raise ParameterError(
                "p0_given_1", f"{len(self.p1_given_0)} values (as many as p1_given_0)", len(self.p0_given_1)
            )
        for a, b in zip(self.p1_given_0, self.p0_given_1, strict=True):
            if a + b >= 1.0:
                raise ParameterError("p0_given_1", "such that p1_given_0 + p0_given_1 < 1 on every qubit", b)

    @property
    def num_qubits(self) -> int:
        return len(self.p1_given_0)

    def confusion(self, k: int) -> np.ndarray:
        """A_k[m, t] = P(read m | true t) of register qubit k."""
        a, b = self.p1_given_0[k], self.p0_given_1[k]
        return np.array([[1.0 - a, b], [a, 1.0 - b]])

    @classmethod
    def ideal(cls, n: int) -> ReadoutModel:
        n = _validate.integer_at_least("n", n, 1)
        return cls((0.0,) * n, (0.0,) * n)

    @classmethod
    def from_calibration(cls, cal: DeviceCalibration, physical_qubits: Sequence[int]) -> ReadoutModel:
        """Readout errors of ``physical_qubits`` (register order) from a qbhw.hardware.DeviceCalibration."""
        if isinstance(physical_qubits, str) or not isinstance(physical_qubits, Sequence) or not physical_qubits:
            raise ParameterError("physical_qubits", "a non-empty sequence of qubit indices", physical_qubits)
        nq = len(cal.qubits)
        qs = [_validate.integer_at_least("physical_qubits", q, 0) for q in physical_qubits]
        if max(qs) >= nq:
            raise ParameterError("physical_qubits", f"indices < {nq} (the device's qubits)", list(physical_qubits))
        return cls(
            tuple(cal.qubits[q].readout_p1_given_0 for q in qs), tuple(cal.qubits[q].readout_p0_given_1 for q in qs)
        )

    def matrices(self) -> np.ndarray:
        """(n, 3, 2, 2): M[k, b] = A_k [[1/2, 1/2], [1/2, -1/2]] for every basis (module doc)."""
        return np.stack([np.stack([self.confusion(k) @ _HALF] * 3) for k in range(self.num_qubits)])


def ideal_effects(confusion: np.ndarray) -> np.ndarray:
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

    def matrices(self) -> np.ndarray:
        """(n, 3, 2, 2): M[k, b][m, 0] = Tr[F]/2, M[k, b][m, 1] = Tr[b F]/2 for the effect F of (b, m) (module doc).
        The effects' weights on the other two Paulis (``leakage``) are not in M: they vanish for gates whose error
        channel is phase covariant after the gate (relaxation and depolarizing, as qbhw.hardware builds them)."""
        out = np.zeros((self.num_qubits, 3, 2, 2))
        for k, e in enumerate(self.effects):
            for b, label in enumerate(_BASES):
                for m in range(2):
                    out[k, b, m] = [np.real(np.trace(e[b, m])) / 2, np.real(np.trace(_SIGMA[label] @ e[b, m])) / 2]
        return out

    @property
    def leakage(self) -> float:
        """Largest weight |Tr[P F]|/2 of an effect F of basis b on a Pauli P other than I and b."""
        worst = 0.0
        for e in self.effects:
            for b, label in enumerate(_BASES):
                for other in _BASES:
                    if other != label:
                        worst = max(worst, float(np.abs(np.einsum("mij,ji->m", e[b], _SIGMA[other])).max()) / 2)
        return worst

    def readout(self) -> ReadoutModel:
        """The readout confusion of the Z basis (no gates): A[m, t] = <t|F_{Z, m}|t>."""
        p10 = tuple(float(np.real(e[2, 1, 0, 0])) for e in self.effects)
        p01 = tuple(float(np.real(e[2, 0, 1, 1])) for e in self.effects)
        return ReadoutModel(p10, p01)

    @classmethod
    def from_readout(cls, readout: ReadoutModel) -> MeasurementNoise:
        """Ideal basis changes, readout confusion only."""
        return cls(tuple(ideal_effects(readout.confusion(k)) for k in range(readout.num_qubits)))

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
