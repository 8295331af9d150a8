"""The loss family: pixel, perceptual (feature), Gram/style, adversarial, and their weighted sum.

Conventions (the notebooks and sliders depend on them):

* Images are float RGB in [0, 1], shape (N, 3, H, W); the backbone normalises internally.
* Feature loss of layer l: ``mean((φ_l(x) − φ_l(y))²)`` = ‖φ_l(x) − φ_l(y)‖² / (N·C·H·W),
  i.e. 1/(C·H·W) per image averaged over the batch. Total: ``Σ_l w_l · that``, ``w_l = 1``
  by default.
* Gram matrix: ``G = F Fᵀ / (C·H·W)`` per image, F the (C, H·W) feature matrix. Style
  loss of layer l: mean squared difference of the Grams, ``Σ_l w_l ·`` that.
* Target features are computed without autograd; ``set_target`` caches them.
* ``precision``: ``"fp32"`` (default), ``"bf16"``, or ``"auto"`` (bf16 autocast only where
  the device computes bf16 natively). The returned loss is always float32.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .backbones import Backbone, resolve_precision
from .images import check_image, check_pair, check_same_shape, shift
from .metrics import total_variation
from .weights import resolve_backbone

__all__ = [
    "total_variation",  # defined in metrics (sharpness is the same number), a loss term here
    "pixel_loss",
    "energy",
    "gram_matrix",
    "content_loss",
    "style_loss",
    "PerceptualLoss",
    "StyleLoss",
    "PatchDiscriminator",
    "adversarial_loss",
    "CombinedLoss",
    "TERMS",
    "Lambdas",
    "pair_distances",
    "shift_distances",
]

class Lambdas(NamedTuple):
    """The weights of :class:`CombinedLoss`'s terms, by name — the one λ type from a slider to the loss.

    Also a plain tuple in this order, so it is hashable and ``Lambdas(1, 1, 0, 4) == (1, 1, 0, 4)``.
    A term added here (with a default of 0) reaches the sliders, tables and solver by itself.
    """

    pix: float = 0.0
    perc: float = 0.0
    style: float = 0.0
    adv: float = 0.0

    @classmethod
    def of(cls, lambdas) -> Lambdas:
        """From a :class:`Lambdas`, a mapping ``{term: λ}`` or a sequence in :data:`TERMS` order;
        checked: finite, >= 0."""
        if isinstance(lambdas, Mapping):
            unknown = [k for k in lambdas if k not in cls._fields]
            if unknown:
                raise ValueError(f"unknown term(s) {unknown}; the terms are {list(cls._fields)}")
            values = [lambdas.get(t, 0.0) for t in cls._fields]
        else:
            try:
                values = list(lambdas)
            except TypeError:
                raise TypeError(f"expected λ as a mapping term → value or {len(cls._fields)} numbers "
                                f"{cls._fields}; got {type(lambdas).__name__}") from None
            if len(values) != len(cls._fields):
                raise ValueError(f"expected {len(cls._fields)} lambdas {cls._fields}; got {lambdas!r}")
        try:
            values = [float(v) for v in values]
        except (TypeError, ValueError):
            raise ValueError(f"expected numbers for the lambdas {cls._fields}; got {lambdas!r}") from None
        if not all(math.isfinite(v) and v >= 0 for v in values):
            raise ValueError(f"expected finite lambdas >= 0 {cls._fields}; got {lambdas!r}")
        return cls(*values)


#: The terms of :class:`CombinedLoss`, in this order everywhere (λ tuples, sliders, tables).
TERMS = Lambdas._fields


def _check_pair(x, y, names=("prediction", "target")) -> None:
    check_pair(x, y, names, rgb=False)


def pixel_loss(x: torch.Tensor, y: torch.Tensor, kind: str = "l2") -> torch.Tensor:
    """Mean pixel loss: ``"l2"`` = mean squared error, ``"l1"`` = mean absolute error.

    Args:
        x, y: (N, C, H, W) float tensors of the same shape (any range; [0, 1] by convention).
        kind: ``"l2"`` or ``"l1"``.

    Returns:
        Scalar float32 tensor.
    """
    if kind not in ("l1", "l2"):
        raise ValueError(f"expected kind 'l1' or 'l2'; got {kind!r}")
    _check_pair(x, y)
    return _pixel(x, y, kind)


def _pixel(x: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    d = x.float() - y.float()
    return d.abs().mean() if kind == "l1" else d.square().mean()


def energy(t: torch.Tensor) -> float:
    """``mean(t²)`` as a float, floored at 1e-12: the size a *relative* error is measured against (the
    "balanced" layer weights, feature inversion's fit, the texture loss's colour term)."""
    return max(float(t.detach().float().square().mean()), 1e-12)


def gram_matrix(f: torch.Tensor) -> torch.Tensor:
    """Gram matrix ``G = F Fᵀ / (C·H·W)`` of features ``f`` (N, C, H, W) → (N, C, C), float32.

    ``G[n, i, j]`` is the mean over positions of channel i times channel j, divided by C as
    well: where features occur is discarded, which channels fire together is kept.
    """
    if not isinstance(f, torch.Tensor) or f.ndim != 4:
        got = tuple(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__
        raise ValueError(f"expected features of shape (N, C, H, W); got {got}")
    n, c, h, w = f.shape
    m = f.float().reshape(n, c, h * w)
    return torch.bmm(m, m.transpose(1, 2)) / (c * h * w)


def content_loss(fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
    """Feature loss of one layer: ``mean((fx − fy)²)`` = ‖fx − fy‖² / (N·C·H·W)."""
    if fx.shape != fy.shape:
        raise ValueError(f"feature shapes differ: {tuple(fx.shape)} vs {tuple(fy.shape)}")
    # One fused op: autograd keeps fx and fy (which exist anyway), not a difference tensor per layer.
    return F.mse_loss(fx.float(), fy.float())


def style_loss(fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
    """Style loss of one layer: mean squared difference of the Gram matrices (÷C·H·W Grams).

    ``fy`` may have a different spatial size, and a batch of 1 is broadcast to ``fx``'s batch.
    """
    gx, gy = gram_matrix(fx), gram_matrix(fy)
    if gy.shape[1:] != gx.shape[1:] or gy.shape[0] not in (1, gx.shape[0]):
        raise ValueError(f"Gram shapes do not match: {tuple(gx.shape)} vs {tuple(gy.shape)}")
    return (gx - gy).square().mean()


class _FeatureLoss(nn.Module):
    """Shared machinery of PerceptualLoss and StyleLoss: layers, weights, target caching."""

    _layer_fn = staticmethod(content_loss)
    _compared = staticmethod(lambda f: f)  # what a layer's term compares; "balanced" divides by its energy
    _default_attr = "default_layers"
    _same_shape = True

    def __init__(self, backbone: Backbone | str | None = None, layers=None, weights=None, precision: str = "fp32"):
        super().__init__()
        self.backbone = backbone = resolve_backbone(backbone)
        self.layers = backbone.resolve_layers(layers if layers is not None else getattr(backbone, self._default_attr))
        self.balanced = isinstance(weights, str) and weights == "balanced"
        self.weights = {n: 1.0 for n in self.layers} if self.balanced else self._resolve_weights(weights)
        resolve_precision(precision)  # validate now
        self.precision = precision
        self._target = None
        self._target_shape = None
        self.last_layer_losses: dict[str, float] = {}

    def _resolve_weights(self, weights) -> dict[str, float]:
        if weights is None:
            return {n: 1.0 for n in self.layers}
        if isinstance(weights, Mapping):
            extra = [k for k in weights if k not in self.layers]
            if extra:
                raise ValueError(f"weights given for layers not in use: {extra}; layers are {list(self.layers)}")
            return {n: float(weights.get(n, 1.0)) for n in self.layers}
        if isinstance(weights, Sequence) and not isinstance(weights, str):
            if len(weights) != len(self.layers):
                raise ValueError(f"expected {len(self.layers)} weights for layers {list(self.layers)}; got {len(weights)}")
            return {n: float(w) for n, w in zip(self.layers, weights)}
        raise TypeError(f"expected weights as None, 'balanced', a dict layer->weight or a list; got {weights!r}")

    def _balance(self, ty: dict[str, torch.Tensor]) -> dict[str, float]:
        """``"balanced"``: w_l = 1 / (n_layers · the target's own size at layer l), so every layer's
        term is a relative error and they add up to about 1 at a start as far as the target's zero."""
        n = len(self.layers)
        return {l: 1.0 / (n * energy(self._compared(ty[l]))) for l in self.layers}

    def _features(self, x: torch.Tensor, what: str = "x", checked: bool = False) -> dict[str, torch.Tensor]:
        # Validate once (unless the caller just did), then call the backbone with normalize=False,
        # which normalises nothing and checks nothing: the input is not scanned twice per call.
        if not checked:
            self.backbone.check_input(x, self.layers, what=what)
        return self.backbone(self.backbone.normalize(x), self.layers, normalize=False, precision=self.precision)

    def _target_features(self, y: torch.Tensor, checked: bool = False) -> dict[str, torch.Tensor]:
        with torch.no_grad():  # the target needs no graph: no saved activations, no backward through it
            return {k: v.detach() for k, v in self._features(y, what="target", checked=checked).items()}

    def set_target(self, y: torch.Tensor) -> _FeatureLoss:
        """Compute the target's features once (no autograd) and reuse them in every call without ``y``."""
        self._target = self._target_features(y)
        self._target_shape = tuple(y.shape)
        if self.balanced:
            self.weights = self._balance(self._target)
        return self

    def clear_target(self) -> None:
        self._target = None
        self._target_shape = None

    def layer_losses(self, x: torch.Tensor, y: torch.Tensor | None = None, *, _checked: bool = False
                     ) -> dict[str, torch.Tensor]:
        """Unweighted per-layer losses (scalar float32 tensors), ``{layer: loss}``.

        (``_checked``: the caller — :class:`CombinedLoss` — has validated ``x`` and ``y`` already.)
        """
        if y is None:
            if self._target is None:
                raise ValueError("no target: call set_target(y) first or pass the target as the second argument")
            if not _checked:
                self.backbone.check_input(x, self.layers, what="prediction")
            if self._same_shape and tuple(x.shape) != self._target_shape:
                raise ValueError(f"prediction shape {tuple(x.shape)} differs from the cached target's {self._target_shape}")
            ty = self._target
        else:
            if not _checked:
                self.backbone.check_input(x, self.layers, what="prediction")
                self.backbone.check_input(y, self.layers, what="target")
            if self._same_shape:
                check_same_shape(x, y, ("prediction", "target"))
            ty = self._target_features(y, checked=True)
            if self.balanced:
                self.weights = self._balance(ty)
        fx = self._features(x, checked=True)
        return {n: self._layer_fn(fx[n], ty[n]) for n in self.layers}

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, *, _checked: bool = False) -> torch.Tensor:
        """Weighted sum of the per-layer losses (scalar float32). Without ``y``, the cached target is used."""
        per = self.layer_losses(x, y, _checked=_checked)
        self.last_layer_losses = {n: float(v.detach()) for n, v in per.items()}
        return sum(self.weights[n] * per[n] for n in self.layers)

    def extra_repr(self) -> str:
        return f"backbone={self.backbone.name!r}, layers={list(self.layers)}, precision={self.precision!r}"


