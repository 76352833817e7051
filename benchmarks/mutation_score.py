"""Mutation score of the hidden tests: how many catalogued wrong answers they catch, per chapter.

    .venv/bin/python benchmarks/mutation_score.py [--jobs N] [ASSIGNMENT ...]

Grades one student per entry of tests/mistakes/ through the real grader. A mistake is
*caught* when it loses points on its own function; *named* when the feedback also
contains one of the words that name its misconception; *isolated* when it costs nothing
on other functions. Alternatives (correct answers written differently) must score full
marks. Degenerate answers (zeros, the identity, uniform weights, an argument ignored)
must earn at most a quarter of their function's points. Give assignment names (e.g.
03-attention) to grade only those chapters.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.grade import grade_class  # noqa: E402
from tests import support  # noqa: E402
from tests.mistakes import MAX_DEGENERATE_SHARE, catalogue, degenerate  # noqa: E402


def _pct(k: int, n: int) -> str:
    return f"{k / n:.0%}" if n else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="grade only these chapters (default: all)")
    parser.add_argument("--jobs", type=int, default=None, help="notebooks graded at a time (default: all cores)")
    args = parser.parse_args(argv)
    only = set(args.assignments) or None
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        subs, out = Path(tmp) / "submitted", Path(tmp) / "out"
        support.write_catalogue_class(subs, only)
        grade_class(subs, out, jobs=args.jobs, quiet=True)
        scores = support.scores_by_student(out)
        degenerates = degenerate()
        header = f"{'chapter':<18} {'caught':>8} {'named':>8} {'isolated':>9} {'alternatives ok':>16}"
        print(header + f" {'degenerate <= 25 %':>19}")
        totals = [0] * 8
        failures = []
        for assignment, (mistakes, alternatives) in sorted(catalogue().items()):
            if only and assignment not in only:
                continue
            caught = named = isolated = alt_ok = held = 0
            for m in mistakes:
                student = support.mistake_student(assignment, m.slug)
                rows = {g: r for g, r in scores[student].items() if r["assignment"] == assignment}
                lost = [g for g, r in rows.items() if float(r["points"]) < float(r["max_points"])]
                own = [g for g in lost if support.is_test_of(g, m.function)]
                text = support.feedback_text(out, student, assignment)
                caught += bool(own)
                named += bool(own) and any(w.lower() in text for w in m.feedback)
                isolated += bool(own) and len(own) == len(lost)
                if not (own and len(own) == len(lost) and any(w.lower() in text for w in m.feedback)):
                    failures.append(f"{assignment}/{m.slug}")
            for a in alternatives:
                rows = scores[support.alternative_student(assignment, a.slug)]
                ok = all(r["status"] == "ok" for r in rows.values() if r["assignment"] == assignment)
                alt_ok += ok
                if not ok:
                    failures.append(f"{assignment}/{a.slug} (alternative)")
            answers = degenerates.get(assignment, [])
            for d in answers:
                student = support.degenerate_student(assignment, d.slug)
                earned, possible, _ = support.function_points(out, student, assignment, d.function)
                ok = possible > 0 and earned <= MAX_DEGENERATE_SHARE * possible
                held += ok
                if not ok:
                    failures.append(f"{assignment}/{d.slug} (degenerate: {earned:g}/{possible:g} of {d.function})")
            n, k, g = len(mistakes), len(alternatives), len(answers)
            print(
                f"{assignment:<18} {caught:>4}/{n:<3} {named:>4}/{n:<3} {isolated:>5}/{n:<3} {alt_ok:>12}/{k:<3}"
                f" {held:>15}/{g:<3}".rstrip()
            )
            for i, v in enumerate((caught, n, named, isolated, alt_ok, k, held, g)):
                totals[i] += v
        c, n, nm, iso, ok, k, h, g = totals
        print(f"{'all':<18} {c:>4}/{n:<3} {nm:>4}/{n:<3} {iso:>5}/{n:<3} {ok:>12}/{k:<3} {h:>15}/{g:<3}".rstrip())
        print(
            f"mutation score: {_pct(c, n)} caught, {_pct(nm, n)} caught and named; alternatives {ok}/{k} "
            f"({_pct(ok, k)}) full marks; degenerate answers {h}/{g} ({_pct(h, g)}) held to "
            f"<= {MAX_DEGENERATE_SHARE:.0%} of their function's points"
        )
        for f in failures:
            print(f"  not caught cleanly: {f}")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
