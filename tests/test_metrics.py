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
