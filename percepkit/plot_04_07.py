"""Figures of notebooks 04-07 (Gram matrices and style, the combined objective, pitfalls and backbones,
training): each function returns a matplotlib Figure; nothing changes global style. Shared helpers live in
:mod:`percepkit.plot`."""

from __future__ import annotations

import math

import torch

from .images import to_numpy

__all__ = [
    "show_gram", "plot_images_and_layers", "show_matrices", "plot_lambda_conventions", "plot_histograms",
    "plot_barh_panels", "plot_backbone_comparison", "show_image_grid", "plot_crops_and_spectra",
    "plot_spectrum_ratios",
]


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


def plot_backbone_comparison(tolerance: dict, cross: dict):
    """Notebook 06's comparison of networks: shift tolerance by depth, and which network rates whose texture best.

    Args:
        tolerance (dict): ``{network: {layer: shift / noise sensitivity}}`` for its shallowest and deepest
            default layer, one line per network (log y axis, a dotted line at 1).
        cross (dict): ``{(measurer, maker): Gram error / error of the noise}`` for every pair of networks,
            drawn as a matrix (rows: the network that measures, columns: the one that made the texture, in
            ``tolerance``'s order) with each value written in.

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
    m = [[cross[(j, k)] for k in names] for j in names]
    im = ax.imshow(m, cmap="viridis_r", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=30, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("texture made with")
    ax.set_ylabel("measured by")
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
