"""The exercise checks' messages, whole: what a learner reads is the product of these checks, so each
verdict is matched from its first word to its last (a message cut short, wrapped or with its hint lost
fails), and each "Correct" line is printed as written here."""

import numpy as np
import pytest
import torch

from percepkit import exercises as ex
from percepkit import exercises_01_05 as ex15
from percepkit import exercises_06_09 as ex69

N = r"-?[0-9.]+(?:e[-+]?\d+)?"  # a number as the messages print it


def gram(f, by_c=True):
    n, c, h, w = f.shape
    m = f.reshape(n, c, h * w)
    return m @ m.transpose(1, 2) / (c * h * w if by_c else h * w)


def afc(a, b, p):
    return float(np.mean(np.where(a < b, p, np.where(a > b, 1 - p, 0.5))))


CORRECT = [
    (ex.check_l2_optimum, (lambda t: t.mean(0, keepdim=True),),
     "Correct: the L2 optimum of several targets is their pixel-wise mean."),
    (ex.check_l1_optimum, (lambda t: t.median(0, keepdim=True).values,),
     "Correct: the L1 optimum of several targets is a pixel-wise median (any value between the middle two when K is even)."),
    (ex.check_receptive_field, (ex15._receptive_field,),
     "Correct: receptive fields of 6 stacks, up to 196 pixels for VGG16's relu5_3."),
    (ex.check_gram_matrix, (gram,), "Correct: gram_fn computes F Fᵀ ÷C·H·W for every image of the batch."),
    (ex.check_gram_hw, (lambda f: gram(f, False),), "Correct: gram_hw_fn computes F Fᵀ ÷H·W for every image of the batch."),
    (ex.check_lambda_rescale, (lambda lam, c, h, w: lam / c**2,),
     "Correct: a ÷H·W Gram is C times a ÷C·H·W Gram, so its squared-difference loss is C² times larger and λ ÷ C²."),
    (ex.check_raw_lambdas, (lambda rel, ref: {t: v / ref[t] if v else 0.0 for t, v in rel.items()},),
     "correct: raw λ = relative λ ÷ the term's value at the start, so λ = 1 means the same on every backbone"),
    (ex.check_pareto_front, (ex.pareto_front_reference,),
     "correct: these settings are the perception–distortion trade-off; every other one wastes something"),
    (ex.check_preprocess, (ex.preprocess_reference,),
     "Correct: ImageNet = (x − mean) / std in RGB; Caffe = BGR, ×255, minus the mean."),
    (ex.check_two_afc, (afc,), "Correct: 2AFC agreement = how often, on average, the metric chooses what the observers chose."),
]


@pytest.mark.parametrize(("check", "args", "line"), CORRECT, ids=[c[0].__name__ for c in CORRECT])
def test_correct_lines(check, args, line, capsys):
    check(*args)
    assert capsys.readouterr().out == line + "\n"


def test_correct_line_of_the_feature_extractor_and_distance(rand19, capsys):
    def extract(features, x, indices):
        out, h = {}, x
        for i, m in enumerate(features):
            h = m(h)
            if i in indices:
                out[i] = h.clone()
        return out

    with torch.no_grad():
        ex.check_feature_extractor(extract)
    ex.check_feature_distance(lambda bb, x, y, l: torch.mean((bb(x, [l])[l] - bb(y, [l])[l]) ** 2), rand19)
    assert capsys.readouterr().out == (
        "Correct: every stored output is what its module produced; conv outputs keep their negative values.\n"
        "Correct: your feature distance matches mean((φ_l(x) − φ_l(y))²) on vgg19-random.\n")


