"""training.py against oracles: the networks' forward passes written out with torch.nn.functional after
their weights are made non-trivial (a model that changes its input), crops found back in their source
pictures, held-out scores image by image on a batch of 2, bytes of float64/bf16 saved tensors, and cache
keys tested for what must change them (same name, other weights)."""

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import percepkit as pk
from oracles import tiny_backbone
from percepkit import cache, training


def perturbed(model, seed=0, scale=0.05):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g))
    return model


def test_denoiser_forward_written_out_when_it_changes_its_input():
    m = perturbed(training.TinyDenoiser(6, 4, seed=1))
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
    m = perturbed(training.TinyUpsampler(3, upsampler, channels=5, layers=2, seed=4), scale=0.1)
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


def find_crop(crop, images):
    """(image index, y, x, flipped) where ``crop`` sits in one of ``images``, by exhaustive search."""
    s = crop.shape[-1]
    hits = []
    for k, img in enumerate(images):
        h, w = img.shape[-2:]
        for flipped in (False, True):
            c = crop.flip(-1) if flipped else crop
            for y in range(h - s + 1):
                for x in range(w - s + 1):
                    if torch.equal(img[0, :, y:y + s, x:x + s], c):
                        hits.append((k, y, x, flipped))
    return hits


def test_random_crops_are_windows_of_the_pictures_some_flipped():
    imgs = [pk.sample_image("astronaut", (20, 28)), pk.sample_image("rocket", (24, 18))]
    crops = training.random_crops(imgs, 16, 8, seed=5)
    assert crops.shape == (16, 3, 8, 8)
    found = [find_crop(c, imgs) for c in crops]
    assert all(len(f) == 1 for f in found)
    sources = {f[0][0] for f in found}
    flips = {f[0][3] for f in found}
    corners = {f[0][1:3] for f in found}
    assert sources == {0, 1} and flips == {False, True} and len(corners) > 8
    with pytest.raises(ValueError, match="at least 19 px; got 24x18"):
        training.random_crops([imgs[1]], 1, 19, seed=0)


def test_training_images_and_held_out_names():
    assert set(training.HELD_OUT) & set(training.TRAIN_IMAGES) == set()
    imgs = training.training_images(("rocket", "brick"), size=24)
    assert [tuple(i.shape) for i in imgs] == [(1, 3, 24, 24)] * 2
    assert torch.equal(imgs[0], pk.sample_image("rocket", 24))
    for leak in (("cat",), ("brick", "coffee")):
        with pytest.raises(ValueError, match="held out"):
            training.training_images(leak)


class Shrink(nn.Module):
    """A model that changes its input and behaves differently in train mode (it must be evaluated in eval mode)."""

    def forward(self, x):
        return 0.5 + (0.8 if not self.training else 0.1) * (pk.blur(x, 1.0) - 0.5)


def test_evaluate_scores_each_image_of_a_batch_and_restores_the_mode():
    clean = torch.cat([pk.sample_image("chelsea", (32, 40)), pk.sample_image("coffee", (32, 40))])
    degraded = pk.add_noise(clean, 0.05, seed=1)
    model = Shrink().train()
    s = training.evaluate(model, clean, degraded)
    assert model.training  # put back as it was
    out = (0.5 + 0.8 * (pk.blur(degraded, 1.0) - 0.5)).clamp(0, 1)
    assert torch.allclose(s["output"], out, atol=1e-6)
    per = [pk.psnr(out[i:i + 1], clean[i:i + 1]) for i in range(2)]
    assert s["psnr"] == pytest.approx(np.mean(per), rel=1e-6)
    sh = [pk.sharpness(out[i:i + 1]) / pk.sharpness(clean[i:i + 1]) for i in range(2)]
    assert s["sharpness"] == pytest.approx(np.mean(sh), rel=1e-6)
    splits = [pk.detail_split(out[i:i + 1], clean[i:i + 1]) for i in range(2)]
    assert s["recovered"] == pytest.approx(np.mean([d["recovered"] for d in splits]), rel=1e-9)
    assert s["invented"] == pytest.approx(np.mean([d["invented"] for d in splits]), rel=1e-9)
    assert abs(splits[0]["recovered"] - splits[1]["recovered"]) > 1e-3  # the two images differ: a first-image-only mean shows
    model.eval()
    training.evaluate(model, clean, degraded)
    assert not model.training


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_step_cost_counts_bytes_of_the_dtype_saved(dtype):
    lin = nn.Linear(30, 10).to(dtype)
    x = torch.randn(7, 30).to(dtype)
    cost = training.step_cost(lambda: lin(x).float().sum(), repeats=2)
    size = torch.tensor([], dtype=dtype).element_size()
    assert cost.saved_mb == pytest.approx(7 * 30 * size / 2**20)


