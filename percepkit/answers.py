"""The class experiment: answer files in, every metric's agreement with a confidence interval out.

* :func:`save_answers`, :func:`load_answers` — one observer's choices as a small JSON file
  (format :data:`FORMAT`), checked against the triplet set they answer;
* :func:`pool_answers` (→ :class:`Pooled`) — many observers' answers pooled, each metric scored with
  :func:`percepkit.agreement` and a bootstrap or :func:`wilson` interval.

Scoring itself (tally, picks, agreement, self-agreement) is :mod:`percepkit.scoring`'s.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cache import atomic_write_text
from .scoring import Distances, _check_choices, agreement, picks, self_agreement, tally
from .triplets import SET_VERSION, TripletSet

__all__ = ["FORMAT", "save_answers", "load_answers", "pool_answers", "Pooled", "wilson"]

#: The ``"format"`` of an answers file.
FORMAT = "percepkit-2afc"


# --- answer files ------------------------------------------------------------------------------


def save_answers(path, tset: TripletSet, choices, observer: str = "") -> Path:
    """Write an observer's choices to a small JSON file (format :data:`FORMAT`); returns the path."""
    choices = _check_choices(tset, choices)
    doc = {"format": FORMAT, "version": SET_VERSION, "set": tset.fingerprint, "size": tset.size, "seed": tset.seed,
           "repeats": tset.repeats, "observer": str(observer), "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "items": [{"triplet": tset.triplets[i].id, "swapped": bool(s), "choice": c}
                     for (i, s), c in zip(tset.order, choices)]}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, json.dumps(doc, indent=1))  # never a half-written file


def load_answers(path, tset: TripletSet) -> list:
    """Read a file written by :func:`save_answers` (or the panel) for ``tset``; returns its choices.

    Raises:
        ValueError: not JSON, not an answers file, answers to another triplet set, or items that do
            not match the set's order — the message says what was expected and what the file holds.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: expected a JSON answers file ({FORMAT}); it is not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise ValueError(f"{path}: expected a {FORMAT!r} answers file (key 'format'); got {got!r}")
    if doc.get("set") != tset.fingerprint:
        raise ValueError(f"{path}: answers to triplet set {doc.get('set')!r} (size {doc.get('size')}, seed "
                         f"{doc.get('seed')}, repeats {doc.get('repeats')}); this set is {tset.fingerprint!r} "
                         f"(size {tset.size}, seed {tset.seed}, repeats {tset.repeats})")
    items = doc.get("items")
    if not isinstance(items, list) or len(items) != len(tset):
        got = len(items) if isinstance(items, list) else type(items).__name__
        raise ValueError(f"{path}: expected {len(tset)} items (one per triplet shown); got {got}")
    choices = []
    for k, ((i, s), item) in enumerate(zip(tset.order, items)):
        want = {"triplet": tset.triplets[i].id, "swapped": s}
        if not isinstance(item, dict) or any(item.get(key) != v for key, v in want.items()):
            raise ValueError(f"{path}: item {k} should be {want}; got {item!r}")
        choices.append(item.get("choice"))
    return _check_choices(tset, choices)


def wilson(k: float, n: float, z: float = 1.96) -> tuple:
    """Wilson score interval for a proportion ``k / n`` (``z = 1.96``: 95 %)."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"expected 0 <= k <= n and n > 0; got k={k}, n={n}")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Pooled:
    """A class's answers, pooled (from :func:`pool_answers`).

    Attributes:
        agreement: ``{metric: agreement}`` on the pooled answers.
        ci: ``{metric: (low, high)}``, the confidence interval.
        ceiling: how often two answers to the same triplet agree (:func:`self_agreement`) and its interval.
        counts: (n_triplets, 2) pooled answers; n_observers; method: ``"bootstrap"`` or ``"wilson"``.
    """

    agreement: dict
    ci: dict
    ceiling: tuple
    counts: np.ndarray
    n_observers: int
    method: str

    def table(self) -> str:
        """The result as aligned text, one metric per line."""
        rows = [f"{m:24s} {a:6.1%}   [{lo:6.1%}, {hi:6.1%}]" for m, a in self.agreement.items()
                for lo, hi in [self.ci[m]]]
        return "\n".join(rows)


