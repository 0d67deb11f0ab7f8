"""Ergotropy, passive state, extraction unitary, capacity, coherent/incoherent ergotropy (docs/physics.md section 0).

W(rho, H) = Tr[rho H] - sum_k r_k(desc) e_k(asc);  passive state sum_k r_k(desc)|e_k(asc)><e_k(asc)|;
U* = sum_k |e_k(asc)><r_k(desc)|;  C = sum_i e_i (l_i - l_{d-1-i}) with e, l ascending (= active - passive);
W_i = W(Delta_H[rho]) with Delta_H the dephasing between distinct levels, W_c = W - W_i.
Qubit convention: basis index 0 = |g>, sigma_z = diag(-1, +1), H = (omega/2) sigma_z.

Tolerances: quantities that are O(1) sums of products of eigenvalues carry rounding of ~d * 1e-16, so 1e-12 is
used for "exact" identities; brute-force optimisations are compared with 1e-6 (optimiser stopping criterion).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.optimize as so

from qbhw.physics import (
    active_energy,
    bloch_vector,
    capacity,
    capacity_from_spectra,
    coherent_ergotropy,
    dephase,
    energy,
    ergotropy,
    extraction_unitary,
    incoherent_ergotropy,
    passive_energy,
    passive_energy_from_spectra,
    passive_state,
    purity,
    stored_energy,
)
from qbhw.physics.operators import SIGMA_X, SIGMA_Y, SIGMA_Z, dm

EXACT = 1e-12  # rounding of O(1) spectral sums in dimension <= 8

DIMS = [2, 3, 4, 6]
# degeneracy patterns of H (multiplicities of its distinct levels), used wherever degenerate H matters
DEGENERACIES = [(1, 1), (2, 1), (1, 2, 1), (3, 1, 2), (2, 2, 2), (1, 4)]


def _random_state(rand, d: int, kind: str) -> np.ndarray:
    if kind == "full":
        return rand.density_matrix(d)
    if kind == "rank1":
        return dm(rand.pure_state(d))
    if kind == "rank2":
        return rand.density_matrix(d, rank=2)
    if kind == "degenerate":  # spectrum with a repeated eigenvalue
        p = rand.probabilities(d - 1)
        spectrum = np.concatenate([p[:1] / 2, p[:1] / 2, p[1:]])
        return rand.with_spectrum(spectrum)
    raise ValueError(kind)


KINDS = ["full", "rank1", "rank2", "degenerate"]


def test_energy_stored_energy_purity_definitions(rand) -> None:
    h = rand.hermitian(4)
    rho = rand.density_matrix(4)
    assert energy(rho, h) == pytest.approx(np.trace(rho @ h).real, abs=EXACT)
    assert stored_energy(rho, h) == pytest.approx(np.trace(rho @ h).real - np.linalg.eigvalsh(h)[0], abs=EXACT)
    assert purity(rho) == pytest.approx(np.trace(rho @ rho).real, abs=EXACT)
    assert stored_energy(np.eye(4) / 4, np.diag([-1.0, 0.0, 0.5, 2.5])) == pytest.approx(1.5, abs=EXACT)


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("kind", KINDS)
def test_ergotropy_nonnegative_and_bounded_by_capacity(rand, d: int, kind: str) -> None:
    for _ in range(20):
        h = rand.hermitian(d)
        rho = _random_state(rand, d, kind)
        w = ergotropy(rho, h)
        c = capacity(rho, h)
        assert w >= -EXACT
        assert w <= c + EXACT
        # W <= E - E_min (the passive energy is at least the ground energy) and C <= spectral width
        assert w <= stored_energy(rho, h) + EXACT
        e = np.linalg.eigvalsh(h)
        assert c <= e[-1] - e[0] + EXACT


@pytest.mark.parametrize("multiplicities", DEGENERACIES)
def test_passive_states_have_zero_ergotropy(rand, multiplicities: tuple[int, ...]) -> None:
    h, levels = rand.degenerate_hamiltonian(multiplicities)
    _, vecs = np.linalg.eigh(h)
    d = levels.size
    for _ in range(10):
        # populations non-increasing with energy, in the eigenbasis of H (ties allowed)
        pops = np.sort(rand.probabilities(d))[::-1]
        rho = (vecs * pops) @ vecs.conj().T
        assert abs(ergotropy(rho, h)) < EXACT
        # a unitary acting inside each degenerate level (block diagonal in the eigenbasis) keeps it passive,
        # although the state is then no longer diagonal in the eigenbasis returned by eigh
        blocks = sla.block_diag(*[rand.unitary(m) for m in multiplicities])
        u = vecs @ blocks @ vecs.conj().T
        assert abs(ergotropy(u @ rho @ u.conj().T, h)) < EXACT
    # and a population inversion is not passive: W = (e_max - e_min) for the top eigenstate
    top = dm(vecs[:, -1])
    assert ergotropy(top, h) == pytest.approx(levels[-1] - levels[0], abs=EXACT)


@pytest.mark.parametrize("omega", [0.5, 1.0, 2.3])
def test_qubit_closed_forms(rand, omega: float) -> None:
    h = 0.5 * omega * SIGMA_Z  # index 0 = |g> at -omega/2
    for _ in range(30):
        rho = rand.density_matrix(2) if rand.rng.random() < 0.7 else dm(rand.pure_state(2))
        r = bloch_vector(rho)  # (<X>, <Y>, <Z>) with Z = diag(+1, -1), so <sigma_z> = -r_z
        sz = np.trace(rho @ SIGMA_Z).real
        assert sz == pytest.approx(-r[2], abs=EXACT)
        length = np.linalg.norm(r)
        assert capacity(rho, h) == pytest.approx(omega * length, abs=EXACT)
        assert ergotropy(rho, h) == pytest.approx(0.5 * omega * (sz + length), abs=EXACT)


def test_qubit_capacity_with_arbitrary_hamiltonian(rand) -> None:
    # H = a 1 + (Delta/2) n.sigma has gap Delta in any direction n; C = Delta |r|
    for _ in range(30):
        a, delta = rand.rng.normal(), 0.1 + 3 * rand.rng.random()
        n = rand.rng.normal(size=3)
        n /= np.linalg.norm(n)
        h = a * np.eye(2) + 0.5 * delta * (n[0] * SIGMA_X + n[1] * SIGMA_Y + n[2] * SIGMA_Z)
        rho = rand.density_matrix(2)
        assert capacity(rho, h) == pytest.approx(delta * np.linalg.norm(bloch_vector(rho)), abs=EXACT)


@pytest.mark.parametrize("d", DIMS)
def test_pure_states(rand, d: int) -> None:
    for _ in range(20):
        h = rand.hermitian(d)
        e = np.linalg.eigvalsh(h)
        rho = dm(rand.pure_state(d))
        assert capacity(rho, h) == pytest.approx(e[-1] - e[0], abs=EXACT)  # spectral width
        assert ergotropy(rho, h) == pytest.approx(np.trace(rho @ h).real - e[0], abs=EXACT)  # W = E - E_min
        assert ergotropy(rho, h) == pytest.approx(stored_energy(rho, h), abs=EXACT)


def _is_passive(rho_p: np.ndarray, h: np.ndarray) -> None:
    """Assert rho_p commutes with H and its populations do not increase with energy (basis-independent test)."""
    assert np.max(np.abs(rho_p @ h - h @ rho_p)) < 1e-11
    e, v = np.linalg.eigh(h)
    pops = np.real(np.einsum("ik,ij,jk->k", v.conj(), rho_p, v))
    for i in range(e.size):
        for j in range(e.size):
            if e[j] > e[i] + 1e-9:
                assert pops[j] <= pops[i] + 1e-11


@pytest.mark.parametrize("multiplicities", DEGENERACIES)
@pytest.mark.parametrize("kind", KINDS)
def test_extraction_unitary_gives_passive_state(rand, multiplicities: tuple[int, ...], kind: str) -> None:
    h, _ = rand.degenerate_hamiltonian(multiplicities)
    d = h.shape[0]
    for _ in range(5):
        rho = _random_state(rand, d, kind)
        u = extraction_unitary(rho, h)
        np.testing.assert_allclose(u @ u.conj().T, np.eye(d), atol=1e-12)  # unitary, eigh rounding
        rho_p = u @ rho @ u.conj().T
        np.testing.assert_allclose(rho_p, passive_state(rho, h), atol=1e-12)
        assert energy(rho_p, h) == pytest.approx(passive_energy(rho, h), abs=EXACT)
        assert energy(rho, h) - energy(rho_p, h) == pytest.approx(ergotropy(rho, h), abs=EXACT)
        # same spectrum as rho, and passive in the basis-independent sense
        np.testing.assert_allclose(np.linalg.eigvalsh(rho_p), np.linalg.eigvalsh(rho), atol=1e-12)
        _is_passive(rho_p, h)
        assert abs(ergotropy(rho_p, h)) < EXACT


@pytest.mark.parametrize("d", [2, 3, 5])
def test_ergotropy_is_convex(rand, d: int) -> None:
    for _ in range(50):
        h = rand.hermitian(d)
        rho1, rho2 = rand.density_matrix(d, rank=1 + int(rand.rng.integers(d))), dm(rand.pure_state(d))
        for p in (0.1, 0.37, 0.5, 0.9):
            mix = p * rho1 + (1 - p) * rho2
            assert ergotropy(mix, h) <= p * ergotropy(rho1, h) + (1 - p) * ergotropy(rho2, h) + EXACT


def _min_energy_over_unitaries(rho: np.ndarray, h: np.ndarray, rng: np.random.Generator, starts: int) -> float:
    """min_U Tr[U rho U^dag H] over U = expm(i K), K Hermitian (d^2 real parameters), BFGS from random starts."""
    d = rho.shape[0]
    iu = np.triu_indices(d, 1)

    def unitary(x: np.ndarray) -> np.ndarray:
        k = np.zeros((d, d), dtype=complex)
        k[np.diag_indices(d)] = x[:d]
        m = (d * d - d) // 2
        k[iu] = x[d : d + m] + 1j * x[d + m :]
        k = k + np.triu(k, 1).conj().T
        return sla.expm(1j * k)

    def cost(x: np.ndarray) -> float:
        u = unitary(x)
        return float(np.trace(u @ rho @ u.conj().T @ h).real)

    best = np.inf
    for _ in range(starts):
        res = so.minimize(cost, rng.normal(scale=2.0, size=d * d), method="BFGS", options={"gtol": 1e-9})
        best = min(best, res.fun)
    return best


@pytest.mark.parametrize("d", [2, pytest.param(3, marks=pytest.mark.slow), pytest.param(4, marks=pytest.mark.slow)])
def test_ergotropy_vs_brute_force_unitaries(rand, d: int) -> None:
    h = rand.hermitian(d)
    rho = rand.density_matrix(d)
    e0 = energy(rho, h)
    w = ergotropy(rho, h)
    # 1) Haar-random unitaries never extract more than W
    for _ in range(2000):
        u = rand.unitary(d)
        assert e0 - energy(u @ rho @ u.conj().T, h) <= w + EXACT
    # 2) a local optimiser over unitaries reaches W (from above in energy) to its stopping accuracy
    best = _min_energy_over_unitaries(rho, h, rand.rng, starts=3)
    assert e0 - best <= w + EXACT
    assert e0 - best == pytest.approx(w, abs=1e-6)


@pytest.mark.parametrize("d", DIMS)
def test_capacity_depends_only_on_spectrum(rand, d: int) -> None:
    h = rand.hermitian(d)
    spectrum = rand.probabilities(d)
    rho = rand.with_spectrum(spectrum)
    c = capacity(rho, h)
    for _ in range(10):
        u = rand.unitary(d)
        assert capacity(u @ rho @ u.conj().T, h) == pytest.approx(c, abs=EXACT)
    # the docs/physics.md formula with both spectra ascending
    e = np.sort(np.linalg.eigvalsh(h))
    lam = np.sort(spectrum)
    assert c == pytest.approx(float(np.sum(e * (lam - lam[::-1]))), abs=EXACT)
    assert c >= -EXACT


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("kind", KINDS)
def test_active_and_passive_energy_by_explicit_sorting(rand, d: int, kind: str) -> None:
    h = rand.hermitian(d)
    rho = _random_state(rand, d, kind)
    r = sorted(np.linalg.eigvalsh(rho).tolist())
    e = sorted(np.linalg.eigvalsh(h).tolist())
    passive = sum(ri * ei for ri, ei in zip(reversed(r), e, strict=True))  # r descending with e ascending
    active = sum(ri * ei for ri, ei in zip(r, e, strict=True))  # both ascending
    assert passive_energy(rho, h) == pytest.approx(passive, abs=EXACT)
    assert active_energy(rho, h) == pytest.approx(active, abs=EXACT)
    assert capacity(rho, h) == pytest.approx(active - passive, abs=EXACT)
    # the active energy is the passive energy of -H with the sign flipped (max over the orbit = -min of -H)
    assert active_energy(rho, h) == pytest.approx(-passive_energy(rho, -h), abs=EXACT)
    assert passive_energy(rho, h) <= energy(rho, h) + EXACT <= active_energy(rho, h) + 2 * EXACT


def _dephase_independent(rho: np.ndarray, h: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """sum_E P_E rho P_E written in the eigenbasis of H: keep entries (i, j) with e_i == e_j."""
    _, v = np.linalg.eigh(h)
    same = np.isclose(levels[:, None], levels[None, :], rtol=0, atol=1e-9)
    return v @ (np.where(same, v.conj().T @ rho @ v, 0.0)) @ v.conj().T


@pytest.mark.parametrize("multiplicities", DEGENERACIES)
@pytest.mark.parametrize("kind", KINDS)
def test_coherent_plus_incoherent_ergotropy(rand, multiplicities: tuple[int, ...], kind: str) -> None:
    h, levels = rand.degenerate_hamiltonian(multiplicities)
    d = levels.size
    for _ in range(5):
        rho = _random_state(rand, d, kind)
        w_i, w_c = incoherent_ergotropy(rho, h), coherent_ergotropy(rho, h)
        assert w_i >= -EXACT
        assert w_c >= -EXACT
        assert w_i + w_c == pytest.approx(ergotropy(rho, h), abs=EXACT)
        assert w_i == pytest.approx(ergotropy(_dephase_independent(rho, h, levels), h), abs=1e-11)
        # states block-diagonal in the energy levels (coherence only inside degenerate levels) have W_c = 0
        rho_diag = _dephase_independent(rho, h, levels)
        assert abs(coherent_ergotropy(rho_diag, h)) < 1e-11
        assert incoherent_ergotropy(rho_diag, h) == pytest.approx(ergotropy(rho_diag, h), abs=1e-11)


def test_coherent_ergotropy_of_plus_state() -> None:
    # |+> with H = (omega/2) sigma_z: W = omega/2 (pure, energy 0 above -omega/2), dephased = 1/2 => W_i = 0
    omega = 1.7
    h = 0.5 * omega * SIGMA_Z
    plus = dm(np.array([1.0, 1.0]) / np.sqrt(2))
    assert ergotropy(plus, h) == pytest.approx(omega / 2, abs=EXACT)
    assert incoherent_ergotropy(plus, h) == pytest.approx(0.0, abs=EXACT)
    assert coherent_ergotropy(plus, h) == pytest.approx(omega / 2, abs=EXACT)


@pytest.mark.parametrize("multiplicities", DEGENERACIES)
def test_dephasing_keeps_coherence_within_degenerate_levels(rand, multiplicities: tuple[int, ...]) -> None:
    h, levels = rand.degenerate_hamiltonian(multiplicities)
    rho = rand.density_matrix(levels.size)
    out = dephase(rho, h)
    np.testing.assert_allclose(out, _dephase_independent(rho, h, levels), atol=1e-12)
    # in the eigenbasis of H: blocks of each degenerate level are untouched, everything else is zero
    _, v = np.linalg.eigh(h)
    before, after = v.conj().T @ rho @ v, v.conj().T @ out @ v
    start = 0
    for m in multiplicities:
        sl = slice(start, start + m)
        np.testing.assert_allclose(after[sl, sl], before[sl, sl], atol=1e-12)
        start += m
    mask = np.isclose(levels[:, None], levels[None, :], atol=1e-9)
    assert np.max(np.abs(after[~mask]), initial=0.0) < 1e-12
    if max(multiplicities) > 1:  # a degenerate level exists: some coherence survives
        assert np.max(np.abs(after - np.diag(np.diag(after)))) > 1e-3
    # trace preserved, idempotent
    assert np.trace(out).real == pytest.approx(1.0, abs=EXACT)
    np.testing.assert_allclose(dephase(out, h), out, atol=1e-12)


# --------------------------------------------------------------------------------------------------------
# (value, multiplicity) spectral forms


def _expand(values, counts) -> np.ndarray:
    return np.repeat(np.asarray(values, dtype=float), counts)


@pytest.mark.parametrize("trial", range(8))
def test_spectra_forms_match_dense(rand, trial: int) -> None:
    rng = rand.rng
    # random (unsorted) energy levels with multiplicities 0..3, and a rho spectrum with ties and zero weights
    e_vals = rng.normal(size=int(rng.integers(2, 6)))
    e_counts = rng.integers(0, 4, size=e_vals.size)
    e_counts[0] = max(e_counts[0], 1)
    dim = int(e_counts.sum())
    r_counts = []
    remaining = dim
    while remaining:
        c = int(rng.integers(0, min(remaining, 3) + 1))
        r_counts.append(c)
        remaining -= c
    r_vals = rng.random(len(r_counts))
    r_vals[rng.random(len(r_counts)) < 0.25] = 0.0
    if trial % 2:  # exact ties between different entries
        r_vals[-1] = r_vals[0]
    if _expand(r_vals, r_counts).sum() == 0:  # keep at least one positive weight
        r_vals[int(np.argmax(np.asarray(r_counts) > 0))] = 1.0
    r_full = _expand(r_vals, r_counts)
    scale = r_full.sum()
    r_vals, r_full = r_vals / scale, r_full / scale
    h = rand.with_spectrum(_expand(e_vals, e_counts))
    rho = rand.with_spectrum(r_full)
    args = (r_vals, r_counts, e_vals, e_counts)
    assert passive_energy_from_spectra(*args) == pytest.approx(passive_energy(rho, h), abs=EXACT)
    assert passive_energy_from_spectra(*args, descending=False) == pytest.approx(active_energy(rho, h), abs=EXACT)
    assert capacity_from_spectra(*args) == pytest.approx(capacity(rho, h), abs=EXACT)


def _three_level_closed_form(m: int) -> tuple[float, float, float]:
    """Energies 0 (x1), 1 (x m), 2 (x1); rho eigenvalues 0.3 (x1), 0.2 (x1), 0.5/m (x m), m >= 3 (0.5/m < 0.2).

    Passive: 0.3*0 + 0.2*1 + (0.5/m)*(m-1)*1 + (0.5/m)*2 = 0.7 + 0.5/m.
    Active:  (0.5/m)*0 + (0.5/m)*(m-1)*1 + 0.2*1 + 0.3*2 = 1.3 - 0.5/m.
    """
    return 0.7 + 0.5 / m, 1.3 - 0.5 / m, 0.6 - 1.0 / m


@pytest.mark.parametrize("m", [3, 4, 7, 40])
def test_three_level_closed_form_against_dense(m: int) -> None:
    # validates the closed form used below for multiplicities that cannot be expanded
    energies = _expand([0.0, 1.0, 2.0], [1, m, 1])
    r = _expand([0.3, 0.2, 0.5 / m], [1, 1, m])
    rho, h = np.diag(r), np.diag(energies)
    passive, active, cap = _three_level_closed_form(m)
    assert passive_energy(rho, h) == pytest.approx(passive, abs=EXACT)
    assert active_energy(rho, h) == pytest.approx(active, abs=EXACT)
    assert capacity(rho, h) == pytest.approx(cap, abs=EXACT)


@pytest.mark.parametrize("m", [3, 7, 40, 10**6, 10**25, 3**200])
def test_spectra_forms_with_huge_multiplicities(m: int) -> None:
    passive, active, cap = _three_level_closed_form(m)
    args = ([0.5 / m, 0.3, 0.2], [m, 1, 1], [2.0, 0.0, 1.0], [1, 1, m])  # deliberately unsorted
    # sums of 4 products with float(m) weights: relative rounding ~1e-16
    assert passive_energy_from_spectra(*args) == pytest.approx(passive, rel=1e-12)
    assert passive_energy_from_spectra(*args, descending=False) == pytest.approx(active, rel=1e-12)
    assert capacity_from_spectra(*args) == pytest.approx(cap, rel=1e-12)


def test_spectra_forms_zero_eigenvalue_with_unrepresentable_multiplicity() -> None:
    # a pure state in a space of dimension 1 + 10**400 (float(10**400) overflows): passive energy = ground
    # energy 0, active energy = top energy 1, capacity = spectral width 1
    big = 10**400
    args = ([1.0, 0.0], [1, big], [0.0, 1.0], [big - 5, 6])
    assert passive_energy_from_spectra(*args) == 0.0
    assert passive_energy_from_spectra(*args, descending=False) == 1.0
    assert capacity_from_spectra(*args) == 1.0


def test_spectra_forms_reject_inconsistent_input() -> None:
    with pytest.raises(ValueError, match="different dimensions"):
        passive_energy_from_spectra([1.0], [3], [0.0, 1.0], [1, 1])
    with pytest.raises(ValueError, match="differ in length"):
        capacity_from_spectra([1.0, 0.0], [1], [0.0, 1.0], [1, 1])
    with pytest.raises(ValueError, match=">= 0"):
        passive_energy_from_spectra([1.0, 0.0], [2, -1], [0.0], [1])
