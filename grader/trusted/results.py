"""The result document (docs/results.md): its types, and how test records become one.

Types: :class:`Result` > :class:`ExerciseResult` > :class:`PartResult` >
:class:`TestResult`, plus :class:`StaffRecord` (the staff-only key). A
submission's or exercise's ``status`` is an :class:`Outcome` (a
:class:`Status` and a reason), a test's a :class:`TestStatus`. The JSON
strings ("graded", "error: <why>", "missing: <why>", "passed", "failed") are
written and read only here: ``Result.to_json`` / ``Result.from_json`` convert
a whole document, and readers of plain dicts ask :func:`is_error`,
:func:`exercise_outcome`, :func:`is_graded` and :func:`passed`.

Points: a part's points are split between its public and hidden tests by
`public_share`, and within each group by the tests' weights. A failed test
scores its partial-credit fraction of its points.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterable, Literal, Mapping

from grader import __version__
from grader.course import Course, Exercise, Part

#: The version of the document's format (``schema``); readers refuse other versions.
SCHEMA = 1

#: Which tests ran: the public ones only (a student's own run) or public and hidden.
Suite = Literal["public", "all"]
SUITES: tuple[Suite, ...] = ("public", "all")


class Status(StrEnum):
    """How far a submission or one of its exercises was graded (the word before the reason)."""

    GRADED = "graded"    # the tests ran (failed tests included)
    ERROR = "error"      # nothing could be graded; the reason says why
    MISSING = "missing"  # an exercise none of whose files was submitted


class TestStatus(StrEnum):
    """The verdict on one test (a failed test may still earn partial credit)."""

    __test__ = False  # not a pytest test class

    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """A status with its reason; in JSON one string: ``graded``, ``error: <why>``, ``missing: <why>``."""

    status: Status
    reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        if self.status is Status.GRADED and self.reason:
            raise ValueError("a graded outcome has no reason")

    @classmethod
    def parse(cls, text: str) -> Outcome:
        """The outcome a status string stands for; ValueError when it names no :class:`Status`.

        Exact for every string :meth:`text` writes. A hand-written ``error:x``
        or bare ``error`` is read too (an error is recognised by its word).
        """
        text = str(text)
        if text == Status.GRADED:
            return cls(Status.GRADED)
        for status in (Status.ERROR, Status.MISSING):
            if text.startswith(status + ": "):
                return cls(status, text[len(status) + 2:])
            if text.startswith(status):
                return cls(status, text[len(status):].lstrip(": "))
        raise ValueError(f"not a result status: {text!r}")

    @classmethod
    def read(cls, text: object) -> Outcome:
        """Like :meth:`parse`, for readers that must not fail on an odd record.

        No status (None, empty: documents before exercises had one) reads as
        graded; a text that names no status is an error whose reason is that text.
        """
        if text is None or text == "":
            return GRADED
        try:
            return cls.parse(str(text))
        except ValueError:
            return cls(Status.ERROR, str(text))

    def text(self) -> str:
        """The JSON string: ``graded``, ``error: <why>`` or ``missing: <why>``."""
        return f"{self.status.value}: {self.reason}" if self.reason else self.status.value

    @property
    def graded(self) -> bool:
        return self.status is Status.GRADED


GRADED = Outcome(Status.GRADED)


@dataclass
class TestRecord:
    """What one test did, before points are assigned."""

    __test__ = False  # not a pytest test class

    id: str
    name: str
    exercise: str
    part: str
    hidden: bool
    weight: float
    status: TestStatus = TestStatus.FAILED
    message: str = ""
    output: str = ""
    fraction: float = 0.0
    duration: float = 0.0
    internal_error: str = ""
    config_error: str = ""
    # Staff only (results.py puts them under the document's "staff" key, which no report renders):
    # in hidden tests what the submission printed and the unredacted message.
    staff_output: str = ""
    staff_message: str = ""
    mistake: str = ""        # id of the named mistake (checks.Mistake.key) that explains the failure
    mistake_name: str = ""   # its student-facing name
    cause: str = ""          # what reports group identical findings by


# -- the document ---------------------------------------------------------------------------------
# Numbers are kept as they were loaded (an int stays an int), so from_json(doc).to_json() writes
# the same bytes; the field order of to_json is the order the JSON has always had.

@dataclass
class TestResult:
    """One test in the document (docs/results.md, ``tests``)."""

    __test__ = False  # not a pytest test class

    id: str
    name: str
    hidden: bool
    score: float
    max_score: float
    status: TestStatus
    message: str = ""
    output: str = ""
    duration: float = 0.0
    mistake: str = ""
    mistake_name: str = ""
    cause: str = ""

    def __post_init__(self) -> None:
        self.status = TestStatus(self.status)

    @property
    def passed(self) -> bool:
        return self.status is TestStatus.PASSED

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "hidden": self.hidden, "score": self.score,
                "max_score": self.max_score, "status": self.status.value, "message": self.message,
                "output": self.output, "duration": self.duration, "mistake": self.mistake,
                "mistake_name": self.mistake_name, "cause": self.cause}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TestResult:
        return cls(id=data["id"], name=data["name"], hidden=data["hidden"], score=data["score"],
                   max_score=data["max_score"], status=TestStatus(data["status"]),
                   message=data.get("message", ""), output=data.get("output", ""),
                   duration=data.get("duration", 0.0), mistake=data.get("mistake", ""),
                   mistake_name=data.get("mistake_name", ""), cause=data.get("cause", ""))


@dataclass
class PartResult:
    """One part of an exercise; a manual part has no tests and is ``pending`` until staff points are merged."""

    id: str
    title: str
    score: float
    max_score: float
    manual: bool = False
    pending: bool = False
    comment: str = ""
    tests: list[TestResult] = field(default_factory=list)
    hidden_max_score: float | None = None  # public runs only: the points the hidden tests carry

    def to_json(self) -> dict[str, Any]:
        data = {"id": self.id, "title": self.title, "score": self.score, "max_score": self.max_score,
                "manual": self.manual, "pending": self.pending, "comment": self.comment,
                "tests": [t.to_json() for t in self.tests]}
        if self.hidden_max_score is not None:
            data["hidden_max_score"] = self.hidden_max_score
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PartResult:
        return cls(id=data["id"], title=data.get("title", ""), score=data["score"], max_score=data["max_score"],
                   manual=data.get("manual", False), pending=data.get("pending", False),
                   comment=data.get("comment", ""),
                   tests=[TestResult.from_json(t) for t in data.get("tests", [])],
                   hidden_max_score=data.get("hidden_max_score"))


@dataclass
class ExerciseResult:
    """One exercise: its outcome (graded, missing, error) and its parts."""

    id: str
    title: str
    status: Outcome
    score: float
    max_score: float
    parts: list[PartResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status.text(), "score": self.score,
                "max_score": self.max_score, "parts": [p.to_json() for p in self.parts]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExerciseResult:
        return cls(id=data["id"], title=data.get("title", ""), status=Outcome.parse(data.get("status", "graded")),
                   score=data["score"], max_score=data["max_score"],
                   parts=[PartResult.from_json(p) for p in data.get("parts", [])])

    def add_up(self) -> None:
        """Score and maximum as the sums over the parts."""
        self.score = _r(sum(p.score for p in self.parts))
        self.max_score = _r(sum(p.max_score for p in self.parts))


@dataclass
class StaffTest:
    """What staff may read of one test: the unredacted message, the output of a hidden test, a traceback."""

    id: str
    hidden: bool
    message: str = ""
    output: str = ""
    internal_error: str = ""

    def to_json(self) -> dict[str, Any]:
        kept = (("message", self.message), ("output", self.output), ("internal_error", self.internal_error))
        return {"id": self.id, "hidden": self.hidden, **{k: v for k, v in kept if v}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StaffTest:
        return cls(id=data["id"], hidden=data["hidden"], message=data.get("message", ""),
                   output=data.get("output", ""), internal_error=data.get("internal_error", ""))


@dataclass
class StaffRecord:
    """The document's ``staff`` key (see :func:`staff_part`); no report renders it."""

    tests: list[StaffTest] = field(default_factory=list)
    internal_errors: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"tests": [t.to_json() for t in self.tests], "internal_errors": self.internal_errors}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StaffRecord:
        return cls(tests=[StaffTest.from_json(t) for t in data.get("tests", [])],
                   internal_errors=data.get("internal_errors", 0))


