"""Figures for the notebooks: the shared ones (images, feature maps, histories, bars) and those of notebooks
01-03. Each function returns a matplotlib Figure; nothing changes global style. Notebooks 04-07's figures are
in :mod:`percepkit.plot_04_07`, 08-09's in :mod:`percepkit.plot_08_09`."""

from __future__ import annotations

import math

import torch

from .images import shift, to_numpy
from .losses import shift_distances

__all__ = [
    "show_images", "show_feature_maps", "plot_history", "plot_perception_distortion", "plot_shift",
    "plot_bars", "plot_grouped_bars", "plot_shift_sweep", "plot_receptive_fields", "plot_loss_shares",
]


def _figure_and_axes(ax, figsize):
    """``ax`` and its figure, or a new figure of ``figsize`` inches with one axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        return plt.subplots(figsize=figsize)
    return ax.figure, ax


def _ring(ax, x: float, y: float, size: float) -> None:
    """The red ring around the highlighted point of a perception–distortion plot (the one a slider shows)."""
    ax.scatter([x], [y], s=size, facecolors="none", edgecolors="red", linewidths=2, zorder=3)


def show_images(images, titles=None, ncols: int | None = None, size: float = 3.0, suptitle: str | None = None):
    """Show images side by side.

    Args:
        images: a list of images (anything :func:`percepkit.to_tensor` accepts; the first of a batch is shown),
            or one (N, 3, H, W) tensor whose N images are shown.
        titles: optional list of titles, one per image.
        ncols: images per row (default: all in one row, at most 6).
        size: inches per image.
    """
    import matplotlib.pyplot as plt

    if isinstance(images, torch.Tensor) and images.ndim == 4:
        images = [images[i : i + 1] for i in range(images.shape[0])]
    images = list(images)
    if not images:
        raise ValueError("expected at least one image")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    ncols = ncols or min(len(images), 6)
    nrows = math.ceil(len(images) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, img in enumerate(images):
        ax = axes.flat[i]
        ax.imshow(to_numpy(img), interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_feature_maps(features: torch.Tensor, n: int = 16, ncols: int = 8, size: float = 1.5, title: str | None = None):
    """Show the first ``n`` channels (highest mean activation first) of one layer's features (N, C, H, W).

    All panels share one colour scale (from min(0, lowest) to the highest value shown), drawn as a
    colour bar, so a weak channel looks weak; each map cell is drawn as a block (no smoothing).
    """
    import matplotlib.pyplot as plt

    if not isinstance(features, torch.Tensor) or features.ndim != 4:
        raise ValueError(f"expected features as a tensor (N, C, H, W); got {type(features).__name__} "
                         f"of shape {tuple(getattr(features, 'shape', ()))}")
    f = features[0].detach().float().cpu()
    order = f.flatten(1).mean(1).argsort(descending=True)[:n]
    shown = f[order]
    vmin, vmax = min(0.0, float(shown.min())), float(shown.max())
    vmax = vmax if vmax > vmin else vmin + 1.0
    nrows = math.ceil(len(order) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.8, size * nrows), squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for ax, c in zip(axes.flat, order.tolist()):
        im = ax.imshow(f[c].numpy(), cmap="viridis", vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(f"ch {c}", fontsize=7)
    fig.colorbar(im, ax=axes, shrink=0.9, label="activation")
    if title:
        fig.suptitle(title)
    return fig


def plot_history(history: dict, log: bool = True, ax=None, title: str | None = None, ylabel: str = "loss"):
    """Plot every series of an :func:`~percepkit.optimize_image` history against the step (from 1).

    Args:
        history (dict): ``{name: [value at each step]}``, one line each.
        log (bool): a log y axis, when every value is positive.
        ax: an axes to draw into (default: a new figure).
        title (str | None): the axes' title.
        ylabel (str): the y axis' label.

    Returns:
        matplotlib.figure.Figure: the figure of ``ax``.
    """

    if not isinstance(history, dict) or not history:
        raise ValueError("expected a non-empty dict name -> list of values")
    fig, ax = _figure_and_axes(ax, (5, 3.2))
    for k, v in history.items():
        ax.plot(range(1, len(v) + 1), v, label=k)
    if log and all(val > 0 for v in history.values() for val in v):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_perception_distortion(results, highlight=None, ax=None, title: str | None = None):
    """Distortion (PSNR, higher is better) against perception (spectral-slope gap, lower is better).

    After Blau & Michaeli (2018): the perception axis never looks at the truth — it is
    ``metrics["slope_gap"]``, how far the image's :func:`~percepkit.spectral_slope` is from
    photographs'. Colour: ``metrics["eval_distance"]``, the feature distance to the truth on a
    network that was not optimised (start = 1), with a colour bar. Each point is labelled
    with a number, and the legend gives each number's λ (pix, perc, style, adv).

    Args:
        results: :class:`percepkit.superres.Result` objects (anything with ``lambdas`` and ``metrics``).
        highlight: one of them, circled in red.
        ax: an axes to draw into (default: a new figure).
        title: the axes' title.
    """

    if not results:
        raise ValueError("expected at least one Result")
    fig, ax = _figure_and_axes(ax, (8, 4.2))
    px = [r.metrics["slope_gap"] for r in results]
    py = [r.metrics["psnr"] for r in results]
    points = ax.scatter(px, py, c=[r.metrics["eval_distance"] for r in results], cmap="viridis_r", s=40, zorder=2,
                        edgecolors="black", linewidths=0.4)
    fig.colorbar(points, ax=ax, label="feature distance to truth,\nsecond network (start = 1)")
    from matplotlib.lines import Line2D

    handles = []
    for i, r in enumerate(results, start=1):  # numbers at the points, λ in the legend: labels never overlap
        ax.annotate(str(i), (px[i - 1], py[i - 1]), fontsize=8, xytext=(5, 4), textcoords="offset points")
        handles.append(Line2D([], [], ls="", marker=f"${i}$", color="black",
                              label="λ (" + ", ".join(f"{v:g}" for v in r.lambdas) + ")"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.32, 1.0),
              title="point: λ (pix, perc,\nstyle, adv)",
              title_fontsize=7, frameon=False)
    if highlight is not None:
        _ring(ax, highlight.metrics["slope_gap"], highlight.metrics["psnr"], 200)
    ax.margins(x=0.25, y=0.12)
    ax.set_xlabel("perception: |spectral slope − photographs'| (no reference; lower = more natural)", fontsize=8)
    ax.set_ylabel("distortion: PSNR vs truth (dB; higher = better)", fontsize=8)
    ax.set_title(title or "perception–distortion", fontsize=9)
    fig.tight_layout()
    return fig


def plot_shift(image: torch.Tensor, dx: float, backbone=None, layers=None, reference: dict | None = None):
    """Notebook 02's picture for one shift: original, shifted, |difference| and a bar per metric.

    Args:
        image, dx, backbone, layers, reference: as :func:`percepkit.shift_distances`.

    Returns:
        (matplotlib Figure, dict): the figure (closed, so it is shown only when displayed) and
        the distances from :func:`percepkit.shift_distances`.
    """
    import matplotlib.pyplot as plt

    d = shift_distances(image, dx, backbone, layers, reference)
    moved = shift(image, dx)
    fig, axes = plt.subplots(1, 4, figsize=(12, 2.8), gridspec_kw={"width_ratios": [1, 1, 1, 2]})
    for ax, img, title in zip(axes, (image, moved, (moved - image).abs() * 4), ("original", f"shifted by {dx:g} px",
                                                                               "|difference| × 4")):
        ax.imshow(to_numpy(img.clamp(0, 1)), interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    axes[3].bar(list(d), list(d.values()), color=["tab:gray"] * 2 + ["tab:blue"] * (len(d) - 2))
    axes[3].set_ylim(0, max(1.0, max(d.values()) * 1.1))
    axes[3].set_title("distance" + (" (1 = an unrelated picture)" if reference else ""), fontsize=9)
    axes[3].tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    plt.close(fig)
    return fig, d


def plot_bars(panels: dict, colors=None, fmt=None, figsize: tuple[float, float] | None = None):
    """A row of bar charts, one per panel, each bar named on the x axis.

    Args:
        panels (dict): ``{panel title: {bar name: value}}``, panels left to right, bars in the dict's order.
        colors (list | None): one colour per bar, the same in every panel (default: matplotlib's first colour).
        fmt (str | list[str] | None): a format such as ``"{:.2f}"`` for the value written above each bar, one
            for all panels or one per panel; None writes no values.
        figsize (tuple[float, float] | None): the figure's size in inches (default: 4.5 × 3 per panel).

    Returns:
        matplotlib.figure.Figure: one axes per panel.
    """
    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("expected at least one panel")
    fmts = [fmt] * len(panels) if fmt is None or isinstance(fmt, str) else list(fmt)
    if len(fmts) != len(panels):
        raise ValueError(f"got {len(fmts)} formats for {len(panels)} panels")
    fig, axes = plt.subplots(1, len(panels), figsize=figsize or (4.5 * len(panels), 3), squeeze=False)
    for ax, (title, values), f in zip(axes[0], panels.items(), fmts):
        ax.bar(list(values), list(values.values()), color=colors)
        ax.set_title(title)
        ax.tick_params(axis="x", labelsize=8)
        for i, v in enumerate(values.values()):
            if f is not None:
                ax.annotate(f.format(v), (i, v), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    return fig


def plot_grouped_bars(groups: dict, ylabel: str = "", title: str | None = None, colors=None,
                      figsize: tuple[float, float] = (8, 3.2), tick_fontsize: float | None = None,
                      title_fontsize: float | None = None, width: float | None = None):
    """Grouped bars: one group per category on the x axis, one bar per series in each group, and a legend.

    Args:
        groups (dict): ``{series label: {category: value}}``; every series has the same categories, in the
            same order, and the first series' categories name the groups.
        ylabel (str): the y axis' label.
        title (str | None): the axes' title.
        colors (list | None): one colour per series (default: matplotlib's colour cycle).
        figsize (tuple[float, float]): the figure's size in inches.
        tick_fontsize (float | None): font size of the category names (default: matplotlib's).
        title_fontsize (float | None): font size of the title (default: matplotlib's).
        width (float | None): each bar's width (default: 0.8 / the number of series, so groups touch).

    Returns:
        matplotlib.figure.Figure: one axes; the bars of series ``i`` are ``ax.containers[i]``; the legend
        sits to the right of the axes, so it can never hide a bar.
    """
    import matplotlib.pyplot as plt

    if not groups:
        raise ValueError("expected at least one series")
    categories = list(next(iter(groups.values())))
    for label, values in groups.items():
        if list(values) != categories:
            raise ValueError(f"series {label!r} has categories {list(values)}; expected {categories}")
    fig, ax = plt.subplots(figsize=figsize)
    width = width or 0.8 / len(groups)
    for i, (label, values) in enumerate(groups.items()):
        offset = (i - (len(groups) - 1) / 2) * width
        ax.bar([j + offset for j in range(len(categories))], list(values.values()), width, label=label,
               color=None if colors is None else colors[i])
    ax.set_xticks(range(len(categories)), categories, **({} if tick_fontsize is None else {"fontsize": tick_fontsize}))
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, **({} if title_fontsize is None else {"fontsize": title_fontsize}))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)  # beside the axes: never on a bar
    fig.tight_layout()
    return fig


def plot_shift_sweep(shifts, curves: dict, title: str | None = None):
    """Notebook 02's sweep: each loss against the shift, on a log shift axis.

    Args:
        shifts (list[float]): the shifts in pixels (the x values, each one a tick).
        curves (dict): ``{loss name: [value at each shift]}``. ``"L1"`` and ``"L2"`` are drawn as black
            dotted and dashed pixel curves; every other curve is a layer, coloured shallow → deep (viridis)
            in the dict's order.
        title (str | None): the axes' title.

    Returns:
        matplotlib.figure.Figure: one axes, one line per curve, in the dict's order.
    """
    import matplotlib.pyplot as plt

    layers = [k for k in curves if k not in ("L1", "L2")]
    fig, ax = plt.subplots(figsize=(7, 4))
    cmap = plt.get_cmap("viridis")
    for k, v in curves.items():
        if k in ("L1", "L2"):
            ax.plot(shifts, v, "k--" if k == "L2" else "k:", lw=2, label=f"{k} (pixels)")
        else:
            ax.plot(shifts, v, "o-", color=cmap(layers.index(k) / max(1, len(layers) - 1)), label=k)
    ax.set_xscale("log")
    ax.set_xticks(shifts, [f"{s:g}" for s in shifts])
    ax.minorticks_off()
    ax.set_xlabel("shift (pixels)")
    ax.set_ylabel("distance ÷ distance to an unrelated picture")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_receptive_fields(table, marked=(), image_size: int | None = None, title: str | None = None):
    """Receptive field and stride of every layer against its depth, on a log axis (notebook 03).

    Args:
        table (list): rows of :meth:`percepkit.Backbone.describe` (anything with ``index``, ``name``, ``stride``
            and ``receptive_field``), shallow → deep.
        marked (tuple[str, ...]): layer names to label at their receptive-field point.
        image_size (int | None): draws a dotted line at the image's side, in pixels.
        title (str | None): the axes' title.

    Returns:
        matplotlib.figure.Figure: one axes; its lines are the receptive field, the stride, then the image size.
    """
    import matplotlib.pyplot as plt

    rows = {r.name: r for r in table}
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot([r.index for r in table], [r.receptive_field for r in table], "o-", ms=3, label="receptive field")
    ax.plot([r.index for r in table], [r.stride for r in table], "s-", ms=3, label="stride")
    for name in marked:
        ax.annotate(name, (rows[name].index, rows[name].receptive_field), textcoords="offset points",
                    xytext=(-10, 8), fontsize=8)
    if image_size is not None:
        ax.axhline(image_size, color="gray", ls=":", label=f"image size ({image_size} px)")
    ax.set_yscale("log")
    ax.set_xlabel("layer index")
    ax.set_ylabel("pixels")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_loss_shares(shares: dict, xlabel: str = "share of the loss"):
    """One horizontal stacked bar per row: how a loss splits into its terms (layers), coloured shallow → deep.

    Args:
        shares (dict): ``{row label: {term: share}}``; row ``i`` of the dict is drawn at y = i (the first at
            the bottom); every row has the same terms, in the same order (one row's shares usually add up to 1).
        xlabel (str): the x axis' label.

    Returns:
        matplotlib.figure.Figure: one axes; a legend above it names the terms.
    """
    import matplotlib.pyplot as plt

    if not shares:
        raise ValueError("expected at least one row")
    terms = list(next(iter(shares.values())))
    fig, ax = plt.subplots(figsize=(7, 2.6))
    cmap = plt.get_cmap("viridis")
    for row, s in enumerate(shares.values()):
        left = 0.0
        for k, term in enumerate(terms):
            ax.barh(row, s[term], left=left, color=cmap(k / max(1, len(terms) - 1)), label=term if row == 0 else None)
            left += s[term]
    ax.set_yticks(range(len(shares)), list(shares))
    ax.set_xlabel(xlabel)
    ax.legend(ncol=len(terms), fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    return fig
