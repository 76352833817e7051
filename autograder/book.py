"""Build the HTML book with Jupyter Book 1, then refuse to ship it if instructor material leaked in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from autograder import REPO, SOLUTIONS
from autograder.contract import load_course


class BookError(RuntimeError):
    """The book did not build, or it contains something students must not see."""


def solution_lines(solutions: Path = SOLUTIONS) -> set[str]:
    """Distinctive lines of the reference solutions and hidden tests: none may appear in the book.

    A line that also stands outside those regions (in prose, a visible test or a stub)
    is public anyway and is not searched for.
    """
    import json

    secret: set[str] = set()
    public: set[str] = set()
    markers = {"### BEGIN SOLUTION": "### END SOLUTION", "### BEGIN HIDDEN TESTS": "### END HIDDEN TESTS"}
    for nb_path in sorted(solutions.glob("*/*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            end = None
            for line in src.splitlines():
                s = line.strip()
                if end is None and s in markers:
                    end = markers[s]
                elif s == end:
                    end = None
                elif end and _distinctive(line):
                    secret.add(s)
                elif not end:
                    public.add(s)
    public_text = "\n".join(public)
    # The leak search looks for substrings, so a secret line contained in public text is public.
    return {s for s in secret if s not in public_text}


def _distinctive(line: str) -> bool:
    s = line.strip()
    # Short or generic lines ("return x", "else:") also occur in prose and stubs.
    return len(s) >= 24 and not s.startswith("#") and s not in {'"""', "'''"}


def find_leaks(html_root: Path, solutions: Path = SOLUTIONS, cache: Path | None = None) -> list[str]:
    """Every built file (html, _sources, downloads) that contains a solution or hidden-test line.

    With ``cache`` (a JSON file), files already found clean for the same solution lines, and
    unchanged since (same size and modification time), are not searched again.
    """
    import hashlib
    import html as html_mod
    import json

    needles = sorted(solution_lines(solutions))
    variants = sorted({v for n in needles for v in json_variants(n)})
    key = hashlib.sha256("\n".join(variants).encode()).hexdigest()
    known: dict = {}
    if cache and cache.exists():
        stored = json.loads(cache.read_text())
        known = stored.get("clean", {}) if stored.get("needles") == key else {}
    clean: dict[str, list[int]] = {}
    leaks = []
    for path in sorted(html_root.rglob("*")):
        if path.is_dir():
            continue
        rel = str(path.relative_to(html_root))
        if "solutions/" in rel:
            leaks.append(f"{rel}: a file from solutions/")
        if path.suffix not in {".html", ".ipynb", ".py", ".md", ".txt", ".js", ".json"}:
            continue
        stat = path.stat()
        signature = [stat.st_size, stat.st_mtime_ns]
        if known.get(rel) == signature:
            clean[rel] = signature
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        haystack = text + "\0" + html_mod.unescape(text)
        found = next((n for n in variants if n in haystack), None)
        if found is None:
            clean[rel] = signature
        else:
            leaks.append(f"{rel}: {found}")
    if cache:
        cache.write_text(json.dumps({"needles": key, "clean": clean}))
    return leaks


def json_variants(s: str) -> set[str]:
    """``s`` as it may stand inside a JSON file: escaped with or without non-ASCII escapes."""
    import json

    return {s, json.dumps(s)[1:-1], json.dumps(s, ensure_ascii=False)[1:-1]}


def build(strict: bool = True) -> Path:
    """Run ``jupyter-book build`` on the repository root and check the result for leaks."""
    load_course(SOLUTIONS)  # fail early on a broken contract
    cmd = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(REPO), "--builder", "html"]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=REPO)
    if proc.returncode != 0:
        raise BookError(f"jupyter-book build failed (exit {proc.returncode}); see the warnings above")
    html_root = REPO / "_build" / "html"
    leaks = find_leaks(html_root, cache=REPO / "_build" / "leak-check.json")
    if leaks:
        raise BookError("the built book contains instructor material:\n  " + "\n  ".join(leaks[:20]))
    print(f"book: {html_root / 'index.html'}")
    return html_root
