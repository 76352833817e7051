"""Command line: `python -m autograder release`, `grade SUBMISSIONS --out OUT`, `gradescope`, `merge`."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")  # Gradescope's, as in autograder.gradescope


def _release(args: argparse.Namespace) -> int:
    from autograder import REPO
    from autograder.release import release

    # Chapters unchanged since the last release (stamps in _build/) are not re-run through nbgrader.
    changed = release(stamps=REPO / "_build" / "release-stamps.json")
    for p in changed:
        print(f"updated {p.relative_to(REPO)}")
    print(f"release: {len(changed)} file(s) changed")
    return 0


def _book(args: argparse.Namespace) -> int:
    from autograder.book import build

    build(strict=not args.lenient)
    return 0


def _grade(args: argparse.Namespace) -> int:
    from autograder.grade import grade_class

    shard = (1, 1)
    if args.shard:
        try:
            i, n = (int(x) for x in args.shard.split("/"))
            if not 1 <= i <= n:
                raise ValueError
        except ValueError:
            print(f"error: --shard must look like 2/8 (shard 2 of 8), not {args.shard!r}", file=sys.stderr)
            return 2
        shard = (i, n)
    from autograder.sandbox import Limits

    limits = Limits()
    if args.timeout is not None:
        if args.timeout <= 0:
            print("error: --timeout must be positive", file=sys.stderr)
            return 2
        limits = Limits(cell_seconds=args.timeout, call_seconds=args.timeout)
    if args.notebook_timeout is not None:
        if args.notebook_timeout <= 0:
            print("error: --notebook-timeout must be positive", file=sys.stderr)
            return 2
        limits = Limits(
            cell_seconds=limits.cell_seconds, call_seconds=limits.call_seconds, notebook_seconds=args.notebook_timeout
        )
    if args.canvas_map:  # a bad map is reported before grading, not after
        from autograder import SOLUTIONS
        from autograder.contract import load_course
        from autograder.export import ExportError, read_canvas_map

        try:
            read_canvas_map(Path(args.canvas_map), [c.assignment for c in load_course(SOLUTIONS)])
        except ExportError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    result = grade_class(
        Path(args.submissions), Path(args.out), jobs=args.jobs, quiet=args.quiet, shard=shard, limits=limits
    )
    _print_summary(result)
    if args.nbgradebook:
        _nbgradebook(Path(args.nbgradebook), Path(args.submissions), result)
    if args.canvas_map or args.roster:
        return _export(args, result)
    return 0


def _nbgradebook(target: Path, submissions: Path | None, result) -> None:
    """Scores into nbgrader's gradebook (a .db file, or COURSE/gradebook.db plus COURSE/autograded/,
    the copies only when the submissions are at hand)."""
    import tempfile

    from autograder import SOLUTIONS
    from autograder.collect import collect
    from autograder.contract import load_course
    from autograder.nbgradebook import write_autograded, write_gradebook

    course = load_course(SOLUTIONS)
    db = target if target.suffix == ".db" else target / "gradebook.db"
    n = write_gradebook(db, course, result.collection.students, result.results)
    print(f"  {db}: {n} submission(s) for nbgrader's formgrader")
    if target.suffix != ".db" and submissions is not None:
        with tempfile.TemporaryDirectory() as tmp:
            found = collect(submissions, course, Path(tmp))
            paths = {(s.student_id, s.contract.assignment, s.contract.notebook): s.path for s in found.submissions}
            copied = write_autograded(target, result.results, paths)
        print(f"  {target / 'autograded'}: {copied} notebook(s) for manual review")


def _export(args: argparse.Namespace, result) -> int:
    """Write exports/ again with the instructor's Canvas column titles and roster."""
    from autograder.export import ExportError, read_canvas_map, read_roster, write_exports

    assignments = list(dict.fromkeys(r.assignment for r in result.results))
    students = result.collection.students
    try:
        canvas_map = read_canvas_map(Path(args.canvas_map), assignments) if args.canvas_map else None
        roster = read_roster(Path(args.roster), students) if args.roster else None
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for note in write_exports(result.out, students, assignments, result.results, canvas_map=canvas_map, roster=roster):
        print(f"warning: {note}", file=sys.stderr)
    return 0


