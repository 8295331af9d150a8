"""superres.py against oracles: the problem's candidates and block averages written out (factor ≠ 4,
non-default jitter), relative λ ≠ 1 divided out of what a solve reports, each term's gradient at the start
computed by hand, and the cache key tested for every input that must change it."""

import hashlib
import inspect
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import percepkit as pk
from oracles import gram, tiny_backbone, tiny_features
from percepkit import superres as sr
from percepkit.losses import Lambdas


@pytest.fixture(scope="module")
def prob():
    return pk.superres_problem("coffee", 24, factor=3, n_candidates=3, jitter=2.0, seed=7)


def test_problem_written_out(prob):
    truth = pk.sample_image("coffee", 24)
    assert torch.equal(prob.truth, truth)
    a = truth.double().numpy()
    blocks = a.reshape(1, 3, 8, 3, 8, 3).mean(axis=(3, 5))  # 3×3 block means
    np.testing.assert_allclose(prob.observed.numpy(), blocks, atol=1e-6)
    up = F.interpolate(prob.observed, scale_factor=3, mode="bicubic", align_corners=False).clamp(0, 1)
    assert torch.allclose(prob.start, up)
    g = torch.Generator().manual_seed(7)
    offsets = [tuple(round(v, 3) for v in ((torch.rand(2, generator=g) * 2 - 1) * 2.0).tolist()) for _ in range(3)]
    assert prob.offsets == offsets and all(abs(v) <= 2.0 for o in offsets for v in o)
    for c, (dx, dy) in zip(prob.candidates.split(1), offsets):
        s = pk.shift(truth, dx, dy)
        detail = s - F.interpolate(F.avg_pool2d(s, 3), scale_factor=3, mode="bicubic", align_corners=False).clamp(0, 1)
        assert torch.allclose(c, (up + detail).clamp(0, 1), atol=1e-6)
    assert prob.settings["factor"] == 3 and prob.settings["jitter"] == 2.0 and prob.settings["n_candidates"] == 3
    assert prob.downsample(prob.truth).shape == (1, 3, 8, 8)


def test_problem_photo_slope_leaves_out_its_own_picture():
    p = pk.superres_problem("chelsea", 32, factor=4, n_candidates=1)
    others = [n for n in sr.PHOTOS if n != "chelsea"]
    assert len(others) == len(sr.PHOTOS) - 1
    assert p.photo_slope == pytest.approx(np.mean([pk.spectral_slope(pk.sample_image(n, 32)) for n in others]), rel=1e-9)


def test_relative_to_raw_and_format_by_hand():
    rel = {"pix": 2.0, "perc": 0.5, "style": 0.0, "adv": 3.0}
    ref = {"pix": 0.04, "perc": 250.0, "adv": 0.6}  # no style reference needed: its λ is 0
    assert sr.relative_to_raw(rel, ref) == pytest.approx({"pix": 50.0, "perc": 0.002, "style": 0.0, "adv": 5.0})
    with pytest.raises(ValueError, match=r"\['perc'\]"):
        sr.relative_to_raw(rel, {"pix": 1.0, "adv": 1.0})
    assert sr.format_lambdas(Lambdas(1, 0.5, 0, 4)) == "(1, 0.5, 0, 4)"
    assert sr.check_lambdas({"perc": 2}) == Lambdas(0, 2, 0, 0)
    with pytest.raises(ValueError, match="not all 0"):
        sr.check_lambdas((0, 0, 0, 0))


def test_result_round_trip_and_dominant_term():
    r = sr.Result(Lambdas(1, 2, 0, 0), torch.zeros(1, 3, 4, 4), {"pix": 1.0}, {"pix": 0.3, "perc": 0.7}, {"psnr": 20.0},
                  {"pix": 0.1, "perc": 3.0}, {"value_pix": [1.0]})
    assert r.dominant == "perc"
    back = sr.Result.from_dict(r.to_dict())
    assert back.lambdas == r.lambdas and back.grads == r.grads and back.history == r.history
    assert isinstance(back.lambdas, Lambdas)


