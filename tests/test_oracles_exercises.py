"""Every exercise check, tried with a right answer written here independently of the module's references
and with typical wrong answers, each with the verdict expected written out by hand (the references are
never the oracle of their own check)."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from percepkit import exercises as ex
from percepkit import exercises_01_05 as ex15

# --- 01 -------------------------------------------------------------------------------------------


def l2_by_hand(t):
    out = torch.zeros(1, *t.shape[1:])
    for k in range(t.shape[0]):
        out += t[k:k + 1]
    return out / t.shape[0]


def l1_upper_middle(t):  # for even K any value between the two middle ones is optimal: take the upper one
    s = t.sort(0).values
    return s[t.shape[0] // 2:t.shape[0] // 2 + 1]


def test_01_right_answers_pass(capsys):
    ex.check_l2_optimum(l2_by_hand)
    ex.check_l1_optimum(lambda t: t.sort(0).values[(t.shape[0] - 1) // 2:(t.shape[0] - 1) // 2 + 1])
    ex.check_l1_optimum(l1_upper_middle)
    ex.check_l1_optimum(lambda t: t.sort(0).values[1:3].mean(0, keepdim=True) if t.shape[0] == 4 else t.median(0, True).values)
    assert capsys.readouterr().out.count("Correct") == 4


@pytest.mark.parametrize(("check", "wrong", "verdict"), [
    (ex.check_l2_optimum, lambda t: t.median(0, keepdim=True).values, "not the L2 optimum"),
    (ex.check_l2_optimum, lambda t: t[:1], "not the L2 optimum"),  # the first target only
    (ex.check_l2_optimum, lambda t: t.mean(0), r"keepdim=True"),  # lost the batch axis
    (ex.check_l2_optimum, lambda t: t.mean(0, keepdim=True).numpy(), "torch.Tensor"),
    (ex.check_l2_optimum, lambda t: t.mean(0, keepdim=True) + 1e-3, "not the L2 optimum"),
    (ex.check_l1_optimum, lambda t: t.mean(0, keepdim=True), "it is the pixel-wise mean"),
    (ex.check_l1_optimum, lambda t: t.max(0, keepdim=True).values, "reachable"),
    (ex.check_l1_optimum, lambda t: t.sort(0).values[:1], "reachable"),  # the minimum, not the median
    # "no middle value for even K, so take the mean": 0.0066 worse than the optimum at K = 4, a near miss
    (ex.check_l1_optimum, lambda t: t.median(0, keepdim=True).values if len(t) % 2 else t.mean(0, keepdim=True),
     "it is the pixel-wise mean"),
])
def test_01_wrong_answers_are_named(check, wrong, verdict):
    with pytest.raises(AssertionError, match=verdict):
        check(wrong)


# --- 02 -------------------------------------------------------------------------------------------


def test_02_feature_distance(rand19, capsys):
    def right(bb, x, y, layer):
        fx, fy = bb(x, [layer])[layer], bb(y, [layer])[layer]
        return ((fx - fy) ** 2).sum() / fx.numel()

    ex.check_feature_distance(right, rand19)
    ex.check_feature_distance(lambda bb, x, y, l: float(right(bb, x, y, l)), rand19)
    assert "Correct" in capsys.readouterr().out
    wrongs = [
        (lambda bb, x, y, l: ((bb(x, [l])[l] - bb(y, [l])[l]) ** 2).sum(), "C·H·W times too large"),
        (lambda bb, x, y, l: right(bb, x, y, l).sqrt(), "square root"),
        (lambda bb, x, y, l: ((bb(x, [l])[l] - bb(y, [l])[l]) ** 2).mean(dim=(1, 2, 3)).expand(2), "one number"),
        (lambda bb, x, y, l: 1, "float or a scalar tensor"),
        (lambda bb, x, y, l: right(bb, x, y, bb.default_layers[0]), "expected"),  # always the shallowest layer
        (lambda bb, x, y, l: F.mse_loss(x, y), "expected"),  # pixels, not features
    ]
    for wrong, verdict in wrongs:
        with pytest.raises(AssertionError, match=verdict):
            ex.check_feature_distance(wrong, rand19)


# --- 03 -------------------------------------------------------------------------------------------


def rf_by_hand(layers):
    """Backwards from one output pixel: the span grows to (span − 1)·s + k at each layer."""
    span = 1
    for k, s in reversed(layers):
        span = (span - 1) * s + k
    return span


def test_03_receptive_field(capsys):
    assert rf_by_hand([(3, 1), (2, 2), (3, 1)]) == 8 and rf_by_hand([(7, 2)]) == 7  # written out
    ex.check_receptive_field(rf_by_hand)
    ex.check_receptive_field(lambda layers: float(rf_by_hand(layers)))  # 5.0 is accepted as 5
    assert capsys.readouterr().out.count("Correct") == 2
    wrongs = [
        (lambda layers: 1 + sum(k - 1 for k, _ in layers), "ignored the strides"),
        (lambda layers: int(np.prod([k for k, _ in layers])), "the receptive field is"),
        (lambda layers: rf_by_hand(layers) + 1, "the receptive field is"),
        (lambda layers: str(rf_by_hand(layers)), "should return an int"),
        (lambda layers: rf_by_hand(layers) + 0.5, "should return an int"),
    ]
    for wrong, verdict in wrongs:
        with pytest.raises(AssertionError, match=verdict):
            ex.check_receptive_field(wrong)


# --- 04 -------------------------------------------------------------------------------------------


def gram_loops(f, divide_by_c=True):
    n, c, h, w = f.shape
    g = torch.zeros(n, c, c)
    for b in range(n):
        for i in range(c):
            for j in range(c):
                g[b, i, j] = (f[b, i] * f[b, j]).sum()
    return g / (c * h * w if divide_by_c else h * w)


def test_04_gram_checks(capsys):
    ex.check_gram_matrix(gram_loops)
    ex.check_gram_hw(lambda f: gram_loops(f, divide_by_c=False))
    assert capsys.readouterr().out.count("Correct") == 2
    wrongs = [
        (ex.check_gram_matrix, lambda f: gram_loops(f[:1]).expand(f.shape[0], -1, -1), "differs"),  # first image for all
        (ex.check_gram_matrix, lambda f: gram_loops(f)[:1], "shape"),
        (ex.check_gram_matrix, lambda f: gram_loops(f).mean(0, keepdim=True).expand(f.shape[0], -1, -1), "differs"),
        (ex.check_gram_matrix, lambda f: gram_loops(f, divide_by_c=False), "÷H·W"),
        (ex.check_gram_hw, lambda f: gram_loops(f), "÷C·H·W"),
        (ex.check_gram_hw, lambda f: gram_loops(f, False) / f.shape[0], "÷N·C·H·W|differs"),
        (ex.check_gram_matrix, lambda f: torch.einsum("nchw,ndwh->ncd", f[..., :3, :3], f[..., :3, :3]) / 45,
         "differs|symmetric"),
        (ex.check_gram_matrix, lambda f: gram_loops(f).tolist(), "torch.Tensor"),
    ]
    for check, wrong, verdict in wrongs:
        with pytest.raises(AssertionError, match=verdict):
            check(wrong)


def test_04_lambda_rescale(capsys):
    # a ÷H·W Gram is C times a ÷C·H·W one; a squared difference of Grams grows by C²: λ ÷ C², written out
    ex.check_lambda_rescale(lambda lam, c, h, w: lam * (1 / c) ** 2)
    assert "Correct" in capsys.readouterr().out
    for wrong, verdict in [(lambda lam, c, h, w: lam / c, "grows by C²"), (lambda lam, c, h, w: lam * c * c, "Wrong direction"),
                           (lambda lam, c, h, w: lam * (h * w) ** 2, "only the factor C"),
                           (lambda lam, c, h, w: lam / c**2 * 1.001, "expected"), (lambda lam, c, h, w: None, "number")]:
        with pytest.raises(AssertionError, match=verdict):
            ex.check_lambda_rescale(wrong)


# --- 05 -------------------------------------------------------------------------------------------


def test_05_raw_lambdas(capsys):
    def right(rel, ref):
        out = {}
        for t, v in rel.items():
            out[t] = 0.0 if v == 0 else v / ref[t]
        return out

    ex.check_raw_lambdas(right)
    assert "correct" in capsys.readouterr().out
    wrongs = [
        (lambda rel, ref: {t: v * ref[t] for t, v in rel.items()}, "multiplied by the reference"),
        (lambda rel, ref: {t: (v or 1.0) / ref[t] for t, v in rel.items()}, "must stay 0"),
        (lambda rel, ref: {t: v / ref[t] for t, v in rel.items() if v}, "dict with keys"),
        (lambda rel, ref: {t: v / ref[t] * 2 for t, v in rel.items()}, "expected raw"),
        (lambda rel, ref: {t: v for t, v in rel.items()}, "expected raw"),  # λ not divided out
        (lambda rel, ref: [v / ref[t] for t, v in rel.items()], "dict with keys"),
    ]
    for wrong, verdict in wrongs:
        with pytest.raises(AssertionError, match=verdict):
            ex.check_raw_lambdas(wrong)


def pareto_brute_force(points):
    keep = []
    for i, (p, d) in enumerate(points):
        beaten = any(q >= p and e <= d and (q, e) != (p, d) for j, (q, e) in enumerate(points) if j != i)
        if not beaten:
            keep.append(i)
    return sorted(keep, key=lambda i: (points[i][1], -points[i][0]))


def test_05_pareto_front(capsys):
    # the first case, written out: (18.7, .79), (18.9, .80), (19.1, .83) survive; (19.0, .84) is beaten by (19.1, .83)
    assert pareto_brute_force([(19.0, 0.84), (18.7, 0.79), (18.9, 0.80), (18.5, 0.85), (19.1, 0.83), (17.0, 1.2)]) == [1, 2, 4]
    ex.check_pareto_front(pareto_brute_force)
    assert "correct" in capsys.readouterr().out

    def dedup(points):  # drops one of two identical points: both are on the front
        seen, out = set(), []
        for i in pareto_brute_force(points):
            if tuple(points[i]) not in seen:
                seen.add(tuple(points[i]))
                out.append(i)
        return out

    wrongs = [
        (lambda pts: sorted(pareto_brute_force(pts), key=lambda i: -pts[i][1]), "sort them by increasing"),
        (lambda pts: list(range(len(pts))), "extra"),
        (dedup, "missing"),
        (lambda pts: [max(range(len(pts)), key=lambda i: pts[i][0])], "missing"),  # the best PSNR only
        (lambda pts: None, "list of indices"),
    ]
    for wrong, verdict in wrongs:
        with pytest.raises(AssertionError, match=verdict):
            ex.check_pareto_front(wrong)


# --- 06 -------------------------------------------------------------------------------------------


def test_06_feature_extractor(capsys):
    def right(features, x, indices):
        out, h = {}, x
        for i, m in enumerate(features):
            h = m(h)
            if i in indices:
                out[i] = h.clone()
        return out

    def no_clone(features, x, indices):  # the classic bug: the in-place ReLU overwrites the stored conv output
        out, h = {}, x
        for i, m in enumerate(features):
            h = m(h)
            if i in indices:
                out[i] = h
        return out

    with torch.no_grad():
        ex.check_feature_extractor(right)
    assert "Correct" in capsys.readouterr().out
    wrongs = [
        (no_clone, "in-place ReLU"),
        (lambda f, x, idx: {i: v for i, v in right(f, x, idx).items() if i != 4}, "with keys"),
        (lambda f, x, idx: {i: v[:1] for i, v in right(f, x, idx).items()}, "shape"),  # first image only
        (lambda f, x, idx: {i: right(f, x, [j + 1 for j in idx]).get(i + 1, v) for i, v in right(f, x, idx).items()},
         "differ|in-place"),  # off by one module
        (lambda f, x, idx: list(right(f, x, idx).values()), "dict"),
    ]
    for wrong, verdict in wrongs:
        with torch.no_grad(), pytest.raises(AssertionError, match=verdict):
            ex.check_feature_extractor(wrong)


def test_06_preprocess(capsys):
    def right(x, norm):
        if norm == "imagenet":
            return torch.stack([(x[:, 0] - 0.485) / 0.229, (x[:, 1] - 0.456) / 0.224, (x[:, 2] - 0.406) / 0.225], 1)
        return torch.stack([x[:, 2] * 255 - 103.939, x[:, 1] * 255 - 116.779, x[:, 0] * 255 - 123.68], 1)

    ex.check_preprocess(right)
    assert "Correct" in capsys.readouterr().out
    wrongs = [
        (lambda x, n: right(x, n) if n == "imagenet" else right(x.flip(1), n), "caffe: the channel order"),
        (lambda x, n: right(x.flip(1), n) if n == "imagenet" else right(x, n), "imagenet: the channel order"),
        (lambda x, n: right(x, n) if n == "imagenet" else right(x / 255, n), "caffe: the scale"),
        (lambda x, n: x, "imagenet: the image went in without any normalisation"),
        (lambda x, n: right(x, "imagenet"), "caffe: values differ"),  # ImageNet's recipe for both
        (lambda x, n: right(x, n)[:1], "shape"),
    ]
    for wrong, verdict in wrongs:
        with pytest.raises(AssertionError, match=verdict):
            ex.check_preprocess(wrong)


# --- 08 -------------------------------------------------------------------------------------------


def two_afc_loop(d_a, d_b, p_a):
    total = 0.0
    for a, b, p in zip(d_a, d_b, p_a):
        total += p if a < b else (1 - p if a > b else 0.5)
    return total / len(p_a)


def test_08_two_afc_cases_written_out(capsys):
    # the first case by hand: A closer (p 1 → 1), B closer (p 0 → 1), tie (→ ½), A closer (p 1 → 1): 3.5 / 4
    assert two_afc_loop([0.1, 0.5, 0.2, 0.3], [0.2, 0.4, 0.2, 0.9], [1.0, 0.0, 0.0, 1.0]) == pytest.approx(0.875)
    ex.check_two_afc(two_afc_loop)
    ex.check_two_afc(lambda a, b, p: np.float32(two_afc_loop(a, b, p)))  # a float32 NumPy scalar is a number

    def in_torch(a, b, p):  # what a learner writes with torch tensors: float32 arithmetic
        a, b, p = (torch.tensor(v, dtype=torch.float32) for v in (a, b, p))
        return torch.where(a < b, p, torch.where(a > b, 1 - p, torch.tensor(0.5))).mean().item()

    ex.check_two_afc(in_torch)
    assert capsys.readouterr().out.count("Correct") == 3
    wrongs = [
        (lambda a, b, p: two_afc_loop(b, a, p), "farther"),
        (lambda a, b, p: two_afc_loop(a, b, [1.0 if q > 0.5 else 0.0 if q < 0.5 else 0.5 for q in p]), "majority vote"),
        (lambda a, b, p: two_afc_loop(a, b, p) * 100, "percentage"),
        (lambda a, b, p: np.mean([q if x <= y else 1 - q for x, y, q in zip(a, b, p)]), "tie"),  # a tie counted as A
        (lambda a, b, p: np.mean([q if x < y else 1 - q for x, y, q in zip(a, b, p)]), "tie"),  # a tie counted as B
        (lambda a, b, p: two_afc_loop(a[:-1], b[:-1], p[:-1]), "expected"),  # drops a triplet
        (lambda a, b, p: np.array([two_afc_loop(a, b, p)] * 2), "one number"),
    ]
    for wrong, verdict in wrongs:
        with pytest.raises(AssertionError, match=verdict):
            ex.check_two_afc(wrong)


def test_the_grading_references_against_independent_answers():
    # each reference the notebooks show, checked against this file's own answers (never against its own check)
    f = torch.rand(3, 4, 5, 6)
    assert torch.allclose(ex.gram_reference(f), gram_loops(f), rtol=1e-5)
    assert torch.allclose(ex.gram_reference(f, "÷H·W"), gram_loops(f, False), rtol=1e-5)
    assert torch.allclose(ex.gram_reference(f, "÷N·C·H·W"), gram_loops(f) / 3, rtol=1e-5)
    assert ex.lambda_rescale_reference(1000.0, 64, 8, 8) == pytest.approx(1000 / 4096)
    assert ex.raw_lambdas_reference({"pix": 2.0, "perc": 0.0}, {"pix": 0.5}) == {"pix": 4.0, "perc": 0.0}
    for pts in ([(19.0, 0.84), (18.7, 0.79), (19.1, 0.83)], [(1, 1), (1, 1), (2, 0.5), (0, 2)]):
        assert ex.pareto_front_reference(pts) == pareto_brute_force(pts)
    x = torch.rand(2, 3, 4, 5)
    assert torch.allclose(ex.preprocess_reference(x, "caffe")[:, 0], x[:, 2] * 255 - 103.939)
    with pytest.raises(ValueError, match="normalization"):
        ex.preprocess_reference(x, "bgr")
    rng = np.random.default_rng(0)
    for _ in range(5):
        a, b, p = rng.integers(0, 3, 7).astype(float), rng.integers(0, 3, 7).astype(float), rng.random(7)
        assert ex.two_afc_reference(a, b, p) == pytest.approx(two_afc_loop(a, b, p))
    for layers in ex15._RF_CASES.values():
        assert ex15._receptive_field(layers) == rf_by_hand(layers)
    assert ex15._receptive_field(ex15._RF_CASES["VGG16 up to relu5_3"]) == 196
    assert list(itertools.chain(*[[k] for k in ex15._GRAM_DIVISORS])) == ["no divisor", "÷H·W", "÷C·H·W", "÷N·C·H·W"]
