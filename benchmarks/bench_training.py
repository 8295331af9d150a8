"""Training-step throughput (notebook 07's denoiser): steps per CPU-second, at the same loss value.

Five ways to run one training step of ``TinyDenoiser(24, 5)`` (batch 8 × 32 px, Adam):

- ``MSE``: pixel loss only (the floor: the denoiser's own forward, backward and update).
- ``naive``: MSE + a tutorial-style perceptual loss (normalised, frozen) whose target goes through the
  network *with* autograd on every step — the seed's ``y = sl(y)`` when the target carries a graph.
- ``perceptual fp32``: MSE + ``pk.PerceptualLoss`` (target features under ``no_grad``).
- ``perceptual auto``: the same with ``precision="auto"`` (bf16 autocast in the loss network where the CPU
  has native bf16).
- ``auto + bf16 denoiser``: also the denoiser's forward under ``torch.autocast(bfloat16)`` (weights, the
  optimiser and the loss stay float32).

All five are built in one process and run round-robin (the order rotates every round), so background
load hits them alike; one warm-up round is dropped; medians of CPU time per step. The loss's own
cost is the step's minus the MSE step's.

"At the same loss value": the four perceptual variants then train the same network from the same
weights on the same batches for ``--converge`` steps, and the loss each reaches is scored the same
way (float32 MSE + float32 perceptual on fixed crops): a faster step only counts if it optimises as well.

Writes ``benchmarks/results_training.md``. Run: ``python benchmarks/bench_training.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

import percepkit as pk
from percepkit import training

WEIGHT = 1e-5  # the perceptual term's weight (its value is ~1e3× the MSE's on this network)


class NaiveLoss(nn.Module):
    """Normalised, but the target goes through the network with autograd on every call."""

    def __init__(self, backbone, layers):
        super().__init__()
        self.backbone, self.layers = backbone, layers

    def forward(self, x, y):
        fx = self.backbone(self.backbone.normalize(x), self.layers, normalize=False)
        fy = self.backbone(self.backbone.normalize(y), self.layers, normalize=False)
        return sum(torch.mean((fx[n] - fy[n]) ** 2) for n in self.layers)


def make_steps(bb, layers):
    """name -> step(model, noisy, clean) returning the loss to backpropagate; and the fp32 loss that scores."""
    naive = NaiveLoss(bb, layers)
    fp32 = pk.PerceptualLoss(bb, layers=layers)
    auto = pk.PerceptualLoss(bb, layers=layers, precision="auto")
    bf16 = pk.resolve_precision("auto") == "bf16"

    def step_with(loss=None, target_graph=False, bf16_model=False):
        def step(model, noisy, clean):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16_model and bf16):
                pred = model(noisy).float()
            if loss is None:
                return F.mse_loss(pred, clean)
            target = clean.clone().requires_grad_(True) if target_graph else clean
            return F.mse_loss(pred, clean) + WEIGHT * loss(pred, target)

        return step

    return {"MSE": step_with(), "naive (target with autograd)": step_with(naive, target_graph=True),
            "perceptual fp32": step_with(fp32), "perceptual auto": step_with(auto),
            "auto + bf16 denoiser": step_with(auto, bf16_model=True)}, fp32


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=4, help="steps per method per round")
    ap.add_argument("--converge", type=int, default=80, help="training steps for the same-loss check")
    args = ap.parse_args()
    torch.manual_seed(0)
    bb = pk.load_backbone(verbose=False)
    layers = bb.default_layers[:2]
    images = training.training_images()
    clean = training.random_crops(images, 8, 32, seed=0)
    noisy = pk.add_noise(clean, 0.15, seed=1)
    steps, score_loss = make_steps(bb, layers)
    names = list(steps)
    models = {k: pk.TinyDenoiser(24, 5) for k in names}
    opts = {k: torch.optim.Adam(m.parameters(), lr=2e-3) for k, m in models.items()}
    times = {k: [] for k in names}
    for r in range(args.rounds + 1):
        order = names[r % len(names):] + names[:r % len(names)]
        for k in order:
            cpu = time.process_time()
            for _ in range(args.steps):
                loss = steps[k](models[k], noisy, clean)
                opts[k].zero_grad()
                loss.backward()
                opts[k].step()
            if r > 0:
                times[k].append((time.process_time() - cpu) / args.steps)
    med = {k: statistics.median(v) for k, v in times.items()}
    naive_name = "naive (target with autograd)"
    naive = med[naive_name]

    # the same loss value: train each perceptual variant identically, score all in float32
    probe = training.random_crops(images, 8, 32, seed=10_000)
    probe_noisy = pk.add_noise(probe, 0.15, seed=10_001)
    reached = {}
    for k in names[1:]:
        model = pk.TinyDenoiser(24, 5, seed=0)
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        for step in range(args.converge):
            c = training.random_crops(images, 8, 32, seed=step)
            loss = steps[k](model, pk.add_noise(c, 0.15, seed=1000 + step), c)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            pred = model(probe_noisy)
            reached[k] = float(F.mse_loss(pred, probe) + WEIGHT * score_loss(pred, probe))

    own = {k: max(v - med["MSE"], 1e-9) for k, v in med.items()}
    lines = [
        "# Training-step throughput (notebook 07's denoiser)",
        "",
        f"Backbone `{bb.name}`, layers {list(layers)}, batch 8 × 32 px crops, TinyDenoiser(24, 5), Adam; "
        f"{args.rounds} rounds × {args.steps} steps, medians of CPU time per step; "
        f"{torch.get_num_threads()} threads, {platform.processor() or platform.machine()}, "
        f"load average {os.getloadavg()[0]:.1f}; bf16 native: {pk.bf16_native()}.",
        "",
        "| step | CPU-s per step | steps per CPU-s | step vs naive | the loss's own CPU-s | loss vs naive "
        f"| loss reached after {args.converge} steps (fp32 score) |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, v in med.items():
        extra = "– | –" if k == "MSE" else f"{own[k]:.3f} | {own[naive_name] / own[k]:.2f}×"
        score = "–" if k not in reached else \
            f"{reached[k]:.5f} ({100 * (reached[k] / reached[naive_name] - 1):+.1f} % vs naive)"
        lines.append(f"| {k} | {v:.3f} | {1 / v:.1f} | {naive / v:.2f}× | {extra} | {score} |")
    best = max(names[2:], key=lambda k: naive / med[k])
    ratio = naive / med[best]
    lines += [
        "",
        f"Fastest: **{best}**, {ratio:.2f}× the naive loop's steps per CPU-second "
        f"({'meets' if ratio >= 2 else 'misses'} the 2× goal), reaching a loss "
        f"{100 * (reached[best] / reached[naive_name] - 1):+.1f} % from the naive loop's after the same "
        f"{args.converge} steps. The MSE row is the denoiser's own step, part of every row: it caps what a "
        "faster loss alone can give the whole step.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(__file__).with_name("results_training.md").write_text(text)


if __name__ == "__main__":
    main()
