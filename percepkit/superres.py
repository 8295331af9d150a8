"""×4 super-resolution by image optimisation under the combined objective — notebook 05's problem.

A small input does not determine its fine detail, so the objective is averaged over a set of
*candidates*: high-resolution images that all shrink to (almost) the same input — the truth's
own detail moved by up to ``jitter`` pixels. The pixel (L2) optimum of that average is the
candidates' mean (faithful but blurry); the feature, Gram and adversarial terms reward images
that look like *one* sharp candidate, even where it is not the truth.

λ are relative: each term is divided by its value at the starting image (bicubic), measured on
the backbone in use, so ``λ = 1`` means "as important as at the start" on every backbone
(raw feature losses differ by orders of magnitude between backbones). With Adam only the
*ratios* of the λ matter (Adam is invariant to the overall scale of the loss).

Everything here is pure (no widgets): :func:`superres_problem`, :func:`solve_combined` (one λ
setting), :func:`precompute_grid` (many, cached on disk). ``percepkit.widgets`` puts sliders
on top; ``percepkit.plot.plot_perception_distortion`` draws the results.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .backbones import Backbone
from .cache import cache_folder, cache_key, load_or_compute
from .images import sample_image, shift, to_tensor
from .losses import TERMS, CombinedLoss, Lambdas, PatchDiscriminator, PerceptualLoss, adversarial_loss
from .metrics import high_frequency_energy, psnr, sharpness, spectral_slope
from .optimize import optimize_image
from .weights import resolve_backbone

__all__ = [
    "DEFAULT_GRID", "TINY_GRID", "SuperResolution", "Result",
    "superres_problem", "solve_combined", "precompute_grid",
    "relative_to_raw", "check_lambdas", "format_lambdas", "evaluation_backbone", "PHOTOS",
]

#: λ settings (pix, perc, style, adv) precomputed by :func:`lambda_explorer`; sliders snap to the nearest.
DEFAULT_GRID = (
    Lambdas(pix=1), Lambdas(pix=1, perc=1), Lambdas(pix=1, perc=4), Lambdas(perc=1),
    Lambdas(pix=1, adv=1), Lambdas(pix=1, adv=4), Lambdas(pix=1, perc=1, adv=4), Lambdas(pix=1, perc=1, style=1),
)
#: A subset of DEFAULT_GRID for the scientific image, tests and quick runs (shared through the cache).
TINY_GRID = (Lambdas(pix=1), Lambdas(pix=1, perc=1), Lambdas(perc=1), Lambdas(pix=1, adv=4),
             Lambdas(pix=1, perc=1, adv=4))

_CACHE_VERSION = 4  # 2: keyed by the weights' fingerprint; 3: middle layers, spectral slope, second network;
#                    4: percepkit.cache's key (λ to 4 significant digits, like every cached float)

#: Photographs whose mean spectral slope is the "natural" reference of the perception axis (the problem's
#: own image is left out, so the measure never sees the truth).
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera")


def evaluation_backbone(backbone: Backbone | str | None = None) -> str:
    """The network that *evaluates* results optimised with ``backbone``: never the same one.

    A distance measured with the network that was optimised rewards whatever fooled that
    network; a second network is an independent evaluator. ``efficientnet-lite0`` (an ImageNet
    classifier, always installed) evaluates every other backbone; ``vgg16-hed`` evaluates it.
    (In this package a *judge* is a person: notebook 09's judging panel.)
    """
    name = resolve_backbone(backbone).name
    return "vgg16-hed" if name == "efficientnet-lite0" else "efficientnet-lite0"


# --- the problem ------------------------------------------------------------------------


@dataclass
class SuperResolution:
    """A ×``factor`` super-resolution problem with an explicit set of plausible answers.

    Attributes:
        name: the image's name (or ``"custom"``).
        truth: (1, 3, H, W) ground truth in [0, 1].
        observed: (1, 3, H/f, W/f) the input: the truth averaged over f×f blocks.
        start: (1, 3, H, W) bicubic upsampling of ``observed``: the starting image.
        candidates: (K, 3, H, W) images consistent with ``observed``: ``start`` plus the truth's
            fine detail (what bicubic misses) shifted by ``offsets``.
        offsets: K (dx, dy) shifts in pixels.
        factor: the scale factor.
        settings: everything that defines the problem (used in cache keys).
        photo_slope: mean :func:`~percepkit.spectral_slope` of the :data:`PHOTOS` other than this
            image, at this size: what "natural" means on the perception axis.
    """

    name: str
    truth: torch.Tensor
    observed: torch.Tensor
    start: torch.Tensor
    candidates: torch.Tensor
    offsets: list
    factor: int
    settings: dict = field(default_factory=dict)
    photo_slope: float = float("nan")

    def downsample(self, x: torch.Tensor) -> torch.Tensor:
        """Average over factor×factor blocks: what the camera would see."""
        return F.avg_pool2d(x, self.factor)

    def upsample(self, x: torch.Tensor) -> torch.Tensor:
        """Bicubic ×factor upsampling, clamped to [0, 1]."""
        return F.interpolate(x, scale_factor=self.factor, mode="bicubic", align_corners=False).clamp(0, 1)


def superres_problem(image="astronaut", size: int = 64, factor: int = 4, n_candidates: int = 6,
                     jitter: float = 4.0, seed: int = 0) -> SuperResolution:
    """Build a super-resolution problem whose fine detail is genuinely ambiguous.

    Args:
        image: a sample-image name (see :func:`percepkit.list_sample_images`) or anything
            :func:`percepkit.to_tensor` accepts.
        size: side of the high-resolution image (multiple of ``factor``).
        factor: downsampling factor of the input.
        n_candidates: number K of plausible answers the objective averages over.
        jitter: the candidates' fine detail is shifted by up to this many pixels in x and y.
        seed: seeds the shifts.
    """
    if not isinstance(factor, int) or factor < 2:
        raise ValueError(f"expected factor as an int >= 2; got {factor!r}")
    if not isinstance(size, int) or size % factor or size < 8 * factor:
        raise ValueError(f"expected size as a multiple of factor={factor} and >= {8 * factor}; got {size!r}")
    if not isinstance(n_candidates, int) or n_candidates < 1:
        raise ValueError(f"expected n_candidates as a positive int; got {n_candidates!r}")
    if not (isinstance(jitter, (int, float)) and 0 <= jitter < size / 4):
        raise ValueError(f"expected 0 <= jitter < size/4 pixels; got {jitter!r}")
    if isinstance(image, str):
        name, truth = image, sample_image(image, size)
    else:
        name, truth = "custom", to_tensor(image, size)
    truth = truth[:1].float()
    down = F.avg_pool2d(truth, factor)
    prob = SuperResolution(name, truth, down, truth, truth, [], factor)
    prob.start = prob.upsample(down)
    g = torch.Generator().manual_seed(seed)
    offsets = [tuple(round(v, 3) for v in ((torch.rand(2, generator=g) * 2 - 1) * jitter).tolist())
               for _ in range(n_candidates)]
    cands = []
    for dx, dy in offsets:
        s = shift(truth, dx, dy)
        cands.append((prob.start + s - prob.upsample(F.avg_pool2d(s, factor))).clamp(0, 1))
    prob.candidates = torch.cat(cands)
    prob.offsets = offsets
    digest = hashlib.sha256(truth.numpy().tobytes()).hexdigest()[:16]
    prob.settings = dict(name=name, truth=digest, size=size, factor=factor, n_candidates=n_candidates,
                         jitter=float(jitter), seed=seed)
    others = [p for p in PHOTOS if p != name]
    prob.photo_slope = sum(spectral_slope(sample_image(p, size)) for p in others) / len(others)
    return prob


# --- one solve --------------------------------------------------------------------------


@dataclass
class Result:
    """One λ setting solved.

    Attributes:
        lambdas: the relative λ as asked (:class:`~percepkit.Lambdas`: by name, or as a tuple).
        image: (1, 3, H, W) the restored image.
        values: each active term at the end, in units of its value at the start (1 = unchanged),
            averaged over the last cycle of candidates (``None`` for inactive terms).
        grads: mean over the run of ‖∂(λ_t · L_t / L_t(start)) / ∂x‖ for each active term:
            how hard each term pulls on the image.
        metrics: distortion (full-reference, vs the truth): ``psnr`` (dB); ``perceptual``, the
            feature distance to the truth on the optimised backbone ÷ that of the start;
            ``eval_distance``, the same on :func:`evaluation_backbone` (a network that was *not*
            optimised). Perception (no reference): ``slope``, the :func:`~percepkit.spectral_slope`,
            and ``slope_gap`` = |slope − the photos' slope| (0 = as natural as photographs by this
            statistic). Also ``sharpness`` and ``hf`` (÷ the truth's) and ``seconds``.
        reference: raw term values at the start (what λ are relative to).
        history: per step, ``value_<term>`` and ``grad_<term>`` of each active term.
    """

    lambdas: Lambdas
    image: torch.Tensor
    values: dict
    grads: dict
    metrics: dict
    reference: dict
    history: dict = field(default_factory=dict)

    @property
    def dominant(self) -> str:
        """The term whose gradient was largest on average: the one that steered the image most."""
        return max(self.grads, key=self.grads.get)

    def to_dict(self) -> dict:
        return dict(lambdas=list(self.lambdas), image=self.image, values=self.values, grads=self.grads,
                    metrics=self.metrics, reference=self.reference, history=self.history)

    @classmethod
    def from_dict(cls, d: dict) -> Result:
        return cls(Lambdas.of(d["lambdas"]), d["image"], d["values"], d["grads"], d["metrics"],
                   d["reference"], d.get("history", {}))


def check_lambdas(lambdas) -> Lambdas:
    """:class:`~percepkit.Lambdas` from a Lambdas, a mapping or a sequence; at least one term not 0."""
    lam = Lambdas.of(lambdas)
    if sum(lam) == 0:
        raise ValueError(f"expected lambdas {TERMS} not all 0; got {lambdas!r}")
    return lam


def _layers(backbone: Backbone, layers, style_layers):
    return (tuple(layers) if layers is not None else backbone.default_layers[1:4],
            tuple(style_layers) if style_layers is not None else backbone.style_layers[:2])


def solve_combined(problem: SuperResolution, lambdas, backbone: Backbone | str | None = None, steps: int = 60,
                   lr: float = 0.03,
                   d_lr: float = 2e-3, layers=None, style_layers=None, seed: int = 0, progress: bool = True,
                   threads: int | None = 1) -> Result:
    """Restore ``problem`` by minimising the relative-λ CombinedLoss, averaged over its candidates.

    Each step the image takes one Adam step on ``CombinedLoss`` against the next candidate
    (cycling, so over a few steps the average is minimised; pixels are clamped to [0, 1]).
    When λ_adv > 0 a fresh :class:`~percepkit.PatchDiscriminator` then takes one step telling
    that candidate (real) from the current image (fake). The raw λ given to CombinedLoss are
    ``λ_t / L_t(start)``, with ``L_t(start)`` measured at the start over all candidates.

    Each term's gradient is taken separately (``autograd.grad``) and summed for the step, so
    its size is recorded at no extra cost: ``grads[t]`` is the mean over the run of
    ‖∂(λ_t·L_t/L_t(start))/∂x‖, ``values[t]`` the mean of ``L_t/L_t(start)`` over the last
    cycle of candidates; ``history`` has both per step.

    Args:
        problem: from :func:`superres_problem`.
        lambdas: relative (pix, perc, style, adv), each >= 0, not all 0.
        backbone: a :class:`~percepkit.Backbone`, a backbone name, or ``None`` (the default one).
        steps, lr: image optimisation (Adam).
        d_lr: the discriminator's Adam learning rate.
        layers, style_layers: default the 2nd–4th of the backbone's default layers (middle layers:
            the shallowest is as shift-sensitive as the pixels and would only re-teach the pixel
            term) and the first two style layers; a run then takes a few CPU-seconds.
        seed: seeds the discriminator.
        progress: show a progress bar.
        threads: torch intra-op threads during the solve (restored afterwards); ``None`` keeps the
            current setting. Default 1: at 64 px a second thread gains little, while on a shared or
            throttled CPU (Binder, a busy lab server) extra threads cost far more than they gain
            (measured on a busy 2-core machine: 0.8 CPU-s with 1 thread vs 6.2 CPU-s with 2).
    """
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"expected threads as a positive int or None; got {threads!r}")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _solve(problem, lambdas, resolve_backbone(backbone), steps, lr, d_lr, layers, style_layers, seed, progress)
    finally:
        torch.set_num_threads(before)


def _solve(problem, lambdas, backbone, steps, lr, d_lr, layers, style_layers, seed, progress) -> Result:
    lam = check_lambdas(lambdas)
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"expected steps as a positive int; got {steps!r}")
    layers, style_layers = _layers(backbone, layers, style_layers)
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):  # seeded critic, the caller's random stream untouched
        torch.manual_seed(seed)
        disc = PatchDiscriminator()
    cands, k, x0 = problem.candidates, problem.candidates.shape[0], problem.start
    active = [t for t in TERMS if getattr(lam, t) > 0]

    def combined(weights: Lambdas, target):
        loss = CombinedLoss(lambdas=weights, pixel_kind="l2", backbone=backbone, layers=layers,
                            style_layers=style_layers, discriminator=disc if weights.adv > 0 else None)
        return loss.set_target(target)

    with torch.no_grad():  # reference magnitudes: each active term at the start, over all candidates
        ref_loss = combined(Lambdas(*(float(v > 0) for v in lam)), cands)
        ref_loss(x0.expand_as(cands))
        reference = {t: float(v) for t, v in ref_loss.terms.items()}
    raw = Lambdas.of(relative_to_raw(lam._asdict(), reference))
    losses = [combined(raw, cands[i : i + 1]) for i in range(k)]
    opt_d = torch.optim.Adam(disc.parameters(), lr=d_lr, betas=(0.5, 0.999))
    at = {"step": 0}

    class Cycling:  # the objective averaged over the candidates: one of them per step, in turn
        def __call__(self, x):
            return losses[at["step"] % k](x)

        @property
        def terms(self):
            return losses[at["step"] % k].terms

    def critic_step(step, x):
        if raw.adv > 0:  # the critic learns to tell this candidate (real) from the current image (fake)
            opt_d.zero_grad(set_to_none=True)
            real = cands[step % k : step % k + 1]
            d_loss = adversarial_loss(disc(real), True) + adversarial_loss(disc(x), False)
            d_loss.backward()
            opt_d.step()
        at["step"] = step + 1

    # the package's one optimisation loop: Adam, pixels clamped to [0, 1], each term's gradient apart
    x, hist = optimize_image(Cycling(), x0, steps=steps, lr=lr, optimizer="adam", progress=progress,
                             seed=seed, desc=f"λ={format_lambdas(lam)}", callback=critic_step, term_grads=True)
    history = {}
    for t in active:
        history[f"value_{t}"] = [v / getattr(lam, t) for v in hist[t]]
        history[f"grad_{t}"] = hist[f"grad_{t}"]
    last = min(k, steps)
    values = {t: (sum(history[f"value_{t}"][-last:]) / last if t in active else None) for t in TERMS}
    grads = {t: sum(history[f"grad_{t}"]) / steps for t in active}
    with torch.no_grad():
        perc = PerceptualLoss(backbone, layers).set_target(problem.truth)
        judge = resolve_backbone(evaluation_backbone(backbone))
        other = PerceptualLoss(judge, judge.default_layers[1:4]).set_target(problem.truth)
        slope = spectral_slope(x)
        metrics = dict(psnr=psnr(x, problem.truth), perceptual=float(perc(x)) / float(perc(x0)),
                       eval_distance=float(other(x)) / float(other(x0)), slope=slope,
                       slope_gap=abs(slope - problem.photo_slope),
                       sharpness=sharpness(x) / sharpness(problem.truth),
                       hf=high_frequency_energy(x) / high_frequency_energy(problem.truth),
                       seconds=time.perf_counter() - t0)
    return Result(lam, x, values, grads, metrics, reference, history)


def relative_to_raw(relative: dict, reference: dict) -> dict:
    """Raw :class:`~percepkit.CombinedLoss` weights from relative λ: ``λ_t / L_t(start)``; 0 stays 0.

    Args:
        relative: term → relative λ (1 = "as important as at the start").
        reference: term → the term's raw value at the start image (needed for every term whose
            λ is not 0).
    """
    missing = [t for t, v in relative.items() if v and t not in reference]
    if missing:
        raise ValueError(f"no reference value for the term(s) {missing}; measure them at the start image first")
    return {t: (float(v) / float(reference[t]) if v else 0.0) for t, v in relative.items()}


def format_lambdas(lam) -> str:
    return "(" + ", ".join(f"{v:g}" for v in lam) + ")"


# --- the grid, cached -------------------------------------------------------------------


def _key(problem, backbone, lam, steps, lr, d_lr, layers, style_layers, seed) -> str:
    return cache_key(v=_CACHE_VERSION, problem=problem.settings, backbone=backbone, lambdas=[float(v) for v in lam],
                     steps=steps, lr=lr, d_lr=d_lr, layers=list(layers), style_layers=list(style_layers), seed=seed)


def precompute_grid(problem: SuperResolution, grid=DEFAULT_GRID, backbone: Backbone | str | None = None,
                    steps: int = 60, lr: float = 0.03, d_lr: float = 2e-3, layers=None, style_layers=None, seed: int = 0,
                    cache_dir=None, progress: bool = True) -> list[Result]:
    """Solve every λ setting of ``grid`` once; each result is cached on disk, keyed by a hash of the
    problem, backbone, λ and solver settings, so a re-run only loads files.

    Args:
        grid: λ settings (pix, perc, style, adv), each relative (see :func:`solve_combined`).
        cache_dir: a folder; ``None`` → :func:`percepkit.cache.default_cache_dir`; ``False`` → no disk cache.
        (others): as :func:`solve_combined`.
    """
    from tqdm.auto import tqdm

    lams = [check_lambdas(g) for g in grid]
    if not lams:
        raise ValueError("expected a non-empty grid of λ settings")
    backbone = resolve_backbone(backbone)
    layers, style_layers = _layers(backbone, layers, style_layers)
    folder = cache_folder(cache_dir)
    out = []
    bar = tqdm(lams, desc=f"λ grid on {backbone.name}", disable=not progress)
    for lam in bar:
        path = None if folder is None else folder / (
            f"lambda-{_key(problem, backbone, lam, steps, lr, d_lr, layers, style_layers, seed)}.pt")
        out.append(load_or_compute(
            path, lambda lam=lam: solve_combined(problem, lam, backbone, steps, lr, d_lr, layers, style_layers, seed,
                                                 progress=False),
            encode=Result.to_dict, decode=Result.from_dict))
    bar.close()
    return out
