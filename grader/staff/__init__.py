"""The staff pipeline: batch grading, merge and shards, LMS intake (layouts) and
reports, release and autograder packages, validation, similarity.

May import everything else in grader; nothing outside grader.staff imports it except
the staff commands of grader.cli. The student release does not ship it.
"""
