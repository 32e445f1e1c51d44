"""Frames between the trusted grader and a sandbox: data only, never pickle.

Imports the standard library and numpy only; both sides of the trust boundary use it.
"""
