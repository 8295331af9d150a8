"""Notebook 09's triplets: a reference and two distorted candidates, for two-alternative forced choice.

:func:`make_triplets` builds a fixed, seeded set offline (scikit-image's bundled pictures, JPEG
through Pillow in memory) in a few seconds. Each :class:`Triplet` pairs two distortions people
argue about — blur, noise, JPEG, sub-pixel and whole-pixel shifts, colour and contrast changes,
sharpening, texture swaps, the L2 mean of shifted copies, a super-resolution answer with its
detail in the wrong place. In the *MSE-matched* ones the second distortion's strength is found
by bisection so that both candidates have the same mean squared error to the reference (to
:data:`MATCH_RTOL`): a pixel metric cannot choose between them.

A :class:`TripletSet` also fixes the order in which a person sees them: every triplet once, in a
seeded shuffle, then ``repeats`` of them again with A and B swapped, so that an observer's
consistency (the ceiling of any metric) can be measured.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import random
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .images import blur, sample_image, shift, to_pil, to_tensor
from .srnets import downscale, load_sr_network

__all__ = ["MATCH_RTOL", "N_TRIPLETS", "SET_VERSION", "Triplet", "TripletSet", "make_triplets", "triplet_png", "jpeg", "mse",
           "SR_PICTURES", "SR_LABELS", "make_sr_triplets"]

#: Version of the recipe below; part of the set's fingerprint, so answers to an older set are refused.
SET_VERSION = 1
#: Relative tolerance to which MSE-matched candidates share one MSE.
MATCH_RTOL = 1e-4
#: Triplets in the set (16 MSE-matched, 14 not).
N_TRIPLETS = 30


@dataclass(frozen=True)
class Triplet:
    """One 2AFC question: which candidate, ``a`` or ``b``, is closer to ``reference``?

    Attributes:
        id: ``"t00"``, ``"t01"``, … (stable for a given set).
        kind: the pair of distortions, e.g. ``"shift vs blur"``.
        image: the source picture's name.
        reference, a, b: (1, 3, S, S) float RGB in [0, 1].
        labels: what was done to ``a`` and to ``b``, in words.
        matched: True when ``a`` and ``b`` have the same MSE to the reference (to :data:`MATCH_RTOL`).
    """

    id: str
    kind: str
    image: str
    reference: torch.Tensor = field(repr=False)
    a: torch.Tensor = field(repr=False)
    b: torch.Tensor = field(repr=False)
    labels: tuple
    matched: bool


@dataclass(frozen=True)
class TripletSet:
    """The triplets and the order a person judges them in.

    Attributes:
        triplets: the unique :class:`Triplet` s.
        order: what is shown, item by item: ``(triplet index, swapped)``; ``swapped`` shows ``b`` as A.
        size, seed, repeats: how the set was made.
        fingerprint: names the recipe (version, size, seed, repeats); saved answers carry it.
    """

    triplets: tuple
    order: tuple
    size: int
    seed: int
    repeats: int
    fingerprint: str

    def __len__(self) -> int:
        return len(self.order)

    def shown(self, k: int) -> tuple:
        """Item ``k`` as displayed: ``(reference, left "A", right "B")``."""
        i, swapped = self.order[k]
        t = self.triplets[i]
        return (t.reference, t.b, t.a) if swapped else (t.reference, t.a, t.b)

    @property
    def matched(self) -> list:
        """Indices of the MSE-matched triplets."""
        return [i for i, t in enumerate(self.triplets) if t.matched]

    def composition(self) -> dict:
        """``{kind: number of triplets}`` in the order kinds first appear."""
        out: dict = {}
        for t in self.triplets:
            out[t.kind] = out.get(t.kind, 0) + 1
        return out


# --- distortions ---------------------------------------------------------------------------


def mse(x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean squared error of two images (float)."""
    return float((x - y).square().mean())


def jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    """JPEG-compress with Pillow in memory at ``quality`` (1–95) and decode again."""
    from PIL import Image

    if not (isinstance(quality, int) and 1 <= quality <= 95):
        raise ValueError(f"expected a JPEG quality as an int in 1..95; got {quality!r}")
    buf = io.BytesIO()
    to_pil(x).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        return to_tensor(im.convert("RGB"))


def _noise(x, std, seed):
    return _scaled_noise(x, seed)(std)


def _contrast(x, c):
    m = x.mean(dim=(2, 3), keepdim=True)
    return (m + c * (x - m)).clamp(0, 1)


def _gain(x, gains):  # a colour cast: each channel scaled
    return (x * torch.tensor(gains, dtype=x.dtype).view(1, 3, 1, 1)).clamp(0, 1)


