"""The notebook-04 checks accept the reference answers and reject typical wrong ones."""

import pytest
import torch

import percepkit as pk
from percepkit import exercises as ex


def test_gram_reference_matches_package():
    f = torch.rand(3, 4, 5, 6)
    assert torch.allclose(ex.gram_reference(f), pk.gram_matrix(f), rtol=1e-5)


def test_check_gram_matrix_accepts_reference_and_einsum():
    ex.check_gram_matrix(pk.gram_matrix)
    ex.check_gram_matrix(lambda f: torch.einsum("nchw,ndhw->ncd", f, f) / (f.shape[1] * f.shape[2] * f.shape[3]))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda f: ex.gram_reference(f, "÷H·W"), "÷H·W"),
        (lambda f: ex.gram_reference(f, "÷N·C·H·W"), "÷N·C·H·W"),
        (lambda f: ex.gram_reference(f, "no divisor"), "no divisor"),
        (lambda f: f.flatten(2).transpose(1, 2) @ f.flatten(2), "shape"),  # positions × positions
        (lambda f: ex.gram_reference(f) + torch.triu(torch.ones(f.shape[1], f.shape[1]), 1), "symmetric"),
        (lambda f: ex.gram_reference(f) * 1.5, "differs"),
        (lambda f: f.sum(), "shape"),
        (lambda f: 1.0, "torch.Tensor"),
    ],
)
def test_check_gram_matrix_rejects(wrong, message):
    with pytest.raises(AssertionError, match=message):
        ex.check_gram_matrix(wrong)


def test_check_gram_hw():
    ex.check_gram_hw(lambda f: ex.gram_reference(f, "÷H·W"))
    with pytest.raises(AssertionError, match="÷C·H·W"):
        ex.check_gram_hw(pk.gram_matrix)


def test_check_lambda_rescale():
    ex.check_lambda_rescale(ex.lambda_rescale_reference)
    ex.check_lambda_rescale(lambda lam, c, h, w: lam / (c * c))
    for wrong, message in [
        (lambda lam, c, h, w: lam / c, "squared"),
        (lambda lam, c, h, w: lam * c**2, "Wrong direction"),
        (lambda lam, c, h, w: lam / (h * w) ** 2, "only the factor C"),
        (lambda lam, c, h, w: lam, "expected"),
        (lambda lam, c, h, w: "x", "number"),
    ]:
        with pytest.raises(AssertionError, match=message):
            ex.check_lambda_rescale(wrong)
