"""Hidden tests reveal nothing: real malicious submissions, graded by `grade batch`, leak no hidden input.

A submission may print what it receives, raise it in an exception, return
it as a shape or a number, or stash it in a module global and print it in a
later test. Students get feedback.md, feedback.html and results.json (here
with hidden tests "visible" on Gradescope, the worst case); none of them may
contain anything the submission saw in a hidden test. grading.json (staff
only) keeps the full record under "staff": that is also where these tests
read which hidden inputs the submission saw.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from conftest import MINI, ROOT, grade_sources
from grader.staff import batch
from grader.trusted import plugin
from grader import course as course_mod
from grader.feedback import terminal

REF_QL = (ROOT / "solutions" / "qlearning.py").read_text()
REF_GAN = (ROOT / "solutions" / "gan.py").read_text()

#: q_learning prints every world it is given and raises grid worlds of several rows (exception text).
QL_PRINTER = REF_QL + '''

_reference_q_learning = q_learning


def q_learning(env, episodes, alpha, gamma, epsilon, rng):
    rows = list(getattr(env, "rows", []) or [])
    world = "WORLD<" + "|".join(rows) + ">"
    print(world)
    if len(rows) > 1:
        raise ValueError(world)
    return _reference_q_learning(env, episodes, alpha, gamma, epsilon, rng)
'''

#: Every gan function notes its inputs in a module global and prints all it ever saw; the
#: functions leak through printed output, exception text, a returned shape and a returned number.
GAN_STASHER = REF_GAN + '''

_SEEN = []
_reference = {name: globals()[name] for name in ("optimal_discriminator", "gan_value", "js_divergence",
                                                  "wgan_critic_loss", "wgan_generator_loss", "clip_weights")}


def _note(*arrays):
    for a in arrays:
        flat = np.asarray(a, dtype=float).ravel()
        if flat.size:
            _SEEN.append("IN<%.15g>" % flat[-1])
    print(" ".join(_SEEN[-300:]))


def _code(a):
    return int(abs(float(np.asarray(a, dtype=float).ravel()[-1])) * 1e9) % 10**9 + 10**9


def optimal_discriminator(p_data, p_g):
    _note(p_data, p_g)
    print("CODE<%d>" % _code(p_data))
    return np.zeros((0, _code(p_data)))


def gan_value(d_real, d_fake):
    _note(d_real, d_fake)
    raise RuntimeError(" ".join(_SEEN))


def js_divergence(p, q, dx):
    _note(p, q)
    return " ".join(_SEEN[-50:])


def wgan_critic_loss(critic_real, critic_fake):
    _note(critic_real, critic_fake)
    print("CODE<%d>" % _code(critic_real))
    return float(_code(critic_real))


def wgan_generator_loss(critic_fake):
    _note(critic_fake)
    return _reference["wgan_generator_loss"](critic_fake)


def clip_weights(weights, c):
    _note(*weights)
    return _reference["clip_weights"](weights, c)
'''

TOKEN = re.compile(r"(WORLD|IN|CODE)<([^>]*)>")


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory) -> Path:
    """`grade batch` of the two attackers with hidden tests visible on Gradescope (the worst case)."""
    root = tmp_path_factory.mktemp("secrecy")
    subs = root / "subs"
    (subs / "ql_printer").mkdir(parents=True)
    (subs / "ql_printer" / "qlearning.py").write_text(QL_PRINTER)
    (subs / "gan_stasher").mkdir()
    (subs / "gan_stasher" / "gan.py").write_text(GAN_STASHER)
    out = root / "out"
    counts = batch.run(course, subs, out, batch.BatchOptions(only=("qlearning", "gan"), jobs=1,
                                                              hidden_visibility="visible"))
    assert counts["graded"] == 2 and counts["errors"] == 0
    return out


def tokens(text: str) -> set[str]:
    """Inputs the attacker printed that no other input shares by chance (worlds, random floats, codes)."""
    return {value for kind, value in TOKEN.findall(text)
            if (kind == "WORLD" and "|" in value) or len(set(re.sub(r"\D", "", value))) >= 4}


def seen_in(record: dict, hidden: bool) -> set[str]:
    """What the submission printed in hidden (staff part) or public tests (student part)."""
    if hidden:
        return {t for test in record["staff"]["tests"] if test["hidden"] for t in tokens(test.get("output", ""))}
    return {t for ex in record["exercises"] for p in ex["parts"] for test in p["tests"] if not test["hidden"]
            for t in tokens(test["output"])}


def student_files(out: Path, student: str, record: dict) -> dict[str, str]:
    files = {name: (out / student / name).read_text(encoding="utf-8")
             for name in ("feedback.md", "feedback.html", "results.json")}
    files["terminal"] = terminal.render(record)
    return files


@pytest.mark.parametrize("student, hidden_count", [("ql_printer", 3), ("gan_stasher", 20)])
def test_nothing_seen_in_a_hidden_test_reaches_the_student(graded, student, hidden_count):
    record = json.loads((graded / student / "grading.json").read_text(encoding="utf-8"))
    public = seen_in(record, hidden=False)
    # What it printed in hidden tests: a stasher reprints the public inputs it kept (same sandbox), too.
    hidden = seen_in(record, hidden=True) - public
    # The attack works: staff see every hidden input it printed, students its public ones.
    assert len(hidden) >= hidden_count, hidden
    assert public
    files = student_files(graded, student, record)
    assert any(value in files["feedback.md"] for value in public)  # printed output does reach students
    # Public tests all ran before any hidden one: no stashed hidden input surfaces.
    for name, text in files.items():
        leaked = [value for value in hidden if value in text]
        assert not leaked, f"{name} shows hidden inputs: {leaked[:3]}"


def test_hidden_failures_say_what_kind_and_keep_the_rest_for_staff(graded):
    record = json.loads((graded / "gan_stasher" / "grading.json").read_text(encoding="utf-8"))
    tests = [t for ex in record["exercises"] if ex["id"] == "gan" for p in ex["parts"] for t in p["tests"]]
    hidden = [t for t in tests if t["hidden"]]
    assert hidden and all(t["output"] == "" for t in hidden)
    raised = [t for t in hidden if "gan_value" in t["name"]]
    assert raised and all(t["message"].startswith(plugin.MESSAGES["hidden_exception"]) for t in raised)
    staff = {t["id"]: t for t in record["staff"]["tests"]}
    assert all("RuntimeError" in staff[t["id"]]["message"] for t in raised)
    shape = [t for t in hidden if "optimal_discriminator" in t["name"]]
    # The returned shape (0, code) is masked like every number: the message says a shape was wrong.
    assert shape and all("(…, …)" in t["message"] and not re.search(r"\d", t["message"]) for t in shape)
    defect = (plugin.MESSAGES["grader_defect"].split("{")[0], plugin.MESSAGES["grader_defect_hidden"])
    assert not any(d in t["message"] for t in tests for d in defect)


def test_hidden_inputs_are_drawn_per_student_and_reproduce(mini, tmp_path):
    """The mini course's hidden test prints its input: other students see other inputs, a regrade the same."""
    printer = (MINI / "solutions" / "alpha.py").read_text().replace(
        "    return x * factor", "    print('X<%.17g>' % x.ravel()[0])\n    return x * factor")

    def hidden_output(student: str, folder: str) -> str:
        result = grade_sources(mini, tmp_path / folder, {"alpha.py": printer}, ["alpha"], student_id=student)
        [entry] = [t for t in result["staff"]["tests"] if t["hidden"] and "output" in t]
        assert not any(t["output"] for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]
                       if t["hidden"])
        return entry["output"]

    first = hidden_output("s0001", "a")
    assert first.startswith("X<")
    assert hidden_output("s0001", "b") == first
    assert hidden_output("s0002", "c") != first


