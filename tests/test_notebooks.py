"""Every notebook in notebooks/ executes without error from top to bottom (with this environment's qbhw).

The notebooks assert their key numbers against docs/physics.md, so executing them is a test of those numbers. The
kernel runs with one BLAS/OpenMP thread, as qbhw's own numerics do (qbhw._threads): the notebooks' small dense
linear algebra is several times slower with two threads on a shared machine.
"""

from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: one notebook per battery model (docs/physics.md sections 1-4); each must exist, so that none is dropped silently
SEED_NOTEBOOKS = ("thermal_gradient.ipynb", "charger.ipynb", "collective.ipynb", "micromaser.ipynb")
_ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def test_every_seed_notebook_is_there():
    names = {p.name for p in NOTEBOOKS}
    missing = [n for n in SEED_NOTEBOOKS if n not in names]
    assert not missing, f"notebooks/ lacks {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    for name in _ONE_THREAD:  # inherited by the kernel process
        monkeypatch.setenv(name, "1")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell (a failed assert included)
