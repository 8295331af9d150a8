"""Automatic checks for the notebooks' exercises.

Each ``check_*`` function takes the learner's answer, compares it with a reference
computed here, and either prints a short "correct" message or raises ``AssertionError``
saying what is off. Each section belongs to one notebook; the reference solutions live
next to the checks so the notebooks can show them (and CI can run them).
"""

from __future__ import annotations

__all__: list[str] = []
__all__ += ["check_l2_optimum", "check_l1_optimum"]  # 01
__all__ += ["check_feature_distance"]  # 02
__all__ += ["check_receptive_field"]  # 03
__all__ += ["check_gram_matrix", "check_gram_hw", "check_lambda_rescale", "gram_reference", "lambda_rescale_reference"]  # 04
__all__ += ["check_feature_extractor", "check_preprocess", "preprocess_reference"]  # 06
__all__ += ["check_raw_lambdas", "check_pareto_front", "raw_lambdas_reference", "pareto_front_reference"]  # 05
__all__ += ["check_blend_state"]  # 08
__all__ += ["check_two_afc", "two_afc_reference"]  # 09
__all__ += ["check_seed_fix"]  # 07

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


# --- 06 Pitfalls and the choice of network --------------------------------------------


def _inplace_vgg_block(seed: int = 0):
    """The start of torchvision's ``vgg19().features``, scaled down: conv, ReLU(inplace), conv, ReLU(inplace), pool."""
    import torch
    import torch.nn as nn

    with torch.random.fork_rng(devices=[]):  # seeded weights; the learner's random stream is untouched
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
        ).eval()


def check_feature_extractor(extract_fn) -> None:
    """Check ``extract_fn(features, x, indices) -> {index: tensor}``: the output of each module index of a
    Sequential with in-place ReLUs, where a conv index must keep its pre-activation (negative) values."""
    import torch

    features = _inplace_vgg_block()
    x = torch.rand(2, 3, 12, 12, generator=torch.Generator().manual_seed(1))
    indices = [0, 1, 2, 4]
    want, h = {}, x
    with torch.no_grad():
        for i, m in enumerate(features):
            h = m(h.clone())
            if i in indices:
                want[i] = h.clone()
    got = extract_fn(features, x.clone(), list(indices))
    if not isinstance(got, dict) or sorted(got) != indices:
        keys = sorted(got) if isinstance(got, dict) else type(got).__name__
        raise AssertionError(f"extract_fn should return a dict {{index: tensor}} with keys {indices}; got {keys}")
    for i in indices:
        g = got[i]
        if not isinstance(g, torch.Tensor) or g.shape != want[i].shape:
            raise AssertionError(f"index {i}: expected a tensor of shape {tuple(want[i].shape)}; got {getattr(g, 'shape', g)!r}")
        g = g.detach()
        if torch.allclose(g, want[i], atol=1e-5):
            continue
        kind = type(features[i]).__name__
        if want[i].min() < 0 and g.min() >= 0:
            raise AssertionError(
                f"index {i} ({kind}) has no negative values, but a conv output does: the in-place ReLU after it "
                "overwrote the tensor you stored. Store a copy (.clone()) or run the ReLUs with inplace=False."
            )
        diff = float((g - want[i]).abs().max())
        raise AssertionError(f"index {i} ({kind}): values differ from the module's output (max diff {diff:.3g})")
    print("Correct: every stored output is what its module produced; conv outputs keep their negative values.")


def preprocess_reference(x, normalization: str):
    """Reference: [0, 1] RGB (N, 3, H, W) → what the first conv of a backbone expects.

    ``"imagenet"``: ``(x − mean) / std`` with ImageNet's mean (0.485, 0.456, 0.406) and std
    (0.229, 0.224, 0.225), RGB order. ``"caffe"``: BGR order, 0–255 scale, minus the BGR
    mean pixel of the original VGG release (103.939, 116.779, 123.68), no division — what the
    default ``vgg19-caffe`` expects (HED subtracts its own BSDS mean, at most 1 grey level away).
    """
    import torch

    if normalization == "imagenet":
        mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
        std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
        return (x - mean) / std
    if normalization == "caffe":
        mean_bgr = torch.tensor((103.939, 116.779, 123.68)).view(1, 3, 1, 1)
        return x.flip(1) * 255 - mean_bgr
    raise ValueError(f"expected normalization 'imagenet' or 'caffe'; got {normalization!r}")


