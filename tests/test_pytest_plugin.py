"""Course authors run the course tests with plain pytest: same fixtures, same points as `grade`."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT, part_scores
from grader import runner

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
