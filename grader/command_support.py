"""What the student commands (grader/cli.py) and the staff commands (grader/staff/commands.py) share.

A module of its own so that the staff commands need not import grader.cli,
which adds them to its group (no import cycle).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from grader.course import Course

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def load_course() -> "Course":
    """The course around the working directory, or a clean click error saying why there is none."""
    from grader import course

    try:
        return course.load()
    except course.CourseError as exc:
        raise click.ClickException(str(exc)) from None


def parse_test_options(options: tuple[str, ...]) -> dict:
    """``--option KEY=VALUE`` pairs as the tests' `grade_options`."""
    out = {}
    for item in options:
        if "=" not in item:
            raise click.UsageError(f"--option expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key] = value
    return out


def require_walls(course, allow: bool) -> None:
    """The one check before hidden tests run (grader/trusted/doctor.py): refuse where student code could read them."""
    from grader.trusted import doctor

    try:
        doctor.require_walls_for_hidden_tests(course, allow=allow)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
