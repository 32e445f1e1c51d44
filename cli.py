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

    def list_commands(self, ctx: click.Context) -> list[str]:
        return super().list_commands(ctx) + _exercise_ids()

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
    from grader import spawned, zygote

    if spawned.fork_available():
        zygote.get().ensure_running(wait=False)  # the sandbox template warms up while torch and the tests load
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


# -- course staff ----------------------------------------------------------------

@cli.command("validate", short_help="Check references, stubs, signatures and the release.")
@click.option("--only", default="", help="Comma-separated exercise ids (default: all).")
def validate_cmd(only: str) -> None:
    """Every reference gets full marks on public + hidden tests, every stub 0
    without crashing the grader, stub and solution expose the same names and
    signatures, public tests pass on the reference, and the release would leak
    nothing. Exit 0 when all holds, 1 with one line per problem otherwise."""
    from grader import validate

    course = _course()
    ids = [i for i in only.split(",") if i] or [e.id for e in course.exercises]
    problems = validate.validate(course, ids, echo=click.echo)
    for problem in problems:
        click.echo(click.style("PROBLEM ", fg="red", bold=True) + str(problem))
    click.echo("validate: OK" if not problems else f"validate: {len(problems)} problem(s)")
    sys.exit(EXIT_OK if not problems else EXIT_FAILED)


@cli.command("release", short_help="Build the student release zip.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def release_cmd(out_dir: Path) -> None:
    """Write OUT/student-release.zip: stubs, task texts (Markdown and notebooks),
    public tests, the course framework and an installable `grade`; no solutions,
    no hidden tests. Same input, same bytes."""
    from grader import release

    path = release.build_release(_course(), out_dir)
    click.echo(f"wrote {path}")


@cli.command("autograder", short_help="Build the LMS autograder package.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--platform", type=click.Choice(["gradescope"]), default="gradescope", show_default=True)
@click.option("--hidden-visibility", type=click.Choice(["hidden", "after_due_date", "after_published", "visible"]),
              default="after_published", show_default=True, help="Gradescope visibility of hidden tests.")
def autograder_cmd(out_dir: Path, platform: str, hidden_visibility: str) -> None:
    """Write OUT/autograder.zip in the platform's format (Gradescope: setup.sh,
    run_autograder, the engine and the hidden tests)."""
    from grader import autograder

    path = autograder.build(_course(), out_dir, platform=platform, hidden_visibility=hidden_visibility)
    click.echo(f"wrote {path}")


@cli.command("batch", short_help="Grade all submissions and write reports and LMS files.")
@click.argument("submissions", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, help="Parallel workers (default: all cores).")
@click.option("--layout", type=click.Choice(["dir", "moodle", "canvas"]), default="dir", show_default=True)
@click.option("--only", default="", help="Comma-separated exercise ids (default: all).")
@click.option("--lms-lang", type=click.Choice(["en", "de"]), default="en", show_default=True,
              help="Language of the Moodle user who uploads the worksheet.")
@click.option("--manual", "manual_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with manual points: student, part, points, comment.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Options for the tests.")
@click.option("--hidden-visibility", type=click.Choice(["hidden", "after_due_date", "after_published", "visible"]),
              default="after_published", show_default=True)
@click.option("--timeout", type=float, default=1800, show_default=True, help="Seconds per submission (last resort).")
@click.option("--assignment-title", default="", help="Canvas column title (default: the course title).")
@click.option("--assignment-id", default=None, help="Canvas assignment id for the column.")
def batch_cmd(submissions: Path, out: Path, jobs: int, layout: str, only: str, lms_lang: str,
              manual_csv: Path | None, options: tuple[str, ...], hidden_visibility: str, timeout: float,
              assignment_title: str, assignment_id: str | None) -> None:
    """Grade every submission in SUBMISSIONS (a folder or zip) with public and
    hidden tests. Writes OUT/grades.csv, OUT/summary.html, per student
    OUT/STUDENT/{feedback.html,feedback.md,results.json}, and the Moodle or
    Canvas files. Run it again to resume: only changed submissions are graded."""
    from grader import batch, layouts

    course = _course()
    ids = tuple(i for i in only.split(",") if i)
    unknown = [i for i in ids if i not in [e.id for e in course.exercises]]
    if unknown:
        raise click.UsageError(f"unknown exercise(s): {', '.join(unknown)}")
    opts = batch.BatchOptions(layout=layout, jobs=jobs, only=ids, lms_lang=lms_lang, manual_csv=manual_csv,
                              options=_parse_options(options), hidden_visibility=hidden_visibility, timeout=timeout,
                              assignment_title=assignment_title, assignment_id=assignment_id)
    bar = _Progress()
    try:
        counts = batch.run(course, submissions, out, opts, progress=bar.update)
    except layouts.LayoutError as exc:
        raise click.ClickException(str(exc)) from None
    bar.close()
    click.echo(f"{counts['total']} submissions: {counts['graded']} graded, {counts['errors']} with errors, "
               f"{counts['skipped']} unchanged since the last run. Reports in {out}")


class _Progress:
    """Counts, percentage and ETA on stderr; a line per 10 % when not a terminal."""

    def __init__(self) -> None:
        import time

        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last_decile = -1

    def update(self, done: int, total: int, counts: dict) -> None:
        import time

        elapsed = time.monotonic() - self.start
        eta = elapsed / done * (total - done) if done else 0
        line = (f"[{done:>{len(str(total))}}/{total}] {100 * done // max(total, 1):3d}%  graded {counts['graded']}, "
                f"errors {counts['errors']}  elapsed {elapsed:5.0f} s  ETA {eta:5.0f} s")
        if self.tty:
            click.echo("\r" + line, nl=False, err=True)
        elif 10 * done // max(total, 1) != self.last_decile or done == total:
            self.last_decile = 10 * done // max(total, 1)
            click.echo(line, err=True)

    def close(self) -> None:
        if self.tty:
            click.echo("", err=True)


def main() -> None:
    import os

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # set before numpy/torch load their thread pools
    cli(prog_name="grade")


if __name__ == "__main__":
    main()
