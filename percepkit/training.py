"""Training a small restoration network (notebook 07): the model, the data, the held-out test, a disk cache.

The training loop itself is in the notebook, in plain sight; this module holds what it needs:

* :class:`TinyDenoiser`: a VDSR-style residual network (``x + body(x)``, a few 3×3 convs),
  small enough to train on a CPU in a minute or two.
* :class:`TinyUpsampler`: a ×``factor`` super-resolution net (bicubic + a learned residual)
  whose last layer is either a PixelShuffle (sub-pixel conv, ICNR init) or a resize-convolution,
  for the checkerboard forensics.
* :func:`training_images` / :func:`random_crops`: scikit-image sample pictures, held-out ones
  excluded, cut into seeded random crops (a different batch every step).
* :func:`evaluate`: PSNR, sharpness relative to the truth, and :func:`~percepkit.detail_split`
  (detail recovered vs invented) on held-out images.
* :func:`step_cost`: CPU-seconds per training step and the memory autograd keeps for backward.
* :class:`LiveLoss`: a loss curve that redraws itself in the notebook while the loop runs;
  :func:`plot_losses` draws one from stored values.
* :func:`cached`: runs ``fn(**settings)`` once and keeps its result on disk, keyed by the
  settings, the backbone's fingerprint and ``fn``'s source code.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .backbones import Backbone
from .cache import cache_folder, cache_key, load_or_compute, source_of
from .images import check_image, sample_image
from .metrics import detail_split, psnr, sharpness

__all__ = ["TinyDenoiser", "TinyUpsampler", "StepCost", "step_cost", "LiveLoss", "plot_losses", "TRAIN_IMAGES", "HELD_OUT",
           "training_images", "random_crops", "evaluate", "cached"]

#: Colour pictures the networks train on (``cat`` is ``chelsea``: left out with it).
TRAIN_IMAGES = ("astronaut", "rocket", "brick", "grass", "gravel", "immunohistochemistry", "retina", "coins")
#: Pictures no network sees during training.
HELD_OUT = ("chelsea", "coffee")
_CACHE_VERSION = 2  # 2: percepkit.cache's key (one float rule, one weights fingerprint)


class TinyDenoiser(nn.Module):
    """VDSR-style restoration net: ``clamp(x + body(x), 0, 1)`` with ``layers`` 3×3 convs of ``channels``.

    The last conv starts at zero, so the untrained network returns its input unchanged. The other
    weights are drawn from ``torch.manual_seed(seed)`` (the global random state is left alone),
    so the same arguments give the same network everywhere.
    """

    def __init__(self, channels: int = 24, layers: int = 6, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._build(channels, layers)

    def _build(self, channels, layers):
        if not (isinstance(channels, int) and channels >= 1 and isinstance(layers, int) and layers >= 2):
            raise ValueError(f"expected channels >= 1 and layers >= 2 (ints); got {channels!r}, {layers!r}")
        body = [nn.Conv2d(3, channels, 3, padding=1), nn.ReLU()]
        for _ in range(layers - 2):
            body += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU()]
        body.append(nn.Conv2d(channels, 3, 3, padding=1))
        nn.init.zeros_(body[-1].weight)
        nn.init.zeros_(body[-1].bias)
        self.body = nn.Sequential(*body)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.body(x)).clamp(0, 1)


class TinyUpsampler(nn.Module):
    """×``factor`` super-resolution: ``clamp(bicubic(x) + up(body(x)), 0, 1)``.

    ``body``: ``layers`` 3×3 convs of ``channels`` with ReLUs on the low-resolution input.
    ``up``, by ``upsampler``:

    * ``"pixelshuffle"``: a 3×3 conv to ``3·factor²`` channels + :class:`torch.nn.PixelShuffle`
      (sub-pixel convolution, ESPCN/SRGAN). Each of the ``factor²`` output phases has its own
      filters; ICNR initialisation (Aitken et al. 2017) starts them equal, so the untrained
      network paints no lattice — training can pull the phases apart.
    * ``"resize"``: nearest-neighbour upsampling, then a 3×3 conv to 3 channels
      (resize-convolution, Odena et al. 2016): one set of filters for every output pixel.

    The last conv starts small (×0.1), so the untrained network is close to bicubic upsampling.
    Weights are drawn from ``torch.manual_seed(seed)`` without touching the global random state.
    Input: float RGB (N, 3, h, w) in [0, 1]; output (N, 3, factor·h, factor·w).
    """

    def __init__(self, factor: int = 4, upsampler: str = "pixelshuffle", channels: int = 32, layers: int = 3,
                 seed: int = 0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._build(factor, upsampler, channels, layers)

    def _build(self, factor, upsampler, channels, layers):
        if upsampler not in ("pixelshuffle", "resize"):
            raise ValueError(f"expected upsampler 'pixelshuffle' or 'resize'; got {upsampler!r}")
        if not all(isinstance(v, int) for v in (factor, channels, layers)) or factor < 2 or channels < 1 or layers < 1:
            raise ValueError(f"expected ints factor >= 2, channels >= 1, layers >= 1; got {factor!r}, {channels!r}, {layers!r}")
        self.factor, self.upsampler = factor, upsampler
        body, cin = [], 3
        for _ in range(layers):
            body += [nn.Conv2d(cin, channels, 3, padding=1), nn.ReLU()]
            cin = channels
        self.body = nn.Sequential(*body)
        if upsampler == "pixelshuffle":
            conv = nn.Conv2d(channels, 3 * factor**2, 3, padding=1)
            w = torch.empty(3, channels, 3, 3)
            nn.init.kaiming_normal_(w)
            with torch.no_grad():  # ICNR: output channel c·f² + k (phase k of colour c) starts as colour c's filter
                conv.weight.copy_(0.1 * w.repeat_interleave(factor**2, dim=0))
                conv.bias.zero_()
            self.up = nn.Sequential(conv, nn.PixelShuffle(factor))
        else:
            conv = nn.Conv2d(channels, 3, 3, padding=1)
            with torch.no_grad():
                conv.weight.mul_(0.1)
                conv.bias.zero_()
            self.up = nn.Sequential(nn.Upsample(scale_factor=factor, mode="nearest"), conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image(x, "low-resolution input", unit_range=True)
        base = F.interpolate(x, scale_factor=self.factor, mode="bicubic", align_corners=False)
        return (base + self.up(self.body(x))).clamp(0, 1)

    def extra_repr(self) -> str:
        return f"factor={self.factor}, upsampler={self.upsampler!r}"


class StepCost(NamedTuple):
    """What one training step costs: ``cpu_s`` CPU-seconds (median), ``saved_mb`` MiB autograd keeps for backward."""

    cpu_s: float
    saved_mb: float


def step_cost(loss_fn, repeats: int = 3, threads: int | None = 1) -> StepCost:
    """Measure ``loss_fn()`` + ``.backward()``: median CPU time and the bytes of tensors saved for backward.

    Args:
        loss_fn: a function of no arguments that builds a scalar loss (a forward pass).
        repeats: timed steps after one untimed warm-up step; the median is returned.
        threads: torch threads during the measurement (restored after); ``1`` makes CPU time count
            work rather than threads waiting for each other; ``None`` leaves the setting alone.

    ``saved_mb`` sums every tensor autograd stores for the backward pass (activations, inputs of
    non-linear layers): the memory a step holds on top of the weights, measured exactly with
    :func:`torch.autograd.graph.saved_tensors_hooks` (views of one storage count once each).
    """
    if not callable(loss_fn):
        raise TypeError(f"expected a function that returns a loss; got {type(loss_fn).__name__}")
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"expected repeats as an int >= 1; got {repeats!r}")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        saved = [0]

        def pack(t):
            saved[0] += t.numel() * t.element_size()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = loss_fn()
        if not (isinstance(loss, torch.Tensor) and loss.numel() == 1 and loss.requires_grad):
            raise ValueError("loss_fn must return a scalar tensor that requires grad (a loss to call .backward() on)")
        loss.backward()  # the warm-up step
        times = []
        for _ in range(repeats):
            cpu = time.process_time()
            loss_fn().backward()
            times.append(time.process_time() - cpu)
    finally:
        torch.set_num_threads(before)
    return StepCost(sorted(times)[repeats // 2], saved[0] / 2**20)


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


def training_images(names=TRAIN_IMAGES, size: int = 192) -> list[torch.Tensor]:
    """The training pictures as (1, 3, size, size) tensors; a held-out name is refused."""
    leaked = [n for n in names if n in HELD_OUT or n == "cat"]
    if leaked:
        raise ValueError(f"{leaked} are held out for testing (cat is chelsea); train on others")
    return [sample_image(n, size) for n in names]


def random_crops(images, n: int, size: int, seed: int) -> torch.Tensor:
    """``n`` random ``size``-px crops (with random flips) from ``images``, seeded: (n, 3, size, size)."""
    g = torch.Generator().manual_seed(int(seed))
    out = []
    for _ in range(n):
        img = images[int(torch.randint(len(images), (1,), generator=g))]
        h, w = img.shape[-2:]
        if min(h, w) < size:
            raise ValueError(f"expected images of at least {size} px; got {h}x{w}")
        y = int(torch.randint(h - size + 1, (1,), generator=g))
        x = int(torch.randint(w - size + 1, (1,), generator=g))
        crop = img[0, :, y:y + size, x:x + size]
        if bool(torch.rand(1, generator=g) < 0.5):
            crop = crop.flip(-1)
        out.append(crop)
    return torch.stack(out)


@torch.no_grad()
def evaluate(model: nn.Module, clean: torch.Tensor, degraded: torch.Tensor) -> dict:
    """Held-out scores of ``model(degraded)`` against ``clean`` (batches of 1+ images, means over them).

    Returns ``{"psnr", "sharpness" (output's / truth's), "recovered", "invented", "output"}``:
    PSNR in dB; the detail split of :func:`~percepkit.detail_split` (recovered: share of the true
    detail present, 1 = all; invented: energy of detail that is not the truth's, relative to
    the truth's).
    """
    check_image(clean, "clean")
    was = model.training
    model.eval()
    out = model(degraded).clamp(0, 1)
    model.train(was)
    split = [detail_split(o[None], c[None]) for o, c in zip(out, clean)]
    return {
        "psnr": psnr(out, clean),
        "sharpness": sum(sharpness(o[None]) / sharpness(c[None]) for o, c in zip(out, clean)) / len(out),
        "recovered": sum(s["recovered"] for s in split) / len(split),
        "invented": sum(s["invented"] for s in split) / len(split),
        "output": out,
    }


def cached(fn, backbone: Backbone | None = None, cache_dir=None, key=None, **settings):
    """``fn(**settings)``, computed once and kept on disk (``torch.save``; tensors and dicts of them).

    The key hashes ``fn``'s source, the settings (tensors and modules by their values, functions by
    their code, floats to 4 significant digits) and the backbone's weight fingerprint, so an edited
    loop or another backbone computes afresh, while a loss weight that differs in its last bits
    (measured on another number of threads) still finds the result.
    ``cache_dir``: a folder; ``None`` → :func:`~percepkit.cache.default_cache_dir`; ``False`` → no cache.
    """
    digest = cache_key(v=_CACHE_VERSION, fn=source_of(fn), settings=settings, key=key, backbone=backbone)
    folder = cache_folder(cache_dir)
    path = None if folder is None else folder / f"train-{getattr(fn, '__name__', 'fn')}-{digest}.pt"
    return load_or_compute(path, lambda: fn(**settings))
