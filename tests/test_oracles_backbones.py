"""backbones.py against oracles: hand-computed geometry (sizes, strides, receptive fields, minimum
sizes), normalisation with the constants typed in, features of a tiny backbone by plain functional
calls, an EfficientNet block written out; every input limit on both sides, non-square inputs."""

import hashlib
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import percepkit as pk
import percepkit.backbones as backbones
from conftest import seeded
from oracles import IMAGENET_MEAN, IMAGENET_STD, tiny_backbone, tiny_features
from percepkit.backbones import MAX_PIXELS, Backbone, LayerInfo, LayerTable, _lite0, _MBConv, _vgg


def _meta(arch="vgg19", ceil=False, normalization="imagenet"):
    """A VGG Backbone on the meta device: the real architecture for geometry, no weights in memory."""
    with torch.device("meta"):
        stages, names, kinds = _vgg(arch, ceil_pool=ceil)
    return Backbone(arch, stages, names, kinds, default_layers=("relu1_2",), style_layers=("relu1_1",),
                    normalization=normalization, source="meta", pretrained=False)


@pytest.fixture(scope="module")
def vgg19_meta():
    return _meta()


@pytest.fixture(scope="module")
def tiny():
    return tiny_backbone()


# ---------------------------------------------------------------- precision


def test_resolve_precision_values_and_limits(monkeypatch):
    asked = []
    monkeypatch.setattr(backbones, "bf16_native", lambda device="cpu": asked.append(device) or device == "fancy")
    assert pk.resolve_precision("fp32") == "fp32" and pk.resolve_precision("bf16") == "bf16"
    assert pk.resolve_precision("auto") == "fp32" and asked == ["cpu"]
    assert pk.resolve_precision("auto", "fancy") == "bf16" and asked[-1] == "fancy"
    for bad in ("fp16", "FP32", None):
        with pytest.raises(ValueError, match=rf"^expected precision 'fp32', 'bf16' or 'auto'; got {bad!r}$"):
            pk.resolve_precision(bad)


def test_bf16_native_per_device(monkeypatch):
    backbones._bf16_native.cache_clear()
    try:
        assert pk.bf16_native("meta") is False
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
        assert pk.bf16_native("cuda") is False
        backbones._bf16_native.cache_clear()
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
        assert pk.bf16_native("cuda:0") is True
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
        assert pk.bf16_native("cuda:1") is False

        class Unreadable:
            def __init__(self, p):
                pass

            def read_text(self):
                raise OSError("no /proc here")

        monkeypatch.setattr(backbones, "Path", Unreadable)
        assert pk.bf16_native(torch.device("cpu")) is False
    finally:
        backbones._bf16_native.cache_clear()


# ---------------------------------------------------------------- construction, normalisation, fingerprint


def test_imagenet_and_caffe_normalisation_with_the_constants_typed_in():
    x = seeded(2, 3, 4, 6)
    assert torch.allclose(tiny_backbone().normalize(x), (x - IMAGENET_MEAN) / IMAGENET_STD, atol=1e-6)
    caffe = Backbone("c", [nn.Identity()], ["id"], ["id"], default_layers=("id",), style_layers=("id",), normalization="caffe",
                     source="", pretrained=True)
    bgr_mean = torch.tensor([104.00699, 116.66877, 122.67892]).view(1, 3, 1, 1)
    assert torch.allclose(caffe.normalize(x), x.flip(1) * 255 - bgr_mean, atol=1e-4)  # BGR, 0–255, mean off
    with pytest.raises(ValueError, match=r"^unknown normalization 'tf'$"):
        Backbone("t", [nn.Identity()], ["id"], ["id"], default_layers=(), style_layers=(), normalization="tf", source="",
                 pretrained=True)


def test_backbone_attributes_and_frozen(tiny):
    assert tiny.name == "tiny" and tiny.source == "test oracle" and tiny.pretrained is False
    assert tiny.layer_names == ("conv1", "relu1", "pool1", "conv2", "relu2") and tiny.kinds[2] == "pool"
    assert tiny.default_layers == ("relu1", "relu2") and tiny.style_layers == ("conv1", "relu2")
    assert tiny.normalization == "imagenet"
    assert all(not p.requires_grad for p in tiny.parameters()) and not tiny.training
    assert tiny.train() is tiny and not tiny.training
    assert tiny.train(True) is tiny and not tiny.training
    assert tiny.extra_repr() == "name='tiny', pretrained=False, source='test oracle'"
    assert "mean" not in tiny.state_dict()  # normalisation buffers are not weights


