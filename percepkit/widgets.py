"""The combined objective as a slider panel: λ_pix, λ_perc, λ_style, λ_adv → restored image + numbers.

The task is ×4 super-resolution by image optimisation under :class:`~percepkit.CombinedLoss`.
A small input does not determine its fine detail, so the objective is averaged over a set
of *candidates*: high-resolution images that all shrink to (almost) the same input — the
truth's own detail moved by up to ``jitter`` pixels. The pixel (L2) optimum of that average is
the candidates' mean (faithful but blurry); the feature, Gram and adversarial terms reward
images that look like *one* sharp candidate, even where it is not the truth.

λ are relative: each term is divided by its value at the starting image (bicubic), measured on
the backbone in use, so ``λ = 1`` means "as important as at the start" on every backbone
(raw feature losses differ by orders of magnitude between backbones). With Adam only the
*ratios* of the λ matter (Adam is invariant to the overall scale of the loss).

Layers: the pure functions (:func:`superres_problem`, :func:`solve_combined`,
:func:`precompute_grid`, :func:`render`, :func:`plot_perception_distortion`) need no widgets;
:func:`lambda_explorer` wraps them in an ipywidgets panel.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from .backbones import Backbone, load_backbone
from .images import sample_image, shift, to_tensor
from .losses import CombinedLoss, PatchDiscriminator, PerceptualLoss, adversarial_loss, content_loss, pixel_loss
from .metrics import high_frequency_energy, psnr, sharpness

__all__ = [
    "TERMS", "DEFAULT_GRID", "TINY_GRID", "SuperResolution", "Result", "View",
    "superres_problem", "solve_combined", "precompute_grid", "render", "plot_perception_distortion",
    "LambdaExplorer", "lambda_explorer", "default_cache_dir",
    "shift_distances", "pair_distances", "render_shift", "shift_explorer",  # notebook 02
]

TERMS = ("pix", "perc", "style", "adv")

#: λ settings (pix, perc, style, adv) precomputed by :func:`lambda_explorer`; sliders snap to the nearest.
DEFAULT_GRID = (
    (1, 0, 0, 0), (1, 1, 0, 0), (1, 4, 0, 0), (0, 1, 0, 0),
    (1, 0, 0, 4), (1, 1, 0, 4), (1, 1, 1, 0), (1, 1, 1, 4),
)
#: A subset of DEFAULT_GRID for the scientific image, tests and quick runs (shared through the cache).
TINY_GRID = ((1, 0, 0, 0), (1, 1, 0, 0), (0, 1, 0, 0), (1, 0, 0, 4), (1, 1, 0, 4))

_CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """``$PERCEPKIT_CACHE_DIR`` if set, else ``~/.cache/percepkit``."""
    env = os.environ.get("PERCEPKIT_CACHE_DIR", "").strip()
    return Path(env) if env else Path.home() / ".cache" / "percepkit"


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
    """

    name: str
    truth: torch.Tensor
    observed: torch.Tensor
    start: torch.Tensor
    candidates: torch.Tensor
    offsets: list
    factor: int
    settings: dict = field(default_factory=dict)

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
    return prob


# --- one solve --------------------------------------------------------------------------


@dataclass
class Result:
    """One λ setting solved.

    Attributes:
        lambdas: the relative λ (pix, perc, style, adv) as asked.
        image: (1, 3, H, W) the restored image.
        values: each active term at the end, in units of its value at the start (1 = unchanged),
            averaged over the last cycle of candidates (``None`` for inactive terms).
        grads: mean over the run of ‖∂(λ_t · L_t / L_t(start)) / ∂x‖ for each active term:
            how hard each term pulls on the image.
        metrics: ``psnr`` (dB, vs the truth), ``perceptual`` (feature distance to the truth ÷
            that of the start), ``sharpness`` and ``hf`` (÷ the truth's), ``seconds``.
        reference: raw term values at the start (what λ are relative to).
        history: per step, ``value_<term>`` and ``grad_<term>`` of each active term.
    """

    lambdas: tuple
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
        return cls(tuple(float(v) for v in d["lambdas"]), d["image"], d["values"], d["grads"], d["metrics"],
                   d["reference"], d.get("history", {}))


