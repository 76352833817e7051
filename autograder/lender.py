"""Lend the course's reference functions to a student's code, safely.

While one function is graded, the graded functions its reference calls are served
by the reference (one mistake is charged once). The student's code calls them from
its sandbox; the grader forwards each call here: a separate process with a memory
limit, answered only until the calling test's deadline (a lent ``generate`` asked
for 10⁹ tokens is stopped; a lent ``one_hot`` asked for a gigabyte fails inside the
lender, not in the grader). One lender per grading process, restarted after a kill.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from autograder import SOLUTIONS, codec

WORKER = Path(__file__).with_name("lender_worker.py")
MEMORY_BYTES = 2 * 1024**3
START_SECONDS = 60.0


class LenderTimeout(Exception):
    """The lent function did not answer before the calling test's deadline."""


class LentReference:
    """Stands for the course's ``name`` in a student's code: calls go to the lender."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<the course's {self.name}>"

    def __call__(self, *args, **kwargs):  # only used outside a sandbox (tests); no deadline
        return shared_lender().call(self.name, args, kwargs, time.monotonic() + 3600)


def write_all(fd: int, data: bytes, deadline: float) -> None:
    """Write everything to a non-blocking pipe, waiting for room only until ``deadline``."""
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([], [fd], [], left)[1]:
            raise TimeoutError("the other side stopped reading")
        try:
            view = view[os.write(fd, view[: 1 << 20]) :]
        except BlockingIOError:
            continue


def read_exact(fd: int, n: int, deadline: float) -> bytes:
    chunks = []
    while n:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError("no answer in time")
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            raise EOFError
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


class Lender:
    def __init__(self, reference: Path = SOLUTIONS / "reference.py", memory_bytes: int = MEMORY_BYTES) -> None:
        self.reference, self.memory_bytes = reference, memory_bytes
        self.proc: subprocess.Popen | None = None

    def _start(self) -> None:
        to_r, self._w = os.pipe()
        self._r, from_w = os.pipe()
        os.set_blocking(self._w, False)
        cmd = [sys.executable, "-I", str(WORKER), str(to_r), str(from_w), str(self.reference), str(self.memory_bytes)]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        try:
            self.proc = subprocess.Popen(
                cmd,
                pass_fds=(to_r, from_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(to_r)
            os.close(from_w)
        try:
            ready = read_exact(self._r, 1, time.monotonic() + START_SECONDS)
        except (TimeoutError, EOFError, OSError):
            ready = b""
        if ready != b"R":
            self.close()
            raise RuntimeError("the course's functions could not be loaded to lend them")

    def start(self) -> None:
        """Start the process now (before any test's clock runs), unless it is running."""
        if self.proc is None or self.proc.poll() is not None:
            self.close()
            self._start()

    def call(self, name: str, args, kwargs, deadline: float):
        """The reference ``name(*args, **kwargs)``; its exceptions come back as builtin types."""
        self.start()
        try:
            write_all(self._w, codec.encode({"name": name, "args": list(args), "kwargs": dict(kwargs)}), deadline)
            reply = codec.decode(codec.read_message(lambda n: read_exact(self._r, n, deadline)))
        except TimeoutError:
            self.close()
            raise LenderTimeout(f"the course's {name} did not finish in time") from None
        except (EOFError, OSError, codec.CodecError):
            self.close()
            raise RuntimeError(f"the course's {name} could not run on these arguments") from None
        if reply.get("ok"):
            return reply.get("value")
        error = reply.get("error") or {}
        import builtins

        cls = getattr(builtins, str(error.get("type", "")), None)
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            cls = RuntimeError
        raise cls(str(error.get("message", "")))

    def close(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            for fd in (self._r, self._w):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.proc = None


_lenders: dict[int, Lender] = {}  # one per process: a forked grading worker starts its own


def shared_lender() -> Lender:
    lender = _lenders.get(os.getpid())
    if lender is None:
        lender = _lenders[os.getpid()] = Lender()
    return lender