def _fingerprint_by_hand(bb):
    h = hashlib.sha256(bb.name.encode())
    for k, v in bb.state_dict().items():
        flat = v.detach().reshape(-1).float().cpu()
        h.update(f"{k}{tuple(v.shape)}{float(flat.double().sum()):.6e}".encode())
        h.update(flat[:256].numpy().tobytes())
    return h.hexdigest()[:16]


def test_fingerprint_hashes_name_and_weights():
    a, b = tiny_backbone(seed=0), tiny_backbone(seed=0)
    fp = a.fingerprint()
    assert fp == _fingerprint_by_hand(a) and len(fp) == 16
    assert fp == b.fingerprint() and fp != tiny_backbone(seed=1).fingerprint()
    one = Backbone("one", [nn.Conv2d(3, 300, 1, bias=False)], ["c"], ["conv"], default_layers=("c",), style_layers=("c",),
                   normalization="imagenet", source="", pretrained=True)
    one.stages[0].weight.data = torch.arange(900.0).view(300, 3, 1, 1) / 900
    assert one.fingerprint() == _fingerprint_by_hand(one)  # more than 256 values: only the first 256 enter as bytes
    a.stages[0].bias.data[0] += 1
    assert a.fingerprint() == fp  # computed once per backbone


# ---------------------------------------------------------------- layers and geometry


def test_resolve_layers(tiny):
    assert tiny.resolve_layers(None) == ("relu1", "relu2")
    assert tiny.resolve_layers("pool1") == ("pool1",)
    assert tiny.resolve_layers(["relu2", "conv1"]) == ("relu2", "conv1")
    with pytest.raises(ValueError, match=r"^expected at least one layer name; got an empty list$"):
        tiny.resolve_layers([])
    with pytest.raises(ValueError, match=r"^unknown layer\(s\) \['relu3', 'x'\] for backbone 'tiny'; valid names: "
                       r"\['conv1', 'relu1', 'pool1', 'conv2', 'relu2'\]$"):
        tiny.resolve_layers(["relu1", "relu3", "x"])


def test_vgg_layer_table_by_hand():
    stages, names, kinds = _vgg("vgg19")
    assert len(stages) == len(names) == len(kinds) == 37
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"] and names[17] == "relu3_4"
    assert names[36] == "pool5" and kinds[:5] == ["conv", "relu", "conv", "relu", "pool"]
    assert [s.out_channels for s in stages if isinstance(s, nn.Conv2d)] == [64] * 2 + [128] * 2 + [256] * 4 + [512] * 8
    assert all(not s.inplace for s in stages if isinstance(s, nn.ReLU))
    assert all(not s.ceil_mode for s in stages if isinstance(s, nn.MaxPool2d))
    s16, n16, _ = _vgg("vgg16", ceil_pool=True)
    assert len(s16) == 31 and n16[-2:] == ["relu5_3", "pool5"]
    assert all(s.ceil_mode for s in s16 if isinstance(s, nn.MaxPool2d))


def test_min_size_by_hand(vgg19_meta, tiny):
    # floor pooling halves: pool_k needs 2**k; a conv (3x3, pad 1) keeps the size
    assert vgg19_meta.min_size("relu1_2") == 1
    assert vgg19_meta.min_size(["conv1_1", "pool1"]) == 2
    assert vgg19_meta.min_size("relu2_1") == 2
    assert vgg19_meta.min_size("pool2") == 4
    assert vgg19_meta.min_size("relu5_4") == 16
    assert vgg19_meta.min_size("pool5") == 32
    assert vgg19_meta.min_size() == 1  # default layers: relu1_2
    assert _meta("vgg16", ceil=True).min_size("pool5") == 1  # ceil pooling never reaches 0
    assert tiny.min_size("relu2") == 2 and tiny.min_size("relu1") == 1