def _check_lambdas(lambdas) -> tuple:
    try:
        lam = tuple(float(v) for v in lambdas)
    except TypeError:
        raise TypeError(f"expected lambdas as 4 numbers (pix, perc, style, adv); got {type(lambdas).__name__}") from None
    if len(lam) != 4 or not all(math.isfinite(v) and v >= 0 for v in lam) or sum(lam) == 0:
        raise ValueError(f"expected 4 finite lambdas >= 0 (pix, perc, style, adv), not all 0; got {lambdas!r}")
    return lam


def _layers(backbone: Backbone, layers, style_layers):
    return (tuple(layers) if layers is not None else backbone.default_layers[:2],
            tuple(style_layers) if style_layers is not None else backbone.style_layers[:2])


def solve_combined(problem: SuperResolution, lambdas, backbone: Backbone, steps: int = 24, lr: float = 0.03,
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
        backbone: a loaded :class:`~percepkit.Backbone`.
        steps, lr: image optimisation (Adam).
        d_lr: the discriminator's Adam learning rate.
        layers, style_layers: default the first two of the backbone's default/style layers (a run
            then takes a few seconds on a CPU).
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
        return _solve(problem, lambdas, backbone, steps, lr, d_lr, layers, style_layers, seed, progress)
    finally:
        torch.set_num_threads(before)


def _solve(problem, lambdas, backbone, steps, lr, d_lr, layers, style_layers, seed, progress) -> Result:
    from tqdm.auto import tqdm

    lam = _check_lambdas(lambdas)
    if not isinstance(backbone, Backbone):
        raise TypeError(f"expected a percepkit Backbone (see load_backbone); got {type(backbone).__name__}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"expected steps as a positive int; got {steps!r}")
    layers, style_layers = _layers(backbone, layers, style_layers)
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    disc = PatchDiscriminator()
    cands, k, x0 = problem.candidates, problem.candidates.shape[0], problem.start
    active = [t for t, v in zip(TERMS, lam) if v > 0]

    def combined(weights, target):
        w = dict(zip(TERMS, weights))
        loss = CombinedLoss(w["pix"], w["perc"], w["style"], w["adv"], pixel_kind="l2", backbone=backbone,
                            layers=layers, style_layers=style_layers, discriminator=disc if w["adv"] > 0 else None)
        return loss.set_target(target)

    with torch.no_grad():  # reference magnitudes: each active term at the start, over all candidates
        ref_loss = combined(tuple(float(v > 0) for v in lam), cands)
        ref_loss(x0.expand_as(cands))
        reference = {t: float(v) for t, v in ref_loss.terms.items()}
    losses = [combined(tuple(v / reference[t] if v > 0 else 0.0 for t, v in zip(TERMS, lam)), cands[i : i + 1])
              for i in range(k)]
    opt_d = torch.optim.Adam(disc.parameters(), lr=d_lr, betas=(0.5, 0.999))
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    history = {f"{kind}_{t}": [] for kind in ("value", "grad") for t in active}
    bar = tqdm(range(steps), desc=f"λ={_fmt(lam)}", disable=not progress, leave=False)
    for step in bar:
        loss = losses[step % k]
        loss(x)
        grad = torch.zeros_like(x)
        for i, t in enumerate(TERMS):
            if t in loss.terms:
                (g,) = torch.autograd.grad(loss.terms[t], x, retain_graph=True)
                grad += g
                history[f"grad_{t}"].append(float(g.norm()))
                history[f"value_{t}"].append(float(loss.terms[t].detach()) / lam[i])
        if not torch.isfinite(grad).all():
            raise FloatingPointError(f"non-finite gradient at step {step} for λ={_fmt(lam)}; lower lr")
        x.grad = grad
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        if lam[3] > 0:
            opt_d.zero_grad(set_to_none=True)
            real = cands[step % k : step % k + 1]
            d_loss = adversarial_loss(disc(real), True) + adversarial_loss(disc(x.detach()), False)
            d_loss.backward()
            opt_d.step()
    bar.close()
    x = x.detach()
    last = min(k, steps)
    values = {t: (sum(history[f"value_{t}"][-last:]) / last if t in active else None) for t in TERMS}
    grads = {t: sum(history[f"grad_{t}"]) / steps for t in active}
    with torch.no_grad():
        perc = PerceptualLoss(backbone, layers).set_target(problem.truth)
        metrics = dict(psnr=psnr(x, problem.truth), perceptual=float(perc(x)) / float(perc(x0)),
                       sharpness=sharpness(x) / sharpness(problem.truth),
                       hf=high_frequency_energy(x) / high_frequency_energy(problem.truth),
                       seconds=time.perf_counter() - t0)
    return Result(lam, x, values, grads, metrics, reference, history)


def _fmt(lam) -> str:
    return "(" + ", ".join(f"{v:g}" for v in lam) + ")"


# --- the grid, cached -------------------------------------------------------------------


def _key(problem, backbone, lam, steps, lr, d_lr, layers, style_layers, seed) -> str:
    spec = dict(v=_CACHE_VERSION, problem=problem.settings, backbone=backbone.name, source=backbone.source,
                lambdas=[round(v, 6) for v in lam], steps=steps, lr=lr, d_lr=d_lr, layers=list(layers),
                style_layers=list(style_layers), seed=seed, torch=torch.__version__.split("+")[0])
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]


