"""solutions/ -> book/: student notebooks through nbgrader, and the reference module.

``release`` regenerates ``book/<assignment>/`` from ``solutions/<assignment>/``
and ``solutions/reference.py`` from the solution cells. Files are rewritten only
when their content changes, so a second run on an unchanged tree touches nothing.

A chapter whose folder holds ``figure_data.py`` gets the data its figures fall back
on until the student's functions work: ``make(ref)`` (``ref`` is the freshly loaded
reference module) returns ``{file name: {array name: ndarray}}`` and each entry is
written to ``book/<assignment>/<file name>.npz``, byte for byte the same on every run.
No ``*.py`` file of a chapter folder is ever released.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder import BOOK, SOLUTIONS, student_kit
from autograder.contract import NotebookContract, load_course
from autograder.student_kit import add_to_notebook

CONFIG = Path(__file__).with_name("nbgrader_config.py")
REFERENCE_HEADER = '''"""The course's reference solutions, generated from the solution cells of solutions/*/*.ipynb.

DO NOT EDIT: change the notebooks, then run `make release`. Used by the hidden tests
(through autograder.hidden.ref) and by the project's own test suite.
"""

import collections  # noqa: F401
import functools  # noqa: F401
import itertools  # noqa: F401
import math  # noqa: F401
import re  # noqa: F401

import numpy as np  # noqa: F401
'''
BOOK_TEST_TAGS = ["remove-output"]  # a wrapped test cell never raises; its "not implemented yet" stays out of the book
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__"}
FIGURE_DATA = "figure_data.py"  # solutions/<assignment>/figure_data.py: make(ref) -> {file: {array: ndarray}}
NOT_RELEASED = ("*.py",)  # instructor scripts in a chapter folder (figure_data.py) never reach book/
RELEASED_SUFFIXES = {".ipynb", ".npz"}  # generated files that disappear from book/ when their source does
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same arrays always give the same bytes


class ReleaseError(RuntimeError):
    """nbgrader refused to generate an assignment."""


def _strip_delimiters(source: str) -> str:
    lines = [ln for ln in source.splitlines() if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(lines).rstrip() + "\n"


def reference_source(contracts: list[NotebookContract]) -> str:
    parts = [REFERENCE_HEADER]
    for c in contracts:
        for gid in c.answers:
            if gid.startswith("quiz_"):
                continue
            parts.append(f"\n# --- {c.assignment}/{c.notebook}.ipynb: {gid} ---\n")
            parts.append(_strip_delimiters(c.answer_sources[gid]))
    return "\n".join(parts).rstrip() + "\n"


def _write_if_changed(path: Path, data: bytes, changed: list[Path]) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    changed.append(path)


def _postprocess(nb: dict, data_files: tuple[str, ...] = ()) -> dict:
    """Make a released notebook friendly for students and for the book build."""
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        nbg = meta.get("nbgrader", {})
        gid = nbg.get("grade_id", "")
        if cell["cell_type"] == "code" and nbg.get("grade"):
            tags = meta.setdefault("tags", [])
            tags.extend(t for t in BOOK_TEST_TAGS if t not in tags)
        if cell["cell_type"] == "code" and nbg.get("solution") and gid.startswith("quiz_"):
            # A quiz answer stays a plain assignment (`quiz_x = None`), not a raise.
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            lines = [
                ln for ln in src.splitlines() if "NotImplementedError" not in ln and ln.strip() != "# YOUR CODE HERE"
            ]
            cell["source"] = "\n".join(lines).rstrip()
    # Checks that report instead of stopping "Run all", and a "Check your work" table at the end.
    add_to_notebook(nb, data_files)
    ids = [c.get("id") for c in nb["cells"] if c.get("id")]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:  # Jupyter refuses such a notebook; the source's ids may clash with the inserted cells'
        raise ReleaseError(f"cell ids used twice in the released notebook: {', '.join(twice)}")
    for cell in nb["cells"]:
        if isinstance(cell["source"], str):  # as nbformat writes it: a list of lines
            cell["source"] = cell["source"].splitlines(keepends=True)
        nbg = cell.get("metadata", {}).get("nbgrader", {})
        if "checksum" in nbg:
            nbg["checksum"] = _checksum(cell)
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def _checksum(cell: dict) -> str:
    from nbformat import from_dict
    from nbgrader.utils import compute_checksum

    src = cell["source"]
    return compute_checksum(from_dict({**cell, "source": "".join(src) if isinstance(src, list) else src}))


def _dump(nb: dict) -> bytes:
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def npz_bytes(arrays: dict) -> bytes:
    """An ``.npz`` archive (``np.load`` reads it) whose bytes depend only on the arrays:
    sorted names, fixed timestamps and permissions, no compression, no pickles."""
    import numpy as np

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            array = np.asarray(arrays[name])
            if array.dtype == object:
                raise ReleaseError(f"figure data {name!r} is an object array; store numbers or strings")
            data = io.BytesIO()
            np.lib.format.write_array(data, np.array(array, order="C"), allow_pickle=False)  # keeps 0-d arrays
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_EPOCH)
            info.create_system, info.external_attr = 3, 0o644 << 16
            zf.writestr(info, data.getvalue())
    return buf.getvalue()


def _load_module(path: Path, name: str):
    """Import a file as a new module object, every time (never a cached one from sys.modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def figure_data(chapter: Path, reference: Path) -> dict[str, bytes]:
    """The figure-data files of one chapter, ``{file name: npz bytes}`` (empty without figure_data.py)."""
    script = chapter / FIGURE_DATA
    if not script.is_file():
        return {}
    ref = _load_module(reference, "_course_reference")
    made = _load_module(script, f"_figure_data_{chapter.name.replace('-', '_')}").make(ref)
    files = {}
    for name, arrays in sorted(made.items()):
        name = name if name.endswith(".npz") else f"{name}.npz"
        if Path(name).name != name:
            raise ReleaseError(f"{script}: figure data file {name!r} must be a plain file name")
        files[name] = npz_bytes(arrays)
    return files


def _nbgrader_api(root: Path):
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    return NbGraderAPI(config=config)


def _tree_digest(folder: Path, *extra: Path) -> str:
    """A hash of every file under folder (names and bytes) and of the extra files."""
    h = hashlib.sha256()
    files = [f for f in sorted(folder.rglob("*")) if f.is_file() and not SKIP_DIRS & set(f.parts)]
    for f in [*files, *extra]:
        h.update(str(f.relative_to(folder) if f.is_relative_to(folder) else f.name).encode() + b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()


def _up_to_date(stamp: dict | None, source_digest: str, released: Path) -> bool:
    """True when the released folder is exactly what the last release made from the same sources."""
    return bool(
        stamp and stamp["source"] == source_digest and released.is_dir() and stamp["released"] == _tree_digest(released)
    )


def release(
    solutions: Path = SOLUTIONS, book: Path = BOOK, reference: Path | None = None, stamps: Path | None = None
) -> list[Path]:
    """Regenerate book/ and solutions/reference.py; return the files that changed.

    With ``stamps`` (a JSON file), a chapter whose sources and released files are unchanged
    since the last release is not run through nbgrader again.
    """
    contracts = load_course(solutions)
    changed: list[Path] = []
    reference = reference or solutions / "reference.py"
    _write_if_changed(reference, reference_source(contracts).encode(), changed)
    recorded = json.loads(stamps.read_text()) if stamps and stamps.exists() else {}
    # A chapter's release depends on its folder, this module, the student kit and the nbgrader config, and
    # (through figure_data.py) on the reference.
    sources = {
        a: _tree_digest(
            solutions / a,
            Path(__file__),
            CONFIG,
            Path(student_kit.__file__),
            *([reference] if (solutions / a / FIGURE_DATA).is_file() else []),
        )
        for a in {c.assignment for c in contracts}
    }
    assignments = sorted(a for a in sources if not _up_to_date(recorded.get(a), sources[a], book / a))
    if not assignments:
        return changed
    # nbgrader shells out to `alembic`, which lives next to this interpreter.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        root = Path(tmp)
        for a in assignments:
            # nbgrader copies every file of the source folder: the chapter's scripts stay behind.
            ignore = shutil.ignore_patterns(*SKIP_DIRS, *NOT_RELEASED)
            shutil.copytree(solutions / a, root / "source" / a, ignore=ignore)
        api = _nbgrader_api(root)
        for a in assignments:
            result = api.generate_assignment(a, force=True)
            if not result.get("success"):
                raise ReleaseError(f"nbgrader could not release {a}: {result.get('error') or result.get('log')}")
            out_dir = root / "release" / a
            produced = set()
            made = figure_data(solutions / a, reference)
            shipped = {p.name for p in out_dir.rglob("*") if p.is_file() and p.suffix != ".ipynb"} | set(made)
            for src in sorted(out_dir.rglob("*")):
                if src.is_dir() or SKIP_DIRS & set(src.parts):
                    continue
                rel = src.relative_to(out_dir)
                produced.add(rel)
                if src.suffix == ".ipynb":
                    data = _dump(_postprocess(json.loads(src.read_text(encoding="utf-8")), tuple(sorted(shipped))))
                else:
                    data = src.read_bytes()
                _write_if_changed(book / a / rel, data, changed)
            for name, data in made.items():
                produced.add(Path(name))
                _write_if_changed(book / a / name, data, changed)
            for old in sorted((book / a).rglob("*")):
                if old.suffix not in RELEASED_SUFFIXES or SKIP_DIRS & set(old.parts):
                    continue
                if old.relative_to(book / a) not in produced:
                    old.unlink()
                    changed.append(old)
            recorded[a] = {"source": sources[a], "released": _tree_digest(book / a)}
    if stamps:
        stamps.parent.mkdir(parents=True, exist_ok=True)
        stamps.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    return changed
