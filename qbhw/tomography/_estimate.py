"""Battery figures of merit from full Pauli tomography, each with a point estimate and a confidence interval.

Linear figures (energy; fidelity to a pure target) are linear-inversion estimates with their exact multinomial
variance; purity is an exactly unbiased quadratic estimator. Ergotropy and capacity are maxima of linear
functionals: the upper end is the plug-in at the linear estimate plus z sigma (capped by a bound from the energy
and purity), the lower end a sample-split bound; mixed-target fidelity (a minimum of linear functionals) mirrors
it. Each end is a one-sided bound at level (1 + confidence) / 2 for every state (asymptotically in the shots).
docs/tomography_intervals.md gives the construction, what it guarantees and the measured coverage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from qbhw import _validate
from qbhw._arrays import readonly
from qbhw.errors import ParameterError
from qbhw.physics.distance import fidelity as uhlmann_fidelity
from qbhw.tomography._bootstrap import (
    RESAMPLING,
    Interval,
    capped_upper,
    check_common,
    check_shots,
    finish,
    levels,
    linear_interval,
    linear_statistic,
    no_interval,
    purity_error,
    resample,
    split_halves,
    streams,
)
from qbhw.tomography._data import MeasurementNoise, ReadoutModel, TomographyData
from qbhw.tomography._fit import (
    LinearModel,
    check_state,
    embedded_indices,
    mle,
    model_for,
    pauli_density,
    pauli_vector,
    project,
    require_complete,
)
from qbhw.tomography._spectral import (
    capacity_from_spectra,
    capacity_functional,
    ergotropy_from_spectra,
    ergotropy_functional,
    fidelity_functional,
    group_levels,
    min_linear_on_purity_ball,
)

INTERVAL_FULL = (
    "one-sided normal bounds from linear statistics: energy, pure-target fidelity linear; purity unbiased "
    "(delta-method std less its second-order excess); ergotropy, capacity: upper = min(plug-in + z sigma, "
    "purity cap), lower = sample split; "
    "mixed-target fidelity: lower = plug-in - z sigma, upper = sample split"
)
METHODS = ("linear", "projected", "mle")
ESTIMATES = {
    "energy": "linear",
    "purity": "unbiased",
    "ergotropy": "capped plug-in",
    "capacity": "capped plug-in",
    "fidelity_pure": "linear",
    "fidelity_mixed": "plug-in",
}
#: resampled counts are processed in chunks of at most this many entries (chunk x settings x outcomes)
_CHUNK_ENTRIES = 2_000_000
_TARGET_RANK_TOL = 1e-10


@dataclass(frozen=True)
class BatteryEstimate:
    """Battery figures from measured counts, each an Interval (point, interval, std, bias, point estimator).

    ``estimator``: "full-pauli" (state tomography of the register) or "dicke-z" (excitation-number distribution
    from Z counts, assuming each sector is the symmetric Dicke state). ``state``: the register state fitted with
    ``method`` (physics order) for "full-pauli", None for "dicke-z"; ``excitation_distribution``: P(k), k = 0..N,
    for "dicke-z". ``battery``: register positions forming the battery. ``energy`` is the stored energy
    Tr[rho_B H] - min eig H. ``fidelity`` (squared convention) to ``target`` on the whole register, or None.
    The figures do not depend on ``method`` (docs/tomography_intervals.md).

    ``ergotropy_lower``: the sample-split lower bound of W (the lower end of ``ergotropy.ci``), one-sided at level
    (1 + confidence) / 2. ``extractable_work``: w_hat, the linear estimate on half B of the work that the
    extraction unitary fitted on half A extracts from the true state (std exact, bias 0). NaN / None when a
    setting has fewer than 2 shots (no intervals at all).
    """

    estimator: str
    method: str
    battery: tuple[int, ...]
    ergotropy: Interval
    energy: Interval
    capacity: Interval
    purity: Interval
    fidelity: Interval | None
    state: np.ndarray | None = field(repr=False)
    excitation_distribution: np.ndarray | None
    confidence: float
    bootstrap: int
    interval_method: str
    resampling: str
    seed: int
    readout: ReadoutModel | None
    shots: int
    assumption: str = ""
    ergotropy_lower: float = math.nan
    extractable_work: Interval | None = None
    noise: MeasurementNoise | None = field(default=None, repr=False)

    @property
    def measurement_model(self) -> str:
        """What the fit corrected for: "ideal", "readout" or "readout and basis-change gates"."""
        if self.noise is not None:
            return "readout and basis-change gates"
        return "ideal" if self.readout is None else "readout"

    def to_dict(self) -> dict[str, object]:
        """The one JSON projection of an estimate (the keys the README documents for ``measured``): point values
        ``energy``, ``ergotropy``, ``capacity``, ``purity`` (and ``fidelity``), ``*_ci`` as [low, high], ``*_std``,
        ``*_bias``, ``*_estimate`` (the point estimator: "linear", "unbiased", "capped plug-in", "plug-in"); with
        a split bound ``ergotropy_lower``, ``extractable_work``, ``extractable_work_ci``, ``extractable_work_std``;
        and how: ``estimator``, ``fitter``, ``interval``, ``resampling``, ``bootstrap``, ``confidence``,
        ``bootstrap_seed``, ``readout_mitigated``, ``measurement_model``, ``shots`` (and ``assumption`` when there
        is one)."""
        out: dict[str, object] = {}
        figures = {"energy": self.energy, "ergotropy": self.ergotropy, "capacity": self.capacity, "purity": self.purity}
        if self.fidelity is not None:
            figures["fidelity"] = self.fidelity
        for name, iv in figures.items():
            out[name] = float(iv.value)
            out[f"{name}_ci"] = [float(iv.ci[0]), float(iv.ci[1])]
            out[f"{name}_std"] = float(iv.std)
            out[f"{name}_bias"] = float(iv.bias)
            out[f"{name}_estimate"] = iv.estimate
        if not math.isnan(self.ergotropy_lower):
            out["ergotropy_lower"] = float(self.ergotropy_lower)
        if self.extractable_work is not None:
            out["extractable_work"] = float(self.extractable_work.value)
            out["extractable_work_ci"] = [float(self.extractable_work.ci[0]), float(self.extractable_work.ci[1])]
            out["extractable_work_std"] = float(self.extractable_work.std)
        out.update(
            estimator=self.estimator,
            fitter=self.method,
            interval=self.interval_method,
            resampling=self.resampling,
            bootstrap=self.bootstrap,
            confidence=self.confidence,
            bootstrap_seed=self.seed,
            readout_mitigated=self.readout is not None,
            measurement_model=self.measurement_model,
            shots=self.shots,
        )
        if self.assumption:
            out["assumption"] = self.assumption
        return out


def check_hamiltonian(hamiltonian: np.ndarray, dim: int) -> np.ndarray:
    h = np.asarray(hamiltonian, dtype=complex)
    if h.shape != (dim, dim):
        raise ParameterError("hamiltonian", f"a ({dim}, {dim}) matrix on the battery positions", h.shape)
    if not np.all(np.isfinite(h)) or not np.allclose(h, h.conj().T, atol=1e-10):
        raise ParameterError("hamiltonian", "a finite Hermitian matrix", "non-Hermitian matrix")
    return 0.5 * (h + h.conj().T)


def _battery_positions(battery: Sequence[int] | None, n: int) -> tuple[int, ...]:
    if battery is None:
        return tuple(range(n))
    if isinstance(battery, str) or not isinstance(battery, Sequence) or len(battery) == 0:
        raise ParameterError("battery", "a non-empty sequence of register positions", battery)
    keep = tuple(_validate.integer_at_least("battery", b, 0) for b in battery)
    if len(set(keep)) != len(keep) or max(keep) >= n:
        raise ParameterError("battery", f"distinct register positions in 0..{n - 1}", list(battery))
    return tuple(sorted(keep))


@dataclass(frozen=True, eq=False)
class _Problem:
    """Everything fixed by the data layout: the model, the battery embedding, H's spectrum, the target."""

    model: LinearModel
    counts: np.ndarray
    shots: np.ndarray
    average: sp.csr_matrix  # shot-weighted averaging of the per-setting estimates
    emb: np.ndarray  # register Pauli index of every battery Pauli
    nb: int
    energies: np.ndarray  # H levels ascending (with repetition)
    basis: np.ndarray  # H eigenvectors
    levels: tuple[np.ndarray, np.ndarray]  # distinct levels of H, multiplicities
    cap_levels: tuple[np.ndarray, np.ndarray]  # distinct values of -(e_{d-1-k} - e_k), multiplicities
    target_vecs: np.ndarray | None  # target support (columns), None without target
    target_vals: np.ndarray | None
    cache: dict[tuple[int, ...], sp.csr_matrix] = field(default_factory=dict)

    @property
    def db(self) -> int:
        return 2**self.nb

    def battery_g(self, op: np.ndarray) -> np.ndarray:
        """Register coefficient vector g with sum_P g_P c_P = Tr[rho_B op] (op on the battery)."""
        g = np.zeros(4**self.model.n)
        g[self.emb] = pauli_vector(op, self.nb) / self.db
        return g

    def register_g(self, op: np.ndarray) -> np.ndarray:
        return pauli_vector(op, self.model.n) / 2**self.model.n

    def statistic(self, g: np.ndarray, counts: np.ndarray | None = None) -> tuple[float, float]:
        """(value, std) of the linear-inversion estimate of sum_P g_P c_P on ``counts`` (default: all data)."""
        c = self.counts if counts is None else counts
        g0, a = self.model.functional(g, self.averaging(c.sum(axis=-1)))
        value, std = linear_statistic(g0, a, c)
        return float(value), float(std)

    def averaging(self, shots: np.ndarray) -> sp.csr_matrix:
        """The model's averaging operator for these shots per setting (cached: the data and its split halves)."""
        key = tuple(int(x) for x in shots)
        if key not in self.cache:
            self.cache[key] = self.model.averaging(shots)
        return self.cache[key]

    def battery_density(self, c: np.ndarray) -> np.ndarray:
        return pauli_density(c[..., self.emb], self.nb)

    def purity(self, counts: np.ndarray, chat: np.ndarray | None = None) -> np.ndarray:
        """Unbiased estimate of Tr[rho_B^2] = 2^-nb sum_{P on B} c_P^2 for counts (..., S, M) with the data's shots
        per setting: each c_P^2 is replaced by c_hat_P^2 minus the unbiased estimate of Var(c_hat_P) (independent
        settings, sample variance of the per-shot values within each setting). ``chat``: the per-setting
        estimates of these counts, when already computed."""
        model = self.model
        shots = counts.sum(axis=-1).astype(float)
        f = counts / shots[..., None]
        chat = model.per_setting(f) if chat is None else chat
        second = model.per_setting_second(f)
        var_mean = (second - chat**2) / np.maximum(shots - 1.0, 1.0)[..., None]
        avg = self.average[self.emb]
        lead = counts.shape[:-2]
        flat = chat.reshape(-1, chat.shape[-2] * chat.shape[-1])
        c = np.asarray(avg @ flat.T).T
        v = np.asarray(avg.multiply(avg).tocsr() @ var_mean.reshape(flat.shape).T).T
        c[:, 0], v[:, 0] = 1.0, 0.0  # battery Pauli 0 is the identity: c_I = 1 exactly
        return (np.sum(c**2 - v, axis=-1) / self.db).reshape(lead)

    def fidelities(self, rho: np.ndarray) -> np.ndarray:
        """F(rho_b, target) for a stack of Hermitian matrices (..., d, d) through the compression onto the target's
        support; NaN where the compression is not positive definite."""
        assert self.target_vecs is not None and self.target_vals is not None
        v, s = self.target_vecs, np.sqrt(self.target_vals)
        y = np.conj(v.T) @ rho @ v
        lam = np.linalg.eigvalsh(s[:, None] * y * s[None, :])
        root = np.sum(np.sqrt(np.clip(lam, 0.0, None)), axis=-1)
        return np.where(lam[..., 0] > 0.0, root**2, np.nan)

    def target_state(self) -> np.ndarray:
        """The (mixed) target sigma = V diag(vals) V^dag on the register."""
        assert self.target_vecs is not None and self.target_vals is not None
        return (self.target_vecs * self.target_vals) @ self.target_vecs.conj().T

    def fidelity_functional(self, x: np.ndarray, regularise: bool) -> tuple[float, np.ndarray | None]:
        """``_spectral.fidelity_functional`` for the estimator's (mixed) target."""
        assert self.target_vecs is not None and self.target_vals is not None
        return fidelity_functional(x, self.target_vecs, self.target_vals, regularise)


