"""What students read never mentions the test suite, the grader's internals or instructors' scripts.

Students read the released notebooks (book/<chapter>/<notebook>.ipynb, every cell they see) and
the book's own pages (book/*.md) with the scripts they show (book/scripts/). How grading works
for them is told once, in book/intro.md, in their terms: visible tests, more checks when graded,
correct versions of other functions standing in for theirs.
"""

from __future__ import annotations

import json
import re

import pytest

from autograder import BOOK

# Phrases about how the course is made or checked behind the scenes.
BEHIND_THE_SCENES = [
    r"\btest suite\b",
    r"\bhidden tests?\b",
    r"\bgraders?\b",
    r"\bgrader's\b",
    r"\bautograder\b",
    r"\bnbgrader\b",
    r"\bsandbox",
    r"\bsolutions/",
    r"\breference (?:solution|implementation|version)s?\b",
    r"\binstructors?'? scripts?\b",
    r"\bscripts? (?:that|which) stays? with\b",
]
# The intro may say that "your instructor" grades; a chapter has no reason to.
CHAPTER_ONLY = [r"\binstructors?\b"]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def student_texts() -> list[tuple[str, str, list[str]]]:
    """(where, text, patterns) for every cell of every released notebook and every book page."""
    texts = []
    for path in sorted(BOOK.glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            where = f"{path.relative_to(BOOK)} cell {cell.get('id')}"
            texts.append((where, _source(cell), BEHIND_THE_SCENES + CHAPTER_ONLY))
    for path in sorted([*BOOK.glob("*.md"), *BOOK.glob("scripts/*.py")]):
        texts.append((str(path.relative_to(BOOK)), path.read_text(encoding="utf-8"), BEHIND_THE_SCENES))
    return texts


def offending_lines(text: str, patterns: list[str]) -> list[str]:
    found = []
    for line in text.splitlines():
        if any(re.search(p, line, re.IGNORECASE) for p in patterns):
            found.append(line.strip())
    return found


def test_there_are_released_notebooks_and_pages_to_check():
    texts = student_texts()
    assert sum(".ipynb" in where for where, _, _ in texts) > 500
    assert any(where == "intro.md" for where, _, _ in texts)


@pytest.mark.parametrize(
    "line",
    [
        "the project's test suite checks it against PyTorch",
        "except ValueError:  # RuntimeError: what the grader's cross_entropy raised",
        "Measured with the course's reference implementation, greedy decoding sorts",
        "a GPT trained with PyTorch (by a short script that stays with the instructors)",
        "# Read a model saved by the instructors' script",
    ],
)
def test_the_check_finds_instructor_talk(line):
    assert offending_lines(line, BEHIND_THE_SCENES + CHAPTER_ONLY) == [line]


@pytest.mark.parametrize(
    "line",
    [
        "## References",
        "to, it needs a description of what it wants to hear (its **query**)",
        "Your instructor grades every submitted notebook with one command",
    ],
)
def test_ordinary_student_text_passes(line):
    assert offending_lines(line, BEHIND_THE_SCENES) == []


def test_no_student_page_talks_about_how_the_course_is_checked_behind_the_scenes():
    problems = [
        f"{where}: {line}" for where, text, patterns in student_texts() for line in offending_lines(text, patterns)
    ]
    assert not problems, "student pages mention the course's internals:\n" + "\n".join(problems)