def test_hidden_seed_refuses_import_time_use():
    with pytest.raises(RuntimeError, match="outside a running test"):
        plugin.hidden_seed("mazes")


def test_redaction_masks_numbers_and_produced_strings():
    text = "f(x) for x (3, 4) returned shape (0, 1234567890) and said 'SECRET-VALUE' (rtol=1e-06)"
    redacted = plugin.redact_hidden(text, ["SECRET-VALUE", "ab"])
    assert "SECRET-VALUE" not in redacted and not re.search(r"\d", redacted)
    assert redacted.startswith("f(x) for x (…, …) returned shape (…, …)")


def test_public_tests_run_before_every_hidden_one(mini, tmp_path):
    """A hidden input stashed in a module global never reaches a public test's output.

    The hidden tests share the public tests' sandbox (the stash holds both), but every
    public test ran before them, so no public output can hold a hidden input."""
    stasher = (MINI / "solutions" / "alpha.py").read_text().replace(
        "    return x * factor",
        "    _SEEN.append('X<%.17g>' % x.ravel()[0])\n    print(' '.join(_SEEN))\n    return x * factor * 0"
    ) + "\n_SEEN = []\n"
    result = grade_sources(mini, tmp_path, {"alpha.py": stasher}, ["alpha"], student_id="s0003")
    tests = [t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]]
    hidden_seen = {v for t in result["staff"]["tests"] if t["hidden"]
                   for v in re.findall(r"X<[^>]*>", t.get("output", ""))}
    public_seen = {v for t in tests if not t["hidden"] for v in re.findall(r"X<[^>]*>", t["output"])}
    hidden_only = hidden_seen - public_seen
    assert hidden_only and public_seen and public_seen <= hidden_seen   # one process: the stash kept the public inputs
    assert not any(v in t["output"] or v in t["message"] for t in tests for v in hidden_only)


