"""Grade one submitted notebook: run its code in a sandbox, its tests in the grader.

The student's cells run in a ``Sandbox``. The test cells come from the source
notebook (never from the submission) and run here, in the trusted process:
each graded name is bound to a proxy that calls into the sandbox and brings the
result back as plain data. While one function is tested, every other graded
function it might call is served by the reference, so one mistake is charged
once.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from autograder.contract import NotebookContract, reference_calls
from autograder.hidden import StudentWarning, ref
from autograder.integrity import tamper_flags
from autograder.lender import LentReference, shared_lender
from autograder.sandbox import (
    Isolation,
    Limits,
    Sandbox,
    SandboxCrashed,
    SandboxError,
    SandboxTimeout,
    StudentError,
    shared_zygote,
)
from autograder.student_kit import is_course_cell

ALLOWED_IMPORTS = {"numpy", "math", "re", "collections", "itertools", "functools"}
MAX_NOTEBOOK_BYTES = 100 * 1024**2  # after outputs are stripped
MAX_FILE_BYTES = 512 * 1024**2  # before: saved outputs (plots, long prints) may make a notebook big
# What one notebook may leave in the results, feedback and exports: enough to teach, never gigabytes.
MAX_MESSAGE_CHARS = 4_000  # one test's message
MAX_TEST_OUTPUT_CHARS = 4_000  # what one test printed (and the warnings it saw)
MAX_CELL_LOG_CHARS = 6_000  # one cell's traceback or output
MAX_CELL_LOGS = 20  # cells logged (the others still run)
MAX_NOTEBOOK_TEXT = 400_000  # all of the above together


def clean_text(text: str, limit: int | None = None) -> str:
    """Text safe to store and show: lone surrogates and undecodable bytes become escapes, and
    it is cut at ``limit`` characters with a note."""
    if not isinstance(text, str):
        text = str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"\n[... {len(text) - limit} more characters cut]"
    return text


@dataclass
class TestResult:
    grade_id: str
    target: str
    points: float
    max_points: float
    status: str  # ok | failed | error | unanswered | timeout | missing | invalid
    message: str = ""
    output: str = ""


@dataclass
class CellLog:
    name: str
    ok: bool
    message: str = ""
    stdout: str = ""


@dataclass
class NotebookResult:
    student_id: str
    assignment: str
    notebook: str
    status: str  # graded | missing | invalid
    reason: str = ""
    graded_file: str = ""
    tests: list[TestResult] = field(default_factory=list)
    cells: list[CellLog] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def points(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def max_points(self) -> float:
        return sum(t.max_points for t in self.tests)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> NotebookResult:
        d = json.loads(text)
        d["tests"] = [TestResult(**t) for t in d["tests"]]
        d["cells"] = [CellLog(**c) for c in d["cells"]]
        return cls(**d)


class InvalidNotebook(ValueError):
    """The submitted file is not a notebook we can read."""


def read_notebook(path: Path) -> dict:
    """Parse a submitted notebook, upgrading nbformat 3; one-line reasons on failure.

    Saved outputs do not count against the size limit: they are dropped first (the grader
    runs the code again), so a notebook that is big only because of its plots is graded.
    """
    size = path.stat().st_size
    if size == 0:
        raise InvalidNotebook("the file is empty")
    if size > MAX_FILE_BYTES:
        raise InvalidNotebook(f"the file is {size / 1024**2:.0f} MB, over the {MAX_FILE_BYTES // 1024**2} MB limit")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidNotebook(f"the file is not UTF-8 text (byte {e.start})") from None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidNotebook(f"the file is not valid JSON ({e.msg} at line {e.lineno}); was it truncated?") from None
    if not isinstance(nb, dict):
        raise InvalidNotebook("the file is JSON but not a notebook")
    if nb.get("nbformat") == 3 and isinstance(nb.get("worksheets"), list):
        import nbformat

        try:
            nb = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as e:  # noqa: BLE001 - any failure to convert is the notebook's
            raise InvalidNotebook(f"nbformat 3 notebook that could not be upgraded ({e})") from None
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise InvalidNotebook("the file is JSON but not a notebook (no list of cells)")
    if not cells:
        raise InvalidNotebook("the notebook has no cells")
    code = 0
    for cell in cells:
        if isinstance(cell, dict):
            cell.pop("outputs", None)
            cell.pop("attachments", None)
            code += len(_cell_source(cell))
    if code > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebook(f"the notebook's cells hold {code / 1024**2:.0f} MB of text, over the limit")
    return nb


def _cell_source(cell) -> str:
    if not isinstance(cell, dict):
        return ""
    src = cell.get("source", "")
    if isinstance(src, list):
        return "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
    return gid if isinstance(gid, str) else None


def _imports(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            found.add("__import__()")
    return found


def build_program(contract: NotebookContract, nb: dict) -> tuple[list[tuple[str, str]], dict[str, str], list[str]]:
    """The cells to run for a submission: the course's setup cells, then the
    student's answer cells and own cells, in the student's order. Returns
    (program, answers by grade id, flags)."""
    flags: list[str] = []
    program = [(f"setup {i + 1}", src) for i, src in enumerate(contract.setup_sources)]
    answers: dict[str, str] = {}
    test_ids = {t.grade_id for t in contract.tests}
    extra = 0
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        gid, src = _grade_id(cell), _cell_source(cell)
        if gid in contract.answer_sources:
            if gid in answers:
                # Jupyter's "Run all" runs both copies: the last one is what the function is.
                flags.append(f"answer cell {gid} appears more than once; the last copy was graded (as Run all does)")
            answers[gid] = src
            program.append((gid, src))
        elif is_course_cell(cell):
            continue  # inserted by release (student_kit) and left unchanged: not the student's code
        elif gid in test_ids or gid in contract.locked_ids or src.strip() in contract.locked_sources:
            continue  # the course's own cells: tests are run from the source, demos not at all
        elif src.strip():
            extra += 1
            program.append((f"your cell {extra}", src))
    missing = [a for a in contract.answers if a not in answers]
    if missing:
        flags.append("answer cells not found (deleted or metadata changed): " + ", ".join(missing))
    foreign = set()
    for _, src in program[len(contract.setup_sources) :]:
        foreign |= _imports(src) - ALLOWED_IMPORTS
    if foreign:
        flags.append("imports outside the allowed modules: " + ", ".join(sorted(foreign)))
    return program, answers, flags


class Session:
    """A sandbox with the student's program loaded; restarted and replayed after a kill."""

    def __init__(
        self,
        program: list[tuple[str, str]],
        limits: Limits,
        isolation: Isolation | None = None,
        deadline: float | None = None,
    ) -> None:
        self.program, self.limits, self.isolation = program, limits, isolation
        self.deadline = deadline if deadline is not None else time.monotonic() + limits.notebook_seconds
        self.skip: set[int] = set()
        self.log: dict[int, CellLog] = {}
        self.sandbox: Sandbox | None = None
        self.imports: set[str] = set()

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    def ensure(self) -> Sandbox:
        """A live sandbox with the program loaded. Every cell and every replay counts against
        the notebook's one budget: once it is spent, SandboxTimeout."""
        while self.sandbox is None or not self.sandbox.alive:
            if self.sandbox is not None:
                self.sandbox.close()
            if self.out_of_time():
                raise SandboxTimeout("the notebook's time budget is used up")
            self.sandbox = Sandbox(self.limits, self.isolation, shared_zygote())
            self.sandbox.budget_deadline = self.deadline
            for i, (name, src) in enumerate(self.program):
                if i in self.skip:
                    continue
                try:
                    reply = self.sandbox.exec(src, name)
                except SandboxError as e:
                    if self.out_of_time():
                        raise SandboxTimeout("the notebook's time budget is used up") from None
                    self.skip.add(i)
                    reason = "did not finish in time" if isinstance(e, SandboxTimeout) else str(e)
                    self._log(i, CellLog(name, False, f"{reason}; the cell was skipped"))
                    break
                if not name.startswith("setup "):  # the course's own cells may import what they like
                    self.imports.update(reply.imports)
                if i not in self.log:
                    msg = "" if reply.ok else (reply.error.traceback or str(reply.error))
                    self._log(i, CellLog(name, reply.ok, msg, reply.stdout))
        return self.sandbox

    def _log(self, i: int, entry: CellLog) -> None:
        if i in self.log:
            return
        if len(self.log) >= MAX_CELL_LOGS and entry.ok:
            return  # cells that ran fine are not worth the room once many are logged
        if len(self.log) >= 2 * MAX_CELL_LOGS:
            return
        entry.message = clean_text(entry.message, MAX_CELL_LOG_CHARS)
        entry.stdout = clean_text(entry.stdout, MAX_CELL_LOG_CHARS)
        self.log[i] = entry

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()


