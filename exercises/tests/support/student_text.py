"""Names that come from a student's process, made safe to show in messages (trusted side).

A driver that reports what a student's function returned (its type, its dtype,
the exception it raised) hands back strings the student controls: a class
named after a hidden input would carry that input into a hidden test's
message. Only names from fixed lists are shown; anything else becomes a
neutral word.
"""

from __future__ import annotations

TYPES = frozenset({"int", "float", "bool", "str", "bytes", "list", "tuple", "dict", "set", "NoneType", "ndarray",
                   "float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool_", "complex",
                   "complex128", "generator", "function", "map", "zip", "range"})
EXCEPTIONS = frozenset({"ValueError", "TypeError", "IndexError", "KeyError", "AttributeError", "ZeroDivisionError",
                        "OverflowError", "RuntimeError", "AssertionError", "NotImplementedError", "ArithmeticError",
                        "FloatingPointError", "Exception", "RecursionError", "MemoryError", "NameError",
                        "UnboundLocalError", "LookupError"})
DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                    "float32", "float64", "complex64", "complex128", "object"})


def safe_type(name: str) -> str:
    """A type name from the student's process, or a neutral word if it is not a common type."""
    return name if name in TYPES else "eines anderen Typs"


def safe_exception(name: str) -> str:
    return name if name in EXCEPTIONS else "eine andere Ausnahme"


def safe_dtype(name: str) -> str:
    return name if name in DTYPES else "eines anderen Typs"