def test_a_flood_of_returned_strings_cannot_smuggle_one_past_redaction(tmp_path):
    """Past what a session keeps, hidden check messages fall back to a fixed sentence."""
    root = tmp_path / "course"
    shutil.copytree(MINI, root)
    (root / "autograder_tests" / "test_alpha_flood_hidden.py").write_text('''
import pytest


@pytest.mark.part("a")
def test_flood_hidden(student, rng):
    secret = "".join(chr(97 + int(d)) for d in rng.integers(26, size=12))   # letters: not masked as numbers
    for _ in range(3):
        junk = student.alpha.scale(secret, 1)
    assert junk == secret, f"scale echoed {junk!r}"
''')
    flood = (MINI / "solutions" / "alpha.py").read_text().replace(
        "    return x * factor",
        "    if isinstance(x, str):\n        return ['pad%d' % i for i in range(3000)] + ['LEAK' + x]\n"
        "    return x * factor")
    course = course_mod.load(root)
    result = grade_sources(course, tmp_path / "sub", {"alpha.py": flood}, ["alpha"])
    [test] = [t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]
              if t["name"] == "test_flood_hidden"]
    assert test["status"] == "failed" and test["message"] == plugin.MESSAGES["check_failed"]
    [staff] = [t for t in result["staff"]["tests"] if t["id"] == test["id"]]
    assert "LEAK" in staff["message"]


def test_redaction_cuts_overlapping_and_short_pieces():
    """A printed piece overlapping a name cannot shield the name; two-letter names are cut where they stand alone."""
    text = "f(x) lieferte ein Objekt vom Typ ZzzSECRET, erwartet war ein Array."
    redacted = plugin.redact_hidden(text, ["Objekt vom Typ Zzz", "ZzzSECRET"])
    assert "SECRET" not in redacted and redacted == "f(x) lieferte ein …, erwartet war ein Array."
    short = plugin.redact_hidden("ein Objekt vom Typ 不鎸, erwartet war a float", ["不鎸", "a"])
    assert short == "ein Objekt vom Typ …, erwartet war … float"     # "a" only where it stands alone
    assert plugin.redact_hidden("war ein Array", ["ar"]) == "war ein Array"


def _letters(value: str) -> str:
    """Digits of a printed float as letters (a-j), so number masking does not hide them."""
    return "".join(chr(97 + int(c)) for c in value if c.isdigit())