def pool_answers(sources, tset: TripletSet, dist: Distances, method: str = "bootstrap", n_boot: int = 2000,
                 level: float = 0.95, seed: int = 0) -> Pooled:
    """Pool many observers' answers and score every metric with a confidence interval.

    Args:
        sources: answer files (paths) and/or lists of choices, one per observer.
        tset, dist: the triplet set and its :func:`triplet_distances`.
        method: ``"bootstrap"`` (default): :func:`agreement` on the pooled answers (p = the class's
            fraction per triplet), with a percentile interval from resampling observers *and*
            triplets with replacement ``n_boot`` times — honest about both sources of chance.
            ``"wilson"``: the fraction of individual answers the metric agrees with (a tie: ½), with
            a Wilson interval that treats every answer as an independent coin (narrower: it ignores
            that answers to the same triplet go together).
        level: confidence level of the interval.

    Returns:
        Pooled.
    """
    if method not in ("bootstrap", "wilson"):
        raise ValueError(f"expected method 'bootstrap' or 'wilson'; got {method!r}")
    if not 0 < level < 1:
        raise ValueError(f"expected 0 < level < 1; got {level!r}")
    if isinstance(sources, (str, os.PathLike)):
        raise ValueError(f"expected a list of answer files or choice lists, one per observer; got one path {str(sources)!r}"
                         " (wrap it in a list)")
    sources = list(sources)
    if not sources:
        raise ValueError("expected a non-empty list of answer files or choice lists, one per observer")
    if not isinstance(dist, Distances) or dist.relative.shape[0] != len(tset.triplets):
        raise ValueError(f"expected the Distances of this triplet set ({len(tset.triplets)} triplets)")
    per = np.stack([tally(tset, load_answers(s, tset) if isinstance(s, (str, os.PathLike)) else s) for s in sources])
    counts = per.sum(0)
    if method == "wilson":
        z = _z(level)
        agree, ci = {}, {}
        for m, d in dist.table.items():
            pk_ = picks(d)
            k, n = float((pk_ * counts[:, 0] + (1 - pk_) * counts[:, 1]).sum()), float(counts.sum())
            agree[m], ci[m] = k / n, wilson(k, n, z)
        k, n = _agreeing_pairs(counts)
        ceiling = (k / n, wilson(k, n, z)) if n else (math.nan, (math.nan, math.nan))
        return Pooled(agree, ci, ceiling, counts, len(per), method)
    agree = {m: agreement(d, counts) for m, d in dist.table.items()}
    rng = np.random.default_rng(seed)
    names = list(dist.table)
    pick = np.stack([picks(dist.table[m]) for m in names])  # (metrics, triplets)
    n_obs, n_tri = per.shape[:2]
    boot, boot_c = np.full((n_boot, len(names)), np.nan), np.full(n_boot, np.nan)
    for b in range(n_boot):
        t = rng.integers(0, n_tri, n_tri)
        c = per[rng.integers(0, n_obs, n_obs)].sum(0)[t]
        n = c.sum(1)
        seen = n > 0
        if seen.any():
            p = c[seen, 0] / n[seen]
            m = pick[:, t[seen]]
            boot[b] = (m * p + (1 - m) * (1 - p)).mean(1)
        boot_c[b] = self_agreement(c)[0]
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    ci = {m: tuple(float(v) for v in np.nanpercentile(boot[:, j], q)) for j, m in enumerate(names)}
    c0, used = self_agreement(counts)
    c_ci = tuple(float(v) for v in np.nanpercentile(boot_c, q)) if used and np.isfinite(boot_c).any() else (math.nan,) * 2
    return Pooled(agree, ci, (c0, c_ci), counts, len(per), method)


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def _agreeing_pairs(counts) -> tuple:
    """(agreeing pairs of answers, all pairs) over triplets answered at least twice."""
    k, n = counts[:, 0], counts.sum(1)
    use = n >= 2
    return float((k * (k - 1) + (n - k) * (n - k - 1))[use].sum() / 2), float((n * (n - 1))[use].sum() / 2)
