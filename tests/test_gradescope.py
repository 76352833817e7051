"""The Gradescope autograder bundle, run as Gradescope runs it, in a simulated /autograder.

The bundle is built with the real CLI, unzipped into a temporary root laid out like
Gradescope's (``source/``, ``submission/``, ``results/``, ``run_autograder`` copied to the
root) and ``run_autograder`` is run there (``AUTOGRADER_ROOT`` points at it; the course's
.venv stands for the one setup.sh builds). Every results.json is checked against the
output format documented at https://gradescope-autograders.readthedocs.io/en/latest/specs/
by ``gradescope_problems`` below, written from that page and not from the grader.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import BOOK, REPO
from tests import support

ASSIGNMENT = "03-attention"
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP_KEYS = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
TEST_KEYS = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}


def _number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def gradescope_problems(doc) -> list[str]:
    """What Gradescope would reject or misread in a results.json (empty: nothing), plus what
    this course promises on top (every test scored, named, explained, with a visibility)."""
    if not isinstance(doc, dict):
        return ["results.json must be a JSON object"]
    found = [f"unknown top-level key {k!r}" for k in doc if k not in TOP_KEYS]
    tests = doc.get("tests", [])
    if not isinstance(tests, list):
        return found + ["tests must be a list"]
    if "score" not in doc and not all(isinstance(t, dict) and "score" in t for t in tests):
        found.append("a score is needed at the top level or on every test")
    for key in ("score", "execution_time"):
        if key in doc and not _number(doc[key]):
            found.append(f"{key} must be a number, got {doc[key]!r}")
    for key in ("output",):
        if key in doc and not isinstance(doc[key], str):
            found.append(f"{key} must be a string")
    for key in ("visibility", "stdout_visibility"):
        if key in doc and doc[key] not in VISIBILITY:
            found.append(f"{key} {doc[key]!r} is not one of {sorted(VISIBILITY)}")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in doc and doc[key] not in FORMATS:
            found.append(f"{key} {doc[key]!r} is not one of {sorted(FORMATS)}")
    # What this course promises (the contract), beyond what Gradescope requires:
    for key in ("score", "execution_time", "output", "tests"):
        if key not in doc:
            found.append(f"missing top-level {key}")
    if doc.get("stdout_visibility") != "hidden":
        found.append("stdout_visibility must be hidden (the grader's log is for instructors)")
    for i, t in enumerate(tests):
        if not isinstance(t, dict):
            found.append(f"tests[{i}] is not an object")
            continue
        found += [f"tests[{i}]: unknown key {k!r}" for k in t if k not in TEST_KEYS]
        for key in ("name", "score", "max_score", "status", "output", "visibility"):
            if key not in t:
                found.append(f"tests[{i}]: missing {key}")
        for key in ("score", "max_score"):
            if key in t and not _number(t[key]):
                found.append(f"tests[{i}].{key} must be a number")
        if t.get("status") not in (None, "passed", "failed"):
            found.append(f"tests[{i}].status {t['status']!r} is not passed or failed")
        if "visibility" in t and t["visibility"] not in VISIBILITY:
            found.append(f"tests[{i}].visibility {t['visibility']!r}")
        for key in ("name", "output"):
            if key in t and not (isinstance(t[key], str) and t[key].strip()):
                found.append(f"tests[{i}].{key} must be a non-empty string")
        if "tags" in t and not (isinstance(t["tags"], list) and all(isinstance(x, str) for x in t["tags"])):
            found.append(f"tests[{i}].tags must be a list of strings")
        if _number(t.get("score")) and _number(t.get("max_score")) and not 0 <= t["score"] <= t["max_score"]:
            found.append(f"tests[{i}]: score {t['score']} outside [0, {t['max_score']}]")
    if tests and _number(doc.get("score")):
        total = sum(t.get("score", 0) for t in tests if isinstance(t, dict))
        if abs(total - doc["score"]) > 1e-6:
            found.append(f"top-level score {doc['score']} is not the sum of the tests' scores {total}")
    return found


def test_the_validator_catches_what_gradescope_rejects():
    good = {
        "score": 1,
        "execution_time": 2,
        "output": "x",
        "stdout_visibility": "hidden",
        "tests": [
            {"name": "a", "score": 1, "max_score": 1, "status": "passed", "output": "ok", "visibility": "visible"}
        ],
    }
    assert gradescope_problems(good) == []
    broken = [
        {**good, "visibility": "later"},
        {**good, "score": "1"},
        {**good, "stdout_visibility": "visible"},
        {**good, "results": []},
        {k: v for k, v in good.items() if k != "execution_time"},
        {**good, "tests": [{**good["tests"][0], "status": "error"}]},
        {**good, "tests": [{**good["tests"][0], "score": 2}]},
        {**good, "tests": [{**good["tests"][0], "output": ""}]},
        {**good, "tests": [{**good["tests"][0], "visibility": "public"}]},
        {**good, "tests": [{k: v for k, v in good["tests"][0].items() if k != "max_score"}]},
        {**good, "score": 3},
    ]
    for doc in broken:
        assert gradescope_problems(doc), doc


@pytest.fixture(scope="module")
def contract():
    return next(c for c in support.course() if c.assignment == ASSIGNMENT)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope")
    proc = support.run_cli("gradescope", ASSIGNMENT, "--out", str(out / "default"))
    assert proc.returncode == 0, proc.stderr
    proc = support.run_cli("gradescope", ASSIGNMENT, "--out", str(out / "hidden"), "--hidden", "hidden")
    assert proc.returncode == 0, proc.stderr
    return {"default": out / "default" / f"{ASSIGNMENT}.zip", "hidden": out / "hidden" / f"{ASSIGNMENT}.zip"}


def test_the_zip_has_what_gradescope_needs_at_its_root(bundles):
    with zipfile.ZipFile(bundles["default"]) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        requirements = zf.read("requirements.txt").decode().split()
        setup = zf.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder"} <= names, "both must sit at the root of the zip, not in a folder"
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR, f"{script} must be executable"
    assert "course/solutions/reference.py" in names and f"course/solutions/{ASSIGNMENT}/attention.ipynb" in names
    assert "course/autograder/runner.py" in names and "course/autograder/sandbox_worker.py" in names
    # Pinned, and pinned as the course pins them: nothing is resolved at build or grading time.
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.strip().split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    assert requirements and all("==" in r for r in requirements), requirements
    for r in requirements:
        name, version = r.split("==")
        assert pins.get(re.sub(r"[-_.]+", "-", name).lower()) == version, f"{r} is not pinned so in constraints.txt"
    assert {"numpy", "matplotlib"} <= {r.split("==")[0].lower() for r in requirements}
    assert "--no-deps" in setup and "-r requirements.txt" in setup
    for script in ("setup.sh", "run_autograder"):
        with zipfile.ZipFile(bundles["default"]) as zf:
            text = zf.read(script).decode()
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0, f"{script}: bash syntax"


def gradescope_root(tmp_path: Path, bundle: Path, files: dict[str, bytes | str]) -> Path:
    root = tmp_path / "autograder"
    for d in ("source", "submission", "results"):
        (root / d).mkdir(parents=True)
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "run_autograder").chmod(0o755)
    for name, data in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return root


def run_autograder(root: Path, python: str = sys.executable) -> tuple[dict, subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": python}
    proc = subprocess.run(
        [str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )
    doc = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    problems = gradescope_problems(doc)
    assert not problems, (problems, proc.stdout, proc.stderr)
    return doc, proc


def nb_json(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False)


def test_a_correct_notebook_under_a_wrong_name_gets_every_point(bundles, contract, tmp_path):
    root = gradescope_root(tmp_path, bundles["default"], {"attention (1).ipynb": nb_json(support.solved(contract))})
    doc, proc = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert doc["score"] == contract.max_points > 0
    assert len(doc["tests"]) == len(contract.tests)
    assert all(t["status"] == "passed" for t in doc["tests"])
    assert "attention (1).ipynb" in doc["output"]
    # Graded by the bundle's own copy of the grader, not by this repository's.
    assert f"graded by {(root / 'source' / 'course' / 'autograder').resolve()}," in proc.stdout, proc.stdout


def test_a_mistake_gets_the_feedback_pages_messages(bundles, contract, tmp_path):
    from autograder.runner import grade_notebook
    from tests.mistakes import catalogue

    mistake = next(m for m in catalogue()[ASSIGNMENT][0] if m.slug == "no_max_subtraction")
    nb = support.solved(contract, **{mistake.function: mistake.source})
    root = gradescope_root(tmp_path, bundles["default"], {"Copy of attention.ipynb": nb_json(nb)})
    doc, _ = run_autograder(root)
    assert 0 < doc["score"] < contract.max_points
    # The same grading in this process, as `python -m autograder grade` does it for the feedback page.
    local = grade_notebook(contract, "x", root / "submission" / "Copy of attention.ipynb")
    assert doc["score"] == local.points
    assert len(doc["tests"]) == len(local.tests)
    assert any(t.status != "ok" for t in local.tests)
    for gs, t in zip(doc["tests"], local.tests, strict=True):
        assert gs["score"] == t.points and gs["max_score"] == t.max_points and gs["tags"] == [t.target]
        assert gs["status"] == ("passed" if t.status == "ok" else "failed")
        if t.message:
            assert gs["output"].startswith(t.message), f"{t.grade_id}: the feedback page's message is not shown"


def test_visibility_follows_the_released_notebook_and_is_configurable(bundles, contract, tmp_path):
    released = support.released(contract)
    visible_in_release = {}
    for cell in released["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            src = "".join(cell["source"])
            assert "HIDDEN TESTS" not in src
            checks = re.search(r"^\s*(assert|raise)\b", src, re.M) is not None
            visible_in_release[meta["grade_id"]] = checks and not meta["grade_id"].startswith("test_quiz_")
    assert (BOOK / ASSIGNMENT).is_dir() and visible_in_release
    root = gradescope_root(tmp_path, bundles["default"], {"attention.ipynb": nb_json(support.released(contract))})
    doc, _ = run_autograder(root)
    got = [t["visibility"] for t in doc["tests"]]
    want = ["visible" if visible_in_release[t.grade_id] else "after_published" for t in contract.tests]
    assert got == want
    assert "after_published" in got and "visible" in got
    assert doc["score"] == 0
    assert all(t["status"] == "failed" for t in doc["tests"])
    assert any("not implemented yet" in t["output"] for t in doc["tests"])
    root2 = gradescope_root(tmp_path / "2", bundles["hidden"], {"attention.ipynb": nb_json(support.released(contract))})
    doc2, _ = run_autograder(root2)
    assert [t["visibility"] for t in doc2["tests"]] == [v if v == "visible" else "hidden" for v in want]


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"attention.ipynb": '{"cells": [{"cell_type": "code", "source": '}, "not valid json"),
        ({"attention.py": "def softmax(x): pass\n", "notes.txt": "hello"}, "no notebook found"),
        ({}, "no notebook found"),
    ],
    ids=["not-json", "no-notebook", "empty"],
)
def test_a_submission_that_cannot_be_graded_still_gets_a_valid_result_with_a_reason(
    bundles, contract, tmp_path, files, words
):
    root = gradescope_root(tmp_path, bundles["default"], files)
    doc, proc = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert doc["score"] == 0
    assert words in doc["output"].lower(), doc["output"]
    assert sum(t["max_score"] for t in doc["tests"]) == contract.max_points
    for name in files:
        assert name in doc["output"] or words == "not valid json"


def test_a_grader_that_cannot_start_still_leaves_a_valid_result(bundles, tmp_path):
    root = gradescope_root(tmp_path, bundles["default"], {"attention.ipynb": "{}"})
    doc, proc = run_autograder(root, python="/nonexistent/python")
    assert proc.returncode != 0
    assert doc["score"] == 0 and doc["tests"] == [] and "could not run" in doc["output"]


def test_unknown_assignments_and_visibilities_are_refused(tmp_path):
    proc = support.run_cli("gradescope", "99-nope", "--out", str(tmp_path))
    assert proc.returncode == 2 and "99-nope" in proc.stderr
    proc = support.run_cli("gradescope", ASSIGNMENT, "--out", str(tmp_path), "--hidden", "later")
    assert proc.returncode == 2 and not list(tmp_path.glob("*.zip"))
