"""metrics.py against independent oracles: scikit-image's PSNR, NumPy finite differences and FFTs,
hand-computed cases; non-square and batched inputs; every limit on both sides."""

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio

import percepkit as pk
from conftest import seeded


def test_psnr_is_the_mean_of_per_image_psnr_of_a_batch():
    # hand-computed: MSE 0.01 → 20 dB, MSE 1e-4 → 40 dB; one MSE for the whole batch would give 22.97 dB
    x = torch.zeros(2, 3, 4, 6)
    y = torch.stack([torch.full((3, 4, 6), 0.1), torch.full((3, 4, 6), 0.01)])
    assert pk.psnr(x, y) == pytest.approx(30.0, abs=1e-4)


@pytest.mark.parametrize("data_range", [1.0, 255.0])
def test_psnr_matches_scikit_image_per_image(data_range):
    x, y = seeded(2, 3, 5, 7, seed=1) * data_range, seeded(2, 3, 5, 7, seed=2) * data_range
    expected = np.mean([peak_signal_noise_ratio(x[i].numpy(), y[i].numpy(), data_range=data_range) for i in range(2)])
    assert pk.psnr(x, y, data_range=data_range) == pytest.approx(expected, rel=1e-5)


def test_psnr_of_identical_images_is_infinite():
    x = seeded(1, 3, 4, 4)
    assert pk.psnr(x, x.clone()) == math.inf
    # a batch where only one pair is identical: the mean is inf too
    y = torch.cat([x, x * 0.5])
    assert pk.psnr(torch.cat([x, x]), y) == math.inf


def test_psnr_refuses_mismatched_or_bad_inputs_naming_the_argument():
    x = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match=r"^x and y must have the same shape \(N, C, H, W\); got \(1, 3, 4, 4\) and \(1, 3, 4, 5\)$"):  # noqa: E501
        pk.psnr(x, torch.zeros(1, 3, 4, 5))
    with pytest.raises(ValueError, match=r"^expected x of shape \(N, C, H, W\); got \(3, 4, 4\)"):
        pk.psnr(x[0], x)
    with pytest.raises(TypeError, match=r"^expected y as a torch.Tensor \(N, C, H, W\)"):
        pk.psnr(x, x.numpy())
    with pytest.raises(ValueError, match=r"^x contains NaN or Inf$"):
        pk.psnr(torch.full((1, 3, 2, 2), math.nan), x[..., :2, :2])
    with pytest.raises(ValueError, match=r"^y contains NaN or Inf$"):
        pk.psnr(x[..., :2, :2], torch.full((1, 3, 2, 2), math.inf))
    # any channel count (rgb=False)
    assert pk.psnr(torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.1)) == pytest.approx(20.0)


def _sharpness_numpy(a: np.ndarray) -> float:
    """Mean squared horizontal difference + mean squared vertical difference, over all axes."""
    a = a.astype(np.float64)
    return float(np.mean(np.diff(a, axis=-1) ** 2) + np.mean(np.diff(a, axis=-2) ** 2))


def test_sharpness_matches_squared_finite_differences_non_square_batch():
    x = seeded(2, 3, 5, 9, seed=4)
    assert pk.sharpness(x) == pytest.approx(_sharpness_numpy(x.numpy()), rel=1e-6)


def test_sharpness_hand_computed_vertical_and_horizontal_ramps():
    # rows 0, 0.2, 0.4 (vertical steps of 0.2, no horizontal change): 0.2² = 0.04
    vertical = (torch.arange(3.0) * 0.2).view(1, 1, 3, 1).expand(1, 2, 3, 4)
    assert pk.sharpness(vertical) == pytest.approx(0.04)
    # columns 0, 0.5, 1 (steps 0.5): 0.25 — a sharpness with |·| would give 0.5
    horizontal = (torch.arange(3.0) * 0.5).view(1, 1, 1, 3).expand(1, 1, 4, 3)
    assert pk.sharpness(horizontal) == pytest.approx(0.25)
    assert pk.sharpness(torch.full((1, 3, 8, 8), 0.3)) == 0.0
    with pytest.raises(ValueError, match=r"^expected x of shape \(N, C, H, W\)"):
        pk.sharpness(torch.zeros(8, 8))


