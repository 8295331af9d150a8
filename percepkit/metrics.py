"""Measurements the notebooks use to *show* a claim: distortion (PSNR), sharpness, and whether new detail is real.

All take float images (N, C, H, W) in [0, 1] and return one float per call (batch mean),
so they can be printed, plotted and asserted on directly.
"""

from __future__ import annotations

import math

import torch

from .images import blur, check_image, check_pair

__all__ = ["psnr", "ssim", "sharpness", "high_frequency_energy", "detail_split", "layout_correlation",
           "spectral_slope", "grey_power", "total_variation"]


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, ``10·log10(range² / MSE)``, averaged over the batch.

    Identical images give ``inf``.
    """
    check_pair(x, y, ("x", "y"), rgb=False)
    mse = (x.detach().float() - y.detach().float()).square().flatten(1).mean(1)
    vals = [math.inf if m == 0 else 10 * math.log10(data_range**2 / m) for m in mse.tolist()]
    return sum(vals) / len(vals)


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> float:
    """Structural similarity (Wang et al. 2004), the standard form: an 11×11 Gaussian window (σ = 1.5),
    K1 = 0.01, K2 = 0.03, population (not sample) statistics, each channel apart, averaged over the
    pixels whose window lies inside the image, then over channels and the batch.

    The same number as ``skimage.metrics.structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1, channel_axis=-1)`` (tested). 1 for identical images.
    """
    check_pair(x, y, ("x", "y"), rgb=False)
    if min(x.shape[-2:]) < 11:
        raise ValueError(f"ssim needs images of at least 11x11 (its window); got {x.shape[-2]}x{x.shape[-1]}")
    x, y = x.detach().double(), y.detach().double()
    c = x.shape[1]
    t = torch.arange(-5, 6, dtype=torch.float64)
    g = torch.exp(-t.square() / (2 * 1.5**2))
    g = g / g.sum()
    rows, cols = g.view(1, 1, 11, 1).expand(c, 1, 11, 1), g.view(1, 1, 1, 11).expand(c, 1, 1, 11)

    def mean(v):  # the Gaussian-weighted local mean (separable), only where the window fits ('valid')
        return torch.nn.functional.conv2d(torch.nn.functional.conv2d(v, rows, groups=c), cols, groups=c)

    mx, my = mean(x), mean(y)
    vx, vy, vxy = mean(x * x) - mx * mx, mean(y * y) - my * my, mean(x * y) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels (vertical + horizontal), float32 scalar tensor
    (differentiable): as a loss term, a smoothness penalty that removes pixel-level speckle an optimiser
    leaves behind; as a number, :func:`sharpness`."""
    check_image(x, rgb=False)
    x = x.float()
    return (x[..., 1:, :] - x[..., :-1, :]).square().mean() + (x[..., :, 1:] - x[..., :, :-1]).square().mean()


def sharpness(x: torch.Tensor) -> float:
    """Mean squared gradient magnitude (finite differences, all channels): blur lowers it, detail raises it.

    The same quantity as :func:`total_variation` (squared form), read as a measurement: an optimiser that
    *minimises* the total variation makes the image less sharp by exactly this number.
    """
    check_image(x, rgb=False)
    return float(total_variation(x.detach()))


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


def layout_correlation(x: torch.Tensor, y: torch.Tensor, sigma: float = 2.0) -> float:
    """Pearson correlation of the blurred brightness of two images: does ``x`` have ``y``'s layout?

    Brightness is the mean over channels, blurred by ``sigma`` pixels so that colour noise and
    fine texture do not count — only where the light and dark regions are. 1 for the same
    layout (any brightness or contrast), about 0 for unrelated pictures, −1 for a negative.

    Args:
        x: one RGB image (1, 3, H, W) in [0, 1].
        y: one RGB image of the same shape.
        sigma: Gaussian blur in pixels before comparing.
    """
    check_image(x, "x")
    check_image(y, "y")
    if x.shape[0] != 1 or x.shape != y.shape:
        raise ValueError(f"expected x and y of the same shape (1, 3, H, W); got {tuple(x.shape)} and {tuple(y.shape)}")
    a, b = (blur(v.detach().double(), sigma).mean(1).flatten() for v in (x, y))
    a, b = a - a.mean(), b - b.mean()
    denom = float(a.norm() * b.norm())
    if denom == 0:
        raise ValueError("an image is flat after blurring: its layout correlation is undefined")
    return float(a @ b) / denom


def grey_power(x: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The windowed power spectrum every spectral measure here starts from: per image, the brightness
    (mean over channels), mean removed, under a 2-D Hann window (so the borders add no false edges),
    ``|FFT|²`` in ``dtype``. (N, C, H, W) → (N, H, W), zero frequency at [0, 0] (no ``fftshift``)."""
    g = x.detach().to(dtype).mean(1)
    g = g - g.mean(dim=(-2, -1), keepdim=True)
    h, w = g.shape[-2:]
    window = torch.hann_window(h, periodic=False, dtype=dtype)[:, None] * torch.hann_window(w, periodic=False, dtype=dtype)
    return torch.fft.fft2(g * window).abs().square()


def spectral_slope(x: torch.Tensor) -> float:
    """The exponent α of the image's power spectrum ``P(f) ∝ 1 / f^α``: a no-reference statistic of realism.

    Photographs of natural scenes have power spectra that fall off as a power of spatial
    frequency (Field 1987); blur removes high frequencies and makes the fall-off steeper
    (larger α), noise and speckle add them and make it flatter (smaller α). It never looks at a
    reference image, so it can serve as the *perception* axis of a perception–distortion plot
    (Blau & Michaeli 2018) — one number, so an image can match it and still look wrong.

    Computed on the brightness (mean over channels) of one image, mean removed, under a Hann
    window (so the borders add no false edges), by a least-squares line through
    ``log P`` against ``log f`` for every FFT bin with ``2/H ≤ f ≤ 0.5`` cycles per pixel.

    Args:
        x: one image (1, C, H, W) in [0, 1], at least 16×16.

    Returns:
        float: α (about 2–4 for photographs of natural scenes, 0 for white noise).
    """
    check_image(x, rgb=False)
    if x.shape[0] != 1 or min(x.shape[-2:]) < 16:
        raise ValueError(f"expected one image (1, C, H, W) with H, W >= 16; got {tuple(x.shape)}")
    power = grey_power(x, torch.float64)[0]
    h, w = power.shape
    fy = torch.fft.fftfreq(h, dtype=power.dtype).view(-1, 1)
    fx = torch.fft.fftfreq(w, dtype=power.dtype).view(1, -1)
    f = (fy.square() + fx.square()).sqrt().expand(h, w)
    band = (f >= 2 / min(h, w)) & (f <= 0.5) & (power > 0)
    if int(band.sum()) < 8:
        raise ValueError("the image has (almost) no spectral energy: its slope is undefined")
    design = torch.stack([f[band].log(), torch.ones_like(f[band])], 1)
    coef = torch.linalg.lstsq(design, power[band].log()[:, None]).solution
    return -float(coef[0, 0])
