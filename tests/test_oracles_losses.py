"""losses.py against oracles written out by hand: features of a tiny backbone computed with plain
torch.nn.functional calls, Grams by einsum in float64, BCE by softplus; non-square and batched inputs,
every argument form (list/dict/"balanced" weights, ``style=``, λ by name), every limit on both sides."""

import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import percepkit as pk
import percepkit.losses as losses
from conftest import seeded
from oracles import gram, tiny_backbone, tiny_features


@pytest.fixture(scope="module")
def tiny():
    return tiny_backbone()


def _mse(a, b):
    return float(((a.double() - b.double()) ** 2).mean())


# ---------------------------------------------------------------- Lambdas


def test_lambdas_from_every_form():
    assert pk.Lambdas.of(pk.Lambdas(1, 2, 3, 4)) == (1.0, 2.0, 3.0, 4.0)
    assert pk.Lambdas.of({"style": 2, "adv": 0.5}) == (0.0, 0.0, 2.0, 0.5)
    assert pk.Lambdas.of([1, "2", 0, 0]) == (1.0, 2.0, 0.0, 0.0)
    assert pk.Lambdas.of((0, 0, 0, 0)) == (0, 0, 0, 0)  # 0 is accepted
    lam = pk.Lambdas.of(np.array([1, 0, 0, 2]))
    assert type(lam) is pk.Lambdas and all(type(v) is float for v in lam)
    assert pk.Lambdas() == (0.0, 0.0, 0.0, 0.0)


def test_lambdas_limits_and_messages():
    with pytest.raises(ValueError, match=r"^unknown term\(s\) \['tv', 'x'\]; the terms are \['pix', 'perc', 'style', 'adv'\]$"):
        pk.Lambdas.of({"pix": 1, "tv": 1, "x": 2})
    with pytest.raises(TypeError, match=r"^expected λ as a mapping term → value or 4 numbers \('pix', 'perc', "
                                        r"'style', 'adv'\); got int$"):
        pk.Lambdas.of(3)
    with pytest.raises(ValueError, match=r"^expected 4 lambdas \('pix', 'perc', 'style', 'adv'\); got \(1, 2, 3\)$"):
        pk.Lambdas.of((1, 2, 3))
    with pytest.raises(ValueError, match=r"^expected 4 lambdas .*; got \[1, 2, 3, 4, 5\]$"):
        pk.Lambdas.of([1, 2, 3, 4, 5])
    for bad in ([1, "a", 0, 0], [None, 0, 0, 0]):
        with pytest.raises(ValueError, match=r"^expected numbers for the lambdas \('pix', 'perc', 'style', 'adv'\); got "):
            pk.Lambdas.of(bad)
    for bad in ((-1e-9, 0, 0, 0), (0, math.inf, 0, 0), (0, 0, math.nan, 0), {"adv": -1}):
        with pytest.raises(ValueError, match=r"^expected finite lambdas >= 0 \('pix', 'perc', 'style', 'adv'\); got "):
            pk.Lambdas.of(bad)


# ---------------------------------------------------------------- pixel, TV, Gram, one-layer losses


def test_pixel_loss_hand_computed_non_square_batch():
    x = seeded(2, 3, 4, 7, seed=1)
    y = seeded(2, 3, 4, 7, seed=2)
    d = x.double().numpy() - y.double().numpy()
    assert float(pk.pixel_loss(x, y)) == pytest.approx(np.mean(d**2), rel=1e-6)
    assert float(pk.pixel_loss(x, y, "l2")) == pytest.approx(np.mean(d**2), rel=1e-6)
    assert float(pk.pixel_loss(x, y, "l1")) == pytest.approx(np.mean(np.abs(d)), rel=1e-6)
    # any channel count, float32 out of float64 in
    out = pk.pixel_loss(torch.zeros(1, 1, 2, 2, dtype=torch.float64), torch.full((1, 1, 2, 2), 0.5, dtype=torch.float64))
    assert out.dtype == torch.float32 and out.ndim == 0 and float(out) == 0.25


def test_pixel_loss_limits_and_messages():
    x = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match=r"^expected kind 'l1' or 'l2'; got 'L2'$"):
        pk.pixel_loss(x, x, "L2")
    with pytest.raises(ValueError, match=r"^prediction and target must have the same shape \(N, C, H, W\); got \(1, "
                                         r"3, 4, 4\) and \(2, 3, 4, 4\)$"):
        pk.pixel_loss(x, torch.zeros(2, 3, 4, 4))
    with pytest.raises(TypeError, match=r"^expected prediction as a torch.Tensor"):
        pk.pixel_loss([0.0], x)
    with pytest.raises(ValueError, match=r"^expected target of shape \(N, C, H, W\)"):
        pk.pixel_loss(x, x[0])
    with pytest.raises(ValueError, match=r"^target contains NaN or Inf$"):
        pk.pixel_loss(x, torch.full_like(x, math.nan))


