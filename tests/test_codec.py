"""The grader/sandbox boundary carries plain data only."""

import pickle
import struct

import numpy as np
import pytest

from autograder import codec


def roundtrip(value):
    data = codec.encode(value)
    return codec.decode(data[codec._HEADER.size :])


def test_arrays_scalars_and_containers_survive_a_roundtrip():
    value = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "t": (1, 2.5, None, True, "x"),
        "l": [np.bool_(True), np.float64(3.0), np.int64(7)],
        "inf": float("-inf"),
        "big": 2**70,
        "strings": np.array(["a", "bc"]),
    }
    back = roundtrip(value)
    assert back["a"].dtype == np.float32 and np.array_equal(back["a"], value["a"])
    assert back["t"] == value["t"] and isinstance(back["t"], tuple)
    assert isinstance(back["l"][1], np.float64) and back["l"][2] == 7
    assert back["inf"] == float("-inf") and back["big"] == 2**70
    assert list(back["strings"]) == ["a", "bc"]


def test_decoded_arrays_are_plain_writable_ndarrays():
    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return True

    back = roundtrip(np.zeros(3).view(Sneaky))
    assert type(back) is np.ndarray and back.flags.writeable


@pytest.mark.parametrize("value", [np.array([object()]), object(), {1, 2}, np.zeros(2, dtype=[("a", "f4")])])
def test_objects_that_could_carry_code_are_refused(value):
    with pytest.raises(codec.CodecError):
        codec.encode(value)


def test_a_pickle_is_not_a_message():
    with pytest.raises(codec.CodecError):
        codec.decode(pickle.dumps(np.zeros(3)))


def test_an_array_whose_data_does_not_match_its_shape_is_refused():
    data = bytearray(codec.encode(np.zeros(4)))
    payload = bytes(data[codec._HEADER.size :]).replace(b'"shape": [4]', b'"shape": [9]')
    with pytest.raises(codec.CodecError, match="size"):
        codec.decode(payload)


def test_oversized_messages_are_refused_before_reading_them():
    header = struct.pack("<QI", 10**12, 0)
    with pytest.raises(codec.CodecError, match="exceeds"):
        codec.read_message(lambda n: header[:n], limit=1000)


def test_callables_cross_as_handles():
    lent = []
    data = codec.encode({"f": len}, lent)
    back = codec.decode(data[codec._HEADER.size :])
    assert lent == [len] and isinstance(back["f"], codec.Handle) and back["f"].id == 0
