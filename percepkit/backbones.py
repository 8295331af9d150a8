"""Frozen feature extractors with paper layer names: the :class:`Backbone` class and the architectures.

Which backbones exist, where their weights come from and how ``auto`` chooses live in
:mod:`percepkit.weights` (one spec per backbone); this module knows nothing about files.

A :class:`Backbone` is called as ``backbone(x, layers)`` with ``x`` float RGB in [0, 1],
shape (N, 3, H, W). It normalises the input itself, runs only up to the deepest layer
asked for and returns ``{name: tensor}`` in float32. Its ReLUs are not in-place, so a
``convX_Y`` output really is the pre-activation (it keeps its negative values).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .cache import weights_fingerprint
from .images import check_image

__all__ = [
    "Backbone",
    "LayerInfo",
    "MAX_PIXELS",
    "bf16_native",
    "resolve_precision",
]

#: Most pixels (N·H·W) one forward pass accepts; beyond this a CPU needs minutes and GBs.
MAX_PIXELS = 2048 * 2048

_VGG_CFG = {
    "vgg16": [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    "vgg19": [[64, 64], [128, 128], [256] * 4, [512] * 4, [512] * 4],
}
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)
# EfficientNet-Lite0 (this checkpoint) wants ImageNet mean/std, not the [-1, 1] scaling of the
# TF Lite models: measured in tests/test_backbones.py (higher probability on the right classes).

# --------------------------------------------------------------------------- precision


def bf16_native(device: str | torch.device = "cpu") -> bool:
    """Whether ``device`` computes bfloat16 natively (CPU AMX/AVX-512 BF16, or a CUDA GPU that supports it)."""
    return _bf16_native(str(torch.device(device)))


@functools.cache
def _bf16_native(device: str) -> bool:  # cached: ``precision="auto"`` asks on every forward
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_precision(precision: str, device: str | torch.device = "cpu") -> str:
    """Map ``"fp32" | "bf16" | "auto"`` to ``"fp32"`` or ``"bf16"`` for ``device``."""
    if precision not in ("fp32", "bf16", "auto"):
        raise ValueError(f"expected precision 'fp32', 'bf16' or 'auto'; got {precision!r}")
    if precision == "auto":
        return "bf16" if bf16_native(device) else "fp32"
    return precision


# --------------------------------------------------------------------------- the module


@dataclass(frozen=True)
class LayerInfo:
    """One row of :meth:`Backbone.describe`."""

    index: int
    name: str
    kind: str
    shape: tuple  # (C, H, W) for the size asked for
    stride: int
    receptive_field: int


class LayerTable(list):
    """A list of :class:`LayerInfo` that prints as a table."""

    def __str__(self) -> str:
        head = f"{'index':>5}  {'name':<10} {'kind':<6} {'output (C,H,W)':<18} {'stride':>6} {'RF':>5}"
        rows = [
            f"{r.index:>5}  {r.name:<10} {r.kind:<6} {str(r.shape):<18} {r.stride:>6} {r.receptive_field:>5}"
            for r in self
        ]
        return "\n".join([head, *rows])

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{r.index}</td><td><code>{r.name}</code></td><td>{r.kind}</td><td>{r.shape}</td>"
            f"<td>{r.stride}</td><td>{r.receptive_field}</td></tr>"
            for r in self
        )
        return (
            "<table><tr><th>index</th><th>name</th><th>kind</th><th>output (C,H,W)</th>"
            f"<th>stride</th><th>receptive field</th></tr>{cells}</table>"
        )


def _geometry(module: nn.Module):
    """(kernel, stride, padding, dilation, ceil_mode, out_channels) of each conv/pool, in order."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            yield m.kernel_size[0], m.stride[0], m.padding[0], m.dilation[0], False, m.out_channels
        elif isinstance(m, nn.MaxPool2d):
            k, s, p = (v if isinstance(v, int) else v[0] for v in (m.kernel_size, m.stride, m.padding))
            yield k, s, p, 1, m.ceil_mode, None


