"""`grade similarity`: which students handed in suspiciously similar code, per exercise file.

Uses copydetect (winnowing fingerprints over pygments tokens, the MOSS
method): identifiers, literals and comments are normalised before
fingerprinting, so renamed variables, changed comments and reordered
functions do not hide a copy. The course's stub is the boilerplate: its
fingerprints never count, so two students who both kept the stub's
skeleton are not similar for that reason.

A pair is reported when the copied share of either file reaches the
threshold (default 0.6; copydetect's own report uses 0.33 for display).
The result is a staff-only ``similarity.html``: pairs, highest first, side
by side with the matching regions highlighted. A flag is a reason to look,
never a verdict.
"""
from __future__ import annotations

import html
import io
import itertools
from dataclasses import dataclass
from pathlib import Path

from grader.course import Course

#: copydetect's defaults: k-grams of 25 tokens, every 30-token match guaranteed to be found.
NOISE_TOKENS = 25
GUARANTEE_TOKENS = 30
DEFAULT_THRESHOLD = 0.6
#: Matching code shorter than this (characters of normalised code) is never a copy: two students who
#: kept the stub and added one line each would otherwise match 100 % on that line.
MIN_OVERLAP = 200


@dataclass(frozen=True)
class Pair:
    """Two students' versions of one file and how much of each the other covers."""

    exercise: str
    file: str
    a: str
    b: str
    share_a: float
    share_b: float
    code_a: str
    code_b: str
    slices_a: tuple[tuple[int, int], ...]
    slices_b: tuple[tuple[int, int], ...]

    @property
    def share(self) -> float:
        return max(self.share_a, self.share_b)


def _fingerprint(name: str, code: str, boilerplate: list) -> object:
    from copydetect import CodeFingerprint

    return CodeFingerprint(name, NOISE_TOKENS, GUARANTEE_TOKENS - NOISE_TOKENS + 1, boilerplate=boilerplate,
                           fp=io.StringIO(code))


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None


def submitted_files(files_root: Path, file: str) -> dict[str, str]:
    """``{student: code}`` of one exercise file, from the batch's per-student folders."""
    found = {}
    for folder in sorted(p for p in Path(files_root).iterdir() if p.is_dir()):
        code = _read(folder / "files" / file)
        if code is not None and code.strip():
            found[folder.name] = code
    return found


def find_pairs(course: Course, files_root: Path, threshold: float = DEFAULT_THRESHOLD,
               only: tuple[str, ...] = ()) -> list[Pair]:
    """Every pair of students whose version of a code file is similar above ``threshold``."""
    from copydetect import compare_files

    pairs = []
    for ex in course.exercises:
        if only and ex.id not in only:
            continue
        for file in (f for f in ex.files if f.endswith(".py")):
            stub = _read(course.exercises_dir / file) or ""
            boilerplate = list(_fingerprint(file, stub, []).hashes) if stub.strip() else []
            codes = {s: c for s, c in submitted_files(files_root, file).items() if c != stub}
            prints = {s: _fingerprint(file, c, boilerplate) for s, c in codes.items()}
            for a, b in itertools.combinations(sorted(prints), 2):
                overlap, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
                if max(share_a, share_b) >= threshold and overlap >= MIN_OVERLAP:
                    pairs.append(Pair(ex.id, file, a, b, float(share_a), float(share_b), codes[a], codes[b],
                                      _as_pairs(slices_a), _as_pairs(slices_b)))
    return sorted(pairs, key=lambda p: (-p.share, p.exercise, p.a, p.b))


def _as_pairs(slices: object) -> tuple[tuple[int, int], ...]:
    starts, ends = slices  # type: ignore[misc]
    return tuple((int(s), int(e)) for s, e in zip(starts, ends))


def highlighted(code: str, slices: tuple[tuple[int, int], ...]) -> str:
    """``code`` as HTML with the matching regions in <mark>."""
    out, at = [], 0
    for start, end in sorted(slices):
        start, end = max(start, at), max(end, at)
        out += [html.escape(code[at:start]), "<mark>", html.escape(code[start:end]), "</mark>"]
        at = end
    out.append(html.escape(code[at:]))
    return "".join(out)


def render_html(pairs: list[Pair], threshold: float, students: int) -> str:
    """One self-contained page: a table of pairs, then each pair side by side."""
    rows, blocks = [], []
    for i, p in enumerate(pairs, 1):
        rows.append(f"<tr><td><a href='#p{i}'>{i}</a></td><td>{html.escape(p.exercise)}</td>"
                    f"<td>{html.escape(p.file)}</td><td>{html.escape(p.a)}</td><td>{html.escape(p.b)}</td>"
                    f"<td>{p.share_a:.0%}</td><td>{p.share_b:.0%}</td></tr>")
        blocks.append(f"<section id='p{i}'><h2>{i}. {html.escape(p.exercise)} / {html.escape(p.file)}: "
                      f"{html.escape(p.a)} ({p.share_a:.0%}) and {html.escape(p.b)} ({p.share_b:.0%})</h2>"
                      f"<div class='side'><pre>{highlighted(p.code_a, p.slices_a)}</pre>"
                      f"<pre>{highlighted(p.code_b, p.slices_b)}</pre></div></section>")
    table = ("<table><tr><th>#</th><th>exercise</th><th>file</th><th>student A</th><th>student B</th>"
             "<th>A copied</th><th>B copied</th></tr>" + "".join(rows) + "</table>") if pairs else \
        "<p>No pair above the threshold.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Similarity</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:.2em .5em}.side{display:grid;grid-template-columns:1fr 1fr;gap:1em}pre{overflow:auto;"
        "background:#f7f7f7;padding:.5em;font-size:12px}mark{background:#ffd54f}</style></head><body>"
        f"<h1>Similar submissions</h1><p>{students} students, pairs whose copied share reaches "
        f"{threshold:.0%} (the stub's code never counts). A flag is a reason to look, not a verdict.</p>"
        f"{table}{''.join(blocks)}</body></html>")


def write_report(course: Course, out: Path, threshold: float = DEFAULT_THRESHOLD,
                 only: tuple[str, ...] = ()) -> list[Pair]:
    """Compare the files of a batch output folder (OUT/.work) and write OUT/similarity.html."""
    from grader.staff.reports.files import write_text_atomic

    files_root = Path(out) / ".work"
    if not files_root.is_dir():
        raise FileNotFoundError(f"{files_root} does not exist: run `grade batch ... -o {out}` first")
    pairs = find_pairs(course, files_root, threshold, only)
    students = sum(1 for p in files_root.iterdir() if p.is_dir())
    write_text_atomic(Path(out) / "similarity.html", render_html(pairs, threshold, students))
    return pairs
