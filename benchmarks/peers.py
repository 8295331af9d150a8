"""The perceptual losses being compared, each built on the same VGG-19 weights and layers.

Every builder returns a ``Method``: ``setup(y)`` does what may legitimately happen once per
target (percepkit's ``set_target``), ``step(x)`` returns the scalar loss for a prediction ``x``
(the caller runs ``backward()``). All load VGG weights from ``$TORCH_HOME/hub/checkpoints``
under torchvision's file names, so pointing ``TORCH_HOME`` at a folder with one random
checkpoint makes them share weights (timing does not depend on the values).

``piq`` and ``lpips`` are imported only when their method is built: they live in the
benchmark's own folder (``benchmarks/.peers``, put on ``PYTHONPATH`` by ``make bench``), not in
percepkit's dependencies.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

import torch
import torch.nn as nn
import torch.nn.functional as F

#: The layers every method uses (paper names), and their indices in ``torchvision.models.vgg19().features``.
LAYERS = ("relu1_2", "relu3_4", "relu5_4")
TV_INDEX = {"relu1_2": 3, "relu3_4": 17, "relu5_4": 35}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class Method:
    """One contender: a label, what it is, and its per-target setup and per-call step."""

    key: str
    label: str
    setup: Callable[[torch.Tensor], None]
    step: Callable[[torch.Tensor], torch.Tensor]
    per_layer: Callable[[torch.Tensor, torch.Tensor], list[float]] | None = None  # for the equality check
    context_only: bool = False  # different layers/network: shown for context, not compared


# --------------------------------------------------------------------------- percepkit


def percepkit_method(cached: bool, precision: str = "fp32") -> Method:
    """percepkit's ``PerceptualLoss`` on ``load_backbone("vgg19")``: target cached (``set_target``) or not."""
    import percepkit as pk

    bb = pk.load_backbone("vgg19", device="cpu", verbose=False)
    loss = pk.PerceptualLoss(bb, LAYERS, precision=precision)
    state = {}

    def setup(y):
        state["y"] = y
        if cached:
            loss.set_target(y)

    def step(x):
        return loss(x) if cached else loss(x, state["y"])

    def per_layer(x, y):
        return [float(v) for v in loss.layer_losses(x, y).values()]

    kind = "cached target" if cached else "target every call"
    return Method(f"percepkit_{'cached' if cached else 'uncached'}_{precision}",
                  f"percepkit PerceptualLoss, {kind}, precision={precision!r}", setup, step, per_layer)


# --------------------------------------------------------------------------- a tutorial's version


class TutorialVGGLoss(nn.Module):
    """A perceptual loss as tutorials write it: slices of torchvision's ``vgg19().features``.

    The target goes through the network (with autograd enabled) on every call; the loss is
    the mean squared difference of the features after each slice, summed over slices.
    """

    def __init__(self):
        super().__init__()
        from torchvision.models import VGG19_Weights, vgg19

        features = vgg19(weights=VGG19_Weights.IMAGENET1K_V1).features.eval()
        for p in features.parameters():
            p.requires_grad = False
        cuts = [0] + [TV_INDEX[n] + 1 for n in LAYERS]
        self.slices = nn.ModuleList(features[a:b] for a, b in zip(cuts[:-1], cuts[1:]))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def layer_losses(self, x, y):
        x = (x - self.mean) / self.std
        y = (y - self.mean) / self.std
        out = []
        for s in self.slices:
            x, y = s(x), s(y)
            out.append(F.mse_loss(x, y))
        return out

    def forward(self, x, y):
        return sum(self.layer_losses(x, y))


def tutorial_method() -> Method:
    """The straightforward implementation (see :class:`TutorialVGGLoss`)."""
    loss = TutorialVGGLoss()
    state = {}
    return Method("tutorial", "straightforward (torchvision vgg19 slices, target every call)",
                  lambda y: state.update(y=y), lambda x: loss(x, state["y"]),
                  lambda x, y: [float(v) for v in loss.layer_losses(x, y)])


# --------------------------------------------------------------------------- peers


def piq_method() -> Method:
    """``piq.ContentLoss`` on torchvision's VGG-19 at the same layers (MSE, weights 1).

    piq sums the per-channel spatial means, so its value is C times percepkit's per-layer mean.
    """
    import piq

    with warnings.catch_warnings():  # piq calls vgg19(pretrained=True): deprecation warnings only
        warnings.simplefilter("ignore")
        loss = piq.ContentLoss(feature_extractor="vgg19", layers=LAYERS, weights=[1.0] * len(LAYERS))
    state = {}

    def per_layer(x, y):
        fx, fy = loss.get_features(x), loss.get_features(y)
        return [float((a - b).square().mean(dim=(2, 3)).sum(dim=1).mean() / a.shape[1]) for a, b in zip(fx, fy)]

    return Method("piq", f"piq {piq.__version__} ContentLoss (vgg19, same layers)",
                  lambda y: state.update(y=y), lambda x: loss(x, state["y"]), per_layer)


def lpips_method() -> Method:
    """``lpips.LPIPS(net="vgg")``: VGG-16 up to relu5_3, 5 layers, learned channel weights. Context only."""
    import lpips

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = lpips.LPIPS(net="vgg", verbose=False)
    for p in metric.parameters():
        p.requires_grad_(False)
    state = {}
    return Method("lpips", f"lpips {version('lpips')} LPIPS(net='vgg') (VGG-16, 5 layers; context)",
                  lambda y: state.update(y=y * 2 - 1), lambda x: metric(x * 2 - 1, state["y"]).mean(),
                  None, context_only=True)


BUILDERS = {
    "percepkit_cached_fp32": lambda: percepkit_method(True, "fp32"),
    "percepkit_uncached_fp32": lambda: percepkit_method(False, "fp32"),
    "percepkit_cached_auto": lambda: percepkit_method(True, "auto"),
    "percepkit_uncached_auto": lambda: percepkit_method(False, "auto"),
    "tutorial": tutorial_method,
    "piq": piq_method,
    "lpips": lpips_method,
}


def conv_flops(size: int, batch: int, upto: str = LAYERS[-1]) -> int:
    """Forward multiply-add FLOPs (2 per MAC) of the VGG-19 convolutions up to layer ``upto``."""
    cfg = [[64, 64], [128, 128], [256] * 4, [512] * 4, [512] * 4]
    block, last = int(upto[4]), int(upto[6])
    flops, cin, side = 0, 3, size
    for b, widths in enumerate(cfg, start=1):
        for j, cout in enumerate(widths, start=1):
            flops += 2 * cin * cout * 9 * side * side * batch
            cin = cout
            if (b, j) == (block, last):
                return flops
        side //= 2
    return flops
