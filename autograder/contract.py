"""What a source notebook promises: its answer cells, test cells and setup cells.

The grader trusts only the source notebooks in solutions/; a submission's own
metadata (points, grade ids, test code) is never believed.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

CARRIED_PREFIX = "from_chapter_"  # e.g. from_chapter_03: where students paste earlier chapters' functions
TEST_ID = re.compile(r"^test_(?P<target>[A-Za-z_][A-Za-z0-9_]*?)(?:__(?P<aspect>[A-Za-z0-9_]+))?$")
SETUP_TAG = "setup"


@dataclass(frozen=True)
class TestCell:
    """An autograded test cell: trusted code that checks one answer."""

    grade_id: str
    target: str  # the answer it checks: a function name or a quiz id
    aspect: str
    points: float
    source: str


@dataclass(frozen=True)
class NotebookContract:
    """Everything the grader needs to know about one source notebook."""

    assignment: str
    notebook: str  # file stem, e.g. "attention"
    path: Path
    answers: tuple[str, ...]  # grade ids of answer cells, in notebook order
    answer_sources: dict[str, str] = field(repr=False)  # the reference solutions
    setup_sources: tuple[str, ...] = field(repr=False)
    tests: tuple[TestCell, ...] = ()
    locked_ids: frozenset[str] = frozenset()  # read-only code cells (nbgrader `locked`) the grader never runs
    locked_sources: frozenset[str] = field(default=frozenset(), repr=False)

    @property
    def max_points(self) -> float:
        return sum(t.points for t in self.tests)


class ContractError(ValueError):
    """A source notebook breaks the cell contract of the course spec."""


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def load_contract(path: Path, assignment: str | None = None) -> NotebookContract:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    answers: list[str] = []
    answer_sources: dict[str, str] = {}
    setup: list[str] = []
    tests: list[TestCell] = []
    locked_ids: set[str] = set()
    locked_sources: set[str] = set()
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        tags = cell.get("metadata", {}).get("tags", [])
        gid = meta.get("grade_id")
        if cell["cell_type"] != "code":
            continue
        if meta.get("solution") and not meta.get("grade") and (gid or "").startswith(CARRIED_PREFIX):
            continue  # the student's own earlier functions: run as their code, never graded here
        if meta.get("solution") and not meta.get("grade"):
            answers.append(gid)
            answer_sources[gid] = _source(cell)
        elif meta.get("grade"):
            m = TEST_ID.match(gid or "")
            if not m:
                raise ContractError(f"{path}: test cell id {gid!r} is not test_<answer>[__<aspect>]")
            tests.append(
                TestCell(
                    grade_id=gid,
                    target=m["target"],
                    aspect=m["aspect"] or "",
                    points=float(meta.get("points", 0)),
                    source=_source(cell),
                )
            )
        else:
            if gid and meta.get("locked"):
                locked_ids.add(gid)  # read-only: never run, whatever a submission's copy says
            # An editable course cell (a switch, an optional exercise) is skipped while unchanged
            # and run as the student's own cell once edited.
            locked_sources.add(_source(cell).strip())
            if SETUP_TAG in tags:
                setup.append(_source(cell))
    for t in tests:
        if t.target not in answer_sources:
            raise ContractError(f"{path}: {t.grade_id} checks {t.target!r}, which has no answer cell")
    return NotebookContract(
        assignment=assignment or Path(path).parent.name,
        notebook=Path(path).stem,
        path=Path(path),
        answers=tuple(answers),
        answer_sources=answer_sources,
        setup_sources=tuple(setup),
        tests=tuple(tests),
        locked_ids=frozenset(locked_ids),
        locked_sources=frozenset(locked_sources),
    )


def load_course(solutions: Path) -> list[NotebookContract]:
    """Every source notebook of the course, in assignment order."""
    contracts = [
        load_contract(p)
        for p in sorted(Path(solutions).glob("*/*.ipynb"))
        if not p.parent.name.startswith((".", "_")) and ".ipynb_checkpoints" not in p.parts
    ]
    seen: dict[str, str] = {}
    for c in contracts:
        for gid in (*c.answers, *(t.grade_id for t in c.tests)):
            if gid in seen:
                raise ContractError(f"grade id {gid!r} appears in {seen[gid]} and {c.path}")
            seen[gid] = str(c.path)
    return contracts


def reference_calls(course: list[NotebookContract]) -> dict[str, tuple[str, ...]]:
    """For every graded function, the other graded functions its reference solution uses by
    name. While a function is tested, exactly these are lent to the student's code."""
    graded = {a: c.answer_sources[a] for c in course for a in c.answers if not a.startswith("quiz_")}
    calls: dict[str, tuple[str, ...]] = {}
    for name, source in graded.items():
        try:
            tree = ast.parse(source)
        except SyntaxError:
            calls[name] = ()
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        calls[name] = tuple(sorted(n for n in used & graded.keys() if n != name))
    return calls
