"""nbgrader users keep their workflow: plain `nbgrader autograde` grades the released notebooks,
and `grade --nbgradebook` puts this grader's scores where formgrader reads them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import REPO
from tests import support

ASSIGNMENT = "02-qkv"


@pytest.fixture(scope="module")
def contract():
    return next(c for c in support.course() if c.assignment == ASSIGNMENT)


def nbgrader_api(course: Path):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    return NbGraderAPI(coursedir=CourseDirectory(root=str(course)))


def cell_scores(db: Path, assignment: str) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}") as gb:
        return {
            (sub.student.id, g.cell.name): float(g.score)
            for sub in gb.assignment_submissions(assignment)
            for nb in sub.notebooks
            for g in nb.grades
        }


@pytest.mark.slow
def test_plain_nbgrader_autogrades_the_released_notebooks_and_agrees(contract, tmp_path):
    """A reference and a blank notebook through nbgrader's own generate_assignment and
    autograde (as benchmarks/grade_class.py drives them), then through this grader into the
    same gradebook: nbgrader gives full and zero marks, and both agree on every test cell."""
    course = tmp_path / "course"
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    submitted = course / "submitted"
    support.write_submission(submitted, "reference", contract, support.solved(contract))
    support.write_submission(submitted, "blank", contract, support.released(contract))
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PYTHONPATH": str(REPO), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    for step in (["generate_assignment", ASSIGNMENT, "--force"], ["autograde", ASSIGNMENT, "--create", "--force"]):
        proc = subprocess.run([str(bindir / "nbgrader"), *step], cwd=course, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = cell_scores(course / "gradebook.db", ASSIGNMENT)
    for t in contract.tests:
        assert theirs["reference", t.grade_id] == t.points, f"nbgrader: the reference loses points on {t.grade_id}"
        assert theirs["blank", t.grade_id] == 0, f"nbgrader: a blank notebook gets points on {t.grade_id}"
    # This grader, into the gradebook nbgrader just made: the same cells, the same scores, no duplicates.
    proc = support.run_cli(
        "grade", str(submitted), "--out", str(tmp_path / "out"), "--jobs", "1", "--quiet",
        "--nbgradebook", str(course / "gradebook.db"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ours = cell_scores(course / "gradebook.db", ASSIGNMENT)
    assert ours == theirs
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert [a.name for a in gb.assignments] == [ASSIGNMENT]
        assert len(gb.find_notebook(contract.notebook, ASSIGNMENT).grade_cells) == len(contract.tests)


def test_grade_writes_a_gradebook_that_formgrader_reads(contract, tmp_path):
    subs = tmp_path / "subs"
    support.write_submission(subs, "s01", contract, support.solved(contract))
    support.write_submission(subs, "s02", contract, support.released(contract))
    wrong = support.write_submission(subs, "s03", contract, support.solved(contract))
    wrong.rename(wrong.with_name(f"Copy of {contract.notebook}.ipynb"))
    course = tmp_path / "course"
    args = ("grade", str(subs), "--out", str(tmp_path / "out"), "--jobs", "1", "--quiet", "--nbgradebook", str(course))
    for _ in range(2):  # twice: a second run updates, never duplicates
        proc = support.run_cli(*args)
        assert proc.returncode == 0, proc.stderr
    grades = support.grades_by_student(tmp_path / "out")
    api = nbgrader_api(course)
    # What formgrader's "Manage Submissions" page lists, through nbgrader's own API.
    subs_view = {s["student"]: s for s in api.get_submissions(ASSIGNMENT)}
    assert set(subs_view) == {"s01", "s02", "s03"}
    for student, s in subs_view.items():
        assert s["autograded"] and s["submitted"]
        assert s["score"] == float(grades[student][ASSIGNMENT])
        assert s["max_score"] == contract.max_points
    assert subs_view["s01"]["score"] == contract.max_points and subs_view["s02"]["score"] == 0
    assert not subs_view["s01"]["needs_manual_grade"]
    assert subs_view["s03"]["needs_manual_grade"], "a flagged notebook (wrong file name) awaits a human"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert len(gb.students) == 3 and len(gb.assignments) == 1
        comment = gb.find_comment(contract.answers[0], contract.notebook, ASSIGNMENT, "s03")
        assert "Copy of" in comment.auto_comment
    # The notebooks formgrader opens for manual grading, with what each test found.
    import json

    nb = json.loads((course / "autograded" / "s02" / ASSIGNMENT / f"{contract.notebook}.ipynb").read_text())
    outputs = [
        "".join(o.get("text", ""))
        for c in nb["cells"]
        if c.get("metadata", {}).get("nbgrader", {}).get("grade")
        for o in c.get("outputs", [])
    ]
    assert len(outputs) == len(contract.tests) and all(o.startswith("[") for o in outputs)
