"""OUT/report.html: how the class did, which exercises and mistakes to talk about, who to look at."""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from pathlib import Path

from autograder.runner import NotebookResult

CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; } img { max-width: 100%; }
td, th { border-bottom: 1px solid #8884; padding: .25rem .6rem; text-align: left; vertical-align: top; }
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _hint(message: str) -> str:
    """The misconception part of a failure message, without the numbers that differ per student."""
    import re

    first = message.splitlines()[0] if message else ""
    if " is not right: " in first:
        return first.split(" is not right: ", 1)[1]
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", first)[:160]


def write_class_report(out: Path, students: list[str], assignments: list[str], results: list[NotebookResult]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    totals = {s: 0.0 for s in students}
    full = 0.0
    for r in results:
        totals[r.student_id] += r.points
        if r.student_id == students[0]:
            full += r.max_points
    percent = [100 * t / full if full else 0.0 for t in totals.values()]

    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    ax.hist(percent, bins=range(0, 105, 5), color="#4C72B0", edgecolor="white")
    ax.set(xlabel="total score (%)", ylabel="students", title=f"Scores of {len(students)} students")
    hist = _png(fig)
    plt.close(fig)

    cells: dict[str, list[int]] = {}
    for r in results:
        for t in r.tests:
            passed, seen = cells.setdefault(f"{r.assignment}: {t.grade_id}", [0, 0])
            cells[f"{r.assignment}: {t.grade_id}"] = [passed + (t.status == "ok"), seen + (r.status != "missing")]
    names = list(cells)
    rates = [100 * p / n if n else 0.0 for p, n in cells.values()]
    fig, ax = plt.subplots(figsize=(6.4, 0.22 * len(names) + 1.0))
    ax.barh(range(len(names)), rates, color="#55A868")
    ax.set_yticks(range(len(names)), [n.split(": ", 1)[1] for n in names], fontsize=7)
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="submissions passing (%)", title="Pass rate per test cell")
    bars = _png(fig)
    plt.close(fig)

    mistakes = Counter(
        (r.assignment, t.target, _hint(t.message))
        for r in results
        for t in r.tests
        if t.status in {"failed", "error"} and t.message
    )
    flagged = [(r.student_id, r.assignment, f) for r in results for f in r.flags]
    e = html.escape
    rows = "".join(
        f"<tr><td>{n}</td><td>{e(a)}</td><td>{e(fn)}</td><td>{e(h)}</td></tr>"
        for (a, fn, h), n in mistakes.most_common(15)
    )
    flag_rows = "".join(f"<tr><td>{e(s)}</td><td>{e(a)}</td><td>{e(f)}</td></tr>" for s, a, f in flagged)
    hist_alt = "Histogram of total scores in percent"
    bars_alt = "Bar chart of the share of submissions passing each test cell"
    mean = sum(percent) / max(len(percent), 1)
    median = sorted(percent)[len(percent) // 2] if percent else 0.0
    page = "\n".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Class report</title>',
            f"<style>{CSS}</style></head><body>",
            "<h1>Class report</h1>",
            f"<p>{len(students)} students, {len(assignments)} assignment(s): {e(', '.join(assignments))}. "
            f"Mean {mean:.1f} %, median {median:.1f} %.</p>",
            f'<h2>Score distribution</h2><img alt="{hist_alt}" src="data:image/png;base64,{hist}">',
            f'<h2>Pass rate per test cell</h2><img alt="{bars_alt}" src="data:image/png;base64,{bars}">',
            "<h2>Most frequent mistakes</h2><table>",
            "<tr><th>count</th><th>assignment</th><th>function</th><th>what the tests saw</th></tr>",
            f"{rows}</table>",
            "<h2>Flagged for a human</h2><table><tr><th>student</th><th>assignment</th><th>why</th></tr>",
            f"{flag_rows or '<tr><td colspan=3>none</td></tr>'}</table>",
            "</body></html>\n",
        ]
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