def test_cache_key_changes_with_every_input(prob):
    b0, b1 = tiny_backbone(seed=0), tiny_backbone(seed=1)  # same name, other weights
    base = dict(problem=prob, backbone=b0, lam=Lambdas(1, 1, 0, 0), steps=10, lr=0.03, d_lr=2e-3, layers=("relu1",),
                style_layers=("conv1",), seed=0)
    k0 = sr._key(**base)
    assert sr._key(**base) == k0
    other_prob = pk.superres_problem("coffee", 24, factor=3, n_candidates=3, jitter=2.0, seed=8)
    changes = dict(problem=other_prob, backbone=b1, lam=Lambdas(1, 2, 0, 0), steps=11, lr=0.01, d_lr=1e-3,
                   layers=("relu2",), style_layers=("relu2",), seed=1)
    for name, value in changes.items():
        assert sr._key(**{**base, name: value}) != k0, name


def test_solve_reports_terms_relative_to_the_start_with_lambda_divided_out(lite, sr_problem):
    lam = Lambdas(pix=3.0, perc=0.5)
    res = pk.solve_combined(sr_problem, lam, lite, steps=1, lr=1e-6, progress=False)
    layers = lite.default_layers[1:4]
    cands, x0 = sr_problem.candidates, sr_problem.start
    ref_pix = float((x0 - cands).square().mean())  # the start over all candidates at once
    perc = pk.PerceptualLoss(lite, layers)
    with torch.no_grad():
        ref_perc = float(perc(x0.expand_as(cands), cands))
    assert res.reference == pytest.approx({"pix": ref_pix, "perc": ref_perc}, rel=1e-4)
    # step 0 is against candidate 0; with a tiny step its values are L_t(start, c0) / L_t(start), λ divided out
    v_pix = float((x0 - cands[:1]).square().mean()) / ref_pix
    with torch.no_grad():
        v_perc = float(perc(x0, cands[:1])) / ref_perc
    assert res.values["pix"] == pytest.approx(v_pix, rel=1e-3)
    assert res.values["perc"] == pytest.approx(v_perc, rel=1e-3)
    assert res.values["style"] is None and res.values["adv"] is None and set(res.grads) == {"pix", "perc"}
    # the pixel term's gradient at the start, by hand: λ · 2 (x − c0) / numel / L_pix(start)
    g = 3.0 * 2 * (x0 - cands[:1]) / x0.numel() / ref_pix
    assert res.grads["pix"] == pytest.approx(float(g.norm()), rel=1e-3)
    assert res.lambdas == lam


def test_cache_key_written_out(prob):
    import hashlib
    import json

    b0 = tiny_backbone(seed=0)
    key = sr._key(prob, b0, Lambdas(1, 0.5, 0, 0), 10, 0.03, 2e-3, ("relu1",), ("conv1",), 0)
    settings = {k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in prob.settings.items()}
    spec = {"v": sr._CACHE_VERSION, "problem": settings, "backbone": ["Backbone", b0.fingerprint()],
            "lambdas": [1.0, 0.5, 0.0, 0.0], "steps": 10, "lr": 0.03, "d_lr": 0.002, "layers": ["relu1"],
            "style_layers": ["conv1"], "seed": 0, "torch": torch.__version__.split("+")[0]}
    assert key == hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]


