"""The untrusted side of a sandbox: runs student code and answers the grader.

Started by ``sandbox.Sandbox`` as ``python -I sandbox_worker.py RFD WFD``. It
imports nothing from the grader except ``codec`` (loaded by path), executes the
cells it is sent in one namespace, and serves calls of the functions they
defined. Nothing secret ever enters this process: reference functions stay in
the grader and are reached through callbacks.
"""

import io
import os
import re
import sys
import traceback
import warnings

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)
import codec  # noqa: E402

sys.path.remove(_here)

MAX_OUTPUT = 20_000
MAX_WARNING_CHARS = 300
ALLOWED_IMPORTS = {"numpy", "math", "re", "collections", "itertools", "functools"}
TIMEIT_OPTIONS = re.compile(r"^(\s*-(?:[nrp]\s*\d+|[qoc]))+\s*")


class BoundedText(io.StringIO):
    """A stdout replacement that keeps the first MAX_OUTPUT characters."""

    def __init__(self):
        super().__init__()
        self.dropped = 0

    def write(self, s):
        room = MAX_OUTPUT - self.tell()
        if room <= 0:
            self.dropped += len(s)
            return len(s)
        if len(s) > room:
            self.dropped += len(s) - room
        super().write(s[:room])
        return len(s)

    def text(self):
        out = self.getvalue()
        if self.dropped:
            out += f"\n[... {self.dropped} more characters of output dropped]"
        return out


class Channel:
    def __init__(self, rfd, wfd):
        self.rfd, self.wfd = rfd, wfd

    def _read_exact(self, n):
        return codec.read_exact_blocking(self.rfd, n)

    def recv(self):
        return codec.decode(codec.read_message(self._read_exact), make_handle=self._stub)

    def send(self, obj):
        codec.write_all_blocking(self.wfd, codec.encode(obj))

    def _stub(self, handle_id):
        channel = self

        def callback(*args, **kwargs):
            channel.send({"op": "callback", "handle": handle_id, "args": list(args), "kwargs": kwargs})
            reply = channel.recv()
            if reply.get("ok"):
                return reply["value"]
            error = reply.get("error") or {}
            import builtins

            cls = getattr(builtins, str(error.get("type", "")), None)
            if not (isinstance(cls, type) and issubclass(cls, Exception)):
                cls = RuntimeError
            raise cls(str(error.get("message", "the function lent by the grader failed")))

        callback.__name__ = f"provided_{handle_id}"
        return callback


def _error(exc, skip_frames=1):
    tb = traceback.TracebackException.from_exception(exc)
    frames = [f for f in tb.stack if f.filename.startswith("<")]  # student cells only
    tb.stack = traceback.StackSummary.from_list(frames)
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "traceback": "".join(tb.format())[-6000:],
    }


class Shell:
    """``get_ipython()`` for cells that IPython's transformer rewrote (the grader does that):
    magics and shell escapes do nothing, except that %time/%timeit/%%time/%%capture still run
    their code once, as they do in Jupyter."""

    def __init__(self, ns):
        self.ns = ns

    def run_line_magic(self, name, line, _stack_depth=1):
        if name in ("time", "timeit") and line.strip():
            exec(compile(TIMEIT_OPTIONS.sub("", line), "<magic>", "exec"), self.ns)
        return None

    def run_cell_magic(self, name, line, cell):
        if name in ("time", "timeit", "capture", "prun"):
            exec(compile(cell, "<magic>", "exec"), self.ns)
        return None

    def system(self, cmd):
        return None

    def getoutput(self, cmd):
        return []

    def magic(self, line):
        return None


