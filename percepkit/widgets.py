"""ipywidgets panels, built in one call each; their pure parts are testable without a browser.

* :func:`lambda_explorer` — notebook 05's λ panel: four sliders (λ_pix, λ_perc, λ_style, λ_adv)
  → the restored image, a table of each term's size and pull, and the perception–distortion
  plot. The problem, the solver and the cached grid are in :mod:`percepkit.superres`; a slider
  move only looks up precomputed results (:func:`render` picks the nearest λ *mix*) and
  pre-encoded PNGs, so it answers in milliseconds; the button runs the solver live.
* :func:`shift_explorer` — notebook 02's shift slider over :func:`percepkit.plot.plot_shift`.
* :func:`blend_explorer` — notebook 08's α slider: SRResNet-MSE and SRGAN blended weight by
  weight (:func:`percepkit.srnets.interpolate_networks`); a move snaps to the precomputed α grid
  (:func:`nearest_blend`), the button computes the exact α.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import torch

from .backbones import Backbone
from .images import to_png
from .losses import TERMS, Lambdas
from .plot import plot_perception_distortion, plot_shift
from .plot_08_09 import plot_blends
from .srnets import Blend, blend_at, blend_grid
from .superres import (
    DEFAULT_GRID,
    Result,
    SuperResolution,
    check_lambdas,
    format_lambdas,
    precompute_grid,
    solve_combined,
    superres_problem,
)
from .weights import resolve_backbone

__all__ = ["View", "render", "LambdaExplorer", "lambda_explorer", "shift_explorer", "nearest_blend", "BlendExplorer",
           "blend_explorer"]

#: The sliders' starting position (``initial=None``): pixel and perceptual terms, equally important.
INITIAL = Lambdas(pix=1, perc=1)


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
        lambdas: the sliders' :class:`~percepkit.Lambdas` (or a tuple in ``TERMS`` order, or a mapping).
    """
    lam = check_lambdas(lambdas)
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
        head = f"λ = {format_lambdas(r.lambdas)}: the same mix (with Adam only the ratios matter)"
    else:
        head = (f"nearest precomputed setting λ = {format_lambdas(r.lambdas)} "
                f"(press <i>compute this exact setting</i> for {format_lambdas(lam)})")
    rows = []
    for t in TERMS:
        v, g = r.values.get(t), r.grads.get(t)
        mark = "◀" if g is not None and t == r.dominant else ""
        rows.append(f"<tr><td>{t}</td><td>{getattr(r.lambdas, t):g}</td><td>{'—' if v is None else f'{v:.3g}'}</td>"
                    f"<td>{'—' if g is None else f'{g:.3g}'}</td><td>{mark}</td></tr>")
    m = r.metrics
    style = ("<style>.pk-lambda-numbers th, .pk-lambda-numbers td {padding: 1px 10px; text-align: right}</style>")
    return (f"{style}<div class='pk-lambda-numbers'><b>showing:</b> {head}<br>"
            "<table><tr><th>term</th><th>λ</th><th>value ÷ start</th><th>mean ‖grad‖</th><th>dominates</th></tr>"
            + "".join(rows) + "</table>"
            f"PSNR {m['psnr']:.2f} dB · feature distance on a second network {m['eval_distance']:.3f} (start = 1) · "
            f"spectral slope {m['slope']:.2f} (gap to photographs {m['slope_gap']:.2f}) · "
            f"sharpness {m['sharpness']:.2f}× truth · "
            f"solved in {m['seconds']:.1f} s</div>")


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()


# --- the panel ----------------------------------------------------------------------------


def _encode_pictures(cache: dict, items, scale: int) -> None:
    """PNG-encode the ``.image`` of each item not yet in ``cache`` (keyed by ``id``): the explorers encode
    every precomputed picture once, so that a slider move only looks one up."""
    for it in items:
        if id(it) not in cache:
            cache[id(it)] = to_png(it.image, scale=scale)


