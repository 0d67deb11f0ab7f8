"""One module per battery model (a validated frozen parameter dataclass, exact solvers, result dataclasses:
``charger``, ``thermal_gradient``, ``collective``, ``micromaser``), private numerical kernels beside them
(``_dicke``: the collective rate equation; ``_fock_map``: repeated channels on a truncated Fock space) and studies
built on a model kept apart (``collective_studies``)."""
