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

MAGIC = re.compile(r"^(\s*)([%!].*)$", re.MULTILINE)
MAX_OUTPUT = 20_000


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
        chunks = []
        while n:
            b = os.read(self.rfd, min(n, 1 << 20))
            if not b:
                raise EOFError
            chunks.append(b)
            n -= len(b)
        return b"".join(chunks)

    def recv(self):
        return codec.decode(codec.read_message(self._read_exact), make_handle=self._stub)

    def send(self, obj):
        data = codec.encode(obj)
        view = memoryview(data)
        while view:
            view = view[os.write(self.wfd, view) :]

    def _stub(self, handle_id):
        channel = self

        def callback(*args, **kwargs):
            channel.send({"op": "callback", "handle": handle_id, "args": list(args), "kwargs": kwargs})
            reply = channel.recv()
            if reply.get("ok"):
                return reply["value"]
            raise RuntimeError(reply.get("error", "callback failed"))

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


def _kind(ns, name):
    if name not in ns:
        return "missing"
    return "function" if callable(ns[name]) else "value"


def serve(channel):
    ns = {"__name__": "__main__", "__builtins__": __builtins__}
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
                        source = MAGIC.sub(r"\1pass  # \2", msg["source"])
                        code = compile(source, f"<{msg.get('name', f'cell {cells}')}>", "exec")
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
                        reply["value"] = fn(*msg.get("args", []), **msg.get("kwargs", {}))
                    else:
                        raise ValueError(f"unknown op {op!r}")
                finally:
                    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                    for name, old in saved.items():
                        if old is _MISSING:
                            ns.pop(name, None)
                        else:
                            ns[name] = old
            reply["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught][:20]
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything, even SystemExit
            reply = {"op": "done", "ok": False, "error": _error(exc)}
        reply["stdout"] = out.text()
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


def main():
    rfd, wfd = int(sys.argv[1]), int(sys.argv[2])
    os.environ.setdefault("MPLBACKEND", "Agg")
    import numpy  # noqa: F401 - warm import: every submission needs it

    serve(Channel(rfd, wfd))


if __name__ == "__main__":
    main()
