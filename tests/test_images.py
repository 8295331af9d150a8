import numpy as np
import pytest
import torch
from PIL import Image

import percepkit as pk
from conftest import seeded


def test_uint8_hwc_array():
    a = (np.arange(4 * 5 * 3) % 256).astype(np.uint8).reshape(4, 5, 3)
    t = pk.to_tensor(a)
    assert t.shape == (1, 3, 4, 5) and t.dtype == torch.float32
    assert torch.allclose(t[0, :, 1, 2], torch.from_numpy(a[1, 2].astype(np.float32) / 255))


def test_uint16_and_bool_and_float():
    a16 = np.full((6, 6), 65535, np.uint16)
    assert pk.to_tensor(a16).max() == 1.0
    ab = np.zeros((6, 6), bool)
    ab[2, 2] = True
    assert pk.to_tensor(ab).sum() == 3
    af = np.random.default_rng(0).random((6, 7, 3), dtype=np.float64)
    assert torch.allclose(pk.to_tensor(af)[0].permute(1, 2, 0), torch.from_numpy(af).float())


def test_gray_is_repeated_rgba_is_composited_over_white():
    g = pk.to_tensor(np.full((5, 5), 0.25, np.float32))
    assert g.shape == (1, 3, 5, 5) and torch.all(g == 0.25)
    rgba = np.zeros((5, 5, 4), np.float32)  # black, half transparent
    rgba[..., 3] = 0.5
    assert torch.allclose(pk.to_tensor(rgba), torch.full((1, 3, 5, 5), 0.5))


def test_tensor_layouts():
    x = seeded(3, 8, 9)
    assert torch.equal(pk.to_tensor(x)[0], x)  # (C,H,W)
    assert torch.equal(pk.to_tensor(x.permute(1, 2, 0))[0], x)  # (H,W,C)
    b = seeded(2, 3, 8, 9)
    assert torch.equal(pk.to_tensor(b), b)
    assert pk.to_tensor((b * 255).to(torch.uint8)).dtype == torch.float32


def test_path_and_pil(tmp_path):
    a = (np.random.default_rng(1).random((10, 12, 3)) * 255).astype(np.uint8)
    p = tmp_path / "x.png"
    Image.fromarray(a).save(p)
    assert torch.equal(pk.to_tensor(p), pk.to_tensor(a))
    assert torch.equal(pk.to_tensor(str(p)), pk.to_tensor(Image.fromarray(a)))
    assert pk.to_tensor(Image.fromarray(a).convert("L")).shape == (1, 3, 10, 12)


def test_resize():
    x = seeded(1, 3, 40, 60)
    assert pk.to_tensor(x, size=16).shape == (1, 3, 16, 16)
    assert pk.to_tensor(x, size=(20, 30)).shape == (1, 3, 20, 30)


def test_sample_images():
    names = pk.list_sample_images()
    for n in ("astronaut", "chelsea", "coffee", "brick", "grass", "gravel", "retina", "ihc", "rocket"):
        assert n in names
    x = pk.sample_image("chelsea", 32)
    assert x.shape == (1, 3, 32, 32) and 0 <= x.min() and x.max() <= 1
    with pytest.raises(ValueError, match="astronaut"):
        pk.sample_image("nope")


def test_integer_shift_is_exact_and_direction():
    x = seeded(1, 3, 16, 16)
    y = pk.shift(x, 2, 1)
    assert torch.allclose(y[..., 1:, 2:], x[..., :-1, :-2], atol=1e-6)
    # border rule: reflection, so the new left columns mirror the image
    assert torch.allclose(y[..., 1:, 0], x[..., :-1, 1], atol=1e-6)


def test_subpixel_shift_interpolates():
    x = seeded(1, 3, 16, 16)
    y = pk.shift(x, 0.5, 0)
    assert torch.allclose(y[..., 1:], 0.5 * (x[..., 1:] + x[..., :-1]), atol=1e-6)


def test_blur_keeps_mean_and_lowers_sharpness():
    x = pk.sample_image("brick", 64)
    y = pk.blur(x, 2.0)
    assert abs(float(x.mean() - y.mean())) < 5e-3
    assert pk.sharpness(y) < 0.5 * pk.sharpness(x)
    assert torch.equal(pk.blur(x, 0), x)


def test_noise_is_seeded():
    x = pk.sample_image("astronaut", 32)
    assert torch.equal(pk.add_noise(x, 0.1, seed=3), pk.add_noise(x, 0.1, seed=3))
    assert not torch.equal(pk.add_noise(x, 0.1, seed=3), pk.add_noise(x, 0.1, seed=4))


def test_display_conversions():
    x = seeded(2, 3, 8, 9)
    assert pk.to_numpy(x, 1).shape == (8, 9, 3)
    assert pk.to_pil(x).size == (9, 8)
