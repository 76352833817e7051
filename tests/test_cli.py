"""`python -m autograder grade` on the sample class, a .zip of it, and unusable arguments."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from autograder import REPO
from tests import support

SAMPLE = REPO / "examples" / "submissions"


def test_sample_class_is_what_its_generator_makes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_sample_class", REPO / "examples" / "make_sample_class.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make(tmp_path / "submissions")
    assert support.tree_digest(tmp_path / "submissions") == support.tree_digest(SAMPLE), (
        "examples/submissions is stale: run .venv/bin/python examples/make_sample_class.py"
    )


def test_sample_class_grades_as_each_student_deserves(sample_graded):
    out, proc = sample_graded
    grades = support.grades_by_student(out)
    assert set(grades) == {"ada", "blaise", "carmen", "dmitri", "emmy", "felix", "grace"}
    full = float(grades["ada"]["max_total"])
    ch03 = "03-attention"
    ch03_full = float(grades["ada"][ch03])
    assert float(grades["ada"]["total"]) == full > 0
    assert float(grades["blaise"]["total"]) == 0
    for student in ("carmen", "dmitri"):
        assert 0 < float(grades[student][ch03]) < ch03_full, f"{student}'s realistic mistakes must cost some points"
        assert float(grades[student]["total"]) < full
    assert float(grades["emmy"][ch03]) == 0 and "unreadable notebook" in grades["emmy"]["flags"]
    assert float(grades["emmy"]["total"]) == full - ch03_full
    assert float(grades["felix"][ch03]) == 0 and float(grades["felix"]["total"]) == full - ch03_full
    assert float(grades["grace"]["total"]) == full and "Copy of" in grades["grace"]["flags"]
    assert "ada" in proc.stdout and "grades.csv" in proc.stdout


def test_broken_and_missing_notebooks_get_rows_with_a_status(sample_graded):
    out, _ = sample_graded
    scores = support.scores_by_student(out)
    emmy = [r for r in scores["emmy"].values() if r["assignment"] == "03-attention"]
    felix = [r for r in scores["felix"].values() if r["assignment"] == "03-attention"]
    assert {r["status"] for r in emmy} == {"invalid"} and all("JSON" in r["reason"] for r in emmy)
    assert {r["status"] for r in felix} == {"missing"}


def test_a_zip_of_the_class_grades_the_same(few_students, tmp_path):
    subs, expected = few_students
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(subs.rglob("*")):
            zf.write(p, "submitted/" + str(p.relative_to(subs)))
    proc = support.run_cli("grade", str(archive), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    for name in ("grades.csv", "scores.csv"):
        assert support.csv_rows_of(tmp_path / "out" / name, support.FEW) == expected[name]


def test_grading_again_reuses_results_and_gives_identical_files(sample_graded, tmp_path):
    out, _ = sample_graded
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    proc = support.run_cli("grade", str(SAMPLE), "--out", str(copy))
    assert proc.returncode == 0 and "0 notebook(s) graded now" in proc.stdout
    for name in ("scores.csv", "grades.csv"):
        assert (copy / name).read_bytes() == (out / name).read_bytes()


@pytest.mark.parametrize(
    "args",
    [
        ["grade", "does/not/exist", "--out", "x"],
        ["grade", str(REPO / "README.md"), "--out", "x"],
        ["grade", str(SAMPLE), "--out", str(SAMPLE / "out")],
        ["grade", str(SAMPLE), "--out", "x", "--jobs", "0"],
        ["grade", str(SAMPLE)],
    ],
)
def test_unusable_arguments_give_one_clear_line_and_a_nonzero_exit(args, tmp_path):
    proc = support.run_cli(*args, cwd=tmp_path) if args[1] != "does/not/exist" else support.run_cli(*args)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(("error:", "usage:", "python -m autograder"))
