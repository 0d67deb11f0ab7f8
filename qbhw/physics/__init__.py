"""Pure numpy/scipy physics: operators, thermal factors, Lindblad tools, thermodynamics, quantum resources."""

from qbhw.physics.bohr import bohr_components
from qbhw.physics.lindblad import (
    dissipator,
    evolve,
    fixed_point,
    integrated_evolution,
    liouvillian,
    propagator,
    stationary_dimension,
    steady_state,
)
from qbhw.physics.operators import dm, embed, kron, partial_trace
from qbhw.physics.resources import (
    bloch_vector,
    chsh,
    coherence_l1,
    concurrence,
    correlation_matrix,
    imaginarity_l1,
    steering,
    texture,
)
from qbhw.physics.thermal import bose_einstein, boltzmann_ratio, excited_population, gibbs_state
from qbhw.physics.thermodynamics import (
    active_energy,
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

__all__ = [
    "active_energy", "bloch_vector", "bohr_components", "boltzmann_ratio", "bose_einstein", "capacity", "capacity_from_spectra",
    "chsh", "coherence_l1", "coherent_ergotropy", "concurrence", "correlation_matrix", "dephase", "dissipator",
    "dm", "embed", "energy", "ergotropy", "evolve", "excited_population", "extraction_unitary", "fixed_point",
    "gibbs_state", "imaginarity_l1", "incoherent_ergotropy", "integrated_evolution", "kron", "liouvillian",
    "partial_trace", "passive_energy", "passive_energy_from_spectra", "passive_state", "propagator", "purity",
    "stationary_dimension", "steady_state", "steering", "stored_energy", "texture",
]
