"""The similarity check finds planted copies and flags no independent solution.

Synthetic class: the corpus's independently written correct solutions of
ex41, gan and qlearning (different styles), plus copies of some of them
disguised the way students do it: every local name renamed, functions
reordered, comments changed, code reformatted (ast.unparse).
"""
from __future__ import annotations

import ast
import builtins
import random
import shutil

import pytest

from conftest import ROOT
from grader.staff import similarity

pytest.importorskip("copydetect")

CORPUS = ROOT / "tests" / "submissions"
INDEPENDENT = {"ex41": ("ex41_conv.py", ["reference", "fft", "strided_einsum", "loops"]),
               "gan": ("gan.py", ["reference", "where_style", "loops"]),
               "qlearning": ("qlearning.py", ["reference", "vectorized", "loops"])}
COPIES = {"copy_ex41_loops": ("ex41", "loops"), "copy_ex41_fft": ("ex41", "fft"),
          "copy_gan_where": ("gan", "where_style"), "copy_ql_vectorized": ("qlearning", "vectorized")}


class _Rename(ast.NodeTransformer):
    """Rename every variable and argument that is not a builtin or a module-level name."""

    def __init__(self, keep: set[str]) -> None:
        self.keep, self.names = keep, {}

    def _new(self, name: str) -> str:
        if name in self.keep or name in dir(builtins) or name.startswith("__"):
            return name
        return self.names.setdefault(name, f"v{len(self.names)}_{name[::-1]}x")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._new(node.arg)
        return node


def disguise(code: str, seed: int) -> str:
    """Rename locals, reorder top-level functions, reformat and re-comment, as a copier would."""
    tree = ast.parse(code)
    keep = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    keep |= {a.asname or a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
             for a in n.names}
    tree = _Rename(keep).visit(tree)
    head = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    random.Random(seed).shuffle(defs)
    tree.body = head + defs
    lines = ast.unparse(tree).splitlines()
    return "\n".join(f"{line}  # mein Schritt {i}" if i % 3 == 0 and line.strip() else line
                     for i, line in enumerate(lines)) + "\n"


@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("out") / ".work"
    for ex, (file, variants) in INDEPENDENT.items():
        for variant in variants:
            folder = root / f"{ex}_{variant}" / "files"
            folder.mkdir(parents=True)
            shutil.copy(CORPUS / ex / variant / file, folder / file)
    for i, (student, (ex, variant)) in enumerate(COPIES.items()):
        file = INDEPENDENT[ex][0]
        folder = root / student / "files"
        folder.mkdir(parents=True)
        (folder / file).write_text(disguise((CORPUS / ex / variant / file).read_text(), seed=i))
    return root.parent


def test_disguised_copies_are_found_and_independent_solutions_are_not(course, batch_folder):
    pairs = similarity.write_report(course, batch_folder)
    flagged = {frozenset((p.a, p.b)) for p in pairs}
    planted = {frozenset((student, f"{ex}_{variant}")) for student, (ex, variant) in COPIES.items()}
    assert planted <= flagged, f"missed: {planted - flagged}"
    assert flagged == planted, f"false alarms: {flagged - planted}"
    page = (batch_folder / "similarity.html").read_text(encoding="utf-8")
    assert page.count("<section") == len(pairs) and "<mark>" in page


def test_the_stub_never_counts(course, tmp_path):
    """Two students who both handed in the untouched stub (plus one line) are not similar."""
    stub = (ROOT / "exercises" / "gan.py").read_text()
    for student, extra in (("s1", "\nx = 1\n"), ("s2", "\ny = 2\n")):
        folder = tmp_path / ".work" / student / "files"
        folder.mkdir(parents=True)
        (folder / "gan.py").write_text(stub + extra)
    assert similarity.write_report(course, tmp_path, only=("gan",)) == []


def test_highlighting_escapes_student_code():
    assert similarity.highlighted("<b>x</b>", ((3, 4),)) == "&lt;b&gt;<mark>x</mark>&lt;/b&gt;"


def test_cli_writes_the_report(batch_folder, monkeypatch):
    from click.testing import CliRunner

    from grader import cli

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli.cli, ["similarity", str(batch_folder), "--only", "gan"])
    assert result.exit_code == 0, result.output
    assert "1 pair(s)" in result.output
