"""Test support: build submissions from the released notebooks, run the real CLI."""

from __future__ import annotations

import copy
import csv
import functools
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from autograder import BOOK, REPO, SOLUTIONS
from autograder.contract import CARRIED_PREFIX, NotebookContract, load_course


def course() -> list[NotebookContract]:
    return load_course(SOLUTIONS)


def _strip(src: str) -> str:
    return "\n".join(ln for ln in src.splitlines() if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def reference_answers(contract: NotebookContract) -> dict[str, str]:
    """The solution cells as a diligent student would write them (delimiters removed),
    including the cells where earlier chapters' functions are pasted."""
    answers = {gid: _strip(src) for gid, src in contract.answer_sources.items()}
    nb = json.loads(contract.path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if gid.startswith(CARRIED_PREFIX):
            answers[gid] = _strip("".join(cell["source"]))
    return answers


def released(contract: NotebookContract) -> dict:
    return json.loads((BOOK / contract.assignment / f"{contract.notebook}.ipynb").read_text(encoding="utf-8"))


def fill(contract: NotebookContract, answers: dict[str, str]) -> dict:
    """The released notebook with the given answer cells replaced, as a student would submit it."""
    nb = copy.deepcopy(released(contract))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb


def solved(contract: NotebookContract, **overrides: str) -> dict:
    """A fully correct submission, except for the answer cells given as overrides."""
    return fill(contract, {**reference_answers(contract), **overrides})


def write_submission(root: Path, student: str, contract: NotebookContract, nb: dict | bytes | str) -> Path:
    path = root / student / contract.assignment / f"{contract.notebook}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, dict):
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    elif isinstance(nb, bytes):
        path.write_bytes(nb)
    else:
        path.write_text(nb, encoding="utf-8")
    return path


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def scores_by_student(out: Path) -> dict[str, dict[str, dict[str, str]]]:
    """scores.csv as {student: {grade_id: row}} (parsed once per version of the file: hundreds of
    parametrised tests read the same graded class; treat the result as read-only)."""
    path = Path(out) / "scores.csv"
    stat = path.stat()
    return _scores_by_student(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _scores_by_student(path: str, mtime_ns: int, size: int) -> dict[str, dict[str, dict[str, str]]]:
    table: dict[str, dict[str, dict[str, str]]] = {}
    for row in read_csv(Path(path)):
        table.setdefault(row["student_id"], {})[row["grade_id"]] = row
    return table


FEW = ("dmitri", "grace")  # two students of the sample class: mistakes, and notebooks renamed by Jupyter


def csv_rows_of(path: Path, students) -> list[list[str]]:
    """The header and the rows of ``students`` (first column), in file order."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[:1] + [r for r in rows[1:] if r and r[0] in students]


def tree_digest(root: Path) -> str:
    """One hash of every path and file's bytes under ``root``."""
    h = hashlib.sha256()
    for p in sorted(Path(root).rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def grades_by_student(out: Path) -> dict[str, dict[str, str]]:
    return {row["student_id"]: row for row in read_csv(out / "grades.csv")}


def mistake_student(assignment: str, slug: str) -> str:
    return f"mistake-{assignment}-{slug}"


def alternative_student(assignment: str, slug: str) -> str:
    return f"alternative-{assignment}-{slug}"


def degenerate_student(assignment: str, slug: str) -> str:
    return f"degenerate-{assignment}-{slug}"


def is_test_of(grade_id: str, function: str) -> bool:
    """Whether a test cell grades ``function`` (``test_softmax`` is not a test of ``softmax_jacobian``)."""
    return grade_id == f"test_{function}" or grade_id.startswith(f"test_{function}__")


def function_points(
    out: Path, student: str, assignment: str, function: str
) -> tuple[float, float, dict[str, dict[str, str]]]:
    """(points earned, points possible, {grade_id: scores.csv row}) of one student on one function's test cells."""
    rows = scores_by_student(out)[student]
    mine = {g: r for g, r in rows.items() if r["assignment"] == assignment and is_test_of(g, function)}
    earned = sum(float(r["points"]) for r in mine.values())
    possible = sum(float(r["max_points"]) for r in mine.values())
    return earned, possible, mine


def write_catalogue_class(subs: Path, assignments: set[str] | None = None) -> None:
    """A class with a reference student, a blank one, and one student per catalogued answer
    (mistakes, alternatives and degenerate answers), for every assignment or the ones given."""
    from tests.mistakes import catalogue, degenerate

    by_assignment = {c.assignment: c for c in course() if assignments is None or c.assignment in assignments}
    for contract in by_assignment.values():
        write_submission(subs, "reference", contract, solved(contract))
        write_submission(subs, "blank", contract, released(contract))
    for assignment, answers in degenerate().items():
        if assignment not in by_assignment:
            continue
        contract = by_assignment[assignment]
        for d in answers:
            nb = solved(contract, **{d.function: d.source})
            write_submission(subs, degenerate_student(assignment, d.slug), contract, nb)
    for assignment, (mistakes, alternatives) in catalogue().items():
        if assignment not in by_assignment:
            continue
        contract = by_assignment[assignment]
        for m in mistakes:
            write_submission(
                subs, mistake_student(assignment, m.slug), contract, solved(contract, **{m.function: m.source})
            )
        for a in alternatives:
            nb = solved(contract, **{a.function: a.source})
            write_submission(subs, alternative_student(assignment, a.slug), contract, nb)


def feedback_text(out: Path, student: str, assignment: str) -> str:
    """The student's feedback pages for one assignment, as lower-case plain text."""
    import html
    import re

    pages = (out / "feedback" / student / assignment).glob("*.html")
    return html.unescape(re.sub(r"<[^>]+>", " ", "".join(p.read_text() for p in pages))).lower()


__all__ = ["REPO", "SOLUTIONS", "BOOK"]
