"""Training-step throughput (notebook 07's denoiser): steps per CPU-second for four losses.

- ``MSE``: pixel loss only.
- ``perceptual fp32``: MSE + pk.PerceptualLoss (target features under no_grad), float32.
- ``perceptual auto``: the same with ``precision="auto"`` (bf16 autocast where the CPU has native bf16).
- ``naive``: MSE + a tutorial-style loss that normalises but recomputes the target's features *with*
  autograd every step (the seed's ``y = sl(y)``).

All four are built in one process and run round-robin (the order rotates every round), so background
load hits them alike; one warm-up round is dropped; medians of CPU time per step. The loss's own
cost is the step's minus the MSE step's (the denoiser's forward, backward and Adam update are the
same in every row).

"At the same loss value": the three perceptual variants then train the same network from the same
weights on the same batches for ``--converge`` steps, and the loss each reaches is measured the same
way (float32 MSE + perceptual on fixed crops): a faster step only counts if it optimises as well.

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


class NaiveLoss(nn.Module):
    """Normalised, but the target goes through the network with autograd on every call."""

    def __init__(self, backbone, layers):
        super().__init__()
        self.backbone, self.layers = backbone, layers

    def forward(self, x, y):
        fx = self.backbone(self.backbone.normalize(x), self.layers, normalize=False)
        fy = self.backbone(self.backbone.normalize(y), self.layers, normalize=False)
        return sum(torch.mean((fx[n] - fy[n]) ** 2) for n in self.layers)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--steps", type=int, default=4, help="steps per method per round")
    ap.add_argument("--converge", type=int, default=60, help="training steps for the same-loss check")
    args = ap.parse_args()
    torch.manual_seed(0)
    bb = pk.load_backbone(verbose=False)
    layers = bb.default_layers[:2]
    images = training.training_images()
    clean = training.random_crops(images, 8, 32, seed=0)
    target = clean.clone().requires_grad_(True)  # a target with a graph behind it, as a GAN or teacher gives
    noisy = pk.add_noise(clean, 0.15, seed=1)
    losses = {
        "MSE": None,
        "perceptual fp32": pk.PerceptualLoss(bb, layers=layers),
        "perceptual auto": pk.PerceptualLoss(bb, layers=layers, precision="auto"),
        "naive (target with autograd)": NaiveLoss(bb, layers),
    }
    models = {k: training.TinyDenoiser(24, 5) for k in losses}
    opts = {k: torch.optim.Adam(m.parameters(), lr=2e-3) for k, m in models.items()}
    times = {k: [] for k in losses}
    names = list(losses)
    for r in range(args.rounds + 1):
        order = names[r % len(names):] + names[:r % len(names)]
        for k in order:
            cpu = time.process_time()
            for _ in range(args.steps):
                pred = models[k](noisy)
                loss = F.mse_loss(pred, clean)
                if losses[k] is not None:
                    loss = loss + 1e-5 * losses[k](pred, target)
                opts[k].zero_grad()
                loss.backward()
                opts[k].step()
            if r > 0:
                times[k].append((time.process_time() - cpu) / args.steps)
    med = {k: statistics.median(v) for k, v in times.items()}
    naive = med["naive (target with autograd)"]

    # the same loss value: train each perceptual variant identically, score all in float32
    fp32_loss = losses["perceptual fp32"]
    probe = training.random_crops(images, 8, 32, seed=10_000)
    probe_noisy = pk.add_noise(probe, 0.15, seed=10_001)
    reached = {}
    for k, fn in losses.items():
        if fn is None:
            continue
        model = training.TinyDenoiser(24, 5, seed=0)
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        for step in range(args.converge):
            c = training.random_crops(images, 8, 32, seed=step)
            t = c.clone().requires_grad_(True) if k.startswith("naive") else c
            pred = model(pk.add_noise(c, 0.15, seed=1000 + step))
            loss = F.mse_loss(pred, c) + 1e-5 * fn(pred, t)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            pred = model(probe_noisy)
            reached[k] = float(F.mse_loss(pred, probe) + 1e-5 * fp32_loss(pred, probe))
    lines = [
        "# Training-step throughput (notebook 07's denoiser)",
        "",
        f"Backbone `{bb.name}`, layers {list(layers)}, batch 8 × 32 px crops, TinyDenoiser(24, 5), Adam; "
        f"{args.rounds} rounds × {args.steps} steps, medians of CPU time per step; "
        f"{torch.get_num_threads()} threads, {platform.processor() or platform.machine()}, "
        f"load average {os.getloadavg()[0]:.1f}; bf16 native: {pk.bf16_native()}.",
        "",
        "| loss | CPU-s per step | steps per CPU-s | step vs naive | the loss's own CPU-s | loss vs naive "
        f"| loss reached after {args.converge} steps (fp32 score) |",
        "|---|---|---|---|---|---|---|",
    ]
    own = {k: max(v - med["MSE"], 1e-9) for k, v in med.items()}
    for k, v in med.items():
        extra = "–" if k == "MSE" else f"{own[k]:.3f} | {own['naive (target with autograd)'] / own[k]:.2f}×"
        score = f"{reached[k]:.5f} ({100 * (reached[k] / reached['perceptual fp32'] - 1):+.1f} % vs fp32)" if k in reached else "–"
        lines.append(f"| {k} | {v:.3f} | {1 / v:.1f} | {naive / v:.2f}× | {extra if k != 'MSE' else '– | –'} | {score} |")
    best = max((k for k in med if k.startswith("perceptual")), key=lambda k: naive / med[k])
    lines += [
        "",
        f"Best perceptual variant: **{best}**, {naive / med[best]:.2f}× the naive loop's steps per CPU-second for the "
        f"whole step ({'meets' if naive / med[best] >= 2 else 'misses'} the 2× goal) and "
        f"{own['naive (target with autograd)'] / own[best]:.2f}× for the loss's own cost; it reaches a loss "
        f"{100 * (reached[best] / reached['naive (target with autograd)'] - 1):+.1f} % from the naive loop's after "
        f"the same {args.converge} steps. The denoiser's own step (the MSE row) is the same in every row, which "
        "caps what a faster loss can give the whole step.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(__file__).with_name("results_training.md").write_text(text)


if __name__ == "__main__":
    main()
