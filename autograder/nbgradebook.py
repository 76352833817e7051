"""Scores into an nbgrader gradebook, so that formgrader shows them (``grade ... --nbgradebook COURSE``).

nbgrader keeps its grades in ``COURSE/gradebook.db`` (sqlite). This module writes there,
through nbgrader's own ``Gradebook`` API, what ``nbgrader generate_assignment`` and
``nbgrader autograde`` would: the assignment, its notebook, one grade cell per test cell
(with its points) and one solution cell per answer, every student, and for each submitted
notebook a submission whose grade cells carry this grader's scores as ``auto_score``. A
flagged notebook (edited tests, a wrong file name, ...) is marked "needs manual grade", its
flags in the comment of its first answer cell.
Existing entries (e.g. from the instructor's own ``nbgrader generate_assignment``) are
updated, not duplicated; manual scores already given in formgrader are kept.

With a course folder, each submitted notebook is also copied to
``COURSE/autograded/<student>/<assignment>/<notebook>.ipynb`` (the folder formgrader opens
for manual grading), every test cell carrying what this grader found as its output.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import warnings
from pathlib import Path

from autograder.contract import NotebookContract
from autograder.runner import NotebookResult


def gradebook_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def write_gradebook(
    db: Path, course: list[NotebookContract], students: list[str], results: list[NotebookResult]
) -> int:
    """Write the scores of ``results`` into the nbgrader gradebook ``db``; returns the submissions written."""
    from nbgrader.api import Gradebook

    # nbgrader creates and migrates the database by running `alembic`, installed next to this Python.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    graded = {(r.assignment, r.notebook) for r in results if r.status != "missing"}
    contracts = [c for c in course if (c.assignment, c.notebook) in graded]
    written = 0
    db.parent.mkdir(parents=True, exist_ok=True)
    with Gradebook(gradebook_url(db)) as gb:
        for c in contracts:
            gb.update_or_create_assignment(c.assignment)
            gb.update_or_create_notebook(c.notebook, c.assignment)
            for gid in c.answers:
                gb.update_or_create_solution_cell(gid, c.notebook, c.assignment)
            for t in c.tests:
                gb.update_or_create_grade_cell(
                    t.grade_id, c.notebook, c.assignment, max_score=t.points, cell_type="code"
                )
        for s in students:
            gb.update_or_create_student(s)
        for r in results:
            if r.status == "missing":
                continue  # nbgrader has no submission for it either: formgrader counts it as 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes from inside nbgrader's add_submission
                gb.update_or_create_submission(r.assignment, r.student_id)
            for t in r.tests:
                grade = gb.find_grade(t.grade_id, r.notebook, r.assignment, r.student_id)
                grade.auto_score = float(t.points)
                # Flagged notebooks (edited tests, odd imports, a wrong file name...) await a human look.
                grade.needs_manual_grade = bool(r.flags)
            answers = [c for c in contracts if (c.assignment, c.notebook) == (r.assignment, r.notebook)][0].answers
            if r.flags and answers:
                comment = gb.find_comment(answers[0], r.notebook, r.assignment, r.student_id)
                comment.auto_comment = "Flagged by the autograder:\n" + "\n".join(f"- {f}" for f in r.flags)
            gb.db.commit()
            written += 1
    return written


def write_autograded(course_dir: Path, results: list[NotebookResult], paths: dict[tuple[str, str, str], Path]) -> int:
    """Copy each graded notebook to ``course_dir/autograded/...`` with the findings as test-cell outputs."""
    n = 0
    for r in results:
        src = paths.get((r.student_id, r.assignment, r.notebook))
        if r.status != "graded" or src is None or not src.is_file():
            continue
        dest = course_dir / "autograded" / r.student_id / r.assignment / f"{r.notebook}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            nb = json.loads(src.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            shutil.copyfile(src, dest)
            n += 1
            continue
        by_id = {t.grade_id: t for t in r.tests}
        for cell in nb.get("cells", []):
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
                t = by_id.get(gid)
                if t is not None:
                    text = "\n".join(x for x in (t.message, t.output.strip()) if x) or t.status
                    line = f"[{t.status}: {t.points:g}/{t.max_points:g}] {text}\n"
                    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": line}]
        dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        n += 1
    return n
