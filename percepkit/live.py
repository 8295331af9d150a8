"""A loss curve that redraws itself in a notebook while a training loop runs (notebook 07).

* :class:`LiveLoss`: ``curve.add(loss.item())`` in the loop; every ``every`` steps the figure
  is redrawn in place through an IPython display handle; outside a notebook nothing is drawn.
* :func:`plot_losses`: the same figure from stored values (per-step values and their running mean).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["LiveLoss", "plot_losses"]


class LiveLoss:
    """A loss curve that redraws itself in a notebook while a training loop runs.

    ``curve = LiveLoss("MSE pretraining")``; in the loop ``curve.add(loss.item())``; after it
    ``curve.close()``. Every ``every`` steps the figure (per-step values and their running mean
    over ``every`` steps, log scale) is redrawn in place through an IPython display handle.
    Outside a notebook (a script, pytest) nothing is drawn; the values are still kept in
    ``curve.values``, and :meth:`figure` draws them on demand.
    """

    def __init__(self, title: str = "training loss", every: int = 25, display=None):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"expected every as an int >= 1 (steps between redraws); got {every!r}")
        self.title, self.every, self.values, self.redraws = title, every, [], 0
        self._display = display if display is not None else _notebook_display()
        self._handle = None

    def add(self, value: float) -> None:
        """Record one step's loss; redraw every ``every`` steps."""
        value = float(value)
        if value != value:  # NaN: training diverged — say so now, not after the loop
            raise FloatingPointError(f"the loss is NaN at step {len(self.values)}: lower the learning rate or a weight")
        self.values.append(value)
        if len(self.values) % self.every == 0:
            self._draw()

    def close(self, keep: bool = False) -> None:
        """End of training: the live figure is replaced by a one-line summary (``keep=True``: by the final curve)."""
        if self._handle is None:
            return
        if keep:
            if len(self.values) % self.every:
                self._draw()
        else:
            k = min(self.every, len(self.values))
            first, last = sum(self.values[:k]) / k, sum(self.values[-k:]) / k
            self._handle.update(_Text(f"{self.title}: {len(self.values)} steps; mean loss of the first {k} steps "
                                      f"{first:.4g}, of the last {k} steps {last:.4g}"))

    def figure(self):
        """A matplotlib figure of the curve so far (not shown): :func:`plot_losses` of the values."""
        import matplotlib.pyplot as plt

        fig = plot_losses(self.values, self.title, self.every)
        plt.close(fig)  # shown through the display handle only, not again at the cell's end
        return fig

    def _draw(self) -> None:
        if self._display is None:
            return
        fig = self.figure()
        if self._handle is None:
            self._handle = self._display(fig)
        else:
            self._handle.update(fig)
        self.redraws += 1


def plot_losses(values, title: str = "training loss", every: int = 25, ylabel: str = "loss"):
    """A loss curve: per-step ``values`` and their running mean over ``every`` steps, log scale if all > 0.

    Each mean is drawn at the middle of its window, so it lies on the curve it smooths.

    Returns the matplotlib figure (``plt.show()`` it, or keep it). :class:`LiveLoss` draws with this.
    """
    import matplotlib.pyplot as plt

    v = torch.as_tensor(values, dtype=torch.float32).flatten()
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.plot(range(len(v)), v, lw=0.6, alpha=0.5, label="per step")
    if len(v) >= every:
        smooth = F.avg_pool1d(v[None, None], every, 1)[0, 0]
        ax.plot(torch.arange(len(smooth)) + (every - 1) / 2, smooth, lw=2, label=f"mean of {every} steps")
    if len(v) and float(v.min()) > 0:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=ylabel, title=title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


class _Text:
    """Shown by IPython as plain text (its repr)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _notebook_display():
    """``IPython.display.display(obj, display_id=True)`` inside a running kernel, else ``None``."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks only
        return None
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return None
    return lambda obj: display(obj, display_id=True)