def test_describe_vgg19_by_hand_non_square(vgg19_meta):
    rows = vgg19_meta.describe((224, 160))
    assert isinstance(rows, LayerTable) and len(rows) == 37
    by = {r.name: r for r in rows}
    # receptive field grows by (k − 1)·stride: conv1_1 3, conv1_2 5, pool1 6, conv2_1 10, conv2_2 14, pool2 16, conv3_x 24..48
    assert by["relu3_4"] == LayerInfo(17, "relu3_4", "relu", (256, 56, 40), 4, 48)
    assert by["pool1"] == LayerInfo(4, "pool1", "pool", (64, 112, 80), 2, 6)
    assert by["conv1_1"] == LayerInfo(0, "conv1_1", "conv", (64, 224, 160), 1, 3)
    assert by["pool5"].shape == (512, 7, 5) and by["pool5"].stride == 32
    assert vgg19_meta.describe(33)[4].shape == (64, 16, 16)  # floor
    assert _meta("vgg16", ceil=True).describe(33)[4].shape == (64, 17, 17)  # ceil
    assert vgg19_meta.describe()[0].shape == (64, 224, 224)  # default 224


def test_describe_dilation_and_a_first_stage_without_channels():
    bb = Backbone("d", [nn.MaxPool2d(2, 2), nn.Conv2d(3, 4, 3, padding=2, dilation=2), nn.Conv2d(4, 5, 3, dilation=2)],
                  ["pool", "dil", "valid"], ["pool", "conv", "conv"], default_layers=("pool",), style_layers=("pool",),
                  normalization="imagenet", source="", pretrained=False)
    # RF: 1 → pool 2 → +(3 − 1)·2·2 = 10 → +(3 − 1)·2·2 = 18; a valid dilated 3x3 conv takes 4 pixels off
    assert list(bb.describe((12, 20))) == [LayerInfo(0, "pool", "pool", (3, 6, 10), 2, 2),
                                           LayerInfo(1, "dil", "conv", (4, 6, 10), 2, 10),
                                           LayerInfo(2, "valid", "conv", (5, 2, 6), 2, 18)]
    f = bb(seeded(1, 3, 12, 20), ["pool", "dil", "valid"])
    assert [tuple(v.shape[1:]) for v in f.values()] == [(3, 6, 10), (4, 6, 10), (5, 2, 6)]
    assert bb.min_size("valid") == 10 and bb.min_size("dil") == 2  # 10 → 5 → 5 → 1


def test_layer_table_text_and_html():
    t = LayerTable([LayerInfo(3, "relu1_2", "relu", (64, 8, 8), 1, 5), LayerInfo(4, "pool1", "pool", (64, 4, 4), 2, 6)])
    assert str(t) == ("index  name       kind   output (C,H,W)     stride    RF\n"
                      "    3  relu1_2    relu   (64, 8, 8)              1     5\n"
                      "    4  pool1      pool   (64, 4, 4)              2     6")
    assert t._repr_html_() == ("<table><tr><th>index</th><th>name</th><th>kind</th><th>output (C,H,W)</th><th>stride</th>"
                               "<th>receptive field</th></tr><tr><td>3</td><td><code>relu1_2</code></td><td>relu</td>"
                               "<td>(64, 8, 8)</td><td>1</td><td>5</td></tr><tr><td>4</td><td><code>pool1</code></td>"
                               "<td>pool</td><td>(64, 4, 4)</td><td>2</td><td>6</td></tr></table>")


# ---------------------------------------------------------------- input checks


def test_pixel_limit_both_sides(vgg19_meta):
    assert MAX_PIXELS == 2048 * 2048
    vgg19_meta.check_input(torch.zeros(1, 3, 1, 1).expand(1, 3, 2048, 2048), "relu1_2")  # exactly the limit
    vgg19_meta.check_input(torch.zeros(1, 3, 1, 1).expand(4, 3, 1024, 1024), "relu1_2")
    with pytest.raises(ValueError, match=r"^x has 1x2048x2049 = 4,196,352 pixels, more than 4,194,304 that a CPU can process "
                       r"sensibly; resize it \(e.g. percepkit.to_tensor\(img, size=256\)\) or use a smaller batch$"):
        vgg19_meta.check_input(torch.zeros(1, 3, 1, 1).expand(1, 3, 2048, 2049), "relu1_2")
    with pytest.raises(ValueError, match=r"^batch has 2x1500x1500 = 4,500,000 pixels"):
        vgg19_meta.check_input(torch.zeros(1, 3, 1, 1).expand(2, 3, 1500, 1500), "relu1_2", what="batch")


