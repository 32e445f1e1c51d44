"""The adversarial corpus (tests/attacks/): every attack loses only what it attacks.

Each folder in tests/attacks/ is one hostile submission for the mini course
(tests/fixtures/minicourse) plus a `verdict.json`:

    {"attack": "what it does",
     "exercises": ["alpha", "beta"],            # optional, default both
     "parts": {"alpha.b": 0.0},                 # expected points of the attacked parts
     "messages": {"alpha.b": ["sys.exit"]},     # substrings (case-insensitive) of that part's messages
     "max_output_chars": 2500,                  # optional cap on every test's captured output
     "absent_globs": ["/tmp/pwned*"]}           # optional: paths that must not exist afterwards

Student files missing from a folder are the reference solutions, so one file
carries the attack and everything else is honest. Every part not listed in
"parts" must score exactly what the reference scores. After each grading:
no process forked by this grader's sandbox template survives, no sandbox
working directory is left, the grader's own files and its output folder are
unchanged, and no message contains "LEAK" (the probes' alarm word).

Placeholders in submission files: @@COURSE_ROOT@@ (the mini course),
@@REPO_ROOT@@ (this repository, which holds the real course's secrets) and
@@OUTPUT_DIR@@ (a folder standing in for the grader's output directory).
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import hypothesis  # noqa: F401 - imported once here so forked graders do not re-import it
import pytest

from conftest import MINI, ROOT, part_messages, part_scores
from grader.sandbox import isolation
from grader.trusted import runner
from grader.sandbox import zygote
from test_language import _report, scan

CORPUS = Path(__file__).resolve().parent / "attacks"
ATTACKS = sorted(p.name for p in CORPUS.iterdir() if (p / "verdict.json").is_file())
GUARDED = [ROOT / "grader", MINI, CORPUS]


def _tree_hash(paths: list[Path]) -> dict[str, str]:
    out = {}
    for top in paths:
        for path in sorted(top.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _our_sandbox_processes() -> list[str]:
    """Processes running as a sandbox uid that descend from this grader's zygote."""
    token = f"GRADE_ZYGOTE_TOKEN={zygote.get().token}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                uid = next(int(line.split()[1]) for line in fh if line.startswith("Uid:"))
            if uid < isolation.UID_BASE:
                continue
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if token not in fh.read():
                    continue
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except (OSError, StopIteration, IndexError):
            continue
        found.append(f"pid {entry} uid {uid} state {state}")
    return found


@pytest.fixture(scope="module")
def reference(mini, tmp_path_factory) -> dict[str, float]:
    folder = tmp_path_factory.mktemp("reference")
    for name in ("alpha.py", "beta.py"):
        shutil.copy(MINI / "solutions" / name, folder / name)
    return part_scores(runner.grade(folder, ["alpha", "beta"], suite="all", course=mini))


@pytest.fixture(scope="module")
def output_dir(tmp_path_factory) -> Path:
    """Stands in for the grader's output folder, with earlier results in it."""
    out = tmp_path_factory.mktemp("grader-output")
    (out / "results.json").write_text('{"score": 1.0}\n')
    (out / "grades.csv").write_text("student,score\nalice,1.0\n")
    os.chmod(out, 0o755)
    return out


def _prepare(attack: str, folder: Path, output_dir: Path) -> dict:
    verdict = json.loads((CORPUS / attack / "verdict.json").read_text())
    subs = {"@@COURSE_ROOT@@": str(MINI), "@@REPO_ROOT@@": str(ROOT), "@@OUTPUT_DIR@@": str(output_dir)}
    folder.mkdir(parents=True)
    for src in (CORPUS / attack).iterdir():
        if src.name != "verdict.json":
            text = src.read_text()
            for key, value in subs.items():
                text = text.replace(key, value)
            (folder / src.name).write_text(text)
    for name in ("alpha.py", "beta.py"):
        if not (folder / name).exists():
            shutil.copy(MINI / "solutions" / name, folder / name)
    globs = [g.replace("@@OUTPUT_DIR@@", str(output_dir)) for g in verdict.get("absent_globs", [])]
    verdict["absent_globs"] = globs
    return verdict


def test_corpus_is_complete():
    """The brief's attack classes are all present (a guard against losing folders)."""
    assert len(ATTACKS) >= 45, ATTACKS
    for attack in ATTACKS:
        verdict = json.loads((CORPUS / attack / "verdict.json").read_text())
        assert verdict.get("attack") and verdict.get("parts"), attack
        for part, value in verdict["parts"].items():
            if value == 0.0:
                assert verdict.get("messages", {}).get(part), f"{attack}: a lost part needs a message check"


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack(attack, mini, reference, output_dir, tmp_path):
    verdict = _prepare(attack, tmp_path / "submission", output_dir)
    before = _tree_hash(GUARDED + [output_dir])
    sbx_tmp = tmp_path / "sandbox-tmp"
    sbx_tmp.mkdir()
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(sbx_tmp)  # sandbox working dirs of this grading land here
    try:
        exercises = verdict.get("exercises", ["alpha", "beta"])
        result = runner.grade(tmp_path / "submission", exercises, suite="all", course=mini)
    finally:
        tempfile.tempdir = saved_tempdir
    scores = part_scores(result)
    expected = {k: v for k, v in reference.items() if k.split(".")[0] in exercises}
    expected.update(verdict["parts"])
    assert scores == pytest.approx(expected, abs=1e-9), {k: part_messages(result, *k.split(".")) for k in scores}
    for key, words in verdict.get("messages", {}).items():
        text = part_messages(result, *key.split(".")).lower()
        for word in words:
            assert word.lower() in text, f"{key}: {word!r} not in {text!r}"
    everything = json.dumps(result)
    assert "LEAK" not in everything, [t["message"] for e in result["exercises"] for p in e["parts"]
                                      for t in p["tests"] if "LEAK" in t["message"]]
    # what the student reads of this grading (terminal, feedback, Gradescope) is German only
    found = scan({attack: result})
    assert not found, "English sentences reach a student of this German course:" + _report(found)
    if "max_output_chars" in verdict:
        lengths = [len(t["output"]) for e in result["exercises"] for p in e["parts"] for t in p["tests"]]
        assert max(lengths) <= verdict["max_output_chars"], lengths
    # Nothing is left behind.
    deadline = time.monotonic() + 5
    while (left := _our_sandbox_processes()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"sandbox processes survived grading: {left}"
    assert not list(sbx_tmp.iterdir()), f"sandbox folders left behind: {list(sbx_tmp.iterdir())}"
    for pattern in verdict["absent_globs"]:
        assert not glob.glob(pattern), f"{pattern} exists: {glob.glob(pattern)}"
    after = _tree_hash(GUARDED + [output_dir])
    changed = sorted(set(before.items()) ^ set(after.items()))
    assert not changed, f"files changed or appeared: {changed[:5]}"