def _problem(
    model: LinearModel,
    counts: np.ndarray,
    keep: tuple[int, ...],
    h: np.ndarray,
    target: np.ndarray | None,
) -> _Problem:
    shots = counts.sum(axis=-1)
    energies, basis = np.linalg.eigh(h)
    lev = group_levels(energies)
    cap = group_levels(-(energies[::-1] - energies))
    vecs = vals = None
    if target is not None:
        w, v = np.linalg.eigh(target)
        support = w > _TARGET_RANK_TOL
        vecs, vals = v[:, support], w[support]
    return _Problem(
        model=model,
        counts=counts,
        shots=shots,
        average=model.averaging(shots),
        emb=embedded_indices(keep, model.n),
        nb=len(keep),
        energies=energies,
        basis=basis,
        levels=lev,
        cap_levels=cap,
        target_vecs=vecs,
        target_vals=vals,
    )


@dataclass
class _Replicates:
    """Bootstrap replicates of the point statistics."""

    energy: list[np.ndarray] = field(default_factory=list)  # absolute mean energy Tr[rho_B H]
    purity: list[np.ndarray] = field(default_factory=list)
    w_plug: list[np.ndarray] = field(default_factory=list)
    c_plug: list[np.ndarray] = field(default_factory=list)
    fidelity: list[np.ndarray] = field(default_factory=list)
    paulis: list[np.ndarray] = field(default_factory=list)  # battery Pauli coordinates (without I)

    def array(self, name: str) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.zeros(0)


