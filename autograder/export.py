"""Gradebook files that import without surprises: Canvas, Moodle, and Gradescope's results.json.

``OUT/exports/canvas.csv`` follows Canvas's gradebook import (Grades > Import): the header
``Student, ID, SIS User ID, SIS Login ID, Section`` then one column per assignment, a
``Points Possible`` row, one row per student. Canvas creates a *new* assignment for every
column whose title matches none of the course's, so the file holds the assignments only (no
total); ``canvas_map`` (``--canvas-map FILE``) renames them to the gradebook's own titles,
``Name (id)``, so that they land in the existing columns. ``OUT/exports/moodle.csv`` follows
Moodle's CSV grade import: one user column (mapped to a user field on import), one column
per assignment. A ``roster`` (``--roster FILE``, e.g. Canvas's own gradebook export) maps
the submission folder names to Canvas's ``ID``/``SIS User ID``/``SIS Login ID`` and to
Moodle's ``username``/``email``/``idnumber``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.runner import NotebookResult

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_USER_FIELDS = ("username", "email", "idnumber")
ROSTER_KEYS = ("student_id", "SIS Login ID", "SIS User ID", "ID", "username", "email", "idnumber", "Student")


class ExportError(ValueError):
    """A roster or a column map that cannot be used (one-line reason)."""


@dataclass
class Roster:
    """Rows of a class list, found by the id the submissions use."""

    key: str  # the roster column holding the submission folder names
    rows: dict[str, dict[str, str]] = field(default_factory=dict)


def _num(x: float) -> str:
    return f"{x:g}"


def safe(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (names, ids come from outside)."""
    from autograder.report import csv_safe

    return csv_safe(text)


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ExportError(f"{path} could not be read as a UTF-8 CSV file ({e})") from None
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in rows]


def read_roster(path: Path, students: list[str]) -> Roster:
    """A class list CSV: a ``student_id`` column, or the column (SIS Login ID, username, ...)
    whose values are the submission folder names. Canvas's gradebook export works as is
    (its "Points Possible" row and read-only columns are ignored)."""
    rows = [r for r in _read_csv(path) if "points possible" not in r.get("Student", "").lower()]
    if not rows:
        raise ExportError(f"{path} has no rows")
    columns = list(rows[0])
    candidates = [k for k in ROSTER_KEYS if k in columns]
    if not candidates:
        raise ExportError(f"{path}: no column to find students by (one of {', '.join(ROSTER_KEYS)})")
    wanted = set(students)
    key = (
        "student_id" if "student_id" in candidates else max(candidates, key=lambda k: sum(r[k] in wanted for r in rows))
    )
    roster = Roster(key)
    for r in rows:
        if r[key]:
            roster.rows[r[key]] = r
    return roster


def read_canvas_map(path: Path, assignments: list[str]) -> dict[str, str]:
    """``assignment,canvas_column`` lines (a header is optional), e.g. ``03-attention,Attention (1234)``."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            lines = [row for row in csv.reader(f) if row and any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ExportError(f"{path} could not be read as a UTF-8 CSV file ({e})") from None
    mapping: dict[str, str] = {}
    for row in lines:
        if len(row) < 2:
            raise ExportError(f"{path}: each line needs an assignment and a Canvas column title, got {row}")
        assignment, title = row[0].strip(), row[1].strip()
        if assignment not in assignments:
            if assignment.lower() in ("assignment", "notebook"):
                continue  # a header line
            raise ExportError(f"{path}: {assignment!r} is not an assignment of this course")
        if not title:
            raise ExportError(f"{path}: no Canvas column title for {assignment}")
        mapping[assignment] = title
    titles = list(mapping.values())
    dup = sorted({t for t in titles if titles.count(t) > 1})
    if dup:
        raise ExportError(f"{path}: two assignments map to the same Canvas column {dup}")
    return mapping


def write_exports(
    out: Path,
    students: list[str],
    assignments: list[str],
    results: list[NotebookResult],
    *,
    canvas_map: dict[str, str] | None = None,
    roster: Roster | None = None,
) -> list[str]:
    """Write OUT/exports/; returns notes for the instructor (students or assignments left out)."""
    exports = out / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    points = {(s, a): 0.0 for s in students for a in assignments}
    maxima = dict.fromkeys(assignments, 0.0)
    for r in results:
        points[r.student_id, r.assignment] = points.get((r.student_id, r.assignment), 0.0) + r.points
    for r in results:
        if students and r.student_id == students[0]:
            maxima[r.assignment] += r.max_points

    columns = list(assignments)
    titles = {a: a for a in assignments}
    if canvas_map is not None:
        left_out = [a for a in assignments if a not in canvas_map]
        if left_out:
            notes.append(
                "canvas.csv: left out (not in the --canvas-map, Canvas would create new assignments): "
                + ", ".join(left_out)
            )
        columns = [a for a in assignments if a in canvas_map]
        titles = {a: canvas_map[a] for a in columns}
    rows_for: dict[str, dict[str, str]] = {}
    if roster is not None:
        unknown = [s for s in students if s not in roster.rows]
        if unknown:
            notes.append(f"not in the roster (left out of canvas.csv and moodle.csv): {', '.join(unknown)}")
        rows_for = {s: roster.rows[s] for s in students if s in roster.rows}
        absent = [k for k in roster.rows if k not in set(students)]
        if absent:
            notes.append(f"in the roster but without any submission (not exported): {', '.join(absent)}")
        listed = [s for s in students if s in rows_for]
    else:
        listed = list(students)

    # Canvas: its gradebook export's layout; a column title matching no assignment creates one.
    with open(exports / "canvas.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*CANVAS_IDENTITY, *(titles[a] for a in columns)])
        w.writerow(["    Points Possible", "", "", "", "", *(_num(maxima[a]) for a in columns)])
        for s in listed:
            if roster is not None:
                r = rows_for[s]
                ident = [r.get("Student") or s, r.get("ID", ""), r.get("SIS User ID", ""), r.get("SIS Login ID", "")]
                ident.append(r.get("Section", ""))
            else:
                ident = [s, "", "", s, ""]
            w.writerow([*(safe(x) for x in ident), *(_num(points[s, a]) for a in columns)])

    # Moodle: Grades > Import > CSV file; map the user column to its user field, each column to a grade item.
    user_field = "username"
    if roster is not None:
        user_field = next((k for k in MOODLE_USER_FIELDS if k in next(iter(roster.rows.values()), {})), "username")
    with open(exports / "moodle.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([user_field, *assignments])
        for s in listed:
            user = (rows_for[s].get(user_field) or s) if roster is not None else s
            w.writerow([safe(user), *(_num(points[s, a]) for a in assignments)])

    # Gradescope's results.json per submission (what the Gradescope autograder would have written).
    visible = _visibility()
    from autograder.gradescope import results_json

    for r in results:
        if r.status == "missing":
            continue
        from autograder.report import path_component

        path = exports / "gradescope" / path_component(r.student_id) / r.assignment / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = results_json(r, visible.get(r.assignment, {}))
        path.write_text(
            json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8", errors="backslashreplace"
        )
    return notes


def _visibility() -> dict[str, dict[str, bool]]:
    from autograder import SOLUTIONS
    from autograder.contract import ContractError, load_course
    from autograder.gradescope import test_visibility

    try:
        return {c.assignment: test_visibility(c) for c in load_course(SOLUTIONS)}
    except (OSError, ValueError, ContractError):
        return {}
