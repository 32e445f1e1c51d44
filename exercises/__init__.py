"""The course folder as a package, so its tests import as ``exercises.tests...`` (the grader's test packages).

Students do not import it: their files, the course framework (autodiff, ...)
and the notebooks use this folder as their working directory.
"""
