"""The 09 exercise check accepts a correct 2AFC agreement and names the learner's mistake."""

import numpy as np
import pytest

import percepkit as pk
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
