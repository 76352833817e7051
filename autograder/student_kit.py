"""The student's side of a released notebook: checks that report instead of stopping "Run all".

``release`` passes every student notebook through :func:`add_to_notebook`:

- a course-helpers cell right after the setup cell (its source is :data:`KIT_SOURCE`);
- every visible test cell wrapped in ``with check("test_..."):``, which prints one line
  (✔, or ✘ with the test's message, or "not implemented yet", or a trimmed traceback),
  records the result and never lets the exception escape;
- every demo cell that calls the student's functions, every cell that reads a data file
  shipped with the notebook (a figure's stored results) and every later cell that uses
  what such a cell made, wrapped in ``with try_it():``;
- a final "Check your work" markdown and code cell: a table of every visible test
  (passed / failed with its message / not run yet) and every question still unanswered.

Only ``book/`` gets these cells; the source notebooks are never changed. The grader
ignores the inserted cells of a submission as long as their source is unchanged
(:func:`is_course_cell`).
"""

from __future__ import annotations

import ast
import io
import tokenize

MARKER = "course_kit"  # cell.metadata[MARKER] = one of KINDS, on every cell release inserts
KINDS = ("helpers", "check-intro", "check")
DEMO_TAG = "raises-exception"  # a source demo cell with this tag calls the student's functions
DATA_FILE_READ = "np.load("  # a cell that reads a file shipped next to the notebook (it may be missing)

KIT_SOURCE = '''\
# Course helpers: each check below an exercise runs inside `with check(...)`, which prints
# one line and keeps a record for "Check your work" at the end, without stopping "Run all".
# Leave this cell as it is (it is not graded).
import sys as _sys
import traceback as _traceback


class _CourseChecks:
    results = {}  # grade id -> (status, message)

    def __init__(self, grade_id=None):
        self.grade_id = grade_id

    def __enter__(self):
        pass

    def __exit__(self, kind, error, tb):
        if kind is not None and not issubclass(kind, Exception):
            return False  # Ctrl-C and the like still stop the cell
        status, message = _course_outcome(kind, error, tb)
        if self.grade_id is None:  # a demo or figure cell
            if status == "passed":
                pass
            elif status == "not implemented":
                print("Not implemented yet: run this cell again once the function it uses is written.")
            elif issubclass(kind, FileNotFoundError):
                print(
                    f"{error.filename} is missing: put it next to this notebook (it comes with the chapter), "
                    "then run this cell again."
                )
            else:
                print(message, file=_sys.stderr)
            return True
        _CourseChecks.results[self.grade_id] = (status, message)
        question = self.grade_id[len("test_") :]
        if status != "passed" and question.startswith("quiz_") and globals().get(question) is None:
            print(f"\u00b7 {question}: not answered yet")
        elif status == "passed":
            print(f"\\u2714 {self.grade_id}: passed")
        elif status == "not implemented":
            print(f"\\u2718 {self.grade_id}: not implemented yet")
        else:
            print(f"\\u2718 {self.grade_id}: {message}", file=_sys.stderr)
        return True


def _course_outcome(kind, error, tb):
    if kind is None:
        return "passed", ""
    if issubclass(kind, NotImplementedError):
        return "not implemented", "not implemented yet"
    if issubclass(kind, AssertionError) and str(error):
        return "failed", str(error)
    frames = [f for f in _traceback.extract_tb(tb) if "_course" not in f.name][-3:]
    lines = [f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames]
    return "failed", "".join(_traceback.format_exception_only(kind, error)).strip() + "".join(
        f"\\n    {line}" for line in lines
    )


def check(grade_id):
    """Run one visible test: `with check("test_softmax__values"): ...`."""
    return _CourseChecks(grade_id)


def try_it():
    """Run a demo that uses your functions; if one is not written yet, say so instead of stopping."""
    return _CourseChecks()


def check_your_work(tests, questions):
    """Print every visible test of this notebook with its last result, and the unanswered questions."""
    marks = {"passed": "\\u2714", "failed": "\\u2718", "not implemented": "\\u2718", "not run": "\\u00b7"}
    rows = []
    for grade_id in tests:
        status, message = _CourseChecks.results.get(grade_id, ("not run", ""))
        text = {"passed": "passed", "not implemented": "not implemented yet", "not run": "not run yet"}.get(
            status, "failed: " + message.splitlines()[0] if message else "failed"
        )
        rows.append((status, f"{marks[status]} {grade_id:<{max(map(len, tests), default=0)}}  {text}"))
    passed = sum(status == "passed" for status, _ in rows)
    print(f"Check your work: {passed} of {len(rows)} checks pass.")
    print("\\n".join(row for _, row in rows))
    unanswered = [q for q in questions if globals().get(q) is None]
    if unanswered:
        print(f"Questions still unanswered ({len(unanswered)} of {len(questions)}): " + ", ".join(unanswered))
    else:
        print(f"All {len(questions)} questions answered.")
'''

