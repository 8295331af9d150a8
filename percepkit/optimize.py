"""Image optimisation: find the image that minimises a loss, with a progress bar and per-term history."""

from __future__ import annotations

import torch

__all__ = ["optimize_image"]


def optimize_image(loss_fn, init: torch.Tensor, steps: int = 100, lr: float = 0.05, optimizer: str = "adam",
                   progress: bool = True, seed: int = 0, desc: str = "optimising", callback=None):
    """Minimise ``loss_fn(x)`` over the pixels of an image ``x``, starting from ``init``.

    The image is kept in [0, 1] by projection: after every step it is clamped to [0, 1]
    (projected gradient descent), so ``lr`` is in pixel units. The loss always sees a valid
    image: L-BFGS's line search may try points outside [0, 1], and those are clamped
    before the loss is evaluated.

    Args:
        loss_fn: callable ``x -> scalar tensor``. If it has a ``terms`` dict (as
            :class:`~percepkit.CombinedLoss`) or ``last_layer_losses`` (as
            :class:`~percepkit.PerceptualLoss`), those are recorded too.
        init: starting image (N, 3, H, W) in [0, 1] (not modified).
        steps: number of optimiser steps (L-BFGS runs with ``max_iter=1``: one iteration, plus
            its line search, per step).
        lr: learning rate (Adam) or step size (L-BFGS, default 1 recommended).
        optimizer: ``"adam"`` or ``"lbfgs"``.
        progress: show a ``tqdm.auto`` bar.
        seed: seeds torch's global RNG before starting (for losses with randomness).
        desc: the bar's label.
        callback: optional ``callback(step, x)`` called after each step.

    Returns:
        (torch.Tensor, dict[str, list[float]]): the optimised image (detached) and the history
        (``"total"`` plus one list per recorded term).
    """
    if not isinstance(init, torch.Tensor) or init.ndim != 4 or not init.is_floating_point():
        raise ValueError(f"expected init as a float tensor (N, 3, H, W) in [0, 1]; got {type(init).__name__}"
                         + (f" of shape {tuple(init.shape)}" if isinstance(init, torch.Tensor) else ""))
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"expected steps as a positive int; got {steps!r}")
    if optimizer not in ("adam", "lbfgs"):
        raise ValueError(f"expected optimizer 'adam' or 'lbfgs'; got {optimizer!r}")
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    x = init.detach().clone().clamp(0, 1).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr) if optimizer == "adam" else torch.optim.LBFGS(
        [x], lr=lr, max_iter=1, history_size=20, line_search_fn="strong_wolfe")
    history: dict[str, list[float]] = {"total": []}
    last = {}

    def closure():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(x.clamp(0, 1) if optimizer == "lbfgs" else x)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise TypeError(f"loss_fn must return a scalar tensor; got {type(loss).__name__}")
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {float(loss)}; lower lr or check the inputs")
        loss.backward()
        last["loss"] = float(loss.detach())
        return loss

    bar = tqdm(range(steps), desc=desc, disable=not progress, leave=False)
    for step in bar:
        opt.step(closure)
        with torch.no_grad():
            x.clamp_(0, 1)
        history["total"].append(last["loss"])
        terms = getattr(loss_fn, "terms", None) or getattr(loss_fn, "last_layer_losses", None) or {}
        for k, v in terms.items():
            history.setdefault(k, []).append(float(v.detach()) if isinstance(v, torch.Tensor) else float(v))
        if progress and step % 10 == 0:
            bar.set_postfix(loss=f"{last['loss']:.4g}")
        if callback is not None:
            callback(step, x.detach())
    bar.close()
    return x.detach(), history
