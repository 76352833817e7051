"""Generate examples/submissions/, the sample class that `make grade` grades.

    .venv/bin/python examples/make_sample_class.py

Students (nbgrader's submitted layout, <student>/<assignment>/<notebook>.ipynb):
  ada     every answer correct
  blaise  downloaded the notebooks and submitted them unchanged
  carmen  chapter 3: a naive softmax (no max subtraction), attention without the 1/sqrt(d_k)
          scale, one wrong quiz; other chapters: the first catalogued mistake of each
  dmitri  chapter 3: K.T on batched input, masking with 0 instead of -inf, a stray scratch
          cell; other chapters: the second catalogued mistake of each
  emmy    chapter 3 cut off while uploading (not valid JSON); the others correct
  felix   nothing for chapter 3 (only a note); the others correct
  grace   everything correct, saved as "Copy of <notebook>.ipynb"
A test checks that this file and the committed folder agree.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests import support  # noqa: E402
from tests.mistakes import catalogue  # noqa: E402


def _mistake(assignment: str, slug: str) -> tuple[str, str]:
    mistakes, _ = catalogue()[assignment]
    m = next(m for m in mistakes if m.slug == slug)
    return m.function, m.source


def _wrong_letter(correct_source: str, gid: str) -> str:
    letter = correct_source.split("=")[-1].strip().strip("\"'")
    wrong = "a" if letter != "a" else "b"
    return f'# Replace None with "a", "b", "c" or "d".\n{gid} = "{wrong}"'


def _dump(nb: dict) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def make(root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    for c in support.course():
        answers = support.reference_answers(c)
        quizzes = [a for a in c.answers if a.startswith("quiz_")]

        def put(student: str, nb: dict | str, name: str | None = None, c=c) -> None:
            path = root / student / c.assignment / (name or f"{c.notebook}.ipynb")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(nb if isinstance(nb, str) else _dump(nb), encoding="utf-8")

        put("ada", support.solved(c))
        put("blaise", support.released(c))
        put("grace", support.solved(c), name=f"Copy of {c.notebook}.ipynb")
        mistakes = catalogue().get(c.assignment, ([], []))[0]
        if c.assignment == "03-attention":
            carmen = dict([_mistake(c.assignment, "no_max_subtraction"), _mistake(c.assignment, "no_scaling")])
            carmen[quizzes[0]] = _wrong_letter(answers[quizzes[0]], quizzes[0])
            put("carmen", support.solved(c, **carmen))
            dmitri = support.solved(
                c,
                **dict([_mistake(c.assignment, "transpose_with_T"), _mistake(c.assignment, "mask_with_zero")]),
            )
            scratch = {
                "cell_type": "code",
                "execution_count": None,
                "id": "scratch",
                "metadata": {},
                "outputs": [],
                "source": "# trying things out\nprint(softmax(np.array([1.0, 2.0, 3.0])))",
            }
            dmitri["cells"].insert(len(dmitri["cells"]) // 2, scratch)
            put("dmitri", dmitri)
            text = _dump(support.solved(c))
            put("emmy", text[: len(text) // 2])  # the upload was cut off
            continue  # felix did not submit this chapter
        # Elsewhere: carmen and dmitri each make one catalogued mistake, emmy and felix are right.
        for student, index in (("carmen", 0), ("dmitri", 1)):
            if len(mistakes) > index:
                put(student, support.solved(c, **{mistakes[index].function: mistakes[index].source}))
            else:
                put(student, support.solved(c))
        put("emmy", support.solved(c))
        put("felix", support.solved(c))
    (root / "felix").mkdir(parents=True, exist_ok=True)
    (root / "felix" / "NOTE.txt").write_text("Sorry, I ran out of time this week.\n", encoding="utf-8")


if __name__ == "__main__":
    make(HERE / "submissions")
    print(f"wrote {HERE / 'submissions'}")
