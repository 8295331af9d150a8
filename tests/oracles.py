"""Shared oracles for the tests: a tiny deterministic backbone and its features written out by hand;
a triplet set built by hand and 2AFC answers counted and scored by hand loops (tests/test_scoring.py,
tests/test_answers.py).

The tiny backbone is a real :class:`percepkit.backbones.Backbone` (conv → ReLU → pool → conv → ReLU),
so every loss runs its own code on it; :func:`tiny_features` computes the same features with plain
``torch.nn.functional`` calls and the ImageNet constants typed in, independently of Backbone.forward.
"""

import itertools
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from percepkit.backbones import Backbone
from percepkit.triplets import Triplet, TripletSet

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
TINY_LAYERS = ("conv1", "relu1", "pool1", "conv2", "relu2")


def tiny_backbone(seed: int = 0, zero: bool = False) -> Backbone:
    g = torch.Generator().manual_seed(seed)
    c1, c2 = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 5, 3, padding=1)
    for c in (c1, c2):
        c.weight.data = 0.0 * c.weight if zero else torch.randn(c.weight.shape, generator=g) * 0.3
        c.bias.data = 0.0 * c.bias if zero else torch.randn(c.bias.shape, generator=g) * 0.1
    stages = [c1, nn.ReLU(), nn.MaxPool2d(2, 2), c2, nn.ReLU()]
    return Backbone("tiny", stages, TINY_LAYERS, ["conv", "relu", "pool", "conv", "relu"],
                    default_layers=("relu1", "relu2"), style_layers=("conv1", "relu2"), normalization="imagenet",
                    source="test oracle", pretrained=False)


def tiny_features(bb: Backbone, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The tiny backbone's features by hand: (x − mean) / std, conv, relu, 2×2 max-pool, conv, relu."""
    c1, c2 = bb.stages[0], bb.stages[3]
    z = (x.float() - IMAGENET_MEAN) / IMAGENET_STD
    f = {"conv1": F.conv2d(z, c1.weight, c1.bias, padding=1)}
    f["relu1"] = f["conv1"].clamp(min=0)
    f["pool1"] = F.max_pool2d(f["relu1"], 2)
    f["conv2"] = F.conv2d(f["pool1"], c2.weight, c2.bias, padding=1)
    f["relu2"] = f["conv2"].clamp(min=0)
    return {k: v.float() for k, v in f.items()}


def gram(f: torch.Tensor) -> torch.Tensor:
    """G[n, i, j] = Σ_positions f[n, i]·f[n, j] / (C·H·W), in float64."""
    n, c, h, w = f.shape
    f = f.double()
    return torch.einsum("nchw,ndhw->ncd", f, f) / (c * h * w)


# --- notebook 09: a triplet set built by hand, answers counted and scored by hand ------------------

H, W = 32, 48  # not square


def hand_set(n=5, repeats=2, seed=0, order=None):
    """A TripletSet built by hand: n triplets of (1, 3, 32, 48) images in [0, 1], a fixed order with swapped repeats."""
    g = torch.Generator().manual_seed(seed)
    trips = []
    for i in range(n):
        ref = torch.rand(1, 3, H, W, generator=g)
        a = (ref + 0.05 * (i + 1) * torch.randn(1, 3, H, W, generator=g)).clamp(0, 1)
        b = (0.7 * ref + 0.3 * torch.rand(1, 3, H, W, generator=g)).clamp(0, 1)
        trips.append(Triplet(f"t{i:02d}", "hand", "noise", ref, a, b, ("a", "b"), False))
    if order is None:
        first = [(i, False) for i in (np.arange(n)[::-1] if n > 1 else [0])]
        order = first + [(i, True) for i in range(repeats)]
    return TripletSet(tuple(trips), tuple((int(i), bool(s)) for i, s in order), H, seed, repeats, f"hand{seed:08d}")


def tally_by_hand(tset, *choice_lists):
    counts = [[0, 0] for _ in tset.triplets]
    for choices in choice_lists:
        for k, c in enumerate(choices):
            if c is None:
                continue
            i, swapped = tset.order[k]
            shown_left_is_a = not swapped
            chose_a = (c == "A") == shown_left_is_a
            counts[i][0 if chose_a else 1] += 1
    return np.array(counts, dtype=float)


def agreement_by_hand(d, counts, tol):
    total, n = 0.0, 0
    for (a, b), (ca, cb) in zip(d, counts):
        if ca + cb == 0:
            continue
        p = ca / (ca + cb)
        if abs(a - b) <= tol * max(abs(a), abs(b)):
            total += 0.5
        elif a < b:
            total += p
        else:
            total += 1 - p
        n += 1
    return total / n


def self_agreement_by_pairs(counts):
    """Enumerate every pair of answers to the same triplet (itertools) and count those that agree."""
    fractions = []
    for ca, cb in counts:
        answers = ["A"] * int(ca) + ["B"] * int(cb)
        if len(answers) < 2:
            continue
        pairs = list(itertools.combinations(answers, 2))
        fractions.append(sum(x == y for x, y in pairs) / len(pairs))
    return (float(np.mean(fractions)) if fractions else math.nan), len(fractions)
