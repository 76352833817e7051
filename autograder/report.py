"""Write what grading found: scores.csv, grades.csv and one feedback page per notebook."""

from __future__ import annotations

import csv
import html
import sys
from pathlib import Path

from autograder.class_report import write_class_report
from autograder.collect import Collection
from autograder.contract import NotebookContract
from autograder.export import write_exports
from autograder.runner import NotebookResult

SCORE_COLUMNS = ["student_id", "assignment", "notebook", "grade_id", "points", "max_points", "status", "reason"]
STATUS_ICON = {
    "ok": "✔",
    "failed": "✘",
    "error": "⚠",
    "timeout": "⏱",
    "unanswered": "…",
    "missing": "∅",
    "invalid": "⚠",
}


def _num(x: float) -> str:
    return f"{x:g}"


def csv_safe(value: str) -> str:
    """A text cell that a spreadsheet will not run: one starting with =, +, -, @ (or a tab or
    carriage return) gets a leading apostrophe, as OWASP recommends against formula injection."""
    value = str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def path_component(name: str) -> str:
    """A student id as one folder name that any file system takes (long ids are shortened)."""
    import hashlib

    safe = name.replace("/", "_").replace("\0", "_") or "_"
    if safe in (".", ".."):
        safe = safe.replace(".", "_")
    if len(safe.encode("utf-8")) > 120:
        digest = hashlib.sha256(safe.encode("utf-8")).hexdigest()[:12]
        safe = safe.encode("utf-8")[:100].decode("utf-8", "ignore") + "-" + digest
    return safe


def write_reports(
    out: Path, course: list[NotebookContract], collection: Collection, results: list[NotebookResult]
) -> None:
    assignments = list(dict.fromkeys(c.assignment for c in course))
    with open(out / "scores.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(SCORE_COLUMNS)
        for r in results:
            for t in r.tests:
                reason = t.message.splitlines()[0] if t.message else ""
                w.writerow(
                    [
                        csv_safe(r.student_id),
                        r.assignment,
                        r.notebook,
                        t.grade_id,
                        _num(t.points),
                        _num(t.max_points),
                        t.status,
                        csv_safe(reason),
                    ]
                )
    by_student: dict[str, list[NotebookResult]] = {s: [] for s in collection.students}
    for r in results:
        by_student[r.student_id].append(r)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student_id", *assignments, "total", "max_total", "flags"])
        for student, rs in by_student.items():
            totals = {a: sum(r.points for r in rs if r.assignment == a) for a in assignments}
            flags = [f"{r.assignment}: {flag}" for r in rs for flag in r.flags]
            flags += [n for n in collection.notes if n.startswith(f"{student}: ")]
            w.writerow(
                [
                    csv_safe(student),
                    *(_num(totals[a]) for a in assignments),
                    _num(sum(totals.values())),
                    _num(sum(r.max_points for r in rs)),
                    csv_safe("; ".join(flags)),
                ]
            )
    for r in results:
        path = out / "feedback" / path_component(r.student_id) / r.assignment / f"{r.notebook}.html"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(feedback_html(r), encoding="utf-8", errors="backslashreplace")
        except OSError as e:  # one page that cannot be written must not cost the class its reports
            print(f"warning: could not write {path}: {e}", file=sys.stderr)
    for write in (write_exports, write_class_report):
        try:
            write(out, collection.students, assignments, results)
        except Exception as e:  # noqa: BLE001 - the grades and feedback above are what must never be lost
            print(f"warning: {write.__name__} failed: {type(e).__name__}: {e}", file=sys.stderr)


CSS = """
:root { color-scheme: light dark;
  --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #656d76; --box: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root {
  --ok: #3fb950; --bad: #f85149; --warn: #d29922; --muted: #8d96a0; --box: #161b22; } }
body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid var(--muted); }
.score { font-size: 1.3rem; font-weight: 600; }
pre { background: var(--box); padding: .75rem; overflow-x: auto; border-radius: 6px; font-size: .85rem; }
.ok { color: var(--ok); } .failed, .error, .invalid { color: var(--bad); }
.timeout, .unanswered, .missing { color: var(--warn); }
.msg { white-space: pre-wrap; margin: .25rem 0 .75rem 1.6rem; }
.flags { border-left: 4px solid var(--warn); padding-left: .75rem; }
li { list-style: none; } ul { padding-left: 0; } .muted { color: var(--muted); }
"""


def feedback_html(r: NotebookResult) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Feedback: {e(r.assignment)} – {e(r.student_id)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(r.assignment)} / {e(r.notebook)}.ipynb</h1>",
        f"<p>Student: <b>{e(r.student_id)}</b></p>",
        f"<p class='score'>Score: {_num(r.points)} / {_num(r.max_points)}</p>",
    ]
    if r.status != "graded":
        parts.append(f"<p class='{e(r.status)}'><b>{e(r.status.capitalize())}:</b> {e(r.reason)}</p>")
    if r.graded_file and r.graded_file != f"{r.notebook}.ipynb":
        parts.append(f"<p class='muted'>Graded file: {e(r.graded_file)}</p>")
    if r.flags:
        parts.append("<div class='flags'><p><b>For your instructor's attention:</b></p><ul>")
        parts += [f"<li>{e(f)}</li>" for f in r.flags]
        parts.append("</ul></div>")
    targets = list(dict.fromkeys(t.target for t in r.tests))
    for target in targets:
        tests = [t for t in r.tests if t.target == target]
        got, full = sum(t.points for t in tests), sum(t.max_points for t in tests)
        parts.append(f"<h2 id='{e(target)}'>{e(target)} <span class='muted'>— {_num(got)} / {_num(full)}</span></h2>")
        if target in r.answers:
            parts.append(f"<details><summary>Your code</summary><pre>{e(r.answers[target])}</pre></details>")
        parts.append("<ul>")
        for t in tests:
            aspect = t.grade_id.split("__", 1)[1].replace("_", " ") if "__" in t.grade_id else "check"
            icon = STATUS_ICON.get(t.status, "?")
            parts.append(
                f"<li><span class='{e(t.status)}'>{icon} {e(aspect)}</span> "
                f"<span class='muted'>({_num(t.points)}/{_num(t.max_points)}, {e(t.status)})</span>"
            )
            if t.message:
                parts.append(f"<div class='msg'>{e(t.message)}</div>")
            if t.output.strip():
                parts.append(f"<div class='msg muted'>{e(t.output.strip())}</div>")
            parts.append("</li>")
        parts.append("</ul>")
    broken = [c for c in r.cells if not c.ok]
    if broken:
        parts.append("<h2>Cells that raised an error while your notebook ran</h2>")
        for c in broken:
            parts.append(f"<p>{e(c.name)}</p><pre>{e(c.message)}</pre>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def summary_table(collection: Collection, results: list[NotebookResult], assignments: list[str]) -> str:
    """A plain-text grade table for the terminal."""
    rows = [["student", *assignments, "total", "flags"]]
    for student in collection.students:
        rs = [r for r in results if r.student_id == student]
        cells = []
        for a in assignments:
            ra = [r for r in rs if r.assignment == a]
            got, full = sum(r.points for r in ra), sum(r.max_points for r in ra)
            status = {r.status for r in ra}
            cells.append(
                "missing"
                if status == {"missing"}
                else ("invalid" if "invalid" in status else f"{_num(got)}/{_num(full)}")
            )
        total, full = sum(r.points for r in rs), sum(r.max_points for r in rs)
        nflags = sum(len(r.flags) for r in rs)
        rows.append([student, *cells, f"{_num(total)}/{_num(full)}", str(nflags) if nflags else ""])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
