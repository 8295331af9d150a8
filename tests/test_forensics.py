"""Artefact forensics on synthetic images: a lattice scores high, photos low, a colour cast is found."""

import pytest
import torch

import percepkit as pk

PHOTOS = ["astronaut", "chelsea", "coffee", "camera", "brick", "rocket"]


def lattice(size=128, period=4):
    x = torch.zeros(1, 3, size, size)
    x[..., ::period, ::period] = 1.0
    return x


def test_a_pure_period_4_lattice_scores_high_and_photos_low():
    assert pk.grid_score(lattice()) > 1e4
    for name in PHOTOS:
        x = pk.sample_image(name, 128)
        assert 0.5 < pk.grid_score(x) < 2.0, name
        assert pk.grid_score(pk.add_noise(x, 0.1)) < 2.0, name  # noise is not a lattice


def test_a_faint_lattice_over_a_photo_is_found_at_its_period_only():
    x = pk.sample_image("chelsea", 128)
    marked = (0.97 * x + 0.03 * lattice()).clamp(0, 1)
    assert pk.grid_score(marked, 4) > 20 * pk.grid_score(x, 4)
    assert pk.grid_score(marked, 3) < 2.0  # a period-4 lattice has no period-3 peaks


def test_radial_spectrum_falls_off_and_shows_the_lattice_spike():
    x = pk.sample_image("chelsea", 128)
    f, p = pk.radial_spectrum(x)
    assert len(f) == len(p) == 64 and 0 < float(f[0]) < float(f[-1]) < 0.5
    assert float(p[:8].mean()) > 100 * float(p[-16:].mean())  # natural images: steep fall-off
    _, pl = pk.radial_spectrum((0.9 * x + 0.1 * lattice()).clamp(0, 1))
    k = int(0.25 / 0.5 * len(f))  # the ring that holds 1/4 cycles/pixel
    assert float(pl[k]) > 3 * float(p[k])
    assert float(pl[k - 3]) < 1.2 * float(p[k - 3])  # a spike, not a raised floor


def test_colour_shift_separates_a_cast_from_brightness_and_blur():
    x = pk.sample_image("coffee", 96)
    cast = x.clone()
    cast[:, 0] += 0.06
    cast[:, 2] -= 0.04
    s = pk.colour_shift(cast.clamp(0, 1), x)
    assert s.cast > 0.05 and s.rgb[0] > 0.04 and s.rgb[2] < -0.03
    assert pk.colour_shift(pk.blur(x, 2.0), x).cast < 0.002  # blur moves no colour
    b = pk.colour_shift((x + 0.05).clamp(0, 1), x)
    assert b.brightness > 0.03 and b.cast < 0.01
    assert "cast" in str(s)


@pytest.mark.parametrize("measure", [pk.grid_score, pk.lattice_amplitude])
def test_lattice_measures_refuse_a_bad_period_or_a_small_image(measure):
    x = pk.sample_image("chelsea", 32)
    with pytest.raises(ValueError, match="period"):
        measure(x, 1)
    with pytest.raises(ValueError, match="at least 64 px"):
        measure(x, 16)


def test_colour_shift_refuses_two_shapes():
    x = pk.sample_image("chelsea", 32)
    with pytest.raises(ValueError, match="same shape"):
        pk.colour_shift(x, pk.sample_image("chelsea", 16))


def tiled_pattern(rms_levels, period=4, size=128, seed=0):
    """A zero-mean period-``period`` colour pattern with an RMS of ``rms_levels`` grey levels, tiled."""
    g = torch.Generator().manual_seed(seed)
    p = torch.randn(1, 3, period, period, generator=g)
    p = p - p.mean(dim=(2, 3), keepdim=True)
    p = p / p.square().mean().sqrt() * rms_levels / 255
    return p.repeat(1, 1, size // period, size // period)


def lattice_amplitude_by_hand(x, period):
    """The documented formula with explicit loops: detail minus the replicate-padded box mean, phase means, RMS."""
    n, c, h, w = x.shape
    lo, hi = (period - 1) // 2, period // 2
    padded = torch.nn.functional.pad(x, (lo, hi, lo, hi), mode="replicate")
    total, count = 0.0, 0
    for b in range(n):
        for ch in range(c):
            for py in range(period):
                for px in range(period):
                    vals = []
                    for y in range(py, h // period * period, period):
                        for xx in range(px, w // period * period, period):
                            mean = padded[b, ch, y:y + period, xx:xx + period].mean()
                            vals.append(float(x[b, ch, y, xx] - mean))
                    total += (sum(vals) / len(vals)) ** 2
                    count += 1
    return (total / count) ** 0.5 * 255


def test_lattice_amplitude_reads_a_tiled_pattern_in_grey_levels():
    x = pk.sample_image("chelsea", 128)
    for levels in (2.0, 4.0, 10.0):
        marked = (0.9 * x + 0.05 + tiled_pattern(levels)).clamp(0, 1)
        assert pk.lattice_amplitude(marked, 4) == pytest.approx(levels, rel=0.1, abs=0.3)
        assert pk.lattice_amplitude(marked, 3) < 0.5  # a period-4 pattern has no period-3 part
    assert pk.lattice_amplitude(lattice(), 4) > 50  # a dot every 4 px: 0.24 RMS of the range
    for name in PHOTOS:
        photo = pk.sample_image(name, 128)
        assert pk.lattice_amplitude(photo) < 1.2, name
        assert pk.lattice_amplitude(pk.add_noise(photo, 0.1)) < 1.5, name  # noise is not a lattice


def test_lattice_amplitude_matches_the_formula_written_out():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 17, 22, generator=g)  # not a multiple of the period: the edge rows are dropped
    for period in (2, 3, 4):
        assert pk.lattice_amplitude(x, period) == pytest.approx(lattice_amplitude_by_hand(x, period), rel=1e-5)


def test_every_check_refuses_0_255_images():
    x = pk.sample_image("chelsea", 64) * 255
    for fn in (pk.radial_spectrum, pk.grid_score, pk.lattice_amplitude):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            fn(x)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pk.colour_shift(x, x)


def test_power_spectrum_matches_numpy_and_centres_zero_frequency():
    import numpy as np

    x = pk.sample_image("coffee", 64)[..., :48]  # not square
    grey = x[0].mean(0).numpy().astype(np.float64)
    grey -= grey.mean()
    win = np.outer(np.hanning(64), np.hanning(48))
    expected = np.fft.fftshift(np.abs(np.fft.fft2(grey * win)) ** 2)
    p = pk.power_spectrum(x)
    assert p.shape == (64, 48)
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-3, atol=1e-6 * expected.max())
    dots = pk.power_spectrum((0.9 * pk.sample_image("chelsea", 128) + 0.1 * lattice()).clamp(0, 1))
    clean = pk.power_spectrum(pk.sample_image("chelsea", 128))
    assert float(dots[64 + 32, 64]) > 30 * float(clean[64 + 32, 64])  # 1/4 cycles/pixel: 32 bins from the centre
