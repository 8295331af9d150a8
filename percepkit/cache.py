"""One disk cache for what the notebooks compute once: notebook 05's λ grid, notebook 07's training runs.

Every cached result is a ``torch.save`` file named by a key: the SHA-256 of the settings written as
JSON by :func:`canonical` — tensors and modules by their values, functions by their code, floats to
4 significant digits (a value measured on 1 or on 2 threads differs in its last bits and must still
find its file), networks by :func:`weights_fingerprint`. :func:`load_or_compute` loads the file if it
is there and readable (``weights_only=True``), else computes and saves it atomically (never a
half-written file, even if two kernels race). :func:`atomic_write_text` is the same rule for text.

``cache_dir`` everywhere: a folder; ``None`` → :func:`default_cache_dir`; ``False`` → no disk cache.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from pathlib import Path

import torch
import torch.nn as nn

__all__ = ["default_cache_dir", "cache_folder", "canonical", "cache_key", "weights_fingerprint", "load_or_compute",
           "atomic_write_text"]


def default_cache_dir() -> Path:
    """``$PERCEPKIT_CACHE_DIR`` if set, else ``~/.cache/percepkit``."""
    env = os.environ.get("PERCEPKIT_CACHE_DIR", "").strip()
    return Path(env) if env else Path.home() / ".cache" / "percepkit"


def cache_folder(cache_dir) -> Path | None:
    """The folder ``cache_dir`` names: ``None`` → :func:`default_cache_dir`, ``False`` → ``None`` (no cache)."""
    if cache_dir is False:
        return None
    return default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()


def weights_fingerprint(module: nn.Module, name: str = "") -> str:
    """A short hash of a network's weights (and ``name``), not of where they were loaded from: per tensor
    its name, shape, sum and first 256 values. Equal for the same weights on any machine."""
    h = hashlib.sha256(name.encode())
    for k, v in module.state_dict().items():
        flat = v.detach().reshape(-1).float().cpu()
        h.update(f"{k}{tuple(v.shape)}{float(flat.double().sum()):.6e}".encode())
        h.update(flat[:256].numpy().tobytes())
    return h.hexdigest()[:16]


def source_of(fn) -> str:
    """A function's source code (its key: an edited function computes afresh); its name if no source is kept."""
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):  # defined where no source is kept
        return getattr(fn, "__qualname__", repr(fn))


def canonical(v):
    """``v`` as JSON-able values for a cache key.

    Floats to 4 significant digits; tensors by a hash of their values (not dtype); a network by its
    class, settings (``extra_repr``) and weights (a :class:`~percepkit.Backbone` by its class and its
    own ``fingerprint()`` — name and weights, not the path they were loaded from); functions by their
    code; lists, tuples and dicts element-wise; anything else by ``repr``.
    """
    if isinstance(v, nn.Module):
        if callable(getattr(v, "fingerprint", None)):  # a Backbone: its name and weights, not the file they came from
            return [type(v).__name__, v.fingerprint()]
        return [type(v).__name__, v.extra_repr(), weights_fingerprint(v)]
    if isinstance(v, torch.Tensor):
        return hashlib.sha256(v.detach().float().contiguous().cpu().numpy().tobytes()).hexdigest()[:16]
    if isinstance(v, (list, tuple)):
        return [canonical(x) for x in v]
    if isinstance(v, dict):
        return {str(k): canonical(x) for k, x in v.items()}
    if callable(v) and not isinstance(v, type):  # a function (a degradation, say): keyed by its code
        return source_of(v)
    if isinstance(v, float):
        return float(f"{v:.4g}")
    return v if isinstance(v, (int, str, bool, type(None))) else repr(v)


def cache_key(**spec) -> str:
    """20 hex digits of the SHA-256 of ``canonical(spec)`` plus the torch version (results may differ between
    versions)."""
    spec = {**spec, "torch": torch.__version__.split("+")[0]}
    return hashlib.sha256(json.dumps(canonical(spec), sort_keys=True).encode()).hexdigest()[:20]


def load_or_compute(path: Path | None, compute, encode=None, decode=None):
    """``decode(torch.load(path))`` if ``path`` holds a readable result, else ``compute()``, saved as
    ``encode(result)`` (atomically) unless ``path`` is ``None``. A corrupt or foreign file is recomputed and
    overwritten."""
    if path is not None and path.exists():
        try:
            data = torch.load(path, weights_only=True)
            return data if decode is None else decode(data)
        except Exception:  # a corrupt or foreign file: recompute and overwrite
            pass
    result = compute()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        torch.save(result if encode is None else encode(result), tmp)
        os.replace(tmp, path)
    return result


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename: never a half-written file."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path
