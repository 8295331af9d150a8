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
        if "minus" in self.keep:  # a fix written for [-1, 1] images: ((x + 1) / 2 - mean) / std
            norm = lambda z: ((z + 1) / 2 - self.mean) / self.std  # noqa: E731
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


_HINT = {
    "no-normalisation": "normalise inside forward: (x - mean) / std with the ImageNet mean and std, for both images",
    "expects-minus-one": "your normalisation assumes [-1, 1] input; the images here are in [0, 1]",
    "pre-activation-tap": "end each slice after the ReLU: range(prev, lid + 1), and start the next one at lid + 1",
    "inplace-at-tap": "set inplace=False on the ReLUs (for m in self.modules(): if isinstance(m, nn.ReLU): ...)",
    "target-autograd": "compute the target's features under torch.no_grad() (or detach them)",
    "trainable-parameters": "freeze the network: self.requires_grad_(False)",
    "train-mode": "call self.eval() at the end of __init__",
    "input-too-small": "this should not happen at 64 px: did you add deeper layers?",
}


class _LeftBug(Fixed):
    """The reference fix with one bug put back (or left in): ``bug`` names it."""

    def __init__(self, vgg_features=None, bug=""):
        pre = bug in ("pre", "pre+inplace")  # slices that stop one short: the seed's range(prev, lid)
        keep = {"norm": ("norm",), "minus": ("minus",), "grad": ("grad",), "pre+inplace": ("inplace",)}.get(bug, ())
        super().__init__(layer_ids=(2, 7, 16) if pre else (3, 8, 17), vgg_features=vgg_features, keep=keep)
        if bug == "trainable":
            self.requires_grad_(True)
        if bug == "dropout":
            self.drop = nn.Dropout(0.5)  # never called, but left in training mode
            self.drop.train()
        self.wide = nn.Conv2d(3, 1, 65).requires_grad_(False) if bug == "wide" else None  # needs 65 px

    def forward(self, pred, target):
        if self.wide is not None:
            return super().forward(pred, target) + self.wide(pred).mean() * 0
        return super().forward(pred, target)


@pytest.mark.parametrize("bug, codes", [
    ("norm", ["no-normalisation"]),
    ("minus", ["expects-minus-one"]),
    ("grad", ["target-autograd"]),
    ("pre", ["pre-activation-tap"]),
    ("pre+inplace", ["pre-activation-tap", "inplace-at-tap"]),
    ("trainable", ["trainable-parameters"]),
    ("dropout", ["train-mode"]),
    ("wide", ["input-too-small"]),
])
def test_each_bug_left_gets_its_hint_whole(bug, codes):
    class Left(_LeftBug):
        def __init__(self, vgg_features=None):
            super().__init__(vgg_features=vgg_features, bug=bug)

    with pytest.raises(AssertionError) as e:
        pk.exercises.check_seed_fix(Left)
    assert str(e.value) == "pk.doctor still finds:\n" + "\n".join(f"- {c}: {_HINT[c]}" for c in codes)


def test_the_check_builds_the_class_on_vgg19_seeded_0_and_leaves_the_random_stream_alone(capsys):
    seen = []

    class Recording(Fixed):
        def __init__(self, vgg_features=None):
            seen.append(vgg_features)
            super().__init__(vgg_features=vgg_features)

    from torchvision import models

    torch.manual_seed(123)
    before = torch.get_rng_state()
    pk.exercises.check_seed_fix(Recording)
    assert torch.equal(torch.get_rng_state(), before)
    assert capsys.readouterr().out == ("Correct: pk.doctor finds nothing, and the loss compares relu1_2, relu2_2 and "
                                       "relu3_4 of normalised inputs.\n")
    torch.manual_seed(0)
    want = models.vgg19(weights=None).features.state_dict()
    assert len(seen) == 1 and isinstance(seen[0], nn.Sequential)
    got = seen[0].state_dict()
    assert list(got) == list(want) and all(torch.equal(got[k], want[k]) for k in want)
