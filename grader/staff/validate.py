"""`grade validate`: check the course content before anything reaches students.

Per exercise:
- every student file exists as stub (exercises/) and reference (solutions/),
  extra files (e.g. trained weights) exist beside the reference, the task
  text exists;
- the reference gets full marks on public + hidden tests, so in particular
  the public tests pass on it, and the grader does not fail on it (tests
  without a part marker, collection errors: GradingError);
- the tests of every non-manual part carry exactly its points (public and
  hidden shares add up);
- the stub gets 0 points, and no test crashes on it (a test that crashes
  instead of failing with a message is a test bug);
- stub and reference expose the same public top-level names, function and
  method signatures (compared on the AST).
For the course:
- every test file belongs to an exercise of course.toml;
- the release leaks nothing: no file of solutions/ or autograder_tests/
  (by name or content), no SEED, no MNIST test labels, and no non-trivial
  line that only solutions/ or autograder_tests/ contain.

Every problem is one line (:class:`Problem`); an empty list means all holds.
"""
from __future__ import annotations

import ast
import dataclasses
import fnmatch
import hashlib
import io
import json
import re
import secrets
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Sequence

from grader.staff import release
from grader.trusted import runner
from grader.trusted.results import is_graded, passed
from grader.course import Course, Exercise

MIN_LINE = 25           # shorter lines (``return x``, ``else:``) are too common to call a leak
TOL = 1e-6
ROUNDING = 5e-5       # results.py rounds each test's max_score to 4 decimals
INTERNAL = "grader's test itself failed"
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".json", ".ipynb", ".sh", ".cfg", ".ini", ".yaml", ".yml",
                 ".csv", ".j2", ".tmpl", ".html", ".rst", ""}
FORBIDDEN_NAMES = ("SEED", "t10k-labels*")


