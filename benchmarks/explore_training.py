"""Exploration: which small restoration task shows a *visible* MSE vs perceptual difference at CPU scale?

Notebook 07 trains ``pk.TinyDenoiser(24, 5)`` on Gaussian denoising: 400 shared MSE steps, then
150 fine-tune steps per arm, either more MSE or MSE + perceptual (``pk.PerceptualLoss`` on the first two
default layers of the loss network, weighted ``PERC_WEIGHT`` times the pixel/perceptual ratio measured at
the split). This script runs the same recipe on tasks the notebook does not try:

``jpeg``
    JPEG artefact removal: each crop encoded at quality 10 with PIL (in memory, PIL's default 4:2:0
    chroma subsampling) and decoded.
``sr2``
    ×2 super-resolution, VDSR-style: input = bicubic upsampling (``F.interpolate``, ``antialias=False``,
    ``align_corners=False``, clamped to [0, 1]) of a 2× area-downsampled crop (``F.avg_pool2d(clean, 2)``);
    the residual network learns the missing detail.
``denoise-adv``
    Denoising (noise std 0.15, as notebook 07) with a third, adversarial arm: MSE + perceptual +
    ``λ_adv·adversarial_loss(D(pred), True)``, ``D = pk.PatchDiscriminator(32)`` trained in turns (one D
    step after every generator step, its own Adam lr 2e-4, betas (0.5, 0.999)); ``λ_adv`` makes the
    adversarial term 0.1× the pixel term at the split (measured with the fresh D, printed).
``denoise-effnet``
    Denoising with ``efficientnet-lite0`` as the loss network instead of the default ``vgg16-hed``. Its
    pretraining and MSE arm are the same computation as ``denoise-adv``'s and are reused when both run.

Every arm is scored on the held-out pictures ``training.HELD_OUT`` at 128 px with
``training.evaluate`` (PSNR, sharpness/truth, detail recovered, detail invented) and ``pk.colour_shift``
(cast), plus the RMS difference of each output from the MSE arm's (in 8-bit levels: a yardstick for
"is there any visible difference at all"). Batches and noise are seeded by the step number, as in the
notebook; model and discriminator initialisations by ``torch.manual_seed(0)``. One CPU thread
(``torch.set_num_threads(1)``), so CPU seconds (``time.process_time``) measure work; wall seconds and
the load average are reported too.

Writes ``benchmarks/results_explore_training.md`` (tables, settings, timings) and one figure per task in
``benchmarks/explore_figures/<task>.png`` (64-px crops of both held-out pictures, nearest-neighbour
enlargement ×3: input / arms / truth; each panel titled with that picture's PSNR and sharpness/truth; kept
under 150 kB: ×2, or a 256-colour palette, if ×3 lossless is larger). The md has, per task, a block
between ``<!-- notes:TASK -->`` markers that is written by hand after looking at the figure; a rerun keeps
those blocks (re-check them) and keeps the sections of tasks it does not run.

Beyond notebook 07's single weight: on the tasks where weight 4 changes little (``jpeg``, ``sr2``,
``denoise-effnet``; see the md) the perceptual arm is also trained at ``--extra-weights`` (default 16 and
64 times the ratio), to see whether a larger weight makes the difference visible. ``--extra-weights``
with no value skips them.

Run (about 2.5 CPU-minutes for all four tasks on one thread)::

    cd <repo> && PERCEPKIT_OFFLINE=1 OMP_NUM_THREADS=1 python benchmarks/explore_training.py
    python benchmarks/explore_training.py --tasks jpeg sr2          # a subset
    python benchmarks/explore_training.py --pretrain-steps 20 --fine-steps 5 --out /tmp/x.md --figdir /tmp/f
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

import percepkit as pk  # noqa: E402
from percepkit import training  # noqa: E402

HERE = Path(__file__).resolve().parent
NOISE = 0.15          # denoising tasks: std of the Gaussian noise (as notebook 07)
JPEG_QUALITY = 10     # jpeg task
CROP, BATCH = 32, 8   # each step: BATCH random CROP-px crops of training.training_images()
LR = 2e-3             # Adam, the restoration net
D_LR, D_BETAS = 2e-4, (0.5, 0.999)  # Adam, the discriminator
PERC_WEIGHT = 4       # perceptual term at the split, as a multiple of the pixel term
ADV_RATIO = 0.1       # adversarial term at the split, as a multiple of the pixel term
TEST_SIZE = 128
FIG_LIMIT = 150_000   # bytes per PNG
TASK_NAMES = ("jpeg", "sr2", "denoise-adv", "denoise-effnet")
SWEEP = ("jpeg", "sr2", "denoise-effnet")  # tasks that also get arms at --extra-weights (see the docstring)


# ---------------------------------------------------------------- degradations
def jpeg(x: torch.Tensor, quality: int = JPEG_QUALITY) -> torch.Tensor:
    """Each image of ``x`` (N, 3, H, W) in [0, 1] → 8-bit → JPEG at ``quality`` in memory → decoded, float."""
    out = []
    for img in x:
        arr = (img.detach().clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=quality)
        buf.seek(0)
        dec = np.asarray(Image.open(buf).convert("RGB"), dtype=np.float32) / 255
        out.append(torch.from_numpy(dec).permute(2, 0, 1))
    return torch.stack(out).to(x.dtype)


def bicubic_x2(x: torch.Tensor) -> torch.Tensor:
    """2× area downsampling, then bicubic upsampling back to the size of ``x`` (clamped to [0, 1])."""
    low = F.avg_pool2d(x, 2)
    return F.interpolate(low, scale_factor=2, mode="bicubic", align_corners=False, antialias=False).clamp(0, 1)


def noisy(x: torch.Tensor, seed: int) -> torch.Tensor:
    return pk.add_noise(x, NOISE, seed=seed)


# degradation(clean, seed): training calls it with seed = 10_000 + step (notebook 07); the split
# measurement with seed 1, the held-out test with seed 99. Only the noise uses the seed.
DEGRADE = {
    "jpeg": (lambda x, seed: jpeg(x), f"JPEG quality {JPEG_QUALITY} (PIL, 4:2:0)"),
    "sr2": (lambda x, seed: bicubic_x2(x), "×2: avg_pool2d(2) then bicubic ×2"),
    "noise": (noisy, f"Gaussian noise std {NOISE}"),
}
TASKS = {  # task: (degradation, loss network, arms beyond MSE)
    "jpeg": ("jpeg", "vgg16-hed", ("MSE + perceptual",)),
    "sr2": ("sr2", "vgg16-hed", ("MSE + perceptual",)),
    "denoise-adv": ("noise", "vgg16-hed", ("MSE + perceptual", "MSE + perceptual + adversarial")),
    "denoise-effnet": ("noise", "efficientnet-lite0", ("MSE + perceptual",)),
}


# ---------------------------------------------------------------- training
def clock():
    return time.process_time(), time.perf_counter()


def since(t0) -> dict:
    cpu, wall = clock()
    return {"cpu_s": cpu - t0[0], "wall_s": wall - t0[1], "load": os.getloadavg()[0]}


def train(images, degrade, steps, start=0, state=None, perceptual=None, perc_weight=0.0, adv_weight=0.0):
    """Notebook 07's loop for ``steps`` steps from ``state``; optional perceptual and adversarial terms.

    With ``adv_weight > 0`` a fresh ``PatchDiscriminator(32)`` (seed 0) trains in turns: after every
    generator step, one D step on the same batch (real: clean crops; fake: the prediction, detached).
    Returns the state and per-step logs (pixel, perceptual, adversarial terms unweighted; D loss).
    """
    torch.manual_seed(0)
    model = pk.TinyDenoiser(channels=24, layers=5)
    if state is not None:
        model.load_state_dict(state)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    disc = d_opt = None
    if adv_weight > 0:
        torch.manual_seed(0)
        disc = pk.PatchDiscriminator(32)
        d_opt = torch.optim.Adam(disc.parameters(), lr=D_LR, betas=D_BETAS)
    log = {"pix": [], "perc": [], "adv": [], "d": []}
    for step in range(start, start + steps):
        clean = training.random_crops(images, BATCH, CROP, seed=step)
        degraded = degrade(clean, 10_000 + step)
        pred = model(degraded)
        pix = F.mse_loss(pred, clean)
        loss = pix
        log["pix"].append(pix.item())
        if perc_weight > 0:
            perc = perceptual(pred, clean)
            loss = loss + perc_weight * perc
            log["perc"].append(perc.item())
        if adv_weight > 0:
            adv = pk.adversarial_loss(disc(pred), True)
            loss = loss + adv_weight * adv
            log["adv"].append(adv.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if adv_weight > 0:  # the discriminator's turn
            d_loss = pk.adversarial_loss(disc(clean), True) + pk.adversarial_loss(disc(pred.detach()), False)
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            log["d"].append(d_loss.item())
    return {"state": model.state_dict(), "log": {k: torch.tensor(v) for k, v in log.items()}}


def split_weights(images, degrade, state, perceptual, with_adv: bool) -> dict:
    """Pixel, perceptual (and adversarial, fresh D) terms of the pretrained net on the seed-0 batch."""
    model = pk.TinyDenoiser(channels=24, layers=5)
    model.load_state_dict(state)
    clean = training.random_crops(images, BATCH, CROP, seed=0)
    with torch.no_grad():
        pred = model(degrade(clean, 1))
        pix = float(F.mse_loss(pred, clean))
        perc = float(perceptual(pred, clean))
        out = {"pix": pix, "perc": perc, "perc_weight": PERC_WEIGHT * pix / perc}
        if with_adv:
            torch.manual_seed(0)
            adv = float(pk.adversarial_loss(pk.PatchDiscriminator(32)(pred), True))
            out.update(adv=adv, adv_weight=ADV_RATIO * pix / adv)
    return out


def tail(v: torch.Tensor, n: int = 25) -> float:
    return float(v[-n:].mean()) if len(v) else float("nan")


# ---------------------------------------------------------------- evaluation and figure
def score(model: nn.Module, clean: torch.Tensor, degraded: torch.Tensor) -> dict:
    s = training.evaluate(model, clean, degraded)
    out = s["output"]
    shift = pk.colour_shift(out, clean)
    s["cast"], s["rgb"] = shift.cast, shift.rgb
    s["per_image"] = [(pk.psnr(o[None], c[None]), pk.sharpness(o[None]) / pk.sharpness(c[None]))
                      for o, c in zip(out, clean)]
    return s


def render(scores: dict, clean: torch.Tensor, title: str, zoom: int) -> Image.Image:
    """The crop grid as an RGB image: rows = held-out pictures, columns = input, arms, truth.

    Axes are placed in whole pixels so every crop pixel becomes exactly ``zoom``×``zoom`` screen pixels
    (nearest), which PNG compresses to about the size of the crops themselves.
    """
    cols = list(scores) + ["truth"]
    side, gap, top, left, head, bottom = 64 * zoom, 8, 46, 24, 34, 6   # pixels
    width = left + len(cols) * (side + gap)
    height = head + 2 * (top + side) + gap + bottom
    dpi = 100
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    fig.text(0.5, 1 - 4 / height, title, ha="center", va="top", fontsize=7)
    for col, name in enumerate(cols):
        imgs = clean if name == "truth" else scores[name]["output"]
        for row in range(2):
            x0 = left + col * (side + gap)
            y0 = height - head - (row + 1) * (top + side) - row * gap  # bottom edge of the axes, pixels
            ax = fig.add_axes((x0 / width, y0 / height, side / width, side / height))
            ax.imshow(pk.to_numpy(imgs[row:row + 1, :, 32:96, 32:96]), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(training.HELD_OUT[row], fontsize=8)
            if name == "truth":
                ax.set_title("truth", fontsize=7)
            else:
                p, sh = scores[name]["per_image"][row]
                label = name.replace("MSE + perceptual + adversarial", "MSE + perc. + adv.")
                ax.set_title(f"{label}\nPSNR {p:.2f} dB\nsharpness {sh:.2f}× truth", fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format="png")
    plt.close(fig)
    return Image.open(buf).convert("RGB")  # no alpha channel: a quarter smaller


def figure(scores: dict, clean: torch.Tensor, path: Path, title: str) -> tuple[int, str]:
    """Save the crop grid to ``path`` under FIG_LIMIT bytes; return its size and how it was stored.

    Tried in order: lossless at zoom 3, lossless at zoom 2, then a 256-colour palette (no dithering) at
    zoom 3 and 2 — the first that fits is kept.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for zoom, palette in ((3, False), (2, False), (3, True), (2, True)):
        img = render(scores, clean, title, zoom)
        if palette:
            img = img.quantize(256, dither=Image.Dither.NONE)
        img.save(path, optimize=True)
        if path.stat().st_size < FIG_LIMIT:
            break
    return path.stat().st_size, f"×{zoom} nearest" + (", 256-colour palette" if palette else ", lossless")