MEAN = lambda t: t.mean(0, keepdim=True)  # noqa: E731
WRONG = [
    (ex.check_l2_optimum, lambda t: MEAN(t).numpy(),
     r"^l2_optimal_image should return a torch.Tensor of shape \(1, 3, H, W\); it returned ndarray$"),
    (ex.check_l2_optimum, lambda t: t.mean(0),
     r"^l2_optimal_image should return one image of shape \(1, 3, H, W\) for targets of shape \(K, 3, H, W\); for K=5 "
     r"targets of 8x8 it returned shape \(3, 8, 8\) \(keepdim=True keeps the batch axis\)$"),
    (ex.check_l2_optimum, lambda t: t.median(0, keepdim=True).values,
     rf"^for 5 targets your image is not the L2 optimum: its mean squared error to the targets is {N}, the optimum reaches "
     rf"{N} \(largest pixel difference {N}\)\. Set the derivative of Σ_k \(x − t_k\)² to zero and solve for x, "
     r"pixel by pixel\.$"),
    (ex.check_l1_optimum, MEAN,
     rf"^for 5 targets your image has mean absolute error {N}, but {N} is reachable \(it is the pixel-wise mean: that is the "
     r"L2 answer\)\. Which value makes as many targets lie above it as below it\?$"),
    (ex.check_l1_optimum, lambda t: t.max(0, keepdim=True).values,
     rf"^for 5 targets your image has mean absolute error {N}, but {N} is reachable\. Which value makes as many targets"),
    (ex.check_l1_optimum, lambda t: 1.0,
     r"^l1_optimal_image should return a torch.Tensor of shape \(1, 3, H, W\); it returned float$"),
    (ex.check_receptive_field, lambda layers: str(ex15._receptive_field(layers)),
     r"^receptive_field should return an int \(pixels\); for one 3x3 conv it returned '3'$"),
    (ex.check_receptive_field, lambda layers: 1 + sum(k - 1 for k, _ in layers),
     r"^conv, 2x2 pool, conv \[\(3, 1\), \(2, 2\), \(3, 1\)\]: you returned 6, the receptive field is 8 pixels\. You ignored the "
     r"strides: after a stride-s layer, one more pixel of kernel reaches s pixels further in the input\. Track the jump j "
     r"\(input pixels between neighbouring outputs\): each layer adds \(k − 1\)·j, then j \*= s\.$"),
    (ex.check_receptive_field, lambda layers: ex15._receptive_field(layers) + 1,
     r"^one 3x3 conv \[\(3, 1\)\]: you returned 4, the receptive field is 3 pixels\. Track the jump"),
    (ex.check_gram_matrix, lambda f: gram(f).tolist(),
     r"^gram_fn should return a torch.Tensor of shape \(N, C, C\); it returned list$"),
    (ex.check_gram_matrix, lambda f: gram(f)[:1],
     r"^gram_fn should return shape \(N, C, C\) = \(2, 5, 5\) for features of shape \(N, C, H, W\) = \(2, 5, 3, 4\); got "
     r"\(1, 5, 5\)\. Flatten H and W into one axis of positions and keep N as the batch axis\.$"),
    (ex.check_gram_matrix, lambda f: gram(f, False), r"^gram_fn computes F Fᵀ with ÷H·W; this exercise asks for ÷C·H·W$"),
    (ex.check_gram_hw, gram, r"^gram_hw_fn computes F Fᵀ with ÷C·H·W; this exercise asks for ÷H·W$"),
    (ex.check_gram_matrix, lambda f: gram(f) + torch.triu(torch.ones(5, 5), 1),
     r"^gram_fn is not symmetric: a Gram matrix is F Fᵀ \(channels × channels\), summed over positions$"),
    (ex.check_gram_matrix, lambda f: gram(f) * 1.5,
     rf"^gram_fn differs from F Fᵀ ÷C·H·W: largest difference {N}\. G\[n, i, j\] should be the sum over positions of "
     r"channel i times channel j, divided as asked\.$"),
    (ex.check_lambda_rescale, lambda lam, c, h, w: None, r"^rescale_fn should return a number; got None$"),
    (ex.check_lambda_rescale, lambda lam, c, h, w: lam / c,
     r"^for lam=1000\.0, C=64, H=32, W=32 expected 0\.244141; got 15\.625\. The Gram grows by C, but the loss is a squared "
     r"difference of Grams: it grows by C²\.$"),
    (ex.check_lambda_rescale, lambda lam, c, h, w: lam * c * c,
     r"^for lam=1000\.0, C=64, H=32, W=32 expected 0\.244141; got 4\.096e\+06\. Wrong direction: ÷H·W Grams are C times "
     r"larger, so the loss is larger and λ must shrink\.$"),
    (ex.check_lambda_rescale, lambda lam, c, h, w: lam * (h * w) ** 2,
     r"^for lam=1000\.0, C=64, H=32, W=32 expected 0\.244141; got 1\.04858e\+09\. Both conventions divide by H·W; only the "
     r"factor C differs between them\.$"),
    (ex.check_lambda_rescale, lambda lam, c, h, w: lam / (h * w) ** 2, r"got 0\.000953674\. Both conventions divide by H·W"),
    (ex.check_lambda_rescale, lambda lam, c, h, w: lam, r"^for lam=1000\.0, C=64, H=32, W=32 expected 0\.244141; got 1000\.$"),
    (ex.check_raw_lambdas, lambda rel, ref: list(rel.values()),
     r"^raw_lambdas should return a dict with keys \['adv', 'perc', 'pix', 'style'\]; got \[1\.0, 1\.0, 0\.0, 2\.0\]$"),
    (ex.check_raw_lambdas, lambda rel, ref: {t: 1 / ref[t] for t in rel},
     r"^λ_style is 0 \(term off\), so its raw weight must stay 0; got 0\.00241313$"),
    (ex.check_raw_lambdas, lambda rel, ref: {t: v * ref[t] for t, v in rel.items()},
     r"^λ_pix: relative 1, reference 0\.0106 → expected raw 94\.3396, got 0\.0106 \(multiplied by the reference instead of "
     r"dividing\?\)$"),
    (ex.check_raw_lambdas, lambda rel, ref: {t: 2 * v / ref[t] for t, v in rel.items()},
     r"^λ_pix: relative 1, reference 0\.0106 → expected raw 94\.3396, got 188\.679$"),
    (ex.check_pareto_front, lambda pts: None, r"^pareto_front should return a list of indices; got None$"),
    (ex.check_pareto_front, lambda pts: list(range(len(pts))),
     r"^for points \[\(19\.0, 0\.84\), .*\(17\.0, 1\.2\)\]: expected indices \[1, 2, 4\]; missing \[\] \(nothing beats them on "
     r"both axes\), extra \[0, 3, 5\] \(another point is at least as good on both axes and better on one\)$"),
    (ex.check_pareto_front, lambda pts: ex.pareto_front_reference(pts)[::-1],
     r"^right indices \[1, 2, 4\], but sort them by increasing perceptual distance: \[1, 2, 4\]$"),
    (ex.check_preprocess, lambda x, n: ex.preprocess_reference(x, n)[:1],
     r"^imagenet: expected a tensor of shape \(2, 3, 5, 6\); got torch\.Size\(\[1, 3, 5, 6\]\)$"),
    (ex.check_preprocess, lambda x, n: x, r"^imagenet: the image went in without any normalisation$"),
    (ex.check_preprocess, lambda x, n: ex.preprocess_reference(x if n == "imagenet" else x.flip(1), n),
     r"^caffe: the channel order is wrong \(RGB vs BGR\)$"),
    (ex.check_preprocess, lambda x, n: ex.preprocess_reference(x if n == "imagenet" else x / 255, n),
     r"^caffe: the scale is wrong \(0–255 vs \[0, 1\]\)$"),
    (ex.check_preprocess, lambda x, n: ex.preprocess_reference(x, "imagenet"),
     rf"^caffe: values differ from the expected input \(max diff {N}\); see preprocess_reference's docstring for the two "
     r"conventions$"),
    (ex.check_two_afc, lambda a, b, p: np.array([afc(a, b, p)] * 2),
     r"^two_afc should return one number \(the mean over triplets\); it returned an array of shape \(2,\)$"),
    (ex.check_two_afc, lambda a, b, p: "0.5", r"^two_afc should return a float; it returned str$"),
    (ex.check_two_afc, lambda a, b, p: 100 * afc(a, b, p),
     r"^for d_a=\[0\.1, 0\.5, 0\.2, 0\.3\], d_b=\[0\.2, 0\.4, 0\.2, 0\.9\], p_a=\[1\.0, 0\.0, 0\.0, 1\.0\]: expected 0\.8750, "
     r"got 87\.5000\. You returned a percentage: return a fraction in \[0, 1\]\.$"),
    (ex.check_two_afc, lambda a, b, p: afc(b, a, p),
     r"^for d_a=.*: expected 0\.8750, got 0\.1250\. You let the metric choose the candidate it puts \*farther\*: it chooses "
     r"the one with the smaller distance\.$"),
    (ex.check_two_afc, lambda a, b, p: afc(a, b, np.where(p > 0.5, 1.0, np.where(p < 0.5, 0.0, 0.5))),
     r"^for d_a=\[1\.0, 2\.0, 3\.0, 0\.5, 0\.5\].*: expected 0\.5700, got 0\.5000\. You used a majority vote: score with the "
     r"fraction p_a itself \(p_a if it chooses A, 1 − p_a if B\)\.$"),
    (ex.check_two_afc, lambda a, b, p: float(np.mean(np.where(a < b, p, 1 - p))),
     r"^for d_a=.*: expected 0\.8750, got 1\.0000\. Look at the tie \(d_a == d_b\): the metric cannot choose, so it gets half "
     r"a point\.$"),
    (ex.check_two_afc, lambda a, b, p: float(np.mean(p)),
     r"^for d_a=.*: expected 0\.8750, got 0\.5000\. Per triplet: p_a if d_a < d_b, 1 − p_a if d_a > d_b, ½ if equal; then "
     r"the mean\.$"),
]


