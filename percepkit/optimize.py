"""Image optimisation: find the image that minimises a loss, with a progress bar and per-term history."""

from __future__ import annotations

import torch

from .backbones import Backbone
from .images import check_image
from .losses import energy, total_variation
from .weights import resolve_backbone

__all__ = ["optimize_image", "invert_features"]

LINE_SEARCH_EVALS = 25  # L-BFGS: at most this many loss evaluations in one step's line search


def optimize_image(loss_fn, init: torch.Tensor, steps: int = 100, lr: float = 0.05, optimizer: str = "adam",
                   progress: bool = True, seed: int = 0, desc: str = "optimising", callback=None,
                   term_grads: bool = False):
    """Minimise ``loss_fn(x)`` over the pixels of an image ``x``, starting from ``init``.

    The image is kept in [0, 1]. Adam: by projection, clamping to [0, 1] after every step
    (projected gradient descent), so ``lr`` is in pixel units. L-BFGS: it minimises
    ``loss_fn(clamp(x, 0, 1))`` — its iterate is never moved behind its back (projection
    would corrupt its curvature history) — and the clamped image is returned. Either way
    the loss only ever sees a valid image.

    Args:
        loss_fn: callable ``x -> scalar tensor``. If it has a ``terms`` dict (as
            :class:`~percepkit.CombinedLoss`) or ``last_layer_losses`` (as
            :class:`~percepkit.PerceptualLoss`), those are recorded too.
        init: starting image (N, 3, H, W) in [0, 1] (not modified).
        steps: number of optimiser steps. L-BFGS: one iteration per step, with a strong-Wolfe
            line search (up to ``LINE_SEARCH_EVALS`` extra loss evaluations, typically 1–2), so
            the loss never increases from one step to the next.
        lr: learning rate (Adam) or first trial step of each line search (L-BFGS: use 1).
        optimizer: ``"adam"`` or ``"lbfgs"``.
        progress: show a ``tqdm.auto`` bar.
        seed: seeds torch's RNG for the run (for losses with randomness); the caller's RNG state
            is restored afterwards.
        desc: the bar's label.
        callback: optional ``callback(step, x)`` called after each step (e.g. to train a critic).
        term_grads: Adam only, for a ``loss_fn`` with a ``terms`` dict (as CombinedLoss): take each
            term's gradient separately (their sum is the step) and record its norm as
            ``history["grad_<term>"]`` — how hard each term pulls on the image, at no extra forward.

    Returns:
        (torch.Tensor, dict[str, list[float]]): the optimised image (detached) and the history
        (``"total"`` plus one list per recorded term); entry ``i`` is the loss at the image
        *before* step ``i`` (so entry 0 is the starting loss).
    """
    check_image(init, "init")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"expected steps as a positive int; got {steps!r}")
    if optimizer not in ("adam", "lbfgs"):
        raise ValueError(f"expected optimizer 'adam' or 'lbfgs'; got {optimizer!r}")
    if term_grads and optimizer != "adam":
        raise ValueError("term_grads=True needs optimizer='adam' (L-BFGS line searches mix the terms' steps)")
    # Seeded for losses with randomness, inside a forked RNG: the caller's random stream is untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _optimize(loss_fn, init, steps, lr, optimizer, progress, desc, callback, term_grads)


def _backward(loss_fn, loss: torch.Tensor, x: torch.Tensor, term_grads: bool, last: dict) -> None:
    if not term_grads:
        loss.backward()
    else:
        terms = getattr(loss_fn, "terms", None)
        if not isinstance(terms, dict) or not terms:
            raise TypeError("term_grads=True needs a loss_fn with a non-empty .terms dict (as CombinedLoss)")
        grad = torch.zeros_like(x)
        for name, term in terms.items():
            (g,) = torch.autograd.grad(term, x, retain_graph=True)
            grad += g
            last.setdefault("grads", {})[name] = float(g.norm())
        x.grad = grad
    if not torch.isfinite(x.grad).all():
        raise FloatingPointError("non-finite gradient; lower lr or check the inputs")


