"""optimize_image against reference optimisers written out: Adam by hand (with the projection onto
[0, 1]), torch's L-BFGS configured as documented; callback, history, seeds and every error."""

import math
import re

import pytest
import torch

# torch.optim's first step imports torch._dynamo (~3 s): importing it here pays that once, at collection,
# not in every run of these tests that mutation testing forks off.
import torch._dynamo  # noqa: F401, I001

import percepkit as pk
from conftest import seeded

T = seeded(1, 3, 4, 6, seed=1).double()  # target, float64 so the comparisons are exact to ~1e-12
W = 1 + seeded(1, 3, 4, 6, seed=2).double()  # per-pixel weights: a badly scaled quadratic


def quad(x):
    return (W * (x - T) ** 2).sum()


def adam_by_hand(f, x0, steps, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma & Ba) with bias correction, then the projection clamp(0, 1) after each step."""
    x, m, v, hist = x0.clone().clamp(0, 1), torch.zeros_like(x0), torch.zeros_like(x0), []
    for t in range(1, steps + 1):
        xr = x.clone().requires_grad_(True)
        loss = f(xr)
        (g,) = torch.autograd.grad(loss, xr)
        hist.append(float(loss.detach()))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = (x - lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)).clamp(0, 1)
    return x, hist


def test_adam_is_adam_with_projection_non_square():
    x0 = torch.full_like(T, 0.5)
    x0[0, 0, 0, :3] = 1.3  # outside [0, 1]: the start is clamped, the loss never sees it
    x0[0, 1, 1, :2] = -0.4
    out, hist = pk.optimize_image(quad, x0, steps=30, lr=0.1, progress=False)
    ref, ref_hist = adam_by_hand(quad, x0, 30, 0.1)
    assert torch.allclose(out, ref, atol=1e-9)
    assert hist["total"] == pytest.approx(ref_hist, rel=1e-9)
    assert list(hist) == ["total"] and hist["total"][0] == pytest.approx(float(quad(x0.clamp(0, 1))))
    assert not out.requires_grad and out.dtype == torch.float64 and x0[0, 0, 0, 0] == 1.3 and x0[0, 1, 1, 0] == -0.4
    far = torch.zeros_like(T) - 0.0  # pulled past 1 by a target outside: the projection holds it at 1
    out2, _ = pk.optimize_image(lambda x: ((x - 2) ** 2).sum(), far, steps=40, lr=0.1, progress=False)
    assert torch.equal(out2, torch.ones_like(far))
    default, _ = pk.optimize_image(quad, x0, steps=3, progress=False)
    assert torch.allclose(default, adam_by_hand(quad, x0, 3, 0.05)[0], atol=1e-9)  # default lr 0.05


def lbfgs_reference(f, x0, steps, lr):
    """torch's L-BFGS as the docstring configures it, minimising f(clamp(x, 0, 1))."""
    x = x0.clone().clamp(0, 1).requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=lr, max_iter=1, max_eval=26, history_size=20, line_search_fn="strong_wolfe",
                            tolerance_grad=0.0, tolerance_change=0.0)

    def closure():
        opt.zero_grad()
        loss = f(x.clamp(0, 1))
        loss.backward()
        return loss

    hist = []
    for _ in range(steps):
        hist.append(float(opt.step(closure).detach()))
    return x.detach().clamp(0, 1), hist


def rosen(x):
    """A Rosenbrock valley along the pixels (minimum inside (0, 1)): many L-BFGS steps, history matters."""
    v = x.flatten()
    return (10 * (v[1:] - v[:-1] ** 2) ** 2).sum() + ((0.7 - v) ** 2).sum()


def tiny_quad(x):
    """A loss scaled so small that its gradients sit below torch's default L-BFGS tolerances (1e-7, 1e-9)."""
    return 1e-10 * quad(x)


