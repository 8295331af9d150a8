"""The explainer's ``PerceptualLoss`` class as learners copy it, bugs and all: the patient of
:func:`percepkit.doctor` and of notebook 07's "fix the seed's class" exercise.
"""

from __future__ import annotations

import torch
import torch.nn as nn

__all__ = ["SeedPerceptualLoss"]


class SeedPerceptualLoss(nn.Module):
    """The explainer's ``PerceptualLoss``, structure kept line for line, on ``vgg19(weights=None)``.

    The original loads ``VGG19_Weights.IMAGENET1K_V1`` (548 MB, not available offline); its bugs
    are structural, so random weights reproduce them: no ImageNet normalisation; slices
    ``range(prev, lid)`` that stop *before* the named index, so ``(3, 8, 17)`` compares conv1_2,
    conv2_2 and conv3_4 before their ReLUs (relu5_4 is never reached); the ReLU that follows
    each tap is in-place; the target's features are computed with autograd.
    """

    def __init__(self, layer_ids=(3, 8, 17), weights=None, vgg_features: nn.Module | None = None):
        super().__init__()
        if vgg_features is None:
            from torchvision import models

            vgg_features = models.vgg19(weights=None).features  # the seed: weights=VGG19_Weights.IMAGENET1K_V1
        vgg = vgg_features
        self.slices = nn.ModuleList()
        prev = 0
        for lid in layer_ids:
            self.slices.append(nn.Sequential(*[vgg[i] for i in range(prev, lid)]))
            prev = lid
        for p in self.parameters():
            p.requires_grad = False
        if weights is None:
            weights = [1.0] * len(layer_ids)
        self.weights = weights

    def forward(self, pred, target):
        loss = 0.0
        x = pred
        y = target
        for sl, w in zip(self.slices, self.weights):
            x = sl(x)
            y = sl(y)
            loss = loss + w * torch.mean((x - y) ** 2)
        return loss

