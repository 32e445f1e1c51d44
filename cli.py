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


def _parse_options(options: tuple[str, ...]) -> dict:
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
    course = _course()
    from grader import i18n

    i18n.set_language(course.language)
    folder = (submission or course.exercises_dir).resolve()
    if not folder.is_dir():
        click.echo(_t("cli.not_folder", folder=folder), err=True)
        sys.exit(EXIT_USAGE)
    missing = [f for i in ids for f in course.exercise(i).files if not (folder / f).is_file()]
    if missing:
        click.echo(_t("cli.missing_files", folder=folder, files=", ".join(missing)), err=True)
        sys.exit(EXIT_USAGE)
    if suite == "all" and not course.has_hidden_tests():
        click.echo("error: --suite all needs the hidden tests (autograder_tests/), which this folder does not have",
                   err=True)
        sys.exit(EXIT_USAGE)
    if suite == "all":
        _require_walls(course, allow=False)
    from grader import spawned, zygote

    if spawned.fork_available():
        zygote.get().ensure_running(wait=False)  # the sandbox template warms up while torch and the tests load
    from grader import runner
    from grader.reports import terminal

    progress = _TestProgress() if sys.stderr.isatty() and not as_json else None
    try:
        result = runner.grade(folder, ids, suite=suite, course=course, options=_parse_options(options))
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


def _require_walls(course, allow: bool) -> None:
    """The one check before hidden tests run (grader/doctor.py): refuse where student code could read them."""
    from grader import doctor

    try:
        doctor.require_walls_for_hidden_tests(course, allow=allow)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command("doctor", short_help="Zeigt, welche Schutzwände dieser Rechner der Sandbox gibt.")
@click.option("--json", "as_json", is_flag=True, help="Den Bericht der Test-Sandbox als JSON ausgeben.")
def doctor_cmd(as_json: bool) -> None:
    """Startet eine Sandbox (ohne Ihren Code) und zeigt, welche Schutzwände
    dieser Rechner bietet und was das für verdeckte Tests bedeutet."""
    from grader import doctor

    try:
        course = _course()
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
    course = _course()
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
    _run_grading([e.id for e in _course().exercises], **kwargs)


@cli.command("pack", short_help="Zip your exercise files for upload.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("submission.zip"),
              show_default=True)
@click.option("--allow-missing", is_flag=True, help="Build the zip even if required files are missing.")
def pack_cmd(output: Path, allow_missing: bool) -> None:
    """Zip your exercise files, ex41's weights and your free-text answers (notebooks) with a manifest."""
    from grader import pack

    course = _course()
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


# -- course staff ----------------------------------------------------------------

@cli.command("validate", short_help="Check references, stubs, signatures and the release.")
@click.option("--only", default="", help="Comma-separated exercise ids (default: all).")
@click.option("--seeds", "n_seeds", type=click.IntRange(min=0), default=None,
              help="Random secret seeds to grade the reference and the right corpus students under "
                   "[default: 3; 0 = only the course's own secret; 50 before a release].")
@click.option("--seed-base", default=None, help="Base of the seed names, to repeat a run (default: random).")
def validate_cmd(only: str, n_seeds: int | None, seed_base: str | None) -> None:
    """Every reference gets full marks on public + hidden tests, every stub 0
    without crashing the grader, stub and solution expose the same names and
    signatures, public tests pass on the reference, and the release would leak
    nothing. The reference and every corpus student marked right
    (tests/submissions) keep full marks under --seeds random secret seeds,
    which vary the hidden inputs. Exit 0 when all holds, 1 with one line per
    problem otherwise."""
    from grader import validate

    course = _course()
    ids = [i for i in only.split(",") if i] or [e.id for e in course.exercises]
    seeds = validate.random_seeds(validate.DEFAULT_SEEDS if n_seeds is None else n_seeds, seed_base)
    if seeds:
        click.echo(f"secret seeds: {seeds[0]} ... {seeds[-1]} ({len(seeds)})")
    problems = validate.validate(course, ids, echo=click.echo, seeds=seeds)
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