#: The keys of the document that :class:`Result` holds as fields; any other key (``grade batch``
#: adds ``name``, ``lms`` and ``batch``) is kept in :attr:`Result.extra`, in its order.
_RESULT_KEYS = ("schema", "tool_version", "student", "status", "suite", "created", "files", "isolation",
                "exercises", "staff", "score", "max_score")


@dataclass
class Result:
    """The result document of one submission (docs/results.md)."""

    status: Outcome
    suite: Suite
    exercises: list[ExerciseResult] = field(default_factory=list)
    student_id: str | None = None   # JSON key "student"; None for a local run
    created: str = ""
    files: dict[str, str] = field(default_factory=dict)
    isolation: dict[str, Any] = field(default_factory=dict)
    staff: StaffRecord | None = None   # None only in documents written before it existed
    score: float = 0.0
    max_score: float = 0.0
    tool_version: str = __version__
    schema: int = SCHEMA
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.status.status is Status.ERROR

    def add_up(self) -> Result:
        """Recompute exercise and overall sums; returns self."""
        for ex in self.exercises:
            ex.add_up()
        self.score = _r(sum(e.score for e in self.exercises))
        self.max_score = _r(sum(e.max_score for e in self.exercises))
        return self

    def to_json(self) -> dict[str, Any]:
        """The JSON document, keys in the documented order (extra keys last)."""
        data: dict[str, Any] = {
            "schema": self.schema, "tool_version": self.tool_version, "student": self.student_id,
            "status": self.status.text(), "suite": self.suite, "created": self.created, "files": self.files,
            "isolation": self.isolation, "exercises": [e.to_json() for e in self.exercises],
        }
        if self.staff is not None:
            data["staff"] = self.staff.to_json()
        data["score"] = self.score
        data["max_score"] = self.max_score
        data.update(self.extra)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Result:
        """Read a document; ValueError when it is not one (another schema, a missing key, a bad status)."""
        if not isinstance(data, Mapping):
            raise ValueError("a result document is a JSON object")
        if data.get("schema", SCHEMA) != SCHEMA:
            raise ValueError(f"result schema {data.get('schema')!r} is not {SCHEMA}")
        if data.get("suite") not in SUITES:
            raise ValueError(f"suite must be one of {SUITES}, not {data.get('suite')!r}")
        try:
            staff = data.get("staff")
            return cls(status=Outcome.parse(data["status"]), suite=data["suite"],
                       exercises=[ExerciseResult.from_json(e) for e in data["exercises"]],
                       student_id=data.get("student"), created=data.get("created", ""),
                       files=data.get("files", {}), isolation=data.get("isolation", {}),
                       staff=None if staff is None else StaffRecord.from_json(staff),
                       score=data["score"], max_score=data["max_score"],
                       tool_version=data.get("tool_version", ""), schema=data.get("schema", SCHEMA),
                       extra={k: v for k, v in data.items() if k not in _RESULT_KEYS})
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a result document: {exc!r}") from exc