def test_total_variation_hand_computed():
    x = seeded(2, 3, 5, 8, seed=3)
    a = x.double().numpy()
    expected = np.mean(np.diff(a, axis=-2) ** 2) + np.mean(np.diff(a, axis=-1) ** 2)
    tv = pk.total_variation(x)
    assert tv.dtype == torch.float32 and float(tv) == pytest.approx(expected, rel=1e-6)
    ramp = (torch.arange(4.0) * 0.25).view(1, 1, 4, 1).expand(1, 1, 4, 6)  # rows 0, .25, .5, .75
    assert float(pk.total_variation(ramp)) == pytest.approx(0.0625)
    assert float(pk.total_variation(ramp.transpose(-1, -2))) == pytest.approx(0.0625)
    with pytest.raises(ValueError, match=r"^expected x of shape \(N, C, H, W\)"):
        pk.total_variation(x[0])


def test_gram_matrix_by_einsum_non_square_batch_and_bf16():
    f = torch.randn(2, 5, 3, 7, generator=torch.Generator().manual_seed(0))
    g = pk.gram_matrix(f)
    assert g.shape == (2, 5, 5) and g.dtype == torch.float32
    assert torch.allclose(g.double(), gram(f), atol=1e-6)
    assert float(g[1, 2, 4]) == pytest.approx(float((f[1, 2] * f[1, 4]).sum()) / (5 * 3 * 7), rel=1e-5)
    gb = pk.gram_matrix(f.bfloat16())
    assert gb.dtype == torch.float32  # never bf16 out
    assert torch.allclose(gb.double(), gram(f.bfloat16().float()), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"^expected features of shape \(N, C, H, W\); got \(5, 3, 7\)$"):
        pk.gram_matrix(f[0])
    with pytest.raises(ValueError, match=r"^expected features of shape \(N, C, H, W\); got list$"):
        pk.gram_matrix([1.0])


def test_content_loss_is_mean_squared_difference():
    fx = torch.randn(2, 4, 3, 5, generator=torch.Generator().manual_seed(1))
    fy = torch.randn(2, 4, 3, 5, generator=torch.Generator().manual_seed(2))
    out = losses.content_loss(fx.bfloat16(), fy.bfloat16())
    assert out.dtype == torch.float32
    assert float(out) == pytest.approx(_mse(fx.bfloat16(), fy.bfloat16()), rel=1e-5)
    with pytest.raises(ValueError, match=r"^feature shapes differ: \(2, 4, 3, 5\) vs \(2, 4, 5, 3\)$"):
        losses.content_loss(fx, fy.transpose(-1, -2))


def test_style_loss_broadcasts_one_target_but_not_one_prediction():
    g = torch.Generator().manual_seed(3)
    fx = torch.randn(2, 4, 3, 5, generator=g)
    fy1 = torch.randn(1, 4, 6, 2, generator=g)  # other spatial size, batch of 1
    expected = float(((gram(fx) - gram(fy1)) ** 2).mean())
    assert float(losses.style_loss(fx, fy1)) == pytest.approx(expected, rel=1e-5)
    fy2 = torch.randn(2, 4, 6, 2, generator=g)
    assert float(losses.style_loss(fx, fy2)) == pytest.approx(float(((gram(fx) - gram(fy2)) ** 2).mean()), rel=1e-5)
    with pytest.raises(ValueError, match=r"^Gram shapes do not match: \(1, 4, 4\) vs \(2, 4, 4\)$"):
        losses.style_loss(fx[:1], fy2)  # a 1-image prediction is not broadcast against 2 targets
    with pytest.raises(ValueError, match=r"^Gram shapes do not match: \(2, 4, 4\) vs \(3, 4, 4\)$"):
        losses.style_loss(fx, torch.randn(3, 4, 2, 2))
    with pytest.raises(ValueError, match=r"^Gram shapes do not match: \(2, 4, 4\) vs \(1, 3, 3\)$"):
        losses.style_loss(fx, torch.randn(1, 3, 2, 2))


# ---------------------------------------------------------------- PerceptualLoss / StyleLoss on the tiny backbone


def test_tiny_oracle_is_the_backbone():
    bb = tiny_backbone()
    x = seeded(2, 3, 6, 10, seed=4)
    ours, ref = bb(x, list(bb.layer_names)), tiny_features(bb, x)
    assert all(torch.allclose(ours[k], ref[k], atol=1e-5) for k in ref)


