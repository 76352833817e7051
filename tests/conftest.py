"""Shared fixtures: one graded class (reference, blank, every catalogued answer) and one
built book per test session."""

from __future__ import annotations

import pytest

from autograder import REPO
from tests import support


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """Grade, through the real CLI, a class with one student per catalogued answer."""
    root = tmp_path_factory.mktemp("class")
    subs, out = root / "submitted", root / "out"
    support.write_catalogue_class(subs)
    proc = support.run_cli("grade", str(subs), "--out", str(out), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="session")
def built_book():
    """Build the book with the real CLI (strict: any Sphinx warning fails), once per session."""
    proc = support.run_cli("book")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return REPO / "_build" / "html"