# -- building a document from test records ---------------------------------------------------------

def group_points(part: Part, hidden: bool, has_hidden: bool) -> float:
    """Points carried by the public (or hidden) tests of ``part``."""
    share = part.public_share if part.public_share is not None else (0.5 if has_hidden else 1.0)
    return part.points * ((1.0 - share) if hidden else share)


def build(course: Course, exercise_ids: Iterable[str], records: list[TestRecord], suite: Suite,
          student_id: str | None = None, files: dict[str, str] | None = None, isolation: dict | None = None,
          exercise_status: Mapping[str, Outcome | str] | None = None) -> dict:
    """The result document (JSON) for one submission; see :func:`build_result`."""
    return build_result(course, exercise_ids, records, suite, student_id, files, isolation,
                        exercise_status).to_json()


def build_result(course: Course, exercise_ids: Iterable[str], records: list[TestRecord], suite: Suite,
                 student_id: str | None = None, files: dict[str, str] | None = None,
                 isolation: dict | None = None, exercise_status: Mapping[str, Outcome | str] | None = None
                 ) -> Result:
    """The result of one submission: points per test, part and exercise.

    ``exercise_status`` gives the exercises that were not graded (e.g.
    ``Outcome(Status.MISSING, "ex41_conv.py not submitted")``; a status
    string is read with :meth:`Outcome.parse`); every other one is graded.
    """
    status = {k: v if isinstance(v, Outcome) else Outcome.parse(v) for k, v in (exercise_status or {}).items()}
    exercises = []
    for ex_id in exercise_ids:
        ex_records = [r for r in records if r.exercise == ex_id]
        exercises.append(_exercise(course.exercise(ex_id), ex_records, suite, status.get(ex_id, GRADED)))
    return Result(status=GRADED, suite=suite, exercises=exercises, student_id=student_id,
                  created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                  files=files or {}, isolation=isolation or {}, staff=staff_record(records)).add_up()


def staff_part(records: list[TestRecord]) -> dict:
    """The ``staff`` key of the document, as JSON (see :func:`staff_record`)."""
    return staff_record(records).to_json()


def staff_record(records: list[TestRecord]) -> StaffRecord:
    """What only staff may read: the unredacted record of hidden tests and the grader's own errors.

    Per test (only those with something to keep): ``message`` (the full
    message where students saw a redacted one), ``output`` (what the
    submission printed in a hidden test) and ``internal_error`` (the
    traceback when the test's own code raised). No report renders this key;
    grading.json (staff only) keeps it, feedback.* and results.json never do.
    """
    tests = [StaffTest(r.id, r.hidden, r.staff_message, r.staff_output, r.internal_error) for r in records
             if r.staff_message or r.staff_output or r.internal_error]
    return StaffRecord(tests, sum(1 for r in records if r.internal_error))


def error_result(course: Course, exercise_ids: Iterable[str], reason: str, student_id: str | None = None) -> dict:
    """The document (JSON) of a submission in which nothing could be graded; see :func:`build_error_result`."""
    return build_error_result(course, exercise_ids, reason, student_id).to_json()


