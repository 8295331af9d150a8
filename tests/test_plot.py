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
    assert list(lines[1].get_xdata()) == [1, 2, 3] and list(lines[1].get_ydata()) == [2.0, 1.5, 0.5]
    assert fig.axes[0].get_ylabel() == "loss" and fig.axes[0].get_yscale() == "log"
    plt.close(fig)
    fig = pk.plot_history({"pix": [0.5, 0.0]}, ylabel="pull", title="t")  # a zero: no log axis
    assert fig.axes[0].get_ylabel() == "pull" and fig.axes[0].get_yscale() == "linear"
    assert fig.axes[0].get_title() == "t" and [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["pix"]
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


def test_show_gram_shows_the_image_the_most_active_channel_and_the_gram_corner():
    image = torch.rand(1, 3, 8, 8)
    f = torch.zeros(1, 4, 5, 5)
    f[0, 2] = torch.arange(25.0).reshape(5, 5)  # channel 2 has the highest mean
    gram = torch.arange(16.0).reshape(1, 4, 4)
    fig = pk.show_gram(image, f, gram, "relu2_1", "brick (64px)", n=3)
    img_ax, channel_ax, gram_ax = fig.axes[:3]
    assert len(fig.axes) == 4  # and the colour bar
    assert np.allclose(img_ax.images[0].get_array(), pk.to_numpy(image))
    assert np.array_equal(channel_ax.images[0].get_array(), f[0, 2].numpy())
    assert np.array_equal(gram_ax.images[0].get_array(), gram[0, :3, :3].numpy())
    assert [ax.get_title() for ax in fig.axes[:3]] == ["brick (64px)", "relu2_1: most active channel",
                                                       "Gram of relu2_1 (first 3 channels)"]
    plt.close(fig)


def test_plot_images_and_layers_draws_the_images_then_one_line_per_curve():
    images = {"original": torch.zeros(1, 3, 4, 4), "rolled": torch.ones(1, 3, 4, 4)}
    curves = {"rolled: features": [0.5, 0.8, 0.9], "rolled: Gram": [0.1, 0.2, 0.3]}
    styles = {"rolled: features": ("o--", "C0"), "rolled: Gram": ("s-", "C0")}
    fig = pk.plot_images_and_layers(images, curves, ["l1", "l2", "l3"], styles=styles, span=2, ylabel="relative",
                                    shade_from=1.5, logy=True, title="errors", image_title_fontsize=9,
                                    legend_fontsize=7)
    *img_axes, ax = fig.axes
    assert [a.get_title() for a in img_axes] == ["original", "rolled"]
    assert img_axes[0].title.get_fontsize() == 9 and ax.get_legend().get_texts()[0].get_fontsize() == 7
    assert [float(a.images[0].get_array().mean()) for a in img_axes] == [0.0, 1.0]
    assert ax.get_subplotspec().colspan == range(2, 4)  # the plot spans the last two of four columns
    lines = ax.get_lines()
    assert [list(ln.get_ydata()) for ln in lines] == list(curves.values())
    assert [list(ln.get_xdata()) for ln in lines] == [[0, 1, 2]] * 2
    assert [(ln.get_linestyle(), ln.get_marker()) for ln in lines] == [("--", "o"), ("-", "s")]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["l1", "l2", "l3"]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "relative" and ax.get_title() == "errors"
    assert len(ax.patches) == 1 and ax.patches[0].get_x() == 1.5  # the shaded deep layers
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(curves)
    plt.close(fig)
    fig = pk.plot_images_and_layers({"a": torch.zeros(1, 3, 4, 4)}, {"x": [1.0, 2.0]}, ["l1", "l2"])
    assert fig.axes[-1].get_yscale() == "linear" and len(fig.axes[-1].patches) == 0
    plt.close(fig)


def test_show_matrices_writes_each_entry_in_a_colour_that_reads_on_its_cell():
    m = torch.tensor([[0.5, 0.0, 0.1], [0.0, 0.5, 0.2], [0.1, 0.2, 0.35]])
    fig = pk.show_matrices({"A": torch.zeros(1, 3, 4, 4)}, {"Gram of A": m, "Gram of B": m.T * 0.5})
    assert len(fig.axes) == 3 and [ax.get_title() for ax in fig.axes] == ["A", "Gram of A", "Gram of B"]
    ax = fig.axes[1]
    assert np.allclose(ax.images[0].get_array(), m.numpy()) and ax.images[0].get_clim() == (0.0, 0.5)
    texts = ax.texts
    assert [t.get_text() for t in texts] == [f"{float(v):.2f}" for v in m.flatten()]
    assert [t.get_position() for t in texts[:4]] == [(0, 0), (1, 0), (2, 0), (0, 1)]  # (column, row)
    assert [t.get_color() for t in texts[:3]] == ["k", "w", "w"] and texts[-1].get_color() == "k"  # 0.35 > 0.3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["R", "G", "B"]
    assert [t.get_text() for t in fig.axes[2].texts][:2] == ["0.25", "0.00"]
    plt.close(fig)


def test_plot_lambda_conventions_draws_log_lambda_and_stacked_layer_shares():
    lam = {"none": 1e-6, "÷H·W": 1.0, "÷C·H·W": 100.0}
    per_layer = {"none": {"a": 3.0, "b": 1.0}, "÷H·W": {"a": 1.0, "b": 1.0}, "÷C·H·W": {"a": 0.0, "b": 2.0}}
    fig = pk.plot_lambda_conventions(lam, per_layer)
    left, right = fig.axes
    assert [p.get_height() for p in left.patches] == pytest.approx([-6, 0, 2])
    assert [t.get_text() for t in left.get_xticklabels()] == list(lam)
    a, b = right.containers
    assert [p.get_height() for p in a] == pytest.approx([0.75, 0.5, 0.0])
    assert [p.get_height() for p in b] == pytest.approx([0.25, 0.5, 1.0])
    assert [p.get_y() for p in b] == pytest.approx([0.75, 0.5, 0.0])  # stacked on the first layer's share
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["a", "b"]
    assert left.get_ylabel() == "log10 λ*" and right.get_title() == "which layer dominates the sum"
    plt.close(fig)


def test_plot_grouped_bars_takes_a_bar_width():
    fig = pk.plot_grouped_bars({"a": {"x": 1.0, "y": 2.0}, "b": {"x": 3.0, "y": 4.0}}, width=0.25)
    ax = fig.axes[0]
    assert [p.get_width() for c in ax.containers for p in c] == pytest.approx([0.25] * 4)
    assert [p.get_x() + p.get_width() / 2 for p in ax.containers[1]] == pytest.approx([0.125, 1.125])
    plt.close(fig)


def test_plot_images_and_layers_without_layers_plots_against_the_step():
    fig = pk.plot_images_and_layers({"start": torch.zeros(1, 3, 4, 4)}, {"frozen": [1.0, 0.5, 0.25]}, logy=True,
                                    xlabel="step", ylabel="loss / start")
    ax = fig.axes[-1]
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [0, 1, 2] and list(line.get_ydata()) == [1.0, 0.5, 0.25]
    assert line.get_marker() in ("None", None, "") and line.get_linestyle() == "-"
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "loss / start" and ax.get_yscale() == "log"
    plt.close(fig)


def test_plot_histograms_bins_every_value_of_each_tensor():
    a = torch.tensor([[-1.0, -0.5, 0.0, 0.0], [1.0, 2.0, 3.0, 3.0]])
    b = a.clamp(min=0)
    fig = pk.plot_histograms({"real": a, "stored": b}, bins=4, log=False)
    ax = fig.axes[0]
    counts = [[p.get_height() for p in c] for c in ax.containers]
    assert [sum(c) for c in counts] == [8, 8]  # every value binned
    assert counts[0] == [2, 2, 1, 3] and counts[1] == [4, 1, 1, 2]  # bins of 1 from -1 to 3; of 0.75 from 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["real", "stored"]
    assert [list(ln.get_xdata()) for ln in ax.get_lines()] == [[0.0, 0.0]]  # the mark at 0
    assert ax.get_yscale() == "linear" and ax.get_xlabel() == "activation value"
    plt.close(fig)
    fig = pk.plot_histograms({"real": a}, mark=None)
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].get_lines()) == 0
    plt.close(fig)


