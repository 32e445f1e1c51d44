"""Assertions for course tests, with messages written for students.

Order of checks (as in CMU 11-785): type, then shape, then dtype, then
finiteness, then values. A value mismatch reports the input shapes, how many
entries differ, the largest error and where, and whether the result matches a
known wrong variant (a `Mistake`), with a hint for it.

A known mistake is named only when it explains *every* checked case: a test
that checks several cases collects them in a `Cases` and decides at the end.
A mistake a case does not list is taken to predict the correct answer there
(it cannot show on that input). Otherwise the message stays neutral
(expected vs got), so a student is never told a diagnosis that is false.

Failures are raised as `CheckFailed` (an AssertionError) carrying the named
mistake's id and a cause key, which the reports use to group findings.

In hidden tests (`reveal()` is False) messages keep shapes, counts, locations
and mistake names but leave out input and expected values: those are secrets.
All text comes from the message catalogue (grader/i18n) in the course's language.
"""
from __future__ import annotations

import contextlib
import contextvars
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence, Union

import numpy as np

from grader.trusted.errors import StudentException
from grader.i18n import t

_REVEAL: contextvars.ContextVar[bool] = contextvars.ContextVar("reveal", default=True)


def reveal() -> bool:
    """Whether the current test may show values (public) or not (hidden)."""
    return _REVEAL.get()


def set_reveal(value: bool) -> contextvars.Token:
    return _REVEAL.set(value)


