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


def test_plot_bars_draws_each_panel_with_its_values_colours_and_labels():
    from matplotlib.colors import to_rgba

    panels = {"sharpness": {"a": 0.5, "b": 0.125}, "recovered": {"a": 1.0, "b": 0.25}}
    fig = pk.plot_bars(panels, colors=["tab:red", "tab:blue"], fmt=["{:.3f}", "{:.1f}"], figsize=(6, 2))
    assert len(fig.axes) == 2 and tuple(fig.get_size_inches()) == pytest.approx((6, 2))
    assert [ax.get_title() for ax in fig.axes] == ["sharpness", "recovered"]
    for ax, values in zip(fig.axes, panels.values()):
        assert [p.get_height() for p in ax.patches] == list(values.values())
        assert [p.get_x() + p.get_width() / 2 for p in ax.patches] == pytest.approx([0, 1])
        assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
        assert [p.get_facecolor() for p in ax.patches] == [to_rgba("tab:red"), to_rgba("tab:blue")]
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.500", "0.125"]
    assert [t.get_text() for t in fig.axes[1].texts] == ["1.0", "0.2"]
    assert [t.xy for t in fig.axes[1].texts] == [(0, 1.0), (1, 0.25)]  # each value sits on its bar
    plt.close(fig)
    fig = pk.plot_bars({"L2": {"x": 3.0}})  # no formats: no values written; default size
    assert len(fig.axes[0].texts) == 0 and tuple(fig.get_size_inches()) == pytest.approx((4.5, 3))
    plt.close(fig)
    with pytest.raises(ValueError, match="1 formats for 2 panels"):
        pk.plot_bars(panels, fmt=["{:.1f}"])
    with pytest.raises(ValueError, match="at least one panel"):
        pk.plot_bars({})


def test_plot_grouped_bars_puts_each_series_in_its_slot_of_every_group():
    from matplotlib.colors import to_rgba

    groups = {"shift": {"relu1": 1.0, "relu3": 2.0}, "blur": {"relu1": 3.0, "relu3": 4.0},
              "noise": {"relu1": 5.0, "relu3": 6.0}}
    fig = pk.plot_grouped_bars(groups, ylabel="relative", title="equal MSE", tick_fontsize=7, title_fontsize=9)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and len(ax.containers) == 3
    for i, (label, values) in enumerate(groups.items()):
        bars = ax.containers[i]
        assert bars.get_label() == label
        assert [b.get_height() for b in bars] == list(values.values())
        centres = [b.get_x() + b.get_width() / 2 for b in bars]
        assert centres == pytest.approx([j + (i - 1) * 0.8 / 3 for j in range(2)])  # series i: slot i of each group
    assert [t.get_text() for t in ax.get_xticklabels()] == ["relu1", "relu3"] and list(ax.get_xticks()) == [0, 1]
    assert ax.get_xticklabels()[0].get_fontsize() == 7
    assert ax.get_title() == "equal MSE" and ax.title.get_fontsize() == 9 and ax.get_ylabel() == "relative"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["shift", "blur", "noise"]
    plt.close(fig)
    fig = pk.plot_grouped_bars({"a": {"x": 1.0}, "b": {"x": 2.0}}, colors=["tab:blue", "tab:gray"])
    ax = fig.axes[0]
    assert [b.get_x() + b.get_width() / 2 for c in ax.containers for b in c] == pytest.approx([-0.2, 0.2])
    assert [c[0].get_facecolor() for c in ax.containers] == [to_rgba("tab:blue"), to_rgba("tab:gray")]
    assert ax.get_title() == ""
    plt.close(fig)
    fig = pk.plot_grouped_bars({"a": {"x": 1.0}}, title="t")  # no font sizes given: matplotlib's defaults
    assert fig.axes[0].title.get_fontsize() == plt.rcParams["axes.titlesize"] or fig.axes[0].title.get_fontsize() == (
        matplotlib.font_manager.FontProperties(size=plt.rcParams["axes.titlesize"]).get_size_in_points())
    plt.close(fig)
    with pytest.raises(ValueError, match=r"series 'b' has categories \['y'\]; expected \['x'\]"):
        pk.plot_grouped_bars({"a": {"x": 1.0}, "b": {"y": 2.0}})


