"""Side-by-side benchmark of perceptual losses on the CPU; writes ``benchmarks/results.md``.

Run with ``make bench`` (it installs the peers ``piq`` and ``lpips`` into ``benchmarks/.peers``
and puts that folder on ``PYTHONPATH``), or directly::

    PYTHONPATH=benchmarks/.peers .venv/bin/python benchmarks/bench.py [--quick] [--skip-notebooks]

What it measures, each part in a fresh subprocess with the thread count pinned:

* forward + backward w.r.t. the prediction at 256×256, batch 1 and 4, VGG-19 ``relu1_2``,
  ``relu3_4``, ``relu5_4``, same input and weights (one random VGG-19 checkpoint written under
  torchvision's file name into a temporary ``TORCH_HOME``): percepkit (target cached / every
  call, fp32 / ``precision="auto"``), a tutorial-style implementation, ``piq.ContentLoss``
  and ``lpips.LPIPS(net="vgg")`` (context). Methods run round-robin in one process so that
  load on the machine hits them alike; medians over repeats; ratios from the same run.
* peak memory of one loss step (RSS high-water mark above the state before it, Linux
  ``/proc/self/clear_refs``), one subprocess per method and batch;
* the time and peak RSS (``ru_maxrss``) of loading VGG-19 features from the full-size
  548 MB checkpoint, percepkit vs torchvision;
* attainable convolution throughput (one large conv alone) against what the loss achieves;
* what bf16 costs in accuracy (loss difference, PSNR between bf16- and fp32-optimised images);
* percepkit's ``LPIPS`` next to its ``PerceptualLoss`` on the same real VGG-16 (``vgg16-lpips``),
  layers and inputs: time per call as a metric (no autograd) and as a loss (forward + backward);
* the run time of every notebook in ``notebooks/`` (nbclient, fresh kernel, default backbone).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
SIZE = 256
LPIPS_SIZE = 128  # LPIPS vs PerceptualLoss: two sample images at this size
ORDER = ["percepkit_cached_fp32", "percepkit_uncached_fp32", "percepkit_cached_auto", "percepkit_uncached_auto",
         "tutorial", "piq", "lpips"]
SHORT = {
    "percepkit_cached_fp32": "percepkit, target cached, fp32",
    "percepkit_uncached_fp32": "percepkit, target every call, fp32",
    "percepkit_cached_auto": "percepkit, target cached, precision=\"auto\"",
    "percepkit_uncached_auto": "percepkit, target every call, precision=\"auto\"",
    "tutorial": "straightforward (tutorial: vgg19 slices, target through autograd)",
    "piq": "piq.ContentLoss (same layers)",
    "lpips": "lpips.LPIPS(net=\"vgg\") — context: VGG-16, 5 layers",
}


# --------------------------------------------------------------------------- helpers (all processes)


def _rss_mb(key: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> bool:
    """Reset this process's RSS high-water mark (VmHWM); False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _pin_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def _emit(path: str, obj) -> None:
    Path(path).write_text(json.dumps(obj))


# --------------------------------------------------------------------------- workers (subprocesses)


