"""Gradescope: the autograder bundle for a "programming assignment", and what runs inside it.

``python -m autograder gradescope [ASSIGNMENT...] --out DIR`` writes ``DIR/<assignment>.zip``,
one per chapter, to upload as the autograder of a Gradescope programming assignment:

    setup.sh          builds /autograder/venv with the pinned packages grading needs (requirements.txt)
    run_autograder    grades /autograder/submission/*.ipynb, writes /autograder/results/results.json
    requirements.txt  numpy, matplotlib (the setup cells import it), nbformat, and their dependencies, pinned
    config.json       the assignment, the time limits, and the visibility of each test cell
    course/           this grader (autograder/) and solutions/ (source notebooks, reference.py)

Inside the container, ``python -m autograder.gradescope ROOT`` (ROOT is ``/autograder``, or
``$AUTOGRADER_ROOT``) grades the submission with the same sandbox, limits and tests as
``python -m autograder grade``, and always leaves a results.json, with a reason when the
submission could not be graded.

Visibility: a test cell is *visible* when its released version (the student's notebook)
still asserts something, i.e. the student can run part of it; its result is shown at once
(``visible``). A test cell whose checks are all hidden in the released notebook is *hidden*,
and so is a concept question's (its visible part only checks that a letter was given, its
hidden part holds the answer: shown at once, students could resubmit until the letter
passes). Hidden results are shown once grades are published (``after_published``). Both
are configurable (``--visible``, ``--hidden``).
"""

from __future__ import annotations

import ast
import json
import re
import sys
import time
import zipfile
from pathlib import Path

from autograder.contract import NotebookContract
from autograder.runner import NotebookResult

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*(\n|$)", re.M | re.S)
GRADING_PACKAGES = ("numpy", "matplotlib", "nbformat", "ipython")  # setup cells import matplotlib; nbformat reads v3
# notebooks; IPython turns magics into Python exactly as Jupyter does
WHEN = {
    "hidden": "to your instructor only",
    "after_due_date": "after the due date",
    "after_published": "once grades are published",
    "visible": "now",
}
ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed: the same course gives the same zip

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image (cwd: /autograder/source).
# It installs the pinned packages of requirements.txt into /autograder/venv; nothing else is
# fetched, then or at grading time. Needs Python 3.11+ (Gradescope's Ubuntu 24.04 base image
# has 3.12; on 22.04 python3.11 is installed from Ubuntu's archive).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
PY=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PY="$candidate"; break
  fi
done
if [ -z "$PY" ]; then
  apt-get update -q && apt-get install -y -q --no-install-recommends python3.11 python3.11-venv
  PY=python3.11
fi
"$PY" -m venv --help >/dev/null 2>&1 && "$PY" -c 'import ensurepip' 2>/dev/null || {
  apt-get update -q && apt-get install -y -q --no-install-recommends "$(basename "$PY")-venv"
}
"$PY" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  -r requirements.txt
"$ROOT/venv/bin/python" -c "import numpy, matplotlib.pyplot, nbformat; print('grading packages ready')"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this (copied to /autograder/run_autograder) once per submission.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
cd "$ROOT/source/course" && MPLBACKEND=Agg "$PYTHON" -m autograder.gradescope "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  # The grader itself could not run: still leave a valid results.json, with the reason for the instructor.
  cat > "$ROOT/results/results.json" <<'JSON'
