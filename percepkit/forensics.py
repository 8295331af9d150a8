"""Artefact forensics for a trained network's outputs: the power spectrum, a grid score, a colour shift.

A perceptual term pushed hard can make an upsampling network paint a lattice (a checkerboard at
the upsampler's period) or shift colours (an edge network barely constrains colour). A
sharpness number cannot tell a lattice from real detail; these can:

* :func:`power_spectrum`: the 2-D power spectrum, zero frequency in the centre (show it on a
  log scale: a lattice is a grid of bright dots).
* :func:`radial_spectrum`: the power spectrum averaged over rings of equal frequency.
* :func:`grid_score`: power at the lattice frequencies ``k/period`` relative to the ring around
  them; about 1 for natural images, hundreds for a visible checkerboard.
* :func:`lattice_amplitude`: how strong that lattice is in grey levels: the part of the image
  that repeats exactly every ``period`` pixels, as an RMS in 0–255 units (under about 1 for
  natural pictures; a lattice you can see at a glance is several levels).
* :func:`colour_shift`: the mean colour difference from a reference, split into a brightness
  change and a colour cast.

All take float images (N, C, H, W) in [0, 1] (a batch is averaged) and return plain numbers.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from .images import check_image, check_pair
from .metrics import grey_power

__all__ = ["power_spectrum", "radial_spectrum", "grid_score", "lattice_amplitude", "colour_shift", "ColourShift"]


def _power(x: torch.Tensor) -> torch.Tensor:
    """Hann-windowed power spectrum of the grey image, mean removed, averaged over the batch: (H, W)."""
    return grey_power(x).mean(0)


def power_spectrum(x: torch.Tensor) -> torch.Tensor:
    """2-D power spectrum of the grey image (mean of RGB, mean removed, Hann window), batch-averaged.

    Returns an (H, W) float tensor with zero frequency at the centre (``torch.fft.fftshift``):
    row ``H // 2 + k`` holds vertical frequency ``k / H`` cycles/pixel. ``imshow(power.log10())``
    shows a natural picture as a smooth blob fading outwards and a period-``p`` lattice as
    bright dots every ``H / p`` bins.
    """
    check_image(x, rgb=False, unit_range=True)
    return torch.fft.fftshift(_power(x))


def _check_period(x: torch.Tensor, period) -> None:
    """The checks of the lattice measures: an image in [0, 1], an int period >= 2, at least 4 periods on each side."""
    check_image(x, rgb=False, unit_range=True)
    if not isinstance(period, int) or period < 2:
        raise ValueError(f"expected period as an int >= 2 (pixels); got {period!r}")
    h, w = x.shape[-2:]
    if min(h, w) < 4 * period:
        raise ValueError(f"expected an image at least {4 * period} px on each side for period {period}; got {h}x{w}")


def radial_spectrum(x: torch.Tensor, bins: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Radially averaged power spectrum of the (grey, windowed, mean-removed) image.

    Returns:
        (freqs, power): ``freqs`` in cycles/pixel from 0 to 0.5 (Nyquist), ``power`` the mean power
        in each ring, both 1-D float tensors of length ``bins`` (default: half the smaller side).
        Plot ``power`` on a log scale: natural images fall like 1/f²; a lattice adds spikes.
    """
    check_image(x, rgb=False, unit_range=True)
    p = _power(x)
    h, w = p.shape
    bins = bins or min(h, w) // 2
    if not isinstance(bins, int) or bins < 2:
        raise ValueError(f"expected bins as an int >= 2; got {bins!r}")
    fy = torch.fft.fftfreq(h).view(-1, 1)
    fx = torch.fft.fftfreq(w).view(1, -1)
    r = torch.sqrt(fy**2 + fx**2)
    idx = (r / 0.5 * bins).long()
    keep = idx < bins
    total = torch.zeros(bins).index_add_(0, idx[keep], p[keep])
    count = torch.zeros(bins).index_add_(0, idx[keep], torch.ones_like(p[keep]))
    freqs = (torch.arange(bins) + 0.5) * 0.5 / bins
    return freqs, total / count.clamp(min=1)