def precompute_grid(problem: SuperResolution, backbone: Backbone, grid=DEFAULT_GRID, steps: int = 24,
                    lr: float = 0.03, d_lr: float = 2e-3, layers=None, style_layers=None, seed: int = 0,
                    cache_dir=None, progress: bool = True) -> list[Result]:
    """Solve every λ setting of ``grid`` once; each result is cached on disk, keyed by a hash of the
    problem, backbone, λ and solver settings, so a re-run only loads files.

    Args:
        cache_dir: a folder; ``None`` → :func:`default_cache_dir`; ``False`` → no disk cache.
        (others): as :func:`solve_combined`.
    """
    from tqdm.auto import tqdm

    lams = [_check_lambdas(g) for g in grid]
    if not lams:
        raise ValueError("expected a non-empty grid of λ settings")
    layers, style_layers = _layers(backbone, layers, style_layers)
    folder = None if cache_dir is False else Path(cache_dir) if cache_dir is not None else default_cache_dir()
    out = []
    bar = tqdm(lams, desc=f"λ grid on {backbone.name}", disable=not progress)
    for lam in bar:
        path = None
        if folder is not None:
            path = folder / f"lambda-{_key(problem, backbone, lam, steps, lr, d_lr, layers, style_layers, seed)}.pt"
            if path.exists():
                try:
                    out.append(Result.from_dict(torch.load(path, weights_only=True)))
                    continue
                except Exception:  # a corrupt or foreign file: recompute and overwrite
                    pass
        res = solve_combined(problem, lam, backbone, steps, lr, d_lr, layers, style_layers, seed, progress=False)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            torch.save(res.to_dict(), tmp)
            tmp.replace(path)
        out.append(res)
    bar.close()
    return out


# --- pure rendering ---------------------------------------------------------------------


@dataclass
class View:
    """What the panel shows for one slider setting (built by :func:`render`)."""

    requested: tuple
    result: Result
    exact: bool
    distance: float
    html: str

    @property
    def image(self) -> torch.Tensor:
        return self.result.image


def _mix(lam) -> torch.Tensor:
    v = torch.tensor(lam, dtype=torch.float64)
    return v / v.sum()


