"""texture.py against oracles: the start image written out, TextureLoss's three parts computed by hand
(float64 Grams of the tiny backbone's features, written out in tests/oracles.py) away from the target,
with weights ≠ 1, a non-square texture, and bf16 passed through to the style term."""

import pytest
import torch

import percepkit as pk
from oracles import gram, tiny_backbone, tiny_features


def test_texture_start_is_the_mean_colour_plus_normalised_smoothed_grey_noise():
    tex = pk.sample_image("coffee", (40, 56))  # not square: the default side is the height
    start = pk.texture_start(tex, seed=5, noise=0.05)
    assert start.shape == (1, 3, 40, 40)
    g = torch.Generator().manual_seed(5)
    grey = pk.blur(torch.randn(1, 1, 40, 40, generator=g).expand(1, 3, 40, 40).contiguous(), 1.0)
    want = (tex.mean((2, 3), keepdim=True) + 0.05 * grey / grey.std()).clamp(0, 1)
    assert torch.allclose(start, want, atol=1e-6)
    assert pk.texture_start(tex, size=24).shape == (1, 3, 24, 24)
    assert not torch.equal(pk.texture_start(tex, seed=6), pk.texture_start(tex, seed=5))
    state = torch.random.get_rng_state()
    pk.texture_start(tex)
    assert torch.equal(state, torch.random.get_rng_state())  # a local generator


def tv(x):
    x = x.double()
    return float((x[..., 1:, :] - x[..., :-1, :]).square().mean() + (x[..., :, 1:] - x[..., :, :-1]).square().mean())


def test_texture_loss_parts_by_hand_away_from_the_target():
    bb = tiny_backbone(seed=2)
    tex = pk.sample_image("brick", (24, 36))
    x = pk.sample_image("gravel", (24, 36))
    loss = pk.TextureLoss(bb, rgb_weight=3.0, tv_weight=0.7).set_target(tex)
    total = float(loss(x))
    ft, fx = tiny_features(bb, tex), tiny_features(bb, x)
    layers = bb.style_layers
    style = sum(float((gram(fx[l]) - gram(ft[l])).square().mean() / gram(ft[l]).square().mean()) for l in layers) / len(layers)
    rgb = 3.0 * float((gram(x) - gram(tex)).square().mean() / gram(tex).square().mean())
    tv_term = 0.7 * tv(x) / tv(tex)
    assert float(loss.terms["style"]) == pytest.approx(style, rel=1e-4)
    assert float(loss.terms["rgb"]) == pytest.approx(rgb, rel=1e-4)
    assert float(loss.terms["tv"]) == pytest.approx(tv_term, rel=1e-4)
    assert total == pytest.approx(style + rgb + tv_term, rel=1e-4)
    assert min(style, rgb, tv_term) > 1e-3  # every term away from zero
    off = pk.TextureLoss(bb, rgb_weight=0.0, tv_weight=0.0).set_target(tex)
    assert float(off(x)) == pytest.approx(style, rel=1e-4) and set(off.terms) == {"style"}
    for bad in ({"rgb_weight": -1.0}, {"tv_weight": -0.1}):
        with pytest.raises(ValueError, match="rgb_weight and tv_weight"):
            pk.TextureLoss(bb, **bad)


def test_texture_loss_on_a_batch_of_two_and_a_flat_target():
    bb = tiny_backbone(seed=2)
    tex = pk.sample_image("brick", (24, 36))
    xs = torch.cat([pk.sample_image("gravel", (24, 36)), pk.sample_image("grass", (24, 36))])
    loss = pk.TextureLoss(bb, rgb_weight=1.0).set_target(tex)
    both = float(loss(xs))
    one = [float(loss(xs[i:i + 1])) for i in range(2)]
    assert both == pytest.approx(sum(one) / 2, rel=1e-4)  # mean over the batch, not its first image
    assert abs(one[0] - one[1]) > 1e-3 * max(one)
    flat = torch.full((1, 3, 24, 36), 0.4)
    fl = pk.TextureLoss(bb, rgb_weight=0.0, tv_weight=1.0).set_target(flat)  # TV of the target is 0: no division by 0
    assert torch.isfinite(fl(xs[:1])) and float(fl.terms["tv"]) == pytest.approx(tv(xs[:1]) / 1e-12, rel=1e-4)


def test_texture_loss_passes_its_precision_to_the_style_term(rand19):
    tex = pk.sample_image("brick", 32)
    x = pk.sample_image("gravel", 32)
    f32 = pk.TextureLoss(rand19, ["relu1_1", "relu2_1"], precision="fp32").set_target(tex)
    b16 = pk.TextureLoss(rand19, ["relu1_1", "relu2_1"], precision="bf16").set_target(tex)
    assert b16.style.precision == "bf16" and f32.style.precision == "fp32"
    a, b = float(f32(x)), float(b16(x))
    assert b == pytest.approx(a, rel=0.05) and b != a  # bf16 features: close, not the same numbers


def test_texture_start_defaults_clamp_and_names_its_argument():
    tex = pk.sample_image("coffee", (40, 56))
    assert torch.equal(pk.texture_start(tex), pk.texture_start(tex, size=40, noise=0.08, seed=0))
    bright = torch.full((1, 3, 24, 24), 0.97)
    start = pk.texture_start(bright, noise=0.3)
    assert float(start.max()) == 1.0 and float(start.min()) < 0.9  # clamped to [0, 1], not beyond
    with pytest.raises(ValueError, match="target"):
        pk.texture_start(tex * 255)


def test_texture_start_names_target_exactly_in_its_errors():
    tex = pk.sample_image("coffee", (40, 56))
    with pytest.raises(ValueError, match=r"^expected target in \[0, 1\] \(the backbone normalises internally\)"):
        pk.texture_start(tex * 255)
    with pytest.raises(ValueError, match=r"^expected target of shape \(N, 3, H, W\); got \(3, 40, 56\)\."):
        pk.texture_start(tex[0])


def test_texture_loss_defaults_and_state_before_a_target():
    bb = tiny_backbone(seed=2)
    loss = pk.TextureLoss(bb)
    assert (loss.rgb_weight, loss.tv_weight) == (1.0, 0.0) and loss.terms == {}
    with pytest.raises(ValueError, match=r"^no target: call set_target\(texture\) first$"):
        loss(pk.sample_image("brick", 24))
    tex, x = pk.sample_image("brick", (24, 36)), pk.sample_image("gravel", (24, 36))
    loss.set_target(tex)
    total = float(loss(x))
    assert set(loss.terms) == {"style", "rgb"}
    rgb = float((gram(x) - gram(tex)).square().mean() / gram(tex).square().mean())
    assert float(loss.terms["rgb"]) == pytest.approx(rgb, rel=1e-4) and total == pytest.approx(
        float(loss.terms["style"]) + rgb, rel=1e-4)
