"""percepkit.answers: answer files and pooling a class's answers, against independent oracles.

Answer files written and read back item by item, every refusal's message whole; Wilson intervals by
the formula and SciPy's binomtest; pooling by hand loops and the documented bootstrap written out with
the same seeded generator — on triplet sets built by hand (tests/oracles.py) and on notebook 09's real
set (conftest's ``tset`` and ``dist``).
"""

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import stats

import percepkit as pk
from oracles import H, agreement_by_hand, hand_set, self_agreement_by_pairs, tally_by_hand
from percepkit.answers import Pooled
from percepkit.scoring import Distances
from percepkit.triplets import TripletSet

# --- answer files --------------------------------------------------------------------------------


def test_answer_file_holds_each_item_as_shown(tmp_path):
    tset = hand_set(4, repeats=2)
    choices = ["A", None, "B", "B", "A", "B"]
    path = pk.save_answers(tmp_path / "sub" / "ada.json", tset, choices, observer="ada")
    doc = json.loads(path.read_text())
    assert doc["set"] == tset.fingerprint and doc["version"] == 1 and doc["observer"] == "ada"
    assert (doc["size"], doc["seed"], doc["repeats"]) == (H, 0, 2)
    assert [(it["triplet"], it["swapped"], it["choice"]) for it in doc["items"]] == [
        ("t03", False, "A"), ("t02", False, None), ("t01", False, "B"), ("t00", False, "B"),
        ("t00", True, "A"), ("t01", True, "B")]
    assert pk.load_answers(path, tset) == choices
    assert not list(path.parent.glob("*.tmp"))
    # the same items under another set (same triplets, another fingerprint) are refused
    other = TripletSet(tset.triplets, tset.order, H, 1, 2, "another00000")
    with pytest.raises(ValueError, match="this set is 'another00000'"):
        pk.load_answers(path, other)
    # an item flipped from unswapped to swapped is refused
    doc["items"][4]["swapped"] = False
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="item 4 should be"):
        pk.load_answers(path, tset)
    doc["items"] = "none"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="expected 6 items"):
        pk.load_answers(path, tset)
    path.write_text(json.dumps([1, 2]))
    with pytest.raises(ValueError, match="got 'list'"):
        pk.load_answers(path, tset)
    with pytest.raises(TypeError, match="list of 'A', 'B' or None"):
        pk.save_answers(tmp_path / "x.json", tset, "AABBAB")


def wilson_by_hand(k, n, z):
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def test_wilson_matches_the_formula_and_scipy_binomtest():
    for k, n in [(8, 10), (0, 10), (10, 10), (37, 120), (3.5, 9)]:
        assert pk.wilson(k, n) == pytest.approx(wilson_by_hand(k, n, 1.96), abs=1e-12)
        z = stats.norm.ppf(0.95)
        assert pk.wilson(k, n, z) == pytest.approx(wilson_by_hand(k, n, z), abs=1e-12)
    ci = stats.binomtest(37, 120).proportion_ci(0.95, method="wilson")
    assert pk.wilson(37, 120, stats.norm.ppf(0.975)) == pytest.approx((ci.low, ci.high), abs=1e-9)
    for bad in [(-1, 10), (3, 0), (0, 0), (11, 10), (0, -2)]:
        with pytest.raises(ValueError, match=r"^expected 0 <= k <= n and n > 0; got k="):
            pk.wilson(*bad)
    assert pk.wilson(1, 1) == pytest.approx(wilson_by_hand(1, 1, 1.96))  # one answer is enough
    for n in range(1, 60):  # the interval stays inside [0, 1] where rounding would step out
        lo, hi = pk.wilson(n, n)
        assert hi <= 1.0 and pk.wilson(0, n)[0] >= 0.0
    assert max(pk.wilson(n, n)[1] for n in range(1, 60)) == 1.0


