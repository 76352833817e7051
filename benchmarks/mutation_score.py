"""Mutation score of the hidden tests: how many catalogued wrong answers they catch, per chapter.

    .venv/bin/python benchmarks/mutation_score.py

Grades one student per entry of tests/mistakes/ through the real grader. A mistake is
*caught* when it loses points on its own function; *named* when the feedback also
contains one of the words that name its misconception; *isolated* when it costs nothing
on other functions. Alternatives (correct answers written differently) must score full
marks.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.grade import grade_class  # noqa: E402
from tests import support  # noqa: E402
from tests.mistakes import catalogue  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        subs, out = Path(tmp) / "submitted", Path(tmp) / "out"
        support.write_catalogue_class(subs)
        grade_class(subs, out, quiet=True)
        scores = support.scores_by_student(out)
        print(f"{'chapter':<18} {'caught':>8} {'named':>8} {'isolated':>9} {'alternatives ok':>16}")
        totals = [0, 0, 0, 0, 0, 0]
        failures = []
        for assignment, (mistakes, alternatives) in sorted(catalogue().items()):
            caught = named = isolated = alt_ok = 0
            for m in mistakes:
                student = support.mistake_student(assignment, m.slug)
                rows = {g: r for g, r in scores[student].items() if r["assignment"] == assignment}
                lost = [g for g, r in rows.items() if float(r["points"]) < float(r["max_points"])]
                own = [g for g in lost if g.startswith(f"test_{m.function}")]
                text = support.feedback_text(out, support.mistake_student(assignment, m.slug), assignment)
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
            n, k = len(mistakes), len(alternatives)
            print(f"{assignment:<18} {caught:>4}/{n:<3} {named:>4}/{n:<3} {isolated:>5}/{n:<3} {alt_ok:>12}/{k:<3}")
            for i, v in enumerate((caught, n, named, isolated, alt_ok, k)):
                totals[i] += v
        c, n, nm, iso, ok, k = totals
        print(f"{'all':<18} {c:>4}/{n:<3} {nm:>4}/{n:<3} {iso:>5}/{n:<3} {ok:>12}/{k:<3}")
        print(f"mutation score: {c / n:.0%} caught, {nm / n:.0%} caught and named; alternatives {ok}/{k} full marks")
        for f in failures:
            print(f"  not caught cleanly: {f}")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
