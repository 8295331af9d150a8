"""Write the mutation score of the core modules and the surviving mutants to a Markdown file.

Run by ``make mutation`` after ``mutmut run`` (mutmut 3.8, configured in pyproject.toml's
``[tool.mutmut]``): it reads mutmut's results under ``mutants/`` and writes, per module, how many
mutants the tests killed, then every survivor with its diff, and for each survivor either the
reason it is equivalent (from :data:`EQUIVALENT` below) or "NOT EXPLAINED" — a test to write.

    python tools/mutation_report.py [--run] [--out tests/MUTATION.md]

``--run`` first runs ``mutmut run`` from scratch (niced, one thread per worker, offline) and
records its wall and CPU time in the report.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("losses", "metrics", "images", "backbones", "weights", "optimize")

# The hand-made mutants of issue 14 (measured on main 9e0bca9, 19 of them survived the unit tests then):
# (module, original text, mutated text, what it means). Each is applied to a copy of the package and
# run against that module's oracle tests; the report lists whether they are killed now.
HAND_MUTANTS = [
    ("metrics", "data_range**2 / m", "data_range / m", "psnr with data_range instead of data_range²"),
    ("metrics", ".square().flatten(1).mean(1)", ".square().flatten().mean().reshape(1)", "psnr: one MSE for the whole batch"),
    ("metrics", "return float(gx.square().mean() + gy.square().mean())", "return float(gx.abs().mean() + gy.abs().mean())",
     "sharpness with absolute instead of squared differences"),
    ("metrics", "gy = x[..., 1:, :] - x[..., :-1, :]", "gy = x[..., :, 1:] - x[..., :, :-1]",
     "sharpness: the vertical gradient replaced by the horizontal one"),
    ("images", "(2 * gx + 1) / w - 1", "(2 * gx + 1) / h - 1", "shift normalising x by the height"),
    ("images", "y = F.pad(x, (r, r, r, r), mode=\"reflect\")", "y = F.pad(x, (r, r, 2 * r, r), mode=\"reflect\")",
     "blur returning a wrong shape"),
    ("images", "if lo < -1e-4 or hi > 1 + 1e-4:", "if lo < -0.1 or hi > 1.1:", "to_tensor silently clamping 1.05"),
    ("backbones", "if min(h, w) < need:", "if max(h, w) < need:", "too-small check using max(h, w)"),
    ("backbones", "check_image(x, what, rgb=True, finite=True, unit_range=True)",
     "check_image(x, what, rgb=True, finite=True, unit_range=False)", "[-1, 1] input accepted by the backbone"),
    ("backbones", "if n * h * w > MAX_PIXELS:", "if h * w > MAX_PIXELS:", "a 2×1500×1500 batch passing the pixel limit"),
    ("backbones", "dtype=torch.bfloat16, enabled=", "dtype=torch.float16, enabled=", "bf16 autocast replaced by fp16"),
    ("losses", "float(weights.get(n, 1.0))", "float(weights.get(n, 0.0))", "dict layer weights defaulting to 0"),
    ("losses", "gy.shape[0] not in (1, gx.shape[0]):", "gy.shape[0] not in (1, gx.shape[0]) and gx.shape[0] != 1:",
     "style_loss broadcasting a 1-image prediction against a 2-image target"),
    ("losses", "m = f.float().reshape(n, c, h * w)", "m = f.reshape(n, c, h * w)", "gram_matrix(bf16) returning bf16"),
    ("losses", "adversarial_loss(self.discriminator(x), True)", "adversarial_loss(self.discriminator(x), False)",
     "CombinedLoss: the adversarial term scored against the fake label"),
    ("losses", "self.style.set_target(y if style is None else style)", "self.style.set_target(y)",
     "CombinedLoss.set_target ignoring style="),
    ("losses", "if lam[\"pix\"] > 0:", "if lam[\"pix\"] >= 0:", "CombinedLoss: the pixel term computed at lambda_pix=0"),
    ("optimize", "            callback(step, x.detach())", "            pass", "optimize_image: its callback never called"),
    ("optimize", "if not torch.isfinite(loss):", "if False:", "optimize_image: its non-finite-loss error removed"),
]


def run_hand_mutants(workers: int = 2) -> list[tuple[str, str, bool]]:
    """Apply each of :data:`HAND_MUTANTS` to a copy of the package; killed = its module's oracle tests fail."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    def one(m):
        mod, old, new, what = m
        with tempfile.TemporaryDirectory() as tmp:
            # the package, its tests and their pytest settings: `python -m pytest` imports from its cwd
            for name in ("percepkit", "tests"):
                shutil.copytree(ROOT / name, Path(tmp) / name, ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(ROOT / "pyproject.toml", tmp)
            f = Path(tmp) / "percepkit" / f"{mod}.py"
            src = f.read_text()
            if src.count(old) != 1:
                raise SystemExit(f"hand mutant {what!r}: {old!r} occurs {src.count(old)} times in {mod}.py, not once")
            f.write_text(src.replace(old, new))
            env = {**os.environ, "PERCEPKIT_OFFLINE": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
            env.pop("PYTHONPATH", None)
            cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:unraisableexception", "-p", "no:nbval",
                   f"tests/test_oracles_{mod}.py"]
            r = subprocess.run(["nice", "-n", "10", *cmd], env=env, cwd=tmp, capture_output=True, text=True)
            return mod, what, r.returncode != 0

    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(one, HAND_MUTANTS))


