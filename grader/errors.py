"""What can go wrong when the grader reaches into student code.

Each error carries a message written for the student. Tests do not catch
these: the pytest plugin turns them into a failed test with that message.
"""
from __future__ import annotations


class StudentError(Exception):
    """Base class: the student's code did not produce a usable value."""

    def student_message(self) -> str:
        return str(self)


class StudentException(StudentError):
    """The student's code raised an exception."""

    def __init__(self, type_name: str, message: str, traceback: str = "") -> None:
        super().__init__(f"{type_name}: {message}")
        self.type = type_name
        self.message = message
        self.traceback = traceback

    def student_message(self) -> str:
        text = f"Your code raised {self.type}: {self.message}"
        if "read-only" in self.message:
            text += ("\nHint: inputs are passed read-only. Your function modifies an input array in place;"
                     " work on a copy (e.g. x = x.copy()) or build a new array.")
        if self.type == "NotImplementedError":
            text = f"Not implemented yet ({self.message or 'NotImplementedError'})."
        if self.traceback:
            text += "\n" + self.traceback
        return text


class StudentTimeout(StudentError):
    """A call did not return within its time limit; the sandbox was restarted."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(
            f"{what} did not finish within {seconds:g} s and was stopped. Look for an endless loop "
            "or a computation far slower than needed (the other tests still ran).")


class StudentCrash(StudentError):
    """The sandbox process died during a call (exit, signal, memory limit)."""

    def __init__(self, what: str, how: str) -> None:
        super().__init__(f"The Python process running your code ended during {what}: {how}.")
        self.how = how


class ImportFailed(StudentError):
    """A student module could not be loaded (missing, syntax error, forbidden import...)."""


class BadReturn(StudentError):
    """What came back cannot cross the boundary (too large, malformed, not data)."""


class SandboxUnavailable(Exception):
    """The sandbox could not be started at all: an environment problem, not the student's."""
