"""precision="fp32" | "bf16" | "auto": bf16 losses stay fp32 and close, "auto" follows the CPU flags, bad values fail.

Cheap on purpose (small images, shallow layers, no timing); the speed and the accuracy of
bf16 at full size are measured by ``make bench`` (benchmarks/results.md).
"""

import pytest
import torch

import percepkit as pk
import percepkit.backbones as backbones

LAYERS = ["relu1_2", "relu2_2", "relu3_1"]


def _pair(seed=0, n=1, size=32):
    g = torch.Generator().manual_seed(seed)
    y = pk.sample_image("astronaut", size).repeat(n, 1, 1, 1)
    x = (y + 0.1 * torch.randn(y.shape, generator=g)).clamp(0, 1)
    return x, y


@pytest.mark.parametrize("cls", [pk.PerceptualLoss, pk.StyleLoss])
def test_bf16_returns_fp32_scalar_within_a_few_percent(rand19, cls):
    x, y = _pair()
    ref = cls(rand19, LAYERS, precision="fp32")(x, y)
    low = cls(rand19, LAYERS, precision="bf16")(x, y)
    assert low.dtype == torch.float32 and low.ndim == 0
    assert float(ref) > 0
    assert abs(float(low) / float(ref) - 1) < 0.03


def test_bf16_gradient_is_fp32_and_points_the_same_way(rand19):
    x, y = _pair(seed=1)
    grads = {}
    for prec in ("fp32", "bf16"):
        xx = x.clone().requires_grad_(True)
        pk.PerceptualLoss(rand19, LAYERS, precision=prec)(xx, y).backward()
        grads[prec] = xx.grad
    assert grads["bf16"].dtype == torch.float32
    cos = torch.nn.functional.cosine_similarity(grads["bf16"].flatten(), grads["fp32"].flatten(), dim=0)
    assert float(cos) > 0.98


def test_bf16_cached_target_equals_uncached(rand19):
    x, y = _pair(seed=2)
    loss = pk.PerceptualLoss(rand19, LAYERS, precision="bf16")
    uncached = float(loss(x, y))
    loss.set_target(y)
    assert float(loss(x)) == pytest.approx(uncached, rel=1e-6)


def test_backbone_features_are_fp32_under_bf16(rand19):
    x, _ = _pair()
    feats = rand19(x, LAYERS, precision="bf16")
    ref = rand19(x, LAYERS, precision="fp32")
    for name in LAYERS:
        assert feats[name].dtype == torch.float32
        rel = (feats[name] - ref[name]).norm() / ref[name].norm()
        assert 0 < float(rel) < 0.05, name  # really computed in bf16, and close


@pytest.mark.parametrize("native", [True, False])
def test_auto_follows_bf16_native(rand19, monkeypatch, native):
    monkeypatch.setattr(backbones, "bf16_native", lambda device="cpu": native)
    assert pk.resolve_precision("auto", "cpu") == ("bf16" if native else "fp32")
    x, y = _pair(seed=3)
    auto = float(pk.PerceptualLoss(rand19, LAYERS, precision="auto")(x, y))
    same = float(pk.PerceptualLoss(rand19, LAYERS, precision="bf16" if native else "fp32")(x, y))
    assert auto == pytest.approx(same, rel=1e-6)


@pytest.mark.parametrize("flags, native", [("fpu sse avx512f avx512_bf16 avx512_vnni", True),
                                           ("fpu sse amx_tile amx_bf16", True), ("fpu sse avx2 avx512f", False)])
def test_bf16_native_reads_the_cpu_flags_once(monkeypatch, flags, native):
    """A fake /proc/cpuinfo decides; the answer is cached (``auto`` asks on every forward)."""
    reads = []

    class FakePath:
        def __init__(self, p):
            assert p == "/proc/cpuinfo"

        def read_text(self):
            reads.append(1)
            return f"processor : 0\nflags : {flags}\n"

    monkeypatch.setattr(backbones, "Path", FakePath)
    backbones._bf16_native.cache_clear()
    try:
        assert [pk.bf16_native("cpu") for _ in range(3)] == [native] * 3
        assert len(reads) == 1
    finally:
        backbones._bf16_native.cache_clear()


def test_fixed_precisions_resolve_to_themselves():
    assert pk.resolve_precision("fp32") == "fp32"
    assert pk.resolve_precision("bf16") == "bf16"
    assert pk.bf16_native("meta") is False


@pytest.mark.parametrize("bad", ["fp16", "BF16", "float32", "", None, 16])
def test_bad_precision_raises_value_error(rand19, bad):
    with pytest.raises(ValueError, match="precision"):
        pk.resolve_precision(bad)
    with pytest.raises(ValueError, match="precision"):
        pk.PerceptualLoss(rand19, LAYERS, precision=bad)
    with pytest.raises(ValueError, match="precision"):
        pk.StyleLoss(rand19, LAYERS, precision=bad)
    with pytest.raises(ValueError, match="precision"):
        pk.CombinedLoss(lambda_style=1.0, backbone=rand19, precision=bad)
    x, _ = _pair()
    with pytest.raises(ValueError, match="precision"):
        rand19(x, LAYERS, precision=bad)
