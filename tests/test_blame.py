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
from grader import i18n
from grader.trusted import plugin

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
    from grader.staff import batch

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


# -- author bugs: a driver reading an undefined name, the test's own code raising after a student value --

AUTHOR_BUGS = '''
import pytest

from grader.trusted.checks import assert_float_close

STEPS = [1, 2, 3]
EXPECTED = {"three": 5}


def drive_with_constant(start):
    import beta

    counter = beta.Counter(start)
    for k in STEPS:                     # a module-level constant of the test: it does not reach the sandbox
        counter.add(k)
    return len(counter)


@pytest.mark.part("count")
def test_driver_reads_a_module_constant(student):
    assert student.run(drive_with_constant, 1) == 7


@pytest.mark.part("count")
def test_own_table_key_error(student):
    got = student.beta.Counter(3).add(2)  # a value of the student's arrived ...
    assert got == EXPECTED["five"]        # ... then the test's own table has no such key


@pytest.mark.part("count")
def test_misused_check_helper(student):
    got = student.beta.Counter(3).add(2)
    assert_float_close(got, 5.0, wat="add(2)")   # no such keyword
'''

AUTHOR_BUGS_HIDDEN = '''
import pytest

from exercises.tests.test_beta_author_bugs import drive_with_constant


@pytest.mark.part("count")
def test_driver_reads_a_module_constant_hidden(student):
    assert student.run(drive_with_constant, 1) == 7
'''


@pytest.fixture
def author_bug_course(tmp_path) -> course_mod.Course:
    """The mini course plus beta tests whose own code is wrong (public, and one hidden)."""
    root = tmp_path / "course"
    shutil.copytree(MINI, root)
    (root / "exercises" / "tests" / "test_beta_author_bugs.py").write_text(AUTHOR_BUGS)
    (root / "autograder_tests" / "test_beta_author_bugs_hidden.py").write_text(AUTHOR_BUGS_HIDDEN)
    return course_mod.load(root)


def test_author_bugs_are_test_errors_not_the_students_fault(author_bug_course, tmp_path):
    """The reference beta: only the broken tests fail, each says "not your fault", staff get the traceback."""
    ref_beta = (MINI / "solutions" / "beta.py").read_text()
    result = grade_sources(author_bug_course, tmp_path / "sub", {"beta.py": ref_beta}, ["beta"])
    tests = {t["name"]: t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]}
    broken = {"test_driver_reads_a_module_constant", "test_own_table_key_error", "test_misused_check_helper",
              "test_driver_reads_a_module_constant_hidden"}
    assert {name for name, test in tests.items() if test["status"] == "failed"} == broken
    for name in broken:
        message = tests[name]["message"]
        assert NOT_YOUR_FAULT in message or message == t("plugin.grader_defect_hidden"), (name, message)
        assert "NameError" not in message and "Ihr Code" not in message and "Ihr Ergebnis" not in message
    assert tests["test_driver_reads_a_module_constant_hidden"]["message"] == t("plugin.grader_defect_hidden")
    assert t("plugin.author_error") in tests["test_driver_reads_a_module_constant"]["message"]
    staff = {s["id"]: s for s in result["staff"]["tests"]}
    assert result["staff"]["internal_errors"] == len(broken)
    driver_error = staff[tests["test_driver_reads_a_module_constant"]["id"]]["internal_error"]
    assert "AuthorError" in driver_error and "STEPS" in driver_error and "drive_with_constant" in driver_error
    assert "KeyError: 'five'" in staff[tests["test_own_table_key_error"]["id"]]["internal_error"]
    assert "wat" in staff[tests["test_misused_check_helper"]["id"]]["internal_error"]
    # The test fails either way (a broken test certifies nothing); staff fix it and regrade.
    assert part_scores(result)["beta.count"] < 1.0


def test_a_value_the_test_cannot_use_is_still_the_students(author_bug_course, tmp_path):
    """The other side of the line: a returned str that breaks arithmetic in the test body stays the student's."""
    broken_beta = (MINI / "solutions" / "beta.py").read_text().replace("return self.value\n", "return 'x'\n", 1)
    (author_bug_course.root / "exercises" / "tests" / "test_beta_raw.py").write_text('''
import pytest

NAMES = {5: "fünf"}
SQUARES = [0, 1, 4, 9]


@pytest.mark.part("count")
def test_add_raw(student):
    got = student.beta.Counter(3).add(2)
    assert got + 0 == 5


@pytest.mark.part("count")
def test_add_named(student):
    got = student.beta.Counter(3).add(2)
    assert NAMES[got] == "fünf"          # the test's table, the student's key


@pytest.mark.part("count")
def test_len_squared(student):
    assert SQUARES[len(student.beta.Counter(3))] == 9
''')
    broken_beta = broken_beta.replace("return self.value\n", "return self.value * 10\n", 1)  # __len__: 30
    result = grade_sources(author_bug_course, tmp_path / "sub", {"beta.py": broken_beta}, ["beta"])
    tests = {t["name"]: t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]}
    assert tests["test_add_raw"]["message"].startswith(prefix("plugin.unusable_result") + "TypeError")
    assert tests["test_add_named"]["message"].startswith(prefix("plugin.unusable_result") + "KeyError")
    assert tests["test_len_squared"]["message"].startswith(prefix("plugin.unusable_result") + "IndexError")
    assert NOT_YOUR_FAULT in tests["test_own_table_key_error"]["message"]


@pytest.mark.parametrize("source, names", [
    ("def d(x):\n    return np.sum(x) + LIMIT\n", ["LIMIT", "np"]),
    ("def d(x):\n    import numpy as np\n    return np.sum(x), len(x), __name__\n", []),
    ("def d(xs):\n    def inner(v):\n        return helper(v)\n    return [inner(v) + K for v in xs]\n", ["K", "helper"]),
    ("def d():\n    class C:\n        a = 1\n        b = a + OFFSET\n    return C.b\n", ["OFFSET"]),
    ("def d():\n    global G\n    G = 2\n    return G + d.__defaults__ is None\n", []),
    ("@cache\ndef d():\n    return 1\n", ["cache"]),
])
def test_free_names_of_a_driver(source, names):
    from grader.trusted.remote import free_names

    assert free_names(source) == names


def test_warm_drivers_prepares_exactly_the_functions_sent_to_run(tmp_path, monkeypatch):
    """The batch's warm parent prepares each driver a module sends with `.run(name, ...)`, not its other functions."""
    import sys

    from grader.trusted import remote

    (tmp_path / "warm_demo_tests.py").write_text(
        "def sum_driver(mod, x):\n    return mod.total(x)\n\n"
        "def helper():\n    return 1\n\n"
        "def test_x(student):\n    student.run(sum_driver, [1, 2])\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import warm_demo_tests

    prepared: list[str] = []
    real = remote._driver_source.__wrapped__

    def source(driver):
        prepared.append(driver.__name__)
        return real(driver)

    monkeypatch.setattr(remote, "_driver_source", source)
    try:
        assert remote.warm_drivers([warm_demo_tests]) == 1
    finally:
        sys.modules.pop("warm_demo_tests", None)
    assert prepared == ["sum_driver"]