# ---------------------------------------------------------------- the run
def run_task(task, images, backbones, memo, args) -> dict:
    deg_name, bb_name, extra_arms = TASKS[task]
    degrade, deg_text = DEGRADE[deg_name]
    if bb_name not in backbones:
        backbones[bb_name] = pk.load_backbone(bb_name, device="cpu", verbose=False)
    backbone = backbones[bb_name]
    perceptual = pk.PerceptualLoss(backbone, layers=backbone.default_layers[:2])
    timings, reused = {}, []

    key = (deg_name, "pretrain")
    if key not in memo:
        t0 = clock()
        memo[key] = (train(images, degrade, args.pretrain_steps), since(t0))
    else:
        reused.append("pretraining")
    pre, timings["MSE pretraining (shared)"] = memo[key]
    weights = split_weights(images, degrade, pre["state"], perceptual, "MSE + perceptual + adversarial" in extra_arms)
    print(f"[{task}] at the split: pixel {weights['pix']:.5f}, perceptual {weights['perc']:.4g} → perceptual weight "
          f"{weights['perc_weight']:.4g}" + (f"; adversarial {weights['adv']:.4f} (fresh D) → λ_adv "
                                             f"{weights['adv_weight']:.4g}" if "adv" in weights else ""), flush=True)

    arms = {}
    key = (deg_name, "MSE")
    if key not in memo:
        t0 = clock()
        memo[key] = (train(images, degrade, args.fine_steps, args.pretrain_steps, pre["state"]), since(t0))
    else:
        reused.append("MSE arm")
    arms["MSE"], timings["MSE"] = memo[key]
    multiples = {arm: PERC_WEIGHT for arm in extra_arms}
    if task in SWEEP:  # the same perceptual arm at larger weights
        multiples.update({f"MSE + perceptual ×{m:g}": m for m in args.extra_weights})
    for arm, m in multiples.items():
        t0 = clock()
        adv = weights["adv_weight"] if arm.endswith("adversarial") else 0.0
        arms[arm] = train(images, degrade, args.fine_steps, args.pretrain_steps, pre["state"], perceptual,
                          weights["perc_weight"] * m / PERC_WEIGHT, adv)
        arms[arm]["multiple"] = m
        timings[arm] = since(t0)
    for arm, t in timings.items():
        print(f"[{task}] {arm}: {t['cpu_s']:.1f} CPU-s, {t['wall_s']:.1f} s wall, load {t['load']:.2f}", flush=True)

    clean_test = torch.cat([pk.sample_image(n, TEST_SIZE) for n in training.HELD_OUT])
    degraded_test = degrade(clean_test, 99)
    scores = {"input": score(nn.Identity(), clean_test, degraded_test)}
    for arm, result in arms.items():
        model = pk.TinyDenoiser(channels=24, layers=5)
        model.load_state_dict(result["state"])
        scores[arm] = score(model, clean_test, degraded_test)
    fig_path = Path(args.figdir) / f"{task}.png"
    size, stored = figure(scores, clean_test, fig_path,
                          f"{task}: {deg_text}\nloss network {bb_name}; held-out 64-px crops [32:96, 32:96]")
    print(f"[{task}] figure {fig_path} ({size / 1000:.0f} kB, {stored})", flush=True)
    for name, s in scores.items():
        diff = float((s["output"] - scores["MSE"]["output"]).square().mean().sqrt()) * 255
        print(f"[{task}] {name:32s} PSNR {s['psnr']:6.2f}  sharp {s['sharpness']:.2f}  rec {s['recovered']:.2f}  "
              f"inv {s['invented']:.2f}  cast {s['cast']:.3f}  RMS diff from MSE arm {diff:.1f}/255", flush=True)
    return {"deg": deg_text, "backbone": bb_name, "weights": weights, "scores": scores, "timings": timings,
            "arms": arms, "reused": reused, "figure": fig_path, "fig_kb": size / 1000,
            "fig_how": stored}