def test_too_small_uses_the_shorter_side_both_sides(vgg19_meta):
    for shape in ((1, 3, 16, 64), (1, 3, 64, 16), (2, 3, 16, 16)):
        vgg19_meta.check_input(torch.zeros(shape), ["relu1_1", "relu5_4"])
    for h, w in ((8, 64), (64, 8), (15, 16), (16, 15)):
        with pytest.raises(ValueError, match=rf"^target is {h}x{w}, too small for layer 'relu5_4' of vgg19: the "
                                             rf"minimum size is 16x16$"):
            vgg19_meta.check_input(torch.zeros(1, 3, h, w), ["relu5_4", "relu1_1"], what="target")
    with pytest.raises(ValueError, match=r"^x is 8x64, too small for layer 'pool5' of vgg19: the minimum size is 32x32$"):
        vgg19_meta(torch.zeros(1, 3, 8, 64), "pool5")


def test_value_checks_come_last_and_name_the_input(vgg19_meta):
    with pytest.raises(ValueError, match=r"^expected pred in \[0, 1\] \(the backbone normalises internally\); got "
                                         r"values in \[-1, 1\]"):
        vgg19_meta.check_input(torch.linspace(-1, 1, 48).view(1, 3, 4, 4), what="pred")  # [-1, 1] data
    vgg19_meta.check_input(torch.full((1, 3, 4, 4), 1.0009))  # inside the slack
    with pytest.raises(ValueError, match=r"^x contains NaN or Inf$"):
        vgg19_meta.check_input(torch.full((1, 3, 4, 4), math.nan))
    with pytest.raises(ValueError, match=r"^expected x of shape \(N, 3, H, W\); got \(1, 1, 4, 4\)"):
        vgg19_meta.check_input(torch.zeros(1, 1, 4, 4))
    with pytest.raises(TypeError, match=r"^expected y as a float tensor"):
        vgg19_meta.check_input(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), what="y")
    with pytest.raises(ValueError, match=r"^expected x in \[0, 1\]"):
        vgg19_meta(torch.full((1, 3, 4, 4), 255.0), "relu1_1")


# ---------------------------------------------------------------- forward


def test_forward_equals_the_functional_oracle_non_square_batch(tiny):
    x = seeded(2, 3, 6, 10, seed=3)
    ref = tiny_features(tiny, x)
    out = tiny(x, ["relu2", "conv1", "pool1"])
    assert list(out) == ["relu2", "conv1", "pool1"]  # in the order asked for
    assert all(out[k].dtype == torch.float32 and torch.allclose(out[k], ref[k], atol=1e-5) for k in out)
    assert out["conv1"].min() < 0  # the pre-activation survives the ReLU after it
    assert list(tiny(x)) == ["relu1", "relu2"] and list(tiny(x, "conv2")) == ["conv2"]
    raw = tiny(x * 3 - 1, ["conv1"], normalize=False)["conv1"]  # no checks, no normalisation
    assert torch.allclose(raw, F.conv2d(x * 3 - 1, tiny.stages[0].weight, tiny.stages[0].bias, padding=1), atol=1e-5)


def test_forward_runs_only_up_to_the_deepest_layer(tiny, monkeypatch):
    calls = []

    def spy(i, f):
        return lambda *a: calls.append(i) or f(*a)

    for i, s in enumerate(tiny.stages):
        monkeypatch.setattr(s, "forward", spy(i, s.forward))
    tiny(seeded(1, 3, 4, 4), ["relu1", "conv1"])
    assert calls == [0, 1]