class PerceptualLoss(_FeatureLoss):
    """Feature (perceptual/content) loss ``Σ_l w_l · mean((φ_l(x) − φ_l(y))²)``.

    Args:
        backbone: a :class:`~percepkit.backbones.Backbone`, a name (``"vgg19"``, ``"vgg16-hed"``,
            ``"efficientnet-lite0"``, …, loaded once and reused) or ``None`` (``"auto"``).
        layers: layer names; ``None`` → ``backbone.default_layers``.
        weights: ``None`` (all 1), a list aligned with ``layers``, a dict layer → weight, or
            ``"balanced"``: each layer divided by ``n_layers · mean(φ_l(target)²)`` (for StyleLoss
            ``mean(G_l(target)²)``), so every layer counts as a relative error. With plain 1/(C·H·W)
            the shallowest layer often dominates (notebook 03 measures by how much).
        precision: ``"fp32"`` | ``"bf16"`` | ``"auto"``.

    Call as ``loss(x, y)`` or, after ``loss.set_target(y)``, as ``loss(x)``. Inputs are float
    RGB (N, 3, H, W) in [0, 1]; prediction and target must have the same shape.
    """


class StyleLoss(_FeatureLoss):
    """Gram (style) loss ``Σ_l w_l · mean((G_l(x) − G_l(y))²)`` with ``G = F Fᵀ / (C·H·W)``.

    Same arguments as :class:`PerceptualLoss`; ``layers=None`` → ``backbone.style_layers``.
    The style target may differ in size from the prediction (a batch of 1 is broadcast).
    """

    _layer_fn = staticmethod(style_loss)
    _compared = staticmethod(gram_matrix)
    _default_attr = "style_layers"
    _same_shape = False


