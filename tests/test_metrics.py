"""Metrics: psnr against its formula, blur lowers sharpness and high-frequency energy."""

import pytest
import torch

import percepkit as pk


def test_metrics():
    x = pk.sample_image("brick", 64)
    assert pk.psnr(x, x) == float("inf")
    y = (x + 0.1).clamp(max=1.0)
    y = x.clone()
    y[..., ::2, :] += 0.1  # MSE = 0.005 where no clipping happens
    y = y.clamp(0, 1)
    mse = float((x - y).square().mean())
    assert pk.psnr(x, y) == pytest.approx(10 * torch.log10(torch.tensor(1 / mse)).item(), rel=1e-5)
    assert pk.high_frequency_energy(pk.blur(x, 2)) < 0.2 * pk.high_frequency_energy(x)
    assert pk.sharpness(torch.full((1, 3, 8, 8), 0.3)) == 0.0


# detail_split: recovered = <d(x), d(r)>/|d(r)|², invented = |d(x) − recovered·d(r)|²/|d(r)|², d = img − blur(img).
def _detail(img, sigma=1.0):
    return (img - pk.blur(img, sigma)).double()


def test_detail_split_of_the_reference_itself_is_all_recovered_nothing_invented():
    ref = pk.sample_image("astronaut", (48, 64))
    out = pk.detail_split(ref, ref)
    assert out == pytest.approx({"recovered": 1.0, "invented": 0.0, "reference": 0}, abs=1e-9)


def test_detail_split_of_a_faded_copy_recovers_its_contrast():
    ref = pk.sample_image("chelsea", (40, 56))
    faded = 0.3 * ref + 0.7 * 0.5  # detail at 30 % contrast, nothing new
    out = pk.detail_split(faded, ref)
    assert out["recovered"] == pytest.approx(0.3, abs=1e-6)
    assert out["invented"] == pytest.approx(0.0, abs=1e-9)


def test_detail_split_matches_the_formula_written_out_and_picks_the_best_reference():
    torch.manual_seed(0)
    refs = torch.cat([pk.sample_image("coffee", (40, 48)), pk.sample_image("rocket", (40, 48))])
    x = (0.8 * refs[1:] + 0.1 * torch.rand(1, 3, 40, 48)).clamp(0, 1)
    dx, d0, d1 = _detail(x), _detail(refs[:1]), _detail(refs[1:])
    r0, r1 = float((dx * d0).sum() / d0.square().sum()), float((dx * d1).sum() / d1.square().sum())
    assert r1 > r0
    invented = float((dx - r1 * d1).square().sum() / d1.square().sum())
    out = pk.detail_split(x, refs)
    assert out["reference"] == 1
    assert out["recovered"] == pytest.approx(r1, rel=1e-9)
    assert out["invented"] == pytest.approx(invented, rel=1e-9)


def test_detail_split_counts_noise_as_invented_and_blur_as_lost():
    ref = pk.sample_image("astronaut", 64)
    noisy, blurred = pk.add_noise(ref, 0.1, seed=1), pk.blur(ref, 2.0)
    n, b = pk.detail_split(noisy, ref), pk.detail_split(blurred, ref)
    assert n["recovered"] > 0.9 and n["invented"] > 1.0  # sharper than the truth, but by noise
    assert b["recovered"] < 0.5 and b["invented"] < 0.1  # blur loses detail, invents none


def test_detail_split_rejects_mismatched_shapes_and_flat_references():
    ref = pk.sample_image("astronaut", 32)
    with pytest.raises(ValueError, match=r"\(1, C, H, W\).*got \(2, 3, 32, 32\)"):
        pk.detail_split(torch.cat([ref, ref]), ref)
    with pytest.raises(ValueError, match="same C, H, W"):
        pk.detail_split(ref, pk.sample_image("astronaut", 16))
    with pytest.raises(ValueError, match="no detail"):
        pk.detail_split(ref, torch.full_like(ref, 0.5))


