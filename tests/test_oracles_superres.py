"""superres.py against oracles: the problem's candidates and block averages written out (factor ≠ 4,
non-default jitter), relative λ ≠ 1 divided out of what a solve reports, each term's gradient at the start
computed by hand, and the cache key tested for every input that must change it."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import percepkit as pk
from oracles import tiny_backbone
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