def render(results, lambdas) -> View:
    """Pick what to show for slider values ``lambdas``: the result with the nearest λ *mix*.

    Adam is invariant to the loss's overall scale, so (1, 1, 0, 0) and (2, 2, 0, 0) give the
    same image: settings are compared as mixes ``λ / Σλ`` (L1 distance). A result whose mix
    equals the request is ``exact``.

    Args:
        results: list of :class:`Result` (the grid, plus any live runs).
        lambdas: (pix, perc, style, adv) from the sliders.
    """
    lam = _check_lambdas(lambdas)
    if not results:
        raise ValueError("expected at least one Result to render")
    mix = _mix(lam)
    dists = [float((_mix(r.lambdas) - mix).abs().sum()) for r in results]
    i = min(range(len(results)), key=dists.__getitem__)
    r, exact = results[i], dists[i] < 1e-9
    return View(lam, r, exact, dists[i], _numbers_html(lam, r, exact))


def _numbers_html(lam, r: Result, exact: bool) -> str:
    if exact and tuple(r.lambdas) == tuple(lam):
        head = "this exact setting"
    elif exact:
        head = f"λ = {_fmt(r.lambdas)}: the same mix (with Adam only the ratios matter)"
    else:
        head = (f"nearest precomputed setting λ = {_fmt(r.lambdas)} "
                f"(press <i>compute this exact setting</i> for {_fmt(lam)})")
    rows = []
    for i, t in enumerate(TERMS):
        v, g = r.values.get(t), r.grads.get(t)
        mark = "◀" if g is not None and t == r.dominant else ""
        rows.append(f"<tr><td>{t}</td><td>{r.lambdas[i]:g}</td><td>{'—' if v is None else f'{v:.3g}'}</td>"
                    f"<td>{'—' if g is None else f'{g:.3g}'}</td><td>{mark}</td></tr>")
    m = r.metrics
    style = ("<style>.pk-lambda-numbers th, .pk-lambda-numbers td {padding: 1px 10px; text-align: right}</style>")
    return (f"{style}<div class='pk-lambda-numbers'><b>showing:</b> {head}<br>"
            "<table><tr><th>term</th><th>λ</th><th>value ÷ start</th><th>mean ‖grad‖</th><th>dominates</th></tr>"
            + "".join(rows) + "</table>"
            f"PSNR {m['psnr']:.2f} dB · perceptual distance {m['perceptual']:.3f} (start = 1) · "
            f"sharpness {m['sharpness']:.2f}× truth · high-freq. energy {m['hf']:.2f}× truth · "
            f"solved in {m['seconds']:.1f} s</div>")


def plot_perception_distortion(results, highlight: Result | None = None, ax=None, title: str | None = None):
    """PSNR (distortion, higher is better) against perceptual distance to the truth (lower is better).

    Every result is a point labelled with its λ; ``highlight`` is circled in red.
    """
    import matplotlib.pyplot as plt

    if not results:
        raise ValueError("expected at least one Result")
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 3.4))
    else:
        fig = ax.figure
    px = [r.metrics["perceptual"] for r in results]
    py = [r.metrics["psnr"] for r in results]
    ax.scatter(px, py, c=[r.metrics["sharpness"] for r in results], cmap="viridis", s=28, zorder=2)
    for r, a, b in zip(results, px, py):
        ax.annotate(",".join(f"{v:g}" for v in r.lambdas), (a, b), fontsize=6, xytext=(3, 2), textcoords="offset points")
    if highlight is not None:
        ax.scatter([highlight.metrics["perceptual"]], [highlight.metrics["psnr"]], s=160, facecolors="none",
                   edgecolors="red", linewidths=2, zorder=3)
    ax.set_xlabel("perceptual distance to truth (start = 1) →")
    ax.set_ylabel("PSNR vs truth (dB) ↑")
    ax.set_title(title or "perception–distortion (colour: sharpness)", fontsize=9)
    fig.tight_layout()
    return fig


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()


