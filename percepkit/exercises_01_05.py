"""Automatic checks for the exercises of notebooks 01-05 (a learner calls them as ``pk.exercises.check_*``).

Each ``check_*`` function takes the learner's answer, compares it with a reference computed here, and
either prints a short "correct" message or raises ``AssertionError`` saying what is off. Each section
belongs to one notebook; the reference solutions live next to the checks so the notebooks can show them
(and CI can run them).
"""

from __future__ import annotations

__all__: list[str] = []
__all__ += ["check_l2_optimum", "check_l1_optimum"]  # 01
__all__ += ["check_feature_distance"]  # 02
__all__ += ["check_receptive_field"]  # 03
__all__ += ["check_gram_matrix", "check_gram_hw", "check_lambda_rescale", "gram_reference", "lambda_rescale_reference"]  # 04
__all__ += ["check_raw_lambdas", "check_pareto_front", "raw_lambdas_reference", "pareto_front_reference"]  # 05

# --- 01 Why pixel losses blur ---------------------------------------------------------


def _targets_for_check(k: int, seed: int):
    """K random "plausible targets" (K, 3, 8, 8) in [0, 1] for the 01 checks."""
    import torch

    g = torch.Generator().manual_seed(seed)
    return torch.rand(k, 3, 8, 8, generator=g)


def _as_image(answer, what: str):
    import torch

    if not isinstance(answer, torch.Tensor):
        raise AssertionError(f"{what} should return a torch.Tensor of shape (1, 3, H, W); it returned {type(answer).__name__}")
    if tuple(answer.shape) != (1, 3, 8, 8):
        raise AssertionError(
            f"{what} should return one image of shape (1, 3, H, W) for targets of shape (K, 3, H, W); "
            f"for K=5 targets of 8x8 it returned shape {tuple(answer.shape)} (keepdim=True keeps the batch axis)"
        )
    return answer.detach().float()


def check_l2_optimum(l2_optimal_image) -> None:
    """Check ``l2_optimal_image(targets) -> x`` minimises ``mean_k ‖x − t_k‖²`` (targets (K, 3, H, W), x (1, 3, H, W))."""
    for k, seed in ((5, 0), (4, 1)):
        targets = _targets_for_check(k, seed)
        x = _as_image(l2_optimal_image(targets.clone()), "l2_optimal_image")
        best = targets.mean(0, keepdim=True)
        loss, best_loss = float((x - targets).square().mean()), float((best - targets).square().mean())
        err = float((x - best).abs().max())
        if err > 1e-5:
            raise AssertionError(
                f"for {k} targets your image is not the L2 optimum: its mean squared error to the targets is "
                f"{loss:.5f}, the optimum reaches {best_loss:.5f} (largest pixel difference {err:.3g}). "
                "Set the derivative of Σ_k (x − t_k)² to zero and solve for x, pixel by pixel."
            )
    print("Correct: the L2 optimum of several targets is their pixel-wise mean.")


def check_l1_optimum(l1_optimal_image) -> None:
    """Check ``l1_optimal_image(targets) -> x`` minimises ``mean_k |x − t_k|`` (odd and even K)."""
    for k, seed in ((5, 2), (4, 3)):
        targets = _targets_for_check(k, seed)
        x = _as_image(l1_optimal_image(targets.clone()), "l1_optimal_image")
        med = targets.median(0, keepdim=True).values
        loss, best_loss = float((x - targets).abs().mean()), float((med - targets).abs().mean())
        if loss > best_loss + 1e-6:
            hint = " (it is the pixel-wise mean: that is the L2 answer)" if _allclose(x, targets.mean(0, keepdim=True)) else ""
            raise AssertionError(
                f"for {k} targets your image has mean absolute error {loss:.5f}, but {best_loss:.5f} is reachable"
                f"{hint}. Which value makes as many targets lie above it as below it?"
            )
    print("Correct: the L1 optimum of several targets is a pixel-wise median (any value between the middle two when K is even).")


def _allclose(a, b, atol: float = 1e-5) -> bool:
    """``torch.allclose`` for two same-shaped tensors (helper of the checks)."""
    import torch

    return bool(torch.allclose(a.float(), b.float(), atol=atol))


# --- 02 Shift sensitivity -------------------------------------------------------------


