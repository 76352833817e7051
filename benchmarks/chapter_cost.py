"""What grading one notebook of each chapter costs, measured in one run (ratios, not timings).

    .venv/bin/python benchmarks/chapter_cost.py [--copies 6] [--chapters 10-gpt 12-backprop]

Grades ``--copies`` reference-solved copies of each chapter's notebook, one at a time
(``--jobs 1``), and prints the mean seconds per notebook and the ratio to chapter 10,
the capstone the issues compare against (chapter 11 must cost at most 1x chapter 10,
chapters 12 and 13 at most 2x). Run it on a quiet machine; the ratios are what count.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.grade import grade_class  # noqa: E402
from tests import support  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--chapters", nargs="*", help="assignments to measure (default: all)")
    args = parser.parse_args()
    course = [c for c in support.course() if not args.chapters or c.assignment in args.chapters]
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="chapter-cost-") as tmp:
        for contract in course:
            subs, out = Path(tmp) / contract.assignment / "subs", Path(tmp) / contract.assignment / "out"
            for i in range(args.copies):
                support.write_submission(subs, f"student-{i}", contract, support.solved(contract))
            result = grade_class(subs, out, jobs=1, quiet=True)
            mine = [r for r in result.results if r.assignment == contract.assignment]
            assert all(r.points == r.max_points for r in mine), f"{contract.assignment}: the reference lost points"
            seconds[contract.assignment] = sum(r.seconds for r in mine) / len(mine)
    base = seconds.get("10-gpt")
    print(f"{'chapter':<22} {'s / notebook':>13} {'vs chapter 10':>14}")
    for assignment, s in seconds.items():
        ratio = f"{s / base:.2f}x" if base else "-"
        print(f"{assignment:<22} {s:>13.2f} {ratio:>14}")
    print(json.dumps({"seconds_per_notebook": seconds}, indent=None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
