"""Shared fixtures: one graded class (reference, blank, every catalogued answer) and one
built book per test session."""

from __future__ import annotations

import shutil

import pytest

from autograder import REPO
from tests import support

SAMPLE = REPO / "examples" / "submissions"


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


@pytest.fixture(scope="session")
def sample_graded(tmp_path_factory):
    """The bundled sample class graded once through the CLI: (out folder, the finished process)."""
    out = tmp_path_factory.mktemp("sample") / "out"
    before = support.tree_digest(SAMPLE)
    proc = support.run_cli("grade", str(SAMPLE), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert support.tree_digest(SAMPLE) == before, "grading modified the submissions folder"
    return out, proc


@pytest.fixture(scope="session")
def few_students(tmp_path_factory, sample_graded):
    """Two students of the sample class in a folder of their own, and their rows of the full run's
    grades.csv and scores.csv (what grading them alone must reproduce, byte for byte)."""
    subs = tmp_path_factory.mktemp("few") / "submitted"
    for student in support.FEW:
        shutil.copytree(SAMPLE / student, subs / student)
    out, _ = sample_graded
    return subs, {name: support.csv_rows_of(out / name, support.FEW) for name in ("grades.csv", "scores.csv")}