def check_feature_distance(feature_distance, backbone) -> None:
    """Check ``feature_distance(backbone, x, y, layer) -> mean((φ_l(x) − φ_l(y))²)`` on a shallow and a deep layer.

    Args:
        feature_distance: the learner's function; it returns a scalar tensor or a float.
        backbone: the loaded :class:`~percepkit.Backbone` the notebook uses.
    """
    import torch

    from .images import blur, sample_image, shift
    x = sample_image("astronaut", 64)
    for layer in (backbone.default_layers[0], backbone.default_layers[-1]):
        for y, what in ((shift(x, 2.0), "a 2-pixel shift"), (blur(x, 1.5), "a blur")):
            with torch.no_grad():  # the mean squared difference written out (not pk.content_loss: it is under test)
                fx, fy = backbone(x, [layer])[layer].double(), backbone(y, [layer])[layer].double()
                want = float(((fx - fy) ** 2).sum() / fx.numel())
            got = feature_distance(backbone, x.clone(), y.clone(), layer)
            if isinstance(got, torch.Tensor):
                if got.numel() != 1:
                    raise AssertionError(
                        f"feature_distance should return one number; it returned a tensor of shape {tuple(got.shape)}"
                    )
                got = float(got.detach())
            if not isinstance(got, float):
                raise AssertionError(
                    f"feature_distance should return a float or a scalar tensor; it returned {type(got).__name__}"
                )
            if abs(got - want) > 1e-4 * abs(want) + 1e-8:
                ratio = got / want if want else float("nan")
                hint = ""
                if abs(ratio - fx.numel()) < 1e-3 * fx.numel():
                    hint = " It is C·H·W times too large: average over the elements instead of summing."
                elif abs(got * got - want) < 1e-3 * want:
                    hint = " Did you take a square root? The distance is the mean *squared* difference."
                raise AssertionError(
                    f"layer {layer!r}, {what}: you returned {got:.6g}, expected {want:.6g} (ratio {ratio:.4g}).{hint} "
                    "Compute the layer's features of both images with backbone(img, [layer])[layer], "
                    "then the mean of the squared difference."
                )
    print(f"Correct: your feature distance matches mean((φ_l(x) − φ_l(y))²) on {backbone.name}.")


# --- 03 What each layer sees ----------------------------------------------------------

#: Stacks of (kernel, stride) the receptive-field check tries: name → layers.
_RF_CASES = {
    "one 3x3 conv": [(3, 1)],
    "two 3x3 convs": [(3, 1), (3, 1)],
    "a 7x7 stride-2 conv": [(7, 2)],
    "conv, 2x2 pool, conv": [(3, 1), (2, 2), (3, 1)],
    "VGG16 up to relu5_3": [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (3, 1), (2, 2),
                            (3, 1), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (3, 1)],
    "stride-2 stem, then 5x5 convs": [(3, 2), (5, 1), (5, 2), (5, 1)],
}


def _receptive_field(layers) -> int:
    """Reference: r ← r + (k − 1)·j, j ← j·s over the stack, from r = j = 1."""
    r, j = 1, 1
    for k, s in layers:
        r += (k - 1) * j
        j *= s
    return r


def check_receptive_field(receptive_field) -> None:
    """Check ``receptive_field(layers) -> int`` for stacks of ``(kernel, stride)`` convolutions/poolings."""
    for name, layers in _RF_CASES.items():
        want = _receptive_field(layers)
        got = receptive_field(list(layers))
        if isinstance(got, float) and got.is_integer():
            got = int(got)
        if not isinstance(got, int):
            raise AssertionError(f"receptive_field should return an int (pixels); for {name} it returned {got!r}")
        if got != want:
            no_stride = _receptive_field([(k, 1) for k, _ in layers])
            hint = (" You ignored the strides: after a stride-s layer, one more pixel of kernel reaches s pixels "
                    "further in the input." if got == no_stride else "")
            raise AssertionError(
                f"{name} {layers}: you returned {got}, the receptive field is {want} pixels.{hint} "
                "Track the jump j (input pixels between neighbouring outputs): each layer adds (k − 1)·j, then j *= s."
            )
    print(f"Correct: receptive fields of {len(_RF_CASES)} stacks, up to {_receptive_field(_RF_CASES['VGG16 up to relu5_3'])} "
          "pixels for VGG16's relu5_3.")


# --- 04 Gram matrices and style -------------------------------------------------------


def _features_for_check(seed: int = 0):
    """Non-negative "features" (N=2, C=5, H=3, W=4) for the 04 checks: batch > 1, H ≠ W."""
    import torch

    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 5, 3, 4, generator=g).relu()


