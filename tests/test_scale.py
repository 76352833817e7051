"""Class-scale features: shards and merge, resuming a killed run, progress, report and exports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from autograder import REPO
from tests import support

SAMPLE = REPO / "examples" / "submissions"


@pytest.fixture(scope="module")
def full_run(sample_graded):
    return sample_graded


def test_progress_is_one_plain_line_per_notebook_when_not_a_terminal(full_run):
    _, proc = full_run
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("graded ")]
    assert len(lines) == sum(1 for _ in support.read_csv(full_run[0] / "grades.csv")) * len(support.course())
    assert "nb/s" in lines[-1]


def test_shards_merged_give_the_same_grades_as_one_run(few_students, tmp_path):
    subs, expected = few_students
    for i in (1, 2, 3):
        proc = support.run_cli("grade", str(subs), "--out", str(tmp_path / f"s{i}"), "--shard", f"{i}/3")
        assert proc.returncode == 0, proc.stderr
    students = [set(support.grades_by_student(tmp_path / f"s{i}")) for i in (1, 2, 3)]
    assert sum(map(len, students)) == len(set().union(*students)) == len(support.FEW), (
        "shards overlap or miss a student"
    )
    proc = support.run_cli("merge", *(str(tmp_path / f"s{i}") for i in (1, 2, 3)), "--out", str(tmp_path / "all"))
    assert proc.returncode == 0, proc.stderr
    for name in ("grades.csv", "scores.csv"):
        assert support.csv_rows_of(tmp_path / "all" / name, support.FEW) == expected[name]


def test_a_killed_run_continues_where_it_stopped(few_students, tmp_path):
    subs, expected = few_students
    resumed = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(resumed), "--jobs", "1"]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((resumed / "_results").glob("*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((resumed / "_results").glob("*.json")))
    assert 3 <= done < len(support.FEW) * len(support.course()), (
        "the first run should have been killed part way through"
    )
    again = support.run_cli("grade", str(subs), "--out", str(resumed))
    assert again.returncode == 0, again.stderr
    assert f"{done} reused" in again.stdout or "reused from an earlier run" in again.stdout
    for name in ("grades.csv", "scores.csv"):
        assert support.csv_rows_of(resumed / name, support.FEW) == expected[name]


def test_lms_exports_match_the_grades(full_run):
    out, _ = full_run
    grades = support.grades_by_student(out)
    assignments = [c.assignment for c in support.course()]
    canvas = support.read_csv(out / "exports" / "canvas.csv")
    assert canvas[0]["Student"].strip() == "Points Possible"
    assert list(canvas[0])[5:] == assignments, "assignments only: Canvas turns any other column into an assignment"
    assert {row["SIS Login ID"] for row in canvas[1:]} == set(grades)
    moodle = {row["username"]: row for row in support.read_csv(out / "exports" / "moodle.csv")}
    for student, row in grades.items():
        assert sum(float(moodle[student][a]) for a in assignments) == float(row["total"])
    scores = support.scores_by_student(out)
    ada = json.loads((out / "exports" / "gradescope" / "ada" / "03-attention" / "results.json").read_text())
    assert ada["score"] == float(grades["ada"]["03-attention"])
    rows = [r for r in scores["ada"].values() if r["assignment"] == "03-attention"]
    assert len(ada["tests"]) == len(rows)
    for t, r in zip(ada["tests"], rows, strict=True):  # in the notebook's order, named after what they check
        target = r["grade_id"].removeprefix("test_").split("__")[0]
        assert t["name"].startswith(f"{target}: ") and t["max_score"] == float(r["max_points"])
    assert all({"name", "score", "max_score", "output", "status", "visibility"} <= set(t) for t in ada["tests"])
    assert not (out / "exports" / "gradescope" / "felix" / "03-attention").exists(), "nothing submitted, no results"


def test_class_report_shows_plots_mistakes_and_flags(full_run):
    out, _ = full_run
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 1  # the histogram; the heatmap is a table
    # carmen and dmitri each make a catalogued mistake in project_qkv: the most frequent, listed first
    mistakes = page.split("id='mistakes'", 1)[1].split("id='students'", 1)[0]
    assert "Mistakes, by how many students made them" in page and "project_qkv" in mistakes
    assert "emmy" in page and "unreadable notebook" in page
