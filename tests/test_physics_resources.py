"""Quantum resources (docs/physics.md section 2.1): Wootters concurrence, linear steering F3, CHSH maximum,
l1 coherence, l1 imaginarity, state texture.

Two-qubit arrays are big-endian (qubit 0 = leftmost Kronecker factor); Paulis X, Y, Z with Z = diag(+1, -1) on
the computational basis; T_ij = Tr[rho sigma_i x sigma_j]. The flat state is |f> = d^{-1/2} sum_i |i>.

Tolerances: closed forms and pure-state formulas 1e-10 (rounding); Wootters concurrence of mixed states 1e-7
(an independent implementation takes square roots of near-zero eigenvalues of rho rho~, losing half the digits,
docs/physics.md 2.2); brute-force optimisations 1e-6 (optimiser stopping accuracy).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so
from scipy.spatial.transform import Rotation

from qbhw.physics import (
    bloch_vector,
    chsh,
    coherence_l1,
    concurrence,
    correlation_matrix,
    imaginarity_l1,
    partial_trace,
    steering,
    texture,
)
from qbhw.physics.operators import PAULI_X, PAULI_Y, PAULI_Z, dm

PAULIS = (PAULI_X, PAULI_Y, PAULI_Z)
YY = np.kron(PAULI_Y, PAULI_Y)
CLOSED = 1e-10  # closed forms / pure-state formulas: float rounding
WOOTTERS = 1e-7  # sqrt of near-zero eigenvalues of rho rho~ in the independent implementation

SQ2 = np.sqrt(2.0)
BELL = {
    "phi+": np.array([1, 0, 0, 1]) / SQ2,
    "phi-": np.array([1, 0, 0, -1]) / SQ2,
    "psi+": np.array([0, 1, 1, 0]) / SQ2,
    "psi-": np.array([0, 1, -1, 0]) / SQ2,
}


def pure_concurrence(psi: np.ndarray) -> float:
    """|<psi| Y x Y |psi*>|."""
    return float(abs(psi.conj() @ YY @ psi.conj()))


def reduced_concurrence(psi: np.ndarray) -> float:
    """sqrt(2 (1 - Tr rho_b^2)), rho_b the reduced state of qubit 0."""
    rho_b = partial_trace(dm(psi), [2, 2], [0])
    return float(np.sqrt(max(0.0, 2.0 * (1.0 - np.trace(rho_b @ rho_b).real))))


def wootters_by_eigenvalues(rho: np.ndarray) -> float:
    """Textbook Wootters: l_i = sqrt of the eigenvalues of rho (Y x Y) rho* (Y x Y), descending."""
    rho_tilde = YY @ rho.conj() @ YY
    ev = np.linalg.eigvals(rho @ rho_tilde)
    lam = np.sort(np.sqrt(np.clip(ev.real, 0.0, None)))[::-1]
    return float(max(0.0, lam[0] - lam[1] - lam[2] - lam[3]))


def werner(p: float) -> np.ndarray:
    return p * dm(BELL["psi-"]) + (1 - p) * np.eye(4) / 4


def product_state(rand) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = rand.density_matrix(2), rand.density_matrix(2)
    return np.kron(a, b), bloch_vector(a), bloch_vector(b)


# --------------------------------------------------------------------------------------------------------
# concurrence


def test_concurrence_pure_states(rand) -> None:
    for _ in range(200):
        psi = rand.pure_state(4)
        c = concurrence(dm(psi))
        assert c == pytest.approx(pure_concurrence(psi), abs=CLOSED)
        assert c == pytest.approx(reduced_concurrence(psi), abs=CLOSED)


@pytest.mark.parametrize("name", list(BELL))
def test_concurrence_bell_and_product(rand, name: str) -> None:
    assert concurrence(dm(BELL[name])) == pytest.approx(1.0, abs=CLOSED)
    assert concurrence(np.kron(dm(rand.pure_state(2)), dm(rand.pure_state(2)))) == pytest.approx(0.0, abs=CLOSED)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.3, 1 / 3, 0.34, 0.5, 0.8, 0.99, 1.0])
def test_concurrence_werner(p: float) -> None:
    assert concurrence(werner(p)) == pytest.approx(max(0.0, (3 * p - 1) / 2), abs=WOOTTERS)


@pytest.mark.parametrize("rank", [1, 2, 3, 4])
def test_concurrence_vs_independent_wootters(rand, rank: int) -> None:
    entangled = 0
    for _ in range(100):
        rho = rand.density_matrix(4, rank=rank)
        c = concurrence(rho)
        assert c == pytest.approx(wootters_by_eigenvalues(rho), abs=WOOTTERS)
        entangled += c > 1e-3
    assert entangled > 0  # the comparison was not only between zeros


def test_concurrence_invariant_under_local_unitaries(rand) -> None:
    for _ in range(30):
        rho = rand.density_matrix(4, rank=2)
        u = np.kron(rand.unitary(2), rand.unitary(2))
        assert concurrence(u @ rho @ u.conj().T) == pytest.approx(concurrence(rho), abs=WOOTTERS)


# --------------------------------------------------------------------------------------------------------
# steering and CHSH


@pytest.mark.parametrize("name", list(BELL))
def test_bell_states_steering_and_chsh(name: str) -> None:
    rho = dm(BELL[name])
    assert steering(rho) == pytest.approx(np.sqrt(3.0), abs=CLOSED)
    assert chsh(rho) == pytest.approx(2 * SQ2, abs=CLOSED)


def test_correlation_matrix_definition(rand) -> None:
    rho = rand.density_matrix(4)
    t = correlation_matrix(rho)
    for i, a in enumerate(PAULIS):
        for j, b in enumerate(PAULIS):
            assert t[i, j] == pytest.approx(np.trace(rho @ np.kron(a, b)).real, abs=CLOSED)
    # psi- has T = -1 (the singlet is anticorrelated along every axis)
    np.testing.assert_allclose(correlation_matrix(dm(BELL["psi-"])), -np.eye(3), atol=CLOSED)


def test_product_states_steering_and_chsh(rand) -> None:
    # T = a b^T for rho_a x rho_b, so F3 = |a||b| and B_max = 2|a||b| (rank-one T)
    for _ in range(30):
        rho, a, b = product_state(rand)
        ab = np.linalg.norm(a) * np.linalg.norm(b)
        assert steering(rho) == pytest.approx(ab, abs=CLOSED)
        assert chsh(rho) == pytest.approx(2 * ab, abs=CLOSED)
    pure = np.kron(dm(rand.pure_state(2)), dm(rand.pure_state(2)))
    assert steering(pure) == pytest.approx(1.0, abs=CLOSED)
    assert chsh(pure) == pytest.approx(2.0, abs=CLOSED)


@pytest.mark.parametrize("p", [0.0, 0.2, 1 / SQ2, 0.9, 1.0])
def test_werner_steering_and_chsh(p: float) -> None:
    # T = -p 1: F3 = sqrt(3) p, B_max = 2 sqrt(2) p
    assert steering(werner(p)) == pytest.approx(np.sqrt(3.0) * p, abs=CLOSED)
    assert chsh(werner(p)) == pytest.approx(2 * SQ2 * p, abs=CLOSED)


def test_pure_state_identities(rand) -> None:
    for _ in range(200):
        psi = rand.pure_state(4)
        e = pure_concurrence(psi)
        rho = dm(psi)
        assert chsh(rho) == pytest.approx(2 * np.sqrt(1 + e**2), abs=CLOSED)
        assert steering(rho) == pytest.approx(np.sqrt(1 + 2 * e**2), abs=CLOSED)


def _unit(theta: float, phi: float) -> np.ndarray:
    return np.array([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])


def _chsh_value(x: np.ndarray, t: np.ndarray) -> float:
    """|a.T b + a.T b' + a'.T b - a'.T b'| for the four unit vectors parametrised by x (8 angles)."""
    a, a2, b, b2 = (_unit(x[2 * k], x[2 * k + 1]) for k in range(4))
    return float(abs(a @ t @ (b + b2) + a2 @ t @ (b - b2)))


def test_chsh_vs_brute_force_over_directions(rand) -> None:
    states = [rand.density_matrix(4, rank=2), dm(rand.pure_state(4)), werner(0.8)]
    for rho in states:
        t = correlation_matrix(rho)
        b_max = chsh(rho)
        # random settings never exceed the Horodecki maximum
        for _ in range(2000):
            assert _chsh_value(rand.rng.uniform(0, 2 * np.pi, 8), t) <= b_max + CLOSED
        # BFGS from a few random starts reaches it
        best = 0.0
        for _ in range(4):
            res = so.minimize(
                lambda x: -_chsh_value(x, t), rand.rng.uniform(0, 2 * np.pi, 8), method="BFGS", options={"gtol": 1e-9}
            )
            best = max(best, -res.fun)
        assert best <= b_max + CLOSED
        assert best == pytest.approx(b_max, abs=1e-6)


def test_steering_vs_brute_force_over_orthonormal_settings(rand) -> None:
    # F3 = max over orthonormal {u_k} and unit {v_k} of (1/sqrt 3) |sum_k u_k.T v_k|
    #    = max over rotations R of (1/sqrt 3) sum_k |T^T R e_k|  (optimal v_k = T^T u_k / |T^T u_k|)
    for rho in (rand.density_matrix(4, rank=2), dm(rand.pure_state(4))):
        t = correlation_matrix(rho)
        f3 = steering(rho)

        def value(x: np.ndarray) -> float:
            r = Rotation.from_rotvec(x).as_matrix()
            return float(np.sum(np.linalg.norm(t.T @ r, axis=0)) / np.sqrt(3.0))

        for _ in range(1000):
            assert value(rand.rng.normal(size=3)) <= f3 + CLOSED
        best = max(
            -so.minimize(
                lambda x: -value(x),
                rand.rng.normal(size=3),
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-13},
            ).fun
            for _ in range(4)
        )
        assert best <= f3 + CLOSED
        assert best == pytest.approx(f3, abs=1e-6)


# --------------------------------------------------------------------------------------------------------
# l1 coherence, imaginarity, texture


@pytest.mark.parametrize("d", [2, 3, 5])
def test_coherence_and_imaginarity_definitions(rand, d: int) -> None:
    rho = rand.density_matrix(d)
    off = ~np.eye(d, dtype=bool)
    assert coherence_l1(rho) == pytest.approx(float(np.sum(np.abs(rho[off]))), abs=CLOSED)
    assert imaginarity_l1(rho) == pytest.approx(float(np.sum(np.abs(rho[off].imag))), abs=CLOSED)
    # maximally coherent |f>: every off-diagonal entry 1/d, C_l1 = d - 1; diagonal states have none
    assert coherence_l1(np.full((d, d), 1.0 / d)) == pytest.approx(d - 1, abs=CLOSED)
    assert coherence_l1(np.diag(rand.probabilities(d))) == 0.0
    # basis relabelling (permutation) does not change either measure; conjugation keeps imaginarity
    perm = np.eye(d)[rand.rng.permutation(d)]
    assert coherence_l1(perm @ rho @ perm.T) == pytest.approx(coherence_l1(rho), abs=CLOSED)
    assert imaginarity_l1(rho.conj()) == pytest.approx(imaginarity_l1(rho), abs=CLOSED)


def test_imaginarity_values(rand) -> None:
    for d in (2, 3, 6):
        assert imaginarity_l1(rand.real_density_matrix(d)) == 0.0
    plus_i = dm(np.array([1.0, 1j]) / SQ2)  # rho_01 = -i/2
    assert imaginarity_l1(plus_i) == pytest.approx(1.0, abs=CLOSED)
    assert coherence_l1(plus_i) == pytest.approx(1.0, abs=CLOSED)
    plus = dm(np.array([1.0, 1.0]) / SQ2)
    assert imaginarity_l1(plus) == 0.0
    assert coherence_l1(plus) == pytest.approx(1.0, abs=CLOSED)


@pytest.mark.parametrize("d", [2, 3, 4, 7])
def test_texture_flat_state_and_pure_states(rand, d: int) -> None:
    flat = np.full(d, 1 / np.sqrt(d))
    assert texture(dm(flat)) == pytest.approx(0.0, abs=CLOSED)
    for _ in range(30):
        psi = rand.pure_state(d)
        # trace distance between pure states sqrt(1 - |<f|psi>|^2)
        assert texture(dm(psi)) == pytest.approx(np.sqrt(1 - abs(flat @ psi) ** 2), abs=CLOSED)


def test_texture_qubit_is_half_bloch_distance(rand) -> None:
    # |f> = |+> has Bloch vector x = (1, 0, 0); the qubit trace distance is half the Bloch distance
    x = np.array([1.0, 0.0, 0.0])
    for _ in range(50):
        rho = rand.density_matrix(2)
        assert texture(rho) == pytest.approx(0.5 * np.linalg.norm(bloch_vector(rho) - x), abs=CLOSED)
    assert texture(np.eye(2) / 2) == pytest.approx(0.5, abs=CLOSED)


# --------------------------------------------------------------------------------------------------------
# the reference table of docs/physics.md 2.2 (charger state psi = a|01> + b|10>, order b, c)


CHARGER_TABLE = [  # t, E, F3, B_max, I, T_tr(rho_b)
    (0.3, 0.5646424734, 1.2797039679, 2.2967987485, 0.5646424734, 0.6483014108),
    (np.pi / 8, 0.7071067812, 1.4142135624, 2.4494897428, 0.7071067812, 0.6123724357),
    (0.6, 0.9320390860, 1.6545070914, 2.7340057482, 0.9320390860, 0.5318136756),
    (np.pi / 4, 1.0, 1.7320508076, 2.8284271247, 1.0, 0.5),
    (1.0, 0.9092974268, 1.6290008044, 2.7031994454, 0.9092974268, 0.5415667525),
]


@pytest.mark.parametrize(("t", "e", "f3", "bmax", "imag", "tex_b"), CHARGER_TABLE)
def test_resources_on_physics_md_charger_table(t, e, f3, bmax, imag, tex_b) -> None:
    # omega_b = omega_c = 1 (delta = 0), J1 = 1: a = cos t, b = -i sin t (J2 only adds a global phase)
    psi = np.array([0.0, np.cos(t), -1j * np.sin(t), 0.0])
    rho = dm(psi)
    rho_b = partial_trace(rho, [2, 2], [0])
    printed = 0.5e-10  # half a unit of the 10 printed decimals
    assert concurrence(rho) == pytest.approx(e, abs=printed + CLOSED)
    assert steering(rho) == pytest.approx(f3, abs=printed + CLOSED)
    assert chsh(rho) == pytest.approx(bmax, abs=printed + CLOSED)
    assert imaginarity_l1(rho) == pytest.approx(imag, abs=printed + CLOSED)
    assert coherence_l1(rho) == pytest.approx(e, abs=printed + CLOSED)  # C_l1(global) = E for this family
    assert texture(rho_b) == pytest.approx(tex_b, abs=printed + CLOSED)
    assert texture(rho) == pytest.approx(np.sqrt(3) / 2, abs=CLOSED)  # constant at resonance


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="4, 4"):
        concurrence(np.eye(2) / 2)
    with pytest.raises(ValueError, match="2, 2"):
        bloch_vector(np.eye(4) / 4)
    with pytest.raises(ValueError, match="square"):
        texture(np.ones((2, 3)))