def test_plot_shift_sweep_draws_pixel_curves_black_and_layers_shallow_to_deep():
    shifts = [0.5, 1, 2, 4]
    curves = {"L1": [0.1, 0.2, 0.3, 0.4], "L2": [0.01, 0.04, 0.09, 0.16], "relu1": [0.2, 0.4, 0.6, 0.8],
              "relu3": [0.1, 0.15, 0.2, 0.25], "relu5": [0.0, 0.05, 0.05, 0.1]}
    fig = pk.plot_shift_sweep(shifts, curves, title="sweep")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 5
    for line, v in zip(lines, curves.values()):
        assert list(line.get_xdata()) == shifts and list(line.get_ydata()) == v
    assert [ln.get_label() for ln in lines] == ["L1 (pixels)", "L2 (pixels)", "relu1", "relu3", "relu5"]
    assert [ln.get_linestyle() for ln in lines[:2]] == [":", "--"] and lines[0].get_color() == "k"
    viridis = plt.get_cmap("viridis")
    assert [tuple(ln.get_color()) for ln in lines[2:]] == [viridis(0.0), viridis(0.5), viridis(1.0)]
    assert ax.get_xscale() == "log" and [t.get_text() for t in ax.get_xticklabels()] == ["0.5", "1", "2", "4"]
    assert ax.get_title() == "sweep" and ax.get_xlabel() == "shift (pixels)"
    plt.close(fig)


def test_plot_receptive_fields_draws_both_curves_marks_and_the_image_size():
    from percepkit.backbones import LayerInfo

    table = [LayerInfo(0, "conv1", "conv", (8, 8, 8), 1, 3), LayerInfo(2, "pool1", "pool", (8, 4, 4), 2, 4),
             LayerInfo(3, "conv2", "conv", (8, 4, 4), 2, 8)]
    fig = pk.plot_receptive_fields(table, marked=("conv1", "conv2"), image_size=64, title="rf")
    ax = fig.axes[0]
    rf, stride, size = ax.get_lines()
    assert list(rf.get_xdata()) == [0, 2, 3] and list(rf.get_ydata()) == [3, 4, 8]
    assert list(stride.get_xdata()) == [0, 2, 3] and list(stride.get_ydata()) == [1, 2, 2]
    assert list(size.get_ydata()) == [64, 64]
    assert [(t.get_text(), t.xy) for t in ax.texts] == [("conv1", (0, 3)), ("conv2", (3, 8))]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["receptive field", "stride", "image size (64 px)"]
    assert ax.get_yscale() == "log" and ax.get_title() == "rf" and ax.get_xlabel() == "layer index"
    plt.close(fig)
    fig = pk.plot_receptive_fields(table)
    assert len(fig.axes[0].get_lines()) == 2 and len(fig.axes[0].texts) == 0
    plt.close(fig)


def test_plot_loss_shares_stacks_each_row_in_term_order():
    shares = {"default": {"relu1": 0.5, "relu3": 0.3, "relu5": 0.2}, "balanced": {"relu1": 0.2, "relu3": 0.3, "relu5": 0.5}}
    fig = pk.plot_loss_shares(shares, xlabel="share")
    ax = fig.axes[0]
    assert [p.get_y() + p.get_height() / 2 for p in ax.patches] == pytest.approx([0, 0, 0, 1, 1, 1])  # row i at y = i
    assert [p.get_x() for p in ax.patches] == pytest.approx([0, 0.5, 0.8, 0, 0.2, 0.5])  # each term starts where ...
    assert [p.get_width() for p in ax.patches] == pytest.approx([0.5, 0.3, 0.2, 0.2, 0.3, 0.5])  # ... the last ended
    viridis = plt.get_cmap("viridis")
    assert [p.get_facecolor() for p in ax.patches[:3]] == [viridis(0.0), viridis(0.5), viridis(1.0)]
    assert [p.get_facecolor() for p in ax.patches[3:]] == [viridis(0.0), viridis(0.5), viridis(1.0)]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["default", "balanced"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["relu1", "relu3", "relu5"]  # each term once
    assert ax.get_xlabel() == "share"
    plt.close(fig)
    with pytest.raises(ValueError, match="at least one row"):
        pk.plot_loss_shares({})
