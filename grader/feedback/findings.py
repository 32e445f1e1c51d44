"""Failed tests grouped like a tutor would: one finding per distinct cause.

Every student report (terminal, feedback.md/html, Gradescope) is built from
this view, so they agree. Rules:

- An import failure (missing file, syntax error, forbidden import...) or any
  other finding whose tests span several parts of an exercise is shown once,
  for the exercise.
- "Not implemented yet" is one line per part.
- The other failed tests of a part are grouped by their named mistake
  (the test entry's "mistake" id), else by their cause plus the message with
  numbers, case labels and redactions stripped; each group is one finding
  that shows how many tests it affects and the first message.
- When an earlier part of the same exercise has failures, a later part with
  findings gets a hint that it may depend on it (a hint only: points are
  never affected).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from grader.i18n import t
from grader.trusted.results import Outcome, Status, exercise_outcome, passed

_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?")
_LABEL = re.compile(r"\b(Fall|case|Case)\s+\S+")
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


@dataclass
class Finding:
    """One cause: the tests it explains (the first one's message stands for all)."""

    key: tuple
    tests: list[dict]
    total: int              # tests of the part (or of the parts, for an exercise-level finding)
    parts: list[str] = field(default_factory=list)

    @property
    def first(self) -> dict:
        return self.tests[0]

    @property
    def message(self) -> str:
        return (self.first.get("message") or "").rstrip()

    @property
    def output(self) -> str:
        return "" if self.first.get("hidden") else (self.first.get("output") or "").rstrip()

    @property
    def not_implemented(self) -> bool:
        return self.key[0] == "not_implemented"

    def summary(self) -> str:
        """The count line: "in 7 von 7 Tests; erste Meldung:" (or the exercise-level variant)."""
        if len(self.parts) > 1:
            return t("report.affects_exercise", n=len(self.tests), parts=", ".join(self.parts))
        return t("report.affects", n=len(self.tests), total=self.total)


@dataclass
class PartView:
    """One part: its points and its findings."""

    id: str
    title: str
    score: float
    max_score: float
    manual: bool
    pending: bool
    n_tests: int
    n_passed: int
    not_implemented: Finding | None = None
    findings: list[Finding] = field(default_factory=list)
    root_cause: str = ""     # an earlier part of the exercise with failures ("" if none)

    @property
    def has_findings(self) -> bool:
        return bool(self.findings or self.not_implemented)

    def root_cause_hint(self) -> str:
        return t("report.root_cause", part=self.id, earlier=self.root_cause) if self.root_cause else ""


@dataclass
class ExerciseView:
    """One exercise: findings shared by several parts, then the parts."""

    id: str
    title: str
    problem: str | None
    score: float
    max_score: float
    shared: list[Finding]
    parts: list[PartView]

    @property
    def has_findings(self) -> bool:
        return bool(self.shared) or any(p.has_findings for p in self.parts)


def normalise(message: str) -> str:
    """The first sentence of a message without what differs between cases of one cause.

    Numbers, case labels ("Fall 2") and quoted names ('cliff') are left out;
    what follows the first sentence (values, pictures) differs per case anyway.
    """
    first = message.strip().split("\n", 1)[0]
    text = _QUOTED.sub("#", _LABEL.sub("#", first))
    text = _NUMBER.sub("#", text.replace("…", "#"))
    text = re.split(r"[.:!?](?:\s|$)", text, maxsplit=1)[0]
    return " ".join(text.split())[:400]


def group_key(test: dict) -> tuple:
    """What makes two failed tests the same finding."""
    cause = str(test.get("cause") or "")
    if cause in ("not_implemented", "import"):  # hidden tests say the same in other words
        return (cause,)
    if test.get("mistake"):
        return ("mistake", str(test["mistake"]))
    return ("message", cause, normalise(test.get("message") or ""))


def exercise_problem(status: Outcome | str | None) -> str | None:
    """The exercise's status line in the course's language (None when it was graded)."""
    outcome = status if isinstance(status, Outcome) else Outcome.read(status)
    why = outcome.reason.strip()
    if outcome.status is Status.MISSING:
        files = why[: -len(" not submitted")] if why.endswith(" not submitted") else why
        return t("report.missing_files", files=files) if files else t("report.missing")
    if outcome.status is Status.ERROR:
        return t("report.error", why=why) if why else t("report.error_plain")
    return None


def _groups(tests: list[dict]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    # public tests first, so a finding's shown message is a public one where there is one
    for test in sorted(tests, key=lambda x: bool(x.get("hidden"))):
        groups.setdefault(group_key(test), []).append(test)
    return groups


def exercise_view(ex: dict) -> ExerciseView:
    """Group one exercise's failed tests (see the module docstring)."""
    parts = [p for p in ex.get("parts", []) or []]
    failed = {p.get("id", ""): [x for x in p.get("tests", []) or [] if not passed(x)] for p in parts}
    part_of = {id(x): pid for pid, tests in failed.items() for x in tests}
    all_failed = [x for tests in failed.values() for x in tests]
    shared: list[Finding] = []
    lifted: set[int] = set()
    for key, tests in _groups(all_failed).items():
        spanned = list(dict.fromkeys(part_of[id(x)] for x in tests))
        if key[0] != "not_implemented" and len(spanned) > 1:  # e.g. an import failure: once per exercise
            total = sum(len(p.get("tests", []) or []) for p in parts if p.get("id", "") in spanned)
            shared.append(Finding(key, tests, total, spanned))
            lifted.update(id(x) for x in tests)
    views: list[PartView] = []
    earlier_failing = ""
    for part in parts:
        pid = part.get("id", "")
        tests = list(part.get("tests", []) or [])
        view = PartView(pid, part.get("title", ""), part.get("score", 0.0), part.get("max_score", 0.0),
                        bool(part.get("manual")), bool(part.get("pending")), len(tests),
                        sum(passed(x) for x in tests))
        mine = [x for x in failed[pid] if id(x) not in lifted]
        for key, group in _groups(mine).items():
            finding = Finding(key, group, len(tests), [pid])
            if finding.not_implemented:
                view.not_implemented = finding
            else:
                view.findings.append(finding)
        if earlier_failing and any(f.first.get("cause") != "import" for f in view.findings):
            view.root_cause = earlier_failing
        if failed[pid] and not earlier_failing:
            earlier_failing = pid
        views.append(view)
    return ExerciseView(ex.get("id", ""), ex.get("title", ""), exercise_problem(exercise_outcome(ex)),
                        ex.get("score", 0.0), ex.get("max_score", 0.0), shared, views)


def views(result: dict) -> list[ExerciseView]:
    return [exercise_view(ex) for ex in result.get("exercises", []) or []]


def clip(text: str, max_lines: int) -> str:
    """At most ``max_lines`` lines of ``text``, and how many were left out."""
    lines = text.splitlines()
    if len(lines) <= max_lines + 1:
        return text
    return "\n".join(lines[:max_lines] + [t("report.more_lines", n=len(lines) - max_lines)])


def test_notes(result: dict) -> dict[str, tuple[str, str]]:
    """Per failed test id: ("append", note) or ("replace", text) for per-test reports (Gradescope).

    The first test of a finding keeps its message, with a note on how many
    more tests it explains; the others point to it instead of repeating it.
    """
    out: dict[str, tuple[str, str]] = {}
    for ex in views(result):
        findings = list(ex.shared) + [f for p in ex.parts for f in
                                      ([p.not_implemented] if p.not_implemented else []) + p.findings]
        for finding in findings:
            first = finding.first
            rest = finding.tests[1:]
            # the count on a public test leaves out hidden tests (visible only once grades are published)
            same_visibility = [x for x in rest if bool(x.get("hidden")) == bool(first.get("hidden"))]
            if same_visibility:
                out[str(first.get("id"))] = ("append", t("report.also_affects", n=len(same_visibility)))
            for test in rest:
                out[str(test.get("id"))] = ("replace", t("report.same_as", name=first.get("name") or first.get("id", "")))
    return out