def _merge(args: argparse.Namespace) -> int:
    from autograder.grade import merge

    result = merge([Path(p) for p in args.outputs], Path(args.out))
    _print_summary(result)
    if args.nbgradebook:
        _nbgradebook(Path(args.nbgradebook), None, result)
    if args.canvas_map or args.roster:
        return _export(args, result)
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from autograder import SOLUTIONS
    from autograder.contract import load_course
    from autograder.gradescope import build_bundle

    known = [c.assignment for c in load_course(SOLUTIONS)]
    wanted = args.assignments or known
    unknown = [a for a in wanted if a not in known]
    if unknown:
        print(f"error: unknown assignment(s) {', '.join(unknown)}; the course has {', '.join(known)}", file=sys.stderr)
        return 2
    limits = {}
    if args.timeout is not None:
        if args.timeout <= 0:
            print("error: --timeout must be positive", file=sys.stderr)
            return 2
        limits = {"cell_seconds": args.timeout, "call_seconds": args.timeout}
    for a in wanted:
        try:
            path = build_bundle(a, Path(args.out), visible_as=args.visible, hidden_as=args.hidden, limits=limits)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"  {path}")
    print(f"gradescope: {len(wanted)} autograder zip(s): upload each as the autograder of one programming assignment")
    return 0


def _print_summary(result) -> None:
    from autograder.report import summary_table

    assignments = list(dict.fromkeys(r.assignment for r in result.results))
    print(summary_table(result.collection, result.results, assignments))
    print(
        f"\n{len(result.collection.students)} students, {result.graded} notebook(s) graded now, "
        f"{len(result.results) - result.graded} reused from an earlier run"
    )
    for name in ("grades.csv", "scores.csv", "feedback/", "report.html", "exports/"):
        print(f"  {result.out / name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="regenerate book/ (student notebooks) and solutions/reference.py")
    p.set_defaults(run=_release)
    p = sub.add_parser("book", help="build the HTML book into _build/html and check it for leaks")
    p.add_argument("--lenient", action="store_true", help="do not treat Sphinx warnings as errors")
    p.set_defaults(run=_book)
    p = sub.add_parser("grade", help="grade a class of submitted notebooks")
    p.add_argument("submissions", help="SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb, or a .zip of it")
    p.add_argument("--out", required=True, help="output folder: grades.csv, scores.csv, feedback/")
    p.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--timeout", type=float, help="seconds allowed per cell and per function call (default 20/10)")
    p.add_argument("--notebook-timeout", type=float, help="seconds allowed for one whole notebook (default 120)")
    p.add_argument("--shard", help="grade only shard I of N students, e.g. 2/8 (join the outputs with merge)")
    p.add_argument(
        "--nbgradebook",
        metavar="PATH",
        help="also write the scores into nbgrader's gradebook: COURSE (gradebook.db, autograded/) or a .db file",
    )
    p.add_argument("--canvas-map", help="CSV of assignment,Canvas column title ('Name (id)') for exports/canvas.csv")
    p.add_argument("--roster", help="class list CSV (e.g. Canvas's gradebook export) mapping ids to Canvas/Moodle ids")
    p.set_defaults(run=_grade)
    p = sub.add_parser("gradescope", help="write Gradescope autograder zips, one per assignment")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="e.g. 03-attention (default: every one)")
    p.add_argument("--out", required=True, help="folder for <assignment>.zip")
    p.add_argument(
        "--visible", default="visible", choices=VISIBILITIES, help="Gradescope visibility of visible test cells"
    )
    p.add_argument(
        "--hidden",
        default="after_published",
        choices=VISIBILITIES,
        help="Gradescope visibility of test cells hidden in the released notebook",
    )
    p.add_argument("--timeout", type=float, help="seconds allowed per cell and per function call (default 20/10)")
    p.set_defaults(run=_gradescope)
    p = sub.add_parser("merge", help="join the outputs of sharded grading runs")
    p.add_argument("outputs", nargs="+", help="the --out folders of the shards")
    p.add_argument("--out", required=True, help="folder for the joined grades.csv, scores.csv, feedback/")
    p.add_argument("--nbgradebook", metavar="PATH", help="also write the scores into nbgrader's gradebook")
    p.add_argument("--canvas-map", help="CSV of assignment,Canvas column title ('Name (id)') for exports/canvas.csv")
    p.add_argument("--roster", help="class list CSV mapping ids to Canvas/Moodle ids")
    p.set_defaults(run=_merge)
    args = parser.parse_args(argv)
    if getattr(args, "jobs", None) is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    from autograder.book import BookError
    from autograder.collect import CollectError
    from autograder.contract import ContractError
    from autograder.grade import GradeError
    from autograder.release import ReleaseError

    def _terminated(signum, frame):
        raise KeyboardInterrupt  # SIGTERM (Slurm, docker stop): stop the same way as Ctrl-C

    signal.signal(signal.SIGTERM, _terminated)
    try:
        return args.run(args)
    except (BookError, CollectError, ContractError, GradeError, ReleaseError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: results graded so far are kept; run the same command to continue", file=sys.stderr)
        return 130
