"""The concept questions cannot be answered without reading them.

Each quiz answer cell `quiz_<topic>_<n>` of a source notebook follows a markdown cell that
states the question and its options `- (a) ...` to `- (d) ...`; the key is the string its
solution assigns. These tests compute, from the notebooks alone, how well strategies that
ignore the meaning would score, and fail when one of them does too well.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass

import pytest

from autograder import SOLUTIONS

LETTERS = "abcd"
OPTION = re.compile(r"^- \(([a-d])\)\s*(.*)$")
KEY = re.compile(r'### BEGIN SOLUTION\s*\n\s*(quiz_\w+)\s*=\s*"([a-d])"')
QUESTION_HEAD = re.compile(r"^\*\*Question \d+\.\*\*\s*")


@dataclass(frozen=True)
class Question:
    chapter: str
    quiz_id: str
    stem: str
    options: dict[str, str]
    key: str
    test_source: str = ""  # the test cell test_<quiz_id>, hidden part included


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def parse_question(markdown: str) -> tuple[str, dict[str, str]]:
    """Split a question's markdown into its stem and its options (continuation lines joined)."""
    stem_lines: list[str] = []
    options: dict[str, str] = {}
    current = None
    for line in markdown.splitlines():
        m = OPTION.match(line.strip())
        if m:
            current = m.group(1)
            options[current] = m.group(2).strip()
        elif current is not None and line.strip():
            options[current] += " " + line.strip()
        elif current is None:
            stem_lines.append(line.strip())
    stem = QUESTION_HEAD.sub("", " ".join(s for s in stem_lines if s)).strip()
    return stem, options


def load_questions() -> list[Question]:
    questions = []
    for path in sorted(SOLUTIONS.glob("*/*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
            if cell["cell_type"] != "code" or not gid.startswith("quiz_"):
                continue
            m = KEY.search(_source(cell))
            assert m and m.group(1) == gid, f'{path.parent.name}: {gid} has no solution `{gid} = "x"`'
            before = cells[i - 1]
            assert before["cell_type"] == "markdown", f"{gid}: the cell before it should state the question"
            stem, options = parse_question(_source(before))
            tests = [
                _source(c) for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == f"test_{gid}"
            ]
            assert len(tests) == 1, f"{gid} needs exactly one test cell test_{gid}"
            questions.append(Question(path.parent.name, gid, stem, options, m.group(2), tests[0]))
    return questions


QUESTIONS = load_questions()


def _length(text: str) -> int:
    return len(re.sub(r"\s+", " ", text))


def rank_strategy_score(questions: list[Question], rank: int) -> float:
    """Expected share of right answers when always picking the option of this length rank.

    Rank 0 is the longest option, 1 the second longest, ... A tie is split: among options of equal
    length, the strategy picks one at random.
    """
    total = 0.0
    for q in questions:
        lengths = sorted((_length(t) for t in q.options.values()), reverse=True)
        target = lengths[rank]
        tied = [letter for letter, t in q.options.items() if _length(t) == target]
        total += (q.key in tied) / len(tied)
    return total / len(questions)


def longest_strategy_score(questions: list[Question]) -> float:
    """Expected share of right answers when always picking the longest option (ties split)."""
    return rank_strategy_score(questions, 0)


def test_the_parser_finds_the_questions_of_every_chapter():
    assert len(QUESTIONS) >= 30
    chapters = {q.chapter for q in QUESTIONS}
    assert chapters == {p.parent.name for p in SOLUTIONS.glob("*/*.ipynb")}


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.quiz_id)
def test_each_question_has_four_options_a_to_d_and_a_stem(q):
    assert sorted(q.options) == list(LETTERS), f"{q.chapter} {q.quiz_id}: options {sorted(q.options)}"
    assert all(q.options.values()), f"{q.quiz_id}: an empty option"
    assert len(q.stem) > 20, f"{q.quiz_id}: no question before the options"


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.quiz_id)
def test_the_right_option_is_never_much_longer_than_the_others(q):
    key = _length(q.options[q.key])
    others = sorted(_length(t) for letter, t in q.options.items() if letter != q.key)
    longest_other = others[-1]
    assert key <= 1.3 * longest_other + 10, (
        f"{q.chapter} {q.quiz_id}: the key ({key} characters) gives itself away; "
        f"the longest distractor has {longest_other}"
    )


