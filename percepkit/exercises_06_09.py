"""Automatic checks for the exercises of notebooks 06-09 (a learner calls them as ``pk.exercises.check_*``).

Each ``check_*`` function takes the learner's answer, compares it with a reference computed here, and
either prints a short "correct" message or raises ``AssertionError`` saying what is off. Each section
belongs to one notebook; the reference solutions live next to the checks so the notebooks can show them
(and CI can run them).
"""

from __future__ import annotations

__all__: list[str] = []
__all__ += ["check_feature_extractor", "check_preprocess", "preprocess_reference"]  # 06
__all__ += ["check_seed_fix"]  # 07
__all__ += ["check_blend_state"]  # 08
__all__ += ["check_two_afc", "two_afc_reference"]  # 09

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
