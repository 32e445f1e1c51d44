"""Endless loops cost their own tests, quickly; a merely slow case costs only itself (grader/trusted/remote.py).

Rule (docs/authoring.md, "Time limits and endless loops"): a call that timed
out once gets at most REPEAT_LIMIT seconds in later tests; after the
session's timeout budget, calls that timed out before are not run again and
other calls get the short limit. Both tests grade ex41 of the real course
with the reference plus one changed function.
"""
from __future__ import annotations

import time

import pytest

from conftest import ROOT, grade_sources, part_messages, part_scores
from grader.trusted import remote

REFERENCE = (ROOT / "tests" / "submissions" / "ex41" / "reference" / "ex41_conv.py").read_text()

LOOPING_GRAD = REFERENCE + '''

def h_conv2d_grad(image, kernel, grad_output):
    while True:
        pass
'''

SLOW_ON_ONE_CASE = REFERENCE + '''

import time as _time
_fast_h_conv2d = h_conv2d


def h_conv2d(image, kernel):
    if np.shape(image) == (2, 4, 6, 11):  # the largest public case of part a: 60 s here, ms elsewhere
        _time.sleep(60)
    return _fast_h_conv2d(image, kernel)
'''


@pytest.fixture(scope="module")
def reference_scores(course, tmp_path_factory):
    result = grade_sources(course, tmp_path_factory.mktemp("ref"), {"ex41_conv.py": REFERENCE}, ["ex41"],
                           suite="public")
    return part_scores(result)


def test_function_that_never_returns_is_reported_within_about_30_s(course, tmp_path, reference_scores):
    start = time.monotonic()
    result = grade_sources(course, tmp_path, {"ex41_conv.py": LOOPING_GRAD}, ["ex41"], suite="public")
    elapsed = time.monotonic() - start
    scores = part_scores(result)
    assert elapsed < 45, f"grade ex41 took {elapsed:.0f} s with one endless loop (9 tests used to wait 20 s each)"
    assert scores["ex41.a"] == reference_scores["ex41.a"] > 0      # the forward pass is untouched
    assert scores["ex41.b"] == 0
    messages = part_messages(result, "ex41", "b")
    assert "lief länger als 20 s" in messages                      # the first call waited its full limit
    assert "bereits in einem früheren Test ihr Zeitlimit überschritten" in messages or "nicht mehr ausgeführt" in messages
    print(f"endless h_conv2d_grad: grade ex41 (public) in {elapsed:.1f} s, scores {scores}")


def test_slow_only_on_one_large_case_loses_only_that_case(course, tmp_path, reference_scores):
    result = grade_sources(course, tmp_path, {"ex41_conv.py": SLOW_ON_ONE_CASE}, ["ex41"], suite="public")
    part_a = next(p for p in result["exercises"][0]["parts"] if p["id"] == "a")
    failed = [t for t in part_a["tests"] if t["status"] != "passed"]
    # only the test that holds the slow case fails (its other cases run in the same test)
    assert len(failed) == 1 and "lief länger als 20 s" in failed[0]["message"], failed
    scores = part_scores(result)
    lost = reference_scores["ex41.a"] - scores["ex41.a"]
    assert lost == pytest.approx(failed[0]["max_score"])
    for part in ("b", "c", "d"):
        assert scores[f"ex41.{part}"] == reference_scores[f"ex41.{part}"], part


def test_time_limit_rule():
    """The rule itself, without a sandbox: repeat calls short, refused after the budget, explicit limits kept."""
    config = remote.SandboxConfig(submission_dir=ROOT, files=(), call_timeout=20)
    session = remote.StudentSession(config)
    assert session.time_limit(20, "m.f(...)") == (20, "first")
    session.timed_out.add("m.f(...)")
    session.timeout_spent = 2
    assert session.time_limit(20, "m.g(...)") == (20, "first")          # a short stopped call changes nothing
    session.timeout_spent = 20
    assert session.time_limit(20, "m.f(...)") == (remote.REPEAT_LIMIT, "repeat")
    assert session.time_limit(20, "m.g(...)") == (remote.REPEAT_LIMIT, "budget")  # a driver may loop in f too
    session.timeout_spent = 20 + remote.EXTRA_TIMEOUT_BUDGET
    assert session.time_limit(20, "m.f(...)") == (0.0, "refused")
    assert session.time_limit(20, "m.g(...)") == (remote.REPEAT_LIMIT, "budget")
    assert session.time_limit(120, "m.predict(...)") == (120, "first")  # a longer limit a test asked for
