"""OUT/report.html: what an instructor asks first, in the order they ask it.

1. Where did the class struggle? Pass rates per chapter and per function, as a heatmap
   (a table whose cells are coloured by the share of submissions passing every test of
   that function; the numbers are in the cells, so it reads without colour too).
2. What went wrong? The named mistakes (the hints of the tests' failure messages), ranked
   by how many students made them, each with one real feedback line as an example.
3. Who needs a look? Every student with their totals and flags, in a table that sorts by
   any column (a small inline script; the page loads nothing from the network).
4. The score distribution, a histogram with integer counts.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections import defaultdict
from pathlib import Path

from autograder.runner import NotebookResult

CSS = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328;
  background: #fff; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .5rem 0; } img { max-width: 100%; }
td, th { border-bottom: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #57606a; } .flag { color: #8a4600; }
.heat .cell { min-width: 6.5rem; font-size: .8rem; border: 2px solid #fff; border-radius: 4px; padding: .2rem .45rem; }
.heat .cell b { display: block; font-size: 1rem; }
.heat td.fns { display: flex; flex-wrap: wrap; gap: 2px; padding: 0; }
.heat th, .heat td { vertical-align: middle; }
.legend span { display: inline-block; padding: 0 .5rem; margin-right: .2rem; border-radius: 3px; font-size: .8rem; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th[aria-sort="ascending"] button::after { content: " ▲"; } th[aria-sort="descending"] button::after { content: " ▼"; }
code { font-size: .85rem; }
"""

SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach((table) => {
  const heads = [...table.tHead.rows[0].cells];
  heads.forEach((th, col) => {
    const button = th.querySelector("button");
    if (!button) return;
    button.addEventListener("click", () => {
      const down = th.getAttribute("aria-sort") !== "descending";
      heads.forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
      const key = (row) => row.cells[col].dataset.sort ?? row.cells[col].textContent.trim();
      const rows = [...table.tBodies[0].rows];
      rows.sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        const [nx, ny] = [Number(x), Number(y)];
        const c = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
        return down ? -c : c;
      });
      rows.forEach((r) => table.tBodies[0].appendChild(r));
    });
  });
});
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _hint(message: str) -> str:
    """The misconception part of a failure message, without the numbers that differ per student."""
    first = message.splitlines()[0] if message else ""
    if " is not right: " in first:
        return first.split(" is not right: ", 1)[1]
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", first)[:160]


def _name(line: str) -> str:
    """The mistake a failure message names: the hint of ``check_close(..., mistakes=...)``, else
    what follows the observation ("softmax([1000, 999]) gave [nan nan]: exp(1000) overflows ...")."""
    if " is not right: " in line:
        return _clip(line.split(" is not right: ", 1)[1])
    head, sep, tail = line.partition(": ")
    return _clip(tail if sep and len(tail) > 20 else line)


def _clip(text: str, n: int = 220) -> str:
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + " …"


def _num(x: float) -> str:
    return f"{x:g}"


def _heat(rate: float) -> str:
    """A light background from red (0 %) through amber to green (100 %): dark text stays readable."""
    stops = [(0.0, (248, 196, 196)), (0.5, (250, 226, 160)), (1.0, (182, 232, 182))]
    for (r0, c0), (r1, c1) in zip(stops, stops[1:], strict=False):
        if rate <= r1:
            t = (rate - r0) / (r1 - r0)
            return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(c0, c1, strict=True))
    return "#" + "".join(f"{v:02x}" for v in stops[-1][1])