def test_pool_answers_wilson_counts_every_answer(tmp_path):
    tset = hand_set(5, repeats=3)
    d1 = np.array([[1, 2], [3, 2], [1, 1], [0.5, 0.7], [2, 1]], dtype=float)
    d2 = d1[:, ::-1].copy()
    dist = Distances({"m1": d1, "m2": d2}, ("x",), np.zeros((5, 2, 1)), "fake")
    obs = [pk.simulate_observer(tset, d1, lapse=0.6, seed=s) for s in range(3)]
    obs[0][1] = None
    path = pk.save_answers(tmp_path / "o0.json", tset, obs[0])
    pooled = pk.pool_answers([path, obs[1], obs[2]], tset, dist, method="wilson", level=0.9)
    counts = tally_by_hand(tset, *obs)
    np.testing.assert_array_equal(pooled.counts, counts)
    assert pooled.n_observers == 3 and pooled.method == "wilson"
    z = stats.norm.ppf(0.95)
    for name, d in dist.table.items():
        k = 0.0
        for (a, b), (ca, cb) in zip(d, counts):  # each answer the metric agrees with: 1, a tie: ½
            k += 0.5 * (ca + cb) if abs(a - b) <= 1e-3 * max(a, b) else (ca if a < b else cb)
        n = counts.sum()
        assert pooled.agreement[name] == pytest.approx(k / n, abs=1e-12)
        assert pooled.ci[name] == pytest.approx(wilson_by_hand(k, n, z), abs=1e-9)
    assert pooled.agreement["m1"] + pooled.agreement["m2"] == pytest.approx(1.0)
    pairs_k = sum(ca * (ca - 1) / 2 + cb * (cb - 1) / 2 for ca, cb in counts if ca + cb >= 2)
    pairs_n = sum((ca + cb) * (ca + cb - 1) / 2 for ca, cb in counts if ca + cb >= 2)
    assert pooled.ceiling[0] == pytest.approx(pairs_k / pairs_n)
    assert pooled.ceiling[1] == pytest.approx(wilson_by_hand(pairs_k, pairs_n, z), abs=1e-9)
    assert "m1" in pooled.table() and "%" in pooled.table()


def test_pool_answers_bootstrap_resamples_observers_and_triplets():
    tset = hand_set(6, repeats=4)
    rng0 = np.random.default_rng(8)
    d1, d2 = rng0.random((6, 2)), rng0.random((6, 2))
    dist = Distances({"m1": d1, "m2": d2}, ("x",), np.zeros((6, 2, 1)), "fake")
    obs = [pk.simulate_observer(tset, d1, lapse=0.7, seed=s) for s in range(4)]
    pooled = pk.pool_answers(obs, tset, dist, n_boot=300, level=0.8, seed=3)
    per = [tally_by_hand(tset, o) for o in obs]
    counts = sum(per)
    for name, d in dist.table.items():
        assert pooled.agreement[name] == pytest.approx(agreement_by_hand(d, counts, 1e-3), abs=1e-12)
    # the documented resampling, written out with the same seeded generator
    rng = np.random.default_rng(3)
    boot = {m: [] for m in dist.table}
    ceil = []
    for _ in range(300):
        t = rng.integers(0, 6, 6)
        who = rng.integers(0, 4, 4)
        c = sum(per[j] for j in who)[t]
        for m, d in dist.table.items():
            boot[m].append(agreement_by_hand(d[t], c, 1e-3) if c.sum() else np.nan)
        ceil.append(self_agreement_by_pairs(c)[0])
    for m in dist.table:
        assert pooled.ci[m] == pytest.approx(tuple(np.nanpercentile(boot[m], [10, 90])), abs=1e-12)
        lo, hi = pooled.ci[m]
        assert lo < hi
    assert pooled.ceiling[0] == pytest.approx(self_agreement_by_pairs(counts)[0])
    assert pooled.ceiling[1] == pytest.approx(tuple(np.nanpercentile(ceil, [10, 90])), abs=1e-12)


