"""Blame the right party: what a submission returned is its own failure, only test defects are "not your fault".

Real submissions against the mini course (and a copy of it with extra tests
that use returned values raw, or are broken themselves). Every case must
fail only the tests that received the bad value, with a message about what
came back, and keep the test's own exception for staff.
"""
from __future__ import annotations

import os
import shutil
import time

import pytest

from conftest import MINI, grade_sources, part_messages, part_scores
from grader import course as course_mod
from grader import i18n, plugin

REF_ALPHA = (MINI / "solutions" / "alpha.py").read_text()


def t(key: str, **params) -> str:
    """A message of the mini course's language (the catalogue decides the wording, not this test)."""
    return i18n.t(key, lang=course_mod.load(MINI).language, **params)


def prefix(key: str, **params) -> str:
    """The fixed start of message ``key`` up to its first placeholder."""
    return t(key, **params, **{"error": "\0", "detail": "\0"}).split("\0")[0]


NOT_YOUR_FAULT = prefix("plugin.grader_defect")


def with_total(body: str) -> str:
    """The reference alpha.py with ``total`` replaced by ``body`` (indented function body)."""
    head, _, _ = REF_ALPHA.partition("def total(x):")
    return head + "def total(x):\n" + body


def all_messages(result: dict) -> str:
    return "\n".join(t["message"] for ex in result["exercises"] for p in ex["parts"] for t in p["tests"])


def assert_only_part_b_failed(result: dict) -> str:
    scores = part_scores(result)
    assert scores["alpha.a"] == 1.0 and scores["alpha.b"] == 0.0
    assert NOT_YOUR_FAULT not in all_messages(result)
    assert result["staff"]["internal_errors"] == 0
    return part_messages(result, "alpha", "b")


def test_a_reply_the_decoder_rejects_is_the_students_failure(mini, tmp_path):
    result = grade_sources(mini, tmp_path, {"alpha.py": with_total("    return {(1, 2): 3.0}\n")}, ["alpha"])
    msg = assert_only_part_b_failed(result)
    assert prefix("err.not_plain_data", what="alpha.total(...)") in msg and "tuple" in msg


def test_an_integer_beyond_float_range_where_a_float_is_expected(mini, tmp_path):
    result = grade_sources(mini, tmp_path, {"alpha.py": with_total("    return 10**400\n")}, ["alpha"])
    msg = assert_only_part_b_failed(result)
    assert prefix("err.not_plain_data", what="alpha.total(...)") in msg and "401" in msg


def test_equal_hash_dict_reply_fails_fast(mini, tmp_path):
    """60,000 int keys of one hash (k * (2**61 - 1)), forged straight onto the socket: a BadReturn in < 1 s of CPU."""
    forger = with_total('''    import json, os, stat, struct, time
    P = 2**61 - 1
    pairs = [[k * P, 1] for k in range(1, 60001)]
    reply = {"__dict__": [["ok", {"__dict__": pairs}], ["out", ""]]}
    header = json.dumps({"v": reply, "bufs": []}).encode()
    payload = struct.pack(">I", len(header)) + header
    data = struct.pack("!i", len(payload)) + payload
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
        except OSError:
            pass
    time.sleep(60)
''')
    before, start = os.times(), time.monotonic()
    result = grade_sources(mini, tmp_path, {"alpha.py": forger}, ["alpha"])  # graded in a forked child
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    assert cpu < 1.5 and time.monotonic() - start < 20
    msg = assert_only_part_b_failed(result)
    assert prefix("err.not_plain_data", what="alpha.total(...)") in msg


@pytest.fixture
def raw_course(tmp_path) -> course_mod.Course:
    """The mini course plus tests that use returned values without checks, and one broken test."""
    root = tmp_path / "course"
    shutil.copytree(MINI, root)
    (root / "exercises" / "tests" / "test_alpha_raw.py").write_text('''
import numpy as np
import pytest


@pytest.mark.part("a")
def test_scale_raw(student):
    got = student.alpha.scale(np.ones(2), 2.0)
    assert float(np.sum(got + 0.0)) == 4.0, "scale(ones(2), 2.0) should sum to 4"


@pytest.mark.part("b")
def test_broken_oracle(student):
    expected = 1 / 0          # a defect of the test itself, before any student value
    assert student.alpha.total(np.ones(2)) == expected
''')
    (root / "autograder_tests" / "test_alpha_raw_hidden.py").write_text('''
import numpy as np
import pytest


@pytest.mark.part("a")
def test_scale_raw_hidden(student, rng):
    x = rng.standard_normal(3)
    got = student.alpha.scale(x, 3.0)
    assert float(np.asarray(got).ravel()[0]) == pytest.approx(3.0 * x[0]), "scale(x, 3.0) is wrong"
''')
    return course_mod.load(root)


def test_a_str_where_an_array_is_expected(raw_course, tmp_path):
    source = REF_ALPHA.replace("    return x * factor", "    return 'SECRET' + repr(float(x.ravel()[0]))")
    result = grade_sources(raw_course, tmp_path, {"alpha.py": source}, ["alpha"])
    tests = {t["name"]: t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]}
    # The checked test says what came back; the raw one that choked on the str blames the result, not itself.
    assert tests["test_scale[shape0]"]["status"] == "failed" and "str" in tests["test_scale[shape0]"]["message"]
    raw = tests["test_scale_raw"]
    assert raw["status"] == "failed" and NOT_YOUR_FAULT not in raw["message"]
    assert raw["message"].startswith(prefix("plugin.unusable_result") + "TypeError")
    hidden = tests["test_scale_raw_hidden"]
    assert hidden["message"] == t("plugin.unusable_result_hidden") == plugin.MESSAGES["unusable_result_hidden"]
    assert "SECRET" not in hidden["message"]
    # Staff keep the test's own exception for both.
    staff = {t["id"]: t for t in result["staff"]["tests"]}
    assert "TypeError" in staff[raw["id"]]["internal_error"]
    assert "ValueError" in staff[hidden["id"]]["internal_error"] and "SECRET" in staff[hidden["id"]]["message"]
    # Part b (total) is untouched except for the broken test.
    assert tests["test_total"]["status"] == "passed"


def test_a_defect_of_the_test_itself_is_not_the_students_fault(raw_course, tmp_path):
    result = grade_sources(raw_course, tmp_path, {"alpha.py": REF_ALPHA}, ["alpha"])
    tests = {t["name"]: t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]}
    broken = tests["test_broken_oracle"]
    assert broken["status"] == "failed" and NOT_YOUR_FAULT in broken["message"]
    assert sum(t["status"] == "failed" for t in tests.values()) == 1
    staff = {t["id"]: t for t in result["staff"]["tests"]}
    assert "ZeroDivisionError" in staff[broken["id"]]["internal_error"]
    assert result["staff"]["internal_errors"] == 1


def test_batch_log_lists_the_test_codes_own_errors(raw_course, tmp_path):
    from grader import batch

    subs = tmp_path / "subs"
    (subs / "s0042").mkdir(parents=True)
    (subs / "s0042" / "alpha.py").write_text(REF_ALPHA)
    out = tmp_path / "out"
    batch.run(raw_course, subs, out, batch.BatchOptions(only=("alpha",), jobs=1))
    log = (out / "batch.log").read_text(encoding="utf-8")
    assert "s0042" in log and "test_broken_oracle" in log and "ZeroDivisionError" in log
    # The student reads that it is not their fault; the traceback itself is for staff.
    feedback = (out / "s0042" / "feedback.md").read_text(encoding="utf-8")
    assert NOT_YOUR_FAULT in feedback and "Traceback" not in feedback