@pytest.mark.parametrize("f, steps, lr", [(rosen, 25, 1.0), (quad, 4, 1e4), (tiny_quad, 3, 1.0)])
def test_lbfgs_is_torch_lbfgs_with_strong_wolfe(f, steps, lr):
    x0 = torch.full_like(T, 0.2)
    out, hist = pk.optimize_image(f, x0, steps=steps, lr=lr, optimizer="lbfgs", progress=False)
    ref, ref_hist = lbfgs_reference(f, x0, steps, lr)
    assert torch.allclose(out, ref, atol=1e-9)
    assert hist["total"] == pytest.approx(ref_hist, rel=1e-9)
    assert all(b <= a for a, b in zip(hist["total"], hist["total"][1:]))  # a line search never goes up


def test_lbfgs_from_a_non_contiguous_start():
    x0 = torch.full((1, 3, 6, 4), 0.2, dtype=torch.float64).transpose(-1, -2)  # a transposed image: not contiguous
    assert not x0.is_contiguous()
    out, _ = pk.optimize_image(quad, x0, steps=3, lr=1, optimizer="lbfgs", progress=False)
    ref, _ = lbfgs_reference(quad, x0.contiguous(), 3, 1.0)
    assert torch.allclose(out, ref, atol=1e-9)


def test_lbfgs_sees_only_the_clamped_image():
    seen = []

    def f(x):
        seen.append((float(x.detach().min()), float(x.detach().max())))
        return ((x - 3) ** 2).sum()  # pulls every pixel past 1

    out, _ = pk.optimize_image(f, torch.full_like(T, 0.5), steps=3, lr=1, optimizer="lbfgs", progress=False)
    assert all(0 <= lo and hi <= 1 for lo, hi in seen) and torch.equal(out, torch.ones_like(T))


def test_callback_is_called_after_every_step_with_the_current_image():
    calls = []
    out, hist = pk.optimize_image(quad, torch.full_like(T, 0.5), steps=4, lr=0.1, progress=False,
                                  callback=lambda step, x: calls.append((step, x.clone(), x.requires_grad)))
    assert [c[0] for c in calls] == [0, 1, 2, 3] and not any(c[2] for c in calls)
    assert torch.equal(calls[-1][1], out)
    assert hist["total"][1] == pytest.approx(float(quad(calls[0][1])))  # the image after step 0 is the one step 1 starts from


class TwoTerms:
    """A loss with a ``terms`` dict, as CombinedLoss: a = Σ(x − T)², b = 3·Σ(x − 0.5)²."""

    def __call__(self, x):
        self.terms = {"a": ((x - T) ** 2).sum(), "b": 3 * ((x - 0.5) ** 2).sum()}
        return self.terms["a"] + self.terms["b"]


@pytest.mark.filterwarnings("error")  # terms are read without autograd (no "requires_grad to a scalar" warning)
def test_history_records_terms_and_layer_losses():
    x0 = torch.full_like(T, 0.2)
    _, hist = pk.optimize_image(TwoTerms(), x0, steps=3, lr=0.1, progress=False)
    assert list(hist) == ["total", "a", "b"] and all(len(v) == 3 for v in hist.values())
    assert hist["a"][0] == pytest.approx(float(((x0 - T) ** 2).sum())) and hist["b"][0] == pytest.approx(3 * 0.09 * T.numel())
    assert hist["total"] == pytest.approx([a + b for a, b in zip(hist["a"], hist["b"])])

    class Layers:
        def __call__(self, x):
            self.last_layer_losses = {"relu1": 0.5, "relu2": 2.5}  # plain floats, as PerceptualLoss keeps them
            return quad(x)

    _, hist = pk.optimize_image(Layers(), x0, steps=2, progress=False)
    assert hist["relu1"] == [0.5, 0.5] and hist["relu2"] == [2.5, 2.5]
    _, hist = pk.optimize_image(TwoTerms(), x0, steps=2, optimizer="lbfgs", lr=1, progress=False)
    assert hist["a"][0] == pytest.approx(float(((x0 - T) ** 2).sum()))  # the iterate, not a line-search trial


