"""tinynets.py: the two networks' forward passes written out with torch.nn.functional after their
weights are made non-trivial (a model that changes its input), their starting points (the identity,
bicubic with no lattice, ICNR), seeding that leaves the global stream alone, sizes and messages."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import percepkit as pk
from percepkit import tinynets


def perturbed(model, seed=0, scale=0.05):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g))
    return model


def test_denoiser_forward_written_out_when_it_changes_its_input():
    m = perturbed(tinynets.TinyDenoiser(6, 4, seed=1))
    convs = [c for c in m.body if isinstance(c, nn.Conv2d)]
    assert len(convs) == 4 and [c.out_channels for c in convs] == [6, 6, 6, 3]
    x = torch.rand(2, 3, 12, 20, generator=torch.Generator().manual_seed(2))
    h = x
    for k, c in enumerate(convs):
        h = F.conv2d(h, c.weight, c.bias, padding=1)
        if k < len(convs) - 1:
            h = h.clamp(min=0)
    want = (x + h).clamp(0, 1)
    with torch.no_grad():
        got = m(x)
    assert torch.allclose(got, want, atol=1e-6)
    assert not torch.allclose(got, x, atol=1e-3)  # it does change its input
    assert float(got.min()) >= 0 and float(got.max()) <= 1


@pytest.mark.parametrize("upsampler", ["pixelshuffle", "resize"])
def test_upsampler_forward_written_out(upsampler):
    m = perturbed(tinynets.TinyUpsampler(3, upsampler, channels=5, layers=2, seed=4), scale=0.1)
    x = torch.rand(2, 3, 7, 9, generator=torch.Generator().manual_seed(3))
    h = x
    for c in [c for c in m.body if isinstance(c, nn.Conv2d)]:
        h = F.conv2d(h, c.weight, c.bias, padding=1).clamp(min=0)
    conv = m.up[0] if upsampler == "pixelshuffle" else m.up[1]
    if upsampler == "pixelshuffle":
        r = F.conv2d(h, conv.weight, conv.bias, padding=1)  # (N, 3·9, h, w) → (N, 3, 3h, 3w)
        n, _, hh, ww = r.shape
        r = r.view(n, 3, 3, 3, hh, ww).permute(0, 1, 4, 2, 5, 3).reshape(n, 3, 3 * hh, 3 * ww)
    else:
        up = h.repeat_interleave(3, dim=2).repeat_interleave(3, dim=3)  # nearest ×3
        r = F.conv2d(up, conv.weight, conv.bias, padding=1)
    base = F.interpolate(x, scale_factor=3, mode="bicubic", align_corners=False)
    want = (base + r).clamp(0, 1)
    with torch.no_grad():
        got = m(x)
    assert got.shape == (2, 3, 21, 27)
    assert torch.allclose(got, want, atol=1e-5)
    assert "factor=3" in repr(m) and upsampler in repr(m)



def test_the_denoiser_starts_as_the_identity_and_clamps():
    m = tinynets.TinyDenoiser(24, 5)
    x = torch.rand(2, 3, 16, 16)
    assert torch.equal(m(x), x)
    assert sum(p.numel() for p in m.parameters()) < 30_000
    with pytest.raises(ValueError, match="layers"):
        tinynets.TinyDenoiser(8, 1)


@pytest.mark.parametrize("upsampler", ["pixelshuffle", "resize"])
def test_the_untrained_upsampler_is_close_to_bicubic_and_paints_no_lattice(upsampler):
    torch.manual_seed(0)
    truth = pk.sample_image("chelsea", 128)
    low = torch.nn.functional.avg_pool2d(truth, 4)
    model = tinynets.TinyUpsampler(4, upsampler)
    with torch.no_grad():
        out = model(low)
    bicubic = torch.nn.functional.interpolate(low, scale_factor=4, mode="bicubic", align_corners=False).clamp(0, 1)
    assert out.shape == truth.shape
    assert abs(pk.psnr(out, truth) - pk.psnr(bicubic, truth)) < 1.0
    assert pk.lattice_amplitude(out) < pk.lattice_amplitude(bicubic) + 0.3
    assert float(out.min()) >= 0 and float(out.max()) <= 1


def test_icnr_starts_every_pixelshuffle_phase_with_the_same_filter():
    model = tinynets.TinyUpsampler(3, "pixelshuffle", channels=8, layers=2)
    w = model.up[0].weight  # (3·9, 8, 3, 3); PixelShuffle reads channel c·9 + k as phase k of colour c
    for c in range(3):
        phases = w[c * 9:(c + 1) * 9]
        assert torch.equal(phases, phases[:1].expand_as(phases))
    assert not torch.equal(w[0], w[9])  # colours differ
    # a constant feature map therefore gives a constant high-resolution residual: no lattice
    body_out = torch.rand(1, 8, 1, 1).expand(1, 8, 6, 6)
    res = model.up(body_out)[..., 3:-3, 3:-3]  # away from the zero padding
    assert torch.allclose(res, res[..., :1, :1].expand_as(res), atol=1e-6)


def test_models_are_seeded_without_touching_the_global_random_state():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = tinynets.TinyUpsampler(2, seed=5), tinynets.TinyUpsampler(2, seed=5)
    assert torch.rand(1) == before  # global stream untouched
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    c = tinynets.TinyUpsampler(2, seed=6)
    assert not torch.equal(a.body[0].weight, c.body[0].weight)
    d1, d2 = tinynets.TinyDenoiser(8, 3, seed=1), tinynets.TinyDenoiser(8, 3, seed=1)
    assert torch.equal(d1.body[0].weight, d2.body[0].weight)


def test_upsampler_bad_arguments():
    with pytest.raises(ValueError, match="pixelshuffle"):
        tinynets.TinyUpsampler(4, "deconv")
    with pytest.raises(ValueError, match="factor >= 2"):
        tinynets.TinyUpsampler(1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tinynets.TinyUpsampler(2)(torch.full((1, 3, 8, 8), 200.0))


def test_messages_whole_and_the_networks_sizes():
    cases = [
        (lambda: tinynets.TinyDenoiser(0, 3), ValueError,
         r"^expected channels >= 1 and layers >= 2 \(ints\); got 0, 3$"),
        (lambda: tinynets.TinyDenoiser(4, 2.0), ValueError, r"^expected channels >= 1 and layers >= 2 \(ints\); got 4, 2\.0$"),
        (lambda: tinynets.TinyUpsampler(2, "deconv"), ValueError,
         r"^expected upsampler 'pixelshuffle' or 'resize'; got 'deconv'$"),
        (lambda: tinynets.TinyUpsampler(2, channels=0), ValueError,
         r"^expected ints factor >= 2, channels >= 1, layers >= 1; got 2, 0, 3$"),
        (lambda: tinynets.TinyUpsampler(2, layers=0), ValueError, r"got 2, 32, 0$"),
        (lambda: tinynets.TinyUpsampler(2.0), ValueError, r"got 2\.0, 32, 3$"),
    ]
    for make, exc, message in cases:
        with pytest.raises(exc, match=message):
            make()
    # defaults: 24 channels and 6 convs; ×4, pixelshuffle, 32 channels, 3 convs
    d = tinynets.TinyDenoiser()
    convs = [m for m in d.body if isinstance(m, nn.Conv2d)]
    assert len(convs) == 6 and convs[0].out_channels == 24 and all(c.padding == (1, 1) for c in convs)
    assert [type(m).__name__ for m in d.body][:2] == ["Conv2d", "ReLU"]
    u = tinynets.TinyUpsampler()
    assert (u.factor, u.upsampler) == (4, "pixelshuffle") and len([m for m in u.body if isinstance(m, nn.Conv2d)]) == 3
    assert u.up[0].out_channels == 3 * 16 and u.body[0].out_channels == 32 and u.up[1].upscale_factor == 4
    assert torch.equal(u.up[0].bias, torch.zeros(48))
    r = tinynets.TinyUpsampler(2, "resize", seed=3)
    ref = nn.Conv2d(32, 3, 3, padding=1)
    assert r.up[0].scale_factor == 2 and r.up[0].mode == "nearest" and torch.equal(r.up[1].bias, torch.zeros(3))
    assert float(r.up[1].weight.detach().abs().max()) <= 0.1 * 1 / (32 * 9) ** 0.5 + 1e-7  # the default init, ×0.1
    assert float(r.up[1].weight.detach().abs().max()) > 0.05 * 1 / (32 * 9) ** 0.5
    assert ref.weight.shape == r.up[1].weight.shape
    w = u.up[0].weight
    assert 0.05 < float(w.detach().std()) / (2 / (32 * 9)) ** 0.5 < 0.2  # ICNR from kaiming normal, ×0.1
    state = torch.random.get_rng_state()
    tinynets.TinyDenoiser(seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_defaults_and_smallest_settings():
    assert all(torch.equal(a, b) for a, b in zip(tinynets.TinyDenoiser().state_dict().values(),
                                                 tinynets.TinyDenoiser(24, 6, seed=0).state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(tinynets.TinyUpsampler().state_dict().values(),
                                                 tinynets.TinyUpsampler(4, "pixelshuffle", 32, 3, seed=0).state_dict().values()))
    assert tinynets.TinyDenoiser(1, 2).body[0].out_channels == 1  # the smallest network allowed
    assert tinynets.TinyUpsampler(2, channels=1, layers=1).body[0].out_channels == 1
    with pytest.raises(ValueError, match=r"^expected low-resolution input in \[0, 1\]"):
        tinynets.TinyUpsampler(2)(torch.full((1, 3, 4, 4), 2.0))
