"""Gradescope results.json: schema-valid for every kind of result, scores add up, hidden tests hidden."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from grader.staff.reports import gradescope

FIX = Path(__file__).parent / "fixtures" / "lms"
SCHEMA = json.loads((FIX / "gradescope_results.schema.json").read_text())
NAMES = ["full", "partial", "error", "pending", "hidden"]


def load(name: str) -> dict:
    return json.loads((FIX / "results" / f"{name}.json").read_text(encoding="utf-8"))


def validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA)


@pytest.mark.parametrize("name", NAMES)
def test_results_json_is_valid(name):
    data = gradescope.to_results_json(load(name))
    errors = sorted(validator().iter_errors(data), key=str)
    assert not errors, [e.message for e in errors]
    # round-trips through JSON (what run_autograder writes)
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize("path", sorted((FIX / "gradescope" / "invalid").glob("*.json")), ids=lambda p: p.stem)
def test_schema_rejects_invalid_examples(path):
    """The validation above can fail: the schema rejects each known-bad file."""
    assert list(validator().iter_errors(json.loads(path.read_text()))), f"{path.name} should be invalid"


@pytest.mark.parametrize("path", sorted((FIX / "gradescope" / "valid").glob("*.json")), ids=lambda p: p.stem)
def test_schema_accepts_documented_examples(path):
    assert not list(validator().iter_errors(json.loads(path.read_text())))


def test_schema_rejects_a_broken_conversion():
    data = gradescope.to_results_json(load("partial"))
    data["tests"][0]["visibility"] = "after_publish"   # a typo the test must catch
    assert list(validator().iter_errors(data))


@pytest.mark.parametrize("name", NAMES)
def test_scores_add_up(name):
    result = load(name)
    data = gradescope.to_results_json(result)
    assert data["score"] == pytest.approx(result["score"])
    scored = [t for t in data["tests"] if "score" in t]
    assert sum(t["score"] for t in scored) == pytest.approx(result["score"])
    for t in data["tests"]:
        assert t["name"]
        if "status" in t:
            assert t["status"] == ("passed" if t["score"] >= t["max_score"] else "failed")


def test_hidden_tests_after_published_by_default_and_configurable():
    result = load("hidden")
    n_hidden = sum(1 for ex in result["exercises"] for p in ex["parts"] for t in p["tests"] if t["hidden"])
    data = gradescope.to_results_json(result)
    assert sum(1 for t in data["tests"] if t["visibility"] == "after_published") == n_hidden == 5
    assert all(t["visibility"] == "visible" for t in data["tests"] if "hidden" not in t["name"])
    data = gradescope.to_results_json(result, hidden_visibility="hidden")
    assert sum(1 for t in data["tests"] if t["visibility"] == "hidden") == n_hidden
    with pytest.raises(ValueError, match="hidden_visibility"):
        gradescope.to_results_json(result, hidden_visibility="secret")


def test_failure_message_and_output_reach_the_test_output():
    data = gradescope.to_results_json(load("partial"))
    grad = next(t for t in data["tests"] if t["name"] == "ex41 b: test_grad")
    assert grad["status"] == "failed" and grad["score"] == 0 and grad["max_score"] == 1
    assert "flipped kernel" in grad["output"] and "debug: grad shape" in grad["output"]
    assert grad["tags"] == ["ex41", "ex41.b"]


def test_errored_submission():
    data = gradescope.to_results_json(load("error"))
    assert data["score"] == 0 and data["tests"] == []
    assert "the zip file is corrupt" in data["output"]


def test_missing_exercise_and_manual_parts():
    data = gradescope.to_results_json(load("hidden"))
    missing = [t for t in data["tests"] if t["name"].startswith("qlearning")]
    assert len(missing) == 1 and missing[0]["max_score"] == 4 and missing[0]["status"] == "failed"
    assert missing[0]["output"] == "Datei fehlt: qlearning.py\n"   # German, for the student (not "missing: ...")
    pending = gradescope.to_results_json(load("pending"))
    manual = [t for t in pending["tests"] if "(manuell)" in t["name"]]
    assert len(manual) == 1 and "score" not in manual[0] and "status" not in manual[0]


def test_write_is_atomic_and_valid(tmp_path):
    target = tmp_path / "s1" / "results.json"
    gradescope.write(load("partial"), target)
    assert not list(validator().iter_errors(json.loads(target.read_text())))
    assert [p.name for p in target.parent.iterdir()] == ["results.json"]   # no temp file left


def test_hidden_test_output_duration_and_staff_part_never_reach_results_json():
    """A record with output in a hidden test (an older record) and a staff part: results.json shows neither."""
    result = load("hidden")
    hidden = [t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"] if t["hidden"]]
    public = [t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"] if not t["hidden"]]
    for t in hidden:
        t["output"], t["duration"] = "HIDDEN-INPUT-4711", 100.0
    result["staff"] = {"tests": [{"id": hidden[0]["id"], "hidden": True, "output": "STAFF-ONLY-0815",
                                  "internal_error": "Traceback STAFF-ONLY-0815"}], "internal_errors": 1}
    text = json.dumps(gradescope.to_results_json(result, hidden_visibility="visible"))
    assert "HIDDEN-INPUT-4711" not in text and "STAFF-ONLY-0815" not in text
    data = json.loads(text)
    assert data["execution_time"] == pytest.approx(sum(t["duration"] for t in public), abs=1e-3)
    # Public output still reaches the student.
    public[0]["output"] = "public print 42"
    assert "public print 42" in json.dumps(gradescope.to_results_json(result))