class RemoteFunction:
    """Stands for a student's function in the grader; calls go to the sandbox."""

    def __init__(self, session: Session, name: str, lend: dict) -> None:
        self.session, self.__name__, self.lend = session, name, lend

    def __call__(self, *args, **kwargs):
        reply = self.session.ensure().call(self.__name__, args, kwargs, self.lend)
        self.session.imports.update(reply.imports)
        for w in reply.warnings:
            warnings.warn(StudentWarning(w), stacklevel=2)
        if not reply.ok:
            if reply.error.type_name == "ArgumentModified":
                raise ArgumentModified(self.__name__, reply.error.message)
            raise reply.error
        return reply.value

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


class ArgumentModified(AssertionError):
    """The student's function wrote into an array it was given: the test fails, and says why."""

    def __init__(self, function: str, where: str) -> None:
        super().__init__(
            f"{function} changed its argument `{where}` in place: after the call, the caller's array "
            "held different values. A function must never write into its arguments (the caller may "
            f"still need them): write `x = x - m`, not `x -= m`, and copy before assigning into slices."
        )


def _lent_for(name: str, dependencies: dict[str, tuple[str, ...]]) -> dict:
    """The course functions lent while ``name`` is tested: exactly those its reference calls."""
    return {n: LentReference(n) for n in dependencies.get(name, ()) if n != name and callable(getattr(ref, n, None))}