def worker_time(a) -> dict:
    """Round-robin timing of every method at one batch size (plus, at batch 1, the big conv)."""
    import peers
    import torch
    import torch.nn.functional as F

    _pin_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(a.batch, 3, SIZE, SIZE, generator=g)
    y0 = torch.rand(a.batch, 3, SIZE, SIZE, generator=g)
    methods = {k: peers.BUILDERS[k]() for k in a.methods}
    for m in methods.values():
        m.setup(y0)
    out = {"batch": a.batch, "methods": {}, "labels": {k: m.label for k, m in methods.items()}}

    # Same weights, same layers: the per-layer losses of the three VGG-19 implementations agree.
    xs, ys = x0[:1, :, :64, :64], y0[:1, :, :64, :64]
    ref = methods["percepkit_cached_fp32"].per_layer(xs, ys) if "percepkit_cached_fp32" in methods else None
    agree = {}
    for k, m in methods.items():
        if ref is not None and m.per_layer is not None and not m.context_only:
            vals = m.per_layer(xs, ys)
            agree[k] = max(abs(v - r) / abs(r) for v, r in zip(vals, ref))
    out["agreement_max_rel_diff"] = agree

    times = {k: [] for k in methods}
    cpu = {k: [] for k in methods}
    keys = list(methods)
    for r in range(a.repeats[0] + 1):  # round 0 is the warm-up
        order = keys[r % len(keys):] + keys[: r % len(keys)]
        for k in order:
            x = x0.clone().requires_grad_(True)
            t0, c0 = time.perf_counter(), time.process_time()
            loss = methods[k].step(x)
            loss.backward()
            t1, c1 = time.perf_counter(), time.process_time()
            if x.grad is None or not torch.isfinite(x.grad).all():
                raise RuntimeError(f"{k}: no finite gradient w.r.t. the prediction")
            if r > 0:
                times[k].append(t1 - t0)
                cpu[k].append(c1 - c0)
    for k in methods:
        out["methods"][k] = {"wall_ms": [t * 1e3 for t in times[k]], "median_ms": statistics.median(times[k]) * 1e3,
                             "min_ms": min(times[k]) * 1e3, "cpu_ms": statistics.median(cpu[k]) * 1e3}

    if a.conv:  # attainable throughput: one big 3x3 conv (the shape of VGG's relu3_x layers) timed alone
        conv = {}
        w = torch.randn(256, 256, 3, 3, generator=g) * 0.02
        xin = torch.rand(4, 256, 64, 64, generator=g)
        flops = 2 * 256 * 256 * 9 * 64 * 64 * 4
        for name, xx, ww in (("fp32", xin, w), ("bf16", xin.bfloat16(), w.bfloat16())):
            ts = []
            with torch.no_grad():
                for i in range(9):
                    t0 = time.perf_counter()
                    F.conv2d(xx, ww, padding=1)
                    if i:
                        ts.append(time.perf_counter() - t0)
            # attainable = the best of 8 runs (least disturbed by anything else on the machine)
            conv[name] = {"median_ms": statistics.median(ts) * 1e3, "best_ms": min(ts) * 1e3,
                          "gflops": flops / min(ts) / 1e9}
        out["conv"] = conv
        out["loss_conv_flops_forward"] = peers.conv_flops(SIZE, 1)
    return out


def worker_memory(a) -> dict:
    """Peak RSS of one loss step (with the target's setup) above the state after building the method."""
    import peers
    import torch

    _pin_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(a.batch, 3, SIZE, SIZE, generator=g)
    y0 = torch.rand(a.batch, 3, SIZE, SIZE, generator=g)
    m = peers.BUILDERS[a.method]()
    x = x0.clone().requires_grad_(True)
    build_peak, base = _rss_mb("VmHWM"), _rss_mb()
    ok = _reset_peak()
    m.setup(y0)
    m.step(x).backward()
    step_hwm = _rss_mb("VmHWM")
    return {"method": a.method, "batch": a.batch, "step_peak_mb": step_hwm - base if ok else None,
            "baseline_mb": base, "process_peak_mb": max(build_peak, step_hwm)}


