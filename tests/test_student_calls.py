"""Calls into a sandbox through the `student` fixture's proxies: one round trip per call, same meaning."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_submission
from grader.trusted.errors import StudentException, StudentTimeout
from grader.trusted.plugin import GradingPlugin
from grader.trusted.remote import StudentSession, SandboxProcess

SOURCE = '''
import time

LIMIT = 7


def double(x):
    return 2 * x


def rebind():
    global double
    double = lambda x: 3 * x
    return True


def sleep(seconds):
    time.sleep(seconds)


class Box:
    size = 4

    def __init__(self, value):
        self.value = value

    def get(self):
        return self.value
'''


@pytest.fixture
def session(mini, tmp_path):
    folder = write_submission(tmp_path / "sub", {"beta.py": SOURCE})
    session = StudentSession(GradingPlugin(mini, Path(folder)).sandbox_config(mini.exercise("beta")))
    yield session
    session.close()


@pytest.fixture
def round_trips(monkeypatch):
    count = [0]
    real = SandboxProcess.exchange

    def counting(self, frame, timeout, what):
        if frame is not None:
            count[0] += 1
        return real(self, frame, timeout, what)

    monkeypatch.setattr(SandboxProcess, "exchange", counting)
    return count


def test_module_function_costs_one_round_trip_after_the_first_call(session, round_trips):
    module = session.module("beta", None)
    assert module.double(2) == 4
    before = round_trips[0]
    assert [module.double(i) for i in range(5)] == [0, 2, 4, 6, 8]
    assert round_trips[0] - before == 5


def test_method_call_is_one_round_trip(session, round_trips):
    box = session.module("beta", None).Box(5)
    before = round_trips[0]
    assert box.get() == 5
    assert round_trips[0] - before == 1


def test_module_data_is_still_read_as_data(session):
    module = session.module("beta", None)
    assert module.LIMIT == 7
    assert module.LIMIT == 7


def test_each_call_sees_the_current_binding(session):
    module = session.module("beta", None)
    assert module.double(1) == 2
    assert module.rebind() is True
    assert module.double(1) == 3


def test_calling_a_data_attribute_as_a_method_says_so(session):
    box = session.module("beta", None).Box(1)
    with pytest.raises(StudentException, match=r"size ist keine Funktion und keine Methode \(sondern vom Typ int\)"):
        box.size()


def test_a_function_keeps_working_after_the_sandbox_restarts(session):
    module = session.module("beta", None)
    double = module.double
    double(1)
    sleep = module.sleep
    with pytest.raises(StudentTimeout):
        sleep(60)
    assert module.double(4) == 8
