"""The staff commands of `grade`: validate, release, autograder, batch, merge, similarity.

They live beside the staff pipeline they drive, so the student release (which
ships without grader/staff) shows only the student commands in `grade --help`;
grader/cli.py adds these when grader.staff is installed.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.command_support import EXIT_FAILED, EXIT_OK, load_course, parse_test_options, require_walls


@click.command("validate", short_help="Check references, stubs, signatures and the release.")
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
    from grader.staff import validate

    course = load_course(students=False)
    ids = [i for i in only.split(",") if i] or [e.id for e in course.exercises]
    seeds = validate.random_seeds(validate.DEFAULT_SEEDS if n_seeds is None else n_seeds, seed_base)
    if seeds:
        click.echo(f"secret seeds: {seeds[0]} ... {seeds[-1]} ({len(seeds)})")
    problems = validate.validate(course, ids, echo=click.echo, seeds=seeds)
    for problem in problems:
        click.echo(click.style("PROBLEM ", fg="red", bold=True) + str(problem))
    click.echo("validate: OK" if not problems else f"validate: {len(problems)} problem(s)")
    sys.exit(EXIT_OK if not problems else EXIT_FAILED)


@click.command("release", short_help="Build the student release zip.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def release_cmd(out_dir: Path) -> None:
    """Write OUT/student-release.zip: stubs, task texts (Markdown and notebooks),
    public tests, the course framework and an installable `grade`; no solutions,
    no hidden tests. Same input, same bytes."""
    from grader.staff import release

    path = release.build_release(load_course(students=False), out_dir)
    click.echo(f"wrote {path}")


@click.command("autograder", short_help="Build the LMS autograder package.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--platform", type=click.Choice(["gradescope"]), default="gradescope", show_default=True)
@click.option("--hidden-visibility", type=click.Choice(["hidden", "after_due_date", "after_published", "visible"]),
              default="after_published", show_default=True, help="Gradescope visibility of hidden tests.")
def autograder_cmd(out_dir: Path, platform: str, hidden_visibility: str) -> None:
    """Write OUT/autograder.zip in the platform's format (Gradescope: setup.sh,
    run_autograder, the engine and the hidden tests)."""
    from grader.staff import autograder

    path = autograder.build(load_course(students=False), out_dir, platform=platform,
                            hidden_visibility=hidden_visibility)
    click.echo(f"wrote {path}")


@click.command("similarity", short_help="Find suspiciously similar code in a batch's submissions.")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="Report a pair when this share of either file matches the other.")
@click.option("--only", default="", help="Comma-separated exercise ids (default: all).")
def similarity_cmd(out: Path, threshold: float, only: str) -> None:
    """Compare every student's files per exercise in the batch output OUT (its .work folder) and write
    OUT/similarity.html: pairs above the threshold, side by side, matching code highlighted. The stub's
    code never counts. Needs the optional dependency: pip install 'nn-grader[staff]'."""
    from grader.staff import similarity

    course = load_course(students=False)
    try:
        pairs = similarity.write_report(course, out, threshold, tuple(i for i in only.split(",") if i))
    except ModuleNotFoundError as exc:
        raise click.ClickException(f"{exc.name} is missing: pip install 'nn-grader[staff]'") from None
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{out / 'similarity.html'}: {len(pairs)} pair(s) at or above {threshold:.0%}")


@click.command("batch", short_help="Grade all submissions and write reports and LMS files.")
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
    from grader.staff import batch
    from grader.staff import layouts
    from grader.staff import shard as shard_mod

    course = load_course(students=False)
    ids = tuple(i for i in only.split(",") if i)
    unknown = [i for i in ids if i not in [e.id for e in course.exercises]]
    if unknown:
        raise click.UsageError(f"unknown exercise(s): {', '.join(unknown)}")
    opts = batch.BatchOptions(layout=layout, jobs=jobs, only=ids, lms_lang=lms_lang, manual_csv=manual_csv,
                              test_options=parse_test_options(options, students=False),
                              hidden_visibility=hidden_visibility, timeout=timeout,
                              assignment_title=assignment_title, assignment_id=assignment_id, shard=shard)
    if shard:
        try:
            shard_mod.parse(shard)
        except shard_mod.ShardError as exc:
            raise click.UsageError(str(exc)) from None
    require_walls(course, allow=allow_unisolated)
    bar = _Progress()
    from grader.staff.reports.manual import ManualPointsError

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
        from grader.staff import similarity as similarity_mod

        try:
            pairs = similarity_mod.write_report(course, out)
            click.echo(f"{out / 'similarity.html'}: {len(pairs)} similar pair(s)")
        except ModuleNotFoundError as exc:
            click.echo(f"warning: no similarity check, {exc.name} is missing: pip install 'nn-grader[staff]'",
                       err=True)


@click.command("merge", short_help="Combine the outputs of sharded batches into one set of reports.")
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
    from grader.staff import batch
    from grader.staff import merge

    course = load_course(students=False)
    opts = batch.BatchOptions(layout=layout, lms_lang=lms_lang, manual_csv=manual_csv,
                              hidden_visibility=hidden_visibility, assignment_title=assignment_title,
                              assignment_id=assignment_id)
    from grader.staff.reports.manual import ManualPointsError

    try:
        counts = merge.merge(course, list(shards), out, opts, allow_missing=allow_missing)
    except (merge.MergeError, ManualPointsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{counts['total']} students: {counts['merged']} records merged from {len(shards)} shard(s), "
               f"{counts['missing']} missing. Reports in {out}")


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


def register(group: click.Group) -> None:
    """Add the staff commands to the `grade` group."""
    group.add_command(validate_cmd)
    group.add_command(release_cmd)
    group.add_command(autograder_cmd)
    group.add_command(similarity_cmd)
    group.add_command(batch_cmd)
    group.add_command(merge_cmd)