FALLBACK
JSON
fi
exit $status
""".replace(
    "FALLBACK",
    json.dumps(
        {
            "score": 0,
            "execution_time": 0,
            "output": "The autograder could not run on this submission (a problem on the course's side, not yours). "
            "Your instructor can see the log; resubmitting will not help until it is fixed.",
            "stdout_visibility": "hidden",
            "tests": [],
        }
    ),
)


def root_from_env(default: str = "/autograder") -> Path:
    import os

    return Path(os.environ.get("AUTOGRADER_ROOT", default))


# ---------------------------------------------------------------- visibility


def visible_part(source: str) -> str:
    """A test cell as the released notebook has it: the hidden block removed (as nbgrader does)."""
    return HIDDEN_BLOCK.sub("", source)


def is_visible(source: str) -> bool:
    """True when the released test cell still checks something the student can run, and its
    hidden part is not a concept question's answer key (shown at once, a wrong letter could
    be corrected by resubmitting until it passes)."""
    hidden = "".join(m.group(0) for m in HIDDEN_BLOCK.finditer(source))
    if re.search(r"\bquiz\(", hidden):
        return False
    try:
        tree = ast.parse(visible_part(source))
    except SyntaxError:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert | ast.Raise):
            return True
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
            if name.startswith(("check", "quiz")):
                return True
    return False


def test_visibility(contract: NotebookContract) -> dict[str, bool]:
    return {t.grade_id: is_visible(t.source) for t in contract.tests}


# ---------------------------------------------------------------- results.json


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 4)


def test_name(grade_id: str, target: str) -> str:
    aspect = grade_id.split("__", 1)[1].replace("_", " ") if "__" in grade_id else "check"
    return f"{target}: {aspect}"


def results_json(
    result: NotebookResult,
    visible: dict[str, bool],
    *,
    visible_as: str = "visible",
    hidden_as: str = "after_published",
    seconds: float | None = None,
    notes: tuple[str, ...] = (),
) -> dict:
    """Gradescope's results.json for one graded notebook (its documented "Output format")."""
    tests = []
    for t in result.tests:
        text = "\n".join(x for x in (t.message, t.output.strip()) if x)
        if not text:
            text = "passed" if t.status == "ok" else t.status
        tests.append(
            {
                "name": test_name(t.grade_id, t.target),
                "score": _num(t.points),
                "max_score": _num(t.max_points),
                "status": "passed" if t.status == "ok" else "failed",
                "output": text,
                "tags": [t.target],
                "visibility": visible_as if visible.get(t.grade_id, True) else hidden_as,
            }
        )
    n_hidden = sum(1 for t in result.tests if not visible.get(t.grade_id, True))
    lines = [f"{result.assignment} / {result.notebook}.ipynb: {_fmt(result.points)} / {_fmt(result.max_points)} points"]
    if result.status != "graded":
        lines.append(f"{result.status.capitalize()}: {result.reason}")
    lines += list(notes)
    if result.flags:
        lines.append("For your instructor's attention:")
        lines += [f"- {f}" for f in result.flags]
    if n_hidden and hidden_as != visible_as:
        lines.append(f"{n_hidden} more test(s) will be shown {WHEN[hidden_as]}.")
    broken = [c for c in result.cells if not c.ok]
    if broken:
        lines.append("Cells that raised an error while your notebook ran:")
        lines += [f"- {c.name}: {c.message.strip().splitlines()[-1] if c.message.strip() else 'error'}" for c in broken]
    doc = {
        "score": _num(result.points),
        "execution_time": int(round(seconds if seconds is not None else result.seconds)),
        "output": "\n".join(lines),
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return doc


def _fmt(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------- inside the container


def find_submission(folder: Path, notebook: str) -> tuple[Path | None, tuple[str, ...], list[str]]:
    """The notebook to grade in Gradescope's submission folder, matched as ``collect`` does
    ("Copy of attention.ipynb", "attention (1).ipynb"); looks one level of folders deeper too
    (a zip or a repository upload). Returns (path, flags, every file received)."""
    from autograder.collect import _pick

    received = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__MACOSX" not in p.parts
    )
    folders = [folder] + sorted(
        (p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", "__"))),
        key=lambda p: (len(p.parts), str(p)),
    )
    for d in folders:
        path, flags = _pick(d, notebook)
        if path is not None:
            return path, flags, received
    return None, (), received


def run(root: Path) -> int:
    """Grade the one submission under ``root`` (Gradescope's /autograder) into results/results.json."""
    start = time.monotonic()
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    config = json.loads((root / "source" / "config.json").read_text(encoding="utf-8"))
    from autograder import SOLUTIONS
    from autograder.contract import load_course, reference_calls
    from autograder.runner import grade_notebook
    from autograder.sandbox import Limits, default_isolation, probe_isolation

    course = load_course(SOLUTIONS)
    contract = next(c for c in course if c.assignment == config["assignment"])
    dependencies = reference_calls(course)
    limits = Limits(**config.get("limits", {}))
    submission = root / "submission"
    path, flags, received = find_submission(submission, contract.notebook) if submission.is_dir() else (None, (), [])
    notes: list[str] = []
    if path is None:
        got = ", ".join(received[:10]) or "nothing"
        notes.append(
            f"No notebook found: expected {contract.notebook}.ipynb, received {got}. "
            "Upload the .ipynb file itself (in Jupyter: File > Download), then submit again."
        )
    isolation = default_isolation(extra_hide=(str(submission.resolve()), str(out.parent.resolve())))
    why_not = probe_isolation(isolation)
    if why_not:
        print(f"warning: sandboxes are not OS-isolated here: {why_not}")
        isolation = None
    result = grade_notebook(contract, "submission", path, limits, dependencies, flags, isolation)
    if path is None:
        result.reason = f"no {contract.notebook}.ipynb in the submission"
    visible = config.get("visible_tests") or test_visibility(contract)
    doc = results_json(
        result,
        visible,
        visible_as=config.get("visible_as", "visible"),
        hidden_as=config.get("hidden_as", "after_published"),
        seconds=time.monotonic() - start,
        notes=tuple(notes),
    )
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out)
    print(f"{contract.assignment}: {result.points:g}/{result.max_points:g} ({result.status}) from {path}")
    print(f"graded by {Path(__file__).resolve().parent}, sandboxes {'isolated' if isolation else 'NOT isolated'}")
    return 0


# ---------------------------------------------------------------- building the bundle


def grading_requirements(packages: tuple[str, ...] = GRADING_PACKAGES) -> list[str]:
    """``name==version`` for the packages grading imports and everything they need, versions
    from constraints.txt (the course's pins), found through the installed packages' metadata."""
    import importlib.metadata as md

    from autograder import REPO

    pins: dict[str, str] = {}
    constraints = REPO / "constraints.txt"
    if constraints.exists():
        for line in constraints.read_text().splitlines():
            m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line.strip())
            if m:
                pins[_canon(m[1])] = f"{m[1]}=={m[2]}"
    seen: dict[str, str] = {}
    todo = list(packages)
    while todo:
        name = _canon(todo.pop())
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            raise RuntimeError(f"{name} is needed for grading but is not installed here") from None
        seen[name] = pins.get(name, f"{dist.metadata['Name']}=={dist.version}")
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            marker_ok = True
            if ";" in req:
                try:
                    from packaging.markers import Marker

                    marker_ok = Marker(req.split(";", 1)[1]).evaluate()
                except Exception:  # noqa: BLE001 - an unreadable marker: include the package to be safe
                    marker_ok = True
            if marker_ok:
                todo.append(re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0])
    return sorted(seen.values(), key=str.lower)


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    zf.writestr(info, data)


