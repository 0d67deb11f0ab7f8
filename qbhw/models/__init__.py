"""One module per battery model: a validated frozen parameter dataclass, exact solvers, result dataclasses."""