class Backbone(nn.Module):
    """A frozen feature extractor: ``backbone(x, layers) -> {name: tensor}``.

    Attributes:
        name (str): e.g. ``"vgg19"``.
        source (str): where the weights came from, in words.
        pretrained (bool): False only for ``vgg19-random``.
        layer_names (tuple[str]): every named layer, shallow → deep.
        default_layers (tuple[str]): content/perceptual layers used when none are given.
        style_layers (tuple[str]): Gram/style layers used when none are given.
        normalization (str): ``"imagenet"`` (mean/std), ``"caffe"`` (BGR, 0–255, mean
            subtracted).
        caffe_mean_bgr (tuple): the mean pixel (B, G, R, in 0–255) a ``"caffe"`` network subtracts:
            HED's BSDS mean by default; the Oxford VGG-19 release uses (103.939, 116.779, 123.68).
    """

    def __init__(self, name: str, stages, layer_names, kinds, *, default_layers, style_layers,
                 normalization: str, source: str, pretrained: bool, caffe_mean_bgr: tuple = _CAFFE_MEAN_BGR):
        super().__init__()
        self.name = name
        self.stages = nn.ModuleList(stages)
        self.layer_names = tuple(layer_names)
        self.kinds = tuple(kinds)
        self.default_layers = tuple(default_layers)
        self.style_layers = tuple(style_layers)
        self.normalization = normalization
        self.source = source
        self.pretrained = pretrained
        self._index = {n: i for i, n in enumerate(self.layer_names)}
        self._min_side: dict[int, int] = {}  # deepest stage index -> smallest input side (cached)
        if normalization == "imagenet":
            mean, std = _IMAGENET_MEAN, _IMAGENET_STD
        elif normalization == "caffe":
            mean, std = tuple(m / 255 for m in reversed(caffe_mean_bgr)), (1 / 255,) * 3
        else:
            raise ValueError(f"unknown normalization {normalization!r}")
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True):
        """A backbone stays in eval mode (frozen BatchNorm statistics); ``train(True)`` is ignored."""
        return super().train(False)

    def fingerprint(self) -> str:
        """A short hash of the name and the weights themselves (not of where they were loaded from):
        equal for the same network and weights on any machine, so cache keys survive a moved
        ``TORCH_HOME`` or another install folder."""
        if getattr(self, "_fingerprint", None) is None:  # kept: the weights are frozen
            self._fingerprint = weights_fingerprint(self, self.name)
        return self._fingerprint

    # ----------------------------------------------------------------- inputs

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """[0, 1] RGB → what the weights were trained on (for Caffe: BGR, 0–255, minus mean)."""
        y = (x - self.mean) / self.std
        return y.flip(1) if self.normalization == "caffe" else y

    def resolve_layers(self, layers) -> tuple[str, ...]:
        """Validate layer names (``None`` → ``default_layers``); errors list the valid names."""
        if layers is None:
            return self.default_layers
        if isinstance(layers, str):
            layers = (layers,)
        layers = tuple(layers)
        if not layers:
            raise ValueError("expected at least one layer name; got an empty list")
        bad = [n for n in layers if n not in self._index]
        if bad:
            raise ValueError(f"unknown layer(s) {bad} for backbone {self.name!r}; valid names: {list(self.layer_names)}")
        return layers

    def min_size(self, layers=None) -> int:
        """Smallest square input side for which every requested layer has at least 1×1 output."""
        deepest = max(self._index[n] for n in self.resolve_layers(layers))
        if deepest not in self._min_side:  # pure geometry: computed once per depth, not on every call
            for side in range(1, 4097):
                if all(s >= 1 for s in self._sizes(side, deepest)):
                    self._min_side[deepest] = side
                    break
            else:  # pragma: no cover
                raise RuntimeError("no input size up to 4096 reaches this layer")
        return self._min_side[deepest]

    def _sizes(self, side: int, upto: int) -> list[int]:
        sizes, h = [], side
        for stage in self.stages[: upto + 1]:
            for k, s, p, d, ceil, _ in _geometry(stage):
                num = h + 2 * p - d * (k - 1) - 1
                h = (math.ceil(num / s) if ceil else num // s) + 1
            sizes.append(h)
        return sizes

    def check_input(self, x, layers=None, what: str = "x") -> None:
        """Raise a clear error unless ``x`` is a finite float (N, 3, H, W) batch in [0, 1] that is big enough."""
        check_image(x, what, rgb=True, finite=False)  # type, shape, dtype first: cheap, no scan
        n, _, h, w = x.shape
        if n * h * w > MAX_PIXELS:
            raise ValueError(
                f"{what} has {n}x{h}x{w} = {n * h * w:,} pixels, more than {MAX_PIXELS:,} that a CPU can process "
                "sensibly; resize it (e.g. percepkit.to_tensor(img, size=256)) or use a smaller batch"
            )
        need = self.min_size(layers)
        if min(h, w) < need:
            deepest = max(self.resolve_layers(layers), key=self._index.get)
            raise ValueError(
                f"{what} is {h}x{w}, too small for layer {deepest!r} of {self.name}: "
                f"the minimum size is {need}x{need}"
            )
        check_image(x, what, rgb=True, finite=True, unit_range=True)

    # ----------------------------------------------------------------- forward

    def forward(self, x: torch.Tensor, layers=None, normalize: bool = True, precision: str = "fp32"):
        """Features of ``x`` at ``layers``.

        Args:
            x: float RGB (N, 3, H, W) in [0, 1].
            layers: a name, a list of names, or ``None`` for ``default_layers``.
            normalize: ``False`` skips both the input checks and the normalisation and
                feeds ``x`` to the first conv as it is (for fault-injection experiments).
            precision: ``"fp32"``, ``"bf16"`` or ``"auto"`` (bf16 autocast only where the
                device has native bf16). Returned features are float32 either way.

        Returns:
            dict[str, torch.Tensor]: one (N, C, H', W') float32 tensor per requested layer.
        """
        layers = self.resolve_layers(layers)
        if normalize:
            self.check_input(x, layers)
            x = self.normalize(x)
        wanted = {self._index[n]: n for n in layers}
        deepest = max(wanted)
        prec = resolve_precision(precision, x.device)
        out = {}
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=prec == "bf16"):
            for i, stage in enumerate(self.stages[: deepest + 1]):
                x = stage(x)
                if i in wanted:
                    out[wanted[i]] = x.float()
        return {n: out[n] for n in layers}

    def describe(self, size: int | tuple[int, int] = 224) -> LayerTable:
        """Name ↔ index ↔ kind ↔ output shape ↔ stride ↔ receptive field for an input of ``size``.

        ``index`` is the position in ``torchvision.models.vgg19().features`` for the VGGs
        (``relu3_4`` is index 17), and the stage number otherwise.
        """
        hh, ww = (size, size) if isinstance(size, int) else size
        rows, h, w, c, stride, rf = LayerTable(), hh, ww, 3, 1, 1
        for i, (stage, name, kind) in enumerate(zip(self.stages, self.layer_names, self.kinds)):
            for k, s, p, d, ceil, oc in _geometry(stage):
                rf += (k - 1) * d * stride
                stride *= s
                rnd = math.ceil if ceil else math.floor
                h = rnd((h + 2 * p - d * (k - 1) - 1) / s) + 1
                w = rnd((w + 2 * p - d * (k - 1) - 1) / s) + 1
                c = oc or c
            rows.append(LayerInfo(i, name, kind, (c, h, w), stride, rf))
        return rows

    def extra_repr(self) -> str:
        return f"name={self.name!r}, pretrained={self.pretrained}, source={self.source!r}"