def build_error_result(course: Course, exercise_ids: Iterable[str], reason: str,
                       student_id: str | None = None) -> Result:
    """A submission in which nothing could be graded: 0 of the full points, and why (``error: <reason>``)."""
    outcome = Outcome(Status.ERROR, reason)
    result = build_result(course, list(exercise_ids), [], "all", student_id=student_id)
    result.status = outcome
    for ex in result.exercises:
        ex.status = outcome
        for part in ex.parts:
            part.max_score = course.exercise(ex.id).part(part.id).points
    return result.add_up()


def totals(result: dict) -> dict:
    """Recompute exercise and overall sums of a JSON document in place (after merging manual points, too)."""
    for ex in result["exercises"]:
        ex["score"] = _r(sum(p["score"] for p in ex["parts"]))
        ex["max_score"] = _r(sum(p["max_score"] for p in ex["parts"]))
    result["score"] = _r(sum(e["score"] for e in result["exercises"]))
    result["max_score"] = _r(sum(e["max_score"] for e in result["exercises"]))
    return result


def _exercise(ex: Exercise, records: list[TestRecord], suite: Suite, status: Outcome) -> ExerciseResult:
    parts = []
    for part in ex.parts:
        if part.manual:
            parts.append(PartResult(part.id, part.title, 0.0, part.points, manual=True, pending=True))
            continue
        mine = [r for r in records if r.part == part.id]
        has_hidden = any(r.hidden for r in mine) or (suite == "public" and part.public_share not in (None, 1.0))
        tests, score, max_score = [], 0.0, 0.0
        for hidden in (False, True):
            group = [r for r in mine if r.hidden == hidden]
            total_weight = sum(r.weight for r in group)
            pts = group_points(part, hidden, has_hidden) if group else 0.0
            for r in group:
                status_of_test = TestStatus(r.status)
                t_max = pts * r.weight / total_weight if total_weight else 0.0
                t_score = t_max * (1.0 if status_of_test is TestStatus.PASSED else r.fraction)
                tests.append(TestResult(r.id, r.name, r.hidden, _r(t_score), _r(t_max), status_of_test, r.message,
                                        r.output, round(r.duration, 4), r.mistake, r.mistake_name, r.cause))
                score += t_score
                max_score += t_max
        parts.append(PartResult(part.id, part.title, _r(score), _r(max_score), tests=tests,
                                hidden_max_score=_r(part.points - max_score) if suite == "public" else None))
    return ExerciseResult(ex.id, ex.title, status, 0.0, 0.0, parts)


def _r(x: float) -> float:
    return round(float(x), 4)


# -- reading plain JSON documents (the reports work on dicts) ----------------------------------------

def is_error(result: Mapping[str, Any]) -> bool:
    """True when nothing of the submission could be graded (status ``error: ...``)."""
    return Outcome.read(result.get("status")).status is Status.ERROR


def exercise_outcome(exercise: Mapping[str, Any]) -> Outcome:
    """The outcome of one exercise of a document (:meth:`Outcome.read`: never fails)."""
    return Outcome.read(exercise.get("status"))


def is_graded(exercise: Mapping[str, Any]) -> bool:
    """True when the exercise's tests ran (its status is ``graded``)."""
    return exercise_outcome(exercise).status is Status.GRADED


def passed(test: Mapping[str, Any]) -> bool:
    """True when one test entry of a document passed."""
    return test.get("status") == TestStatus.PASSED


#: The reasons `grade batch` itself gives for an error row (English for staff in grades.csv and
#: grading.json) and what students read instead in feedback, results.json and the Moodle comment.
BATCH_REASONS_DE = {
    "grading took longer than the time limit":
        "die Bewertung dauerte länger als das Zeitlimit für eine Abgabe",
    "the grader failed on this submission":
        "der Grader ist an dieser Abgabe gescheitert (nicht Ihr Fehler); die Tutor*innen prüfen das",
    "the submission could not be read":
        "die Abgabe konnte nicht gelesen werden; bitte prüfen Sie Ihre Dateien und geben Sie erneut ab",
    "the reports could not be written for this submission":
        "der Bericht zu dieser Abgabe konnte nicht erstellt werden (nicht Ihr Fehler); die Tutor*innen prüfen das",
    "not graded":
        "nicht bewertet (der Bewertungslauf wurde unterbrochen)",
}


def error_reason(status: str) -> str:
    """``"error: the zip file is corrupt"`` -> ``"the zip file is corrupt"``.

    The batch's own reasons (:data:`BATCH_REASONS_DE`, matched by their start)
    come back in German: this text is what the student reads.
    """
    reason = Outcome.read(status).reason.strip() or str(status)
    for english, german in BATCH_REASONS_DE.items():
        if reason.startswith(english):
            return german
    return reason
