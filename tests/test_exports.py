"""exports/canvas.csv and exports/moodle.csv, imported by scripts that apply the importers' documented rules.

Canvas (Grades > Import, "How do I import grades in the Gradebook?"): the first row is the
header; students are found by ``ID``, else ``SIS User ID``, else ``SIS Login ID``; a row
whose first cell is "Points Possible" gives the points of new assignments; read-only
columns (scores, totals Canvas computes) are ignored by name; an assignment column is
matched by the id in parentheses at the end of its title (``Name (1234)``), else by its
exact name, and **any other column creates a new assignment**.
Moodle (Grades > Import > CSV file): the first row is the header; one column is mapped to a
user field (username, email, idnumber) and must identify exactly one user per row; every
other column is mapped to a grade item (or a new one) and holds a number.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from autograder.export import read_canvas_map, read_roster, write_exports
from autograder.runner import NotebookResult
from autograder.runner import TestResult as CellResult
from tests import support

READ_ONLY = re.compile(r"(current|final|unposted).*(score|points|grade)|override", re.I)
IDENTITY = {"Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Integration ID", "Root Account"}


def canvas_import(text: str, gradebook: dict) -> dict:
    """What Canvas does with an uploaded CSV, on a course with ``gradebook``'s students and assignments."""
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert len(set(header)) == len(header), f"duplicate column titles: {header}"
    assert {"Student", "ID", "SIS User ID", "SIS Login ID"} & set(header), "no column identifies students"
    points_row = None
    if body and body[0] and body[0][0].strip() == "Points Possible":
        points_row, body = body[0], body[1:]
    by_id = {a["id"]: a for a in gradebook["assignments"]}
    by_name = {a["name"]: a for a in gradebook["assignments"]}
    result = {"grades": {}, "new_assignments": {}, "unmatched_students": [], "ignored_columns": []}
    targets = {}
    for i, title in enumerate(header):
        if title in IDENTITY:
            continue
        if READ_ONLY.search(title):
            result["ignored_columns"].append(title)
            continue
        m = re.search(r"\((\d+)\)\s*$", title)
        if m and int(m[1]) in by_id:
            targets[i] = by_id[int(m[1])]["name"]
        elif title in by_name:
            targets[i] = title
        else:
            pts = points_row[i] if points_row else ""
            result["new_assignments"][title] = float(pts) if pts else None
            targets[i] = title
    col = {name: header.index(name) for name in header if name in IDENTITY}
    for row in body:
        student = None
        for key in ("ID", "SIS User ID", "SIS Login ID"):
            value = row[col[key]].strip() if key in col else ""
            if value:
                student = next((s for s in gradebook["students"] if s.get(key) == value), None)
                break
        if student is None:
            result["unmatched_students"].append(row[0])
            continue
        for i, name in targets.items():
            result["grades"][student["SIS Login ID"], name] = float(row[i])
    return result


def moodle_import(text: str, users: list[dict], user_field: str, items: dict[str, float]) -> dict:
    """Moodle's CSV grade import with the user column mapped to ``user_field`` and each
    column mapped to the grade item of the same name (new items for the others)."""
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert len(set(header)) == len(header) and all(h.strip() for h in header)
    assert header[0] == user_field, f"the user column should be {user_field}, got {header[0]}"
    grades, new_items = {}, [h for h in header[1:] if h not in items]
    for row in body:
        assert len(row) == len(header)
        matches = [u for u in users if u[user_field] == row[0]]
        assert len(matches) == 1, f"{row[0]!r} identifies {len(matches)} users"
        for h, value in zip(header[1:], row[1:], strict=True):
            x = float(value)  # Moodle refuses text in a grade column
            if h in items:
                assert 0 <= x <= items[h], f"{h}: {x} outside [0, {items[h]}]"
            grades[matches[0]["username"], h] = x
    return {"grades": grades, "new_items": new_items}


