"""The grading engine: sandboxed, data-only, pytest-based.

Trust boundary by file name: `sandbox.py` (+ `isolation.py`, `zygote.py`) is the
only code that runs next to student code; `channel.py` is the only thing that
crosses; `student.py` and `plugin.py` run in the trusted process.
"""
__version__ = "0.1.0"