def test_pool_answers_refuses_bad_arguments():
    tset = hand_set(3, repeats=1)
    dist = Distances({"m": np.ones((3, 2))}, ("x",), np.zeros((3, 2, 1)), "fake")
    with pytest.raises(ValueError, match="level"):
        pk.pool_answers([["A"] * 4], tset, dist, level=1.0)
    with pytest.raises(ValueError, match="Distances of this triplet set"):
        pk.pool_answers([["A"] * 4], tset, Distances({}, (), np.zeros((4, 2, 1)), "x"))
    with pytest.raises(ValueError, match="Distances of this triplet set"):
        pk.pool_answers([["A"] * 4], tset, {"m": np.ones((3, 2))})


def test_pool_answers_bootstrap_with_sparse_answers_and_its_defaults():
    import warnings

    tset = hand_set(6, repeats=0)
    rng0 = np.random.default_rng(1)
    dist = Distances({"m": rng0.random((6, 2))}, ("x",), np.zeros((6, 2, 1)), "fake")
    obs = [["A", None, None, "B", None, None], [None, None, "B", None, None, "A"]]  # 4 of 6 triplets, once each
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no All-NaN slice: the ceiling is not computed without a repeat
        pooled = pk.pool_answers(obs, tset, dist, n_boot=200, level=0.9, seed=5)
    assert pooled.ceiling[0] != pooled.ceiling[0] and len(pooled.ceiling[1]) == 2
    assert all(v != v for v in pooled.ceiling[1])
    assert pooled.n_observers == 2 and pooled.method == "bootstrap"
    np.testing.assert_array_equal(pooled.counts, tally_by_hand(tset, *obs))
    per = [tally_by_hand(tset, o) for o in obs]
    rng = np.random.default_rng(5)
    boot = []
    for _ in range(200):  # resamples that draw only unanswered triplets score nothing (NaN, left out)
        t = rng.integers(0, 6, 6)
        c = sum(per[j] for j in rng.integers(0, 2, 2))[t]
        boot.append(agreement_by_hand(dist["m"][t], c, 1e-3) if c.sum() else np.nan)
    assert np.isnan(boot).any()
    assert pooled.ci["m"] == pytest.approx(tuple(np.nanpercentile(boot, [5, 95])), abs=1e-12)
    rich = hand_set(6, repeats=4)
    many = [pk.simulate_observer(rich, dist["m"], lapse=0.7, seed=s) for s in range(4)]

    def summary(**kw):
        p = pk.pool_answers(many, rich, dist, **kw)
        return p.ci["m"], p.ceiling[1]

    default = summary()
    assert default == summary(n_boot=2000, level=0.95, seed=0)
    assert default != summary(seed=1)
    wil = pk.pool_answers(obs, tset, dist, method="wilson")  # no repeat: no ceiling, and no error
    assert wil.ceiling[0] != wil.ceiling[0] and all(v != v for v in wil.ceiling[1])
    lines = wil.table().split("\n")
    assert lines == [f"{'m':24s} {wil.agreement['m']:6.1%}   [{wil.ci['m'][0]:6.1%}, {wil.ci['m'][1]:6.1%}]"]
    two = Pooled({"a": 0.5, "b": 0.25}, {"a": (0.1, 0.9), "b": (0.0, 1.0)}, (0.5, (0, 1)), None, 1, "wilson")
    assert two.table() == "a                         50.0%   [ 10.0%,  90.0%]\nb                         25.0%   [  0.0%, 100.0%]"


def test_pool_answers_messages_name_the_problem():
    tset = hand_set(3, repeats=1)
    dist = Distances({"m": np.ones((3, 2))}, ("x",), np.zeros((3, 2, 1)), "fake")
    with pytest.raises(ValueError, match=r"^expected method 'bootstrap' or 'wilson'; got 't'$"):
        pk.pool_answers([["A"] * 4], tset, dist, method="t")
    for level in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"^expected 0 < level < 1; got"):
            pk.pool_answers([["A"] * 4], tset, dist, level=level)
    with pytest.raises(ValueError, match=r"^expected a list of answer files or choice lists, one per observer; "
                                         r"got one path 'a\.json' \(wrap it in a list\)$"):
        pk.pool_answers("a.json", tset, dist)
    with pytest.raises(ValueError, match=r"^expected a non-empty list of answer files or choice lists, one per observer$"):
        pk.pool_answers([], tset, dist)