#: alpha.scale in the hidden test only (factor is not the public 2.5): returns an object whose class
#: name carries the hidden input, shielded from redaction by a printed overlap, or only two letters long,
#: or raises an exception whose class name is longer than the 100 characters the grader keeps.
SMUGGLERS = {
    "overlap": '''
    if factor != 2.5:
        name = "Zzz" + "".join(chr(97 + int(c)) for c in "%.8f" % abs(x.ravel()[0]) if c.isdigit())[:15]
        print("ein Objekt vom Typ " + name[:3], end="")
        return type(name, (), {})()
''',
    "two_letters": '''
    if factor != 2.5:
        code = int(abs(x.ravel()[0]) * 10**6) % 40000
        return type(chr(0x4E00 + code // 200) + chr(0x4E00 + code % 200), (), {})()
''',
    "long_name": '''
    if factor != 2.5:
        name = "Zzz" + "".join(chr(97 + int(c)) for c in "%.8f" % abs(x.ravel()[0]) if c.isdigit()) + "Q" * 300
        raise type(name, (Exception,), {})("x")
''',
}


#: A hidden test that expects a ValueError: checks.raises names the exception that came instead.
RAISES_HIDDEN = '''
import pytest

from grader.trusted.checks import raises


@pytest.mark.part("a")
def test_raises_hidden(student, rng):
    with raises("ValueError", what="scale(x, factor)"):
        student.alpha.scale(rng.standard_normal(3), 3.0)
'''


@pytest.mark.parametrize("trick", sorted(SMUGGLERS))
def test_hidden_check_messages_resist_shielded_names(mini, tmp_path, trick):
    """What the three smugglers encode reaches staff (the attack works) but never the student's message."""
    course = mini
    if trick == "long_name":
        shutil.copytree(MINI, tmp_path / "course")
        (tmp_path / "course" / "autograder_tests" / "test_alpha_raises_hidden.py").write_text(RAISES_HIDDEN)
        course = course_mod.load(tmp_path / "course")
    source = (MINI / "solutions" / "alpha.py").read_text().replace(
        "    return x * factor", SMUGGLERS[trick].strip("\n") + "\n    return x * factor")
    result = grade_sources(course, tmp_path / "sub", {"alpha.py": source}, ["alpha"], student_id="s0004")
    wanted = "test_raises_hidden" if trick == "long_name" else "test_scale_hidden"
    [test] = [t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"] if t["name"] == wanted]
    [staff] = [t for t in result["staff"]["tests"] if t["id"] == test["id"]]
    assert test["status"] == "failed" and test["message"]
    if trick == "two_letters":
        secret = re.search(r"vom Typ (\S\S),", staff["message"]).group(1)
    else:
        secret = re.search(r"Zzz([a-j]{6,})", staff["message"]).group(1)
    assert secret not in test["message"], test["message"]


#: A hidden test parametrized with literal inputs: pytest's ids spell the values (test_x[sixty_four-1]).
PARAMETRIZED_HIDDEN = '''
import numpy as np
import pytest

from grader.trusted.checks import assert_close


@pytest.mark.part("a")
@pytest.mark.parametrize("label, factor", [("sixty_four", 64.0), ("minus_three", -3.0)])
def test_scale_param_hidden(student, label, factor):
    x = np.arange(4.0)
    assert_close(student.alpha.scale(x, factor), factor * x, what="scale(x, factor)")
'''


def test_parameter_ids_of_hidden_tests_do_not_name_their_inputs(tmp_path):
    """Students read test names (feedback, results.json): a hidden test's name numbers its cases, the staff
    record keeps the node id with the values."""
    from grader.staff.reports import feedback, gradescope

    root = tmp_path / "course"
    shutil.copytree(MINI, root)
    (root / "autograder_tests" / "test_alpha_param_hidden.py").write_text(PARAMETRIZED_HIDDEN)
    course = course_mod.load(root)
    result = grade_sources(course, tmp_path / "sub", {"alpha.py": (MINI / "solutions" / "alpha.py").read_text()},
                           ["alpha"])
    names = sorted(t["name"] for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]
                   if "param" in t["id"])
    assert names == ["test_scale_param_hidden[0]", "test_scale_param_hidden[1]"]
    assert any("sixty_four" in t["id"] for ex in result["exercises"] for p in ex["parts"] for t in p["tests"])
    shown = (feedback.render_md(result) + feedback.render_html(result)
             + json.dumps(gradescope.to_results_json(result, hidden_visibility="visible"), ensure_ascii=False))
    assert "test_scale_param_hidden[0]" in shown
    assert "sixty_four" not in shown and "minus_three" not in shown


