"""`grade`: the one command for students and course staff.

Students:  grade list | grade EXID | grade all | grade pack
Staff:     grade validate | grade release | grade autograder | grade batch

Every command is a thin wrapper over a function in `grader/`, so everything
is scriptable; heavy imports (torch, pytest) happen inside command bodies so
`grade --help` starts instantly.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _course():
    from grader import course

    try:
        return course.load()
    except course.CourseError as exc:
        raise click.ClickException(str(exc)) from None


class GradeGroup(click.Group):
    """A group where any exercise id (`grade ex41`) is a command too."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        return _exercise_command(name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            name = args[0] if args else ""
            ids = _exercise_ids()
            raise click.UsageError(f"unknown command or exercise {name!r}. Exercises: {', '.join(ids) or '(none)'}; "
                                   "see 'grade --help'.") from None


def _exercise_ids() -> list[str]:
    from grader import course

    try:
        return [e.id for e in course.load().exercises]
    except course.CourseError:
        return []


def _exercise_command(name: str) -> click.Command | None:
    if name not in _exercise_ids():
        return None

    @click.command(name=name, short_help=f"Run the public tests of {name}.")
    @_grading_options
    def command(**kwargs) -> None:
        _run_grading([name], **kwargs)

    command.help = (f"Run the tests of exercise {name} against your files in exercises/ and show "
                    "points and messages per part. Exit 0 when all pass, 1 otherwise, 2 on usage errors.")
    return command


def _grading_options(fn):
    fn = click.option("--json", "as_json", is_flag=True, help="Print the result document (JSON) instead of the table.")(fn)
    fn = click.option("--submission", type=click.Path(file_okay=False, path_type=Path), default=None,
                      help="Folder with the files to grade (default: exercises/).")(fn)
    fn = click.option("--suite", type=click.Choice(["public", "all"]), default="public", show_default=True,
                      help="'all' adds the hidden tests (course staff only).")(fn)
    fn = click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
                      help="Options for the tests, e.g. mnist_dir=/data/mnist.")(fn)
    return fn


def _parse_options(options: tuple[str, ...]) -> dict:
    out = {}
    for item in options:
        if "=" not in item:
            raise click.UsageError(f"--option expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key] = value
    return out


def _run_grading(ids: list[str], as_json: bool, submission: Path | None, suite: str, options: tuple[str, ...]) -> None:
    course = _course()
    folder = (submission or course.exercises_dir).resolve()
    if not folder.is_dir():
        click.echo(f"error: {folder} is not a folder", err=True)
        sys.exit(EXIT_USAGE)
    missing = [f for i in ids for f in course.exercise(i).files if not (folder / f).is_file()]
    if missing:
        click.echo(f"error: missing file(s) in {folder}: {', '.join(missing)}", err=True)
        sys.exit(EXIT_USAGE)
    if suite == "all" and not course.has_hidden_tests():
        click.echo("error: --suite all needs the hidden tests (autograder_tests/), which this folder does not have",
                   err=True)
        sys.exit(EXIT_USAGE)
    from grader import runner
    from grader.reports import terminal

    try:
        result = runner.grade(folder, ids, suite=suite, course=course, options=_parse_options(options))
    except runner.GradingError as exc:
        click.echo(f"error: the grader could not run: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if as_json:
        click.echo(json.dumps(result, indent=1, ensure_ascii=False))
    else:
        click.echo(terminal.render(result))
    sys.exit(EXIT_OK if terminal.all_passed(result) else EXIT_FAILED)


@click.group(cls=GradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nn-grader")
def cli() -> None:
    """Check and grade the exercises of the course Neuronale Netze.

    Students: `grade list` shows the exercises, `grade ex41` checks one,
    `grade all` checks all of them, `grade pack` zips your files for upload.
    """


@cli.command("list", short_help="List exercises, parts and points.")
def list_cmd() -> None:
    """List the exercises with their parts and points."""
    course = _course()
    for ex in course.exercises:
        click.echo(click.style(f"{ex.id:<10} {ex.title}", bold=True) + f"  ({ex.max_points:g} Punkte)")
        for part in ex.parts:
            kind = " [manuell]" if part.manual else ""
            click.echo(f"    {part.id:<22} {part.points:>4g}  {part.title}{kind}")
        click.echo(f"    Dateien: {', '.join(ex.files + ex.extra_files)}")


@cli.command("all", short_help="Run the public tests of every exercise.")
@_grading_options
def all_cmd(**kwargs) -> None:
    """Run the tests of every exercise (see `grade EXID`)."""
    _run_grading([e.id for e in _course().exercises], **kwargs)


@cli.command("pack", short_help="Zip your exercise files for upload.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("submission.zip"),
              show_default=True)
def pack_cmd(output: Path) -> None:
    """Zip your exercise files (and ex41's weights) with a manifest for upload."""
    from grader import pack

    course = _course()
    manifest = pack.pack(course, course.exercises_dir, output)
    if not manifest["files"]:
        click.echo("error: no exercise files found in exercises/", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{output}: {len(manifest['files'])} Dateien ({', '.join(manifest['files'])})")


def main() -> None:
    cli(prog_name="grade")


if __name__ == "__main__":
    main()