def _hfe_numpy(a: np.ndarray, cutoff: float) -> float:
    a = a.astype(np.float64)
    a = a - a.mean(axis=(-2, -1), keepdims=True)
    p = np.abs(np.fft.fft2(a)) ** 2
    fy = np.abs(np.fft.fftfreq(a.shape[-2]))[:, None]
    fx = np.abs(np.fft.fftfreq(a.shape[-1]))[None, :]
    mask = np.maximum(fy, fx) > cutoff
    return float((p * mask).sum() / p.sum())


@pytest.mark.parametrize("cutoff", [0.1, 0.25, 0.4])
def test_high_frequency_energy_matches_numpy_fft_non_square_batch(cutoff):
    # low amplitude: total spectral energy (Parseval: H·W·Σ(x − mean)²) well below 1, so that
    # "energy > 1" is not mistaken for "energy > 0"
    x = 0.5 + 0.005 * (seeded(2, 3, 6, 10, seed=5) - 0.5)
    expected = _hfe_numpy(x.numpy(), cutoff)
    assert 0 < expected < 1
    assert pk.high_frequency_energy(x, cutoff) == pytest.approx(expected, rel=1e-5)


def test_high_frequency_energy_default_cutoff_is_a_quarter_cycle():
    x = 0.5 + 0.05 * (seeded(1, 3, 8, 12, seed=6) - 0.5)
    assert pk.high_frequency_energy(x) == pytest.approx(_hfe_numpy(x.numpy(), 0.25), rel=1e-5)


def test_high_frequency_energy_hand_cases():
    i, j = torch.meshgrid(torch.arange(8.0), torch.arange(6.0), indexing="ij")
    checker = ((i + j) % 2).view(1, 1, 8, 6)  # all its energy at Nyquist (0.5)
    assert pk.high_frequency_energy(checker) == pytest.approx(1.0)
    slow = (0.5 + 0.1 * torch.cos(2 * math.pi * i / 8)).view(1, 1, 8, 6)  # 1/8 cycle/pixel, vertical
    assert pk.high_frequency_energy(slow, 0.2) == pytest.approx(0.0, abs=1e-6)
    assert pk.high_frequency_energy(slow, 0.1) == pytest.approx(1.0)
    assert pk.high_frequency_energy(torch.full((2, 3, 4, 6), 0.5)) == 0.0  # no energy at all: 0, not 0/0


def test_high_frequency_energy_cutoff_limits():
    x = seeded(1, 3, 8, 8)
    for ok in (1e-6, 0.4999):
        assert 0 <= pk.high_frequency_energy(x, ok) <= 1
    for bad in (0.0, 0.5, -0.1):
        with pytest.raises(ValueError, match=rf"^expected 0 < cutoff < 0.5 cycles/pixel; got {bad}$"):
            pk.high_frequency_energy(x, bad)
    with pytest.raises(ValueError, match=r"^expected x of shape \(N, C, H, W\)"):
        pk.high_frequency_energy(torch.zeros(3, 8, 8))


# --- detail_split, layout_correlation, spectral_slope (notebooks 05 and 07) -----------------------