def test_forward_bf16_is_bf16_autocast_and_returns_fp32(tiny, monkeypatch):
    x = seeded(2, 3, 6, 10, seed=4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ref = tiny_features(tiny, x)
    fp32 = tiny_features(tiny, x)
    out = tiny(x, ["conv1", "relu2"], precision="bf16")
    for k in out:
        assert out[k].dtype == torch.float32
        assert torch.allclose(out[k], ref[k], rtol=1e-6, atol=1e-6)
        assert not torch.allclose(out[k], fp32[k], rtol=1e-6, atol=1e-6)
    monkeypatch.setattr(backbones, "bf16_native", lambda device="cpu": True)
    assert torch.equal(tiny(x, "conv1", precision="auto")["conv1"], out["conv1"])
    monkeypatch.setattr(backbones, "bf16_native", lambda device="cpu": False)
    assert torch.equal(tiny(x, "conv1", precision="auto")["conv1"], tiny(x, "conv1")["conv1"])
    with pytest.raises(ValueError, match=r"^expected precision 'fp32', 'bf16' or 'auto'; got 'half'$"):
        tiny(x, "conv1", precision="half")


# ---------------------------------------------------------------- EfficientNet-Lite0


def _bn(x, bn):
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, 1e-3)


def _randomise(m, seed):
    g = torch.Generator().manual_seed(seed)
    for t in list(m.parameters()) + [b for n, b in m.named_buffers() if "running" in n]:
        t.data = torch.rand(t.shape, generator=g) + 0.5 if t.dtype.is_floating_point else t.data


