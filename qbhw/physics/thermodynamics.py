"""Energetic figures of merit of a battery state rho with Hamiltonian H.

Definitions (docs/physics.md section 0):

* ergotropy   W(rho, H) = Tr[rho H] - sum_k r_k(desc) e_k(asc)       (Allahverdyan, Balian, Nieuwenhuizen 2004)
* passive state          sum_k r_k(desc) |e_k(asc)><e_k(asc)|
* extraction unitary U*  sum_k |e_k(asc)><r_k(desc)|, so that U* rho U*^dagger is the passive state
* capacity    C(rho, H) = Tr[rho_up H] - Tr[rho_down H] = sum_i e_i (l_i - l_{d-1-i}), e and l both ascending
                          (the highest minus the lowest energy on the unitary orbit of rho)
* incoherent ergotropy   W_i = W(Delta_H[rho]) with Delta_H the dephasing between distinct energy levels
                          (coherence inside a degenerate level is not energetic coherence); W_c = W - W_i >= 0.

Every function takes dense arrays. Block-diagonal solvers whose blocks carry huge multiplicities use the
``*_from_spectra`` forms, which take (value, multiplicity) pairs with integer multiplicities.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _hermitian(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=complex)
    return 0.5 * (a + a.conj().T)


def energy(rho: np.ndarray, hamiltonian: np.ndarray) -> float:
    """Tr[rho H]."""
    return float(np.real(np.einsum("ij,ji->", np.asarray(rho), np.asarray(hamiltonian))))


def stored_energy(rho: np.ndarray, hamiltonian: np.ndarray) -> float:
    """Tr[rho H] minus the ground energy of H: the energy above the empty battery."""
    return energy(rho, hamiltonian) - float(np.linalg.eigvalsh(_hermitian(hamiltonian))[0])


def purity(rho: np.ndarray) -> float:
    """Tr[rho^2]."""
    r = np.asarray(rho)
    return float(np.real(np.einsum("ij,ji->", r, r)))


def passive_energy(rho: np.ndarray, hamiltonian: np.ndarray) -> float:
    """Lowest energy on the unitary orbit of rho: sum_k r_k(desc) e_k(asc)."""
    r = np.linalg.eigvalsh(_hermitian(rho))[::-1]
    e = np.linalg.eigvalsh(_hermitian(hamiltonian))
    return float(np.dot(r, e))


def active_energy(rho: np.ndarray, hamiltonian: np.ndarray) -> float:
    """Highest energy on the unitary orbit of rho: sum_k r_k(asc) e_k(asc)."""
    r = np.linalg.eigvalsh(_hermitian(rho))
    e = np.linalg.eigvalsh(_hermitian(hamiltonian))
    return float(np.dot(r, e))


def ergotropy(rho: np.ndarray, hamiltonian: np.ndarray) -> float:
    """Maximum work extractable by a unitary: Tr[rho H] - passive energy (>= 0 up to rounding)."""
    return energy(rho, hamiltonian) - passive_energy(rho, hamiltonian)


def capacity(rho: np.ndarray, hamiltonian: np.ndarray) -> float:
    """Battery capacity C = active energy - passive energy (Yang et al. 2023); depends only on the spectrum."""
    r = np.linalg.eigvalsh(_hermitian(rho))
    e = np.linalg.eigvalsh(_hermitian(hamiltonian))
    return float(np.dot(e, r - r[::-1]))


def passive_state(rho: np.ndarray, hamiltonian: np.ndarray) -> np.ndarray:
    """sum_k r_k(desc) |e_k(asc)><e_k(asc)|."""
    r = np.linalg.eigvalsh(_hermitian(rho))[::-1]
    _, evecs = np.linalg.eigh(_hermitian(hamiltonian))
    return (evecs * r) @ evecs.conj().T


def _fix_phases(vecs: np.ndarray, tol: float) -> np.ndarray:
    """Scale each column so that its largest-modulus component (lowest index among near-ties) is real > 0."""
    out = np.array(vecs, dtype=complex)
    for k in range(out.shape[1]):
        mags = np.abs(out[:, k])
        lead = int(np.flatnonzero(mags >= (1.0 - tol) * mags.max())[0])
        out[:, k] *= np.conj(out[lead, k]) / mags[lead]
    return out


def extraction_unitary(rho: np.ndarray, hamiltonian: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """U* = sum_k |e_k(asc)><r_k(desc)|: maps the eigenvectors of rho onto those of H, in matching order.

    U* rho U*^dagger is the passive state and Tr[rho H] - Tr[U* rho U*^dagger H] is the ergotropy. U* is not
    unique: every eigenvector carries a free phase, and any basis of a degenerate eigenspace of rho will do. All
    choices are optimal for rho but act differently on OTHER states (a limit cycle applies U* of the steady state
    to the state at the end of charging), and LAPACK may return any of them. The choice here is reproducible:

    * ties in the spectrum of rho (within ``tol``): the tied subspace is spanned by the eigenvectors of H
      projected onto it, in ascending energy (the limit of lifting the tie in favour of the lower energy);
    * phases: every eigenvector of rho and of H is scaled so that its largest-modulus component is real > 0.

    A degenerate eigenspace of H keeps the basis numpy.linalg.eigh returns (no energy depends on it).
    """
    r = _hermitian(rho)
    h = _hermitian(hamiltonian)
    pops, rvecs = np.linalg.eigh(r)
    pops, rvecs = pops[::-1], rvecs[:, ::-1]  # descending populations
    ordered = []
    start = 0
    for k in range(1, len(pops) + 1):
        if k == len(pops) or pops[start] - pops[k] > tol:
            block = rvecs[:, start:k]
            if k - start > 1:
                _, rot = np.linalg.eigh(block.conj().T @ h @ block)  # ascending energy inside the tie
                block = block @ rot
            ordered.append(block)
            start = k
    rvecs = _fix_phases(np.hstack(ordered), tol)
    _, evecs = np.linalg.eigh(h)
    return _fix_phases(evecs, tol) @ rvecs.conj().T


def energy_levels(hamiltonian: np.ndarray, tol: float = 1e-9) -> list[tuple[float, np.ndarray]]:
    """Distinct energies of H with the projector onto each level; eigenvalues closer than tol*scale merge."""
    e, v = np.linalg.eigh(_hermitian(hamiltonian))
    scale = max(1.0, float(np.max(np.abs(e))))
    levels: list[tuple[float, np.ndarray]] = []
    start = 0
    for k in range(1, len(e) + 1):
        if k == len(e) or e[k] - e[k - 1] > tol * scale:
            block = v[:, start:k]
            levels.append((float(np.mean(e[start:k])), block @ block.conj().T))
            start = k
    return levels


def dephase(rho: np.ndarray, hamiltonian: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Delta_H[rho] = sum_E P_E rho P_E over the distinct energy levels of H."""
    r = np.asarray(rho, dtype=complex)
    return sum(p @ r @ p for _, p in energy_levels(hamiltonian, tol))


