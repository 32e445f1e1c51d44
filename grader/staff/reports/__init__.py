"""Reports rendered from the result data (docs/results.md) and nothing else.

One module per output: ``feedback`` (student HTML/Markdown), ``gradescope``
(results.json), ``gradescsv`` (grades.csv), ``summary`` (staff overview),
``moodle`` and ``canvas`` (LMS import files), ``manual`` (merging staff
points for manually graded parts). Every writer writes atomically.
"""
