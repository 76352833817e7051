"""Broken and hostile submissions are graded as such, and cannot fool, break or escape the grader."""

from __future__ import annotations

import json

import pytest

from autograder import REPO
from autograder.sandbox import default_isolation, probe_isolation
from tests import support

ISOLATED = not probe_isolation(default_isolation())
COURSE = next(c for c in support.course() if c.assignment == "03-attention")
FUNCTIONS = [a for a in COURSE.answers if not a.startswith("quiz_")]
VICTIM = FUNCTIONS[0]  # the function each attack replaces
SIGNATURE = "(*args, **kwargs)"


def rows_of(out, student: str) -> dict:
    """scores.csv rows of ``student`` for the attacked chapter."""
    rows = support.scores_by_student(out)[student]
    return {gid: r for gid, r in rows.items() if r["assignment"] == COURSE.assignment}


def attack(body: str) -> str:
    """A definition of the victim function whose body is ``body``."""
    return f"import numpy as np\ndef {VICTIM}{SIGNATURE}:\n" + "\n".join("    " + ln for ln in body.splitlines())


def correct() -> str:
    return support.reference_answers(COURSE)[VICTIM]


# student -> (answer cell of the victim, extra cells inserted before the tests, expected victim status)
ATTACKS = {
    "loop-in-function": (attack("while True:\n    pass"), [], {"timeout"}),
    "sleep-in-function": (attack("import time\ntime.sleep(3600)"), [], {"timeout"}),
    "memory-bomb": (attack("x = np.ones((1 << 40,))\nreturn x"), [], {"error"}),
    "sys-exit-in-function": (attack("import sys\nsys.exit(0)"), [], {"error"}),
    "os-exit-in-function": (attack("import os\nos._exit(0)"), [], {"error"}),
    "kill-parent": (attack("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"), [], {"error", "failed"}),
    "patch-numpy-comparisons": (
        attack("np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\nreturn 0.0"),
        [],
        {"failed"},
    ),
    "always-equal-object": (
        "class Anything:\n    def __eq__(self, other):\n        return True\n"
        f"def {VICTIM}{SIGNATURE}:\n    return Anything()",
        [],
        {"error"},
    ),
    "ndarray-subclass-equal-to-everything": (
        "import numpy as np\nclass Liar(np.ndarray):\n    def __eq__(self, other):\n        return np.True_\n"
        f"def {VICTIM}{SIGNATURE}:\n    return np.zeros(3).view(Liar)",
        [],
        {"failed"},
    ),
    "read-expected-from-caller-frames": (
        attack(
            "import inspect\nfor f in inspect.stack():\n"
            "    for v in f.frame.f_locals.values():\n"
            "        if isinstance(v, np.ndarray):\n            return v\nreturn None"
        ),
        [],
        {"failed"},
    ),
    "steal-the-reference": (
        attack(
            f"src = open({str(REPO / 'solutions' / 'reference.py')!r}).read()\n"
            "ns = {}\nexec(src, ns)\nreturn ns[" + repr(VICTIM) + "](*args, **kwargs)"
        ),
        [],
        {"error"},
    ),
    "import-the-grader": (
        attack("from autograder.hidden import ref\nreturn getattr(ref, " + repr(VICTIM) + ")(*args, **kwargs)"),
        [],
        {"error"},
    ),
    "top-level-infinite-loop": (None, ["while True:\n    pass"], {"ok"}),
    "top-level-output-flood": (None, ["for i in range(10**6):\n    print('flood' * 20)"], {"ok"}),
    "top-level-sys-exit": (None, ["import sys\nsys.exit(1)"], {"ok"}),
    "top-level-os-exit": (None, ["import os\nos._exit(1)"], {"ok"}),
    "top-level-signal-to-parent": (None, ["import os, signal\nos.kill(os.getppid(), signal.SIGTERM)"], {"ok"}),
}
if not ISOLATED:  # without OS-level isolation these are documented as not defended
    for name in ("kill-parent", "steal-the-reference", "top-level-signal-to-parent"):
        ATTACKS.pop(name)