def test_without_a_seed_the_secret_is_a_digest_of_the_hidden_tests(tmp_path, monkeypatch):
    """No SEED file, no GRADE_SECRET_SEED: hidden inputs still depend on something students never have."""
    monkeypatch.delenv("GRADE_SECRET_SEED", raising=False)
    course_dir = tmp_path / "course"
    shutil.copytree(MINI, course_dir, ignore=shutil.ignore_patterns("__pycache__", "SEED"))
    first = course_mod.load(course_dir).secret_seed
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert course_mod.load(course_dir).secret_seed == first          # a regrade draws the same inputs
    hidden = next((course_dir / "autograder_tests").glob("test_*_hidden.py"))
    hidden.write_text(hidden.read_text() + "\n# changed\n")
    assert course_mod.load(course_dir).secret_seed != first          # other hidden tests, other inputs
    (course_dir / "autograder_tests" / "SEED").write_text("term-2027\n")
    assert course_mod.load(course_dir).secret_seed == "term-2027"
    monkeypatch.setenv("GRADE_SECRET_SEED", "from-env")
    assert course_mod.load(course_dir).secret_seed == "from-env"
    shutil.rmtree(course_dir / "autograder_tests")
    monkeypatch.delenv("GRADE_SECRET_SEED")
    assert course_mod.load(course_dir).secret_seed == ""              # nothing hidden, nothing to keep secret


def test_sandboxes_started_ahead_change_nothing_but_when_they_start(mini, tmp_path, monkeypatch):
    """Every sandbox after the first is started before its first test (the start overlaps the tests
    before it), each exercise gets its own process (its hidden tests reuse the public tests' one),
    and the points and messages are exactly those of starting each sandbox on first use."""
    from grader.trusted import remote

    events: list[tuple[str, object]] = []
    real_init, real_ensure = remote.SandboxProcess.__init__, remote.StudentSession._ensure

    def init(self, config):
        real_init(self, config)
        events.append(("start", self))

    def ensure(self):
        had = self.proc
        proc = real_ensure(self)
        if had is None:
            events.append(("use", proc))
        return proc

    monkeypatch.setattr(remote.SandboxProcess, "__init__", init)
    monkeypatch.setattr(remote.StudentSession, "_ensure", ensure)
    sources = {"alpha.py": (MINI / "solutions" / "alpha.py").read_text(),
               "beta.py": (MINI / "solutions" / "beta.py").read_text()}
    ahead = grade_sources(mini, tmp_path / "ahead", sources, ["alpha", "beta"], student_id="s1", fork=False)
    used = [proc for kind, proc in events if kind == "use"]
    assert len(used) == len({id(p) for p in used}) == 2   # alpha (public, then hidden), beta
    position = {(kind, id(p)): i for i, (kind, p) in enumerate(events)}
    for before, proc in zip(used, used[1:]):
        # started ahead: while the session before it was being set up, before that one's first call
        assert position[("start", id(proc))] < position[("use", id(before))]

    monkeypatch.setattr(remote.StudentSession, "prestart", lambda self: None)
    on_use = grade_sources(mini, tmp_path / "on_use", sources, ["alpha", "beta"], student_id="s1", fork=False)

    def verdicts(result):
        return [(t["id"], t["score"], t["status"], t["message"]) for ex in result["exercises"]
                for p in ex["parts"] for t in p["tests"]]

    assert verdicts(ahead) == verdicts(on_use) and ahead["score"] == on_use["score"] == 4.0


def _group_states(group: int) -> set[str]:
    """The scheduler states (R, S, T, ...) of the live processes in process group ``group``."""
    states = set()
    for entry in os.listdir("/proc"):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.isdigit() and int(fields[2]) == group and fields[0] not in ("Z", "X"):
            states.add(fields[0])
    return states


