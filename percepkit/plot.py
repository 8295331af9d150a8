"""Figures for the notebooks. Each function returns a matplotlib Figure; nothing changes global style."""

from __future__ import annotations

import math

import torch

from .images import shift, to_numpy
from .losses import shift_distances

__all__ = ["show_images", "show_feature_maps", "plot_history", "plot_perception_distortion", "plot_shift", "plot_blends",
           "plot_agreement", "plot_bars", "plot_grouped_bars", "plot_shift_sweep", "plot_receptive_fields",
           "plot_loss_shares", "show_gram", "plot_images_and_layers", "show_matrices", "plot_lambda_conventions",
           "plot_histograms", "plot_barh_panels", "plot_backbone_comparison", "show_image_grid",
           "plot_crops_and_spectra", "plot_spectrum_ratios", "plot_measure_panels", "plot_blends_and_images",
           "plot_critic_logits", "plot_chance", "plot_cross_validation", "plot_srgan_verdicts"]


def _figure_and_axes(ax, figsize):
    """``ax`` and its figure, or a new figure of ``figsize`` inches with one axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        return plt.subplots(figsize=figsize)
    return ax.figure, ax


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
        ax.scatter([highlight.metrics["slope_gap"]], [highlight.metrics["psnr"]], s=200, facecolors="none",
                   edgecolors="red", linewidths=2, zorder=3)
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
        matplotlib.figure.Figure: one axes; the bars of series ``i`` are ``ax.containers[i]``.
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
    ax.legend(fontsize=8)
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


# --- notebook 04: Gram matrices --------------------------------------------------------------------------


def _image_panel(ax, image, title: str, fontsize: float | None = None):
    ax.imshow(to_numpy(image))
    ax.set_title(title, **({} if fontsize is None else {"fontsize": fontsize}))
    ax.axis("off")


def show_gram(image, features: torch.Tensor, gram: torch.Tensor, layer: str, title: str, n: int = 48):
    """An image, the most active channel of one layer's features and that layer's Gram matrix (notebook 04).

    Args:
        image: the image (anything :func:`percepkit.to_numpy` accepts).
        features (torch.Tensor): the layer's features (N, C, H, W); the first image's channel with the highest
            mean is shown.
        gram (torch.Tensor): its Gram matrix (N, C, C); the first ``n`` × ``n`` entries are shown, with a
            colour bar.
        layer (str): the layer's name, for the titles.
        title (str): the image's title.
        n (int): how many channels of the Gram matrix to show.

    Returns:
        matplotlib.figure.Figure: three image axes and the colour bar's.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    _image_panel(axes[0], image, title)
    f = features[0].detach().cpu()
    axes[1].imshow(f[int(f.mean((1, 2)).argmax())].numpy(), cmap="viridis")
    axes[1].set_title(f"{layer}: most active channel")
    axes[1].axis("off")
    im = axes[2].imshow(gram[0, :n, :n].detach().cpu().numpy(), cmap="magma")
    axes[2].set_title(f"Gram of {layer} (first {n} channels)")
    fig.colorbar(im, ax=axes[2])
    fig.tight_layout()
    return fig


