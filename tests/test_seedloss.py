"""seedloss.py: the explainer's class written out by hand — slices that stop *before* each named index,
no normalisation, an unweighted or weighted sum of feature MSEs — on a batch of 2 non-square images,
with layer ids and weights other than the defaults; what it freezes and what it leaves to autograd."""

import pytest
import torch
import torch.nn as nn

import percepkit as pk


def small_features(seed=0):
    g = torch.Generator().manual_seed(seed)
    layers = [nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(inplace=True),
              nn.MaxPool2d(2), nn.Conv2d(4, 5, 3, padding=1), nn.ReLU(inplace=True)]
    with torch.no_grad():
        for m in layers:
            if isinstance(m, nn.Conv2d):
                m.weight.copy_(0.3 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
    return nn.Sequential(*layers)


def by_hand(features, ids, weights, pred, target):
    total, prev, x, y = 0.0, 0, pred, target
    for lid, w in zip(ids, weights):
        for i in range(prev, lid):  # range(prev, lid): the layer *at* lid is not applied
            x, y = features[i](x.clone()), features[i](y.clone())
        prev = lid
        total = total + w * ((x - y) ** 2).mean()
    return total


@pytest.mark.parametrize("ids, weights", [((1, 3), None), ((2, 5, 7), [0.5, 2.0, 3.0]), ((4,), [1.5])])
def test_forward_written_out(ids, weights):
    features = small_features()
    loss = pk.SeedPerceptualLoss(layer_ids=ids, weights=weights, vgg_features=features)
    g = torch.Generator().manual_seed(1)
    pred, target = torch.rand(2, 3, 10, 14, generator=g), torch.rand(2, 3, 10, 14, generator=g)
    want = by_hand(small_features(), ids, weights or [1.0] * len(ids), pred, target)
    got = loss(pred, target).detach()
    assert float(got) == pytest.approx(float(want.detach()), rel=1e-6) and float(got) > 0
    assert [len(s) for s in loss.slices] == [b - a for a, b in zip((0, *ids), ids)]
    assert loss.weights == (weights or [1.0] * len(ids))


def test_frozen_weights_but_the_target_keeps_its_graph():
    features = small_features()
    loss = pk.SeedPerceptualLoss(layer_ids=(2, 5), vgg_features=features)
    assert all(not p.requires_grad for p in loss.parameters()) and len(list(loss.parameters())) == 4
    assert loss.slices[1][0] is features[2]  # the network's own layers, not copies
    pred = torch.rand(1, 3, 8, 8, requires_grad=True)
    target = torch.rand(1, 3, 8, 8, requires_grad=True)  # bug 4: the target's features are not detached
    loss(pred, target).backward()
    assert pred.grad is not None and target.grad is not None and float(target.grad.abs().sum()) > 0


def test_defaults_the_seed_network_and_its_taps():
    loss = pk.SeedPerceptualLoss()
    assert loss.weights == [1.0, 1.0, 1.0] and [len(s) for s in loss.slices] == [3, 5, 9]
    last = [loss.slices[0][-1], loss.slices[1][-1], loss.slices[2][-1]]
    assert all(isinstance(m, nn.Conv2d) for m in last)  # (3, 8, 17) stop at conv1_2, conv2_2, conv3_4: before the ReLU
    assert [m.out_channels for m in last] == [64, 128, 256]
