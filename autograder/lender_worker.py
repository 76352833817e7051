"""The trusted side of a lent call: runs one course reference function at a time.

Started by ``lender.Lender`` as ``python -I lender_worker.py RFD WFD REFERENCE MEMORY``.
The code it runs is the course's own, but its arguments come from a student's
sandbox, so it runs here, under a memory limit, and the grader waits for it only
until the calling test's deadline. Results larger than MAX_RESULT_BYTES are refused.
"""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)
import codec  # noqa: E402

sys.path.remove(_here)

MAX_RESULT_BYTES = 64 * 1024 * 1024
PR_SET_PDEATHSIG = 1


def main():
    import ctypes
    import importlib.util
    import resource
    import warnings

    rfd, wfd, reference, memory = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    parent = os.getppid()
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)  # the grader went away: so do we
    if os.getppid() != parent:
        os._exit(1)
    spec = importlib.util.spec_from_file_location("course_reference", reference)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    warnings.simplefilter("ignore")
    codec.write_all_blocking(wfd, b"R")  # ready: the grader does not charge the start-up to any test
    while True:
        try:
            msg = codec.decode(codec.read_message(lambda n: codec.read_exact_blocking(rfd, n)))
        except EOFError:
            return
        try:
            fn = getattr(ref, str(msg["name"]))
            value = fn(*msg.get("args", []), **msg.get("kwargs", {}))
            data = codec.encode({"ok": True, "value": value})
            if len(data) > MAX_RESULT_BYTES:
                raise MemoryError(
                    f"the course's {msg['name']} was asked for a result of {len(data) // 1024**2} MB, "
                    f"more than the {MAX_RESULT_BYTES // 1024**2} MB a lent function may return"
                )
        except Exception as e:  # noqa: BLE001 - re-raised, same builtin type, in the student's code
            data = codec.encode({"ok": False, "error": {"type": type(e).__name__, "message": str(e)[:2000]}})
        codec.write_all_blocking(wfd, data)


if __name__ == "__main__":
    main()