class PatchDiscriminator(nn.Module):
    """A small PatchGAN critic: 4 strided convs → one real/fake logit per ~22×22 patch.

    Input float RGB (N, 3, H, W) in [0, 1]; output logits (N, 1, H/8, W/8). About 50k
    parameters with ``width=32``, so it trains in seconds on a CPU.
    """

    def __init__(self, width: int = 32):
        super().__init__()
        w = int(width)
        self.net = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.GroupNorm(1, 2 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 2 * w, 4, 2, 1), nn.GroupNorm(1, 2 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 1, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image(x, "discriminator input")
        if x.shape[1] != 3 or min(x.shape[-2:]) < 8:
            raise ValueError(f"expected (N, 3, H, W) with H, W >= 8; got {tuple(x.shape)}")
        return self.net(x * 2 - 1)


def adversarial_loss(logits: torch.Tensor, target_is_real: bool) -> torch.Tensor:
    """Non-saturating GAN loss: binary cross-entropy of ``logits`` against all-real or all-fake labels.

    Generator step: ``adversarial_loss(D(fake), True)``. Discriminator step:
    ``adversarial_loss(D(real), True) + adversarial_loss(D(fake.detach()), False)``.
    """
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"expected logits as a tensor; got {type(logits).__name__}")
    target = torch.full_like(logits, 1.0 if target_is_real else 0.0)
    return F.binary_cross_entropy_with_logits(logits.float(), target.float())


