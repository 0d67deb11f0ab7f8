"""The two environments of docs/design.md section 1 are what the README says they are.

The Makefile sets QBHW_ENV for each run; outside it (a developer's own pytest) these checks are skipped.
"""

import os

import pytest

ENV = os.environ.get("QBHW_ENV")


@pytest.mark.skipif(ENV != "default", reason="only in the default environment (QBHW_ENV=default)")
def test_default_environment_has_current_qiskit_and_no_dynamics():
    import qiskit

    assert int(qiskit.__version__.split(".")[0]) >= 2
    with pytest.raises(ImportError):
        import qiskit_dynamics  # noqa: F401


@pytest.mark.skipif(ENV != "pulse", reason="only in the pulse environment (QBHW_ENV=pulse)")
def test_pulse_environment_pins_qiskit_1_3_with_dynamics():
    import qiskit
    import qiskit_dynamics

    assert qiskit.__version__ == "1.3.0"
    assert qiskit_dynamics.__version__ == "0.6.0"


def test_environment_variable_is_known():
    # a typo in the Makefile would silently skip the two checks above
    assert ENV in (None, "default", "pulse")
