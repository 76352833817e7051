"""Plain-data messages between the grader and a sandbox: no pickle, bounded size.

Only None, bools, numbers, strings, lists, tuples, dicts, numpy arrays and
numpy scalars of numeric/bool/str dtype cross the boundary. Decoding never
runs code, so a hostile sandbox cannot make the grader execute anything or
hand it an object with a forged ``__eq__``. Callables cross as handles that
the other side can call back. This module imports only numpy and the standard
library: the sandbox worker loads it by path.
"""

from __future__ import annotations

import json
import math
import os
import struct

import numpy as np

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_TREE_BYTES = 4 * 1024 * 1024  # the JSON part (arrays travel as raw buffers beside it)
MAX_NODES = 200_000  # values in one message: a small JSON tree cannot decode to gigabytes
MAX_DEPTH = 32
_ALLOWED_KINDS = set("biufcU")
_HEADER = struct.Struct("<QI")  # total payload bytes, json bytes


class CodecError(ValueError):
    """A value cannot be sent, or a message is malformed."""


class Handle:
    """A callable living on the other side, called back through the channel."""

    __slots__ = ("id",)

    def __init__(self, id: int) -> None:
        self.id = id

    def __repr__(self) -> str:
        return f"Handle({self.id})"


def read_exact_blocking(fd: int, n: int) -> bytes:
    """Exactly ``n`` bytes from a blocking pipe (the worker side); EOFError when it closes first."""
    chunks = []
    while n:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            raise EOFError
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def write_all_blocking(fd: int, data: bytes) -> None:
    """All of ``data`` to a blocking pipe (the worker side)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def encode(obj, callables: list | None = None) -> bytes:
    """Serialise ``obj``; callables are appended to ``callables`` and sent as handles."""
    buffers: list[bytes] = []

    def enc(x, depth):
        if depth > MAX_DEPTH:
            raise CodecError("value nested too deeply")
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, int) and not isinstance(x, np.generic):
            return x if abs(x) < 2**53 else {"$int": str(x)}
        if isinstance(x, float) and not isinstance(x, np.generic):
            return x if math.isfinite(x) else {"$float": repr(x)}
        if isinstance(x, (np.ndarray, np.generic)):
            arr = np.asarray(x)
            if arr.dtype.kind not in _ALLOWED_KINDS or arr.dtype.fields is not None:
                raise CodecError(f"arrays of dtype {arr.dtype} are not supported")
            data = np.ascontiguousarray(arr).tobytes()
            buffers.append(data)
            node = {"$nd": len(buffers) - 1, "dtype": arr.dtype.str, "shape": list(arr.shape)}
            if isinstance(x, np.generic):
                node["scalar"] = True
            return node
        if isinstance(x, complex):
            return {"$complex": [enc(x.real, depth), enc(x.imag, depth)]}
        if isinstance(x, tuple):
            return {"$tuple": [enc(v, depth + 1) for v in x]}
        if isinstance(x, list):
            return [enc(v, depth + 1) for v in x]
        if isinstance(x, dict):
            return {"$dict": [[enc(k, depth + 1), enc(v, depth + 1)] for k, v in x.items()]}
        if isinstance(x, Handle):
            return {"$handle": x.id}
        if callable(x) and callables is not None:
            callables.append(x)
            return {"$handle": len(callables) - 1}
        raise CodecError(f"values of type {type(x).__name__} are not supported")

    tree = json.dumps(enc(obj, 0), allow_nan=False).encode()
    lengths = [len(b) for b in buffers]
    head = json.dumps(lengths).encode()
    payload = struct.pack("<I", len(head)) + head + tree + b"".join(buffers)
    return _HEADER.pack(len(payload), len(tree)) + payload


def decode(message: bytes, make_handle=Handle, max_nodes: int = MAX_NODES):
    """Rebuild a value from ``encode``'s bytes (header excluded: see ``read_message``).

    Bounded: the JSON tree may hold at most MAX_TREE_BYTES and ``max_nodes`` values, and
    every array's size must match its buffer, so a small message never becomes a huge
    object in memory.
    """
    try:
        (head_len,) = struct.unpack_from("<I", message, 0)
        if head_len > MAX_TREE_BYTES:
            raise CodecError("buffer table too large")
        lengths = json.loads(message[4 : 4 + head_len])
        if not isinstance(lengths, list) or not all(isinstance(n, int) and n >= 0 for n in lengths):
            raise CodecError("bad buffer table")
        if len(lengths) > max_nodes:
            raise CodecError(f"more than {max_nodes} arrays in one message")
        rest = message[4 + head_len :]
        tree_len = len(rest) - sum(lengths)
        if tree_len < 0:
            raise CodecError("truncated message")
        if tree_len > MAX_TREE_BYTES:
            raise CodecError(f"the message's structure is larger than {MAX_TREE_BYTES // 1024**2} MB")
        tree = json.loads(rest[:tree_len])
        offsets, pos = [], tree_len
        for n in lengths:
            offsets.append((pos, pos + n))
            pos += n
    except (struct.error, ValueError, UnicodeDecodeError) as e:
        raise CodecError(f"malformed message: {e}") from None

    nodes = 0

    def dec(x, depth):
        nonlocal nodes
        nodes += 1
        if nodes > max_nodes:
            raise CodecError(f"more than {max_nodes} values in one message")
        if depth > MAX_DEPTH:
            raise CodecError("value nested too deeply")
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        if isinstance(x, list):
            return [dec(v, depth + 1) for v in x]
        if not isinstance(x, dict) or len(x) == 0:
            raise CodecError("malformed value")
        if "$nd" in x:
            dtype = np.dtype(str(x["dtype"]))
            if dtype.kind not in _ALLOWED_KINDS or dtype.fields is not None:
                raise CodecError(f"dtype {dtype} not allowed")
            shape = tuple(int(n) for n in x["shape"])
            if any(n < 0 for n in shape):
                raise CodecError("negative dimension")
            start, stop = offsets[int(x["$nd"])]
            if math.prod(shape) * dtype.itemsize != stop - start:
                raise CodecError("array size does not match its data")
            arr = np.frombuffer(rest, dtype=dtype, count=math.prod(shape), offset=start).reshape(shape).copy()
            return arr[()] if x.get("scalar") else arr
        if "$tuple" in x:
            return tuple(dec(v, depth + 1) for v in x["$tuple"])
        if "$dict" in x:
            return {_hashable(dec(k, depth + 1)): dec(v, depth + 1) for k, v in x["$dict"]}
        if "$int" in x:
            digits = str(x["$int"])
            if len(digits) > 400:
                raise CodecError("integer too large")
            return int(digits)
        if "$float" in x:
            return float(x["$float"])
        if "$complex" in x:
            re_, im = x["$complex"]
            return complex(dec(re_, depth + 1), dec(im, depth + 1))
        if "$handle" in x:
            return make_handle(int(x["$handle"]))
        raise CodecError("unknown value tag")

    try:
        return dec(tree, 0)
    except (TypeError, KeyError, IndexError, ValueError, OverflowError) as e:
        if isinstance(e, CodecError):
            raise
        raise CodecError(f"malformed value: {e}") from None


def _hashable(k):
    if isinstance(k, (list, dict, np.ndarray)):
        raise CodecError("unhashable dict key")
    return k


def read_message(read_exact, limit: int = MAX_MESSAGE_BYTES) -> bytes:
    """Read one framed message with ``read_exact(n)``; refuse oversized ones."""
    total, _ = _HEADER.unpack(read_exact(_HEADER.size))
    if total > limit:
        raise CodecError(f"message of {total} bytes exceeds the limit of {limit}")
    return read_exact(total)