CHECK_INTRO = """## Check your work

Run the cell below last (or use "Run all"): it lists every check of this notebook,
passed, failed (with its message) or not run yet, and the questions you have not
answered yet. A check that passes here is a good sign, not a grade: your functions
are also tried on other inputs when your work is graded."""


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def check_source(tests: list[str], questions: list[str]) -> str:
    lines = ["# Run this cell last: it lists every check above and the questions not answered yet.", "check_your_work("]
    lines += ["    [", *(f'        "{t}",' for t in tests), "    ],"]
    lines += ["    [", *(f'        "{q}",' for q in questions), "    ],", ")"]
    return "\n".join(lines)


def indent_code(source: str, prefix: str = "    ") -> str:
    """Indent every line of ``source``, except the continuation lines of multi-line strings."""
    keep: set[int] = set()  # 1-based lines inside a multi-line string token
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.start[0] != tok.end[0] and tok.type == tokenize.STRING:
                keep.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    out = [ln if (i in keep or not ln.strip()) else prefix + ln for i, ln in enumerate(source.splitlines(), 1)]
    return "\n".join(out)


def wrap(source: str, opener: str) -> str:
    body = indent_code(source.rstrip()) if ast_ok(source) else None
    if body is None:
        return source  # not valid Python: leave it for the student to see
    if not any(ln.strip() and not ln.strip().startswith("#") for ln in source.splitlines()):
        body = "    pass"
    return f"{opener}\n{body}"


def ast_ok(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell reads before setting them, names it sets), statement by statement."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return set(), set()
    free: set[str] = set()
    bound: set[str] = set()
    for stmt in body:
        names = [n for n in ast.walk(stmt) if isinstance(n, ast.Name)]
        bound |= {n.id for n in names if isinstance(n.ctx, ast.Store)}  # loop variables, comprehensions
        free |= {n.id for n in names if isinstance(n.ctx, ast.Load)} - bound
        if isinstance(stmt, ast.FunctionDef | ast.ClassDef):
            bound.add(stmt.name)
    return free, bound


def _new_cell(cell_type: str, source: str, kind: str, cell_id: str, tags: list[str]) -> dict:
    cell = {"cell_type": cell_type, "id": cell_id, "metadata": {MARKER: kind, "tags": tags}, "source": source}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def data_files_source(names: list[str]) -> str:
    """A note listing the files shipped next to the notebook, each a link (a download in the book)."""
    links = ", ".join(f"[{n}]({n})" for n in names)
    return (
        f"**Files this notebook reads.** {links}: keep them in the same folder as the notebook "
        "(on Colab, upload them with the folder icon on the left before running the cells). "
        "Figures that need them say so when they are missing."
    )


def add_to_notebook(nb: dict, data_files: list[str] | tuple[str, ...] = ()) -> dict:
    """Insert the course-helpers and "Check your work" cells and wrap tests and demos (in place).

    ``data_files`` (shipped next to the notebook) are linked from a note after the helpers."""
    cells = nb["cells"]
    tests, questions = [], []
    from_data: set[str] = set()  # names set by cells that may fail (a missing data file, a stub)
    setup_at = None
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        meta = cell.setdefault("metadata", {})
        nbg = meta.get("nbgrader", {})
        gid = nbg.get("grade_id", "")
        tags = meta.get("tags", [])
        if "setup" in tags and setup_at is None:
            setup_at = i
        if nbg.get("grade"):
            cell["source"] = wrap(_source(cell), f'with check("{gid}"):')
            if not gid.startswith("test_quiz_"):
                tests.append(gid)
        elif nbg.get("solution"):
            if gid.startswith("quiz_"):
                questions.append(gid)
        elif "setup" not in tags:
            free, bound = _names(_source(cell))
            reads_data = DATA_FILE_READ in _source(cell)
            if DEMO_TAG in tags or reads_data or free & from_data:
                cell["source"] = wrap(_source(cell), "with try_it():")
                meta["tags"] = [t for t in tags if t != DEMO_TAG]
                from_data |= bound  # undefined when the cell fails: later cells that read them may fail too
    if setup_at is None:
        raise ValueError("a course notebook needs a setup cell (tag 'setup') before the helpers can go in")
    cells.insert(setup_at + 1, _new_cell("code", KIT_SOURCE.rstrip(), "helpers", "course-kit", ["remove-cell"]))
    if data_files:
        note = _new_cell("markdown", data_files_source(sorted(data_files)), "data-files", "course-data-files", [])
        cells.insert(setup_at + 2, note)
    cells.append(_new_cell("markdown", CHECK_INTRO, "check-intro", "check-your-work-intro", []))
    cells.append(_new_cell("code", check_source(tests, questions), "check", "check-your-work", ["remove-output"]))
    return nb


def is_course_cell(cell: dict) -> bool:
    """True for a cell release inserted whose source the student left unchanged (the grader skips it)."""
    kind = cell.get("metadata", {}).get(MARKER) if isinstance(cell, dict) else None
    source = _source(cell) if kind else ""
    if kind == "helpers":
        return source.strip() == KIT_SOURCE.strip()
    if kind != "check":
        return False
    try:
        (stmt,) = ast.parse(source).body
        call = stmt.value
        ok = isinstance(stmt, ast.Expr) and isinstance(call, ast.Call) and not call.keywords
        ok = ok and isinstance(call.func, ast.Name) and call.func.id == "check_your_work"
        return ok and all(isinstance(ast.literal_eval(a), list) for a in call.args)
    except (SyntaxError, ValueError, AttributeError, TypeError):
        return False