@pytest.mark.parametrize("weights, w", [(None, {"relu1": 1.0, "relu2": 1.0}), ([0.5, 3.0], {"relu1": 0.5, "relu2": 3.0}),
                                        ({"relu2": 2.0}, {"relu1": 1.0, "relu2": 2.0}),
                                        ({"relu1": 0.25, "relu2": 0.0}, {"relu1": 0.25, "relu2": 0.0})])
def test_perceptual_loss_weights_every_form(tiny, weights, w):
    x, y = seeded(2, 3, 6, 10, seed=5), seeded(2, 3, 6, 10, seed=6)
    fx, fy = tiny_features(tiny, x), tiny_features(tiny, y)
    expected = sum(w[n] * _mse(fx[n], fy[n]) for n in ("relu1", "relu2"))
    loss = pk.PerceptualLoss(tiny, weights=weights)
    assert loss.weights == w
    out = loss(x, y)
    assert out.dtype == torch.float32 and out.ndim == 0 and float(out) == pytest.approx(expected, rel=1e-5)
    assert loss.last_layer_losses == pytest.approx({n: _mse(fx[n], fy[n]) for n in ("relu1", "relu2")}, rel=1e-5)
    assert float(loss.set_target(y)(x)) == pytest.approx(expected, rel=1e-5)


def test_style_loss_module_defaults_to_style_layers_and_broadcasts(tiny):
    x, y = seeded(2, 3, 6, 10, seed=7), seeded(1, 3, 8, 4, seed=8)
    fx, fy = tiny_features(tiny, x), tiny_features(tiny, y)
    loss = pk.StyleLoss(tiny, weights=[2.0, 0.5])
    assert loss.layers == ("conv1", "relu2")
    expected = 2.0 * float(((gram(fx["conv1"]) - gram(fy["conv1"])) ** 2).mean()) \
        + 0.5 * float(((gram(fx["relu2"]) - gram(fy["relu2"])) ** 2).mean())
    assert float(loss(x, y)) == pytest.approx(expected, rel=1e-5)
    assert float(loss.set_target(y)(x)) == pytest.approx(expected, rel=1e-5)
    assert pk.PerceptualLoss(tiny).layers == ("relu1", "relu2")
    assert pk.PerceptualLoss(tiny, "conv2").layers == ("conv2",)


def test_balanced_weights_are_one_over_n_times_the_target_size(tiny):
    x, y = seeded(1, 3, 6, 10, seed=9), seeded(1, 3, 6, 10, seed=10)
    fy = tiny_features(tiny, y)
    per = pk.PerceptualLoss(tiny, ["relu1", "conv2"], weights="balanced")
    assert per.balanced and per.weights == {"relu1": 1.0, "conv2": 1.0}  # before any target
    per.set_target(y)
    w = {n: 1 / (2 * float((fy[n].double() ** 2).mean())) for n in ("relu1", "conv2")}
    assert per.weights == pytest.approx(w, rel=1e-5)
    sty = pk.StyleLoss(tiny, weights="balanced")
    sty(x, y)  # an uncached target balances too
    assert sty.weights == pytest.approx({n: 1 / (2 * float((gram(fy[n]) ** 2).mean())) for n in ("conv1", "relu2")}, rel=1e-5)
    zero = pk.PerceptualLoss(tiny_backbone(zero=True), ["relu1"], weights="balanced").set_target(y)
    assert zero.weights == {"relu1": 1 / 1e-12}  # a zero target is floored at 1e-12
    assert pk.PerceptualLoss(tiny, ["relu1"], weights=["balanced"][0]).balanced


def test_feature_loss_argument_errors(tiny):
    with pytest.raises(ValueError, match=r"^weights given for layers not in use: \['relu9'\]; layers are \['relu1', 'relu2'\]$"):
        pk.PerceptualLoss(tiny, weights={"relu1": 1, "relu9": 2})
    with pytest.raises(ValueError, match=r"^expected 2 weights for layers \['relu1', 'relu2'\]; got 3$"):
        pk.PerceptualLoss(tiny, weights=[1, 2, 3])
    with pytest.raises(TypeError, match=r"^expected weights as None, 'balanced', a dict layer->weight or a list; got 'equal'$"):
        pk.PerceptualLoss(tiny, weights="equal")
    with pytest.raises(TypeError, match=r"got 2\.0$"):
        pk.StyleLoss(tiny, weights=2.0)
    with pytest.raises(ValueError, match=r"^expected precision 'fp32', 'bf16' or 'auto'; got 'fp16'$"):
        pk.PerceptualLoss(tiny, precision="fp16")
    loss = pk.PerceptualLoss(tiny)
    assert loss.precision == "fp32" and pk.PerceptualLoss(tiny, precision="auto").precision == "auto"
    assert loss.extra_repr() == "backbone='tiny', layers=['relu1', 'relu2'], precision='fp32'"


