"""The grading engine: sandboxed, data-only, pytest-based.

The packages follow the trust boundary (docs/architecture.md draws the tree):
`wire/` carries data frames across it, `sandbox/` is the only code that runs
next to student code, `trusted/` grades in the grader's process, `feedback/`
renders what students read, `staff/` is the batch and LMS pipeline. Shared
by all: `course.py` (course.toml), `notebook.py`, `i18n/` and `cli.py` (the `grade` program).
"""
__version__ = "0.1.0"