class CombinedLoss(nn.Module):
    """``λ_pix·L_pix + λ_perc·L_perc + λ_style·L_style + λ_adv·L_GAN``, with each weighted term exposed.

    Args:
        lambda_pix, lambda_perc, lambda_style, lambda_adv: non-negative weights; a term whose
            λ is 0 is not computed at all.
        lambdas: instead of the four, all of them by name: a :class:`Lambdas` or a mapping
            ``{"pix": 1, "perc": 0.1}`` (terms not named are 0).
        pixel_kind: ``"l2"`` (default, as :func:`pixel_loss`) or ``"l1"``.
        backbone, layers, style_layers, precision: passed to the feature losses (``backbone``: a
            Backbone, a name, or ``None``).
        discriminator: a critic (e.g. :class:`PatchDiscriminator`); required when ``lambda_adv > 0``.

    ``forward(x, y=None)`` returns the total (scalar float32) and sets ``self.terms``:
    ``{"pix": λ_pix·L_pix, "perc": …, "style": …, "adv": …}`` as tensors with grad (only the
    active terms). Call :meth:`set_target` once to cache the target (and the style target,
    which defaults to the target).
    """

    def __init__(self, lambda_pix: float = 1.0, lambda_perc: float = 1.0, lambda_style: float = 0.0,
                 lambda_adv: float = 0.0, pixel_kind: str = "l2", backbone: Backbone | str | None = None,
                 layers=None, style_layers=None, discriminator: nn.Module | None = None, precision: str = "fp32",
                 *, lambdas=None):
        super().__init__()
        if lambdas is None:
            lambdas = {"pix": lambda_pix, "perc": lambda_perc, "style": lambda_style, "adv": lambda_adv}
            for k, v in lambdas.items():
                if not isinstance(v, (int, float)) or not v >= 0 or v == float("inf"):
                    raise ValueError(f"expected lambda_{k} as a finite number >= 0; got {v!r}")
        lambdas = Lambdas.of(lambdas)
        lambda_perc, lambda_style, lambda_adv = lambdas.perc, lambdas.style, lambdas.adv
        if pixel_kind not in ("l1", "l2"):
            raise ValueError(f"expected pixel_kind 'l1' or 'l2'; got {pixel_kind!r}")
        if lambda_adv > 0 and discriminator is None:
            raise ValueError("lambda_adv > 0 needs a discriminator (e.g. percepkit.PatchDiscriminator())")
        self.lambdas = lambdas._asdict()
        self.pixel_kind = pixel_kind
        if lambda_perc > 0 or lambda_style > 0:
            backbone = resolve_backbone(backbone)
        self.perceptual = PerceptualLoss(backbone, layers, precision=precision) if lambda_perc > 0 else None
        self.style = StyleLoss(backbone, style_layers, precision=precision) if lambda_style > 0 else None
        self.discriminator = discriminator
        self._target = None
        self.terms: dict[str, torch.Tensor] = {}

    def set_target(self, y: torch.Tensor, style: torch.Tensor | None = None) -> CombinedLoss:
        """Cache the target (and the style target; default: the target itself)."""
        check_image(y, "target", rgb=False)
        self._target = y.detach()
        if self.perceptual is not None:
            self.perceptual.set_target(y)
        if self.style is not None:
            self.style.set_target(y if style is None else style)
        return self

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is None and self._target is None:
            raise ValueError("no target: call set_target(y) first or pass the target as the second argument")
        target = self._target if y is None else y
        features = [f for f in (self.perceptual, self.style) if f is not None]
        if features:  # one check (and one scan of each input) for every term, not one per term
            layers = tuple(dict.fromkeys(n for f in features for n in f.layers))
            features[0].backbone.check_input(x, layers, what="prediction")
            if y is not None:
                features[0].backbone.check_input(y, layers, what="target")
            check_same_shape(x, target, ("prediction", "target"))
        else:
            _check_pair(x, target)
        lam, terms = self.lambdas, {}
        if lam["pix"] > 0:
            terms["pix"] = lam["pix"] * _pixel(x, target, self.pixel_kind)
        if self.perceptual is not None:
            terms["perc"] = lam["perc"] * self.perceptual(x, y, _checked=True)
        if self.style is not None:
            terms["style"] = lam["style"] * self.style(x, y, _checked=True)
        if lam["adv"] > 0:
            terms["adv"] = lam["adv"] * adversarial_loss(self.discriminator(x), True)
        if not terms:
            raise ValueError("all lambdas are 0: nothing to optimise")
        self.terms = terms
        return sum(terms.values())

    def extra_repr(self) -> str:
        return ", ".join(f"lambda_{k}={v:g}" for k, v in self.lambdas.items()) + f", pixel_kind={self.pixel_kind!r}"