def _image_png(x: torch.Tensor, scale: int = 3) -> bytes:
    from PIL import Image

    a = (x[0].detach().clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8")
    im = Image.fromarray(a)
    im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="png")
    return buf.getvalue()


# --- the panel ----------------------------------------------------------------------------


class LambdaExplorer:
    """The slider panel (see :func:`lambda_explorer`). ``.widget`` is the ipywidgets box.

    Attributes:
        problem, backbone, results (grid + live runs), sliders (dict term → FloatSlider),
        button, result_image, numbers, plot, status, view (the current :class:`View`),
        last_latency (seconds the last slider update took).
    """

    def __init__(self, problem, backbone, results, solver: dict, initial=(1, 1, 0, 0), scale: int = 3):
        import ipywidgets as W

        self.problem, self.backbone, self.results, self._solver = problem, backbone, list(results), dict(solver)
        self._png_cache: dict = {}
        self._plot_cache: dict = {}
        self.scale = scale
        initial = _check_lambdas(initial)
        self.sliders = {t: W.FloatSlider(value=v, min=0.0, max=4.0, step=0.05, description=f"λ_{t}",
                                         continuous_update=False, readout_format=".2f")
                        for t, v in zip(TERMS, initial)}
        self.button = W.Button(description="compute this exact setting", icon="play",
                               layout=W.Layout(width="240px"))
        self.status = W.Label("")
        self.result_image = W.Image(format="png")
        self.result_image.add_class("pk-lambda-result")
        self.numbers = W.HTML()
        self.plot = W.Image(format="png")
        truth = W.VBox([W.Label("truth"), W.Image(value=_image_png(problem.truth, scale), format="png")])
        start = W.VBox([W.Label("start (bicubic of the input)"), W.Image(value=_image_png(problem.start, scale),
                                                                         format="png")])
        result = W.VBox([W.Label("result"), self.result_image])
        controls = W.VBox([*self.sliders.values(), self.button, self.status])
        self.widget = W.VBox([W.HBox([controls, self.plot]), W.HBox([truth, start, result]), self.numbers])
        self._encode_all()  # every slider move, the first one included, only looks things up
        for s in self.sliders.values():
            s.observe(self._on_slider, names="value")
        self.button.on_click(lambda _b: self.compute_exact())
        self.last_latency = 0.0
        self.update()

    def _encode_all(self):
        """Encode each result's image (once) and its highlighted plot (again whenever a result is added)."""
        for r in self.results:
            if id(r) not in self._png_cache:
                self._png_cache[id(r)] = _image_png(r.image, self.scale)
        self._plot_cache = {id(r): _png(plot_perception_distortion(
            self.results, highlight=r, title=f"{self.problem.name} on {self.backbone.name}"))
            for r in self.results}

    def _encode(self, r: Result):
        if id(r) not in self._plot_cache:
            self._encode_all()
        return self._png_cache[id(r)], self._plot_cache[id(r)]

    def find(self, lambdas) -> Result:
        """The computed result whose λ mix equals ``lambdas`` (grid or live); ``KeyError`` if none."""
        view = render(self.results, lambdas)
        if not view.exact:
            raise KeyError(f"λ = {_fmt(view.requested)} has not been computed; nearest is {_fmt(view.result.lambdas)}")
        return view.result

    @property
    def lambdas(self) -> tuple:
        return tuple(self.sliders[t].value for t in TERMS)

    def _on_slider(self, _change):
        self.update()

    def update(self) -> View:
        """Re-render from the current slider values (what a slider move triggers)."""
        t0 = time.perf_counter()
        lam = self.lambdas
        if sum(lam) == 0:
            self.status.value = "all λ are 0: nothing to optimise — raise one slider"
            return self.view
        self.view = render(self.results, lam)
        img, plot = self._encode(self.view.result)
        self.result_image.value = img
        self.plot.value = plot
        self.numbers.value = self.view.html
        if self.view.exact and tuple(self.view.result.lambdas) == tuple(lam):
            self.status.value = "showing this exact setting"
        elif self.view.exact:
            self.status.value = f"showing λ = {_fmt(self.view.result.lambdas)} (same mix as the sliders)"
        else:
            self.status.value = f"showing nearest precomputed λ = {_fmt(self.view.result.lambdas)}"
        self.last_latency = time.perf_counter() - t0
        return self.view

    def set(self, **lambdas) -> View:
        """Move sliders programmatically, e.g. ``set(perc=0)``; returns the new :class:`View`."""
        bad = [k for k in lambdas if k not in TERMS]
        if bad:
            raise ValueError(f"unknown slider(s) {bad}; choose from {list(TERMS)}")
        for t, v in lambdas.items():
            self.sliders[t].value = float(v)  # each change fires update() through observe
        return self.view

    def compute_exact(self) -> Result:
        """Run the solver at the sliders' exact setting (the button), add it to the results and show it."""
        lam = _check_lambdas(self.lambdas)
        self.button.disabled = True
        self.status.value = f"computing λ = {_fmt(lam)} …"
        try:
            res = solve_combined(self.problem, lam, self.backbone, progress=False, **self._solver)
        finally:
            self.button.disabled = False
        self.results.append(res)
        self._encode_all()  # the new point appears in every plot: re-encode them now, not on the next moves
        self.update()
        self.status.value = f"computed λ = {_fmt(lam)} in {res.metrics['seconds']:.1f} s"
        return res

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def lambda_explorer(image="astronaut", size: int = 64, backbone: Backbone | None = None, grid=DEFAULT_GRID,
                    steps: int = 24, lr: float = 0.03, d_lr: float = 2e-3, layers=None, style_layers=None,
                    seed: int = 0, cache_dir=None, progress: bool = True, initial=(1, 1, 0, 0),
                    problem: SuperResolution | None = None, **problem_kw) -> LambdaExplorer:
    """Build the whole λ panel in one call: problem, precomputed (cached) grid, sliders, plot.

    Args:
        image, size, **problem_kw: passed to :func:`superres_problem` (ignored if ``problem``).
        backbone: ``None`` → ``load_backbone("auto")``.
        grid: λ settings (pix, perc, style, adv) to precompute; sliders snap to the nearest mix.
        steps, lr, d_lr, layers, style_layers, seed: the solver (:func:`solve_combined`).
        cache_dir: see :func:`precompute_grid`.
        initial: the sliders' starting values.

    Returns:
        LambdaExplorer: display it (last expression of a cell) to get the panel.
    """
    if backbone is None:
        backbone = load_backbone("auto")
    if problem is None:
        problem = superres_problem(image, size, **problem_kw)
    solver = dict(steps=steps, lr=lr, d_lr=d_lr, layers=layers, style_layers=style_layers, seed=seed)
    results = precompute_grid(problem, backbone, grid, cache_dir=cache_dir, progress=progress, **solver)
    return LambdaExplorer(problem, backbone, results, solver, initial=initial)