def check_preprocess(preprocess_fn) -> None:
    """Check ``preprocess_fn(x, normalization)`` for ``"imagenet"`` and ``"caffe"`` against :func:`preprocess_reference`."""
    import torch

    x = torch.rand(2, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    x[:, 0] *= 0.3  # make R and B differ, so a missing channel swap shows
    for norm in ("imagenet", "caffe"):
        got = preprocess_fn(x.clone(), norm)
        want = preprocess_reference(x, norm)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            raise AssertionError(f"{norm}: expected a tensor of shape {tuple(want.shape)}; got {getattr(got, 'shape', got)!r}")
        got = got.detach().float()
        if torch.allclose(got, want, rtol=1e-4, atol=1e-3):
            continue
        hints = {
            "the channel order is wrong (RGB vs BGR)": preprocess_reference(x.flip(1), norm),
            "the scale is wrong (0–255 vs [0, 1])": preprocess_reference(x / 255 if norm == "caffe" else x * 255, norm),
            "the image went in without any normalisation": x,
        }
        for why, bad in hints.items():
            if torch.allclose(got, bad, rtol=1e-4, atol=1e-3):
                raise AssertionError(f"{norm}: {why}")
        raise AssertionError(f"{norm}: values differ from the expected input (max diff {float((got - want).abs().max()):.3g}); "
                             "see preprocess_reference's docstring for the two conventions")
    print("Correct: ImageNet = (x − mean) / std in RGB; Caffe = BGR, ×255, minus the mean.")


# --- 08 Real networks ----------------------------------------------------------------


def _blend_case():
    """Two hand-made state dicts shaped like a conv + BatchNorm layer, with their blends at α = 0.25 written out."""
    import torch

    a = {"conv.weight": torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), "conv.bias": torch.tensor([0.0]),
         "bn.running_mean": torch.tensor([1.0]), "bn.running_var": torch.tensor([4.0]),
         "bn.num_batches_tracked": torch.tensor(7)}
    b = {"conv.weight": torch.tensor([[[[5.0, 2.0], [-1.0, 0.0]]]]), "conv.bias": torch.tensor([8.0]),
         "bn.running_mean": torch.tensor([5.0]), "bn.running_var": torch.tensor([0.0]),
         "bn.num_batches_tracked": torch.tensor(9)}
    want = {"conv.weight": torch.tensor([[[[2.0, 2.0], [2.0, 3.0]]]]), "conv.bias": torch.tensor([2.0]),
            "bn.running_mean": torch.tensor([2.0]), "bn.running_var": torch.tensor([3.0]),
            "bn.num_batches_tracked": torch.tensor(7)}
    return a, b, want


