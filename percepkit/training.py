"""Training a small restoration network (notebook 07): the model, the data, the held-out test, a disk cache.

The training loop itself is in the notebook, in plain sight; this module holds what it needs:

* :class:`TinyDenoiser`: a VDSR-style residual network (``x + body(x)``, a few 3×3 convs),
  small enough to train on a CPU in a minute or two.
* :func:`training_images` / :func:`random_crops`: scikit-image sample pictures, held-out ones
  excluded, cut into seeded random crops (a different batch every step).
* :func:`evaluate`: PSNR, sharpness relative to the truth, and :func:`~percepkit.detail_split`
  (detail recovered vs invented) on held-out images.
* :func:`cached`: runs ``fn(**settings)`` once and keeps its result on disk, keyed by the
  settings, the backbone's fingerprint and ``fn``'s source code.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from pathlib import Path

import torch
import torch.nn as nn

from .backbones import Backbone
from .images import check_image, sample_image
from .metrics import detail_split, psnr, sharpness
from .superres import default_cache_dir

__all__ = ["TinyDenoiser", "TRAIN_IMAGES", "HELD_OUT", "training_images", "random_crops", "evaluate", "cached"]

#: Colour pictures the networks train on (``cat`` is ``chelsea``: left out with it).
TRAIN_IMAGES = ("astronaut", "rocket", "brick", "grass", "gravel", "immunohistochemistry", "retina", "coins")
#: Pictures no network sees during training.
HELD_OUT = ("chelsea", "coffee")
_CACHE_VERSION = 1


class TinyDenoiser(nn.Module):
    """VDSR-style restoration net: ``clamp(x + body(x), 0, 1)`` with ``layers`` 3×3 convs of ``channels``.

    The last conv starts at zero, so the untrained network returns its input unchanged.
    """

    def __init__(self, channels: int = 24, layers: int = 6):
        super().__init__()
        if not (isinstance(channels, int) and channels >= 1 and isinstance(layers, int) and layers >= 2):
            raise ValueError(f"expected channels >= 1 and layers >= 2 (ints); got {channels!r}, {layers!r}")
        body = [nn.Conv2d(3, channels, 3, padding=1), nn.ReLU()]
        for _ in range(layers - 2):
            body += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU()]
        body.append(nn.Conv2d(channels, 3, 3, padding=1))
        nn.init.zeros_(body[-1].weight)
        nn.init.zeros_(body[-1].bias)
        self.body = nn.Sequential(*body)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.body(x)).clamp(0, 1)


def training_images(names=TRAIN_IMAGES, size: int = 192) -> list[torch.Tensor]:
    """The training pictures as (1, 3, size, size) tensors; a held-out name is refused."""
    leaked = [n for n in names if n in HELD_OUT or n == "cat"]
    if leaked:
        raise ValueError(f"{leaked} are held out for testing (cat is chelsea); train on others")
    return [sample_image(n, size) for n in names]


def random_crops(images, n: int, size: int, seed: int) -> torch.Tensor:
    """``n`` random ``size``-px crops (with random flips) from ``images``, seeded: (n, 3, size, size)."""
    g = torch.Generator().manual_seed(int(seed))
    out = []
    for _ in range(n):
        img = images[int(torch.randint(len(images), (1,), generator=g))]
        h, w = img.shape[-2:]
        if min(h, w) < size:
            raise ValueError(f"expected images of at least {size} px; got {h}x{w}")
        y = int(torch.randint(h - size + 1, (1,), generator=g))
        x = int(torch.randint(w - size + 1, (1,), generator=g))
        crop = img[0, :, y:y + size, x:x + size]
        if bool(torch.rand(1, generator=g) < 0.5):
            crop = crop.flip(-1)
        out.append(crop)
    return torch.stack(out)


@torch.no_grad()
def evaluate(model: nn.Module, clean: torch.Tensor, degraded: torch.Tensor) -> dict:
    """Held-out scores of ``model(degraded)`` against ``clean`` (batches of 1+ images, means over them).

    Returns ``{"psnr", "sharpness" (output's / truth's), "recovered", "invented", "output"}``:
    PSNR in dB; the detail split of :func:`~percepkit.detail_split` (recovered: share of the true
    detail present, 1 = all; invented: energy of detail that is not the truth's, relative to
    the truth's).
    """
    check_image(clean, "clean")
    was = model.training
    model.eval()
    out = model(degraded).clamp(0, 1)
    model.train(was)
    split = [detail_split(o[None], c[None]) for o, c in zip(out, clean)]
    return {
        "psnr": psnr(out, clean),
        "sharpness": sum(sharpness(o[None]) / sharpness(c[None]) for o, c in zip(out, clean)) / len(out),
        "recovered": sum(s["recovered"] for s in split) / len(split),
        "invented": sum(s["invented"] for s in split) / len(split),
        "output": out,
    }


def _source(fn) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):  # defined where no source is kept
        return getattr(fn, "__qualname__", repr(fn))


def _jsonable(v):
    if isinstance(v, nn.Module):
        return hashlib.sha256(b"".join(t.detach().float().numpy().tobytes() for t in v.state_dict().values())
                              ).hexdigest()[:16]
    if isinstance(v, torch.Tensor):
        return hashlib.sha256(v.detach().float().contiguous().numpy().tobytes()).hexdigest()[:16]
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)


def cached(fn, backbone: Backbone | None = None, cache_dir=None, key=None, **settings):
    """``fn(**settings)``, computed once and kept on disk (``torch.save``; tensors and dicts of them).

    The key hashes ``fn``'s source, the settings (tensors and modules by their values) and the
    backbone's weight fingerprint, so an edited loop or another backbone computes afresh.
    ``cache_dir``: a folder; ``None`` → :func:`~percepkit.superres.default_cache_dir`; ``False`` → no cache.
    """
    spec = {"v": _CACHE_VERSION, "fn": _source(fn), "settings": _jsonable(settings), "key": _jsonable(key),
            "backbone": None if backbone is None else [backbone.name, backbone.fingerprint()],
            "torch": torch.__version__.split("+")[0]}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]
    folder = None if cache_dir is False else Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = None if folder is None else folder / f"train-{getattr(fn, '__name__', 'fn')}-{digest}.pt"
    if path is not None and path.exists():
        try:
            return torch.load(path, weights_only=True)
        except Exception:  # a corrupt or foreign file: recompute and overwrite
            pass
    result = fn(**settings)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(result, tmp)
        tmp.replace(path)
    return result
