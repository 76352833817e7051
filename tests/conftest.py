"""Shared fixtures: one graded class (reference, blank, every catalogued answer) per test session."""

from __future__ import annotations

import pytest

from tests import support
from tests.mistakes import catalogue


def mistake_student(assignment: str, slug: str) -> str:
    return f"mistake-{assignment}-{slug}"


def alternative_student(assignment: str, slug: str) -> str:
    return f"alternative-{assignment}-{slug}"


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """Grade, through the real CLI, a class with one student per catalogued answer."""
    root = tmp_path_factory.mktemp("class")
    subs, out = root / "submitted", root / "out"
    course = {c.assignment: c for c in support.course()}
    for contract in course.values():
        support.write_submission(subs, "reference", contract, support.solved(contract))
        support.write_submission(subs, "blank", contract, support.released(contract))
    for assignment, (mistakes, alternatives) in catalogue().items():
        contract = course[assignment]
        for m in mistakes:
            nb = support.solved(contract, **{m.function: m.source})
            support.write_submission(subs, mistake_student(assignment, m.slug), contract, nb)
        for a in alternatives:
            nb = support.solved(contract, **{a.function: a.source})
            support.write_submission(subs, alternative_student(assignment, a.slug), contract, nb)
    proc = support.run_cli("grade", str(subs), "--out", str(out), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    return out
