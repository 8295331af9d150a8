"""images.py against independent oracles: hand-computed conversions, NumPy reflection indexing,
SciPy's Gaussian filter, PIL's resize; non-square and batched inputs; every limit on both sides."""

import math

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.ndimage import gaussian_filter

import percepkit as pk
from conftest import seeded
from percepkit.images import MAX_SIDE, check_image

# ---------------------------------------------------------------- to_tensor: dtypes and layouts


def test_uint8_uint16_bool_scale_to_unit_range_exactly():
    a8 = np.array([[0, 51, 255]], dtype=np.uint8)
    assert torch.equal(pk.to_tensor(a8)[0, 0], torch.tensor([[0.0, 0.2, 1.0]]))
    a16 = np.array([[0, 13107, 65535]], dtype=np.uint16)
    assert torch.equal(pk.to_tensor(a16)[0, 1], torch.tensor([[0.0, 0.2, 1.0]]))
    ab = np.array([[True, False]])
    assert torch.equal(pk.to_tensor(ab)[0, 2], torch.tensor([[1.0, 0.0]])) and pk.to_tensor(ab).dtype == torch.float32
    a64 = np.array([[0.25, 0.5]], dtype=np.float64)
    t = pk.to_tensor(a64)
    assert t.dtype == torch.float32 and t.shape == (1, 3, 1, 2) and torch.equal(t[0, :, 0, 1], torch.full((3,), 0.5))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.int8, np.complex64])
def test_other_array_dtypes_are_refused(dtype):
    with pytest.raises(TypeError, match=rf"^expected an image of dtype uint8, uint16, bool or float in \[0, 1\]; got "
                                        rf"{np.dtype(dtype)}\. "
                       r"Convert integer images with other ranges yourself"):
        pk.to_tensor(np.zeros((4, 4), dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.int8, torch.int16, torch.int32, torch.int64, torch.complex64])
def test_integer_and_complex_tensors_are_refused(dtype):
    with pytest.raises(TypeError, match=rf"^expected a tensor of dtype uint8 or float in \[0, 1\]; got {dtype}\. "
                                        rf"Convert it first"):
        pk.to_tensor(torch.zeros(3, 4, 4, dtype=dtype))


def test_array_layouts_non_square():
    hwc = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    expected = torch.from_numpy(hwc.astype(np.float32) / 255).permute(2, 0, 1)[None]
    assert torch.equal(pk.to_tensor(hwc), expected)
    nhwc = np.stack([hwc, hwc[::-1]])
    out = pk.to_tensor(nhwc)
    assert out.shape == (2, 3, 5, 7) and torch.equal(out[1], expected[0].flip(1))
    chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))  # only the first axis can be channels
    assert torch.equal(pk.to_tensor(chw), expected)
    nchw = np.stack([chw, chw])
    assert pk.to_tensor(nchw).shape == (2, 3, 5, 7)
    ambiguous = np.zeros((3, 5, 3), dtype=np.uint8)  # both ends could be channels: arrays default to last
    ambiguous[0, 1, 2] = 255
    assert pk.to_tensor(ambiguous)[0, 2, 0, 1] == 1.0


def test_a_single_channel_axis_is_found_at_either_end():
    # a (C, H, W) array: arrays default to channels last, but 7 is no channel count
    gray_first = np.arange(35, dtype=np.uint8).reshape(1, 5, 7)
    assert torch.equal(pk.to_tensor(gray_first), torch.from_numpy(gray_first / np.float32(255)).expand(1, 3, 5, 7))
    gray_last = torch.arange(35.0).view(5, 7, 1) / 35  # (H, W, C) tensor: tensors default to first, but 5 is no channel count
    assert torch.equal(pk.to_tensor(gray_last), gray_last.permute(2, 0, 1).expand(1, 3, 5, 7))
    with pytest.raises(ValueError, match=r"got 2 channels in numpy.ndarray shape=\(2, 5, 7\)"):
        pk.to_tensor(np.zeros((2, 5, 7), dtype=np.uint8))  # two channels first, still found (then refused)
    with pytest.raises(ValueError, match=r"got 2 channels in torch.Tensor shape=\(5, 7, 2\)"):
        pk.to_tensor(torch.zeros(5, 7, 2))