def run_tests(
    contract: NotebookContract,
    nb: dict,
    limits: Limits = Limits(),
    dependencies: dict[str, tuple[str, ...]] | None = None,
    isolation: Isolation | None = None,
) -> tuple[list[TestResult], list[CellLog], list[str], dict[str, str]]:
    """Run the source notebook's tests against the student's program.

    ``dependencies`` maps each graded function to the graded functions its reference calls
    (``contract.reference_calls``): only those are lent while it is tested.
    """
    program, answers, flags = build_program(contract, nb)
    session = Session(program, limits, isolation)
    if dependencies is None:
        dependencies = reference_calls([contract])
    results: list[TestResult] = []
    budget = _Budget()
    if any(dependencies.get(a) for a in contract.answers):
        shared_lender().start()  # started before the tests' clocks run
    try:
        kinds: dict[str, str] = {}
        bound: dict[str, object] = {}
        try:
            kinds = session.ensure().describe(list(contract.answers))
            for name in contract.answers:
                kind = kinds.get(name, "missing")
                if kind == "function":
                    bound[name] = RemoteFunction(session, name, _lent_for(name, dependencies))
                elif kind == "value":
                    reply = session.ensure().get(name)
                    if reply.ok:
                        bound[name] = reply.value
        except SandboxError:
            pass
        timed_out: set[str] = set()
        for test in contract.tests:
            if session.out_of_time():
                results.append(_result(test, "timeout", "the notebook's time limit was used up before this test ran"))
            elif test.target in timed_out:
                results.append(_result(test, "timeout", f"skipped: {test.target} already ran out of time in a test"))
            else:
                results.append(budget.keep(_run_one(test, bound)))
                if results[-1].status == "timeout":
                    timed_out.add(test.target)
    finally:
        session.close()
    if session.out_of_time():
        flags.append(f"the notebook used up its time budget ({limits.notebook_seconds:g} s); later tests were not run")
    logs_cut = len(session.log) >= MAX_CELL_LOGS or any("characters cut]" in c.message for c in session.log.values())
    if budget.cut or logs_cut:
        flags.append("output was cut: the notebook printed or warned far more than a test needs")
    runtime = sorted(session.imports - ALLOWED_IMPORTS)
    if runtime:
        flags.append("imports outside the allowed modules, made while the code ran: " + ", ".join(runtime))
    for kind, needle in (
        ("returned objects that are not plain data (a possible attempt to fool comparisons)", "UnsupportedResult"),
        ("its process died during a test (os._exit, a signal, or memory)", "process stopped"),
        (
            "tried to open files that are not in its sandbox (the course and other students' files are hidden)",
            "Error: [Errno",
        ),
    ):
        hit = sorted({r.target for r in results if needle in r.message})
        if hit:
            flags.append(f"{', '.join(hit)}: {kind}")
    cells = [session.log[i] for i in sorted(session.log)]
    for log in cells:
        if not log.ok and "skipped" in log.message:
            flags.append(f"{log.name}: {log.message}")
    return results, cells, flags, answers


def _result(test, status: str, message: str = "", output: str = "") -> TestResult:
    points = test.points if status == "ok" else 0.0
    return TestResult(
        test.grade_id,
        test.target,
        points,
        test.points,
        status,
        clean_text(message, MAX_MESSAGE_CHARS),
        clean_text(output, MAX_TEST_OUTPUT_CHARS),
    )