def test_precompute_grid_computes_once_loads_after_and_says_what_it_does(prob, tmp_path, monkeypatch, capsys):
    b0 = tiny_backbone(seed=0)
    grid = [Lambdas(pix=1), Lambdas(pix=1, perc=2)]
    calls = []
    real = sr.solve_combined

    def counting(problem, lam, backbone, *args, **kw):
        calls.append((lam, args, kw))
        return real(problem, lam, backbone, *args, **kw)

    monkeypatch.setattr(sr, "solve_combined", counting)
    first = sr.precompute_grid(prob, grid, b0, steps=1, lr=0.01, d_lr=1e-3, layers=("relu1",), style_layers=("conv1",),
                               seed=3, cache_dir=tmp_path)
    assert "λ grid on tiny" in capsys.readouterr().err  # a progress bar by default
    assert [c[0] for c in calls] == grid
    assert calls[0][1] == (1, 0.01, 1e-3, ("relu1",), ("conv1",), 3) and calls[0][2] == {"progress": False}
    names = sorted(p.name for p in tmp_path.iterdir())
    want = sorted(f"lambda-{sr._key(prob, b0, lam, 1, 0.01, 1e-3, ['relu1'], ['conv1'], 3)}.pt" for lam in grid)
    assert names == want
    again = sr.precompute_grid(prob, grid, b0, steps=1, lr=0.01, d_lr=1e-3, layers=("relu1",), style_layers=("conv1",),
                               seed=3, cache_dir=tmp_path, progress=False)
    assert len(calls) == 2 and len(again) == 2 and capsys.readouterr().err == ""  # both loaded, quietly
    for a, b in zip(first, again):
        assert a.lambdas == b.lambdas and torch.equal(a.image, b.image) and a.values == b.values
        assert a.metrics == b.metrics and a.reference == b.reference and a.grads == b.grads
    sr.precompute_grid(prob, grid[:1], b0, steps=1, lr=0.01, d_lr=1e-3, layers=("relu1",), style_layers=("conv1",),
                       seed=3, cache_dir=False, progress=False)
    assert len(calls) == 3  # no cache: computed again
    with pytest.raises(ValueError, match="^expected a non-empty grid of λ settings$"):
        sr.precompute_grid(prob, [], b0)


def test_solve_checks_steps(prob):
    b0 = tiny_backbone(seed=0)
    for bad in (0, -1, 1.5, "3"):
        with pytest.raises(ValueError, match=rf"^expected steps as a positive int; got {bad!r}$"):
            pk.solve_combined(prob, Lambdas(pix=1), b0, steps=bad, progress=False)


def test_result_round_trip_keeps_every_field():
    r = sr.Result(Lambdas(1, 2, 0, 0), torch.rand(1, 3, 4, 4), {"pix": 0.4, "perc": 0.9}, {"pix": 0.3, "perc": 0.7},
                  {"psnr": 20.0}, {"pix": 0.1, "perc": 3.0}, {"value_pix": [1.0]})
    d = r.to_dict()
    assert set(d) == {"lambdas", "image", "values", "grads", "metrics", "reference", "history"}
    back = sr.Result.from_dict(d)
    assert torch.equal(back.image, r.image) and back.values == r.values and back.metrics == r.metrics
    assert back.reference == r.reference and back.grads == r.grads and back.history == r.history
    old = {k: v for k, v in d.items() if k != "history"}  # files written before histories were kept
    assert sr.Result.from_dict(old).history == {}


# --- issue 22 (t22c): oracles that catch a wrong answer in the problem, the solve and their plumbing ----------


def _cubic_weights(t: float, a: float = -0.75) -> list[float]:
    """Keys' cubic convolution weights (a = −0.75, PyTorch's) of the 4 taps at distances 1+t, t, 1−t, 2−t."""
    def w(d):
        d = abs(d)
        return ((a + 2) * d - (a + 3)) * d * d + 1 if d <= 1 else ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return [w(1 + t), w(t), w(1 - t), w(2 - t)]


