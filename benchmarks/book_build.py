"""Time `make book` in a throw-away copy of the repository: clean, unchanged, after a one-line edit.

    .venv/bin/python benchmarks/book_build.py

The copy holds the committed files (git ls-files) and shares this checkout's .venv, so
the first build is "a clean `make book` on a warm .venv": every chapter released, every
notebook executed, every page written, the leak check run. The second build changes
nothing; the third follows a one-sentence edit of a chapter's prose in solutions/, as
an author would make it (release, then a build that re-executes nothing: the code
cells, and so the execution cache, are unchanged). The issue's targets: 60 s and 10 s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def make_book(root: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(["make", "book"], cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"make book failed in {root}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def edit_one_line(root: Path) -> str:
    path = root / "solutions" / "05-multi-head" / "multi_head.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    cell["source"][-1] += " (A sentence added by the benchmark.)"
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return "book/05-multi-head/multi_head"


def main() -> None:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True)
    files = [name for name in listing.stdout.split("\0") if name]
    with tempfile.TemporaryDirectory(prefix="book-bench-") as tmp:
        root = Path(tmp)
        for name in files:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
        (root / ".venv").symlink_to(REPO / ".venv")
        clean = make_book(root)
        unchanged = make_book(root)
        page = edit_one_line(root)
        edited = make_book(root)
        html = (root / "_build" / "html" / f"{page}.html").read_text(encoding="utf-8")
        assert "A sentence added by the benchmark." in html, "the edit did not reach the page"
    print(f"clean make book (warm .venv):        {clean:6.1f} s   (target 60 s)")
    print(f"make book, nothing changed:          {unchanged:6.1f} s")
    print(f"make book after a one-line edit:     {edited:6.1f} s   (target 10 s)")
    print(f"one-line rebuild / clean build:      {edited / clean:6.2f}")


if __name__ == "__main__":
    main()