# --- the shift slider (notebook 02) ---------------------------------------------------


def shift_distances(image: torch.Tensor, backbone: Backbone, dx: float, layers=None,
                    reference: dict | None = None) -> dict[str, float]:
    """How far ``image`` moves under each metric when shifted right by ``dx`` pixels.

    Pure (no widgets, no figures). Metrics: ``"L1"``, ``"L2"`` (pixels) and, for each layer,
    the feature MSE ``mean((φ_l(x) − φ_l(shift(x)))²)``.

    Args:
        image: (1, 3, H, W) in [0, 1].
        backbone: a loaded :class:`~percepkit.Backbone`.
        dx: the shift in pixels (fractional shifts interpolate bilinearly).
        layers: layer names; ``None`` → ``backbone.default_layers``.
        reference: raw distances to divide by (e.g. those of an unrelated picture, from
            :func:`pair_distances`), so 1 means "as different as that picture".

    Returns:
        dict metric → distance (relative when ``reference`` is given).
    """
    if not isinstance(image, torch.Tensor) or image.ndim != 4 or image.shape[:2] != (1, 3):
        raise ValueError(f"expected image as a (1, 3, H, W) tensor; got {getattr(image, 'shape', type(image).__name__)}")
    return pair_distances(image, shift(image, dx), backbone, layers, reference)


