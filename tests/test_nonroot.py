"""The whole student and staff flow as an ordinary Linux user, as root without CAP_SYS_ADMIN, and spawned.

An ordinary user (created here when the suite runs as root) unpacks the
student release in their home, installs it into a venv of the system Python
(/usr/bin/python3: the suite's own interpreter may live under /root, which
others cannot read) and runs `grade ex41` on the stubs and on the reference,
`grade pack`, and a small `grade batch` in a copy of the course repository.
The same runs as root under `capsh --drop=cap_sys_admin` (as in Docker's
default capability set: no namespaces, so the uid change and the closed
secret folders are the walls) and with GRADER_START=spawn.

Install: a full `pip install` of the release (torch and all) took 144-235 s
on the shared 2-core test machine, too long for every CI run. The venv
therefore installs the release itself and NumPy for real (`--no-deps`; the
sandbox sees exactly that venv) and reaches the other dependencies (torch,
pytest, click, ...) and pip through a .pth file naming this suite's
site-packages (~45 s instead of minutes);
`pip check` proves every requirement of the release is met. Set
GRADE_TEST_FULL_INSTALL=1 for a complete install.
"""
from __future__ import annotations

import csv
import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import numpy
import pytest

from conftest import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux user accounts and namespaces")]

USER = "gradetest"
SYSTEM_PYTHON = "/usr/bin/python3"
EX41 = ("ex41_conv.py", "ex41_mnist.py", "ex41_mnist_weights.npz")
CAPSH = shutil.which("capsh")