def test_answer_file_format_nested_folder_and_every_refusal(tmp_path):
    import re

    tset = hand_set(3, repeats=1)
    path = pk.save_answers(tmp_path / "a" / "b" / "c.json", tset, ["A", None, "B", "A"])
    text = path.read_text()
    assert text.startswith('{\n "format": "percepkit-2afc",\n "version": 1,')  # indent 1
    doc = json.loads(text)
    assert doc["observer"] == "" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", doc["saved"])
    bad = tmp_path / "bad.json"
    cases = [
        ("{not json", rf"^{re.escape(str(bad))}: expected a JSON answers file \(percepkit-2afc\); it is not valid JSON \("),
        (json.dumps({"format": "x"}), rf"^{re.escape(str(bad))}: expected a 'percepkit-2afc' answers file \(key 'format'\); "
                                      r"got 'x'$"),
        (json.dumps("text"), r": expected a 'percepkit-2afc' answers file \(key 'format'\); got 'str'$"),
        (json.dumps(dict(doc, set="0123", size=64, seed=5, repeats=2)),
         rf"^{re.escape(str(bad))}: answers to triplet set '0123' \(size 64, seed 5, repeats 2\); this set is "
         rf"'{tset.fingerprint}' \(size 32, seed 0, repeats 1\)$"),
        (json.dumps(dict(doc, items={"a": 1})), r": expected 4 items \(one per triplet shown\); got dict$"),
        (json.dumps(dict(doc, items=doc["items"][:2])), r": expected 4 items \(one per triplet shown\); got 2$"),
        (json.dumps(dict(doc, items=[*doc["items"][:3], "x"])),
         r": item 3 should be \{'triplet': 't00', 'swapped': True\}; got 'x'$"),
    ]
    for content, message in cases:
        bad.write_text(content)
        with pytest.raises(ValueError, match=message):
            pk.load_answers(bad, tset)


def test_pool_answers_bootstrap_scores_triplets_answered_once():
    tset = hand_set(6, repeats=0)
    dist = Distances({"m": np.random.default_rng(1).random((6, 2))}, ("x",), np.zeros((6, 2, 1)), "fake")
    obs = ["A", "B", "B", "A", "A", "B"]  # one observer, each triplet once
    pooled = pk.pool_answers([obs], tset, dist, n_boot=100, level=0.9, seed=3)
    per = tally_by_hand(tset, obs)
    rng = np.random.default_rng(3)
    boot = []
    for _ in range(100):
        t = rng.integers(0, 6, 6)
        rng.integers(0, 1, 1)  # the resampled observer: always the one
        boot.append(agreement_by_hand(dist["m"][t], per[t], 1e-3))
    assert np.isfinite(pooled.ci["m"]).all()
    assert pooled.ci["m"] == pytest.approx(tuple(np.percentile(boot, [5, 95])), abs=1e-12)


def test_defaults_written_out():
    import inspect

    def defaults(fn):
        return {k: v.default for k, v in inspect.signature(fn).parameters.items() if v.default is not inspect.Parameter.empty}

    assert defaults(pk.pool_answers) == {"method": "bootstrap", "n_boot": 2000, "level": 0.95, "seed": 0}
    assert defaults(pk.save_answers) == {"observer": ""}


# --- on notebook 09's set (tests/test_judge.py's, until issue 21) ----------------------------------