def grid_score(x: torch.Tensor, period: int = 4) -> float:
    """How strongly the image repeats with ``period`` pixels: a checkerboard detector.

    At every lattice frequency ``(a/period, b/period)`` cycles/pixel (not both 0), the mean power
    of the 3×3 spectral bins there is divided by the mean power of the ring of bins 2–4 away;
    the score is the mean of those ratios. Natural images score about 1 (their spectrum is smooth
    there); an image with a visible period-``period`` lattice scores in the tens to thousands.
    """
    _check_period(x, period)
    p = _power(x)
    h, w = p.shape
    dy, dx = torch.meshgrid(torch.arange(-4, 5), torch.arange(-4, 5), indexing="ij")
    ring = torch.maximum(dy.abs(), dx.abs()) >= 2
    inner = torch.maximum(dy.abs(), dx.abs()) <= 1
    ratios = []
    for a in range(period):
        for b in range(period):
            if a == 0 and b == 0:
                continue
            cy, cx = round(a * h / period), round(b * w / period)
            patch = p[(cy + dy) % h, (cx + dx) % w]
            ratios.append(float(patch[inner].mean() / patch[ring].mean().clamp(min=1e-20)))
    return sum(ratios) / len(ratios)


def lattice_amplitude(x: torch.Tensor, period: int = 4) -> float:
    """RMS strength of the pattern that repeats every ``period`` pixels, in grey levels (0–255).

    The fine detail ``d = x − box_blur_period(x)`` (the local mean over ``period``×``period``
    pixels removed) is averaged over all pixels that share a position modulo ``period`` in both
    directions: real detail falls at every phase and averages out; a lattice painted by an
    upsampling layer sits at the same phase everywhere and survives. The result is the RMS of
    that ``period``×``period`` mean pattern over colour channels, images and phases, × 255.

    Unlike :func:`grid_score` (a ratio to the spectrum around the lattice frequencies, which is
    high for a very smooth image with a faint lattice), this is an absolute size: a lattice of
    ±a grey levels scores about ``a``; natural pictures score under about 1 (leftover detail),
    and a lattice you notice at a glance scores several levels.
    """
    _check_period(x, period)
    n, c, h, w = x.shape
    x = x.detach().float()
    lo, hi = (period - 1) // 2, period // 2
    local_mean = F.avg_pool2d(F.pad(x, (lo, hi, lo, hi), mode="replicate"), period, stride=1)
    d = (x - local_mean)[..., : h // period * period, : w // period * period]
    pattern = d.reshape(n, c, h // period, period, w // period, period).mean(dim=(2, 4))
    return float(pattern.square().mean().sqrt() * 255)


class ColourShift(NamedTuple):
    """Mean colour difference of an image from its reference (image − reference, in [0, 1] units).

    ``rgb``: per channel; ``brightness``: their mean; ``cast``: the size of what is left once the
    brightness change is removed (a colour cast), ``sqrt(Σ (rgb_c − brightness)²)``.
    """

    rgb: tuple[float, float, float]
    brightness: float
    cast: float

    def __str__(self) -> str:
        r, g, b = self.rgb
        return f"colour shift: R {r:+.3f}  G {g:+.3f}  B {b:+.3f}  (brightness {self.brightness:+.3f}, cast {self.cast:.3f})"


def colour_shift(x: torch.Tensor, reference: torch.Tensor) -> ColourShift:
    """The mean colour of ``x`` minus that of ``reference`` (same shape, RGB): brightness and cast.

    Means over all pixels, so detail, noise and small misalignments cancel: what remains is a
    global change of colour. A cast above about 0.02 (2 % of the range) is visible side by side.
    """
    check_pair(x, reference, ("x", "reference"), unit_range=True)
    d = (x.detach().float() - reference.detach().float()).mean(dim=(0, 2, 3))
    rgb = tuple(float(v) for v in d)
    bright = sum(rgb) / 3
    cast = math.sqrt(sum((v - bright) ** 2 for v in rgb))
    return ColourShift(rgb, bright, cast)
