"""book/ and solutions/reference.py are exactly what `release` makes from solutions/."""

from __future__ import annotations

import io
import json
import shutil

from autograder import BOOK, SOLUTIONS
from autograder.contract import load_course
from autograder.release import release


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_book_notebooks_and_reference_are_in_sync_with_solutions(tmp_path):
    book = tmp_path / "book"
    reference = tmp_path / "reference.py"
    release(SOLUTIONS, book, reference)
    assert reference.read_bytes() == (SOLUTIONS / "reference.py").read_bytes(), "run `make release`"
    for assignment in sorted({c.assignment for c in load_course(SOLUTIONS)}):
        made, committed = _files(book / assignment), _files(BOOK / assignment)
        stale = sorted(str(p) for p in set(made) | set(committed) if made.get(p) != committed.get(p))
        assert not stale, f"book/{assignment} differs from a fresh release (run `make release`): {stale}"


def test_a_second_release_changes_no_file(tmp_path):
    solutions = tmp_path / "solutions"
    # Three chapters are enough (one plain, one with figure data, one shipping a model): the
    # drift test above releases all of them.
    for chapter in ("02-qkv", "03-attention", "10-gpt"):
        shutil.copytree(SOLUTIONS / chapter, solutions / chapter)
    first = release(solutions, tmp_path / "book")
    assert first, "the first release into an empty folder must write files"
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "book").rglob("*")}
    assert release(solutions, tmp_path / "book") == []
    assert before == {p: p.stat().st_mtime_ns for p in (tmp_path / "book").rglob("*")}


def test_stamps_skip_unchanged_chapters_but_never_a_changed_one(tmp_path, monkeypatch):
    import autograder.release as rel

    solutions, book, stamps = tmp_path / "solutions", tmp_path / "book", tmp_path / "stamps.json"
    for chapter in ("02-qkv", "03-attention", "04-masking"):  # enough to see which ones are released again
        shutil.copytree(SOLUTIONS / chapter, solutions / chapter)
    release(solutions, book, stamps=stamps)
    generated = []
    real_api = rel._nbgrader_api

    def counting_api(root):
        api = real_api(root)
        generate = api.generate_assignment
        api.generate_assignment = lambda a, **kw: generated.append(a) or generate(a, **kw)
        return api

    monkeypatch.setattr(rel, "_nbgrader_api", counting_api)
    assert release(solutions, book, stamps=stamps) == [] and generated == [], "an unchanged course was re-released"

    # A hand edit of a released notebook is undone, and only that chapter is regenerated.
    student = book / "03-attention" / "attention.ipynb"
    pristine = student.read_bytes()
    student.write_bytes(pristine.replace(b"Scaled dot-product", b"Edited by hand"))
    assert release(solutions, book, stamps=stamps) == [student] and generated == ["03-attention"]
    assert student.read_bytes() == pristine

    # An edited source chapter is released again.
    generated.clear()
    source = solutions / "04-masking" / "masking.ipynb"
    source.write_text(source.read_text(encoding="utf-8").replace("# 4. Masking", "# 4. Masks"), encoding="utf-8")
    assert release(solutions, book, stamps=stamps) == [book / "04-masking" / "masking.ipynb"]
    assert generated == ["04-masking"]


def test_released_notebooks_contain_no_solution_or_hidden_test():
    for path in sorted(BOOK.glob("*/*.ipynb")):
        text = path.read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "autograder.hidden"):
            assert marker not in text, f"{path} contains {marker!r}"


def test_student_stubs_raise_not_implemented_and_quizzes_start_unanswered():
    for c in load_course(SOLUTIONS):
        nb = json.loads((BOOK / c.assignment / f"{c.notebook}.ipynb").read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            gid = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
            if gid in c.answer_sources:
                src = "".join(cell["source"])
                if gid.startswith("quiz_"):
                    assert f"{gid} = None" in src and "raise" not in src, f"{gid}: {src!r}"
                else:
                    assert "raise NotImplementedError" in src and f"def {gid}(" in src, f"{gid}: {src!r}"


def test_source_notebooks_are_committed_without_outputs():
    for path in sorted(SOLUTIONS.glob("*/*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        dirty = [
            i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c["outputs"] or c["execution_count"])
        ]
        assert not dirty, f"{path}: cells {dirty} have outputs; clear them before committing"


FIGURE_DATA = """
import numpy as np


def make(ref):
    z = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    return {
        "fig_softmax": {"weights": ref.softmax(z), "z": z},
        "fig_counts.npz": {"n": np.arange(3, dtype=np.int64), "label": np.array(["a", "bc"])},
    }
"""


def test_figure_data_is_made_from_the_reference_as_deterministic_npz_and_scripts_stay_behind(tmp_path):
    import numpy as np

    solutions = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS / "03-attention", solutions / "03-attention")
    (solutions / "03-attention" / "figure_data.py").write_text(FIGURE_DATA, encoding="utf-8")
    (solutions / "03-attention" / "notes.py").write_text("SECRET = 1\n", encoding="utf-8")
    book, stamps = tmp_path / "book", tmp_path / "stamps.json"
    release(solutions, book, stamps=stamps)
    chapter = book / "03-attention"
    assert sorted(p.name for p in chapter.iterdir()) == ["attention.ipynb", "fig_counts.npz", "fig_softmax.npz"]
    with np.load(chapter / "fig_softmax.npz") as data:
        assert sorted(data.files) == ["weights", "z"]
        e = np.exp([2.0, 1.0, 0.0])
        assert np.allclose(data["weights"], [e / e.sum(), [1 / 3] * 3])
    with np.load(chapter / "fig_counts.npz") as data:
        assert data["n"].tolist() == [0, 1, 2] and data["label"].tolist() == ["a", "bc"]

    # Byte for byte the same in a fresh folder; a second release changes nothing.
    again = tmp_path / "again"
    release(solutions, again)
    assert _files(again / "03-attention") == _files(chapter)
    assert release(solutions, book, stamps=stamps) == []

    # The stamp covers figure_data.py: an edit is released, a removal deletes the data.
    script = solutions / "03-attention" / "figure_data.py"
    script.write_text(FIGURE_DATA.replace("[0.0, 0.0, 0.0]", "[0.0, 0.0, 1.0]"), encoding="utf-8")
    assert release(solutions, book, stamps=stamps) == [chapter / "fig_softmax.npz"]
    script.unlink()
    # The data files go, and so does the notebook's note that links them.
    assert sorted(release(solutions, book, stamps=stamps)) == [
        chapter / "attention.ipynb",
        chapter / "fig_counts.npz",
        chapter / "fig_softmax.npz",
    ]
    assert sorted(p.name for p in chapter.iterdir()) == ["attention.ipynb"]


def test_npz_bytes_do_not_depend_on_the_order_or_the_clock():
    import numpy as np

    from autograder.release import npz_bytes

    a = {"x": np.arange(4.0), "y": np.eye(2, dtype=np.float32)}
    assert npz_bytes(a) == npz_bytes(dict(reversed(a.items())))
    assert npz_bytes(a) != npz_bytes({**a, "x": np.arange(4.0) + 1})
    with np.load(io.BytesIO(npz_bytes({"scalar": np.float64(2.5), "x": np.arange(6).reshape(2, 3).T}))) as data:
        assert data["scalar"].shape == () and data["scalar"] == 2.5, "a 0-d array must stay 0-d"
        assert data["x"].tolist() == [[0, 3], [1, 4], [2, 5]]