def test_detail_split_picks_the_best_of_three_references_non_square():
    refs = torch.cat([pk.sample_image(n, (36, 52)) for n in ("coffee", "rocket", "astronaut")])
    x = (0.6 * refs[2:] + 0.4 * pk.shift(refs[2:], 1.5) + 0.05 * seeded(1, 3, 36, 52, seed=3)).clamp(0, 1)
    for sigma in (1.0, 2.5):
        dx = (x - pk.blur(x, sigma)).double().numpy().ravel()
        dr = [(r - pk.blur(r, sigma)).double().numpy().ravel() for r in refs.split(1)]
        rec = [float(dx @ d / (d @ d)) for d in dr]
        k = int(np.argmax(rec))
        assert k == 2
        inv = float(((dx - rec[k] * dr[k]) ** 2).sum() / (dr[k] @ dr[k]))
        out = pk.detail_split(x, refs, sigma=sigma)
        assert out["reference"] == k
        assert out["recovered"] == pytest.approx(rec[k], rel=1e-9)
        assert out["invented"] == pytest.approx(inv, rel=1e-9)
        # the same references in another order: the same numbers, the index follows
        again = pk.detail_split(x, refs[[2, 0, 1]], sigma=sigma)
        assert again["reference"] == 0 and again["recovered"] == pytest.approx(rec[k], rel=1e-12)


def test_layout_correlation_with_another_blur_is_numpys_corrcoef():
    x, y = pk.sample_image("astronaut", (30, 44)), pk.sample_image("rocket", (30, 44))
    for sigma in (0.7, 3.0):
        a = pk.blur(x.double(), sigma).mean(1).numpy().ravel()
        b = pk.blur(y.double(), sigma).mean(1).numpy().ravel()
        assert pk.layout_correlation(x, y, sigma=sigma) == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-9)
    assert pk.layout_correlation(x, y, 0.7) != pytest.approx(pk.layout_correlation(x, y, 3.0), abs=1e-3)


def np_spectral_slope(x):
    g = x.double().numpy()[0].mean(0)
    g = g - g.mean()
    h, w = g.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2(g * win)) ** 2
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    f = np.hypot(fy, fx)
    band = (f >= 2 / min(h, w)) & (f <= 0.5) & (power > 0)
    slope, _ = np.polyfit(np.log(f[band]), np.log(power[band]), 1)
    return -slope


@pytest.mark.parametrize("shape", [(48, 80), (80, 36)])
def test_spectral_slope_is_a_least_squares_line_on_a_non_square_image(shape):
    photo = pk.sample_image("chelsea", shape)
    # float64 throughout: 2e-14 from NumPy measured; float32 frequencies would be 2e-9 to 3e-8 off
    assert pk.spectral_slope(photo) == pytest.approx(np_spectral_slope(photo), rel=1e-11)
    grey = torch.rand(1, 1, *shape, generator=torch.Generator().manual_seed(2))  # one channel is fine
    assert pk.spectral_slope(grey) == pytest.approx(np_spectral_slope(grey), rel=1e-11)


def test_grey_power_against_numpy():
    from percepkit.metrics import grey_power

    x = torch.rand(2, 3, 8, 10, generator=torch.Generator().manual_seed(11))
    g = x.double().numpy().mean(1)
    g = g - g.mean(axis=(-2, -1), keepdims=True)
    win = np.hanning(8)[:, None] * np.hanning(10)[None, :]
    ref = np.abs(np.fft.fft2(g * win)) ** 2
    p32, p64 = grey_power(x), grey_power(x, torch.float64)
    assert p32.shape == (2, 8, 10) and p32.dtype == torch.float32 and p64.dtype == torch.float64
    assert np.allclose(p64.numpy(), ref, rtol=1e-10, atol=1e-12) and np.allclose(p32.numpy(), ref, rtol=1e-4, atol=1e-6)
    assert torch.allclose(grey_power(x * 0.5 + 0.25, torch.float64), p64 * 0.25)  # mean removed: an offset is invisible


def test_sharpness_is_the_total_variation():
    x = torch.rand(2, 3, 7, 9, generator=torch.Generator().manual_seed(12))
    a = x.numpy()
    by_hand = np.mean((a[..., 1:, :] - a[..., :-1, :]) ** 2) + np.mean((a[..., :, 1:] - a[..., :, :-1]) ** 2)
    assert pk.sharpness(x) == pytest.approx(by_hand, rel=1e-6)
    assert float(pk.total_variation(x)) == pytest.approx(by_hand, rel=1e-6)
    t = x.clone().requires_grad_(True)
    pk.total_variation(t).backward()  # differentiable: usable as a loss term
    assert t.grad is not None and t.grad.abs().sum() > 0


