"""percepkit.cache: the folder rule, the key (what must change it and what must not), the weights
fingerprint, load-or-compute with atomic saves, and corrupt files recomputed."""

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from percepkit import cache


def test_folder_rule(monkeypatch, tmp_path):
    monkeypatch.delenv("PERCEPKIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.default_cache_dir() == tmp_path / ".cache" / "percepkit"
    monkeypatch.setenv("PERCEPKIT_CACHE_DIR", "  ")  # blank: as if unset
    assert cache.default_cache_dir() == tmp_path / ".cache" / "percepkit"
    monkeypatch.setenv("PERCEPKIT_CACHE_DIR", f" {tmp_path / 'c'} ")
    assert cache.default_cache_dir() == tmp_path / "c"
    assert cache.cache_folder(None) == tmp_path / "c"
    assert cache.cache_folder(False) is None
    assert cache.cache_folder(str(tmp_path / "x")) == tmp_path / "x"
    assert cache.cache_folder("~/y") == tmp_path / "y"


def test_canonical_written_out():
    assert cache.canonical(0.123456789) == 0.1235 and cache.canonical(1234567.0) == 1235000.0
    assert cache.canonical((1, "a", None, True, [2.00001])) == [1, "a", None, True, [2.0]]
    assert cache.canonical({3: 0.5, "b": (1,)}) == {"3": 0.5, "b": [1]}
    t = torch.arange(6.0).reshape(2, 3)
    assert cache.canonical(t) == hashlib.sha256(t.numpy().tobytes()).hexdigest()[:16]
    assert cache.canonical(t.double()) == cache.canonical(t) != cache.canonical(t.T)  # values, not dtype; layout
    assert cache.canonical(nn.ReLU) == repr(nn.ReLU) and cache.canonical(object()).startswith("<object")

    def double(x):
        return 2 * x

    assert "return 2 * x" in cache.canonical(double) and cache.canonical(len) == "len"


def test_weights_fingerprint_follows_the_weights_not_the_object():
    torch.manual_seed(0)
    a = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    b = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    b.load_state_dict(a.state_dict())
    assert cache.weights_fingerprint(a) == cache.weights_fingerprint(b) and len(cache.weights_fingerprint(a)) == 16
    assert cache.weights_fingerprint(a, "x") != cache.weights_fingerprint(a, "y")
    with torch.no_grad():
        b[0].weight[3, 2, 2, 2] += 1e-3  # the last value of the first tensor: only the sum sees it
    assert cache.weights_fingerprint(a) != cache.weights_fingerprint(b)
    b.load_state_dict(a.state_dict())
    b[1].running_var += 1  # a buffer counts too
    assert cache.weights_fingerprint(a) != cache.weights_fingerprint(b)
    # by hand, for the first tensor: name, shape, sum and the first values
    h = hashlib.sha256(b"")
    for k, v in a.state_dict().items():
        flat = v.detach().reshape(-1).float()
        h.update(f"{k}{tuple(v.shape)}{float(flat.double().sum()):.6e}".encode())
        h.update(flat[:256].numpy().tobytes())
    assert cache.weights_fingerprint(a) == h.hexdigest()[:16]
    m = cache.canonical(a)
    assert m == ["Sequential", "", cache.weights_fingerprint(a)]


def test_key_changes_with_every_input_and_only_with_them():
    base = dict(v=1, lam=[1.0, 0.5], steps=60, fn="def f(): pass")
    k = cache.cache_key(**base)
    assert len(k) == 20 and k == cache.cache_key(**dict(reversed(list(base.items()))))  # order does not matter
    assert cache.cache_key(**{**base, "lam": [1.0, 0.50000001]}) == k  # last bits of a float do not
    for change in (dict(v=2), dict(lam=[1.0, 0.51]), dict(steps=61), dict(fn="def f(): return 1"), dict(extra=None)):
        assert cache.cache_key(**{**base, **change}) != k, change
    spec = {**base, "torch": torch.__version__.split("+")[0]}
    assert k == hashlib.sha256(json.dumps(cache.canonical(spec), sort_keys=True).encode()).hexdigest()[:20]


def test_load_or_compute_saves_once_and_loads(tmp_path):
    calls = []
    path = tmp_path / "sub" / "r.pt"

    def compute():
        calls.append(1)
        return {"x": torch.arange(3.0)}

    first = cache.load_or_compute(path, compute)
    again = cache.load_or_compute(path, compute)
    assert len(calls) == 1 and torch.equal(first["x"], again["x"]) and path.exists()
    assert sorted(p.name for p in path.parent.iterdir()) == ["r.pt"]  # the temporary file is gone
    assert torch.equal(cache.load_or_compute(None, compute)["x"], torch.arange(3.0))
    assert len(calls) == 2  # no path: always computed
    path.write_bytes(b"not a torch file")
    fixed = cache.load_or_compute(path, compute)
    assert len(calls) == 3 and torch.equal(fixed["x"], torch.arange(3.0))
    assert torch.equal(torch.load(path, weights_only=True)["x"], torch.arange(3.0))  # overwritten


def test_load_or_compute_encodes_and_decodes(tmp_path):
    path = tmp_path / "e.pt"
    out = cache.load_or_compute(path, lambda: [1, 2], encode=lambda r: {"items": r}, decode=lambda d: d["items"])
    assert out == [1, 2] and torch.load(path, weights_only=True) == {"items": [1, 2]}
    assert cache.load_or_compute(path, lambda: pytest.fail("must load"), decode=lambda d: tuple(d["items"])) == (1, 2)
    assert cache.load_or_compute(path, lambda: pytest.fail("must load")) == {"items": [1, 2]}  # no decode: raw


def test_load_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pt"

    import datetime

    torch.save({"x": datetime.date(2020, 1, 1)}, path)  # weights_only=True cannot load it: recomputed, overwritten
    assert cache.load_or_compute(path, lambda: {"x": 1}) == {"x": 1}
    assert torch.load(path, weights_only=True) == {"x": 1}


def test_atomic_write_text(tmp_path, monkeypatch):
    p = cache.atomic_write_text(tmp_path / "a.json", "{}")
    assert p == tmp_path / "a.json" and p.read_text() == "{}" and sorted(os.listdir(tmp_path)) == ["a.json"]
    seen = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: seen.append((Path(a).name, Path(b).name)) or real(a, b))
    cache.atomic_write_text(str(tmp_path / "a.json"), "[1]")
    assert seen == [(f"a.json.tmp{os.getpid()}", "a.json")] and (tmp_path / "a.json").read_text() == "[1]"


def test_a_backbone_is_keyed_by_its_fingerprint_not_its_path():
    import percepkit as pk

    bb = pk.load_backbone("vgg19-random", verbose=False)
    assert cache.canonical(bb) == ["Backbone", bb.fingerprint()] and bb.fingerprint() == cache.weights_fingerprint(bb, bb.name)
    moved = pk.load_backbone("vgg19-random", verbose=False)
    moved.source = "/elsewhere/vgg19.pth"
    assert cache.cache_key(b=moved) == cache.cache_key(b=bb)
