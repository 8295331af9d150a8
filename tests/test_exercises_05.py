"""The notebook-05 exercise checks accept the reference solutions and reject wrong answers."""

import pytest

from percepkit import exercises as ex


def test_raw_lambdas_accepts_reference(capsys):
    ex.check_raw_lambdas(ex.raw_lambdas_reference)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda rel, ref: {t: v * ref[t] for t, v in rel.items()}, "multiplied by the reference"),
        (lambda rel, ref: dict(rel), "expected raw"),
        (lambda rel, ref: {t: 1 / ref[t] for t in rel}, "must stay 0"),
        (lambda rel, ref: [1, 2], "dict"),
    ],
)
def test_raw_lambdas_rejects_wrong(wrong, match):
    with pytest.raises(AssertionError, match=match):
        ex.check_raw_lambdas(wrong)


def test_pareto_front_accepts_reference(capsys):
    ex.check_pareto_front(ex.pareto_front_reference)
    assert "correct" in capsys.readouterr().out


def _all_indices(points):
    return list(range(len(points)))


def _best_psnr_only(points):
    return [max(range(len(points)), key=lambda i: points[i][0])]


def _unsorted(points):
    return sorted(ex.pareto_front_reference(points), reverse=True)


@pytest.mark.parametrize("wrong, match", [(_all_indices, "extra"), (_best_psnr_only, "missing"),
                                          (_unsorted, "sort them"), (lambda p: None, "list of indices")])
def test_pareto_front_rejects_wrong(wrong, match):
    with pytest.raises(AssertionError, match=match):
        ex.check_pareto_front(wrong)
