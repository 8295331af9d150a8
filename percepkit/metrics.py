"""Measurements the notebooks use to *show* a claim: distortion (PSNR) and sharpness.

All take float images (N, C, H, W) in [0, 1] and return one float per call (batch mean),
so they can be printed, plotted and asserted on directly.
"""

from __future__ import annotations

import math

import torch

from .images import check_image

__all__ = ["psnr", "sharpness", "high_frequency_energy"]


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, ``10·log10(range² / MSE)``, averaged over the batch.

    Identical images give ``inf``.
    """
    check_image(x, "x", rgb=False)
    check_image(y, "y", rgb=False)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape; got {tuple(x.shape)} and {tuple(y.shape)}")
    mse = (x.detach().float() - y.detach().float()).square().flatten(1).mean(1)
    vals = [math.inf if m == 0 else 10 * math.log10(data_range**2 / m) for m in mse.tolist()]
    return sum(vals) / len(vals)


def sharpness(x: torch.Tensor) -> float:
    """Mean squared gradient magnitude (finite differences, all channels): blur lowers it, detail raises it."""
    check_image(x, rgb=False)
    x = x.detach().float()
    gx = x[..., :, 1:] - x[..., :, :-1]
    gy = x[..., 1:, :] - x[..., :-1, :]
    return float(gx.square().mean() + gy.square().mean())


def high_frequency_energy(x: torch.Tensor, cutoff: float = 0.25) -> float:
    """Fraction of the image's spectral energy (mean removed) above ``cutoff`` cycles/pixel (Nyquist is 0.5)."""
    check_image(x, rgb=False)
    if not 0 < cutoff < 0.5:
        raise ValueError(f"expected 0 < cutoff < 0.5 cycles/pixel; got {cutoff}")
    x = x.detach().float()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    p = torch.fft.fft2(x).abs().square()
    fy = torch.fft.fftfreq(x.shape[-2]).abs().view(-1, 1)
    fx = torch.fft.fftfreq(x.shape[-1]).abs().view(1, -1)
    high = (torch.maximum(fy, fx) > cutoff).to(p.dtype)
    total = p.sum()
    return float((p * high).sum() / total) if total > 0 else 0.0
