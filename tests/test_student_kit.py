"""A released notebook tells the truth when run: checks report, "Run all" reaches the end,
and the last cell lists what passes, what fails and which questions are unanswered."""

from __future__ import annotations

import copy
import json
import re

import pytest

from autograder import BOOK
from autograder.student_kit import KIT_SOURCE, MARKER, add_to_notebook, indent_code, is_course_cell
from tests import support

CHAPTER = "02-qkv"  # small and quick to run


def _contract(assignment: str = CHAPTER):
    (c,) = [c for c in support.course() if c.assignment == assignment]
    return c


def _cells(nb: dict, kind: str) -> list[dict]:
    return [c for c in nb["cells"] if c.get("metadata", {}).get(MARKER) == kind]


def _src(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_indenting_a_cell_leaves_multi_line_strings_alone():
    source = 'x = 1\ntext = """first\n  second"""\nif x:\n    y = 2\n'
    wrapped = indent_code(source)
    assert wrapped == '    x = 1\n    text = """first\n  second"""\n    if x:\n        y = 2'
    namespace: dict = {}
    exec("if True:\n" + wrapped, namespace)
    assert namespace["text"] == "first\n  second" and namespace["y"] == 2


def test_every_released_notebook_has_the_helpers_wrapped_tests_and_a_final_check():
    for contract in support.course():
        nb = support.released(contract)
        cells = nb["cells"]
        setup = next(i for i, c in enumerate(cells) if "setup" in c["metadata"].get("tags", []))
        assert cells[setup + 1]["metadata"].get(MARKER) == "helpers" and is_course_cell(cells[setup + 1])
        assert [c["metadata"].get(MARKER) for c in cells[-2:]] == ["check-intro", "check"]
        assert is_course_cell(cells[-1])
        listed = re.findall(r'"(test_[A-Za-z0-9_]+)"', _src(cells[-1]))
        assert listed == [t.grade_id for t in contract.tests if not t.grade_id.startswith("test_quiz_")]
        questions = re.findall(r'"(quiz_[A-Za-z0-9_]+)"', _src(cells[-1]))
        assert questions == [a for a in contract.answers if a.startswith("quiz_")]
        for cell in cells:
            nbg = cell["metadata"].get("nbgrader", {})
            tags = cell["metadata"].get("tags", [])
            if nbg.get("grade"):
                assert _src(cell).startswith(f'with check("{nbg["grade_id"]}"):'), nbg["grade_id"]
            assert "raises-exception" not in tags, f"{contract.assignment}: {cell.get('id')} may stop Run all"


def test_an_edited_course_cell_is_the_students_code():
    nb = support.released(_contract())
    helpers, check = _cells(nb, "helpers")[0], _cells(nb, "check")[0]
    assert is_course_cell(helpers) and is_course_cell(check)
    assert not is_course_cell({**helpers, "source": KIT_SOURCE + "\nimport os\n"})
    assert not is_course_cell({**check, "source": _src(check) + "\nprint(1)\n"})
    assert not is_course_cell({**check, "source": 'check_your_work(["a"], __import__("os").listdir("/"))'})
    assert not is_course_cell({"cell_type": "code", "metadata": {}, "source": KIT_SOURCE})


def test_add_to_notebook_needs_a_setup_cell():
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1"}]}
    with pytest.raises(ValueError, match="setup"):
        add_to_notebook(copy.deepcopy(nb))


def _run(nb: dict, assignment: str = CHAPTER, folder=None) -> dict:
    """Execute a notebook like "Run all" in Jupyter: stops at the first exception that escapes a cell."""
    import nbformat
    from nbclient import NotebookClient

    node = nbformat.reads(json.dumps(nb), as_version=4)
    resources = {"metadata": {"path": str(folder or BOOK / assignment)}}
    NotebookClient(node, timeout=120, kernel_name="python3", resources=resources).execute()
    return json.loads(nbformat.writes(node))


def _stream(cell: dict, name: str = "stdout") -> str:
    return "".join(_src({"source": o.get("text", "")}) for o in cell.get("outputs", []) if o.get("name") == name)


def _table(nb: dict) -> dict[str, str]:
    """The "Check your work" output as {grade_id: what it says}."""
    rows = {}
    for line in _stream(nb["cells"][-1]).splitlines():
        m = re.match(r"^\S (test_\w+)\s+(.*)$", line)
        if m:
            rows[m[1]] = m[2]
    return rows


@pytest.mark.slow
def test_a_blank_notebook_runs_to_the_end_and_lists_everything_as_not_implemented(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    contract = _contract()
    done = _run(support.released(contract))  # raises if any cell lets an exception escape
    table = _table(done)
    assert set(table) == {t.grade_id for t in contract.tests if not t.grade_id.startswith("test_quiz_")}
    assert set(table.values()) == {"not implemented yet"}, table
    out = _stream(done["cells"][-1])
    assert "0 of" in out and "Questions still unanswered" in out
    assert all(q in out for q in contract.answers if q.startswith("quiz_"))


@pytest.mark.slow
def test_a_notebook_downloaded_without_its_data_files_still_runs_to_the_end(monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    contract = _contract("10-gpt")  # the trained model and a figure's stored results are .npz files
    assert sorted(p.name for p in (BOOK / contract.assignment).glob("*.npz")) == [
        "fig_sampling_filters.npz",
        "sorter.npz",
    ]
    done = _run(support.released(contract), contract.assignment, folder=tmp_path)  # no .npz in tmp_path
    by_id = {c.get("id"): c for c in done["cells"]}
    assert "sorter.npz is missing" in _stream(by_id["load-sorter"])
    assert "fig_sampling_filters.npz is missing" in _stream(by_id["fig-sampling-filters"])
    # A later figure that uses the model says what went wrong instead of stopping "Run all".
    assert "NameError" in _stream(by_id["fig-position-similarity"], "stderr")
    assert set(_table(done).values()) == {"not implemented yet"}


@pytest.mark.slow
def test_a_solved_notebook_passes_every_check(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    done = _run(support.solved(_contract()))
    table = _table(done)
    assert table and set(table.values()) == {"passed"}, table
    assert "All 4 questions answered." in _stream(done["cells"][-1])


@pytest.mark.slow
def test_a_mistake_shows_its_failing_check_and_its_message(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    scaled = "def attention_scores(Q, K):\n    return Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])\n"
    nb = support.solved(_contract(), attention_scores=scaled)
    done = _run(nb)
    table = _table(done)
    assert table["test_attention_scores__unscaled"].startswith("failed: "), table
    assert "scal" in table["test_attention_scores__unscaled"].lower()  # the test's own message names the mistake
    assert all(v == "passed" for k, v in table.items() if k.startswith("test_project_qkv")), table
    # The check cell itself printed the same message right where it ran.
    (cell,) = [c for c in done["cells"] if c.get("id") == "test-attention-scores--unscaled"]
    assert _stream(cell, "stderr").startswith("\u2718 test_attention_scores__unscaled: ")


@pytest.mark.slow
def test_the_grader_ignores_the_course_cells_of_a_released_and_filled_notebook(tmp_path):
    contract = _contract()
    subs, out = tmp_path / "subs", tmp_path / "out"
    support.write_submission(subs, "reference", contract, support.solved(contract))
    support.write_submission(subs, "blank", contract, support.released(contract))
    edited = support.solved(contract)
    for cell in _cells(edited, "helpers"):
        cell["source"] = KIT_SOURCE + "\nprint('mine now')\n"
    support.write_submission(subs, "edited-helpers", contract, edited)
    run = support.run_cli("grade", str(subs), "--out", str(out), "--jobs", "1")
    assert run.returncode == 0, run.stderr[-2000:]
    grades = support.grades_by_student(out)
    assert float(grades["reference"][CHAPTER]) == contract.max_points > 0
    assert grades["reference"]["flags"] == "", grades["reference"]["flags"]
    assert float(grades["blank"]["total"]) == 0
    # An edited helpers cell is the student's own code: it runs, and its imports are noticed.
    assert float(grades["edited-helpers"][CHAPTER]) == contract.max_points
    assert "imports outside the allowed modules" in grades["edited-helpers"]["flags"]


# A code comment that asks the student to change the cell: a switch, a list to fill in, a stub.
ASKS_FOR_AN_EDIT = re.compile(r"#.*\b(?:set to True|e\.g\.|Replace None|Start from a copy)", re.IGNORECASE)


def test_cells_that_ask_for_an_edit_can_be_edited():
    asked = 0
    for path in sorted(BOOK.glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code" and ASKS_FOR_AN_EDIT.search(_src(cell)):
                asked += 1
                assert cell["metadata"].get("editable", True), (
                    f"{path.relative_to(BOOK)} cell {cell.get('id')} asks for an edit but Jupyter will refuse one"
                )
    assert asked >= 20, "the pattern no longer finds the switches and quiz cells"
