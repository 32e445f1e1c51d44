"""`grade doctor`: which sandbox walls this machine gives, found by starting one sandbox.

The answer comes from a real sandbox's isolation report (grader/sandbox/isolation.py),
not from guessing: a sandbox is started exactly as for grading (no student
code in it), its report is read, and it is ended and swept for leftovers.
The same probe decides whether hidden tests may run here
(`require_walls_for_hidden_tests`): they need a private file-system view
(namespaces) or a separate uid with the secret folders closed to it.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

#: Environment variable with the same meaning as `grade batch --allow-unisolated-hidden-tests`.
ALLOW_ENV = "GRADE_ALLOW_UNISOLATED_HIDDEN_TESTS"


def probe(course: Any | None = None) -> dict:
    """Start one sandbox for ``course`` (its public modules visible, its secret folders masked); return its report."""
    from grader.trusted.errors import SandboxUnavailable
    from grader.trusted.remote import SandboxConfig, StudentSession

    nothing = Path(tempfile.gettempdir())  # files=(): nothing is copied from it
    course_paths: tuple[str, ...] = ()
    hidden_paths: tuple[str, ...] = ()
    if course is not None:
        course_paths = (str(course.exercises_dir),)
        hidden_paths = tuple(str(p) for p in (course.solutions_dir, course.hidden_tests_dir, course.root / "data"))
    session = StudentSession(SandboxConfig(submission_dir=nothing, files=(), course_paths=course_paths,
                                           hidden_paths=hidden_paths))
    try:
        if session.request({"op": "ping"}, 60.0, "starting a test sandbox") != "pong":
            raise SandboxUnavailable("the test sandbox did not answer")
        report = session.isolation
        session.close()  # adds report["leftovers"]
        return dict(report)
    finally:
        session.close()


def hidden_tests_walled(report: dict) -> tuple[bool, str]:
    """May hidden tests run with these walls? (yes/no, the reason in English for staff)."""
    if str(report.get("filesystem", "")).startswith("minimal root"):
        return True, "secret files are absent from the sandbox's file system (mount namespace)"
    if report.get("uid_drop") and report.get("guarded") is not None and not report.get("secrets_reachable"):
        return True, "no namespaces, but the sandbox runs as its own uid and every secret folder is closed to it"
    if report.get("secrets_reachable"):
        return False, "secret folders stay readable by the sandbox: " + ", ".join(report["secrets_reachable"])
    return False, ("neither namespaces nor a uid change are available: student code runs as the grader's user "
                   "and can read every file the grader can (hidden tests, solutions, other submissions)")


def require_walls_for_hidden_tests(course: Any, allow: bool = False) -> dict:
    """Refuse (RuntimeError) to run hidden tests where student code could read them, unless staff allow it.

    The single check before any grading with hidden tests (`grade batch`,
    `grade EXID --suite all`); ``allow`` (or GRADE_ALLOW_UNISOLATED_HIDDEN_TESTS=1)
    is the explicit choice to accept the risk. Returns the probe's report.
    """
    report = probe(course)
    ok, reason = hidden_tests_walled(report)
    if not ok and not (allow or os.environ.get(ALLOW_ENV) == "1"):
        raise RuntimeError(f"hidden tests are not run on this machine: {reason}. Grade on a host with user "
                           "namespaces or as root (docs/security.md), or pass --allow-unisolated-hidden-tests "
                           f"(or set {ALLOW_ENV}=1) to accept that submissions can read them.")
    return report


def _yes(flag: bool, detail: str = "") -> str:
    """ "ja (detail)" or "nein (detail)"; an empty detail adds nothing."""
    return ("ja" if flag else "nein") + (f" ({detail})" if detail else "")


def render(report: dict) -> str:
    """The student-facing summary (German, Sie-form) of one sandbox's isolation report."""
    fs = str(report.get("filesystem", ""))
    minimal = fs.startswith("minimal root")
    leftovers = report.get("leftovers") or {}
    proc = str(report.get("proc", ""))
    proc_text = ("verborgen (kein /proc in der Sandbox)" if proc == "absent" else
                 "nur eigene Prozesse sichtbar (hidepid=2)" if proc.startswith("hidepid") else
                 "alle Prozesse sichtbar")
    rows = [
        ("Benutzer-Namespace", "nicht nötig (Bewertung als root)" if report.get("real_root") else
         _yes(bool(report.get("user_namespace")), "ohne root-Rechte" if report.get("user_namespace") else "")),
        ("Dateisystem (Mount-Namespace)", _yes(minimal, "nur Systembibliotheken, Python, Kursmodule und ein "
                                                "privates /tmp sind sichtbar" if minimal else "")),
        ("Netzwerk (Network-Namespace)", "ja (kein Netzwerkzugang)"
         if str(report.get("network", "")).startswith("namespace") else
         "nein (seccomp sperrt aber IP-Sockets)" if str(report.get("seccomp", "")).startswith("on") else "nein"),
        ("IPC (IPC-Namespace)", "ja" if str(report.get("ipc", "")).startswith("namespace") else
         "nein (seccomp sperrt aber SysV-IPC und Message-Queues)" if str(report.get("seccomp", "")).startswith("on")
         else "nein"),
        ("PID-Namespace", "nein (nicht genutzt; andere Prozesse sind über /proc nicht sichtbar)"
         if proc != "host" else "nein (nicht genutzt)"),
        ("Eigene Benutzerkennung", _yes(bool(report.get("uid_drop")),
                                        "" if report.get("uid_drop") else "nur wenn als root bewertet wird")),
        ("seccomp-Filter", _yes(str(report.get("seccomp", "")).startswith("on"))),
        ("/proc", proc_text),
        ("Aufräumen nach jeder Sandbox", "vollständig" if leftovers.get("clean") else
         "Reste gefunden und entfernt" if leftovers.get("checked") else "nicht prüfbar"),
    ]
    width = max(len(k) for k, _ in rows) + 2
    lines = [f"Schutzwände der Sandbox auf diesem Rechner ({sys.platform}):"]
    lines += [f"  {k + ':':<{width}}{v}" for k, v in rows]
    ok, _ = hidden_tests_walled(report)
    lines.append("")
    if minimal:
        lines.append("Bedeutung: Ihr Code läuft abgeschottet. Verdeckte Tests und Musterlösungen wären für ihn "
                     "nicht sichtbar; die lokale Prüfung verhält sich wie die offizielle Bewertung.")
    elif ok:
        lines.append("Bedeutung: Keine Namespaces, aber Ihr Code läuft unter einer eigenen Benutzerkennung, der "
                     "geheime Ordner verschlossen sind. Verdeckte Tests dürfen hier laufen.")
    else:
        lines.append("Bedeutung: Ihr Code läuft ohne Dateisystem-Schutz unter Ihrer Benutzerkennung. Für die "
                     "öffentlichen Tests auf Ihrem eigenen Rechner ist das unbedenklich; verdeckte Tests werden "
                     "auf einem solchen Rechner nicht ausgeführt (die offizielle Bewertung läuft geschützt).")
    notes = [n for n in report.get("notes", []) if "not run as root" not in n]
    if notes:
        lines.append("Technische Hinweise: " + "; ".join(str(n) for n in notes[:4]))
    return "\n".join(lines)
