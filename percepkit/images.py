"""Images in, images out: one validated format for everything downstream.

Every function that takes an image goes through :func:`to_tensor`, which returns
float32 RGB in [0, 1] with shape (N, 3, H, W). Normalisation for a network happens
inside the backbone, never here.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "check_image",
    "MAX_SIDE",
    "to_tensor",
    "sample_image",
    "list_sample_images",
    "shift",
    "blur",
    "add_noise",
    "to_numpy",
    "to_pil",
    "to_png",
    "check_pair",
    "check_same_shape",
]

#: Largest side (pixels) accepted without an explicit ``size``; larger images are
#: refused because a CPU would spend minutes per step on them.
MAX_SIDE = 4096

# Pictures bundled with scikit-image (no download needed).
_SAMPLES = (
    "astronaut", "brick", "camera", "cat", "chelsea", "coffee", "coins", "grass", "gravel",
    "hubble_deep_field", "ihc", "immunohistochemistry", "moon", "retina", "rocket", "text",
)
_ALIASES = {"ihc": "immunohistochemistry"}


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"torch.Tensor shape={tuple(x.shape)} dtype={x.dtype}"
    if isinstance(x, np.ndarray):
        return f"numpy.ndarray shape={x.shape} dtype={x.dtype}"
    return type(x).__name__


def _from_array(a: np.ndarray, channels_last: bool) -> torch.Tensor:
    """Array of any supported dtype → float32 tensor (N, C, H, W) in [0, 1], C as given."""
    if a.dtype == np.uint8:
        t = torch.from_numpy(a.astype(np.float32) / 255.0)
    elif a.dtype == np.uint16:
        t = torch.from_numpy(a.astype(np.float32) / 65535.0)
    elif a.dtype == np.bool_:
        t = torch.from_numpy(a.astype(np.float32))
    elif np.issubdtype(a.dtype, np.floating):
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    else:
        raise TypeError(
            f"expected an image of dtype uint8, uint16, bool or float in [0, 1]; got {a.dtype}. "
            "Convert integer images with other ranges yourself, e.g. x / x.max()."
        )
    if t.ndim == 2:
        t = t[None, None]
    elif t.ndim == 3:
        t = t.permute(2, 0, 1)[None] if channels_last else t[None]
    elif t.ndim == 4:
        t = t.permute(0, 3, 1, 2) if channels_last else t
    else:
        raise ValueError(
            f"expected an image of rank 2 (H,W), 3 (H,W,C) or (C,H,W), or 4 (N,C,H,W); got shape {tuple(a.shape)}"
        )
    return t


def _guess_channels_last(shape: tuple[int, ...], default: bool) -> bool:
    """For rank 3/4: decide whether channels are last from which axis looks like 1, 3 or 4 channels."""
    if len(shape) < 3:
        return default
    first = shape[-3] in (1, 2, 3, 4)
    last = shape[-1] in (1, 2, 3, 4)
    if first and not last:
        return False
    if last and not first:
        return True
    return default


def to_tensor(img, size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """Convert an image to float32 RGB in [0, 1] with shape (N, 3, H, W).

    Accepted inputs: a file path, a ``PIL.Image``, a NumPy array, or a torch tensor.

    * dtype: uint8 (÷255), uint16 (÷65535), bool, or float already in [0, 1]. Floats
      outside [0, 1] (e.g. 0–255 or [-1, 1]) are refused rather than guessed.
    * layout: arrays are read as (H, W), (H, W, C) or (N, H, W, C); tensors as (H, W),
      (C, H, W) or (N, C, H, W). When only one axis can be the channel axis (size 1, 3
      or 4), that axis is used instead.
    * channels: gray (1) is repeated to RGB; RGBA (4) is composited over white. Two
      channels are ambiguous (gray+alpha? two bands?) and refused.

    Args:
        img: The image.
        size: ``None`` keeps the size; an int centre-crops to a square and resizes to
            ``size × size``; a tuple ``(H, W)`` resizes to exactly that (bilinear, antialiased).

    Returns:
        torch.Tensor: float32, (N, 3, H, W), values in [0, 1], on the CPU unless the input
        tensor was elsewhere.

    Raises:
        TypeError: unsupported type or dtype.
        ValueError: wrong rank or channel count, NaN/Inf, values out of range, or an image
            larger than ``MAX_SIDE`` without ``size``.
    """
    if isinstance(img, (str, os.PathLike)):
        path = Path(img)
        if not path.exists():
            raise ValueError(f"expected an existing image file; got the path {str(path)!r}, which does not exist")
        from PIL import Image

        with Image.open(path) as im:
            img = im.copy()
    try:
        from PIL import Image

        if isinstance(img, Image.Image):
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                img = np.asarray(img).astype(np.uint16 if img.mode.startswith("I;16") else np.int64)
                if img.dtype == np.int64:
                    img = (img / max(1, img.max())).astype(np.float32)
            else:
                img = np.asarray(img.convert("RGBA" if "A" in img.mode else "RGB"))
    except ImportError:  # pragma: no cover - Pillow is a dependency
        pass

    if isinstance(img, np.ndarray):
        t = _from_array(img, _guess_channels_last(img.shape, default=True))
    elif isinstance(img, torch.Tensor):
        if img.is_complex() or img.dtype in (torch.int8, torch.int16, torch.int32, torch.int64):
            raise TypeError(
                f"expected a tensor of dtype uint8 or float in [0, 1]; got {img.dtype}. "
                "Convert it first, e.g. x.float() / 255 for 0-255 data."
            )
        cl = _guess_channels_last(tuple(img.shape), default=False)
        device = img.device
        a = img.detach()
        if a.dtype == torch.uint8:
            t = _from_array(a.cpu().numpy(), cl)
        else:
            t = _from_array(a.float().cpu().numpy(), cl)
        t = t.to(device)
    else:
        raise TypeError(
            "expected an image as a file path, PIL.Image, numpy.ndarray or torch.Tensor; "
            f"got {_describe(img)}"
        )

    if not torch.isfinite(t).all():
        raise ValueError(f"expected finite pixel values; the image contains NaN or Inf ({_describe(img)})")
    lo, hi = float(t.min()), float(t.max())
    if lo < -1e-4 or hi > 1 + 1e-4:
        hint = " It looks like 0-255 data: divide by 255." if hi > 1.5 else ""
        hint = " It looks like [-1, 1] data: use (x + 1) / 2." if lo < -0.01 and hi <= 1 + 1e-4 else hint
        raise ValueError(f"expected float pixel values in [0, 1]; got values in [{lo:.6g}, {hi:.6g}].{hint}")
    t = t.clamp(0, 1)

    c = t.shape[1]
    if c == 1:
        t = t.expand(-1, 3, -1, -1)
    elif c == 4:
        rgb, alpha = t[:, :3], t[:, 3:]
        t = rgb * alpha + (1 - alpha)
    elif c != 3:
        raise ValueError(
            f"expected 1 (gray), 3 (RGB) or 4 (RGBA) channels; got {c} channels in {_describe(img)}"
        )
    t = t.contiguous()

    if size is not None:
        t = _resize(t, size)
    elif max(t.shape[-2:]) > MAX_SIDE:
        raise ValueError(
            f"image of {t.shape[-2]}x{t.shape[-1]} pixels is larger than {MAX_SIDE} on a side; "
            "pass size=... (e.g. size=256) to resize it before processing on a CPU"
        )
    return t


def _resize(t: torch.Tensor, size) -> torch.Tensor:
    if isinstance(size, int):
        if size < 1:
            raise ValueError(f"expected size >= 1; got {size}")
        h, w = t.shape[-2:]
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        t = t[..., top : top + s, left : left + s]
        hw = (size, size)
    elif isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size):
        hw = tuple(size)
    else:
        raise ValueError(f"expected size as a positive int or a (H, W) tuple of ints; got {size!r}")
    if tuple(t.shape[-2:]) == hw:
        return t.contiguous()
    return F.interpolate(t, size=hw, mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


def list_sample_images() -> list[str]:
    """Names accepted by :func:`sample_image` (scikit-image's bundled pictures, no download)."""
    from skimage import data

    return [n for n in _SAMPLES if hasattr(data, _ALIASES.get(n, n))]


def sample_image(name: str = "astronaut", size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """A picture bundled with scikit-image as a (1, 3, H, W) float tensor in [0, 1].

    Args:
        name: One of :func:`list_sample_images` (e.g. ``"astronaut"``, ``"chelsea"``,
            ``"coffee"``, ``"brick"``, ``"retina"``).
        size: As in :func:`to_tensor` (an int gives a centre-cropped square).

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    names = list_sample_images()
    if name not in names:
        raise ValueError(f"unknown sample image {name!r}; choose one of {names}")
    from skimage import data

    return to_tensor(getattr(data, _ALIASES.get(name, name))(), size=size)


def check_image(x, what: str = "x", *, rgb: bool = True, finite: bool = True, unit_range: bool = False) -> None:
    """The one input check at percepkit's boundary: raise a clear error naming what was expected.

    Args:
        x: the candidate image batch.
        what: its name in the message (``"prediction"``, ``"target"``, …).
        rgb: require 3 channels, (N, 3, H, W); otherwise any (N, C, H, W).
        finite: refuse NaN and Inf.
        unit_range: refuse values outside [0, 1] (1e-3 slack), e.g. ImageNet-normalised or 0–255 data.

    Raises:
        TypeError: not a tensor, or not floating point.
        ValueError: wrong shape, empty, NaN/Inf, or out of range.
    """
    shape = "(N, 3, H, W)" if rgb else "(N, C, H, W)"
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected {what} as a torch.Tensor {shape} in [0, 1]; got {_describe(x)}. "
                        "Convert images with percepkit.to_tensor.")
    if x.ndim != 4 or (rgb and x.shape[1] != 3):
        raise ValueError(f"expected {what} of shape {shape}; got {tuple(x.shape)}. "
                         "Use percepkit.to_tensor for gray, RGBA, (H, W, C) or unbatched images.")
    if not x.is_floating_point():
        raise TypeError(f"expected {what} as a float tensor in [0, 1]; got dtype {x.dtype} (divide by 255?)")
    if x.numel() == 0:
        raise ValueError(f"expected {what} to hold at least one image; got shape {tuple(x.shape)}")
    if not (finite or unit_range):
        return
    with torch.no_grad():  # one pass: min/max propagate NaN, and Inf shows up as an infinite extreme
        lo, hi = (float(v) for v in torch.aminmax(x.detach()))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{what} contains NaN or Inf")
    if unit_range and (lo < -1e-3 or hi > 1 + 1e-3):
        raise ValueError(
            f"expected {what} in [0, 1] (the backbone normalises internally); got values in "
            f"[{lo:.6g}, {hi:.6g}]. Do not pre-normalise with ImageNet mean/std or pass 0-255 data."
        )


def check_same_shape(x: torch.Tensor, y: torch.Tensor, names=("x", "y"), shape: str = "(N, C, H, W)") -> None:
    """The one "same shape" check of a pair (prediction and target, an image and its reference)."""
    if x.shape != y.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape {shape}; got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}")


def check_pair(x, y, names=("x", "y"), *, rgb: bool = True, unit_range: bool = False) -> None:
    """:func:`check_image` on both (named ``names``), then :func:`check_same_shape`."""
    check_image(x, names[0], rgb=rgb, unit_range=unit_range)
    check_image(y, names[1], rgb=rgb, unit_range=unit_range)
    check_same_shape(x, y, names, "(N, 3, H, W)" if rgb else "(N, C, H, W)")


def shift(x: torch.Tensor, dx: float, dy: float = 0.0) -> torch.Tensor:
    """Translate images by (dx, dy) pixels; positive dx moves content right, positive dy down.

    Integer shifts are exact copies of pixels. Fractional shifts use bilinear
    interpolation, which also low-passes a little (strongest at half a pixel).

    Border rule: pixels that come in from outside the frame are filled by *reflecting*
    the image at its border (``padding_mode="reflection"``), so no black bands appear.

    Args:
        x: (N, 3, H, W) float tensor.
        dx, dy: Shift in pixels (any real number).
    """
    check_image(x, finite=False)
    dx, dy = float(dx), float(dy)
    if not (math.isfinite(dx) and math.isfinite(dy)):
        raise ValueError(f"expected finite shifts; got dx={dx}, dy={dy}")
    n, _, h, w = x.shape
    ys = torch.arange(h, dtype=x.dtype, device=x.device) - dy
    xs = torch.arange(w, dtype=x.dtype, device=x.device) - dx
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    # align_corners=False: pixel i sits at (2i + 1) / size - 1
    grid = torch.stack(((2 * gx + 1) / w - 1, (2 * gy + 1) / h - 1), dim=-1)
    grid = grid.expand(n, h, w, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur with standard deviation ``sigma`` pixels (reflect border). ``sigma=0`` copies."""
    check_image(x, finite=False)
    sigma = float(sigma)
    if not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"expected sigma >= 0; got {sigma}")
    if sigma == 0:
        return x.clone()
    r = max(1, math.ceil(3 * sigma))
    if r >= min(x.shape[-2:]):
        raise ValueError(
            f"sigma={sigma} needs a {2 * r + 1}-pixel kernel, larger than the image {tuple(x.shape[-2:])}"
        )
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=x.dtype, device=x.device) / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    y = F.pad(x, (r, r, r, r), mode="reflect")
    y = F.conv2d(y, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    y = F.conv2d(y, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return y


def add_noise(x: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    """Add seeded Gaussian noise of standard deviation ``std`` and clip to [0, 1]."""
    check_image(x, finite=False)
    g = torch.Generator(device="cpu").manual_seed(seed)
    noise = torch.randn(x.shape, generator=g, dtype=x.dtype).to(x.device)
    return (x + float(std) * noise).clamp(0, 1)


def to_numpy(x, index: int = 0) -> np.ndarray:
    """One image as an (H, W, 3) float32 array in [0, 1] for display (detached, on the CPU)."""
    t = x if isinstance(x, torch.Tensor) and x.ndim == 4 and x.shape[1] == 3 else to_tensor(x)
    if not 0 <= index < t.shape[0]:
        raise ValueError(f"index {index} out of range for a batch of {t.shape[0]}")
    return t[index].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def to_pil(x, index: int = 0, scale: int = 1):
    """One image as an 8-bit RGB ``PIL.Image`` (values rounded to the nearest of 0..255), enlarged
    ``scale`` times with nearest neighbour (pixels stay square: what a learner compares by eye)."""
    from PIL import Image

    if not (isinstance(scale, int) and not isinstance(scale, bool) and scale >= 1):
        raise ValueError(f"expected scale as an int >= 1; got {scale!r}")
    im = Image.fromarray((to_numpy(x, index) * 255 + 0.5).astype(np.uint8))
    return im if scale == 1 else im.resize((im.width * scale, im.height * scale), Image.NEAREST)


def to_png(x, index: int = 0, scale: int = 1) -> bytes:
    """:func:`to_pil` encoded as PNG bytes (what ``ipywidgets.Image`` and the answer panels show)."""
    buf = io.BytesIO()
    to_pil(x, index, scale).save(buf, format="png")
    return buf.getvalue()