def write_class_report(out: Path, students: list[str], assignments: list[str], results: list[NotebookResult]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    e = html.escape
    by_student: dict[str, list[NotebookResult]] = {s: [] for s in students}
    for r in results:
        by_student.setdefault(r.student_id, []).append(r)
    full = {a: 0.0 for a in assignments}
    for r in by_student.get(students[0], []) if students else []:
        full[r.assignment] = full.get(r.assignment, 0.0) + r.max_points
    total_full = sum(full.values())

    # 1. Heatmap: chapter rows, one cell per function (concept questions gathered in one cell).
    passed: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (assignment, function): [passed, seen]
    share: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])  # points earned, possible
    chapter: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])  # points, possible, notebooks
    order: dict[str, list[str]] = defaultdict(list)
    for r in results:
        groups: dict[str, list] = defaultdict(list)
        for t in r.tests:
            groups["concept questions" if t.target.startswith("quiz_") else t.target].append(t)
        for name in groups:
            if name not in order[r.assignment]:
                order[r.assignment].append(name)
        if r.status == "missing":
            continue
        chapter[r.assignment][0] += r.points
        chapter[r.assignment][1] += r.max_points
        chapter[r.assignment][2] += 1
        for name, tests in groups.items():
            key = (r.assignment, name)
            passed[key][0] += all(t.status == "ok" for t in tests)
            passed[key][1] += 1
            share[key][0] += sum(t.points for t in tests)
            share[key][1] += sum(t.max_points for t in tests)
    heat_rows = []
    for a in assignments:
        pts, possible, n = chapter.get(a, [0.0, 0.0, 0])
        rate = pts / possible if possible else 0.0
        first = (
            f'<td class="cell num" style="background:{_heat(rate)}"><b>{100 * rate:.0f} %</b>{n} submitted</td>'
            if n
            else '<td class="cell num muted">none submitted</td>'
        )
        cells = []
        for name in order.get(a, []):
            ok, seen = passed[a, name]
            earned, possible_f = share[a, name]
            if seen:
                rate_f = ok / seen
                points = 100 * earned / possible_f if possible_f else 0.0
                title = f"{ok} of {seen} submissions pass every test of {name}; {points:.0f} % of its points"
                cells.append(
                    f'<div class="cell" style="background:{_heat(rate_f)}" title="{e(title)}">'
                    f"<b>{100 * rate_f:.0f} %</b><code>{e(name)}</code></div>"
                )
            else:
                cells.append(f'<div class="cell muted"><code>{e(name)}</code></div>')
        heat_rows.append(f'<tr><th scope="row">{e(a)}</th>{first}<td class="fns">{"".join(cells)}</td></tr>')
    legend = "".join(f'<span style="background:{_heat(x / 100)}">{x} %</span>' for x in (0, 25, 50, 75, 100))

    # 2. Named mistakes, by the number of students who made them.
    makers: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    example: dict[tuple[str, str, str], str] = {}
    for r in results:
        for t in r.tests:
            if t.status in {"failed", "error"} and t.message:
                key = (r.assignment, t.target, _hint(t.message))
                makers[key].add(r.student_id)
                example.setdefault(key, t.message.splitlines()[0])
    ranked = sorted(makers.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:20]
    mistake_rows = "".join(
        f'<tr><td class="num">{len(who)}</td><td>{e(a)}</td><td><code>{e(fn)}</code></td>'
        f"<td>{e(_name(example[a, fn, h]))}</td><td class='muted'>{e(_clip(example[a, fn, h]))}</td></tr>"
        for (a, fn, h), who in ranked
    )

    # 3. Students, sortable.
    head = "".join(
        f'<th scope="col" class="{cls}"><button type="button">{e(label)}</button></th>'
        for label, cls in [("student", ""), *((a, "num") for a in assignments), ("total", "num"), ("%", "num")]
        + [("flags", "num"), ("why", "")]
    )
    student_rows = []
    percent = []
    for s in students:
        rs = by_student.get(s, [])
        per = {a: sum(r.points for r in rs if r.assignment == a) for a in assignments}
        missing = {r.assignment for r in rs if r.status == "missing"}
        total = sum(per.values())
        pct = 100 * total / total_full if total_full else 0.0
        percent.append(pct)
        flags = [f"{r.assignment}: {f}" for r in rs for f in r.flags]
        cells = [f"<td>{e(s)}</td>"]
        for a in assignments:
            shown = "—" if a in missing else _num(per[a])
            cells.append(f'<td class="num" data-sort="{-1 if a in missing else _num(per[a])}">{shown}</td>')
        cells.append(f'<td class="num" data-sort="{_num(total)}">{_num(total)} / {_num(total_full)}</td>')
        cells.append(f'<td class="num" data-sort="{pct:.2f}">{pct:.0f}</td>')
        cells.append(f'<td class="num">{len(flags)}</td>')
        why = ""
        if flags:
            items = "".join(f"<li>{e(f)}</li>" for f in flags)
            why = f"<details><summary>{e(_clip(flags[0], 60))}</summary><ul>{items}</ul></details>"
        cells.append(f"<td class='flag'>{why}</td>")
        student_rows.append("<tr>" + "".join(cells) + "</tr>")

    # 4. Score distribution.
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    ax.hist(percent, bins=range(0, 105, 5), color="#4C72B0", edgecolor="white")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(
        xlabel="total score (%)", ylabel="students", xlim=(0, 100), title=f"Total scores of {len(students)} students"
    )
    hist = _png(fig)
    plt.close(fig)
    mean = sum(percent) / max(len(percent), 1)
    median = sorted(percent)[len(percent) // 2] if percent else 0.0
    hist_alt = (
        f"Histogram of the {len(students)} students' total scores in percent, in bins of 5 %: "
        f"mean {mean:.0f} %, median {median:.0f} %, lowest {min(percent, default=0):.0f} %, "
        f"highest {max(percent, default=0):.0f} %."
    )
    n_flagged = sum(1 for s in students if any(r.flags for r in by_student.get(s, [])))
    page = "\n".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Class report</title>',
            f"<style>{CSS}</style></head><body>",
            "<h1>Class report</h1>",
            f"<p>{len(students)} students, {len(assignments)} assignment(s). Mean {mean:.1f} %, median "
            f"{median:.1f} %. {n_flagged} student(s) flagged for a human look.</p>",
            "<h2 id='heatmap'>Pass rates by chapter and function</h2>",
            "<p class='muted'>First column: the chapter's share of points, over the notebooks submitted. Then one "
            "cell per function: the share of submissions passing every test of it (hover for its share of points). "
            f"<span class='legend'>{legend}</span></p>",
            f"<table class='heat'><tbody>{''.join(heat_rows)}</tbody></table>",
            "<h2 id='mistakes'>Mistakes, by how many students made them</h2>",
            "<table><thead><tr><th scope='col' class='num'>students</th><th scope='col'>assignment</th>"
            "<th scope='col'>function</th><th scope='col'>mistake</th><th scope='col'>example feedback line</th>"
            "</tr></thead>",
            f"<tbody>{mistake_rows or '<tr><td colspan=5>no failed tests</td></tr>'}</tbody></table>",
            "<h2 id='students'>Students</h2><p class='muted'>Click a column title to sort; — marks a "
            "notebook not submitted.</p>",
            f"<table class='sortable' id='student-table'><thead><tr>{head}</tr></thead>",
            f"<tbody>{''.join(student_rows)}</tbody></table>",
            "<h2 id='distribution'>Score distribution</h2>",
            f'<img alt="{e(hist_alt)}" src="data:image/png;base64,{hist}">',
            f"<script>{SORT_SCRIPT}</script>",
            "</body></html>\n",
        ]
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
