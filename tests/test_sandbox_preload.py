"""Course modules preloaded into sandboxes: once in the zygote, yet always the right course's."""
from __future__ import annotations

import sys
import types
from pathlib import Path

from grader.sandbox import server
from grader.trusted.remote import SandboxConfig, StudentSession


def _course_module_dir(root: Path, value: str) -> Path:
    folder = root / "exercises"
    (folder / "coursehelper").mkdir(parents=True)
    (folder / "coursehelper" / "__init__.py").write_text(f"VALUE = {value!r}\n")
    (folder / "coursehelper" / "part.py").write_text(f"PART = {value!r} + '-part'\n")
    return folder


def read_helper():
    import coursehelper
    import coursehelper.part

    try:
        import torch  # noqa: F401 - forbidden: must stay unavailable
        torch_loaded = True
    except ImportError:
        torch_loaded = False
    return coursehelper.VALUE, coursehelper.part.PART, torch_loaded


def _values_seen_by_a_sandbox(course_dir: Path, submission: Path) -> tuple:
    config = SandboxConfig(submission_dir=submission, files=(), course_paths=(str(course_dir),),
                           preload=("coursehelper",), forbidden=("torch",))
    session = StudentSession(config)
    try:
        return session.run(read_helper)
    finally:
        session.close()


def test_a_second_course_with_modules_of_the_same_name_gets_its_own(tmp_path):
    first = _course_module_dir(tmp_path / "first", "first")
    second = _course_module_dir(tmp_path / "second", "second")
    (tmp_path / "sub").mkdir()
    assert _values_seen_by_a_sandbox(first, tmp_path / "sub") == ("first", "first-part", False)
    assert _values_seen_by_a_sandbox(second, tmp_path / "sub") == ("second", "second-part", False)
    assert _values_seen_by_a_sandbox(first, tmp_path / "sub") == ("first", "first-part", False)


def test_forget_foreign_drops_only_modules_from_elsewhere(tmp_path, monkeypatch):
    mine, other = tmp_path / "mine", tmp_path / "other"
    for name, folder in (("pkg_mine", mine), ("pkg_other", other)):
        module = types.ModuleType(name)
        module.__file__ = str(folder / name / "__init__.py")
        monkeypatch.setitem(sys.modules, name, module)
        monkeypatch.setitem(sys.modules, name + ".sub", types.ModuleType(name + ".sub"))
    server.forget_foreign(["pkg_mine", "pkg_other"], [str(mine)])
    assert "pkg_mine" in sys.modules and "pkg_mine.sub" in sys.modules
    assert "pkg_other" not in sys.modules and "pkg_other.sub" not in sys.modules