def test_feature_loss_target_errors_name_the_input(tiny):
    x = seeded(1, 3, 6, 10)
    loss = pk.PerceptualLoss(tiny)
    with pytest.raises(ValueError, match=r"^no target: call set_target\(y\) first or pass the target as the second argument$"):
        loss(x)
    with pytest.raises(ValueError, match=r"^expected target in \[0, 1\]"):
        loss.set_target(x * 3)
    with pytest.raises(ValueError, match=r"^expected target in \[0, 1\]"):
        loss(x, x * 3)
    with pytest.raises(ValueError, match=r"^expected prediction in \[0, 1\]"):
        loss(x * 3, x)
    loss.set_target(x)
    with pytest.raises(ValueError, match=r"^expected prediction in \[0, 1\]"):
        loss(x * 3)
    with pytest.raises(ValueError, match=r"^prediction shape \(1, 3, 10, 6\) differs from the cached target's \(1, 3, 6, 10\)$"):
        loss(x.transpose(-1, -2))
    with pytest.raises(ValueError, match=r"^prediction and target must have the same shape \(N, C, H, W\); got \(1, 3, 6, 10\) "
                       r"and \(2, 3, 6, 10\)$"):
        loss(x, torch.cat([x, x]))
    with pytest.raises(ValueError, match=r"^prediction is 1x10, too small for layer 'relu2' of tiny: the minimum size is 2x2$"):
        loss(x[..., :1, :])
    loss.clear_target()
    assert loss._target is None and loss._target_shape is None
    with pytest.raises(ValueError, match=r"^no target"):
        loss(x)
    style = pk.StyleLoss(tiny).set_target(seeded(1, 3, 8, 8))
    assert style(x).ndim == 0  # the style target may differ in size
    with pytest.raises(ValueError, match=r"^expected target in \[0, 1\]"):
        style(x, x * 3)


def test_target_is_computed_without_autograd(tiny):
    y = seeded(1, 3, 6, 10, seed=2).requires_grad_(True)
    loss = pk.PerceptualLoss(tiny).set_target(y)
    assert all(not t.requires_grad and t.grad_fn is None for t in loss._target.values())
    x = seeded(1, 3, 6, 10, seed=1).requires_grad_(True)
    loss(x, y).backward()
    assert y.grad is None and x.grad is not None


def test_bf16_precision_is_bf16_autocast_not_fp16(tiny):
    x, y = seeded(2, 3, 6, 10, seed=11), seeded(2, 3, 6, 10, seed=12)

    def oracle(dtype=None):
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            fx, fy = tiny_features(tiny, x), tiny_features(tiny, y)
        return sum(_mse(fx[n], fy[n]) for n in ("relu1", "relu2"))

    bf16, fp16, fp32 = oracle(torch.bfloat16), oracle(torch.float16), oracle()
    got = pk.PerceptualLoss(tiny, precision="bf16")(x, y)
    assert got.dtype == torch.float32
    assert float(got) == pytest.approx(bf16, rel=1e-6)
    assert abs(bf16 - fp16) > 5e-6 * bf16 and abs(bf16 - fp32) > 5e-6 * bf16  # the three are told apart
    assert float(pk.PerceptualLoss(tiny)(x, y)) == pytest.approx(fp32, rel=1e-5)


# ---------------------------------------------------------------- discriminator, adversarial