def test_an_idle_sandbox_is_stopped_while_other_exercises_run(mini, tmp_path, monkeypatch):
    """alpha's sandbox waits (open) for alpha's hidden tests while beta's tests run: a thread it left
    spinning is stopped meanwhile, and continues (same process) when alpha's hidden tests call it."""
    from grader.trusted import remote

    spinner = (MINI / "solutions" / "alpha.py").read_text() + '''
import threading

def _spin():
    while True:
        pass

threading.Thread(target=_spin, daemon=True).start()
'''
    seen: list[tuple[str, set[str]]] = []
    real_pause, real_resume = remote.StudentSession.pause, remote.StudentSession.resume

    def pause(self):
        real_pause(self)
        if self.proc is not None:
            deadline = time.monotonic() + 2.0   # a thread running on another core stops a moment later
            while _group_states(self.proc.pid) != {"T"} and time.monotonic() < deadline:
                time.sleep(0.001)
            seen.append(("paused", _group_states(self.proc.pid)))

    def resume(self):
        was = self.paused and self.proc is not None
        real_resume(self)
        if was:
            seen.append(("resumed", _group_states(self.proc.pid)))

    monkeypatch.setattr(remote.StudentSession, "pause", pause)
    monkeypatch.setattr(remote.StudentSession, "resume", resume)
    sources = {"alpha.py": spinner, "beta.py": (MINI / "solutions" / "beta.py").read_text()}
    result = grade_sources(mini, tmp_path, sources, ["alpha", "beta"], student_id="s1", fork=False)
    assert result["score"] == 4.0
    paused = [states for kind, states in seen if kind == "paused"]
    resumed = [states for kind, states in seen if kind == "resumed"]
    assert paused and all(states == {"T"} for states in paused)     # every process of the sandbox stopped
    assert resumed and all("T" not in states for states in resumed)   # and running again for its hidden tests


def test_timeouts_in_public_tests_do_not_shorten_the_hidden_limits(mini, tmp_path):
    """The hidden tests share the public tests' sandbox but not their time-limit bookkeeping: after
    total() ran into its limit in every public test (budget spent), a hidden call of scale() that
    needs 2.5 s still gets the full call_timeout (3 s), as it would in a fresh sandbox."""
    slow = (MINI / "solutions" / "alpha.py").read_text().replace(
        "    return x * factor",
        "    if factor != 2.5:   # the hidden factor only: public scale() is fast\n"
        "        import time\n        time.sleep(2.5)\n    return x * factor").replace(
        '    return float(np.sum(x))', '    while True:\n        pass')
    sources = {"alpha.py": slow, "beta.py": (MINI / "solutions" / "beta.py").read_text()}
    result = grade_sources(mini, tmp_path, sources, ["alpha", "beta"], student_id="s1", fork=False)
    tests = [t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]]
    assert [t["status"] for t in tests if "total" in t["id"]] == ["failed", "failed"]   # public: timed out
    [hidden] = [t for t in tests if t["hidden"]]
    assert hidden["status"] == "passed", hidden


def test_a_submission_that_notices_the_pause_gains_nothing(mini, tmp_path):
    """alpha catches SIGCONT (sent when its sandbox continues for the hidden tests, after beta's) and
    then prints every input it stashed, with a marker: that reaches staff only; beta's tests and every
    public record show nothing of alpha's, and the points are those of the reference."""
    watcher = (MINI / "solutions" / "alpha.py").read_text().replace(
        "    return x * factor",
        "    _SEEN.append('X<%.17g>' % x.ravel()[0])\n"
        "    if _WOKEN:\n        print('AWAKE', len(_WOKEN), ' '.join(_SEEN))\n    return x * factor"
    ) + "\nimport signal\n_SEEN, _WOKEN = [], []\nsignal.signal(signal.SIGCONT, lambda *a: _WOKEN.append(1))\n"
    sources = {"alpha.py": watcher, "beta.py": (MINI / "solutions" / "beta.py").read_text()}
    result = grade_sources(mini, tmp_path, sources, ["alpha", "beta"], student_id="s1", fork=True)
    assert result["score"] == 4.0
    staff = next((t for t in result["staff"]["tests"] if t["hidden"] and "output" in t), {"output": ""})
    assert "AWAKE 1" in staff["output"]   # it did notice the pause (same process, continued once)
    tests = [t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]]
    hidden_only = set(re.findall(r"X<[^>]*>", staff["output"])) - {
        v for t in tests for v in re.findall(r"X<[^>]*>", t["output"])}
    assert hidden_only
    for t in tests:
        assert "AWAKE" not in t["output"] + t["message"]
        assert not any(v in t["output"] + t["message"] for v in hidden_only)
        if "beta" in t["id"]:
            assert "X<" not in t["output"]
