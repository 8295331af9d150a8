"""Figures for the notebooks. Each function returns a matplotlib Figure; nothing changes global style."""

from __future__ import annotations

import math

import torch

from .images import shift, to_numpy
from .losses import shift_distances

__all__ = ["show_images", "show_feature_maps", "plot_history", "plot_perception_distortion", "plot_shift"]


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
    """Show the first ``n`` channels (highest mean activation first) of one layer's features (N, C, H, W)."""
    import matplotlib.pyplot as plt

    if not isinstance(features, torch.Tensor) or features.ndim != 4:
        raise ValueError("expected features as a tensor (N, C, H, W)")
    f = features[0].detach().float().cpu()
    order = f.flatten(1).mean(1).argsort(descending=True)[:n]
    nrows = math.ceil(len(order) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, c in zip(axes.flat, order.tolist()):
        ax.imshow(f[c], cmap="viridis")
        ax.set_title(f"ch {c}", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history: dict, log: bool = True, ax=None, title: str | None = None):
    """Plot every series of an :func:`~percepkit.optimize_image` history against the step."""
    import matplotlib.pyplot as plt

    if not isinstance(history, dict) or not history:
        raise ValueError("expected a non-empty dict name -> list of values")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.2))
    else:
        fig = ax.figure
    for k, v in history.items():
        ax.plot(range(1, len(v) + 1), v, label=k)
    if log and all(val > 0 for v in history.values() for val in v):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_perception_distortion(results, highlight=None, ax=None, title: str | None = None):
    """PSNR (distortion, higher is better) against perceptual distance to the truth (lower is better).

    Args:
        results: :class:`percepkit.superres.Result` objects (anything with ``lambdas`` and ``metrics``).
        highlight: one of them, circled in red.
    """
    import matplotlib.pyplot as plt

    if not results:
        raise ValueError("expected at least one Result")
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 3.4))
    else:
        fig = ax.figure
    px = [r.metrics["perceptual"] for r in results]
    py = [r.metrics["psnr"] for r in results]
    ax.scatter(px, py, c=[r.metrics["sharpness"] for r in results], cmap="viridis", s=28, zorder=2)
    for r, a, b in zip(results, px, py):
        ax.annotate(",".join(f"{v:g}" for v in r.lambdas), (a, b), fontsize=6, xytext=(3, 2), textcoords="offset points")
    if highlight is not None:
        ax.scatter([highlight.metrics["perceptual"]], [highlight.metrics["psnr"]], s=160, facecolors="none",
                   edgecolors="red", linewidths=2, zorder=3)
    ax.set_xlabel("perceptual distance to truth (start = 1) →")
    ax.set_ylabel("PSNR vs truth (dB) ↑")
    ax.set_title(title or "perception–distortion (colour: sharpness)", fontsize=9)
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
