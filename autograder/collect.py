"""Find the submitted notebooks: SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb, or a .zip of it."""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.contract import NotebookContract

MAX_UNZIPPED_BYTES = 2 * 1024**3


def display_name(name: str) -> str:
    """A file or folder name as text that can be stored anywhere: bytes that are not UTF-8
    (archives made on other systems) become escapes such as \\xe9, never an exception."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class CollectError(ValueError):
    """SUBMISSIONS cannot be used at all (one-line reason for the user)."""


@dataclass(frozen=True)
class Submission:
    """One (student, source notebook) pair; ``path`` is None when nothing was submitted."""

    student_id: str
    contract: NotebookContract
    path: Path | None
    flags: tuple[str, ...] = ()


@dataclass
class Collection:
    students: list[str]
    submissions: list[Submission]
    notes: list[str] = field(default_factory=list)  # class-level remarks


def safe_extract(archive: Path, dest: Path, skipped: list[str] | None = None) -> Path:
    """Unpack a .zip refusing absolute paths, ``..``, links and zip bombs (listed in ``skipped``)."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise CollectError(f"{archive} is not a readable .zip file ({e})") from None
    with zf:
        total = 0
        for info in zf.infolist():
            name = PurePosixPath(info.filename.replace("\\", "/"))
            mode = info.external_attr >> 16
            if name.is_absolute() or ".." in name.parts:
                if skipped is not None:
                    skipped.append(f"skipped {info.filename!r} in the zip: it points outside the archive")
                continue
            if stat.S_ISLNK(mode):
                # Never followed; the folder it sits in still counts (its student gets a row).
                dest.joinpath(*name.parts[:-1]).mkdir(parents=True, exist_ok=True)
                if skipped is not None:
                    skipped.append(f"skipped {info.filename!r} in the zip: a symbolic link")
                continue
            total += info.file_size
            if total > MAX_UNZIPPED_BYTES:
                raise CollectError(f"{archive} unpacks to more than {MAX_UNZIPPED_BYTES // 1024**3} GB")
            target = dest.joinpath(*name.parts)
            try:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    copied = 0
                    while chunk := src.read(1 << 20):
                        copied += len(chunk)
                        if copied > info.file_size + (1 << 20):  # a member that lies about its size
                            raise zipfile.BadZipFile("larger than its header says")
                        out.write(chunk)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, ValueError) as e:
                if target.is_file():
                    target.unlink()
                if skipped is not None:
                    what = display_name(info.filename)
                    skipped.append(f"skipped {what!r} in the zip: it could not be unpacked ({e})")
    return dest


def _find_root(base: Path, assignments: set[str]) -> Path:
    """The folder whose children are students: the shallowest one with <student>/<assignment>/."""
    frontier = [base]
    for _ in range(4):
        for d in frontier:
            for student in _dirs(d):
                if any(sub.name in assignments for sub in _dirs(student)):
                    return d
        frontier = [c for d in frontier for c in _dirs(d)]
    return base


def _dirs(d: Path) -> list[Path]:
    try:
        return sorted(
            p for p in d.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", "__"))
        )
    except OSError:
        return []


def _pick(folder: Path, expected: str) -> tuple[Path | None, tuple[str, ...]]:
    exact = folder / f"{expected}.ipynb"
    if exact.is_file() and not exact.is_symlink():
        return exact, ()
    candidates = sorted(
        p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink() and ".ipynb_checkpoints" not in p.parts
    )
    if not candidates:
        return None, ()
    # "Copy of attention.ipynb", "attention (1).ipynb": prefer names containing the expected stem.
    named = [p for p in candidates if expected.lower() in p.stem.lower()]
    chosen = (named or candidates)[0]
    return chosen, (f"graded {display_name(chosen.name)!r} in place of the expected {expected}.ipynb",)


def collect(submissions: Path, course: list[NotebookContract], workdir: Path) -> Collection:
    submissions = Path(submissions)
    if not submissions.exists():
        raise CollectError(f"{submissions} does not exist")
    if submissions.is_file():
        if submissions.suffix.lower() != ".zip":
            raise CollectError(f"{submissions} is a file but not a .zip")
        dest = workdir / "unzipped"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        skipped: list[str] = []
        submissions = safe_extract(submissions, dest, skipped)
    else:
        skipped = []
    assignments = {c.assignment for c in course}
    root = _find_root(submissions, assignments)
    folders = {display_name(d.name): d for d in _dirs(root)}  # student id -> folder
    students = list(folders)
    notes = []
    for note in skipped:
        student = next((s for s in students if f"{s}/" in note), None)
        notes.append(f"{student}: {note}" if student else note)
    if not students:
        raise CollectError(f"no student folders found in {submissions}")
    items = []
    for student, sdir in folders.items():
        known = {d.name for d in _dirs(sdir)}
        for extra in sorted(known - assignments):
            notes.append(f"{student}: ignored folder {display_name(extra)!r} (not an assignment of this course)")
        for c in course:
            folder = sdir / c.assignment
            try:
                path, flags = _pick(folder, c.notebook) if folder.is_dir() else (None, ())
            except OSError as e:  # an unreadable folder costs this student this chapter, nothing more
                path, flags = None, (f"{c.assignment}: the folder could not be read ({e})",)
            items.append(Submission(student, c, path, flags))
    return Collection(students=students, submissions=items, notes=notes)


def digest(path: Path | None) -> str:
    """A content hash used to resume and to skip unchanged submissions."""
    import hashlib

    if path is None:
        return "missing"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


__all__ = ["Collection", "CollectError", "Submission", "collect", "digest", "safe_extract"]