def test_tensor_layouts_non_square():
    chw = seeded(3, 5, 7)
    assert torch.equal(pk.to_tensor(chw), chw[None])
    hwc = chw.permute(1, 2, 0)  # only the last axis can be channels
    assert torch.equal(pk.to_tensor(hwc), chw[None])
    nhwc = torch.stack([hwc, hwc])
    assert torch.equal(pk.to_tensor(nhwc), torch.stack([chw, chw]))
    amb = seeded(3, 5, 3)  # both ends could be channels: tensors default to first
    assert torch.equal(pk.to_tensor(amb), amb[None])
    u8 = (chw * 255).to(torch.uint8)
    assert torch.equal(pk.to_tensor(u8), u8[None].float() / 255)
    hw = seeded(5, 7)
    assert torch.equal(pk.to_tensor(hw), hw.expand(1, 3, 5, 7))
    d64 = chw.double()
    assert pk.to_tensor(d64).dtype == torch.float32


def test_rank_limits():
    with pytest.raises(ValueError, match=r"^expected an image of rank 2 \(H,W\), 3 \(H,W,C\) or \(C,H,W\), or 4 "
                                         r"\(N,C,H,W\); got shape \(5,\)$"):
        pk.to_tensor(np.zeros(5, dtype=np.float32))
    with pytest.raises(ValueError, match=r"got shape \(1, 1, 3, 4, 4\)$"):
        pk.to_tensor(np.zeros((1, 1, 3, 4, 4), dtype=np.float32))