def worker_load(a) -> dict:
    """Time and peak RSS of getting VGG-19 features from the full checkpoint, in a fresh process."""
    import torch  # noqa: F401  (imported before the baseline so that only the load is measured)

    import percepkit as pk

    _pin_threads(a.threads)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    if a.what == "percepkit":
        net = pk.load_backbone("vgg19", device="cpu", verbose=False)
    else:
        from torchvision.models import VGG19_Weights, vgg19

        net = vgg19(weights=VGG19_Weights.IMAGENET1K_V1).features
    dt = time.perf_counter() - t0
    n = sum(p.numel() for p in net.parameters())
    return {"what": a.what, "seconds": dt, "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "vmhwm_mb": _rss_mb("VmHWM"), "before_mb": base, "params": n}


def worker_precision(a) -> dict:
    """Accuracy cost of bf16: relative loss differences, and PSNR between bf16- and fp32-optimised images."""

    import peers

    import percepkit as pk

    _pin_threads(a.threads)
    res = {"bf16_native": pk.bf16_native("cpu"), "auto_resolves_to": pk.resolve_precision("auto", "cpu"), "runs": []}
    for name in a.backbones:
        if name == "default":  # what a notebook gets: PERCEPKIT_BACKBONE, else the first available
            name = os.environ.get("PERCEPKIT_BACKBONE") or pk.available_backbones()[0]
        bb = pk.load_backbone(name, device="cpu", verbose=False)
        layers = peers.LAYERS if bb.name.startswith("vgg19") else None
        f32 = pk.PerceptualLoss(bb, layers, precision="fp32")
        b16 = pk.PerceptualLoss(bb, layers, precision="bf16")
        rel = []
        for img in ("astronaut", "coffee"):
            y = pk.sample_image(img, SIZE)
            for x in (pk.blur(y, 2.0), pk.shift(y, 3, 0), pk.add_noise(y, 0.05)):
                lf, lb = float(f32(x, y)), float(b16(x, y))
                rel.append(abs(lb - lf) / lf)
        # Optimise from the same start towards the same target, once in fp32 and once in bf16.
        y = pk.sample_image("astronaut", a.opt_size)
        init = pk.add_noise(pk.blur(y, 2.0), 0.1, seed=0)
        imgs, finals, secs = {}, {}, {}
        for key, loss in (("fp32", f32), ("bf16", b16)):
            loss.set_target(y)
            t0 = time.perf_counter()
            imgs[key], hist = pk.optimize_image(loss, init, steps=a.opt_steps, lr=0.02, progress=False)
            secs[key] = time.perf_counter() - t0
            finals[key] = hist["total"][-1]
        res["runs"].append({
            "backbone": bb.name, "layers": list(f32.layers), "rel_loss_diff_max": max(rel),
            "rel_loss_diff_median": statistics.median(rel), "n_pairs": len(rel),
            "psnr_bf16_vs_fp32": pk.psnr(imgs["bf16"], imgs["fp32"]),
            "psnr_fp32_vs_target": pk.psnr(imgs["fp32"], y), "psnr_bf16_vs_target": pk.psnr(imgs["bf16"], y),
            "psnr_init_vs_target": pk.psnr(init, y), "final_loss": finals, "opt_seconds": secs,
        })
    return res


def worker_lpips(a) -> dict:
    """percepkit's LPIPS and PerceptualLoss on one backbone (vgg16-lpips), the same five layers and inputs."""
    import torch

    import percepkit as pk

    _pin_threads(a.threads)
    bb = pk.resolve_backbone("vgg16-lpips").to("cpu")
    methods = {"lpips": pk.LPIPS(), "perceptual": pk.PerceptualLoss(bb, pk.LPIPS_LAYERS)}
    y = torch.cat([pk.sample_image(n, LPIPS_SIZE) for n in ("astronaut", "coffee")])
    x0 = pk.blur(y, 1.5)
    out = {"size": LPIPS_SIZE, "batch": len(y), "layers": list(pk.LPIPS_LAYERS), "values": {}, "methods": {}}
    times = {(k, mode): [] for k in methods for mode in ("metric", "loss")}
    keys = list(times)
    for r in range(a.repeats[0] + 1):  # round 0 is the warm-up
        for k, mode in keys[r % len(keys):] + keys[: r % len(keys)]:
            x = x0.clone().requires_grad_(mode == "loss")
            t0 = time.perf_counter()
            with torch.set_grad_enabled(mode == "loss"):
                v = methods[k](x, y)
                if mode == "loss":
                    v.backward()
            if r > 0:
                times[k, mode].append(time.perf_counter() - t0)
            out["values"][k] = float(v.detach())
    for (k, mode), ts in times.items():
        out["methods"].setdefault(k, {})[mode] = {"median_ms": statistics.median(ts) * 1e3, "min_ms": min(ts) * 1e3}
    return out


def worker_srnets(a) -> dict:
    """Notebook 08's networks: load time and RSS of each, forward wall/CPU time at the notebook's size
    (60×80 → 240×320, batch 1), the α-blend plus forward, and the critic on a batch of 18 crops."""
    import torch

    import percepkit as pk
    from percepkit import srnets

    _pin_threads(a.threads)
    out = {"rss_start_mb": _rss_mb(), "load": {}, "forward": {}}
    nets = {}
    for name in pk.SR_NETWORKS:
        t0, c0 = time.perf_counter(), time.process_time()
        nets[name] = pk.load_sr_network(name)
        out["load"][name] = {"s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "rss_mb": _rss_mb()}
    lr = srnets.downscale(pk.sample_image("chelsea")[..., 30:270, 60:380])
    crops = torch.rand(18, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    jobs = {"srresnet-mse 60×80→240×320": lambda: nets["srresnet-mse"](lr),
            "srgan 60×80→240×320": lambda: nets["srgan"](lr),
            "blend α=0.5 + forward": lambda: pk.interpolate_networks(nets["srresnet-mse"], nets["srgan"], 0.5)(lr),
            "critic, 18 crops 96×96": lambda: nets["srgan-critic"](crops)}
    with torch.no_grad():
        for k, f in jobs.items():
            f()  # warm-up
            wall, cpu = [], []
            for _ in range(a.repeats[0]):
                t0, c0 = time.perf_counter(), time.process_time()
                f()
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            out["forward"][k] = {"median_s": statistics.median(wall), "cpu_s": statistics.median(cpu)}
    out["peak_rss_mb"] = _rss_mb("VmHWM")
    return out


def worker_notebook(a) -> dict:
    """Execute one notebook top to bottom in a fresh kernel (cells tagged raises-exception may raise)."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(a.path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=a.cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    error = None
    try:
        client.execute()
    except Exception as e:  # noqa: BLE001 - reported in the table, not hidden
        error = f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:200] if str(e).strip() else ''}"
    return {"notebook": path.name, "seconds": time.perf_counter() - t0, "error": error}




# --------------------------------------------------------------------------- orchestration


def _run(args: list[str], env: dict, timeout: float) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [sys.executable, str(Path(__file__).resolve()), *args, "--json", out]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
            return {"error": f"exit {p.returncode}: " + " | ".join(tail)}
        return json.loads(Path(out).read_text())
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f}s", "seconds": time.perf_counter() - t0}
    finally:
        Path(out).unlink(missing_ok=True)


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def worker_checkpoints(a) -> dict:
    """One random VGG-19 (and, for LPIPS, VGG-16) full checkpoint under torchvision's file names."""
    import torch
    from torchvision.models import vgg16, vgg19

    ck = Path(a.path) / "hub" / "checkpoints"
    ck.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for fn, name in ((vgg19, "vgg19-dcbb9e9d.pth"), (vgg16, "vgg16-397923af.pth")):
        torch.manual_seed(0)
        torch.save(fn(weights=None).state_dict(), ck / name)
        sizes[name] = (ck / name).stat().st_size / 1e6
    return sizes


def worker_machine(a) -> dict:
    """CPU model and flags, core and thread counts, library versions."""
    from importlib.metadata import version

    import torch
    import torchvision

    info = {"cpu": platform.processor() or "?", "flags": [], "cores": os.cpu_count(), "threads": a.threads,
            "torch": torch.__version__, "torchvision": torchvision.__version__, "python": platform.python_version()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        for line in text.splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        flags = next((ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), [])
        info["flags"] = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")
                         if f in flags]
    except OSError:
        pass
    info["capability"] = torch.backends.cpu.get_cpu_capability()
    for mod in ("piq", "lpips"):
        try:
            info[mod] = version(mod)
        except Exception:  # noqa: BLE001
            info[mod] = "not installed"
    return info


WORKERS = {"machine": worker_machine, "checkpoints": worker_checkpoints, "time": worker_time, "memory": worker_memory,
           "load": worker_load, "precision": worker_precision, "lpips": worker_lpips, "notebook": worker_notebook,
           "srnets": worker_srnets}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", choices=sorted(WORKERS))
    ap.add_argument("--json")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", os.environ.get("OMP_NUM_THREADS", 2))))
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--repeats", type=int, nargs="+", default=[5, 3], help="timed rounds per batch size")
    ap.add_argument("--methods", nargs="+", default=ORDER)
    ap.add_argument("--method")
    ap.add_argument("--conv", action="store_true")
    ap.add_argument("--what")
    ap.add_argument("--backbones", nargs="+", default=None)
    ap.add_argument("--opt-size", type=int, default=128)
    ap.add_argument("--opt-steps", type=int, default=50)
    ap.add_argument("--path")
    ap.add_argument("--cell-timeout", type=int, default=600)
    ap.add_argument("--quick", action="store_true", help="3 and 2 rounds, no notebooks (a smoke run)")
    ap.add_argument("--skip-notebooks", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results.md"))
    ap.add_argument("--report-only", action="store_true", help="rewrite results.md from results.json")
    a = ap.parse_args(argv)

    if a.report_only:
        Path(a.out).write_text(report(json.loads((HERE / "results.json").read_text())))
        return 0

    if a.worker:
        _emit(a.json, WORKERS[a.worker](a))
        return 0

    if a.quick:
        a.repeats, a.skip_notebooks = [3, 2], True
    if len(a.repeats) == 1:
        a.repeats = a.repeats * len(a.batches)
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    base_env = {**os.environ, "OMP_NUM_THREADS": str(a.threads), "MKL_NUM_THREADS": str(a.threads),
                "PERCEPKIT_OFFLINE": "1", "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    th = ["--threads", str(a.threads)]
    res = {"machine": _run(["--worker", "machine", *th], base_env, 300), "load_start": load_start, "threads": a.threads}
    with tempfile.TemporaryDirectory(prefix="percepkit-bench-") as tmp:
        torch_home = Path(tmp)
        _log(f"writing random VGG-19/VGG-16 checkpoints into TORCH_HOME={torch_home}")
        res["checkpoints_mb"] = _run(["--worker", "checkpoints", "--path", tmp], base_env, 600)
        env = {**base_env, "TORCH_HOME": str(torch_home)}
        # Memory: a fixed glibc mmap threshold returns freed tensors to the OS at once, so the RSS
        # high-water mark follows live tensors instead of allocator caching (same for every method).
        mem_env = {**env, "MALLOC_MMAP_THRESHOLD_": "131072"}

        res["time"] = {}
        for b, reps in zip(a.batches, a.repeats):
            _log(f"timing batch {b}: {reps} rounds of {len(a.methods)} methods (round-robin)")
            res["time"][b] = _run(["--worker", "time", "--batch", str(b), "--repeats", str(reps), "--methods",
                                   *a.methods, *th, *(["--conv"] if b == a.batches[0] else [])], env, 3600)
        res["memory"] = {}
        for b in a.batches:
            for k in a.methods:
                _log(f"peak memory: {k}, batch {b}")
                res["memory"][f"{k}@{b}"] = _run(["--worker", "memory", "--method", k, "--batch", str(b), *th], mem_env, 900)
        res["load"] = {}
        for what in ("percepkit", "torchvision"):
            _log(f"loading VGG-19 features from the 548 MB checkpoint: {what}")
            res["load"][what] = _run(["--worker", "load", "--what", what, *th], env, 600)

    # Accuracy runs on real weights: the default offline backbone (no temporary TORCH_HOME), and VGG-19
    # (random weights, the bench layers). bf16 is what precision="auto" picks where the CPU has it.
    backbones = a.backbones or ["default", "vgg19-random"]
    _log(f"bf16 accuracy on {backbones}: loss differences and {a.opt_steps} Adam steps at {a.opt_size}²")
    res["precision"] = _run(["--worker", "precision", "--backbones", *backbones, "--opt-size", str(a.opt_size),
                             "--opt-steps", str(a.opt_steps), *th], base_env, 1800)
    _log(f"LPIPS vs PerceptualLoss on vgg16-lpips, {LPIPS_SIZE}², batch 2")
    res["lpips"] = _run(["--worker", "lpips", "--repeats", str(a.repeats[0]), *th], base_env, 600)
    _log("notebook 08's networks: load, forward, blend, critic")
    res["srnets"] = _run(["--worker", "srnets", "--repeats", str(a.repeats[0]), *th], base_env, 600)

    res["notebooks"] = []
    if not a.skip_notebooks:
        for nb in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
            _log(f"notebook {nb.name}")
            res["notebooks"].append(_run(["--worker", "notebook", "--path", str(nb),
                                          "--cell-timeout", str(a.cell_timeout)], base_env, 1800) | {"notebook": nb.name})
    res["load_end"] = os.getloadavg()
    res["opt"] = {"size": a.opt_size, "steps": a.opt_steps}
    res["bench_seconds"] = time.perf_counter() - t_start
    (HERE / "results.json").write_text(json.dumps(res, indent=1, default=str))
    Path(a.out).write_text(report(res))
    _log(f"wrote {a.out} and benchmarks/results.json in {res['bench_seconds'] / 60:.1f} min")
    return 0


# --------------------------------------------------------------------------- the report


def _fmt(v, spec=".0f", none="—"):
    return none if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def report(res: dict) -> str:
    m = res["machine"]
    L = ["# percepkit benchmarks", "",
         f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
         f"in {res['bench_seconds'] / 60:.1f} min.", "",
         "## Machine", "",
         f"- CPU: {m['cpu']}, {m['cores']} logical cores; flags: {', '.join(m['flags']) or 'none of interest'}; "
         f"torch CPU capability {m['capability']}",
         f"- threads pinned: **{res['threads']}** (`torch.set_num_threads`, `OMP_NUM_THREADS`)",
         f"- torch {m['torch']}, torchvision {m['torchvision']}, Python {m['python']}, piq {m['piq']}, lpips {m['lpips']}",
         f"- load average at start {res['load_start'][0]:.1f}, at end {res['load_end'][0]:.1f} "
         f"(above {res['threads']} means other processes competed for the cores: times are inflated, "
         "ratios less so because the methods run round-robin in one process)", ""]

    L += ["## Perceptual loss step: forward + backward w.r.t. the prediction", "",
          f"{SIZE}×{SIZE} RGB, VGG-19 `relu1_2`, `relu3_4`, `relu5_4`, one shared random checkpoint "
          "(`vgg19-dcbb9e9d.pth` in a temporary `TORCH_HOME`). Median wall time over the timed rounds "
          "(one warm-up round dropped), and the fastest round "
          "(min: the least disturbed one on a shared machine); CPU = median process CPU time; "
          "**× pk** = time / time of percepkit "
          "with the target cached in fp32 (above 1: slower than percepkit); **× pk train** = time / time of "
          "percepkit with the target every call (the training case). Step peak = RSS high-water mark of "
          "(target setup + one step) above the state after building the loss; process peak = `ru_maxrss` of "
          "that whole process (includes loading the weights).", ""]
    for b, t in res["time"].items():
        if "error" in t:
            L += [f"Batch {b}: **failed** — {t['error']}", ""]
            continue
        ms = t["methods"]
        ref_c = ms.get("percepkit_cached_fp32", {}).get("median_ms")
        ref_u = ms.get("percepkit_uncached_fp32", {}).get("median_ms")
        L += [f"### Batch {b} ({len(next(iter(ms.values()))['wall_ms'])} timed rounds)", "",
              "| method | median ms | min ms | CPU ms | × pk | × pk train | step peak MB | process peak MB |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for k in ORDER:
            if k not in ms:
                continue
            mem = res["memory"].get(f"{k}@{b}", {})
            L.append(f"| {SHORT[k]} | {ms[k]['median_ms']:.0f} | {_fmt(ms[k].get('min_ms'))} | {ms[k]['cpu_ms']:.0f} | "
                     f"{_fmt(ms[k]['median_ms'] / ref_c if ref_c else None, '.2f')} | "
                     f"{_fmt(ms[k]['median_ms'] / ref_u if ref_u else None, '.2f')} | "
                     f"{_fmt(mem.get('step_peak_mb'))} | {_fmt(mem.get('process_peak_mb'))} |")
        agree = t.get("agreement_max_rel_diff", {})
        if agree:
            L += ["", "Same weights and layers, checked: largest relative difference of the per-layer losses vs "
                  "percepkit (piq's ÷C-rescaled) — " + ", ".join(f"{k}: {v:.1e}" for k, v in agree.items()) + "."]
        L.append("")

    L += _goals(res)
    L += _conv(res)
    L += _load(res)
    L += _precision(res)
    L += _lpips(res)
    L += _srnets(res)
    L += _notebooks(res)
    return "\n".join(L) + "\n"


def _ratio(res, b, slow, fast, stat):
    """time(slow) / time(fast) by the median or the fastest round; None if either is missing."""
    ms = res["time"].get(b, {}).get("methods", {})
    if slow not in ms or fast not in ms:
        return None
    f = statistics.median if stat == "median" else min
    return f(ms[slow]["wall_ms"]) / f(ms[fast]["wall_ms"])


def _goals(res) -> list[str]:
    rows = []
    for b in res["time"]:
        mem = {k: res["memory"].get(f"{k}@{b}", {}).get("step_peak_mb") for k in ORDER}

        def ratio(slow, fast, goal, what, b=b):
            r_med, r_min = _ratio(res, b, slow, fast, "median"), _ratio(res, b, slow, fast, "min")
            if r_med is not None:
                rows.append((f"{what} (batch {b})", f"{r_med:.2f}× (min: {r_min:.2f}×)", r_med >= goal))

        ratio("tutorial", "percepkit_cached_fp32", 1.3, "fp32 cached ≥ 1.3× faster than straightforward")
        ratio("piq", "percepkit_cached_fp32", 1.2, "fp32 cached ≥ 1.2× faster than piq")
        if mem["percepkit_cached_fp32"] is not None and mem["tutorial"] is not None and mem["piq"] is not None:
            worst = min(mem["tutorial"], mem["piq"])
            rows.append((f"fp32 cached: no more step peak memory than straightforward / piq (batch {b})",
                         f"{mem['percepkit_cached_fp32']:.0f} vs {mem['tutorial']:.0f} / {mem['piq']:.0f} MB",
                         mem["percepkit_cached_fp32"] <= worst * 1.05))
        ratio("tutorial", "percepkit_uncached_fp32", 0.97, "training case (target every call) not slower than straightforward")
        ratio("piq", "percepkit_uncached_fp32", 0.97, "training case (target every call) not slower than piq")
        ratio("tutorial", "percepkit_cached_auto", 2.5, "precision=\"auto\" cached ≥ 2.5× faster than straightforward fp32")
    p = res.get("precision", {})
    for r in p.get("runs", []):
        rows.append((f"bf16 loss within 2% of fp32 ({r['backbone']}, max over {r['n_pairs']} pairs)",
                     f"{100 * r['rel_loss_diff_max']:.2f}%", r["rel_loss_diff_max"] <= 0.02))
        rows.append((f"bf16-optimised image ≥ 35 dB PSNR vs fp32-optimised ({r['backbone']})",
                     f"{r['psnr_bf16_vs_fp32']:.1f} dB", r["psnr_bf16_vs_fp32"] >= 35))
    ld = res["load"].get("percepkit", {})
    if "ru_maxrss_mb" in ld:
        rows.append(("VGG-19 features-only load < 1 GB peak RSS", f"{ld['ru_maxrss_mb']:.0f} MB", ld["ru_maxrss_mb"] < 1024))
    nbs = [n for n in res["notebooks"] if "seconds" in n]
    if nbs:
        tot = sum(n["seconds"] for n in nbs)
        rows.append(("notebook suite well under 10 min", f"{tot / 60:.1f} min", tot < 600))
    out = ["## Goals (issue 6)", "", "Speed ratios by median time (met/not met judged on it), and by the fastest round "
           "in brackets.", "", "| goal | measured | met |", "|---|---:|:---:|"]
    out += [f"| {g} | {v} | {'yes' if ok else '**no**'} |" for g, v, ok in rows]
    if res["load_start"][0] > res["threads"] or res["load_end"][0] > res["threads"]:
        out += ["", "Timings above were taken on a loaded machine (see the load average): rerun on a quiet one "
                "before quoting them."]
    return out + [""]


def _conv(res) -> list[str]:
    t = next((v for v in res["time"].values() if "conv" in v), None)
    if t is None:
        return []
    F = t["loss_conv_flops_forward"]
    b = t["batch"]
    conv = t["conv"]
    out = ["## Convolution throughput: attainable vs achieved", "",
           f"Attainable = one 3×3 conv, 256→256 channels on 4×64×64, timed alone "
           f"({'best of 8 runs' if 'best_ms' in conv['fp32'] else 'median of 5 runs'}). "
           f"The loss step's conv work at batch {b}: forward F = {F / 1e9:.1f} GFLOP up to `relu5_4`, the "
           "backward to the input ≈ F again; cached target = 2F, target every call = 3F. Pooling, ReLU, "
           "normalisation and the loss itself are not counted, so the fraction is an upper bound on conv efficiency.", "",
           "| | GFLOP/s | fraction of attainable |", "|---|---:|---:|",
           f"| big conv alone, fp32 | {conv['fp32']['gflops']:.0f} | 1 |",
           f"| big conv alone, bf16 | {conv['bf16']['gflops']:.0f} | 1 |"]
    for k, mult, ref in (("percepkit_cached_fp32", 2, "fp32"), ("percepkit_uncached_fp32", 3, "fp32"),
                         ("tutorial", 3, "fp32"), ("piq", 3, "fp32"), ("percepkit_cached_auto", 2, "bf16"),
                         ("percepkit_uncached_auto", 3, "bf16")):
        ms = t["methods"].get(k, {}).get("median_ms")
        if ms:
            g = mult * F / (ms / 1e3) / 1e9
            out.append(f"| {SHORT[k]} ({mult}F) | {g:.0f} | {g / conv[ref]['gflops']:.2f} (of {ref}) |")
    return out + [""]


def _load(res) -> list[str]:
    out = ["## Loading VGG-19 features from the full 548 MB checkpoint", "",
           "Fresh process each; `ru_maxrss` is the whole process's peak (torch itself included, ~"
           f"{_fmt(res['load'].get('percepkit', {}).get('before_mb'))} MB before loading).", "",
           "| how | seconds | peak RSS (ru_maxrss) MB | parameters kept |", "|---|---:|---:|---:|"]
    for what, label in (("percepkit", "`pk.load_backbone(\"vgg19\")` (mmap, `features.*` only)"),
                        ("torchvision", "`torchvision.models.vgg19(weights=...).features`")):
        r = res["load"].get(what, {})
        if "error" in r:
            out.append(f"| {label} | failed: {r['error']} | | |")
        else:
            out.append(f"| {label} | {r['seconds']:.2f} | {r['ru_maxrss_mb']:.0f} | {r['params'] / 1e6:.1f} M |")
    return out + [""]


def _precision(res) -> list[str]:
    p = res.get("precision", {})
    if "error" in p:
        return ["## bf16 accuracy", "", f"failed: {p['error']}", ""]
    out = ["## What bf16 costs in accuracy", "",
           f"Native bf16 on this CPU: {p['bf16_native']}; `precision=\"auto\"` resolves to **{p['auto_resolves_to']}**. "
           f"Loss difference: |L_bf16 − L_fp32| / L_fp32 at {SIZE}² for blur σ=2, shift 3 px and noise 0.05 of two "
           f"sample images. Optimisation: {res['opt']['steps']} Adam steps (lr 0.02) at {res['opt']['size']}² "
           "from the same start (blurred, noisy astronaut) towards the astronaut, once with each precision.", "",
           "| backbone | layers | loss diff max | median | PSNR bf16 vs fp32 image | fp32 / bf16 image vs target "
           "(start) | seconds fp32 / bf16 |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in p.get("runs", []):
        out.append(f"| {r['backbone']} | {', '.join(r['layers'])} | {100 * r['rel_loss_diff_max']:.2f}% | "
                   f"{100 * r['rel_loss_diff_median']:.2f}% | {r['psnr_bf16_vs_fp32']:.1f} dB | "
                   f"{r['psnr_fp32_vs_target']:.1f} / {r['psnr_bf16_vs_target']:.1f} ({r['psnr_init_vs_target']:.1f}) dB | "
                   f"{r['opt_seconds']['fp32']:.1f} / {r['opt_seconds']['bf16']:.1f} |")
    return out + [""]


def _lpips(res) -> list[str]:
    p = res.get("lpips")
    if p is None:  # results.json from before this section existed
        return []
    if "error" in p:
        return ["## LPIPS next to PerceptualLoss", "", f"failed: {p['error']}", ""]
    out = ["## LPIPS next to PerceptualLoss", "",
           f"`pk.LPIPS()` and `pk.PerceptualLoss(\"vgg16-lpips\", pk.LPIPS_LAYERS)`: the same backbone (LPIPS's "
           f"ImageNet VGG-16, real weights), the same five layers, the same inputs (astronaut and coffee at "
           f"{p['size']}², batch {p['batch']}, against their σ=1.5 blur). Metric = one call without autograd; "
           "loss = forward + backward w.r.t. the prediction. Median and fastest round (one warm-up round dropped); "
           "the two run round-robin in one process.", "",
           "| method | value | metric median ms | min ms | loss median ms | min ms |", "|---|---:|---:|---:|---:|---:|"]
    for k, label in (("lpips", "`pk.LPIPS()` (unit-normalised, learned channel weights)"),
                     ("perceptual", "`pk.PerceptualLoss` (plain MSE per layer, weights 1)")):
        m, v = p["methods"][k], p["values"][k]
        out.append(f"| {label} | {v:.4g} | {m['metric']['median_ms']:.0f} | {m['metric']['min_ms']:.0f} | "
                   f"{m['loss']['median_ms']:.0f} | {m['loss']['min_ms']:.0f} |")
    return out + [""]


def _srnets(res) -> list[str]:
    p = res.get("srnets")
    if p is None:
        return []
    if "error" in p:
        return ["## Notebook 08's networks", "", f"failed: {p['error']}", ""]
    out = ["## Notebook 08's networks", "",
           "`pk.load_sr_network` for each network (SHA-256 check + h5py read + port), RSS after each load, then the "
           "median of the repeats (one warm-up dropped), `torch.no_grad()`.", "",
           "| network | load s | load CPU-s | RSS after load MB |", "|---|---:|---:|---:|"]
    for k, v in p["load"].items():
        out.append(f"| {k} | {v['s']:.2f} | {v['cpu_s']:.2f} | {v['rss_mb']:.0f} |")
    out += ["", "| call | median s | CPU-s |", "|---|---:|---:|"]
    for k, v in p["forward"].items():
        out.append(f"| {k} | {v['median_s']:.3f} | {v['cpu_s']:.3f} |")
    out += ["", f"Peak RSS of the process: {p['peak_rss_mb']:.0f} MB (start {p['rss_start_mb']:.0f} MB).", ""]
    return out


def _notebooks(res) -> list[str]:
    nbs = res["notebooks"]
    if not nbs:
        return ["## Notebooks", "", "Not run here (`--skip-notebooks` or `--quick`); `make bench` times them, on two cores "
                "and on one, in benchmarks/bench_notebooks.py → results_notebooks.md.", ""]
    out = ["## Notebook suite (nbclient, fresh kernel each, default offline backbone)", ""]
    if res.get("notebooks_note"):
        out += [res["notebooks_note"], ""]
    out += ["| notebook | seconds | status |", "|---|---:|---|"]
    for n in nbs:
        status = "ok" if not n.get("error") else f"**error**: {n['error']}"
        out.append(f"| {n['notebook']} | {_fmt(n.get('seconds'), '.0f')} | {status} |")
    tot = sum(n.get("seconds", 0) for n in nbs)
    out.append(f"| **total ({len(nbs)} notebooks)** | **{tot:.0f}** | |")
    return out + [""]


if __name__ == "__main__":
    sys.exit(main())
