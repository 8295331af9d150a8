"""Notebook 05's λ panel: how fast sliders answer from the grid, and how long a live run takes.

Targets: every slider move re-renders image, numbers and plot in < 0.2 s — measured *cold*
(the first move to each grid setting right after the panel is built, and again right after a
live run, when every plot gains a point) and *warm* (moves to settings already shown); the
"compute this exact setting" button finishes in < 10 s at the default size. Also reports the
cold (computing) and warm (from the disk cache) grid precompute. Writes
benchmarks/results_widgets.md. Run by `make bench`.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

import percepkit as pk
from percepkit import widgets as pkw

HERE = Path(__file__).resolve().parent
MOVES = [dict(perc=0), dict(perc=4), dict(adv=4), dict(style=1), dict(pix=0), dict(pix=1, perc=1, style=0, adv=0),
         dict(perc=2), dict(adv=0), dict(perc=0.5), dict(pix=1, perc=1)]


def main() -> int:
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", 2)))
    backbone = pk.load_backbone()
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        explorer = pkw.lambda_explorer(backbone=backbone, cache_dir=cache, progress=False)
        grid_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        pkw.lambda_explorer(backbone=backbone, cache_dir=cache, progress=False)
        grid_warm = time.perf_counter() - t0

    def visit_every_setting() -> list[float]:
        """Move the sliders to each grid setting once (as a user would), return each move's seconds."""
        times = []
        for lam in pkw.DEFAULT_GRID:
            t0 = time.perf_counter()
            explorer.set(**dict(zip(pkw.TERMS, lam)))
            times.append(time.perf_counter() - t0)
        return times

    cold_build = visit_every_setting()  # first move to each setting after the panel was built
    warm = []
    for move in MOVES:
        t0 = time.perf_counter()
        explorer.set(**move)
        warm.append(time.perf_counter() - t0)
    explorer.set(pix=1, perc=2, style=0, adv=0)  # between grid points
    t0 = time.perf_counter()
    explorer.compute_exact()
    live = time.perf_counter() - t0
    cold_live = visit_every_setting()  # first move to each setting after the live run
    load = os.getloadavg()[0]
    every = cold_build + cold_live + warm
    ok_slider, ok_live = max(every) < 0.2, live < 10

    def row(what, xs):
        ms = f"{statistics.median(xs) * 1000:.1f} / {max(xs) * 1000:.1f} ms"
        return f"| {what} (median / max of {len(xs)}) | {ms} | < 200 ms | {'yes' if max(xs) < 0.2 else 'NO'} |"

    lines = [
        "# Notebook 05 λ panel — measured",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"backbone `{backbone.name}`, load average {load:.1f} at the end of the run.",
        "",
        "| what | measured | target | met |",
        "|---|---|---|---|",
        row("slider move, cold: first visit of each grid setting after the panel is built", cold_build),
        row("slider move, cold: first visit of each grid setting after a live run", cold_live),
        row("slider move, warm: settings already shown", warm),
        f"| live run ('compute this exact setting', 64 px) | {live:.1f} s | < 10 s | {'yes' if ok_live else 'NO'} |",
        f"| grid precompute, cold ({len(pkw.DEFAULT_GRID)} settings) | {grid_cold:.1f} s | — | — |",
        f"| grid precompute, warm (disk cache) | {grid_warm:.2f} s | — | — |",
        "",
        "In-kernel times; a browser adds the PNG round trip (tests/test_browser.py prints it).",
    ]
    (HERE / "results_widgets.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ok_slider and ok_live else 1


if __name__ == "__main__":
    sys.exit(main())
