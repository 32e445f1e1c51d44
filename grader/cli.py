"""`grade`: the one command for students and course staff.

Students:  grade list | grade EXID | grade all | grade pack | grade doctor
Staff:     grade validate | release | autograder | batch | merge | similarity
           (grader/staff/commands.py; added only where grader/staff is installed,
           so the student release's `grade --help` lists the student commands)

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


def load_course():
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
            from grader import course

            name = args[0] if args else ""
            try:
                ids = [e.id for e in course.load().exercises]
            except course.CourseError as exc:
                raise click.UsageError(f"Unbekannter Befehl {name!r}, und hier ist kein Kurs, in dem eine Aufgabe "
                                       f"dieses Namens stehen könnte: {exc}") from None
            raise click.UsageError(f"Unbekannter Befehl oder unbekannte Aufgabe {name!r}. Aufgaben: "
                                   f"{', '.join(ids) or '(keine)'}; siehe 'grade --help'.") from None


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


def parse_test_options(options: tuple[str, ...]) -> dict:
    out = {}
    for item in options:
        if "=" not in item:
            raise click.UsageError(f"--option expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key] = value
    return out


def _t(key: str, **params) -> str:
    """A student-facing line of `grade EXID` in the course's language (grader/i18n)."""
    from grader import i18n

    return i18n.t(key, **params)


def _run_grading(ids: list[str], as_json: bool, submission: Path | None, suite: str, options: tuple[str, ...]) -> None:
    course = load_course()
    from grader import i18n

    i18n.set_language(course.language)
    folder = (submission or course.exercises_dir).resolve()
    if not folder.is_dir():
        click.echo(_t("cli.not_folder", folder=folder), err=True)
        sys.exit(EXIT_USAGE)
    missing = [f for f in course.submission_files(ids, extra=False) if not (folder / f).is_file()]
    if missing:
        click.echo(_t("cli.missing_files", folder=folder, files=", ".join(missing)), err=True)
        sys.exit(EXIT_USAGE)
    if suite == "all" and not course.has_hidden_tests():
        click.echo("error: --suite all needs the hidden tests (autograder_tests/), which this folder does not have",
                   err=True)
        sys.exit(EXIT_USAGE)
    if suite == "all":
        require_walls(course, allow=False)
    from grader.sandbox import spawn
    from grader.sandbox import zygote

    if spawn.fork_available():
        zygote.get().ensure_running(wait=False)  # the sandbox template warms up while torch and the tests load
    from grader.trusted import runner
    from grader.feedback import terminal

    progress = _TestProgress() if sys.stderr.isatty() and not as_json else None
    try:
        result = runner.grade(folder, ids, suite=suite, course=course,
                              test_options=parse_test_options(options))
    except runner.GradingError as exc:
        click.echo(_t("cli.grader_failed", detail=exc), err=True)
        sys.exit(EXIT_USAGE)
    finally:
        if progress is not None:
            progress.close()
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


def require_walls(course, allow: bool) -> None:
    """The one check before hidden tests run (grader/trusted/doctor.py): refuse where student code could read them."""
    from grader.trusted import doctor

    try:
        doctor.require_walls_for_hidden_tests(course, allow=allow)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command("doctor", short_help="Zeigt, welche Schutzwände dieser Rechner der Sandbox gibt.")