def check_blend_state(blend_state) -> None:
    """Check ``blend_state(a, b, alpha) -> dict``: network interpolation of two state dicts,
    ``(1 − alpha)·a + alpha·b`` for every floating-point tensor (BatchNorm's running statistics
    included), integer counters copied from ``a``, and ``a`` and ``b`` left unchanged."""
    import torch

    a, b, want = _blend_case()
    a0 = {k: v.clone() for k, v in a.items()}
    b0 = {k: v.clone() for k, v in b.items()}
    got = blend_state(a, b, 0.25)
    if not isinstance(got, dict):
        raise AssertionError(f"blend_state should return a dict name → tensor (a state dict); it returned "
                             f"{type(got).__name__}")
    if set(got) != set(want):
        raise AssertionError(f"the blend should have every tensor of a: missing {sorted(set(want) - set(got))}, "
                             f"extra {sorted(set(got) - set(want))}")
    if any(not torch.equal(a[k], a0[k]) for k in a) or any(not torch.equal(b[k], b0[k]) for k in b):
        raise AssertionError("blend_state changed its inputs in place (e.g. with .mul_ or .lerp_): build new tensors")
    if torch.allclose(got["conv.weight"].float(), (0.75 * b["conv.weight"] + 0.25 * a["conv.weight"])):
        raise AssertionError("alpha runs the wrong way: alpha = 0 must give a (the MSE network), alpha = 1 gives b")
    for k in ("bn.running_mean", "bn.running_var"):
        if torch.equal(got[k], a[k]):
            raise AssertionError(f"{k} was copied from a, not blended: BatchNorm's running statistics are part of "
                                 "the network (buffers), so blend every floating-point tensor of the state dict")
    if torch.is_floating_point(got["bn.num_batches_tracked"]) or not torch.equal(got["bn.num_batches_tracked"],
                                                                                 want["bn.num_batches_tracked"]):
        raise AssertionError("bn.num_batches_tracked is an integer counter, not a weight: copy a's, do not blend it "
                             f"(got {got['bn.num_batches_tracked']})")
    for k in want:
        if got[k].shape != want[k].shape or not torch.allclose(got[k].float(), want[k].float()):
            raise AssertionError(f"{k}: expected {want[k].tolist()} at alpha = 0.25, got {got[k].tolist()}")
    print("Correct: every floating-point tensor blended as (1 − α)·a + α·b, counters kept, inputs untouched.")


# --- 09 Your own eyes -----------------------------------------------------------------


def two_afc_reference(d_a, d_b, p_a) -> float:
    """Reference 2AFC agreement: the mean over triplets of p_a where d_a < d_b, 1 − p_a where d_a > d_b,
    and ½ where d_a == d_b (the metric cannot choose)."""
    import numpy as np

    d_a, d_b, p_a = (np.asarray(v, dtype=float) for v in (d_a, d_b, p_a))
    return float(np.mean(np.where(d_a < d_b, p_a, np.where(d_a > d_b, 1 - p_a, 0.5))))


#: (distances to A, distances to B, fraction of answers that chose A): small cases the check uses.
_TWO_AFC_CASES = [
    ([0.1, 0.5, 0.2, 0.3], [0.2, 0.4, 0.2, 0.9], [1.0, 0.0, 0.0, 1.0]),       # one observer, a tie
    ([1.0, 2.0, 3.0, 0.5, 0.5], [2.0, 1.0, 1.0, 0.7, 0.5], [0.75, 0.6, 0.1, 0.3, 0.9]),  # a class's fractions
    ([5.0, 1.0, 2.0], [4.0, 3.0, 2.5], [0.2, 0.9, 0.5]),
]