def test_channels_gray_rgba_and_two():
    gray = np.array([[0.25]], dtype=np.float32)[..., None]  # (1, 1, 1) HWC
    assert torch.equal(pk.to_tensor(gray).flatten(), torch.full((3,), 0.25))
    # RGBA over white: rgb·α + (1 − α): (0.2, 0.4, 1.0) at α = 0.5 → (0.6, 0.7, 1.0)
    rgba = np.array([[[0.2, 0.4, 1.0, 0.5]]], dtype=np.float32)
    assert torch.allclose(pk.to_tensor(rgba).flatten(), torch.tensor([0.6, 0.7, 1.0]))
    two = np.zeros((4, 6, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"^expected 1 \(gray\), 3 \(RGB\) or 4 \(RGBA\) channels; got 2 channels in "
                       r"numpy.ndarray shape=\(4, 6, 2\) dtype=float32$"):
        pk.to_tensor(two)
    five = torch.zeros(1, 5, 4, 6)
    with pytest.raises(ValueError, match=r"got 5 channels in torch.Tensor shape=\(1, 5, 4, 6\) dtype=torch.float32$"):
        pk.to_tensor(five)


def test_pil_modes():
    rgb = np.array([[[255, 0, 51]]], dtype=np.uint8)
    assert torch.equal(pk.to_tensor(Image.fromarray(rgb)).flatten(), torch.tensor([1.0, 0.0, 0.2]))
    la = Image.fromarray(np.array([[[0, 0]]], dtype=np.uint8), mode="LA")  # black, fully transparent → white
    assert torch.equal(pk.to_tensor(la).flatten(), torch.ones(3))
    l_img = Image.fromarray(np.array([[51, 255]], dtype=np.uint8), mode="L")
    assert torch.equal(pk.to_tensor(l_img)[0, :, 0], torch.tensor([[0.2, 1.0]] * 3))
    for mode, order in (("I;16", "<u2"), ("I;16L", "<u2"), ("I;16B", ">u2")):  # 16-bit: ÷ 65535, not ÷ its own max
        im = Image.frombytes(mode, (3, 1), np.array([[0, 13107, 26214]], dtype=order).tobytes())
        t = pk.to_tensor(im)
        assert t.dtype == torch.float32 and torch.allclose(t[0, 0], torch.tensor([[0.0, 0.2, 0.4]])), mode
    i32 = Image.fromarray(np.array([[0, 100, 400]], dtype=np.int32), mode="I")  # scaled by its own max
    assert pk.to_tensor(i32).dtype == torch.float32
    assert torch.allclose(pk.to_tensor(i32)[0, 0], torch.tensor([[0.0, 0.25, 1.0]]))
    i32_zero = Image.fromarray(np.zeros((1, 2), dtype=np.int32), mode="I")
    assert torch.equal(pk.to_tensor(i32_zero), torch.zeros(1, 3, 1, 2))


def test_paths(tmp_path):
    p = tmp_path / "im.png"
    Image.fromarray(np.array([[[255, 0, 51], [0, 0, 0]]], dtype=np.uint8)).save(p)
    for arg in (p, str(p)):
        t = pk.to_tensor(arg)
        assert t.shape == (1, 3, 1, 2) and torch.equal(t[0, :, 0, 0], torch.tensor([1.0, 0.0, 0.2]))
    missing = tmp_path / "nope.png"
    with pytest.raises(ValueError, match=rf"^expected an existing image file; got the path '{missing}', which does not exist$"):
        pk.to_tensor(missing)


def test_unsupported_types_are_described():
    with pytest.raises(TypeError, match=r"^expected an image as a file path, PIL.Image, numpy.ndarray or "
                                        r"torch.Tensor; got list$"):
        pk.to_tensor([[0.5]])


# ---------------------------------------------------------------- to_tensor: value limits


def test_range_limits_both_sides():
    just_over = np.full((2, 3), 1 + 5e-5, dtype=np.float32)
    just_under = np.full((2, 3), -5e-5, dtype=np.float32)
    assert pk.to_tensor(just_over).max() == 1.0  # inside the 1e-4 slack: accepted and clamped
    assert pk.to_tensor(just_under).min() == 0.0
    with pytest.raises(ValueError, match=r"^expected float pixel values in \[0, 1\]; got values in \[0, 1.05\]\.$"):
        pk.to_tensor(np.array([[0.0, 1.05]], dtype=np.float32))  # refused, not clamped
    with pytest.raises(ValueError, match=r"^expected float pixel values in \[0, 1\]; got values in \[0, 1.4\]\.$"):
        pk.to_tensor(np.array([[0.0, 1.4]], dtype=np.float32))
    with pytest.raises(ValueError, match=r"got values in \[0, 1\.0002\]\.$"):
        pk.to_tensor(torch.tensor([[0.0, 1.0002]]))
    with pytest.raises(ValueError, match=r"got values in \[-0\.0002, 1\]\.$"):
        pk.to_tensor(torch.tensor([[-0.0002, 1.0]]))
    with pytest.raises(ValueError, match=r"got values in \[0, 1\.6\]\. It looks like 0-255 data: divide by 255\.$"):
        pk.to_tensor(np.array([[0.0, 1.6]], dtype=np.float32))
    with pytest.raises(ValueError, match=r"got values in \[-0\.5, 1\]\. It looks like \[-1, 1\] data: use \(x \+ 1\) / 2\.$"):
        pk.to_tensor(np.array([[-0.5, 1.0]], dtype=np.float32))
    with pytest.raises(ValueError, match=r"got values in \[-0\.005, 1\]\.$"):  # too little below 0 to be [-1, 1] data
        pk.to_tensor(np.array([[-0.005, 1.0]], dtype=np.float32))
    with pytest.raises(ValueError, match=r"got values in \[-0\.5, 200\]\. It looks like 0-255 data"):
        pk.to_tensor(np.array([[-0.5, 200.0]], dtype=np.float32))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_refused(bad):
    with pytest.raises(ValueError, match=r"^expected finite pixel values; the image contains NaN or Inf "
                       r"\(numpy.ndarray shape=\(1, 2\) dtype=float32\)$"):
        pk.to_tensor(np.array([[0.5, bad]], dtype=np.float32))


def test_max_side_limit_both_sides():
    assert MAX_SIDE == 4096
    ok = np.zeros((1, 4096), dtype=np.uint8)
    assert pk.to_tensor(ok).shape == (1, 3, 1, 4096)
    assert pk.to_tensor(ok.T).shape == (1, 3, 4096, 1)
    with pytest.raises(ValueError, match=r"^image of 1x4097 pixels is larger than 4096 on a side; pass size=\.\.\."):
        pk.to_tensor(np.zeros((1, 4097), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"^image of 4097x1 pixels"):
        pk.to_tensor(np.zeros((4097, 1), dtype=np.uint8))
    assert pk.to_tensor(np.zeros((2, 4097), dtype=np.uint8), size=(2, 8)).shape == (1, 3, 2, 8)


# ---------------------------------------------------------------- resizing


def test_int_size_centre_crops_non_square_exactly():
    x = seeded(1, 3, 6, 10)
    assert torch.equal(pk.to_tensor(x, size=6), x[..., :, 2:8])  # (10 − 6) // 2 = 2 columns off the left
    assert torch.equal(pk.to_tensor(x.transpose(-1, -2), size=6), x.transpose(-1, -2)[..., 2:8, :])
    y = seeded(1, 3, 7, 4)
    assert torch.equal(pk.to_tensor(y, size=4), y[..., 1:5, :])  # (7 − 4) // 2 = 1 row off the top
    assert pk.to_tensor(x, size=1).shape == (1, 3, 1, 1)
    assert pk.to_tensor(x, size=(1, 4)).shape == (1, 3, 1, 4)  # 1 is a valid side in a tuple too


def _pil_resize(x: torch.Tensor, hw) -> torch.Tensor:
    """PIL's bilinear (antialiased when shrinking) resize of each channel as a float image."""
    chans = [np.asarray(Image.fromarray(c.numpy(), mode="F").resize(hw[::-1], Image.BILINEAR)) for c in x[0]]
    return torch.from_numpy(np.stack(chans))[None]


def _picture(name, step_h, step_w):
    """A scikit-image picture subsampled by plain striding: an input made without the code under test."""
    from skimage import data

    a = getattr(data, name)()[::step_h, ::step_w].astype(np.float32) / 255
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]


@pytest.mark.parametrize("size", [(4, 6), (12, 5)])
def test_tuple_size_resizes_like_pil_bilinear(size):
    x = _picture("astronaut", 32, 51)  # 16 x 11
    out = pk.to_tensor(x, size=size)
    assert out.shape == (1, 3, *size) and out.min() >= 0 and out.max() <= 1
    assert torch.allclose(out, _pil_resize(x, size), atol=2e-3)


def test_int_size_resizes_after_the_crop_like_pil():
    x = _picture("coffee", 34, 30)  # 12 x 20
    assert x.shape == (1, 3, 12, 20)
    out = pk.to_tensor(x, size=5)
    assert torch.allclose(out, _pil_resize(x[..., :, 4:16], (5, 5)), atol=2e-3)


@pytest.mark.parametrize("bad", [0, -3, (0, 4), (4, 0), (4.0, 4), (4,), (4, 4, 4), "4", 2.5])
def test_bad_sizes(bad):
    msg = (r"^expected size >= 1; got " if isinstance(bad, int)
           else r"^expected size as a positive int or a \(H, W\) tuple of ints; got ")
    with pytest.raises(ValueError, match=msg + ".*$"):
        pk.to_tensor(seeded(1, 3, 4, 4), size=bad)


def test_list_size_and_same_size_is_a_contiguous_copy():
    x = seeded(1, 3, 4, 6).transpose(-1, -2)
    out = pk.to_tensor(x, size=[6, 4])
    assert out.is_contiguous() and torch.equal(out, x)


# ---------------------------------------------------------------- sample images


def test_sample_images_are_scikit_image_pictures():
    from skimage import data

    names = pk.list_sample_images()
    assert names == [n for n in ("astronaut", "brick", "camera", "cat", "chelsea", "coffee", "coins", "grass", "gravel",
                                 "hubble_deep_field", "ihc", "immunohistochemistry", "moon", "retina", "rocket", "text")
                     if hasattr(data, {"ihc": "immunohistochemistry"}.get(n, n))]
    chelsea = pk.sample_image("chelsea")
    expected = torch.from_numpy(data.chelsea().astype(np.float32) / 255).permute(2, 0, 1)[None]
    assert torch.equal(chelsea, expected)
    assert torch.equal(pk.sample_image("ihc", 8), pk.sample_image("immunohistochemistry", 8))
    assert torch.equal(pk.sample_image(), pk.sample_image("astronaut"))
    cam = pk.sample_image("camera", (6, 8))
    assert cam.shape == (1, 3, 6, 8) and torch.equal(cam[:, 0], cam[:, 2])
    with pytest.raises(ValueError, match=r"^unknown sample image 'lena'; choose one of \['astronaut', 'brick'"):
        pk.sample_image("lena")


# ---------------------------------------------------------------- check_image


def test_check_image_messages_and_limits():
    ok = torch.zeros(2, 3, 4, 5)
    check_image(ok)
    with pytest.raises(TypeError, match=r"^expected x as a torch.Tensor \(N, 3, H, W\) in \[0, 1\]; got numpy.ndarray "
                       r"shape=\(2, 2\) dtype=float64\. Convert images with percepkit.to_tensor\.$"):
        check_image(np.zeros((2, 2)))
    with pytest.raises(TypeError, match=r"^expected img as a torch.Tensor \(N, C, H, W\) in \[0, 1\]; got int\."):
        check_image(3, "img", rgb=False)
    with pytest.raises(ValueError, match=r"^expected pred of shape \(N, 3, H, W\); got \(2, 1, 4, 5\)\. Use percepkit.to_tensor"):
        check_image(ok[:, :1], "pred")
    check_image(ok[:, :1], rgb=False)
    with pytest.raises(ValueError, match=r"^expected x of shape \(N, C, H, W\); got \(3, 4, 5\)"):
        check_image(ok[0], rgb=False)
    with pytest.raises(TypeError, match=r"^expected t as a float tensor in \[0, 1\]; got dtype torch.uint8 \(divide by 255\?\)$"):
        check_image(ok.to(torch.uint8), "t")
    with pytest.raises(ValueError, match=r"^expected e to hold at least one image; got shape \(0, 3, 4, 5\)$"):
        check_image(ok[:0], "e")
    nan = ok.clone()
    nan[1, 2, 3, 4] = math.nan
    with pytest.raises(ValueError, match=r"^n contains NaN or Inf$"):
        check_image(nan, "n")
    check_image(nan, finite=False)  # not scanned
    inf = ok.clone()
    inf[0, 0, 0, 0] = -math.inf
    with pytest.raises(ValueError, match=r"^x contains NaN or Inf$"):
        check_image(inf)
    with pytest.raises(ValueError, match=r"contains NaN or Inf$"):
        check_image(nan, finite=False, unit_range=True)  # the range check scans too
    check_image(ok + 5)  # range is not checked by default


def test_check_image_unit_range_slack_both_sides():
    base = torch.full((1, 3, 2, 3), 0.5)
    for v in (-0.0009, 1.0009):
        x = base.clone()
        x[0, 1, 1, 2] = v
        check_image(x, unit_range=True)
    for v, lo, hi in ((-0.0011, "-0.0011", "0.5"), (1.0011, "0.5", "1.0011"), (2.5, "0.5", "2.5")):
        x = base.clone()
        x[0, 1, 1, 2] = v
        with pytest.raises(ValueError, match=rf"^expected q in \[0, 1\] \(the backbone normalises internally\); got values in "
                           rf"\[{lo}, {hi}\]\. Do not pre-normalise with ImageNet mean/std or pass 0-255 data\.$"):
            check_image(x, "q", unit_range=True)


# ---------------------------------------------------------------- shift


def _reflect(i: int, n: int) -> int:
    """Index reflected at the pixel edges (… 1 0 | 0 1 … n−1 | n−1 n−2 …), as grid_sample's reflection."""
    while not 0 <= i < n:
        i = -i - 1 if i < 0 else 2 * n - 1 - i
    return i


@pytest.mark.parametrize("dx, dy", [(2, 0), (0, 1), (-3, 2), (1, -2)])
def test_integer_shift_copies_pixels_with_reflection_non_square_batch(dx, dy):
    x = seeded(2, 3, 5, 8, seed=7)
    out = pk.shift(x, dx, dy)
    expected = torch.empty_like(x)
    for i in range(5):
        for j in range(8):
            expected[..., i, j] = x[..., _reflect(i - dy, 5), _reflect(j - dx, 8)]
    assert torch.allclose(out, expected, atol=1e-6)


def test_half_pixel_shift_averages_neighbours():
    x = seeded(1, 3, 4, 9, seed=8)
    out = pk.shift(x, 0.5)
    assert torch.allclose(out[..., 1:], (x[..., 1:] + x[..., :-1]) / 2, atol=1e-6)
    out_y = pk.shift(x, 0, 0.25)
    assert torch.allclose(out_y[..., 1:, :], 0.75 * x[..., 1:, :] + 0.25 * x[..., :-1, :], atol=1e-6)
    assert torch.allclose(pk.shift(x, 0), x, atol=1e-6)


@pytest.mark.parametrize("bad", [(math.nan, 0), (0, math.inf), (-math.inf, 1)])
def test_shift_refuses_non_finite(bad):
    with pytest.raises(ValueError, match=rf"^expected finite shifts; got dx={float(bad[0])}, dy={float(bad[1])}$"):
        pk.shift(seeded(1, 3, 4, 4), *bad)


def test_shift_accepts_non_finite_pixels_but_checks_shape():
    x = seeded(1, 3, 4, 6)
    x[0, 0, 0, 0] = math.nan
    assert pk.shift(x, 1).shape == (1, 3, 4, 6)
    with pytest.raises(ValueError, match=r"^expected x of shape \(N, 3, H, W\)"):
        pk.shift(seeded(1, 1, 4, 6), 1)


# ---------------------------------------------------------------- blur


@pytest.mark.parametrize("sigma", [0.1, 0.7, 1.5, 8 / 3])
def test_blur_matches_scipy_gaussian_filter_non_square_batch(sigma):
    x = seeded(2, 3, 9, 13, seed=9)
    r = max(1, math.ceil(3 * sigma))
    expected = np.stack([[gaussian_filter(c.numpy().astype(np.float64), sigma, mode="mirror", truncate=r / sigma)
                          for c in img] for img in x])
    out = pk.blur(x, sigma)
    assert out.shape == x.shape
    assert torch.allclose(out, torch.from_numpy(expected).float(), atol=1e-5)


def test_blur_sigma_zero_copies_and_limits():
    x = seeded(1, 3, 9, 13)
    y = pk.blur(x, 0)
    assert torch.equal(y, x) and y.data_ptr() != x.data_ptr()
    assert pk.blur(x, 8 / 3).shape == x.shape  # radius 8 < 9: accepted
    with pytest.raises(ValueError, match=r"^sigma=2.7 needs a 19-pixel kernel, larger than the image \(9, 13\)$"):
        pk.blur(x, 2.7)  # radius 9 = the shorter side: refused
    with pytest.raises(ValueError, match=r"^sigma=2.7 needs a 19-pixel kernel, larger than the image \(13, 9\)$"):
        pk.blur(x.transpose(-1, -2), 2.7)
    for bad in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match=rf"^expected sigma >= 0; got {bad}$"):
            pk.blur(x, bad)
    with pytest.raises(ValueError, match=r"^expected x of shape \(N, 3, H, W\)"):
        pk.blur(x[0], 1)


