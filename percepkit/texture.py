"""Texture synthesis by Gram matching (Gatys et al. 2015), the recipe notebook 04 calls in one line each.

The idea is in the notebook: change the pixels of a start image until the Gram matrices of
chosen layers match the texture's. The plumbing that makes it work on every backbone is here:

* :func:`texture_start` — the texture's mean colour plus *grey* noise. Edge networks (HED) barely
  constrain hue, so colour noise in the start would survive as colour speckle.
* :class:`TextureLoss` — a ``"balanced"`` :class:`~percepkit.StyleLoss` (every layer a relative
  error), plus a Gram term on the RGB pixels themselves (pins the colours the network ignores),
  plus optional total variation (a little smoothness against pixel-level speckle).

Run it with ``optimize_image(..., optimizer="lbfgs", lr=1)``: L-BFGS with its line search
converges in ~100 steps where Adam leaves noise.
"""

from __future__ import annotations

import torch

from .backbones import Backbone
from .images import blur, check_image
from .losses import StyleLoss, energy, gram_matrix, total_variation

__all__ = ["texture_start", "TextureLoss"]


def texture_start(target: torch.Tensor, size: int | None = None, noise: float = 0.08, seed: int = 0) -> torch.Tensor:
    """A start image for synthesis: ``target``'s mean colour plus smooth grey noise, in [0, 1].

    Args:
        target: (1, 3, H, W) texture in [0, 1].
        size: side of the start image (default: the target's height).
        noise: standard deviation of the grey noise (0.08: stays inside [0, 1] for mid-grey textures;
            pixels clamped at 0 or 1 in the start get no gradient and stay as dark or bright dots).
        seed: seeds the noise (a local generator: the caller's random stream is untouched).
    """
    check_image(target, "target", unit_range=True)
    side = int(size or target.shape[-2])
    g = torch.Generator().manual_seed(seed)
    grey = torch.randn(1, 1, side, side, generator=g).expand(1, 3, side, side).contiguous()
    grey = blur(grey, 1.0)
    grey = grey / grey.std().clamp_min(1e-8)
    return (target.mean((2, 3), keepdim=True) + noise * grey).clamp(0, 1)


class TextureLoss(torch.nn.Module):
    """``StyleLoss(weights="balanced") + rgb_weight·Gram-error(RGB) + tv_weight·TV(x)/TV(target)``.

    Args:
        backbone: a Backbone, a name, or ``None``.
        layers: style layers (default ``backbone.style_layers``).
        rgb_weight: weight of the relative Gram error of the pixels themselves (colour statistics).
        tv_weight: weight of total variation, relative to the target's own.
        precision: as :class:`~percepkit.StyleLoss`.

    ``set_target(texture)`` once, then ``loss(x)``; ``terms`` holds each part (for the history).
    """

    def __init__(self, backbone: Backbone | str | None = None, layers=None, rgb_weight: float = 1.0,
                 tv_weight: float = 0.0, precision: str = "fp32"):
        super().__init__()
        if not (rgb_weight >= 0 and tv_weight >= 0):
            raise ValueError(f"expected rgb_weight and tv_weight >= 0; got {rgb_weight!r}, {tv_weight!r}")
        self.style = StyleLoss(backbone, layers, weights="balanced", precision=precision)
        self.rgb_weight, self.tv_weight = float(rgb_weight), float(tv_weight)
        self.terms: dict[str, torch.Tensor] = {}
        self._rgb = self._tv = None

    def set_target(self, texture: torch.Tensor) -> TextureLoss:
        self.style.set_target(texture)
        with torch.no_grad():
            self._rgb = gram_matrix(texture.float())
            self._rgb_size = energy(self._rgb)
            self._tv = float(total_variation(texture)) or 1e-12
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._rgb is None:
            raise ValueError("no target: call set_target(texture) first")
        terms = {"style": self.style(x)}
        if self.rgb_weight:
            gx = gram_matrix(x)
            terms["rgb"] = self.rgb_weight * (gx - self._rgb).square().mean() / self._rgb_size
        if self.tv_weight:
            terms["tv"] = self.tv_weight * total_variation(x) / self._tv
        self.terms = terms
        return sum(terms.values())