def test_step_cost_reports_the_median_of_its_repeats(monkeypatch):
    ticks = iter([0.0, 5.0, 10.0, 11.0, 20.0, 23.0, 30.0, 39.0, 40.0, 47.0])  # 5, 1, 3, 9, 7 CPU-seconds → median 5
    monkeypatch.setattr(training.time, "process_time", lambda: next(ticks))
    w = torch.ones(2, requires_grad=True)
    assert training.step_cost(lambda: (w * 2).sum(), repeats=5, threads=None).cpu_s == 5.0


def test_cached_key_changes_with_the_weights_of_a_same_named_module_or_backbone(tmp_path):
    calls = []

    def work(model, x):
        calls.append(1)
        with torch.no_grad():
            return {"y": model(x)}

    x = torch.rand(1, 3, 8, 8)
    a, b = training.TinyDenoiser(4, 2, seed=0), training.TinyDenoiser(4, 2, seed=0)
    training.cached(work, cache_dir=tmp_path, model=a, x=x)
    training.cached(work, cache_dir=tmp_path, model=b, x=x)  # same class, settings and weights: from disk
    assert len(calls) == 1
    perturbed(b)  # same name and settings, other weights
    r = training.cached(work, cache_dir=tmp_path, model=b, x=x)
    assert len(calls) == 2 and torch.allclose(r["y"], b(x))
    training.cached(work, cache_dir=tmp_path, model=a, x=x + 0.01)  # a tensor setting by its values
    assert len(calls) == 3
    b0, b1 = tiny_backbone(seed=0), tiny_backbone(seed=1)
    assert b0.name == b1.name
    training.cached(work, backbone=b0, cache_dir=tmp_path, model=a, x=x)
    training.cached(work, backbone=b0, cache_dir=tmp_path, model=a, x=x)
    assert len(calls) == 4
    training.cached(work, backbone=b1, cache_dir=tmp_path, model=a, x=x)  # same backbone name, other weights
    assert len(calls) == 5


def test_cached_recomputes_over_a_corrupt_file_and_uses_the_default_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PERCEPKIT_CACHE_DIR", str(tmp_path))
    calls = []

    def work(n):
        calls.append(n)
        return {"x": torch.arange(n)}

    training.cached(work, n=2)
    (path,) = tmp_path.glob("train-work-*.pt")
    path.write_bytes(b"not a torch file")
    assert torch.equal(training.cached(work, n=2)["x"], torch.arange(2)) and calls == [2, 2]
    assert torch.equal(training.cached(work, n=2)["x"], torch.arange(2)) and calls == [2, 2]  # rewritten, loads now
    assert not list(tmp_path.glob("*.tmp*"))


