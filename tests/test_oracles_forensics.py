"""forensics.py against NumPy oracles: spectra averaged over a batch of 2 non-square images (not the first
image's, not the mean image's), the radial average by a hand loop over rings, the grid score's ratios
by hand, the colour shift per channel over a batch."""

import numpy as np
import pytest
import torch

import percepkit as pk
from conftest import seeded


def np_power(x):
    """Per image: grey (mean of channels), mean removed, symmetric Hann window, |FFT|²; then the batch mean."""
    a = x.double().numpy()
    out = []
    for img in a:
        g = img.mean(0)
        g = g - g.mean()
        win = np.outer(np.hanning(g.shape[0]), np.hanning(g.shape[1]))
        out.append(np.abs(np.fft.fft2(g * win)) ** 2)
    return np.mean(out, axis=0)


def two_images(h=40, w=56):
    """Two different non-square pictures in one batch."""
    return torch.cat([pk.sample_image("chelsea", (h, w)), pk.sample_image("rocket", (h, w))])


def test_power_spectrum_averages_the_batch_of_spectra():
    x = two_images()
    p = pk.power_spectrum(x).double().numpy()
    want = np.fft.fftshift(np_power(x))
    np.testing.assert_allclose(p, want, rtol=1e-3, atol=1e-6 * want.max())
    first = np.fft.fftshift(np_power(x[:1]))
    assert not np.allclose(p, first, rtol=0.05)  # not the first image's alone
    mean_img = np.fft.fftshift(np_power(x.mean(0, keepdim=True)))
    assert not np.allclose(p, mean_img, rtol=0.05)  # not the spectrum of the mean image


@pytest.mark.parametrize("shape", [(36, 52), (32, 32)])
def test_radial_spectrum_is_the_mean_power_in_each_ring(shape):
    x = two_images(*shape)  # square: the innermost ring holds the zero frequency alone
    for bins in (None, 7, 2):
        f, p = pk.radial_spectrum(x, bins)
        power = np_power(x)
        h, w = power.shape
        nb = bins or min(h, w) // 2
        total, count = np.zeros(nb), np.zeros(nb)
        for i in range(h):
            for j in range(w):
                fy = i / h if i < (h + 1) // 2 else (i - h) / h  # numpy's fftfreq, written out
                fx = j / w if j < (w + 1) // 2 else (j - w) / w
                k = int(np.sqrt(fy * fy + fx * fx) / 0.5 * nb)
                if k < nb:
                    total[k] += power[i, j]
                    count[k] += 1
        np.testing.assert_allclose(p.double().numpy(), total / np.maximum(count, 1), rtol=1e-3,
                                   atol=1e-6 * total.max())
        np.testing.assert_allclose(f.numpy(), (np.arange(nb) + 0.5) * 0.5 / nb, rtol=1e-6)
    with pytest.raises(ValueError, match="bins"):
        pk.radial_spectrum(x, 1)


def grid_score_by_hand(x, period):
    p = np_power(x)
    h, w = p.shape
    ratios = []
    for a in range(period):
        for b in range(period):
            if a == b == 0:
                continue
            cy, cx = round(a * h / period), round(b * w / period)
            inner, ring = [], []
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    v = p[(cy + dy) % h, (cx + dx) % w]
                    r = max(abs(dy), abs(dx))
                    if r <= 1:
                        inner.append(v)
                    elif r >= 2:
                        ring.append(v)
            ratios.append(np.mean(inner) / max(np.mean(ring), 1e-20))
    return float(np.mean(ratios))


@pytest.mark.parametrize("period", [3, 4])
def test_grid_score_matches_the_ratios_written_out(period):
    x = two_images(48, 64)
    lat = torch.zeros_like(x)
    lat[0, :, ::period, ::period] = 1.0  # a lattice in one image of the two only
    marked = (0.95 * x + 0.05 * lat).clamp(0, 1)
    for img in (x, marked):
        assert pk.grid_score(img, period) == pytest.approx(grid_score_by_hand(img, period), rel=1e-3)
    assert pk.grid_score(marked, period) > 5 * pk.grid_score(x, period)


def test_lattice_checks_use_the_smaller_side():
    x = seeded(1, 3, 16, 40)
    with pytest.raises(ValueError, match="at least 20 px"):
        pk.grid_score(x, 5)  # 16 < 4·5 even though 40 is not
    with pytest.raises(ValueError, match="at least 20 px"):
        pk.lattice_amplitude(seeded(1, 3, 40, 16), 5)
    assert pk.lattice_amplitude(seeded(1, 3, 16, 40), 4) >= 0  # exactly 4 periods: allowed
    with pytest.raises(ValueError, match="period"):
        pk.grid_score(seeded(1, 3, 32, 32), 4.0)


def test_colour_shift_over_a_batch_per_channel():
    ref = seeded(2, 3, 10, 14, seed=1) * 0.8 + 0.1
    x = ref.clone()
    x[0, 0] += 0.05  # image 0: red up
    x[1, 2] -= 0.08  # image 1: blue down
    x[1] += 0.02  # and brighter
    s = pk.colour_shift(x, ref)
    d = (x.double().numpy() - ref.double().numpy()).mean(axis=(0, 2, 3))  # over images and pixels
    np.testing.assert_allclose(s.rgb, d, atol=1e-6)
    assert s.rgb == pytest.approx((0.035, 0.01, -0.03), abs=1e-6)  # written out: (0.05 + 0.02)/2, 0.02/2, (−0.08 + 0.02)/2
    assert s.brightness == pytest.approx(d.mean(), abs=1e-7)
    assert s.cast == pytest.approx(np.sqrt(((d - d.mean()) ** 2).sum()), abs=1e-7)
    assert s.cast == pytest.approx(np.sqrt(0.03**2 + 0.005**2 + 0.035**2), abs=1e-6)
    assert "R +0.035" in str(s) and "B -0.030" in str(s)
    with pytest.raises(ValueError, match="reference"):
        pk.colour_shift(x, ref * 2)


def test_spectra_take_grey_images_and_name_the_bad_argument():
    grey = seeded(2, 1, 24, 40)
    f, p = pk.radial_spectrum(grey, 4)
    assert p.shape == (4,) and pk.power_spectrum(grey).shape == (24, 40)
    np.testing.assert_allclose(pk.power_spectrum(grey).double().numpy(), np.fft.fftshift(np_power(grey)), rtol=1e-3,
                               atol=1e-9)
    assert pk.grid_score(seeded(1, 1, 16, 16), 4) > 0 and pk.lattice_amplitude(seeded(1, 1, 16, 16), 4) >= 0
    with pytest.raises(ValueError, match=r"^expected x in \[0, 1\]"):
        pk.power_spectrum(seeded(1, 3, 8, 8) * 255)
    ref = seeded(1, 3, 8, 8)
    with pytest.raises(ValueError, match=r"^expected x in \[0, 1\]"):
        pk.colour_shift(ref + 0.5, ref)  # only x out of range
    with pytest.raises(ValueError, match=r"^expected reference in \[0, 1\]"):
        pk.colour_shift(ref, ref - 0.5)  # only the reference
    with pytest.raises(TypeError, match=r"^expected x as a torch.Tensor"):
        pk.colour_shift(ref.numpy(), ref)
