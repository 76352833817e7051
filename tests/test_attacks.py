"""The second round of attacks: each test performs one (README, threat model), with an honest
student graded beside it. Nothing may inflate points, stall or crash the class, lose a
student, leave a process or a file behind, or fail a notebook that runs in Jupyter."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder import REPO
from autograder.sandbox import UID_BASE, default_isolation, probe_isolation
from tests import support

ISOLATED = not probe_isolation(default_isolation())
COURSES = {c.assignment: c for c in support.course()}
CH03 = COURSES["03-attention"]
CH08 = COURSES["08-layer-norm"]
CH09 = COURSES["09-cross-entropy"]


def _cell(source: str, n: int = 0) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": f"a{n}-{abs(hash(source)) % 10**8}", "metadata": {},
            "outputs": [], "source": source}  # fmt: skip


def _answer(nb: dict, gid: str) -> dict:
    return next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == gid)


def _rows(out: Path, student: str, course) -> dict:
    rows = support.scores_by_student(out)[student]
    return {gid: r for gid, r in rows.items() if r["assignment"] == course.assignment}


def _points(rows: dict, function: str) -> tuple[float, float]:
    mine = [r for gid, r in rows.items() if gid == f"test_{function}" or gid.startswith(f"test_{function}__")]
    return sum(float(r["points"]) for r in mine), sum(float(r["max_points"]) for r in mine)


def _children(pid: int) -> set[int]:
    kids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.add(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return kids


def _sandbox_processes(owners: set[int] | None = None) -> list[str]:
    """Processes running as a sandbox uid (of the grading workers ``owners``, if given)."""
    from autograder.sandbox import owner_of_uid

    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    status = f.read()
                uid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("Uid:"))
            except (OSError, StopIteration):
                continue
            if "State:\tZ" in status:
                continue  # a zombie is dead: only not yet reaped by whoever adopted it
            ours = owners is None or owner_of_uid(uid) in {o & 0xFFFF for o in owners}
            if UID_BASE <= uid < UID_BASE + (1 << 20) and ours:
                found.append(entry)
    return found


# -- one class, graded once: student -> (course, notebook) ------------------------------
def _class() -> dict:
    students = {}
    # 1. A softmax assembled from a course function of another chapter (ch09's log_softmax).
    students["borrows-log-softmax"] = (
        CH03,
        support.solved(CH03, softmax="def softmax(x, axis=-1):\n    return np.exp(log_softmax(x, axis=axis))"),
    )
    # 2. A lent one_hot asked for 8 GB (the grader's memory must not follow), and a lent
    #    log_softmax called in a loop that never ends (the test's deadline must stop it).
    students["lent-memory-bomb"] = (
        CH09,
        support.solved(
            CH09,
            cross_entropy_grad="def cross_entropy_grad(logits, targets, ignore_index=None):\n"
            "    return one_hot(np.arange(10), 10**8)",
        ),
    )
    students["lent-call-loop"] = (
        CH09,
        support.solved(
            CH09,
            cross_entropy="def cross_entropy(logits, targets, ignore_index=None):\n"
            "    while True:\n        log_softmax(logits)",
        ),
    )
    # 3. Many cells just under the cell limit (2 s): the notebook's budget (12 s) must hold.
    nb = support.solved(CH03)
    for i in range(20):
        nb["cells"].insert(3, _cell("import time\ntime.sleep(1.5)", i))
    students["slow-cells"] = (CH03, nb)
    # 4. Floods of output: printed, warned, and thousands of failing cells.
    nb = support.solved(CH03)
    flood = "import warnings\nfor i in range(200):\n    warnings.warn('w' * 10_000 + str(i))\nprint('x' * 10**6)"
    nb["cells"].insert(3, _cell(flood))
    for i in range(3000):
        nb["cells"].insert(4, _cell(f"raise ValueError('{'e' * 200}{i}')", i))
    _answer(nb, "softmax")["source"] += "\n    print('p' * 10**6)  # never reached"
    students["output-flood"] = (CH03, nb)
    # 5. Data left in /dev/shm and /run/lock by one student, looked for by the next.
    write = "def softmax(x, axis=-1):\n    for p in ('/dev/shm/afti-left', '/run/lock/afti-left'):\n"
    write += "        try:\n            open(p, 'w').write('x' * 1000)\n        except OSError:\n            pass\n"
    write += "    raise RuntimeError('wrote')"
    students["writes-shared-places"] = (CH03, support.solved(CH03, softmax=write))
    # 7. Names and output no file system or CSV likes.
    students['=HYPERLINK("http://evil")'] = (CH03, support.solved(CH03))
    nb = support.solved(CH03)
    nb["cells"].insert(3, _cell("print('lone surrogate: \\ud800 end')"))
    students["prints-a-surrogate"] = (CH03, nb)
    # 9. Notebooks that run in Jupyter must run here.
    sdpa = support.reference_answers(CH03)["scaled_dot_product_attention"]
    wrapped = sdpa.replace(
        "    d_k = Q.shape[-1]",
        "    d_k = Q.shape[-1]\n    assert (Q.ndim\n            != 0), 'a continuation line that starts with !='",
    )
    assert wrapped != sdpa
    nb = support.solved(CH03, scaled_dot_product_attention=wrapped)
    nb["cells"].insert(3, _cell("np.matmul?\n%time x = 1\n%timeit -n 2 x + 1"))
    nb["cells"].insert(4, _cell("%%capture\nprint('not shown')"))
    students["jupyter-syntax"] = (CH03, nb)
    nb = support.solved(CH03)
    stale = json.loads(json.dumps(_answer(nb, "softmax")))
    stale["source"] = "def softmax(x, axis=-1):\n    return x  # a first draft"
    stale["id"] = "stale-copy"
    nb["cells"].insert(nb["cells"].index(_answer(nb, "softmax")), stale)
    students["duplicated-answer"] = (CH03, nb)
    nb = support.solved(CH03)
    blob = {"output_type": "stream", "name": "stdout", "text": "y" * (110 * 1024**2)}
    next(c for c in nb["cells"] if c["cell_type"] == "code")["outputs"] = [blob]
    students["big-because-of-outputs"] = (CH03, nb)
    # 10. Imports hidden from the parser.
    students["hidden-import"] = (
        CH03,
        support.solved(
            CH03,
            softmax_jacobian=support.reference_answers(CH03)["softmax_jacobian"]
            + "\n\nexec('import os')\n__import__('subprocess')",
        ),
    )
    # Issue 12, item 5: a function that writes into its argument.
    in_place = (
        "def layer_norm(x, gamma, beta, eps=1e-5):\n"
        "    x -= x.mean(axis=-1, keepdims=True)  # writes into the caller's array\n"
        "    var = (x**2).mean(axis=-1, keepdims=True)\n"
        "    return x / np.sqrt(var + eps) * gamma + beta\n"
    )
    students["writes-into-x"] = (CH08, support.solved(CH08, layer_norm=in_place))
    for course in (CH03, CH08, CH09):
        students[f"honest-{course.assignment}"] = (course, support.solved(course))
    return students


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    subs, out = root / "submitted", root / "out"
    for student, (course, nb) in _class().items():
        support.write_submission(subs, student, course, nb)
    # 7. A notebook whose file name is not UTF-8 (a zip made on another system).
    odd = subs / "latin1-name" / CH03.assignment
    odd.mkdir(parents=True)
    (odd / (b"attention-\xe9t\xe9.ipynb".decode("utf-8", "surrogateescape"))).write_text(
        json.dumps(support.solved(CH03))
    )
    start = time.monotonic()
    proc = support.run_cli(
        "grade", str(subs), "--out", str(out), "--jobs", "2", "--timeout", "2", "--notebook-timeout", "12"
    )
    return out, proc, time.monotonic() - start


def test_the_attacked_class_is_graded_and_every_student_has_a_row(attacked):
    out, proc, _ = attacked
    assert proc.returncode == 0, proc.stderr[-3000:]
    grades = support.grades_by_student(out)
    assert len(grades) == len(_class()) + 1


@pytest.mark.parametrize("course", [CH03, CH08, CH09], ids=lambda c: c.assignment)
def test_honest_students_beside_the_attacks_keep_full_marks(attacked, course):
    out, _, _ = attacked
    rows = _rows(out, f"honest-{course.assignment}", course)
    assert all(r["status"] == "ok" for r in rows.values()), {g: r["reason"] for g, r in rows.items()}


def test_an_answer_built_from_another_chapters_course_function_earns_nothing(attacked):
    out, _, _ = attacked
    got, full = _points(_rows(out, "borrows-log-softmax", CH03), "softmax")
    assert full > 0 and got == 0, "log_softmax is not what softmax's reference calls: it must not be lent"


def test_a_lent_function_asked_for_gigabytes_fails_in_the_lender_not_the_grader(attacked):
    out, _, _ = attacked
    rows = _rows(out, "lent-memory-bomb", CH09)
    got, _ = _points(rows, "cross_entropy_grad")
    assert got == 0
    # The lender runs out of memory (2 GB) or of the test's time; the grader does neither.
    mine = [r for g, r in rows.items() if g.startswith("test_cross_entropy_grad")]
    assert {r["status"] for r in mine} <= {"timeout", "error", "failed"}
    others = {g: r for g, r in rows.items() if not g.startswith("test_cross_entropy_grad")}
    assert all(r["status"] == "ok" for r in others.values())


def test_a_loop_of_lent_calls_is_stopped_by_the_tests_deadline(attacked):
    out, _, _ = attacked
    rows = _rows(out, "lent-call-loop", CH09)
    statuses = {r["status"] for g, r in rows.items() if g.startswith("test_cross_entropy__")}
    assert statuses == {"timeout"}, statuses


def test_many_slow_cells_cannot_stretch_the_notebooks_time_budget(attacked):
    out, _, _ = attacked
    # 20 cells of 1.5 s each: the 2 s cell limit never fires, the 12 s notebook budget must.
    assert "time budget" in support.grades_by_student(out)["slow-cells"]["flags"]
    result = next((out / "_results").glob("*.json"))  # noqa: F841 - the cache holds every notebook
    seconds = [
        json.loads(p.read_text().split("\n", 1)[1])
        for p in (out / "_results").glob("*.json")
        if '"slow-cells"' in p.read_text()
    ][0]["seconds"]
    assert seconds < 17, f"the notebook held a worker for {seconds:.0f} s"


def test_output_floods_are_capped_and_flagged(attacked):
    out, _, _ = attacked
    grades = support.grades_by_student(out)
    assert "output was cut" in grades["output-flood"]["flags"]
    page = out / "feedback" / "output-flood" / CH03.assignment / f"{CH03.notebook}.html"
    assert page.stat().st_size < 1_500_000, f"feedback page of {page.stat().st_size} bytes"
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and "output-flood" in str(p))
    assert total < 5_000_000, f"{total} bytes of results for one notebook"


@pytest.mark.skipif(not ISOLATED, reason="needs OS-level isolation (root on Linux)")
def test_nothing_written_to_shared_places_outlives_the_sandbox(attacked):
    for p in ("/dev/shm/afti-left", "/run/lock/afti-left"):
        assert not Path(p).exists(), f"{p} survived grading"


def test_names_and_output_in_any_encoding_are_stored_with_escapes(attacked):
    out, _, _ = attacked
    grades = support.grades_by_student(out)
    assert float(grades["prints-a-surrogate"]["total"]) == CH03.max_points
    latin = next(s for s in grades if s.startswith("latin1-name"))
    assert float(grades[latin]["total"]) == CH03.max_points
    assert "\\xe9" in grades[latin]["flags"], grades[latin]["flags"]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(attacked):
    out, _, _ = attacked
    for name in ("grades.csv", "scores.csv", "exports/canvas.csv", "exports/moodle.csv"):
        text = (out / name).read_text()
        assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text, name
        assert "'=HYPERLINK" in text, name


@pytest.mark.parametrize("student", ["jupyter-syntax", "big-because-of-outputs"])
def test_notebooks_that_run_in_jupyter_get_full_marks(attacked, student):
    out, _, _ = attacked
    rows = _rows(out, student, CH03)
    assert all(r["status"] == "ok" for r in rows.values()), {g: r["reason"] for g, r in rows.items() if r["reason"]}


def test_a_duplicated_answer_cell_is_graded_by_its_last_copy_and_flagged(attacked):
    out, _, _ = attacked
    grades = support.grades_by_student(out)["duplicated-answer"]
    assert float(grades["total"]) == CH03.max_points
    assert "last copy" in grades["flags"]


def test_imports_made_at_run_time_are_flagged(attacked):
    out, _, _ = attacked
    flags = support.grades_by_student(out)["hidden-import"]["flags"]
    assert "os" in flags and "subprocess" in flags and "while the code ran" in flags


def test_a_function_that_writes_into_its_argument_fails_and_is_told_why(attacked):
    out, _, _ = attacked
    rows = _rows(out, "writes-into-x", CH08)
    got, full = _points(rows, "layer_norm")
    assert got < full
    assert any("changed its argument `x` in place" in r["reason"] for r in rows.values())


# -- attacks that need their own run -----------------------------------------------------
@pytest.mark.skipif(not ISOLATED, reason="needs OS-level isolation (root on Linux)")
def test_a_class_zip_outside_the_hidden_folders_cannot_be_read_from_the_sandbox():
    place = Path(f"/afti-attack-{os.getpid()}")
    place.mkdir()
    try:
        archive = place / "class.zip"
        thief = (
            "import zipfile\ndef softmax(x, axis=-1):\n"
            f"    with zipfile.ZipFile({str(archive)!r}) as z:\n"
            "        return len(z.namelist())\n"
        )
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr(f"honest/{CH03.assignment}/{CH03.notebook}.ipynb", json.dumps(support.solved(CH03)))
            zf.writestr(
                f"thief/{CH03.assignment}/{CH03.notebook}.ipynb", json.dumps(support.solved(CH03, softmax=thief))
            )
        out = place / "out"
        proc = support.run_cli("grade", str(archive), "--out", str(out), "--jobs", "1")
        assert proc.returncode == 0, proc.stderr[-2000:]
        rows = _rows(out, "thief", CH03)
        reasons = " ".join(r["reason"] for g, r in rows.items() if g.startswith("test_softmax"))
        assert "Permission" in reasons or "BadZipFile" in reasons or "not a zip" in reasons, reasons
        assert all(r["status"] == "ok" for r in _rows(out, "honest", CH03).values())
    finally:
        import shutil

        shutil.rmtree(place, ignore_errors=True)


def test_a_bad_member_of_a_class_zip_is_skipped_with_a_note(tmp_path):
    archive = tmp_path / "class.zip"
    good = json.dumps(support.solved(CH03))
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"alice/{CH03.assignment}/{CH03.notebook}.ipynb", good)
        zf.writestr(f"bob/{CH03.assignment}/{CH03.notebook}.ipynb", good)
    data = bytearray(archive.read_bytes())
    start = data.find(b"bob/")  # corrupt bob's compressed bytes (his local header comes second)
    for i in range(start + 200, start + 260):
        data[i] ^= 0xFF
    archive.write_bytes(bytes(data))
    proc = support.run_cli("grade", str(archive), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    grades = support.grades_by_student(tmp_path / "out")
    assert float(grades["alice"]["total"]) == CH03.max_points
    assert "could not be unpacked" in grades["bob"]["flags"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_sandboxes_and_temporary_folders_do_not_outlive_a_killed_grader(tmp_path, sig):
    import tempfile

    subs, out = tmp_path / "submitted", tmp_path / "out"
    nb = support.solved(CH03)
    nb["cells"].insert(3, _cell("import time, os\nif os.fork() == 0:\n    time.sleep(600)\ntime.sleep(600)"))
    for i in range(3):
        support.write_submission(subs, f"sleeper-{i}", CH03, nb)
    cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out), "--jobs", "2", "--timeout", "60"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    grader = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Only this grader's sandboxes count: other gradings may run on the machine meanwhile.
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and not (workers and _sandbox_processes(workers)):
        workers = _children(grader.pid)
        time.sleep(0.2)
    assert _sandbox_processes(workers) or not ISOLATED, "the sandboxes never started"
    time.sleep(1)
    grader.send_signal(sig)
    grader.wait(timeout=60)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _sandbox_processes(workers):
        time.sleep(0.2)
    assert not _sandbox_processes(workers), "a sandbox process outlived the grader"
    leftovers = list(Path(tempfile.gettempdir()).glob(f"grade-{grader.pid}-*"))
    if sig == signal.SIGTERM:
        assert not leftovers, f"temporary folders left behind: {leftovers}"
    proc = support.run_cli("grade", str(subs), "--out", str(tmp_path / "again"), "--jobs", "1", "--timeout", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not list(Path(tempfile.gettempdir()).glob(f"grade-{grader.pid}-*")), "the next run must clean up"


def test_a_forged_reply_cannot_decode_to_gigabytes():
    from autograder import codec

    tree = b"[" + b"0," * (32 * 1024**2) + b"0]"
    head = json.dumps([]).encode()
    import struct

    payload = struct.pack("<I", len(head)) + head + tree
    with pytest.raises(codec.CodecError):
        codec.decode(payload)
    nested = codec.encode([[0] * 1000] * 1000)
    with pytest.raises(codec.CodecError):
        codec.decode(nested[codec._HEADER.size :])
    assert codec.decode(codec.encode(np.arange(10**6))[codec._HEADER.size :]).shape == (10**6,)


def test_a_sandbox_that_stops_reading_cannot_block_the_grader():
    from autograder.sandbox import Limits, Sandbox, SandboxError

    with Sandbox(Limits(cell_seconds=3, call_seconds=3)) as sb:
        # The student's function asks for a callback (a test's helper returning 50 MB), then
        # never reads the answer: the grader's write must give up at the deadline.
        code = (
            "import gc, time\n"
            "def ask(helper):\n"
            "    ch = next(o for o in gc.get_objects() if type(o).__name__ == 'Channel')\n"
            "    ch.send({'op': 'callback', 'handle': 0, 'args': [], 'kwargs': {}})\n"
            "    time.sleep(60)\n"
        )
        assert sb.exec(code, "cell").ok
        start = time.monotonic()
        with pytest.raises(SandboxError):
            sb.call("ask", (lambda: np.zeros(50 * 1024**2 // 8),), {})
        assert time.monotonic() - start < 10


def test_the_lender_stops_a_lent_function_at_the_deadline_and_bounds_its_memory(tmp_path):
    from autograder.lender import Lender, LenderTimeout

    reference = tmp_path / "reference.py"
    reference.write_text(
        "import numpy as np\ndef spin():\n    while True:\n        pass\ndef big(n):\n    return np.ones(n)\n"
    )
    lender = Lender(reference, memory_bytes=1024**3)
    try:
        start = time.monotonic()
        with pytest.raises(LenderTimeout):
            lender.call("spin", (), {}, time.monotonic() + 1)
        assert time.monotonic() - start < 5
        with pytest.raises(MemoryError):
            lender.call("big", (10**9,), {}, time.monotonic() + 30)
        assert np.array_equal(lender.call("big", (3,), {}, time.monotonic() + 30), np.ones(3))
    finally:
        lender.close()


def test_a_tests_own_helper_is_not_called_with_huge_arguments():
    from autograder.sandbox import Limits, Sandbox

    with Sandbox(Limits(cell_seconds=5, call_seconds=5)) as sb:
        code = (
            "import numpy as np\ndef call(f):\n    try:\n        f(np.ones(4 * 1024**2))\n    except ValueError as e:\n"
        )
        code += "        return 'refused: ' + str(e)\n    return 'ran'"
        assert sb.exec(code, "cell").ok
        seen = []
        reply = sb.call("call", (lambda x: seen.append(x.shape) or 0.0,), {})
        assert reply.ok and reply.value.startswith("refused"), reply.value
        assert not seen, "the helper ran in the grader on 32 MB of arguments"