def test_answer_files_round_trip_and_refuse_bad_input(tset, tmp_path):
    choices = pk.simulate_observer(tset, None, seed=3)
    choices[5] = None
    path = pk.save_answers(tmp_path / "a.json", tset, choices, observer="ada")
    assert pk.load_answers(path, tset) == choices
    doc = json.loads(path.read_text())
    assert doc["format"] == "percepkit-2afc" and doc["observer"] == "ada" and len(doc["items"]) == 40

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        pk.load_answers(bad, tset)
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="expected a 'percepkit-2afc' answers file"):
        pk.load_answers(bad, tset)
    with pytest.raises(ValueError, match="this set is"):
        pk.load_answers(path, dataclasses.replace(tset, seed=1, fingerprint="0123456789ab"))
    short = dict(doc, items=doc["items"][:3])
    bad.write_text(json.dumps(short))
    with pytest.raises(ValueError, match="expected 40 items .* got 3"):
        pk.load_answers(bad, tset)
    moved = dict(doc, items=[doc["items"][1], doc["items"][0], *doc["items"][2:]])
    bad.write_text(json.dumps(moved))
    with pytest.raises(ValueError, match="item 0 should be"):
        pk.load_answers(bad, tset)
    wrong = dict(doc, items=[dict(it, choice="left") for it in doc["items"]])
    bad.write_text(json.dumps(wrong))
    with pytest.raises(ValueError, match="'left'"):
        pk.load_answers(bad, tset)


def test_wilson_by_hand():
    lo, hi = pk.wilson(8, 10)
    assert (lo, hi) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
    assert pk.wilson(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    with pytest.raises(ValueError):
        pk.wilson(11, 10)


def test_pooling_by_hand(tset, dist, tmp_path):
    # two observers who disagree on every item: every triplet splits evenly
    files = [pk.save_answers(tmp_path / f"{k}.json", tset, [c] * 40) for k, c in enumerate("AB")]
    for method in ("bootstrap", "wilson"):
        pooled = pk.pool_answers(files, tset, dist, method=method, n_boot=200)
        assert pooled.n_observers == 2 and pooled.counts.sum() == 80
        assert all(v == pytest.approx(0.5) for v in pooled.agreement.values())
    # pairs of answers to a repeated triplet: obs 1 said a, b; obs 2 said b, a → 2 of 6 pairs agree
    k, n = 10 * 2, 20 * 1 + 10 * 6  # 20 triplets shown once: 1 pair each, none agree; 10 repeated: 2 of 6 pairs
    assert pooled.ceiling[0] == pytest.approx(k / n)
    assert pooled.ceiling[1] == pytest.approx(pk.wilson(k, n), rel=1e-4)  # z = 1.95996… vs 1.96


def test_pooled_interval_when_everyone_agrees_with_a_metric(tset):
    always_a = np.tile([0.0, 1.0], (30, 1))
    fake = Distances({"always A": always_a}, ("x",), np.zeros((30, 2, 1)), "none")
    a_choices = ["B" if s else "A" for _, s in tset.order]  # canonical a, every time
    pooled = pk.pool_answers([a_choices] * 5, tset, fake, n_boot=300)
    assert pooled.agreement["always A"] == 1.0 and pooled.ci["always A"] == (1.0, 1.0)
    assert pooled.ceiling == (1.0, (1.0, 1.0))


def test_more_observers_narrow_the_interval_but_not_to_zero(tset, dist):
    def width(n):
        obs = [pk.simulate_observer(tset, dist["SSIM"], lapse=0.6, seed=s) for s in range(n)]
        lo, hi = pk.pool_answers(obs, tset, dist, n_boot=400).ci["SSIM"]
        return hi - lo

    w1, w30 = width(1), width(30)
    assert w30 < w1 and w30 > 0.02  # the triplets are resampled too: 30 of them leave some uncertainty
    with pytest.raises(ValueError, match="non-empty list"):
        pk.pool_answers([], tset, dist)
    with pytest.raises(ValueError, match="wrap it in a list"):
        pk.pool_answers("answers.json", tset, dist)
    with pytest.raises(ValueError, match="method"):
        pk.pool_answers([["A"] * 40], tset, dist, method="t-test")
