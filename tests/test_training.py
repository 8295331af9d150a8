"""percepkit.training: the tiny denoiser, seeded crops, held-out evaluation and the disk cache."""

import pytest
import torch

import percepkit as pk
from percepkit import cache, training


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


@pytest.mark.parametrize("upsampler", ["pixelshuffle", "resize"])
def test_the_untrained_upsampler_is_close_to_bicubic_and_paints_no_lattice(upsampler):
    torch.manual_seed(0)
    truth = pk.sample_image("chelsea", 128)
    low = torch.nn.functional.avg_pool2d(truth, 4)
    model = training.TinyUpsampler(4, upsampler)
    with torch.no_grad():
        out = model(low)
    bicubic = torch.nn.functional.interpolate(low, scale_factor=4, mode="bicubic", align_corners=False).clamp(0, 1)
    assert out.shape == truth.shape
    assert abs(pk.psnr(out, truth) - pk.psnr(bicubic, truth)) < 1.0
    assert pk.lattice_amplitude(out) < pk.lattice_amplitude(bicubic) + 0.3
    assert float(out.min()) >= 0 and float(out.max()) <= 1


def test_icnr_starts_every_pixelshuffle_phase_with_the_same_filter():
    model = training.TinyUpsampler(3, "pixelshuffle", channels=8, layers=2)
    w = model.up[0].weight  # (3·9, 8, 3, 3); PixelShuffle reads channel c·9 + k as phase k of colour c
    for c in range(3):
        phases = w[c * 9:(c + 1) * 9]
        assert torch.equal(phases, phases[:1].expand_as(phases))
    assert not torch.equal(w[0], w[9])  # colours differ
    # a constant feature map therefore gives a constant high-resolution residual: no lattice
    body_out = torch.rand(1, 8, 1, 1).expand(1, 8, 6, 6)
    res = model.up(body_out)[..., 3:-3, 3:-3]  # away from the zero padding
    assert torch.allclose(res, res[..., :1, :1].expand_as(res), atol=1e-6)


def test_models_are_seeded_without_touching_the_global_random_state():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = training.TinyUpsampler(2, seed=5), training.TinyUpsampler(2, seed=5)
    assert torch.rand(1) == before  # global stream untouched
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    c = training.TinyUpsampler(2, seed=6)
    assert not torch.equal(a.body[0].weight, c.body[0].weight)
    d1, d2 = training.TinyDenoiser(8, 3, seed=1), training.TinyDenoiser(8, 3, seed=1)
    assert torch.equal(d1.body[0].weight, d2.body[0].weight)


def test_cache_key_tells_losses_apart_by_their_settings():
    bb = pk.load_backbone("vgg19-random", verbose=False)
    a, b = pk.PerceptualLoss(bb, layers=["relu1_2"]), pk.PerceptualLoss(bb, layers=["relu2_2"])
    assert cache.canonical(a) != cache.canonical(b)  # same weights, other layers
    assert cache.canonical(a) == cache.canonical(pk.PerceptualLoss(bb, layers=["relu1_2"]))
    moved = pk.load_backbone("vgg19-random", verbose=False)
    moved.source = "/another/venv/weights.pt"  # the same weights installed elsewhere: the same key
    assert cache.canonical(pk.PerceptualLoss(moved, layers=["relu1_2"])) == cache.canonical(a)
    assert "/another" not in str(cache.canonical(pk.PerceptualLoss(moved, layers=["relu1_2"])))


def test_upsampler_bad_arguments():
    with pytest.raises(ValueError, match="pixelshuffle"):
        training.TinyUpsampler(4, "deconv")
    with pytest.raises(ValueError, match="factor >= 2"):
        training.TinyUpsampler(1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        training.TinyUpsampler(2)(torch.full((1, 3, 8, 8), 200.0))


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


class FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, fig):
        self.shown.append(fig)


def test_live_loss_redraws_every_n_steps_through_one_handle():
    shown = []

    def display(fig):
        shown.append(fig)
        return FakeHandle(shown)

    curve = training.LiveLoss("test", every=10, display=display)
    for i in range(35):
        curve.add(1.0 / (i + 1))
    assert curve.redraws == 3 and len(shown) == 3  # steps 10, 20, 30
    ax = shown[-1].axes[0]
    assert ax.get_yscale() == "log" and ax.get_title() == "test"
    assert len(ax.lines[0].get_xdata()) == 30 and len(ax.lines[1].get_xdata()) == 21  # running mean of 10
    curve.close()  # the live figure gives way to a one-line summary
    summary = repr(shown[-1])
    assert len(shown) == 4 and "35 steps" in summary
    first, last = sum(1 / (i + 1) for i in range(10)) / 10, sum(1 / (i + 1) for i in range(25, 35)) / 10
    assert f"first 10 steps {first:.4g}" in summary and f"last 10 steps {last:.4g}" in summary
    kept = training.LiveLoss("test", every=10, display=display)
    for _ in range(35):
        kept.add(1.0)
    kept.close(keep=True)  # or the final curve, the last 5 steps included
    assert kept.redraws == 4 and len(shown[-1].axes[0].lines[0].get_xdata()) == 35


def test_live_loss_outside_a_notebook_keeps_values_and_stops_on_nan():
    curve = training.LiveLoss(every=2)  # pytest: no kernel, nothing drawn
    curve.add(torch.tensor(0.5))
    curve.add(0.25)
    curve.close()
    assert curve.values == [0.5, 0.25] and curve.redraws == 0
    with pytest.raises(FloatingPointError, match="step 2"):
        curve.add(float("nan"))
    with pytest.raises(ValueError, match="every"):
        training.LiveLoss(every=0)


def test_cache_keys_floats_to_four_significant_digits():
    assert cache.canonical(0.1 + 0.2) == cache.canonical(0.3)  # last-bit noise: the same key
    assert cache.canonical(0.0005203544424) == cache.canonical(0.0005203545516)  # 1 vs 2 threads, measured
    assert cache.canonical(1.234e-4) != cache.canonical(1.235e-4)
    assert cache.canonical({"w": 2.0000000001}) == {"w": 2.0}


def test_plot_losses_draws_steps_and_their_running_mean_centred():
    import matplotlib.pyplot as plt

    fig = training.plot_losses(torch.linspace(1, 0.1, 30), "pretraining", every=10, ylabel="MSE")
    ax = fig.axes[0]
    steps, mean = ax.lines
    assert ax.get_title() == "pretraining" and ax.get_ylabel() == "MSE" and ax.get_yscale() == "log"
    assert list(mean.get_xdata()) == [i + 4.5 for i in range(21)]  # the mean of steps 0-9 is drawn at step 4.5
    assert float(mean.get_ydata()[0]) == pytest.approx(float(torch.linspace(1, 0.1, 30)[:10].mean()))
    plt.close(fig)
    few = training.plot_losses([0.0, 1.0], every=10)  # fewer steps than the mean needs; a zero: linear scale
    assert len(few.axes[0].lines) == 1 and few.axes[0].get_yscale() == "linear"
    plt.close(few)