def test_term_grads_are_each_terms_gradient_norm_and_sum_to_the_step():
    x0 = torch.full_like(T, 0.2)
    out, hist = pk.optimize_image(TwoTerms(), x0, steps=5, lr=0.1, progress=False, term_grads=True)
    assert hist["grad_a"][0] == pytest.approx(float((2 * (x0 - T)).norm()), rel=1e-9)
    assert hist["grad_b"][0] == pytest.approx(float((6 * (x0 - 0.5)).norm()), rel=1e-9)
    assert list(hist) == ["total", "a", "b", "grad_a", "grad_b"] and len(hist["grad_a"]) == 5
    ref, _ = adam_by_hand(TwoTerms(), x0, 5, 0.1)
    assert torch.allclose(out, ref, atol=1e-9)
    for terms in ({}, [("a", 1.0)]):
        class Odd:
            def __call__(self, x, terms=terms):
                self.terms = terms
                return quad(x)

        with pytest.raises(TypeError, match=r"^term_grads=True needs a loss_fn with a non-empty \.terms dict "
                           r"\(as CombinedLoss\)$"):
            pk.optimize_image(Odd(), x0, steps=1, term_grads=True, progress=False)
    with pytest.raises(TypeError, match=r"^term_grads=True needs a loss_fn with a non-empty \.terms dict"):
        pk.optimize_image(quad, x0, steps=1, term_grads=True, progress=False)


class SharedTerms:
    """Two terms through one shared intermediate h = (x − T)², whose graph both gradients need."""

    def __call__(self, x):
        h = (x - T) ** 2
        self.terms = {"a": h.sum(), "b": 3 * (h * x).sum()}
        return self.terms["a"] + self.terms["b"]


def test_term_grads_keep_the_shared_graph_for_every_term():
    x0 = torch.full_like(T, 0.2)
    out, hist = pk.optimize_image(SharedTerms(), x0, steps=2, lr=0.1, progress=False, term_grads=True)
    assert hist["grad_a"][0] == pytest.approx(float((2 * (x0 - T)).norm()), rel=1e-9)
    assert torch.allclose(out, adam_by_hand(SharedTerms(), x0, 2, 0.1)[0], atol=1e-9)


def test_seed_is_used_and_the_callers_rng_is_restored():
    def noisy(x):
        return ((x - torch.rand(x.shape, dtype=x.dtype)) ** 2).sum()

    x0 = torch.full_like(T, 0.5)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a, ha = pk.optimize_image(noisy, x0, steps=3, seed=5, progress=False)
    assert torch.equal(torch.get_rng_state(), state)
    b, _ = pk.optimize_image(noisy, x0, steps=3, seed=5, progress=False)
    c, _ = pk.optimize_image(noisy, x0, steps=3, seed=6, progress=False)
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.manual_seed(5)
    assert ha["total"][0] == pytest.approx(float(((x0 - torch.rand(x0.shape, dtype=x0.dtype)) ** 2).sum()))
    d, _ = pk.optimize_image(noisy, x0, steps=3, progress=False)
    e, _ = pk.optimize_image(noisy, x0, steps=3, seed=0, progress=False)
    assert torch.equal(d, e)


def test_progress_bar_shows_label_and_loss(capsys):
    _, hist = pk.optimize_image(quad, torch.full_like(T, 0.5), steps=12, lr=0.1, desc="inverting")
    err = capsys.readouterr().err
    assert "inverting" in err and f"loss={hist['total'][0]:.4g}" in err and f"loss={hist['total'][10]:.4g}" in err
    assert f"loss={hist['total'][1]:.4g}" not in err  # every 10th step only
    assert err.endswith("\r")  # and the bar is cleared when done (leave=False), not left on screen
    pk.optimize_image(quad, torch.full_like(T, 0.5), steps=2, progress=False)
    assert capsys.readouterr().err == ""
    pk.optimize_image(quad, torch.full_like(T, 0.5), steps=2)
    assert re.search(r"(^|\r)optimising: ", capsys.readouterr().err)  # the default label


