"""The engine on a mini course: points, partial credit, suites, handles, drivers, messages."""
import shutil

import pytest

from conftest import MINI, grade_sources, part_messages, part_scores
from grader.trusted import runner

REF_ALPHA = (MINI / "solutions" / "alpha.py").read_text()
REF_BETA = (MINI / "solutions" / "beta.py").read_text()


def test_reference_gets_full_points_with_hidden_tests(mini, tmp_path):
    result = grade_sources(mini, tmp_path, {"alpha.py": REF_ALPHA, "beta.py": REF_BETA}, ["alpha", "beta"])
    assert part_scores(result) == {"alpha.a": 1.0, "alpha.b": 2.0, "alpha.essay": 0.0, "beta.count": 1.0}
    essay = result["exercises"][0]["parts"][2]
    assert essay["manual"] and essay["pending"] and essay["max_score"] == 1.0
    assert result["score"] == 4.0 and result["max_score"] == 5.0
    assert any(t["hidden"] for t in result["exercises"][0]["parts"][0]["tests"])


def test_public_suite_scores_only_the_public_share(mini, tmp_path):
    result = grade_sources(mini, tmp_path, {"alpha.py": REF_ALPHA}, ["alpha"], suite="public")
    part_a = result["exercises"][0]["parts"][0]
    assert part_a["score"] == 0.5 and part_a["max_score"] == 0.5 and part_a["hidden_max_score"] == 0.5
    assert not any(t["hidden"] for t in part_a["tests"])


def test_stub_gets_zero_with_not_implemented_message(mini, tmp_path):
    shutil.copy(MINI / "exercises" / "alpha.py", tmp_path / "alpha.py")
    result = runner.grade(tmp_path, ["alpha"], suite="all", course=mini)
    assert part_scores(result) == {"alpha.a": 0.0, "alpha.b": 0.0, "alpha.essay": 0.0}
    assert "Noch nicht implementiert (scale fehlt noch)" in part_messages(result, "alpha", "a")


def test_partial_credit_and_mistake_message(mini, tmp_path):
    wrong = REF_ALPHA.replace("return x * factor", "return x * 2").replace(
        "return float(np.sum(x))", "return float(np.sum(x)) if x.size != 4 else 0.0")
    result = grade_sources(mini, tmp_path, {"alpha.py": wrong}, ["alpha"])
    scores = part_scores(result)
    assert scores["alpha.a"] == 0.0
    # test_total (1 of 2 public tests in b, 1 point each) passes; test_total_partial earns 2/3 of its point.
    assert scores["alpha.b"] == pytest.approx(1.0 + 2 / 3, abs=1e-4)
    msg = part_messages(result, "alpha", "a")
    assert "bekannten Fehler: mit 2 multipliziert" in msg and "x (2, 3)" in msg
    assert "total ist für 2 von 3 Eingaben richtig" in part_messages(result, "alpha", "b")


def test_hidden_messages_leave_out_values(mini, tmp_path):
    wrong = REF_ALPHA.replace("return x * factor", "return x * factor + 1e-3")
    result = grade_sources(mini, tmp_path, {"alpha.py": wrong}, ["alpha"])
    hidden = [t for t in result["exercises"][0]["parts"][0]["tests"] if t["hidden"]]
    assert hidden and hidden[0]["status"] == "failed"
    assert "Der größte Fehler liegt bei Index" in hidden[0]["message"]
    assert "erwartet" not in hidden[0]["message"] and "7.125" not in hidden[0]["message"]
    public = [t for t in result["exercises"][0]["parts"][0]["tests"] if not t["hidden"]]
    assert "erwartet" in public[0]["message"]


def test_handles_and_drivers(mini, tmp_path):
    wrong = REF_BETA.replace("return self.value\n\n    def __len__", "return self.value + 1\n\n    def __len__")
    result = grade_sources(mini, tmp_path, {"beta.py": wrong}, ["beta"])
    tests = {t["name"]: t for t in result["exercises"][0]["parts"][0]["tests"]}
    assert tests["test_counter_handle"]["status"] == "failed"
    assert "Counter(3).add(2) sollte 5 zurückgeben" in tests["test_counter_handle"]["message"]
    assert tests["test_counter_driver"]["status"] == "passed"


def test_missing_file_is_reported_per_exercise(mini, tmp_path):
    result = grade_sources(mini, tmp_path, {"beta.py": REF_BETA}, ["alpha", "beta"])
    alpha = result["exercises"][0]
    assert alpha["status"].startswith("missing: alpha.py")
    assert "alpha.py wurde nicht abgegeben" in part_messages(result, "alpha", "a")
    assert part_scores(result)["beta.count"] == 1.0


def test_student_output_is_captured_and_capped(mini, tmp_path):
    chatty = REF_ALPHA.replace('    return x * factor', '    print("scaling" * 1000)\n    return x * factor')
    result = grade_sources(mini, tmp_path, {"alpha.py": chatty}, ["alpha"])
    test = result["exercises"][0]["parts"][0]["tests"][0]
    assert test["status"] == "passed"
    assert test["output"].startswith("scaling") and "weitere Zeichen der Ausgabe nicht angezeigt" in test["output"]
    assert len(test["output"]) < 2200


def test_same_inputs_every_run(mini, tmp_path):
    printing = REF_ALPHA.replace('    return x * factor', '    print(repr(x.sum()))\n    return x * factor')
    first = grade_sources(mini, tmp_path / "1", {"alpha.py": printing}, ["alpha"])
    second = grade_sources(mini, tmp_path / "2", {"alpha.py": printing}, ["alpha"])
    outputs = lambda r: [t["output"] for t in r["exercises"][0]["parts"][0]["tests"]]  # noqa: E731
    assert outputs(first) == outputs(second) and outputs(first)[0]


def test_in_process_grading_gives_the_same_result(mini, tmp_path):
    (tmp_path / "alpha.py").write_text(REF_ALPHA)
    forked = runner.grade(tmp_path, ["alpha"], suite="all", course=mini)
    here = runner.grade(tmp_path, ["alpha"], suite="all", course=mini, fork=False)
    assert part_scores(forked) == part_scores(here)