def _optimize(loss_fn, init, steps, lr, optimizer, progress, desc, callback, term_grads):
    from tqdm.auto import tqdm

    x = init.detach().clone(memory_format=torch.contiguous_format).clamp(0, 1).requires_grad_(True)
    if optimizer == "adam":
        opt = torch.optim.Adam([x], lr=lr)
    else:
        # One iteration per step, with a strong-Wolfe line search: every step decreases the loss,
        # so it can neither diverge nor saturate pixels (without one, lr=1 steps did both).
        # max_eval must leave the line search room: torch gives it max_eval − 1 evaluations, and
        # its default max_iter·5//4 = 1 leaves none, so the search returns t = 0 — the old stall.
        # Tolerances 0: the caller sets the number of steps, and a loss scaled by 1/(C·H·W) has
        # per-pixel gradients near torch's defaults (1e-7, 1e-9), where L-BFGS would quietly stop.
        opt = torch.optim.LBFGS([x], lr=lr, max_iter=1, max_eval=1 + LINE_SEARCH_EVALS, history_size=20,
                                line_search_fn="strong_wolfe", tolerance_grad=0.0, tolerance_change=0.0)
    history: dict[str, list[float]] = {"total": []}
    last = {}

    def closure():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(x.clamp(0, 1) if optimizer == "lbfgs" else x)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise TypeError(f"loss_fn must return a scalar tensor; got {type(loss).__name__}")
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {float(loss.detach())}; lower lr or check the inputs")
        _backward(loss_fn, loss, x, term_grads and "loss" not in last, last)
        if "loss" not in last:  # record the first evaluation of a step: the current iterate, not a line-search trial
            last["loss"] = float(loss.detach())
            terms = getattr(loss_fn, "terms", None) or getattr(loss_fn, "last_layer_losses", None) or {}
            last["terms"] = {k: float(v.detach()) if isinstance(v, torch.Tensor) else float(v) for k, v in terms.items()}
        return loss

    bar = tqdm(range(steps), desc=desc, disable=not progress, leave=False)
    for step in bar:
        last.clear()
        opt.step(closure)
        if optimizer == "adam":
            with torch.no_grad():
                x.clamp_(0, 1)
        history["total"].append(last["loss"])
        for k, v in last["terms"].items():
            history.setdefault(k, []).append(v)
        for k, v in last.get("grads", {}).items():
            history.setdefault(f"grad_{k}", []).append(v)
        if progress and step % 10 == 0:
            bar.set_postfix(loss=f"{last['loss']:.4g}")
        if callback is not None:
            callback(step, x.detach())
    bar.close()
    return x.detach().clamp(0, 1), history


def invert_features(image: torch.Tensor, layer: str, backbone: Backbone | str | None = None, steps: int = 100,
                    tv_weight: float = 0.5, noise: float = 0.05, seed: int = 0, progress: bool = True):
    """Feature inversion (Mahendran & Vedaldi 2015): an image whose ``layer`` features match ``image``'s.

    Starts from grey plus seeded grey-level noise and runs L-BFGS (``optimize_image``, lr 1) on
    ``|φ(x) − φ(image)|² / mean(φ(image)²) + tv_weight · TV(x)``: the feature error relative to the
    target's mean squared feature (comparable across layers and backbones), plus total variation
    against the pixel noise the layer cannot see.

    Args:
        image: the image to invert, (1, 3, H, W) in [0, 1].
        layer: a layer name of ``backbone`` (see ``backbone.describe``).
        backbone: a :class:`Backbone`, a name (``"vgg16-hed"``, ``"efficientnet-lite0"``…) or None for the default.
        steps: L-BFGS steps.
        tv_weight: weight of :func:`~percepkit.total_variation`.
        noise: standard deviation of the start's noise around grey 0.5.
        seed: seeds the start (a local generator: the caller's random stream is untouched).
        progress: show a progress bar.

    Returns:
        (torch.Tensor, float): the reconstruction and ``fit`` — the relative feature error at the
        end divided by the one at the start (0.05: the features are matched 20× better than grey).
    """
    backbone = resolve_backbone(backbone)
    check_image(image, "image", unit_range=True)
    if image.shape[0] != 1:
        raise ValueError(f"expected one image (1, 3, H, W); got a batch of shape {tuple(image.shape)}")
    with torch.no_grad():
        target = backbone(image, [layer])[layer]
    size = energy(target)

    def feature_error(x):
        return (backbone(x, [layer])[layer].float() - target).square().mean() / size

    g = torch.Generator().manual_seed(seed)
    grey = noise * torch.randn(1, 1, *image.shape[-2:], generator=g)
    start = (0.5 + grey.expand_as(image)).clamp(0, 1).to(image.device)
    out, _ = optimize_image(lambda x: feature_error(x) + tv_weight * total_variation(x), start, steps=steps, lr=1,
                            optimizer="lbfgs", progress=progress, seed=seed, desc=f"inverting {layer}")
    with torch.no_grad():
        fit = float(feature_error(out)) / float(feature_error(start))
    return out, fit
