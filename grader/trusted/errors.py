"""What can go wrong when the grader reaches into student code.

Each error carries a message written for the student. Tests do not catch
these: the pytest plugin turns them into a failed test with that message.
"""
from __future__ import annotations

from grader.i18n import t


class StudentError(Exception):
    """Base class: the student's code did not produce a usable value.

    ``cause`` names the kind of failure; reports group findings by it (an
    import failure is shown once per exercise, "not implemented" once per part).
    """

    cause = "error"

    def student_message(self) -> str:
        return str(self)


class StudentException(StudentError):
    """The student's code raised an exception."""

    def __init__(self, type_name: str, message: str, traceback: str = "") -> None:
        super().__init__(f"{type_name}: {message}")
        self.type = type_name
        self.message = message
        self.traceback = traceback
        self.cause = "not_implemented" if type_name == "NotImplementedError" else "exception"

    def student_message(self) -> str:
        text = t("err.raised", type=self.type, message=self.message)
        if "read-only" in self.message:
            text += "\n" + t("err.read_only_hint")
        if self.type == "NotImplementedError":  # the stub's own raise: its traceback teaches nothing
            return t("err.not_implemented", message=self.message or "NotImplementedError")
        if self.traceback:
            text += "\n" + self.traceback
        return text


class StudentTimeout(StudentError):
    """A call did not return within its time limit; the sandbox was restarted."""

    cause = "timeout"

    def __init__(self, what: str, seconds: float, kind: str = "first") -> None:
        key = {"first": "err.timeout", "repeat": "err.timeout_repeat", "refused": "err.timeout_refused",
               "budget": "err.timeout_budget"}[kind]
        super().__init__(t(key, what=what, seconds=f"{seconds:g}"))
        self.seconds = seconds
        self.kind = kind


class StudentCrash(StudentError):
    """The sandbox process died during a call (exit, signal, memory limit)."""

    def __init__(self, what: str, how: str) -> None:
        super().__init__(t("err.crash", what=what, how=how))
        self.how = how

    cause = "crash"


class ImportFailed(StudentError):
    """A student module could not be loaded (missing, syntax error, forbidden import...)."""

    cause = "import"


class BadReturn(StudentError):
    """What came back cannot cross the boundary (too large, malformed, not data)."""

    cause = "bad_return"


class AuthorError(Exception):
    """The test code itself is wrong (a course author's bug), whatever the submission does.

    Raised in the trusted process, e.g. when a driver passed to
    ``student.run`` reads a name the sandbox does not define. The plugin
    reports it as a defect of the test: "not your fault" for the student,
    the traceback for staff (``internal_error``) and for the author.
    """


class SandboxUnavailable(Exception):
    """The sandbox could not be started at all: an environment problem, not the student's."""
