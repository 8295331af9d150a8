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