def _cell(source: str) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"x{abs(hash(source)) % 10**8}",
        "metadata": {},
        "outputs": [],
        "source": source,
    }


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    subs, out = root / "submitted", root / "out"
    for student, (answer, extra, _) in ATTACKS.items():
        nb = support.solved(COURSE, **({VICTIM: answer} if answer else {}))
        for src in extra:
            nb["cells"].insert(3, _cell(src))
        support.write_submission(subs, student, COURSE, nb)
    support.write_submission(subs, "honest", COURSE, support.solved(COURSE))
    # A student who also tries to forge results by writing into the output folder.
    forge = f"open({str(out / 'grades.csv')!r}, 'w').write('forged')\nopen({str(out / 'FORGED')!r}, 'w')"
    nb = support.solved(COURSE)
    nb["cells"].insert(3, _cell(forge))
    support.write_submission(subs, "forger", COURSE, nb)
    proc = support.run_cli("grade", str(subs), "--out", str(out), "--jobs", "2", "--timeout", "2")
    return out, proc


def test_the_class_is_graded_whatever_the_submissions_do(hostile_class):
    out, proc = hostile_class
    assert proc.returncode == 0, proc.stderr[-2000:]
    grades = support.grades_by_student(out)
    assert set(grades) == {*ATTACKS, "honest", "forger"}, "every student found must get a row"


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_an_attack_earns_nothing_on_its_function_and_costs_nothing_elsewhere(hostile_class, student):
    out, _ = hostile_class
    rows = rows_of(out, student)
    expected = ATTACKS[student][2]
    victim = {gid: r for gid, r in rows.items() if gid.startswith(f"test_{VICTIM}__") or gid == f"test_{VICTIM}"}
    others = {gid: r for gid, r in rows.items() if gid not in victim}
    assert {r["status"] for r in victim.values()} <= expected, {
        g: (r["status"], r["reason"]) for g, r in victim.items()
    }
    if expected != {"ok"}:
        assert all(float(r["points"]) == 0 for r in victim.values())
    lost = {g: (r["status"], r["reason"]) for g, r in others.items() if r["status"] != "ok"}
    assert not lost, f"honest work next to the attack lost points: {lost}"


def test_an_honest_student_graded_beside_the_attacks_gets_full_marks(hostile_class):
    out, _ = hostile_class
    rows = rows_of(out, "honest")
    assert all(r["status"] == "ok" for r in rows.values())


def test_results_cannot_be_forged_from_inside_a_submission(hostile_class):
    out, _ = hostile_class
    assert not (out / "FORGED").exists()
    assert "forged" not in (out / "grades.csv").read_text()
    rows = rows_of(out, "forger")
    assert all(r["status"] == "ok" for r in rows.values())


def test_suspicious_behaviour_raises_a_flag(hostile_class):
    out, _ = hostile_class
    grades = support.grades_by_student(out)
    assert "skipped" in grades["top-level-infinite-loop"]["flags"]
    assert "autograder" in grades["import-the-grader"]["flags"], "importing the grader must be flagged"
    assert "not plain data" in grades["always-equal-object"]["flags"]
    assert "process died" in grades["os-exit-in-function"]["flags"]
    if ISOLATED:
        assert "tried to open files" in grades["steal-the-reference"]["flags"]


TAMPERING = {
    "edited-test-cell": lambda nb: _edit_first_test(nb, "pass  # trust me"),
    "points-changed": lambda nb: _set_points(nb, 1000),
    "test-cells-deleted": lambda nb: nb.update(cells=[c for c in nb["cells"] if not _is_test(c)]),
    "unknown-kernel": lambda nb: nb["metadata"].update(kernelspec={"name": "evil", "display_name": "x"}),
}