class _Budget:
    """The notebook's whole share of stored text: once spent, messages and outputs are cut short."""

    def __init__(self, total: int = MAX_NOTEBOOK_TEXT) -> None:
        self.left, self.cut = total, False

    def keep(self, result: TestResult) -> TestResult:
        if "more characters cut]" in result.message + result.output:
            self.cut = True
        for name in ("message", "output"):
            text = getattr(result, name)
            if len(text) > self.left:
                setattr(result, name, text[: max(self.left, 0)] + "\n[... cut: the notebook's output budget is spent]")
                self.cut = True
            self.left -= len(getattr(result, name))
        return result


class _Output:
    """What a test printed, plus the warnings the student's code raised while it ran.

    Warnings are reported, not penalised (plain nbgrader gives 0 to any test cell that
    writes to stderr); tests that forbid them say so with ``hidden.without_warnings``.
    """

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.warnings: list = []

    def getvalue(self) -> str:
        seen = list(dict.fromkeys(str(w.message) for w in self.warnings if issubclass(w.category, StudentWarning)))
        notes = [f"(your code warned: {w})" for w in seen[:3]]
        return "\n".join([self.stream.getvalue().rstrip(), *notes]).strip()


def _run_one(test, bound: dict) -> TestResult:
    if test.target.startswith("quiz_") and bound.get(test.target) is None:
        return _result(test, "unanswered", f"{test.target} is not answered yet (it is still None).")
    ns = {"__builtins__": builtins, "__name__": "__test__", "np": np, "math": math, **bound}
    out = _Output()
    try:
        with contextlib.redirect_stdout(out.stream), warnings.catch_warnings(record=True) as out.warnings:
            warnings.simplefilter("always", StudentWarning)
            exec(compile(test.source, f"<{test.grade_id}>", "exec"), ns)
    except AssertionError as e:  # ArgumentModified included: a write into an argument fails the test
        return _result(test, "failed", str(e) or "a check failed", out.getvalue())
    except StudentError as e:
        if e.type_name == "NotImplementedError":
            return _result(test, "unanswered", f"{test.target} is not implemented yet (it raises NotImplementedError).")
        return _result(test, "error", f"{test.target} raised {e}\n{e.traceback}".strip(), out.getvalue())
    except SandboxTimeout:
        return _result(test, "timeout", f"{test.target} did not finish in time: an infinite loop, or far too slow?")
    except SandboxCrashed as e:
        return _result(test, "error", f"your code's process stopped while {test.target} ran: {e}")
    except NameError as e:
        if e.name == test.target:
            return _result(test, "missing", f"no `{test.target}` was defined: was its cell deleted or renamed?")
        return _result(test, "error", f"the test could not run: {e}")
    except Exception as e:  # noqa: BLE001 - a result the test could not use is a failure of the answer
        return _result(test, "failed", f"the test could not use your result: {type(e).__name__}: {e}", out.getvalue())
    return _result(test, "ok", "", out.getvalue())


def grade_notebook(
    contract: NotebookContract,
    student_id: str,
    path: Path | None,
    limits: Limits = Limits(),
    dependencies: dict[str, tuple[str, ...]] | None = None,
    flags: tuple[str, ...] = (),
    isolation: Isolation | None = None,
) -> NotebookResult:
    """Grade one student's notebook for one source notebook; never raises for bad input."""
    start = time.monotonic()
    result = NotebookResult(student_id, contract.assignment, contract.notebook, "graded", flags=list(flags))
    if path is None:
        result.status, result.reason = "missing", "not submitted"
        result.tests = [_result(t, "missing", "not submitted") for t in contract.tests]
        return result
    result.graded_file = clean_text(path.name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))
    try:
        nb = read_notebook(path)
    except (InvalidNotebook, OSError, RecursionError, MemoryError) as e:
        result.status, result.reason = "invalid", clean_text(str(e), 500)
        result.tests = [_result(t, "invalid", f"the notebook could not be read: {e}") for t in contract.tests]
        result.flags.append(clean_text(f"unreadable notebook: {e}", 600))
        return result
    result.flags.extend(tamper_flags(contract, nb))
    tests, cells, more_flags, answers = run_tests(contract, nb, limits, dependencies, isolation)
    result.tests, result.cells = tests, cells
    result.answers = {k: clean_text(v, 20_000) for k, v in answers.items()}
    result.flags.extend(more_flags)
    result.flags = [clean_text(f, 600) for f in dict.fromkeys(result.flags)][:40]
    result.seconds = round(time.monotonic() - start, 3)
    return result