_GRAM_DIVISORS = {
    "no divisor": lambda n, c, h, w: 1,
    "÷H·W": lambda n, c, h, w: h * w,
    "÷C·H·W": lambda n, c, h, w: c * h * w,
    "÷N·C·H·W": lambda n, c, h, w: n * c * h * w,
}


def gram_reference(f, divisor: str = "÷C·H·W"):
    """Reference Gram matrix ``F Fᵀ / divisor`` per image of features ``f`` (N, C, H, W) → (N, C, C).

    Args:
        f: features (N, C, H, W).
        divisor: ``"no divisor"``, ``"÷H·W"``, ``"÷C·H·W"`` (percepkit's convention) or
            ``"÷N·C·H·W"`` (the PyTorch neural-style tutorial's, N being the batch size).
    """
    n, c, h, w = f.shape
    m = f.float().reshape(n, c, h * w)
    return m @ m.transpose(1, 2) / _GRAM_DIVISORS[divisor](n, c, h, w)


def _check_gram(fn, divisor: str, name: str) -> None:
    import torch

    f = _features_for_check()
    n, c, h, w = f.shape
    got = fn(f.clone())
    if not isinstance(got, torch.Tensor):
        raise AssertionError(f"{name} should return a torch.Tensor of shape (N, C, C); it returned {type(got).__name__}")
    if tuple(got.shape) != (n, c, c):
        raise AssertionError(
            f"{name} should return shape (N, C, C) = {(n, c, c)} for features of shape (N, C, H, W) = {(n, c, h, w)}; "
            f"got {tuple(got.shape)}. Flatten H and W into one axis of positions and keep N as the batch axis."
        )
    got = got.detach().float()
    if torch.allclose(got, gram_reference(f, divisor), rtol=1e-4, atol=1e-7):
        print(f"Correct: {name} computes F Fᵀ {divisor} for every image of the batch.")
        return
    for other in _GRAM_DIVISORS:
        if other != divisor and torch.allclose(got, gram_reference(f, other), rtol=1e-4, atol=1e-7):
            raise AssertionError(f"{name} computes F Fᵀ with {other}; this exercise asks for {divisor}")
    if not torch.allclose(got, got.transpose(1, 2), rtol=1e-4, atol=1e-7):
        raise AssertionError(f"{name} is not symmetric: a Gram matrix is F Fᵀ (channels × channels), summed over positions")
    raise AssertionError(
        f"{name} differs from F Fᵀ {divisor}: largest difference {float((got - gram_reference(f, divisor)).abs().max()):.3g}. "
        "G[n, i, j] should be the sum over positions of channel i times channel j, divided as asked."
    )


def check_gram_matrix(gram_fn) -> None:
    """Check ``gram_fn(f)``: the Gram matrix ``F Fᵀ / (C·H·W)`` of features (N, C, H, W) → (N, C, C)."""
    _check_gram(gram_fn, "÷C·H·W", "gram_fn")


def check_gram_hw(gram_hw_fn) -> None:
    """Check ``gram_hw_fn(f)``: Gatys' convention ``F Fᵀ / (H·W)`` (the mean over positions), (N, C, H, W) → (N, C, C)."""
    _check_gram(gram_hw_fn, "÷H·W", "gram_hw_fn")


def lambda_rescale_reference(lam: float, c: int, h: int, w: int) -> float:
    """Reference: style weight for ÷H·W Grams that gives the same weighted loss as ``lam`` with ÷C·H·W Grams."""
    return float(lam) / c**2


def check_lambda_rescale(rescale_fn) -> None:
    """Check ``rescale_fn(lam, c, h, w)``: the style weight to use with ÷H·W Grams so that the weighted
    style loss of a layer with C channels stays what ``lam`` gave with ÷C·H·W Grams."""
    import math

    for lam, c, h, w in [(1e3, 64, 32, 32), (0.5, 256, 8, 16), (2.0, 3, 5, 7)]:
        got = rescale_fn(lam, c, h, w)
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise AssertionError(f"rescale_fn should return a number; got {got!r}") from None
        want = lambda_rescale_reference(lam, c, h, w)
        if math.isclose(got, want, rel_tol=1e-6):
            continue
        hint = ""
        if math.isclose(got, lam / c, rel_tol=1e-6):
            hint = " The Gram grows by C, but the loss is a squared difference of Grams: it grows by C²."
        elif math.isclose(got, lam * c**2, rel_tol=1e-6):
            hint = " Wrong direction: ÷H·W Grams are C times larger, so the loss is larger and λ must shrink."
        elif math.isclose(got, lam / (h * w) ** 2, rel_tol=1e-6) or math.isclose(got, lam * (h * w) ** 2, rel_tol=1e-6):
            hint = " Both conventions divide by H·W; only the factor C differs between them."
        raise AssertionError(f"for lam={lam}, C={c}, H={h}, W={w} expected {want:.6g}; got {got:.6g}.{hint}")
    print("Correct: a ÷H·W Gram is C times a ÷C·H·W Gram, so its squared-difference loss is C² times larger and λ ÷ C².")