def build_bundle(
    assignment: str,
    out: Path,
    *,
    visible_as: str = "visible",
    hidden_as: str = "after_published",
    limits: dict | None = None,
    solutions: Path | None = None,
) -> Path:
    """Write ``out/<assignment>.zip``: Gradescope's autograder for one chapter."""
    from autograder import SOLUTIONS
    from autograder.contract import load_course

    solutions = solutions or SOLUTIONS
    course = load_course(solutions)
    contract = next((c for c in course if c.assignment == assignment), None)
    if contract is None:
        known = ", ".join(c.assignment for c in course)
        raise ValueError(f"no assignment {assignment!r} in {solutions} (known: {known})")
    if not (solutions / "reference.py").exists():
        raise ValueError("solutions/reference.py is missing: run `python -m autograder release` first")
    for v in (visible_as, hidden_as):
        if v not in VISIBILITIES:
            raise ValueError(f"visibility {v!r} is not one of {', '.join(VISIBILITIES)}")
    config = {
        "assignment": assignment,
        "notebook": contract.notebook,
        "visible_as": visible_as,
        "hidden_as": hidden_as,
        "visible_tests": test_visibility(contract),
        "limits": limits or {},
    }
    package = Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{assignment}.zip"
    tmp = path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
        _add(zf, "requirements.txt", ("\n".join(grading_requirements()) + "\n").encode())
        _add(zf, "config.json", (json.dumps(config, indent=1) + "\n").encode())
        for f in sorted(package.glob("*.py")):
            _add(zf, f"course/autograder/{f.name}", f.read_bytes())
        for c in course:
            _add(zf, f"course/solutions/{c.assignment}/{c.path.name}", c.path.read_bytes())
        _add(zf, "course/solutions/reference.py", (solutions / "reference.py").read_bytes())
    tmp.replace(path)
    return path


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1]) if len(sys.argv) > 1 else root_from_env()))