def _bicubic_numpy(x: np.ndarray, f: int) -> np.ndarray:
    """×f bicubic of (N, C, H, W), align_corners=False (half-pixel centres), edge taps repeated; loops, float64."""
    def along(a, axis):
        a = np.moveaxis(a, axis, -1)
        n_in = a.shape[-1]
        out = np.zeros(a.shape[:-1] + (n_in * f,))
        for o in range(n_in * f):
            src = (o + 0.5) / f - 0.5
            i0 = int(np.floor(src))
            for tap, wt in zip(range(i0 - 1, i0 + 3), _cubic_weights(src - i0)):
                out[..., o] += wt * a[..., min(max(tap, 0), n_in - 1)]
        return np.moveaxis(out, -1, axis)

    return along(along(x.astype(np.float64), 2), 3)


def test_upsample_is_clamped_bicubic_against_a_numpy_reference():
    g = torch.Generator().manual_seed(3)
    x = (torch.rand(2, 3, 5, 6, generator=g) > 0.5).float()  # hard 0/1 edges: bicubic overshoots both ways
    x[1] = x[1] * 0.6 + 0.2  # the second image's overshoot stays inside [0, 1]: the clamp must leave it alone
    p = sr.SuperResolution("t", x, x, x, x, [], factor=3)
    ref = _bicubic_numpy(x.numpy(), 3)
    assert ref[0].max() > 1.05 and ref[0].min() < -0.05  # the reference really leaves [0, 1]
    assert ref[1].min() > 0 and ref[1].max() < 1 and ref[1].max() - ref[1].min() > 0.6  # overshoots, inside
    up = p.upsample(x)
    assert up.shape == (2, 3, 15, 18)
    np.testing.assert_allclose(up.numpy(), np.clip(ref, 0, 1), atol=1e-5)


def test_problem_defaults_are_astronaut_64_x4_six_candidates_jitter_4_seed_0():
    p = pk.superres_problem()
    q = pk.superres_problem("astronaut", 64, 4, 6, 4.0, 0)
    assert p.name == q.name == "astronaut" and p.factor == 4
    assert torch.equal(p.truth, pk.sample_image("astronaut", 64)) and p.truth.shape == (1, 3, 64, 64)
    assert p.offsets == q.offsets and len(p.offsets) == 6
    assert torch.equal(p.candidates, q.candidates) and p.candidates.shape == (6, 3, 64, 64)
    assert p.settings == q.settings
    assert {k: v for k, v in p.settings.items() if k != "truth"} == dict(
        name="astronaut", size=64, factor=4, n_candidates=6, jitter=4.0, seed=0)


def test_problem_argument_checks_at_their_edges():
    def ok(**kw):
        args = dict(image="coffee", size=32, factor=4, n_candidates=1, jitter=1.0) | kw
        return pk.superres_problem(**args)

    p = ok(size=16, factor=2)  # the smallest factor and the smallest size for it (8 × factor)
    assert p.factor == 2 and p.observed.shape == (1, 3, 8, 8) and p.start.shape == (1, 3, 16, 16)
    for jitter in (0, 0.0, 0.5, 7.9):  # 0 <= jitter < size / 4 = 8
        o = ok(jitter=jitter).offsets[0]
        assert all(abs(v) <= jitter for v in o)
    assert ok(jitter=0).offsets == [(0.0, 0.0)]
    for factor in (1, 0, 2.0):
        with pytest.raises(ValueError, match=rf"^expected factor as an int >= 2; got {factor!r}$"):
            ok(factor=factor)
    for size in (28, 33, 36.0, 32.0, 4):
        want = f"expected size as a multiple of factor=4 and >= 32; got {size!r}"
        with pytest.raises(ValueError, match=f"^{want}$"):
            ok(size=size)
    with pytest.raises(ValueError, match=r"^expected size as a multiple of factor=3 and >= 24; got 21$"):
        ok(size=21, factor=3)
    for jitter in (8, 8.0, 9.5, -0.5, "1"):
        with pytest.raises(ValueError, match=rf"^expected 0 <= jitter < size/4 pixels; got {jitter!r}$"):
            ok(jitter=jitter)