def rows_of(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


# A small class, graded results made up from the course's real test cells.
STUDENTS = ["s01", "s02", "s03"]


@pytest.fixture(scope="module")
def course_part():
    return [c for c in support.course() if c.assignment in ("02-qkv", "03-attention")]


@pytest.fixture(scope="module")
def results(course_part):
    out = []
    for k, s in enumerate(STUDENTS):
        for c in course_part:
            tests = [
                CellResult(t.grade_id, t.target, t.points if (i + k) % 3 else 0.0, t.points, "ok")
                for i, t in enumerate(c.tests)
            ]
            out.append(NotebookResult(s, c.assignment, c.notebook, "graded", tests=tests))
    return out


def expected(results) -> dict:
    got = {}
    for r in results:
        got[r.student_id, r.assignment] = got.get((r.student_id, r.assignment), 0.0) + r.points
    return got


def gradebook(course_part, titles: dict[str, str] | None = None) -> dict:
    """A Canvas course where s01..s03 are enrolled with Canvas ids and SIS ids of their own."""
    students = [
        {"Student": f"Doe, {s}", "ID": str(9000 + i), "SIS User ID": f"U{i}", "SIS Login ID": f"{s}@uni.example"}
        for i, s in enumerate(STUDENTS)
    ]
    assignments = []
    for n, c in enumerate(course_part):
        name = (titles or {}).get(c.assignment, f"Chapter {c.assignment}")
        assignments.append({"id": 1000 + n, "name": name, "points": c.max_points})
    return {"students": students, "assignments": assignments}


def test_default_canvas_csv_creates_exactly_one_assignment_per_chapter(tmp_path, course_part, results):
    assignments = [c.assignment for c in course_part]
    write_exports(tmp_path, STUDENTS, assignments, results)
    text = (tmp_path / "exports" / "canvas.csv").read_text(encoding="utf-8")
    book = gradebook(course_part)
    for s in book["students"]:  # without a roster, the folder names are the SIS Login IDs
        s["SIS Login ID"] = s["SIS Login ID"].split("@")[0]
    imported = canvas_import(text, book)
    assert imported["new_assignments"] == {c.assignment: c.max_points for c in course_part}, (
        "a column that is not an assignment (e.g. a total) would become a new Canvas assignment"
    )
    assert not imported["unmatched_students"]
    want = expected(results)
    assert imported["grades"] == {(s, a): want[s, a] for s in STUDENTS for a in assignments}


def test_canvas_map_and_roster_land_in_the_existing_columns(tmp_path, course_part, results):
    assignments = [c.assignment for c in course_part]
    book = gradebook(course_part)
    # The instructor's Canvas gradebook export serves as the roster and names the columns.
    export = tmp_path / "canvas_export.csv"
    with open(export, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        titles = [f"{a['name']} ({a['id']})" for a in book["assignments"]]
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles, "Current Score"])
        w.writerow(["    Points Possible", "", "", "", "", *(str(a["points"]) for a in book["assignments"]), ""])
        for s in book["students"][:2]:  # s03 is not enrolled
            login = s["SIS Login ID"]
            w.writerow([s["Student"], s["ID"], s["SIS User ID"], login, "A", "", "", ""])
    # Folder names are the part of the login before "@": give the roster a student_id column.
    rows = rows_of(export)
    rows[0].append("student_id")
    rows[1].append("")
    for r in rows[2:]:
        r.append(r[3].split("@")[0])
    with open(export, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "assignment,canvas_column\n"
        + "".join(f"{c.assignment},{t}\n" for c, t in zip(course_part, titles, strict=True)),
        encoding="utf-8",
    )
    roster = read_roster(export, STUDENTS)
    notes = write_exports(
        tmp_path, STUDENTS, assignments, results, canvas_map=read_canvas_map(mapping, assignments), roster=roster
    )
    text = (tmp_path / "exports" / "canvas.csv").read_text(encoding="utf-8")
    imported = canvas_import(text, book)
    assert imported["new_assignments"] == {}, "every column must land in an existing assignment"
    assert not imported["unmatched_students"]
    want = expected(results)
    names = {c.assignment: a["name"] for c, a in zip(course_part, book["assignments"], strict=True)}
    assert imported["grades"] == {(f"{s}@uni.example", names[a]): want[s, a] for s in STUDENTS[:2] for a in assignments}
    assert any("s03" in n and "roster" in n for n in notes)
    # A map that leaves a chapter out drops its column (and says so) rather than creating one.
    partial = tmp_path / "partial.csv"
    partial.write_text(f"{course_part[0].assignment},{titles[0]}\n", encoding="utf-8")
    notes = write_exports(
        tmp_path, STUDENTS, assignments, results, canvas_map=read_canvas_map(partial, assignments), roster=roster
    )
    imported = canvas_import((tmp_path / "exports" / "canvas.csv").read_text(encoding="utf-8"), book)
    assert imported["new_assignments"] == {}
    assert any(course_part[1].assignment in n for n in notes)