def test_messages_whole_and_the_networks_sizes():
    cases = [
        (lambda: training.TinyDenoiser(0, 3), ValueError,
         r"^expected channels >= 1 and layers >= 2 \(ints\); got 0, 3$"),
        (lambda: training.TinyDenoiser(4, 2.0), ValueError, r"^expected channels >= 1 and layers >= 2 \(ints\); got 4, 2\.0$"),
        (lambda: training.TinyUpsampler(2, "deconv"), ValueError,
         r"^expected upsampler 'pixelshuffle' or 'resize'; got 'deconv'$"),
        (lambda: training.TinyUpsampler(2, channels=0), ValueError,
         r"^expected ints factor >= 2, channels >= 1, layers >= 1; got 2, 0, 3$"),
        (lambda: training.TinyUpsampler(2, layers=0), ValueError, r"got 2, 32, 0$"),
        (lambda: training.TinyUpsampler(2.0), ValueError, r"got 2\.0, 32, 3$"),
        (lambda: training.step_cost(3), TypeError, r"^expected a function that returns a loss; got int$"),
        (lambda: training.step_cost(lambda: None, repeats=1.0), ValueError, r"^expected repeats as an int >= 1; got 1\.0$"),
        (lambda: training.step_cost(lambda: torch.ones(2, requires_grad=True)), ValueError,
         r"^loss_fn must return a scalar tensor that requires grad \(a loss to call \.backward\(\) on\)$"),
        (lambda: training.LiveLoss(every=1.5), ValueError,
         r"^expected every as an int >= 1 \(steps between redraws\); got 1\.5$"),
        (lambda: training.training_images(("coffee", "cat")), ValueError,
         r"^\['coffee', 'cat'\] are held out for testing \(cat is chelsea\); train on others$"),
        (lambda: training.random_crops([torch.rand(1, 3, 10, 30)], 1, 12, seed=0), ValueError,
         r"^expected images of at least 12 px; got 10x30$"),
    ]
    for make, exc, message in cases:
        with pytest.raises(exc, match=message):
            make()
    curve = training.LiveLoss(every=3)
    curve.add(1.0)
    with pytest.raises(FloatingPointError, match=r"^the loss is NaN at step 1: lower the learning rate or a weight$"):
        curve.add(float("nan"))
    # defaults: 24 channels and 6 convs; ×4, pixelshuffle, 32 channels, 3 convs
    d = training.TinyDenoiser()
    convs = [m for m in d.body if isinstance(m, nn.Conv2d)]
    assert len(convs) == 6 and convs[0].out_channels == 24 and all(c.padding == (1, 1) for c in convs)
    assert [type(m).__name__ for m in d.body][:2] == ["Conv2d", "ReLU"]
    u = training.TinyUpsampler()
    assert (u.factor, u.upsampler) == (4, "pixelshuffle") and len([m for m in u.body if isinstance(m, nn.Conv2d)]) == 3
    assert u.up[0].out_channels == 3 * 16 and u.body[0].out_channels == 32 and u.up[1].upscale_factor == 4
    assert torch.equal(u.up[0].bias, torch.zeros(48))
    r = training.TinyUpsampler(2, "resize", seed=3)
    ref = nn.Conv2d(32, 3, 3, padding=1)
    assert r.up[0].scale_factor == 2 and r.up[0].mode == "nearest" and torch.equal(r.up[1].bias, torch.zeros(3))
    assert float(r.up[1].weight.detach().abs().max()) <= 0.1 * 1 / (32 * 9) ** 0.5 + 1e-7  # the default init, ×0.1
    assert float(r.up[1].weight.detach().abs().max()) > 0.05 * 1 / (32 * 9) ** 0.5
    assert ref.weight.shape == r.up[1].weight.shape
    w = u.up[0].weight
    assert 0.05 < float(w.detach().std()) / (2 / (32 * 9)) ** 0.5 < 0.2  # ICNR from kaiming normal, ×0.1
    state = torch.random.get_rng_state()
    training.TinyDenoiser(seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_live_loss_keep_redraws_only_what_is_not_drawn_yet():
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj)

    def display(obj):
        shown.append(obj)
        return Handle()

    curve = training.LiveLoss("t", every=5, display=display)
    for _ in range(10):
        curve.add(0.5)
    n = len(shown)
    curve.close(keep=True)  # 10 steps, drawn at 10 already: nothing new
    assert len(shown) == n and curve.redraws == 2
    quiet = training.LiveLoss("q", every=5, display=display)
    quiet.close()  # never drawn: nothing to replace
    assert len(shown) == n
    short = training.LiveLoss("s", every=4, display=display)
    for v in (4.0, 2.0, 1.0, 3.0, 5.0):
        short.add(v)
    short.close()
    assert repr(shown[-1]) == "s: 5 steps; mean loss of the first 4 steps 2.5, of the last 4 steps 2.75"
    assert training._notebook_display() is None  # pytest: no kernel
    fig = short.figure()
    assert fig.axes[0].get_title() == "s" and len(fig.axes[0].lines[0].get_xdata()) == 5


