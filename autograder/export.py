"""Exports for learning-management systems: Canvas/Moodle gradebook CSVs and Gradescope results.json."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from autograder.runner import NotebookResult


def _safe(value: str) -> str:
    from autograder.report import csv_safe

    return csv_safe(value)


def _num(x: float) -> str:
    return f"{x:g}"


def write_exports(out: Path, students: list[str], assignments: list[str], results: list[NotebookResult]) -> None:
    exports = out / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    points = {(r.student_id, r.assignment): 0.0 for r in results}
    maxima = dict.fromkeys(assignments, 0.0)
    for r in results:
        points[r.student_id, r.assignment] += r.points
    for r in results:
        if r.student_id == students[0]:
            maxima[r.assignment] += r.max_points
    total_max = sum(maxima.values())
    # Canvas: its own export layout, with a "Points Possible" row; import via Grades > Import.
    with open(exports / "canvas.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments, "Attention course total"])
        w.writerow(["    Points Possible", "", "", "", "", *(_num(maxima[a]) for a in assignments), _num(total_max)])
        for s in students:
            row = [points.get((s, a), 0.0) for a in assignments]
            w.writerow([_safe(s), "", "", _safe(s), "", *(_num(x) for x in row), _num(sum(row))])
    # Moodle: Grades > Import > CSV; map "username" to the user field and each column to a grade item.
    with open(exports / "moodle.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["username", *assignments, "total"])
        for s in students:
            row = [points.get((s, a), 0.0) for a in assignments]
            w.writerow([_safe(s), *(_num(x) for x in row), _num(sum(row))])
    # Gradescope autograder format, one file per submission.
    for r in results:
        if r.status == "missing":
            continue
        from autograder.report import path_component

        path = exports / "gradescope" / path_component(r.student_id) / r.assignment / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tests = [
            {
                "name": t.grade_id,
                "score": t.points,
                "max_score": t.max_points,
                "status": "passed" if t.status == "ok" else "failed",
                "output": "\n".join(x for x in (t.message, t.output.strip()) if x),
            }
            for t in r.tests
        ]
        doc = {
            "score": r.points,
            "output": r.reason or f"{r.assignment}: {_num(r.points)} / {_num(r.max_points)}",
            "visibility": "after_published",
            "tests": tests,
        }
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