def test_patch_discriminator_shape_mapping_and_limits():
    torch.manual_seed(0)
    d = pk.PatchDiscriminator(width=8)
    x = seeded(2, 3, 16, 24)
    out = d(x)
    assert out.shape == (2, 1, 2, 3)
    assert torch.equal(out, d.net(x * 2 - 1))  # [0, 1] → [-1, 1] before the first conv
    convs = [m for m in d.net if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == \
        [(3, 8, (4, 4), (2, 2)), (8, 16, (4, 4), (2, 2)), (16, 16, (4, 4), (2, 2)), (16, 1, (3, 3), (1, 1))]
    assert sum(p.numel() for p in pk.PatchDiscriminator().parameters()) == 3 * 32 * 16 + 32 + 32 * 64 * 16 + 64 + 128 \
        + 64 * 64 * 16 + 64 + 128 + 64 * 9 + 1
    assert d(seeded(1, 3, 8, 8)).shape == (1, 1, 1, 1)
    for bad in ((1, 3, 7, 16), (1, 3, 16, 7)):
        with pytest.raises(ValueError, match=rf"^expected \(N, 3, H, W\) with H, W >= 8; got {re_tuple(bad)}$"):
            d(torch.zeros(bad))
    with pytest.raises(ValueError, match=r"^expected discriminator input of shape \(N, 3, H, W\)"):
        d(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"^discriminator input contains NaN or Inf$"):
        d(torch.full((1, 3, 8, 8), math.nan))


def re_tuple(t):
    return r"\(" + ", ".join(map(str, t)) + r"\)"


def test_adversarial_loss_is_bce_against_all_real_or_all_fake():
    logits = torch.tensor([[-2.0, 0.0], [1.5, 3.0]]).view(1, 1, 2, 2)
    real = float(np.mean([math.log(1 + math.exp(-v)) for v in (-2.0, 0.0, 1.5, 3.0)]))  # −log σ(l)
    fake = float(np.mean([math.log(1 + math.exp(v)) for v in (-2.0, 0.0, 1.5, 3.0)]))  # −log(1 − σ(l))
    assert float(pk.adversarial_loss(logits, True)) == pytest.approx(real, rel=1e-6)
    assert float(pk.adversarial_loss(logits, False)) == pytest.approx(fake, rel=1e-6)
    assert pk.adversarial_loss(logits.double(), True).dtype == torch.float32
    with pytest.raises(TypeError, match=r"^expected logits as a tensor; got list$"):
        pk.adversarial_loss([0.0], True)


# ---------------------------------------------------------------- CombinedLoss


class MeanCritic(nn.Module):
    """A critic whose logit is written out: 4·(mean of the image − 0.45), one per image."""

    def forward(self, x):
        return 4 * (x.mean(dim=(1, 2, 3), keepdim=True) - 0.45)


def test_combined_loss_every_term_against_its_oracle(tiny):
    x, y, s = seeded(2, 3, 6, 10, seed=13), seeded(2, 3, 6, 10, seed=14), seeded(1, 3, 8, 4, seed=15)
    fx, fy, fs = tiny_features(tiny, x), tiny_features(tiny, y), tiny_features(tiny, s)
    c = pk.CombinedLoss(2.0, 0.5, 3.0, 0.25, backbone=tiny, layers=["relu1"], style_layers=["relu2"], discriminator=MeanCritic())
    c.set_target(y, style=s)
    total = c(x)
    logit = 4 * (x.double().mean(dim=(1, 2, 3)) - 0.45)
    expected = {"pix": 2.0 * _mse(x, y), "perc": 0.5 * _mse(fx["relu1"], fy["relu1"]),
                "style": 3.0 * float(((gram(fx["relu2"]) - gram(fs["relu2"])) ** 2).mean()),
                "adv": 0.25 * float(F.softplus(-logit).mean())}  # against the *real* label
    assert list(c.terms) == ["pix", "perc", "style", "adv"]
    assert {k: float(v) for k, v in c.terms.items()} == pytest.approx(expected, rel=1e-5)
    assert float(total) == pytest.approx(sum(expected.values()), rel=1e-5)
    assert all(v.requires_grad is False for v in c.terms.values())  # x has no grad here
    # without style=, the style target is the target itself
    c.set_target(y)
    c(x)
    assert float(c.terms["style"]) == pytest.approx(3.0 * float(((gram(fx["relu2"]) - gram(fy["relu2"])) ** 2).mean()), rel=1e-5)
    # an uncached target gives the same terms
    c2 = pk.CombinedLoss(2.0, 0.5, 3.0, 0.25, backbone=tiny, layers=["relu1"], style_layers=["relu2"], discriminator=MeanCritic())
    c2(x, y)
    assert {k: float(v) for k, v in c2.terms.items()} == pytest.approx({k: float(v) for k, v in c.terms.items()}, rel=1e-5)


def test_combined_loss_l1_pixels_and_lambdas_by_name(tiny):
    x, y = seeded(1, 3, 6, 10, seed=16), seeded(1, 3, 6, 10, seed=17)
    c = pk.CombinedLoss(lambdas={"pix": 3.0}, pixel_kind="l1")
    assert c.lambdas == {"pix": 3.0, "perc": 0.0, "style": 0.0, "adv": 0.0}
    assert c.perceptual is None and c.style is None and c.discriminator is None
    assert float(c(x, y)) == pytest.approx(3.0 * float((x - y).abs().double().mean()), rel=1e-6)
    assert list(c.terms) == ["pix"]
    assert repr(c) == "CombinedLoss(lambda_pix=3, lambda_perc=0, lambda_style=0, lambda_adv=0, pixel_kind='l1')"
    d = pk.CombinedLoss(lambdas=pk.Lambdas(perc=1.0), backbone=tiny)
    assert d.perceptual.layers == ("relu1", "relu2") and d.style is None
    e = pk.CombinedLoss(0, 0, 1.0, backbone=tiny)
    assert e.style.layers == ("conv1", "relu2") and e.perceptual is None
    assert pk.CombinedLoss().lambdas == {"pix": 1.0, "perc": 1.0, "style": 0.0, "adv": 0.0}  # default backbone: auto
    # the pixel term only: any channel count
    g = pk.CombinedLoss(1.0, 0.0)
    assert float(g(torch.zeros(1, 1, 2, 3), torch.full((1, 1, 2, 3), 0.5))) == 0.25


def test_combined_loss_lambda_zero_terms_are_not_computed(tiny, monkeypatch):
    x, y = seeded(1, 3, 6, 10, seed=18), seeded(1, 3, 6, 10, seed=19)
    monkeypatch.setattr(losses, "_pixel", lambda *a: pytest.fail("the pixel term was computed at lambda_pix=0"))
    c = pk.CombinedLoss(0.0, 1.0, backbone=tiny)
    total = c(x, y)
    assert list(c.terms) == ["perc"]
    assert float(total) == pytest.approx(float(pk.PerceptualLoss(tiny)(x, y)), rel=1e-6)
    monkeypatch.setattr(pk.PatchDiscriminator, "forward", lambda *a: pytest.fail("critic called at lambda_adv=0"))
    pk.CombinedLoss(0.0, 1.0, backbone=tiny, discriminator=pk.PatchDiscriminator())(x, y)


def test_combined_loss_limits_and_messages(tiny):
    for k, bad in (("pix", -1.0), ("perc", math.inf), ("style", math.nan), ("adv", "1")):
        kw = {f"lambda_{k}": bad}
        with pytest.raises(ValueError, match=rf"^expected lambda_{k} as a finite number >= 0; got {re_repr(bad)}$"):
            pk.CombinedLoss(backbone=tiny, **kw)
    pk.CombinedLoss(0.0, 0.0)  # zero is inside
    with pytest.raises(ValueError, match=r"^expected pixel_kind 'l1' or 'l2'; got 'l3'$"):
        pk.CombinedLoss(1.0, 0.0, pixel_kind="l3")
    with pytest.raises(ValueError, match=r"^lambda_adv > 0 needs a discriminator \(e.g. percepkit.PatchDiscriminator\(\)\)$"):
        pk.CombinedLoss(1.0, 0.0, lambda_adv=1e-9)
    x = seeded(1, 3, 6, 10)
    with pytest.raises(ValueError, match=r"^all lambdas are 0: nothing to optimise$"):
        pk.CombinedLoss(0.0, 0.0)(x, x)
    c = pk.CombinedLoss(1.0, 1.0, backbone=tiny)
    with pytest.raises(ValueError, match=r"^no target: call set_target\(y\) first or pass the target as the second argument$"):
        c(x)
    with pytest.raises(TypeError, match=r"^expected target as a torch.Tensor \(N, C, H, W\)"):
        c.set_target(x.numpy())
    with pytest.raises(ValueError, match=r"^expected target in \[0, 1\]"):
        c(x, x * 3)
    with pytest.raises(ValueError, match=r"^expected prediction in \[0, 1\]"):
        c(x * 3, x)
    with pytest.raises(ValueError, match=r"^prediction and target must have the same shape \(N, C, H, W\); got \(1, 3, 6, 10\) "
                       r"and \(1, 3, 6, 8\)$"):
        c(x, x[..., :8])
    c.set_target(x)
    with pytest.raises(ValueError, match=r"^prediction and target must have the same shape \(N, C, H, W\); got \(1, 3, 6, 8\) "
                       r"and \(1, 3, 6, 10\)$"):
        c(x[..., :8])
    with pytest.raises(ValueError, match=r"^prediction is 1x10, too small for layer 'relu2'"):
        c(x[..., :1, :], x[..., :1, :])  # one check covers every feature term's layers
    s = pk.CombinedLoss(0.0, 0.0, 1.0, backbone=tiny, style_layers=["conv1"], layers=["relu2"])
    with pytest.raises(ValueError, match=r"^prediction is 1x10, too small for layer 'relu2'"):
        pk.CombinedLoss(0.0, 1.0, 1.0, backbone=tiny, style_layers=["conv1"], layers=["relu2"])(x[..., :1, :], x[..., :1, :])
    assert s(x[..., :1, :], x[..., :1, :]).ndim == 0  # conv1 alone needs only 1x1
    p = pk.CombinedLoss(1.0, 0.0)
    with pytest.raises(ValueError, match=r"^prediction and target must have the same shape"):
        p(x, x[..., :8])


def re_repr(v):
    import re

    return re.escape(repr(v))


# ---------------------------------------------------------------- distances


def test_pair_distances_against_the_oracle(tiny):
    x, y = seeded(1, 3, 6, 10, seed=20), seeded(1, 3, 6, 10, seed=21)
    fx, fy = tiny_features(tiny, x), tiny_features(tiny, y)
    d = pk.pair_distances(x, y, tiny)
    expected = {"L1": float((x - y).abs().double().mean()), "L2": _mse(x, y),
                "relu1": _mse(fx["relu1"], fy["relu1"]), "relu2": _mse(fx["relu2"], fy["relu2"])}
    assert list(d) == ["L1", "L2", "relu1", "relu2"] and d == pytest.approx(expected, rel=1e-5)
    ref = {"L1": 2.0, "L2": 4.0, "relu1": 0.5, "relu2": 8.0, "unused": 1.0}
    rel = pk.pair_distances(x, y, tiny, ["relu1", "relu2"], reference=ref)
    assert rel == pytest.approx({k: v / ref[k] for k, v in expected.items()}, rel=1e-5)
    assert list(pk.pair_distances(x, y, tiny, "conv2")) == ["L1", "L2", "conv2"]
    with pytest.raises(ValueError, match=r"^reference lacks the metric\(s\) \['relu2'\]$"):
        pk.pair_distances(x, y, tiny, reference={"L1": 1, "L2": 1, "relu1": 1})
    with pytest.raises(ValueError, match=r"^x and y must have the same shape \(N, C, H, W\); got \(1, 3, 6, 10\) and "
                                         r"\(1, 3, 6, 8\)$"):
        pk.pair_distances(x, y[..., :8], tiny)
    with pytest.raises(ValueError, match=r"^unknown layer\(s\) \['relu9'\] for backbone 'tiny'"):
        pk.pair_distances(x, y, tiny, ["relu9"])


def test_shift_distances_is_pair_distances_of_the_shifted_image(tiny):
    x = seeded(1, 3, 6, 10, seed=22)
    d = pk.shift_distances(x, 1.5, tiny, ["relu1"])
    assert d == pytest.approx(pk.pair_distances(x, pk.shift(x, 1.5), tiny, ["relu1"]), rel=1e-6)
    ref = {"L1": 2.0, "L2": 4.0, "relu1": 0.5}
    assert pk.shift_distances(x, 2, tiny, ["relu1"], reference=ref) == \
        pytest.approx({k: v / ref[k] for k, v in pk.shift_distances(x, 2, tiny, ["relu1"]).items()}, rel=1e-6)
    assert pk.shift_distances(x, 0, tiny, ["relu1"])["relu1"] == pytest.approx(0, abs=1e-10)
    for bad in (x[0], torch.cat([x, x]), x[:, :1], x.numpy()):
        with pytest.raises(ValueError, match=r"^expected image as a \(1, 3, H, W\) tensor; got "):
            pk.shift_distances(bad, 1.0, tiny)


# ---------------------------------------------------------------- checks: once each, and against the right layers


def test_each_input_is_scanned_once(tiny, monkeypatch):
    x, y = seeded(1, 3, 6, 10, seed=23), seeded(1, 3, 6, 10, seed=24)
    scans = []
    real = torch.aminmax
    monkeypatch.setattr(torch, "aminmax", lambda t, **kw: scans.append(t.shape) or real(t, **kw))
    loss = pk.PerceptualLoss(tiny)
    loss(x, y)
    assert len(scans) == 2  # prediction and target, once each
    scans.clear()
    loss.set_target(y)
    loss(x)
    assert len(scans) == 2  # the target when cached, the prediction when called


def test_set_target_checks_the_size_for_the_losss_own_layers():
    bb = tiny_backbone()
    bb.default_layers = ("conv1",)  # a shallow default: the check must use the loss's layers, not these
    with pytest.raises(ValueError, match=r"^target is 1x6, too small for layer 'relu2' of tiny: the minimum size is 2x2$"):
        pk.PerceptualLoss(bb, ["relu2"]).set_target(seeded(1, 3, 1, 6))


def test_layer_losses_checks_its_inputs(tiny):
    x = seeded(1, 3, 6, 10)
    loss = pk.PerceptualLoss(tiny)
    with pytest.raises(ValueError, match=r"^expected prediction in \[0, 1\]"):
        loss.layer_losses(x * 3, x)
    with pytest.raises(ValueError, match=r"^expected target in \[0, 1\]"):
        loss.layer_losses(x, x * 3)
    loss.set_target(x)
    with pytest.raises(ValueError, match=r"^expected prediction in \[0, 1\]"):
        loss.layer_losses(x * 3)
    per = loss.layer_losses(x * 0.5)
    assert list(per) == ["relu1", "relu2"] and all(v.ndim == 0 and v.dtype == torch.float32 for v in per.values())


def test_patch_discriminator_equals_the_network_written_out():
    torch.manual_seed(1)
    d = pk.PatchDiscriminator(width=4)
    c = [m for m in d.net if isinstance(m, nn.Conv2d)]
    g = [m for m in d.net if isinstance(m, nn.GroupNorm)]
    for m in g:  # non-trivial affine parameters, so a wrong group count shows
        m.weight.data = torch.rand(m.weight.shape) + 0.5
        m.bias.data = torch.rand(m.bias.shape) - 0.5
    x = seeded(2, 3, 16, 24, seed=25)
    h = F.leaky_relu(F.conv2d(x * 2 - 1, c[0].weight, c[0].bias, stride=2, padding=1), 0.2)
    h = F.leaky_relu(F.group_norm(F.conv2d(h, c[1].weight, c[1].bias, stride=2, padding=1), 1, g[0].weight, g[0].bias), 0.2)
    h = F.leaky_relu(F.group_norm(F.conv2d(h, c[2].weight, c[2].bias, stride=2, padding=1), 1, g[1].weight, g[1].bias), 0.2)
    h = F.conv2d(h, c[3].weight, c[3].bias, stride=1, padding=1)
    assert len(d.net) == 9 and torch.allclose(d(x), h, atol=1e-5)


def test_shift_distances_message_says_what_arrived(tiny):
    x = seeded(1, 3, 6, 10)
    with pytest.raises(ValueError, match=r"^expected image as a \(1, 3, H, W\) tensor; got torch.Size\(\[3, 6, 10\]\)$"):
        pk.shift_distances(x[0], 1.0, tiny)
    with pytest.raises(ValueError, match=r"^expected image as a \(1, 3, H, W\) tensor; got list$"):
        pk.shift_distances([[0.5]], 1.0, tiny)


def test_combined_loss_scans_each_input_once(tiny, monkeypatch):
    x, y = seeded(1, 3, 6, 10, seed=26), seeded(1, 3, 6, 10, seed=27)
    c = pk.CombinedLoss(1.0, 1.0, 1.0, backbone=tiny, layers=["relu1"], style_layers=["relu2"]).set_target(y)
    scans = []
    real = torch.aminmax
    monkeypatch.setattr(torch, "aminmax", lambda t, **kw: scans.append(t.shape) or real(t, **kw))
    c(x)
    assert len(scans) == 1  # the prediction, once for every term
    scans.clear()
    c(x, y)
    assert len(scans) == 2  # prediction and target, once each


def test_combined_loss_initial_state_and_precision(tiny, monkeypatch):
    c = pk.CombinedLoss(1.0, 1.0, 1.0, backbone=tiny, precision="bf16")
    assert c.terms == {} and c.perceptual.precision == "bf16" and c.style.precision == "bf16"
    assert c.perceptual.backbone is tiny and c.style.backbone is tiny
    f = pk.PerceptualLoss(tiny)
    assert f.last_layer_losses == {} and f._target is None and f._target_shape is None
    monkeypatch.setattr(losses, "resolve_backbone", lambda b: pytest.fail("a backbone was loaded for a pixel-only loss"))
    pk.CombinedLoss(1.0, 0.0, 0.0)  # no feature term: no backbone is loaded (nor its banner printed)


def test_prediction_checks_use_the_losss_own_layers():
    bb = tiny_backbone()
    bb.default_layers = ("conv1",)  # a shallow default: the checks must use the loss's layers, not these
    small, ok = seeded(1, 3, 1, 6), seeded(1, 3, 6, 10)
    loss = pk.PerceptualLoss(bb, ["relu2"])
    with pytest.raises(ValueError, match=r"^prediction is 1x6, too small for layer 'relu2' of tiny"):
        loss(small, small)
    with pytest.raises(ValueError, match=r"^target is 1x6, too small for layer 'relu2' of tiny"):
        loss(ok[..., :2, :6], small)
    loss.set_target(ok)
    with pytest.raises(ValueError, match=r"^prediction is 1x6, too small for layer 'relu2' of tiny"):
        loss(small)


def test_energy_is_the_floored_mean_square():
    t = torch.tensor([[3.0, -4.0], [0.0, 1.0]])
    assert pk.losses.energy(t) == pytest.approx((9 + 16 + 0 + 1) / 4)
    assert pk.losses.energy(torch.zeros(3)) == 1e-12  # a zero target: relative errors stay finite
    assert pk.losses.energy(t.double().requires_grad_(True)) == pytest.approx(6.5)
