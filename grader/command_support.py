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


def load_course(students: bool = True) -> "Course":
    """The course around the working directory, or a clean click error saying why there is none
    (for ``students`` in the language `grade` runs in, German outside a course; for staff English)."""
    from grader import course, i18n

    try:
        return course.load()
    except course.CourseNotFound as exc:
        raise click.ClickException(i18n.t("cli.no_course", folder=exc.folder) if students else str(exc)) from None
    except course.CourseError as exc:
        raise click.ClickException(i18n.t("cli.broken_course", detail=exc) if students else str(exc)) from None


def parse_test_options(options: tuple[str, ...], students: bool = True) -> dict:
    """``--option KEY=VALUE`` pairs as the tests' `grade_options`."""
    from grader import i18n

    out = {}
    for item in options:
        if "=" not in item:
            raise click.UsageError(i18n.t("cli.option_syntax", None if students else "en", item=item))
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
