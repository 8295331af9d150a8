"""percepkit.training: the tiny denoiser, seeded crops, held-out evaluation and the disk cache."""

import pytest
import torch

import percepkit as pk
from percepkit import training


def test_the_denoiser_starts_as_the_identity_and_clamps():
    m = training.TinyDenoiser(24, 5)
    x = torch.rand(2, 3, 16, 16)
    assert torch.equal(m(x), x)
    assert sum(p.numel() for p in m.parameters()) < 30_000
    with pytest.raises(ValueError, match="layers"):
        training.TinyDenoiser(8, 1)


def test_crops_are_seeded_and_held_out_pictures_refused():
    imgs = [pk.sample_image("astronaut", 64), pk.sample_image("rocket", 64)]
    a = training.random_crops(imgs, 4, 16, seed=3)
    assert a.shape == (4, 3, 16, 16)
    assert torch.equal(a, training.random_crops(imgs, 4, 16, seed=3))
    assert not torch.equal(a, training.random_crops(imgs, 4, 16, seed=4))
    with pytest.raises(ValueError, match="held out"):
        training.training_images(("astronaut", "chelsea"))
    with pytest.raises(ValueError, match="at least"):
        training.random_crops(imgs, 1, 128, seed=0)


def test_evaluate_scores_the_identity_on_noise():
    clean = pk.sample_image("chelsea", 48)
    noisy = pk.add_noise(clean, 0.1, seed=0)
    s = training.evaluate(torch.nn.Identity(), clean, noisy)
    assert s["psnr"] == pytest.approx(pk.psnr(noisy, clean))
    assert s["sharpness"] > 1 and s["invented"] > 1 and torch.equal(s["output"], noisy)


def test_cached_runs_once_per_setting(tmp_path):
    calls = []

    def work(n, scale=1.0):
        calls.append(n)
        return {"x": torch.full((n,), scale)}

    a = training.cached(work, cache_dir=tmp_path, key={"knob": 1}, n=3)
    b = training.cached(work, cache_dir=tmp_path, key={"knob": 1}, n=3)
    assert torch.equal(a["x"], b["x"]) and calls == [3]
    training.cached(work, cache_dir=tmp_path, key={"knob": 2}, n=3)  # another knob: computed again
    training.cached(work, cache_dir=tmp_path, key={"knob": 1}, n=3, scale=2.0)
    assert calls == [3, 3, 3]
    training.cached(work, cache_dir=False, n=1)
    assert calls[-1] == 1 and len(list(tmp_path.glob("train-work-*.pt"))) == 3
