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

from grader.command_support import (EXIT_FAILED, EXIT_OK, EXIT_USAGE, load_course, parse_test_options,
                                     require_walls)


#: Headings and the help option of the student commands' `--help`, in German (students read them;
#: click's own are English). Help texts are built at import, before a course is loaded.
_HELP_HELP = "Diese Hilfe anzeigen und beenden."


class GermanHelp:
    """Mixin for a click command whose `--help` (usage line, headings, help option) reads German."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = _HELP_HELP
        return option

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix="Aufruf: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [rv for p in self.get_params(ctx)  # type: ignore[attr-defined]
                if not isinstance(p, click.Argument) and (rv := p.get_help_record(ctx)) is not None]
        if rows:
            with formatter.section("Optionen"):
                formatter.write_dl(rows)


class StudentCommand(GermanHelp, click.Command):
    """A student command (`grade list`, `grade ex41`, ...): German `--help`."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[OPTIONEN]")
        super().__init__(*args, **kwargs)


class GradeGroup(GermanHelp, click.Group):
    """A group where any exercise id (`grade ex41`) is a command too; its own `--help` reads German."""

    command_class = StudentCommand

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[OPTIONEN]")
        kwargs.setdefault("subcommand_metavar", "BEFEHL [ARGUMENTE]...")
        super().__init__(*args, **kwargs)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        GermanHelp.format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = [n for n in self.list_commands(ctx) if (c := self.get_command(ctx, n)) is not None and not c.hidden]
        if names:
            limit = formatter.width - 6 - max(len(n) for n in names)
            with formatter.section("Befehle"):
                formatter.write_dl([(n, self.get_command(ctx, n).get_short_help_str(limit)) for n in names])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        return _exercise_command(name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return super().list_commands(ctx) + _exercise_ids()

    def main(self, args=None, *more, **extra):
        """Run `grade`; click's own sentences (usage errors, "Error:") read in the course's language,
        except for the staff commands, whose texts are English."""
        from grader import click_messages, i18n

        argv = sys.argv[1:] if args is None else list(args)
        if self.is_staff_command(argv):
            click_messages.use(None)
        else:
            language = _course_language()
            i18n.set_language(language)
            click_messages.use(language)
        return super().main(args, *more, **extra)

    def is_staff_command(self, argv: list[str]) -> bool:
        """Whether ``argv`` calls a staff command (one that is not a StudentCommand)."""
        command = self.commands.get(argv[0]) if argv else None
        return command is not None and not isinstance(command, StudentCommand)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            from grader import course, i18n

            name = args[0] if args else ""
            try:
                loaded = course.load()
            except course.CourseNotFound as exc:
                raise click.UsageError(i18n.t("cli.unknown_command_no_course", name=name, folder=exc.folder)) from None
            except course.CourseError as exc:
                raise click.UsageError(i18n.t("cli.unknown_command_broken_course", name=name, detail=exc)) from None
            ids = ", ".join(e.id for e in loaded.exercises) or i18n.t("cli.no_exercises")
            raise click.UsageError(i18n.t("cli.unknown_command", name=name, ids=ids)) from None


def _course_language() -> str:
    """The language of the course around the working directory (the default one outside a course, or
    where course.toml cannot be read: the command itself then says why, and `grade doctor` still runs)."""
    from grader import course, i18n

    try:
        return course.load().language
    except Exception:  # noqa: BLE001 - only picks click's language; never stops a command by itself
        return i18n.DEFAULT_LANGUAGE


def _exercise_ids() -> list[str]:
    from grader import course

    try:
        return [e.id for e in course.load().exercises]
    except course.CourseError:
        return []


def _exercise_command(name: str) -> click.Command | None:
    if name not in _exercise_ids():
        return None

    @click.command(name=name, cls=StudentCommand, short_help=f"Führt die öffentlichen Tests von {name} aus.")
    @_grading_options
    def command(**kwargs) -> None:
        _run_grading([name], **kwargs)

    command.help = (f"Führt die Tests der Aufgabe {name} mit Ihren Dateien in exercises/ aus und zeigt "
                    "Punkte und Meldungen je Teil. Exit-Code 0, wenn alle Tests bestehen, sonst 1; "
                    "2 bei einem falschen Aufruf.")
    return command


def _grading_options(fn):
    fn = click.option("--json", "as_json", is_flag=True, help="Das Ergebnis als JSON-Dokument statt als Tabelle ausgeben.")(fn)
    fn = click.option("--submission", type=click.Path(file_okay=False, path_type=Path), default=None,
                      metavar="ORDNER",
                      help="Ordner mit den zu bewertenden Dateien (Vorgabe: exercises/).")(fn)
    fn = click.option("--suite", type=click.Choice(["public", "all"]), default="public",
                      help="Vorgabe: public; 'all' nimmt die verdeckten Tests hinzu (nur für Lehrende).")(fn)
    fn = click.option("--option", "options", multiple=True, metavar="SCHLÜSSEL=WERT",
                      help="Optionen für die Tests, z. B. mnist_dir=/data/mnist.")(fn)
    return fn


def _t(key: str, **params) -> str:
    """A student-facing line of `grade EXID` in the course's language (grader/i18n)."""
    from grader import i18n

    return i18n.t(key, **params)


def _run_grading(ids: list[str], as_json: bool, submission: Path | None, suite: str, options: tuple[str, ...]) -> None:
    course = load_course()
    from grader import i18n

    i18n.set_language(course.language)
    test_options = parse_test_options(options)  # a wrong --option is found before anything starts
    folder = (submission or course.exercises_dir).resolve()
    if not folder.is_dir():
        click.echo(_t("cli.not_folder", folder=folder), err=True)
        sys.exit(EXIT_USAGE)
    missing = [f for f in course.submission_files(ids, extra=False) if not (folder / f).is_file()]
    if missing:
        click.echo(_t("cli.missing_files", folder=folder, files=", ".join(missing)), err=True)
        sys.exit(EXIT_USAGE)
    if suite == "all" and not course.has_hidden_tests():
        click.echo("Fehler: --suite all braucht die verdeckten Tests (autograder_tests/), die in diesem Ordner "
                   "fehlen.", err=True)
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
                              test_options=test_options)
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
@click.version_option(package_name="nn-grader", help="Die Version anzeigen und beenden.",
                      message="%(prog)s, Version %(version)s")