def test_plot_barh_panels_draws_the_same_rows_in_each_panel():
    from matplotlib.colors import to_rgba

    panels = {"MB saved": {"cached": 1.0, "plain": 1.0, "with autograd": 3.0}, "nodes": {"cached": 10, "plain": 10,
                                                                                         "with autograd": 25}}
    fig = pk.plot_barh_panels(panels)
    left, right = fig.axes
    assert [p.get_width() for p in left.patches] == [1.0, 1.0, 3.0]
    assert [p.get_width() for p in right.patches] == [10, 10, 25]
    assert [p.get_y() + p.get_height() / 2 for p in right.patches] == pytest.approx([0, 1, 2])
    assert [t.get_text() for t in left.get_yticklabels()] == ["cached", "plain", "with autograd"]
    assert len(right.get_yticks()) == 0  # the names once, on the left
    assert (left.get_xlabel(), right.get_xlabel()) == ("MB saved", "nodes")
    assert left.patches[0].get_facecolor() == to_rgba("C0") and right.patches[0].get_facecolor() == to_rgba("C1")
    plt.close(fig)


def test_plot_backbone_comparison_draws_tolerances_and_the_cross_matrix():
    tolerance = {"vgg": {"relu1_2": 3.0, "relu5_4": 0.2}, "random": {"relu1_2": 2.0, "relu5_4": 0.9}}
    cross = {("vgg", "vgg"): 0.1, ("vgg", "random"): 0.7, ("random", "vgg"): 0.4, ("random", "random"): 0.05}
    fig = pk.plot_backbone_comparison(tolerance, cross)
    lines_ax, matrix_ax = fig.axes[:2]
    lines = lines_ax.get_lines()
    assert [list(ln.get_ydata()) for ln in lines[:2]] == [[3.0, 0.2], [2.0, 0.9]]
    assert list(lines[2].get_ydata()) == [1, 1]  # the dotted line at 1
    assert lines_ax.get_yscale() == "log" and [t.get_text() for t in lines_ax.get_legend().get_texts()] == ["vgg", "random"]
    assert np.allclose(matrix_ax.images[0].get_array(), [[0.1, 0.7], [0.4, 0.05]])  # rows: measurer, columns: maker
    assert matrix_ax.get_ylabel() == "measured by"
    assert [(t.get_text(), t.get_color()) for t in matrix_ax.texts] == [("0.10", "k"), ("0.70", "w"), ("0.40", "k"),
                                                                        ("0.05", "k")]
    assert [t.get_text() for t in matrix_ax.get_yticklabels()] == ["vgg", "random"]
    assert len(fig.axes) == 3  # and the colour bar
    plt.close(fig)