@cli.command("similarity", short_help="Find suspiciously similar code in a batch's submissions.")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="Report a pair when this share of either file matches the other.")
@click.option("--only", default="", help="Comma-separated exercise ids (default: all).")
def similarity_cmd(out: Path, threshold: float, only: str) -> None:
    """Compare every student's files per exercise in the batch output OUT (its .work folder) and write
    OUT/similarity.html: pairs above the threshold, side by side, matching code highlighted. The stub's
    code never counts. Needs the optional dependency: pip install 'nn-grader[staff]'."""
    from grader import similarity

    course = _course()
    try:
        pairs = similarity.write_report(course, out, threshold, tuple(i for i in only.split(",") if i))
    except ModuleNotFoundError as exc:
        raise click.ClickException(f"{exc.name} is missing: pip install 'nn-grader[staff]'") from None
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{out / 'similarity.html'}: {len(pairs)} pair(s) at or above {threshold:.0%}")


@cli.command("batch", short_help="Grade all submissions and write reports and LMS files.")
@click.argument("submissions", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0,
              help="Submissions graded at once; 0 (the default) means one per CPU core.")
@click.option("--layout", type=click.Choice(["dir", "moodle", "canvas", "ilias"]), default="dir", show_default=True,
              help="dir: one folder or `grade pack` zip per student, named by the student id; moodle / canvas / "
                   "ilias: the LMS's 'download all submissions' folder or zip (docs/lms.md).")
@click.option("--only", default="", help="Comma-separated exercise ids (default: all).")
@click.option("--shard", default="", metavar="I/N",
              help="Grade only shard I (0-based) of N and write no class reports; combine with `grade merge`.")
@click.option("--similarity", is_flag=True, help="Also write OUT/similarity.html (see `grade similarity`).")
@click.option("--lms-lang", type=click.Choice(["en", "de"]), default="en", show_default=True,
              help="Language of the Moodle user who uploads the worksheet.")
@click.option("--manual", "manual_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with manual points: student, part, points, comment.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Options for the tests.")
@click.option("--hidden-visibility", type=click.Choice(["hidden", "after_due_date", "after_published", "visible"]),
              default="after_published", show_default=True)
@click.option("--timeout", type=float, default=1800, show_default=True, help="Seconds per submission (last resort).")
@click.option("--assignment-title", default="",
              help="Canvas column / ILIAS multi-feedback folder title (default: the course title).")
@click.option("--assignment-id", default=None,
              help="Canvas assignment id for the column; ILIAS assignment id in the multi-feedback folder (default 0).")
@click.option("--allow-unisolated-hidden-tests", "allow_unisolated", is_flag=True,
              help="Run hidden tests even where neither namespaces nor a uid change keep submissions from "
                   "reading them (see `grade doctor`).")