HIDDEN_QUIZ = re.compile(r'quiz\(\s*(quiz_\w+),\s*"([a-d])",\s*((?:"(?:[^"\\]|\\.)*"\s*)+),?\s*\)')


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.quiz_id)
def test_the_grading_key_is_the_solution_and_the_explanation_answers_every_distractor(q):
    m = HIDDEN_QUIZ.search(q.test_source)
    assert m, f"{q.quiz_id}: its test cell should call quiz({q.quiz_id}, key, explanation)"
    assert m.group(1) == q.quiz_id, f"{q.quiz_id}: its test cell grades {m.group(1)}"
    assert m.group(2) == q.key, f"{q.quiz_id}: the solution says {q.key!r}, the test cell grades {m.group(2)!r}"
    explanation = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(3)))
    missing = [letter for letter in LETTERS if letter != q.key and f"({letter})" not in explanation]
    assert not missing, f"{q.quiz_id}: the explanation never says why {missing} are wrong"


def test_every_chapter_has_three_to_five_questions():
    per_chapter = Counter(q.chapter for q in QUESTIONS)
    for chapter, n in per_chapter.items():
        assert 3 <= n <= 5, f"{chapter} has {n} concept questions"


def test_each_letter_is_the_key_of_20_to_30_percent_of_the_questions():
    counts = Counter(q.key for q in QUESTIONS)
    shares = {letter: counts[letter] / len(QUESTIONS) for letter in LETTERS}
    assert all(0.20 <= s <= 0.30 for s in shares.values()), f"key shares: {shares}"


def test_always_the_same_letter_scores_at_most_35_percent():
    counts = Counter(q.key for q in QUESTIONS)
    best = max(counts[letter] for letter in LETTERS) / len(QUESTIONS)
    assert best <= 0.35, f"always answering {counts.most_common(1)[0][0]!r} scores {best:.0%}"


def test_picking_the_longest_option_scores_at_most_35_percent():
    score = longest_strategy_score(QUESTIONS)
    assert score <= 0.35, f"always picking the longest option scores {score:.0%}"


@pytest.mark.parametrize("rank", [1, 2, 3], ids=["second-longest", "third-longest", "shortest"])
def test_picking_by_any_other_length_rank_scores_at_most_35_percent(rank):
    score = rank_strategy_score(QUESTIONS, rank)
    assert score <= 0.35, f"always picking the option of length rank {rank} scores {score:.0%}"


def test_no_two_questions_have_the_same_stem():
    seen: dict[str, str] = {}
    for q in QUESTIONS:
        norm = re.sub(r"\W+", " ", q.stem.lower()).strip()
        assert norm not in seen, f"{q.quiz_id} repeats the question of {seen[norm]}"
        seen[norm] = q.quiz_id


def test_the_strategy_scores_are_computed_correctly_on_a_made_up_quiz():
    """The longest-option score splits ties and counts a longest key as a hit."""
    opts = {"a": "x", "b": "xx", "c": "yy", "d": "z"}
    qs = [Question("c", "quiz_t_1", "stem", opts, "b"), Question("c", "quiz_t_2", "stem", opts, "a")]
    assert longest_strategy_score(qs) == pytest.approx(0.25)
    assert rank_strategy_score(qs, 3) == pytest.approx(0.5 * 0.5)  # "x" and "z" tie for shortest; key "a" once
    stem, options = parse_question("**Question 1.** Why?\n\n- (a) one\n  two\n- (b) three")
    assert stem == "Why?" and options == {"a": "one two", "b": "three"}