# ---------------------------------------------------------------- noise, display


def test_add_noise_is_seeded_gaussian_and_clipped():
    x = torch.full((1, 3, 64, 96), 0.5)
    n = pk.add_noise(x, 0.05, seed=3) - x
    assert float(n.std()) == pytest.approx(0.05, rel=0.03) and abs(float(n.mean())) < 2e-3
    assert torch.equal(pk.add_noise(x, 0.05, seed=3), pk.add_noise(x, 0.05, seed=3))
    assert not torch.equal(pk.add_noise(x, 0.05, seed=3), pk.add_noise(x, 0.05, seed=4))
    assert torch.equal(pk.add_noise(x, 0.05), pk.add_noise(x, 0.05, seed=0))
    g = torch.Generator().manual_seed(0)
    assert torch.equal(pk.add_noise(x, 0.05), (x + 0.05 * torch.randn(x.shape, generator=g)).clamp(0, 1))
    big = pk.add_noise(x, 10.0)
    assert big.min() == 0 and big.max() == 1
    assert pk.add_noise(x, 0.05).dtype == torch.float32 and pk.add_noise(x.double(), 0.05).dtype == torch.float64


def test_to_numpy_and_to_pil_hand_computed():
    x = torch.zeros(2, 3, 2, 3)
    x[1, 0, 1, 2] = 0.5
    x[1, 1, 1, 2] = 0.498
    x[1, 2, 1, 2] = 1.2  # clamped for display
    a = pk.to_numpy(x, 1)
    assert a.shape == (2, 3, 3) and a.dtype == np.float32
    assert a[1, 2].tolist() == pytest.approx([0.5, 0.498, 1.0])
    assert np.all(pk.to_numpy(x) == 0)
    im = pk.to_pil(x, index=1)
    assert im.mode == "RGB" and im.size == (3, 2)
    assert np.asarray(im)[1, 2].tolist() == [128, 127, 255]  # round(0.5·255) = 128, round(0.498·255) = 127
    assert pk.to_numpy(np.full((2, 2), 0.25, dtype=np.float32)).tolist() == [[[0.25] * 3] * 2] * 2
    for bad in (-1, 2):
        with pytest.raises(ValueError, match=rf"^index {bad} out of range for a batch of 2$"):
            pk.to_numpy(x, bad)