def test_problem_from_a_custom_array_or_batch_uses_its_first_image_resized():
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)  # not the problem's size: it must be resized
    p = pk.superres_problem(arr, 24, factor=3, n_candidates=2, jitter=1.5, seed=3)
    want = pk.to_tensor(arr, 24)
    assert p.name == "custom" and p.settings["name"] == "custom"
    assert p.truth.shape == (1, 3, 24, 24) and torch.equal(p.truth, want)
    batch = torch.stack([torch.from_numpy(arr).permute(2, 0, 1).float() / 255, torch.zeros(3, 40, 40)])
    q = pk.superres_problem(batch, 24, factor=3, n_candidates=2, jitter=1.5, seed=3)
    assert q.name == "custom" and q.truth.shape == (1, 3, 24, 24) and q.observed.shape == (1, 3, 8, 8)
    assert torch.allclose(q.truth, pk.to_tensor(batch, 24)[:1], atol=0)
    assert torch.allclose(q.truth, want, atol=2e-2)  # the first image (not the black second one)
    named = pk.superres_problem("coffee", 24, factor=3, n_candidates=1)
    assert named.name == "coffee"
    # a custom picture enters the cache key by its pixels: the first 16 hex digits of their SHA-256
    assert p.settings["truth"] == hashlib.sha256(want.numpy().tobytes()).hexdigest()[:16]
    other = pk.superres_problem(arr[::-1].copy(), 24, factor=3, n_candidates=2, jitter=1.5, seed=3)
    assert other.settings["name"] == "custom" and other.settings["truth"] != p.settings["truth"]


def test_layers_default_to_the_middle_content_layers_and_the_first_two_style_layers():
    from types import SimpleNamespace

    bb = SimpleNamespace(default_layers=("a", "b", "c", "d", "e", "f"), style_layers=("u", "v", "w", "x"))
    assert sr._layers(bb, None, None) == (("b", "c", "d"), ("u", "v"))
    assert sr._layers(bb, ["f"], ["x", "u", "w"]) == (("f",), ("x", "u", "w"))
    assert sr._layers(bb, ("a", "b"), None) == (("a", "b"), ("u", "v"))
    assert sr._layers(bb, None, ("w",)) == (("b", "c", "d"), ("w",))


def _adam(params: list, grads: list, state: dict, lr: float, betas=(0.9, 0.999), eps: float = 1e-8) -> None:
    """One Adam step written out (Kingma & Ba, bias-corrected), in place."""
    b1, b2 = betas
    state["t"] = t = state.get("t", 0) + 1
    for i, (p, g) in enumerate(zip(params, grads)):
        m = state[("m", i)] = b1 * state.get(("m", i), 0) + (1 - b1) * g
        v = state[("v", i)] = b2 * state.get(("v", i), 0) + (1 - b2) * g * g
        p -= lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)


