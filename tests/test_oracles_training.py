"""training.py against oracles: crops found back in their source pictures, held-out scores image by image
on a batch of 2, bytes of float64/bf16 saved tensors, and cache keys tested for what must change them (same
name, other weights)."""

import numpy as np
import pytest
import torch
import torch.nn as nn
from test_tinynets import perturbed

import percepkit as pk
from oracles import tiny_backbone
from percepkit import cache, tinynets, training


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
    a, b = tinynets.TinyDenoiser(4, 2, seed=0), tinynets.TinyDenoiser(4, 2, seed=0)
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


def test_messages_whole():
    cases = [
        (lambda: training.step_cost(3), TypeError, r"^expected a function that returns a loss; got int$"),
        (lambda: training.step_cost(lambda: None, repeats=1.0), ValueError, r"^expected repeats as an int >= 1; got 1\.0$"),
        (lambda: training.step_cost(lambda: torch.ones(2, requires_grad=True)), ValueError,
         r"^loss_fn must return a scalar tensor that requires grad \(a loss to call \.backward\(\) on\)$"),
        (lambda: training.training_images(("coffee", "cat")), ValueError,
         r"^\['coffee', 'cat'\] are held out for testing \(cat is chelsea\); train on others$"),
        (lambda: training.random_crops([torch.rand(1, 3, 10, 30)], 1, 12, seed=0), ValueError,
         r"^expected images of at least 12 px; got 10x30$"),
    ]
    for make, exc, message in cases:
        with pytest.raises(exc, match=message):
            make()


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
    m = tinynets.TinyUpsampler(2, "resize", channels=4, layers=1)
    key = cache.canonical(m)
    assert key[:2] == ["TinyUpsampler", "factor=2, upsampler='resize'"] and len(key[2]) == 16
    assert cache.source_of(len) == "len"  # no source kept: its name


def test_defaults_and_smallest_settings():
    import inspect

    def defaults(fn):
        return {k: v.default for k, v in inspect.signature(fn).parameters.items() if v.default is not inspect.Parameter.empty}

    assert defaults(training.step_cost) == {"repeats": 3, "threads": 1}
    assert defaults(training.training_images) == {"names": training.TRAIN_IMAGES, "size": 192}
    w = torch.ones(2, requires_grad=True)
    assert training.step_cost(lambda: (w * 2).sum(), repeats=1).saved_mb >= 0  # one timed step is enough


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
