"""qbhw: quantum-battery models from the literature, their exact ideal physics, and their mapping to hardware."""

__version__ = "0.1.0"