class ImportLog:
    """Records modules that the student's own code imports, however it does it (``exec``
    included): ``builtins.__import__`` is wrapped, and an import counts as the student's
    when it is made from the cells' namespace (or from no module at all)."""

    def __init__(self, ns):
        import builtins

        self.seen = set()
        self.original = builtins.__import__
        log = self

        def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
            theirs = globals is ns or not isinstance(globals, dict) or "__name__" not in globals
            if level == 0 and theirs and isinstance(name, str):
                top = name.split(".")[0]
                if top not in ALLOWED_IMPORTS:
                    log.seen.add(top[:60])
            return log.original(name, globals, locals, fromlist, level)

        builtins.__import__ = recording_import

    def take(self):
        new, self.seen = sorted(self.seen), set()
        return new[:20]


def _snapshot(value, depth=0):
    """A copy of the arrays (and containers of arrays) a student function receives."""
    import numpy as np

    if depth > 8:
        return None
    if isinstance(value, np.ndarray):
        return ("array", value.copy())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, len(value), [_snapshot(v, depth + 1) for v in value])
    if isinstance(value, dict):
        return ("dict", len(value), {k: _snapshot(v, depth + 1) for k, v in value.items()})
    return None


def _changed(before, value, where):
    """Where ``value`` no longer matches its snapshot, e.g. 'x' or 'params["W_q"]', or None."""
    import numpy as np

    if before is None:
        return None
    kind = before[0]
    if kind == "array":
        old = before[1]
        same = (
            isinstance(value, np.ndarray)
            and value.shape == old.shape
            and value.dtype == old.dtype
            and np.array_equal(value, old, equal_nan=value.dtype.kind in "fc")
        )
        return None if same else where
    if kind in ("list", "tuple"):
        if not isinstance(value, (list, tuple)) or len(value) != before[1]:
            return where
        for i, (b, v) in enumerate(zip(before[2], value, strict=True)):
            hit = _changed(b, v, f"{where}[{i}]")
            if hit:
                return hit
        return None
    if kind == "dict":
        if not isinstance(value, dict) or len(value) != before[1]:
            return where
        for k, b in before[2].items():
            if k not in value:
                return where
            hit = _changed(b, value[k], f"{where}[{k!r}]")
            if hit:
                return hit
    return None


def _argument_names(fn, args, kwargs):
    import inspect

    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
        names = {}
        for name, value in bound.arguments.items():
            names[id(value)] = name
        return [names.get(id(a), f"argument {i + 1}") for i, a in enumerate(args)]
    except (TypeError, ValueError):
        return [f"argument {i + 1}" for i in range(len(args))]


class ArgumentModified(Exception):
    """The student's function wrote into an array it was given."""


def _kind(ns, name):
    if name not in ns:
        return "missing"
    return "function" if callable(ns[name]) else "value"


def serve(channel):
    ns = {"__name__": "__main__", "__builtins__": __builtins__}
    shell = Shell(ns)
    ns["get_ipython"] = lambda: shell
    imports = ImportLog(ns)
    cells = 0
    while True:
        try:
            msg = channel.recv()
        except EOFError:
            return
        op = msg.get("op")
        if op == "exit":
            return
        out = BoundedText()
        reply = {"op": "done", "ok": True}
        saved = {}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                sys.stdout = sys.stderr = out
                try:
                    if op == "exec":
                        cells += 1
                        code = compile(msg["source"], f"<{msg.get('name', f'cell {cells}')}>", "exec")
                        exec(code, ns)
                    elif op == "describe":
                        reply["value"] = {n: _kind(ns, n) for n in msg["names"]}
                    elif op == "get":
                        reply["value"] = ns[msg["name"]]
                    elif op == "call":
                        for name, stub in msg.get("overrides", {}).items():
                            saved[name] = ns.get(name, _MISSING)
                            ns[name] = stub
                        fn = ns[msg["name"]]
                        args, kwargs = msg.get("args", []), msg.get("kwargs", {})
                        before = (_snapshot(list(args)), _snapshot(kwargs))
                        reply["value"] = fn(*args, **kwargs)
                        names = _argument_names(fn, args, kwargs)
                        for i, (b, a) in enumerate(zip(before[0][2], args, strict=True)):
                            hit = _changed(b, a, names[i])
                            if hit:
                                raise ArgumentModified(hit)
                        for k, b in before[1][2].items():
                            hit = _changed(b, kwargs.get(k), k)
                            if hit:
                                raise ArgumentModified(hit)
                    else:
                        raise ValueError(f"unknown op {op!r}")
                finally:
                    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                    for name, old in saved.items():
                        if old is _MISSING:
                            ns.pop(name, None)
                        else:
                            ns[name] = old
            reply["warnings"] = [f"{w.category.__name__}: {w.message}"[:MAX_WARNING_CHARS] for w in caught[:20]]
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything, even SystemExit
            reply = {"op": "done", "ok": False, "error": _error(exc)}
        reply["stdout"] = out.text()
        reply["imports"] = imports.take()
        try:
            channel.send(reply)
        except codec.CodecError as exc:
            channel.send(
                {
                    "op": "done",
                    "ok": False,
                    "stdout": out.text(),
                    "error": {
                        "type": "UnsupportedResult",
                        "message": f"the result could not be sent back to the grader: {exc}",
                        "traceback": "",
                    },
                }
            )