@pytest.mark.parametrize("cin, cout, expand, k, s", [(8, 8, 6, 3, 1), (8, 12, 6, 5, 2), (8, 8, 1, 3, 1), (8, 8, 6, 3, 2)])
def test_mbconv_equals_the_block_written_out(cin, cout, expand, k, s):
    blk = _MBConv(cin, cout, expand, k, s).eval()
    _randomise(blk, 0)
    x = seeded(2, cin, 9, 7, seed=5) - 0.5
    h = F.relu6(_bn(F.conv2d(x, blk._expand_conv.weight), blk._bn0)) if expand != 1 else x
    h = F.relu6(_bn(F.conv2d(h, blk._depthwise_conv.weight, stride=s, padding=k // 2, groups=cin * expand), blk._bn1))
    h = _bn(F.conv2d(h, blk._project_conv.weight), blk._bn2)
    expected = h + x if (s == 1 and cin == cout) else h
    assert torch.allclose(blk(x), expected, atol=1e-4)
    assert hasattr(blk, "_expand_conv") == (expand != 1)
    assert blk._bn1.eps == 1e-3 and blk._depthwise_conv.bias is None


def test_lite0_architecture_by_hand():
    stages, names, kinds = _lite0()
    assert names == ["stem"] + [f"block{i}" for i in range(16)] + ["head"]
    assert kinds == ["conv"] + ["block"] * 16 + ["conv"]
    outs = [s.skip for s in stages[1:-1]]
    # skip connections: every repeat after the first of its group (stride 1, same width)
    assert outs == [False, False, True, False, True, False, True, True, False, True, True, False, True, True, True, False]
    with torch.device("meta"):
        stages, names, kinds = _lite0()
    bb = Backbone("lite", stages, names, kinds, default_layers=("stem",), style_layers=("stem",), normalization="imagenet",
                  source="", pretrained=False)
    rows = {r.name: r for r in bb.describe(224)}
    assert rows["stem"].shape == (32, 112, 112) and rows["stem"].stride == 2
    assert [rows[f"block{i}"].shape[0] for i in (0, 2, 4, 7, 10, 14, 15)] == [16, 24, 40, 80, 112, 192, 320]
    assert rows["block14"].shape == (192, 7, 7)
    assert rows["head"] == LayerInfo(17, "head", "conv", (1280, 7, 7), 32, rows["head"].receptive_field)
    assert bb.min_size("head") == 1
    head = stages[-1]
    assert head[0].in_channels == 320 and head[1].eps == 1e-3 and isinstance(head[2], nn.ReLU6)


def test_bf16_native_defaults_to_the_cpu():
    backbones._bf16_native.cache_clear()
    try:
        assert pk.bf16_native() == pk.bf16_native("cpu") == backbones._bf16_native("cpu")
    finally:
        backbones._bf16_native.cache_clear()


def test_normalisation_buffers_are_not_weights():
    bb = tiny_backbone()  # built here, not taken from a fixture: mutation testing maps the constructor to this test
    assert set(bb.state_dict()) == {"stages.0.weight", "stages.0.bias", "stages.3.weight", "stages.3.bias"}
    assert dict(bb.named_buffers()).keys() == {"mean", "std"}


def test_pools_given_as_tuples_and_huge_layers():
    bb = Backbone("t", [nn.MaxPool2d((2, 2), (2, 2)), nn.Conv2d(3, 4, 1, padding=1)], ["p", "c"], ["pool", "conv"],
                  default_layers=("p",), style_layers=("p",), normalization="imagenet", source="", pretrained=False)
    assert bb.describe(8)[0].shape == (3, 4, 4) and bb.describe(8)[1] == LayerInfo(1, "c", "conv", (4, 6, 6), 2, 2)
    assert bb.min_size("p") == 2
    pad = Backbone("pad", [nn.Conv2d(3, 4, 1, padding=1)], ["c"], ["conv"], default_layers=("c",), style_layers=("c",),
                   normalization="imagenet", source="", pretrained=False)
    assert pad.min_size() == 1  # a padded 1x1 conv gives output even for 0 pixels, but 1 is the smallest image
    for k, expected in ((4096, 4096), (4097, None)):
        big = Backbone("big", [nn.MaxPool2d(k)], ["p"], ["pool"], default_layers=("p",), style_layers=("p",),
                       normalization="imagenet", source="", pretrained=False)
        if expected:
            assert big.min_size() == expected
        else:
            with pytest.raises(RuntimeError, match=r"^no input size up to 4096 reaches this layer$"):
                big.min_size()


def test_check_input_order_and_the_deepest_layer_by_depth_not_by_name(vgg19_meta, monkeypatch):
    # the shape is checked before the size: a 1-channel 1x1 input is "not RGB", not "too small"
    with pytest.raises(ValueError, match=r"^expected x of shape \(N, 3, H, W\); got \(1, 1, 1, 1\)"):
        vgg19_meta.check_input(torch.zeros(1, 1, 1, 1), "relu5_4")
    # the size before the values: NaN in a too-small input is reported as too small
    with pytest.raises(ValueError, match=r"^x is 1x1, too small"):
        vgg19_meta.check_input(torch.full((1, 3, 1, 1), math.nan), "relu5_4")
    # 'pool5' is deeper than 'relu1_1', though it sorts first by name
    with pytest.raises(ValueError, match=r"^x is 8x64, too small for layer 'pool5' of vgg19: the minimum size is 32x32$"):
        vgg19_meta.check_input(torch.zeros(1, 3, 8, 64), ["relu1_1", "pool5"])
    scans = []
    real = torch.aminmax
    monkeypatch.setattr(torch, "aminmax", lambda t, **kw: scans.append(1) or real(t, **kw))
    vgg19_meta.check_input(torch.zeros(1, 3, 4, 4))
    assert len(scans) == 1  # one pass over the pixels


def test_auto_precision_asks_about_the_inputs_device(tiny, monkeypatch):
    asked = []
    monkeypatch.setattr(backbones, "bf16_native", lambda device="cpu": asked.append(device) or False)
    tiny(seeded(1, 3, 4, 4), "conv1", precision="auto")
    assert asked == [torch.device("cpu")] and isinstance(asked[0], torch.device)


def test_lite0_stem_and_head_by_hand():
    stages, _, _ = _lite0()
    stem, head = stages[0], stages[-1]
    assert len(stem) == 3 and stem[0].bias is None and (stem[0].kernel_size, stem[0].stride) == ((3, 3), (2, 2))
    assert stem[1].eps == 1e-3 and isinstance(stem[2], nn.ReLU6)
    assert len(head) == 3 and head[0].bias is None and head[1].eps == 1e-3 and head[0].out_channels == 1280
    blk = stages[2]
    assert all(getattr(blk, n).bias is None for n in ("_expand_conv", "_depthwise_conv", "_project_conv"))
