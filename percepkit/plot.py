"""Figures for the notebooks. Each function returns a matplotlib Figure; nothing changes global style."""

from __future__ import annotations

import math

import torch

from .images import to_numpy

__all__ = ["show_images", "show_feature_maps", "plot_history"]


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
