"""Grade a whole class: collect, grade each notebook (in parallel, resumably), report."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from autograder import SOLUTIONS
from autograder.collect import Collection, Submission, collect, digest, display_name
from autograder.contract import NotebookContract, load_course, reference_calls
from autograder.report import write_reports
from autograder.runner import NotebookResult, TestResult, grade_notebook
from autograder.sandbox import (
    Isolation,
    Limits,
    clean_leftovers,
    close_shared_helpers,
    default_isolation,
    probe_isolation,
)

PACKAGE = Path(__file__).resolve().parent


class GradeError(RuntimeError):
    """Grading could not run at all."""


@dataclass
class ClassResult:
    collection: Collection
    results: list[NotebookResult]
    out: Path
    graded: int  # notebooks graded in this run (the rest came from a previous run)


def fingerprint(solutions: Path) -> str:
    """Changes whenever the grader, the tests or the reference change: old results are then stale."""
    h = hashlib.sha256()
    files = sorted(PACKAGE.glob("*.py")) + sorted(solutions.glob("*/*.ipynb")) + [solutions / "reference.py"]
    for f in files:
        if f.exists():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _result_path(out: Path, sub: Submission) -> Path:
    key = hashlib.sha256(f"{sub.student_id}\0{sub.contract.assignment}\0{sub.contract.notebook}".encode()).hexdigest()
    return out / "_results" / f"{key[:24]}.json"


def _task(
    sub: Submission, limits: Limits, dependencies: dict[str, tuple[str, ...]], isolation: Isolation | None
) -> str:
    try:
        result = grade_notebook(sub.contract, sub.student_id, sub.path, limits, dependencies, sub.flags, isolation)
    except Exception as e:  # noqa: BLE001 - a grader bug must cost one notebook, not the class
        result = _failed(sub, f"the grader failed on this notebook: {type(e).__name__}: {e}")
    try:
        return result.to_json()
    except (TypeError, ValueError) as e:
        return _failed(sub, f"the grader could not store this notebook's result: {e}").to_json()


def _worker_init() -> None:
    """Grading workers die with the grading run (and their sandboxes with them)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def _failed(sub: Submission, reason: str) -> NotebookResult:
    tests = [TestResult(t.grade_id, t.target, 0.0, t.points, "error", reason) for t in sub.contract.tests]
    return NotebookResult(
        sub.student_id, sub.contract.assignment, sub.contract.notebook, "error", reason, tests=tests, flags=[reason]
    )


