"""The 01 exercise checks accept the right answers and reject wrong ones with a helpful message."""

import pytest

from percepkit import exercises as ex


def test_l2_check_accepts_the_mean(capsys):
    ex.check_l2_optimum(lambda t: t.mean(0, keepdim=True))
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda t: t.median(0, keepdim=True).values, "not the L2 optimum"),
        (lambda t: t[:1], "not the L2 optimum"),
        (lambda t: t.mean(0), "shape"),
        (lambda t: t.mean(0, keepdim=True).numpy(), "torch.Tensor"),
    ],
)
def test_l2_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(AssertionError, match=message):
        ex.check_l2_optimum(wrong)


def test_l1_check_accepts_any_median(capsys):
    ex.check_l1_optimum(lambda t: t.median(0, keepdim=True).values)  # lower median
    ex.check_l1_optimum(lambda t: t.sort(0).values[t.shape[0] // 2].unsqueeze(0))  # upper median
    assert capsys.readouterr().out.count("Correct") == 2


def test_l1_check_rejects_the_mean_and_says_so():
    with pytest.raises(AssertionError, match="L2 answer"):
        ex.check_l1_optimum(lambda t: t.mean(0, keepdim=True))


def test_l1_check_rejects_a_single_target():
    with pytest.raises(AssertionError, match="mean absolute error"):
        ex.check_l1_optimum(lambda t: t[:1] * 0 + 0.5)


def test_checks_try_an_odd_and_an_even_number_of_targets():
    seen = []

    def spy(t):
        seen.append(tuple(t.shape))
        return t.mean(0, keepdim=True)

    ex.check_l2_optimum(spy)
    assert seen == [(5, 3, 8, 8), (4, 3, 8, 8)]
