"""Submissions that try to fool or stop the grader lose only the attacked part.

Each attack replaces `total` (part b) of an otherwise correct alpha.py; part a
(scale, public and hidden tests) must still score full points, and beta.py in
the same submission must be graded as if nothing happened.
"""
import pytest

from conftest import MINI, grade_sources, part_messages, part_scores

REF_ALPHA = (MINI / "solutions" / "alpha.py").read_text()
REF_BETA = (MINI / "solutions" / "beta.py").read_text()
HONEST_TOTAL = '''def total(x):
    """Sum of all entries as a float."""
    return float(np.sum(x))
'''

ATTACKS = {
    "patch_allclose": ('''
def total(x):
    np.allclose = lambda *a, **k: True
    np.isclose = lambda *a, **k: np.ones(np.shape(a[0]), dtype=bool)
    np.testing.assert_allclose = lambda *a, **k: None
    return 0.0
''', "falsch"),
    "patch_pytest": ('''
def total(x):
    try:
        import pytest
        pytest.fail = lambda *a, **k: None
        pytest.approx = lambda *a, **k: 0.0
    except Exception:
        pass
    import builtins
    builtins.AssertionError = type("Fake", (Exception,), {})
    return -1.0
''', "falsch"),
    "sys_exit_in_call": ('''
def total(x):
    import sys
    sys.exit(0)
''', "sys.exit(0) wurde aufgerufen"),
    "os_exit_in_call": ('''
def total(x):
    import os
    os._exit(0)
''', "endete mit dem Status 0"),
    "endless_loop": ('''
def total(x):
    while True:
        pass
''', "lief länger als 3 s"),
    "returns_non_array_object": ('''
class Fake(float):
    def __eq__(self, other):
        return True
def total(x):
    return Fake(1.0)
''', "Gleitkommazahl"),
    "reads_caller_frames": ('''
import sys, gc
def total(x):
    found = []
    f = sys._getframe()
    while f is not None:
        found += [v for v in f.f_locals.values() if isinstance(v, float)]
        f = f.f_back
    found += [o for o in gc.get_objects() if isinstance(o, float)][:0]
    return found[0] if found else 42.0
''', "falsch"),
    "forged_result_print": ('''
def total(x):
    print('{"tests": [{"score": 100, "status": "passed"}], "score": 100}')
    import os
    os.write(1, b'PASSED 100/100')
    return None
''', "Gleitkommazahl"),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_loses_only_its_part(mini, tmp_path, name):
    attack, expected_words = ATTACKS[name]
    source = REF_ALPHA.replace(HONEST_TOTAL, attack)
    assert source != REF_ALPHA
    result = grade_sources(mini, tmp_path, {"alpha.py": source, "beta.py": REF_BETA}, ["alpha", "beta"])
    scores = part_scores(result)
    assert scores["alpha.a"] == 1.0, name
    assert scores["alpha.b"] == 0.0, name
    assert scores["beta.count"] == 1.0, name
    assert expected_words in part_messages(result, "alpha", "b"), part_messages(result, "alpha", "b")
    assert result["score"] == 2.0


def test_sys_exit_at_import_fails_only_that_file(mini, tmp_path):
    source = "import sys\nsys.exit(3)\n" + REF_ALPHA
    result = grade_sources(mini, tmp_path, {"alpha.py": source, "beta.py": REF_BETA}, ["alpha", "beta"])
    scores = part_scores(result)
    assert scores["alpha.a"] == 0.0 and scores["alpha.b"] == 0.0 and scores["beta.count"] == 1.0
    assert "alpha.py konnte nicht importiert werden: SystemExit" in part_messages(result, "alpha", "a")


def test_endless_loop_at_import_costs_one_timeout(mini, tmp_path):
    source = "while True:\n    pass\n" + REF_ALPHA
    result = grade_sources(mini, tmp_path, {"alpha.py": source, "beta.py": REF_BETA}, ["alpha", "beta"])
    assert part_scores(result)["beta.count"] == 1.0
    msgs = part_messages(result, "alpha", "a") + part_messages(result, "alpha", "b")
    public = [t for p in result["exercises"][0]["parts"] for t in p["tests"] if not t["hidden"]]
    assert msgs.count("dauerte länger als 5 s") == len(public)  # every public test says why; only one waited
    assert "konnte nicht importiert werden" in msgs  # the hidden test says only what kind of failure
    durations = [t["duration"] for p in result["exercises"][0]["parts"] for t in p["tests"]]
    assert sorted(durations)[-2] < 1.0


def test_torch_in_numpy_only_exercise_is_rejected(mini, tmp_path):
    source = REF_ALPHA.replace("import numpy as np", "import numpy as np\nimport torch")
    result = grade_sources(mini, tmp_path, {"alpha.py": source}, ["alpha"])
    assert part_scores(result)["alpha.a"] == 0.0
    assert "alpha.py verwendet torch (Zeile 2)" in part_messages(result, "alpha", "a")


def test_dynamic_torch_import_is_blocked_in_the_sandbox(mini, tmp_path):
    source = REF_ALPHA.replace(HONEST_TOTAL, '''def total(x):
    mod = __import__("to" + "rch")
    return float(mod.tensor(x).sum())
''')
    result = grade_sources(mini, tmp_path, {"alpha.py": source}, ["alpha"])
    assert part_scores(result)["alpha.b"] == 0.0 and part_scores(result)["alpha.a"] == 1.0
    assert "torch ist bei der Bewertung nicht verfügbar" in part_messages(result, "alpha", "b")


def test_hidden_tests_and_solutions_are_not_visible(mini, tmp_path):
    spy = REF_ALPHA.replace(HONEST_TOTAL, f'''def total(x):
    import os
    seen = []
    for folder in ({str(MINI / "autograder_tests")!r}, {str(MINI / "solutions")!r}):
        try:
            seen += os.listdir(folder)
        except OSError:
            pass
    if seen:
        raise RuntimeError("saw " + ",".join(seen))
    return float(np.sum(x))
''')
    result = grade_sources(mini, tmp_path, {"alpha.py": spy}, ["alpha"])
    assert part_scores(result)["alpha.b"] == 2.0, part_messages(result, "alpha", "b")


def test_network_is_unreachable(mini, tmp_path):
    probe = REF_ALPHA.replace(HONEST_TOTAL, '''def total(x):
    import socket
    try:
        s = socket.socket()  # refused outright by the seccomp filter where it is on
        s.settimeout(1)
        s.connect(("127.0.0.1", 9))
    except ConnectionRefusedError:
        raise RuntimeError("loopback reachable")
    except OSError:
        pass
    return float(np.sum(x))
''')
    result = grade_sources(mini, tmp_path, {"alpha.py": probe}, ["alpha"])
    assert part_scores(result)["alpha.b"] == 2.0, part_messages(result, "alpha", "b")
    assert result["isolation"]["network"].startswith("namespace")