def batch_cmd(submissions: Path, out: Path, jobs: int, layout: str, only: str, lms_lang: str,
              manual_csv: Path | None, options: tuple[str, ...], hidden_visibility: str, timeout: float,
              assignment_title: str, assignment_id: str | None, allow_unisolated: bool = False,
              shard: str = "", similarity: bool = False) -> None:
    """Grade every submission in SUBMISSIONS (a folder or zip) with public and
    hidden tests. Writes OUT/grades.csv, OUT/parts.csv, OUT/mistakes.csv,
    OUT/summary.html, per student OUT/STUDENT/{feedback.html,feedback.md,
    results.json,grading.json}, and the Moodle, Canvas or ILIAS files. Run it again
    to resume: only changed submissions are graded.

    \b
    Layout dir: SUBMISSIONS/<student id>/ with the exercise files (or one
    notebook), or SUBMISSIONS/<student id>.zip made by `grade pack`."""
    from grader import batch, layouts, shard as shard_mod

    course = _course()
    ids = tuple(i for i in only.split(",") if i)
    unknown = [i for i in ids if i not in [e.id for e in course.exercises]]
    if unknown:
        raise click.UsageError(f"unknown exercise(s): {', '.join(unknown)}")
    opts = batch.BatchOptions(layout=layout, jobs=jobs, only=ids, lms_lang=lms_lang, manual_csv=manual_csv,
                              options=_parse_options(options), hidden_visibility=hidden_visibility, timeout=timeout,
                              assignment_title=assignment_title, assignment_id=assignment_id, shard=shard)
    if shard:
        try:
            shard_mod.parse(shard)
        except shard_mod.ShardError as exc:
            raise click.UsageError(str(exc)) from None
    _require_walls(course, allow=allow_unisolated)
    bar = _Progress()
    from grader.reports.manual import ManualPointsError

    try:
        counts = batch.run(course, submissions, out, opts, progress=bar.update)
    except layouts.LayoutError as exc:
        raise click.ClickException(str(exc)) from None
    except ManualPointsError as exc:
        raise click.ClickException(f"{exc}\nThe graded records are kept in {out}: fix the file and run the same "
                                   "command again (nothing is graded twice).") from None
    bar.close()
    click.echo(f"{counts['total']} submissions: {counts['graded']} graded, {counts['errors']} with errors, "
               f"{counts['skipped']} unchanged since the last run. "
               + (f"Shard {shard}: records in {out}; combine the shards with `grade merge`." if shard
                  else f"Reports in {out}"))
    if similarity and not shard:
        from grader import similarity as similarity_mod

        try:
            pairs = similarity_mod.write_report(course, out)
            click.echo(f"{out / 'similarity.html'}: {len(pairs)} similar pair(s)")
        except ModuleNotFoundError as exc:
            click.echo(f"warning: no similarity check, {exc.name} is missing: pip install 'nn-grader[staff]'",
                       err=True)


@cli.command("merge", short_help="Combine the outputs of sharded batches into one set of reports.")
@click.argument("shards", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--layout", type=click.Choice(["dir", "moodle", "canvas", "ilias"]), default="dir",
              help="Default: the layout the shards were graded with.")
@click.option("--lms-lang", type=click.Choice(["en", "de"]), default="en", show_default=True)
@click.option("--manual", "manual_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--hidden-visibility", type=click.Choice(["hidden", "after_due_date", "after_published", "visible"]),
              default="after_published", show_default=True)
@click.option("--assignment-title", default="")
@click.option("--assignment-id", default=None)
@click.option("--allow-missing", is_flag=True, help="Write the reports even if some students were not graded.")
def merge_cmd(shards: tuple[Path, ...], out: Path, layout: str, lms_lang: str, manual_csv: Path | None,
              hidden_visibility: str, assignment_title: str, assignment_id: str | None, allow_missing: bool) -> None:
    """Build grades.csv, summary.html, the per-student feedback and every LMS
    file in OUT from the records of the shard outputs SHARDS (`grade batch
    --shard I/N`). Refuses shards graded with other tests, a student graded
    twice, and (unless --allow-missing) students no shard graded."""
    from grader import batch, merge

    course = _course()
    opts = batch.BatchOptions(layout=layout, lms_lang=lms_lang, manual_csv=manual_csv,
                              hidden_visibility=hidden_visibility, assignment_title=assignment_title,
                              assignment_id=assignment_id)
    from grader.reports.manual import ManualPointsError

    try:
        counts = merge.merge(course, list(shards), out, opts, allow_missing=allow_missing)
    except (merge.MergeError, ManualPointsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{counts['total']} students: {counts['merged']} records merged from {len(shards)} shard(s), "
               f"{counts['missing']} missing. Reports in {out}")


class _TestProgress:
    """`grade EXID` on a terminal: one status line naming the test that runs now ("ex41 b: test_x ... (3/14)").

    The grading runs in a forked child whose sys.stderr is captured, so the
    line is written to file descriptor 2 directly; a call that hangs until its
    time limit thus shows which test waits.
    """

    def __init__(self) -> None:
        from grader import plugin

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
    from grader import isolation

    staff = len(sys.argv) > 1 and sys.argv[1] in ("batch", "validate", "autograder", "release", "similarity")
    isolation.install_interrupt_handlers(
        "Interrupted: every sandbox and worker of this run was stopped; rerun to resume." if staff else
        "Abgebrochen: Die Bewertung wurde beendet, alle dabei gestarteten Prozesse wurden gestoppt.")
    cli(prog_name="grade")


if __name__ == "__main__":
    main()
