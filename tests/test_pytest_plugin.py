"""Course authors run the course tests with plain pytest: same fixtures, same points as `grade`."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT, part_scores
from grader.trusted import runner

pytestmark = pytest.mark.slow

GAN = ["exercises/tests/test_gan.py", "autograder_tests/test_gan_hidden.py"]


def run_pytest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def points(output: str, exercise: str) -> dict[str, float]:
    line = next(l for l in output.splitlines() if l.startswith(f"{exercise}: "))
    return {f"{exercise}.{k}": float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}


@pytest.mark.parametrize("variant", ["reference", "jsd_log2"])
def test_plain_pytest_gives_the_same_points_as_grade(course, variant):
    folder = ROOT / "tests" / "submissions" / "gan" / variant
    proc = run_pytest(*GAN, "--submission", str(folder))
    assert "nn-grader: points" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]
    expected = {k: v for k, v in part_scores(runner.grade(folder, ["gan"], suite="all", course=course)).items()
                if k != "gan.wgan"}
    assert points(proc.stdout, "gan") == pytest.approx(expected, abs=1e-3)


def test_selection_and_failures_work_like_pytest(course):
    proc = run_pytest(GAN[0], "--submission", str(ROOT / "exercises"), "-k", "js_divergence")
    assert proc.returncode == 1  # the stub fails
    assert re.search(r"\d+ failed, \d+ deselected", proc.stdout), proc.stdout[-2000:]


def test_without_submission_the_plugin_is_inert():
    """No --submission: no fixtures are registered and no points are printed (the project's own suite)."""
    proc = run_pytest(GAN[0], "-k", "js_divergence", "-x")
    assert "fixture 'student' not found" in proc.stdout
    assert "nn-grader: points" not in proc.stdout


def test_author_bugs_show_the_author_their_traceback(tmp_path):
    """A driver with a free name and a test body that raises: pytest shows the author the real error and where."""
    import shutil

    from conftest import MINI
    from test_blame import AUTHOR_BUGS

    root = tmp_path / "course"
    shutil.copytree(MINI, root)
    (root / "exercises" / "tests" / "test_beta_author_bugs.py").write_text(AUTHOR_BUGS)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "exercises/tests/test_beta_author_bugs.py", "--submission", "solutions"],
                          cwd=root, capture_output=True, text=True, timeout=300)
    out = proc.stdout
    assert proc.returncode == 1 and "3 failed" in out, out[-3000:] + proc.stderr[-2000:]
    assert "AuthorError: driver drive_with_constant() reads STEPS" in out
    assert 'assert got == EXPECTED["five"]' in out and "KeyError: 'five'" in out
    assert "unexpected keyword argument 'wat'" in out
    assert "beta: 0 / 1" in out
    listed = out.split("nn-grader: test errors", 1)[1]
    assert all(f"test_beta_author_bugs.py::{name}" in listed for name in
               ("test_driver_reads_a_module_constant", "test_own_table_key_error", "test_misused_check_helper"))
