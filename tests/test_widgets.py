"""The λ panel of notebook 05, driven from pytest: no kernel, no browser (tiny problem and grid)."""

import pytest

import percepkit as pk
from conftest import SR_STEPS
from percepkit import widgets as pkw


@pytest.fixture()
def explorer(sr_problem, lite, sr_results):
    return pkw.LambdaExplorer(sr_problem, lite, sr_results, dict(steps=SR_STEPS), initial=(1, 1, 0, 0))


def test_render_snaps_to_the_nearest_mix(sr_results):
    v = pkw.render(sr_results, (1, 1, 0, 0))
    assert v.exact and v.result.lambdas == (1, 1, 0, 0) and "this exact setting" in v.html
    v = pkw.render(sr_results, (3, 3, 0, 0))  # same mix: Adam only sees ratios
    assert v.exact and v.result.lambdas == (1, 1, 0, 0) and "same mix" in v.html
    v = pkw.render(sr_results, (1, 0.1, 0, 0))
    assert not v.exact and v.result.lambdas == (1, 0, 0, 0) and "compute this exact setting" in v.html
    v = pkw.render(sr_results, (1, 0, 0, 3))
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
    monkeypatch.setattr(pkw, "to_png", no_encoding)
    for move in [dict(perc=0), dict(perc=1), dict(adv=4), dict(pix=1, perc=3, adv=0)]:
        explorer.set(**move)
    assert explorer.view.result is live


def test_perception_distortion_plot(sr_results):
    fig = pk.plot_perception_distortion(sr_results, highlight=sr_results[1])
    ax = fig.axes[0]
    assert len(ax.collections[0].get_offsets()) == len(sr_results)
    assert len(ax.collections) == 2  # the points and the highlight ring
    assert "PSNR" in ax.get_ylabel()