def pair_distances(x: torch.Tensor, y: torch.Tensor, backbone: Backbone, layers=None,
                   reference: dict | None = None) -> dict[str, float]:
    """L1, L2 and per-layer feature MSE between two (1, 3, H, W) images, optionally ÷ ``reference``."""
    if not isinstance(backbone, Backbone):
        raise TypeError(f"expected a percepkit Backbone (see load_backbone); got {type(backbone).__name__}")
    layers = backbone.resolve_layers(layers)
    with torch.no_grad():
        f = backbone(torch.cat([x, y]), layers)
    out = {"L1": float(pixel_loss(x, y, "l1")), "L2": float(pixel_loss(x, y, "l2"))}
    out.update({n: float(content_loss(f[n][:1], f[n][1:])) for n in layers})
    if reference is not None:
        missing = [k for k in out if k not in reference]
        if missing:
            raise ValueError(f"reference lacks the metric(s) {missing}")
        out = {k: v / reference[k] for k, v in out.items()}
    return out


def render_shift(image: torch.Tensor, backbone: Backbone, dx: float, layers=None, reference: dict | None = None):
    """The picture for one slider position: original, shifted, |difference| and a bar per metric.

    Returns:
        (matplotlib Figure, dict): the figure (closed, so it is shown only when displayed) and
        the distances from :func:`shift_distances`.
    """
    import matplotlib.pyplot as plt

    from .images import to_numpy

    d = shift_distances(image, backbone, dx, layers, reference)
    moved = shift(image, dx)
    fig, axes = plt.subplots(1, 4, figsize=(12, 2.8), gridspec_kw={"width_ratios": [1, 1, 1, 2]})
    for ax, img, title in zip(axes, (image, moved, (moved - image).abs() * 4), ("original", f"shifted by {dx:g} px",
                                                                               "|difference| × 4")):
        ax.imshow(to_numpy(img.clamp(0, 1)), interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    axes[3].bar(list(d), list(d.values()), color=["tab:gray"] * 2 + ["tab:blue"] * (len(d) - 2))
    axes[3].set_ylim(0, max(1.0, max(d.values()) * 1.1))
    axes[3].set_title("distance" + (" (1 = an unrelated picture)" if reference else ""), fontsize=9)
    axes[3].tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    plt.close(fig)
    return fig, d


def shift_explorer(image: torch.Tensor, backbone: Backbone, layers=None, reference: dict | None = None,
                   max_shift: float = 8.0, step: float = 0.25, value: float = 1.0):
    """A ``FloatSlider`` for the shift, showing :func:`render_shift` at each position.

    Returns:
        ipywidgets.interactive: display it; ``.children[0]`` is the slider and ``.result`` the
        distances of the position shown.
    """
    import ipywidgets as W
    from IPython.display import display

    if not (isinstance(max_shift, (int, float)) and max_shift > 0 and 0 < step <= max_shift):
        raise ValueError(f"expected max_shift > 0 and 0 < step <= max_shift; got {max_shift!r}, {step!r}")
    slider = W.FloatSlider(value=value, min=0.0, max=float(max_shift), step=step, description="shift (px)",
                           continuous_update=False, readout_format=".2f")

    def show(dx):
        fig, d = render_shift(image, backbone, dx, layers, reference)
        display(fig)
        return d

    return W.interactive(show, dx=slider)
