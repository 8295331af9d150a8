"""percepkit: perceptual loss, taught with real pretrained features.

Flow of data: images → cache → backbones → registry → weights → metrics → forensics → losses → lpips → srnets →
seedloss → doctor → texture → optimize → superres → tinynets → live → training → plot → plot_04_07 → plot_08_09 →
widgets → triplets → scoring → answers → judge → exercises_01_05 → exercises_06_09 → exercises → cli. Each module
imports only modules before it in that list (tests/test_package.py checks it).
Importing the package has no side effects (no downloads, seeds or rcParams).
"""

from . import cache, exercises, judge, live, srnets, superres, tinynets, training, widgets
from .answers import Pooled, load_answers, pool_answers, save_answers, wilson
from .backbones import MAX_PIXELS, Backbone, LayerInfo, bf16_native, resolve_precision
from .doctor import CODES, Finding, Report, doctor
from .forensics import ColourShift, colour_shift, grid_score, lattice_amplitude, power_spectrum, radial_spectrum
from .images import add_noise, blur, list_sample_images, sample_image, shift, to_numpy, to_pil, to_png, to_tensor
from .judge import judge_panel
from .live import LiveLoss, plot_losses
from .losses import (
    TERMS,
    CombinedLoss,
    Lambdas,
    PatchDiscriminator,
    PerceptualLoss,
    StyleLoss,
    adversarial_loss,
    content_loss,
    gram_matrix,
    pair_distances,
    pixel_loss,
    shift_distances,
    style_loss,
    total_variation,
)
from .lpips import LPIPS, LPIPS_LAYERS, lpips_distance
from .metrics import detail_split, high_frequency_energy, layout_correlation, psnr, sharpness, spectral_slope, ssim
from .optimize import invert_features, optimize_image
from .plot import (
    plot_bars,
    plot_grouped_bars,
    plot_history,
    plot_loss_shares,
    plot_perception_distortion,
    plot_receptive_fields,
    plot_shift,
    plot_shift_sweep,
    show_feature_maps,
    show_images,
)
from .plot_04_07 import (
    plot_backbone_comparison,
    plot_barh_panels,
    plot_crops_and_spectra,
    plot_histograms,
    plot_images_and_layers,
    plot_lambda_conventions,
    plot_spectrum_ratios,
    show_gram,
    show_image_grid,
    show_matrices,
)
from .plot_08_09 import (
    plot_agreement,
    plot_blends,
    plot_blends_and_images,
    plot_chance,
    plot_critic_logits,
    plot_cross_validation,
    plot_measure_panels,
    plot_srgan_verdicts,
)
from .registry import (
    BACKBONES,
    SPECS,
    SR_SPECS,
    BackboneSpec,
    SRNetworkSpec,
    about,
    available_backbones,
    backbone_sources,
)
from .scoring import (
    CrossValidation,
    Distances,
    agreement,
    cross_validate,
    fit_layer_weights,
    picks,
    self_agreement,
    simulate_observer,
    tally,
    triplet_distances,
)
from .seedloss import SeedPerceptualLoss
from .srnets import SR_NETWORKS, SRCritic, SRResNet, interpolate_networks, load_sr_network
from .superres import (
    DEFAULT_GRID,
    TINY_GRID,
    Result,
    SuperResolution,
    precompute_grid,
    relative_to_raw,
    solve_combined,
    superres_problem,
)
from .texture import TextureLoss, texture_start
from .tinynets import TinyDenoiser, TinyUpsampler
from .triplets import Triplet, TripletSet, make_sr_triplets, make_triplets
from .weights import fetch_weights, load_backbone, resolve_backbone

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "cache",
    "exercises",
    "superres",
    "srnets",
    "training",
    "tinynets",
    "live",
    "widgets",
    "judge",
    # images
    "to_tensor", "sample_image", "list_sample_images", "shift", "blur", "add_noise", "to_numpy", "to_pil", "to_png",
    # backbones
    "Backbone", "LayerInfo", "MAX_PIXELS", "bf16_native", "resolve_precision",
    # weights: the registry of backbones
    "BackboneSpec", "SPECS", "BACKBONES", "about", "load_backbone", "resolve_backbone", "available_backbones",
    "backbone_sources", "fetch_weights", "SR_SPECS", "SRNetworkSpec",
    # losses
    "pixel_loss", "gram_matrix", "content_loss", "style_loss", "PerceptualLoss", "StyleLoss",
    "PatchDiscriminator", "adversarial_loss", "CombinedLoss", "Lambdas", "TERMS", "pair_distances", "shift_distances",
    # lpips: the LPIPS-VGG v0.1 distance (images in [0, 1])
    "LPIPS", "lpips_distance", "LPIPS_LAYERS",
    # forensics: artefacts of a trained network's outputs
    "power_spectrum", "radial_spectrum", "grid_score", "lattice_amplitude", "colour_shift", "ColourShift",
    # doctor: probe any perceptual-loss module for the classic bugs
    "doctor", "Report", "Finding", "CODES", "SeedPerceptualLoss",
    # metrics
    "psnr", "ssim", "sharpness", "high_frequency_energy", "detail_split", "layout_correlation", "spectral_slope",
    # srnets: trained super-resolution networks (SRResNet-MSE, SRGAN, its critic) and network interpolation
    "load_sr_network", "interpolate_networks", "SR_NETWORKS", "SRResNet", "SRCritic",
    # notebook 07: the tiny networks it trains and its live loss curve (the data, cache and step cost: pk.training)
    "TinyDenoiser", "TinyUpsampler", "LiveLoss", "plot_losses",
    # optimisation, the super-resolution problem, figures
    "optimize_image", "invert_features", "texture_start", "TextureLoss", "total_variation",
    "superres_problem", "solve_combined", "precompute_grid", "relative_to_raw", "SuperResolution", "Result",
    "DEFAULT_GRID", "TINY_GRID",
    "show_images", "show_feature_maps", "plot_history", "plot_perception_distortion", "plot_shift", "plot_blends", "plot_bars",
    "plot_grouped_bars", "plot_shift_sweep", "plot_receptive_fields", "plot_loss_shares",
    "show_gram", "plot_images_and_layers", "show_matrices", "plot_lambda_conventions",
    "plot_histograms", "plot_barh_panels", "plot_backbone_comparison",
    "show_image_grid", "plot_crops_and_spectra", "plot_spectrum_ratios", "plot_measure_panels",
    "plot_blends_and_images", "plot_critic_logits", "plot_chance", "plot_cross_validation", "plot_srgan_verdicts",
    # notebook 09: triplets, 2AFC agreement, calibration, the class experiment, the judging panel
    "Triplet", "TripletSet", "make_triplets", "make_sr_triplets", "Distances", "triplet_distances", "tally", "picks", "agreement",
    "self_agreement", "simulate_observer", "fit_layer_weights", "cross_validate", "CrossValidation", "save_answers",
    "load_answers", "pool_answers", "Pooled", "wilson", "judge_panel", "plot_agreement",
]