@pytest.mark.parametrize(("check", "wrong", "message"), WRONG, ids=[f"{c[0].__name__}-{k}" for k, c in enumerate(WRONG)])
def test_wrong_answers_get_the_whole_message(check, wrong, message):
    with pytest.raises(AssertionError, match=message):
        check(wrong)


def test_feature_checks_whole_messages(rand19):
    def right(bb, x, y, layer):
        return torch.mean((bb(x, [layer])[layer] - bb(y, [layer])[layer]) ** 2)

    layer = rand19.default_layers[0]
    cases = [
        (lambda bb, x, y, l: ((bb(x, [l])[l] - bb(y, [l])[l]) ** 2).sum(),
         rf"^layer '{layer}', a 2-pixel shift: you returned {N}, expected {N} \(ratio {N}\)\. It is C·H·W times too large: "
         r"average over the elements instead of summing\. Compute the layer's features of both images with "
         r"backbone\(img, \[layer\]\)\[layer\], then the mean of the squared difference\.$"),
        (lambda bb, x, y, l: right(bb, x, y, l).sqrt(),
         rf"^layer '{layer}', a 2-pixel shift: you returned {N}, expected {N} \(ratio {N}\)\. Did you take a square root\? "
         r"The distance is the mean \*squared\* difference\. Compute"),
        (lambda bb, x, y, l: right(bb, x, y, l).expand(2),
         r"^feature_distance should return one number; it returned a tensor of shape \(2,\)$"),
        (lambda bb, x, y, l: 1, r"^feature_distance should return a float or a scalar tensor; it returned int$"),
    ]
    for wrong, message in cases:
        with pytest.raises(AssertionError, match=message):
            ex.check_feature_distance(wrong, rand19)

    def extract(features, x, indices, clone=True, keep=None):
        out, h = {}, x
        for i, m in enumerate(features):
            h = m(h)
            if i in indices:
                out[i] = h.clone() if clone else h
        return out

    cases = [
        (lambda f, x, idx: list(extract(f, x, idx).values()),
         r"^extract_fn should return a dict \{index: tensor\} with keys \[0, 1, 2, 4\]; got list$"),
        (lambda f, x, idx: {i: v[:1] for i, v in extract(f, x, idx).items()},
         r"^index 0: expected a tensor of shape \(2, 8, 12, 12\); got torch\.Size\(\[1, 8, 12, 12\]\)$"),
        (lambda f, x, idx: extract(f, x, idx, clone=False),
         r"^index 0 \(Conv2d\) has no negative values, but a conv output does: the in-place ReLU after it overwrote the tensor "
         r"you stored\. Store a copy \(\.clone\(\)\) or run the ReLUs with inplace=False\.$"),
        (lambda f, x, idx: {i: v * 1.1 for i, v in extract(f, x, idx).items()},
         rf"^index 0 \(Conv2d\): values differ from the module's output \(max diff {N}\)$"),
    ]
    for wrong, message in cases:
        with torch.no_grad(), pytest.raises(AssertionError, match=message):
            ex.check_feature_extractor(wrong)