def test_plot_losses_lines_and_labels():
    import matplotlib.pyplot as plt

    fig = training.plot_losses([3.0, 2.0, 1.0, 0.5], "x", every=2)
    ax = fig.axes[0]
    steps, mean = ax.lines
    assert steps.get_label() == "per step" and mean.get_label() == "mean of 2 steps"
    assert steps.get_linewidth() == pytest.approx(0.6) and steps.get_alpha() == pytest.approx(0.5)
    assert mean.get_linewidth() == 2
    assert list(mean.get_xdata()) == [0.5, 1.5, 2.5] and list(mean.get_ydata()) == [2.5, 1.5, 0.75]
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "loss" and tuple(fig.get_size_inches()) == (7, 2.8)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["per step", "mean of 2 steps"]
    plt.close(fig)
    neg = training.plot_losses([1.0, -1.0, 2.0], every=2)
    assert neg.axes[0].get_yscale() == "linear"
    plt.close(neg)
    empty = training.plot_losses([], every=2)
    assert empty.axes[0].get_yscale() == "linear" and len(empty.axes[0].lines) == 1
    plt.close(empty)


def test_cache_file_name_and_key_inputs(tmp_path):
    def work(n):
        return {"x": torch.zeros(n)}

    training.cached(work, cache_dir=tmp_path, n=1)
    (f,) = tmp_path.iterdir()
    assert f.name.startswith("train-work-") and f.suffix == ".pt" and len(f.stem) == len("train-work-") + 20
    training.cached(lambda n: {"x": torch.zeros(n)}, cache_dir=tmp_path, n=1)
    assert {p.name.split("-")[1] for p in tmp_path.iterdir()} == {"work", "<lambda>"}
    assert cache.canonical(torch.ones(2)) == cache.canonical(torch.ones(2, dtype=torch.float64))  # values, not dtype
    assert cache.canonical(torch.ones(2)) != cache.canonical(torch.ones(3))
    assert cache.canonical((1, "a", None, True)) == [1, "a", None, True]
    assert cache.canonical(nn.ReLU) == repr(nn.ReLU)  # a class is not a function
    assert cache.canonical({1: 2.00001}) == {"1": 2.0}
    assert cache.canonical(object)[:6] == "<class"
    m = training.TinyUpsampler(2, "resize", channels=4, layers=1)
    key = cache.canonical(m)
    assert key[:2] == ["TinyUpsampler", "factor=2, upsampler='resize'"] and len(key[2]) == 16
    assert cache.source_of(len) == "len"  # no source kept: its name


