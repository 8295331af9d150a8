"""Plot helpers: what they draw (axes, titles, shared colour scale) and how they refuse bad input."""

import matplotlib

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