def test_layout_correlation_is_the_pearson_correlation_of_blurred_brightness():
    import numpy as np

    x, y = pk.sample_image("astronaut", (40, 56)), pk.sample_image("coffee", (40, 56))
    a = pk.blur(x.double(), 2.0).mean(1).flatten().numpy()
    b = pk.blur(y.double(), 2.0).mean(1).flatten().numpy()
    assert pk.layout_correlation(x, y) == pytest.approx(float(np.corrcoef(a, b)[0, 1]), abs=1e-9)
    assert pk.layout_correlation(x, x) == pytest.approx(1.0)
    assert pk.layout_correlation(0.3 * x + 0.4, x) == pytest.approx(1.0)  # brightness and contrast do not count
    assert pk.layout_correlation(1 - x, x) == pytest.approx(-1.0)


def test_layout_correlation_ignores_fine_noise_but_not_a_different_picture():
    x = pk.sample_image("astronaut", 64)
    assert pk.layout_correlation(pk.add_noise(x, 0.2, seed=3), x) > 0.9
    assert abs(pk.layout_correlation(pk.sample_image("brick", 64), x)) < 0.5


def test_layout_correlation_rejects_batches_mismatches_and_flat_images():
    x = pk.sample_image("astronaut", 32)
    with pytest.raises(ValueError, match=r"same shape \(1, 3, H, W\); got \(2, 3, 32, 32\)"):
        pk.layout_correlation(torch.cat([x, x]), torch.cat([x, x]))
    with pytest.raises(ValueError, match="same shape"):
        pk.layout_correlation(x, pk.sample_image("astronaut", 16))
    with pytest.raises(ValueError, match="flat"):
        pk.layout_correlation(x, torch.full_like(x, 0.5))


def _power_law_image(alpha, size=64, seed=0):
    """Random phases with amplitude f^(−α/2): power ∝ 1/f^α by construction."""
    g = torch.Generator().manual_seed(seed)
    fy = torch.fft.fftfreq(size, dtype=torch.float64).view(-1, 1)
    fx = torch.fft.fftfreq(size, dtype=torch.float64).view(1, -1)
    f = (fy.square() + fx.square()).sqrt()
    f[0, 0] = 1.0
    spectrum = f ** (-alpha / 2) * torch.exp(2j * torch.pi * torch.rand(size, size, generator=g, dtype=torch.float64))
    img = torch.fft.ifft2(spectrum).real
    img = 0.5 + 0.2 * img / img.std()
    return img.clamp(0, 1).float().expand(1, 3, size, size).contiguous()


@pytest.mark.parametrize("alpha", [1.0, 2.0, 3.0])
def test_spectral_slope_recovers_the_exponent_of_a_synthetic_power_law(alpha):
    # Measured: 1.07, 2.10, 3.13 (the clamp to [0, 1] and the window shift it slightly).
    assert pk.spectral_slope(_power_law_image(alpha)) == pytest.approx(alpha, abs=0.2)


def test_spectral_slope_orders_blur_photo_and_noise():
    photo = pk.sample_image("chelsea", 64)
    white = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    assert abs(pk.spectral_slope(white)) < 0.3  # white noise: flat spectrum
    blurred, noisy = pk.spectral_slope(pk.blur(photo, 1.5)), pk.spectral_slope(pk.add_noise(photo, 0.1, seed=2))
    assert blurred > pk.spectral_slope(photo) + 2 > noisy + 2  # blur steepens, noise flattens
    # brightness and contrast do not change it
    assert pk.spectral_slope(0.5 * photo + 0.2) == pytest.approx(pk.spectral_slope(photo), abs=1e-6)


def test_spectral_slope_rejects_batches_tiny_and_flat_images():
    with pytest.raises(ValueError, match=r"H, W >= 16; got \(2, 3, 32, 32\)"):
        pk.spectral_slope(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"got \(1, 3, 8, 64\)"):
        pk.spectral_slope(torch.rand(1, 3, 8, 64))
    with pytest.raises(ValueError, match="no spectral energy"):
        pk.spectral_slope(torch.full((1, 3, 32, 32), 0.5))