def test_the_01_checks_report_the_numbers_of_their_first_case():
    # the first case of each 01 check, as documented in its source: K = 5 targets of 3×8×8, torch.rand, seeds 0 and 2
    t = torch.rand(5, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    med = t.median(0, keepdim=True).values
    loss, best = float((med - t).square().mean()), float((t.mean(0, keepdim=True) - t).square().mean())
    err = float((med - t.mean(0, keepdim=True)).abs().max())
    with pytest.raises(AssertionError, match=rf"squared error to the targets is {loss:.5f}, the optimum reaches {best:.5f} "
                                             rf"\(largest pixel difference {err:.3g}\)"):
        ex.check_l2_optimum(lambda targets: targets.median(0, keepdim=True).values)
    t = torch.rand(5, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    mean = t.mean(0, keepdim=True)
    loss, best = float((mean - t).abs().mean()), float((t.median(0, keepdim=True).values - t).abs().mean())
    with pytest.raises(AssertionError, match=rf"mean absolute error {loss:.5f}, but {best:.5f} is reachable"):
        ex.check_l1_optimum(lambda targets: targets.mean(0, keepdim=True))


@pytest.mark.parametrize(("check", "wrong"), [
    (ex.check_l2_optimum, lambda t: t[:1]),
    (ex.check_l1_optimum, lambda t: t.max(0, keepdim=True).values),
    (ex.check_gram_matrix, lambda f: gram(f) * 1.5),
])
def test_the_checks_are_deterministic(check, wrong):
    messages = []
    for _ in range(2):
        with pytest.raises(AssertionError) as e:
            check(wrong)
        messages.append(str(e.value))
    assert messages[0] == messages[1]  # the same cases every time: seeded, not drawn afresh
    state = torch.random.get_rng_state()
    with pytest.raises(AssertionError):
        check(wrong)
    assert torch.equal(state, torch.random.get_rng_state())  # and the learner's random stream untouched


def rf(layers):
    r, j = 1, 1
    for k, s in layers:
        r, j = r + (k - 1) * j, j * s
    return r


# answers right on every case of a check but one: each case is reached, and named in the message with its own numbers
LATER_CASES = [
    (ex.check_receptive_field, lambda layers: rf(layers) + (layers == [(3, 1), (3, 1)]),
     r"^two 3x3 convs \[\(3, 1\), \(3, 1\)\]: you returned 6, the receptive field is 5 pixels\. Track"),
    (ex.check_receptive_field, lambda layers: rf(layers) + (layers == [(7, 2)]),
     r"^a 7x7 stride-2 conv \[\(7, 2\)\]: you returned 8, the receptive field is 7 pixels\. Track"),
    (ex.check_receptive_field, lambda layers: rf(layers) + (len(layers) == 17),
     r"^VGG16 up to relu5_3 \[\(3, 1\), \(3, 1\), \(2, 2\), .*\(3, 1\)\]: you returned 197, the receptive field is "
     r"196 pixels\. "),
    (ex.check_receptive_field, lambda layers: rf(layers) + (layers[0] == (3, 2)),
     r"^stride-2 stem, then 5x5 convs \[\(3, 2\), \(5, 1\), \(5, 2\), \(5, 1\)\]: you returned 36, the receptive field is "
     r"35 pixels\. Track"),
    (ex.check_lambda_rescale, lambda lam, c, h, w: lam / 4096 if c == 64 else lam / c,
     r"^for lam=0\.5, C=256, H=8, W=16 expected 7\.62939e-06; got 0\.00195312\. The Gram grows by C, but"),
    (ex.check_lambda_rescale, lambda lam, c, h, w: lam / c**2 if c > 3 else lam / c,
     r"^for lam=2\.0, C=3, H=5, W=7 expected 0\.222222; got 0\.666667\. The Gram grows by C, but"),
    (ex.check_raw_lambdas,
     lambda rel, ref: {t: (v * ref[t] if t == "perc" else v / ref[t]) if v else 0.0 for t, v in rel.items()},
     r"^λ_perc: relative 1, reference 3779\.1 → expected raw 0\.000264613, got 3779\.1 \(multiplied by the reference instead "
     r"of dividing\?\)$"),
    (ex.check_raw_lambdas,
     lambda rel, ref: {t: (v * ref[t] if t == "adv" else v / ref[t]) if v else 0.0 for t, v in rel.items()},
     r"^λ_adv: relative 2, reference 0\.55 → expected raw 3\.63636, got 1\.1 \(multiplied"),
    (ex.check_raw_lambdas,
     lambda rel, ref: {t: (v / ref[t] if rel["style"] == 0 else v * ref[t]) if v else 0.0 for t, v in rel.items()},
     r"^λ_pix: relative 0\.5, reference 0\.02 → expected raw 25, got 0\.01 \(multiplied"),
    (ex.check_raw_lambdas,
     lambda rel, ref: {t: (v / ref[t] if rel["style"] == 0 or t != "perc" else 1.0) if v else 0.0 for t, v in rel.items()},
     r"^λ_perc: relative 4, reference 0\.9 → expected raw 4\.44444, got 1$"),
    (ex.check_raw_lambdas,
     lambda rel, ref: {t: (v / ref[t] if rel["style"] == 0 or t != "style" else 1.0) if v else 0.0 for t, v in rel.items()},
     r"^λ_style: relative 1, reference 3e-05 → expected raw 33333\.3, got 1$"),
    (ex.check_raw_lambdas,
     lambda rel, ref: {t: v / ref[t] if v or rel["style"] == 0 else 1 / ref[t] for t, v in rel.items()},
     r"^λ_adv is 0 \(term off\), so its raw weight must stay 0; got 1\.44928$"),
    (ex.check_pareto_front, lambda pts: [i for k, i in enumerate(ex.pareto_front_reference(pts))
                                         if pts[i] not in [pts[j] for j in ex.pareto_front_reference(pts)[:k]]],
     r"^for points \[\(26\.2, 0\.78\), \(25\.7, 0\.7\), \(26\.3, 0\.73\), \(26\.3, 0\.73\), \(20\.0, 0\.69\)\]: expected "
     r"indices \[4, 1, 2, 3\]; missing \[3\] \(nothing beats them on both axes\), extra \[\] \(another"),
    (ex.check_two_afc, lambda a, b, p: afc(a, b, p) + 0.05 * (len(p) == 3),
     r"^for d_a=\[5\.0, 1\.0, 2\.0\], d_b=\[4\.0, 3\.0, 2\.5\], p_a=\[0\.2, 0\.9, 0\.5\]: expected 0\.7333, got 0\.7833\. "
     r"Per triplet"),
    (ex.check_two_afc, lambda a, b, p: afc(a, b, p) + 0.1 * (len(p) == 5),
     r"^for d_a=\[1\.0, 2\.0, 3\.0, 0\.5, 0\.5\], d_b=\[2\.0, 1\.0, 1\.0, 0\.7, 0\.5\], p_a=\[0\.75, 0\.6, 0\.1, 0\.3, 0\.9\]: "
     r"expected 0\.5700, got 0\.6700\. Per triplet"),
    (ex.check_pareto_front, lambda pts: list(range(len(pts))),
     r"^for points \[\(19\.0, 0\.84\), \(18\.7, 0\.79\), \(18\.9, 0\.8\), \(18\.5, 0\.85\), \(19\.1, 0\.83\), "
     r"\(17\.0, 1\.2\)\]: "),
]


@pytest.mark.parametrize(("check", "wrong", "message"), LATER_CASES,
                         ids=[f"{c[0].__name__}-{k}" for k, c in enumerate(LATER_CASES)])
def test_every_case_of_a_check_is_reached_and_named(check, wrong, message):
    with pytest.raises(AssertionError, match=message):
        check(wrong)


def test_right_answers_computed_in_float32_pass(capsys):
    ex.check_lambda_rescale(lambda lam, c, h, w: float(np.float32(lam) / np.float32(c) ** 2))
    ex.check_raw_lambdas(lambda rel, ref: {t: float(np.float32(v) / np.float32(ref[t])) if v else 0.0 for t, v in rel.items()})
    assert capsys.readouterr().out.count("orrect") == 2


def test_pareto_reference_on_ties():
    def brute(points):
        return sorted((i for i, (p, d) in enumerate(points)
                       if not any(q >= p and e <= d and (q, e) != (p, d) for q, e in points)), key=lambda i: points[i][1])

    for pts in ([(1, 1), (1, 2), (2, 1)], [(1, 1), (2, 1), (0, 0)], [(3, 2), (3, 2), (1, 1), (2, 2)]):
        assert ex.pareto_front_reference(pts) == brute(pts), pts


def test_06_checks_report_the_numbers_of_their_documented_case():
    # check_preprocess's case: torch.rand(2, 3, 5, 6), seed 0, red × 0.3; ImageNet's recipe offered for Caffe
    x = torch.rand(2, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    x[:, 0] *= 0.3
    mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
    std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
    caffe = x.flip(1) * 255 - torch.tensor((103.939, 116.779, 123.68)).view(1, 3, 1, 1)
    diff = float(((x - mean) / std - caffe).abs().max())
    with pytest.raises(AssertionError, match=rf"^caffe: values differ from the expected input \(max diff {diff:.3g}\)"):
        ex.check_preprocess(lambda z, n: (z - mean) / std)
    # check_feature_extractor's case: its seeded block, torch.rand(2, 3, 12, 12) with seed 1
    block = ex69._inplace_vgg_block()
    z = torch.rand(2, 3, 12, 12, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        conv = block[0](z.clone())
        relu = conv.clamp(min=0)

    def extract(features, x, indices, scale_at=0):
        out, h = {}, x
        with torch.no_grad():
            for i, m in enumerate(features):
                h = m(h)
                if i in indices:
                    out[i] = h.clone() * (1.1 if i == scale_at else 1.0)
        return out

    with pytest.raises(AssertionError, match=rf"^index 0 \(Conv2d\): values differ from the module's output "
                                             rf"\(max diff {0.1 * float(conv.abs().max()):.3g}\)$"):
        ex.check_feature_extractor(extract)
    # a ReLU output off: its minimum is 0, not negative, so no in-place hint
    with pytest.raises(AssertionError, match=rf"^index 1 \(ReLU\): values differ from the module's output "
                                             rf"\(max diff {0.1 * float(relu.abs().max()):.3g}\)$"):
        ex.check_feature_extractor(lambda f, x, idx: extract(f, x, idx, scale_at=1))


@pytest.mark.parametrize(("check", "wrong"), [
    (ex.check_preprocess, lambda x, n: x * 2),
    (ex.check_feature_extractor, lambda f, x, idx: {i: torch.zeros(2, 8, 12, 12) for i in idx}),
])
def test_the_06_checks_are_deterministic(check, wrong):
    messages = []
    for _ in range(2):
        with torch.no_grad(), pytest.raises(AssertionError) as e:
            check(wrong)
        messages.append(str(e.value))
    assert messages[0] == messages[1]


# --- the checks' tolerances, hint by hint (issue 22: mutmut survivors) -----------------------------------
# Each check accepts an answer within a stated tolerance (float32 or rounded answers) and names a wrong one
# with the same tolerance. These answers sit inside it, away from its edge: a check that tightened or
# widened a tolerance, or dropped one, would change the verdict written out here.


def nudge_smallest(g, rtol=1e-4, atol=1e-7):
    """g with its smallest-magnitude entry moved by ½·rtol·|g| + 0.6·atol: inside rtol·|g| + atol, outside
    rtol·|g| + atol/10 (torch's default atol is 1e-8)."""
    g = g.clone()
    k = int(g.abs().argmin())
    v = g.view(-1)[k]
    g.view(-1)[k] = v + rtol * abs(float(v)) / 2 + 0.6 * atol + rtol * abs(float(v)) / 2
    return g


def test_gram_checks_accept_answers_within_their_tolerance_and_name_the_divisor_with_it(capsys):
    f = ex15._features_for_check()
    ex.check_gram_matrix(lambda f: gram(f) * (1 + 5e-5))  # relative 5e-5 < rtol 1e-4
    ex.check_gram_matrix(lambda f: nudge_smallest(gram(f)))  # the smallest entry 0.6e-7 beyond rtol·|g|
    ex.check_gram_hw(lambda f: gram(f, False) * (1 - 5e-5))
    assert capsys.readouterr().out == "Correct: gram_fn computes F Fᵀ ÷C·H·W for every image of the batch.\n" * 2 + \
        "Correct: gram_hw_fn computes F Fᵀ ÷H·W for every image of the batch.\n"
    assert float(gram(f).abs().min()) > 1e-3  # the nudge above is not lost in float32 rounding
    for wrong in (lambda f: gram(f, False) * (1 + 5e-5), lambda f: nudge_smallest(gram(f, False))):
        with pytest.raises(AssertionError, match=r"^gram_fn computes F Fᵀ with ÷H·W; this exercise asks for ÷C·H·W$"):
            ex.check_gram_matrix(wrong)


def test_gram_check_symmetry_verdict_uses_the_same_tolerance():
    differs = rf"^gram_fn differs from F Fᵀ ÷C·H·W: largest difference {N}\. G\[n, i, j\]"

    def asym_rel(f):  # 1.5 × the Gram (wrong), one entry off its mirror by 5e-5 relative (rounding-size)
        g = gram(f) * 1.5
        g[0, 0, 1] *= 1 + 5e-5
        return g

    def asym_abs(f):  # one entry 0.6e-7 beyond rtol·|g| off its mirror
        g = gram(f) * 1.5
        i, j = divmod(int(g[0].abs().argmin()), 5)
        if i == j:
            i, j = 0, 1
        g[0, i, j] += 1e-4 * float(g[0, j, i].abs()) + 6e-8
        return g

    def half_off(f):  # one entry 50 % off its mirror: not symmetric
        g = gram(f)
        g[:, 0, 1] *= 1.5
        return g

    for wrong, message in ((asym_rel, differs), (asym_abs, differs), (half_off, r"^gram_fn is not symmetric")):
        with pytest.raises(AssertionError, match=message):
            ex.check_gram_matrix(wrong)


@pytest.mark.parametrize("check", [ex.check_gram_matrix, ex.check_gram_hw])
def test_gram_differs_message_reports_the_largest_difference_to_the_asked_divisor(check):
    f = ex15._features_for_check()
    by_c = check is ex.check_gram_matrix
    want = gram(f, by_c)
    largest = float((want * 1.5 - want).abs().max())  # written out: 0.5 × the largest entry
    assert largest == pytest.approx(0.5 * float(want.max()))
    name = "gram_fn" if by_c else "gram_hw_fn"
    with pytest.raises(AssertionError) as e:
        check(lambda f: gram(f, by_c) * 1.5)
    assert str(e.value).startswith(f"{name} differs from F Fᵀ {'÷C·H·W' if by_c else '÷H·W'}: largest difference "
                                   f"{largest:.3g}. ")


def test_the_inplace_vgg_block_is_vggs_start_scaled_down():
    import torch.nn as nn

    block = ex69._inplace_vgg_block()
    assert [type(m) for m in block] == [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.MaxPool2d]
    convs = [block[0], block[2]]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding) for c in convs] == [
        (3, 8, (3, 3), (1, 1), (1, 1)), (8, 8, (3, 3), (1, 1), (1, 1))]
    assert block[1].inplace is True and block[3].inplace is True
    assert (block[4].kernel_size, block[4].stride) == (2, 2)
    x = torch.rand(2, 3, 12, 10, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        h = [x]
        for m in block:
            h.append(m(h[-1].clone()))
    assert [tuple(t.shape) for t in h[1:]] == [(2, 8, 12, 10)] * 4 + [(2, 8, 6, 5)]
    assert not block.training


def extract_ok(features, x, indices):
    out, h = {}, x
    with torch.no_grad():
        for i, m in enumerate(features):
            h = m(h)
            if i in indices:
                out[i] = h.clone()
    return out


def test_feature_extractor_messages_show_what_came_back(capsys):
    with pytest.raises(AssertionError, match=r"^extract_fn should return a dict \{index: tensor\} with keys \[0, 1, 2, 4\]; "
                                             r"got \[0, 1, 2\]$"):
        ex.check_feature_extractor(lambda feats, x, idx: {i: v for i, v in extract_ok(feats, x, idx).items() if i != 4})
    with pytest.raises(AssertionError, match=r"^index 0: expected a tensor of shape \(2, 8, 12, 12\); got 0\.5$"):
        ex.check_feature_extractor(lambda feats, x, idx: {i: 0.5 for i in idx})
    with pytest.raises(AssertionError, match=r"^index 0: expected a tensor of shape \(2, 8, 12, 12\); "
                                             r"got torch\.Size\(\[8, 12, 12\]\)$"):
        ex.check_feature_extractor(lambda feats, x, idx: {i: v[0] for i, v in extract_ok(feats, x, idx).items()})
    # within the check's atol 1e-5 (rtol 1e-5): an answer off by 5e-6 everywhere passes
    ex.check_feature_extractor(lambda feats, x, idx: {i: v + 5e-6 for i, v in extract_ok(feats, x, idx).items()})
    assert capsys.readouterr().out.startswith("Correct: every stored output")


def test_lambda_rescale_hints_hold_within_the_checks_tolerance():
    head = r"^for lam=1000\.0, C=64, H=32, W=32 expected 0\.244141; got "
    near = 1 + 1e-7  # inside rel_tol 1e-6, outside math.isclose's default 1e-9
    cases = [
        (lambda lam, c, h, w: lam / c * near, r"15\.625\. The Gram grows by C, but the loss is a squared difference"),
        (lambda lam, c, h, w: lam * c**2 * near, r"4\.096e\+06\. Wrong direction"),
        (lambda lam, c, h, w: lam / (h * w) ** 2 * near, r"0\.000953674\. Both conventions divide by H·W"),
        (lambda lam, c, h, w: lam * (h * w) ** 2 * near, r"1\.04858e\+09\. Both conventions divide by H·W"),
    ]
    for wrong, tail in cases:
        with pytest.raises(AssertionError, match=head + tail):
            ex.check_lambda_rescale(wrong)


def test_preprocess_tolerance_hints_and_messages(capsys):
    for ok in (lambda x, n: ex.preprocess_reference(x, n) * (1 + 5e-5),  # rtol 1e-4 (matters at Caffe's 0–255 scale)
               lambda x, n: ex.preprocess_reference(x, n) + 5e-4):  # atol 1e-3 (matters near 0)
        ex.check_preprocess(ok)
    assert capsys.readouterr().out == "Correct: ImageNet = (x − mean) / std in RGB; Caffe = BGR, ×255, minus the mean.\n" * 2
    std_half = lambda x, n: (x - torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)) / 0.5  # noqa: E731
    no_flip = lambda x, n: ex.preprocess_reference(x.flip(1), n) * (1 + 5e-5)  # noqa: E731
    raw = lambda x, n: x + 5e-4  # noqa: E731
    two_mistakes = lambda x, n: ex.preprocess_reference(x.flip(1), n) * 1.5  # noqa: E731  (BGR and a wrong scale)
    listed = lambda x, n: [0.485, 0.456, 0.406]  # noqa: E731
    for wrong, message in (
            (std_half, rf"^imagenet: values differ from the expected input \(max diff {N}\); see preprocess_reference's "),
            (no_flip, r"^imagenet: the channel order is wrong \(RGB vs BGR\)$"),
            (raw, r"^imagenet: the image went in without any normalisation$"),
            (two_mistakes, rf"^imagenet: values differ from the expected input \(max diff {N}\)"),
            (listed, r"^imagenet: expected a tensor of shape \(2, 3, 5, 6\); got \[0\.485, 0\.456, 0\.406\]$")):
        with pytest.raises(AssertionError, match=message):
            ex.check_preprocess(wrong)

    def caffe_no_flip(x, n):  # right for ImageNet; for Caffe, RGB order (and a rounding-size error)
        return ex.preprocess_reference(x if n == "imagenet" else x.flip(1), n) * (1 + (5e-5 if n == "caffe" else 0))

    with pytest.raises(AssertionError, match=r"^caffe: the channel order is wrong \(RGB vs BGR\)$"):
        ex.check_preprocess(caffe_no_flip)


def test_raw_lambdas_rounded_or_float32_answers():
    with pytest.raises(AssertionError, match=r"^λ_pix: relative 1, reference 0\.0106 → expected raw 94\.3396, got 94\.34$"):
        ex.check_raw_lambdas(lambda rel, ref: {t: round(v / ref[t], 2) if v else 0.0 for t, v in rel.items()})
    # multiplied instead of divided, in float32 (torch): the hint still recognises it
    with pytest.raises(AssertionError, match=r"^λ_pix: relative 1, reference 0\.0106 → expected raw 94\.3396, got 0\.0106 "
                                             r"\(multiplied by the reference instead of dividing\?\)$"):
        ex.check_raw_lambdas(lambda rel, ref: {t: float(torch.tensor(v) * torch.tensor(ref[t])) for t, v in rel.items()})


def test_two_afc_accepts_any_one_number_and_refuses_a_list(capsys):
    for wrap in (lambda v: np.array([v]), lambda v: np.array(v), lambda v: np.float32(v)):  # (1,), 0-d, NumPy scalar
        ex.check_two_afc(lambda a, b, p, wrap=wrap: wrap(afc(a, b, p)))
    assert capsys.readouterr().out.count("Correct: 2AFC agreement") == 3
    with pytest.raises(AssertionError, match=r"^two_afc should return a float; it returned list$"):
        ex.check_two_afc(lambda a, b, p: [afc(a, b, p), afc(a, b, p)])
    with pytest.raises(AssertionError, match=r"^two_afc should return one number \(the mean over triplets\); it returned an "
                                             r"array of shape \(2,\)$"):
        ex.check_two_afc(lambda a, b, p: np.array([afc(a, b, p)] * 2))


def test_two_afc_hints_hold_within_the_checks_tolerance():
    near = 1e-7  # inside abs_tol 1e-6
    majority = lambda p: np.where(p > 0.5, 1.0, np.where(p < 0.5, 0.0, 0.5))  # noqa: E731
    cases = [
        (lambda a, b, p: afc(b, a, p) + near, r"expected 0\.8750, got 0\.1250\. You let the metric choose the candidate it "
                                              r"puts \*farther\*"),
        (lambda a, b, p: afc(a, b, majority(p)) + near, r"expected 0\.5700, got 0\.5000\. You used a majority vote"),
        (lambda a, b, p: float(np.mean(np.where(a <= b, p, 1 - p))) + near,  # a tie counted as "chose A"
         r"expected 0\.8750, got 0\.7500\. Look at the tie"),
    ]
    for wrong, message in cases:
        with pytest.raises(AssertionError, match=message):
            ex.check_two_afc(wrong)


def test_two_afc_reference_takes_boolean_answers():  # (the same values as floats)
    # one observer's answers as booleans (True: chose A); by hand: 1 (A closer, chose A), 1 (B closer, chose B),
    # ½ (tie), 0 (A closer, chose B)
    got = ex.two_afc_reference([0.1, 0.9, 0.5, 0.2], [0.3, 0.4, 0.5, 0.6], np.array([True, False, True, False]))
    assert got == pytest.approx((1 + 1 + 0.5 + 0) / 4)


def test_pareto_reference_equal_psnr_lower_distance_dominates():
    # (20, 0.4) is as good in PSNR and better in distance: (20, 0.5) is dominated
    assert ex.pareto_front_reference([(20.0, 0.5), (20.0, 0.4)]) == [1]
    assert ex.pareto_front_reference([(20.0, 0.4), (21.0, 0.4), (19.0, 0.3)]) == [2, 1]


def test_the_inplace_vgg_block_is_seeded_0_by_default_and_leaves_the_random_stream_alone():
    torch.manual_seed(7)
    before = torch.get_rng_state()
    default, zero, one = ex69._inplace_vgg_block(), ex69._inplace_vgg_block(0), ex69._inplace_vgg_block(1)
    assert torch.equal(torch.get_rng_state(), before)
    assert all(torch.equal(p, q) for p, q in zip(default.parameters(), zero.parameters()))
    assert not torch.equal(default[0].weight, one[0].weight)


def test_feature_distance_off_by_a_little_or_on_the_blur_only_gets_no_hint(rand19):
    # 1 % too large; the root of 1.5 x the distance (its square is 50 % off: no "square root" hint); right on the
    # shift but doubled on the blur (the check's second pair)
    def right(bb, x, y, l):
        return ((bb(x, [l])[l] - bb(y, [l])[l]) ** 2).mean()

    calls = []

    def blur_only(bb, x, y, l):
        calls.append(l)
        return right(bb, x, y, l) * (2 if len(calls) == 2 else 1)

    layer, tail = rand19.default_layers[0], (r"\. Compute the layer's features of both images with backbone\(img, \[layer\]\)"
                                             r"\[layer\], then the mean of the squared difference\.$")
    for wrong, what, ratio in [(lambda bb, x, y, l: 1.01 * right(bb, x, y, l), "a 2-pixel shift", r"1\.01"),
                               (lambda bb, x, y, l: (1.5 * right(bb, x, y, l)).sqrt(), "a 2-pixel shift", N),
                               (blur_only, "a blur", "2")]:
        with pytest.raises(AssertionError, match=rf"^layer '{layer}', {what}: you returned {N}, expected {N} "
                                                 rf"\(ratio {ratio}\){tail}"):
            ex.check_feature_distance(wrong, rand19)


def test_feature_distance_is_checked_on_the_astronaut_at_64_px_shifted_2_px_and_blurred_at_1_5(rand19):
    from percepkit.images import blur, sample_image, shift

    seen = []

    def spy(bb, x, y, l):
        seen.append((l, x, y))
        return ((bb(x, [l])[l] - bb(y, [l])[l]) ** 2).mean()

    ex.check_feature_distance(spy, rand19)
    x = sample_image("astronaut", 64)
    first, last = rand19.default_layers[0], rand19.default_layers[-1]
    assert [l for l, _, _ in seen] == [first, first, last, last]
    for (_, sx, sy), y in zip(seen, [shift(x, 2.0), blur(x, 1.5)] * 2):
        assert torch.equal(sx, x) and torch.equal(sy, y)
