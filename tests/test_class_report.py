"""OUT/report.html of the sample class, opened in headless Chromium with the network cut off (as the book is)."""

from __future__ import annotations

import re

import pytest

from autograder import REPO
from tests import support
from tests.test_browser import CHROMIUM_FLAGS, chromium_path, open_page

SAMPLE = REPO / "examples" / "submissions"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    proc = support.run_cli("grade", str(SAMPLE), "--out", str(out), "--jobs", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def page(graded):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page, context, errors, refused = open_page(browser, (graded / "report.html").as_uri(), "light")
        yield page, errors, refused
        context.close()
        browser.close()


@pytest.mark.slow
def test_the_report_opens_offline_without_errors_and_describes_its_images(page):
    p, errors, refused = page
    assert not errors, errors
    assert not refused, f"the report asked the network for {refused}"
    images = p.eval_on_selector_all(
        "img", "els => els.map(i => ({alt: i.getAttribute('alt') || '', ok: i.complete && i.naturalWidth > 0}))"
    )
    assert images and all(i["ok"] for i in images)
    assert all(len(i["alt"].strip()) >= 40 for i in images), images


@pytest.mark.slow
def test_it_leads_with_a_heatmap_per_chapter_and_function(page, graded):
    p, _, _ = page
    first_heading = p.eval_on_selector("h2", "h => h.textContent")
    assert "chapter and function" in first_heading
    rows = p.eval_on_selector_all(
        "table.heat tr",
        "rows => rows.map(r => ({chapter: r.querySelector('th').textContent,"
        " cells: [...r.querySelectorAll('.fns .cell')].map(c => c.textContent)}))",
    )
    course = support.course()
    assert [r["chapter"] for r in rows] == [c.assignment for c in course]
    scores = support.scores_by_student(graded)
    for row, contract in zip(rows, course, strict=True):
        functions = list(dict.fromkeys(t.target for t in contract.tests if not t.target.startswith("quiz_")))
        quizzes = any(t.target.startswith("quiz_") for t in contract.tests)
        assert len(row["cells"]) == len(functions) + quizzes, "one cell per function (+ the concept questions)"
        # Each function's rate, recomputed from scores.csv: submissions passing all its tests.
        for cell, fn in zip(row["cells"], functions, strict=False):
            assert fn in cell
            submitted = [
                s
                for s, rows_s in scores.items()
                if any(r["assignment"] == contract.assignment and r["status"] != "missing" for r in rows_s.values())
            ]
            passing = [
                s
                for s in submitted
                if all(scores[s][t.grade_id]["status"] == "ok" for t in contract.tests if t.target == fn)
            ]
            want = round(100 * len(passing) / len(submitted))
            assert re.match(rf"{want} %", cell), f"{contract.assignment}/{fn}: {cell!r}, expected {want} %"


@pytest.mark.slow
def test_mistakes_are_ranked_by_students_with_an_example(page):
    p, _, _ = page
    rows = p.eval_on_selector_all(
        "#mistakes + table tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    assert len(rows) >= 5
    counts = [int(r[0]) for r in rows]
    assert counts == sorted(counts, reverse=True)
    assert all(r[3] and r[4] for r in rows), "every mistake has a name and an example feedback line"


@pytest.mark.slow
def test_the_student_table_sorts_by_any_column(page, graded):
    p, _, _ = page
    grades = support.grades_by_student(graded)

    def column(i: int) -> list[str]:
        return p.eval_on_selector_all("#student-table tbody tr", f"rows => rows.map(r => r.cells[{i}].textContent)")

    headers = p.eval_on_selector_all("#student-table thead th", "ths => ths.map(t => t.textContent.trim())")
    total = headers.index("total")
    p.click(f"#student-table thead th:nth-child({total + 1}) button")
    by_total = sorted(grades, key=lambda s: -float(grades[s]["total"]))
    got = column(0)
    assert [float(grades[s]["total"]) for s in got] == [float(grades[s]["total"]) for s in by_total]
    p.click(f"#student-table thead th:nth-child({total + 1}) button")
    got = column(0)
    assert [float(grades[s]["total"]) for s in got] == sorted(float(grades[s]["total"]) for s in grades)
    p.click("#student-table thead th:nth-child(1) button")
    assert column(0) == sorted(grades, reverse=True)
    flags = headers.index("flags")
    p.click(f"#student-table thead th:nth-child({flags + 1}) button")
    assert column(0)[0] == "grace", "grace's renamed notebooks give her the most flags"


def test_counts_are_shown_on_integer_axes(tmp_path, monkeypatch):
    """A class of three: matplotlib's default ticks would be 0.5, 1.0, 1.5 students."""
    from autograder import class_report
    from autograder.runner import NotebookResult
    from autograder.runner import TestResult as CellResult

    seen = []
    real = class_report._png

    def capture(fig):
        fig.canvas.draw()
        seen.append([t for t in fig.axes[0].get_yticks() if 0 <= t <= fig.axes[0].get_ylim()[1]])
        return real(fig)

    monkeypatch.setattr(class_report, "_png", capture)
    results = [
        NotebookResult(s, "a", "nb", "graded", tests=[CellResult("test_f__x", "f", p, 2.0, "ok" if p else "failed")])
        for s, p in (("s1", 2.0), ("s2", 2.0), ("s3", 0.0))
    ]
    class_report.write_class_report(tmp_path, ["s1", "s2", "s3"], ["a"], results)
    assert seen and all(len(ticks) >= 2 and all(float(t).is_integer() for t in ticks) for ticks in seen), seen