def _is_test(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade", False)


def _edit_first_test(nb, source):
    next(c for c in nb["cells"] if _is_test(c))["source"] = source


def _set_points(nb, points):
    for c in nb["cells"]:
        if _is_test(c):
            c["metadata"]["nbgrader"]["points"] = points


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_tampered_notebooks_are_graded_on_the_original_tests_and_flagged(kind, tmp_path):
    subs, out = tmp_path / "submitted", tmp_path / "out"
    blank = support.released(COURSE)
    TAMPERING[kind](blank)
    support.write_submission(subs, "tamperer", COURSE, blank)
    proc = support.run_cli("grade", str(subs), "--out", str(out), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    grades = support.grades_by_student(out)["tamperer"]
    assert float(grades["total"]) == 0 and float(grades[COURSE.assignment]) == 0
    assert grades["flags"], f"{kind} was not flagged"


MALFORMED = {
    "not-json": b"this is not a notebook",
    "truncated": None,  # filled in below from a real notebook
    "empty": b"",
    "json-not-a-notebook": b'{"hello": "world"}',
    "json-list": b"[1, 2, 3]",
    "zero-cells": json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
    "not-utf8": b"\xff\xfe\x00\x00garbage",
    "cells-not-dicts": json.dumps({"cells": [1, "two", None], "metadata": {}, "nbformat": 4}).encode(),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_files_get_rows_with_a_status_and_a_reason(kind, tmp_path):
    subs, out = tmp_path / "submitted", tmp_path / "out"
    data = MALFORMED[kind]
    if data is None:
        data = json.dumps(support.solved(COURSE)).encode()[:5000]
    support.write_submission(subs, "odd student ñ", COURSE, data)
    support.write_submission(subs, "honest", COURSE, support.solved(COURSE))
    proc = support.run_cli("grade", str(subs), "--out", str(out), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    rows = rows_of(out, "odd student ñ")
    assert len(rows) == len(COURSE.tests)
    assert all(float(r["points"]) == 0 and r["status"] in {"invalid", "missing", "unanswered"} for r in rows.values())
    assert all(r["reason"] for r in rows.values())
    assert all(r["status"] == "ok" for r in rows_of(out, "honest").values())


def test_a_zip_with_escaping_paths_and_links_is_unpacked_safely(tmp_path):
    import zipfile

    archive = tmp_path / "class.zip"
    nb = json.dumps(support.solved(COURSE))
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"alice/{COURSE.assignment}/{COURSE.notebook}.ipynb", nb)
        zf.writestr("../../escaped.txt", "outside")
        zf.writestr("/abs/escaped.txt", "outside")
        link = zipfile.ZipInfo(f"bob/{COURSE.assignment}/{COURSE.notebook}.ipynb")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    proc = support.run_cli("grade", str(archive), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path.parent / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()
    grades = support.grades_by_student(tmp_path / "out")
    assert float(grades["alice"][COURSE.assignment]) == COURSE.max_points
    assert float(grades["bob"]["total"]) == 0


def test_an_nbformat_3_notebook_is_upgraded_and_graded(tmp_path):
    import nbformat

    v4 = nbformat.reads(json.dumps(support.solved(COURSE)), as_version=4)
    v3 = nbformat.convert(v4, 3)
    subs, out = tmp_path / "submitted", tmp_path / "out"
    support.write_submission(subs, "old-jupyter", COURSE, nbformat.writes(v3, version=3))
    proc = support.run_cli("grade", str(subs), "--out", str(out), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    assert float(support.grades_by_student(out)["old-jupyter"][COURSE.assignment]) == COURSE.max_points


def test_a_50_mb_notebook_is_graded(tmp_path):
    nb = support.solved(COURSE)
    blob = {"output_type": "stream", "name": "stdout", "text": "x" * (50 * 1024**2)}
    next(c for c in nb["cells"] if c["cell_type"] == "code")["outputs"] = [blob]
    subs, out = tmp_path / "submitted", tmp_path / "out"
    path = support.write_submission(subs, "verbose", COURSE, nb)
    assert path.stat().st_size > 50 * 1024**2
    proc = support.run_cli("grade", str(subs), "--out", str(out), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    assert float(support.grades_by_student(out)["verbose"][COURSE.assignment]) == COURSE.max_points
