"""The public course tests: pytest imports them as ``exercises.tests.test_<id>``, helpers from ``exercises.tests.support``."""
