"""The 09 exercise check accepts a correct 2AFC agreement and names the learner's mistake."""

import numpy as np
import pytest

import percepkit as pk
import percepkit.exercises_06_09 as ex69
from percepkit import exercises as ex


def good(d_a, d_b, p_a):
    return np.mean(np.where(d_a < d_b, p_a, np.where(d_a > d_b, 1 - p_a, 0.5)))


def test_accepts_the_reference_and_the_package(capsys):
    ex.check_two_afc(good)
    ex.check_two_afc(ex.two_afc_reference)
    # the package's agreement with tie tolerance 0 is the same quantity (counts: p_a of one answer)
    ex.check_two_afc(lambda a, b, p: pk.agreement(np.stack([a, b], 1), np.stack([p, 1 - p], 1), tie_rtol=0))
    assert capsys.readouterr().out.count("Correct") == 3


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda a, b, p: 100 * good(a, b, p), "percentage"),
        (lambda a, b, p: good(b, a, p), "farther"),
        (lambda a, b, p: good(a, b, np.round(p)), "majority vote"),
        (lambda a, b, p: np.mean(np.where(a < b, p, 1 - p)), "tie"),
        (lambda a, b, p: np.where(a < b, p, 1 - p), "one number"),
        (lambda a, b, p: np.mean(p), "Per triplet"),
        (lambda a, b, p: "0.5", "float"),
    ],
)
def test_names_the_mistake(wrong, message):
    with pytest.raises(AssertionError, match=message):
        ex.check_two_afc(wrong)


# One case of our own (monkeypatched over the check's), where no verdict coincides with another: p_a is never 0 or 1
# where it matters, a tie's p_a is 0.6, a fraction is exactly 0.5. Written out by hand:
# want = 0.8 + (1 - 0.3) + 0.5 + 0.5 (the tie) = 2.5, / 4 = 0.625.
_CASE = ([1.0, 2.0, 1.0, 3.0], [2.0, 1.0, 2.0, 3.0], [0.8, 0.3, 0.5, 0.6])
_SAID = "for d_a=[1.0, 2.0, 1.0, 3.0], d_b=[2.0, 1.0, 2.0, 3.0], p_a=[0.8, 0.3, 0.5, 0.6]: expected 0.6250, got "


def _majority(a, b, p):  # a vote per triplet: 1 above one half, 0 below, 0.5 at exactly one half
    return good(a, b, np.where(p > 0.5, 1.0, np.where(p < 0.5, 0.0, 0.5)))


@pytest.mark.parametrize("wrong, got, hint", [
    # majority p -> (1, 0, 0.5, 1): 1 + 1 + 0.5 + 0.5 = 3 / 4
    (_majority, "0.7500", "You used a majority vote: score with the fraction p_a itself (p_a if it chooses A, 1 − p_a if B)."),
    # a tie scored as B (1 - 0.6) or as A (0.6): 2.4 / 4 and 2.6 / 4
    (lambda a, b, p: np.mean(np.where(a < b, p, 1 - p)), "0.6000",
     "Look at the tie (d_a == d_b): the metric cannot choose, so it gets half a point."),
    (lambda a, b, p: np.mean(np.where(a > b, 1 - p, p)), "0.6500",
     "Look at the tie (d_a == d_b): the metric cannot choose, so it gets half a point."),
    # farther: 0.2 + 0.3 + 0.5 + 0.5 = 1.5 / 4
    (lambda a, b, p: good(b, a, p), "0.3750",
     "You let the metric choose the candidate it puts *farther*: it chooses the one with the smaller distance."),
    (lambda a, b, p: 100 * good(a, b, p), "62.5000", "You returned a percentage: return a fraction in [0, 1]."),
    (lambda a, b, p: np.mean(p), "0.5500", "Per triplet: p_a if d_a < d_b, 1 − p_a if d_a > d_b, ½ if equal; then the mean."),
])
def test_each_verdict_on_a_case_where_none_coincide(monkeypatch, wrong, got, hint):
    monkeypatch.setattr(ex69, "_TWO_AFC_CASES", [_CASE])
    ex.check_two_afc(good)  # the right answer still passes on this case
    with pytest.raises(AssertionError) as e:
        ex.check_two_afc(wrong)
    assert str(e.value) == _SAID + got + ". " + hint


def test_ints_in_give_the_same_reference():
    assert ex.two_afc_reference([1, 2, 1, 3], [2, 1, 2, 3], [1, 0, 1, 1]) == 0.875  # (1 + 1 + 1 + 0.5) / 4


def test_a_case_of_ties_only_still_points_at_the_tie(monkeypatch):
    # every triplet tied: want 0.5; scoring a tie as B gives (0.2 + 0.7) / 2 = 0.45
    monkeypatch.setattr(ex69, "_TWO_AFC_CASES", [([1.0, 2.0], [1.0, 2.0], [0.8, 0.3])])
    with pytest.raises(AssertionError) as e:
        ex.check_two_afc(lambda a, b, p: np.mean(np.where(a < b, p, 1 - p)))
    assert str(e.value) == ("for d_a=[1.0, 2.0], d_b=[1.0, 2.0], p_a=[0.8, 0.3]: expected 0.5000, got 0.4500. Look at the "
                            "tie (d_a == d_b): the metric cannot choose, so it gets half a point.")
