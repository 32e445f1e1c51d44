"""What runs inside Gradescope for every submission (called by `run_autograder`).

Gradescope's layout (docs/lms.md section 1.2): the autograder zip is unpacked to
``ROOT/source`` (here: the course with hidden tests), the student's upload
lies in ``ROOT/submission``, and ``ROOT/results/results.json`` must exist
afterwards. ROOT is /autograder there; ``--root`` or the environment
variable AUTOGRADER_ROOT moves it, so tests run the same code in a folder.

The upload may hold the exercise files at any depth, a `grade pack` zip, or
a release notebook; grader.staff.layouts finds them (as for `grade batch`). Only
the exercises with at least one submitted file are graded, unless
``autograder_config.json`` lists ``exercises``. Public and hidden tests run.

A results.json is always written: a submission that holds no exercise file
gets 0 points and says what was found; if the grader itself fails, the
student gets 0 points with a message that it is not their fault, the
traceback goes to stdout (shown to instructors only) and ``extra_data``
carries ``grader_error: true`` so staff can find and re-run those.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

DEFAULT_ROOT = Path("/autograder")
ROOT_ENV = "AUTOGRADER_ROOT"
VISIBILITY_ENV = "AUTOGRADER_HIDDEN_VISIBILITY"
CONFIG_NAME = "autograder_config.json"
DEFAULT_VISIBILITY = "after_published"

GRADER_ERROR_TEXT = (
    "Der Autograder ist auf einen internen Fehler gestoßen. Das liegt nicht an Ihrer Abgabe. "
    "Bitte melden Sie sich bei der Übungsleitung; Ihre Abgabe wird neu bewertet, sobald der Fehler "
    "behoben ist.\n"
)


def load_config(source: Path) -> dict:
    """``source/autograder_config.json`` (written by `grade autograder`), or {}."""
    path = source / CONFIG_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def grader_error_results(detail: str = "") -> dict:
    """results.json for a failure of the grader itself: 0 points, not the student's fault."""
    return {
        "score": 0.0,
        "output": GRADER_ERROR_TEXT,
        "output_format": "text",
        "extra_data": {"grader_error": True, "detail": detail[-2000:]},
        "tests": [],
    }


def collect_submission(course, submission: Path, workdir: Path) -> tuple[Path, str | None, list[str]]:
    """The student's exercise files, flattened into ``workdir/files``: (folder, error or None, notes)."""
    from grader.staff.layouts import Group, Limits, collect, folder_entries

    expected = set(course.submission_files(course.exercise_ids()))
    limits = Limits()
    files_dir = workdir / "files"
    group = Group(key="submission", student_id="submission",
                  entries=[(e.path, e) for e in folder_entries(submission, limits)] if submission.is_dir() else [])
    error, _fingerprint, notes = collect(group, files_dir, expected, limits)
    return files_dir, error, notes


def not_gradable(course, ids: list[str], reason: str) -> dict:
    """The result document of a submission in which nothing could be graded: 0 points and why."""
    from grader.trusted import results

    return results.error_result(course, ids, reason)


def student_id(root: Path) -> str | None:
    """The submitter's Gradescope user id (submission_metadata.json), which seeds hidden inputs.

    Hidden random inputs are drawn per student (grader.trusted.plugin.hidden_seed), so
    a regrade of the same student reproduces them; without metadata there is
    no id and every submission draws the same hidden inputs.
    """
    try:
        meta = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        users = meta.get("users") or []
        user_id = users[0].get("id") if users and isinstance(users[0], dict) else None
    except (OSError, ValueError, AttributeError):
        return None
    return str(user_id) if user_id not in (None, "") else None


def staff_log(result: dict, limit: int = 200_000) -> str:
    """The staff part of a result (hidden tests' output and messages, grader errors) for stdout.

    Gradescope shows run_autograder's stdout to instructors only; results.json
    (what students see) never carries it.
    """
    staff = result.get("staff") or {}
    if not staff.get("tests"):
        return ""
    text = json.dumps(staff, indent=1, ensure_ascii=False)
    return "staff record (instructors only):\n" + text[:limit] + ("\n[... cut]" if len(text) > limit else "") + "\n"


def exercises_to_grade(course, files_dir: Path, config: dict) -> list[str]:
    """The configured exercises, else those with at least one submitted student file."""
    configured = config.get("exercises")
    if configured:
        return [course.exercise(i).id for i in configured]
    return [ex.id for ex in course.exercises if any((files_dir / f).is_file() for f in ex.files)]


def grade_submission(root: Path, hidden_visibility: str) -> dict:
    """Grade ``root/submission`` against the course in ``root/source``; return results.json's dict."""
    from grader import course as course_mod
    from grader.trusted import runner
    from grader.staff.reports import gradescope

    source = root / "source"
    course = course_mod.load(source)
    config = load_config(source)
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        files_dir, error, notes = collect_submission(course, root / "submission", Path(tmp))
        ids = [] if error else exercises_to_grade(course, files_dir, config)
        if error or not ids:
            reason = error or "none of the exercise files was submitted"
            ids = list(config.get("exercises") or [e.id for e in course.exercises])
            result = not_gradable(course, ids, reason)
        else:
            runner.prepare_trusted()
            hidden_paths = tuple(str(p) for p in (root / "submission", root / "results",
                                                  root / "submission_metadata.json"))
            result = runner.grade(files_dir, ids, suite="all", course=course,
                                  test_options=config.get("options") or {}, hidden_paths=hidden_paths,
                                  student_id=student_id(root))
            print(staff_log(result), end="", flush=True)
    data = gradescope.to_results_json(result, hidden_visibility=hidden_visibility)
    if notes:
        data["output"] = data.get("output", "") + "\nHinweise zur Abgabe:\n" + "".join(f"- {n}\n" for n in notes)
    data["extra_data"] = {"tool_version": result.get("tool_version"), "files": result.get("files", {}),
                          "exercises": ids}
    return data


def run(root: Path, hidden_visibility: str | None = None) -> dict:
    """Grade and write ``root/results/results.json`` whatever happens; return what was written."""
    root = Path(root)
    results = root / "results" / "results.json"
    try:
        visibility = (hidden_visibility or os.environ.get(VISIBILITY_ENV)
                      or load_config(root / "source").get("hidden_visibility") or DEFAULT_VISIBILITY)
        data = grade_submission(root, visibility)
    except BaseException as exc:  # noqa: BLE001 - whatever failed, Gradescope must get a results.json
        detail = traceback.format_exc()
        print(detail, file=sys.stdout, flush=True)  # results/stdout: instructors only
        data = grader_error_results(detail)
        if isinstance(exc, KeyboardInterrupt):
            _write_json(results, data)
            raise
    _write_json(results, data)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade one Gradescope submission (run by run_autograder).")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT),
                        help="the autograder root with source/, submission/, results/ (default: /autograder)")
    parser.add_argument("--hidden-visibility", default=None,
                        choices=["hidden", "after_due_date", "after_published", "visible"],
                        help="Gradescope visibility of hidden tests (default: from autograder_config.json)")
    args = parser.parse_args(argv)
    data = run(args.root, args.hidden_visibility)
    print(f"results.json written: score {data.get('score', 0)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