def incoherent_ergotropy(rho: np.ndarray, hamiltonian: np.ndarray) -> float:
    """Work extractable without using coherence between energy levels: W(Delta_H[rho], H)."""
    return ergotropy(dephase(rho, hamiltonian), hamiltonian)


def coherent_ergotropy(rho: np.ndarray, hamiltonian: np.ndarray) -> float:
    """W - W_i: the part of the ergotropy that needs coherence between energy levels (>= 0)."""
    return ergotropy(rho, hamiltonian) - incoherent_ergotropy(rho, hamiltonian)


# ---------------------------------------------------------------------------------------------------------
# Spectral forms with integer multiplicities (for block-diagonal states whose blocks repeat many times).


def _paired_sum(a_vals: np.ndarray, a_counts: Sequence[int], b_vals: np.ndarray, b_counts: Sequence[int]) -> float:
    """sum over the expanded lists a and b (already in pairing order) of a_k * b_k, without expanding."""
    i = j = 0
    ra = int(a_counts[0]) if len(a_counts) else 0
    rb = int(b_counts[0]) if len(b_counts) else 0
    total = 0.0
    while i < len(a_vals) and j < len(b_vals):
        take = min(ra, rb)
        product = float(a_vals[i]) * float(b_vals[j])
        if product != 0.0:  # a zero eigenvalue may carry a multiplicity too large for a float
            total += product * float(take)
        ra -= take
        rb -= take
        if ra == 0:
            i += 1
            ra = int(a_counts[i]) if i < len(a_counts) else 0
        if rb == 0:
            j += 1
            rb = int(b_counts[j]) if j < len(b_counts) else 0
    return total


def _check_spectra(values, counts, name: str) -> tuple[np.ndarray, list[int]]:
    values = np.asarray(values, dtype=float).reshape(-1)
    counts = [int(c) for c in counts]
    if len(values) != len(counts):
        raise ValueError(f"{name}: values and multiplicities differ in length ({len(values)} vs {len(counts)})")
    if any(c < 0 for c in counts):
        raise ValueError(f"{name}: multiplicities must be >= 0")
    return values, counts


def passive_energy_from_spectra(
    rho_eigenvalues, rho_multiplicities, energies, energy_multiplicities, *, descending: bool = True
) -> float:
    """sum_k r_k e_k with r sorted descending (passive; ``descending=False`` gives the active energy).

    The two expanded lists must have the same total length (the Hilbert-space dimension).
    """
    r, rc = _check_spectra(rho_eigenvalues, rho_multiplicities, "rho spectrum")
    e, ec = _check_spectra(energies, energy_multiplicities, "energy spectrum")
    if sum(rc) != sum(ec):
        raise ValueError(f"spectra of rho and H have different dimensions ({sum(rc)} vs {sum(ec)})")
    ro = np.argsort(r)
    if descending:
        ro = ro[::-1]
    eo = np.argsort(e)
    return _paired_sum(r[ro], [rc[k] for k in ro], e[eo], [ec[k] for k in eo])


def capacity_from_spectra(rho_eigenvalues, rho_multiplicities, energies, energy_multiplicities) -> float:
    """Active minus passive energy, from (value, multiplicity) spectra."""
    up = passive_energy_from_spectra(
        rho_eigenvalues, rho_multiplicities, energies, energy_multiplicities, descending=False
    )
    down = passive_energy_from_spectra(rho_eigenvalues, rho_multiplicities, energies, energy_multiplicities)
    return up - down
