"""Shared oracles for the tests: a tiny deterministic backbone and its features written out by hand.

The tiny backbone is a real :class:`percepkit.backbones.Backbone` (conv → ReLU → pool → conv → ReLU),
so every loss runs its own code on it; :func:`tiny_features` computes the same features with plain
``torch.nn.functional`` calls and the ImageNet constants typed in, independently of Backbone.forward.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from percepkit.backbones import Backbone

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
TINY_LAYERS = ("conv1", "relu1", "pool1", "conv2", "relu2")


def tiny_backbone(seed: int = 0, zero: bool = False) -> Backbone:
    g = torch.Generator().manual_seed(seed)
    c1, c2 = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 5, 3, padding=1)
    for c in (c1, c2):
        c.weight.data = 0.0 * c.weight if zero else torch.randn(c.weight.shape, generator=g) * 0.3
        c.bias.data = 0.0 * c.bias if zero else torch.randn(c.bias.shape, generator=g) * 0.1
    stages = [c1, nn.ReLU(), nn.MaxPool2d(2, 2), c2, nn.ReLU()]
    return Backbone("tiny", stages, TINY_LAYERS, ["conv", "relu", "pool", "conv", "relu"],
                    default_layers=("relu1", "relu2"), style_layers=("conv1", "relu2"), normalization="imagenet",
                    source="test oracle", pretrained=False)


def tiny_features(bb: Backbone, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The tiny backbone's features by hand: (x − mean) / std, conv, relu, 2×2 max-pool, conv, relu."""
    c1, c2 = bb.stages[0], bb.stages[3]
    z = (x.float() - IMAGENET_MEAN) / IMAGENET_STD
    f = {"conv1": F.conv2d(z, c1.weight, c1.bias, padding=1)}
    f["relu1"] = f["conv1"].clamp(min=0)
    f["pool1"] = F.max_pool2d(f["relu1"], 2)
    f["conv2"] = F.conv2d(f["pool1"], c2.weight, c2.bias, padding=1)
    f["relu2"] = f["conv2"].clamp(min=0)
    return {k: v.float() for k, v in f.items()}


def gram(f: torch.Tensor) -> torch.Tensor:
    """G[n, i, j] = Σ_positions f[n, i]·f[n, j] / (C·H·W), in float64."""
    n, c, h, w = f.shape
    f = f.double()
    return torch.einsum("nchw,ndhw->ncd", f, f) / (c * h * w)
