"""Notebook 07's exercise: the check accepts the reference fix and names each remaining bug of the seed's class."""

import re

import pytest
import torch
import torch.nn as nn

import percepkit as pk


class Fixed(pk.SeedPerceptualLoss):
    """The notebook's hidden reference solution."""

    def __init__(self, layer_ids=(3, 8, 17), weights=None, vgg_features=None, keep=()):
        super().__init__([i + 1 for i in layer_ids], weights, vgg_features)  # slices end after the ReLU
        self.keep = keep
        if "inplace" not in keep:
            for m in self.modules():
                if isinstance(m, nn.ReLU):
                    m.inplace = False
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.eval()

    def forward(self, pred, target):
        norm = (lambda z: z) if "norm" in self.keep else (lambda z: (z - self.mean) / self.std)
        x = norm(pred)
        with torch.set_grad_enabled("grad" in self.keep):
            y, ys = norm(target), []
            for sl in self.slices:
                y = sl(y)
                ys.append(y)
        loss = 0.0
        for sl, w, fy in zip(self.slices, self.weights, ys):
            x = sl(x)
            loss = loss + w * torch.mean((x - fy) ** 2)
        return loss


def test_the_reference_fix_passes(capsys):
    pk.exercises.check_seed_fix(Fixed)
    assert "Correct" in capsys.readouterr().out


def test_the_unchanged_seed_class_is_diagnosed():
    with pytest.raises(AssertionError) as e:
        pk.exercises.check_seed_fix(pk.SeedPerceptualLoss)
    for hint in ("no-normalisation", "pre-activation-tap", "target-autograd", "range(prev, lid + 1)", "no_grad"):
        assert hint in str(e.value)


@pytest.mark.parametrize("keep, code", [("norm", "no-normalisation"), ("grad", "target-autograd")])
def test_one_bug_left_is_named(keep, code):
    class Partial(Fixed):
        def __init__(self, vgg_features=None):
            super().__init__(vgg_features=vgg_features, keep=(keep,))

    with pytest.raises(AssertionError, match=code):
        pk.exercises.check_seed_fix(Partial)


def test_a_class_with_the_wrong_signature():
    class Wrong(nn.Module):
        def __init__(self, features):
            super().__init__()

    with pytest.raises(AssertionError, match="vgg_features"):
        pk.exercises.check_seed_fix(Wrong)


@pytest.mark.parametrize("layer_ids, taps", [
    ((3, 8, 17, 26), ["relu1_2", "relu2_2", "relu3_4", "relu4_4"]),  # a layer too many
    ((3, 8), ["relu1_2", "relu2_2"]),  # relu3_4 dropped
])
def test_a_fix_that_compares_other_layers_is_refused(layer_ids, taps):
    class OtherLayers(Fixed):
        def __init__(self, vgg_features=None):
            super().__init__(layer_ids=layer_ids, vgg_features=vgg_features)

    with pytest.raises(AssertionError, match=r"^the loss should compare relu1_2, relu2_2 and relu3_4 \(indices 3, 8, 17\); "
                       rf"it compares {re.escape(str(taps))}$"):
        pk.exercises.check_seed_fix(OtherLayers)