def test_moodle_csv_maps_to_the_roster_user_field(tmp_path, course_part, results):
    assignments = [c.assignment for c in course_part]
    items = {c.assignment: c.max_points for c in course_part}
    write_exports(tmp_path, STUDENTS, assignments, results)
    users = [{"username": s, "email": f"{s}@uni.example"} for s in STUDENTS]
    moodle = tmp_path / "exports" / "moodle.csv"
    imported = moodle_import(moodle.read_text(encoding="utf-8"), users, "username", items)
    assert imported["new_items"] == [], "a column that is not a grade item (e.g. a total) would be imported too"
    want = expected(results)
    assert imported["grades"] == {(s, a): want[s, a] for s in STUDENTS for a in assignments}
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,email\n" + "".join(f"{s},{s}@uni.example\n" for s in STUDENTS), encoding="utf-8")
    write_exports(tmp_path, STUDENTS, assignments, results, roster=read_roster(roster, STUDENTS))
    imported = moodle_import(moodle.read_text(encoding="utf-8"), users, "email", items)
    assert imported["grades"] == {(s, a): want[s, a] for s in STUDENTS for a in assignments}


def test_names_from_outside_never_become_formulas(tmp_path, course_part, results):
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "student_id,Student,ID\n" + "".join(f'{s},=HYPERLINK("http://x"),{i}\n' for i, s in enumerate(STUDENTS)),
        encoding="utf-8",
    )
    assignments = [c.assignment for c in course_part]
    write_exports(tmp_path, STUDENTS, assignments, results, roster=read_roster(roster, STUDENTS))
    cells = [row[0] for row in rows_of(tmp_path / "exports" / "canvas.csv")][2:]
    assert cells and all(not c.startswith(("=", "+", "-", "@")) for c in cells)


def test_grade_writes_mapped_exports_from_the_command_line(tmp_path, course_part):
    contract = course_part[0]
    subs = tmp_path / "subs"
    support.write_submission(subs, "s01", contract, support.solved(contract))
    support.write_submission(subs, "s02", contract, support.released(contract))
    mapping = tmp_path / "map.csv"
    mapping.write_text(f"{contract.assignment},Queries and keys (77)\n", encoding="utf-8")
    out = tmp_path / "out"
    grade = ("grade", str(subs), "--out", str(out), "--jobs", "1", "--quiet", "--canvas-map")
    proc = support.run_cli(*grade, str(mapping))
    assert proc.returncode == 0, proc.stderr
    header = rows_of(out / "exports" / "canvas.csv")[0]
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Queries and keys (77)"]
    # The last step of a sharded run, merge, takes the same options.
    merged = tmp_path / "merged"
    proc = support.run_cli("merge", str(out), "--out", str(merged), "--canvas-map", str(mapping))
    assert proc.returncode == 0, proc.stderr
    assert rows_of(merged / "exports" / "canvas.csv")[0] == header
    bad = tmp_path / "bad.csv"
    bad.write_text("99-nope,X (1)\n", encoding="utf-8")
    proc = support.run_cli(*grade, str(bad))
    assert proc.returncode == 2 and "99-nope" in proc.stderr