# Survivors that no test can kill, because the mutant computes the same thing: key = the mutant's
# name as mutmut reports it *and* the mutated line (so a renumbered mutant is not silently excused).
EQUIVALENT: dict[tuple[str, str], str] = {}


def _status(code) -> str:
    # mutmut's own table (mutmut/stats.py): 1 and 3 killed, 0 survived, 5/33 no tests, 36/24/152/255 timeout.
    if code in (1, 3):
        return "killed"
    if code == 0:
        return "survived"
    if code in (5, 33):
        return "no tests"
    if code in (36, 24, -24, 152, 255):
        return "timeout"
    if code is None:
        return "not checked"
    return "suspicious"


def _diff(name: str, path: Path) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    lines = get_diff_for_mutant(name, path=path).splitlines()
    return "\n".join(ln for ln in lines if ln.startswith(("-", "+")) and not ln.startswith(("---", "+++")))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/MUTATION.md")
    ap.add_argument("--run", action="store_true", help="run `mutmut run` from scratch first, and time it")
    ap.add_argument("--no-hand", action="store_true", help="skip the hand-made mutants of issue 14")
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    seconds = cpu = None
    if args.run:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        env = {**os.environ, "PERCEPKIT_OFFLINE": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
        t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(["nice", "-n", "10", sys.executable, "-m", "mutmut", "run"], env=env, check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, cpu = time.perf_counter() - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    rows, survivors, unexplained = [], [], 0
    totals = Counter()
    for mod in MODULES:
        meta = ROOT / "mutants" / "percepkit" / f"{mod}.py.meta"
        if not meta.exists():
            print(f"no results for {mod}: run `mutmut run` first", file=sys.stderr)
            return 2
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        count = Counter(_status(c) for c in codes.values())
        n, killed = len(codes), count["killed"] + count["timeout"]
        totals.update(count)
        totals["total"] += n
        rows.append((mod, killed, n, count))
        for name, code in codes.items():
            if _status(code) in ("killed", "timeout"):
                continue
            diff = _diff(name, Path("percepkit") / f"{mod}.py")
            plus = next((ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+")), "")
            reason = EQUIVALENT.get((name, plus))
            unexplained += reason is None
            survivors.append((mod, name, _status(code), diff, reason))

    killed = totals["killed"] + totals["timeout"]
    out = ["# Mutation score of the core modules", "",
           "Written by `make mutation` (mutmut 3.8 via `tools/mutation_report.py`; configuration in `pyproject.toml`,",
           "`[tool.mutmut]`). Each mutant runs against the oracle tests (`tests/test_oracles_*.py`) that reach the",
           "mutated function. A timeout counts as killed. Survivors are listed below, each either explained as",
           "equivalent (no test can tell it from the original) or marked NOT EXPLAINED (a missing test).", "",
           "| module | killed | total | score | survived | no tests | timeout |", "|---|---:|---:|---:|---:|---:|---:|"]
    for mod, k, n, c in rows:
        out.append(f"| {mod}.py | {k} | {n} | {100 * k / n:.1f} % | {c['survived']} | {c['no tests']} | {c['timeout']} |")
    out.append(f"| **all** | **{killed}** | **{totals['total']}** | **{100 * killed / totals['total']:.1f} %** | "
               f"{totals['survived']} | {totals['no tests']} | {totals['timeout']} |")
    out.append("")
    if seconds is not None:
        out.append(f"Run time of this run (`make mutation`): {seconds / 60:.1f} min wall, {cpu / 60:.1f} min CPU "
                   f"(user + system, all workers) on {os.cpu_count()} cores.")
        out.append("")
    if not args.no_hand:
        hand = run_hand_mutants()
        n_killed = sum(k for _, _, k in hand)
        out += [f"## The hand-made mutants of issue 14: {n_killed} of {len(hand)} killed", "",
                "Each applied to a copy of the package and run against its module's oracle tests "
                "(`tools/mutation_report.py`, `HAND_MUTANTS`).", "", "| module | mutant | killed |", "|---|---|---|"]
        out += [f"| {mod}.py | {what} | {'yes' if k else '**NO**'} |" for mod, what, k in hand]
        out.append("")
        print(f"hand-made mutants of issue 14: {n_killed}/{len(hand)} killed")
    out.append(f"## Survivors ({len(survivors)}; {len(survivors) - unexplained} explained as equivalent, {unexplained} not)")
    out.append("")
    for _mod, name, status, diff, reason in survivors:
        out.append(f"### `{name}` ({status})")
        out.append("")
        out.append(f"{'Equivalent: ' + reason if reason else '**NOT EXPLAINED**'}")
        out.append("")
        out.append("```diff")
        out.append(diff)
        out.append("```")
        out.append("")
    (ROOT / args.out).write_text("\n".join(out))
    print(f"{killed}/{totals['total']} mutants killed ({100 * killed / totals['total']:.1f} %); "
          f"{unexplained} survivors not explained; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
