"""The hidden tests (staff only): imported as ``autograder_tests.test_<id>_hidden``; they reuse ``exercises.tests``."""
