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


def test_bad_arguments():
    x = pk.sample_image("chelsea", 32)
    with pytest.raises(ValueError, match="period"):
        pk.grid_score(x, 1)
    with pytest.raises(ValueError, match="at least"):
        pk.grid_score(x, 16)
    with pytest.raises(ValueError, match="same shape"):
        pk.colour_shift(x, pk.sample_image("chelsea", 16))
