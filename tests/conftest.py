"""Shared test fixtures: seeded random states, Hamiltonians and unitaries.

Every test that needs randomness takes the ``rng`` fixture (a numpy Generator whose seed is derived from the
test's node id, so each test is reproducible and different tests see different draws) or ``rand``, a
``RandomStates`` bound to that generator. Matrices are dense numpy arrays in qbhw's convention (big-endian,
basis index 0 = |g>).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pytest

#: base seed of every test's generator; the per-test seed is BASE_SEED + crc32(node id)
BASE_SEED = 20_250_601


@pytest.fixture(autouse=True)
def _no_user_calibrations(tmp_path_factory, monkeypatch):
    """A developer's own calibrations folder must not shadow the built-in devices in tests: point it at an empty
    folder (tests that exercise the user folder set QBHW_CALIBRATIONS themselves)."""
    monkeypatch.setenv("QBHW_CALIBRATIONS", str(tmp_path_factory.mktemp("user_calibrations")))


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """Each test worker runs its numerics on one BLAS thread, as the command line does (qbhw._threads)."""
    from qbhw._threads import limit_threads

    with limit_threads():
        yield


@dataclass(frozen=True)
class RandomStates:
    """Random matrices drawn from one seeded numpy Generator."""

    rng: np.random.Generator

    def ginibre(self, rows: int, cols: int) -> np.ndarray:
        """Complex Gaussian matrix with i.i.d. N(0, 1/2) + i N(0, 1/2) entries."""
        return (self.rng.normal(size=(rows, cols)) + 1j * self.rng.normal(size=(rows, cols))) / np.sqrt(2.0)

    def unitary(self, d: int) -> np.ndarray:
        """Haar-random unitary (QR of a Ginibre matrix with the phase fix of Mezzadri 2007)."""
        q, r = np.linalg.qr(self.ginibre(d, d))
        phases = np.diag(r) / np.abs(np.diag(r))
        return q * phases

    def pure_state(self, d: int) -> np.ndarray:
        """Haar-random normalised ket of dimension d."""
        v = self.ginibre(d, 1).reshape(-1)
        return v / np.linalg.norm(v)

    def density_matrix(self, d: int, rank: int | None = None) -> np.ndarray:
        """Random density matrix G G^dagger / Tr of the given rank (full rank by default)."""
        g = self.ginibre(d, d if rank is None else rank)
        rho = g @ g.conj().T
        rho = rho / np.trace(rho).real
        return 0.5 * (rho + rho.conj().T)

    def real_density_matrix(self, d: int) -> np.ndarray:
        """Random real symmetric density matrix (no imaginarity)."""
        g = self.rng.normal(size=(d, d))
        rho = g @ g.T
        return rho / np.trace(rho)

    def hermitian(self, d: int) -> np.ndarray:
        """GUE-like random Hermitian matrix."""
        g = self.ginibre(d, d)
        return 0.5 * (g + g.conj().T)

    def with_spectrum(self, eigenvalues: np.ndarray) -> np.ndarray:
        """U diag(eigenvalues) U^dagger with U Haar random (degenerate spectra allowed)."""
        ev = np.asarray(eigenvalues, dtype=float)
        u = self.unitary(ev.size)
        out = (u * ev) @ u.conj().T
        return 0.5 * (out + out.conj().T)

    def degenerate_hamiltonian(self, multiplicities: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Random-basis Hamiltonian with distinct random levels of the given multiplicities.

        Returns (H, levels expanded in ascending order). Levels are separated by at least 0.2.
        """
        gaps = 0.2 + self.rng.random(len(multiplicities))
        levels = np.cumsum(gaps) - 1.0
        expanded = np.repeat(levels, multiplicities)
        return self.with_spectrum(expanded), expanded

    def probabilities(self, d: int) -> np.ndarray:
        """Random probability vector of length d (flat Dirichlet)."""
        return self.rng.dirichlet(np.ones(d))


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """numpy Generator seeded from the test's node id (reproducible, distinct per test)."""
    return np.random.default_rng(BASE_SEED + zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def rand(rng: np.random.Generator) -> RandomStates:
    return RandomStates(rng)
