"""How long each notebook takes a learner: wall clock, kernel CPU-seconds and kernel peak memory.

Each notebook runs top to bottom in a fresh kernel (the gallery's nbclient runner, as Run All does), once on two cores
with two threads (a laptop, the CI machines) and once pinned to one core with one thread (about a
mybinder.org session). The kernel gets a learner's environment: matplotlib's inline backend
(figures are rendered, as in JupyterLab), the default offline backbone, and an empty λ-grid cache
(notebook 05 computes its grid as on a first run). Kernel CPU-seconds and peak RSS come from
``getrusage(RUSAGE_CHILDREN)`` of a fresh runner process whose only child is the kernel.

    .venv/bin/python benchmarks/bench_notebooks.py [--cores 2 1] [--only 05]

Writes benchmarks/results_notebooks.md (run by `make bench`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _gallery_executor():
    """tools/build_gallery.py's ``execute`` (the gallery's runner, with its nbclient workaround)."""
    spec = importlib.util.spec_from_file_location("build_gallery", ROOT / "tools" / "build_gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.execute


def run_one(path: Path, cores: int) -> dict:
    """In this (fresh) process: pin to ``cores`` CPUs, run the notebook, measure the kernel."""
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores])  # the kernel inherits it
    os.environ.update(OMP_NUM_THREADS=str(cores), MKL_NUM_THREADS=str(cores))
    error, nb = None, None
    t0 = time.perf_counter()
    try:
        nb = _gallery_executor()(path, timeout=1200)  # inline figures; shuts the kernel down and waits for it
    except RuntimeError as e:  # reported in the table
        error = str(e)[:200]
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = 0 if nb is None else sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                                       if "image/png" in o.get("data", {}))
    return {"notebook": path.name, "cores": cores, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
            "peak_rss_mb": ru.ru_maxrss / 1024, "figures": figures, "error": error}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--only", nargs="*", default=None, help="notebook number prefixes, e.g. 01 05")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one notebook in this process
    ap.add_argument("--json", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        Path(a.json).write_text(json.dumps(run_one(Path(a.one), a.cores[0])))
        return 0
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if a.only:
        notebooks = [p for p in notebooks if p.name[:2] in a.only]
    rows = []
    load_start = os.getloadavg()[0]
    for cores in a.cores:
        for path in notebooks:
            with tempfile.TemporaryDirectory(prefix="pk-nb-") as tmp:
                out = Path(tmp) / "r.json"
                env = {**os.environ, "PERCEPKIT_CACHE_DIR": str(Path(tmp) / "cache"), "PYTHONWARNINGS": "ignore"}
                subprocess.run([sys.executable, __file__, "--one", str(path), "--cores", str(cores), "--json", str(out)],
                               env=env, check=True, timeout=1800)
                r = json.loads(out.read_text())
            rows.append(r)
            print(f"{r['notebook']} on {cores} core(s): {r['wall_s']:.0f} s wall, {r['cpu_s']:.0f} kernel CPU-s, "
                  f"peak {r['peak_rss_mb']:.0f} MB, {r['figures']} figures{'; ' + r['error'] if r['error'] else ''}",
                  flush=True)
    lines = ["# Notebooks — measured", "",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; load average "
             f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end. Fresh kernel per notebook "
             "(nbclient), inline figures, default offline backbone, empty λ-grid cache (a first run). "
             "`cores` = CPUs the kernel was pinned to = its thread count. Kernel CPU-s = user + system time "
             "of the kernel process; peak = its maximum RSS.", "",
             "| notebook | cores | wall s | kernel CPU-s | kernel peak RSS MB | figures | status |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['notebook']} | {r['cores']} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | "
                     f"{r['peak_rss_mb']:.0f} | {r['figures']} | {'ok' if not r['error'] else r['error']} |")
    for cores in a.cores:
        sel = [r for r in rows if r["cores"] == cores]
        lines.append(f"| **all {len(sel)}** | {cores} | **{sum(r['wall_s'] for r in sel):.0f}** | "
                     f"**{sum(r['cpu_s'] for r in sel):.0f}** | {max(r['peak_rss_mb'] for r in sel):.0f} | "
                     f"{sum(r['figures'] for r in sel)} | |")
    if not a.only:
        (HERE / "results_notebooks.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if not any(r["error"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
