"""The λ explorer of notebook 05, driven from pytest: no kernel, no browser (tiny problem and grid)."""


import matplotlib
import pytest
import torch

import percepkit as pk
from percepkit import widgets as pkw

matplotlib.use("Agg")

SIZE, STEPS = 32, 6
GRID = ((1, 0, 0, 0), (1, 1, 0, 0), (0, 1, 0, 0), (1, 0, 0, 4))


@pytest.fixture(scope="module")
def backbone():
    return pk.load_backbone("efficientnet-lite0", verbose=False)


@pytest.fixture(scope="module")
def problem():
    return pkw.superres_problem("astronaut", SIZE, factor=4, n_candidates=3)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("lambda-cache")


@pytest.fixture(scope="module")
def results(problem, backbone, cache):
    return pkw.precompute_grid(problem, backbone, GRID, steps=STEPS, cache_dir=cache, progress=False)


@pytest.fixture()
def explorer(problem, backbone, results):
    return pkw.LambdaExplorer(problem, backbone, results, dict(steps=STEPS), initial=(1, 1, 0, 0))


def test_problem_candidates_agree_with_the_input_but_not_with_each_other(problem):
    assert problem.truth.shape == (1, 3, SIZE, SIZE) and problem.observed.shape == (1, 3, SIZE // 4, SIZE // 4)
    assert problem.candidates.shape == (3, 3, SIZE, SIZE)
    for c in problem.candidates:
        assert pk.psnr(problem.downsample(c[None]), problem.observed) > 25
    assert pk.psnr(problem.candidates[:1], problem.candidates[1:2]) < 25
    assert pk.psnr(problem.start, problem.truth) < pk.psnr(problem.downsample(problem.start), problem.observed)


@pytest.mark.parametrize("kw, match", [(dict(size=30), "multiple of factor"), (dict(factor=1), "factor"),
                                       (dict(n_candidates=0), "n_candidates"), (dict(jitter=-1.0), "jitter")])
def test_problem_rejects_bad_settings(kw, match):
    with pytest.raises(ValueError, match=match):
        pkw.superres_problem("astronaut", **{"size": SIZE, **kw})


def test_solve_records_active_terms_only(results):
    pix, mixed, perc, adv = results
    assert set(pix.grads) == {"pix"} and pix.values["perc"] is None and pix.values["adv"] is None
    assert set(mixed.grads) == {"pix", "perc"} and set(adv.grads) == {"pix", "adv"}
    assert len(mixed.history["grad_perc"]) == STEPS
    assert all(v > 0 for r in results for v in r.grads.values())
    # λ are relative to the start: at the start every active term is 1 by construction, and it went down
    assert 0 < mixed.values["pix"] < 1.5 and 0 < mixed.values["perc"] < 1.5
    assert mixed.reference["perc"] > 0 and mixed.reference["pix"] > 0
    # the adversarial term changes the image; the pixel-only solution is the blurriest
    assert (adv.image - pix.image).abs().max() > 1e-3
    assert pix.metrics["sharpness"] < perc.metrics["sharpness"]


@pytest.mark.parametrize("lambdas", [(0, 0, 0, 0), (1, -1, 0, 0), (1, 1, 1), (1, float("nan"), 0, 0)])
def test_solve_rejects_bad_lambdas(problem, backbone, lambdas):
    with pytest.raises(ValueError, match="lambdas"):
        pkw.solve_combined(problem, lambdas, backbone, steps=1, progress=False)


def test_solve_rejects_a_non_backbone(problem):
    with pytest.raises(TypeError, match="Backbone"):
        pkw.solve_combined(problem, (1, 0, 0, 0), torch.nn.Identity(), steps=1, progress=False)


def test_grid_is_cached_on_disk(problem, backbone, results, cache, monkeypatch):
    files = sorted(cache.glob("lambda-*.pt"))
    assert len(files) == len(GRID)

    def boom(*a, **k):
        raise AssertionError("a cached grid point was recomputed")

    monkeypatch.setattr(pkw, "solve_combined", boom)
    again = pkw.precompute_grid(problem, backbone, GRID, steps=STEPS, cache_dir=cache, progress=False)
    for a, b in zip(results, again):
        assert a.lambdas == b.lambdas and torch.equal(a.image, b.image) and a.metrics == b.metrics
    # another setting (steps) is another key: it must be computed, not loaded
    with pytest.raises(AssertionError, match="recomputed"):
        pkw.precompute_grid(problem, backbone, GRID[:1], steps=STEPS + 1, cache_dir=cache, progress=False)


def test_render_snaps_to_the_nearest_mix(results):
    v = pkw.render(results, (1, 1, 0, 0))
    assert v.exact and v.result.lambdas == (1, 1, 0, 0) and "this exact setting" in v.html
    v = pkw.render(results, (3, 3, 0, 0))  # same mix: Adam only sees ratios
    assert v.exact and v.result.lambdas == (1, 1, 0, 0) and "same mix" in v.html
    v = pkw.render(results, (1, 0.1, 0, 0))
    assert not v.exact and v.result.lambdas == (1, 0, 0, 0) and "compute this exact setting" in v.html
    v = pkw.render(results, (1, 0, 0, 3))
    assert v.result.lambdas == (1, 0, 0, 4)
    with pytest.raises(ValueError):
        pkw.render([], (1, 0, 0, 0))


def test_sliders_change_image_numbers_and_plot(explorer):
    before = (explorer.result_image.value, explorer.numbers.value, explorer.plot.value)
    assert explorer.view.result.lambdas == (1, 1, 0, 0)
    explorer.sliders["perc"].value = 0.0  # what a user's drag does
    assert explorer.view.result.lambdas == (1, 0, 0, 0)
    after = (explorer.result_image.value, explorer.numbers.value, explorer.plot.value)
    assert all(a != b for a, b in zip(before, after)), "image, numbers and plot must all change"
    psnr = explorer.view.result.metrics["psnr"]
    assert f"PSNR {psnr:.2f} dB" in explorer.numbers.value
    assert explorer.last_latency > 0  # measured; the < 0.2 s target is checked by `make bench`
    explorer.sliders["adv"].value = 4.0
    assert explorer.view.result.lambdas == (1, 0, 0, 4) and "adv" in explorer.view.result.grads
    assert "<td>adv</td><td>4</td>" in explorer.numbers.value


def test_all_zero_is_refused_politely(explorer):
    explorer.set(pix=0)
    shown = explorer.view
    explorer.set(perc=0)
    assert "nothing to optimise" in explorer.status.value and explorer.view is shown
    with pytest.raises(ValueError, match="unknown slider"):
        explorer.set(gamma=1)


def test_button_computes_the_exact_setting(explorer):
    explorer.set(pix=1, perc=2)
    assert not explorer.view.exact
    n = len(explorer.results)
    explorer.button.click()
    assert len(explorer.results) == n + 1 and explorer.view.exact
    assert explorer.view.result.lambdas == (1, 2, 0, 0)
    assert "computed" in explorer.status.value and not explorer.button.disabled
    assert explorer.find((2, 4, 0, 0)) is explorer.view.result
    with pytest.raises(KeyError):
        explorer.find((0, 0, 1, 0))


def test_no_slider_move_encodes_after_build_or_live_run(explorer, monkeypatch):
    """Every move (the first after the panel is built or after a live run too) only looks PNGs up."""
    plot_before = explorer._plot_cache[id(explorer.find((1, 0, 0, 0)))]
    explorer.set(pix=1, perc=3)
    explorer.compute_exact()
    live = explorer.view.result
    assert set(explorer._plot_cache) == {id(r) for r in explorer.results}
    assert explorer._plot_cache[id(explorer.find((1, 0, 0, 0)))] != plot_before, "old plots must show the new point"

    def no_encoding(*a, **k):
        raise AssertionError("a slider move encoded a PNG")

    monkeypatch.setattr(pkw, "_png", no_encoding)
    monkeypatch.setattr(pkw, "_image_png", no_encoding)
    for move in [dict(perc=0), dict(perc=1), dict(adv=4), dict(pix=1, perc=3, adv=0)]:
        explorer.set(**move)
    assert explorer.view.result is live


def test_perception_distortion_plot(results):
    fig = pkw.plot_perception_distortion(results, highlight=results[1])
    ax = fig.axes[0]
    assert len(ax.collections[0].get_offsets()) == len(results)
    assert len(ax.collections) == 2  # the points and the highlight ring
    assert "PSNR" in ax.get_ylabel()


def test_solver_restores_the_thread_count(problem, backbone):
    before = torch.get_num_threads()
    pkw.solve_combined(problem, (1, 0, 0, 0), backbone, steps=1, progress=False, threads=1)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        pkw.solve_combined(problem, (1, 0, 0, 0), backbone, steps=1, progress=False, threads=0)