def test_defaults_and_smallest_settings():
    import inspect

    def defaults(fn):
        return {k: v.default for k, v in inspect.signature(fn).parameters.items() if v.default is not inspect.Parameter.empty}

    assert defaults(training.step_cost) == {"repeats": 3, "threads": 1}
    assert defaults(training.training_images) == {"names": training.TRAIN_IMAGES, "size": 192}
    assert all(torch.equal(a, b) for a, b in zip(training.TinyDenoiser().state_dict().values(),
                                                 training.TinyDenoiser(24, 6, seed=0).state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(training.TinyUpsampler().state_dict().values(),
                                                 training.TinyUpsampler(4, "pixelshuffle", 32, 3, seed=0).state_dict().values()))
    assert training.TinyDenoiser(1, 2).body[0].out_channels == 1  # the smallest network allowed
    assert training.TinyUpsampler(2, channels=1, layers=1).body[0].out_channels == 1
    w = torch.ones(2, requires_grad=True)
    assert training.step_cost(lambda: (w * 2).sum(), repeats=1).saved_mb >= 0  # one timed step is enough
    with pytest.raises(ValueError, match=r"^expected low-resolution input in \[0, 1\]"):
        training.TinyUpsampler(2)(torch.full((1, 3, 4, 4), 2.0))


def test_random_crops_seeded_edges_and_the_global_stream():
    imgs = [torch.rand(1, 3, 10, 12, generator=torch.Generator().manual_seed(k)) for k in range(3)]
    state = torch.random.get_rng_state()
    a = training.random_crops(imgs, 40, 8, seed=2)
    assert torch.equal(torch.random.get_rng_state(), state)  # a local generator only
    assert torch.equal(a, training.random_crops(imgs, 40, 8, seed=2))
    found = [find_crop(c, imgs)[0] for c in a]
    assert {f[0] for f in found} == {0, 1, 2}
    assert max(f[1] for f in found) == 10 - 8 and max(f[2] for f in found) == 12 - 8  # the last rows and columns reachable
    assert min(f[1] for f in found) == 0 and min(f[2] for f in found) == 0
    assert training.random_crops(imgs, 2, 10, seed=0).shape == (2, 3, 10, 10)  # as large as the smaller side


def test_the_cache_key_written_out(tmp_path):
    import functools
    import hashlib
    import inspect
    import json

    def work(n, scale=1.0):
        return {"x": torch.full((n,), scale)}

    training.cached(work, cache_dir=tmp_path, key={"k": [1, 2]}, n=2, scale=0.123456)
    spec = {"v": 2, "fn": inspect.getsource(work), "settings": {"n": 2, "scale": 0.1235}, "key": {"k": [1, 2]},
            "backbone": None, "torch": torch.__version__.split("+")[0]}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]
    assert [p.name for p in tmp_path.iterdir()] == [f"train-work-{digest}.pt"]
    bb = tiny_backbone(seed=0)
    training.cached(work, backbone=bb, cache_dir=tmp_path / "b", n=1)
    spec = dict(spec, settings={"n": 1}, key=None, backbone=[type(bb).__name__, bb.fingerprint()])
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]
    assert [p.name for p in (tmp_path / "b").iterdir()] == [f"train-work-{digest}.pt"]
    part = functools.partial(work, scale=2.0)  # no __name__, no source: named "fn", keyed by its repr
    assert cache.source_of(part) == repr(part)
    training.cached(part, cache_dir=tmp_path / "p", n=1)
    assert [p.name[:9] for p in (tmp_path / "p").iterdir()] == ["train-fn-"]


def test_training_images_default_size_is_192():
    imgs = training.training_images(("rocket", "brick"))
    assert [tuple(i.shape) for i in imgs] == [(1, 3, 192, 192)] * 2
    assert torch.equal(imgs[1], pk.sample_image("brick", 192))


def test_step_cost_defaults_one_thread_and_three_timed_steps_after_a_warm_up():
    before = torch.get_num_threads()
    seen = []
    w = torch.ones(3, requires_grad=True)

    def loss_fn():
        seen.append(torch.get_num_threads())
        return (w * 2).sum()

    training.step_cost(loss_fn)
    assert seen == [1] * 4  # the warm-up and 3 timed steps, all on one thread
    assert torch.get_num_threads() == before  # restored


def test_cached_creates_a_nested_cache_folder(tmp_path):
    folder = tmp_path / "not" / "yet" / "there"

    def work(n):
        return {"x": torch.arange(n)}

    r = training.cached(work, cache_dir=folder, n=3)
    assert torch.equal(r["x"], torch.arange(3))
    files = list(folder.glob("train-work-*.pt"))
    assert len(files) == 1 and torch.equal(torch.load(files[0], weights_only=True)["x"], torch.arange(3))