def _brightness(x, d):
    return (x + d).clamp(0, 1)


def _sharpen(x, amount, sigma=1.0):  # unsharp mask
    return (x + amount * (x - blur(x, sigma))).clamp(0, 1)


def _saturation(x, s):
    gray = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    return (gray + s * (x - gray)).clamp(0, 1)


def _hue(x, degrees):  # rotation in the YIQ chroma plane
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    a = math.radians(degrees)
    rot = torch.tensor([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    m = torch.linalg.inv(to_yiq) @ rot @ to_yiq
    return torch.einsum("ij,njhw->nihw", m, x).clamp(0, 1)


def _ghost(x, d):  # the L2 optimum (pixel-wise mean) of five plausible placements
    return torch.stack([x, shift(x, d), shift(x, -d), shift(x, 0, d), shift(x, 0, -d)]).mean(0)


def _superres(x, offset):  # bicubic ×4 plus the lost detail, moved by `offset` pixels
    s = x.shape[-1]
    small = F.interpolate(x, size=(s // 4, s // 4), mode="area")
    start = F.interpolate(small, size=(s, s), mode="bicubic", align_corners=False).clamp(0, 1)
    return start, (start + shift(x - start, offset, offset / 2)).clamp(0, 1)


def _match(make, ref, target, lo, hi, iters=60):
    """Bisection on p in [lo, hi] for mse(make(p), ref) == target (MSE increasing in p)."""
    for _ in range(iters):
        p = (lo + hi) / 2
        got = mse(make(p), ref)
        if abs(got - target) <= MATCH_RTOL * target / 4:
            return p
        lo, hi = (p, hi) if got < target else (lo, p)
    raise RuntimeError(f"could not match MSE {target:.3g}: reached {got:.3g} at {p:.4g}")


@functools.lru_cache(maxsize=16)
def _sample(name, size):
    return sample_image(name, size)


def _texture(name, size, corner):
    """A 256-pixel window of a bundled texture at ``corner`` ("tl" or "br"), resized to ``size``."""
    from skimage import data

    a = getattr(data, name)()
    w = a[:256, :256] if corner == "tl" else a[-256:, -256:]
    return to_tensor(w, size)


# --- the recipe ------------------------------------------------------------------------------

# MSE-matched pairs: (kind, picture, first distortion, second distortion's family, its search range)
_MATCHED = [
    ("shift vs blur", "astronaut", ("whole-pixel shift 1 px", lambda x: shift(x, 1)), "blur", (0.05, 6)),
    ("shift vs blur", "rocket", ("whole-pixel shift 1 px down", lambda x: shift(x, 0, 1)), "blur", (0.05, 6)),
    ("sub-pixel shift vs noise", "chelsea", ("sub-pixel shift 0.5 px", lambda x: shift(x, 0.5)), "noise", (0, 1)),
    ("sub-pixel shift vs noise", "coffee", ("sub-pixel shift 0.5 px", lambda x: shift(x, 0.5, 0.5)), "noise", (0, 1)),
    ("blur vs noise", "coffee", ("blur σ=1.0", lambda x: blur(x, 1.0)), "noise", (0, 1)),
    ("blur vs noise", "brick", ("blur σ=0.8", lambda x: blur(x, 0.8)), "noise", (0, 1)),
    ("JPEG vs blur", "astronaut", ("JPEG q=12", lambda x: jpeg(x, 12)), "blur", (0.05, 6)),
    ("JPEG vs blur", "chelsea", ("JPEG q=8", lambda x: jpeg(x, 8)), "blur", (0.05, 6)),
    ("JPEG vs noise", "rocket", ("JPEG q=15", lambda x: jpeg(x, 15)), "noise", (0, 1)),
    ("JPEG vs noise", "grass", ("JPEG q=20", lambda x: jpeg(x, 20)), "noise", (0, 1)),
    ("contrast vs blur", "chelsea", ("contrast ×0.75", lambda x: _contrast(x, 0.75)), "blur", (0.05, 6)),
    ("contrast vs noise", "astronaut", ("contrast ×1.25", lambda x: _contrast(x, 1.25)), "noise", (0, 1)),
    ("colour cast vs noise", "coffee", ("colour cast (warmer)", lambda x: _gain(x, (1.1, 1.0, 0.85))), "noise", (0, 1)),
    ("colour cast vs blur", "astronaut", ("colour cast (cooler)", lambda x: _gain(x, (0.9, 1.0, 1.12))), "blur", (0.05, 6)),
    ("sharpening vs blur", "rocket", ("sharpened ×1.5", lambda x: _sharpen(x, 1.5)), "blur", (0.05, 6)),
    ("JPEG vs brightness", "gravel", ("JPEG q=10", lambda x: jpeg(x, 10)), "brightness", (0, 0.5)),
]
_FAMILIES = {  # name → (make(x, seed) → (p → image), label)
    "blur": (lambda x, seed: lambda p: blur(x, p), "blur σ={:.2f}"),
    "noise": (lambda x, seed: _scaled_noise(x, seed), "noise σ={:.3f}"),
    "brightness": (lambda x, seed: lambda p: _brightness(x, p), "brighter +{:.3f}"),
}


def _scaled_noise(x, seed):
    n = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    return lambda p: (x + p * n).clamp(0, 1)


def _unmatched(size):
    """(kind, picture, reference, (label, a), (label, b)) of the pairs that are not MSE-matched."""
    out = []
    for name, d in (("astronaut", 3), ("chelsea", 3), ("rocket", 4)):
        x = _sample(name, size)
        out.append(("L2 mean vs one sharp guess", name, x, (f"mean of 5 placements, ±{d} px", _ghost(x, d)),
                    (f"one placement, {d} px right", shift(x, d))))
    for name in ("brick", "grass", "gravel"):
        ref = _texture(name, size, "tl")
        out.append(("texture swap vs blur", name, ref, ("another patch, same texture", _texture(name, size, "br")),
                    ("blur σ=1.5", blur(ref, 1.5))))
    for name, other in (("grass", "gravel"), ("gravel", "brick")):
        out.append(("same texture vs other texture", name, _texture(name, size, "tl"),
                    ("another patch, same texture", _texture(name, size, "br")),
                    (f"a patch of {other}", _texture(other, size, "br"))))
    for name in ("astronaut", "coffee"):
        x = _sample(name, size)
        start, sharp = _superres(x, 3)
        out.append(("super-resolution: blurry vs detail misplaced", name, x, ("bicubic ×4 (blurry)", start),
                    ("bicubic + detail, 3 px off", sharp)))
    for name in ("rocket", "coffee"):
        x = _sample(name, size)
        out.append(("big shift vs noise", name, x, ("whole-pixel shift 4 px", shift(x, 4)), ("noise σ=0.05", _noise(x, 0.05, 7))))
    for name in ("astronaut", "coffee"):
        x = _sample(name, size)
        out.append(("desaturated vs hue turned", name, x, ("saturation ×0.4", _saturation(x, 0.4)),
                    ("hue turned 25°", _hue(x, 25))))
    return out


def make_triplets(size: int = 128, seed: int = 0, repeats: int = 10) -> TripletSet:
    """Build notebook 09's triplet set (30 triplets; deterministic for a given size and seed).

    Args:
        size: side of every image in pixels (≥ 64; the backbones need room for their deepest layer).
        seed: fixes the noise, which candidate is A, and the order of presentation.
        repeats: how many triplets are shown a second time (A and B swapped), after all the others,
            to measure the observer's consistency (0–30).

    Returns:
        TripletSet: 16 MSE-matched and 14 unmatched triplets (``.composition()`` counts the kinds).
    """
    if not (isinstance(size, int) and 64 <= size <= 512):  # (64 px: the shallow backbones still fit)
        raise ValueError(f"expected size as an int in 64..512 pixels; got {size!r}")
    if not isinstance(seed, int):
        raise TypeError(f"expected seed as an int; got {type(seed).__name__}")
    if not (isinstance(repeats, int) and 0 <= repeats <= N_TRIPLETS):
        raise ValueError(f"expected repeats as an int in 0..{N_TRIPLETS}; got {repeats!r}")
    rng = random.Random(seed)
    raw = []
    for j, (kind, name, (label, first), family, (lo, hi)) in enumerate(_MATCHED):
        x = _sample(name, size)
        a = first(x)
        family, fmt = _FAMILIES[family]
        make = family(x, seed * 1000 + j)
        p = _match(make, x, mse(a, x), lo, hi)
        raw.append((kind, name, x, (label, a), (fmt.format(p), make(p)), True))
    raw += [(*u, False) for u in _unmatched(size)]
    n = len(raw)
    assert n == N_TRIPLETS
    triplets = []
    for i, (kind, name, ref, (la, a), (lb, b), matched) in enumerate(raw):
        if rng.random() < 0.5:  # which distortion is "A" is a coin flip
            (la, a), (lb, b) = (lb, b), (la, a)
        triplets.append(Triplet(f"t{i:02d}", kind, name, ref.contiguous(), a.contiguous(), b.contiguous(), (la, lb),
                                matched))
    first_pass = list(range(n))
    rng.shuffle(first_pass)
    again = rng.sample(range(n), repeats)
    order = tuple([(i, False) for i in first_pass] + [(i, True) for i in again])
    fp = hashlib.sha256(f"percepkit-2afc v{SET_VERSION} size={size} seed={seed} repeats={repeats}".encode()).hexdigest()
    _sample.cache_clear()  # the set shares its reference tensors; the next set gets fresh ones
    return TripletSet(tuple(triplets), order, size, seed, repeats, fp[:12])


#: Notebook 09's real-network pairs: picture → top-left corner of the crop (at the picture's own resolution;
#: ``retina`` shrunk to 704 px first), one triplet each.
SR_PICTURES = {"chelsea": (40, 120), "coffee": (60, 200), "astronaut": (40, 160), "rocket": (120, 180),
               "retina": (240, 40), "immunohistochemistry": (100, 100)}
#: What the two candidates of a real-network pair are, in words (``Triplet.labels`` carries one of each).
SR_LABELS = {"srresnet-mse": "SRResNet (trained with pixel MSE)", "srgan": "SRGAN (+ VGG54 and adversarial loss)"}


def make_sr_triplets(size: int = 128, seed: int = 0, pictures: dict | None = None) -> TripletSet:
    """Notebook 09's second set: the truth as reference, SRResNet-MSE's and SRGAN's ×4 outputs as the candidates.

    Each truth is a ``size`` × ``size`` crop, shrunk ×4 as the networks' training inputs were
    (:func:`percepkit.srnets.downscale`) and brought back by both networks. Which output is A is a
    coin flip (seeded); every triplet is shown once (no repeats).

    Args:
        size: side of the truth crops (64–256, a multiple of 4).
        seed: fixes which output is A and the order.
        pictures: name → top-left corner of the crop (default :data:`SR_PICTURES`).
    """
    if not (isinstance(size, int) and 64 <= size <= 256 and size % 4 == 0):
        raise ValueError(f"expected size as an int in 64..256, a multiple of 4; got {size!r}")
    if not isinstance(seed, int):
        raise TypeError(f"expected seed as an int; got {type(seed).__name__}")
    pictures = dict(SR_PICTURES if pictures is None else pictures)
    nets = {name: load_sr_network(name) for name in SR_LABELS}
    rng = random.Random(seed)
    triplets = []
    for i, (name, (y, x)) in enumerate(pictures.items()):
        full = sample_image(name, size=704) if name == "retina" else sample_image(name)
        ref = full[..., y:y + size, x:x + size]
        if ref.shape[-2:] != (size, size):
            raise ValueError(f"the crop of {name!r} at ({y}, {x}) does not fit a {size}-px square: "
                             f"the picture is {full.shape[-2]}x{full.shape[-1]}")
        with torch.no_grad():
            out = [(SR_LABELS[k], net(downscale(ref))) for k, net in nets.items()]
        if rng.random() < 0.5:
            out.reverse()
        (la, a), (lb, b) = out
        triplets.append(Triplet(f"s{i:02d}", "SRResNet-MSE vs SRGAN", name, ref.contiguous(), a.contiguous(),
                                b.contiguous(), (la, lb), False))
    order = list(range(len(triplets)))
    rng.shuffle(order)
    spec = f"percepkit-2afc-sr v1 size={size} seed={seed} pictures={sorted(pictures.items())}"
    return TripletSet(tuple(triplets), tuple((i, False) for i in order), size, seed, 0,
                      hashlib.sha256(spec.encode()).hexdigest()[:12])


def triplet_png(images, scale: int = 2, gap: int = 12, labels=("reference", "A", "B")) -> bytes:
    """The images side by side as one PNG (nearest-neighbour enlarged ``scale`` times), labelled above.

    Used to render triplets to files (for judging outside Jupyter); the panel shows each image in
    its own widget instead.
    """
    from PIL import Image, ImageDraw

    tiles = [to_pil(t, scale=scale) for t in images]
    w, h = tiles[0].size
    canvas = Image.new("RGB", (len(tiles) * w + (len(tiles) - 1) * gap, h + 20), "white")
    draw = ImageDraw.Draw(canvas)
    for k, im in enumerate(tiles):
        canvas.paste(im, (k * (w + gap), 20))
        if labels:
            draw.text((k * (w + gap) + 4, 4), str(labels[k]), fill="black")
    buf = io.BytesIO()
    canvas.save(buf, format="png")
    return buf.getvalue()