def _bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Binary cross-entropy with logits against all-real (1) or all-fake (0) labels: mean softplus(∓z)."""
    return F.softplus(-logits if real else logits).mean()


def _replay_solve(problem, bb, lam, steps, lr, d_lr, layers, style_layers, seed):
    """solve_combined's algorithm written out with the tiny backbone's hand features: reference terms at the start
    over every candidate, raw λ = λ / reference, then per step: candidate ``step % K``, each term's gradient, one Adam
    step on the pixels, clamp, and (λ_adv > 0) one critic step, Adam(d_lr, betas (0.5, 0.999)), BCE real=candidate,
    fake=the new image."""
    cands, x0 = problem.candidates, problem.start
    k = len(cands)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        disc = pk.PatchDiscriminator()
    init = [p.detach().clone() for p in disc.parameters()]
    active = [t for t in ("pix", "perc", "style", "adv") if getattr(lam, t) > 0]

    def terms(x, c):
        fx, fc = tiny_features(bb, x), tiny_features(bb, c)
        return {"pix": (x - c).square().mean(),
                "perc": sum((fx[n] - fc[n]).square().mean() for n in layers),
                "style": sum((gram(fx[n]) - gram(fc[n])).square().mean() for n in style_layers).float(),
                "adv": _bce(disc(x), True)}

    with torch.no_grad():
        ref = {t: float(v) for t, v in terms(x0.expand_as(cands), cands).items() if t in active}
    raw = {t: getattr(lam, t) / ref[t] for t in active}
    x = x0.clone()
    img_state, d_state = {}, {}
    hist = {f"{w}_{t}": [] for t in active for w in ("value", "grad")}
    for step in range(steps):
        c = cands[step % k : step % k + 1]
        xg = x.clone().requires_grad_(True)
        got = terms(xg, c)
        total = torch.zeros_like(x)
        for t in active:
            (g,) = torch.autograd.grad(raw[t] * got[t], xg, retain_graph=True)
            hist[f"value_{t}"].append(float(got[t].detach()) / ref[t])
            hist[f"grad_{t}"].append(float(g.norm()))
            total += g
        _adam([x], [total], img_state, lr)
        x = x.clamp(0, 1)
        if lam.adv > 0:
            params = list(disc.parameters())
            d_loss = _bce(disc(c), True) + _bce(disc(x), False)
            d_grads = torch.autograd.grad(d_loss, params)
            with torch.no_grad():
                _adam(params, d_grads, d_state, d_lr, betas=(0.5, 0.999))
    return x, ref, hist, disc, init


@pytest.fixture
def critics(monkeypatch):
    """Every PatchDiscriminator the solver makes, kept for the test to look at."""
    made = []

    class Kept(pk.PatchDiscriminator):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            made.append(self)

    monkeypatch.setattr(sr, "PatchDiscriminator", Kept)
    return made


@pytest.fixture(scope="module")
def prob4():
    return pk.superres_problem("coffee", 30, factor=3, n_candidates=4, jitter=2.5, seed=11)


def _feature_distance(net, layers, a, b) -> float:
    """Σ over layers of the mean squared feature difference, in fp32 features summed in float64."""
    fa, fb = net(a, layers, precision="fp32"), net(b, layers, precision="fp32")
    return sum(float((fa[n] - fb[n]).double().square().mean()) for n in layers)


def _eval_distance(lite, x, x0, truth) -> float:
    """The judge of any backbone but efficientnet-lite0 is efficientnet-lite0 on its middle default layers."""
    judge = lite.default_layers[1:4]
    assert len(lite.default_layers) > 4  # so [1:4] is not all of them after the first
    return _feature_distance(lite, judge, x, truth) / _feature_distance(lite, judge, x0, truth)


def test_solve_replayed_by_hand_with_all_four_terms_and_the_critic(prob4, critics, monkeypatch, lite):
    from percepkit import weights

    bb = tiny_backbone(seed=2)
    monkeypatch.setitem(weights._RESOLVED, "auto", lite)  # a default backbone that is not the judge of `bb`
    lam = Lambdas(pix=2.0, perc=0.5, style=1.5, adv=0.4)
    kw = dict(steps=5, lr=0.02, d_lr=0.01, layers=("relu1",), style_layers=("relu2",), seed=5)
    t0 = time.perf_counter()
    res = pk.solve_combined(prob4, lam, bb, progress=False, **kw)
    wall = time.perf_counter() - t0
    x, ref, hist, disc, init = _replay_solve(prob4, bb, lam, **kw)
    assert lam.adv / ref["adv"] < 1  # a raw λ_adv below 1 still trains the critic
    assert res.reference == pytest.approx(ref, rel=1e-5)
    assert set(res.history) == set(hist)
    for name, want in hist.items():
        assert res.history[name] == pytest.approx(want, rel=1e-4, abs=1e-7), name
    last = 4  # min(K, steps): the last cycle over the 4 candidates
    assert res.values == pytest.approx({t: sum(hist[f"value_{t}"][-last:]) / last for t in ref}, rel=1e-4)
    assert res.grads == pytest.approx({t: sum(hist[f"grad_{t}"]) / 5 for t in ref}, rel=1e-4)
    assert (res.image - x).abs().max() < 1e-4
    # the critic the solver trained (one of them, seeded by `seed`) ends where the hand-trained one does
    assert len(critics) == 1
    for p0, p, q in zip(init, critics[0].parameters(), disc.parameters()):
        assert (p - p0).abs().mean() > 5e-3  # it moved: Adam steps of about d_lr
        assert torch.allclose(p, q, atol=1e-4)  # float rounding aside (Adam's first step is d_lr·sign(grad))
    # metrics, from their definitions
    truth, x0 = prob4.truth, prob4.start
    m = res.metrics
    assert set(m) == {"psnr", "perceptual", "eval_distance", "slope", "slope_gap", "sharpness", "hf", "seconds"}
    assert m["psnr"] == pytest.approx(10 * np.log10(1 / float((x - truth).double().square().mean())), rel=1e-4)

    with torch.no_grad():
        perc = _feature_distance(bb, ("relu1",), x, truth) / _feature_distance(bb, ("relu1",), x0, truth)
        assert m["perceptual"] == pytest.approx(perc, rel=1e-3)
        assert m["eval_distance"] == pytest.approx(_eval_distance(lite, x, x0, truth), rel=1e-3)
    slope = pk.spectral_slope(res.image)
    assert m["slope"] == pytest.approx(slope, rel=1e-6)
    assert m["slope_gap"] == pytest.approx(abs(slope - prob4.photo_slope), rel=1e-6)
    assert m["sharpness"] == pytest.approx(pk.sharpness(res.image) / pk.sharpness(truth), rel=1e-6)
    hf = pk.metrics.high_frequency_energy
    assert m["hf"] == pytest.approx(hf(res.image) / hf(truth), rel=1e-6)
    assert 0 < m["seconds"] <= wall


def test_solve_trains_no_critic_without_an_adversarial_term(prob4, critics):
    bb = tiny_backbone(seed=2)
    res = pk.solve_combined(prob4, Lambdas(pix=1.5, perc=0.5), bb, steps=2, d_lr=0.5, layers=("relu1",), progress=False)
    assert set(res.grads) == {"pix", "perc"}
    fresh = critics[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        want = pk.PatchDiscriminator()
    for p, q in zip(fresh.parameters(), want.parameters()):
        assert torch.equal(p, q) and p.grad is None  # untouched: λ_adv = 0 never asks the critic anything


def test_the_judge_is_the_evaluation_network_not_the_default_one(prob, monkeypatch, lite):
    from percepkit import weights

    monkeypatch.setitem(weights._RESOLVED, "auto", tiny_backbone(seed=9))  # what `None` resolves to, here
    res = pk.solve_combined(prob, Lambdas(pix=1.0), tiny_backbone(seed=2), steps=1, lr=0.05, progress=False)
    with torch.no_grad():
        want = _eval_distance(lite, res.image, prob.start, prob.truth)
    assert res.metrics["eval_distance"] == pytest.approx(want, rel=1e-3)


def test_solve_combined_defaults_by_behaviour(prob, capsys):
    bb = tiny_backbone(seed=2)
    sr.resolve_backbone("efficientnet-lite0")  # the judge loaded (and its banner printed) before the capture
    capsys.readouterr()
    lam = Lambdas(pix=1.0, adv=0.3)
    a = pk.solve_combined(prob, lam, bb, steps=3, lr=0.02)  # d_lr, seed, progress by default
    assert "λ=(1, 0, 0, 0.3)" in capsys.readouterr().err  # a progress bar, labelled with the λ
    b = pk.solve_combined(prob, lam, bb, steps=3, lr=0.02, d_lr=2e-3, seed=0, progress=False)
    assert capsys.readouterr().err == ""
    assert torch.equal(a.image, b.image) and a.history == b.history
    c = pk.solve_combined(prob, lam, bb, steps=3, lr=0.02, d_lr=2e-3, seed=1, progress=False)
    assert not torch.equal(a.image, c.image)  # the seed matters here: the critic steers the image
    d = pk.solve_combined(prob, Lambdas(pix=1.0), bb, lr=0.02, progress=False)  # steps by default
    assert len(d.history["value_pix"]) == len(d.history["grad_pix"]) == 60


def test_solve_runs_with_the_asked_thread_count_and_restores_it(prob, monkeypatch):
    seen = []
    real = sr._solve

    def spy(*args):
        seen.append(torch.get_num_threads())
        return real(*args)

    monkeypatch.setattr(sr, "_solve", spy)
    bb = tiny_backbone(seed=2)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for threads in (None, 1, 3):
            pk.solve_combined(prob, Lambdas(pix=1.0), bb, steps=1, progress=False, threads=threads)
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen == [2, 1, 3]  # None keeps the caller's setting


class _Noise(torch.nn.Module):
    def forward(self, x):
        return x + 0.5 * torch.randn_like(x)


def test_the_seed_also_seeds_a_loss_with_randomness(prob):
    from percepkit.backbones import Backbone

    g = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    conv.weight.data = torch.randn(conv.weight.shape, generator=g) * 0.3
    bb = Backbone("noisy", [conv, _Noise()], ("conv1", "noise1"), ["conv", "noise"], default_layers=("noise1",),
                  style_layers=("noise1",), normalization="imagenet", source="test oracle", pretrained=False)

    def run(seed):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(123)  # the caller's random stream: the same for every run
            return pk.solve_combined(prob, Lambdas(perc=1.0), bb, steps=2, lr=0.05, layers=("noise1",), seed=seed,
                                     progress=False).image

    a, b, c = run(3), run(3), run(4)
    assert torch.equal(a, b)  # reproducible
    assert (a - c).abs().max() > 1e-2  # and the seed is what the noise follows (λ_adv = 0: no critic involved)


def test_precompute_grid_defaults():
    """The defaults notebook 05's cached grid was computed with (the cache key holds each of them)."""
    params = inspect.signature(pk.precompute_grid).parameters
    want = dict(grid=pk.DEFAULT_GRID, backbone=None, steps=60, lr=0.03, d_lr=2e-3, layers=None, style_layers=None, seed=0,
                cache_dir=None, progress=True)
    assert {k: v.default for k, v in params.items() if k != "problem"} == want