def test_to_pil_enlarges_and_to_png_round_trips():
    import io

    from PIL import Image

    x = torch.zeros(2, 3, 2, 3)
    x[1, 0, 1, 2], x[1, 1, 0, 0] = 0.5, 1.0
    big = np.asarray(pk.to_pil(x, 1, scale=3))
    assert big.shape == (6, 9, 3)
    assert big[3:6, 6:9, 0].tolist() == [[128] * 3] * 3 and big[0:3, 0:3, 1].tolist() == [[255] * 3] * 3  # square blocks
    assert big[3:6, 6:9, 1].max() == 0 and big[0:3, 3:9].max() == 0
    assert np.array_equal(np.asarray(pk.to_pil(x, 1)), np.asarray(pk.to_pil(x, 1, scale=1))[:, :, :])
    png = pk.to_png(x, index=1, scale=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")), np.asarray(pk.to_pil(x, 1, scale=2)))
    assert np.asarray(Image.open(io.BytesIO(pk.to_png(x))).convert("RGB")).shape == (2, 3, 3)  # defaults: first, ×1
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(ValueError, match=r"^expected scale as an int >= 1; got"):
            pk.to_pil(x, scale=bad)


# ---------------------------------------------------------------- dtype, device, warnings


@pytest.mark.filterwarnings("error")  # no warning either (a notebook would print it)
def test_float64_images_stay_float64_and_match_the_oracles():
    x = seeded(1, 3, 5, 8, seed=10).double()
    out = pk.shift(x, 2, 1)
    assert out.dtype == torch.float64
    assert torch.allclose(out[..., 1:, 2:], x[..., :-1, :-2], atol=1e-12)
    b = pk.blur(x, 0.7)
    expected = np.stack([[gaussian_filter(c.numpy(), 0.7, mode="mirror", truncate=3 / 0.7) for c in img] for img in x])
    assert b.dtype == torch.float64 and np.allclose(b.numpy(), expected, atol=1e-12)
    n = pk.add_noise(x, 0.1, seed=2)
    g = torch.Generator().manual_seed(2)
    assert n.dtype == torch.float64
    assert torch.equal(n, (x + 0.1 * torch.randn(x.shape, generator=g, dtype=torch.float64)).clamp(0, 1))


def test_functions_keep_the_device():
    x = torch.empty(2, 3, 5, 8, device="meta")  # any device but the CPU: results stay there, nothing is computed
    for out in (pk.shift(x, 1.5, -1), pk.blur(x, 1.0), pk.add_noise(x, 0.1)):
        assert out.device.type == "meta" and out.shape == x.shape


def test_pixel_functions_accept_non_finite_pixels():
    x = seeded(1, 3, 6, 6)
    x[0, 0, 0, 0] = math.nan
    assert pk.blur(x, 0.5).shape == x.shape and pk.add_noise(x, 0.1).shape == x.shape and pk.shift(x, 1).shape == x.shape


def test_small_sigma_has_a_radius_of_one_pixel():
    x = seeded(1, 3, 2, 5, seed=11)  # radius 1 < 2 rows: accepted
    expected = np.stack([[gaussian_filter(c.numpy().astype(np.float64), 0.3, mode="mirror", truncate=1 / 0.3) for c in img]
                         for img in x])
    assert torch.allclose(pk.blur(x, 0.3), torch.from_numpy(expected).float(), atol=1e-6)


def test_display_conversions_take_any_image_form():
    assert pk.to_numpy(np.zeros((2, 3, 3), dtype=np.float32)).shape == (2, 3, 3)  # an (H, W, C) array with H·W·3 values
    chw = seeded(3, 4, 5)
    assert np.array_equal(pk.to_numpy(chw), chw.permute(1, 2, 0).numpy())  # an unbatched tensor goes through to_tensor
    gray = seeded(1, 1, 4, 5)
    assert np.array_equal(pk.to_numpy(gray), gray[0].expand(3, 4, 5).permute(1, 2, 0).numpy())
    neg = torch.zeros(2, 3, 2, 2)
    neg[0, 0, 0, 0], neg[1] = -0.2, 1.0
    assert pk.to_numpy(neg)[0, 0, 0] == 0.0  # clamped for display
    assert np.asarray(pk.to_pil(neg)).max() == 0 and np.asarray(pk.to_pil(neg, 1)).min() == 255  # default index 0


def test_more_conversion_limits():
    i01 = Image.fromarray(np.array([[0, 1]], dtype=np.int32), mode="I")  # its own max is 1: ÷ 1
    assert torch.equal(pk.to_tensor(i01)[0, 0], torch.tensor([[0.0, 1.0]]))
    hwc_u8 = (seeded(5, 7, 3) * 255).to(torch.uint8)  # a uint8 (H, W, C) tensor
    assert torch.equal(pk.to_tensor(hwc_u8), hwc_u8.permute(2, 0, 1)[None].float() / 255)
    gray2 = seeded(2, 1, 4, 5)  # a batch of two gray images
    assert torch.equal(pk.to_tensor(gray2), gray2.expand(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"got values in \[-0\.5, 1\.2\]\.$"):  # neither [-1, 1] nor 0-255 data: no hint
        pk.to_tensor(np.array([[-0.5, 1.2]], dtype=np.float32))
    with pytest.raises(ValueError, match=r"got values in \[0, 1\.5\]\.$"):  # 1.5 is not yet "0-255 data"
        pk.to_tensor(np.array([[0.0, 1.5]], dtype=np.float32))
    with pytest.raises(ValueError, match=r"^image of 1x4097 pixels is larger than 4096 on a side; "
                       r"pass size=\.\.\. \(e\.g\. size=256\) to resize it before processing on a CPU$"):
        pk.to_tensor(np.zeros((1, 4097), dtype=np.uint8))


def test_check_image_slack_is_inclusive_in_float64():
    for v in (-1e-3, 1 + 1e-3):  # exactly at the slack: accepted (in float64, the very doubles of the limits)
        x = torch.full((1, 3, 2, 2), 0.5, dtype=torch.float64)
        x[0, 0, 0, 0] = v
        check_image(x, unit_range=True)


def test_check_pair_and_check_same_shape_messages():
    from percepkit.images import check_pair, check_same_shape

    a, b = torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 5)
    check_same_shape(a, a.clone())
    with pytest.raises(ValueError, match=r"^x and y must have the same shape \(N, C, H, W\); got \(1, 3, 4, 4\) and \(1, 3, 4, 5\)$"):  # noqa: E501
        check_same_shape(a, b)
    with pytest.raises(ValueError, match=r"^p and t must have the same shape \(N, 3, H, W\); got"):
        check_same_shape(a, b, ("p", "t"), "(N, 3, H, W)")
    check_pair(a, a + 0.5, unit_range=True)
    with pytest.raises(ValueError, match=r"^img and ref must have the same shape \(N, 3, H, W\)"):
        check_pair(a, b, ("img", "ref"))
    with pytest.raises(ValueError, match=r"^expected ref in \[0, 1\]"):
        check_pair(a, a + 2, ("img", "ref"), unit_range=True)
    check_pair(a, a + 2, ("img", "ref"))  # no range asked
    with pytest.raises(ValueError, match=r"^expected img of shape \(N, 3, H, W\)"):
        check_pair(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4), ("img", "ref"))
    # an RGB image against a grey reference: the reference's own message (3 channels asked, its shape), not
    # only "not the same shape"
    with pytest.raises(ValueError, match=r"^expected ref of shape \(N, 3, H, W\); got \(1, 1, 4, 4\)\."):
        check_pair(a, torch.zeros(1, 1, 4, 4), ("img", "ref"))
    check_pair(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4), rgb=False)
    with pytest.raises(ValueError, match=r"same shape \(N, C, H, W\)"):
        check_pair(torch.zeros(1, 1, 4, 4), torch.zeros(1, 2, 4, 4), rgb=False)