class Progress:
    """A bar with rate and ETA on a terminal; plain lines otherwise."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.tty = stream.isatty()
        self.start = time.monotonic()

    def step(self, label: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate else 0.0
        if self.tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {rate:5.1f} nb/s ETA {eta:4.0f}s "
            )
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"graded {self.done}/{self.total} ({rate:.1f} nb/s) {label}\n")
        self.stream.flush()


def grade_class(
    submissions: Path,
    out: Path,
    *,
    jobs: int | None = None,
    limits: Limits = Limits(),
    solutions: Path = SOLUTIONS,
    quiet: bool = False,
    shard: tuple[int, int] = (1, 1),
) -> ClassResult:
    """Grade every student's notebooks under ``submissions`` into ``out``.

    Args:
        submissions: nbgrader's submitted layout, or a .zip of it (never modified).
        out: output folder; results already there for unchanged notebooks are reused.
        jobs: parallel workers (default: all cores).
        shard: (i, n) grades only the students of shard i of n (1-based), chosen by a
            stable hash of the student id; ``merge`` joins the shards' outputs.
    Raises:
        GradeError, CollectError: when grading cannot run at all.
    """
    out = Path(out)
    if out.resolve() == Path(submissions).resolve() or Path(submissions).resolve() in out.resolve().parents:
        raise GradeError("--out must not be inside the submissions folder (it is never modified)")
    course = load_course(solutions)
    if not course:
        raise GradeError(f"no source notebooks found in {solutions}")
    if not (solutions / "reference.py").exists():
        raise GradeError("solutions/reference.py is missing: run `python -m autograder release` first")
    out.mkdir(parents=True, exist_ok=True)
    (out / "_results").mkdir(exist_ok=True)
    clean_leftovers()  # sandboxes and temporary folders of an earlier run that was killed
    # Every temporary folder of this run (zygote and sandbox homes) lives under one folder,
    # removed at the end; a run killed before that is cleaned by the next one.
    run_tmp = Path(tempfile.mkdtemp(prefix=f"grade-{os.getpid()}-"))
    old_tempdir, tempfile.tempdir = tempfile.tempdir, str(run_tmp)
    try:
        collection = collect(submissions, course, out / "_work")
    except BaseException:
        tempfile.tempdir = old_tempdir
        shutil.rmtree(run_tmp, ignore_errors=True)
        raise
    if shard != (1, 1):
        collection = in_shard(collection, *shard)
    (out / "_class.json").write_text(
        json.dumps({"students": collection.students, "notes": collection.notes, "shard": list(shard)}, indent=1)
    )
    dependencies = reference_calls(course)
    isolation = default_isolation(extra_hide=(str(Path(submissions).resolve()), str(out.resolve())))
    why_not = probe_isolation(isolation)
    if why_not:
        isolation = None
        if not quiet:
            print(f"warning: sandboxes are not OS-isolated here: {why_not}", file=sys.stderr)
    stamp = fingerprint(solutions)
    results: dict[int, NotebookResult] = {}
    todo: list[tuple[int, Submission, str]] = []
    for i, sub in enumerate(collection.submissions):
        key = f"{stamp}:{digest(sub.path)}:{display_name(sub.path.name) if sub.path else ''}"
        cached = _load(_result_path(out, sub), key)
        if cached is not None:
            results[i] = cached
        else:
            todo.append((i, sub, key))
    progress = Progress(len(todo), stream=open(os.devnull, "w") if quiet else sys.stderr)  # noqa: SIM115
    jobs = max(1, jobs or os.cpu_count() or 1)

    def store(i: int, sub: Submission, key: str, text: str) -> None:
        try:
            result = NotebookResult.from_json(text)
        except (TypeError, ValueError, KeyError) as e:
            result = _failed(sub, f"the grader's result for this notebook was unreadable ({e})")
            text = result.to_json()
        results[i] = result
        _save(_result_path(out, sub), key, text)
        progress.step(f"{sub.student_id}/{sub.contract.assignment}: {result.points:g}/{result.max_points:g}")

    try:
        if jobs == 1 or len(todo) <= 1:
            for i, sub, key in todo:
                store(i, sub, key, _task(sub, limits, dependencies, isolation))
        else:
            _grade_in_pool(todo, jobs, store, (limits, dependencies, isolation))
    finally:
        close_shared_helpers()  # this process's zygote and lender: nothing outlives the run
        tempfile.tempdir = old_tempdir
        shutil.rmtree(run_tmp, ignore_errors=True)
    ordered = [results.get(i) or _failed(sub, "not graded") for i, sub in enumerate(collection.submissions)]
    write_reports(out, course, collection, ordered)
    shutil.rmtree(out / "_work", ignore_errors=True)
    return ClassResult(collection, ordered, out, graded=len(todo))


def _grade_in_pool(todo, jobs: int, store, task_args: tuple) -> None:
    """Grade ``todo`` in worker processes. A worker that dies (a grader bug, or a submission
    that escaped its sandbox) breaks the pool: the notebooks it left unfinished are then
    graded again one at a time, each in a fresh worker, so only the culprit is charged."""
    suspects = _pool_round(todo, jobs, store, task_args)
    for item in suspects:
        if _pool_round([item], 1, store, task_args):
            i, sub, key = item
            store(i, sub, key, _failed(sub, "grading this notebook killed the grading worker").to_json())


def _pool_round(todo, jobs: int, store, task_args: tuple) -> list:
    broken = []
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), initializer=_worker_init)
    try:
        futures = {pool.submit(_task, sub, *task_args): (i, sub, key) for i, sub, key in todo}
        for fut in as_completed(futures):
            i, sub, key = futures[fut]
            try:
                store(i, sub, key, fut.result())
            except BrokenProcessPool:
                broken.append((i, sub, key))
            except Exception as e:  # noqa: BLE001 - one notebook, not the class
                store(i, sub, key, _failed(sub, f"the grader failed: {type(e).__name__}: {e}").to_json())
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): stop the workers now; their sandboxes die with them.
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return broken


def shard_of(student_id: str, n: int) -> int:
    """1-based shard of a student: stable across runs, machines and class lists."""
    return int(hashlib.sha256(student_id.encode()).hexdigest(), 16) % n + 1


def in_shard(collection: Collection, i: int, n: int) -> Collection:
    keep = [s for s in collection.students if shard_of(s, n) == i]
    return Collection(
        students=keep,
        submissions=[x for x in collection.submissions if shard_of(x.student_id, n) == i],
        notes=[x for x in collection.notes if any(x.startswith(f"{s}: ") for s in keep)],
    )


def merge(outputs: list[Path], out: Path, solutions: Path = SOLUTIONS) -> ClassResult:
    """Join the outputs of several (sharded) grading runs into one, as if graded together."""
    course = load_course(solutions)
    order = {(c.assignment, c.notebook): i for i, c in enumerate(course)}
    students: list[str] = []
    notes: list[str] = []
    results: dict[tuple[str, str, str], tuple[str, str]] = {}
    for part in outputs:
        try:
            info = json.loads((Path(part) / "_class.json").read_text())
        except (OSError, ValueError) as e:
            raise GradeError(f"{part} is not the output of a grading run ({e})") from None
        students += [s for s in info["students"] if s not in students]
        notes += info["notes"]
        for path in sorted((Path(part) / "_results").glob("*.json")):
            head, text = path.read_text(encoding="utf-8").split("\n", 1)
            r = NotebookResult.from_json(text)
            results[(r.student_id, r.assignment, r.notebook)] = (head, text)
    students.sort()
    out.mkdir(parents=True, exist_ok=True)
    (out / "_results").mkdir(exist_ok=True)
    ordered = []
    for (student, assignment, notebook), (head, text) in sorted(
        results.items(), key=lambda kv: (students.index(kv[0][0]), order.get(kv[0][1:], 0))
    ):
        r = NotebookResult.from_json(text)
        ordered.append(r)
        key = hashlib.sha256(f"{student}\0{assignment}\0{notebook}".encode()).hexdigest()
        _save(out / "_results" / f"{key[:24]}.json", head, text)
    collection = Collection(students=students, submissions=[], notes=notes)
    (out / "_class.json").write_text(json.dumps({"students": students, "notes": notes, "shard": [1, 1]}, indent=1))
    write_reports(out, course, collection, ordered)
    return ClassResult(collection, ordered, out, graded=0)


def _load(path: Path, key: str) -> NotebookResult | None:
    try:
        head, text = path.read_text(encoding="utf-8").split("\n", 1)
        return NotebookResult.from_json(text) if head == key else None
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _save(path: Path, key: str, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{key}\n{text}", encoding="utf-8")
    os.replace(tmp, path)  # atomic: a killed run never leaves half a result


__all__ = ["ClassResult", "GradeError", "NotebookContract", "grade_class"]
