"""Notebook 05's λ panel: how fast sliders answer from the grid, and how long a live run takes.

Targets (issue 4): a slider move re-renders image, numbers and plot in < 0.2 s; the
"compute this exact setting" button finishes in < 10 s at the default size. Also reports
the cold (computing) and warm (from the disk cache) grid precompute. Writes
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
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        pkw.lambda_explorer(backbone=backbone, cache_dir=cache, progress=False)
        warm = time.perf_counter() - t0
    latencies = []
    for move in MOVES:
        t0 = time.perf_counter()
        explorer.set(**move)
        latencies.append(time.perf_counter() - t0)
    explorer.set(pix=1, perc=2, style=0, adv=0)  # between grid points
    t0 = time.perf_counter()
    explorer.compute_exact()
    live = time.perf_counter() - t0
    load = os.getloadavg()[0]
    ok_slider, ok_live = max(latencies) < 0.2, live < 10
    lines = [
        "# Notebook 05 λ panel — measured",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"backbone `{backbone.name}`, load average {load:.1f} at the end of the run.",
        "",
        "| what | measured | target | met |",
        "|---|---|---|---|",
        f"| slider move → image + numbers + plot (median / max of {len(latencies)}) | "
        f"{statistics.median(latencies) * 1000:.1f} / {max(latencies) * 1000:.1f} ms | < 200 ms | "
        f"{'yes' if ok_slider else 'NO'} |",
        f"| live run ('compute this exact setting', 64 px) | {live:.1f} s | < 10 s | {'yes' if ok_live else 'NO'} |",
        f"| grid precompute, cold ({len(pkw.DEFAULT_GRID)} settings) | {cold:.1f} s | — | — |",
        f"| grid precompute, warm (disk cache) | {warm:.2f} s | — | — |",
        "",
        "In-kernel times; a browser adds the PNG round trip (tests/test_browser.py prints it).",
    ]
    (HERE / "results_widgets.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ok_slider and ok_live else 1


if __name__ == "__main__":
    sys.exit(main())