def _user() -> pwd.struct_passwd | None:
    """The ordinary user the flow runs as: ourselves when not root, else USER (created if missing)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        return None
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True, capture_output=True)
    return pwd.getpwnam(USER)


def _as(user: pwd.struct_passwd | None, cmd: list[str], cwd: Path, extra: dict | None = None,
        timeout: float = 300, capsh: bool = False) -> subprocess.CompletedProcess:
    """Run ``cmd`` with a clean login-like environment, as ``user`` (None: as root)."""
    home = user.pw_dir if user else "/root"
    env = {"HOME": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", **(extra or {})}

    def become() -> None:
        if user is not None and os.geteuid() == 0:
            os.setgroups([])
            os.setresgid(user.pw_gid, user.pw_gid, user.pw_gid)
            os.setresuid(user.pw_uid, user.pw_uid, user.pw_uid)

    if capsh:
        cmd = [CAPSH, "--drop=cap_sys_admin", "--", "-c", " ".join(_quote(c) for c in cmd)]
    return subprocess.run(cmd, cwd=cwd, env=env, preexec_fn=become, capture_output=True, text=True,
                          timeout=timeout)


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _chown(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is None or os.geteuid() != 0:
        return
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, user.pw_uid, user.pw_gid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), user.pw_uid, user.pw_gid, follow_symlinks=False)


@pytest.fixture(scope="module")
def user() -> pwd.struct_passwd:
    found = _user()
    if found is None:
        pytest.skip("running as root without useradd: no ordinary user to run the student flow as")
    return found


@pytest.fixture(scope="module")
def home(user) -> Path:
    base = Path(user.pw_dir)
    if not base.is_dir() or not os.access(base, os.W_OK):
        base = Path("/tmp")
    folder = base / f"grade-nonroot-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o755)
    _chown(folder, user)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def release(user, home) -> dict:
    """The student release unpacked in the user's home and installed into a venv of the system Python."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip(f"{SYSTEM_PYTHON} missing: the test installs the release into a venv of the system Python")
    build = home / "build"
    made = subprocess.run([sys.executable, "-c", "from grader.cli import main; main()", "release", "-o", str(build)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(build / "student-release.zip") as zf:
        zf.extractall(home)
    folder = home / "student-release"
    venv = home / "venv"
    _chown(home, user)
    started = time.monotonic()
    python = str(venv / "bin" / "python")
    full = os.environ.get("GRADE_TEST_FULL_INSTALL") == "1"
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if full:
        steps = [[SYSTEM_PYTHON, "-m", "venv", str(venv)], pip + [str(folder)]]
    else:
        # pip, setuptools and the other dependencies come from this suite's site-packages through a .pth;
        # NumPy is installed for real (the sandbox sees only this venv), then the release itself
        done = _as(user, [SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(venv)], home)
        assert done.returncode == 0, done.stdout + done.stderr
        site = _as(user, [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   home).stdout.strip()
        (Path(site) / "zz_grade_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        _chown(Path(site), user)
        steps = [pip + ["--ignore-installed", "--no-deps", f"numpy=={numpy.__version__}"],
                 pip + ["--no-deps", "--no-build-isolation", str(folder)]]
    for step in steps:
        done = _as(user, step, home, {"PIP_FIND_LINKS": "/opt/wheels"}, timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
    check = _as(user, [str(venv / "bin" / "python"), "-m", "pip", "check"], home)
    assert check.returncode == 0, check.stdout + check.stderr
    where = _as(user, [python, "-c", "import numpy, grader; print(numpy.__file__, grader.__file__)"], home).stdout
    assert str(venv) in where.split()[0] and str(venv) in where.split()[1], where  # the sandbox's view is the venv
    seconds = time.monotonic() - started
    print(f"\nrelease venv ready in {seconds:.1f} s ({'full install' if full else 'release + numpy, deps via .pth'})")
    return {"folder": folder, "venv": venv, "grade": str(venv / "bin" / "grade"), "install_seconds": seconds}


def _grade_json(user, release, args: list[str], extra: dict | None = None,
                capsh: bool = False) -> tuple[int, dict, str]:
    done = _as(user, [release["grade"], *args, "--json"], release["folder"], extra, capsh=capsh)
    try:
        doc = json.loads(done.stdout)
    except ValueError:
        doc = {}
    return done.returncode, doc, done.stdout + done.stderr


def _use_reference(release, user) -> None:
    for name in EX41:
        shutil.copy(ROOT / "solutions" / name, release["folder"] / "exercises" / name)
    _chown(release["folder"] / "exercises", user)


def _use_stubs(release, user) -> None:
    with zipfile.ZipFile(release["folder"].parent / "build" / "student-release.zip") as zf:
        for name in EX41[:2]:
            data = zf.read(f"student-release/exercises/{name}")
            (release["folder"] / "exercises" / name).write_bytes(data)
    (release["folder"] / "exercises" / EX41[2]).unlink(missing_ok=True)
    _chown(release["folder"] / "exercises", user)


MODES = {
    "user": {"as_user": True, "capsh": False, "env": {}},
    "user-spawn": {"as_user": True, "capsh": False, "env": {"GRADER_START": "spawn"}},
    "root-capsh": {"as_user": False, "capsh": True, "env": {}},
}


@pytest.mark.parametrize("mode", list(MODES))
def test_student_flow(mode, user, release):
    """Stubs fail (exit 1, each test with its own message), the reference passes (exit 0), pack works."""
    spec = MODES[mode]
    if spec["capsh"] and (os.geteuid() != 0 or CAPSH is None):
        pytest.skip("needs root and capsh to drop CAP_SYS_ADMIN")
    who = user if spec["as_user"] else None
    _use_stubs(release, user)
    rc, doc, text = _grade_json(who, release, ["ex41"], spec["env"], capsh=spec["capsh"])
    assert rc == 1, text
    assert "did not start" not in text and "not your fault" not in text.lower(), text
    assert doc["score"] == 0 and doc["max_score"] > 0, text
    report = doc["isolation"]
    assert report["leftovers"]["clean"], report
    if spec["capsh"]:
        assert report["network"] == "shared" and report["uid_drop"] is True, report
    elif report["network"] == "shared":
        pytest.fail(f"unprivileged user namespaces are on (max_user_namespaces > 0) but unused: {report}")
    else:
        assert report["filesystem"].startswith("minimal root") and report["uid_drop"] is False, report
        assert report["ipc"].startswith("namespace"), report
    _use_reference(release, user)
    rc, doc, text = _grade_json(who, release, ["ex41"], spec["env"], capsh=spec["capsh"])
    assert rc == 0, text
    assert doc["score"] == pytest.approx(doc["max_score"]), text
    zipped = release["folder"] / "abgabe.zip"
    done = _as(who, [release["grade"], "pack", "-o", str(zipped)], release["folder"], spec["env"], capsh=spec["capsh"])
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(zipped) as zf:
        names = zf.namelist()
    assert any(n.endswith("ex41_conv.py") for n in names), names
    zipped.unlink()


@pytest.fixture(scope="module")
def repo_copy(user, home) -> Path:
    """The course repository (git's files) in the user's home: what staff who are not root grade from."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout
    target = home / "repo"
    for rel in filter(None, listed.decode().split("\0")):
        src = ROOT / rel
        if src.is_file() and not rel.startswith("tests/"):
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / rel)
    _chown(target, user)
    return target


THIEF = '''
import os as _os
_FOUND = []
for _rel in ("autograder_tests/test_ex41_hidden.py", "solutions/ex41_conv.py", "autograder_tests", "solutions"):
    _path = _os.path.join(@@REPO@@, _rel)
    try:
        if _os.path.isdir(_path):
            _FOUND.append(f"{_rel}: {sorted(_os.listdir(_path))[:4]}")
        else:
            with open(_path) as _fh:
                _FOUND.append(f"{_rel}: {_fh.read(300)!r}")
    except OSError:
        pass
print("LEAK " + " | ".join(_FOUND) if _FOUND else "nothing found")
_honest_conv2d = conv2d


def conv2d(*args, **kwargs):
    if _FOUND:
        raise RuntimeError("LEAK " + " | ".join(_FOUND))
    return _honest_conv2d(*args, **kwargs)
'''


@pytest.mark.parametrize("mode", ["user", "root-capsh"])
def test_small_batch(mode, user, release, repo_copy, tmp_path):
    """`grade batch` of 2 honest students and one that reads hidden tests and references by path."""
    spec = MODES[mode]
    if spec["capsh"] and (os.geteuid() != 0 or CAPSH is None):
        pytest.skip("needs root and capsh to drop CAP_SYS_ADMIN")
    who = user if spec["as_user"] else None
    subs = Path(user.pw_dir if spec["as_user"] else tmp_path) / f"subs-{mode}"
    shutil.rmtree(subs, ignore_errors=True)
    for student, source in (("alice", "solutions"), ("bob", "exercises")):
        (subs / student).mkdir(parents=True)
        for name in EX41:
            if (repo_copy / source / name).is_file():
                shutil.copy(repo_copy / source / name, subs / student / name)
    (subs / "mallory").mkdir()
    for name in EX41:
        shutil.copy(repo_copy / "solutions" / name, subs / "mallory" / name)
    with open(subs / "mallory" / "ex41_conv.py", "a") as fh:
        fh.write(THIEF.replace("@@REPO@@", repr(str(repo_copy))))
    _chown(subs, user)
    out = subs.parent / f"out-{mode}"
    shutil.rmtree(out, ignore_errors=True)
    # Staff grade from the course repository (the student release has no staff commands): the release
    # venv's interpreter runs the repository's engine, `python -m grader.cli` from the repository folder.
    staff_grade = [str(release["venv"] / "bin" / "python"), "-m", "grader.cli"]
    done = _as(who, [*staff_grade, "batch", str(subs), "-o", str(out), "--only", "ex41", "-j", "1"], repo_copy,
               spec["env"], capsh=spec["capsh"], timeout=600)
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
            rows = {r["student"]: r for r in csv.DictReader(fh)}
        assert set(rows) == {"alice", "bob", "mallory"}, rows
        assert float(rows["bob"]["total"]) == 0
        assert float(rows["alice"]["total"]) > 0
        assert rows["mallory"]["total"] == rows["alice"]["total"], rows  # found nothing, so graded as honest
        secret = (repo_copy / "autograder_tests" / "test_ex41_hidden.py").read_text().splitlines()
        marker = next(line for line in secret if line.startswith("def test_"))
        for path in out.rglob("*"):
            if path.is_file():
                text = path.read_bytes().decode("utf-8", "replace")
                if path.suffix != ".py":  # .py: the submission's own copy, which holds the word
                    assert "LEAK" not in text, (path, text[text.find("LEAK"):][:300])
                assert marker not in text, path
    finally:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(subs, ignore_errors=True)


#: The corpus as the ordinary user: one attack of each class that depends on the walls (secrets by path,
#: walking up the file system, other processes via /proc, the network, IPC, a fork storm, the environment).
USER_SUBSET = ("read_secrets_by_path", "read_secrets_walk_up", "read_proc_other_processes", "network_loopback",
               "network_external", "ipc_sysv_shm_leave", "ipc_stash_across_sandboxes", "fork_storm",
               "secrets_env_memory", "kill_broadcast")
#: Not run under capsh, because they probe what the host view cannot wall off (docs/security.md, "Root without
#: namespaces"): any world-readable course.toml or *hidden* file of the machine (walk_up), other processes'
#: command lines in the host's /proc, torch's files (only the import hook refuses it), and a /tmp that is the
#: host's disk, not a size-limited tmpfs (the filler is stopped by the time limit and swept afterwards).
CAPSH_SKIP = ("read_secrets_walk_up", "read_proc_other_processes", "forbidden_unblock", "disk_fill_tmp")


def test_attack_corpus_as_an_ordinary_user(user, release, home):
    """The representative subset of the attack corpus, graded by an ordinary user (user namespaces).

    From the user's own copy of the repository: root-mode gradings close the
    secret folders of this checkout to other users (docs/security.md).
    """
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout
    copy = home / "repo-full"
    for rel in filter(None, listed.decode().split("\0")):
        if (ROOT / rel).is_file():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, copy / rel)
    _chown(copy, user)
    python = str(release["venv"] / "bin" / "python")
    done = _as(user, [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(home / "corpus-tmp"),
                      str(copy / "tests" / "test_attacks_corpus.py"), "-k", " or ".join(USER_SUBSET)], copy,
               {"PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert f"{len(USER_SUBSET)} passed" in done.stdout, done.stdout[-2000:]


def test_attack_corpus_without_namespaces(user, release, home):
    """The whole attack corpus as root without CAP_SYS_ADMIN (Docker's default): uid change and closed folders."""
    if os.geteuid() != 0 or CAPSH is None:
        pytest.skip("needs root and capsh to drop CAP_SYS_ADMIN")
    # the venv's interpreter (/usr/bin/python3): the sandbox uid can read its standard library, as in a
    # container; this suite's own interpreter may live under /root, which only root can read
    done = _as(None, [str(release["venv"] / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      str(ROOT / "tests" / "test_attacks_corpus.py"), "-k",
                      " and ".join(f"not {name}" for name in CAPSH_SKIP)], ROOT,
               {"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}, timeout=900, capsh=True)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout, done.stdout[-2000:]


def test_uid_zero_inside_a_user_namespace_is_not_real_root():
    """The cause of the old non-root failure: uid 0 of a user namespace took the chown/setuid path."""
    from grader.sandbox import isolation
    from test_isolation import in_child

    assert isolation.real_root() == (os.geteuid() == 0)

    def child() -> dict:
        libc = isolation._libc()
        uid = os.geteuid()
        if libc.unshare(isolation.CLONE_NEWUSER) != 0:
            return {"skip": "no user namespaces"}
        with open("/proc/self/setgroups", "w") as fh:
            fh.write("deny")
        with open("/proc/self/uid_map", "w") as fh:
            fh.write(f"0 {uid} 1")
        return {"euid": os.geteuid(), "real_root": isolation.real_root()}

    out = in_child(child)
    if "skip" in out:
        pytest.skip(out["skip"])
    assert out == {"euid": 0, "real_root": False}, out


def test_a_sandbox_that_cannot_start_says_why(tmp_path):
    """An exception before any student code runs reaches the grader with type, message and place."""
    from grader.trusted.errors import SandboxUnavailable
    from grader.trusted.remote import SandboxConfig, StudentSession

    broken = SandboxConfig(submission_dir=tmp_path, files=(), memory_mb="plenty")  # int() fails in the sandbox
    session = StudentSession(broken)
    with pytest.raises(SandboxUnavailable) as info:
        session.request({"op": "ping"}, 30, "ping")
    text = str(info.value)
    assert "did not start" in text and "ValueError" in text and "plenty" in text, text
    assert "isolation.py:" in text and "exited with status" not in text, text
    session.close()