class LambdaExplorer:
    """The slider panel (see :func:`lambda_explorer`). ``.widget`` is the ipywidgets box.

    Attributes:
        problem, backbone, results (grid + live runs), sliders (dict term → FloatSlider),
        button, result_image, numbers, plot, status, view (the current :class:`View`),
        last_latency (seconds the last slider update took).
    """

    def __init__(self, problem, backbone, results, solver: dict, initial=None, scale: int = 3):
        import ipywidgets as W

        self.problem, self.backbone, self.results, self._solver = problem, backbone, list(results), dict(solver)
        self._png_cache: dict = {}
        self._plot_cache: dict = {}
        self.scale = scale
        initial = check_lambdas(INITIAL if initial is None else initial)
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
        truth = W.VBox([W.Label("truth"), W.Image(value=to_png(problem.truth, scale=scale), format="png")])
        start = W.VBox([W.Label("start (bicubic of the input)"), W.Image(value=to_png(problem.start, scale=scale),
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
        _encode_pictures(self._png_cache, self.results, self.scale)
        self._plot_cache = {id(r): _png(plot_perception_distortion(
            self.results, highlight=r, title=f"{self.problem.name} on {self.backbone.name}"))
            for r in self.results}

    def _encode(self, r: Result):
        if id(r) not in self._plot_cache:  # a result appended to .results by hand
            self._encode_all()
        return self._png_cache[id(r)], self._plot_cache[id(r)]

    def find(self, lambdas) -> Result:
        """The computed result whose λ mix equals ``lambdas`` (grid or live); ``KeyError`` if none."""
        view = render(self.results, lambdas)
        if not view.exact:
            raise KeyError(f"λ = {format_lambdas(view.requested)} has not been computed; "
                           f"nearest is {format_lambdas(view.result.lambdas)}")
        return view.result

    @property
    def lambdas(self) -> Lambdas:
        return Lambdas(**{t: self.sliders[t].value for t in TERMS})

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
            self.status.value = f"showing λ = {format_lambdas(self.view.result.lambdas)} (same mix as the sliders)"
        else:
            self.status.value = f"showing nearest precomputed λ = {format_lambdas(self.view.result.lambdas)}"
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
        lam = check_lambdas(self.lambdas)
        self.button.disabled = True
        self.status.value = f"computing λ = {format_lambdas(lam)} …"
        try:
            res = solve_combined(self.problem, lam, self.backbone, progress=False, **self._solver)
        finally:
            self.button.disabled = False
        self.results.append(res)
        self._encode_all()  # the new point appears in every plot: re-encode them now, not on the next moves
        self.update()
        self.status.value = f"computed λ = {format_lambdas(lam)} in {res.metrics['seconds']:.1f} s"
        return res

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def lambda_explorer(image="astronaut", size: int = 64, backbone: Backbone | str | None = None, grid=DEFAULT_GRID,
                    steps: int = 60, lr: float = 0.03, d_lr: float = 2e-3, layers=None, style_layers=None,
                    seed: int = 0, cache_dir=None, progress: bool = True, initial=None,
                    problem: SuperResolution | None = None, **problem_kw) -> LambdaExplorer:
    """Build the whole λ panel in one call: problem, precomputed (cached) grid, sliders, plot.

    Args:
        image, size, **problem_kw: passed to :func:`superres_problem` (ignored if ``problem``).
        backbone: a Backbone, a name, or ``None`` (the default one).
        grid: λ settings (pix, perc, style, adv) to precompute; sliders snap to the nearest mix.
        steps, lr, d_lr, layers, style_layers, seed: the solver (:func:`solve_combined`).
        cache_dir: see :func:`precompute_grid`.
        initial: the sliders' starting values (a :class:`~percepkit.Lambdas`; ``None`` → :data:`INITIAL`).

    Returns:
        LambdaExplorer: display it (last expression of a cell) to get the panel.
    """
    backbone = resolve_backbone(backbone)
    if problem is None:
        problem = superres_problem(image, size, **problem_kw)
    solver = dict(steps=steps, lr=lr, d_lr=d_lr, layers=layers, style_layers=style_layers, seed=seed)
    results = precompute_grid(problem, grid, backbone, cache_dir=cache_dir, progress=progress, **solver)
    return LambdaExplorer(problem, backbone, results, solver, initial=initial)


def shift_explorer(image: torch.Tensor, backbone: Backbone | str | None = None, layers=None, reference: dict | None = None,
                   max_shift: float = 8.0, step: float = 0.25, value: float = 1.0):
    """A ``FloatSlider`` for the shift, showing :func:`percepkit.plot.plot_shift` at each position.

    Returns:
        ipywidgets.interactive: display it; ``.children[0]`` is the slider and ``.result`` the
        distances of the position shown.
    """
    import ipywidgets as W
    from IPython.display import display

    backbone = resolve_backbone(backbone)
    if not (isinstance(max_shift, (int, float)) and max_shift > 0 and 0 < step <= max_shift):
        raise ValueError(f"expected max_shift > 0 and 0 < step <= max_shift; got {max_shift!r}, {step!r}")
    slider = W.FloatSlider(value=value, min=0.0, max=float(max_shift), step=step, description="shift (px)",
                           continuous_update=False, readout_format=".2f")

    def show(dx):
        fig, d = plot_shift(image, dx, backbone, layers, reference)
        display(fig)
        return d

    return W.interactive(show, dx=slider)


# --- notebook 08: the α slider between two trained networks -------------------------------


def nearest_blend(blends, alpha: float) -> tuple[Blend, bool]:
    """The computed blend whose α is nearest ``alpha`` (ties: the smaller α), and whether it is exact (|Δα| < 1e-9)."""
    blends = list(blends)
    if not blends:
        raise ValueError("expected at least one Blend")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1]; got {alpha!r}")
    best = min(blends, key=lambda b: (abs(b.alpha - alpha), b.alpha))
    return best, abs(best.alpha - alpha) < 1e-9


class BlendExplorer:
    """The α panel (see :func:`blend_explorer`). ``.widget`` is the ipywidgets box.

    Attributes:
        blends (grid + exact runs), slider, button, image, plot, numbers, status, shown (the :class:`Blend`
        on screen), last_latency (seconds the last slider update took).
    """

    def __init__(self, mse, gan, lr, truth, blends, points: dict | None = None, scale: int = 2, initial: float = 0.5):
        import ipywidgets as W

        self.mse, self.gan, self.lr, self.truth, self.points, self.scale = mse, gan, lr, truth, points or {}, scale
        self.blends = list(blends)
        self.slider = W.FloatSlider(value=initial, min=0.0, max=1.0, step=0.05, description="α",
                                    continuous_update=False, readout_format=".2f")
        self.button = W.Button(description="compute this exact α", icon="play", layout=W.Layout(width="220px"))
        self.status = W.Label("")
        self.image = W.Image(format="png")
        self.image.add_class("pk-blend-result")
        self.plot = W.Image(format="png")
        self.plot.add_class("pk-blend-plot")
        self.numbers = W.HTML()
        self.numbers.add_class("pk-blend-numbers")
        truth_box = W.VBox([W.Label("truth"), W.Image(value=to_png(truth, scale=scale), format="png")])
        result_box = W.VBox([W.Label("blend (1 − α)·SRResNet-MSE + α·SRGAN"), self.image])
        self.widget = W.VBox([W.HBox([W.VBox([self.slider, self.button, self.status, self.numbers]), self.plot]),
                              W.HBox([result_box, truth_box])])
        self._png, self._plot = {}, {}
        self._encode_all()
        self.slider.observe(lambda _c: self.update(), names="value")
        self.button.on_click(lambda _b: self.compute_exact())
        self.last_latency = 0.0
        self.update()

    def _encode_all(self):
        """Encode every blend's picture once, and every highlighted plot again whenever a blend is added."""
        _encode_pictures(self._png, self.blends, self.scale)
        self._plot = {id(b): _png(plot_blends(self.blends, highlight=b, points=self.points)) for b in self.blends}

    def update(self) -> Blend:
        """Show the blend nearest the slider (what a slider move triggers); only looks things up."""
        t0 = time.perf_counter()
        self.shown, exact = nearest_blend(self.blends, self.slider.value)
        self.image.value = self._png[id(self.shown)]
        self.plot.value = self._plot[id(self.shown)]
        b = self.shown
        self.numbers.value = (f"<div class='pk-blend-numbers'>α = {b.alpha:.2f} · PSNR {b.psnr:.2f} dB · "
                              f"LPIPS {b.lpips:.3f}</div>")
        self.status.value = ("showing this exact α" if exact else
                             f"showing the nearest precomputed α = {b.alpha:g} (the button computes {self.slider.value:.2f})")
        self.last_latency = time.perf_counter() - t0
        return self.shown

    def set(self, alpha: float) -> Blend:
        """Move the slider programmatically; returns the blend now shown."""
        self.slider.value = float(alpha)
        return self.shown

    def compute_exact(self) -> Blend:
        """Blend the networks at the slider's exact α (the button), add the result and show it."""
        alpha = float(self.slider.value)
        self.button.disabled = True
        self.status.value = f"computing α = {alpha:.2f} …"
        try:
            b = blend_at(self.mse, self.gan, self.lr, self.truth, alpha)
        finally:
            self.button.disabled = False
        self.blends.append(b)
        self._encode_all()
        self.update()
        self.status.value = f"computed α = {alpha:.2f} in {b.seconds:.1f} s"
        return b

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def blend_explorer(mse, gan, lr: torch.Tensor, truth: torch.Tensor, alphas=None, points: dict | None = None,
                   scale: int = 2, initial: float = 0.5, blends=None) -> BlendExplorer:
    """Build the α panel in one call: the blends on a grid of α (or ``blends`` already computed), a slider
    that snaps to them, a button for the exact α, the picture and its point on the PSNR–LPIPS plane.

    Args:
        mse, gan: the two networks (``pk.load_sr_network("srresnet-mse")``, ``…("srgan")``).
        lr, truth: the low-resolution input (1, 3, h, w) and its truth (1, 3, 4h, 4w).
        alphas: the grid (default 0, 0.1, …, 1); ignored when ``blends`` is given.
        points: other outputs to mark on the plane, name → (PSNR, LPIPS).
        scale: on-screen enlargement of the pictures.
        initial: the slider's starting α.
    """
    if blends is None:
        blends = blend_grid(mse, gan, lr, truth, alphas)
    return BlendExplorer(mse, gan, lr, truth, blends, points=points, scale=scale, initial=initial)
