"""The grader's side of one grading: remote handles on sandbox objects, the static
check, the pytest plugin, checks for test authors, points and the result document.

May import grader.sandbox (to start sandboxes) and grader.wire; never grader.staff.
"""