# --------------------------------------------------------------------------- architectures


def _vgg(arch: str, ceil_pool: bool = False):
    stages, names, kinds, cin = [], [], [], 3
    for b, widths in enumerate(_VGG_CFG[arch], start=1):
        for j, cout in enumerate(widths, start=1):
            stages += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=False)]
            names += [f"conv{b}_{j}", f"relu{b}_{j}"]
            kinds += ["conv", "relu"]
            cin = cout
        stages.append(nn.MaxPool2d(2, 2, ceil_mode=ceil_pool))
        names.append(f"pool{b}")
        kinds.append("pool")
    return stages, names, kinds


class _MBConv(nn.Module):
    """EfficientNet-Lite inverted residual block (ReLU6, no squeeze-excite), checkpoint key names."""

    def __init__(self, cin, cout, expand, k, s):
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=1e-3)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, s, padding=k // 2, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=1e-3)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=1e-3)
        self.skip = s == 1 and cin == cout

    def forward(self, x):
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.has_expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h


# (expand, kernel, stride, in, out, repeats) of EfficientNet-Lite0
_LITE0 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
          (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]


def _lite0():
    stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, padding=1, bias=False), nn.BatchNorm2d(32, eps=1e-3), nn.ReLU6())
    stages, names = [stem], ["stem"]
    for e, k, s, cin, cout, r in _LITE0:
        for j in range(r):
            stages.append(_MBConv(cin if j == 0 else cout, cout, e, k, s if j == 0 else 1))
            names.append(f"block{len(names) - 1}")
    head = nn.Sequential(nn.Conv2d(320, 1280, 1, bias=False), nn.BatchNorm2d(1280, eps=1e-3), nn.ReLU6())
    stages.append(head)
    names.append("head")
    kinds = ["conv"] + ["block"] * (len(names) - 2) + ["conv"]
    return stages, names, kinds
