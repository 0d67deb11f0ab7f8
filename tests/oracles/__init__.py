"""Independent reference models for the tests, built from QuTiP primitives only (``qutip.destroy``, ``sigmam``,
``tensor``, ``mesolve``, ...), never from qbhw's own operators or Hamiltonians, so that a wrong model construction
in qbhw cannot be hidden by feeding the same construction to the reference solver.

Basis map, written once: qbhw's qubit basis is (|g>, |e>) = (index 0, index 1) with sigma_z = diag(-1, +1);
QuTiP's ``basis(2, 0)`` is the excited state of ``sigmaz()`` = diag(+1, -1). Every oracle states which convention
it returns; ``to_qbhw_qubits`` in each module converts.
"""