@click.option("--json", "as_json", is_flag=True, help="Den Bericht der Test-Sandbox als JSON ausgeben.")
def doctor_cmd(as_json: bool) -> None:
    """Startet eine Sandbox (ohne Ihren Code) und zeigt, welche Schutzwände
    dieser Rechner bietet und was das für verdeckte Tests bedeutet."""
    from grader.trusted import doctor

    try:
        course = load_course()
    except Exception:  # noqa: BLE001 - outside a course folder the probe still works
        course = None
    try:
        report = doctor.probe(course)
    except Exception as exc:  # noqa: BLE001 - the point of the command is to say what is wrong
        click.echo(f"Die Test-Sandbox konnte nicht gestartet werden: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(json.dumps(report, ensure_ascii=False, indent=1) if as_json else doctor.render(report))


@cli.command("list", short_help="List exercises, parts and points.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON (for scripts).")
def list_cmd(as_json: bool) -> None:
    """List the exercises with their parts and points."""
    course = load_course()
    if as_json:
        click.echo(json.dumps([{
            "id": ex.id, "title": ex.title, "files": list(ex.files), "extra_files": list(ex.extra_files),
            "max_points": ex.max_points,
            "parts": [{"id": p.id, "title": p.title, "points": p.points, "manual": p.manual} for p in ex.parts],
        } for ex in course.exercises], ensure_ascii=False, indent=1))
        return
    for ex in course.exercises:
        click.echo(click.style(f"{ex.id:<10} {ex.title}", bold=True) + f"  ({ex.max_points:g} Punkte)")
        for part in ex.parts:
            kind = " [manuell]" if part.manual else ""
            click.echo(f"    {part.id:<22} {part.points:>4g}  {part.title}{kind}")
        files = ", ".join(ex.files + ex.extra_files) or "keine (Antworten im Notebook)"
        click.echo(f"    Dateien: {files}")


@cli.command("all", short_help="Run the public tests of every exercise.")
@_grading_options
def all_cmd(**kwargs) -> None:
    """Run the tests of every exercise (see `grade EXID`)."""
    _run_grading([e.id for e in load_course().exercises], **kwargs)


@cli.command("pack", short_help="Zip your exercise files for upload.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("submission.zip"),
              show_default=True)
@click.option("--allow-missing", is_flag=True, help="Build the zip even if required files are missing.")
def pack_cmd(output: Path, allow_missing: bool) -> None:
    """Zip your exercise files, ex41's weights and your free-text answers (notebooks) with a manifest."""
    from grader import pack

    course = load_course()
    try:
        manifest = pack.pack(course, course.exercises_dir, output, allow_missing=allow_missing)
    except pack.PackError as exc:
        click.echo(f"Fehler: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if not manifest["files"] and not manifest["notebooks"]:
        click.echo("Fehler: keine Aufgabendateien in exercises/ gefunden.", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{output}: {len(manifest['files'])} Dateien ({', '.join(manifest['files'])})")
    if manifest["notebooks"]:
        answered = ", ".join(manifest["answers"]) or "noch keine"
        click.echo(f"Notebooks mit Freitext-Antworten: {', '.join(manifest['notebooks'])} "
                   f"(beantwortet: {answered})")
    if manifest["missing"]:
        click.echo(f"Achtung, ohne: {', '.join(manifest['missing'])}", err=True)


class _TestProgress:
    """`grade EXID` on a terminal: one status line naming the test that runs now ("ex41 b: test_x ... (3/14)").

    The grading runs in a forked child whose sys.stderr is captured, so the
    line is written to file descriptor 2 directly; a call that hangs until its
    time limit thus shows which test waits.
    """

    def __init__(self) -> None:
        from grader.trusted import plugin

        self.plugin = plugin
        plugin.PROGRESS = self.update

    @staticmethod
    def update(stage: str, record, i: int, n: int) -> None:
        import os

        from grader.i18n import t

        if stage != "start":
            return
        line = t("report.progress", exercise=record.exercise, part=record.part, name=record.name, i=i, n=n)
        width = shutil_width()
        os.write(2, ("\r\x1b[K" + line[: width - 1]).encode("utf-8", "replace"))

    def close(self) -> None:
        import os

        self.plugin.PROGRESS = None
        os.write(2, b"\r\x1b[K")


def shutil_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _add_staff_commands(group: click.Group) -> None:
    """The staff commands, where the staff pipeline is installed (the student release has none)."""
    import importlib.util

    if importlib.util.find_spec("grader.staff") is not None:
        from grader.staff.commands import register

        register(group)


_add_staff_commands(cli)


def main() -> None:
    import os

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # set before numpy/torch load their thread pools
    from grader.sandbox import isolation

    staff = len(sys.argv) > 1 and sys.argv[1] in ("batch", "validate", "autograder", "release", "similarity")
    isolation.install_interrupt_handlers(
        "Interrupted: every sandbox and worker of this run was stopped; rerun to resume." if staff else
        "Abgebrochen: Die Bewertung wurde beendet, alle dabei gestarteten Prozesse wurden gestoppt.")
    cli(prog_name="grade")


if __name__ == "__main__":
    main()
