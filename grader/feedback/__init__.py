"""Student-facing rendering shared by `grade EXID` and the staff reports: findings
(one per cause) and the terminal report, number and text formatting.

May import grader.i18n and grader.trusted.results; never grader.staff or pytest.
"""
