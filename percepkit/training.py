"""What a training loop needs around it (notebook 07): the data, the held-out test, the cost of a step, a disk cache.

The training loop itself is in the notebook, in plain sight; the networks it trains are in
:mod:`percepkit.tinynets` and its live loss curve in :mod:`percepkit.live`. This module holds:

* :func:`training_images` / :func:`random_crops`: scikit-image sample pictures, held-out ones
  excluded, cut into seeded random crops (a different batch every step).
* :func:`evaluate`: PSNR, sharpness relative to the truth, and :func:`~percepkit.detail_split`
  (detail recovered vs invented) on held-out images.
* :func:`step_cost`: CPU-seconds per training step and the memory autograd keeps for backward.
* :func:`cached`: runs ``fn(**settings)`` once and keeps its result on disk, keyed by the
  settings, the backbone's fingerprint and ``fn``'s source code.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import torch
import torch.nn as nn

from .backbones import Backbone
from .cache import cache_folder, cache_key, load_or_compute, source_of
from .images import check_image, sample_image
from .metrics import detail_split, psnr, sharpness

__all__ = ["StepCost", "step_cost", "TRAIN_IMAGES", "HELD_OUT", "training_images", "random_crops", "evaluate", "cached"]

#: Colour pictures the networks train on (``cat`` is ``chelsea``: left out with it).
TRAIN_IMAGES = ("astronaut", "rocket", "brick", "grass", "gravel", "immunohistochemistry", "retina", "coins")
#: Pictures no network sees during training.
HELD_OUT = ("chelsea", "coffee")
_CACHE_VERSION = 2  # 2: percepkit.cache's key (one float rule, one weights fingerprint)


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