def check_two_afc(two_afc) -> None:
    """Check ``two_afc(d_a, d_b, p_a) -> float``: the 2AFC agreement of a metric with answers.

    ``d_a``, ``d_b``: the metric's distances reference→A and reference→B per triplet; ``p_a``: the
    fraction of answers that chose A. The metric "chooses" the candidate it puts closer.
    """
    import math

    import numpy as np

    for d_a, d_b, p_a in _TWO_AFC_CASES:
        want = two_afc_reference(d_a, d_b, p_a)
        got = two_afc(np.array(d_a), np.array(d_b), np.array(p_a))
        if isinstance(got, np.ndarray) and got.size > 1:
            raise AssertionError(f"two_afc should return one number (the mean over triplets); it returned an array of "
                                 f"shape {got.shape}")
        if isinstance(got, (str, bytes)) or not np.isscalar(np.asarray(got).item() if np.size(got) == 1 else got):
            raise AssertionError(f"two_afc should return a float; it returned {type(got).__name__}")
        got = float(np.asarray(got).item())  # float() of a 1-element array is a TypeError in NumPy 2
        if math.isclose(got, want, abs_tol=1e-6):
            continue
        case = f"for d_a={d_a}, d_b={d_b}, p_a={p_a}"
        d_a_, d_b_, p_ = (np.asarray(v, dtype=float) for v in (d_a, d_b, p_a))
        majority = np.where(p_ > 0.5, 1.0, np.where(p_ < 0.5, 0.0, 0.5))
        if math.isclose(got, 100 * want, rel_tol=1e-9):
            hint = "You returned a percentage: return a fraction in [0, 1]."
        elif math.isclose(got, two_afc_reference(d_b, d_a, p_a), abs_tol=1e-6):
            hint = "You let the metric choose the candidate it puts *farther*: it chooses the one with the smaller distance."
        elif math.isclose(got, two_afc_reference(d_a, d_b, majority), abs_tol=1e-6):
            hint = "You used a majority vote: score with the fraction p_a itself (p_a if it chooses A, 1 − p_a if B)."
        elif (d_a_ == d_b_).any() and any(math.isclose(got, float(np.mean(np.where(d_a_ < d_b_, p_, np.where(
                d_a_ > d_b_, 1 - p_, tie)))), abs_tol=1e-6) for tie in (p_, 1 - p_)):
            hint = "Look at the tie (d_a == d_b): the metric cannot choose, so it gets half a point."
        else:
            hint = "Per triplet: p_a if d_a < d_b, 1 − p_a if d_a > d_b, ½ if equal; then the mean."
        raise AssertionError(f"{case}: expected {want:.4f}, got {got:.4f}. {hint}")
    print("Correct: 2AFC agreement = how often, on average, the metric chooses what the observers chose.")


# --- 07 Training with a perceptual loss -----------------------------------------------


def check_seed_fix(loss_class) -> None:
    """Check a corrected version of the seed's ``PerceptualLoss``: ``loss_class(vgg_features=...)`` must
    pass :func:`percepkit.doctor` and compare relu1_2, relu2_2 and relu3_4 (the layers the seed named)."""
    import torch
    from torchvision import models

    from .doctor import doctor

    with torch.random.fork_rng(devices=[]):  # seeded weights; the learner's random stream is untouched
        torch.manual_seed(0)
        features = models.vgg19(weights=None).features
    try:
        loss = loss_class(vgg_features=features)
    except TypeError as e:
        raise AssertionError(
            f"build it as loss_class(vgg_features=features), like pk.SeedPerceptualLoss; that failed: {e}") from e
    report = doctor(loss)
    hints = {
        "no-normalisation": "normalise inside forward: (x - mean) / std with the ImageNet mean and std, for both images",
        "expects-minus-one": "your normalisation assumes [-1, 1] input; the images here are in [0, 1]",
        "pre-activation-tap": "end each slice after the ReLU: range(prev, lid + 1), and start the next one at lid + 1",
        "inplace-at-tap": "set inplace=False on the ReLUs (for m in self.modules(): if isinstance(m, nn.ReLU): ...)",
        "target-autograd": "compute the target's features under torch.no_grad() (or detach them)",
        "trainable-parameters": "freeze the network: self.requires_grad_(False)",
        "train-mode": "call self.eval() at the end of __init__",
        "input-too-small": "this should not happen at 64 px: did you add deeper layers?",
    }
    if not report.ok:
        lines = [f"- {f.code}: {hints.get(f.code, f.message)}" for f in report]
        raise AssertionError("pk.doctor still finds:\n" + "\n".join(lines))
    if report.taps != ["relu1_2", "relu2_2", "relu3_4"]:
        raise AssertionError(
            f"the loss should compare relu1_2, relu2_2 and relu3_4 (indices 3, 8, 17); it compares {report.taps}")
    print("Correct: pk.doctor finds nothing, and the loss compares relu1_2, relu2_2 and relu3_4 of normalised inputs.")
