"""Plot helpers: what they draw (axes, titles, shared colour scale) and how they refuse bad input."""

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import percepkit as pk  # noqa: E402


def test_show_images_lays_out_a_batch_with_titles():
    batch = torch.stack([torch.full((3, 8, 12), v) for v in (0.1, 0.5, 0.9)])
    fig = pk.show_images(batch, titles=["a", "b", "c"], ncols=2)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 4 and len(shown) == 3  # 2×2 grid, one empty
    assert [ax.get_title() for ax in shown] == ["a", "b", "c"]
    assert shown[1].images[0].get_array().shape == (8, 12, 3)
    plt.close(fig)
    with pytest.raises(ValueError, match="2 titles for 3 images"):
        pk.show_images(batch, titles=["a", "b"])


def test_show_feature_maps_orders_channels_and_shares_one_colour_scale():
    f = torch.zeros(1, 5, 4, 6)
    for c, v in enumerate((1.0, 5.0, 3.0, 0.5, 2.0)):
        f[0, c] = v
    f[0, 3, 0, 0] = -1.0  # a negative value widens the scale below 0
    fig = pk.show_feature_maps(f, n=3, ncols=3, title="layer")
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["ch 1", "ch 2", "ch 4"]  # highest mean first
    assert {ax.images[0].get_clim() for ax in panels} == {(0.0, 5.0)}  # one scale for all panels
    assert any(ax.get_ylabel() == "activation" for ax in fig.axes)  # the colour bar
    plt.close(fig)
    fig = pk.show_feature_maps(f, n=5, ncols=5)
    assert {ax.images[0].get_clim() for ax in fig.axes if ax.images} == {(-1.0, 5.0)}
    plt.close(fig)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\); got Tensor of shape \(5, 4, 6\)"):
        pk.show_feature_maps(f[0])


def test_plot_history_draws_every_series():
    fig = pk.plot_history({"total": [3.0, 2.0, 1.0], "relu1_2": [2.0, 1.5, 0.5]})
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2 and list(lines[0].get_ydata()) == [3.0, 2.0, 1.0]
    plt.close(fig)


def test_plot_agreement_draws_values_intervals_and_lines():
    import matplotlib.pyplot as plt

    scores = {"L2 / PSNR": 0.5, "relu1": 0.62, "relu2": 0.71, "Gram (style)": 0.4, "LPIPS": 0.8}
    ci = {m: (v - 0.05, v + 0.1) for m, v in scores.items()}
    fig = pk.plot_agreement(scores, layers=("relu1", "relu2"), ceiling=0.85, ci=ci, matched={"relu2": 0.6}, title="t")
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([50, 62, 71, 40, 80])
    ys = [p.get_y() + p.get_height() / 2 for p in ax.patches]
    assert ys == pytest.approx([4, 3, 2, 1, 0])  # the first metric on top
    assert [t.get_text() for t in ax.texts] == ["50%", "62%", "71%", "40%", "80%"]
    vlines = sorted(float(line.get_xdata()[0]) for line in ax.lines
                    if len(set(line.get_xdata())) == 1 and len(line.get_xdata()) == 2)
    assert vlines == pytest.approx([50, 85])
    dots = [line for line in ax.lines if line.get_marker() == "D"]
    assert len(dots) == 1 and list(dots[0].get_xdata()) == pytest.approx([60]) and list(dots[0].get_ydata()) == [2]
    err = [c for c in ax.containers if hasattr(c, "lines") and c.lines and c.lines[2]]
    assert err, "error bars drawn"
    segs = err[0].lines[2][0].get_segments()
    assert [tuple(np.round(s[:, 0], 6)) for s in segs] == [(45, 60), (57, 72), (66, 81), (35, 50), (75, 90)]
    assert ax.get_title() == "t" and "85%" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    plt.close(fig)


def test_plot_agreement_colours_sizes_and_legend():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    names = ["L1", "L2 / PSNR", "SSIM", "relu1", "relu2", "relu3", "perceptual", "Gram (style)", "fitted mix", "LPIPS"]
    scores = {m: 0.5 + 0.03 * k for k, m in enumerate(names)}
    fig = pk.plot_agreement(scores, layers=("relu1", "relu2", "relu3"))
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((7, 0.32 * 10 + 1.6))
    viridis = plt.get_cmap("viridis")
    want = ["#888888"] * 3 + [viridis(0.0), viridis(0.5 * 0.85), viridis(0.85)] + ["#1f77b4", "#8c564b", "#d62728", "#e377c2"]
    assert [p.get_facecolor() for p in ax.patches] == [to_rgba(c) for c in want]
    assert all(p.get_height() == pytest.approx(0.7) for p in ax.patches)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["chance (50 %)", "all triplets"]  # no ceiling, no matched dots, no title
    assert ax.get_xlim() == (0, 100) and ax.get_xlabel() == "agreement with the answers (%)" and ax.get_title() == ""
    assert ax.containers[0].errorbar is None  # no intervals: no error bars
    plt.close(fig)
    one = pk.plot_agreement({"relu1": 0.7, "x": 0.6}, layers=("relu1",), ceiling=0.9)  # one layer: the first colour
    assert one.axes[0].patches[0].get_facecolor() == to_rgba(viridis(0.0))
    assert "observer vs itself (90%)" in [t.get_text() for t in one.axes[0].get_legend().get_texts()]
    plt.close(one)
    nan = pk.plot_agreement({"x": 0.6}, ceiling=float("nan"))  # a ceiling not measured: no line
    assert len([ln for ln in nan.axes[0].lines if ln.get_linestyle() == "--"]) == 0
    plt.close(nan)
    fig, ax = plt.subplots()
    assert pk.plot_agreement({"x": 0.6}, ax=ax, ci={"x": (0.5, 0.7)}, ceiling=0.8, ceiling_label="class") is fig
    caps = [ln for ln in ax.lines if ln.get_marker() in ("|", "_")]
    assert caps and all(ln.get_markersize() == 2 * 3 for ln in caps)  # capsize 3 with intervals
    assert "class (80%)" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
