"""The super-resolution problem of notebook 05, its solver and the cached λ grid (no widgets)."""

import pytest
import torch

import percepkit as pk
from conftest import SR_GRID, SR_SIZE, SR_STEPS
from percepkit import superres


def test_problem_candidates_agree_with_the_input_but_not_with_each_other(sr_problem):
    assert sr_problem.truth.shape == (1, 3, SR_SIZE, SR_SIZE) and sr_problem.observed.shape == (1, 3, SR_SIZE // 4, SR_SIZE // 4)
    assert sr_problem.candidates.shape == (3, 3, SR_SIZE, SR_SIZE)
    for c in sr_problem.candidates:
        assert pk.psnr(sr_problem.downsample(c[None]), sr_problem.observed) > 25
    assert pk.psnr(sr_problem.candidates[:1], sr_problem.candidates[1:2]) < 25
    assert pk.psnr(sr_problem.start, sr_problem.truth) < pk.psnr(sr_problem.downsample(sr_problem.start), sr_problem.observed)


@pytest.mark.parametrize("kw, match", [(dict(size=30), "multiple of factor"), (dict(factor=1), "factor"),
                                       (dict(n_candidates=0), "n_candidates"), (dict(jitter=-1.0), "jitter")])
def test_problem_rejects_bad_settings(kw, match):
    with pytest.raises(ValueError, match=match):
        pk.superres_problem("astronaut", **{"size": SR_SIZE, **kw})


def test_solve_records_active_terms_only(sr_results):
    pix, mixed, perc, adv = sr_results
    assert set(pix.grads) == {"pix"} and pix.values["perc"] is None and pix.values["adv"] is None
    assert set(mixed.grads) == {"pix", "perc"} and set(adv.grads) == {"pix", "adv"}
    assert len(mixed.history["grad_perc"]) == SR_STEPS
    assert all(v > 0 for r in sr_results for v in r.grads.values())
    # λ are relative to the start: at the start every active term is 1 by construction, and it went down
    assert 0 < mixed.values["pix"] < 1.5 and 0 < mixed.values["perc"] < 1.5
    assert mixed.reference["perc"] > 0 and mixed.reference["pix"] > 0
    # the adversarial term changes the image; the pixel-only solution is the blurriest
    assert (adv.image - pix.image).abs().max() > 1e-3
    assert pix.metrics["sharpness"] < perc.metrics["sharpness"]


@pytest.mark.parametrize("lambdas", [(0, 0, 0, 0), (1, -1, 0, 0), (1, 1, 1), (1, float("nan"), 0, 0)])
def test_solve_rejects_bad_lambdas(sr_problem, lite, lambdas):
    with pytest.raises(ValueError, match="lambdas"):
        pk.solve_combined(sr_problem, lambdas, lite, steps=1, progress=False)


def test_solve_rejects_a_non_backbone(sr_problem):
    with pytest.raises(TypeError, match="Backbone"):
        pk.solve_combined(sr_problem, (1, 0, 0, 0), torch.nn.Identity(), steps=1, progress=False)


def test_grid_is_cached_on_disk(sr_problem, lite, sr_results, sr_cache, monkeypatch):
    files = sorted(sr_cache.glob("lambda-*.pt"))
    assert len(files) == len(SR_GRID)

    def boom(*a, **k):
        raise AssertionError("a cached grid point was recomputed")

    monkeypatch.setattr(superres, "solve_combined", boom)
    again = pk.precompute_grid(sr_problem, SR_GRID, lite, steps=SR_STEPS, cache_dir=sr_cache, progress=False)
    for a, b in zip(sr_results, again):
        assert a.lambdas == b.lambdas and torch.equal(a.image, b.image) and a.metrics == b.metrics
    # another setting (steps) is another key: it must be computed, not loaded
    with pytest.raises(AssertionError, match="recomputed"):
        pk.precompute_grid(sr_problem, SR_GRID[:1], lite, steps=SR_STEPS + 1, cache_dir=sr_cache, progress=False)


def test_solver_restores_the_thread_count(sr_problem, lite):
    before = torch.get_num_threads()
    pk.solve_combined(sr_problem, (1, 0, 0, 0), lite, steps=1, progress=False, threads=1)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        pk.solve_combined(sr_problem, (1, 0, 0, 0), lite, steps=1, progress=False, threads=0)


def test_pixel_only_l2_lands_on_the_candidates_mean(sr_problem, lite):
    """Oracle: the L2 optimum of an average over candidates is their pixel-wise mean (notebook 05's claim)."""
    mean = sr_problem.candidates.mean(0, keepdim=True)
    r = pk.solve_combined(sr_problem, (1, 0, 0, 0), lite, steps=60, progress=False)
    to_mean = pk.psnr(r.image, mean)
    to_candidates = [pk.psnr(r.image, c[None]) for c in sr_problem.candidates]
    assert to_mean > 45, f"PSNR to the candidates' mean {to_mean:.1f} dB"  # measured: 54 dB
    assert to_mean > max(to_candidates) + 20 and to_mean > pk.psnr(sr_problem.start, mean) + 20


def test_relative_to_raw_divides_by_the_start_value():
    raw = pk.relative_to_raw({"pix": 2.0, "perc": 1.0, "style": 0.0, "adv": 0.5},
                             {"pix": 0.01, "perc": 400.0, "adv": 0.7})
    assert raw == pytest.approx({"pix": 200.0, "perc": 0.0025, "style": 0.0, "adv": 0.5 / 0.7})
    with pytest.raises(ValueError, match="no reference value for the term"):
        pk.relative_to_raw({"perc": 1.0}, {"pix": 1.0})


def test_cache_key_follows_the_weights_not_their_path(sr_problem, lite, hed):
    args = ((1, 1, 0, 0), 6, 0.03, 2e-3, ("stem",), ("stem",), 0)
    key = superres._key(sr_problem, lite, *args)
    moved = pk.load_backbone("efficientnet-lite0", verbose=False)
    moved.source = "the same weights, copied to /somewhere/else.pth"
    assert superres._key(sr_problem, moved, *args) == key
    assert lite.fingerprint() == moved.fingerprint() != hed.fingerprint()
    assert superres._key(sr_problem, hed, *args) != key


def test_functions_take_a_backbone_by_name(sr_problem):
    assert pk.PerceptualLoss("efficientnet-lite0").backbone is pk.StyleLoss("efficientnet-lite0").backbone
    with pytest.raises(TypeError, match="a backbone name"):
        pk.PerceptualLoss(42)
    with pytest.raises(ValueError, match="unknown backbone 'vgg21'"):
        pk.PerceptualLoss("vgg21")


def test_problem_photo_slope_is_the_mean_slope_of_the_other_photos(sr_problem):
    others = [p for p in superres.PHOTOS if p != sr_problem.name]
    assert sr_problem.name in superres.PHOTOS and len(others) == len(superres.PHOTOS) - 1  # the truth is left out
    expected = sum(pk.spectral_slope(pk.sample_image(p, SR_SIZE)) for p in others) / len(others)
    assert sr_problem.photo_slope == pytest.approx(expected, rel=1e-12)


def test_results_carry_perception_and_a_second_networks_distance(sr_problem, sr_results):
    hed = pk.resolve_backbone("vgg16-hed")
    judge = pk.PerceptualLoss(hed, hed.default_layers[1:4]).set_target(sr_problem.truth)
    for r in sr_results:
        m = r.metrics
        assert m["slope"] == pytest.approx(pk.spectral_slope(r.image), rel=1e-9)
        assert m["slope_gap"] == pytest.approx(abs(m["slope"] - sr_problem.photo_slope), rel=1e-9)
        with torch.no_grad():  # results optimised on lite0 are judged by HED, relative to the start
            expected = float(judge(r.image)) / float(judge(sr_problem.start))
        assert m["eval_distance"] == pytest.approx(expected, rel=1e-4)


def test_the_evaluation_network_is_never_the_optimised_one():
    for name in pk.available_backbones():
        assert superres.evaluation_backbone(name) != name
    assert superres.evaluation_backbone("efficientnet-lite0") == "vgg16-hed"
    assert superres.evaluation_backbone("vgg16-hed") == "efficientnet-lite0"