def plot_images_and_layers(images: dict, curves: dict, layers=None, styles: dict | None = None, span: int = 1,
                           logy: bool = False, shade_from: float | None = None, ylabel: str = "",
                           title: str | None = None, figsize: tuple[float, float] = (12, 3.3), xlabel: str = "",
                           image_title_fontsize: float | None = None, legend_fontsize: float = 8):
    """A row of images, then one plot of curves: per layer (notebook 04) or per step (notebook 06).

    Args:
        images (dict): ``{title: image}``, one panel each, left to right.
        curves (dict): ``{label: [value at each layer or step]}``, one line each, at x = 0, 1, 2, ...
        layers (list[str] | None): the layers, the x axis' tick labels (None: matplotlib's ticks).
        styles (dict | None): ``{label: (format, colour)}`` such as ``("o--", "C0")``; default ``"o-"`` in
            matplotlib's colour cycle.
        span (int): how many image widths the plot takes.
        logy (bool): a log y axis.
        shade_from (float | None): shades the x range from this value to the last layer (e.g. deep layers);
            only with ``layers``.
        ylabel (str): the plot's y label.
        title (str | None): the plot's title.
        figsize (tuple[float, float]): the figure's size in inches.
        xlabel (str): the plot's x label.
        image_title_fontsize (float | None): font size of the images' titles (default: matplotlib's).
        legend_fontsize (float): font size of the legend.

    Returns:
        matplotlib.figure.Figure: one axes per image, then the plot's axes (``fig.axes[-1]``).
    """
    import matplotlib.pyplot as plt

    ncols = len(images) + span
    fig = plt.figure(figsize=figsize)
    for i, (name, img) in enumerate(images.items()):
        _image_panel(fig.add_subplot(1, ncols, i + 1), img, name, fontsize=image_title_fontsize)
    ax = fig.add_subplot(1, ncols, (len(images) + 1, ncols))
    for label, values in curves.items():
        fmt, colour = (styles or {}).get(label, ("o-" if layers is not None else "-", None))
        ax.plot(range(len(values)), list(values), fmt, color=colour, label=label)
    if logy:
        ax.set_yscale("log")
    if layers is not None:
        if shade_from is not None:
            ax.axvspan(shade_from, len(layers) - 0.5, color="0.9")
        ax.set_xticks(range(len(layers)), list(layers), rotation=30, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=legend_fontsize)
    fig.tight_layout()
    return fig


def show_matrices(images: dict, matrices: dict, labels=("R", "G", "B"), vmin: float = 0.0, vmax: float = 0.5):
    """A row of images, then small matrices drawn as heat maps with each entry written in (notebook 04).

    Args:
        images (dict): ``{title: image}``.
        matrices (dict): ``{title: (k, k) tensor or array}``.
        labels (tuple[str, ...]): the k row and column names.
        vmin, vmax (float): the colour scale of every matrix (an entry is written in white below
            ``vmin + 0.6 (vmax - vmin)``, in black above).

    Returns:
        matplotlib.figure.Figure: one axes per image, then one per matrix.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(images) + len(matrices), figsize=(3 * (len(images) + len(matrices)), 3))
    for ax, (t, img) in zip(axes, images.items()):
        _image_panel(ax, img, t)
    for ax, (t, m) in zip(axes[len(images):], matrices.items()):
        m = m.detach().cpu().numpy() if isinstance(m, torch.Tensor) else m
        ax.imshow(m, vmin=vmin, vmax=vmax, cmap="magma")
        ax.set_xticks(range(len(labels)), list(labels))
        ax.set_yticks(range(len(labels)), list(labels))
        ax.set_title(t)
        for i in range(len(labels)):
            for j in range(len(labels)):
                v = float(m[i, j])
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w" if v < vmin + 0.6 * (vmax - vmin) else "k")
    fig.tight_layout()
    return fig


def plot_lambda_conventions(lam: dict, per_layer: dict):
    """Notebook 04's two panels: log10 of the balancing λ per convention, and each layer's share of the loss.

    Args:
        lam (dict): ``{convention: λ}``.
        per_layer (dict): ``{convention: {layer: style loss}}``; a layer's share is its loss over the sum.

    Returns:
        matplotlib.figure.Figure: two axes; the second stacks one bar container per layer, shallow first.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    axes[0].bar(range(len(lam)), [math.log10(v) for v in lam.values()], color="C1")
    axes[0].set_xticks(range(len(lam)), list(lam), fontsize=8)
    axes[0].set_ylabel("log10 λ*")
    axes[0].set_title("the λ that balances content and style")
    layers = list(next(iter(per_layer.values())))
    bottom = [0.0] * len(per_layer)
    for j, l in enumerate(layers):
        share = [v[l] / sum(v.values()) for v in per_layer.values()]
        axes[1].bar(range(len(per_layer)), share, bottom=bottom, label=l, color=f"C{j}")
        bottom = [b + s for b, s in zip(bottom, share)]
    axes[1].set_xticks(range(len(per_layer)), list(per_layer), fontsize=8)
    axes[1].set_ylabel("share of the style loss")
    axes[1].set_title("which layer dominates the sum")
    axes[1].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


# --- notebook 06: pitfalls and backbones -----------------------------------------------------------------