# --- distances between two images, per metric (notebook 02) ----------------------------


def pair_distances(x: torch.Tensor, y: torch.Tensor, backbone: Backbone | str | None = None, layers=None,
                   reference: dict | None = None) -> dict[str, float]:
    """L1, L2 and each layer's feature loss between two (1, 3, H, W) images, optionally ÷ ``reference``.

    Args:
        x, y: (1, 3, H, W) float RGB in [0, 1].
        backbone: a Backbone, a name, or ``None`` (the default one).
        layers: layer names; ``None`` → ``backbone.default_layers``.
        reference: raw distances to divide by (e.g. those of an unrelated picture), so 1 means
            "as different as that picture".

    Returns:
        dict metric → distance: ``"L1"``, ``"L2"`` (:func:`pixel_loss`), then one entry per layer
        (:func:`content_loss`).
    """
    backbone = resolve_backbone(backbone)
    _check_pair(x, y, ("x", "y"))
    layers = backbone.resolve_layers(layers)
    with torch.no_grad():
        f = backbone(torch.cat([x, y]), layers)
    out = _pair_table(x, y, {n: f[n][: len(x)] for n in layers}, {n: f[n][len(x) :] for n in layers})
    if reference is not None:
        missing = [k for k in out if k not in reference]
        if missing:
            raise ValueError(f"reference lacks the metric(s) {missing}")
        out = {k: v / reference[k] for k, v in out.items()}
    return out


def _pair_table(x: torch.Tensor, y: torch.Tensor, fx: Mapping, fy: Mapping) -> dict[str, float]:
    """:func:`pair_distances`' numbers from features already computed: ``"L1"``, ``"L2"``, then
    :func:`content_loss` of ``fx[n]`` and ``fy[n]`` for each layer ``n`` of ``fx`` (in its order).

    :func:`percepkit.scoring.triplet_distances` uses it with features of a whole batch of triplets
    from one forward pass (the reference's shared by both candidates)."""
    out = {"L1": float(pixel_loss(x, y, "l1")), "L2": float(pixel_loss(x, y, "l2"))}
    out.update({n: float(content_loss(fx[n], fy[n])) for n in fx})
    return out


def shift_distances(image: torch.Tensor, dx: float, backbone: Backbone | str | None = None, layers=None,
                    reference: dict | None = None) -> dict[str, float]:
    """How far ``image`` moves under each metric when shifted right by ``dx`` pixels:
    :func:`pair_distances` of the image and :func:`percepkit.shift` of it (fractional shifts
    interpolate bilinearly)."""
    if not isinstance(image, torch.Tensor) or image.ndim != 4 or image.shape[:2] != (1, 3):
        raise ValueError(f"expected image as a (1, 3, H, W) tensor; got {getattr(image, 'shape', type(image).__name__)}")
    return pair_distances(image, shift(image, dx), backbone, layers, reference)