def test_precompute_grid_defaults_by_calling(prob, monkeypatch, tmp_path, capsys):
    """What runs when only the problem is given (a call, not the signature: see test_doctor's note)."""
    seen = {}

    class Stop(Exception):
        pass

    def fake(problem, lam, backbone, steps, lr, d_lr, layers, style_layers, seed, progress):
        seen.update(lam=lam, backbone=backbone, steps=steps, lr=lr, d_lr=d_lr, layers=layers, seed=seed, progress=progress)
        raise Stop

    bb = tiny_backbone()
    asked = []
    monkeypatch.setattr(sr, "solve_combined", fake)
    monkeypatch.setattr(sr, "resolve_backbone", lambda b: asked.append(b) or bb)
    monkeypatch.setenv("PERCEPKIT_CACHE_DIR", str(tmp_path))
    with pytest.raises(Stop):
        sr.precompute_grid(prob)
    assert asked == [None] and seen["backbone"] is bb and seen["lam"] == sr.check_lambdas(pk.DEFAULT_GRID[0])
    assert (seen["steps"], seen["lr"], seen["d_lr"], seen["seed"], seen["progress"]) == (60, 0.03, 2e-3, 0, False)
    assert seen["layers"] == tuple(bb.default_layers[1:4])  # the middle default layers, as solve_combined's
    assert "λ grid on" in capsys.readouterr().err  # progress=True by default: the bar is shown
