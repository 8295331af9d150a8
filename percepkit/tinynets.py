"""Two tiny image-to-image networks that train on a CPU in a minute or two (notebook 07).

* :class:`TinyDenoiser`: a VDSR-style residual network (``x + body(x)``, a few 3×3 convs).
* :class:`TinyUpsampler`: a ×``factor`` super-resolution net (bicubic + a learned residual)
  whose last layer is either a PixelShuffle (sub-pixel conv, ICNR init) or a resize-convolution,
  for the checkerboard forensics.

Both are seeded without touching the global random state. The trained networks of the papers
(SRResNet, SRGAN) are in :mod:`percepkit.srnets`.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .images import check_image

__all__ = ["TinyDenoiser", "TinyUpsampler"]


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

