"""Compare a submission with the released notebook: report what a student should not have changed.

Nothing here changes a score (the grader runs the source notebook's tests, whatever
the submission contains); it explains to a human what was seen.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

from autograder import BOOK
from autograder.contract import NotebookContract

GRADED_KEYS = ("grade", "solution", "locked", "points", "grade_id")


def _norm(source) -> str:
    text = "".join(source) if isinstance(source, list) else (source if isinstance(source, str) else "")
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


@cache
def _released(path: Path) -> tuple[dict[str, dict], str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta and meta.get("grade_id"):
            cells[meta["grade_id"]] = {"source": _norm(cell["source"]), "meta": meta}
    return cells, nb.get("metadata", {}).get("kernelspec", {}).get("name", "python3")


def tamper_flags(contract: NotebookContract, nb: dict, book: Path = BOOK) -> list[str]:
    """Human-readable notes on test cells and metadata that differ from the release."""
    path = book / contract.assignment / f"{contract.notebook}.ipynb"
    if not path.exists():
        return []
    released, kernel = _released(path)
    flags: list[str] = []
    seen: Counter[str] = Counter()
    edited, changed_meta, fake_ids = [], [], []
    ids = Counter()
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict):
            continue
        if isinstance(cell.get("id"), str):
            ids[cell["id"]] += 1
        meta = (cell.get("metadata") or {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
        if not isinstance(meta, dict) or not isinstance(meta.get("grade_id"), str):
            continue
        gid = meta["grade_id"]
        seen[gid] += 1
        if gid not in released:
            fake_ids.append(gid)
            continue
        want = released[gid]
        if want["meta"].get("grade") and _norm(cell.get("source")) != want["source"]:
            edited.append(gid)
        if any(meta.get(k) != want["meta"].get(k) for k in GRADED_KEYS):
            changed_meta.append(gid)
    tests = [gid for gid, c in released.items() if c["meta"].get("grade")]
    deleted = [gid for gid in tests if seen[gid] == 0]
    duplicated = sorted(gid for gid, n in seen.items() if n > 1)
    if edited:
        flags.append("test cells edited (the original tests were run): " + ", ".join(edited))
    if deleted:
        flags.append("test cells deleted (the original tests were run): " + ", ".join(deleted))
    if duplicated:
        flags.append("cells duplicated: " + ", ".join(duplicated))
    if changed_meta:
        flags.append("nbgrader metadata changed (ignored): " + ", ".join(changed_meta))
    if fake_ids:
        flags.append("cells with grade ids that are not in the assignment: " + ", ".join(sorted(fake_ids)))
    dup_ids = sorted(i for i, n in ids.items() if n > 1)
    if dup_ids:
        flags.append(f"duplicate cell ids: {', '.join(dup_ids[:5])}")
    spec = (nb.get("metadata") or {}).get("kernelspec") if isinstance(nb.get("metadata"), dict) else None
    name = spec.get("name") if isinstance(spec, dict) else None
    if name and name != kernel:
        flags.append(f"unexpected kernel {name!r}; graded with Python")
    return flags
