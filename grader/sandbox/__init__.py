"""What runs next to student code: the call server, the walls (namespaces, seccomp,
rlimits) and the two ways a sandbox is started (forked from a warm template, or a fresh
interpreter where fork is missing).

Imports the standard library, numpy, grader.wire and grader.i18n only: never pytest,
torch, or anything trusted (tests/test_structure.py enforces it).
"""
