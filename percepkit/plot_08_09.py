"""Figures of notebooks 08-09 (real networks, your own eyes): each function returns a matplotlib Figure;
nothing changes global style. Shared helpers live in :mod:`percepkit.plot`."""

from __future__ import annotations

import torch

from .images import to_numpy
from .plot import _figure_and_axes, _ring

__all__ = [
    "plot_measure_panels", "plot_blends_and_images", "plot_critic_logits", "plot_chance",
    "plot_cross_validation", "plot_srgan_verdicts", "plot_blends", "plot_agreement",
]


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
        _ring(ax, highlight.psnr, highlight.lpips, 220)
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
