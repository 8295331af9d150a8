"""percepkit.training: seeded crops, held-out evaluation, the cost of a step and the disk cache."""

import pytest
import torch

import percepkit as pk
from percepkit import cache, training


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


def test_cached_keys_a_function_setting_by_its_code_not_its_address(tmp_path):
    calls = []

    def work(degrade):
        calls.append(1)
        return {"x": degrade(torch.ones(2))}

    def halve(x):
        return x / 2

    def halve_again(x):  # another function object with the same body would still differ by name
        return x / 2

    training.cached(work, cache_dir=tmp_path, degrade=halve)
    training.cached(work, cache_dir=tmp_path, degrade=halve)  # same code: from the disk
    assert calls == [1]
    training.cached(work, cache_dir=tmp_path, degrade=halve_again)
    assert calls == [1, 1]
    assert cache.canonical(halve) == cache.canonical(halve) != cache.canonical(halve_again)
    assert "x / 2" in cache.canonical(halve)


def test_cache_key_tells_losses_apart_by_their_settings():
    bb = pk.load_backbone("vgg19-random", verbose=False)
    a, b = pk.PerceptualLoss(bb, layers=["relu1_2"]), pk.PerceptualLoss(bb, layers=["relu2_2"])
    assert cache.canonical(a) != cache.canonical(b)  # same weights, other layers
    assert cache.canonical(a) == cache.canonical(pk.PerceptualLoss(bb, layers=["relu1_2"]))
    moved = pk.load_backbone("vgg19-random", verbose=False)
    moved.source = "/another/venv/weights.pt"  # the same weights installed elsewhere: the same key
    assert cache.canonical(pk.PerceptualLoss(moved, layers=["relu1_2"])) == cache.canonical(a)
    assert "/another" not in str(cache.canonical(pk.PerceptualLoss(moved, layers=["relu1_2"])))


def test_step_cost_counts_saved_activations_exactly():
    torch.manual_seed(0)
    lin = torch.nn.Linear(100, 50)
    x = torch.randn(20, 100)
    # Linear saves its input (20×100 floats); ReLU saves its output (20×50); sum saves nothing
    cost = training.step_cost(lambda: torch.relu(lin(x)).sum(), repeats=3)
    assert cost.saved_mb == pytest.approx((20 * 100 + 20 * 50) * 4 / 2**20)
    assert cost.cpu_s >= 0
    no_grad_x = training.step_cost(lambda: lin(x).sum()).saved_mb
    assert no_grad_x == pytest.approx(20 * 100 * 4 / 2**20)
    threads = torch.get_num_threads()
    training.step_cost(lambda: lin(x).sum(), threads=1)
    assert torch.get_num_threads() == threads  # restored


def test_step_cost_refuses_what_is_not_a_loss():
    with pytest.raises(TypeError, match="function"):
        training.step_cost(torch.ones(1))
    with pytest.raises(ValueError, match="requires grad"):
        training.step_cost(lambda: torch.ones(()))
    with pytest.raises(ValueError, match="repeats"):
        training.step_cost(lambda: torch.ones((), requires_grad=True), repeats=0)


def test_cache_keys_floats_to_four_significant_digits():
    assert cache.canonical(0.1 + 0.2) == cache.canonical(0.3)  # last-bit noise: the same key
    assert cache.canonical(0.0005203544424) == cache.canonical(0.0005203545516)  # 1 vs 2 threads, measured
    assert cache.canonical(1.234e-4) != cache.canonical(1.235e-4)
    assert cache.canonical({"w": 2.0000000001}) == {"w": 2.0}