def section(task: str, r: dict, notes: str, args) -> str:
    w = r["weights"]
    rel = os.path.relpath(r["figure"], Path(args.out).parent)
    lines = [f"<!-- task:{task} -->", f"## {task}: {r['deg']}, loss network `{r['backbone']}`", "",
             f"At the split (pretrained net, seed-0 batch): pixel term {w['pix']:.5f}, perceptual term "
             f"{w['perc']:.4g} → perceptual weight {w['perc_weight']:.4g} ({PERC_WEIGHT}× the ratio)"
             + (f"; adversarial term {w['adv']:.4f} with the fresh D → λ_adv {w['adv_weight']:.4g} "
                f"({ADV_RATIO}× the pixel term)" if "adv" in w else "") + "."
             + (" Arms named ×16, ×64: the same perceptual arm at that multiple of the ratio instead of "
                f"{PERC_WEIGHT}." if any("×" in k for k in r["arms"]) else ""), "",
             "| arm | PSNR dB | sharpness/truth | detail recovered | detail invented | colour cast (R, G, B shift) "
             "| RMS diff. from MSE arm (8-bit levels) |",
             "|---|---|---|---|---|---|---|"]
    mse_out = r["scores"]["MSE"]["output"]
    for name, s in r["scores"].items():
        diff = float((s["output"] - mse_out).square().mean().sqrt()) * 255
        lines.append(f"| {name} | {s['psnr']:.2f} | {s['sharpness']:.2f} | {s['recovered']:.2f} | "
                     f"{s['invented']:.2f} | {s['cast']:.3f} ({', '.join(f'{v:+.3f}' for v in s['rgb'])}) | {diff:.1f} |")
    lines += ["", "| training | steps | CPU-s | wall s | load average (1 min, at the end) |", "|---|---|---|---|---|"]
    for name, t in r["timings"].items():
        steps = args.pretrain_steps if "pretraining" in name else args.fine_steps
        lines.append(f"| {name} | {steps} | {t['cpu_s']:.1f} | {t['wall_s']:.1f} | {t['load']:.2f} |")
    if r["reused"]:
        lines += ["", f"({', '.join(r['reused'])}: the same computation as an earlier task in this run, reused; "
                  "its time is that task's.)"]
    logs = []
    for name, a in r["arms"].items():
        lg = a["log"]
        parts = [f"pixel {tail(lg['pix']):.5f}"]
        if len(lg["perc"]):
            parts.append(f"perceptual×w {tail(lg['perc']) * w['perc_weight'] * a['multiple'] / PERC_WEIGHT:.5f}")
        if len(lg["adv"]):
            parts.append(f"adversarial×λ {tail(lg['adv']) * w['adv_weight']:.5f} (raw {tail(lg['adv']):.3f}), "
                         f"D loss {tail(lg['d']):.3f} (chance: 1.386)")
        logs.append(f"{name}: " + ", ".join(parts))
    lines += ["", "Training losses, mean of the last 25 steps: " + "; ".join(logs) + ".", "",
              f"![{task}: held-out crops]({rel}) ({r['fig_kb']:.0f} kB, {r['fig_how']})", "",
              "**Reading** (by hand, after looking at the figure):", "",
              f"<!-- notes:{task} -->", notes.strip() or "*(not yet looked at)*", f"<!-- /notes:{task} -->",
              f"<!-- /task:{task} -->"]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", nargs="+", choices=TASK_NAMES, default=list(TASK_NAMES))
    ap.add_argument("--pretrain-steps", type=int, default=400)
    ap.add_argument("--fine-steps", type=int, default=150)
    ap.add_argument("--extra-weights", type=float, nargs="*", default=[16, 64],
                    help=f"further perceptual arms (multiples of the ratio, beside {PERC_WEIGHT}) on {', '.join(SWEEP)}")
    ap.add_argument("--out", default=str(HERE / "results_explore_training.md"))
    ap.add_argument("--figdir", default=str(HERE / "explore_figures"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    load0 = os.getloadavg()
    t0 = clock()
    images = training.training_images()
    backbones, memo, results = {}, {}, {}
    for task in TASK_NAMES:
        if task in args.tasks:
            results[task] = run_task(task, images, backbones, memo, args)
    total = since(t0)

    out = Path(args.out)
    old = out.read_text() if out.exists() else ""
    summary = re.search(r"<!-- notes:summary -->\n(.*?)<!-- /notes:summary -->", old, re.S)
    sections = []
    for task in TASK_NAMES:
        if task in results:
            m = re.search(rf"<!-- notes:{task} -->\n(.*?)<!-- /notes:{task} -->", old, re.S)
            sections.append(section(task, results[task], m.group(1) if m else "", args))
        else:  # not run this time: keep the earlier section as it was
            m = re.search(rf"<!-- task:{task} -->.*?<!-- /task:{task} -->", old, re.S)
            if m:
                sections.append(m.group(0))
    head = [
        "# Exploration: which small restoration task shows a visible MSE vs perceptual difference?",
        "",
        "Written by `benchmarks/explore_training.py` (its docstring: the recipe). Notebook 07's recipe on tasks the "
        f"notebook does not try: TinyDenoiser(24, 5), {args.pretrain_steps} shared MSE steps, then "
        f"{args.fine_steps} fine-tune steps per arm; batch {BATCH} × {CROP}-px crops of the 8 training pictures, "
        f"seeded by the step; Adam lr {LR}; perceptual weight {PERC_WEIGHT}× the pixel/perceptual ratio at the split; "
        "`pk.PerceptualLoss(backbone, layers=backbone.default_layers[:2])`. Scores: held-out "
        f"{', '.join(training.HELD_OUT)} at {TEST_SIZE} px, `training.evaluate` (means over both pictures) and "
        "`pk.colour_shift(out, clean).cast` (above ~0.02 is visible).",
        "",
        f"Last run: tasks {', '.join(results)}; {torch.get_num_threads()} thread(s) (torch.set_num_threads(1), "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), {platform.machine()}, torch "
        f"{torch.__version__}; load average {load0[0]:.2f} at the start, {total['load']:.2f} at the end (2 cores, "
        f"another job on the other one); total {total['cpu_s']:.0f} CPU-s, {total['wall_s']:.0f} s wall.",
        "",
        "The summary and each task's *Reading* are written by hand after looking at the figures and the numbers "
        "of the run that wrote the tables; a rerun keeps them, so re-check them against new numbers.",
        "",
        "## Summary",
        "",
        "<!-- notes:summary -->",
        summary.group(1).strip() if summary else "*(not yet written)*",
        "<!-- /notes:summary -->",
        "",
    ]
    out.write_text("\n".join(head) + "\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {out}; total {total['cpu_s']:.0f} CPU-s, {total['wall_s']:.0f} s wall")


if __name__ == "__main__":
    main()
