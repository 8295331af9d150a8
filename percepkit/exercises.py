"""Automatic checks for the notebooks' exercises.

Each ``check_*`` function takes the learner's answer, compares it with a reference
computed here, and either prints a short "correct" message or raises ``AssertionError``
saying what is off. Each section belongs to one notebook; the reference solutions live
next to the checks so the notebooks can show them (and CI can run them).
"""

from __future__ import annotations

__all__: list[str] = []
__all__ += ["check_l2_optimum", "check_l1_optimum"]  # 01

# --- 01 Why pixel losses blur ---------------------------------------------------------


def _targets_for_check(k: int, seed: int):
    """K random "plausible targets" (K, 3, 8, 8) in [0, 1] for the 01 checks."""
    import torch

    g = torch.Generator().manual_seed(seed)
    return torch.rand(k, 3, 8, 8, generator=g)


def _as_image(answer, what: str):
    import torch

    if not isinstance(answer, torch.Tensor):
        raise AssertionError(f"{what} should return a torch.Tensor of shape (1, 3, H, W); it returned {type(answer).__name__}")
    if tuple(answer.shape) != (1, 3, 8, 8):
        raise AssertionError(
            f"{what} should return one image of shape (1, 3, H, W) for targets of shape (K, 3, H, W); "
            f"for K=5 targets of 8x8 it returned shape {tuple(answer.shape)} (keepdim=True keeps the batch axis)"
        )
    return answer.detach().float()


def check_l2_optimum(l2_optimal_image) -> None:
    """Check ``l2_optimal_image(targets) -> x`` minimises ``mean_k ‖x − t_k‖²`` (targets (K, 3, H, W), x (1, 3, H, W))."""
    for k, seed in ((5, 0), (4, 1)):
        targets = _targets_for_check(k, seed)
        x = _as_image(l2_optimal_image(targets.clone()), "l2_optimal_image")
        best = targets.mean(0, keepdim=True)
        loss, best_loss = float((x - targets).square().mean()), float((best - targets).square().mean())
        err = float((x - best).abs().max())
        if err > 1e-5:
            raise AssertionError(
                f"for {k} targets your image is not the L2 optimum: its mean squared error to the targets is "
                f"{loss:.5f}, the optimum reaches {best_loss:.5f} (largest pixel difference {err:.3g}). "
                "Set the derivative of Σ_k (x − t_k)² to zero and solve for x, pixel by pixel."
            )
    print("Correct: the L2 optimum of several targets is their pixel-wise mean.")


def check_l1_optimum(l1_optimal_image) -> None:
    """Check ``l1_optimal_image(targets) -> x`` minimises ``mean_k |x − t_k|`` (odd and even K)."""
    for k, seed in ((5, 2), (4, 3)):
        targets = _targets_for_check(k, seed)
        x = _as_image(l1_optimal_image(targets.clone()), "l1_optimal_image")
        med = targets.median(0, keepdim=True).values
        loss, best_loss = float((x - targets).abs().mean()), float((med - targets).abs().mean())
        if loss > best_loss + 1e-6:
            hint = " (it is the pixel-wise mean: that is the L2 answer)" if _allclose(x, targets.mean(0, keepdim=True)) else ""
            raise AssertionError(
                f"for {k} targets your image has mean absolute error {loss:.5f}, but {best_loss:.5f} is reachable"
                f"{hint}. Which value makes as many targets lie above it as below it?"
            )
    print("Correct: the L1 optimum of several targets is a pixel-wise median (any value between the middle two when K is even).")


def _allclose(a, b, atol: float = 1e-5) -> bool:
    """``torch.allclose`` for two same-shaped tensors (helper of the checks)."""
    import torch

    return bool(torch.allclose(a.float(), b.float(), atol=atol))


# --- 02 Shift sensitivity -------------------------------------------------------------

# --- 03 What each layer sees ----------------------------------------------------------

# --- 04 Gram matrices and style -------------------------------------------------------

# --- 05 The combined objective --------------------------------------------------------

# --- 06 Pitfalls and the choice of network --------------------------------------------
