"""The package layout is the trust boundary (docs/architecture.md): import rules and no private cross-module calls.

Static checks read every module's AST (function-level imports included), so a
lazy import inside a function cannot slip past; the dynamic check imports the
sandbox side in a fresh interpreter and looks at what actually got loaded.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GRADER = ROOT / "grader"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}

# package prefix -> (allowed top-level third-party modules, allowed grader prefixes); None = anything.
RULES: dict[str, tuple[set[str] | None, tuple[str, ...] | None]] = {
    "grader": (set(), ()),                     # grader/__init__.py: the version only
    "grader.wire": ({"numpy"}, ("grader.wire",)),
    "grader.i18n": (set(), ("grader.i18n",)),
    "grader.sandbox": ({"numpy"}, ("grader.sandbox", "grader.wire", "grader.i18n")),
    "grader.course": (set(), ("grader.course",)),
    "grader.notebook": ({"nbformat"}, ("grader.notebook", "grader.i18n")),   # its errors are student text
    "grader.feedback": ({"click"}, ("grader.feedback", "grader.i18n", "grader.trusted.results", "grader.course")),
    "grader.trusted": (None, ("grader.trusted", "grader.sandbox", "grader.wire", "grader.i18n", "grader.course",
                              "grader.feedback.text")),
    "grader.pack": (None, ("grader.pack", "grader.course", "grader.notebook", "grader.__init__")),
    "grader.command_support": ({"click"}, ("grader.course", "grader.i18n", "grader.trusted.doctor")),
    "grader.click_messages": ({"click"}, ("grader.i18n",)),
    "grader.cli": (None, ("grader.command_support", "grader.click_messages", "grader.course", "grader.i18n", "grader.trusted", "grader.sandbox", "grader.feedback",
                          "grader.pack", "grader.staff.commands")),
    "grader.staff": (None, None),
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def grader_modules() -> list[Path]:
    return sorted(p for p in GRADER.rglob("*.py") if "__pycache__" not in p.parts)


def imports_of(path: Path) -> list[tuple[str, int, list[str]]]:
    """(imported module, line, imported names) for every import statement, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((base, node.lineno, [a.name for a in node.names]))
    return found


def rule_for(name: str) -> tuple[set[str] | None, tuple[str, ...] | None] | None:
    best = max((p for p in RULES if name == p or name.startswith(p + ".")), key=len, default=None)
    return RULES[best] if best else None


def _allowed_grader(target: str, names: list[str], allowed: tuple[str, ...]) -> bool:
    """``from target import names`` (or ``import target``) stays inside the allowed grader modules."""
    if target == "grader" and names == ["__version__"]:
        return True

    def ok(module: str) -> bool:
        return any(module == a or module.startswith(a + ".") for a in allowed)

    return all(ok(target) or ok(f"{target}.{n}") for n in names) if names else ok(target)


def violations_of_import_rules() -> list[str]:
    out = []
    for path in grader_modules():
        name = module_name(path)
        rule = rule_for(name)
        if rule is None:
            out.append(f"{name}: no import rule (add its package to RULES and docs/architecture.md)")
            continue
        third_party, grader_prefixes = rule
        for target, line, names in imports_of(path):
            top = target.split(".")[0]
            if top in STDLIB:
                continue
            if top == "grader":
                if grader_prefixes is not None and not _allowed_grader(target, names, grader_prefixes):
                    out.append(f"{name}:{line} imports {target} {names}")
            elif third_party is not None and top not in third_party:
                out.append(f"{name}:{line} imports third-party {target}")
    return out


def test_every_package_keeps_its_import_rules() -> None:
    assert violations_of_import_rules() == []


def test_the_rule_checker_catches_a_forbidden_import(tmp_path, monkeypatch) -> None:
    """The checker itself can fail: a sandbox module importing pytest or the trusted side is reported."""
    fake = tmp_path / "grader"
    (fake / "sandbox").mkdir(parents=True)
    (fake / "sandbox" / "server.py").write_text("import numpy\n\ndef f():\n    import pytest\n"
                                                "    from grader.trusted import plugin\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "GRADER", fake)
    found = violations_of_import_rules()
    assert any("third-party pytest" in v for v in found) and any("grader.trusted" in v for v in found)


def test_sandbox_side_loads_no_pytest_torch_or_trusted_module() -> None:
    code = ("import sys\n"
            "import grader.sandbox.server, grader.sandbox.zygote, grader.sandbox.spawn, grader.sandbox.isolation\n"
            "import grader.wire.channel\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest', 'torch', 'click', 'jinja2')\n"
            "             or m.startswith(('grader.trusted', 'grader.staff', 'grader.feedback')))\n"
            "print(','.join(bad))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


# -- private names ------------------------------------------------------------------------

def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(path: Path) -> list[str]:
    """`from grader.x import _y`, `x._y` on an imported grader module, and pytest's private API."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = module_name(path) if path.is_relative_to(ROOT) else path.stem
    modules: set[str] = set()       # local names bound to grader modules or pytest
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if base.split(".")[0] == "_pytest" or node.level:
                if base.split(".")[0] == "_pytest":
                    out.append(f"{own}:{node.lineno} imports _pytest")
                continue
            for alias in node.names:
                if base.startswith("grader") and _is_private(alias.name) and base != own:
                    out.append(f"{own}:{node.lineno} imports {base}.{alias.name}")
                if base.startswith("grader") or base == "pytest":
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "_pytest":
                    out.append(f"{own}:{node.lineno} imports _pytest")
                if alias.name.startswith("grader") or alias.name == "pytest":
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _is_private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in modules):
            out.append(f"{own}:{node.lineno} uses {node.value.id}.{node.attr}")
    return out


def content_modules() -> list[Path]:
    folders = [ROOT / "exercises" / "tests", ROOT / "autograder_tests", ROOT / "benchmarks"]
    return sorted(p for f in folders for p in f.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_uses_another_modules_private_names() -> None:
    found = [v for path in grader_modules() + content_modules() for v in private_uses(path)]
    assert found == []


@pytest.mark.parametrize("source, expected", [
    ("from grader.trusted.checks import _Case\n", "imports grader.trusted.checks._Case"),
    ("from grader.trusted import runner\nrunner._grade_here(1)\n", "uses runner._grade_here"),
    ("import pytest\npytest._fixture_stuff\n", "uses pytest._fixture_stuff"),
    ("from _pytest.fixtures import FixtureRequest\n", "imports _pytest"),
])
def test_the_private_name_checker_catches(tmp_path, source: str, expected: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert any(expected in v for v in private_uses(path))