def cli() -> None:
    """Prüft und bewertet die Aufgaben des Kurses Neuronale Netze.

    `grade list` zeigt die Aufgaben, `grade ex41` prüft eine Aufgabe,
    `grade all` prüft alle, `grade pack` packt Ihre Dateien zum Hochladen in eine ZIP-Datei.
    """


@cli.command("doctor", short_help="Zeigt, welche Schutzwände dieser Rechner der Sandbox gibt.")
@click.option("--json", "as_json", is_flag=True, help="Den Bericht der Test-Sandbox als JSON ausgeben.")
def doctor_cmd(as_json: bool) -> None:
    """Startet eine Sandbox (ohne Ihren Code) und zeigt, welche Schutzwände
    dieser Rechner bietet und welche Folgen das für verdeckte Tests hat."""
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


@cli.command("list", short_help="Zeigt die Aufgaben, ihre Teile und Punkte.")
@click.option("--json", "as_json", is_flag=True, help="Die Liste als JSON ausgeben (für Skripte).")
def list_cmd(as_json: bool) -> None:
    """Zeigt die Aufgaben mit ihren Teilen und Punkten."""
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


@cli.command("all", short_help="Führt die öffentlichen Tests aller Aufgaben aus.")
@_grading_options
def all_cmd(**kwargs) -> None:
    """Führt die Tests aller Aufgaben aus (siehe `grade EXID`)."""
    _run_grading([e.id for e in load_course().exercises], **kwargs)


@cli.command("pack", short_help="Packt Ihre Aufgabendateien zum Hochladen in eine ZIP-Datei.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("submission.zip"),
              metavar="DATEI", help="Name der ZIP-Datei (Vorgabe: submission.zip).")
@click.option("--allow-missing", is_flag=True, help="Die ZIP-Datei auch dann packen, wenn Pflichtdateien fehlen.")
def pack_cmd(output: Path, allow_missing: bool) -> None:
    """Packt Ihre Aufgabendateien, die Gewichte von ex41 und Ihre Freitext-Antworten (Notebooks)
    mit einer Dateiliste (manifest.json) in eine ZIP-Datei."""
    from grader import i18n, pack

    course = load_course()
    i18n.set_language(course.language)       # a notebook's error is the student's to read
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

    staff = cli.is_staff_command(sys.argv[1:])
    isolation.install_interrupt_handlers(
        "Interrupted: every sandbox and worker of this run was stopped; rerun to resume." if staff else
        "Abgebrochen: Die Bewertung wurde beendet, alle dabei gestarteten Prozesse wurden gestoppt.")
    cli(prog_name="grade")


if __name__ == "__main__":
    main()
