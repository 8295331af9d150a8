"""Loss oracles (hand-written formulas), gradients, properties (hypothesis), combined loss, optimisation."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import percepkit as pk
from conftest import seeded

LAYERS = ["relu1_2", "relu2_1", "relu3_1"]


def test_gram_matches_einsum():
    f = torch.randn(2, 5, 4, 3)
    n, c, h, w = f.shape
    expected = torch.einsum("nchw,ndhw->ncd", f, f) / (c * h * w)
    assert torch.allclose(pk.gram_matrix(f), expected, atol=1e-6)
    # and one entry by a plain loop
    assert torch.isclose(pk.gram_matrix(f)[1, 2, 4], (f[1, 2] * f[1, 4]).sum() / (c * h * w))


def test_perceptual_loss_matches_manual_formula(rand19):
    x, y = seeded(2, 3, 32, 32, seed=1), seeded(2, 3, 32, 32, seed=2)
    w = [0.5, 2.0, 1.0]
    loss = pk.PerceptualLoss(rand19, LAYERS, weights=w)(x, y)
    fx, fy = rand19(x, LAYERS), rand19(y, LAYERS)
    manual = 0.0
    for wl, name in zip(w, LAYERS):
        d = fx[name] - fy[name]
        n, c, h, ww = d.shape
        manual += wl * (d**2).sum() / (n * c * h * ww)
    assert torch.isclose(loss, manual, rtol=1e-5)
    assert loss.dtype == torch.float32 and loss.ndim == 0


def test_style_loss_matches_manual_formula(rand19):
    x, y = seeded(1, 3, 32, 32, seed=1), seeded(1, 3, 48, 40, seed=2)  # style target may differ in size
    loss = pk.StyleLoss(rand19, LAYERS)(x, y)
    fx, fy = rand19(x, LAYERS), rand19(y, LAYERS)
    manual = 0.0
    for name in LAYERS:
        gx = torch.einsum("nchw,ndhw->ncd", fx[name], fx[name]) / fx[name][0].numel()
        gy = torch.einsum("nchw,ndhw->ncd", fy[name], fy[name]) / fy[name][0].numel()
        manual += ((gx - gy) ** 2).mean()
    assert torch.isclose(loss, manual, rtol=1e-4)


def test_cached_target_equals_uncached(rand19):
    x, y = seeded(1, 3, 32, 32, seed=1), seeded(1, 3, 32, 32, seed=2)
    for cls in (pk.PerceptualLoss, pk.StyleLoss):
        a = cls(rand19, LAYERS)
        b = cls(rand19, LAYERS).set_target(y)
        assert torch.allclose(a(x, y), b(x))


def test_gradients_reach_input_not_backbone(rand19):
    y = seeded(1, 3, 32, 32, seed=2)
    x = seeded(1, 3, 32, 32, seed=1).requires_grad_(True)
    loss = pk.PerceptualLoss(rand19, LAYERS).set_target(y)(x) + pk.StyleLoss(rand19, LAYERS)(x, y)
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in rand19.parameters())


def test_target_has_no_graph(rand19):
    y = seeded(1, 3, 32, 32, seed=2).requires_grad_(True)
    loss = pk.PerceptualLoss(rand19, LAYERS)
    loss.set_target(y)
    assert all(not t.requires_grad for t in loss._target.values())
    x = seeded(1, 3, 32, 32, seed=1).requires_grad_(True)
    loss(x, y).backward()
    assert y.grad is None  # the target never enters autograd


def test_layer_losses_and_defaults(rand19):
    loss = pk.PerceptualLoss(rand19)
    assert loss.layers == rand19.default_layers
    assert pk.StyleLoss(rand19).layers == rand19.style_layers
    x, y = seeded(1, 3, 32, 32, seed=1), seeded(1, 3, 32, 32, seed=2)
    per = loss.layer_losses(x, y)
    assert set(per) == set(rand19.default_layers)
    assert torch.isclose(sum(per.values()), loss(x, y))
    assert loss.last_layer_losses.keys() == per.keys()


def test_pixel_loss():
    x, y = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5)
    assert pk.pixel_loss(x, y, "l2") == 0.25
    assert pk.pixel_loss(x, y, "l1") == 0.5


images = st.integers(0, 10_000).map(lambda s: seeded(1, 3, 24, 24, seed=s))


@settings(max_examples=15, deadline=None)
@given(images, images)
def test_loss_properties(rand19, a, b):
    for fn in (
        lambda u, v: pk.pixel_loss(u, v, "l2"),
        lambda u, v: pk.pixel_loss(u, v, "l1"),
        pk.PerceptualLoss(rand19, LAYERS),
        pk.StyleLoss(rand19, LAYERS),
    ):
        ab, ba, aa = float(fn(a, b)), float(fn(b, a)), float(fn(a, a))
        assert ab >= 0 and aa == 0
        assert ab == pytest.approx(ba, rel=1e-5, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 5), st.integers(1, 5), st.integers(0, 10_000))
def test_gram_symmetric_psd(n, c, h, w, seed):
    f = torch.randn(n, c, h, w, generator=torch.Generator().manual_seed(seed))
    g = pk.gram_matrix(f)
    assert torch.allclose(g, g.transpose(1, 2), atol=1e-6)
    assert (torch.linalg.eigvalsh(g.double()) > -1e-6).all()


def test_combined_loss_terms(rand19):
    x, y = seeded(1, 3, 32, 32, seed=1), seeded(1, 3, 32, 32, seed=2)
    d = pk.PatchDiscriminator()
    c = pk.CombinedLoss(2.0, 0.5, 3.0, 0.1, backbone=rand19, layers=LAYERS, style_layers=LAYERS, discriminator=d)
    c.set_target(y)
    total = c(x)
    assert set(c.terms) == {"pix", "perc", "style", "adv"}
    assert torch.isclose(total, sum(c.terms.values()))
    assert torch.isclose(c.terms["pix"], 2.0 * pk.pixel_loss(x, y))  # the same default kind (L2) as pixel_loss
    assert torch.isclose(c.terms["perc"], 0.5 * pk.PerceptualLoss(rand19, LAYERS)(x, y))
    assert torch.isclose(c.terms["style"], 3.0 * pk.StyleLoss(rand19, LAYERS)(x, y))
    only_pix = pk.CombinedLoss(1.0, 0.0, backbone=rand19)
    only_pix(x, y)
    assert set(only_pix.terms) == {"pix"} and only_pix.perceptual is None


def test_patch_discriminator_learns_in_seconds():
    """Real sharp patches vs blurred ones: the critic separates them after a few dozen CPU steps."""
    torch.manual_seed(0)
    real = torch.cat([pk.sample_image(n, 48) for n in ("astronaut", "chelsea", "coffee", "rocket")])
    fake = pk.blur(real, 1.5)
    d = pk.PatchDiscriminator()
    opt = torch.optim.Adam(d.parameters(), lr=2e-3)
    for _ in range(60):
        opt.zero_grad()
        loss = pk.adversarial_loss(d(real), True) + pk.adversarial_loss(d(fake), False)
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = ((d(real) > 0).float().mean() + (d(fake) < 0).float().mean()) / 2
    assert acc > 0.9, float(acc)


def test_lambdas_by_name_are_the_same_loss(rand19):
    x, y = seeded(1, 3, 32, 32, seed=1), seeded(1, 3, 32, 32, seed=2)
    named = pk.CombinedLoss(lambdas={"pix": 2.0, "perc": 0.5}, backbone=rand19, layers=["relu1_2"])
    positional = pk.CombinedLoss(2.0, 0.5, backbone=rand19, layers=["relu1_2"])
    assert float(named(x, y)) == pytest.approx(float(positional(x, y)), rel=1e-6)
    assert named.lambdas == {"pix": 2.0, "perc": 0.5, "style": 0.0, "adv": 0.0} and set(named.terms) == {"pix", "perc"}
    lam = pk.Lambdas(pix=1, adv=4)
    assert lam == (1, 0, 0, 4) and {lam: "ok"}[(1, 0, 0, 4)] == "ok" and lam.adv == 4
    assert pk.Lambdas.of({"perc": 2}) == pk.Lambdas(perc=2) == pk.Lambdas.of([0, 2, 0, 0])
    assert pk.TERMS == ("pix", "perc", "style", "adv")
    with pytest.raises(ValueError, match=r"unknown term\(s\) \['tv'\]"):
        pk.Lambdas.of({"tv": 1.0})
    with pytest.raises(ValueError, match="finite lambdas >= 0"):
        pk.CombinedLoss(lambdas={"pix": -1.0}, backbone=rand19)
    with pytest.raises(ValueError, match="expected 4 lambdas"):
        pk.Lambdas.of((1, 2))


def test_combined_loss_scans_each_input_once(rand19, monkeypatch):
    y = pk.sample_image("astronaut", 32)
    c = pk.CombinedLoss(1.0, 1.0, 1.0, backbone=rand19, layers=["relu1_2"], style_layers=["relu2_1"]).set_target(y)
    scans = []
    real = torch.aminmax
    monkeypatch.setattr(torch, "aminmax", lambda t, **kw: scans.append(t.shape) or real(t, **kw))
    c(y * 0.5)
    assert len(scans) == 1, f"the prediction was scanned {len(scans)} times"
    scans.clear()
    c(y * 0.5, y)
    assert len(scans) == 2  # prediction and target, once each
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        c(y * 2)