# --- 05 The combined objective --------------------------------------------------------


def raw_lambdas_reference(relative: dict, reference: dict) -> dict:
    """Reference solution: raw CombinedLoss weights ``λ_t / L_t(start)`` (0 stays 0), written out here
    (not :func:`percepkit.relative_to_raw`, which this exercise's check must be able to catch)."""
    return {t: 0.0 if lam == 0 else lam / reference[t] for t, lam in relative.items()}


def check_raw_lambdas(raw_lambdas) -> None:
    """Check ``raw_lambdas(relative, reference) -> dict``: the weights to give CombinedLoss so that
    each term counts ``relative[t]`` times its value at the start (``reference[t]``)."""
    import math

    cases = [
        ({"pix": 1.0, "perc": 1.0, "style": 0.0, "adv": 2.0}, {"pix": 0.0106, "perc": 3779.1, "style": 414.4, "adv": 0.55}),
        ({"pix": 0.5, "perc": 4.0, "style": 1.0, "adv": 0.0}, {"pix": 0.02, "perc": 0.9, "style": 3e-5, "adv": 0.69}),
    ]
    for relative, reference in cases:
        got = raw_lambdas(dict(relative), dict(reference))
        if not isinstance(got, dict) or set(got) != set(relative):
            raise AssertionError(f"raw_lambdas should return a dict with keys {sorted(relative)}; got {got!r}")
        want = raw_lambdas_reference(relative, reference)
        for t in relative:
            g, w = float(got[t]), want[t]
            if w == 0 and g != 0:
                raise AssertionError(f"λ_{t} is 0 (term off), so its raw weight must stay 0; got {g:g}")
            if not math.isclose(g, w, rel_tol=1e-6, abs_tol=1e-12):
                hint = " (multiplied by the reference instead of dividing?)" if math.isclose(
                    g, relative[t] * reference[t], rel_tol=1e-6) else ""
                raise AssertionError(f"λ_{t}: relative {relative[t]:g}, reference {reference[t]:g} → expected raw "
                                     f"{w:.6g}, got {g:.6g}{hint}")
    print("correct: raw λ = relative λ ÷ the term's value at the start, so λ = 1 means the same on every backbone")


def pareto_front_reference(points) -> list:
    """Reference solution: indices of points (psnr, distance) not dominated by any other, sorted by distance."""
    pts = [(float(p), float(d)) for p, d in points]
    front = [i for i, (p, d) in enumerate(pts)
             if not any((q >= p and e <= d) and (q > p or e < d) for j, (q, e) in enumerate(pts) if j != i)]
    return sorted(front, key=lambda i: (pts[i][1], -pts[i][0]))


def check_pareto_front(pareto_front) -> None:
    """Check ``pareto_front(points) -> list[int]``: the indices of the (psnr, perceptual distance)
    points that no other point beats on both axes (higher PSNR *and* lower distance), sorted by
    increasing distance."""
    cases = [
        [(19.0, 0.84), (18.7, 0.79), (18.9, 0.80), (18.5, 0.85), (19.1, 0.83), (17.0, 1.2)],
        [(26.2, 0.78), (25.7, 0.70), (26.3, 0.73), (26.3, 0.73), (20.0, 0.69)],
    ]
    for pts in cases:
        got = pareto_front(list(pts))
        want = pareto_front_reference(pts)
        try:
            got = [int(i) for i in got]
        except TypeError:
            raise AssertionError(f"pareto_front should return a list of indices; got {got!r}") from None
        if sorted(got) != sorted(want):
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            raise AssertionError(f"for points {pts}: expected indices {want}; missing {missing} "
                                 f"(nothing beats them on both axes), extra {extra} (another point is at least as "
                                 "good on both axes and better on one)")
        if got != want:
            raise AssertionError(f"right indices {sorted(want)}, but sort them by increasing perceptual distance: {want}")
    print("correct: these settings are the perception–distortion trade-off; every other one wastes something")
