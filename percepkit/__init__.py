"""percepkit: perceptual loss, taught with real pretrained features.

Flow of data: images → backbones → losses → optimize → plot/widgets.
Importing the package has no side effects (no downloads, seeds or rcParams).
"""

from . import exercises, widgets
from .backbones import (
    BACKBONES,
    Backbone,
    LayerInfo,
    available_backbones,
    backbone_sources,
    bf16_native,
    load_backbone,
    resolve_precision,
)
from .images import add_noise, blur, list_sample_images, sample_image, shift, to_numpy, to_pil, to_tensor
from .losses import (
    CombinedLoss,
    PatchDiscriminator,
    PerceptualLoss,
    StyleLoss,
    adversarial_loss,
    content_loss,
    default_backbone,
    gram_matrix,
    pixel_loss,
    style_loss,
)
from .metrics import high_frequency_energy, psnr, sharpness
from .optimize import optimize_image
from .plot import plot_history, show_feature_maps, show_images

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "exercises",
    "widgets",
    # images
    "to_tensor", "sample_image", "list_sample_images", "shift", "blur", "add_noise", "to_numpy", "to_pil",
    # backbones
    "Backbone", "LayerInfo", "BACKBONES", "load_backbone", "available_backbones", "backbone_sources",
    "bf16_native", "resolve_precision",
    # losses
    "pixel_loss", "gram_matrix", "content_loss", "style_loss", "PerceptualLoss", "StyleLoss",
    "PatchDiscriminator", "adversarial_loss", "CombinedLoss", "default_backbone",
    # metrics
    "psnr", "sharpness", "high_frequency_energy",
    # optimisation and figures
    "optimize_image", "show_images", "show_feature_maps", "plot_history",
]