# --- SSIM (moved from test_srnets.py: ssim lives in metrics.py) ------------------------------------------------------


def _ssim_pair(n=2, c=3, h=40, w=57, seed=4):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, c, h, w, generator=g)
    return x, (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(0, 1)


def _skimage_ssim(x, y, data_range=1):
    from skimage.metrics import structural_similarity

    return np.mean([structural_similarity(x[i].permute(1, 2, 0).double().numpy(), y[i].permute(1, 2, 0).double().numpy(),
                                          gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                          data_range=data_range, channel_axis=-1) for i in range(len(x))])


def test_ssim_matches_scikit_image():
    x, y = _ssim_pair()
    assert abs(pk.ssim(x, y) - _skimage_ssim(x, y)) < 1e-9
    assert pk.ssim(x, x) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        pk.ssim(x, y[..., :50])


def test_ssim_on_0_255_images_with_data_range_255_is_the_same_number():
    # K1, K2 scale with the data range: the constants are (0.01·255)², (0.03·255)² (scikit-image, data_range=255)
    x, y = _ssim_pair(seed=5)
    assert abs(pk.ssim(255 * x, 255 * y, data_range=255) - _skimage_ssim(255 * x, 255 * y, data_range=255)) < 1e-9
    assert pk.ssim(255 * x, 255 * y, data_range=255) == pytest.approx(pk.ssim(x, y), abs=1e-9)


def test_ssim_takes_any_number_of_channels():
    x, y = _ssim_pair(n=3, c=1, h=23, w=11, seed=6)  # greyscale, non-square, exactly one window wide
    assert abs(pk.ssim(x, y) - _skimage_ssim(x, y)) < 1e-9


@pytest.mark.parametrize("h, w", [(10, 12), (12, 10), (10, 10)])
def test_ssim_refuses_images_smaller_than_its_window(h, w):
    x, y = _ssim_pair(c=5, h=h, w=w)
    with pytest.raises(ValueError, match=rf"^ssim needs images of at least 11x11 \(its window\); got {h}x{w}$"):
        pk.ssim(x, y)


def test_ssim_names_the_argument_that_is_wrong():
    x, y = _ssim_pair()
    for bad, name in [((x.numpy(), y), "x"), ((x, y.numpy()), "y")]:
        with pytest.raises(TypeError, match=rf"^expected {name} as a torch\.Tensor \(N, C, H, W\) in \[0, 1\]; got "
                                            r"numpy\.ndarray shape=\(2, 3, 40, 57\) dtype=float32\. "):
            pk.ssim(*bad)


def test_detail_split_and_layout_correlation_name_the_argument_that_is_wrong():
    x = pk.sample_image("chelsea", (24, 32))
    grey = x.mean(1, keepdim=True)
    for call, name in [(lambda: pk.detail_split(grey, x), "x"), (lambda: pk.detail_split(x, grey), "references"),
                       (lambda: pk.layout_correlation(grey, x), "x"), (lambda: pk.layout_correlation(x, grey), "y")]:
        with pytest.raises(ValueError, match=rf"^expected {name} of shape \(N, 3, H, W\); got \(1, 1, 24, 32\)\. "):
            call()


def test_flat_pictures_are_refused_with_the_reason():
    x = pk.sample_image("chelsea", (24, 32))
    flat = torch.full_like(x, 0.5)
    with pytest.raises(ValueError, match=r"^a reference has no detail at this sigma \(a flat image\): nothing to recover$"):
        pk.detail_split(x, torch.cat([x, flat]))
    for args in [(flat, x), (x, flat)]:
        with pytest.raises(ValueError, match=r"^an image is flat after blurring: its layout correlation is undefined$"):
            pk.layout_correlation(*args)
    with pytest.raises(ValueError, match=r"^the image has \(almost\) no spectral energy: its slope is undefined$"):
        pk.spectral_slope(flat[..., :16, :16])
