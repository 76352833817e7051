"""Run untrusted student code in a separate, limited process, behind one small interface.

``Sandbox`` is the only way the grader touches student code: ``exec`` a cell,
``describe``/``get`` names, ``call`` a function. Values cross as plain data
(``codec``); functions the grader lends (reference dependencies, test
callbacks) stay in the grader and are called back. A call that overruns its
time kills the process; ``Session`` restarts it and replays the program.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import codec
from autograder.lender import LenderTimeout, LentReference, read_exact, shared_lender, write_all

WORKER = Path(__file__).with_name("sandbox_worker.py")
MAX_STDOUT_CHARS = 20_200  # the worker keeps 20,000 and notes what it dropped
MAX_WARNINGS = 20
MAX_WARNING_CHARS = 300
MAX_HELPER_ARGUMENT_BYTES = 8 * 1024**2  # a test's own callback runs in the grader: small arguments only
SCRATCH_PLACES = ("/dev/shm", "/dev/mqueue", "/run", "/run/lock", "/var/lock", "/var/tmp", "/var/crash")


@dataclass(frozen=True)
class Limits:
    """Per-submission resource limits."""

    cell_seconds: float = 20.0
    call_seconds: float = 10.0
    notebook_seconds: float = 120.0
    memory_bytes: int = 3 * 1024**3
    file_bytes: int = 16 * 1024**2
    cpu_seconds: int = 300


@dataclass(frozen=True)
class Isolation:
    """OS-level confinement (root only): folders to hide, and a uid of the sandbox's own."""

    hide: tuple[str, ...] = ()  # folders (replaced by an empty tmpfs) and files (by an empty file)
    keep: tuple[str, ...] = ()
    scratch: tuple[str, ...] = ()  # world-writable places: a fresh tmpfs of the sandbox's own
    nproc: int = 64


def default_isolation(extra_hide: tuple[str, ...] = ()) -> Isolation | None:
    """Hide the course, the grader's data and temp folders; keep the Python installation."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return None
    from autograder import REPO

    hide = {str(REPO), tempfile.gettempdir(), "/tmp", "/var/tmp", "/root", "/home", "/work", "/srv", "/opt"}
    hide |= {str(Path(p).resolve()) for p in extra_hide}
    keep = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    keep |= {str(Path(p).resolve()) for p in sys.path if p and Path(p).is_dir() and "site-packages" in p}
    return Isolation(hide=tuple(sorted(hide)), keep=tuple(sorted(keep)), scratch=world_writable_places())


def world_writable_places(depth: int = 3) -> tuple[str, ...]:
    """Folders any user may write to (/dev/shm, /run/lock, ...), down to ``depth`` levels."""
    found = {p for p in SCRATCH_PLACES if os.path.isdir(p) and not os.path.islink(p)}
    frontier = ["/"]
    for _ in range(depth):
        nxt = []
        for d in frontier:
            try:
                entries = list(os.scandir(d))
            except OSError:
                continue
            for e in entries:
                if e.path in ("/proc", "/sys") or not e.is_dir(follow_symlinks=False):
                    continue
                try:
                    if e.stat(follow_symlinks=False).st_mode & 0o002:
                        found.add(e.path)
                        continue
                except OSError:
                    continue
                nxt.append(e.path)
        frontier = nxt
    return tuple(sorted(found))


def probe_isolation(isolation: Isolation | None) -> str:
    """'' when confined sandboxes work here, else the reason they do not."""
    if isolation is None:
        return "OS-level isolation needs root on Linux"
    try:
        with Sandbox(Limits(cell_seconds=10), isolation) as sb:
            reply = sb.exec("import os\nassert os.getuid() != 0", "probe")
            return "" if reply.ok else f"the confined process still runs as root ({reply.error})"
    except SandboxError as e:
        return f"confinement failed ({e})"


_uid_counter = 0
UID_BASE = 200_000


def owner_of_uid(uid: int) -> int:
    """The (low 16 bits of the) pid of the grading process that made a sandbox uid."""
    return (uid - UID_BASE) >> 4


def clean_leftovers() -> int:
    """Kill the sandboxes and remove the temporary folders of earlier grading runs that were
    killed (SIGKILL leaves no time to clean up). Only owners that are gone are cleaned:
    another grading run on this machine keeps its sandboxes. Returns what was cleaned."""
    cleaned = 0
    alive = {int(e) & 0xFFFF for e in os.listdir("/proc") if e.isdigit()} if os.path.isdir("/proc") else set()
    if os.geteuid() == 0 and os.path.isdir("/proc"):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as f:
                    uid = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
            except (OSError, StopIteration, ValueError):
                continue
            if UID_BASE <= uid < UID_BASE + (1 << 20) and owner_of_uid(uid) not in alive:
                cleaned += kill_uid(uid)
    tmp = Path(tempfile.gettempdir())
    for d in tmp.glob("grade-*-*"):
        pid = d.name.split("-")[1]
        if d.is_dir() and pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)
            cleaned += 1
    return cleaned


def _next_uid() -> int:
    """A uid no other live sandbox uses: it scopes the process limit and the final kill."""
    global _uid_counter  # noqa: PLW0603 - a counter per grader process
    _uid_counter += 1
    return UID_BASE + ((os.getpid() & 0xFFFF) << 4) + (_uid_counter & 0xF)


def kill_uid(uid: int) -> int:
    """SIGKILL every process owned by ``uid``; return how many were found."""
    found = 0
    for _ in range(3):
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            if int(line.split()[1]) == uid:
                                pids.append(int(entry))
                            break
            except OSError:
                continue
        if not pids:
            break
        found += len(pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
    return found


PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> bool:
    """Orphans of our sandboxes are re-parented to us, so we can reap them (no zombies)."""
    try:
        import ctypes

        return ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap_orphans() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _array_bytes(value, depth: int = 0) -> int:
    import numpy as np

    if depth > 40:
        return 0
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (list, tuple)):
        return sum(_array_bytes(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return sum(_array_bytes(v, depth + 1) for v in value.values())
    if isinstance(value, str):
        return len(value)
    return 0


def as_python(source: str) -> str:
    """A cell as Jupyter runs it: IPython's own transformer turns magics, shell escapes and
    ``obj?`` into ``get_ipython()`` calls (the sandbox's stub runs %time/%timeit bodies and
    ignores the rest). A regex would break code such as a continuation line that starts with
    ``!=``."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython comes with nbgrader
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - leave the cell as it is: the sandbox reports its SyntaxError
        return source