def test_plot_barh_panels_with_row_colours_titles_and_the_first_row_on_top():
    from matplotlib.colors import to_rgba

    panels = {"CPU-s": {"MSE": 0.1, "+ perceptual": 0.4}, "MiB": {"MSE": 2.0, "+ perceptual": 9.0}}
    fig = pk.plot_barh_panels(panels, colors=["grey", "tab:blue"], titles=["time", "memory"], top_down=True,
                              suptitle="one step")
    left, right = fig.axes
    assert [p.get_width() for p in right.patches] == [2.0, 9.0]
    assert [p.get_facecolor() for p in left.patches] == [to_rgba("grey"), to_rgba("tab:blue")]
    assert left.yaxis_inverted() and right.yaxis_inverted()  # the first row on top
    assert (left.get_title(), right.get_title()) == ("time", "memory") and fig._suptitle.get_text() == "one step"
    plt.close(fig)


def test_show_image_grid_puts_each_batch_in_a_column():
    cols = {"noisy": torch.stack([torch.full((3, 4, 4), 0.1), torch.full((3, 4, 4), 0.2)]),
            "truth": torch.stack([torch.full((3, 4, 4), 0.3), torch.full((3, 4, 4), 0.4)])}
    fig = pk.show_image_grid(cols, row_labels=["chelsea", "coffee"], suptitle="held out", size=2, height=5)
    assert len(fig.axes) == 4 and tuple(fig.get_size_inches()) == pytest.approx((4, 5))
    means = [round(float(ax.images[0].get_array().mean()), 3) for ax in fig.axes]
    assert means == [0.1, 0.3, 0.2, 0.4]  # row by row: row 0 is each batch's first image
    assert [ax.get_title() for ax in fig.axes[:2]] == ["noisy", "truth"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["chelsea", "", "coffee", ""]
    assert fig._suptitle.get_text() == "held out"
    plt.close(fig)


def test_plot_crops_and_spectra_draws_crops_over_their_log_spectra():
    crops = {"bicubic": torch.full((1, 3, 4, 4), 0.5), "truth": torch.full((1, 3, 4, 4), 0.25)}
    spectra = [torch.full((8, 8), 100.0), torch.full((8, 8), 1e-9)]
    fig = pk.plot_crops_and_spectra(crops, spectra, ["grid 1", "grid 1"], suptitle="x4")
    top, bottom = fig.axes[:2], fig.axes[2:]
    assert [ax.get_title() for ax in top] == ["bicubic", "truth"]
    assert [float(ax.images[0].get_array().mean()) for ax in top] == pytest.approx([0.5, 0.25])
    assert [ax.get_title() for ax in bottom] == ["grid 1", "grid 1"]
    assert [float(ax.images[0].get_array().mean()) for ax in bottom] == pytest.approx([2.0, -6.0])  # log10, floor 1e-6
    assert {ax.images[0].get_clim() for ax in bottom} == {(-4, 2)}
    assert bottom[0].get_ylabel() == "cycles/pixel" and fig._suptitle.get_text() == "x4"
    plt.close(fig)


def test_plot_spectrum_ratios_draws_each_ratio_and_the_reference():
    freqs = np.array([0.1, 0.2, 0.3])
    fig = pk.plot_spectrum_ratios(freqs, {"MSE": np.array([1.0, 0.5, 0.1]), "noisy": np.array([1.0, 2.0, 5.0])},
                                  title="t")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [list(ln.get_ydata()) for ln in lines[:2]] == [[1.0, 0.5, 0.1], [1.0, 2.0, 5.0]]
    assert list(lines[0].get_xdata()) == [0.1, 0.2, 0.3] and list(lines[2].get_ydata()) == [1, 1]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["MSE", "noisy", "truth"]
    assert ax.get_yscale() == "log" and ax.get_title() == "t" and ax.get_ylabel() == "power / truth's power"
    plt.close(fig)


def test_plot_measure_panels_groups_outputs_by_picture_in_each_measure():
    from matplotlib.colors import to_rgba

    measures = {"chelsea": {"mse": {"PSNR": 30.0, "LPIPS": 0.2}, "gan": {"PSNR": 28.0, "LPIPS": 0.1}},
                "coffee": {"mse": {"PSNR": 25.0, "LPIPS": 0.3}, "gan": {"PSNR": 24.0, "LPIPS": 0.15}}}
    fig = pk.plot_measure_panels(measures, {"PSNR": "dB", "LPIPS": "lower = closer"},
                                 {"mse": "tab:blue", "gan": "tab:orange"}, suptitle="each output")
    psnr, lpips = fig.axes
    assert [p.get_height() for p in psnr.containers[0]] == [30.0, 25.0]  # mse: chelsea, coffee
    assert [p.get_height() for p in lpips.containers[1]] == [0.1, 0.15]  # gan
    assert [p.get_x() + p.get_width() / 2 for p in lpips.containers[1]] == pytest.approx([0.135, 1.135])
    assert lpips.containers[0][0].get_facecolor() == to_rgba("tab:blue")
    assert psnr.get_title() == "PSNR\n(dB)" and [t.get_text() for t in psnr.get_xticklabels()] == ["chelsea", "coffee"]
    assert psnr.get_ylim()[0] == pytest.approx(23.0) and lpips.get_ylim()[0] == 0  # only PSNR's axis is cut
    assert [t.get_text() for t in psnr.get_legend().get_texts()] == ["mse", "gan"] and lpips.get_legend() is None
    plt.close(fig)


def test_plot_blends_and_images_shows_the_plane_and_each_chosen_blend():
    from types import SimpleNamespace

    blends = [SimpleNamespace(alpha=a, psnr=30 - 4 * a, lpips=0.3 - 0.2 * a, image=torch.full((1, 3, 4, 4), a))
              for a in (0.0, 0.5, 1.0)]
    fig = pk.plot_blends_and_images(blends, [blends[0], blends[2]], highlight=blends[1])
    plane, _colourbar, left, right = fig.axes
    assert list(plane.get_lines()[0].get_xdata()) == [30, 28, 26]  # the blends, joined in order of α
    assert [ax.get_title() for ax in (left, right)] == ["α = 0.0: PSNR 30.00 dB, LPIPS 0.300",
                                                        "α = 1.0: PSNR 26.00 dB, LPIPS 0.100"]
    assert [float(ax.images[0].get_array().mean()) for ax in (left, right)] == [0.0, 1.0]
    plt.close(fig)


def test_plot_critic_logits_draws_each_kind_on_its_row_with_its_median():
    logits = {"bicubic": torch.tensor([1.0, 2.0, 3.0]), "truth": torch.tensor([-1.0, 0.0, 5.0, 6.0, 7.0])}
    fig = pk.plot_critic_logits(logits, title="critic")
    ax = fig.axes[0]
    dots = [c.get_offsets() for c in ax.collections]
    assert [list(d[:, 0]) for d in dots] == [[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0, 6.0, 7.0]]
    assert all(abs(d[:, 1] - i).max() < 0.6 for i, d in enumerate(dots))  # jittered around row i
    again = pk.plot_critic_logits(logits)
    assert np.array_equal(again.axes[0].collections[1].get_offsets(), dots[1])  # the jitter is seeded
    medians = [ln for ln in ax.get_lines() if ln.get_color() == "black" and ln.get_linewidth() == 2]
    assert [(list(m.get_xdata()), list(m.get_ydata())) for m in medians] == [([2.0, 2.0], [-0.3, 0.3]),
                                                                            ([5.0, 5.0], [0.7, 1.3])]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bicubic", "truth"] and ax.get_title() == "critic"
    plt.close(fig)
    plt.close(again)


def test_plot_chance_draws_the_coin_flips_the_band_and_each_mark():
    coin = np.array([[0.5, 0.45], [0.55, 0.6]])
    fig = pk.plot_chance(coin, 0.4, 0.6, {"L2: 50%": (0.5, "k", "--"), "SSIM: 70%": (0.7, "#888", "-")})
    ax = fig.axes[0]
    assert sum(p.get_height() for p in ax.containers[0]) == 4  # every coin-flip agreement binned
    band = [p for p in ax.patches if p not in ax.containers[0].patches]
    assert len(band) == 1 and band[0].get_x() == pytest.approx(40) and band[0].get_width() == pytest.approx(20)
    assert [float(ln.get_xdata()[0]) for ln in ax.get_lines()] == [50, 70]
    assert [ln.get_linestyle() for ln in ax.get_lines()] == ["--", "-"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "95 % of chance: 40%–60%" in labels and "SSIM: 70%" in labels
    plt.close(fig)


def test_plot_cross_validation_draws_layers_chosen_and_fitted_per_result():
    from types import SimpleNamespace

    control = SimpleNamespace(layers={"relu1": 0.6, "relu3": 0.7}, chosen=0.65, fitted=0.9)
    you = SimpleNamespace(layers={"relu1": 0.5, "relu3": 0.55}, chosen=0.5, fitted=0.45)
    fig = pk.plot_cross_validation({"control": control, "you": you})
    left, right = fig.axes
    assert [p.get_height() for p in left.patches] == pytest.approx([60, 70, 65, 90])
    assert [p.get_height() for p in right.patches] == pytest.approx([50, 55, 50, 45])
    assert [t.get_text() for t in right.texts] == ["50%", "55%", "50%", "45%"]
    assert [t.get_text() for t in left.get_xticklabels()][-1] == "fitted mix"
    assert (left.get_title(), right.get_title()) == ("control", "you")
    assert left.get_ylabel() == "held-out agreement (%)" and left.get_position().width > right.get_position().width
    plt.close(fig)


def test_plot_srgan_verdicts_draws_shares_and_opinion_scores():
    shares = {"L2 / PSNR": 0.0, "perceptual": 0.5, "LPIPS": 5 / 6}
    mos = {"bicubic": 1.47, "SRGAN": 3.56}
    fig = pk.plot_srgan_verdicts(shares, ["#888", "#1f77b4", "#e377c2"], mos, title="closer?", mos_title="MOS",
                                 xlabel="% of the 6")
    left, right = fig.axes
    assert [p.get_width() for p in left.patches] == pytest.approx([0, 50, 500 / 6])
    assert left.yaxis_inverted() and [t.get_text() for t in left.get_yticklabels()] == list(shares)
    assert [t.get_text() for t in left.texts] == ["0%", "50%", "83%"]
    assert [p.get_height() for p in right.patches] == pytest.approx([1.47, 3.56])
    assert [t.get_text() for t in right.texts] == ["1.47", "3.56"] and right.get_ylim() == (1, 5)
    assert (left.get_title(), right.get_title(), left.get_xlabel()) == ("closer?", "MOS", "% of the 6")
    plt.close(fig)


def test_the_highlighted_point_gets_a_red_ring(sr_results):
    from matplotlib.colors import to_rgba

    fig = pk.plot_perception_distortion(sr_results, highlight=sr_results[1])
    rings = [c for c in fig.axes[0].collections if len(c.get_edgecolor()) and
             tuple(c.get_edgecolor()[0]) == to_rgba("red") and c.get_sizes()[0] == 200]
    assert len(rings) == 1
    x, y = rings[0].get_offsets()[0]
    assert (x, y) == pytest.approx((sr_results[1].metrics["slope_gap"], sr_results[1].metrics["psnr"]))
    plt.close(fig)


def test_plot_grouped_bars_legend_never_covers_a_bar():
    """Notebook 06's fault chart had its legend on a bar: the legend now sits beside the axes, inside the figure."""
    groups = {f"fault {k}": {"relu1_2": 0.9 + 0.01 * k, "relu2_2": 1.0, "relu3_4": 0.95} for k in range(3)}
    fig = pk.plot_grouped_bars(groups, ylabel="relative change", title="how far each fault moves the features", width=0.25)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [b.get_window_extent(renderer) for c in ax.containers for b in c]
    assert not any(legend.overlaps(b) for b in bars)
    assert legend.x0 >= ax.get_window_extent(renderer).x1  # right of the axes
    assert legend.x1 <= fig.get_window_extent(renderer).x1 + 1  # and not cut off
    plt.close(fig)