def test_argument_limits_and_messages():
    x0 = torch.full_like(T, 0.5)
    _, hist = pk.optimize_image(quad, x0, steps=1, progress=False)  # one step is inside
    assert len(hist["total"]) == 1
    _, hist = pk.optimize_image(quad, x0, progress=False)
    assert len(hist["total"]) == 100  # the default
    for bad in (0, -1, 1.0, "3", None):
        with pytest.raises(ValueError, match=rf"^expected steps as a positive int; got {bad!r}$"):
            pk.optimize_image(quad, x0, steps=bad, progress=False)
    with pytest.raises(ValueError, match=r"^expected optimizer 'adam' or 'lbfgs'; got 'sgd'$"):
        pk.optimize_image(quad, x0, optimizer="sgd", progress=False)
    with pytest.raises(ValueError, match=r"^term_grads=True needs optimizer='adam' \(L-BFGS line searches mix the "
                                         r"terms' steps\)$"):
        pk.optimize_image(TwoTerms(), x0, optimizer="lbfgs", term_grads=True, progress=False)
    with pytest.raises(ValueError, match=r"^expected init of shape \(N, 3, H, W\)"):
        pk.optimize_image(quad, x0[0], progress=False)
    with pytest.raises(ValueError, match=r"^init contains NaN or Inf$"):
        pk.optimize_image(quad, torch.full_like(x0, math.nan), progress=False)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_non_finite_and_non_scalar_losses_fail_clearly(optimizer):
    x0 = torch.full_like(T, 0.5)
    kw = {"steps": 2, "progress": False, "optimizer": optimizer}
    with pytest.raises(FloatingPointError, match=r"^loss became nan; lower lr or check the inputs$"):
        pk.optimize_image(lambda x: x.sum() * math.nan, x0, **kw)
    with pytest.raises(FloatingPointError, match=r"^loss became inf; lower lr or check the inputs$"):
        pk.optimize_image(lambda x: x.sum() + math.inf, x0, **kw)
    with pytest.raises(FloatingPointError, match=r"^non-finite gradient; lower lr or check the inputs$"):
        pk.optimize_image(lambda x: (x - 0.5).abs().sqrt().sum(), x0, **kw)  # d√|u|/du at u = 0
    with pytest.raises(TypeError, match=r"^loss_fn must return a scalar tensor; got float$"):
        pk.optimize_image(lambda x: 1.0, x0, **kw)
    with pytest.raises(TypeError, match=r"^loss_fn must return a scalar tensor; got Tensor$"):
        pk.optimize_image(lambda x: (x**2).flatten()[:2], x0, **kw)
    out, _ = pk.optimize_image(lambda x: (x**2).sum().reshape(1, 1), x0, **kw)  # one element is a scalar
    assert out.shape == x0.shape


def test_term_grads_non_finite_gradient_fails_too():
    class Bad:
        def __call__(self, x):
            self.terms = {"a": (x - 0.5).abs().sqrt().sum()}
            return self.terms["a"]

    with pytest.raises(FloatingPointError, match=r"^non-finite gradient"):
        pk.optimize_image(Bad(), torch.full_like(T, 0.5), steps=1, term_grads=True, progress=False)


def test_invert_features_is_lbfgs_on_the_documented_objective_from_the_documented_start():
    from oracles import tiny_backbone, tiny_features

    bb = tiny_backbone(seed=3)
    image = seeded(1, 3, 8, 12, seed=4)
    target = tiny_features(bb, image)["relu2"]
    energy = float(target.square().mean())

    def error(x):  # |φ(x) − φ(image)|² / mean(φ(image)²), φ written out by hand
        return (tiny_features(bb, x)["relu2"] - target).square().mean() / energy

    def tv(x):
        return (x[..., 1:, :] - x[..., :-1, :]).square().mean() + (x[..., :, 1:] - x[..., :, :-1]).square().mean()

    noise = 0.07 * torch.randn(1, 1, 8, 12, generator=torch.Generator().manual_seed(5))
    start = (0.5 + noise.expand(1, 3, 8, 12)).clamp(0, 1)  # grey + one grey-level noise for all channels
    expected, _ = pk.optimize_image(lambda x: error(x) + 0.3 * tv(x), start, steps=6, lr=1, optimizer="lbfgs",
                                    progress=False, seed=5)
    out, fit = pk.invert_features(image, "relu2", bb, steps=6, tv_weight=0.3, noise=0.07, seed=5, progress=False)
    assert torch.allclose(out, expected, atol=1e-5)
    with torch.no_grad():
        assert fit == pytest.approx(float(error(expected)) / float(error(start)), rel=1e-4)
    assert 0 < fit < 1


