"""The repository stands alone: no file points outside it or to a developer's machine."""
from __future__ import annotations

import re
import subprocess

from conftest import ROOT

OUTSIDE = re.compile(r"\.\./shared|/work/main|/root/\.pyenv|/home/[a-z]+/")
TEXT = (".py", ".md", ".toml", ".j2", ".tmpl", ".json", ".txt", ".cfg", ".sh")


def tracked_text_files() -> list:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / n for n in names if n.endswith(TEXT) and not n.startswith("tests/")]


def test_no_file_points_outside_the_repository():
    offenders = []
    for path in tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "\n".join(offenders)


def test_documents_cite_only_files_that_exist():
    """Markdown links and `docs/*.md` mentions resolve inside the repository."""
    missing = []
    for path in tracked_text_files():
        if path.suffix != ".md":
            continue
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", text) + re.findall(r"`(docs/[\w./-]+\.md)`", text):
            for base in (path.parent, ROOT):
                if (base / target).is_file():
                    break
            else:
                missing.append(f"{path.relative_to(ROOT)} -> {target}")
    assert not missing, "\n".join(missing)
