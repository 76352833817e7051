"""Helpers for the hidden tests: the reference solutions and checks whose failures teach.

Hidden tests run in the grader's own process (see ``runner``), never in the
student's, so these comparisons use the grader's numpy on plain arrays that
came out of the sandbox as data.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import pickle
import warnings
from functools import cache
from types import CodeType, ModuleType

import numpy as np

from autograder import SOLUTIONS


class StudentWarning(UserWarning):
    """A warning raised inside the student's code, re-emitted in the grader."""


@cache
def _reference() -> ModuleType:
    path = SOLUTIONS / "reference.py"
    spec = importlib.util.spec_from_file_location("course_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Ref:
    """``ref.softmax`` etc.: the reference implementation, loaded on first use."""

    def __getattr__(self, name: str):
        return getattr(_reference(), name)


ref = _Ref()


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


_COURSE_SIDE: dict[tuple[str, str], object] = {}


def _fingerprint(code: CodeType) -> str:
    """What a function's code does, the same for every copy of it (nested code included, no addresses)."""
    parts = [code.co_code.hex(), repr(code.co_names)]
    parts += [_fingerprint(c) if isinstance(c, CodeType) else repr(c) for c in code.co_consts]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def course_side(fn, *args):
    """``fn(*args)``, computed once per grading process for the same code and arguments.

    For costly values that depend on the course's own inputs only (finite differences of
    the reference on a model drawn from ``rng``), never on anything a student returned:
    every notebook graded by the same worker gets a copy of the first result."""
    key = (_fingerprint(fn.__code__), hashlib.sha256(pickle.dumps(args)).hexdigest())
    if key not in _COURSE_SIDE:
        _COURSE_SIDE[key] = fn(*args)
    return copy.deepcopy(_COURSE_SIDE[key])


def _fmt_shape(shape) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def as_array(actual, what: str) -> np.ndarray:
    """``actual`` as a numeric array, or a failure that says what came back instead."""
    if isinstance(actual, (list, tuple)) and not isinstance(actual, np.ndarray):
        try:
            arr = np.asarray(actual)
        except ValueError:
            arr = None
        if arr is None or arr.dtype == object:
            raise AssertionError(f"{what} should be a numpy array, but it is a {type(actual).__name__}.")
        return arr
    if actual is None:
        raise AssertionError(f"{what} is None: did you forget a `return`?")
    if isinstance(actual, (bool, int, float, complex, np.generic, np.ndarray)):
        return np.asarray(actual)
    raise AssertionError(f"{what} should be a numpy array, but it is a {type(actual).__name__}.")


def check_shape(actual, shape: tuple, what: str, hint: str = "") -> np.ndarray:
    arr = as_array(actual, what)
    if arr.shape != tuple(shape):
        msg = f"{what} has shape {_fmt_shape(arr.shape)}, expected {_fmt_shape(shape)}."
        raise AssertionError(msg + (f" {hint}" if hint else ""))
    return arr


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.allclose(a.astype(np.complex128), b.astype(np.complex128), rtol=rtol, atol=atol, equal_nan=True))


def _number(x, other=None) -> str:
    """One entry as a student reads it (0.212374, not np.float64(0.2123742175631865)), with as many
    digits as it takes to tell it from ``other``."""
    x = np.asarray(x)
    if x.ndim or x.dtype.kind not in "biufc":
        return repr(x.tolist())
    if x.dtype.kind in "biu":
        return str(int(x))
    for digits in (6, 9, 12, 17):
        text = f"{x.item():.{digits}g}"
        if other is None or text != f"{np.asarray(other).item():.{digits}g}":
            break
    return text


def check_close(
    actual,
    expected,
    what: str,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    mistakes: dict[str, object] | None = None,
    hint: str = "",
) -> np.ndarray:
    """Fail unless ``actual`` matches ``expected``; name the mistake when one fits.

    ``mistakes`` maps a misconception ("softmax over the wrong axis?") to what a
    solution with that misconception would return; the first that matches the
    student's result becomes the message.
    """
    expected = np.asarray(expected)
    arr = as_array(actual, what)
    for message, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong)
        if not _close(wrong, expected, rtol, atol) and _close(arr, wrong, rtol, atol):
            raise AssertionError(f"{what} is not right: {message}")
    if arr.shape != expected.shape:
        if arr.size == expected.size:
            extra = " Same number of entries, different arrangement: a reshape or a transpose gone wrong?"
        else:
            extra = ""
        raise AssertionError(
            f"{what} has shape {_fmt_shape(arr.shape)}, expected {_fmt_shape(expected.shape)}.{extra}"
            + (f" {hint}" if hint else "")
        )
    if arr.dtype.kind not in "biufc":
        raise AssertionError(f"{what} should hold numbers, but its dtype is {arr.dtype}.")
    finite = np.isfinite(expected)
    bad_nan = np.isnan(arr) & ~np.isnan(expected)
    if bad_nan.any():
        where = tuple(int(i) for i in np.argwhere(bad_nan)[0])
        raise AssertionError(
            f"{what} contains NaN (first at index {where}) where the expected value is {_number(expected[where])}."
            + (f" {hint}" if hint else " Look for 0/0 or inf - inf in your computation.")
        )
    if _close(arr, expected, rtol, atol):
        return arr
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(finite, np.abs(arr.astype(np.complex128) - expected), 0).real
        mismatched = ~np.isclose(arr.astype(np.complex128), expected, rtol=rtol, atol=atol, equal_nan=True)
    where = tuple(int(i) for i in np.argwhere(mismatched)[0])
    got, want = arr[where], expected[where]
    share = mismatched.mean()
    raise AssertionError(
        f"{what} does not match the expected values: {mismatched.sum()} of {mismatched.size} entries "
        f"({share:.0%}) differ; the first is at index {where}: got {_number(got, want)}, expected {_number(want, got)}"
        f" (largest difference {np.max(diff):.3g})." + (f" {hint}" if hint else "")
    )


def check(condition, message: str) -> None:
    """``assert`` with a message that survives ``python -O``."""
    if not condition:
        raise AssertionError(message)


def check_raises(exc_type: type, fn, *args, what: str = "", **kwargs) -> None:
    """Fail unless ``fn(*args, **kwargs)`` raises ``exc_type``."""
    try:
        fn(*args, **kwargs)
    except exc_type:
        return
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"{what or 'the call'} should raise {exc_type.__name__}, but it raised {e!r}.") from None
    raise AssertionError(f"{what or 'the call'} should raise {exc_type.__name__}, but it returned normally.")


def without_warnings(fn, *args, what: str = "", hint: str | None = None, **kwargs):
    """Call ``fn`` and fail if it emits a warning (e.g. numpy's 'invalid value encountered')."""
    if hint is None:
        hint = "A fully-masked row should give zeros without dividing 0 by 0 or computing inf - inf."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    if caught:
        raise AssertionError(f"{what or 'the call'} emitted a warning: {caught[0].message}. {hint}".strip())
    return result


def quiz(answer, correct: str, explanation: str) -> None:
    """Grade a multiple-choice answer; the explanation is shown either way (once)."""
    if answer is None:
        raise AssertionError("No answer given yet. " + explanation)
    given = str(answer).strip().lower()
    if given != correct:
        raise AssertionError(f"Not quite ({given!r} is not the best answer). {explanation}")
    print(explanation)