def test_invert_features_refuses_batches_and_out_of_range_images():
    from oracles import tiny_backbone

    bb = tiny_backbone()
    with pytest.raises(ValueError, match=r"one image \(1, 3, H, W\); got a batch of shape \(2, 3, 8, 8\)"):
        pk.invert_features(seeded(2, 3, 8, 8), "relu2", bb, steps=1, progress=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pk.invert_features(seeded(1, 3, 8, 8) + 1.5, "relu2", bb, steps=1, progress=False)


def test_invert_features_hands_optimize_image_the_documented_defaults_and_start(monkeypatch):
    import percepkit.optimize as optimize
    from oracles import tiny_backbone, tiny_features

    bb = tiny_backbone(seed=3)
    image = seeded(1, 3, 8, 12, seed=4)
    target = tiny_features(bb, image)["conv2"]  # a layer outside default_layers

    def tv(x):
        return (x[..., 1:, :] - x[..., :-1, :]).square().mean() + (x[..., :, 1:] - x[..., :, :-1]).square().mean()

    def objective(x, tv_weight):
        return float((tiny_features(bb, x)["conv2"] - target).square().mean() / target.square().mean() + tv_weight * tv(x))

    seen = {}

    def spy(loss_fn, start, **kw):
        seen.update(kw, start=start.clone(), loss=float(loss_fn(start)))
        return start.clone(), {}

    monkeypatch.setattr(optimize, "optimize_image", spy)
    out, fit = pk.invert_features(image, "conv2", bb)  # every default
    start = (0.5 + 0.05 * torch.randn(1, 1, 8, 12, generator=torch.Generator().manual_seed(0))).expand(1, 3, 8, 12)
    assert {k: v for k, v in seen.items() if k not in ("start", "loss")} == {
        "steps": 100, "lr": 1, "optimizer": "lbfgs", "progress": True, "seed": 0, "desc": "inverting conv2"}
    assert torch.equal(seen["start"], start.clamp(0, 1)) and fit == 1.0
    assert seen["loss"] == pytest.approx(objective(start, 0.5), rel=1e-5)
    # a noise large enough to leave [0, 1]: the start is clamped; the other knobs are passed on
    pk.invert_features(image, "conv2", bb, steps=7, tv_weight=2.0, noise=0.8, seed=3, progress=False)
    start = (0.5 + 0.8 * torch.randn(1, 1, 8, 12, generator=torch.Generator().manual_seed(3))).expand(1, 3, 8, 12)
    assert float(start.min()) < 0 and float(start.max()) > 1
    assert torch.equal(seen["start"], start.clamp(0, 1))
    assert (seen["steps"], seen["progress"], seen["seed"]) == (7, False, 3)
    assert seen["loss"] == pytest.approx(objective(start.clamp(0, 1), 2.0), rel=1e-5)


def test_invert_features_names_its_image_when_out_of_range():
    from oracles import tiny_backbone

    with pytest.raises(ValueError, match=r"^expected image in \[0, 1\] \(the backbone normalises internally\); got values "
                                         r"in \[1\.50124, 2\.49707\]\. "):
        pk.invert_features(seeded(1, 3, 8, 8) + 1.5, "relu2", tiny_backbone(), steps=1, progress=False)
