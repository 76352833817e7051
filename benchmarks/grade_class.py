"""Grade one generated class with plain `nbgrader autograde` and with our grader, in the same run.

    .venv/bin/python benchmarks/grade_class.py [--notebooks 200] [--jobs N] [--skip-nbgrader]

The class mixes correct, partly wrong (a catalogued mistake) and blank notebooks
over every chapter. Prints wall time, notebooks per second, peak memory (RSS of
the whole process tree, sampled) and the speed-up, and checks that both graders
give every notebook the same score.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402 - installed with nbgrader

from tests import support  # noqa: E402
from tests.mistakes import catalogue  # noqa: E402


class PeakRSS:
    """Peak resident memory of this process and all its descendants, sampled every 50 ms."""

    def __init__(self) -> None:
        self.peak, self._stop = 0, threading.Event()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.05)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def make_class(root: Path, notebooks: int, seed: int = 0) -> dict[tuple[str, str], str]:
    """Write about ``notebooks`` submissions; return {(student, assignment): kind}."""
    rng = random.Random(seed)
    course = support.course()
    cat = catalogue()
    kinds = {}
    n_students = max(1, notebooks // len(course))
    for s in range(n_students):
        student = f"student{s:04d}"
        for c in course:
            roll = rng.random()
            mistakes = cat.get(c.assignment, ([], []))[0]
            if roll < 0.4:
                nb, kind = support.solved(c), "correct"
            elif roll < 0.8 and mistakes:
                m = rng.choice(mistakes)
                nb, kind = support.solved(c, **{m.function: m.source}), f"mistake:{m.slug}"
            else:
                nb, kind = support.released(c), "blank"
            support.write_submission(root, student, c, nb)
            kinds[student, c.assignment] = kind
    return kinds


def run_nbgrader(subs: Path, work: Path) -> tuple[float, int, dict[tuple[str, str, str], float]]:
    """Plain nbgrader: generate the assignments, then `nbgrader autograde` each one."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    (work / "source").mkdir(parents=True)
    for c in support.course():
        if not (work / "source" / c.assignment).exists():
            shutil.copytree(REPO / "solutions" / c.assignment, work / "source" / c.assignment)
    shutil.copytree(subs, work / "submitted")
    nbgrader = [str(Path(sys.executable).parent / "nbgrader")]
    assignments = sorted({c.assignment for c in support.course()})
    for a in assignments:
        subprocess.run(
            [*nbgrader, "generate_assignment", a, "--force"], cwd=work, env=env, check=True, capture_output=True
        )
    start = time.perf_counter()
    with PeakRSS() as mem:
        for a in assignments:
            subprocess.run(
                [*nbgrader, "autograde", a, "--create", "--force"], cwd=work, env=env, check=True, capture_output=True
            )
    wall = time.perf_counter() - start
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:
        for a in assignments:
            for sub in gb.assignment_submissions(a):
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        if grade.cell.name.startswith("test_"):
                            scores[sub.student.id, a, grade.cell.name] = float(grade.score)
    return wall, mem.peak, scores


def run_ours(subs: Path, out: Path, jobs: int | None) -> tuple[float, int, dict[tuple[str, str, str], float]]:
    from autograder.grade import grade_class

    start = time.perf_counter()
    with PeakRSS() as mem:
        result = grade_class(subs, out, jobs=jobs, quiet=True)
    wall = time.perf_counter() - start
    scores = {(r.student_id, r.assignment, t.grade_id): t.points for r in result.results for t in r.tests}
    return wall, mem.peak, scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=None, help="our grader's workers (default: all cores)")
    parser.add_argument("--skip-nbgrader", action="store_true", help="time only our grader")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp = Path(tmp)
        kinds = make_class(tmp / "submitted", args.notebooks)
        n = len(kinds)
        mix = {k: sum(1 for v in kinds.values() if v.split(":")[0] == k) for k in ("correct", "mistake", "blank")}
        print(f"class: {n} notebooks ({mix}), {os.cpu_count()} cores")
        ours_wall, ours_mem, ours = run_ours(tmp / "submitted", tmp / "out", args.jobs)
        print(f"ours:     {ours_wall:8.2f} s  {n / ours_wall:7.2f} notebooks/s  peak RSS {ours_mem / 2**20:7.0f} MiB")
        if args.skip_nbgrader:
            return 0
        nbg_wall, nbg_mem, nbg = run_nbgrader(tmp / "submitted", tmp / "nbgrader")
        print(f"nbgrader: {nbg_wall:8.2f} s  {n / nbg_wall:7.2f} notebooks/s  peak RSS {nbg_mem / 2**20:7.0f} MiB")
        print(f"speed-up: {nbg_wall / ours_wall:.1f}x (same class, same run)")
        compare(kinds, ours, nbg)
        return 0


def compare(kinds, ours, nbg) -> None:
    """Per test cell. nbgrader runs a function's tests with the student's own helpers, so a
    mistake in, say, softmax also fails the attention tests there; our grader lends the
    reference for every other function and charges the mistake once. Only such cells may differ."""
    catalogue_by_slug = {m.slug: m for ms, _ in catalogue().values() for m in ms}
    same = dependency = other = 0
    unexplained = []
    for (student, assignment, cell), theirs in sorted(nbg.items()):
        mine = ours.get((student, assignment, cell))
        if mine is not None and abs(mine - theirs) < 1e-9:
            same += 1
            continue
        kind = kinds.get((student, assignment), "")
        mistake = catalogue_by_slug.get(kind.split(":", 1)[-1]) if kind.startswith("mistake:") else None
        if mistake and not cell.startswith(f"test_{mistake.function}") and (mine or 0) > theirs:
            dependency += 1
        else:
            other += 1
            unexplained.append((student, assignment, cell, kind, mine, theirs))
    print(f"scores:   {len(nbg)} test cells compared: {same} identical, {dependency} differ only because")
    print(
        f"          nbgrader charges a mistake again in the tests of functions that call it, {other} differ otherwise"
    )
    for row in unexplained[:10]:
        print("  ", *row)


if __name__ == "__main__":
    sys.exit(main())