def plot_histograms(values: dict, bins: int = 80, log: bool = True, xlabel: str = "activation value",
                    mark: float | None = 0.0):
    """Overlaid histograms of several tensors' values (notebook 06: a conv output against what a loop stored).

    Args:
        values (dict): ``{label: tensor}``; all values of each tensor go into its histogram.
        bins (int): bins per histogram.
        log (bool): a log count axis.
        xlabel (str): the x axis' label.
        mark (float | None): draws a thin vertical line at this value.

    Returns:
        matplotlib.figure.Figure: one axes, one histogram (``ax.containers[i]``) per tensor.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    for label, v in values.items():
        ax.hist(v.detach().flatten().cpu().numpy(), bins=bins, alpha=0.6, label=label, log=log)
    if mark is not None:
        ax.axvline(mark, color="k", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_barh_panels(panels: dict, figsize: tuple[float, float] = (10, 2.8), colors=None, titles=None,
                     top_down: bool = False, suptitle: str | None = None):
    """Side-by-side horizontal bar charts of the same rows (notebooks 06, 07: the cost of each loss).

    Args:
        panels (dict): ``{x label: {row name: value}}``; every panel has the same rows, named on the
            first panel only.
        figsize (tuple[float, float]): the figure's size in inches.
        colors (list | None): one colour per row, the same in every panel (default: panel ``k`` is all
            ``C{k}``).
        titles (list[str] | None): one title per panel.
        top_down (bool): the first row at the top (default: at the bottom, as matplotlib draws categories).
        suptitle (str | None): the figure's title.

    Returns:
        matplotlib.figure.Figure: one axes per panel.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=figsize, squeeze=False)
    for k, (ax, (xlabel, values)) in enumerate(zip(axes[0], panels.items())):
        ax.barh(list(values), list(values.values()), color=f"C{k}" if colors is None else colors)
        ax.set_xlabel(xlabel)
        if titles is not None:
            ax.set_title(titles[k])
        if top_down:
            ax.invert_yaxis()
        if k:
            ax.set_yticks([])
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_backbone_comparison(tolerance: dict, judged: dict):
    """Notebook 06's comparison of networks: shift tolerance by depth, and who judges whose texture best.

    Args:
        tolerance (dict): ``{network: {layer: shift / noise sensitivity}}`` for its shallowest and deepest
            default layer, one line per network (log y axis, a dotted line at 1).
        judged (dict): ``{(judge, maker): Gram error / error of the noise}`` for every pair of networks,
            drawn as a matrix (rows: judge, columns: maker, in ``tolerance``'s order) with each value written in.

    Returns:
        matplotlib.figure.Figure: the line plot's axes, the matrix's, and its colour bar's.
    """
    import matplotlib.pyplot as plt

    names = list(tolerance)
    fig = plt.figure(figsize=(10, 3.6))
    ax = fig.add_subplot(1, 2, 1)
    for name in names:
        ax.plot([0, 1], list(tolerance[name].values()), "o-", label=name)
    ax.axhline(1, color="k", lw=0.6, ls=":")
    ax.set_xticks([0, 1], ["shallowest default layer", "deepest default layer"], fontsize=8)
    ax.set_ylabel("shift / noise sensitivity")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax = fig.add_subplot(1, 2, 2)
    m = [[judged[(j, k)] for k in names] for j in names]
    im = ax.imshow(m, cmap="viridis_r", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=30, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("texture made with")
    ax.set_ylabel("judged by")
    for i in range(len(names)):
        for k in range(len(names)):
            ax.text(k, i, f"{m[i][k]:.2f}", ha="center", va="center", fontsize=7, color="w" if m[i][k] > 0.5 else "k")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title("Gram error / error of the noise", fontsize=9)
    fig.tight_layout()
    return fig


# --- notebook 07: training with a perceptual loss ---------------------------------------------------------


def show_image_grid(columns: dict, row_labels=(), suptitle: str | None = None, size: float = 3.0,
                    height: float | None = None):
    """A grid of images: one column per entry of ``columns``, one row per image of its batch.

    Args:
        columns (dict): ``{column title: (rows, 3, H, W) batch}``, every batch with the same number of images.
        row_labels (list[str]): a label per row, left of the first column.
        suptitle (str | None): the figure's title.
        size (float): inches per image (width).
        height (float | None): the figure's height in inches (default: ``size`` per row).

    Returns:
        matplotlib.figure.Figure: ``rows × columns`` axes, row by row.
    """
    import matplotlib.pyplot as plt

    rows = next(iter(columns.values())).shape[0]
    fig, axes = plt.subplots(rows, len(columns), figsize=(size * len(columns), height or size * rows),
                             squeeze=False)
    for col, (title, imgs) in enumerate(columns.items()):
        for row in range(rows):
            ax = axes[row, col]
            ax.imshow(to_numpy(imgs[row:row + 1]), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0 and row < len(row_labels):
                ax.set_ylabel(row_labels[row])
        axes[0, col].set_title(title)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_crops_and_spectra(crops: dict, spectra, spectrum_titles, suptitle: str | None = None):
    """Top row: image crops; bottom row: their power spectra, log10 on one colour scale (notebook 07).

    Args:
        crops (dict): ``{title: image}``, one column each.
        spectra (list): one power spectrum per column (:func:`percepkit.power_spectrum`: centred,
            frequencies from -0.5 to 0.5 cycles/pixel), drawn as log10 from -4 to 2.
        spectrum_titles (list[str]): one title per spectrum (titles may repeat).
        suptitle (str | None): the figure's title.

    Returns:
        matplotlib.figure.Figure: 2 × columns axes, the crops first.
    """
    import matplotlib.pyplot as plt

    n = len(crops)
    fig, axes = plt.subplots(2, n, figsize=(3 * n, 6.6), squeeze=False)
    for col, ((title, img), power, stitle) in enumerate(zip(crops.items(), spectra, spectrum_titles)):
        axes[0, col].imshow(to_numpy(img), interpolation="nearest")
        axes[0, col].set_title(title, fontsize=10)
        axes[0, col].set_xticks([])
        axes[0, col].set_yticks([])
        power = torch.as_tensor(power).detach().cpu()
        axes[1, col].imshow(power.clamp(min=1e-6).log10().numpy(), cmap="magma", vmin=-4, vmax=2,
                            extent=(-0.5, 0.5, 0.5, -0.5))
        axes[1, col].set_title(stitle, fontsize=10)
        axes[1, col].set_xticks([-0.25, 0, 0.25])
        axes[1, col].set_yticks([-0.25, 0, 0.25])
    axes[1, 0].set_ylabel("cycles/pixel")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_spectrum_ratios(freqs, ratios: dict, title: str | None = None, reference: str = "truth"):
    """Each output's radial power over a reference's, against frequency, on a log axis (notebook 07).

    Args:
        freqs: the frequencies (cycles/pixel) of :func:`percepkit.radial_spectrum`.
        ratios (dict): ``{name: power / reference's power at each frequency}``, one line each.
        title (str | None): the axes' title.
        reference (str): the name of the dashed line at 1.

    Returns:
        matplotlib.figure.Figure: one axes, the ratios' lines then the reference's.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.4))
    for name, r in ratios.items():
        ax.plot(freqs, r, label=name)
    ax.axhline(1, color="k", lw=1, ls="--", label=reference)
    ax.set_yscale("log")
    ax.set(xlabel="frequency (cycles/pixel; 0.5 = finest)", ylabel=f"power / {reference}'s power")
    if title:
        ax.set_title(title)
    ax.legend()
    return fig


# --- notebook 08: real networks ----------------------------------------------------------------------------


def plot_measure_panels(measures: dict, panels: dict, colours: dict, suptitle: str | None = None,
                        low_floor: tuple = ("PSNR",)):
    """One grouped bar chart per measure: a group per picture, a bar per output (notebook 08).

    Args:
        measures (dict): ``{picture: {output: {measure: value}}}``.
        panels (dict): ``{measure: what it means}``; each panel is titled ``"measure\n(what it means)"``.
        colours (dict): ``{output: colour}``: which outputs to draw, in this order.
        suptitle (str | None): the figure's title.
        low_floor (tuple[str, ...]): measures whose y axis starts 1 below their lowest bar (not at 0).

    Returns:
        matplotlib.figure.Figure: one axes per panel; the legend is on the first.
    """
    import matplotlib.pyplot as plt

    pictures, kinds = list(measures), list(colours)
    width = 0.27
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.2), squeeze=False)
    for ax, (key, label) in zip(axes[0], panels.items()):
        for j, kind in enumerate(kinds):
            ax.bar([i + (j - (len(kinds) - 1) / 2) * width for i in range(len(pictures))],
                   [measures[n][kind][key] for n in pictures], width, color=colours[kind], label=kind)
        ax.set_xticks(range(len(pictures)), pictures, fontsize=8)
        ax.set_title(f"{key}\n({label})", fontsize=9)
        if key in low_floor:
            ax.set_ylim(min(measures[n][k][key] for n in pictures for k in kinds) - 1, None)
    axes[0, 0].legend(fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def plot_blends_and_images(blends, shown, highlight=None, points: dict | None = None):
    """The blends' perception–distortion plane (:func:`plot_blends`) and some blends' images beside it.

    Args:
        blends: :class:`percepkit.srnets.Blend` objects (``alpha``, ``psnr``, ``lpips``, ``image``).
        shown (list): the blends whose images to show, left to right.
        highlight, points: as :func:`plot_blends`.

    Returns:
        matplotlib.figure.Figure: the plane's axes, its colour bar's, then one axes per image.
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(15, 4))
    plot_blends(blends, highlight=highlight, points=points, ax=fig.add_subplot(1, len(shown) + 1, 1))
    for i, b in enumerate(shown, start=2):
        ax = fig.add_subplot(1, len(shown) + 1, i)
        ax.imshow(to_numpy(b.image), interpolation="nearest")
        ax.set_title(f"α = {b.alpha:.1f}: PSNR {b.psnr:.2f} dB, LPIPS {b.lpips:.3f}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_critic_logits(logits: dict, title: str | None = None):
    """A critic's log-odds of "real", one row of dots per kind of image, with a bar at the median (notebook 08).

    Args:
        logits (dict): ``{kind: 1-D tensor of log-odds}``; kind ``i`` is drawn at y = i (the first at the
            bottom), its dots spread vertically by a jitter seeded with ``i`` (the figure is reproducible).
        title (str | None): the axes' title.

    Returns:
        matplotlib.figure.Figure: one axes; ``ax.collections[i]`` holds row ``i``'s dots.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    for i, logit in enumerate(logits.values()):
        ax.scatter(logit, i + 0.12 * torch.randn(len(logit), generator=torch.Generator().manual_seed(i)), s=14,
                   alpha=0.7)
        ax.plot([logit.median()] * 2, [i - 0.3, i + 0.3], color="black", lw=2)
    ax.axvline(0, color="black", lw=0.8, ls="--")
    ax.set_yticks(range(len(logits)), list(logits))
    ax.set_xlabel("critic's log-odds of 'real' (0 = undecided; right = real; bar = median)")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


# --- notebook 09: your own eyes ---------------------------------------------------------------------------


def plot_chance(coin, lo: float, hi: float, marks: dict):
    """Coin-flip observers' agreements (a histogram), the band holding 95 % of them, and some metrics' scores.

    Args:
        coin: agreements (0–1) of simulated coin-flip observers, any shape (all go into the histogram).
        lo, hi (float): the band's ends (0–1).
        marks (dict): ``{label: (agreement 0–1, colour, line style)}``, one vertical line each.

    Returns:
        matplotlib.figure.Figure: one axes, in percent.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.hist(np.asarray(coin).ravel() * 100, bins=np.arange(10, 92, 3.33), color="#bbb",
            label="coin-flip observers, every metric")
    ax.axvspan(lo * 100, hi * 100, color="#ddd", alpha=0.5, zorder=0, label=f"95 % of chance: {lo:.0%}–{hi:.0%}")
    for label, (value, colour, ls) in marks.items():
        ax.axvline(value * 100, color=colour, ls=ls, lw=2.5, label=label)
    ax.set_xlabel("agreement (%)")
    ax.set_yticks([])
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_cross_validation(results: dict):
    """Held-out agreement of each layer, the best layer chosen on training folds and the fitted mix.

    Args:
        results (dict): ``{title: CrossValidation}`` (:func:`percepkit.cross_validate`), one panel each;
            the first panel is three fifths of the width when there are two.

    Returns:
        matplotlib.figure.Figure: one axes per result; bars in percent, each labelled, a dotted line at 50 %.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(10, 3.2), squeeze=False,
                             width_ratios=[3, 2] if len(results) == 2 else None)
    for ax, (title, res) in zip(axes[0], results.items()):
        names = [*res.layers, "best layer\n(chosen on\ntraining folds)", "fitted mix"]
        vals = [*res.layers.values(), res.chosen, res.fitted]
        colours = [plt.get_cmap("viridis")(k / max(1, len(res.layers) - 1) * 0.85) for k in range(len(res.layers))]
        ax.bar(range(len(vals)), [v * 100 for v in vals], color=colours + ["#999", "#d62728"])
        for k, v in enumerate(vals):
            ax.text(k, v * 100 + 1.5, f"{v:.0%}", ha="center", fontsize=7)
        ax.set_xticks(range(len(vals)), names, fontsize=7, rotation=30, ha="right")
        ax.axhline(50, color="k", ls=":", lw=1)
        ax.set_ylim(0, 100)
        ax.set_title(title, fontsize=9)
    axes[0, 0].set_ylabel("held-out agreement (%)")
    fig.tight_layout()
    return fig


def plot_srgan_verdicts(shares: dict, colors, mos: dict, title: str | None = None, mos_title: str = "",
                        xlabel: str = ""):
    """Left: how often each metric calls SRGAN's output closer to the truth; right: published opinion scores.

    Args:
        shares (dict): ``{metric: share of triplets (0–1)}``, top to bottom, each bar labelled in percent.
        colors (list): one colour per metric.
        mos (dict): ``{method: mean opinion score (1–5)}``, one bar each (grey, blue, orange, green).
        title (str | None): the left panel's title.
        mos_title (str): the right panel's title.
        xlabel (str): the left panel's x label.

    Returns:
        matplotlib.figure.Figure: the shares' axes and the opinion scores'.
    """
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 3.4), gridspec_kw={"width_ratios": [3, 2]})
    ax.barh(list(shares), [100 * v for v in shares.values()], color=colors)
    for i, v in enumerate(shares.values()):
        ax.text(100 * v + 1, i, f"{v:.0%}", va="center", fontsize=8)
    ax.axvline(50, color="black", ls=":", lw=1)
    ax.set_xlim(0, 108)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize=9)
    ax.invert_yaxis()
    ax2.bar(list(mos), list(mos.values()), color=["#bbb", "#1f77b4", "#ff7f0e", "#2ca02c"][:len(mos)])
    for i, v in enumerate(mos.values()):
        ax2.text(i, v + 0.05, f"{v:.2f}", ha="center", fontsize=8)
    ax2.set_ylim(1, 5)
    ax2.set_ylabel("mean opinion score (1–5)")
    ax2.set_title(mos_title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_blends(blends, highlight=None, points: dict | None = None, ax=None, title: str | None = None):
    """The perception–distortion plane of real networks: PSNR (x; distortion, higher = better) against
    LPIPS (y; lower = better), one point per network blend, joined in order of α.

    Args:
        blends: :class:`percepkit.srnets.Blend` objects (anything with ``alpha``, ``psnr``, ``lpips``).
        highlight: one of them (or any object with ``psnr`` and ``lpips``), circled in red.
        points: other outputs to mark, name → (PSNR, LPIPS), e.g. ``{"bicubic": (27.9, 0.31)}``.
        ax: an axes to draw into (default: a new figure).
        title: the axes' title.
    """

    blends = list(blends)
    if not blends:
        raise ValueError("expected at least one Blend")
    fig, ax = _figure_and_axes(ax, (5.2, 3.8))
    blends = sorted(blends, key=lambda b: b.alpha)
    px, py = [b.psnr for b in blends], [b.lpips for b in blends]
    ax.plot(px, py, "-", color="0.6", zorder=1)
    sc = ax.scatter(px, py, c=[b.alpha for b in blends], cmap="coolwarm", vmin=0, vmax=1, s=36, zorder=2,
                    edgecolors="black", linewidths=0.4)
    fig.colorbar(sc, ax=ax, label="α (0 = SRResNet-MSE, 1 = SRGAN)")
    for b in (blends[0], blends[-1]):
        ax.annotate(f"α = {b.alpha:g}", (b.psnr, b.lpips), fontsize=8, xytext=(5, 4), textcoords="offset points")
    for name, (x, y) in (points or {}).items():
        ax.scatter([x], [y], marker="s", color="0.3", s=30, zorder=2)
        ax.annotate(name, (x, y), fontsize=8, xytext=(5, -10), textcoords="offset points")
    if highlight is not None:
        ax.scatter([highlight.psnr], [highlight.lpips], s=220, facecolors="none", edgecolors="red", linewidths=2,
                   zorder=3)
    ax.margins(x=0.15, y=0.15)
    ax.set_xlabel("distortion: PSNR vs truth (dB; higher = closer in pixels) →", fontsize=8)
    ax.set_ylabel("LPIPS vs truth (lower = closer for LPIPS)", fontsize=8)
    ax.set_title(title or "perception–distortion: blending two trained networks", fontsize=9)
    fig.tight_layout()
    return fig


# --- notebook 09: agreement of each metric with a person's answers ---------------------------------------

_FAMILY_COLOURS = {"pixel": "#888888", "layer": None, "package": "#1f77b4", "style": "#8c564b", "fit": "#d62728",
                   "lpips": "#e377c2"}


def plot_agreement(scores: dict, layers=(), ceiling: float | None = None, ci: dict | None = None, ax=None,
                   title: str | None = None, matched: dict | None = None, ceiling_label: str = "observer vs itself"):
    """Horizontal bars: each metric's agreement with the answers, chance (50 %) and the ceiling.

    Args:
        scores: ``{metric: agreement}`` in display order.
        layers: which metrics are backbone layers (coloured shallow → deep).
        ceiling: the observer's self-agreement (dashed line), if measured; ``ceiling_label`` names it.
        ci: optional ``{metric: (low, high)}`` drawn as error bars.
        matched: optional ``{metric: agreement on the MSE-matched triplets}``, drawn as dots.
    Returns:
        matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    names = list(scores)
    fig, ax = _figure_and_axes(ax, (7, 0.32 * len(names) + 1.6))
    cmap = plt.get_cmap("viridis")
    layers = list(layers)
    colours = []
    for m in names:
        if m in layers:
            colours.append(cmap(layers.index(m) / max(1, len(layers) - 1) * 0.85))
        elif m in ("L1", "L2 / PSNR", "SSIM"):
            colours.append(_FAMILY_COLOURS["pixel"])
        elif m.startswith("Gram"):
            colours.append(_FAMILY_COLOURS["style"])
        elif m.startswith("fitted"):
            colours.append(_FAMILY_COLOURS["fit"])
        elif m == "LPIPS":
            colours.append(_FAMILY_COLOURS["lpips"])
        else:
            colours.append(_FAMILY_COLOURS["package"])
    y = list(range(len(names)))[::-1]
    vals = [scores[m] * 100 for m in names]
    xerr = None
    if ci:
        xerr = [[(scores[m] - ci[m][0]) * 100 for m in names], [(ci[m][1] - scores[m]) * 100 for m in names]]
    ax.barh(y, vals, color=colours, xerr=xerr, capsize=3 if ci else 0, height=0.7, label="all triplets")
    if matched:
        ax.plot([matched[m] * 100 for m in names if m in matched], [yy for yy, m in zip(y, names) if m in matched],
                "kD", ms=4, label="MSE-matched triplets only")
    for yy, v in zip(y, vals):
        ax.text(1, yy, f"{v:.0f}%", va="center", ha="left", fontsize=8, color="white", fontweight="bold")
    ax.axvline(50, color="k", lw=1, ls=":", label="chance (50 %)")
    if ceiling is not None and ceiling == ceiling:
        ax.axvline(ceiling * 100, color="#d62728", lw=1.5, ls="--", label=f"{ceiling_label} ({ceiling:.0%})")
    ax.set_yticks(y, names, fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xlabel("agreement with the answers (%)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.45, -0.13), ncol=2, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
