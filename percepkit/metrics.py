"""Measurements the notebooks use to *show* a claim: distortion (PSNR), sharpness, and whether new detail is real.

All take float images (N, C, H, W) in [0, 1] and return one float per call (batch mean),
so they can be printed, plotted and asserted on directly.
"""

from __future__ import annotations

import math

import torch

from .images import blur, check_image

__all__ = ["psnr", "sharpness", "high_frequency_energy", "detail_split"]


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


def detail_split(x: torch.Tensor, references: torch.Tensor, sigma: float = 1.0) -> dict:
    """Split the fine detail of ``x`` into detail *recovered* from a reference and detail *invented*.

    Sharpness alone cannot tell real detail from noise or artefact; this can. With the detail
    (high-pass) of an image ``d(img) = img − blur(img, sigma)``, and ``r = d(reference)``:

    - ``recovered = <d(x), r> / <r, r>`` — how much of the reference's own detail ``x`` carries,
      at full contrast 1 (the reference itself), 0 for none, between for a faded copy;
    - ``invented = |d(x) − recovered·r|² / |r|²`` — the energy of the detail that is *not* the
      reference's, relative to the reference's detail energy (0 for a faded copy, large for noise,
      speckle or ghost edges).

    Args:
        x: one RGB image (1, 3, H, W) in [0, 1].
        references: K ≥ 1 equally valid answers (K, 3, H, W), e.g. shifted copies; the one
            whose detail ``x`` carries most (largest ``recovered``) is used.
        sigma: Gaussian blur (pixels) that defines "detail".

    Returns:
        dict: ``recovered`` and ``invented`` (floats) and ``reference`` (index of the reference used).
    """
    check_image(x, "x")
    check_image(references, "references")
    if x.shape[0] != 1 or x.shape[1:] != references.shape[1:]:
        raise ValueError(f"expected x of shape (1, C, H, W) and references (K, C, H, W) with the same C, H, W; "
                         f"got {tuple(x.shape)} and {tuple(references.shape)}")
    dx = (x - blur(x, sigma)).detach().double().flatten(1)
    dr = (references - blur(references, sigma)).detach().double().flatten(1)
    energy = dr.square().sum(1)
    if not bool((energy > 1e-12 * dr.shape[1]).all()):  # float rounding leaves ~1e-15 on a flat image
        raise ValueError("a reference has no detail at this sigma (a flat image): nothing to recover")
    recovered = (dr @ dx[0]) / energy
    k = int(recovered.argmax())
    invented = (dx[0] - recovered[k] * dr[k]).square().sum() / energy[k]
    return {"recovered": float(recovered[k]), "invented": float(invented), "reference": k}
