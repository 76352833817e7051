"""Every source notebook runs top to bottom with its solutions filled in (as a finished student's would).

It runs in its released folder, book/<assignment>/, next to the data files release made for it.
"""

from __future__ import annotations

import pytest

from autograder import BOOK, REPO, SOLUTIONS

NOTEBOOKS = sorted(SOLUTIONS.glob("*/*.ipynb"))
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_source_notebook_runs_without_errors(path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the hidden tests import autograder.hidden
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(BOOK / path.parent.name)}}
    ).execute()
    errors = [
        (i, o.get("ename"), o.get("evalue"))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors, f"{path.relative_to(REPO)}: {errors[:3]}"