def reset_reveal(token: contextvars.Token) -> None:
    _REVEAL.reset(token)


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: if the student's result matches it in every case, say so.

    ``id`` is the stable name reports count (mistakes.csv); it defaults to a
    slug of ``name``. ``name`` and ``hint`` are shown to the student.
    """

    name: str
    value: Any
    hint: str = ""
    id: str = ""

    @property
    def key(self) -> str:
        return self.id or slug(self.name)


def slug(text: str) -> str:
    """A stable identifier from a free text ('U instead of U^T' -> 'u_instead_of_u_t')."""
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")[:60]


class CheckFailed(AssertionError):
    """A failed check: the student-facing message plus what the reports group by.

    ``mistake``: the named mistake (explains every checked case) or None.
    ``cause``: a key for "the same finding" (the mistake id, or the kind of
    failure such as "shape"), so reports can collapse repeated cases.
    """

    def __init__(self, message: str, *, mistake: Mistake | None = None, cause: str = "",
                 failed: int = 1, total: int = 1) -> None:
        super().__init__(message)
        self.mistake = mistake
        self.cause = mistake.key if mistake is not None else cause
        self.failed, self.total = failed, total

    @property
    def mistake_id(self) -> str:
        return self.mistake.key if self.mistake is not None else ""


def fmt_num(value: Any) -> str:
    """A number as a student reads it: 0.25, 3, 1e-09, nan (never np.float64(...))."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, (complex, np.complexfloating)):
        return f"{complex(value):.6g}"
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=6, threshold=24, separator=", ")
    if isinstance(value, tuple):
        return "(" + ", ".join(fmt_num(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return str(value)


def describe(value: Any) -> str:
    """Short description of a returned value for messages ('ndarray (2, 3) float64')."""
    if isinstance(value, np.ndarray):
        return t("describe.ndarray", shape=fmt_num(tuple(value.shape)), dtype=value.dtype)
    if isinstance(value, np.generic):
        return t("describe.numpy_scalar", type=type(value).__name__)
    type_name = getattr(value, "type_name", None)
    if type_name is not None:
        return t("describe.object", type=type_name)
    return t("describe.value", type=type(value).__name__)


def _fmt_inputs(inputs: dict[str, Any] | None) -> str:
    if not inputs:
        return ""
    parts = []
    for key, val in inputs.items():
        arr = np.asarray(val) if isinstance(val, (np.ndarray, list, tuple)) else None
        if arr is not None and arr.ndim > 0:
            parts.append(f"{key} {fmt_num(tuple(arr.shape))}")
        else:
            parts.append(f"{key}={fmt_num(val)}" if reveal() else str(key))
    return t("check.for_inputs", inputs=", ".join(parts))


def _what(what: str | None) -> str:
    return what if what is not None else t("check.the_result")


def expect_array(value: Any, *, shape: Sequence[int] | None = None, what: str | None = None,
                 dtypes: Sequence[str] = ("float64",), inputs: dict[str, Any] | None = None,
                 allow_nonfinite: bool = False) -> np.ndarray:
    """Check type, shape, dtype and finiteness of a returned array; return it writable."""
    what = _what(what)
    ctx = _fmt_inputs(inputs)
    if not isinstance(value, np.ndarray):
        expected = (t("check.an_array_of_shape", shape=fmt_num(tuple(shape))) if shape is not None
                    else t("check.an_array"))
        hint = t("check.convert_hint") if isinstance(value, (list, tuple)) else ""
        raise CheckFailed(t("check.not_array", what=what, ctx=ctx, got=describe(value), expected=expected,
                            hint=hint), cause="type")
    if shape is not None and tuple(value.shape) != tuple(shape):
        msg = t("check.wrong_shape", what=what, ctx=ctx, got=fmt_num(tuple(value.shape)),
                expected=fmt_num(tuple(int(s) for s in shape)))
        if sorted(value.shape) == sorted(shape) and value.ndim == len(shape):
            msg += t("check.shape_swapped")
        elif value.size == int(np.prod(shape)):
            msg += t("check.shape_reshape")
        raise CheckFailed(msg, cause="shape")
    if dtypes and value.dtype.name not in dtypes:
        raise CheckFailed(t("check.wrong_dtype", what=what, ctx=ctx, got=value.dtype,
                            expected=" / ".join(dtypes)), cause="dtype")
    if not allow_nonfinite and value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
        bad = np.argwhere(~np.isfinite(value))
        raise CheckFailed(t("check.nonfinite", what=what, ctx=ctx, n=len(bad),
                            index=fmt_num(tuple(int(i) for i in bad[0]))), cause="nonfinite")
    return np.array(value)


def _close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    if actual.shape != expected.shape:
        return np.zeros(expected.shape, dtype=bool)
    with np.errstate(all="ignore"):
        return np.isclose(actual, expected, rtol=rtol, atol=atol)


def _matches(actual: np.ndarray, prediction: Any, rtol: float, atol: float) -> bool:
    want = np.asarray(prediction)
    return (want.shape == actual.shape and actual.dtype.kind in "biufc" and want.dtype.kind in "biufc"
            and bool(_close(actual, want, rtol, atol).all()))


def _value_message(what: str, actual: np.ndarray, expected: np.ndarray, close: np.ndarray,
                   inputs: dict[str, Any] | None, rtol: float, atol: float) -> str:
    """Which entries differ, and (public tests only) the largest error with got/expected."""
    with np.errstate(all="ignore"):
        err = (np.abs(actual.astype(np.complex128) - expected) if actual.dtype.kind == "c" or
               expected.dtype.kind == "c" else np.abs(actual.astype(np.float64) - expected.astype(np.float64)))
    err = np.where(np.isnan(err), np.inf, err)
    worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    where = fmt_num(tuple(int(i) for i in worst))
    lines = [t("check.values_wrong", what=what, ctx=_fmt_inputs(inputs), n=int((~close).sum()), size=close.size,
               rtol=fmt_num(rtol), atol=fmt_num(atol))]
    if reveal():
        lines.append(t("check.largest_error", err=f"{float(err[worst]):.3g}", index=where,
                       got=fmt_num(actual[worst]), expected=fmt_num(expected[worst])))
    else:
        lines.append(t("check.largest_error_at", index=where))
    return "\n".join(lines)


#: Named mistakes of one case: the list, or a function that makes it. A function is called only when
#: some case of the check failed, so a right answer never pays for computing the wrong ones.
MistakeList = Union[Sequence[Mistake], Callable[[], Sequence[Mistake]]]


@dataclass
class _Case:
    ok: bool
    message: str
    label: str
    mistakes: MistakeList = ()   # the predictions to compare ``actual`` with, or ``explained_by`` of fail()
    actual: np.ndarray | None = None   # None: no values (fail(): the listed mistakes explain it as a whole)
    tolerance: tuple[float, float] = (1e-6, 1e-8)

    def predictions_met(self) -> tuple[list[Mistake], dict[str, bool]]:
        """The case's mistakes and, per mistake id, whether its prediction is what the student gave."""
        mistakes = list(self.mistakes() if callable(self.mistakes) else self.mistakes)
        if self.actual is None:
            return mistakes, {m.key: True for m in mistakes}
        return mistakes, {m.key: _matches(self.actual, m.value, *self.tolerance) for m in mistakes}


@dataclass
class Cases:
    """Several cases of one check, judged together.

    Use ``close(...)`` (or ``scalar(...)``) per case, then ``verdict()``
    (automatic when used as a context manager). The verdict names a mistake
    only when its prediction matches the student's answer in every case.
    A case's ``mistakes`` may be a function returning them: it runs only
    when a case failed (most answers are right, and predicting every named
    mistake costs as much as the oracle itself).
    """

    what: str | None = None
    cases: list[_Case] = field(default_factory=list)

    def close(self, actual: Any, expected: Any, *, inputs: dict[str, Any] | None = None, rtol: float = 1e-6,
              atol: float = 1e-8, mistakes: MistakeList = (), label: str = "") -> bool:
        """One array case: ``actual`` (already type/shape-checked) against ``expected``."""
        actual, expected = np.asarray(actual), np.asarray(expected)
        close = _close(actual, expected, rtol, atol)
        ok = actual.shape == expected.shape and bool(close.all())
        message = "" if ok else (
            _value_message(_what(self.what), actual, expected, close, inputs, rtol, atol)
            if actual.shape == expected.shape else
            t("check.wrong_shape", what=_what(self.what), ctx=_fmt_inputs(inputs),
              got=fmt_num(tuple(actual.shape)), expected=fmt_num(tuple(expected.shape))))
        return self._add(ok, message, label, actual, expected, mistakes, rtol, atol)

    def scalar(self, actual: Any, expected: float, *, rtol: float = 1e-6, atol: float = 1e-8,
               mistakes: MistakeList = (), label: str = "") -> bool:
        """One scalar case (type-checked with expect_float first)."""
        got = expect_float(actual, what=self.what)
        ok = bool(np.isclose(got, expected, rtol=rtol, atol=atol))
        what = _what(self.what)
        message = "" if ok else (t("check.float_wrong", what=what, got=fmt_num(got), expected=fmt_num(expected))
                                 if reveal() else t("check.float_wrong_hidden", what=what))
        return self._add(ok, message, label, np.float64(got), np.float64(expected), mistakes, rtol, atol)

    def fail(self, message: str, label: str = "", explained_by: Sequence[Mistake] = ()) -> None:
        """A case that failed without values to compare (wrong type, an exception).

        It explains no mistake but those in ``explained_by``: a mistake that shows as values on
        some inputs and as an exception on others is named only if it predicts both.
        """
        self.cases.append(_Case(False, message, label, tuple(explained_by)))

    def passed(self, label: str = "") -> None:
        """A case judged right by a check that is not a plain comparison."""
        self.cases.append(_Case(True, "", label))

    def _add(self, ok: bool, message: str, label: str, actual: np.ndarray, expected: np.ndarray,
             mistakes: MistakeList, rtol: float, atol: float) -> bool:
        # a copy: the test may go on to change its array before the verdict compares it with the mistakes
        kept = actual.copy() if mistakes else None
        self.cases.append(_Case(ok, message, label, mistakes, kept, (rtol, atol)))
        return ok

    def explaining_mistake(self) -> Mistake | None:
        """The first mistake (in the order the cases list them) whose prediction matches every case.

        A mistake a case does not list predicts the correct answer there.
        """
        named: dict[str, Mistake] = {}
        met = []
        for case in self.cases:
            mistakes, case_met = case.predictions_met()
            for m in mistakes:
                named.setdefault(m.key, m)
            met.append(case_met)
        for key, mistake in named.items():
            if all(case_met.get(key, case.ok) for case, case_met in zip(self.cases, met)):
                return mistake
        return None

    def verdict(self) -> None:
        failed = [c for c in self.cases if not c.ok]
        if not failed:
            return
        mistake = self.explaining_mistake()
        total = len(self.cases)
        lines = []
        if total > 1:
            lines.append(t("check.cases_wrong", what=_what(self.what), n=len(failed), total=total))
            lines.append(t("check.first_case", label=f" ({failed[0].label})" if failed[0].label else ""))
        lines.append(failed[0].message)
        if mistake is not None:
            key = "check.mistake_all_cases" if total > 1 else "check.mistake"
            lines.append(t(key, name=mistake.name) + (f" {mistake.hint}" if mistake.hint else ""))
        raise CheckFailed("\n".join(lines), mistake=mistake, cause="values", failed=len(failed), total=total)

    def __enter__(self) -> "Cases":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.verdict()


def assert_close(actual: np.ndarray, expected: np.ndarray, *, what: str | None = None,
                 inputs: dict[str, Any] | None = None, rtol: float = 1e-6, atol: float = 1e-8,
                 mistakes: MistakeList = ()) -> None:
    """Values within tolerance, else a message with the largest error and a matched mistake."""
    cases = Cases(what)
    cases.close(actual, expected, inputs=inputs, rtol=rtol, atol=atol, mistakes=mistakes)
    cases.verdict()


def match_mistake(actual: Any, mistakes: Sequence[Mistake], rtol: float = 1e-6, atol: float = 1e-8) -> Mistake | None:
    """The first known wrong variant that ``actual`` equals, if any (one case only)."""
    got = np.asarray(actual)
    for m in mistakes:
        if _matches(got, m.value, rtol, atol):
            return m
    return None


def expect_float(value: Any, *, what: str | None = None) -> float:
    """A real number: Python float/int, NumPy scalar or 0-d array. Returns a float."""
    what = _what(what)
    if isinstance(value, (bool, np.bool_)):
        raise CheckFailed(t("check.bool_not_float", what=what), cause="type")
    if isinstance(value, (int, np.integer)):
        try:
            return float(value)
        except OverflowError:
            raise CheckFailed(t("check.not_float", what=what, got=describe(value)), cause="type") from None
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.shape in ((), (1,)) and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    raise CheckFailed(t("check.not_float", what=what, got=describe(value)), cause="type")


def assert_float_close(actual: Any, expected: float, *, what: str | None = None, rtol: float = 1e-6,
                       atol: float = 1e-8, mistakes: MistakeList = ()) -> None:
    """Scalar version of assert_close (type checked first)."""
    cases = Cases(what)
    cases.scalar(actual, expected, rtol=rtol, atol=atol, mistakes=mistakes)
    cases.verdict()


@contextlib.contextmanager
def raises(type_name: str, what: str | None = None) -> Iterator[None]:
    """Expect the student's code to raise ``type_name`` (e.g. "ValueError")."""
    what = what if what is not None else t("check.the_call")
    try:
        yield
    except StudentException as exc:
        if exc.type != type_name:
            raise CheckFailed(t("check.raised_other", what=what, got=exc.type, message=exc.message,
                                expected=type_name), cause="exception") from None
        return
    raise CheckFailed(t("check.not_raised", what=what, expected=type_name), cause="exception")
