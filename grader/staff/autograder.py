"""`grade autograder`: the Gradescope autograder zip (staff only, never for students).

Gradescope wants a zip with ``setup.sh`` and ``run_autograder`` at its root
(docs/lms.md section 1.2). Ours also holds what grading needs and nothing more:
the whole engine (grader/ with grader/staff/), course.toml, exercises/ (framework, stubs,
public tests and their support code), autograder_tests/ (hidden tests,
secret support code, the SEED if any), data/ including the MNIST test split
the hidden test of ex41 e scores with, ``requirements.txt`` with the pinned
dependencies for setup.sh, and ``autograder_config.json`` (visibility of
hidden tests, optionally which exercises to grade). Never solutions/.

setup.sh installs Python >= 3.11 and the dependencies, torch from PyTorch's
CPU index (``--index-url https://download.pytorch.org/whl/cpu``; cannot be
tested here, only documented). run_autograder calls grader/gradescope_run.py.
The zip is reproducible like the student release.
"""
from __future__ import annotations

import importlib.metadata
import json
import re
import string
from pathlib import Path

import grader
from grader.staff import release
from grader.course import Course
from grader.staff.gradescope_run import CONFIG_NAME, grader_error_results

AUTOGRADER_NAME = "autograder.zip"
PLATFORMS = ("gradescope",)
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def pinned_requirements() -> list[str]:
    """The project's dependencies pinned to the versions installed here (what staff tested with).

    A local version label (``2.13.0+cpu``) is dropped: the CPU index serves the
    same version under that label. A dependency not installed here keeps its range.
    """
    pins = []
    for spec in release.project_metadata()["dependencies"]:
        match = _NAME.match(spec)
        name = match.group(1) if match else spec
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pins.append(spec)
            continue
        pins.append(f"{name}=={version.split('+', 1)[0]}")
    return pins


def requirements_text() -> str:
    lines = ["# Pinned by `grade autograder` from the versions the course staff tested with.",
             "# torch is installed first from PyTorch's CPU index by setup.sh (no CUDA on Gradescope)."]
    return "\n".join(lines + pinned_requirements()) + "\n"


def _template(name: str, **values: str) -> str:
    return string.Template((release.TEMPLATES / name).read_text(encoding="utf-8")).substitute(values)


def setup_sh() -> str:
    torch = next((p for p in pinned_requirements() if p.startswith("torch")), "torch")
    return _template("gradescope_setup.sh.tmpl", torch_pin=torch)


def run_autograder_sh() -> str:
    fallback = grader_error_results("run_autograder: the grader could not start (see stdout)")
    return _template("gradescope_run_autograder.tmpl", fallback_json=json.dumps(fallback, ensure_ascii=False))


def config(hidden_visibility: str) -> dict:
    """autograder_config.json: staff may edit it in the zip (e.g. "exercises": ["ex41"])."""
    return {
        "platform": "gradescope",
        "tool_version": grader.__version__,
        "hidden_visibility": hidden_visibility,
        "exercises": None,
        "options": {},
    }


def gradescope_entries(course: Course, hidden_visibility: str = "after_published") -> dict[str, bytes]:
    """Every file of the Gradescope zip, keyed by its path at the zip root."""
    entries = release.engine_entries(staff=True)
    entries.update(release.exercise_entries(course))
    entries.update(release.tree(course.root / "data", "data"))
    entries.update(release.tree(course.hidden_tests_dir, course.hidden_tests_dir.name))
    entries["requirements.txt"] = requirements_text().encode()
    entries["setup.sh"] = setup_sh().encode()
    entries["run_autograder"] = run_autograder_sh().encode()
    entries[CONFIG_NAME] = (json.dumps(config(hidden_visibility), indent=1) + "\n").encode()
    entries["README_AUTOGRADER.md"] = _template("gradescope_README.md.tmpl", title=course.title,
                                                version=grader.__version__,
                                                hidden_visibility=hidden_visibility).encode()
    return entries


def build(course: Course, out_dir: Path, platform: str = "gradescope",
          hidden_visibility: str = "after_published") -> Path:
    """Write ``out_dir/autograder.zip`` for ``platform`` and return its path."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; supported: {', '.join(PLATFORMS)}")
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {', '.join(VISIBILITIES)}")
    entries = gradescope_entries(course, hidden_visibility)
    return release.write_zip(entries, Path(out_dir) / AUTOGRADER_NAME,
                             executables=frozenset({"setup.sh", "run_autograder"}))
