"""Assertions for course tests, with messages written for students.

Order of checks (as in CMU 11-785): type, then shape, then dtype, then
finiteness, then values. A value mismatch reports the input shapes, how many
entries differ, the largest error and where, and whether the result matches a
known wrong variant (a `Mistake`), with a hint for it.

In hidden tests (`reveal()` is False) messages keep shapes, counts, locations
and mistake names but leave out input and expected values: those are secrets.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from grader.errors import StudentException

_REVEAL: contextvars.ContextVar[bool] = contextvars.ContextVar("reveal", default=True)


def reveal() -> bool:
    """Whether the current test may show values (public) or not (hidden)."""
    return _REVEAL.get()


def set_reveal(value: bool) -> contextvars.Token:
    return _REVEAL.set(value)


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: if the student's result matches it, say so."""

    name: str
    value: Any
    hint: str = ""


def describe(value: Any) -> str:
    """Short description of a returned value for messages ('ndarray (2, 3) float64')."""
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, np.generic):
        return f"NumPy scalar {type(value).__name__}"
    type_name = getattr(value, "type_name", None)
    if type_name is not None:
        return f"an object of type {type_name}"
    return f"{type(value).__name__}"


def _fmt_inputs(inputs: dict[str, Any] | None) -> str:
    if not inputs:
        return ""
    parts = []
    for key, val in inputs.items():
        arr = np.asarray(val) if isinstance(val, (np.ndarray, list, tuple)) else None
        parts.append(f"{key} {arr.shape}" if arr is not None and arr.ndim > 0 else f"{key}={val!r}")
    return " for " + ", ".join(parts)


def expect_array(value: Any, *, shape: Sequence[int] | None = None, what: str = "the result",
                 dtypes: Sequence[str] = ("float64",), inputs: dict[str, Any] | None = None,
                 allow_nonfinite: bool = False) -> np.ndarray:
    """Check type, shape, dtype and finiteness of a returned array; return it writable."""
    ctx = _fmt_inputs(inputs)
    if not isinstance(value, np.ndarray):
        expected = f"a numpy.ndarray of shape {tuple(shape)}" if shape is not None else "a numpy.ndarray"
        hint = " (convert with np.array(...))" if isinstance(value, (list, tuple)) else ""
        raise AssertionError(f"{what}{ctx} returned {describe(value)}, expected {expected}{hint}.")
    if shape is not None and tuple(value.shape) != tuple(shape):
        msg = f"{what}{ctx} returned shape {value.shape}, expected {tuple(shape)}."
        if sorted(value.shape) == sorted(shape) and value.ndim == len(shape):
            msg += " The sizes are right but in another order: are axes swapped or transposed?"
        elif value.size == int(np.prod(shape)):
            msg += " The number of entries is right: a missing or extra reshape?"
        raise AssertionError(msg)
    if dtypes and value.dtype.name not in dtypes:
        raise AssertionError(f"{what}{ctx} returned dtype {value.dtype}, expected {' or '.join(dtypes)}.")
    if not allow_nonfinite and value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
        bad = np.argwhere(~np.isfinite(value))
        raise AssertionError(f"{what}{ctx} contains NaN or inf ({len(bad)} entries, first at index "
                             f"{tuple(int(i) for i in bad[0])}).")
    return np.array(value)


def assert_close(actual: np.ndarray, expected: np.ndarray, *, what: str = "the result",
                 inputs: dict[str, Any] | None = None, rtol: float = 1e-6, atol: float = 1e-8,
                 mistakes: Sequence[Mistake] = ()) -> None:
    """Values within tolerance, else a message with the largest error and a matched mistake."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}{_fmt_inputs(inputs)} has shape {actual.shape}, expected {expected.shape}.")
    close = np.isclose(actual, expected, rtol=rtol, atol=atol)
    if close.all():
        return
    err = np.abs(actual.astype(np.complex128) - expected) if actual.dtype.kind == "c" else \
        np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    err = np.where(np.isnan(err), np.inf, err)
    worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    where = tuple(int(i) for i in worst)
    lines = [f"{what}{_fmt_inputs(inputs)} is wrong: {int((~close).sum())} of {close.size} values differ "
             f"(tolerance rtol={rtol:g}, atol={atol:g})."]
    if reveal():
        lines.append(f"Largest error {float(err[worst]):.3g} at index {where}: got {actual[worst]!r}, "
                     f"expected {expected[worst]!r}.")
    else:
        lines.append(f"The largest error is at index {where}.")
    matched = match_mistake(actual, mistakes, rtol=rtol, atol=atol)
    if matched is not None:
        lines.append(f"Your result matches a known mistake: {matched.name}." + (f" {matched.hint}" if matched.hint else ""))
    raise AssertionError("\n".join(lines))


def match_mistake(actual: Any, mistakes: Sequence[Mistake], rtol: float = 1e-6, atol: float = 1e-8) -> Mistake | None:
    """The first known wrong variant that ``actual`` equals, if any."""
    for m in mistakes:
        want = np.asarray(m.value)
        got = np.asarray(actual)
        if want.shape == got.shape and got.dtype.kind in "biufc" and np.allclose(got, want, rtol=rtol, atol=atol):
            return m
    return None


def expect_float(value: Any, *, what: str = "the result") -> float:
    """A real number: Python float/int, NumPy scalar or 0-d array. Returns a float."""
    if isinstance(value, (bool, np.bool_)):
        raise AssertionError(f"{what} returned a bool, expected a float.")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.shape in ((), (1,)) and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    raise AssertionError(f"{what} returned {describe(value)}, expected a float.")


def assert_float_close(actual: Any, expected: float, *, what: str = "the result", rtol: float = 1e-6,
                       atol: float = 1e-8, mistakes: Sequence[Mistake] = ()) -> None:
    """Scalar version of assert_close (type checked first)."""
    got = expect_float(actual, what=what)
    if np.isclose(got, expected, rtol=rtol, atol=atol):
        return
    msg = f"{what} is wrong"
    msg += f": got {got!r}, expected {expected!r}." if reveal() else "."
    matched = match_mistake(np.float64(got), mistakes, rtol=rtol, atol=atol)
    if matched is not None:
        msg += f"\nYour result matches a known mistake: {matched.name}." + (f" {matched.hint}" if matched.hint else "")
    raise AssertionError(msg)


@contextlib.contextmanager
def raises(type_name: str, what: str = "the call") -> Iterator[None]:
    """Expect the student's code to raise ``type_name`` (e.g. "ValueError")."""
    try:
        yield
    except StudentException as exc:
        if exc.type != type_name:
            raise AssertionError(f"{what} raised {exc.type}: {exc.message}, expected {type_name}.") from None
        return
    raise AssertionError(f"{what} did not raise {type_name}.")
