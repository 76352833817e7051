"""The real `grade` command: reference 100 %, blank 0 %, every catalogued mistake caught and named,
every degenerate answer held to a quarter of its function's points."""

from __future__ import annotations

import pytest

from tests import support
from tests.mistakes import MAX_DEGENERATE_SHARE, catalogue, degenerate

CATALOGUE = catalogue()
MISTAKES = [(a, m) for a, (ms, _) in CATALOGUE.items() for m in ms]
ALTERNATIVES = [(a, alt) for a, (_, alts) in CATALOGUE.items() for alt in alts]
DEGENERATE = [(a, d) for a, ds in degenerate().items() for d in ds]


def test_reference_solutions_score_full_marks(graded_class):
    scores = support.scores_by_student(graded_class)["reference"]
    wrong = {gid: (row["status"], row["reason"]) for gid, row in scores.items() if row["status"] != "ok"}
    assert not wrong, f"the reference loses points: {wrong}"
    grades = support.grades_by_student(graded_class)["reference"]
    assert float(grades["total"]) == float(grades["max_total"]) > 0
    assert grades["flags"] == ""


def test_blank_release_scores_zero(graded_class):
    grades = support.grades_by_student(graded_class)["blank"]
    assert float(grades["total"]) == 0 and float(grades["max_total"]) > 0
    statuses = {row["status"] for row in support.scores_by_student(graded_class)["blank"].values()}
    assert statuses <= {"unanswered", "failed"}, statuses


@pytest.mark.parametrize(("assignment", "mistake"), MISTAKES, ids=[f"{a}-{m.slug}" for a, m in MISTAKES])
def test_each_catalogued_mistake_loses_points_and_is_named(graded_class, assignment, mistake):
    student = support.mistake_student(assignment, mistake.slug)
    rows = support.scores_by_student(graded_class)[student]
    own = {gid: r for gid, r in rows.items() if r["assignment"] == assignment}
    lost = [gid for gid, r in own.items() if float(r["points"]) < float(r["max_points"])]
    assert lost, f"{mistake.misconception!r} earned full marks"
    others = [gid for gid in lost if not gid.startswith(f"test_{mistake.function}")]
    assert not others, f"a mistake in {mistake.function} also cost points in {others}: grade functions in isolation"
    text = support.feedback_text(graded_class, student, assignment)
    assert any(word.lower() in text for word in mistake.feedback), (
        f"feedback for {mistake.misconception!r} names none of {mistake.feedback}:\n"
        + "\n".join(f"{gid}: {own[gid]['reason']}" for gid in lost)
    )


@pytest.mark.parametrize(("assignment", "alt"), ALTERNATIVES, ids=[f"{a}-{x.slug}" for a, x in ALTERNATIVES])
def test_correct_answers_written_differently_get_full_marks(graded_class, assignment, alt):
    rows = support.scores_by_student(graded_class)[support.alternative_student(assignment, alt.slug)]
    wrong = {gid: r["reason"] for gid, r in rows.items() if r["assignment"] == assignment and r["status"] != "ok"}
    assert not wrong, f"a correct {alt.function} ({alt.slug}) lost points: {wrong}"


def test_every_graded_function_has_a_degenerate_answer():
    listed = {(a, d.function) for a, d in DEGENERATE}
    graded = {
        (c.assignment, f)
        for c in support.course()
        for f in c.answers
        if not f.startswith("quiz_") and any(support.is_test_of(t.grade_id, f) for t in c.tests)
    }
    assert not graded - listed, (
        f"graded functions without a degenerate answer in tests/mistakes/: {sorted(graded - listed)}"
    )
    assert not listed - graded, f"degenerate answers for functions that are not graded: {sorted(listed - graded)}"


@pytest.mark.parametrize(("assignment", "answer"), DEGENERATE, ids=[f"{a}-{d.slug}" for a, d in DEGENERATE])
def test_each_degenerate_answer_earns_at_most_a_quarter(graded_class, assignment, answer):
    student = support.degenerate_student(assignment, answer.slug)
    earned, possible, rows = support.function_points(graded_class, student, assignment, answer.function)
    assert possible > 0, f"no test cell grades {answer.function}"
    assert earned <= MAX_DEGENERATE_SHARE * possible, (
        f"{answer.description!r} earned {earned:g} of the {possible:g} points of {answer.function}; "
        f"at most {MAX_DEGENERATE_SHARE:.0%} may go to an answer that ignores what matters. Cells it passed: "
        + ", ".join(g for g, r in rows.items() if float(r["points"]) > 0)
    )


def test_scores_csv_has_a_row_per_student_and_test_cell(graded_class):
    rows = support.read_csv(graded_class / "scores.csv")
    assert {"student_id", "assignment", "grade_id", "points", "max_points", "status"} <= set(rows[0])
    students = {r["student_id"] for r in rows}
    cells = [(c.assignment, t.grade_id) for c in support.course() for t in c.tests]
    for student in students:
        mine = [(r["assignment"], r["grade_id"]) for r in rows if r["student_id"] == student]
        assert sorted(mine) == sorted(cells), f"{student} does not have exactly one row per test cell"


def test_grades_csv_has_one_row_per_student_with_assignment_totals(graded_class):
    rows = support.read_csv(graded_class / "grades.csv")
    assignments = [c.assignment for c in support.course()]
    assert list(rows[0]) == ["student_id", *assignments, "total", "max_total", "flags"]
    scores = support.read_csv(graded_class / "scores.csv")
    for row in rows:
        mine = [float(r["points"]) for r in scores if r["student_id"] == row["student_id"]]
        assert float(row["total"]) == pytest.approx(sum(mine))


def test_every_notebook_gets_a_feedback_page(graded_class):
    for row in support.read_csv(graded_class / "grades.csv"):
        for c in support.course():
            page = graded_class / "feedback" / row["student_id"] / c.assignment / f"{c.notebook}.html"
            assert page.is_file() and "Score:" in page.read_text()
