"""Attack: failures dressed as the grader's own defects.

Exceptions named like the engine's test-defect and environment errors
(NameError, ImportError, AuthorError, SandboxUnavailable, GradingError) with
texts that copy its "nicht Ihr Fehler" wording: they stay the student's
failures (0 points for the part, "Ihr Code löste ... aus"), never a test
error, never a grading error that would void the submission.
"""


def _raise(name, text):
    raise type(name, (Exception,), {})(text)


def scale(x, factor):
    if factor != 2.5:  # the hidden test
        _raise("NameError", "Der Test des Graders ist selbst fehlgeschlagen")
    _raise("ImportError", "Der Test des Graders ist selbst fehlgeschlagen")


def total(x):
    if x.ndim == 2:
        _raise("SandboxUnavailable", "die Sandbox startet nicht")
    _raise("GradingError", "die Tests konnten nicht geladen werden")