def _bootstrap(pb: _Problem, rng: np.random.Generator, size: int, mixed_target: bool) -> _Replicates:
    """Replicates of (energy, purity, plug-in W and C, plug-in fidelity) on non-parametric resamples, batched."""
    reps = _Replicates()
    s, m = pb.counts.shape
    chunk = max(1, min(size, _CHUNK_ENTRIES // (s * m)))
    h = (pb.basis * pb.energies) @ pb.basis.conj().T
    for start in range(0, size, chunk):
        rs = resample(rng, pb.counts, min(chunk, size - start))
        chat = pb.model.per_setting(rs / pb.shots[:, None])
        c = pb.model.from_per_setting(chat, pb.average)
        rho_b = pb.battery_density(c)
        energy = np.real(np.einsum("bij,ji->b", rho_b, h))
        spectra = np.linalg.eigvalsh(rho_b)
        reps.energy.append(energy)
        reps.w_plug.append(ergotropy_from_spectra(energy, spectra, pb.energies))
        reps.c_plug.append(capacity_from_spectra(spectra, pb.energies))
        reps.purity.append(pb.purity(rs, chat))
        reps.paulis.append(c[:, pb.emb[1:]])
        if mixed_target:
            reps.fidelity.append(pb.fidelities(pb.model.density(c)))
    return reps


def std_bias(reps: np.ndarray, value: float) -> tuple[float, float]:
    """(std, mean - value) of the finite bootstrap replicates of a point statistic; NaN without replicates."""
    reps = reps[np.isfinite(reps)]
    if reps.size < 2:
        return math.nan, math.nan
    return float(np.std(reps, ddof=1)), float(np.mean(reps) - value)


def estimate_battery(
    data: TomographyData,
    hamiltonian: np.ndarray,
    *,
    battery: Sequence[int] | None = None,
    target: np.ndarray | None = None,
    method: str = "projected",
    readout: ReadoutModel | None = None,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int,
    noise: MeasurementNoise | None = None,
) -> BatteryEstimate:
    """Battery figures of the measured register with confidence intervals (module doc).

    ``battery``: register positions of the battery (all if None); rho_B is the partial trace over the others and
    ``hamiltonian`` acts on it (dimension 2^len(battery)). ``target``: register state for the fidelity.
    ``method``: the fitter of the returned ``state`` - "projected" (Smolin-Gambetta-Smith, default), "mle" or
    "linear"; the figures use the linear estimate whatever it is. ``readout``: the readout confusion of the
    measurement model, or ``noise``: the full measurement noise (readout and basis-change gates, e.g.
    ``MeasurementNoise.from_calibration``; at most one of them; neither: ideal measurement). ``bootstrap``:
    replicates for the std / bias of the nonlinear points and the second-order term of the purity's std (without
    them that std is the delta-method one, larger on average).
    No intervals when a setting has fewer than 2 shots. Streams: bootstrap default_rng(seed), sample split
    default_rng(SeedSequence(seed, spawn_key=(1,))).
    """
    model = model_for(data, readout, noise)
    require_complete(model)
    if noise is not None:
        readout = noise.readout()
    n = data.num_qubits
    method = _validate.one_of("method", method, METHODS)
    bootstrap, confidence, seed = check_common(bootstrap, confidence, seed)
    keep = _battery_positions(battery, n)
    h = check_hamiltonian(hamiltonian, 2 ** len(keep))
    if target is not None:
        target = check_state(target, "target")
        if target.shape != (2**n, 2**n):
            raise ParameterError("target", f"a ({2**n}, {2**n}) register state", target.shape)
    counts = np.asarray(data.array)
    check_shots(counts)

    pb = _problem(model, counts, keep, h, target)
    c = model.linear(counts, pb.average)
    rho_lin = model.density(c)
    state = rho_lin if method == "linear" else project(rho_lin)
    if method == "mle":
        state = mle(model, counts, state)
    e0, width = float(pb.energies[0]), float(pb.energies[-1] - pb.energies[0])
    lin_b = pb.battery_density(c)

    # point statistics (docs/tomography_intervals.md)
    energy_abs, sd_energy = pb.statistic(pb.battery_g(h))
    purity_hat = float(pb.purity(counts))
    w_plug, g_w = ergotropy_functional(lin_b, pb.energies, pb.basis)
    c_plug, g_c = capacity_functional(lin_b, pb.energies)
    w_point = min(w_plug, energy_abs - float(min_linear_on_purity_ball(*pb.levels, purity_hat)))
    c_point = min(c_plug, -float(min_linear_on_purity_ball(*pb.cap_levels, purity_hat)))
    rank = 0 if pb.target_vals is None else pb.target_vals.size
    m_plug = None
    if rank == 1:
        assert pb.target_vecs is not None
        psi = pb.target_vecs[:, 0]
        f_point, sd_f = pb.statistic(pb.register_g(np.outer(psi, psi.conj())))
    elif rank > 1:
        f_point, m_plug = pb.fidelity_functional(rho_lin, regularise=False)
        if m_plug is None:  # the linear estimate's compression is not positive definite: the projected state's
            f_point = float(uhlmann_fidelity(project(rho_lin), pb.target_state()))

    figures: dict[str, Interval] = {}
    if int(pb.shots.min()) < 2:  # no variance can be estimated from one shot of a setting
        figures = {
            "energy": no_interval(energy_abs - e0, ESTIMATES["energy"]),
            "purity": no_interval(purity_hat, ESTIMATES["purity"]),
            "ergotropy": no_interval(w_point, ESTIMATES["ergotropy"]),
            "capacity": no_interval(c_point, ESTIMATES["capacity"]),
        }
        if rank:
            figures["fidelity"] = no_interval(f_point, ESTIMATES["fidelity_pure" if rank == 1 else "fidelity_mixed"])
        return _result(
            figures, method, keep, state, confidence, bootstrap, seed, readout, noise, counts, math.nan, None
        )

    z = levels(confidence)
    boot_rng, split_rng = streams(seed)
    reps = _bootstrap(pb, boot_rng, bootstrap, mixed_target=rank > 1)
    purity_reps = reps.array("purity")
    paulis = np.concatenate(reps.paulis) if reps.paulis else np.zeros((0, pb.emb.size - 1))
    g_purity = np.zeros(4**n)
    g_purity[pb.emb[1:]] = 2.0 * c[pb.emb[1:]] / pb.db  # gradient of sum_P c_P^2 / d over the battery Paulis
    coords = c[pb.emb[1:]]
    perr = purity_error(purity_hat, pb.statistic(g_purity)[1] ** 2, coords, paulis - coords, float(pb.db))
    half_a, half_b = split_halves(split_rng, counts)
    c_a = model.linear(half_a, pb.averaging(half_a.sum(axis=-1)))
    lin_b_a = pb.battery_density(c_a)

    stored = energy_abs - e0
    figures["energy"] = linear_interval(stored, sd_energy, z["end"], (0.0, width), ESTIMATES["energy"])
    figures["purity"] = finish(
        purity_hat,
        *perr.bounds(z["end"]),
        (1.0 / pb.db, 1.0),
        perr.std,
        0.0,
        ESTIMATES["purity"],
    )

    # ergotropy: upper = min(plug-in + z sigma, purity cap), each at half the level of the end, the cap's half split
    # between its energy and purity bounds
    _, sd_gw = pb.statistic(pb.battery_g(g_w))
    purity_up = perr.bounds(z["quarter"])[1]
    upper = capped_upper(
        w_plug, sd_gw, energy_abs, sd_energy, float(min_linear_on_purity_ball(*pb.levels, purity_up)), z
    )
    _, g_wa = ergotropy_functional(lin_b_a, pb.energies, pb.basis)
    work, sd_work = pb.statistic(pb.battery_g(g_wa), half_b)
    lower = work - z["end"] * sd_work
    w_reps = np.minimum(reps.array("w_plug"), reps.array("energy") - min_linear_on_purity_ball(*pb.levels, purity_reps))
    figures["ergotropy"] = finish(
        w_point, lower, upper, (0.0, width), *std_bias(w_reps, w_point), ESTIMATES["ergotropy"]
    )
    ergotropy_lower = min(max(lower, 0.0), width)
    g_range = np.linalg.eigvalsh(g_wa)
    work_iv = finish(
        work,
        lower,
        work + z["end"] * sd_work,
        (float(g_range[0]), float(g_range[-1])),
        sd_work,
        0.0,
        "split-sample linear",
    )

    # capacity: the same with the capacity functionals; its cap needs only the purity
    _, sd_gc = pb.statistic(pb.battery_g(g_c))
    cap_c = -float(min_linear_on_purity_ball(*pb.cap_levels, perr.bounds(z["half"])[1]))
    upper_c = min(c_plug + z["half"] * sd_gc, cap_c)
    _, g_ca = capacity_functional(lin_b_a, pb.energies)
    cap_b, sd_cap_b = pb.statistic(pb.battery_g(g_ca), half_b)
    c_reps = np.minimum(reps.array("c_plug"), -min_linear_on_purity_ball(*pb.cap_levels, purity_reps))
    figures["capacity"] = finish(
        c_point,
        cap_b - z["end"] * sd_cap_b,
        upper_c,
        (0.0, width),
        *std_bias(c_reps, c_point),
        ESTIMATES["capacity"],
    )

    if rank == 1:
        figures["fidelity"] = linear_interval(f_point, sd_f, z["end"], (0.0, 1.0), ESTIMATES["fidelity_pure"])
    elif rank > 1:
        # lower: plug-in minus z sigma of its optimal functional (none when the compression is not positive
        # definite); upper: the functional fitted on half A, estimated on half B
        # and never below the linear bound F(rho, sigma) >= Tr[rho sigma] (|Tr A|^2 >= ||A||_2^2 for A = sqrt(rho)
        # sqrt(sigma)), an unbiased linear statistic: the lower end that survives a nearly pure mixed target
        t_lin, sd_t = pb.statistic(pb.register_g(pb.target_state()))
        f_low = t_lin - z["end"] * sd_t
        if m_plug is not None:
            f_low = max(f_low, f_point - z["end"] * pb.statistic(pb.register_g(m_plug))[1])
        _, m_a = pb.fidelity_functional(model.density(c_a), regularise=True)
        assert m_a is not None
        f_b, sd_b = pb.statistic(pb.register_g(m_a), half_b)
        figures["fidelity"] = finish(
            f_point,
            f_low,
            f_b + z["end"] * sd_b,
            (0.0, 1.0),
            *std_bias(reps.array("fidelity"), f_point),
            ESTIMATES["fidelity_mixed"],
        )
    return _result(
        figures, method, keep, state, confidence, bootstrap, seed, readout, noise, counts, ergotropy_lower, work_iv
    )


def _result(
    figures: dict[str, Interval],
    method: str,
    keep: tuple[int, ...],
    state: np.ndarray,
    confidence: float,
    bootstrap: int,
    seed: int,
    readout: ReadoutModel | None,
    noise: MeasurementNoise | None,
    counts: np.ndarray,
    ergotropy_lower: float,
    work: Interval | None,
) -> BatteryEstimate:
    return BatteryEstimate(
        estimator="full-pauli",
        method=method,
        battery=keep,
        ergotropy=figures["ergotropy"],
        energy=figures["energy"],
        capacity=figures["capacity"],
        purity=figures["purity"],
        fidelity=figures.get("fidelity"),
        state=readonly(state),
        excitation_distribution=None,
        confidence=confidence,
        bootstrap=bootstrap,
        interval_method=INTERVAL_FULL,
        resampling=RESAMPLING,
        seed=seed,
        readout=readout,
        shots=int(counts.sum()),
        ergotropy_lower=ergotropy_lower,
        extractable_work=work,
        noise=noise,
    )