@dataclass(frozen=True)
class Problem:
    """One thing that is wrong, with where (exercise id or 'course'/'release')."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


Echo = Callable[[str], None]


def validate(course: Course, ids: Iterable[str] | None = None, echo: Echo = print,
             release_check: bool = True, seeds: Sequence[str] = ()) -> list[Problem]:
    """Run every check on ``ids`` (default: all exercises) and the release; return the problems.

    ``seeds``: further secret seeds to grade the reference and the right corpus
    students under (:func:`check_seeds`); empty: only the course's own secret.
    """
    ids = list(ids) if ids else [e.id for e in course.exercises]
    problems: list[Problem] = []
    known = {e.id for e in course.exercises}
    for ex_id in ids:
        if ex_id not in known:
            problems.append(Problem(ex_id, f"no such exercise in course.toml (known: {', '.join(sorted(known))})"))
    problems += orphan_tests(course)
    runner.prepare_trusted()
    for ex in course.exercises:
        if ex.id not in ids:
            continue
        found = check_exercise(course, ex, echo)
        if seeds and not ex.manual_only:
            found += check_seeds(course, ex, seeds, echo)
        echo(f"{ex.id}: {'OK' if not found else f'{len(found)} problem(s)'}")
        problems += found
    if release_check:
        echo("release: building and checking for leaks ...")
        found = check_release(course)
        echo(f"release: {'OK' if not found else f'{len(found)} problem(s)'}")
        problems += found
    return problems


# -- files -----------------------------------------------------------------------------

def check_files(course: Course, ex: Exercise) -> list[Problem]:
    problems = []
    for name in ex.files:
        if not (course.exercises_dir / name).is_file():
            problems.append(Problem(ex.id, f"stub exercises/{name} is missing"))
        if not (course.solutions_dir / name).is_file():
            problems.append(Problem(ex.id, f"reference solutions/{name} is missing"))
    for name in ex.extra_files:
        if not (course.solutions_dir / name).is_file():
            problems.append(Problem(ex.id, f"extra file solutions/{name} is missing beside the reference"))
    if not (course.exercises_dir / "tasks" / f"{ex.id}.md").is_file():
        problems.append(Problem(ex.id, f"task text exercises/tasks/{ex.id}.md is missing"))
    if not ex.manual_only and not course.test_files(ex.id, hidden=False):
        problems.append(Problem(ex.id, f"no public tests (exercises/tests/test_{ex.id}*.py)"))
    return problems


def orphan_tests(course: Course) -> list[Problem]:
    """Test files no exercise claims: the runner never runs them."""
    problems = []
    for folder in (course.public_tests_dir, course.hidden_tests_dir):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("test_*.py")):
            if not any(path in course.test_files(e.id, hidden=folder == course.hidden_tests_dir)
                       for e in course.exercises):
                rel = path.relative_to(course.root).as_posix()
                problems.append(Problem("course", f"{rel} belongs to no exercise in course.toml and never runs"))
    return problems


# -- grading -------------------------------------------------------------------------------

def check_exercise(course: Course, ex: Exercise, echo: Echo = print) -> list[Problem]:
    """Files, reference, points, stub and signatures of one exercise."""
    problems = check_files(course, ex)
    if ex.manual_only:
        echo(f"{ex.id}: free-text answers only (graded by staff), nothing to run")
        return problems
    if any(not (course.solutions_dir / f).is_file() for f in ex.files):
        echo(f"{ex.id}: reference files missing, not graded")
    else:
        echo(f"{ex.id}: grading the reference (public + hidden tests) ...")
        result, seconds, error = _grade(course, course.solutions_dir, ex)
        if error:
            problems += [Problem(ex.id, f"the grader fails on the reference: {line}") for line in error]
        else:
            echo(f"{ex.id}: reference {result['score']:g}/{_auto_max(ex):g} automatic points in {seconds:.1f} s")
            problems += check_reference(ex, result)
            problems += check_points(ex, result)
    if any(not (course.exercises_dir / f).is_file() for f in ex.files):
        echo(f"{ex.id}: stub files missing, not graded")
    else:
        echo(f"{ex.id}: grading the stub ...")
        result, seconds, error = _grade(course, course.exercises_dir, ex)
        if error:
            problems += [Problem(ex.id, f"the grader fails on the stub: {line}") for line in error]
        else:
            echo(f"{ex.id}: stub {result['score']:g}/{_auto_max(ex):g} automatic points in {seconds:.1f} s")
            problems += check_stub(ex, result)
    problems += check_signatures(course, ex)
    return problems


def _auto_max(ex: Exercise) -> float:
    return sum(p.points for p in ex.parts if not p.manual)


def _grade(course: Course, folder: Path, ex: Exercise) -> tuple[dict, float, list[str]]:
    start = time.monotonic()
    try:
        result = runner.grade(folder, [ex.id], suite="all", course=course)
    except runner.GradingError as exc:
        return {}, time.monotonic() - start, grading_error_lines(str(exc))
    return result, time.monotonic() - start, []


def grading_error_lines(text: str) -> list[str]:
    """A GradingError as one line per problem: one per listed test, else its head and the exception."""
    marker = "GradingError: "
    if marker in text:  # a forked grading reports the child's whole traceback
        text = text.rsplit(marker, 1)[1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ["unknown error"]
    head = lines[0].rstrip(":")
    if head.startswith("tests are not gradable"):
        return [f"{head}: {line}" for line in lines[1:]] or [head]
    last = next((line for line in reversed(lines) if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", line)), lines[-1])
    return [head if last == head else f"{head} ... {last}"]


def _tests(result: dict):
    for ex in result.get("exercises", []):
        for part in ex.get("parts", []):
            for test in part.get("tests", []):
                yield part, test


def _first_line(text: str) -> str:
    line = next((s.strip() for s in (text or "").splitlines() if s.strip()), "")
    return line if len(line) <= 160 else line[:157] + "..."


def _kind(test: dict) -> str:
    return "hidden" if test.get("hidden") else "public"


def check_reference(ex: Exercise, result: dict) -> list[Problem]:
    """The reference passes every test (public and hidden) and its exercise counts as graded."""
    problems = []
    for exr in result.get("exercises", []):
        if not is_graded(exr):
            problems.append(Problem(ex.id, f"reference not graded: {exr['status']}"))
    for part, test in _tests(result):
        if not passed(test):
            problems.append(Problem(ex.id, f"part {part['id']}: reference fails {_kind(test)} test {test['name']}: "
                                           f"{_first_line(test.get('message', ''))}"))
    return problems


def check_points(ex: Exercise, result: dict) -> list[Problem]:
    """The tests of every non-manual part carry exactly its points from course.toml."""
    problems = []
    parts = {p["id"]: p for exr in result.get("exercises", []) for p in exr.get("parts", [])}
    for part in ex.parts:
        if part.manual:
            continue
        got = parts.get(part.id)
        tests = got.get("tests", []) if got else []
        public = sum(t["max_score"] for t in tests if not t["hidden"])
        hidden = sum(t["max_score"] for t in tests if t["hidden"])
        if not tests:
            problems.append(Problem(ex.id, f"part {part.id}: no test is marked @pytest.mark.part({part.id!r}), "
                                           f"so its {part.points:g} points can never be earned"))
        elif abs(public + hidden - part.points) > TOL + ROUNDING * len(tests):
            why = ""
            if not any(t["hidden"] for t in tests) and (part.public_share or 0) < 1:
                why = f" (public_share {part.public_share:g} but no hidden test)"
            elif all(t["hidden"] for t in tests) and (part.public_share or 0) > 0:
                why = f" (public_share {part.public_share:g} but no public test)"
            problems.append(Problem(ex.id, f"part {part.id}: tests carry {public + hidden:g} points (public "
                                           f"{public:g} + hidden {hidden:g}), course.toml says {part.points:g}{why}"))
    return problems


def check_stub(ex: Exercise, result: dict) -> list[Problem]:
    """The stub scores 0 and makes no test crash."""
    problems = []
    for part, test in _tests(result):
        if test["score"] > 0:
            state = "passes" if passed(test) else f"earns {test['score']:g} points in"
            problems.append(Problem(ex.id, f"part {part['id']}: the stub {state} {_kind(test)} test {test['name']}"))
        elif INTERNAL in (test.get("message") or ""):
            problems.append(Problem(ex.id, f"part {part['id']}: {_kind(test)} test {test['name']} crashes on the "
                                           f"stub instead of failing with a message: "
                                           f"{_first_line(test.get('message', ''))}"))
    return problems


# -- many secret seeds ---------------------------------------------------------------------------

#: Less than this lost is rounding (results.py rounds scores), not a lost point.
LOST = 1e-3
#: Secret seeds `grade validate` tries by default (each grades the reference and every right corpus
#: student of every exercise once: about 1 to 1.5 min per seed for the whole course on a busy 2-core
#: machine; use --seeds 50 before a release).
DEFAULT_SEEDS = 3


def random_seeds(count: int, base: str | None = None) -> list[str]:
    """``count`` secret seeds ``validate-BASE-i``; a random BASE unless given (printed, so a run can be repeated)."""
    base = base or secrets.token_hex(4)
    return [f"validate-{base}-{i}" for i in range(count)]


def corpus_exercise(folder: Path, expect: dict) -> str:
    """The exercise a corpus folder grades (as tests/test_submissions.py: ``ex41_e`` grades ``ex41``)."""
    group = folder.parent.name
    return str(expect.get("exercise", group.split("_")[0] if group.startswith("ex") else group))


def right_students(course: Course, ex: Exercise) -> list[Path]:
    """Corpus folders (tests/submissions/*/*) of ``ex`` whose student is right.

    Right: expect.json says ``"right": true``, or it gives full points on every
    automatic part. Folders whose files equal the reference are left out
    (the reference is graded anyway).
    """
    corpus = course.root / "tests" / "submissions"
    auto = {p.id: p.points for p in ex.parts if not p.manual}
    reference = [_read(course.solutions_dir / name) for name in ex.files]
    found = []
    for expect_path in sorted(corpus.glob("*/*/expect.json")):
        folder = expect_path.parent
        try:
            expect = json.loads(expect_path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if corpus_exercise(folder, expect) != ex.id:
            continue
        parts = expect.get("parts", {})
        full = bool(auto) and all(abs(float(parts.get(pid, -1)) - pts) <= TOL for pid, pts in auto.items())
        if (expect.get("right") is True or full) and [_read(folder / n) for n in ex.files] != reference:
            found.append(folder)
    return found


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def check_seeds(course: Course, ex: Exercise, seeds: Sequence[str], echo: Echo = print) -> list[Problem]:
    """Grade the reference and every right corpus student under each secret seed: none may lose a point.

    Each seed replaces the course secret (what GRADE_SECRET_SEED or
    autograder_tests/SEED sets), so hidden tests draw other inputs. The test
    modules are imported once first (as `grade batch` does), so import-time
    work is not repeated per grading. One problem per submission that loses
    points, naming a seed to repeat it with and its first failing test.
    """
    subjects = [("the reference", course.solutions_dir)]
    subjects += [(f"right corpus student {f.parent.name}/{f.name}", f) for f in right_students(course, ex)]
    echo(f"{ex.id}: grading {len(subjects)} right submission(s) under {len(seeds)} secret seed(s) ...")
    start = time.monotonic()
    runner.warm_tests(course, [ex.id])
    lost: dict[str, list[tuple[str, float, str]]] = {label: [] for label, _ in subjects}
    for seed in seeds:
        seeded = dataclasses.replace(course, secret_seed=seed)
        for label, folder in subjects:
            try:
                result = runner.grade(folder, [ex.id], suite="all", course=seeded)
            except runner.GradingError as exc:
                lost[label].append((seed, _auto_max(ex), grading_error_lines(str(exc))[0]))
                continue
            missing = _auto_max(ex) - float(result.get("score", 0.0))
            if missing > LOST:
                first = next(((part, test) for part, test in _tests(result) if not passed(test)), None)
                why = (f"part {first[0]['id']}: {_kind(first[1])} test {first[1]['name']}: "
                       f"{_first_line(first[1].get('message', ''))}" if first else "")
                lost[label].append((seed, missing, why))
    echo(f"{ex.id}: {len(seeds)} seed(s) in {time.monotonic() - start:.1f} s")
    problems = []
    for label, failures in lost.items():
        if failures:
            worst = max(f[1] for f in failures)
            problems.append(Problem(ex.id, f"{label} loses up to {worst:g} points under {len(failures)} of "
                                           f"{len(seeds)} secret seeds (repeat with GRADE_SECRET_SEED="
                                           f"{failures[0][0]}): {failures[0][2]}"))
    return problems


# -- signatures ------------------------------------------------------------------------------

def _is_public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    a = fn.args
    parts = []
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for i, (arg, default) in enumerate(zip(positional, defaults)):
        parts.append(arg.arg + (f"={ast.unparse(default)}" if default is not None else ""))
        if a.posonlyargs and i == len(a.posonlyargs) - 1:
            parts.append("/")
    if a.vararg:
        parts.append("*" + a.vararg.arg)
    elif a.kwonlyargs:
        parts.append("*")
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        parts.append(arg.arg + (f"={ast.unparse(default)}" if default is not None else ""))
    if a.kwarg:
        parts.append("**" + a.kwarg.arg)
    decorators = "".join(f"@{ast.unparse(d)} " for d in fn.decorator_list)
    prefix = "async " if isinstance(fn, ast.AsyncFunctionDef) else ""
    return f"{decorators}{prefix}({', '.join(parts)})"


def _assigned(node: ast.stmt) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = []
    for target in targets:
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                names.append(n.id)
    return names


def public_api(source: str) -> dict[str, str]:
    """``{name: description}`` of a module's public top-level functions, classes (with their
    public methods) and assigned names; imports are not part of the API."""
    api: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_public(node.name):
            api[node.name] = "def " + _signature(node)
        elif isinstance(node, ast.ClassDef) and _is_public(node.name):
            bases = ", ".join(ast.unparse(b) for b in node.bases + node.keywords)
            api[node.name] = f"class({bases})"
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_public(item.name):
                    api[f"{node.name}.{item.name}"] = "def " + _signature(item)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for name in _assigned(node):
                if _is_public(name) and name != "__all__":
                    api.setdefault(name, "variable")
    return api


def check_signatures(course: Course, ex: Exercise) -> list[Problem]:
    """Stub and reference expose the same public names and signatures."""
    problems = []
    for name in ex.files:
        stub_path, ref_path = course.exercises_dir / name, course.solutions_dir / name
        if not (stub_path.is_file() and ref_path.is_file()):
            continue
        apis = {}
        for label, path in (("stub", stub_path), ("reference", ref_path)):
            try:
                apis[label] = public_api(path.read_text(encoding="utf-8"))
            except SyntaxError as exc:
                problems.append(Problem(ex.id, f"{label} {name} does not parse: line {exc.lineno}: {exc.msg}"))
        if len(apis) < 2:
            continue
        stub, ref = apis["stub"], apis["reference"]
        for key in sorted(set(stub) | set(ref)):
            if key not in stub:
                problems.append(Problem(ex.id, f"{name}: {key} is in the reference but not in the stub"))
            elif key not in ref:
                problems.append(Problem(ex.id, f"{name}: {key} is in the stub but not in the reference"))
            elif stub[key] != ref[key]:
                problems.append(Problem(ex.id, f"{name}: {key} differs: stub {stub[key]}, reference {ref[key]}"))
    return problems


# -- the release -------------------------------------------------------------------------------

def _text(data: bytes, name: str) -> str | None:
    if PurePosixPath(name).suffix.lower() not in TEXT_SUFFIXES or b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _lines(text: str, name: str = "") -> list[str]:
    """Stripped lines of a text; a notebook's lines are those of its cells' sources."""
    if name.endswith(".ipynb"):
        try:
            cells = json.loads(text).get("cells", [])
            text = "\n".join("".join(c.get("source", "")) if isinstance(c.get("source"), list)
                             else str(c.get("source", "")) for c in cells)
        except (ValueError, AttributeError):
            pass
    return [line.strip() for line in text.splitlines()]


def _secret_files(course: Course) -> dict[str, bytes]:
    out = {}
    for folder in (course.solutions_dir, course.hidden_tests_dir):
        out.update(release.tree(folder, folder.name))
    return out


def secret_lines(course: Course) -> dict[str, str]:
    """``{line: where}`` of non-trivial lines that occur only in solutions/ or autograder_tests/.

    Lines that the Python files of exercises/ (stubs, framework, public tests)
    also contain are public by intent; task texts and notebooks are not counted
    as public, so a solution line quoted there is found.
    """
    public: set[str] = set()
    for name, data in release.tree(course.exercises_dir, "exercises").items():
        text = _text(data, name) if name.endswith(".py") else None
        if text is not None:
            public.update(_lines(text, name))
    secret: dict[str, str] = {}
    for name, data in _secret_files(course).items():
        text = _text(data, name)
        if text is None:
            continue
        for number, line in enumerate(_lines(text, name), start=1):
            if len(line) >= MIN_LINE and line not in public and not line.startswith("#!"):
                secret.setdefault(line, f"{name}:{number}")
    return secret


def check_release(course: Course) -> list[Problem]:
    """Build the release in a temporary folder and look for anything secret in it."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = release.build_release(course, Path(tmp))
        except Exception as exc:  # noqa: BLE001 - any failure to build is a problem to report
            return [Problem("release", f"cannot be built: {type(exc).__name__}: {_first_line(str(exc))}")]
        data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    return leaks(course, entries)


def leaks(course: Course, entries: dict[str, bytes]) -> list[Problem]:
    """Problems with the release files ``entries`` (path in the zip -> bytes)."""
    problems = []
    secret_files = _secret_files(course)
    by_hash = {hashlib.sha256(d).hexdigest(): n for n, d in secret_files.items() if d.strip()}
    hidden_names = {PurePosixPath(n).name for n in secret_files if n.startswith(course.hidden_tests_dir.name + "/")}
    lines = secret_lines(course)
    for name in sorted(entries):
        data, base = entries[name], PurePosixPath(name).name
        parts = PurePosixPath(name).parts
        rel = "/".join(parts[1:]) if parts and parts[0] == release.RELEASE_FOLDER else name
        top = rel.split("/", 1)[0]
        if top in (course.solutions_dir.name, course.hidden_tests_dir.name, "tests"):
            problems.append(Problem("release", f"{rel}: staff folder {top}/ must not be in the release"))
        if any(fnmatch.fnmatchcase(base, pattern) for pattern in FORBIDDEN_NAMES):
            problems.append(Problem("release", f"{rel}: secret file ({base}) must not be in the release"))
        if base in hidden_names and base.startswith("test_"):
            problems.append(Problem("release", f"{rel}: has the name of a hidden test file"))
        digest = hashlib.sha256(data).hexdigest()
        if digest in by_hash:
            problems.append(Problem("release", f"{rel}: identical to {by_hash[digest]}"))
            continue
        text = _text(data, name)
        if text is None:
            continue
        for number, line in enumerate(_lines(text, name), start=1):
            if line in lines:
                problems.append(Problem("release", f"{rel}:{number} contains a line of {lines[line]}: "
                                                   f"{_first_line(line)[:80]}"))
    return problems

