"""checks.Cases: a mistake is named only when it explains every case; German, plain numbers."""
from __future__ import annotations

import numpy as np
import pytest

from grader import i18n
from grader.trusted import checks
from grader.trusted.checks import Cases, CheckFailed, Mistake, assert_close, assert_float_close, expect_array, fmt_num


@pytest.fixture(autouse=True)
def german():
    i18n.set_language("de")
    yield
    i18n.set_language("de")


def _flip(k):
    return k[::-1, ::-1]


def test_mistake_named_when_it_explains_every_case():
    rng = np.random.default_rng(0)
    cases = Cases("h_conv2d")
    for _ in range(3):
        k = rng.normal(size=(3, 3))
        cases.close(_flip(k), k, mistakes=[Mistake("Kern gespiegelt", _flip(k), "Korrelation, keine Faltung.",
                                                   id="flipped_kernel")])
    with pytest.raises(CheckFailed) as info:
        cases.verdict()
    assert info.value.mistake_id == "flipped_kernel"
    assert info.value.cause == "flipped_kernel"
    assert "3 von 3 Fällen" in str(info.value)
    assert "Kern gespiegelt" in str(info.value)


def test_mistake_not_named_when_one_case_contradicts_it():
    rng = np.random.default_rng(1)
    cases = Cases("h_conv2d")
    k1, k2 = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    flip = Mistake("Kern gespiegelt", _flip(k1), id="flipped_kernel")
    cases.close(_flip(k1), k1, mistakes=[flip])
    cases.close(k2 + 1.0, k2, mistakes=[Mistake("Kern gespiegelt", _flip(k2), id="flipped_kernel")])
    with pytest.raises(CheckFailed) as info:
        cases.verdict()
    assert info.value.mistake is None
    assert "bekannten Fehler" not in str(info.value)
    assert "2 von 2 Fällen" in str(info.value)


def test_unlisted_mistake_predicts_the_correct_answer():
    """A case that does not list the mistake and passes keeps it explaining; a failing one does not."""
    m = Mistake("Vorzeichen", np.array([-1.0]), id="sign")
    ok = Cases("f")
    ok.close(np.array([-1.0]), np.array([1.0]), mistakes=[m])
    ok.close(np.array([0.0]), np.array([0.0]))  # symmetric input: correct and mistaken agree
    with pytest.raises(CheckFailed) as info:
        ok.verdict()
    assert info.value.mistake_id == "sign"
    bad = Cases("f")
    bad.close(np.array([-1.0]), np.array([1.0]), mistakes=[m])
    bad.close(np.array([5.0]), np.array([0.0]))
    with pytest.raises(CheckFailed) as info:
        bad.verdict()
    assert info.value.mistake is None


def test_all_cases_pass_no_error():
    with Cases("f") as cases:
        cases.close(np.ones(3), np.ones(3), mistakes=[Mistake("x", np.zeros(3))])


def test_plain_numbers_never_numpy_reprs():
    with pytest.raises(CheckFailed) as info:
        assert_float_close(np.float64(-12.755123456), 1.5, what="V(D, G)")
    text = str(info.value)
    assert "np.float64" not in text and "-12.7551" in text
    assert fmt_num(np.int64(3)) == "3" and fmt_num((np.int64(2), 3)) == "(2, 3)"


def test_hidden_tests_show_no_values():
    token = checks.set_reveal(False)
    try:
        with pytest.raises(CheckFailed) as info:
            assert_close(np.array([1.0, 2.0]), np.array([1.0, 3.0]), inputs={"x": 0.123456})
        text = str(info.value)
        assert "erhalten" not in text and "erwartet" not in text
        assert "0.123456" not in text and "Index (1,)" in text
    finally:
        checks.reset_reveal(token)


def test_shape_failure_has_a_cause_and_german_text():
    with pytest.raises(CheckFailed) as info:
        expect_array(np.zeros((2, 3)), shape=(3, 2), what="h_conv2d")
    assert info.value.cause == "shape"
    assert "Form (2, 3)" in str(info.value) and "vertauscht" in str(info.value)


def test_catalogues_have_the_same_keys():
    assert set(i18n.catalogue("de")) == set(i18n.catalogue("en"))
    for key, entry in i18n.catalogue("de").items():
        other = i18n.catalogue("en")[key]
        assert type(entry) is type(other), key


def test_a_failed_case_without_values_explains_only_the_mistakes_it_names():
    """A mistake that shows as values on one input and as an exception on another is named only if it
    predicts both; a case judged right by another check keeps every mistake possible."""
    m = Mistake("Kanäle nicht getauscht", np.array([-1.0]), id="channels")
    named = Cases("f")
    named.close(np.array([-1.0]), np.array([1.0]), mistakes=[m])
    named.fail("ValueError: shapes", explained_by=[m])
    named.passed()
    with pytest.raises(CheckFailed) as info:
        named.verdict()
    assert info.value.mistake_id == "channels"
    neutral = Cases("f")
    neutral.close(np.array([-1.0]), np.array([1.0]), mistakes=[m])
    neutral.fail("ValueError: shapes")
    with pytest.raises(CheckFailed) as info:
        neutral.verdict()
    assert info.value.mistake is None


def test_mistakes_given_as_a_function_are_predicted_only_when_a_case_failed():
    """A right answer never pays for the wrong ones; a wrong one is judged exactly as with a list."""
    calls = []

    def doubled(x):
        calls.append(x)
        return [Mistake("verdoppelt", 2 * x, id="doubled"), Mistake("negiert", -x, id="negated")]

    xs = [np.arange(3.0), np.arange(4.0) + 1]
    with Cases("f") as right:
        for x in xs:
            right.close(x.copy(), x, mistakes=lambda x=x: doubled(x))
    assert calls == []

    def judged(mistakes_of):
        cases = Cases("f")
        for x in xs:
            cases.close(2 * x, x, mistakes=mistakes_of(x))
        cases.close(np.zeros(2), np.zeros(2), mistakes=mistakes_of(np.zeros(2)))   # a right case explains nothing away
        with pytest.raises(CheckFailed) as failed:
            cases.verdict()
        return failed.value

    lazy, eager = judged(lambda x: (lambda: doubled(x))), judged(doubled)
    assert len(calls) == 2 * 3
    assert lazy.mistake.key == eager.mistake.key == "doubled" and str(lazy) == str(eager)