_MISSING = object()


# -- confinement (Linux, as root) -------------------------------------------
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = (
    0x00020000,
    0x04000000,
    0x08000000,
    0x20000000,
    0x40000000,
)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = (
    1,
    2,
    4,
    32,
    4096,
    8192,
    16384,
    1 << 18,
)
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE = 1, 38, 4


def _libc():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def check(ret, what):
        if ret != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    return libc, check


def _mount(libc, check, src, target, fstype, flags, data=None):
    check(
        libc.mount(src and src.encode(), target.encode(), fstype and fstype.encode(), flags, data and data.encode()),
        f"mount {target}",
    )


def _under(path, root):
    return path == root or path.startswith(root.rstrip("/") + "/")


def confine(cfg):
    """Hide the grader's files, cut the network, and drop to a uid of our own.

    Runs before any student code, as root: new mount/pid/net/ipc/uts namespaces;
    tmpfs over every folder in cfg["hide"] (the course repo, the submissions, the
    output, /tmp, home folders) with cfg["keep"] (the Python installation) bound
    back read-only; then this process forks, and the child, PID 1 of the new
    namespace, becomes cfg["uid"]. When it dies every process it started dies.
    Returns normally only in that child; raises OSError when not permitted.
    """
    libc, check = _libc()
    check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    _mount(libc, check, None, "/", None, MS_REC | MS_PRIVATE)
    stash = "/mnt" if os.path.isdir("/mnt") else "/dev"
    _mount(libc, check, "tmpfs", stash, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=700")
    hide = [h for h in cfg["hide"] if os.path.isdir(h)]
    hide = [h for h in hide if not any(o != h and _under(h, o) for o in hide)]  # outermost only
    keep = [k for k in cfg["keep"] if os.path.isdir(k) and any(_under(k, h) for h in hide)]
    for i, k in enumerate(keep):
        os.mkdir(f"{stash}/k{i}")
        _mount(libc, check, k, f"{stash}/k{i}", None, MS_BIND | MS_REC)
    for h in sorted(set(hide)):
        _mount(libc, check, "tmpfs", h, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=755")
    for i, k in enumerate(keep):
        os.makedirs(k, exist_ok=True)
        _mount(libc, check, f"{stash}/k{i}", k, None, MS_MOVE)
        _mount(libc, check, None, k, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC)
    # Places every user may write to (/dev/shm, /run/lock, ...): a fresh, small tmpfs of this
    # sandbox's own, gone with its namespace, so nothing written there outlives grading or
    # reaches the next student.
    for place in sorted(set(cfg.get("scratch", ()))):
        if os.path.isdir(place) and not os.path.islink(place) and not any(_under(place, h) for h in hide):
            _mount(libc, check, "tmpfs", place, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=1777")
    # Files to hide (a class .zip outside the hidden folders): an empty, unreadable file over each.
    files = [f for f in cfg["hide"] if os.path.isfile(f) and not any(_under(f, h) for h in hide)]
    if files:
        empty = f"{stash}/empty"
        with open(empty, "w"):
            pass
        os.chmod(empty, 0)
        for f in files:
            _mount(libc, check, empty, f, None, MS_BIND)
    home = cfg["home"]
    os.makedirs(home, exist_ok=True)
    os.chown(home, cfg["uid"], cfg["uid"])
    pid = os.fork()
    if pid:  # the outer process only waits: its death takes the namespace down with it
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    die_with_parent(libc)
    try:
        _mount(libc, check, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV)
    except OSError:
        pass
    os.setgroups([])
    os.setgid(cfg["uid"])
    os.setuid(cfg["uid"])
    die_with_parent(libc)  # changing credentials cleared the parent-death signal: set it again
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    os.chdir(home)


WARM_MODULES = (
    "collections",
    "functools",
    "itertools",
    "math",
    "re",
    "numpy",
    "numpy.fft",
    "numpy.linalg",
    "numpy.random",
    "traceback",
    "warnings",
    "matplotlib.pyplot",  # the course's setup cells import it; 0.5 s saved per notebook
)


def warm_up():
    """Import what every submission needs, once, before any fork (and before folders are hidden)."""
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # a course without matplotlib still grades


def start_sandbox(rfd, wfd, cfg):
    """Become a sandbox: limits, confinement if asked, then serve the grader until told to stop."""
    import resource

    if cfg.get("die_with_parent"):
        die_with_parent()
    for name, value in cfg.get("rlimits", {}).items():
        resource.setrlimit(getattr(resource, name), (value, value))
    for key, value in cfg.get("env", {}).items():
        os.environ[key] = value
    if cfg.get("uid") is not None:
        try:
            confine(cfg)
        except OSError as e:
            sys.stderr.write(f"confinement failed: {e}\n")
            os._exit(70)
    elif cfg.get("home"):
        os.chdir(cfg["home"])
    serve(Channel(rfd, wfd))


def die_with_parent(libc=None):
    """SIGKILL this process when its parent dies (checked once more after the call: the
    parent may have died just before)."""
    parent = os.getppid()
    if libc is None:
        libc, _ = _libc()
    libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def zygote(control_fd):
    """Fork a fresh sandbox for every request on the control socket (warm: numpy is loaded).

    Requests are JSON lines. {"op": "spawn", ...config} comes with the sandbox's two pipe
    ends attached (SCM_RIGHTS) and is answered with the new sandbox's pid. Children are
    not reaped until {"op": "reap", "pid": p} arrives (after the grader killed the
    sandbox's process group), so a pid cannot be reused while the grader may still
    signal it.
    """
    import json
    import socket

    libc, _ = _libc()
    die_with_parent(libc)  # the grader went away: so do we
    control = socket.socket(fileno=control_fd)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(control, 1 << 16, 2)
        except OSError:
            os._exit(0)
        if not msg:
            os._exit(0)
        cfg = json.loads(msg)
        if cfg.get("op") == "reap":
            try:
                os.waitpid(int(cfg["pid"]), 0)
            except ChildProcessError:
                pass
            control.sendall(b'{"ok": true}\n')
            continue
        pid = os.fork()
        if pid == 0:
            control.close()
            die_with_parent(libc)  # the zygote went away (the grader was killed): so do we
            os.setsid()
            start_sandbox(fds[0], fds[1], cfg)
            os._exit(0)
        for fd in fds:
            os.close(fd)
        control.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def main():
    import json

    os.environ.setdefault("MPLBACKEND", "Agg")
    warm_up()
    if sys.argv[1] == "--zygote":
        zygote(int(sys.argv[2]))
    else:
        cfg = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
        start_sandbox(int(sys.argv[1]), int(sys.argv[2]), cfg)


if __name__ == "__main__":
    main()
