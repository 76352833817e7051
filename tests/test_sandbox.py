"""Student code runs in its own limited process and can only hand back data."""

import time

import numpy as np
import pytest

from autograder.sandbox import Limits, Sandbox, SandboxCrashed, SandboxTimeout

FAST = Limits(cell_seconds=3, call_seconds=2)


@pytest.fixture
def sandbox():
    with Sandbox(FAST) as sb:
        yield sb


def test_a_function_defined_in_a_cell_can_be_called_with_arrays(sandbox):
    assert sandbox.exec("import numpy as np\ndef double(x):\n    return 2 * x", "cell").ok
    reply = sandbox.call("double", (np.arange(3),), {})
    assert reply.ok and np.array_equal(reply.value, [0, 2, 4])


def test_exceptions_come_back_as_instances_of_the_builtin_type(sandbox):
    sandbox.exec("def bad(x):\n    raise ValueError('no ' + str(x))", "cell")
    reply = sandbox.call("bad", (1,), {})
    assert not reply.ok and isinstance(reply.error, ValueError) and "no 1" in str(reply.error)
    assert "<cell>" in reply.error.traceback


def test_lent_functions_run_in_the_grader_and_shadow_the_students(sandbox):
    sandbox.exec("def helper(x):\n    return -1\ndef outer(x):\n    return helper(x) + 1", "cell")
    assert sandbox.call("outer", (1,), {}).value == 0
    assert sandbox.call("outer", (1,), {}, overrides={"helper": lambda x: 10 * x}).value == 11
    assert sandbox.call("outer", (1,), {}).value == 0, "the override must not outlive the call"


def test_an_infinite_loop_times_out_and_kills_the_process(sandbox):
    sandbox.exec("def spin():\n    while True:\n        pass", "cell")
    start = time.monotonic()
    with pytest.raises(SandboxTimeout):
        sandbox.call("spin", (), {})
    assert time.monotonic() - start < FAST.call_seconds + 2
    assert not sandbox.alive


def test_os_exit_is_a_crash_not_a_grader_failure(sandbox):
    sandbox.exec("import os\ndef die():\n    os._exit(3)", "cell")
    with pytest.raises(SandboxCrashed):
        sandbox.call("die", (), {})


def test_sys_exit_is_reported_as_an_error(sandbox):
    sandbox.exec("import sys\ndef leave():\n    sys.exit(0)", "cell")
    reply = sandbox.call("leave", (), {})
    assert not reply.ok and reply.error.type_name == "SystemExit"


def test_output_is_captured_and_bounded(sandbox):
    reply = sandbox.exec("for i in range(10**5):\n    print('spam spam spam')", "cell")
    assert reply.ok and len(reply.stdout) < 25_000 and "dropped" in reply.stdout


def test_memory_bombs_fail_inside_the_sandbox(sandbox):
    reply = sandbox.exec("x = bytearray(8 * 1024**3)", "cell")
    assert not reply.ok and reply.error.type_name == "MemoryError"


def test_a_result_that_is_not_data_is_an_error_not_an_object(sandbox):
    sandbox.exec("class Liar:\n    def __eq__(self, other):\n        return True\ndef f():\n    return Liar()", "c")
    reply = sandbox.call("f", (), {})
    assert not reply.ok and reply.error.type_name == "UnsupportedResult"


def test_ipython_magics_do_not_break_a_cell(sandbox):
    assert sandbox.exec("%matplotlib inline\n!pip list\nx = 1", "cell").ok
    assert sandbox.describe(["x", "y"]) == {"x": "value", "y": "missing"}


# -- OS-level isolation (root on Linux; skipped elsewhere) ---------------------
from autograder import REPO  # noqa: E402
from autograder.sandbox import default_isolation, probe_isolation  # noqa: E402

ISOLATION = default_isolation()
needs_isolation = pytest.mark.skipif(
    bool(probe_isolation(ISOLATION)), reason=f"no OS-level isolation here: {probe_isolation(ISOLATION)}"
)


@pytest.fixture
def confined():
    with Sandbox(FAST, ISOLATION) as sb:
        yield sb


@needs_isolation
def test_a_confined_submission_cannot_read_the_course_or_the_reference(confined):
    for path in (REPO / "solutions" / "reference.py", REPO / "autograder" / "hidden.py", REPO / "README.md"):
        reply = confined.exec(f"open({str(path)!r}).read()", "steal")
        assert not reply.ok and reply.error.type_name in {"FileNotFoundError", "PermissionError"}, path


@needs_isolation
def test_a_confined_submission_runs_unprivileged_without_network(confined):
    reply = confined.exec("import os\nassert os.getuid() != 0 and os.geteuid() != 0", "uid")
    assert reply.ok, reply.error
    reply = confined.exec("import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=1)", "net")
    assert not reply.ok and reply.error.type_name in {"OSError", "ConnectionRefusedError", "TimeoutError"}


@needs_isolation
def test_processes_that_detach_do_not_outlive_grading():
    import subprocess

    with Sandbox(FAST, ISOLATION) as sb:
        code = "import os, subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        code += "if os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(600)\n"
        assert sb.exec(code, "detach").ok
        uid = sb.uid
    ps = subprocess.run(["ps", "-eo", "uid="], capture_output=True, text=True).stdout.split()
    assert str(uid) not in ps, "a process of the submission survived"


@needs_isolation
def test_a_fork_bomb_hits_the_process_limit(confined):
    reply = confined.exec("import os\nfor _ in range(500):\n    if os.fork() == 0:\n        os._exit(0)", "bomb")
    assert not reply.ok and reply.error.type_name == "BlockingIOError"


def test_warm_sandboxes_forked_by_the_zygote_behave_like_fresh_ones():
    from autograder.sandbox import shared_zygote

    zygote = shared_zygote()
    assert zygote is not None
    pids = set()
    for isolation in (None, ISOLATION if not probe_isolation(ISOLATION) else None):
        with Sandbox(FAST, isolation, zygote) as sb:
            assert sb.exec("import numpy as np\nx = np.arange(3)", "cell").ok
            assert sb.describe(["x"]) == {"x": "value"}
            sb.exec("def spin():\n    while True:\n        pass", "cell")
            with pytest.raises(SandboxTimeout):
                sb.call("spin", (), {})
            pids.add(sb.pid)
    assert len(pids) == 2 and zygote.alive(), "each sandbox is a new process; the zygote survives them"


def test_errors_raised_by_lent_functions_keep_their_builtin_type(sandbox):
    sandbox.exec(
        "def outer(x):\n    try:\n        return helper(x)\n"
        "    except IndexError as e:\n        return 'caught ' + str(e)",
        "c",
    )

    def helper(x):
        raise IndexError(f"index {x} is out of range")

    reply = sandbox.call("outer", (5,), {}, overrides={"helper": helper})
    assert reply.ok and reply.value == "caught index 5 is out of range"
