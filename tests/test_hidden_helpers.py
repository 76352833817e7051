"""The hidden tests' helpers: messages that read like numbers, and course-side values computed once."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.hidden import _number, check_close, course_side

CELL = """
def slow_sum(a, scale):
    calls.append(1)
    double = lambda x: 2 * x  # a nested code object: its address must not change the key
    return {"total": double(a).sum() * scale}
"""


def _define(calls):
    ns = {"calls": calls}
    exec(CELL, ns)  # a test cell defines its helpers anew for every notebook
    return ns["slow_sum"]


def test_a_course_side_value_is_computed_once_per_code_and_arguments():
    calls: list = []
    a = np.arange(6.0)
    first = course_side(_define(calls), a, 3)
    again = course_side(_define(calls), a.copy(), 3)  # another notebook, the same cell
    assert first == again == {"total": 90.0} and len(calls) == 1
    again["total"] = -1.0  # each caller gets its own copy
    assert course_side(_define(calls), a, 3) == {"total": 90.0}
    assert course_side(_define(calls), a, 4) == {"total": 120.0} and len(calls) == 2
    assert course_side(_define(calls), a + 1, 3)["total"] == 126.0 and len(calls) == 3


def test_a_mismatch_names_the_numbers_plainly_and_with_enough_digits():
    with pytest.raises(AssertionError) as failure:
        check_close(np.array([0.2123742175631865, 1.0]), np.array([0.2123745, 1.0]), "w", rtol=1e-7, atol=0)
    message = str(failure.value)
    assert "np.float64" not in message
    assert "got 0.212374218, expected 0.2123745" in message
    assert _number(np.int64(3)) == "3" and _number(np.float32(1.5)) == "1.5"