class SandboxError(Exception):
    """The sandbox could not answer: it timed out, died or broke the protocol."""


class SandboxTimeout(SandboxError):
    pass


class SandboxCrashed(SandboxError):
    pass


class StudentError(Exception):
    """An exception raised by student code, re-created on the grader side."""

    def __init__(self, type_name: str, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.type_name, self.message, self.traceback = type_name, message, traceback

    def __str__(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name


_ERROR_CLASSES: dict[str, type] = {}


def student_error(info: dict) -> StudentError:
    """A StudentError that is also an instance of the matching builtin exception,
    so tests can ``except ValueError`` when the spec asks for one."""
    name = str(info.get("type", "Exception"))
    base = getattr(builtins, name, None)
    if not (isinstance(base, type) and issubclass(base, Exception)):
        base = None
    cls = StudentError
    if base is not None:
        cls = _ERROR_CLASSES.get(name)
        if cls is None:
            cls = _ERROR_CLASSES[name] = type(f"Student{name}", (StudentError, base), {})
    return cls(name, str(info.get("message", "")), str(info.get("traceback", "")))


@dataclass
class Reply:
    ok: bool
    value: object = None
    stdout: str = ""
    warnings: list[str] = field(default_factory=list)
    error: StudentError | None = None
    imports: list[str] = field(default_factory=list)  # modules outside the allowed ones, imported at run time


def _rlimits(limits: Limits, isolation: Isolation | None) -> dict[str, int]:
    rl = {
        "RLIMIT_AS": limits.memory_bytes,
        "RLIMIT_FSIZE": limits.file_bytes,
        "RLIMIT_CORE": 0,
        "RLIMIT_CPU": limits.cpu_seconds,
    }
    if isolation is not None:
        rl["RLIMIT_NPROC"] = isolation.nproc
    return rl


def _env(home: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "TMPDIR": home,
        "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


class Zygote:
    """A warm process (numpy imported) that forks a fresh sandbox per request: no
    interpreter start-up per submission. One per grading process."""

    def __init__(self) -> None:
        self.home = tempfile.mkdtemp(prefix="zygote-")
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", str(WORKER), "--zygote", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.home,
                env=_env(self.home),
                start_new_session=True,
            )
        finally:
            theirs.close()
        self.sock = ours
        self.replies = ours.makefile("rb")

    def _ask(self, request: dict, fds: list[int] = ()) -> dict:
        socket.send_fds(self.sock, [json.dumps(request).encode()], list(fds))
        line = self.replies.readline()
        if not line:
            raise SandboxCrashed("the zygote process has exited")
        return json.loads(line)

    def spawn(self, cfg: dict, rfd: int, wfd: int) -> int:
        return int(self._ask({"op": "spawn", **cfg}, [rfd, wfd])["pid"])

    def reap(self, pid: int) -> None:
        self._ask({"op": "reap", "pid": pid})

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        self.sock.close()
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.home, ignore_errors=True)


_zygotes: dict[int, Zygote] = {}  # one per process: a forked grading worker must start its own


def shared_zygote() -> Zygote | None:
    """This process's zygote, started on first use; None where fork servers are unavailable."""
    if not hasattr(socket, "send_fds"):
        return None
    z = _zygotes.get(os.getpid())
    if z is None or not z.alive():
        try:
            z = _zygotes[os.getpid()] = Zygote()
        except OSError:
            return None
    return z


def close_shared_helpers() -> None:
    """Stop this process's zygote and lender (they are started again on demand)."""
    from autograder.lender import _lenders

    z = _zygotes.pop(os.getpid(), None)
    if z is not None:
        z.close()
    lender = _lenders.pop(os.getpid(), None)
    if lender is not None:
        lender.close()


class Sandbox:
    """One student's code in its own process. Not thread-safe; one call at a time."""

    def __init__(
        self, limits: Limits = Limits(), isolation: Isolation | None = None, zygote: Zygote | None = None
    ) -> None:
        self.limits, self.isolation, self.zygote = limits, isolation, zygote
        self.home = tempfile.mkdtemp(prefix="sandbox-")
        self.uid = _next_uid() if isolation is not None else None
        if isolation is not None:
            _become_subreaper()
        cfg: dict = {"rlimits": _rlimits(limits, isolation), "home": self.home, "die_with_parent": True}
        if isolation is not None:
            cfg.update(
                uid=self.uid,
                hide=list(isolation.hide),
                keep=list(isolation.keep),
                scratch=list(isolation.scratch),
                home="/tmp/home",
            )
        cfg["env"] = {"HOME": cfg["home"], "TMPDIR": cfg["home"]}
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()
        self.proc = None
        try:
            if zygote is not None:
                self.pid = zygote.spawn(cfg, to_child_r, from_child_w)
            else:
                self.proc = subprocess.Popen(
                    [sys.executable, "-I", str(WORKER), str(to_child_r), str(from_child_w), json.dumps(cfg)],
                    pass_fds=(to_child_r, from_child_w),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=self.home,
                    env=_env(cfg["home"]),
                    start_new_session=True,
                )
                self.pid = self.proc.pid
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        os.set_blocking(self._w, False)  # every write waits for room only until the deadline
        self.alive = True
        self._lent: list = []
        self.budget_deadline: float | None = None  # the notebook's whole budget (set by the runner)

    # -- transport -------------------------------------------------------
    def _write(self, data: bytes, deadline: float) -> None:
        try:
            write_all(self._w, data, deadline)
        except TimeoutError:
            self.kill()
            raise SandboxTimeout("time limit exceeded (the student's process stopped reading)") from None
        except OSError:
            self.kill()
            raise SandboxCrashed("the student's process has exited") from None

    def _send(self, obj, deadline: float) -> None:
        callables: list = []
        data = codec.encode(obj, callables)
        self._lent = callables
        self._write(data, deadline)

    def _read_exact(self, n: int, deadline: float) -> bytes:
        try:
            return read_exact(self._r, n, deadline)
        except TimeoutError:
            self.kill()
            raise SandboxTimeout("time limit exceeded") from None
        except (EOFError, OSError):
            self.kill()
            raise SandboxCrashed("the student's process has exited") from None

    def _recv(self, deadline: float):
        try:
            msg = codec.read_message(lambda n: self._read_exact(n, deadline))
            value = codec.decode(msg)
        except codec.CodecError as e:
            self.kill()
            raise SandboxCrashed(f"the student's process sent a malformed reply ({e})") from None
        if not isinstance(value, dict):
            self.kill()
            raise SandboxCrashed("the student's process sent a malformed reply")
        return value

    def _deadline(self, seconds: float) -> float:
        deadline = time.monotonic() + seconds
        if self.budget_deadline is not None:
            deadline = min(deadline, self.budget_deadline)
        return deadline

    def _request(self, msg: dict, seconds: float) -> Reply:
        if not self.alive:
            raise SandboxCrashed("the student's process is not running")
        deadline = self._deadline(seconds)
        self._send(msg, deadline)
        lent = self._lent
        while True:
            reply = self._recv(deadline)
            if reply.get("op") == "callback":
                self._answer_callback(reply, lent, deadline)
                continue
            if reply.get("op") != "done":
                self.kill()
                raise SandboxCrashed("the student's process broke the protocol")
            warns = reply.get("warnings", [])
            warns = [str(w)[:MAX_WARNING_CHARS] for w in (warns if isinstance(warns, list) else [])[:MAX_WARNINGS]]
            stdout = str(reply.get("stdout", ""))
            if len(stdout) > MAX_STDOUT_CHARS:
                stdout = stdout[:MAX_STDOUT_CHARS] + "\n[... output cut]"
            imports = reply.get("imports", [])
            imports = [str(m)[:60] for m in (imports if isinstance(imports, list) else [])[:20]]
            out = Reply(ok=bool(reply.get("ok")), stdout=stdout, warnings=warns, imports=imports)
            if out.ok:
                out.value = reply.get("value")
            else:
                out.error = student_error(reply.get("error") or {})
            return out

    def _answer_callback(self, msg: dict, lent: list, deadline: float) -> None:
        """Run a function the grader lent (a course function, or a test's own helper) for the
        student's code, and send back its result; never past the calling request's deadline."""
        try:
            fn = lent[int(msg["handle"])]
            args, kwargs = msg.get("args", []), msg.get("kwargs", {})
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise TypeError("bad callback arguments")
            if isinstance(fn, LentReference):
                value = shared_lender().call(fn.name, args, kwargs, deadline)
            else:
                # A test's own small helper (the f of numerical_gradient): it runs here, in the
                # grader, so it only takes arguments of the size a test would give it.
                size = _array_bytes([args, kwargs])
                if size > MAX_HELPER_ARGUMENT_BYTES:
                    raise ValueError(
                        f"the function you were given was called with {size // 1024**2} MB of arrays; "
                        f"it takes at most {MAX_HELPER_ARGUMENT_BYTES // 1024**2} MB"
                    )
                value = fn(*args, **kwargs)
            answer = {"op": "return", "ok": True, "value": value}
        except LenderTimeout:
            self.kill()
            raise SandboxTimeout("time limit exceeded (in a course function your code called)") from None
        except Exception as e:  # noqa: BLE001 - re-raised, same builtin type, in the sandbox
            answer = {"op": "return", "ok": False, "error": {"type": type(e).__name__, "message": str(e)[:2000]}}
        try:
            data = codec.encode(answer)
        except codec.CodecError as e:
            data = codec.encode({"op": "return", "ok": False, "error": {"type": "TypeError", "message": str(e)}})
        self._write(data, deadline)

    # -- the interface ---------------------------------------------------
    def exec(self, source: str, name: str) -> Reply:
        return self._request({"op": "exec", "source": as_python(source), "name": name}, self.limits.cell_seconds)

    def describe(self, names: list[str]) -> dict[str, str]:
        reply = self._request({"op": "describe", "names": list(names)}, self.limits.call_seconds)
        kinds = reply.value if reply.ok else None
        return {n: str(kinds.get(n, "missing")) for n in names} if isinstance(kinds, dict) else {}

    def get(self, name: str) -> Reply:
        return self._request({"op": "get", "name": name}, self.limits.call_seconds)

    def call(self, name: str, args: tuple, kwargs: dict, overrides: dict | None = None) -> Reply:
        msg = {"op": "call", "name": name, "args": list(args), "kwargs": kwargs, "overrides": overrides or {}}
        return self._request(msg, self.limits.call_seconds)

    def kill(self) -> None:
        """End the student's process and everything it started."""
        if self.alive:
            self.alive = False
            if self.uid is not None:
                kill_uid(self.uid)  # every process of the submission, wherever it moved to
            try:  # safe: the pid stays reserved (alive or a zombie) until it is reaped below
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if self.proc is not None:
                self.proc.wait()
            else:
                try:
                    self.zygote.reap(self.pid)
                except (OSError, SandboxError, ValueError):
                    pass
            if self.uid is not None:
                _reap_orphans()

    def close(self) -> None:
        self.kill()
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
