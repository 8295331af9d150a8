"""Texture synthesis helpers: the start, the loss's three parts, balanced weights, and a tiny synthesis."""

import pytest
import torch

import percepkit as pk
from conftest import seeded


def test_start_has_the_mean_colour_and_grey_noise():
    tex = pk.sample_image("coffee", 48)
    start = pk.texture_start(tex, size=40, seed=3)
    assert start.shape == (1, 3, 40, 40) and 0 <= float(start.min()) and float(start.max()) <= 1
    assert torch.allclose(start.mean((2, 3)), tex.mean((2, 3)), atol=0.02)
    deviation = start - start.mean((2, 3), keepdim=True)
    assert torch.allclose(deviation[:, 0], deviation[:, 1], atol=0.02)  # the same noise in every channel: grey
    assert torch.equal(start, pk.texture_start(tex, size=40, seed=3))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        pk.texture_start(tex * 255)


def test_balanced_weights_make_each_layer_a_relative_error(rand19):
    layers = ["relu1_1", "relu3_1"]
    y, x = seeded(1, 3, 32, 32, seed=1), seeded(1, 3, 32, 32, seed=2)
    loss = pk.StyleLoss(rand19, layers, weights="balanced").set_target(y)
    with torch.no_grad():
        fy, fx = rand19(y, layers), rand19(x, layers)
    expected = sum(float((pk.gram_matrix(fx[l]) - pk.gram_matrix(fy[l])).square().mean()
                         / pk.gram_matrix(fy[l]).square().mean()) / len(layers) for l in layers)
    assert float(loss(x)) == pytest.approx(expected, rel=1e-4)
    assert float(pk.StyleLoss(rand19, layers, weights="balanced")(x, y)) == pytest.approx(expected, rel=1e-4)
    p = pk.PerceptualLoss(rand19, layers, weights="balanced").set_target(y)
    assert p.weights["relu1_1"] == pytest.approx(1 / (2 * float(fy["relu1_1"].square().mean())), rel=1e-5)
    with pytest.raises(TypeError, match="'balanced'"):
        pk.StyleLoss(rand19, layers, weights="equal")


def test_texture_loss_parts_and_total_variation(rand19):
    tex = pk.sample_image("brick", 32)
    loss = pk.TextureLoss(rand19, ["relu1_1"], rgb_weight=2.0, tv_weight=0.5).set_target(tex)
    assert float(loss(tex)) == pytest.approx(0.5, rel=1e-5)  # at the texture: no Gram error, TV = the texture's own
    assert float(loss.terms["style"]) < 1e-6 and float(loss.terms["rgb"]) < 1e-6
    x = pk.blur(tex, 2.0)
    total = loss(x)
    assert set(loss.terms) == {"style", "rgb", "tv"} and float(total) == pytest.approx(sum(float(v) for v in loss.terms.values()))
    assert float(loss.terms["tv"]) == pytest.approx(0.5 * float(pk.total_variation(x) / pk.total_variation(tex)), rel=1e-5)
    flat = torch.full((1, 3, 4, 4), 0.3)
    assert float(pk.total_variation(flat)) == 0.0
    ramp = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 3, 4, 4)  # horizontal steps of 1, no vertical change
    assert float(pk.total_variation(ramp)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no target"):
        pk.TextureLoss(rand19, ["relu1_1"])(tex)


def test_a_tiny_synthesis_moves_towards_the_texture(hed):
    tex = pk.sample_image("brick", 32)
    start = pk.texture_start(tex, seed=1)
    loss = pk.TextureLoss(hed, ["relu1_2", "relu2_2"], tv_weight=0.05).set_target(tex)
    out, hist = pk.optimize_image(loss, start, steps=10, lr=1, optimizer="lbfgs", progress=False)
    assert hist["total"][-1] < 0.2 * hist["total"][0]
    assert float((out.mean((2, 3)) - tex.mean((2, 3))).abs().max()) < 4 / 255
